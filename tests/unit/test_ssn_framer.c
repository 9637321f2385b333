/* SPDX-License-Identifier: BSD-2-Clause */
/* The session stream framer: the same events however the bytes are torn
 * apart (BIND's "torn apart" TCP tests, nghttp2's scripted feeds): every
 * split point, every pair of split points over the control packets, one
 * byte at a time, and random splits with a fixed seed, in both modes and
 * across a mid-stream mode switch; the maximum message size; bad headers
 * with their reasons and stream offsets; the end of a stream.
 *
 * Each run records normalized events: consecutive MSG_DATA chunks are
 * merged (their sizes depend on the splits) after checking that each chunk
 * borrows exactly the stream's bytes at its offset. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "nb/ssn.h"

#define MAX_EVENTS 256

typedef struct {
  nb_ssn_event_kind_t kind;
  uint64_t offset;
  uint32_t length;
  nb_ssn_packet_t packet; /* CONTROL (data NULL) */
  nb_diag_t diag;         /* ERROR */
} rec_t;

typedef struct {
  const uint8_t *stream; /* the whole stream, to check borrowed data */
  size_t stream_len;
  nb_ssn_framer_t f;
  rec_t recs[MAX_EVENTS];
  size_t n;
  unsigned ends;      /* MSG_ENDs seen */
  unsigned switch_at; /* switch to direct mode after this MSG_END; 0: no */
  bool stopped;       /* an ERROR was returned */
} run_t;

static void run_init(run_t *r, const uint8_t *stream, size_t len,
                     nb_ssn_mode_t mode, uint32_t max, unsigned switch_at) {
  memset(r, 0, sizeof *r);
  r->stream = stream;
  r->stream_len = len;
  r->switch_at = switch_at;
  assert_int_equal(nb_ssn_framer_init(&r->f, mode, max), NB_OK);
}

static void record(run_t *r, const nb_ssn_event_t *ev) {
  if (ev->kind == NB_SSN_EV_NEED_MORE) {
    return;
  }
  if (ev->kind == NB_SSN_EV_MSG_DATA) {
    assert_true(ev->length > 0);
    assert_true(ev->offset + ev->length <= r->stream_len);
    assert_memory_equal(ev->data, r->stream + ev->offset, ev->length);
    rec_t *last = r->n > 0 ? &r->recs[r->n - 1] : NULL;
    if (last != NULL && last->kind == NB_SSN_EV_MSG_DATA) {
      assert_true(last->offset + last->length == ev->offset);
      last->length += ev->length;
      return;
    }
  }
  assert_true(r->n < MAX_EVENTS);
  rec_t *rec = &r->recs[r->n++];
  memset(rec, 0, sizeof *rec);
  rec->kind = ev->kind;
  rec->offset = ev->offset;
  rec->length = ev->length;
  if (ev->kind == NB_SSN_EV_CONTROL) {
    rec->packet = ev->packet;
    rec->packet.data = NULL;
  }
  if (ev->kind == NB_SSN_EV_ERROR) {
    rec->diag = ev->diag;
  }
}

/* Feed one chunk until it is used up (or an error). */
static void feed(run_t *r, const uint8_t *p, size_t n) {
  while (!r->stopped) {
    nb_ssn_event_t ev;
    size_t used = 99999;
    nb_err_t err = nb_ssn_framer_feed(&r->f, p, n, &used, &ev);
    assert_true(used <= n);
    record(r, &ev);
    if (used > 0) { /* NULL + 0 is undefined */
      p += used;
      n -= used;
    }
    if (ev.kind == NB_SSN_EV_ERROR) {
      assert_int_equal(err, ev.diag.err);
      assert_true(err != NB_OK);
      r->stopped = true;
      return;
    }
    assert_int_equal(err, NB_OK);
    if (ev.kind == NB_SSN_EV_NEED_MORE) {
      assert_int_equal(n, 0);
      return;
    }
    if (ev.kind == NB_SSN_EV_MSG_END && ++r->ends == r->switch_at) {
      assert_int_equal(nb_ssn_framer_set_mode(&r->f, NB_SSN_MODE_DIRECT),
                       NB_OK);
    }
  }
}

/* Feed `len` bytes cut at the sorted offsets `cuts[0..ncuts)`. */
static void feed_split(run_t *r, const size_t *cuts, size_t ncuts) {
  size_t at = 0;
  for (size_t i = 0; i <= ncuts; i++) {
    size_t end = i < ncuts ? cuts[i] : r->stream_len;
    feed(r, r->stream + at, end - at);
    at = end;
  }
}

