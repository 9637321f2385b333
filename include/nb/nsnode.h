/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NB_NSNODE_H
#define NB_NSNODE_H

/* The name-service node: a sans-I/O engine for an end node of type B, P, M
 * or H (RFC 1001 15, RFC 1002 5.1). It registers, defends, refreshes and
 * releases the node's names, answers name queries and node status requests,
 * and resolves names for its user.
 *
 * The engine never touches a socket or a clock and never calls back:
 *  - bytes in:   nb_nsnode_recv(n, pkt, len, src_ip, src_port, bcast, now)
 *  - bytes out:  nb_nsnode_pending(n, &out) ... send ... nb_nsnode_advance(n)
 *  - time:       nb_nsnode_next_deadline(n), nb_nsnode_on_timer(n, now)
 *  - results:    nb_nsnode_next_event(n, &ev)
 *  - operations: nb_nsnode_add_name, _remove_name, _find, _status, _cancel,
 *                _shutdown.
 * A shell's loop: after every recv/operation/timer, drain pending() and
 * next_event(), then re-arm one timer to next_deadline().
 *
 * Conventions:
 *  - IPv4 addresses are uint32_t in host byte order: 192.0.2.10 is
 *    0xC000020A. Ports are host byte order.
 *  - Time is a monotonic millisecond count chosen by the caller; it must not
 *    go backwards (a smaller `now` is treated as the last one seen).
 *  - Memory: one block, sized from the configuration's caps at init
 *    (nb_nsnode_size()), either caller-provided (nb_nsnode_init) or from one
 *    malloc (nb_nsnode_new). Nothing is allocated after init; every table
 *    the network can fill is capped (names, cache, pending transactions,
 *    outgoing queue, event queue, rate-limit slots) and overflow is counted.
 *  - Not thread-safe: one engine per thread or external locking. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nb/err.h"
#include "nb/export.h"
#include "nb/name.h"

/* RFC 1002 6: defined constants (the config's defaults). */
#define NB_NSNODE_BCAST_REQ_RETRY_TIMEOUT_MS 250u
#define NB_NSNODE_BCAST_REQ_RETRY_COUNT 3u
#define NB_NSNODE_UCAST_REQ_RETRY_TIMEOUT_MS 5000u
#define NB_NSNODE_UCAST_REQ_RETRY_COUNT 3u
#define NB_NSNODE_CONFLICT_TIMER_MS 1000u
#define NB_NSNODE_MAX_DATAGRAM_LENGTH 576u /* largest payload we emit */
#define NB_NSNODE_NAME_SERVICE_UDP_PORT 137u

/* Fixed sizes of public structures. */
#define NB_NSNODE_MAX_IFACES 8 /* own addresses */
#define NB_NSNODE_MAX_NBNS 4   /* configured NBNS (WINS) servers */
#define NB_NSNODE_MAX_ADDRS                                                    \
  96                            /* addresses in one query result; a 576-byte   \
                                   response holds at most 86 */
#define NB_NSNODE_STATUS_MAX 64 /* names in one status result */
#define NB_NSNODE_UNIT_ID_LEN 6 /* RFC 1002 4.2.18 UNIT_ID (a MAC) */

/* Owner node type, with the RFC 1002 4.2.1.3 ONT wire values. H (3) is the
 * value RFC 1002 reserves and Microsoft and Samba use for hybrid nodes. */
typedef enum nb_nsnode_type {
  NB_NSNODE_TYPE_B = 0, /* broadcast only (RFC 1002 5.1.1) */
  NB_NSNODE_TYPE_P = 1, /* NBNS only (RFC 1002 5.1.2) */
  NB_NSNODE_TYPE_M = 2, /* broadcast, then NBNS (RFC 1002 5.1.3) */
  NB_NSNODE_TYPE_H = 3  /* NBNS, then broadcast (Microsoft practice) */
} nb_nsnode_type_t;

/* One own IPv4 address; the subnet broadcast address is derived as
 * ip | ~netmask (RFC 1002 6 BROADCAST_ADDRESS, RFC 950 2.3). */
typedef struct nb_nsnode_iface {
  uint32_t ip;
  uint32_t netmask;
} nb_nsnode_iface_t;

