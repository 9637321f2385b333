/* SPDX-License-Identifier: BSD-2-Clause */
#include "svc_ns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ifaces.h"
#include "log.h"
#include "nb/nsnode.h"
#include "udp.h"

#define NS_MAX_NAMES 64

/* What the shell last heard about one of its names (from engine events),
 * for reports and logs. */
typedef enum {
  NS_REGISTERING,
  NS_ACTIVE,
  NS_REFUSED,
  NS_CONFLICT,
  NS_REMOVED
} ns_state_t;

static const char *const state_names[] = {"registering", "active", "refused",
                                          "conflict", "removed"};

typedef struct {
  nb_name_t name;
  bool group;
  ns_state_t state;
  uint32_t peer;  /* who refused it / demanded the conflict */
  uint32_t owner; /* NB_ADDRESS in a refusal */
  uint8_t rcode;
} ns_name_t;

/* A bound socket. libuv's handle sends (and queues when the kernel would
 * block); datagrams are read by nb_udp_read() from a dup() of its
 * descriptor watched by `rd`: one recvmmsg() of up to 64 per wake-up
 * instead of libuv's batches of 20 and its final EAGAIN call. */
typedef struct {
  uv_udp_t udp;       /* udp.data = this */
  nb_udp_poller_t rd; /* rd.poll.data = this */
  nb_svc_ns_t *svc;
  size_t iface;
  bool bcast; /* bound to a broadcast address (or 0.0.0.0): receive only */
  bool any;   /* bound to 0.0.0.0 for limited broadcasts (ifaces.h) */
} ns_sock_t;

struct nb_svc_ns {
  nb_daemon_t *d;
  nb_nsnode_t *node;
  ns_sock_t socks[2 * NB_DAEMON_MAX_IFACES + 1]; /* + the 0.0.0.0 one */
  size_t n_socks;
  nb_udp_out_t out[NB_DAEMON_MAX_IFACES]; /* one per unicast socket */
  size_t unicast_sock[NB_DAEMON_MAX_IFACES];
  size_t n_out;
  uv_timer_t timer;
  uv_check_t check;
  bool timer_init, check_init;
  uint64_t armed; /* deadline the timer is set for; UINT64_MAX = none */
  bool stopping;
  ns_name_t names[NS_MAX_NAMES];
  size_t n_names;
  nb_udp_counters_t udp;
  uint64_t rx_not_ipv4;
  nb_lbcast_t lbcast;   /* the 0.0.0.0 socket's filter and counters */
  nb_nsnode_event_t ev; /* scratch (large) */
  nb_svc_ns_tap_fn tap; /* issue 9: the WINS server sees datagrams first */
  void *tap_arg;
  nb_svc_ns_observer_fn observer; /* issue 8: the datagram service */
  void *observer_ctx;
};

nb_svc_ns_t *nb_svc_ns_new(void) {
  nb_svc_ns_t *s = calloc(1, sizeof *s);
  if (s != NULL) {
    s->armed = UINT64_MAX;
  }
  return s;
}

void nb_svc_ns_free(nb_svc_ns_t *s) {
  if (s != NULL) {
    nb_nsnode_free(s->node);
    free(s);
  }
}

static uint64_t now_ms(const nb_svc_ns_t *s) { return uv_now(s->d->loop); }

static size_t iface_for(const nb_svc_ns_t *s, uint32_t src_ip) {
  for (size_t i = 0; i < s->d->n_ifaces; i++) {
    if (s->d->ifaces[i].ip == src_ip) {
      return i;
    }
  }
  return 0;
}

static ns_name_t *record(nb_svc_ns_t *s, const nb_name_t *n) {
  for (size_t i = 0; i < s->n_names; i++) {
    if (nb_name_equal(&s->names[i].name, n)) {
      return &s->names[i];
    }
  }
  return NULL;
}

static const char *text(const nb_name_t *n, char *buf, size_t cap) {
  nb_name_to_text(n, buf, cap);
  return buf;
}

/* The NB_ADDRESS of a refusal names the owner only when it is not ours:
 * nmbd echoes the request's RDATA (our own address) in its ACT_ERR. */
static bool is_own(const nb_svc_ns_t *s, uint32_t ip) {
  for (size_t i = 0; i < s->d->n_ifaces; i++) {
    if (s->d->ifaces[i].ip == ip) {
      return true;
    }
  }
  return false;
}

