/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NB_NBNS_H
#define NB_NBNS_H

/* The NetBIOS name server (NBNS, "WINS"): a sans-I/O engine for the server
 * side of RFC 1001 11.1 and 15.1.3-15.5 / RFC 1002 5.1.4, which P, M and H
 * nodes (include/nb/nsnode.h) register with, refresh, release and query.
 *
 * Like every engine here it never touches a socket, a clock or a file:
 *  - bytes in:   nb_nbns_recv(e, pkt, len, src_ip, src_port, bcast, now)
 *  - bytes out:  nb_nbns_pending(e, &out) ... send ... nb_nbns_advance(e)
 *  - time:       nb_nbns_next_deadline(e), nb_nbns_on_timer(e, now)
 *  - database:   nb_nbns_journal_next(e, &w) ... write, commit ...
 *                nb_nbns_durable(e, seq)   (or nb_nbns_flush(e, store))
 *
 * Durability ("acknowledged only after durable"). Every change to the name
 * table is appended to a journal: one entry per changed name, carrying a
 * sequence number. A response that acknowledges a change (positive
 * registration, refresh and release responses) is queued with the sequence
 * number of that change and is not handed out by pending() until the shell
 * has written the journal up to it in one committed transaction and said so
 * with nb_nbns_durable(). Positive query answers from a record whose latest
 * change is not durable yet wait the same way, so nothing is ever revealed
 * that a crash could take back. Requests that arrive together are answered
 * after one commit: the shell drains the journal once per batch. See
 * docs/ARCHITECTURE.md "WINS".
 *
 * Persistent records (nb_nbns_record_t) are what the database stores: the
 * name, group or unique, and its members with their NB_FLAGS and absolute
 * expiry times. Expiry times are in the engine's time base (milliseconds),
 * so a shell that persists them must use the same base across restarts;
 * nbtd uses the Unix epoch in milliseconds.
 *
 * Conventions (as nb/nsnode.h): IPv4 addresses are uint32_t in host byte
 * order; time is a millisecond count chosen by the caller that must not go
 * backwards (a smaller `now` counts as the last one seen). Memory: one
 * block sized from the configuration's caps (nb_nbns_size()), allocated
 * once; nothing the network sends can allocate, and every table has a cap
 * whose overflow is counted. Not thread-safe. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nb/err.h"
#include "nb/export.h"
#include "nb/name.h"

#define NB_NBNS_MAX_ADDRS                                                      \
  25                             /* members of one name (Internet group <1c>   \
                                    and multi-homed: Microsoft's 25) */
#define NB_NBNS_MAX_IFACES 8     /* the server's own addresses */
#define NB_NBNS_DATAGRAM_MAX 576 /* RFC 1002 4.2.1.1: largest we send */
#define NB_NBNS_TTL_INFINITE 0   /* RFC 1002 6 INFINITE_TTL */
#define NB_NBNS_NEVER UINT64_MAX /* expiry of static (own) names */

/* ---- configuration ------------------------------------------------------ */

