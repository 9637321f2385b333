/* SPDX-License-Identifier: BSD-2-Clause */
/* Normalising and comparing recorded and live responses (see replay.h and
 * docs/REPLAY.md, "Normalisation rules").
 *
 * WARNING: parses untrusted network data: both the capture's responses and
 * the target's. Name-service packets go through nb_ns_parse(), session
 * packets through nb_ssn_parse_header(), datagrams through nb_dgm_parse();
 * SMB headers are peeked at through nb_rd_t cursors.
 *
 * Rules, in short:
 *  - NS: the transaction ID is not compared (each exchange has its own
 *    socket); byte-identical copies of a response count once (nmbd answers
 *    a broadcast once per socket it arrives on); the distinct responses are
 *    compared in order, field by field: kind, flags word, counts, names
 *    (nb_name_equal: case-insensitive, exact suffix), types, classes, TTLs,
 *    RDATA by type, trailing bytes. An IPv4 address equal to the capture's
 *    server (recorded side) or to the target (live side) is "<server>".
 *    TTLs of name query responses are remaining lives (RFC 1002 4.2.13,
 *    5.1.1): equal when both are zero or both non-zero, unless --strict-ttl.
 *    NODE STATUS STATISTICS (RFC 1002 4.2.18) are host counters: UNIT_ID
 *    and the rest are compared as "zero" or "set".
 *  - SSN: packet count, then per packet the type; LENGTH and the code of
 *    control packets (the RETARGET address normalised as above); for a
 *    SESSION MESSAGE only the SMB protocol magic and SMB command (a
 *    different NT status is a note); and whether the server closed the
 *    connection.
 *  - DGM: count, then MSG_TYPE, ERROR_CODE and DESTINATION_NAME. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "nb/dgm.h"
#include "nb/ns.h"
#include "nb/ssn.h"
#include "replay.h"

typedef struct rp_norm {
  uint32_t rec_server;
  uint32_t live_server;
  bool strict_ttl;
} rp_norm_t;

void nbt_rp_diff_add(nbt_rp_result_t *res, bool note, const char *field,
                     const char *recorded, const char *live) {
  if (res->ndiffs == NBT_RP_MAX_DIFFS) {
    res->diffs_dropped++;
    return;
  }
  nbt_rp_diff_t *d = &res->diffs[res->ndiffs++];
  d->note = note;
  snprintf(d->field, sizeof d->field, "%s", field);
  snprintf(d->recorded, sizeof d->recorded, "%s", recorded);
  snprintf(d->live, sizeof d->live, "%s", live);
}

/* Compare two values already formatted as text; a difference when they are
 * not the same string. The field name is printf-formatted. */
