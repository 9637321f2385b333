/* SPDX-License-Identifier: BSD-2-Clause */
/* The NetBIOS name codec: golden vectors from the RFCs and real captures,
 * round trips, and every rejection with its offset.
 *
 * Interop envelope (decided here; see docs/CONFORMANCE.md):
 *  - first label exactly 32 bytes of 'A'..'P', as nmbd requires. Samba's NDR
 *    parser accepts shorter first labels and Windows is looser still; no
 *    real sender emits them, so we reject.
 *  - pointers strictly backward, at most 10 hops (nmbd's cap). Samba's NDR
 *    parser also accepts forward pointers; we do not (no sender needs them).
 *  - 255 octets per expanded name (RFC 883), i.e. a dotted scope of at most
 *    220 characters: more than nmbd's 63 and less than NDR's 272. */
#include <string.h>

#include "testutil.h"

#include "nb/name.h"

static nb_name_t make(const char *text) {
  nb_name_t n;
  nb_diag_t d = {NB_OK, 0, NULL};
  assert_int_equal(nb_name_from_text(&n, text, strlen(text), &d), NB_OK);
  return n;
}

static size_t encode(const nb_name_t *n, uint8_t *buf, size_t cap) {
  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, buf, cap);
  nb_name_encode(&w, n);
  assert_int_equal(nb_wr_finish(&w, &len), NB_OK);
  assert_int_equal(len, nb_name_wire_len(n));
  return len;
}

static void assert_text(const nb_name_t *n, const char *want) {
  char buf[NB_NAME_TEXT_MAX];
  size_t len = nb_name_to_text(n, buf, sizeof buf);
  assert_string_equal(buf, want);
  assert_int_equal(len, strlen(want));
}

static void assert_l1(const nb_name_t *n, const char *want) {
  char l1[NB_NAME_L1_LEN + 1];
  nb_name_first_level(n, l1);
  assert_string_equal(l1, want);
}

/* RFC 1002 4.1: "FRED" + 12 spaces, scope NETBIOS.COM. */
static void test_rfc1002_fred(void **state) {
  (void)state;
  nb_name_t n = make("FRED.NETBIOS.COM");
  assert_memory_equal(n.bytes, "FRED            ", 16);
  assert_int_equal(nb_name_suffix(&n), 0x20);
  assert_l1(&n, "EGFCEFEECACACACACACACACACACACACA");
  uint8_t want[64];
  size_t want_len = nb_test_unhex(
      "20 4547464345464545434143414341434143414341434143414341434143414341"
      "07 4e455442494f53 03 434f4d 00",
      want, sizeof want);
  uint8_t buf[64];
  size_t len = encode(&n, buf, sizeof buf);
  assert_int_equal(len, want_len);
  assert_memory_equal(buf, want, len);
  assert_text(&n, "FRED<20>.NETBIOS.COM");
}

/* RFC 1001 14.1's printed example is wrong (see shared/rfc/PROVENANCE.md):
 * "The NetBIOS name" encodes to FEGIGFCA..., not FEGHGFCA... */
static void test_rfc1001_example_corrected(void **state) {
  (void)state;
  nb_name_t n;
  assert_int_equal(nb_name_make(&n, "The NetBIOS nam", 15, 'e', NULL), NB_OK);
  assert_l1(&n, "FEGIGFCAEOGFHEECEJEPFDCAGOGBGNGF");
  char l1[NB_NAME_L1_LEN + 1];
  nb_name_first_level(&n, l1);
  assert_string_not_equal(l1, "FEGHGFCAEOGFHEECEJEPFDCAHEGBGNGF");
  assert_text(&n, "The NetBIOS nam<65>");
}

