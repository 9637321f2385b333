/* SPDX-License-Identifier: BSD-2-Clause */
/* The datagram service engine (include/nb/dgmsvc.h) on a virtual clock.
 *
 * Packets from "the network" are built with the dgm.h codec (or by hand
 * where they must be wrong) and fed to nb_dgmsvc_recv(); every payload the
 * engine queues is parsed back with nb_dgm_parse() and its fields checked.
 * Time only moves when a test moves it, so FRAGMENT_TO, the NBDD retries
 * and the rate limit are checked to the millisecond. The second half tests
 * the application protocol codec (nb_dgmsvc_api_*). */
#include <stdio.h>
#include <string.h>

#include "testutil.h"

#include "nb/dgm.h"
#include "nb/dgmsvc.h"

#define IP(a, b, c, d)                                                         \
  ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 |            \
   (uint32_t)(d))

static const uint32_t ME = IP(192, 0, 2, 20);
static const uint32_t MASK = IP(255, 255, 255, 0);
static const uint32_t BCAST = IP(192, 0, 2, 255);
static const uint32_t ME2 = IP(198, 51, 100, 20);
static const uint32_t BCAST2 = IP(198, 51, 100, 255);
static const uint32_t PEER = IP(192, 0, 2, 10);
static const uint32_t PEER2 = IP(192, 0, 2, 30);
static const uint32_t NBDD = IP(203, 0, 113, 7);
static const uint32_t FAR = IP(203, 0, 113, 99);
static const uint16_t CPORT = 50138; /* a client's ephemeral port */

/* ---- fixtures ------------------------------------------------------------
 */

static nb_dgmsvc_config_t cfg_of(nb_nsnode_type_t type) {
  nb_dgmsvc_config_t c;
  nb_dgmsvc_config_init(&c);
  c.node_type = type;
  c.ifaces[0].ip = ME;
  c.ifaces[0].netmask = MASK;
  c.n_ifaces = 1;
  c.id_seed = 0x5eed;
  return c;
}

static nb_dgmsvc_t *mk_cfg(const nb_dgmsvc_config_t *c) {
  nb_dgmsvc_t *e = NULL;
  assert_int_equal(nb_dgmsvc_new(c, &e), NB_OK);
  assert_non_null(e);
  return e;
}

static nb_dgmsvc_t *mk(nb_nsnode_type_t type) {
  nb_dgmsvc_config_t c = cfg_of(type);
  return mk_cfg(&c);
}

static nb_name_t nm(const char *text) {
  nb_name_t n;
  assert_int_equal(nb_name_from_text(&n, text, strlen(text), NULL), NB_OK);
  return n;
}

/* The node XYKON-2 in workgroup TESTGRP, as nbtd registers them. */
static void add_names(nb_dgmsvc_t *e) {
  nb_name_t a = nm("XYKON-2<20>"), b = nm("XYKON-2<00>"), g = nm("TESTGRP<1e>");
  assert_int_equal(nb_dgmsvc_name_add(e, &a, false), NB_OK);
  assert_int_equal(nb_dgmsvc_name_add(e, &b, false), NB_OK);
  assert_int_equal(nb_dgmsvc_name_add(e, &g, true), NB_OK);
}

static uint32_t bind_name(nb_dgmsvc_t *e, const char *text) {
  nb_name_t n = nm(text);
  uint32_t id = 0;
  assert_int_equal(nb_dgmsvc_bind(e, &n, 0, &id), NB_OK);
  assert_true(id != 0);
  return id;
}

/* A whole datagram of `type` from `src_ip` as a UDP payload. */
static size_t build(uint8_t *buf, size_t cap, uint8_t type, uint16_t id,
                    uint32_t src_ip, const char *from, const char *to,
                    const char *data) {
  nb_dgm_msg_t m;
  nb_wr_t w;
  size_t len = 0;
  nb_name_t s = nm(from), d = nm(to);
  nb_dgm_init(&m, type, id, src_ip, 138);
  assert_int_equal(
      nb_dgm_set_datagram(&m, &s, &d, (const uint8_t *)data, strlen(data)),
      NB_OK);
  nb_wr_init(&w, buf, cap);
  nb_dgm_write(&w, &m);
  assert_int_equal(nb_wr_finish(&w, &len), NB_OK);
  return len;
}

static nb_dgmsvc_drop_t feed(nb_dgmsvc_t *e, uint8_t type, uint16_t id,
                             const char *from, const char *to, const char *data,
                             bool bcast, uint64_t now) {
  uint8_t buf[1200];
  size_t len = build(buf, sizeof buf, type, id, PEER, from, to, data);
  return nb_dgmsvc_recv(e, buf, len, PEER, CPORT, bcast, now);
}

/* One payload the engine queued, parsed (the model borrows `buf`). */
typedef struct pkt {
  uint8_t buf[NB_DGMSVC_OUT_MAX];
  nb_dgmsvc_out_t out;
  nb_dgm_msg_t m;
} pkt_t;

static pkt_t P;

static bool pop(nb_dgmsvc_t *e, pkt_t *p) {
  if (!nb_dgmsvc_pending(e, &p->out))
    return false;
  assert_true(p->out.len <= sizeof p->buf);
  memcpy(p->buf, p->out.data, p->out.len);
  p->out.data = p->buf;
  nb_dgmsvc_advance(e);
  assert_int_equal(nb_dgm_parse(p->buf, p->out.len, &p->m, NULL), NB_OK);
  return true;
}

static void no_output(nb_dgmsvc_t *e) {
  nb_dgmsvc_out_t o;
  assert_false(nb_dgmsvc_pending(e, &o));
}

static void no_event(nb_dgmsvc_t *e) {
  nb_dgmsvc_event_t ev;
  assert_false(nb_dgmsvc_next_event(e, &ev));
}

static nb_dgmsvc_event_t EV;

static const nb_dgmsvc_event_t *event(nb_dgmsvc_t *e,
                                      nb_dgmsvc_ev_type_t type) {
  assert_true(nb_dgmsvc_next_event(e, &EV));
  assert_int_equal(EV.type, type);
  return &EV;
}

static void check_counters_sum(const nb_dgmsvc_t *e) {
  const nb_dgmsvc_counters_t *c = nb_dgmsvc_counters(e);
  uint64_t sum = 0;
  for (int i = 0; i < NB_DGMSVC_DROP__COUNT; i++)
    sum += c->drop[i];
  assert_int_equal(sum, c->rx_packets);
  assert_int_equal(c->rx_dropped, c->rx_packets - c->drop[0]);
}

/* ---- configuration, names, bindings --------------------------------------
 */

static void test_config(void **state) {
  (void)state;
  nb_dgmsvc_config_t c;
  nb_diag_t d = {NB_OK, 0, NULL};
  nb_dgmsvc_config_init(&c);
  assert_int_equal(c.port, 138);
  assert_int_equal(c.max_payload, 548);       /* RFC 1002 6: 576 - 28 */
  assert_int_equal(c.reasm.timeout_ms, 2000); /* FRAGMENT_TO */
  assert_true(c.send_errors && c.nbdd_query && !c.nbdd_role);
  assert_int_equal(nb_dgmsvc_config_check(&c, &d), NB_EINVAL); /* no iface */
  assert_string_equal(d.field, "n_ifaces");
  c = cfg_of(NB_NSNODE_TYPE_B);
  assert_int_equal(nb_dgmsvc_config_check(&c, NULL), NB_OK);
  c.max_payload = 99;
  assert_int_equal(nb_dgmsvc_config_check(&c, &d), NB_EINVAL);
  c.max_payload = NB_DGMSVC_OUT_MAX + 1;
  assert_int_equal(nb_dgmsvc_config_check(&c, &d), NB_EINVAL);
  c = cfg_of(NB_NSNODE_TYPE_B);
  strcpy(c.scope, "bad..scope");
  assert_int_equal(nb_dgmsvc_config_check(&c, &d), NB_EINVAL);
  assert_string_equal(d.field, "scope");
  c = cfg_of(NB_NSNODE_TYPE_B);
  static max_align_t mem[8];
  nb_dgmsvc_t *e = NULL;
  assert_int_equal(nb_dgmsvc_init(mem, sizeof mem, &c, &e), NB_EINVAL);
  assert_true(nb_dgmsvc_size() > sizeof mem);
}

