/* SPDX-License-Identifier: BSD-2-Clause */
/* The node's own names (RFC 1001 15.1.1, 15.2, 15.4, 15.5; RFC 1002 5.1):
 * claim by broadcast and/or through the NBNS, defend, answer queries and
 * node status requests, honour conflict demands, refresh, release.
 *
 * State per name: REGISTERING -> ACTIVE -> RELEASING -> (gone), with
 * CONFLICT reachable from ACTIVE. One transaction at a time per name, its
 * `phase` saying what it is (nsnode_int.h). Timers: the transaction's
 * retransmission deadline and, for names the NBNS holds, refresh_at. */
#include <string.h>

#include "nsnode_int.h"

/* ---- the table ------------------------------------------------------------
 */

nb_nsn_name_t *nb_nsn_name_find(nb_nsnode_t *n, const nb_name_t *name) {
  for (uint32_t i = 0; i < n->names_hi; i++) {
    nb_nsn_name_t *e = &n->names[i];
    if (e->used && nb_name_equal(&e->name, name))
      return e;
  }
  return NULL;
}

nb_nsn_name_t *nb_nsn_name_by_trn(nb_nsnode_t *n, uint16_t trn_id) {
  for (uint32_t i = 0; i < n->names_hi; i++) {
    nb_nsn_name_t *e = &n->names[i];
    if (e->used && e->phase != NB_NSN_PH_NONE && e->tx.trn_id == trn_id)
      return e;
  }
  return NULL;
}

static nb_nsn_name_t *name_alloc(nb_nsnode_t *n) {
  for (uint32_t i = 0; i < n->cfg.max_names; i++) {
    if (!n->names[i].used) {
      if (i >= n->names_hi)
        n->names_hi = i + 1;
      return &n->names[i];
    }
  }
  return NULL;
}

static void name_event(nb_nsnode_t *n, const nb_nsn_name_t *e,
                       nb_nsnode_ev_type_t type, uint32_t peer) {
  nb_nsnode_event_t *ev = nb_nsn_event(n, type);
  if (ev == NULL)
    return;
  ev->name = e->name;
  ev->group = e->group;
  ev->peer_ip = peer;
  ev->ttl_s = e->ttl_s;
  ev->removed = (nb_nsnode_removed_t)e->removed;
}

static void name_free(nb_nsn_name_t *e) { memset(e, 0, sizeof *e); }

static void name_removed(nb_nsnode_t *n, nb_nsn_name_t *e,
                         nb_nsnode_removed_t why) {
  e->removed = (uint8_t)why;
  name_event(n, e, NB_NSNODE_EV_NAME_REMOVED, 0);
  name_free(e);
}

static void name_idle(nb_nsn_name_t *e) {
  e->phase = NB_NSN_PH_NONE;
  e->tx.deadline = NB_NSN_NEVER;
}

/* ---- sending ----------------------------------------------------------------
 */

static uint16_t nb_flags_of(const nb_nsnode_t *n, const nb_nsn_name_t *e) {
  return (uint16_t)((e->group ? NB_NS_NB_G : 0u) | nb_nsn_ont(n));
}

static nb_ns_kind_t phase_kind(uint8_t phase) {
  switch (phase) {
  case NB_NSN_PH_REG_BCAST:
  case NB_NSN_PH_REG_NBNS:
    return NB_NS_KIND_REGISTRATION_REQUEST;
  case NB_NSN_PH_OVERWRITE:
    return NB_NS_KIND_OVERWRITE_REQUEST;
  case NB_NSN_PH_REFRESH:
    return NB_NS_KIND_REFRESH_REQUEST;
  case NB_NSN_PH_CHALLENGE:
    return NB_NS_KIND_QUERY_REQUEST;
  default:
    return NB_NS_KIND_RELEASE_REQUEST;
  }
}

/* Send the current phase's request once: to every subnet broadcast address
 * (each copy carrying that interface's address) or to tx.dst_ip. */
static void name_send(nb_nsnode_t *n, nb_nsn_name_t *e) {
  nb_ns_build_args_t a;
  memset(&a, 0, sizeof a);
  a.trn_id = e->tx.trn_id;
  a.name = &e->name;
  a.broadcast = e->tx.bcast;
  a.nb_flags = nb_flags_of(n, e);
  /* RFC 1002 5.1.1.1: TTL 0 on broadcast claims; the NBNS is offered the
   * configured lifetime (RFC 1001 15.1.3.2). Releases carry 0 (4.2.9). */
  bool nbns_ttl = e->phase == NB_NSN_PH_REG_NBNS ||
                  e->phase == NB_NSN_PH_OVERWRITE ||
                  e->phase == NB_NSN_PH_REFRESH;
  a.ttl = nbns_ttl ? n->cfg.reg_ttl_s : 0;
  nb_ns_kind_t kind = phase_kind(e->phase);
  if (e->tx.bcast) {
    for (size_t i = 0; i < n->cfg.n_ifaces; i++) {
      const nb_nsnode_iface_t *f = &n->cfg.ifaces[i];
      a.addr = f->ip;
      nb_nsn_send(n, kind, &a, nb_nsn_bcast_addr(f), e->tx.dst_port, true,
                  f->ip);
    }
  } else {
    a.addr = n->cfg.ifaces[0].ip;
    nb_nsn_send(n, kind, &a, e->tx.dst_ip, e->tx.dst_port, false, a.addr);
  }
  nb_nsn_txn_sent(n, &e->tx);
}

