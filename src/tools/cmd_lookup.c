/* SPDX-License-Identifier: BSD-2-Clause */
/* nbt lookup: name queries like nmblookup, through the name-service engine
 * in-process (broadcast -B, unicast -U; -A hands over to `nbt status`). */
#include <stdlib.h>
#include <string.h>

#include "nb/name.h"
#include "nbt.h"
#include "ns_client.h"
#include "util.h"

#define MAX_NAMES 64

typedef struct {
  nbt_ns_client_opts_t copts;
  nb_nsnode_query_opts_t q;
  const char *scope;
  bool json;
  size_t n;
  const char *text[MAX_NAMES];
  nb_name_t name[MAX_NAMES];
  uint32_t handle[MAX_NAMES];
  bool done[MAX_NAMES];
  nb_nsnode_event_t res[MAX_NAMES];
  size_t next;    /* next name to start */
  size_t pending; /* started, not finished */
  nbt_ns_client_t *c;
  int failed;
} lookup_t;

static void lookup_usage(FILE *f) {
  fprintf(f,
          "usage: nbt lookup [-B ADDR | -U ADDR [-R]] [--scope S] [--port N]\n"
          "                  [--timeout MS] [--json] NAME...\n"
          "       nbt lookup -A ADDR...   (node status: see nbt status)\n"
          "\n"
          "Resolve NetBIOS names like nmblookup. NAME is NAME[<XX>][.scope]\n"
          "(suffix 0x20 when <XX> is left out). Without -B or -U the query\n"
          "is broadcast on every local interface.\n"
          "  -B ADDR       broadcast to ADDR\n"
          "  -U ADDR       unicast to ADDR; -R sets RD (recursion desired,\n"
          "                needed to ask a WINS server)\n"
          "  --scope S     scope for names given without one\n"
          "  --port N      the servers' UDP port (137)\n"
          "  --timeout MS  give up on each name after MS milliseconds\n"
          "  --json        one JSON object on stdout\n"
          "Exit: 0 every name found, 1 a name not found, 2 usage, 3 error.\n");
}

static bool start_next(lookup_t *L) {
  while (L->next < L->n && L->pending < 16) {
    size_t i = L->next++;
    if (nb_nsnode_find(L->c->node, &L->name[i], &L->q, nbt_ns_client_now(L->c),
                       &L->handle[i]) != NB_OK) {
      L->done[i] = true;
      L->res[i].result = NB_NSNODE_FAILED;
      continue;
    }
    L->pending++;
  }
  return L->pending > 0;
}

static bool on_event(void *ctx, const nb_nsnode_event_t *ev) {
  lookup_t *L = ctx;
  char a[16], b[16], t[NB_NAME_TEXT_MAX];
  if (ev->type == NB_NSNODE_EV_QUERY_CONFLICT) {
    nb_name_to_text(&ev->name, t, sizeof t);
    fprintf(stderr, "nbt: lookup: %s: conflicting answers from %s and %s\n", t,
            nbt_ipv4_str(ev->addrs[0], a), nbt_ipv4_str(ev->peer_ip, b));
    return true;
  }
  if (ev->type != NB_NSNODE_EV_QUERY_RESULT) {
    return true;
  }
  for (size_t i = 0; i < L->next; i++) {
    if (!L->done[i] && L->handle[i] == ev->handle) {
      L->done[i] = true;
      L->res[i] = *ev;
      L->pending--;
    }
  }
  return start_next(L);
}

static const char *result_word(nb_nsnode_result_t r) {
  switch (r) {
  case NB_NSNODE_FOUND:
    return "found";
  case NB_NSNODE_NOT_FOUND:
    return "not_found";
  case NB_NSNODE_TIMEOUT:
    return "timeout";
  default:
    return "failed";
  }
}

