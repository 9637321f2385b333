/* SPDX-License-Identifier: BSD-2-Clause */
/* Datagram-service packets (RFC 1002 4.4): golden bytes from real captures
 * and the RFC diagrams, every MSG_TYPE and error code, round trips,
 * pointer rejection, DGM_LENGTH / PACKET_OFFSET checks, findings, and the
 * fragmenting writer.
 *
 * Captures (see pcaps/PROVENANCE.md): arkime/nbns.pcap (Windows 98 browser
 * datagrams), ndpi/netbios.pcap (Windows 7 host announcements), and the
 * generated tshark probe (hand-built valid and malformed datagrams). */
#include <string.h>

#include "testutil.h"

#include "nb/dgm.h"

/* Name encodings used below (RFC 1001 14.1, checked in test_name.c). */
#define FRED_20                                                                \
  "20 4547464345464545434143414341434143414341434143414341434143414341 00"
#define FRED_00                                                                \
  "20 4547464345464545434143414341434143414341434143414341434143414141 00"
#define WG_1D                                                                  \
  "20464845504643454c45484643455046464641434143414341434143414341424e00"
#define STAR_00                                                                \
  "20 434b414141414141414141414141414141414141414141414141414141414141 00"
#define FRED_20_SCOPED                                                         \
  "20 4547464345464545434143414341434143414341434143414341434143414341"        \
  "07 4e455442494f53 03 434f4d 00"

/* Windows 98 HostAnnouncement, MDJR98<00> -> WORKGROUP<1d> (arkime 30). */
static const char ark_host_announcement[] =
    "1102000cc0a8ef81008a00bb000020454e4545454b4643444a44494341434143"
    "4143414341434143414341434141410020464845504643454c45484643455046"
    "464641434143414341434143414341424e00ff534d4225000000000000000000"
    "0000000000000000000000000000000000001100002100000000000000000000"
    "00000000000000000021005600030001000100020032005c4d41494c534c4f54"
    "5c42524f57534500010360ea00004d444a523938000000000000000000000400"
    "03204000150455aa00";

/* The other browser datagrams of the Windows 98 boot (arkime 31, 36, 53,
 * 54, 55) and a Windows 7 announcement with SNT 11 (ndpi 113). */
static const char *const capture_datagrams[] = {
    ark_host_announcement,
    "1102000ec0a8ef81008a00a3000020454e4545454b4643444a44494341434143"
    "4143414341434143414341434143410020464845504643454c45484643455046"
    "464641434143414341434143414341424e00ff534d4225000000000000000000"
    "0000000000000000000000000000000000001100000900000000000000000000"
    "0000000000000000000900560003000100010002001a005c4d41494c534c4f54"
    "5c42524f5753450002004d444a52393800",
    "11020018c0a8ef81008a00af000020454e4545454b4643444a44494341434143"
    "4143414341434143414341434143410020464845504643454c45484643455046"
    "464641434143414341434143414341424f00ff534d4225000000000000000000"
    "0000000000000000000000000000000000001100001500000000000000000000"
    "00000000000000000015005600030001000100020026005c4d41494c534c4f54"
    "5c42524f5753450008010000000000000000000000004d444a52393800",
    "11020028c0a8ef81008a00a3000020454e4545454b4643444a44494341434143"
    "41434143414341434143414341434100204142414346504650454e4644454346"
    "434550464846444546465046504143414200ff534d4225000000000000000000"
    "0000000000000000000000000000000000001100000900000000000000000000"
    "0000000000000000000900560003000100010002001a005c4d41494c534c4f54"
    "5c42524f5753450002004d444a52393800",
    "1102002ac0a8ef81008a00bb000020454e4545454b4643444a44494341434143"
    "4143414341434143414341434141410020464845504643454c45484643455046"
    "464641434143414341434143414341424f00ff534d4225000000000000000000"
    "0000000000000000000000000000000000001100002100000000000000000000"
    "00000000000000000021005600030001000100020032005c4d41494c534c4f54"
    "5c42524f575345000f05c0d401004d444a523938000000000000000000000400"
    "03204500150455aa00",
    "1102002cc0a8ef81008a00c1000020454e4545454b4643444a44494341434143"
    "41434143414341434143414341414100204142414346504650454e4644454346"
    "434550464846444546465046504143414200ff534d4225000000000000000000"
    "0000000000000000000000000000000000001100002700000000000000000000"
    "00000000000000000027005600030001000100020038005c4d41494c534c4f54"
    "5c42524f575345000c00c0d40100574f524b47524f5550000000000000000400"
    "00204080000000004d444a52393800",
    "110ee9090a00055d008a00bb000020454345504648454a454643414341434143"
    "41434143414341434143414341434100204647454a4548454a454d4542454f46"
    "454650454846434550464646414341424e00ff534d4225000000000000000000"
    "00000000000000000000000000000000000011000021000000000000000000e8"
    "03000000000000000021005600030001000000020032005c4d41494c534c4f54"
    "5c42524f57534500010080fc0a00424f57494500000000000000000000000601"
    "071001000f0155aa00",
};

