/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_dgmsvc: the datagram service engine, driven statefully, and its
 * application protocol codec.
 *
 * Input: a 4-byte header, then events [op][len][payload...].
 *   header: [cfg bits][seed lo][seed hi][max_payload: 100 + 2 * byte]
 *     cfg bits 0-1 node type (B P M H), 2 two interfaces, 3 an NBDD,
 *     4 no NBDD query, 5 the NBDD role, 6 scope "nbtlab.example",
 *     7 a tight rate limit (1/s, burst 2).
 *   ops (op % 11):
 *     0 PACKET  [src][flags: 1 bcast, 2 port 138][bytes...] raw datagram
 *     1 STEP    [ms lo][ms hi] advance the clock, run timers
 *     2 TICK    advance to next_deadline(), run timers
 *     3 NAME    [name][group]      add a node name
 *     4 UNNAME  [name]             remove it
 *     5 BIND    [name][flags]
 *     6 UNBIND  [k]                the k-th latest binding
 *     7 SEND    [to][from][dst][ip][flags] data...
 *     8 ANSWER  [result][group][n][addr...] to the oldest resolution
 *     9 CRAFT   [kind][src][from][dst][id][bcast] data...: a well-formed
 *               datagram built with the codec (whole, or the first or
 *               second half of a fragmented one, a query, an error, an
 *               NBDD answer to the last query sent)
 *     10 API    line...            the application protocol codec
 * Invariants (abort() on violation), after every step:
 *  - every payload parses with nb_dgm_parse(); errors and NBDD answers go
 *    to the source of a unicast packet, FIRST and MORE clear; nothing at
 *    all is sent while handling a packet received by broadcast;
 *  - payloads we build are at most max_payload bytes; the queue never
 *    holds more than NB_DGMSVC_MAX_OUT;
 *  - reserved reassembly bytes never exceed the cap; per-reason drop
 *    counters sum to the packets received;
 *  - each send ends in exactly one SEND_DONE; DATAGRAM events carry at
 *    most 512 bytes for a live binding;
 *  - after on_timer(now), next_deadline() is after now;
 *  - API lines: parse -> format -> parse gives the same line back. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nb/dgm.h"
#include "nb/dgmsvc.h"

#define IP(a, b, c, d)                                                         \
  ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 |            \
   (uint32_t)(d))

/* abort() with the line of the broken invariant on stderr. */
static void fail_at(int line) {
  fprintf(stderr, "fuzz_dgmsvc: invariant at fuzz/dgmsvc.c:%d\n", line);
  abort();
}
#define require(cond) ((cond) ? (void)0 : fail_at(__LINE__))

static const uint32_t ips[8] = {IP(192, 0, 2, 10),   IP(192, 0, 2, 30),
                                IP(198, 51, 100, 9), IP(203, 0, 113, 7),
                                IP(192, 0, 2, 20),   IP(192, 0, 2, 255),
                                IP(10, 9, 8, 7),     0};
#define ME IP(192, 0, 2, 20)
#define NBDD IP(203, 0, 113, 7)

#define N_NAMES 8
static const char *const name_text[N_NAMES] = {
    "XYKON-2<20>", "XYKON-2<00>", "TESTGRP<1e>", "TESTGRP<1d>",
    "NBTTEST<00>", "*<00>",       "xykon-2<03>", "LONGNAME1234567<03>"};

#define N_HANDLES 64
#define N_BINDS 16
#define N_RESOLVE 32

typedef struct harness {
  nb_dgmsvc_t *e;
  nb_dgmsvc_config_t cfg;
  uint64_t now;
  nb_name_t names[N_NAMES];
  nb_name_t scoped[N_NAMES];
  uint32_t sends[N_HANDLES]; /* handles without SEND_DONE yet */
  uint32_t binds[N_BINDS];
  unsigned bind_next;
  uint32_t resolves[N_RESOLVE];
  size_t n_resolves;
  bool bcast_recv; /* handling a packet received by broadcast */
  bool in_recv;    /* handling a packet: an NBDD relays it as it is */
  uint32_t recv_src;
  uint16_t recv_port;
  bool have_query;
  nb_dgm_msg_t last_query;
} harness_t;

static harness_t H;
static nb_dgm_msg_t out_msg;
static nb_dgmsvc_event_t ev;
static nb_dgmsvc_api_msg_t api, api2;

static uint8_t arg(const uint8_t *p, size_t n, size_t i) {
  return i < n ? p[i] : 0;
}

/* ---- checks
 * ------------------------------------------------------------------
 */