typedef struct nb_nbns_config {
  uint32_t own_ips[NB_NBNS_MAX_IFACES]; /* the server's addresses */
  size_t n_own_ips;                     /* 0; at least 1 */
  uint16_t port;                        /* 137: challenge queries go here */
  uint64_t txid_seed; /* 0: keys transaction IDs (the shell passes random
                         bits; there is no RNG inside) */

  /* TTL policy (RFC 1001 15.1.3.2): the NBNS answers with a TTL at least
   * the proposed one, or with an infinite one; a proposal of 0 (infinite)
   * may get any definite TTL. */
  uint32_t ttl_min_s;      /* 300: shorter proposals are raised to this */
  uint32_t ttl_max_s;      /* 0 = none (the RFC's rule). Non-zero caps
                              longer proposals: nmbd's "max wins ttl"
                              behaviour, a deviation from 15.1.3.2 */
  uint32_t ttl_infinite_s; /* 518400 (6 days): granted to a proposal of 0 */

  /* Conflicts (RFC 1002 5.1.4.1, secure server): a registration for a
   * unique name held by another node gets a WACK, then the owner is sent a
   * NAME QUERY REQUEST up to `challenge_count` times, `challenge_retry_ms`
   * apart. The WACK's TTL says how long the registrant should wait. */
  uint32_t challenge_retry_ms; /* 1000 */
  uint32_t challenge_count;    /* 3 */
  uint32_t wack_ttl_s;         /* 0 = derived: twice retry x count, >= 2 */

  /* Query responses: set RA (RFC 1002 4.2.1.1: "set by the NBNS in
   * responses to indicate it can do recursive queries"; nmbd: 0x8580). */
  bool ra;

  /* Expired names are answered as absent at once; the sweep that removes
   * them from the table (and the database) runs this often, visiting at
   * most `sweep_batch` names per run. */
  uint32_t sweep_ms;    /* 10000 */
  uint32_t sweep_batch; /* 4096 */

  /* Caps, fixed at init. */
  uint32_t max_names;      /* 4096: names in the table */
  uint32_t max_addrs;      /* 0 = 2 x max_names: member slots, all names */
  uint32_t max_challenges; /* 64: challenges in flight */
  uint32_t max_out;        /* 512: queued datagrams (held ones included) */
  uint32_t max_journal;    /* 4096: changes not yet durable */
} nb_nbns_config_t;

/* ---- persistent records ------------------------------------------------- */

typedef struct nb_nbns_member {
  uint32_t ip;
  uint16_t nb_flags;  /* NB_FLAGS as registered (G and ONT bits) */
  uint64_t expire_ms; /* engine time; NB_NBNS_NEVER: static (own name) */
} nb_nbns_member_t;

typedef struct nb_nbns_record {
  nb_name_t name;
  bool group;
  uint8_t n_members; /* 0..NB_NBNS_MAX_ADDRS */
  nb_nbns_member_t members[NB_NBNS_MAX_ADDRS];
  uint64_t version; /* the journal sequence of its last change (0 = loaded
                       and unchanged); informative */
} nb_nbns_record_t;

/* One journal entry, as handed to the shell: write `rec` (PUT) or delete
 * the row of `rec.name` (DEL). Static members are not included: they are
 * configuration, re-added at every start. */
typedef enum nb_nbns_op { NB_NBNS_PUT = 1, NB_NBNS_DEL = 2 } nb_nbns_op_t;

typedef struct nb_nbns_write {
  nb_nbns_op_t op;
  uint64_t seq;
  nb_nbns_record_t rec;
} nb_nbns_write_t;

/* ---- results, counters -------------------------------------------------- */

/* What recv() did with a datagram. PASS means "not for the NBNS": a shell
 * that also runs a name-service node (nbtd) gives it to that engine (node
 * status requests, broadcasts, queries without RD, responses that are not
 * answers to our challenges). Every other value is counted. */
#define NB_NBNS_VERDICT_MAP(XX)                                                \
  XX(HANDLED, "handled")                                                       \
  XX(PASS, "not for the NBNS (node status, broadcast, RD clear, ...)")         \
  XX(TRUNCATED, "truncated packet")                                            \
  XX(MALFORMED, "malformed packet")                                            \
  XX(LIMIT, "packet exceeds a parser limit")                                   \
  XX(INCOMPLETE, "request without the question, record or entry it needs")     \
  XX(BAD_RECORD, "additional record not NB/IN: FMT_ERR sent")                  \
  XX(BUSY, "journal, challenge table or queue full: dropped")                  \
  XX(TABLE_FULL, "name table full: SRV_ERR sent")                              \
  XX(WRONG_SOURCE, "challenge answer from another address")                    \
  XX(MISMATCH, "response to a challenge that does not answer it")              \
  XX(RETRANSMIT, "retransmitted registration under challenge: WACK again")

typedef enum nb_nbns_verdict {
#define NB_NBNS_VERDICT_ENUM_(name, msg) NB_NBNS_##name,
  NB_NBNS_VERDICT_MAP(NB_NBNS_VERDICT_ENUM_)
#undef NB_NBNS_VERDICT_ENUM_
      NB_NBNS_VERDICT__COUNT
} nb_nbns_verdict_t;

