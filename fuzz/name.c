/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_name: the NetBIOS name codec.
 *
 * Input: byte 0 chooses where in the rest the name starts (so backward
 * compression pointers have something to point at) and, in bit 7, whether
 * pointers are forbidden (datagram/session rules). Oracles:
 *  - decode -> encode -> decode gives the same 16 bytes and scope, and the
 *    re-encoding has exactly nb_name_wire_len() bytes;
 *  - text -> name -> text -> name is the identity on names;
 *  - the whole input parsed as text: if it parses, the same round trips;
 *  - a refused decode or text has an error with known nb_strerror() and
 *    nb_errname() texts, and a field;
 *  - the error table (nb/err.h's X-macro): for the code the last byte
 *    picks (0 down to -15), the message and the name are both known
 *    exactly when the code is in the enum (NB_OK..NB_EIO), "unknown
 *    error" / "EUNKNOWN" otherwise, never NULL. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nb/err.h"
#include "nb/name.h"

static void require(int cond) {
  if (!cond) {
    abort();
  }
}

static void check_err(const nb_diag_t *d) {
  require(d->err != NB_OK && d->field != NULL);
  require(strcmp(nb_strerror(d->err), "unknown error") != 0);
  require(strcmp(nb_errname(d->err), "EUNKNOWN") != 0);
}

static void check_err_table(uint8_t pick) {
  nb_err_t e = (nb_err_t)(-(int)(pick % 16));
  bool in_enum = e >= NB_EIO && e <= NB_OK;
  const char *msg = nb_strerror(e);
  const char *name = nb_errname(e);
  require(msg != NULL && name != NULL);
  require((strcmp(msg, "unknown error") != 0) == in_enum);
  require((strcmp(name, "EUNKNOWN") != 0) == in_enum);
}

static int same_name(const nb_name_t *a, const nb_name_t *b) {
  return memcmp(a->bytes, b->bytes, NB_NAME_BYTES) == 0 &&
         a->scope_len == b->scope_len &&
         memcmp(a->scope, b->scope, a->scope_len) == 0;
}

static void check_roundtrips(const nb_name_t *n) {
  uint8_t wire[NB_NAME_WIRE_MAX + 8];
  nb_wr_t w;
  nb_wr_init(&w, wire, sizeof wire);
  nb_name_encode(&w, n);
  size_t len = 0;
  require(nb_wr_finish(&w, &len) == NB_OK);
  require(len == nb_name_wire_len(n) && len <= NB_NAME_WIRE_MAX);

  nb_rd_t r;
  nb_name_t again;
  nb_rd_init(&r, wire, len);
  require(nb_name_decode(&r, &again, NB_NAME_F_NO_POINTERS, NULL) == NB_OK);
  require(r.pos == len && same_name(n, &again));
  require(nb_name_equal(n, &again) && nb_name_hash(n) == nb_name_hash(&again));

  char text[NB_NAME_TEXT_MAX];
  size_t tlen = nb_name_to_text(n, text, sizeof text);
  require(tlen < sizeof text);
  nb_name_t from_text;
  require(nb_name_from_text(&from_text, text, tlen, NULL) == NB_OK);
  require(same_name(n, &from_text));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) {
    return 0;
  }
  check_err_table(data[size - 1]);
  unsigned flags = (data[0] & 0x80) ? NB_NAME_F_NO_POINTERS : 0;
  const uint8_t *msg = data + 1;
  size_t msg_len = size - 1;
  size_t start = msg_len ? (data[0] & 0x7f) % msg_len : 0;

  nb_rd_t r;
  nb_rd_init(&r, msg, msg_len);
  r.pos = start;
  nb_rd_t before = r;
  nb_name_t n;
  nb_diag_t diag = {NB_OK, 0, NULL};
  if (nb_name_decode(&r, &n, flags, &diag) == NB_OK) {
    require(r.pos > before.pos && r.pos <= msg_len);
    check_roundtrips(&n);
  } else {
    /* Unmoved on error, and the error says where, inside the message. */
    require(r.pos == before.pos && diag.field != NULL);
    require(diag.offset <= msg_len && diag.err != NB_OK);
    check_err(&diag);
  }

  nb_name_t t;
  nb_diag_t tdiag = {NB_OK, 0, NULL};
  if (nb_name_from_text(&t, (const char *)data, size, &tdiag) == NB_OK) {
    check_roundtrips(&t);
  } else {
    check_err(&tdiag);
  }
  return 0;
}
