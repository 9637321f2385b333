/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_ns_packet_struct: fuzz_ns_packet's oracle with a structure-aware
 * mutator (LLVMFuzzerCustomMutator).
 *
 * The oracle is fuzz/ns_packet.c itself, included below, so the two targets
 * check exactly the same things (parse, classify, findings, typed views,
 * byte-identical write-back, builder round trip) and cannot drift apart.
 *
 * The mutator parses the input with nb_ns_parse() and, when it parses,
 * either edits the model and re-serialises it with nb_ns_write() (header
 * fields, OPCODE, NM_FLAGS, RCODE, question and record types, TTL, NB
 * entries, NBSTAT tables, STATISTICS length, A and NS RDATA, names, scopes,
 * compression pointers, added and removed questions and records, trailing
 * bytes) or edits the wire bytes at the offsets the parse recorded (section
 * counts, RDLENGTH, NUM_NAMES, NB_FLAGS, label lengths, pointers that point
 * forward, at themselves or past the end, truncation at a field boundary),
 * so that the packet stays deep in the parser instead of failing in the
 * header. An input that does not parse, a model the writer refuses, and one
 * call in eight go to libFuzzer's own byte-level LLVMFuzzerMutate().
 *
 * Why: a byte-level mutator rarely keeps counts, RDLENGTH, NUM_NAMES and
 * 32-byte labels consistent at once; bench/ns_struct_depth measures the
 * coverage both targets reach after the same number of runs from the same
 * seeds (docs/FUZZING.md). Outside libFuzzer the mutator is never called
 * (AFL++ and the replay driver use only LLVMFuzzerTestOneInput). */
#include "ns_packet.c"

#include <stdbool.h>

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size)
    __attribute__((weak));
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
                               unsigned int seed);

#define SM_MAX 4096     /* inputs the mutator restructures (NBNS is <= 576) */
#define SM_POOL 8192    /* generated RDATA and trailing bytes, per call */
#define SM_NBSTAT_MAX 8 /* NODE_NAME entries the mutator generates */

typedef struct {
  uint64_t s;
} sm_rng_t;

static uint32_t sm_rnd(sm_rng_t *r) {
  r->s ^= r->s << 13; /* xorshift64 */
  r->s ^= r->s >> 7;
  r->s ^= r->s << 17;
  return (uint32_t)(r->s >> 32);
}

static uint32_t sm_below(sm_rng_t *r, uint32_t n) {
  return n == 0 ? 0 : sm_rnd(r) % n;
}

static uint8_t sm_in[SM_MAX];  /* private copy: the model borrows from it */
static uint8_t sm_out[SM_MAX]; /* nb_ns_write() output */
static uint8_t sm_pool[SM_POOL];
static size_t sm_pool_used;
static nb_ns_msg_t sm_msg;

/* Bytes for generated RDATA; NULL when the pool is spent. */
static uint8_t *sm_alloc(size_t n) {
  if (n > SM_POOL - sm_pool_used) {
    return NULL;
  }
  uint8_t *p = sm_pool + sm_pool_used;
  sm_pool_used += n;
  return p;
}

static uint32_t sm_pick32(sm_rng_t *r, const uint32_t *v, size_t n) {
  return v[sm_below(r, (uint32_t)n)];
}

/* ---- names --------------------------------------------------------------- */

static void sm_random_name(sm_rng_t *r, nb_name_t *n) {
  static const char *const names[] = {"*", "WORKGROUP", "*SMBSERVER",
                                      "\x01\x02__MSBROWSE__\x02", "NBTKIT"};
  static const uint8_t suffixes[] = {0x00, 0x03, 0x1b, 0x1c, 0x1d, 0x1e, 0x20};
  static const char *const scopes[] = {"", "a", "example.com", "NETBIOS.COM",
                                       "x.y.z.w.v.u.t.s.r.q.p"};
  const char *s = scopes[sm_below(r, 5)];
  if (sm_below(r, 4) == 0) { /* arbitrary bytes, suffix included */
    for (size_t i = 0; i < NB_NAME_BYTES; i++) {
      n->bytes[i] = (uint8_t)sm_rnd(r);
    }
    (void)nb_name_set_scope(n, s, strlen(s), NULL);
    return;
  }
  const char *t = names[sm_below(r, 5)];
  if (nb_name_make(n, t, strlen(t), suffixes[sm_below(r, 7)], s) != NB_OK) {
    (void)nb_name_make(n, "X", 1, 0x20, NULL);
  }
}

