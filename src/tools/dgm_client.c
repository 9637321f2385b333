/* SPDX-License-Identifier: BSD-2-Clause */
#define _GNU_SOURCE 1 /* IP_PKTINFO, SOCK_CLOEXEC, MSG_NOSIGNAL */
#include "dgm_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/nbtd/dgram.sock"
#define REPLY_MS 40000 /* a SEND may wait for the name service */

uint64_t nbt_dgm_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void queue_rx(nbt_dgm_t *c, const nbt_dgm_rx_t *rx) {
  if (c->q_n < NBT_DGM_QUEUE) {
    c->q[(c->q_head + c->q_n) % NBT_DGM_QUEUE] = *rx;
    c->q_n++;
  }
}

static bool dequeue_rx(nbt_dgm_t *c, nbt_dgm_rx_t *out) {
  if (c->q_n == 0) {
    return false;
  }
  *out = c->q[c->q_head];
  c->q_head = (c->q_head + 1) % NBT_DGM_QUEUE;
  c->q_n--;
  return true;
}

/* poll() for input until `end` (UINT64_MAX: forever). 1 ready, 0 time. */
static int wait_input(int fd, uint64_t end, char *err, size_t cap) {
  for (;;) {
    uint64_t now = nbt_dgm_now();
    int ms = end == UINT64_MAX ? -1
             : end <= now      ? 0
                               : (int)(end - now < 600000 ? end - now : 600000);
    struct pollfd p = {fd, POLLIN, 0};
    int rc = poll(&p, 1, ms);
    if (rc < 0 && errno == EINTR) {
      continue;
    }
    if (rc < 0) {
      snprintf(err, cap, "poll: %s", strerror(errno));
      return -1;
    }
    if (rc > 0 || end <= nbt_dgm_now()) {
      return rc > 0 ? 1 : 0;
    }
  }
}

/* ---- through nbtd's socket -------------------------------------------------
 */

static int connect_unix(const char *path) {
  struct sockaddr_un sun;
  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof sun.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(sun.sun_path, path, strlen(path));
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    fd = -1;
  }
  return fd;
}

static int write_msg(nbt_dgm_t *c, char *err, size_t cap) {
  char line[NB_DGMSVC_API_LINE_MAX + 8];
  size_t n = nb_dgmsvc_api_format(&c->msg, line, sizeof line);
  size_t off = 0;
  if (n == 0 || n >= sizeof line) {
    snprintf(err, cap, "cannot write the request");
    return -1;
  }
  while (off < n) {
    ssize_t w = send(c->fd, line + off, n - off, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w <= 0) {
      snprintf(err, cap, "%s: %s", c->path, strerror(errno));
      return -1;
    }
    off += (size_t)w;
  }
  return 0;
}

/* One line from nbtd into c->msg: 1, 0 at `end`, -1 on error or EOF. */
static int read_msg(nbt_dgm_t *c, uint64_t end, char *err, size_t cap) {
  for (;;) {
    char *nl = memchr(c->in, '\n', c->in_len);
    if (nl != NULL) {
      size_t len = (size_t)(nl - c->in);
      nb_err_t e = nb_dgmsvc_api_parse(c->in, len, &c->msg, NULL);
      memmove(c->in, nl + 1, c->in_len - len - 1);
      c->in_len -= len + 1;
      if (e == NB_OK) {
        return 1;
      }
      continue; /* a line we do not understand: skip it */
    }
    if (c->in_len == sizeof c->in) {
      c->in_len = 0; /* a line over the limit: drop it */
    }
    int rc = wait_input(c->fd, end, err, cap);
    if (rc <= 0) {
      return rc;
    }
    ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
    if (n <= 0) {
      snprintf(err, cap, "%s: %s", c->path,
               n == 0 ? "nbtd closed the connection" : strerror(errno));
      return -1;
    }
    c->in_len += (size_t)n;
  }
}

