/* SPDX-License-Identifier: BSD-2-Clause */
/* The session service's shell (see svc_session.h). Per connection: the
 * engine (nb/ssnsrv.h) and, per side, a raw socket watched by a uv_poll_t.
 * The shell does its own I/O so that it can choose, for every read, between
 *  - read(2) into the engine's buffer (headers, control packets, small
 *    messages: the engine frames them in place), and
 *  - splice(2) socket -> pipe -> socket for the rest of a message body the
 *    engine lets pass (nb_ssnsrv_passthrough()): zero copy, the bytes never
 *    enter user space (the benchmark's splice proxy is the yardstick).
 * Order toward a side: the pipe first (its bytes came first), then what
 * the engine holds; FIN only when both are empty. Pipes and buffers are
 * pooled and held only while bytes are in them. */
#include "svc_session.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "nb/ssnsrv.h"
#include "udp.h"

#define SSN_BACKLOG 511
#define SSN_POOL_MAX 64 /* idle buffers and pipes kept for reuse */
#define SSN_ACCEPT_SLACK                                                       \
  64 /* connections over the limit that still get                              \
        their 0x83 answer; beyond, closed at once */
#define SSN_OWN_MAX (3 * (1 + NB_CONFIG_MAX_ALIASES))
#define SSN_PIPE_CAP (256 * 1024) /* bytes a pipe may hold */
#define SSN_READ_SMALL                                                         \
  (16 * 1024) /* a read at a packet boundary: headers                          \
                 and small messages, not bodies */
#define SSN_READS_PER_EVENT 16

enum { CLI = NB_SSNSRV_CLIENT, BAK = NB_SSNSRV_BACKEND };

typedef struct conn conn_t;

typedef struct {
  uv_tcp_t tcp;
  nb_svc_ssn_t *svc;
  bool init;
} listener_t;

/* One side's socket. */
typedef struct {
  int fd;         /* -1: none */
  uv_poll_t poll; /* data = the conn */
  bool poll_init;
  int events; /* UV_READABLE | UV_WRITABLE being polled */
  bool connected;
  bool connecting;  /* backend: a non-blocking connect in progress */
  bool eof;         /* FIN received */
  bool out_blocked; /* a write hit EAGAIN: wait for UV_WRITABLE */
  bool shut_want;
  bool shut_sent;
  int pipe[2]; /* spliced bytes on their way to this side; -1 none */
  size_t piped;
} end_t;

struct conn {
  conn_t *prev;
  conn_t *next;
  nb_svc_ssn_t *svc;
  uv_tcp_t acc; /* the accepted client (owns end[CLI].fd; never read) */
  bool acc_init;
  end_t end[2];
  uv_timer_t timer;
  bool timer_init;
  uint64_t armed;
  bool closing;
  bool copy_only; /* no pipe could be had: read/write only */
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
  XX(bytes_spliced)                                                            \
  XX(msgs_to_client)                                                           \
  XX(msgs_to_backend)                                                          \
  XX(keepalives_in)                                                            \
  XX(keepalives_out)                                                           \
  XX(big_msgs)                                                                 \
  XX(read_stops)                                                               \
  XX(reads)                                                                    \
  XX(writes)                                                                   \
  XX(splices)                                                                  \
  XX(bufs_allocated)                                                           \
  XX(pipes_allocated)                                                          \
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
  bool copy_only; /* NBTD_SESSION_COPY set: never splice (benchmarks) */
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
  int pipes[SSN_POOL_MAX][2];
  size_t n_pipes;
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
    for (size_t i = 0; i < s->n_pipes; i++) {
      close(s->pipes[i][0]);
      close(s->pipes[i][1]);
    }
    free(s);
  }
}

static uint64_t now_ms(const nb_svc_ssn_t *s) { return uv_now(s->d->loop); }