typedef struct nb_nbns_counters {
  uint64_t rx_packets;
  uint64_t verdict[NB_NBNS_VERDICT__COUNT];
  uint64_t registrations;     /* accepted: new name or new member */
  uint64_t refreshes;         /* accepted refreshes (TTL restarted) */
  uint64_t releases;          /* accepted releases */
  uint64_t releases_refused;  /* from an address that is not a member */
  uint64_t refused;           /* negative registration responses */
  uint64_t queries_positive;  /* positive name query responses */
  uint64_t queries_negative;  /* NAM_ERR */
  uint64_t wacks;             /* WACKs sent */
  uint64_t challenges;        /* challenges started */
  uint64_t challenge_queries; /* NAME QUERY REQUESTs sent (with retries) */
  uint64_t challenges_kept;   /* the owner defended: ACT_ERR */
  uint64_t challenges_moved;  /* no or negative answer: the name moved */
  uint64_t expired;           /* members removed by expiry */
  uint64_t ttl_raised;        /* proposals raised to ttl_min_s */
  uint64_t ttl_capped;        /* proposals lowered to ttl_max_s */
  uint64_t tx_queued;
  uint64_t tx_sent;
  uint64_t tx_dropped;     /* queue full or too big */
  uint64_t journal_writes; /* entries handed to the shell */
  uint64_t commits;        /* nb_nbns_durable() calls that advanced */
  uint64_t held;           /* responses that waited for a commit */
} nb_nbns_counters_t;

/* One datagram to send (borrowed: valid until the next call on the
 * engine). Sent from the server's port 137 socket to dst_ip:dst_port. */
typedef struct nb_nbns_out {
  const uint8_t *data;
  size_t len; /* <= NB_NBNS_DATAGRAM_MAX */
  uint32_t dst_ip;
  uint16_t dst_port;
} nb_nbns_out_t;

typedef struct nb_nbns nb_nbns_t;

/* ---- lifecycle ---------------------------------------------------------- */

/* Defaults as documented on each field. */
NB_API void nb_nbns_config_init(nb_nbns_config_t *cfg);
/* NB_EINVAL (and `diag->field`) for a missing or out-of-range field. */
NB_API nb_err_t nb_nbns_config_check(const nb_nbns_config_t *cfg,
                                     nb_diag_t *diag);
/* Bytes an engine needs; 0 for an invalid configuration. */
NB_API size_t nb_nbns_size(const nb_nbns_config_t *cfg);
/* Set up an engine in caller memory (malloc alignment); nothing to free. */
NB_API nb_err_t nb_nbns_init(void *mem, size_t size,
                             const nb_nbns_config_t *cfg, nb_nbns_t **out);
/* The same with one malloc'd block; release with nb_nbns_free(). */
NB_API nb_err_t nb_nbns_new(const nb_nbns_config_t *cfg, nb_nbns_t **out);
NB_API void nb_nbns_free(nb_nbns_t *e);

/* ---- the table ---------------------------------------------------------- */

/* Add a record read from the database at start-up: not journaled. Members
 * already expired at `now` are kept (answered as absent) until the sweep
 * removes them and their row. NB_ELIMIT when the table or the
 * member slots are full, NB_EINVAL for a bad record, NB_ESTATE when the
 * name is already present (a static name wins over a stored one). */
NB_API nb_err_t nb_nbns_load(nb_nbns_t *e, const nb_nbns_record_t *rec,
                             uint64_t now_ms);

/* Add one of the server's own names (static, never expires, not stored):
 * unique names cannot be taken by anyone; a static group also takes
 * registered members. For a unique name, a stored record of the same name
 * is replaced (and its row deleted through the journal). */
NB_API nb_err_t nb_nbns_add_static(nb_nbns_t *e, const nb_name_t *name,
                                   bool group, uint16_t nb_flags,
                                   const uint32_t *ips, size_t n_ips,
                                   uint64_t now_ms);

/* Administrative changes (nbt wins import/delete, through the journal):
 * replace or create a record, or delete a name. Static names are refused
 * with NB_ESTATE. NB_ENOTFOUND when deleting an absent name. */
NB_API nb_err_t nb_nbns_put(nb_nbns_t *e, const nb_nbns_record_t *rec,
                            uint64_t now_ms);