static void rx_of_msg(const nb_dgmsvc_api_msg_t *m, nbt_dgm_rx_t *rx) {
  rx->kind = m->kind;
  rx->ip = m->ip;
  rx->port = m->port;
  rx->from = m->from;
  rx->to = m->to;
  rx->broadcast = m->broadcast;
  rx->len = m->data_len;
  memcpy(rx->data, m->data, m->data_len);
}

/* Events that are not the answer we wait for: datagrams are queued, a
 * DERR for the last send recorded. */
static void side_msg(nbt_dgm_t *c) {
  nbt_dgm_rx_t rx;
  if (c->msg.verb == NB_DGMSVC_API_DGRAM) {
    rx_of_msg(&c->msg, &rx);
    queue_rx(c, &rx);
  } else if (c->msg.verb == NB_DGMSVC_API_DERR &&
             strcmp(c->msg.tag, c->last_tag) == 0) {
    c->derr = true;
    c->derr_code = c->msg.code;
    c->derr_ip = c->msg.ip;
  }
}

/* Send c->msg with a fresh tag and wait for the OK, ERR or SENT with it. */
static int request(nbt_dgm_t *c, char *err, size_t cap) {
  char tag[NB_DGMSVC_API_TAG_MAX + 1];
  snprintf(tag, sizeof tag, "t%u", ++c->tags);
  memcpy(c->msg.tag, tag, sizeof tag);
  if (write_msg(c, err, cap) != 0) {
    return -1;
  }
  uint64_t end = nbt_dgm_now() + REPLY_MS;
  for (;;) {
    int rc = read_msg(c, end, err, cap);
    if (rc == 0) {
      snprintf(err, cap, "no answer from nbtd");
    }
    if (rc <= 0) {
      return -1;
    }
    if ((c->msg.verb == NB_DGMSVC_API_OK || c->msg.verb == NB_DGMSVC_API_ERR ||
         c->msg.verb == NB_DGMSVC_API_SENT) &&
        strcmp(c->msg.tag, tag) == 0) {
      return 0;
    }
    side_msg(c);
  }
}

/* ---- standalone
 * --------------------------------------------------------------
 */

static void sin_of(struct sockaddr_in *sa, uint32_t ip, uint16_t port) {
  memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  sa->sin_addr.s_addr = htonl(ip);
  sa->sin_port = htons(port);
}

static int udp_socket(const nbt_dgm_opts_t *o, uint16_t *bound, char *err,
                      size_t cap) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  struct sockaddr_in sa;
  sin_of(&sa, 0, o->port);
  if (fd < 0 ||
      setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) != 0 ||
      setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) != 0) {
    snprintf(err, cap, "socket: %s", strerror(errno));
    goto fail;
  }
  *bound = o->port;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    if (o->must_bind) {
      snprintf(err, cap,
               "UDP %u: %s (standalone needs the port: run as root, or "
               "use nbtd's socket)",
               o->port, strerror(errno));
      goto fail;
    }
    sin_of(&sa, 0, 0); /* a sender can do without the port */
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
      snprintf(err, cap, "bind: %s", strerror(errno));
      goto fail;
    }
    *bound = 0;
  }
  return fd;
fail:
  if (fd >= 0) {
    close(fd);
  }
  return -1;
}

/* The engine: a B node with the name service client's interfaces, no
 * DATAGRAM ERRORs (a tool is not the node's service), no rate limit. */