static void on_refused(nb_svc_ns_t *s, const nb_nsnode_event_t *ev,
                       ns_name_t *r) {
  char t[NB_NAME_TEXT_MAX];
  char peer[16];
  char owner[32] = "";
  bool named = ev->owner_ip != 0 && !is_own(s, ev->owner_ip);
  if (named) {
    char a[16];
    snprintf(owner, sizeof owner, ", owner %s", nb_udp_ntoa(ev->owner_ip, a));
  }
  if (r != NULL) {
    r->state = NS_REFUSED;
    r->peer = ev->peer_ip;
    r->owner = named ? ev->owner_ip : 0;
    r->rcode = ev->rcode;
  }
  nb_log_warn(
      "name %s refused: %s answered rcode %u (%s)%s; not using it",
      text(&ev->name, t, sizeof t), nb_udp_ntoa(ev->peer_ip, peer), ev->rcode,
      ev->rcode == 6 ? "ACT_ERR: active on another node" : "negative response",
      owner);
}

static void on_event(nb_svc_ns_t *s, const nb_nsnode_event_t *ev) {
  char t[NB_NAME_TEXT_MAX];
  char peer[16];
  ns_name_t *r = record(s, &ev->name);
  switch (ev->type) {
  case NB_NSNODE_EV_NAME_ADDED:
    if (r != NULL) {
      r->state = NS_ACTIVE;
    }
    nb_log_notice("name %s registered (%s)", text(&ev->name, t, sizeof t),
                  ev->group ? "group" : "unique");
    break;
  case NB_NSNODE_EV_NAME_REFUSED:
    on_refused(s, ev, r);
    break;
  case NB_NSNODE_EV_NAME_CONFLICT:
    if (r != NULL) {
      r->state = NS_CONFLICT;
      r->peer = ev->peer_ip;
    }
    nb_log_warn("name %s in conflict (demand from %s): no longer used",
                text(&ev->name, t, sizeof t), nb_udp_ntoa(ev->peer_ip, peer));
    break;
  case NB_NSNODE_EV_NAME_REMOVED:
    if (r != NULL) {
      r->state = NS_REMOVED;
    }
    nb_log_info("name %s removed", text(&ev->name, t, sizeof t));
    break;
  case NB_NSNODE_EV_NAME_REFRESHED:
    nb_log_info("name %s refreshed, TTL %u s", text(&ev->name, t, sizeof t),
                ev->ttl_s);
    break;
  case NB_NSNODE_EV_ERROR:
    nb_log_warn("name %s: %s", text(&ev->name, t, sizeof t),
                nb_strerror(ev->err));
    break;
  default:
    nb_log_debug("name-service event %d", (int)ev->type);
    break;
  }
}

/* Move everything the engine has for us: datagrams into the send batches,
 * events into the log. */
static void drain(nb_svc_ns_t *s) {
  nb_nsnode_out_t o;
  while (nb_nsnode_pending(s->node, &o)) {
    size_t i = iface_for(s, o.src_ip);
    nb_udp_out_add(&s->out[i], o.data, o.len, o.dst_ip, o.dst_port);
    nb_nsnode_advance(s->node);
  }
  while (nb_nsnode_next_event(s->node, &s->ev)) {
    on_event(s, &s->ev);
    if (s->observer != NULL) {
      s->observer(s->observer_ctx, &s->ev);
    }
  }
}

static void rearm(nb_svc_ns_t *s);

static void flush_all(nb_svc_ns_t *s) {
  for (size_t i = 0; i < s->n_out; i++) {
    if (s->out[i].n > 0) {
      nb_udp_out_flush(&s->out[i]);
    }
  }
}

/* After work outside the I/O phase (start, timer, stop): send now and set
 * the timer, since no check callback runs before the loop next blocks. */
static void sync_now(nb_svc_ns_t *s) {
  drain(s);
  flush_all(s);
  rearm(s);
  if (s->stopping) {
    nb_daemon_poke(s->d); /* may close everything: nothing after this */
  }
}

static void on_timer(uv_timer_t *t) {
  nb_svc_ns_t *s = t->data;
  s->armed = UINT64_MAX;
  nb_nsnode_on_timer(s->node, now_ms(s));
  sync_now(s);
}