/* ---- buffer and pipe pools ---------------------------------------------
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

static bool pipe_get(nb_svc_ssn_t *s, int p[2]) {
  if (s->n_pipes > 0) {
    s->n_pipes--;
    p[0] = s->pipes[s->n_pipes][0];
    p[1] = s->pipes[s->n_pipes][1];
    return true;
  }
  if (pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0) {
    p[0] = p[1] = -1;
    return false;
  }
  (void)fcntl(p[1], F_SETPIPE_SZ, SSN_PIPE_CAP);
  s->c.pipes_allocated++;
  return true;
}

/* An empty pipe goes back to the pool; one with bytes is closed. */
static void pipe_put(nb_svc_ssn_t *s, end_t *e) {
  if (e->pipe[0] < 0) {
    return;
  }
  if (e->piped == 0 && s->n_pipes < SSN_POOL_MAX) {
    s->pipes[s->n_pipes][0] = e->pipe[0];
    s->pipes[s->n_pipes][1] = e->pipe[1];
    s->n_pipes++;
  } else {
    close(e->pipe[0]);
    close(e->pipe[1]);
  }
  e->pipe[0] = e->pipe[1] = -1;
  e->piped = 0;
}

/* ---- closing -----------------------------------------------------------
 */

static void pump(conn_t *c);

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
  for (int i = 0; i < 2; i++) {
    pool_put(s, nb_ssnsrv_detach(&c->eng, (nb_ssnsrv_side_t)i));
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

static void close_handle(conn_t *c, uv_handle_t *h) {
  c->open_handles++;
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

/* RST instead of FIN: SO_LINGER with a zero timeout, then close. */
static void set_reset(int fd) {
  struct linger lg = {1, 0};
  (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

/* The poll handles stop watching at once (uv_close), so the descriptors
 * can be closed right after: the client's by closing its uv_tcp_t. */
static void begin_close(conn_t *c, bool reset, nb_ssnsrv_end_t end) {
  if (c->closing) {
    return;
  }
  c->closing = true;
  c->svc->c.ends[end]++;
  add_counters(&c->svc->c, &c->eng.c);
  log_end(c, end);
  for (int i = 0; i < 2; i++) {
    end_t *e = &c->end[i];
    if (e->poll_init) {
      close_handle(c, (uv_handle_t *)&e->poll);
    }
    pipe_put(c->svc, e);
    if (e->fd >= 0 && reset && e->connected) {
      set_reset(e->fd);
    }
  }
  if (c->end[BAK].fd >= 0) {
    close(c->end[BAK].fd);
    c->end[BAK].fd = -1;
  }
  if (c->acc_init) {
    close_handle(c, (uv_handle_t *)&c->acc);
  }
  if (c->timer_init) {
    close_handle(c, (uv_handle_t *)&c->timer);
  }
}

/* ---- the backend -------------------------------------------------------
 */

static void on_poll(uv_poll_t *h, int status, int events);

static void finish_connect(conn_t *c) {
  end_t *e = &c->end[BAK];
  int err = 0;
  socklen_t len = sizeof err;
  char a[16];
  nb_ssnsrv_conn_t r = NB_SSNSRV_CONN_OK;
  if (getsockopt(e->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
    err = errno;
  }
  e->connecting = false;
  if (err == 0) {
    e->connected = true;
  } else {
    r = err == ECONNREFUSED ? NB_SSNSRV_CONN_REFUSED : NB_SSNSRV_CONN_FAILED;
    nb_log_info("session %s:%u: backend connect failed: %s",
                nb_udp_ntoa(c->peer, a), c->peer_port, strerror(err));
  }
  nb_ssnsrv_connected(&c->eng, r, now_ms(c->svc));
}

static void start_backend(conn_t *c, uint32_t addr, uint16_t port) {
  end_t *e = &c->end[BAK];
  struct sockaddr_in sa;
  int one = 1;
  c->svc->c.backend_connects++;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(addr);
  e->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (e->fd < 0 || uv_poll_init_socket(c->svc->d->loop, &e->poll, e->fd) != 0) {
    nb_ssnsrv_connected(&c->eng, NB_SSNSRV_CONN_FAILED, now_ms(c->svc));
    return;
  }
  e->poll_init = true;
  e->poll.data = c;
  (void)setsockopt(e->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(e->fd, (struct sockaddr *)&sa, sizeof sa) == 0 ||
      errno == EINPROGRESS) {
    e->connecting = true; /* POLLOUT tells (at once when done already) */
    return;
  }
  nb_ssnsrv_connected(&c->eng,
                      errno == ECONNREFUSED ? NB_SSNSRV_CONN_REFUSED
                                            : NB_SSNSRV_CONN_FAILED,
                      now_ms(c->svc));
}

/* ---- events ------------------------------------------------------------
 */

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

/* Act on what the engine asks for. True when there was anything. */
static bool drain_events(conn_t *c) {
  nb_ssnsrv_event_t ev;
  bool any = false;
  while (!c->closing && nb_ssnsrv_next_event(&c->eng, &ev)) {
    any = true;
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
      c->end[ev.side].shut_want = true;
      break;
    case NB_SSNSRV_EV_CLOSE:
      begin_close(c, ev.reset, ev.end);
      break;
    }
  }
  return any;
}

/* ---- writing -----------------------------------------------------------
 */

/* A write that failed: EAGAIN waits for POLLOUT, anything else resets. */
static bool write_failed(conn_t *c, nb_ssnsrv_side_t to) {
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
    c->end[to].out_blocked = true;
    return true;
  }
  nb_ssnsrv_reset(&c->eng, to, now_ms(c->svc));
  return false;
}

/* Everything for `to`: the pipe (its bytes came first), then the engine's
 * bytes, then FIN when asked for and nothing is left. */
static void flush_side(conn_t *c, nb_ssnsrv_side_t to) {
  end_t *e = &c->end[to];
  const uint8_t *p = NULL;
  size_t n;
  if (c->closing || !e->connected || e->out_blocked || e->shut_sent) {
    return;
  }
  while (e->piped > 0) {
    ssize_t w = splice(e->pipe[0], NULL, e->fd, NULL, e->piped,
                       SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    c->svc->c.splices++;
    if (w <= 0) {
      (void)write_failed(c, to);
      return;
    }
    e->piped -= (size_t)w;
  }
  pipe_put(c->svc, e);
  while (!c->closing && (n = nb_ssnsrv_pending(&c->eng, to, &p)) > 0) {
    ssize_t w = send(e->fd, p, n, MSG_NOSIGNAL);
    c->svc->c.writes++;
    if (w < 0) {
      (void)write_failed(c, to);
      return;
    }
    nb_ssnsrv_advance(&c->eng, to, (size_t)w, now_ms(c->svc));
  }
  if (e->shut_want && !c->closing && nb_ssnsrv_held(&c->eng, to) == 0) {
    e->shut_sent = true;
    (void)shutdown(e->fd, SHUT_WR);
  }
}

/* ---- reading -----------------------------------------------------------
 */

/* A read result: bytes, EOF or an error. False: stop reading. */
static bool read_result(conn_t *c, nb_ssnsrv_side_t from, ssize_t n) {
  if (n > 0) {
    return true;
  }
  if (n == 0) {
    c->end[from].eof = true;
    nb_ssnsrv_eof(&c->eng, from, now_ms(c->svc));
  } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    nb_ssnsrv_reset(&c->eng, from, now_ms(c->svc));
  }
  return false;
}

/* splice() the body bytes the engine lets pass into the other side's
 * pipe, and on to the other side. False: stop reading. */
static bool read_splice(conn_t *c, nb_ssnsrv_side_t from, size_t allowed) {
  nb_ssnsrv_side_t to =
      from == NB_SSNSRV_CLIENT ? NB_SSNSRV_BACKEND : NB_SSNSRV_CLIENT;
  end_t *t = &c->end[to];
  if (t->pipe[0] < 0 && !pipe_get(c->svc, t->pipe)) {
    c->copy_only = true;
    return true;
  }
  size_t room = SSN_PIPE_CAP - t->piped;
  if (room == 0) {
    return false; /* the sink is behind: POLLOUT will move it */
  }
  ssize_t n = splice(c->end[from].fd, NULL, t->pipe[1], NULL,
                     allowed < room ? allowed : room,
                     SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  c->svc->c.splices++;
  if (!read_result(c, from, n)) {
    return false;
  }
  t->piped += (size_t)n;
  c->svc->c.bytes_spliced += (uint64_t)n;
  nb_ssnsrv_passed(&c->eng, from, (size_t)n, now_ms(c->svc));
  flush_side(c, to);
  return true;
}

/* read() into the engine's buffer. At a packet boundary only a small read
 * (a header or small messages), so that a large body can be spliced. */
static bool read_copy(conn_t *c, nb_ssnsrv_side_t from) {
  nb_ssnsrv_side_t to =
      from == NB_SSNSRV_CLIENT ? NB_SSNSRV_BACKEND : NB_SSNSRV_CLIENT;
  size_t cap = 0;
  if (!nb_ssnsrv_has_buf(&c->eng, to)) {
    uint8_t *mem = pool_get(c->svc);
    if (mem == NULL) {
      return false;
    }
    nb_ssnsrv_attach(&c->eng, to, mem, c->svc->buf_cap);
  }
  uint8_t *p = nb_ssnsrv_read_buf(&c->eng, from, &cap);
  if (p == NULL) {
    return false;
  }
  if (!c->copy_only && nb_ssnsrv_held(&c->eng, to) == 0 &&
      cap > SSN_READ_SMALL) {
    cap = SSN_READ_SMALL;
  }
  ssize_t n = read(c->end[from].fd, p, cap);
  c->svc->c.reads++;
  if (!read_result(c, from, n)) {
    return false;
  }
  nb_ssnsrv_read_done(&c->eng, from, (size_t)n, now_ms(c->svc));
  flush_side(c, to);
  return (size_t)n == cap; /* a short read: the socket is drained */
}

static void read_side(conn_t *c, nb_ssnsrv_side_t from) {
  for (int i = 0; i < SSN_READS_PER_EVENT && !c->closing; i++) {
    if (!nb_ssnsrv_want_read(&c->eng, from) || c->end[from].eof) {
      return;
    }
    size_t allowed = c->copy_only ? 0 : nb_ssnsrv_passthrough(&c->eng, from);
    bool more =
        allowed > 0 ? read_splice(c, from, allowed) : read_copy(c, from);
    if (!more) {
      return;
    }
  }
}

/* ---- polling -----------------------------------------------------------
 */

static bool want_read(const conn_t *c, nb_ssnsrv_side_t from) {
  nb_ssnsrv_side_t to =
      from == NB_SSNSRV_CLIENT ? NB_SSNSRV_BACKEND : NB_SSNSRV_CLIENT;
  if (!c->end[from].connected || c->end[from].eof ||
      !nb_ssnsrv_want_read(&c->eng, from)) {
    return false;
  }
  /* A body that may be spliced waits while the sink's pipe is full. */
  return c->copy_only || nb_ssnsrv_passthrough(&c->eng, from) == 0 ||
         c->end[to].piped < SSN_PIPE_CAP;
}

static void watch(conn_t *c, nb_ssnsrv_side_t side) {
  end_t *e = &c->end[side];
  int ev = 0;
  if (!e->poll_init) {
    return;
  }
  if (want_read(c, side)) {
    ev |= UV_READABLE;
  }
  if (e->connecting || (e->connected && e->out_blocked)) {
    ev |= UV_WRITABLE;
  }
  if (ev == e->events) {
    return;
  }
  e->events = ev;
  if (ev == 0) {
    (void)uv_poll_stop(&e->poll);
  } else {
    (void)uv_poll_start(&e->poll, ev, on_poll);
  }
}

static void on_poll(uv_poll_t *h, int status, int events) {
  conn_t *c = h->data;
  nb_ssnsrv_side_t side =
      h == &c->end[BAK].poll ? NB_SSNSRV_BACKEND : NB_SSNSRV_CLIENT;
  end_t *e = &c->end[side];
  if (c->closing) {
    return;
  }
  if (status < 0) {
    if (e->connecting) {
      finish_connect(c);
    } else {
      nb_ssnsrv_reset(&c->eng, side, now_ms(c->svc));
    }
  } else if ((events & UV_WRITABLE) != 0 && e->connecting) {
    finish_connect(c);
  } else if ((events & UV_WRITABLE) != 0) {
    e->out_blocked = false;
    flush_side(c, side);
  }
  if (!c->closing && (events & (UV_READABLE | UV_DISCONNECT)) != 0) {
    read_side(c, side);
  }
  pump(c);
}

/* Buffers go back to the pool as soon as a direction holds nothing. */
static void release_bufs(conn_t *c) {
  for (int i = 0; i < 2; i++) {
    nb_ssnsrv_side_t to = (nb_ssnsrv_side_t)i;
    if (nb_ssnsrv_has_buf(&c->eng, to) && nb_ssnsrv_held(&c->eng, to) == 0) {
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
  if (dl == c->armed || !c->timer_init) {
    return;
  }
  c->armed = dl;
  if (dl == UINT64_MAX) {
    (void)uv_timer_stop(&c->timer);
  } else {
    (void)uv_timer_start(&c->timer, on_timer, dl > now ? dl - now : 0, 0);
  }
}

/* After anything happened: act on events and write until nothing moves,
 * then set the polls, buffers and the timer from the engine's state. */
static void pump(conn_t *c) {
  for (int round = 0; round < 16 && !c->closing; round++) {
    bool any = drain_events(c);
    flush_side(c, NB_SSNSRV_CLIENT);
    flush_side(c, NB_SSNSRV_BACKEND);
    if (!any) {
      break;
    }
  }
  if (c->closing) {
    return;
  }
  watch(c, NB_SSNSRV_CLIENT);
  watch(c, NB_SSNSRV_BACKEND);
  release_bufs(c);
  rearm(c);
}

/* ---- accepting ---------------------------------------------------------
 */

static void peer_of(conn_t *c) {
  struct sockaddr_storage ss;
  int len = sizeof ss;
  if (uv_tcp_getpeername(&c->acc, (struct sockaddr *)&ss, &len) == 0 &&
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

static conn_t *conn_new(nb_svc_ssn_t *s) {
  conn_t *c = calloc(1, sizeof *c);
  if (c == NULL) {
    return NULL;
  }
  c->svc = s;
  c->armed = UINT64_MAX;
  c->copy_only = s->copy_only;
  c->acc.data = c;
  c->timer.data = c;
  for (int i = 0; i < 2; i++) {
    c->end[i].fd = -1;
    c->end[i].pipe[0] = c->end[i].pipe[1] = -1;
    c->end[i].poll.data = c;
  }
  return c;
}

/* The accepted socket is watched by a poll handle of our own; its
 * uv_tcp_t only owns the descriptor (and closes it). */
static int watch_client(conn_t *c) {
  uv_os_fd_t fd = -1;
  int one = 1;
  int rc = uv_fileno((uv_handle_t *)&c->acc, &fd);
  if (rc == 0) {
    rc = uv_poll_init_socket(c->svc->d->loop, &c->end[CLI].poll, fd);
  }
  if (rc != 0) {
    return rc;
  }
  c->end[CLI].poll_init = true;
  c->end[CLI].fd = fd;
  c->end[CLI].connected = true;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return 0;
}

static void on_connection(uv_stream_t *server, int status) {
  listener_t *l = server->data;
  nb_svc_ssn_t *s = l->svc;
  conn_t *c = status == 0 ? conn_new(s) : NULL;
  if (c == NULL || uv_tcp_init(s->d->loop, &c->acc) != 0) {
    free(c);
    return;
  }
  c->acc_init = true;
  c->busy = s->active >= s->limit;
  link_conn(s, c);
  s->c.accepted++;
  if (uv_accept(server, (uv_stream_t *)&c->acc) != 0 ||
      s->n_conns > s->limit + SSN_ACCEPT_SLACK || s->stopping ||
      watch_client(c) != 0) {
    s->c.dropped_at_accept++;
    begin_close(c, false, NB_SSNSRV_END_ABORTED);
    return;
  }
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
  s->copy_only = getenv("NBTD_SESSION_COPY") != NULL;
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