static void cmp_text(nbt_rp_result_t *res, const char *rec, const char *live,
                     const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void cmp_text(nbt_rp_result_t *res, const char *rec, const char *live,
                     const char *fmt, ...) {
  if (strcmp(rec, live) == 0) {
    return;
  }
  char field[NBT_RP_FIELD_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(field, sizeof field, fmt, ap);
  va_end(ap);
  nbt_rp_diff_add(res, false, field, rec, live);
}

static void addr_text(uint32_t a, uint32_t server, char buf[16]) {
  if (a == server) {
    snprintf(buf, 16, "<server>");
  } else {
    nbt_rp_ip4_text(a, buf);
  }
}

/* ---- name service ---------------------------------------------------- */

static void flags_text(uint16_t w, char *buf, size_t cap) {
  unsigned nm = (unsigned)(w >> 4) & 0x7fu;
  snprintf(buf, cap, "0x%04x (%s%s%s%s%s%s)", w, (w & 0x8000u) ? "R " : "",
           (nm & NB_NS_FLAG_AA) ? "AA " : "", (nm & NB_NS_FLAG_TC) ? "TC " : "",
           (nm & NB_NS_FLAG_RD) ? "RD " : "", (nm & NB_NS_FLAG_RA) ? "RA " : "",
           (nm & NB_NS_FLAG_B) ? "B" : "");
  size_t n = strlen(buf);
  if (n >= 2 && buf[n - 2] == ' ') { /* "(AA RD )" -> "(AA RD)" */
    buf[n - 2] = ')';
    buf[n - 1] = '\0';
  }
}

static void name_text(const nb_name_t *n, char *buf, size_t cap) {
  char t[NB_NAME_TEXT_MAX];
  nb_name_to_text(n, t, sizeof t);
  snprintf(buf, cap, "%s", t);
}

static void cmp_name(nbt_rp_result_t *res, const nb_name_t *a,
                     const nb_name_t *b, const char *field) {
  if (nb_name_equal(a, b)) {
    return;
  }
  char ta[NBT_RP_VALUE_MAX];
  char tb[NBT_RP_VALUE_MAX];
  name_text(a, ta, sizeof ta);
  name_text(b, tb, sizeof tb);
  nbt_rp_diff_add(res, false, field, ta, tb);
}

/* Unsigned values, in decimal or (hex) as 0x%04lx. */
static void cmp_u(nbt_rp_result_t *res, unsigned long a, unsigned long b,
                  const char *field, bool hex) {
  if (a == b) {
    return;
  }
  char ta[NBT_RP_VALUE_MAX];
  char tb[NBT_RP_VALUE_MAX];
  snprintf(ta, sizeof ta, hex ? "0x%04lx" : "%lu", a);
  snprintf(tb, sizeof tb, hex ? "0x%04lx" : "%lu", b);
  nbt_rp_diff_add(res, false, field, ta, tb);
}

/* TTL (RFC 1002 4.2.1.3). A name query response carries the remaining life
 * of the entry (4.2.13; 5.1.1), which depends on when it was asked: equal
 * when both are zero or both are not. Everything else is exact. */
static void cmp_ttl(nbt_rp_result_t *res, const rp_norm_t *nm,
                    const nb_ns_msg_t *a, const nb_ns_rr_t *ra,
                    const nb_ns_rr_t *rb, const char *field) {
  bool loose = !nm->strict_ttl && a->hdr.opcode == NB_NS_OPCODE_QUERY &&
               ra->rrtype == NB_NS_TYPE_NB;
  if (ra->ttl == rb->ttl) {
    return;
  }
  char ta[NBT_RP_VALUE_MAX];
  char tb[NBT_RP_VALUE_MAX];
  snprintf(ta, sizeof ta, "%lu", (unsigned long)ra->ttl);
  snprintf(tb, sizeof tb, "%lu", (unsigned long)rb->ttl);
  nbt_rp_diff_add(res, loose && (ra->ttl != 0) == (rb->ttl != 0), field, ta,
                  tb);
}

static void cmp_nb_rdata(nbt_rp_result_t *res, const rp_norm_t *nm,
                         const nb_ns_rr_t *a, const nb_ns_rr_t *b,
                         const char *pfx) {
  char f[NBT_RP_FIELD_MAX];
  snprintf(f, sizeof f, "%s.entries", pfx);
  cmp_u(res, a->nb_count, b->nb_count, f, false);
  for (size_t i = 0; i < a->nb_count && i < b->nb_count; i++) {
    nb_ns_nb_entry_t ea = {0, 0};
    nb_ns_nb_entry_t eb = {0, 0};
    char ta[16];
    char tb[16];
    (void)nb_ns_nb_entry(a, i, &ea); /* i < nb_count: cannot fail */
    (void)nb_ns_nb_entry(b, i, &eb);
    snprintf(f, sizeof f, "%s.nb[%zu].flags", pfx, i);
    cmp_u(res, ea.nb_flags, eb.nb_flags, f, true);
    addr_text(ea.addr, nm->rec_server, ta);
    addr_text(eb.addr, nm->live_server, tb);
    cmp_text(res, ta, tb, "%s.nb[%zu].addr", pfx, i);
  }
}

static const char *zero_or_set(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (p[i] != 0) {
      return "set";
    }
  }
  return "zero";
}

/* NODE STATUS (RFC 1002 4.2.18): the name table exactly (names compared
 * case-insensitively as nb_name_equal does), STATISTICS as zero / set. */
static void cmp_nbstat_rdata(nbt_rp_result_t *res, const nb_ns_rr_t *a,
                             const nb_ns_rr_t *b, const char *pfx) {
  char f[NBT_RP_FIELD_MAX];
  snprintf(f, sizeof f, "%s.num_names", pfx);
  cmp_u(res, a->nbstat_names, b->nbstat_names, f, false);
  for (size_t i = 0; i < a->nbstat_names && i < b->nbstat_names; i++) {
    nb_ns_nbstat_entry_t ea = {{0}, 0};
    nb_ns_nbstat_entry_t eb = {{0}, 0};
    nb_name_t na = {0};
    nb_name_t nb = {0};
    (void)nb_ns_nbstat_entry(a, i, &ea); /* i < nbstat_names */
    (void)nb_ns_nbstat_entry(b, i, &eb);
    memcpy(na.bytes, ea.name, NB_NAME_BYTES);
    memcpy(nb.bytes, eb.name, NB_NAME_BYTES);
    snprintf(f, sizeof f, "%s.names[%zu]", pfx, i);
    cmp_name(res, &na, &nb, f);
    snprintf(f, sizeof f, "%s.names[%zu].flags", pfx, i);
    cmp_u(res, ea.name_flags, eb.name_flags, f, true);
  }
  /* Zeroed first: fields a short STATISTICS lacks read as zero. */
  nb_ns_statistics_t sa;
  nb_ns_statistics_t sb;
  memset(&sa, 0, sizeof sa);
  memset(&sb, 0, sizeof sb);
  (void)nb_ns_nbstat_statistics(a, &sa);
  (void)nb_ns_nbstat_statistics(b, &sb);
  snprintf(f, sizeof f, "%s.unit_id", pfx);
  cmp_text(res, zero_or_set(sa.unit_id, 6), zero_or_set(sb.unit_id, 6), "%s",
           f);
  memset(sa.unit_id, 0, sizeof sa.unit_id);
  memset(sb.unit_id, 0, sizeof sb.unit_id);
  static const nb_ns_statistics_t zero;
  cmp_text(res, memcmp(&sa, &zero, sizeof sa) ? "set" : "zero",
           memcmp(&sb, &zero, sizeof sb) ? "set" : "zero", "%s.statistics",
           pfx);
}

static void hex_text(const uint8_t *p, size_t n, char *buf, size_t cap) {
  size_t o = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n && o + 3 < cap; i++) {
    o += (size_t)snprintf(buf + o, cap - o, "%02x", p[i]);
  }
  if (n * 2 + 1 > cap && cap > 4) {
    memcpy(buf + cap - 4, "...", 4);
  }
}