static void test_names_and_binds(void **state) {
  (void)state;
  nb_dgmsvc_t *e = mk(NB_NSNODE_TYPE_B);
  nb_name_t a = nm("XYKON-2<20>"), lower = nm("xykon-2<20>"),
            star = nm("*<00>");
  uint32_t id = 0, id2 = 0;
  assert_int_equal(nb_dgmsvc_name_add(e, &a, false), NB_OK);
  assert_int_equal(nb_dgmsvc_name_add(e, &lower, false), NB_ESTATE);
  assert_true(nb_dgmsvc_name_present(e, &lower)); /* nmbd: case folded */
  assert_int_equal(nb_dgmsvc_name_add(e, &star, true), NB_EINVAL);
  assert_int_equal(nb_dgmsvc_name_remove(e, &a), NB_OK);
  assert_false(nb_dgmsvc_name_present(e, &a));
  assert_int_equal(nb_dgmsvc_name_remove(e, &a), NB_ENOTFOUND);
  for (int i = 0; i < NB_DGMSVC_MAX_NAMES; i++) {
    char t[24];
    snprintf(t, sizeof t, "N%d<20>", i);
    nb_name_t n = nm(t);
    assert_int_equal(nb_dgmsvc_name_add(e, &n, false), NB_OK);
  }
  assert_int_equal(nb_dgmsvc_name_add(e, &a, false), NB_ELIMIT);
  /* bindings */
  assert_int_equal(nb_dgmsvc_bind(e, NULL, 0, &id), NB_EINVAL);
  assert_int_equal(nb_dgmsvc_bind(e, &star, 0, &id), NB_EINVAL);
  assert_int_equal(nb_dgmsvc_bind(e, &a, 0x80, &id), NB_EINVAL);
  assert_int_equal(nb_dgmsvc_bind(e, &a, 0, &id), NB_OK);
  assert_int_equal(nb_dgmsvc_bind(e, NULL, NB_DGMSVC_BIND_BROADCAST, &id2),
                   NB_OK);
  assert_true(id != 0 && id2 != 0 && id != id2);
  assert_int_equal(nb_dgmsvc_unbind(e, id), NB_OK);
  assert_int_equal(nb_dgmsvc_unbind(e, id), NB_ENOTFOUND);
  assert_int_equal(nb_dgmsvc_unbind(e, 0), NB_ENOTFOUND);
  for (int i = 1; i < NB_DGMSVC_MAX_BINDS; i++)
    assert_int_equal(nb_dgmsvc_bind(e, &a, 0, &id), NB_OK);
  assert_int_equal(nb_dgmsvc_bind(e, &a, 0, &id), NB_ELIMIT);
  nb_dgmsvc_free(e);
}

/* ---- reception (RFC 1002 5.3.3) -----------------------------------------
 */

static void test_unique_own_delivered(void **state) {
  (void)state;
  nb_dgmsvc_t *e = mk(NB_NSNODE_TYPE_B);
  add_names(e);
  uint32_t id = bind_name(e, "xykon-2<20>"); /* case-insensitive match */
  assert_int_equal(feed(e, NB_DGM_DIRECT_UNIQUE, 0x1234, "NBTTEST<00>",
                        "XYKON-2<20>", "hello", false, 1000),
                   NB_DGMSVC_DROP_NONE);
  const nb_dgmsvc_event_t *ev = event(e, NB_DGMSVC_EV_DATAGRAM);
  assert_int_equal(ev->id, id);
  assert_int_equal(ev->msg_type, NB_DGM_DIRECT_UNIQUE);
  assert_int_equal(ev->src_ip, PEER);
  assert_int_equal(ev->src_port, 138);
  assert_int_equal(ev->peer_port, CPORT);
  assert_false(ev->was_broadcast);
  assert_int_equal(ev->data_len, 5);
  assert_memory_equal(ev->data, "hello", 5);
  nb_name_t from = nm("NBTTEST<00>");
  assert_true(nb_name_equal(&ev->source_name, &from));
  no_event(e);
  no_output(e); /* RFC 1002 5.3.3: no reply to a delivered datagram */
  /* Present but nobody bound: silently discarded. */
  assert_int_equal(feed(e, NB_DGM_DIRECT_UNIQUE, 2, "NBTTEST<00>",
                        "XYKON-2<00>", "x", false, 1000),
                   NB_DGMSVC_DROP_NO_LISTENER);
  no_output(e);
  /* Two bindings of one name: one copy each. */
  uint32_t id2 = bind_name(e, "XYKON-2<20>");
  assert_int_equal(feed(e, NB_DGM_DIRECT_UNIQUE, 3, "NBTTEST<00>",
                        "XYKON-2<20>", "y", false, 1000),
                   NB_DGMSVC_DROP_NONE);
  assert_int_equal(event(e, NB_DGMSVC_EV_DATAGRAM)->id, id);
  assert_int_equal(event(e, NB_DGMSVC_EV_DATAGRAM)->id, id2);
  check_counters_sum(e);
  nb_dgmsvc_free(e);
}

/* RFC 1002 5.3.3 / 4.4.3: destination not present -> DATAGRAM ERROR 0x82
 * to the UDP source, FIRST and MORE clear, our IP and port, the DGM_ID
 * echoed. */
static void test_unique_unknown_error(void **state) {
  (void)state;
  nb_dgmsvc_t *e = mk(NB_NSNODE_TYPE_B);
  add_names(e);
  assert_int_equal(feed(e, NB_DGM_DIRECT_UNIQUE, 0xbeef, "NBTTEST<00>",
                        "NOSUCHNAME<20>", "x", false, 10),
                   NB_DGMSVC_DROP_NOT_PRESENT);
  assert_true(pop(e, &P));
  assert_int_equal(P.out.dst_ip, PEER);
  assert_int_equal(P.out.dst_port, CPORT); /* the UDP source port */
  assert_false(P.out.broadcast);
  assert_int_equal(P.out.src_ip, ME);
  assert_int_equal(P.out.len, 11);
  assert_int_equal(P.m.msg_type, NB_DGM_ERROR);
  assert_int_equal(P.m.flags & (NB_DGM_FLAG_F | NB_DGM_FLAG_M), 0);
  assert_int_equal(NB_DGM_SNT(P.m.flags), NB_DGM_SNT_B);
  assert_int_equal(P.m.dgm_id, 0xbeef);
  assert_int_equal(P.m.source_ip, ME);
  assert_int_equal(P.m.source_port, 138);
  assert_int_equal(P.m.error_code, NB_DGM_ERR_DEST_NAME_NOT_PRESENT);
  assert_int_equal(P.m.n_findings, 0);
  no_output(e);
  no_event(e);
  /* The same by broadcast: no error (no storms). */
  assert_int_equal(feed(e, NB_DGM_DIRECT_UNIQUE, 1, "NBTTEST<00>",
                        "NOSUCHNAME<20>", "x", true, 10),
                   NB_DGMSVC_DROP_NOT_PRESENT);
  no_output(e);
  assert_int_equal(nb_dgmsvc_counters(e)->errors_sent, 1);
  nb_dgmsvc_free(e);
}

/* A SOURCE_IP that is not the UDP source (relayed by an NBDD, or forged):
 * no error, so the engine never reflects to a third party. */
static void test_error_not_reflected(void **state) {
  (void)state;
  nb_dgmsvc_t *e = mk(NB_NSNODE_TYPE_B);
  uint8_t buf[300];
  size_t len = build(buf, sizeof buf, NB_DGM_DIRECT_UNIQUE, 7, FAR,
                     "NBTTEST<00>", "NOSUCHNAME<20>", "x");
  assert_int_equal(nb_dgmsvc_recv(e, buf, len, PEER, 138, false, 0),
                   NB_DGMSVC_DROP_NOT_PRESENT);
  no_output(e);
  assert_int_equal(nb_dgmsvc_counters(e)->errors_not_sent, 1);
  /* Sources that are no node's address get nothing either. */
  const uint32_t odd[] = {0, UINT32_MAX, BCAST, IP(224, 0, 0, 1)};
  for (size_t i = 0; i < 4; i++) {
    len = build(buf, sizeof buf, NB_DGM_DIRECT_UNIQUE, 8, odd[i], "NBTTEST<00>",
                "NOSUCHNAME<20>", "x");
    assert_int_equal(nb_dgmsvc_recv(e, buf, len, odd[i], 138, false, 0),
                     NB_DGMSVC_DROP_NOT_PRESENT);
    no_output(e);
  }
  assert_int_equal(nb_dgmsvc_counters(e)->errors_not_sent, 5);
  /* send_errors off (a tool that is not the node's datagram service) */
  nb_dgmsvc_config_t c = cfg_of(NB_NSNODE_TYPE_B);
  c.send_errors = false;
  nb_dgmsvc_t *quiet = mk_cfg(&c);
  len = build(buf, sizeof buf, NB_DGM_DIRECT_UNIQUE, 7, PEER, "NBTTEST<00>",
              "NOSUCHNAME<20>", "x");
  assert_int_equal(nb_dgmsvc_recv(quiet, buf, len, PEER, 138, false, 0),
                   NB_DGMSVC_DROP_NOT_PRESENT);
  no_output(quiet);
  nb_dgmsvc_free(quiet);
  nb_dgmsvc_free(e);
}

/* RFC 1001 17.2: a group destination the node does not hold is discarded
 * quietly, by broadcast and by unicast. */
static void test_group(void **state) {
  (void)state;
  nb_dgmsvc_t *e = mk(NB_NSNODE_TYPE_B);
  add_names(e);
  uint32_t g = bind_name(e, "TESTGRP<1e>");
  assert_int_equal(feed(e, NB_DGM_DIRECT_GROUP, 1, "NBTTEST<00>",
                        "OTHERGRP<1e>", "x", true, 0),
                   NB_DGMSVC_DROP_NOT_MEMBER);
  assert_int_equal(feed(e, NB_DGM_DIRECT_GROUP, 2, "NBTTEST<00>",
                        "OTHERGRP<1e>", "x", false, 0),
                   NB_DGMSVC_DROP_NOT_MEMBER);
  no_output(e);
  no_event(e);
  assert_int_equal(feed(e, NB_DGM_DIRECT_GROUP, 3, "NBTTEST<00>", "TESTGRP<1e>",
                        "grp", true, 0),
                   NB_DGMSVC_DROP_NONE);
  const nb_dgmsvc_event_t *ev = event(e, NB_DGMSVC_EV_DATAGRAM);
  assert_int_equal(ev->id, g);
  assert_int_equal(ev->msg_type, NB_DGM_DIRECT_GROUP);
  assert_true(ev->was_broadcast);
  no_output(e);
  nb_dgmsvc_free(e);
}

