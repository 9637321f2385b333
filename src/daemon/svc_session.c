/* SPDX-License-Identifier: BSD-2-Clause */
#include "svc_session.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "nb/ssnsrv.h"
#include "udp.h"

#define SSN_BACKLOG 511
#define SSN_POOL_MAX 64 /* idle buffers kept for reuse */
#define SSN_ACCEPT_SLACK                                                       \
  64 /* connections over the limit that still get                              \
        their 0x83 answer; beyond, closed at once */
#define SSN_OWN_MAX (3 * (1 + NB_CONFIG_MAX_ALIASES))

enum { CLI = NB_SSNSRV_CLIENT, BAK = NB_SSNSRV_BACKEND };

typedef struct conn conn_t;

typedef struct {
  uv_tcp_t tcp;
  nb_svc_ssn_t *svc;
  bool init;
} listener_t;

struct conn {
  conn_t *prev;
  conn_t *next;
  nb_svc_ssn_t *svc;
  uv_tcp_t sock[2]; /* [CLI], [BAK]; data = this */
  bool sock_init[2];
  bool connected[2];
  bool reading[2];
  bool writing[2]; /* a uv_write of wlen bytes is in flight */
  size_t wlen[2];
  bool shut_want[2];
  bool shut_sent[2];
  uv_write_t wreq[2];
  uv_shutdown_t sreq[2];
  uv_connect_t creq;
  uv_timer_t timer;
  bool timer_init;
  uint64_t armed;
  bool closing;
  int open_handles;
  bool busy;
  uint32_t peer;
  uint16_t peer_port;
  nb_ssnsrv_t eng;
};

#define COUNTER_LIST(XX)                                                       \
  XX(accepted)                                                                 \
  XX(dropped_at_accept)                                                        \
  XX(established)                                                              \
  XX(refused)                                                                  \
  XX(retargeted)                                                               \
  XX(backend_connects)                                                         \
  XX(bytes_to_client)                                                          \
  XX(bytes_to_backend)                                                         \
  XX(msgs_to_client)                                                           \
  XX(msgs_to_backend)                                                          \
  XX(keepalives_in)                                                            \
  XX(keepalives_out)                                                           \
  XX(big_msgs)                                                                 \
  XX(read_stops)                                                               \
  XX(try_writes)                                                               \
  XX(async_writes)                                                             \
  XX(bufs_allocated)                                                           \
  XX(peak_sessions)                                                            \
  XX(peak_bufs)

typedef struct {
#define FIELD_(f) uint64_t f;
  COUNTER_LIST(FIELD_)
#undef FIELD_
  uint64_t neg[256]; /* negative responses by code */
  uint64_t ends[NB_SSNSRV_END__COUNT];
} counters_t;

struct nb_svc_ssn {
  nb_daemon_t *d;
  bool enabled;
  bool stopping;
  nb_ssnsrv_config_t ecfg;
  nb_ssnsrv_route_t routes[NB_CONFIG_MAX_ROUTES];
  nb_name_t own[SSN_OWN_MAX];
  listener_t lis[NB_DAEMON_MAX_IFACES];
  size_t n_lis;
  conn_t *conns;
  size_t n_conns;
  size_t active; /* engines not started busy */
  size_t limit;
  uint8_t *pool[SSN_POOL_MAX];
  size_t n_pool;
  size_t buf_cap;
  size_t bufs_out;
  counters_t c;
};

nb_svc_ssn_t *nb_svc_ssn_new(void) { return calloc(1, sizeof(nb_svc_ssn_t)); }

void nb_svc_ssn_free(nb_svc_ssn_t *s) {
  if (s != NULL) {
    for (size_t i = 0; i < s->n_pool; i++) {
      free(s->pool[i]);
    }
    free(s);
  }
}

static uint64_t now_ms(const nb_svc_ssn_t *s) { return uv_now(s->d->loop); }

/* ---- buffer pool -------------------------------------------------------
 */

static uint8_t *pool_get(nb_svc_ssn_t *s) {
  uint8_t *p = NULL;
  if (s->n_pool > 0) {
    p = s->pool[--s->n_pool];
  } else if ((p = malloc(s->buf_cap)) != NULL) {
    s->c.bufs_allocated++;
  }
  if (p != NULL) {
    s->bufs_out++;
    if (s->bufs_out > s->c.peak_bufs) {
      s->c.peak_bufs = s->bufs_out;
    }
  }
  return p;
}

