/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_nbns: the NBNS (WINS) server engine, driven statefully, with its
 * database (the in-memory store: real transactions, injected commit
 * failures) and restarts from it.
 *
 * Input: a 4-byte header, then length-prefixed events [op][len][payload].
 *   header: [cfg bits][seed lo][seed hi][unused]
 *     cfg bits 0 a tiny table (8 names, 12 member slots), 1 a TTL cap
 *     (nmbd's deviation), 2 a tiny journal (4), 3 a tiny queue (6),
 *     4 two own addresses, 5 static own names.
 *   ops (op % 9):
 *     0 PACKET  [src][flags: 1 bcast][bytes...] a raw datagram
 *     1 STEP    [ms lo][ms mid][ms hi] advance the clock, run timers
 *     2 TICK    advance to next_deadline(), run timers
 *     3 REQ     [kind][name][addr][flags][ttl][n] a request built with the
 *               ns.h builders (or by hand: several NB entries); kinds:
 *               registration, refresh 8 / 9, multi-homed, release, query
 *               (RD set or not), overwrite
 *     4 ANSWER  [pos][flags][addrs...] an answer to the last challenge
 *               query the engine sent, from its destination (or, flag 1,
 *               from elsewhere); positive with the listed addresses or
 *               negative (NAM_ERR)
 *     5 FLUSH   the journal into one committed transaction
 *     6 FAIL    the same, with the commit failing
 *     7 RESTART a new engine restored from the store
 *     8 ADMIN   [what][name][addr] nb_nbns_put / nb_nbns_delete
 * Invariants checked after every step (abort() on violation):
 *  - every datagram offered parses, is <= 576 bytes, is a response (no B)
 *    or a challenge NAME QUERY REQUEST (RD clear, to the server's port);
 *  - the table is consistent: every record found again by its name, no
 *    name twice, at most 25 members, no address twice, the G bit of every
 *    member equal to the record's kind, counts within the caps, the
 *    verdict counters summing to the packets received;
 *  - never two owners: a request can never add an address to a live
 *    unique name, nor turn it into a group unless the request comes from
 *    a member; when the owner answers a challenge positively, only the
 *    addresses it listed may join (a negative answer or silence lets the
 *    name move);
 *  - durability: after every successful flush the store holds exactly the
 *    table (members, flags, expiry); after a restart the engine holds
 *    exactly the store's unexpired members. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nb/nbns.h"
#include "nb/ns.h"

#define IP(a, b, c, d)                                                         \
  ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 |            \
   (uint32_t)(d))

static void require(int cond) {
  if (!cond)
    abort();
}

static const uint32_t ips[8] = {IP(192, 0, 2, 20),  IP(192, 0, 2, 30),
                                IP(192, 0, 2, 40),  IP(198, 51, 100, 7),
                                IP(203, 0, 113, 5), IP(192, 0, 2, 1),
                                IP(10, 1, 0, 7),    IP(192, 0, 2, 2)};
#define SRV_IP IP(192, 0, 2, 1)
#define SRV_IP2 IP(192, 0, 2, 2)
#define PORT 137

#define N_NAMES 8
static const char *const name_text[N_NAMES] = {
    "FRED<20>",     "FRED<00>",    "DOMAIN<1c>", "WORKGRP<1e>",
    "ALPHA<20>.ex", "WORKGRP<1d>", "fred<20>",   "LONGNAME1234567<03>"};

/* A snapshot of the table: live members of each harness name. */
typedef struct snap {
  bool present, group;
  uint8_t n;
  uint32_t ip[NB_NBNS_MAX_ADDRS];
} snap_t;

typedef struct harness {
  nb_nbns_t *e;
  nb_nbns_config_t cfg;
  nb_nbns_memdb_t *db;
  nb_nbns_store_t store;
  uint64_t now;
  nb_name_t names[N_NAMES];
  uint16_t trn;
  /* the last challenge query the engine sent */
  bool have_q;
  uint16_t q_trn;
  uint32_t q_dst;
  nb_name_t q_name;
  snap_t before[N_NAMES];
  uint8_t bits;
} harness_t;

static harness_t H;
static nb_ns_msg_t out_msg;
static nb_nbns_record_t rec, rec2;

static uint8_t arg(const uint8_t *pl, size_t plen, size_t i) {
  return i < plen ? pl[i] : 0;
}

/* ---- snapshots and the never-two-owners rule -------------------------------
 */

static void take(snap_t *s) {
  for (int i = 0; i < N_NAMES; i++) {
    memset(&s[i], 0, sizeof s[i]);
    if (nb_nbns_lookup(H.e, &H.names[i], H.now, &rec) != NB_OK)
      continue;
    s[i].present = true;
    s[i].group = rec.group;
    s[i].n = rec.n_members;
    for (size_t k = 0; k < rec.n_members; k++)
      s[i].ip[k] = rec.members[k].ip;
  }
}

static bool in(const snap_t *s, uint32_t ip) {
  for (size_t k = 0; k < s->n; k++) {
    if (s->ip[k] == ip)
      return true;
  }
  return false;
}

/* REQUEST: a request; DEFENDED: the owner's positive answer to a
 * challenge; OUTCOME: a negative answer or a timer (the name may move);
 * ADMIN: put/delete/restart (no rule). */
typedef enum {
  STEP_REQUEST,
  STEP_DEFENDED,
  STEP_OUTCOME,
  STEP_ADMIN
} step_kind_t;

/* `listed`: addresses the owner's answer listed (ANSWER steps). */
static void check_owners(step_kind_t kind, const uint32_t *listed,
                         size_t n_listed) {
  snap_t after[N_NAMES];
  take(after);
  for (int i = 0; i < N_NAMES; i++) {
    const snap_t *b = &H.before[i], *a = &after[i];
    if (!b->present || b->group || !a->present || kind == STEP_ADMIN ||
        kind == STEP_OUTCOME)
      continue; /* the rule is about live unique names; a negative answer
                   or a silent owner lets the name move */
    bool kept_any = false, added_any = false, all_listed = true;
    for (size_t k = 0; k < a->n; k++) {
      if (in(b, a->ip[k])) {
        kept_any = true;
        continue;
      }
      added_any = true;
      bool listed_k = false;
      for (size_t j = 0; j < n_listed; j++)
        listed_k = listed_k || listed[j] == a->ip[k];
      all_listed = all_listed && listed_k;
    }
    if (kind == STEP_REQUEST) {
      require(!added_any); /* a request never adds to a live unique name */
      require(!a->group || kept_any); /* only a member may change the kind */
    } else {
      /* the owner defended: only the addresses it listed may join */
      require(!added_any || all_listed);
    }
  }
}

/* ---- datagrams -------------------------------------------------------- */

static void check_datagram(const nb_nbns_out_t *o) {
  require(o->len >= 12 && o->len <= NB_NBNS_DATAGRAM_MAX);
  require(o->dst_ip != 0 && o->dst_port != 0);
  require(nb_ns_parse(o->data, o->len, &out_msg, NULL) == NB_OK);
  require(out_msg.kind != NB_NS_KIND_UNKNOWN);
  if (out_msg.hdr.response) {
    require((out_msg.hdr.nm_flags & NB_NS_FLAG_B) == 0);
    require((out_msg.hdr.nm_flags & NB_NS_FLAG_AA) != 0);
    return;
  }
  /* the only request an NBNS sends: a challenge to the owner */
  require(out_msg.kind == NB_NS_KIND_QUERY_REQUEST);
  require((out_msg.hdr.nm_flags & NB_NS_FLAG_RD) == 0);
  require(o->dst_port == H.cfg.port && out_msg.qdcount == 1);
  H.have_q = true;
  H.q_trn = out_msg.hdr.trn_id;
  H.q_dst = o->dst_ip;
  H.q_name = out_msg.qd[0].qname.name;
}

static void drain(void) {
  nb_nbns_out_t o;
  unsigned count = 0;
  while (nb_nbns_pending(H.e, &o)) {
    check_datagram(&o);
    nb_nbns_advance(H.e);
    require(++count <= H.cfg.max_out);
  }
}

/* ---- the table and the store ------------------------------------------ */

static nb_nbns_record_t all[32];

static void check_table(void) {
  uint32_t cur = 0;
  size_t n = 0;
  const nb_nbns_counters_t *c = nb_nbns_counters(H.e);
  uint64_t sum = 0;
  for (int v = 0; v < NB_NBNS_VERDICT__COUNT; v++)
    sum += c->verdict[v];
  require(sum == c->rx_packets);
  while (n < 32 && nb_nbns_iter(H.e, &cur, &all[n])) {
    const nb_nbns_record_t *r = &all[n];
    require(r->n_members >= 1 && r->n_members <= NB_NBNS_MAX_ADDRS);
    for (size_t k = 0; k < r->n_members; k++) {
      require(((r->members[k].nb_flags & NB_NS_NB_G) != 0) == r->group);
      for (size_t j = k + 1; j < r->n_members; j++)
        require(r->members[k].ip != r->members[j].ip);
    }
    for (size_t j = 0; j < n; j++) /* no name twice */
      require(!nb_name_equal(&r->name, &all[j].name));
    n++;
  }
  require(!nb_nbns_iter(H.e, &cur, &rec));
  require(n == nb_nbns_count(H.e) && n <= H.cfg.max_names);
  require(nb_nbns_journal_len(H.e) <= H.cfg.max_journal);
}

/* After a successful flush the store holds exactly the table's dynamic
 * members (expired ones not yet swept included). */
static void check_store(void) {
  uint32_t cur = 0;
  size_t dynamic = 0;
  while (nb_nbns_iter(H.e, &cur, &rec)) {
    size_t nd = 0;
    const nb_nbns_record_t *row = nb_nbns_memdb_find(H.db, &rec.name);
    for (size_t k = 0; k < rec.n_members; k++) {
      const nb_nbns_member_t *m = &rec.members[k];
      if (m->expire_ms == NB_NBNS_NEVER && row == NULL)
        continue; /* a static member: configuration */
      require(row != NULL);
      bool found = false;
      for (size_t j = 0; j < row->n_members; j++) {
        found = found || (row->members[j].ip == m->ip &&
                          row->members[j].nb_flags == m->nb_flags &&
                          row->members[j].expire_ms == m->expire_ms);
      }
      require(found || m->expire_ms == NB_NBNS_NEVER);
      nd += found ? 1 : 0;
    }
    if (row != NULL) {
      require(row->n_members == nd && row->group == rec.group);
      dynamic++;
    }
  }
  require(dynamic == nb_nbns_memdb_count(H.db));
}

static void flush(bool fail) {
  if (fail && nb_nbns_journal_len(H.e) == 0)
    return; /* nothing to commit: the failure would hit a later flush */
  if (fail)
    nb_nbns_memdb_fail_next(H.db);
  nb_err_t err = nb_nbns_flush(H.e, &H.store, NULL);
  if (fail && nb_nbns_journal_len(H.e) > 0) {
    require(err == NB_EIO);
    return;
  }
  require(err == NB_OK);
  require(nb_nbns_journal_len(H.e) == 0);
  check_store();
}

/* ---- the engine ------------------------------------------------------- */

static void add_statics(void) {
  static const uint32_t own[2] = {SRV_IP, SRV_IP2};
  nb_name_t n;
  require(nb_name_from_text(&n, "WINSSRV<20>", 11, NULL) == NB_OK);
  (void)nb_nbns_add_static(H.e, &n, false, NB_NS_ONT_B, own, H.cfg.n_own_ips,
                           H.now);
  (void)nb_nbns_add_static(H.e, &H.names[3], true, NB_NS_ONT_B, own, 1, H.now);
}

static void start_engine(uint8_t bits) {
  require(nb_nbns_new(&H.cfg, &H.e) == NB_OK);
  require(nb_nbns_restore(H.e, &H.store, H.now, NULL) == NB_OK);
  if (bits & 32)
    add_statics();
}

static void setup(uint8_t bits, uint16_t seed) {
  memset(&H, 0, sizeof H);
  H.bits = bits;
  nb_nbns_config_init(&H.cfg);
  H.cfg.own_ips[0] = SRV_IP;
  H.cfg.own_ips[1] = SRV_IP2;
  H.cfg.n_own_ips = (bits & 16) ? 2 : 1;
  H.cfg.txid_seed = seed;
  H.cfg.max_names = (bits & 1) ? 8 : 32;
  H.cfg.max_addrs = (bits & 1) ? 12 : 0;
  H.cfg.ttl_max_s = (bits & 2) ? 21600 : 0;
  H.cfg.ttl_min_s = (bits & 2) ? 60 : 300;
  H.cfg.ttl_infinite_s = (bits & 2) ? 21600 : 518400;
  H.cfg.max_journal = (bits & 4) ? 4 : 64;
  H.cfg.max_out = (bits & 8) ? 6 : 64;
  H.cfg.max_challenges = 4;
  H.cfg.sweep_ms = 5000;
  H.now = 1000000;
  H.db = nb_nbns_memdb_new(64);
  require(H.db != NULL);
  H.store = nb_nbns_memdb_store(H.db);
  for (int i = 0; i < N_NAMES; i++)
    require(nb_name_from_text(&H.names[i], name_text[i], strlen(name_text[i]),
                              NULL) == NB_OK);
  start_engine(bits);
}

static void run_timers(void) {
  nb_nbns_on_timer(H.e, H.now);
  uint64_t dl = nb_nbns_next_deadline(H.e);
  require(dl > H.now);
}

/* ---- ops -------------------------------------------------------------- */

static void op_packet(const uint8_t *pl, size_t plen) {
  size_t len = plen > 2 ? plen - 2 : 0;
  nb_nbns_recv(H.e, len ? pl + 2 : NULL, len, ips[arg(pl, plen, 0) % 8], 137,
               (arg(pl, plen, 1) & 1) != 0, H.now);
}

static size_t build(nb_ns_kind_t kind, const nb_ns_build_args_t *a,
                    uint8_t *buf, size_t cap) {
  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, buf, cap);
  if (nb_ns_build(&w, kind, a) != NB_OK || nb_wr_finish(&w, &len) != NB_OK)
    return 0;
  return len;
}