/* RFC 1002 5.3.3: '*' destinations go to the RECEIVE BROADCAST requests;
 * the branch is on the name, so a DIRECT_UNIQUE to '*' is one too. */
static void test_broadcast_and_monitor(void **state) {
  (void)state;
  nb_dgmsvc_t *e = mk(NB_NSNODE_TYPE_B);
  add_names(e);
  uint32_t named = bind_name(e, "XYKON-2<20>"), bc = 0, mon = 0;
  assert_int_equal(nb_dgmsvc_bind(e, NULL, NB_DGMSVC_BIND_BROADCAST, &bc),
                   NB_OK);
  assert_int_equal(
      feed(e, NB_DGM_BROADCAST, 1, "NBTTEST<00>", "*<00>", "b", true, 0),
      NB_DGMSVC_DROP_NONE);
  assert_int_equal(event(e, NB_DGMSVC_EV_DATAGRAM)->id, bc);
  no_event(e);
  assert_int_equal(
      feed(e, NB_DGM_DIRECT_UNIQUE, 2, "NBTTEST<00>", "*<00>", "b", false, 0),
      NB_DGMSVC_DROP_NONE);
  assert_int_equal(event(e, NB_DGMSVC_EV_DATAGRAM)->id, bc);
  no_output(e);
  assert_int_equal(nb_dgmsvc_unbind(e, bc), NB_OK);
  assert_int_equal(
      feed(e, NB_DGM_BROADCAST, 3, "NBTTEST<00>", "*<00>", "b", true, 0),
      NB_DGMSVC_DROP_NO_LISTENER);
  /* A monitor: broadcasts, groups it is not in, and the node's own names;
   * never unique datagrams for other names (those still get an error). */
  assert_int_equal(nb_dgmsvc_bind(e, NULL, NB_DGMSVC_BIND_MONITOR, &mon),
                   NB_OK);
  assert_int_equal(feed(e, NB_DGM_DIRECT_GROUP, 4, "NBTTEST<20>", "TESTGRP<1d>",
                        "announce", true, 0),
                   NB_DGMSVC_DROP_NONE);
  assert_int_equal(event(e, NB_DGMSVC_EV_DATAGRAM)->id, mon);
  no_event(e);
  assert_int_equal(feed(e, NB_DGM_DIRECT_UNIQUE, 5, "NBTTEST<00>",
                        "XYKON-2<20>", "u", false, 0),
                   NB_DGMSVC_DROP_NONE);
  assert_int_equal(event(e, NB_DGMSVC_EV_DATAGRAM)->id, named);
  assert_int_equal(event(e, NB_DGMSVC_EV_DATAGRAM)->id, mon);
  assert_int_equal(feed(e, NB_DGM_DIRECT_UNIQUE, 6, "NBTTEST<00>",
                        "ELSEWHERE<20>", "u", false, 0),
                   NB_DGMSVC_DROP_NOT_PRESENT);
  no_event(e);
  assert_true(pop(e, &P));
  assert_int_equal(P.m.msg_type, NB_DGM_ERROR);
  nb_dgmsvc_free(e);
}

static void test_scope(void **state) {
  (void)state;
  nb_dgmsvc_config_t c = cfg_of(NB_NSNODE_TYPE_B);
  strcpy(c.scope, "nbtlab.example");
  nb_dgmsvc_t *e = mk_cfg(&c);
  nb_name_t own = nm("XYKON-2<20>.nbtlab.example");
  assert_int_equal(nb_dgmsvc_name_add(e, &own, false), NB_OK);
  uint32_t id = bind_name(e, "XYKON-2<20>.NBTLAB.EXAMPLE");
  assert_int_equal(feed(e, NB_DGM_DIRECT_UNIQUE, 1, "A<00>.nbtlab.example",
                        "XYKON-2<20>.NBTLAB.example", "s", false, 0),
                   NB_DGMSVC_DROP_NONE);
  assert_int_equal(event(e, NB_DGMSVC_EV_DATAGRAM)->id, id);
  /* Unscoped and other-scoped destinations: discarded, no error. */
  assert_int_equal(
      feed(e, NB_DGM_DIRECT_UNIQUE, 2, "A<00>", "XYKON-2<20>", "s", false, 0),
      NB_DGMSVC_DROP_OTHER_SCOPE);
  assert_int_equal(
      feed(e, NB_DGM_BROADCAST, 3, "A<00>.other", "*<00>.other", "s", true, 0),
      NB_DGMSVC_DROP_OTHER_SCOPE);
  no_output(e);
  no_event(e);
  nb_dgmsvc_free(e);
}

static void test_p_node_and_own_broadcasts(void **state) {
  (void)state;
  nb_dgmsvc_t *p = mk(NB_NSNODE_TYPE_P);
  add_names(p);
  bind_name(p, "TESTGRP<1e>");
  assert_int_equal(feed(p, NB_DGM_DIRECT_GROUP, 1, "NBTTEST<00>", "TESTGRP<1e>",
                        "x", true, 0),
                   NB_DGMSVC_DROP_BROADCAST_IGNORED); /* RFC 1002 5.3.3 */
  assert_int_equal(feed(p, NB_DGM_DIRECT_GROUP, 1, "NBTTEST<00>", "TESTGRP<1e>",
                        "x", false, 0),
                   NB_DGMSVC_DROP_NONE);
  nb_dgmsvc_free(p);
  nb_dgmsvc_t *b = mk(NB_NSNODE_TYPE_B);
  uint8_t buf[200];
  size_t len = build(buf, sizeof buf, NB_DGM_BROADCAST, 9, ME, "XYKON-2<00>",
                     "*<00>", "mine");
  assert_int_equal(nb_dgmsvc_recv(b, buf, len, ME, 138, true, 0),
                   NB_DGMSVC_DROP_OWN);
  /* from our address but another port (a tool on this host): handled */
  assert_int_equal(nb_dgmsvc_recv(b, buf, len, ME, 40000, true, 0),
                   NB_DGMSVC_DROP_NO_LISTENER);
  check_counters_sum(b);
  nb_dgmsvc_free(b);
}

/* RFC 1001 17.1.2: at most 512 bytes of user data. A hand-built 600-byte
 * datagram parses (with a finding) and is dropped by the service. */
static void test_user_data_over_512(void **state) {
  (void)state;
  nb_dgmsvc_t *e = mk(NB_NSNODE_TYPE_B);
  add_names(e);
  bind_name(e, "XYKON-2<20>");
  uint8_t buf[800], data[600];
  memset(data, 'z', sizeof data);
  nb_name_t s = nm("NBTTEST<00>"), d = nm("XYKON-2<20>");
  nb_dgm_msg_t m;
  nb_wr_t w;
  size_t len = 0;
  nb_dgm_init(&m, NB_DGM_DIRECT_UNIQUE, 5, PEER, 138);
  assert_int_equal(nb_dgm_set_datagram(&m, &s, &d, data, 512), NB_OK);
  m.data_len = sizeof data; /* past the codec's own limit */
  m.dgm_length = (uint16_t)(nb_dgm_names_len(&m) + sizeof data);
  nb_wr_init(&w, buf, sizeof buf);
  nb_dgm_write(&w, &m);
  assert_int_equal(nb_wr_finish(&w, &len), NB_OK);
  assert_int_equal(nb_dgmsvc_recv(e, buf, len, PEER, 138, false, 0),
                   NB_DGMSVC_DROP_USER_DATA_LONG);
  no_event(e);
  no_output(e);
  nb_dgmsvc_free(e);
}

