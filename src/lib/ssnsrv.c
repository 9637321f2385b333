/* SPDX-License-Identifier: BSD-2-Clause */
/* The session server engine (nb/ssnsrv.h): states, route actions, events
 * and timers. The byte path (buffers, framing, the pump) is in
 * ssnsrv_pump.c.
 *
 * WARNING: parses untrusted network data (through the framer in
 * ssnsrv_pump.c): the client's SESSION REQUEST and an nbt backend's
 * answer arrive here as parsed control packets.
 *
 *     SESSION REQUEST (RFC 1002 4.3.2)
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |      TYPE     |     FLAGS     |            LENGTH             |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    /                          CALLED NAME                          /
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    /                          CALLING NAME                         /
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * RFC 1002 5.2 (session service): the listener answers a request with a
 * POSITIVE (0x82), NEGATIVE (0x83 + code) or RETARGET (0x84) response;
 * after a negative or retarget response the connection is closed. */
#include <string.h>

#include "ssnsrv_int.h"

static const char *const end_names[] = {
#define NB_SSNSRV_END_NAME_(name, msg) #name,
    NB_SSNSRV_END_MAP(NB_SSNSRV_END_NAME_)
#undef NB_SSNSRV_END_NAME_
};

static const char *const end_strs[] = {
#define NB_SSNSRV_END_STR_(name, msg) msg,
    NB_SSNSRV_END_MAP(NB_SSNSRV_END_STR_)
#undef NB_SSNSRV_END_STR_
};

const char *nb_ssnsrv_end_name(nb_ssnsrv_end_t end) {
  return (unsigned)end < NB_SSNSRV_END__COUNT ? end_names[end] : "UNKNOWN";
}

const char *nb_ssnsrv_end_str(nb_ssnsrv_end_t end) {
  return (unsigned)end < NB_SSNSRV_END__COUNT ? end_strs[end] : "unknown";
}

void nb_ssnsrv_config_init(nb_ssnsrv_config_t *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->request_timeout_ms = NB_SSNSRV_REQUEST_TIMEOUT_MS;
  cfg->connect_timeout_ms = NB_SSNSRV_CONNECT_TIMEOUT_MS;
  cfg->idle_timeout_ms = 0;
  cfg->keepalive_ms = 60000u;
  cfg->linger_ms = NB_SSNSRV_LINGER_MS;
  cfg->buf_high = NB_SSNSRV_BUF_HIGH;
  cfg->buf_low = NB_SSNSRV_BUF_LOW;
}

nb_err_t nb_ssnsrv_init(nb_ssnsrv_t *s, const nb_ssnsrv_config_t *cfg,
                        bool busy, uint64_t now) {
  if (s == NULL || cfg == NULL || cfg->buf_low > cfg->buf_high ||
      (cfg->n_routes > 0 && cfg->routes == NULL) ||
      (cfg->n_own > 0 && cfg->own == NULL)) {
    return NB_EINVAL;
  }
  memset(s, 0, sizeof *s);
  s->cfg = cfg;
  s->busy = busy;
  s->state = NB_SSNSRV_ST_WAIT_REQUEST;
  s->deadline =
      cfg->request_timeout_ms > 0 ? now + cfg->request_timeout_ms : UINT64_MAX;
  s->last_activity = now;
  /* Client bytes start in RFC framing (RFC 1002 4.3.1). */
  (void)nb_ssn_framer_init(&s->to[NB_SSNSRV_BACKEND].in, NB_SSN_MODE_RFC, 0);
  (void)nb_ssn_framer_init(&s->to[NB_SSNSRV_CLIENT].in, NB_SSN_MODE_RFC, 0);
  for (int i = 0; i < 2; i++) {
    s->to[i].last_tx = now;
  }
  return NB_OK;
}

/* ---- events ------------------------------------------------------------
 */

void nb_ssnsrv__emit(nb_ssnsrv_t *s, const nb_ssnsrv_event_t *ev) {
  /* Each kind is emitted at most once per side, so 8 slots never fill. */
  if (s->ev_len < NB_SSNSRV_MAX_EVENTS) {
    s->ev[(s->ev_head + s->ev_len) % NB_SSNSRV_MAX_EVENTS] = *ev;
    s->ev_len++;
  }
}

