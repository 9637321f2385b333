/* SPDX-License-Identifier: BSD-2-Clause */
/* Name resolution for the node's user (RFC 1001 15.1.2, 15.3, 15.6; RFC
 * 1002 5.1.1.3, 5.1.2.3, 5.1.3.3): broadcast and NBNS queries with their
 * retries, WACK and redirect, conflict detection among broadcast answers,
 * the answer cache, and node status requests.
 *
 * A request runs the phases of its plan in order (B: broadcast; P: NBNS;
 * M: broadcast then NBNS; H: NBNS then broadcast; or what the caller asked
 * for). A broadcast query that got its first answer reports it at once
 * and then watches for conflicting answers for CONFLICT_TIMER. */
#include <string.h>

#include "nsnode_int.h"

/* ---- the cache --------------------------------------------------------------
 * Positive answers for their TTL (capped), negative answers for
 * neg_cache_ms. Fixed size; when full the entry expiring first goes
 * (RFC 1001 15.1.8: "flushed on a periodic basis"). */

static nb_nsn_cache_t *cache_lookup(nb_nsnode_t *n, const nb_name_t *name) {
  for (uint32_t i = 0; i < n->cfg.max_cache; i++) {
    nb_nsn_cache_t *c = &n->cache[i];
    if (!c->used || !nb_name_equal(&c->name, name))
      continue;
    if (c->expires > n->now)
      return c;
    memset(c, 0, sizeof *c); /* expired */
  }
  return NULL;
}

static nb_nsn_cache_t *cache_slot(nb_nsnode_t *n, const nb_name_t *name) {
  nb_nsn_cache_t *victim = &n->cache[0];
  for (uint32_t i = 0; i < n->cfg.max_cache; i++) {
    nb_nsn_cache_t *c = &n->cache[i];
    if (c->used && nb_name_equal(&c->name, name))
      return c;
    if (!c->used)
      victim = c;
    else if (victim->used && c->expires < victim->expires)
      victim = c;
  }
  return victim;
}

static void cache_put(nb_nsnode_t *n, const nb_nsn_req_t *q, bool negative) {
  uint64_t life = negative ? n->cfg.neg_cache_ms : 0;
  if (!negative) {
    uint32_t ttl =
        q->ttl_s < n->cfg.cache_max_ttl_s ? q->ttl_s : n->cfg.cache_max_ttl_s;
    life = (uint64_t)ttl * 1000u; /* TTL 0: do not cache */
    if (q->n_addrs > NB_NSN_CACHE_ADDRS)
      life = 0;
  }
  if (life == 0 || (q->opts.flags & NB_NSNODE_Q_NO_CACHE))
    return;
  nb_nsn_cache_t *c = cache_slot(n, &q->name);
  memset(c, 0, sizeof *c);
  c->used = true;
  c->negative = negative;
  c->group = q->group;
  c->name = q->name;
  c->expires = n->now + life;
  c->ttl_s = (uint32_t)(life / 1000u);
  c->n_addrs = (uint8_t)(negative ? 0 : q->n_addrs);
  memcpy(c->addrs, q->addrs, c->n_addrs * sizeof c->addrs[0]);
}

bool nb_nsn_cache_forget(nb_nsnode_t *n, const nb_name_t *name) {
  nb_nsn_cache_t *c = cache_lookup(n, name);
  if (c == NULL)
    return false;
  memset(c, 0, sizeof *c);
  return true;
}

/* ---- requests
 * ------------------------------------------------------------------
 */

nb_nsn_req_t *nb_nsn_req_by_trn(nb_nsnode_t *n, uint16_t trn_id) {
  for (uint32_t i = 0; i < n->reqs_hi; i++) {
    nb_nsn_req_t *q = &n->reqs[i];
    if (q->used && q->phase != NB_NSN_RQ_NONE && q->tx.trn_id == trn_id)
      return q;
  }
  return NULL;
}

static uint32_t new_handle(nb_nsnode_t *n) {
  uint32_t h = n->next_handle++;
  if (n->next_handle == 0)
    n->next_handle = 1;
  return h;
}