static void rearm(nb_svc_ns_t *s) {
  uint64_t dl = nb_nsnode_next_deadline(s->node);
  if (dl == s->armed) {
    return;
  }
  s->armed = dl;
  if (dl == UINT64_MAX) {
    uv_timer_stop(&s->timer);
    return;
  }
  uint64_t now = now_ms(s);
  uv_timer_start(&s->timer, on_timer, dl > now ? dl - now : 0, 0);
}

/* Once per loop iteration, after I/O: write what the receive callbacks
 * batched, re-arm the one timer, and tell the daemon when a stop may have
 * finished. */
static void on_check(uv_check_t *c) {
  nb_svc_ns_t *s = c->data;
  flush_all(s);
  rearm(s);
  if (s->stopping) {
    nb_daemon_poke(s->d);
  }
}

/* One datagram (nb_udp_read's callback): the WINS tap, then the engine. */
static void on_dgram(void *ctx, const uint8_t *data, size_t len,
                     const struct sockaddr *addr) {
  ns_sock_t *sock = ctx;
  nb_svc_ns_t *s = sock->svc;
  uint32_t ip = 0;
  uint16_t port = 0;
  if (!nb_udp_peer(addr, &ip, &port)) {
    s->rx_not_ipv4++;
    return;
  }
  s->udp.rx++;
  if (s->tap != NULL && s->tap(s->tap_arg, data, len, ip, port, sock->bcast)) {
    return; /* issue 9: taken by the WINS server */
  }
  nb_nsnode_drop_t why =
      nb_nsnode_recv(s->node, data, len, ip, port, sock->bcast, now_ms(s));
  if (why != NB_NSNODE_DROP_NONE && nb_log_enabled(NB_LOG_DEBUG)) {
    char a[16];
    nb_log_debug(
        "dropped %zu bytes from %s:%u (%s): %s", len, nb_udp_ntoa(ip, a), port,
        sock->bcast ? "broadcast" : "unicast", nb_nsnode_drop_str(why));
  }
  drain(s);
}

/* One datagram on the 0.0.0.0 socket: only a limited broadcast that came
 * in on a configured interface goes on, as a broadcast (ifaces.h). */
static void on_dgram_any(void *ctx, const uint8_t *data, size_t len,
                         const struct sockaddr *addr, const nb_udp_dst_t *dst) {
  ns_sock_t *sock = ctx;
  nb_svc_ns_t *s = sock->svc;
  size_t iface = 0;
  if (!nb_lbcast_take(&s->lbcast, s->d, dst, &iface)) {
    return;
  }
  if (nb_log_enabled(NB_LOG_DEBUG)) {
    nb_log_debug("name-service: limited broadcast on %s (%s)",
                 s->d->ifaces[iface].ifname,
                 nb_udp_ntoa(s->d->ifaces[iface].ip, (char[16]){0}));
  }
  on_dgram(ctx, data, len, addr); /* sock->bcast: told it was broadcast */
}

static void on_readable(uv_poll_t *p, int status, int events) {
  ns_sock_t *sock = p->data;
  (void)events;
  if (status < 0) {
    sock->svc->udp.rx_errors++;
    return;
  }
  if (sock->any) {
    nb_udp_read_dst(sock->rd.fd, &sock->svc->udp, on_dgram_any, sock);
  } else {
    nb_udp_read(sock->rd.fd, &sock->svc->udp, on_dgram, sock);
  }
}

/* ---- issue 9: the WINS server's hooks (see svc_ns.h) ----------------- */

void nb_svc_ns_set_tap(nb_svc_ns_t *s, nb_svc_ns_tap_fn fn, void *arg) {
  s->tap = fn;
  s->tap_arg = arg;
}

void nb_svc_ns_send(nb_svc_ns_t *s, const uint8_t *data, size_t len,
                    uint32_t dst_ip, uint16_t dst_port) {
  size_t i = 0;
  for (size_t k = 0; k < s->n_out; k++) {
    const nb_daemon_iface_t *f = &s->d->ifaces[k];
    if ((dst_ip & f->netmask) == (f->ip & f->netmask)) {
      i = k;
      break;
    }
  }
  if (s->n_out > 0) {
    nb_udp_out_add(&s->out[i], data, len, dst_ip, dst_port);
  }
}