static void pool_put(nb_svc_ssn_t *s, uint8_t *p) {
  if (p == NULL) {
    return;
  }
  s->bufs_out--;
  if (s->n_pool < SSN_POOL_MAX) {
    s->pool[s->n_pool++] = p;
  } else {
    free(p);
  }
}

/* ---- per-connection ----------------------------------------------------
 */

static void pump(conn_t *c);

static int side_of(const conn_t *c, const uv_handle_t *h) {
  return h == (const uv_handle_t *)&c->sock[BAK] ? BAK : CLI;
}

static void add_counters(counters_t *t, const nb_ssnsrv_counters_t *e) {
  t->bytes_to_client += e->bytes[CLI];
  t->bytes_to_backend += e->bytes[BAK];
  t->msgs_to_client += e->msgs[CLI];
  t->msgs_to_backend += e->msgs[BAK];
  t->keepalives_in += e->keepalives_in;
  t->keepalives_out += e->keepalives_out;
  t->big_msgs += e->big_msgs;
  t->read_stops += e->read_stops;
}

/* Every handle closed: give the buffers back, forget the connection. */
static void finish(conn_t *c) {
  nb_svc_ssn_t *s = c->svc;
  for (int to = 0; to < 2; to++) {
    pool_put(s, nb_ssnsrv_detach(&c->eng, (nb_ssnsrv_side_t)to));
  }
  if (c->prev != NULL) {
    c->prev->next = c->next;
  } else {
    s->conns = c->next;
  }
  if (c->next != NULL) {
    c->next->prev = c->prev;
  }
  s->n_conns--;
  if (!c->busy) {
    s->active--;
  }
  free(c);
  if (s->stopping) {
    nb_daemon_poke(s->d);
  }
}

static void on_close(uv_handle_t *h) {
  conn_t *c = h->data;
  if (--c->open_handles == 0) {
    finish(c);
  }
}

static void close_handle(conn_t *c, uv_handle_t *h, bool reset) {
  c->open_handles++;
  if (reset && h->type == UV_TCP &&
      uv_tcp_close_reset((uv_tcp_t *)h, on_close) == 0) {
    return;
  }
  uv_close(h, on_close);
}

static void log_end(const conn_t *c, nb_ssnsrv_end_t end) {
  char a[16];
  char t[NB_NAME_TEXT_MAX];
  if (!nb_log_enabled(NB_LOG_INFO)) {
    return;
  }
  nb_name_to_text(&c->eng.called, t, sizeof t);
  nb_log_info("session %s:%u %s: ended (%s), %llu bytes to the client, "
              "%llu to the backend",
              nb_udp_ntoa(c->peer, a), c->peer_port, t, nb_ssnsrv_end_str(end),
              (unsigned long long)c->eng.c.bytes[CLI],
              (unsigned long long)c->eng.c.bytes[BAK]);
}

static void begin_close(conn_t *c, bool reset, nb_ssnsrv_end_t end) {
  if (c->closing) {
    return;
  }
  c->closing = true;
  c->svc->c.ends[end]++;
  add_counters(&c->svc->c, &c->eng.c);
  log_end(c, end);
  for (int i = 0; i < 2; i++) {
    if (c->sock_init[i]) {
      close_handle(c, (uv_handle_t *)&c->sock[i], reset && c->connected[i]);
    }
  }
  if (c->timer_init) {
    close_handle(c, (uv_handle_t *)&c->timer, false);
  }
}

static void on_connect(uv_connect_t *req, int status) {
  conn_t *c = req->data;
  nb_ssnsrv_conn_t r = NB_SSNSRV_CONN_OK;
  if (c->closing) {
    return;
  }
  if (status == 0) {
    c->connected[BAK] = true;
    (void)uv_tcp_nodelay(&c->sock[BAK], 1);
  } else {
    char a[16];
    r = status == UV_ECONNREFUSED ? NB_SSNSRV_CONN_REFUSED
                                  : NB_SSNSRV_CONN_FAILED;
    nb_log_info("session %s:%u: backend connect failed: %s",
                nb_udp_ntoa(c->peer, a), c->peer_port, uv_strerror(status));
  }
  nb_ssnsrv_connected(&c->eng, r, now_ms(c->svc));
  pump(c);
}

