/* SPDX-License-Identifier: BSD-2-Clause */
/* The NBNS server's intake: parse, sort out what is not for a name server,
 * read the registration fields every request kind needs (checking each
 * count and entry before use), and answer name queries from the table.
 *
 * What the NBNS takes (as nmbd's packet_is_for_wins_server()): unicast
 * requests (RFC 1002 5.1.4: "received broadcast packets must be
 * ignored") of the registration, overwrite, refresh (8 and 9),
 * multi-homed (0xF) and release kinds, and name queries with RD set
 * (4.2.12: a query to a node has RD clear). Responses are looked up among
 * our challenges. Everything else is PASS: node status requests and
 * queries without RD are the node engine's (nbtd runs both on one
 * socket). */
#include <string.h>

#include "nbns_int.h"

static nb_nbns_verdict_t parse_verdict(nb_err_t err) {
  switch (err) {
  case NB_ETRUNCATED:
  case NB_EINCOMPLETE:
    return NB_NBNS_TRUNCATED;
  case NB_ELIMIT:
    return NB_NBNS_LIMIT;
  default:
    return NB_NBNS_MALFORMED;
  }
}

/* ---- requests with an NB record --------------------------------------------
 */

static void read_ttl(nb_nbns_t *e, uint32_t proposed, nb_nbs_req_t *q) {
  q->ttl_s = nb_nbns_grant_ttl(&e->cfg, proposed);
  if (proposed != NB_NBNS_TTL_INFINITE && q->ttl_s > proposed)
    e->ctr.ttl_raised++;
  if (proposed != NB_NBNS_TTL_INFINITE && q->ttl_s < proposed)
    e->ctr.ttl_capped++;
}

/* The NB entries of the request's record: one, or for a multi-homed
 * registration each address it lists (up to 25). */
static void read_entries(const nb_ns_rr_t *rr, nb_nbs_req_t *q) {
  size_t n = q->multihomed ? rr->nb_count : 1;
  q->n_addrs = 0;
  for (size_t i = 0; i < n && q->n_addrs < NB_NBNS_MAX_ADDRS; i++) {
    nb_ns_nb_entry_t ent;
    if (nb_ns_nb_entry(rr, i, &ent) != NB_OK)
      break;
    bool dup = false;
    for (size_t k = 0; k < q->n_addrs; k++)
      dup = dup || q->addrs[k] == ent.addr;
    if (dup)
      continue;
    if (q->n_addrs == 0)
      q->nb_flags = ent.nb_flags;
    q->addrs[q->n_addrs] = ent.addr;
    q->addr_flags[q->n_addrs] = ent.nb_flags;
    q->n_addrs++;
  }
  q->group = (q->nb_flags & NB_NS_NB_G) != 0;
}

/* The record of registration, refresh, multi-homed and release requests
 * (RFC 1002 4.2.2-4.2.4, 4.2.9: one additional NB record). A missing
 * record or one with no NB entry (the shape of Samba's CVE-2026-3238) or of
 * the wrong type gets FMT_ERR: we have a question name to answer with. */
static nb_nbns_verdict_t read_record(const nb_ns_msg_t *m, nb_nbs_req_t *q) {
  const nb_ns_rr_t *rr = nb_ns_additional(m, 0);
  if (rr == NULL)
    return NB_NBNS_INCOMPLETE;
  if (rr->rrtype != NB_NS_TYPE_NB || rr->rrclass != NB_NS_CLASS_IN)
    return NB_NBNS_BAD_RECORD;
  if (rr->nb_count == 0)
    return NB_NBNS_INCOMPLETE;
  read_entries(rr, q);
  q->ttl_s = rr->ttl; /* the proposal; granted in read_request */
  return NB_NBNS_HANDLED;
}

