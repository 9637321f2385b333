/* SPDX-License-Identifier: BSD-2-Clause */
/* nbt replay PCAP --target IP: send a capture's requests to a live target
 * and diff its responses against the recorded ones (docs/REPLAY.md).
 *
 * The pieces are in replay_*.c (see replay.h). This file parses the
 * command line, runs the exchanges in capture order within the time cap,
 * and turns the outcome into output and an exit code: 0 every exchange
 * agrees, 1 any differs or was skipped (or there was nothing to replay),
 * 2 usage, 3 I/O (capture unreadable, JUnit file unwritable). */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nbt.h"
#include "replay.h"
#include "util.h"

typedef struct replay_args {
  const char *pcap;
  const char *junit;
  nbt_rp_format_t fmt;
  nbt_rp_opts_t o;
  nbt_rp_select_t sel;
} replay_args_t;

static void replay_usage(FILE *f) {
  fprintf(f,
          "usage: nbt replay PCAP --target IP [--server IP]\n"
          "                  [--port-map 137:N] [--port-map 138:N] "
          "[--port-map 139:N]\n"
          "                  [--timeout MS] [--max-time S] [--only "
          "ns,dgm,ssn]\n"
          "                  [--ssn-turns N] [--strict-ttl] [--json] "
          "[--junit FILE]\n"
          "\n"
          "Send the requests of a capture (UDP 137 requests, UDP 138\n"
          "datagrams to the server, the client side of TCP 139 sessions) to\n"
          "the unicast IPv4 address IP, collect the responses, normalise\n"
          "them and diff them against the recorded responses. --server is\n"
          "the capture's server (detected when absent); --timeout bounds\n"
          "each exchange (default 1000 ms) and --max-time the run (default\n"
          "300 s); --ssn-turns replays only the first N client packets of\n"
          "each TCP connection. Exit code: 0 all agree, 1 any differ, 2\n"
          "usage, 3 I/O. See docs/REPLAY.md.\n");
}

static bool parse_ulong(const char *s, unsigned long lo, unsigned long hi,
                        unsigned long *out) {
  char *end = NULL;
  unsigned long v = strtoul(s, &end, 10);
  if (end == s || *end != '\0' || v < lo || v > hi || s[0] == '-') {
    return false;
  }
  *out = v;
  return true;
}

static bool parse_ip(const char *s, uint32_t *out) {
  struct in_addr a;
  if (inet_pton(AF_INET, s, &a) != 1) {
    return false;
  }
  *out = ntohl(a.s_addr);
  return true;
}

/* Only a unicast destination: not 0.0.0.0, not the limited broadcast, not
 * multicast (224/4) or reserved (240/4). */
static bool unicast(uint32_t a) { return a != 0 && (a >> 28) < 0xe; }

static bool parse_port_map(const char *s, nbt_rp_opts_t *o) {
  unsigned long from = 0;
  unsigned long to = 0;
  char buf[32];
  const char *colon = strchr(s, ':');
  if (colon == NULL || (size_t)(colon - s) >= sizeof buf) {
    return false;
  }
  memcpy(buf, s, (size_t)(colon - s));
  buf[colon - s] = '\0';
  if (!parse_ulong(buf, NBT_RP_PORT_NS, NBT_RP_PORT_SSN, &from) ||
      !parse_ulong(colon + 1, 1, 65535, &to)) {
    return false;
  }
  o->port[from - NBT_RP_PORT_NS] = (uint16_t)to;
  return true;
}

/* "ns", "dgm", "ssn", comma-separated. */
static bool parse_only(const char *s, nbt_rp_select_t *sel) {
  sel->ns = sel->dgm = sel->ssn = false;
  while (*s != '\0') {
    size_t n = strcspn(s, ",");
    if (n == 2 && strncmp(s, "ns", 2) == 0) {
      sel->ns = true;
    } else if (n == 3 && strncmp(s, "dgm", 3) == 0) {
      sel->dgm = true;
    } else if (n == 3 && strncmp(s, "ssn", 3) == 0) {
      sel->ssn = true;
    } else {
      return false;
    }
    s += n + (s[n] == ',');
  }
  return sel->ns || sel->dgm || sel->ssn;
}

/* One option with a value; false on a bad value. */
static bool parse_opt(replay_args_t *a, const char *opt, const char *val) {
  unsigned long v = 0;
  if (strcmp(opt, "--target") == 0) {
    return parse_ip(val, &a->o.target) && unicast(a->o.target);
  } else if (strcmp(opt, "--server") == 0) {
    return parse_ip(val, &a->sel.server) && a->sel.server != 0;
  } else if (strcmp(opt, "--port-map") == 0) {
    return parse_port_map(val, &a->o);
  } else if (strcmp(opt, "--timeout") == 0 && parse_ulong(val, 1, 60000, &v)) {
    a->o.timeout_ms = (int)v;
  } else if (strcmp(opt, "--max-time") == 0 && parse_ulong(val, 1, 86400, &v)) {
    a->o.max_time_s = (double)v;
  } else if (strcmp(opt, "--ssn-turns") == 0 &&
             parse_ulong(val, 0, 1000000, &v)) {
    a->sel.ssn_turns = (unsigned)v;
  } else if (strcmp(opt, "--only") == 0) {
    return parse_only(val, &a->sel);
  } else if (strcmp(opt, "--junit") == 0) {
    a->junit = val;
  } else {
    return false;
  }
  return true;
}

static bool takes_value(const char *opt) {
  static const char *const with[] = {"--target",  "--server",   "--port-map",
                                     "--timeout", "--max-time", "--ssn-turns",
                                     "--only",    "--junit"};
  for (size_t i = 0; i < sizeof with / sizeof with[0]; i++) {
    if (strcmp(opt, with[i]) == 0) {
      return true;
    }
  }
  return false;
}