static void start_backend(conn_t *c, uint32_t addr, uint16_t port) {
  struct sockaddr_in sa;
  char a[16];
  char t[NB_NAME_TEXT_MAX];
  int rc = uv_tcp_init(c->svc->d->loop, &c->sock[BAK]);
  c->svc->c.backend_connects++;
  if (rc == 0) {
    c->sock_init[BAK] = true;
    c->sock[BAK].data = c;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(addr);
    c->creq.data = c;
    rc = uv_tcp_connect(&c->creq, &c->sock[BAK], (struct sockaddr *)&sa,
                        on_connect);
  }
  nb_name_to_text(&c->eng.called, t, sizeof t);
  nb_log_debug("session %s:%u %s: connecting to %s:%u", nb_udp_ntoa(c->peer, a),
               c->peer_port, t, nb_udp_ntoa(addr, a), port);
  if (rc != 0) {
    nb_ssnsrv_connected(&c->eng, NB_SSNSRV_CONN_FAILED, now_ms(c->svc));
  }
}

static void on_refused(conn_t *c, const nb_ssnsrv_event_t *ev) {
  char a[16];
  char b[16];
  char t[NB_NAME_TEXT_MAX];
  nb_name_to_text(&c->eng.called, t, sizeof t);
  if (ev->code != 0) {
    c->svc->c.refused++;
    c->svc->c.neg[ev->code]++;
    nb_log_info("session %s:%u %s: negative response 0x%02x (%s)",
                nb_udp_ntoa(c->peer, a), c->peer_port, t, ev->code,
                nb_ssn_neg_text(ev->code));
  } else {
    c->svc->c.retargeted++;
    nb_log_info("session %s:%u %s: retarget to %s:%u", nb_udp_ntoa(c->peer, a),
                c->peer_port, t, nb_udp_ntoa(ev->addr, b), ev->port);
  }
}

/* Act on what the engine asks for. */
static void drain_events(conn_t *c) {
  nb_ssnsrv_event_t ev;
  while (!c->closing && nb_ssnsrv_next_event(&c->eng, &ev)) {
    switch (ev.kind) {
    case NB_SSNSRV_EV_CONNECT:
      start_backend(c, ev.addr, ev.port);
      break;
    case NB_SSNSRV_EV_ESTABLISHED:
      c->svc->c.established++;
      break;
    case NB_SSNSRV_EV_REFUSED:
      on_refused(c, &ev);
      break;
    case NB_SSNSRV_EV_SHUTDOWN:
      c->shut_want[ev.side] = true;
      break;
    case NB_SSNSRV_EV_CLOSE:
      begin_close(c, ev.reset, ev.end);
      break;
    }
  }
}

static void on_write(uv_write_t *req, int status) {
  conn_t *c = req->data;
  int side = req == &c->wreq[BAK] ? BAK : CLI;
  c->writing[side] = false;
  if (c->closing) {
    return;
  }
  if (status < 0) {
    nb_ssnsrv_reset(&c->eng, (nb_ssnsrv_side_t)side, now_ms(c->svc));
  } else {
    nb_ssnsrv_advance(&c->eng, (nb_ssnsrv_side_t)side, c->wlen[side],
                      now_ms(c->svc));
  }
  pump(c);
}

/* Write what the engine holds for `side`: uv_try_write first (no copy, no
 * request), uv_write for what the kernel did not take (the engine keeps
 * those bytes in place until on_write). True when bytes moved. */
