/* SPDX-License-Identifier: BSD-2-Clause */
/* The name-service node engine: configuration, memory, the outgoing and
 * event queues, the response rate limit, packet intake and timers. The
 * protocol rules live in nsnode_names.c (own names) and nsnode_query.c
 * (resolution); see include/nb/nsnode.h for the API. */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "nsnode_int.h"

/* ---- configuration ------------------------------------------------------ */

void nb_nsnode_config_init(nb_nsnode_config_t *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->node_type = NB_NSNODE_TYPE_B;
  cfg->nbns_port = NB_NSNODE_NAME_SERVICE_UDP_PORT;
  cfg->bcast_port = NB_NSNODE_NAME_SERVICE_UDP_PORT;
  cfg->bcast_retry_ms = NB_NSNODE_BCAST_REQ_RETRY_TIMEOUT_MS;
  cfg->bcast_retry_count = NB_NSNODE_BCAST_REQ_RETRY_COUNT;
  cfg->ucast_retry_ms = NB_NSNODE_UCAST_REQ_RETRY_TIMEOUT_MS;
  cfg->ucast_retry_count = NB_NSNODE_UCAST_REQ_RETRY_COUNT;
  cfg->conflict_timer_ms = NB_NSNODE_CONFLICT_TIMER_MS;
  cfg->reg_ttl_s = 259200;
  cfg->refresh_min_ms = 60000;
  cfg->refresh_max_ms = 1200000;
  cfg->wack_max_s = 600;
  cfg->wack_max_count = 4;
  cfg->redirect_max = 3;
  cfg->cache_max_ttl_s = 3600;
  cfg->send_overwrite = true;
  cfg->send_conflict_demand = true;
  cfg->max_names = 32;
  cfg->max_cache = 64;
  cfg->max_pending = 16;
  cfg->max_out = 64;
  cfg->max_events = 64;
  cfg->rl_slots = 64;
  cfg->rl_rate = 20;
  cfg->rl_burst = 40;
  cfg->rl_global_rate = 2000;
  cfg->rl_global_burst = 4000;
}

static nb_err_t bad(nb_diag_t *diag, const char *field) {
  return nb_diag_set(diag, NB_EINVAL, 0, field);
}

static nb_err_t check_caps(const nb_nsnode_config_t *c, nb_diag_t *diag) {
  if (c->max_names < 1 || c->max_names > NB_NSN_CAP_NAMES)
    return bad(diag, "max_names");
  if (c->max_cache < 1 || c->max_cache > NB_NSN_CAP_CACHE)
    return bad(diag, "max_cache");
  if (c->max_pending < 1 || c->max_pending > NB_NSN_CAP_PENDING)
    return bad(diag, "max_pending");
  if (c->max_out < 1 || c->max_out > NB_NSN_CAP_QUEUE)
    return bad(diag, "max_out");
  if (c->max_events < 1 || c->max_events > NB_NSN_CAP_QUEUE)
    return bad(diag, "max_events");
  if (c->rl_slots < 1 || c->rl_slots > NB_NSN_CAP_RL)
    return bad(diag, "rl_slots");
  return NB_OK;
}

static nb_err_t check_timers(const nb_nsnode_config_t *c, nb_diag_t *diag) {
  /* Counts fit the uint8_t try counter; timers are not zero (a zero
   * timer would retransmit in a loop). */
  if (c->bcast_retry_ms < 1 || c->ucast_retry_ms < 1)
    return bad(diag, "retry timeout");
  if (c->bcast_retry_count < 1 || c->bcast_retry_count > 255)
    return bad(diag, "bcast_retry_count");
  if (c->ucast_retry_count < 1 || c->ucast_retry_count > 255)
    return bad(diag, "ucast_retry_count");
  if (c->refresh_min_ms < 1 || c->refresh_max_ms < c->refresh_min_ms)
    return bad(diag, "refresh_min_ms");
  if (c->wack_max_count > 255 || c->redirect_max > 255)
    return bad(diag, "wack_max_count");
  return NB_OK;
}

