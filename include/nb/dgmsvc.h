/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NB_DGMSVC_H
#define NB_DGMSVC_H

/* The datagram service of a NetBIOS node (RFC 1001 17, RFC 1002 4.4 and
 * 5.3): a sans-I/O engine that receives, reassembles and delivers
 * datagrams for the node's names, sends datagrams to names (fragmenting
 * per RFC 1002 5.3.1), answers with DATAGRAM ERROR where that is safe,
 * and speaks the DATAGRAM QUERY protocol with an NBDD (RFC 1002 5.3.2,
 * 5.3.4), as a client and, when configured, as the NBDD.
 *
 * The engine never touches a socket or a clock and never calls back:
 *  - bytes in:   nb_dgmsvc_recv(e, pkt, len, src_ip, src_port, bcast, now)
 *  - bytes out:  nb_dgmsvc_pending(e, &out) ... send ... nb_dgmsvc_advance(e)
 *  - time:       nb_dgmsvc_next_deadline(e), nb_dgmsvc_on_timer(e, now)
 *  - results:    nb_dgmsvc_next_event(e, &ev): datagrams for bound
 *                names, the outcome of each send
 *  - resolution: nb_dgmsvc_next_resolve(e, &rq) hands out the names a send
 *                needs resolved; the shell asks the name service
 *                (nb/nsnode.h) and passes the answer to
 *                nb_dgmsvc_resolved(). The engine never calls the name
 *                service itself.
 *  - the node's names: nb_dgmsvc_name_add() / _name_remove(), kept in
 *                step with the name service by the shell.
 *  - applications: nb_dgmsvc_bind() / _unbind() / _send().
 * A shell's loop: after every recv/operation/timer, drain pending(),
 * next_event() and next_resolve(), then re-arm one timer to
 * next_deadline().
 *
 * Decisions (docs/CONFORMANCE.md "Datagram service engine", tested in
 * tests/unit/test_dgmsvc.c):
 *  - A datagram is a NetBIOS broadcast when its DESTINATION_NAME starts
 *    with '*' (RFC 1002 5.3.3 branches on the name, not on MSG_TYPE).
 *  - DATAGRAM ERROR is sent only for datagrams received by unicast
 *    (`was_broadcast` false): 0x82 for a DIRECT_UNIQUE whose destination
 *    is not one of the node's names (RFC 1001 17.1, 17.2), 0x83 / 0x84
 *    for a first fragment whose source / destination name does not
 *    decode. Read literally, RFC 1002 5.3.3 would have every node that is
 *    not a member answer every broadcast group datagram: a storm on each
 *    browser announcement (nmbd never sends 0x13 at all). A group
 *    destination we do not hold is discarded quietly (RFC 1001 17.2).
 *  - The error goes to the UDP source address and port (RFC 1002 5.3.3),
 *    and only when it is the datagram's SOURCE_IP: a datagram relayed by
 *    an NBDD or with a forged SOURCE_IP gets none (no reflection), nor
 *    does a source that is not a unicast node address (0.0.0.0, a
 *    broadcast, multicast, port 0), and every response (errors, NBDD
 *    answers and relays) takes a token from a per-source and a global
 *    bucket.
 *  - Other scopes: a destination name in another scope is discarded
 *    (OTHER_SCOPE), without an error: scopes do not talk (RFC 1001 14).
 *  - USER_DATA over 512 bytes (RFC 1001 17.1.2) is refused on send
 *    (NB_ELIMIT) and dropped on receipt (USER_DATA_LONG), after
 *    reassembly.
 *  - A received DATAGRAM ERROR is matched (DGM_ID and the address we sent
 *    to) to a recent send and reported to its sender as SEND_ERROR. The
 *    NAME RELEASE REQUEST that 5.3.3 has P and M nodes send to the NBNS is
 *    not sent: an unauthenticated packet must not make us release a third
 *    party's name at the NBNS.
 *  - Group and broadcast datagrams: B nodes broadcast them on every
 *    interface (RFC 1002 5.3.1); P, M and H nodes with an NBDD unicast
 *    them to the NBDD, after a DATAGRAM QUERY REQUEST unless
 *    `nbdd_query` is off (5.3.2); on a negative answer or silence a group
 *    datagram goes to each member the name service lists (5.3.2), a
 *    broadcast fails. Without an NBDD, M and H nodes broadcast (as
 *    Windows and Samba do) and P nodes send group datagrams to the listed
 *    members and refuse broadcasts.
 *  - As the NBDD (`nbdd_role`): every DATAGRAM QUERY REQUEST for a name in
 *    our scope is answered POSITIVE (we relay by subnet broadcast, which
 *    reaches every member, RFC 1002 5.3.4 option 2); DIRECT_GROUP and
 *    BROADCAST packets received by unicast are relayed as they are (not
 *    reassembled, 5.3.4) to every interface's broadcast address.
 *  - DGM_IDs are a counter through a 16-bit Feistel permutation keyed by
 *    `id_seed`: unique within 65536 datagrams and not sequential.
 *
 * Memory: one fixed block (nb_dgmsvc_size()); nothing is allocated after
 * init; every table is capped (names, bindings, sends, outgoing queue,
 * events, rate-limit slots, the reassembler's slots and bytes) and
 * overflow is counted. Not thread-safe. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nb/dgm.h"
#include "nb/err.h"
#include "nb/export.h"
#include "nb/name.h"
#include "nb/nsnode.h"

/* Compiled caps. */
#define NB_DGMSVC_MAX_IFACES NB_NSNODE_MAX_IFACES
#define NB_DGMSVC_MAX_NAMES 64  /* the node's names */
#define NB_DGMSVC_MAX_BINDS 64  /* application bindings */
#define NB_DGMSVC_MAX_SENDS 32  /* sends waiting for a name or the NBDD */
#define NB_DGMSVC_MAX_OUT 64    /* queued UDP payloads */
#define NB_DGMSVC_MAX_EVENTS 64 /* queued events */
#define NB_DGMSVC_RL_SLOTS 64   /* sources tracked by the rate limit */
#define NB_DGMSVC_SENT_RING 32  /* recent sends, to match DATAGRAM ERRORs */
#define NB_DGMSVC_MAX_DESTS 16  /* unicast copies of one group datagram */
#define NB_DGMSVC_OUT_MAX 1472  /* largest UDP payload (max_payload cap) */
#define NB_DGMSVC_SENT_KEEP_MS 30000u /* how long a send can be matched */