static void req_free(nb_nsn_req_t *q) { memset(q, 0, sizeof *q); }

static void add_addr(nb_nsn_req_t *q, uint32_t ip) {
  for (size_t i = 0; i < q->n_addrs; i++) {
    if (q->addrs[i] == ip)
      return;
  }
  if (q->n_addrs < NB_NSNODE_MAX_ADDRS)
    q->addrs[q->n_addrs++] = ip;
}

static void report(nb_nsnode_t *n, nb_nsn_req_t *q, nb_nsnode_result_t r) {
  nb_nsnode_event_t *ev = nb_nsn_event(n, NB_NSNODE_EV_QUERY_RESULT);
  if (ev != NULL) {
    ev->handle = q->handle;
    ev->name = q->name;
    ev->result = r;
    ev->err = r == NB_NSNODE_TIMEOUT ? NB_ETIMEDOUT : NB_OK;
    ev->group = q->group;
    ev->ttl_s = q->ttl_s;
    ev->peer_ip = q->first_ip;
    ev->n_addrs = r == NB_NSNODE_FOUND ? q->n_addrs : 0;
    memcpy(ev->addrs, q->addrs, ev->n_addrs * sizeof ev->addrs[0]);
  }
  if (r == NB_NSNODE_FOUND || r == NB_NSNODE_NOT_FOUND)
    cache_put(n, q, r == NB_NSNODE_NOT_FOUND);
}

static void send_query(nb_nsnode_t *n, nb_nsn_req_t *q) {
  nb_ns_build_args_t a;
  memset(&a, 0, sizeof a);
  a.trn_id = q->tx.trn_id;
  a.name = &q->name;
  a.broadcast = q->tx.bcast;
  nb_ns_kind_t kind = q->phase == NB_NSN_RQ_STATUS ? NB_NS_KIND_STATUS_REQUEST
                                                   : NB_NS_KIND_QUERY_REQUEST;
  if (q->phase == NB_NSN_RQ_UNICAST && (q->opts.flags & NB_NSNODE_Q_NO_RD)) {
    nb_ns_header_t h = {0, false, NB_NS_OPCODE_QUERY, 0, 0};
    a.raw_flags = true;
    a.flags_word = nb_ns_flags_word(&h);
  }
  if (!q->tx.bcast) {
    uint32_t src = n->cfg.ifaces[nb_nsn_iface_for(n, q->tx.dst_ip)].ip;
    nb_nsn_send(n, kind, &a, q->tx.dst_ip, q->tx.dst_port, false, src);
  } else {
    for (size_t i = 0; i < n->cfg.n_ifaces; i++) {
      const nb_nsnode_iface_t *f = &n->cfg.ifaces[i];
      nb_nsn_send(n, kind, &a, nb_nsn_bcast_addr(f), q->tx.dst_port, true,
                  f->ip);
    }
  }
  nb_nsn_txn_sent(n, &q->tx);
}

static void req_start(nb_nsnode_t *n, nb_nsn_req_t *q, nb_nsn_rphase_t ph,
                      uint32_t nbns_ip) {
  const nb_nsnode_config_t *c = &n->cfg;
  uint16_t port = q->opts.port != 0 ? q->opts.port : c->bcast_port;
  q->phase = (uint8_t)ph;
  if (ph == NB_NSN_RQ_BCAST)
    nb_nsn_txn_start(n, &q->tx, true, 0, c->bcast_port);
  else if (ph == NB_NSN_RQ_NBNS)
    nb_nsn_txn_start(n, &q->tx, false, nbns_ip, c->nbns_port);
  else
    nb_nsn_txn_start(n, &q->tx, false, q->opts.ip, port);
  send_query(n, q);
}

/* Run the next phase of the plan, or report the outcome. */
static void next_phase(nb_nsnode_t *n, nb_nsn_req_t *q) {
  q->plan_i++;
  if (q->plan_i < 2 && q->plan[q->plan_i] != NB_NSN_RQ_NONE) {
    q->server = 0;
    q->redirects = 0;
    req_start(n, q, (nb_nsn_rphase_t)q->plan[q->plan_i], n->cfg.nbns[0]);
    return;
  }
  report(n, q, q->negative ? NB_NSNODE_NOT_FOUND : NB_NSNODE_TIMEOUT);
  req_free(q);
}