static nb_nbns_verdict_t read_request(nb_nbns_t *e, const nb_ns_msg_t *m,
                                      uint32_t src, uint16_t port,
                                      nb_nbs_req_t *q) {
  memset(q, 0, sizeof *q);
  if (m->qdcount < 1)
    return NB_NBNS_INCOMPLETE; /* no name: nothing to answer with */
  q->name = m->qd[0].qname.name;
  q->trn_id = m->hdr.trn_id;
  q->flags_word = nb_ns_flags_word(&m->hdr);
  q->opcode = m->hdr.opcode;
  q->src_ip = src;
  q->src_port = port;
  q->multihomed = m->kind == NB_NS_KIND_MULTIHOMED_REQUEST;
  q->refresh = m->kind == NB_NS_KIND_REFRESH_REQUEST;
  nb_nbns_verdict_t v = read_record(m, q);
  if (v == NB_NBNS_HANDLED && m->kind != NB_NS_KIND_RELEASE_REQUEST)
    read_ttl(e, q->ttl_s, q);
  return v;
}

static nb_nbns_verdict_t on_register(nb_nbns_t *e, const nb_ns_msg_t *m,
                                     uint32_t src, uint16_t port) {
  nb_nbs_req_t q;
  nb_nbns_verdict_t v = read_request(e, m, src, port, &q);
  if (v == NB_NBNS_INCOMPLETE && m->qdcount < 1)
    return v;
  if (v != NB_NBNS_HANDLED) {
    if (nb_nbs_out_room(e, 1))
      nb_nbs_reg_response(e, &q, NB_NS_RCODE_FMT_ERR, 0);
    return v;
  }
  if (nb_nbs_challenge_retransmit(e, &q))
    return NB_NBNS_RETRANSMIT;
  return nb_nbs_register(e, &q);
}

static nb_nbns_verdict_t on_release(nb_nbns_t *e, const nb_ns_msg_t *m,
                                    uint32_t src, uint16_t port) {
  nb_nbs_req_t q;
  nb_nbns_verdict_t v = read_request(e, m, src, port, &q);
  if (v == NB_NBNS_INCOMPLETE && m->qdcount < 1)
    return v;
  if (v != NB_NBNS_HANDLED) {
    nb_ns_build_args_t a;
    memset(&a, 0, sizeof a);
    a.trn_id = q.trn_id;
    a.name = &q.name;
    a.rcode = NB_NS_RCODE_FMT_ERR;
    nb_nbs_send(e, NB_NS_KIND_NEG_RELEASE_RESPONSE, &a, src, port, 0);
    return v;
  }
  return nb_nbs_release(e, &q);
}

/* ---- queries (RFC 1002 5.1.4.1 NAME QUERY REQUEST) -------------------------
 */

/* The TTL of a positive answer: the remaining lifetime of the longest-
 * lived member (static members: ttl_infinite_s), at least 1 s. */
static uint32_t answer_ttl(const nb_nbns_t *e, const nb_nbs_rec_t *r) {
  uint64_t best = 0;
  for (uint32_t i = r->members; i != NB_NBS_NIL; i = e->slots[i].next) {
    const nb_nbs_slot_t *s = &e->slots[i];
    uint64_t left = s->is_static ? (uint64_t)e->cfg.ttl_infinite_s * 1000u
                    : s->expire_ms > e->now ? s->expire_ms - e->now
                                            : 0;
    if (left > best)
      best = left;
  }
  uint64_t sec = (best + 999u) / 1000u;
  return sec > UINT32_MAX ? UINT32_MAX : sec < 1 ? 1 : (uint32_t)sec;
}

static nb_nbns_verdict_t answer(nb_nbns_t *e, const nb_ns_msg_t *m,
                                const nb_nbs_rec_t *r, uint32_t src,
                                uint16_t port) {
  nb_ns_nb_entry_t ent[NB_NBNS_MAX_ADDRS];
  size_t n = 0;
  for (uint32_t i = r != NULL ? r->members : NB_NBS_NIL;
       i != NB_NBS_NIL && n < NB_NBNS_MAX_ADDRS; i = e->slots[i].next) {
    const nb_nbs_slot_t *s = &e->slots[i];
    if (s->is_static || s->expire_ms > e->now) {
      ent[n].nb_flags = s->nb_flags;
      ent[n].addr = s->ip;
      n++;
    }
  }
  nb_ns_build_args_t a;
  memset(&a, 0, sizeof a);
  a.trn_id = m->hdr.trn_id;
  a.name = &m->qd[0].qname.name;
  a.ra = e->cfg.ra;
  if (n == 0) { /* RFC 1002 4.2.14: NAM_ERR */
    a.rcode = NB_NS_RCODE_NAM_ERR;
    e->ctr.queries_negative++;
    nb_nbs_send(e, NB_NS_KIND_NEG_QUERY_RESPONSE, &a, src, port, 0);
    return NB_NBNS_HANDLED;
  }
  /* RFC 1002 4.2.13: every address of the name (a group's members). */
  a.entries = ent;
  a.n_entries = n;
  a.ttl = answer_ttl(e, r);
  e->ctr.queries_positive++;
  nb_nbs_send(e, NB_NS_KIND_POS_QUERY_RESPONSE, &a, src, port,
              nb_nbs_read_seq(e, r));
  return NB_NBNS_HANDLED;
}