static void print_json_one(const lookup_t *L, size_t i) {
  const nb_nsnode_event_t *r = &L->res[i];
  char t[NB_NAME_TEXT_MAX], a[16];
  size_t len = nb_name_to_text(&L->name[i], t, sizeof t);
  printf("{\"name\":");
  nbt_json_str(stdout, t, len < sizeof t ? len : sizeof t - 1);
  printf(",\"result\":\"%s\"", result_word(r->result));
  if (r->result == NB_NSNODE_FOUND || r->result == NB_NSNODE_NOT_FOUND) {
    printf(",\"responder\":\"%s\"", nbt_ipv4_str(r->peer_ip, a));
  }
  if (r->result == NB_NSNODE_NOT_FOUND) {
    printf(",\"rcode\":%u", r->rcode);
  }
  if (r->result == NB_NSNODE_FOUND) {
    printf(",\"group\":%s,\"ttl\":%u,\"addresses\":[",
           r->group ? "true" : "false", r->ttl_s);
    for (size_t k = 0; k < r->n_addrs; k++) {
      printf("%s\"%s\"", k > 0 ? "," : "", nbt_ipv4_str(r->addrs[k], a));
    }
    printf("]");
  }
  printf("}");
}

static int report(const lookup_t *L) {
  int rc = NBT_EXIT_OK;
  if (L->json) {
    printf("{\"results\":[");
  }
  for (size_t i = 0; i < L->n; i++) {
    const nb_nsnode_event_t *r = &L->res[i];
    char t[NB_NAME_TEXT_MAX], a[16];
    nb_name_to_text(&L->name[i], t, sizeof t);
    if (r->result != NB_NSNODE_FOUND) {
      rc = NBT_EXIT_FAIL;
    }
    if (L->json) {
      printf(i > 0 ? "," : "");
      print_json_one(L, i);
    } else if (r->result == NB_NSNODE_FOUND) {
      for (size_t k = 0; k < r->n_addrs; k++) {
        printf("%s %s\n", nbt_ipv4_str(r->addrs[k], a), t);
      }
    } else if (r->result == NB_NSNODE_NOT_FOUND) {
      fprintf(stderr, "nbt: lookup: %s: negative answer from %s (rcode %u)\n",
              t, nbt_ipv4_str(r->peer_ip, a), r->rcode);
    } else {
      fprintf(stderr, "nbt: lookup: %s: %s\n", t,
              r->result == NB_NSNODE_TIMEOUT ? "no answer" : "query failed");
    }
  }
  if (L->json) {
    printf("]}\n");
  }
  return rc;
}

static int parse_name(lookup_t *L, const char *arg) {
  nb_diag_t d = {NB_OK, 0, NULL};
  nb_name_t *n = &L->name[L->n];
  if (L->n >= MAX_NAMES) {
    fprintf(stderr, "nbt: lookup: at most %d names\n", MAX_NAMES);
    return -1;
  }
  if (nb_name_from_text(n, arg, strlen(arg), &d) != NB_OK) {
    fprintf(stderr, "nbt: lookup: '%s': %s at character %zu: %s\n", arg,
            nb_strerror(d.err), d.offset, d.field ? d.field : "");
    return -1;
  }
  if (n->scope_len == 0 && L->scope != NULL &&
      nb_name_set_scope(n, L->scope, strlen(L->scope), &d) != NB_OK) {
    fprintf(stderr, "nbt: lookup: bad --scope '%s'\n", L->scope);
    return -1;
  }
  L->text[L->n++] = arg;
  return 0;
}

/* Options shared with `nbt status`: --port, --timeout, --scope, --json. */
int nbt_ns_common_opt(int argc, char **argv, int *i, uint16_t *port,
                      uint32_t *timeout, const char **scope, bool *json) {
  const char *a = argv[*i];
  unsigned long v;
  char *end = NULL;
  if (strcmp(a, "--json") == 0) {
    *json = true;
    return 1;
  }
  if ((strcmp(a, "--port") != 0 && strcmp(a, "--timeout") != 0 &&
       strcmp(a, "--scope") != 0) ||
      *i + 1 >= argc) {
    return 0;
  }
  const char *val = argv[++*i];
  if (strcmp(a, "--scope") == 0) {
    *scope = val;
    return 1;
  }
  v = strtoul(val, &end, 10);
  if (end == val || *end != '\0' || v == 0 ||
      v > (strcmp(a, "--port") == 0 ? 65535ul : 600000ul)) {
    fprintf(stderr, "nbt: bad %s '%s'\n", a, val);
    return -1;
  }
  if (strcmp(a, "--port") == 0) {
    *port = (uint16_t)v;
  } else {
    *timeout = (uint32_t)v;
  }
  return 1;
}

