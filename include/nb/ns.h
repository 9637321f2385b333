/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NB_NS_H
#define NB_NS_H

/* The name-service packet codec (UDP/TCP 137; RFC 1002 4.2).
 *
 * Three parts, all pure functions over bytes, no heap:
 *  - nb_ns_parse(): bytes -> nb_ns_msg_t. Two levels of judgement are
 *    reported separately: a fatal error (nb_err_t + nb_diag_t: offset and
 *    field) when the bytes cannot be a name-service packet, and conformance
 *    findings (m->findings) on a packet that parses but breaks an RFC rule.
 *  - nb_ns_classify(): names the packet kind of RFC 1002 4.2.2-4.2.18 (plus
 *    the multi-homed registration, opcode 0xF) from opcode, flags, rcode,
 *    counts and record types.
 *  - nb_ns_write() for the generic model, and nb_ns_build() (with per-kind
 *    wrappers) for every kind from a small args struct.
 *
 * Ownership. The caller owns the nb_ns_msg_t (about 6 KiB; fixed capacity,
 * see the NB_NS_MAX_* caps). Names are copied into inline nb_name_t storage.
 * RDATA and trailing bytes are BORROWED: `rr->rdata` and `m->trailing`
 * point into the parsed buffer and are valid while that buffer is. The
 * typed RDATA views (`rr->nb_count`, `rr->nbstat_names`, `rr->a_addr`,
 * `rr->nsd`, ...) are filled by the parser from the raw RDATA; the writer
 * writes the raw RDATA and ignores them.
 *
 * Round trips. parse(write(m)) == m (nb_ns_msg_equal) for every model the
 * writer accepts: the writer checks that every compression pointer it emits
 * resolves to the recorded name and that every RDATA parses as its type.
 * write(parse(b)) == b for every packet that parses: each name records
 * whether it was written in full, as labels ending in a compression pointer
 * (how many labels, and the target offset), or as the null name; trailing
 * bytes are kept. See docs/CONFORMANCE.md "Name-service packets".
 *
 * Flag conventions of the builders (RFC 1002 is ambiguous; the choices are
 * explicit and documented in docs/CONFORMANCE.md):
 *  - POSITIVE / NEGATIVE NAME QUERY RESPONSE: AA|RD (0x8500, Windows XP) by
 *    default; `args.ra` adds RA (0x8580, Samba nmbd). 4.2.13 leaves RA open,
 *    4.2.15 says end nodes set RA, 4.2.1.1 allows RA only from an NBNS.
 *  - NODE STATUS RESPONSE: AA only (0x8400), as Windows and Samba send.
 *  - the additional-record name of registration, overwrite, refresh,
 *    multi-homed and release requests is the pointer C0 0C to the question
 *    name at offset 12 (4.2.2 and 4.2.9 require it; for overwrite and
 *    refresh the RFC is silent and Windows and Samba use the same pointer).
 *  - WACK: RR type NULL 0x000A (4.2.16's diagram prints 0x0020: a typo;
 *    nmbd sends 0x000A).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nb/err.h"
#include "nb/name.h"
#include "nb/wire.h"

/* ---- wire constants (RFC 1002 4.2.1) ---------------------------------- */

#define NB_NS_PORT 137
#define NB_NS_HEADER_LEN 12
#define NB_NS_UDP_MAX 576 /* RFC 1002 4.2.1.1 TC: datagrams over 576 bytes */

/* OPCODE (RFC 1002 4.2.1.1), the 4 bits after R. */
#define NB_NS_OPCODE_QUERY 0x0
#define NB_NS_OPCODE_REGISTRATION 0x5
#define NB_NS_OPCODE_RELEASE 0x6
#define NB_NS_OPCODE_WACK 0x7
#define NB_NS_OPCODE_REFRESH 0x8
#define NB_NS_OPCODE_REFRESH_ALT 0x9 /* 4.2.4's diagram; Samba accepts both */
#define NB_NS_OPCODE_MULTIHOMED 0xF  /* Microsoft/Samba extension */

/* NM_FLAGS (RFC 1002 4.2.1.1): bits of the 7-bit field |AA|TC|RD|RA|0|0|B|
 * as stored in nb_ns_header_t.nm_flags. */
#define NB_NS_FLAG_AA 0x40u
#define NB_NS_FLAG_TC 0x20u
#define NB_NS_FLAG_RD 0x10u
#define NB_NS_FLAG_RA 0x08u
#define NB_NS_FLAG_RESERVED 0x06u /* must be zero */
#define NB_NS_FLAG_B 0x01u