/* A multi-homed (or other) request with `n` NB entries, by hand. */
static size_t multi(uint8_t *buf, size_t cap, uint8_t opcode,
                    const nb_name_t *name, uint16_t flags, uint8_t first,
                    size_t n, uint32_t ttl) {
  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, buf, cap);
  nb_wr_be16(&w, H.trn++);
  nb_wr_be16(&w, (uint16_t)(opcode << 11 | 0x0100));
  nb_wr_be16(&w, 1);
  nb_wr_be16(&w, 0);
  nb_wr_be16(&w, 0);
  nb_wr_be16(&w, 1);
  nb_name_encode(&w, name);
  nb_wr_be16(&w, NB_NS_TYPE_NB);
  nb_wr_be16(&w, NB_NS_CLASS_IN);
  nb_wr_be16(&w, 0xC00C);
  nb_wr_be16(&w, NB_NS_TYPE_NB);
  nb_wr_be16(&w, NB_NS_CLASS_IN);
  nb_wr_be32(&w, ttl);
  nb_wr_be16(&w, (uint16_t)(6 * n));
  for (size_t i = 0; i < n; i++) {
    nb_wr_be16(&w, flags);
    nb_wr_be32(&w, ips[(first + i) % 8]);
  }
  return nb_wr_finish(&w, &len) == NB_OK ? len : 0;
}