static void cmp_rdata(nbt_rp_result_t *res, const rp_norm_t *nm,
                      const nb_ns_rr_t *a, const nb_ns_rr_t *b,
                      const char *pfx) {
  if (a->rrtype != b->rrtype) {
    return; /* already reported as the type */
  }
  if (a->rrtype == NB_NS_TYPE_NB) {
    cmp_nb_rdata(res, nm, a, b, pfx);
  } else if (a->rrtype == NB_NS_TYPE_NBSTAT) {
    cmp_nbstat_rdata(res, a, b, pfx);
  } else if (a->rrtype == NB_NS_TYPE_A) {
    char ta[16];
    char tb[16];
    addr_text(a->a_addr, nm->rec_server, ta);
    addr_text(b->a_addr, nm->live_server, tb);
    cmp_text(res, ta, tb, "%s.addr", pfx);
  } else if (a->rrtype == NB_NS_TYPE_NS) {
    char f[NBT_RP_FIELD_MAX];
    snprintf(f, sizeof f, "%s.nsd_name", pfx);
    cmp_name(res, &a->nsd.name, &b->nsd.name, f);
  } else {
    char ta[NBT_RP_VALUE_MAX];
    char tb[NBT_RP_VALUE_MAX];
    hex_text(a->rdata, a->rdlength, ta, sizeof ta);
    hex_text(b->rdata, b->rdlength, tb, sizeof tb);
    cmp_text(res, ta, tb, "%s.rdata", pfx);
  }
}