/* RCODE (RFC 1002 4.2.6, 4.2.11, 4.2.14). A wire code, not an nb_err_t. */
typedef enum nb_ns_rcode {
  NB_NS_RCODE_OK = 0,
  NB_NS_RCODE_FMT_ERR = 1, /* format error */
  NB_NS_RCODE_SRV_ERR = 2, /* server failure */
  NB_NS_RCODE_NAM_ERR = 3, /* name does not exist (queries) */
  NB_NS_RCODE_IMP_ERR = 4, /* unsupported request */
  NB_NS_RCODE_RFS_ERR = 5, /* refused */
  NB_NS_RCODE_ACT_ERR = 6, /* name active / owned by another node */
  NB_NS_RCODE_CFT_ERR = 7  /* name in conflict */
} nb_ns_rcode_t;

/* "OK", "FMT_ERR", ... "CFT_ERR"; "UNKNOWN" for other values. Never NULL. */
NB_API const char *nb_ns_rcode_name(unsigned rcode);

/* QUESTION_TYPE / RR_TYPE and CLASS (RFC 1002 4.2.1.2, 4.2.1.3). */
#define NB_NS_TYPE_A 0x0001
#define NB_NS_TYPE_NS 0x0002
#define NB_NS_TYPE_NULL 0x000A
#define NB_NS_TYPE_NB 0x0020
#define NB_NS_TYPE_NBSTAT 0x0021
#define NB_NS_CLASS_IN 0x0001

/* NB_FLAGS of an NB RDATA entry (RFC 1002 4.2.1.3): |G|ONT|reserved 13|. */
#define NB_NS_NB_G 0x8000u
#define NB_NS_NB_ONT_MASK 0x6000u
#define NB_NS_NB_RESERVED 0x1FFFu
/* Owner node type, already shifted into NB_FLAGS / NAME_FLAGS position. */
#define NB_NS_ONT_B 0x0000u
#define NB_NS_ONT_P 0x2000u
#define NB_NS_ONT_M 0x4000u
#define NB_NS_ONT_H                                                            \
  0x6000u /* RFC: "11 = reserved"; Microsoft: H node.                          \
             Decoded, and reported as an extension. */

/* NAME_FLAGS of a NODE STATUS entry (RFC 1002 4.2.18). */
#define NB_NS_NAME_G 0x8000u
#define NB_NS_NAME_ONT_MASK 0x6000u
#define NB_NS_NAME_DRG 0x1000u
#define NB_NS_NAME_CNF 0x0800u
#define NB_NS_NAME_ACT 0x0400u
#define NB_NS_NAME_PRM 0x0200u
#define NB_NS_NAME_RESERVED 0x01FFu

#define NB_NS_NB_ENTRY_LEN 6      /* NB_FLAGS + NB_ADDRESS */
#define NB_NS_NBSTAT_ENTRY_LEN 18 /* 16 name bytes + NAME_FLAGS */
#define NB_NS_STATISTICS_LEN 46   /* RFC 1002 4.2.18 STATISTICS */

/* ---- capacities of the parsed model ----------------------------------- */

/* A packet with more entries than these fails with NB_ELIMIT at the count
 * field's offset (never silently truncated). Real senders use 1 question
 * and at most 2 records (REDIRECT: NS + A). */
#define NB_NS_MAX_QUESTIONS 4
#define NB_NS_MAX_RRS 8       /* answer + authority + additional */
#define NB_NS_MAX_FINDINGS 16 /* more set m->findings_overflow */

/* ---- the model -------------------------------------------------------- */

/* How a name appeared on the wire (so that round trips are exact). */
typedef enum nb_ns_name_form {
  NB_NS_NAME_FULL = 0,    /* every label in place, then the zero byte */
  NB_NS_NAME_POINTER = 1, /* `ptr_labels` labels in place, then one
                             compression pointer to `ptr` (RFC 883); the
                             usual C0 0C has ptr_labels 0 */
  NB_NS_NAME_NULL = 2     /* the null name, one zero byte (WACK, 4.2.16);
                             accepted in RR_NAME only; `name` is zeroed */
} nb_ns_name_form_t;

typedef struct nb_ns_name {
  nb_name_t name;         /* the decoded name (pointers followed) */
  nb_ns_name_form_t form; /* how it was / is to be written */
  uint16_t ptr;           /* NB_NS_NAME_POINTER: target offset (< 0x4000),
                             relative to the start of the message */
  uint8_t ptr_labels;     /* NB_NS_NAME_POINTER: labels before the pointer:
                             0 = only the pointer; 1 = the 32-byte first
                             label, then a pointer to the scope; k = the
                             first label and k-1 scope labels */
} nb_ns_name_t;

