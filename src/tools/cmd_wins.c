/* SPDX-License-Identifier: BSD-2-Clause */
/* nbt wins: the NBNS (WINS) database for people, and migration to and
 * from nmbd's wins.dat.
 *
 *   nbt wins list   [--db PATH] [--json]          every name
 *   nbt wins show   [--db PATH] [--json] NAME...  some names
 *   nbt wins delete [--db PATH] NAME...           remove names
 *   nbt wins import [--db PATH] [--scope S] FILE  wins.dat -> database
 *   nbt wins export [--db PATH] [FILE]            database -> wins.dat
 *
 * It works on the SQLite file directly (include/nb/nbns_sqlite.h): reads
 * need no lock (WAL readers see a consistent snapshot while nbtd runs);
 * delete and import take nbtd's writer lock and refuse while nbtd runs, so
 * its in-memory table never disagrees with the file. Expiry times in the
 * database are Unix milliseconds. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "nb/nbns.h"
#include "nb/nbns_sqlite.h"
#include "nb/ns.h"
#include "nbt.h"
#include "util.h"

#define DEFAULT_DB "/var/lib/nbtd/wins.db"
#define WINSDAT_MAX (64u << 20)

typedef struct opts {
  const char *db;
  const char *scope;
  uint64_t now_ms; /* --now UNIX: the wall clock to use (0: the real one) */
  bool json;
  int first; /* first operand */
} opts_t;

static void wins_usage(FILE *f) {
  fprintf(f,
          "usage: nbt wins list   [--db PATH] [--json]\n"
          "       nbt wins show   [--db PATH] [--json] NAME...\n"
          "       nbt wins delete [--db PATH] NAME...\n"
          "       nbt wins import [--db PATH] [--scope S] [--now UNIX] FILE\n"
          "       nbt wins export [--db PATH] [FILE]\n"
          "\n"
          "nbtd's NBNS (WINS) database (default " DEFAULT_DB "). list, show\n"
          "and export read it while nbtd runs; delete and import refuse to\n"
          "write while nbtd runs. import/export use nmbd's wins.dat format,\n"
          "so an nmbd WINS server migrates in one command (the old server's\n"
          "own names are left out; --now reads a file as of that time).\n"
          "Exit: 0 success, 1 a name not found or a bad line, 2 usage,\n"
          "3 the database cannot be used.\n");
}

static uint64_t wall_ms_real(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

static const opts_t *now_opts;

/* The wall clock, or --now (to read an old wins.dat as of its day). */
static uint64_t wall_ms(void) {
  return now_opts != NULL && now_opts->now_ms != 0 ? now_opts->now_ms
                                                   : wall_ms_real();
}

static int parse_opts(int argc, char **argv, opts_t *o) {
  o->db = DEFAULT_DB;
  o->scope = NULL;
  o->now_ms = 0;
  o->json = false;
  int i = 2;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
    if (strcmp(argv[i], "--json") == 0) {
      o->json = true;
    } else if (strcmp(argv[i], "--now") == 0 && i + 1 < argc) {
      char *end = NULL;
      unsigned long long s = strtoull(argv[++i], &end, 10);
      if (end == NULL || *end != '\0' || s == 0 || s > 4102444800ull) {
        fprintf(stderr, "nbt wins: --now: not a Unix time\n");
        return -1;
      }
      o->now_ms = (uint64_t)s * 1000u;
    } else if ((strcmp(argv[i], "--db") == 0 ||
                strcmp(argv[i], "--scope") == 0) &&
               i + 1 < argc) {
      *(argv[i][2] == 'd' ? &o->db : &o->scope) = argv[i + 1];
      i++;
    } else if (strcmp(argv[i], "--") == 0) {
      i++;
      break;
    } else {
      fprintf(stderr, "nbt wins: unknown option '%s'\n", argv[i]);
      return -1;
    }
  }
  o->first = i;
  return 0;
}

static nb_nbns_sqlite_t *open_db(const opts_t *o, unsigned flags) {
  char err[512];
  nb_nbns_sqlite_t *db = NULL;
  if (nb_nbns_sqlite_open(o->db, flags, &db, err, sizeof err) != NB_OK) {
    fprintf(stderr, "nbt wins: %s\n", err);
    return NULL;
  }
  return db;
}

