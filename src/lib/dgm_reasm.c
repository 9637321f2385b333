/* SPDX-License-Identifier: BSD-2-Clause */
/* The datagram reassembler (RFC 1002 5.3.3, RFC 1001 17.1.2): sans-I/O,
 * time passed in, fixed storage, a hard cap on buffered bytes.
 *
 * WARNING: handles fragments derived from untrusted network data. Every
 * index into a slot is checked against DGM_LENGTH <= NB_DGM_DATA_MAX
 * before use; all caps are enforced before a slot is touched. */
#include <string.h>

#include "nb/dgm.h"

/* A fragment as a span of the data section. */
typedef struct {
  const uint8_t *bytes;
  size_t start;
  size_t len;
} piece_t;

void nb_dgm_reasm_cfg_default(nb_dgm_reasm_cfg_t *cfg) {
  cfg->max_slots = NB_DGM_REASM_SLOTS;
  cfg->max_bytes = (size_t)NB_DGM_REASM_SLOTS * NB_DGM_DATA_MAX;
  cfg->timeout_ms = NB_DGM_FRAGMENT_TO_MS; /* RFC 1002 6 */
}

nb_err_t nb_dgm_reasm_init(nb_dgm_reasm_t *r, const nb_dgm_reasm_cfg_t *cfg) {
  nb_dgm_reasm_cfg_t def;
  if (cfg == NULL) {
    nb_dgm_reasm_cfg_default(&def);
    cfg = &def;
  }
  if (cfg->max_slots < 1 || cfg->max_slots > NB_DGM_REASM_SLOTS ||
      cfg->max_bytes < 1) {
    return NB_EINVAL;
  }
  memset(r, 0, sizeof *r);
  r->cfg = *cfg;
  return NB_OK;
}

static void slot_free(nb_dgm_reasm_t *r, nb_dgm_reasm_slot_t *s) {
  r->bytes -= s->dgm_length;
  r->slots_used--;
  s->used = false;
}

static size_t expire(nb_dgm_reasm_t *r, uint64_t now_ms) {
  size_t n = 0;
  for (size_t i = 0; i < r->cfg.max_slots; i++) {
    nb_dgm_reasm_slot_t *s = &r->slots[i];
    if (s->used && s->deadline <= now_ms) {
      slot_free(r, s);
      r->stats.expired++;
      n++;
    }
  }
  return n;
}

size_t nb_dgm_reasm_on_timer(nb_dgm_reasm_t *r, uint64_t now_ms) {
  return expire(r, now_ms);
}

uint64_t nb_dgm_reasm_next_deadline(const nb_dgm_reasm_t *r) {
  uint64_t next = UINT64_MAX;
  for (size_t i = 0; i < r->cfg.max_slots; i++) {
    const nb_dgm_reasm_slot_t *s = &r->slots[i];
    if (s->used && s->deadline < next) {
      next = s->deadline;
    }
  }
  return next;
}

/* Drop the reassembly that started first; false when there is none. */
static bool evict_oldest(nb_dgm_reasm_t *r) {
  nb_dgm_reasm_slot_t *old = NULL;
  for (size_t i = 0; i < r->cfg.max_slots; i++) {
    nb_dgm_reasm_slot_t *s = &r->slots[i];
    if (s->used && (old == NULL || s->born < old->born)) {
      old = s;
    }
  }
  if (old == NULL) {
    return false;
  }
  slot_free(r, old);
  r->stats.evicted++;
  return true;
}

static nb_dgm_reasm_slot_t *slot_find(nb_dgm_reasm_t *r,
                                      const nb_dgm_msg_t *f) {
  for (size_t i = 0; i < r->cfg.max_slots; i++) {
    nb_dgm_reasm_slot_t *s = &r->slots[i];
    /* RFC 1002 5.3.3: "by source IP address and DGM_ID". */
    if (s->used && s->source_ip == f->source_ip && s->dgm_id == f->dgm_id) {
      return s;
    }
  }
  return NULL;
}

