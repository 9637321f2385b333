/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NB_NSNODE_INT_H
#define NB_NSNODE_INT_H

/* Internals of the name-service node engine (include/nb/nsnode.h), shared
 * by nsnode.c (core: memory, queues, rate limit, dispatch, timers),
 * nsnode_names.c (own names: claim, defend, answer, refresh, release) and
 * nsnode_query.c (find, status, cache). Not installed. */

#include "nb/ns.h"
#include "nb/nsnode.h"

/* Upper bounds on the configurable caps (memory stays bounded even for a
 * silly configuration). */
#define NB_NSN_CAP_NAMES 1024u
#define NB_NSN_CAP_CACHE 4096u
#define NB_NSN_CAP_PENDING 1024u
#define NB_NSN_CAP_QUEUE 4096u
#define NB_NSN_CAP_RL 4096u
#define NB_NSN_CACHE_ADDRS 16 /* addresses kept per cached name */
#define NB_NSN_DEMANDED 4     /* conflict demands sent per query */
#define NB_NSN_NEVER UINT64_MAX

/* A request we (re)transmit: one transaction ID for all its copies. */
typedef struct nb_nsn_txn {
  uint16_t trn_id;
  uint8_t tries;     /* copies sent so far */
  uint8_t max_tries; /* BCAST_/UCAST_REQ_RETRY_COUNT */
  uint8_t wacks;     /* WACKs honoured */
  bool bcast;        /* sent to the subnet broadcast addresses */
  uint16_t dst_port;
  uint32_t interval_ms; /* BCAST_/UCAST_REQ_RETRY_TIMEOUT */
  uint32_t dst_ip;      /* unicast destination */
  uint64_t deadline;    /* next retransmission or give-up; NEVER = idle */
} nb_nsn_txn_t;

/* What an own name's transaction is doing (one at a time). */
typedef enum nb_nsn_phase {
  NB_NSN_PH_NONE = 0,
  NB_NSN_PH_REG_BCAST, /* broadcast claim (RFC 1002 5.1.1.1) */
  NB_NSN_PH_REG_NBNS,  /* registration with the NBNS (5.1.2.1) */
  NB_NSN_PH_CHALLENGE, /* end-node challenge: query the owner (5.1.2.1) */
  NB_NSN_PH_OVERWRITE, /* NAME OVERWRITE REQUEST to the NBNS (5.1.2.1) */
  NB_NSN_PH_REFRESH,   /* NAME REFRESH REQUEST (5.1.2.6) */
  NB_NSN_PH_REL_NBNS,  /* release at the NBNS (5.1.2.4) */
  NB_NSN_PH_REL_BCAST  /* broadcast release (5.1.1.4) */
} nb_nsn_phase_t;

typedef struct nb_nsn_name {
  bool used;
  bool group;
  bool permanent;
  bool nbns_registered; /* the NBNS holds it: release and refresh there */
  bool bcast_fallback;  /* H node: the NBNS was unreachable */
  uint8_t phase;        /* nb_nsn_phase_t */
  uint8_t server;       /* NBNS index in use */
  uint8_t removed;      /* nb_nsnode_removed_t once a release started */
  nb_nsnode_name_state_t state;
  nb_nsn_txn_t tx;
  uint32_t ttl_s; /* granted by the NBNS */
  uint32_t challenge_ip;
  uint64_t refresh_at; /* NEVER = no refresh */
  nb_name_t name;
} nb_nsn_name_t;

/* Query and status request phases. */
typedef enum nb_nsn_rphase {
  NB_NSN_RQ_NONE = 0,
  NB_NSN_RQ_BCAST,   /* broadcast query (RFC 1002 5.1.1.3) */
  NB_NSN_RQ_NBNS,    /* query to the NBNS (5.1.2.3) */
  NB_NSN_RQ_UNICAST, /* query to a chosen node */
  NB_NSN_RQ_STATUS,  /* node status request (RFC 1001 15.6) */
  NB_NSN_RQ_WATCH    /* answered; watching for conflicts (15.1.3.5) */
} nb_nsn_rphase_t;

