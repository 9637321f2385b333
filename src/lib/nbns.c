/* SPDX-License-Identifier: BSD-2-Clause */
/* The NBNS server engine: configuration, memory, the name table (a hash of
 * records whose members live in one shared slot pool), the journal that
 * makes acknowledgements wait for durability, the outgoing queue, the
 * expiry sweep and the administrative API. Protocol rules live in
 * nbns_reg.c (registration, refresh, release, challenges) and nbns_recv.c
 * (intake, queries); see include/nb/nbns.h. */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "nbns_int.h"

/* ---- configuration ------------------------------------------------------ */

void nb_nbns_config_init(nb_nbns_config_t *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->port = 137;
  cfg->ttl_min_s = 300;
  cfg->ttl_max_s = 0;
  cfg->ttl_infinite_s = 518400;
  cfg->challenge_retry_ms = 1000;
  cfg->challenge_count = 3;
  cfg->ra = true;
  cfg->sweep_ms = 10000;
  cfg->sweep_batch = 4096;
  cfg->max_names = 4096;
  cfg->max_challenges = 64;
  cfg->max_out = 512;
  cfg->max_journal = 4096;
}

static nb_err_t bad(nb_diag_t *diag, const char *field) {
  return nb_diag_set(diag, NB_EINVAL, 0, field);
}

static nb_err_t check_caps(const nb_nbns_config_t *c, nb_diag_t *diag) {
  if (c->max_names < 1 || c->max_names > NB_NBS_CAP_NAMES)
    return bad(diag, "max_names");
  if (c->max_addrs > 4u * NB_NBS_CAP_NAMES)
    return bad(diag, "max_addrs");
  if (c->max_challenges < 1 || c->max_challenges > NB_NBS_CAP_CHALLENGES)
    return bad(diag, "max_challenges");
  if (c->max_out < 1 || c->max_out > NB_NBS_CAP_OUT)
    return bad(diag, "max_out");
  if (c->max_journal < 1 || c->max_journal > NB_NBS_CAP_JOURNAL)
    return bad(diag, "max_journal");
  return NB_OK;
}

nb_err_t nb_nbns_config_check(const nb_nbns_config_t *c, nb_diag_t *diag) {
  if (c == NULL)
    return bad(diag, "config");
  if (c->n_own_ips < 1 || c->n_own_ips > NB_NBNS_MAX_IFACES)
    return bad(diag, "n_own_ips");
  for (size_t i = 0; i < c->n_own_ips; i++) {
    if (c->own_ips[i] == 0)
      return bad(diag, "own_ips");
  }
  if (c->port == 0)
    return bad(diag, "port");
  if (c->ttl_min_s < 1 || c->ttl_infinite_s < c->ttl_min_s)
    return bad(diag, "ttl_min_s");
  if (c->ttl_max_s != 0 &&
      (c->ttl_max_s < c->ttl_min_s || c->ttl_infinite_s > c->ttl_max_s))
    return bad(diag, "ttl_max_s");
  if (c->challenge_retry_ms < 1 || c->challenge_retry_ms > 60000)
    return bad(diag, "challenge_retry_ms");
  if (c->challenge_count < 1 || c->challenge_count > 10)
    return bad(diag, "challenge_count");
  if (c->sweep_ms < 1 || c->sweep_batch < 1)
    return bad(diag, "sweep_ms");
  return check_caps(c, diag);
}

uint32_t nb_nbns_grant_ttl(const nb_nbns_config_t *c, uint32_t proposed) {
  /* RFC 1001 15.1.3.2: at least the proposal; a proposal of 0 (INFINITE,
   * RFC 1002 6) may get any definite period. */
  if (proposed == NB_NBNS_TTL_INFINITE)
    return c->ttl_infinite_s;
  if (proposed < c->ttl_min_s)
    return c->ttl_min_s;
  if (c->ttl_max_s != 0 && proposed > c->ttl_max_s)
    return c->ttl_max_s; /* the configured deviation (nmbd's clamp) */
  return proposed;
}

/* ---- memory ---------------------------------------------------------------
 * One block: the struct, then each table, each aligned for its type. */