static void start_phase(nb_nsnode_t *n, nb_nsn_name_t *e, nb_nsn_phase_t ph) {
  const nb_nsnode_config_t *c = &n->cfg;
  e->phase = (uint8_t)ph;
  switch (ph) {
  case NB_NSN_PH_REG_BCAST:
  case NB_NSN_PH_REL_BCAST:
    nb_nsn_txn_start(n, &e->tx, true, 0, c->bcast_port);
    break;
  case NB_NSN_PH_CHALLENGE:
    /* RFC 1002 5.1: requests go to the well-known port. */
    nb_nsn_txn_start(n, &e->tx, false, e->challenge_ip, c->bcast_port);
    break;
  default:
    nb_nsn_txn_start(n, &e->tx, false, c->nbns[e->server], c->nbns_port);
    break;
  }
  name_send(n, e);
}

/* ---- outcomes
 * ----------------------------------------------------------------
 */

/* Refresh at half the granted TTL, within the configured bounds, and
 * always before the TTL runs out (RFC 1001 15.1.3.2, 15.5.1). */
static void schedule_refresh(nb_nsnode_t *n, nb_nsn_name_t *e) {
  if (!e->nbns_registered || e->ttl_s == 0) {
    e->refresh_at = NB_NSN_NEVER; /* infinite TTL: no refresh */
    return;
  }
  uint64_t ttl_ms = (uint64_t)e->ttl_s * 1000u;
  uint64_t t = ttl_ms / 2;
  if (t < n->cfg.refresh_min_ms)
    t = n->cfg.refresh_min_ms;
  if (t > n->cfg.refresh_max_ms)
    t = n->cfg.refresh_max_ms;
  if (t >= ttl_ms)
    t = ttl_ms / 2;
  e->refresh_at = n->now + (t == 0 ? 1 : t);
}

/* A broadcast claim met silence: the name is ours (RFC 1002 5.1.1.1). A B
 * node then proclaims it with a NAME OVERWRITE DEMAND (RFC 1001 15.2.1). */
static void claim_bcast(nb_nsnode_t *n, nb_nsn_name_t *e) {
  e->state = NB_NSNODE_NAME_ACTIVE;
  e->ttl_s = 0;
  e->refresh_at = NB_NSN_NEVER;
  name_idle(e);
  if (n->cfg.send_overwrite) {
    nb_ns_build_args_t a;
    memset(&a, 0, sizeof a);
    a.trn_id = nb_nsn_new_trn(n);
    a.name = &e->name;
    a.broadcast = true;
    a.nb_flags = nb_flags_of(n, e);
    for (size_t i = 0; i < n->cfg.n_ifaces; i++) {
      const nb_nsnode_iface_t *f = &n->cfg.ifaces[i];
      a.addr = f->ip;
      nb_nsn_send(n, NB_NS_KIND_OVERWRITE_REQUEST, &a, nb_nsn_bcast_addr(f),
                  n->cfg.bcast_port, true, f->ip);
    }
  }
  name_event(n, e, NB_NSNODE_EV_NAME_ADDED, 0);
}

/* The NBNS accepted the name with lifetime `ttl_s` (RFC 1002 5.1.2.1:
 * "adjust refresh timeout value, TTL, for this name"). */
static void claim_nbns(nb_nsnode_t *n, nb_nsn_name_t *e, uint32_t ttl_s,
                       uint32_t src) {
  e->state = NB_NSNODE_NAME_ACTIVE;
  e->nbns_registered = true;
  e->ttl_s = ttl_s;
  name_idle(e);
  schedule_refresh(n, e);
  name_event(n, e, NB_NSNODE_EV_NAME_ADDED, src);
}

static uint32_t rr_addr(const nb_ns_msg_t *m) {
  nb_ns_nb_entry_t ent;
  if (m->ancount < 1 || nb_ns_nb_entry(&m->rr[0], 0, &ent) != NB_OK)
    return 0;
  return ent.addr;
}

static void refused(nb_nsnode_t *n, nb_nsn_name_t *e, uint8_t rcode,
                    uint32_t peer, uint32_t owner) {
  nb_nsnode_event_t *ev = nb_nsn_event(n, NB_NSNODE_EV_NAME_REFUSED);
  if (ev != NULL) {
    ev->name = e->name;
    ev->group = e->group;
    ev->rcode = rcode;
    ev->peer_ip = peer;
    ev->owner_ip = owner;
  }
  name_free(e);
}

static void name_error(nb_nsnode_t *n, const nb_nsn_name_t *e, nb_err_t err) {
  nb_nsnode_event_t *ev = nb_nsn_event(n, NB_NSNODE_EV_ERROR);
  if (ev != NULL) {
    ev->name = e->name;
    ev->group = e->group;
    ev->err = err;
    ev->peer_ip = e->tx.dst_ip;
  }
}

