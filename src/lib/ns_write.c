/* SPDX-License-Identifier: BSD-2-Clause */
/* Name-service packet writer (the generic model) and builders for every
 * RFC 1002 4.2 packet kind (see nb/ns.h for the flag conventions).
 *
 * Compression pointers are offsets from the start of the message, which is
 * the writer's position when writing began (so a TCP length prefix may
 * come first). */
#include <string.h>

#include "nb/ns.h"

#define NS_MAX_POINTER 0x3FFFu

/* ---- shared pieces ----------------------------------------------------- */

/* RFC 1002 4.2.1.1 */
static void put_header(nb_wr_t *w, uint16_t trn_id, uint16_t word,
                       const uint16_t counts[4]) {
  nb_wr_be16(w, trn_id);
  nb_wr_be16(w, word);
  for (size_t i = 0; i < 4; i++) {
    nb_wr_be16(w, counts[i]);
  }
}

/* The first `count` labels of `n` in place: the 32-byte first label, then
 * count - 1 scope labels (RFC 1002 4.1). NB_EINVAL if it has fewer. */
static void put_labels(nb_wr_t *w, const nb_name_t *n, size_t count) {
  char l1[NB_NAME_L1_LEN + 1];
  size_t done = 1;
  size_t start = 0;
  nb_name_first_level(n, l1);
  nb_wr_u8(w, NB_NAME_L1_LEN);
  nb_wr_bytes(w, l1, NB_NAME_L1_LEN);
  for (size_t i = 0; n->scope_len > 0 && i <= n->scope_len && done < count;
       i++) {
    if (i == n->scope_len || n->scope[i] == '.') {
      size_t len = i - start;
      if (len == 0 || len > NB_LABEL_MAX) {
        break;
      }
      nb_wr_u8(w, (uint8_t)len);
      nb_wr_bytes(w, n->scope + start, len);
      start = i + 1;
      done++;
    }
  }
  if (done < count) {
    nb_wr_fail(w, NB_EINVAL);
  }
}

/* A name as its form says; NB_EINVAL for a pointer that is not strictly
 * backward (the parser would reject it). Whether the pointer resolves to
 * the rest of the name is checked by nb_ns_write()'s re-parse. */
static void put_name(nb_wr_t *w, size_t base, const nb_ns_name_t *n) {
  switch (n->form) {
  case NB_NS_NAME_FULL:
    nb_name_encode(w, &n->name);
    return;
  case NB_NS_NAME_POINTER:
    if (n->ptr > NS_MAX_POINTER || (size_t)n->ptr + base >= w->len) {
      nb_wr_fail(w, NB_EINVAL);
      return;
    }
    if (n->ptr_labels > 0) {
      put_labels(w, &n->name, n->ptr_labels);
    }
    nb_name_encode_pointer(w, n->ptr);
    return;
  case NB_NS_NAME_NULL:
    nb_wr_u8(w, 0);
    return;
  default:
    nb_wr_fail(w, NB_EINVAL);
  }
}

/* RR_NAME, RR_TYPE, RR_CLASS IN, TTL and a reserved RDLENGTH; returns the
 * RDLENGTH mark for put_rr_end(). */
static size_t put_rr_head(nb_wr_t *w, size_t base, const nb_ns_name_t *name,
                          uint16_t rrtype, uint32_t ttl) {
  put_name(w, base, name);
  nb_wr_be16(w, rrtype);
  nb_wr_be16(w, NB_NS_CLASS_IN);
  nb_wr_be32(w, ttl);
  return nb_wr_mark(w, 2);
}

/* Patch RDLENGTH with what was written since the mark. */
static void put_rr_end(nb_wr_t *w, size_t mark) {
  if (w->err != NB_OK) {
    return;
  }
  size_t n = w->len - mark - 2;
  if (n > UINT16_MAX) {
    nb_wr_fail(w, NB_EINVAL);
    return;
  }
  nb_wr_patch_be16(w, mark, (uint16_t)n);
}

/* ---- the generic writer ------------------------------------------------ */

