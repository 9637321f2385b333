/* SPDX-License-Identifier: BSD-2-Clause */
/* nbt build ssn KIND [OPTIONS]: one session packet (RFC 1002 4.3) as a line
 * of hex.
 *
 *   request --called NAME --calling NAME     SESSION REQUEST (4.3.2)
 *   positive                                 POSITIVE SESSION RESPONSE
 *   negative --code N                        NEGATIVE SESSION RESPONSE
 *   retarget --addr IPV4 --port N            RETARGET SESSION RESPONSE
 *   keepalive [--direct]                     SESSION KEEP ALIVE
 *   message [--data HEX] [--size N] [--direct]  SESSION MESSAGE (4.3.6)
 *
 * --size pads USER_DATA with zeros to N bytes (large messages without a
 * huge argument). --direct frames with a zero byte and a 24-bit length (TCP
 * 445); only messages and keep-alives exist there. Shell layer only: the bytes
 * come from the codec's nb_ssn_write(), which refuses what the RFC does not
 * allow (e.g. a negative code other than 0x80-0x83/0x8F): exit code 1. */
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "nb/ssn.h"
#include "nbt.h"
#include "util.h"

typedef struct ssn_build_args {
  const char *called;
  const char *calling;
  const char *code;
  const char *addr;
  const char *port;
  const char *data;
  const char *size;
  bool direct;
} ssn_build_args_t;

static const struct {
  const char *word;
  uint8_t type;
} ssn_kinds[] = {
    {"request", NB_SSN_SESSION_REQUEST},
    {"positive", NB_SSN_POSITIVE_SESSION_RESPONSE},
    {"negative", NB_SSN_NEGATIVE_SESSION_RESPONSE},
    {"retarget", NB_SSN_RETARGET_SESSION_RESPONSE},
    {"keepalive", NB_SSN_SESSION_KEEP_ALIVE},
    {"message", NB_SSN_SESSION_MESSAGE},
};

static void build_ssn_usage(FILE *f) {
  fprintf(f,
          "usage: nbt build ssn KIND [OPTIONS]\n\n"
          "kinds:\n"
          "  request --called NAME --calling NAME   SESSION REQUEST\n"
          "  positive                               POSITIVE SESSION RESPONSE\n"
          "  negative --code N                      NEGATIVE SESSION RESPONSE\n"
          "                                         (0x80-0x83, 0x8f)\n"
          "  retarget --addr IPV4 --port N          RETARGET SESSION RESPONSE\n"
          "  keepalive [--direct]                   SESSION KEEP ALIVE\n"
          "  message [--data HEX] [--size N] [--direct]\n"
          "                                         SESSION MESSAGE\n\n"
          "NAME is NAME<XX>.scope; --size pads the data with zeros to N\n"
          "bytes; --direct uses a zero byte and a 24-bit length (TCP 445).\n"
          "The packet is printed as one line of hex.\n");
}

/* Point `*slot` at the value after option argv[*i]. */
static bool take_value(int argc, char **argv, int *i, const char **slot) {
  if (*i + 1 >= argc) {
    return false;
  }
  *slot = argv[++*i];
  return true;
}

static int parse_ssn_args(int argc, char **argv, ssn_build_args_t *a) {
  for (int i = 2; i < argc; i++) {
    const char *s = argv[i];
    bool ok = true;
    if (strcmp(s, "--called") == 0) {
      ok = take_value(argc, argv, &i, &a->called);
    } else if (strcmp(s, "--calling") == 0) {
      ok = take_value(argc, argv, &i, &a->calling);
    } else if (strcmp(s, "--code") == 0) {
      ok = take_value(argc, argv, &i, &a->code);
    } else if (strcmp(s, "--addr") == 0) {
      ok = take_value(argc, argv, &i, &a->addr);
    } else if (strcmp(s, "--port") == 0) {
      ok = take_value(argc, argv, &i, &a->port);
    } else if (strcmp(s, "--data") == 0) {
      ok = take_value(argc, argv, &i, &a->data);
    } else if (strcmp(s, "--size") == 0) {
      ok = take_value(argc, argv, &i, &a->size);
    } else if (strcmp(s, "--direct") == 0) {
      a->direct = true;
    } else {
      ok = false;
    }
    if (!ok) {
      fprintf(stderr, "nbt: build ssn %s: unexpected '%s'\n", argv[1], s);
      return NBT_EXIT_USAGE;
    }
  }
  return NBT_EXIT_OK;
}

/* Fill the packet's type-dependent fields from the options. */
static int fill_packet(const ssn_build_args_t *a, nb_ssn_packet_t *p) {
  unsigned long v = 0;
  int rc = NBT_EXIT_OK;
  switch (p->type) {
  case NB_SSN_SESSION_REQUEST:
    rc = nbt_build_name_arg("build ssn request", "called", a->called,
                            &p->called);
    return rc != NBT_EXIT_OK
               ? rc
               : nbt_build_name_arg("build ssn request", "calling", a->calling,
                                    &p->calling);
  case NB_SSN_NEGATIVE_SESSION_RESPONSE:
    if (!nbt_parse_uint(a->code, 0xff, &v)) {
      fprintf(stderr, "nbt: build ssn negative: --code N (0x80-0x83, 0x8f)\n");
      return NBT_EXIT_USAGE;
    }
    p->error_code = (uint8_t)v;
    return NBT_EXIT_OK;
  case NB_SSN_RETARGET_SESSION_RESPONSE:
    if (a->addr == NULL ||
        !nbt_parse_dotted(a->addr, strlen(a->addr), &p->retarget_addr) ||
        !nbt_parse_uint(a->port, 0xffff, &v)) {
      fprintf(stderr, "nbt: build ssn retarget: --addr IPV4 --port N\n");
      return NBT_EXIT_USAGE;
    }
    p->retarget_port = (uint16_t)v;
    return NBT_EXIT_OK;
  default:
    return NBT_EXIT_OK;
  }
}

