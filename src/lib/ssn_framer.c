/* SPDX-License-Identifier: BSD-2-Clause */
/* The session stream framer (see nb/ssn.h): bytes in, one event out.
 *
 * WARNING: parses untrusted network data. Headers and control packets are
 * copied into fixed inline storage (at most NB_SSN_CONTROL_MAX bytes, the
 * cap checked from the header before any trailer byte is kept); message
 * bodies are handed back as borrowed slices of the caller's input and never
 * stored. Nothing allocates, nothing asserts.
 *
 * States, one function each:
 *   HEADER   collecting the 4 header bytes (RFC 1002 4.3.1)
 *   CONTROL  collecting a control packet's trailer (4.3.2-4.3.5)
 *   BODY     passing USER_DATA through (4.3.6)
 *   END      a message's last byte was passed; MSG_END is due
 *   ERROR    sticky */
#include "nb/ssn.h"

#include <string.h>

enum { ST_HEADER = 0, ST_CONTROL, ST_BODY, ST_END, ST_ERROR };

static uint32_t mode_limit(nb_ssn_mode_t mode) {
  return mode == NB_SSN_MODE_DIRECT ? NB_SSN_DIRECT_MAX : NB_SSN_RFC_MAX;
}

static uint32_t effective_max(nb_ssn_mode_t mode, uint32_t cfg) {
  uint32_t lim = mode_limit(mode);
  return (cfg == 0 || cfg > lim) ? lim : cfg;
}

static bool mode_valid(nb_ssn_mode_t mode) {
  return mode == NB_SSN_MODE_RFC || mode == NB_SSN_MODE_DIRECT;
}

/* Get ready for the next packet's header. */
static void next_packet(nb_ssn_framer_t *f) {
  f->state = ST_HEADER;
  f->pkt_offset = f->offset;
  f->pkt_len = 0;
  f->pkt_want = NB_SSN_HEADER_LEN;
}

nb_err_t nb_ssn_framer_init(nb_ssn_framer_t *f, nb_ssn_mode_t mode,
                            uint32_t max_msg) {
  if (f == NULL || !mode_valid(mode)) {
    return NB_EINVAL;
  }
  /* Every field but `pkt`, which is only read up to `pkt_len`: no need to
   * zero its 514 bytes on every init. */
  f->mode = mode;
  f->max_cfg = max_msg;
  f->max_msg = effective_max(mode, max_msg);
  f->offset = 0;
  f->msg_len = 0;
  f->msg_left = 0;
  f->err.err = NB_OK;
  f->err.offset = 0;
  f->err.field = NULL;
  next_packet(f);
  return NB_OK;
}

bool nb_ssn_framer_at_boundary(const nb_ssn_framer_t *f) {
  return f->state == ST_HEADER && f->pkt_len == 0;
}

nb_err_t nb_ssn_framer_set_mode(nb_ssn_framer_t *f, nb_ssn_mode_t mode) {
  if (!mode_valid(mode)) {
    return NB_EINVAL;
  }
  if (!nb_ssn_framer_at_boundary(f)) {
    return NB_ESTATE;
  }
  f->mode = mode;
  f->max_msg = effective_max(mode, f->max_cfg);
  return NB_OK;
}

static void ev_set(nb_ssn_event_t *ev, nb_ssn_event_kind_t kind,
                   uint64_t offset, uint32_t length) {
  ev->kind = kind;
  ev->offset = offset;
  ev->length = length;
  ev->data = NULL;
  ev->diag.err = NB_OK;
  ev->diag.offset = 0;
  ev->diag.field = NULL;
}

/* Enter the sticky error state; `at` is a stream offset. */
static bool fail(nb_ssn_framer_t *f, nb_ssn_event_t *ev, nb_err_t err,
                 uint64_t at, const char *field) {
  f->state = ST_ERROR;
  f->err.err = err;
  f->err.offset = (size_t)at;
  f->err.field = field;
  ev_set(ev, NB_SSN_EV_ERROR, at, 0);
  ev->diag = f->err;
  return true;
}

/* Copy up to what the current header or control packet still needs. */
static size_t take(nb_ssn_framer_t *f, const uint8_t *data, size_t len) {
  size_t n = f->pkt_want - f->pkt_len;
  if (n > len) {
    n = len;
  }
  if (n > 0) {
    memcpy(f->pkt + f->pkt_len, data, n);
  }
  f->pkt_len += n;
  f->offset += n;
  return n;
}

/* The control packet is complete: parse it (RFC 1002 4.3.2-4.3.7). */
static bool on_control(nb_ssn_framer_t *f, nb_ssn_event_t *ev) {
  nb_diag_t d = {NB_OK, 0, NULL};
  nb_err_t err =
      nb_ssn_parse(f->pkt, f->pkt_len, f->mode, &ev->packet, NULL, &d);
  if (err != NB_OK) {
    return fail(f, ev, err, f->pkt_offset + d.offset, d.field);
  }
  ev_set(ev, NB_SSN_EV_CONTROL, f->pkt_offset, ev->packet.length);
  next_packet(f);
  return true;
}

