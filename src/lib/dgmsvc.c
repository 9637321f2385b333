/* SPDX-License-Identifier: BSD-2-Clause */
/* The datagram service engine (include/nb/dgmsvc.h): configuration,
 * memory, the node's names, application bindings, the outgoing and event
 * queues, the response rate limit, DGM_IDs and timers. Reception is in
 * dgmsvc_recv.c, sending in dgmsvc_send.c. No I/O, no clock, no heap
 * after init. */
#include <stdlib.h>
#include <string.h>

#include "dgmsvc_int.h"

static const char *const drop_strs[] = {
#define NB_DGMSVC_DROP_STR_(name, msg) msg,
    NB_DGMSVC_DROP_MAP(NB_DGMSVC_DROP_STR_)
#undef NB_DGMSVC_DROP_STR_
};
static const char *const drop_names[] = {
#define NB_DGMSVC_DROP_NAME_(name, msg) #name,
    NB_DGMSVC_DROP_MAP(NB_DGMSVC_DROP_NAME_)
#undef NB_DGMSVC_DROP_NAME_
};

const char *nb_dgmsvc_drop_str(nb_dgmsvc_drop_t reason) {
  return (unsigned)reason < NB_DGMSVC_DROP__COUNT ? drop_strs[reason]
                                                  : "unknown";
}

const char *nb_dgmsvc_drop_name(nb_dgmsvc_drop_t reason) {
  return (unsigned)reason < NB_DGMSVC_DROP__COUNT ? drop_names[reason]
                                                  : "UNKNOWN";
}

void nb_dgmsvc_config_init(nb_dgmsvc_config_t *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->node_type = NB_NSNODE_TYPE_B;
  cfg->port = NB_DGM_PORT;
  cfg->nbdd_query = true;
  cfg->send_errors = true;
  cfg->nbdd_retry_ms = 1000;
  cfg->nbdd_retry_count = 2;
  cfg->resolve_timeout_ms = 30000;
  cfg->max_payload = NB_DGM_MAX_PAYLOAD; /* RFC 1002 6: 576 - 28 */
  nb_dgm_reasm_cfg_default(&cfg->reasm);
  cfg->rl_rate = 5;
  cfg->rl_burst = 10;
  cfg->rl_global_rate = 100;
  cfg->rl_global_burst = 200;
}

static nb_err_t bad(nb_diag_t *diag, const char *field) {
  return nb_diag_set(diag, NB_EINVAL, 0, field);
}

nb_err_t nb_dgmsvc_config_check(const nb_dgmsvc_config_t *c, nb_diag_t *diag) {
  nb_name_t probe;
  if ((unsigned)c->node_type > NB_NSNODE_TYPE_H)
    return bad(diag, "node_type");
  if (c->n_ifaces < 1 || c->n_ifaces > NB_DGMSVC_MAX_IFACES)
    return bad(diag, "n_ifaces");
  if (memchr(c->scope, 0, sizeof c->scope) == NULL ||
      nb_name_set_scope(&probe, c->scope, strlen(c->scope), NULL) != NB_OK)
    return bad(diag, "scope");
  if (c->port == 0)
    return bad(diag, "port");
  if (c->max_payload < 100 || c->max_payload > NB_DGMSVC_OUT_MAX)
    return bad(diag, "max_payload");
  if (c->nbdd_retry_count < 1 || c->nbdd_retry_count > 10 ||
      c->nbdd_retry_ms < 1 || c->resolve_timeout_ms < 1)
    return bad(diag, "nbdd_retry / resolve_timeout");
  if (c->reasm.max_slots < 1 || c->reasm.max_slots > NB_DGM_REASM_SLOTS ||
      c->reasm.max_bytes < 1)
    return bad(diag, "reasm");
  if ((c->rl_rate != 0 && c->rl_burst == 0) ||
      (c->rl_global_rate != 0 && c->rl_global_burst == 0))
    return bad(diag, "rl_burst");
  return NB_OK;
}

size_t nb_dgmsvc_size(void) { return sizeof(nb_dgmsvc_t); }

