/* SPDX-License-Identifier: BSD-2-Clause */
/* The name-service node engine (include/nb/nsnode.h) on a virtual clock.
 *
 * Every exchange is scripted: packets from "the network" are built with the
 * ns.h builders and fed to nb_nsnode_recv(); every datagram the engine
 * queues is parsed back with nb_ns_parse() and checked (kind, flags,
 * destination, fields), and every request is checked for AA = 0 and every
 * datagram for <= 576 bytes. Time only moves when a test moves it, so the
 * RFC 1002 6 timers are checked to the millisecond. */
#include <string.h>

#include "testutil.h"

#include "nb/ns.h"
#include "nb/nsnode.h"

#define IP(a, b, c, d)                                                         \
  ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 |            \
   (uint32_t)(d))

static const uint32_t ME = IP(192, 0, 2, 10);
static const uint32_t MASK = IP(255, 255, 255, 0);
static const uint32_t BCAST = IP(192, 0, 2, 255);
static const uint32_t PEER = IP(192, 0, 2, 20);
static const uint32_t PEER2 = IP(192, 0, 2, 30);
static const uint32_t NBNS = IP(198, 51, 100, 1);
static const uint32_t NBNS2 = IP(198, 51, 100, 2);
static const uint32_t FAR = IP(203, 0, 113, 5);
static const uint16_t CPORT = 50137; /* a client's ephemeral port */
#define NEVER UINT64_MAX

/* ---- fixtures --------------------------------------------------------------
 */

static nb_nsnode_config_t cfg_of(nb_nsnode_type_t type) {
  nb_nsnode_config_t c;
  nb_nsnode_config_init(&c);
  c.node_type = type;
  c.ifaces[0].ip = ME;
  c.ifaces[0].netmask = MASK;
  c.n_ifaces = 1;
  c.txid_seed = 0x1234;
  const uint8_t mac[6] = {0x00, 0x0c, 0x29, 0x0d, 0x06, 0x56};
  memcpy(c.unit_id, mac, sizeof mac);
  if (type != NB_NSNODE_TYPE_B) {
    c.nbns[0] = NBNS;
    c.n_nbns = 1;
  }
  return c;
}

static nb_nsnode_t *mk_cfg(const nb_nsnode_config_t *c) {
  nb_nsnode_t *n = NULL;
  assert_int_equal(nb_nsnode_new(c, &n), NB_OK);
  assert_non_null(n);
  return n;
}

static nb_nsnode_t *mk(nb_nsnode_type_t type) {
  nb_nsnode_config_t c = cfg_of(type);
  return mk_cfg(&c);
}

static nb_name_t nm(const char *text) {
  nb_name_t n;
  assert_int_equal(nb_name_from_text(&n, text, strlen(text), NULL), NB_OK);
  return n;
}

/* One datagram the engine sent, parsed (the model borrows `buf`). */
typedef struct pkt {
  uint8_t buf[1024];
  size_t len;
  nb_nsnode_out_t out;
  nb_ns_msg_t m;
} pkt_t;

static pkt_t P; /* scratch for the tests */

static bool pop(nb_nsnode_t *n, pkt_t *p) {
  nb_nsnode_out_t o;
  if (!nb_nsnode_pending(n, &o))
    return false;
  assert_true(o.len <= NB_NSNODE_MAX_DATAGRAM_LENGTH);
  memcpy(p->buf, o.data, o.len);
  p->len = o.len;
  p->out = o;
  p->out.data = p->buf;
  assert_int_equal(nb_ns_parse(p->buf, p->len, &p->m, NULL), NB_OK);
  assert_int_equal(p->m.kind, nb_ns_classify(&p->m));
  if (!p->m.hdr.response) /* RFC 1002 4.2.1.1: AA is 0 in requests */
    assert_int_equal(p->m.hdr.nm_flags & NB_NS_FLAG_AA, 0);
  else
    assert_int_equal(p->m.hdr.nm_flags & NB_NS_FLAG_B, 0);
  nb_nsnode_advance(n);
  return true;
}

static void pop_kind(nb_nsnode_t *n, nb_ns_kind_t kind) {
  assert_true(pop(n, &P));
  assert_string_equal(nb_ns_kind_name(P.m.kind), nb_ns_kind_name(kind));
}

static void no_out(nb_nsnode_t *n) {
  nb_nsnode_out_t o;
  assert_false(nb_nsnode_pending(n, &o));
}

static size_t drain(nb_nsnode_t *n) {
  size_t count = 0;
  while (pop(n, &P))
    count++;
  return count;
}

static nb_nsnode_event_t EV;

static void ev_kind(nb_nsnode_t *n, nb_nsnode_ev_type_t type) {
  assert_true(nb_nsnode_next_event(n, &EV));
  assert_int_equal(EV.type, type);
}

static void no_ev(nb_nsnode_t *n) {
  nb_nsnode_event_t ev;
  assert_false(nb_nsnode_next_event(n, &ev));
}

static size_t build(nb_ns_kind_t kind, const nb_ns_build_args_t *a,
                    uint8_t *buf, size_t cap) {
  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, buf, cap);
  assert_int_equal(nb_ns_build(&w, kind, a), NB_OK);
  assert_int_equal(nb_wr_finish(&w, &len), NB_OK);
  return len;
}

static nb_nsnode_drop_t feed(nb_nsnode_t *n, nb_ns_kind_t kind,
                             const nb_ns_build_args_t *a, uint32_t src,
                             uint16_t port, bool bcast, uint64_t now) {
  uint8_t buf[1024];
  size_t len = build(kind, a, buf, sizeof buf);
  return nb_nsnode_recv(n, buf, len, src, port, bcast, now);
}

static nb_ns_build_args_t args(uint16_t trn, const nb_name_t *name) {
  nb_ns_build_args_t a;
  memset(&a, 0, sizeof a);
  a.trn_id = trn;
  a.name = name;
  return a;
}

/* Fields of the single NB entry of record `i`. */
static nb_ns_nb_entry_t entry(const nb_ns_msg_t *m, size_t rr, size_t i) {
  nb_ns_nb_entry_t e;
  assert_int_equal(nb_ns_nb_entry(&m->rr[rr], i, &e), NB_OK);
  return e;
}

static void at(nb_nsnode_t *n, uint64_t now) { nb_nsnode_on_timer(n, now); }

/* Claim `name` as a B node from t0: three broadcasts 250 ms apart, the
 * claim at t0 + 750 with its overwrite demand. */
static void claim_b(nb_nsnode_t *n, const nb_name_t *name, unsigned flags,
                    uint64_t t0) {
  assert_int_equal(nb_nsnode_add_name(n, name, flags, t0), NB_OK);
  for (int i = 0; i < 3; i++) {
    at(n, t0 + 250u * (unsigned)i);
    pop_kind(n, NB_NS_KIND_REGISTRATION_REQUEST);
    no_out(n);
  }
  at(n, t0 + 750);
  ev_kind(n, NB_NSNODE_EV_NAME_ADDED);
  drain(n); /* the overwrite demand */
}

/* ---- configuration and memory
 * -------------------------------------------------
 */

static void test_config(void **state) {
  (void)state;
  nb_nsnode_config_t c;
  nb_nsnode_config_init(&c);
  assert_int_equal(c.bcast_retry_ms, 250);
  assert_int_equal(c.bcast_retry_count, 3);
  assert_int_equal(c.ucast_retry_ms, 5000);
  assert_int_equal(c.ucast_retry_count, 3);
  assert_int_equal(c.conflict_timer_ms, 1000);
  nb_diag_t d = {NB_OK, 0, NULL};
  assert_int_equal(nb_nsnode_config_check(&c, &d), NB_EINVAL); /* no iface */
  assert_string_equal(d.field, "n_ifaces");
  assert_int_equal(nb_nsnode_size(&c), 0);
  c = cfg_of(NB_NSNODE_TYPE_P);
  c.n_nbns = 0;
  assert_int_equal(nb_nsnode_config_check(&c, &d), NB_EINVAL);
  assert_string_equal(d.field, "n_nbns");
  c = cfg_of(NB_NSNODE_TYPE_B);
  c.max_out = 0;
  assert_int_equal(nb_nsnode_config_check(&c, NULL), NB_EINVAL);
  c = cfg_of(NB_NSNODE_TYPE_B);
  c.bcast_retry_ms = 0;
  assert_int_equal(nb_nsnode_config_check(&c, NULL), NB_EINVAL);
  c = cfg_of(NB_NSNODE_TYPE_B);
  strcpy(c.scope, "bad..scope");
  assert_int_equal(nb_nsnode_config_check(&c, NULL), NB_EINVAL);
  c = cfg_of(NB_NSNODE_TYPE_H); /* H without an NBNS is allowed */
  c.n_nbns = 0;
  assert_int_equal(nb_nsnode_config_check(&c, NULL), NB_OK);
}

/* Caller memory: exactly nb_nsnode_size() bytes suffice; one less does
 * not; the size grows with the caps. */
static void test_caller_memory(void **state) {
  (void)state;
  nb_nsnode_config_t c = cfg_of(NB_NSNODE_TYPE_B);
  size_t size = nb_nsnode_size(&c);
  assert_true(size > sizeof(nb_nsnode_event_t) * c.max_events);
  static max_align_t mem[600000 / sizeof(max_align_t)];
  assert_true(size <= sizeof mem);
  nb_nsnode_t *n = NULL;
  assert_int_equal(nb_nsnode_init(mem, size - 1, &c, &n), NB_ENOSPC);
  assert_int_equal(nb_nsnode_init(mem, size, &c, &n), NB_OK);
  nb_name_t a = nm("ALPHA<00>");
  claim_b(n, &a, 0, 0);
  nb_nsnode_free(n); /* a no-op for caller memory */
  c.max_names = 64;
  assert_true(nb_nsnode_size(&c) > size);
}

/* ---- B node: registration
 * -------------------------------------------------------
 */

/* RFC 1002 5.1.1.1 and 6: three broadcasts exactly BCAST_REQ_RETRY_TIMEOUT
 * apart with the same transaction ID, the claim one more timeout after the
 * third (not at once, as the seed did), then a NAME OVERWRITE DEMAND. */
static void test_b_register_timing(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_B);
  nb_name_t name = nm("XYKON-2<20>");
  assert_int_equal(nb_nsnode_next_deadline(n), NEVER);
  assert_int_equal(nb_nsnode_add_name(n, &name, 0, 1000), NB_OK);
  pop_kind(n, NB_NS_KIND_REGISTRATION_REQUEST);
  assert_int_equal(nb_ns_flags_word(&P.m.hdr), 0x2910); /* RD|B, as nmbd */
  assert_int_equal(P.out.dst_ip, BCAST);
  assert_int_equal(P.out.dst_port, 137);
  assert_true(P.out.broadcast);
  assert_int_equal(P.out.src_ip, ME);
  assert_true(nb_name_equal(&P.m.qd[0].qname.name, &name));
  const nb_ns_rr_t *ar = nb_ns_additional(&P.m, 0);
  assert_non_null(ar);
  assert_int_equal(ar->ttl, 0); /* 5.1.1.1: TTL = 0 */
  assert_int_equal(ar->rrname.form, NB_NS_NAME_POINTER);
  nb_ns_nb_entry_t e = entry(&P.m, 0, 0);
  assert_int_equal(e.nb_flags, 0x0000); /* unique, ONT = B */
  assert_int_equal(e.addr, ME);
  uint16_t trn = P.m.hdr.trn_id;
  no_out(n);
  for (unsigned i = 1; i < 3; i++) {
    assert_int_equal(nb_nsnode_next_deadline(n), 1000 + 250 * i);
    at(n, 1000 + 250 * i - 1);
    no_out(n);
    at(n, 1000 + 250 * i);
    pop_kind(n, NB_NS_KIND_REGISTRATION_REQUEST);
    assert_int_equal(P.m.hdr.trn_id, trn);
    no_out(n);
  }
  no_ev(n);
  assert_int_equal(nb_nsnode_next_deadline(n), 1750);
  at(n, 1749);
  no_out(n);
  no_ev(n);
  at(n, 1750);
  ev_kind(n, NB_NSNODE_EV_NAME_ADDED);
  assert_true(nb_name_equal(&EV.name, &name));
  assert_false(EV.group);
  pop_kind(n, NB_NS_KIND_OVERWRITE_REQUEST);            /* RFC 1001 15.2.1 */
  assert_int_equal(nb_ns_flags_word(&P.m.hdr), 0x2810); /* B only */
  assert_int_not_equal(P.m.hdr.trn_id, trn);
  no_out(n);
  assert_int_equal(nb_nsnode_next_deadline(n), NEVER); /* no refresh */
  assert_int_equal(nb_nsnode_counters(n)->retransmits, 2);
  nb_nsnode_name_info_t info;
  assert_int_equal(nb_nsnode_names(n, &info, 1), 1);
  assert_int_equal(info.state, NB_NSNODE_NAME_ACTIVE);
  nb_nsnode_free(n);
}

/* A NEGATIVE NAME REGISTRATION RESPONSE (ACT_ERR) refuses the claim; the
 * caller learns the owner's address. Also after the third try, during the
 * last timeout (the seed stopped listening there). */
