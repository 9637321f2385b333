/* SPDX-License-Identifier: BSD-2-Clause */
/* The datagram reassembler (RFC 1002 5.3.3): in order, out of order
 * (every permutation of three fragments), duplicates, consistent and
 * conflicting overlaps, gaps, FRAGMENT_TO expiry with a virtual clock,
 * the byte and slot caps, reused DGM_IDs and invalid fragments.
 *
 * Fragments come from the fragmenting writer, are written to the wire and
 * parsed back, so the path is the one a daemon takes. */
#include <string.h>

#include "testutil.h"

#include "nb/dgm.h"

#define MAX_FRAGS 12

typedef struct {
  uint8_t data[NB_DGM_USER_DATA_MAX]; /* the user data sent */
  size_t data_len;
  nb_dgm_msg_t whole;
  uint8_t wire[MAX_FRAGS][NB_DGM_MAX_PAYLOAD];
  nb_dgm_msg_t frag[MAX_FRAGS]; /* parsed back from wire[] */
  size_t n;
} fixture_t;

static nb_name_t name_of(const char *text) {
  nb_name_t n;
  assert_int_equal(nb_name_from_text(&n, text, strlen(text), NULL), NB_OK);
  return n;
}

/* A datagram of `len` bytes of user data split at `max_payload`. */
static void make(fixture_t *fx, uint16_t id, uint32_t ip, size_t len,
                 size_t max_payload) {
  nb_name_t src = name_of("SENDER<00>"), dst = name_of("WORKGROUP<1d>");
  nb_dgm_split_t s;
  nb_dgm_msg_t f;
  for (size_t i = 0; i < len; i++) {
    fx->data[i] = (uint8_t)(i * 13 + id);
  }
  fx->data_len = len;
  nb_dgm_init(&fx->whole, NB_DGM_DIRECT_GROUP, id, ip, NB_DGM_PORT);
  fx->whole.flags |= NB_DGM_SNT_FLAGS(NB_DGM_SNT_M);
  assert_int_equal(nb_dgm_set_datagram(&fx->whole, &src, &dst, fx->data, len),
                   NB_OK);
  assert_int_equal(nb_dgm_split_init(&s, &fx->whole, max_payload), NB_OK);
  for (fx->n = 0; nb_dgm_split_next(&s, &f); fx->n++) {
    nb_wr_t w;
    size_t wlen = 0;
    assert_true(fx->n < MAX_FRAGS);
    nb_wr_init(&w, fx->wire[fx->n], sizeof fx->wire[fx->n]);
    nb_dgm_write(&w, &f);
    assert_int_equal(nb_wr_finish(&w, &wlen), NB_OK);
    assert_int_equal(
        nb_dgm_parse(fx->wire[fx->n], wlen, &fx->frag[fx->n], NULL), NB_OK);
  }
}

static nb_dgm_reasm_t *new_reasm(size_t slots, size_t bytes) {
  static nb_dgm_reasm_t r; /* ~19 KiB: kept off the stack */
  nb_dgm_reasm_cfg_t cfg;
  nb_dgm_reasm_cfg_default(&cfg);
  if (slots) {
    cfg.max_slots = slots;
  }
  if (bytes) {
    cfg.max_bytes = bytes;
  }
  assert_int_equal(nb_dgm_reasm_init(&r, &cfg), NB_OK);
  return &r;
}

/* The completed datagram is the one that was sent. */
static void assert_same(const fixture_t *fx, const nb_dgm_msg_t *out) {
  assert_int_equal(out->msg_type, fx->whole.msg_type);
  assert_int_equal(out->dgm_id, fx->whole.dgm_id);
  assert_int_equal(out->source_ip, fx->whole.source_ip);
  assert_int_equal(out->source_port, fx->whole.source_port);
  assert_int_equal(out->dgm_length, fx->whole.dgm_length);
  assert_int_equal(out->packet_offset, 0);
  assert_int_equal(out->flags, fx->whole.flags); /* F, SNT M, no MORE */
  assert_true(nb_name_equal(&out->source_name, &fx->whole.source_name));
  assert_true(
      nb_name_equal(&out->destination_name, &fx->whole.destination_name));
  assert_int_equal(out->data_len, fx->data_len);
  assert_memory_equal(out->data, fx->data, fx->data_len);
  assert_true(nb_dgm_is_whole(out));
}

