/* SPDX-License-Identifier: BSD-2-Clause */
/* The NBNS server's name rules: registration, refresh, multi-homed
 * registration, release and the challenge of a current owner (RFC 1001
 * 15.1.3, 15.5; RFC 1002 5.1.4.1 as a "secure" server).
 *
 * Every change to the table happens inside one call, at one instant, after
 * a fresh look at the record; a challenge that finishes does not apply a
 * decision taken earlier but runs the decision again on the table as it is
 * then. That is what keeps the invariant: a unique name never has two
 * owners (members are added to a live unique name only by its owner's own
 * registration or refresh, or with the owner's consent in a challenge
 * answer; otherwise the owner must be gone first).
 *
 * Decisions (docs/CONFORMANCE.md "WINS server"):
 *   name absent (or every member expired)    add it; positive
 *   unique <1d>                              positive, not stored (MS)
 *   static (own) unique name                 positive only from our own
 *                                            addresses; else ACT_ERR
 *   group exists, group request              add or refresh the member
 *   group exists, unique request             ACT_ERR (RFC 1001 15.1.3.4)
 *   unique exists, registrant a member       refresh (TTL restarts)
 *   unique exists, refresh from another      ACT_ERR (a refresh is no claim)
 *   unique exists, registration from another WACK, challenge the owner:
 *       owner answers positively             ACT_ERR, or for a multi-homed
 *                                            registration the owner listing
 *                                            the new addresses: merge
 *       owner answers NAM_ERR / is silent    the owner's member goes; decide
 *                                            again (the name moves) */
#include <string.h>

#include "nbns_int.h"

/* ---- responses ------------------------------------------------------------
 */

static uint32_t wack_ttl(const nb_nbns_t *e) {
  if (e->cfg.wack_ttl_s != 0)
    return e->cfg.wack_ttl_s;
  uint64_t ms = 2u * (uint64_t)e->cfg.challenge_retry_ms *
                (uint64_t)e->cfg.challenge_count;
  uint32_t s = (uint32_t)((ms + 999u) / 1000u);
  return s < 2 ? 2 : s;
}

bool nb_nbs_reg_response(nb_nbns_t *e, const nb_nbs_req_t *q, uint8_t rcode,
                         uint64_t need_seq) {
  /* RFC 1002 4.2.5/4.2.6: RR_NAME, TTL and RDATA echo the request's first
   * NB entry; a refresh is answered with a registration response (5.1.2),
   * opcode 5 as nmbd and Windows send. */
  nb_ns_build_args_t a;
  memset(&a, 0, sizeof a);
  a.trn_id = q->trn_id;
  a.name = &q->name;
  a.ttl = rcode == NB_NS_RCODE_OK ? q->ttl_s : 0;
  a.nb_flags = q->nb_flags;
  a.addr = q->n_addrs > 0 ? q->addrs[0] : 0;
  a.rcode = rcode;
  if (rcode != NB_NS_RCODE_OK)
    e->ctr.refused++;
  return nb_nbs_send(e,
                     rcode == NB_NS_RCODE_OK
                         ? NB_NS_KIND_POS_REGISTRATION_RESPONSE
                         : NB_NS_KIND_NEG_REGISTRATION_RESPONSE,
                     &a, q->src_ip, q->src_port, need_seq);
}

static void send_wack(nb_nbns_t *e, const nb_nbs_req_t *q) {
  /* RFC 1002 4.2.16: the request's TRN_ID, its name, TTL = how long to
   * wait, RDATA = the request's OPCODE and NM_FLAGS. */
  nb_ns_build_args_t a;
  memset(&a, 0, sizeof a);
  a.trn_id = q->trn_id;
  a.name = &q->name;
  a.ttl = wack_ttl(e);
  a.wack_request_flags = q->flags_word;
  if (nb_nbs_send(e, NB_NS_KIND_WACK, &a, q->src_ip, q->src_port, 0))
    e->ctr.wacks++;
}

static bool release_response(nb_nbns_t *e, const nb_nbs_req_t *q, uint8_t rcode,
                             uint64_t need_seq) {
  /* RFC 1002 4.2.10/4.2.11: RDATA echoes the request's NB entry. */
  nb_ns_build_args_t a;
  memset(&a, 0, sizeof a);
  a.trn_id = q->trn_id;
  a.name = &q->name;
  a.nb_flags = q->nb_flags;
  a.addr = q->n_addrs > 0 ? q->addrs[0] : 0;
  a.rcode = rcode;
  return nb_nbs_send(e,
                     rcode == NB_NS_RCODE_OK ? NB_NS_KIND_POS_RELEASE_RESPONSE
                                             : NB_NS_KIND_NEG_RELEASE_RESPONSE,
                     &a, q->src_ip, q->src_port, need_seq);
}

