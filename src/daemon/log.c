/* SPDX-License-Identifier: BSD-2-Clause */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

static struct {
  const char *ident;
  nb_log_level_t level;
  bool to_stderr;
  bool to_syslog;
} sink = {"nbtd", NB_LOG_NOTICE, true, false};

void nb_log_open(const char *ident, nb_log_level_t level, bool to_stderr,
                 bool to_syslog) {
  sink.ident = ident;
  sink.level = level;
  sink.to_stderr = to_stderr;
  if (to_syslog && !sink.to_syslog) {
    openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
  }
  sink.to_syslog = to_syslog;
}

void nb_log_close(void) {
  if (sink.to_syslog) {
    closelog();
    sink.to_syslog = false;
  }
}

bool nb_log_enabled(nb_log_level_t level) {
  return level <= sink.level && (sink.to_stderr || sink.to_syslog);
}

void nb_log(nb_log_level_t level, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  if (!nb_log_enabled(level)) {
    return;
  }
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (sink.to_stderr) {
    const char *name = nb_config_log_level_name(level);
    fprintf(stderr, "%s: %s: %s\n", sink.ident, name != NULL ? name : "?", msg);
  }
  if (sink.to_syslog) {
    syslog((int)level, "%s", msg);
  }
}
