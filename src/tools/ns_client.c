/* SPDX-License-Identifier: BSD-2-Clause */
#define _GNU_SOURCE 1 /* getrandom, getifaddrs, SOCK_NONBLOCK */
#include "ns_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t nbt_ns_client_now(const nbt_ns_client_t *c) {
  return mono_ms() - c->t0 + 1; /* never 0 */
}

bool nbt_parse_ipv4(const char *s, uint32_t *out) {
  struct in_addr a;
  if (inet_pton(AF_INET, s, &a) != 1) {
    return false;
  }
  *out = ntohl(a.s_addr);
  return true;
}

const char *nbt_ipv4_str(uint32_t ip, char buf[16]) {
  snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xffu,
           (ip >> 8) & 0xffu, ip & 0xffu);
  return buf;
}

static void sin_of(struct sockaddr_in *sa, uint32_t ip, uint16_t port) {
  memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  sa->sin_addr.s_addr = htonl(ip);
  sa->sin_port = htons(port);
}

/* The local address the kernel would send from towards `dst`. */
static uint32_t route_source(uint32_t dst) {
  struct sockaddr_in sa;
  socklen_t sl = sizeof sa;
  uint32_t ip = 0;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int one = 1;
  sin_of(&sa, dst, 137);
  if (fd >= 0 &&
      setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) == 0 &&
      connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
      getsockname(fd, (struct sockaddr *)&sa, &sl) == 0) {
    ip = ntohl(sa.sin_addr.s_addr);
  }
  if (fd >= 0) {
    close(fd);
  }
  return ip != 0 ? ip : 0x7f000001u;
}

/* One engine interface whose subnet broadcast is `bcast`: the local
 * address the route gives, with the shortest prefix that fits; otherwise
 * the broadcast address itself as a /32 (the engine only needs ip|~mask). */
static void iface_for_bcast(nb_nsnode_iface_t *f, uint32_t bcast) {
  uint32_t ip = route_source(bcast);
  for (unsigned p = 0; p <= 32; p++) {
    uint32_t host = p == 32 ? 0 : 0xffffffffu >> p;
    if ((ip | host) == bcast && (ip & host) != host) {
      f->ip = ip;
      f->netmask = ~host;
      return;
    }
  }
  f->ip = bcast;
  f->netmask = 0xffffffffu;
}

/* Every broadcast-capable local IPv4 interface (nmblookup's default). */
static size_t local_ifaces(nb_nsnode_iface_t *f, size_t cap) {
  struct ifaddrs *list = NULL;
  size_t n = 0;
  if (getifaddrs(&list) != 0) {
    return 0;
  }
  for (struct ifaddrs *i = list; i != NULL && n < cap; i = i->ifa_next) {
    if (i->ifa_addr == NULL || i->ifa_netmask == NULL ||
        i->ifa_addr->sa_family != AF_INET ||
        (i->ifa_flags & IFF_BROADCAST) == 0 || (i->ifa_flags & IFF_UP) == 0) {
      continue;
    }
    f[n].ip =
        ntohl(((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr.s_addr);
    f[n].netmask =
        ntohl(((struct sockaddr_in *)(void *)i->ifa_netmask)->sin_addr.s_addr);
    n++;
  }
  freeifaddrs(list);
  return n;
}

static int open_socket(char *err, size_t cap) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  struct sockaddr_in sa;
  sin_of(&sa, 0, 0);
  if (fd < 0 ||
      setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) != 0 ||
      bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    snprintf(err, cap, "socket: %s", strerror(errno));
    if (fd >= 0) {
      close(fd);
    }
    return -1;
  }
  return fd;
}

