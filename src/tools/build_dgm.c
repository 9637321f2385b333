/* SPDX-License-Identifier: BSD-2-Clause */
/* nbt build dgm KIND [OPTIONS]: datagram-service packets (RFC 1002 4.4) as
 * lines of hex, one per UDP packet.
 *
 *   direct-unique|direct-group|broadcast --src NAME [--dst NAME]
 *       [--data HEX] [--max-payload N]        DATAGRAM (4.4.2); split into
 *                                             fragments when too large
 *   announce-request --src NAME --dst NAME [--response NAME]
 *                                             \MAILSLOT\BROWSE
 *                                             AnnouncementRequest
 *   host-announcement --src NAME --dst NAME [--server S] [--os MAJ.MIN]
 *       [--type N] [--period MS] [--comment TEXT]  HostAnnouncement
 *   error --code N                            DATAGRAM ERROR (4.4.3)
 *   query-request|positive-query-response|negative-query-response
 *       --dst NAME                            (4.4.4, 4.4.5)
 * Every kind: [--src-ip IPV4] (127.0.0.1) [--src-port N] (138) [--id N]
 * (1) [--snt b|p|m|nbdd] (b).
 *
 * Shell layer only: the bytes come from the codec (nb_dgm_set_datagram,
 * nb_dgm_split_*, nb_dgm_write, nb_browse_write_mailslot), which refuses
 * what it may not send (user data over 512 bytes: exit 1). */
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "nb/dgm.h"
#include "nb/smb_browse.h"
#include "nbt.h"
#include "ns_client.h" /* nbt_parse_ipv4 */
#include "util.h"

typedef struct dgm_build_args {
  const char *src, *dst, *data, *max_payload, *response, *server, *os;
  const char *type, *period, *comment, *code, *src_ip, *src_port, *id, *snt;
} dgm_build_args_t;

typedef enum {
  K_DATAGRAM,
  K_ANNOUNCE_REQUEST,
  K_HOST_ANNOUNCEMENT,
  K_ERROR,
  K_QUERY
} dgm_kind_class_t;

static const struct {
  const char *word;
  uint8_t msg_type;
  dgm_kind_class_t cls;
} dgm_kinds[] = {
    {"direct-unique", NB_DGM_DIRECT_UNIQUE, K_DATAGRAM},
    {"direct-group", NB_DGM_DIRECT_GROUP, K_DATAGRAM},
    {"broadcast", NB_DGM_BROADCAST, K_DATAGRAM},
    {"announce-request", NB_DGM_DIRECT_GROUP, K_ANNOUNCE_REQUEST},
    {"host-announcement", NB_DGM_DIRECT_GROUP, K_HOST_ANNOUNCEMENT},
    {"error", NB_DGM_ERROR, K_ERROR},
    {"query-request", NB_DGM_QUERY_REQUEST, K_QUERY},
    {"positive-query-response", NB_DGM_POSITIVE_QUERY_RESPONSE, K_QUERY},
    {"negative-query-response", NB_DGM_NEGATIVE_QUERY_RESPONSE, K_QUERY},
};

static void build_dgm_usage(FILE *f) {
  fprintf(f,
          "usage: nbt build dgm KIND [OPTIONS]\n\n"
          "kinds:\n"
          "  direct-unique|direct-group|broadcast --src NAME [--dst NAME]\n"
          "      [--data HEX] [--max-payload N]      DATAGRAM (one line per\n"
          "                                          fragment; --dst defaults\n"
          "                                          to * for broadcast)\n"
          "  announce-request --src NAME --dst NAME [--response NAME]\n"
          "  host-announcement --src NAME --dst NAME [--server S]\n"
          "      [--os MAJ.MIN] [--type N] [--period MS] [--comment TEXT]\n"
          "  error --code N                          DATAGRAM ERROR\n"
          "  query-request|positive-query-response|negative-query-response\n"
          "      --dst NAME\n\n"
          "every kind: [--src-ip IPV4] [--src-port N] [--id N]\n"
          "            [--snt b|p|m|nbdd]\n\n"
          "NAME is NAME<XX>.scope. --max-payload is the largest UDP payload\n"
          "(default 548: 576-byte IP datagrams, RFC 1002 5.3.1). Each packet\n"
          "is printed as one line of hex.\n");
}