nb_err_t nb_nsnode_config_check(const nb_nsnode_config_t *c, nb_diag_t *diag) {
  if (c == NULL)
    return bad(diag, "config");
  if ((unsigned)c->node_type > NB_NSNODE_TYPE_H)
    return bad(diag, "node_type");
  if (c->n_ifaces < 1 || c->n_ifaces > NB_NSNODE_MAX_IFACES)
    return bad(diag, "n_ifaces");
  for (size_t i = 0; i < c->n_ifaces; i++) {
    if (c->ifaces[i].ip == 0)
      return bad(diag, "ifaces.ip");
  }
  if (c->n_nbns > NB_NSNODE_MAX_NBNS)
    return bad(diag, "n_nbns");
  if ((c->node_type == NB_NSNODE_TYPE_P || c->node_type == NB_NSNODE_TYPE_M) &&
      c->n_nbns == 0)
    return bad(diag, "n_nbns");
  if (c->nbns_port == 0 || c->bcast_port == 0)
    return bad(diag, "port");
  nb_name_t probe;
  const char *nul = memchr(c->scope, '\0', sizeof c->scope);
  if (nul == NULL || nb_name_set_scope(&probe, c->scope,
                                       (size_t)(nul - c->scope), NULL) != NB_OK)
    return bad(diag, "scope");
  nb_err_t err = check_caps(c, diag);
  return err != NB_OK ? err : check_timers(c, diag);
}

/* ---- memory ---------------------------------------------------------------
 * One block: the struct, then each table, each aligned for its type. */

static size_t align_up(size_t v) {
  size_t a = alignof(max_align_t);
  return (v + a - 1) / a * a;
}

typedef struct layout {
  size_t names, reqs, cache, outq, evq, rl, total;
} layout_t;

static layout_t layout_of(const nb_nsnode_config_t *c) {
  layout_t l;
  size_t off = align_up(sizeof(nb_nsnode_t));
  l.names = off;
  off = align_up(off + c->max_names * sizeof(nb_nsn_name_t));
  l.reqs = off;
  off = align_up(off + c->max_pending * sizeof(nb_nsn_req_t));
  l.cache = off;
  off = align_up(off + c->max_cache * sizeof(nb_nsn_cache_t));
  l.outq = off;
  off = align_up(off + c->max_out * sizeof(nb_nsn_out_t));
  l.evq = off;
  off = align_up(off + c->max_events * sizeof(nb_nsnode_event_t));
  l.rl = off;
  l.total = align_up(off + c->rl_slots * sizeof(nb_nsn_bucket_t));
  return l;
}

size_t nb_nsnode_size(const nb_nsnode_config_t *cfg) {
  if (nb_nsnode_config_check(cfg, NULL) != NB_OK)
    return 0;
  return layout_of(cfg).total;
}

nb_err_t nb_nsnode_init(void *mem, size_t size, const nb_nsnode_config_t *cfg,
                        nb_nsnode_t **out) {
  if (mem == NULL || out == NULL || nb_nsnode_config_check(cfg, NULL) != NB_OK)
    return NB_EINVAL;
  layout_t l = layout_of(cfg);
  if (size < l.total)
    return NB_ENOSPC;
  uint8_t *base = mem;
  memset(base, 0, l.total);
  nb_nsnode_t *n = mem;
  n->cfg = *cfg;
  n->cfg.scope[NB_SCOPE_MAX] = '\0';
  n->names = (nb_nsn_name_t *)(void *)(base + l.names);
  n->reqs = (nb_nsn_req_t *)(void *)(base + l.reqs);
  n->cache = (nb_nsn_cache_t *)(void *)(base + l.cache);
  n->outq = (nb_nsn_out_t *)(void *)(base + l.outq);
  n->evq = (nb_nsnode_event_t *)(void *)(base + l.evq);
  n->rl = (nb_nsn_bucket_t *)(void *)(base + l.rl);
  n->prng = cfg->txid_seed;
  n->next_handle = 1;
  *out = n;
  return NB_OK;
}

nb_err_t nb_nsnode_new(const nb_nsnode_config_t *cfg, nb_nsnode_t **out) {
  size_t size = nb_nsnode_size(cfg);
  if (size == 0 || out == NULL)
    return NB_EINVAL;
  void *mem = malloc(size);
  if (mem == NULL)
    return NB_ENOMEM;
  nb_err_t err = nb_nsnode_init(mem, size, cfg, out);
  if (err != NB_OK) {
    free(mem);
    return err;
  }
  (*out)->heap = true;
  return NB_OK;
}

void nb_nsnode_free(nb_nsnode_t *n) {
  if (n != NULL && n->heap)
    free(n);
}

/* ---- small helpers ------------------------------------------------------- */

static void set_now(nb_nsnode_t *n, uint64_t now) {
  if (now > n->now)
    n->now = now;
}

uint32_t nb_nsn_bcast_addr(const nb_nsnode_iface_t *ifc) {
  return ifc->ip | ~ifc->netmask;
}