static int engine_config(nb_nsnode_config_t *ec, const nbt_ns_client_opts_t *o,
                         char *err, size_t cap) {
  nb_nsnode_config_init(ec);
  ec->node_type = NB_NSNODE_TYPE_B;
  if (o->bcast != 0) {
    iface_for_bcast(&ec->ifaces[0], o->bcast);
    ec->n_ifaces = 1;
  } else {
    ec->n_ifaces = local_ifaces(ec->ifaces, NB_NSNODE_MAX_IFACES);
  }
  if (ec->n_ifaces == 0) {
    ec->ifaces[0].ip = route_source(o->target != 0 ? o->target : 0x7f000001u);
    ec->ifaces[0].netmask = 0xffffffffu;
    ec->n_ifaces = 1;
  }
  ec->bcast_port = ec->nbns_port = o->port;
  snprintf(ec->scope, sizeof ec->scope, "%s", o->scope);
  if (getrandom(&ec->txid_seed, sizeof ec->txid_seed, 0) < 0) {
    ec->txid_seed = mono_ms();
  }
  ec->rl_rate = 0; /* a client answers nobody */
  ec->rl_global_rate = 0;
  nb_diag_t d = {NB_OK, 0, NULL};
  if (nb_nsnode_config_check(ec, &d) != NB_OK) {
    snprintf(err, cap, "engine configuration: %s", d.field ? d.field : "?");
    return -1;
  }
  return 0;
}

int nbt_ns_client_open(nbt_ns_client_t *c, const nbt_ns_client_opts_t *o,
                       char *err, size_t cap) {
  nb_nsnode_config_t ec;
  memset(c, 0, sizeof *c);
  c->fd = -1;
  c->t0 = mono_ms();
  if (engine_config(&ec, o, err, cap) != 0) {
    return -1;
  }
  if (nb_nsnode_new(&ec, &c->node) != NB_OK) {
    snprintf(err, cap, "out of memory");
    return -1;
  }
  c->fd = open_socket(err, cap);
  return c->fd >= 0 ? 0 : -1;
}

void nbt_ns_client_close(nbt_ns_client_t *c) {
  if (c->fd >= 0) {
    close(c->fd);
  }
  nb_nsnode_free(c->node);
  memset(c, 0, sizeof *c);
  c->fd = -1;
}

/* Send what the engine has queued; a refused datagram is dropped (the
 * engine's retries or timeout take care of it). */
static void flush(nbt_ns_client_t *c) {
  nb_nsnode_out_t o;
  while (nb_nsnode_pending(c->node, &o)) {
    struct sockaddr_in sa;
    sin_of(&sa, o.dst_ip, o.dst_port);
    ssize_t n;
    do {
      n = sendto(c->fd, o.data, o.len, 0, (struct sockaddr *)&sa, sizeof sa);
    } while (n < 0 && errno == EINTR);
    nb_nsnode_advance(c->node);
  }
}

static int receive(nbt_ns_client_t *c, char *err, size_t cap) {
  uint8_t buf[2048];
  for (;;) {
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    ssize_t n =
        recvfrom(c->fd, buf, sizeof buf, 0, (struct sockaddr *)&sa, &sl);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
          errno == ECONNREFUSED) {
        return 0;
      }
      snprintf(err, cap, "recvfrom: %s", strerror(errno));
      return -1;
    }
    nb_nsnode_recv(c->node, buf, (size_t)n, ntohl(sa.sin_addr.s_addr),
                   ntohs(sa.sin_port), false, nbt_ns_client_now(c));
  }
}

int nbt_ns_client_run(nbt_ns_client_t *c, nbt_ns_client_fn fn, void *ctx,
                      uint64_t limit_ms, char *err, size_t cap) {
  static nb_nsnode_event_t ev;
  uint64_t end = nbt_ns_client_now(c) + limit_ms;
  for (;;) {
    flush(c);
    while (nb_nsnode_next_event(c->node, &ev)) {
      if (!fn(ctx, &ev)) {
        return 0;
      }
    }
    uint64_t now = nbt_ns_client_now(c);
    if (now >= end) {
      return 1;
    }
    uint64_t dl = nb_nsnode_next_deadline(c->node);
    uint64_t wake = dl < end ? dl : end;
    struct pollfd p = {c->fd, POLLIN, 0};
    int rc = poll(&p, 1, wake > now ? (int)(wake - now) : 0);
    if (rc < 0 && errno != EINTR) {
      snprintf(err, cap, "poll: %s", strerror(errno));
      return -1;
    }
    if (rc > 0 && receive(c, err, cap) != 0) {
      return -1;
    }
    nb_nsnode_on_timer(c->node, nbt_ns_client_now(c));
  }
}
