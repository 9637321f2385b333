/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_config: nbtd's configuration parser (src/daemon/config.c).
 *
 * Input: byte 0 picks the parser (0 nbtd.conf, 1 smb.conf, 2 one flag:
 * "key\0value"); the rest is the text. Oracles:
 *  - a failure names a line and column inside the input and a message;
 *  - a success writes back (nb_config_write) to text that parses to an
 *    equal configuration, and writing that again gives the same bytes;
 *  - the same holds after nb_config_finish() (derived node type). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define OUT_MAX 16384

static void require(int cond) {
  if (!cond) {
    abort();
  }
}

static unsigned count_lines(const uint8_t *p, size_t len) {
  unsigned n = 1;
  for (size_t i = 0; i < len; i++) {
    n += p[i] == '\n';
  }
  return n;
}

static void check_error(const nb_config_error_t *e, const uint8_t *text,
                        size_t len, int mode) {
  require(e->what != NULL);
  require(e->err != NB_OK);
  if (mode == 2 || e->err == NB_ELIMIT) {
    return;
  }
  require(e->line >= 1 && e->line <= count_lines(text, len));
  require(e->column >= 1 && e->column <= 4097 + 1);
}

/* write -> parse -> equal; write again -> same bytes. */
static void check_round_trip(const nb_config_t *c) {
  static char out[OUT_MAX];
  static char again[OUT_MAX];
  static nb_config_t back;
  nb_config_error_t e;
  size_t n = nb_config_write(c, out, sizeof out);
  require(n < sizeof out);
  require(strlen(out) == n);
  nb_config_init(&back);
  nb_config_begin_source(&back);
  memset(&e, 0, sizeof e);
  require(nb_config_parse(&back, out, n, &e) == NB_OK);
  require(nb_config_equal(c, &back));
  require(nb_config_write(&back, again, sizeof again) == n);
  require(memcmp(out, again, n) == 0);
}

static nb_err_t run_flag(nb_config_t *c, const uint8_t *p, size_t len,
                         nb_config_error_t *e) {
  char key[64];
  const uint8_t *nul = memchr(p, 0, len);
  size_t klen = nul != NULL ? (size_t)(nul - p) : len;
  if (klen >= sizeof key) {
    return NB_EINVAL;
  }
  memcpy(key, p, klen);
  key[klen] = '\0';
  size_t vstart = nul != NULL ? klen + 1 : len;
  return nb_config_set(c, key, (const char *)p + vstart, len - vstart, e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static nb_config_t c;
  nb_config_error_t e;
  if (size < 1) {
    return 0;
  }
  int mode = data[0] % 3;
  const uint8_t *text = data + 1;
  size_t len = size - 1;
  nb_config_init(&c);
  nb_config_begin_source(&c);
  memset(&e, 0, sizeof e);
  nb_err_t err;
  if (mode == 0) {
    err = nb_config_parse(&c, (const char *)text, len, &e);
  } else if (mode == 1) {
    err = nb_config_parse_smbconf(&c, (const char *)text, len, &e);
  } else {
    err = run_flag(&c, text, len, &e);
    if (err == NB_EINVAL && e.what == NULL) {
      return 0; /* key too long for the harness */
    }
  }
  if (err != NB_OK) {
    check_error(&e, text, len, mode);
    return 0;
  }
  check_round_trip(&c);
  if (nb_config_finish(&c, &e) == NB_OK) {
    check_round_trip(&c);
  }
  return 0;
}
