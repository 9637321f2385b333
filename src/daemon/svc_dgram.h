/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NBTD_SVC_DGRAM_H
#define NBTD_SVC_DGRAM_H

/* The datagram service (UDP 138, issue 8) as an nbtd service: the dgmsvc
 * engine (include/nb/dgmsvc.h), per interface a socket bound to the
 * unicast address and one bound to the subnet broadcast address (so the
 * engine knows how each datagram arrived: no DATAGRAM ERROR to
 * broadcasts), one on 0.0.0.0 for limited broadcasts (255.255.255.255) as
 * in svc_ns.h, and the application socket (`dgram-socket`, a UNIX stream
 * socket speaking the line protocol of docs/DATAGRAM-API.md).
 *
 * The engine's names follow the name service (NAME_ADDED, NAME_REMOVED,
 * NAME_CONFLICT events, observed through svc_ns.h); names it must resolve
 * are asked of the name-service engine (nb_nsnode_find) and the answers
 * passed back; a BIND of a name the node does not hold claims it in the
 * name service for as long as a client is bound to it. No protocol logic
 * here: bytes, lines and events move between sockets and engines. */

#include "daemon.h"
#include "svc_ns.h"

#define NB_DGRAM_MAX_CLIENTS 32
#define NB_DGRAM_CLIENT_OUT_MAX (256u * 1024u) /* unread output: disconnect */

typedef struct nb_svc_dgram nb_svc_dgram_t;

extern const nb_service_ops_t nb_svc_dgram_ops;

/* A datagram service that uses `ns` (borrowed; it must outlive this
 * service) for names and resolution. NULL when out of memory. When
 * `optional` (the default socket path and no root), failing to create the
 * application socket or to bind a privileged UDP port is a warning and the
 * service runs without them. `uid`/`gid`: the user nbtd becomes, given the
 * socket ((uid_t)-1: none). Free it after the loop closed every handle. */
nb_svc_dgram_t *nb_svc_dgram_new(nb_svc_ns_t *ns, bool optional, uid_t uid,
                                 gid_t gid);
void nb_svc_dgram_free(nb_svc_dgram_t *s);

#endif