bool nb_ssnsrv_next_event(nb_ssnsrv_t *s, nb_ssnsrv_event_t *ev) {
  if (s->ev_len == 0) {
    return false;
  }
  *ev = s->ev[s->ev_head];
  s->ev_head = (s->ev_head + 1) % NB_SSNSRV_MAX_EVENTS;
  s->ev_len--;
  return true;
}

static void emit_kind(nb_ssnsrv_t *s, nb_ssnsrv_ev_kind_t kind) {
  nb_ssnsrv_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = kind;
  nb_ssnsrv__emit(s, &ev);
}

void nb_ssnsrv__close(nb_ssnsrv_t *s, nb_ssnsrv_end_t end, bool reset) {
  nb_ssnsrv_event_t ev;
  if (s->state == NB_SSNSRV_ST_CLOSED) {
    return;
  }
  s->state = NB_SSNSRV_ST_CLOSED;
  s->end = end;
  s->deadline = UINT64_MAX;
  nb_ssnsrv__drop(s, NB_SSNSRV_CLIENT);
  nb_ssnsrv__drop(s, NB_SSNSRV_BACKEND);
  memset(&ev, 0, sizeof ev);
  ev.kind = NB_SSNSRV_EV_CLOSE;
  ev.reset = reset;
  ev.end = end;
  nb_ssnsrv__emit(s, &ev);
}

void nb_ssnsrv__check_done(nb_ssnsrv_t *s) {
  if (s->state == NB_SSNSRV_ST_ESTABLISHED && s->to[NB_SSNSRV_CLIENT].shut &&
      s->to[NB_SSNSRV_BACKEND].shut) {
    nb_ssnsrv__close(s, NB_SSNSRV_END_NORMAL, false);
  }
}

/* ---- final responses ---------------------------------------------------
 */

/* Enter CLOSING with `pkt` queued for the client: the response is flushed,
 * then FIN, then the client's bytes are drained until its FIN. */
static void closing(nb_ssnsrv_t *s, const uint8_t *pkt, size_t len,
                    nb_ssnsrv_end_t end, uint64_t now) {
  s->state = NB_SSNSRV_ST_CLOSING;
  s->end = end;
  s->deadline = now + s->cfg->linger_ms;
  nb_ssnsrv__drop(s, NB_SSNSRV_BACKEND);
  nb_ssnsrv__drop(s, NB_SSNSRV_CLIENT);
  (void)nb_ssnsrv__ctl(s, NB_SSNSRV_CLIENT, pkt, len);
}

/* RFC 1002 4.3.4: NEGATIVE SESSION RESPONSE, then close. */
static void refuse(nb_ssnsrv_t *s, uint8_t code, nb_ssnsrv_end_t end,
                   uint64_t now) {
  uint8_t pkt[NB_SSN_HEADER_LEN + 1];
  nb_wr_t w;
  nb_ssnsrv_event_t ev;
  nb_wr_init(&w, pkt, sizeof pkt);
  nb_ssn_write_negative(&w,
                        nb_ssn_neg_known(code) ? code : NB_SSN_NEG_UNSPECIFIED);
  s->code = pkt[NB_SSN_HEADER_LEN];
  closing(s, pkt, w.len, end, now);
  memset(&ev, 0, sizeof ev);
  ev.kind = NB_SSNSRV_EV_REFUSED;
  ev.code = s->code;
  nb_ssnsrv__emit(s, &ev);
}

/* RFC 1002 4.3.5: RETARGET SESSION RESPONSE, then close. */
static void retarget(nb_ssnsrv_t *s, uint32_t addr, uint16_t port,
                     uint64_t now) {
  uint8_t pkt[NB_SSN_HEADER_LEN + NB_SSN_RETARGET_LEN];
  nb_wr_t w;
  nb_ssnsrv_event_t ev;
  nb_wr_init(&w, pkt, sizeof pkt);
  nb_ssn_write_retarget(&w, addr, port);
  closing(s, pkt, w.len, NB_SSNSRV_END_REFUSED, now);
  memset(&ev, 0, sizeof ev);
  ev.kind = NB_SSNSRV_EV_REFUSED;
  ev.addr = addr;
  ev.port = port;
  nb_ssnsrv__emit(s, &ev);
}

