/* SPDX-License-Identifier: BSD-2-Clause */
#include "nb/err.h"

const char *nb_strerror(nb_err_t err) {
  switch (err) {
#define NB_ERR_MSG_(name, value, msg)                                          \
  case NB_##name:                                                              \
    return msg;
    NB_ERR_MAP(NB_ERR_MSG_)
#undef NB_ERR_MSG_
  }
  return "unknown error";
}

const char *nb_errname(nb_err_t err) {
  switch (err) {
#define NB_ERR_NAME_(name, value, msg)                                         \
  case NB_##name:                                                              \
    return #name;
    NB_ERR_MAP(NB_ERR_NAME_)
#undef NB_ERR_NAME_
  }
  return "EUNKNOWN";
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