static size_t align_up(size_t v) {
  size_t a = alignof(max_align_t);
  return (v + a - 1) / a * a;
}

static uint32_t slots_of(const nb_nbns_config_t *c) {
  return c->max_addrs != 0 ? c->max_addrs : 2u * c->max_names;
}

static uint32_t buckets_of(const nb_nbns_config_t *c) {
  uint32_t n = 16;
  while (n < c->max_names)
    n <<= 1;
  return n;
}

typedef struct layout {
  size_t recs, buckets, slots, chals, outq, journal, total;
} layout_t;

static layout_t layout_of(const nb_nbns_config_t *c) {
  layout_t l;
  size_t off = align_up(sizeof(nb_nbns_t));
  l.recs = off;
  off = align_up(off + (size_t)c->max_names * sizeof(nb_nbs_rec_t));
  l.buckets = off;
  off = align_up(off + (size_t)buckets_of(c) * sizeof(uint32_t));
  l.slots = off;
  off = align_up(off + (size_t)slots_of(c) * sizeof(nb_nbs_slot_t));
  l.chals = off;
  off = align_up(off + (size_t)c->max_challenges * sizeof(nb_nbs_chal_t));
  l.outq = off;
  off = align_up(off + (size_t)c->max_out * sizeof(nb_nbs_out_t));
  l.journal = off;
  l.total = align_up(off + (size_t)c->max_journal * sizeof(nb_nbs_jent_t));
  return l;
}

size_t nb_nbns_size(const nb_nbns_config_t *cfg) {
  if (nb_nbns_config_check(cfg, NULL) != NB_OK)
    return 0;
  return layout_of(cfg).total;
}

/* Free lists: every record and slot starts free. */
static void init_tables(nb_nbns_t *e) {
  uint32_t n_slots = slots_of(&e->cfg);
  for (uint32_t i = 0; i < e->cfg.max_names; i++)
    e->recs[i].next = i + 1 < e->cfg.max_names ? i + 1 : NB_NBS_NIL;
  for (uint32_t i = 0; i < n_slots; i++)
    e->slots[i].next = i + 1 < n_slots ? i + 1 : NB_NBS_NIL;
  for (uint32_t i = 0; i < e->n_buckets; i++)
    e->buckets[i] = NB_NBS_NIL;
  e->free_rec = 0;
  e->free_slot = 0;
}

nb_err_t nb_nbns_init(void *mem, size_t size, const nb_nbns_config_t *cfg,
                      nb_nbns_t **out) {
  if (mem == NULL || out == NULL || nb_nbns_config_check(cfg, NULL) != NB_OK)
    return NB_EINVAL;
  layout_t l = layout_of(cfg);
  if (size < l.total)
    return NB_ENOSPC;
  uint8_t *base = mem;
  memset(base, 0, l.total);
  nb_nbns_t *e = mem;
  e->cfg = *cfg;
  e->recs = (nb_nbs_rec_t *)(void *)(base + l.recs);
  e->buckets = (uint32_t *)(void *)(base + l.buckets);
  e->n_buckets = buckets_of(cfg);
  e->slots = (nb_nbs_slot_t *)(void *)(base + l.slots);
  e->chals = (nb_nbs_chal_t *)(void *)(base + l.chals);
  e->outq = (nb_nbs_out_t *)(void *)(base + l.outq);
  e->journal = (nb_nbs_jent_t *)(void *)(base + l.journal);
  e->prng = cfg->txid_seed;
  init_tables(e);
  *out = e;
  return NB_OK;
}

nb_err_t nb_nbns_new(const nb_nbns_config_t *cfg, nb_nbns_t **out) {
  size_t size = nb_nbns_size(cfg);
  if (size == 0 || out == NULL)
    return NB_EINVAL;
  void *mem = malloc(size);
  if (mem == NULL)
    return NB_ENOMEM;
  nb_err_t err = nb_nbns_init(mem, size, cfg, out);
  if (err != NB_OK) {
    free(mem);
    return err;
  }
  (*out)->heap = true;
  return NB_OK;
}

void nb_nbns_free(nb_nbns_t *e) {
  if (e != NULL && e->heap)
    free(e);
}

static void set_now(nb_nbns_t *e, uint64_t now) {
  if (now > e->now)
    e->now = now;
}