size_t nb_nsn_iface_for(const nb_nsnode_t *n, uint32_t ip) {
  for (size_t i = 0; i < n->cfg.n_ifaces; i++) {
    const nb_nsnode_iface_t *f = &n->cfg.ifaces[i];
    if ((ip & f->netmask) == (f->ip & f->netmask))
      return i;
  }
  return 0;
}

bool nb_nsn_is_own_ip(const nb_nsnode_t *n, uint32_t ip) {
  for (size_t i = 0; i < n->cfg.n_ifaces; i++) {
    if (n->cfg.ifaces[i].ip == ip)
      return true;
  }
  return false;
}

bool nb_nsn_is_nbns(const nb_nsnode_t *n, uint32_t ip) {
  for (size_t i = 0; i < n->cfg.n_nbns; i++) {
    if (n->cfg.nbns[i] == ip)
      return true;
  }
  return false;
}

bool nb_nsn_has_nbns(const nb_nsnode_t *n) {
  return n->cfg.node_type != NB_NSNODE_TYPE_B && n->cfg.n_nbns > 0;
}

uint16_t nb_nsn_ont(const nb_nsnode_t *n) {
  return (uint16_t)((unsigned)n->cfg.node_type << 13);
}

/* Transaction IDs (RFC 1002 5.1: "a unique 16 bit value"): a counter
 * through a 16-bit Feistel permutation keyed by the shell's seed. Being a
 * permutation, no ID repeats within 65536 transactions, so a late answer to
 * a finished transaction cannot match a new one; being keyed, the next ID
 * is not the last one plus one (the seed's IDs were sequential). */
static uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static uint16_t permute16(uint64_t key, uint16_t v) {
  uint8_t l = (uint8_t)(v >> 8), r = (uint8_t)v;
  for (uint64_t round = 0; round < 4; round++) {
    uint8_t f = (uint8_t)mix64(key + (round << 8 | r) * 0x9E3779B97F4A7C15ull);
    uint8_t t = (uint8_t)(l ^ f);
    l = r;
    r = t;
  }
  return (uint16_t)(l << 8 | r);
}

uint16_t nb_nsn_new_trn(nb_nsnode_t *n) {
  uint16_t id = 0;
  for (int tries = 0; tries < 16; tries++) {
    id = permute16(n->prng, n->trn_ctr++);
    if (nb_nsn_name_by_trn(n, id) == NULL && nb_nsn_req_by_trn(n, id) == NULL)
      break;
  }
  return id;
}

/* ---- transactions -------------------------------------------------------- */

void nb_nsn_txn_start(nb_nsnode_t *n, nb_nsn_txn_t *tx, bool bcast,
                      uint32_t dst_ip, uint16_t dst_port) {
  const nb_nsnode_config_t *c = &n->cfg;
  memset(tx, 0, sizeof *tx);
  tx->trn_id = nb_nsn_new_trn(n);
  tx->bcast = bcast;
  tx->dst_ip = dst_ip;
  tx->dst_port = dst_port;
  tx->interval_ms = bcast ? c->bcast_retry_ms : c->ucast_retry_ms;
  tx->max_tries =
      (uint8_t)(bcast ? c->bcast_retry_count : c->ucast_retry_count);
  tx->deadline = NB_NSN_NEVER;
}

void nb_nsn_txn_sent(nb_nsnode_t *n, nb_nsn_txn_t *tx) {
  if (tx->tries > 0)
    n->ctr.retransmits++;
  tx->tries++;
  tx->deadline = n->now + tx->interval_ms;
}

bool nb_nsn_txn_wack(nb_nsnode_t *n, nb_nsn_txn_t *tx, uint32_t ttl_s) {
  /* RFC 1002 5.1.2.1: "IF receive a WACK RESPONSE THEN pause(time from TTL
   * field of response)". A WACK extends the wait, never shortens it: at
   * least one ordinary retry interval (4.2.16: TTL 0 = the NBNS cannot
   * estimate). Capped, and a bounded number of times, so a (spoofed) WACK
   * can neither park a request forever nor speed up retransmissions. */
  if (tx->wacks >= n->cfg.wack_max_count)
    return false;
  tx->wacks++;
  uint64_t wait = (uint64_t)ttl_s * 1000u;
  uint64_t cap = (uint64_t)n->cfg.wack_max_s * 1000u;
  if (wait > cap)
    wait = cap;
  if (wait < tx->interval_ms)
    wait = tx->interval_ms;
  tx->deadline = n->now + wait;
  return true;
}