/* A scope near the limits: one 63-byte label, or many 1-byte labels up to
 * the 255-octet cap of the whole name. */
static void sm_long_scope(sm_rng_t *r, nb_name_t *n) {
  char s[NB_SCOPE_MAX + 1];
  size_t len = 0;
  if (sm_below(r, 2) == 0) {
    memset(s, 'L', NB_LABEL_MAX);
    len = NB_LABEL_MAX;
  } else {
    size_t labels = 1 + sm_below(r, 110);
    for (size_t i = 0; i < labels && len + 2 <= NB_SCOPE_MAX; i++) {
      if (len > 0) {
        s[len++] = '.';
      }
      s[len++] = (char)('a' + sm_below(r, 26));
    }
  }
  (void)nb_name_set_scope(n, s, len, NULL);
}

/* The name written at offset 12 (the usual pointer target), or NULL. */
static const nb_ns_name_t *sm_first_name(const nb_ns_msg_t *m) {
  if (m->qdcount > 0) {
    return &m->qd[0].qname;
  }
  size_t rrs = (size_t)m->ancount + m->nscount + m->arcount;
  return rrs > 0 && m->rr[0].rrname.form == NB_NS_NAME_FULL ? &m->rr[0].rrname
                                                            : NULL;
}

/* Make `n` a pointer to offset 12 (the whole first name) or, with one
 * label in place, to the first name's scope (a partial compression). */
static bool sm_make_pointer(sm_rng_t *r, const nb_ns_msg_t *m,
                            nb_ns_name_t *n) {
  const nb_ns_name_t *first = sm_first_name(m);
  if (first == NULL || first == n || first->form != NB_NS_NAME_FULL) {
    return false;
  }
  if (sm_below(r, 2) == 0 || first->name.scope_len == 0) {
    n->name = first->name;
    n->ptr_labels = 0;
    n->ptr = NB_NS_HEADER_LEN;
  } else {
    memcpy(n->name.scope, first->name.scope, first->name.scope_len + 1u);
    n->name.scope_len = first->name.scope_len;
    n->ptr_labels = 1;
    n->ptr = NB_NS_HEADER_LEN + 1 + NB_NAME_L1_LEN;
  }
  n->form = NB_NS_NAME_POINTER;
  return true;
}

static bool sm_mutate_name(sm_rng_t *r, const nb_ns_msg_t *m, nb_ns_name_t *n,
                           bool allow_null) {
  switch (sm_below(r, 6)) {
  case 0:
    n->name.bytes[sm_below(r, NB_NAME_BYTES)] = (uint8_t)sm_rnd(r);
    break;
  case 1:
    sm_random_name(r, &n->name);
    break;
  case 2:
    sm_long_scope(r, &n->name);
    break;
  case 3:
    return sm_make_pointer(r, m, n);
  case 4:
    n->form = allow_null ? NB_NS_NAME_NULL : NB_NS_NAME_FULL;
    if (allow_null) {
      memset(&n->name, 0, sizeof n->name);
    }
    return true;
  default:
    n->form = NB_NS_NAME_FULL;
    return true;
  }
  if (n->form == NB_NS_NAME_POINTER) {
    n->form = NB_NS_NAME_FULL; /* the target no longer matches */
  }
  return true;
}

/* ---- RDATA --------------------------------------------------------------- */

static uint16_t sm_nb_flags(sm_rng_t *r) {
  static const uint32_t v[] = {0x0000, 0x8000, 0x2000, 0x4000, 0x6000,
                               0xE000, 0x0001, 0x1000, 0xFFFF};
  return (uint16_t)sm_pick32(r, v, sizeof v / sizeof v[0]);
}

