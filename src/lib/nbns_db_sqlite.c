/* SPDX-License-Identifier: BSD-2-Clause */
/* The NBNS name database in SQLite: WAL, synchronous=FULL, one row per
 * name (see include/nb/nbns_sqlite.h for the schema and why). This is a
 * shell-side module (it does I/O); the engine only sees the store vtable.
 *
 * WARNING: reads a file that may have been edited by hand: every row read
 * back is checked (lengths, counts, scope) before it reaches the engine. */
#include "nb/nbns_sqlite.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define SCHEMA_VERSION 1
#define MEMBER_LEN 14
#define KEY_MAX (NB_NAME_BYTES + 1 + NB_SCOPE_MAX)

struct nb_nbns_sqlite {
  sqlite3 *db;
  int lock_fd;
  sqlite3_stmt *put, *del, *load, *begin, *commit, *rollback;
};

static const char *const schema =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value);"
    "CREATE TABLE IF NOT EXISTS names("
    " key BLOB PRIMARY KEY, raw BLOB NOT NULL, scope TEXT NOT NULL,"
    " grp INTEGER NOT NULL, members BLOB NOT NULL, version INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "INSERT OR IGNORE INTO meta VALUES('schema', 1);";

static void set_err(char *err, size_t cap, const char *what, const char *msg) {
  if (err != NULL && cap > 0)
    snprintf(err, cap, "%s: %s", what, msg);
}

/* The case-folded key nb_name_equal() compares: 15 bytes upper-cased, the
 * suffix as is, '.', the scope upper-cased. */
static size_t make_key(const nb_name_t *n, uint8_t key[KEY_MAX]) {
  size_t len = 0;
  for (size_t i = 0; i < NB_NAME_BYTES; i++) {
    uint8_t c = n->bytes[i];
    key[len++] = i < NB_NAME_CHARS && c >= 'a' && c <= 'z'
                     ? (uint8_t)(c - 'a' + 'A')
                     : c;
  }
  key[len++] = '.';
  for (size_t i = 0; i < n->scope_len && i < NB_SCOPE_MAX; i++) {
    char c = n->scope[i];
    key[len++] = (uint8_t)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  }
  return len;
}

static void put_be(uint8_t *p, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_be(const uint8_t *p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++)
    v = v << 8 | p[i];
  return v;
}

/* ---- the store ------------------------------------------------------------
 */

static nb_err_t step_done(nb_nbns_sqlite_t *d, sqlite3_stmt *st) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  (void)d;
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? NB_OK : NB_EIO;
}

static nb_err_t sq_begin(void *db) {
  nb_nbns_sqlite_t *d = db;
  return step_done(d, d->begin);
}

static nb_err_t sq_commit(void *db) {
  nb_nbns_sqlite_t *d = db;
  return step_done(d, d->commit);
}

static nb_err_t sq_rollback(void *db) {
  nb_nbns_sqlite_t *d = db;
  if (sqlite3_get_autocommit(d->db))
    return NB_OK; /* nothing open (a failed COMMIT already rolled back) */
  return step_done(d, d->rollback);
}

static nb_err_t sq_put(void *db, const nb_nbns_record_t *rec) {
  nb_nbns_sqlite_t *d = db;
  uint8_t key[KEY_MAX];
  uint8_t members[NB_NBNS_MAX_ADDRS * MEMBER_LEN];
  size_t n = rec->n_members <= NB_NBNS_MAX_ADDRS ? rec->n_members : 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t *p = members + i * MEMBER_LEN;
    put_be(p, rec->members[i].ip, 4);
    put_be(p + 4, rec->members[i].nb_flags, 2);
    put_be(p + 6, rec->members[i].expire_ms, 8);
  }
  size_t klen = make_key(&rec->name, key);
  sqlite3_stmt *st = d->put;
  sqlite3_bind_blob(st, 1, key, (int)klen, SQLITE_TRANSIENT);
  sqlite3_bind_blob(st, 2, rec->name.bytes, NB_NAME_BYTES, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, rec->name.scope, rec->name.scope_len,
                    SQLITE_TRANSIENT);
  sqlite3_bind_int(st, 4, rec->group ? 1 : 0);
  sqlite3_bind_blob(st, 5, members, (int)(n * MEMBER_LEN), SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 6, (sqlite3_int64)rec->version);
  return step_done(d, st);
}