static void test_b_register_refused(void **state) {
  (void)state;
  for (int late = 0; late < 2; late++) {
    nb_nsnode_t *n = mk(NB_NSNODE_TYPE_B);
    nb_name_t name = nm("NBTTEST<20>");
    assert_int_equal(nb_nsnode_add_name(n, &name, 0, 0), NB_OK);
    pop_kind(n, NB_NS_KIND_REGISTRATION_REQUEST);
    uint16_t trn = P.m.hdr.trn_id;
    uint64_t t = 10;
    if (late) {
      at(n, 250);
      at(n, 500);
      assert_int_equal(drain(n), 2);
      t = 700;
    }
    nb_ns_build_args_t a = args(trn, &name);
    a.rcode = NB_NS_RCODE_ACT_ERR;
    a.addr = PEER2; /* the owner, as the defender says */
    assert_int_equal(
        feed(n, NB_NS_KIND_NEG_REGISTRATION_RESPONSE, &a, PEER, 137, false, t),
        NB_NSNODE_DROP_NONE);
    ev_kind(n, NB_NSNODE_EV_NAME_REFUSED);
    assert_true(nb_name_equal(&EV.name, &name));
    assert_int_equal(EV.rcode, NB_NS_RCODE_ACT_ERR);
    assert_int_equal(EV.peer_ip, PEER);
    assert_int_equal(EV.owner_ip, PEER2);
    at(n, 2000);
    no_out(n); /* no more tries, no overwrite */
    no_ev(n);
    assert_int_equal(nb_nsnode_names(n, NULL, 0), 0);
    /* The same response again matches nothing now. */
    assert_int_equal(feed(n, NB_NS_KIND_NEG_REGISTRATION_RESPONSE, &a, PEER,
                          137, false, 2001),
                     NB_NSNODE_DROP_UNSOLICITED);
    nb_nsnode_free(n);
  }
}

/* RFC 1002 5.1.1.1: positive and challenge responses to a broadcast claim
 * are ignored (the seed hung); a response with another transaction ID is
 * unsolicited; the claim completes. */
static void test_b_register_ignores_positive(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_B);
  nb_name_t name = nm("ALPHA<00>");
  assert_int_equal(nb_nsnode_add_name(n, &name, 0, 0), NB_OK);
  pop_kind(n, NB_NS_KIND_REGISTRATION_REQUEST);
  nb_ns_build_args_t a = args(P.m.hdr.trn_id, &name);
  a.addr = PEER;
  assert_int_equal(
      feed(n, NB_NS_KIND_POS_REGISTRATION_RESPONSE, &a, PEER, 137, false, 5),
      NB_NSNODE_DROP_MISMATCH);
  assert_int_equal(
      feed(n, NB_NS_KIND_CHALLENGE_RESPONSE, &a, PEER, 137, false, 6),
      NB_NSNODE_DROP_MISMATCH);
  a.trn_id = (uint16_t)(a.trn_id + 1);
  a.rcode = NB_NS_RCODE_ACT_ERR;
  assert_int_equal(
      feed(n, NB_NS_KIND_NEG_REGISTRATION_RESPONSE, &a, PEER, 137, false, 7),
      NB_NSNODE_DROP_UNSOLICITED);
  /* A negative response naming another name is not about our claim. */
  nb_name_t other = nm("OTHER<00>");
  a = args(P.m.hdr.trn_id, &other);
  a.rcode = NB_NS_RCODE_ACT_ERR;
  assert_int_equal(
      feed(n, NB_NS_KIND_NEG_REGISTRATION_RESPONSE, &a, PEER, 137, false, 8),
      NB_NSNODE_DROP_MISMATCH);
  at(n, 250);
  at(n, 500);
  at(n, 750);
  ev_kind(n, NB_NSNODE_EV_NAME_ADDED);
  nb_nsnode_free(n);
}

/* A group claim sets G; add_name refuses duplicates, bad flags and `*`. */
static void test_add_name_rules(void **state) {
  (void)state;
  nb_nsnode_config_t c = cfg_of(NB_NSNODE_TYPE_B);
  c.max_names = 2;
  nb_nsnode_t *n = mk_cfg(&c);
  nb_name_t g = nm("TESTGRP<1e>");
  assert_int_equal(nb_nsnode_add_name(n, &g, NB_NSNODE_F_GROUP, 0), NB_OK);
  pop_kind(n, NB_NS_KIND_REGISTRATION_REQUEST);
  assert_int_equal(entry(&P.m, 0, 0).nb_flags, NB_NS_NB_G);
  assert_int_equal(nb_nsnode_add_name(n, &g, 0, 0), NB_ESTATE);
  nb_name_t lower = nm("testgrp<1e>"); /* names compare case-insensitively */
  assert_int_equal(nb_nsnode_add_name(n, &lower, 0, 0), NB_ESTATE);
  assert_int_equal(nb_nsnode_add_name(n, &g, 0x80, 0), NB_EINVAL);
  nb_name_t star = nm("*<00>");
  assert_int_equal(nb_nsnode_add_name(n, &star, 0, 0), NB_EINVAL);
  nb_name_t b = nm("BETA<00>");
  assert_int_equal(nb_nsnode_add_name(n, &b, 0, 0), NB_OK);
  nb_name_t c3 = nm("GAMMA<00>");
  assert_int_equal(nb_nsnode_add_name(n, &c3, 0, 0), NB_ELIMIT);
  nb_nsnode_free(n);
}

/* Two interfaces: each claim copy goes to its subnet's broadcast address
 * with that interface's address in NB_ADDRESS; queries from either subnet
 * are answered with the address on the requester's subnet. */
static void test_two_interfaces(void **state) {
  (void)state;
  nb_nsnode_config_t c = cfg_of(NB_NSNODE_TYPE_B);
  c.ifaces[1].ip = IP(10, 1, 0, 5);
  c.ifaces[1].netmask = IP(255, 255, 0, 0);
  c.n_ifaces = 2;
  nb_nsnode_t *n = mk_cfg(&c);
  nb_name_t name = nm("MULTI<00>");
  assert_int_equal(nb_nsnode_add_name(n, &name, 0, 0), NB_OK);
  pop_kind(n, NB_NS_KIND_REGISTRATION_REQUEST);
  assert_int_equal(P.out.dst_ip, BCAST);
  assert_int_equal(entry(&P.m, 0, 0).addr, ME);
  uint16_t trn = P.m.hdr.trn_id;
  pop_kind(n, NB_NS_KIND_REGISTRATION_REQUEST);
  assert_int_equal(P.out.dst_ip, IP(10, 1, 255, 255));
  assert_int_equal(P.out.src_ip, IP(10, 1, 0, 5));
  assert_int_equal(entry(&P.m, 0, 0).addr, IP(10, 1, 0, 5));
  assert_int_equal(P.m.hdr.trn_id, trn);
  at(n, 250);
  at(n, 500);
  assert_int_equal(drain(n), 4);
  at(n, 750);
  ev_kind(n, NB_NSNODE_EV_NAME_ADDED);
  assert_int_equal(drain(n), 2); /* an overwrite demand per subnet */
  nb_ns_build_args_t a = args(7, &name);
  a.broadcast = true;
  assert_int_equal(
      feed(n, NB_NS_KIND_QUERY_REQUEST, &a, IP(10, 1, 9, 9), CPORT, true, 800),
      NB_NSNODE_DROP_NONE);
  pop_kind(n, NB_NS_KIND_POS_QUERY_RESPONSE);
  assert_int_equal(entry(&P.m, 0, 0).addr, IP(10, 1, 0, 5));
  assert_int_equal(P.out.src_ip, IP(10, 1, 0, 5));
  nb_nsnode_free(n);
}

/* ---- B node: defence and answers
 * ------------------------------------------------
 */

static nb_nsnode_drop_t feed_reg(nb_nsnode_t *n, const nb_name_t *name,
                                 bool group, bool rd, uint64_t now) {
  nb_ns_build_args_t a = args(0x4242, name);
  a.broadcast = true;
  a.nb_flags = group ? NB_NS_NB_G : 0;
  a.addr = PEER;
  return feed(
      n, rd ? NB_NS_KIND_REGISTRATION_REQUEST : NB_NS_KIND_OVERWRITE_REQUEST,
      &a, PEER, 137, true, now);
}

static void expect_defence(nb_nsnode_t *n, const nb_name_t *name,
                           uint16_t flags) {
  pop_kind(n, NB_NS_KIND_NEG_REGISTRATION_RESPONSE);
  assert_int_equal(P.m.hdr.rcode, NB_NS_RCODE_ACT_ERR);
  assert_int_equal(P.m.hdr.trn_id, 0x4242);
  assert_int_equal(nb_ns_flags_word(&P.m.hdr), 0xAD86); /* as nmbd/Windows */
  assert_int_equal(P.out.dst_ip, PEER);
  assert_int_equal(P.out.dst_port, 137);
  assert_false(P.out.broadcast);
  assert_true(nb_name_equal(&P.m.rr[0].rrname.name, name));
  nb_ns_nb_entry_t e = entry(&P.m, 0, 0);
  assert_int_equal(e.nb_flags, flags);
  assert_int_equal(e.addr, ME); /* the owner: us */
  no_out(n);
}

/* RFC 1002 5.1.1.5, RFC 1001 15.2.1: a unique registration of any name we
 * hold (group names included) is refused with ACT_ERR; a group
 * registration of our unique name too; a group registration of our group
 * name goes unanswered (the seed answered it). */
static void test_b_defence(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_B);
  nb_name_t u = nm("NBTTEST<20>");
  nb_name_t g = nm("TESTGRP<00>");
  claim_b(n, &u, 0, 0);
  claim_b(n, &g, NB_NSNODE_F_GROUP, 1000);
  assert_int_equal(feed_reg(n, &u, false, true, 2000), NB_NSNODE_DROP_NONE);
  expect_defence(n, &u, 0x0000);
  assert_int_equal(feed_reg(n, &u, true, true, 2001), NB_NSNODE_DROP_NONE);
  expect_defence(n, &u, 0x0000);
  assert_int_equal(feed_reg(n, &g, false, true, 2002), NB_NSNODE_DROP_NONE);
  expect_defence(n, &g, NB_NS_NB_G);
  assert_int_equal(feed_reg(n, &g, true, true, 2003),
                   NB_NSNODE_DROP_GROUP_NOT_DEFENDED);
  no_out(n);
  /* A NAME OVERWRITE DEMAND of our name is defended the same way. */
  assert_int_equal(feed_reg(n, &u, false, false, 2004), NB_NSNODE_DROP_NONE);
  expect_defence(n, &u, 0x0000);
  /* Case-insensitive, like nmbd and Windows. */
  nb_name_t lower = nm("nbttest<20>");
  assert_int_equal(feed_reg(n, &lower, false, true, 2005), NB_NSNODE_DROP_NONE);
  pop_kind(n, NB_NS_KIND_NEG_REGISTRATION_RESPONSE);
  /* Names we do not hold: silence. */
  nb_name_t other = nm("OTHER<20>");
  assert_int_equal(feed_reg(n, &other, false, true, 2006),
                   NB_NSNODE_DROP_NOT_OURS);
  nb_name_t wrongsfx = nm("NBTTEST<00>");
  assert_int_equal(feed_reg(n, &wrongsfx, false, true, 2007),
                   NB_NSNODE_DROP_NOT_OURS);
  no_out(n);
  assert_int_equal(nb_nsnode_counters(n)->defences, 5);
  assert_int_equal(
      nb_nsnode_counters(n)->drop[NB_NSNODE_DROP_GROUP_NOT_DEFENDED], 1);
  nb_nsnode_free(n);
}

/* While our own claim is in progress the name is not ours yet: a rival's
 * registration is not defended. A registration without its NB record is
 * incomplete. */
static void test_b_no_defence_while_claiming(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_B);
  nb_name_t u = nm("RACE<20>");
  assert_int_equal(nb_nsnode_add_name(n, &u, 0, 0), NB_OK);
  drain(n);
  assert_int_equal(feed_reg(n, &u, false, true, 100), NB_NSNODE_DROP_NOT_OURS);
  no_out(n);
  /* hand-made: registration request with ARCOUNT 0 */
  uint8_t buf[128];
  nb_ns_build_args_t a = args(1, &u);
  size_t len = build(NB_NS_KIND_QUERY_REQUEST, &a, buf, sizeof buf);
  buf[2] = 0x29; /* opcode 5, RD */
  assert_int_equal(nb_nsnode_recv(n, buf, len, PEER, 137, false, 101),
                   NB_NSNODE_DROP_INCOMPLETE);
  nb_nsnode_free(n);
}

static nb_nsnode_drop_t feed_query(nb_nsnode_t *n, const nb_name_t *name,
                                   uint32_t src, bool bcast, uint64_t now) {
  nb_ns_build_args_t a = args(0x5151, name);
  a.broadcast = bcast;
  return feed(n, NB_NS_KIND_QUERY_REQUEST, &a, src, CPORT, bcast, now);
}

/* Queries for our names are answered, broadcast or unicast, to the
 * requester's address and port, AA|RD|RA, the name echoed as asked. A B
 * node never answers a broadcast or RD=1 query negatively (RD=0 unicast:
 * test_b_unicast_miss_rd0). */