static void sm_put_nb(sm_rng_t *r, nb_wr_t *w) {
  size_t n = sm_below(r, 8) == 0 ? 1 + sm_below(r, 40) : sm_below(r, 5);
  for (size_t i = 0; i < n; i++) {
    nb_wr_be16(w, sm_nb_flags(r));
    nb_wr_be32(w, sm_rnd(r));
  }
}

static void sm_put_nbstat(sm_rng_t *r, nb_wr_t *w) {
  static const uint32_t stat_len[] = {46, 46, 46, 0, 1, 45, 47, 64};
  size_t n = sm_below(r, SM_NBSTAT_MAX + 1);
  nb_wr_u8(w, (uint8_t)n);
  for (size_t i = 0; i < n; i++) {
    nb_name_t name;
    sm_random_name(r, &name);
    nb_wr_bytes(w, name.bytes, NB_NAME_BYTES);
    nb_wr_be16(w, (uint16_t)(sm_nb_flags(r) | (sm_below(r, 4) ? 0x0400 : 0)));
  }
  size_t stats = sm_pick32(r, stat_len, sizeof stat_len / sizeof stat_len[0]);
  for (size_t i = 0; i < stats; i++) {
    nb_wr_u8(w, (uint8_t)sm_rnd(r));
  }
}

static void sm_put_ns(sm_rng_t *r, const nb_ns_msg_t *m, nb_wr_t *w) {
  nb_name_t name;
  if (sm_below(r, 2) == 0 && sm_first_name(m) != NULL) {
    nb_name_encode_pointer(w, NB_NS_HEADER_LEN); /* a pointer in RDATA */
    return;
  }
  sm_random_name(r, &name);
  nb_name_encode(w, &name);
}

/* New RDATA of `type` for `rr`, in the pool. */
static bool sm_make_rdata(sm_rng_t *r, const nb_ns_msg_t *m, nb_ns_rr_t *rr,
                          uint16_t type) {
  uint8_t *buf = sm_alloc(1024);
  nb_wr_t w;
  size_t len = 0;
  if (buf == NULL) {
    return false;
  }
  nb_wr_init(&w, buf, 1024);
  if (type == NB_NS_TYPE_NB) {
    sm_put_nb(r, &w);
  } else if (type == NB_NS_TYPE_NBSTAT) {
    sm_put_nbstat(r, &w);
  } else if (type == NB_NS_TYPE_NS) {
    sm_put_ns(r, m, &w);
  } else {
    size_t n = type == NB_NS_TYPE_A && sm_below(r, 4) ? 4 : sm_below(r, 16);
    for (size_t i = 0; i < n; i++) {
      nb_wr_u8(&w, (uint8_t)sm_rnd(r));
    }
  }
  if (nb_wr_finish(&w, &len) != NB_OK) {
    return false;
  }
  rr->rrtype = type;
  rr->rdata = buf;
  rr->rdlength = (uint16_t)len;
  return true;
}

static uint16_t sm_type(sm_rng_t *r) {
  static const uint32_t v[] = {
      NB_NS_TYPE_NB,     NB_NS_TYPE_NB, NB_NS_TYPE_NBSTAT,
      NB_NS_TYPE_NBSTAT, NB_NS_TYPE_A,  NB_NS_TYPE_NS,
      NB_NS_TYPE_NULL,   0x0000,        0xFFFF};
  return (uint16_t)sm_pick32(r, v, sizeof v / sizeof v[0]);
}

/* ---- model edits ----------------------------------------------------------
 */

static size_t sm_rrs(const nb_ns_msg_t *m) {
  return (size_t)m->ancount + m->nscount + m->arcount;
}