static bool same_name(const nb_name_t *a, const nb_name_t *b) {
  return memcmp(a->bytes, b->bytes, NB_NAME_BYTES) == 0 &&
         a->scope_len == b->scope_len &&
         memcmp(a->scope, b->scope, a->scope_len) == 0;
}

static void assert_same_events(const run_t *a, const run_t *b) {
  assert_int_equal(a->n, b->n);
  for (size_t i = 0; i < a->n; i++) {
    const rec_t *x = &a->recs[i];
    const rec_t *y = &b->recs[i];
    assert_int_equal(x->kind, y->kind);
    assert_int_equal(x->offset, y->offset);
    assert_int_equal(x->length, y->length);
    assert_int_equal(x->packet.type, y->packet.type);
    assert_int_equal(x->packet.flags, y->packet.flags);
    assert_int_equal(x->packet.length, y->packet.length);
    assert_int_equal(x->packet.error_code, y->packet.error_code);
    assert_int_equal(x->packet.retarget_addr, y->packet.retarget_addr);
    assert_int_equal(x->packet.retarget_port, y->packet.retarget_port);
    assert_true(same_name(&x->packet.called, &y->packet.called));
    assert_true(same_name(&x->packet.calling, &y->packet.calling));
    assert_int_equal(x->diag.err, y->diag.err);
    assert_int_equal(x->diag.offset, y->diag.offset);
    assert_ptr_equal(x->diag.field, y->diag.field);
  }
}

/* ---- the streams ---- */

typedef struct {
  uint8_t *buf;
  size_t cap;
  nb_wr_t w;
} sbuf_t;

static void sbuf_init(sbuf_t *s, size_t cap) {
  s->buf = malloc(cap);
  s->cap = cap;
  assert_non_null(s->buf);
  nb_wr_init(&s->w, s->buf, cap);
}

static size_t sbuf_done(sbuf_t *s) {
  size_t len = 0;
  assert_int_equal(nb_wr_finish(&s->w, &len), NB_OK);
  return len;
}

static nb_name_t name_of(const char *text) {
  nb_name_t n;
  assert_int_equal(nb_name_from_text(&n, text, strlen(text), NULL), NB_OK);
  return n;
}

static void add_message(sbuf_t *s, nb_ssn_mode_t mode, size_t len,
                        uint8_t seed) {
  uint8_t *tmp = malloc(len ? len : 1);
  assert_non_null(tmp);
  for (size_t i = 0; i < len; i++) {
    tmp[i] = (uint8_t)(seed + i * 13);
  }
  if (len >= 4) {
    memcpy(tmp, "\xffSMB", 4);
  }
  nb_ssn_write_message(&s->w, mode, tmp, len);
  free(tmp);
}

/* Stream A (RFC mode): every packet kind. Offsets in expected_a below. */
static size_t stream_a(sbuf_t *s) {
  nb_name_t called = name_of("VMWINXP<20>");
  nb_name_t calling = name_of("PRINTER<00>");
  nb_name_t fred = name_of("FRED<20>.NETBIOS.COM");
  nb_name_t client = name_of("CLIENT<00>.NETBIOS.COM");
  sbuf_init(s, 1024);
  nb_ssn_write_request(&s->w, &called, &calling); /* 0, 72 bytes */
  nb_ssn_write_positive(&s->w);                   /* 72 */
  add_message(s, NB_SSN_MODE_RFC, 35, 1);         /* 76, 39 bytes */
  nb_ssn_write_keepalive(&s->w);                  /* 115 */
  add_message(s, NB_SSN_MODE_RFC, 0, 0);          /* 119: LENGTH 0 */
  nb_ssn_write_negative(&s->w, 0x82);             /* 123, 5 bytes */
  nb_ssn_write_retarget(&s->w, 0x0a000001u, 139); /* 128, 10 bytes */
  add_message(s, NB_SSN_MODE_RFC, 300, 2);        /* 138, 304 bytes */
  nb_ssn_write_request(&s->w, &fred, &client);    /* 442, 96 bytes */
  add_message(s, NB_SSN_MODE_RFC, 1, 3);          /* 538, 5 bytes */
  return sbuf_done(s);                            /* 543 */
}

