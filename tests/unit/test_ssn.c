/* SPDX-License-Identifier: BSD-2-Clause */
/* Session service packets (RFC 1002 4.3): golden bytes from the scanner
 * capture and the RFC diagrams, parse -> fields -> write -> identical bytes
 * for every kind, every negative code, the E bit, and each rejection with
 * its offset and field.
 *
 * Decisions tested here (docs/CONFORMANCE.md, "Session service"):
 *  - SESSION REQUEST LENGTH must be exactly the two names: trailing bytes
 *    are rejected (tshark does not check; smbd ignores them);
 *  - names without pointers (RFC 1002 4.1);
 *  - fixed LENGTHs: POSITIVE 0, NEGATIVE 1, RETARGET 6, KEEP ALIVE 0;
 *  - a SESSION MESSAGE of LENGTH 0 is legal (RFC 1001 5.3), although
 *    tshark shows it as "NBSS Continuation Message";
 *  - unknown negative codes parse but are never written;
 *  - direct mode knows 0x00 and the keep-alive 85 00 00 00 only. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "nb/ssn.h"

/* shared/pcaps-external/node-netbios/netbios-ssn-full-scanner-winxp.pcap,
 * `tshark -r F -T fields -e tcp.payload`. */
#define SCANNER_REQUEST                                                        \
  "81000044"                                                                   \
  "204647454e4648454a454f4649464143414341434143414341434143414341434100"       \
  "2046414643454a454f46454546464343414341434143414341434143414341414100"
#define SCANNER_POSITIVE "82000000"
/* frame 12: SMB1 TREE DISCONNECT, a 35-byte SESSION MESSAGE */
#define SCANNER_TREE_DISCONNECT                                                \
  "00000023ff534d4271000000000000000000000000000000000000000008010000084000"   \
  "000000"
/* frame 6: SMB1 NEGOTIATE, 170 bytes */
#define SCANNER_NEGOTIATE                                                      \
  "000000aaff534d4272000000000001000000000000000000000000000000010000000000"   \
  "008700025043204e4554574f524b2050524f4752414d20312e30000258454e495820434f"   \
  "524500024d4943524f534f4654204e4554574f524b5320312e303300024c414e4d414e31"   \
  "2e30000257696e646f777320666f7220576f726b67726f75707320332e316100024c4d31"   \
  "2e325830303200024c414e4d414e322e3100024e54204c4d20302e313200"

static nb_ssn_packet_t parse_ok(const char *hex, nb_ssn_mode_t mode,
                                uint8_t *buf, size_t cap, size_t *len) {
  nb_ssn_packet_t p;
  nb_diag_t d = {NB_OK, 0, NULL};
  size_t used = 0;
  *len = nb_test_unhex(hex, buf, cap);
  assert_int_equal(nb_ssn_parse(buf, *len, mode, &p, &used, &d), NB_OK);
  assert_int_equal(used, *len);
  return p;
}

/* Write `p` back and compare with the original bytes. */
static void assert_writes_back(const nb_ssn_packet_t *p, nb_ssn_mode_t mode,
                               const uint8_t *want, size_t want_len) {
  uint8_t *out = malloc(want_len + 16);
  nb_wr_t w;
  size_t len = 0;
  assert_non_null(out);
  nb_wr_init(&w, out, want_len + 16);
  nb_ssn_write(&w, mode, p);
  assert_int_equal(nb_wr_finish(&w, &len), NB_OK);
  assert_int_equal(len, want_len);
  assert_memory_equal(out, want, len);
  free(out);
}

static void assert_name(const nb_name_t *n, const char *want) {
  char text[NB_NAME_TEXT_MAX];
  nb_name_to_text(n, text, sizeof text);
  assert_string_equal(text, want);
}

static nb_name_t name_of(const char *text) {
  nb_name_t n;
  assert_int_equal(nb_name_from_text(&n, text, strlen(text), NULL), NB_OK);
  return n;
}