static void test_wildcard_is_nul_padded(void **state) {
  (void)state;
  nb_name_t n = make("*<00>");
  const uint8_t want[16] = {'*'};
  assert_memory_equal(n.bytes, want, 16);
  assert_l1(&n, "CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  assert_text(&n, "*<00>");
  /* '*' padded with spaces is a different name and prints unambiguously. */
  nb_name_t sp;
  assert_int_equal(nb_name_make(&sp, "*              ", 15, 0, NULL), NB_OK);
  assert_false(nb_name_equal(&n, &sp));
  assert_text(&sp, "*\\x20<00>");
  nb_name_t back = make("*\\x20<00>");
  assert_memory_equal(back.bytes, sp.bytes, 16);
  /* nb_name_make pads "*" with NULs too. */
  nb_name_t made;
  assert_int_equal(nb_name_make(&made, "*", 1, 0, NULL), NB_OK);
  assert_memory_equal(made.bytes, want, 16);
}

static void test_msbrowse(void **state) {
  (void)state;
  nb_name_t n = make("\\x01\\x02__MSBROWSE__\\x02<01>");
  assert_memory_equal(n.bytes, "\x01\x02__MSBROWSE__\x02\x01", 16);
  assert_l1(&n, "ABACFPFPENFDECFCEPFHFDEFFPFPACAB");
  assert_text(&n, "\\x01\\x02__MSBROWSE__\\x02<01>");
}

static void test_default_suffix_and_case(void **state) {
  (void)state;
  nb_name_t upper = make("FRED");
  nb_name_t lower = make("fred<20>");
  assert_int_equal(nb_name_suffix(&upper), 0x20);
  assert_memory_equal(lower.bytes, "fred            ", 16); /* kept as given */
  assert_true(nb_name_equal(&upper, &lower));
  assert_int_equal(nb_name_hash(&upper), nb_name_hash(&lower));
  nb_name_t other = make("FRED<00>");
  assert_false(nb_name_equal(&upper, &other)); /* suffix is exact */
  nb_name_t scoped = make("FRED.Example.COM");
  nb_name_t scoped2 = make("fred<20>.example.com");
  assert_true(nb_name_equal(&scoped, &scoped2));
  assert_false(nb_name_equal(&scoped, &upper));
  assert_text(&lower, "fred<20>");
}

/* Every name in shared/pcaps-external/node-netbios/, with the bytes from
 * the captures' UDP and TCP payloads (offset 12 in name-service packets). */
static const struct {
  const char *hex;
  const char *text;
} capture_names[] = {
    /* netbios-ns-b-full-query.pcap: XP's query and node status request */
    {"204649464a454c4550454f434e444343414341434143414341434143414341414100",
     "XYKON-2<00>"},
    /* netbios-ns-b-nbstat-response-winxp.pcap, question */
    {"204647454e4648454a454f4649464143414341434143414341434143414341434100",
     "VMWINXP<20>"},
    /* netbios-ns-b-positive-response-winxp.pcap */
    {"204647454e4648454a454f4649464143414341434143414341434143414341434100",
     "VMWINXP<20>"},
    /* netbios-ns-b-query-winxp.pcap */
    {"2046454546464446454341434143414341434143414341434143414341434143410"
     "0",
     "TEST<20>"},
    /* netbios-ns-b-register-winxp.pcap */
    {"204647454e4648454a454f4649464143414341434143414341434143414341414100",
     "VMWINXP<00>"},
    /* netbios-ns-b-register-negative-response-winxp.pcap: scoped */
    {"204647454e4648454a454f46494641434143414341434143414341434143414341"
     "076578616d706c6503636f6d00",
     "VMWINXP<20>.example.com"},
    /* netbios-ssn-full-scanner-winxp.pcap: called and calling names */
    {"204647454e4648454a454f4649464143414341434143414341434143414341434100",
     "VMWINXP<20>"},
    {"2046414643454a454f46454546464343414341434143414341434143414341414100",
     "PRINTER<00>"},
};

static void test_capture_names(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof capture_names / sizeof capture_names[0]; i++) {
    uint8_t wire[128];
    size_t len = nb_test_unhex(capture_names[i].hex, wire, sizeof wire);
    nb_rd_t r;
    nb_name_t n;
    nb_rd_init(&r, wire, len);
    assert_int_equal(nb_name_decode(&r, &n, 0, NULL), NB_OK);
    assert_int_equal(r.pos, len);
    assert_text(&n, capture_names[i].text);
    uint8_t again[128];
    assert_int_equal(encode(&n, again, sizeof again), len);
    assert_memory_equal(again, wire, len);
    nb_name_t from_text = make(capture_names[i].text);
    assert_memory_equal(from_text.bytes, n.bytes, 16);
  }
}

