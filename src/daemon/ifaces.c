/* SPDX-License-Identifier: BSD-2-Clause */
#include "ifaces.h"

#include <arpa/inet.h>
#include <fnmatch.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static uint32_t prefix_mask(uint8_t prefix) {
  return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

static uint32_t host_order(const struct sockaddr_in *sa) {
  return ntohl(sa->sin_addr.s_addr);
}

/* Append one address; 0, or -1 when the table is full. */
static int add(nb_daemon_t *d, const char *ifname, uint32_t ip, uint32_t mask) {
  for (size_t i = 0; i < d->n_ifaces; i++) {
    if (d->ifaces[i].ip == ip) {
      return 0;
    }
  }
  if (d->n_ifaces >= NB_DAEMON_MAX_IFACES) {
    return -1;
  }
  nb_daemon_iface_t *f = &d->ifaces[d->n_ifaces++];
  snprintf(f->ifname, sizeof f->ifname, "%s", ifname);
  f->ip = ip;
  f->netmask = mask;
  f->bcast = ip | ~mask;
  return 0;
}

typedef struct {
  uv_interface_address_t *sys;
  int n_sys;
} sys_t;

static int match_name(nb_daemon_t *d, const sys_t *s, const char *pattern,
                      int *found) {
  for (int k = 0; k < s->n_sys; k++) {
    const uv_interface_address_t *a = &s->sys[k];
    if (a->address.address4.sin_family != AF_INET ||
        fnmatch(pattern, a->name, 0) != 0) {
      continue;
    }
    (*found)++;
    if (add(d, a->name, host_order(&a->address.address4),
            host_order(&a->netmask.netmask4)) != 0) {
      return -1;
    }
  }
  return 0;
}

static const uv_interface_address_t *by_addr(const sys_t *s, uint32_t ip) {
  for (int k = 0; k < s->n_sys; k++) {
    const uv_interface_address_t *a = &s->sys[k];
    if (a->address.address4.sin_family == AF_INET &&
        host_order(&a->address.address4) == ip) {
      return a;
    }
  }
  return NULL;
}

static int one(nb_daemon_t *d, const sys_t *s, const nb_config_iface_t *c,
               char *err, size_t cap) {
  char a[INET_ADDRSTRLEN];
  struct in_addr in = {htonl(c->addr)};
  inet_ntop(AF_INET, &in, a, sizeof a);
  if (c->ifname[0] != '\0') {
    int found = 0;
    if (match_name(d, s, c->ifname, &found) != 0) {
      snprintf(err, cap, "more than %d addresses", NB_DAEMON_MAX_IFACES);
      return -1;
    }
    if (found == 0) {
      snprintf(err, cap, "no IPv4 interface matches '%s'", c->ifname);
      return -1;
    }
    return 0;
  }
  const uv_interface_address_t *sys = by_addr(s, c->addr);
  uint32_t mask = prefix_mask(c->prefix);
  if (c->prefix == NB_CONFIG_PREFIX_UNSET) {
    if (sys == NULL) {
      snprintf(err, cap, "%s is not a local address; give ADDR/LEN", a);
      return -1;
    }
    mask = host_order(&sys->netmask.netmask4);
  }
  if (add(d, sys != NULL ? sys->name : "", c->addr, mask) != 0) {
    snprintf(err, cap, "more than %d addresses", NB_DAEMON_MAX_IFACES);
    return -1;
  }
  return 0;
}

static int all_external(nb_daemon_t *d, const sys_t *s, char *err, size_t cap) {
  for (int k = 0; k < s->n_sys; k++) {
    const uv_interface_address_t *a = &s->sys[k];
    if (a->address.address4.sin_family != AF_INET || a->is_internal) {
      continue;
    }
    if (add(d, a->name, host_order(&a->address.address4),
            host_order(&a->netmask.netmask4)) != 0) {
      break; /* the first NB_DAEMON_MAX_IFACES are enough */
    }
  }
  if (d->n_ifaces == 0) {
    snprintf(err, cap, "no non-loopback IPv4 interface; use --interface");
    return -1;
  }
  return 0;
}