static bool write_side(conn_t *c, nb_ssnsrv_side_t side) {
  bool moved = false;
  const uint8_t *p = NULL;
  size_t n;
  if (!c->connected[side] || c->writing[side] || c->shut_sent[side]) {
    return false;
  }
  while (!c->closing && (n = nb_ssnsrv_pending(&c->eng, side, &p)) > 0) {
    uv_buf_t b = uv_buf_init((char *)(uintptr_t)p, (unsigned)n);
    int r = uv_try_write((uv_stream_t *)&c->sock[side], &b, 1);
    c->svc->c.try_writes++;
    if (r > 0) {
      nb_ssnsrv_advance(&c->eng, side, (size_t)r, now_ms(c->svc));
      moved = true;
      if ((size_t)r == n) {
        continue;
      }
      n = nb_ssnsrv_pending(&c->eng, side, &p);
      b = uv_buf_init((char *)(uintptr_t)p, (unsigned)n);
    } else if (r != UV_EAGAIN) {
      nb_ssnsrv_reset(&c->eng, side, now_ms(c->svc));
      return true;
    }
    c->wreq[side].data = c;
    c->wlen[side] = n;
    if (uv_write(&c->wreq[side], (uv_stream_t *)&c->sock[side], &b, 1,
                 on_write) != 0) {
      nb_ssnsrv_reset(&c->eng, side, now_ms(c->svc));
      return true;
    }
    c->writing[side] = true;
    c->svc->c.async_writes++;
    break;
  }
  return moved;
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  (void)req;
  (void)status; /* a failed FIN shows up as a read error or EOF */
}

static void do_shutdowns(conn_t *c) {
  for (int i = 0; i < 2; i++) {
    if (c->shut_want[i] && !c->shut_sent[i] && !c->writing[i] &&
        c->connected[i]) {
      c->shut_sent[i] = true;
      c->sreq[i].data = c;
      (void)uv_shutdown(&c->sreq[i], (uv_stream_t *)&c->sock[i], on_shutdown);
    }
  }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  conn_t *c = h->data;
  int from = side_of(c, h);
  nb_ssnsrv_side_t to = from == CLI ? NB_SSNSRV_BACKEND : NB_SSNSRV_CLIENT;
  size_t cap = 0;
  uint8_t *p = NULL;
  (void)suggested;
  if (!nb_ssnsrv_has_buf(&c->eng, to)) {
    uint8_t *mem = pool_get(c->svc);
    if (mem != NULL) {
      nb_ssnsrv_attach(&c->eng, to, mem, c->svc->buf_cap);
    }
  }
  p = nb_ssnsrv_read_buf(&c->eng, (nb_ssnsrv_side_t)from, &cap);
  *buf = uv_buf_init((char *)p, (unsigned)cap);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  conn_t *c = st->data;
  int side = side_of(c, (uv_handle_t *)st);
  uint64_t now = now_ms(c->svc);
  (void)buf;
  if (c->closing || nread == 0) {
    return;
  }
  if (nread > 0) {
    nb_ssnsrv_read_done(&c->eng, (nb_ssnsrv_side_t)side, (size_t)nread, now);
  } else if (nread == UV_EOF) {
    (void)uv_read_stop(st);
    c->reading[side] = false;
    nb_ssnsrv_eof(&c->eng, (nb_ssnsrv_side_t)side, now);
  } else if (nread == UV_ENOBUFS) {
    (void)uv_read_stop(st); /* no room: pump() restarts when there is */
    c->reading[side] = false;
  } else {
    nb_ssnsrv_reset(&c->eng, (nb_ssnsrv_side_t)side, now);
  }
  pump(c);
}

static void update_reads(conn_t *c) {
  for (int i = 0; i < 2; i++) {
    bool want =
        c->connected[i] && nb_ssnsrv_want_read(&c->eng, (nb_ssnsrv_side_t)i);
    if (want && !c->reading[i]) {
      c->reading[i] =
          uv_read_start((uv_stream_t *)&c->sock[i], on_alloc, on_read) == 0;
    } else if (!want && c->reading[i]) {
      (void)uv_read_stop((uv_stream_t *)&c->sock[i]);
      c->reading[i] = false;
    }
  }
}

/* Buffers go back to the pool as soon as a direction holds nothing. */
static void release_bufs(conn_t *c) {
  for (int i = 0; i < 2; i++) {
    nb_ssnsrv_side_t to = (nb_ssnsrv_side_t)i;
    if (!c->writing[i] && nb_ssnsrv_has_buf(&c->eng, to) &&
        nb_ssnsrv_held(&c->eng, to) == 0) {
      pool_put(c->svc, nb_ssnsrv_detach(&c->eng, to));
    }
  }
}

static void on_timer(uv_timer_t *t) {
  conn_t *c = t->data;
  c->armed = UINT64_MAX;
  nb_ssnsrv_on_timer(&c->eng, now_ms(c->svc));
  pump(c);
}

