/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_diff_ns_samba: nbtkit's name-service parser against Samba's.
 *
 * This file is BSD-licensed, but the program it builds links Samba's
 * libndr-nbt (GPL-3.0-or-later): it is built only with NB_WITH_SAMBA where
 * samba-dev is installed (pkg-config ndr_nbt), and never installed.
 *
 * The input is one NBNS datagram, parsed by nb_ns_parse() and by Samba's
 * ndr_pull_nbt_name_packet() (as libcli/nbt/nbtsocket.c does). Oracle:
 *  - both accept or both refuse, and
 *  - when both accept, every decoded field agrees: NAME_TRN_ID, the flags
 *    word, the four counts, each question (name, type, class), each record
 *    (name, type, class, TTL, RDATA: NB entries and addresses, NBSTAT
 *    names, types, flags and STATISTICS, other RDATA byte for byte) and the
 *    bytes after the last record,
 * except where the input shows one of the interop limits below, which are
 * detected from the bytes by a walker of our own (interop_limits()) and
 * listed with their reasons in docs/FUZZING.md "Differential limits":
 *
 *  LIM_FWD_POINTER   a compression pointer that is not strictly backward
 *                    (Samba follows any in-range offset; we refuse: loops)
 *  LIM_HOPS          more than 5 pointers in one name (Samba: 5
 *                    consecutive per label; we: 10 per name)
 *  LIM_LONG_NAME     a name over 255 octets or 128 labels (RFC 883's cap
 *                    is ours; Samba allows 128 labels / about 272 chars)
 *  LIM_FIRST_LABEL   a first label that is not 32 bytes, or holds a NUL
 *                    (Samba accepts any even length up to 32 and the null
 *                    name anywhere, cuts a label at a NUL and splits the
 *                    dotted name at a '.' inside the first label; RFC 1002
 *                    4.1 and we require 32 bytes A-P)
 *  LIM_SCOPE_BYTES   a scope label byte outside 0x21-0x7E, or a '.' (Samba
 *                    takes any byte, and a dot splits the label; we keep
 *                    scope labels printable and dot-free, nb/name.h)
 *  LIM_CAPS          more than 4 questions or 8 records (our fixed-size
 *                    model refuses them with NB_ELIMIT)
 *  LIM_NB_RDATA      NB RDATA whose RDLENGTH is not a multiple of 6 (we
 *                    refuse; Samba reads RDLENGTH/6 entries and parses on
 *                    from the wrong offset)
 *  LIM_WACK_RDATA    a WACK whose record says NB or NBSTAT (we read WACK
 *                    RDATA as the request's header word whatever RR_TYPE
 *                    says, RFC 1002 4.2.16; Samba types it by RR_TYPE)
 *  LIM_NBSTAT_RDATA  NBSTAT RDATA whose RDLENGTH is not 47 + 18 NUM_NAMES
 *                    (Samba ignores RDLENGTH and reads NUM_NAMES entries
 *                    and 46 STATISTICS bytes wherever they end)
 *  LIM_TYPED_RDATA   A RDATA not 4 bytes, NS RDATA that is not one name
 *                    (typed by us, opaque to Samba)
 *  LIM_DOS_NAMES     NBSTAT names with bytes >= 0x80 (Samba converts the
 *                    15 bytes from the DOS charset, which is ASCII without
 *                    an smb.conf, and refuses the packet; we keep the raw
 *                    bytes, RFC 1002 4.2.18 does not restrict them)
 * A disagreement that no limit explains aborts (a bug on one side). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff_samba.h"
#include "nb/ns.h"

enum {
  LIM_CAPS = 1u << 8,
  LIM_NB_RDATA = 1u << 9,
  LIM_NBSTAT_RDATA = 1u << 10,
  LIM_TYPED_RDATA = 1u << 11,
  LIM_DOS_NAMES = 1u << 12,
  LIM_WACK_RDATA = 1u << 13,
  LIM_WALK_STOPPED = 1u << 14 /* the walker could not finish: no claim */
};

/* Limits under which the two verdicts may differ. */
#define LIM_VERDICT                                                            \
  (LIM_NAMES | LIM_CAPS | LIM_NB_RDATA | LIM_NBSTAT_RDATA | LIM_TYPED_RDATA |  \
   LIM_WACK_RDATA | LIM_DOS_NAMES)
/* Limits under which both accept but the records are read differently. */
#define LIM_STRUCTURE (LIM_NB_RDATA | LIM_NBSTAT_RDATA | LIM_WACK_RDATA)

static void fail(const char *what, unsigned limits) {
  diff_fail("diff_ns_samba", what, limits);
}