/* The 4 header bytes are in: check them and choose the next state.
 * Returns true when an event (MSG_BEGIN, CONTROL, ERROR) was produced. */
static bool on_header(nb_ssn_framer_t *f, nb_ssn_event_t *ev) {
  nb_rd_t r;
  nb_ssn_header_t h;
  nb_diag_t d = {NB_OK, 0, NULL};
  nb_rd_init(&r, f->pkt, f->pkt_len);
  if (nb_ssn_parse_header(&r, f->mode, &h, &d) != NB_OK) {
    return fail(f, ev, d.err, f->pkt_offset + d.offset, d.field);
  }
  if (h.type != NB_SSN_SESSION_MESSAGE) {
    /* The header check bounded LENGTH to NB_SSN_REQUEST_MAX. */
    f->pkt_want = NB_SSN_HEADER_LEN + h.length;
    f->state = ST_CONTROL;
    return h.length == 0 ? on_control(f, ev) : false;
  }
  if (h.length > f->max_msg) {
    return fail(f, ev, NB_ELIMIT, f->pkt_offset + 1,
                "LENGTH over the maximum message size");
  }
  f->msg_len = h.length;
  f->msg_left = h.length;
  f->state = h.length > 0 ? ST_BODY : ST_END;
  ev_set(ev, NB_SSN_EV_MSG_BEGIN, f->pkt_offset, h.length);
  return true;
}

/* HEADER and CONTROL: gather bytes; act once the packet is whole. */
static bool step_collect(nb_ssn_framer_t *f, const uint8_t *data, size_t len,
                         size_t *used, nb_ssn_event_t *ev) {
  if (len > *used) {
    *used += take(f, data + *used, len - *used);
  }
  if (f->pkt_len < f->pkt_want) {
    ev_set(ev, NB_SSN_EV_NEED_MORE, f->offset, 0);
    return true; /* all input taken */
  }
  return f->state == ST_HEADER ? on_header(f, ev) : on_control(f, ev);
}

/* BODY: hand back as much of the message as this input holds. */
static bool step_body(nb_ssn_framer_t *f, const uint8_t *data, size_t len,
                      size_t *used, nb_ssn_event_t *ev) {
  size_t n = len - *used;
  if (n == 0) {
    ev_set(ev, NB_SSN_EV_NEED_MORE, f->offset, 0);
    return true;
  }
  if (n > f->msg_left) {
    n = f->msg_left;
  }
  ev_set(ev, NB_SSN_EV_MSG_DATA, f->offset, (uint32_t)n);
  ev->data = data + *used;
  *used += n;
  f->offset += n;
  f->msg_left -= (uint32_t)n;
  if (f->msg_left == 0) {
    f->state = ST_END;
  }
  return true;
}

nb_err_t nb_ssn_framer_feed(nb_ssn_framer_t *f, const uint8_t *data, size_t len,
                            size_t *consumed, nb_ssn_event_t *ev) {
  size_t used = 0;
  bool done = false;
  *consumed = 0;
  if (data == NULL && len > 0) {
    ev_set(ev, NB_SSN_EV_ERROR, f->offset, 0);
    ev->diag.err = NB_EINVAL;
    ev->diag.field = "NULL input";
    return NB_EINVAL; /* API misuse: not sticky */
  }
  while (!done) {
    switch (f->state) {
    case ST_HEADER:
    case ST_CONTROL:
      done = step_collect(f, data, len, &used, ev);
      break;
    case ST_BODY:
      done = step_body(f, data, len, &used, ev);
      break;
    case ST_END:
      ev_set(ev, NB_SSN_EV_MSG_END, f->pkt_offset, f->msg_len);
      next_packet(f);
      done = true;
      break;
    default:
      ev_set(ev, NB_SSN_EV_ERROR, f->err.offset, 0);
      ev->diag = f->err;
      done = true;
    }
  }
  *consumed = used;
  return f->state == ST_ERROR ? f->err.err : NB_OK;
}

nb_err_t nb_ssn_framer_eof(const nb_ssn_framer_t *f, nb_diag_t *diag) {
  switch (f->state) {
  case ST_HEADER:
    if (f->pkt_len == 0) {
      return NB_OK;
    }
    return nb_diag_set(diag, NB_ETRUNCATED, (size_t)f->offset,
                       "stream ended inside a session packet header");
  case ST_CONTROL:
    return nb_diag_set(diag, NB_ETRUNCATED, (size_t)f->offset,
                       "stream ended inside a control packet");
  case ST_BODY:
    return nb_diag_set(diag, NB_ETRUNCATED, (size_t)f->offset,
                       "stream ended inside a session message");
  case ST_END:
    return nb_diag_set(diag, NB_ESTATE, (size_t)f->offset,
                       "MSG_END not yet collected");
  default:
    return nb_diag_set(diag, f->err.err, f->err.offset, f->err.field);
  }
}