typedef struct nb_nsn_req {
  bool used;
  bool answered; /* a positive answer is in addrs */
  bool group;    /* of the authoritative answer */
  bool negative; /* a negative answer came (reported if nothing better) */
  uint8_t phase; /* nb_nsn_rphase_t */
  uint8_t plan[2];
  uint8_t plan_i;
  uint8_t server;
  uint8_t redirects;
  uint8_t n_demanded;
  uint32_t handle;
  uint32_t first_ip; /* authoritative responder */
  uint32_t ttl_s;
  uint64_t hard_deadline; /* opts.timeout_ms; NEVER = none */
  nb_nsn_txn_t tx;
  nb_nsnode_query_opts_t opts;
  nb_name_t name;
  uint32_t demanded[NB_NSN_DEMANDED];
  size_t n_addrs;
  uint32_t addrs[NB_NSNODE_MAX_ADDRS];
} nb_nsn_req_t;

typedef struct nb_nsn_cache {
  bool used;
  bool group;
  bool negative;
  uint8_t n_addrs;
  uint32_t ttl_s;
  uint64_t expires;
  uint32_t addrs[NB_NSN_CACHE_ADDRS];
  nb_name_t name;
} nb_nsn_cache_t;

typedef struct nb_nsn_out {
  size_t len;
  uint32_t dst_ip;
  uint32_t src_ip;
  uint16_t dst_port;
  bool broadcast;
  uint8_t buf[NB_NSNODE_MAX_DATAGRAM_LENGTH];
} nb_nsn_out_t;

/* Token bucket in milli-tokens: `rate` tokens per second is `rate`
 * milli-tokens per millisecond. */
typedef struct nb_nsn_bucket {
  uint32_t ip;
  bool used;
  uint64_t tokens;
  uint64_t last_ms;
} nb_nsn_bucket_t;

struct nb_nsnode {
  nb_nsnode_config_t cfg;
  uint64_t now;
  uint64_t prng;    /* key of the transaction-ID permutation */
  uint16_t trn_ctr; /* transaction IDs issued (mod 65536) */
  uint32_t next_handle;
  bool shut_down;
  bool heap; /* from nb_nsnode_new() */
  nb_nsnode_counters_t ctr;
  nb_ns_msg_t msg; /* parse scratch (about 5 KiB) */
  nb_nsn_name_t *names;
  nb_nsn_req_t *reqs;
  /* Slots ever used: names[0, names_hi) and reqs[0, reqs_hi). Allocation
   * takes the first free slot, so the scans that look for used entries on
   * every packet stop here instead of at the configured caps. */
  uint32_t names_hi, reqs_hi;
  nb_nsn_cache_t *cache;
  nb_nsn_out_t *outq;
  uint32_t out_head, out_count;
  nb_nsnode_event_t *evq;
  uint32_t ev_head, ev_count;
  nb_nsn_bucket_t *rl;
  nb_nsn_bucket_t global;
};

/* ---- nsnode.c: shared helpers ------------------------------------------ */

/* A fresh transaction ID not used by any transaction in flight. */
uint16_t nb_nsn_new_trn(nb_nsnode_t *n);
/* The next event slot, zeroed with `type` set; NULL (counted) when full. */
nb_nsnode_event_t *nb_nsn_event(nb_nsnode_t *n, nb_nsnode_ev_type_t type);
/* Build a `kind` packet and queue it. False (counted) if the queue is full
 * or the packet would not fit in MAX_DATAGRAM_LENGTH. */
bool nb_nsn_send(nb_nsnode_t *n, nb_ns_kind_t kind, const nb_ns_build_args_t *a,
                 uint32_t dst_ip, uint16_t dst_port, bool bcast,
                 uint32_t src_ip);
