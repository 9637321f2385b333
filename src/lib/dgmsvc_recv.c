/* SPDX-License-Identifier: BSD-2-Clause */
/* The datagram service engine: reception (RFC 1002 5.3.3, RFC 1001
 * 17.1-17.3), delivery to bindings, DATAGRAM ERROR and the NBDD role
 * (RFC 1002 5.3.4).
 *
 * WARNING: handles untrusted network data. Packets are parsed only by
 * nb_dgm_parse() and, for the names of a refused packet, nb_name_decode()
 * through an nb_rd_t window; fragments go through the bounded
 * reassembler; every response is rate limited. */
#include <string.h>

#include "dgmsvc_int.h"

/* Only a unicast node address gets an answer: never 0.0.0.0, a
 * broadcast (limited or one of our subnets'), a multicast group or port
 * 0, whatever a packet claims to come from. */
static bool answerable(const nb_dgmsvc_t *e, uint32_t ip, uint16_t port) {
  if (ip == 0 || ip == UINT32_MAX || (ip >> 28) == 0xE || port == 0)
    return false;
  for (size_t i = 0; i < e->cfg.n_ifaces; i++) {
    if (ip == nb_dgs_bcast(e, i) && ip != e->cfg.ifaces[i].ip)
      return false;
  }
  return true;
}

/* RFC 1002 4.4.3: DATAGRAM ERROR to the UDP source of a datagram we
 * received by unicast, FIRST and MORE clear, our address and port in the
 * header, DGM_ID echoed so the sender can match it. Only when the
 * datagram's SOURCE_IP is that UDP source (see nb/dgmsvc.h). */
static void send_error(nb_dgmsvc_t *e, uint16_t dgm_id, uint32_t hdr_ip,
                       uint8_t code, uint32_t src, uint16_t port) {
  nb_dgm_msg_t m;
  nb_wr_t w;
  if (!e->cfg.send_errors)
    return;
  if (hdr_ip != src || !answerable(e, src, port)) {
    e->ctr.errors_not_sent++;
    return;
  }
  if (!nb_dgs_rl_take(e, src)) {
    e->ctr.rate_limited++;
    return;
  }
  nb_dgs_out_t *o = nb_dgs_out_new(e, src, false);
  if (o == NULL)
    return;
  o->dst_port = port;
  nb_dgm_init(&m, NB_DGM_ERROR, dgm_id, o->src_ip, e->cfg.port);
  m.flags = nb_dgs_snt_flags(e); /* RFC 1002 5.3.3: FIRST, MORE clear */
  m.error_code = code;
  nb_wr_init(&w, o->data, sizeof o->data);
  nb_dgm_write(&w, &m);
  (void)nb_wr_finish(&w, &o->len); /* 11 bytes: always fits */
  e->ctr.errors_sent++;
}

/* A packet nb_dgm_parse() refused: a 0x10-0x12 first fragment whose
 * SOURCE_NAME or DESTINATION_NAME does not decode inside DGM_LENGTH is
 * BAD_SOURCE_NAME / BAD_DEST_NAME (RFC 1002 4.4.3 has error codes 0x83,
 * 0x84 for them); anything else is TRUNCATED or MALFORMED. */
static nb_dgmsvc_drop_t classify_bad(const uint8_t *pkt, size_t len,
                                     nb_err_t err) {
  nb_rd_t r, win;
  uint8_t type = 0;
  uint16_t dgm_len = 0, off = 1;
  nb_name_t n;
  nb_rd_init(&r, pkt, len);
  if (nb_rd_u8(&r, &type) == NB_OK && nb_dgm_is_service(type) &&
      nb_rd_skip(&r, NB_DGM_COMMON_LEN - 1) == NB_OK &&
      nb_rd_be16(&r, &dgm_len) == NB_OK && nb_rd_be16(&r, &off) == NB_OK &&
      off == 0) {
    size_t left = nb_rd_left(&r);
    (void)nb_rd_sub(&r, dgm_len < left ? dgm_len : left, &win);
    if (nb_name_decode(&win, &n, NB_NAME_F_NO_POINTERS, NULL) != NB_OK)
      return NB_DGMSVC_DROP_BAD_SOURCE_NAME;
    if (nb_name_decode(&win, &n, NB_NAME_F_NO_POINTERS, NULL) != NB_OK)
      return NB_DGMSVC_DROP_BAD_DEST_NAME;
  }
  return err == NB_ETRUNCATED ? NB_DGMSVC_DROP_TRUNCATED
                              : NB_DGMSVC_DROP_MALFORMED;
}