static void test_b_answers_queries(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_B);
  nb_name_t u = nm("NBTTEST<20>");
  nb_name_t g = nm("TESTGRP<00>");
  claim_b(n, &u, 0, 0);
  claim_b(n, &g, NB_NSNODE_F_GROUP, 1000);
  assert_int_equal(feed_query(n, &u, PEER, true, 2000), NB_NSNODE_DROP_NONE);
  pop_kind(n, NB_NS_KIND_POS_QUERY_RESPONSE);
  assert_int_equal(nb_ns_flags_word(&P.m.hdr), 0x8580); /* 4.2.15 */
  assert_int_equal(P.m.hdr.trn_id, 0x5151);
  assert_int_equal(P.out.dst_ip, PEER);
  assert_int_equal(P.out.dst_port, CPORT);
  assert_false(P.out.broadcast);
  assert_int_equal(P.m.rr[0].ttl, 259200);
  assert_int_equal(P.m.rr[0].nb_count, 1);
  assert_int_equal(entry(&P.m, 0, 0).addr, ME);
  assert_int_equal(feed_query(n, &g, FAR, false, 2001), NB_NSNODE_DROP_NONE);
  pop_kind(n, NB_NS_KIND_POS_QUERY_RESPONSE);
  assert_int_equal(entry(&P.m, 0, 0).nb_flags, NB_NS_NB_G);
  assert_int_equal(P.out.dst_ip, FAR);
  nb_name_t lower = nm("nbttest<20>");
  assert_int_equal(feed_query(n, &lower, PEER, false, 2002),
                   NB_NSNODE_DROP_NONE);
  pop_kind(n, NB_NS_KIND_POS_QUERY_RESPONSE);
  assert_memory_equal(P.m.rr[0].rrname.name.bytes, "nbttest", 7);
  nb_name_t other = nm("NOSUCH<20>");
  assert_int_equal(feed_query(n, &other, PEER, true, 2003),
                   NB_NSNODE_DROP_NOT_OURS);
  assert_int_equal(feed_query(n, &other, PEER, false, 2004),
                   NB_NSNODE_DROP_NOT_OURS);
  /* Another scope is another name (RFC 1001 15.1.4). */
  nb_name_t scoped = nm("NBTTEST<20>.example.com");
  assert_int_equal(feed_query(n, &scoped, PEER, false, 2005),
                   NB_NSNODE_DROP_NOT_OURS);
  no_out(n);
  assert_int_equal(nb_nsnode_counters(n)->answers_positive, 3);
  nb_nsnode_free(n);
}

/* A query with the header word `flags` (R=0, opcode 0): RD and B as the
 * caller says. */
static nb_nsnode_drop_t feed_query_flags(nb_nsnode_t *n, const nb_name_t *name,
                                         uint16_t flags, bool bcast,
                                         uint64_t now) {
  nb_ns_build_args_t a = args(0x5252, name);
  a.broadcast = bcast;
  a.raw_flags = true;
  a.flags_word = flags;
  return feed(n, NB_NS_KIND_QUERY_REQUEST, &a, PEER, CPORT, bcast, now);
}

/* A B node asked directly (unicast, RD=0: nmblookup -U without -R) about a
 * name it does not hold says so with NAM_ERR, as nmbd does (0x8583, the
 * NULL record of RFC 1002 4.2.14), so the asker need not wait out its
 * retries; a name of another scope is another name. Asked as if it were an
 * NBNS (RD=1), or by broadcast, it stays silent (5.1.1.5, 5.1.3.5). */
static void test_b_unicast_miss_rd0(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_B);
  nb_name_t u = nm("NBTTEST<20>");
  claim_b(n, &u, 0, 0);
  nb_name_t other = nm("NOSUCH<20>");
  assert_int_equal(feed_query_flags(n, &other, 0x0000, false, 1000),
                   NB_NSNODE_DROP_NONE);
  pop_kind(n, NB_NS_KIND_NEG_QUERY_RESPONSE);
  assert_int_equal(nb_ns_flags_word(&P.m.hdr), 0x8583);
  assert_int_equal(P.m.hdr.trn_id, 0x5252);
  assert_int_equal(P.m.rr[0].rrtype, NB_NS_TYPE_NULL);
  assert_true(nb_name_equal(&P.m.rr[0].rrname.name, &other));
  assert_int_equal(P.out.dst_ip, PEER);
  assert_int_equal(P.out.dst_port, CPORT);
  nb_name_t scoped = nm("NBTTEST<20>.other.scope");
  assert_int_equal(feed_query_flags(n, &scoped, 0x0000, false, 1001),
                   NB_NSNODE_DROP_NONE);
  pop_kind(n, NB_NS_KIND_NEG_QUERY_RESPONSE);
  assert_int_equal(P.m.hdr.rcode, NB_NS_RCODE_NAM_ERR);
  /* RD=1 unicast, and broadcasts with or without RD: silence. */
  assert_int_equal(feed_query_flags(n, &other, 0x0100, false, 1002),
                   NB_NSNODE_DROP_NOT_OURS);
  assert_int_equal(feed_query_flags(n, &other, 0x0010, true, 1003),
                   NB_NSNODE_DROP_NOT_OURS);
  assert_int_equal(feed_query_flags(n, &other, 0x0110, true, 1004),
                   NB_NSNODE_DROP_NOT_OURS);
  no_out(n);
  /* Our own name with RD=0 is answered positively as ever. */
  assert_int_equal(feed_query_flags(n, &u, 0x0000, false, 1005),
                   NB_NSNODE_DROP_NONE);
  pop_kind(n, NB_NS_KIND_POS_QUERY_RESPONSE);
  assert_int_equal(nb_nsnode_counters(n)->answers_negative, 2);
  nb_nsnode_free(n);
}

/* RFC 1002 5.1.2.5, 5.1.3.5: P, M and H nodes answer a unicast query for
 * a name they do not hold with NAM_ERR, never a broadcast one; a P node
 * ignores broadcasts altogether. */
static void test_negative_answers(void **state) {
  (void)state;
  const nb_nsnode_type_t types[] = {NB_NSNODE_TYPE_P, NB_NSNODE_TYPE_M,
                                    NB_NSNODE_TYPE_H};
  for (size_t i = 0; i < 3; i++) {
    nb_nsnode_t *n = mk(types[i]);
    nb_name_t other = nm("NOSUCH<20>");
    assert_int_equal(feed_query(n, &other, PEER, false, 0),
                     NB_NSNODE_DROP_NONE);
    pop_kind(n, NB_NS_KIND_NEG_QUERY_RESPONSE);
    assert_int_equal(P.m.hdr.rcode, NB_NS_RCODE_NAM_ERR);
    assert_int_equal(P.m.rr[0].rrtype, NB_NS_TYPE_NULL);
    assert_int_equal(P.out.dst_port, CPORT);
    nb_nsnode_drop_t want = types[i] == NB_NSNODE_TYPE_P
                                ? NB_NSNODE_DROP_BROADCAST_IGNORED
                                : NB_NSNODE_DROP_NOT_OURS;
    assert_int_equal(feed_query(n, &other, PEER, true, 1), want);
    no_out(n);
    assert_int_equal(nb_nsnode_counters(n)->answers_negative, 1);
    nb_nsnode_free(n);
  }
}

static nb_nsnode_drop_t feed_status(nb_nsnode_t *n, const nb_name_t *name,
                                    uint32_t src, uint64_t now) {
  nb_ns_build_args_t a = args(0x6161, name);
  return feed(n, NB_NS_KIND_STATUS_REQUEST, &a, src, CPORT, false, now);
}

static nb_ns_nbstat_entry_t status_entry(size_t i) {
  nb_ns_nbstat_entry_t e;
  assert_int_equal(nb_ns_nbstat_entry(&P.m.rr[0], i, &e), NB_OK);
  return e;
}

/* Node status: answered for a name we hold and for `*` (not for others,
 * as the seed did), listing our names of the question's scope with G, ONT,
 * ACT, PRM and the unit ID; AA only (0x8400). */
static void test_status_answers(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_B);
  nb_name_t u = nm("NBTTEST<20>");
  nb_name_t g = nm("TESTGRP<1e>");
  nb_name_t s = nm("SCOPED<00>.example.com");
  claim_b(n, &u, NB_NSNODE_F_PERMANENT, 0);
  claim_b(n, &g, NB_NSNODE_F_GROUP, 1000);
  claim_b(n, &s, 0, 2000);
  nb_name_t pending = nm("LATER<00>");
  assert_int_equal(nb_nsnode_add_name(n, &pending, 0, 3000), NB_OK);
  drain(n);
  assert_int_equal(feed_status(n, &u, PEER, 3001), NB_NSNODE_DROP_NONE);
  pop_kind(n, NB_NS_KIND_STATUS_RESPONSE);
  assert_int_equal(nb_ns_flags_word(&P.m.hdr), 0x8400);
  assert_int_equal(P.out.dst_ip, PEER);
  assert_int_equal(P.out.dst_port, CPORT);
  assert_int_equal(P.m.rr[0].nbstat_names, 2); /* not SCOPED, not LATER */
  nb_ns_nbstat_entry_t e0 = status_entry(0);
  assert_memory_equal(e0.name, u.bytes, 16);
  assert_int_equal(e0.name_flags, NB_NS_NAME_ACT | NB_NS_NAME_PRM);
  nb_ns_nbstat_entry_t e1 = status_entry(1);
  assert_memory_equal(e1.name, g.bytes, 16);
  assert_int_equal(e1.name_flags, NB_NS_NAME_ACT | NB_NS_NAME_G);
  nb_ns_statistics_t st;
  assert_int_equal(nb_ns_nbstat_statistics(&P.m.rr[0], &st), NB_OK);
  const uint8_t mac[6] = {0x00, 0x0c, 0x29, 0x0d, 0x06, 0x56};
  assert_memory_equal(st.unit_id, mac, 6);
  nb_name_t star;
  assert_int_equal(nb_name_make(&star, "*", 1, 0, NULL), NB_OK);
  assert_int_equal(feed_status(n, &star, PEER, 3002), NB_NSNODE_DROP_NONE);
  pop_kind(n, NB_NS_KIND_STATUS_RESPONSE);
  assert_int_equal(P.m.rr[0].nbstat_names, 2);
  nb_name_t star_scoped;
  assert_int_equal(nb_name_make(&star_scoped, "*", 1, 0, "example.com"), NB_OK);
  assert_int_equal(feed_status(n, &star_scoped, PEER, 3003),
                   NB_NSNODE_DROP_NONE);
  pop_kind(n, NB_NS_KIND_STATUS_RESPONSE);
  assert_int_equal(P.m.rr[0].nbstat_names, 1);
  assert_memory_equal(status_entry(0).name, s.bytes, 16);
  nb_name_t star_other;
  assert_int_equal(nb_name_make(&star_other, "*", 1, 0, "other.org"), NB_OK);
  assert_int_equal(feed_status(n, &star_other, PEER, 3004),
                   NB_NSNODE_DROP_NOT_OURS);
  nb_name_t other = nm("OTHER<00>");
  assert_int_equal(feed_status(n, &other, PEER, 3005), NB_NSNODE_DROP_NOT_OURS);
  assert_int_equal(feed_status(n, &pending, PEER, 3006),
                   NB_NSNODE_DROP_NOT_OURS);
  no_out(n);
  nb_nsnode_free(n);
}

/* More names than fit in 576 bytes: as many as fit, and TC set (RFC 1001
 * 15.6 step e). */
static void test_status_truncated(void **state) {
  (void)state;
  nb_nsnode_config_t c = cfg_of(NB_NSNODE_TYPE_B);
  c.max_names = 40;
  nb_nsnode_t *n = mk_cfg(&c);
  for (int i = 0; i < 30; i++) {
    char text[16];
    text[0] = 'N';
    text[1] = (char)('A' + i / 10);
    text[2] = (char)('0' + i % 10);
    strcpy(text + 3, "<00>");
    nb_name_t x = nm(text);
    assert_int_equal(nb_nsnode_add_name(n, &x, 0, 0), NB_OK);
  }
  at(n, 250);
  at(n, 500);
  at(n, 750);
  drain(n);
  nb_name_t star;
  assert_int_equal(nb_name_make(&star, "*", 1, 0, NULL), NB_OK);
  assert_int_equal(feed_status(n, &star, PEER, 800), NB_NSNODE_DROP_NONE);
  pop_kind(n, NB_NS_KIND_STATUS_RESPONSE);
  assert_true(P.len <= 576);
  assert_int_equal(P.m.rr[0].nbstat_names, (576 - 12 - 34 - 10 - 1 - 46) / 18);
  assert_int_equal(P.m.hdr.nm_flags & NB_NS_FLAG_TC, NB_NS_FLAG_TC);
  nb_nsnode_free(n);
}

/* ---- conflict, release, shutdown
 * ------------------------------------------------
 */

static nb_nsnode_drop_t feed_demand(nb_nsnode_t *n, const nb_name_t *name,
                                    uint64_t now) {
  nb_ns_build_args_t a = args(0x7171, name);
  return feed(n, NB_NS_KIND_CONFLICT_DEMAND, &a, PEER, 137, false, now);
}

/* RFC 1002 5.1.1.5, RFC 1001 15.1.3.5: a NAME CONFLICT DEMAND marks the
 * name CNF: no longer answered or defended, listed with CNF, removable
 * without a release. Group names cannot be in conflict. */
static void test_conflict_demand(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_B);
  nb_name_t u = nm("NBTTEST<20>");
  nb_name_t g = nm("TESTGRP<00>");
  claim_b(n, &u, 0, 0);
  claim_b(n, &g, NB_NSNODE_F_GROUP, 1000);
  nb_name_t other = nm("OTHER<20>");
  assert_int_equal(feed_demand(n, &other, 2000), NB_NSNODE_DROP_NOT_OURS);
  assert_int_equal(feed_demand(n, &g, 2001), NB_NSNODE_DROP_MISMATCH);
  no_ev(n);
  assert_int_equal(feed_demand(n, &u, 2002), NB_NSNODE_DROP_NONE);
  ev_kind(n, NB_NSNODE_EV_NAME_CONFLICT);
  assert_true(nb_name_equal(&EV.name, &u));
  assert_int_equal(EV.peer_ip, PEER);
  no_out(n);
  assert_int_equal(feed_query(n, &u, PEER, false, 2003),
                   NB_NSNODE_DROP_NOT_OURS);
  assert_int_equal(feed_reg(n, &u, false, true, 2004), NB_NSNODE_DROP_NOT_OURS);
  no_out(n);
  assert_int_equal(feed_status(n, &g, PEER, 2005), NB_NSNODE_DROP_NONE);
  pop_kind(n, NB_NS_KIND_STATUS_RESPONSE);
  assert_int_equal(status_entry(0).name_flags, NB_NS_NAME_ACT | NB_NS_NAME_CNF);
  nb_nsnode_name_info_t info[2];
  assert_int_equal(nb_nsnode_names(n, info, 2), 2);
  assert_int_equal(info[0].state, NB_NSNODE_NAME_CONFLICT);
  assert_int_equal(nb_nsnode_remove_name(n, &u, 2006), NB_OK);
  ev_kind(n, NB_NSNODE_EV_NAME_REMOVED);
  assert_int_equal(EV.removed, NB_NSNODE_REMOVED_USER);
  no_out(n); /* not ours to release */
  assert_int_equal(nb_nsnode_remove_name(n, &u, 2007), NB_ENOTFOUND);
  nb_nsnode_free(n);
}