static void check_payload(const nb_dgmsvc_out_t *o) {
  require(o->len > 0 && o->len <= NB_DGMSVC_OUT_MAX);
  require(o->dst_ip != 0 && o->dst_port != 0);
  require(!H.bcast_recv); /* no response of any kind to a broadcast */
  require(nb_dgm_parse(o->data, o->len, &out_msg, NULL) == NB_OK);
  uint8_t t = out_msg.msg_type;
  if (t == NB_DGM_ERROR || t == NB_DGM_POSITIVE_QUERY_RESPONSE ||
      t == NB_DGM_NEGATIVE_QUERY_RESPONSE) {
    require(o->dst_ip == H.recv_src && o->dst_port == H.recv_port);
    require(!o->broadcast);
    require((out_msg.flags & (NB_DGM_FLAG_F | NB_DGM_FLAG_M)) == 0);
    require(out_msg.source_port == H.cfg.port);
  }
  if (t == NB_DGM_ERROR)
    require(out_msg.error_code >= 0x82 && out_msg.error_code <= 0x84);
  if (t == NB_DGM_QUERY_REQUEST) {
    require(o->dst_ip == H.cfg.nbdd);
    H.last_query = out_msg;
    H.have_query = true;
  }
  if (!H.in_recv)
    require(o->len <= H.cfg.max_payload); /* built by us: fragmented */
}

static void track_send_done(uint32_t id) {
  for (size_t i = 0; i < N_HANDLES; i++) {
    if (H.sends[i] == id) {
      H.sends[i] = 0;
      return;
    }
  }
  fail_at(__LINE__); /* a SEND_DONE for no send, or a second one */
}

static void check_event(void) {
  if (ev.type == NB_DGMSVC_EV_DATAGRAM) {
    require(ev.data_len <= NB_DGM_USER_DATA_MAX && ev.id != 0);
  } else if (ev.type == NB_DGMSVC_EV_SEND_DONE) {
    track_send_done(ev.id);
  } else {
    require(ev.type == NB_DGMSVC_EV_SEND_ERROR && ev.error_code != 0);
  }
}

static void drain(void) {
  nb_dgmsvc_out_t o;
  nb_dgmsvc_resolve_t rq;
  unsigned n = 0;
  while (nb_dgmsvc_pending(H.e, &o)) {
    check_payload(&o);
    nb_dgmsvc_advance(H.e);
    require(++n <= NB_DGMSVC_MAX_OUT);
  }
  while (nb_dgmsvc_next_event(H.e, &ev))
    check_event();
  while (H.n_resolves < N_RESOLVE && nb_dgmsvc_next_resolve(H.e, &rq))
    H.resolves[H.n_resolves++] = rq.id;
  const nb_dgmsvc_counters_t *c = nb_dgmsvc_counters(H.e);
  uint64_t sum = 0;
  for (int i = 0; i < NB_DGMSVC_DROP__COUNT; i++)
    sum += c->drop[i];
  require(sum == c->rx_packets);
  require(nb_dgmsvc_reasm_bytes(H.e) <= H.cfg.reasm.max_bytes);
}

static void run_timers(void) {
  nb_dgmsvc_on_timer(H.e, H.now);
  require(nb_dgmsvc_next_deadline(H.e) > H.now);
  drain();
}

/* ---- ops
 * ---------------------------------------------------------------------
 */

static void op_packet(const uint8_t *p, size_t n) {
  uint8_t src = arg(p, n, 0), flags = arg(p, n, 1);
  const uint8_t *pkt = n > 2 ? p + 2 : NULL;
  H.bcast_recv = (flags & 1) != 0;
  H.recv_src = ips[src % 8];
  H.recv_port = (flags & 2) ? 138 : 50138;
  H.in_recv = true;
  (void)nb_dgmsvc_recv(H.e, pkt, n > 2 ? n - 2 : 0, H.recv_src, H.recv_port,
                       H.bcast_recv, H.now);
  drain();
  H.bcast_recv = H.in_recv = false;
}

static void op_send(const uint8_t *p, size_t n) {
  nb_dgmsvc_send_req_t rq;
  uint32_t h = 0;
  memset(&rq, 0, sizeof rq);
  rq.to = (nb_dgmsvc_to_t)(arg(p, n, 0) % 4); /* 3: invalid */
  rq.source = H.names[arg(p, n, 1) % N_NAMES];
  rq.destination = H.names[arg(p, n, 2) % N_NAMES];
  rq.ip = ips[arg(p, n, 3) % 8];
  rq.flags = arg(p, n, 4) & 1u;
  rq.data = n > 5 ? p + 5 : NULL;
  rq.len = n > 5 ? n - 5 : 0;
  if (arg(p, n, 4) & 2u)
    rq.len += 512; /* past the limit: must be refused */
  if (nb_dgmsvc_send(H.e, &rq, H.now, &h, NULL) == NB_OK) {
    require(h != 0 && rq.len <= NB_DGM_USER_DATA_MAX);
    for (size_t i = 0; i < N_HANDLES; i++) {
      if (H.sends[i] == 0) {
        H.sends[i] = h;
        break;
      }
    }
  }
  drain();
}

