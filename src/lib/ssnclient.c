/* SPDX-License-Identifier: BSD-2-Clause */
/* The session client engine (nb/ssnclient.h).
 *
 * WARNING: parses untrusted network data: the server's answer and its
 * messages go through the session framer (nb/ssn.h); bodies are handed to
 * the caller as borrowed slices and never stored.
 *
 *     POSITIVE (0x82), NEGATIVE (0x83) and RETARGET (0x84) RESPONSES
 *     (RFC 1002 4.3.3-4.3.5)
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |      TYPE     |     FLAGS     |            LENGTH             |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |   ERROR_CODE  |  (NEGATIVE)
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                    RETARGET_IP_ADDRESS                        |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |           PORT                |  (RETARGET)
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ */
#include <string.h>

#include "nb/ssnclient.h"

enum { ST_CONNECTING = 0, ST_WAIT_RESPONSE, ST_OPEN, ST_CLOSED };

static const char *const why_strs[] = {
    "closed",
    "negative session response",
    "too many retargets",
    "timed out",
    "connect failed",
    "connection reset",
    "protocol error",
    "peer closed the connection",
    "aborted",
};

const char *nb_ssnclient_why_str(nb_ssnclient_why_t why) {
  return (unsigned)why < sizeof why_strs / sizeof why_strs[0] ? why_strs[why]
                                                              : "unknown";
}

void nb_ssnclient_config_init(nb_ssnclient_config_t *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->mode = NB_SSN_MODE_RFC;
  cfg->max_retargets = NB_SSNCLIENT_MAX_RETARGETS;
  cfg->connect_timeout_ms = NB_SSNCLIENT_CONNECT_TIMEOUT_MS;
}

static void emit(nb_ssnclient_t *c, const nb_ssnclient_event_t *ev) {
  if (c->ev_len < NB_SSNCLIENT_MAX_EVENTS) {
    c->ev[(c->ev_head + c->ev_len) % NB_SSNCLIENT_MAX_EVENTS] = *ev;
    c->ev_len++;
  }
}

bool nb_ssnclient_next_event(nb_ssnclient_t *c, nb_ssnclient_event_t *ev) {
  if (c->ev_len == 0) {
    return false;
  }
  *ev = c->ev[c->ev_head];
  c->ev_head = (c->ev_head + 1) % NB_SSNCLIENT_MAX_EVENTS;
  c->ev_len--;
  return true;
}

static void close_with(nb_ssnclient_t *c, nb_ssnclient_why_t why, uint8_t code,
                       const nb_diag_t *diag) {
  nb_ssnclient_event_t ev;
  if (c->state == ST_CLOSED) {
    return;
  }
  c->state = ST_CLOSED;
  c->deadline = UINT64_MAX;
  c->ctl_len = c->ctl_sent = 0;
  c->sent = c->len = c->lent = 0;
  memset(&ev, 0, sizeof ev);
  ev.kind = NB_SSNCLIENT_EV_CLOSED;
  ev.why = why;
  ev.code = code;
  if (diag != NULL) {
    ev.diag = *diag;
  }
  emit(c, &ev);
}

/* A (new) TCP connection: RFC 1002 5.2.1 (hop 0) or a retarget. */
static void start_connect(nb_ssnclient_t *c, uint32_t addr, uint16_t port,
                          uint64_t now) {
  nb_ssnclient_event_t ev;
  c->state = ST_CONNECTING;
  c->deadline = now + c->cfg.connect_timeout_ms;
  c->ctl_len = c->ctl_sent = 0;
  (void)nb_ssn_framer_init(&c->in, c->cfg.mode, 0);
  memset(&ev, 0, sizeof ev);
  ev.kind = NB_SSNCLIENT_EV_CONNECT;
  ev.addr = addr;
  ev.port = port;
  ev.hop = c->hops;
  emit(c, &ev);
}

nb_err_t nb_ssnclient_init(nb_ssnclient_t *c, const nb_ssnclient_config_t *cfg,
                           uint32_t addr, uint16_t port, uint8_t *out,
                           size_t out_cap, uint64_t now) {
  if (c == NULL || cfg == NULL || out == NULL || out_cap < 64 ||
      (cfg->mode != NB_SSN_MODE_RFC && cfg->mode != NB_SSN_MODE_DIRECT)) {
    return NB_EINVAL;
  }
  memset(c, 0, sizeof *c);
  c->cfg = *cfg;
  c->buf = out;
  c->cap = out_cap;
  c->wmode = cfg->mode;
  start_connect(c, addr, port, now);
  return NB_OK;
}

