/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NB_SSNSRV_H
#define NB_SSNSRV_H

/* The session server and forwarder pump (RFC 1002 4.3, 5.2; RFC 1001 16):
 * a sans-I/O engine for ONE accepted TCP 139 connection and, once routed,
 * its backend connection.
 *
 *   client --139--> [ nb_ssnsrv_t ] --direct 445 / nbt 139--> backend
 *
 * Lifecycle (one function per state in src/lib/ssnsrv.c):
 *   WAIT_REQUEST  collect the SESSION REQUEST (request_timeout_ms), then
 *                 look the called name up in the route table:
 *                   direct   -> CONNECT event, CONNECTING
 *                   nbt      -> CONNECT event, CONNECTING, then the
 *                               request (called name optionally rewritten)
 *                               goes to the backend: NBT_RESPONSE
 *                   retarget -> RETARGET SESSION RESPONSE, CLOSING
 *                   reject   -> NEGATIVE SESSION RESPONSE, CLOSING
 *                   no route -> NEGATIVE 0x82 (0x80 for the node's own
 *                               names), CLOSING
 *   ESTABLISHED   POSITIVE SESSION RESPONSE sent; messages are pumped both
 *                 ways, frame by frame (never buffered whole)
 *   CLOSING       a final response is flushed, FIN sent, the client's
 *                 remaining bytes drained (bounded by linger_ms)
 *   CLOSED        a CLOSE event was emitted; the engine is inert
 * The decisions (negative codes, keep-alives, large messages to a 139
 * client) are in docs/CONFORMANCE.md, "Session server and forwarder".
 *
 * I/O contract (the shell moves bytes, the engine decides):
 *  - bytes in: the engine owns one buffer per direction, attached by the
 *    shell (nb_ssnsrv_attach(); detached again when empty, so an idle
 *    session holds no buffer). Read from a socket straight into
 *    nb_ssnsrv_read_buf() and call nb_ssnsrv_read_done(); or hand over a
 *    copy with nb_ssnsrv_recv(). The engine frames the bytes in place:
 *    message bodies do not move, control packets are cut out.
 *  - bytes out: nb_ssnsrv_pending(side) / nb_ssnsrv_advance(side, n). The
 *    region pending() returned stays put until advance() has covered it,
 *    so it may be handed to an asynchronous write.
 *  - flow control: nb_ssnsrv_want_read(side) says whether to read from a
 *    side (false above the high watermark of the direction it feeds, true
 *    again at or below the low watermark).
 *  - time: nb_ssnsrv_next_deadline() / nb_ssnsrv_on_timer(now), ms on any
 *    monotonic clock the caller chooses.
 *  - what to do: nb_ssnsrv_next_event(): CONNECT, ESTABLISHED, REFUSED,
 *    SHUTDOWN (send FIN to a side), CLOSE (close both; the engine is done).
 *  - what happened: nb_ssnsrv_connected(), nb_ssnsrv_eof(),
 *    nb_ssnsrv_reset().
 * Nothing allocates, nothing calls back, nothing asserts on network data. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nb/err.h"
#include "nb/name.h"
#include "nb/ssn.h"

/* ---- routes -------------------------------------------------------------
 */

typedef enum nb_ssnsrv_action {
  NB_SSNSRV_ROUTE_DIRECT = 1, /* a direct-TCP SMB server (445 framing) */
  NB_SSNSRV_ROUTE_NBT,        /* a NetBIOS session service (139 framing) */
  NB_SSNSRV_ROUTE_RETARGET,   /* answer with a RETARGET SESSION RESPONSE */
  NB_SSNSRV_ROUTE_REJECT      /* answer with a NEGATIVE SESSION RESPONSE */
} nb_ssnsrv_action_t;

/* One route, keyed by called name (the 15 bytes case-insensitively, the
 * suffix exactly, the scope case-insensitively: nb_name_equal()). */