void nb_svc_ns_flush(nb_svc_ns_t *s) { flush_all(s); }

/* `any`: the 0.0.0.0 socket for limited broadcasts (`iface` unused). */
static int open_sock(nb_svc_ns_t *s, size_t iface, bool bcast, bool any) {
  const nb_daemon_iface_t *f = &s->d->ifaces[iface];
  ns_sock_t *sock = &s->socks[s->n_socks];
  uint32_t ip = any ? 0 : bcast ? f->bcast : f->ip;
  char a[16];
  sock->svc = s;
  sock->iface = iface;
  sock->bcast = bcast || any;
  sock->any = any;
  sock->udp.data = sock;
  nb_udp_poller_reset(&sock->rd);
  int rc = nb_udp_open(s->d->loop, &sock->udp, ip, s->d->cfg->port,
                       !sock->bcast, NULL);
  if (rc == 0) {
    s->n_socks++; /* open: closed by ns_close from now on */
    rc = any ? nb_udp_want_pktinfo(&sock->udp) : 0;
  }
  if (rc == 0) {
    rc = nb_udp_poller_start(&sock->rd, s->d->loop, &sock->udp, on_readable,
                             sock);
  }
  if (rc != 0) {
    nb_log_err("name-service: cannot bind %s:%u: %s", nb_udp_ntoa(ip, a),
               s->d->cfg->port, uv_strerror(rc));
  } else {
    nb_log_info("name-service: listening on %s:%u (%s)", nb_udp_ntoa(ip, a),
                s->d->cfg->port,
                any     ? "limited broadcast"
                : bcast ? "broadcast"
                        : "unicast");
  }
  return rc;
}

/* One broadcast socket per broadcast address: two addresses in one
 * subnet would otherwise hear (and answer) every broadcast twice. A /32
 * has no broadcast address of its own. */
static bool needs_bcast_sock(const nb_daemon_t *d, size_t i) {
  if (d->ifaces[i].bcast == d->ifaces[i].ip) {
    return false;
  }
  for (size_t k = 0; k < i; k++) {
    if (d->ifaces[k].bcast == d->ifaces[i].bcast) {
      return false;
    }
  }
  return true;
}

static int open_sockets(nb_svc_ns_t *s) {
  for (size_t i = 0; i < s->d->n_ifaces; i++) {
    s->unicast_sock[i] = s->n_socks;
    int rc = open_sock(s, i, false, false);
    if (rc != 0) {
      return rc;
    }
    nb_udp_out_init(&s->out[i], &s->socks[s->unicast_sock[i]].udp, &s->udp);
    s->n_out = i + 1;
    if (needs_bcast_sock(s->d, i)) {
      rc = open_sock(s, i, true, false);
      if (rc != 0) {
        return rc;
      }
    }
  }
  nb_lbcast_init(&s->lbcast, s->d, "name-service");
  if (s->d->cfg->limited_broadcast && !nb_lbcast_wanted(s->d)) {
    nb_log_info("name-service: loopback addresses only: no 0.0.0.0 socket "
                "for limited broadcasts");
  }
  return nb_lbcast_wanted(s->d) ? open_sock(s, 0, true, true) : 0;
}

static nb_nsnode_type_t node_type(nb_config_node_t t) {
  switch (t) {
  case NB_CONFIG_NODE_P:
    return NB_NSNODE_TYPE_P;
  case NB_CONFIG_NODE_M:
    return NB_NSNODE_TYPE_M;
  case NB_CONFIG_NODE_H:
    return NB_NSNODE_TYPE_H;
  default:
    return NB_NSNODE_TYPE_B;
  }
}

static void engine_config(const nb_daemon_t *d, nb_nsnode_config_t *ec) {
  const nb_config_t *c = d->cfg;
  nb_nsnode_config_init(ec);
  ec->node_type = node_type(c->node_type);
  for (size_t i = 0; i < d->n_ifaces && i < NB_NSNODE_MAX_IFACES; i++) {
    ec->ifaces[i].ip = d->ifaces[i].ip;
    ec->ifaces[i].netmask = d->ifaces[i].netmask;
    ec->n_ifaces = i + 1;
  }
  for (size_t i = 0; i < c->n_wins && i < NB_NSNODE_MAX_NBNS; i++) {
    ec->nbns[i] = c->wins[i];
    ec->n_nbns = i + 1;
  }
  ec->nbns_port = c->port;
  ec->bcast_port = c->port;
  memcpy(ec->scope, c->scope, sizeof ec->scope);
  uv_random(NULL, NULL, &ec->txid_seed, sizeof ec->txid_seed, 0, NULL);
  ec->max_names = NS_MAX_NAMES;
  ec->rl_rate = c->rate_limit;
  ec->rl_burst = c->rate_limit * 2;
  ec->rl_global_rate = c->rate_limit_global;
  ec->rl_global_burst = c->rate_limit_global * 2;
}

