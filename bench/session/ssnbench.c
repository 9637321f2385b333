/* SPDX-License-Identifier: BSD-2-Clause */
/* ssnbench: the small programs of the session benchmark (bench/session/run).
 *
 *   ssnbench echo IP PORT
 *       a direct-TCP (445 framing) echo server: every session message is
 *       sent back; many connections at once (epoll), for round trips and
 *       for holding 10,000 idle backend connections.
 *   ssnbench rtt IP PORT COUNT SIZE [CALLED]
 *       one connection (with CALLED: a NetBIOS session first), COUNT round
 *       trips of a SIZE-byte message; prints the median and p99 in us.
 *   ssnbench idle IP PORT COUNT CALLED
 *       opens COUNT NetBIOS sessions, waits for every positive response,
 *       prints "open COUNT", then holds them until stdin closes.
 * Benchmark code only: blocking where simple, no timeouts. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ECHO_BUF (256 * 1024)

static struct sockaddr_in addr_of(const char *ip, const char *port) {
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)atoi(port));
  inet_pton(AF_INET, ip, &sa.sin_addr);
  return sa;
}

static int tcp_connect(const struct sockaddr_in *sa) {
  int one = 1;
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0 || connect(s, (const struct sockaddr *)sa, sizeof *sa) != 0) {
    perror("ssnbench: connect");
    exit(1);
  }
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return s;
}

static void full_write(int s, const void *p, size_t n) {
  const uint8_t *b = p;
  while (n > 0) {
    ssize_t w = send(s, b, n, MSG_NOSIGNAL);
    if (w <= 0) {
      perror("ssnbench: send");
      exit(1);
    }
    b += w;
    n -= (size_t)w;
  }
}

static void full_read(int s, void *p, size_t n) {
  uint8_t *b = p;
  while (n > 0) {
    ssize_t r = recv(s, b, n, 0);
    if (r <= 0) {
      fprintf(stderr, "ssnbench: connection closed\n");
      exit(1);
    }
    b += r;
    n -= (size_t)r;
  }
}

static size_t encode_name(uint8_t *out, const char *name, uint8_t suffix) {
  uint8_t raw[16];
  memset(raw, ' ', 15);
  memcpy(raw, name, strlen(name) < 15 ? strlen(name) : 15);
  raw[15] = suffix;
  out[0] = 32;
  for (int i = 0; i < 16; i++) {
    out[1 + 2 * i] = (uint8_t)('A' + (raw[i] >> 4));
    out[2 + 2 * i] = (uint8_t)('A' + (raw[i] & 15));
  }
  out[33] = 0;
  return 34;
}

/* RFC 1002 4.3.2 request, then the answer must be positive. */
static void session_request(int s, const char *called) {
  uint8_t pkt[4 + 68];
  uint8_t hdr[4];
  pkt[0] = 0x81;
  pkt[1] = 0;
  pkt[2] = 0;
  pkt[3] = 68;
  encode_name(pkt + 4, called, 0x20);
  encode_name(pkt + 38, "SSNBENCH", 0x00);
  full_write(s, pkt, sizeof pkt);
  full_read(s, hdr, 4);
  if (hdr[0] != 0x82) {
    fprintf(stderr, "ssnbench: session refused (0x%02x)\n", hdr[0]);
    exit(1);
  }
}

/* ---- echo --------------------------------------------------------------
 */

typedef struct {
  int fd;
  size_t len;
  uint8_t buf[ECHO_BUF];
} echo_conn_t;

static void echo_drain(echo_conn_t *c) {
  size_t pos = 0;
  while (c->len - pos >= 4) {
    size_t n = ((size_t)c->buf[pos + 1] << 16) |
               ((size_t)c->buf[pos + 2] << 8) | c->buf[pos + 3];
    if (c->len - pos < 4 + n) {
      break;
    }
    full_write(c->fd, c->buf + pos, 4 + n);
    pos += 4 + n;
  }
  memmove(c->buf, c->buf + pos, c->len - pos);
  c->len -= pos;
}