/* ---- printing --------------------------------------------------------- */

static const char *kind_of(const nb_nbns_record_t *r) {
  if (r->group)
    return nb_name_suffix(&r->name) == NB_SUFFIX_DOMAIN_CONTROLLERS
               ? "internet-group"
               : "group";
  return r->n_members > 1 ? "multihomed" : "unique";
}

static void print_ip(FILE *f, uint32_t a) {
  fprintf(f, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xffu, (a >> 8) & 0xffu,
          a & 0xffu);
}

static long long expires_in(uint64_t expire_ms, uint64_t now) {
  if (expire_ms == NB_NBNS_NEVER)
    return -1;
  return expire_ms > now ? (long long)((expire_ms - now) / 1000u) : 0;
}

static void print_text(const nb_nbns_record_t *r, uint64_t now) {
  char t[NB_NAME_TEXT_MAX];
  nb_name_to_text(&r->name, t, sizeof t);
  printf("%-24s %-14s", t, kind_of(r));
  for (size_t i = 0; i < r->n_members; i++) {
    long long left = expires_in(r->members[i].expire_ms, now);
    printf(" ");
    print_ip(stdout, r->members[i].ip);
    if (left < 0)
      printf(" (permanent)");
    else
      printf(" (%llds)", left);
  }
  printf("\n");
}

static void print_json(const nb_nbns_record_t *r, uint64_t now, bool first) {
  char t[NB_NAME_TEXT_MAX];
  size_t len = nb_name_to_text(&r->name, t, sizeof t);
  printf("%s{\"name\":", first ? "" : ",");
  nbt_json_str(stdout, t, len < sizeof t ? len : sizeof t - 1);
  printf(",\"kind\":\"%s\",\"group\":%s,\"members\":[", kind_of(r),
         r->group ? "true" : "false");
  for (size_t i = 0; i < r->n_members; i++) {
    printf("%s{\"ip\":\"", i > 0 ? "," : "");
    print_ip(stdout, r->members[i].ip);
    printf("\",\"nb_flags\":%u,\"expires_in\":%lld}", r->members[i].nb_flags,
           expires_in(r->members[i].expire_ms, now));
  }
  printf("]}");
}

/* ---- list and show ---------------------------------------------------------
 */

typedef struct sel {
  const opts_t *o;
  char **names; /* NULL: all */
  int n_names;
  bool *found;
  size_t shown;
  uint64_t now;
} sel_t;

static bool wanted(sel_t *s, const nb_nbns_record_t *r) {
  if (s->names == NULL)
    return true;
  bool any = false;
  for (int i = 0; i < s->n_names; i++) {
    nb_name_t n;
    if (nb_name_from_text(&n, s->names[i], strlen(s->names[i]), NULL) ==
            NB_OK &&
        nb_name_equal(&n, &r->name)) {
      s->found[i] = true;
      any = true;
    }
  }
  return any;
}

static nb_err_t show_one(void *arg, const nb_nbns_record_t *r) {
  sel_t *s = arg;
  if (!wanted(s, r))
    return NB_OK;
  if (s->o->json)
    print_json(r, s->now, s->shown == 0);
  else
    print_text(r, s->now);
  s->shown++;
  return NB_OK;
}

static int cmd_list(const opts_t *o, char **names, int n_names) {
  nb_nbns_sqlite_t *db = open_db(o, NB_NBNS_SQLITE_READONLY);
  if (db == NULL)
    return NBT_EXIT_ERROR;
  bool found[64] = {false};
  sel_t s = {o, names, n_names > 64 ? 64 : n_names, found, 0, wall_ms()};
  nb_nbns_store_t st = nb_nbns_sqlite_store(db);
  if (o->json)
    printf("{\"names\":[");
  nb_err_t err = st.ops->load(st.db, show_one, &s);
  if (o->json)
    printf("]}\n");
  int rc = err == NB_OK ? NBT_EXIT_OK : NBT_EXIT_ERROR;
  if (err != NB_OK)
    fprintf(stderr, "nbt wins: %s: %s\n", o->db, nb_nbns_sqlite_errmsg(db));
  for (int i = 0; names != NULL && i < s.n_names; i++) {
    if (!found[i]) {
      fprintf(stderr, "nbt wins: %s: not in the database\n", names[i]);
      rc = rc == NBT_EXIT_OK ? NBT_EXIT_FAIL : rc;
    }
  }
  nb_nbns_sqlite_close(db);
  return rc;
}