static void op_answer(const uint8_t *p, size_t n) {
  uint32_t addrs[8];
  size_t k = arg(p, n, 2) % 9;
  if (H.n_resolves == 0)
    return;
  for (size_t i = 0; i < k; i++)
    addrs[i] = ips[arg(p, n, 3 + i) % 8];
  nb_dgmsvc_resolved(H.e, H.resolves[0], (nb_nsnode_result_t)(arg(p, n, 0) % 4),
                     (arg(p, n, 1) & 1) != 0, addrs, k, H.now);
  memmove(H.resolves, H.resolves + 1,
          (H.n_resolves - 1) * sizeof H.resolves[0]);
  H.n_resolves--;
  drain();
}

/* A well-formed packet from the codec, so deep states are reachable. */
static size_t craft(const uint8_t *p, size_t n, uint8_t *buf, size_t cap) {
  nb_dgm_msg_t m, frag;
  nb_dgm_split_t sp;
  nb_wr_t w;
  size_t len = 0;
  uint8_t kind = arg(p, n, 0) % 8;
  static const uint8_t types[] = {NB_DGM_DIRECT_UNIQUE, NB_DGM_DIRECT_GROUP,
                                  NB_DGM_BROADCAST};
  nb_dgm_init(&m, kind < 5 ? types[kind % 3] : NB_DGM_QUERY_REQUEST,
              (uint16_t)(arg(p, n, 4) | 0x100), ips[arg(p, n, 1) % 8], 138);
  const uint8_t *data = n > 6 ? p + 6 : NULL;
  size_t dlen = n > 6 ? n - 6 : 0;
  nb_wr_init(&w, buf, cap);
  if (kind < 5) {
    const nb_name_t *to = &H.scoped[arg(p, n, 3) % N_NAMES];
    if (nb_dgm_set_datagram(&m, &H.scoped[arg(p, n, 2) % N_NAMES], to, data,
                            dlen > 512 ? 512 : dlen) != NB_OK ||
        nb_dgm_split_init(&sp, &m, 120) != NB_OK)
      return 0;
    if (kind < 3 || !nb_dgm_split_next(&sp, &frag)) {
      nb_dgm_write(&w, &m);
    } else if (kind == 4 && !nb_dgm_split_next(&sp, &frag)) {
      return 0;
    } else {
      nb_dgm_write(&w, &frag);
    }
  } else if (kind == 5) {
    m.destination_name = H.scoped[arg(p, n, 3) % N_NAMES];
    nb_dgm_write(&w, &m);
  } else if (kind == 6) {
    nb_dgm_init(&m, NB_DGM_ERROR, (uint16_t)arg(p, n, 4), m.source_ip, 138);
    m.error_code = (uint8_t)(0x82 + arg(p, n, 5) % 3);
    nb_dgm_write(&w, &m);
  } else if (H.have_query) { /* the NBDD answers our last query */
    m = H.last_query;
    m.msg_type = (arg(p, n, 5) & 1) ? NB_DGM_POSITIVE_QUERY_RESPONSE
                                    : NB_DGM_NEGATIVE_QUERY_RESPONSE;
    nb_dgm_write(&w, &m);
  }
  return nb_wr_finish(&w, &len) == NB_OK ? len : 0;
}

static void op_craft(const uint8_t *p, size_t n) {
  uint8_t buf[1600];
  size_t len = craft(p, n, buf, sizeof buf);
  if (len == 0)
    return;
  bool reply = arg(p, n, 0) % 8 == 7;
  H.bcast_recv = (arg(p, n, 5) & 2) != 0;
  H.recv_src = reply ? NBDD : ips[arg(p, n, 1) % 8];
  H.recv_port = 138;
  H.in_recv = true;
  (void)nb_dgmsvc_recv(H.e, buf, len, H.recv_src, 138, H.bcast_recv, H.now);
  drain();
  H.bcast_recv = H.in_recv = false;
}

/* The codec of docs/DATAGRAM-API.md: parse -> format -> parse. */
static void op_api(const uint8_t *p, size_t n) {
  static char line[NB_DGMSVC_API_LINE_MAX + 8],
      again[NB_DGMSVC_API_LINE_MAX + 8];
  if (nb_dgmsvc_api_parse((const char *)p, n, &api, NULL) != NB_OK)
    return;
  size_t len = nb_dgmsvc_api_format(&api, line, sizeof line);
  if (len == 0)
    return; /* parsed, but not writable (e.g. a name with a space scope) */
  require(len < sizeof line && line[len - 1] == '\n');
  require(nb_dgmsvc_api_parse(line, len - 1, &api2, NULL) == NB_OK);
  require(api2.verb == api.verb && api2.data_len == api.data_len);
  require(memcmp(api2.data, api.data, api.data_len) == 0);
  size_t len2 = nb_dgmsvc_api_format(&api2, again, sizeof again);
  require(len2 == len && memcmp(line, again, len) == 0);
}