typedef struct {
  nb_ssn_event_kind_t kind;
  uint64_t offset;
  uint32_t length;
  uint8_t type; /* CONTROL */
} want_t;

static const want_t expected_a[] = {
    {NB_SSN_EV_CONTROL, 0, 68, 0x81},   {NB_SSN_EV_CONTROL, 72, 0, 0x82},
    {NB_SSN_EV_MSG_BEGIN, 76, 35, 0},   {NB_SSN_EV_MSG_DATA, 80, 35, 0},
    {NB_SSN_EV_MSG_END, 76, 35, 0},     {NB_SSN_EV_CONTROL, 115, 0, 0x85},
    {NB_SSN_EV_MSG_BEGIN, 119, 0, 0},   {NB_SSN_EV_MSG_END, 119, 0, 0},
    {NB_SSN_EV_CONTROL, 123, 1, 0x83},  {NB_SSN_EV_CONTROL, 128, 6, 0x84},
    {NB_SSN_EV_MSG_BEGIN, 138, 300, 0}, {NB_SSN_EV_MSG_DATA, 142, 300, 0},
    {NB_SSN_EV_MSG_END, 138, 300, 0},   {NB_SSN_EV_CONTROL, 442, 92, 0x81},
    {NB_SSN_EV_MSG_BEGIN, 538, 1, 0},   {NB_SSN_EV_MSG_DATA, 542, 1, 0},
    {NB_SSN_EV_MSG_END, 538, 1, 0},
};

static void assert_events(const run_t *r, const want_t *want, size_t n) {
  assert_int_equal(r->n, n);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(r->recs[i].kind, want[i].kind);
    assert_int_equal(r->recs[i].offset, want[i].offset);
    assert_int_equal(r->recs[i].length, want[i].length);
    if (want[i].kind == NB_SSN_EV_CONTROL) {
      assert_int_equal(r->recs[i].packet.type, want[i].type);
    }
  }
}

static void whole(run_t *r, const uint8_t *s, size_t len, nb_ssn_mode_t mode,
                  uint32_t max, unsigned switch_at) {
  run_init(r, s, len, mode, max, switch_at);
  feed(r, s, len);
}

static void test_stream_a_whole(void **state) {
  (void)state;
  sbuf_t s;
  size_t len = stream_a(&s);
  assert_int_equal(len, 543);
  run_t *r = malloc(sizeof *r);
  assert_non_null(r);
  whole(r, s.buf, len, NB_SSN_MODE_RFC, 0, 0);
  assert_events(r, expected_a, sizeof expected_a / sizeof expected_a[0]);
  char text[NB_NAME_TEXT_MAX];
  nb_name_to_text(&r->recs[0].packet.called, text, sizeof text);
  assert_string_equal(text, "VMWINXP<20>");
  nb_name_to_text(&r->recs[13].packet.calling, text, sizeof text);
  assert_string_equal(text, "CLIENT<00>.NETBIOS.COM");
  assert_int_equal(r->recs[8].packet.error_code, 0x82);
  assert_int_equal(r->recs[9].packet.retarget_addr, 0x0a000001u);
  assert_int_equal(r->recs[9].packet.retarget_port, 139);
  assert_int_equal(nb_ssn_framer_eof(&r->f, NULL), NB_OK);
  free(r);
  free(s.buf);
}

/* Every split point, and every pair of split points up to byte 140 (the
 * request, the responses, the zero-length message and the retarget). */
static void test_stream_a_every_split(void **state) {
  (void)state;
  sbuf_t s;
  size_t len = stream_a(&s);
  run_t *ref = malloc(sizeof *ref);
  run_t *r = malloc(sizeof *r);
  assert_non_null(ref);
  assert_non_null(r);
  whole(ref, s.buf, len, NB_SSN_MODE_RFC, 0, 0);
  for (size_t i = 0; i <= len; i++) {
    run_init(r, s.buf, len, NB_SSN_MODE_RFC, 0, 0);
    feed_split(r, &i, 1);
    assert_same_events(ref, r);
  }
  for (size_t i = 1; i < 140; i++) {
    for (size_t j = i; j < 140; j++) {
      size_t cuts[2] = {i, j};
      run_init(r, s.buf, len, NB_SSN_MODE_RFC, 0, 0);
      feed_split(r, cuts, 2);
      assert_same_events(ref, r);
    }
  }
  free(ref);
  free(r);
  free(s.buf);
}

