/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_ns_packet: the name-service packet codec (RFC 1002 4.2).
 *
 * The whole input is one NBNS datagram. Oracles, beyond "did not crash":
 *  - a failed parse reports its error in the diag, with a field and an
 *    offset inside the datagram;
 *  - a successful parse: nb_ns_classify() agrees with m.kind; findings are
 *    within the cap, sorted, inside the datagram and carry static texts;
 *    the typed RDATA accessors agree with the parser's typed views;
 *  - write(parse(b)) == b byte for byte (every packet that parses is
 *    canonical: names keep their compression shape, trailing bytes are
 *    kept), and parse(write(m)) == m with the same kind and findings;
 *  - the names of what was parsed: kind <-> ident round-trips, the kind's
 *    title and RFC section, each finding's rule name, the RCODE name and
 *    the error's nb_strerror()/nb_errname() are static, known texts;
 *  - refusals: the parsed model with one field put out of range (chosen
 *    by the input) is refused by nb_ns_write() with NB_EINVAL (a writer
 *    already failed keeps its error, a short buffer gives NB_ENOSPC), and
 *    nothing is written past the writer's capacity;
 *  - the builder: the same bytes also choose a packet kind and its
 *    arguments (within what the RFC allows); what nb_ns_build() writes
 *    must parse, classify as that kind, carry no finding and round-trip.
 *    A knob byte after the arguments drives the builder's other paths:
 *    raw_flags (the word is written verbatim), the null WACK name, the
 *    response opcodes 8/9/15 (a RESPONSE_OPCODE finding), and the
 *    refusals (no kind, no name, a bad opcode, RDATA over 0xFFFF bytes, a
 *    short buffer). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nb/err.h"
#include "nb/ns.h"

static void require(int cond) {
  if (!cond) {
    abort();
  }
}

static uint8_t out_buf[65536 + 64];

/* A library error's texts: static, and known for every code it returns. */
static void check_err_names(nb_err_t err) {
  require(nb_strerror(err) != NULL && nb_errname(err) != NULL);
  require(strcmp(nb_strerror(err), "unknown error") != 0);
  require(strcmp(nb_errname(err), "EUNKNOWN") != 0);
}

/* The kind, RCODE and rule names of a parsed packet. */
static void check_names(const nb_ns_msg_t *m) {
  const char *ident = nb_ns_kind_ident(m->kind);
  require(ident != NULL && nb_ns_kind_from_ident(ident) == m->kind);
  require(nb_ns_kind_name(m->kind) != NULL);
  require(strncmp(nb_ns_kind_rfc(m->kind), "RFC 1002 4.2", 12) == 0);
  const char *rc = nb_ns_rcode_name(m->hdr.rcode);
  require(rc != NULL && (m->hdr.rcode <= NB_NS_RCODE_CFT_ERR) ==
                            (strcmp(rc, "UNKNOWN") != 0));
  require((m->hdr.rcode == NB_NS_RCODE_OK) == (strcmp(rc, "OK") == 0));
  for (size_t i = 0; i < m->nfindings; i++) {
    const char *name = nb_ns_rule_name(m->findings[i].rule);
    require(name != NULL && strcmp(name, "UNKNOWN") != 0);
  }
}

static void check_typed_views(const nb_ns_msg_t *m) {
  size_t all = (size_t)m->ancount + m->nscount + m->arcount;
  for (size_t i = 0; i < all; i++) {
    const nb_ns_rr_t *rr = &m->rr[i];
    nb_ns_nb_entry_t e;
    nb_ns_nbstat_entry_t s;
    nb_ns_statistics_t st;
    bool wack = m->hdr.response && m->hdr.opcode == NB_NS_OPCODE_WACK;
    if (rr->rrtype == NB_NS_TYPE_NB && !wack) {
      require(rr->nb_count == rr->rdlength / NB_NS_NB_ENTRY_LEN);
      for (size_t j = 0; j < rr->nb_count; j++) {
        require(nb_ns_nb_entry(rr, j, &e) == NB_OK);
      }
      require(nb_ns_nb_entry(rr, rr->nb_count, &e) == NB_EINVAL);
    }
    if (rr->rrtype == NB_NS_TYPE_NBSTAT && !wack) {
      for (size_t j = 0; j < rr->nbstat_names; j++) {
        require(nb_ns_nbstat_entry(rr, j, &s) == NB_OK);
      }
      require(nb_ns_nbstat_entry(rr, rr->nbstat_names, &s) == NB_EINVAL);
      require(nb_ns_nbstat_statistics(rr, &st) == NB_OK);
      require(rr->nbstat_stats <= NB_NS_STATISTICS_LEN);
    }
  }
}

