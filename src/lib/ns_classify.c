/* SPDX-License-Identifier: BSD-2-Clause */
/* Name-service packet kinds (RFC 1002 4.2.2-4.2.18), their names, the
 * conformance-rule table and RCODE names (see nb/ns.h).
 *
 * The classifier reads only the model, so it is as safe as the parser that
 * filled it; it never indexes past the fixed arrays.
 *
 * Decision table (R = response bit):
 *
 *   R opcode     condition                         kind
 *   0 0          first question NBSTAT             NODE STATUS REQUEST
 *   0 0          otherwise                         NAME QUERY REQUEST
 *   0 5          RD set                            NAME REGISTRATION REQUEST
 *   0 5          RD clear                          NAME OVERWRITE REQ & DEMAND
 *   0 6                                            NAME RELEASE REQ & DEMAND
 *   0 8, 9                                         NAME REFRESH REQUEST
 *   0 0xF                                          MULTI-HOMED REGISTRATION
 *   1 0          RCODE != 0                        NEGATIVE NAME QUERY RESP.
 *   1 0          no answer, an authority record    REDIRECT NAME QUERY RESP.
 *   1 0          first answer NBSTAT               NODE STATUS RESPONSE
 *   1 0          otherwise                         POSITIVE NAME QUERY RESP.
 *   1 5,8,9,0xF  RCODE 7 (CFT_ERR)                 NAME CONFLICT DEMAND
 *   1 5,8,9,0xF  other RCODE != 0                  NEGATIVE NAME REG. RESP.
 *   1 5,8,9,0xF  RCODE 0, RA set                   POSITIVE NAME REG. RESP.
 *   1 5,8,9,0xF  RCODE 0, RA clear                 END-NODE CHALLENGE RESP.
 *   1 6          RCODE != 0 / == 0                 NEG. / POS. RELEASE RESP.
 *   1 7                                            WACK
 *   anything else                                  UNKNOWN
 *
 * RFC 1002 5.1.2 answers a refresh with NAME REGISTRATION RESPONSEs, so
 * responses with the refresh and multi-homed opcodes are registration
 * responses (nmbd answers both with opcode 5; a RESPONSE_OPCODE finding
 * marks the others). */
#include <string.h>

#include "nb/ns.h"

static nb_ns_kind_t classify_request(const nb_ns_msg_t *m) {
  switch (m->hdr.opcode) {
  case NB_NS_OPCODE_QUERY:
    return (m->qdcount > 0 && m->qd[0].qtype == NB_NS_TYPE_NBSTAT)
               ? NB_NS_KIND_STATUS_REQUEST
               : NB_NS_KIND_QUERY_REQUEST;
  case NB_NS_OPCODE_REGISTRATION: /* RFC 1002 4.2.2 vs 4.2.3: RD */
    return (m->hdr.nm_flags & NB_NS_FLAG_RD) ? NB_NS_KIND_REGISTRATION_REQUEST
                                             : NB_NS_KIND_OVERWRITE_REQUEST;
  case NB_NS_OPCODE_RELEASE:
    return NB_NS_KIND_RELEASE_REQUEST;
  case NB_NS_OPCODE_REFRESH:
  case NB_NS_OPCODE_REFRESH_ALT:
    return NB_NS_KIND_REFRESH_REQUEST;
  case NB_NS_OPCODE_MULTIHOMED:
    return NB_NS_KIND_MULTIHOMED_REQUEST;
  default:
    return NB_NS_KIND_UNKNOWN;
  }
}

static nb_ns_kind_t classify_query_response(const nb_ns_msg_t *m) {
  if (m->hdr.rcode != 0) {
    return NB_NS_KIND_NEG_QUERY_RESPONSE; /* RFC 1002 4.2.14 */
  }
  if (m->ancount == 0 && m->nscount > 0) {
    return NB_NS_KIND_REDIRECT_RESPONSE; /* RFC 1002 4.2.15 */
  }
  if (m->ancount > 0 && m->rr[0].rrtype == NB_NS_TYPE_NBSTAT) {
    return NB_NS_KIND_STATUS_RESPONSE; /* RFC 1002 4.2.18 */
  }
  return NB_NS_KIND_POS_QUERY_RESPONSE; /* RFC 1002 4.2.13 */
}