/* The NBNS never answered: the claim fails and the name leaves the table
 * (the ERROR event says so). */
static void claim_failed(nb_nsnode_t *n, nb_nsn_name_t *e) {
  name_error(n, e, NB_ETIMEDOUT);
  name_free(e);
}

/* RFC 1001 15.1.3.5: a name in conflict logically does not exist: not
 * defended, not answered, not refreshed; only DELETE NAME is valid. */
static void mark_conflict(nb_nsnode_t *n, nb_nsn_name_t *e, uint32_t peer) {
  e->state = NB_NSNODE_NAME_CONFLICT;
  e->refresh_at = NB_NSN_NEVER;
  name_idle(e);
  name_event(n, e, NB_NSNODE_EV_NAME_CONFLICT, peer);
}

/* ---- release --------------------------------------------------------------
 */

static bool release_bcast_too(const nb_nsnode_t *n, const nb_nsn_name_t *e) {
  /* RFC 1002 5.1.3.4: an M node releases at the NBNS, then by broadcast.
   * H nodes do the same; a P node never broadcasts (5.1.2). */
  (void)e;
  return n->cfg.node_type == NB_NSNODE_TYPE_M ||
         n->cfg.node_type == NB_NSNODE_TYPE_H;
}

static void start_release(nb_nsnode_t *n, nb_nsn_name_t *e,
                          nb_nsnode_removed_t why) {
  e->state = NB_NSNODE_NAME_RELEASING;
  e->removed = (uint8_t)why;
  e->refresh_at = NB_NSN_NEVER;
  if (e->nbns_registered)
    start_phase(n, e, NB_NSN_PH_REL_NBNS);
  else
    start_phase(n, e, NB_NSN_PH_REL_BCAST);
}

static void release_nbns_done(nb_nsnode_t *n, nb_nsn_name_t *e, bool positive) {
  if (positive && release_bcast_too(n, e))
    start_phase(n, e, NB_NSN_PH_REL_BCAST);
  else
    name_removed(n, e, (nb_nsnode_removed_t)e->removed);
}

/* ---- timers
 * ------------------------------------------------------------------
 */

static void reg_nbns_timeout(nb_nsnode_t *n, nb_nsn_name_t *e) {
  if ((size_t)e->server + 1 < n->cfg.n_nbns) {
    e->server++; /* the next NBNS in the list */
    start_phase(n, e, NB_NSN_PH_REG_NBNS);
  } else if (n->cfg.node_type == NB_NSNODE_TYPE_H) {
    /* Common practice (Windows): an H node that cannot reach its NBNS
     * claims by broadcast, like a B node. */
    e->bcast_fallback = true;
    e->server = 0;
    start_phase(n, e, NB_NSN_PH_REG_BCAST);
  } else {
    claim_failed(n, e); /* RFC 1002 5.1.2.1: "NBNS is down" */
  }
}

/* The last copy went unanswered for a full interval. */
static void phase_timeout(nb_nsnode_t *n, nb_nsn_name_t *e) {
  switch (e->phase) {
  case NB_NSN_PH_REG_BCAST:
    if (n->cfg.node_type == NB_NSNODE_TYPE_M)
      start_phase(n, e, NB_NSN_PH_REG_NBNS); /* RFC 1002 5.1.3.1 */
    else
      claim_bcast(n, e);
    break;
  case NB_NSN_PH_REG_NBNS:
    reg_nbns_timeout(n, e);
    break;
  case NB_NSN_PH_CHALLENGE: /* the old owner is silent: overwrite */
    start_phase(n, e, NB_NSN_PH_OVERWRITE);
    break;
  case NB_NSN_PH_OVERWRITE:
    claim_failed(n, e);
    break;
  case NB_NSN_PH_REFRESH:
    /* Keep the name; tell the user and try again later. */
    name_error(n, e, NB_ETIMEDOUT);
    name_idle(e);
    e->refresh_at = n->now + n->cfg.refresh_min_ms;
    break;
  case NB_NSN_PH_REL_NBNS:
    release_nbns_done(n, e, true);
    break;
  default: /* NB_NSN_PH_REL_BCAST: no answer expected (5.1.1.4) */
    name_removed(n, e, (nb_nsnode_removed_t)e->removed);
    break;
  }
}

void nb_nsn_name_timer(nb_nsnode_t *n, nb_nsn_name_t *e) {
  if (e->phase != NB_NSN_PH_NONE && e->tx.deadline <= n->now) {
    if (e->tx.tries < e->tx.max_tries)
      name_send(n, e); /* retransmit: same transaction ID */
    else
      phase_timeout(n, e);
  }
  if (!e->used || e->refresh_at > n->now)
    return;
  e->refresh_at = NB_NSN_NEVER;
  if (e->state == NB_NSNODE_NAME_ACTIVE && e->phase == NB_NSN_PH_NONE)
    start_phase(n, e, NB_NSN_PH_REFRESH); /* RFC 1002 5.1.2.6 */
}

/* ---- responses to our requests
 * ------------------------------------------------
 */