static int open_standalone(nbt_dgm_t *c, const nbt_dgm_opts_t *o, char *err,
                           size_t cap) {
  nbt_ns_client_opts_t no = {o->bcast, 0, o->ns_port, o->scope};
  nb_dgmsvc_config_t ec;
  if (nbt_ns_client_open(&c->ns, &no, err, cap) != 0) {
    return -1;
  }
  c->ns_open = true;
  const nb_nsnode_config_t *nc = nb_nsnode_config(c->ns.node);
  nb_dgmsvc_config_init(&ec);
  memcpy(ec.ifaces, nc->ifaces, sizeof ec.ifaces);
  ec.n_ifaces = nc->n_ifaces;
  snprintf(ec.scope, sizeof ec.scope, "%s", o->scope);
  ec.port = o->port;
  ec.send_errors = false;
  ec.rl_rate = ec.rl_global_rate = 0;
  ec.id_seed = nbt_dgm_now() ^ ((uint64_t)getpid() << 32);
  if (nb_dgmsvc_new(&ec, &c->eng) != NB_OK) {
    snprintf(err, cap, "datagram engine: bad configuration");
    return -1;
  }
  c->fd = udp_socket(o, &c->port, err, cap);
  return c->fd >= 0 ? 0 : -1;
}

static void flush_engine(nbt_dgm_t *c) {
  nb_dgmsvc_out_t o;
  while (nb_dgmsvc_pending(c->eng, &o)) {
    struct sockaddr_in sa;
    sin_of(&sa, o.dst_ip, o.dst_port);
    ssize_t n;
    do {
      n = sendto(c->fd, o.data, o.len, 0, (struct sockaddr *)&sa, sizeof sa);
    } while (n < 0 && errno == EINTR);
    nb_dgmsvc_advance(c->eng);
  }
}

/* Was the datagram sent to a broadcast address? IP_PKTINFO says where it
 * was addressed. */
static bool to_broadcast(const nbt_dgm_t *c, struct msghdr *mh) {
  const nb_dgmsvc_config_t *ec = nb_dgmsvc_config(c->eng);
  for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL;
       cm = CMSG_NXTHDR(mh, cm)) {
    if (cm->cmsg_level != IPPROTO_IP || cm->cmsg_type != IP_PKTINFO) {
      continue;
    }
    struct in_pktinfo pi;
    memcpy(&pi, CMSG_DATA(cm), sizeof pi);
    uint32_t dst = ntohl(pi.ipi_addr.s_addr);
    for (size_t i = 0; i < ec->n_ifaces; i++) {
      if (dst == (ec->ifaces[i].ip | ~ec->ifaces[i].netmask)) {
        return true;
      }
    }
    return dst == 0xffffffffu;
  }
  return false;
}

static void receive_all(nbt_dgm_t *c) {
  uint8_t buf[2048];
  char ctl[256];
  for (;;) {
    struct sockaddr_in sa;
    struct iovec iov = {buf, sizeof buf};
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_name = &sa;
    mh.msg_namelen = sizeof sa;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl;
    mh.msg_controllen = sizeof ctl;
    ssize_t n = recvmsg(c->fd, &mh, 0);
    if (n < 0) {
      return; /* EAGAIN, or an error the next poll reports again */
    }
    (void)nb_dgmsvc_recv(c->eng, buf, (size_t)n, ntohl(sa.sin_addr.s_addr),
                         ntohs(sa.sin_port), to_broadcast(c, &mh),
                         nbt_dgm_now());
  }
}

/* Engine events: datagrams queued, the send's result returned through
 * `done` when its handle is `h`. */
static void drain_events(nbt_dgm_t *c, uint32_t h, nb_dgmsvc_event_t *done,
                         bool *have) {
  static nb_dgmsvc_event_t ev;
  nbt_dgm_rx_t rx;
  while (nb_dgmsvc_next_event(c->eng, &ev)) {
    if (ev.type == NB_DGMSVC_EV_DATAGRAM) {
      rx.kind = ev.msg_type == NB_DGM_DIRECT_UNIQUE ? NB_DGMSVC_API_K_UNIQUE
                : ev.msg_type == NB_DGM_DIRECT_GROUP
                    ? NB_DGMSVC_API_K_GROUP
                    : NB_DGMSVC_API_K_BROADCAST;
      rx.ip = ev.src_ip;
      rx.port = ev.src_port;
      rx.from = ev.source_name;
      rx.to = ev.destination_name;
      rx.broadcast = ev.was_broadcast;
      rx.len = ev.data_len;
      memcpy(rx.data, ev.data, ev.data_len);
      queue_rx(c, &rx);
    } else if (ev.type == NB_DGMSVC_EV_SEND_ERROR && ev.id == c->last_handle) {
      c->derr = true;
      c->derr_code = ev.error_code;
      c->derr_ip = ev.peer_ip;
    } else if (ev.type == NB_DGMSVC_EV_SEND_DONE && ev.id == h && done) {
      *done = ev;
      *have = true;
    }
  }
}