/* A new reassembly for `f`, evicting the oldest ones until the slot and
 * byte caps allow it. The caller checked dgm_length <= cfg.max_bytes. */
static nb_dgm_reasm_slot_t *slot_new(nb_dgm_reasm_t *r, const nb_dgm_msg_t *f,
                                     uint64_t now_ms) {
  while (r->slots_used >= r->cfg.max_slots ||
         r->bytes + f->dgm_length > r->cfg.max_bytes) {
    if (!evict_oldest(r)) {
      return NULL;
    }
  }
  for (size_t i = 0; i < r->cfg.max_slots; i++) {
    nb_dgm_reasm_slot_t *s = &r->slots[i];
    if (!s->used) {
      memset(s->have, 0, sizeof s->have);
      s->used = true;
      s->have_first = false;
      s->msg_type = f->msg_type;
      s->source_ip = f->source_ip;
      s->dgm_id = f->dgm_id;
      s->source_port = f->source_port;
      s->dgm_length = f->dgm_length;
      s->held = 0;
      s->born = r->next_born++;
      s->deadline = UINT64_MAX - now_ms < r->cfg.timeout_ms
                        ? UINT64_MAX
                        : now_ms + r->cfg.timeout_ms;
      r->bytes += f->dgm_length;
      r->slots_used++;
      return s;
    }
  }
  return NULL; /* not reached: slots_used < max_slots */
}

static bool held(const nb_dgm_reasm_slot_t *s, size_t i) {
  return (s->have[i >> 3] >> (i & 7u)) & 1u;
}

/* Merge a piece into the slot (identical overlaps accepted, differing
 * bytes drop the reassembly). */
static nb_dgm_reasm_result_t merge(nb_dgm_reasm_t *r, nb_dgm_reasm_slot_t *s,
                                   const piece_t *p) {
  size_t fresh = 0;
  for (size_t i = 0; i < p->len; i++) {
    size_t at = p->start + i;
    if (!held(s, at)) {
      fresh++;
    } else if (s->data[at] != p->bytes[i]) {
      slot_free(r, s);
      r->stats.conflicts++;
      return NB_DGM_REASM_DROPPED;
    }
  }
  if (fresh == 0) {
    r->stats.duplicates++;
    return NB_DGM_REASM_DUPLICATE;
  }
  if (fresh < p->len) {
    r->stats.overlaps++;
  }
  for (size_t i = 0; i < p->len; i++) {
    size_t at = p->start + i;
    s->data[at] = p->bytes[i];
    s->have[at >> 3] = (uint8_t)(s->have[at >> 3] | (1u << (at & 7u)));
  }
  s->held = (uint16_t)(s->held + fresh);
  return NB_DGM_REASM_PENDING;
}

/* The whole data section is held: decode the names and hand it out. */
static nb_dgm_reasm_result_t finish(nb_dgm_reasm_t *r, nb_dgm_reasm_slot_t *s,
                                    nb_dgm_msg_t *out) {
  nb_rd_t rd;
  memcpy(r->out, s->data, s->dgm_length);
  nb_dgm_init(out, s->msg_type, s->dgm_id, s->source_ip, s->source_port);
  out->flags = (uint8_t)((s->first_flags & ~NB_DGM_FLAG_M) | NB_DGM_FLAG_F);
  out->dgm_length = s->dgm_length;
  nb_rd_init(&rd, r->out, s->dgm_length);
  slot_free(r, s);
  if (nb_name_decode(&rd, &out->source_name, NB_NAME_F_NO_POINTERS, NULL) !=
          NB_OK ||
      nb_name_decode(&rd, &out->destination_name, NB_NAME_F_NO_POINTERS,
                     NULL) != NB_OK) {
    r->stats.invalid++; /* not reached: byte 0 on came from a parsed model */
    return NB_DGM_REASM_DROPPED;
  }
  out->data = r->out + rd.pos;
  out->data_len = nb_rd_left(&rd);
  r->stats.completed++;
  return NB_DGM_REASM_COMPLETE;
}