static void op_step(const uint8_t *p, size_t n, bool tick) {
  uint64_t dl = nb_dgmsvc_next_deadline(H.e);
  if (tick) {
    if (dl != UINT64_MAX && dl > H.now)
      H.now = dl;
  } else {
    H.now += (uint64_t)arg(p, n, 0) | (uint64_t)arg(p, n, 1) << 8;
  }
  run_timers();
}

static void dispatch(uint8_t op, const uint8_t *p, size_t n) {
  uint32_t id = 0;
  switch (op % 11) {
  case 0:
    op_packet(p, n);
    break;
  case 1:
  case 2:
    op_step(p, n, op % 11 == 2);
    break;
  case 3:
    (void)nb_dgmsvc_name_add(H.e, &H.scoped[arg(p, n, 0) % N_NAMES],
                             arg(p, n, 1) & 1);
    break;
  case 4:
    (void)nb_dgmsvc_name_remove(H.e, &H.scoped[arg(p, n, 0) % N_NAMES]);
    break;
  case 5:
    if (nb_dgmsvc_bind(
            H.e, (arg(p, n, 1) & 4) ? NULL : &H.scoped[arg(p, n, 0) % N_NAMES],
            arg(p, n, 1) & 3u, &id) == NB_OK)
      H.binds[H.bind_next++ % N_BINDS] = id;
    break;
  case 6:
    (void)nb_dgmsvc_unbind(H.e,
                           H.binds[(H.bind_next - 1 - arg(p, n, 0)) % N_BINDS]);
    break;
  case 7:
    op_send(p, n);
    break;
  case 8:
    op_answer(p, n);
    break;
  case 9:
    op_craft(p, n);
    break;
  default:
    op_api(p, n);
    break;
  }
  drain();
}

static void setup(const uint8_t *h) {
  nb_dgmsvc_config_t *c = &H.cfg;
  memset(&H, 0, sizeof H);
  nb_dgmsvc_config_init(c);
  c->node_type = (nb_nsnode_type_t)(h[0] & 3);
  c->ifaces[0].ip = ME;
  c->ifaces[0].netmask = IP(255, 255, 255, 0);
  c->ifaces[1].ip = IP(198, 51, 100, 20);
  c->ifaces[1].netmask = IP(255, 255, 0, 0);
  c->n_ifaces = (h[0] & 4) ? 2 : 1;
  c->nbdd = (h[0] & 8) ? NBDD : 0;
  c->nbdd_query = (h[0] & 16) == 0;
  c->nbdd_role = (h[0] & 32) != 0;
  if (h[0] & 64)
    memcpy(c->scope, "nbtlab.example", sizeof "nbtlab.example");
  if (h[0] & 128) {
    c->rl_rate = 1;
    c->rl_burst = 2;
  }
  c->id_seed = (uint64_t)h[1] | (uint64_t)h[2] << 8;
  c->max_payload = 100 + 2u * h[3];
  c->reasm.max_slots = 4;
  c->reasm.max_bytes = 3000;
  H.now = 1;
  for (int i = 0; i < N_NAMES; i++) {
    require(nb_name_from_text(&H.names[i], name_text[i], strlen(name_text[i]),
                              NULL) == NB_OK);
    H.scoped[i] = H.names[i];
    require(nb_name_set_scope(&H.scoped[i], c->scope, strlen(c->scope), NULL) ==
            NB_OK);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4)
    return 0;
  setup(data);
  require(nb_dgmsvc_new(&H.cfg, &H.e) == NB_OK);
  size_t i = 4;
  while (i + 2 <= size) {
    uint8_t op = data[i];
    size_t len = data[i + 1];
    const uint8_t *p = data + i + 2;
    if (len > size - i - 2)
      len = size - i - 2;
    dispatch(op, p, len);
    i += 2 + len;
  }
  /* Drain: every send still open ends once time passes. */
  for (int k = 0; k < 8 && nb_dgmsvc_next_deadline(H.e) != UINT64_MAX; k++) {
    H.n_resolves = 0; /* the shell never answers */
    H.now = nb_dgmsvc_next_deadline(H.e);
    run_timers();
  }
  nb_dgmsvc_free(H.e);
  return 0;
}