static bool is_negative_reg(nb_ns_kind_t k) {
  return k == NB_NS_KIND_NEG_REGISTRATION_RESPONSE ||
         k == NB_NS_KIND_CONFLICT_DEMAND;
}

static nb_nsnode_drop_t on_wack(nb_nsnode_t *n, nb_nsn_name_t *e,
                                const nb_ns_msg_t *m) {
  uint32_t ttl = m->ancount > 0 ? m->rr[0].ttl : 0;
  return nb_nsn_txn_wack(n, &e->tx, ttl) ? NB_NSNODE_DROP_NONE
                                         : NB_NSNODE_DROP_MISMATCH;
}

static nb_nsnode_drop_t reg_nbns_response(nb_nsnode_t *n, nb_nsn_name_t *e,
                                          const nb_ns_msg_t *m, uint32_t src) {
  switch (m->kind) {
  case NB_NS_KIND_POS_REGISTRATION_RESPONSE:
    claim_nbns(n, e, m->rr[0].ttl, src);
    return NB_NSNODE_DROP_NONE;
  case NB_NS_KIND_WACK:
    return on_wack(n, e, m);
  case NB_NS_KIND_CHALLENGE_RESPONSE:
    if (e->phase != NB_NSN_PH_REG_NBNS)
      return NB_NSNODE_DROP_MISMATCH;
    /* RFC 1002 5.1.2.1: challenge the presumed owner; if it is us (or
     * unknown), go straight to the overwrite. */
    e->challenge_ip = rr_addr(m);
    if (e->challenge_ip == 0 || nb_nsn_is_own_ip(n, e->challenge_ip))
      start_phase(n, e, NB_NSN_PH_OVERWRITE);
    else
      start_phase(n, e, NB_NSN_PH_CHALLENGE);
    return NB_NSNODE_DROP_NONE;
  default:
    if (!is_negative_reg(m->kind))
      return NB_NSNODE_DROP_MISMATCH;
    refused(n, e, m->hdr.rcode, src, rr_addr(m));
    return NB_NSNODE_DROP_NONE;
  }
}

static nb_nsnode_drop_t refresh_response(nb_nsnode_t *n, nb_nsn_name_t *e,
                                         const nb_ns_msg_t *m, uint32_t src) {
  if (m->kind == NB_NS_KIND_WACK)
    return on_wack(n, e, m);
  if (m->kind == NB_NS_KIND_POS_REGISTRATION_RESPONSE) {
    e->ttl_s = m->rr[0].ttl;
    name_idle(e);
    schedule_refresh(n, e);
    name_event(n, e, NB_NSNODE_EV_NAME_REFRESHED, src);
    return NB_NSNODE_DROP_NONE;
  }
  if (!is_negative_reg(m->kind))
    return NB_NSNODE_DROP_MISMATCH;
  mark_conflict(n, e, src); /* RFC 1002 5.1.2.6: "assume in conflict" */
  return NB_NSNODE_DROP_NONE;
}

static nb_nsnode_drop_t challenge_response(nb_nsnode_t *n, nb_nsn_name_t *e,
                                           const nb_ns_msg_t *m, uint32_t src) {
  if (m->kind == NB_NS_KIND_POS_QUERY_RESPONSE) {
    /* The old owner still holds it. */
    refused(n, e, NB_NS_RCODE_ACT_ERR, src, e->challenge_ip);
    return NB_NSNODE_DROP_NONE;
  }
  if (m->kind != NB_NS_KIND_NEG_QUERY_RESPONSE)
    return NB_NSNODE_DROP_MISMATCH;
  start_phase(n, e, NB_NSN_PH_OVERWRITE);
  return NB_NSNODE_DROP_NONE;
}

static nb_nsnode_drop_t release_response(nb_nsnode_t *n, nb_nsn_name_t *e,
                                         const nb_ns_msg_t *m) {
  if (e->phase != NB_NSN_PH_REL_NBNS)
    return NB_NSNODE_DROP_MISMATCH; /* broadcast releases get no answer */
  if (m->kind == NB_NS_KIND_WACK)
    return on_wack(n, e, m);
  if (m->kind == NB_NS_KIND_POS_RELEASE_RESPONSE)
    release_nbns_done(n, e, true);
  else if (m->kind == NB_NS_KIND_NEG_RELEASE_RESPONSE)
    release_nbns_done(n, e, false); /* RFC 1002 5.1.3.4: stop there */
  else
    return NB_NSNODE_DROP_MISMATCH;
  return NB_NSNODE_DROP_NONE;
}

/* The response's RR_NAME must be the name we asked about (a WACK may carry
 * the null name, RFC 1002 4.2.16). */
static bool response_names_us(const nb_nsn_name_t *e, const nb_ns_msg_t *m) {
  if (m->ancount < 1)
    return false;
  const nb_ns_name_t *rn = &m->rr[0].rrname;
  if (m->kind == NB_NS_KIND_WACK && rn->form == NB_NS_NAME_NULL)
    return true;
  return nb_name_equal(&rn->name, &e->name);
}

