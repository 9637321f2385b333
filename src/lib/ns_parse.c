/* SPDX-License-Identifier: BSD-2-Clause */
/* Name-service packet parser (RFC 1002 4.2) and its conformance checks.
 *
 * WARNING: parses untrusted network data. All reads go through the wire
 * cursors; RDATA is parsed inside a hard RDLENGTH window (nb_rd_sub); the
 * section counts are checked against the bytes present before any loop
 * runs, and against the model's caps (NB_ELIMIT), so work is linear in the
 * datagram. No heap.
 *
 * RFC 1002 4.2.1 and 4.2.1.1:
 *
 *                         1 1 1 1 1 1 1 1 1 1 2 2 2 2 2 2 2 2 2 2 3 3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |         NAME_TRN_ID           | OPCODE  |   NM_FLAGS  | RCODE |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |          QDCOUNT              |           ANCOUNT             |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |          NSCOUNT              |           ARCOUNT             |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    /   QUESTION ENTRIES, then ANSWER, AUTHORITY, ADDITIONAL RRs    /
 *
 * Question (4.2.1.2):  QUESTION_NAME | QUESTION_TYPE (16) | CLASS (16)
 * Resource record (4.2.1.3):
 *    RR_NAME | RR_TYPE (16) | RR_CLASS (16) | TTL (32) | RDLENGTH (16) |
 *    RDATA (RDLENGTH bytes)
 * NB RDATA (4.2.1.3, 4.2.13):     { NB_FLAGS (16) | NB_ADDRESS (32) } *
 * NBSTAT RDATA (4.2.18):          NUM_NAMES (8) | { NAME (16 bytes) |
 *                                 NAME_FLAGS (16) } * | STATISTICS (46)
 * A RDATA (4.2.15):               NSD_IP_ADDR (32)
 * NS RDATA (4.2.15):              NSD_NAME
 * NULL RDATA (4.2.14, 4.2.16):    empty, or the WACK's OPCODE/NM_FLAGS
 */
#include <string.h>

#include "name_int.h"
#include "nb/ns.h"

#define NS_MIN_QUESTION 6 /* a 2-byte pointer name, QUESTION_TYPE, CLASS */
#define NS_MIN_RR 11      /* the null name, TYPE, CLASS, TTL, RDLENGTH */
#define NS_OFF_FLAGS_HI 2 /* byte holding OPCODE, AA, TC, RD */
#define NS_OFF_FLAGS_LO 3 /* byte holding RA, the reserved bits, B, RCODE */
#define NS_OFF_QDCOUNT 4

typedef struct {
  nb_rd_t r;
  nb_ns_msg_t *m;
  nb_diag_t *diag;
} ns_parser_t;

static void add_finding(nb_ns_msg_t *m, nb_ns_rule_t rule, size_t offset) {
  if (m->nfindings >= NB_NS_MAX_FINDINGS) {
    m->findings_overflow = true;
    return;
  }
  nb_ns_finding_t *f = &m->findings[m->nfindings++];
  f->rule = rule;
  f->offset = offset;
  f->rfc = nb_ns_rule_rfc(rule);
  f->text = nb_ns_rule_text(rule);
}

/* RFC 1002 4.2.1.1: six 16-bit fields, bounds-checked once (the common
 * case); a short header finds the field it stops in only on failure. */
static nb_err_t parse_header(ns_parser_t *p) {
  static const char *const fields[] = {"NAME_TRN_ID", "OPCODE/NM_FLAGS/RCODE",
                                       "QDCOUNT",     "ANCOUNT",
                                       "NSCOUNT",     "ARCOUNT"};
  const uint8_t *b = NULL;
  if (nb_rd_bytes(&p->r, NB_NS_HEADER_LEN, &b) != NB_OK) {
    size_t at = nb_rd_left(&p->r) & ~(size_t)1; /* the first field cut */
    return nb_diag_set(p->diag, NB_ETRUNCATED, p->r.pos + at, fields[at / 2]);
  }
  p->m->hdr.trn_id = (uint16_t)((unsigned)b[0] << 8 | b[1]);
  nb_ns_set_flags_word(&p->m->hdr, (uint16_t)((unsigned)b[2] << 8 | b[3]));
  p->m->qdcount = (uint16_t)((unsigned)b[4] << 8 | b[5]);
  p->m->ancount = (uint16_t)((unsigned)b[6] << 8 | b[7]);
  p->m->nscount = (uint16_t)((unsigned)b[8] << 8 | b[9]);
  p->m->arcount = (uint16_t)((unsigned)b[10] << 8 | b[11]);
  return NB_OK;
}