/* Configuration. Call nb_nsnode_config_init() first: it fills every field
 * with the defaults shown, then set what you need. The engine copies it. */
typedef struct nb_nsnode_config {
  nb_nsnode_type_t node_type; /* NB_NSNODE_TYPE_B */
  nb_nsnode_iface_t ifaces[NB_NSNODE_MAX_IFACES];
  size_t n_ifaces;                   /* 0; at least 1 required. ifaces[0] is the
                                        primary address (used with the NBNS) */
  uint32_t nbns[NB_NSNODE_MAX_NBNS]; /* NBNS servers, tried in order */
  size_t n_nbns;                     /* 0; P and M need at least one; an H node
                                        without one behaves as a B node */
  uint16_t nbns_port;                /* 137 */
  uint16_t bcast_port;               /* 137: where broadcasts and demands go */
  char scope[NB_SCOPE_MAX + 1];      /* "": the node's scope, used for the `*`
                                        of status requests with no name given */
  uint8_t unit_id[NB_NSNODE_UNIT_ID_LEN]; /* zeros: in status responses */
  uint64_t txid_seed; /* 0: seeds transaction IDs; the shell should
                         pass random bits (no RNG inside) */

  /* Timers and counts (RFC 1002 6). */
  uint32_t bcast_retry_ms;    /* 250 BCAST_REQ_RETRY_TIMEOUT */
  uint32_t bcast_retry_count; /* 3   BCAST_REQ_RETRY_COUNT */
  uint32_t ucast_retry_ms;    /* 5000 UCAST_REQ_RETRY_TIMEOUT */
  uint32_t ucast_retry_count; /* 3   UCAST_REQ_RETRY_COUNT */
  uint32_t conflict_timer_ms; /* 1000 CONFLICT_TIMER */
  uint32_t reg_ttl_s;         /* 259200: TTL proposed to the NBNS (nmbd's
                                 "max ttl"); broadcast requests carry 0 */
  uint32_t refresh_min_ms;    /* 60000: refresh no more often than this */
  uint32_t refresh_max_ms;    /* 1200000 (20 min, nmbd): refresh at least
                                 this often; refresh is at TTL/2 within
                                 [min, max] (RFC 1001 15.5.1) */
  uint32_t wack_max_s;        /* 600: cap on one WACK's wait (4.2.16) */
  uint32_t wack_max_count;    /* 4: WACKs honoured per transaction */
  uint32_t redirect_max;      /* 3: redirects followed per query */
  uint32_t cache_max_ttl_s;   /* 3600: cap on a cached positive answer */
  uint32_t neg_cache_ms;      /* 0: how long a negative answer (NAM_ERR)
                                 is remembered; 0 = not cached */
  bool send_overwrite;        /* true: broadcast a NAME OVERWRITE DEMAND
                                 after a successful B claim (RFC 1001
                                 15.2.1); nmbd does not */
  bool send_conflict_demand;  /* true: send NAME CONFLICT DEMAND to a node
                                 whose query answer conflicts (RFC 1001
                                 15.1.3.5) */

  /* Caps: every table's size, fixed at init. */
  uint32_t max_names;   /* 32: own names */
  uint32_t max_cache;   /* 64: cached answers */
  uint32_t max_pending; /* 16: queries and status requests in flight */
  uint32_t max_out;     /* 64: queued outgoing datagrams */
  uint32_t max_events;  /* 64: queued events */

  /* Response rate limit per source address (token bucket, time passed in):
   * every response we would send to a request (positive or negative query
   * answer, node status, defence) costs one token. 0 rate = no limit.
   * A second, global bucket bounds all responses together. */
  uint32_t rl_slots;        /* 64: sources tracked (LRU) */
  uint32_t rl_rate;         /* 20 responses per second per source */
  uint32_t rl_burst;        /* 40 */
  uint32_t rl_global_rate;  /* 2000 per second, all sources; 0 = none */
  uint32_t rl_global_burst; /* 4000 */
} nb_nsnode_config_t;

/* Why a received packet produced nothing. recv() returns one of these;
 * each is counted in nb_nsnode_counters_t.drop[]. */
