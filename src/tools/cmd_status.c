/* SPDX-License-Identifier: BSD-2-Clause */
/* nbt status: NODE STATUS requests (RFC 1002 4.2.17) like nmblookup -A,
 * through the name-service engine in-process. */
#include <stdlib.h>
#include <string.h>

#include "nb/name.h"
#include "nb/ns.h"
#include "nbt.h"
#include "ns_client.h"
#include "util.h"

#define MAX_ADDRS 32

typedef struct {
  nbt_ns_client_opts_t copts;
  nb_nsnode_query_opts_t q;
  const char *scope;
  const char *qname_text;
  nb_name_t qname;
  bool json;
  size_t n;
  uint32_t addr[MAX_ADDRS];
  uint32_t handle[MAX_ADDRS];
  bool done[MAX_ADDRS];
  nb_nsnode_event_t res[MAX_ADDRS];
  size_t pending;
} status_t;

static void status_usage(FILE *f) {
  fprintf(f,
          "usage: nbt status [--name NAME] [--scope S] [--port N]\n"
          "                  [--timeout MS] [--json] ADDR...\n"
          "\n"
          "Ask each node for its name table (NODE STATUS), like\n"
          "nmblookup -A. The question name is *<00> unless --name is given.\n"
          "Exit: 0 every node answered, 1 one did not, 2 usage, 3 error.\n");
}

static bool on_event(void *ctx, const nb_nsnode_event_t *ev) {
  status_t *S = ctx;
  if (ev->type != NB_NSNODE_EV_STATUS_RESULT) {
    return true;
  }
  for (size_t i = 0; i < S->n; i++) {
    if (!S->done[i] && S->handle[i] == ev->handle) {
      S->done[i] = true;
      S->res[i] = *ev;
      S->pending--;
    }
  }
  return S->pending > 0;
}

/* The 15 name bytes as nmblookup prints them: trailing spaces and NULs
 * trimmed, other unprintable bytes as '.'. */
static size_t clean_name(const uint8_t *raw, char out[NB_NAME_CHARS + 1]) {
  size_t len = NB_NAME_CHARS;
  while (len > 0 && (raw[len - 1] == ' ' || raw[len - 1] == '\0')) {
    len--;
  }
  for (size_t i = 0; i < len; i++) {
    out[i] = raw[i] >= 0x20 && raw[i] < 0x7f ? (char)raw[i] : '.';
  }
  out[len] = '\0';
  return len;
}

static char ont_letter(uint16_t flags) {
  return "BPMH"[(flags & NB_NS_NAME_ONT_MASK) >> 13];
}

static void print_text(const status_t *S, size_t i) {
  const nb_nsnode_event_t *r = &S->res[i];
  const nb_nsnode_status_table_t *t = &r->status;
  char a[16], name[NB_NAME_CHARS + 1];
  printf("Looking up status of %s\n", nbt_ipv4_str(S->addr[i], a));
  for (size_t k = 0; k < t->n_names; k++) {
    uint16_t f = t->names[k].flags;
    clean_name(t->names[k].name, name);
    printf("\t%-15s <%02x> - %s%c %s%s%s%s\n", name,
           t->names[k].name[NB_NAME_CHARS],
           (f & NB_NS_NAME_G) ? "<GROUP> " : "        ", ont_letter(f),
           (f & NB_NS_NAME_DRG) ? "<DEREGISTERING> " : "",
           (f & NB_NS_NAME_CNF) ? "<CONFLICT> " : "",
           (f & NB_NS_NAME_ACT) ? "<ACTIVE> " : "",
           (f & NB_NS_NAME_PRM) ? "<PERMANENT> " : "");
  }
  printf("\n\tMAC Address = %02X-%02X-%02X-%02X-%02X-%02X\n\n", t->unit_id[0],
         t->unit_id[1], t->unit_id[2], t->unit_id[3], t->unit_id[4],
         t->unit_id[5]);
}

static void print_json_names(const nb_nsnode_status_table_t *t) {
  char name[NB_NAME_CHARS + 1];
  printf(",\"names\":[");
  for (size_t k = 0; k < t->n_names; k++) {
    uint16_t f = t->names[k].flags;
    size_t len = clean_name(t->names[k].name, name);
    printf("%s{\"name\":", k > 0 ? "," : "");
    nbt_json_str(stdout, name, len);
    printf(",\"suffix\":%u,\"flags\":%u,\"group\":%s,\"node_type\":\"%c\","
           "\"deregistering\":%s,\"conflict\":%s,\"active\":%s,"
           "\"permanent\":%s}",
           t->names[k].name[NB_NAME_CHARS], f,
           (f & NB_NS_NAME_G) ? "true" : "false", ont_letter(f),
           (f & NB_NS_NAME_DRG) ? "true" : "false",
           (f & NB_NS_NAME_CNF) ? "true" : "false",
           (f & NB_NS_NAME_ACT) ? "true" : "false",
           (f & NB_NS_NAME_PRM) ? "true" : "false");
  }
  printf("],\"unit_id\":\"%02x:%02x:%02x:%02x:%02x:%02x\",\"truncated\":%s",
         t->unit_id[0], t->unit_id[1], t->unit_id[2], t->unit_id[3],
         t->unit_id[4], t->unit_id[5], t->truncated ? "true" : "false");
}