/* Configuration. nb_dgmsvc_config_init() fills every field with the
 * default shown; the engine copies it. */
typedef struct nb_dgmsvc_config {
  nb_nsnode_type_t node_type; /* B */
  nb_nsnode_iface_t ifaces[NB_DGMSVC_MAX_IFACES];
  size_t n_ifaces;              /* 0; at least 1 required. ifaces[0] is
                                   the primary address */
  char scope[NB_SCOPE_MAX + 1]; /* "": the node's scope (RFC 1002 5.3:
                                   single scope operation) */
  uint16_t port;                /* 138 DGM_SRVC_UDP_PORT: our SOURCE_PORT
                                   and the port datagrams are sent to */
  uint32_t nbdd;                /* 0 = none: the NBDD of P, M, H nodes */
  bool nbdd_query;              /* true: DATAGRAM QUERY REQUEST first */
  bool nbdd_role;               /* false: act as the NBDD */
  bool send_errors;             /* true: send DATAGRAM ERRORs at all */
  uint32_t nbdd_retry_ms;       /* 1000: query retransmission */
  uint32_t nbdd_retry_count;    /* 2: query copies sent */
  uint32_t resolve_timeout_ms;  /* 30000: bound on a resolution the shell
                                   never answers */
  size_t max_payload;           /* 548 (576 - IP and UDP headers, RFC 1002
                                   6 MAX_DATAGRAM_LENGTH): fragment above;
                                   100..NB_DGMSVC_OUT_MAX */
  nb_dgm_reasm_cfg_t reasm;     /* nb_dgm_reasm_cfg_default() */
  uint64_t id_seed;             /* 0: seeds DGM_IDs (pass random bits) */
  /* Rate limit of responses per source (token bucket, time passed in);
   * 0 rate = no limit. A global bucket bounds all sources together. */
  uint32_t rl_rate;         /* 5 responses per second per source */
  uint32_t rl_burst;        /* 10 */
  uint32_t rl_global_rate;  /* 100 per second, all sources */
  uint32_t rl_global_burst; /* 200 */
} nb_dgmsvc_config_t;