static nb_name_t name_of(const char *text) {
  nb_name_t n;
  assert_int_equal(nb_name_from_text(&n, text, strlen(text), NULL), NB_OK);
  return n;
}

static void assert_name(const nb_name_t *n, const char *want) {
  char buf[NB_NAME_TEXT_MAX];
  nb_name_to_text(n, buf, sizeof buf);
  assert_string_equal(buf, want);
}

static size_t write_msg(const nb_dgm_msg_t *m, uint8_t *buf, size_t cap) {
  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, buf, cap);
  nb_dgm_write(&w, m);
  assert_int_equal(nb_wr_finish(&w, &len), NB_OK);
  return len;
}

static size_t parse_hex(const char *hex, uint8_t *buf, size_t cap,
                        nb_dgm_msg_t *m) {
  size_t len = nb_test_unhex(hex, buf, cap);
  nb_diag_t d = {NB_OK, 0, NULL};
  nb_err_t err = nb_dgm_parse(buf, len, m, &d);
  if (err != NB_OK) {
    print_error("parse failed: %s at %zu: %s\n", nb_errname(err), d.offset,
                d.field);
  }
  assert_int_equal(err, NB_OK);
  return len;
}

/* parse -> write gives the input back, byte for byte. */
static void assert_round_trip(const uint8_t *buf, size_t len) {
  nb_dgm_msg_t m, again;
  uint8_t out[2048];
  assert_int_equal(nb_dgm_parse(buf, len, &m, NULL), NB_OK);
  size_t n = write_msg(&m, out, sizeof out);
  assert_int_equal(n, len);
  assert_memory_equal(out, buf, len);
  assert_int_equal(nb_dgm_parse(out, n, &again, NULL), NB_OK);
  assert_int_equal(again.n_findings, m.n_findings);
}

static void assert_fails(const char *hex, nb_err_t want, size_t offset,
                         const char *field) {
  uint8_t buf[2048];
  size_t len = nb_test_unhex(hex, buf, sizeof buf);
  nb_dgm_msg_t m;
  nb_diag_t d = {NB_OK, 0, NULL};
  assert_int_equal(nb_dgm_parse(buf, len, &m, &d), want);
  assert_int_equal(d.err, want);
  assert_int_equal(d.offset, offset);
  assert_non_null(d.field);
  assert_non_null(strstr(d.field, field));
}

static int count_rule(const nb_dgm_msg_t *m, nb_dgm_rule_t rule) {
  int n = 0;
  for (size_t i = 0; i < m->n_findings; i++) {
    n += m->findings[i].rule == rule;
  }
  return n;
}

static size_t finding_offset(const nb_dgm_msg_t *m, nb_dgm_rule_t rule) {
  for (size_t i = 0; i < m->n_findings; i++) {
    if (m->findings[i].rule == rule) {
      return m->findings[i].offset;
    }
  }
  fail_msg("no finding %s", nb_dgm_rule_id(rule));
  return 0;
}

/* arkime frame 30: every header field, the names and the user data. */
static void test_golden_host_announcement(void **state) {
  (void)state;
  uint8_t buf[512];
  nb_dgm_msg_t m;
  size_t len = parse_hex(ark_host_announcement, buf, sizeof buf, &m);
  assert_int_equal(len, 201);
  assert_int_equal(m.msg_type, NB_DGM_DIRECT_GROUP);
  assert_int_equal(m.flags, NB_DGM_FLAG_F);
  assert_int_equal(NB_DGM_SNT(m.flags), NB_DGM_SNT_B);
  assert_int_equal(m.dgm_id, 0x000c);
  assert_int_equal(m.source_ip, 0xc0a8ef81u); /* 192.168.239.129 */
  assert_int_equal(m.source_port, 138);
  assert_int_equal(m.dgm_length, 187); /* = 201 - 14 */
  assert_int_equal(m.packet_offset, 0);
  assert_name(&m.source_name, "MDJR98<00>");
  assert_name(&m.destination_name, "WORKGROUP<1d>");
  assert_int_equal(nb_dgm_names_len(&m), 68);
  assert_int_equal(m.data_len, 187 - 68);
  assert_ptr_equal(m.data, buf + NB_DGM_HEADER_LEN + 68);
  assert_memory_equal(m.data, "\xffSMB\x25", 5);
  assert_int_equal(m.n_findings, 0);
  assert_true(nb_dgm_is_whole(&m));
  assert_round_trip(buf, len);
}

/* Every browser datagram of the captures parses without a finding and
 * writes back byte-identical; the Windows 7 one carries SNT 11. */
