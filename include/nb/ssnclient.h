/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NB_SSNCLIENT_H
#define NB_SSNCLIENT_H

/* The client side of a NetBIOS session (RFC 1002 4.3, 5.2; RFC 1001
 * 16.1): a sans-I/O engine for one session, which may take several TCP
 * connections because RETARGET SESSION RESPONSEs are followed (with a hop
 * limit: the seed's client looped forever on them).
 *
 *   CONNECTING --connected()--> WAIT_RESPONSE --POSITIVE--> OPEN
 *        ^                          |  NEGATIVE: CLOSED (code)
 *        +------- RETARGET ---------+  over max_retargets: CLOSED
 *   DIRECT mode (TCP 445): CONNECTING --connected()--> OPEN, no request.
 *
 * The shell:
 *  - opens a TCP connection on each CONNECT event (closing the previous
 *    one first) and reports the result with nb_ssnclient_connected();
 *  - feeds received bytes to nb_ssnclient_recv(), which returns message
 *    events (MSG_BEGIN, MSG_DATA borrowing the input, MSG_END) and
 *    consumes control packets itself; reports FIN with _eof() and errors
 *    with _reset();
 *  - writes what nb_ssnclient_pending() returns and confirms it with
 *    _advance() (the region stays put until then);
 *  - drains nb_ssnclient_next_event() after every call (CONNECT, OPEN,
 *    SHUTDOWN = send FIN, CLOSED = the session is over, close the socket);
 *  - runs one timer: _next_deadline() / _on_timer(now).
 * Messages are written with backpressure: nb_ssnclient_send() takes a
 * whole message only when it fits (else NB_ENOSPC, nothing written);
 * nb_ssnclient_msg_begin() + nb_ssnclient_msg_write() stream a message of
 * any allowed length through the bounded buffer (msg_write returns how
 * much it took; 0 means wait for _advance()). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nb/err.h"
#include "nb/name.h"
#include "nb/ssn.h"

/* MAX_MESSAGE_LENGTH per mode: 17 bits (RFC 1002 4.3.1), 24 bits
 * ([MS-SMB2] 2.1, TCP 445 and 139 after SMB negotiate). */
#define NB_SSNCLIENT_MAX_MESSAGE_RFC NB_SSN_RFC_MAX
#define NB_SSNCLIENT_MAX_MESSAGE_DIRECT NB_SSN_DIRECT_MAX
#define NB_SSNCLIENT_MAX_RETARGETS 4u
#define NB_SSNCLIENT_CONNECT_TIMEOUT_MS 10000u

typedef struct nb_ssnclient_config {
  nb_ssn_mode_t mode;          /* RFC: SESSION REQUEST first; DIRECT: none */
  nb_name_t called;            /* RFC mode: CALLED NAME */
  nb_name_t calling;           /* RFC mode: CALLING NAME */
  unsigned max_retargets;      /* RETARGETs followed before giving up */
  uint32_t connect_timeout_ms; /* per hop: TCP connect and the answer */
  uint32_t keepalive_ms;       /* KEEP ALIVE after this much silence from
                                  us while OPEN; 0: never */
} nb_ssnclient_config_t;

/* Defaults: RFC mode, no names (set them), 4 retargets, 10 s, no
 * keep-alives. */
NB_API void nb_ssnclient_config_init(nb_ssnclient_config_t *cfg);

typedef enum nb_ssnclient_ev_kind {
  NB_SSNCLIENT_EV_NONE = 0,  /* recv(): the input is used up (or paused) */
  NB_SSNCLIENT_EV_CONNECT,   /* open TCP to addr:port (close the old one) */
  NB_SSNCLIENT_EV_OPEN,      /* positive response (or direct connect) */
  NB_SSNCLIENT_EV_MSG_BEGIN, /* a message of `length` bytes starts */
  NB_SSNCLIENT_EV_MSG_DATA,  /* `length` bytes at `data` (borrowed from
                                recv()'s input) */
  NB_SSNCLIENT_EV_MSG_END,
  NB_SSNCLIENT_EV_SHUTDOWN, /* after end(): all written, send FIN */
  NB_SSNCLIENT_EV_CLOSED    /* the session is over (`why`): close */
} nb_ssnclient_ev_kind_t;

typedef enum nb_ssnclient_why {
  NB_SSNCLIENT_WHY_NORMAL = 0, /* the peer closed (after our end()) */
  NB_SSNCLIENT_WHY_NEGATIVE,   /* NEGATIVE SESSION RESPONSE: `code` */
  NB_SSNCLIENT_WHY_RETARGETS,  /* more than max_retargets RETARGETs */
  NB_SSNCLIENT_WHY_TIMEOUT,    /* connect or answer timed out */
  NB_SSNCLIENT_WHY_CONNECT,    /* the TCP connect failed */
  NB_SSNCLIENT_WHY_RESET,      /* reset or I/O error */
  NB_SSNCLIENT_WHY_PROTOCOL,   /* bad bytes from the peer */
  NB_SSNCLIENT_WHY_EOF,        /* the peer closed first */
  NB_SSNCLIENT_WHY_ABORTED     /* nb_ssnclient_abort() */
} nb_ssnclient_why_t;

NB_API const char *nb_ssnclient_why_str(nb_ssnclient_why_t why);