/* Counts that lie: each question needs at least NS_MIN_QUESTION bytes and
 * each record NS_MIN_RR, so a count the datagram cannot hold fails here,
 * at the count's own offset, before any loop runs. Then the model's caps:
 * more entries than it holds is NB_ELIMIT, never a silent truncation. */
static nb_err_t check_counts(ns_parser_t *p) {
  static const char *const lie[] = {
      "QDCOUNT (more questions than the datagram holds)",
      "ANCOUNT (more records than the datagram holds)",
      "NSCOUNT (more records than the datagram holds)",
      "ARCOUNT (more records than the datagram holds)"};
  static const char *const cap[] = {
      "QDCOUNT (over NB_NS_MAX_QUESTIONS)", "ANCOUNT (over NB_NS_MAX_RRS)",
      "NSCOUNT (over NB_NS_MAX_RRS)", "ARCOUNT (over NB_NS_MAX_RRS)"};
  const uint16_t c[4] = {p->m->qdcount, p->m->ancount, p->m->nscount,
                         p->m->arcount};
  size_t need = 0;
  size_t rrs = 0;
  for (size_t i = 0; i < 4; i++) {
    need += (size_t)c[i] * (i == 0 ? NS_MIN_QUESTION : NS_MIN_RR);
    if (need > nb_rd_left(&p->r)) {
      return nb_diag_set(p->diag, NB_ETRUNCATED, NS_OFF_QDCOUNT + 2 * i,
                         lie[i]);
    }
    rrs += i == 0 ? 0 : c[i];
    if ((i == 0 && c[0] > NB_NS_MAX_QUESTIONS) || rrs > NB_NS_MAX_RRS) {
      return nb_diag_set(p->diag, NB_ELIMIT, NS_OFF_QDCOUNT + 2 * i, cap[i]);
    }
  }
  return NB_OK;
}

/* An empty FULL name: the 16 bytes zero, scope "". The rest of the scope
 * buffer is left alone (it is only read up to scope_len), which keeps the
 * parse from writing 240 bytes per name. */
static void name_clear(nb_ns_name_t *n) {
  memset(n->name.bytes, 0, sizeof n->name.bytes);
  n->name.scope_len = 0;
  n->name.scope[0] = '\0';
  n->form = NB_NS_NAME_FULL;
  n->ptr = 0;
  n->ptr_labels = 0;
}

/* A name in a name-service packet (RFC 1002 4.1: pointers allowed),
 * recording where a compression pointer ended it. The null name (a single
 * zero byte, RFC 1002 4.2.16) is accepted where `allow_null`. */
static nb_err_t parse_name(nb_rd_t *r, nb_ns_name_t *out, bool allow_null,
                           nb_diag_t *diag) {
  uint8_t first = 0;
  nb_name_shape_t shape;
  name_clear(out);
  if (nb_rd_peek_u8(r, &first) != NB_OK) {
    return nb_diag_set(diag, NB_ETRUNCATED, r->pos, "name label length");
  }
  if (first == 0 && allow_null) {
    out->form = NB_NS_NAME_NULL;
    return nb_rd_skip(r, 1);
  }
  /* The decoder says where a compression pointer ended the in-place bytes:
   * no second walk over them. */
  nb_err_t err = nb_name_decode_shape(r, &out->name, 0, diag, &shape);
  if (err != NB_OK) {
    return err;
  }
  if (shape.pointer) {
    out->form = NB_NS_NAME_POINTER;
    out->ptr = shape.ptr;
    out->ptr_labels = shape.labels;
  }
  return NB_OK;
}

/* RFC 1002 4.2.1.2 */
static nb_err_t parse_question(ns_parser_t *p, nb_ns_question_t *q) {
  q->offset = p->r.pos;
  nb_err_t err = parse_name(&p->r, &q->qname, false, p->diag);
  if (err != NB_OK) {
    return err;
  }
  size_t at = p->r.pos;
  if (nb_rd_be16(&p->r, &q->qtype) != NB_OK) {
    return nb_diag_set(p->diag, NB_ETRUNCATED, at, "QUESTION_TYPE");
  }
  if (nb_rd_be16(&p->r, &q->qclass) != NB_OK) {
    return nb_diag_set(p->diag, NB_ETRUNCATED, at + 2, "QUESTION_CLASS");
  }
  if (q->qtype != NB_NS_TYPE_NB && q->qtype != NB_NS_TYPE_NBSTAT) {
    add_finding(p->m, NB_NS_RULE_QTYPE_UNKNOWN, at);
  }
  if (q->qclass != NB_NS_CLASS_IN) {
    add_finding(p->m, NB_NS_RULE_QCLASS_NOT_IN, at + 2);
  }
  return NB_OK;
}

