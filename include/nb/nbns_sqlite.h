/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NB_NBNS_SQLITE_H
#define NB_NBNS_SQLITE_H

/* The NBNS name database in SQLite (libnbtkit_sqlite; links Debian's
 * libsqlite3): an nb_nbns_store_t (include/nb/nbns.h) for nbtd and for
 * `nbt wins`.
 *
 * Durability. The database runs in WAL mode with synchronous=FULL: every
 * COMMIT appends the transaction to the write-ahead log and fsync()s it
 * before returning, so a committed transaction survives kill -9 and power
 * loss alike. (synchronous=NORMAL in WAL mode would survive a process
 * crash but may lose the last transactions on power loss, which would break
 * "acknowledged only after durable".) The cost, one fsync per commit, is
 * paid once per batch: the engine's journal gathers every change of the
 * requests that arrived together into one transaction.
 *
 * One writer. nbtd holds an advisory lock (flock on "PATH.lock") while it
 * runs; `nbt wins import`/`delete` take the same lock and refuse to write
 * while nbtd runs (its in-memory table would not see the change). Readers
 * (`nbt wins list`/`show`/`export`) need no lock: WAL lets them read a
 * consistent snapshot while nbtd writes.
 *
 * Schema (version 1):
 *   names(key BLOB PRIMARY KEY,  -- case-folded name: what nb_name_equal
 *                                -- compares (15 bytes, suffix, scope)
 *         raw BLOB,              -- the 16 name bytes as registered
 *         scope TEXT, grp INTEGER,
 *         members BLOB,          -- 14 bytes per member: IP (4), NB_FLAGS
 *                                -- (2), expiry in ms (8), big-endian
 *         version INTEGER) WITHOUT ROWID
 *   meta(key TEXT PRIMARY KEY, value)   -- ('schema', 1) */

#include <stdbool.h>
#include <stddef.h>

#include "nb/nbns.h"

#define NB_NBNS_SQLITE_READONLY 0x1u /* open for reading only */
#define NB_NBNS_SQLITE_LOCK 0x2u     /* take the writer's lock (nbtd) */
#define NB_NBNS_SQLITE_TRYLOCK 0x4u  /* take it only if free (nbt wins) */

typedef struct nb_nbns_sqlite nb_nbns_sqlite_t;

/* Open (creating it unless READONLY) the database at `path`. On failure
 * returns NB_EIO (NB_ESTATE when the lock is held by another process) and
 * writes a message into `err` (may be NULL). */
NB_API nb_err_t nb_nbns_sqlite_open(const char *path, unsigned flags,
                                    nb_nbns_sqlite_t **out, char *err,
                                    size_t err_cap);
NB_API void nb_nbns_sqlite_close(nb_nbns_sqlite_t *db);

/* The store (valid while `db` is open). */
NB_API nb_nbns_store_t nb_nbns_sqlite_store(nb_nbns_sqlite_t *db);

/* The last SQLite error message; never NULL. */
NB_API const char *nb_nbns_sqlite_errmsg(const nb_nbns_sqlite_t *db);

/* Rows in the database, or -1 on error. */
NB_API long nb_nbns_sqlite_count(nb_nbns_sqlite_t *db);

#endif