typedef struct {
  uint32_t handle;
  nb_nsnode_event_t result;
  bool done;
} ns_wait_t;

static bool on_ns_event(void *ctx, const nb_nsnode_event_t *ev) {
  ns_wait_t *w = ctx;
  if (ev->type == NB_NSNODE_EV_QUERY_RESULT && ev->handle == w->handle) {
    w->result = *ev;
    w->done = true;
    return false;
  }
  return true;
}

/* Names the engine wants resolved: a broadcast query each (the tool is a
 * B node), answered before the engine goes on. */
static int resolve_all(nbt_dgm_t *c, char *err, size_t cap) {
  static ns_wait_t w;
  nb_dgmsvc_resolve_t rq;
  while (nb_dgmsvc_next_resolve(c->eng, &rq)) {
    memset(&w, 0, sizeof w);
    if (nb_nsnode_find(c->ns.node, &rq.name, NULL, nbt_ns_client_now(&c->ns),
                       &w.handle) != NB_OK ||
        nbt_ns_client_run(&c->ns, on_ns_event, &w, 30000, err, cap) < 0) {
      nb_dgmsvc_resolved(c->eng, rq.id, NB_NSNODE_FAILED, false, NULL, 0,
                         nbt_dgm_now());
      continue;
    }
    nb_dgmsvc_resolved(
        c->eng, rq.id, w.done ? w.result.result : NB_NSNODE_TIMEOUT,
        w.result.group, w.result.addrs, w.result.n_addrs, nbt_dgm_now());
  }
  return 0;
}

/* One round of the standalone engine: resolve, send, receive, timers. */
static int step(nbt_dgm_t *c, uint64_t end, uint32_t h, nb_dgmsvc_event_t *done,
                bool *have, char *err, size_t cap) {
  resolve_all(c, err, cap);
  flush_engine(c);
  drain_events(c, h, done, have);
  if (have != NULL ? *have : c->q_n > 0) {
    return 1; /* the send's result, or (next()) a datagram */
  }
  uint64_t dl = nb_dgmsvc_next_deadline(c->eng);
  int rc = wait_input(c->fd, dl < end ? dl : end, err, cap);
  if (rc < 0) {
    return -1;
  }
  if (rc > 0) {
    receive_all(c);
  }
  nb_dgmsvc_on_timer(c->eng, nbt_dgm_now());
  return nbt_dgm_now() >= end ? 0 : 2;
}

/* ---- the interface
 * -----------------------------------------------------------
 */

int nbt_dgm_open(nbt_dgm_t *c, const nbt_dgm_opts_t *o, const char **note,
                 char *err, size_t cap) {
  memset(c, 0, sizeof *c);
  c->fd = -1;
  snprintf(c->path, sizeof c->path, "%s",
           o->socket != NULL ? o->socket : DEFAULT_SOCKET);
  if (!o->standalone) {
    c->fd = connect_unix(c->path);
    if (c->fd >= 0) {
      c->daemon = true;
      if (note != NULL) {
        *note = "through nbtd's datagram socket";
      }
      return 0;
    }
    if (o->socket != NULL) {
      snprintf(err, cap, "%s: %s", c->path, strerror(errno));
      return -1;
    }
  }
  if (note != NULL) {
    *note = "standalone (no nbtd socket): datagram engine in-process";
  }
  return open_standalone(c, o, err, cap);
}