nb_nsnode_drop_t nb_nsn_name_response(nb_nsnode_t *n, nb_nsn_name_t *e,
                                      const nb_ns_msg_t *m, uint32_t src) {
  if (!e->tx.bcast && src != e->tx.dst_ip)
    return NB_NSNODE_DROP_WRONG_SOURCE;
  if (!response_names_us(e, m))
    return NB_NSNODE_DROP_MISMATCH;
  switch (e->phase) {
  case NB_NSN_PH_REG_BCAST:
    /* RFC 1002 5.1.1.1: only a negative response matters; positive and
     * challenge responses are ignored and the claim goes on. */
    if (!is_negative_reg(m->kind))
      return NB_NSNODE_DROP_MISMATCH;
    refused(n, e, m->hdr.rcode, src, rr_addr(m));
    return NB_NSNODE_DROP_NONE;
  case NB_NSN_PH_REG_NBNS:
  case NB_NSN_PH_OVERWRITE:
    return reg_nbns_response(n, e, m, src);
  case NB_NSN_PH_REFRESH:
    return refresh_response(n, e, m, src);
  case NB_NSN_PH_CHALLENGE:
    return challenge_response(n, e, m, src);
  default:
    return release_response(n, e, m);
  }
}

/* ---- requests from the network ---------------------------------------------
 */

static uint32_t own_addr_for(const nb_nsnode_t *n, uint32_t src) {
  return n->cfg.ifaces[nb_nsn_iface_for(n, src)].ip;
}

static nb_nsn_name_t *active_name(nb_nsnode_t *n, const nb_name_t *name) {
  nb_nsn_name_t *e = nb_nsn_name_find(n, name);
  return (e != NULL && e->state == NB_NSNODE_NAME_ACTIVE) ? e : NULL;
}

static nb_nsnode_drop_t answer_query(nb_nsnode_t *n, const nb_ns_msg_t *m,
                                     const nb_nsn_name_t *e, uint32_t src,
                                     uint16_t port) {
  if (!nb_nsn_rl_allow(n, src))
    return NB_NSNODE_DROP_RATE_LIMITED;
  nb_ns_build_args_t a;
  memset(&a, 0, sizeof a);
  a.trn_id = m->hdr.trn_id;
  a.name = &m->qd[0].qname.name; /* echoed as asked (case kept) */
  /* RFC 1002 4.2.15: "An end node responding to a NAME QUERY REQUEST always
   * responds with the AA and RA bits set for both the NEGATIVE and POSITIVE
   * NAME QUERY RESPONSE packets." The packet-specific rule wins over 4.2.1.1's
   * general "RA only from an NBNS"; nmbd does the same (0x8580), Windows XP
   * does not (0x8500). */
  a.ra = true;
  if (e != NULL) {
    a.ttl = e->ttl_s != 0 ? e->ttl_s : n->cfg.reg_ttl_s;
    a.nb_flags = nb_flags_of(n, e);
    a.addr = own_addr_for(n, src);
    if (!nb_nsn_send(n, NB_NS_KIND_POS_QUERY_RESPONSE, &a, src, port, false,
                     a.addr))
      return NB_NSNODE_DROP_QUEUE_FULL;
    n->ctr.answers_positive++;
    return NB_NSNODE_DROP_NONE;
  }
  a.rcode = NB_NS_RCODE_NAM_ERR;
  if (!nb_nsn_send(n, NB_NS_KIND_NEG_QUERY_RESPONSE, &a, src, port, false,
                   own_addr_for(n, src)))
    return NB_NSNODE_DROP_QUEUE_FULL;
  n->ctr.answers_negative++;
  return NB_NSNODE_DROP_NONE;
}

nb_nsnode_drop_t nb_nsn_on_query(nb_nsnode_t *n, const nb_ns_msg_t *m,
                                 uint32_t src, uint16_t port, bool bcast) {
  if (m->qdcount < 1)
    return NB_NSNODE_DROP_INCOMPLETE;
  /* RFC 1002 4.2.12: QUESTION_TYPE NB, QUESTION_CLASS IN. nmbd never looks
   * at the class and answers any; another class is not a NAME QUERY. */
  if (m->qd[0].qtype != NB_NS_TYPE_NB || m->qd[0].qclass != NB_NS_CLASS_IN)
    return NB_NSNODE_DROP_UNSUPPORTED;
  const nb_nsn_name_t *e = active_name(n, &m->qd[0].qname.name);
  if (e != NULL)
    return answer_query(n, m, e, src, port);
  /* RFC 1002 5.1.2.5 and 5.1.3.5: P and M nodes send a negative response
   * to a unicast query, never to a broadcast ("Don't send negative
   * responses to queries sent by B nodes"). H nodes follow M. */
  if (bcast)
    return NB_NSNODE_DROP_NOT_OURS;
  /* A B node (5.1.1.5) lists no negative answer; like nmbd it still gives
   * one to a query addressed to it as a node (RD=0: nmblookup -U without
   * -R), so the asker learns at once that the name is not here. RD=1 asks
   * an NBNS, which a B node is not: silence, so the asker can try the
   * next server. */
  if (n->cfg.node_type == NB_NSNODE_TYPE_B &&
      (m->hdr.nm_flags & NB_NS_FLAG_RD) != 0)
    return NB_NSNODE_DROP_NOT_OURS;
  return answer_query(n, m, NULL, src, port);
}

