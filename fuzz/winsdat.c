/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_winsdat: nmbd's wins.dat text parser (nb_nbns_winsdat_parse_line)
 * and its writer (nb_nbns_winsdat_format), the format `nbt wins import`
 * reads from another machine: untrusted text.
 *
 * Input: byte 0 picks the scope (bit 0: "corp", else none); the rest is a
 * wins.dat, split into lines at '\n'. Every line must parse to a record,
 * to "no record" (NB_ENOTFOUND), to "too close to expiry"
 * (NB_ETIMEDOUT) or to NB_EMALFORMED with a column inside the line.
 * A record must be sane (1..NB_NBNS_MAX_ADDRS members, no 0.0.0.0, each
 * alive for at least 60 s, the group flag in every member's NB_FLAGS).
 * The writer keeps snprintf's contract (the same length for every buffer
 * size, a NUL inside the buffer, a prefix of the whole line), and its line
 * parses back to the same name, group, members and NB_FLAGS, and writes
 * again to the same text. */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nb/nbns.h"

static void require(int cond) {
  if (!cond) {
    abort();
  }
}

/* Any fixed instant (2025-11-21), and the engine clock at that instant. */
#define NOW_UNIX_MS UINT64_C(1763700000000)
#define NOW_MS UINT64_C(5000000)

static void check_record(const nb_nbns_record_t *r) {
  require(r->n_members >= 1 && r->n_members <= NB_NBNS_MAX_ADDRS);
  for (size_t i = 0; i < r->n_members; i++) {
    const nb_nbns_member_t *m = &r->members[i];
    require(m->ip != 0);
    require(m->expire_ms == NB_NBNS_NEVER || m->expire_ms >= NOW_MS + 60000);
    require(((m->nb_flags & 0x8000u) != 0) == r->group);
  }
}

static void same_record(const nb_nbns_record_t *a, const nb_nbns_record_t *b) {
  require(nb_name_equal(&a->name, &b->name));
  require(a->group == b->group && a->n_members == b->n_members);
  for (size_t i = 0; i < a->n_members; i++) {
    require(a->members[i].ip == b->members[i].ip);
  }
  /* The line holds one FLAGS byte for the record: the last member's. */
  require(a->members[a->n_members - 1].nb_flags ==
          b->members[b->n_members - 1].nb_flags);
}

static void check_line(const char *line, size_t len, const char *scope) {
  static nb_nbns_record_t r, back, again;
  static char text[4096], text2[4096], small[64];
  nb_diag_t d = {NB_OK, 0, NULL};
  nb_err_t err =
      nb_nbns_winsdat_parse_line(line, len, scope, NOW_UNIX_MS, NOW_MS, &r, &d);
  if (err == NB_EMALFORMED) {
    require(d.err == err && d.field != NULL && d.offset <= len);
    return;
  }
  require(err == NB_OK || err == NB_ENOTFOUND || err == NB_ETIMEDOUT);
  if (err != NB_OK) {
    return;
  }
  check_record(&r);
  size_t n = nb_nbns_winsdat_format(&r, NOW_UNIX_MS, NOW_MS, text, sizeof text);
  require(n > 0 && n < sizeof text && strlen(text) == n && text[n - 1] == '\n');
  for (size_t cap = 0; cap <= sizeof small && cap <= n + 1; cap += 7) {
    memset(small, 'x', sizeof small);
    require(nb_nbns_winsdat_format(&r, NOW_UNIX_MS, NOW_MS,
                                   cap > 0 ? small : NULL, cap) == n);
    if (cap > 0) {
      size_t got = strnlen(small, cap);
      require(got == (n < cap ? n : cap - 1));
      require(memcmp(small, text, got) == 0);
    }
  }
  /* The line we wrote parses back to the record and writes again the same. */
  require(nb_nbns_winsdat_parse_line(text, n - 1, scope, NOW_UNIX_MS, NOW_MS,
                                     &back, NULL) == NB_OK);
  same_record(&r, &back);
  size_t n2 =
      nb_nbns_winsdat_format(&back, NOW_UNIX_MS, NOW_MS, text2, sizeof text2);
  require(n2 == n && memcmp(text, text2, n) == 0);
  require(nb_nbns_winsdat_parse_line(text2, n2, scope, NOW_UNIX_MS, NOW_MS,
                                     &again, NULL) == NB_OK);
  same_record(&back, &again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const char *scope = (data[0] & 1u) ? "corp" : NULL;
  const char *p = (const char *)data + 1;
  size_t left = size - 1;
  while (left > 0) {
    const char *nl = memchr(p, '\n', left);
    size_t len = nl != NULL ? (size_t)(nl - p) : left;
    check_line(p, len, scope);
    if (nl == NULL) {
      break;
    }
    left -= len + 1;
    p = nl + 1;
  }
  return 0;
}