static void test_scanner_request(void **state) {
  (void)state;
  uint8_t buf[600];
  size_t len;
  nb_ssn_packet_t p =
      parse_ok(SCANNER_REQUEST, NB_SSN_MODE_RFC, buf, sizeof buf, &len);
  assert_int_equal(p.type, NB_SSN_SESSION_REQUEST);
  assert_int_equal(p.flags, 0);
  assert_int_equal(p.length, 68);
  assert_name(&p.called, "VMWINXP<20>");
  assert_name(&p.calling, "PRINTER<00>");
  assert_writes_back(&p, NB_SSN_MODE_RFC, buf, len);
  /* The same bytes from the names alone. */
  nb_name_t called = name_of("VMWINXP<20>");
  nb_name_t calling = name_of("PRINTER<00>");
  uint8_t out[128];
  nb_wr_t w;
  size_t n = 0;
  nb_wr_init(&w, out, sizeof out);
  nb_ssn_write_request(&w, &called, &calling);
  assert_int_equal(nb_wr_finish(&w, &n), NB_OK);
  assert_int_equal(n, len);
  assert_memory_equal(out, buf, n);
  assert_string_equal(nb_ssn_type_name(p.type), "SESSION REQUEST");
}

static void test_scanner_positive(void **state) {
  (void)state;
  uint8_t buf[8];
  size_t len;
  nb_ssn_packet_t p =
      parse_ok(SCANNER_POSITIVE, NB_SSN_MODE_RFC, buf, sizeof buf, &len);
  assert_int_equal(p.type, NB_SSN_POSITIVE_SESSION_RESPONSE);
  assert_int_equal(p.length, 0);
  assert_writes_back(&p, NB_SSN_MODE_RFC, buf, len);
  uint8_t out[4];
  nb_wr_t w;
  nb_wr_init(&w, out, sizeof out);
  nb_ssn_write_positive(&w);
  assert_int_equal(nb_wr_finish(&w, NULL), NB_OK);
  assert_memory_equal(out, "\x82\x00\x00\x00", 4);
}

static void test_scanner_messages(void **state) {
  (void)state;
  uint8_t buf[256];
  size_t len;
  nb_ssn_packet_t p =
      parse_ok(SCANNER_TREE_DISCONNECT, NB_SSN_MODE_RFC, buf, sizeof buf, &len);
  assert_int_equal(p.type, NB_SSN_SESSION_MESSAGE);
  assert_int_equal(p.length, 35);
  assert_ptr_equal(p.data, buf + 4); /* borrowed */
  assert_memory_equal(p.data, "\xffSMB\x71", 5);
  assert_writes_back(&p, NB_SSN_MODE_RFC, buf, len);
  p = parse_ok(SCANNER_NEGOTIATE, NB_SSN_MODE_RFC, buf, sizeof buf, &len);
  assert_int_equal(p.length, 170);
  assert_memory_equal(p.data, "\xffSMB\x72", 5);
  assert_writes_back(&p, NB_SSN_MODE_RFC, buf, len);
  /* The same header in direct mode reads the same (flags byte 0). */
  p = parse_ok(SCANNER_NEGOTIATE, NB_SSN_MODE_DIRECT, buf, sizeof buf, &len);
  assert_int_equal(p.length, 170);
  assert_writes_back(&p, NB_SSN_MODE_DIRECT, buf, len);
}

/* RFC 1002 4.3.4: every code, its text, parse and write. */
static void test_negative_codes(void **state) {
  (void)state;
  static const struct {
    uint8_t code;
    const char *text;
  } codes[] = {
      {0x80, "Not listening on called name"},
      {0x81, "Not listening for calling name"},
      {0x82, "Called name not present"},
      {0x83, "Called name present, but insufficient resources"},
      {0x8F, "Unspecified error"},
  };
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    uint8_t out[8];
    nb_wr_t w;
    size_t len = 0;
    nb_wr_init(&w, out, sizeof out);
    nb_ssn_write_negative(&w, codes[i].code);
    assert_int_equal(nb_wr_finish(&w, &len), NB_OK);
    const uint8_t want[5] = {0x83, 0x00, 0x00, 0x01, codes[i].code};
    assert_int_equal(len, 5);
    assert_memory_equal(out, want, 5);
    nb_ssn_packet_t p;
    assert_int_equal(nb_ssn_parse(out, len, NB_SSN_MODE_RFC, &p, NULL, NULL),
                     NB_OK);
    assert_int_equal(p.type, NB_SSN_NEGATIVE_SESSION_RESPONSE);
    assert_int_equal(p.error_code, codes[i].code);
    assert_true(nb_ssn_neg_known(p.error_code));
    assert_string_equal(nb_ssn_neg_text(p.error_code), codes[i].text);
    assert_writes_back(&p, NB_SSN_MODE_RFC, out, len);
  }
  /* Samba's only code (notes/samba-behaviour.md): 83 00 00 01 82. */
  uint8_t buf[8];
  size_t len;
  nb_ssn_packet_t p = parse_ok("8300000182", NB_SSN_MODE_RFC, buf, 8, &len);
  assert_int_equal(p.error_code, NB_SSN_NEG_CALLED_NOT_PRESENT);
}