static void test_stream_a_byte_by_byte(void **state) {
  (void)state;
  sbuf_t s;
  size_t len = stream_a(&s);
  run_t *ref = malloc(sizeof *ref);
  run_t *r = malloc(sizeof *r);
  assert_non_null(ref);
  assert_non_null(r);
  whole(ref, s.buf, len, NB_SSN_MODE_RFC, 0, 0);
  run_init(r, s.buf, len, NB_SSN_MODE_RFC, 0, 0);
  for (size_t i = 0; i < len; i++) {
    feed(r, s.buf + i, 1);
    feed(r, NULL, 0); /* empty feeds change nothing */
  }
  assert_same_events(ref, r);
  assert_int_equal(nb_ssn_framer_eof(&r->f, NULL), NB_OK);
  free(ref);
  free(r);
  free(s.buf);
}

/* Random cut sets with a fixed seed. */
static void random_splits(const uint8_t *buf, size_t len, nb_ssn_mode_t mode,
                          unsigned switch_at, unsigned rounds) {
  run_t *ref = malloc(sizeof *ref);
  run_t *r = malloc(sizeof *r);
  assert_non_null(ref);
  assert_non_null(r);
  whole(ref, buf, len, mode, 0, switch_at);
  uint32_t seed = 20240601u;
  for (unsigned k = 0; k < rounds; k++) {
    size_t cuts[40];
    size_t n = 1 + nb_test_rand(&seed) % 40;
    for (size_t i = 0; i < n; i++) {
      cuts[i] = nb_test_rand(&seed) % (len + 1);
    }
    for (size_t i = 1; i < n; i++) { /* insertion sort */
      for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
        size_t t = cuts[j];
        cuts[j] = cuts[j - 1];
        cuts[j - 1] = t;
      }
    }
    run_init(r, buf, len, mode, 0, switch_at);
    feed_split(r, cuts, n);
    assert_same_events(ref, r);
  }
  free(ref);
  free(r);
}

static void test_stream_a_random_splits(void **state) {
  (void)state;
  sbuf_t s;
  size_t len = stream_a(&s);
  random_splits(s.buf, len, NB_SSN_MODE_RFC, 0, 2000);
  free(s.buf);
}

/* The E bit in the framer: a 0x10005-byte message is one message. */
static void test_e_bit_message(void **state) {
  (void)state;
  sbuf_t s;
  sbuf_init(&s, 0x10100);
  add_message(&s, NB_SSN_MODE_RFC, 0x10005, 9);
  nb_ssn_write_keepalive(&s.w);
  size_t len = sbuf_done(&s);
  assert_memory_equal(s.buf, "\x00\x01\x00\x05", 4);
  static const want_t want[] = {
      {NB_SSN_EV_MSG_BEGIN, 0, 0x10005, 0},
      {NB_SSN_EV_MSG_DATA, 4, 0x10005, 0},
      {NB_SSN_EV_MSG_END, 0, 0x10005, 0},
      {NB_SSN_EV_CONTROL, 0x10009, 0, 0x85},
  };
  run_t *r = malloc(sizeof *r);
  assert_non_null(r);
  whole(r, s.buf, len, NB_SSN_MODE_RFC, 0, 0);
  assert_events(r, want, 4);
  /* Split inside the header, the body and the keep-alive. */
  static const size_t cut_sets[][3] = {
      {1, 2, 3}, {2, 0x8000, 0x10008}, {4, 0x10009, 0x1000b}};
  run_t *x = malloc(sizeof *x);
  assert_non_null(x);
  for (size_t i = 0; i < 3; i++) {
    run_init(x, s.buf, len, NB_SSN_MODE_RFC, 0, 0);
    feed_split(x, cut_sets[i], 3);
    assert_same_events(r, x);
  }
  random_splits(s.buf, len, NB_SSN_MODE_RFC, 0, 50);
  /* The seed library's E bit (0x80) is a reserved bit here. */
  s.buf[1] = 0x80;
  whole(r, s.buf, len, NB_SSN_MODE_RFC, 0, 0);
  assert_int_equal(r->n, 1);
  assert_int_equal(r->recs[0].kind, NB_SSN_EV_ERROR);
  assert_int_equal(r->recs[0].diag.err, NB_EMALFORMED);
  assert_int_equal(r->recs[0].diag.offset, 1);
  assert_string_equal(r->recs[0].diag.field,
                      "FLAGS reserved bits (must be zero)");
  free(r);
  free(x);
  free(s.buf);
}

