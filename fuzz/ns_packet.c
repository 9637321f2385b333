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
 *  - the builder: the same bytes also choose a packet kind and its
 *    arguments (within what the RFC allows); what nb_ns_build() writes
 *    must parse, classify as that kind, carry no finding and round-trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nb/ns.h"

static void require(int cond) {
  if (!cond) {
    abort();
  }
}

static uint8_t out_buf[65536 + 64];

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

static bool same_findings(const nb_ns_msg_t *a, const nb_ns_msg_t *b) {
  if (a->nfindings != b->nfindings ||
      a->findings_overflow != b->findings_overflow) {
    return false;
  }
  for (size_t i = 0; i < a->nfindings; i++) {
    if (a->findings[i].rule != b->findings[i].rule ||
        a->findings[i].offset != b->findings[i].offset) {
      return false;
    }
  }
  return true;
}

static void parse_oracle(const uint8_t *data, size_t size) {
  static nb_ns_msg_t m;
  static nb_ns_msg_t again;
  nb_diag_t d = {NB_OK, 0, NULL};
  nb_err_t err = nb_ns_parse(data, size, &m, &d);
  if (err != NB_OK) {
    require(d.err == err && d.field != NULL && d.offset <= size);
    require(err == NB_ETRUNCATED || err == NB_EMALFORMED || err == NB_ELIMIT);
    return;
  }
  require(m.len == size && m.kind == nb_ns_classify(&m));
  check_findings(&m, size);
  check_typed_views(&m);

  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, out_buf, sizeof out_buf);
  require(nb_ns_write(&w, &m) == NB_OK);
  require(nb_wr_finish(&w, &len) == NB_OK);
  require(len == size && (size == 0 || memcmp(out_buf, data, size) == 0));
  require(nb_ns_parse(out_buf, len, &again, NULL) == NB_OK);
  require(nb_ns_msg_equal(&m, &again) && again.kind == m.kind);
  require(same_findings(&m, &again));
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

static void build_oracle(const uint8_t *data, size_t size) {
  static build_store_t st;
  static nb_ns_msg_t m;
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

  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, out_buf, sizeof out_buf);
  require(nb_ns_build(&w, kind, &a) == NB_OK);
  require(nb_wr_finish(&w, &len) == NB_OK);
  require(nb_ns_parse(out_buf, len, &m, NULL) == NB_OK);
  require(m.kind == kind && m.nfindings == 0);
  static uint8_t built[sizeof out_buf];
  memcpy(built, out_buf, len); /* parse_oracle() writes into out_buf */
  parse_oracle(built, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  parse_oracle(data, size);
  build_oracle(data, size);
  return 0;
}
