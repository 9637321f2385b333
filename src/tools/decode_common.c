/* SPDX-License-Identifier: BSD-2-Clause */
/* Printing helpers shared by the nbt decode printers (see decode.h). */
#include "decode.h"

#include <string.h>

#include "util.h"

void nbt_decode_json_begin(const nbt_decode_opts_t *o, const nbt_pkt_meta_t *m,
                           const char *proto) {
  FILE *f = o->out;
  fprintf(f, "{\"frame\":%lu,\"ts\":%.6f,\"src\":", m->frame, m->ts);
  nbt_json_str(f, m->src, strlen(m->src));
  fprintf(f, ",\"dst\":");
  nbt_json_str(f, m->dst, strlen(m->dst));
  fprintf(f, ",\"sport\":%u,\"dport\":%u,\"proto\":\"%s\"", m->sport, m->dport,
          proto);
}

void nbt_decode_json_end(const nbt_decode_opts_t *o) { fputs("}\n", o->out); }

void nbt_decode_text_prefix(const nbt_decode_opts_t *o,
                            const nbt_pkt_meta_t *m) {
  if (m->frame == 0 && m->src[0] == '\0') {
    return;
  }
  fprintf(o->out, "frame %lu %s:%u > %s:%u ", m->frame, m->src, m->sport,
          m->dst, m->dport);
}

void nbt_decode_json_error(const nbt_decode_opts_t *o, const nb_diag_t *d) {
  FILE *f = o->out;
  fprintf(f,
          ",\"ok\":false,\"error\":{\"code\":\"%s\",\"offset\":%zu,"
          "\"field\":",
          nb_errname(d->err), d->offset);
  const char *field = d->field ? d->field : "";
  nbt_json_str(f, field, strlen(field));
  fputc('}', f);
}

void nbt_decode_text_error(const nbt_decode_opts_t *o, const char *text_proto,
                           const nb_diag_t *d) {
  fprintf(o->out, "%s error %s at offset %zu (%s): %s\n", text_proto,
          nb_errname(d->err), d->offset, d->field ? d->field : "",
          nb_strerror(d->err));
}

void nbt_decode_failed(const nbt_decode_opts_t *o, const nbt_pkt_meta_t *m,
                       const char *json_proto, const char *text_proto,
                       size_t len, nb_err_t e, nb_diag_t d) {
  if (d.err == NB_OK) {
    d.err = e; /* never report a failure as "OK" */
  }
  if (o->json) {
    nbt_decode_json_begin(o, m, json_proto);
    fprintf(o->out, ",\"len\":%zu", len);
    nbt_decode_json_error(o, &d);
    nbt_decode_json_end(o);
  } else {
    nbt_decode_text_prefix(o, m);
    nbt_decode_text_error(o, text_proto, &d);
  }
}

void nbt_decode_text_finding(FILE *f, const nbt_finding_t *fd) {
  fprintf(f, "\n  finding %s (%s) at %llu: %s", fd->rule, fd->rfc,
          (unsigned long long)fd->offset, fd->text);
}

void nbt_decode_json_finding(FILE *f, bool first, const nbt_finding_t *fd) {
  fprintf(f, "%s{\"rule\":\"%s\",\"rfc\":\"%s\",\"offset\":%llu,\"text\":",
          first ? "" : ",", fd->rule, fd->rfc, (unsigned long long)fd->offset);
  nbt_json_str(f, fd->text, strlen(fd->text));
  fputc('}', f);
}
