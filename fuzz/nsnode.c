/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_nsnode: the name-service node engine, driven statefully.
 *
 * Input: a 4-byte header, then length-prefixed events [op][len][payload].
 *   header: [cfg bits][seed lo][seed hi][unused]
 *     cfg bits 0-1 node type (B P M H), 2 two interfaces, 3 two NBNS,
 *     4 no overwrite demand, 5 no conflict demand, 6 negative cache,
 *     7 a tight rate limit.
 *   ops (op % 11):
 *     0 PACKET  [src][flags: 1 bcast, 2 port 137][bytes...] raw datagram
 *     1 STEP    [ms lo][ms hi] advance the clock, run timers
 *     2 TICK    advance to next_deadline(), run timers
 *     3 ADD     [name][flags]
 *     4 REMOVE  [name]
 *     5 FIND    [name][via][flags][ip][timeout/100 ms]
 *     6 STATUS  [ip][name or >= 8 for `*`]
 *     7 SHUTDOWN
 *     8 CANCEL  [k: the k-th latest handle]
 *     9 REPLY   [kind][rcode][ttl lo][ttl hi][addr][src][entries]: a
 *               response to the last request the engine sent (its ID,
 *               name and destination), built with the ns.h builders
 *     10 ASK    [kind][name][src][flags]: a request from a peer about
 *               one of the harness names
 * Invariants checked after every step (abort() on violation):
 *  - every datagram parses with nb_ns_parse(), is <= 576 bytes, classifies
 *    as a known kind; requests never set AA, responses never B, only
 *    requests are broadcast and only to a subnet broadcast address;
 *  - a retransmitted request (same ID, destination and kind) never comes
 *    earlier than BCAST_ / UCAST_REQ_RETRY_TIMEOUT after the previous copy;
 *  - queues stay within their caps; per-reason drop counters sum to the
 *    packets received; next_deadline() is after `now` once timers ran;
 *  - never two claims of a name: NAME_ADDED twice without NAME_REMOVED in
 *    between, or the same name twice in the table, aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef NB_NSNODE_FUZZ_TRACE /* a debugging aid: cc -DNB_NSNODE_FUZZ_TRACE */
#include <stdio.h>
#define TRACE(...) fprintf(stderr, __VA_ARGS__)
#else
#define TRACE(...) ((void)0)
#endif

#include "nb/ns.h"
#include "nb/nsnode.h"

#define IP(a, b, c, d)                                                         \
  ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 |            \
   (uint32_t)(d))

static void require(int cond) {
  if (!cond)
    abort();
}

static const uint32_t ips[8] = {IP(192, 0, 2, 20),   IP(192, 0, 2, 30),
                                IP(198, 51, 100, 1), IP(198, 51, 100, 2),
                                IP(203, 0, 113, 5),  IP(192, 0, 2, 10),
                                IP(192, 0, 2, 255),  IP(10, 1, 0, 7)};

#define N_NAMES 8
static const char *const name_text[N_NAMES] = {
    "FRED<20>",
    "FRED<00>",
    "WORKGRP<00>",
    "WORKGRP<1e>",
    "ALPHA<20>.example.com",
    "\\x01\\x02__MSBROWSE__\\x02<01>",
    "nbttest<20>",
    "LONGNAME1234567<03>"};

typedef struct sent {
  uint16_t trn;
  uint8_t kind;
  bool used;
  uint32_t dst;
  uint64_t at;
} sent_t;

#define N_SENT 64
#define N_HANDLES 8

typedef struct harness {
  nb_nsnode_t *n;
  nb_nsnode_config_t cfg;
  uint64_t now;
  nb_name_t names[N_NAMES];
  bool added[N_NAMES]; /* NAME_ADDED seen, no NAME_REMOVED since */
  bool track_off;
  sent_t sent[N_SENT];
  unsigned sent_next;
  uint32_t handles[N_HANDLES];
  unsigned handle_next;
  /* the last request the engine sent */
  bool have_last;
  uint16_t last_trn;
  uint32_t last_dst;
  nb_ns_kind_t last_kind;
  nb_name_t last_name;
} harness_t;

static harness_t H;
static max_align_t engine_mem[400000 / sizeof(max_align_t)];
static nb_ns_msg_t out_msg;
static nb_nsnode_event_t ev;

