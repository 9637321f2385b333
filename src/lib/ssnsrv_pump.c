/* SPDX-License-Identifier: BSD-2-Clause */
/* The forwarder pump (nb/ssnsrv.h): per-direction buffers, framing in
 * place, flow control.
 *
 * WARNING: parses untrusted network data: every byte from the client and
 * the backend goes through the session framer (nb/ssn.h) here. Bodies are
 * never inspected except the first four bytes of the backend's first
 * message (the SMB protocol id). Buffers are caller memory of fixed size;
 * nothing allocates.
 *
 * One direction's buffer (bytes flowing TO a side):
 *
 *     0      sent        out_end       filt          in_end        cap
 *     |------|===========|.............|~~~~~~~~~~~~~|-------------|
 *      written  framed,    consumed by   read, not     free: the next
 *               to write   the framer,   framed yet    read goes here
 *                          cut out
 *
 * The framer walks [filt, in_end). A message header is rewritten at
 * out_end (4 bytes for 4: the 17-bit RFC header of a message up to
 * 0x1FFFF bytes is byte-identical to the 24-bit direct header), a body
 * chunk is moved down to out_end (a no-op unless a control packet was cut
 * out before it), a control packet is consumed and not copied. So
 * out_end + (header bytes the framer holds) <= filt always, and output
 * never overtakes input. The region handed out by pending() ("lent") is
 * never moved until advance() covers it.
 *
 *     SESSION MESSAGE (RFC 1002 4.3.6)
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |      TYPE     |     FLAGS     |            LENGTH             |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                                                               |
 *    /                           USER_DATA                           /
 *    |                                                               |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ */
#include <string.h>

#include "ssnsrv_int.h"

/* Header bytes the framer holds of a packet not yet identified: they
 * will be rewritten in place, so the buffer keeps room for them. */
static size_t reserve(const nb_ssnsrv_dir_t *d) {
  return d->in.pkt_len < NB_SSN_HEADER_LEN ? d->in.pkt_len : 0;
}

static size_t data_held(const nb_ssnsrv_dir_t *d) {
  return (d->out_end - d->sent) + (d->in_end - d->filt);
}

size_t nb_ssnsrv_held(const nb_ssnsrv_t *s, nb_ssnsrv_side_t to) {
  const nb_ssnsrv_dir_t *d = &s->to[to];
  return data_held(d) + (d->ctl_len - d->ctl_sent);
}

/* Move what the buffer holds to its start (never a lent region). */
static void compact(nb_ssnsrv_dir_t *d) {
  size_t out = d->out_end - d->sent;
  size_t in = d->in_end - d->filt;
  size_t res = reserve(d);
  if (d->lent > d->sent || d->buf == NULL) {
    return;
  }
  if (out > 0 && d->sent > 0) {
    memmove(d->buf, d->buf + d->sent, out);
  }
  if (in > 0 && d->filt != out + res) {
    memmove(d->buf + out + res, d->buf + d->filt, in);
  }
  d->sent = 0;
  d->lent = 0;
  d->out_end = out;
  d->filt = out + res;
  d->in_end = out + res + in;
}

void nb_ssnsrv__drop(nb_ssnsrv_t *s, nb_ssnsrv_side_t to) {
  nb_ssnsrv_dir_t *d = &s->to[to];
  d->sent = d->out_end = d->lent = 0;
  d->filt = d->in_end = reserve(d);
  d->ctl_len = d->ctl_sent = 0;
}

bool nb_ssnsrv__ctl(nb_ssnsrv_t *s, nb_ssnsrv_side_t to, const uint8_t *p,
                    size_t len) {
  nb_ssnsrv_dir_t *d = &s->to[to];
  if (d->ctl_len != 0 || len > sizeof d->ctl) {
    return false;
  }
  memcpy(d->ctl, p, len);
  d->ctl_len = len;
  d->ctl_sent = 0;
  return true;
}

/* ---- buffers -----------------------------------------------------------
 */