static void cmp_rr(nbt_rp_result_t *res, const rp_norm_t *nm,
                   const nb_ns_msg_t *ma, size_t i, const nb_ns_msg_t *mb,
                   const char *rp) {
  const nb_ns_rr_t *a = &ma->rr[i];
  const nb_ns_rr_t *b = &mb->rr[i];
  static const char *const sect[] = {"an", "ns", "ar"};
  char pfx[NBT_RP_FIELD_MAX];
  char f[NBT_RP_FIELD_MAX];
  snprintf(pfx, sizeof pfx, "%s.%s[%zu]", rp, sect[a->section % 3], i);
  snprintf(f, sizeof f, "%s.name", pfx);
  cmp_name(res, &a->rrname.name, &b->rrname.name, f);
  snprintf(f, sizeof f, "%s.type", pfx);
  cmp_u(res, a->rrtype, b->rrtype, f, true);
  snprintf(f, sizeof f, "%s.class", pfx);
  cmp_u(res, a->rrclass, b->rrclass, f, true);
  snprintf(f, sizeof f, "%s.ttl", pfx);
  cmp_ttl(res, nm, ma, a, b, f);
  snprintf(f, sizeof f, "%s.rdlength", pfx);
  cmp_u(res, a->rdlength, b->rdlength, f, false);
  cmp_rdata(res, nm, a, b, pfx);
}

static void cmp_ns_msg(nbt_rp_result_t *res, const rp_norm_t *nm,
                       const nb_ns_msg_t *a, const nb_ns_msg_t *b,
                       const char *rp) {
  char ta[NBT_RP_VALUE_MAX];
  char tb[NBT_RP_VALUE_MAX];
  cmp_text(res, nb_ns_kind_ident(a->kind), nb_ns_kind_ident(b->kind), "%s.kind",
           rp);
  flags_text(nb_ns_flags_word(&a->hdr), ta, sizeof ta);
  flags_text(nb_ns_flags_word(&b->hdr), tb, sizeof tb);
  cmp_text(res, ta, tb, "%s.flags", rp);
  snprintf(ta, sizeof ta, "%u/%u/%u/%u", a->qdcount, a->ancount, a->nscount,
           a->arcount);
  snprintf(tb, sizeof tb, "%u/%u/%u/%u", b->qdcount, b->ancount, b->nscount,
           b->arcount);
  cmp_text(res, ta, tb, "%s.counts", rp);
  if (strcmp(ta, tb) != 0) {
    return; /* records do not line up */
  }
  for (size_t i = 0; i < a->qdcount && i < NB_NS_MAX_QUESTIONS; i++) {
    char f[NBT_RP_FIELD_MAX];
    snprintf(f, sizeof f, "%s.qd[%zu].name", rp, i);
    cmp_name(res, &a->qd[i].qname.name, &b->qd[i].qname.name, f);
    snprintf(f, sizeof f, "%s.qd[%zu].type", rp, i);
    cmp_u(res, a->qd[i].qtype, b->qd[i].qtype, f, true);
  }
  size_t nrr = (size_t)a->ancount + a->nscount + a->arcount;
  for (size_t i = 0; i < nrr && i < NB_NS_MAX_RRS; i++) {
    cmp_rr(res, nm, a, i, b, rp);
  }
  cmp_u(res, a->trailing_len, b->trailing_len, "trailing bytes", false);
}

/* ---- parsing both sides ------------------------------------------------ */

/* Heap-allocated: an nb_ns_msg_t is about 5 KiB. */
static nb_ns_msg_t *ns_parse(const nbt_rp_msg_t *m, nb_diag_t *d) {
  nb_ns_msg_t *out = malloc(sizeof *out);
  if (out != NULL && nb_ns_parse(m->data, m->len, out, d) != NB_OK) {
    free(out);
    out = NULL;
  }
  return out;
}

static void diag_text(const nb_diag_t *d, char *buf, size_t cap) {
  snprintf(buf, cap, "%s at %zu (%s)", nb_errname(d->err), d->offset,
           d->field ? d->field : "?");
}

static void cmp_ns_resp(nbt_rp_result_t *res, const rp_norm_t *nm,
                        const nbt_rp_msg_t *ra, const nbt_rp_msg_t *rb,
                        const char *rp) {
  nb_diag_t da = {NB_OK, 0, NULL};
  nb_diag_t db = {NB_OK, 0, NULL};
  nb_ns_msg_t *a = ns_parse(ra, &da);
  nb_ns_msg_t *b = ns_parse(rb, &db);
  if (a != NULL && b != NULL) {
    cmp_ns_msg(res, nm, a, b, rp);
  } else {
    char ta[NBT_RP_VALUE_MAX] = "parses";
    char tb[NBT_RP_VALUE_MAX] = "parses";
    if (a == NULL) {
      diag_text(&da, ta, sizeof ta);
    }
    if (b == NULL) {
      diag_text(&db, tb, sizeof tb);
    }
    cmp_text(res, ta, tb, "%s.parse", rp);
  }
  free(a);
  free(b);
}

