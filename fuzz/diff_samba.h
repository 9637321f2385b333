/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NB_FUZZ_DIFF_SAMBA_H
#define NB_FUZZ_DIFF_SAMBA_H

/* What fuzz/diff_ns_samba.c and fuzz/diff_dgm_samba.c share: Samba's
 * headers, the name part of the interop-limit walker and the comparison of
 * a decoded name with Samba's struct nbt_name. Static functions: each
 * target includes this once. Both programs link Samba's GPL libndr-nbt and
 * are never installed (NB_WITH_SAMBA only). The limits and their reasons
 * are listed in docs/FUZZING.md "Differential limits". */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gen_ndr/ndr_nbt.h>
#include <ndr.h>
#include <talloc.h>

#include "nb/name.h"

/* Name limits (bits 0-7; each target numbers its own from bit 8). */
enum {
  LIM_FWD_POINTER = 1u << 0, /* a pointer not strictly backward */
  LIM_HOPS = 1u << 1,        /* more than 5 pointers in one name */
  LIM_LONG_NAME = 1u << 2,   /* over 255 octets or 128 labels */
  LIM_FIRST_LABEL = 1u << 3, /* not 32 bytes, or a NUL or dot in it */
  LIM_SCOPE_BYTES = 1u << 4, /* a scope byte outside 0x21-0x7E, or '.' */
  LIM_POINTER = 1u << 5      /* any compression pointer */
};
#define LIM_NAMES                                                              \
  (LIM_FWD_POINTER | LIM_HOPS | LIM_LONG_NAME | LIM_FIRST_LABEL |              \
   LIM_SCOPE_BYTES)

/* Verdict counts, printed at exit when NB_DIFF_STATS is set (to see how
 * much of a corpus is compared field by field and which limits explain
 * the rest): [0] both refuse, [1] both accept and compared, [2] both
 * accept, records read differently (not compared), [3] verdicts differ,
 * explained; per limit bit, the inputs showing it. */
static unsigned long diff_stats[4];
static unsigned long diff_limit_stats[16];
static const char *diff_stats_name;

static void diff_stats_print(void) {
  fprintf(stderr,
          "%s: both refuse %lu, both accept and compared %lu, both accept "
          "not compared %lu, explained disagreements %lu\n",
          diff_stats_name, diff_stats[0], diff_stats[1], diff_stats[2],
          diff_stats[3]);
  for (unsigned i = 0; i < 16; i++) {
    if (diff_limit_stats[i] != 0) {
      fprintf(stderr, "%s: limit bit %u seen in %lu inputs\n", diff_stats_name,
              i, diff_limit_stats[i]);
    }
  }
}

static void diff_count(const char *target, unsigned verdict, unsigned lim) {
  if (diff_stats_name == NULL) {
    diff_stats_name = target;
    if (getenv("NB_DIFF_STATS") != NULL) {
      atexit(diff_stats_print);
    }
  }
  diff_stats[verdict & 3u]++;
  for (unsigned i = 0; i < 16; i++) {
    diff_limit_stats[i] += (lim >> i) & 1u;
  }
}

static void diff_fail(const char *target, const char *what, unsigned limits) {
  fprintf(stderr, "%s: %s (limits seen: 0x%x)\n", target, what, limits);
  abort();
}

/* Our own lenient reading of a packet, structured as RFC 1002 (records end
 * at RDLENGTH, datagram data at DGM_LENGTH). It never fails: it records
 * which limits it saw. */
typedef struct {
  const uint8_t *p;
  size_t n;
  unsigned lim;
} walk_t;

static unsigned rd16(const walk_t *w, size_t at) {
  return at + 2 <= w->n ? (unsigned)w->p[at] << 8 | w->p[at + 1] : 0;
}

/* What name.c accepts in a scope label (printable, no space, no dot). */
static bool scope_byte_ok(uint8_t c) {
  return c > 0x20 && c < 0x7f && c != '.';
}

/* Walk one name at `at`; returns the offset after its in-place bytes, or 0
 * when it runs off the packet. */
static size_t walk_name(walk_t *w, size_t at) {
  size_t pos = at, seg = at, end = 0, octets = 0;
  unsigned hops = 0, labels = 0;
  while (pos < w->n) {
    uint8_t len = w->p[pos];
    if ((len & 0xC0) == 0xC0) {
      if (pos + 1 >= w->n) {
        return 0;
      }
      size_t target = (size_t)(len & 0x3F) << 8 | w->p[pos + 1];
      end = end ? end : pos + 2;
      w->lim |= LIM_POINTER | (target >= seg ? LIM_FWD_POINTER : 0);
      if (++hops > 5) {
        w->lim |= LIM_HOPS;
      }
      if (hops > 64) {
        return 0;
      }
      pos = seg = target;
      continue;
    }
    if (len == 0) {
      w->lim |= labels == 0 ? LIM_FIRST_LABEL : 0;
      break;
    }
    if ((len & 0xC0) != 0 || pos + 1 + len > w->n) {
      return 0;
    }
    if (labels == 0 && (len != 32 || memchr(w->p + pos + 1, 0, len) ||
                        memchr(w->p + pos + 1, '.', len))) {
      w->lim |= LIM_FIRST_LABEL; /* Samba: cut at a NUL, split at a dot */
    }
    for (size_t i = 0; labels > 0 && i < len; i++) {
      w->lim |= scope_byte_ok(w->p[pos + 1 + i]) ? 0 : LIM_SCOPE_BYTES;
    }
    octets += 1u + len;
    if (++labels > 128 || octets + 1 > 255) {
      w->lim |= LIM_LONG_NAME;
    }
    pos += 1u + len;
  }
  if (pos >= w->n) {
    return 0;
  }
  return end ? end : pos + 1;
}

/* Samba's form of a name: the 15 bytes with trailing spaces trimmed, then
 * cut at the first NUL (libcli/nbt/nbtname.c decompress_name, strdup). */
static bool same_name(const nb_name_t *n, const struct nbt_name *s) {
  char want[NB_NAME_BYTES];
  size_t len = NB_NAME_CHARS;
  memcpy(want, n->bytes, NB_NAME_CHARS);
  while (len > 0 && want[len - 1] == ' ') {
    len--;
  }
  want[len] = '\0';
  /* decompress_name() stores the suffix through a plain char: 0x80-0xFF
   * arrive sign-extended in the enum, so compare the low byte. */
  if (s->name == NULL || strcmp(s->name, want) != 0 ||
      (uint8_t)s->type != n->bytes[NB_NAME_BYTES - 1]) {
    return false;
  }
  if (n->scope_len == 0) {
    return s->scope == NULL;
  }
  return s->scope != NULL && strcmp(s->scope, n->scope) == 0;
}

#endif
