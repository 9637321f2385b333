/* SPDX-License-Identifier: BSD-2-Clause */
/* The datagram service engine: sending (RFC 1002 5.3.1, 5.3.2; RFC 1001
 * 17.2, 17.3). A send takes a slot until its destination is known: the
 * name service's answer (pulled by the shell with next_resolve() and
 * passed back with resolved()), or the NBDD's answer to a DATAGRAM QUERY
 * REQUEST. Then the datagram is cut into UDP payloads by the fragmenting
 * writer (nb_dgm_split_*) and queued. */
#include <string.h>

#include "dgmsvc_int.h"

/* ---- queueing a datagram ---------------------------------------------------
 */

/* Remember a send so a DATAGRAM ERROR for it can be matched. */
static void remember(nb_dgmsvc_t *e, const nb_dgs_send_t *s, uint32_t ip) {
  nb_dgs_sent_t *r = &e->sent[e->sent_next++ % NB_DGMSVC_SENT_RING];
  r->handle = s->handle;
  r->dgm_id = s->dgm_id;
  r->dst_ip = ip;
  r->at = e->now;
}

bool nb_dgs_emit_raw(nb_dgmsvc_t *e, const uint8_t *pkt, size_t len,
                     uint32_t ip, bool bcast) {
  if (len > NB_DGMSVC_OUT_MAX)
    return false;
  nb_dgs_out_t *o = nb_dgs_out_new(e, ip, bcast);
  if (o == NULL)
    return false;
  memcpy(o->data, pkt, len);
  o->len = len;
  return true;
}

/* The whole datagram of send `s` as it leaves the interface towards `ip`
 * (SOURCE_IP is that interface's address, RFC 1002 5.3.1). The model
 * borrows s->data. */
static void model(const nb_dgmsvc_t *e, const nb_dgs_send_t *s, uint32_t ip,
                  nb_dgm_msg_t *d) {
  nb_dgm_init(d, s->msg_type, s->dgm_id, nb_dgs_src_for(e, ip), e->cfg.port);
  d->flags = (uint8_t)(d->flags | nb_dgs_snt_flags(e));
  /* Checked by nb_dgmsvc_send(): names valid, data <= 512. */
  (void)nb_dgm_set_datagram(d, &s->source, &s->destination, s->data, s->len);
}

/* Cut `d` into payloads of at most max_payload bytes and queue them for
 * ip (RFC 1002 5.3.1). Returns how many were queued; `*lost` is set when
 * one could not be. */
static size_t emit(nb_dgmsvc_t *e, const nb_dgm_msg_t *d, uint32_t ip,
                   bool bcast, bool *lost) {
  nb_dgm_split_t sp;
  nb_dgm_msg_t frag;
  uint8_t buf[NB_DGMSVC_OUT_MAX];
  size_t n = 0;
  if (nb_dgm_split_init(&sp, d, e->cfg.max_payload) != NB_OK) {
    *lost = true; /* not reached: nb_dgmsvc_send() checked the sizes */
    return 0;
  }
  while (nb_dgm_split_next(&sp, &frag)) {
    nb_wr_t w;
    size_t len = 0;
    nb_wr_init(&w, buf, sizeof buf);
    nb_dgm_write(&w, &frag);
    if (nb_wr_finish(&w, &len) != NB_OK ||
        !nb_dgs_emit_raw(e, buf, len, ip, bcast)) {
      *lost = true;
      continue;
    }
    n++;
  }
  return n;
}

static void send_done(nb_dgmsvc_t *e, nb_dgs_send_t *s, nb_err_t err,
                      size_t packets, size_t dests, uint32_t ip) {
  nb_dgmsvc_event_t *ev = nb_dgs_event(e, NB_DGMSVC_EV_SEND_DONE);
  if (ev != NULL) {
    ev->id = s->handle;
    ev->err = err;
    ev->msg_type = s->msg_type;
    ev->n_packets = packets;
    ev->n_dests = dests;
    ev->dst_ip = ip;
    ev->source_name = s->source;
    ev->destination_name = s->destination;
  }
  if (err == NB_OK)
    e->ctr.sends_ok++;
  else
    e->ctr.sends_failed++;
  s->state = NB_DGS_FREE;
}