/* Why a received packet produced nothing (recv()'s result, counted). */
#define NB_DGMSVC_DROP_MAP(XX)                                                 \
  XX(NONE, "handled")                                                          \
  XX(TRUNCATED, "truncated packet")                                            \
  XX(MALFORMED, "malformed packet")                                            \
  XX(BAD_SOURCE_NAME, "SOURCE_NAME does not decode")                           \
  XX(BAD_DEST_NAME, "DESTINATION_NAME does not decode")                        \
  XX(OWN, "our own broadcast looped back")                                     \
  XX(BROADCAST_IGNORED, "broadcast ignored by a P node (RFC 1002 5.3.3)")      \
  XX(FRAGMENT, "fragment refused by the reassembler (see its counters)")       \
  XX(USER_DATA_LONG, "user data over 512 bytes (RFC 1001 17.1.2)")             \
  XX(OTHER_SCOPE, "destination in another NetBIOS scope")                      \
  XX(NOT_PRESENT, "destination is not one of the node's names")                \
  XX(NOT_MEMBER, "group destination the node does not hold (RFC 1001 17.2)")   \
  XX(NO_LISTENER, "no application bound to the destination")                   \
  XX(NOT_NBDD, "DATAGRAM QUERY REQUEST and the node is not the NBDD")          \
  XX(QUERY_BROADCAST, "DATAGRAM QUERY REQUEST by broadcast (RFC 1001 17.3)")   \
  XX(UNSOLICITED, "response or error matching nothing we sent")

typedef enum nb_dgmsvc_drop {
#define NB_DGMSVC_DROP_ENUM_(name, msg) NB_DGMSVC_DROP_##name,
  NB_DGMSVC_DROP_MAP(NB_DGMSVC_DROP_ENUM_)
#undef NB_DGMSVC_DROP_ENUM_
      NB_DGMSVC_DROP__COUNT
} nb_dgmsvc_drop_t;

typedef struct nb_dgmsvc_counters {
  uint64_t rx_packets;                  /* recv() calls */
  uint64_t rx_dropped;                  /* recv() calls not handled */
  uint64_t drop[NB_DGMSVC_DROP__COUNT]; /* per reason; [NONE] handled */
  uint64_t rx_datagrams;                /* whole datagrams received */
  uint64_t delivered;                   /* DATAGRAM events queued */
  uint64_t errors_sent;                 /* DATAGRAM ERRORs queued */
  uint64_t errors_not_sent;             /* ... not sent: SOURCE_IP is
                                           not the UDP source
                                           (relayed or forged) */
  uint64_t rate_limited;                /* responses (errors, NBDD
                                           answers, relays) suppressed
                                           by the rate limit */
  uint64_t errors_received;             /* DATAGRAM ERRORs received */
  uint64_t sends;                       /* nb_dgmsvc_send() accepted */
  uint64_t sends_ok;                    /* ... SEND_DONE with NB_OK */
  uint64_t sends_failed;                /* ... SEND_DONE with an error */
  uint64_t resolves;                    /* names handed to the shell */
  uint64_t nbdd_queries;                /* DATAGRAM QUERY REQUESTs sent */
  uint64_t nbdd_answers;                /* ... answered as the NBDD */
  uint64_t nbdd_relayed;                /* packets relayed as the NBDD */
  uint64_t tx_queued;                   /* UDP payloads queued */
  uint64_t tx_sent;                     /* ... advanced past by the shell */
  uint64_t tx_queue_full;               /* ... lost: queue full */
  uint64_t events_dropped;              /* events lost: queue full */
} nb_dgmsvc_counters_t;

