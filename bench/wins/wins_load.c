/* SPDX-License-Identifier: BSD-2-Clause */
/* wins_load: a load generator for NBNS (WINS) servers. It keeps `inflight`
 * requests outstanding against one server with sendmmsg()/recvmmsg() and
 * reports completed requests per second (closed loop: the server's
 * saturation rate) and latency percentiles.
 *
 *   wins_load --target IP[:PORT] --mode query|register [--names N]
 *             [--prefix P] [--first K] [--duration S] [--warmup S]
 *             [--inflight N] [--timeout MS] [--any] [--label L] [--json]
 *
 * query:    NAME QUERY REQUESTs with RD (RFC 1002 4.2.12) for names
 *           <prefix><7 digits><20>, the index drawn at random in [0, N),
 *           so every lookup is a different hash chain of the table.
 * register: NAME REGISTRATION REQUESTs (4.2.2) for new names
 *           <prefix><7 digits><20> from --first on, one each (never
 *           retransmitted); TTL 86400; the address 10.x.y.z of the index.
 * A request counts when its answer comes back (matched by NAME_TRN_ID)
 * and is positive (RCODE 0; WACKs are ignored); --any counts any answer
 * (the floor responder answers everything with the same packet). Bench
 * only; never installed; loopback or lab namespaces only. */
#define _GNU_SOURCE 1
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define IDS 65536
#define HIST_US 1000000 /* 1 us buckets up to 1 s */

typedef struct opts {
  struct sockaddr_in target;
  bool reg;
  unsigned names;
  const char *prefix;
  unsigned first;
  double duration, warmup;
  unsigned inflight;
  uint64_t timeout_ns;
  bool any;
  const char *label;
  bool json;
} opts_t;

typedef struct state {
  uint64_t sent_at[IDS]; /* 0 = free */
  bool counted[IDS];
  uint16_t next_id;
  unsigned outstanding;
  unsigned next_name;
  uint64_t rng;
  bool measuring;
  uint64_t sent, done, negative, lost;
  uint32_t *hist;
} state_t;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- packets (RFC 1002 4.2.2, 4.2.12) -------------------------------------
 */

static size_t put_name(uint8_t *p, const char *prefix, unsigned idx) {
  char name[16];
  uint8_t raw[16];
  snprintf(name, sizeof name, "%s%07u", prefix, idx);
  size_t n = strlen(name);
  memset(raw, ' ', 15);
  memcpy(raw, name, n > 15 ? 15 : n);
  raw[15] = 0x20;
  p[0] = 32;
  for (int i = 0; i < 16; i++) {
    p[1 + 2 * i] = (uint8_t)('A' + (raw[i] >> 4));
    p[2 + 2 * i] = (uint8_t)('A' + (raw[i] & 15));
  }
  p[33] = 0;
  return 34;
}

static size_t build(uint8_t *p, const opts_t *o, uint16_t id, unsigned idx) {
  static const uint8_t qtail[4] = {0, 0x20, 0, 1};
  p[0] = (uint8_t)(id >> 8);
  p[1] = (uint8_t)id;
  p[2] = o->reg ? 0x29 : 0x01; /* opcode 5 + RD / opcode 0 + RD */
  p[3] = 0;
  memset(p + 4, 0, 8);
  p[5] = 1;               /* QDCOUNT */
  p[11] = o->reg ? 1 : 0; /* ARCOUNT */
  size_t off = 12 + put_name(p + 12, o->prefix, idx);
  memcpy(p + off, qtail, 4);
  off += 4;
  if (o->reg) {
    static const uint8_t rr[12] = {0xc0, 0x0c, 0,    0x20, 0, 1,
                                   0,    1,    0x51, 0x80, 0, 6};
    memcpy(p + off, rr, sizeof rr); /* TTL 86400, RDLENGTH 6 */
    off += sizeof rr;
    p[off++] = 0x60; /* NB_FLAGS: unique, H node */
    p[off++] = 0;
    p[off++] = 10;
    p[off++] = (uint8_t)(idx >> 16);
    p[off++] = (uint8_t)(idx >> 8);
    p[off++] = (uint8_t)idx;
  }
  return off;
}

/* ---- the loop ---------------------------------------------------------------
 */