/* ---- the table side --------------------------------------------------------
 * Callers check journal and queue room first: every path below changes at
 * most one name and sends at most two datagrams. */

static uint64_t expiry(const nb_nbns_t *e, uint32_t ttl_s) {
  return e->now + (uint64_t)ttl_s * 1000u;
}

/* The record of `name` with its expired members taken out (the removal is
 * journaled); NULL when there is none left. */
static nb_nbs_rec_t *live_record(nb_nbns_t *e, const nb_name_t *name) {
  nb_nbs_rec_t *r = nb_nbs_find(e, name);
  if (r != NULL && nb_nbs_purge(e, r)) {
    nb_nbs_touch(e, r, name);
    if (r->n_members == 0) {
      nb_nbs_destroy(e, r);
      r = NULL;
    }
  }
  return r;
}

static uint16_t member_flags(const nb_nbs_req_t *q, size_t i) {
  return (uint16_t)((q->addr_flags[i] & NB_NS_NB_ONT_MASK) |
                    (q->group ? NB_NS_NB_G : 0));
}

static nb_nbns_verdict_t table_full(nb_nbns_t *e, const nb_nbs_req_t *q) {
  nb_nbs_reg_response(e, q, NB_NS_RCODE_SRV_ERR, 0);
  return NB_NBNS_TABLE_FULL;
}

/* RFC 1002 5.1.4.1 "name does not exist": add it. */
static nb_nbns_verdict_t add_new(nb_nbns_t *e, const nb_nbs_req_t *q) {
  nb_nbs_rec_t *r = nb_nbs_create(e, &q->name, q->group);
  if (r == NULL)
    return table_full(e, q);
  for (size_t i = 0; i < q->n_addrs; i++) {
    if (nb_nbs_member(e, r, q->addrs[i]) == NULL &&
        !nb_nbs_add_member(e, r, q->addrs[i], member_flags(q, i),
                           expiry(e, q->ttl_s), false)) {
      nb_nbs_destroy(e, r);
      return table_full(e, q);
    }
  }
  uint64_t seq = nb_nbs_touch(e, r, &q->name);
  e->ctr.registrations++;
  nb_nbs_reg_response(e, q, NB_NS_RCODE_OK, seq);
  return NB_NBNS_HANDLED;
}

/* A full group or <1c> list keeps the 25 most recently refreshed members:
 * the member closest to expiry makes room (Windows keeps "the latest 25";
 * nmbd drops the oldest). Static members are never evicted. */
static bool evict_one(nb_nbns_t *e, nb_nbs_rec_t *r) {
  nb_nbs_slot_t *victim = NULL;
  for (uint32_t i = r->members; i != NB_NBS_NIL; i = e->slots[i].next) {
    nb_nbs_slot_t *s = &e->slots[i];
    if (!s->is_static && (victim == NULL || s->expire_ms < victim->expire_ms))
      victim = s;
  }
  if (victim == NULL)
    return false;
  nb_nbs_remove_member(e, r, victim->ip);
  return true;
}

/* Add or refresh the request's addresses as members of `r` (the caller
 * has decided they may hold it). */
static bool set_members(nb_nbns_t *e, nb_nbs_rec_t *r, const nb_nbs_req_t *q) {
  for (size_t i = 0; i < q->n_addrs; i++) {
    nb_nbs_slot_t *s = nb_nbs_member(e, r, q->addrs[i]);
    if (s != NULL) {
      if (!s->is_static) {
        s->expire_ms = expiry(e, q->ttl_s);
        s->nb_flags = member_flags(q, i);
      }
      continue;
    }
    if (r->n_members >= NB_NBNS_MAX_ADDRS && (!r->group || !evict_one(e, r)))
      continue; /* a unique name's 26th address is not kept */
    if (!nb_nbs_add_member(e, r, q->addrs[i], member_flags(q, i),
                           expiry(e, q->ttl_s), false))
      return false;
  }
  return true;
}

/* Group request on a group, or the owner re-registering or refreshing. */
static nb_nbns_verdict_t renew(nb_nbns_t *e, nb_nbs_rec_t *r,
                               const nb_nbs_req_t *q) {
  bool joined = false;
  for (size_t i = 0; i < q->n_addrs; i++)
    joined = joined || nb_nbs_member(e, r, q->addrs[i]) == NULL;
  if (!set_members(e, r, q)) {
    nb_nbs_touch(e, r, &q->name); /* what was set stays set */
    return table_full(e, q);
  }
  uint64_t seq = nb_nbs_touch(e, r, &q->name);
  if (joined || !q->refresh)
    e->ctr.registrations++;
  else
    e->ctr.refreshes++;
  nb_nbs_reg_response(e, q, NB_NS_RCODE_OK, seq);
  return NB_NBNS_HANDLED;
}