/* Claim one name and remember it for reports. */
static void add_name(nb_svc_ns_t *s, const char *name, uint8_t suffix,
                     bool group) {
  char t[NB_NAME_TEXT_MAX];
  ns_name_t *r = &s->names[s->n_names];
  if (s->n_names >= NS_MAX_NAMES ||
      nb_name_make(&r->name, name, strlen(name), suffix, s->d->cfg->scope) !=
          NB_OK) {
    nb_log_err("name-service: cannot make name %s<%02x>", name, suffix);
    return;
  }
  r->group = group;
  r->state = NS_REGISTERING;
  nb_err_t err = nb_nsnode_add_name(s->node, &r->name,
                                    group ? NB_NSNODE_F_GROUP : 0, now_ms(s));
  if (err != NB_OK) {
    nb_log_err("name-service: cannot add %s: %s", text(&r->name, t, sizeof t),
               nb_strerror(err));
    return;
  }
  s->n_names++;
}

/* Issue 7: the called name of each session route (unique, upper-cased,
 * in the node's scope unless the route gives one), so that a NetBIOS-only
 * client finds the forwarder by name, as the seed's netbios-fwd did with
 * XYKON-2<20>. `*SMBSERVER` and names already claimed are skipped. */
static void add_route_names(nb_svc_ns_t *s) {
  const nb_config_t *c = s->d->cfg;
  char t[NB_NAME_TEXT_MAX];
  for (size_t i = 0; i < c->n_routes && s->n_names < NS_MAX_NAMES; i++) {
    nb_name_t n = c->routes[i].name;
    if (n.bytes[0] == '*') {
      continue;
    }
    for (size_t j = 0; j < NB_NAME_CHARS; j++) {
      if (n.bytes[j] >= 'a' && n.bytes[j] <= 'z') {
        n.bytes[j] = (uint8_t)(n.bytes[j] - 'a' + 'A');
      }
    }
    if (n.scope_len == 0 && c->scope[0] != '\0') {
      (void)nb_name_set_scope(&n, c->scope, strlen(c->scope), NULL);
    }
    ns_name_t *r = &s->names[s->n_names];
    if (record(s, &n) != NULL) {
      continue;
    }
    r->name = n;
    r->group = false;
    r->state = NS_REGISTERING;
    if (nb_nsnode_add_name(s->node, &r->name, 0, now_ms(s)) != NB_OK) {
      nb_log_err("name-service: cannot add route name %s",
                 text(&r->name, t, sizeof t));
      continue;
    }
    s->n_names++;
  }
}

/* nmbd's set (source3/nmbd/nmbd_mynames.c): <00> <03> <20> unique for the
 * name and each alias; the workgroup's <00> and <1e> as groups. */
static void add_names(nb_svc_ns_t *s) {
  static const uint8_t own[] = {NB_SUFFIX_WORKSTATION, NB_SUFFIX_MESSENGER,
                                NB_SUFFIX_SERVER};
  const nb_config_t *c = s->d->cfg;
  for (size_t k = 0; k < 3; k++) {
    add_name(s, c->name.s, own[k], false);
  }
  for (size_t a = 0; a < c->n_aliases; a++) {
    for (size_t k = 0; k < 3; k++) {
      add_name(s, c->aliases[a].s, own[k], false);
    }
  }
  add_name(s, c->workgroup.s, NB_SUFFIX_WORKSTATION, true);
  add_name(s, c->workgroup.s, NB_SUFFIX_BROWSER_ELECTION, true);
  add_route_names(s);
}