/* Malformed packets: counted reasons; 0x83/0x84 only by unicast. */
static void test_malformed(void **state) {
  (void)state;
  nb_dgmsvc_t *e = mk(NB_NSNODE_TYPE_B);
  uint8_t buf[300];
  size_t n;
  memset(buf, 0, sizeof buf);
  assert_int_equal(nb_dgmsvc_recv(e, NULL, 0, PEER, 138, false, 0),
                   NB_DGMSVC_DROP_TRUNCATED);
  n = nb_test_unhex("10 02 00 01 c0 00 02 0a 00", buf, sizeof buf);
  assert_int_equal(nb_dgmsvc_recv(e, buf, n, PEER, 138, false, 0),
                   NB_DGMSVC_DROP_TRUNCATED);
  n = nb_test_unhex("20 02 00 01 c0 00 02 0a 00 8a 00 00 00 00", buf,
                    sizeof buf);
  assert_int_equal(nb_dgmsvc_recv(e, buf, n, PEER, 138, false, 0),
                   NB_DGMSVC_DROP_MALFORMED);
  no_output(e);
  /* A 31-byte first label as SOURCE_NAME: 0x83 to the sender. */
  n = nb_test_unhex("10 02 12 34 c0 00 02 0a 00 8a 00 28 00 00 1f", buf,
                    sizeof buf);
  memset(buf + n, 'A', 31);
  buf[n + 31] = 0;
  n += 32;
  n += 8; /* zero padding: DGM_LENGTH 40 */
  assert_int_equal(nb_dgmsvc_recv(e, buf, n, PEER, CPORT, false, 0),
                   NB_DGMSVC_DROP_BAD_SOURCE_NAME);
  assert_true(pop(e, &P));
  assert_int_equal(P.m.msg_type, NB_DGM_ERROR);
  assert_int_equal(P.m.error_code, NB_DGM_ERR_INVALID_SOURCE_NAME);
  assert_int_equal(P.m.dgm_id, 0x1234);
  assert_int_equal(P.out.dst_port, CPORT);
  assert_int_equal(nb_dgmsvc_recv(e, buf, n, PEER, CPORT, true, 0),
                   NB_DGMSVC_DROP_BAD_SOURCE_NAME);
  no_output(e);
  /* A label pointer as DESTINATION_NAME (RFC 1002 4.1): 0x84. */
  size_t at = build(buf, sizeof buf, NB_DGM_DIRECT_UNIQUE, 0x4321, PEER,
                    "NBTTEST<00>", "XYKON-2<20>", "");
  assert_int_equal(at, 14 + 34 + 34);
  buf[14 + 34] = 0xc0;
  buf[14 + 34 + 1] = 0x0e;
  assert_int_equal(nb_dgmsvc_recv(e, buf, at, PEER, CPORT, false, 0),
                   NB_DGMSVC_DROP_BAD_DEST_NAME);
  assert_true(pop(e, &P));
  assert_int_equal(P.m.error_code, NB_DGM_ERR_INVALID_DEST_NAME);
  no_output(e);
  check_counters_sum(e);
  nb_dgmsvc_free(e);
}

/* Fragments (RFC 1002 5.3.3): held until complete or FRAGMENT_TO. */
static void test_fragments(void **state) {
  (void)state;
  nb_dgmsvc_t *e = mk(NB_NSNODE_TYPE_B);
  add_names(e);
  uint32_t id = bind_name(e, "XYKON-2<20>");
  uint8_t data[512], f1[600], f2[600];
  for (size_t i = 0; i < sizeof data; i++)
    data[i] = (uint8_t)(i * 7);
  nb_name_t s = nm("NBTTEST<00>"), d = nm("XYKON-2<20>");
  nb_dgm_msg_t m, frag;
  nb_dgm_split_t sp;
  nb_wr_t w;
  size_t l1 = 0, l2 = 0;
  nb_dgm_init(&m, NB_DGM_DIRECT_UNIQUE, 77, PEER, 138);
  assert_int_equal(nb_dgm_set_datagram(&m, &s, &d, data, sizeof data), NB_OK);
  assert_int_equal(nb_dgm_split_init(&sp, &m, 300), NB_OK);
  assert_true(nb_dgm_split_next(&sp, &frag));
  nb_wr_init(&w, f1, sizeof f1);
  nb_dgm_write(&w, &frag);
  assert_int_equal(nb_wr_finish(&w, &l1), NB_OK);
  assert_true(nb_dgm_split_next(&sp, &frag));
  nb_wr_init(&w, f2, sizeof f2);
  nb_dgm_write(&w, &frag);
  assert_int_equal(nb_wr_finish(&w, &l2), NB_OK);
  assert_true(nb_dgm_split_next(&sp, &frag)); /* three: 300-byte payloads */
  /* the third is dropped on purpose: the datagram stays incomplete */
  assert_int_equal(nb_dgmsvc_recv(e, f2, l2, PEER, 138, false, 100),
                   NB_DGMSVC_DROP_NONE); /* out of order: kept */
  assert_int_equal(nb_dgmsvc_recv(e, f1, l1, PEER, 138, false, 500),
                   NB_DGMSVC_DROP_NONE);
  no_event(e);
  assert_int_equal(nb_dgmsvc_next_deadline(e), 100 + 2000); /* FRAGMENT_TO */
  nb_dgmsvc_on_timer(e, 2099);
  assert_true(nb_dgmsvc_reasm_bytes(e) > 0);
  nb_dgmsvc_on_timer(e, 2100);
  assert_int_equal(nb_dgmsvc_reasm_bytes(e), 0);
  assert_int_equal(nb_dgmsvc_reasm_stats(e)->expired, 1);
  assert_int_equal(nb_dgmsvc_next_deadline(e), UINT64_MAX);
  /* Again with every fragment: one delivery of all 512 bytes. */
  uint8_t f3[600];
  size_t l3 = 0;
  nb_wr_init(&w, f3, sizeof f3);
  nb_dgm_write(&w, &frag);
  assert_int_equal(nb_wr_finish(&w, &l3), NB_OK);
  assert_int_equal(nb_dgmsvc_recv(e, f3, l3, PEER, 138, false, 3000),
                   NB_DGMSVC_DROP_NONE);
  assert_int_equal(nb_dgmsvc_recv(e, f1, l1, PEER, 138, false, 3001),
                   NB_DGMSVC_DROP_NONE);
  assert_int_equal(nb_dgmsvc_recv(e, f1, l1, PEER, 138, false, 3001),
                   NB_DGMSVC_DROP_FRAGMENT); /* a duplicate */
  assert_int_equal(nb_dgmsvc_recv(e, f2, l2, PEER, 138, false, 3002),
                   NB_DGMSVC_DROP_NONE);
  const nb_dgmsvc_event_t *ev = event(e, NB_DGMSVC_EV_DATAGRAM);
  assert_int_equal(ev->id, id);
  assert_int_equal(ev->data_len, sizeof data);
  assert_memory_equal(ev->data, data, sizeof data);
  no_event(e);
  no_output(e);
  assert_int_equal(nb_dgmsvc_counters(e)->rx_datagrams, 1);
  check_counters_sum(e);
  nb_dgmsvc_free(e);
}

/* Every response takes a token: 10 at once from one source, then 5/s. */
static void test_rate_limit(void **state) {
  (void)state;
  nb_dgmsvc_t *e = mk(NB_NSNODE_TYPE_B);
  size_t sent = 0;
  for (int i = 0; i < 30; i++) {
    (void)feed(e, NB_DGM_DIRECT_UNIQUE, (uint16_t)i, "NBTTEST<00>", "NO<20>",
               "x", false, 1000);
    while (pop(e, &P))
      sent++;
  }
  assert_int_equal(sent, 10); /* rl_burst */
  assert_int_equal(nb_dgmsvc_counters(e)->rate_limited, 20);
  (void)feed(e, NB_DGM_DIRECT_UNIQUE, 99, "NBTTEST<00>", "NO<20>", "x", false,
             1199);
  no_output(e);
  (void)feed(e, NB_DGM_DIRECT_UNIQUE, 99, "NBTTEST<00>", "NO<20>", "x", false,
             1200); /* 200 ms at 5/s: one token */
  assert_true(pop(e, &P));
  /* another source has its own bucket */
  uint8_t buf[200];
  size_t len = build(buf, sizeof buf, NB_DGM_DIRECT_UNIQUE, 1, PEER2,
                     "NBTTEST<00>", "NO<20>", "x");
  assert_int_equal(nb_dgmsvc_recv(e, buf, len, PEER2, 138, false, 1200),
                   NB_DGMSVC_DROP_NOT_PRESENT);
  assert_true(pop(e, &P));
  assert_int_equal(P.out.dst_ip, PEER2);
  nb_dgmsvc_free(e);
}

/* ---- sending (RFC 1002 5.3.1, 5.3.2) --------------------------------------
 */

static nb_dgmsvc_send_req_t req(nb_dgmsvc_to_t to, const char *from,
                                const char *dst, const char *data) {
  nb_dgmsvc_send_req_t r;
  memset(&r, 0, sizeof r);
  r.to = to;
  r.source = nm(from);
  r.destination = nm(dst);
  r.data = (const uint8_t *)data;
  r.len = strlen(data);
  return r;
}