#define NB_NSNODE_DROP_MAP(XX)                                                 \
  XX(NONE, "handled")                                                          \
  XX(TRUNCATED, "truncated packet")                                            \
  XX(MALFORMED, "malformed packet")                                            \
  XX(LIMIT, "packet exceeds a parser limit")                                   \
  XX(UNSUPPORTED, "opcode or packet kind not handled by an end node")          \
  XX(OWN, "our own broadcast looped back")                                     \
  XX(BROADCAST_IGNORED, "broadcast ignored by a P node (RFC 1002 5.1.2.5)")    \
  XX(NOT_OURS, "request for a name we do not hold")                            \
  XX(GROUP_NOT_DEFENDED, "group registration of our group name")               \
  XX(UNSOLICITED, "response matching no pending transaction")                  \
  XX(WRONG_SOURCE, "response from an address we did not ask")                  \
  XX(MISMATCH, "response does not match its request")                          \
  XX(RATE_LIMITED, "response suppressed by the rate limit")                    \
  XX(QUEUE_FULL, "outgoing queue full")                                        \
  XX(SHUT_DOWN, "engine shut down")                                            \
  XX(RELEASE_IGNORED, "release of our name from a node other than the NBNS")   \
  XX(INCOMPLETE, "request lacks the record or entry it needs")

typedef enum nb_nsnode_drop {
#define NB_NSNODE_DROP_ENUM_(name, msg) NB_NSNODE_DROP_##name,
  NB_NSNODE_DROP_MAP(NB_NSNODE_DROP_ENUM_)
#undef NB_NSNODE_DROP_ENUM_
      NB_NSNODE_DROP__COUNT
} nb_nsnode_drop_t;

/* Counters, readable at any time through nb_nsnode_counters(). */
typedef struct nb_nsnode_counters {
  uint64_t rx_packets; /* recv() calls */
  uint64_t rx_dropped; /* recv() calls that returned a drop reason */
  uint64_t drop[NB_NSNODE_DROP__COUNT]; /* per reason; drop[NONE] = handled */
  uint64_t tx_queued;                   /* datagrams queued for sending */
  uint64_t tx_sent;          /* datagrams advanced past by the shell */
  uint64_t tx_queue_full;    /* datagrams lost because the queue was full */
  uint64_t events_dropped;   /* events lost because the queue was full */
  uint64_t answers_positive; /* positive name query responses sent */
  uint64_t answers_negative; /* negative name query responses sent */
  uint64_t status_answers;   /* node status responses sent */
  uint64_t defences;         /* negative registration responses sent */
  uint64_t rate_limited;     /* responses suppressed (= drop[RATE_LIMITED]) */
  uint64_t retransmits;      /* requests sent again after a timeout */
} nb_nsnode_counters_t;

/* One datagram to send (borrowed: valid until the next advance(), recv(),
 * on_timer() or operation on the engine). */
typedef struct nb_nsnode_out {
  const uint8_t *data;
  size_t len; /* <= NB_NSNODE_MAX_DATAGRAM_LENGTH */
  uint32_t dst_ip;
  uint16_t dst_port;
  bool broadcast;  /* dst_ip is a subnet broadcast address */
  uint32_t src_ip; /* own address to send from (picks the interface) */
} nb_nsnode_out_t;

/* Flags of nb_nsnode_add_name(). */
#define NB_NSNODE_F_GROUP 0x1u /* group name (else unique) */
#define NB_NSNODE_F_PERMANENT                                                  \
  0x2u /* the permanent node name: PRM in node                                 \
          status (RFC 1002 4.2.18) */

/* State of an own name (RFC 1001 15.1.1). */
typedef enum nb_nsnode_name_state {
  NB_NSNODE_NAME_REGISTERING = 1, /* claim in progress: not ours yet */
  NB_NSNODE_NAME_ACTIVE,          /* ours: answered, defended, refreshed */
  NB_NSNODE_NAME_CONFLICT,        /* CNF: logically absent; only remove */
  NB_NSNODE_NAME_RELEASING        /* DRG: release in progress */
} nb_nsnode_name_state_t;