typedef struct nb_ns_header {
  uint16_t trn_id;  /* NAME_TRN_ID */
  bool response;    /* R */
  uint8_t opcode;   /* 0..15 */
  uint8_t nm_flags; /* NB_NS_FLAG_* bits, 0..0x7F */
  uint8_t rcode;    /* 0..15 */
} nb_ns_header_t;

typedef struct nb_ns_question {
  nb_ns_name_t qname;
  uint16_t qtype;  /* QUESTION_TYPE */
  uint16_t qclass; /* QUESTION_CLASS */
  size_t offset;   /* parse only: offset of QUESTION_NAME */
} nb_ns_question_t;

typedef enum nb_ns_section {
  NB_NS_SECTION_ANSWER = 0,
  NB_NS_SECTION_AUTHORITY = 1,
  NB_NS_SECTION_ADDITIONAL = 2
} nb_ns_section_t;

typedef struct nb_ns_rr {
  nb_ns_section_t section; /* filled by the parser; the writer uses the
                              ancount/nscount/arcount split instead */
  nb_ns_name_t rrname;
  uint16_t rrtype;
  uint16_t rrclass;
  uint32_t ttl;
  uint16_t rdlength;    /* RDLENGTH: bytes at `rdata` */
  const uint8_t *rdata; /* BORROWED: valid while the parsed buffer is (or
                           the caller's bytes, when writing) */
  size_t offset;        /* parse only: offset of RR_NAME */
  size_t rdata_offset;  /* parse only: offset of RDATA */

  /* Typed views, filled by the parser from `rdata` (RFC 1002 4.2.1.3);
   * left zero in a WACK, whose RDATA is the request's header word
   * whatever RR_TYPE says: */
  uint16_t nb_count;     /* NB: number of 6-byte entries (nb_ns_nb_entry) */
  uint8_t nbstat_names;  /* NBSTAT: NUM_NAMES (nb_ns_nbstat_entry) */
  uint16_t nbstat_stats; /* NBSTAT: STATISTICS bytes present, 0..46 */
  uint32_t a_addr;       /* A: NSD_IP_ADDR, host byte order */
  nb_ns_name_t nsd;      /* NS: NSD_NAME */
} nb_ns_rr_t;

/* Conformance rules. X(id, rfc section, text). The text says what the
 * packet did; the section is the rule it breaks. */
