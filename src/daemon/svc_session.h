/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NBTD_SVC_SESSION_H
#define NBTD_SVC_SESSION_H

/* The session service (TCP 139) and the NetBIOS-to-SMB forwarder as an
 * nbtd service: one listener per interface address on `session-port`, and
 * per accepted connection a session engine (include/nb/ssnsrv.h) with its
 * backend connection. No protocol logic here: the engine decides, this
 * file moves bytes (read() into the engine's buffer and send() out of it,
 * or splice() for message bodies the engine lets pass), re-arms one timer
 * per session and lends the engine buffers and pipes from pools only while
 * bytes are in flight, so an idle session holds neither. It runs only when
 * the configuration has at least one route. */

#include "daemon.h"

typedef struct nb_svc_ssn nb_svc_ssn_t;

extern const nb_service_ops_t nb_svc_ssn_ops;

/* NULL when out of memory. Free it after the loop closed every handle. */
nb_svc_ssn_t *nb_svc_ssn_new(void);
void nb_svc_ssn_free(nb_svc_ssn_t *s);

#endif