static int report(const status_t *S) {
  int rc = NBT_EXIT_OK;
  char a[16];
  if (S->json) {
    printf("{\"results\":[");
  }
  for (size_t i = 0; i < S->n; i++) {
    bool found = S->res[i].result == NB_NSNODE_FOUND;
    rc = found ? rc : NBT_EXIT_FAIL;
    if (S->json) {
      printf("%s{\"address\":\"%s\",\"result\":\"%s\"", i > 0 ? "," : "",
             nbt_ipv4_str(S->addr[i], a), found ? "found" : "no_reply");
      if (found) {
        print_json_names(&S->res[i].status);
      }
      printf("}");
    } else if (found) {
      print_text(S, i);
    } else {
      fprintf(stderr, "nbt: status: no reply from %s\n",
              nbt_ipv4_str(S->addr[i], a));
    }
  }
  if (S->json) {
    printf("]}\n");
  }
  return rc;
}

static int parse_args(status_t *S, int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int k = nbt_ns_common_opt(argc, argv, &i, &S->copts.port, &S->q.timeout_ms,
                              &S->scope, &S->json);
    if (k < 0) {
      return -1;
    } else if (k > 0) {
      continue;
    } else if (strcmp(a, "--name") == 0 && i + 1 < argc) {
      S->qname_text = argv[++i];
    } else if (a[0] == '-') {
      fprintf(stderr, "nbt: status: unknown option '%s'\n", a);
      return -1;
    } else if (S->n >= MAX_ADDRS || !nbt_parse_ipv4(a, &S->addr[S->n])) {
      fprintf(stderr, "nbt: status: bad or too many addresses ('%s')\n", a);
      return -1;
    } else {
      S->n++;
    }
  }
  return S->n > 0 ? 0 : -1;
}

static int question(status_t *S) {
  nb_diag_t d = {NB_OK, 0, NULL};
  if (S->qname_text == NULL) {
    return 0;
  }
  if (nb_name_from_text(&S->qname, S->qname_text, strlen(S->qname_text), &d) !=
          NB_OK ||
      (S->qname.scope_len == 0 && S->scope != NULL &&
       nb_name_set_scope(&S->qname, S->scope, strlen(S->scope), &d) != NB_OK)) {
    fprintf(stderr, "nbt: status: bad name '%s'\n", S->qname_text);
    return -1;
  }
  return 0;
}

/* One request per address; a refused one is a failure at once. */
static void start_all(status_t *S, nbt_ns_client_t *c) {
  for (size_t i = 0; i < S->n; i++) {
    if (nb_nsnode_status(c->node, S->addr[i],
                         S->qname_text != NULL ? &S->qname : NULL, &S->q,
                         nbt_ns_client_now(c), &S->handle[i]) == NB_OK) {
      S->pending++;
    } else {
      S->done[i] = true;
      S->res[i].result = NB_NSNODE_FAILED;
    }
  }
}

int nbt_cmd_status(int argc, char **argv) {
  static status_t S;
  static nbt_ns_client_t c;
  char err[256];
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      status_usage(stdout);
      return NBT_EXIT_OK;
    }
  }
  memset(&S, 0, sizeof S);
  S.copts.port = 137;
  if (parse_args(&S, argc, argv) != 0 || question(&S) != 0) {
    status_usage(stderr);
    return NBT_EXIT_USAGE;
  }
  S.q.port = S.copts.port;
  S.copts.scope = S.scope != NULL ? S.scope : "";
  S.copts.target = S.addr[0];
  if (nbt_ns_client_open(&c, &S.copts, err, sizeof err) != 0) {
    fprintf(stderr, "nbt: status: %s\n", err);
    return NBT_EXIT_ERROR;
  }
  start_all(&S, &c);
  int rc = S.pending > 0
               ? nbt_ns_client_run(&c, on_event, &S, 660000, err, sizeof err)
               : 0;
  nbt_ns_client_close(&c);
  if (rc < 0) {
    fprintf(stderr, "nbt: status: %s\n", err);
    return NBT_EXIT_ERROR;
  }
  return report(&S);
}