/* A snapshot of one own name (nb_nsnode_names()). */
typedef struct nb_nsnode_name_info {
  nb_name_t name;
  bool group;
  bool permanent;
  nb_nsnode_name_state_t state;
  uint32_t ttl_s;         /* TTL granted by the NBNS; 0 = infinite/none */
  uint64_t refresh_at_ms; /* next refresh; UINT64_MAX = none */
} nb_nsnode_name_info_t;

/* How a query or status request is sent. */
typedef enum nb_nsnode_via {
  NB_NSNODE_VIA_DEFAULT = 0, /* as the node type says */
  NB_NSNODE_VIA_BCAST,       /* broadcast on every interface */
  NB_NSNODE_VIA_NBNS,        /* unicast to the NBNS servers in order */
  NB_NSNODE_VIA_UNICAST      /* unicast to opts.ip */
} nb_nsnode_via_t;

/* Flags of nb_nsnode_query_opts_t. */
#define NB_NSNODE_Q_NO_CACHE 0x1u /* skip the cache (and do not fill it) */
#define NB_NSNODE_Q_COLLECT                                                    \
  0x2u /* broadcast: keep collecting answers until                             \
          the retry schedule ends, then report                                 \
          them all (nmblookup -B style) */
#define NB_NSNODE_Q_RD                                                         \
  0x4u /* no effect: queries set RD unless                                     \
          NB_NSNODE_Q_NO_RD (RFC 1002 4.2.12) */
#define NB_NSNODE_Q_NO_RD                                                      \
  0x8u /* clear RD on a unicast query to a node                                \
          (nmblookup without -R); never towards                                \
          the NBNS */

typedef struct nb_nsnode_query_opts {
  nb_nsnode_via_t via;
  unsigned flags;      /* NB_NSNODE_Q_* */
  uint32_t ip;         /* VIA_UNICAST target (host order) */
  uint16_t port;       /* VIA_UNICAST/status port; 0 = 137 */
  uint32_t timeout_ms; /* 0 = the RFC retry schedule decides; else an
                          overall limit that ends the request early */
} nb_nsnode_query_opts_t;

typedef enum nb_nsnode_result {
  NB_NSNODE_FOUND = 0, /* addresses (query) or a table (status) */
  NB_NSNODE_NOT_FOUND, /* a negative answer (NAM_ERR) */
  NB_NSNODE_TIMEOUT,   /* no answer after the retries */
  NB_NSNODE_FAILED     /* the request could not be made (see ev.err) */
} nb_nsnode_result_t;

/* Why a name left the table. */
typedef enum nb_nsnode_removed {
  NB_NSNODE_REMOVED_USER = 0, /* nb_nsnode_remove_name() */
  NB_NSNODE_REMOVED_SHUTDOWN, /* nb_nsnode_shutdown() */
  NB_NSNODE_REMOVED_NBNS      /* the NBNS sent a NAME RELEASE REQUEST
                                 (RFC 1001 15.1.7 item 3), acknowledged
                                 with a POSITIVE NAME RELEASE RESPONSE
                                 (15.5.3) */
} nb_nsnode_removed_t;

/* One entry of a node status table (RFC 1002 4.2.18 NODE_NAME). */
typedef struct nb_nsnode_status_entry {
  uint8_t name[NB_NAME_BYTES]; /* 15 bytes + suffix, as received */
  uint16_t flags;              /* NAME_FLAGS: G ONT DRG CNF ACT PRM */
} nb_nsnode_status_entry_t;

typedef struct nb_nsnode_status_table {
  size_t n_names;
  nb_nsnode_status_entry_t names[NB_NSNODE_STATUS_MAX];
  bool truncated; /* more names than fit, or TC set by the responder */
  uint8_t unit_id[NB_NSNODE_UNIT_ID_LEN];
} nb_nsnode_status_table_t;