static void open_session(nb_ssnclient_t *c, uint64_t now) {
  nb_ssnclient_event_t ev;
  c->state = ST_OPEN;
  c->deadline = UINT64_MAX;
  c->last_tx = now;
  memset(&ev, 0, sizeof ev);
  ev.kind = NB_SSNCLIENT_EV_OPEN;
  emit(c, &ev);
}

void nb_ssnclient_connected(nb_ssnclient_t *c, bool ok, uint64_t now) {
  nb_wr_t w;
  if (c->state != ST_CONNECTING) {
    return;
  }
  if (!ok) {
    close_with(c, NB_SSNCLIENT_WHY_CONNECT, 0, NULL);
    return;
  }
  if (c->cfg.mode == NB_SSN_MODE_DIRECT) {
    open_session(c, now); /* TCP 445: no session request */
    return;
  }
  /* RFC 1002 4.3.2: the SESSION REQUEST, then wait for the answer. */
  nb_wr_init(&w, c->ctl, sizeof c->ctl);
  nb_ssn_write_request(&w, &c->cfg.called, &c->cfg.calling);
  if (nb_wr_finish(&w, &c->ctl_len) != NB_OK) {
    close_with(c, NB_SSNCLIENT_WHY_PROTOCOL, 0, NULL);
    return;
  }
  c->ctl_sent = 0;
  c->state = ST_WAIT_RESPONSE;
}

/* RFC 1001 16.1.1.1 / RFC 1002 5.2: a retarget names the address and port
 * to call instead, with the same names. */
static void on_retarget(nb_ssnclient_t *c, const nb_ssn_packet_t *p,
                        uint64_t now) {
  if (c->hops >= c->cfg.max_retargets) {
    close_with(c, NB_SSNCLIENT_WHY_RETARGETS, 0, NULL);
    return;
  }
  c->hops++;
  start_connect(c, p->retarget_addr, p->retarget_port, now);
}

/* A control packet: the answer while WAIT_RESPONSE, a keep-alive any
 * time; anything else is a protocol error. False: stop consuming. */
static bool on_control(nb_ssnclient_t *c, const nb_ssn_packet_t *p,
                       uint64_t now) {
  if (p->type == NB_SSN_SESSION_KEEP_ALIVE) {
    c->keepalives_in++;
    return true;
  }
  if (c->state == ST_WAIT_RESPONSE) {
    switch (p->type) {
    case NB_SSN_POSITIVE_SESSION_RESPONSE:
      open_session(c, now);
      return true;
    case NB_SSN_NEGATIVE_SESSION_RESPONSE:
      close_with(c, NB_SSNCLIENT_WHY_NEGATIVE, p->error_code, NULL);
      return false;
    case NB_SSN_RETARGET_SESSION_RESPONSE:
      on_retarget(c, p, now);
      return false; /* the rest belongs to the old connection */
    default:
      break;
    }
  }
  nb_diag_t d = {NB_EMALFORMED, 0, "unexpected control packet"};
  close_with(c, NB_SSNCLIENT_WHY_PROTOCOL, 0, &d);
  return false;
}

nb_err_t nb_ssnclient_recv(nb_ssnclient_t *c, const uint8_t *data, size_t len,
                           size_t *consumed, nb_ssnclient_event_t *ev,
                           uint64_t now) {
  size_t used = 0;
  memset(ev, 0, sizeof *ev);
  *consumed = 0;
  while (!c->paused && (c->state == ST_WAIT_RESPONSE || c->state == ST_OPEN)) {
    nb_ssn_event_t fe;
    size_t n = 0;
    (void)nb_ssn_framer_feed(&c->in, data != NULL ? data + used : NULL,
                             len - used, &n, &fe);
    used += n;
    if (fe.kind == NB_SSN_EV_NEED_MORE) {
      break;
    }
    if (fe.kind == NB_SSN_EV_ERROR) {
      close_with(c, NB_SSNCLIENT_WHY_PROTOCOL, 0, &fe.diag);
      break;
    }
    if (fe.kind == NB_SSN_EV_CONTROL) {
      if (!on_control(c, &fe.packet, now)) {
        break;
      }
      continue;
    }
    if (c->state != ST_OPEN) {
      nb_diag_t d = {NB_EMALFORMED, (size_t)fe.offset,
                     "message before the session response"};
      close_with(c, NB_SSNCLIENT_WHY_PROTOCOL, 0, &d);
      break;
    }
    ev->kind = fe.kind == NB_SSN_EV_MSG_BEGIN  ? NB_SSNCLIENT_EV_MSG_BEGIN
               : fe.kind == NB_SSN_EV_MSG_DATA ? NB_SSNCLIENT_EV_MSG_DATA
                                               : NB_SSNCLIENT_EV_MSG_END;
    ev->length = fe.length;
    ev->data = fe.data;
    break;
  }
  *consumed = used;
  return NB_OK;
}