void nb_ssnsrv_attach(nb_ssnsrv_t *s, nb_ssnsrv_side_t to, uint8_t *mem,
                      size_t cap) {
  nb_ssnsrv_dir_t *d = &s->to[to];
  if (d->buf != NULL || mem == NULL || cap < NB_SSN_CONTROL_MAX) {
    return;
  }
  d->buf = mem;
  d->cap = cap;
  d->sent = d->out_end = d->lent = 0;
  d->filt = d->in_end = reserve(d);
}

bool nb_ssnsrv_has_buf(const nb_ssnsrv_t *s, nb_ssnsrv_side_t to) {
  return s->to[to].buf != NULL;
}

uint8_t *nb_ssnsrv_detach(nb_ssnsrv_t *s, nb_ssnsrv_side_t to) {
  nb_ssnsrv_dir_t *d = &s->to[to];
  uint8_t *mem = d->buf;
  if (mem == NULL || data_held(d) != 0 || d->lent > d->sent) {
    return NULL;
  }
  d->buf = NULL;
  d->cap = 0;
  d->sent = d->out_end = d->lent = d->filt = d->in_end = 0;
  return mem;
}

uint8_t *nb_ssnsrv_read_buf(nb_ssnsrv_t *s, nb_ssnsrv_side_t from,
                            size_t *cap) {
  nb_ssnsrv_dir_t *d = &s->to[nb_ssnsrv__other(from)];
  *cap = 0;
  if (d->buf == NULL || s->state == NB_SSNSRV_ST_CLOSED) {
    return NULL;
  }
  if (data_held(d) == 0 || d->cap - d->in_end < d->cap / 4) {
    compact(d); /* no-op while a lent region is in flight */
  }
  *cap = d->cap - d->in_end;
  return *cap > 0 ? d->buf + d->in_end : NULL;
}

void nb_ssnsrv__flow(nb_ssnsrv_t *s, nb_ssnsrv_side_t to) {
  nb_ssnsrv_dir_t *d = &s->to[to];
  size_t held = data_held(d);
  if (!d->stopped && held >= s->cfg->buf_high) {
    d->stopped = true;
    s->c.read_stops++;
  } else if (d->stopped && held <= s->cfg->buf_low) {
    d->stopped = false;
  }
}

void nb_ssnsrv_read_done(nb_ssnsrv_t *s, nb_ssnsrv_side_t from, size_t n,
                         uint64_t now) {
  nb_ssnsrv_side_t to = nb_ssnsrv__other(from);
  nb_ssnsrv_dir_t *d = &s->to[to];
  if (n == 0 || d->buf == NULL || s->state == NB_SSNSRV_ST_CLOSED ||
      s->state == NB_SSNSRV_ST_CLOSING || d->eof_in) {
    return; /* CLOSING drains and drops what the peer still sends */
  }
  if (n > d->cap - d->in_end) {
    n = d->cap - d->in_end; /* API misuse: never past the buffer */
  }
  d->in_end += n;
  nb_ssnsrv__process(s, to, now);
  nb_ssnsrv__flow(s, to);
}

void nb_ssnsrv_recv(nb_ssnsrv_t *s, nb_ssnsrv_side_t from, const uint8_t *data,
                    size_t len, size_t *taken, uint64_t now) {
  size_t cap = 0;
  uint8_t *dst = nb_ssnsrv_read_buf(s, from, &cap);
  size_t n = len < cap ? len : cap;
  *taken = 0;
  if (dst == NULL || n == 0) {
    return;
  }
  memcpy(dst, data, n);
  *taken = n;
  nb_ssnsrv_read_done(s, from, n, now);
}

/* ---- framing -----------------------------------------------------------
 */

static bool is_smb(const uint8_t id[4]) {
  /* [MS-SMB] 2.2.3.1 0xFF 'SMB', [MS-SMB2] 2.2.1 0xFE 'SMB'. */
  return (id[0] == 0xFF || id[0] == 0xFE) && id[1] == 'S' && id[2] == 'M' &&
         id[3] == 'B';
}

/* 24-bit lengths from now on, as smbd on 139 after negotiate
 * (docs/CONFORMANCE.md, "large messages to a 139 client"). */