/* Unicast copies to each address (a unique name's owner, the NBDD, or a
 * group's members, RFC 1002 5.3.2). 0 and 255.255.255.255 (a WINS answer
 * for a broadcast-only group) are not node addresses and are skipped. */
static void unicast_to(nb_dgmsvc_t *e, nb_dgs_send_t *s, const uint32_t *addrs,
                       size_t n_addrs) {
  size_t packets = 0, dests = 0;
  uint32_t first = 0;
  bool lost = false;
  nb_dgm_msg_t d;
  for (size_t i = 0; i < n_addrs && dests < NB_DGMSVC_MAX_DESTS; i++) {
    uint32_t ip = addrs[i];
    if (ip == 0 || ip == UINT32_MAX)
      continue;
    model(e, s, ip, &d);
    packets += emit(e, &d, ip, false, &lost);
    remember(e, s, ip);
    first = dests++ == 0 ? ip : first;
  }
  nb_err_t err = dests == 0 ? NB_ENOTFOUND : lost ? NB_ELIMIT : NB_OK;
  send_done(e, s, err, packets, dests, first);
}

/* B-node group and broadcast distribution (RFC 1002 5.3.1): to the
 * broadcast address of every interface (once per subnet), and a local
 * copy for our own bindings, since our own broadcasts that come back are
 * dropped. */
static void broadcast_all(nb_dgmsvc_t *e, nb_dgs_send_t *s) {
  size_t packets = 0, dests = 0;
  uint32_t first = 0;
  bool lost = false;
  nb_dgm_msg_t d;
  for (size_t i = 0; i < e->cfg.n_ifaces; i++) {
    uint32_t b = nb_dgs_bcast(e, i);
    bool dup = b == e->cfg.ifaces[i].ip; /* a /32 has no broadcast */
    for (size_t k = 0; k < i && !dup; k++)
      dup = nb_dgs_bcast(e, k) == b;
    if (dup)
      continue;
    model(e, s, b, &d);
    packets += emit(e, &d, b, true, &lost);
    first = dests++ == 0 ? b : first;
  }
  model(e, s, e->cfg.ifaces[0].ip, &d);
  (void)nb_dgs_deliver(e, &d, e->cfg.ifaces[0].ip, e->cfg.port, true);
  send_done(e, s,
            dests == 0 ? NB_ENOTFOUND
            : lost     ? NB_ELIMIT
                       : NB_OK,
            packets, dests, first);
}

/* ---- group and broadcast distribution ----------------------------------
 */

static void want_resolve(nb_dgmsvc_t *e, nb_dgs_send_t *s, bool members) {
  s->state = NB_DGS_WANT_RESOLVE;
  s->members = members;
  s->deadline = e->now + e->cfg.resolve_timeout_ms;
}

/* The NBDD cannot (or did not answer): a group datagram goes to each
 * member the NBNS lists (RFC 1002 5.3.2); a broadcast has no such list. */
static void nbdd_fallback(nb_dgmsvc_t *e, nb_dgs_send_t *s) {
  if (s->msg_type == NB_DGM_BROADCAST) {
    send_done(e, s, NB_ENOTFOUND, 0, 0, 0);
    return;
  }
  want_resolve(e, s, true);
}

/* RFC 1002 5.3.2: DATAGRAM QUERY REQUEST to the NBDD with the datagram's
 * DESTINATION_NAME; its DGM_ID is the datagram's. */