/* ---- the name table ------------------------------------------------------ */

nb_nbs_rec_t *nb_nbs_find(const nb_nbns_t *e, const nb_name_t *name) {
  uint32_t h = nb_name_hash(name);
  uint32_t i = e->buckets[h & (e->n_buckets - 1)];
  uint32_t hops = 0;
  while (i != NB_NBS_NIL && hops++ < e->cfg.max_names) {
    nb_nbs_rec_t *r = &e->recs[i];
    if (r->hash == h && nb_name_equal(&r->name, name))
      return r;
    i = r->next;
  }
  return NULL;
}

nb_nbs_rec_t *nb_nbs_create(nb_nbns_t *e, const nb_name_t *name, bool group) {
  if (e->free_rec == NB_NBS_NIL)
    return NULL;
  uint32_t i = e->free_rec;
  nb_nbs_rec_t *r = &e->recs[i];
  e->free_rec = r->next;
  memset(r, 0, sizeof *r);
  r->name = *name;
  r->used = true;
  r->group = group;
  r->members = NB_NBS_NIL;
  r->hash = nb_name_hash(name);
  if (e->sweep_at == 0)
    e->sweep_at = e->now + e->cfg.sweep_ms; /* the sweep has work now */
  uint32_t b = r->hash & (e->n_buckets - 1);
  r->next = e->buckets[b];
  e->buckets[b] = i;
  e->n_recs++;
  return r;
}

void nb_nbs_destroy(nb_nbns_t *e, nb_nbs_rec_t *r) {
  uint32_t idx = (uint32_t)(r - e->recs);
  while (r->members != NB_NBS_NIL)
    nb_nbs_remove_member(e, r, e->slots[r->members].ip);
  uint32_t *link = &e->buckets[r->hash & (e->n_buckets - 1)];
  while (*link != NB_NBS_NIL && *link != idx)
    link = &e->recs[*link].next;
  if (*link == idx)
    *link = r->next;
  r->used = false;
  r->next = e->free_rec;
  e->free_rec = idx;
  e->n_recs--;
}

nb_nbs_slot_t *nb_nbs_member(const nb_nbns_t *e, const nb_nbs_rec_t *r,
                             uint32_t ip) {
  for (uint32_t i = r->members; i != NB_NBS_NIL; i = e->slots[i].next) {
    if (e->slots[i].ip == ip)
      return &e->slots[i];
  }
  return NULL;
}

bool nb_nbs_add_member(nb_nbns_t *e, nb_nbs_rec_t *r, uint32_t ip,
                       uint16_t nb_flags, uint64_t expire_ms, bool is_static) {
  if (e->free_slot == NB_NBS_NIL || r->n_members >= NB_NBNS_MAX_ADDRS)
    return false;
  uint32_t i = e->free_slot;
  nb_nbs_slot_t *s = &e->slots[i];
  e->free_slot = s->next;
  s->ip = ip;
  s->nb_flags = nb_flags;
  s->expire_ms = expire_ms;
  s->is_static = is_static;
  s->next = NB_NBS_NIL;
  uint32_t *link = &r->members;
  while (*link != NB_NBS_NIL)
    link = &e->slots[*link].next;
  *link = i;
  r->n_members++;
  e->n_slots_used++;
  return true;
}

void nb_nbs_remove_member(nb_nbns_t *e, nb_nbs_rec_t *r, uint32_t ip) {
  uint32_t *link = &r->members;
  while (*link != NB_NBS_NIL && e->slots[*link].ip != ip)
    link = &e->slots[*link].next;
  if (*link == NB_NBS_NIL)
    return;
  uint32_t i = *link;
  *link = e->slots[i].next;
  e->slots[i].next = e->free_slot;
  e->free_slot = i;
  r->n_members--;
  e->n_slots_used--;
}

static bool expired_at(const nb_nbs_slot_t *s, uint64_t now) {
  return !s->is_static && s->expire_ms <= now;
}

static bool expired(const nb_nbns_t *e, const nb_nbs_slot_t *s) {
  return expired_at(s, e->now);
}