#define NB_NS_RULE_MAP(XX)                                                     \
  XX(UNKNOWN_KIND, "RFC 1002 4.2.1.1",                                         \
     "opcode/R/flags/rcode match no RFC 1002 4.2 packet kind")                 \
  XX(UNKNOWN_OPCODE, "RFC 1002 4.2.1.1",                                       \
     "OPCODE not 0, 5, 6, 7, 8 (or 9, 15)")                                    \
  XX(RESERVED_FLAGS, "RFC 1002 4.2.1.1",                                       \
     "reserved NM_FLAGS bits (0 0 between RA and B) are set")                  \
  XX(AA_IN_REQUEST, "RFC 1002 4.2.1.1", "AA set in a request (R=0)")           \
  XX(RA_IN_REQUEST, "RFC 1002 4.2.1.1", "RA set in a request (R=0)")           \
  XX(B_IN_RESPONSE, "RFC 1002 4.2.5-4.2.18", "B set in a response")            \
  XX(FLAGS_FOR_KIND, "RFC 1002 4.2",                                           \
     "NM_FLAGS differ from the diagram for this packet kind")                  \
  XX(RCODE_IN_REQUEST, "RFC 1002 4.2.1.1", "a request with a non-zero RCODE")  \
  XX(RCODE_FOR_KIND, "RFC 1002 4.2", "RCODE not listed for this packet kind")  \
  XX(NO_QUESTION, "RFC 1002 4.2.1.1", "a request with QDCOUNT 0")              \
  XX(QUESTION_IN_RESPONSE, "RFC 1002 4.2.1.1", "a response with QDCOUNT > 0")  \
  XX(COUNTS_FOR_KIND, "RFC 1002 4.2",                                          \
     "section counts differ from the diagram for this packet kind")            \
  XX(QTYPE_UNKNOWN, "RFC 1002 4.2.1.2", "QUESTION_TYPE not NB or NBSTAT")      \
  XX(QTYPE_FOR_KIND, "RFC 1002 4.2",                                           \
     "QUESTION_TYPE differs from the diagram for this packet kind")            \
  XX(QCLASS_NOT_IN, "RFC 1002 4.2.1.2", "QUESTION_CLASS not IN (0x0001)")      \
  XX(RRTYPE_UNKNOWN, "RFC 1002 4.2.1.3",                                       \
     "RR_TYPE not A, NS, NULL, NB or NBSTAT")                                  \
  XX(RRTYPE_FOR_KIND, "RFC 1002 4.2",                                          \
     "RR_TYPE differs from the diagram for this packet kind")                  \
  XX(RRCLASS_NOT_IN, "RFC 1002 4.2.1.3", "RR_CLASS not IN (0x0001)")           \
  XX(RDLENGTH_FOR_KIND, "RFC 1002 4.2",                                        \
     "RDLENGTH differs from the diagram for this packet kind")                 \
  XX(TTL_NOT_ZERO, "RFC 1002 4.2",                                             \
     "TTL not zero where the diagram says 0x00000000")                         \
  XX(NULL_NAME, "RFC 1002 4.2.16", "null RR_NAME outside a WACK response")     \
  XX(AR_NAME_NOT_POINTER, "RFC 1002 4.2.2",                                    \
     "additional RR_NAME not a label pointer to QUESTION_NAME")                \
  XX(AR_NAME_DIFFERS, "RFC 1002 4.2.2",                                        \
     "additional RR_NAME is not the QUESTION_NAME")                            \
  XX(NB_FLAGS_RESERVED, "RFC 1002 4.2.1.3",                                    \
     "NB_FLAGS reserved bits (3-15) are set")                                  \
  XX(ONT_H_EXTENSION, "RFC 1002 4.2.1.3",                                      \
     "ONT 11 (reserved; Microsoft H node)")                                    \
  XX(NAME_FLAGS_RESERVED, "RFC 1002 4.2.18",                                   \
     "NAME_FLAGS reserved bits (7-15) are set")                                \
  XX(NAME_FLAGS_NOT_ACT, "RFC 1002 4.2.18",                                    \
     "NODE_NAME entry without the ACT flag")                                   \
  XX(STATISTICS_SHORT, "RFC 1002 4.2.18", "STATISTICS shorter than 46 bytes")  \
  XX(RDATA_TRAILING, "RFC 1002 4.2.1.3",                                       \
     "bytes left in RDATA after its contents")                                 \
  XX(RESPONSE_OPCODE, "RFC 1002 4.2.5",                                        \
     "registration response with an opcode other than 5")                      \
  XX(TRAILING_BYTES, "RFC 1002 4.2.1", "bytes after the last resource record")

typedef enum nb_ns_rule {
#define NB_NS_RULE_ENUM_(id, rfc, text) NB_NS_RULE_##id,
  NB_NS_RULE_MAP(NB_NS_RULE_ENUM_)
#undef NB_NS_RULE_ENUM_
      NB_NS_RULE_COUNT_
} nb_ns_rule_t;

/* "TRAILING_BYTES", ... Never NULL ("UNKNOWN" for bad values). */
NB_API const char *nb_ns_rule_name(nb_ns_rule_t rule);
/* "RFC 1002 4.2.1", ... Never NULL. */
NB_API const char *nb_ns_rule_rfc(nb_ns_rule_t rule);
/* The static text of the rule. Never NULL. */
NB_API const char *nb_ns_rule_text(nb_ns_rule_t rule);

typedef struct nb_ns_finding {
  nb_ns_rule_t rule;
  size_t offset;    /* byte the finding is about, from the message start */
  const char *rfc;  /* static: nb_ns_rule_rfc(rule) */
  const char *text; /* static: nb_ns_rule_text(rule) */
} nb_ns_finding_t;

/* Packet kinds (RFC 1002 4.2.2-4.2.18 and the multi-homed registration).
 * X(id, RFC title, identifier for tools, RFC section). */