static void enter_ext(nb_ssnsrv_t *s) {
  nb_ssn_framer_t *cf = &s->to[NB_SSNSRV_BACKEND].in;
  s->ext = true;
  if (s->route != NULL && s->route->action == NB_SSNSRV_ROUTE_NBT) {
    (void)nb_ssn_framer_set_mode(&s->to[NB_SSNSRV_CLIENT].in,
                                 NB_SSN_MODE_DIRECT);
  }
  s->ext_client_pending =
      nb_ssn_framer_set_mode(cf, NB_SSN_MODE_DIRECT) != NB_OK;
}

static void client_boundary(nb_ssnsrv_t *s) {
  if (s->ext_client_pending &&
      nb_ssn_framer_set_mode(&s->to[NB_SSNSRV_BACKEND].in,
                             NB_SSN_MODE_DIRECT) == NB_OK) {
    s->ext_client_pending = false;
  }
}

static bool on_begin(nb_ssnsrv_t *s, nb_ssnsrv_side_t to,
                     const nb_ssn_event_t *ev, uint64_t now) {
  nb_ssnsrv_dir_t *d = &s->to[to];
  nb_wr_t w;
  if (to == NB_SSNSRV_CLIENT && ev->length > NB_SSN_RFC_MAX && !s->ext) {
    nb_ssnsrv__close(s, NB_SSNSRV_END_BACKEND_OVERSIZE, true);
    return false;
  }
  /* RFC 1002 4.3.1 header, or the 24-bit one for a longer message. */
  nb_wr_init(&w, d->buf + d->out_end, NB_SSN_HEADER_LEN);
  nb_ssn_write_msg_header(
      &w, ev->length > NB_SSN_RFC_MAX ? NB_SSN_MODE_DIRECT : NB_SSN_MODE_RFC,
      ev->length);
  d->out_end += NB_SSN_HEADER_LEN;
  s->c.msgs[to]++;
  if (to == NB_SSNSRV_CLIENT && ev->length > NB_SSN_RFC_MAX) {
    s->c.big_msgs++;
  }
  s->last_activity = now;
  return true;
}

static void on_data(nb_ssnsrv_t *s, nb_ssnsrv_side_t to,
                    const nb_ssn_event_t *ev, uint64_t now) {
  nb_ssnsrv_dir_t *d = &s->to[to];
  if (d->buf + d->out_end != ev->data) {
    memmove(d->buf + d->out_end, ev->data, ev->length);
  }
  if (to == NB_SSNSRV_CLIENT && !s->first_done) {
    for (uint32_t i = 0; i < ev->length && s->sniff_len < 4; i++) {
      s->sniff[s->sniff_len++] = ev->data[i];
    }
  }
  d->out_end += ev->length;
  s->last_activity = now;
}

static void on_end(nb_ssnsrv_t *s, nb_ssnsrv_side_t to) {
  if (to == NB_SSNSRV_CLIENT && !s->first_done) {
    s->first_done = true;
    if (s->sniff_len == 4 && is_smb(s->sniff)) {
      enter_ext(s);
    }
  }
  if (to == NB_SSNSRV_BACKEND) {
    client_boundary(s);
  }
}

/* One framer event while ESTABLISHED. False: stop (the session ended). */
static bool pump_frame(nb_ssnsrv_t *s, nb_ssnsrv_side_t to,
                       const nb_ssn_event_t *ev, uint64_t now) {
  nb_ssnsrv_end_t proto = to == NB_SSNSRV_BACKEND
                              ? NB_SSNSRV_END_CLIENT_PROTOCOL
                              : NB_SSNSRV_END_BACKEND_PROTOCOL;
  switch (ev->kind) {
  case NB_SSN_EV_MSG_BEGIN:
    return on_begin(s, to, ev, now);
  case NB_SSN_EV_MSG_DATA:
    on_data(s, to, ev, now);
    return true;
  case NB_SSN_EV_MSG_END:
    on_end(s, to);
    return true;
  case NB_SSN_EV_CONTROL:
    if (ev->packet.type == NB_SSN_SESSION_KEEP_ALIVE) {
      /* Handled here, never forwarded: smbd on 445 drops a connection
       * that sends one before negotiate (RFC 1002 4.3.7: hop by hop). */
      s->c.keepalives_in++;
      if (to == NB_SSNSRV_BACKEND) {
        client_boundary(s);
      }
      return true;
    }
    nb_ssnsrv__close(s, proto, true); /* a second request, a response */
    return false;
  default:
    nb_ssnsrv__close(s, proto, true); /* framing error */
    return false;
  }
}

