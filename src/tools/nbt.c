/* SPDX-License-Identifier: BSD-2-Clause */
/* nbt: the nbtkit command-line tool. Subcommands dispatch from one table. */
#include <stdio.h>
#include <string.h>

#include "nb/nb.h"
#include "nbt.h"
#include "util.h"

typedef struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} nbt_command_t;

static const nbt_command_t commands[] = {
    {"name", nbt_cmd_name, "encode and decode NetBIOS names"},
    {"decode", nbt_cmd_decode, "decode packets from hex or a pcap/pcapng"},
    {"build", nbt_cmd_build, "build a packet and print it as hex"},
    {"replay", nbt_cmd_replay, "replay a capture and diff the responses"},
    {"lookup", nbt_cmd_lookup, "resolve names (like nmblookup -B/-U/-A)"},
    {"status", nbt_cmd_status, "ask nodes for their name tables"},
    {"stats", nbt_cmd_stats, "print nbtd's counters"},
    {"session", nbt_cmd_session, "open a NetBIOS session, send messages"},
    {"wins", nbt_cmd_wins, "list, show, delete, import, export WINS names"},
    {"dgram", nbt_cmd_dgram, "receive and send NetBIOS datagrams (UDP 138)"},
    {"browse", nbt_cmd_browse, "list the hosts and workgroups announced"},
};

static void usage(FILE *f) {
  fprintf(f, "usage: nbt COMMAND [ARGS...]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
    fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
  }
  fprintf(f, "\n'nbt COMMAND --help' for a command's options; "
             "'nbt --version' for the version.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return NBT_EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(stdout);
    return NBT_EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("nbt (nbtkit) %s\n", NB_VERSION_STRING);
    return NBT_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
    if (strcmp(argv[1], commands[i].name) == 0) {
      return commands[i].run(argc - 1, argv + 1);
    }
  }
  fprintf(stderr, "nbt: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return NBT_EXIT_USAGE;
}