static void op_req(const uint8_t *pl, size_t plen) {
  static const nb_ns_kind_t kinds[] = {
      NB_NS_KIND_REGISTRATION_REQUEST, NB_NS_KIND_REFRESH_REQUEST,
      NB_NS_KIND_REFRESH_REQUEST,      NB_NS_KIND_MULTIHOMED_REQUEST,
      NB_NS_KIND_RELEASE_REQUEST,      NB_NS_KIND_QUERY_REQUEST,
      NB_NS_KIND_QUERY_REQUEST,        NB_NS_KIND_OVERWRITE_REQUEST};
  uint8_t k = arg(pl, plen, 0) % 8, addr = arg(pl, plen, 2) % 8;
  uint8_t flags = arg(pl, plen, 3), n = arg(pl, plen, 5) % 4;
  uint32_t ttl = (uint32_t)arg(pl, plen, 4) * 97u;
  const nb_name_t *name = &H.names[arg(pl, plen, 1) % N_NAMES];
  uint16_t nbf = (uint16_t)(((flags & 1) ? NB_NS_NB_G : 0) |
                            ((uint16_t)(flags >> 1 & 3) << 13));
  uint8_t buf[600];
  size_t len;
  if (k == 3 || (n > 1 && k == 0)) {
    len = multi(buf, sizeof buf,
                k == 3 ? NB_NS_OPCODE_MULTIHOMED : NB_NS_OPCODE_REGISTRATION,
                name, nbf, addr, n, ttl);
  } else {
    nb_ns_build_args_t a;
    memset(&a, 0, sizeof a);
    a.trn_id = H.trn++;
    a.name = name;
    a.ttl = ttl;
    a.nb_flags = nbf;
    a.addr = ips[addr];
    a.opcode = k == 2 ? NB_NS_OPCODE_REFRESH_ALT : 0;
    if (k == 6) { /* RD clear: to a node */
      a.raw_flags = true;
      a.flags_word = 0;
    }
    len = build(kinds[k], &a, buf, sizeof buf);
  }
  /* from the address it names, or (flag 0x80) from elsewhere */
  uint32_t src = (flags & 0x80) ? ips[(addr + 1) % 8] : ips[addr];
  if (len > 0)
    nb_nbns_recv(H.e, buf, len, src, 137, (flags & 0x40) != 0, H.now);
}

