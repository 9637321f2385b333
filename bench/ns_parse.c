/* SPDX-License-Identifier: BSD-2-Clause */
/* bench_ns_parse: parse + classify time per name-service packet.
 *
 * usage: bench_ns_parse [--hex FILE]... [--dir DIR]... [--repeat N]
 *                       [--min-ms N]
 *   --hex FILE  one packet per line as hex (bench/run-ns-parse extracts the
 *               UDP 137 payloads of the captures this way)
 *   --dir DIR   every regular file of DIR is one packet (corpus/ns_packet)
 *
 * Each parser runs over the whole packet set for as many rounds as take at
 * least --min-ms (calibrated once), --repeat times, interleaved with the
 * peer so that drift on a shared machine hits both alike; the figure is the
 * fastest repeat (and the median beside it) divided by rounds x packets.
 * Built as bench_ns_parse_samba (NB_BENCH_WITH_SAMBA), the same run times
 * Samba's ndr_pull_nbt_name_packet on the same packets and prints the
 * ratio. Timing: CLOCK_MONOTONIC. Numbers are for comparison within one run
 * only. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nb/ns.h"
#include "util.h" /* nbt_unhex() from src/tools/util.c */
#ifdef NB_BENCH_WITH_SAMBA
#include "ns_parse_samba.h"
#endif

#define PKT_MAX 65535u
#define REPEAT_MAX 99u

typedef struct {
  uint8_t *p;
  size_t len;
} pkt_t;

typedef struct {
  pkt_t *v;
  size_t n;
  size_t cap;
  size_t bytes;
} pktset_t;

typedef unsigned (*parse_fn_t)(const uint8_t *p, size_t len);

typedef struct {
  const char *name;
  parse_fn_t fn;
  unsigned long rounds;
  double ns[REPEAT_MAX]; /* ns/packet per repeat */
  size_t accepted;
} parser_t;

/* nbtkit: what a receiver does with every datagram. nb_ns_parse() also
 * classifies (msg.kind is nb_ns_classify() of the packet) and collects the
 * conformance findings, so this is parse + classify + findings. */
static unsigned nbtkit_parse(const uint8_t *p, size_t len) {
  nb_ns_msg_t msg;
  if (nb_ns_parse(p, len, &msg, NULL) != NB_OK) {
    return 0;
  }
  return 1u + (unsigned)msg.kind + msg.nfindings;
}

static int add_packet(pktset_t *s, const uint8_t *p, size_t len) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 256;
    pkt_t *v = realloc(s->v, cap * sizeof *v);
    if (v == NULL) {
      return -1;
    }
    s->v = v;
    s->cap = cap;
  }
  uint8_t *copy = malloc(len ? len : 1);
  if (copy == NULL) {
    return -1;
  }
  if (len > 0) {
    memcpy(copy, p, len);
  }
  s->v[s->n].p = copy;
  s->v[s->n].len = len;
  s->n++;
  s->bytes += len;
  return 0;
}

/* One packet per line; a line that is not hex is skipped. */
static int load_hex(pktset_t *s, const char *path) {
  static uint8_t buf[PKT_MAX];
  static char line[2 * PKT_MAX + 2];
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    perror(path);
    return -1;
  }
  while (fgets(line, sizeof line, f) != NULL) {
    size_t len = 0;
    size_t bad = 0;
    line[strcspn(line, "\r\n")] = '\0';
    if (line[0] != '\0' && nbt_unhex(line, buf, sizeof buf, &len, &bad) &&
        add_packet(s, buf, len) != 0) {
      fclose(f);
      return -1;
    }
  }
  fclose(f);
  return 0;
}

static int load_file(pktset_t *s, const char *path) {
  static uint8_t buf[PKT_MAX];
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return 0; /* not a readable regular file: skip */
  }
  size_t len = fread(buf, 1, sizeof buf, f);
  fclose(f);
  return add_packet(s, buf, len);
}

static int load_dir(pktset_t *s, const char *dir) {
  char path[4096];
  DIR *d = opendir(dir);
  struct dirent *e;
  if (d == NULL) {
    perror(dir);
    return -1;
  }
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') {
      continue;
    }
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (load_file(s, path) != 0) {
      closedir(d);
      return -1;
    }
  }
  closedir(d);
  return 0;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Keeps every result live so that no parse can be optimised away. */
static volatile unsigned sink;

static uint64_t run_rounds(parse_fn_t fn, const pktset_t *s,
                           unsigned long rounds) {
  unsigned acc = 0;
  uint64_t t0 = now_ns();
  for (unsigned long r = 0; r < rounds; r++) {
    for (size_t i = 0; i < s->n; i++) {
      acc += fn(s->v[i].p, s->v[i].len);
    }
  }
  uint64_t t1 = now_ns();
  sink += acc;
  return t1 - t0;
}