static void walk_rdata(walk_t *w, unsigned type, size_t at, unsigned len,
                       bool wack) {
  if (wack && (type == NB_NS_TYPE_NB || type == NB_NS_TYPE_NBSTAT)) {
    w->lim |= LIM_WACK_RDATA;
  } else if (type == NB_NS_TYPE_NB && len % 6 != 0) {
    w->lim |= LIM_NB_RDATA;
  } else if (type == NB_NS_TYPE_NBSTAT) {
    unsigned num = at < w->n ? w->p[at] : 0;
    w->lim |= len != 47 + 18 * num ? LIM_NBSTAT_RDATA : 0;
    for (unsigned i = 0; i < num && at + 1 + 18 * i + 15 <= w->n; i++) {
      for (size_t j = 0; j < 15; j++) {
        w->lim |= w->p[at + 1 + 18 * i + j] >= 0x80 ? LIM_DOS_NAMES : 0;
      }
    }
  } else if (type == NB_NS_TYPE_A && len != 4) {
    w->lim |= LIM_TYPED_RDATA;
  } else if (type == NB_NS_TYPE_NS && at + len <= w->n) {
    /* Whether our decoder takes NSD_NAME is our typing, not Samba's. */
    nb_rd_t r;
    nb_name_t name;
    nb_rd_init(&r, w->p, at + len);
    r.pos = at;
    if (nb_name_decode(&r, &name, 0, NULL) != NB_OK || r.pos != at + len) {
      w->lim |= LIM_TYPED_RDATA;
    }
  }
}

static unsigned interop_limits(const uint8_t *p, size_t n) {
  walk_t w = {p, n, 0};
  if (n < 12) {
    return 0;
  }
  unsigned c[4] = {rd16(&w, 4), rd16(&w, 6), rd16(&w, 8), rd16(&w, 10)};
  bool wack = (p[2] & 0xF8) == 0xB8; /* R=1, OPCODE 7 */
  w.lim |= c[0] > NB_NS_MAX_QUESTIONS || c[1] + c[2] + c[3] > NB_NS_MAX_RRS
               ? LIM_CAPS
               : 0;
  size_t at = 12;
  for (unsigned i = 0; i < c[0] + c[1] + c[2] + c[3]; i++) {
    at = walk_name(&w, at);
    if (at == 0 || at + (i < c[0] ? 4 : 10) > n) {
      return w.lim | LIM_WALK_STOPPED;
    }
    if (i < c[0]) {
      at += 4;
      continue;
    }
    unsigned type = rd16(&w, at), len = rd16(&w, at + 8);
    at += 10;
    walk_rdata(&w, type, at, len, wack); /* before: Samba may ignore len */
    if (at + len > n) {
      return w.lim | LIM_WALK_STOPPED;
    }
    at += len;
  }
  return w.lim;
}

/* ---- field comparison ------------------------------------------------------
 */

static bool same_nb(const nb_ns_rr_t *rr, const struct nbt_rdata_netbios *s) {
  if (s->length != rr->rdlength || s->length / 6 != rr->nb_count) {
    return false;
  }
  for (size_t i = 0; i < rr->nb_count; i++) {
    nb_ns_nb_entry_t e;
    char ip[16];
    if (nb_ns_nb_entry(rr, i, &e) != NB_OK ||
        s->addresses[i].nb_flags != e.nb_flags) {
      return false;
    }
    snprintf(ip, sizeof ip, "%u.%u.%u.%u", (unsigned)(e.addr >> 24),
             (unsigned)(e.addr >> 16 & 0xFF), (unsigned)(e.addr >> 8 & 0xFF),
             (unsigned)(e.addr & 0xFF));
    if (strcmp(s->addresses[i].ipaddr, ip) != 0) {
      return false;
    }
  }
  return true;
}

static bool same_stats(const nb_ns_statistics_t *a,
                       const struct nbt_statistics *b) {
  return memcmp(a->unit_id, b->unit_id, 6) == 0 && a->jumpers == b->jumpers &&
         a->test_result == b->test_result &&
         a->version_number == b->version_number &&
         a->period_of_statistics == b->period_of_statistics &&
         a->number_of_crcs == b->number_of_crcs &&
         a->number_good_sends == b->number_good_sends &&
         a->number_good_receives == b->number_good_receives &&
         a->number_retransmits == b->number_retransmits &&
         a->session_data_packet_size == b->session_data_packet_size &&
         a->max_total_sessions_possible == b->max_total_sessions_possible;
}