static void status_timeout(nb_nsnode_t *n, nb_nsn_req_t *q) {
  nb_nsnode_event_t *ev = nb_nsn_event(n, NB_NSNODE_EV_STATUS_RESULT);
  if (ev != NULL) {
    ev->handle = q->handle;
    ev->name = q->name;
    ev->result = NB_NSNODE_TIMEOUT;
    ev->err = NB_ETIMEDOUT;
    ev->peer_ip = q->opts.ip;
  }
  req_free(q);
}

/* The last copy of this phase went unanswered for a full interval. */
static void phase_timeout(nb_nsnode_t *n, nb_nsn_req_t *q) {
  switch (q->phase) {
  case NB_NSN_RQ_WATCH: /* CONFLICT_TIMER ran out */
    req_free(q);
    break;
  case NB_NSN_RQ_STATUS:
    status_timeout(n, q);
    break;
  case NB_NSN_RQ_BCAST:
    if (q->answered) { /* NB_NSNODE_Q_COLLECT */
      report(n, q, NB_NSNODE_FOUND);
      req_free(q);
    } else {
      next_phase(n, q);
    }
    break;
  case NB_NSN_RQ_NBNS:
    if (q->redirects == 0 && (size_t)q->server + 1 < n->cfg.n_nbns) {
      q->server++; /* the next NBNS in the list */
      req_start(n, q, NB_NSN_RQ_NBNS, n->cfg.nbns[q->server]);
    } else {
      next_phase(n, q);
    }
    break;
  default:
    next_phase(n, q);
    break;
  }
}

static void hard_timeout(nb_nsnode_t *n, nb_nsn_req_t *q) {
  if (q->phase == NB_NSN_RQ_STATUS) {
    status_timeout(n, q);
    return;
  }
  if (q->phase != NB_NSN_RQ_WATCH)
    report(n, q, q->answered ? NB_NSNODE_FOUND : NB_NSNODE_TIMEOUT);
  req_free(q);
}

void nb_nsn_req_timer(nb_nsnode_t *n, nb_nsn_req_t *q) {
  if (q->hard_deadline <= n->now) {
    hard_timeout(n, q);
  } else if (q->tx.deadline <= n->now) {
    if (q->phase != NB_NSN_RQ_WATCH && q->tx.tries < q->tx.max_tries)
      send_query(n, q); /* retransmit: same transaction ID */
    else
      phase_timeout(n, q);
  }
}

/* ---- answers
 * ---------------------------------------------------------------------
 */

/* The addresses of a positive answer; false if it has none. */
static bool answer_addrs(const nb_ns_msg_t *m, nb_nsn_req_t *tmp) {
  const nb_ns_rr_t *rr = &m->rr[0];
  tmp->n_addrs = 0;
  for (size_t i = 0; i < rr->nb_count; i++) {
    nb_ns_nb_entry_t ent;
    if (nb_ns_nb_entry(rr, i, &ent) != NB_OK)
      break;
    if (i == 0)
      tmp->group = (ent.nb_flags & NB_NS_NB_G) != 0;
    add_addr(tmp, ent.addr);
  }
  tmp->ttl_s = rr->ttl;
  return tmp->n_addrs > 0;
}

static bool subset_of(const nb_nsn_req_t *a, const nb_nsn_req_t *b) {
  for (size_t i = 0; i < a->n_addrs; i++) {
    bool found = false;
    for (size_t j = 0; j < b->n_addrs && !found; j++)
      found = a->addrs[i] == b->addrs[j];
    if (!found)
      return false;
  }
  return true;
}

