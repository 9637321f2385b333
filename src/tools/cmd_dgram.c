/* SPDX-License-Identifier: BSD-2-Clause */
/* nbt dgram: receive and send NetBIOS datagrams (UDP 138) through nbtd's
 * datagram socket, or standalone (dgm_client.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dgm_client.h"
#include "nb/smb_browse.h"
#include "nbt.h"
#include "util.h"

typedef struct {
  nbt_dgm_opts_t o;
  bool json, hex, group, monitor, broadcast;
  long count;      /* listen: stop after this many (0: never) */
  long timeout_ms; /* listen: stop after (-1: never); send: --wait */
  const char *from, *to, *data, *hexdata, *ip;
  const char *pos; /* the positional argument */
} dgram_args_t;

static void dgram_usage(FILE *f) {
  fprintf(
      f, "usage: nbt dgram listen [OPTIONS] NAME | '*' | --monitor\n"
         "       nbt dgram send [OPTIONS] --to NAME [--from NAME] DATA|@FILE\n"
         "       nbt dgram send [OPTIONS] --broadcast DATA|@FILE\n"
         "\n"
         "Receive or send NetBIOS datagrams (UDP 138, RFC 1001 17). Through\n"
         "nbtd's datagram socket when it runs, else standalone: the engine\n"
         "in-process on UDP 138 (root), names resolved by broadcast.\n"
         "  --socket PATH   nbtd's socket (default /run/nbtd/dgram.sock;\n"
         "                  given: never standalone)\n"
         "  --standalone    never use nbtd\n"
         "  --port N        standalone: the datagram port (138)\n"
         "  --ns-port N     standalone: the name service port (137)\n"
         "  -B ADDR         standalone: the broadcast address\n"
         "  --scope S       standalone: the NetBIOS scope\n"
         "  --json          one JSON object per line\n"
         "listen: NAME is NAME[<XX>] (nbtd claims it if it is not one of its\n"
         "names; --group claims a group); '*' receives NetBIOS broadcasts;\n"
         "--monitor everything heard.\n"
         "  --count N       exit after N datagrams\n"
         "  --timeout MS    exit after MS milliseconds (status 1 if none)\n"
         "  --hex           print the data as hex\n"
         "send: DATA is the user data (at most 512 bytes, RFC 1001 17.1.2);\n"
         "@FILE reads it from FILE (@- stdin); --hex HEX gives it as hex.\n"
         "  --from NAME     the source (default: nbtd's name<00>, or this\n"
         "                  host's)\n"
         "  --to NAME       resolved: unique -> unicast to its owner, group\n"
         "                  -> the group's distribution\n"
         "  --group         DIRECT_GROUP to --to without resolving\n"
         "  --broadcast     a NetBIOS broadcast ('*')\n"
         "  --ip ADDR       send to ADDR without resolving\n"
         "  --wait MS       wait for a DATAGRAM ERROR (status 1 if one comes)\n"
         "Exit: 0 done, 1 refused / not found / no datagram, 2 usage, 3 "
         "error.\n");
}

static bool num_arg(const char *s, long max, long *out) {
  char *end = NULL;
  long v = strtol(s, &end, 10);
  if (end == s || *end != '\0' || v < 0 || v > max) {
    return false;
  }
  *out = v;
  return true;
}

/* Options with a value. 1 taken, 0 not one, -1 bad. */
static int value_opt(dgram_args_t *a, const char *opt, const char *val) {
  long v = 0;
  const char **str[] = {&a->o.socket, &a->o.scope, &a->from,
                        &a->to,       &a->hexdata, &a->ip};
  static const char *const names[] = {"--socket", "--scope", "--from",
                                      "--to",     "--hex",   "--ip"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (strcmp(opt, names[i]) == 0) {
      *str[i] = val;
      return 1;
    }
  }
  if (strcmp(opt, "--port") == 0 || strcmp(opt, "--ns-port") == 0) {
    if (!num_arg(val, 65535, &v) || v == 0) {
      return -1;
    }
    *(opt[2] == 'p' ? &a->o.port : &a->o.ns_port) = (uint16_t)v;
    return 1;
  }
  if (strcmp(opt, "-B") == 0) {
    return nbt_parse_ipv4(val, &a->o.bcast) ? 1 : -1;
  }
  if (strcmp(opt, "--count") == 0) {
    return num_arg(val, 1000000, &a->count) ? 1 : -1;
  }
  if (strcmp(opt, "--timeout") == 0 || strcmp(opt, "--wait") == 0) {
    return num_arg(val, 86400000, &a->timeout_ms) ? 1 : -1;
  }
  return 0;
}

