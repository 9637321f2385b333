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
  fprintf(f, ",\"sport\":%u,\"dport\":%u,\"proto\":\"%s\"", m->sport,
          m->dport, proto);
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
  fprintf(f, ",\"ok\":false,\"error\":{\"code\":\"%s\",\"offset\":%zu,"
             "\"field\":",
          nb_errname(d->err), d->offset);
  const char *field = d->field ? d->field : "";
  nbt_json_str(f, field, strlen(field));
  fputc('}', f);
}