static void rearm(conn_t *c) {
  uint64_t dl = nb_ssnsrv_next_deadline(&c->eng);
  uint64_t now = now_ms(c->svc);
  if (dl == c->armed) {
    return;
  }
  c->armed = dl;
  if (dl == UINT64_MAX) {
    (void)uv_timer_stop(&c->timer);
  } else {
    (void)uv_timer_start(&c->timer, on_timer, dl > now ? dl - now : 0, 0);
  }
}

/* After anything happened: act on events, write, then set reads, buffers
 * and the timer from the engine's state. */
static void pump(conn_t *c) {
  for (int round = 0; round < 16 && !c->closing; round++) {
    drain_events(c);
    bool moved = write_side(c, NB_SSNSRV_CLIENT);
    moved = write_side(c, NB_SSNSRV_BACKEND) || moved;
    if (!moved) {
      break;
    }
  }
  drain_events(c);
  if (c->closing) {
    return;
  }
  do_shutdowns(c);
  update_reads(c);
  release_bufs(c);
  rearm(c);
}

/* ---- accepting ---------------------------------------------------------
 */

static void peer_of(conn_t *c) {
  struct sockaddr_storage ss;
  int len = sizeof ss;
  if (uv_tcp_getpeername(&c->sock[CLI], (struct sockaddr *)&ss, &len) == 0 &&
      ss.ss_family == AF_INET) {
    const struct sockaddr_in *sin = (const struct sockaddr_in *)(void *)&ss;
    c->peer = ntohl(sin->sin_addr.s_addr);
    c->peer_port = ntohs(sin->sin_port);
  }
}

static void link_conn(nb_svc_ssn_t *s, conn_t *c) {
  c->next = s->conns;
  if (s->conns != NULL) {
    s->conns->prev = c;
  }
  s->conns = c;
  s->n_conns++;
  if (!c->busy) {
    s->active++;
    if (s->active > s->c.peak_sessions) {
      s->c.peak_sessions = s->active;
    }
  }
}

static void on_connection(uv_stream_t *server, int status) {
  listener_t *l = server->data;
  nb_svc_ssn_t *s = l->svc;
  conn_t *c = status == 0 ? calloc(1, sizeof *c) : NULL;
  if (c == NULL) {
    return;
  }
  c->svc = s;
  c->armed = UINT64_MAX;
  c->sock[CLI].data = c;
  c->timer.data = c;
  if (uv_tcp_init(s->d->loop, &c->sock[CLI]) != 0) {
    free(c);
    return;
  }
  c->sock_init[CLI] = true;
  c->busy = s->active >= s->limit;
  link_conn(s, c);
  s->c.accepted++;
  if (uv_accept(server, (uv_stream_t *)&c->sock[CLI]) != 0 ||
      s->n_conns > s->limit + SSN_ACCEPT_SLACK || s->stopping) {
    s->c.dropped_at_accept++;
    begin_close(c, false, NB_SSNSRV_END_ABORTED);
    return;
  }
  c->connected[CLI] = true;
  (void)uv_tcp_nodelay(&c->sock[CLI], 1);
  peer_of(c);
  c->timer_init = uv_timer_init(s->d->loop, &c->timer) == 0;
  (void)nb_ssnsrv_init(&c->eng, &s->ecfg, c->busy, now_ms(s));
  pump(c);
}

/* ---- the service -------------------------------------------------------
 */

static void upcase_name(nb_name_t *n, const char *scope) {
  for (size_t j = 0; j < NB_NAME_CHARS; j++) {
    if (n->bytes[j] >= 'a' && n->bytes[j] <= 'z') {
      n->bytes[j] = (uint8_t)(n->bytes[j] - 'a' + 'A');
    }
  }
  if (n->scope_len == 0 && scope[0] != '\0') {
    (void)nb_name_set_scope(n, scope, strlen(scope), NULL);
  }
}

/* Routes in the node's scope; own names (<00> <03> <20> of the name and
 * each alias) so that an unrouted own name is answered 0x80. */