static int parse_args(dgram_args_t *a, int argc, char **argv, bool listen) {
  struct {
    const char *name;
    bool *flag;
  } flags[] = {{"--json", &a->json},
               {"--group", &a->group},
               {"--monitor", &a->monitor},
               {"--broadcast", &a->broadcast},
               {"--standalone", &a->o.standalone}};
  for (int i = 2; i < argc; i++) {
    bool taken = false;
    for (size_t k = 0; k < sizeof flags / sizeof flags[0] && !taken; k++) {
      if (strcmp(argv[i], flags[k].name) == 0) {
        *flags[k].flag = taken = true;
      }
    }
    if (listen && strcmp(argv[i], "--hex") == 0) {
      a->hex = taken = true;
    }
    if (taken) {
      continue;
    }
    int r = i + 1 < argc ? value_opt(a, argv[i], argv[i + 1]) : 0;
    if (r < 0) {
      fprintf(stderr, "nbt: dgram: bad %s '%s'\n", argv[i], argv[i + 1]);
      return -1;
    }
    if (r > 0) {
      i++;
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      fprintf(stderr, "nbt: dgram: unknown option '%s'\n", argv[i]);
      return -1;
    } else if (a->pos == NULL) {
      a->pos = argv[i];
    } else {
      fprintf(stderr, "nbt: dgram: unexpected argument '%s'\n", argv[i]);
      return -1;
    }
  }
  return 0;
}

static int parse_name(const char *text, nb_name_t *out) {
  nb_diag_t d = {NB_OK, 0, NULL};
  if (nb_name_from_text(out, text, strlen(text), &d) != NB_OK) {
    fprintf(stderr, "nbt: dgram: bad name '%s': %s at character %zu\n", text,
            d.field != NULL ? d.field : nb_strerror(d.err), d.offset);
    return -1;
  }
  return 0;
}

/* ---- listen
 * ------------------------------------------------------------------
 */

static const char *kind_word(nb_dgmsvc_api_kind_t k) {
  return k == NB_DGMSVC_API_K_UNIQUE  ? "unique"
         : k == NB_DGMSVC_API_K_GROUP ? "group"
                                      : "broadcast";
}

static void print_text_data(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
      putchar(p[i]);
    } else {
      printf("\\x%02x", p[i]);
    }
  }
}

static void print_name_json(const char *key, const nb_name_t *n) {
  char t[NB_NAME_TEXT_MAX];
  size_t len = nb_name_to_text(n, t, sizeof t);
  printf(",\"%s\":", key);
  nbt_json_str(stdout, t, len < sizeof t ? len : sizeof t - 1);
}

static void print_rx(const dgram_args_t *a, const nbt_dgm_rx_t *rx) {
  char ip[16], f[NB_NAME_TEXT_MAX], t[NB_NAME_TEXT_MAX];
  nb_smb_mailslot_t ms;
  bool slot = nb_smb_mailslot_parse(rx->data, rx->len, &ms, NULL) == NB_OK;
  if (a->json) {
    printf("{\"type\":\"%s\",\"ip\":\"%s\",\"port\":%u", kind_word(rx->kind),
           nbt_ipv4_str(rx->ip, ip), rx->port);
    print_name_json("from", &rx->from);
    print_name_json("to", &rx->to);
    printf(",\"broadcast\":%s,\"length\":%zu,\"data\":\"",
           rx->broadcast ? "true" : "false", rx->len);
    nbt_print_hex(stdout, rx->data, rx->len);
    printf("\"");
    if (slot) {
      printf(",\"mailslot\":");
      nbt_json_str(stdout, ms.name, ms.name_len);
    }
    printf("}\n");
  } else {
    nb_name_to_text(&rx->from, f, sizeof f);
    nb_name_to_text(&rx->to, t, sizeof t);
    printf("%s:%u %s -> %s %s %s %zu bytes: ", nbt_ipv4_str(rx->ip, ip),
           rx->port, f, t, kind_word(rx->kind),
           rx->broadcast ? "broadcast" : "unicast", rx->len);
    if (a->hex) {
      nbt_print_hex(stdout, rx->data, rx->len);
    } else {
      print_text_data(rx->data, rx->len);
    }
    putchar('\n');
  }
  fflush(stdout);
}

