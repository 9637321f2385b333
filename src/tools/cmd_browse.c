/* SPDX-License-Identifier: BSD-2-Clause */
/* nbt browse: list the hosts and workgroups that announce themselves on the
 * LAN ([MS-BRWS] HostAnnouncement, LocalMasterAnnouncement and
 * DomainAnnouncement on \MAILSLOT\BROWSE, decoded with nb/smb_browse.h),
 * and optionally ask a workgroup's browsers to announce themselves
 * (AnnouncementRequest). Listens as a monitor through nbtd's datagram
 * socket, or standalone (dgm_client.h). */
#define _GNU_SOURCE 1 /* gethostname */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dgm_client.h"
#include "nb/smb_browse.h"
#include "nbt.h"
#include "util.h"

#define MAX_HOSTS 256
#define MAX_GROUPS 64
#define STR_MAX 64

typedef struct {
  char name[NB_BROWSE_SERVER_NAME_LEN + 1];
  char workgroup[NB_NAME_CHARS + 1];
  char comment[STR_MAX];
  uint32_t ip;
  uint8_t os_major, os_minor;
  uint8_t browser_major, browser_minor;
  uint32_t server_type;
  uint32_t periodicity_ms;
  bool local_master; /* sent a LocalMasterAnnouncement */
  unsigned seen;
} host_t;

typedef struct {
  char name[NB_BROWSE_SERVER_NAME_LEN + 1];
  char master[STR_MAX];
  uint32_t ip;
} group_t;

typedef struct {
  nbt_dgm_opts_t o;
  bool json, follow, request;
  const char *workgroup, *from, *until;
  long time_ms;
  host_t hosts[MAX_HOSTS];
  size_t n_hosts;
  group_t groups[MAX_GROUPS];
  size_t n_groups;
  bool found; /* --until seen */
} browse_t;

static void browse_usage(FILE *f) {
  fprintf(
      f,
      "usage: nbt browse [--request] [--workgroup W] [--time S] [--until "
      "NAME]\n"
      "                  [--follow] [--json] [--socket PATH | --standalone]\n"
      "                  [--from NAME] [--port N] [-B ADDR]\n"
      "\n"
      "Listen for browser announcements on UDP 138 and list the hosts and\n"
      "workgroups seen, with their names, OS version, type and comment.\n"
      "  --request       first ask the workgroup's browsers to announce\n"
      "                  (AnnouncementRequest to WORKGROUP<1e>)\n"
      "  --workgroup W   the workgroup of --request (WORKGROUP)\n"
      "  --time S        listen for S seconds (30)\n"
      "  --until NAME    stop as soon as host NAME has announced itself\n"
      "  --follow        print each announcement as it comes\n"
      "  --json          one JSON object (with --follow: one per line)\n"
      "  --from NAME     standalone: the requester's name (this host's)\n"
      "  --socket PATH, --standalone, --port N, -B ADDR: as for nbt dgram\n"
      "Exit: 0 something was heard (or NAME, with --until), 1 nothing, 2\n"
      "usage, 3 error.\n");
}

/* A browser string: printable ASCII kept, the rest as '?'. */
static void copy_str(char *dst, size_t cap, const char *src, size_t len) {
  size_t n = len < cap - 1 ? len : cap - 1;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)src[i];
    dst[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
  }
  dst[n] = '\0';
}

/* The 15 name bytes of a NetBIOS name, trailing spaces trimmed. */
static void short_name(const nb_name_t *n, char *out) {
  copy_str(out, NB_NAME_CHARS + 1, (const char *)n->bytes, NB_NAME_CHARS);
  for (size_t i = strlen(out); i > 0 && out[i - 1] == ' '; i--) {
    out[i - 1] = '\0';
  }
}

static bool same(const char *a, const char *b) {
  for (; *a != '\0' && *b != '\0'; a++, b++) {
    if (toupper((unsigned char)*a) != toupper((unsigned char)*b)) {
      return false;
    }
  }
  return *a == *b;
}