/* The fragment's span of the data section. The first fragment's names are
 * re-encoded into `tmp` (they decoded from canonical bytes, so this gives
 * the same bytes) followed by its user data. False when invalid. */
static bool make_piece(const nb_dgm_msg_t *f, uint8_t *tmp, size_t cap,
                       piece_t *p) {
  if (f->data == NULL && f->data_len > 0) {
    return false;
  }
  if (!nb_dgm_has_names(f)) {
    p->bytes = f->data;
    p->start = f->packet_offset;
    p->len = f->data_len;
    return p->len > 0 && p->start + p->len <= f->dgm_length;
  }
  nb_wr_t w;
  nb_wr_init(&w, tmp, cap);
  nb_name_encode(&w, &f->source_name);
  nb_name_encode(&w, &f->destination_name);
  if (f->data_len > 0) {
    nb_wr_bytes(&w, f->data, f->data_len);
  }
  p->bytes = tmp;
  p->start = 0;
  return nb_wr_finish(&w, &p->len) == NB_OK && p->len <= f->dgm_length;
}

/* Find or start the reassembly for `f`; a header that differs from the
 * one held under the same key means a reused DGM_ID: start over. */
static nb_dgm_reasm_slot_t *slot_for(nb_dgm_reasm_t *r, const nb_dgm_msg_t *f,
                                     uint64_t now_ms) {
  nb_dgm_reasm_slot_t *s = slot_find(r, f);
  if (s != NULL &&
      (s->msg_type != f->msg_type || s->source_port != f->source_port ||
       s->dgm_length != f->dgm_length)) {
    slot_free(r, s);
    r->stats.conflicts++;
    s = NULL;
  }
  return s != NULL ? s : slot_new(r, f, now_ms);
}

/* The checks that need no slot: the size caps, then the fragment's span.
 * False (and counted) when the fragment is refused. */
static bool admit(nb_dgm_reasm_t *r, const nb_dgm_msg_t *frag, uint8_t *tmp,
                  size_t cap, piece_t *p) {
  if (frag->dgm_length > NB_DGM_DATA_MAX ||
      frag->dgm_length > r->cfg.max_bytes) {
    r->stats.too_big++;
    return false;
  }
  if (!make_piece(frag, tmp, cap, p)) {
    r->stats.invalid++;
    return false;
  }
  return true;
}

nb_dgm_reasm_result_t nb_dgm_reasm_add(nb_dgm_reasm_t *r,
                                       const nb_dgm_msg_t *frag,
                                       uint64_t now_ms, nb_dgm_msg_t *out) {
  uint8_t tmp[NB_DGM_DATA_MAX];
  piece_t p;
  r->stats.fragments++;
  expire(r, now_ms);
  if (!nb_dgm_is_service(frag->msg_type) ||
      (frag->data == NULL && frag->data_len > 0)) {
    r->stats.invalid++;
    return NB_DGM_REASM_DROPPED;
  }
  if (nb_dgm_is_whole(frag)) {
    *out = *frag; /* RFC 1002 5.3.3: a single UDP packet */
    r->stats.completed++;
    return NB_DGM_REASM_COMPLETE;
  }
  if (!admit(r, frag, tmp, sizeof tmp, &p)) {
    return NB_DGM_REASM_DROPPED;
  }
  nb_dgm_reasm_slot_t *s = slot_for(r, frag, now_ms);
  if (s == NULL) {
    r->stats.invalid++; /* not reached: caps were checked above */
    return NB_DGM_REASM_DROPPED;
  }
  nb_dgm_reasm_result_t res = merge(r, s, &p);
  if (res == NB_DGM_REASM_PENDING && p.start == 0) {
    s->have_first = true;
    s->first_flags = frag->flags;
  }
  if (res == NB_DGM_REASM_PENDING && s->held == s->dgm_length) {
    res = finish(r, s, out);
  }
  return res;
}