static bool model_in_range(const nb_ns_msg_t *m) {
  size_t rrs = (size_t)m->ancount + m->nscount + m->arcount;
  if (m->hdr.opcode > 0xF || m->hdr.nm_flags > 0x7F || m->hdr.rcode > 0xF ||
      m->qdcount > NB_NS_MAX_QUESTIONS || rrs > NB_NS_MAX_RRS ||
      (m->trailing == NULL && m->trailing_len > 0)) {
    return false;
  }
  for (size_t i = 0; i < m->qdcount; i++) {
    if (m->qd[i].qname.form == NB_NS_NAME_NULL) {
      return false; /* questions always carry a name */
    }
  }
  for (size_t i = 0; i < rrs; i++) {
    if (m->rr[i].rdata == NULL && m->rr[i].rdlength > 0) {
      return false;
    }
  }
  return true;
}

static void write_body(nb_wr_t *w, size_t base, const nb_ns_msg_t *m) {
  const uint16_t counts[4] = {m->qdcount, m->ancount, m->nscount, m->arcount};
  size_t rrs = (size_t)m->ancount + m->nscount + m->arcount;
  put_header(w, m->hdr.trn_id, nb_ns_flags_word(&m->hdr), counts);
  for (size_t i = 0; i < m->qdcount; i++) {
    put_name(w, base, &m->qd[i].qname);
    nb_wr_be16(w, m->qd[i].qtype);
    nb_wr_be16(w, m->qd[i].qclass);
  }
  for (size_t i = 0; i < rrs; i++) {
    const nb_ns_rr_t *rr = &m->rr[i];
    put_name(w, base, &rr->rrname);
    nb_wr_be16(w, rr->rrtype);
    nb_wr_be16(w, rr->rrclass);
    nb_wr_be32(w, rr->ttl);
    nb_wr_be16(w, rr->rdlength);
    nb_wr_bytes(w, rr->rdata, rr->rdlength);
  }
  nb_wr_bytes(w, m->trailing, m->trailing_len);
}

nb_err_t nb_ns_write(nb_wr_t *w, const nb_ns_msg_t *m) {
  size_t base = w->len;
  if (w->err != NB_OK) {
    return w->err;
  }
  if (!model_in_range(m)) {
    nb_wr_fail(w, NB_EINVAL);
    return NB_EINVAL;
  }
  write_body(w, base, m);
  if (w->err != NB_OK) {
    return w->err;
  }
  /* The promise of nb/ns.h: what is written parses back to `m`. This
   * catches pointers that do not resolve to the recorded name, RDATA that
   * does not parse as its type, and names the decoder would refuse. */
  nb_ns_msg_t check;
  if (nb_ns_parse(w->buf + base, w->len - base, &check, NULL) != NB_OK ||
      !nb_ns_msg_equal(m, &check)) {
    nb_wr_fail(w, NB_EINVAL);
  }
  return w->err;
}

/* ---- builders ---------------------------------------------------------- */

static nb_ns_name_t full_name(const nb_name_t *n) {
  nb_ns_name_t out;
  memset(&out, 0, sizeof out);
  out.name = *n;
  out.form = NB_NS_NAME_FULL;
  return out;
}

static nb_ns_name_t pointer_name(uint16_t target) {
  nb_ns_name_t out;
  memset(&out, 0, sizeof out);
  out.form = NB_NS_NAME_POINTER;
  out.ptr = target;
  return out;
}

static uint16_t word_of(bool response, uint8_t opcode, uint8_t nm_flags,
                        uint8_t rcode) {
  nb_ns_header_t h = {0, response, opcode, nm_flags, rcode};
  return nb_ns_flags_word(&h);
}

static void put_nb_entry(nb_wr_t *w, uint16_t nb_flags, uint32_t addr) {
  nb_wr_be16(w, nb_flags);
  nb_wr_be32(w, addr);
}

/* Query and node status requests (RFC 1002 4.2.12, 4.2.17). */
static void build_question_only(nb_wr_t *w, const nb_ns_build_args_t *a,
                                uint16_t word, uint16_t qtype) {
  static const uint16_t counts[4] = {1, 0, 0, 0};
  put_header(w, a->trn_id, word, counts);
  nb_name_encode(w, a->name);
  nb_wr_be16(w, qtype);
  nb_wr_be16(w, NB_NS_CLASS_IN);
}