static void test_send_checks(void **state) {
  (void)state;
  nb_dgmsvc_t *e = mk(NB_NSNODE_TYPE_B);
  add_names(e);
  uint8_t big[513];
  uint32_t h = 0;
  nb_diag_t d = {NB_OK, 0, NULL};
  memset(big, 'b', sizeof big);
  nb_dgmsvc_send_req_t r =
      req(NB_DGMSVC_TO_NAME, "XYKON-2<00>", "NBTTEST<00>", "");
  r.data = big;
  r.len = 513;
  assert_int_equal(nb_dgmsvc_send(e, &r, 0, &h, &d), NB_ELIMIT);
  assert_non_null(strstr(d.field, "512"));
  r.len = 512;
  r.ip = PEER;
  assert_int_equal(nb_dgmsvc_send(e, &r, 0, &h, &d), NB_OK);
  assert_true(h != 0);
  r = req(NB_DGMSVC_TO_NAME, "STRANGER<00>", "NBTTEST<00>", "x");
  assert_int_equal(nb_dgmsvc_send(e, &r, 0, &h, &d), NB_ENOTFOUND);
  r.flags = NB_DGMSVC_SEND_ANY_SOURCE;
  assert_int_equal(nb_dgmsvc_send(e, &r, 0, &h, &d), NB_OK);
  r = req(NB_DGMSVC_TO_NAME, "XYKON-2<00>", "*<00>", "x");
  assert_int_equal(nb_dgmsvc_send(e, &r, 0, &h, &d), NB_EINVAL);
  r = req(NB_DGMSVC_TO_NAME, "XYKON-2<00>", "NBTTEST<00>", "x");
  r.data = NULL;
  assert_int_equal(nb_dgmsvc_send(e, &r, 0, &h, &d), NB_EINVAL);
  assert_int_equal(nb_dgmsvc_send(e, NULL, 0, &h, &d), NB_EINVAL);
  /* The first packet must hold both names (RFC 1002 5.3.1); the names
   * take the node's scope whatever the request says. */
  nb_dgmsvc_config_t c = cfg_of(NB_NSNODE_TYPE_B);
  c.max_payload = 100;
  nb_dgmsvc_t *small = mk_cfg(&c);
  r = req(NB_DGMSVC_TO_NAME, "A<00>", "B<00>.some.long.scope.example", "x");
  r.flags = NB_DGMSVC_SEND_ANY_SOURCE;
  r.ip = PEER;
  assert_int_equal(nb_dgmsvc_send(small, &r, 0, &h, &d), NB_OK);
  assert_true(pop(small, &P));
  assert_int_equal(P.m.destination_name.scope_len, 0);
  nb_dgmsvc_free(small);
  strcpy(c.scope, "nbtlab.example"); /* 14 + 2 * 49 bytes >= 100 */
  small = mk_cfg(&c);
  assert_int_equal(nb_dgmsvc_send(small, &r, 0, &h, &d), NB_ELIMIT);
  assert_non_null(strstr(d.field, "names"));
  nb_dgmsvc_free(small);
  /* The pending table: 32 sends waiting for names (one is waiting from
   * the ANY_SOURCE send above), then ELIMIT. */
  r = req(NB_DGMSVC_TO_NAME, "XYKON-2<00>", "NBTTEST<00>", "x");
  for (int i = 1; i < NB_DGMSVC_MAX_SENDS; i++)
    assert_int_equal(nb_dgmsvc_send(e, &r, 0, &h, NULL), NB_OK);
  assert_int_equal(nb_dgmsvc_send(e, &r, 0, &h, &d), NB_ELIMIT);
  nb_dgmsvc_free(e);
}

/* Check one queued payload against the send: a whole datagram or a
 * fragment of `type` from us to `ip`. */
static void expect_dgram(nb_dgmsvc_t *e, uint8_t type, uint32_t ip,
                         bool bcast) {
  assert_true(pop(e, &P));
  assert_int_equal(P.m.msg_type, type);
  assert_int_equal(P.out.dst_ip, ip);
  assert_int_equal(P.out.dst_port, 138);
  assert_int_equal(P.out.broadcast, bcast);
  assert_int_equal(P.m.source_port, 138);
  assert_int_equal(P.m.source_ip, P.out.src_ip);
  assert_true(P.out.len <= 548);
  assert_int_equal(P.m.n_findings, 0);
}

/* TO_NAME: the name is resolved by the shell; a unique answer is unicast
 * to its owner (RFC 1002 5.3.1), fragmented above 548 bytes. */
static void test_send_unique(void **state) {
  (void)state;
  nb_dgmsvc_t *e = mk(NB_NSNODE_TYPE_B);
  add_names(e);
  uint8_t data[512];
  for (size_t i = 0; i < sizeof data; i++)
    data[i] = (uint8_t)(i ^ 0x5a);
  nb_dgmsvc_send_req_t r =
      req(NB_DGMSVC_TO_NAME, "xykon-2<00>", "NBTTEST<20>", "");
  r.data = data;
  r.len = sizeof data;
  uint32_t h = 0;
  assert_int_equal(nb_dgmsvc_send(e, &r, 1000, &h, NULL), NB_OK);
  no_output(e);
  no_event(e);
  nb_dgmsvc_resolve_t rq;
  assert_true(nb_dgmsvc_next_resolve(e, &rq));
  nb_dgmsvc_resolve_t again;
  assert_false(nb_dgmsvc_next_resolve(e, &again)); /* handed out once */
  nb_name_t want = nm("NBTTEST<20>");
  assert_true(nb_name_equal(&rq.name, &want));
  assert_false(rq.members);
  nb_dgmsvc_resolved(e, rq.id + 1000, NB_NSNODE_FOUND, false, &PEER, 1, 1100);
  no_output(e); /* an unknown id is ignored */
  nb_dgmsvc_resolved(e, rq.id, NB_NSNODE_FOUND, false, &PEER, 1, 1100);
  /* Two fragments reassemble into the same datagram. */
  nb_dgm_reasm_t ra;
  nb_dgm_msg_t whole;
  assert_int_equal(nb_dgm_reasm_init(&ra, NULL), NB_OK);
  expect_dgram(e, NB_DGM_DIRECT_UNIQUE, PEER, false);
  assert_int_equal(P.m.flags & 3, NB_DGM_FLAG_F | NB_DGM_FLAG_M);
  assert_int_equal(nb_dgm_reasm_add(&ra, &P.m, 0, &whole),
                   NB_DGM_REASM_PENDING);
  uint16_t id = P.m.dgm_id;
  expect_dgram(e, NB_DGM_DIRECT_UNIQUE, PEER, false);
  assert_int_equal(P.m.flags & 3, 0);
  assert_int_equal(P.m.dgm_id, id);
  assert_int_equal(nb_dgm_reasm_add(&ra, &P.m, 0, &whole),
                   NB_DGM_REASM_COMPLETE);
  assert_int_equal(whole.data_len, sizeof data);
  assert_memory_equal(whole.data, data, sizeof data);
  nb_name_t src = nm("xykon-2<00>");
  assert_true(nb_name_equal(&whole.source_name, &src));
  no_output(e);
  const nb_dgmsvc_event_t *ev = event(e, NB_DGMSVC_EV_SEND_DONE);
  assert_int_equal(ev->id, h);
  assert_int_equal(ev->err, NB_OK);
  assert_int_equal(ev->msg_type, NB_DGM_DIRECT_UNIQUE);
  assert_int_equal(ev->n_packets, 2);
  assert_int_equal(ev->dst_ip, PEER);
  assert_int_equal(nb_dgmsvc_next_deadline(e), UINT64_MAX);
  nb_dgmsvc_free(e);
}

static void test_send_resolution_fails(void **state) {
  (void)state;
  nb_dgmsvc_t *e = mk(NB_NSNODE_TYPE_B);
  add_names(e);
  nb_dgmsvc_send_req_t r =
      req(NB_DGMSVC_TO_NAME, "XYKON-2<00>", "GONE<20>", "x");
  nb_dgmsvc_resolve_t rq;
  uint32_t h1 = 0, h2 = 0, h3 = 0;
  assert_int_equal(nb_dgmsvc_send(e, &r, 0, &h1, NULL), NB_OK);
  assert_int_equal(nb_dgmsvc_send(e, &r, 0, &h2, NULL), NB_OK);
  assert_true(nb_dgmsvc_next_resolve(e, &rq));
  nb_dgmsvc_resolved(e, rq.id, NB_NSNODE_NOT_FOUND, false, NULL, 0, 10);
  const nb_dgmsvc_event_t *ev = event(e, NB_DGMSVC_EV_SEND_DONE);
  assert_int_equal(ev->id, h1);
  assert_int_equal(ev->err, NB_ENOTFOUND);
  assert_true(nb_dgmsvc_next_resolve(e, &rq));
  nb_dgmsvc_resolved(e, rq.id, NB_NSNODE_TIMEOUT, false, NULL, 0, 10);
  ev = event(e, NB_DGMSVC_EV_SEND_DONE);
  assert_int_equal(ev->id, h2);
  assert_int_equal(ev->err, NB_ETIMEDOUT);
  /* The shell never answers: the engine gives up after 30 s. */
  assert_int_equal(nb_dgmsvc_send(e, &r, 100, &h3, NULL), NB_OK);
  assert_int_equal(nb_dgmsvc_next_deadline(e), 100 + 30000);
  nb_dgmsvc_on_timer(e, 30099);
  no_event(e);
  nb_dgmsvc_on_timer(e, 30100);
  ev = event(e, NB_DGMSVC_EV_SEND_DONE);
  assert_int_equal(ev->id, h3);
  assert_int_equal(ev->err, NB_ETIMEDOUT);
  no_output(e);
  assert_int_equal(nb_dgmsvc_counters(e)->sends_failed, 3);
  nb_dgmsvc_free(e);
}

/* B node, group answer: DIRECT_GROUP broadcast on every interface (once
 * per subnet) and a local copy for our own bindings of the group. */