/* RFC 1002 4.2.5-4.2.8: one opcode, told apart by RCODE and RA. */
static nb_ns_kind_t classify_registration_response(const nb_ns_msg_t *m) {
  if (m->hdr.rcode == NB_NS_RCODE_CFT_ERR) {
    return NB_NS_KIND_CONFLICT_DEMAND;
  }
  if (m->hdr.rcode != 0) {
    return NB_NS_KIND_NEG_REGISTRATION_RESPONSE;
  }
  return (m->hdr.nm_flags & NB_NS_FLAG_RA)
             ? NB_NS_KIND_POS_REGISTRATION_RESPONSE
             : NB_NS_KIND_CHALLENGE_RESPONSE;
}

static nb_ns_kind_t classify_response(const nb_ns_msg_t *m) {
  switch (m->hdr.opcode) {
  case NB_NS_OPCODE_QUERY:
    return classify_query_response(m);
  case NB_NS_OPCODE_REGISTRATION:
  case NB_NS_OPCODE_REFRESH:
  case NB_NS_OPCODE_REFRESH_ALT:
  case NB_NS_OPCODE_MULTIHOMED:
    return classify_registration_response(m);
  case NB_NS_OPCODE_RELEASE:
    return m->hdr.rcode ? NB_NS_KIND_NEG_RELEASE_RESPONSE
                        : NB_NS_KIND_POS_RELEASE_RESPONSE;
  case NB_NS_OPCODE_WACK:
    return NB_NS_KIND_WACK;
  default:
    return NB_NS_KIND_UNKNOWN;
  }
}

nb_ns_kind_t nb_ns_classify(const nb_ns_msg_t *m) {
  return m->hdr.response ? classify_response(m) : classify_request(m);
}

typedef struct {
  const char *title;
  const char *ident;
  const char *rfc;
} kind_info_t;

static const kind_info_t kind_table[] = {
#define NB_NS_KIND_ROW_(id, title, ident, rfc) {title, ident, rfc},
    NB_NS_KIND_MAP(NB_NS_KIND_ROW_)
#undef NB_NS_KIND_ROW_
};

static const kind_info_t *kind_info(nb_ns_kind_t kind) {
  size_t i = (size_t)kind;
  return i < sizeof kind_table / sizeof kind_table[0] ? &kind_table[i]
                                                      : &kind_table[0];
}

const char *nb_ns_kind_name(nb_ns_kind_t kind) {
  return kind_info(kind)->title;
}

const char *nb_ns_kind_ident(nb_ns_kind_t kind) {
  return kind_info(kind)->ident;
}

const char *nb_ns_kind_rfc(nb_ns_kind_t kind) { return kind_info(kind)->rfc; }

nb_ns_kind_t nb_ns_kind_from_ident(const char *ident) {
  if (ident == NULL) {
    return NB_NS_KIND_UNKNOWN;
  }
  for (size_t i = 1; i < sizeof kind_table / sizeof kind_table[0]; i++) {
    if (strcmp(kind_table[i].ident, ident) == 0) {
      return (nb_ns_kind_t)i;
    }
  }
  return NB_NS_KIND_UNKNOWN;
}

typedef struct {
  const char *name;
  const char *rfc;
  const char *text;
} rule_info_t;

static const rule_info_t rule_table[] = {
#define NB_NS_RULE_ROW_(id, rfc, text) {#id, rfc, text},
    NB_NS_RULE_MAP(NB_NS_RULE_ROW_)
#undef NB_NS_RULE_ROW_
};

static const rule_info_t unknown_rule = {"UNKNOWN", "RFC 1002", "unknown rule"};

static const rule_info_t *rule_info(nb_ns_rule_t rule) {
  size_t i = (size_t)rule;
  return i < sizeof rule_table / sizeof rule_table[0] ? &rule_table[i]
                                                      : &unknown_rule;
}

const char *nb_ns_rule_name(nb_ns_rule_t rule) { return rule_info(rule)->name; }

const char *nb_ns_rule_rfc(nb_ns_rule_t rule) { return rule_info(rule)->rfc; }

const char *nb_ns_rule_text(nb_ns_rule_t rule) { return rule_info(rule)->text; }

const char *nb_ns_rcode_name(unsigned rcode) {
  static const char *const names[] = {"OK",      "FMT_ERR", "SRV_ERR",
                                      "NAM_ERR", "IMP_ERR", "RFS_ERR",
                                      "ACT_ERR", "CFT_ERR"};
  return rcode < sizeof names / sizeof names[0] ? names[rcode] : "UNKNOWN";
}
