/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_ssn_framer: the session stream framer, split-feed vs whole-feed.
 *
 * Input layout:
 *   byte 0   bit 0: mode (0 RFC, 1 direct); bit 1: switch to direct mode
 *            after the first MSG_END (Samba after SMB negotiate); bits 2-3:
 *            max_msg = {mode's limit, 64, 1000, 0x10000}
 *   byte 1   low 4 bits: number of split points N (0..15)
 *   2N bytes the split points (big-endian, taken modulo stream length + 1,
 *            then sorted)
 *   rest     the stream
 * Oracles:
 *  - the events of the split feed, and of a byte-at-a-time feed for short
 *    streams, equal the whole feed's (MSG_DATA chunks merged);
 *  - MSG_DATA borrows exactly stream + offset; chunks add up to the
 *    MSG_BEGIN length; MSG_END repeats BEGIN's offset and length;
 *  - CONTROL packets and MSG_BEGIN headers written back in the current mode
 *    are the stream's bytes at their offset (unknown negative codes must be
 *    refused by the writer instead);
 *  - NEED_MORE only with all input consumed; errors are sticky and consume
 *    nothing; nb_ssn_framer_eof agrees with where the stream stopped. */
#include <stdlib.h>
#include <string.h>

#include "nb/ssn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int cond) {
  if (!cond) {
    abort();
  }
}

typedef struct {
  nb_ssn_event_kind_t kind;
  uint64_t offset;
  uint32_t length;
  uint32_t hash; /* CONTROL: the packet's fields; ERROR: err and field */
} rec_t;

typedef struct {
  const uint8_t *stream;
  size_t len;
  nb_ssn_framer_t f;
  nb_ssn_mode_t mode;
  bool switch_after_first;
  unsigned ends;
  rec_t *recs;
  size_t n, cap;
  uint64_t msg_off;  /* current message's header offset */
  uint64_t msg_seen; /* its data bytes so far */
  uint32_t msg_len;
  bool stopped;
} run_t;

static uint32_t fnv(uint32_t h, const void *p, size_t n) {
  const uint8_t *b = p;
  for (size_t i = 0; i < n; i++) {
    h = (h ^ b[i]) * 16777619u;
  }
  return h;
}

static uint32_t hash_name(uint32_t h, const nb_name_t *n) {
  h = fnv(h, n->bytes, NB_NAME_BYTES);
  h = fnv(h, &n->scope_len, 1);
  return fnv(h, n->scope, n->scope_len);
}

static uint32_t hash_packet(const nb_ssn_packet_t *p) {
  uint32_t h = 2166136261u;
  h = fnv(h, &p->type, 1);
  h = fnv(h, &p->flags, 1);
  h = fnv(h, &p->length, sizeof p->length);
  h = fnv(h, &p->error_code, 1);
  h = fnv(h, &p->retarget_addr, sizeof p->retarget_addr);
  h = fnv(h, &p->retarget_port, sizeof p->retarget_port);
  if (p->type == NB_SSN_SESSION_REQUEST) {
    h = hash_name(h, &p->called);
    h = hash_name(h, &p->calling);
  }
  return h;
}

/* The bytes the writer makes must be the stream's bytes at `off`. */
static void check_written(const run_t *r, uint64_t off, size_t want_len,
                          const nb_ssn_packet_t *p, bool header_only) {
  uint8_t out[NB_SSN_CONTROL_MAX];
  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, out, sizeof out);
  if (header_only) {
    nb_ssn_write_msg_header(&w, r->mode, p->length);
  } else {
    nb_ssn_write(&w, r->mode, p);
  }
  if (!header_only && p->type == NB_SSN_NEGATIVE_SESSION_RESPONSE &&
      !nb_ssn_neg_known(p->error_code)) {
    require(nb_wr_finish(&w, NULL) == NB_EINVAL);
    return;
  }
  require(nb_wr_finish(&w, &len) == NB_OK && len == want_len);
  require(off + len <= r->len && memcmp(out, r->stream + off, len) == 0);
}

static void on_message_event(run_t *r, const nb_ssn_event_t *ev) {
  if (ev->kind == NB_SSN_EV_MSG_BEGIN) {
    nb_ssn_packet_t p;
    memset(&p, 0, sizeof p);
    p.length = ev->length;
    check_written(r, ev->offset, NB_SSN_HEADER_LEN, &p, true);
    r->msg_off = ev->offset;
    r->msg_len = ev->length;
    r->msg_seen = 0;
  } else if (ev->kind == NB_SSN_EV_MSG_DATA) {
    require(ev->length > 0 && ev->data == r->stream + ev->offset);
    require(ev->offset == r->msg_off + 4 + r->msg_seen);
    r->msg_seen += ev->length;
    require(r->msg_seen <= r->msg_len);
  } else {
    require(ev->offset == r->msg_off && ev->length == r->msg_len);
    require(r->msg_seen == r->msg_len);
  }
}

static void record(run_t *r, const nb_ssn_event_t *ev) {
  uint32_t hash = 0;
  switch (ev->kind) {
  case NB_SSN_EV_NEED_MORE:
    return;
  case NB_SSN_EV_CONTROL:
    check_written(r, ev->offset, 4 + (size_t)ev->length, &ev->packet, false);
    hash = hash_packet(&ev->packet);
    break;
  case NB_SSN_EV_ERROR:
    require(ev->diag.field != NULL && ev->diag.err != NB_OK);
    require(ev->diag.offset <= r->len && ev->offset == ev->diag.offset);
    hash = fnv(fnv(2166136261u, &ev->diag.err, sizeof ev->diag.err),
               &ev->diag.field, sizeof ev->diag.field);
    break;
  default:
    on_message_event(r, ev);
  }
  rec_t *last = r->n > 0 ? &r->recs[r->n - 1] : NULL;
  if (ev->kind == NB_SSN_EV_MSG_DATA && last != NULL &&
      last->kind == NB_SSN_EV_MSG_DATA) {
    last->length += ev->length;
    return;
  }
  require(r->n < r->cap);
  r->recs[r->n++] = (rec_t){ev->kind, ev->offset, ev->length, hash};
}