/* ---- outgoing queue ------------------------------------------------------ */

bool nb_nsn_send(nb_nsnode_t *n, nb_ns_kind_t kind, const nb_ns_build_args_t *a,
                 uint32_t dst_ip, uint16_t dst_port, bool bcast,
                 uint32_t src_ip) {
  if (n->out_count >= n->cfg.max_out) {
    n->ctr.tx_queue_full++;
    return false;
  }
  nb_nsn_out_t *o = &n->outq[(n->out_head + n->out_count) % n->cfg.max_out];
  nb_wr_t w;
  nb_wr_init(&w, o->buf, sizeof o->buf);
  if (nb_ns_build(&w, kind, a) != NB_OK || nb_wr_finish(&w, &o->len) != NB_OK) {
    n->ctr.tx_queue_full++; /* too big for one datagram: never sent */
    return false;
  }
  o->dst_ip = dst_ip;
  o->dst_port = dst_port;
  o->broadcast = bcast;
  o->src_ip = src_ip;
  n->out_count++;
  n->ctr.tx_queued++;
  return true;
}

bool nb_nsnode_pending(nb_nsnode_t *n, nb_nsnode_out_t *out) {
  if (n->out_count == 0)
    return false;
  const nb_nsn_out_t *o = &n->outq[n->out_head];
  out->data = o->buf;
  out->len = o->len;
  out->dst_ip = o->dst_ip;
  out->dst_port = o->dst_port;
  out->broadcast = o->broadcast;
  out->src_ip = o->src_ip;
  return true;
}

void nb_nsnode_advance(nb_nsnode_t *n) {
  if (n->out_count == 0)
    return;
  n->out_head = (n->out_head + 1) % n->cfg.max_out;
  n->out_count--;
  n->ctr.tx_sent++;
}

/* ---- events ---------------------------------------------------------------
 */

nb_nsnode_event_t *nb_nsn_event(nb_nsnode_t *n, nb_nsnode_ev_type_t type) {
  if (n->ev_count >= n->cfg.max_events) {
    n->ctr.events_dropped++;
    return NULL;
  }
  nb_nsnode_event_t *ev =
      &n->evq[(n->ev_head + n->ev_count) % n->cfg.max_events];
  memset(ev, 0, sizeof *ev);
  ev->type = type;
  n->ev_count++;
  return ev;
}

bool nb_nsnode_next_event(nb_nsnode_t *n, nb_nsnode_event_t *ev) {
  if (n->ev_count == 0)
    return false;
  *ev = n->evq[n->ev_head];
  n->ev_head = (n->ev_head + 1) % n->cfg.max_events;
  n->ev_count--;
  return true;
}

/* ---- rate limit -------------------------------------------------------------
 * Token buckets with time passed in: a small fixed table of sources (the
 * least recently seen is recycled) and one global bucket. */

static bool bucket_take(nb_nsn_bucket_t *b, uint32_t rate, uint32_t burst,
                        uint64_t now) {
  uint64_t cap = (uint64_t)burst * 1000u;
  uint64_t elapsed = now > b->last_ms ? now - b->last_ms : 0;
  uint64_t add = elapsed * rate; /* rate tokens/s = rate milli-tokens/ms */
  b->tokens = (cap - b->tokens < add) ? cap : b->tokens + add;
  b->last_ms = now;
  return b->tokens >= 1000u;
}

static nb_nsn_bucket_t *bucket_for(nb_nsnode_t *n, uint32_t ip) {
  nb_nsn_bucket_t *lru = &n->rl[0];
  for (uint32_t i = 0; i < n->cfg.rl_slots; i++) {
    nb_nsn_bucket_t *b = &n->rl[i];
    if (b->used && b->ip == ip)
      return b;
    if (!b->used || (lru->used && b->last_ms < lru->last_ms))
      lru = b;
  }
  lru->used = true;
  lru->ip = ip;
  lru->tokens = (uint64_t)n->cfg.rl_burst * 1000u;
  lru->last_ms = n->now;
  return lru;
}

static bool global_take(nb_nsnode_t *n) {
  const nb_nsnode_config_t *c = &n->cfg;
  if (c->rl_global_rate == 0)
    return true;
  if (!n->global.used) {
    n->global.used = true;
    n->global.tokens = (uint64_t)c->rl_global_burst * 1000u;
    n->global.last_ms = n->now;
  }
  return bucket_take(&n->global, c->rl_global_rate, c->rl_global_burst, n->now);
}