static int cmd_echo(char **argv) {
  struct sockaddr_in sa = addr_of(argv[0], argv[1]);
  int one = 1;
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {EPOLLIN, {.ptr = NULL}};
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(l, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(l, 4096) != 0) {
    perror("ssnbench echo: listen");
    return 1;
  }
  epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
  for (;;) {
    struct epoll_event evs[64];
    int n = epoll_wait(ep, evs, 64, -1);
    for (int i = 0; i < n; i++) {
      echo_conn_t *c = evs[i].data.ptr;
      if (c == NULL) {
        int fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        c = fd >= 0 ? malloc(sizeof *c) : NULL;
        if (c == NULL) {
          continue;
        }
        c->fd = fd;
        c->len = 0;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event ce = {EPOLLIN, {.ptr = c}};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ce);
        continue;
      }
      ssize_t r = recv(c->fd, c->buf + c->len, ECHO_BUF - c->len, 0);
      if (r <= 0) {
        close(c->fd);
        free(c);
        continue;
      }
      c->len += (size_t)r;
      echo_drain(c);
    }
  }
}

/* ---- rtt ---------------------------------------------------------------
 */

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a;
  uint64_t y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static int cmd_rtt(int argc, char **argv) {
  struct sockaddr_in sa = addr_of(argv[0], argv[1]);
  size_t count = (size_t)atol(argv[2]);
  size_t size = (size_t)atol(argv[3]);
  uint64_t *t = calloc(count, sizeof *t);
  uint8_t *msg = calloc(1, size + 4);
  int s = tcp_connect(&sa);
  if (t == NULL || msg == NULL || size > 0x1FFFF) {
    return 1;
  }
  if (argc > 4) {
    session_request(s, argv[4]);
  }
  msg[1] = (uint8_t)(size >> 16);
  msg[2] = (uint8_t)(size >> 8);
  msg[3] = (uint8_t)size;
  for (size_t i = 0; i < count + 100; i++) {
    uint64_t t0 = now_ns();
    full_write(s, msg, size + 4);
    full_read(s, msg, size + 4);
    if (i >= 100) {
      t[i - 100] = now_ns() - t0; /* the first 100 warm up */
    }
  }
  qsort(t, count, sizeof *t, cmp_u64);
  printf("rtt_median_us %.1f rtt_p99_us %.1f count %zu size %zu\n",
         (double)t[count / 2] / 1000.0, (double)t[count * 99 / 100] / 1000.0,
         count, size);
  close(s);
  free(t);
  free(msg);
  return 0;
}

/* ---- idle --------------------------------------------------------------
 */

static int cmd_idle(char **argv) {
  struct sockaddr_in sa = addr_of(argv[0], argv[1]);
  size_t count = (size_t)atol(argv[2]);
  int *fds = calloc(count, sizeof *fds);
  char line[16];
  if (fds == NULL) {
    return 1;
  }
  for (size_t i = 0; i < count; i++) {
    fds[i] = tcp_connect(&sa);
    session_request(fds[i], argv[3]);
  }
  printf("open %zu\n", count);
  fflush(stdout);
  while (fgets(line, sizeof line, stdin) != NULL) {
  }
  for (size_t i = 0; i < count; i++) {
    close(fds[i]);
  }
  free(fds);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 4 && strcmp(argv[1], "echo") == 0) {
    return cmd_echo(argv + 2);
  }
  if (argc >= 6 && strcmp(argv[1], "rtt") == 0) {
    return cmd_rtt(argc - 2, argv + 2);
  }
  if (argc == 6 && strcmp(argv[1], "idle") == 0) {
    return cmd_idle(argv + 2);
  }
  fprintf(stderr, "usage: ssnbench echo IP PORT | rtt IP PORT COUNT SIZE "
                  "[CALLED] | idle IP PORT COUNT CALLED\n");
  return 2;
}