static void test_send_group_b(void **state) {
  (void)state;
  nb_dgmsvc_config_t c = cfg_of(NB_NSNODE_TYPE_B);
  c.ifaces[1].ip = ME2;
  c.ifaces[1].netmask = MASK;
  c.ifaces[2].ip = ME + 1; /* a second address in the first subnet */
  c.ifaces[2].netmask = MASK;
  c.n_ifaces = 3;
  nb_dgmsvc_t *e = mk_cfg(&c);
  add_names(e);
  uint32_t mine = bind_name(e, "TESTGRP<1e>");
  nb_dgmsvc_send_req_t r =
      req(NB_DGMSVC_TO_NAME, "XYKON-2<00>", "TESTGRP<1e>", "g");
  nb_dgmsvc_resolve_t rq;
  uint32_t h = 0;
  assert_int_equal(nb_dgmsvc_send(e, &r, 0, &h, NULL), NB_OK);
  assert_true(nb_dgmsvc_next_resolve(e, &rq));
  uint32_t members[2] = {PEER, PEER2};
  nb_dgmsvc_resolved(e, rq.id, NB_NSNODE_FOUND, true, members, 2, 0);
  expect_dgram(e, NB_DGM_DIRECT_GROUP, BCAST, true);
  assert_int_equal(P.m.source_ip, ME);
  expect_dgram(e, NB_DGM_DIRECT_GROUP, BCAST2, true);
  assert_int_equal(P.m.source_ip, ME2);
  no_output(e);
  const nb_dgmsvc_event_t *ev = event(e, NB_DGMSVC_EV_DATAGRAM);
  assert_int_equal(ev->id, mine);
  assert_true(ev->was_broadcast);
  ev = event(e, NB_DGMSVC_EV_SEND_DONE);
  assert_int_equal(ev->err, NB_OK);
  assert_int_equal(ev->n_dests, 2);
  /* TO_GROUP: no resolution at all. TO_BROADCAST: '*'. */
  r = req(NB_DGMSVC_TO_GROUP, "XYKON-2<00>", "TESTGRP<1d>", "announce");
  assert_int_equal(nb_dgmsvc_send(e, &r, 0, &h, NULL), NB_OK);
  assert_false(nb_dgmsvc_next_resolve(e, &rq));
  expect_dgram(e, NB_DGM_DIRECT_GROUP, BCAST, true);
  expect_dgram(e, NB_DGM_DIRECT_GROUP, BCAST2, true);
  assert_int_equal(event(e, NB_DGMSVC_EV_SEND_DONE)->err, NB_OK);
  uint32_t bc = 0;
  assert_int_equal(nb_dgmsvc_bind(e, NULL, NB_DGMSVC_BIND_BROADCAST, &bc),
                   NB_OK);
  r = req(NB_DGMSVC_TO_BROADCAST, "XYKON-2<00>", "IGNORED<00>", "all");
  assert_int_equal(nb_dgmsvc_send(e, &r, 0, &h, NULL), NB_OK);
  expect_dgram(e, NB_DGM_BROADCAST, BCAST, true);
  nb_name_t star = nm("*<00>");
  assert_true(nb_name_equal(&P.m.destination_name, &star));
  expect_dgram(e, NB_DGM_BROADCAST, BCAST2, true);
  assert_int_equal(event(e, NB_DGMSVC_EV_DATAGRAM)->id, bc);
  assert_int_equal(event(e, NB_DGMSVC_EV_SEND_DONE)->err, NB_OK);
  /* An address given: unicast there, no resolution. */
  r = req(NB_DGMSVC_TO_NAME, "XYKON-2<00>", "NBTTEST<00>", "u");
  r.ip = PEER2;
  assert_int_equal(nb_dgmsvc_send(e, &r, 0, &h, NULL), NB_OK);
  expect_dgram(e, NB_DGM_DIRECT_UNIQUE, PEER2, false);
  assert_int_equal(event(e, NB_DGMSVC_EV_SEND_DONE)->err, NB_OK);
  nb_dgmsvc_free(e);
}

static nb_dgmsvc_t *mk_nbdd_client(nb_nsnode_type_t type, bool query) {
  nb_dgmsvc_config_t c = cfg_of(type);
  c.nbdd = NBDD;
  c.nbdd_query = query;
  nb_dgmsvc_t *e = mk_cfg(&c);
  add_names(e);
  return e;
}

/* A DATAGRAM QUERY RESPONSE from the NBDD for the query just popped. */
static void nbdd_answers(nb_dgmsvc_t *e, bool positive, uint32_t from) {
  nb_dgm_msg_t m;
  uint8_t buf[300];
  nb_wr_t w;
  size_t len = 0;
  nb_dgm_init(&m,
              positive ? NB_DGM_POSITIVE_QUERY_RESPONSE
                       : NB_DGM_NEGATIVE_QUERY_RESPONSE,
              P.m.dgm_id, from, 138);
  m.destination_name = P.m.destination_name;
  nb_wr_init(&w, buf, sizeof buf);
  nb_dgm_write(&w, &m);
  assert_int_equal(nb_wr_finish(&w, &len), NB_OK);
  (void)nb_dgmsvc_recv(e, buf, len, from, 138, false, 0);
}

/* RFC 1002 5.3.2: P node, group datagram: query the NBDD; positive ->
 * unicast to the NBDD; negative -> to each member the NBNS lists. */
static void test_send_via_nbdd(void **state) {
  (void)state;
  nb_dgmsvc_t *e = mk_nbdd_client(NB_NSNODE_TYPE_P, true);
  nb_dgmsvc_send_req_t r =
      req(NB_DGMSVC_TO_GROUP, "XYKON-2<00>", "TESTGRP<1e>", "g");
  nb_dgmsvc_resolve_t rq;
  uint32_t h = 0;
  assert_int_equal(nb_dgmsvc_send(e, &r, 0, &h, NULL), NB_OK);
  assert_true(pop(e, &P));
  assert_int_equal(P.m.msg_type, NB_DGM_QUERY_REQUEST);
  assert_int_equal(P.out.dst_ip, NBDD);
  assert_int_equal(NB_DGM_SNT(P.m.flags), NB_DGM_SNT_P);
  nb_name_t g = nm("TESTGRP<1e>");
  assert_true(nb_name_equal(&P.m.destination_name, &g));
  nbdd_answers(e, true, FAR); /* not from the NBDD: ignored */
  no_output(e);
  assert_int_equal(nb_dgmsvc_counters(e)->drop[NB_DGMSVC_DROP_UNSOLICITED], 1);
  nbdd_answers(e, true, NBDD);
  expect_dgram(e, NB_DGM_DIRECT_GROUP, NBDD, false);
  assert_int_equal(NB_DGM_SNT(P.m.flags), NB_DGM_SNT_P);
  assert_int_equal(event(e, NB_DGMSVC_EV_SEND_DONE)->err, NB_OK);
  /* negative: the member list */
  assert_int_equal(nb_dgmsvc_send(e, &r, 0, &h, NULL), NB_OK);
  assert_true(pop(e, &P));
  nbdd_answers(e, false, NBDD);
  no_output(e);
  assert_true(nb_dgmsvc_next_resolve(e, &rq));
  assert_true(rq.members);
  uint32_t members[4] = {PEER, 0, UINT32_MAX, PEER2};
  nb_dgmsvc_resolved(e, rq.id, NB_NSNODE_FOUND, true, members, 4, 0);
  expect_dgram(e, NB_DGM_DIRECT_GROUP, PEER, false);
  expect_dgram(e, NB_DGM_DIRECT_GROUP, PEER2, false);
  no_output(e);
  const nb_dgmsvc_event_t *ev = event(e, NB_DGMSVC_EV_SEND_DONE);
  assert_int_equal(ev->n_dests, 2);
  /* silence: 2 queries 1 s apart, then the member list */
  assert_int_equal(nb_dgmsvc_send(e, &r, 5000, &h, NULL), NB_OK);
  assert_true(pop(e, &P));
  assert_int_equal(nb_dgmsvc_next_deadline(e), 6000);
  nb_dgmsvc_on_timer(e, 6000);
  assert_true(pop(e, &P));
  assert_int_equal(P.m.msg_type, NB_DGM_QUERY_REQUEST);
  nb_dgmsvc_on_timer(e, 7000);
  no_output(e);
  assert_true(nb_dgmsvc_next_resolve(e, &rq));
  assert_true(rq.members);
  /* a broadcast the NBDD refuses has nowhere to go */
  r = req(NB_DGMSVC_TO_BROADCAST, "XYKON-2<00>", "X<00>", "b");
  assert_int_equal(nb_dgmsvc_send(e, &r, 8000, &h, NULL), NB_OK);
  assert_true(pop(e, &P));
  nbdd_answers(e, false, NBDD);
  ev = event(e, NB_DGMSVC_EV_SEND_DONE);
  assert_int_equal(ev->err, NB_ENOTFOUND);
  assert_int_equal(nb_dgmsvc_counters(e)->nbdd_queries, 5);
  nb_dgmsvc_free(e);
}