void nbt_dgm_close(nbt_dgm_t *c) {
  if (c->fd >= 0) {
    close(c->fd);
  }
  if (c->ns_open) {
    nbt_ns_client_close(&c->ns);
  }
  nb_dgmsvc_free(c->eng);
  c->eng = NULL;
  c->fd = -1;
}

int nbt_dgm_bind(nbt_dgm_t *c, const nb_name_t *name, bool star, bool monitor,
                 bool group, char *err, size_t cap) {
  if (c->daemon) {
    memset(&c->msg, 0, offsetof(nb_dgmsvc_api_msg_t, data));
    c->msg.verb = monitor ? NB_DGMSVC_API_MONITOR : NB_DGMSVC_API_BIND;
    c->msg.star = star;
    c->msg.group = group;
    if (name != NULL) {
      c->msg.to = *name;
    }
    if (request(c, err, cap) != 0) {
      return -1;
    }
    if (c->msg.verb == NB_DGMSVC_API_ERR) {
      snprintf(err, cap, "nbtd: %s (%s)", c->msg.text, nb_errname(c->msg.err));
      return -1;
    }
    return 0;
  }
  uint32_t id = 0;
  unsigned flags = monitor ? NB_DGMSVC_BIND_MONITOR
                   : star  ? NB_DGMSVC_BIND_BROADCAST
                           : 0;
  if (flags == 0) { /* held locally only: see dgm_client.h */
    nb_name_t n = *name;
    const char *scope = nb_dgmsvc_config(c->eng)->scope;
    (void)nb_name_set_scope(&n, scope, strlen(scope), NULL);
    (void)nb_dgmsvc_name_add(c->eng, &n, group);
    if (nb_dgmsvc_bind(c->eng, &n, 0, &id) != NB_OK) {
      snprintf(err, cap, "cannot bind");
      return -1;
    }
    return 0;
  }
  if (nb_dgmsvc_bind(c->eng, NULL, flags, &id) != NB_OK) {
    snprintf(err, cap, "cannot bind");
    return -1;
  }
  return 0;
}

static int send_daemon(nbt_dgm_t *c, const nbt_dgm_send_t *s,
                       nbt_dgm_sent_t *res, char *err, size_t cap) {
  memset(&c->msg, 0, offsetof(nb_dgmsvc_api_msg_t, data));
  c->msg.verb = NB_DGMSVC_API_SEND;
  c->msg.kind = s->kind;
  c->msg.from_node = s->from == NULL;
  if (s->from != NULL) {
    c->msg.from = *s->from;
  }
  c->msg.star = s->kind == NB_DGMSVC_API_K_BROADCAST;
  if (!c->msg.star) {
    c->msg.to = *s->to;
  }
  c->msg.ip = s->ip;
  c->msg.data_len = s->len;
  memcpy(c->msg.data, s->data, s->len);
  c->derr = false;
  snprintf(c->last_tag, sizeof c->last_tag, "t%u", c->tags + 1);
  if (request(c, err, cap) != 0) {
    return -1;
  }
  if (c->msg.verb != NB_DGMSVC_API_SENT) {
    snprintf(err, cap, "%s (%s)", c->msg.text, nb_errname(c->msg.err));
    return 1;
  }
  res->kind = c->msg.kind;
  res->packets = c->msg.count;
  res->ip = c->msg.ip;
  return 0;
}

/* This host's name, first label, upper case: the source of standalone
 * datagrams sent without --from. */
static void host_name(nb_name_t *n) {
  char host[256] = "NBT";
  if (gethostname(host, sizeof host) != 0) {
    snprintf(host, sizeof host, "NBT");
  }
  host[sizeof host - 1] = '\0';
  host[strcspn(host, ".")] = '\0';
  host[NB_NAME_CHARS] = '\0';
  for (char *p = host; *p != '\0'; p++) {
    *p = (*p >= 'a' && *p <= 'z') ? (char)(*p - 32) : *p;
  }
  (void)nb_name_make(n, host, strlen(host), NB_SUFFIX_WORKSTATION, NULL);
}