static bool sm_edit_header(sm_rng_t *r, nb_ns_msg_t *m) {
  static const uint32_t ops[] = {0, 5, 6, 7, 8, 9, 15, 1, 0xC};
  switch (sm_below(r, 5)) {
  case 0:
    m->hdr.trn_id = (uint16_t)sm_rnd(r);
    break;
  case 1:
    m->hdr.response = !m->hdr.response;
    break;
  case 2:
    m->hdr.opcode = (uint8_t)sm_pick32(r, ops, sizeof ops / sizeof ops[0]);
    break;
  case 3:
    m->hdr.nm_flags =
        (uint8_t)((m->hdr.nm_flags ^ (1u << sm_below(r, 7))) & 0x7Fu);
    break;
  default:
    m->hdr.rcode = (uint8_t)sm_below(r, sm_below(r, 4) ? 8 : 16);
    break;
  }
  return true;
}

static bool sm_edit_question(sm_rng_t *r, nb_ns_msg_t *m) {
  if (m->qdcount == 0) {
    return false;
  }
  nb_ns_question_t *q = &m->qd[sm_below(r, m->qdcount)];
  switch (sm_below(r, 3)) {
  case 0:
    q->qtype = sm_type(r);
    return true;
  case 1:
    q->qclass = sm_below(r, 2) ? NB_NS_CLASS_IN : (uint16_t)sm_rnd(r);
    return true;
  default:
    return sm_mutate_name(r, m, &q->qname, false);
  }
}

static bool sm_edit_rr(sm_rng_t *r, nb_ns_msg_t *m) {
  static const uint32_t ttls[] = {0, 1, 300, 259200, 0x7FFFFFFF, 0xFFFFFFFF};
  size_t rrs = sm_rrs(m);
  if (rrs == 0) {
    return false;
  }
  nb_ns_rr_t *rr = &m->rr[sm_below(r, (uint32_t)rrs)];
  switch (sm_below(r, 5)) {
  case 0:
    return sm_make_rdata(r, m, rr, sm_type(r));
  case 1:
    return sm_make_rdata(r, m, rr, rr->rrtype);
  case 2:
    rr->ttl = sm_below(r, 2) ? sm_pick32(r, ttls, 6) : sm_rnd(r);
    return true;
  case 3:
    rr->rrclass = sm_below(r, 2) ? NB_NS_CLASS_IN : (uint16_t)sm_rnd(r);
    return true;
  default:
    return sm_mutate_name(r, m, &rr->rrname, true);
  }
}

/* Insert a record into a random section (copy of another, or a new NB). */
static bool sm_add_rr(sm_rng_t *r, nb_ns_msg_t *m) {
  size_t rrs = sm_rrs(m);
  if (rrs >= NB_NS_MAX_RRS) {
    return false;
  }
  nb_ns_rr_t rr;
  if (rrs > 0 && sm_below(r, 2)) {
    rr = m->rr[sm_below(r, (uint32_t)rrs)];
  } else {
    memset(&rr, 0, sizeof rr);
    rr.rrclass = NB_NS_CLASS_IN;
    rr.ttl = 300000;
    if (!sm_make_pointer(r, m, &rr.rrname)) {
      sm_random_name(r, &rr.rrname.name);
    }
    if (!sm_make_rdata(r, m, &rr, NB_NS_TYPE_NB)) {
      return false;
    }
  }
  uint16_t *count[3] = {&m->ancount, &m->nscount, &m->arcount};
  size_t sec = sm_below(r, 3);
  size_t at = m->ancount;
  at = sec == 0 ? at : sec == 1 ? at + m->nscount : rrs;
  memmove(&m->rr[at + 1], &m->rr[at], (rrs - at) * sizeof m->rr[0]);
  m->rr[at] = rr;
  (*count[sec])++;
  return true;
}

static bool sm_del_rr(sm_rng_t *r, nb_ns_msg_t *m) {
  size_t rrs = sm_rrs(m);
  if (rrs == 0) {
    return false;
  }
  size_t at = sm_below(r, (uint32_t)rrs);
  if (at < m->ancount) {
    m->ancount--;
  } else if (at < (size_t)m->ancount + m->nscount) {
    m->nscount--;
  } else {
    m->arcount--;
  }
  memmove(&m->rr[at], &m->rr[at + 1], (rrs - at - 1) * sizeof m->rr[0]);
  return true;
}