static void check_findings(const nb_ns_msg_t *m, size_t len) {
  require(m->nfindings <= NB_NS_MAX_FINDINGS);
  for (size_t i = 0; i < m->nfindings; i++) {
    const nb_ns_finding_t *f = &m->findings[i];
    require(f->rule < NB_NS_RULE_COUNT_ && f->offset <= len);
    require(f->rfc == nb_ns_rule_rfc(f->rule));
    require(f->text == nb_ns_rule_text(f->rule));
    require(i == 0 || m->findings[i - 1].offset <= f->offset);
  }
}

/* ---- the refusal oracle ------------------------------------------------ */

#define CANARY 0xA5

/* A name of `m` to break (`pick` chooses which), or NULL when it has none. */
static nb_ns_name_t *pick_name(nb_ns_msg_t *m, uint8_t pick, size_t *at) {
  size_t rrs = (size_t)m->ancount + m->nscount + m->arcount;
  size_t all = m->qdcount + rrs;
  if (all == 0) {
    return NULL;
  }
  size_t i = pick % all;
  if (i < m->qdcount) {
    *at = m->qd[i].offset;
    return &m->qd[i].qname;
  }
  *at = m->rr[i - m->qdcount].offset;
  return &m->rr[i - m->qdcount].rrname;
}

/* Break one field of `m` (chosen by `sel`, the new value from `v`).
 * Returns the error nb_ns_write() must give, or NB_OK when `m` has nothing
 * to break that way. `*empty`: nothing may be written at all (the model
 * is refused before the first byte). */
static nb_err_t break_model(nb_ns_msg_t *m, uint8_t sel, uint8_t v,
                            bool *empty) {
  size_t rrs = (size_t)m->ancount + m->nscount + m->arcount;
  size_t at = 0;
  nb_ns_name_t *n = NULL;
  *empty = true;
  switch (sel % 12) {
  case 0: /* header fields: 4 bits, 7 bits, 4 bits */
    m->hdr.opcode = (uint8_t)(0x10u | v);
    return NB_EINVAL;
  case 1:
    m->hdr.nm_flags = (uint8_t)(0x80u | v);
    return NB_EINVAL;
  case 2:
    m->hdr.rcode = (uint8_t)(0x10u | v);
    return NB_EINVAL;
  case 3: /* the model's caps */
    m->qdcount = (uint16_t)(NB_NS_MAX_QUESTIONS + 1 + v);
    return NB_EINVAL;
  case 4:
    m->nscount = (uint16_t)(NB_NS_MAX_RRS + 1 + v);
    return NB_EINVAL;
  case 5:
    m->trailing = NULL;
    m->trailing_len = 1u + v;
    return NB_EINVAL;
  case 6: /* a question without a name */
    if (m->qdcount == 0) {
      return NB_OK;
    }
    m->qd[v % m->qdcount].qname.form = NB_NS_NAME_NULL;
    return NB_EINVAL;
  case 7: /* RDATA bytes that are not there */
    if (rrs == 0) {
      return NB_OK;
    }
    m->rr[v % rrs].rdata = NULL;
    m->rr[v % rrs].rdlength = (uint16_t)(m->rr[v % rrs].rdlength | 1u);
    return NB_EINVAL;
  default:
    break;
  }
  if ((n = pick_name(m, v, &at)) == NULL) {
    return NB_OK;
  }
  *empty = false; /* the names are refused while they are written */
  switch (sel % 12) {
  case 8: /* a form the model does not have */
    n->form = (nb_ns_name_form_t)(3 + v % 8);
    return NB_EINVAL;
  case 9: /* a pointer at or after its own position */
    n->form = NB_NS_NAME_POINTER;
    n->ptr = (uint16_t)(at + v > 0xFFFFu ? 0xFFFFu : at + v);
    n->ptr_labels = 0;
    return NB_EINVAL;
  case 10: /* more labels before the pointer than the name has */
    n->form = NB_NS_NAME_POINTER;
    n->ptr = 0;
    n->ptr_labels = (uint8_t)(0xF0u | v);
    return NB_EINVAL;
  default:       /* a pointer into the header: it cannot resolve to `name`
                    (offset 12 starts a name, never an A-P byte of a label) */
    if (v & 1) { /* or an empty scope label before the pointer */
      n->form = NB_NS_NAME_POINTER;
      n->ptr = 0;
      n->ptr_labels = 2;
      n->name.scope[0] = '.';
      n->name.scope[1] = '\0';
      n->name.scope_len = 1;
      return NB_EINVAL;
    }
    n->form = NB_NS_NAME_POINTER;
    n->ptr = (uint16_t)(v % NB_NS_HEADER_LEN);
    n->ptr_labels = 0;
    return NB_EINVAL;
  }
}

