/* SPDX-License-Identifier: BSD-2-Clause */
/* nbt replay's capture reader (src/tools/replay_frame.c, replay_plan.c):
 *  - the link/IPv4/UDP/TCP header parser on a real frame (the Windows XP
 *    query of netbios-ns-b-full-query.pcap) under every link type it
 *    supports, and each rejection with its offset and field; the partial
 *    mode `nbt decode --pcap` uses;
 *  - the plan builder fed packets from memory: NS request/response pairing
 *    by NAME_TRN_ID, and a TCP 139 session whose client stream is cut at
 *    every split point, delivered out of order and with a retransmission,
 *    which must always give the same turns (split-feed equals whole-feed);
 *  - a server FIN before the client's marks the turn as closed;
 *  - a connection that began before the capture is not replayed. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "../../src/tools/replay.h"

/* Frame 1 of pcaps/node-netbios/netbios-ns-b-full-query.pcap. */
#define XP_QUERY_FRAME                                                         \
  "ffffffffffff000c290d06560800"                                               \
  "4500004ebd7600008011661e0a00010c0a0001ff"                                   \
  "00890089003ae724" XP_QUERY_PAYLOAD
#define XP_QUERY_PAYLOAD                                                       \
  "82c701100001000000000000204649464a454c4550454f434e4443434143414341434143"   \
  "4143414341434141410000200001"

static uint8_t frame[256];
static size_t frame_len;

static void load_frame(void **state) {
  (void)state;
  frame_len = nb_test_unhex(XP_QUERY_FRAME, frame, sizeof frame);
}

static void check_query(const nbt_rp_pkt_t *p) {
  uint8_t want[64];
  size_t n = nb_test_unhex(XP_QUERY_PAYLOAD, want, sizeof want);
  assert_int_equal(p->proto, NBT_RP_IPPROTO_UDP);
  assert_int_equal(p->src, 0x0a00010c); /* 10.0.1.12 */
  assert_int_equal(p->dst, 0x0a0001ff);
  assert_int_equal(p->sport, 137);
  assert_int_equal(p->dport, 137);
  assert_int_equal(p->len, n);
  assert_memory_equal(p->payload, want, n);
}

static void test_ethernet(void **state) {
  nbt_rp_pkt_t p;
  load_frame(state);
  assert_int_equal(
      nbt_rp_frame_parse(NBT_RP_LINK_EN10MB, frame, frame_len, &p, NULL),
      NB_OK);
  check_query(&p);
}

/* The same IPv4 packet behind another link header. */
static void relinked(int link, const char *hdr_hex) {
  uint8_t buf[300];
  size_t h = nb_test_unhex(hdr_hex, buf, sizeof buf);
  nbt_rp_pkt_t p;
  memcpy(buf + h, frame + 14, frame_len - 14);
  assert_int_equal(nbt_rp_frame_parse(link, buf, h + frame_len - 14, &p, NULL),
                   NB_OK);
  check_query(&p);
}

static void test_other_links(void **state) {
  load_frame(state);
  relinked(NBT_RP_LINK_EN10MB, "ffffffffffff 000c290d0656 8100 0005 0800");
  relinked(NBT_RP_LINK_EN10MB,
           "ffffffffffff 000c290d0656 88a8 0001 8100 0005 0800");
  relinked(NBT_RP_LINK_RAW, "");
  relinked(NBT_RP_LINK_IPV4, "");
  relinked(NBT_RP_LINK_LINUX_SLL, "0000 0001 0006 000c290d06560000 0800");
  relinked(NBT_RP_LINK_LINUX_SLL2,
           "0800 0000 00000002 0001 00 06 000c290d06560000");
  relinked(NBT_RP_LINK_NULL, "02000000");
  relinked(NBT_RP_LINK_LOOP, "00000002");
}

static void test_ethernet_padding(void **state) {
  uint8_t buf[300];
  nbt_rp_pkt_t p;
  load_frame(state);
  memcpy(buf, frame, frame_len);
  memset(buf + frame_len, 0xee, 20); /* trailer after IP total length */
  assert_int_equal(
      nbt_rp_frame_parse(NBT_RP_LINK_EN10MB, buf, frame_len + 20, &p, NULL),
      NB_OK);
  check_query(&p);
}

static void expect(const uint8_t *f, size_t n, nb_err_t err, size_t offset,
                   const char *field) {
  nbt_rp_pkt_t p;
  nb_diag_t d = {NB_OK, 0, NULL};
  assert_int_equal(nbt_rp_frame_parse(NBT_RP_LINK_EN10MB, f, n, &p, &d), err);
  assert_int_equal(d.offset, offset);
  assert_string_equal(d.field, field);
}