/* ---- session service --------------------------------------------------- */

/* "SMB1 0x72", "SMB2 0x0000", "none" (empty), or "other" (not SMB): the
 * protocol magic ([MS-CIFS] 2.2.3.1, [MS-SMB2] 2.2.1) and the command. */
static void smb_text(const uint8_t *p, size_t n, char *buf, size_t cap) {
  nb_rd_t r;
  uint32_t magic = 0;
  nb_rd_init(&r, p, n);
  if (n == 0) {
    snprintf(buf, cap, "none");
    return;
  }
  if (nb_rd_be32(&r, &magic) != NB_OK) {
    snprintf(buf, cap, "other");
  } else if (magic == 0xff534d42u) { /* 0xFF 'S' 'M' 'B' */
    uint8_t cmd = 0;
    bool ok = nb_rd_u8(&r, &cmd) == NB_OK;
    snprintf(buf, cap, ok ? "SMB1 0x%02x" : "SMB1 ?", cmd);
  } else if (magic == 0xfe534d42u) { /* 0xFE 'S' 'M' 'B' */
    uint16_t cmd = 0;                /* little-endian at offset 12 */
    bool ok = nb_rd_skip(&r, 8) == NB_OK && nb_rd_be16(&r, &cmd) == NB_OK;
    cmd = (uint16_t)(cmd >> 8 | cmd << 8);
    snprintf(buf, cap, ok ? "SMB2 0x%04x" : "SMB2 ?", cmd);
  } else if (magic == 0xfd534d42u) {
    snprintf(buf, cap, "SMB3 transform");
  } else {
    snprintf(buf, cap, "other");
  }
}

/* The comparable text of one session packet: type, and LENGTH plus the
 * code for control packets, or the SMB magic and command for a message. */
static void ssn_text(const nbt_rp_msg_t *m, uint32_t server, char *buf,
                     size_t cap) {
  nb_rd_t r;
  nb_ssn_header_t h;
  nb_diag_t d = {NB_OK, 0, NULL};
  nb_rd_init(&r, m->data, m->len);
  nb_ssn_mode_t mode = m->len > 0 && m->data[0] == 0 && m->len >= 2 &&
                               (m->data[1] & ~NB_SSN_FLAG_E) != 0
                           ? NB_SSN_MODE_DIRECT
                           : NB_SSN_MODE_RFC;
  if (nb_ssn_parse_header(&r, mode, &h, &d) != NB_OK) {
    diag_text(&d, buf, cap);
    return;
  }
  if (h.type == NB_SSN_SESSION_MESSAGE) {
    char smb[32];
    smb_text(m->data + r.pos, m->len - r.pos, smb, sizeof smb);
    snprintf(buf, cap, "SESSION MESSAGE %s", smb);
  } else if (h.type == NB_SSN_NEGATIVE_SESSION_RESPONSE && m->len > 4) {
    snprintf(buf, cap, "NEGATIVE SESSION RESPONSE 0x%02x", m->data[4]);
  } else if (h.type == NB_SSN_RETARGET_SESSION_RESPONSE && m->len >= 10) {
    nb_rd_t t = r;
    uint32_t ip = 0;
    uint16_t port = 0;
    char a[16];
    (void)nb_rd_be32(&t, &ip);
    (void)nb_rd_be16(&t, &port);
    addr_text(ip, server, a);
    snprintf(buf, cap, "RETARGET SESSION RESPONSE %s:%u", a, port);
  } else {
    snprintf(buf, cap, "%s length %lu", nb_ssn_type_name(h.type),
             (unsigned long)h.length);
  }
}

/* The status of an SMB message as text ("0xc000006d"), or "" when the
 * packet is not a SESSION MESSAGE carrying SMB1 or SMB2: a 32-bit
 * little-endian NT status after the command ([MS-CIFS] 2.2.3.1) or at
 * offset 8 ([MS-SMB2] 2.2.1). Reported as a note only: the comparison
 * itself stops at magic and command. */