/* ---- delete and import ------------------------------------------------ */

static int cmd_delete(const opts_t *o, char **names, int n) {
  nb_name_t nm[64];
  if (n < 1 || n > 64) {
    fprintf(stderr, "nbt wins delete: 1 to 64 names\n");
    return NBT_EXIT_USAGE;
  }
  for (int i = 0; i < n; i++) {
    nb_diag_t d = {NB_OK, 0, NULL};
    if (nb_name_from_text(&nm[i], names[i], strlen(names[i]), &d) != NB_OK) {
      fprintf(stderr, "nbt wins: %s: %s\n", names[i], d.field);
      return NBT_EXIT_USAGE;
    }
  }
  nb_nbns_sqlite_t *db = open_db(o, NB_NBNS_SQLITE_TRYLOCK);
  if (db == NULL)
    return NBT_EXIT_ERROR;
  nb_nbns_store_t st = nb_nbns_sqlite_store(db);
  long before = nb_nbns_sqlite_count(db);
  nb_err_t err = st.ops->begin(st.db);
  for (int i = 0; i < n && err == NB_OK; i++)
    err = st.ops->del(st.db, &nm[i]);
  err = err == NB_OK ? st.ops->commit(st.db) : err;
  long after = nb_nbns_sqlite_count(db);
  if (err != NB_OK) {
    (void)st.ops->rollback(st.db);
    fprintf(stderr, "nbt wins: %s: %s\n", o->db, nb_nbns_sqlite_errmsg(db));
  } else {
    printf("%ld deleted\n", before - after);
  }
  nb_nbns_sqlite_close(db);
  return err != NB_OK          ? NBT_EXIT_ERROR
         : before - after != n ? NBT_EXIT_FAIL
                               : NBT_EXIT_OK;
}

typedef struct import_stats {
  size_t added, expired, skipped, bad;
} import_stats_t; /* skipped: blank, VERSION, the old server's own names */

/* Parse every line of a wins.dat and put its records (one transaction). */
static nb_err_t import_lines(const opts_t *o, const nb_nbns_store_t *st,
                             const char *text, size_t len, import_stats_t *is) {
  uint64_t now = wall_ms();
  size_t line_no = 0;
  nb_err_t err = NB_OK;
  for (size_t i = 0; i < len && err == NB_OK;) {
    const char *nl = memchr(text + i, '\n', len - i);
    size_t end = nl != NULL ? (size_t)(nl - text) : len;
    nb_nbns_record_t r;
    nb_diag_t d = {NB_OK, 0, NULL};
    line_no++;
    nb_err_t pe = nb_nbns_winsdat_parse_line(text + i, end - i, o->scope, now,
                                             now, &r, &d);
    if (pe == NB_OK) {
      err = st->ops->put(st->db, &r);
      is->added++;
    } else if (pe == NB_ETIMEDOUT) {
      is->expired++;
    } else if (pe == NB_ENOTFOUND) {
      is->skipped++;
    } else {
      fprintf(stderr, "nbt wins import: line %zu, column %zu: %s\n", line_no,
              d.offset + 1, d.field != NULL ? d.field : "bad line");
      is->bad++;
    }
    i = end + 1;
  }
  return err;
}