static void test_rejections(void **state) {
  uint8_t b[300];
  load_frame(state);
  memcpy(b, frame, frame_len);
  expect(b, 10, NB_ETRUNCATED, 0, "Ethernet header");
  expect(b, 30, NB_ETRUNCATED, 30, "IPv4 header");
  expect(b, frame_len - 1, NB_ETRUNCATED, 16, "IPv4 total length");
  b[20] = 0x20; /* MF */
  expect(b, frame_len, NB_ELIMIT, 20, "IPv4 fragment (not reassembled)");
  b[20] = 0x00;
  b[21] = 0x01; /* fragment offset 1 */
  expect(b, frame_len, NB_ELIMIT, 20, "IPv4 fragment (not reassembled)");
  b[21] = 0x00;
  b[14] = 0x44; /* IHL 4 */
  expect(b, frame_len, NB_EMALFORMED, 14, "IPv4 IHL / total length");
  b[14] = 0x65; /* version 6 behind EtherType IPv4: broken, as Wireshark */
  expect(b, frame_len, NB_EMALFORMED, 14, "IP version");
  b[14] = 0x45;
  b[39] = 0xff; /* UDP length 0x00ff: beyond the IP body */
  expect(b, frame_len, NB_EMALFORMED, 38, "UDP length");
  b[39] = 0x07; /* below the header */
  expect(b, frame_len, NB_EMALFORMED, 38, "UDP length");
  b[39] = 0x3a;
  b[12] = 0x86, b[13] = 0xdd; /* IPv6 */
  expect(b, frame_len, NB_ENOTFOUND, 14, "not IPv4");
  b[12] = 0x08, b[13] = 0x00;
  b[23] = 1; /* ICMP */
  expect(b, frame_len, NB_ENOTFOUND, 34, "not UDP or TCP");
}

/* NBT_RP_PARTIAL (nbt decode --pcap): a frame cut by the snaplen or a UDP
 * Length past the IP body keeps what the frame holds; the headers must
 * still be whole. Fragments are flagged; a short non-IPv4 raw frame is
 * "not IPv4", not a broken one. */
static void test_partial(void **state) {
  uint8_t b[300];
  uint8_t want[64];
  size_t n = nb_test_unhex(XP_QUERY_PAYLOAD, want, sizeof want);
  nbt_rp_pkt_t p;
  nb_diag_t d = {NB_OK, 0, NULL};
  load_frame(state);
  memcpy(b, frame, frame_len);
  assert_int_equal(nbt_rp_frame_parse_ex(NBT_RP_LINK_EN10MB, b, frame_len - 10,
                                         NBT_RP_PARTIAL, &p, &d),
                   NB_OK);
  assert_int_equal(p.len, n - 10);
  assert_memory_equal(p.payload, want, n - 10);
  b[39] = 0xff; /* UDP length past the IP body */
  assert_int_equal(nbt_rp_frame_parse_ex(NBT_RP_LINK_EN10MB, b, frame_len,
                                         NBT_RP_PARTIAL, &p, &d),
                   NB_OK);
  assert_int_equal(p.len, n);
  b[39] = 0x3a;
  b[14] = 0x46; /* IHL 6: options cut by the snaplen */
  assert_int_equal(
      nbt_rp_frame_parse_ex(NBT_RP_LINK_EN10MB, b, 36, NBT_RP_PARTIAL, &p, &d),
      NB_ETRUNCATED);
  assert_int_equal(d.offset, 14);
  assert_string_equal(d.field, "IPv4 options");
  expect(b, 36, NB_ETRUNCATED, 16, "IPv4 total length");
  b[14] = 0x45;
  assert_false(p.fragment);
  b[20] = 0x20; /* MF */
  assert_int_equal(nbt_rp_frame_parse(NBT_RP_LINK_EN10MB, b, frame_len, &p, &d),
                   NB_ELIMIT);
  assert_true(p.fragment);
  b[0] = 0x60; /* one byte of raw IPv6 */
  assert_int_equal(nbt_rp_frame_parse(NBT_RP_LINK_RAW, b, 1, &p, &d),
                   NB_ENOTFOUND);
  assert_string_equal(d.field, "IP version");
}