bool nb_nbs_purge(nb_nbns_t *e, nb_nbs_rec_t *r) {
  bool any = false;
  uint32_t i = r->members;
  while (i != NB_NBS_NIL) {
    nb_nbs_slot_t *s = &e->slots[i];
    i = s->next;
    if (expired(e, s)) {
      nb_nbs_remove_member(e, r, s->ip);
      e->ctr.expired++;
      any = true;
    }
  }
  return any;
}

size_t nb_nbs_live(const nb_nbns_t *e, const nb_nbs_rec_t *r) {
  size_t n = 0;
  for (uint32_t i = r->members; i != NB_NBS_NIL; i = e->slots[i].next) {
    if (!expired(e, &e->slots[i]))
      n++;
  }
  return n;
}

void nb_nbs_export(const nb_nbns_t *e, const nb_nbs_rec_t *r, uint64_t now,
                   bool dynamic_only, nb_nbns_record_t *out) {
  memset(out, 0, sizeof *out);
  out->name = r->name;
  out->group = r->group;
  out->version = r->last_seq;
  for (uint32_t i = r->members; i != NB_NBS_NIL; i = e->slots[i].next) {
    const nb_nbs_slot_t *s = &e->slots[i];
    if (expired_at(s, now) || (dynamic_only && s->is_static) ||
        out->n_members >= NB_NBNS_MAX_ADDRS)
      continue;
    nb_nbns_member_t *m = &out->members[out->n_members++];
    m->ip = s->ip;
    m->nb_flags = s->nb_flags;
    m->expire_ms = s->expire_ms;
  }
}

bool nb_nbs_is_own_ip(const nb_nbns_t *e, uint32_t ip) {
  for (size_t i = 0; i < e->cfg.n_own_ips; i++) {
    if (e->cfg.own_ips[i] == ip)
      return true;
  }
  return false;
}

/* ---- the journal ------------------------------------------------------- */

bool nb_nbs_journal_room(const nb_nbns_t *e, uint32_t n) {
  return e->cfg.max_journal - e->j_count >= n;
}

static void journal_append(nb_nbns_t *e, const nb_name_t *name) {
  nb_nbs_jent_t *j = &e->journal[(e->j_head + e->j_count) % e->cfg.max_journal];
  j->seq = ++e->seq;
  j->name = *name;
  e->j_count++;
}

uint64_t nb_nbs_touch(nb_nbns_t *e, nb_nbs_rec_t *r, const nb_name_t *name) {
  /* A record whose entry is not pulled yet needs no second one: when it
   * is pulled it is resolved against the table as it is then. */
  if (r != NULL && r->dirty)
    return r->last_seq;
  journal_append(e, name);
  if (r != NULL) {
    r->dirty = true;
    r->last_seq = e->seq;
  }
  return e->seq;
}

uint64_t nb_nbs_read_seq(const nb_nbns_t *e, const nb_nbs_rec_t *r) {
  return r->last_seq > e->durable_seq ? r->last_seq : 0;
}

bool nb_nbns_journal_next(nb_nbns_t *e, nb_nbns_write_t *w) {
  if (e->j_pulled >= e->j_count)
    return false;
  const nb_nbs_jent_t *j =
      &e->journal[(e->j_head + e->j_pulled) % e->cfg.max_journal];
  e->j_pulled++;
  nb_nbs_rec_t *r = nb_nbs_find(e, &j->name);
  memset(w, 0, sizeof *w);
  w->seq = j->seq;
  if (r != NULL && r->dirty && r->last_seq <= j->seq)
    r->dirty = false;
  if (r != NULL)
    nb_nbs_export(e, r, 0, true, &w->rec);
  if (r == NULL || w->rec.n_members == 0) {
    w->op = NB_NBNS_DEL;
    w->rec.name = j->name;
    w->rec.n_members = 0;
  } else {
    w->op = NB_NBNS_PUT;
  }
  e->ctr.journal_writes++;
  return true;
}

void nb_nbns_journal_rewind(nb_nbns_t *e) { e->j_pulled = 0; }