/* Registration, overwrite, refresh, multi-homed and release requests
 * (RFC 1002 4.2.2-4.2.4, 4.2.9): question + one additional NB record whose
 * RR_NAME is the pointer C0 0C. */
static void build_request_ar(nb_wr_t *w, size_t base,
                             const nb_ns_build_args_t *a, uint16_t word,
                             uint32_t ttl) {
  static const uint16_t counts[4] = {1, 0, 0, 1};
  put_header(w, a->trn_id, word, counts);
  nb_name_encode(w, a->name);
  nb_wr_be16(w, NB_NS_TYPE_NB);
  nb_wr_be16(w, NB_NS_CLASS_IN);
  nb_ns_name_t rrname =
      a->ar_name_full ? full_name(a->name) : pointer_name(NB_NS_HEADER_LEN);
  size_t mark = put_rr_head(w, base, &rrname, NB_NS_TYPE_NB, ttl);
  put_nb_entry(w, a->nb_flags, a->addr);
  put_rr_end(w, mark);
}

/* A response with one answer record (RFC 1002 4.2.5-4.2.8, 4.2.10,
 * 4.2.11, 4.2.13, 4.2.14, 4.2.16, 4.2.18); returns the RDLENGTH mark. */
static size_t build_answer_head(nb_wr_t *w, size_t base,
                                const nb_ns_build_args_t *a, uint16_t word,
                                uint16_t rrtype, uint32_t ttl) {
  static const uint16_t counts[4] = {0, 1, 0, 0};
  nb_ns_name_t rrname;
  if (a->name != NULL) {
    rrname = full_name(a->name);
  } else {
    memset(&rrname, 0, sizeof rrname);
    rrname.form = NB_NS_NAME_NULL; /* WACK without a name, 4.2.16 */
  }
  put_header(w, a->trn_id, word, counts);
  return put_rr_head(w, base, &rrname, rrtype, ttl);
}

static void build_nb_answer(nb_wr_t *w, size_t base,
                            const nb_ns_build_args_t *a, uint16_t word,
                            uint32_t ttl, uint16_t nb_flags, uint32_t addr) {
  size_t mark = build_answer_head(w, base, a, word, NB_NS_TYPE_NB, ttl);
  put_nb_entry(w, nb_flags, addr);
  put_rr_end(w, mark);
}

/* RFC 1002 4.2.13: the ADDR_ENTRY ARRAY. */
static void build_pos_query(nb_wr_t *w, size_t base,
                            const nb_ns_build_args_t *a, uint16_t word) {
  size_t mark = build_answer_head(w, base, a, word, NB_NS_TYPE_NB, a->ttl);
  if (a->entries == NULL) {
    put_nb_entry(w, a->nb_flags, a->addr);
  } else {
    for (size_t i = 0; i < a->n_entries; i++) {
      put_nb_entry(w, a->entries[i].nb_flags, a->entries[i].addr);
    }
  }
  put_rr_end(w, mark);
}

/* RFC 1002 4.2.18: NUM_NAMES, NODE_NAME entries, STATISTICS. */
static void build_status_response(nb_wr_t *w, size_t base,
                                  const nb_ns_build_args_t *a, uint16_t word) {
  static const nb_ns_statistics_t zero_stats;
  size_t mark = build_answer_head(w, base, a, word, NB_NS_TYPE_NBSTAT, 0);
  nb_wr_u8(w, (uint8_t)a->n_nbstat);
  for (size_t i = 0; i < a->n_nbstat; i++) {
    nb_wr_bytes(w, a->nbstat[i].name, NB_NAME_BYTES);
    nb_wr_be16(w, a->nbstat[i].name_flags);
  }
  nb_ns_statistics_encode(w, a->statistics ? a->statistics : &zero_stats);
  put_rr_end(w, mark);
}

/* RFC 1002 4.2.15: authority NS record (RR_NAME = the NBNS's domain,
 * RDATA = NSD_NAME), additional A record whose RR_NAME points to NSD_NAME
 * ("space can be optimized if label string pointers are used"). */