typedef struct nb_ssnsrv_route {
  nb_name_t name; /* the called name this route answers */
  uint8_t action; /* nb_ssnsrv_action_t */
  uint8_t code;   /* REJECT: an RFC 1002 4.3.4 code */
  bool rewrite;   /* NBT: send `as` as the called name */
  uint16_t port;  /* DIRECT, NBT, RETARGET */
  uint32_t addr;  /* DIRECT, NBT, RETARGET: IPv4, host order */
  nb_name_t as;   /* NBT with rewrite */
} nb_ssnsrv_route_t;

/* Longest text form of a route (name, action, address, `as` name). */
#define NB_SSNSRV_ROUTE_TEXT_MAX (2 * NB_NAME_TEXT_MAX + 48)

/* Parse a route: `NAME direct IP:PORT`, `NAME nbt IP:PORT [as NAME]`,
 * `NAME retarget IP:PORT`, `NAME reject CODE` (CODE one of the RFC's five,
 * decimal or 0x hex). NAME is nb_name_from_text()'s form (suffix 0x20 when
 * no `<XX>` is given). Words are separated by blanks. `diag->offset` is an
 * offset into `text`. */
NB_API nb_err_t nb_ssnsrv_route_parse(nb_ssnsrv_route_t *out, const char *text,
                                      size_t len, nb_diag_t *diag);

/* Parse the flag form `NAME=IP:PORT`, a DIRECT route. */
NB_API nb_err_t nb_ssnsrv_forward_parse(nb_ssnsrv_route_t *out,
                                        const char *text, size_t len,
                                        nb_diag_t *diag);

/* Print a route in the form nb_ssnsrv_route_parse() reads. Returns the
 * length the text needs (excluding the NUL), like snprintf. */
NB_API size_t nb_ssnsrv_route_to_text(const nb_ssnsrv_route_t *r, char *buf,
                                      size_t cap);

/* The route for `called` in `routes[0..n)`, or NULL. `*SMBSERVER<20>`
 * (Samba's and Windows' "any server" name, RFC 1001 names have no wildcard
 * here) takes its own route when one is configured, else the first
 * DIRECT or NBT route. */
NB_API const nb_ssnsrv_route_t *
nb_ssnsrv_route_find(const nb_ssnsrv_route_t *routes, size_t n,
                     const nb_name_t *called);

/* True for `*SMBSERVER<20>` (any scope). */
NB_API bool nb_ssnsrv_is_smbserver(const nb_name_t *n);

/* ---- the engine ---------------------------------------------------------
 */

#define NB_SSNSRV_REQUEST_TIMEOUT_MS 10000u
#define NB_SSNSRV_CONNECT_TIMEOUT_MS 10000u
#define NB_SSNSRV_LINGER_MS 5000u
#define NB_SSNSRV_BUF_HIGH (192u * 1024u)
#define NB_SSNSRV_BUF_LOW (64u * 1024u)
/* A direction's buffer: the high watermark plus one read. */
#define NB_SSNSRV_READ_MAX (64u * 1024u)

typedef struct nb_ssnsrv_config {
  const nb_ssnsrv_route_t *routes; /* borrowed: outlives every engine */
  size_t n_routes;
  const nb_name_t *own; /* the node's own names (borrowed): an unrouted */
  size_t n_own;         /* called name among them gets 0x80, not 0x82 */
  uint32_t request_timeout_ms; /* SESSION REQUEST must arrive by then */
  uint32_t connect_timeout_ms; /* backend connect (+ its response, nbt) */
  uint32_t idle_timeout_ms;    /* no message bytes either way: close; 0 off */
  uint32_t keepalive_ms;       /* KEEP ALIVE to a client idle so long; 0 off */
  uint32_t linger_ms;          /* bound on flushing a final response */
  uint32_t buf_high;           /* stop reading a source holding this much */
  uint32_t buf_low;            /* ... and resume at or below this */
} nb_ssnsrv_config_t;

/* Defaults: no routes, the timeouts above, idle off, keep-alive 60 s,
 * watermarks 192 KiB / 64 KiB. */
