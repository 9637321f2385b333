/* SPDX-License-Identifier: BSD-2-Clause */
/* nbns_load: a name-service load generator. It keeps many unicast NAME
 * QUERY REQUESTs (RFC 1002 4.2.12) in flight against one server, with
 * sendmmsg()/recvmmsg(), and reports answered queries per second and the
 * latency distribution. Bounded: a count and a duration; one target.
 *
 *   nbns_load --target IP[:PORT] --name NAME[<XX>] [--duration S]
 *             [--warmup S] [--inflight N] [--rate QPS] [--timeout MS]
 *             [--source IP] [--label TEXT] [--json]
 *
 * Closed loop (default): `inflight` queries outstanding at all times, so
 * the figure is the server's saturation rate. Open loop (--rate): queries
 * sent at a fixed rate whatever comes back, to check that nothing is lost
 * below saturation. An answer matches by NAME_TRN_ID; one not back within
 * --timeout is lost. Latency is measured send-to-receive in this process
 * (CLOCK_MONOTONIC). Bench only; never installed; loopback or lab
 * namespaces only. */
#define _GNU_SOURCE 1
#include <arpa/inet.h>
#include <errno.h>
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
#define HIST_US 200000 /* 1 us buckets up to 200 ms */

typedef struct {
  struct sockaddr_in target;
  const char *source;
  uint8_t query[64];
  size_t qlen;
  double duration, warmup;
  unsigned inflight;
  double rate;
  uint64_t timeout_ns;
  const char *label;
  bool json;
} opts_t;

typedef struct {
  uint64_t sent_at[IDS]; /* 0 = free */
  bool counted[IDS];     /* sent while measuring: its fate is counted */
  uint16_t fifo[IDS];    /* ids in send order, for timeouts */
  uint32_t head, tail;   /* fifo indices (mod IDS) */
  uint16_t next_id;
  unsigned outstanding;
  bool measuring;
  uint64_t sent, answered, lost, stray;
  uint32_t *hist;
  uint64_t hist_over;
} state_t;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A unicast NAME QUERY REQUEST, RD=0 (nmblookup -U style). */
static size_t build_query(uint8_t *p, const char *text) {
  uint8_t raw[16];
  unsigned suffix = 0x20;
  const char *lt = strchr(text, '<');
  size_t n = lt != NULL ? (size_t)(lt - text) : strlen(text);
  if (lt != NULL) {
    suffix = (unsigned)strtoul(lt + 1, NULL, 16);
  }
  memset(raw, ' ', 15);
  memcpy(raw, text, n > 15 ? 15 : n);
  raw[15] = (uint8_t)suffix;
  static const uint8_t hdr[12] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  memcpy(p, hdr, sizeof hdr);
  size_t off = sizeof hdr;
  p[off++] = 32;
  for (int i = 0; i < 16; i++) {
    p[off++] = (uint8_t)('A' + (raw[i] >> 4));
    p[off++] = (uint8_t)('A' + (raw[i] & 15));
  }
  p[off++] = 0;
  static const uint8_t tail[4] = {0, 0x20, 0, 1};
  memcpy(p + off, tail, sizeof tail);
  return off + sizeof tail;
}

static void usage(void) {
  fprintf(stderr, "usage: nbns_load --target IP[:PORT] --name NAME[<XX>] "
                  "[--duration S] [--warmup S]\n"
                  "                 [--inflight N] [--rate QPS] [--timeout MS] "
                  "[--source IP] [--label T] [--json]\n");
  exit(2);
}

static void parse_target(opts_t *o, const char *arg) {
  char host[64];
  const char *colon = strchr(arg, ':');
  size_t n = colon != NULL ? (size_t)(colon - arg) : strlen(arg);
  if (n >= sizeof host) {
    usage();
  }
  memcpy(host, arg, n);
  host[n] = '\0';
  memset(&o->target, 0, sizeof o->target);
  o->target.sin_family = AF_INET;
  o->target.sin_port = htons(colon != NULL ? (uint16_t)atoi(colon + 1) : 137);
  if (inet_pton(AF_INET, host, &o->target.sin_addr) != 1) {
    usage();
  }
}