NB_API nb_err_t nb_nbns_delete(nb_nbns_t *e, const nb_name_t *name,
                               uint64_t now_ms);

/* Copy the live record of `name` (expired members left out, static ones
 * included) into `out`; NB_ENOTFOUND when there is none. */
NB_API nb_err_t nb_nbns_lookup(const nb_nbns_t *e, const nb_name_t *name,
                               uint64_t now_ms, nb_nbns_record_t *out);

/* Names in the table (expired ones not yet swept included). */
NB_API size_t nb_nbns_count(const nb_nbns_t *e);

/* Iterate over the table: start with *cursor = 0; each call copies the
 * next record (static members included) and returns true. The order is
 * the table's; changing the table between calls may skip or repeat. */
NB_API bool nb_nbns_iter(const nb_nbns_t *e, uint32_t *cursor,
                         nb_nbns_record_t *out);

/* ---- packets, timers ---------------------------------------------------- */

/* WARNING: parses untrusted network data (with nb_ns_parse()).
 *
 * Feed one UDP payload (borrowed for the call). `was_broadcast`: sent to a
 * broadcast address (RFC 1002 5.1.4: ignored by an NBNS, PASS). Never
 * fails in any other way, whatever the bytes. */
NB_API nb_nbns_verdict_t nb_nbns_recv(nb_nbns_t *e, const uint8_t *pkt,
                                      size_t len, uint32_t src_ip,
                                      uint16_t src_port, bool was_broadcast,
                                      uint64_t now_ms);

/* The next datagram that may be sent (responses waiting for a commit are
 * not offered until nb_nbns_durable() covers them). */
NB_API bool nb_nbns_pending(nb_nbns_t *e, nb_nbns_out_t *out);
NB_API void nb_nbns_advance(nb_nbns_t *e);

/* When on_timer() must next run (challenge retries, the sweep);
 * NB_NBNS_NEVER when nothing is scheduled. */
NB_API uint64_t nb_nbns_next_deadline(const nb_nbns_t *e);
NB_API void nb_nbns_on_timer(nb_nbns_t *e, uint64_t now_ms);

/* ---- durability ----------------------------------------------------------
 * The shell's loop: after a batch of recv()/on_timer() calls, pull every
 * entry with journal_next() into ONE database transaction, commit it, then
 * call durable(seq of the last entry pulled). If the commit fails, call
 * journal_rewind(): the entries not yet durable are offered again. */

/* The next journal entry not yet pulled, resolved against the current
 * table (a name changed twice is written once, as it is now). */
NB_API bool nb_nbns_journal_next(nb_nbns_t *e, nb_nbns_write_t *w);
/* Entries pulled since the last durable() are offered again. */
NB_API void nb_nbns_journal_rewind(nb_nbns_t *e);
/* Everything up to and including `seq` is committed: release the
 * responses that waited for it. */
NB_API void nb_nbns_durable(nb_nbns_t *e, uint64_t seq);
/* Journal entries not yet durable (pulled or not). */
NB_API size_t nb_nbns_journal_len(const nb_nbns_t *e);

/* A database behind the engine (vtable). Each returns NB_OK or an error
 * (NB_EIO for a failed write or commit). */
typedef struct nb_nbns_store_ops {
  nb_err_t (*begin)(void *db);
  nb_err_t (*put)(void *db, const nb_nbns_record_t *rec);
  nb_err_t (*del)(void *db, const nb_name_t *name);
  nb_err_t (*commit)(void *db);
  nb_err_t (*rollback)(void *db);
  /* Call `fn` for every stored record, stopping at its first error. */
  nb_err_t (*load)(void *db,
                   nb_err_t (*fn)(void *arg, const nb_nbns_record_t *rec),
                   void *arg);
} nb_nbns_store_ops_t;

typedef struct nb_nbns_store {
  const nb_nbns_store_ops_t *ops;
  void *db;
} nb_nbns_store_t;

/* Drain the whole journal into one transaction of `s` and commit it; on
 * success the engine learns that it is durable. `*n_writes` (may be NULL)
 * gets the entries written. On failure the transaction is rolled back and
 * the journal rewound; the error is returned. */