typedef struct nb_ssnclient_event {
  nb_ssnclient_ev_kind_t kind;
  uint32_t addr;          /* CONNECT: host order */
  uint16_t port;          /* CONNECT */
  unsigned hop;           /* CONNECT: 0 first, then retargets followed */
  uint32_t length;        /* MSG_BEGIN, MSG_DATA, MSG_END */
  const uint8_t *data;    /* MSG_DATA */
  nb_ssnclient_why_t why; /* CLOSED */
  uint8_t code;           /* CLOSED (NEGATIVE): the error code */
  nb_diag_t diag;         /* CLOSED (PROTOCOL): the framer's reason */
} nb_ssnclient_event_t;

#define NB_SSNCLIENT_MAX_EVENTS 8

/* Private fields; embed it, do not touch them. */
typedef struct nb_ssnclient {
  nb_ssnclient_config_t cfg;
  int state;
  unsigned hops;
  bool paused;
  bool ending;         /* end() called */
  bool shut;           /* SHUTDOWN emitted */
  nb_ssn_mode_t wmode; /* framing of what we write */
  uint64_t deadline;
  uint64_t last_tx;
  nb_ssn_framer_t in;
  uint8_t ctl[NB_SSN_CONTROL_MAX];
  size_t ctl_len;
  size_t ctl_sent;
  uint8_t *buf; /* caller memory for message bytes */
  size_t cap;
  size_t sent;
  size_t len;
  size_t lent;
  uint32_t msg_left; /* bytes of the message being written still owed */
  bool in_msg;
  nb_ssnclient_event_t ev[NB_SSNCLIENT_MAX_EVENTS];
  size_t ev_head;
  size_t ev_len;
  uint64_t keepalives_in;
  uint64_t keepalives_out;
} nb_ssnclient_t;

/* Start a session to addr:port (IPv4, host order) at `now`: the first
 * event is CONNECT. `out` (borrowed, at least 64 bytes) buffers the
 * message bytes written. The names are copied from `cfg`. */
NB_API nb_err_t nb_ssnclient_init(nb_ssnclient_t *c,
                                  const nb_ssnclient_config_t *cfg,
                                  uint32_t addr, uint16_t port, uint8_t *out,
                                  size_t out_cap, uint64_t now);

NB_API void nb_ssnclient_connected(nb_ssnclient_t *c, bool ok, uint64_t now);

/* Consume up to `len` bytes of `data`; returns one event (NONE when all
 * was used or nothing may be consumed now) and `*consumed`. Call it in a
 * loop while it returns something other than NONE. */
NB_API nb_err_t nb_ssnclient_recv(nb_ssnclient_t *c, const uint8_t *data,
                                  size_t len, size_t *consumed,
                                  nb_ssnclient_event_t *ev, uint64_t now);
NB_API void nb_ssnclient_eof(nb_ssnclient_t *c, uint64_t now);
NB_API void nb_ssnclient_reset(nb_ssnclient_t *c, uint64_t now);
NB_API void nb_ssnclient_abort(nb_ssnclient_t *c);

NB_API bool nb_ssnclient_next_event(nb_ssnclient_t *c,
                                    nb_ssnclient_event_t *ev);

/* Writing (OPEN only). */
NB_API uint32_t nb_ssnclient_max_message(const nb_ssnclient_t *c);
/* Free space for message bytes (headers take 4). */
NB_API size_t nb_ssnclient_writable(nb_ssnclient_t *c);
/* A whole message: NB_ENOSPC (nothing written) when it does not fit now,
 * NB_ELIMIT over max_message, NB_ESTATE when not OPEN, ended, or inside a
 * streamed message. */
NB_API nb_err_t nb_ssnclient_send(nb_ssnclient_t *c, const void *msg,
                                  size_t len, uint64_t now);
/* Start a streamed message of `len` bytes (same errors). */
NB_API nb_err_t nb_ssnclient_msg_begin(nb_ssnclient_t *c, uint32_t len);
/* Append up to `n` body bytes; returns how many were taken. */
NB_API size_t nb_ssnclient_msg_write(nb_ssnclient_t *c, const void *data,
                                     size_t n);
/* No more messages: FIN once everything is written (SHUTDOWN event). */
NB_API void nb_ssnclient_end(nb_ssnclient_t *c, uint64_t now);
/* After an SMB negotiate on 139: 24-bit lengths both ways (the receive
 * side switches at its next packet boundary). */
NB_API nb_err_t nb_ssnclient_set_mode(nb_ssnclient_t *c, nb_ssn_mode_t mode);

NB_API size_t nb_ssnclient_pending(nb_ssnclient_t *c, const uint8_t **p);
NB_API void nb_ssnclient_advance(nb_ssnclient_t *c, size_t n, uint64_t now);

/* Reading: pause() makes recv() take nothing until resume(). */
NB_API void nb_ssnclient_pause(nb_ssnclient_t *c);
NB_API void nb_ssnclient_resume(nb_ssnclient_t *c);
NB_API bool nb_ssnclient_want_read(const nb_ssnclient_t *c);

NB_API uint64_t nb_ssnclient_next_deadline(const nb_ssnclient_t *c);
NB_API void nb_ssnclient_on_timer(nb_ssnclient_t *c, uint64_t now);

NB_API bool nb_ssnclient_is_open(const nb_ssnclient_t *c);
/* True while waiting for connected() after a CONNECT event. */
NB_API bool nb_ssnclient_is_connecting(const nb_ssnclient_t *c);
NB_API bool nb_ssnclient_is_closed(const nb_ssnclient_t *c);

#endif