/* Findings on NB_FLAGS or NAME_FLAGS, reported once per record. */
typedef struct {
  bool reserved;
  bool ont_h;
  bool not_act;
} flag_seen_t;

static void check_ont(ns_parser_t *p, uint16_t flags, size_t at,
                      flag_seen_t *seen) {
  if ((flags & NB_NS_NB_ONT_MASK) == NB_NS_ONT_H && !seen->ont_h) {
    seen->ont_h = true; /* RFC 1002 4.2.1.3: ONT 11 reserved */
    add_finding(p->m, NB_NS_RULE_ONT_H_EXTENSION, at);
  }
}

/* NB RDATA: zero or more 6-byte entries (RFC 1002 4.2.1.3, 4.2.13). */
static nb_err_t parse_nb(ns_parser_t *p, nb_ns_rr_t *rr, nb_rd_t *win) {
  flag_seen_t seen = {false, false, false};
  if (rr->rdlength % NB_NS_NB_ENTRY_LEN != 0) {
    size_t whole = rr->rdlength - rr->rdlength % NB_NS_NB_ENTRY_LEN;
    return nb_diag_set(p->diag, NB_EMALFORMED, rr->rdata_offset + whole,
                       "NB RDATA (RDLENGTH not a multiple of 6)");
  }
  rr->nb_count = (uint16_t)(rr->rdlength / NB_NS_NB_ENTRY_LEN);
  for (size_t i = 0; i < rr->nb_count; i++) {
    size_t at = win->pos;
    uint16_t flags = 0;
    (void)nb_rd_be16(win, &flags); /* fits: RDLENGTH checked above */
    (void)nb_rd_skip(win, 4);
    if ((flags & NB_NS_NB_RESERVED) != 0 && !seen.reserved) {
      seen.reserved = true;
      add_finding(p->m, NB_NS_RULE_NB_FLAGS_RESERVED, at);
    }
    check_ont(p, flags, at, &seen);
  }
  return NB_OK;
}

static void check_name_flags(ns_parser_t *p, uint16_t flags, size_t at,
                             flag_seen_t *seen) {
  if ((flags & NB_NS_NAME_RESERVED) != 0 && !seen->reserved) {
    seen->reserved = true;
    add_finding(p->m, NB_NS_RULE_NAME_FLAGS_RESERVED, at);
  }
  if ((flags & NB_NS_NAME_ACT) == 0 && !seen->not_act) {
    seen->not_act = true;
    add_finding(p->m, NB_NS_RULE_NAME_FLAGS_NOT_ACT, at);
  }
  check_ont(p, flags, at, seen);
}

/* NBSTAT RDATA (RFC 1002 4.2.18). NUM_NAMES entries must fit RDATA
 * (fatal otherwise); a short or long STATISTICS is a finding. */
static nb_err_t parse_nbstat(ns_parser_t *p, nb_ns_rr_t *rr, nb_rd_t *win) {
  flag_seen_t seen = {false, false, false};
  size_t at = win->pos;
  uint8_t num = 0;
  if (nb_rd_u8(win, &num) != NB_OK) {
    return nb_diag_set(p->diag, NB_ETRUNCATED, at, "NUM_NAMES (empty RDATA)");
  }
  if (nb_rd_left(win) < (size_t)num * NB_NS_NBSTAT_ENTRY_LEN) {
    return nb_diag_set(p->diag, NB_ETRUNCATED, at,
                       "NODE_NAME ARRAY (NUM_NAMES larger than RDATA)");
  }
  rr->nbstat_names = num;
  for (size_t i = 0; i < num; i++) {
    uint16_t flags = 0;
    (void)nb_rd_skip(win, NB_NAME_BYTES);
    size_t fat = win->pos;
    (void)nb_rd_be16(win, &flags);
    check_name_flags(p, flags, fat, &seen);
  }
  size_t left = nb_rd_left(win);
  rr->nbstat_stats =
      (uint16_t)(left < NB_NS_STATISTICS_LEN ? left : NB_NS_STATISTICS_LEN);
  if (left < NB_NS_STATISTICS_LEN) {
    add_finding(p->m, NB_NS_RULE_STATISTICS_SHORT, win->pos);
  } else if (left > NB_NS_STATISTICS_LEN) {
    add_finding(p->m, NB_NS_RULE_RDATA_TRAILING,
                win->pos + NB_NS_STATISTICS_LEN);
  }
  return NB_OK;
}

