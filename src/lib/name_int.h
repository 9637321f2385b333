/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NB_NAME_INT_H
#define NB_NAME_INT_H

/* Library-internal name decoding (not installed, not exported). */

#include "nb/name.h"

/* Where a decoded name's in-place bytes ended: at its zero byte, or at a
 * compression pointer (the first one followed) after `labels` labels. */
typedef struct nb_name_shape {
  bool pointer;   /* a pointer ended the in-place bytes */
  uint16_t ptr;   /* its target offset (< 0x4000) */
  uint8_t labels; /* labels in place before it */
} nb_name_shape_t;

/* nb_name_decode(), also reporting the shape (if `shape` is not NULL) so
 * that the name-service parser need not walk the bytes a second time.
 * `*shape` is written on success only. */
nb_err_t nb_name_decode_shape(nb_rd_t *r, nb_name_t *out, unsigned flags,
                              nb_diag_t *diag, nb_name_shape_t *shape);

#endif