/* ---- reading the input ----------------------------------------------------
 */

typedef struct input {
  const uint8_t *p;
  size_t len;
} input_t;

static uint8_t arg(const uint8_t *pl, size_t plen, size_t i) {
  return i < plen ? pl[i] : 0;
}

/* ---- checks
 * ------------------------------------------------------------------ */

static bool is_request_kind(nb_ns_kind_t k) {
  return k == NB_NS_KIND_REGISTRATION_REQUEST ||
         k == NB_NS_KIND_OVERWRITE_REQUEST || k == NB_NS_KIND_REFRESH_REQUEST ||
         k == NB_NS_KIND_RELEASE_REQUEST || k == NB_NS_KIND_QUERY_REQUEST ||
         k == NB_NS_KIND_STATUS_REQUEST;
}

static bool is_bcast_addr(uint32_t ip) {
  for (size_t i = 0; i < H.cfg.n_ifaces; i++) {
    const nb_nsnode_iface_t *f = &H.cfg.ifaces[i];
    if (ip == (f->ip | ~f->netmask))
      return true;
  }
  return false;
}

/* A copy of the same request must not come before its retry timeout. */
static void check_retransmit(const nb_nsnode_out_t *o, nb_ns_kind_t k,
                             uint16_t trn) {
  uint32_t min = o->broadcast ? H.cfg.bcast_retry_ms : H.cfg.ucast_retry_ms;
  for (unsigned i = 0; i < N_SENT; i++) {
    sent_t *s = &H.sent[i];
    if (s->used && s->trn == trn && s->dst == o->dst_ip && s->kind == k) {
      require(H.now - s->at >= min);
      s->at = H.now;
      return;
    }
  }
  sent_t *s = &H.sent[H.sent_next++ % N_SENT];
  s->used = true;
  s->trn = trn;
  s->dst = o->dst_ip;
  s->kind = (uint8_t)k;
  s->at = H.now;
}

static void check_datagram(const nb_nsnode_out_t *o) {
  require(o->len <= NB_NSNODE_MAX_DATAGRAM_LENGTH && o->len >= 12);
  require(o->dst_port != 0 && o->dst_ip != 0);
  require(nb_ns_parse(o->data, o->len, &out_msg, NULL) == NB_OK);
  nb_ns_kind_t k = out_msg.kind;
  TRACE("%8llu out %-40s trn %04x to %08x%s\n", (unsigned long long)H.now,
        nb_ns_kind_name(k), out_msg.hdr.trn_id, o->dst_ip,
        o->broadcast ? " (bcast)" : "");
  require(k != NB_NS_KIND_UNKNOWN);
  if (!out_msg.hdr.response) {
    require((out_msg.hdr.nm_flags & NB_NS_FLAG_AA) == 0);
    require(is_request_kind(k));
    check_retransmit(o, k, out_msg.hdr.trn_id);
    H.have_last = true;
    H.last_trn = out_msg.hdr.trn_id;
    H.last_dst = o->dst_ip;
    H.last_kind = k;
    H.last_name = out_msg.qd[0].qname.name;
  } else {
    require((out_msg.hdr.nm_flags & NB_NS_FLAG_B) == 0);
    require(!o->broadcast);
  }
  if (o->broadcast)
    require(is_bcast_addr(o->dst_ip) && !out_msg.hdr.response);
}

static void drain_out(void) {
  nb_nsnode_out_t o;
  unsigned count = 0;
  while (nb_nsnode_pending(H.n, &o)) {
    check_datagram(&o);
    nb_nsnode_advance(H.n);
    count++;
    require(count <= H.cfg.max_out);
  }
}

static int harness_name(const nb_name_t *name) {
  for (int i = 0; i < N_NAMES; i++) {
    if (nb_name_equal(&H.names[i], name))
      return i;
  }
  return -1;
}