static void test_send_node_types(void **state) {
  (void)state;
  nb_dgmsvc_send_req_t r =
      req(NB_DGMSVC_TO_BROADCAST, "XYKON-2<00>", "X<00>", "b");
  uint32_t h = 0;
  nb_dgmsvc_resolve_t rq;
  /* M node, NBDD without the query: straight to the NBDD. */
  nb_dgmsvc_t *m = mk_nbdd_client(NB_NSNODE_TYPE_M, false);
  assert_int_equal(nb_dgmsvc_send(m, &r, 0, &h, NULL), NB_OK);
  expect_dgram(m, NB_DGM_BROADCAST, NBDD, false);
  assert_int_equal(NB_DGM_SNT(P.m.flags), NB_DGM_SNT_M);
  nb_dgmsvc_free(m);
  /* H node without an NBDD broadcasts (SNT 3, as Windows). */
  nb_dgmsvc_t *hn = mk(NB_NSNODE_TYPE_H);
  add_names(hn);
  assert_int_equal(nb_dgmsvc_send(hn, &r, 0, &h, NULL), NB_OK);
  expect_dgram(hn, NB_DGM_BROADCAST, BCAST, true);
  assert_int_equal(NB_DGM_SNT(P.m.flags), 3);
  nb_dgmsvc_free(hn);
  /* P node without an NBDD: broadcasts fail; groups go to the members. */
  nb_dgmsvc_t *p = mk(NB_NSNODE_TYPE_P);
  add_names(p);
  assert_int_equal(nb_dgmsvc_send(p, &r, 0, &h, NULL), NB_OK);
  assert_int_equal(event(p, NB_DGMSVC_EV_SEND_DONE)->err, NB_ENOTFOUND);
  no_output(p);
  r = req(NB_DGMSVC_TO_NAME, "XYKON-2<00>", "TESTGRP<1e>", "g");
  assert_int_equal(nb_dgmsvc_send(p, &r, 0, &h, NULL), NB_OK);
  assert_true(nb_dgmsvc_next_resolve(p, &rq));
  assert_false(rq.members);
  nb_dgmsvc_resolved(p, rq.id, NB_NSNODE_FOUND, true, &PEER, 1, 0);
  assert_true(nb_dgmsvc_next_resolve(p, &rq));
  assert_true(rq.members);
  nb_dgmsvc_resolved(p, rq.id, NB_NSNODE_FOUND, true, &PEER2, 1, 0);
  expect_dgram(p, NB_DGM_DIRECT_GROUP, PEER2, false);
  nb_dgmsvc_free(p);
}

/* A DATAGRAM QUERY REQUEST (RFC 1002 4.4.4) for `name` from FAR (a P node
 * elsewhere), DGM_ID 0xabcd. */
static size_t query(uint8_t *buf, size_t cap, const char *name) {
  nb_dgm_msg_t m;
  nb_wr_t w;
  size_t len = 0;
  nb_dgm_init(&m, NB_DGM_QUERY_REQUEST, 0xabcd, FAR, 138);
  m.flags = NB_DGM_SNT_FLAGS(NB_DGM_SNT_P);
  m.destination_name = nm(name);
  nb_wr_init(&w, buf, cap);
  nb_dgm_write(&w, &m);
  assert_int_equal(nb_wr_finish(&w, &len), NB_OK);
  return len;
}

/* RFC 1002 5.3.4: the NBDD answers queries and relays group and broadcast
 * packets as they are. */
static void test_nbdd_role(void **state) {
  (void)state;
  nb_dgmsvc_config_t c = cfg_of(NB_NSNODE_TYPE_B);
  c.nbdd_role = true;
  c.ifaces[1].ip = ME2;
  c.ifaces[1].netmask = MASK;
  c.n_ifaces = 2;
  nb_dgmsvc_t *e = mk_cfg(&c);
  uint8_t buf[300];
  size_t n = query(buf, sizeof buf, "TESTGRP<1e>");
  assert_int_equal(nb_dgmsvc_recv(e, buf, n, FAR, CPORT, false, 0),
                   NB_DGMSVC_DROP_NONE);
  assert_true(pop(e, &P));
  assert_int_equal(P.m.msg_type, NB_DGM_POSITIVE_QUERY_RESPONSE);
  assert_int_equal(P.m.dgm_id, 0xabcd);
  assert_int_equal(P.out.dst_ip, FAR);
  assert_int_equal(P.out.dst_port, CPORT);
  assert_int_equal(P.m.source_port, 138);
  nb_name_t g = nm("TESTGRP<1e>");
  assert_true(nb_name_equal(&P.m.destination_name, &g));
  assert_int_equal(nb_dgmsvc_recv(e, buf, n, FAR, CPORT, true, 0),
                   NB_DGMSVC_DROP_QUERY_BROADCAST);
  no_output(e);
  n = query(buf, sizeof buf, "TESTGRP<1e>.other.scope");
  assert_int_equal(nb_dgmsvc_recv(e, buf, n, FAR, CPORT, false, 0),
                   NB_DGMSVC_DROP_NONE);
  assert_true(pop(e, &P));
  assert_int_equal(P.m.msg_type, NB_DGM_NEGATIVE_QUERY_RESPONSE);
  assert_int_equal(nb_dgmsvc_counters(e)->nbdd_answers, 2);
  /* relay: byte for byte to each subnet's broadcast address */
  size_t len = build(buf, sizeof buf, NB_DGM_DIRECT_GROUP, 5, FAR, "REMOTE<00>",
                     "TESTGRP<1e>", "relay me");
  assert_int_equal(nb_dgmsvc_recv(e, buf, len, FAR, 138, false, 0),
                   NB_DGMSVC_DROP_NOT_MEMBER);
  assert_true(pop(e, &P));
  assert_int_equal(P.out.dst_ip, BCAST);
  assert_true(P.out.broadcast);
  assert_int_equal(P.out.len, len);
  assert_memory_equal(P.buf, buf, len);
  assert_true(pop(e, &P));
  assert_int_equal(P.out.dst_ip, BCAST2);
  no_output(e);
  /* not relayed: unique datagrams, broadcasts we heard */
  assert_int_equal(nb_dgmsvc_recv(e, buf, len, FAR, 138, true, 0),
                   NB_DGMSVC_DROP_NOT_MEMBER);
  no_output(e);
  assert_int_equal(nb_dgmsvc_counters(e)->nbdd_relayed, 2);
  nb_dgmsvc_free(e);
  /* Not the NBDD: queries are dropped. */
  nb_dgmsvc_t *plain = mk(NB_NSNODE_TYPE_B);
  n = query(buf, sizeof buf, "TESTGRP<1e>");
  assert_int_equal(nb_dgmsvc_recv(plain, buf, n, FAR, CPORT, false, 0),
                   NB_DGMSVC_DROP_NOT_NBDD);
  no_output(plain);
  nb_dgmsvc_free(plain);
}

/* A DATAGRAM ERROR that comes back for a recent send is reported to its
 * sender (matched on DGM_ID and the address it went to). */
static void test_error_received(void **state) {
  (void)state;
  nb_dgmsvc_t *e = mk(NB_NSNODE_TYPE_B);
  add_names(e);
  nb_dgmsvc_send_req_t r =
      req(NB_DGMSVC_TO_NAME, "XYKON-2<00>", "NBTTEST<20>", "u");
  uint32_t h = 0;
  r.ip = PEER;
  assert_int_equal(nb_dgmsvc_send(e, &r, 100, &h, NULL), NB_OK);
  expect_dgram(e, NB_DGM_DIRECT_UNIQUE, PEER, false);
  (void)event(e, NB_DGMSVC_EV_SEND_DONE);
  uint8_t err[11] = {0x13, 0, 0, 0, 0xc0, 0, 2, 10, 0, 0x8a, 0x82};
  err[2] = (uint8_t)(P.m.dgm_id >> 8);
  err[3] = (uint8_t)P.m.dgm_id;
  assert_int_equal(nb_dgmsvc_recv(e, err, sizeof err, PEER2, 138, false, 200),
                   NB_DGMSVC_DROP_UNSOLICITED); /* not who we sent to */
  assert_int_equal(nb_dgmsvc_recv(e, err, sizeof err, PEER, 138, true, 200),
                   NB_DGMSVC_DROP_UNSOLICITED); /* errors are unicast */
  assert_int_equal(nb_dgmsvc_recv(e, err, sizeof err, PEER, 138, false, 200),
                   NB_DGMSVC_DROP_NONE);
  const nb_dgmsvc_event_t *ev = event(e, NB_DGMSVC_EV_SEND_ERROR);
  assert_int_equal(ev->id, h);
  assert_int_equal(ev->error_code, 0x82);
  assert_int_equal(ev->peer_ip, PEER);
  no_output(e); /* never an answer to an error, and no NAME RELEASE */
  assert_int_equal(nb_dgmsvc_recv(e, err, sizeof err, PEER, 138, false,
                                  100 + NB_DGMSVC_SENT_KEEP_MS + 1),
                   NB_DGMSVC_DROP_UNSOLICITED);
  assert_int_equal(nb_dgmsvc_counters(e)->errors_received, 3);
  nb_dgmsvc_free(e);
}

/* DGM_IDs: a permutation (65536 distinct) that is not a counter. */
static void test_dgm_ids(void **state) {
  (void)state;
  static uint8_t seen[65536];
  nb_dgmsvc_t *e = mk(NB_NSNODE_TYPE_B);
  nb_dgmsvc_send_req_t r = req(NB_DGMSVC_TO_NAME, "A<00>", "B<00>", "");
  uint32_t h = 0;
  unsigned sequential = 0;
  uint16_t last = 0;
  memset(seen, 0, sizeof seen);
  r.flags = NB_DGMSVC_SEND_ANY_SOURCE;
  r.ip = PEER;
  for (unsigned i = 0; i < 65536; i++) {
    assert_int_equal(nb_dgmsvc_send(e, &r, 0, &h, NULL), NB_OK);
    assert_true(pop(e, &P));
    assert_int_equal(seen[P.m.dgm_id], 0);
    seen[P.m.dgm_id] = 1;
    sequential += i > 0 && P.m.dgm_id == (uint16_t)(last + 1);
    last = P.m.dgm_id;
    nb_dgmsvc_event_t ev;
    assert_true(nb_dgmsvc_next_event(e, &ev));
  }
  assert_true(sequential < 100);
  nb_dgmsvc_free(e);
}