/* Stream B (direct mode): 24-bit lengths beyond 17 bits and keep-alives. */
static void test_direct_mode(void **state) {
  (void)state;
  sbuf_t s;
  sbuf_init(&s, 0x30100);
  add_message(&s, NB_SSN_MODE_DIRECT, 100, 4);     /* 0 */
  nb_ssn_write_keepalive(&s.w);                    /* 104 */
  add_message(&s, NB_SSN_MODE_DIRECT, 0x20010, 5); /* 108 */
  add_message(&s, NB_SSN_MODE_DIRECT, 7, 6);       /* 0x20080 */
  size_t len = sbuf_done(&s);
  assert_memory_equal(s.buf + 108, "\x00\x02\x00\x10", 4);
  static const want_t want[] = {
      {NB_SSN_EV_MSG_BEGIN, 0, 100, 0},
      {NB_SSN_EV_MSG_DATA, 4, 100, 0},
      {NB_SSN_EV_MSG_END, 0, 100, 0},
      {NB_SSN_EV_CONTROL, 104, 0, 0x85},
      {NB_SSN_EV_MSG_BEGIN, 108, 0x20010, 0},
      {NB_SSN_EV_MSG_DATA, 112, 0x20010, 0},
      {NB_SSN_EV_MSG_END, 108, 0x20010, 0},
      {NB_SSN_EV_MSG_BEGIN, 0x20080, 7, 0},
      {NB_SSN_EV_MSG_DATA, 0x20084, 7, 0},
      {NB_SSN_EV_MSG_END, 0x20080, 7, 0},
  };
  run_t *r = malloc(sizeof *r);
  assert_non_null(r);
  whole(r, s.buf, len, NB_SSN_MODE_DIRECT, 0, 0);
  assert_events(r, want, sizeof want / sizeof want[0]);
  run_t *x = malloc(sizeof *x);
  assert_non_null(x);
  for (size_t i = 0; i <= 200; i++) { /* every split in the first packets */
    run_init(x, s.buf, len, NB_SSN_MODE_DIRECT, 0, 0);
    feed_split(x, &i, 1);
    assert_same_events(r, x);
  }
  random_splits(s.buf, len, NB_SSN_MODE_DIRECT, 0, 200);
  /* The same bytes in RFC mode: 0x02 is a reserved flag bit. */
  whole(r, s.buf, len, NB_SSN_MODE_RFC, 0, 0);
  assert_int_equal(r->recs[r->n - 1].kind, NB_SSN_EV_ERROR);
  assert_int_equal(r->recs[r->n - 1].diag.offset, 109);
  free(r);
  free(x);
  free(s.buf);
}

/* Samba on 139: RFC framing until SMB2 NEGOTIATE, then 24-bit lengths.
 * The switch happens at the MSG_END of the first message, before any byte
 * of the next header is consumed, however the stream is split. */
static void test_mode_switch(void **state) {
  (void)state;
  nb_name_t called = name_of("SERVER<20>");
  nb_name_t calling = name_of("CLIENT<00>");
  sbuf_t s;
  sbuf_init(&s, 0x30000);
  nb_ssn_write_request(&s.w, &called, &calling);   /* 0, 72 */
  nb_ssn_write_positive(&s.w);                     /* 72 */
  add_message(&s, NB_SSN_MODE_RFC, 60, 7);         /* 76: the NEGOTIATE */
  add_message(&s, NB_SSN_MODE_DIRECT, 0x20001, 8); /* 140: needs 24 bits */
  nb_ssn_write_keepalive(&s.w);                    /* 0x20091 */
  add_message(&s, NB_SSN_MODE_DIRECT, 3, 9);       /* 0x20095 */
  size_t len = sbuf_done(&s);
  static const want_t want[] = {
      {NB_SSN_EV_CONTROL, 0, 68, 0x81},
      {NB_SSN_EV_CONTROL, 72, 0, 0x82},
      {NB_SSN_EV_MSG_BEGIN, 76, 60, 0},
      {NB_SSN_EV_MSG_DATA, 80, 60, 0},
      {NB_SSN_EV_MSG_END, 76, 60, 0},
      {NB_SSN_EV_MSG_BEGIN, 140, 0x20001, 0},
      {NB_SSN_EV_MSG_DATA, 144, 0x20001, 0},
      {NB_SSN_EV_MSG_END, 140, 0x20001, 0},
      {NB_SSN_EV_CONTROL, 0x20091, 0, 0x85},
      {NB_SSN_EV_MSG_BEGIN, 0x20095, 3, 0},
      {NB_SSN_EV_MSG_DATA, 0x20099, 3, 0},
      {NB_SSN_EV_MSG_END, 0x20095, 3, 0},
  };
  run_t *r = malloc(sizeof *r);
  assert_non_null(r);
  whole(r, s.buf, len, NB_SSN_MODE_RFC, 0, 1);
  assert_events(r, want, sizeof want / sizeof want[0]);
  run_t *x = malloc(sizeof *x);
  assert_non_null(x);
  for (size_t i = 0; i <= 300; i++) {
    run_init(x, s.buf, len, NB_SSN_MODE_RFC, 0, 1);
    feed_split(x, &i, 1);
    assert_same_events(r, x);
  }
  random_splits(s.buf, len, NB_SSN_MODE_RFC, 1, 200);
  /* Without the switch the 24-bit header is a reserved-flag error. */
  whole(r, s.buf, len, NB_SSN_MODE_RFC, 0, 0);
  assert_int_equal(r->recs[r->n - 1].kind, NB_SSN_EV_ERROR);
  assert_int_equal(r->recs[r->n - 1].diag.offset, 141);
  free(r);
  free(x);
  free(s.buf);
}

