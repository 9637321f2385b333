/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NB_TESTUTIL_H
#define NB_TESTUTIL_H

/* cmocka needs these before its header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* Decode a hex string (spaces allowed) into `out`; fails the test on bad
 * input or overflow. Returns the byte count. */
size_t nb_test_unhex(const char *hex, uint8_t *out, size_t cap);

/* Lowercase hex of `len` bytes into `out` (2*len+1 bytes). */
void nb_test_hex(const uint8_t *in, size_t len, char *out);

/* A small deterministic PRNG (xorshift32) for random splits. */
uint32_t nb_test_rand(uint32_t *state);

#endif