static nb_dgmsvc_drop_t on_unparsable(nb_dgmsvc_t *e, const uint8_t *pkt,
                                      size_t len, nb_err_t err, uint32_t src,
                                      uint16_t port, bool bcast) {
  nb_dgmsvc_drop_t why = classify_bad(pkt, len, err);
  if (bcast || (why != NB_DGMSVC_DROP_BAD_SOURCE_NAME &&
                why != NB_DGMSVC_DROP_BAD_DEST_NAME))
    return why;
  nb_rd_t r;
  uint16_t dgm_id = 0;
  uint32_t hdr_ip = 0;
  nb_rd_init(&r, pkt, len);
  (void)nb_rd_skip(&r, 2); /* at least 14 bytes: classify_bad read them */
  (void)nb_rd_be16(&r, &dgm_id);
  (void)nb_rd_be32(&r, &hdr_ip);
  send_error(e, dgm_id, hdr_ip,
             why == NB_DGMSVC_DROP_BAD_SOURCE_NAME
                 ? NB_DGM_ERR_INVALID_SOURCE_NAME
                 : NB_DGM_ERR_INVALID_DEST_NAME,
             src, port);
  return why;
}

/* Does binding `b` take a datagram for `dst`? `own`: dst is one of the
 * node's names. */
static bool bind_takes(const nb_dgs_bind_t *b, const nb_name_t *dst, bool star,
                       bool own) {
  if (b->id == 0)
    return false;
  if ((b->flags & NB_DGMSVC_BIND_MONITOR) != 0)
    return true;
  if ((b->flags & NB_DGMSVC_BIND_BROADCAST) != 0)
    return star;
  return own && !star && nb_name_equal(&b->name, dst);
}

/* One DATAGRAM event per binding that takes it ("Replicate received
 * NetBIOS datagram for each recipient", RFC 1002 5.3.3). Returns how
 * many. */
static size_t deliver_to(nb_dgmsvc_t *e, const nb_dgm_msg_t *d, uint32_t src,
                         uint16_t port, bool bcast, bool star, bool own) {
  size_t n = 0;
  for (size_t i = 0; i < NB_DGMSVC_MAX_BINDS; i++) {
    const nb_dgs_bind_t *b = &e->binds[i];
    if (!bind_takes(b, &d->destination_name, star, own))
      continue;
    nb_dgmsvc_event_t *ev = nb_dgs_event(e, NB_DGMSVC_EV_DATAGRAM);
    n++; /* counted as delivered even when the queue was full */
    if (ev == NULL)
      continue;
    ev->id = b->id;
    ev->msg_type = d->msg_type;
    ev->was_broadcast = bcast;
    ev->src_ip = d->source_ip;
    ev->src_port = d->source_port;
    ev->peer_ip = src;
    ev->peer_port = port;
    ev->source_name = d->source_name;
    ev->destination_name = d->destination_name;
    ev->data_len = d->data_len; /* <= 512: checked by the caller */
    memcpy(ev->data, d->data, d->data_len);
    e->ctr.delivered++;
  }
  return n;
}