static void nbdd_query(nb_dgmsvc_t *e, nb_dgs_send_t *s) {
  nb_dgm_msg_t q;
  uint8_t buf[NB_DGM_COMMON_LEN + NB_NAME_WIRE_MAX + 1];
  size_t len = 0;
  nb_wr_t w;
  nb_dgm_init(&q, NB_DGM_QUERY_REQUEST, s->dgm_id,
              nb_dgs_src_for(e, e->cfg.nbdd), e->cfg.port);
  q.flags = nb_dgs_snt_flags(e);
  q.destination_name = s->destination;
  nb_wr_init(&w, buf, sizeof buf);
  nb_dgm_write(&w, &q);
  if (nb_wr_finish(&w, &len) == NB_OK &&
      nb_dgs_emit_raw(e, buf, len, e->cfg.nbdd, false))
    e->ctr.nbdd_queries++;
  s->state = NB_DGS_NBDD_QUERY;
  s->tries++;
  s->deadline = e->now + e->cfg.nbdd_retry_ms;
}

static void distribute(nb_dgmsvc_t *e, nb_dgs_send_t *s, uint8_t type) {
  nb_nsnode_type_t t = e->cfg.node_type;
  s->msg_type = type;
  if (t == NB_NSNODE_TYPE_B || (e->cfg.nbdd == 0 && t != NB_NSNODE_TYPE_P)) {
    broadcast_all(e, s); /* RFC 1002 5.3.1 */
  } else if (e->cfg.nbdd != 0 && e->cfg.nbdd_query) {
    s->tries = 0;
    nbdd_query(e, s); /* RFC 1002 5.3.2 */
  } else if (e->cfg.nbdd != 0) {
    unicast_to(e, s, &e->cfg.nbdd, 1); /* "may send ... immediately" */
  } else {
    nbdd_fallback(e, s); /* a P node without an NBDD */
  }
}

/* ---- the API ---------------------------------------------------------------
 */

static nb_dgs_send_t *send_alloc(nb_dgmsvc_t *e) {
  for (size_t i = 0; i < NB_DGMSVC_MAX_SENDS; i++) {
    if (e->sends[i].state == NB_DGS_FREE)
      return &e->sends[i];
  }
  return NULL;
}

/* The request's names in the node's scope (RFC 1002 5.3.1: SOURCE_NAME =
 * cat(source, SCOPE_ID)); '*' padded with NULs for a broadcast. */
static nb_err_t scoped_names(const nb_dgmsvc_t *e,
                             const nb_dgmsvc_send_req_t *rq, nb_name_t *src,
                             nb_name_t *dst, nb_diag_t *diag) {
  const char *scope = e->cfg.scope;
  *src = rq->source;
  if (nb_name_set_scope(src, scope, strlen(scope), NULL) != NB_OK ||
      src->bytes[0] == '*')
    return nb_diag_set(diag, NB_EINVAL, 0, "source name");
  if (rq->to == NB_DGMSVC_TO_BROADCAST) {
    (void)nb_name_make(dst, "*", 1, 0x00, scope);
    return NB_OK;
  }
  *dst = rq->destination;
  if (nb_name_set_scope(dst, scope, strlen(scope), NULL) != NB_OK ||
      dst->bytes[0] == '*')
    return nb_diag_set(diag, NB_EINVAL, 0, "destination name");
  return NB_OK;
}