static bool is_wildcard(const nb_name_t *name) {
  if (name->bytes[0] != '*')
    return false;
  for (size_t i = 1; i < NB_NAME_CHARS; i++) {
    if (name->bytes[i] != 0 && name->bytes[i] != ' ')
      return false;
  }
  return true;
}

static unsigned char fold(char c) {
  unsigned char u = (unsigned char)c;
  return (u >= 'a' && u <= 'z') ? (unsigned char)(u - 32) : u;
}

/* Scopes compare case-insensitively, as in nb_name_equal(). */
static bool same_scope(const nb_name_t *a, const nb_name_t *b) {
  if (a->scope_len != b->scope_len)
    return false;
  for (size_t i = 0; i < a->scope_len; i++) {
    if (fold(a->scope[i]) != fold(b->scope[i]))
      return false;
  }
  return true;
}

static uint16_t name_flags_of(const nb_nsnode_t *n, const nb_nsn_name_t *e) {
  uint16_t f = (uint16_t)(nb_flags_of(n, e) | NB_NS_NAME_ACT);
  if (e->state == NB_NSNODE_NAME_CONFLICT)
    f |= NB_NS_NAME_CNF;
  if (e->state == NB_NSNODE_NAME_RELEASING)
    f |= NB_NS_NAME_DRG;
  if (e->permanent)
    f |= NB_NS_NAME_PRM;
  return f;
}

/* Names listed in a status response: every name past its claim whose scope
 * is the question's (RFC 1001 15.1.4, RFC 1002 5.1.1.5). Returns how many
 * there are; stores at most `cap`. */
static size_t status_list(nb_nsnode_t *n, const nb_name_t *q,
                          nb_ns_nbstat_entry_t *out, size_t cap) {
  size_t count = 0;
  for (uint32_t i = 0; i < n->names_hi; i++) {
    const nb_nsn_name_t *e = &n->names[i];
    if (!e->used || e->state == NB_NSNODE_NAME_REGISTERING ||
        !same_scope(&e->name, q))
      continue;
    if (count < cap) {
      memcpy(out[count].name, e->name.bytes, NB_NAME_BYTES);
      out[count].name_flags = name_flags_of(n, e);
    }
    count++;
  }
  return count;
}

/* How many NODE_NAME entries fit in one MAX_DATAGRAM_LENGTH response. */
static size_t status_fit(const nb_name_t *q) {
  size_t fixed =
      NB_NS_HEADER_LEN + nb_name_wire_len(q) + 10 + 1 + NB_NS_STATISTICS_LEN;
  if (fixed >= NB_NSNODE_MAX_DATAGRAM_LENGTH)
    return 0;
  return (NB_NSNODE_MAX_DATAGRAM_LENGTH - fixed) / NB_NS_NBSTAT_ENTRY_LEN;
}

static nb_nsnode_drop_t send_status(nb_nsnode_t *n, const nb_ns_msg_t *m,
                                    const nb_ns_nbstat_entry_t *list,
                                    size_t count, size_t fit, uint32_t src,
                                    uint16_t port) {
  nb_ns_statistics_t st;
  memset(&st, 0, sizeof st);
  memcpy(st.unit_id, n->cfg.unit_id, sizeof st.unit_id);
  nb_ns_build_args_t a;
  memset(&a, 0, sizeof a);
  a.trn_id = m->hdr.trn_id;
  a.name = &m->qd[0].qname.name;
  a.nbstat = list;
  a.n_nbstat = count < fit ? count : fit;
  a.statistics = &st;
  if (count > fit) { /* RFC 1001 15.6 step e: TC when it does not fit */
    nb_ns_header_t h = {0, true, NB_NS_OPCODE_QUERY,
                        NB_NS_FLAG_AA | NB_NS_FLAG_TC, 0};
    a.raw_flags = true;
    a.flags_word = nb_ns_flags_word(&h);
  }
  if (!nb_nsn_send(n, NB_NS_KIND_STATUS_RESPONSE, &a, src, port, false,
                   own_addr_for(n, src)))
    return NB_NSNODE_DROP_QUEUE_FULL;
  n->ctr.status_answers++;
  return NB_NSNODE_DROP_NONE;
}

nb_nsnode_drop_t nb_nsn_on_status(nb_nsnode_t *n, const nb_ns_msg_t *m,
                                  uint32_t src, uint16_t port) {
  if (m->qdcount < 1)
    return NB_NSNODE_DROP_INCOMPLETE;
  if (m->qd[0].qclass != NB_NS_CLASS_IN) /* RFC 1002 4.2.17 */
    return NB_NSNODE_DROP_UNSUPPORTED;
  const nb_name_t *q = &m->qd[0].qname.name;
  /* Answered only for a name we hold, or `*` (RFC 1002 5.1.2.5, 5.1.3.5);
   * the seed answered for any name. */
  nb_ns_nbstat_entry_t list[NB_NSNODE_STATUS_MAX];
  size_t count = status_list(n, q, list, NB_NSNODE_STATUS_MAX);
  bool held = active_name(n, q) != NULL || (is_wildcard(q) && count > 0);
  if (!held)
    return NB_NSNODE_DROP_NOT_OURS;
  if (!nb_nsn_rl_allow(n, src))
    return NB_NSNODE_DROP_RATE_LIMITED;
  size_t fit = status_fit(q);
  if (fit > NB_NSNODE_STATUS_MAX)
    fit = NB_NSNODE_STATUS_MAX;
  return send_status(n, m, list, count, fit, src, port);
}

