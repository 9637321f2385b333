/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NB_NBNS_INT_H
#define NB_NBNS_INT_H

/* Internals of the NBNS server engine (include/nb/nbns.h), shared by
 * nbns.c (memory, the name table, the journal, the outgoing queue, timers),
 * nbns_reg.c (registration, refresh, release, challenges) and nbns_recv.c
 * (intake and queries). Not installed. */

#include "nb/nbns.h"
#include "nb/ns.h"

/* Upper bounds on the configurable caps. */
#define NB_NBS_CAP_NAMES (1u << 22) /* 4 Mi names */
#define NB_NBS_CAP_CHALLENGES 4096u
#define NB_NBS_CAP_OUT 65536u
#define NB_NBS_CAP_JOURNAL (1u << 20)
#define NB_NBS_NIL UINT32_MAX
#define NB_NBS_MAX_ROUNDS (NB_NBNS_MAX_ADDRS + 2) /* challenges per request */

/* One member of a name (a slot of the shared pool). */
typedef struct nb_nbs_slot {
  uint32_t ip;
  uint16_t nb_flags;
  bool is_static;
  uint64_t expire_ms; /* NB_NBNS_NEVER for static members */
  uint32_t next;      /* next member of the name, or next free slot */
} nb_nbs_slot_t;

/* One name. Members are a list in registration order (oldest first). */
typedef struct nb_nbs_rec {
  uint32_t hash;    /* nb_name_hash(&name): compared before the name */
  uint32_t next;    /* hash chain, or next free record */
  uint32_t members; /* first slot, NB_NBS_NIL when none */
  uint8_t n_members;
  bool used;
  bool group;
  bool is_static;    /* a static unique name: nobody else may hold it */
  bool dirty;        /* a journal entry for it is not pulled yet */
  uint64_t last_seq; /* journal seq covering its latest change; 0 = none */
  nb_name_t name;
} nb_nbs_rec_t;

/* A registration being decided (parsed from the request, or kept by a
 * challenge while the owner is asked). */
typedef struct nb_nbs_req {
  nb_name_t name;
  uint16_t trn_id;
  uint16_t flags_word; /* the request's second header word (WACK RDATA) */
  uint8_t opcode;      /* 5, 8, 9 or 15 */
  bool group;
  bool multihomed;
  bool refresh;
  uint8_t rounds;    /* challenges already made for it */
  uint16_t nb_flags; /* of the first entry (echoed in the response) */
  uint32_t src_ip;
  uint16_t src_port;
  uint32_t ttl_s; /* granted */
  uint8_t n_addrs;
  uint32_t addrs[NB_NBNS_MAX_ADDRS];
  uint16_t addr_flags[NB_NBNS_MAX_ADDRS];
} nb_nbs_req_t;

/* A challenge in flight (RFC 1002 5.1.4.1, secure server). */
typedef struct nb_nbs_chal {
  bool used;
  uint8_t tries;
  uint16_t trn_id; /* of our NAME QUERY REQUEST */
  uint32_t owner_ip;
  uint64_t deadline;
  nb_nbs_req_t req;
} nb_nbs_chal_t;

/* A datagram queued for sending, held until `need_seq` is durable. */
typedef struct nb_nbs_out {
  uint64_t need_seq;
  uint32_t dst_ip;
  uint16_t dst_port;
  uint16_t len;
  uint8_t buf[NB_NBNS_DATAGRAM_MAX];
} nb_nbs_out_t;

/* A journal entry: the name changed at `seq` (resolved when pulled). */
typedef struct nb_nbs_jent {
  uint64_t seq;
  nb_name_t name;
} nb_nbs_jent_t;

struct nb_nbns {
  nb_nbns_config_t cfg;
  uint64_t now;
  uint64_t prng;
  uint16_t trn_ctr;
  bool heap;
  nb_nbns_counters_t ctr;
  nb_ns_msg_t msg; /* parse scratch */
  /* the table */
  nb_nbs_rec_t *recs;
  uint32_t *buckets;
  uint32_t n_buckets; /* a power of two */
  uint32_t free_rec;
  uint32_t n_recs;
  nb_nbs_slot_t *slots;
  uint32_t free_slot;
  uint32_t n_slots_used;
  uint32_t sweep_cursor;
  uint64_t sweep_at; /* next sweep; 0 = none scheduled (empty table) */
  /* challenges */
  nb_nbs_chal_t *chals;
  uint32_t n_chals;
  /* the outgoing queue */
  nb_nbs_out_t *outq;
  uint32_t out_head, out_count;
  /* the journal: entries [j_head, j_head + j_count) of the ring, the
   * first j_pulled of them handed out */
  nb_nbs_jent_t *journal;
  uint32_t j_head, j_count, j_pulled;
  uint64_t seq;         /* last seq issued */
  uint64_t durable_seq; /* last seq the shell committed */
};