static void engine_config(nb_svc_ssn_t *s) {
  const nb_config_t *c = s->d->cfg;
  static const uint8_t sfx[] = {0x00, 0x03, 0x20};
  size_t n = 0;
  nb_ssnsrv_config_init(&s->ecfg);
  for (size_t i = 0; i < c->n_routes; i++) {
    s->routes[i] = c->routes[i];
    upcase_name(&s->routes[i].name, c->scope);
  }
  for (size_t a = 0; a <= c->n_aliases; a++) {
    const char *nm = a == 0 ? c->name.s : c->aliases[a - 1].s;
    for (size_t k = 0; k < 3 && n < SSN_OWN_MAX; k++) {
      if (nb_name_make(&s->own[n], nm, strlen(nm), sfx[k], c->scope) == NB_OK) {
        n++;
      }
    }
  }
  s->ecfg.routes = s->routes;
  s->ecfg.n_routes = c->n_routes;
  s->ecfg.own = s->own;
  s->ecfg.n_own = n;
  s->ecfg.request_timeout_ms = c->request_timeout_s * 1000u;
  s->ecfg.connect_timeout_ms = c->connect_timeout_s * 1000u;
  s->ecfg.idle_timeout_ms = c->idle_timeout_s * 1000u;
  s->ecfg.keepalive_ms = c->keepalive_s * 1000u;
  s->ecfg.buf_high = c->buffer_high;
  s->ecfg.buf_low = c->buffer_low;
  s->buf_cap = (size_t)c->buffer_high + NB_SSNSRV_READ_MAX;
  s->limit = c->session_limit;
}

static void log_routes(const nb_svc_ssn_t *s) {
  char t[NB_SSNSRV_ROUTE_TEXT_MAX];
  for (size_t i = 0; i < s->ecfg.n_routes; i++) {
    nb_ssnsrv_route_to_text(&s->routes[i], t, sizeof t);
    nb_log_notice("session: route %s", t);
  }
}

static int open_listener(nb_svc_ssn_t *s, uint32_t ip, uint16_t port) {
  listener_t *l = &s->lis[s->n_lis];
  struct sockaddr_in sa;
  char a[16];
  int rc = uv_tcp_init(s->d->loop, &l->tcp);
  if (rc != 0) {
    return rc;
  }
  l->init = true;
  l->svc = s;
  l->tcp.data = l;
  s->n_lis++;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(ip);
  rc = uv_tcp_bind(&l->tcp, (struct sockaddr *)&sa, 0);
  if (rc == 0) {
    rc = uv_listen((uv_stream_t *)&l->tcp, SSN_BACKLOG, on_connection);
  }
  if (rc != 0) {
    nb_log_err("session: cannot listen on %s:%u: %s", nb_udp_ntoa(ip, a), port,
               uv_strerror(rc));
  } else {
    nb_log_info("session: listening on %s:%u", nb_udp_ntoa(ip, a), port);
  }
  return rc;
}

static int ssn_start(void *self, nb_daemon_t *d) {
  nb_svc_ssn_t *s = self;
  s->d = d;
  if (d->cfg->n_routes == 0) {
    return 0; /* no routes: no session service */
  }
  if (d->cfg->buffer_low > d->cfg->buffer_high) {
    nb_log_err("session: buffer-low (%u) above buffer-high (%u)",
               d->cfg->buffer_low, d->cfg->buffer_high);
    return UV_EINVAL;
  }
  /* A peer that vanished mid-write must be an EPIPE for libuv's write(),
   * not a SIGPIPE that kills the daemon (found by the lab's "backend
   * killed mid-transfer" test). Process-wide, as every TCP service needs
   * it. */
  (void)signal(SIGPIPE, SIG_IGN);
  engine_config(s);
  s->enabled = true;
  log_routes(s);
  for (size_t i = 0; i < d->n_ifaces; i++) {
    int rc = open_listener(s, d->ifaces[i].ip, d->cfg->session_port);
    if (rc != 0) {
      return rc;
    }
  }
  return 0;
}

static void close_listeners(nb_svc_ssn_t *s) {
  for (size_t i = 0; i < s->n_lis; i++) {
    if (s->lis[i].init && !uv_is_closing((uv_handle_t *)&s->lis[i].tcp)) {
      uv_close((uv_handle_t *)&s->lis[i].tcp, NULL);
    }
  }
}