static void assert_empty(const nb_dgm_reasm_t *r) {
  assert_int_equal(r->bytes, 0);
  assert_int_equal(r->slots_used, 0);
  assert_int_equal(nb_dgm_reasm_next_deadline(r), UINT64_MAX);
}

static void test_whole_passes_through(void **state) {
  (void)state;
  static fixture_t fx;
  nb_dgm_reasm_t *r = new_reasm(0, 0);
  nb_dgm_msg_t out;
  make(&fx, 1, 0x0a000001, 100, NB_DGM_MAX_PAYLOAD);
  assert_int_equal(fx.n, 1);
  assert_int_equal(nb_dgm_reasm_add(r, &fx.frag[0], 0, &out),
                   NB_DGM_REASM_COMPLETE);
  assert_same(&fx, &out);
  assert_ptr_equal(out.data, fx.frag[0].data); /* borrowed, not copied */
  assert_int_equal(r->stats.completed, 1);
  assert_empty(r);
}

static void test_two_fragments_both_orders(void **state) {
  (void)state;
  static fixture_t fx;
  nb_dgm_msg_t out;
  make(&fx, 2, 0x0a000001, 512, NB_DGM_MAX_PAYLOAD);
  assert_int_equal(fx.n, 2); /* RFC 1002 5.3.1 at 576-byte datagrams */
  for (int order = 0; order < 2; order++) {
    nb_dgm_reasm_t *r = new_reasm(0, 0);
    assert_int_equal(nb_dgm_reasm_add(r, &fx.frag[order], 10, &out),
                     NB_DGM_REASM_PENDING);
    assert_int_equal(r->bytes, fx.whole.dgm_length);
    assert_int_equal(nb_dgm_reasm_next_deadline(r), 10 + 2000);
    assert_int_equal(nb_dgm_reasm_add(r, &fx.frag[1 - order], 20, &out),
                     NB_DGM_REASM_COMPLETE);
    assert_same(&fx, &out);
    assert_empty(r);
  }
}