static int status_instead(int argc, char **argv) {
  char **av = calloc((size_t)argc + 1, sizeof *av);
  int n = 0;
  if (av == NULL) {
    return NBT_EXIT_ERROR;
  }
  av[n++] = (char *)"status";
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-A") != 0) {
      av[n++] = argv[i];
    }
  }
  int rc = nbt_cmd_status(n, av);
  free(av);
  return rc;
}

static int parse_args(lookup_t *L, int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int k = nbt_ns_common_opt(argc, argv, &i, &L->copts.port, &L->q.timeout_ms,
                              &L->scope, &L->json);
    if (k < 0) {
      return -1;
    } else if (k > 0) {
      continue;
    } else if ((strcmp(a, "-B") == 0 || strcmp(a, "-U") == 0) && i + 1 < argc) {
      uint32_t ip = 0;
      if (!nbt_parse_ipv4(argv[++i], &ip)) {
        fprintf(stderr, "nbt: lookup: bad address '%s'\n", argv[i]);
        return -1;
      }
      L->q.via = a[1] == 'B' ? NB_NSNODE_VIA_BCAST : NB_NSNODE_VIA_UNICAST;
      *(a[1] == 'B' ? &L->copts.bcast : &L->q.ip) = ip;
      L->copts.target = ip;
    } else if (strcmp(a, "-R") == 0) {
      L->q.flags |= NB_NSNODE_Q_RD;
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "nbt: lookup: unknown option '%s'\n", a);
      return -1;
    } else {
      L->text[L->n] = a; /* parsed once --scope is known */
      L->n++;
    }
  }
  return 0;
}

/* Options and names into `L`; NBT_EXIT_OK or NBT_EXIT_USAGE. */
static int setup(lookup_t *L, int argc, char **argv) {
  memset(L, 0, sizeof *L);
  L->copts.port = 137;
  L->q.via = NB_NSNODE_VIA_BCAST;
  L->q.flags = NB_NSNODE_Q_NO_CACHE;
  if (parse_args(L, argc, argv) != 0 || L->n == 0) {
    lookup_usage(stderr);
    return NBT_EXIT_USAGE;
  }
  size_t n = L->n;
  L->n = 0;
  for (size_t i = 0; i < n; i++) {
    if (parse_name(L, L->text[i]) != 0) {
      return NBT_EXIT_USAGE;
    }
  }
  if (L->q.via == NB_NSNODE_VIA_BCAST) {
    L->q.flags |= NB_NSNODE_Q_COLLECT; /* every responder, like nmblookup */
  } else if ((L->q.flags & NB_NSNODE_Q_RD) == 0) {
    /* -U without -R asks the node itself: RD=0, as nmblookup sends (a B
     * node then answers a miss with NAM_ERR at once, RFC 1002 4.2.14). */
    L->q.flags |= NB_NSNODE_Q_NO_RD;
  }
  L->q.port = L->copts.port;
  L->copts.scope = L->scope != NULL ? L->scope : "";
  return NBT_EXIT_OK;
}

int nbt_cmd_lookup(int argc, char **argv) {
  static lookup_t L;
  static nbt_ns_client_t c;
  char err[256];
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      lookup_usage(stdout);
      return NBT_EXIT_OK;
    }
    if (strcmp(argv[i], "-A") == 0) {
      return status_instead(argc, argv);
    }
  }
  int rc = setup(&L, argc, argv);
  if (rc != NBT_EXIT_OK) {
    return rc;
  }
  if (nbt_ns_client_open(&c, &L.copts, err, sizeof err) != 0) {
    fprintf(stderr, "nbt: lookup: %s\n", err);
    return NBT_EXIT_ERROR;
  }
  L.c = &c;
  rc = start_next(&L)
           ? nbt_ns_client_run(&c, on_event, &L, 660000, err, sizeof err)
           : 0;
  nbt_ns_client_close(&c);
  if (rc < 0) {
    fprintf(stderr, "nbt: lookup: %s\n", err);
    return NBT_EXIT_ERROR;
  }
  return report(&L);
}