static void build_redirect(nb_wr_t *w, size_t base, const nb_ns_build_args_t *a,
                           uint16_t word) {
  static const uint16_t counts[4] = {0, 0, 1, 1};
  put_header(w, a->trn_id, word, counts);
  nb_ns_name_t domain = full_name(a->name);
  size_t mark = put_rr_head(w, base, &domain, NB_NS_TYPE_NS, a->ttl);
  size_t nsd_at = w->len - base;
  nb_name_encode(w, a->nsd_name);
  put_rr_end(w, mark);
  if (nsd_at > NS_MAX_POINTER) {
    nb_wr_fail(w, NB_EINVAL);
    return;
  }
  nb_ns_name_t ptr = pointer_name((uint16_t)nsd_at);
  mark = put_rr_head(w, base, &ptr, NB_NS_TYPE_A, a->ttl);
  nb_wr_be32(w, a->nsd_addr);
  put_rr_end(w, mark);
}

/* RFC 1002 4.2.16: NULL record, RDATA = the request's OPCODE/NM_FLAGS. */
static void build_wack(nb_wr_t *w, size_t base, const nb_ns_build_args_t *a,
                       uint16_t word) {
  size_t mark = build_answer_head(w, base, a, word, NB_NS_TYPE_NULL, a->ttl);
  nb_wr_be16(w, (uint16_t)(a->wack_request_flags & 0xFFF0u));
  put_rr_end(w, mark);
}

/* The header word of each kind (the conventions of nb/ns.h). */
enum { OP_FIXED, OP_REFRESH, OP_REG_RESPONSE }; /* where OPCODE comes from */
enum { RC_ZERO, RC_ARG, RC_CFT };               /* where RCODE comes from */

typedef struct {
  bool response;
  uint8_t opcode;
  uint8_t op_from;  /* OP_*: args.opcode may replace `opcode` */
  uint8_t nm_flags; /* the diagram's AA/TC/RD/RA (B from args.broadcast) */
  uint8_t rcode;    /* RC_* */
  bool ra_arg;      /* args.ra adds RA (query responses) */
  bool tc_arg;      /* args.truncated adds TC (positive query response) */
} word_rule_t;

#define W_AA NB_NS_FLAG_AA
#define W_RD NB_NS_FLAG_RD
#define W_RA NB_NS_FLAG_RA
#define W_REG NB_NS_OPCODE_REGISTRATION
#define W_QRY NB_NS_OPCODE_QUERY
#define W_REL NB_NS_OPCODE_RELEASE