/* Every order of three fragments reassembles to the same datagram. */
static void test_three_fragments_every_permutation(void **state) {
  (void)state;
  static const int perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                  {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  static fixture_t fx;
  make(&fx, 3, 0x0a000002, 512, 250);
  assert_int_equal(fx.n, 3);
  for (size_t p = 0; p < 6; p++) {
    nb_dgm_reasm_t *r = new_reasm(0, 0);
    nb_dgm_msg_t out;
    for (size_t i = 0; i < 3; i++) {
      nb_dgm_reasm_result_t want =
          i < 2 ? NB_DGM_REASM_PENDING : NB_DGM_REASM_COMPLETE;
      assert_int_equal(
          nb_dgm_reasm_add(r, &fx.frag[perms[p][i]], 100 * i, &out), want);
    }
    assert_same(&fx, &out);
    assert_int_equal(r->stats.completed, 1);
    assert_int_equal(r->stats.fragments, 3);
    assert_empty(r);
  }
}

/* A repeated fragment is ignored; one repeated after completion starts a
 * reassembly that can only expire. */
static void test_duplicates(void **state) {
  (void)state;
  static fixture_t fx;
  nb_dgm_reasm_t *r = new_reasm(0, 0);
  nb_dgm_msg_t out;
  make(&fx, 4, 0x0a000001, 512, 250);
  assert_int_equal(nb_dgm_reasm_add(r, &fx.frag[1], 0, &out),
                   NB_DGM_REASM_PENDING);
  assert_int_equal(nb_dgm_reasm_add(r, &fx.frag[1], 1, &out),
                   NB_DGM_REASM_DUPLICATE);
  assert_int_equal(nb_dgm_reasm_add(r, &fx.frag[0], 2, &out),
                   NB_DGM_REASM_PENDING);
  assert_int_equal(nb_dgm_reasm_add(r, &fx.frag[0], 3, &out),
                   NB_DGM_REASM_DUPLICATE);
  assert_int_equal(nb_dgm_reasm_add(r, &fx.frag[2], 4, &out),
                   NB_DGM_REASM_COMPLETE);
  assert_same(&fx, &out);
  assert_int_equal(r->stats.duplicates, 2);
  assert_int_equal(nb_dgm_reasm_add(r, &fx.frag[2], 5, &out),
                   NB_DGM_REASM_PENDING);
  assert_int_equal(nb_dgm_reasm_on_timer(r, 5 + 2000), 1);
  assert_int_equal(r->stats.expired, 1);
  assert_empty(r);
}

/* Hand-made fragments of one data section: [0, split) from the first
 * fragment and (start, len) continuation pieces from `section`. */
static nb_dgm_msg_t piece(const fixture_t *fx, const uint8_t *section,
                          size_t start, size_t len, bool more) {
  nb_dgm_msg_t m = fx->whole;
  m.flags =
      (uint8_t)(NB_DGM_SNT_FLAGS(NB_DGM_SNT_M) | (more ? NB_DGM_FLAG_M : 0));
  m.packet_offset = (uint16_t)start;
  m.data = section + start;
  m.data_len = len;
  return m;
}

/* The data section of a whole fixture datagram (names + user data). */
static size_t section_of(const fixture_t *fx, uint8_t *out, size_t cap) {
  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, out, cap);
  nb_dgm_write(&w, &fx->whole);
  assert_int_equal(nb_wr_finish(&w, &len), NB_OK);
  memmove(out, out + NB_DGM_HEADER_LEN, len - NB_DGM_HEADER_LEN);
  return len - NB_DGM_HEADER_LEN;
}

/* Overlaps with identical bytes are merged (and counted); RFC 1001 17.1.2
 * says fragments do not overlap, but identical bytes do no harm. */
static void test_consistent_overlap(void **state) {
  (void)state;
  static fixture_t fx;
  uint8_t sec[1100];
  nb_dgm_reasm_t *r = new_reasm(0, 0);
  nb_dgm_msg_t out;
  make(&fx, 5, 0x0a000001, 100, NB_DGM_MAX_PAYLOAD);
  size_t total = section_of(&fx, sec, sizeof sec);
  assert_int_equal(total, 168);
  nb_dgm_msg_t first = fx.whole;
  first.flags |= NB_DGM_FLAG_M;
  first.data_len = 20;                              /* covers [0, 88) */
  nb_dgm_msg_t a = piece(&fx, sec, 80, 50, true);   /* [80, 130) */
  nb_dgm_msg_t b = piece(&fx, sec, 120, 48, false); /* [120, 168) */
  nb_dgm_msg_t c = piece(&fx, sec, 85, 10, true);   /* inside, nothing new */
  assert_int_equal(nb_dgm_reasm_add(r, &b, 0, &out), NB_DGM_REASM_PENDING);
  assert_int_equal(nb_dgm_reasm_add(r, &a, 0, &out), NB_DGM_REASM_PENDING);
  assert_int_equal(nb_dgm_reasm_add(r, &c, 0, &out), NB_DGM_REASM_DUPLICATE);
  assert_int_equal(nb_dgm_reasm_add(r, &first, 0, &out), NB_DGM_REASM_COMPLETE);
  assert_same(&fx, &out);
  assert_int_equal(r->stats.overlaps, 2);
  assert_int_equal(r->stats.duplicates, 1);
  assert_empty(r);
}

/* A byte that differs from one already held drops the reassembly and the
 * fragment; later fragments start over. */