/* NS RDATA: NSD_NAME, inside the window (RFC 1002 4.2.15). */
static nb_err_t parse_ns(ns_parser_t *p, nb_ns_rr_t *rr, nb_rd_t *win) {
  nb_err_t err = parse_name(win, &rr->nsd, false, p->diag);
  if (err != NB_OK) {
    return err;
  }
  if (nb_rd_left(win) > 0) {
    add_finding(p->m, NB_NS_RULE_RDATA_TRAILING, win->pos);
  }
  return NB_OK;
}

/* Typed RDATA. In a WACK (R=1, opcode 7) the RDATA is the request's
 * OPCODE/NM_FLAGS whatever RR_TYPE says: RFC 1002 4.2.16's diagram prints
 * the NULL type as 0x0020 (NB), and a sender following it must parse. */
static nb_err_t parse_rdata(ns_parser_t *p, nb_ns_rr_t *rr, nb_rd_t *win) {
  if (p->m->hdr.response && p->m->hdr.opcode == NB_NS_OPCODE_WACK) {
    return NB_OK;
  }
  switch (rr->rrtype) {
  case NB_NS_TYPE_NB:
    return parse_nb(p, rr, win);
  case NB_NS_TYPE_NBSTAT:
    return parse_nbstat(p, rr, win);
  case NB_NS_TYPE_A: /* RFC 1002 4.2.15: 0x0004 | NSD_IP_ADDR */
    if (nb_rd_left(win) != 4 || nb_rd_be32(win, &rr->a_addr) != NB_OK) {
      return nb_diag_set(p->diag, NB_EMALFORMED, rr->rdata_offset - 2,
                         "A RDATA (RDLENGTH not 4)");
    }
    return NB_OK;
  case NB_NS_TYPE_NS:
    return parse_ns(p, rr, win);
  default: /* NULL and unknown types: opaque bytes */
    return NB_OK;
  }
}

/* The fixed part after RR_NAME: RR_TYPE, RR_CLASS, TTL, RDLENGTH. */
static nb_err_t parse_rr_fixed(ns_parser_t *p, nb_ns_rr_t *rr) {
  size_t at = p->r.pos;
  if (nb_rd_be16(&p->r, &rr->rrtype) != NB_OK) {
    return nb_diag_set(p->diag, NB_ETRUNCATED, at, "RR_TYPE");
  }
  if (nb_rd_be16(&p->r, &rr->rrclass) != NB_OK) {
    return nb_diag_set(p->diag, NB_ETRUNCATED, at + 2, "RR_CLASS");
  }
  if (nb_rd_be32(&p->r, &rr->ttl) != NB_OK) {
    return nb_diag_set(p->diag, NB_ETRUNCATED, at + 4, "TTL");
  }
  if (nb_rd_be16(&p->r, &rr->rdlength) != NB_OK) {
    return nb_diag_set(p->diag, NB_ETRUNCATED, at + 8, "RDLENGTH");
  }
  return NB_OK;
}

static bool rrtype_known(uint16_t t) {
  return t == NB_NS_TYPE_A || t == NB_NS_TYPE_NS || t == NB_NS_TYPE_NULL ||
         t == NB_NS_TYPE_NB || t == NB_NS_TYPE_NBSTAT;
}

/* RFC 1002 4.2.1.3 */
static nb_err_t parse_rr(ns_parser_t *p, nb_ns_rr_t *rr,
                         nb_ns_section_t section) {
  nb_rd_t win;
  rr->section = section;
  rr->offset = p->r.pos;
  rr->nb_count = 0;
  rr->nbstat_names = 0;
  rr->nbstat_stats = 0;
  rr->a_addr = 0;
  name_clear(&rr->nsd);
  nb_err_t err = parse_name(&p->r, &rr->rrname, true, p->diag);
  if (err == NB_OK) {
    err = parse_rr_fixed(p, rr);
  }
  if (err != NB_OK) {
    return err;
  }
  if (nb_rd_sub(&p->r, rr->rdlength, &win) != NB_OK) {
    return nb_diag_set(p->diag, NB_ETRUNCATED, p->r.pos - 2,
                       "RDLENGTH (past the end of the packet)");
  }
  rr->rdata_offset = win.pos;
  nb_rd_t raw = win;
  (void)nb_rd_bytes(&raw, rr->rdlength, &rr->rdata);
  if (!rrtype_known(rr->rrtype)) {
    add_finding(p->m, NB_NS_RULE_RRTYPE_UNKNOWN, rr->rdata_offset - 10);
  }
  if (rr->rrclass != NB_NS_CLASS_IN) {
    add_finding(p->m, NB_NS_RULE_RRCLASS_NOT_IN, rr->rdata_offset - 8);
  }
  return parse_rdata(p, rr, &win);
}

