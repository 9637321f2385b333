/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NBT_NS_CLIENT_H
#define NBT_NS_CLIENT_H

/* The name-service engine (nb/nsnode.h) in-process for `nbt lookup` and
 * `nbt status`: one UDP socket on an ephemeral port, a poll() loop, the
 * clock passed in. Shell layer: it moves bytes and time, no protocol logic
 * (retries, timers, matching answers are the engine's). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nb/nsnode.h"

typedef struct nbt_ns_client {
  nb_nsnode_t *node;
  int fd;
  uint64_t t0; /* CLOCK_MONOTONIC at open, ms */
} nbt_ns_client_t;

typedef struct nbt_ns_client_opts {
  uint32_t bcast;    /* broadcast address to use (host order); 0 = every
                        local interface's subnet broadcast */
  uint32_t target;   /* a unicast target, used to pick the local address */
  uint16_t port;     /* the servers' port (137) */
  const char *scope; /* node scope, "" for none */
} nbt_ns_client_opts_t;

/* 0, or -1 with `err` filled. */
int nbt_ns_client_open(nbt_ns_client_t *c, const nbt_ns_client_opts_t *o,
                       char *err, size_t cap);
void nbt_ns_client_close(nbt_ns_client_t *c);

/* Milliseconds since open (the engine's clock). */
uint64_t nbt_ns_client_now(const nbt_ns_client_t *c);

/* Called with each engine event; return false to stop the loop. */
typedef bool (*nbt_ns_client_fn)(void *ctx, const nb_nsnode_event_t *ev);

/* Pump the engine until `fn` returns false or `limit_ms` passes. 0 when
 * stopped by `fn`, 1 when the limit passed, -1 on a socket error (`err`). */
int nbt_ns_client_run(nbt_ns_client_t *c, nbt_ns_client_fn fn, void *ctx,
                      uint64_t limit_ms, char *err, size_t cap);

/* Parse a dotted quad into host order; false if it is not one. */
bool nbt_parse_ipv4(const char *s, uint32_t *out);

/* Print a host-order address. */
const char *nbt_ipv4_str(uint32_t ip, char buf[16]);

/* The options `nbt lookup` and `nbt status` share (--port N, --timeout MS,
 * --scope S, --json) at argv[*i]: 1 when taken (and *i moved past its
 * value), 0 when argv[*i] is not one of them, -1 on a bad value. */
int nbt_ns_common_opt(int argc, char **argv, int *i, uint16_t *port,
                      uint32_t *timeout, const char **scope, bool *json);

#endif