/* Parse tolerantly (the session failed either way), emit conservatively. */
static void test_negative_unknown_code(void **state) {
  (void)state;
  uint8_t buf[8];
  size_t len;
  nb_ssn_packet_t p = parse_ok("8300000184", NB_SSN_MODE_RFC, buf, 8, &len);
  assert_int_equal(p.error_code, 0x84);
  assert_false(nb_ssn_neg_known(0x84));
  assert_false(nb_ssn_neg_known(0x00));
  assert_false(nb_ssn_neg_known(0x90));
  assert_string_equal(nb_ssn_neg_text(0x84), "Unknown error code");
  uint8_t out[8];
  nb_wr_t w;
  nb_wr_init(&w, out, sizeof out);
  nb_ssn_write(&w, NB_SSN_MODE_RFC, &p);
  assert_int_equal(nb_wr_finish(&w, NULL), NB_EINVAL);
}

/* RFC 1002 4.3.5 and 4.3.7, and tshark-oracle-probe frames 30 and 31. */
static void test_retarget_and_keepalive(void **state) {
  (void)state;
  uint8_t buf[16];
  size_t len;
  nb_ssn_packet_t p =
      parse_ok("840000060a000001008b", NB_SSN_MODE_RFC, buf, 16, &len);
  assert_int_equal(p.type, NB_SSN_RETARGET_SESSION_RESPONSE);
  assert_int_equal(p.length, 6);
  assert_int_equal(p.retarget_addr, 0x0a000001u);
  assert_int_equal(p.retarget_port, 139);
  assert_writes_back(&p, NB_SSN_MODE_RFC, buf, len);
  uint8_t out[16];
  nb_wr_t w;
  nb_wr_init(&w, out, sizeof out);
  nb_ssn_write_retarget(&w, 0xc0a80102u, 4139);
  nb_ssn_write_keepalive(&w);
  assert_int_equal(nb_wr_finish(&w, &len), NB_OK);
  assert_int_equal(len, 14);
  assert_memory_equal(out,
                      "\x84\x00\x00\x06\xc0\xa8\x01\x02\x10\x2b"
                      "\x85\x00\x00\x00",
                      14);
  p = parse_ok("85000000", NB_SSN_MODE_RFC, buf, 16, &len);
  assert_int_equal(p.type, NB_SSN_SESSION_KEEP_ALIVE);
  assert_writes_back(&p, NB_SSN_MODE_RFC, buf, len);
  /* Direct mode tolerates the keep-alive (clients send it on 445). */
  p = parse_ok("85000000", NB_SSN_MODE_DIRECT, buf, 16, &len);
  assert_int_equal(p.type, NB_SSN_SESSION_KEEP_ALIVE);
  assert_writes_back(&p, NB_SSN_MODE_DIRECT, buf, len);
}

/* RFC 1002 4.1's FRED.NETBIOS.COM in both names: scopes, no pointers. */
static void test_request_with_scope(void **state) {
  (void)state;
  nb_name_t called = name_of("FRED<20>.NETBIOS.COM");
  nb_name_t calling = name_of("CLIENT<00>.NETBIOS.COM");
  uint8_t out[128];
  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, out, sizeof out);
  nb_ssn_write_request(&w, &called, &calling);
  assert_int_equal(nb_wr_finish(&w, &len), NB_OK);
  assert_int_equal(len, 4 + 2 * 46);
  uint8_t want[64];
  size_t want_len = nb_test_unhex(
      "81 00 00 5c"
      "20 4547464345464545434143414341434143414341434143414341434143414341"
      "07 4e455442494f53 03 434f4d 00",
      want, sizeof want);
  assert_int_equal(want_len, 4 + 46);
  assert_memory_equal(out, want, want_len);
  nb_ssn_packet_t p;
  assert_int_equal(nb_ssn_parse(out, len, NB_SSN_MODE_RFC, &p, NULL, NULL),
                   NB_OK);
  assert_name(&p.called, "FRED<20>.NETBIOS.COM");
  assert_name(&p.calling, "CLIENT<00>.NETBIOS.COM");
  assert_writes_back(&p, NB_SSN_MODE_RFC, out, len);
}

