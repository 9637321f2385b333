/* SPDX-License-Identifier: BSD-2-Clause */
/* The name-service model: initialisation, the header word, section
 * accessors, typed RDATA accessors and model equality (see nb/ns.h).
 *
 * WARNING: the RDATA accessors read bytes that came from the network. They
 * re-check every length against RDLENGTH through the wire cursors, so they
 * are safe on any nb_ns_rr_t, parsed or hand-built. */
#include "nb/ns.h"

#include <string.h>

void nb_ns_msg_init(nb_ns_msg_t *m) {
  memset(m, 0, sizeof *m);
  m->kind = NB_NS_KIND_UNKNOWN;
}

/* RFC 1002 4.2.1.1: | R | OPCODE (4) | NM_FLAGS (7) | RCODE (4) | */
uint16_t nb_ns_flags_word(const nb_ns_header_t *h) {
  return (uint16_t)((h->response ? 0x8000u : 0u) | (h->opcode & 0xFu) << 11 |
                    (h->nm_flags & 0x7Fu) << 4 | (h->rcode & 0xFu));
}

void nb_ns_set_flags_word(nb_ns_header_t *h, uint16_t word) {
  h->response = (word & 0x8000u) != 0;
  h->opcode = (uint8_t)(word >> 11 & 0xFu);
  h->nm_flags = (uint8_t)(word >> 4 & 0x7Fu);
  h->rcode = (uint8_t)(word & 0xFu);
}

static const nb_ns_rr_t *section_rr(const nb_ns_msg_t *m, size_t first,
                                    size_t count, size_t i) {
  if (i >= count || first + i >= NB_NS_MAX_RRS) {
    return NULL;
  }
  return &m->rr[first + i];
}

const nb_ns_rr_t *nb_ns_answer(const nb_ns_msg_t *m, size_t i) {
  return section_rr(m, 0, m->ancount, i);
}

const nb_ns_rr_t *nb_ns_authority(const nb_ns_msg_t *m, size_t i) {
  return section_rr(m, m->ancount, m->nscount, i);
}

const nb_ns_rr_t *nb_ns_additional(const nb_ns_msg_t *m, size_t i) {
  return section_rr(m, (size_t)m->ancount + m->nscount, m->arcount, i);
}

/* A reader over the RDATA of `rr`. */
static void rdata_reader(const nb_ns_rr_t *rr, nb_rd_t *r) {
  nb_rd_init(r, rr->rdata, rr->rdata != NULL ? rr->rdlength : 0);
}

nb_err_t nb_ns_nb_entry(const nb_ns_rr_t *rr, size_t i, nb_ns_nb_entry_t *out) {
  nb_rd_t r;
  rdata_reader(rr, &r);
  if (rr->rrtype != NB_NS_TYPE_NB || i >= r.end / NB_NS_NB_ENTRY_LEN) {
    return NB_EINVAL;
  }
  r.pos = i * NB_NS_NB_ENTRY_LEN;
  if (nb_rd_be16(&r, &out->nb_flags) != NB_OK ||
      nb_rd_be32(&r, &out->addr) != NB_OK) {
    return NB_EINVAL;
  }
  return NB_OK;
}

/* RDATA of an NBSTAT record (RFC 1002 4.2.18): NUM_NAMES, the NODE_NAME
 * array, then STATISTICS. On success `r` is at the first entry and `*num`
 * holds NUM_NAMES; fails unless all NUM_NAMES entries fit RDLENGTH. */
static nb_err_t nbstat_names(const nb_ns_rr_t *rr, nb_rd_t *r, uint8_t *num) {
  rdata_reader(rr, r);
  if (rr->rrtype != NB_NS_TYPE_NBSTAT || nb_rd_u8(r, num) != NB_OK ||
      nb_rd_left(r) < (size_t)*num * NB_NS_NBSTAT_ENTRY_LEN) {
    return NB_EINVAL;
  }
  return NB_OK;
}

nb_err_t nb_ns_nbstat_entry(const nb_ns_rr_t *rr, size_t i,
                            nb_ns_nbstat_entry_t *out) {
  nb_rd_t r;
  uint8_t num = 0;
  if (nbstat_names(rr, &r, &num) != NB_OK || i >= num) {
    return NB_EINVAL;
  }
  r.pos += i * NB_NS_NBSTAT_ENTRY_LEN;
  if (nb_rd_copy(&r, out->name, NB_NAME_BYTES) != NB_OK ||
      nb_rd_be16(&r, &out->name_flags) != NB_OK) {
    return NB_EINVAL;
  }
  return NB_OK;
}

/* The fields of STATISTICS, in wire order, from a full 46-byte window. */
static void stats_fields(nb_rd_t *r, nb_ns_statistics_t *o) {
  uint16_t *f16a[] = {&o->version_number,       &o->period_of_statistics,
                      &o->number_of_crcs,       &o->number_alignment_errors,
                      &o->number_of_collisions, &o->number_send_aborts};
  uint16_t *f16b[] = {&o->number_retransmits,
                      &o->number_no_resource_conditions,
                      &o->number_free_command_blocks,
                      &o->total_number_command_blocks,
                      &o->max_total_number_command_blocks,
                      &o->number_pending_sessions,
                      &o->max_number_pending_sessions,
                      &o->max_total_sessions_possible,
                      &o->session_data_packet_size};
  (void)nb_rd_copy(r, o->unit_id, sizeof o->unit_id);
  (void)nb_rd_u8(r, &o->jumpers);
  (void)nb_rd_u8(r, &o->test_result);
  for (size_t i = 0; i < sizeof f16a / sizeof f16a[0]; i++) {
    (void)nb_rd_be16(r, f16a[i]);
  }
  (void)nb_rd_be32(r, &o->number_good_sends);
  (void)nb_rd_be32(r, &o->number_good_receives);
  for (size_t i = 0; i < sizeof f16b / sizeof f16b[0]; i++) {
    (void)nb_rd_be16(r, f16b[i]);
  }
}