bool nb_nsn_rl_allow(nb_nsnode_t *n, uint32_t ip) {
  const nb_nsnode_config_t *c = &n->cfg;
  nb_nsn_bucket_t *b = NULL;
  if (c->rl_rate != 0) {
    b = bucket_for(n, ip);
    if (!bucket_take(b, c->rl_rate, c->rl_burst, n->now))
      goto limited;
  }
  if (!global_take(n))
    goto limited;
  if (b != NULL)
    b->tokens -= 1000u;
  if (c->rl_global_rate != 0)
    n->global.tokens -= 1000u;
  return true;
limited:
  n->ctr.rate_limited++;
  return false;
}

/* ---- intake
 * ------------------------------------------------------------------
 */

static nb_nsnode_drop_t parse_drop(nb_err_t err) {
  switch (err) {
  case NB_ETRUNCATED:
  case NB_EINCOMPLETE:
    return NB_NSNODE_DROP_TRUNCATED;
  case NB_ELIMIT:
    return NB_NSNODE_DROP_LIMIT;
  default:
    return NB_NSNODE_DROP_MALFORMED;
  }
}

static nb_nsnode_drop_t on_request(nb_nsnode_t *n, const nb_ns_msg_t *m,
                                   uint32_t src, uint16_t port, bool bcast) {
  if (n->shut_down)
    return NB_NSNODE_DROP_SHUT_DOWN;
  /* RFC 1002 5.1.2.5: a P node always ignores broadcasts. */
  if (bcast && n->cfg.node_type == NB_NSNODE_TYPE_P)
    return NB_NSNODE_DROP_BROADCAST_IGNORED;
  switch (m->kind) {
  case NB_NS_KIND_QUERY_REQUEST:
    return nb_nsn_on_query(n, m, src, port, bcast);
  case NB_NS_KIND_STATUS_REQUEST:
    return nb_nsn_on_status(n, m, src, port);
  case NB_NS_KIND_REGISTRATION_REQUEST:
  case NB_NS_KIND_OVERWRITE_REQUEST:
    return nb_nsn_on_registration(n, m, src, port);
  case NB_NS_KIND_RELEASE_REQUEST:
    return nb_nsn_on_release(n, m, src, port, bcast);
  default:
    /* refresh and multi-homed requests are for an NBNS */
    return NB_NSNODE_DROP_UNSUPPORTED;
  }
}

static nb_nsnode_drop_t on_response(nb_nsnode_t *n, const nb_ns_msg_t *m,
                                    uint32_t src, bool bcast) {
  nb_nsn_name_t *e = nb_nsn_name_by_trn(n, m->hdr.trn_id);
  if (e != NULL)
    return nb_nsn_name_response(n, e, m, src);
  nb_nsn_req_t *q = nb_nsn_req_by_trn(n, m->hdr.trn_id);
  if (q != NULL)
    return nb_nsn_req_response(n, q, m, src);
  /* RFC 1002 4.2.8: a NAME CONFLICT DEMAND is a registration response
   * with CFT_ERR that answers nothing of ours. */
  if (m->kind == NB_NS_KIND_CONFLICT_DEMAND) {
    if (bcast && n->cfg.node_type == NB_NSNODE_TYPE_P)
      return NB_NSNODE_DROP_BROADCAST_IGNORED;
    return nb_nsn_on_conflict_demand(n, m, src);
  }
  return NB_NSNODE_DROP_UNSOLICITED;
}

static nb_nsnode_drop_t recv_one(nb_nsnode_t *n, const uint8_t *pkt, size_t len,
                                 uint32_t src, uint16_t port, bool bcast) {
  /* Our own broadcasts come back to us on some systems (nmbd drops them
   * the same way: own address, port 137). */
  if (bcast && port == n->cfg.bcast_port && nb_nsn_is_own_ip(n, src))
    return NB_NSNODE_DROP_OWN;
  nb_err_t err = nb_ns_parse(pkt, len, &n->msg, NULL);
  if (err != NB_OK)
    return parse_drop(err);
  if (n->msg.kind == NB_NS_KIND_UNKNOWN)
    return NB_NSNODE_DROP_UNSUPPORTED;
  if (!n->msg.hdr.response)
    return on_request(n, &n->msg, src, port, bcast);
  return on_response(n, &n->msg, src, bcast);
}