static host_t *host_slot(browse_t *B, const char *name, const char *wg) {
  for (size_t i = 0; i < B->n_hosts; i++) {
    if (same(B->hosts[i].name, name) && same(B->hosts[i].workgroup, wg)) {
      return &B->hosts[i];
    }
  }
  if (B->n_hosts == MAX_HOSTS) {
    return NULL;
  }
  host_t *h = &B->hosts[B->n_hosts++];
  memset(h, 0, sizeof *h);
  snprintf(h->name, sizeof h->name, "%s", name);
  snprintf(h->workgroup, sizeof h->workgroup, "%s", wg);
  return h;
}

static group_t *group_slot(browse_t *B, const char *name) {
  for (size_t i = 0; i < B->n_groups; i++) {
    if (same(B->groups[i].name, name)) {
      return &B->groups[i];
    }
  }
  if (B->n_groups == MAX_GROUPS) {
    return NULL;
  }
  group_t *g = &B->groups[B->n_groups++];
  memset(g, 0, sizeof *g);
  snprintf(g->name, sizeof g->name, "%s", name);
  return g;
}

static void print_host_json(const host_t *h) {
  char ip[16];
  printf("{\"name\":");
  nbt_json_str(stdout, h->name, strlen(h->name));
  printf(",\"workgroup\":");
  nbt_json_str(stdout, h->workgroup, strlen(h->workgroup));
  printf(",\"ip\":\"%s\",\"os\":\"%u.%u\",\"browser\":\"%u.%u\","
         "\"type\":\"%08x\",\"local_master\":%s,\"periodicity_ms\":%u,"
         "\"comment\":",
         nbt_ipv4_str(h->ip, ip), h->os_major, h->os_minor, h->browser_major,
         h->browser_minor, h->server_type, h->local_master ? "true" : "false",
         h->periodicity_ms);
  nbt_json_str(stdout, h->comment, strlen(h->comment));
  printf("}");
}

static void print_group_json(const group_t *g) {
  char ip[16];
  printf("{\"workgroup\":");
  nbt_json_str(stdout, g->name, strlen(g->name));
  printf(",\"master\":");
  if (g->master[0] != '\0') {
    nbt_json_str(stdout, g->master, strlen(g->master));
    printf(",\"ip\":\"%s\"}", nbt_ipv4_str(g->ip, ip));
  } else {
    printf("null,\"ip\":null}"); /* only seen as a host's workgroup */
  }
}

static void follow_host(const browse_t *B, const host_t *h, const char *what) {
  char ip[16];
  if (B->json) {
    printf("{\"announcement\":\"%s\",\"host\":", what);
    print_host_json(h);
    printf("}\n");
  } else {
    printf("%s %s %s workgroup %s os %u.%u type %08x \"%s\"\n", what,
           nbt_ipv4_str(h->ip, ip), h->name, h->workgroup, h->os_major,
           h->os_minor, h->server_type, h->comment);
  }
  fflush(stdout);
}

/* One browser announcement ([MS-BRWS] 2.2.1, 2.2.7, 2.2.11). */
static void on_announcement(browse_t *B, const nbt_dgm_rx_t *rx,
                            const nb_browse_t *b) {
  char dst[NB_NAME_CHARS + 1];
  short_name(&rx->to, dst);
  if (b->opcode == NB_BROWSE_DOMAIN_ANNOUNCEMENT) {
    group_t *g = group_slot(B, b->server_name);
    if (g != NULL) {
      copy_str(g->master, sizeof g->master, b->str, b->str_len);
      g->ip = rx->ip;
    }
    return;
  }
  host_t *h = host_slot(B, b->server_name, dst); /* sent to WORKGROUP<1d> */
  if (h == NULL) {
    return;
  }
  h->ip = rx->ip;
  h->os_major = b->os_major;
  h->os_minor = b->os_minor;
  h->browser_major = b->browser_major;
  h->browser_minor = b->browser_minor;
  h->server_type = b->server_type;
  h->periodicity_ms = b->periodicity;
  h->local_master |= b->opcode == NB_BROWSE_LOCAL_MASTER_ANNOUNCEMENT;
  h->seen++;
  copy_str(h->comment, sizeof h->comment, b->str, b->str_len);
  (void)group_slot(B, dst);
  if (B->until != NULL && same(h->name, B->until)) {
    B->found = true;
  }
  if (B->follow) {
    follow_host(B, h, nb_browse_opcode_name(b->opcode));
  }
}