NB_API void nb_ssnsrv_config_init(nb_ssnsrv_config_t *cfg);

/* Sides of the engine: where bytes come from and go to. */
typedef enum nb_ssnsrv_side {
  NB_SSNSRV_CLIENT = 0,
  NB_SSNSRV_BACKEND = 1
} nb_ssnsrv_side_t;

typedef enum nb_ssnsrv_ev_kind {
  NB_SSNSRV_EV_CONNECT = 1, /* open the backend connection to addr:port */
  NB_SSNSRV_EV_ESTABLISHED, /* positive response queued; pumping */
  NB_SSNSRV_EV_REFUSED,     /* negative (code) or retarget (addr, port)
                               response queued for the client */
  NB_SSNSRV_EV_SHUTDOWN,    /* all bytes for `side` were written: FIN it */
  NB_SSNSRV_EV_CLOSE        /* close both connections (`reset`: abort with
                               RST); the engine is done */
} nb_ssnsrv_ev_kind_t;

/* Why a session ended (the CLOSE event's `end`). */
#define NB_SSNSRV_END_MAP(XX)                                                  \
  XX(NORMAL, "both sides closed")                                              \
  XX(REFUSED, "a negative or retarget response was sent")                      \
  XX(CLIENT_EOF, "client closed before the session was established")           \
  XX(REQUEST_TIMEOUT, "no SESSION REQUEST in time")                            \
  XX(IDLE_TIMEOUT, "idle timeout")                                             \
  XX(LINGER_TIMEOUT, "final response not read in time")                        \
  XX(BACKEND_CONNECT, "backend connect failed or timed out")                   \
  XX(CLIENT_RESET, "client connection reset or failed")                        \
  XX(BACKEND_RESET, "backend connection reset or failed")                      \
  XX(CLIENT_PROTOCOL, "client protocol error")                                 \
  XX(BACKEND_PROTOCOL, "backend protocol error")                               \
  XX(BACKEND_OVERSIZE, "backend message over 0x1FFFF before negotiate")        \
  XX(ABORTED, "aborted by the shell")

typedef enum nb_ssnsrv_end {
#define NB_SSNSRV_END_ENUM_(name, msg) NB_SSNSRV_END_##name,
  NB_SSNSRV_END_MAP(NB_SSNSRV_END_ENUM_)
#undef NB_SSNSRV_END_ENUM_
      NB_SSNSRV_END__COUNT
} nb_ssnsrv_end_t;

NB_API const char *nb_ssnsrv_end_name(nb_ssnsrv_end_t end);
NB_API const char *nb_ssnsrv_end_str(nb_ssnsrv_end_t end);

typedef struct nb_ssnsrv_event {
  nb_ssnsrv_ev_kind_t kind;
  nb_ssnsrv_side_t side; /* SHUTDOWN */
  uint32_t addr;         /* CONNECT, REFUSED (retarget): host order */
  uint16_t port;         /* CONNECT, REFUSED (retarget) */
  uint8_t code;          /* REFUSED: the negative code; 0 for a retarget */
  bool reset;            /* CLOSE */
  nb_ssnsrv_end_t end;   /* CLOSE */
} nb_ssnsrv_event_t;

/* Results of a backend connect, for nb_ssnsrv_connected(). */
typedef enum nb_ssnsrv_conn {
  NB_SSNSRV_CONN_OK = 0,
  NB_SSNSRV_CONN_REFUSED, /* -> NEGATIVE 0x80 (nobody listening) */
  NB_SSNSRV_CONN_FAILED   /* unreachable, timed out...: NEGATIVE 0x8F */
} nb_ssnsrv_conn_t;