/* RFC 1002 5.1.1.4: remove_name broadcasts NAME RELEASE REQUEST three
 * times, 250 ms apart, then the name is gone. While it is released (DRG)
 * it is not answered. */
static void test_b_release(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_B);
  nb_name_t u = nm("NBTTEST<20>");
  claim_b(n, &u, 0, 0);
  assert_int_equal(nb_nsnode_remove_name(n, &u, 5000), NB_OK);
  pop_kind(n, NB_NS_KIND_RELEASE_REQUEST);
  assert_int_equal(nb_ns_flags_word(&P.m.hdr), 0x3010); /* opcode 6, B */
  assert_int_equal(P.out.dst_ip, BCAST);
  assert_true(P.out.broadcast);
  assert_int_equal(entry(&P.m, 0, 0).addr, ME);
  uint16_t trn = P.m.hdr.trn_id;
  assert_int_equal(nb_nsnode_remove_name(n, &u, 5001), NB_ESTATE);
  assert_int_equal(feed_query(n, &u, PEER, false, 5002),
                   NB_NSNODE_DROP_NOT_OURS);
  for (unsigned i = 1; i < 3; i++) {
    at(n, 5000 + 250 * i - 1);
    no_out(n);
    at(n, 5000 + 250 * i);
    pop_kind(n, NB_NS_KIND_RELEASE_REQUEST);
    assert_int_equal(P.m.hdr.trn_id, trn);
  }
  no_ev(n);
  at(n, 5749);
  no_ev(n);
  at(n, 5750);
  ev_kind(n, NB_NSNODE_EV_NAME_REMOVED);
  assert_int_equal(EV.removed, NB_NSNODE_REMOVED_USER);
  no_out(n);
  assert_int_equal(nb_nsnode_names(n, NULL, 0), 0);
  assert_int_equal(nb_nsnode_next_deadline(n), NEVER);
  nb_nsnode_free(n);
}

/* shutdown: queries fail, active names are released by broadcast, names
 * still being claimed are dropped; done() once all is sent. */
static void test_shutdown(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_B);
  nb_name_t a = nm("ALPHA<00>");
  nb_name_t b = nm("BETA<00>");
  claim_b(n, &a, 0, 0);
  claim_b(n, &b, NB_NSNODE_F_GROUP, 1000);
  nb_name_t c = nm("GAMMA<00>");
  assert_int_equal(nb_nsnode_add_name(n, &c, 0, 2000), NB_OK);
  uint32_t h = 0;
  nb_name_t far = nm("FARAWAY<20>");
  assert_int_equal(nb_nsnode_find(n, &far, NULL, 2000, &h), NB_OK);
  drain(n);
  assert_false(nb_nsnode_done(n));
  nb_nsnode_shutdown(n, 2100);
  ev_kind(n, NB_NSNODE_EV_QUERY_RESULT);
  assert_int_equal(EV.handle, h);
  assert_int_equal(EV.result, NB_NSNODE_FAILED);
  ev_kind(n, NB_NSNODE_EV_NAME_REMOVED); /* GAMMA, never claimed */
  assert_true(nb_name_equal(&EV.name, &c));
  assert_int_equal(EV.removed, NB_NSNODE_REMOVED_SHUTDOWN);
  no_ev(n);
  pop_kind(n, NB_NS_KIND_RELEASE_REQUEST);
  assert_true(nb_name_equal(&P.m.qd[0].qname.name, &a));
  pop_kind(n, NB_NS_KIND_RELEASE_REQUEST);
  assert_true(nb_name_equal(&P.m.qd[0].qname.name, &b));
  assert_int_equal(entry(&P.m, 0, 0).nb_flags, NB_NS_NB_G);
  no_out(n);
  assert_int_equal(nb_nsnode_add_name(n, &c, 0, 2101), NB_ESTATE);
  assert_int_equal(nb_nsnode_find(n, &far, NULL, 2101, &h), NB_ESTATE);
  assert_int_equal(feed_query(n, &a, PEER, false, 2102),
                   NB_NSNODE_DROP_SHUT_DOWN);
  at(n, 2350);
  at(n, 2600);
  assert_int_equal(drain(n), 4);
  assert_false(nb_nsnode_done(n));
  at(n, 2850);
  ev_kind(n, NB_NSNODE_EV_NAME_REMOVED);
  ev_kind(n, NB_NSNODE_EV_NAME_REMOVED);
  assert_true(nb_nsnode_done(n));
  nb_nsnode_free(n);
}

/* ---- queries as a client
 * ---------------------------------------------------------
 */

static nb_nsnode_drop_t answer(nb_nsnode_t *n, uint16_t trn,
                               const nb_name_t *name, uint32_t from,
                               uint32_t addr, bool group, uint32_t ttl,
                               uint64_t now) {
  nb_ns_build_args_t a = args(trn, name);
  a.ttl = ttl;
  a.nb_flags = group ? NB_NS_NB_G : 0;
  a.addr = addr;
  return feed(n, NB_NS_KIND_POS_QUERY_RESPONSE, &a, from, 137, false, now);
}

/* RFC 1002 5.1.1.3: a B node broadcasts NAME QUERY REQUEST (RD|B) three
 * times 250 ms apart; no answer -> TIMEOUT one timeout after the third. */
static void test_b_find_timeout(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_B);
  nb_name_t x = nm("NOBODY<20>");
  uint32_t h = 0;
  assert_int_equal(nb_nsnode_find(n, &x, NULL, 100, &h), NB_OK);
  assert_int_not_equal(h, 0);
  pop_kind(n, NB_NS_KIND_QUERY_REQUEST);
  assert_int_equal(nb_ns_flags_word(&P.m.hdr), 0x0110);
  assert_int_equal(P.out.dst_ip, BCAST);
  uint16_t trn = P.m.hdr.trn_id;
  at(n, 349);
  no_out(n);
  at(n, 350);
  pop_kind(n, NB_NS_KIND_QUERY_REQUEST);
  assert_int_equal(P.m.hdr.trn_id, trn);
  at(n, 600);
  pop_kind(n, NB_NS_KIND_QUERY_REQUEST);
  at(n, 849);
  no_ev(n);
  at(n, 850);
  ev_kind(n, NB_NSNODE_EV_QUERY_RESULT);
  assert_int_equal(EV.handle, h);
  assert_int_equal(EV.result, NB_NSNODE_TIMEOUT);
  assert_int_equal(EV.n_addrs, 0);
  no_out(n);
  assert_int_equal(nb_nsnode_next_deadline(n), NEVER);
  nb_nsnode_free(n);
}

/* The first answer is reported at once and cached for its TTL; the cache
 * answers without the network until the TTL runs out. */
static void test_b_find_and_cache(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_B);
  nb_name_t x = nm("VMWINXP<20>");
  uint32_t h = 0;
  assert_int_equal(nb_nsnode_find(n, &x, NULL, 0, &h), NB_OK);
  pop_kind(n, NB_NS_KIND_QUERY_REQUEST);
  uint16_t trn = P.m.hdr.trn_id;
  /* a wrong name with the right ID is not an answer */
  nb_name_t y = nm("OTHER<20>");
  assert_int_equal(answer(n, trn, &y, PEER, PEER, false, 60, 10),
                   NB_NSNODE_DROP_MISMATCH);
  assert_int_equal(answer(n, trn, &x, PEER, PEER, false, 60, 20),
                   NB_NSNODE_DROP_NONE);
  ev_kind(n, NB_NSNODE_EV_QUERY_RESULT);
  assert_int_equal(EV.handle, h);
  assert_int_equal(EV.result, NB_NSNODE_FOUND);
  assert_int_equal(EV.n_addrs, 1);
  assert_int_equal(EV.addrs[0], PEER);
  assert_int_equal(EV.peer_ip, PEER);
  assert_int_equal(EV.ttl_s, 60);
  assert_false(EV.from_cache);
  at(n, 250);
  no_out(n); /* no more retries once answered */
  /* from the cache */
  uint32_t h2 = 0;
  assert_int_equal(nb_nsnode_find(n, &x, NULL, 30000, &h2), NB_OK);
  assert_int_not_equal(h2, h);
  no_out(n);
  ev_kind(n, NB_NSNODE_EV_QUERY_RESULT);
  assert_int_equal(EV.handle, h2);
  assert_true(EV.from_cache);
  assert_int_equal(EV.addrs[0], PEER);
  assert_int_equal(EV.ttl_s, 30);
  /* ... but not when asked not to */
  nb_nsnode_query_opts_t o = {NB_NSNODE_VIA_DEFAULT, NB_NSNODE_Q_NO_CACHE, 0, 0,
                              0};
  assert_int_equal(nb_nsnode_find(n, &x, &o, 30001, &h2), NB_OK);
  pop_kind(n, NB_NS_KIND_QUERY_REQUEST);
  assert_int_equal(nb_nsnode_cancel(n, h2), NB_OK);
  assert_int_equal(nb_nsnode_cancel(n, h2), NB_ENOTFOUND);
  at(n, 40000);
  no_out(n);
  no_ev(n);
  /* TTL over: the network again */
  assert_int_equal(nb_nsnode_find(n, &x, NULL, 60020, &h2), NB_OK);
  pop_kind(n, NB_NS_KIND_QUERY_REQUEST);
  no_ev(n);
  nb_nsnode_free(n);
}

/* RFC 1001 15.1.3.5: a second, different answer for a unique name within
 * CONFLICT_TIMER is a conflict: reported, the cache entry dropped, and a
 * NAME CONFLICT DEMAND sent to the second responder only. Duplicates are
 * not conflicts; after the timer, answers are ignored. */
static void test_b_find_conflict(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_B);
  nb_name_t x = nm("DUP<20>");
  uint32_t h = 0;
  assert_int_equal(nb_nsnode_find(n, &x, NULL, 0, &h), NB_OK);
  pop_kind(n, NB_NS_KIND_QUERY_REQUEST);
  uint16_t trn = P.m.hdr.trn_id;
  assert_int_equal(answer(n, trn, &x, PEER, PEER, false, 300, 10),
                   NB_NSNODE_DROP_NONE);
  ev_kind(n, NB_NSNODE_EV_QUERY_RESULT);
  assert_int_equal(answer(n, trn, &x, PEER, PEER, false, 300, 20),
                   NB_NSNODE_DROP_NONE); /* duplicate */
  no_ev(n);
  no_out(n);
  assert_int_equal(answer(n, trn, &x, PEER2, PEER2, false, 300, 500),
                   NB_NSNODE_DROP_NONE);
  ev_kind(n, NB_NSNODE_EV_QUERY_CONFLICT);
  assert_int_equal(EV.handle, h);
  assert_int_equal(EV.addrs[0], PEER);
  assert_int_equal(EV.peer_ip, PEER2);
  pop_kind(n, NB_NS_KIND_CONFLICT_DEMAND);
  assert_int_equal(P.m.hdr.rcode, NB_NS_RCODE_CFT_ERR);
  assert_int_equal(P.out.dst_ip, PEER2);
  assert_int_equal(P.out.dst_port, 137);
  assert_true(nb_name_equal(&P.m.rr[0].rrname.name, &x));
  no_out(n);
  /* the same offender again: no second demand */
  assert_int_equal(answer(n, trn, &x, PEER2, PEER2, false, 300, 600),
                   NB_NSNODE_DROP_NONE);
  ev_kind(n, NB_NSNODE_EV_QUERY_CONFLICT);
  no_out(n);
  /* the cache was flushed */
  uint32_t h2 = 0;
  assert_int_equal(nb_nsnode_find(n, &x, NULL, 700, &h2), NB_OK);
  pop_kind(n, NB_NS_KIND_QUERY_REQUEST);
  nb_nsnode_cancel(n, h2);
  /* CONFLICT_TIMER (1 s after the first answer) ends the watch */
  at(n, 1009);
  assert_int_equal(nb_nsnode_next_deadline(n), 1010);
  at(n, 1010);
  assert_int_equal(nb_nsnode_next_deadline(n), NEVER);
  assert_int_equal(answer(n, trn, &x, IP(192, 0, 2, 40), IP(192, 0, 2, 40),
                          false, 300, 1011),
                   NB_NSNODE_DROP_UNSOLICITED);
  no_ev(n);
  nb_nsnode_free(n);
}

/* Group answers from several members are consistent; with Q_COLLECT every
 * member's address is reported at the end of the schedule. A NAM_ERR to a
 * broadcast query is ignored (RFC 1002 5.1.1.3). */