/* clang-format off */
static const word_rule_t word_rules[NB_NS_KIND_COUNT_] = {
  [NB_NS_KIND_QUERY_REQUEST] =        /* 4.2.12 */
      {false, W_QRY, OP_FIXED, W_RD, RC_ZERO, false, false},
  [NB_NS_KIND_STATUS_REQUEST] =       /* 4.2.17 */
      {false, W_QRY, OP_FIXED, 0, RC_ZERO, false, false},
  [NB_NS_KIND_REGISTRATION_REQUEST] = /* 4.2.2 */
      {false, W_REG, OP_FIXED, W_RD, RC_ZERO, false, false},
  [NB_NS_KIND_OVERWRITE_REQUEST] =    /* 4.2.3 */
      {false, W_REG, OP_FIXED, 0, RC_ZERO, false, false},
  [NB_NS_KIND_REFRESH_REQUEST] =      /* 4.2.4: 8, or 9 from args */
      {false, NB_NS_OPCODE_REFRESH, OP_REFRESH, 0, RC_ZERO, false, false},
  [NB_NS_KIND_MULTIHOMED_REQUEST] =   /* Windows/Samba: RD */
      {false, NB_NS_OPCODE_MULTIHOMED, OP_FIXED, W_RD, RC_ZERO, false, false},
  [NB_NS_KIND_RELEASE_REQUEST] =      /* 4.2.9 */
      {false, W_REL, OP_FIXED, 0, RC_ZERO, false, false},
  [NB_NS_KIND_POS_REGISTRATION_RESPONSE] = /* 4.2.5 */
      {true, W_REG, OP_REG_RESPONSE, W_AA | W_RD | W_RA, RC_ZERO, false, false},
  [NB_NS_KIND_NEG_REGISTRATION_RESPONSE] = /* 4.2.6 */
      {true, W_REG, OP_REG_RESPONSE, W_AA | W_RD | W_RA, RC_ARG, false, false},
  [NB_NS_KIND_CHALLENGE_RESPONSE] =   /* 4.2.7 */
      {true, W_REG, OP_REG_RESPONSE, W_AA | W_RD, RC_ZERO, false, false},
  [NB_NS_KIND_CONFLICT_DEMAND] =      /* 4.2.8 */
      {true, W_REG, OP_REG_RESPONSE, W_AA | W_RD | W_RA, RC_CFT, false, false},
  [NB_NS_KIND_POS_RELEASE_RESPONSE] = /* 4.2.10 */
      {true, W_REL, OP_FIXED, W_AA, RC_ZERO, false, false},
  [NB_NS_KIND_NEG_RELEASE_RESPONSE] = /* 4.2.11 */
      {true, W_REL, OP_FIXED, W_AA, RC_ARG, false, false},
  [NB_NS_KIND_POS_QUERY_RESPONSE] =   /* 4.2.13: 0x8500, RA and TC open */
      {true, W_QRY, OP_FIXED, W_AA | W_RD, RC_ZERO, true, true},
  [NB_NS_KIND_NEG_QUERY_RESPONSE] =   /* 4.2.14 */
      {true, W_QRY, OP_FIXED, W_AA | W_RD, RC_ARG, true, false},
  [NB_NS_KIND_REDIRECT_RESPONSE] =    /* 4.2.15 */
      {true, W_QRY, OP_FIXED, W_RD, RC_ZERO, false, false},
  [NB_NS_KIND_WACK] =                 /* 4.2.16 */
      {true, NB_NS_OPCODE_WACK, OP_FIXED, W_AA, RC_ZERO, false, false},
  [NB_NS_KIND_STATUS_RESPONSE] =      /* 4.2.18 */
      {true, W_QRY, OP_FIXED, W_AA, RC_ZERO, false, false},
};
/* clang-format on */

/* Opcodes a kind may take from args.opcode. */
static bool opcode_ok(uint8_t op_from, uint8_t op) {
  if (op_from == OP_REFRESH) {
    return op == NB_NS_OPCODE_REFRESH || op == NB_NS_OPCODE_REFRESH_ALT;
  }
  return op == NB_NS_OPCODE_REGISTRATION || op == NB_NS_OPCODE_REFRESH ||
         op == NB_NS_OPCODE_REFRESH_ALT || op == NB_NS_OPCODE_MULTIHOMED;
}

/* The header word `kind` gets from `a`; *ok = false for bad arguments (an
 * unknown kind, a zero or CFT_ERR RCODE on a negative kind, an opcode the
 * kind cannot take). */
static uint16_t default_word(nb_ns_kind_t kind, const nb_ns_build_args_t *a,
                             bool *ok) {
  *ok = kind > NB_NS_KIND_UNKNOWN && kind < NB_NS_KIND_COUNT_;
  if (!*ok) {
    return 0;
  }
  const word_rule_t *r = &word_rules[kind];
  uint8_t op = r->opcode;
  uint8_t flags = r->nm_flags;
  uint8_t rcode = r->rcode == RC_CFT ? NB_NS_RCODE_CFT_ERR : 0;
  if (r->op_from != OP_FIXED && a->opcode != 0) {
    op = a->opcode;
    *ok = opcode_ok(r->op_from, op);
  }
  if (r->rcode == RC_ARG) {
    rcode = a->rcode;
    *ok = *ok && rcode != 0 && rcode <= 0xF &&
          !(r->op_from == OP_REG_RESPONSE && rcode == NB_NS_RCODE_CFT_ERR);
  }
  flags |= (uint8_t)((!r->response && a->broadcast ? NB_NS_FLAG_B : 0) |
                     (r->ra_arg && a->ra ? NB_NS_FLAG_RA : 0) |
                     (r->tc_arg && a->truncated ? NB_NS_FLAG_TC : 0));
  return word_of(r->response, op, flags, rcode);
}