static nb_err_t parse_sections(ns_parser_t *p) {
  nb_ns_msg_t *m = p->m;
  nb_err_t err = NB_OK;
  for (size_t i = 0; i < m->qdcount && err == NB_OK; i++) {
    err = parse_question(p, &m->qd[i]);
  }
  size_t an = m->ancount;
  size_t ns = an + m->nscount;
  size_t all = ns + m->arcount;
  for (size_t i = 0; i < all && err == NB_OK; i++) {
    nb_ns_section_t s = i < an   ? NB_NS_SECTION_ANSWER
                        : i < ns ? NB_NS_SECTION_AUTHORITY
                                 : NB_NS_SECTION_ADDITIONAL;
    err = parse_rr(p, &m->rr[i], s);
  }
  return err;
}

static bool opcode_known(uint8_t op) {
  return op == NB_NS_OPCODE_QUERY || op == NB_NS_OPCODE_REGISTRATION ||
         op == NB_NS_OPCODE_RELEASE || op == NB_NS_OPCODE_WACK ||
         op == NB_NS_OPCODE_REFRESH || op == NB_NS_OPCODE_REFRESH_ALT ||
         op == NB_NS_OPCODE_MULTIHOMED;
}

/* Rules of RFC 1002 4.2.1.1 that hold for every kind. */
static void header_findings(nb_ns_msg_t *m) {
  const nb_ns_header_t *h = &m->hdr;
  if (!opcode_known(h->opcode)) {
    add_finding(m, NB_NS_RULE_UNKNOWN_OPCODE, NS_OFF_FLAGS_HI);
  }
  if (h->nm_flags & NB_NS_FLAG_RESERVED) {
    add_finding(m, NB_NS_RULE_RESERVED_FLAGS, NS_OFF_FLAGS_LO);
  }
  if (!h->response) {
    if (h->nm_flags & NB_NS_FLAG_AA) { /* "Must be zero if R is zero" */
      add_finding(m, NB_NS_RULE_AA_IN_REQUEST, NS_OFF_FLAGS_HI);
    }
    if (h->nm_flags & NB_NS_FLAG_RA) { /* "Only valid in responses" */
      add_finding(m, NB_NS_RULE_RA_IN_REQUEST, NS_OFF_FLAGS_LO);
    }
    if (h->rcode != 0) {
      add_finding(m, NB_NS_RULE_RCODE_IN_REQUEST, NS_OFF_FLAGS_LO);
    }
    if (m->qdcount == 0) { /* "Must be non-zero for all ... requests" */
      add_finding(m, NB_NS_RULE_NO_QUESTION, NS_OFF_QDCOUNT);
    }
  } else {
    if (h->nm_flags & NB_NS_FLAG_B) { /* every response diagram: B = 0 */
      add_finding(m, NB_NS_RULE_B_IN_RESPONSE, NS_OFF_FLAGS_LO);
    }
    if (m->qdcount != 0) { /* "Always zero (0) for responses" */
      add_finding(m, NB_NS_RULE_QUESTION_IN_RESPONSE, NS_OFF_QDCOUNT);
    }
  }
}

/* ---- per-kind rules: what each RFC 1002 4.2.x diagram fixes ----------- */

#define F_AA NB_NS_FLAG_AA
#define F_TC NB_NS_FLAG_TC
#define F_RD NB_NS_FLAG_RD
#define F_RA NB_NS_FLAG_RA
#define ANY_LEN (-1)

typedef struct {
  uint8_t section; /* nb_ns_section_t; the first record of it is checked */
  uint16_t rrtype;
  int32_t rdlength; /* ANY_LEN: not fixed by the diagram */
  bool ttl_zero;    /* the diagram prints TTL 0x00000000 */
} rec_rule_t;

typedef struct {
  bool defined;
  uint8_t must;      /* AA/TC/RD/RA bits the diagram sets */
  uint8_t may;       /* AA/TC/RD/RA bits it leaves open */
  uint8_t counts[4]; /* QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT */
  uint16_t qtype;    /* 0: not checked here */
  uint8_t rcodes;    /* negative kinds: allowed RCODEs, bit n = RCODE n */
  bool ar_pointer;   /* 4.2.2, 4.2.9: AR RR_NAME must point to offset 12 */
  bool reg_response; /* 4.2.5-4.2.8: response opcode 5 */
  uint8_t nrec;
  rec_rule_t rec[2];
} kind_rule_t;