/* RFC 1001 15.1.3.5: tell the offender (only), once per query. */
static void conflict(nb_nsnode_t *n, nb_nsn_req_t *q, const nb_ns_msg_t *m,
                     uint32_t src, bool their_group) {
  nb_nsnode_event_t *ev = nb_nsn_event(n, NB_NSNODE_EV_QUERY_CONFLICT);
  if (ev != NULL) {
    ev->handle = q->handle;
    ev->name = q->name;
    ev->group = q->group;
    ev->n_addrs = 1;
    ev->addrs[0] = q->addrs[0];
    ev->peer_ip = src;
  }
  nb_nsn_cache_forget(n, &q->name); /* RFC 1002 5.1.1.5 */
  for (size_t i = 0; i < q->n_demanded; i++) {
    if (q->demanded[i] == src)
      return;
  }
  if (!n->cfg.send_conflict_demand || q->n_demanded >= NB_NSN_DEMANDED)
    return;
  q->demanded[q->n_demanded++] = src;
  nb_ns_build_args_t a;
  memset(&a, 0, sizeof a);
  a.trn_id = m->hdr.trn_id;
  a.name = &q->name;
  a.nb_flags = (uint16_t)(their_group ? NB_NS_NB_G : 0u);
  uint32_t own = n->cfg.ifaces[nb_nsn_iface_for(n, src)].ip;
  nb_nsn_send(n, NB_NS_KIND_CONFLICT_DEMAND, &a, src, n->cfg.bcast_port, false,
              own);
}

/* A positive answer to a broadcast query (RFC 1002 5.1.1.3, 5.1.1.5). */
static nb_nsnode_drop_t bcast_answer(nb_nsnode_t *n, nb_nsn_req_t *q,
                                     const nb_ns_msg_t *m, uint32_t src,
                                     const nb_nsn_req_t *ans) {
  if (!q->answered) { /* the first answer is authoritative */
    q->answered = true;
    q->first_ip = src;
    q->group = ans->group;
    q->ttl_s = ans->ttl_s;
    for (size_t i = 0; i < ans->n_addrs; i++)
      add_addr(q, ans->addrs[i]);
    if (!(q->opts.flags & NB_NSNODE_Q_COLLECT)) {
      report(n, q, NB_NSNODE_FOUND);
      q->phase = NB_NSN_RQ_WATCH; /* start_timer(CONFLICT_TIMER) */
      q->tx.deadline = n->now + n->cfg.conflict_timer_ms;
    }
    return NB_NSNODE_DROP_NONE;
  }
  if (src == q->first_ip || subset_of(ans, q))
    return NB_NSNODE_DROP_NONE; /* a duplicate */
  if (!q->group || !ans->group) {
    conflict(n, q, m, src, ans->group);
    return NB_NSNODE_DROP_NONE;
  }
  for (size_t i = 0; i < ans->n_addrs; i++)
    add_addr(q, ans->addrs[i]); /* another member of the group */
  return NB_NSNODE_DROP_NONE;
}

static nb_nsnode_drop_t unicast_answer(nb_nsnode_t *n, nb_nsn_req_t *q,
                                       const nb_nsn_req_t *ans, uint32_t src) {
  q->answered = true;
  q->first_ip = src;
  q->group = ans->group;
  q->ttl_s = ans->ttl_s;
  q->n_addrs = 0;
  for (size_t i = 0; i < ans->n_addrs; i++)
    add_addr(q, ans->addrs[i]);
  report(n, q, NB_NSNODE_FOUND);
  req_free(q);
  return NB_NSNODE_DROP_NONE;
}

/* RFC 1002 4.2.15, 5.1.2.3: "repeat query with NBNS address in the
 * response packet" (the A record of the additional section). */
static nb_nsnode_drop_t redirect(nb_nsnode_t *n, nb_nsn_req_t *q,
                                 const nb_ns_msg_t *m) {
  if (q->phase != NB_NSN_RQ_NBNS || q->redirects >= n->cfg.redirect_max)
    return NB_NSNODE_DROP_MISMATCH;
  for (size_t i = 0; i < m->arcount; i++) {
    const nb_ns_rr_t *rr = nb_ns_additional(m, i);
    if (rr != NULL && rr->rrtype == NB_NS_TYPE_A && rr->a_addr != 0 &&
        !nb_nsn_is_own_ip(n, rr->a_addr)) {
      q->redirects++;
      req_start(n, q, NB_NSN_RQ_NBNS, rr->a_addr);
      return NB_NSNODE_DROP_NONE;
    }
  }
  return NB_NSNODE_DROP_MISMATCH;
}

