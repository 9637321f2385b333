/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NBTD_SVC_NS_H
#define NBTD_SVC_NS_H

/* The name service (UDP 137) as an nbtd service: the nsnode engine
 * (include/nb/nsnode.h) and, per interface, a socket bound to the unicast
 * address and one bound to the subnet broadcast address, so the engine is
 * told whether each datagram was broadcast (RFC 1002 5.1.1: no negative
 * answers to broadcasts; B-node defence), plus one socket on 0.0.0.0 that
 * keeps only limited broadcasts (255.255.255.255) arriving on a configured
 * interface (`limited-broadcast`, docs/CONFIGURATION.md "Sockets"; not
 * opened when every address is a loopback one). Broadcasts are sent from the
 * unicast socket (SO_BROADCAST) to the subnet broadcast address the engine
 * names. No protocol logic here: bytes in, bytes out, one timer. */

#include "daemon.h"
#include "nb/nsnode.h"

typedef struct nb_svc_ns nb_svc_ns_t;

extern const nb_service_ops_t nb_svc_ns_ops;

/* A name service for `d`'s configuration; NULL when out of memory. Free it
 * after the loop has closed every handle. */
nb_svc_ns_t *nb_svc_ns_new(void);
void nb_svc_ns_free(nb_svc_ns_t *s);

/* Issue 8 (the datagram service, svc_dgram.c): what it needs from the name
 * service. Every engine event is also passed to one observer, after this
 * service handled it. The observer runs while this service drains its
 * engine: it must not call the engine (defer that to its own callbacks). */
typedef void (*nb_svc_ns_observer_fn)(void *ctx, const nb_nsnode_event_t *ev);
void nb_svc_ns_observe(nb_svc_ns_t *s, nb_svc_ns_observer_fn fn, void *ctx);
/* The engine (borrowed; NULL before start): for nb_nsnode_find(),
 * _add_name(), _remove_name(), _names() from another service's callbacks,
 * each followed by nb_svc_ns_sync(). */
nb_nsnode_t *nb_svc_ns_node(nb_svc_ns_t *s);
/* Send what the engine queued, pass its events on, re-arm its timer. */
void nb_svc_ns_sync(nb_svc_ns_t *s);

/* Issue 9 (the WINS server shares UDP 137): a tap that sees every received
 * datagram before the node engine; when it returns true the datagram is
 * consumed. nb_svc_ns_send() queues a datagram on the unicast socket of
 * the interface facing `dst_ip` (sent at the end of the loop iteration,
 * or by nb_svc_ns_flush()). Host byte order. */
typedef bool (*nb_svc_ns_tap_fn)(void *arg, const uint8_t *pkt, size_t len,
                                 uint32_t src_ip, uint16_t src_port,
                                 bool was_broadcast);
void nb_svc_ns_set_tap(nb_svc_ns_t *s, nb_svc_ns_tap_fn fn, void *arg);
void nb_svc_ns_send(nb_svc_ns_t *s, const uint8_t *data, size_t len,
                    uint32_t dst_ip, uint16_t dst_port);
void nb_svc_ns_flush(nb_svc_ns_t *s);

#endif