/* One UDP payload to send (borrowed: valid until the next advance(),
 * recv(), on_timer() or operation on the engine). */
typedef struct nb_dgmsvc_out {
  const uint8_t *data;
  size_t len; /* <= max_payload */
  uint32_t dst_ip;
  uint16_t dst_port;
  bool broadcast;  /* dst_ip is a subnet broadcast address */
  uint32_t src_ip; /* own address to send from (picks the interface) */
} nb_dgmsvc_out_t;

/* Flags of nb_dgmsvc_bind(). */
#define NB_DGMSVC_BIND_BROADCAST                                               \
  0x1u /* NetBIOS broadcasts ('*'); `name`                                     \
          is ignored (RFC 1001 17.2 RECEIVE                                    \
          BROADCAST DATAGRAM) */
#define NB_DGMSVC_BIND_MONITOR                                                 \
  0x2u /* every datagram delivered to any binding, every broadcast, and every  \
          group datagram heard for a name the node does not hold (a monitor,   \
          e.g. `nbt browse`); never unique datagrams for other names */

/* Where a datagram goes (nb_dgmsvc_send_req_t.to). */
typedef enum nb_dgmsvc_to {
  NB_DGMSVC_TO_NAME = 0, /* resolve the destination: unique -> unicast to
                            its owner, group -> group distribution
                            (RFC 1002 5.3.1, 5.3.2) */
  NB_DGMSVC_TO_GROUP,    /* DIRECT_GROUP without resolving (what
                            browsers do for WORKGROUP<1d>) */
  NB_DGMSVC_TO_BROADCAST /* BROADCAST to '*' (destination ignored) */
} nb_dgmsvc_to_t;

/* Flags of nb_dgmsvc_send_req_t. */
#define NB_DGMSVC_SEND_ANY_SOURCE                                              \
  0x1u /* the source need not be one of the                                    \
          node's names (tools) */

typedef struct nb_dgmsvc_send_req {
  nb_dgmsvc_to_t to;
  unsigned flags;        /* NB_DGMSVC_SEND_* */
  nb_name_t source;      /* its scope is replaced by the node's */
  nb_name_t destination; /* likewise; ignored for TO_BROADCAST */
  uint32_t ip;           /* 0: as `to` says; else unicast to this address
                            without resolving (DIRECT_UNIQUE for TO_NAME) */
  const uint8_t *data;   /* borrowed for the call: copied */
  size_t len;            /* <= 512 (RFC 1001 17.1.2) */
} nb_dgmsvc_send_req_t;

typedef enum nb_dgmsvc_ev_type {
  NB_DGMSVC_EV_NONE = 0,
  /* A datagram for binding `id`. msg_type, src_ip/src_port (the header's
   * SOURCE_IP/SOURCE_PORT), peer_ip/peer_port (the UDP source),
   * was_broadcast, source_name, destination_name, data/data_len. */
  NB_DGMSVC_EV_DATAGRAM,
  /* A send finished. id = the send's handle; err: NB_OK (queued),
   * NB_ENOTFOUND (the name has no owner, or the NBDD refused a broadcast),
   * NB_ETIMEDOUT (no answer), NB_ELIMIT (a cap), NB_EIO (the name service
   * failed); msg_type, n_packets (UDP payloads queued), n_dests, dst_ip
   * (the first destination). */
  NB_DGMSVC_EV_SEND_DONE,
  /* A DATAGRAM ERROR came back for a recent send. id = its handle,
   * error_code (0x82..), peer_ip. */
  NB_DGMSVC_EV_SEND_ERROR
} nb_dgmsvc_ev_type_t;