/* Option words and where their values go. */
static const char **option_slot(dgm_build_args_t *a, const char *opt) {
  static const char *const words[] = {
      "--src",    "--dst",    "--data",     "--max-payload", "--response",
      "--server", "--os",     "--type",     "--period",      "--comment",
      "--code",   "--src-ip", "--src-port", "--id",          "--snt"};
  const char **slots[] = {&a->src,      &a->dst,     &a->data, &a->max_payload,
                          &a->response, &a->server,  &a->os,   &a->type,
                          &a->period,   &a->comment, &a->code, &a->src_ip,
                          &a->src_port, &a->id,      &a->snt};
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
    if (strcmp(opt, words[i]) == 0) {
      return slots[i];
    }
  }
  return NULL;
}

static int parse_dgm_args(int argc, char **argv, dgm_build_args_t *a) {
  for (int i = 2; i < argc; i++) {
    const char **slot = option_slot(a, argv[i]);
    if (slot == NULL || i + 1 >= argc) {
      fprintf(stderr, "nbt: build dgm %s: unexpected '%s'\n", argv[1], argv[i]);
      return NBT_EXIT_USAGE;
    }
    *slot = argv[++i];
  }
  return NBT_EXIT_OK;
}

/* A number 0..max (see nbt_parse_uint); `def` when absent. */
static bool parse_number(const char *s, unsigned long max, unsigned long def,
                         unsigned long *out) {
  if (s == NULL) {
    *out = def;
    return true;
  }
  return nbt_parse_uint(s, max, out);
}

static bool parse_snt(const char *s, unsigned *out) {
  static const char *const words[] = {"b", "p", "m", "nbdd"};
  for (unsigned i = 0; i < 4; i++) {
    if (s == NULL || strcmp(s, words[i]) == 0) {
      *out = s == NULL ? 0 : i;
      return true;
    }
  }
  return false;
}

static int parse_name(const char *what, const char *s, nb_name_t *out) {
  return nbt_build_name_arg("build dgm", what, s, out);
}

/* The header every kind shares (RFC 1002 4.4.1). */
static int init_header(const dgm_build_args_t *a, uint8_t msg_type,
                       nb_dgm_msg_t *m) {
  unsigned long port = 0, id = 0;
  uint32_t ip = 0;
  unsigned snt = 0;
  if (!nbt_parse_ipv4(a->src_ip ? a->src_ip : "127.0.0.1", &ip) ||
      !parse_number(a->src_port, 0xffff, NB_DGM_PORT, &port) ||
      !parse_number(a->id, 0xffff, 1, &id) || !parse_snt(a->snt, &snt)) {
    fprintf(stderr, "nbt: build dgm: bad --src-ip, --src-port, --id or "
                    "--snt value\n");
    return NBT_EXIT_USAGE;
  }
  nb_dgm_init(m, msg_type, (uint16_t)id, ip, (uint16_t)port);
  m->flags = (uint8_t)(m->flags | NB_DGM_SNT_FLAGS(snt));
  return NBT_EXIT_OK;
}

/* Write one packet and print it as a line of hex. */
static int print_packet(const nb_dgm_msg_t *m) {
  static uint8_t out[0x10000 + NB_DGM_HEADER_LEN + 2 * NB_NAME_WIRE_MAX];
  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, out, sizeof out);
  nb_dgm_write(&w, m);
  nb_err_t e = nb_wr_finish(&w, &len);
  if (e != NB_OK) {
    fprintf(stderr, "nbt: build dgm: %s\n", nb_strerror(e));
    return NBT_EXIT_FAIL;
  }
  nbt_print_hex(stdout, out, len);
  fputc('\n', stdout);
  return NBT_EXIT_OK;
}

