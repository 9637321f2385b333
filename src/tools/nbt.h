/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NBT_NBT_H
#define NBT_NBT_H

/* The nbt subcommands. Each takes the arguments after its own name
 * (argv[0] is the subcommand) and returns an NBT_EXIT_* code. */
int nbt_cmd_name(int argc, char **argv);

#endif