static void test_b_find_group_collect(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_B);
  nb_name_t x = nm("WORKGRP<1e>");
  nb_nsnode_query_opts_t o = {NB_NSNODE_VIA_BCAST, NB_NSNODE_Q_COLLECT, 0, 0,
                              0};
  uint32_t h = 0;
  assert_int_equal(nb_nsnode_find(n, &x, &o, 0, &h), NB_OK);
  pop_kind(n, NB_NS_KIND_QUERY_REQUEST);
  uint16_t trn = P.m.hdr.trn_id;
  assert_int_equal(answer(n, trn, &x, PEER, PEER, true, 300, 10),
                   NB_NSNODE_DROP_NONE);
  assert_int_equal(answer(n, trn, &x, PEER2, PEER2, true, 300, 20),
                   NB_NSNODE_DROP_NONE);
  nb_ns_build_args_t a = args(trn, &x);
  a.rcode = NB_NS_RCODE_NAM_ERR;
  assert_int_equal(
      feed(n, NB_NS_KIND_NEG_QUERY_RESPONSE, &a, FAR, 137, false, 30),
      NB_NSNODE_DROP_MISMATCH);
  no_ev(n);
  at(n, 250);
  pop_kind(n, NB_NS_KIND_QUERY_REQUEST); /* collecting: keeps asking */
  assert_int_equal(answer(n, trn, &x, PEER, PEER, true, 300, 260),
                   NB_NSNODE_DROP_NONE);
  at(n, 500);
  pop_kind(n, NB_NS_KIND_QUERY_REQUEST);
  at(n, 750);
  ev_kind(n, NB_NSNODE_EV_QUERY_RESULT);
  assert_int_equal(EV.result, NB_NSNODE_FOUND);
  assert_true(EV.group);
  assert_int_equal(EV.n_addrs, 2);
  assert_int_equal(EV.addrs[0], PEER);
  assert_int_equal(EV.addrs[1], PEER2);
  no_ev(n);
  nb_nsnode_free(n);
}

/* opts.timeout_ms ends a request early. */
static void test_find_timeout_option(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_P);
  nb_name_t x = nm("SLOW<20>");
  nb_nsnode_query_opts_t o = {NB_NSNODE_VIA_DEFAULT, 0, 0, 0, 1200};
  uint32_t h = 0;
  assert_int_equal(nb_nsnode_find(n, &x, &o, 0, &h), NB_OK);
  pop_kind(n, NB_NS_KIND_QUERY_REQUEST);
  assert_int_equal(nb_nsnode_next_deadline(n), 1200);
  at(n, 1200);
  ev_kind(n, NB_NSNODE_EV_QUERY_RESULT);
  assert_int_equal(EV.result, NB_NSNODE_TIMEOUT);
  assert_int_equal(nb_nsnode_next_deadline(n), NEVER);
  nb_nsnode_free(n);
}

/* ---- P node
 * -----------------------------------------------------------------------
 */

/* RFC 1002 5.1.2.3: unicast to the NBNS (RD, no B), UCAST_REQ_RETRY_TIMEOUT
 * 5 s, three tries, then the next NBNS, then TIMEOUT. */
static void test_p_find_retries_servers(void **state) {
  (void)state;
  nb_nsnode_config_t c = cfg_of(NB_NSNODE_TYPE_P);
  c.nbns[1] = NBNS2;
  c.n_nbns = 2;
  nb_nsnode_t *n = mk_cfg(&c);
  nb_name_t x = nm("FILESRV<20>");
  uint32_t h = 0;
  assert_int_equal(nb_nsnode_find(n, &x, NULL, 0, &h), NB_OK);
  pop_kind(n, NB_NS_KIND_QUERY_REQUEST);
  assert_int_equal(nb_ns_flags_word(&P.m.hdr), 0x0100);
  assert_int_equal(P.out.dst_ip, NBNS);
  assert_false(P.out.broadcast);
  for (unsigned i = 1; i < 3; i++) {
    at(n, 5000 * i - 1);
    no_out(n);
    at(n, 5000 * i);
    pop_kind(n, NB_NS_KIND_QUERY_REQUEST);
    assert_int_equal(P.out.dst_ip, NBNS);
  }
  at(n, 15000);
  pop_kind(n, NB_NS_KIND_QUERY_REQUEST);
  assert_int_equal(P.out.dst_ip, NBNS2);
  uint16_t trn = P.m.hdr.trn_id;
  /* an answer from the first server now comes from the wrong source */
  assert_int_equal(answer(n, trn, &x, NBNS, PEER, false, 60, 15001),
                   NB_NSNODE_DROP_WRONG_SOURCE);
  at(n, 20000);
  at(n, 25000);
  assert_int_equal(drain(n), 2);
  at(n, 30000);
  ev_kind(n, NB_NSNODE_EV_QUERY_RESULT);
  assert_int_equal(EV.result, NB_NSNODE_TIMEOUT);
  nb_nsnode_free(n);
}

/* A WACK stretches the wait to its TTL (RFC 1002 5.1.2.3); a negative
 * answer is NOT_FOUND and, when configured, remembered; several addresses
 * of a group come back together. */
static void test_p_find_wack_negative(void **state) {
  (void)state;
  nb_nsnode_config_t c = cfg_of(NB_NSNODE_TYPE_P);
  c.neg_cache_ms = 10000;
  nb_nsnode_t *n = mk_cfg(&c);
  nb_name_t x = nm("GONE<20>");
  uint32_t h = 0;
  assert_int_equal(nb_nsnode_find(n, &x, NULL, 0, &h), NB_OK);
  pop_kind(n, NB_NS_KIND_QUERY_REQUEST);
  uint16_t trn = P.m.hdr.trn_id;
  nb_ns_build_args_t a = args(trn, &x);
  a.ttl = 12;
  a.wack_request_flags = 0x0100;
  assert_int_equal(feed(n, NB_NS_KIND_WACK, &a, NBNS, 137, false, 1000),
                   NB_NSNODE_DROP_NONE);
  assert_int_equal(nb_nsnode_next_deadline(n), 13000);
  at(n, 12999);
  no_out(n);
  at(n, 13000);
  pop_kind(n, NB_NS_KIND_QUERY_REQUEST);
  assert_int_equal(P.m.hdr.trn_id, trn);
  /* a WACK never shortens the wait below UCAST_REQ_RETRY_TIMEOUT */
  a.ttl = 1;
  assert_int_equal(feed(n, NB_NS_KIND_WACK, &a, NBNS, 137, false, 13000),
                   NB_NSNODE_DROP_NONE);
  assert_int_equal(nb_nsnode_next_deadline(n), 18000);
  /* and a WACK from elsewhere is not the NBNS's */
  assert_int_equal(feed(n, NB_NS_KIND_WACK, &a, PEER, 137, false, 13000),
                   NB_NSNODE_DROP_WRONG_SOURCE);
  a = args(trn, &x);
  a.rcode = NB_NS_RCODE_NAM_ERR;
  assert_int_equal(
      feed(n, NB_NS_KIND_NEG_QUERY_RESPONSE, &a, NBNS, 137, false, 13001),
      NB_NSNODE_DROP_NONE);
  ev_kind(n, NB_NSNODE_EV_QUERY_RESULT);
  assert_int_equal(EV.result, NB_NSNODE_NOT_FOUND);
  assert_int_equal(nb_nsnode_find(n, &x, NULL, 14000, &h), NB_OK);
  no_out(n);
  ev_kind(n, NB_NSNODE_EV_QUERY_RESULT);
  assert_int_equal(EV.result, NB_NSNODE_NOT_FOUND);
  assert_true(EV.from_cache);
  assert_int_equal(nb_nsnode_find(n, &x, NULL, 23002, &h), NB_OK);
  pop_kind(n, NB_NS_KIND_QUERY_REQUEST); /* forgotten after 10 s */
  nb_ns_nb_entry_t members[3] = {
      {NB_NS_NB_G, PEER}, {NB_NS_NB_G, PEER2}, {NB_NS_NB_G, FAR}};
  a = args(P.m.hdr.trn_id, &x);
  a.entries = members;
  a.n_entries = 3;
  a.ttl = 100;
  assert_int_equal(
      feed(n, NB_NS_KIND_POS_QUERY_RESPONSE, &a, NBNS, 137, false, 23003),
      NB_NSNODE_DROP_NONE);
  ev_kind(n, NB_NSNODE_EV_QUERY_RESULT);
  assert_int_equal(EV.result, NB_NSNODE_FOUND);
  assert_int_equal(EV.n_addrs, 3);
  assert_int_equal(EV.addrs[2], FAR);
  assert_true(EV.group);
  nb_nsnode_free(n);
}

/* RFC 1002 4.2.15, 5.1.2.3: a REDIRECT NAME QUERY RESPONSE sends the query
 * to the NBNS named in its A record. */
static void test_p_find_redirect(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_P);
  nb_name_t x = nm("ELSEWHERE<20>");
  uint32_t h = 0;
  assert_int_equal(nb_nsnode_find(n, &x, NULL, 0, &h), NB_OK);
  pop_kind(n, NB_NS_KIND_QUERY_REQUEST);
  nb_name_t dom = nm("NBNS<20>.example.com");
  nb_name_t nsd = nm("NS2<20>.example.com");
  nb_ns_build_args_t a = args(P.m.hdr.trn_id, &dom);
  a.nsd_name = &nsd;
  a.nsd_addr = NBNS2;
  a.ttl = 60;
  assert_int_equal(
      feed(n, NB_NS_KIND_REDIRECT_RESPONSE, &a, NBNS, 137, false, 100),
      NB_NSNODE_DROP_NONE);
  pop_kind(n, NB_NS_KIND_QUERY_REQUEST);
  assert_int_equal(P.out.dst_ip, NBNS2);
  assert_int_equal(nb_nsnode_next_deadline(n), 5100);
  assert_int_equal(answer(n, P.m.hdr.trn_id, &x, NBNS2, PEER2, false, 60, 200),
                   NB_NSNODE_DROP_NONE);
  ev_kind(n, NB_NSNODE_EV_QUERY_RESULT);
  assert_int_equal(EV.result, NB_NSNODE_FOUND);
  assert_int_equal(EV.addrs[0], PEER2);
  assert_int_equal(EV.peer_ip, NBNS2);
  nb_nsnode_free(n);
}

static void pos_reg(nb_nsnode_t *n, const nb_name_t *name, uint16_t trn,
                    uint32_t ttl, uint64_t now) {
  nb_ns_build_args_t a = args(trn, name);
  a.ttl = ttl;
  a.addr = ME;
  assert_int_equal(
      feed(n, NB_NS_KIND_POS_REGISTRATION_RESPONSE, &a, NBNS, 137, false, now),
      NB_NSNODE_DROP_NONE);
}

/* RFC 1002 5.1.2.1, 5.1.2.6: a P node registers with the NBNS (unicast,
 * RD, ONT = P, TTL offered), a WACK extends the wait, the granted TTL
 * schedules a refresh at half of it; a refused refresh means conflict. */
static void test_p_register_refresh(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_P);
  nb_name_t u = nm("PNODE<00>");
  assert_int_equal(nb_nsnode_add_name(n, &u, 0, 0), NB_OK);
  pop_kind(n, NB_NS_KIND_REGISTRATION_REQUEST);
  assert_int_equal(nb_ns_flags_word(&P.m.hdr), 0x2900);
  assert_int_equal(P.out.dst_ip, NBNS);
  assert_int_equal(P.m.rr[0].ttl, 259200);
  assert_int_equal(entry(&P.m, 0, 0).nb_flags, NB_NS_ONT_P);
  uint16_t trn = P.m.hdr.trn_id;
  nb_ns_build_args_t a = args(trn, &u);
  a.ttl = 30;
  a.wack_request_flags = 0x2900;
  assert_int_equal(feed(n, NB_NS_KIND_WACK, &a, NBNS, 137, false, 1000),
                   NB_NSNODE_DROP_NONE);
  assert_int_equal(nb_nsnode_next_deadline(n), 31000);
  at(n, 31000);
  pop_kind(n, NB_NS_KIND_REGISTRATION_REQUEST);
  assert_int_equal(P.m.hdr.trn_id, trn);
  pos_reg(n, &u, trn, 600, 32000);
  ev_kind(n, NB_NSNODE_EV_NAME_ADDED);
  assert_int_equal(EV.ttl_s, 600);
  nb_nsnode_name_info_t info;
  nb_nsnode_names(n, &info, 1);
  assert_int_equal(info.ttl_s, 600);
  assert_int_equal(info.refresh_at_ms, 32000 + 300000);
  assert_int_equal(nb_nsnode_next_deadline(n), 332000);
  at(n, 331999);
  no_out(n);
  at(n, 332000);
  pop_kind(n, NB_NS_KIND_REFRESH_REQUEST);
  assert_int_equal(P.m.hdr.opcode, NB_NS_OPCODE_REFRESH);
  assert_int_equal(P.out.dst_ip, NBNS);
  assert_int_equal(P.m.hdr.nm_flags & NB_NS_FLAG_B, 0);
  pos_reg(n, &u, P.m.hdr.trn_id, 200, 332100);
  ev_kind(n, NB_NSNODE_EV_NAME_REFRESHED);
  assert_int_equal(EV.ttl_s, 200);
  assert_int_equal(nb_nsnode_next_deadline(n), 332100 + 100000);
  at(n, 432100);
  pop_kind(n, NB_NS_KIND_REFRESH_REQUEST);
  a = args(P.m.hdr.trn_id, &u);
  a.rcode = NB_NS_RCODE_RFS_ERR;
  assert_int_equal(feed(n, NB_NS_KIND_NEG_REGISTRATION_RESPONSE, &a, NBNS, 137,
                        false, 432200),
                   NB_NSNODE_DROP_NONE);
  ev_kind(n, NB_NSNODE_EV_NAME_CONFLICT);
  assert_int_equal(nb_nsnode_next_deadline(n), NEVER);
  nb_nsnode_free(n);
}

/* Refresh bounds: a short TTL refreshes no sooner than refresh_min_ms but
 * always before the TTL ends; an unanswered refresh keeps the name and
 * tries again refresh_min_ms later. */