static void test_tcp_header(void **state) {
  /* IPv4 + TCP, data offset 5, flags PSH|ACK, seq 0x01020304, 4 bytes. */
  uint8_t b[80];
  size_t n = nb_test_unhex("4500002c0001000040060000c0000264c000020a"
                           "e01f008b0102030400000000501800ff00000000"
                           "82000000",
                           b, sizeof b);
  nbt_rp_pkt_t p;
  nb_diag_t d = {NB_OK, 0, NULL};
  (void)state;
  assert_int_equal(nbt_rp_frame_parse(NBT_RP_LINK_RAW, b, n, &p, &d), NB_OK);
  assert_int_equal(p.proto, NBT_RP_IPPROTO_TCP);
  assert_int_equal(p.sport, 0xe01f);
  assert_int_equal(p.dport, 139);
  assert_int_equal(p.seq, 0x01020304);
  assert_int_equal(p.tcp_flags, 0x18);
  assert_int_equal(p.len, 4);
  b[32] = 0x40; /* data offset 4 */
  assert_int_equal(nbt_rp_frame_parse(NBT_RP_LINK_RAW, b, n, &p, &d),
                   NB_EMALFORMED);
  assert_string_equal(d.field, "TCP data offset");
  b[32] = 0xf0; /* 60 bytes: beyond the packet */
  assert_int_equal(nbt_rp_frame_parse(NBT_RP_LINK_RAW, b, n, &p, &d),
                   NB_EMALFORMED);
  assert_int_equal(nbt_rp_frame_parse(12345, b, n, &p, &d), NB_ENOTFOUND);
}

/* ---- the plan builder ------------------------------------------------- */

#define CLI 0xc0000264u /* 192.0.2.100 */
#define SRV 0xc000020au /* 192.0.2.10 */

typedef struct feed {
  nbt_rp_pkt_t pkts[32];
  size_t n;
} feed_t;

static void add(feed_t *f, bool from_client, uint8_t proto, uint8_t flags,
                uint32_t seq, const uint8_t *p, size_t len) {
  nbt_rp_pkt_t *k = &f->pkts[f->n++];
  memset(k, 0, sizeof *k);
  k->src = from_client ? CLI : SRV;
  k->dst = from_client ? SRV : CLI;
  k->sport = from_client ? 4000 : (proto == NBT_RP_IPPROTO_TCP ? 139 : 137);
  k->dport = from_client ? (proto == NBT_RP_IPPROTO_TCP ? 139 : 137) : 4000;
  k->proto = proto;
  k->tcp_flags = flags;
  k->seq = seq;
  k->payload = p;
  k->len = len;
}

static void build(const feed_t *f, nbt_rp_plan_t *plan) {
  nbt_rp_select_t sel = {true, true, true, 0, 0};
  nbt_rp_builder_t *b = nbt_rp_builder_new(&sel, plan);
  assert_non_null(b);
  for (size_t i = 0; i < f->n; i++) {
    nbt_rp_plan_detect(b, i + 1, (double)i, &f->pkts[i]);
  }
  nbt_rp_builder_choose_server(b);
  for (size_t i = 0; i < f->n; i++) {
    nbt_rp_plan_packet(b, i + 1, (double)i, &f->pkts[i]);
  }
  assert_int_equal(nbt_rp_builder_finish(b), 0);
}

static void test_ns_pairing(void **state) {
  uint8_t q[64];
  uint8_t r[64];
  uint8_t other[64];
  size_t qn = nb_test_unhex(XP_QUERY_PAYLOAD, q, sizeof q);
  feed_t f = {.n = 0};
  nbt_rp_plan_t plan;
  (void)state;
  memcpy(r, q, qn);
  r[2] = 0x85; /* a response with the same id */
  memcpy(other, r, qn);
  other[1] ^= 1; /* another id */
  add(&f, true, NBT_RP_IPPROTO_UDP, 0, 0, q, qn);
  add(&f, false, NBT_RP_IPPROTO_UDP, 0, 0, r, qn);
  add(&f, false, NBT_RP_IPPROTO_UDP, 0, 0, r, qn); /* nmbd's second copy */
  add(&f, false, NBT_RP_IPPROTO_UDP, 0, 0, other, qn);
  build(&f, &plan);
  assert_int_equal(plan.server, SRV);
  assert_int_equal(plan.nexch, 1);
  assert_int_equal(plan.exch[0].kind, NBT_RP_NS);
  assert_int_equal(plan.exch[0].nrec, 2);
  assert_int_equal(plan.exch[0].rec[0].frame, 2);
  assert_int_equal(plan.unpaired, 1);
  nbt_rp_plan_free(&plan);
}

/* The scanner's session request and a positive response, and its SMB1
 * TREE DISCONNECT as a second turn; the client stream is cut at `split`,
 * the two halves sent in reverse order, then the first half again. */
static const char *const REQ =
    "81000044"
    "204647454e4648454a454f4649464143414341434143414341434143414341434100"
    "2046414643454a454f46454546464343414341434143414341434143414341414100";