/* RFC 1002 4.3.3: POSITIVE SESSION RESPONSE; the pump starts, and client
 * bytes that arrived early (a pipelined negotiate) are framed now. */
static void establish(nb_ssnsrv_t *s, uint64_t now) {
  uint8_t pkt[NB_SSN_HEADER_LEN];
  nb_wr_t w;
  nb_wr_init(&w, pkt, sizeof pkt);
  nb_ssn_write_positive(&w);
  (void)nb_ssnsrv__ctl(s, NB_SSNSRV_CLIENT, pkt, w.len);
  s->state = NB_SSNSRV_ST_ESTABLISHED;
  s->deadline = UINT64_MAX;
  s->last_activity = now;
  s->to[NB_SSNSRV_CLIENT].last_tx = now;
  emit_kind(s, NB_SSNSRV_EV_ESTABLISHED);
  nb_ssnsrv__process(s, NB_SSNSRV_BACKEND, now);
  nb_ssnsrv__check_shut(s, NB_SSNSRV_BACKEND);
}

/* ---- the SESSION REQUEST -----------------------------------------------
 */

static bool own_name(const nb_ssnsrv_t *s, const nb_name_t *n) {
  for (size_t i = 0; i < s->cfg->n_own; i++) {
    if (nb_name_equal(&s->cfg->own[i], n)) {
      return true;
    }
  }
  return false;
}

/* Open the backend for a DIRECT or NBT route. */
static void connect_backend(nb_ssnsrv_t *s, const nb_ssnsrv_route_t *r,
                            uint64_t now) {
  nb_ssnsrv_event_t ev;
  nb_ssn_mode_t mode = r->action == NB_SSNSRV_ROUTE_DIRECT ? NB_SSN_MODE_DIRECT
                                                           : NB_SSN_MODE_RFC;
  s->route = r;
  (void)nb_ssn_framer_init(&s->to[NB_SSNSRV_CLIENT].in, mode, 0);
  s->state = NB_SSNSRV_ST_CONNECTING;
  s->deadline = now + s->cfg->connect_timeout_ms;
  memset(&ev, 0, sizeof ev);
  ev.kind = NB_SSNSRV_EV_CONNECT;
  ev.addr = r->addr;
  ev.port = r->port;
  nb_ssnsrv__emit(s, &ev);
}

/* RFC 1002 5.2: act on the called name. */
static void on_request(nb_ssnsrv_t *s, const nb_ssn_packet_t *p, uint64_t now) {
  const nb_ssnsrv_route_t *r =
      nb_ssnsrv_route_find(s->cfg->routes, s->cfg->n_routes, &p->called);
  s->called = p->called;
  s->calling = p->calling;
  if (r == NULL) {
    /* RFC 1002 4.3.4: 0x80 "Not listening on called name" for a name this
     * node owns without a listener, 0x82 "Called name not present" for
     * any other name. */
    refuse(s,
           own_name(s, &p->called) ? NB_SSN_NEG_NOT_LISTENING_CALLED
                                   : NB_SSN_NEG_CALLED_NOT_PRESENT,
           NB_SSNSRV_END_REFUSED, now);
  } else if (r->action == NB_SSNSRV_ROUTE_REJECT) {
    refuse(s, r->code, NB_SSNSRV_END_REFUSED, now);
  } else if (r->action == NB_SSNSRV_ROUTE_RETARGET) {
    retarget(s, r->addr, r->port, now);
  } else if (s->busy) {
    /* 0x83: "Called name present, but insufficient resources". */
    refuse(s, NB_SSN_NEG_INSUFFICIENT_RESOURCES, NB_SSNSRV_END_REFUSED, now);
  } else {
    connect_backend(s, r, now);
  }
}