nb_err_t nb_dgmsvc_init(void *mem, size_t size, const nb_dgmsvc_config_t *cfg,
                        nb_dgmsvc_t **out) {
  if (mem == NULL || size < sizeof(nb_dgmsvc_t) ||
      nb_dgmsvc_config_check(cfg, NULL) != NB_OK)
    return NB_EINVAL;
  nb_dgmsvc_t *e = mem;
  memset(e, 0, sizeof *e);
  e->cfg = *cfg;
  if (nb_dgm_reasm_init(&e->reasm, &cfg->reasm) != NB_OK)
    return NB_EINVAL;
  e->id_key = cfg->id_seed ^ 0x6A09E667F3BCC908ull;
  e->next_handle = 1;
  *out = e;
  return NB_OK;
}

nb_err_t nb_dgmsvc_new(const nb_dgmsvc_config_t *cfg, nb_dgmsvc_t **out) {
  void *mem = malloc(sizeof(nb_dgmsvc_t));
  if (mem == NULL)
    return NB_ENOMEM;
  nb_err_t err = nb_dgmsvc_init(mem, sizeof(nb_dgmsvc_t), cfg, out);
  if (err != NB_OK)
    free(mem);
  return err;
}

void nb_dgmsvc_free(nb_dgmsvc_t *e) { free(e); }

void nb_dgs_set_now(nb_dgmsvc_t *e, uint64_t now_ms) {
  if (now_ms > e->now)
    e->now = now_ms; /* time never goes backwards */
}

/* DGM_ID (RFC 1002 4.4.1): a counter through a 4-round Feistel network on
 * two bytes, keyed by the seed. A permutation, so an ID comes back only
 * after 65536 others; keyed, so the next one cannot be guessed from the
 * last. */
static uint8_t round_fn(uint64_t key, unsigned round, uint8_t half) {
  uint64_t x = key ^ ((uint64_t)round << 56) ^ ((uint64_t)half << 17);
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDull;
  x ^= x >> 29;
  return (uint8_t)(x >> 40);
}

uint16_t nb_dgs_new_id(nb_dgmsvc_t *e) {
  uint16_t v = e->id_ctr++;
  uint8_t l = (uint8_t)(v >> 8), r = (uint8_t)v;
  for (unsigned i = 0; i < 4; i++) {
    uint8_t next = (uint8_t)(l ^ round_fn(e->id_key, i, r));
    l = r;
    r = next;
  }
  return (uint16_t)(l << 8 | r);
}

uint32_t nb_dgs_new_handle(nb_dgmsvc_t *e) {
  uint32_t h = e->next_handle++;
  if (e->next_handle == 0)
    e->next_handle = 1;
  return h;
}

/* ---- interfaces and names ------------------------------------------------
 */

uint32_t nb_dgs_bcast(const nb_dgmsvc_t *e, size_t i) {
  return e->cfg.ifaces[i].ip | ~e->cfg.ifaces[i].netmask;
}

bool nb_dgs_is_own_ip(const nb_dgmsvc_t *e, uint32_t ip) {
  for (size_t i = 0; i < e->cfg.n_ifaces; i++) {
    if (e->cfg.ifaces[i].ip == ip)
      return true;
  }
  return false;
}

uint32_t nb_dgs_src_for(const nb_dgmsvc_t *e, uint32_t ip) {
  for (size_t i = 0; i < e->cfg.n_ifaces; i++) {
    const nb_nsnode_iface_t *f = &e->cfg.ifaces[i];
    if (((f->ip ^ ip) & f->netmask) == 0 || ip == nb_dgs_bcast(e, i))
      return f->ip;
  }
  return e->cfg.ifaces[0].ip;
}

uint8_t nb_dgs_snt_flags(const nb_dgmsvc_t *e) {
  return NB_DGM_SNT_FLAGS((unsigned)e->cfg.node_type); /* B P M H = 0..3 */
}

bool nb_dgs_scope_is_ours(const nb_dgmsvc_t *e, const nb_name_t *name) {
  nb_name_t a, b;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  if (nb_name_set_scope(&a, name->scope, name->scope_len, NULL) != NB_OK ||
      nb_name_set_scope(&b, e->cfg.scope, strlen(e->cfg.scope), NULL) != NB_OK)
    return false;
  return nb_name_equal(&a, &b); /* equal bytes: the scopes decide */
}

const nb_dgs_name_t *nb_dgs_name_find(const nb_dgmsvc_t *e,
                                      const nb_name_t *name) {
  for (size_t i = 0; i < NB_DGMSVC_MAX_NAMES; i++) {
    if (e->names[i].used && nb_name_equal(&e->names[i].name, name))
      return &e->names[i];
  }
  return NULL;
}

