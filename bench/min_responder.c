/* SPDX-License-Identifier: BSD-2-Clause */
/* min_responder: the floor of the name-service benchmark. It answers every
 * datagram of 12 bytes or more with one fixed POSITIVE NAME QUERY RESPONSE
 * (RFC 1002 4.2.13) for a configured name, only the NAME_TRN_ID copied from
 * the request: recvmmsg() a batch, patch, sendmmsg() the batch. No
 * parsing, no state: what the kernel's UDP path allows on this machine.
 *
 *   min_responder --addr IP [--port 137] [--name NAME] [--answer IP]
 *
 * Runs until SIGINT/SIGTERM, then prints "received N answered N". Bench
 * only; never installed. */
#define _GNU_SOURCE 1
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define BATCH 64
#define SLOT 2048

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

/* The answer: header, RR_NAME (first-level encoded, no scope), NB, IN, TTL,
 * RDLENGTH 6, NB_FLAGS 0 (unique, B node), the address. */
static size_t build_answer(uint8_t *p, const char *name, uint32_t addr) {
  uint8_t raw[16];
  size_t n = strlen(name);
  memset(raw, ' ', 15);
  memcpy(raw, name, n > 15 ? 15 : n);
  raw[15] = 0x20;
  static const uint8_t hdr[12] = {0, 0, 0x85, 0x00, 0, 0, 0, 1, 0, 0, 0, 0};
  memcpy(p, hdr, sizeof hdr);
  size_t off = sizeof hdr;
  p[off++] = 32;
  for (int i = 0; i < 16; i++) {
    p[off++] = (uint8_t)('A' + (raw[i] >> 4));
    p[off++] = (uint8_t)('A' + (raw[i] & 15));
  }
  p[off++] = 0;
  static const uint8_t rr[10] = {0, 0x20, 0, 1, 0, 0x03, 0xf4, 0x80, 0, 6};
  memcpy(p + off, rr, sizeof rr);
  off += sizeof rr;
  p[off++] = 0;
  p[off++] = 0;
  memcpy(p + off, &addr, 4); /* network order already */
  return off + 4;
}

static int open_socket(const char *addr, uint16_t port) {
  struct sockaddr_in sa;
  int one = 1;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (fd < 0 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1 ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    perror("min_responder: socket");
    exit(1);
  }
  /* The same receive buffer nbtd asks for (src/daemon/udp.c), and a
   * receive timeout so that a stop request is seen. */
  int size = 1 << 20;
  struct timeval tv = {0, 100000};
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) {
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

/* The batch buffers: datagrams in, answers out, one slot each. */
static uint8_t in[BATCH][SLOT];
static uint8_t out[BATCH][128];
static struct sockaddr_in peer[BATCH];
static struct iovec iov_in[BATCH], iov_out[BATCH];
static struct mmsghdr rx[BATCH], tx[BATCH];
static unsigned long long received, answered;

static void setup_batch(const uint8_t *reply, size_t reply_len) {
  for (int i = 0; i < BATCH; i++) {
    memcpy(out[i], reply, reply_len);
    iov_in[i].iov_base = in[i];
    iov_in[i].iov_len = SLOT;
    iov_out[i].iov_base = out[i];
    iov_out[i].iov_len = reply_len;
  }
}

/* Answers for the `n` datagrams received: copy each NAME_TRN_ID. */
static int prepare_answers(int n) {
  int k = 0;
  for (int i = 0; i < n; i++) {
    if (rx[i].msg_len < 12) {
      continue;
    }
    out[k][0] = in[i][0];
    out[k][1] = in[i][1];
    memset(&tx[k].msg_hdr, 0, sizeof tx[k].msg_hdr);
    tx[k].msg_hdr.msg_name = &peer[i];
    tx[k].msg_hdr.msg_namelen = rx[i].msg_hdr.msg_namelen;
    tx[k].msg_hdr.msg_iov = &iov_out[k];
    tx[k].msg_hdr.msg_iovlen = 1;
    k++;
  }
  return k;
}

static void serve(int fd) {
  while (!stop) {
    for (int i = 0; i < BATCH; i++) {
      memset(&rx[i].msg_hdr, 0, sizeof rx[i].msg_hdr);
      rx[i].msg_hdr.msg_name = &peer[i];
      rx[i].msg_hdr.msg_namelen = sizeof peer[i];
      rx[i].msg_hdr.msg_iov = &iov_in[i];
      rx[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd, rx, BATCH, MSG_WAITFORONE, NULL);
    if (n <= 0) {
      continue; /* EINTR, or the receive timeout: look at `stop` */
    }
    received += (unsigned)n;
    int k = prepare_answers(n);
    for (int sent = 0; sent < k;) {
      int m = sendmmsg(fd, tx + sent, (unsigned)(k - sent), 0);
      if (m <= 0 && !(m < 0 && errno == EINTR && !stop)) {
        break;
      }
      sent += m > 0 ? m : 0;
      answered += m > 0 ? (unsigned)m : 0;
    }
  }
}

int main(int argc, char **argv) {
  const char *addr = NULL, *name = "MINRESP", *answer = NULL;
  uint16_t port = 137;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--addr") == 0) {
      addr = argv[i + 1];
    } else if (strcmp(argv[i], "--port") == 0) {
      port = (uint16_t)atoi(argv[i + 1]);
    } else if (strcmp(argv[i], "--name") == 0) {
      name = argv[i + 1];
    } else if (strcmp(argv[i], "--answer") == 0) {
      answer = argv[i + 1];
    }
  }
  if (addr == NULL) {
    fprintf(stderr, "usage: min_responder --addr IP [--port N] [--name N] "
                    "[--answer IP]\n");
    return 2;
  }
  struct in_addr ans;
  uint8_t reply[128];
  inet_pton(AF_INET, answer != NULL ? answer : addr, &ans);
  setup_batch(reply, build_answer(reply, name, ans.s_addr));
  int fd = open_socket(addr, port);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: recvmmsg returns EINTR */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  serve(fd);
  printf("min_responder: received %llu answered %llu\n", received, answered);
  return 0;
}
