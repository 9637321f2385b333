/* SPDX-License-Identifier: BSD-2-Clause */
/* The NBNS engine and its database: drain the journal into one
 * transaction (nb_nbns_flush), load a database at start-up
 * (nb_nbns_restore), and an in-memory store with real transactions
 * (commit and rollback) for unit tests and the fuzz target. The SQLite
 * store is in nbns_db_sqlite.c (its own library, so that libnbtkit does
 * not depend on SQLite). */
#include <stdlib.h>
#include <string.h>

#include "nbns_int.h"

nb_err_t nb_nbns_flush(nb_nbns_t *e, const nb_nbns_store_t *s,
                       size_t *n_writes) {
  nb_nbns_write_t w;
  uint64_t last = 0;
  size_t n = 0;
  if (n_writes != NULL)
    *n_writes = 0;
  if (nb_nbns_journal_len(e) == 0)
    return NB_OK;
  nb_err_t err = s->ops->begin(s->db);
  while (err == NB_OK && nb_nbns_journal_next(e, &w)) {
    err = w.op == NB_NBNS_PUT ? s->ops->put(s->db, &w.rec)
                              : s->ops->del(s->db, &w.rec.name);
    last = w.seq;
    n++;
  }
  if (err == NB_OK)
    err = s->ops->commit(s->db);
  if (err != NB_OK) {
    (void)s->ops->rollback(s->db);
    nb_nbns_journal_rewind(e);
    return err;
  }
  nb_nbns_durable(e, last);
  if (n_writes != NULL)
    *n_writes = n;
  return NB_OK;
}

typedef struct restore_ctx {
  nb_nbns_t *e;
  uint64_t now;
  size_t skipped;
} restore_ctx_t;

static nb_err_t restore_one(void *arg, const nb_nbns_record_t *rec) {
  restore_ctx_t *c = arg;
  if (nb_nbns_load(c->e, rec, c->now) != NB_OK)
    c->skipped++;
  return NB_OK;
}

nb_err_t nb_nbns_restore(nb_nbns_t *e, const nb_nbns_store_t *s,
                         uint64_t now_ms, size_t *skipped) {
  restore_ctx_t c = {e, now_ms, 0};
  nb_err_t err = s->ops->load(s->db, restore_one, &c);
  if (skipped != NULL)
    *skipped = c.skipped;
  return err;
}

/* ---- the in-memory store ----------------------------------------------------
 * Two copies: `rows` (committed) and `stage` (the open transaction). */

struct nb_nbns_memdb {
  size_t cap;
  size_t n_rows, n_stage;
  bool in_txn;
  bool fail_next;
  nb_nbns_record_t *rows;
  nb_nbns_record_t *stage;
};

nb_nbns_memdb_t *nb_nbns_memdb_new(size_t cap) {
  nb_nbns_memdb_t *m = calloc(1, sizeof *m);
  if (m == NULL || cap == 0)
    goto fail;
  m->cap = cap;
  m->rows = calloc(cap, sizeof *m->rows);
  m->stage = calloc(cap, sizeof *m->stage);
  if (m->rows == NULL || m->stage == NULL)
    goto fail;
  return m;
fail:
  nb_nbns_memdb_free(m);
  return NULL;
}

void nb_nbns_memdb_free(nb_nbns_memdb_t *m) {
  if (m != NULL) {
    free(m->rows);
    free(m->stage);
    free(m);
  }
}

static size_t find_row(const nb_nbns_record_t *rows, size_t n,
                       const nb_name_t *name) {
  for (size_t i = 0; i < n; i++) {
    if (nb_name_equal(&rows[i].name, name))
      return i;
  }
  return n;
}

static nb_err_t mem_begin(void *db) {
  nb_nbns_memdb_t *m = db;
  if (m->in_txn)
    return NB_ESTATE;
  memcpy(m->stage, m->rows, m->n_rows * sizeof *m->rows);
  m->n_stage = m->n_rows;
  m->in_txn = true;
  return NB_OK;
}

static nb_err_t mem_put(void *db, const nb_nbns_record_t *rec) {
  nb_nbns_memdb_t *m = db;
  if (!m->in_txn)
    return NB_ESTATE;
  size_t i = find_row(m->stage, m->n_stage, &rec->name);
  if (i == m->n_stage) {
    if (m->n_stage >= m->cap)
      return NB_EIO; /* a full disk */
    m->n_stage++;
  }
  m->stage[i] = *rec;
  return NB_OK;
}

static nb_err_t mem_del(void *db, const nb_name_t *name) {
  nb_nbns_memdb_t *m = db;
  if (!m->in_txn)
    return NB_ESTATE;
  size_t i = find_row(m->stage, m->n_stage, name);
  if (i < m->n_stage)
    m->stage[i] = m->stage[--m->n_stage];
  return NB_OK;
}

static nb_err_t mem_commit(void *db) {
  nb_nbns_memdb_t *m = db;
  if (!m->in_txn)
    return NB_ESTATE;
  m->in_txn = false;
  if (m->fail_next) {
    m->fail_next = false;
    return NB_EIO;
  }
  nb_nbns_record_t *t = m->rows;
  m->rows = m->stage;
  m->stage = t;
  m->n_rows = m->n_stage;
  return NB_OK;
}

static nb_err_t mem_rollback(void *db) {
  nb_nbns_memdb_t *m = db;
  m->in_txn = false;
  return NB_OK;
}

static nb_err_t mem_load(void *db,
                         nb_err_t (*fn)(void *arg, const nb_nbns_record_t *rec),
                         void *arg) {
  nb_nbns_memdb_t *m = db;
  for (size_t i = 0; i < m->n_rows; i++) {
    nb_err_t err = fn(arg, &m->rows[i]);
    if (err != NB_OK)
      return err;
  }
  return NB_OK;
}

static const nb_nbns_store_ops_t mem_ops = {
    mem_begin, mem_put, mem_del, mem_commit, mem_rollback, mem_load,
};

nb_nbns_store_t nb_nbns_memdb_store(nb_nbns_memdb_t *m) {
  nb_nbns_store_t s = {&mem_ops, m};
  return s;
}

size_t nb_nbns_memdb_count(const nb_nbns_memdb_t *m) { return m->n_rows; }

const nb_nbns_record_t *nb_nbns_memdb_find(const nb_nbns_memdb_t *m,
                                           const nb_name_t *name) {
  size_t i = find_row(m->rows, m->n_rows, name);
  return i < m->n_rows ? &m->rows[i] : NULL;
}

void nb_nbns_memdb_fail_next(nb_nbns_memdb_t *m) { m->fail_next = true; }