/* The client's first bytes: only a SESSION REQUEST opens a session; KEEP
 * ALIVEs before it are ignored (RFC 1002 4.3.7 allows them at any time). */
static bool wait_request_frame(nb_ssnsrv_t *s, const nb_ssn_event_t *ev,
                               uint64_t now) {
  const nb_ssn_framer_t *f = &s->to[NB_SSNSRV_BACKEND].in;
  if (ev->kind == NB_SSN_EV_CONTROL &&
      ev->packet.type == NB_SSN_SESSION_KEEP_ALIVE) {
    s->c.keepalives_in++;
    return true;
  }
  if (ev->kind == NB_SSN_EV_CONTROL &&
      ev->packet.type == NB_SSN_SESSION_REQUEST) {
    on_request(s, &ev->packet, now);
    return false;
  }
  if (ev->kind == NB_SSN_EV_ERROR && f->pkt_len > 0 &&
      f->pkt[0] == NB_SSN_SESSION_REQUEST) {
    /* A malformed SESSION REQUEST: no called name to judge, so 0x8F
     * "Unspecified error" (Samba answers 0x82 here). */
    refuse(s, NB_SSN_NEG_UNSPECIFIED, NB_SSNSRV_END_CLIENT_PROTOCOL, now);
    return false;
  }
  /* A message, a response or garbage before any request: close. */
  nb_ssnsrv__close(s, NB_SSNSRV_END_CLIENT_PROTOCOL, false);
  return false;
}

/* An nbt backend's answer to the relayed request, relayed to the client
 * (RFC 1002 5.2: negative codes and retargets included). */
static bool nbt_response_frame(nb_ssnsrv_t *s, const nb_ssn_event_t *ev,
                               uint64_t now) {
  if (ev->kind != NB_SSN_EV_CONTROL) {
    refuse(s, NB_SSN_NEG_UNSPECIFIED, NB_SSNSRV_END_BACKEND_PROTOCOL, now);
    return false;
  }
  switch (ev->packet.type) {
  case NB_SSN_POSITIVE_SESSION_RESPONSE:
    establish(s, now);
    return true; /* the backend's next bytes are pumped */
  case NB_SSN_NEGATIVE_SESSION_RESPONSE:
    refuse(s, ev->packet.error_code, NB_SSNSRV_END_REFUSED, now);
    return false;
  case NB_SSN_RETARGET_SESSION_RESPONSE:
    retarget(s, ev->packet.retarget_addr, ev->packet.retarget_port, now);
    return false;
  case NB_SSN_SESSION_KEEP_ALIVE:
    s->c.keepalives_in++;
    return true;
  default:
    refuse(s, NB_SSN_NEG_UNSPECIFIED, NB_SSNSRV_END_BACKEND_PROTOCOL, now);
    return false;
  }
}

bool nb_ssnsrv__setup_frame(nb_ssnsrv_t *s, nb_ssnsrv_side_t to,
                            const nb_ssn_event_t *ev, uint64_t now) {
  if (s->state == NB_SSNSRV_ST_WAIT_REQUEST && to == NB_SSNSRV_BACKEND) {
    return wait_request_frame(s, ev, now);
  }
  if (s->state == NB_SSNSRV_ST_NBT_RESPONSE && to == NB_SSNSRV_CLIENT) {
    return nbt_response_frame(s, ev, now);
  }
  return false;
}

/* ---- what the shell reports --------------------------------------------
 */

/* RFC 1002 4.3.2: relay the request to an nbt backend, with the called
 * name rewritten when the route says `as NAME`. */
static void send_request(nb_ssnsrv_t *s, uint64_t now) {
  uint8_t pkt[NB_SSN_CONTROL_MAX];
  nb_wr_t w;
  size_t len = 0;
  const nb_name_t *called = s->route->rewrite ? &s->route->as : &s->called;
  nb_wr_init(&w, pkt, sizeof pkt);
  nb_ssn_write_request(&w, called, &s->calling);
  if (nb_wr_finish(&w, &len) != NB_OK) {
    refuse(s, NB_SSN_NEG_UNSPECIFIED, NB_SSNSRV_END_BACKEND_CONNECT, now);
    return;
  }
  (void)nb_ssnsrv__ctl(s, NB_SSNSRV_BACKEND, pkt, len);
  s->state = NB_SSNSRV_ST_NBT_RESPONSE;
  s->deadline = now + s->cfg->connect_timeout_ms;
  nb_ssnsrv__process(s, NB_SSNSRV_CLIENT, now);
}

