/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_empty: a target that does nothing, built exactly like the others.
 *
 * It is the floor bench/fuzz_rate measures every target against (the
 * engine's own cost per input: mutation, coverage bookkeeping, sanitizer
 * runtime). It has no oracle and is never fuzzed by fuzz/ci-fuzz; its
 * one-file corpus only keeps `corpus_empty` a working replay test. */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  (void)data;
  (void)size;
  return 0;
}