/* set_mode only between packets. */
static void test_set_mode_state(void **state) {
  (void)state;
  nb_ssn_framer_t f;
  nb_ssn_event_t ev;
  size_t used;
  const uint8_t msg[] = {0x00, 0x00, 0x00, 0x02, 'h', 'i', 0x00};
  assert_int_equal(nb_ssn_framer_init(&f, NB_SSN_MODE_RFC, 0), NB_OK);
  assert_true(nb_ssn_framer_at_boundary(&f));
  assert_int_equal(nb_ssn_framer_set_mode(&f, NB_SSN_MODE_DIRECT), NB_OK);
  assert_int_equal(nb_ssn_framer_set_mode(&f, NB_SSN_MODE_RFC), NB_OK);
  assert_int_equal(nb_ssn_framer_set_mode(&f, (nb_ssn_mode_t)3), NB_EINVAL);
  assert_int_equal(nb_ssn_framer_feed(&f, msg, 2, &used, &ev), NB_OK);
  assert_int_equal(ev.kind, NB_SSN_EV_NEED_MORE);
  assert_int_equal(used, 2);
  assert_int_equal(nb_ssn_framer_set_mode(&f, NB_SSN_MODE_DIRECT), NB_ESTATE);
  assert_int_equal(nb_ssn_framer_feed(&f, msg + 2, 3, &used, &ev), NB_OK);
  assert_int_equal(ev.kind, NB_SSN_EV_MSG_BEGIN);
  assert_int_equal(used, 2);
  assert_int_equal(nb_ssn_framer_set_mode(&f, NB_SSN_MODE_DIRECT), NB_ESTATE);
  assert_int_equal(nb_ssn_framer_feed(&f, msg + 4, 3, &used, &ev), NB_OK);
  assert_int_equal(ev.kind, NB_SSN_EV_MSG_DATA);
  assert_int_equal(used, 2);
  /* MSG_END pending: not yet a boundary; eof says so. */
  assert_int_equal(nb_ssn_framer_set_mode(&f, NB_SSN_MODE_DIRECT), NB_ESTATE);
  assert_int_equal(nb_ssn_framer_eof(&f, NULL), NB_ESTATE);
  assert_int_equal(nb_ssn_framer_feed(&f, NULL, 0, &used, &ev), NB_OK);
  assert_int_equal(ev.kind, NB_SSN_EV_MSG_END);
  assert_int_equal(nb_ssn_framer_set_mode(&f, NB_SSN_MODE_DIRECT), NB_OK);
  assert_int_equal(nb_ssn_framer_init(&f, (nb_ssn_mode_t)2, 0), NB_EINVAL);
  /* NULL with a length is misuse, reported but not sticky. */
  assert_int_equal(nb_ssn_framer_feed(&f, NULL, 1, &used, &ev), NB_EINVAL);
  assert_int_equal(ev.kind, NB_SSN_EV_ERROR);
  assert_int_equal(used, 0);
  assert_int_equal(nb_ssn_framer_feed(&f, msg, 1, &used, &ev), NB_OK);
}