/* An event, copied out by nb_dgmsvc_next_event() (owned by the caller). */
typedef struct nb_dgmsvc_event {
  nb_dgmsvc_ev_type_t type;
  uint32_t id;
  uint8_t msg_type;
  uint8_t error_code;
  nb_err_t err;
  bool was_broadcast;
  uint32_t src_ip;
  uint16_t src_port;
  uint32_t peer_ip;
  uint16_t peer_port;
  uint32_t dst_ip;
  size_t n_packets;
  size_t n_dests;
  nb_name_t source_name;
  nb_name_t destination_name;
  size_t data_len;
  uint8_t data[NB_DGM_USER_DATA_MAX];
} nb_dgmsvc_event_t;

/* A name a send needs resolved (nb_dgmsvc_next_resolve()). */
typedef struct nb_dgmsvc_resolve {
  uint32_t id;    /* pass back to nb_dgmsvc_resolved() */
  nb_name_t name; /* in the node's scope */
  bool members;   /* the group's member list is wanted (P node, NBDD
                     refused): ask the NBNS */
} nb_dgmsvc_resolve_t;

typedef struct nb_dgmsvc nb_dgmsvc_t;

NB_API void nb_dgmsvc_config_init(nb_dgmsvc_config_t *cfg);
/* NB_EINVAL (and `diag->field`) when something is missing or out of
 * range. */
NB_API nb_err_t nb_dgmsvc_config_check(const nb_dgmsvc_config_t *cfg,
                                       nb_diag_t *diag);
/* Bytes an engine needs (the same for every configuration). */
NB_API size_t nb_dgmsvc_size(void);
/* Set up an engine in caller memory `mem` of `size` >= nb_dgmsvc_size()
 * bytes, aligned for any type. `*out` points into `mem`. */
NB_API nb_err_t nb_dgmsvc_init(void *mem, size_t size,
                               const nb_dgmsvc_config_t *cfg,
                               nb_dgmsvc_t **out);
/* The same with one malloc'd block; release with nb_dgmsvc_free(). */
NB_API nb_err_t nb_dgmsvc_new(const nb_dgmsvc_config_t *cfg, nb_dgmsvc_t **out);
NB_API void nb_dgmsvc_free(nb_dgmsvc_t *e);

/* The node's names (copied; the scope is kept as given, so a name of
 * another scope never matches). NB_ESTATE if present, NB_ELIMIT when the
 * table is full, NB_EINVAL for a name starting with '*'. */
NB_API nb_err_t nb_dgmsvc_name_add(nb_dgmsvc_t *e, const nb_name_t *name,
                                   bool group);
/* NB_ENOTFOUND if absent. */
NB_API nb_err_t nb_dgmsvc_name_remove(nb_dgmsvc_t *e, const nb_name_t *name);
/* True when `name` is one of the node's names. */
NB_API bool nb_dgmsvc_name_present(const nb_dgmsvc_t *e, const nb_name_t *name);

/* Bind an application to datagrams for `name` (copied; may be NULL with
 * NB_DGMSVC_BIND_BROADCAST or _MONITOR). Datagrams are delivered only
 * while `name` is one of the node's names. `*id` (never 0) names the
 * binding in DATAGRAM events. NB_ELIMIT when full, NB_EINVAL for a NULL
 * name without a flag or a name starting with '*'. */
NB_API nb_err_t nb_dgmsvc_bind(nb_dgmsvc_t *e, const nb_name_t *name,
                               unsigned flags, uint32_t *id);
/* NB_ENOTFOUND if there is no such binding. */
NB_API nb_err_t nb_dgmsvc_unbind(nb_dgmsvc_t *e, uint32_t id);