static void test_p_refresh_bounds(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_P);
  nb_name_t u = nm("SHORT<00>");
  assert_int_equal(nb_nsnode_add_name(n, &u, 0, 0), NB_OK);
  pop_kind(n, NB_NS_KIND_REGISTRATION_REQUEST);
  pos_reg(n, &u, P.m.hdr.trn_id, 100, 10); /* TTL 100 s: min 60 s applies */
  ev_kind(n, NB_NSNODE_EV_NAME_ADDED);
  assert_int_equal(nb_nsnode_next_deadline(n), 10 + 60000);
  at(n, 60010);
  pop_kind(n, NB_NS_KIND_REFRESH_REQUEST);
  at(n, 65010);
  at(n, 70010);
  assert_int_equal(drain(n), 2);
  at(n, 75010);
  ev_kind(n, NB_NSNODE_EV_ERROR);
  assert_int_equal(EV.err, NB_ETIMEDOUT);
  nb_nsnode_name_info_t info;
  nb_nsnode_names(n, &info, 1);
  assert_int_equal(info.state, NB_NSNODE_NAME_ACTIVE);
  assert_int_equal(info.refresh_at_ms, 75010 + 60000);
  /* a long TTL: refresh_max_ms (20 min) applies */
  nb_name_t l = nm("LONG<00>");
  assert_int_equal(nb_nsnode_add_name(n, &l, 0, 80000), NB_OK);
  pop_kind(n, NB_NS_KIND_REGISTRATION_REQUEST);
  pos_reg(n, &l, P.m.hdr.trn_id, 259200, 80001);
  ev_kind(n, NB_NSNODE_EV_NAME_ADDED);
  nb_nsnode_name_info_t two[2];
  assert_int_equal(nb_nsnode_names(n, two, 2), 2);
  assert_int_equal(two[1].refresh_at_ms, 80001 + 1200000);
  /* TTL 0 = infinite: no refresh */
  nb_name_t inf = nm("INF<00>");
  assert_int_equal(nb_nsnode_add_name(n, &inf, 0, 90000), NB_OK);
  pop_kind(n, NB_NS_KIND_REGISTRATION_REQUEST);
  pos_reg(n, &inf, P.m.hdr.trn_id, 0, 90001);
  ev_kind(n, NB_NSNODE_EV_NAME_ADDED);
  nb_nsnode_name_info_t three[3];
  assert_int_equal(nb_nsnode_names(n, three, 3), 3);
  assert_int_equal(three[2].refresh_at_ms, NEVER);
  nb_nsnode_free(n);
}

/* RFC 1002 5.1.2.1: no answer from the NBNS -> the claim fails; a
 * negative answer refuses it; a P node does not defend names itself. */
static void test_p_register_fail_refuse(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_P);
  nb_name_t u = nm("LOST<00>");
  assert_int_equal(nb_nsnode_add_name(n, &u, 0, 0), NB_OK);
  at(n, 5000);
  at(n, 10000);
  assert_int_equal(drain(n), 3);
  at(n, 15000);
  ev_kind(n, NB_NSNODE_EV_ERROR);
  assert_int_equal(EV.err, NB_ETIMEDOUT);
  assert_true(nb_name_equal(&EV.name, &u));
  assert_int_equal(nb_nsnode_names(n, NULL, 0), 0);
  assert_int_equal(nb_nsnode_add_name(n, &u, 0, 16000), NB_OK);
  pop_kind(n, NB_NS_KIND_REGISTRATION_REQUEST);
  nb_ns_build_args_t a = args(P.m.hdr.trn_id, &u);
  a.rcode = NB_NS_RCODE_ACT_ERR;
  a.addr = PEER;
  assert_int_equal(feed(n, NB_NS_KIND_NEG_REGISTRATION_RESPONSE, &a, PEER, 137,
                        false, 16001),
                   NB_NSNODE_DROP_WRONG_SOURCE); /* not from the NBNS */
  assert_int_equal(feed(n, NB_NS_KIND_NEG_REGISTRATION_RESPONSE, &a, NBNS, 137,
                        false, 16002),
                   NB_NSNODE_DROP_NONE);
  ev_kind(n, NB_NSNODE_EV_NAME_REFUSED);
  assert_int_equal(EV.rcode, NB_NS_RCODE_ACT_ERR);
  assert_int_equal(EV.peer_ip, NBNS);
  assert_int_equal(EV.owner_ip, PEER);
  /* P node: unicast registration of its name is not defended */
  nb_name_t v = nm("MINE<00>");
  assert_int_equal(nb_nsnode_add_name(n, &v, 0, 17000), NB_OK);
  pop_kind(n, NB_NS_KIND_REGISTRATION_REQUEST);
  pos_reg(n, &v, P.m.hdr.trn_id, 600, 17001);
  ev_kind(n, NB_NSNODE_EV_NAME_ADDED);
  a = args(9, &v);
  a.addr = PEER;
  assert_int_equal(
      feed(n, NB_NS_KIND_REGISTRATION_REQUEST, &a, PEER, 137, false, 17002),
      NB_NSNODE_DROP_NOT_OURS);
  no_out(n);
  nb_nsnode_free(n);
}

/* RFC 1002 5.1.2.1: an END-NODE CHALLENGE response makes us query the
 * presumed owner: it answers -> refused; silence -> NAME OVERWRITE REQUEST
 * to the NBNS, whose positive response gives us the name. */
static void test_p_register_challenge(void **state) {
  (void)state;
  for (int owner_alive = 0; owner_alive < 2; owner_alive++) {
    nb_nsnode_t *n = mk(NB_NSNODE_TYPE_P);
    nb_name_t u = nm("CONTESTED<00>");
    assert_int_equal(nb_nsnode_add_name(n, &u, 0, 0), NB_OK);
    pop_kind(n, NB_NS_KIND_REGISTRATION_REQUEST);
    nb_ns_build_args_t a = args(P.m.hdr.trn_id, &u);
    a.addr = PEER2;
    a.ttl = 600;
    assert_int_equal(
        feed(n, NB_NS_KIND_CHALLENGE_RESPONSE, &a, NBNS, 137, false, 100),
        NB_NSNODE_DROP_NONE);
    pop_kind(n, NB_NS_KIND_QUERY_REQUEST);
    assert_int_equal(P.out.dst_ip, PEER2);
    assert_int_equal(P.out.dst_port, 137);
    assert_int_equal(P.m.hdr.nm_flags & NB_NS_FLAG_B, 0);
    if (owner_alive) {
      assert_int_equal(
          answer(n, P.m.hdr.trn_id, &u, PEER2, PEER2, false, 300, 200),
          NB_NSNODE_DROP_NONE);
      ev_kind(n, NB_NSNODE_EV_NAME_REFUSED);
      assert_int_equal(EV.owner_ip, PEER2);
      nb_nsnode_free(n);
      continue;
    }
    at(n, 5100);
    at(n, 10100);
    assert_int_equal(drain(n), 2);
    at(n, 15100);
    pop_kind(n, NB_NS_KIND_OVERWRITE_REQUEST);
    assert_int_equal(P.out.dst_ip, NBNS);
    assert_int_equal(nb_ns_flags_word(&P.m.hdr), 0x2800);
    pos_reg(n, &u, P.m.hdr.trn_id, 600, 15200);
    ev_kind(n, NB_NSNODE_EV_NAME_ADDED);
    nb_nsnode_free(n);
  }
}

/* RFC 1002 5.1.2.4: release to the NBNS only; RFC 1001 15.1.7 item 3: the
 * NBNS (and only it) may revoke a name with a NAME RELEASE REQUEST. */
static void test_p_release(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_P);
  nb_name_t u = nm("PNODE<00>");
  nb_name_t v = nm("OTHER<00>");
  assert_int_equal(nb_nsnode_add_name(n, &u, 0, 0), NB_OK);
  pop_kind(n, NB_NS_KIND_REGISTRATION_REQUEST);
  pos_reg(n, &u, P.m.hdr.trn_id, 600, 1);
  assert_int_equal(nb_nsnode_add_name(n, &v, 0, 2), NB_OK);
  pop_kind(n, NB_NS_KIND_REGISTRATION_REQUEST);
  pos_reg(n, &v, P.m.hdr.trn_id, 600, 3);
  ev_kind(n, NB_NSNODE_EV_NAME_ADDED);
  ev_kind(n, NB_NSNODE_EV_NAME_ADDED);
  assert_int_equal(nb_nsnode_remove_name(n, &u, 100), NB_OK);
  pop_kind(n, NB_NS_KIND_RELEASE_REQUEST);
  assert_int_equal(P.out.dst_ip, NBNS);
  assert_int_equal(nb_ns_flags_word(&P.m.hdr), 0x3000);
  assert_int_equal(entry(&P.m, 0, 0).nb_flags, NB_NS_ONT_P);
  nb_ns_build_args_t a = args(P.m.hdr.trn_id, &u);
  a.addr = ME;
  assert_int_equal(
      feed(n, NB_NS_KIND_POS_RELEASE_RESPONSE, &a, NBNS, 137, false, 200),
      NB_NSNODE_DROP_NONE);
  ev_kind(n, NB_NSNODE_EV_NAME_REMOVED);
  no_out(n); /* no broadcast from a P node */
  a = args(5, &v);
  a.addr = ME;
  assert_int_equal(
      feed(n, NB_NS_KIND_RELEASE_REQUEST, &a, PEER, 137, false, 300),
      NB_NSNODE_DROP_RELEASE_IGNORED);
  no_out(n);
  assert_int_equal(
      feed(n, NB_NS_KIND_RELEASE_REQUEST, &a, NBNS, 1370, false, 301),
      NB_NSNODE_DROP_NONE);
  ev_kind(n, NB_NSNODE_EV_NAME_REMOVED);
  assert_int_equal(EV.removed, NB_NSNODE_REMOVED_NBNS);
  assert_int_equal(nb_nsnode_names(n, NULL, 0), 0);
  /* RFC 1001 15.5.3: the NBNS's revocation is acknowledged, 0xB400, to
   * the request's address and port, naming us as the releasing owner. */
  pop_kind(n, NB_NS_KIND_POS_RELEASE_RESPONSE);
  assert_int_equal(nb_ns_flags_word(&P.m.hdr), 0xB400);
  assert_int_equal(P.m.hdr.trn_id, 5);
  assert_int_equal(P.out.dst_ip, NBNS);
  assert_int_equal(P.out.dst_port, 1370);
  assert_true(nb_name_equal(&P.m.rr[0].rrname.name, &v));
  assert_int_equal(entry(&P.m, 0, 0).nb_flags, NB_NS_ONT_P);
  assert_int_equal(entry(&P.m, 0, 0).addr, ME);
  no_out(n);
  nb_nsnode_free(n);
}

/* ---- M and H nodes
 * ---------------------------------------------------------------
 */

/* RFC 1002 5.1.3.1: broadcast claim first, then the NBNS; 5.1.3.4: release
 * at the NBNS first, then by broadcast. */
static void test_m_register_release(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_M);
  nb_name_t u = nm("MNODE<00>");
  assert_int_equal(nb_nsnode_add_name(n, &u, 0, 0), NB_OK);
  pop_kind(n, NB_NS_KIND_REGISTRATION_REQUEST);
  assert_true(P.out.broadcast);
  assert_int_equal(entry(&P.m, 0, 0).nb_flags, NB_NS_ONT_M);
  at(n, 250);
  at(n, 500);
  assert_int_equal(drain(n), 2);
  no_ev(n);
  at(n, 750);
  no_ev(n); /* not yet ours */
  pop_kind(n, NB_NS_KIND_REGISTRATION_REQUEST);
  assert_false(P.out.broadcast);
  assert_int_equal(P.out.dst_ip, NBNS);
  no_out(n); /* no overwrite demand */
  pos_reg(n, &u, P.m.hdr.trn_id, 600, 800);
  ev_kind(n, NB_NSNODE_EV_NAME_ADDED);
  assert_int_equal(nb_nsnode_remove_name(n, &u, 1000), NB_OK);
  pop_kind(n, NB_NS_KIND_RELEASE_REQUEST);
  assert_int_equal(P.out.dst_ip, NBNS);
  nb_ns_build_args_t a = args(P.m.hdr.trn_id, &u);
  a.addr = ME;
  assert_int_equal(
      feed(n, NB_NS_KIND_POS_RELEASE_RESPONSE, &a, NBNS, 137, false, 1100),
      NB_NSNODE_DROP_NONE);
  pop_kind(n, NB_NS_KIND_RELEASE_REQUEST);
  assert_true(P.out.broadcast);
  at(n, 1350);
  at(n, 1600);
  assert_int_equal(drain(n), 2);
  at(n, 1850);
  ev_kind(n, NB_NSNODE_EV_NAME_REMOVED);
  nb_nsnode_free(n);
}

/* An M node's broadcast claim can be refused before the NBNS is asked; an
 * M node's query tries the broadcast area first, then the NBNS. */
static void test_m_refused_and_find(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_M);
  nb_name_t u = nm("TAKEN<00>");
  assert_int_equal(nb_nsnode_add_name(n, &u, 0, 0), NB_OK);
  pop_kind(n, NB_NS_KIND_REGISTRATION_REQUEST);
  nb_ns_build_args_t a = args(P.m.hdr.trn_id, &u);
  a.rcode = NB_NS_RCODE_ACT_ERR;
  a.addr = PEER;
  assert_int_equal(
      feed(n, NB_NS_KIND_NEG_REGISTRATION_RESPONSE, &a, PEER, 137, false, 10),
      NB_NSNODE_DROP_NONE);
  ev_kind(n, NB_NSNODE_EV_NAME_REFUSED);
  at(n, 5000);
  no_out(n);
  nb_name_t x = nm("SOMEONE<20>");
  uint32_t h = 0;
  assert_int_equal(nb_nsnode_find(n, &x, NULL, 6000, &h), NB_OK);
  pop_kind(n, NB_NS_KIND_QUERY_REQUEST);
  assert_true(P.out.broadcast);
  at(n, 6250);
  at(n, 6500);
  assert_int_equal(drain(n), 2);
  at(n, 6750);
  pop_kind(n, NB_NS_KIND_QUERY_REQUEST);
  assert_int_equal(P.out.dst_ip, NBNS);
  assert_int_equal(answer(n, P.m.hdr.trn_id, &x, NBNS, PEER2, false, 60, 6800),
                   NB_NSNODE_DROP_NONE);
  ev_kind(n, NB_NSNODE_EV_QUERY_RESULT);
  assert_int_equal(EV.addrs[0], PEER2);
  nb_nsnode_free(n);
}