/* The configured maximum: LENGTH == max passes, max + 1 is ELIMIT at the
 * header, and the error is sticky. set_mode keeps the configured cap. */
static void test_max_message(void **state) {
  (void)state;
  sbuf_t s;
  sbuf_init(&s, 512);
  add_message(&s, NB_SSN_MODE_RFC, 100, 1);
  add_message(&s, NB_SSN_MODE_RFC, 101, 2);
  size_t len = sbuf_done(&s);
  run_t *r = malloc(sizeof *r);
  assert_non_null(r);
  whole(r, s.buf, len, NB_SSN_MODE_RFC, 100, 0);
  assert_int_equal(r->n, 4);
  assert_int_equal(r->recs[2].kind, NB_SSN_EV_MSG_END);
  assert_int_equal(r->recs[3].kind, NB_SSN_EV_ERROR);
  assert_int_equal(r->recs[3].diag.err, NB_ELIMIT);
  assert_int_equal(r->recs[3].diag.offset, 105);
  assert_string_equal(r->recs[3].diag.field,
                      "LENGTH over the maximum message size");
  /* Sticky: the same error, nothing consumed, eof reports it too. */
  nb_ssn_event_t ev;
  size_t used = 7;
  assert_int_equal(nb_ssn_framer_feed(&r->f, s.buf, len, &used, &ev),
                   NB_ELIMIT);
  assert_int_equal(used, 0);
  assert_int_equal(ev.kind, NB_SSN_EV_ERROR);
  assert_int_equal(ev.diag.offset, 105);
  nb_diag_t d;
  assert_int_equal(nb_ssn_framer_eof(&r->f, &d), NB_ELIMIT);
  assert_int_equal(d.offset, 105);
  /* 0 and anything over the mode's limit mean the mode's limit. */
  nb_ssn_framer_t f;
  assert_int_equal(nb_ssn_framer_init(&f, NB_SSN_MODE_RFC, 0), NB_OK);
  assert_int_equal(f.max_msg, NB_SSN_RFC_MAX);
  assert_int_equal(nb_ssn_framer_init(&f, NB_SSN_MODE_RFC, 0xFFFFFFFFu), NB_OK);
  assert_int_equal(f.max_msg, NB_SSN_RFC_MAX);
  assert_int_equal(nb_ssn_framer_set_mode(&f, NB_SSN_MODE_DIRECT), NB_OK);
  assert_int_equal(f.max_msg, NB_SSN_DIRECT_MAX);
  assert_int_equal(nb_ssn_framer_init(&f, NB_SSN_MODE_RFC, 1000), NB_OK);
  assert_int_equal(nb_ssn_framer_set_mode(&f, NB_SSN_MODE_DIRECT), NB_OK);
  assert_int_equal(f.max_msg, 1000);
  free(r);
  free(s.buf);
}

/* Bad headers and control packets: the reason and the stream offset, the
 * same at every split point. Each stream starts with a good keep-alive so
 * that offsets are stream offsets, not packet offsets. */
static const struct {
  const char *what;
  nb_ssn_mode_t mode;
  const char *hex;
  nb_err_t err;
  size_t offset;
  const char *field;
} bad[] = {
    {"type 0x86", NB_SSN_MODE_RFC, "85000000 86000000", NB_EMALFORMED, 4,
     "TYPE (not a session packet type)"},
    {"reserved flag 0x80", NB_SSN_MODE_RFC, "85000000 00800005 0102030405",
     NB_EMALFORMED, 5, "FLAGS reserved bits (must be zero)"},
    {"reserved flag 0x02", NB_SSN_MODE_RFC, "85000000 85020000", NB_EMALFORMED,
     5, "FLAGS reserved bits (must be zero)"},
    {"positive LENGTH 1", NB_SSN_MODE_RFC, "85000000 8200000100", NB_EMALFORMED,
     6, "POSITIVE SESSION RESPONSE LENGTH not 0"},
    {"negative LENGTH 2", NB_SSN_MODE_RFC, "85000000 830000028000",
     NB_EMALFORMED, 6, "NEGATIVE SESSION RESPONSE LENGTH not 1"},
    {"retarget LENGTH 7", NB_SSN_MODE_RFC, "85000000 840000070a000001008b00",
     NB_EMALFORMED, 6, "RETARGET SESSION RESPONSE LENGTH not 6"},
    {"request LENGTH 0x1ffff", NB_SSN_MODE_RFC, "85000000 8101ffff", NB_ELIMIT,
     6, "SESSION REQUEST LENGTH over 510 (two names)"},
    {"request with a pointer", NB_SSN_MODE_RFC,
     "85000000 81000044"
     "204647454e4648454a454f4649464143414341434143414341434143414341434100"
     "c008"
     "0000000000000000000000000000000000000000000000000000000000000000",
     NB_EMALFORMED, 42, "label pointer (not allowed in this packet)"},
    {"request with a trailing byte", NB_SSN_MODE_RFC,
     "85000000 81000045"
     "204647454e4648454a454f4649464143414341434143414341434143414341434100"
     "2046414643454a454f46454546464343414341434143414341434143414341414100"
     "ff",
     NB_EMALFORMED, 76, "bytes after CALLING NAME (LENGTH exceeds the names)"},
    {"direct: session request", NB_SSN_MODE_DIRECT, "85000000 81000044 2046",
     NB_EMALFORMED, 4, "TYPE (direct mode: only 0x00 and keep-alive 0x85)"},
    {"direct: keep-alive with a length", NB_SSN_MODE_DIRECT,
     "85000000 85000001 00", NB_EMALFORMED, 5,
     "SESSION KEEP ALIVE LENGTH not 0"},
};

