/* SPDX-License-Identifier: BSD-2-Clause */
/* `nbt replay` output: text, JSON lines and JUnit XML (docs/REPLAY.md). */
#include <string.h>

#include "replay.h"
#include "util.h"

static const char *const kind_name[] = {"nbns", "nbdgm", "nbss"};
static const char *const status_name[] = {"agree", "differ", "skipped"};

static size_t first_diff(const nbt_rp_msg_t *a, const nbt_rp_msg_t *b) {
  size_t n = a->len < b->len ? a->len : b->len;
  for (size_t i = 0; i < n; i++) {
    if (a->data[i] != b->data[i]) {
      return i;
    }
  }
  return n;
}

/* ---- text ------------------------------------------------------------- */

static void text_msgs(FILE *f, const char *label, nbt_rp_kind_t kind,
                      const nbt_rp_msg_t *m, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char d[160];
    nbt_rp_describe(kind, &m[i], d, sizeof d);
    fprintf(f, "    %s[%zu] %s (%zu bytes", label, i, d, m[i].full_len);
    if (m[i].frame) {
      fprintf(f, ", frame %lu", m[i].frame);
    }
    fprintf(f, ")\n      ");
    nbt_print_hex(f, m[i].data, m[i].len);
    fprintf(f, "%s\n", m[i].len < m[i].full_len ? "..." : "");
  }
}

static void text_exchange(FILE *f, size_t index, const nbt_rp_exch_t *e,
                          const nbt_rp_result_t *r) {
  char src[16];
  char dst[16];
  char req[160];
  nbt_rp_ip4_text(e->src, src);
  nbt_rp_ip4_text(e->dst, dst);
  nbt_rp_describe(e->kind, &e->req, req, sizeof req);
  fprintf(f, "#%zu %s frame %lu %s:%u > %s:%u", index, kind_name[e->kind],
          e->req.frame, src, e->sport, dst, e->dport);
  if (e->kind == NBT_RP_SSN) {
    fprintf(f, " conn %u turn %u", e->conn, e->turn);
  }
  fprintf(f, " %s: %s (recorded %zu, live %zu)\n", req, status_name[r->status],
          e->nrec, r->nlive);
  for (size_t i = 0; i < r->ndiffs; i++) {
    const nbt_rp_diff_t *d = &r->diffs[i];
    fprintf(f, "  %s %s: recorded %s, live %s\n", d->note ? "note" : "diff",
            d->field, d->recorded, d->live);
  }
  if (r->status == NBT_RP_DIFFER) {
    text_msgs(f, "recorded", e->kind, e->rec, e->nrec);
    text_msgs(f, "live", e->kind, r->live, r->nlive);
  }
}

/* ---- JSON ------------------------------------------------------------- */

static void json_s(FILE *f, const char *s) { nbt_json_str(f, s, strlen(s)); }

static void json_hex_list(FILE *f, const char *key, const nbt_rp_msg_t *m,
                          size_t n) {
  fprintf(f, ",\"%s\":[", key);
  for (size_t i = 0; i < n; i++) {
    fprintf(f, "%s\"", i ? "," : "");
    nbt_print_hex(f, m[i].data, m[i].len);
    fputc('"', f);
  }
  fputc(']', f);
}

static void json_diffs(FILE *f, const nbt_rp_result_t *r, bool notes) {
  fprintf(f, ",\"%s\":[", notes ? "notes" : "diffs");
  bool first = true;
  for (size_t i = 0; i < r->ndiffs; i++) {
    const nbt_rp_diff_t *d = &r->diffs[i];
    if (d->note != notes) {
      continue;
    }
    fprintf(f, "%s{\"field\":", first ? "" : ",");
    json_s(f, d->field);
    fprintf(f, ",\"recorded\":");
    json_s(f, d->recorded);
    fprintf(f, ",\"live\":");
    json_s(f, d->live);
    fputc('}', f);
    first = false;
  }
  fputc(']', f);
}

/* Byte offset of the first difference of each recorded/live pair (-1 when
 * there is no partner), for the report's byte diff. */
static void json_first_diff(FILE *f, const nbt_rp_exch_t *e,
                            const nbt_rp_result_t *r) {
  size_t n = e->nrec > r->nlive ? e->nrec : r->nlive;
  fprintf(f, ",\"first_diff\":[");
  for (size_t i = 0; i < n; i++) {
    if (i < e->nrec && i < r->nlive) {
      size_t at = first_diff(&e->rec[i], &r->live[i]);
      bool same = at == e->rec[i].len && at == r->live[i].len;
      fprintf(f, "%s%ld", i ? "," : "", same ? -1L : (long)at);
    } else {
      fprintf(f, "%snull", i ? "," : "");
    }
  }
  fputc(']', f);
}

