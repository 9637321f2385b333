/* SPDX-License-Identifier: BSD-2-Clause */
#include "nb/err.h"

#include <stddef.h>

/* One row per code, indexed by -code (the codes are 0, -1, -2, ...); a gap
 * in the numbering would leave a row of NULLs, which reads as unknown. */
typedef struct {
  const char *name;
  const char *msg;
} err_row_t;

static const err_row_t err_rows[] = {
#define NB_ERR_ROW_(name, value, msg) [-(value)] = {#name, msg},
    NB_ERR_MAP(NB_ERR_ROW_)
#undef NB_ERR_ROW_
};

static const err_row_t *err_row(nb_err_t err) {
  long i = -(long)err;
  if (i < 0 || (size_t)i >= sizeof err_rows / sizeof err_rows[0] ||
      err_rows[i].name == NULL) {
    return NULL;
  }
  return &err_rows[i];
}

const char *nb_strerror(nb_err_t err) {
  const err_row_t *r = err_row(err);
  return r != NULL ? r->msg : "unknown error";
}

const char *nb_errname(nb_err_t err) {
  const err_row_t *r = err_row(err);
  return r != NULL ? r->name : "EUNKNOWN";
}

nb_err_t nb_diag_set(nb_diag_t *diag, nb_err_t err, size_t offset,
                     const char *field) {
  if (diag != NULL) {
    diag->err = err;
    diag->offset = offset;
    diag->field = field;
  }
  return err;
}
