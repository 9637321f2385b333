/* SPDX-License-Identifier: BSD-2-Clause */
/* nbt build PROTO ...: build one packet and print it as a line of hex.
 * Dispatch, and the helpers of build.h; each protocol's builder lives in
 * build_<proto>.c. */
#include <stdio.h>
#include <string.h>

#include "build.h"
#include "nbt.h"
#include "util.h"

typedef struct {
  const char *proto;
  int (*run)(int argc, char **argv);
  const char *summary;
} nbt_builder_t;

/* One line per protocol. The datagram and session engineers add theirs
 * here once build_dgm.c / build_ssn.c compile, e.g.
 *   {"ssn", nbt_build_ssn, "session service packets (TCP 139)"},
 *   {"dgm", nbt_build_dgm, "datagram service packets (UDP 138)"},
 */
static const nbt_builder_t builders[] = {
    {"ns", nbt_build_ns, "name service packets (UDP 137)"},
    {"ssn", nbt_build_ssn, "session service packets (TCP 139)"},
    {"dgm", nbt_build_dgm, "datagram service packets (UDP 138)"},
};

static void build_usage(FILE *f) {
  fprintf(f, "usage: nbt build PROTO KIND [OPTIONS...]\n\nprotocols:\n");
  for (size_t i = 0; i < sizeof builders / sizeof builders[0]; i++) {
    fprintf(f, "  %-6s %s\n", builders[i].proto, builders[i].summary);
  }
  fprintf(f, "\n'nbt build PROTO --help' lists a protocol's kinds and "
             "options.\nThe packet is printed as one line of lowercase hex.\n");
}

int nbt_cmd_build(int argc, char **argv) {
  if (argc < 2) {
    build_usage(stderr);
    return NBT_EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    build_usage(stdout);
    return NBT_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof builders / sizeof builders[0]; i++) {
    if (strcmp(argv[1], builders[i].proto) == 0) {
      return builders[i].run(argc - 1, argv + 1);
    }
  }
  fprintf(stderr, "nbt: build: unknown protocol '%s'\n", argv[1]);
  build_usage(stderr);
  return NBT_EXIT_USAGE;
}

int nbt_build_name_arg(const char *cmd, const char *what, const char *s,
                       nb_name_t *out) {
  nb_diag_t d = {NB_OK, 0, NULL};
  if (s == NULL) {
    fprintf(stderr, "nbt: %s: --%s NAME is required\n", cmd, what);
    return NBT_EXIT_USAGE;
  }
  if (nb_name_from_text(out, s, strlen(s), &d) != NB_OK) {
    fprintf(stderr, "nbt: %s: --%s '%s': %s at character %zu: %s\n", cmd, what,
            s, nb_strerror(d.err), d.offset, d.field);
    return NBT_EXIT_FAIL;
  }
  return NBT_EXIT_OK;
}
