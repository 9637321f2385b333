/* SPDX-License-Identifier: BSD-2-Clause */
/* The WINS service: glue between the NBNS engine, SQLite and the name
 * service's sockets (see svc_wins.h).
 *
 * The durability loop. Datagrams arrive in a recvmmsg() batch; each goes
 * through nb_nbns_recv(), which changes the table and queues responses,
 * holding back the acknowledgements. Once per loop iteration, after the
 * I/O phase (a uv_check handle), the journal goes into ONE SQLite
 * transaction; after COMMIT returns (the WAL fsync()ed) the engine is told
 * and only then does pending() offer the acknowledgements, which are sent
 * at once. A registration is therefore never acknowledged before it is on
 * disk, and requests that arrive together share one fsync. */
#include "svc_wins.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "log.h"
#include "nb/nbns.h"
#include "nb/nbns_sqlite.h"
#include "nb/ns.h"
#include "udp.h"

struct nb_svc_wins {
  nb_daemon_t *d;
  nb_svc_ns_t *ns;
  nb_nbns_t *e;
  nb_nbns_sqlite_t *db;
  nb_nbns_store_t store;
  uv_timer_t timer;
  uv_check_t check;
  bool timer_init, check_init;
  uint64_t armed;
  uint64_t wall0_ms; /* the engine's clock: Unix ms at start ... */
  uint64_t loop0_ms; /* ... plus loop time since */
  bool stopping;
  uint64_t db_errors;
  uint64_t db_commits;
  uint64_t db_rows;
  uint64_t loaded, load_skipped;
};

nb_svc_wins_t *nb_svc_wins_new(nb_svc_ns_t *ns) {
  nb_svc_wins_t *w = calloc(1, sizeof *w);
  if (w != NULL) {
    w->ns = ns;
    w->armed = UINT64_MAX;
  }
  return w;
}

void nb_svc_wins_free(nb_svc_wins_t *w) {
  if (w != NULL) {
    nb_nbns_free(w->e);
    nb_nbns_sqlite_close(w->db);
    free(w);
  }
}

/* Expiry times are stored, so the engine runs on the Unix epoch in ms
 * (advancing with the loop's monotonic clock while we run). */
static uint64_t now_ms(const nb_svc_wins_t *w) {
  return w->wall0_ms + (uv_now(w->d->loop) - w->loop0_ms);
}

static uint64_t wall_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

/* ---- the durability loop ------------------------------------------------- */

static void commit(nb_svc_wins_t *w) {
  size_t n = 0;
  if (nb_nbns_journal_len(w->e) == 0) {
    return;
  }
  nb_err_t err = nb_nbns_flush(w->e, &w->store, &n);
  if (err != NB_OK) {
    /* Nothing is acknowledged; the journal is offered again next time. */
    if (w->db_errors++ % 100 == 0) {
      nb_log_err("wins: database commit failed: %s",
                 nb_nbns_sqlite_errmsg(w->db));
    }
    return;
  }
  w->db_commits++;
  w->db_rows += n;
}

static void send_ready(nb_svc_wins_t *w) {
  nb_nbns_out_t o;
  bool any = false;
  while (nb_nbns_pending(w->e, &o)) {
    nb_svc_ns_send(w->ns, o.data, o.len, o.dst_ip, o.dst_port);
    nb_nbns_advance(w->e);
    any = true;
  }
  if (any) {
    nb_svc_ns_flush(w->ns);
  }
}

static void on_timer(uv_timer_t *t);

static void rearm(nb_svc_wins_t *w) {
  uint64_t dl = nb_nbns_next_deadline(w->e);
  if (dl == w->armed) {
    return;
  }
  w->armed = dl;
  if (dl == NB_NBNS_NEVER) {
    uv_timer_stop(&w->timer);
    return;
  }
  uint64_t now = now_ms(w);
  uv_timer_start(&w->timer, on_timer, dl > now ? dl - now : 0, 0);
}

static void sync_all(nb_svc_wins_t *w) {
  commit(w);
  send_ready(w);
  rearm(w);
  if (w->stopping) {
    nb_daemon_poke(w->d);
  }
}

static void on_timer(uv_timer_t *t) {
  nb_svc_wins_t *w = t->data;
  w->armed = UINT64_MAX;
  nb_nbns_on_timer(w->e, now_ms(w));
  sync_all(w);
}