/* A whole datagram (RFC 1002 5.3.3 after reassembly). */
static nb_dgmsvc_drop_t deliver(nb_dgmsvc_t *e, const nb_dgm_msg_t *d,
                                uint32_t src, uint16_t port, bool bcast) {
  const nb_name_t *dst = &d->destination_name;
  if (d->data_len > NB_DGM_USER_DATA_MAX)
    return NB_DGMSVC_DROP_USER_DATA_LONG; /* RFC 1001 17.1.2 */
  if (!nb_dgs_scope_is_ours(e, dst))
    return NB_DGMSVC_DROP_OTHER_SCOPE; /* RFC 1001 14 */
  if (dst->bytes[0] == '*') {
    /* "IF DESTINATION_NAME is '*'": a NetBIOS broadcast. */
    return deliver_to(e, d, src, port, bcast, true, false) > 0
               ? NB_DGMSVC_DROP_NONE
               : NB_DGMSVC_DROP_NO_LISTENER;
  }
  if (nb_dgs_name_find(e, dst) != NULL) {
    return deliver_to(e, d, src, port, bcast, false, true) > 0
               ? NB_DGMSVC_DROP_NONE
               : NB_DGMSVC_DROP_NO_LISTENER;
  }
  if (d->msg_type == NB_DGM_DIRECT_UNIQUE) {
    /* RFC 1001 17.2: a unique destination we do not hold gets a DATAGRAM
     * ERROR; only by unicast (nb/dgmsvc.h: no storms). */
    if (!bcast)
      send_error(e, d->dgm_id, d->source_ip, NB_DGM_ERR_DEST_NAME_NOT_PRESENT,
                 src, port);
    return NB_DGMSVC_DROP_NOT_PRESENT;
  }
  /* RFC 1001 17.2: "quietly discards datagrams with a GROUP name
   * destination if the name is not owned"; monitors still hear it. */
  return deliver_to(e, d, src, port, bcast, false, false) > 0
             ? NB_DGMSVC_DROP_NONE
             : NB_DGMSVC_DROP_NOT_MEMBER;
}

/* The NBDD relays group and broadcast packets sent to it as they are
 * (RFC 1002 5.3.4: no reassembly), by broadcast on each of its subnets. */
static void nbdd_relay(nb_dgmsvc_t *e, const uint8_t *pkt, size_t len,
                       uint32_t src) {
  if (nb_dgs_is_own_ip(e, src) || len > NB_DGMSVC_OUT_MAX ||
      !answerable(e, src, 138))
    return;
  if (!nb_dgs_rl_take(e, src)) {
    e->ctr.rate_limited++;
    return;
  }
  for (size_t i = 0; i < e->cfg.n_ifaces; i++) {
    uint32_t b = nb_dgs_bcast(e, i);
    bool dup = b == e->cfg.ifaces[i].ip;
    for (size_t k = 0; k < i && !dup; k++)
      dup = nb_dgs_bcast(e, k) == b;
    if (!dup && nb_dgs_emit_raw(e, pkt, len, b, true))
      e->ctr.nbdd_relayed++;
  }
}

static nb_dgmsvc_drop_t on_service(nb_dgmsvc_t *e, const uint8_t *pkt,
                                   size_t len, uint32_t src, uint16_t port,
                                   bool bcast) {
  const nb_dgm_msg_t *m = &e->msg;
  if (e->cfg.nbdd_role && !bcast && m->msg_type != NB_DGM_DIRECT_UNIQUE)
    nbdd_relay(e, pkt, len, src);
  switch (nb_dgm_reasm_add(&e->reasm, m, e->now, &e->whole)) {
  case NB_DGM_REASM_COMPLETE:
    e->ctr.rx_datagrams++;
    return deliver(e, &e->whole, src, port, bcast);
  case NB_DGM_REASM_PENDING:
    return NB_DGMSVC_DROP_NONE; /* RFC 1002 5.3.3: saved until FRAGMENT_TO */
  default:
    return NB_DGMSVC_DROP_FRAGMENT;
  }
}

/* RFC 1002 5.3.4: the NBDD answers a DATAGRAM QUERY REQUEST to its source
 * address and port with the request's DGM_ID: POSITIVE when it can relay
 * to the name (ours: any name of our scope, by subnet broadcast). */