/* netbios-ns-b-register-winxp.pcap: the additional record's name is the
 * pointer C0 0C back to the question name at offset 12. */
static void test_capture_pointer(void **state) {
  (void)state;
  uint8_t msg[128];
  size_t len = nb_test_unhex(
      "8d8f29000001000000000001204647454e4648454a454f46494641434143414341"
      "4341434143414341434141410000200001c00c00200001000493e000066000c0a8cf80",
      msg, sizeof msg);
  nb_rd_t r;
  nb_name_t q;
  nb_name_t ar;
  nb_rd_init(&r, msg, len);
  r.pos = 12;
  assert_int_equal(nb_name_decode(&r, &q, 0, NULL), NB_OK);
  assert_int_equal(r.pos, 46);
  r.pos = 50;
  assert_int_equal(nb_name_decode(&r, &ar, 0, NULL), NB_OK);
  assert_int_equal(r.pos, 52); /* two bytes in place */
  assert_true(nb_name_equal(&q, &ar));
  assert_text(&ar, "VMWINXP<00>");
  /* The same pointer is refused where pointers are not allowed. */
  nb_diag_t d;
  r.pos = 50;
  assert_int_equal(nb_name_decode(&r, &ar, NB_NAME_F_NO_POINTERS, &d),
                   NB_EMALFORMED);
  assert_int_equal(d.offset, 50);
  assert_int_equal(r.pos, 50);
  /* And the writer emits the same two bytes. */
  uint8_t buf[2];
  nb_wr_t w;
  nb_wr_init(&w, buf, sizeof buf);
  nb_name_encode_pointer(&w, 12);
  assert_int_equal(nb_wr_finish(&w, NULL), NB_OK);
  assert_memory_equal(buf, "\xc0\x0c", 2);
  nb_wr_init(&w, buf, sizeof buf);
  nb_name_encode_pointer(&w, 0x4000);
  assert_int_equal(nb_wr_finish(&w, NULL), NB_EINVAL);
}

/* A pointer into the middle of a name: the scope is shared. */
static void test_pointer_to_scope(void **state) {
  (void)state;
  uint8_t msg[160];
  nb_name_t a = make("ALPHA<00>.example.com");
  size_t alen = encode(&a, msg, sizeof msg);
  nb_wr_t w;
  nb_wr_init(&w, msg + alen, sizeof msg - alen);
  nb_name_t b = make("BETA<20>");
  char l1[NB_NAME_L1_LEN + 1];
  nb_name_first_level(&b, l1);
  nb_wr_u8(&w, 32);
  nb_wr_bytes(&w, l1, 32);
  nb_name_encode_pointer(&w, 33); /* ".example.com" of the first name */
  size_t blen = 0;
  assert_int_equal(nb_wr_finish(&w, &blen), NB_OK);
  nb_rd_t r;
  nb_name_t got;
  nb_rd_init(&r, msg, alen + blen);
  r.pos = alen;
  assert_int_equal(nb_name_decode(&r, &got, 0, NULL), NB_OK);
  assert_int_equal(r.pos, alen + blen);
  assert_text(&got, "BETA<20>.example.com");
}

typedef struct {
  const char *what;
  const char *hex;
  size_t start;
  nb_err_t err;
  size_t offset;
} bad_case_t;

#define L1_FRED "4547464345464545434143414341434143414341434143414341434143414341"