static void test_conflicting_overlap(void **state) {
  (void)state;
  static fixture_t fx;
  uint8_t sec[1100], evil[1100];
  nb_dgm_reasm_t *r = new_reasm(0, 0);
  nb_dgm_msg_t out;
  make(&fx, 6, 0x0a000001, 100, NB_DGM_MAX_PAYLOAD);
  size_t total = section_of(&fx, sec, sizeof sec);
  memcpy(evil, sec, total);
  evil[125] ^= 0xff;
  nb_dgm_msg_t a = piece(&fx, sec, 80, 50, true);
  nb_dgm_msg_t bad = piece(&fx, evil, 120, 48, false);
  nb_dgm_msg_t good = piece(&fx, sec, 120, 48, false);
  assert_int_equal(nb_dgm_reasm_add(r, &a, 0, &out), NB_DGM_REASM_PENDING);
  assert_int_equal(nb_dgm_reasm_add(r, &bad, 0, &out), NB_DGM_REASM_DROPPED);
  assert_int_equal(r->stats.conflicts, 1);
  assert_empty(r);
  assert_int_equal(nb_dgm_reasm_add(r, &good, 0, &out), NB_DGM_REASM_PENDING);
  nb_dgm_msg_t first = fx.whole;
  first.flags |= NB_DGM_FLAG_M;
  first.data_len = 20;
  /* [88, 120) is missing: a gap, so no completion. */
  assert_int_equal(nb_dgm_reasm_add(r, &first, 0, &out), NB_DGM_REASM_PENDING);
  assert_int_equal(nb_dgm_reasm_add(r, &a, 0, &out), NB_DGM_REASM_COMPLETE);
  assert_same(&fx, &out);
}

/* A gap never completes; FRAGMENT_TO (2 s, RFC 1002 6) discards it. The
 * deadline is counted from the first fragment and not extended. */
static void test_gap_and_expiry(void **state) {
  (void)state;
  static fixture_t fx;
  nb_dgm_reasm_t *r = new_reasm(0, 0);
  nb_dgm_msg_t out;
  make(&fx, 7, 0x0a000001, 512, 250);
  assert_int_equal(nb_dgm_reasm_add(r, &fx.frag[0], 1000, &out),
                   NB_DGM_REASM_PENDING);
  assert_int_equal(nb_dgm_reasm_add(r, &fx.frag[2], 2500, &out),
                   NB_DGM_REASM_PENDING);
  assert_int_equal(nb_dgm_reasm_next_deadline(r), 3000);
  assert_int_equal(nb_dgm_reasm_on_timer(r, 2999), 0);
  assert_int_equal(nb_dgm_reasm_on_timer(r, 3000), 1);
  assert_int_equal(r->stats.expired, 1);
  assert_empty(r);
  /* The missing fragment arrives late: a new reassembly, not a datagram. */
  assert_int_equal(nb_dgm_reasm_add(r, &fx.frag[1], 3001, &out),
                   NB_DGM_REASM_PENDING);
  assert_int_equal(r->stats.completed, 0);
}

/* nb_dgm_reasm_add() expires first, so the answer does not depend on
 * whether the shell's timer fired. */
static void test_expiry_inside_add(void **state) {
  (void)state;
  static fixture_t fx;
  nb_dgm_reasm_t *r = new_reasm(0, 0);
  nb_dgm_msg_t out;
  make(&fx, 8, 0x0a000001, 512, NB_DGM_MAX_PAYLOAD);
  assert_int_equal(nb_dgm_reasm_add(r, &fx.frag[0], 0, &out),
                   NB_DGM_REASM_PENDING);
  assert_int_equal(nb_dgm_reasm_add(r, &fx.frag[1], 1999, &out),
                   NB_DGM_REASM_COMPLETE);
  assert_int_equal(nb_dgm_reasm_add(r, &fx.frag[0], 5000, &out),
                   NB_DGM_REASM_PENDING);
  assert_int_equal(nb_dgm_reasm_add(r, &fx.frag[1], 7000, &out),
                   NB_DGM_REASM_PENDING);
  assert_int_equal(r->stats.expired, 1);
  assert_int_equal(r->stats.completed, 1);
}