/* WARNING: parses untrusted network data.
 *
 * Every datagram goes through nb_ns_parse() (RFC 1002 4.2.1, whose
 * diagrams are in nb/ns.h) into the engine's scratch model, then to the
 * handler of its kind. Nothing here reads the bytes directly; every
 * handler checks the counts it relies on (a question, an answer, an NB
 * entry) before using them, and every outcome is a counted drop reason. */
nb_nsnode_drop_t nb_nsnode_recv(nb_nsnode_t *n, const uint8_t *pkt, size_t len,
                                uint32_t src_ip, uint16_t src_port,
                                bool was_broadcast, uint64_t now_ms) {
  set_now(n, now_ms);
  n->ctr.rx_packets++;
  static const uint8_t empty[1] = {0};
  nb_nsnode_drop_t r = NB_NSNODE_DROP_MALFORMED;
  if (pkt != NULL)
    r = recv_one(n, pkt, len, src_ip, src_port, was_broadcast);
  else if (len == 0)
    r = recv_one(n, empty, 0, src_ip, src_port, was_broadcast);
  if ((unsigned)r >= NB_NSNODE_DROP__COUNT)
    r = NB_NSNODE_DROP_MALFORMED;
  n->ctr.drop[r]++;
  if (r != NB_NSNODE_DROP_NONE)
    n->ctr.rx_dropped++;
  return r;
}

/* ---- timers
 * ------------------------------------------------------------------
 */

static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

uint64_t nb_nsnode_next_deadline(const nb_nsnode_t *n) {
  uint64_t t = NB_NSN_NEVER;
  for (uint32_t i = 0; i < n->names_hi; i++) {
    const nb_nsn_name_t *e = &n->names[i];
    if (e->used)
      t = min64(t, min64(e->tx.deadline, e->refresh_at));
  }
  for (uint32_t i = 0; i < n->reqs_hi; i++) {
    const nb_nsn_req_t *q = &n->reqs[i];
    if (q->used)
      t = min64(t, min64(q->tx.deadline, q->hard_deadline));
  }
  return t;
}

void nb_nsnode_on_timer(nb_nsnode_t *n, uint64_t now_ms) {
  set_now(n, now_ms);
  for (uint32_t i = 0; i < n->names_hi; i++) {
    nb_nsn_name_t *e = &n->names[i];
    if (e->used && (e->tx.deadline <= n->now || e->refresh_at <= n->now))
      nb_nsn_name_timer(n, e);
  }
  for (uint32_t i = 0; i < n->reqs_hi; i++) {
    nb_nsn_req_t *q = &n->reqs[i];
    if (q->used && (q->tx.deadline <= n->now || q->hard_deadline <= n->now))
      nb_nsn_req_timer(n, q);
  }
}

/* ---- lifecycle and accessors ------------------------------------------------
 */

void nb_nsnode_shutdown(nb_nsnode_t *n, uint64_t now_ms) {
  set_now(n, now_ms);
  if (n->shut_down)
    return;
  n->shut_down = true;
  nb_nsn_reqs_shutdown(n);
  nb_nsn_names_shutdown(n);
}

bool nb_nsnode_done(const nb_nsnode_t *n) {
  if (!n->shut_down || n->out_count != 0)
    return false;
  for (uint32_t i = 0; i < n->names_hi; i++) {
    if (n->names[i].used)
      return false;
  }
  return true;
}

const nb_nsnode_counters_t *nb_nsnode_counters(const nb_nsnode_t *n) {
  return &n->ctr;
}

const nb_nsnode_config_t *nb_nsnode_config(const nb_nsnode_t *n) {
  return &n->cfg;
}

static const char *const drop_names[] = {
#define NB_NSNODE_DROP_NAME_(name, msg) #name,
    NB_NSNODE_DROP_MAP(NB_NSNODE_DROP_NAME_)
#undef NB_NSNODE_DROP_NAME_
};

static const char *const drop_msgs[] = {
#define NB_NSNODE_DROP_MSG_(name, msg) msg,
    NB_NSNODE_DROP_MAP(NB_NSNODE_DROP_MSG_)
#undef NB_NSNODE_DROP_MSG_
};

const char *nb_nsnode_drop_name(nb_nsnode_drop_t reason) {
  if ((unsigned)reason >= NB_NSNODE_DROP__COUNT)
    return "UNKNOWN";
  return drop_names[reason];
}

const char *nb_nsnode_drop_str(nb_nsnode_drop_t reason) {
  if ((unsigned)reason >= NB_NSNODE_DROP__COUNT)
    return "unknown reason";
  return drop_msgs[reason];
}