NB_API nb_err_t nb_nbns_flush(nb_nbns_t *e, const nb_nbns_store_t *s,
                              size_t *n_writes);

/* Load every stored record into the engine (nb_nbns_load); records that
 * no longer fit or are malformed are counted in `*skipped` (may be NULL). */
NB_API nb_err_t nb_nbns_restore(nb_nbns_t *e, const nb_nbns_store_t *s,
                                uint64_t now_ms, size_t *skipped);

/* An in-memory store (unit tests, the fuzz target, `nbt wins` dry runs):
 * up to `cap` records in one malloc'd block. */
typedef struct nb_nbns_memdb nb_nbns_memdb_t;
NB_API nb_nbns_memdb_t *nb_nbns_memdb_new(size_t cap);
NB_API void nb_nbns_memdb_free(nb_nbns_memdb_t *m);
NB_API nb_nbns_store_t nb_nbns_memdb_store(nb_nbns_memdb_t *m);
/* Committed records; `fail_next` makes the next commit fail (tests). */
NB_API size_t nb_nbns_memdb_count(const nb_nbns_memdb_t *m);
NB_API const nb_nbns_record_t *nb_nbns_memdb_find(const nb_nbns_memdb_t *m,
                                                  const nb_name_t *name);
NB_API void nb_nbns_memdb_fail_next(nb_nbns_memdb_t *m);

/* ---- accessors ---------------------------------------------------------- */

NB_API const nb_nbns_counters_t *nb_nbns_counters(const nb_nbns_t *e);
NB_API const nb_nbns_config_t *nb_nbns_config(const nb_nbns_t *e);
/* "HANDLED", ... and a description; never NULL. */
NB_API const char *nb_nbns_verdict_name(nb_nbns_verdict_t v);
NB_API const char *nb_nbns_verdict_str(nb_nbns_verdict_t v);

/* The TTL granted for a proposal under `cfg`'s policy (RFC 1001
 * 15.1.3.2); never 0 (the engine always grants a definite lifetime). */
NB_API uint32_t nb_nbns_grant_ttl(const nb_nbns_config_t *cfg,
                                  uint32_t proposed_s);

/* ---- nmbd's wins.dat (text) ----------------------------------------------
 * One record per line (source3/nmbd/nmbd_winsserver.c):
 *
 *   VERSION 1 0
 *   "NAME#XX" DEATH_TIME IP [IP ...] FLAGSR
 *
 * NAME is the 15-byte name without its padding, XX the suffix in hex,
 * DEATH_TIME the expiry in Unix seconds (0 = permanent), FLAGS nmbd's
 * nb_flags byte in hex (0x80 group, 0x60 node type, 0x04 active, 0x02
 * permanent) and the letter R (registered; S = nmbd's own, skipped on
 * import as nmbd does). The scope is not stored (nmbd adds its own). */

/* WARNING: parses untrusted text.
 *
 * Parse one line into `out` with `scope` (may be NULL). `now_unix_ms`
 * (the wall clock) and `now_ms` (the engine time at that instant) convert
 * DEATH_TIME into expiry times. Returns NB_OK for a record, NB_ENOTFOUND
 * for a line that holds no record to import (blank, comment, VERSION, an
 * S record or one with nmbd's permanent bit 0x02: the old server's own
 * names; a record whose only address is 0.0.0.0),
 * NB_ETIMEDOUT for a record with under 60 s to live (nmbd skips those
 * too), NB_EMALFORMED (with `diag->offset`, a column) otherwise. */
NB_API nb_err_t nb_nbns_winsdat_parse_line(
    const char *line, size_t len, const char *scope, uint64_t now_unix_ms,
    uint64_t now_ms, nb_nbns_record_t *out, nb_diag_t *diag);

/* Write `rec` as one wins.dat line (with its newline) into `buf`; returns
 * the length the line needs, like snprintf. Static members are written
 * with DEATH_TIME 0; the record's expiry is its latest member's. */
NB_API size_t nb_nbns_winsdat_format(const nb_nbns_record_t *rec,
                                     uint64_t now_unix_ms, uint64_t now_ms,
                                     char *buf, size_t cap);

#endif
