/* SPDX-License-Identifier: BSD-2-Clause */
/* splice_proxy: the minimal TCP forwarder the session benchmark measures
 * nbtd against. Per accepted connection, one thread per direction moves
 * bytes socket -> pipe -> socket with splice(2), so no byte ever enters
 * user space: the limit for any user-space forwarder on this machine. No
 * framing, no NetBIOS: clients talk direct TCP (445 framing) through it.
 *
 *   splice_proxy LISTEN_IP LISTEN_PORT BACKEND_IP BACKEND_PORT
 *
 * Benchmark code only (bench/session/run): no limits, no timeouts. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PIPE_SIZE (1 << 20)

typedef struct {
  int from;
  int to;
} dir_t;

static struct sockaddr_in backend;

static void *pump(void *arg) {
  dir_t d = *(dir_t *)arg;
  int p[2];
  free(arg);
  if (pipe2(p, O_CLOEXEC) != 0) {
    return NULL;
  }
  (void)fcntl(p[1], F_SETPIPE_SZ, PIPE_SIZE);
  for (;;) {
    ssize_t n = splice(d.from, NULL, p[1], NULL, PIPE_SIZE, SPLICE_F_MOVE);
    if (n <= 0) {
      break;
    }
    while (n > 0) {
      ssize_t m = splice(p[0], NULL, d.to, NULL, (size_t)n, SPLICE_F_MOVE);
      if (m <= 0) {
        n = -1;
        break;
      }
      n -= m;
    }
    if (n < 0) {
      break;
    }
  }
  (void)shutdown(d.to, SHUT_WR);
  (void)shutdown(d.from, SHUT_RD);
  close(p[0]);
  close(p[1]);
  return NULL;
}

static void start(int from, int to) {
  pthread_t t;
  dir_t *d = malloc(sizeof *d);
  if (d == NULL) {
    return;
  }
  d->from = from;
  d->to = to;
  if (pthread_create(&t, NULL, pump, d) == 0) {
    pthread_detach(t);
  }
}

static void *serve(void *arg) {
  int c = (int)(intptr_t)arg;
  int one = 1;
  int b = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (b < 0 || connect(b, (struct sockaddr *)&backend, sizeof backend) != 0) {
    close(c);
    if (b >= 0) {
      close(b);
    }
    return NULL;
  }
  setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  start(c, b);
  start(b, c);
  return NULL; /* the fds leak when the session ends: benchmark only */
}

int main(int argc, char **argv) {
  struct sockaddr_in sa;
  int one = 1;
  if (argc != 5) {
    fprintf(stderr, "usage: splice_proxy LISTEN_IP PORT BACKEND_IP PORT\n");
    return 2;
  }
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)atoi(argv[2]));
  inet_pton(AF_INET, argv[1], &sa.sin_addr);
  memset(&backend, 0, sizeof backend);
  backend.sin_family = AF_INET;
  backend.sin_port = htons((uint16_t)atoi(argv[4]));
  inet_pton(AF_INET, argv[3], &backend.sin_addr);
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(l, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(l, 512) != 0) {
    perror("splice_proxy: listen");
    return 1;
  }
  for (;;) {
    int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    pthread_t t;
    if (c < 0) {
      continue;
    }
    if (pthread_create(&t, NULL, serve, (void *)(intptr_t)c) == 0) {
      pthread_detach(t);
    } else {
      close(c);
    }
  }
}