static size_t op_answer(const uint8_t *pl, size_t plen, uint32_t *listed) {
  if (!H.have_q)
    return 0;
  bool pos = (arg(pl, plen, 0) & 1) != 0;
  uint8_t flags = arg(pl, plen, 1);
  nb_ns_build_args_t a;
  nb_ns_nb_entry_t ent[4];
  size_t n = plen > 2 ? (plen - 2 > 4 ? 4 : plen - 2) : 0;
  memset(&a, 0, sizeof a);
  a.trn_id = H.q_trn;
  a.name = &H.q_name;
  a.ttl = 600;
  for (size_t i = 0; i < n; i++) {
    ent[i].nb_flags = NB_NS_ONT_H;
    ent[i].addr = ips[pl[2 + i] % 8];
    listed[i] = ent[i].addr;
  }
  if (n == 0) {
    ent[0].nb_flags = NB_NS_ONT_H;
    ent[0].addr = H.q_dst;
    listed[0] = H.q_dst;
    n = 1;
  }
  a.entries = ent;
  a.n_entries = n;
  a.rcode = NB_NS_RCODE_NAM_ERR;
  uint8_t buf[600];
  size_t len =
      build(pos ? NB_NS_KIND_POS_QUERY_RESPONSE : NB_NS_KIND_NEG_QUERY_RESPONSE,
            &a, buf, sizeof buf);
  uint32_t src = (flags & 1) ? ips[(flags >> 1) % 8] : H.q_dst;
  if (len > 0)
    nb_nbns_recv(H.e, buf, len, src, 137, false, H.now);
  return pos ? n : 0;
}

