/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NB_DGMSVC_INT_H
#define NB_DGMSVC_INT_H

/* Internals of the datagram service engine (include/nb/dgmsvc.h), shared
 * by dgmsvc.c (memory, tables, queues, rate limit, timers), dgmsvc_recv.c
 * (reception, delivery, errors, the NBDD role) and dgmsvc_send.c (sends,
 * resolution, the NBDD client). Not installed. */

#include "nb/dgmsvc.h"

#define NB_DGS_NEVER UINT64_MAX

typedef struct nb_dgs_name {
  bool used;
  bool group;
  nb_name_t name;
} nb_dgs_name_t;

typedef struct nb_dgs_bind {
  uint32_t id; /* 0 = free */
  unsigned flags;
  nb_name_t name;
} nb_dgs_bind_t;

/* What a pending send waits for. */
typedef enum nb_dgs_state {
  NB_DGS_FREE = 0,
  NB_DGS_WANT_RESOLVE, /* not yet handed to the shell */
  NB_DGS_RESOLVING,    /* handed out; waiting for nb_dgmsvc_resolved() */
  NB_DGS_NBDD_QUERY    /* DATAGRAM QUERY REQUEST sent to the NBDD */
} nb_dgs_state_t;

typedef struct nb_dgs_send {
  nb_dgs_state_t state;
  uint32_t handle;
  uint8_t msg_type; /* DIRECT_UNIQUE/GROUP or BROADCAST once known */
  bool members;     /* resolving a group's member list (5.3.2) */
  uint8_t tries;    /* NBDD query copies sent */
  uint16_t dgm_id;
  uint64_t deadline; /* next retry or give-up */
  nb_name_t source;
  nb_name_t destination;
  size_t len;
  uint8_t data[NB_DGM_USER_DATA_MAX];
} nb_dgs_send_t;

typedef struct nb_dgs_out {
  size_t len;
  uint32_t dst_ip;
  uint16_t dst_port;
  bool broadcast;
  uint32_t src_ip;
  uint8_t data[NB_DGMSVC_OUT_MAX];
} nb_dgs_out_t;

/* A token bucket (tokens in thousandths). */
typedef struct nb_dgs_bucket {
  uint32_t ip;
  bool used;
  uint64_t milli;
  uint64_t last_ms;
  uint64_t touched; /* LRU order */
} nb_dgs_bucket_t;

/* A recent send, to match a DATAGRAM ERROR coming back. */
typedef struct nb_dgs_sent {
  uint32_t handle; /* 0 = free */
  uint16_t dgm_id;
  uint32_t dst_ip;
  uint64_t at;
} nb_dgs_sent_t;

struct nb_dgmsvc {
  nb_dgmsvc_config_t cfg;
  uint64_t now;
  uint64_t id_key;
  uint16_t id_ctr;
  uint32_t next_handle; /* sends and binds share the counter */
  nb_dgmsvc_counters_t ctr;
  nb_dgs_name_t names[NB_DGMSVC_MAX_NAMES];
  nb_dgs_bind_t binds[NB_DGMSVC_MAX_BINDS];
  nb_dgs_send_t sends[NB_DGMSVC_MAX_SENDS];
  nb_dgs_sent_t sent[NB_DGMSVC_SENT_RING];
  size_t sent_next;
  nb_dgs_out_t out[NB_DGMSVC_MAX_OUT];
  size_t out_head, out_count;
  nb_dgmsvc_event_t events[NB_DGMSVC_MAX_EVENTS];
  size_t ev_head, ev_count;
  nb_dgs_bucket_t rl[NB_DGMSVC_RL_SLOTS];
  nb_dgs_bucket_t rl_global;
  uint64_t rl_clock;
  nb_dgm_reasm_t reasm;
  nb_dgm_msg_t msg;   /* scratch: the packet being handled */
  nb_dgm_msg_t whole; /* scratch: a reassembled datagram */
};

/* dgmsvc.c */
void nb_dgs_set_now(nb_dgmsvc_t *e, uint64_t now_ms);
uint16_t nb_dgs_new_id(nb_dgmsvc_t *e);
uint32_t nb_dgs_new_handle(nb_dgmsvc_t *e);
/* A queue slot for one UDP payload, or NULL (counted) when full. */
nb_dgs_out_t *nb_dgs_out_new(nb_dgmsvc_t *e, uint32_t dst_ip, bool bcast);
/* A zeroed event of `type`, or NULL (counted) when the queue is full. */
nb_dgmsvc_event_t *nb_dgs_event(nb_dgmsvc_t *e, nb_dgmsvc_ev_type_t type);
/* One token from `ip`'s bucket and the global one; false: rate limited. */
bool nb_dgs_rl_take(nb_dgmsvc_t *e, uint32_t ip);
/* The own address to use towards `ip` (its subnet's, else the first). */
uint32_t nb_dgs_src_for(const nb_dgmsvc_t *e, uint32_t ip);
bool nb_dgs_is_own_ip(const nb_dgmsvc_t *e, uint32_t ip);
uint32_t nb_dgs_bcast(const nb_dgmsvc_t *e, size_t iface);
/* The SNT bits of our FLAGS (RFC 1002 4.4.1; H as Windows: 3). */
uint8_t nb_dgs_snt_flags(const nb_dgmsvc_t *e);
const nb_dgs_name_t *nb_dgs_name_find(const nb_dgmsvc_t *e,
                                      const nb_name_t *name);
bool nb_dgs_scope_is_ours(const nb_dgmsvc_t *e, const nb_name_t *name);

/* dgmsvc_send.c */
void nb_dgs_sends_timer(nb_dgmsvc_t *e);
uint64_t nb_dgs_sends_deadline(const nb_dgmsvc_t *e);
/* A POSITIVE/NEGATIVE DATAGRAM QUERY RESPONSE from `src`. */
nb_dgmsvc_drop_t nb_dgs_on_query_response(nb_dgmsvc_t *e, const nb_dgm_msg_t *m,
                                          uint32_t src);
/* A DATAGRAM ERROR from `src`. */
nb_dgmsvc_drop_t nb_dgs_on_error(nb_dgmsvc_t *e, const nb_dgm_msg_t *m,
                                 uint32_t src);
/* Queue `len` bytes as they are to ip:cfg.port from the interface
 * towards it; false when they were not queued. */
bool nb_dgs_emit_raw(nb_dgmsvc_t *e, const uint8_t *pkt, size_t len,
                     uint32_t ip, bool bcast);

/* dgmsvc_recv.c */
/* Deliver a whole datagram to the bindings that take it (also the local
 * copy of a datagram we broadcast); errors as for a received one. */
nb_dgmsvc_drop_t nb_dgs_deliver(nb_dgmsvc_t *e, const nb_dgm_msg_t *d,
                                uint32_t src, uint16_t port, bool bcast);

#endif