static int cmd_import(const opts_t *o, const char *file) {
  size_t len = 0;
  uint8_t *text = nbt_read_file(file, WINSDAT_MAX, &len);
  if (text == NULL) {
    fprintf(stderr, "nbt wins import: %s: %s\n", file, strerror(errno));
    return NBT_EXIT_ERROR;
  }
  nb_nbns_sqlite_t *db = open_db(o, NB_NBNS_SQLITE_TRYLOCK);
  if (db == NULL) {
    free(text);
    return NBT_EXIT_ERROR;
  }
  nb_nbns_store_t st = nb_nbns_sqlite_store(db);
  import_stats_t is = {0, 0, 0, 0};
  nb_err_t err = st.ops->begin(st.db);
  if (err == NB_OK)
    err = import_lines(o, &st, (const char *)text, len, &is);
  err = err == NB_OK ? st.ops->commit(st.db) : err;
  if (err != NB_OK) {
    (void)st.ops->rollback(st.db);
    fprintf(stderr, "nbt wins import: %s: %s\n", o->db,
            nb_nbns_sqlite_errmsg(db));
  } else {
    printf("%zu imported, %zu expired (under 60 s to live), %zu bad lines\n",
           is.added, is.expired, is.bad);
  }
  nb_nbns_sqlite_close(db);
  free(text);
  return err != NB_OK ? NBT_EXIT_ERROR
         : is.bad > 0 ? NBT_EXIT_FAIL
                      : NBT_EXIT_OK;
}

/* ---- export ---------------------------------------------------------------
 */

typedef struct export_ctx {
  FILE *f;
  uint64_t now;
  size_t n;
} export_ctx_t;

static nb_err_t export_one(void *arg, const nb_nbns_record_t *r) {
  export_ctx_t *x = arg;
  char line[1024];
  if (r->n_members == 0)
    return NB_OK;
  size_t n = nb_nbns_winsdat_format(r, x->now, x->now, line, sizeof line);
  if (n >= sizeof line)
    return NB_OK; /* cannot happen: 25 addresses fit */
  fputs(line, x->f);
  x->n++;
  return NB_OK;
}

static int cmd_export(const opts_t *o, const char *file) {
  nb_nbns_sqlite_t *db = open_db(o, NB_NBNS_SQLITE_READONLY);
  if (db == NULL)
    return NBT_EXIT_ERROR;
  FILE *f = file == NULL || strcmp(file, "-") == 0 ? stdout : fopen(file, "w");
  if (f == NULL) {
    fprintf(stderr, "nbt wins export: %s: %s\n", file, strerror(errno));
    nb_nbns_sqlite_close(db);
    return NBT_EXIT_ERROR;
  }
  export_ctx_t x = {f, wall_ms(), 0};
  nb_nbns_store_t st = nb_nbns_sqlite_store(db);
  fprintf(f, "VERSION 1 0\n");
  nb_err_t err = st.ops->load(st.db, export_one, &x);
  int rc = err == NB_OK && !ferror(f) ? NBT_EXIT_OK : NBT_EXIT_ERROR;
  if (f != stdout && fclose(f) != 0)
    rc = NBT_EXIT_ERROR;
  if (rc != NBT_EXIT_OK)
    fprintf(stderr, "nbt wins export: failed\n");
  nb_nbns_sqlite_close(db);
  return rc;
}

int nbt_cmd_wins(int argc, char **argv) {
  opts_t o;
  if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
      strcmp(argv[1], "-h") == 0) {
    wins_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? NBT_EXIT_USAGE : NBT_EXIT_OK;
  }
  now_opts = &o;
  if (parse_opts(argc, argv, &o) != 0) {
    wins_usage(stderr);
    return NBT_EXIT_USAGE;
  }
  const char *sub = argv[1];
  int rest = argc - o.first;
  char **ops = argv + o.first;
  if (strcmp(sub, "list") == 0 && rest == 0)
    return cmd_list(&o, NULL, 0);
  if (strcmp(sub, "show") == 0 && rest > 0)
    return cmd_list(&o, ops, rest);
  if (strcmp(sub, "delete") == 0 && rest > 0)
    return cmd_delete(&o, ops, rest);
  if (strcmp(sub, "import") == 0 && rest == 1)
    return cmd_import(&o, ops[0]);
  if (strcmp(sub, "export") == 0 && rest <= 1)
    return cmd_export(&o, rest == 1 ? ops[0] : NULL);
  wins_usage(stderr);
  return NBT_EXIT_USAGE;
}
