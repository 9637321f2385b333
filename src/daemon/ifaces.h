/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NBTD_IFACES_H
#define NBTD_IFACES_H

/* Turn the configured `interface` values into own addresses: ADDR/LEN as
 * given; ADDR alone takes its netmask from the system; a name (shell
 * wildcards allowed, as in smb.conf) gives every IPv4 address of every
 * matching interface. With none configured, every non-loopback IPv4
 * address (what nmbd does). Duplicates are dropped. */

#include "daemon.h"

/* 0 and `d->ifaces`/`d->n_ifaces` filled, or -1 with `err` saying why. */
int nb_ifaces_resolve(nb_daemon_t *d, char *err, size_t errcap);

#endif