static bool same_nbstat(const nb_ns_rr_t *rr, const struct nbt_rdata_status *s,
                        unsigned lim) {
  nb_ns_statistics_t st;
  if (s->num_names != rr->nbstat_names ||
      nb_ns_nbstat_statistics(rr, &st) != NB_OK ||
      !same_stats(&st, &s->statistics)) {
    return false;
  }
  for (size_t i = 0; i < rr->nbstat_names; i++) {
    nb_ns_nbstat_entry_t e;
    char want[NB_NAME_BYTES];
    if (nb_ns_nbstat_entry(rr, i, &e) != NB_OK ||
        s->names[i].nb_flags != e.name_flags ||
        (uint8_t)s->names[i].type != e.name[NB_NAME_CHARS]) {
      return false;
    }
    memcpy(want, e.name, NB_NAME_CHARS);
    want[NB_NAME_CHARS] = '\0'; /* compared up to the first NUL */
    if (!(lim & LIM_DOS_NAMES) && strcmp(s->names[i].name, want) != 0) {
      return false;
    }
  }
  return true;
}

static bool same_rr(const nb_ns_rr_t *rr, const struct nbt_res_rec *s,
                    unsigned lim) {
  if (rr->rrname.form == NB_NS_NAME_NULL) {
    if (s->name.name == NULL || s->name.name[0] != '\0') {
      return false; /* both read the null name as "", type 0 */
    }
  } else if (!same_name(&rr->rrname.name, &s->name)) {
    return false;
  }
  if ((unsigned)s->rr_type != rr->rrtype ||
      (unsigned)s->rr_class != rr->rrclass || s->ttl != rr->ttl) {
    return false;
  }
  switch (rr->rrtype) {
  case NB_NS_TYPE_NB:
    return same_nb(rr, &s->rdata.netbios);
  case NB_NS_TYPE_NBSTAT:
    return same_nbstat(rr, &s->rdata.status, lim);
  default:
    return s->rdata.data.length == rr->rdlength &&
           (rr->rdlength == 0 ||
            memcmp(s->rdata.data.data, rr->rdata, rr->rdlength) == 0);
  }
}

static void compare(const nb_ns_msg_t *m, const struct nbt_name_packet *s,
                    unsigned lim) {
  if (s->name_trn_id != m->hdr.trn_id ||
      s->operation != nb_ns_flags_word(&m->hdr) || s->qdcount != m->qdcount ||
      s->ancount != m->ancount || s->nscount != m->nscount ||
      s->arcount != m->arcount) {
    fail("header or counts differ", lim);
  }
  for (size_t i = 0; i < m->qdcount; i++) {
    const struct nbt_name_question *q = &s->questions[i];
    if (!same_name(&m->qd[i].qname.name, &q->name) ||
        (unsigned)q->question_type != m->qd[i].qtype ||
        (unsigned)q->question_class != m->qd[i].qclass) {
      fail("a question differs", lim);
    }
  }
  const struct nbt_res_rec *sec[3] = {s->answers, s->nsrecs, s->additional};
  const size_t cnt[3] = {m->ancount, m->nscount, m->arcount};
  for (size_t k = 0, i = 0; k < 3; k++) {
    for (size_t j = 0; j < cnt[k]; j++, i++) {
      if (!same_rr(&m->rr[i], &sec[k][j], lim)) {
        fail("a resource record differs", lim);
      }
    }
  }
  if (s->padding.length != m->trailing_len ||
      (m->trailing_len > 0 &&
       memcmp(s->padding.data, m->trailing, m->trailing_len) != 0)) {
    fail("the bytes after the last record differ", lim);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static nb_ns_msg_t m;
  if (size > 65535) {
    return 0; /* a UDP payload */
  }
  bool ours = nb_ns_parse(data, size, &m, NULL) == NB_OK;
  TALLOC_CTX *ctx = talloc_new(NULL);
  struct nbt_name_packet *pkt = talloc_zero(ctx, struct nbt_name_packet);
  if (ctx == NULL || pkt == NULL) {
    abort();
  }
  /* data_blob_const() takes a const pointer; Samba only reads the blob. */
  DATA_BLOB blob = data_blob_const(data, size);
  enum ndr_err_code e = ndr_pull_struct_blob(
      &blob, pkt, pkt, (ndr_pull_flags_fn_t)ndr_pull_nbt_name_packet);
  bool theirs = NDR_ERR_CODE_IS_SUCCESS(e);
  unsigned lim = interop_limits(data, size);
  if (ours != theirs && (lim & LIM_VERDICT) == 0) {
    fail(ours ? "nbtkit accepts, Samba refuses"
              : "Samba accepts, nbtkit refuses",
         lim);
  }
  bool cmp = ours && theirs && (lim & LIM_STRUCTURE) == 0;
  if (cmp) {
    compare(&m, pkt, lim);
  }
  diff_count("diff_ns_samba",
             ours != theirs ? 3
             : !ours        ? 0
             : cmp          ? 1
                            : 2,
             lim);
  talloc_free(ctx);
  return 0;
}