/* Send a datagram. On NB_OK `*handle` (never 0) names the SEND_DONE
 * event to come (already queued when nothing had to be resolved).
 * NB_ELIMIT: user data over 512 bytes (RFC 1001 17.1.2), names that do
 * not fit in one packet, or too many sends pending; NB_ENOTFOUND: the
 * source is not one of the node's names (without
 * NB_DGMSVC_SEND_ANY_SOURCE); NB_EINVAL: a name starting with '*', a NULL
 * `data` with a length. `diag` (may be NULL) says which field. */
NB_API nb_err_t nb_dgmsvc_send(nb_dgmsvc_t *e, const nb_dgmsvc_send_req_t *rq,
                               uint64_t now_ms, uint32_t *handle,
                               nb_diag_t *diag);

/* The next name to resolve; false when there is none. The shell asks the
 * name service and answers with nb_dgmsvc_resolved(). */
NB_API bool nb_dgmsvc_next_resolve(nb_dgmsvc_t *e, nb_dgmsvc_resolve_t *rq);
/* The answer for `id`: the name service's result, the group flag and the
 * addresses (borrowed for the call). Unknown ids are ignored. */
NB_API void nb_dgmsvc_resolved(nb_dgmsvc_t *e, uint32_t id,
                               nb_nsnode_result_t result, bool group,
                               const uint32_t *addrs, size_t n_addrs,
                               uint64_t now_ms);

/* WARNING: parses untrusted network data (with nb_dgm_parse()).
 *
 * Feed one received UDP payload (borrowed for the call). `src_ip` and
 * `src_port` are the UDP sender's; `was_broadcast` says the datagram was
 * sent to a broadcast address. Returns NB_DGMSVC_DROP_NONE when the
 * packet was acted on (delivered, held as a fragment, answered),
 * otherwise why not (also counted). Never fails otherwise. */
NB_API nb_dgmsvc_drop_t nb_dgmsvc_recv(nb_dgmsvc_t *e, const uint8_t *pkt,
                                       size_t len, uint32_t src_ip,
                                       uint16_t src_port, bool was_broadcast,
                                       uint64_t now_ms);

NB_API bool nb_dgmsvc_pending(nb_dgmsvc_t *e, nb_dgmsvc_out_t *out);
NB_API void nb_dgmsvc_advance(nb_dgmsvc_t *e);
NB_API bool nb_dgmsvc_next_event(nb_dgmsvc_t *e, nb_dgmsvc_event_t *ev);
/* When on_timer() must next run; UINT64_MAX when nothing is scheduled. */
NB_API uint64_t nb_dgmsvc_next_deadline(const nb_dgmsvc_t *e);
/* Run every timer due at `now_ms` (fragment expiry, NBDD retries,
 * resolution bounds). Calling it early or often is harmless. */
NB_API void nb_dgmsvc_on_timer(nb_dgmsvc_t *e, uint64_t now_ms);

NB_API const nb_dgmsvc_counters_t *nb_dgmsvc_counters(const nb_dgmsvc_t *e);
NB_API const nb_dgm_reasm_stats_t *nb_dgmsvc_reasm_stats(const nb_dgmsvc_t *e);
NB_API const nb_dgmsvc_config_t *nb_dgmsvc_config(const nb_dgmsvc_t *e);
/* Reserved reassembly bytes now (never above cfg.reasm.max_bytes). */
NB_API size_t nb_dgmsvc_reasm_bytes(const nb_dgmsvc_t *e);
NB_API const char *nb_dgmsvc_drop_str(nb_dgmsvc_drop_t reason);
NB_API const char *nb_dgmsvc_drop_name(nb_dgmsvc_drop_t reason);

