/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NBTD_SVC_WINS_H
#define NBTD_SVC_WINS_H

/* The NBNS (WINS) server as an nbtd service (issue 9): the sans-I/O engine
 * of include/nb/nbns.h, its SQLite database (include/nb/nbns_sqlite.h) and
 * the name service's UDP 137 sockets, shared through svc_ns.h's tap. No
 * protocol logic here: datagrams in, the journal into one SQLite
 * transaction per loop iteration, acknowledgements out after the commit,
 * one timer.
 *
 * Runs when the configuration sets nbns-server (`--nbns-server`, smb.conf
 * `wins support = yes`); `db` names the database (created when missing).
 * Its own names (netbios name and aliases <00> <03> <20>, the workgroup
 * <00> and <1e> as groups) are static entries, as nmbd adds its names to
 * its WINS database. */

#include "daemon.h"
#include "svc_ns.h"

typedef struct nb_svc_wins nb_svc_wins_t;

extern const nb_service_ops_t nb_svc_wins_ops;

/* A WINS service riding on the name service `ns` (which must be started
 * first: add it to the table after `ns`). NULL when out of memory. Free
 * after the loop has closed every handle. */
nb_svc_wins_t *nb_svc_wins_new(nb_svc_ns_t *ns);
void nb_svc_wins_free(nb_svc_wins_t *w);

#endif