/* Stop: no new connections; every session ends (FIN both ways). */
static void ssn_stop(void *self) {
  nb_svc_ssn_t *s = self;
  s->stopping = true;
  close_listeners(s);
  for (conn_t *c = s->conns, *next = NULL; c != NULL; c = next) {
    next = c->next;
    if (!c->closing) {
      nb_ssnsrv_abort(&c->eng, false);
      pump(c);
    }
  }
}

static bool ssn_done(const void *self) {
  const nb_svc_ssn_t *s = self;
  return s->n_conns == 0;
}

static void ssn_close(void *self) {
  nb_svc_ssn_t *s = self;
  s->stopping = true;
  close_listeners(s);
  for (conn_t *c = s->conns; c != NULL; c = c->next) {
    if (!c->closing) {
      nb_ssnsrv_abort(&c->eng, true);
      begin_close(c, true, NB_SSNSRV_END_ABORTED);
    }
  }
}

/* ---- reports -----------------------------------------------------------
 */

/* Totals: ended sessions plus the live ones. */
static void totals(const nb_svc_ssn_t *s, counters_t *t) {
  *t = s->c;
  for (const conn_t *c = s->conns; c != NULL; c = c->next) {
    if (!c->closing) {
      add_counters(t, &c->eng.c);
    }
  }
}

static void report_text(const nb_svc_ssn_t *s, nb_sbuf_t *out) {
  counters_t t;
  totals(s, &t);
  nb_sbuf_printf(out, "session.sessions %zu\nsession.connections %zu\n",
                 s->active, s->n_conns);
  nb_sbuf_printf(out, "session.buffers_in_use %zu\n", s->bufs_out);
#define TEXT_(f)                                                               \
  nb_sbuf_printf(out, "session.%s %llu\n", #f, (unsigned long long)t.f);
  COUNTER_LIST(TEXT_)
#undef TEXT_
  for (int k = 0; k < 256; k++) {
    if (t.neg[k] != 0) {
      nb_sbuf_printf(out, "session.negative.0x%02x %llu\n", k,
                     (unsigned long long)t.neg[k]);
    }
  }
  for (int e = 0; e < NB_SSNSRV_END__COUNT; e++) {
    nb_sbuf_printf(out, "session.end.%s %llu\n",
                   nb_ssnsrv_end_name((nb_ssnsrv_end_t)e),
                   (unsigned long long)t.ends[e]);
  }
}

static void report_json(const nb_svc_ssn_t *s, nb_sbuf_t *out) {
  counters_t t;
  const char *sep = "";
  totals(s, &t);
  nb_sbuf_printf(out,
                 "{\"sessions\":%zu,\"connections\":%zu,\"buffers_in_use\":%zu"
                 ",\"counters\":{",
                 s->active, s->n_conns, s->bufs_out);
#define JSON_(f)                                                               \
  nb_sbuf_printf(out, "%s\"%s\":%llu", sep, #f, (unsigned long long)t.f);      \
  sep = ",";
  COUNTER_LIST(JSON_)
#undef JSON_
  nb_sbuf_printf(out, "},\"negative\":{");
  sep = "";
  for (int k = 0; k < 256; k++) {
    if (t.neg[k] != 0) {
      nb_sbuf_printf(out, "%s\"0x%02x\":%llu", sep, k,
                     (unsigned long long)t.neg[k]);
      sep = ",";
    }
  }
  nb_sbuf_printf(out, "},\"end\":{");
  for (int e = 0; e < NB_SSNSRV_END__COUNT; e++) {
    nb_sbuf_printf(out, "%s\"%s\":%llu", e > 0 ? "," : "",
                   nb_ssnsrv_end_name((nb_ssnsrv_end_t)e),
                   (unsigned long long)t.ends[e]);
  }
  nb_sbuf_printf(out, "}}");
}

static void ssn_report(const void *self, nb_sbuf_t *out, nb_report_fmt_t fmt) {
  const nb_svc_ssn_t *s = self;
  if (!s->enabled) {
    nb_sbuf_printf(out, "%s", fmt == NB_REPORT_JSON ? "null" : "");
    return;
  }
  if (fmt == NB_REPORT_JSON) {
    report_json(s, out);
  } else {
    report_text(s, out);
  }
}

const nb_service_ops_t nb_svc_ssn_ops = {
    "session", ssn_start, ssn_stop, ssn_done, ssn_close, ssn_report,
};