static void drain_events(void) {
  unsigned count = 0;
  /* A full event queue drops events (counted): the claim bookkeeping
   * below is then incomplete, so it stops for this run. */
  if (nb_nsnode_counters(H.n)->events_dropped != 0)
    H.track_off = true;
  while (nb_nsnode_next_event(H.n, &ev)) {
    require(++count <= H.cfg.max_events);
    require(ev.n_addrs <= NB_NSNODE_MAX_ADDRS);
    require(ev.status.n_names <= NB_NSNODE_STATUS_MAX);
    TRACE("%8llu event %d result %d rcode %d\n", (unsigned long long)H.now,
          (int)ev.type, (int)ev.result, ev.rcode);
    int i = harness_name(&ev.name);
    if (i < 0 || H.track_off)
      continue;
    if (ev.type == NB_NSNODE_EV_NAME_ADDED) {
      require(!H.added[i]); /* never two claims of a name */
      H.added[i] = true;
    } else if (ev.type == NB_NSNODE_EV_NAME_REMOVED) {
      H.added[i] = false;
    } else if (ev.type == NB_NSNODE_EV_NAME_REFUSED) {
      require(!H.added[i]);
    }
  }
}

static void check_state(void) {
  static nb_nsnode_name_info_t info[16];
  size_t count = nb_nsnode_names(H.n, info, 16);
  require(count <= H.cfg.max_names);
  for (size_t i = 0; i < count; i++) {
    for (size_t j = i + 1; j < count; j++)
      require(!nb_name_equal(&info[i].name, &info[j].name));
  }
  const nb_nsnode_counters_t *c = nb_nsnode_counters(H.n);
  uint64_t sum = 0;
  for (int i = 0; i < NB_NSNODE_DROP__COUNT; i++)
    sum += c->drop[i];
  require(sum == c->rx_packets);
}

static void run_timers(void) {
  nb_nsnode_on_timer(H.n, H.now);
  require(nb_nsnode_next_deadline(H.n) > H.now);
}

/* ---- ops
 * -------------------------------------------------------------------------- */

static void op_packet(const uint8_t *pl, size_t plen) {
  uint8_t src = arg(pl, plen, 0), flags = arg(pl, plen, 1);
  size_t len = plen > 2 ? plen - 2 : 0;
  nb_nsnode_recv(H.n, len ? pl + 2 : NULL, len, ips[src % 8],
                 (flags & 2) ? 137 : 50137, (flags & 1) != 0, H.now);
}

static void op_step(const uint8_t *pl, size_t plen) {
  H.now += (uint64_t)arg(pl, plen, 0) | (uint64_t)arg(pl, plen, 1) << 8;
  run_timers();
}

static void op_tick(void) {
  uint64_t t = nb_nsnode_next_deadline(H.n);
  if (t != UINT64_MAX && t > H.now)
    H.now = t;
  run_timers();
}

static void remember_handle(uint32_t h) {
  H.handles[H.handle_next++ % N_HANDLES] = h;
}

static void op_find(const uint8_t *pl, size_t plen) {
  nb_nsnode_query_opts_t o;
  memset(&o, 0, sizeof o);
  o.via = (nb_nsnode_via_t)(arg(pl, plen, 1) % 4);
  o.flags = arg(pl, plen, 2) & 0xF;
  o.ip = ips[arg(pl, plen, 3) % 8];
  o.timeout_ms = (uint32_t)arg(pl, plen, 4) * 100u;
  uint32_t h = 0;
  if (nb_nsnode_find(H.n, &H.names[arg(pl, plen, 0) % N_NAMES], &o, H.now,
                     &h) == NB_OK)
    remember_handle(h);
}

static void op_status(const uint8_t *pl, size_t plen) {
  uint8_t k = arg(pl, plen, 1);
  const nb_name_t *name = k < N_NAMES ? &H.names[k] : NULL;
  uint32_t h = 0;
  if (nb_nsnode_status(H.n, ips[arg(pl, plen, 0) % 8], name, NULL, H.now, &h) ==
      NB_OK)
    remember_handle(h);
}

static const nb_ns_kind_t reply_kinds[] = {NB_NS_KIND_POS_REGISTRATION_RESPONSE,
                                           NB_NS_KIND_NEG_REGISTRATION_RESPONSE,
                                           NB_NS_KIND_CHALLENGE_RESPONSE,
                                           NB_NS_KIND_CONFLICT_DEMAND,
                                           NB_NS_KIND_POS_RELEASE_RESPONSE,
                                           NB_NS_KIND_NEG_RELEASE_RESPONSE,
                                           NB_NS_KIND_POS_QUERY_RESPONSE,
                                           NB_NS_KIND_NEG_QUERY_RESPONSE,
                                           NB_NS_KIND_REDIRECT_RESPONSE,
                                           NB_NS_KIND_WACK,
                                           NB_NS_KIND_STATUS_RESPONSE};