bool nb_dgmsvc_name_present(const nb_dgmsvc_t *e, const nb_name_t *name) {
  return nb_dgs_name_find(e, name) != NULL;
}

nb_err_t nb_dgmsvc_name_add(nb_dgmsvc_t *e, const nb_name_t *name, bool group) {
  if (name == NULL || name->bytes[0] == '*')
    return NB_EINVAL; /* RFC 1001 17.2: no user name starts with '*' */
  if (nb_dgs_name_find(e, name) != NULL)
    return NB_ESTATE;
  for (size_t i = 0; i < NB_DGMSVC_MAX_NAMES; i++) {
    if (!e->names[i].used) {
      e->names[i].used = true;
      e->names[i].group = group;
      e->names[i].name = *name;
      return NB_OK;
    }
  }
  return NB_ELIMIT;
}

nb_err_t nb_dgmsvc_name_remove(nb_dgmsvc_t *e, const nb_name_t *name) {
  for (size_t i = 0; i < NB_DGMSVC_MAX_NAMES; i++) {
    if (e->names[i].used && nb_name_equal(&e->names[i].name, name)) {
      e->names[i].used = false;
      return NB_OK;
    }
  }
  return NB_ENOTFOUND;
}

/* ---- bindings ------------------------------------------------------------
 */

nb_err_t nb_dgmsvc_bind(nb_dgmsvc_t *e, const nb_name_t *name, unsigned flags,
                        uint32_t *id) {
  unsigned any = NB_DGMSVC_BIND_BROADCAST | NB_DGMSVC_BIND_MONITOR;
  if (id == NULL || (flags & ~any) != 0 ||
      (name == NULL && (flags & any) == 0) ||
      (name != NULL && (flags & any) == 0 && name->bytes[0] == '*'))
    return NB_EINVAL;
  for (size_t i = 0; i < NB_DGMSVC_MAX_BINDS; i++) {
    nb_dgs_bind_t *b = &e->binds[i];
    if (b->id == 0) {
      memset(b, 0, sizeof *b);
      b->id = nb_dgs_new_handle(e);
      b->flags = flags;
      if (name != NULL && (flags & any) == 0)
        b->name = *name;
      *id = b->id;
      return NB_OK;
    }
  }
  return NB_ELIMIT;
}

nb_err_t nb_dgmsvc_unbind(nb_dgmsvc_t *e, uint32_t id) {
  for (size_t i = 0; id != 0 && i < NB_DGMSVC_MAX_BINDS; i++) {
    if (e->binds[i].id == id) {
      e->binds[i].id = 0;
      return NB_OK;
    }
  }
  return NB_ENOTFOUND;
}

/* ---- queues --------------------------------------------------------------
 */

nb_dgs_out_t *nb_dgs_out_new(nb_dgmsvc_t *e, uint32_t dst_ip, bool bcast) {
  if (e->out_count >= NB_DGMSVC_MAX_OUT) {
    e->ctr.tx_queue_full++;
    return NULL;
  }
  nb_dgs_out_t *o = &e->out[(e->out_head + e->out_count) % NB_DGMSVC_MAX_OUT];
  e->out_count++;
  e->ctr.tx_queued++;
  o->len = 0;
  o->dst_ip = dst_ip;
  o->dst_port = e->cfg.port;
  o->broadcast = bcast;
  o->src_ip = nb_dgs_src_for(e, dst_ip);
  return o;
}

bool nb_dgmsvc_pending(nb_dgmsvc_t *e, nb_dgmsvc_out_t *out) {
  if (e->out_count == 0)
    return false;
  const nb_dgs_out_t *o = &e->out[e->out_head];
  out->data = o->data;
  out->len = o->len;
  out->dst_ip = o->dst_ip;
  out->dst_port = o->dst_port;
  out->broadcast = o->broadcast;
  out->src_ip = o->src_ip;
  return true;
}

void nb_dgmsvc_advance(nb_dgmsvc_t *e) {
  if (e->out_count == 0)
    return;
  e->out_head = (e->out_head + 1) % NB_DGMSVC_MAX_OUT;
  e->out_count--;
  e->ctr.tx_sent++;
}

