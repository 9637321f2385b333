/* SPDX-License-Identifier: BSD-2-Clause */
#include "daemon.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void nb_sbuf_printf(nb_sbuf_t *b, const char *fmt, ...) {
  va_list ap;
  if (b->failed) {
    return;
  }
  for (;;) {
    size_t room = b->cap - b->len;
    va_start(ap, fmt);
    int n = vsnprintf(b->p != NULL ? b->p + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
      b->failed = true;
      return;
    }
    if ((size_t)n < room) {
      b->len += (size_t)n;
      return;
    }
    size_t want = b->cap == 0 ? 4096 : b->cap * 2;
    char *p = want <= NB_SBUF_MAX ? realloc(b->p, want) : NULL;
    if (p == NULL) {
      b->failed = true;
      return;
    }
    b->p = p;
    b->cap = want;
  }
}

void nb_sbuf_json_str(nb_sbuf_t *b, const char *s, size_t len) {
  nb_sbuf_printf(b, "\"");
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      nb_sbuf_printf(b, "\\%c", c);
    } else if (c < 0x20 || c >= 0x7f) {
      nb_sbuf_printf(b, "\\u%04x", c);
    } else {
      nb_sbuf_printf(b, "%c", c);
    }
  }
  nb_sbuf_printf(b, "\"");
}

void nb_sbuf_free(nb_sbuf_t *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

static void on_stop_timer(uv_timer_t *t) {
  nb_daemon_t *d = t->data;
  nb_log_warn("graceful stop took over %d ms; closing now", NB_DAEMON_STOP_MS);
  nb_daemon_close(d);
}

static void dump_report(nb_daemon_t *d) {
  nb_sbuf_t b = {NULL, 0, 0, false};
  nb_daemon_report(d, &b, NB_REPORT_TEXT);
  if (b.p != NULL) {
    char *line = b.p;
    for (char *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
      *nl = '\0';
      nb_log_notice("stats: %s", line);
    }
  }
  nb_sbuf_free(&b);
}

static void on_signal(uv_signal_t *s, int signum) {
  nb_daemon_t *d = s->data;
  if (signum == SIGUSR1) {
    dump_report(d);
  } else if (signum == SIGHUP) {
    nb_log_notice("SIGHUP: configuration is read at start only; ignored");
  } else if (!d->stopping) {
    nb_log_notice("signal %d: stopping (releasing names)", signum);
    nb_daemon_stop(d);
  } else {
    nb_log_notice("signal %d again: closing now", signum);
    nb_daemon_close(d);
  }
}

static int watch(nb_daemon_t *d, uv_signal_t *s, int signum) {
  int rc = uv_signal_init(d->loop, s);
  s->data = d;
  return rc != 0 ? rc : uv_signal_start(s, on_signal, signum);
}

int nb_daemon_init(nb_daemon_t *d, uv_loop_t *loop, const nb_config_t *cfg) {
  memset(d, 0, sizeof *d);
  d->loop = loop;
  d->cfg = cfg;
  d->started_ms = uv_now(loop);
  int rc = uv_timer_init(loop, &d->stop_timer);
  d->stop_timer.data = d;
  if (rc == 0) {
    rc = watch(d, &d->sig_int, SIGINT);
  }
  if (rc == 0) {
    rc = watch(d, &d->sig_term, SIGTERM);
  }
  if (rc == 0) {
    rc = watch(d, &d->sig_usr1, SIGUSR1);
  }
  return rc != 0 ? rc : watch(d, &d->sig_hup, SIGHUP);
}

int nb_daemon_add_service(nb_daemon_t *d, const nb_service_ops_t *ops,
                          void *self) {
  if (d->n_services >= NB_DAEMON_MAX_SERVICES) {
    return UV_ENOBUFS;
  }
  d->services[d->n_services].ops = ops;
  d->services[d->n_services].self = self;
  d->n_services++;
  return 0;
}

int nb_daemon_start(nb_daemon_t *d) {
  for (size_t i = 0; i < d->n_services; i++) {
    int rc = d->services[i].ops->start(d->services[i].self, d);
    if (rc != 0) {
      nb_log_err("%s: cannot start: %s", d->services[i].ops->name,
                 uv_strerror(rc));
      return rc;
    }
  }
  return 0;
}

void nb_daemon_stop(nb_daemon_t *d) {
  if (d->stopping) {
    return;
  }
  d->stopping = true;
  d->telling = true; /* every service hears "stop" before any check */
  uv_timer_start(&d->stop_timer, on_stop_timer, NB_DAEMON_STOP_MS, 0);
  for (size_t i = 0; i < d->n_services; i++) {
    if (d->services[i].ops->stop != NULL) {
      d->services[i].ops->stop(d->services[i].self);
    }
  }
  d->telling = false;
  nb_daemon_poke(d);
}

void nb_daemon_poke(nb_daemon_t *d) {
  if (!d->stopping || d->closing || d->telling) {
    return;
  }
  for (size_t i = 0; i < d->n_services; i++) {
    const nb_service_ops_t *ops = d->services[i].ops;
    if (ops->done != NULL && !ops->done(d->services[i].self)) {
      return;
    }
  }
  nb_log_info("every service stopped");
  nb_daemon_close(d);
}

static void close_if_open(uv_handle_t *h) {
  if (h->loop != NULL && !uv_is_closing(h)) {
    uv_close(h, NULL);
  }
}

void nb_daemon_close(nb_daemon_t *d) {
  if (d->closing) {
    return;
  }
  d->closing = true;
  d->stopping = true;
  for (size_t i = d->n_services; i-- > 0;) {
    d->services[i].ops->close(d->services[i].self);
  }
  close_if_open((uv_handle_t *)&d->stop_timer);
  close_if_open((uv_handle_t *)&d->sig_int);
  close_if_open((uv_handle_t *)&d->sig_term);
  close_if_open((uv_handle_t *)&d->sig_usr1);
  close_if_open((uv_handle_t *)&d->sig_hup);
}

void nb_daemon_report(const nb_daemon_t *d, nb_sbuf_t *out,
                      nb_report_fmt_t fmt) {
  uint64_t up = (uv_now(d->loop) - d->started_ms) / 1000u;
  if (fmt == NB_REPORT_JSON) {
    nb_sbuf_printf(out, "{\"uptime_s\":%llu,\"stopping\":%s",
                   (unsigned long long)up, d->stopping ? "true" : "false");
  } else {
    nb_sbuf_printf(out, "uptime_s %llu\n", (unsigned long long)up);
  }
  for (size_t i = 0; i < d->n_services; i++) {
    const nb_service_ops_t *ops = d->services[i].ops;
    if (ops->report == NULL) {
      continue;
    }
    if (fmt == NB_REPORT_JSON) {
      nb_sbuf_printf(out, ",\"%s\":", ops->name);
    }
    ops->report(d->services[i].self, out, fmt);
  }
  if (fmt == NB_REPORT_JSON) {
    nb_sbuf_printf(out, "}\n");
  }
}