typedef enum nb_nsnode_ev_type {
  NB_NSNODE_EV_NONE = 0,
  /* A name is now ours (claim succeeded). name, group. */
  NB_NSNODE_EV_NAME_ADDED,
  /* The claim failed: someone objected. name, group, rcode (the wire
   * RCODE, e.g. 6 ACT_ERR), peer_ip (the objecting node or NBNS), owner_ip
   * (the NB_ADDRESS in the response: the current owner when given). */
  NB_NSNODE_EV_NAME_REFUSED,
  /* A held name is now in conflict (CNF): a NAME CONFLICT DEMAND arrived,
   * or the NBNS refused a refresh. It is no longer answered, defended or
   * refreshed; only remove_name() is valid. name, peer_ip. */
  NB_NSNODE_EV_NAME_CONFLICT,
  /* A name left the table (after its release, if one was sent). name,
   * removed (the reason). */
  NB_NSNODE_EV_NAME_REMOVED,
  /* The NBNS renewed a name. name, ttl_s (granted). */
  NB_NSNODE_EV_NAME_REFRESHED,
  /* A find() finished. handle, name, result; when FOUND: n_addrs/addrs,
   * group, ttl_s, peer_ip (first responder), from_cache. */
  NB_NSNODE_EV_QUERY_RESULT,
  /* Two inconsistent answers for a unique name (RFC 1001 15.1.3.5): the
   * cache entry is dropped. handle, name, addrs[0] (the first, authoritative
   * answer), peer_ip (the node whose answer conflicts). */
  NB_NSNODE_EV_QUERY_CONFLICT,
  /* A status() finished. handle, result, peer_ip, status. */
  NB_NSNODE_EV_STATUS_RESULT,
  /* Something went wrong without ending a handle: e.g. the NBNS did not
   * answer a registration (err = NB_ETIMEDOUT) or a refresh. name, err. */
  NB_NSNODE_EV_ERROR
} nb_nsnode_ev_type_t;

/* An event, copied out by nb_nsnode_next_event() (owned by the caller).
 * Only the fields listed for its type are meaningful. */
typedef struct nb_nsnode_event {
  nb_nsnode_ev_type_t type;
  uint32_t handle; /* QUERY_*, STATUS_RESULT: from find()/status() */
  nb_name_t name;
  bool group;
  nb_nsnode_result_t result;
  nb_nsnode_removed_t removed;
  nb_err_t err;
  uint8_t rcode;
  uint32_t peer_ip;
  uint32_t owner_ip;
  uint32_t ttl_s;
  bool from_cache;
  size_t n_addrs;
  uint32_t addrs[NB_NSNODE_MAX_ADDRS];
  nb_nsnode_status_table_t status;
} nb_nsnode_event_t;

typedef struct nb_nsnode nb_nsnode_t;

/* Fill `cfg` with the defaults documented on each field. */
NB_API void nb_nsnode_config_init(nb_nsnode_config_t *cfg);

/* Check a configuration: NB_EINVAL (and `diag->field` naming the field)
 * when something is missing or out of range. */
NB_API nb_err_t nb_nsnode_config_check(const nb_nsnode_config_t *cfg,
                                       nb_diag_t *diag);

/* Bytes an engine with this configuration needs; 0 if it is invalid. */
NB_API size_t nb_nsnode_size(const nb_nsnode_config_t *cfg);

/* Set up an engine in caller memory `mem` of `size` >= nb_nsnode_size(cfg)
 * bytes, aligned for any type (malloc alignment). `*out` points into `mem`,
 * which must outlive it; there is nothing to free. */
NB_API nb_err_t nb_nsnode_init(void *mem, size_t size,
                               const nb_nsnode_config_t *cfg,
                               nb_nsnode_t **out);

/* The same with one malloc'd block; release with nb_nsnode_free(). */
NB_API nb_err_t nb_nsnode_new(const nb_nsnode_config_t *cfg, nb_nsnode_t **out);
NB_API void nb_nsnode_free(nb_nsnode_t *n);

/* Claim `name` (copied) as unique or group (`flags`: NB_NSNODE_F_*). The
 * outcome comes as NAME_ADDED or NAME_REFUSED (or ERROR). NB_ESTATE if the
 * name is already in the table or the engine is shut down, NB_ELIMIT if the
 * table is full, NB_EINVAL for a bad name. */
NB_API nb_err_t nb_nsnode_add_name(nb_nsnode_t *n, const nb_name_t *name,
                                   unsigned flags, uint64_t now_ms);

/* Release `name`: a NAME RELEASE (broadcast and/or to the NBNS as the node
 * type says), then NAME_REMOVED. A name in conflict or still being claimed
 * is dropped without a release. NB_ENOTFOUND if it is not in the table. */