/* Returns -1 to go on, or an exit code. */
static int parse_args(int argc, char **argv, replay_args_t *a) {
  *a = (replay_args_t){
      .fmt = NBT_RP_TEXT,
      .o = {.port = {NBT_RP_PORT_NS, NBT_RP_PORT_DGM, NBT_RP_PORT_SSN},
            .timeout_ms = 1000,
            .max_time_s = 300},
      .sel = {.ns = true, .dgm = true, .ssn = true}};
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      replay_usage(stdout);
      return NBT_EXIT_OK;
    } else if (strcmp(arg, "--json") == 0) {
      a->fmt = NBT_RP_JSON;
    } else if (strcmp(arg, "--strict-ttl") == 0) {
      a->o.strict_ttl = true;
    } else if (takes_value(arg) && i + 1 < argc) {
      if (!parse_opt(a, arg, argv[++i])) {
        fprintf(stderr, "nbt: replay: bad %s '%s'\n", arg, argv[i]);
        return NBT_EXIT_USAGE;
      }
    } else if (arg[0] != '-' && a->pcap == NULL) {
      a->pcap = arg;
    } else {
      replay_usage(stderr);
      return NBT_EXIT_USAGE;
    }
  }
  if (a->pcap == NULL || a->o.target == 0) {
    fprintf(stderr, "nbt: replay: a capture and --target IP are required\n");
    replay_usage(stderr);
    return NBT_EXIT_USAGE;
  }
  return -1;
}

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct replay_run {
  const replay_args_t *a;
  nbt_rp_plan_t plan;
  nbt_rp_net_t *net;
  size_t count[3];
  FILE *junit; /* memory stream of testcases, or NULL */
  char *junit_buf;
  size_t junit_len;
} replay_run_t;

static void run_one(replay_run_t *run, size_t i, double deadline) {
  const nbt_rp_exch_t *e = &run->plan.exch[i];
  nbt_rp_result_t *res = calloc(1, sizeof *res);
  if (res == NULL) {
    run->count[NBT_RP_SKIPPED]++; /* counted, so the run cannot pass */
    fprintf(stderr, "nbt: replay: exchange %zu: out of memory\n", i + 1);
    return;
  }
  if (mono_s() >= deadline) {
    res->status = NBT_RP_SKIPPED;
    snprintf(res->error, sizeof res->error, "--max-time %.0f s reached",
             run->a->o.max_time_s);
  } else {
    nbt_rp_net_exchange(run->net, e, res);
    nbt_rp_compare(e, &run->plan, &run->a->o, res);
  }
  run->count[res->status]++;
  nbt_rp_report_exchange(stdout, run->a->fmt, i + 1, e, res);
  if (run->junit != NULL) {
    nbt_rp_junit_case(run->junit, i, e, res);
  }
  nbt_rp_result_free(res);
  free(res);
}

static int finish(replay_run_t *run, double started) {
  const replay_args_t *a = run->a;
  FILE *sum = a->fmt == NBT_RP_JSON ? stderr : stdout;
  int rc = NBT_EXIT_OK;
  nbt_rp_report_summary(sum, a->pcap, &run->plan, &a->o, run->count);
  if (run->plan.nexch == 0) {
    fprintf(stderr, "nbt: replay: %s: no requests to replay\n", a->pcap);
    rc = NBT_EXIT_FAIL;
  }
  if (run->count[NBT_RP_DIFFER] + run->count[NBT_RP_SKIPPED] > 0) {
    rc = NBT_EXIT_FAIL;
  }
  if (run->junit != NULL) {
    fclose(run->junit);
    run->junit = NULL;
    nbt_rp_junit_t j = {run->plan.nexch,
                        run->count[NBT_RP_DIFFER],
                        run->count[NBT_RP_SKIPPED],
                        mono_s() - started,
                        run->junit_buf,
                        run->junit_len};
    if (nbt_rp_junit_write(a->junit, a->pcap, &j) != 0) {
      fprintf(stderr, "nbt: replay: cannot write %s\n", a->junit);
      rc = NBT_EXIT_ERROR;
    }
  }
  return rc;
}

int nbt_cmd_replay(int argc, char **argv) {
  replay_args_t a;
  replay_run_t run;
  char err[256] = "";
  int rc = parse_args(argc, argv, &a);
  if (rc >= 0) {
    return rc;
  }
  memset(&run, 0, sizeof run);
  run.a = &a;
  if (nbt_rp_plan_build(a.pcap, &a.sel, &run.plan, err, sizeof err) != 0) {
    fprintf(stderr, "nbt: replay: %s\n", err);
    return NBT_EXIT_ERROR;
  }
  run.net = nbt_rp_net_new(&a.o);
  if (a.junit != NULL) {
    run.junit = open_memstream(&run.junit_buf, &run.junit_len);
  }
  if (run.net == NULL || (a.junit != NULL && run.junit == NULL)) {
    fprintf(stderr, "nbt: replay: out of memory\n");
    rc = NBT_EXIT_ERROR;
  } else {
    double started = mono_s();
    for (size_t i = 0; i < run.plan.nexch; i++) {
      run_one(&run, i, started + a.o.max_time_s);
      fflush(stdout);
    }
    rc = finish(&run, started);
  }
  if (run.junit != NULL) {
    fclose(run.junit);
  }
  free(run.junit_buf);
  nbt_rp_net_free(run.net);
  nbt_rp_plan_free(&run.plan);
  return rc;
}
