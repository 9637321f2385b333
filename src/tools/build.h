/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NBT_BUILD_H
#define NBT_BUILD_H

/* Helpers shared by the `nbt build` builders (build_ns.c, build_ssn.c,
 * build_dgm.c); defined in cmd_build.c. Command-line text only. */
#include "nb/name.h"

/* The --WHAT NAME option of `nbt CMD` (e.g. "build dgm") into `out`: a
 * missing name is a usage error (NBT_EXIT_USAGE), a bad one bad input
 * (NBT_EXIT_FAIL), each with a message on stderr. */
int nbt_build_name_arg(const char *cmd, const char *what, const char *s,
                       nb_name_t *out);

#endif