#define NB_NS_KIND_MAP(XX)                                                     \
  XX(UNKNOWN, "UNKNOWN", "unknown", "RFC 1002 4.2.1")                          \
  XX(REGISTRATION_REQUEST, "NAME REGISTRATION REQUEST", "registration",        \
     "RFC 1002 4.2.2")                                                         \
  XX(OVERWRITE_REQUEST, "NAME OVERWRITE REQUEST & DEMAND", "overwrite",        \
     "RFC 1002 4.2.3")                                                         \
  XX(REFRESH_REQUEST, "NAME REFRESH REQUEST", "refresh", "RFC 1002 4.2.4")     \
  XX(MULTIHOMED_REQUEST, "MULTI-HOMED NAME REGISTRATION REQUEST",              \
     "multihomed", "RFC 1002 4.2.2 (opcode 0xF extension)")                    \
  XX(POS_REGISTRATION_RESPONSE, "POSITIVE NAME REGISTRATION RESPONSE",         \
     "pos-registration", "RFC 1002 4.2.5")                                     \
  XX(NEG_REGISTRATION_RESPONSE, "NEGATIVE NAME REGISTRATION RESPONSE",         \
     "neg-registration", "RFC 1002 4.2.6")                                     \
  XX(CHALLENGE_RESPONSE, "END-NODE CHALLENGE REGISTRATION RESPONSE",           \
     "challenge", "RFC 1002 4.2.7")                                            \
  XX(CONFLICT_DEMAND, "NAME CONFLICT DEMAND", "conflict", "RFC 1002 4.2.8")    \
  XX(RELEASE_REQUEST, "NAME RELEASE REQUEST & DEMAND", "release",              \
     "RFC 1002 4.2.9")                                                         \
  XX(POS_RELEASE_RESPONSE, "POSITIVE NAME RELEASE RESPONSE", "pos-release",    \
     "RFC 1002 4.2.10")                                                        \
  XX(NEG_RELEASE_RESPONSE, "NEGATIVE NAME RELEASE RESPONSE", "neg-release",    \
     "RFC 1002 4.2.11")                                                        \
  XX(QUERY_REQUEST, "NAME QUERY REQUEST", "query", "RFC 1002 4.2.12")          \
  XX(POS_QUERY_RESPONSE, "POSITIVE NAME QUERY RESPONSE", "pos-query",          \
     "RFC 1002 4.2.13")                                                        \
  XX(NEG_QUERY_RESPONSE, "NEGATIVE NAME QUERY RESPONSE", "neg-query",          \
     "RFC 1002 4.2.14")                                                        \
  XX(REDIRECT_RESPONSE, "REDIRECT NAME QUERY RESPONSE", "redirect",            \
     "RFC 1002 4.2.15")                                                        \
  XX(WACK, "WAIT FOR ACKNOWLEDGEMENT (WACK) RESPONSE", "wack",                 \
     "RFC 1002 4.2.16")                                                        \
  XX(STATUS_REQUEST, "NODE STATUS REQUEST", "status", "RFC 1002 4.2.17")       \
  XX(STATUS_RESPONSE, "NODE STATUS RESPONSE", "status-response",               \
     "RFC 1002 4.2.18")

typedef enum nb_ns_kind {
#define NB_NS_KIND_ENUM_(id, title, ident, rfc) NB_NS_KIND_##id,
  NB_NS_KIND_MAP(NB_NS_KIND_ENUM_)
#undef NB_NS_KIND_ENUM_
      NB_NS_KIND_COUNT_
} nb_ns_kind_t;

/* The RFC title ("NAME QUERY REQUEST"). Never NULL. */
NB_API const char *nb_ns_kind_name(nb_ns_kind_t kind);
/* A lower-case identifier for tools and JSON ("query", "pos-query",
 * "status-response", ...). Never NULL. */
NB_API const char *nb_ns_kind_ident(nb_ns_kind_t kind);
/* The defining RFC section ("RFC 1002 4.2.12"). Never NULL. */
NB_API const char *nb_ns_kind_rfc(nb_ns_kind_t kind);
/* The kind whose identifier is `ident` (exact match), or
 * NB_NS_KIND_UNKNOWN. */
NB_API nb_ns_kind_t nb_ns_kind_from_ident(const char *ident);

typedef struct nb_ns_msg {
  nb_ns_header_t hdr;
  /* Entries in wire order. The header counts written are qdcount and
   * ancount/nscount/arcount, and rr[0..ancount) are the answers,
   * rr[ancount..ancount+nscount) the authority records, then the
   * additional records. */
  uint16_t qdcount;
  uint16_t ancount;
  uint16_t nscount;
  uint16_t arcount;
  nb_ns_question_t qd[NB_NS_MAX_QUESTIONS];
  nb_ns_rr_t rr[NB_NS_MAX_RRS];
  /* Bytes after the last record (Windows XP's node status response has
   * 18). BORROWED; written back by nb_ns_write(). */
  const uint8_t *trailing;
  size_t trailing_len;

  /* Filled by nb_ns_parse(); ignored by nb_ns_write(): */
  nb_ns_kind_t kind; /* nb_ns_classify() of the parsed packet */
  size_t len;        /* bytes parsed, trailing included */
  uint8_t nfindings;
  bool findings_overflow; /* more findings than NB_NS_MAX_FINDINGS */
  nb_ns_finding_t findings[NB_NS_MAX_FINDINGS];
} nb_ns_msg_t;