static void on_datagram(browse_t *B, const nbt_dgm_rx_t *rx) {
  nb_smb_mailslot_t ms;
  nb_browse_t b;
  if (nb_smb_mailslot_parse(rx->data, rx->len, &ms, NULL) != NB_OK ||
      !nb_smb_mailslot_is(&ms, NB_MAILSLOT_BROWSE) ||
      nb_browse_parse(ms.data, ms.data_len, &b, NULL) != NB_OK ||
      !nb_browse_is_announcement(b.opcode)) {
    return;
  }
  on_announcement(B, rx, &b);
}

static void print_table(const browse_t *B) {
  char ip[16];
  if (B->json) {
    printf("{\"hosts\":[");
    for (size_t i = 0; i < B->n_hosts; i++) {
      printf(i > 0 ? "," : "");
      print_host_json(&B->hosts[i]);
    }
    printf("],\"workgroups\":[");
    for (size_t i = 0; i < B->n_groups; i++) {
      printf(i > 0 ? "," : "");
      print_group_json(&B->groups[i]);
    }
    printf("]}\n");
    return;
  }
  printf("%-15s %-15s %-15s %-5s %-8s %s\n", "HOST", "WORKGROUP", "ADDRESS",
         "OS", "TYPE", "COMMENT");
  for (size_t i = 0; i < B->n_hosts; i++) {
    const host_t *h = &B->hosts[i];
    char os[8];
    snprintf(os, sizeof os, "%u.%u", h->os_major, h->os_minor);
    printf("%-15s %-15s %-15s %-5s %08x %s\n", h->name, h->workgroup,
           nbt_ipv4_str(h->ip, ip), os, h->server_type, h->comment);
  }
  printf("\n%-15s %s\n", "WORKGROUP", "MASTER");
  for (size_t i = 0; i < B->n_groups; i++) {
    printf("%-15s %s\n", B->groups[i].name,
           B->groups[i].master[0] ? B->groups[i].master : "-");
  }
}

/* AnnouncementRequest ([MS-BRWS] 2.2.2) to WORKGROUP<1e> as a group
 * datagram, as nmbd sends it (broadcast_announce_request). */
static int send_request(browse_t *B, nbt_dgm_t *c) {
  uint8_t buf[NB_DGM_USER_DATA_MAX];
  char resp[NB_NAME_CHARS + 1] = "NBT";
  nb_name_t wg, from;
  nb_browse_t req;
  nb_wr_t w;
  nbt_dgm_send_t s;
  nbt_dgm_sent_t r;
  char err[256];
  if (B->from != NULL) {
    snprintf(resp, sizeof resp, "%s", B->from);
  } else if (gethostname(resp, sizeof resp) != 0) {
    snprintf(resp, sizeof resp, "NBT");
  }
  resp[sizeof resp - 1] = '\0';
  resp[strcspn(resp, ".")] = '\0';
  for (char *p = resp; *p != '\0'; p++) {
    *p = (char)toupper((unsigned char)*p);
  }
  nb_browse_announcement_request(&req, resp);
  nb_wr_init(&w, buf, sizeof buf);
  nb_browse_write_mailslot(&w, &req);
  memset(&s, 0, sizeof s);
  if (nb_wr_finish(&w, &s.len) != NB_OK ||
      nb_name_make(&wg, B->workgroup, strlen(B->workgroup),
                   NB_SUFFIX_BROWSER_ELECTION, NULL) != NB_OK ||
      nb_name_make(&from, resp, strlen(resp), NB_SUFFIX_WORKSTATION, NULL) !=
          NB_OK) {
    fprintf(stderr, "nbt: browse: bad --workgroup or --from\n");
    return NBT_EXIT_USAGE;
  }
  s.kind = NB_DGMSVC_API_K_GROUP;
  s.from = c->daemon && B->from == NULL ? NULL : &from;
  s.to = &wg;
  s.data = buf;
  int rc = nbt_dgm_send(c, &s, &r, err, sizeof err);
  if (rc != 0) {
    fprintf(stderr, "nbt: browse: announcement request: %s\n", err);
    return rc < 0 ? NBT_EXIT_ERROR : NBT_EXIT_FAIL;
  }
  if (!B->json) {
    char ip[16];
    fprintf(stderr, "nbt: browse: AnnouncementRequest to %s<1e> via %s\n",
            B->workgroup, nbt_ipv4_str(r.ip, ip));
  }
  return NBT_EXIT_OK;
}