static void on_check(uv_check_t *c) { sync_all(c->data); }

/* The name service's tap: everything for an NBNS is taken here; node
 * status, broadcasts, queries without RD, responses that answer none of
 * our challenges and undecodable datagrams go on to the node engine. */
static bool tap(void *arg, const uint8_t *pkt, size_t len, uint32_t src_ip,
                uint16_t src_port, bool bcast) {
  nb_svc_wins_t *w = arg;
  nb_nbns_verdict_t v =
      nb_nbns_recv(w->e, pkt, len, src_ip, src_port, bcast, now_ms(w));
  if (v != NB_NBNS_HANDLED && nb_log_enabled(NB_LOG_DEBUG)) {
    char a[16];
    nb_log_debug("wins: %zu bytes from %s:%u: %s", len, nb_udp_ntoa(src_ip, a),
                 src_port, nb_nbns_verdict_str(v));
  }
  return !(v == NB_NBNS_PASS || v == NB_NBNS_MALFORMED ||
           v == NB_NBNS_TRUNCATED || v == NB_NBNS_LIMIT);
}

/* ---- start ------------------------------------------------------------------
 */

static void engine_config(const nb_daemon_t *d, nb_nbns_config_t *ec) {
  const nb_config_t *c = d->cfg;
  nb_nbns_config_init(ec);
  for (size_t i = 0; i < d->n_ifaces && i < NB_NBNS_MAX_IFACES; i++) {
    ec->own_ips[i] = d->ifaces[i].ip;
    ec->n_own_ips = i + 1;
  }
  ec->port = c->port;
  uv_random(NULL, NULL, &ec->txid_seed, sizeof ec->txid_seed, 0, NULL);
  ec->ttl_min_s = c->wins_ttl_min_s;
  ec->ttl_max_s = c->wins_ttl_max_s;
  ec->ttl_infinite_s =
      c->wins_ttl_min_s > ec->ttl_infinite_s ? c->wins_ttl_min_s : 518400u;
  if (c->wins_ttl_max_s != 0 && ec->ttl_infinite_s > c->wins_ttl_max_s) {
    ec->ttl_infinite_s = c->wins_ttl_max_s;
  }
  ec->max_names = c->wins_max_names;
  ec->max_challenges = 256;
  ec->max_out = 8192;
  ec->max_journal = 16384;
}

static uint16_t own_ont(const nb_config_t *c) {
  switch (c->node_type) {
  case NB_CONFIG_NODE_P:
    return NB_NS_ONT_P;
  case NB_CONFIG_NODE_M:
    return NB_NS_ONT_M;
  case NB_CONFIG_NODE_H:
    return NB_NS_ONT_H;
  default:
    return NB_NS_ONT_B;
  }
}

static void add_static(nb_svc_wins_t *w, const char *name, uint8_t suffix,
                       bool group, const uint32_t *ips, size_t n) {
  nb_name_t nm;
  if (nb_name_make(&nm, name, strlen(name), suffix, w->d->cfg->scope) !=
          NB_OK ||
      nb_nbns_add_static(w->e, &nm, group, own_ont(w->d->cfg), ips, n,
                         now_ms(w)) != NB_OK) {
    nb_log_err("wins: cannot add own name %s<%02x>", name, suffix);
  }
}

/* nmbd adds its own names to its WINS database (add_samba_names_to_subnet):
 * the same set the name service claims. */
static void add_own_names(nb_svc_wins_t *w) {
  static const uint8_t own[] = {NB_SUFFIX_WORKSTATION, NB_SUFFIX_MESSENGER,
                                NB_SUFFIX_SERVER};
  const nb_config_t *c = w->d->cfg;
  uint32_t ips[NB_NBNS_MAX_IFACES];
  size_t n = 0;
  for (size_t i = 0; i < w->d->n_ifaces && n < NB_NBNS_MAX_IFACES; i++) {
    ips[n++] = w->d->ifaces[i].ip;
  }
  for (size_t k = 0; k < 3; k++) {
    add_static(w, c->name.s, own[k], false, ips, n);
    for (size_t a = 0; a < c->n_aliases; a++) {
      add_static(w, c->aliases[a].s, own[k], false, ips, n);
    }
  }
  add_static(w, c->workgroup.s, NB_SUFFIX_WORKSTATION, true, ips, n);
  add_static(w, c->workgroup.s, NB_SUFFIX_BROWSER_ELECTION, true, ips, n);
}