static void test_capture_datagrams(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof capture_datagrams / sizeof *capture_datagrams;
       i++) {
    uint8_t buf[512];
    nb_dgm_msg_t m;
    size_t len = parse_hex(capture_datagrams[i], buf, sizeof buf, &m);
    assert_int_equal(m.dgm_length, len - NB_DGM_HEADER_LEN);
    assert_int_equal(m.n_findings, 0);
    assert_round_trip(buf, len);
  }
  uint8_t buf[512];
  nb_dgm_msg_t m;
  parse_hex(capture_datagrams[6], buf, sizeof buf, &m);
  assert_int_equal(NB_DGM_SNT(m.flags), NB_DGM_SNT_NBDD);
  assert_name(&m.source_name, "BOWIE<20>");
  assert_name(&m.destination_name, "VIGILANT_GROUP<1d>");
  parse_hex(capture_datagrams[3], buf, sizeof buf, &m);
  assert_name(&m.destination_name, "\\x01\\x02__MSBROWSE__\\x02<01>");
}

/* RFC 1002 4.4.2: a DIRECT_UNIQUE datagram built from the model, against
 * bytes laid out by hand from the diagram; and its DIRECT_GROUP and
 * BROADCAST siblings. */
static void test_rfc_datagram_types(void **state) {
  (void)state;
  static const struct {
    uint8_t type;
    const char *dst;
    const char *hex;
  } cases[] = {
      {NB_DGM_DIRECT_UNIQUE, "FRED<20>",
       "10 02 1234 0a000001 008a 0049 0000 " FRED_00 FRED_20 "68656c6c6f"},
      {NB_DGM_DIRECT_GROUP, "WORKGROUP<1d>",
       "11 02 1234 0a000001 008a 0049 0000 " FRED_00 WG_1D "68656c6c6f"},
      {NB_DGM_BROADCAST, "*<00>",
       "12 02 1234 0a000001 008a 0049 0000 " FRED_00 STAR_00 "68656c6c6f"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    nb_dgm_msg_t m, p;
    nb_name_t src = name_of("FRED<00>"), dst = name_of(cases[i].dst);
    nb_dgm_init(&m, cases[i].type, 0x1234, 0x0a000001, NB_DGM_PORT);
    assert_int_equal(
        nb_dgm_set_datagram(&m, &src, &dst, (const uint8_t *)"hello", 5),
        NB_OK);
    uint8_t want[256], got[256];
    size_t want_len = nb_test_unhex(cases[i].hex, want, sizeof want);
    size_t n = write_msg(&m, got, sizeof got);
    assert_int_equal(n, want_len);
    assert_memory_equal(got, want, n);
    assert_int_equal(nb_dgm_parse(got, n, &p, NULL), NB_OK);
    assert_int_equal(p.msg_type, cases[i].type);
    assert_int_equal(p.dgm_length, 73);
    assert_int_equal(p.n_findings, 0);
    assert_true(nb_name_equal(&p.destination_name, &dst));
    assert_memory_equal(p.data, "hello", 5);
  }
}

/* A scoped datagram: DGM_LENGTH counts the scope labels too. */
static void test_scoped_names(void **state) {
  (void)state;
  nb_dgm_msg_t m, p;
  nb_name_t src = name_of("FRED<20>.NETBIOS.COM");
  nb_name_t dst = name_of("FRED<20>.NETBIOS.COM");
  nb_dgm_init(&m, NB_DGM_DIRECT_UNIQUE, 1, 0x0a000001, NB_DGM_PORT);
  assert_int_equal(nb_dgm_set_datagram(&m, &src, &dst, NULL, 0), NB_OK);
  assert_int_equal(m.dgm_length, 2 * 46);
  uint8_t got[256], want[256];
  size_t n = write_msg(&m, got, sizeof got);
  size_t want_len = nb_test_unhex(
      "10 02 0001 0a000001 008a 005c 0000 " FRED_20_SCOPED FRED_20_SCOPED, want,
      sizeof want);
  assert_int_equal(n, want_len);
  assert_memory_equal(got, want, n);
  assert_int_equal(nb_dgm_parse(got, n, &p, NULL), NB_OK);
  assert_string_equal(p.source_name.scope, "NETBIOS.COM");
  assert_int_equal(p.data_len, 0);
  assert_int_equal(p.n_findings, 0);
}

/* RFC 1002 4.4.3: DATAGRAM ERROR with each of the three codes. */
static void test_rfc_error_packet(void **state) {
  (void)state;
  static const uint8_t codes[] = {NB_DGM_ERR_DEST_NAME_NOT_PRESENT,
                                  NB_DGM_ERR_INVALID_SOURCE_NAME,
                                  NB_DGM_ERR_INVALID_DEST_NAME};
  static const char *const names[] = {"DESTINATION NAME NOT PRESENT",
                                      "INVALID SOURCE NAME FORMAT",
                                      "INVALID DESTINATION NAME FORMAT"};
  for (size_t i = 0; i < 3; i++) {
    nb_dgm_msg_t m, p;
    nb_dgm_init(&m, NB_DGM_ERROR, 0xbeef, 0xc0a80001, NB_DGM_PORT);
    m.error_code = codes[i];
    uint8_t got[32], want[32];
    size_t n = write_msg(&m, got, sizeof got);
    nb_test_unhex("13 00 beef c0a80001 008a 00", want, sizeof want);
    want[10] = codes[i];
    assert_int_equal(n, 11);
    assert_memory_equal(got, want, n);
    assert_int_equal(nb_dgm_parse(got, n, &p, NULL), NB_OK);
    assert_int_equal(p.error_code, codes[i]);
    assert_int_equal(p.n_findings, 0);
    assert_string_equal(nb_dgm_error_name(codes[i]), names[i]);
    assert_round_trip(got, n);
  }
  assert_string_equal(nb_dgm_error_name(0x85), "unknown");
}

/* RFC 1002 4.4.4 and 4.4.5: the three query packets carry only
 * DESTINATION_NAME. */
static void test_rfc_query_packets(void **state) {
  (void)state;
  static const uint8_t types[] = {NB_DGM_QUERY_REQUEST,
                                  NB_DGM_POSITIVE_QUERY_RESPONSE,
                                  NB_DGM_NEGATIVE_QUERY_RESPONSE};
  for (size_t i = 0; i < 3; i++) {
    nb_dgm_msg_t m, p;
    nb_dgm_init(&m, types[i], 7, 0x7f000001, NB_DGM_PORT);
    m.destination_name = name_of("WORKGROUP<1d>");
    uint8_t got[64], want[64];
    size_t n = write_msg(&m, got, sizeof got);
    size_t want_len =
        nb_test_unhex("14 00 0007 7f000001 008a " WG_1D, want, sizeof want);
    want[0] = types[i];
    assert_int_equal(n, want_len);
    assert_memory_equal(got, want, n);
    assert_int_equal(nb_dgm_parse(got, n, &p, NULL), NB_OK);
    assert_int_equal(p.msg_type, types[i]);
    assert_name(&p.destination_name, "WORKGROUP<1d>");
    assert_int_equal(p.n_findings, 0);
    assert_round_trip(got, n);
  }
}

static void test_type_names(void **state) {
  (void)state;
  assert_string_equal(nb_dgm_type_name(0x10), "DIRECT_UNIQUE DATAGRAM");
  assert_string_equal(nb_dgm_type_name(0x11), "DIRECT_GROUP DATAGRAM");
  assert_string_equal(nb_dgm_type_name(0x12), "BROADCAST DATAGRAM");
  assert_string_equal(nb_dgm_type_name(0x13), "DATAGRAM ERROR");
  assert_string_equal(nb_dgm_type_name(0x14), "DATAGRAM QUERY REQUEST");
  assert_string_equal(nb_dgm_type_name(0x15),
                      "DATAGRAM POSITIVE QUERY RESPONSE");
  assert_string_equal(nb_dgm_type_name(0x16),
                      "DATAGRAM NEGATIVE QUERY RESPONSE");
  assert_string_equal(nb_dgm_type_name(0x17), "unknown");
  assert_string_equal(nb_dgm_type_name(0x0f), "unknown");
  assert_string_equal(nb_dgm_snt_name(3), "NBDD");
  assert_string_equal(nb_dgm_rule_id(NB_DGM_R_TRAILING), "trailing-bytes");
  assert_string_equal(nb_dgm_rule_rfc(NB_DGM_R_RESERVED_FLAGS),
                      "RFC 1002 4.4.1");
  assert_string_equal(nb_dgm_rule_id(NB_DGM_R_COUNT_), "unknown");
}

/* The generated tshark probe's datagrams (frames 18-24), with what we
 * decide for each. tshark accepts 19 and 24 (it never checks
 * DGM_LENGTH); we refuse them: the data section is shorter than
 * DGM_LENGTH says and MORE is clear. */
static void test_probe_frames(void **state) {
  (void)state;
  uint8_t buf[256];
  nb_dgm_msg_t m;
  /* 18: valid DIRECT_GROUP FRED<00> -> WORKGROUP<1d>, "hello". */
  size_t len =
      parse_hex("110200017f000001008a004900002045474643454645454341434143414341"
                "434143414341434143414341434141410020464845504643454c4548464345"
                "5046464641434143414341434143414341424e0068656c6c6f",
                buf, sizeof buf, &m);
  assert_int_equal(m.n_findings, 0);
  assert_round_trip(buf, len);
  /* 19: DGM_LENGTH 999. */
  assert_fails("110200017f000001008a03e7000020454746434546454543414341434143414"
               "34143414341434143414341434141410020464845504643454c454846434550"
               "46464641434143414341434143414341424e0068656c6c6f",
               NB_ETRUNCATED, 87, "shorter than DGM_LENGTH");
  /* 20: DATAGRAM ERROR 0x82, sent with FIRST set. */
  parse_hex("130200017f000001008a82", buf, sizeof buf, &m);
  assert_int_equal(m.error_code, 0x82);
  assert_int_equal(count_rule(&m, NB_DGM_R_ERROR_FLAGS), 1);
  /* 21: QUERY REQUEST for FRED<00>. */
  parse_hex("140200017f000001008a2045474643454645454341434143414341434143414341"
            "4341434143414341414100",
            buf, sizeof buf, &m);
  assert_name(&m.destination_name, "FRED<00>");
  /* 22: unknown MSG_TYPE 0x20. */
  assert_fails("200200017f000001008a", NB_EMALFORMED, 0, "MSG_TYPE");
  /* 23: Scapy's NetBIOS_DS: 0x20 then 30 characters and no terminator. */
  assert_fails("110000007f000001008a0043000020454746434546454543414341434143414"
               "34143414341434143414341434120464845504643454c454846434550464646"
               "4143414341434143414341434168656c6c6f",
               NB_EMALFORMED, 45, "first label character");
  /* 24: Scapy's NBTDatagram with DGM_LENGTH fixed at 272. */
  assert_fails("100200007f000001008a0110000020454746434546454543414341434143414"
               "34143414341434143414341434141410020464845504643454c454846434550"
               "4646464143414341434143414341434141410068656c6c6f",
               NB_ETRUNCATED, 87, "shorter than DGM_LENGTH");
}

/* RFC 1002 4.1: no label pointers in datagrams, in either name or in a
 * query packet. */
static void test_pointers_rejected(void **state) {
  (void)state;
  /* DESTINATION_NAME as a pointer back to SOURCE_NAME at 14. */
  assert_fails("10 02 0001 0a000001 008a 0024 0000 " FRED_00 "c00e",
               NB_EMALFORMED, 48, "label pointer");
  /* SOURCE_NAME itself a pointer. */
  assert_fails("10 02 0001 0a000001 008a 0024 0000 c000 " FRED_00,
               NB_EMALFORMED, 14, "label pointer");
  /* A pointer in the scope of the destination name. */
  assert_fails(
      "10 02 0001 0a000001 008a 0045 0000 " FRED_00
      "20 4547464345464545434143414341434143414341434143414341434143414341 "
      "c00e",
      NB_EMALFORMED, 81, "label pointer");
  /* QUERY REQUEST with a pointer name. */
  assert_fails("14 00 0001 0a000001 008a c000", NB_EMALFORMED, 10,
               "label pointer");
}

/* Every proper prefix of a valid datagram fails cleanly, at or before
 * its end. */
static void test_every_truncation(void **state) {
  (void)state;
  uint8_t buf[512];
  size_t len = nb_test_unhex(ark_host_announcement, buf, sizeof buf);
  for (size_t cut = 0; cut < len; cut++) {
    nb_dgm_msg_t m;
    nb_diag_t d = {NB_OK, 0, NULL};
    nb_err_t err = nb_dgm_parse(buf, cut, &m, &d);
    assert_int_not_equal(err, NB_OK);
    assert_int_equal(err, NB_ETRUNCATED);
    assert_true(d.offset <= cut);
    assert_non_null(d.field);
  }
  uint8_t err_pkt[11];
  nb_test_unhex("13 00 0001 0a000001 008a 82", err_pkt, sizeof err_pkt);
  for (size_t cut = 0; cut < sizeof err_pkt; cut++) {
    nb_dgm_msg_t m;
    assert_int_equal(nb_dgm_parse(err_pkt, cut, &m, NULL), NB_ETRUNCATED);
  }
}

/* DGM_LENGTH against the data: larger with MORE clear is fatal, smaller
 * leaves trailing bytes (a finding) and bounds the user data. */
static void test_dgm_length_checks(void **state) {
  (void)state;
  uint8_t buf[256];
  nb_dgm_msg_t m;
  /* DGM_LENGTH 70: 68 of names and 2 of "he"; "llo" trails. */
  parse_hex("10 02 0001 0a000001 008a 0046 0000 " FRED_00 FRED_20 "68656c6c6f",
            buf, sizeof buf, &m);
  assert_int_equal(m.data_len, 2);
  assert_memory_equal(m.data, "he", 2);
  assert_int_equal(count_rule(&m, NB_DGM_R_TRAILING), 1);
  assert_int_equal(finding_offset(&m, NB_DGM_R_TRAILING), 84);
  /* DGM_LENGTH shorter than the names: the name runs out of its window. */
  assert_fails("10 02 0001 0a000001 008a 0030 0000 " FRED_00 FRED_20,
               NB_ETRUNCATED, 49, "first label");
  /* DGM_LENGTH one over, MORE clear. */
  assert_fails("10 02 0001 0a000001 008a 004a 0000 " FRED_00 FRED_20
               "68656c6c6f",
               NB_ETRUNCATED, 87, "shorter than DGM_LENGTH");
  /* Header only. */
  assert_fails("10 02 0001 0a000001 008a 0044", NB_ETRUNCATED, 12,
               "PACKET_OFFSET");
  /* DGM_LENGTH 0 and no names: the window is empty. */
  assert_fails("10 02 0001 0a000001 008a 0000 0000", NB_ETRUNCATED, 14,
               "name label length");
}

/* PACKET_OFFSET: past DGM_LENGTH is fatal; a continuation fragment carries
 * raw data-section bytes; FIRST and MORE flags are checked against it. */
static void test_packet_offset_checks(void **state) {
  (void)state;
  uint8_t buf[256];
  nb_dgm_msg_t m;
  assert_fails("10 00 0001 0a000001 008a 0010 0011 00", NB_EMALFORMED, 12,
               "PACKET_OFFSET");
  /* First fragment: FIRST and MORE, 3 of 8 user-data bytes. */
  parse_hex("10 03 0001 0a000001 008a 004c 0000 " FRED_00 FRED_20 "616263", buf,
            sizeof buf, &m);
  assert_true(nb_dgm_has_names(&m));
  assert_false(nb_dgm_is_whole(&m));
  assert_int_equal(m.data_len, 3);
  assert_int_equal(m.n_findings, 0);
  /* Its last fragment: offset 71, 5 bytes, FIRST and MORE clear. */
  parse_hex("10 00 0001 0a000001 008a 004c 0047 6465666768", buf, sizeof buf,
            &m);
  assert_false(nb_dgm_has_names(&m));
  assert_int_equal(m.packet_offset, 71);
  assert_int_equal(m.data_len, 5);
  assert_memory_equal(m.data, "defgh", 5);
  assert_int_equal(m.n_findings, 0);
  assert_round_trip(buf, 19);
  /* A middle fragment: MORE set, does not reach DGM_LENGTH. */
  parse_hex("10 01 0001 0a000001 008a 004c 0047 6465", buf, sizeof buf, &m);
  assert_int_equal(m.n_findings, 0);
  /* The last fragment one byte short of DGM_LENGTH. */
  assert_fails("10 00 0001 0a000001 008a 004c 0047 64656667", NB_ETRUNCATED, 18,
               "shorter than DGM_LENGTH");
  /* FIRST set on a continuation; FIRST clear at offset 0. */
  parse_hex("10 02 0001 0a000001 008a 004c 0047 6465666768", buf, sizeof buf,
            &m);
  assert_int_equal(count_rule(&m, NB_DGM_R_FIRST_FLAG), 1);
  parse_hex("10 00 0001 0a000001 008a 0044 0000 " FRED_00 FRED_20, buf,
            sizeof buf, &m);
  assert_int_equal(count_rule(&m, NB_DGM_R_FIRST_FLAG), 1);
  assert_true(nb_dgm_is_whole(&m));
  /* MORE set but the fragment reaches DGM_LENGTH. */
  parse_hex("10 01 0001 0a000001 008a 004c 0047 6465666768", buf, sizeof buf,
            &m);
  assert_int_equal(count_rule(&m, NB_DGM_R_MORE_AT_END), 1);
  /* An empty continuation fragment. */
  parse_hex("10 01 0001 0a000001 008a 004c 0047", buf, sizeof buf, &m);
  assert_int_equal(count_rule(&m, NB_DGM_R_EMPTY_FRAGMENT), 1);
  assert_int_equal(finding_offset(&m, NB_DGM_R_EMPTY_FRAGMENT), 14);
}

/* Conformance findings on packets that parse. */
static void test_findings(void **state) {
  (void)state;
  uint8_t buf[1200];
  nb_dgm_msg_t m;
  /* Reserved FLAGS bits. */
  parse_hex("10 12 0001 0a000001 008a 0044 0000 " FRED_00 FRED_20, buf,
            sizeof buf, &m);
  assert_int_equal(count_rule(&m, NB_DGM_R_RESERVED_FLAGS), 1);
  assert_int_equal(finding_offset(&m, NB_DGM_R_RESERVED_FLAGS), 1);
  assert_round_trip(buf, 82);
  /* BROADCAST to a name other than '*'. */
  parse_hex("12 02 0001 0a000001 008a 0044 0000 " FRED_00 FRED_20, buf,
            sizeof buf, &m);
  assert_int_equal(finding_offset(&m, NB_DGM_R_BCAST_DEST), 48);
  /* Different scopes. */
  parse_hex("10 02 0001 0a000001 008a 0050 0000 " FRED_00 FRED_20_SCOPED, buf,
            sizeof buf, &m);
  assert_int_equal(count_rule(&m, NB_DGM_R_SCOPE_MISMATCH), 1);
  /* Unknown error code and trailing bytes after an error and a query. */
  parse_hex("13 00 0001 0a000001 008a 81 ff", buf, sizeof buf, &m);
  assert_int_equal(finding_offset(&m, NB_DGM_R_ERROR_CODE), 10);
  assert_int_equal(finding_offset(&m, NB_DGM_R_TRAILING), 11);
  parse_hex("14 00 0001 0a000001 008a " FRED_20 "00", buf, sizeof buf, &m);
  assert_int_equal(finding_offset(&m, NB_DGM_R_TRAILING), 44);
  /* USER_DATA of 513 bytes (RFC 1001 17.1.2). */
  char hex[2400] = "10 02 0001 0a000001 008a 0245 0000 " FRED_00 FRED_20;
  for (size_t i = 0; i < 513; i++) {
    strcat(hex, "aa");
  }
  size_t len = parse_hex(hex, buf, sizeof buf, &m);
  assert_int_equal(m.data_len, 513);
  assert_int_equal(finding_offset(&m, NB_DGM_R_USER_DATA_LONG), 10);
  assert_round_trip(buf, len);
}

/* Every datagram finding at once: reserved bits with MORE set, FIRST
 * clear at offset 0, MORE reaching DGM_LENGTH, a trailing byte, 513 bytes
 * of user data, a BROADCAST to FRED, and scopes that differ. */
static void test_all_findings(void **state) {
  (void)state;
  char hex[2400] = "12 f1 0001 0a000001 008a 0251 0000 " FRED_00 FRED_20_SCOPED;
  for (size_t i = 0; i < 513; i++) {
    strcat(hex, "bb");
  }
  strcat(hex, "ee");
  uint8_t buf[1200];
  nb_dgm_msg_t m;
  size_t len = parse_hex(hex, buf, sizeof buf, &m);
  assert_int_equal(len, 14 + 80 + 513 + 1);
  assert_int_equal(m.n_findings, 7);
  assert_false(m.findings_overflow);
  static const nb_dgm_rule_t want[] = {
      NB_DGM_R_RESERVED_FLAGS, NB_DGM_R_TRAILING,       NB_DGM_R_MORE_AT_END,
      NB_DGM_R_FIRST_FLAG,     NB_DGM_R_USER_DATA_LONG, NB_DGM_R_BCAST_DEST,
      NB_DGM_R_SCOPE_MISMATCH};
  for (size_t i = 0; i < 7; i++) {
    assert_int_equal(count_rule(&m, want[i]), 1);
  }
  assert_int_equal(finding_offset(&m, NB_DGM_R_TRAILING), len - 1);
  assert_int_equal(m.data_len, 513);
}

/* Writers refuse what cannot be sent. */
static void test_writer_limits(void **state) {
  (void)state;
  nb_dgm_msg_t m;
  nb_name_t a = name_of("A"), b = name_of("B");
  static uint8_t data[600];
  nb_dgm_init(&m, NB_DGM_DIRECT_UNIQUE, 1, 1, NB_DGM_PORT);
  assert_int_equal(nb_dgm_set_datagram(&m, &a, &b, data, 513), NB_ELIMIT);
  assert_int_equal(nb_dgm_set_datagram(&m, &a, &b, data, 512), NB_OK);
  assert_int_equal(nb_dgm_set_datagram(&m, &a, &b, NULL, 1), NB_EINVAL);
  nb_dgm_init(&m, NB_DGM_ERROR, 1, 1, NB_DGM_PORT);
  assert_int_equal(nb_dgm_set_datagram(&m, &a, &b, data, 1), NB_EINVAL);
  /* Unknown type. */
  uint8_t out[1100];
  nb_wr_t w;
  nb_dgm_init(&m, 0x20, 1, 1, NB_DGM_PORT);
  nb_wr_init(&w, out, sizeof out);
  nb_dgm_write(&w, &m);
  assert_int_equal(nb_wr_finish(&w, NULL), NB_EINVAL);
  /* Too small a buffer. */
  nb_dgm_init(&m, NB_DGM_DIRECT_UNIQUE, 1, 1, NB_DGM_PORT);
  assert_int_equal(nb_dgm_set_datagram(&m, &a, &b, data, 10), NB_OK);
  nb_wr_init(&w, out, 50);
  nb_dgm_write(&w, &m);
  assert_int_equal(nb_wr_finish(&w, NULL), NB_ENOSPC);
  /* Init sets FIRST for datagrams only. */
  nb_dgm_init(&m, NB_DGM_QUERY_REQUEST, 1, 1, NB_DGM_PORT);
  assert_int_equal(m.flags, 0);
}

/* Split `m` and check each fragment: size cap, flags, offsets, the same
 * header, and that the data sections concatenate to the original. */
static size_t split_and_check(const nb_dgm_msg_t *m, size_t max_payload) {
  nb_dgm_split_t s;
  nb_dgm_msg_t f, p;
  uint8_t section[NB_DGM_DATA_MAX], wire[1100];
  size_t got = 0, count = 0;
  assert_int_equal(nb_dgm_split_init(&s, m, max_payload), NB_OK);
  while (nb_dgm_split_next(&s, &f)) {
    size_t n = write_msg(&f, wire, sizeof wire);
    assert_true(n <= max_payload);
    assert_int_equal(nb_dgm_parse(wire, n, &p, NULL), NB_OK);
    assert_int_equal(p.n_findings, 0);
    assert_int_equal(p.dgm_length, m->dgm_length);
    assert_int_equal(p.dgm_id, m->dgm_id);
    assert_int_equal(p.packet_offset, got); /* RFC 1001 17.1.2 */
    assert_int_equal((p.flags & NB_DGM_FLAG_F) != 0, count == 0);
    assert_int_equal(NB_DGM_SNT(p.flags), NB_DGM_SNT(m->flags));
    memcpy(section + got, wire + NB_DGM_HEADER_LEN, n - NB_DGM_HEADER_LEN);
    got += n - NB_DGM_HEADER_LEN;
    assert_int_equal((p.flags & NB_DGM_FLAG_M) != 0, got < m->dgm_length);
    count++;
  }
  assert_false(nb_dgm_split_next(&s, &f));
  assert_int_equal(got, m->dgm_length);
  size_t names = nb_dgm_names_len(m);
  assert_memory_equal(section + names, m->data, m->data_len);
  return count;
}

/* The fragmenting writer: one packet when it fits, two at 576-byte IP
 * datagrams for 512 bytes of data (RFC 1002 5.3.1), more with a smaller
 * payload (RFC 1001 17.1.2), and refusal when the names do not fit. */
static void test_split(void **state) {
  (void)state;
  static uint8_t data[NB_DGM_USER_DATA_MAX];
  for (size_t i = 0; i < sizeof data; i++) {
    data[i] = (uint8_t)(i * 7 + 1);
  }
  nb_name_t a = name_of("SENDER<00>"), b = name_of("WORKGROUP<1d>");
  nb_dgm_msg_t m;
  nb_dgm_init(&m, NB_DGM_DIRECT_GROUP, 0x4242, 0x0a000001, NB_DGM_PORT);
  m.flags |= NB_DGM_SNT_FLAGS(NB_DGM_SNT_M);
  assert_int_equal(nb_dgm_set_datagram(&m, &a, &b, data, 100), NB_OK);
  assert_int_equal(split_and_check(&m, NB_DGM_MAX_PAYLOAD), 1);
  assert_int_equal(nb_dgm_set_datagram(&m, &a, &b, data, 512), NB_OK);
  assert_int_equal(split_and_check(&m, NB_DGM_MAX_PAYLOAD), 2);
  assert_int_equal(split_and_check(&m, 200), 4);
  assert_int_equal(split_and_check(&m, NB_DGM_HEADER_LEN + 68), 1 + 8);
  assert_int_equal(split_and_check(&m, NB_DGM_HEADER_LEN + 69), 1 + 8);
  /* The names alone do not fit. */
  nb_dgm_split_t s;
  assert_int_equal(nb_dgm_split_init(&s, &m, NB_DGM_HEADER_LEN + 67),
                   NB_ELIMIT);
  /* Not a whole datagram. */
  nb_dgm_msg_t frag = m;
  frag.packet_offset = 5;
  assert_int_equal(nb_dgm_split_init(&s, &frag, 548), NB_EINVAL);
  nb_dgm_init(&frag, NB_DGM_ERROR, 1, 1, NB_DGM_PORT);
  assert_int_equal(nb_dgm_split_init(&s, &frag, 548), NB_EINVAL);
}

/* The exact offsets of a two-fragment split at the default payload. */
static void test_split_offsets(void **state) {
  (void)state;
  static uint8_t data[NB_DGM_USER_DATA_MAX];
  nb_name_t a = name_of("A<00>"), b = name_of("B<00>");
  nb_dgm_msg_t m, f1, f2;
  nb_dgm_split_t s;
  nb_dgm_init(&m, NB_DGM_DIRECT_UNIQUE, 9, 0x0a000001, NB_DGM_PORT);
  assert_int_equal(nb_dgm_set_datagram(&m, &a, &b, data, 512), NB_OK);
  assert_int_equal(m.dgm_length, 580);
  assert_int_equal(nb_dgm_split_init(&s, &m, NB_DGM_MAX_PAYLOAD), NB_OK);
  assert_true(nb_dgm_split_next(&s, &f1));
  assert_true(nb_dgm_split_next(&s, &f2));
  assert_false(nb_dgm_split_next(&s, &m));
  /* 548 - 14 = 534 bytes of data section per packet: 68 + 466, then 46. */
  assert_int_equal(f1.flags, NB_DGM_FLAG_F | NB_DGM_FLAG_M);
  assert_int_equal(f1.packet_offset, 0);
  assert_int_equal(f1.data_len, 466);
  assert_int_equal(f2.flags, 0);
  assert_int_equal(f2.packet_offset, 534);
  assert_int_equal(f2.data_len, 46);
  assert_ptr_equal(f2.data, data + 466);
  assert_int_equal(f2.dgm_length, 580);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_golden_host_announcement),
      cmocka_unit_test(test_capture_datagrams),
      cmocka_unit_test(test_rfc_datagram_types),
      cmocka_unit_test(test_scoped_names),
      cmocka_unit_test(test_rfc_error_packet),
      cmocka_unit_test(test_rfc_query_packets),
      cmocka_unit_test(test_type_names),
      cmocka_unit_test(test_probe_frames),
      cmocka_unit_test(test_pointers_rejected),
      cmocka_unit_test(test_every_truncation),
      cmocka_unit_test(test_dgm_length_checks),
      cmocka_unit_test(test_packet_offset_checks),
      cmocka_unit_test(test_findings),
      cmocka_unit_test(test_all_findings),
      cmocka_unit_test(test_writer_limits),
      cmocka_unit_test(test_split),
      cmocka_unit_test(test_split_offsets),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