#define AN NB_NS_SECTION_ANSWER
#define NS NB_NS_SECTION_AUTHORITY
#define AR NB_NS_SECTION_ADDITIONAL
#define RC(n) (uint8_t)(1u << (n))
#define NO_REC                                                                 \
  { 0, 0, 0, false }
/* clang-format off */
#define REQ_AR(must_, may_, ar_ptr_, ttl0_)                                    \
  {true, must_, may_, {1, 0, 0, 1}, NB_NS_TYPE_NB, 0, ar_ptr_, false, 1,       \
   {{AR, NB_NS_TYPE_NB, 6, ttl0_}, NO_REC}}
#define RESP_NB(must_, rcodes_, reg_, ttl0_)                                   \
  {true, must_, 0, {0, 1, 0, 0}, 0, rcodes_, false, reg_, 1,                   \
   {{AN, NB_NS_TYPE_NB, 6, ttl0_}, NO_REC}}

/* Columns: defined, must, may, counts, qtype, rcodes, ar_pointer,
 * reg_response, nrec, records. */
static const kind_rule_t kind_rules[NB_NS_KIND_COUNT_] = {
  /* 4.2.2: |0|0x5|0|0|1|0|0 0|B|, AR name a pointer */
  [NB_NS_KIND_REGISTRATION_REQUEST] = REQ_AR(F_RD, 0, true, false),
  /* 4.2.3: RD = 0 */
  [NB_NS_KIND_OVERWRITE_REQUEST] = REQ_AR(0, 0, false, false),
  /* 4.2.4: RD = 0 */
  [NB_NS_KIND_REFRESH_REQUEST] = REQ_AR(0, 0, false, false),
  /* no diagram: the shape of 4.2.2; Windows and Samba set RD */
  [NB_NS_KIND_MULTIHOMED_REQUEST] = REQ_AR(0, F_RD, false, false),
  /* 4.2.9: TTL 0x00000000, AR name a pointer */
  [NB_NS_KIND_RELEASE_REQUEST] = REQ_AR(0, 0, true, true),
  /* 4.2.5-4.2.8: |1|0x5|1|0|1|1|0 0|0| (challenge: RA 0), 4.2.8: TTL 0 */
  [NB_NS_KIND_POS_REGISTRATION_RESPONSE] =
      RESP_NB(F_AA | F_RD | F_RA, 0, true, false),
  [NB_NS_KIND_NEG_REGISTRATION_RESPONSE] =
      RESP_NB(F_AA | F_RD | F_RA, RC(1) | RC(2) | RC(4) | RC(5) | RC(6),
              true, false),
  [NB_NS_KIND_CHALLENGE_RESPONSE] = RESP_NB(F_AA | F_RD, 0, true, false),
  [NB_NS_KIND_CONFLICT_DEMAND] = RESP_NB(F_AA | F_RD | F_RA, 0, true, true),
  /* 4.2.10, 4.2.11: |1|0x6|1|0|0|0|0 0|0| */
  [NB_NS_KIND_POS_RELEASE_RESPONSE] = RESP_NB(F_AA, 0, false, false),
  [NB_NS_KIND_NEG_RELEASE_RESPONSE] =
      RESP_NB(F_AA, RC(1) | RC(2) | RC(5) | RC(6), false, false),
  /* 4.2.12: |0|0x0|0|0|1|0|0 0|B| */
  [NB_NS_KIND_QUERY_REQUEST] =
      {true, F_RD, 0, {1, 0, 0, 0}, NB_NS_TYPE_NB, 0, false, false, 0,
       {NO_REC, NO_REC}},
  /* 4.2.13: |1|0x0|1|T|1|?|0 0|0| */
  [NB_NS_KIND_POS_QUERY_RESPONSE] =
      {true, F_AA | F_RD, F_TC | F_RA, {0, 1, 0, 0}, 0, 0, false, false, 1,
       {{AN, NB_NS_TYPE_NB, ANY_LEN, false}, NO_REC}},
  /* 4.2.14: |1|0x0|1|0|1|?|0 0|0|; ANCOUNT is printed 0 but an RR follows:
   * an erratum, senders (nmbd) use 1. NULL, TTL 0, RDLENGTH 0. */
  [NB_NS_KIND_NEG_QUERY_RESPONSE] =
      {true, F_AA | F_RD, F_RA, {0, 1, 0, 0}, 0,
       RC(1) | RC(2) | RC(3) | RC(4) | RC(5), false, false, 1,
       {{AN, NB_NS_TYPE_NULL, 0, true}, NO_REC}},
  /* 4.2.15: |1|0x0|0|0|1|0|0 0|0|, authority NS then additional A */
  [NB_NS_KIND_REDIRECT_RESPONSE] =
      {true, F_RD, 0, {0, 0, 1, 1}, 0, 0, false, false, 2,
       {{NS, NB_NS_TYPE_NS, ANY_LEN, false}, {AR, NB_NS_TYPE_A, 4, false}}},
  /* 4.2.16: |1|0x7|1|0|0|0|0 0|0|, NULL (the diagram's 0x0020 is a typo),
   * RDLENGTH 2 */
  [NB_NS_KIND_WACK] =
      {true, F_AA, 0, {0, 1, 0, 0}, 0, 0, false, false, 1,
       {{AN, NB_NS_TYPE_NULL, 2, false}, NO_REC}},
  /* 4.2.17: |0|0x0|0|0|0|0|0 0|B| */
  [NB_NS_KIND_STATUS_REQUEST] =
      {true, 0, 0, {1, 0, 0, 0}, NB_NS_TYPE_NBSTAT, 0, false, false, 0,
       {NO_REC, NO_REC}},
  /* 4.2.18: |1|0x0|1|0|0|0|0 0|0|, TTL 0 */
  [NB_NS_KIND_STATUS_RESPONSE] =
      {true, F_AA, 0, {0, 1, 0, 0}, 0, 0, false, false, 1,
       {{AN, NB_NS_TYPE_NBSTAT, ANY_LEN, true}, NO_REC}},
};
/* clang-format on */