/* DIRECT_UNIQUE, DIRECT_GROUP, BROADCAST: names, user data, fragments. */
static int build_datagram(const dgm_build_args_t *a, nb_dgm_msg_t *m,
                          const uint8_t *data, size_t len) {
  nb_name_t src, dst;
  unsigned long max = 0;
  const char *dst_text = a->dst;
  if (dst_text == NULL && m->msg_type == NB_DGM_BROADCAST) {
    dst_text = "*<00>"; /* RFC 1002 5.3.1 */
  }
  int rc = parse_name("src", a->src, &src);
  if (rc == NBT_EXIT_OK) {
    rc = parse_name("dst", dst_text, &dst);
  }
  if (rc != NBT_EXIT_OK) {
    return rc;
  }
  if (!parse_number(a->max_payload, 0xffff, NB_DGM_MAX_PAYLOAD, &max)) {
    fprintf(stderr, "nbt: build dgm: bad --max-payload\n");
    return NBT_EXIT_USAGE;
  }
  nb_err_t e = nb_dgm_set_datagram(m, &src, &dst, data, len);
  nb_dgm_split_t s;
  if (e == NB_OK) {
    e = nb_dgm_split_init(&s, m, max);
  }
  if (e != NB_OK) {
    fprintf(stderr,
            "nbt: build dgm: %s (user data at most 512 bytes, RFC 1001 "
            "17.1.2; the names must fit in --max-payload)\n",
            nb_strerror(e));
    return NBT_EXIT_FAIL;
  }
  nb_dgm_msg_t frag;
  while (rc == NBT_EXIT_OK && nb_dgm_split_next(&s, &frag)) {
    rc = print_packet(&frag);
  }
  return rc;
}

/* The 15 name bytes of `n` without the padding, as a C string. */
static void name_part(const nb_name_t *n, char out[NB_NAME_CHARS + 1]) {
  size_t len = NB_NAME_CHARS;
  while (len > 0 && (n->bytes[len - 1] == ' ' || n->bytes[len - 1] == 0)) {
    len--;
  }
  memcpy(out, n->bytes, len);
  out[len] = '\0';
}

/* The browser message for announce-request / host-announcement. */
static int make_browse(const dgm_build_args_t *a, dgm_kind_class_t cls,
                       const char *own, nb_browse_t *b) {
  unsigned long type = 0, period = 0, major = 6, minor = 1;
  if (cls == K_ANNOUNCE_REQUEST) {
    nb_browse_announcement_request(b, a->response ? a->response : own);
    return NBT_EXIT_OK;
  }
  if (a->os != NULL && sscanf(a->os, "%lu.%lu", &major, &minor) != 2) {
    major = 256;
  }
  if (major > 255 || minor > 255 ||
      !parse_number(a->type, 0xffffffffUL,
                    NB_SV_TYPE_WORKSTATION | NB_SV_TYPE_SERVER | NB_SV_TYPE_NT,
                    &type) ||
      !parse_number(a->period, 0xffffffffUL, 720000, &period)) {
    fprintf(stderr, "nbt: build dgm: bad --os, --type or --period\n");
    return NBT_EXIT_USAGE;
  }
  if (nb_browse_host_announcement(b, a->server ? a->server : own,
                                  (uint8_t)major, (uint8_t)minor,
                                  (uint32_t)type, (uint32_t)period,
                                  a->comment ? a->comment : "") != NB_OK) {
    fprintf(stderr, "nbt: build dgm: --server: 1 to 15 characters\n");
    return NBT_EXIT_FAIL;
  }
  return NBT_EXIT_OK;
}

/* A \MAILSLOT\BROWSE transaction in a DIRECT_GROUP datagram. */
static int build_browse(const dgm_build_args_t *a, dgm_kind_class_t cls,
                        nb_dgm_msg_t *m) {
  static uint8_t smb[NB_DGM_USER_DATA_MAX + 256];
  char own[NB_NAME_CHARS + 1];
  nb_name_t src;
  nb_browse_t b;
  int rc = parse_name("src", a->src, &src);
  if (rc == NBT_EXIT_OK) {
    name_part(&src, own);
    rc = make_browse(a, cls, own, &b);
  }
  if (rc != NBT_EXIT_OK) {
    return rc;
  }
  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, smb, sizeof smb);
  nb_browse_write_mailslot(&w, &b);
  nb_err_t e = nb_wr_finish(&w, &len);
  if (e != NB_OK) {
    fprintf(stderr, "nbt: build dgm: browser message: %s\n", nb_strerror(e));
    return NBT_EXIT_FAIL;
  }
  return build_datagram(a, m, smb, len);
}