/* Full queues drop and count; nothing grows. */
static void test_queue_caps(void **state) {
  (void)state;
  nb_dgmsvc_t *e = mk(NB_NSNODE_TYPE_B);
  add_names(e);
  bind_name(e, "XYKON-2<20>");
  for (int i = 0; i < NB_DGMSVC_MAX_EVENTS + 5; i++)
    (void)feed(e, NB_DGM_DIRECT_UNIQUE, (uint16_t)i, "N<00>", "XYKON-2<20>",
               "x", false, 0);
  assert_int_equal(nb_dgmsvc_counters(e)->events_dropped, 5);
  nb_dgmsvc_config_t c = cfg_of(NB_NSNODE_TYPE_B);
  c.rl_rate = 0;
  c.rl_global_rate = 0;
  nb_dgmsvc_t *q = mk_cfg(&c);
  for (int i = 0; i < NB_DGMSVC_MAX_OUT + 3; i++)
    (void)feed(q, NB_DGM_DIRECT_UNIQUE, (uint16_t)i, "N<00>", "NO<20>", "x",
               false, 0);
  assert_int_equal(nb_dgmsvc_counters(q)->tx_queue_full, 3);
  assert_int_equal(nb_dgmsvc_counters(q)->errors_sent, NB_DGMSVC_MAX_OUT);
  size_t n = 0;
  while (pop(q, &P))
    n++;
  assert_int_equal(n, NB_DGMSVC_MAX_OUT);
  nb_dgmsvc_free(q);
  nb_dgmsvc_free(e);
}

/* ---- the application protocol codec ---------------------------------------
 */

static void api_roundtrip(const char *line) {
  nb_dgmsvc_api_msg_t m, m2;
  char out[NB_DGMSVC_API_LINE_MAX + 2];
  nb_diag_t d = {NB_OK, 0, NULL};
  size_t len = strlen(line);
  assert_int_equal(nb_dgmsvc_api_parse(line, len, &m, &d), NB_OK);
  size_t n = nb_dgmsvc_api_format(&m, out, sizeof out);
  assert_int_equal(n, len + 1);
  assert_memory_equal(out, line, len);
  assert_int_equal(out[len], '\n');
  assert_int_equal(nb_dgmsvc_api_parse(out, n - 1, &m2, NULL), NB_OK);
  assert_int_equal(m2.verb, m.verb);
}

static void test_api_lines(void **state) {
  (void)state;
  api_roundtrip("BIND b1 XYKON-2<20>");
  api_roundtrip("BIND b2 TESTGRP<1d> group");
  api_roundtrip("BIND b3 *");
  api_roundtrip("MONITOR m");
  api_roundtrip("UNBIND u 17");
  api_roundtrip("SEND s1 name XYKON-2<00> NBTTEST<20> 68656c6c6f");
  api_roundtrip("SEND s2 group - TESTGRP<1e> - 192.0.2.10");
  api_roundtrip("SEND s3 broadcast MY\\x20NAME<00> * 00ff");
  api_roundtrip("PING p");
  api_roundtrip("OK b1 5");
  api_roundtrip("OK p");
  api_roundtrip("ERR s1 ELIMIT user data over 512 bytes");
  api_roundtrip("DGRAM 5 unique 192.0.2.10:138 NBTTEST<00> XYKON-2<20> U 6869");
  api_roundtrip("DGRAM 6 broadcast 192.0.2.10:138 NBTTEST<00> *<00> B -");
  api_roundtrip("DGRAM 7 group 192.0.2.10:138 NBTTEST<00>.nbtlab "
                "TESTGRP<1d>.nbtlab B ff");
  api_roundtrip("SENT s1 unique 2 192.0.2.10");
  api_roundtrip("DERR s1 82 192.0.2.10");
  /* fields */
  nb_dgmsvc_api_msg_t m;
  const char *l = "SEND s3 broadcast MY\\x20NAME<00> * 00ff 10.0.0.1\r";
  assert_int_equal(nb_dgmsvc_api_parse(l, strlen(l), &m, NULL), NB_OK);
  assert_int_equal(m.kind, NB_DGMSVC_API_K_BROADCAST);
  assert_memory_equal(m.from.bytes, "MY NAME        \x00", 16);
  assert_true(m.star);
  assert_int_equal(m.data_len, 2);
  assert_int_equal(m.ip, IP(10, 0, 0, 1));
  l = "ERR x EINVAL";
  assert_int_equal(nb_dgmsvc_api_parse(l, strlen(l), &m, NULL), NB_OK);
  assert_int_equal(m.err, NB_EINVAL);
  assert_string_equal(m.text, "");
}

static void api_bad(const char *line, nb_err_t want, size_t at) {
  nb_dgmsvc_api_msg_t m;
  nb_diag_t d = {NB_OK, 0, NULL};
  assert_int_equal(nb_dgmsvc_api_parse(line, strlen(line), &m, &d), want);
  assert_int_equal(d.offset, at);
  assert_non_null(d.field);
}

static void test_api_errors(void **state) {
  (void)state;
  char big[2 * 513 + 64];
  api_bad("", NB_EMALFORMED, 0);
  api_bad("HELLO x", NB_EMALFORMED, 0);
  api_bad("BIND  X<20>", NB_EMALFORMED, 5);
  api_bad("BIND x", NB_EMALFORMED, 6);
  api_bad("BIND tag/ X<20>", NB_EMALFORMED, 5);
  api_bad("BIND abcdefghijklmnopq X<20>", NB_ELIMIT, 5);
  api_bad("BIND t X<2g>", NB_EMALFORMED, 8);
  api_bad("BIND t * group", NB_EMALFORMED, 9);
  api_bad("UNBIND t 0", NB_EMALFORMED, 9);
  api_bad("SEND t name A B 6", NB_EMALFORMED, 16);
  api_bad("SEND t name A B zz", NB_EMALFORMED, 16);
  api_bad("SEND t broadcast A B -", NB_EMALFORMED, 19);
  api_bad("SEND t name A * -", NB_EMALFORMED, 14);
  api_bad("SEND t name A B - 1.2.3", NB_EMALFORMED, 18);
  api_bad("SEND t wrong A B -", NB_EMALFORMED, 7);
  api_bad("ERR t ENOPE x", NB_EMALFORMED, 6);
  api_bad("DGRAM 0 unique 1.2.3.4:138 A B U -", NB_EMALFORMED, 6);
  api_bad("DGRAM 1 unique 1.2.3.4 A B U -", NB_EMALFORMED, 15);
  api_bad("DGRAM 1 unique 1.2.3.4:70000 A B U -", NB_EMALFORMED, 15);
  api_bad("DGRAM 1 unique 1.2.3.4:1 A B X -", NB_EMALFORMED, 29);
  api_bad("OK t \x01", NB_EMALFORMED, 5);
  strcpy(big, "SEND t name A B ");
  for (int i = 0; i < 513; i++)
    strcat(big, "ab");
  api_bad(big, NB_ELIMIT, 16);
  /* formatting refuses what cannot be a line */
  nb_dgmsvc_api_msg_t m;
  char out[64];
  memset(&m, 0, sizeof m);
  m.verb = NB_DGMSVC_API_PING;
  assert_int_equal(nb_dgmsvc_api_format(&m, out, sizeof out), 0); /* no tag */
  strcpy(m.tag, "a b");
  assert_int_equal(nb_dgmsvc_api_format(&m, out, sizeof out), 0);
  strcpy(m.tag, "ok");
  assert_int_equal(nb_dgmsvc_api_format(&m, out, sizeof out), 8);
  assert_string_equal(out, "PING ok\n");
  assert_int_equal(nb_dgmsvc_api_format(&m, out, 4), 8); /* like snprintf */
  assert_string_equal(out, "PIN");
  m.verb = (nb_dgmsvc_api_verb_t)99;
  assert_int_equal(nb_dgmsvc_api_format(&m, out, sizeof out), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_config),
      cmocka_unit_test(test_names_and_binds),
      cmocka_unit_test(test_unique_own_delivered),
      cmocka_unit_test(test_unique_unknown_error),
      cmocka_unit_test(test_error_not_reflected),
      cmocka_unit_test(test_group),
      cmocka_unit_test(test_broadcast_and_monitor),
      cmocka_unit_test(test_scope),
      cmocka_unit_test(test_p_node_and_own_broadcasts),
      cmocka_unit_test(test_user_data_over_512),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_fragments),
      cmocka_unit_test(test_rate_limit),
      cmocka_unit_test(test_send_checks),
      cmocka_unit_test(test_send_unique),
      cmocka_unit_test(test_send_resolution_fails),
      cmocka_unit_test(test_send_group_b),
      cmocka_unit_test(test_send_via_nbdd),
      cmocka_unit_test(test_send_node_types),
      cmocka_unit_test(test_nbdd_role),
      cmocka_unit_test(test_error_received),
      cmocka_unit_test(test_dgm_ids),
      cmocka_unit_test(test_queue_caps),
      cmocka_unit_test(test_api_lines),
      cmocka_unit_test(test_api_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