static bool args_ok(nb_ns_kind_t kind, const nb_ns_build_args_t *a) {
  if (a->name == NULL && kind != NB_NS_KIND_WACK) {
    return false;
  }
  switch (kind) {
  case NB_NS_KIND_STATUS_RESPONSE:
    return a->n_nbstat <= UINT8_MAX && (a->nbstat != NULL || a->n_nbstat == 0);
  case NB_NS_KIND_REDIRECT_RESPONSE:
    return a->nsd_name != NULL;
  case NB_NS_KIND_POS_QUERY_RESPONSE:
    return a->entries != NULL || a->n_entries == 0;
  default:
    return true;
  }
}

/* The body of a request kind (RFC 1002 4.2.2-4.2.4, 4.2.9, 4.2.12,
 * 4.2.17, multi-homed). */
static void build_request(nb_wr_t *w, size_t base, nb_ns_kind_t kind,
                          const nb_ns_build_args_t *a, uint16_t word) {
  switch (kind) {
  case NB_NS_KIND_QUERY_REQUEST:
    build_question_only(w, a, word, NB_NS_TYPE_NB);
    return;
  case NB_NS_KIND_STATUS_REQUEST:
    build_question_only(w, a, word, NB_NS_TYPE_NBSTAT);
    return;
  case NB_NS_KIND_RELEASE_REQUEST: /* 4.2.9: TTL 0 */
    build_request_ar(w, base, a, word, 0);
    return;
  default: /* registration, overwrite, refresh, multi-homed */
    build_request_ar(w, base, a, word, a->ttl);
    return;
  }
}

/* The body of a response kind (RFC 1002 4.2.5-4.2.8, 4.2.10, 4.2.11,
 * 4.2.13-4.2.16, 4.2.18). */
static void build_response(nb_wr_t *w, size_t base, nb_ns_kind_t kind,
                           const nb_ns_build_args_t *a, uint16_t word) {
  uint16_t ont = (uint16_t)(a->nb_flags & NB_NS_NB_ONT_MASK);
  switch (kind) {
  case NB_NS_KIND_CONFLICT_DEMAND: /* 4.2.8: TTL 0, only ONT, address 0 */
    build_nb_answer(w, base, a, word, 0, ont, 0);
    return;
  case NB_NS_KIND_POS_QUERY_RESPONSE:
    build_pos_query(w, base, a, word);
    return;
  case NB_NS_KIND_NEG_QUERY_RESPONSE: /* 4.2.14: NULL, TTL 0, no RDATA */
    put_rr_end(w, build_answer_head(w, base, a, word, NB_NS_TYPE_NULL, 0));
    return;
  case NB_NS_KIND_REDIRECT_RESPONSE:
    build_redirect(w, base, a, word);
    return;
  case NB_NS_KIND_WACK:
    build_wack(w, base, a, word);
    return;
  case NB_NS_KIND_STATUS_RESPONSE:
    build_status_response(w, base, a, word);
    return;
  default: /* registration and release responses, challenge */
    build_nb_answer(w, base, a, word, a->ttl, a->nb_flags, a->addr);
    return;
  }
}

nb_err_t nb_ns_build(nb_wr_t *w, nb_ns_kind_t kind,
                     const nb_ns_build_args_t *a) {
  bool ok = false;
  size_t base = w->len;
  uint16_t word = default_word(kind, a, &ok);
  if (a->raw_flags) { /* the caller's word: RCODE and opcode included */
    word = a->flags_word;
    ok = kind > NB_NS_KIND_UNKNOWN && kind < NB_NS_KIND_COUNT_;
  }
  if (!ok || !args_ok(kind, a)) {
    nb_wr_fail(w, NB_EINVAL);
    return w->err;
  }
  if (word_rules[kind].response) {
    build_response(w, base, kind, a, word);
  } else {
    build_request(w, base, kind, a, word);
  }
  return w->err;
}