static int ns_start(void *self, nb_daemon_t *d) {
  nb_svc_ns_t *s = self;
  nb_nsnode_config_t ec;
  nb_diag_t diag = {NB_OK, 0, NULL};
  s->d = d;
  engine_config(d, &ec);
  if (nb_nsnode_config_check(&ec, &diag) != NB_OK ||
      nb_nsnode_new(&ec, &s->node) != NB_OK) {
    nb_log_err("name-service: bad engine configuration: %s",
               diag.field != NULL ? diag.field : "?");
    return UV_EINVAL;
  }
  int rc = uv_timer_init(d->loop, &s->timer);
  s->timer_init = rc == 0;
  s->timer.data = s;
  if (rc == 0) {
    rc = uv_check_init(d->loop, &s->check);
    s->check_init = rc == 0;
    s->check.data = s;
  }
  if (rc == 0) {
    rc = uv_check_start(&s->check, on_check);
  }
  if (rc == 0) {
    rc = open_sockets(s);
  }
  if (rc == 0) {
    add_names(s);
    sync_now(s);
  }
  return rc;
}

static void ns_stop(void *self) {
  nb_svc_ns_t *s = self;
  if (s->node == NULL || s->stopping) {
    return;
  }
  s->stopping = true;
  nb_nsnode_shutdown(s->node, now_ms(s));
  sync_now(s);
}

static bool ns_done(const void *self) {
  const nb_svc_ns_t *s = self;
  if (s->node != NULL && !nb_nsnode_done(s->node)) {
    return false;
  }
  for (size_t i = 0; i < s->n_out; i++) {
    if (!nb_udp_out_idle(&s->out[i])) {
      return false;
    }
  }
  return true;
}

static void ns_close(void *self) {
  nb_svc_ns_t *s = self;
  for (size_t i = 0; i < s->n_socks; i++) {
    ns_sock_t *sock = &s->socks[i];
    nb_udp_poller_close(&sock->rd);
    if (!uv_is_closing((uv_handle_t *)&sock->udp)) {
      uv_close((uv_handle_t *)&sock->udp, NULL);
    }
  }
  if (s->timer_init && !uv_is_closing((uv_handle_t *)&s->timer)) {
    uv_close((uv_handle_t *)&s->timer, NULL);
  }
  if (s->check_init && !uv_is_closing((uv_handle_t *)&s->check)) {
    uv_close((uv_handle_t *)&s->check, NULL);
  }
}

/* ---- reports ------------------------------------------------------------
 */

#define COUNTER_LIST(XX)                                                       \
  XX(rx_packets)                                                               \
  XX(rx_dropped)                                                               \
  XX(tx_queued)                                                                \
  XX(tx_sent)                                                                  \
  XX(tx_queue_full)                                                            \
  XX(events_dropped)                                                           \
  XX(answers_positive)                                                         \
  XX(answers_negative)                                                         \
  XX(status_answers)                                                           \
  XX(defences)                                                                 \
  XX(rate_limited)                                                             \
  XX(retransmits)

#define UDP_LIST(XX)                                                           \
  XX(rx)                                                                       \
  XX(rx_truncated)                                                             \
  XX(rx_errors)                                                                \
  XX(tx)                                                                       \
  XX(tx_syscalls)                                                              \
  XX(tx_queued)                                                                \
  XX(tx_dropped)                                                               \
  XX(tx_errors)