/* Options that the kind does not take are a usage error. */
static bool options_fit(const ssn_build_args_t *a, uint8_t type) {
  bool req = type == NB_SSN_SESSION_REQUEST;
  bool neg = type == NB_SSN_NEGATIVE_SESSION_RESPONSE;
  bool ret = type == NB_SSN_RETARGET_SESSION_RESPONSE;
  bool msg = type == NB_SSN_SESSION_MESSAGE;
  return (req || (a->called == NULL && a->calling == NULL)) &&
         (neg || a->code == NULL) &&
         (ret || (a->addr == NULL && a->port == NULL)) &&
         (msg || (a->data == NULL && a->size == NULL));
}

/* Write the packet and print it. `data` holds the message's USER_DATA. */
static int write_and_print(const ssn_build_args_t *a, nb_ssn_packet_t *p,
                           uint8_t *data, size_t data_len) {
  size_t cap = NB_SSN_CONTROL_MAX + data_len;
  uint8_t *out = malloc(cap);
  size_t len = 0;
  if (out == NULL) {
    perror("nbt: build ssn");
    return NBT_EXIT_ERROR;
  }
  nb_wr_t w;
  nb_wr_init(&w, out, cap);
  p->data = data;
  p->length = (uint32_t)(data_len > NB_SSN_DIRECT_MAX ? NB_SSN_DIRECT_MAX + 1
                                                      : data_len);
  nb_ssn_write(&w, a->direct ? NB_SSN_MODE_DIRECT : NB_SSN_MODE_RFC, p);
  nb_err_t e = nb_wr_finish(&w, &len);
  if (e == NB_OK) {
    nbt_print_hex(stdout, out, len);
    fputc('\n', stdout);
  } else {
    fprintf(stderr, "nbt: build ssn: %s (%s)\n", nb_strerror(e),
            a->direct ? "direct mode has only messages and keep-alives, "
                        "up to 0xffffff bytes"
                      : "RFC 1002 4.3: codes 0x80-0x83/0x8f, messages up to "
                        "0x1ffff bytes");
  }
  free(out);
  return e == NB_OK ? NBT_EXIT_OK : NBT_EXIT_FAIL;
}

/* --data HEX, zero-padded to --size N, into a malloc'd buffer. */
static int message_data(const ssn_build_args_t *a, uint8_t **out, size_t *len) {
  const char *hex = a->data != NULL ? a->data : "";
  unsigned long size = 0;
  size_t bad = 0;
  if (a->size != NULL &&
      !nbt_parse_uint(a->size, NB_SSN_DIRECT_MAX + 1, &size)) {
    fprintf(stderr, "nbt: build ssn message: --size N (0..0x1000000)\n");
    return NBT_EXIT_USAGE;
  }
  size_t cap = strlen(hex) / 2 + 1 + (size_t)size;
  *out = calloc(1, cap);
  if (*out == NULL) {
    perror("nbt: build ssn");
    return NBT_EXIT_ERROR;
  }
  if (!nbt_unhex(hex, *out, cap, len, &bad)) {
    fprintf(stderr, "nbt: build ssn message: invalid hex at character %zu\n",
            bad);
    return NBT_EXIT_FAIL;
  }
  *len = *len > size ? *len : (size_t)size;
  return NBT_EXIT_OK;
}

int nbt_build_ssn(int argc, char **argv) {
  ssn_build_args_t a;
  nb_ssn_packet_t p;
  memset(&a, 0, sizeof a);
  memset(&p, 0, sizeof p);
  if (argc < 2 || strcmp(argv[1], "--help") == 0) {
    build_ssn_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? NBT_EXIT_USAGE : NBT_EXIT_OK;
  }
  size_t k = 0;
  while (k < sizeof ssn_kinds / sizeof ssn_kinds[0] &&
         strcmp(argv[1], ssn_kinds[k].word) != 0) {
    k++;
  }
  if (k == sizeof ssn_kinds / sizeof ssn_kinds[0]) {
    fprintf(stderr, "nbt: build ssn: unknown kind '%s'\n", argv[1]);
    build_ssn_usage(stderr);
    return NBT_EXIT_USAGE;
  }
  p.type = ssn_kinds[k].type;
  int rc = parse_ssn_args(argc, argv, &a);
  if (rc == NBT_EXIT_OK && !options_fit(&a, p.type)) {
    fprintf(stderr, "nbt: build ssn %s: option not valid for this kind\n",
            argv[1]);
    rc = NBT_EXIT_USAGE;
  }
  if (rc == NBT_EXIT_OK) {
    rc = fill_packet(&a, &p);
  }
  uint8_t *data = NULL;
  size_t data_len = 0;
  if (rc == NBT_EXIT_OK) {
    rc = message_data(&a, &data, &data_len);
  }
  if (rc == NBT_EXIT_OK) {
    rc = write_and_print(&a, &p, data, data_len);
  }
  free(data);
  return rc;
}