static const bad_case_t bad_cases[] = {
    {"empty input", "", 0, NB_ETRUNCATED, 0},
    {"first label 31", "1f" L1_FRED, 0, NB_EMALFORMED, 0},
    {"first label 0", "00", 0, NB_EMALFORMED, 0},
    {"first label 33", "21" L1_FRED "4100", 0, NB_EMALFORMED, 0},
    {"char Z", "20" "45475a4345464545434143414341434143414341434143414341434143414341"
               "00", 0, NB_EMALFORMED, 3},
    {"lower case", "20" "65474643454645454341434143414341434143414341434143414341434143"
                   "4100", 0, NB_EMALFORMED, 1},
    {"label type 01", "20" L1_FRED "40", 0, NB_EMALFORMED, 33},
    {"label type 10", "80", 0, NB_EMALFORMED, 0},
    {"truncated label", "20" "4547", 0, NB_ETRUNCATED, 1},
    {"no terminator", "20" L1_FRED, 0, NB_ETRUNCATED, 33},
    {"scope label truncated", "20" L1_FRED "05616263", 0, NB_ETRUNCATED, 34},
    {"scope dot", "20" L1_FRED "03612e6200", 0, NB_EMALFORMED, 35},
    {"scope NUL", "20" L1_FRED "0361006200", 0, NB_EMALFORMED, 35},
    {"scope space", "20" L1_FRED "0161" "0120" "00", 0, NB_EMALFORMED, 36},
    {"pointer to self", "c000", 0, NB_EMALFORMED, 0},
    {"pointer forward", "c00200" "20" L1_FRED "00", 0, NB_EMALFORMED, 0},
    {"pointer in the last byte", "20" L1_FRED "c0", 0, NB_ETRUNCATED, 33},
    {"pointer loop", "c002c000", 2, NB_EMALFORMED, 0},
    {"pointer disallowed", "20" L1_FRED "00c000", 34, NB_EMALFORMED, 34},
};

static void test_rejections(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
    const bad_case_t *c = &bad_cases[i];
    uint8_t msg[300];
    size_t len = nb_test_unhex(c->hex, msg, sizeof msg);
    nb_rd_t r;
    nb_name_t n;
    nb_diag_t d = {NB_OK, 999, NULL};
    nb_rd_init(&r, msg, len);
    r.pos = c->start;
    unsigned flags =
        strcmp(c->what, "pointer disallowed") == 0 ? NB_NAME_F_NO_POINTERS : 0;
    nb_err_t err = nb_name_decode(&r, &n, flags, &d);
    if (err != c->err || d.offset != c->offset) {
      print_error("case '%s': got %s at %zu (%s), want %s at %zu\n", c->what,
                  nb_errname(err), d.offset, d.field ? d.field : "-",
                  nb_errname(c->err), c->offset);
      fail();
    }
    assert_non_null(d.field);
    assert_int_equal(r.pos, c->start); /* unmoved */
  }
}

/* CVE-2020-10745's shape: many one-byte labels. Capped at 255 octets. */
static void test_many_small_labels(void **state) {
  (void)state;
  uint8_t msg[34 + 2 * 200 + 1];
  nb_wr_t w;
  nb_wr_init(&w, msg, sizeof msg);
  nb_name_t fred = make("FRED");
  char l1[NB_NAME_L1_LEN + 1];
  nb_name_first_level(&fred, l1);
  nb_wr_u8(&w, 32);
  nb_wr_bytes(&w, l1, 32);
  for (int i = 0; i < 200; i++) {
    nb_wr_u8(&w, 1);
    nb_wr_u8(&w, 'a');
  }
  nb_wr_u8(&w, 0);
  size_t len = 0;
  assert_int_equal(nb_wr_finish(&w, &len), NB_OK);
  nb_rd_t r;
  nb_name_t n;
  nb_diag_t d;
  nb_rd_init(&r, msg, len);
  assert_int_equal(nb_name_decode(&r, &n, 0, &d), NB_ELIMIT);
  /* 33 + 2*k + 1 <= 255 allows k = 110 labels; the 111th is refused. */
  assert_int_equal(d.offset, 33 + 2 * 110);
}