/* The E bit is the LOW flags bit (RFC 1002 4.3.1). A 0x10000+ byte message
 * is one message; the seed library's 0x80 is a reserved bit. */
static void test_e_bit(void **state) {
  (void)state;
  const size_t body = 0x10000 + 5;
  uint8_t *msg = malloc(4 + body);
  uint8_t *data = malloc(body);
  assert_non_null(msg);
  assert_non_null(data);
  for (size_t i = 0; i < body; i++) {
    data[i] = (uint8_t)(i * 7);
  }
  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, msg, 4 + body);
  nb_ssn_write_message(&w, NB_SSN_MODE_RFC, data, body);
  assert_int_equal(nb_wr_finish(&w, &len), NB_OK);
  assert_int_equal(len, 4 + body);
  assert_memory_equal(msg, "\x00\x01\x00\x05", 4);
  nb_ssn_packet_t p;
  size_t used = 0;
  assert_int_equal(nb_ssn_parse(msg, len, NB_SSN_MODE_RFC, &p, &used, NULL),
                   NB_OK);
  assert_int_equal(p.length, 0x10005);
  assert_int_equal(p.flags, NB_SSN_FLAG_E);
  assert_int_equal(used, len);
  assert_memory_equal(p.data, data, body);
  assert_writes_back(&p, NB_SSN_MODE_RFC, msg, len);
  /* The seed's framing of the same message: flags 0x80 -> rejected. */
  msg[1] = 0x80;
  nb_diag_t d = {NB_OK, 0, NULL};
  assert_int_equal(nb_ssn_parse(msg, len, NB_SSN_MODE_RFC, &p, &used, &d),
                   NB_EMALFORMED);
  assert_int_equal(d.offset, 1);
  assert_string_equal(d.field, "FLAGS reserved bits (must be zero)");
  /* Without E the same bytes are a 5-byte message followed by more. */
  msg[1] = 0x00;
  assert_int_equal(nb_ssn_parse(msg, len, NB_SSN_MODE_RFC, &p, &used, NULL),
                   NB_OK);
  assert_int_equal(p.length, 5);
  assert_int_equal(used, 9);
  free(msg);
  free(data);
}

static void expect_header(nb_ssn_mode_t mode, uint8_t type, uint32_t length,
                          nb_err_t want, const char *want_hex) {
  uint8_t out[8];
  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, out, sizeof out);
  nb_ssn_write_header(&w, mode, type, length);
  assert_int_equal(nb_wr_finish(&w, &len), want);
  if (want == NB_OK) {
    uint8_t exp[4];
    assert_int_equal(nb_test_unhex(want_hex, exp, sizeof exp), 4);
    assert_int_equal(len, 4);
    assert_memory_equal(out, exp, 4);
  }
}

