/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NB_WIRE_H
#define NB_WIRE_H

/* Bounds-checked wire cursors. All wire access in nbtkit goes through these;
 * nothing else walks raw pointers over network data.
 *
 * Reader: zero-copy over a caller-owned message. Every read is checked
 * against `end`; on error the cursor is left unmoved, so a caller can report
 * `r->pos` as the failing offset. Offsets (`pos`, `end`) are absolute
 * positions in `msg`, which lets name decoding follow compression pointers
 * and lets errors say where they happened. A sub-reader (`nb_rd_sub`) is a
 * hard window, e.g. the RDLENGTH bytes of a resource record. Rollback is a
 * struct copy (`nb_rd_t save = *r;`).
 *
 * Writer: a fixed caller buffer and a sticky error. Writes after a failure
 * are no-ops; check once at the end with nb_wr_finish(). Length fields are
 * reserved with nb_wr_mark() and patched after the body. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nb/err.h"

typedef struct nb_rd {
  const uint8_t *msg; /* start of the whole message (borrowed) */
  size_t msg_len;     /* length of the whole message */
  size_t pos;         /* next byte to read, offset into msg */
  size_t end;         /* one past the last readable byte, <= msg_len */
} nb_rd_t;

/* The readers are static inline: they are on every parser's hot path
 * (an out-of-line call per field was 12% of name-service parse time).
 * Forced where the compiler allows: in the fuzz build (ASan, UBSan and
 * coverage instrumentation) clang had left them out of line, a call per
 * field read. */
#if defined(__GNUC__) || defined(__clang__)
#define NB_RD_INLINE_ static inline __attribute__((always_inline))
#else
#define NB_RD_INLINE_ static inline
#endif

/* A reader over all of `msg` (borrowed: valid while `msg` is). */
NB_RD_INLINE_ void nb_rd_init(nb_rd_t *r, const uint8_t *msg, size_t len) {
  r->msg = msg;
  r->msg_len = len;
  r->pos = 0;
  r->end = len;
}

/* Bytes left before `end`. */
NB_RD_INLINE_ size_t nb_rd_left(const nb_rd_t *r) {
  return r->pos <= r->end ? r->end - r->pos : 0;
}

/* True when `n` bytes remain before `end`. */
NB_RD_INLINE_ bool nb_rd_has_(const nb_rd_t *r, size_t n) {
  return r->pos <= r->end && r->end - r->pos >= n;
}

/* Borrow `n` bytes at the cursor without moving it; NULL if fewer remain.
 * (Never NULL + 0: an empty message has a NULL `msg`.) */
NB_RD_INLINE_ const uint8_t *nb_rd_peek_(const nb_rd_t *r, size_t n) {
  static const uint8_t empty[1] = {0};
  if (!nb_rd_has_(r, n)) {
    return NULL;
  }
  return r->msg != NULL ? r->msg + r->pos : empty;
}

/* The fixed-size reads (1 to 4 bytes): with `n` >= 1 bytes left the
 * message is not empty, so `msg` is not NULL and needs no check. */
NB_RD_INLINE_ nb_err_t nb_rd_u8(nb_rd_t *r, uint8_t *out) {
  if (!nb_rd_has_(r, 1)) {
    return NB_ETRUNCATED;
  }
  *out = r->msg[r->pos];
  r->pos += 1;
  return NB_OK;
}

NB_RD_INLINE_ nb_err_t nb_rd_be16(nb_rd_t *r, uint16_t *out) {
  if (!nb_rd_has_(r, 2)) {
    return NB_ETRUNCATED;
  }
  const uint8_t *p = r->msg + r->pos;
  *out = (uint16_t)((unsigned)p[0] << 8 | p[1]);
  r->pos += 2;
  return NB_OK;
}

NB_RD_INLINE_ nb_err_t nb_rd_be24(nb_rd_t *r, uint32_t *out) {
  if (!nb_rd_has_(r, 3)) {
    return NB_ETRUNCATED;
  }
  const uint8_t *p = r->msg + r->pos;
  *out = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
  r->pos += 3;
  return NB_OK;
}