void nb_ssnsrv_connected(nb_ssnsrv_t *s, nb_ssnsrv_conn_t result,
                         uint64_t now) {
  if (s->state != NB_SSNSRV_ST_CONNECTING) {
    return; /* late: the session already ended */
  }
  if (result == NB_SSNSRV_CONN_OK) {
    if (s->route->action == NB_SSNSRV_ROUTE_NBT) {
      send_request(s, now);
    } else {
      establish(s, now);
      nb_ssnsrv__process(s, NB_SSNSRV_CLIENT, now);
    }
    return;
  }
  /* Decision (docs/CONFORMANCE.md): a refused connect is 0x80 "Not
   * listening on called name"; anything else 0x8F "Unspecified error". */
  refuse(s,
         result == NB_SSNSRV_CONN_REFUSED ? NB_SSN_NEG_NOT_LISTENING_CALLED
                                          : NB_SSN_NEG_UNSPECIFIED,
         NB_SSNSRV_END_BACKEND_CONNECT, now);
}

void nb_ssnsrv_eof(nb_ssnsrv_t *s, nb_ssnsrv_side_t from, uint64_t now) {
  nb_ssnsrv_side_t to = nb_ssnsrv__other(from);
  switch (s->state) {
  case NB_SSNSRV_ST_ESTABLISHED:
    s->to[to].eof_in = true;
    nb_ssnsrv__process(s, to, now);
    nb_ssnsrv__check_shut(s, to);
    break;
  case NB_SSNSRV_ST_CLOSING:
    if (from == NB_SSNSRV_CLIENT) {
      nb_ssnsrv__close(s, s->end, false);
    }
    break;
  case NB_SSNSRV_ST_NBT_RESPONSE:
    if (from == NB_SSNSRV_BACKEND) {
      refuse(s, NB_SSN_NEG_UNSPECIFIED, NB_SSNSRV_END_BACKEND_PROTOCOL, now);
      break;
    }
    nb_ssnsrv__close(s, NB_SSNSRV_END_CLIENT_EOF, false);
    break;
  case NB_SSNSRV_ST_WAIT_REQUEST:
  case NB_SSNSRV_ST_CONNECTING:
    if (from == NB_SSNSRV_CLIENT) {
      nb_ssnsrv__close(s, NB_SSNSRV_END_CLIENT_EOF, false);
    }
    break;
  default:
    break;
  }
}

void nb_ssnsrv_reset(nb_ssnsrv_t *s, nb_ssnsrv_side_t side, uint64_t now) {
  if (s->state == NB_SSNSRV_ST_CLOSED) {
    return;
  }
  if (side == NB_SSNSRV_BACKEND) {
    if (s->state == NB_SSNSRV_ST_CONNECTING) {
      nb_ssnsrv_connected(s, NB_SSNSRV_CONN_FAILED, now);
      return;
    }
    if (s->state == NB_SSNSRV_ST_NBT_RESPONSE) {
      refuse(s, NB_SSN_NEG_UNSPECIFIED, NB_SSNSRV_END_BACKEND_RESET, now);
      return;
    }
    if (s->state == NB_SSNSRV_ST_CLOSING) {
      return; /* closed with the session */
    }
  }
  nb_ssnsrv__close(s,
                   side == NB_SSNSRV_CLIENT ? NB_SSNSRV_END_CLIENT_RESET
                                            : NB_SSNSRV_END_BACKEND_RESET,
                   true);
}

void nb_ssnsrv_abort(nb_ssnsrv_t *s, bool reset) {
  nb_ssnsrv__close(s, NB_SSNSRV_END_ABORTED, reset);
}

/* ---- timers ------------------------------------------------------------
 */