static uint64_t xorshift(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static unsigned next_index(state_t *st, const opts_t *o) {
  if (o->reg)
    return o->first + st->next_name++;
  return (unsigned)(xorshift(&st->rng) % o->names);
}

static void send_batch(int fd, state_t *st, const opts_t *o, uint64_t t) {
  static uint8_t buf[BATCH][128];
  static struct mmsghdr msgs[BATCH];
  static struct iovec iov[BATCH];
  unsigned n = 0;
  while (st->outstanding + n < o->inflight && n < BATCH) {
    uint16_t id = st->next_id;
    if (st->sent_at[id] != 0)
      break; /* wrapped onto an unanswered id: wait */
    st->next_id++;
    iov[n].iov_base = buf[n];
    iov[n].iov_len = build(buf[n], o, id, next_index(st, o));
    memset(&msgs[n], 0, sizeof msgs[n]);
    msgs[n].msg_hdr.msg_iov = &iov[n];
    msgs[n].msg_hdr.msg_iovlen = 1;
    st->sent_at[id] = t;
    st->counted[id] = st->measuring;
    n++;
  }
  if (n == 0)
    return;
  int k = sendmmsg(fd, msgs, n, 0);
  k = k < 0 ? 0 : k;
  for (unsigned i = (unsigned)k; i < n; i++) { /* not sent: free the ids */
    uint16_t id = (uint16_t)(buf[i][0] << 8 | buf[i][1]);
    st->sent_at[id] = 0;
  }
  st->outstanding += (unsigned)k;
  if (st->measuring)
    st->sent += (uint64_t)k;
}

static void on_answer(state_t *st, const opts_t *o, const uint8_t *p,
                      size_t len, uint64_t t) {
  if (len < 12 || (p[2] & 0x80) == 0)
    return;
  uint16_t id = (uint16_t)(p[0] << 8 | p[1]);
  if (st->sent_at[id] == 0 || ((p[2] >> 3) & 15) == 7)
    return; /* unknown, or a WACK: the answer comes later */
  bool positive = o->any || (p[3] & 15) == 0;
  if (st->counted[id]) {
    if (positive) {
      st->done++;
      uint64_t us = (t - st->sent_at[id]) / 1000u;
      st->hist[us < HIST_US ? us : HIST_US - 1]++;
    } else {
      st->negative++;
    }
  }
  st->sent_at[id] = 0;
  st->outstanding--;
}

static void recv_batch(int fd, state_t *st, const opts_t *o) {
  static uint8_t buf[BATCH][600];
  static struct mmsghdr msgs[BATCH];
  static struct iovec iov[BATCH];
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = buf[i];
    iov[i].iov_len = sizeof buf[i];
    memset(&msgs[i], 0, sizeof msgs[i]);
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
  uint64_t t = now_ns();
  for (int i = 0; i < n; i++)
    on_answer(st, o, buf[i], msgs[i].msg_len, t);
}

/* Requests older than the timeout are lost: their ids are freed. */
static void expire(state_t *st, uint64_t t, uint64_t timeout) {
  for (uint32_t id = 0; id < IDS && st->outstanding > 0; id++) {
    if (st->sent_at[id] != 0 && t - st->sent_at[id] > timeout) {
      if (st->counted[id])
        st->lost++;
      st->sent_at[id] = 0;
      st->outstanding--;
    }
  }
}

static double pct(const state_t *st, double q) {
  uint64_t want = (uint64_t)((double)st->done * q), seen = 0;
  for (uint32_t i = 0; i < HIST_US; i++) {
    seen += st->hist[i];
    if (seen > want)
      return (double)i;
  }
  return (double)HIST_US;
}

static void run(int fd, const opts_t *o, state_t *st) {
  uint64_t start = now_ns(), last_expire = start;
  uint64_t warm_end = start + (uint64_t)(o->warmup * 1e9);
  uint64_t end = warm_end + (uint64_t)(o->duration * 1e9);
  uint64_t measured_from = warm_end;
  for (;;) {
    uint64_t t = now_ns();
    if (!st->measuring && t >= warm_end) {
      st->measuring = true;
      measured_from = t;
    }
    if (t >= end)
      break;
    send_batch(fd, st, o, t);
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 5) > 0)
      recv_batch(fd, st, o);
    if (t - last_expire > 50000000u) {
      expire(st, t, o->timeout_ns);
      last_expire = t;
    }
  }
  double secs = (double)(now_ns() - measured_from) / 1e9;
  if (o->json)
    printf("{\"label\":\"%s\",\"mode\":\"%s\",\"names\":%u,\"inflight\":%u,"
           "\"seconds\":%.3f,\"sent\":%llu,\"done\":%llu,\"negative\":%llu,"
           "\"lost\":%llu,\"per_s\":%.0f,\"p50_us\":%.0f,\"p99_us\":%.0f}\n",
           o->label, o->reg ? "register" : "query", o->names, o->inflight, secs,
           (unsigned long long)st->sent, (unsigned long long)st->done,
           (unsigned long long)st->negative, (unsigned long long)st->lost,
           (double)st->done / secs, pct(st, 0.5), pct(st, 0.99));
  else
    printf("%s: %.0f %s/s (p50 %.0f us, p99 %.0f us), %llu negative, %llu "
           "lost\n",
           o->label, (double)st->done / secs,
           o->reg ? "registrations" : "queries", pct(st, 0.5), pct(st, 0.99),
           (unsigned long long)st->negative, (unsigned long long)st->lost);
}