nb_err_t nb_ns_nbstat_statistics(const nb_ns_rr_t *rr,
                                 nb_ns_statistics_t *out) {
  nb_rd_t r;
  uint8_t num = 0;
  uint8_t full[NB_NS_STATISTICS_LEN] = {0};
  if (nbstat_names(rr, &r, &num) != NB_OK) {
    return NB_EINVAL;
  }
  r.pos += (size_t)num * NB_NS_NBSTAT_ENTRY_LEN;
  size_t have = nb_rd_left(&r);
  /* A short STATISTICS (a finding) reads as zero-padded. */
  (void)nb_rd_copy(&r, full, have < sizeof full ? have : sizeof full);
  nb_rd_t s;
  nb_rd_init(&s, full, sizeof full);
  memset(out, 0, sizeof *out);
  stats_fields(&s, out);
  return NB_OK;
}

/* RFC 1002 4.2.18 STATISTICS, 46 bytes. */
void nb_ns_statistics_encode(nb_wr_t *w, const nb_ns_statistics_t *s) {
  nb_wr_bytes(w, s->unit_id, sizeof s->unit_id);
  nb_wr_u8(w, s->jumpers);
  nb_wr_u8(w, s->test_result);
  nb_wr_be16(w, s->version_number);
  nb_wr_be16(w, s->period_of_statistics);
  nb_wr_be16(w, s->number_of_crcs);
  nb_wr_be16(w, s->number_alignment_errors);
  nb_wr_be16(w, s->number_of_collisions);
  nb_wr_be16(w, s->number_send_aborts);
  nb_wr_be32(w, s->number_good_sends);
  nb_wr_be32(w, s->number_good_receives);
  nb_wr_be16(w, s->number_retransmits);
  nb_wr_be16(w, s->number_no_resource_conditions);
  nb_wr_be16(w, s->number_free_command_blocks);
  nb_wr_be16(w, s->total_number_command_blocks);
  nb_wr_be16(w, s->max_total_number_command_blocks);
  nb_wr_be16(w, s->number_pending_sessions);
  nb_wr_be16(w, s->max_number_pending_sessions);
  nb_wr_be16(w, s->max_total_sessions_possible);
  nb_wr_be16(w, s->session_data_packet_size);
}

/* Exact name equality (bytes, scope, form, pointer target): what a round
 * trip must preserve, stricter than nb_name_equal(). */
static bool ns_name_same(const nb_ns_name_t *a, const nb_ns_name_t *b) {
  if (a->form != b->form) {
    return false;
  }
  if (a->form == NB_NS_NAME_NULL) {
    return true;
  }
  return (a->form != NB_NS_NAME_POINTER ||
          (a->ptr == b->ptr && a->ptr_labels == b->ptr_labels)) &&
         memcmp(a->name.bytes, b->name.bytes, NB_NAME_BYTES) == 0 &&
         a->name.scope_len == b->name.scope_len &&
         memcmp(a->name.scope, b->name.scope, a->name.scope_len) == 0;
}

static bool bytes_same(const uint8_t *a, size_t alen, const uint8_t *b,
                       size_t blen) {
  return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static bool rr_same(const nb_ns_rr_t *a, const nb_ns_rr_t *b) {
  return ns_name_same(&a->rrname, &b->rrname) && a->rrtype == b->rrtype &&
         a->rrclass == b->rrclass && a->ttl == b->ttl &&
         bytes_same(a->rdata, a->rdlength, b->rdata, b->rdlength);
}

bool nb_ns_msg_equal(const nb_ns_msg_t *a, const nb_ns_msg_t *b) {
  size_t nrr = (size_t)a->ancount + a->nscount + a->arcount;
  if (nb_ns_flags_word(&a->hdr) != nb_ns_flags_word(&b->hdr) ||
      a->hdr.trn_id != b->hdr.trn_id || a->qdcount != b->qdcount ||
      a->ancount != b->ancount || a->nscount != b->nscount ||
      a->arcount != b->arcount || a->qdcount > NB_NS_MAX_QUESTIONS ||
      nrr > NB_NS_MAX_RRS) {
    return false;
  }
  for (size_t i = 0; i < a->qdcount; i++) {
    const nb_ns_question_t *qa = &a->qd[i];
    const nb_ns_question_t *qb = &b->qd[i];
    if (!ns_name_same(&qa->qname, &qb->qname) || qa->qtype != qb->qtype ||
        qa->qclass != qb->qclass) {
      return false;
    }
  }
  for (size_t i = 0; i < nrr; i++) {
    if (!rr_same(&a->rr[i], &b->rr[i])) {
      return false;
    }
  }
  return bytes_same(a->trailing, a->trailing_len, b->trailing, b->trailing_len);
}
