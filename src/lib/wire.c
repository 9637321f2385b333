/* SPDX-License-Identifier: BSD-2-Clause */
/* Bounds-checked wire reader and writer (see nb/wire.h).
 *
 * WARNING: the reader parses untrusted network data. Every read checks the
 * remaining length first and leaves the cursor unmoved on failure. */
#include "nb/wire.h"

#include <string.h>

nb_err_t nb_rd_copy(nb_rd_t *r, void *dst, size_t n) {
  const uint8_t *p = nb_rd_peek_(r, n);
  if (p == NULL) {
    return NB_ETRUNCATED;
  }
  if (n > 0) {
    memcpy(dst, p, n);
  }
  r->pos += n;
  return NB_OK;
}

nb_err_t nb_rd_sub(nb_rd_t *r, size_t n, nb_rd_t *sub) {
  if (nb_rd_left(r) < n) {
    return NB_ETRUNCATED;
  }
  sub->msg = r->msg;
  sub->msg_len = r->msg_len;
  sub->pos = r->pos;
  sub->end = r->pos + n;
  r->pos += n;
  return NB_OK;
}

nb_err_t nb_rd_at(const nb_rd_t *r, size_t pos, nb_rd_t *out) {
  if (pos > r->msg_len) {
    return NB_ETRUNCATED;
  }
  out->msg = r->msg;
  out->msg_len = r->msg_len;
  out->pos = pos;
  out->end = r->msg_len;
  return NB_OK;
}

void nb_wr_init(nb_wr_t *w, uint8_t *buf, size_t cap) {
  w->buf = buf;
  w->cap = cap;
  w->len = 0;
  w->err = NB_OK;
}

/* Reserve `n` bytes at the end; NULL (and the sticky error) if they do not
 * fit or an earlier write failed. Inlined into each writer (NB_RD_INLINE_,
 * nb/wire.h): in sanitizer builds it was left a call per field written. */
NB_RD_INLINE_ uint8_t *wr_reserve(nb_wr_t *w, size_t n) {
  if (w->err != NB_OK) {
    return NULL;
  }
  if (w->cap - w->len < n) {
    w->err = NB_ENOSPC;
    return NULL;
  }
  uint8_t *p = w->buf + w->len;
  w->len += n;
  return p;
}

void nb_wr_u8(nb_wr_t *w, uint8_t v) {
  uint8_t *p = wr_reserve(w, 1);
  if (p != NULL) {
    p[0] = v;
  }
}

void nb_wr_be16(nb_wr_t *w, uint16_t v) {
  uint8_t *p = wr_reserve(w, 2);
  if (p != NULL) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
  }
}

void nb_wr_be24(nb_wr_t *w, uint32_t v) {
  if (v > 0xFFFFFFu) {
    nb_wr_fail(w, NB_EINVAL);
    return;
  }
  uint8_t *p = wr_reserve(w, 3);
  if (p != NULL) {
    p[0] = (uint8_t)(v >> 16);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
  }
}

void nb_wr_be32(nb_wr_t *w, uint32_t v) {
  uint8_t *p = wr_reserve(w, 4);
  if (p != NULL) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
  }
}

void nb_wr_bytes(nb_wr_t *w, const void *src, size_t n) {
  uint8_t *p = wr_reserve(w, n);
  if (p != NULL && n > 0) {
    memcpy(p, src, n);
  }
}

void nb_wr_fill(nb_wr_t *w, uint8_t byte, size_t n) {
  uint8_t *p = wr_reserve(w, n);
  if (p != NULL && n > 0) {
    memset(p, byte, n);
  }
}

size_t nb_wr_mark(nb_wr_t *w, size_t n) {
  size_t at = w->len;
  nb_wr_fill(w, 0, n);
  return at;
}

/* Check that a patch of `n` bytes at `at` lies inside what was written. */
static uint8_t *wr_patch_at(nb_wr_t *w, size_t at, size_t n) {
  if (w->err != NB_OK) {
    return NULL;
  }
  if (at > w->len || w->len - at < n) {
    w->err = NB_EINVAL;
    return NULL;
  }
  return w->buf + at;
}

void nb_wr_patch_u8(nb_wr_t *w, size_t at, uint8_t v) {
  uint8_t *p = wr_patch_at(w, at, 1);
  if (p != NULL) {
    p[0] = v;
  }
}

void nb_wr_patch_be16(nb_wr_t *w, size_t at, uint16_t v) {
  uint8_t *p = wr_patch_at(w, at, 2);
  if (p != NULL) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
  }
}

void nb_wr_patch_be24(nb_wr_t *w, size_t at, uint32_t v) {
  if (v > 0xFFFFFFu) {
    nb_wr_fail(w, NB_EINVAL);
    return;
  }
  uint8_t *p = wr_patch_at(w, at, 3);
  if (p != NULL) {
    p[0] = (uint8_t)(v >> 16);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
  }
}

void nb_wr_fail(nb_wr_t *w, nb_err_t err) {
  if (w->err == NB_OK) {
    w->err = err;
  }
}

nb_err_t nb_wr_finish(const nb_wr_t *w, size_t *len) {
  if (w->err == NB_OK && len != NULL) {
    *len = w->len;
  }
  return w->err;
}