/* `m` broken by `sel`, or the writer itself: a failed one or one too
 * short for the packet. The error must be the expected one, the writer
 * must keep it, and the bytes past its capacity must be untouched. */
static void refusal_oracle(const nb_ns_msg_t *parsed, uint8_t sel, uint8_t v) {
  static nb_ns_msg_t m;
  static uint8_t buf[65536 + 400];
  size_t cap = parsed->len + 300; /* a broken name grows by < 260 bytes */
  bool empty = true;
  nb_err_t want = NB_OK;
  nb_wr_t w;
  if (parsed->len > 65536) {
    return;
  }
  m = *parsed;
  if (sel % 16 == 12) { /* a writer that has already failed */
    want = (v & 1) ? NB_ENOSPC : NB_ELIMIT;
  } else if (sel % 16 == 13 && parsed->len > 0) { /* too short */
    want = NB_ENOSPC;
    cap = v % parsed->len;
    empty = false;
  } else if (sel % 16 < 12) {
    want = break_model(&m, (uint8_t)(sel % 16), v, &empty);
  }
  if (want == NB_OK) {
    return;
  }
  memset(buf, CANARY, cap + 16);
  nb_wr_init(&w, buf, cap);
  if (sel % 16 == 12) {
    nb_wr_fail(&w, want);
  }
  nb_err_t err = nb_ns_write(&w, &m);
  require(err == want && nb_wr_finish(&w, NULL) == want);
  require(w.len <= cap && (!empty || w.len == 0));
  check_err_names(err);
  for (size_t i = empty ? 0 : cap; i < cap + 16; i++) {
    require(buf[i] == CANARY);
  }
}

static const nb_ns_msg_t *parse_oracle(const uint8_t *data, size_t size) {
  static nb_ns_msg_t m;
  nb_diag_t d = {NB_OK, 0, NULL};
  nb_err_t err = nb_ns_parse(data, size, &m, &d);
  if (err != NB_OK) {
    require(d.err == err && d.field != NULL && d.offset <= size);
    require(err == NB_ETRUNCATED || err == NB_EMALFORMED || err == NB_ELIMIT);
    check_err_names(err);
    return NULL;
  }
  require(m.len == size && m.kind == nb_ns_classify(&m));
  check_findings(&m, size);
  check_typed_views(&m);
  check_names(&m);

  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, out_buf, sizeof out_buf);
  require(nb_ns_write(&w, &m) == NB_OK);
  require(nb_wr_finish(&w, &len) == NB_OK);
  /* write(parse(b)) == b, so parse(write(parse(b))) would parse b again;
   * nb_ns_write() has re-parsed its output and compared models already. */
  require(len == size && (size == 0 || memcmp(out_buf, data, size) == 0));
  refusal_oracle(&m, size > 0 ? data[size - 1] : 0, size > 1 ? data[1] : 0);
  return &m;
}

/* ---- the builder oracle ------------------------------------------------ */

typedef struct {
  const uint8_t *p;
  size_t n;
  size_t i;
} src_t;

static uint8_t take(src_t *s) { return s->i < s->n ? s->p[s->i++] : 0; }

static uint32_t take32(src_t *s) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    v = v << 8 | take(s);
  }
  return v;
}

static void take_name(src_t *s, nb_name_t *n) {
  static const char *const scopes[] = {"", "example.com", "a.b.c",
                                       "NETBIOS.COM"};
  for (size_t i = 0; i < NB_NAME_BYTES; i++) {
    n->bytes[i] = take(s);
  }
  const char *scope = scopes[take(s) % 4];
  require(nb_name_set_scope(n, scope, strlen(scope), NULL) == NB_OK);
}

/* NB_FLAGS the RFC allows: G, ONT B/P/M, reserved bits clear. */
static uint16_t take_nb_flags(src_t *s) {
  uint8_t b = take(s);
  return (uint16_t)((b & 0x80 ? NB_NS_NB_G : 0) | (b % 3u) << 13);
}

static uint8_t take_rcode(src_t *s, nb_ns_kind_t kind) {
  static const uint8_t reg[] = {1, 2, 4, 5, 6};
  static const uint8_t rel[] = {1, 2, 5, 6};
  static const uint8_t qry[] = {1, 2, 3, 4, 5};
  uint8_t b = take(s);
  switch (kind) {
  case NB_NS_KIND_NEG_REGISTRATION_RESPONSE:
    return reg[b % sizeof reg];
  case NB_NS_KIND_NEG_RELEASE_RESPONSE:
    return rel[b % sizeof rel];
  case NB_NS_KIND_NEG_QUERY_RESPONSE:
    return qry[b % sizeof qry];
  default:
    return 0;
  }
}