static void drop_others(nb_nbns_t *e, nb_nbs_rec_t *r, const nb_nbs_req_t *q) {
  uint32_t i = r->members;
  while (i != NB_NBS_NIL) {
    const nb_nbs_slot_t *s = &e->slots[i];
    uint32_t ip = s->ip;
    bool keep = false;
    i = s->next;
    for (size_t k = 0; k < q->n_addrs && !keep; k++)
      keep = q->addrs[k] == ip;
    if (!keep)
      nb_nbs_remove_member(e, r, ip);
  }
}

static bool all_members(const nb_nbns_t *e, const nb_nbs_rec_t *r,
                        const nb_nbs_req_t *q) {
  for (size_t i = 0; i < q->n_addrs; i++) {
    if (nb_nbs_member(e, r, q->addrs[i]) == NULL)
      return false;
  }
  return true;
}

static bool all_own(const nb_nbns_t *e, const nb_nbs_req_t *q) {
  for (size_t i = 0; i < q->n_addrs; i++) {
    if (!nb_nbs_is_own_ip(e, q->addrs[i]))
      return false;
  }
  return true;
}

/* ---- challenges (RFC 1002 5.1.4.1, RFC 1001 15.5.2) ---------------------- */

static void send_challenge(nb_nbns_t *e, nb_nbs_chal_t *c) {
  /* A NAME QUERY REQUEST to the owner, RD clear (it asks the node, not a
   * server; nmbd's query_name_from_wins_server() does the same). */
  nb_ns_build_args_t a;
  memset(&a, 0, sizeof a);
  a.trn_id = c->trn_id;
  a.name = &c->req.name;
  a.raw_flags = true;
  a.flags_word = 0x0000;
  if (nb_nbs_send(e, NB_NS_KIND_QUERY_REQUEST, &a, c->owner_ip, e->cfg.port, 0))
    e->ctr.challenge_queries++;
  c->tries++;
  c->deadline = e->now + e->cfg.challenge_retry_ms;
}

static nb_nbs_chal_t *free_chal(nb_nbns_t *e) {
  for (uint32_t i = 0; i < e->cfg.max_challenges; i++) {
    if (!e->chals[i].used)
      return &e->chals[i];
  }
  return NULL;
}

static uint32_t first_live(const nb_nbns_t *e, const nb_nbs_rec_t *r) {
  for (uint32_t i = r->members; i != NB_NBS_NIL; i = e->slots[i].next) {
    const nb_nbs_slot_t *s = &e->slots[i];
    if (s->is_static || s->expire_ms > e->now)
      return s->ip;
  }
  return 0;
}

static nb_nbns_verdict_t challenge(nb_nbns_t *e, const nb_nbs_rec_t *r,
                                   const nb_nbs_req_t *q) {
  nb_nbs_chal_t *c = free_chal(e);
  if (c == NULL || q->rounds >= NB_NBS_MAX_ROUNDS) {
    nb_nbs_reg_response(e, q, NB_NS_RCODE_SRV_ERR, 0);
    return NB_NBNS_BUSY;
  }
  memset(c, 0, sizeof *c);
  c->used = true;
  c->req = *q;
  c->req.rounds++;
  c->owner_ip = first_live(e, r);
  c->trn_id = nb_nbs_new_trn(e);
  e->n_chals++;
  e->ctr.challenges++;
  send_wack(e, q);
  send_challenge(e, c);
  return NB_NBNS_HANDLED;
}

/* ---- registration ----------------------------------------------------------
 */

static nb_nbns_verdict_t on_unique(nb_nbns_t *e, nb_nbs_rec_t *r,
                                   const nb_nbs_req_t *q) {
  if (all_members(e, r, q)) {
    if (q->group != r->group) {
      if (q->refresh) { /* RFC 1002 5.1.4.1 "check for consistency" */
        nb_nbs_reg_response(e, q, NB_NS_RCODE_ACT_ERR, 0);
        return NB_NBNS_HANDLED;
      }
      /* The owner itself changes the kind: the name becomes what this
       * request says, with only its addresses (members keep one kind). */
      drop_others(e, r, q);
      r->group = q->group;
    }
    return renew(e, r, q);
  }
  if (q->refresh) {
    /* RFC 1001 15.5.1: a refresh for a name held by another node gets a
     * negative response (the refresher marks the name in conflict). */
    nb_nbs_reg_response(e, q, NB_NS_RCODE_ACT_ERR, 0);
    return NB_NBNS_HANDLED;
  }
  return challenge(e, r, q);
}