void nb_nbns_durable(nb_nbns_t *e, uint64_t seq) {
  uint64_t advanced = e->durable_seq;
  while (e->j_pulled > 0 && e->journal[e->j_head].seq <= seq) {
    advanced = e->journal[e->j_head].seq;
    e->j_head = (e->j_head + 1) % e->cfg.max_journal;
    e->j_count--;
    e->j_pulled--;
  }
  if (advanced > e->durable_seq) {
    e->durable_seq = advanced;
    e->ctr.commits++;
  }
}

size_t nb_nbns_journal_len(const nb_nbns_t *e) { return e->j_count; }

/* ---- the outgoing queue -------------------------------------------------- */

bool nb_nbs_out_room(const nb_nbns_t *e, uint32_t n) {
  return e->cfg.max_out - e->out_count >= n;
}

bool nb_nbs_send(nb_nbns_t *e, nb_ns_kind_t kind, const nb_ns_build_args_t *a,
                 uint32_t dst_ip, uint16_t dst_port, uint64_t need_seq) {
  if (e->out_count >= e->cfg.max_out) {
    e->ctr.tx_dropped++;
    return false;
  }
  nb_nbs_out_t *o = &e->outq[(e->out_head + e->out_count) % e->cfg.max_out];
  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, o->buf, sizeof o->buf);
  if (nb_ns_build(&w, kind, a) != NB_OK || nb_wr_finish(&w, &len) != NB_OK) {
    e->ctr.tx_dropped++; /* too big for one datagram: never sent */
    return false;
  }
  o->len = (uint16_t)len;
  o->dst_ip = dst_ip;
  o->dst_port = dst_port;
  o->need_seq = need_seq > e->durable_seq ? need_seq : 0;
  if (o->need_seq != 0)
    e->ctr.held++;
  e->out_count++;
  e->ctr.tx_queued++;
  return true;
}

bool nb_nbns_pending(nb_nbns_t *e, nb_nbns_out_t *out) {
  if (e->out_count == 0)
    return false;
  const nb_nbs_out_t *o = &e->outq[e->out_head];
  if (o->need_seq > e->durable_seq)
    return false; /* not durable yet: acknowledged only after the commit */
  out->data = o->buf;
  out->len = o->len;
  out->dst_ip = o->dst_ip;
  out->dst_port = o->dst_port;
  return true;
}

void nb_nbns_advance(nb_nbns_t *e) {
  if (e->out_count == 0 || e->outq[e->out_head].need_seq > e->durable_seq)
    return;
  e->out_head = (e->out_head + 1) % e->cfg.max_out;
  e->out_count--;
  e->ctr.tx_sent++;
}

/* Transaction IDs of our challenge queries: a counter through a keyed
 * 16-bit permutation (as nsnode.c), so IDs do not repeat within 65536
 * challenges and are not predictable from the last one. */
static uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint16_t nb_nbs_new_trn(nb_nbns_t *e) {
  uint16_t v = e->trn_ctr++;
  uint8_t l = (uint8_t)(v >> 8), r = (uint8_t)v;
  for (uint64_t round = 0; round < 4; round++) {
    uint8_t f =
        (uint8_t)mix64(e->prng + (round << 8 | r) * 0x9E3779B97F4A7C15ull);
    uint8_t t = (uint8_t)(l ^ f);
    l = r;
    r = t;
  }
  return (uint16_t)(l << 8 | r);
}

/* ---- timers: challenges and the expiry sweep ---------------------------- */

uint64_t nb_nbns_next_deadline(const nb_nbns_t *e) {
  uint64_t t = nb_nbs_challenge_deadline(e);
  return e->sweep_at != 0 && e->sweep_at < t ? e->sweep_at : t;
}

/* RFC 1002 5.1.4.2: "Each entry in the data base is removed when its timer
 * expires." Members expired are answered as absent at once (queries check
 * the time); the sweep takes them out of the table and the database. It
 * visits a bounded number of records per run and stops when the journal
 * is full (the rest waits for the next run). */
static void sweep(nb_nbns_t *e) {
  uint32_t visited = 0;
  while (visited < e->cfg.sweep_batch && visited < e->cfg.max_names) {
    nb_nbs_rec_t *r = &e->recs[e->sweep_cursor];
    if (r->used && nb_nbs_live(e, r) < r->n_members) {
      if (!nb_nbs_journal_room(e, 1))
        return;
      nb_nbs_purge(e, r);
      nb_nbs_touch(e, r, &r->name);
      if (r->n_members == 0)
        nb_nbs_destroy(e, r);
    }
    e->sweep_cursor = (e->sweep_cursor + 1) % e->cfg.max_names;
    visited++;
  }
}