static bool may_frame(const nb_ssnsrv_t *s, nb_ssnsrv_side_t to) {
  switch (s->state) {
  case NB_SSNSRV_ST_WAIT_REQUEST:
    return to == NB_SSNSRV_BACKEND;
  case NB_SSNSRV_ST_NBT_RESPONSE:
    return to == NB_SSNSRV_CLIENT;
  case NB_SSNSRV_ST_ESTABLISHED:
    return true;
  default:
    return false;
  }
}

void nb_ssnsrv__process(nb_ssnsrv_t *s, nb_ssnsrv_side_t to, uint64_t now) {
  nb_ssnsrv_dir_t *d = &s->to[to];
  while (may_frame(s, to)) {
    size_t used = 0;
    nb_ssn_event_t ev;
    const uint8_t *in = d->buf != NULL ? d->buf + d->filt : NULL;
    (void)nb_ssn_framer_feed(&d->in, in, d->in_end - d->filt, &used, &ev);
    d->filt += used;
    if (ev.kind == NB_SSN_EV_NEED_MORE) {
      break;
    }
    bool more = s->state == NB_SSNSRV_ST_ESTABLISHED
                    ? pump_frame(s, to, &ev, now)
                    : nb_ssnsrv__setup_frame(s, to, &ev, now);
    if (!more || ev.kind == NB_SSN_EV_ERROR) {
      break;
    }
  }
  if (s->state != NB_SSNSRV_ST_CLOSED && data_held(d) == 0) {
    compact(d); /* nothing held: start over at the front */
  }
}

/* ---- zero copy ---------------------------------------------------------
 */

size_t nb_ssnsrv_passthrough(const nb_ssnsrv_t *s, nb_ssnsrv_side_t from) {
  nb_ssnsrv_side_t to = nb_ssnsrv__other(from);
  const nb_ssnsrv_dir_t *d = &s->to[to];
  if (s->state != NB_SSNSRV_ST_ESTABLISHED || d->eof_in || d->stopped ||
      nb_ssnsrv_held(s, to) != 0 || d->in.msg_left == 0 ||
      nb_ssn_framer_at_boundary(&d->in)) {
    return 0;
  }
  if (to == NB_SSNSRV_CLIENT && !s->first_done && s->sniff_len < 4) {
    return 0; /* the protocol id decides the framing (enter_ext) */
  }
  return d->in.msg_left;
}

void nb_ssnsrv_passed(nb_ssnsrv_t *s, nb_ssnsrv_side_t from, size_t n,
                      uint64_t now) {
  /* The framer never reads body bytes: it is told how many passed by
   * feeding it a scratch buffer it only hands back slices of. */
  static const uint8_t scratch[4096];
  nb_ssnsrv_side_t to = nb_ssnsrv__other(from);
  nb_ssnsrv_dir_t *d = &s->to[to];
  size_t max = nb_ssnsrv_passthrough(s, from);
  n = n < max ? n : max;
  while (n > 0) {
    size_t used = 0;
    nb_ssn_event_t ev;
    (void)nb_ssn_framer_feed(
        &d->in, scratch, n < sizeof scratch ? n : sizeof scratch, &used, &ev);
    if (ev.kind != NB_SSN_EV_MSG_DATA || used == 0) {
      break; /* cannot happen inside a body */
    }
    n -= used;
    s->c.bytes[to] += used;
  }
  s->last_activity = now;
  d->last_tx = now;
  nb_ssnsrv__process(s, to, now); /* MSG_END when the body is complete */
  nb_ssnsrv__check_shut(s, to);
}

/* ---- output ------------------------------------------------------------
 */