static bool sm_add_del_question(sm_rng_t *r, nb_ns_msg_t *m) {
  if (m->qdcount > 0 && sm_below(r, 2)) {
    size_t at = sm_below(r, m->qdcount);
    memmove(&m->qd[at], &m->qd[at + 1],
            (m->qdcount - at - 1u) * sizeof m->qd[0]);
    m->qdcount--;
    return true;
  }
  if (m->qdcount >= NB_NS_MAX_QUESTIONS) {
    return false;
  }
  nb_ns_question_t *q = &m->qd[m->qdcount];
  memset(q, 0, sizeof *q);
  q->qtype = sm_below(r, 2) ? NB_NS_TYPE_NB : NB_NS_TYPE_NBSTAT;
  q->qclass = NB_NS_CLASS_IN;
  if (!sm_make_pointer(r, m, &q->qname)) {
    sm_random_name(r, &q->qname.name);
  }
  m->qdcount++;
  return true;
}

static bool sm_edit_trailing(sm_rng_t *r, nb_ns_msg_t *m) {
  size_t n = sm_below(r, 3) == 0 ? 0 : 1 + sm_below(r, 24);
  uint8_t *p = sm_alloc(n + 1);
  if (p == NULL) {
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    p[i] = (uint8_t)sm_rnd(r);
  }
  m->trailing = n ? p : NULL;
  m->trailing_len = n;
  return true;
}

static bool sm_edit_model(sm_rng_t *r, nb_ns_msg_t *m) {
  switch (sm_below(r, 10)) {
  case 0:
  case 1:
    return sm_edit_header(r, m);
  case 2:
    return sm_edit_question(r, m);
  case 3:
  case 4:
  case 5:
    return sm_edit_rr(r, m);
  case 6:
    return sm_add_rr(r, m);
  case 7:
    return sm_del_rr(r, m);
  case 8:
    return sm_add_del_question(r, m);
  default:
    return sm_edit_trailing(r, m);
  }
}

/* Pointers whose target changed: write those names in full instead. */
static void sm_unpoint(nb_ns_msg_t *m) {
  for (size_t i = 0; i < m->qdcount; i++) {
    if (m->qd[i].qname.form == NB_NS_NAME_POINTER) {
      m->qd[i].qname.form = NB_NS_NAME_FULL;
    }
  }
  for (size_t i = 0; i < sm_rrs(m); i++) {
    if (m->rr[i].rrname.form == NB_NS_NAME_POINTER) {
      m->rr[i].rrname.form = NB_NS_NAME_FULL;
    }
  }
}

static size_t sm_write(const nb_ns_msg_t *m, size_t cap) {
  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, sm_out, cap < sizeof sm_out ? cap : sizeof sm_out);
  if (nb_ns_write(&w, m) != NB_OK || nb_wr_finish(&w, &len) != NB_OK) {
    return 0;
  }
  return len;
}

/* ---- wire edits at the offsets the parse recorded ------------------------ */