static nb_err_t check_request(const nb_dgmsvc_t *e,
                              const nb_dgmsvc_send_req_t *rq, nb_name_t *src,
                              nb_name_t *dst, nb_diag_t *diag) {
  if ((unsigned)rq->to > NB_DGMSVC_TO_BROADCAST ||
      (rq->data == NULL && rq->len > 0))
    return nb_diag_set(diag, NB_EINVAL, 0, "request");
  if (rq->len > NB_DGM_USER_DATA_MAX)
    return nb_diag_set(diag, NB_ELIMIT, NB_DGM_USER_DATA_MAX,
                       "user data (over 512 bytes, RFC 1001 17.1.2)");
  nb_err_t err = scoped_names(e, rq, src, dst, diag);
  if (err != NB_OK)
    return err;
  if ((rq->flags & NB_DGMSVC_SEND_ANY_SOURCE) == 0 &&
      nb_dgs_name_find(e, src) == NULL)
    return nb_diag_set(diag, NB_ENOTFOUND, 0,
                       "source name (not one of the node's names)");
  /* RFC 1002 5.3.1: the first UDP packet carries both names. */
  if (NB_DGM_HEADER_LEN + nb_name_wire_len(src) + nb_name_wire_len(dst) >=
      e->cfg.max_payload)
    return nb_diag_set(diag, NB_ELIMIT, 0, "names (longer than a packet)");
  return NB_OK;
}

static void start(nb_dgmsvc_t *e, nb_dgs_send_t *s,
                  const nb_dgmsvc_send_req_t *rq) {
  static const uint8_t types[] = {NB_DGM_DIRECT_UNIQUE, NB_DGM_DIRECT_GROUP,
                                  NB_DGM_BROADCAST};
  s->msg_type = types[rq->to];
  if (rq->ip != 0) {
    unicast_to(e, s, &rq->ip, 1); /* the caller knows where */
  } else if (rq->to == NB_DGMSVC_TO_NAME) {
    want_resolve(e, s, false); /* RFC 1002 5.3.1: name discovery */
  } else {
    distribute(e, s, s->msg_type);
  }
}

nb_err_t nb_dgmsvc_send(nb_dgmsvc_t *e, const nb_dgmsvc_send_req_t *rq,
                        uint64_t now_ms, uint32_t *handle, nb_diag_t *diag) {
  nb_name_t src, dst;
  if (rq == NULL || handle == NULL)
    return nb_diag_set(diag, NB_EINVAL, 0, "request");
  nb_dgs_set_now(e, now_ms);
  nb_err_t err = check_request(e, rq, &src, &dst, diag);
  if (err != NB_OK)
    return err;
  nb_dgs_send_t *s = send_alloc(e);
  if (s == NULL)
    return nb_diag_set(diag, NB_ELIMIT, 0, "sends pending (at most 32)");
  memset(s, 0, offsetof(nb_dgs_send_t, data));
  s->handle = nb_dgs_new_handle(e);
  s->dgm_id = nb_dgs_new_id(e);
  s->source = src;
  s->destination = dst;
  s->len = rq->len;
  if (rq->len > 0)
    memcpy(s->data, rq->data, rq->len);
  e->ctr.sends++;
  *handle = s->handle;
  start(e, s, rq);
  return NB_OK;
}

bool nb_dgmsvc_next_resolve(nb_dgmsvc_t *e, nb_dgmsvc_resolve_t *rq) {
  for (size_t i = 0; i < NB_DGMSVC_MAX_SENDS; i++) {
    nb_dgs_send_t *s = &e->sends[i];
    if (s->state == NB_DGS_WANT_RESOLVE) {
      s->state = NB_DGS_RESOLVING;
      rq->id = s->handle;
      rq->name = s->destination;
      rq->members = s->members;
      e->ctr.resolves++;
      return true;
    }
  }
  return false;
}

static nb_err_t result_err(nb_nsnode_result_t r) {
  switch (r) {
  case NB_NSNODE_NOT_FOUND:
    return NB_ENOTFOUND;
  case NB_NSNODE_TIMEOUT:
    return NB_ETIMEDOUT;
  default:
    return NB_EIO;
  }
}