nb_dgmsvc_event_t *nb_dgs_event(nb_dgmsvc_t *e, nb_dgmsvc_ev_type_t type) {
  if (e->ev_count >= NB_DGMSVC_MAX_EVENTS) {
    e->ctr.events_dropped++;
    return NULL;
  }
  nb_dgmsvc_event_t *ev =
      &e->events[(e->ev_head + e->ev_count) % NB_DGMSVC_MAX_EVENTS];
  e->ev_count++;
  memset(ev, 0, offsetof(nb_dgmsvc_event_t, data));
  ev->type = type;
  return ev;
}

bool nb_dgmsvc_next_event(nb_dgmsvc_t *e, nb_dgmsvc_event_t *ev) {
  if (e->ev_count == 0)
    return false;
  const nb_dgmsvc_event_t *src = &e->events[e->ev_head];
  memcpy(ev, src, offsetof(nb_dgmsvc_event_t, data) + src->data_len);
  e->ev_head = (e->ev_head + 1) % NB_DGMSVC_MAX_EVENTS;
  e->ev_count--;
  return true;
}

/* ---- the response rate limit ---------------------------------------------
 */

/* Refill by the time passed, then take one token (1000 milli-tokens). */
static bool bucket_take(nb_dgs_bucket_t *b, uint32_t rate, uint32_t burst,
                        uint64_t now) {
  uint64_t cap = (uint64_t)burst * 1000u;
  uint64_t dt = now - b->last_ms; /* rate tokens/s = rate milli-tokens/ms */
  if (dt > cap / rate) {
    b->milli = cap; /* a long pause: full (and no overflow below) */
  } else {
    uint64_t add = dt * (uint64_t)rate;
    b->milli = b->milli + add > cap ? cap : b->milli + add;
  }
  b->last_ms = now;
  if (b->milli < 1000u)
    return false;
  b->milli -= 1000u;
  return true;
}

static nb_dgs_bucket_t *bucket_for(nb_dgmsvc_t *e, uint32_t ip) {
  nb_dgs_bucket_t *lru = &e->rl[0];
  for (size_t i = 0; i < NB_DGMSVC_RL_SLOTS; i++) {
    nb_dgs_bucket_t *b = &e->rl[i];
    if (b->used && b->ip == ip) {
      b->touched = ++e->rl_clock;
      return b;
    }
    if (!b->used || (lru->used && b->touched < lru->touched))
      lru = b;
  }
  /* A new (or evicted) source starts with a full bucket. */
  lru->used = true;
  lru->ip = ip;
  lru->milli = (uint64_t)e->cfg.rl_burst * 1000u;
  lru->last_ms = e->now;
  lru->touched = ++e->rl_clock;
  return lru;
}

bool nb_dgs_rl_take(nb_dgmsvc_t *e, uint32_t ip) {
  const nb_dgmsvc_config_t *c = &e->cfg;
  if (c->rl_global_rate != 0) {
    nb_dgs_bucket_t *g = &e->rl_global;
    if (!g->used) {
      g->used = true;
      g->milli = (uint64_t)c->rl_global_burst * 1000u;
      g->last_ms = e->now;
    }
    if (!bucket_take(g, c->rl_global_rate, c->rl_global_burst, e->now))
      return false;
  }
  if (c->rl_rate == 0)
    return true;
  return bucket_take(bucket_for(e, ip), c->rl_rate, c->rl_burst, e->now);
}

/* ---- timers and inspection -----------------------------------------------
 */

uint64_t nb_dgmsvc_next_deadline(const nb_dgmsvc_t *e) {
  uint64_t a = nb_dgm_reasm_next_deadline(&e->reasm);
  uint64_t b = nb_dgs_sends_deadline(e);
  return a < b ? a : b;
}

void nb_dgmsvc_on_timer(nb_dgmsvc_t *e, uint64_t now_ms) {
  nb_dgs_set_now(e, now_ms);
  (void)nb_dgm_reasm_on_timer(&e->reasm, e->now);
  nb_dgs_sends_timer(e);
}

const nb_dgmsvc_counters_t *nb_dgmsvc_counters(const nb_dgmsvc_t *e) {
  return &e->ctr;
}

const nb_dgm_reasm_stats_t *nb_dgmsvc_reasm_stats(const nb_dgmsvc_t *e) {
  return &e->reasm.stats;
}

const nb_dgmsvc_config_t *nb_dgmsvc_config(const nb_dgmsvc_t *e) {
  return &e->cfg;
}

size_t nb_dgmsvc_reasm_bytes(const nb_dgmsvc_t *e) { return e->reasm.bytes; }