/* H node (common practice): the NBNS first; when it is unreachable, claim
 * by broadcast; queries ask the NBNS, and on NAM_ERR the broadcast area. */
static void test_h_node(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_H);
  nb_name_t u = nm("HNODE<00>");
  assert_int_equal(nb_nsnode_add_name(n, &u, 0, 0), NB_OK);
  pop_kind(n, NB_NS_KIND_REGISTRATION_REQUEST);
  assert_int_equal(P.out.dst_ip, NBNS);
  assert_int_equal(entry(&P.m, 0, 0).nb_flags, NB_NS_ONT_H);
  at(n, 5000);
  at(n, 10000);
  assert_int_equal(drain(n), 2);
  at(n, 15000);
  pop_kind(n, NB_NS_KIND_REGISTRATION_REQUEST);
  assert_true(P.out.broadcast);
  at(n, 15250);
  at(n, 15500);
  assert_int_equal(drain(n), 2);
  at(n, 15750);
  ev_kind(n, NB_NSNODE_EV_NAME_ADDED);
  pop_kind(n, NB_NS_KIND_OVERWRITE_REQUEST);
  nb_name_t x = nm("LOCALONLY<20>");
  uint32_t h = 0;
  assert_int_equal(nb_nsnode_find(n, &x, NULL, 20000, &h), NB_OK);
  pop_kind(n, NB_NS_KIND_QUERY_REQUEST);
  assert_int_equal(P.out.dst_ip, NBNS);
  nb_ns_build_args_t a = args(P.m.hdr.trn_id, &x);
  a.rcode = NB_NS_RCODE_NAM_ERR;
  assert_int_equal(
      feed(n, NB_NS_KIND_NEG_QUERY_RESPONSE, &a, NBNS, 137, false, 20100),
      NB_NSNODE_DROP_NONE);
  no_ev(n);
  pop_kind(n, NB_NS_KIND_QUERY_REQUEST);
  assert_true(P.out.broadcast);
  at(n, 20350);
  at(n, 20600);
  drain(n);
  at(n, 20850);
  ev_kind(n, NB_NSNODE_EV_QUERY_RESULT);
  assert_int_equal(EV.result, NB_NSNODE_NOT_FOUND); /* the NBNS said so */
  /* an H node answers broadcasts and defends (unlike P) */
  assert_int_equal(feed_query(n, &u, PEER, true, 21000), NB_NSNODE_DROP_NONE);
  pop_kind(n, NB_NS_KIND_POS_QUERY_RESPONSE);
  assert_int_equal(entry(&P.m, 0, 0).nb_flags, NB_NS_ONT_H);
  nb_nsnode_free(n);
}

/* ---- node status as a client
 * -------------------------------------------------------
 */

static void test_status_client(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_B);
  uint32_t h = 0;
  assert_int_equal(nb_nsnode_status(n, PEER, NULL, NULL, 0, &h), NB_OK);
  pop_kind(n, NB_NS_KIND_STATUS_REQUEST);
  assert_int_equal(nb_ns_flags_word(&P.m.hdr), 0x0000); /* as Windows */
  assert_int_equal(P.out.dst_ip, PEER);
  assert_int_equal(P.out.dst_port, 137);
  assert_int_equal(P.m.qd[0].qtype, NB_NS_TYPE_NBSTAT);
  const uint8_t star[16] = {'*'};
  assert_memory_equal(P.m.qd[0].qname.name.bytes, star, 16); /* NUL-padded */
  uint16_t trn = P.m.hdr.trn_id;
  nb_ns_nbstat_entry_t list[2] = {{{'V', 'M', 'W', 'I', 'N', 'X', 'P', ' ', ' ',
                                    ' ', ' ', ' ', ' ', ' ', ' ', 0x20},
                                   NB_NS_NAME_ACT},
                                  {{'W', 'O', 'R', 'K', 'G', 'R', 'O', 'U', 'P',
                                    ' ', ' ', ' ', ' ', ' ', ' ', 0x00},
                                   NB_NS_NAME_ACT | NB_NS_NAME_G}};
  nb_ns_statistics_t st;
  memset(&st, 0, sizeof st);
  st.unit_id[0] = 0xaa;
  st.unit_id[5] = 0x55;
  nb_ns_build_args_t a = args(trn, &P.m.qd[0].qname.name);
  a.nbstat = list;
  a.n_nbstat = 2;
  a.statistics = &st;
  assert_int_equal(
      feed(n, NB_NS_KIND_STATUS_RESPONSE, &a, PEER2, 137, false, 10),
      NB_NSNODE_DROP_WRONG_SOURCE);
  assert_int_equal(
      feed(n, NB_NS_KIND_STATUS_RESPONSE, &a, PEER, 137, false, 20),
      NB_NSNODE_DROP_NONE);
  ev_kind(n, NB_NSNODE_EV_STATUS_RESULT);
  assert_int_equal(EV.handle, h);
  assert_int_equal(EV.result, NB_NSNODE_FOUND);
  assert_int_equal(EV.peer_ip, PEER);
  assert_int_equal(EV.status.n_names, 2);
  assert_memory_equal(EV.status.names[1].name, list[1].name, 16);
  assert_int_equal(EV.status.names[1].flags, NB_NS_NAME_ACT | NB_NS_NAME_G);
  assert_int_equal(EV.status.unit_id[0], 0xaa);
  assert_int_equal(EV.status.unit_id[5], 0x55);
  assert_false(EV.status.truncated);
  /* no answer: UCAST timers (RFC 1001 15.6), then TIMEOUT */
  assert_int_equal(nb_nsnode_status(n, FAR, NULL, NULL, 100, &h), NB_OK);
  pop_kind(n, NB_NS_KIND_STATUS_REQUEST);
  at(n, 5100);
  at(n, 10100);
  assert_int_equal(drain(n), 2);
  at(n, 15100);
  ev_kind(n, NB_NSNODE_EV_STATUS_RESULT);
  assert_int_equal(EV.result, NB_NSNODE_TIMEOUT);
  assert_int_equal(nb_nsnode_status(n, 0, NULL, NULL, 0, &h), NB_EINVAL);
  nb_nsnode_free(n);
}

/* Unicast queries to a chosen node, with or without RD. */
static void test_unicast_query_rd(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_B);
  nb_name_t x = nm("TARGET<20>");
  nb_nsnode_query_opts_t o = {NB_NSNODE_VIA_UNICAST, NB_NSNODE_Q_NO_RD, PEER,
                              1137, 0};
  uint32_t h = 0;
  assert_int_equal(nb_nsnode_find(n, &x, &o, 0, &h), NB_OK);
  pop_kind(n, NB_NS_KIND_QUERY_REQUEST);
  assert_int_equal(nb_ns_flags_word(&P.m.hdr), 0x0000);
  assert_int_equal(P.out.dst_ip, PEER);
  assert_int_equal(P.out.dst_port, 1137);
  o.flags = 0;
  assert_int_equal(nb_nsnode_find(n, &x, &o, 0, &h), NB_OK);
  pop_kind(n, NB_NS_KIND_QUERY_REQUEST);
  assert_int_equal(nb_ns_flags_word(&P.m.hdr), 0x0100);
  o.ip = 0;
  assert_int_equal(nb_nsnode_find(n, &x, &o, 0, &h), NB_EINVAL);
  o.via = NB_NSNODE_VIA_NBNS; /* a B node has no NBNS */
  assert_int_equal(nb_nsnode_find(n, &x, &o, 0, &h), NB_EINVAL);
  nb_nsnode_free(n);
}

/* ---- rate limit
 * --------------------------------------------------------------------
 */

/* Responses to one source are limited by a token bucket (rl_rate per
 * second, rl_burst at most), with time passed in; other sources are not
 * affected; the global bucket bounds all sources together. */
static void test_rate_limit(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_B);
  nb_name_t u = nm("POPULAR<20>");
  claim_b(n, &u, 0, 0);
  for (int i = 0; i < 40; i++) {
    assert_int_equal(feed_query(n, &u, PEER, false, 10000),
                     NB_NSNODE_DROP_NONE);
  }
  assert_int_equal(feed_query(n, &u, PEER, false, 10000),
                   NB_NSNODE_DROP_RATE_LIMITED);
  assert_int_equal(feed_status(n, &u, PEER, 10000),
                   NB_NSNODE_DROP_RATE_LIMITED);
  assert_int_equal(feed_reg(n, &u, false, true, 10000),
                   NB_NSNODE_DROP_RATE_LIMITED);
  assert_int_equal(feed_query(n, &u, PEER2, false, 10000), NB_NSNODE_DROP_NONE);
  assert_int_equal(drain(n), 41);
  /* 20 per second: one token every 50 ms */
  assert_int_equal(feed_query(n, &u, PEER, false, 10049),
                   NB_NSNODE_DROP_RATE_LIMITED);
  assert_int_equal(feed_query(n, &u, PEER, false, 10050), NB_NSNODE_DROP_NONE);
  assert_int_equal(feed_query(n, &u, PEER, false, 10050),
                   NB_NSNODE_DROP_RATE_LIMITED);
  const nb_nsnode_counters_t *ctr = nb_nsnode_counters(n);
  assert_int_equal(ctr->rate_limited, 5);
  assert_int_equal(ctr->drop[NB_NSNODE_DROP_RATE_LIMITED], 5);
  nb_nsnode_free(n);

  nb_nsnode_config_t c = cfg_of(NB_NSNODE_TYPE_B);
  c.rl_rate = 0; /* per-source limit off */
  c.rl_global_rate = 10;
  c.rl_global_burst = 5;
  n = mk_cfg(&c);
  claim_b(n, &u, 0, 0);
  for (uint32_t i = 0; i < 5; i++) {
    assert_int_equal(feed_query(n, &u, IP(192, 0, 2, 100 + i), false, 5000),
                     NB_NSNODE_DROP_NONE);
  }
  assert_int_equal(feed_query(n, &u, IP(192, 0, 2, 200), false, 5000),
                   NB_NSNODE_DROP_RATE_LIMITED);
  assert_int_equal(feed_query(n, &u, IP(192, 0, 2, 200), false, 5100),
                   NB_NSNODE_DROP_NONE);
  nb_nsnode_free(n);

  c = cfg_of(NB_NSNODE_TYPE_B);
  c.rl_rate = 0;
  c.rl_global_rate = 0; /* no limit at all (benchmarks) */
  n = mk_cfg(&c);
  claim_b(n, &u, 0, 0);
  for (int i = 0; i < 1000; i++) {
    assert_int_equal(feed_query(n, &u, PEER, false, 5000), NB_NSNODE_DROP_NONE);
    nb_nsnode_advance(n);
  }
  nb_nsnode_free(n);
}

/* The source table is small and fixed: many sources recycle the least
 * recently seen slot instead of growing. */
static void test_rate_limit_slots(void **state) {
  (void)state;
  nb_nsnode_config_t c = cfg_of(NB_NSNODE_TYPE_B);
  c.rl_slots = 4;
  c.rl_burst = 1;
  c.rl_rate = 1;
  c.rl_global_rate = 0;
  nb_nsnode_t *n = mk_cfg(&c);
  nb_name_t u = nm("POPULAR<20>");
  claim_b(n, &u, 0, 0);
  assert_int_equal(feed_query(n, &u, PEER, false, 1000), NB_NSNODE_DROP_NONE);
  assert_int_equal(feed_query(n, &u, PEER, false, 1001),
                   NB_NSNODE_DROP_RATE_LIMITED);
  for (uint32_t i = 0; i < 4; i++) /* four others push PEER out */
    assert_int_equal(feed_query(n, &u, IP(10, 0, 0, i + 1), false, 1002 + i),
                     NB_NSNODE_DROP_NONE);
  assert_int_equal(feed_query(n, &u, PEER, false, 1010), NB_NSNODE_DROP_NONE);
  nb_nsnode_free(n);
}

/* ---- hostile input
 * -----------------------------------------------------------------
 */

static nb_nsnode_drop_t feed_hex(nb_nsnode_t *n, const char *hex, uint32_t src,
                                 bool bcast) {
  uint8_t buf[700];
  size_t len = nb_test_unhex(hex, buf, sizeof buf);
  return nb_nsnode_recv(n, buf, len, src, CPORT, bcast, 50000);
}

#define NAME_FRED                                                              \
  "20 4547464345464545434143414341434143414341434143414341434143414341 00"

/* Every class of malformed or unexpected packet is dropped with its own
 * counted reason, and the counters add up. */