static nb_err_t sq_del(void *db, const nb_name_t *name) {
  nb_nbns_sqlite_t *d = db;
  uint8_t key[KEY_MAX];
  size_t klen = make_key(name, key);
  sqlite3_bind_blob(d->del, 1, key, (int)klen, SQLITE_TRANSIENT);
  return step_done(d, d->del);
}

/* One row into `rec`; false for a row that is not a record. */
static bool read_row(sqlite3_stmt *st, nb_nbns_record_t *rec) {
  const void *raw = sqlite3_column_blob(st, 0);
  const unsigned char *scope = sqlite3_column_text(st, 1);
  const uint8_t *m = sqlite3_column_blob(st, 3);
  int raw_len = sqlite3_column_bytes(st, 0);
  int scope_len = sqlite3_column_bytes(st, 1);
  int m_len = sqlite3_column_bytes(st, 3);
  memset(rec, 0, sizeof *rec);
  if (raw == NULL || raw_len != NB_NAME_BYTES || m_len % MEMBER_LEN != 0 ||
      m_len / MEMBER_LEN > NB_NBNS_MAX_ADDRS || scope_len > NB_SCOPE_MAX ||
      (m_len > 0 && m == NULL))
    return false;
  memcpy(rec->name.bytes, raw, NB_NAME_BYTES);
  if (nb_name_set_scope(&rec->name, scope != NULL ? (const char *)scope : "",
                        (size_t)scope_len, NULL) != NB_OK)
    return false;
  rec->group = sqlite3_column_int(st, 2) != 0;
  rec->n_members = (uint8_t)(m_len / MEMBER_LEN);
  for (size_t i = 0; i < rec->n_members; i++) {
    const uint8_t *p = m + i * MEMBER_LEN;
    rec->members[i].ip = (uint32_t)get_be(p, 4);
    rec->members[i].nb_flags = (uint16_t)get_be(p + 4, 2);
    rec->members[i].expire_ms = get_be(p + 6, 8);
  }
  rec->version = (uint64_t)sqlite3_column_int64(st, 4);
  return true;
}

static nb_err_t sq_load(void *db,
                        nb_err_t (*fn)(void *arg, const nb_nbns_record_t *rec),
                        void *arg) {
  nb_nbns_sqlite_t *d = db;
  nb_nbns_record_t rec;
  nb_err_t err = NB_OK;
  int rc;
  while (err == NB_OK && (rc = sqlite3_step(d->load)) == SQLITE_ROW) {
    if (read_row(d->load, &rec))
      err = fn(arg, &rec);
  }
  if (err == NB_OK && rc != SQLITE_DONE)
    err = NB_EIO;
  sqlite3_reset(d->load);
  return err;
}

static const nb_nbns_store_ops_t sqlite_ops = {
    sq_begin, sq_put, sq_del, sq_commit, sq_rollback, sq_load,
};

nb_nbns_store_t nb_nbns_sqlite_store(nb_nbns_sqlite_t *db) {
  nb_nbns_store_t s = {&sqlite_ops, db};
  return s;
}

/* ---- open and close ---------------------------------------------------------
 */

static int take_lock(const char *path, unsigned flags, char *err, size_t cap) {
  char lock[4096];
  if (snprintf(lock, sizeof lock, "%s.lock", path) >= (int)sizeof lock) {
    set_err(err, cap, path, "path too long");
    return -2;
  }
  int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    set_err(err, cap, lock, strerror(errno));
    return -2;
  }
  int op = LOCK_EX | ((flags & NB_NBNS_SQLITE_TRYLOCK) ? LOCK_NB : 0);
  if (flock(fd, op) != 0) {
    set_err(err, cap, path,
            errno == EWOULDBLOCK ? "in use by a running nbtd (stop it first)"
                                 : strerror(errno));
    close(fd);
    return errno == EWOULDBLOCK ? -1 : -2;
  }
  return fd;
}