/* The byte cap is hard: the oldest reassembly is evicted to make room. */
static void test_byte_cap_evicts_oldest(void **state) {
  (void)state;
  static fixture_t fx[3];
  nb_dgm_msg_t out;
  for (uint16_t i = 0; i < 3; i++) {
    make(&fx[i], (uint16_t)(20 + i), 0x0a000001, 512, NB_DGM_MAX_PAYLOAD);
  }
  size_t len = fx[0].whole.dgm_length;
  nb_dgm_reasm_t *r = new_reasm(0, 2 * len);
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(nb_dgm_reasm_add(r, &fx[i].frag[0], i, &out),
                     NB_DGM_REASM_PENDING);
    assert_true(r->bytes <= 2 * len);
  }
  assert_int_equal(r->stats.evicted, 1);
  assert_int_equal(r->slots_used, 2);
  /* The evicted one (the first) cannot complete; the others can. */
  assert_int_equal(nb_dgm_reasm_add(r, &fx[0].frag[1], 5, &out),
                   NB_DGM_REASM_PENDING);
  assert_int_equal(r->stats.evicted, 2);
  assert_int_equal(nb_dgm_reasm_add(r, &fx[2].frag[1], 6, &out),
                   NB_DGM_REASM_COMPLETE);
  assert_same(&fx[2], &out);
  assert_true(r->bytes <= 2 * len);
}

static void test_slot_cap_evicts_oldest(void **state) {
  (void)state;
  static fixture_t fx[3];
  nb_dgm_msg_t out;
  nb_dgm_reasm_t *r = new_reasm(2, 0);
  for (uint16_t i = 0; i < 3; i++) {
    make(&fx[i], 30, (uint32_t)(0x0a000010 + i), 512, NB_DGM_MAX_PAYLOAD);
    assert_int_equal(nb_dgm_reasm_add(r, &fx[i].frag[1], i, &out),
                     NB_DGM_REASM_PENDING);
    assert_true(r->slots_used <= 2);
  }
  assert_int_equal(r->stats.evicted, 1);
  /* Same DGM_ID, different SOURCE_IP: separate reassemblies. */
  assert_int_equal(nb_dgm_reasm_add(r, &fx[1].frag[0], 3, &out),
                   NB_DGM_REASM_COMPLETE);
  assert_same(&fx[1], &out);
  assert_int_equal(nb_dgm_reasm_add(r, &fx[2].frag[0], 3, &out),
                   NB_DGM_REASM_COMPLETE);
  assert_same(&fx[2], &out);
  assert_empty(r);
}

/* Datagrams larger than the caps are refused up front. */
static void test_too_big(void **state) {
  (void)state;
  static fixture_t fx;
  nb_dgm_msg_t out;
  make(&fx, 40, 0x0a000001, 512, NB_DGM_MAX_PAYLOAD);
  nb_dgm_reasm_t *r = new_reasm(0, 500);
  assert_int_equal(nb_dgm_reasm_add(r, &fx.frag[0], 0, &out),
                   NB_DGM_REASM_DROPPED);
  assert_int_equal(r->stats.too_big, 1);
  r = new_reasm(0, 0);
  nb_dgm_msg_t big = fx.frag[1];
  big.dgm_length = NB_DGM_DATA_MAX + 1; /* past RFC 1001 17.1.2's max */
  assert_int_equal(nb_dgm_reasm_add(r, &big, 0, &out), NB_DGM_REASM_DROPPED);
  assert_int_equal(r->stats.too_big, 1);
  assert_empty(r);
}

/* A DGM_ID reused with another DGM_LENGTH replaces the old reassembly. */
static void test_reused_id(void **state) {
  (void)state;
  static fixture_t a, b;
  nb_dgm_msg_t out;
  make(&a, 50, 0x0a000001, 512, NB_DGM_MAX_PAYLOAD);
  make(&b, 50, 0x0a000001, 500, NB_DGM_MAX_PAYLOAD);
  nb_dgm_reasm_t *r = new_reasm(0, 0);
  assert_int_equal(nb_dgm_reasm_add(r, &a.frag[0], 0, &out),
                   NB_DGM_REASM_PENDING);
  assert_int_equal(nb_dgm_reasm_add(r, &b.frag[1], 0, &out),
                   NB_DGM_REASM_PENDING);
  assert_int_equal(r->stats.conflicts, 1);
  assert_int_equal(r->slots_used, 1);
  assert_int_equal(nb_dgm_reasm_add(r, &b.frag[0], 0, &out),
                   NB_DGM_REASM_COMPLETE);
  assert_same(&b, &out);
}

