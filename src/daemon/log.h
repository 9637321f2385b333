/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NBTD_LOG_H
#define NBTD_LOG_H

/* nbtd's log: levels (syslog's), to stderr and/or syslog. One process-wide
 * sink, set up once in main(); messages above the level are dropped before
 * formatting. */

#include <stdbool.h>

#include "config.h"

/* Where messages go: stderr (foreground), syslog (--syslog or detached),
 * or both. `ident` is kept by reference (syslog's rule). */
void nb_log_open(const char *ident, nb_log_level_t level, bool to_stderr,
                 bool to_syslog);
void nb_log_close(void);

/* True when a message at `level` would be written. */
bool nb_log_enabled(nb_log_level_t level);

void nb_log(nb_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define nb_log_err(...) nb_log(NB_LOG_ERR, __VA_ARGS__)
#define nb_log_warn(...) nb_log(NB_LOG_WARNING, __VA_ARGS__)
#define nb_log_notice(...) nb_log(NB_LOG_NOTICE, __VA_ARGS__)
#define nb_log_info(...) nb_log(NB_LOG_INFO, __VA_ARGS__)
#define nb_log_debug(...) nb_log(NB_LOG_DEBUG, __VA_ARGS__)

#endif