nb_nbns_verdict_t nb_nbs_register(nb_nbns_t *e, nb_nbs_req_t *q) {
  if (!nb_nbs_journal_room(e, 2) || !nb_nbs_out_room(e, 2))
    return NB_NBNS_BUSY; /* dropped: the node retransmits */
  /* Microsoft policy, as nmbd: a unique <1d> (local master browser) is
   * per subnet, so WINS answers positively and stores nothing. */
  if (!q->group && nb_name_suffix(&q->name) == NB_SUFFIX_MASTER_BROWSER) {
    nb_nbs_reg_response(e, q, NB_NS_RCODE_OK, 0);
    return NB_NBNS_HANDLED;
  }
  nb_nbs_rec_t *r = live_record(e, &q->name);
  if (r == NULL)
    return add_new(e, q);
  if (r->is_static) {
    bool ours = !q->group && all_own(e, q);
    nb_nbs_reg_response(e, q, ours ? NB_NS_RCODE_OK : NB_NS_RCODE_ACT_ERR, 0);
    return NB_NBNS_HANDLED;
  }
  if (r->group) {
    if (q->group)
      return renew(e, r, q);
    /* RFC 1001 15.1.3.4, RFC 1002 5.1.4.1: a unique claim on an existing
     * group is refused at once (group members are not challenged). */
    nb_nbs_reg_response(e, q, NB_NS_RCODE_ACT_ERR, 0);
    return NB_NBNS_HANDLED;
  }
  return on_unique(e, r, q);
}

/* ---- challenge outcomes ----------------------------------------------- */

static void finish(nb_nbns_t *e, nb_nbs_chal_t *c) {
  c->used = false;
  e->n_chals--;
}

/* The owner gave the name up (NAM_ERR) or did not answer: its member goes
 * (RFC 1002 5.1.4.1 "update data base - remove entry"), then the request
 * is decided again against the table as it is now. */
static void owner_gone(nb_nbns_t *e, nb_nbs_chal_t *c) {
  if (!nb_nbs_journal_room(e, 3) || !nb_nbs_out_room(e, 2)) {
    c->deadline = e->now + e->cfg.challenge_retry_ms; /* try again later */
    return;
  }
  nb_nbs_req_t q = c->req;
  uint32_t owner = c->owner_ip;
  finish(e, c);
  e->ctr.challenges_moved++;
  nb_nbs_rec_t *r = nb_nbs_find(e, &q.name);
  if (r != NULL && !r->group && !r->is_static &&
      nb_nbs_member(e, r, owner) != NULL) {
    nb_nbs_remove_member(e, r, owner);
    nb_nbs_touch(e, r, &q.name);
    if (r->n_members == 0)
      nb_nbs_destroy(e, r);
  }
  (void)nb_nbs_register(e, &q);
}

/* The owner still holds the name (RFC 1002 5.1.4.1 "POSITIVE NAME QUERY
 * RESPONSE: send NEGATIVE NAME REGISTRATION RESPONSE"). A multi-homed
 * registrant is the owner's own other interface when the owner lists its
 * addresses: they join the name. */
static void owner_kept(nb_nbns_t *e, nb_nbs_chal_t *c, const nb_ns_rr_t *rr) {
  nb_nbs_req_t q = c->req;
  uint32_t owner = c->owner_ip;
  finish(e, c);
  e->ctr.challenges_kept++;
  nb_nbs_rec_t *r = nb_nbs_find(e, &q.name);
  bool merge = q.multihomed && !q.group && r != NULL && !r->group &&
               !r->is_static && nb_nbs_member(e, r, owner) != NULL;
  for (size_t i = 0; merge && i < q.n_addrs; i++) {
    bool listed = false;
    for (size_t k = 0; k < rr->nb_count && !listed; k++) {
      nb_ns_nb_entry_t ent;
      listed = nb_ns_nb_entry(rr, k, &ent) == NB_OK && ent.addr == q.addrs[i];
    }
    merge = listed;
  }
  if (merge && nb_nbs_journal_room(e, 1)) {
    (void)renew(e, r, &q);
    return;
  }
  nb_nbs_reg_response(e, &q, NB_NS_RCODE_ACT_ERR, 0);
}