static int build_error(const dgm_build_args_t *a, nb_dgm_msg_t *m) {
  unsigned long code = 0;
  if (a->code == NULL || !parse_number(a->code, 0xff, 0, &code)) {
    fprintf(stderr, "nbt: build dgm error: --code N (0x82, 0x83, 0x84)\n");
    return NBT_EXIT_USAGE;
  }
  m->error_code = (uint8_t)code;
  return print_packet(m);
}

static int build_query(const dgm_build_args_t *a, nb_dgm_msg_t *m) {
  int rc = parse_name("dst", a->dst, &m->destination_name);
  return rc != NBT_EXIT_OK ? rc : print_packet(m);
}

/* --data HEX into a malloc'd buffer. */
static int user_data(const dgm_build_args_t *a, uint8_t **out, size_t *len) {
  const char *hex = a->data ? a->data : "";
  size_t bad = 0;
  *out = malloc(strlen(hex) / 2 + 1);
  if (*out == NULL) {
    perror("nbt: build dgm");
    return NBT_EXIT_ERROR;
  }
  if (!nbt_unhex(hex, *out, strlen(hex) / 2 + 1, len, &bad)) {
    fprintf(stderr, "nbt: build dgm: --data: invalid hex at character %zu\n",
            bad);
    return NBT_EXIT_FAIL;
  }
  return NBT_EXIT_OK;
}

/* Options that the kind does not take are a usage error. */
static bool options_fit(const dgm_build_args_t *a, dgm_kind_class_t cls) {
  bool dg = cls == K_DATAGRAM, br = cls == K_ANNOUNCE_REQUEST,
       ha = cls == K_HOST_ANNOUNCEMENT;
  return ((dg || br || ha) || (a->src == NULL && a->max_payload == NULL)) &&
         (dg || a->data == NULL) && (br || a->response == NULL) &&
         (ha || (a->server == NULL && a->os == NULL && a->type == NULL &&
                 a->period == NULL && a->comment == NULL)) &&
         (cls == K_ERROR || a->code == NULL) &&
         (cls != K_ERROR || a->dst == NULL);
}

static int run_kind(const dgm_build_args_t *a, dgm_kind_class_t cls,
                    nb_dgm_msg_t *m) {
  uint8_t *data = NULL;
  size_t len = 0;
  int rc;
  switch (cls) {
  case K_DATAGRAM:
    rc = user_data(a, &data, &len);
    if (rc == NBT_EXIT_OK) {
      rc = build_datagram(a, m, data, len);
    }
    free(data);
    return rc;
  case K_ANNOUNCE_REQUEST:
  case K_HOST_ANNOUNCEMENT:
    return build_browse(a, cls, m);
  case K_ERROR:
    return build_error(a, m);
  default:
    return build_query(a, m);
  }
}

int nbt_build_dgm(int argc, char **argv) {
  static nb_dgm_msg_t m;
  dgm_build_args_t a;
  memset(&a, 0, sizeof a);
  if (argc < 2 || strcmp(argv[1], "--help") == 0) {
    build_dgm_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? NBT_EXIT_USAGE : NBT_EXIT_OK;
  }
  size_t k = 0, n = sizeof dgm_kinds / sizeof dgm_kinds[0];
  while (k < n && strcmp(argv[1], dgm_kinds[k].word) != 0) {
    k++;
  }
  if (k == n) {
    fprintf(stderr, "nbt: build dgm: unknown kind '%s'\n", argv[1]);
    build_dgm_usage(stderr);
    return NBT_EXIT_USAGE;
  }
  int rc = parse_dgm_args(argc, argv, &a);
  if (rc == NBT_EXIT_OK && !options_fit(&a, dgm_kinds[k].cls)) {
    fprintf(stderr, "nbt: build dgm %s: option not valid for this kind\n",
            argv[1]);
    rc = NBT_EXIT_USAGE;
  }
  if (rc == NBT_EXIT_OK) {
    rc = init_header(&a, dgm_kinds[k].msg_type, &m);
  }
  return rc == NBT_EXIT_OK ? run_kind(&a, dgm_kinds[k].cls, &m) : rc;
}
