/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NB_ERR_H
#define NB_ERR_H

#include <stddef.h>

#include "nb/export.h"

/* One library-wide error enum, values <= 0, generated from an X-macro table
 * (the libuv way) so that names and messages cannot drift apart. Wire codes
 * (name-service RCODE, session negative codes, datagram error codes) have
 * their own enums in their modules. */
#define NB_ERR_MAP(XX)                                                         \
  XX(OK, 0, "success")                                                         \
  XX(EINCOMPLETE, -1, "need more bytes")                                       \
  XX(ETRUNCATED, -2, "truncated input")                                        \
  XX(EMALFORMED, -3, "malformed input")                                        \
  XX(ELIMIT, -4, "limit exceeded")                                             \
  XX(ENOSPC, -5, "no space in output buffer")                                  \
  XX(EINVAL, -6, "invalid argument")                                           \
  XX(ESTATE, -7, "operation not valid in this state")                          \
  XX(ENOTFOUND, -8, "not found")                                               \
  XX(ENOMEM, -9, "out of memory")                                              \
  XX(ETIMEDOUT, -10, "timed out")                                              \
  XX(EIO, -11, "I/O error")

typedef enum nb_err {
#define NB_ERR_ENUM_(name, value, msg) NB_##name = (value),
  NB_ERR_MAP(NB_ERR_ENUM_)
#undef NB_ERR_ENUM_
} nb_err_t;

/* A static, human-readable message; never NULL (unknown codes included). */
NB_API const char *nb_strerror(nb_err_t err);
/* The code's name without the NB_ prefix ("ETRUNCATED"); never NULL. */
NB_API const char *nb_errname(nb_err_t err);

/* Where a parse or encode failed: the byte offset from the start of the
 * message and a static description of the field. Every parser that takes a
 * `nb_diag_t *` fills it on failure (it may be NULL when the caller does not
 * care). `field` always points to a string literal. */
typedef struct nb_diag {
  nb_err_t err;
  size_t offset;
  const char *field;
} nb_diag_t;

/* Record a failure in `diag` (which may be NULL) and return `err`, so that a
 * parser can write `return nb_diag_set(diag, NB_ETRUNCATED, r->pos, "x")`. */
NB_API nb_err_t nb_diag_set(nb_diag_t *diag, nb_err_t err, size_t offset,
                            const char *field);

#endif