/* The NB entry of a registration-type request (additional record). */
static bool request_entry(const nb_ns_msg_t *m, nb_ns_nb_entry_t *ent) {
  for (size_t i = 0; i < m->arcount; i++) {
    const nb_ns_rr_t *rr = nb_ns_additional(m, i);
    if (rr != NULL && rr->rrtype == NB_NS_TYPE_NB &&
        nb_ns_nb_entry(rr, 0, ent) == NB_OK)
      return true;
  }
  return false;
}

static nb_nsnode_drop_t defend(nb_nsnode_t *n, const nb_ns_msg_t *m,
                               const nb_nsn_name_t *e, uint32_t src,
                               uint16_t port) {
  if (!nb_nsn_rl_allow(n, src))
    return NB_NSNODE_DROP_RATE_LIMITED;
  nb_ns_build_args_t a;
  memset(&a, 0, sizeof a);
  a.trn_id = m->hdr.trn_id;
  a.name = &m->qd[0].qname.name;
  a.rcode = NB_NS_RCODE_ACT_ERR;
  a.nb_flags = nb_flags_of(n, e); /* the owner: us */
  a.addr = own_addr_for(n, src);
  if (!nb_nsn_send(n, NB_NS_KIND_NEG_REGISTRATION_RESPONSE, &a, src, port,
                   false, a.addr))
    return NB_NSNODE_DROP_QUEUE_FULL;
  n->ctr.defences++;
  return NB_NSNODE_DROP_NONE;
}

nb_nsnode_drop_t nb_nsn_on_registration(nb_nsnode_t *n, const nb_ns_msg_t *m,
                                        uint32_t src, uint16_t port) {
  nb_ns_nb_entry_t ent;
  if (m->qdcount < 1 || !request_entry(m, &ent))
    return NB_NSNODE_DROP_INCOMPLETE;
  const nb_name_t *q = &m->qd[0].qname.name;
  if (m->kind == NB_NS_KIND_OVERWRITE_REQUEST)
    nb_nsn_cache_forget(n, q); /* RFC 1002 5.1.1.5 NAME UPDATE REQUEST */
  /* RFC 1002 5.1.2: a P node defends nothing itself (the NBNS does). */
  if (n->cfg.node_type == NB_NSNODE_TYPE_P)
    return NB_NSNODE_DROP_NOT_OURS;
  const nb_nsn_name_t *e = active_name(n, q);
  if (e == NULL)
    return NB_NSNODE_DROP_NOT_OURS;
  if (nb_nsn_is_own_ip(n, ent.addr))
    return NB_NSNODE_DROP_OWN;
  /* RFC 1002 5.1.1.5, RFC 1001 15.2.1: a unique claim of any name we hold
   * (group names included) is refused; a group claim of our group name is
   * consistent and goes unanswered; a group claim of our unique name is
   * refused. */
  bool req_group = (ent.nb_flags & NB_NS_NB_G) != 0;
  if (e->group && req_group)
    return NB_NSNODE_DROP_GROUP_NOT_DEFENDED;
  return defend(n, m, e, src, port);
}

nb_nsnode_drop_t nb_nsn_on_release(nb_nsnode_t *n, const nb_ns_msg_t *m,
                                   uint32_t src, uint16_t port, bool bcast) {
  if (m->qdcount < 1)
    return NB_NSNODE_DROP_INCOMPLETE;
  const nb_name_t *q = &m->qd[0].qname.name;
  nb_nsn_name_t *e = nb_nsn_name_find(n, q);
  if (e == NULL || e->state == NB_NSNODE_NAME_REGISTERING)
    return nb_nsn_cache_forget(n, q) ? NB_NSNODE_DROP_NONE
                                     : NB_NSNODE_DROP_NOT_OURS;
  /* RFC 1001 15.1.7 item 3, RFC 1002 5.1.2.5: the NBNS may revoke a name
   * with a NAME RELEASE REQUEST; nobody else may. */
  if (bcast || n->cfg.node_type == NB_NSNODE_TYPE_B || !nb_nsn_is_nbns(n, src))
    return NB_NSNODE_DROP_RELEASE_IGNORED;
  /* RFC 1001 15.5.3: the node answers with a POSITIVE NAME RELEASE
   * RESPONSE (4.2.10), to the request's address and port; the NBNS may
   * otherwise retransmit (15.1.7 item 2 asks for "a timely response"). */
  nb_ns_build_args_t a;
  memset(&a, 0, sizeof a);
  a.trn_id = m->hdr.trn_id;
  a.name = q;
  a.nb_flags = nb_flags_of(n, e);
  a.addr = own_addr_for(n, src);
  nb_nsn_send(n, NB_NS_KIND_POS_RELEASE_RESPONSE, &a, src, port, false, a.addr);
  if (e->state != NB_NSNODE_NAME_RELEASING) /* else already going */
    name_removed(n, e, NB_NSNODE_REMOVED_NBNS);
  return NB_NSNODE_DROP_NONE;
}