/* The longest legal name (255 octets) decodes; the text form carries it. */
static void test_longest_scope(void **state) {
  (void)state;
  char scope[NB_SCOPE_MAX + 2];
  /* 3 labels of 63 + 1 label of 28 = 189 + 28 + 3 dots = 220 */
  memset(scope, 'x', sizeof scope);
  scope[63] = scope[127] = scope[191] = '.';
  scope[NB_SCOPE_MAX] = '\0';
  nb_name_t n;
  assert_int_equal(nb_name_make(&n, "LONG", 4, 0x20, scope), NB_OK);
  uint8_t buf[300];
  size_t len = encode(&n, buf, sizeof buf);
  assert_int_equal(len, NB_NAME_WIRE_MAX);
  nb_rd_t r;
  nb_name_t back;
  nb_rd_init(&r, buf, len);
  assert_int_equal(nb_name_decode(&r, &back, 0, NULL), NB_OK);
  assert_true(nb_name_equal(&n, &back));
  /* One more character is over the cap, both ways. */
  scope[NB_SCOPE_MAX] = 'x';
  scope[NB_SCOPE_MAX + 1] = '\0';
  assert_int_equal(nb_name_make(&n, "LONG", 4, 0x20, scope), NB_ELIMIT);
  buf[len - 1] = 1; /* turn the terminator into a one-byte label */
  buf[len] = 'y';
  buf[len + 1] = 0;
  nb_diag_t d;
  nb_rd_init(&r, buf, len + 2);
  assert_int_equal(nb_name_decode(&r, &back, 0, &d), NB_ELIMIT);
}

/* Hop cap: a chain of backward pointers, 10 followed, 11 refused. */
static void test_hop_cap(void **state) {
  (void)state;
  uint8_t msg[34 + 2 * 12];
  nb_name_t fred = make("FRED");
  size_t len = encode(&fred, msg, sizeof msg);
  size_t prev = 0;
  for (int i = 0; i < 11; i++) {
    msg[len] = (uint8_t)(0xc0 | prev >> 8);
    msg[len + 1] = (uint8_t)prev;
    prev = len;
    len += 2;
  }
  nb_rd_t r;
  nb_name_t n;
  nb_diag_t d;
  nb_rd_init(&r, msg, len);
  r.pos = len - 4; /* the 10th pointer: 10 hops */
  assert_int_equal(nb_name_decode(&r, &n, 0, &d), NB_OK);
  assert_true(nb_name_equal(&n, &fred));
  r.pos = len - 2; /* the 11th */
  assert_int_equal(nb_name_decode(&r, &n, 0, &d), NB_ELIMIT);
  assert_int_equal(d.offset, 34); /* the pointer that would be hop 11 */
}

/* Every truncation of a valid name fails cleanly, unmoved. */
static void test_every_truncation(void **state) {
  (void)state;
  nb_name_t n = make("VMWINXP<20>.example.com");
  uint8_t buf[64];
  size_t len = encode(&n, buf, sizeof buf);
  for (size_t cut = 0; cut < len; cut++) {
    nb_rd_t r;
    nb_name_t got;
    nb_diag_t d;
    nb_rd_init(&r, buf, cut);
    assert_int_equal(nb_name_decode(&r, &got, 0, &d), NB_ETRUNCATED);
    assert_true(d.offset <= cut);
    assert_int_equal(r.pos, 0);
  }
}