/* Zero `m` (no questions, no records, kind UNKNOWN). */
NB_API void nb_ns_msg_init(nb_ns_msg_t *m);

/* The second header word: R, OPCODE, NM_FLAGS, RCODE as on the wire
 * (e.g. 0x2910 for a broadcast registration request). */
NB_API uint16_t nb_ns_flags_word(const nb_ns_header_t *h);
/* Split a second header word into `h` (trn_id untouched). */
NB_API void nb_ns_set_flags_word(nb_ns_header_t *h, uint16_t word);

/* The i-th record of a section, or NULL when out of range. */
NB_API const nb_ns_rr_t *nb_ns_answer(const nb_ns_msg_t *m, size_t i);
NB_API const nb_ns_rr_t *nb_ns_authority(const nb_ns_msg_t *m, size_t i);
NB_API const nb_ns_rr_t *nb_ns_additional(const nb_ns_msg_t *m, size_t i);

/* ---- parsing ---------------------------------------------------------- */

/* WARNING: parses untrusted network data.
 *
 * Parse one name-service packet (a UDP payload, or a TCP message without
 * its 16-bit length prefix) of `len` bytes into `out`. On success returns
 * NB_OK; `out` borrows RDATA and trailing bytes from `buf`, its findings
 * say which RFC rules the packet breaks, and out->kind is its kind. On
 * failure returns the error (NB_ETRUNCATED, NB_EMALFORMED, NB_ELIMIT;
 * NB_EINVAL for a NULL `buf` with a non-zero `len`) and
 * fills `diag` (may be NULL) with the offset and field; `out` is then
 * unspecified. No heap is used; work is linear in `len` (names are capped
 * by nb_name_decode's hop and length limits). */
NB_API nb_err_t nb_ns_parse(const uint8_t *buf, size_t len, nb_ns_msg_t *out,
                            nb_diag_t *diag);

/* The kind of a message from its header, counts, question type and record
 * types (see docs/CONFORMANCE.md for the decision table). Responses with
 * opcode 8, 9 or 0xF are registration responses (RFC 1002 5.1.2: a refresh
 * is answered by a NAME REGISTRATION RESPONSE). */
NB_API nb_ns_kind_t nb_ns_classify(const nb_ns_msg_t *m);

/* Model equality for round trips: header, counts, names (bytes, scope,
 * form and pointer), types, classes, TTLs, RDATA contents and trailing
 * bytes. Offsets, typed views, kind and findings are derived and ignored. */
NB_API bool nb_ns_msg_equal(const nb_ns_msg_t *a, const nb_ns_msg_t *b);

/* ---- typed RDATA accessors -------------------------------------------- */

/* One NB RDATA entry (RFC 1002 4.2.1.3, 4.2.13 ADDR_ENTRY). */
typedef struct nb_ns_nb_entry {
  uint16_t nb_flags; /* NB_NS_NB_* bits */
  uint32_t addr;     /* NB_ADDRESS, host byte order (10.0.0.1 = 0x0a000001) */
} nb_ns_nb_entry_t;

/* Entry `i` (< rr->nb_count) of an NB record. NB_EINVAL for other types or
 * an index out of range. */
NB_API nb_err_t nb_ns_nb_entry(const nb_ns_rr_t *rr, size_t i,
                               nb_ns_nb_entry_t *out);

/* One NODE_NAME entry of an NBSTAT record (RFC 1002 4.2.18). */
typedef struct nb_ns_nbstat_entry {
  uint8_t name[NB_NAME_BYTES]; /* 15 bytes + suffix, raw (not encoded) */
  uint16_t name_flags;         /* NB_NS_NAME_* bits */
} nb_ns_nbstat_entry_t;

/* Entry `i` (< rr->nbstat_names). NB_EINVAL for other types or an index
 * out of range. */
NB_API nb_err_t nb_ns_nbstat_entry(const nb_ns_rr_t *rr, size_t i,
                                   nb_ns_nbstat_entry_t *out);

