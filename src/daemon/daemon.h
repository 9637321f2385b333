/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NBTD_DAEMON_H
#define NBTD_DAEMON_H

/* nbtd's core: one libuv loop, the configuration, the resolved interfaces
 * and a table of services. Each service is an engine plus its sockets on
 * the shared loop (the name service now; the session service and
 * forwarder, the datagram service and the WINS server of issues 7-9 add
 * their own entries to the table and their own config sections).
 *
 * Lifetime rules (libuv's): every handle is embedded in a struct that
 * lives until the handle's close callback has run; handle->data points at
 * the owner. Shutdown is graceful: each service is told to stop (the name
 * service releases its names), the loop keeps running until every service
 * says it is done or NB_DAEMON_STOP_MS passes, then every handle is closed
 * and the loop runs until they are. */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"

#define NB_DAEMON_MAX_SERVICES 8
#define NB_DAEMON_MAX_IFACES 8
#define NB_DAEMON_STOP_MS 5000 /* bound on a graceful stop */

/* A growing text buffer for reports (heap; capped at NB_SBUF_MAX). */
#define NB_SBUF_MAX (1u << 20)
typedef struct nb_sbuf {
  char *p;
  size_t len;
  size_t cap;
  bool failed; /* out of memory or over the cap: output truncated */
} nb_sbuf_t;

void nb_sbuf_printf(nb_sbuf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A JSON string literal of `len` bytes (escaped, ASCII-only output). */
void nb_sbuf_json_str(nb_sbuf_t *b, const char *s, size_t len);
void nb_sbuf_free(nb_sbuf_t *b);

/* One own IPv4 address, resolved from the configuration. Host order. */
typedef struct nb_daemon_iface {
  char ifname[NB_CONFIG_IFNAME_MAX + 1]; /* "" when unknown */
  uint32_t ip;
  uint32_t netmask;
  uint32_t bcast;
} nb_daemon_iface_t;

typedef struct nb_daemon nb_daemon_t;

/* Report formats of the control socket and SIGUSR1. */
typedef enum { NB_REPORT_TEXT, NB_REPORT_JSON } nb_report_fmt_t;

/* A service's entry points. All run on the loop thread. */
typedef struct nb_service_ops {
  const char *name; /* "name-service": report key and log prefix */
  /* Open sockets, start the engine. 0, or a libuv error (logged). */
  int (*start)(void *self, nb_daemon_t *d);
  /* Begin a graceful stop (release names, flush). */
  void (*stop)(void *self);
  /* True when the graceful stop has finished. */
  bool (*done)(const void *self);
  /* Close every handle. The service's memory must stay valid until the
   * loop has run every close callback (main() frees it after uv_run()
   * returns and uv_loop_close() succeeds). */
  void (*close)(void *self);
  /* Append this service's counters (and names) to a report: in JSON, one
   * object (the value of its key). */
  void (*report)(const void *self, nb_sbuf_t *out, nb_report_fmt_t fmt);
} nb_service_ops_t;

typedef struct nb_service {
  const nb_service_ops_t *ops;
  void *self;
} nb_service_t;

struct nb_daemon {
  uv_loop_t *loop;
  const nb_config_t *cfg; /* borrowed; outlives the daemon */
  nb_daemon_iface_t ifaces[NB_DAEMON_MAX_IFACES];
  size_t n_ifaces;
  nb_service_t services[NB_DAEMON_MAX_SERVICES];
  size_t n_services;
  uint64_t started_ms;
  bool stopping;
  bool telling; /* inside nb_daemon_stop's loop */
  bool closing;
  uv_signal_t sig_int, sig_term, sig_usr1, sig_hup;
  uv_timer_t stop_timer;
};

/* Set up `d` on `loop` (signals included). */
int nb_daemon_init(nb_daemon_t *d, uv_loop_t *loop, const nb_config_t *cfg);

/* Add a service to the table (before nb_daemon_start). */
int nb_daemon_add_service(nb_daemon_t *d, const nb_service_ops_t *ops,
                          void *self);

/* Start every service, in table order. 0 or the first error. */
int nb_daemon_start(nb_daemon_t *d);

/* Begin a graceful stop (also what SIGINT/SIGTERM do). */
void nb_daemon_stop(nb_daemon_t *d);

/* A service calls this when its stop may have finished. */
void nb_daemon_poke(nb_daemon_t *d);

/* A full report: uptime and every service's section. */
void nb_daemon_report(const nb_daemon_t *d, nb_sbuf_t *out,
                      nb_report_fmt_t fmt);

/* Close every handle of the daemon and its services (after a stop, or
 * when start failed). */
void nb_daemon_close(nb_daemon_t *d);

#endif