static void test_text_errors(void **state) {
  (void)state;
  static const struct {
    const char *text;
    nb_err_t err;
    size_t offset;
  } cases[] = {
      {"", NB_EINVAL, 0},
      {"ABCDEFGHIJKLMNOP", NB_ELIMIT, 15},
      {"FRED<2>", NB_EINVAL, 4},
      {"FRED<2g>", NB_EINVAL, 4},
      {"FRED<20", NB_EINVAL, 4},
      {"FRED<20>x", NB_EINVAL, 8},
      {"FRED.", NB_EINVAL, 4},
      {"FRED<20>.a..b", NB_EINVAL, 11},
      {"FRED.a b", NB_EINVAL, 6},
      {"FR\\qD", NB_EINVAL, 2},
      {"FR\\x4", NB_EINVAL, 2},
      {"FR\x01" "D", NB_EINVAL, 2},
      {"<20>", NB_EINVAL, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    nb_name_t n;
    nb_diag_t d = {NB_OK, 999, NULL};
    nb_err_t err =
        nb_name_from_text(&n, cases[i].text, strlen(cases[i].text), &d);
    if (err != cases[i].err || d.offset != cases[i].offset) {
      print_error("'%s': got %s at %zu, want %s at %zu\n", cases[i].text,
                  nb_errname(err), d.offset, nb_errname(cases[i].err),
                  cases[i].offset);
      fail();
    }
  }
  /* A label of 64 in a scope is over the six-bit limit. */
  char scope[80];
  memset(scope, 'a', 64);
  scope[64] = '\0';
  nb_name_t n;
  assert_int_equal(nb_name_make(&n, "X", 1, 0, scope), NB_ELIMIT);
  assert_int_equal(nb_name_make(&n, "", 0, 0, NULL), NB_EINVAL);
  assert_int_equal(nb_name_make(&n, "ABCDEFGHIJKLMNOP", 16, 0, NULL),
                   NB_EINVAL);
}

static void test_text_escapes_round_trip(void **state) {
  (void)state;
  /* Every byte value in every position survives text and wire. */
  for (unsigned b = 0; b < 256; b++) {
    uint8_t raw[15];
    memset(raw, (int)b, sizeof raw);
    raw[0] = 'A';
    nb_name_t n;
    assert_int_equal(nb_name_make(&n, raw, sizeof raw, (uint8_t)b, NULL),
                     NB_OK);
    char text[NB_NAME_TEXT_MAX];
    size_t tlen = nb_name_to_text(&n, text, sizeof text);
    nb_name_t back;
    assert_int_equal(nb_name_from_text(&back, text, tlen, NULL), NB_OK);
    assert_memory_equal(back.bytes, n.bytes, 16);
  }
  nb_name_t spaces;
  assert_int_equal(nb_name_make(&spaces, " ", 1, 0x20, NULL), NB_OK);
  assert_text(&spaces, "\\x20<20>");
  nb_name_t dotted = make("A\\x2eB<00>.scope");
  assert_memory_equal(dotted.bytes, "A.B", 3);
  assert_text(&dotted, "A\\x2eB<00>.scope");
  /* A short buffer truncates like snprintf and reports the full length. */
  char small[5];
  assert_int_equal(nb_name_to_text(&dotted, small, sizeof small), 16);
  assert_string_equal(small, "A\\x2");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc1002_fred),
      cmocka_unit_test(test_rfc1001_example_corrected),
      cmocka_unit_test(test_wildcard_is_nul_padded),
      cmocka_unit_test(test_msbrowse),
      cmocka_unit_test(test_default_suffix_and_case),
      cmocka_unit_test(test_capture_names),
      cmocka_unit_test(test_capture_pointer),
      cmocka_unit_test(test_pointer_to_scope),
      cmocka_unit_test(test_rejections),
      cmocka_unit_test(test_many_small_labels),
      cmocka_unit_test(test_longest_scope),
      cmocka_unit_test(test_hop_cap),
      cmocka_unit_test(test_every_truncation),
      cmocka_unit_test(test_text_errors),
      cmocka_unit_test(test_text_escapes_round_trip),
  };
  return cmocka_run_group_tests_name("name", tests, NULL, NULL);
}