static void json_exchange(FILE *f, size_t index, const nbt_rp_exch_t *e,
                          const nbt_rp_result_t *r) {
  char a[16];
  char req[160];
  fprintf(f, "{\"exchange\":%zu,\"proto\":\"%s\",\"frame\":%lu,\"ts\":%.6f",
          index, kind_name[e->kind], e->req.frame, e->ts);
  nbt_rp_ip4_text(e->src, a);
  fprintf(f, ",\"src\":\"%s\",\"sport\":%u", a, e->sport);
  nbt_rp_ip4_text(e->dst, a);
  fprintf(f, ",\"dst\":\"%s\",\"dport\":%u", a, e->dport);
  if (e->kind == NBT_RP_SSN) {
    fprintf(f, ",\"conn\":%u,\"turn\":%u", e->conn, e->turn);
  }
  nbt_rp_describe(e->kind, &e->req, req, sizeof req);
  fprintf(f, ",\"request\":");
  json_s(f, req);
  fprintf(f, ",\"status\":\"%s\",\"agree\":%s,\"recorded\":%zu,\"live\":%zu",
          status_name[r->status], r->status == NBT_RP_AGREE ? "true" : "false",
          e->nrec, r->nlive);
  if (e->kind == NBT_RP_SSN) {
    fprintf(f, ",\"recorded_closed\":%s,\"live_closed\":%s",
            e->rec_closed ? "true" : "false",
            r->live_closed ? "true" : "false");
  }
  fprintf(f, ",\"stray\":%zu,\"ms\":%.1f,\"error\":", r->stray, r->ms);
  json_s(f, r->error);
  json_diffs(f, r, false);
  json_diffs(f, r, true);
  json_hex_list(f, "request_hex", &e->req, 1);
  json_hex_list(f, "recorded_hex", e->rec, e->nrec);
  json_hex_list(f, "live_hex", r->live, r->nlive);
  json_first_diff(f, e, r);
  fprintf(f, "}\n");
}

void nbt_rp_report_exchange(FILE *f, nbt_rp_format_t fmt, size_t index,
                            const nbt_rp_exch_t *e, const nbt_rp_result_t *r) {
  if (fmt == NBT_RP_JSON) {
    json_exchange(f, index, e, r);
  } else {
    text_exchange(f, index, e, r);
  }
}

void nbt_rp_report_summary(FILE *f, const char *pcap, const nbt_rp_plan_t *p,
                           const nbt_rp_opts_t *o, const size_t count[3]) {
  char srv[16];
  char tgt[16];
  nbt_rp_ip4_text(p->server, srv);
  nbt_rp_ip4_text(o->target, tgt);
  fprintf(f,
          "replay %s: %zu exchanges, %zu agree, %zu differ, %zu skipped "
          "(server %s%s, target %s)\n",
          pcap, p->nexch, count[NBT_RP_AGREE], count[NBT_RP_DIFFER],
          count[NBT_RP_SKIPPED], p->server ? srv : "none",
          p->server_given ? "" : " detected", tgt);
  fprintf(f,
          "replay %s: %lu frames; skipped %lu not IPv4 UDP/TCP, %lu bad "
          "headers, %lu fragments, %lu unrelated, %lu unpaired responses\n",
          pcap, p->frames, p->not_ip4, p->bad_hdr, p->frags, p->ignored,
          p->unpaired);
  for (unsigned i = 0; i < p->nnotes; i++) {
    fprintf(f, "replay %s: note: %s\n", pcap, p->notes[i]);
  }
}

/* ---- JUnit XML -------------------------------------------------------- */

static void xml_s(FILE *f, const char *s) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    switch (c) {
    case '<':
      fputs("&lt;", f);
      break;
    case '>':
      fputs("&gt;", f);
      break;
    case '&':
      fputs("&amp;", f);
      break;
    case '"':
      fputs("&quot;", f);
      break;
    default:
      /* XML 1.0 allows no other control characters, even escaped. */
      fputc((c < 0x20 && c != '\n' && c != '\t') || c >= 0x7f ? '?' : c, f);
    }
  }
}

void nbt_rp_junit_case(FILE *f, size_t i, const nbt_rp_exch_t *e,
                       const nbt_rp_result_t *r) {
  char req[160];
  char name[220];
  nbt_rp_describe(e->kind, &e->req, req, sizeof req);
  snprintf(name, sizeof name, "%03zu frame %lu %s", i + 1, e->req.frame, req);
  fprintf(f, "    <testcase classname=\"replay.%s\" name=\"",
          kind_name[e->kind]);
  xml_s(f, name);
  fprintf(f, "\" time=\"%.3f\">\n", r->ms / 1e3);
  if (r->status == NBT_RP_SKIPPED) {
    fprintf(f, "      <skipped message=\"");
    xml_s(f, r->error);
    fprintf(f, "\"/>\n");
  } else if (r->status == NBT_RP_DIFFER) {
    fprintf(f, "      <failure message=\"%zu difference(s)\">", r->ndiffs);
    for (size_t k = 0; k < r->ndiffs; k++) {
      char line[300];
      const nbt_rp_diff_t *d = &r->diffs[k];
      snprintf(line, sizeof line, "%s %s: recorded %s, live %s\n",
               d->note ? "note" : "diff", d->field, d->recorded, d->live);
      xml_s(f, line);
    }
    fprintf(f, "</failure>\n");
  }
  fprintf(f, "    </testcase>\n");
}

int nbt_rp_junit_write(const char *path, const char *pcap,
                       const nbt_rp_junit_t *j) {
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    return -1;
  }
  fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
  fprintf(f, "  <testsuite name=\"nbt replay ");
  xml_s(f, pcap);
  fprintf(f,
          "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" "
          "time=\"%.3f\">\n",
          j->tests, j->failures, j->skipped, j->seconds);
  if (j->body_len > 0) {
    fwrite(j->body, 1, j->body_len, f);
  }
  fprintf(f, "  </testsuite>\n</testsuites>\n");
  return fclose(f) == 0 ? 0 : -1;
}
