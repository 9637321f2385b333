/* SPDX-License-Identifier: BSD-2-Clause */
#include "testutil.h"

static int nibble(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

size_t nb_test_unhex(const char *hex, uint8_t *out, size_t cap) {
  size_t n = 0;
  int hi = -1;
  for (const char *p = hex; *p != '\0'; p++) {
    if (*p == ' ' || *p == '\n') {
      continue;
    }
    int v = nibble(*p);
    assert_true(v >= 0);
    if (hi < 0) {
      hi = v;
      continue;
    }
    assert_true(n < cap);
    out[n++] = (uint8_t)(hi << 4 | v);
    hi = -1;
  }
  assert_true(hi < 0);
  return n;
}

void nb_test_hex(const uint8_t *in, size_t len, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 0xf];
  }
  out[2 * len] = '\0';
}

uint32_t nb_test_rand(uint32_t *state) {
  uint32_t x = *state ? *state : 0x9e3779b9u;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  *state = x;
  return x;
}