NB_API nb_err_t nb_nsnode_remove_name(nb_nsnode_t *n, const nb_name_t *name,
                                      uint64_t now_ms);

/* Resolve `name`. `opts` may be NULL (defaults). On NB_OK `*handle`
 * identifies the QUERY_RESULT event to come (which may already be queued,
 * e.g. from the cache). NB_ELIMIT when max_pending requests are in flight. */
NB_API nb_err_t nb_nsnode_find(nb_nsnode_t *n, const nb_name_t *name,
                               const nb_nsnode_query_opts_t *opts,
                               uint64_t now_ms, uint32_t *handle);

/* Ask node `ip` for its status. `name` is the question name; NULL means
 * `*<00>` in the configured scope. opts may be NULL (port 137, UCAST
 * timers). The result comes as STATUS_RESULT with `*handle`. */
NB_API nb_err_t nb_nsnode_status(nb_nsnode_t *n, uint32_t ip,
                                 const nb_name_t *name,
                                 const nb_nsnode_query_opts_t *opts,
                                 uint64_t now_ms, uint32_t *handle);

/* Forget a find()/status() in flight; no event follows. NB_ENOTFOUND if the
 * handle is not pending. */
NB_API nb_err_t nb_nsnode_cancel(nb_nsnode_t *n, uint32_t handle);

/* Stop: cancel queries, release every active name (queued now, sent on the
 * usual schedule), refuse new operations. Keep pumping until
 * nb_nsnode_done(). */
NB_API void nb_nsnode_shutdown(nb_nsnode_t *n, uint64_t now_ms);

/* True after shutdown once every release has finished and the outgoing
 * queue is empty. */
NB_API bool nb_nsnode_done(const nb_nsnode_t *n);

/* WARNING: parses untrusted network data (with nb_ns_parse()).
 *
 * Feed one received UDP payload (borrowed for the call only). `src_ip` and
 * `src_port` are the sender's; `was_broadcast` says the datagram was sent
 * to a broadcast address. Returns NB_NSNODE_DROP_NONE when the packet was
 * acted on, otherwise why it was dropped (also counted). Never fails in any
 * other way, whatever the bytes. */
NB_API nb_nsnode_drop_t nb_nsnode_recv(nb_nsnode_t *n, const uint8_t *pkt,
                                       size_t len, uint32_t src_ip,
                                       uint16_t src_port, bool was_broadcast,
                                       uint64_t now_ms);

/* The next datagram to send, if any (see nb_nsnode_out_t for lifetime). */
NB_API bool nb_nsnode_pending(nb_nsnode_t *n, nb_nsnode_out_t *out);

/* Drop the datagram pending() returned (sent, or given up by the shell). */
NB_API void nb_nsnode_advance(nb_nsnode_t *n);

/* When on_timer() must next be called; UINT64_MAX if nothing is scheduled. */
NB_API uint64_t nb_nsnode_next_deadline(const nb_nsnode_t *n);

/* Run every timer due at `now_ms` (retransmissions, claims, refreshes,
 * timeouts). Calling it early or often is harmless. */
NB_API void nb_nsnode_on_timer(nb_nsnode_t *n, uint64_t now_ms);

/* Copy out the oldest event; false when there is none. */
NB_API bool nb_nsnode_next_event(nb_nsnode_t *n, nb_nsnode_event_t *ev);

/* Live counters (borrowed: valid as long as the engine). */
NB_API const nb_nsnode_counters_t *nb_nsnode_counters(const nb_nsnode_t *n);

/* A static description of a drop reason; never NULL. */
NB_API const char *nb_nsnode_drop_str(nb_nsnode_drop_t reason);
/* The reason's short name ("MALFORMED"); never NULL. */
NB_API const char *nb_nsnode_drop_name(nb_nsnode_drop_t reason);

/* Copy up to `cap` own names into `out`; returns how many the table holds
 * (which may be more than `cap`). */
NB_API size_t nb_nsnode_names(const nb_nsnode_t *n, nb_nsnode_name_info_t *out,
                              size_t cap);

/* The configuration in use (borrowed). */
NB_API const nb_nsnode_config_t *nb_nsnode_config(const nb_nsnode_t *n);

#endif