nb_nbns_verdict_t nb_nbs_challenge_answer(nb_nbns_t *e, const nb_ns_msg_t *m,
                                          uint32_t src_ip) {
  nb_nbs_chal_t *c = NULL;
  for (uint32_t i = 0; i < e->cfg.max_challenges && c == NULL; i++) {
    if (e->chals[i].used && e->chals[i].trn_id == m->hdr.trn_id)
      c = &e->chals[i];
  }
  if (c == NULL)
    return NB_NBNS_PASS; /* perhaps the node engine's */
  if (src_ip != c->owner_ip)
    return NB_NBNS_WRONG_SOURCE;
  if (m->kind == NB_NS_KIND_NEG_QUERY_RESPONSE) {
    owner_gone(e, c);
    return NB_NBNS_HANDLED;
  }
  const nb_ns_rr_t *rr = nb_ns_answer(m, 0);
  if (m->kind != NB_NS_KIND_POS_QUERY_RESPONSE || rr == NULL ||
      rr->rrtype != NB_NS_TYPE_NB ||
      !nb_name_equal(&rr->rrname.name, &c->req.name))
    return NB_NBNS_MISMATCH;
  owner_kept(e, c, rr);
  return NB_NBNS_HANDLED;
}

void nb_nbs_challenge_timers(nb_nbns_t *e) {
  for (uint32_t i = 0; i < e->cfg.max_challenges && e->n_chals > 0; i++) {
    nb_nbs_chal_t *c = &e->chals[i];
    if (!c->used || c->deadline > e->now)
      continue;
    if (c->tries < e->cfg.challenge_count)
      send_challenge(e, c); /* RFC 1002 5.1.4.1: UCAST_REQ_RETRY_COUNT */
    else
      owner_gone(e, c); /* "no response was received: node down" */
  }
}

uint64_t nb_nbs_challenge_deadline(const nb_nbns_t *e) {
  uint64_t t = NB_NBNS_NEVER;
  for (uint32_t i = 0; i < e->cfg.max_challenges && e->n_chals > 0; i++) {
    if (e->chals[i].used && e->chals[i].deadline < t)
      t = e->chals[i].deadline;
  }
  return t;
}

/* A retransmitted registration while its challenge runs: WACK again. */
bool nb_nbs_challenge_retransmit(nb_nbns_t *e, const nb_nbs_req_t *q) {
  for (uint32_t i = 0; i < e->cfg.max_challenges && e->n_chals > 0; i++) {
    const nb_nbs_chal_t *c = &e->chals[i];
    if (c->used && c->req.trn_id == q->trn_id && c->req.src_ip == q->src_ip &&
        c->req.src_port == q->src_port &&
        nb_name_equal(&c->req.name, &q->name)) {
      if (nb_nbs_out_room(e, 1))
        send_wack(e, &c->req);
      return true;
    }
  }
  return false;
}

/* ---- release (RFC 1002 5.1.4.1 NAME RELEASE REQUEST) ------------------------
 */

nb_nbns_verdict_t nb_nbs_release(nb_nbns_t *e, const nb_nbs_req_t *q) {
  if (!nb_nbs_journal_room(e, 2) || !nb_nbs_out_room(e, 1))
    return NB_NBNS_BUSY;
  nb_nbs_rec_t *r = live_record(e, &q->name);
  if (r == NULL) { /* already gone: releasing is idempotent */
    release_response(e, q, NB_NS_RCODE_OK, 0);
    return NB_NBNS_HANDLED;
  }
  /* Only the owner may release (RFC 1002 4.2.11 ACT_ERR: "Only that node
   * may release it"): the packet must come from a member's address. The
   * member released is the one the NB entry names, else the sender. */
  uint32_t target = q->n_addrs > 0 && nb_nbs_member(e, r, q->addrs[0]) != NULL
                        ? q->addrs[0]
                        : q->src_ip;
  nb_nbs_slot_t *s = nb_nbs_member(e, r, target);
  if (nb_nbs_member(e, r, q->src_ip) == NULL || s == NULL || s->is_static) {
    e->ctr.releases_refused++;
    release_response(e, q, NB_NS_RCODE_ACT_ERR, 0);
    return NB_NBNS_HANDLED;
  }
  nb_nbs_remove_member(e, r, target);
  uint64_t seq = nb_nbs_touch(e, r, &q->name);
  if (r->n_members == 0)
    nb_nbs_destroy(e, r);
  e->ctr.releases++;
  release_response(e, q, NB_NS_RCODE_OK, seq);
  return NB_NBNS_HANDLED;
}