static int do_listen(dgram_args_t *a, nbt_dgm_t *c) {
  static nbt_dgm_rx_t rx;
  char err[256];
  nb_name_t name;
  bool star = a->pos != NULL && strcmp(a->pos, "*") == 0;
  if (!a->monitor && !star && parse_name(a->pos, &name) != 0) {
    return NBT_EXIT_USAGE;
  }
  if (nbt_dgm_bind(c, star || a->monitor ? NULL : &name, star, a->monitor,
                   a->group, err, sizeof err) != 0) {
    fprintf(stderr, "nbt: dgram listen: %s\n", err);
    return NBT_EXIT_FAIL;
  }
  uint64_t end =
      a->timeout_ms < 0 ? UINT64_MAX : nbt_dgm_now() + (uint64_t)a->timeout_ms;
  long got = 0;
  while (a->count == 0 || got < a->count) {
    uint64_t now = nbt_dgm_now();
    int64_t left = end == UINT64_MAX ? -1
                   : end > now       ? (int64_t)(end - now)
                                     : 0;
    int rc = nbt_dgm_next(c, left, &rx, err, sizeof err);
    if (rc < 0) {
      fprintf(stderr, "nbt: dgram listen: %s\n", err);
      return NBT_EXIT_ERROR;
    }
    if (rc == 0) {
      break;
    }
    print_rx(a, &rx);
    got++;
  }
  return got > 0 || (a->count == 0 && a->timeout_ms < 0) ? NBT_EXIT_OK
                                                         : NBT_EXIT_FAIL;
}

/* ---- send
 * --------------------------------------------------------------------
 */

/* The user data: DATA, @FILE or --hex HEX; over 512 bytes is kept so the
 * refusal can say how long it was. */
static uint8_t *send_data(const dgram_args_t *a, size_t *len) {
  size_t bad = 0;
  uint8_t *buf = NULL;
  if (a->hexdata != NULL) {
    buf = malloc(strlen(a->hexdata) / 2 + 1);
    if (buf == NULL ||
        !nbt_unhex(a->hexdata, buf, strlen(a->hexdata) / 2 + 1, len, &bad)) {
      fprintf(stderr, "nbt: dgram send: bad hex at character %zu\n", bad);
      free(buf);
      return NULL;
    }
  } else if (a->pos != NULL && a->pos[0] == '@') {
    buf = nbt_read_file(a->pos + 1, 1u << 20, len);
    if (buf == NULL) {
      fprintf(stderr, "nbt: dgram send: %s: %s\n", a->pos + 1, strerror(errno));
    }
  } else if (a->pos != NULL) {
    *len = strlen(a->pos);
    buf = malloc(*len + 1);
    if (buf != NULL) {
      memcpy(buf, a->pos, *len + 1);
    }
  } else {
    fprintf(stderr, "nbt: dgram send: no data (DATA, @FILE or --hex)\n");
  }
  return buf;
}

static void print_sent(const dgram_args_t *a, const nbt_dgm_sent_t *r) {
  char ip[16];
  if (a->json) {
    printf("{\"sent\":true,\"type\":\"%s\",\"packets\":%u,\"to\":\"%s\"}\n",
           kind_word(r->kind), r->packets, nbt_ipv4_str(r->ip, ip));
  } else {
    printf("sent %s datagram to %s (%u UDP packet%s)\n", kind_word(r->kind),
           nbt_ipv4_str(r->ip, ip), r->packets, r->packets == 1 ? "" : "s");
  }
}