static void check_kind_flags(nb_ns_msg_t *m, const kind_rule_t *k) {
  /* In requests AA and RA are reported by header_findings already. */
  uint8_t considered =
      m->hdr.response ? (F_AA | F_TC | F_RD | F_RA) : (F_TC | F_RD);
  uint8_t f = (uint8_t)(m->hdr.nm_flags & considered);
  uint8_t must = (uint8_t)(k->must & considered);
  if ((f & must) != must || (f & (uint8_t) ~(k->must | k->may)) != 0) {
    add_finding(m, NB_NS_RULE_FLAGS_FOR_KIND, NS_OFF_FLAGS_HI);
  }
}

static void check_kind_counts(nb_ns_msg_t *m, const kind_rule_t *k) {
  const uint16_t c[4] = {m->qdcount, m->ancount, m->nscount, m->arcount};
  /* QDCOUNT 0 in a request and > 0 in a response are header findings. */
  size_t first = m->hdr.response ? 1 : (m->qdcount == 0 ? 1 : 0);
  for (size_t i = first; i < 4; i++) {
    if (c[i] != k->counts[i]) {
      add_finding(m, NB_NS_RULE_COUNTS_FOR_KIND, NS_OFF_QDCOUNT + 2 * i);
      return;
    }
  }
}

/* The first record of `section`, or NULL when it has none. */
static const nb_ns_rr_t *first_rr(const nb_ns_msg_t *m, unsigned section) {
  return section == AN   ? nb_ns_answer(m, 0)
         : section == NS ? nb_ns_authority(m, 0)
                         : nb_ns_additional(m, 0);
}

static void check_kind_record(nb_ns_msg_t *m, const rec_rule_t *e) {
  const nb_ns_rr_t *rr = first_rr(m, e->section);
  if (rr == NULL) {
    return; /* already a COUNTS_FOR_KIND finding */
  }
  if (rr->rrtype != e->rrtype) {
    add_finding(m, NB_NS_RULE_RRTYPE_FOR_KIND, rr->rdata_offset - 10);
  }
  if (e->ttl_zero && rr->ttl != 0) {
    add_finding(m, NB_NS_RULE_TTL_NOT_ZERO, rr->rdata_offset - 6);
  }
  if (e->rdlength != ANY_LEN && rr->rdlength != (uint16_t)e->rdlength) {
    add_finding(m, NB_NS_RULE_RDLENGTH_FOR_KIND, rr->rdata_offset - 2);
  }
}

/* 4.2.2 / 4.2.9: the additional RR_NAME is the QUESTION_NAME, written as a
 * label pointer to it (offset 12). */
static void check_ar_name(nb_ns_msg_t *m, const kind_rule_t *k) {
  const nb_ns_rr_t *ar = nb_ns_additional(m, 0);
  if (ar == NULL || m->qdcount == 0 || ar->rrname.form == NB_NS_NAME_NULL) {
    return;
  }
  if (k->ar_pointer && (ar->rrname.form != NB_NS_NAME_POINTER ||
                        ar->rrname.ptr != NB_NS_HEADER_LEN)) {
    add_finding(m, NB_NS_RULE_AR_NAME_NOT_POINTER, ar->offset);
  }
  if (!nb_name_equal(&ar->rrname.name, &m->qd[0].qname.name)) {
    add_finding(m, NB_NS_RULE_AR_NAME_DIFFERS, ar->offset);
  }
}