/* ------------------------------------------------------------------------
 * The application protocol of nbtd's datagram socket (docs/DATAGRAM-API.md)
 * as a pure codec: one line of ASCII per message, both directions.
 *
 *   client -> nbtd                       nbtd -> client
 *   BIND tag NAME [group]                OK tag [ID|text]
 *   BIND tag *                           ERR tag ECODE text
 *   MONITOR tag                          DGRAM ID KIND IP:PORT FROM TO B|U HEX
 *   UNBIND tag ID                        SENT tag KIND PACKETS IP
 *   SEND tag KIND FROM TO HEX [IP]       DERR tag CODE IP
 *   PING tag
 *
 * KIND is unique | group | broadcast (DGRAM, SENT) or name | group |
 * broadcast (SEND). Names are nb_name_to_text() forms with spaces written
 * `\x20`; FROM may be `-` (the node's name). HEX is lowercase hex, `-` for
 * no bytes. A tag is 1..16 of [A-Za-z0-9_.-]. */

#define NB_DGMSVC_API_LINE_MAX 2048 /* bytes, LF excluded */
#define NB_DGMSVC_API_TAG_MAX 16

typedef enum nb_dgmsvc_api_verb {
  NB_DGMSVC_API_BIND = 1,
  NB_DGMSVC_API_MONITOR,
  NB_DGMSVC_API_UNBIND,
  NB_DGMSVC_API_SEND,
  NB_DGMSVC_API_PING,
  NB_DGMSVC_API_OK,
  NB_DGMSVC_API_ERR,
  NB_DGMSVC_API_DGRAM,
  NB_DGMSVC_API_SENT,
  NB_DGMSVC_API_DERR
} nb_dgmsvc_api_verb_t;

/* KIND words. */
typedef enum nb_dgmsvc_api_kind {
  NB_DGMSVC_API_K_NAME = 0, /* SEND: resolve (TO_NAME) */
  NB_DGMSVC_API_K_UNIQUE,   /* DGRAM, SENT: DIRECT_UNIQUE */
  NB_DGMSVC_API_K_GROUP,    /* DIRECT_GROUP (SEND: TO_GROUP) */
  NB_DGMSVC_API_K_BROADCAST /* BROADCAST ('*') */
} nb_dgmsvc_api_kind_t;

/* One message. Only the fields of `verb` are meaningful:
 *   BIND: tag, name (or star), group.      MONITOR, PING: tag.
 *   UNBIND: tag, id.                       OK: tag, text (may be "").
 *   SEND: tag, kind, from (or from_node), to (or star), data, ip (0 none).
 *   ERR: tag, err, text.                   SENT: tag, kind, count, ip.
 *   DGRAM: id, kind, ip, port, from, to, broadcast, data.
 *   DERR: tag, code, ip. */
typedef struct nb_dgmsvc_api_msg {
  nb_dgmsvc_api_verb_t verb;
  char tag[NB_DGMSVC_API_TAG_MAX + 1];
  uint32_t id;
  nb_dgmsvc_api_kind_t kind;
  nb_name_t from;
  bool from_node; /* FROM was `-` */
  nb_name_t to;
  bool star; /* BIND *, or `*` as TO */
  bool group;
  bool broadcast;
  uint32_t ip;
  uint16_t port;
  uint32_t count;
  uint8_t code;
  nb_err_t err;
  char text[128]; /* OK / ERR text: printable ASCII */
  size_t data_len;
  uint8_t data[NB_DGM_USER_DATA_MAX];
} nb_dgmsvc_api_msg_t;

/* Parse one line (without its LF; a trailing CR is ignored).
 *
 * WARNING: parses untrusted input (any local process can connect).
 *
 * NB_EMALFORMED / NB_ELIMIT (data over 512 bytes, a long tag or line)
 * with `diag->offset` into `line` and the field. */
NB_API nb_err_t nb_dgmsvc_api_parse(const char *line, size_t len,
                                    nb_dgmsvc_api_msg_t *out, nb_diag_t *diag);

/* Write `m` as one line with its LF into `buf` (NUL-terminated when
 * cap > 0). Returns the length needed without the NUL, like snprintf; 0
 * when `m` cannot be written (unknown verb, data over 512 bytes). */
NB_API size_t nb_dgmsvc_api_format(const nb_dgmsvc_api_msg_t *m, char *buf,
                                   size_t cap);

#endif