static nb_nsnode_drop_t status_answer(nb_nsnode_t *n, nb_nsn_req_t *q,
                                      const nb_ns_msg_t *m, uint32_t src) {
  const nb_ns_rr_t *rr = &m->rr[0];
  nb_nsnode_event_t *ev = nb_nsn_event(n, NB_NSNODE_EV_STATUS_RESULT);
  if (ev != NULL) {
    ev->handle = q->handle;
    ev->name = q->name;
    ev->result = NB_NSNODE_FOUND;
    ev->peer_ip = src;
    nb_nsnode_status_table_t *t = &ev->status;
    for (size_t i = 0; i < rr->nbstat_names && i < NB_NSNODE_STATUS_MAX; i++) {
      nb_ns_nbstat_entry_t ent;
      if (nb_ns_nbstat_entry(rr, i, &ent) != NB_OK)
        break;
      memcpy(t->names[i].name, ent.name, NB_NAME_BYTES);
      t->names[i].flags = ent.name_flags;
      t->n_names = i + 1;
    }
    t->truncated =
        t->n_names < rr->nbstat_names || (m->hdr.nm_flags & NB_NS_FLAG_TC) != 0;
    nb_ns_statistics_t st;
    if (nb_ns_nbstat_statistics(rr, &st) == NB_OK)
      memcpy(t->unit_id, st.unit_id, sizeof t->unit_id);
  }
  req_free(q);
  return NB_NSNODE_DROP_NONE;
}

static nb_nsnode_drop_t query_answer(nb_nsnode_t *n, nb_nsn_req_t *q,
                                     const nb_ns_msg_t *m, uint32_t src) {
  bool bcast_phase = q->phase == NB_NSN_RQ_BCAST || q->phase == NB_NSN_RQ_WATCH;
  if (m->kind == NB_NS_KIND_NEG_QUERY_RESPONSE) {
    if (bcast_phase)
      return NB_NSNODE_DROP_MISMATCH; /* RFC 1002 5.1.1.3: ignore */
    q->negative = true;
    next_phase(n, q); /* H: the NBNS said no; try broadcast */
    return NB_NSNODE_DROP_NONE;
  }
  nb_nsn_req_t ans;
  memset(&ans, 0, sizeof ans);
  if (!answer_addrs(m, &ans))
    return NB_NSNODE_DROP_MISMATCH;
  return bcast_phase ? bcast_answer(n, q, m, src, &ans)
                     : unicast_answer(n, q, &ans, src);
}

nb_nsnode_drop_t nb_nsn_req_response(nb_nsnode_t *n, nb_nsn_req_t *q,
                                     const nb_ns_msg_t *m, uint32_t src) {
  if (!q->tx.bcast && src != q->tx.dst_ip)
    return NB_NSNODE_DROP_WRONG_SOURCE;
  if (m->kind == NB_NS_KIND_WACK && q->phase != NB_NSN_RQ_WATCH &&
      !q->tx.bcast) {
    uint32_t ttl = m->ancount > 0 ? m->rr[0].ttl : 0;
    return nb_nsn_txn_wack(n, &q->tx, ttl) ? NB_NSNODE_DROP_NONE
                                           : NB_NSNODE_DROP_MISMATCH;
  }
  if (q->phase == NB_NSN_RQ_STATUS)
    return m->kind == NB_NS_KIND_STATUS_RESPONSE ? status_answer(n, q, m, src)
                                                 : NB_NSNODE_DROP_MISMATCH;
  if (m->kind == NB_NS_KIND_REDIRECT_RESPONSE)
    return redirect(n, q, m);
  if (m->kind != NB_NS_KIND_POS_QUERY_RESPONSE &&
      m->kind != NB_NS_KIND_NEG_QUERY_RESPONSE)
    return NB_NSNODE_DROP_MISMATCH;
  /* The answer must be about the name we asked for. */
  if (m->ancount < 1 || !nb_name_equal(&m->rr[0].rrname.name, &q->name))
    return NB_NSNODE_DROP_MISMATCH;
  return query_answer(n, q, m, src);
}