static void test_malformed_classes(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_B);
  nb_name_t fred = nm("FRED<20>");
  claim_b(n, &fred, 0, 0);
  assert_int_equal(nb_nsnode_recv(n, NULL, 0, PEER, CPORT, false, 1),
                   NB_NSNODE_DROP_TRUNCATED); /* CVE-2020-14303 shape */
  assert_int_equal(nb_nsnode_recv(n, NULL, 5, PEER, CPORT, false, 1),
                   NB_NSNODE_DROP_MALFORMED);
  assert_int_equal(feed_hex(n, "", PEER, false), NB_NSNODE_DROP_TRUNCATED);
  assert_int_equal(feed_hex(n, "1234 0110 0001 0000 0000", PEER, false),
                   NB_NSNODE_DROP_TRUNCATED);
  assert_int_equal(feed_hex(n, "1234 0110 0001 0000 0000 0000", PEER, false),
                   NB_NSNODE_DROP_TRUNCATED); /* question missing */
  assert_int_equal(feed_hex(n,
                            "1234 0110 0001 0000 0000 0000 " NAME_FRED " 0020",
                            PEER, false),
                   NB_NSNODE_DROP_TRUNCATED); /* class missing */
  assert_int_equal(feed_hex(n,
                            "1234 0110 0001 0000 0000 0000 1f "
                            "45474643454645454341434143414341434143414341434143"
                            "414341434143 00 0020 0001",
                            PEER, false),
                   NB_NSNODE_DROP_MALFORMED); /* first label 31 */
  assert_int_equal(
      feed_hex(n, "1234 0110 0001 0000 0000 0000 c00c 0020 0001", PEER, false),
      NB_NSNODE_DROP_MALFORMED); /* pointer to itself */
  assert_int_equal(
      feed_hex(n, "1234 0110 0005 0000 0000 0000 " NAME_FRED " 0020 0001", PEER,
               false),
      NB_NSNODE_DROP_LIMIT); /* QDCOUNT over the model's cap */
  assert_int_equal(
      feed_hex(n, "1234 1910 0001 0000 0000 0000 " NAME_FRED " 0020 0001", PEER,
               false),
      NB_NSNODE_DROP_UNSUPPORTED); /* opcode 3 */
  assert_int_equal(
      feed_hex(n, "1234 0110 0001 0000 0000 0000 " NAME_FRED " 0001 0001", PEER,
               false),
      NB_NSNODE_DROP_UNSUPPORTED); /* QTYPE A */
  assert_int_equal(
      feed_hex(n, "1234 0110 0001 0000 0000 0000 " NAME_FRED " 0020 ffff", PEER,
               false),
      NB_NSNODE_DROP_UNSUPPORTED); /* QCLASS * (4.2.12: IN only; nmbd: any) */
  assert_int_equal(
      feed_hex(n, "1234 0000 0001 0000 0000 0000 " NAME_FRED " 0021 00ff", PEER,
               false),
      NB_NSNODE_DROP_UNSUPPORTED); /* node status of class 0xFF */
  assert_int_equal(feed_hex(n, "1234 0110 0000 0000 0000 0000", PEER, false),
                   NB_NSNODE_DROP_INCOMPLETE); /* a query without a question */
  assert_int_equal(feed_hex(n,
                            "1234 4000 0001 0000 0000 0001 " NAME_FRED
                            " 0020 0001 c00c 0020 0001 00000000 0006 0000 "
                            "c0000214",
                            PEER, false),
                   NB_NSNODE_DROP_UNSUPPORTED); /* refresh: for an NBNS */
  assert_int_equal(feed_hex(n,
                            "9999 8580 0000 0001 0000 0000 " NAME_FRED
                            " 0020 0001 00000e10 0006 0000 c0000214",
                            PEER, false),
                   NB_NSNODE_DROP_UNSOLICITED);
  /* the same query, well formed, is answered: nothing above broke it */
  assert_int_equal(
      feed_hex(n, "1234 0110 0001 0000 0000 0000 " NAME_FRED " 0020 0001", PEER,
               true),
      NB_NSNODE_DROP_NONE);
  const nb_nsnode_counters_t *c = nb_nsnode_counters(n);
  uint64_t sum = 0;
  for (int i = 0; i < NB_NSNODE_DROP__COUNT; i++)
    sum += c->drop[i];
  assert_int_equal(sum, c->rx_packets);
  assert_int_equal(c->rx_dropped, c->rx_packets - c->drop[0]);
  assert_int_equal(c->drop[NB_NSNODE_DROP_TRUNCATED], 5);
  assert_int_equal(c->drop[NB_NSNODE_DROP_MALFORMED], 3);
  assert_int_equal(c->drop[NB_NSNODE_DROP_LIMIT], 1);
  assert_string_equal(nb_nsnode_drop_name(NB_NSNODE_DROP_LIMIT), "LIMIT");
  assert_string_equal(nb_nsnode_drop_name((nb_nsnode_drop_t)999), "UNKNOWN");
  assert_non_null(nb_nsnode_drop_str(NB_NSNODE_DROP_OWN));
  nb_nsnode_free(n);
}

/* Our own broadcasts looped back are not requests from a rival. */
static void test_own_echo(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_B);
  nb_name_t u = nm("SELF<20>");
  claim_b(n, &u, 0, 0);
  nb_name_t v = nm("SELF2<20>");
  assert_int_equal(nb_nsnode_add_name(n, &v, 0, 1000), NB_OK);
  nb_nsnode_out_t o;
  assert_true(nb_nsnode_pending(n, &o));
  uint8_t copy[600];
  memcpy(copy, o.data, o.len);
  size_t len = o.len;
  nb_nsnode_advance(n);
  assert_int_equal(nb_nsnode_recv(n, copy, len, ME, 137, true, 1001),
                   NB_NSNODE_DROP_OWN);
  /* an own-address registration of our active name is not defended */
  nb_ns_build_args_t a = args(3, &u);
  a.broadcast = true;
  a.addr = ME;
  assert_int_equal(
      feed(n, NB_NS_KIND_REGISTRATION_REQUEST, &a, PEER, 137, true, 1002),
      NB_NSNODE_DROP_OWN);
  no_out(n);
  nb_nsnode_free(n);
}

/* Thousands of random and mutated packets from every direction: never a
 * crash, never an oversize or unparseable datagram, counters consistent,
 * and the node still answers afterwards. */
static void test_random_input(void **state) {
  (void)state;
  nb_nsnode_t *n = mk(NB_NSNODE_TYPE_H);
  nb_name_t u = nm("FRED<20>");
  assert_int_equal(nb_nsnode_add_name(n, &u, 0, 0), NB_OK);
  uint8_t valid[128];
  nb_ns_build_args_t a = args(0x1111, &u);
  size_t vlen = build(NB_NS_KIND_QUERY_REQUEST, &a, valid, sizeof valid);
  uint32_t seed = 12345;
  uint8_t buf[700];
  uint64_t now = 0;
  for (int i = 0; i < 20000; i++) {
    size_t len;
    if (i % 2) {
      len = nb_test_rand(&seed) % sizeof buf;
      for (size_t j = 0; j < len; j++)
        buf[j] = (uint8_t)nb_test_rand(&seed);
    } else {
      len = vlen;
      memcpy(buf, valid, vlen);
      for (int k = 0; k < 3; k++)
        buf[nb_test_rand(&seed) % vlen] ^= (uint8_t)nb_test_rand(&seed);
    }
    now += nb_test_rand(&seed) % 50;
    uint32_t src = (nb_test_rand(&seed) & 1) ? NBNS : PEER;
    nb_nsnode_drop_t r =
        nb_nsnode_recv(n, buf, len, src, 137, (i & 4) != 0, now);
    assert_true((unsigned)r < NB_NSNODE_DROP__COUNT);
    nb_nsnode_on_timer(n, now);
    drain(n);
    nb_nsnode_event_t ev;
    while (nb_nsnode_next_event(n, &ev))
      ;
  }
  const nb_nsnode_counters_t *c = nb_nsnode_counters(n);
  uint64_t sum = 0;
  for (int i = 0; i < NB_NSNODE_DROP__COUNT; i++)
    sum += c->drop[i];
  assert_int_equal(sum, c->rx_packets);
  assert_int_equal(c->rx_packets, 20000);
  nb_nsnode_free(n);
}

/* ---- caps and IDs
 * ---------------------------------------------------------------------
 */

static void test_queue_caps(void **state) {
  (void)state;
  nb_nsnode_config_t c = cfg_of(NB_NSNODE_TYPE_B);
  c.max_out = 2;
  c.max_events = 1;
  nb_nsnode_t *n = mk_cfg(&c);
  nb_name_t a = nm("A<00>"), b = nm("B<00>"), d = nm("D<00>");
  assert_int_equal(nb_nsnode_add_name(n, &a, 0, 0), NB_OK);
  assert_int_equal(nb_nsnode_add_name(n, &b, 0, 0), NB_OK);
  assert_int_equal(nb_nsnode_add_name(n, &d, 0, 0), NB_OK);
  assert_int_equal(nb_nsnode_counters(n)->tx_queue_full, 1);
  assert_int_equal(drain(n), 2);
  at(n, 250);
  at(n, 500);
  drain(n);
  at(n, 750); /* three ADDED events into a queue of one */
  assert_int_equal(nb_nsnode_counters(n)->events_dropped, 2);
  ev_kind(n, NB_NSNODE_EV_NAME_ADDED);
  no_ev(n);
  c.max_pending = 1;
  c.max_out = 64;
  nb_nsnode_t *m = mk_cfg(&c);
  uint32_t h = 0;
  assert_int_equal(nb_nsnode_find(m, &a, NULL, 0, &h), NB_OK);
  assert_int_equal(nb_nsnode_find(m, &b, NULL, 0, &h), NB_ELIMIT);
  nb_nsnode_free(m);
  nb_nsnode_free(n);
}

/* Transaction IDs come from the seed, are distinct among transactions in
 * flight, and are not sequential. */
static void test_transaction_ids(void **state) {
  (void)state;
  nb_nsnode_config_t c = cfg_of(NB_NSNODE_TYPE_B);
  nb_nsnode_t *n = mk_cfg(&c);
  uint16_t ids[16];
  int sequential = 0;
  for (int i = 0; i < 16; i++) {
    char text[8] = {'N', (char)('A' + i), '<', '0', '0', '>', 0};
    nb_name_t x = nm(text);
    assert_int_equal(nb_nsnode_add_name(n, &x, 0, 0), NB_OK);
    pop_kind(n, NB_NS_KIND_REGISTRATION_REQUEST);
    ids[i] = P.m.hdr.trn_id;
    for (int j = 0; j < i; j++)
      assert_int_not_equal(ids[i], ids[j]);
    if (i > 0 && ids[i] == (uint16_t)(ids[i - 1] + 1))
      sequential++;
  }
  assert_true(sequential < 3);
  c.txid_seed = 0x9999;
  nb_nsnode_t *m = mk_cfg(&c);
  nb_name_t x = nm("NA<00>");
  assert_int_equal(nb_nsnode_add_name(m, &x, 0, 0), NB_OK);
  pop_kind(m, NB_NS_KIND_REGISTRATION_REQUEST);
  assert_int_not_equal(P.m.hdr.trn_id, ids[0]);
  /* No ID comes back within thousands of transactions: a late answer to
   * a finished one cannot match a new one. */
  static uint8_t seen[65536];
  memset(seen, 0, sizeof seen);
  nb_nsnode_query_opts_t o = {NB_NSNODE_VIA_BCAST, NB_NSNODE_Q_NO_CACHE, 0, 0,
                              0};
  for (int i = 0; i < 5000; i++) {
    uint32_t h = 0;
    assert_int_equal(nb_nsnode_find(m, &x, &o, 0, &h), NB_OK);
    pop_kind(m, NB_NS_KIND_QUERY_REQUEST);
    assert_int_equal(seen[P.m.hdr.trn_id], 0);
    seen[P.m.hdr.trn_id] = 1;
    assert_int_equal(nb_nsnode_cancel(m, h), NB_OK);
  }
  nb_nsnode_free(m);
  nb_nsnode_free(n);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_config),
      cmocka_unit_test(test_caller_memory),
      cmocka_unit_test(test_b_register_timing),
      cmocka_unit_test(test_b_register_refused),
      cmocka_unit_test(test_b_register_ignores_positive),
      cmocka_unit_test(test_add_name_rules),
      cmocka_unit_test(test_two_interfaces),
      cmocka_unit_test(test_b_defence),
      cmocka_unit_test(test_b_no_defence_while_claiming),
      cmocka_unit_test(test_b_answers_queries),
      cmocka_unit_test(test_b_unicast_miss_rd0),
      cmocka_unit_test(test_negative_answers),
      cmocka_unit_test(test_status_answers),
      cmocka_unit_test(test_status_truncated),
      cmocka_unit_test(test_conflict_demand),
      cmocka_unit_test(test_b_release),
      cmocka_unit_test(test_shutdown),
      cmocka_unit_test(test_b_find_timeout),
      cmocka_unit_test(test_b_find_and_cache),
      cmocka_unit_test(test_b_find_conflict),
      cmocka_unit_test(test_b_find_group_collect),
      cmocka_unit_test(test_find_timeout_option),
      cmocka_unit_test(test_p_find_retries_servers),
      cmocka_unit_test(test_p_find_wack_negative),
      cmocka_unit_test(test_p_find_redirect),
      cmocka_unit_test(test_p_register_refresh),
      cmocka_unit_test(test_p_refresh_bounds),
      cmocka_unit_test(test_p_register_fail_refuse),
      cmocka_unit_test(test_p_register_challenge),
      cmocka_unit_test(test_p_release),
      cmocka_unit_test(test_m_register_release),
      cmocka_unit_test(test_m_refused_and_find),
      cmocka_unit_test(test_h_node),
      cmocka_unit_test(test_status_client),
      cmocka_unit_test(test_unicast_query_rd),
      cmocka_unit_test(test_rate_limit),
      cmocka_unit_test(test_rate_limit_slots),
      cmocka_unit_test(test_malformed_classes),
      cmocka_unit_test(test_own_echo),
      cmocka_unit_test(test_random_input),
      cmocka_unit_test(test_queue_caps),
      cmocka_unit_test(test_transaction_ids),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