static void smb_status(const nbt_rp_msg_t *m, char *buf, size_t cap) {
  nb_rd_t r;
  uint8_t type = 1;
  uint32_t magic = 0;
  uint32_t st = 0;
  size_t skip = 0;
  buf[0] = '\0';
  nb_rd_init(&r, m->data, m->len);
  if (nb_rd_u8(&r, &type) != NB_OK || type != NB_SSN_SESSION_MESSAGE ||
      nb_rd_skip(&r, 3) != NB_OK || nb_rd_be32(&r, &magic) != NB_OK) {
    return;
  }
  skip = magic == 0xff534d42u ? 1 : magic == 0xfe534d42u ? 4 : 0;
  if (skip == 0 || nb_rd_skip(&r, skip) != NB_OK ||
      nb_rd_be32(&r, &st) != NB_OK) {
    return;
  }
  st =
      (st >> 24) | ((st >> 8) & 0xff00u) | ((st << 8) & 0xff0000u) | (st << 24);
  snprintf(buf, cap, "0x%08lx", (unsigned long)st);
}

static void cmp_ssn(nbt_rp_result_t *res, const nbt_rp_exch_t *e,
                    const rp_norm_t *nm) {
  cmp_u(res, e->nrec, res->nlive, "packets", false);
  for (size_t i = 0; i < e->nrec && i < res->nlive; i++) {
    char ta[NBT_RP_VALUE_MAX];
    char tb[NBT_RP_VALUE_MAX];
    ssn_text(&e->rec[i], nm->rec_server, ta, sizeof ta);
    ssn_text(&res->live[i], nm->live_server, tb, sizeof tb);
    cmp_text(res, ta, tb, "resp[%zu]", i);
    smb_status(&e->rec[i], ta, sizeof ta);
    smb_status(&res->live[i], tb, sizeof tb);
    if (ta[0] != '\0' && tb[0] != '\0' && strcmp(ta, tb) != 0) {
      char f[NBT_RP_FIELD_MAX];
      snprintf(f, sizeof f, "resp[%zu].smb_status", i);
      nbt_rp_diff_add(res, true, f, ta, tb);
    }
  }
  cmp_text(res, e->rec_closed ? "closed" : "open",
           res->live_closed ? "closed" : "open", "connection");
}

/* ---- datagrams ---------------------------------------------------------- */

static void dgm_text(const nbt_rp_msg_t *m, char *buf, size_t cap) {
  nb_dgm_msg_t d;
  nb_diag_t dg = {NB_OK, 0, NULL};
  if (nb_dgm_parse(m->data, m->len, &d, &dg) != NB_OK) {
    diag_text(&dg, buf, cap);
  } else if (d.msg_type == NB_DGM_ERROR) {
    snprintf(buf, cap, "%s 0x%02x", nb_dgm_type_name(d.msg_type), d.error_code);
  } else {
    char n[NB_NAME_TEXT_MAX];
    nb_name_to_text(&d.destination_name, n, sizeof n);
    snprintf(buf, cap, "%s %s", nb_dgm_type_name(d.msg_type), n);
  }
}

/* ---- the exchange -------------------------------------------------------- */

/* Indexes of the distinct messages of `m` (byte-identical copies dropped). */
static size_t distinct(const nbt_rp_msg_t *m, size_t n, size_t *idx) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    bool dup = false;
    for (size_t j = 0; j < k && !dup; j++) {
      const nbt_rp_msg_t *o = &m[idx[j]];
      dup = o->len == m[i].len && memcmp(o->data, m[i].data, o->len) == 0;
    }
    if (!dup) {
      idx[k++] = i;
    }
  }
  return k;
}