/* --wait: a DATAGRAM ERROR for the datagram (RFC 1002 4.4.3)? */
static int wait_error(const dgram_args_t *a, nbt_dgm_t *c) {
  static nbt_dgm_rx_t rx;
  char err[256], ip[16];
  uint64_t end = nbt_dgm_now() + (uint64_t)a->timeout_ms;
  while (!c->derr && nbt_dgm_now() < end) {
    if (nbt_dgm_next(c, (int64_t)(end - nbt_dgm_now()), &rx, err, sizeof err) <
        0) {
      break;
    }
  }
  if (!c->derr) {
    return NBT_EXIT_OK;
  }
  if (a->json) {
    printf("{\"datagram_error\":%u,\"text\":\"%s\",\"from\":\"%s\"}\n",
           c->derr_code, nb_dgm_error_name(c->derr_code),
           nbt_ipv4_str(c->derr_ip, ip));
  } else {
    printf("DATAGRAM ERROR 0x%02x (%s) from %s\n", c->derr_code,
           nb_dgm_error_name(c->derr_code), nbt_ipv4_str(c->derr_ip, ip));
  }
  return NBT_EXIT_FAIL;
}

static int do_send(dgram_args_t *a, nbt_dgm_t *c) {
  nb_name_t from, to;
  nbt_dgm_send_t s;
  nbt_dgm_sent_t r;
  char err[256];
  memset(&s, 0, sizeof s);
  if ((a->from != NULL && parse_name(a->from, &from) != 0) ||
      (a->to != NULL && parse_name(a->to, &to) != 0) ||
      (a->ip != NULL && !nbt_parse_ipv4(a->ip, &s.ip))) {
    return NBT_EXIT_USAGE;
  }
  s.kind = a->broadcast ? NB_DGMSVC_API_K_BROADCAST
           : a->group   ? NB_DGMSVC_API_K_GROUP
                        : NB_DGMSVC_API_K_NAME;
  s.from = a->from != NULL ? &from : NULL;
  s.to = a->to != NULL ? &to : NULL;
  uint8_t *data = send_data(a, &s.len);
  if (data == NULL) {
    return NBT_EXIT_USAGE;
  }
  s.data = data;
  int rc = nbt_dgm_send(c, &s, &r, err, sizeof err);
  free(data);
  if (rc != 0) {
    fprintf(stderr, "nbt: dgram send: %s\n", err);
    return rc < 0 ? NBT_EXIT_ERROR : NBT_EXIT_FAIL;
  }
  print_sent(a, &r);
  return a->timeout_ms > 0 ? wait_error(a, c) : NBT_EXIT_OK;
}

int nbt_cmd_dgram(int argc, char **argv) {
  static dgram_args_t a;
  static nbt_dgm_t c;
  char err[256];
  const char *note = NULL;
  if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
      strcmp(argv[1], "-h") == 0) {
    dgram_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? NBT_EXIT_USAGE : NBT_EXIT_OK;
  }
  bool listen = strcmp(argv[1], "listen") == 0;
  memset(&a, 0, sizeof a);
  a.o.port = 138;
  a.o.ns_port = 137;
  a.o.scope = "";
  a.timeout_ms = listen ? -1 : 0;
  if ((!listen && strcmp(argv[1], "send") != 0) ||
      parse_args(&a, argc, argv, listen) != 0 ||
      (listen && a.pos == NULL && !a.monitor) ||
      (!listen && a.to == NULL && !a.broadcast)) {
    dgram_usage(stderr);
    return NBT_EXIT_USAGE;
  }
  a.o.must_bind = listen;
  if (nbt_dgm_open(&c, &a.o, &note, err, sizeof err) != 0) {
    fprintf(stderr, "nbt: dgram: %s\n", err);
    return NBT_EXIT_ERROR;
  }
  if (!c.daemon && note != NULL) {
    fprintf(stderr, "nbt: dgram: %s\n", note);
  }
  int rc = listen ? do_listen(&a, &c) : do_send(&a, &c);
  nbt_dgm_close(&c);
  return rc;
}