typedef struct {
  nb_name_t name;
  nb_name_t nsd;
  nb_ns_nb_entry_t entries[4];
  nb_ns_nbstat_entry_t nbstat[4];
  nb_ns_statistics_t stats;
} build_store_t;

static void take_lists(src_t *s, build_store_t *st, nb_ns_build_args_t *a) {
  a->n_entries = take(s) % 5;
  for (size_t i = 0; i < a->n_entries; i++) {
    st->entries[i].nb_flags = take_nb_flags(s);
    st->entries[i].addr = take32(s);
  }
  a->entries = st->entries;
  a->n_nbstat = take(s) % 5;
  for (size_t i = 0; i < a->n_nbstat; i++) {
    for (size_t j = 0; j < NB_NAME_BYTES; j++) {
      st->nbstat[i].name[j] = take(s);
    }
    uint8_t f = take(s); /* G, ONT B/P/M, DRG, CNF, PRM; ACT always */
    st->nbstat[i].name_flags =
        (uint16_t)((f & 0x80 ? NB_NS_NAME_G : 0) | (f % 3u) << 13 |
                   (f & 0x10 ? NB_NS_NAME_DRG : 0) |
                   (f & 0x08 ? NB_NS_NAME_CNF : 0) |
                   (f & 0x04 ? NB_NS_NAME_PRM : 0) | NB_NS_NAME_ACT);
  }
  a->nbstat = st->nbstat;
  for (size_t j = 0; j < sizeof st->stats.unit_id; j++) {
    st->stats.unit_id[j] = take(s);
  }
  st->stats.number_good_sends = take32(s);
  st->stats.session_data_packet_size = (uint16_t)take32(s);
  a->statistics = take(s) & 1 ? &st->stats : NULL;
}

/* The kinds whose response opcode args.opcode may set (nb/ns.h). */
static bool reg_response(nb_ns_kind_t kind) {
  return kind == NB_NS_KIND_POS_REGISTRATION_RESPONSE ||
         kind == NB_NS_KIND_NEG_REGISTRATION_RESPONSE ||
         kind == NB_NS_KIND_CHALLENGE_RESPONSE ||
         kind == NB_NS_KIND_CONFLICT_DEMAND;
}

/* What the knob byte does to the arguments; the result nb_ns_build() must
 * give. */
enum {
  K_PLAIN,     /* the arguments as taken: a packet of `kind`, no finding */
  K_RAW,       /* raw_flags: the word verbatim, kind as classified */
  K_ECHO,      /* response opcode 8, 9 or 15: one RESPONSE_OPCODE finding */
  K_REFUSE,    /* NB_EINVAL, nothing written */
  K_SHORT,     /* a buffer too short: NB_ENOSPC */
  K_HUGE_RDATA /* a positive query response of 10923 entries: NB_EINVAL */
};

static int apply_knob(src_t *s, nb_ns_kind_t *kind, nb_ns_build_args_t *a) {
  uint8_t knob = take(s);
  uint8_t v = take(s);
  switch (knob & 7) {
  case 1:
    a->raw_flags = true;
    a->flags_word = (uint16_t)(v << 8 | take(s));
    return K_RAW;
  case 2: /* the null name: only a WACK may have it (4.2.16) */
    a->name = NULL;
    return *kind == NB_NS_KIND_WACK ? K_PLAIN : K_REFUSE;
  case 3: { /* a response opcode, or one the kind cannot take */
    static const uint8_t echo[] = {NB_NS_OPCODE_REFRESH,
                                   NB_NS_OPCODE_REFRESH_ALT,
                                   NB_NS_OPCODE_MULTIHOMED};
    if (!reg_response(*kind)) {
      return K_PLAIN;
    }
    a->opcode = (v & 0x80) ? echo[v % 3] : (uint8_t)(v & 0xF);
    switch (a->opcode) {
    case 0:
    case NB_NS_OPCODE_REGISTRATION:
      return K_PLAIN;
    case NB_NS_OPCODE_REFRESH:
    case NB_NS_OPCODE_REFRESH_ALT:
    case NB_NS_OPCODE_MULTIHOMED:
      return K_ECHO;
    default:
      return K_REFUSE;
    }
  }
  case 4: /* no kind */
    *kind =
        (v & 1) ? NB_NS_KIND_UNKNOWN : (nb_ns_kind_t)(NB_NS_KIND_COUNT_ + v);
    if (v & 2) { /* not even with raw_flags */
      a->raw_flags = true;
    }
    return K_REFUSE;
  case 5:
    return K_SHORT;
  case 6: /* rare (one knob value): the write is 64 KiB */
    if (knob != 6) {
      return K_PLAIN;
    }
    *kind = NB_NS_KIND_POS_QUERY_RESPONSE;
    return K_HUGE_RDATA;
  default:
    return K_PLAIN;
  }
}