/* Rounds so that one measurement lasts at least `min_ms`. */
static void calibrate(parser_t *ps, const pktset_t *s, unsigned min_ms) {
  unsigned long rounds = 1;
  ps->accepted = 0;
  for (size_t i = 0; i < s->n; i++) {
    ps->accepted += ps->fn(s->v[i].p, s->v[i].len) != 0 ? 1 : 0;
  }
  while (run_rounds(ps->fn, s, rounds) < (uint64_t)min_ms * 1000000u &&
         rounds < (1ul << 30)) {
    rounds *= 2;
  }
  ps->rounds = rounds;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a;
  double y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Sorts ps->ns; returns the median, leaves the minimum in ns[0]. */
static double summarise(parser_t *ps, unsigned repeat) {
  qsort(ps->ns, repeat, sizeof ps->ns[0], cmp_double);
  return ps->ns[repeat / 2];
}

static void report(parser_t *ps, unsigned repeat, const pktset_t *s,
                   double *min, double *median) {
  *median = summarise(ps, repeat);
  *min = ps->ns[0];
  printf("%-38s %9.1f ns/packet (median %.1f; best of %u x %lu rounds), "
         "accepted %zu/%zu\n",
         ps->name, *min, *median, repeat, ps->rounds, ps->accepted, s->n);
}

typedef struct {
  unsigned repeat;
  unsigned min_ms;
} opts_t;

static int parse_args(int argc, char **argv, pktset_t *s, opts_t *o) {
  for (int i = 1; i < argc; i += 2) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    int rc = 0;
    if (v != NULL && strcmp(a, "--hex") == 0) {
      rc = load_hex(s, v);
    } else if (v != NULL && strcmp(a, "--dir") == 0) {
      rc = load_dir(s, v);
    } else if (v != NULL && strcmp(a, "--repeat") == 0) {
      o->repeat = (unsigned)strtoul(v, NULL, 10);
    } else if (v != NULL && strcmp(a, "--min-ms") == 0) {
      o->min_ms = (unsigned)strtoul(v, NULL, 10);
    } else {
      fprintf(stderr, "usage: bench_ns_parse [--hex FILE]... [--dir DIR]... "
                      "[--repeat N] [--min-ms N]\n");
      return 2;
    }
    if (rc != 0) {
      return 1;
    }
  }
  if (o->repeat == 0 || o->repeat > REPEAT_MAX || s->n == 0) {
    fprintf(stderr, "bench_ns_parse: no packets, or --repeat not 1..%u\n",
                    REPEAT_MAX);
    return 2;
  }
  return 0;
}

static void free_set(pktset_t *s) {
  for (size_t i = 0; i < s->n; i++) {
    free(s->v[i].p);
  }
  free(s->v);
}

int main(int argc, char **argv) {
  pktset_t set = {NULL, 0, 0, 0};
  opts_t o = {7, 200};
  parser_t ps[] = {
      {"nbtkit nb_ns_parse (classify, findings)", nbtkit_parse, 0, {0}, 0},
#ifdef NB_BENCH_WITH_SAMBA
      {"samba ndr_pull_nbt_name_packet", nb_bench_samba_parse, 0, {0}, 0},
#endif
  };
  size_t np = sizeof ps / sizeof ps[0];
  double min[2] = {0, 0};
  double med[2] = {0, 0};
  int rc = parse_args(argc, argv, &set, &o);
  if (rc != 0) {
    free_set(&set);
    return rc;
  }
  printf("packets: %zu, %zu bytes (mean %.1f)\n", set.n, set.bytes,
         (double)set.bytes / (double)set.n);
  for (size_t k = 0; k < np; k++) {
    calibrate(&ps[k], &set, o.min_ms);
  }
  for (unsigned r = 0; r < o.repeat; r++) {
    for (size_t k = 0; k < np; k++) {
      uint64_t t = run_rounds(ps[k].fn, &set, ps[k].rounds);
      ps[k].ns[r] = (double)t / ((double)ps[k].rounds * (double)set.n);
    }
  }
  for (size_t k = 0; k < np; k++) {
    report(&ps[k], o.repeat, &set, &min[k], &med[k]);
  }
  if (np == 2) {
    printf("ratio samba/nbtkit: %.1fx (medians: %.1fx)\n", min[1] / min[0],
           med[1] / med[0]);
  }
  free_set(&set);
  return 0;
}