static int parse_args(browse_t *B, int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    long n = 0;
    char *end = NULL;
    if (strcmp(a, "--json") == 0 || strcmp(a, "--follow") == 0 ||
        strcmp(a, "--request") == 0 || strcmp(a, "--standalone") == 0) {
      *(a[2] == 'j'   ? &B->json
        : a[2] == 'f' ? &B->follow
        : a[2] == 'r' ? &B->request
                      : &B->o.standalone) = true;
      continue;
    }
    if (v == NULL) {
      fprintf(stderr, "nbt: browse: unknown option or missing value '%s'\n", a);
      return -1;
    }
    i++;
    if (strcmp(a, "--workgroup") == 0 || strcmp(a, "--from") == 0 ||
        strcmp(a, "--until") == 0 || strcmp(a, "--socket") == 0) {
      *(a[2] == 'w'   ? &B->workgroup
        : a[2] == 'f' ? &B->from
        : a[2] == 'u' ? &B->until
                      : &B->o.socket) = v;
    } else if (strcmp(a, "-B") == 0) {
      if (!nbt_parse_ipv4(v, &B->o.bcast)) {
        return -1;
      }
    } else if (strcmp(a, "--time") == 0 || strcmp(a, "--port") == 0) {
      n = strtol(v, &end, 10);
      if (end == v || *end != '\0' || n <= 0 || n > 65535) {
        fprintf(stderr, "nbt: browse: bad %s '%s'\n", a, v);
        return -1;
      }
      if (a[2] == 't') {
        B->time_ms = n * 1000;
      } else {
        B->o.port = (uint16_t)n;
      }
    } else {
      fprintf(stderr, "nbt: browse: unknown option '%s'\n", a);
      return -1;
    }
  }
  return 0;
}

int nbt_cmd_browse(int argc, char **argv) {
  static browse_t B;
  static nbt_dgm_t c;
  static nbt_dgm_rx_t rx;
  char err[256];
  const char *note = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      browse_usage(stdout);
      return NBT_EXIT_OK;
    }
  }
  memset(&B, 0, sizeof B);
  B.o.port = 138;
  B.o.ns_port = 137;
  B.o.scope = "";
  B.o.must_bind = true;
  B.workgroup = "WORKGROUP";
  B.time_ms = 30000;
  if (parse_args(&B, argc, argv) != 0) {
    browse_usage(stderr);
    return NBT_EXIT_USAGE;
  }
  if (nbt_dgm_open(&c, &B.o, &note, err, sizeof err) != 0) {
    fprintf(stderr, "nbt: browse: %s\n", err);
    return NBT_EXIT_ERROR;
  }
  if (!c.daemon && note != NULL && !B.json) {
    fprintf(stderr, "nbt: browse: %s\n", note);
  }
  int rc = nbt_dgm_bind(&c, NULL, false, true, false, err, sizeof err) != 0
               ? NBT_EXIT_ERROR
               : NBT_EXIT_OK;
  if (rc != NBT_EXIT_OK) {
    fprintf(stderr, "nbt: browse: %s\n", err);
  } else if (B.request) {
    rc = send_request(&B, &c);
  }
  uint64_t end = nbt_dgm_now() + (uint64_t)B.time_ms;
  while (rc == NBT_EXIT_OK && !B.found && nbt_dgm_now() < end) {
    int r =
        nbt_dgm_next(&c, (int64_t)(end - nbt_dgm_now()), &rx, err, sizeof err);
    if (r < 0) {
      fprintf(stderr, "nbt: browse: %s\n", err);
      rc = NBT_EXIT_ERROR;
    } else if (r > 0) {
      on_datagram(&B, &rx);
    }
  }
  nbt_dgm_close(&c);
  if (rc != NBT_EXIT_OK) {
    return rc;
  }
  if (!B.follow || !B.json) {
    print_table(&B);
  }
  bool heard = B.until != NULL ? B.found : B.n_hosts + B.n_groups > 0;
  return heard ? NBT_EXIT_OK : NBT_EXIT_FAIL;
}