/* The STATISTICS field (RFC 1002 4.2.18), host byte order. */
typedef struct nb_ns_statistics {
  uint8_t unit_id[6]; /* usually the MAC address */
  uint8_t jumpers;
  uint8_t test_result;
  uint16_t version_number;
  uint16_t period_of_statistics;
  uint16_t number_of_crcs;
  uint16_t number_alignment_errors;
  uint16_t number_of_collisions;
  uint16_t number_send_aborts;
  uint32_t number_good_sends;
  uint32_t number_good_receives;
  uint16_t number_retransmits;
  uint16_t number_no_resource_conditions;
  uint16_t number_free_command_blocks;
  uint16_t total_number_command_blocks;
  uint16_t max_total_number_command_blocks;
  uint16_t number_pending_sessions;
  uint16_t max_number_pending_sessions;
  uint16_t max_total_sessions_possible;
  uint16_t session_data_packet_size;
} nb_ns_statistics_t;

/* The STATISTICS of an NBSTAT record. Fields beyond a short STATISTICS
 * (rr->nbstat_stats < 46, a finding) read as zero. NB_EINVAL for other
 * record types. */
NB_API nb_err_t nb_ns_nbstat_statistics(const nb_ns_rr_t *rr,
                                        nb_ns_statistics_t *out);

/* Write STATISTICS (46 bytes) from `s`. */
NB_API void nb_ns_statistics_encode(nb_wr_t *w, const nb_ns_statistics_t *s);

/* ---- writing ---------------------------------------------------------- */

/* Write `m` at the writer's current position (which may follow, e.g., a
 * TCP length prefix: compression pointers are relative to where the
 * message starts). Counts come from m->qdcount, ancount, nscount and
 * arcount; RDATA is written from rr->rdata/rdlength verbatim; names as
 * their form says. Fails with NB_EINVAL (and the writer's sticky error)
 * for a model that would not parse back to itself: counts over the caps,
 * header fields out of range, a pointer at or after its own position or
 * not resolving to exactly the recorded name, a null name in a question,
 * or RDATA that does not parse as its RR_TYPE. NB_ENOSPC when the buffer
 * is too small. */
NB_API nb_err_t nb_ns_write(nb_wr_t *w, const nb_ns_msg_t *m);

/* Arguments of nb_ns_build(). Zero-initialise, then set what the kind
 * uses (listed per field); other fields are ignored. */
typedef struct nb_ns_build_args {
  uint16_t trn_id;
  /* QUESTION_NAME of requests; RR_NAME of responses (all kinds but
   * WACK, where NULL gives the null name). Required otherwise. */
  const nb_name_t *name;
  /* Requests: set B (broadcast). */
  bool broadcast;
  /* TTL: registration, overwrite, refresh, multi-homed, positive
   * registration / release / query responses, challenge, negative
   * registration / release responses, WACK (seconds to wait), redirect
   * (both records). Fixed at 0 where the diagram says 0x00000000. */
  uint32_t ttl;
  /* NB_FLAGS and NB_ADDRESS (host order) of the single NB entry of
   * registration, overwrite, refresh, multi-homed, release requests and of
   * every registration and release response; the conflict demand uses
   * only the ONT bits of nb_flags and address 0 (RFC 1002 4.2.8). */
  uint16_t nb_flags;
  uint32_t addr;
  /* POSITIVE NAME QUERY RESPONSE: `entries[0..n_entries)` (n_entries may
   * be 0 for an empty ADDR_ENTRY ARRAY); when `entries` is NULL, one entry
   * from nb_flags/addr. */
  const nb_ns_nb_entry_t *entries;
  size_t n_entries;
  /* RCODE of negative registration / release / query responses (must be
   * non-zero). */
  uint8_t rcode;
  /* Query responses: add RA (Samba 0x8580 / 0x8583); default AA|RD
   * (Windows XP 0x8500). Positive query response: `truncated` sets TC. */
  bool ra;
  bool truncated;
  /* REFRESH: 8 (default when 0) or 9. Registration responses, the
   * challenge and the conflict demand: the response opcode, 5 by default
   * (nmbd answers refreshes with 5); 8, 9 or 15 echo the request's opcode
   * (a RESPONSE_OPCODE finding). Other values are NB_EINVAL. */
  uint8_t opcode;
  /* Requests with an additional record: write its RR_NAME in full rather
   * than as the pointer C0 0C (for conformance tests only). */
  bool ar_name_full;
  /* WACK: the request's second header word (R, OPCODE, NM_FLAGS); the
   * RDATA is this word with RCODE cleared (nmbd: 0x2900). */
  uint16_t wack_request_flags;
  /* NODE STATUS RESPONSE: NUM_NAMES entries and the STATISTICS (NULL: 46
   * zero bytes, as nmbd sends). At most 255 names. */
  const nb_ns_nbstat_entry_t *nbstat;
  size_t n_nbstat;
  const nb_ns_statistics_t *statistics;
  /* REDIRECT NAME QUERY RESPONSE: NSD_NAME and NSD_IP_ADDR (host order).
   * `name` is the authority RR_NAME (the domain the NBNS serves); the
   * additional A record's RR_NAME is a pointer to NSD_NAME (4.2.15). */
  const nb_name_t *nsd_name;
  uint32_t nsd_addr;
  /* Any kind: when set, the second header word is `flags_word` verbatim
   * (R, OPCODE, NM_FLAGS, RCODE), for crafting non-conformant packets. */
  bool raw_flags;
  uint16_t flags_word;
} nb_ns_build_args_t;