int nb_ifaces_resolve(nb_daemon_t *d, char *err, size_t errcap) {
  sys_t s = {NULL, 0};
  int rc = uv_interface_addresses(&s.sys, &s.n_sys);
  if (rc != 0) {
    snprintf(err, errcap, "cannot list interfaces: %s", uv_strerror(rc));
    return -1;
  }
  d->n_ifaces = 0;
  const nb_config_t *c = d->cfg;
  rc = c->n_ifaces == 0 ? all_external(d, &s, err, errcap) : 0;
  for (size_t i = 0; rc == 0 && i < c->n_ifaces; i++) {
    rc = one(d, &s, &c->ifaces[i], err, errcap);
  }
  uv_free_interface_addresses(s.sys, s.n_sys);
  return rc;
}

bool nb_lbcast_wanted(const nb_daemon_t *d) {
  for (size_t i = 0; i < d->n_ifaces && d->cfg->limited_broadcast; i++) {
    if ((d->ifaces[i].ip >> 24) != 127) {
      return true;
    }
  }
  return false;
}

void nb_lbcast_init(nb_lbcast_t *lb, const nb_daemon_t *d, const char *who) {
  memset(lb, 0, sizeof *lb);
  lb->who = who;
  for (size_t i = 0; i < d->n_ifaces && i < NB_DAEMON_MAX_IFACES; i++) {
    lb->ifindex[i] = d->ifaces[i].ifname[0] != '\0'
                         ? if_nametoindex(d->ifaces[i].ifname)
                         : 0;
  }
}

/* The configured interface a datagram arrived on: by interface index, or
 * (an interface whose name was not known) by the local address the kernel
 * chose for it. */
static bool lbcast_iface(const nb_lbcast_t *lb, const nb_daemon_t *d,
                         const nb_udp_dst_t *dst, size_t *iface) {
  for (size_t i = 0; i < d->n_ifaces && i < NB_DAEMON_MAX_IFACES; i++) {
    if (dst->ifindex != 0 && lb->ifindex[i] == dst->ifindex) {
      *iface = i;
      return true;
    }
  }
  for (size_t i = 0; i < d->n_ifaces && i < NB_DAEMON_MAX_IFACES; i++) {
    if (lb->ifindex[i] == 0 && d->ifaces[i].ip == dst->spec_dst) {
      *iface = i;
      return true;
    }
  }
  return false;
}

bool nb_lbcast_take(nb_lbcast_t *lb, const nb_daemon_t *d,
                    const nb_udp_dst_t *dst, size_t *iface) {
  if (!dst->known) {
    lb->no_pktinfo++;
    return false;
  }
  if (dst->addr != NB_LBCAST_ADDR) {
    lb->not_limited++;
    return false;
  }
  if (!lbcast_iface(lb, d, dst, iface)) {
    lb->other_iface++;
    nb_log_debug("%s: limited broadcast from interface %u (not configured) "
                 "dropped",
                 lb->who, dst->ifindex);
    return false;
  }
  lb->rx++;
  return true;
}

void nb_lbcast_report_text(const nb_lbcast_t *lb, nb_sbuf_t *out) {
#define TEXT_(f)                                                               \
  nb_sbuf_printf(out, "%s.limited-broadcast.%s %llu\n", lb->who, #f,           \
                 (unsigned long long)lb->f);
  NB_LBCAST_COUNTERS(TEXT_)
#undef TEXT_
}

void nb_lbcast_report_json(const nb_lbcast_t *lb, const nb_daemon_t *d,
                           nb_sbuf_t *out) {
  nb_sbuf_printf(out, "\"limited_broadcast\":{\"enabled\":%s",
                 nb_lbcast_wanted(d) ? "true" : "false");
#define JSON_(f)                                                               \
  nb_sbuf_printf(out, ",\"%s\":%llu", #f, (unsigned long long)lb->f);
  NB_LBCAST_COUNTERS(JSON_)
#undef JSON_
  nb_sbuf_printf(out, "}");
}