static void parse_args(opts_t *o, int argc, char **argv) {
  memset(o, 0, sizeof *o);
  o->duration = 5;
  o->warmup = 0.5;
  o->inflight = 64;
  o->timeout_ns = 200u * 1000000u;
  o->label = "target";
  const char *name = NULL;
  bool have_target = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--json") == 0) {
      o->json = true;
      continue;
    }
    if (v == NULL) {
      usage();
    }
    i++;
    if (strcmp(a, "--target") == 0) {
      parse_target(o, v);
      have_target = true;
    } else if (strcmp(a, "--name") == 0) {
      name = v;
    } else if (strcmp(a, "--duration") == 0) {
      o->duration = atof(v);
    } else if (strcmp(a, "--warmup") == 0) {
      o->warmup = atof(v);
    } else if (strcmp(a, "--inflight") == 0) {
      o->inflight = (unsigned)atoi(v);
    } else if (strcmp(a, "--rate") == 0) {
      o->rate = atof(v);
    } else if (strcmp(a, "--timeout") == 0) {
      o->timeout_ns = (uint64_t)atoi(v) * 1000000u;
    } else if (strcmp(a, "--source") == 0) {
      o->source = v;
    } else if (strcmp(a, "--label") == 0) {
      o->label = v;
    } else {
      usage();
    }
  }
  if (!have_target || name == NULL || o->inflight == 0 || o->inflight > 16384 ||
      o->duration <= 0 || o->duration > 600) {
    usage();
  }
  o->qlen = build_query(o->query, name);
}

static int open_socket(const opts_t *o) {
  struct sockaddr_in sa;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  int buf = 4 << 20;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  if (o->source != NULL && inet_pton(AF_INET, o->source, &sa.sin_addr) != 1) {
    usage();
  }
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    perror("nbns_load: socket");
    exit(1);
  }
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0) {
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  }
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf) != 0) {
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  }
  return fd;
}

/* An id is reused only after its previous query was answered or timed out;
 * with at most 16384 in flight and a sub-second timeout that holds unless
 * the rate exceeds 65536/timeout, in which case the old one counts lost. */
static uint16_t take_id(state_t *s, uint64_t t) {
  uint16_t id = s->next_id++;
  if (s->sent_at[id] != 0) {
    s->sent_at[id] = 0;
    s->outstanding--;
    if (s->counted[id]) {
      s->lost++;
    }
  }
  s->sent_at[id] = t;
  s->counted[id] = s->measuring;
  s->fifo[s->tail++ % IDS] = id;
  return id;
}

static void send_batch(int fd, const opts_t *o, state_t *s, unsigned n) {
  static struct sockaddr_in dst;
  static uint8_t pkt[BATCH][64];
  static struct iovec iov[BATCH];
  static struct mmsghdr m[BATCH];
  uint64_t t = now_ns();
  dst = o->target;
  n = n > BATCH ? BATCH : n;
  for (unsigned i = 0; i < n; i++) {
    uint16_t id = take_id(s, t);
    memcpy(pkt[i], o->query, o->qlen);
    pkt[i][0] = (uint8_t)(id >> 8);
    pkt[i][1] = (uint8_t)id;
    iov[i].iov_base = pkt[i];
    iov[i].iov_len = o->qlen;
    memset(&m[i], 0, sizeof m[i]);
    m[i].msg_hdr.msg_name = &dst;
    m[i].msg_hdr.msg_namelen = sizeof o->target;
    m[i].msg_hdr.msg_iov = &iov[i];
    m[i].msg_hdr.msg_iovlen = 1;
  }
  int k = sendmmsg(fd, m, n, 0);
  int done = k > 0 ? k : 0;
  for (unsigned i = (unsigned)done; i < n; i++) { /* not sent: free ids */
    uint16_t id = (uint16_t)((pkt[i][0] << 8) | pkt[i][1]);
    s->sent_at[id] = 0;
  }
  s->outstanding += (unsigned)done;
  if (s->measuring) {
    s->sent += (uint64_t)done;
  }
}

static void on_answer(state_t *s, const uint8_t *p, unsigned len, uint64_t t) {
  if (len < 12 || (p[2] & 0x80) == 0) {
    s->stray++;
    return;
  }
  uint16_t id = (uint16_t)((p[0] << 8) | p[1]);
  if (s->sent_at[id] == 0) {
    s->stray++; /* late (already counted lost) or not ours */
    return;
  }
  uint64_t us = (t - s->sent_at[id]) / 1000u;
  s->sent_at[id] = 0;
  s->outstanding--;
  if (!s->counted[id]) {
    return; /* a warm-up query */
  }
  s->answered++;
  if (us < HIST_US) {
    s->hist[us]++;
  } else {
    s->hist_over++;
  }
}

