/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_replay_diff: `nbt replay`'s normalising comparison of recorded and
 * live responses, both of which are hostile.
 *
 * Input: byte 0 picks the kind (NS, DGM, SSN) in bits 0-1, --strict-ttl in
 * bit 2, whether the two sides use the same server address in bit 3, and
 * the recorded-close / live-close flags in bits 4-5; then messages, each a
 * side byte (bit 0: 0 recorded, 1 live) and a 16-bit big-endian length
 * followed by that many bytes. Oracles:
 *  - status is AGREE exactly when no difference (other than notes) was
 *    recorded, and nothing is dropped silently;
 *  - reflexive: the recorded messages compared with themselves agree;
 *  - symmetric: swapping recorded and live (and their servers) gives the
 *    same verdict;
 *  - the one-line description of every message is a terminated string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/tools/replay.h"

static void require(int cond) {
  if (!cond) {
    abort();
  }
}

static nbt_rp_status_t compare(const nbt_rp_exch_t *e, const nbt_rp_msg_t *live,
                               size_t nlive, bool closed, uint32_t rec_srv,
                               uint32_t live_srv, bool strict) {
  nbt_rp_plan_t plan;
  nbt_rp_opts_t o;
  nbt_rp_result_t *r = calloc(1, sizeof *r);
  require(r != NULL);
  memset(&plan, 0, sizeof plan);
  memset(&o, 0, sizeof o);
  plan.server = rec_srv;
  o.target = live_srv;
  o.strict_ttl = strict;
  memcpy(r->live, live, nlive * sizeof *live); /* borrowed, not freed */
  r->nlive = nlive;
  r->live_closed = closed;
  nbt_rp_compare(e, &plan, &o, r);
  size_t real = 0;
  for (size_t i = 0; i < r->ndiffs; i++) {
    real += !r->diffs[i].note;
    require(memchr(r->diffs[i].field, 0, sizeof r->diffs[i].field) != NULL);
  }
  require((r->status == NBT_RP_AGREE) == (real == 0 && !r->diffs_dropped));
  nbt_rp_status_t st = r->status;
  free(r);
  return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) {
    return 0;
  }
  nbt_rp_exch_t *e = calloc(1, sizeof *e);
  nbt_rp_msg_t live[NBT_RP_MAX_RESP];
  nbt_rp_msg_t rec_copy[NBT_RP_MAX_RESP];
  size_t nlive = 0;
  require(e != NULL);
  e->kind = (nbt_rp_kind_t)(data[0] % 3);
  e->rec_closed = (data[0] & 0x10) != 0;
  for (size_t pos = 1; pos + 3 <= size;) {
    bool is_live = data[pos] & 1;
    size_t n = (size_t)data[pos + 1] << 8 | data[pos + 2];
    pos += 3;
    n = n < size - pos ? n : size - pos;
    nbt_rp_msg_t *m = is_live ? &live[nlive] : &e->rec[e->nrec];
    if ((is_live ? nlive : e->nrec) < NBT_RP_MAX_RESP &&
        nbt_rp_msg_set(m, data + pos, n, n, 0)) {
      *(is_live ? &nlive : &e->nrec) += 1;
      char d[160];
      nbt_rp_describe(e->kind, m, d, sizeof d);
      require(memchr(d, 0, sizeof d) != NULL);
    }
    pos += n;
  }
  bool strict = (data[0] & 4) != 0;
  uint32_t a = 0x0a000106u;
  uint32_t b = (data[0] & 8) ? a : 0xc000020au;
  bool lc = (data[0] & 0x20) != 0;
  nbt_rp_status_t st = compare(e, live, nlive, lc, a, b, strict);

  /* Reflexive: the recorded side against itself. */
  require(compare(e, e->rec, e->nrec, e->rec_closed, a, a, strict) ==
          NBT_RP_AGREE);

  /* Symmetric: swap the sides. */
  nbt_rp_exch_t *s = calloc(1, sizeof *s);
  require(s != NULL);
  *s = *e;
  memcpy(rec_copy, e->rec, sizeof rec_copy);
  memcpy(s->rec, live, sizeof live);
  s->nrec = nlive;
  s->rec_closed = lc;
  require(compare(s, rec_copy, e->nrec, e->rec_closed, b, a, strict) == st);
  free(s);

  for (size_t i = 0; i < nlive; i++) {
    nbt_rp_msg_free(&live[i]);
  }
  for (size_t i = 0; i < e->nrec; i++) {
    nbt_rp_msg_free(&e->rec[i]);
  }
  free(e);
  return 0;
}