static void sm_put16(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

/* The offset of a random name (question or record), or 0 when none. */
static size_t sm_name_at(sm_rng_t *r, const nb_ns_msg_t *m) {
  size_t n = m->qdcount + sm_rrs(m);
  if (n == 0) {
    return 0;
  }
  size_t i = sm_below(r, (uint32_t)n);
  return i < m->qdcount ? m->qd[i].offset : m->rr[i - m->qdcount].offset;
}

static size_t sm_edit_wire(sm_rng_t *r, const nb_ns_msg_t *m, uint8_t *d,
                           size_t size) {
  static const uint32_t label[] = {0, 1, 31, 33, 63, 0x40, 0x80, 0xFF};
  size_t rrs = sm_rrs(m);
  const nb_ns_rr_t *rr = rrs ? &m->rr[sm_below(r, (uint32_t)rrs)] : NULL;
  size_t at = sm_name_at(r, m);
  switch (sm_below(r, 7)) {
  case 0: { /* a section count that lies, or hits a cap */
    const uint32_t v[] = {0, 1, 5, 9, 0xFFFF, sm_rnd(r) & 0xFu};
    sm_put16(d + 4 + 2 * sm_below(r, 4), sm_pick32(r, v, 6));
    return size;
  }
  case 1: /* RDLENGTH off by a little or a lot */
    if (rr != NULL) {
      const uint32_t v[] = {rr->rdlength + 1u, rr->rdlength - 1u, 0, 0xFFFF,
                            rr->rdlength + 6u, rr->rdlength + 18u};
      sm_put16(d + rr->rdata_offset - 2, sm_pick32(r, v, 6) & 0xFFFF);
    }
    return size;
  case 2: /* a pointer at itself, forward, to the end or anywhere */
    if (at != 0 && at + 2 <= size) {
      const uint32_t v[] = {(uint32_t)at,
                            (uint32_t)at + 2u,
                            (uint32_t)size - 1u,
                            (uint32_t)size,
                            0,
                            sm_rnd(r) % (uint32_t)size};
      sm_put16(d + at, 0xC000u | (sm_pick32(r, v, 6) & 0x3FFFu));
    }
    return size;
  case 3: /* a label length the decoder must refuse or limit */
    if (at != 0) {
      d[at] = (uint8_t)sm_pick32(r, label, sizeof label / sizeof label[0]);
    }
    return size;
  case 4: /* NUM_NAMES or NB_FLAGS */
    if (rr != NULL && rr->rdlength > 0) {
      d[rr->rdata_offset] = (uint8_t)(sm_below(r, 2) ? 0xFF : sm_rnd(r));
    }
    return size;
  case 5: /* cut at a field boundary */
    if (rr != NULL) {
      const uint32_t v[] = {(uint32_t)rr->offset, (uint32_t)rr->rdata_offset,
                            (uint32_t)rr->rdata_offset - 1u,
                            (uint32_t)rr->rdata_offset + 1u};
      size_t cut = sm_pick32(r, v, 4);
      return cut < size ? cut : size;
    }
    return size > 12 ? 12 + sm_below(r, (uint32_t)(size - 12)) : size;
  default: /* a flags word from anywhere */
    sm_put16(d + 2, sm_rnd(r));
    return size;
  }
}

/* ---- the entry point ------------------------------------------------------
 */

static size_t sm_bytes_mutate(sm_rng_t *r, uint8_t *data, size_t size,
                              size_t max_size) {
  if (LLVMFuzzerMutate != NULL) {
    return LLVMFuzzerMutate(data, size, max_size);
  }
  if (size > 0) { /* outside libFuzzer: flip one bit */
    data[sm_below(r, (uint32_t)size)] ^= (uint8_t)(1u << sm_below(r, 8));
  }
  return size;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
                               unsigned int seed) {
  sm_rng_t r = {((uint64_t)seed << 1) | 1u};
  sm_pool_used = 0;
  if (size < NB_NS_HEADER_LEN || size > sizeof sm_in || sm_below(&r, 8) == 0) {
    return sm_bytes_mutate(&r, data, size, max_size);
  }
  memcpy(sm_in, data, size);
  if (nb_ns_parse(sm_in, size, &sm_msg, NULL) != NB_OK) {
    return sm_bytes_mutate(&r, data, size, max_size);
  }
  if (sm_below(&r, 3) == 0) {
    return sm_edit_wire(&r, &sm_msg, data, size);
  }
  bool changed = false;
  for (uint32_t i = 0, n = 1 + sm_below(&r, 3); i < n; i++) {
    changed |= sm_edit_model(&r, &sm_msg);
  }
  size_t len = changed ? sm_write(&sm_msg, max_size) : 0;
  if (changed && len == 0) {
    sm_unpoint(&sm_msg);
    len = sm_write(&sm_msg, max_size);
  }
  if (len == 0) { /* the edited model's offsets are stale: parse again */
    (void)nb_ns_parse(sm_in, size, &sm_msg, NULL);
    return sm_edit_wire(&r, &sm_msg, data, size);
  }
  memcpy(data, sm_out, len);
  return len;
}