static void receive(int fd, state_t *s) {
  static uint8_t buf[BATCH][1024];
  static struct iovec iov[BATCH];
  static struct mmsghdr m[BATCH];
  for (;;) {
    for (int i = 0; i < BATCH; i++) {
      iov[i].iov_base = buf[i];
      iov[i].iov_len = sizeof buf[i];
      memset(&m[i], 0, sizeof m[i]);
      m[i].msg_hdr.msg_iov = &iov[i];
      m[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd, m, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) {
      return;
    }
    uint64_t t = now_ns();
    for (int i = 0; i < n; i++) {
      on_answer(s, buf[i], m[i].msg_len, t);
    }
  }
}

/* Queries older than the timeout, oldest first, count as lost. */
static void expire(state_t *s, const opts_t *o, uint64_t t) {
  while (s->head != s->tail) {
    uint16_t id = s->fifo[s->head % IDS];
    uint64_t at = s->sent_at[id];
    if (at != 0 && (at >= t || t - at < o->timeout_ns)) {
      return; /* sent after `t` was read, or not yet due */
    }
    s->head++;
    if (at != 0) {
      s->sent_at[id] = 0;
      s->outstanding--;
      if (s->counted[id]) {
        s->lost++;
      }
    }
  }
}

static double percentile(const state_t *s, double q) {
  uint64_t want = (uint64_t)(q * (double)s->answered);
  uint64_t acc = 0;
  for (uint32_t us = 0; us < HIST_US; us++) {
    acc += s->hist[us];
    if (acc > want) {
      return us;
    }
  }
  return HIST_US;
}

/* How many to send now: closed loop tops up to `inflight`; open loop
 * follows the clock. */
static unsigned quota(const opts_t *o, const state_t *s, uint64_t t,
                      uint64_t t0, uint64_t *open_sent) {
  if (o->rate <= 0) {
    return o->inflight > s->outstanding ? o->inflight - s->outstanding : 0;
  }
  uint64_t due = (uint64_t)((double)(t - t0) / 1e9 * o->rate);
  unsigned n = due > *open_sent ? (unsigned)(due - *open_sent) : 0;
  n = n > BATCH ? BATCH : n;
  *open_sent += n;
  return n;
}

static void run(int fd, const opts_t *o, state_t *s, uint64_t *elapsed) {
  uint64_t t0 = now_ns();
  uint64_t start = t0 + (uint64_t)(o->warmup * 1e9);
  uint64_t end = start + (uint64_t)(o->duration * 1e9);
  uint64_t open_sent = 0;
  for (uint64_t t = t0; t < end; t = now_ns()) {
    if (!s->measuring && t >= start) {
      s->measuring = true;
    }
    unsigned n = quota(o, s, t, t0, &open_sent);
    if (n > 0) {
      send_batch(fd, o, s, n);
    }
    receive(fd, s);
    expire(s, o, t);
    if (n == 0) {
      struct pollfd p = {fd, POLLIN, 0};
      (void)poll(&p, 1, o->rate > 0 ? 0 : 1);
    }
  }
  /* Let the last answers arrive, then count what is still out as lost. */
  uint64_t drain_end = now_ns() + o->timeout_ns;
  while (s->outstanding > 0 && now_ns() < drain_end) {
    struct pollfd p = {fd, POLLIN, 0};
    (void)poll(&p, 1, 1);
    receive(fd, s);
  }
  expire(s, o, UINT64_MAX);
  *elapsed = end - start;
}

int main(int argc, char **argv) {
  static state_t s;
  opts_t o;
  parse_args(&o, argc, argv);
  s.hist = calloc(HIST_US, sizeof *s.hist);
  if (s.hist == NULL) {
    return 1;
  }
  int fd = open_socket(&o);
  uint64_t elapsed = 0;
  run(fd, &o, &s, &elapsed);
  double secs = (double)elapsed / 1e9;
  double qps = (double)s.answered / secs;
  double p50 = percentile(&s, 0.50), p99 = percentile(&s, 0.99);
  if (o.json) {
    printf("{\"label\":\"%s\",\"mode\":\"%s\",\"inflight\":%u,\"rate\":%.0f,"
           "\"duration_s\":%.3f,\"sent\":%llu,\"answered\":%llu,"
           "\"lost\":%llu,\"stray\":%llu,\"qps\":%.0f,\"p50_us\":%.0f,"
           "\"p99_us\":%.0f}\n",
           o.label, o.rate > 0 ? "open" : "closed", o.inflight, o.rate, secs,
           (unsigned long long)s.sent, (unsigned long long)s.answered,
           (unsigned long long)s.lost, (unsigned long long)s.stray, qps, p50,
           p99);
  } else {
    printf("%-14s %s: sent %llu answered %llu lost %llu in %.2f s: %.0f "
           "answers/s, p50 %.0f us, p99 %.0f us\n",
           o.label, o.rate > 0 ? "open" : "closed", (unsigned long long)s.sent,
           (unsigned long long)s.answered, (unsigned long long)s.lost, secs,
           qps, p50, p99);
  }
  free(s.hist);
  close(fd);
  return 0;
}