static void op_restart(void) {
  nb_nbns_free(H.e);
  H.have_q = false;
  start_engine(H.bits);
  /* the engine holds exactly the store's unexpired members */
  for (int i = 0; i < N_NAMES; i++) {
    const nb_nbns_record_t *row = nb_nbns_memdb_find(H.db, &H.names[i]);
    size_t live = 0;
    for (size_t k = 0; row != NULL && k < row->n_members; k++)
      live += row->members[k].expire_ms > H.now ? 1 : 0;
    size_t statics = 0;
    if (nb_nbns_lookup(H.e, &H.names[i], H.now, &rec) == NB_OK) {
      for (size_t k = 0; k < rec.n_members; k++)
        statics += rec.members[k].expire_ms == NB_NBNS_NEVER ? 1 : 0;
      require(rec.n_members - statics == live);
    } else {
      require(live == 0);
    }
  }
}

static void op_admin(const uint8_t *pl, size_t plen) {
  const nb_name_t *name = &H.names[arg(pl, plen, 1) % N_NAMES];
  if (arg(pl, plen, 0) & 1) {
    (void)nb_nbns_delete(H.e, name, H.now);
    return;
  }
  memset(&rec, 0, sizeof rec);
  rec.name = *name;
  rec.group = (arg(pl, plen, 0) & 2) != 0;
  rec.n_members = 1;
  rec.members[0].ip = ips[arg(pl, plen, 2) % 8];
  rec.members[0].nb_flags = rec.group ? NB_NS_NB_G : 0;
  rec.members[0].expire_ms = H.now + 60000;
  (void)nb_nbns_put(H.e, &rec, H.now);
}