void nb_dgmsvc_resolved(nb_dgmsvc_t *e, uint32_t id, nb_nsnode_result_t result,
                        bool group, const uint32_t *addrs, size_t n_addrs,
                        uint64_t now_ms) {
  nb_dgs_send_t *s = NULL;
  nb_dgs_set_now(e, now_ms);
  for (size_t i = 0; i < NB_DGMSVC_MAX_SENDS && s == NULL; i++) {
    if (e->sends[i].state == NB_DGS_RESOLVING && e->sends[i].handle == id)
      s = &e->sends[i];
  }
  if (s == NULL)
    return;
  if (result != NB_NSNODE_FOUND || addrs == NULL || n_addrs == 0) {
    send_done(e, s,
              result == NB_NSNODE_FOUND ? NB_ENOTFOUND : result_err(result), 0,
              0, 0);
  } else if (s->members) {
    unicast_to(e, s, addrs, n_addrs); /* RFC 1002 5.3.2 */
  } else if (!group) {
    s->msg_type = NB_DGM_DIRECT_UNIQUE; /* RFC 1002 5.3.1 */
    unicast_to(e, s, addrs, 1);
  } else {
    distribute(e, s, NB_DGM_DIRECT_GROUP);
  }
}

/* ---- answers from the network --------------------------------------------
 */

nb_dgmsvc_drop_t nb_dgs_on_query_response(nb_dgmsvc_t *e, const nb_dgm_msg_t *m,
                                          uint32_t src) {
  for (size_t i = 0; i < NB_DGMSVC_MAX_SENDS; i++) {
    nb_dgs_send_t *s = &e->sends[i];
    if (s->state != NB_DGS_NBDD_QUERY || s->dgm_id != m->dgm_id ||
        src != e->cfg.nbdd ||
        !nb_name_equal(&s->destination, &m->destination_name))
      continue;
    if (m->msg_type == NB_DGM_POSITIVE_QUERY_RESPONSE)
      unicast_to(e, s, &e->cfg.nbdd, 1);
    else
      nbdd_fallback(e, s);
    return NB_DGMSVC_DROP_NONE;
  }
  return NB_DGMSVC_DROP_UNSOLICITED;
}

nb_dgmsvc_drop_t nb_dgs_on_error(nb_dgmsvc_t *e, const nb_dgm_msg_t *m,
                                 uint32_t src) {
  e->ctr.errors_received++;
  for (size_t i = 0; i < NB_DGMSVC_SENT_RING; i++) {
    const nb_dgs_sent_t *r = &e->sent[i];
    if (r->handle == 0 || r->dgm_id != m->dgm_id || r->dst_ip != src ||
        e->now - r->at > NB_DGMSVC_SENT_KEEP_MS)
      continue;
    nb_dgmsvc_event_t *ev = nb_dgs_event(e, NB_DGMSVC_EV_SEND_ERROR);
    if (ev != NULL) {
      ev->id = r->handle;
      ev->error_code = m->error_code;
      ev->peer_ip = src;
      ev->dst_ip = src;
    }
    return NB_DGMSVC_DROP_NONE;
  }
  return NB_DGMSVC_DROP_UNSOLICITED;
}

/* ---- timers ----------------------------------------------------------------
 */

uint64_t nb_dgs_sends_deadline(const nb_dgmsvc_t *e) {
  uint64_t next = NB_DGS_NEVER;
  for (size_t i = 0; i < NB_DGMSVC_MAX_SENDS; i++) {
    const nb_dgs_send_t *s = &e->sends[i];
    if (s->state != NB_DGS_FREE && s->deadline < next)
      next = s->deadline;
  }
  return next;
}

void nb_dgs_sends_timer(nb_dgmsvc_t *e) {
  for (size_t i = 0; i < NB_DGMSVC_MAX_SENDS; i++) {
    nb_dgs_send_t *s = &e->sends[i];
    if (s->state == NB_DGS_FREE || s->deadline > e->now)
      continue;
    if (s->state != NB_DGS_NBDD_QUERY)
      send_done(e, s, NB_ETIMEDOUT, 0, 0, 0); /* the shell never answered */
    else if (s->tries < e->cfg.nbdd_retry_count)
      nbdd_query(e, s);
    else
      nbdd_fallback(e, s); /* silence: as a negative answer */
  }
}