/* Header writer limits: 17 bits in RFC mode, 24 in direct mode. */
static void test_header_writer(void **state) {
  (void)state;
  expect_header(NB_SSN_MODE_RFC, 0x00, 0, NB_OK, "00000000");
  expect_header(NB_SSN_MODE_RFC, 0x00, 0xFFFF, NB_OK, "0000ffff");
  expect_header(NB_SSN_MODE_RFC, 0x00, 0x10000, NB_OK, "00010000");
  expect_header(NB_SSN_MODE_RFC, 0x00, 0x1FFFF, NB_OK, "0001ffff");
  expect_header(NB_SSN_MODE_RFC, 0x00, 0x20000, NB_EINVAL, NULL);
  expect_header(NB_SSN_MODE_DIRECT, 0x00, 0x20000, NB_OK, "00020000");
  expect_header(NB_SSN_MODE_DIRECT, 0x00, 0xFFFFFF, NB_OK, "00ffffff");
  expect_header(NB_SSN_MODE_DIRECT, 0x00, 0x1000000, NB_EINVAL, NULL);
  expect_header(NB_SSN_MODE_DIRECT, 0x85, 0, NB_OK, "85000000");
  expect_header(NB_SSN_MODE_DIRECT, 0x81, 68, NB_EINVAL, NULL);
  expect_header(NB_SSN_MODE_RFC, 0x86, 0, NB_EINVAL, NULL);
  expect_header(NB_SSN_MODE_RFC, 0x82, 1, NB_EINVAL, NULL);
  expect_header(NB_SSN_MODE_RFC, 0x83, 1, NB_OK, "83000001");
  expect_header(NB_SSN_MODE_RFC, 0x81, 67, NB_EINVAL, NULL);
  expect_header(NB_SSN_MODE_RFC, 0x81, 511, NB_EINVAL, NULL);
  expect_header((nb_ssn_mode_t)7, 0x00, 0, NB_EINVAL, NULL);
  /* The message writer's own cap, and a full buffer. */
  uint8_t out[4];
  nb_wr_t w;
  nb_wr_init(&w, out, sizeof out);
  nb_ssn_write_message(&w, NB_SSN_MODE_RFC, "x", 1);
  assert_int_equal(nb_wr_finish(&w, NULL), NB_ENOSPC);
  nb_wr_init(&w, out, sizeof out);
  nb_ssn_write_message(&w, NB_SSN_MODE_RFC, NULL, 3);
  assert_int_equal(nb_wr_finish(&w, NULL), NB_EINVAL);
  nb_wr_init(&w, out, sizeof out);
  nb_ssn_write_message(&w, NB_SSN_MODE_DIRECT, NULL, 0);
  assert_int_equal(nb_wr_finish(&w, NULL), NB_OK);
  /* Control packets do not exist in direct mode. */
  nb_ssn_packet_t p;
  memset(&p, 0, sizeof p);
  p.type = NB_SSN_POSITIVE_SESSION_RESPONSE;
  nb_wr_init(&w, out, sizeof out);
  nb_ssn_write(&w, NB_SSN_MODE_DIRECT, &p);
  assert_int_equal(nb_wr_finish(&w, NULL), NB_EINVAL);
}

/* A SESSION MESSAGE of LENGTH 0 is legal (RFC 1001 5.3: "0 to 131,071"). */
static void test_zero_length_message(void **state) {
  (void)state;
  uint8_t buf[8];
  size_t len;
  nb_ssn_packet_t p = parse_ok("00000000", NB_SSN_MODE_RFC, buf, 8, &len);
  assert_int_equal(p.type, NB_SSN_SESSION_MESSAGE);
  assert_int_equal(p.length, 0);
  assert_writes_back(&p, NB_SSN_MODE_RFC, buf, len);
}