size_t nb_ssnsrv_pending(nb_ssnsrv_t *s, nb_ssnsrv_side_t to,
                         const uint8_t **p) {
  nb_ssnsrv_dir_t *d = &s->to[to];
  *p = NULL;
  if (s->state == NB_SSNSRV_ST_CLOSED) {
    return 0;
  }
  if (d->ctl_sent < d->ctl_len) {
    *p = d->ctl + d->ctl_sent;
    return d->ctl_len - d->ctl_sent;
  }
  if (d->buf == NULL || d->sent == d->out_end) {
    return 0;
  }
  *p = d->buf + d->sent;
  d->lent = d->out_end;
  return d->out_end - d->sent;
}

void nb_ssnsrv__check_shut(nb_ssnsrv_t *s, nb_ssnsrv_side_t to) {
  nb_ssnsrv_dir_t *d = &s->to[to];
  nb_ssnsrv_event_t ev;
  if (s->state != NB_SSNSRV_ST_ESTABLISHED || !d->eof_in || d->shut ||
      nb_ssnsrv_held(s, to) != 0) {
    return;
  }
  /* The source ended (mid-message or not: the sink sees the same prefix
   * it would have seen without us) and everything was written. */
  d->shut = true;
  memset(&ev, 0, sizeof ev);
  ev.kind = NB_SSNSRV_EV_SHUTDOWN;
  ev.side = to;
  nb_ssnsrv__emit(s, &ev);
  nb_ssnsrv__check_done(s);
}

/* CLOSING: the final response is out; FIN the client and drain it. */
static void closing_sent(nb_ssnsrv_t *s) {
  nb_ssnsrv_dir_t *d = &s->to[NB_SSNSRV_CLIENT];
  nb_ssnsrv_event_t ev;
  if (s->state != NB_SSNSRV_ST_CLOSING || d->shut ||
      d->ctl_len != d->ctl_sent) {
    return;
  }
  d->shut = true;
  memset(&ev, 0, sizeof ev);
  ev.kind = NB_SSNSRV_EV_SHUTDOWN;
  ev.side = NB_SSNSRV_CLIENT;
  nb_ssnsrv__emit(s, &ev);
}

void nb_ssnsrv_advance(nb_ssnsrv_t *s, nb_ssnsrv_side_t to, size_t n,
                       uint64_t now) {
  nb_ssnsrv_dir_t *d = &s->to[to];
  size_t k = d->ctl_len - d->ctl_sent;
  if (s->state == NB_SSNSRV_ST_CLOSED || n == 0) {
    return;
  }
  k = n < k ? n : k;
  d->ctl_sent += k;
  n -= k;
  if (d->ctl_sent == d->ctl_len) {
    d->ctl_len = d->ctl_sent = 0;
  }
  if (n > d->out_end - d->sent) {
    n = d->out_end - d->sent; /* API misuse: never past what is held */
  }
  d->sent += n;
  s->c.bytes[to] += n;
  if (d->lent < d->sent) {
    d->lent = d->sent;
  }
  d->last_tx = now;
  if (data_held(d) == 0) {
    compact(d);
  }
  nb_ssnsrv__flow(s, to);
  closing_sent(s);
  nb_ssnsrv__check_shut(s, to);
}

/* Whether a read could find room: free space at the end, or held bytes
 * that compaction can move (none lent), or no buffer yet. */
static bool has_room(const nb_ssnsrv_dir_t *d) {
  return d->buf == NULL || d->in_end < d->cap ||
         (d->lent <= d->sent && data_held(d) < d->cap);
}

bool nb_ssnsrv_want_read(const nb_ssnsrv_t *s, nb_ssnsrv_side_t from) {
  const nb_ssnsrv_dir_t *d = &s->to[nb_ssnsrv__other(from)];
  switch (s->state) {
  case NB_SSNSRV_ST_WAIT_REQUEST:
  case NB_SSNSRV_ST_CONNECTING:
    return from == NB_SSNSRV_CLIENT && !d->stopped && has_room(d);
  case NB_SSNSRV_ST_NBT_RESPONSE:
  case NB_SSNSRV_ST_ESTABLISHED:
    return !d->stopped && !d->eof_in && has_room(d);
  case NB_SSNSRV_ST_CLOSING:
    return from == NB_SSNSRV_CLIENT; /* drain until its FIN */
  default:
    return false;
  }
}
