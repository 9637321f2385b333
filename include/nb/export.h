/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NB_EXPORT_H
#define NB_EXPORT_H

/* Symbols are hidden by default (CMAKE_C_VISIBILITY_PRESET hidden); only the
 * functions marked NB_API are exported from the shared library. */
#if defined(__GNUC__) || defined(__clang__)
#define NB_API __attribute__((visibility("default")))
#define NB_NODISCARD __attribute__((warn_unused_result))
#else
#define NB_API
#define NB_NODISCARD
#endif

#endif