uint64_t nb_ssnsrv_next_deadline(const nb_ssnsrv_t *s) {
  uint64_t dl = s->deadline;
  if (s->state != NB_SSNSRV_ST_ESTABLISHED) {
    return s->state == NB_SSNSRV_ST_CLOSED ? UINT64_MAX : dl;
  }
  if (s->cfg->idle_timeout_ms > 0 &&
      s->last_activity + s->cfg->idle_timeout_ms < dl) {
    dl = s->last_activity + s->cfg->idle_timeout_ms;
  }
  if (s->cfg->keepalive_ms > 0 &&
      s->to[NB_SSNSRV_CLIENT].last_tx + s->cfg->keepalive_ms < dl) {
    dl = s->to[NB_SSNSRV_CLIENT].last_tx + s->cfg->keepalive_ms;
  }
  return dl;
}

/* RFC 1002 4.3.7: a KEEP ALIVE to a client we have sent nothing to for
 * keepalive_ms, only between messages and with nothing else queued. */
static void keepalive(nb_ssnsrv_t *s, uint64_t now) {
  static const uint8_t ka[NB_SSN_HEADER_LEN] = {NB_SSN_SESSION_KEEP_ALIVE, 0, 0,
                                                0};
  nb_ssnsrv_dir_t *d = &s->to[NB_SSNSRV_CLIENT];
  if (nb_ssnsrv_held(s, NB_SSNSRV_CLIENT) == 0 && !d->shut &&
      nb_ssn_framer_at_boundary(&d->in) &&
      nb_ssnsrv__ctl(s, NB_SSNSRV_CLIENT, ka, sizeof ka)) {
    s->c.keepalives_out++;
  }
  d->last_tx = now; /* sent, or nothing can be sent now: wait again */
}

static void state_timeout(nb_ssnsrv_t *s, uint64_t now) {
  switch (s->state) {
  case NB_SSNSRV_ST_WAIT_REQUEST:
    nb_ssnsrv__close(s, NB_SSNSRV_END_REQUEST_TIMEOUT, false);
    break;
  case NB_SSNSRV_ST_CONNECTING:
  case NB_SSNSRV_ST_NBT_RESPONSE:
    refuse(s, NB_SSN_NEG_UNSPECIFIED, NB_SSNSRV_END_BACKEND_CONNECT, now);
    break;
  case NB_SSNSRV_ST_CLOSING:
    nb_ssnsrv__close(s, NB_SSNSRV_END_LINGER_TIMEOUT, true);
    break;
  default:
    break;
  }
}

void nb_ssnsrv_on_timer(nb_ssnsrv_t *s, uint64_t now) {
  if (s->state == NB_SSNSRV_ST_CLOSED) {
    return;
  }
  if (s->deadline != UINT64_MAX && now >= s->deadline) {
    state_timeout(s, now);
    return;
  }
  if (s->state != NB_SSNSRV_ST_ESTABLISHED) {
    return;
  }
  if (s->cfg->idle_timeout_ms > 0 &&
      now >= s->last_activity + s->cfg->idle_timeout_ms) {
    nb_ssnsrv__close(s, NB_SSNSRV_END_IDLE_TIMEOUT, false);
    return;
  }
  if (s->cfg->keepalive_ms > 0 &&
      now >= s->to[NB_SSNSRV_CLIENT].last_tx + s->cfg->keepalive_ms) {
    keepalive(s, now);
  }
}

/* ---- inspection --------------------------------------------------------
 */

bool nb_ssnsrv_closed(const nb_ssnsrv_t *s) {
  return s->state == NB_SSNSRV_ST_CLOSED;
}

bool nb_ssnsrv_established(const nb_ssnsrv_t *s) {
  return s->state == NB_SSNSRV_ST_ESTABLISHED;
}

const char *nb_ssnsrv_state_name(const nb_ssnsrv_t *s) {
  static const char *const names[] = {"wait-request", "connecting",
                                      "nbt-response", "established",
                                      "closing",      "closed"};
  return (unsigned)s->state < sizeof names / sizeof names[0] ? names[s->state]
                                                             : "?";
}
