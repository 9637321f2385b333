/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NBTD_SVC_NS_H
#define NBTD_SVC_NS_H

/* The name service (UDP 137) as an nbtd service: the nsnode engine
 * (include/nb/nsnode.h) and, per interface, a socket bound to the unicast
 * address and one bound to the subnet broadcast address, so the engine is
 * told whether each datagram was broadcast (RFC 1002 5.1.1: no negative
 * answers to broadcasts; B-node defence). Broadcasts are sent from the
 * unicast socket (SO_BROADCAST) to the subnet broadcast address the engine
 * names. No protocol logic here: bytes in, bytes out, one timer. */

#include "daemon.h"

typedef struct nb_svc_ns nb_svc_ns_t;

extern const nb_service_ops_t nb_svc_ns_ops;

/* A name service for `d`'s configuration; NULL when out of memory. Free it
 * after the loop has closed every handle. */
nb_svc_ns_t *nb_svc_ns_new(void);
void nb_svc_ns_free(nb_svc_ns_t *s);

#endif
