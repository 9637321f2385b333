/* SPDX-License-Identifier: BSD-2-Clause */
/* nbt name encode|decode: the name codec for people and scripts. */
#include <stdlib.h>
#include <string.h>

#include "nb/name.h"
#include "nbt.h"
#include "util.h"

static void name_usage(FILE *f) {
  fprintf(f,
          "usage: nbt name encode [--json] NAME[<XX>][.SCOPE]\n"
          "       nbt name decode [--json] [--offset N] HEX\n"
          "\n"
          "encode prints the first-level encoding and the second-level wire\n"
          "bytes; decode reads second-level bytes (at byte N of a message\n"
          "with --offset, so compression pointers resolve) and prints the\n"
          "name as NAME<XX>.scope. Without <XX> the suffix is 0x20.\n");
}

static void print_json(const nb_name_t *n, const uint8_t *wire, size_t len,
                       size_t consumed) {
  char text[NB_NAME_TEXT_MAX];
  char l1[NB_NAME_L1_LEN + 1];
  size_t tlen = nb_name_to_text(n, text, sizeof text);
  nb_name_first_level(n, l1);
  printf("{\"text\":");
  nbt_json_str(stdout, text, tlen);
  printf(",\"name_hex\":\"");
  nbt_print_hex(stdout, n->bytes, NB_NAME_CHARS);
  printf("\",\"suffix\":%u,\"scope\":", nb_name_suffix(n));
  nbt_json_str(stdout, n->scope, n->scope_len);
  printf(",\"first_level\":\"%s\",\"wire\":\"", l1);
  nbt_print_hex(stdout, wire, len);
  printf("\",\"wire_len\":%zu", len);
  if (consumed > 0) {
    printf(",\"consumed\":%zu", consumed);
  }
  printf("}\n");
}

static int name_encode(const char *arg, bool json) {
  nb_name_t n;
  nb_diag_t d = {NB_OK, 0, NULL};
  if (nb_name_from_text(&n, arg, strlen(arg), &d) != NB_OK) {
    fprintf(stderr, "nbt: name encode: %s at character %zu: %s\n",
            nb_strerror(d.err), d.offset, d.field);
    return NBT_EXIT_FAIL;
  }
  uint8_t wire[NB_NAME_WIRE_MAX];
  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, wire, sizeof wire);
  nb_name_encode(&w, &n);
  if (nb_wr_finish(&w, &len) != NB_OK) {
    fprintf(stderr, "nbt: name encode: %s\n", nb_strerror(w.err));
    return NBT_EXIT_FAIL;
  }
  if (json) {
    print_json(&n, wire, len, 0);
    return NBT_EXIT_OK;
  }
  char l1[NB_NAME_L1_LEN + 1];
  nb_name_first_level(&n, l1);
  printf("%s\n", l1);
  nbt_print_hex(stdout, wire, len);
  printf("\n");
  return NBT_EXIT_OK;
}

static int name_decode(const char *hex, size_t offset, bool json) {
  size_t cap = strlen(hex) / 2 + 1;
  uint8_t *msg = malloc(cap);
  size_t len = 0;
  size_t bad = 0;
  int rc = NBT_EXIT_FAIL;
  if (msg == NULL) {
    return NBT_EXIT_ERROR;
  }
  if (!nbt_unhex(hex, msg, cap, &len, &bad)) {
    fprintf(stderr, "nbt: name decode: invalid hex at character %zu\n", bad);
    goto done;
  }
  if (offset > len) {
    fprintf(stderr, "nbt: name decode: offset %zu is past the %zu bytes\n",
            offset, len);
    goto done;
  }
  nb_rd_t r;
  nb_name_t n;
  nb_diag_t d = {NB_OK, 0, NULL};
  nb_rd_init(&r, msg, len);
  r.pos = offset;
  if (nb_name_decode(&r, &n, 0, &d) != NB_OK) {
    fprintf(stderr, "nbt: name decode: %s at byte %zu: %s\n",
            nb_strerror(d.err), d.offset, d.field);
    goto done;
  }
  if (json) {
    uint8_t wire[NB_NAME_WIRE_MAX];
    nb_wr_t w;
    size_t wlen = 0;
    nb_wr_init(&w, wire, sizeof wire);
    nb_name_encode(&w, &n);
    (void)nb_wr_finish(&w, &wlen);
    print_json(&n, wire, wlen, r.pos - offset);
  } else {
    char text[NB_NAME_TEXT_MAX];
    nb_name_to_text(&n, text, sizeof text);
    printf("%s\n", text);
  }
  if (r.pos < len && offset == 0) {
    fprintf(stderr, "nbt: name decode: note: %zu bytes after the name\n",
            len - r.pos);
  }
  rc = NBT_EXIT_OK;
done:
  free(msg);
  return rc;
}

int nbt_cmd_name(int argc, char **argv) {
  bool json = false;
  size_t offset = 0;
  const char *verb = NULL;
  const char *arg = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      name_usage(stdout);
      return NBT_EXIT_OK;
    } else if (strcmp(argv[i], "--json") == 0) {
      json = true;
    } else if (strcmp(argv[i], "--offset") == 0 && i + 1 < argc) {
      char *end = NULL;
      unsigned long v = strtoul(argv[++i], &end, 0);
      if (end == argv[i] || *end != '\0' || v > 0xffff) {
        fprintf(stderr, "nbt: name: bad --offset '%s'\n", argv[i]);
        return NBT_EXIT_USAGE;
      }
      offset = (size_t)v;
    } else if (verb == NULL) {
      verb = argv[i];
    } else if (arg == NULL) {
      arg = argv[i];
    } else {
      name_usage(stderr);
      return NBT_EXIT_USAGE;
    }
  }
  if (verb != NULL && arg != NULL && strcmp(verb, "encode") == 0) {
    return name_encode(arg, json);
  }
  if (verb != NULL && arg != NULL && strcmp(verb, "decode") == 0) {
    return name_decode(arg, offset, json);
  }
  name_usage(stderr);
  return NBT_EXIT_USAGE;
}