/* Per-session counters (summed by the shell). */
typedef struct nb_ssnsrv_counters {
  uint64_t bytes[2];       /* message bytes (headers included) written
                              toward each side, by destination */
  uint64_t msgs[2];        /* session messages toward each side */
  uint64_t keepalives_in;  /* KEEP ALIVEs received (and dropped), both */
  uint64_t keepalives_out; /* KEEP ALIVEs sent to the client */
  uint64_t big_msgs;       /* messages over 0x1FFFF sent to the client with
                              a 24-bit length (after an SMB negotiate) */
  uint64_t read_stops;     /* times a source crossed the high watermark */
} nb_ssnsrv_counters_t;

/* One direction: the bytes flowing TO a side. Private. */
typedef struct nb_ssnsrv_dir {
  nb_ssn_framer_t in; /* frames the bytes read from the other side */
  uint8_t *buf;       /* attached buffer (borrowed), or NULL */
  size_t cap;
  size_t sent; /* [sent, out_end): framed bytes to write */
  size_t out_end;
  size_t lent; /* pending() handed out bytes up to here */
  size_t filt; /* [filt, in_end): read but not yet framed */
  size_t in_end;
  uint8_t ctl[NB_SSN_CONTROL_MAX]; /* a response, request or keep-alive */
  size_t ctl_len;
  size_t ctl_sent;
  bool stopped;     /* reading the source is stopped (watermark) */
  bool eof_in;      /* the source side sent FIN */
  bool shut;        /* SHUTDOWN for this side was emitted */
  uint64_t last_tx; /* when bytes were last written to this side */
} nb_ssnsrv_dir_t;

#define NB_SSNSRV_MAX_EVENTS 8

typedef struct nb_ssnsrv {
  const nb_ssnsrv_config_t *cfg; /* borrowed */
  int state;                     /* private, see above */
  bool busy;                     /* at the session limit: answer 0x83 */
  bool ext;                      /* 24-bit lengths on the 139 side(s) */
  bool ext_client_pending;       /* switch the client's framer at its next
                                    packet boundary */
  bool first_done;               /* the backend's first message passed */
  uint8_t sniff[4];              /* first bytes of the backend's first
                                    message (SMB protocol id?) */
  uint8_t sniff_len;
  uint8_t code; /* the negative code sent, if any */
  const nb_ssnsrv_route_t *route;
  uint64_t deadline;      /* of the current state; UINT64_MAX none */
  uint64_t last_activity; /* last message byte either way */
  nb_ssnsrv_dir_t to[2];  /* indexed by nb_ssnsrv_side_t */
  nb_name_t called;       /* from the SESSION REQUEST */
  nb_name_t calling;
  nb_ssnsrv_event_t ev[NB_SSNSRV_MAX_EVENTS];
  size_t ev_head;
  size_t ev_len;
  nb_ssnsrv_end_t end;
  nb_ssnsrv_counters_t c;
} nb_ssnsrv_t;

/* Start an engine for a freshly accepted connection at time `now`. `cfg`
 * is borrowed (it and its route table must outlive the engine). With
 * `busy` (the shell is at its session limit) every SESSION REQUEST is
 * answered with NEGATIVE 0x83. */
NB_API nb_err_t nb_ssnsrv_init(nb_ssnsrv_t *s, const nb_ssnsrv_config_t *cfg,
                               bool busy, uint64_t now);

/* Buffers. attach() gives the direction toward `side` `cap` bytes of
 * caller memory (at least NB_SSN_CONTROL_MAX; buf_high + a read is a good
 * size). needs_buf() says whether a read from the side feeding it would
 * need one. detach() returns the memory once the direction holds nothing
 * (and clears it), else NULL. */
NB_API void nb_ssnsrv_attach(nb_ssnsrv_t *s, nb_ssnsrv_side_t to, uint8_t *mem,
                             size_t cap);
NB_API bool nb_ssnsrv_has_buf(const nb_ssnsrv_t *s, nb_ssnsrv_side_t to);
NB_API uint8_t *nb_ssnsrv_detach(nb_ssnsrv_t *s, nb_ssnsrv_side_t to);

/* Reading from `from`: where to put the bytes (NULL/0 without a buffer or
 * when full), then how many arrived. */