void nb_nbns_on_timer(nb_nbns_t *e, uint64_t now_ms) {
  set_now(e, now_ms);
  nb_nbs_challenge_timers(e);
  if (e->sweep_at != 0 && e->sweep_at <= e->now) {
    sweep(e);
    e->sweep_at = e->n_recs > 0 ? e->now + e->cfg.sweep_ms : 0;
  }
}

/* ---- administration ------------------------------------------------------ */

static bool record_ok(const nb_nbns_record_t *rec) {
  nb_name_t probe = rec->name;
  return rec->n_members <= NB_NBNS_MAX_ADDRS &&
         nb_name_set_scope(&probe, rec->name.scope, rec->name.scope_len,
                           NULL) == NB_OK &&
         rec->name.scope[rec->name.scope_len] == '\0';
}

/* Fill `r` with the members of `rec` (those expired at e->now too when
 * `expired`). */
static bool fill(nb_nbns_t *e, nb_nbs_rec_t *r, const nb_nbns_record_t *rec,
                 bool expired) {
  for (size_t i = 0; i < rec->n_members; i++) {
    const nb_nbns_member_t *m = &rec->members[i];
    if ((!expired && m->expire_ms <= e->now) ||
        nb_nbs_member(e, r, m->ip) != NULL)
      continue;
    uint16_t f = (uint16_t)((m->nb_flags & NB_NS_NB_ONT_MASK) |
                            (rec->group ? NB_NS_NB_G : 0));
    if (!nb_nbs_add_member(e, r, m->ip, f, m->expire_ms, false))
      return false;
  }
  return true;
}

nb_err_t nb_nbns_load(nb_nbns_t *e, const nb_nbns_record_t *rec,
                      uint64_t now_ms) {
  set_now(e, now_ms);
  if (rec == NULL || !record_ok(rec))
    return NB_EINVAL;
  if (nb_nbs_find(e, &rec->name) != NULL)
    return NB_ESTATE;
  nb_nbs_rec_t *r = nb_nbs_create(e, &rec->name, rec->group);
  if (r == NULL)
    return NB_ELIMIT;
  /* Expired members are loaded too: they are answered as absent, and the
   * sweep removes them from the table and their rows from the store (a
   * row left out here would stay in the store for ever). */
  bool ok = fill(e, r, rec, true);
  if (r->n_members == 0)
    nb_nbs_destroy(e, r);
  return ok ? NB_OK : NB_ELIMIT;
}

nb_err_t nb_nbns_add_static(nb_nbns_t *e, const nb_name_t *name, bool group,
                            uint16_t nb_flags, const uint32_t *ips,
                            size_t n_ips, uint64_t now_ms) {
  set_now(e, now_ms);
  if (name == NULL || ips == NULL || n_ips == 0 || n_ips > NB_NBNS_MAX_ADDRS)
    return NB_EINVAL;
  nb_nbs_rec_t *r = nb_nbs_find(e, name);
  if (r != NULL && (!group || !r->group || r->is_static)) {
    if (!nb_nbs_journal_room(e, 1))
      return NB_ELIMIT;
    nb_nbs_touch(e, NULL, name); /* the stored row goes */
    nb_nbs_destroy(e, r);
    r = NULL;
  }
  if (r == NULL && (r = nb_nbs_create(e, name, group)) == NULL)
    return NB_ELIMIT;
  r->is_static = !group;
  uint16_t f =
      (uint16_t)((nb_flags & NB_NS_NB_ONT_MASK) | (group ? NB_NS_NB_G : 0));
  for (size_t i = 0; i < n_ips; i++) {
    nb_nbs_remove_member(e, r, ips[i]);
    if (!nb_nbs_add_member(e, r, ips[i], f, NB_NBNS_NEVER, true))
      return NB_ELIMIT;
  }
  return NB_OK;
}