static nb_dgmsvc_drop_t on_query_request(nb_dgmsvc_t *e, uint32_t src,
                                         uint16_t port, bool bcast) {
  const nb_dgm_msg_t *q = &e->msg;
  nb_dgm_msg_t m;
  nb_wr_t w;
  if (!e->cfg.nbdd_role)
    return NB_DGMSVC_DROP_NOT_NBDD;
  if (bcast || !answerable(e, src, port))
    return NB_DGMSVC_DROP_QUERY_BROADCAST; /* asked by unicast, 17.3 */
  if (!nb_dgs_rl_take(e, src)) {
    e->ctr.rate_limited++;
    return NB_DGMSVC_DROP_NONE;
  }
  bool can = nb_dgs_scope_is_ours(e, &q->destination_name);
  nb_dgs_out_t *o = nb_dgs_out_new(e, src, false);
  if (o == NULL)
    return NB_DGMSVC_DROP_NONE;
  o->dst_port = port;
  nb_dgm_init(
      &m, can ? NB_DGM_POSITIVE_QUERY_RESPONSE : NB_DGM_NEGATIVE_QUERY_RESPONSE,
      q->dgm_id, o->src_ip, e->cfg.port);
  m.flags = nb_dgs_snt_flags(e);
  m.destination_name = q->destination_name;
  nb_wr_init(&w, o->data, sizeof o->data);
  nb_dgm_write(&w, &m);
  (void)nb_wr_finish(&w, &o->len); /* <= 10 + 255 bytes */
  e->ctr.nbdd_answers++;
  return NB_DGMSVC_DROP_NONE;
}

static nb_dgmsvc_drop_t recv_one(nb_dgmsvc_t *e, const uint8_t *pkt, size_t len,
                                 uint32_t src, uint16_t port, bool bcast) {
  /* Our own broadcasts come back on the broadcast socket; local copies
   * were delivered when they were sent. */
  if (bcast && port == e->cfg.port && nb_dgs_is_own_ip(e, src))
    return NB_DGMSVC_DROP_OWN;
  if (bcast && e->cfg.node_type == NB_NSNODE_TYPE_P)
    return NB_DGMSVC_DROP_BROADCAST_IGNORED; /* RFC 1002 5.3.3 */
  nb_err_t err = nb_dgm_parse(pkt, len, &e->msg, NULL);
  if (err != NB_OK)
    return on_unparsable(e, pkt, len, err, src, port, bcast);
  switch (e->msg.msg_type) {
  case NB_DGM_DIRECT_UNIQUE:
  case NB_DGM_DIRECT_GROUP:
  case NB_DGM_BROADCAST:
    return on_service(e, pkt, len, src, port, bcast);
  case NB_DGM_QUERY_REQUEST:
    return on_query_request(e, src, port, bcast);
  default:
    break;
  }
  /* DATAGRAM ERROR and the NBDD's answers go to one address (RFC 1002
   * 5.3.3, 5.3.4): one received by broadcast answers nothing we sent. */
  if (bcast)
    return NB_DGMSVC_DROP_UNSOLICITED;
  return e->msg.msg_type == NB_DGM_ERROR
             ? nb_dgs_on_error(e, &e->msg, src)
             : nb_dgs_on_query_response(e, &e->msg, src);
}

nb_dgmsvc_drop_t nb_dgmsvc_recv(nb_dgmsvc_t *e, const uint8_t *pkt, size_t len,
                                uint32_t src_ip, uint16_t src_port,
                                bool was_broadcast, uint64_t now_ms) {
  nb_dgs_set_now(e, now_ms);
  e->ctr.rx_packets++;
  nb_dgmsvc_drop_t why =
      recv_one(e, pkt != NULL ? pkt : (const uint8_t *)"", pkt ? len : 0,
               src_ip, src_port, was_broadcast);
  e->ctr.drop[why]++;
  if (why != NB_DGMSVC_DROP_NONE)
    e->ctr.rx_dropped++;
  return why;
}

nb_dgmsvc_drop_t nb_dgs_deliver(nb_dgmsvc_t *e, const nb_dgm_msg_t *d,
                                uint32_t src, uint16_t port, bool bcast) {
  return deliver(e, d, src, port, bcast);
}