void nb_ssnclient_eof(nb_ssnclient_t *c, uint64_t now) {
  (void)now;
  if (c->state == ST_OPEN && c->shut && nb_ssn_framer_at_boundary(&c->in)) {
    close_with(c, NB_SSNCLIENT_WHY_NORMAL, 0, NULL);
    return;
  }
  close_with(c, NB_SSNCLIENT_WHY_EOF, 0, NULL);
}

void nb_ssnclient_reset(nb_ssnclient_t *c, uint64_t now) {
  (void)now;
  close_with(c,
             c->state == ST_CONNECTING ? NB_SSNCLIENT_WHY_CONNECT
                                       : NB_SSNCLIENT_WHY_RESET,
             0, NULL);
}

void nb_ssnclient_abort(nb_ssnclient_t *c) {
  close_with(c, NB_SSNCLIENT_WHY_ABORTED, 0, NULL);
}

/* ---- writing -----------------------------------------------------------
 */

uint32_t nb_ssnclient_max_message(const nb_ssnclient_t *c) {
  return c->wmode == NB_SSN_MODE_DIRECT ? NB_SSNCLIENT_MAX_MESSAGE_DIRECT
                                        : NB_SSNCLIENT_MAX_MESSAGE_RFC;
}

size_t nb_ssnclient_writable(nb_ssnclient_t *c) {
  if (c->sent > 0 && c->lent <= c->sent) {
    memmove(c->buf, c->buf + c->sent, c->len - c->sent);
    c->len -= c->sent;
    c->sent = c->lent = 0;
  }
  return c->cap - c->len;
}

static nb_err_t may_begin(nb_ssnclient_t *c, size_t len) {
  if (c->state != ST_OPEN || c->ending || c->in_msg) {
    return NB_ESTATE;
  }
  if (len > nb_ssnclient_max_message(c)) {
    return NB_ELIMIT;
  }
  return NB_OK;
}

static void put_header(nb_ssnclient_t *c, uint32_t len) {
  nb_wr_t w;
  nb_wr_init(&w, c->buf + c->len, NB_SSN_HEADER_LEN);
  /* RFC 1002 4.3.1 (E = the 17th bit), or the 24-bit direct header. */
  nb_ssn_write_msg_header(&w, c->wmode, len);
  c->len += NB_SSN_HEADER_LEN;
}

nb_err_t nb_ssnclient_send(nb_ssnclient_t *c, const void *msg, size_t len,
                           uint64_t now) {
  nb_err_t err = may_begin(c, len);
  (void)now;
  if (err != NB_OK) {
    return err;
  }
  if (nb_ssnclient_writable(c) < NB_SSN_HEADER_LEN + len) {
    return NB_ENOSPC;
  }
  put_header(c, (uint32_t)len);
  if (len > 0) {
    memcpy(c->buf + c->len, msg, len);
  }
  c->len += len;
  return NB_OK;
}

nb_err_t nb_ssnclient_msg_begin(nb_ssnclient_t *c, uint32_t len) {
  nb_err_t err = may_begin(c, len);
  if (err != NB_OK) {
    return err;
  }
  if (nb_ssnclient_writable(c) < NB_SSN_HEADER_LEN) {
    return NB_ENOSPC;
  }
  put_header(c, len);
  c->msg_left = len;
  c->in_msg = len > 0;
  return NB_OK;
}

size_t nb_ssnclient_msg_write(nb_ssnclient_t *c, const void *data, size_t n) {
  if (c->state != ST_OPEN || !c->in_msg) {
    return 0;
  }
  size_t room = nb_ssnclient_writable(c);
  n = n < c->msg_left ? n : c->msg_left;
  n = n < room ? n : room;
  memcpy(c->buf + c->len, data, n);
  c->len += n;
  c->msg_left -= (uint32_t)n;
  c->in_msg = c->msg_left > 0;
  return n;
}

