/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NBT_NBT_H
#define NBT_NBT_H

/* The nbt subcommands. Each takes the arguments after its own name
 * (argv[0] is the subcommand) and returns an NBT_EXIT_* code. A command is
 * added to the table in nbt.c once its file compiles. */
int nbt_cmd_name(int argc, char **argv);   /* cmd_name.c */
int nbt_cmd_decode(int argc, char **argv); /* cmd_decode.c: decode driver */
int nbt_cmd_build(int argc,
                  char **argv); /* cmd_build.c: `nbt build ns|ssn|dgm` */
int nbt_cmd_replay(int argc, char **argv);  /* cmd_replay.c */
int nbt_cmd_lookup(int argc, char **argv);  /* cmd_lookup.c: name queries */
int nbt_cmd_status(int argc, char **argv);  /* cmd_status.c: node status */
int nbt_cmd_stats(int argc, char **argv);   /* cmd_stats.c: nbtd counters */
int nbt_cmd_session(int argc, char **argv); /* cmd_session.c: a session */
int nbt_cmd_dgram(int argc, char **argv);   /* cmd_dgram.c: datagrams */
int nbt_cmd_browse(int argc, char **argv);  /* cmd_browse.c: announcements */
int nbt_cmd_wins(int argc, char **argv);    /* cmd_wins.c: WINS database */

/* `nbt build PROTO ...`: argv[0] is the protocol word. Each prints the
 * packet as one line of lowercase hex on stdout. cmd_build.c dispatches to
 * these through a table; a protocol's line is added once its file exists. */
int nbt_build_ns(int argc, char **argv);  /* build_ns.c */
int nbt_build_ssn(int argc, char **argv); /* build_ssn.c */
int nbt_build_dgm(int argc, char **argv); /* build_dgm.c */

#endif