/* The database's directory (e.g. /var/lib/nbtd) is made when missing, one
 * level, as a state directory. */
static void make_parent(const char *path) {
  char dir[NB_CONFIG_PATH_MAX + 1];
  const char *slash = strrchr(path, '/');
  size_t n = slash != NULL ? (size_t)(slash - path) : 0;
  if (n == 0 || n >= sizeof dir) {
    return;
  }
  memcpy(dir, path, n);
  dir[n] = '\0';
  if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
    nb_log_warn("wins: cannot create %s: %s", dir, strerror(errno));
  }
}

static int open_db(nb_svc_wins_t *w) {
  char err[512];
  const char *path = w->d->cfg->wins_db;
  make_parent(path);
  if (nb_nbns_sqlite_open(path, NB_NBNS_SQLITE_LOCK | NB_NBNS_SQLITE_TRYLOCK,
                          &w->db, err, sizeof err) != NB_OK) {
    nb_log_err("wins: %s", err);
    return UV_EIO;
  }
  w->store = nb_nbns_sqlite_store(w->db);
  size_t skipped = 0;
  if (nb_nbns_restore(w->e, &w->store, now_ms(w), &skipped) != NB_OK) {
    nb_log_err("wins: %s: cannot read: %s", path, nb_nbns_sqlite_errmsg(w->db));
    return UV_EIO;
  }
  w->loaded = nb_nbns_count(w->e);
  w->load_skipped = skipped;
  nb_log_notice("wins: database %s: %llu names loaded%s", path,
                (unsigned long long)w->loaded,
                skipped != 0 ? " (some expired or over the table size)" : "");
  return 0;
}

static int handles(nb_svc_wins_t *w) {
  int rc = uv_timer_init(w->d->loop, &w->timer);
  w->timer_init = rc == 0;
  w->timer.data = w;
  if (rc == 0) {
    rc = uv_check_init(w->d->loop, &w->check);
    w->check_init = rc == 0;
    w->check.data = w;
  }
  return rc == 0 ? uv_check_start(&w->check, on_check) : rc;
}

static int wins_start(void *self, nb_daemon_t *d) {
  nb_svc_wins_t *w = self;
  nb_nbns_config_t ec;
  nb_diag_t diag = {NB_OK, 0, NULL};
  w->d = d;
  w->wall0_ms = wall_ms();
  w->loop0_ms = uv_now(d->loop);
  engine_config(d, &ec);
  if (nb_nbns_config_check(&ec, &diag) != NB_OK ||
      nb_nbns_new(&ec, &w->e) != NB_OK) {
    nb_log_err("wins: bad engine configuration: %s",
               diag.field != NULL ? diag.field : "out of memory");
    return UV_EINVAL;
  }
  int rc = handles(w);
  if (rc == 0) {
    rc = open_db(w);
  }
  if (rc != 0) {
    return rc;
  }
  add_own_names(w);
  nb_svc_ns_set_tap(w->ns, tap, w);
  nb_log_notice("wins: NBNS server on port %u: TTL at least %u s, at most %u "
                "s (0: the proposal), %u names",
                d->cfg->port, ec.ttl_min_s, ec.ttl_max_s, ec.max_names);
  sync_all(w);
  return 0;
}

static void wins_stop(void *self) {
  nb_svc_wins_t *w = self;
  if (w->e == NULL || w->stopping) {
    return;
  }
  w->stopping = true;
  sync_all(w);
}

static bool wins_done(const void *self) {
  const nb_svc_wins_t *w = self;
  return w->e == NULL || nb_nbns_journal_len(w->e) == 0;
}

static void wins_close(void *self) {
  nb_svc_wins_t *w = self;
  if (w->ns != NULL) {
    nb_svc_ns_set_tap(w->ns, NULL, NULL);
  }
  if (w->timer_init && !uv_is_closing((uv_handle_t *)&w->timer)) {
    uv_close((uv_handle_t *)&w->timer, NULL);
  }
  if (w->check_init && !uv_is_closing((uv_handle_t *)&w->check)) {
    uv_close((uv_handle_t *)&w->check, NULL);
  }
}