static nb_nbns_verdict_t on_query(nb_nbns_t *e, const nb_ns_msg_t *m,
                                  uint32_t src, uint16_t port) {
  if ((m->hdr.nm_flags & NB_NS_FLAG_RD) == 0)
    return NB_NBNS_PASS; /* to a node: the node engine answers */
  if (m->qdcount < 1)
    return NB_NBNS_INCOMPLETE;
  if (m->qd[0].qtype != NB_NS_TYPE_NB)
    return NB_NBNS_PASS;
  if (!nb_nbs_out_room(e, 1))
    return NB_NBNS_BUSY;
  return answer(e, m, nb_nbs_find(e, &m->qd[0].qname.name), src, port);
}

/* ---- intake ----------------------------------------------------------- */

static nb_nbns_verdict_t on_request(nb_nbns_t *e, const nb_ns_msg_t *m,
                                    uint32_t src, uint16_t port, bool bcast) {
  if (bcast || (m->hdr.nm_flags & NB_NS_FLAG_B) != 0)
    return NB_NBNS_PASS; /* RFC 1002 5.1.4 */
  switch (m->kind) {
  case NB_NS_KIND_QUERY_REQUEST:
    return on_query(e, m, src, port);
  case NB_NS_KIND_REGISTRATION_REQUEST:
  case NB_NS_KIND_OVERWRITE_REQUEST: /* unicast: as nmbd, a registration */
  case NB_NS_KIND_REFRESH_REQUEST:
  case NB_NS_KIND_MULTIHOMED_REQUEST:
    return on_register(e, m, src, port);
  case NB_NS_KIND_RELEASE_REQUEST:
    return on_release(e, m, src, port);
  default:
    return NB_NBNS_PASS; /* node status */
  }
}

static nb_nbns_verdict_t recv_one(nb_nbns_t *e, const uint8_t *pkt, size_t len,
                                  uint32_t src, uint16_t port, bool bcast) {
  nb_err_t err = nb_ns_parse(pkt, len, &e->msg, NULL);
  if (err != NB_OK)
    return parse_verdict(err);
  if (e->msg.kind == NB_NS_KIND_UNKNOWN)
    return NB_NBNS_PASS; /* wrong opcodes: the node engine counts them */
  if (e->msg.hdr.response)
    return nb_nbs_challenge_answer(e, &e->msg, src);
  return on_request(e, &e->msg, src, port, bcast);
}

/* WARNING: parses untrusted network data.
 *
 * Every datagram goes through nb_ns_parse() (RFC 1002 4.2.1; diagrams in
 * nb/ns.h) into the engine's scratch model; nothing here reads the bytes
 * directly. Handlers check every count and entry they use. */
nb_nbns_verdict_t nb_nbns_recv(nb_nbns_t *e, const uint8_t *pkt, size_t len,
                               uint32_t src_ip, uint16_t src_port,
                               bool was_broadcast, uint64_t now_ms) {
  static const uint8_t empty[1] = {0};
  if (now_ms > e->now)
    e->now = now_ms;
  e->ctr.rx_packets++;
  nb_nbns_verdict_t v = NB_NBNS_MALFORMED;
  if (pkt != NULL || len == 0)
    v = recv_one(e, pkt != NULL ? pkt : empty, pkt != NULL ? len : 0, src_ip,
                 src_port, was_broadcast);
  if ((unsigned)v >= NB_NBNS_VERDICT__COUNT)
    v = NB_NBNS_MALFORMED;
  e->ctr.verdict[v]++;
  return v;
}