NB_RD_INLINE_ nb_err_t nb_rd_be32(nb_rd_t *r, uint32_t *out) {
  if (!nb_rd_has_(r, 4)) {
    return NB_ETRUNCATED;
  }
  const uint8_t *p = r->msg + r->pos;
  *out =
      (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
  r->pos += 4;
  return NB_OK;
}

NB_RD_INLINE_ nb_err_t nb_rd_peek_u8(const nb_rd_t *r, uint8_t *out) {
  if (!nb_rd_has_(r, 1)) {
    return NB_ETRUNCATED;
  }
  *out = r->msg[r->pos];
  return NB_OK;
}

NB_RD_INLINE_ nb_err_t nb_rd_peek_be16(const nb_rd_t *r, uint16_t *out) {
  if (!nb_rd_has_(r, 2)) {
    return NB_ETRUNCATED;
  }
  const uint8_t *p = r->msg + r->pos;
  *out = (uint16_t)((unsigned)p[0] << 8 | p[1]);
  return NB_OK;
}

/* Borrow `n` bytes: `*out` points into `msg`, valid while `msg` is. */
NB_RD_INLINE_ nb_err_t nb_rd_bytes(nb_rd_t *r, size_t n, const uint8_t **out) {
  const uint8_t *p = nb_rd_peek_(r, n);
  if (p == NULL) {
    return NB_ETRUNCATED;
  }
  *out = p;
  r->pos += n;
  return NB_OK;
}

NB_RD_INLINE_ nb_err_t nb_rd_skip(nb_rd_t *r, size_t n) {
  if (!nb_rd_has_(r, n)) {
    return NB_ETRUNCATED;
  }
  r->pos += n;
  return NB_OK;
}

/* Copy `n` bytes into `dst`. */
NB_API nb_err_t nb_rd_copy(nb_rd_t *r, void *dst, size_t n);
/* Carve the next `n` bytes into `sub` (a hard window) and advance `r` past
 * them. Fails with NB_ETRUNCATED, leaving `r` unmoved, if fewer remain. */
NB_API nb_err_t nb_rd_sub(nb_rd_t *r, size_t n, nb_rd_t *sub);
/* A reader at absolute offset `pos` of the same message, bounded by the
 * whole message (used to follow compression pointers). */
NB_API nb_err_t nb_rd_at(const nb_rd_t *r, size_t pos, nb_rd_t *out);

typedef struct nb_wr {
  uint8_t *buf; /* caller's buffer (borrowed) */
  size_t cap;   /* its capacity */
  size_t len;   /* bytes written so far */
  nb_err_t err; /* sticky: NB_OK until a write does not fit */
} nb_wr_t;

NB_API void nb_wr_init(nb_wr_t *w, uint8_t *buf, size_t cap);
NB_API void nb_wr_u8(nb_wr_t *w, uint8_t v);
NB_API void nb_wr_be16(nb_wr_t *w, uint16_t v);
NB_API void nb_wr_be24(nb_wr_t *w, uint32_t v);
NB_API void nb_wr_be32(nb_wr_t *w, uint32_t v);
NB_API void nb_wr_bytes(nb_wr_t *w, const void *src, size_t n);
NB_API void nb_wr_fill(nb_wr_t *w, uint8_t byte, size_t n);
/* Reserve `n` zero bytes and return their offset, to patch later. */
NB_API size_t nb_wr_mark(nb_wr_t *w, size_t n);
/* Patch a reserved field. Out-of-range patches set the sticky NB_EINVAL. */
NB_API void nb_wr_patch_u8(nb_wr_t *w, size_t at, uint8_t v);
NB_API void nb_wr_patch_be16(nb_wr_t *w, size_t at, uint16_t v);
NB_API void nb_wr_patch_be24(nb_wr_t *w, size_t at, uint32_t v);
/* Record an error found by the caller (e.g. a value out of range); the first
 * error sticks. */
NB_API void nb_wr_fail(nb_wr_t *w, nb_err_t err);
/* The sticky error; on NB_OK, `*len` (if not NULL) gets the bytes written. */
NB_API nb_err_t nb_wr_finish(const nb_wr_t *w, size_t *len);

#endif