/* ---- options
 * ------------------------------------------------------------------ */

static void usage(void) {
  fprintf(stderr, "usage: wins_load --target IP[:PORT] --mode query|register"
                  " [--names N] [--prefix P] [--first K] [--duration S]\n"
                  "       [--warmup S] [--inflight N] [--timeout MS] [--any]"
                  " [--label L] [--json]\n");
  exit(2);
}

static void parse_target(const char *s, struct sockaddr_in *sa) {
  char host[64];
  const char *colon = strchr(s, ':');
  size_t n = colon != NULL ? (size_t)(colon - s) : strlen(s);
  if (n >= sizeof host)
    usage();
  memcpy(host, s, n);
  host[n] = '\0';
  memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  sa->sin_port = htons(colon != NULL ? (uint16_t)atoi(colon + 1) : 137);
  if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
    usage();
}

static void parse(int argc, char **argv, opts_t *o) {
  memset(o, 0, sizeof *o);
  o->names = 1000;
  o->prefix = "W";
  o->duration = 4;
  o->warmup = 0.5;
  o->inflight = 64;
  o->timeout_ns = 2000000000u;
  o->label = "target";
  bool target = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--json") == 0) {
      o->json = true;
    } else if (strcmp(a, "--any") == 0) {
      o->any = true;
    } else if (v == NULL) {
      usage();
    } else if (strcmp(a, "--target") == 0) {
      parse_target(v, &o->target), target = true, i++;
    } else if (strcmp(a, "--mode") == 0) {
      o->reg = strcmp(v, "register") == 0, i++;
    } else if (strcmp(a, "--names") == 0) {
      o->names = (unsigned)atoi(v), i++;
    } else if (strcmp(a, "--prefix") == 0) {
      o->prefix = v, i++;
    } else if (strcmp(a, "--first") == 0) {
      o->first = (unsigned)atoi(v), i++;
    } else if (strcmp(a, "--duration") == 0) {
      o->duration = atof(v), i++;
    } else if (strcmp(a, "--warmup") == 0) {
      o->warmup = atof(v), i++;
    } else if (strcmp(a, "--inflight") == 0) {
      o->inflight = (unsigned)atoi(v), i++;
    } else if (strcmp(a, "--timeout") == 0) {
      o->timeout_ns = (uint64_t)strtoull(v, NULL, 10) * 1000000u, i++;
    } else if (strcmp(a, "--label") == 0) {
      o->label = v, i++;
    } else {
      usage();
    }
  }
  if (!target || o->names == 0 || o->inflight == 0 || o->inflight > 30000 ||
      strlen(o->prefix) > 8)
    usage();
}

int main(int argc, char **argv) {
  opts_t o;
  parse(argc, argv, &o);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int size = 1 << 22;
  if (fd < 0 ||
      connect(fd, (struct sockaddr *)&o.target, sizeof o.target) != 0) {
    perror("wins_load");
    return 1;
  }
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
  state_t *st = calloc(1, sizeof *st);
  if (st == NULL || (st->hist = calloc(HIST_US, sizeof(uint32_t))) == NULL)
    return 1;
  st->rng = 0x9E3779B97F4A7C15ull ^ (uint64_t)getpid();
  run(fd, &o, st);
  free(st->hist);
  free(st);
  close(fd);
  return 0;
}