/* Build a packet of `kind` (not NB_NS_KIND_UNKNOWN) at the writer's
 * position. Every packet built parses back with nb_ns_parse() and
 * classifies as `kind` (unless raw_flags says otherwise); with NB_FLAGS
 * and NAME_FLAGS inside the RFC (no ONT 11, no reserved bits, ACT set) and
 * the default opcodes it carries no finding. NB_EINVAL for a missing name
 * (nsd_name for a redirect), a zero RCODE on a negative kind, CFT_ERR on a
 * negative registration response (that is the conflict demand), an opcode
 * the kind cannot take, or more than 255 NBSTAT names; NB_ENOSPC when the
 * buffer is too small. */
NB_API nb_err_t nb_ns_build(nb_wr_t *w, nb_ns_kind_t kind,
                            const nb_ns_build_args_t *a);

/* Per-kind wrappers. */
#define NB_NS_BUILDER_(fn, kind)                                               \
  static inline nb_err_t fn(nb_wr_t *w, const nb_ns_build_args_t *a) {         \
    return nb_ns_build(w, kind, a);                                            \
  }
NB_NS_BUILDER_(nb_ns_build_query, NB_NS_KIND_QUERY_REQUEST)
NB_NS_BUILDER_(nb_ns_build_status, NB_NS_KIND_STATUS_REQUEST)
NB_NS_BUILDER_(nb_ns_build_registration, NB_NS_KIND_REGISTRATION_REQUEST)
NB_NS_BUILDER_(nb_ns_build_overwrite, NB_NS_KIND_OVERWRITE_REQUEST)
NB_NS_BUILDER_(nb_ns_build_refresh, NB_NS_KIND_REFRESH_REQUEST)
NB_NS_BUILDER_(nb_ns_build_multihomed, NB_NS_KIND_MULTIHOMED_REQUEST)
NB_NS_BUILDER_(nb_ns_build_release, NB_NS_KIND_RELEASE_REQUEST)
NB_NS_BUILDER_(nb_ns_build_pos_registration,
               NB_NS_KIND_POS_REGISTRATION_RESPONSE)
NB_NS_BUILDER_(nb_ns_build_neg_registration,
               NB_NS_KIND_NEG_REGISTRATION_RESPONSE)
NB_NS_BUILDER_(nb_ns_build_challenge, NB_NS_KIND_CHALLENGE_RESPONSE)
NB_NS_BUILDER_(nb_ns_build_conflict, NB_NS_KIND_CONFLICT_DEMAND)
NB_NS_BUILDER_(nb_ns_build_pos_release, NB_NS_KIND_POS_RELEASE_RESPONSE)
NB_NS_BUILDER_(nb_ns_build_neg_release, NB_NS_KIND_NEG_RELEASE_RESPONSE)
NB_NS_BUILDER_(nb_ns_build_pos_query, NB_NS_KIND_POS_QUERY_RESPONSE)
NB_NS_BUILDER_(nb_ns_build_neg_query, NB_NS_KIND_NEG_QUERY_RESPONSE)
NB_NS_BUILDER_(nb_ns_build_redirect, NB_NS_KIND_REDIRECT_RESPONSE)
NB_NS_BUILDER_(nb_ns_build_wack, NB_NS_KIND_WACK)
NB_NS_BUILDER_(nb_ns_build_status_response, NB_NS_KIND_STATUS_RESPONSE)
#undef NB_NS_BUILDER_

#endif