static void feed(run_t *r, const uint8_t *p, size_t n) {
  static nb_ssn_event_t ev;
  while (!r->stopped) {
    size_t used = 0;
    nb_err_t err = nb_ssn_framer_feed(&r->f, p, n, &used, &ev);
    require(used <= n);
    record(r, &ev);
    if (used > 0) {
      p += used;
      n -= used;
    }
    if (ev.kind == NB_SSN_EV_ERROR) {
      require(err == ev.diag.err);
      /* sticky, consumes nothing */
      require(nb_ssn_framer_feed(&r->f, p, n, &used, &ev) == err);
      require(used == 0 && ev.kind == NB_SSN_EV_ERROR);
      r->stopped = true;
      return;
    }
    require(err == NB_OK);
    if (ev.kind == NB_SSN_EV_NEED_MORE) {
      require(n == 0);
      return;
    }
    if (ev.kind == NB_SSN_EV_MSG_END && ++r->ends == 1 &&
        r->switch_after_first) {
      require(nb_ssn_framer_set_mode(&r->f, NB_SSN_MODE_DIRECT) == NB_OK);
      r->mode = NB_SSN_MODE_DIRECT;
    }
  }
}

static void run(run_t *r, const uint8_t *s, size_t len, uint8_t opts,
                const size_t *cuts, size_t ncuts) {
  static const uint32_t maxes[4] = {0, 64, 1000, 0x10000};
  r->stream = s;
  r->len = len;
  r->mode = (opts & 1) ? NB_SSN_MODE_DIRECT : NB_SSN_MODE_RFC;
  r->switch_after_first = (opts & 2) != 0;
  r->ends = 0;
  r->n = 0;
  r->stopped = false;
  require(nb_ssn_framer_init(&r->f, r->mode, maxes[(opts >> 2) & 3]) == NB_OK);
  size_t at = 0;
  for (size_t i = 0; i <= ncuts; i++) {
    size_t end = i < ncuts ? cuts[i] : len;
    feed(r, s + at, end - at);
    at = end;
  }
  nb_diag_t d;
  nb_err_t eof = nb_ssn_framer_eof(&r->f, &d);
  if (r->stopped) {
    require(eof == r->f.err.err && d.offset == r->f.err.offset);
  } else {
    require(eof == NB_OK || eof == NB_ETRUNCATED);
    require(eof != NB_OK || nb_ssn_framer_at_boundary(&r->f));
    require(eof == NB_OK || d.offset == len);
  }
}

static void same(const run_t *a, const run_t *b) {
  require(a->n == b->n);
  for (size_t i = 0; i < a->n; i++) { /* field by field: rec_t has padding */
    const rec_t *x = &a->recs[i];
    const rec_t *y = &b->recs[i];
    require(x->kind == y->kind && x->offset == y->offset);
    require(x->length == y->length && x->hash == y->hash);
  }
}

static size_t parse_cuts(const uint8_t **data, size_t *size, size_t *cuts) {
  size_t n = (*data)[1] & 0x0f;
  if (*size < 2 + 2 * n) {
    return SIZE_MAX;
  }
  const uint8_t *c = *data + 2;
  size_t len = *size - 2 - 2 * n;
  for (size_t i = 0; i < n; i++) {
    cuts[i] = ((size_t)c[2 * i] << 8 | c[2 * i + 1]) % (len + 1);
  }
  for (size_t i = 1; i < n; i++) {
    for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
      size_t t = cuts[j];
      cuts[j] = cuts[j - 1];
      cuts[j - 1] = t;
    }
  }
  *data = c + 2 * n;
  *size = len;
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) {
    return 0;
  }
  uint8_t opts = data[0];
  size_t cuts[15];
  size_t ncuts = parse_cuts(&data, &size, cuts);
  if (ncuts == SIZE_MAX) {
    return 0;
  }
  /* At most one event per 2 bytes is kept (DATA merged), plus a few. */
  size_t cap = size / 2 + 8;
  run_t whole, split;
  memset(&whole, 0, sizeof whole);
  memset(&split, 0, sizeof split);
  /* Grown, never shrunk: a fresh malloc of up to 1.5 MiB per input was
   * page faults under ASan. */
  static rec_t *recs[2];
  static size_t have;
  if (cap > have) {
    free(recs[0]);
    free(recs[1]);
    recs[0] = malloc(cap * sizeof *recs[0]);
    recs[1] = malloc(cap * sizeof *recs[1]);
    have = cap;
  }
  whole.recs = recs[0];
  split.recs = recs[1];
  require(whole.recs != NULL && split.recs != NULL);
  whole.cap = split.cap = cap;
  run(&whole, data, size, opts, NULL, 0);
  run(&split, data, size, opts, cuts, ncuts);
  same(&whole, &split);
  if (size <= 512) {
    size_t ones[512];
    for (size_t i = 0; i < size; i++) {
      ones[i] = i + 1;
    }
    run(&split, data, size, opts, ones, size > 0 ? size - 1 : 0);
    same(&whole, &split);
  }
  return 0;
}
