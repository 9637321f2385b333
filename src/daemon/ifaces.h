/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NBTD_IFACES_H
#define NBTD_IFACES_H

/* Turn the configured `interface` values into own addresses: ADDR/LEN as
 * given; ADDR alone takes its netmask from the system; a name (shell
 * wildcards allowed, as in smb.conf) gives every IPv4 address of every
 * matching interface. With none configured, every non-loopback IPv4
 * address (what nmbd does). Duplicates are dropped. */

#include "daemon.h"
#include "udp.h"

/* 0 and `d->ifaces`/`d->n_ifaces` filled, or -1 with `err` saying why. */
int nb_ifaces_resolve(nb_daemon_t *d, char *err, size_t errcap);

/* Limited broadcasts (255.255.255.255, RFC 919 7): a service hears them on
 * one extra socket bound to 0.0.0.0:port with IP_PKTINFO. Linux hands
 * every broadcast to each socket that matches it, the wildcard one
 * included, and unicast to an address nobody bound specifically to the
 * wildcard one too: so that socket keeps only datagrams whose destination
 * is 255.255.255.255 and that arrived on a configured interface; the rest
 * is dropped and counted here (a subnet broadcast or unicast to a
 * configured address is also heard, and handled, on its own socket). */
#define NB_LBCAST_ADDR 0xffffffffu

typedef struct nb_lbcast {
  const char *who; /* the service, for logs and reports */
  unsigned ifindex[NB_DAEMON_MAX_IFACES]; /* of d->ifaces[i]; 0 = unknown */
  uint64_t rx;          /* limited broadcasts passed on (as broadcasts) */
  uint64_t not_limited; /* another destination: dropped, not double-handled */
  uint64_t other_iface; /* from an interface not configured: dropped */
  uint64_t no_pktinfo;  /* no IP_PKTINFO came with it: dropped */
} nb_lbcast_t;

/* The counters above, in report order. */
#define NB_LBCAST_COUNTERS(XX)                                                 \
  XX(rx)                                                                       \
  XX(not_limited)                                                              \
  XX(other_iface)                                                              \
  XX(no_pktinfo)

/* Whether to open the 0.0.0.0 socket: `limited-broadcast` is on and some
 * configured address is not a loopback one (127/8, where no other host's
 * broadcast can arrive; loopback test harnesses bind 127.0.0.x:port
 * without SO_REUSEADDR next to nbtd, which a 0.0.0.0 socket would block). */
bool nb_lbcast_wanted(const nb_daemon_t *d);

/* Zero the counters and look up the interface index of each of d's
 * interfaces (by name; call after nb_ifaces_resolve()). `who` names the
 * service ("name-service") in logs and reports; it is not copied. */
void nb_lbcast_init(nb_lbcast_t *lb, const nb_daemon_t *d, const char *who);

/* Whether a datagram read on the wildcard socket is a limited broadcast to
 * pass on (counted in rx); *iface is then the index into d->ifaces of the
 * interface it arrived on. Otherwise it is counted as dropped (and a
 * limited broadcast from an interface not configured is logged at debug). */
bool nb_lbcast_take(nb_lbcast_t *lb, const nb_daemon_t *d,
                    const nb_udp_dst_t *dst, size_t *iface);

/* The counters as report lines: `WHO.limited-broadcast.COUNTER N`. */
void nb_lbcast_report_text(const nb_lbcast_t *lb, nb_sbuf_t *out);

/* The counters as a JSON member: `"limited_broadcast":{"enabled":B,...}`. */
void nb_lbcast_report_json(const nb_lbcast_t *lb, const nb_daemon_t *d,
                           nb_sbuf_t *out);

#endif