static const struct {
  const char *what;
  nb_ssn_mode_t mode;
  const char *hex;
  nb_err_t err;
  size_t offset;
  const char *field;
} rejects[] = {
    /* tshark-oracle-probe frames 27, 29, 32, 33, 34 */
    {"positive LENGTH 1", NB_SSN_MODE_RFC, "8200000100", NB_EMALFORMED, 2,
     "POSITIVE SESSION RESPONSE LENGTH not 0"},
    {"negative LENGTH 2", NB_SSN_MODE_RFC, "830000028000", NB_EMALFORMED, 2,
     "NEGATIVE SESSION RESPONSE LENGTH not 1"},
    {"keepalive reserved flag 0x02", NB_SSN_MODE_RFC, "85020000", NB_EMALFORMED,
     1, "FLAGS reserved bits (must be zero)"},
    {"E-bit message cut short", NB_SSN_MODE_RFC, "0001000441424344",
     NB_ETRUNCATED, 8, "session packet trailer (LENGTH past the end)"},
    {"unknown type 0x86", NB_SSN_MODE_RFC, "86000000", NB_EMALFORMED, 0,
     "TYPE (not a session packet type)"},
    /* more types and lengths */
    {"type 0x01", NB_SSN_MODE_RFC, "01000000", NB_EMALFORMED, 0,
     "TYPE (not a session packet type)"},
    {"type 0x80", NB_SSN_MODE_RFC, "80000000", NB_EMALFORMED, 0,
     "TYPE (not a session packet type)"},
    {"flags 0xfe", NB_SSN_MODE_RFC, "00fe0000", NB_EMALFORMED, 1,
     "FLAGS reserved bits (must be zero)"},
    {"positive with E", NB_SSN_MODE_RFC, "82010000", NB_EMALFORMED, 2,
     "POSITIVE SESSION RESPONSE LENGTH not 0"},
    {"keepalive LENGTH 1", NB_SSN_MODE_RFC, "8500000100", NB_EMALFORMED, 2,
     "SESSION KEEP ALIVE LENGTH not 0"},
    {"retarget LENGTH 5", NB_SSN_MODE_RFC, "840000050a00000100", NB_EMALFORMED,
     2, "RETARGET SESSION RESPONSE LENGTH not 6"},
    {"negative LENGTH 0", NB_SSN_MODE_RFC, "83000000", NB_EMALFORMED, 2,
     "NEGATIVE SESSION RESPONSE LENGTH not 1"},
    {"request LENGTH 0 (smbd: 83 00 00 01 82)", NB_SSN_MODE_RFC, "81000000",
     NB_EMALFORMED, 2, "SESSION REQUEST LENGTH below 68 (two names)"},
    {"request LENGTH 511", NB_SSN_MODE_RFC, "810001ff", NB_ELIMIT, 2,
     "SESSION REQUEST LENGTH over 510 (two names)"},
    {"header of 3 bytes", NB_SSN_MODE_RFC, "000000", NB_ETRUNCATED, 3,
     "session packet header"},
    {"empty", NB_SSN_MODE_RFC, "", NB_ETRUNCATED, 0, "session packet header"},
    {"negative without code", NB_SSN_MODE_RFC, "83000001", NB_ETRUNCATED, 4,
     "session packet trailer (LENGTH past the end)"},
    /* SESSION REQUEST trailers */
    {"request: pointer as calling name", NB_SSN_MODE_RFC,
     "81000044"
     "204647454e4648454a454f4649464143414341434143414341434143414341434100"
     "c004"
     "0000000000000000000000000000000000000000000000000000000000000000",
     NB_EMALFORMED, 38, "label pointer (not allowed in this packet)"},
    {"request: LENGTH 69 over a 68-byte request", NB_SSN_MODE_RFC,
     "81000045" SCANNER_REQUEST, NB_EMALFORMED, 4,
     "label type (reserved 01/10 bits)"},
    {"request: calling name past LENGTH", NB_SSN_MODE_RFC,
     "81000044"
     "204647454e4648454a454f4649464143414341434143414341434143414341434100"
     "2046414643454a454f464545464643434143414341434143414341434143414141"
     "03636f6d00",
     NB_EMALFORMED, 72, "CALLING NAME runs past LENGTH"},
    {"request: bad first-level character", NB_SSN_MODE_RFC,
     "81000044"
     "205a47454e4648454a454f4649464143414341434143414341434143414341434100"
     "2046414643454a454f46454546464343414341434143414341434143414341414100",
     NB_EMALFORMED, 5, "first label character not A-P"},
    {"request: first label 31", NB_SSN_MODE_RFC,
     "81000044"
     "1f4647454e4648454a454f46494641434143414341434143414341434143414341"
     "00"
     "2046414643454a454f46454546464343414341434143414341434143414341414100",
     NB_EMALFORMED, 4, "first label not 32 bytes"},
    /* direct mode */
    {"direct: session request", NB_SSN_MODE_DIRECT, SCANNER_REQUEST,
     NB_EMALFORMED, 0, "TYPE (direct mode: only 0x00 and keep-alive 0x85)"},
    {"direct: keepalive with length", NB_SSN_MODE_DIRECT, "8500000100",
     NB_EMALFORMED, 1, "SESSION KEEP ALIVE LENGTH not 0"},
    {"direct: 24-bit length cut short", NB_SSN_MODE_DIRECT, "00ffffff41",
     NB_ETRUNCATED, 5, "session packet trailer (LENGTH past the end)"},
};