static int prepare(nb_nbns_sqlite_t *d) {
  static const char *const sql[] = {
      ("INSERT OR REPLACE INTO names(key, raw, scope, grp, members, version)"
       " VALUES(?1, ?2, ?3, ?4, ?5, ?6)"),
      "DELETE FROM names WHERE key = ?1",
      "SELECT raw, scope, grp, members, version FROM names ORDER BY key",
      "BEGIN IMMEDIATE",
      "COMMIT",
      "ROLLBACK"};
  sqlite3_stmt **out[] = {&d->put,   &d->del,    &d->load,
                          &d->begin, &d->commit, &d->rollback};
  for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
    if (sqlite3_prepare_v2(d->db, sql[i], -1, out[i], NULL) != SQLITE_OK)
      return -1;
  }
  return 0;
}

static int configure(nb_nbns_sqlite_t *d, bool readonly) {
  sqlite3_busy_timeout(d->db, 5000);
  if (readonly)
    return 0;
  /* WAL + FULL: a COMMIT returns after the WAL is fsync()ed. */
  return sqlite3_exec(d->db,
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL,
                      NULL, NULL) == SQLITE_OK &&
                 sqlite3_exec(d->db, schema, NULL, NULL, NULL) == SQLITE_OK
             ? 0
             : -1;
}

static int check_schema(nb_nbns_sqlite_t *d) {
  sqlite3_stmt *st = NULL;
  int version = -1;
  if (sqlite3_prepare_v2(d->db, "SELECT value FROM meta WHERE key='schema'", -1,
                         &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    version = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return version == SCHEMA_VERSION ? 0 : -1;
}

nb_err_t nb_nbns_sqlite_open(const char *path, unsigned flags,
                             nb_nbns_sqlite_t **out, char *err,
                             size_t err_cap) {
  bool ro = (flags & NB_NBNS_SQLITE_READONLY) != 0;
  nb_nbns_sqlite_t *d = calloc(1, sizeof *d);
  *out = NULL;
  if (d == NULL || path == NULL) {
    set_err(err, err_cap, "sqlite", "out of memory");
    free(d);
    return NB_ENOMEM;
  }
  d->lock_fd = -1;
  if (flags & (NB_NBNS_SQLITE_LOCK | NB_NBNS_SQLITE_TRYLOCK)) {
    d->lock_fd = take_lock(path, flags, err, err_cap);
    if (d->lock_fd < 0) {
      nb_err_t e = d->lock_fd == -1 ? NB_ESTATE : NB_EIO;
      free(d);
      return e;
    }
  }
  int oflags =
      ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  const char *why = NULL;
  if (sqlite3_open_v2(path, &d->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) !=
          SQLITE_OK ||
      configure(d, ro) != 0)
    why = d->db != NULL ? sqlite3_errmsg(d->db) : "cannot open";
  else if (check_schema(d) != 0)
    why = "not an nbtd WINS database (schema 1)";
  else if (prepare(d) != 0)
    why = sqlite3_errmsg(d->db);
  if (why != NULL) {
    set_err(err, err_cap, path, why);
    nb_nbns_sqlite_close(d);
    return NB_EIO;
  }
  *out = d;
  return NB_OK;
}

void nb_nbns_sqlite_close(nb_nbns_sqlite_t *d) {
  if (d == NULL)
    return;
  sqlite3_finalize(d->put);
  sqlite3_finalize(d->del);
  sqlite3_finalize(d->load);
  sqlite3_finalize(d->begin);
  sqlite3_finalize(d->commit);
  sqlite3_finalize(d->rollback);
  sqlite3_close(d->db);
  if (d->lock_fd >= 0)
    close(d->lock_fd); /* releases the flock */
  free(d);
}

const char *nb_nbns_sqlite_errmsg(const nb_nbns_sqlite_t *d) {
  return d != NULL && d->db != NULL ? sqlite3_errmsg(d->db) : "no database";
}

long nb_nbns_sqlite_count(nb_nbns_sqlite_t *d) {
  sqlite3_stmt *st = NULL;
  long n = -1;
  if (sqlite3_prepare_v2(d->db, "SELECT count(*) FROM names", -1, &st, NULL) ==
          SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    n = (long)sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}