static void send_built(nb_ns_kind_t kind, const nb_ns_build_args_t *a,
                       uint32_t src, uint16_t port, bool bcast) {
  static uint8_t buf[1024];
  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, buf, sizeof buf);
  if (nb_ns_build(&w, kind, a) != NB_OK || nb_wr_finish(&w, &len) != NB_OK)
    return;
  nb_nsnode_recv(H.n, buf, len, src, port, bcast, H.now);
}

static void op_reply(const uint8_t *pl, size_t plen) {
  if (!H.have_last)
    return;
  nb_ns_kind_t kind = reply_kinds[arg(pl, plen, 0) %
                                  (sizeof reply_kinds / sizeof reply_kinds[0])];
  static nb_ns_nb_entry_t entries[12];
  static nb_ns_nbstat_entry_t stats[12];
  static const nb_name_t *nsd;
  size_t ne = arg(pl, plen, 6) % 12;
  uint32_t addr = ips[arg(pl, plen, 4) % 8];
  for (size_t i = 0; i < 12; i++) {
    entries[i].nb_flags = (uint16_t)((arg(pl, plen, 6) & 0x80) ? 0x8000 : 0);
    entries[i].addr = ips[(arg(pl, plen, 4) + i) % 8];
    memcpy(stats[i].name, H.names[i % N_NAMES].bytes, 16);
    stats[i].name_flags = 0x0400;
  }
  nsd = &H.names[4];
  nb_ns_build_args_t a;
  memset(&a, 0, sizeof a);
  a.trn_id = H.last_trn;
  a.name = &H.last_name;
  a.rcode = (uint8_t)(arg(pl, plen, 1) % 15 + 1);
  if (kind == NB_NS_KIND_NEG_REGISTRATION_RESPONSE && a.rcode == 7)
    a.rcode = 6;
  a.ttl = (uint32_t)arg(pl, plen, 2) | (uint32_t)arg(pl, plen, 3) << 8;
  a.addr = addr;
  a.entries = ne ? entries : NULL;
  a.n_entries = ne;
  a.nbstat = stats;
  a.n_nbstat = ne;
  a.nsd_name = nsd;
  a.nsd_addr = addr;
  a.wack_request_flags = 0x2900;
  uint8_t s = arg(pl, plen, 5);
  uint32_t src = (s & 0x80) ? ips[s % 8] : H.last_dst;
  if (is_bcast_addr(src))
    src = ips[s % 2];
  send_built(kind, &a, src, 137, false);
}

static const nb_ns_kind_t ask_kinds[] = {
    NB_NS_KIND_QUERY_REQUEST,        NB_NS_KIND_STATUS_REQUEST,
    NB_NS_KIND_REGISTRATION_REQUEST, NB_NS_KIND_OVERWRITE_REQUEST,
    NB_NS_KIND_RELEASE_REQUEST,      NB_NS_KIND_CONFLICT_DEMAND,
    NB_NS_KIND_REFRESH_REQUEST,      NB_NS_KIND_MULTIHOMED_REQUEST};

static void op_ask(const uint8_t *pl, size_t plen) {
  nb_ns_kind_t kind =
      ask_kinds[arg(pl, plen, 0) % (sizeof ask_kinds / sizeof ask_kinds[0])];
  uint8_t flags = arg(pl, plen, 3);
  nb_name_t star;
  const nb_name_t *name = &H.names[arg(pl, plen, 1) % N_NAMES];
  if ((flags & 8) && nb_name_make(&star, "*", 1, 0, NULL) == NB_OK)
    name = &star;
  nb_ns_build_args_t a;
  memset(&a, 0, sizeof a);
  a.trn_id = (uint16_t)(0x4000 | arg(pl, plen, 2));
  a.name = name;
  a.broadcast = (flags & 1) != 0;
  a.nb_flags = (flags & 2) ? 0x8000 : 0;
  a.addr = ips[arg(pl, plen, 2) % 8];
  send_built(kind, &a, ips[arg(pl, plen, 2) % 8], (flags & 4) ? 137 : 50137,
             a.broadcast);
}