/* ---- reports ---------------------------------------------------------- */

#define WINS_COUNTERS(XX)                                                      \
  XX(rx_packets)                                                               \
  XX(registrations)                                                            \
  XX(refreshes)                                                                \
  XX(releases)                                                                 \
  XX(releases_refused)                                                         \
  XX(refused)                                                                  \
  XX(queries_positive)                                                         \
  XX(queries_negative)                                                         \
  XX(wacks)                                                                    \
  XX(challenges)                                                               \
  XX(challenge_queries)                                                        \
  XX(challenges_kept)                                                          \
  XX(challenges_moved)                                                         \
  XX(expired)                                                                  \
  XX(ttl_raised)                                                               \
  XX(ttl_capped)                                                               \
  XX(tx_queued)                                                                \
  XX(tx_sent)                                                                  \
  XX(tx_dropped)                                                               \
  XX(journal_writes)                                                           \
  XX(commits)                                                                  \
  XX(held)

static void report_text(const nb_svc_wins_t *w, nb_sbuf_t *out) {
  const nb_nbns_counters_t *c = nb_nbns_counters(w->e);
#define TEXT_(f)                                                               \
  nb_sbuf_printf(out, "wins.%s %llu\n", #f, (unsigned long long)c->f);
  WINS_COUNTERS(TEXT_)
#undef TEXT_
  for (int v = 0; v < NB_NBNS_VERDICT__COUNT; v++) {
    nb_sbuf_printf(out, "wins.verdict.%s %llu\n",
                   nb_nbns_verdict_name((nb_nbns_verdict_t)v),
                   (unsigned long long)c->verdict[v]);
  }
  nb_sbuf_printf(out, "wins.names %zu\nwins.journal %zu\n", nb_nbns_count(w->e),
                 nb_nbns_journal_len(w->e));
  nb_sbuf_printf(out, "wins.db.commits %llu\nwins.db.rows %llu\n",
                 (unsigned long long)w->db_commits,
                 (unsigned long long)w->db_rows);
  nb_sbuf_printf(out, "wins.db.errors %llu\n",
                 (unsigned long long)w->db_errors);
}

static void report_json(const nb_svc_wins_t *w, nb_sbuf_t *out) {
  const nb_nbns_counters_t *c = nb_nbns_counters(w->e);
  const char *sep = "";
  nb_sbuf_printf(out, "{\"counters\":{");
#define JSON_(f)                                                               \
  nb_sbuf_printf(out, "%s\"%s\":%llu", sep, #f, (unsigned long long)c->f);     \
  sep = ",";
  WINS_COUNTERS(JSON_)
#undef JSON_
  nb_sbuf_printf(out, "},\"verdict\":{");
  for (int v = 0; v < NB_NBNS_VERDICT__COUNT; v++) {
    nb_sbuf_printf(out, "%s\"%s\":%llu", v > 0 ? "," : "",
                   nb_nbns_verdict_name((nb_nbns_verdict_t)v),
                   (unsigned long long)c->verdict[v]);
  }
  nb_sbuf_printf(
      out,
      "},\"names\":%zu,\"journal\":%zu,\"db\":{\"commits\":%llu,"
      "\"rows\":%llu,\"errors\":%llu,\"loaded\":%llu}}",
      nb_nbns_count(w->e), nb_nbns_journal_len(w->e),
      (unsigned long long)w->db_commits, (unsigned long long)w->db_rows,
      (unsigned long long)w->db_errors, (unsigned long long)w->loaded);
}

static void wins_report(const void *self, nb_sbuf_t *out, nb_report_fmt_t fmt) {
  const nb_svc_wins_t *w = self;
  if (w->e == NULL) {
    nb_sbuf_printf(out, "%s", fmt == NB_REPORT_JSON ? "null" : "");
  } else if (fmt == NB_REPORT_JSON) {
    report_json(w, out);
  } else {
    report_text(w, out);
  }
}

const nb_service_ops_t nb_svc_wins_ops = {
    "wins", wins_start, wins_stop, wins_done, wins_close, wins_report,
};
