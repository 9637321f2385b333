/* SPDX-License-Identifier: BSD-2-Clause */
/* A target with a planted bug, for tests/fuzzinfra/ci_fuzz.sh: reading one
 * byte past the input when it starts with "FU" (libFuzzer's comparison
 * tracing finds that within seconds). */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size >= 2 && data[0] == 'F' && data[1] == 'U') {
    return data[size]; /* heap-buffer-overflow */
  }
  return 0;
}