NB_API uint8_t *nb_ssnsrv_read_buf(nb_ssnsrv_t *s, nb_ssnsrv_side_t from,
                                   size_t *cap);
NB_API void nb_ssnsrv_read_done(nb_ssnsrv_t *s, nb_ssnsrv_side_t from, size_t n,
                                uint64_t now);
/* Copying variant: takes as many of `len` bytes as fit (`*taken`). */
NB_API void nb_ssnsrv_recv(nb_ssnsrv_t *s, nb_ssnsrv_side_t from,
                           const uint8_t *data, size_t len, size_t *taken,
                           uint64_t now);

/* `from` sent FIN (its read returned EOF). */
NB_API void nb_ssnsrv_eof(nb_ssnsrv_t *s, nb_ssnsrv_side_t from, uint64_t now);
/* `side`'s connection failed: reset, read or write error. */
NB_API void nb_ssnsrv_reset(nb_ssnsrv_t *s, nb_ssnsrv_side_t side,
                            uint64_t now);
/* The backend connect asked for by CONNECT finished. */
NB_API void nb_ssnsrv_connected(nb_ssnsrv_t *s, nb_ssnsrv_conn_t result,
                                uint64_t now);
/* The shell gives up on the session (shutdown of the daemon): CLOSE. */
NB_API void nb_ssnsrv_abort(nb_ssnsrv_t *s, bool reset);

/* Bytes to write to `to`: returns their count and points `*p` at them
 * (a control packet first, then message bytes). */
NB_API size_t nb_ssnsrv_pending(nb_ssnsrv_t *s, nb_ssnsrv_side_t to,
                                const uint8_t **p);
/* `n` of those bytes were written (n <= what pending() returned). */
NB_API void nb_ssnsrv_advance(nb_ssnsrv_t *s, nb_ssnsrv_side_t to, size_t n,
                              uint64_t now);
/* Bytes held for `to`: framed and unframed, control packets included. */
NB_API size_t nb_ssnsrv_held(const nb_ssnsrv_t *s, nb_ssnsrv_side_t to);

/* Zero copy. The bytes read from `from` that may go straight to the
 * other side without entering the engine (splice(2)): the rest of the
 * message body being forwarded, when the direction holds nothing (no
 * header or control packet is waiting to be written before them). 0 at a
 * packet boundary, before the session is up, and while the first bytes of
 * the backend's first message are still needed (the SMB protocol id). The
 * shell must write those bytes before anything pending() returns later,
 * and FIN only after them. */
NB_API size_t nb_ssnsrv_passthrough(const nb_ssnsrv_t *s,
                                    nb_ssnsrv_side_t from);
/* `n` (<= passthrough()) bytes went from `from` toward the other side. */
NB_API void nb_ssnsrv_passed(nb_ssnsrv_t *s, nb_ssnsrv_side_t from, size_t n,
                             uint64_t now);

/* Whether the shell should read from `from` now. */
NB_API bool nb_ssnsrv_want_read(const nb_ssnsrv_t *s, nb_ssnsrv_side_t from);

NB_API bool nb_ssnsrv_next_event(nb_ssnsrv_t *s, nb_ssnsrv_event_t *ev);

/* UINT64_MAX when no timer is needed. */
NB_API uint64_t nb_ssnsrv_next_deadline(const nb_ssnsrv_t *s);
NB_API void nb_ssnsrv_on_timer(nb_ssnsrv_t *s, uint64_t now);

/* True after CLOSE was emitted. */
NB_API bool nb_ssnsrv_closed(const nb_ssnsrv_t *s);
/* True from ESTABLISHED until CLOSE. */
NB_API bool nb_ssnsrv_established(const nb_ssnsrv_t *s);
/* "wait-request", "connecting", "nbt-response", "established",
 * "closing", "closed". */
NB_API const char *nb_ssnsrv_state_name(const nb_ssnsrv_t *s);

#endif