nb_err_t nb_ssnclient_set_mode(nb_ssnclient_t *c, nb_ssn_mode_t mode) {
  if (c->in_msg) {
    return NB_ESTATE;
  }
  nb_err_t err = nb_ssn_framer_set_mode(&c->in, mode);
  if (err == NB_OK) {
    c->wmode = mode;
  }
  return err;
}

static void check_shut(nb_ssnclient_t *c) {
  nb_ssnclient_event_t ev;
  if (c->state != ST_OPEN || !c->ending || c->shut || c->in_msg ||
      c->ctl_len != 0 || c->len != c->sent) {
    return;
  }
  c->shut = true;
  memset(&ev, 0, sizeof ev);
  ev.kind = NB_SSNCLIENT_EV_SHUTDOWN;
  emit(c, &ev);
}

void nb_ssnclient_end(nb_ssnclient_t *c, uint64_t now) {
  (void)now;
  c->ending = true;
  check_shut(c);
}

size_t nb_ssnclient_pending(nb_ssnclient_t *c, const uint8_t **p) {
  *p = NULL;
  if (c->state == ST_CLOSED || c->state == ST_CONNECTING) {
    return 0;
  }
  if (c->ctl_sent < c->ctl_len) {
    *p = c->ctl + c->ctl_sent;
    return c->ctl_len - c->ctl_sent;
  }
  if (c->state != ST_OPEN || c->sent == c->len) {
    return 0;
  }
  *p = c->buf + c->sent;
  c->lent = c->len;
  return c->len - c->sent;
}

void nb_ssnclient_advance(nb_ssnclient_t *c, size_t n, uint64_t now) {
  size_t k = c->ctl_len - c->ctl_sent;
  if (c->state == ST_CLOSED || n == 0) {
    return;
  }
  k = n < k ? n : k;
  c->ctl_sent += k;
  n -= k;
  if (c->ctl_sent == c->ctl_len) {
    c->ctl_len = c->ctl_sent = 0;
  }
  n = n < c->len - c->sent ? n : c->len - c->sent;
  c->sent += n;
  if (c->lent < c->sent) {
    c->lent = c->sent;
  }
  if (c->sent == c->len) {
    c->sent = c->len = c->lent = 0;
  }
  c->last_tx = now;
  check_shut(c);
}

/* ---- reading and time --------------------------------------------------
 */

void nb_ssnclient_pause(nb_ssnclient_t *c) { c->paused = true; }

void nb_ssnclient_resume(nb_ssnclient_t *c) { c->paused = false; }

bool nb_ssnclient_want_read(const nb_ssnclient_t *c) {
  return !c->paused && (c->state == ST_WAIT_RESPONSE || c->state == ST_OPEN);
}

uint64_t nb_ssnclient_next_deadline(const nb_ssnclient_t *c) {
  if (c->state == ST_OPEN && c->cfg.keepalive_ms > 0 && !c->shut) {
    return c->last_tx + c->cfg.keepalive_ms;
  }
  return c->deadline;
}

void nb_ssnclient_on_timer(nb_ssnclient_t *c, uint64_t now) {
  static const uint8_t ka[NB_SSN_HEADER_LEN] = {NB_SSN_SESSION_KEEP_ALIVE, 0, 0,
                                                0};
  if (c->state == ST_CONNECTING || c->state == ST_WAIT_RESPONSE) {
    if (now >= c->deadline) {
      close_with(c, NB_SSNCLIENT_WHY_TIMEOUT, 0, NULL);
    }
    return;
  }
  if (c->state != ST_OPEN || c->cfg.keepalive_ms == 0 || c->shut ||
      now < c->last_tx + c->cfg.keepalive_ms) {
    return;
  }
  /* RFC 1002 4.3.7: only between messages, with nothing else queued. */
  if (!c->in_msg && c->ctl_len == 0 && c->len == c->sent) {
    memcpy(c->ctl, ka, sizeof ka);
    c->ctl_len = sizeof ka;
    c->ctl_sent = 0;
    c->keepalives_out++;
  }
  c->last_tx = now;
}

bool nb_ssnclient_is_open(const nb_ssnclient_t *c) {
  return c->state == ST_OPEN;
}

bool nb_ssnclient_is_connecting(const nb_ssnclient_t *c) {
  return c->state == ST_CONNECTING;
}

bool nb_ssnclient_is_closed(const nb_ssnclient_t *c) {
  return c->state == ST_CLOSED;
}