nb_nsnode_drop_t nb_nsn_on_conflict_demand(nb_nsnode_t *n, const nb_ns_msg_t *m,
                                           uint32_t src) {
  if (m->ancount < 1)
    return NB_NSNODE_DROP_INCOMPLETE;
  nb_nsn_name_t *e = active_name(n, &m->rr[0].rrname.name);
  if (e == NULL)
    return NB_NSNODE_DROP_NOT_OURS;
  /* Only a unique name can be in conflict (RFC 1001 15.1.3.5). */
  if (e->group)
    return NB_NSNODE_DROP_MISMATCH;
  mark_conflict(n, e, src); /* RFC 1002 5.1.1.5 */
  return NB_NSNODE_DROP_NONE;
}

/* ---- operations ------------------------------------------------------------
 */

static bool name_valid(const nb_name_t *name) {
  nb_name_t probe;
  if (name->scope_len > NB_SCOPE_MAX || is_wildcard(name))
    return false;
  return nb_name_set_scope(&probe, name->scope, name->scope_len, NULL) == NB_OK;
}

nb_err_t nb_nsnode_add_name(nb_nsnode_t *n, const nb_name_t *name,
                            unsigned flags, uint64_t now_ms) {
  if (name == NULL || (flags & ~(NB_NSNODE_F_GROUP | NB_NSNODE_F_PERMANENT)) ||
      !name_valid(name))
    return NB_EINVAL;
  if (now_ms > n->now)
    n->now = now_ms;
  if (n->shut_down || nb_nsn_name_find(n, name) != NULL)
    return NB_ESTATE;
  nb_nsn_name_t *e = name_alloc(n);
  if (e == NULL)
    return NB_ELIMIT;
  memset(e, 0, sizeof *e);
  e->used = true;
  e->name = *name;
  e->group = (flags & NB_NSNODE_F_GROUP) != 0;
  e->permanent = (flags & NB_NSNODE_F_PERMANENT) != 0;
  e->state = NB_NSNODE_NAME_REGISTERING;
  e->refresh_at = NB_NSN_NEVER;
  /* B and M start with a broadcast claim (RFC 1002 5.1.1.1, 5.1.3.1); P
   * and H with the NBNS (5.1.2.1; H: NBNS first, then broadcast). */
  bool nbns_first = nb_nsn_has_nbns(n) && n->cfg.node_type != NB_NSNODE_TYPE_M;
  start_phase(n, e, nbns_first ? NB_NSN_PH_REG_NBNS : NB_NSN_PH_REG_BCAST);
  return NB_OK;
}

nb_err_t nb_nsnode_remove_name(nb_nsnode_t *n, const nb_name_t *name,
                               uint64_t now_ms) {
  if (name == NULL)
    return NB_EINVAL;
  if (now_ms > n->now)
    n->now = now_ms;
  nb_nsn_name_t *e = nb_nsn_name_find(n, name);
  if (e == NULL)
    return NB_ENOTFOUND;
  if (e->state == NB_NSNODE_NAME_RELEASING)
    return NB_ESTATE;
  /* A name in conflict is not ours to release (others hold it), and one
   * still being claimed was never announced. */
  if (e->state == NB_NSNODE_NAME_ACTIVE)
    start_release(n, e, NB_NSNODE_REMOVED_USER);
  else
    name_removed(n, e, NB_NSNODE_REMOVED_USER);
  return NB_OK;
}

void nb_nsn_names_shutdown(nb_nsnode_t *n) {
  for (uint32_t i = 0; i < n->names_hi; i++) {
    nb_nsn_name_t *e = &n->names[i];
    if (!e->used || e->state == NB_NSNODE_NAME_RELEASING)
      continue;
    if (e->state == NB_NSNODE_NAME_ACTIVE)
      start_release(n, e, NB_NSNODE_REMOVED_SHUTDOWN);
    else
      name_removed(n, e, NB_NSNODE_REMOVED_SHUTDOWN);
  }
}

size_t nb_nsnode_names(const nb_nsnode_t *n, nb_nsnode_name_info_t *out,
                       size_t cap) {
  size_t count = 0;
  for (uint32_t i = 0; i < n->names_hi; i++) {
    const nb_nsn_name_t *e = &n->names[i];
    if (!e->used)
      continue;
    if (out != NULL && count < cap) {
      nb_nsnode_name_info_t *o = &out[count];
      o->name = e->name;
      o->group = e->group;
      o->permanent = e->permanent;
      o->state = e->state;
      o->ttl_s = e->ttl_s;
      o->refresh_at_ms = e->refresh_at;
    }
    count++;
  }
  return count;
}