static void check_null_names(nb_ns_msg_t *m) {
  size_t all = (size_t)m->ancount + m->nscount + m->arcount;
  for (size_t i = 0; i < all; i++) {
    if (m->rr[i].rrname.form == NB_NS_NAME_NULL) {
      add_finding(m, NB_NS_RULE_NULL_NAME, m->rr[i].offset);
    }
  }
}

static void kind_findings(nb_ns_msg_t *m) {
  const kind_rule_t *k = &kind_rules[m->kind];
  if (m->kind != NB_NS_KIND_WACK) {
    check_null_names(m);
  }
  if (!k->defined) { /* UNKNOWN: say so unless the opcode already did */
    if (opcode_known(m->hdr.opcode)) {
      add_finding(m, NB_NS_RULE_UNKNOWN_KIND, NS_OFF_FLAGS_HI);
    }
    return;
  }
  check_kind_flags(m, k);
  if (k->rcodes != 0 && (m->hdr.rcode > 7 || !(k->rcodes & RC(m->hdr.rcode)))) {
    add_finding(m, NB_NS_RULE_RCODE_FOR_KIND, NS_OFF_FLAGS_LO);
  }
  if (k->reg_response && m->hdr.opcode != NB_NS_OPCODE_REGISTRATION) {
    add_finding(m, NB_NS_RULE_RESPONSE_OPCODE, NS_OFF_FLAGS_HI);
  }
  check_kind_counts(m, k);
  if (k->qtype != 0 && m->qdcount > 0 && m->qd[0].qtype != k->qtype &&
      (m->qd[0].qtype == NB_NS_TYPE_NB ||
       m->qd[0].qtype == NB_NS_TYPE_NBSTAT)) {
    add_finding(m, NB_NS_RULE_QTYPE_FOR_KIND, m->qd[0].offset);
  }
  for (size_t i = 0; i < k->nrec; i++) {
    check_kind_record(m, &k->rec[i]);
  }
  if (k->counts[3] == 1 && !m->hdr.response) {
    check_ar_name(m, k);
  }
}

/* Findings in offset order (stable: equal offsets keep detection order). */
static void sort_findings(nb_ns_msg_t *m) {
  for (size_t i = 1; i < m->nfindings; i++) {
    nb_ns_finding_t f = m->findings[i];
    size_t j = i;
    for (; j > 0 && m->findings[j - 1].offset > f.offset; j--) {
      m->findings[j] = m->findings[j - 1];
    }
    m->findings[j] = f;
  }
}

/* What the parser does not overwrite. Entries past the counts are left as
 * they were (nb/ns.h: unspecified): zeroing the whole 6 KiB model cost
 * half the parse time (bench/ns_parse.c, request from nstools). */
static void parse_init(nb_ns_msg_t *m) {
  memset(&m->hdr, 0, sizeof m->hdr);
  m->qdcount = 0;
  m->ancount = 0;
  m->nscount = 0;
  m->arcount = 0;
  m->trailing = NULL;
  m->trailing_len = 0;
  m->kind = NB_NS_KIND_UNKNOWN;
  m->len = 0;
  m->nfindings = 0;
  m->findings_overflow = false;
}

nb_err_t nb_ns_parse(const uint8_t *buf, size_t len, nb_ns_msg_t *out,
                     nb_diag_t *diag) {
  ns_parser_t p;
  parse_init(out);
  if (buf == NULL && len > 0) {
    return nb_diag_set(diag, NB_EINVAL, 0, "buffer (NULL with a length)");
  }
  nb_rd_init(&p.r, buf, len);
  p.m = out;
  p.diag = diag;
  nb_err_t err = parse_header(&p);
  if (err == NB_OK) {
    err = check_counts(&p);
  }
  if (err == NB_OK) {
    err = parse_sections(&p);
  }
  if (err != NB_OK) {
    return err;
  }
  out->trailing_len = nb_rd_left(&p.r);
  if (out->trailing_len > 0) {
    add_finding(out, NB_NS_RULE_TRAILING_BYTES, p.r.pos);
    (void)nb_rd_bytes(&p.r, out->trailing_len, &out->trailing);
  }
  out->len = len;
  header_findings(out);
  out->kind = nb_ns_classify(out);
  kind_findings(out);
  sort_findings(out);
  return NB_OK;
}