static int send_standalone(nbt_dgm_t *c, const nbt_dgm_send_t *s,
                           nbt_dgm_sent_t *res, char *err, size_t cap) {
  static const nb_dgmsvc_to_t to[] = {NB_DGMSVC_TO_NAME, NB_DGMSVC_TO_NAME,
                                      NB_DGMSVC_TO_GROUP,
                                      NB_DGMSVC_TO_BROADCAST};
  nb_dgmsvc_send_req_t rq;
  nb_dgmsvc_event_t done;
  nb_diag_t d = {NB_OK, 0, NULL};
  bool have = false;
  memset(&rq, 0, sizeof rq);
  rq.to = to[s->kind];
  rq.flags = NB_DGMSVC_SEND_ANY_SOURCE;
  if (s->from != NULL) {
    rq.source = *s->from;
  } else {
    host_name(&rq.source);
  }
  if (s->to != NULL) {
    rq.destination = *s->to;
  }
  rq.ip = s->ip;
  rq.data = s->data;
  rq.len = s->len;
  c->derr = false;
  if (nb_dgmsvc_send(c->eng, &rq, nbt_dgm_now(), &c->last_handle, &d) !=
      NB_OK) {
    snprintf(err, cap, "%s", d.field != NULL ? d.field : "refused");
    return 1;
  }
  uint64_t end = nbt_dgm_now() + REPLY_MS;
  int rc;
  while ((rc = step(c, end, c->last_handle, &done, &have, err, cap)) > 0 &&
         !have) {
  }
  if (!have) {
    if (rc >= 0) {
      snprintf(err, cap, "no result within %d s", REPLY_MS / 1000);
    }
    return rc < 0 ? -1 : 1;
  }
  if (done.err != NB_OK) {
    snprintf(err, cap, "%s",
             done.err == NB_ENOTFOUND   ? "name not found"
             : done.err == NB_ETIMEDOUT ? "no answer to the name query"
                                        : nb_strerror(done.err));
    return 1;
  }
  res->kind = done.msg_type == NB_DGM_DIRECT_UNIQUE ? NB_DGMSVC_API_K_UNIQUE
              : done.msg_type == NB_DGM_DIRECT_GROUP
                  ? NB_DGMSVC_API_K_GROUP
                  : NB_DGMSVC_API_K_BROADCAST;
  res->packets = (uint32_t)done.n_packets;
  res->ip = done.dst_ip;
  return 0;
}

int nbt_dgm_send(nbt_dgm_t *c, const nbt_dgm_send_t *s, nbt_dgm_sent_t *res,
                 char *err, size_t cap) {
  if (s->len > NB_DGM_USER_DATA_MAX) {
    snprintf(err, cap,
             "%zu bytes of user data: a datagram carries at most 512 "
             "(RFC 1001 17.1.2)",
             s->len);
    return 1;
  }
  return c->daemon ? send_daemon(c, s, res, err, cap)
                   : send_standalone(c, s, res, err, cap);
}

int nbt_dgm_next(nbt_dgm_t *c, int64_t timeout_ms, nbt_dgm_rx_t *out, char *err,
                 size_t cap) {
  uint64_t end =
      timeout_ms < 0 ? UINT64_MAX : nbt_dgm_now() + (uint64_t)timeout_ms;
  for (;;) {
    if (dequeue_rx(c, out)) {
      return 1;
    }
    int rc;
    if (c->daemon) {
      rc = read_msg(c, end, err, cap);
      if (rc > 0) {
        side_msg(c);
      }
    } else {
      rc = step(c, end, 0, NULL, NULL, err, cap);
    }
    if (rc <= 0 && !dequeue_rx(c, out)) {
      return rc;
    }
    if (rc <= 0) {
      return 1;
    }
  }
}