static void dispatch(uint8_t op, const uint8_t *pl, size_t plen) {
  TRACE("%8llu op %u (%zu bytes)\n", (unsigned long long)H.now, op % 11u, plen);
  switch (op % 11) {
  case 0:
    op_packet(pl, plen);
    break;
  case 1:
    op_step(pl, plen);
    break;
  case 2:
    op_tick();
    break;
  case 3:
    nb_nsnode_add_name(H.n, &H.names[arg(pl, plen, 0) % N_NAMES],
                       arg(pl, plen, 1) & 3, H.now);
    break;
  case 4:
    nb_nsnode_remove_name(H.n, &H.names[arg(pl, plen, 0) % N_NAMES], H.now);
    break;
  case 5:
    op_find(pl, plen);
    break;
  case 6:
    op_status(pl, plen);
    break;
  case 7:
    nb_nsnode_shutdown(H.n, H.now);
    break;
  case 8:
    nb_nsnode_cancel(
        H.n, H.handles[(H.handle_next - 1u - arg(pl, plen, 0)) % N_HANDLES]);
    break;
  case 9:
    op_reply(pl, plen);
    break;
  default:
    op_ask(pl, plen);
    break;
  }
}

/* ---- setup
 * ------------------------------------------------------------------------- */

static void configure(uint8_t bits, uint16_t seed) {
  nb_nsnode_config_t *c = &H.cfg;
  nb_nsnode_config_init(c);
  c->node_type = (nb_nsnode_type_t)(bits & 3);
  c->ifaces[0].ip = IP(192, 0, 2, 10);
  c->ifaces[0].netmask = IP(255, 255, 255, 0);
  c->n_ifaces = 1;
  if (bits & 4) {
    c->ifaces[1].ip = IP(10, 1, 0, 5);
    c->ifaces[1].netmask = IP(255, 255, 0, 0);
    c->n_ifaces = 2;
  }
  c->nbns[0] = IP(198, 51, 100, 1);
  c->nbns[1] = IP(198, 51, 100, 2);
  c->n_nbns = (bits & 8) ? 2 : (c->node_type == NB_NSNODE_TYPE_B ? 0 : 1);
  c->send_overwrite = (bits & 16) == 0;
  c->send_conflict_demand = (bits & 32) == 0;
  c->neg_cache_ms = (bits & 64) ? 5000 : 0;
  if (bits & 128) {
    c->rl_rate = 2;
    c->rl_burst = 2;
    c->rl_slots = 2;
  }
  c->txid_seed = seed;
  c->max_names = 8;
  c->max_cache = 4;
  c->max_pending = 4;
  c->max_out = 16;
  c->max_events = 16;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4 || size > 8192)
    return -1;
  memset(&H, 0, sizeof H);
  configure(data[0], (uint16_t)(data[1] | data[2] << 8));
  for (int i = 0; i < N_NAMES; i++) {
    require(nb_name_from_text(&H.names[i], name_text[i], strlen(name_text[i]),
                              NULL) == NB_OK);
  }
  require(nb_nsnode_size(&H.cfg) <= sizeof engine_mem);
  require(nb_nsnode_init(engine_mem, sizeof engine_mem, &H.cfg, &H.n) == NB_OK);
  input_t in = {data + 4, size - 4};
  while (in.len >= 2) {
    uint8_t op = in.p[0];
    size_t plen = in.p[1];
    if (plen > in.len - 2)
      plen = in.len - 2;
    dispatch(op, in.p + 2, plen);
    in.p += 2 + plen;
    in.len -= 2 + plen;
    drain_out();
    drain_events();
    check_state();
  }
  /* the end of every run: shut down and let the releases finish */
  nb_nsnode_shutdown(H.n, H.now);
  for (int i = 0; i < 512 && !nb_nsnode_done(H.n); i++) {
    drain_out();
    drain_events();
    op_tick();
  }
  drain_out();
  drain_events();
  require(nb_nsnode_done(H.n));
  return 0;
}