static void step(uint8_t op, const uint8_t *pl, size_t plen) {
  uint32_t listed[4];
  size_t n_listed = 0;
  step_kind_t kind = STEP_OUTCOME;
  take(H.before);
  switch (op % 9) {
  case 0: /* a raw datagram may be a request or an answer */
    op_packet(pl, plen);
    kind = STEP_REQUEST;
    if (plen > 4 && (pl[4] & 0x80) != 0)
      kind = STEP_OUTCOME; /* a response: perhaps a challenge answer, whose
                              addresses the rule cannot know: only the
                              structural checks apply */
    if (kind == STEP_OUTCOME)
      return (void)(drain(), check_table());
    break;
  case 1:
    H.now += (uint64_t)arg(pl, plen, 0) | (uint64_t)arg(pl, plen, 1) << 8 |
             (uint64_t)arg(pl, plen, 2) << 16;
    run_timers();
    break;
  case 2: {
    uint64_t dl = nb_nbns_next_deadline(H.e);
    if (dl != NB_NBNS_NEVER && dl > H.now)
      H.now = dl;
    run_timers();
    break;
  }
  case 3:
    op_req(pl, plen);
    kind = STEP_REQUEST;
    break;
  case 4:
    n_listed = op_answer(pl, plen, listed);
    kind = n_listed > 0 ? STEP_DEFENDED : STEP_OUTCOME;
    break;
  case 5:
    flush(false);
    break;
  case 6:
    flush(true);
    break;
  case 7:
    op_restart();
    kind = STEP_ADMIN;
    break;
  default:
    op_admin(pl, plen);
    kind = STEP_ADMIN;
    break;
  }
  drain();
  check_table();
  check_owners(kind, listed, n_listed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4)
    return 0;
  setup(data[0], (uint16_t)(data[1] | data[2] << 8));
  size_t i = 4;
  unsigned steps = 0;
  while (i + 2 <= size && steps++ < 400) {
    uint8_t op = data[i], len = data[i + 1];
    size_t plen = size - i - 2 < len ? size - i - 2 : len;
    step(op, data + i + 2, plen);
    i += 2 + plen;
  }
  /* in the end everything can be made durable and survives a restart */
  flush(false);
  op_restart();
  check_table();
  nb_nbns_free(H.e);
  nb_nbns_memdb_free(H.db);
  return 0;
}
