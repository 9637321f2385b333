/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NBT_UTIL_H
#define NBT_UTIL_H

/* Small helpers shared by the nbt subcommands (shell layer: no protocol
 * logic lives here). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes of every nbt subcommand. */
enum {
  NBT_EXIT_OK = 0,    /* success / found */
  NBT_EXIT_FAIL = 1,  /* bad input, not found, or a packet failed */
  NBT_EXIT_USAGE = 2, /* bad command line */
  NBT_EXIT_ERROR = 3, /* system error (I/O, sockets) */
};

/* Parse hex (whitespace and ':' separators allowed) into `out`. On a bad
 * digit returns false and sets *bad_at to its offset in `hex`. */
bool nbt_unhex(const char *hex, uint8_t *out, size_t cap, size_t *out_len,
               size_t *bad_at);

/* Print `len` bytes as lowercase hex. */
void nbt_print_hex(FILE *f, const uint8_t *p, size_t len);

/* Print a JSON string literal (quotes included), escaping as RFC 8259
 * requires; bytes >= 0x80 are written as \u00XX so the output stays ASCII. */
void nbt_json_str(FILE *f, const char *s, size_t len);

/* A command-line number 0..max: decimal, or hex with 0x (strtoul base 0),
 * starting with a digit (no sign, no blanks) and nothing after it. */
bool nbt_parse_uint(const char *s, unsigned long max, unsigned long *out);

/* The `len` bytes at `s` as a dotted quad, each part 1-3 decimal digits
 * and 0..255, into host byte order. */
bool nbt_parse_dotted(const char *s, size_t len, uint32_t *out);

/* Read all of a file ("-" is stdin) into a malloc'd buffer; NULL on error
 * (errno set). Caps at `max` bytes. */
uint8_t *nbt_read_file(const char *path, size_t max, size_t *len);

#endif