static void test_invalid(void **state) {
  (void)state;
  static fixture_t fx;
  nb_dgm_msg_t out, m;
  make(&fx, 60, 0x0a000001, 512, NB_DGM_MAX_PAYLOAD);
  nb_dgm_reasm_t *r = new_reasm(0, 0);
  nb_dgm_init(&m, NB_DGM_ERROR, 1, 1, NB_DGM_PORT);
  assert_int_equal(nb_dgm_reasm_add(r, &m, 0, &out), NB_DGM_REASM_DROPPED);
  m = fx.frag[1];
  m.packet_offset = (uint16_t)(m.dgm_length - 10); /* runs past the end */
  assert_int_equal(nb_dgm_reasm_add(r, &m, 0, &out), NB_DGM_REASM_DROPPED);
  m = fx.frag[1];
  m.data_len = 0; /* an empty continuation */
  assert_int_equal(nb_dgm_reasm_add(r, &m, 0, &out), NB_DGM_REASM_DROPPED);
  m = fx.frag[1];
  m.data = NULL;
  assert_int_equal(nb_dgm_reasm_add(r, &m, 0, &out), NB_DGM_REASM_DROPPED);
  assert_int_equal(r->stats.invalid, 4);
  assert_empty(r);
}

static void test_init_limits(void **state) {
  (void)state;
  static nb_dgm_reasm_t r;
  nb_dgm_reasm_cfg_t cfg;
  assert_int_equal(nb_dgm_reasm_init(&r, NULL), NB_OK);
  assert_int_equal(r.cfg.timeout_ms, NB_DGM_FRAGMENT_TO_MS);
  nb_dgm_reasm_cfg_default(&cfg);
  cfg.max_slots = 0;
  assert_int_equal(nb_dgm_reasm_init(&r, &cfg), NB_EINVAL);
  cfg.max_slots = NB_DGM_REASM_SLOTS + 1;
  assert_int_equal(nb_dgm_reasm_init(&r, &cfg), NB_EINVAL);
  cfg.max_slots = 1;
  cfg.max_bytes = 0;
  assert_int_equal(nb_dgm_reasm_init(&r, &cfg), NB_EINVAL);
}

/* A clock near its end does not wrap the deadline. */
static void test_deadline_saturates(void **state) {
  (void)state;
  static fixture_t fx;
  nb_dgm_msg_t out;
  make(&fx, 70, 0x0a000001, 512, NB_DGM_MAX_PAYLOAD);
  nb_dgm_reasm_t *r = new_reasm(0, 0);
  assert_int_equal(nb_dgm_reasm_add(r, &fx.frag[0], UINT64_MAX - 5, &out),
                   NB_DGM_REASM_PENDING);
  assert_int_equal(nb_dgm_reasm_next_deadline(r), UINT64_MAX);
  assert_int_equal(nb_dgm_reasm_add(r, &fx.frag[1], UINT64_MAX - 1, &out),
                   NB_DGM_REASM_COMPLETE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_whole_passes_through),
      cmocka_unit_test(test_two_fragments_both_orders),
      cmocka_unit_test(test_three_fragments_every_permutation),
      cmocka_unit_test(test_duplicates),
      cmocka_unit_test(test_consistent_overlap),
      cmocka_unit_test(test_conflicting_overlap),
      cmocka_unit_test(test_gap_and_expiry),
      cmocka_unit_test(test_expiry_inside_add),
      cmocka_unit_test(test_byte_cap_evicts_oldest),
      cmocka_unit_test(test_slot_cap_evicts_oldest),
      cmocka_unit_test(test_too_big),
      cmocka_unit_test(test_reused_id),
      cmocka_unit_test(test_invalid),
      cmocka_unit_test(test_init_limits),
      cmocka_unit_test(test_deadline_saturates),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