/* A raw header word: the packet parses with that word and classifies as
 * its header says. */
static void check_raw(const nb_ns_msg_t *m, const nb_ns_build_args_t *a) {
  require(nb_ns_flags_word(&m->hdr) == a->flags_word);
  require(m->hdr.trn_id == a->trn_id && m->kind == nb_ns_classify(m));
}

static void check_built(const nb_ns_msg_t *m, nb_ns_kind_t kind, int knob,
                        const nb_ns_build_args_t *a) {
  require(m != NULL);
  if (knob == K_RAW) {
    check_raw(m, a);
  } else if (knob == K_ECHO) {
    require(m->kind == kind && m->hdr.opcode == a->opcode);
    require(m->nfindings == 1 &&
            m->findings[0].rule == NB_NS_RULE_RESPONSE_OPCODE);
  } else {
    require(m->kind == kind && m->nfindings == 0);
  }
}

/* A refused build: the error, and nothing written (the refusals come
 * before the first byte) or, for a short buffer, nothing past it. */
static void build_refused(nb_ns_kind_t kind, const nb_ns_build_args_t *a,
                          int knob, size_t cap_from) {
  static nb_ns_nb_entry_t many[0xFFFF / NB_NS_NB_ENTRY_LEN + 1];
  static uint8_t big[70000];
  nb_ns_build_args_t b = *a;
  nb_wr_t w;
  nb_err_t want = knob == K_SHORT ? NB_ENOSPC : NB_EINVAL;
  size_t cap = knob == K_HUGE_RDATA ? sizeof big - 16 : 0;
  if (knob == K_HUGE_RDATA) {
    b.entries = many;
    b.n_entries = sizeof many / sizeof many[0];
  } else if (knob == K_SHORT) {
    cap = cap_from;
  }
  memset(big, CANARY, cap + 16);
  nb_wr_init(&w, big, cap);
  nb_err_t err = nb_ns_build(&w, kind, &b);
  require(err == want && nb_wr_finish(&w, NULL) == want && w.len <= cap);
  require(knob != K_REFUSE || w.len == 0);
  check_err_names(err);
  for (size_t i = cap; i < cap + 16; i++) {
    require(big[i] == CANARY);
  }
}

static void build_oracle(const uint8_t *data, size_t size) {
  static build_store_t st;
  src_t s = {data, size, 0};
  nb_ns_kind_t kind = (nb_ns_kind_t)(1 + take(&s) % (NB_NS_KIND_COUNT_ - 1));
  nb_ns_build_args_t a;
  memset(&a, 0, sizeof a);
  memset(&st, 0, sizeof st);
  take_name(&s, &st.name);
  take_name(&s, &st.nsd);
  a.name = &st.name;
  a.nsd_name = &st.nsd;
  a.trn_id = (uint16_t)take32(&s);
  uint8_t bits = take(&s);
  a.broadcast = bits & 1;
  a.ra = bits & 2;
  a.truncated = bits & 4;
  a.opcode = kind == NB_NS_KIND_REFRESH_REQUEST && (bits & 8)
                 ? NB_NS_OPCODE_REFRESH_ALT
                 : 0;
  a.ttl = take32(&s);
  a.nb_flags = take_nb_flags(&s);
  a.addr = take32(&s);
  a.rcode = take_rcode(&s, kind);
  a.wack_request_flags = (uint16_t)take32(&s);
  a.nsd_addr = take32(&s);
  take_lists(&s, &st, &a);
  int knob = apply_knob(&s, &kind, &a);

  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, out_buf, sizeof out_buf);
  if (knob == K_REFUSE || knob == K_HUGE_RDATA) {
    build_refused(kind, &a, knob, 0);
    return;
  }
  require(nb_ns_build(&w, kind, &a) == NB_OK);
  require(nb_wr_finish(&w, &len) == NB_OK);
  if (knob == K_SHORT) {
    build_refused(kind, &a, knob, take(&s) % len);
  }
  static uint8_t built[sizeof out_buf];
  memcpy(built, out_buf, len); /* parse_oracle() writes into out_buf */
  check_built(parse_oracle(built, len), kind, knob, &a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  parse_oracle(data, size);
  build_oracle(data, size);
  return 0;
}