/* May we answer `ip` now? Consumes a token when true. */
bool nb_nsn_rl_allow(nb_nsnode_t *n, uint32_t ip);
/* Index of the interface on the sender's subnet, else 0 (the primary). */
size_t nb_nsn_iface_for(const nb_nsnode_t *n, uint32_t ip);
uint32_t nb_nsn_bcast_addr(const nb_nsnode_iface_t *ifc);
bool nb_nsn_is_own_ip(const nb_nsnode_t *n, uint32_t ip);
bool nb_nsn_is_nbns(const nb_nsnode_t *n, uint32_t ip);
/* NB_FLAGS / NAME_FLAGS ONT bits of this node. */
uint16_t nb_nsn_ont(const nb_nsnode_t *n);
/* Start `tx`: new ID, no copies yet, broadcast or unicast timers. */
void nb_nsn_txn_start(nb_nsnode_t *n, nb_nsn_txn_t *tx, bool bcast,
                      uint32_t dst_ip, uint16_t dst_port);
/* One copy went out now: count it and arm the retransmission timer. */
void nb_nsn_txn_sent(nb_nsnode_t *n, nb_nsn_txn_t *tx);
/* A WACK arrived: wait its TTL (capped) before the next try. False when
 * the WACK allowance is used up. */
bool nb_nsn_txn_wack(nb_nsnode_t *n, nb_nsn_txn_t *tx, uint32_t ttl_s);
/* Does the effective node type use the NBNS / broadcasts? */
bool nb_nsn_has_nbns(const nb_nsnode_t *n);

/* ---- nsnode_names.c: own names ------------------------------------------ */

nb_nsn_name_t *nb_nsn_name_find(nb_nsnode_t *n, const nb_name_t *name);
nb_nsn_name_t *nb_nsn_name_by_trn(nb_nsnode_t *n, uint16_t trn_id);
void nb_nsn_name_timer(nb_nsnode_t *n, nb_nsn_name_t *e);
/* Requests from the network about own names. */
nb_nsnode_drop_t nb_nsn_on_query(nb_nsnode_t *n, const nb_ns_msg_t *m,
                                 uint32_t src, uint16_t port, bool bcast);
nb_nsnode_drop_t nb_nsn_on_status(nb_nsnode_t *n, const nb_ns_msg_t *m,
                                  uint32_t src, uint16_t port);
nb_nsnode_drop_t nb_nsn_on_registration(nb_nsnode_t *n, const nb_ns_msg_t *m,
                                        uint32_t src, uint16_t port);
nb_nsnode_drop_t nb_nsn_on_release(nb_nsnode_t *n, const nb_ns_msg_t *m,
                                   uint32_t src, uint16_t port, bool bcast);
nb_nsnode_drop_t nb_nsn_on_conflict_demand(nb_nsnode_t *n, const nb_ns_msg_t *m,
                                           uint32_t src);
/* A response whose transaction ID is an own name's. */
nb_nsnode_drop_t nb_nsn_name_response(nb_nsnode_t *n, nb_nsn_name_t *e,
                                      const nb_ns_msg_t *m, uint32_t src);
void nb_nsn_names_shutdown(nb_nsnode_t *n);

/* ---- nsnode_query.c: find, status, cache --------------------------------- */

nb_nsn_req_t *nb_nsn_req_by_trn(nb_nsnode_t *n, uint16_t trn_id);
void nb_nsn_req_timer(nb_nsnode_t *n, nb_nsn_req_t *q);
nb_nsnode_drop_t nb_nsn_req_response(nb_nsnode_t *n, nb_nsn_req_t *q,
                                     const nb_ns_msg_t *m, uint32_t src);
/* Forget cached answers for `name` (a release or overwrite was heard). */
bool nb_nsn_cache_forget(nb_nsnode_t *n, const nb_name_t *name);
void nb_nsn_reqs_shutdown(nb_nsnode_t *n);

#endif