static void cmp_udp(nbt_rp_result_t *res, const nbt_rp_exch_t *e,
                    const rp_norm_t *nm) {
  size_t ia[NBT_RP_MAX_RESP];
  size_t ib[NBT_RP_MAX_RESP];
  size_t na = distinct(e->rec, e->nrec, ia);
  size_t nb = distinct(res->live, res->nlive, ib);
  cmp_u(res, na, nb, "responses", false);
  if (na == nb && e->nrec != res->nlive) {
    char ta[16];
    char tb[16];
    snprintf(ta, sizeof ta, "%zu", e->nrec);
    snprintf(tb, sizeof tb, "%zu", res->nlive);
    nbt_rp_diff_add(res, true, "copies", ta, tb);
  }
  for (size_t i = 0; i < na && i < nb; i++) {
    char rp[16];
    snprintf(rp, sizeof rp, "resp[%zu]", i);
    if (e->kind == NBT_RP_NS) {
      cmp_ns_resp(res, nm, &e->rec[ia[i]], &res->live[ib[i]], rp);
    } else {
      char ta[NBT_RP_VALUE_MAX];
      char tb[NBT_RP_VALUE_MAX];
      dgm_text(&e->rec[ia[i]], ta, sizeof ta);
      dgm_text(&res->live[ib[i]], tb, sizeof tb);
      cmp_text(res, ta, tb, "%s", rp);
    }
  }
}

void nbt_rp_compare(const nbt_rp_exch_t *e, const nbt_rp_plan_t *plan,
                    const nbt_rp_opts_t *o, nbt_rp_result_t *res) {
  rp_norm_t nm = {plan->server, o->target, o->strict_ttl};
  if (res->status == NBT_RP_SKIPPED) {
    return;
  }
  if (res->error[0] != '\0') {
    nbt_rp_diff_add(res, false, "io", "ok", res->error);
  }
  if (e->kind == NBT_RP_SSN) {
    cmp_ssn(res, e, &nm);
  } else {
    cmp_udp(res, e, &nm);
  }
  res->status = NBT_RP_AGREE;
  for (size_t i = 0; i < res->ndiffs; i++) {
    if (!res->diffs[i].note) {
      res->status = NBT_RP_DIFFER;
    }
  }
  if (res->diffs_dropped > 0) {
    res->status = NBT_RP_DIFFER;
  }
}

/* ---- descriptions -------------------------------------------------------- */

static void describe_ns(const nbt_rp_msg_t *m, char *buf, size_t cap) {
  nb_diag_t d = {NB_OK, 0, NULL};
  nb_ns_msg_t *p = ns_parse(m, &d);
  if (p == NULL) {
    char t[NBT_RP_VALUE_MAX];
    diag_text(&d, t, sizeof t);
    snprintf(buf, cap, "unparsable: %s", t);
    return;
  }
  char n[NB_NAME_TEXT_MAX] = "";
  if (p->qdcount > 0) {
    nb_name_to_text(&p->qd[0].qname.name, n, sizeof n);
  } else if (p->ancount + p->nscount + p->arcount > 0) {
    nb_name_to_text(&p->rr[0].rrname.name, n, sizeof n);
  }
  snprintf(buf, cap, "%s 0x%04x %s", nb_ns_kind_ident(p->kind),
           nb_ns_flags_word(&p->hdr), n);
  free(p);
}

static void describe_ssn(const nbt_rp_msg_t *m, char *buf, size_t cap) {
  nb_ssn_packet_t p;
  nb_diag_t d = {NB_OK, 0, NULL};
  if (m->len < 4 || m->data[0] != NB_SSN_SESSION_REQUEST ||
      nb_ssn_parse(m->data, m->len, NB_SSN_MODE_RFC, &p, NULL, &d) != NB_OK) {
    ssn_text(m, 0, buf, cap);
    return;
  }
  char called[NB_NAME_TEXT_MAX];
  char calling[NB_NAME_TEXT_MAX];
  nb_name_to_text(&p.called, called, sizeof called);
  nb_name_to_text(&p.calling, calling, sizeof calling);
  snprintf(buf, cap, "SESSION REQUEST %s from %s", called, calling);
}

void nbt_rp_describe(nbt_rp_kind_t kind, const nbt_rp_msg_t *m, char *buf,
                     size_t cap) {
  if (kind == NBT_RP_NS) {
    describe_ns(m, buf, cap);
  } else if (kind == NBT_RP_SSN) {
    describe_ssn(m, buf, cap);
  } else {
    dgm_text(m, buf, cap);
  }
}

void nbt_rp_result_free(nbt_rp_result_t *res) {
  for (size_t i = 0; i < res->nlive; i++) {
    nbt_rp_msg_free(&res->live[i]);
  }
  res->nlive = 0;
}