static void report_text(const nb_svc_ns_t *s, nb_sbuf_t *out) {
  const nb_nsnode_counters_t *c = nb_nsnode_counters(s->node);
#define TEXT_(f)                                                               \
  nb_sbuf_printf(out, "name-service.%s %llu\n", #f, (unsigned long long)c->f);
  COUNTER_LIST(TEXT_)
#undef TEXT_
  for (int r = 0; r < NB_NSNODE_DROP__COUNT; r++) {
    nb_sbuf_printf(out, "name-service.drop.%s %llu\n",
                   nb_nsnode_drop_name((nb_nsnode_drop_t)r),
                   (unsigned long long)c->drop[r]);
  }
#define UTEXT_(f)                                                              \
  nb_sbuf_printf(out, "name-service.udp.%s %llu\n", #f,                        \
                 (unsigned long long)s->udp.f);
  UDP_LIST(UTEXT_)
#undef UTEXT_
  nb_lbcast_report_text(&s->lbcast, out);
  for (size_t i = 0; i < s->n_names; i++) {
    char t[NB_NAME_TEXT_MAX];
    const ns_name_t *r = &s->names[i];
    nb_sbuf_printf(out, "name-service.name %s %s %s\n",
                   text(&r->name, t, sizeof t), r->group ? "group" : "unique",
                   state_names[r->state]);
  }
}

static void report_json_name(nb_sbuf_t *out, const ns_name_t *r) {
  char t[NB_NAME_TEXT_MAX];
  char a[16];
  size_t len = nb_name_to_text(&r->name, t, sizeof t);
  nb_sbuf_printf(out, "{\"name\":");
  nb_sbuf_json_str(out, t, len < sizeof t ? len : sizeof t - 1);
  nb_sbuf_printf(out, ",\"group\":%s,\"state\":\"%s\"",
                 r->group ? "true" : "false", state_names[r->state]);
  if (r->state == NS_REFUSED || r->state == NS_CONFLICT) {
    nb_sbuf_printf(out, ",\"peer\":\"%s\"", nb_udp_ntoa(r->peer, a));
  }
  if (r->state == NS_REFUSED && r->owner != 0) {
    nb_sbuf_printf(out, ",\"owner\":\"%s\"", nb_udp_ntoa(r->owner, a));
  }
  if (r->state == NS_REFUSED) {
    nb_sbuf_printf(out, ",\"rcode\":%u", r->rcode);
  }
  nb_sbuf_printf(out, "}");
}

static void report_json(const nb_svc_ns_t *s, nb_sbuf_t *out) {
  const nb_nsnode_counters_t *c = nb_nsnode_counters(s->node);
  const char *sep = "";
  nb_sbuf_printf(out, "{\"counters\":{");
#define JSON_(f)                                                               \
  nb_sbuf_printf(out, "%s\"%s\":%llu", sep, #f, (unsigned long long)c->f);     \
  sep = ",";
  COUNTER_LIST(JSON_)
#undef JSON_
  nb_sbuf_printf(out, "},\"drop\":{");
  for (int r = 0; r < NB_NSNODE_DROP__COUNT; r++) {
    nb_sbuf_printf(out, "%s\"%s\":%llu", r > 0 ? "," : "",
                   nb_nsnode_drop_name((nb_nsnode_drop_t)r),
                   (unsigned long long)c->drop[r]);
  }
  sep = "";
  nb_sbuf_printf(out, "},\"udp\":{");
#define UJSON_(f)                                                              \
  nb_sbuf_printf(out, "%s\"%s\":%llu", sep, #f, (unsigned long long)s->udp.f); \
  sep = ",";
  UDP_LIST(UJSON_)
#undef UJSON_
  nb_sbuf_printf(out, "},");
  nb_lbcast_report_json(&s->lbcast, s->d, out);
  nb_sbuf_printf(out, ",\"names\":[");
  for (size_t i = 0; i < s->n_names; i++) {
    nb_sbuf_printf(out, "%s", i > 0 ? "," : "");
    report_json_name(out, &s->names[i]);
  }
  nb_sbuf_printf(out, "]}");
}

static void ns_report(const void *self, nb_sbuf_t *out, nb_report_fmt_t fmt) {
  const nb_svc_ns_t *s = self;
  if (s->node == NULL) {
    nb_sbuf_printf(out, "%s", fmt == NB_REPORT_JSON ? "null" : "");
    return;
  }
  if (fmt == NB_REPORT_JSON) {
    report_json(s, out);
  } else {
    report_text(s, out);
  }
}

/* ---- issue 8: hooks for the datagram service (see svc_ns.h) ----------
 */

void nb_svc_ns_observe(nb_svc_ns_t *s, nb_svc_ns_observer_fn fn, void *ctx) {
  s->observer = fn;
  s->observer_ctx = ctx;
}

nb_nsnode_t *nb_svc_ns_node(nb_svc_ns_t *s) { return s->node; }

/* As sync_now() without the poke: the caller is inside its own callback,
 * and a stop is checked once per loop iteration anyway. */
void nb_svc_ns_sync(nb_svc_ns_t *s) {
  if (s->node == NULL) {
    return;
  }
  drain(s);
  flush_all(s);
  rearm(s);
}

const nb_service_ops_t nb_svc_ns_ops = {
    "name-service", ns_start, ns_stop, ns_done, ns_close, ns_report,
};
