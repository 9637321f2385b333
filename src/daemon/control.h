/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NBTD_CONTROL_H
#define NBTD_CONTROL_H

/* The local control socket (a UNIX stream socket; `control` in the
 * configuration, --control PATH). A client sends one command line and gets
 * the answer, then the server closes the connection:
 *
 *   stats        counters and name states, "key value" lines
 *   stats json   the same as one JSON object
 *   ping         "pong"
 *
 * Bounded: at most NB_CONTROL_MAX_CLIENTS at once (more are closed at
 * once), a 128-byte command, NB_CONTROL_TIMEOUT_MS to send it. The socket
 * is made mode 0666: what it reveals is what node status reveals. */

#include <stdbool.h>
#include <sys/types.h>

#include "daemon.h"

#define NB_CONTROL_MAX_CLIENTS 8
#define NB_CONTROL_TIMEOUT_MS 2000

typedef struct nb_control nb_control_t;

extern const nb_service_ops_t nb_control_ops;

/* A control socket at `path` (copied). When `optional` (the default path
 * and no root to create it), failing to create it is a warning, not a
 * start-up error. When the daemon will drop root, `uid`/`gid` are the user
 * it becomes: the socket, and a parent directory nbtd creates, are given
 * to it so the socket can be removed at exit. (uid_t)-1 for none. */
nb_control_t *nb_control_new(const char *path, bool optional, uid_t uid,
                             gid_t gid);
void nb_control_free(nb_control_t *c);

#endif