static void test_bad_headers(void **state) {
  (void)state;
  run_t *ref = malloc(sizeof *ref);
  run_t *r = malloc(sizeof *r);
  assert_non_null(ref);
  assert_non_null(r);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint8_t buf[256];
    size_t len = nb_test_unhex(bad[i].hex, buf, sizeof buf);
    print_message("case: %s\n", bad[i].what);
    whole(ref, buf, len, bad[i].mode, 0, 0);
    assert_int_equal(ref->n, 2);
    assert_int_equal(ref->recs[0].kind, NB_SSN_EV_CONTROL);
    const rec_t *e = &ref->recs[1];
    assert_int_equal(e->kind, NB_SSN_EV_ERROR);
    assert_int_equal(e->diag.err, bad[i].err);
    assert_int_equal(e->diag.offset, bad[i].offset);
    assert_int_equal(e->offset, bad[i].offset);
    assert_string_equal(e->diag.field, bad[i].field);
    for (size_t cut = 0; cut <= len; cut++) {
      run_init(r, buf, len, bad[i].mode, 0, 0);
      feed_split(r, &cut, 1);
      assert_same_events(ref, r);
    }
  }
  free(ref);
  free(r);
}

/* The end of the stream: where it was cut short. */
static void test_eof(void **state) {
  (void)state;
  static const struct {
    const char *hex;
    nb_err_t err;
    size_t offset;
    const char *field;
  } cases[] = {
      {"", NB_OK, 0, NULL},
      {"82000000", NB_OK, 0, NULL},
      {"820000", NB_ETRUNCATED, 3,
       "stream ended inside a session packet header"},
      {"83000001", NB_ETRUNCATED, 4, "stream ended inside a control packet"},
      /* Zeek's netbios-truncated-session-msg.pcap: 0xFFFF declared */
      {"0000ffff41414141", NB_ETRUNCATED, 8,
       "stream ended inside a session message"},
      {"86000000", NB_EMALFORMED, 0, "TYPE (not a session packet type)"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint8_t buf[16];
    size_t len = nb_test_unhex(cases[i].hex, buf, sizeof buf);
    run_t *r = malloc(sizeof *r);
    assert_non_null(r);
    whole(r, buf, len, NB_SSN_MODE_RFC, 0, 0);
    nb_diag_t d = {NB_OK, 0, NULL};
    assert_int_equal(nb_ssn_framer_eof(&r->f, &d), cases[i].err);
    if (cases[i].err != NB_OK) {
      assert_int_equal(d.offset, cases[i].offset);
      assert_string_equal(d.field, cases[i].field);
    }
    free(r);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stream_a_whole),
      cmocka_unit_test(test_stream_a_every_split),
      cmocka_unit_test(test_stream_a_byte_by_byte),
      cmocka_unit_test(test_stream_a_random_splits),
      cmocka_unit_test(test_e_bit_message),
      cmocka_unit_test(test_direct_mode),
      cmocka_unit_test(test_mode_switch),
      cmocka_unit_test(test_set_mode_state),
      cmocka_unit_test(test_max_message),
      cmocka_unit_test(test_bad_headers),
      cmocka_unit_test(test_eof),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