nb_err_t nb_nbns_put(nb_nbns_t *e, const nb_nbns_record_t *rec,
                     uint64_t now_ms) {
  set_now(e, now_ms);
  if (rec == NULL || !record_ok(rec))
    return NB_EINVAL;
  nb_nbs_rec_t *r = nb_nbs_find(e, &rec->name);
  if (r != NULL && r->is_static)
    return NB_ESTATE;
  for (uint32_t i = r != NULL ? r->members : NB_NBS_NIL; i != NB_NBS_NIL;
       i = e->slots[i].next) {
    if (e->slots[i].is_static)
      return NB_ESTATE; /* a static group: configuration, not data */
  }
  if (!nb_nbs_journal_room(e, 1))
    return NB_ELIMIT;
  if (r != NULL)
    nb_nbs_destroy(e, r);
  r = nb_nbs_create(e, &rec->name, rec->group);
  if (r == NULL)
    return NB_ELIMIT;
  bool ok = fill(e, r, rec, false);
  nb_nbs_touch(e, r, &rec->name);
  if (r->n_members == 0)
    nb_nbs_destroy(e, r);
  return ok ? NB_OK : NB_ELIMIT;
}

nb_err_t nb_nbns_delete(nb_nbns_t *e, const nb_name_t *name, uint64_t now_ms) {
  set_now(e, now_ms);
  nb_nbs_rec_t *r = name != NULL ? nb_nbs_find(e, name) : NULL;
  if (r == NULL)
    return NB_ENOTFOUND;
  if (r->is_static)
    return NB_ESTATE;
  for (uint32_t i = r->members; i != NB_NBS_NIL; i = e->slots[i].next) {
    if (e->slots[i].is_static)
      return NB_ESTATE;
  }
  if (!nb_nbs_journal_room(e, 1))
    return NB_ELIMIT;
  nb_nbs_touch(e, r, name);
  nb_nbs_destroy(e, r);
  return NB_OK;
}

nb_err_t nb_nbns_lookup(const nb_nbns_t *e, const nb_name_t *name,
                        uint64_t now_ms, nb_nbns_record_t *out) {
  nb_nbs_rec_t *r = name != NULL ? nb_nbs_find(e, name) : NULL;
  if (r == NULL || out == NULL)
    return NB_ENOTFOUND;
  nb_nbs_export(e, r, now_ms > e->now ? now_ms : e->now, false, out);
  return out->n_members > 0 ? NB_OK : NB_ENOTFOUND;
}

size_t nb_nbns_count(const nb_nbns_t *e) { return e->n_recs; }

bool nb_nbns_iter(const nb_nbns_t *e, uint32_t *cursor, nb_nbns_record_t *out) {
  while (*cursor < e->cfg.max_names) {
    const nb_nbs_rec_t *r = &e->recs[(*cursor)++];
    if (r->used) {
      nb_nbs_export(e, r, 0, false, out);
      return true;
    }
  }
  return false;
}

/* ---- accessors ------------------------------------------------------------
 */

const nb_nbns_counters_t *nb_nbns_counters(const nb_nbns_t *e) {
  return &e->ctr;
}

const nb_nbns_config_t *nb_nbns_config(const nb_nbns_t *e) { return &e->cfg; }

static const char *const verdict_names[] = {
#define NB_NBNS_VERDICT_NAME_(name, msg) #name,
    NB_NBNS_VERDICT_MAP(NB_NBNS_VERDICT_NAME_)
#undef NB_NBNS_VERDICT_NAME_
};

static const char *const verdict_msgs[] = {
#define NB_NBNS_VERDICT_MSG_(name, msg) msg,
    NB_NBNS_VERDICT_MAP(NB_NBNS_VERDICT_MSG_)
#undef NB_NBNS_VERDICT_MSG_
};

const char *nb_nbns_verdict_name(nb_nbns_verdict_t v) {
  return (unsigned)v < NB_NBNS_VERDICT__COUNT ? verdict_names[v] : "UNKNOWN";
}

const char *nb_nbns_verdict_str(nb_nbns_verdict_t v) {
  return (unsigned)v < NB_NBNS_VERDICT__COUNT ? verdict_msgs[v]
                                              : "unknown verdict";
}