/* ---- operations
 * ------------------------------------------------------------------
 */

static nb_nsn_req_t *req_alloc(nb_nsnode_t *n) {
  for (uint32_t i = 0; i < n->cfg.max_pending; i++) {
    if (!n->reqs[i].used) {
      if (i >= n->reqs_hi)
        n->reqs_hi = i + 1;
      return &n->reqs[i];
    }
  }
  return NULL;
}

/* The phases a query runs (RFC 1002 5.1.1.3, 5.1.2.3, 5.1.3.3; H: NBNS
 * first, then broadcast). False if the request cannot be made. */
static bool make_plan(const nb_nsnode_t *n, nb_nsn_req_t *q) {
  bool nbns = nb_nsn_has_nbns(n);
  uint8_t *p = q->plan;
  switch (q->opts.via) {
  case NB_NSNODE_VIA_BCAST:
    p[0] = NB_NSN_RQ_BCAST;
    return true;
  case NB_NSNODE_VIA_NBNS:
    p[0] = NB_NSN_RQ_NBNS;
    return n->cfg.n_nbns > 0;
  case NB_NSNODE_VIA_UNICAST:
    p[0] = NB_NSN_RQ_UNICAST;
    return q->opts.ip != 0;
  default:
    break;
  }
  switch (n->cfg.node_type) {
  case NB_NSNODE_TYPE_P:
    p[0] = NB_NSN_RQ_NBNS;
    break;
  case NB_NSNODE_TYPE_M:
    p[0] = NB_NSN_RQ_BCAST;
    p[1] = NB_NSN_RQ_NBNS;
    break;
  case NB_NSNODE_TYPE_H:
    p[0] = nbns ? NB_NSN_RQ_NBNS : NB_NSN_RQ_BCAST;
    p[1] = nbns ? NB_NSN_RQ_BCAST : NB_NSN_RQ_NONE;
    break;
  default:
    p[0] = NB_NSN_RQ_BCAST;
    break;
  }
  return true;
}

/* Answer from the cache or from our own table, without the network. */
static bool answer_locally(nb_nsnode_t *n, const nb_name_t *name,
                           const nb_nsnode_query_opts_t *o, uint32_t handle) {
  if (o->via != NB_NSNODE_VIA_DEFAULT || (o->flags & NB_NSNODE_Q_NO_CACHE))
    return false;
  const nb_nsn_cache_t *c = cache_lookup(n, name);
  nb_nsn_name_t *own = nb_nsn_name_find(n, name);
  bool mine = own != NULL && own->state == NB_NSNODE_NAME_ACTIVE && !own->group;
  if (c == NULL && !mine)
    return false;
  nb_nsnode_event_t *ev = nb_nsn_event(n, NB_NSNODE_EV_QUERY_RESULT);
  if (ev == NULL)
    return true;
  ev->handle = handle;
  ev->name = *name;
  ev->from_cache = true;
  if (mine) {
    ev->n_addrs = 1;
    ev->addrs[0] = n->cfg.ifaces[0].ip;
    ev->peer_ip = ev->addrs[0];
    return true;
  }
  ev->result = c->negative ? NB_NSNODE_NOT_FOUND : NB_NSNODE_FOUND;
  ev->group = c->group;
  ev->ttl_s = (uint32_t)((c->expires - n->now) / 1000u);
  ev->n_addrs = c->n_addrs;
  memcpy(ev->addrs, c->addrs, c->n_addrs * sizeof c->addrs[0]);
  return true;
}

static nb_err_t check_request(const nb_nsnode_t *n, const nb_name_t *name,
                              const nb_nsnode_query_opts_t *o,
                              const uint32_t *handle) {
  nb_name_t probe;
  if (name == NULL || handle == NULL ||
      (unsigned)o->via > NB_NSNODE_VIA_UNICAST)
    return NB_EINVAL;
  if (name->scope_len > NB_SCOPE_MAX ||
      nb_name_set_scope(&probe, name->scope, name->scope_len, NULL) != NB_OK)
    return NB_EINVAL;
  return n->shut_down ? NB_ESTATE : NB_OK;
}