/* ---- nbns.c: shared helpers -------------------------------------------- */

nb_nbs_rec_t *nb_nbs_find(const nb_nbns_t *e, const nb_name_t *name);
/* A new empty record for `name`; NULL when the table is full. */
nb_nbs_rec_t *nb_nbs_create(nb_nbns_t *e, const nb_name_t *name, bool group);
/* Remove a record and free its members (no journal). */
void nb_nbs_destroy(nb_nbns_t *e, nb_nbs_rec_t *r);
/* Members: find, add (at the end), remove. add returns false when the
 * pool or the record is full. */
nb_nbs_slot_t *nb_nbs_member(const nb_nbns_t *e, const nb_nbs_rec_t *r,
                             uint32_t ip);
bool nb_nbs_add_member(nb_nbns_t *e, nb_nbs_rec_t *r, uint32_t ip,
                       uint16_t nb_flags, uint64_t expire_ms, bool is_static);
void nb_nbs_remove_member(nb_nbns_t *e, nb_nbs_rec_t *r, uint32_t ip);
/* Drop the members expired at e->now (true when any went). */
bool nb_nbs_purge(nb_nbns_t *e, nb_nbs_rec_t *r);
/* Live members (not expired at e->now). */
size_t nb_nbs_live(const nb_nbns_t *e, const nb_nbs_rec_t *r);
/* Copy a record out: members expired at `now` left out (0 keeps them
 * all), static ones left out when `dynamic_only`. */
void nb_nbs_export(const nb_nbns_t *e, const nb_nbs_rec_t *r, uint64_t now,
                   bool dynamic_only, nb_nbns_record_t *out);

/* The journal. room() says whether `n` more entries fit; touch() records
 * a change to `name` (whose record, if any, is `r`) and returns the seq a
 * response acknowledging it must wait for. Call room() first. */
bool nb_nbs_journal_room(const nb_nbns_t *e, uint32_t n);
uint64_t nb_nbs_touch(nb_nbns_t *e, nb_nbs_rec_t *r, const nb_name_t *name);
/* The seq a positive answer from `r` must wait for (0: none). */
uint64_t nb_nbs_read_seq(const nb_nbns_t *e, const nb_nbs_rec_t *r);

/* Queue a packet of `kind` for dst (held until need_seq is durable).
 * False (counted) when the queue is full. */
bool nb_nbs_send(nb_nbns_t *e, nb_ns_kind_t kind, const nb_ns_build_args_t *a,
                 uint32_t dst_ip, uint16_t dst_port, uint64_t need_seq);
bool nb_nbs_out_room(const nb_nbns_t *e, uint32_t n);
uint16_t nb_nbs_new_trn(nb_nbns_t *e);
bool nb_nbs_is_own_ip(const nb_nbns_t *e, uint32_t ip);

/* ---- nbns_reg.c --------------------------------------------------------- */

/* Decide a registration, refresh or multi-homed registration: answer it,
 * or send a WACK and start a challenge. */
nb_nbns_verdict_t nb_nbs_register(nb_nbns_t *e, nb_nbs_req_t *q);
/* A release (RFC 1002 5.1.4.1 NAME RELEASE REQUEST). */
nb_nbns_verdict_t nb_nbs_release(nb_nbns_t *e, const nb_nbs_req_t *q);
/* A response that may answer a challenge. */
nb_nbns_verdict_t nb_nbs_challenge_answer(nb_nbns_t *e, const nb_ns_msg_t *m,
                                          uint32_t src_ip);
/* Retry or finish the challenges due at e->now. */
void nb_nbs_challenge_timers(nb_nbns_t *e);
uint64_t nb_nbs_challenge_deadline(const nb_nbns_t *e);
/* True (and a WACK sent again) when `q` retransmits a registration whose
 * challenge is running. */
bool nb_nbs_challenge_retransmit(nb_nbns_t *e, const nb_nbs_req_t *q);
/* A registration response (positive when rcode == 0). */
bool nb_nbs_reg_response(nb_nbns_t *e, const nb_nbs_req_t *q, uint8_t rcode,
                         uint64_t need_seq);

#endif