static const char *const DISC =
    "00000023ff534d42710000000000000000000000000000000000000000080100000840"
    "00000000";

static void session_plan(size_t split, bool reorder, nbt_rp_plan_t *plan) {
  static uint8_t c[200];
  static uint8_t pos[4] = {0x82, 0, 0, 0};
  size_t rn = nb_test_unhex(REQ, c, sizeof c);
  size_t dn = nb_test_unhex(DISC, c + rn, sizeof c - rn);
  uint32_t isn = 0xfffffff0u; /* sequence numbers wrap inside the stream */
  feed_t f = {.n = 0};
  add(&f, true, NBT_RP_IPPROTO_TCP, NBT_RP_TCP_SYN, isn, NULL, 0);
  add(&f, false, NBT_RP_IPPROTO_TCP, NBT_RP_TCP_SYN | NBT_RP_TCP_ACK, 7000,
      NULL, 0);
  if (reorder) {
    add(&f, true, NBT_RP_IPPROTO_TCP, NBT_RP_TCP_ACK, isn + 1 + (uint32_t)split,
        c + split, rn - split);
  }
  add(&f, true, NBT_RP_IPPROTO_TCP, NBT_RP_TCP_ACK, isn + 1, c, split);
  if (!reorder) {
    add(&f, true, NBT_RP_IPPROTO_TCP, NBT_RP_TCP_ACK, isn + 1 + (uint32_t)split,
        c + split, rn - split);
  }
  add(&f, true, NBT_RP_IPPROTO_TCP, NBT_RP_TCP_ACK, isn + 1, c, split);
  add(&f, false, NBT_RP_IPPROTO_TCP, NBT_RP_TCP_ACK, 7001, pos, 4);
  add(&f, true, NBT_RP_IPPROTO_TCP, NBT_RP_TCP_ACK, isn + 1 + (uint32_t)rn,
      c + rn, dn);
  add(&f, false, NBT_RP_IPPROTO_TCP, NBT_RP_TCP_FIN | NBT_RP_TCP_ACK, 7005,
      NULL, 0);
  build(&f, plan);
}

static void test_session_every_split(void **state) {
  uint8_t req[80];
  size_t rn = nb_test_unhex(REQ, req, sizeof req);
  (void)state;
  for (size_t split = 0; split <= rn; split++) {
    for (int reorder = 0; reorder < 2; reorder++) {
      nbt_rp_plan_t plan;
      session_plan(split, reorder != 0, &plan);
      assert_int_equal(plan.nexch, 2);
      assert_int_equal(plan.nconn, 1);
      const nbt_rp_exch_t *e = &plan.exch[0];
      assert_int_equal(e->kind, NBT_RP_SSN);
      assert_int_equal(e->turn, 1);
      assert_false(e->last_turn);
      assert_int_equal(e->req.len, rn);
      assert_memory_equal(e->req.data, req, rn);
      assert_int_equal(e->nrec, 1);
      assert_int_equal(e->rec[0].data[0], 0x82);
      assert_false(e->rec_closed);
      e = &plan.exch[1];
      assert_int_equal(e->turn, 2);
      assert_true(e->last_turn);
      assert_int_equal(e->req.len, 39);
      assert_int_equal(e->nrec, 0);
      assert_true(e->rec_closed); /* the server's FIN came first */
      nbt_rp_plan_free(&plan);
    }
  }
}

/* A connection whose SYN is not in the capture began before it: its
 * session request is missing, so none of it is replayed. */
static void test_midstream_not_replayed(void **state) {
  static uint8_t c[80];
  size_t dn = nb_test_unhex(DISC, c, sizeof c);
  feed_t f = {.n = 0};
  nbt_rp_plan_t plan;
  (void)state;
  add(&f, true, NBT_RP_IPPROTO_TCP, NBT_RP_TCP_ACK, 1000, c, dn);
  add(&f, false, NBT_RP_IPPROTO_TCP, NBT_RP_TCP_ACK, 2000, c, dn);
  build(&f, &plan);
  assert_int_equal(plan.nexch, 0);
  assert_int_equal(plan.nconn, 0);
  assert_int_equal(plan.nnotes, 1);
  assert_non_null(strstr(plan.notes[0], "began before the capture"));
  nbt_rp_plan_free(&plan);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ethernet),
      cmocka_unit_test(test_other_links),
      cmocka_unit_test(test_ethernet_padding),
      cmocka_unit_test(test_rejections),
      cmocka_unit_test(test_partial),
      cmocka_unit_test(test_tcp_header),
      cmocka_unit_test(test_ns_pairing),
      cmocka_unit_test(test_session_every_split),
      cmocka_unit_test(test_midstream_not_replayed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