static void req_init(nb_nsnode_t *n, nb_nsn_req_t *q, const nb_name_t *name,
                     const nb_nsnode_query_opts_t *o, uint32_t handle) {
  memset(q, 0, sizeof *q);
  q->used = true;
  q->handle = handle;
  q->name = *name;
  q->opts = *o;
  q->hard_deadline = o->timeout_ms != 0 ? n->now + o->timeout_ms : NB_NSN_NEVER;
}

nb_err_t nb_nsnode_find(nb_nsnode_t *n, const nb_name_t *name,
                        const nb_nsnode_query_opts_t *opts, uint64_t now_ms,
                        uint32_t *handle) {
  nb_nsnode_query_opts_t o;
  memset(&o, 0, sizeof o);
  if (opts != NULL)
    o = *opts;
  nb_err_t err = check_request(n, name, &o, handle);
  if (err != NB_OK)
    return err;
  if (now_ms > n->now)
    n->now = now_ms;
  if (answer_locally(n, name, &o, n->next_handle)) {
    *handle = new_handle(n);
    return NB_OK;
  }
  nb_nsn_req_t *q = req_alloc(n);
  if (q == NULL)
    return NB_ELIMIT;
  uint32_t h = new_handle(n);
  req_init(n, q, name, &o, h);
  if (!make_plan(n, q)) {
    req_free(q);
    return NB_EINVAL;
  }
  req_start(n, q, (nb_nsn_rphase_t)q->plan[0], n->cfg.nbns[0]);
  *handle = h;
  return NB_OK;
}

nb_err_t nb_nsnode_status(nb_nsnode_t *n, uint32_t ip, const nb_name_t *name,
                          const nb_nsnode_query_opts_t *opts, uint64_t now_ms,
                          uint32_t *handle) {
  nb_nsnode_query_opts_t o;
  memset(&o, 0, sizeof o);
  if (opts != NULL)
    o = *opts;
  nb_name_t star;
  if (name == NULL) { /* `*<00>`, NUL-padded (RFC 1001 17.2) */
    if (nb_name_make(&star, "*", 1, 0x00, n->cfg.scope) != NB_OK)
      return NB_EINVAL;
    name = &star;
  }
  nb_err_t err = check_request(n, name, &o, handle);
  if (err != NB_OK)
    return err;
  if (ip == 0 ||
      (o.via != NB_NSNODE_VIA_DEFAULT && o.via != NB_NSNODE_VIA_UNICAST))
    return NB_EINVAL;
  if (now_ms > n->now)
    n->now = now_ms;
  nb_nsn_req_t *q = req_alloc(n);
  if (q == NULL)
    return NB_ELIMIT;
  o.ip = ip;
  req_init(n, q, name, &o, new_handle(n));
  req_start(n, q, NB_NSN_RQ_STATUS, 0); /* RFC 1001 15.6: UCAST timers */
  *handle = q->handle;
  return NB_OK;
}

nb_err_t nb_nsnode_cancel(nb_nsnode_t *n, uint32_t handle) {
  for (uint32_t i = 0; i < n->reqs_hi; i++) {
    nb_nsn_req_t *q = &n->reqs[i];
    if (q->used && q->handle == handle && handle != 0) {
      req_free(q);
      return NB_OK;
    }
  }
  return NB_ENOTFOUND;
}

void nb_nsn_reqs_shutdown(nb_nsnode_t *n) {
  for (uint32_t i = 0; i < n->reqs_hi; i++) {
    nb_nsn_req_t *q = &n->reqs[i];
    if (!q->used)
      continue;
    if (q->phase != NB_NSN_RQ_WATCH) {
      nb_nsnode_event_t *ev = nb_nsn_event(n, q->phase == NB_NSN_RQ_STATUS
                                                  ? NB_NSNODE_EV_STATUS_RESULT
                                                  : NB_NSNODE_EV_QUERY_RESULT);
      if (ev != NULL) {
        ev->handle = q->handle;
        ev->name = q->name;
        ev->result = NB_NSNODE_FAILED;
        ev->err = NB_ESTATE;
      }
    }
    req_free(q);
  }
}