static void test_rejections(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof rejects / sizeof rejects[0]; i++) {
    uint8_t buf[600];
    size_t len = nb_test_unhex(rejects[i].hex, buf, sizeof buf);
    nb_ssn_packet_t p;
    nb_diag_t d = {NB_OK, 0, NULL};
    size_t used = 12345;
    print_message("case: %s\n", rejects[i].what);
    assert_int_equal(nb_ssn_parse(buf, len, rejects[i].mode, &p, &used, &d),
                     rejects[i].err);
    assert_int_equal(used, 12345); /* untouched on error */
    assert_int_equal(d.err, rejects[i].err);
    assert_int_equal(d.offset, rejects[i].offset);
    assert_string_equal(d.field, rejects[i].field);
  }
}

/* The request with one trailing byte, precisely: LENGTH 69 over the
 * scanner's names and an extra byte. */
static void test_request_trailing_byte(void **state) {
  (void)state;
  uint8_t buf[128];
  size_t len = nb_test_unhex(SCANNER_REQUEST "ff", buf, sizeof buf);
  buf[3] = 0x45; /* LENGTH 69 */
  nb_ssn_packet_t p;
  nb_diag_t d = {NB_OK, 0, NULL};
  assert_int_equal(nb_ssn_parse(buf, len, NB_SSN_MODE_RFC, &p, NULL, &d),
                   NB_EMALFORMED);
  assert_int_equal(d.offset, 72);
  assert_string_equal(d.field,
                      "bytes after CALLING NAME (LENGTH exceeds the names)");
}

/* nb_ssn_parse_header leaves the cursor unmoved on error and moves it by 4
 * on success; the header of a message in the middle of a buffer. */
static void test_parse_header_cursor(void **state) {
  (void)state;
  uint8_t buf[16];
  size_t len = nb_test_unhex("ffff 0001ffff 85020000", buf, sizeof buf);
  nb_rd_t r;
  nb_ssn_header_t h;
  nb_diag_t d = {NB_OK, 0, NULL};
  nb_rd_init(&r, buf, len);
  r.pos = 2;
  assert_int_equal(nb_ssn_parse_header(&r, NB_SSN_MODE_RFC, &h, &d), NB_OK);
  assert_int_equal(r.pos, 6);
  assert_int_equal(h.type, 0);
  assert_int_equal(h.flags, 1);
  assert_int_equal(h.length, 0x1FFFF);
  assert_int_equal(nb_ssn_parse_header(&r, NB_SSN_MODE_RFC, &h, &d),
                   NB_EMALFORMED);
  assert_int_equal(r.pos, 6);
  assert_int_equal(d.offset, 7);
  r.pos = 2;
  assert_int_equal(nb_ssn_parse_header(&r, NB_SSN_MODE_DIRECT, &h, &d), NB_OK);
  assert_int_equal(h.length, 0x01FFFF);
  assert_int_equal(h.flags, 0);
  assert_int_equal(nb_ssn_parse_header(&r, (nb_ssn_mode_t)9, &h, &d),
                   NB_EINVAL);
}

static void test_type_names(void **state) {
  (void)state;
  assert_string_equal(nb_ssn_type_name(0x00), "SESSION MESSAGE");
  assert_string_equal(nb_ssn_type_name(0x82), "POSITIVE SESSION RESPONSE");
  assert_string_equal(nb_ssn_type_name(0x83), "NEGATIVE SESSION RESPONSE");
  assert_string_equal(nb_ssn_type_name(0x84), "RETARGET SESSION RESPONSE");
  assert_string_equal(nb_ssn_type_name(0x85), "SESSION KEEP ALIVE");
  assert_string_equal(nb_ssn_type_name(0x86), "unknown");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scanner_request),
      cmocka_unit_test(test_scanner_positive),
      cmocka_unit_test(test_scanner_messages),
      cmocka_unit_test(test_negative_codes),
      cmocka_unit_test(test_negative_unknown_code),
      cmocka_unit_test(test_retarget_and_keepalive),
      cmocka_unit_test(test_request_with_scope),
      cmocka_unit_test(test_e_bit),
      cmocka_unit_test(test_header_writer),
      cmocka_unit_test(test_zero_length_message),
      cmocka_unit_test(test_rejections),
      cmocka_unit_test(test_request_trailing_byte),
      cmocka_unit_test(test_parse_header_cursor),
      cmocka_unit_test(test_type_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
