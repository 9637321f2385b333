/* SPDX-License-Identifier: BSD-2-Clause */
/* nbtd's datagram service (issue 8): UDP 138 and the application socket
 * around the dgmsvc engine. See svc_dgram.h and docs/DATAGRAM-API.md. */
#include "svc_dgram.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ifaces.h"
#include "log.h"
#include "nb/dgmsvc.h"
#include "udp.h"

#define MAX_PENDING_BINDS 32 /* BINDs waiting for a name claim */
#define MAX_SEND_TAGS 128    /* sends remembered for SENT / DERR lines */
#define IN_MAX (NB_DGMSVC_API_LINE_MAX + 2)

typedef struct dg_client dg_client_t;

/* A bound socket, read by libuv; except the 0.0.0.0 one (limited
 * broadcasts, ifaces.h), which needs IP_PKTINFO: it is read by
 * nb_udp_read_dst() from a dup() of its descriptor watched by `rd`, as
 * svc_ns.c reads all of its sockets. */
typedef struct {
  uv_udp_t udp; /* udp.data = this */
  nb_svc_dgram_t *svc;
  bool bcast; /* bound to a broadcast address (or 0.0.0.0): receive only */
  bool any;   /* bound to 0.0.0.0 */
  nb_udp_poller_t rd; /* `any` only; rd.poll.data = this */
} dg_sock_t;

/* Who owns an engine binding, and the claimed name it holds (if any). */
typedef struct {
  uint32_t id; /* 0 = free */
  dg_client_t *cl;
  int claim; /* index into claims, -1 for none */
} dg_bind_t;

/* A name nbtd claimed for clients (BIND of a name the node did not hold),
 * released when the last binding or waiting BIND is gone. */
typedef struct {
  bool used;
  bool ours; /* we called nb_nsnode_add_name (else it was already there) */
  bool group;
  unsigned refs;
  nb_name_t name;
} dg_claim_t;

/* A BIND waiting for its claim to finish. */
typedef struct {
  dg_client_t *cl; /* NULL = free */
  int claim;
  char tag[NB_DGMSVC_API_TAG_MAX + 1];
} dg_wait_t;

/* A send in flight or done recently (for SENT and DERR lines). */
typedef struct {
  uint32_t handle; /* 0 = free */
  dg_client_t *cl;
  char tag[NB_DGMSVC_API_TAG_MAX + 1];
} dg_send_t;

struct dg_client {
  uv_pipe_t pipe; /* pipe.data = this */
  nb_svc_dgram_t *svc;
  size_t slot;
  unsigned refs; /* the pipe + writes in flight: freed at 0 */
  bool closing;
  bool skipping; /* inside a line over the limit */
  size_t in_len;
  size_t out_bytes;
  char in[IN_MAX];
};

typedef struct {
  uv_write_t req;
  dg_client_t *cl;
  size_t len;
  char data[];
} dg_write_t;

typedef struct { /* ns handle of a resolution, and the engine's id */
  uint32_t ns_handle;
  uint32_t id;
  bool used;
} dg_resolve_t;

struct nb_svc_dgram {
  nb_daemon_t *d;
  nb_svc_ns_t *ns;
  nb_dgmsvc_t *eng;
  bool optional;
  uid_t uid;
  gid_t gid;
  dg_sock_t socks[2 * NB_DAEMON_MAX_IFACES + 1]; /* + the 0.0.0.0 one */
  size_t n_socks;
  nb_udp_out_t out[NB_DAEMON_MAX_IFACES];
  size_t n_out;
  uv_timer_t timer;
  uv_check_t check;
  uv_idle_t idle;
  bool handles_init;
  uint64_t armed;
  bool stopping;
  uv_pipe_t server;
  bool listening;
  char path[NB_CONFIG_PATH_MAX + 1];
  dg_client_t *clients[NB_DGRAM_MAX_CLIENTS];
  dg_bind_t binds[NB_DGMSVC_MAX_BINDS];
  dg_claim_t claims[NB_DGMSVC_MAX_BINDS];
  dg_wait_t waits[MAX_PENDING_BINDS];
  dg_send_t sends[MAX_SEND_TAGS];
  size_t send_next;
  dg_resolve_t resolving[NB_DGMSVC_MAX_SENDS];
  nb_udp_counters_t udp;
  uint64_t rx_not_ipv4;
  nb_lbcast_t lbcast; /* the 0.0.0.0 socket's filter and counters */
  uint64_t api_clients, api_refused, api_lines, api_bad_lines, api_slow;
  nb_dgmsvc_event_t ev;    /* scratch */
  nb_dgmsvc_api_msg_t msg; /* scratch: parsed or to format */
  char line[IN_MAX + 8];   /* scratch: a formatted line */
  nb_nsnode_name_info_t infos[64];
};

nb_svc_dgram_t *nb_svc_dgram_new(nb_svc_ns_t *ns, bool optional, uid_t uid,
                                 gid_t gid) {
  nb_svc_dgram_t *s = calloc(1, sizeof *s);
  if (s != NULL) {
    s->ns = ns;
    s->optional = optional;
    s->uid = uid;
    s->gid = gid;
    s->armed = UINT64_MAX;
  }
  return s;
}

void nb_svc_dgram_free(nb_svc_dgram_t *s) {
  if (s != NULL) {
    nb_dgmsvc_free(s->eng);
    free(s);
  }
}

static uint64_t now_ms(const nb_svc_dgram_t *s) { return uv_now(s->d->loop); }

static void schedule(nb_svc_dgram_t *s);

/* ---- writing lines to clients ------------------------------------------
 */

static void client_unref(dg_client_t *cl) {
  if (--cl->refs == 0) {
    free(cl);
  }
}

static void on_pipe_closed(uv_handle_t *h) { client_unref(h->data); }

static void on_written(uv_write_t *req, int status) {
  dg_write_t *w = (dg_write_t *)req;
  (void)status;
  w->cl->out_bytes -= w->len;
  client_unref(w->cl);
  free(w);
}

static void client_close(dg_client_t *cl);

/* Queue one line; a client that does not read is disconnected. */
static void client_write(dg_client_t *cl, const char *line, size_t len) {
  if (cl->closing || len == 0) {
    return;
  }
  if (cl->out_bytes + len > NB_DGRAM_CLIENT_OUT_MAX) {
    cl->svc->api_slow++;
    nb_log_info("datagram-service: client not reading; disconnected");
    client_close(cl);
    return;
  }
  dg_write_t *w = malloc(sizeof *w + len);
  if (w == NULL) {
    client_close(cl);
    return;
  }
  memcpy(w->data, line, len);
  w->len = len;
  w->cl = cl;
  uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
  if (uv_write(&w->req, (uv_stream_t *)&cl->pipe, &b, 1, on_written) != 0) {
    free(w);
    client_close(cl);
    return;
  }
  cl->refs++;
  cl->out_bytes += len;
}

/* Format s->msg and write it to `cl`. */
static void send_msg(nb_svc_dgram_t *s, dg_client_t *cl) {
  size_t n = nb_dgmsvc_api_format(&s->msg, s->line, sizeof s->line);
  if (n > 0 && n < sizeof s->line) {
    client_write(cl, s->line, n);
  }
}

static void start_msg(nb_svc_dgram_t *s, nb_dgmsvc_api_verb_t verb,
                      const char *tag) {
  memset(&s->msg, 0, offsetof(nb_dgmsvc_api_msg_t, data));
  s->msg.verb = verb;
  snprintf(s->msg.tag, sizeof s->msg.tag, "%s", tag);
}

static void reply_ok(nb_svc_dgram_t *s, dg_client_t *cl, const char *tag,
                     uint32_t id) {
  start_msg(s, NB_DGMSVC_API_OK, tag);
  if (id != 0) {
    snprintf(s->msg.text, sizeof s->msg.text, "%lu", (unsigned long)id);
  }
  send_msg(s, cl);
}

static void reply_err(nb_svc_dgram_t *s, dg_client_t *cl, const char *tag,
                      nb_err_t err, const char *text) {
  start_msg(s, NB_DGMSVC_API_ERR, tag);
  s->msg.err = err;
  snprintf(s->msg.text, sizeof s->msg.text, "%s", text);
  send_msg(s, cl);
}

/* ---- claims and bindings -------------------------------------------------
 */

static int claim_find(const nb_svc_dgram_t *s, const nb_name_t *n) {
  for (int i = 0; i < NB_DGMSVC_MAX_BINDS; i++) {
    if (s->claims[i].used && nb_name_equal(&s->claims[i].name, n)) {
      return i;
    }
  }
  return -1;
}

static void claim_unref(nb_svc_dgram_t *s, int k) {
  if (k < 0 || !s->claims[k].used || --s->claims[k].refs > 0) {
    return;
  }
  dg_claim_t *c = &s->claims[k];
  c->used = false;
  nb_nsnode_t *node = nb_svc_ns_node(s->ns);
  if (c->ours && node != NULL && !s->stopping) {
    (void)nb_nsnode_remove_name(node, &c->name, now_ms(s));
    nb_svc_ns_sync(s->ns); /* NAME_REMOVED takes it out of the engine */
  }
}

/* A binding for a name the node holds now. */
static void bind_now(nb_svc_dgram_t *s, dg_client_t *cl, const char *tag,
                     const nb_name_t *name, unsigned flags, int claim) {
  uint32_t id = 0;
  for (size_t i = 0; i < NB_DGMSVC_MAX_BINDS; i++) {
    dg_bind_t *b = &s->binds[i];
    if (b->id != 0) {
      continue;
    }
    nb_err_t err = nb_dgmsvc_bind(s->eng, name, flags, &id);
    if (err != NB_OK) {
      break;
    }
    b->id = id;
    b->cl = cl;
    b->claim = claim;
    reply_ok(s, cl, tag, id);
    return;
  }
  reply_err(s, cl, tag, NB_ELIMIT, "too many bindings");
  claim_unref(s, claim);
}

/* The node's scope, upper case (as nbtd's own names): one scope. */
static void node_name(const nb_svc_dgram_t *s, nb_name_t *n) {
  const char *scope = s->d->cfg->scope;
  for (size_t j = 0; j < NB_NAME_CHARS; j++) {
    if (n->bytes[j] >= 'a' && n->bytes[j] <= 'z') {
      n->bytes[j] = (uint8_t)(n->bytes[j] - 'a' + 'A');
    }
  }
  (void)nb_name_set_scope(n, scope, strlen(scope), NULL);
}

static int claim_new(nb_svc_dgram_t *s, const nb_name_t *name, bool group) {
  nb_nsnode_t *node = nb_svc_ns_node(s->ns);
  for (int k = 0; node != NULL && k < NB_DGMSVC_MAX_BINDS; k++) {
    dg_claim_t *c = &s->claims[k];
    if (c->used) {
      continue;
    }
    nb_err_t err = nb_nsnode_add_name(node, name, group ? NB_NSNODE_F_GROUP : 0,
                                      now_ms(s));
    if (err != NB_OK && err != NB_ESTATE) {
      return -1;
    }
    memset(c, 0, sizeof *c);
    c->used = true;
    c->ours = err == NB_OK; /* ESTATE: already being claimed by nbtd */
    c->group = group;
    c->name = *name;
    nb_svc_ns_sync(s->ns);
    return k;
  }
  return -1;
}

/* BIND tag NAME [group]: at once when the node holds NAME, else once the
 * name service has claimed it. */
static void do_bind(nb_svc_dgram_t *s, dg_client_t *cl,
                    const nb_dgmsvc_api_msg_t *m) {
  nb_name_t name = m->to;
  if (m->star) {
    bind_now(s, cl, m->tag, NULL, NB_DGMSVC_BIND_BROADCAST, -1);
    return;
  }
  if (name.bytes[0] == '*') { /* RFC 1001 17.2: nobody's name */
    reply_err(s, cl, m->tag, NB_EINVAL, "a name starting with '*' (use *)");
    return;
  }
  node_name(s, &name);
  int k = claim_find(s, &name);
  if (k < 0 && nb_dgmsvc_name_present(s->eng, &name)) {
    bind_now(s, cl, m->tag, &name, 0, -1);
    return;
  }
  if (k < 0 && (k = claim_new(s, &name, m->group)) < 0) {
    reply_err(s, cl, m->tag, NB_ELIMIT, "cannot claim the name");
    return;
  }
  s->claims[k].refs++;
  if (nb_dgmsvc_name_present(s->eng, &name)) {
    bind_now(s, cl, m->tag, &name, 0, k);
    return;
  }
  for (size_t i = 0; i < MAX_PENDING_BINDS; i++) {
    if (s->waits[i].cl == NULL) {
      s->waits[i].cl = cl;
      s->waits[i].claim = k;
      snprintf(s->waits[i].tag, sizeof s->waits[i].tag, "%s", m->tag);
      return; /* OK or ERR when the claim ends */
    }
  }
  reply_err(s, cl, m->tag, NB_ELIMIT, "too many binds waiting");
  claim_unref(s, k);
}

/* A claim ended: bind (ok) or refuse every BIND waiting for it. */
static void claim_done(nb_svc_dgram_t *s, int k, bool ok, const char *why) {
  for (size_t i = 0; i < MAX_PENDING_BINDS; i++) {
    dg_wait_t *w = &s->waits[i];
    if (w->cl == NULL || w->claim != k) {
      continue;
    }
    dg_client_t *cl = w->cl;
    w->cl = NULL;
    if (ok) {
      bind_now(s, cl, w->tag, &s->claims[k].name, 0, k);
    } else {
      reply_err(s, cl, w->tag, NB_ESTATE, why);
      claim_unref(s, k);
    }
  }
}

static void do_unbind(nb_svc_dgram_t *s, dg_client_t *cl,
                      const nb_dgmsvc_api_msg_t *m) {
  for (size_t i = 0; i < NB_DGMSVC_MAX_BINDS; i++) {
    dg_bind_t *b = &s->binds[i];
    if (b->id == m->id && b->cl == cl) {
      (void)nb_dgmsvc_unbind(s->eng, b->id);
      b->id = 0;
      claim_unref(s, b->claim);
      reply_ok(s, cl, m->tag, 0);
      return;
    }
  }
  reply_err(s, cl, m->tag, NB_ENOTFOUND, "no such binding");
}

/* ---- sending ---------------------------------------------------------------
 */

static void do_send(nb_svc_dgram_t *s, dg_client_t *cl,
                    const nb_dgmsvc_api_msg_t *m) {
  static const nb_dgmsvc_to_t to[] = {NB_DGMSVC_TO_NAME, NB_DGMSVC_TO_NAME,
                                      NB_DGMSVC_TO_GROUP,
                                      NB_DGMSVC_TO_BROADCAST};
  nb_dgmsvc_send_req_t rq;
  nb_diag_t d = {NB_OK, 0, NULL};
  uint32_t h = 0;
  memset(&rq, 0, sizeof rq);
  rq.to = to[m->kind];
  rq.source = m->from;
  if (m->from_node) { /* `-`: the node's name, <00> */
    const char *n = s->d->cfg->name.s;
    (void)nb_name_make(&rq.source, n, strlen(n), NB_SUFFIX_WORKSTATION, NULL);
  }
  rq.destination = m->to;
  rq.ip = m->ip;
  rq.data = m->data;
  rq.len = m->data_len;
  nb_err_t err = nb_dgmsvc_send(s->eng, &rq, now_ms(s), &h, &d);
  if (err != NB_OK) {
    reply_err(s, cl, m->tag, err, d.field != NULL ? d.field : "refused");
    return;
  }
  dg_send_t *t = &s->sends[s->send_next++ % MAX_SEND_TAGS];
  t->handle = h;
  t->cl = cl;
  snprintf(t->tag, sizeof t->tag, "%s", m->tag);
}

static dg_send_t *send_by_handle(nb_svc_dgram_t *s, uint32_t h) {
  for (size_t i = 0; i < MAX_SEND_TAGS; i++) {
    if (s->sends[i].handle == h && s->sends[i].cl != NULL) {
      return &s->sends[i];
    }
  }
  return NULL;
}

/* ---- engine events ---------------------------------------------------------
 */

static nb_dgmsvc_api_kind_t kind_of(uint8_t msg_type) {
  return msg_type == NB_DGM_DIRECT_UNIQUE  ? NB_DGMSVC_API_K_UNIQUE
         : msg_type == NB_DGM_DIRECT_GROUP ? NB_DGMSVC_API_K_GROUP
                                           : NB_DGMSVC_API_K_BROADCAST;
}

static void on_datagram(nb_svc_dgram_t *s, const nb_dgmsvc_event_t *ev) {
  for (size_t i = 0; i < NB_DGMSVC_MAX_BINDS; i++) {
    if (s->binds[i].id != ev->id || s->binds[i].cl == NULL) {
      continue;
    }
    memset(&s->msg, 0, offsetof(nb_dgmsvc_api_msg_t, data));
    s->msg.verb = NB_DGMSVC_API_DGRAM;
    s->msg.id = ev->id;
    s->msg.kind = kind_of(ev->msg_type);
    s->msg.ip = ev->src_ip;
    s->msg.port = ev->src_port;
    s->msg.from = ev->source_name;
    s->msg.to = ev->destination_name;
    s->msg.broadcast = ev->was_broadcast;
    s->msg.data_len = ev->data_len;
    memcpy(s->msg.data, ev->data, ev->data_len);
    send_msg(s, s->binds[i].cl);
    return;
  }
}

static const char *send_err_text(nb_err_t err) {
  switch (err) {
  case NB_ENOTFOUND:
    return "destination not found (no owner, or no NBDD relay)";
  case NB_ETIMEDOUT:
    return "no answer to the name query";
  case NB_ELIMIT:
    return "outgoing queue full";
  default:
    return "name service failed";
  }
}

static void on_send_event(nb_svc_dgram_t *s, const nb_dgmsvc_event_t *ev) {
  dg_send_t *t = send_by_handle(s, ev->id);
  if (t == NULL) {
    return;
  }
  if (ev->type == NB_DGMSVC_EV_SEND_ERROR) {
    start_msg(s, NB_DGMSVC_API_DERR, t->tag);
    s->msg.code = ev->error_code;
    s->msg.ip = ev->peer_ip;
  } else if (ev->err != NB_OK) {
    start_msg(s, NB_DGMSVC_API_ERR, t->tag);
    s->msg.err = ev->err;
    snprintf(s->msg.text, sizeof s->msg.text, "%s", send_err_text(ev->err));
  } else {
    start_msg(s, NB_DGMSVC_API_SENT, t->tag);
    s->msg.kind = kind_of(ev->msg_type);
    s->msg.count = (uint32_t)ev->n_packets;
    s->msg.ip = ev->dst_ip;
  }
  send_msg(s, t->cl);
}

/* Names the engine needs resolved go to the name-service engine: a
 * group's member list from the NBNS, anything else the node type's way. */
static void resolve_all(nb_svc_dgram_t *s) {
  nb_dgmsvc_resolve_t rq;
  nb_nsnode_t *node = nb_svc_ns_node(s->ns);
  bool asked = false;
  while (nb_dgmsvc_next_resolve(s->eng, &rq)) {
    nb_nsnode_query_opts_t o;
    dg_resolve_t *r = NULL;
    memset(&o, 0, sizeof o);
    o.via = rq.members ? NB_NSNODE_VIA_NBNS : NB_NSNODE_VIA_DEFAULT;
    for (size_t i = 0; i < NB_DGMSVC_MAX_SENDS && r == NULL; i++) {
      r = s->resolving[i].used ? NULL : &s->resolving[i];
    }
    if (node == NULL || r == NULL ||
        nb_nsnode_find(node, &rq.name, &o, now_ms(s), &r->ns_handle) != NB_OK) {
      nb_dgmsvc_resolved(s->eng, rq.id, NB_NSNODE_FAILED, false, NULL, 0,
                         now_ms(s));
      continue;
    }
    r->used = true;
    r->id = rq.id;
    asked = true;
  }
  if (asked) {
    nb_svc_ns_sync(s->ns); /* answers from the cache come back at once */
  }
}

/* Move what the engine has: payloads to the sockets, events to clients. */
static void pump(nb_svc_dgram_t *s) {
  nb_dgmsvc_out_t o;
  if (s->eng == NULL) {
    return;
  }
  resolve_all(s);
  while (nb_dgmsvc_pending(s->eng, &o)) {
    size_t i = 0;
    for (size_t k = 0; k < s->n_out; k++) {
      i = s->d->ifaces[k].ip == o.src_ip ? k : i;
    }
    if (s->n_out > 0) {
      nb_udp_out_add(&s->out[i], o.data, o.len, o.dst_ip, o.dst_port);
    }
    nb_dgmsvc_advance(s->eng);
  }
  while (nb_dgmsvc_next_event(s->eng, &s->ev)) {
    if (s->ev.type == NB_DGMSVC_EV_DATAGRAM) {
      on_datagram(s, &s->ev);
    } else {
      on_send_event(s, &s->ev);
    }
  }
}

static void flush_all(nb_svc_dgram_t *s) {
  for (size_t i = 0; i < s->n_out; i++) {
    if (s->out[i].n > 0) {
      nb_udp_out_flush(&s->out[i]);
    }
  }
}

static void on_timer(uv_timer_t *t);

static void rearm(nb_svc_dgram_t *s) {
  uint64_t dl = s->eng != NULL ? nb_dgmsvc_next_deadline(s->eng) : UINT64_MAX;
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

static void on_timer(uv_timer_t *t) {
  nb_svc_dgram_t *s = t->data;
  s->armed = UINT64_MAX;
  nb_dgmsvc_on_timer(s->eng, now_ms(s));
  schedule(s);
}

/* Work found outside our own callbacks (the name service's events) or at
 * a timer runs from an idle handle, so the loop does not block first. */
static void on_idle(uv_idle_t *h) {
  nb_svc_dgram_t *s = h->data;
  uv_idle_stop(h);
  pump(s);
  flush_all(s);
  rearm(s);
}

static void schedule(nb_svc_dgram_t *s) {
  if (s->handles_init && !uv_is_active((uv_handle_t *)&s->idle)) {
    uv_idle_start(&s->idle, on_idle);
  }
}

static void on_check(uv_check_t *c) {
  nb_svc_dgram_t *s = c->data;
  flush_all(s);
  rearm(s);
  if (s->stopping) {
    nb_daemon_poke(s->d);
  }
}

/* ---- the name service's events (observer: no engine calls here) ---------
 */

static void on_query_result(nb_svc_dgram_t *s, const nb_nsnode_event_t *ev) {
  for (size_t i = 0; i < NB_DGMSVC_MAX_SENDS; i++) {
    dg_resolve_t *r = &s->resolving[i];
    if (r->used && r->ns_handle == ev->handle) {
      r->used = false;
      nb_dgmsvc_resolved(s->eng, r->id, ev->result, ev->group, ev->addrs,
                         ev->n_addrs, now_ms(s));
      return;
    }
  }
}

static void on_name_event(nb_svc_dgram_t *s, const nb_nsnode_event_t *ev) {
  int k = claim_find(s, &ev->name);
  char t[NB_NAME_TEXT_MAX];
  switch (ev->type) {
  case NB_NSNODE_EV_NAME_ADDED:
    (void)nb_dgmsvc_name_add(s->eng, &ev->name, ev->group);
    if (k >= 0) {
      claim_done(s, k, true, NULL);
    }
    break;
  case NB_NSNODE_EV_NAME_REFUSED:
  case NB_NSNODE_EV_ERROR:
    if (k >= 0) {
      s->claims[k].ours = false; /* nothing to release */
      claim_done(s, k, false, "the name service refused the name");
    }
    break;
  default: /* REMOVED, CONFLICT: no longer ours */
    (void)nb_dgmsvc_name_remove(s->eng, &ev->name);
    if (k >= 0) {
      claim_done(s, k, false, "the name was removed or is in conflict");
    }
    break;
  }
  nb_name_to_text(&ev->name, t, sizeof t);
  nb_log_debug("datagram-service: name %s %s", t,
               nb_dgmsvc_name_present(s->eng, &ev->name) ? "present"
                                                         : "absent");
}

static void observer(void *ctx, const nb_nsnode_event_t *ev) {
  nb_svc_dgram_t *s = ctx;
  if (s->eng == NULL) {
    return;
  }
  switch (ev->type) {
  case NB_NSNODE_EV_QUERY_RESULT:
    on_query_result(s, ev);
    break;
  case NB_NSNODE_EV_NAME_ADDED:
  case NB_NSNODE_EV_NAME_REFUSED:
  case NB_NSNODE_EV_NAME_CONFLICT:
  case NB_NSNODE_EV_NAME_REMOVED:
  case NB_NSNODE_EV_ERROR:
    on_name_event(s, ev);
    break;
  default:
    return;
  }
  schedule(s);
}

/* ---- UDP 138 ---------------------------------------------------------------
 */

/* One received datagram to the engine. */
static void deliver(dg_sock_t *sock, const uint8_t *data, size_t len,
                    const struct sockaddr *addr) {
  nb_svc_dgram_t *s = sock->svc;
  uint32_t ip = 0;
  uint16_t port = 0;
  if (!nb_udp_peer(addr, &ip, &port)) {
    s->rx_not_ipv4++;
    return;
  }
  s->udp.rx++;
  nb_dgmsvc_drop_t why =
      nb_dgmsvc_recv(s->eng, data, len, ip, port, sock->bcast, now_ms(s));
  if (why != NB_DGMSVC_DROP_NONE && nb_log_enabled(NB_LOG_DEBUG)) {
    char a[16];
    nb_log_debug("datagram-service: dropped %zu bytes from %s:%u (%s): %s", len,
                 nb_udp_ntoa(ip, a), port,
                 sock->any     ? "limited broadcast"
                 : sock->bcast ? "broadcast"
                               : "unicast",
                 nb_dgmsvc_drop_str(why));
  }
  pump(s);
}

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                    const struct sockaddr *addr, unsigned flags) {
  dg_sock_t *sock = h->data;
  nb_svc_dgram_t *s = sock->svc;
  if ((flags & UV_UDP_MMSG_FREE) != 0 || (nread == 0 && addr == NULL)) {
    return;
  }
  if (nread < 0) {
    s->udp.rx_errors++;
    return;
  }
  if ((flags & UV_UDP_PARTIAL) != 0) {
    s->udp.rx_truncated++;
    return;
  }
  deliver(sock, (const uint8_t *)buf->base, (size_t)nread, addr);
}

/* The 0.0.0.0 socket: only a limited broadcast that came in on a
 * configured interface goes on, as a broadcast (ifaces.h). */
static void on_dgram_any(void *ctx, const uint8_t *data, size_t len,
                         const struct sockaddr *addr, const nb_udp_dst_t *dst) {
  dg_sock_t *sock = ctx;
  size_t iface = 0;
  if (nb_lbcast_take(&sock->svc->lbcast, sock->svc->d, dst, &iface)) {
    deliver(sock, data, len, addr);
  }
}

static void on_readable(uv_poll_t *p, int status, int events) {
  dg_sock_t *sock = p->data;
  (void)events;
  if (status < 0) {
    sock->svc->udp.rx_errors++;
    return;
  }
  nb_udp_read_dst(sock->rd.fd, &sock->svc->udp, on_dgram_any, sock);
}

/* The 0.0.0.0 socket: IP_PKTINFO on, then a dup() of it watched (see
 * dg_sock_t). */
static int start_reading_any(nb_svc_dgram_t *s, dg_sock_t *sock) {
  int rc = nb_udp_want_pktinfo(&sock->udp);
  return rc != 0 ? rc
                 : nb_udp_poller_start(&sock->rd, s->d->loop, &sock->udp,
                                       on_readable, sock);
}

/* `any`: the 0.0.0.0 socket for limited broadcasts (ip is 0). */
static int open_sock(nb_svc_dgram_t *s, uint32_t ip, bool bcast, bool any) {
  dg_sock_t *sock = &s->socks[s->n_socks];
  uint16_t port = s->d->cfg->dgram_port;
  char a[16];
  sock->svc = s;
  sock->bcast = bcast || any;
  sock->any = any;
  nb_udp_poller_reset(&sock->rd);
  sock->udp.data = sock;
  int rc = nb_udp_open(s->d->loop, &sock->udp, ip, port, !sock->bcast, NULL);
  if (rc == 0) {
    s->n_socks++;
    rc = any ? start_reading_any(s, sock)
             : uv_udp_recv_start(&sock->udp, nb_udp_alloc, on_recv);
  }
  if (rc == 0) {
    nb_log_info("datagram-service: listening on %s:%u (%s)", nb_udp_ntoa(ip, a),
                port,
                any     ? "limited broadcast"
                : bcast ? "broadcast"
                        : "unicast");
  }
  return rc;
}

/* The broadcast address of interface i needs its own socket unless a /32
 * has none or an earlier interface shares it. */
static bool own_bcast_sock(const nb_daemon_t *d, size_t i) {
  bool needed = d->ifaces[i].bcast != d->ifaces[i].ip;
  for (size_t k = 0; k < i && needed; k++) {
    needed = d->ifaces[k].bcast != d->ifaces[i].bcast;
  }
  return needed;
}

static int open_sockets(nb_svc_dgram_t *s) {
  int rc = 0;
  for (size_t i = 0; i < s->d->n_ifaces && rc == 0; i++) {
    size_t at = s->n_socks;
    rc = open_sock(s, s->d->ifaces[i].ip, false, false);
    if (rc == 0) {
      nb_udp_out_init(&s->out[i], &s->socks[at].udp, &s->udp);
      s->n_out = i + 1;
    }
    if (rc == 0 && own_bcast_sock(s->d, i)) {
      rc = open_sock(s, s->d->ifaces[i].bcast, true, false);
    }
  }
  nb_lbcast_init(&s->lbcast, s->d, "datagram-service");
  if (rc == 0 && nb_lbcast_wanted(s->d)) {
    rc = open_sock(s, 0, true, true);
  }
  return rc;
}

/* ---- the application socket -----------------------------------------------
 */

static void client_close(dg_client_t *cl) {
  nb_svc_dgram_t *s = cl->svc;
  if (cl->closing) {
    return;
  }
  cl->closing = true;
  s->clients[cl->slot] = NULL;
  for (size_t i = 0; i < NB_DGMSVC_MAX_BINDS; i++) {
    dg_bind_t *b = &s->binds[i];
    if (b->id != 0 && b->cl == cl) {
      (void)nb_dgmsvc_unbind(s->eng, b->id);
      b->id = 0;
      claim_unref(s, b->claim);
    }
  }
  for (size_t i = 0; i < MAX_PENDING_BINDS; i++) {
    if (s->waits[i].cl == cl) {
      s->waits[i].cl = NULL;
      claim_unref(s, s->waits[i].claim);
    }
  }
  for (size_t i = 0; i < MAX_SEND_TAGS; i++) {
    if (s->sends[i].cl == cl) {
      s->sends[i].cl = NULL;
    }
  }
  uv_close((uv_handle_t *)&cl->pipe, on_pipe_closed);
}

static void on_line(dg_client_t *cl, const char *line, size_t len) {
  nb_svc_dgram_t *s = cl->svc;
  nb_diag_t d = {NB_OK, 0, NULL};
  char why[96];
  s->api_lines++;
  if (nb_dgmsvc_api_parse(line, len, &s->msg, &d) != NB_OK) {
    char tag[NB_DGMSVC_API_TAG_MAX + 1];
    s->api_bad_lines++;
    snprintf(why, sizeof why, "%s at byte %zu",
             d.field != NULL ? d.field : "bad line", d.offset);
    /* the request's tag when the parser got that far, else "-" */
    snprintf(tag, sizeof tag, "%s", s->msg.tag[0] != '\0' ? s->msg.tag : "-");
    reply_err(s, cl, tag, d.err, why);
    return;
  }
  nb_dgmsvc_api_msg_t m = s->msg; /* s->msg is reused for the replies */
  switch (m.verb) {
  case NB_DGMSVC_API_PING:
    start_msg(s, NB_DGMSVC_API_OK, m.tag);
    snprintf(s->msg.text, sizeof s->msg.text, "pong");
    send_msg(s, cl);
    break;
  case NB_DGMSVC_API_MONITOR:
    bind_now(s, cl, m.tag, NULL, NB_DGMSVC_BIND_MONITOR, -1);
    break;
  case NB_DGMSVC_API_BIND:
    do_bind(s, cl, &m);
    break;
  case NB_DGMSVC_API_UNBIND:
    do_unbind(s, cl, &m);
    break;
  case NB_DGMSVC_API_SEND:
    do_send(s, cl, &m);
    break;
  default:
    reply_err(s, cl, m.tag, NB_EINVAL, "not a request");
    break;
  }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  dg_client_t *cl = h->data;
  (void)suggested;
  *buf = uv_buf_init(cl->in + cl->in_len, (unsigned)(IN_MAX - cl->in_len));
}

/* Complete lines are handled; a line over the limit is refused and
 * skipped up to its LF. */
static void take_lines(dg_client_t *cl) {
  size_t start = 0;
  for (size_t i = 0; i < cl->in_len && !cl->closing; i++) {
    if (cl->in[i] != '\n') {
      continue;
    }
    if (!cl->skipping) {
      on_line(cl, cl->in + start, i - start);
    }
    cl->skipping = false;
    start = i + 1;
  }
  memmove(cl->in, cl->in + start, cl->in_len - start);
  cl->in_len -= start;
  if (cl->in_len == IN_MAX) {
    if (!cl->skipping) {
      cl->svc->api_bad_lines++;
      reply_err(cl->svc, cl, "-", NB_ELIMIT, "line over 2048 bytes");
    }
    cl->skipping = true;
    cl->in_len = 0;
  }
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  dg_client_t *cl = st->data;
  nb_svc_dgram_t *s = cl->svc;
  (void)buf;
  if (cl->closing) {
    return;
  }
  if (nread < 0) {
    client_close(cl);
    return;
  }
  cl->in_len += (size_t)nread;
  take_lines(cl);
  pump(s);
  flush_all(s);
  rearm(s);
}

static void on_connection(uv_stream_t *server, int status) {
  nb_svc_dgram_t *s = server->data;
  dg_client_t *cl = status == 0 ? calloc(1, sizeof *cl) : NULL;
  if (cl == NULL) {
    return;
  }
  cl->svc = s;
  cl->refs = 1;
  cl->pipe.data = cl;
  uv_pipe_init(s->d->loop, &cl->pipe, 0);
  size_t slot = NB_DGRAM_MAX_CLIENTS;
  for (size_t i = 0; i < NB_DGRAM_MAX_CLIENTS && slot == NB_DGRAM_MAX_CLIENTS;
       i++) {
    slot = s->clients[i] == NULL ? i : slot;
  }
  if (uv_accept(server, (uv_stream_t *)&cl->pipe) != 0 || s->stopping ||
      slot == NB_DGRAM_MAX_CLIENTS) {
    s->api_refused++;
    cl->closing = true;
    uv_close((uv_handle_t *)&cl->pipe, on_pipe_closed);
    return;
  }
  cl->slot = slot;
  s->clients[slot] = cl;
  s->api_clients++;
  uv_read_start((uv_stream_t *)&cl->pipe, on_alloc, on_read);
}

/* A socket file left by a dead nbtd is removed; a live one is an error. */
static int free_path(const char *path) {
  struct stat st;
  struct sockaddr_un sun;
  if (lstat(path, &st) != 0) {
    return errno == ENOENT ? 0 : -errno;
  }
  if (!S_ISSOCK(st.st_mode)) {
    return UV_EEXIST;
  }
  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  bool live = fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0;
  if (fd >= 0) {
    close(fd);
  }
  return live ? UV_EADDRINUSE : unlink(path) == 0 ? 0 : -errno;
}

static int listen_app(nb_svc_dgram_t *s) {
  const char *path = s->d->cfg->dgram_socket;
  char dir[NB_CONFIG_PATH_MAX + 1];
  snprintf(s->path, sizeof s->path, "%s", path);
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash != NULL && slash != dir) {
    *slash = '\0';
    if (mkdir(dir, 0755) == 0 && s->uid != (uid_t)-1 &&
        chown(dir, s->uid, s->gid) != 0) {
      nb_log_info("datagram-service: chown %s: %s", dir, strerror(errno));
    }
  }
  int rc = free_path(path);
  if (rc == 0 && (rc = uv_pipe_init(s->d->loop, &s->server, 0)) == 0) {
    s->server.data = s;
    s->listening = true;
    rc = uv_pipe_bind(&s->server, path);
  }
  if (rc == 0) {
    /* 0660: root and the group of the user nbtd runs as. */
    (void)chmod(path, 0660);
    if (s->uid != (uid_t)-1 && chown(path, s->uid, s->gid) != 0) {
      nb_log_info("datagram-service: chown %s: %s", path, strerror(errno));
    }
    rc = uv_listen((uv_stream_t *)&s->server, 16, on_connection);
  }
  return rc;
}

/* ---- the service -----------------------------------------------------------
 */

static nb_nsnode_type_t node_type(nb_config_node_t t) {
  return t == NB_CONFIG_NODE_P   ? NB_NSNODE_TYPE_P
         : t == NB_CONFIG_NODE_M ? NB_NSNODE_TYPE_M
         : t == NB_CONFIG_NODE_H ? NB_NSNODE_TYPE_H
                                 : NB_NSNODE_TYPE_B;
}

static void engine_config(const nb_daemon_t *d, nb_dgmsvc_config_t *ec) {
  const nb_config_t *c = d->cfg;
  nb_dgmsvc_config_init(ec);
  ec->node_type = node_type(c->node_type);
  for (size_t i = 0; i < d->n_ifaces && i < NB_DGMSVC_MAX_IFACES; i++) {
    ec->ifaces[i].ip = d->ifaces[i].ip;
    ec->ifaces[i].netmask = d->ifaces[i].netmask;
    ec->n_ifaces = i + 1;
  }
  memcpy(ec->scope, c->scope, sizeof ec->scope);
  ec->port = c->dgram_port;
  ec->nbdd = c->nbdd;
  ec->nbdd_query = c->nbdd_query;
  ec->nbdd_role = c->nbdd_server;
  ec->rl_rate = c->dgram_rate_limit;
  ec->rl_burst = c->dgram_rate_limit * 2;
  ec->rl_global_rate = c->dgram_rate_limit_global;
  ec->rl_global_burst = c->dgram_rate_limit_global * 2;
  uv_random(NULL, NULL, &ec->id_seed, sizeof ec->id_seed, 0, NULL);
}

/* Names the name service already holds (it started first). */
static void seed_names(nb_svc_dgram_t *s) {
  nb_nsnode_t *node = nb_svc_ns_node(s->ns);
  size_t n = node != NULL ? nb_nsnode_names(node, s->infos, 64) : 0;
  for (size_t i = 0; i < n && i < 64; i++) {
    if (s->infos[i].state == NB_NSNODE_NAME_ACTIVE) {
      (void)nb_dgmsvc_name_add(s->eng, &s->infos[i].name, s->infos[i].group);
    }
  }
}

static bool tolerated(const nb_svc_dgram_t *s, int rc) {
  return s->optional && (rc == UV_EACCES || rc == UV_EPERM);
}

static int start_io(nb_svc_dgram_t *s) {
  const nb_config_t *c = s->d->cfg;
  int rc = open_sockets(s);
  if (rc != 0 && tolerated(s, rc)) {
    nb_log_warn("datagram-service: UDP %u: %s; running without it",
                c->dgram_port, uv_strerror(rc));
    rc = 0;
  } else if (rc != 0) {
    nb_log_err("datagram-service: UDP %u: %s", c->dgram_port, uv_strerror(rc));
    return rc;
  }
  if (c->dgram_socket[0] == '\0') {
    return 0;
  }
  /* A client that goes away while lines are on their way must be an EPIPE
   * for libuv's write(), not a SIGPIPE that kills nbtd (found by lab_dgram:
   * `nbt dgram listen --count 1` exits while a monitor's copy is queued).
   * Process-wide, as svc_session.c does for TCP. */
  (void)signal(SIGPIPE, SIG_IGN);
  rc = listen_app(s);
  bool dflt = strcmp(c->dgram_socket, NB_CONFIG_DGRAM_SOCKET_DEFAULT) == 0;
  if (rc != 0 && s->optional && dflt) {
    nb_log_warn("datagram-service: %s: %s; running without the socket",
                c->dgram_socket, uv_strerror(rc));
    return 0;
  }
  if (rc != 0) {
    nb_log_err("datagram-service: %s: %s", c->dgram_socket, uv_strerror(rc));
  }
  return rc;
}

static int dg_start(void *self, nb_daemon_t *d) {
  nb_svc_dgram_t *s = self;
  nb_dgmsvc_config_t ec;
  nb_diag_t diag = {NB_OK, 0, NULL};
  s->d = d;
  if (!d->cfg->dgram_service) {
    nb_log_info("datagram-service: off (dgram-service = no)");
    return 0;
  }
  engine_config(d, &ec);
  if (nb_dgmsvc_config_check(&ec, &diag) != NB_OK ||
      nb_dgmsvc_new(&ec, &s->eng) != NB_OK) {
    nb_log_err("datagram-service: bad engine configuration: %s",
               diag.field != NULL ? diag.field : "?");
    return UV_EINVAL;
  }
  uv_timer_init(d->loop, &s->timer);
  uv_check_init(d->loop, &s->check);
  uv_idle_init(d->loop, &s->idle);
  s->timer.data = s->check.data = s->idle.data = s;
  s->handles_init = true;
  uv_check_start(&s->check, on_check);
  nb_svc_ns_observe(s->ns, observer, s);
  seed_names(s);
  return start_io(s);
}

static void dg_stop(void *self) {
  nb_svc_dgram_t *s = self;
  if (s->stopping) {
    return;
  }
  s->stopping = true;
  for (size_t i = 0; i < NB_DGRAM_MAX_CLIENTS; i++) {
    if (s->clients[i] != NULL) {
      client_close(s->clients[i]);
    }
  }
  if (s->listening && !uv_is_closing((uv_handle_t *)&s->server)) {
    uv_close((uv_handle_t *)&s->server, NULL);
    (void)unlink(s->path);
  }
}

static bool dg_done(const void *self) {
  const nb_svc_dgram_t *s = self;
  for (size_t i = 0; i < s->n_out; i++) {
    if (!nb_udp_out_idle(&s->out[i])) {
      return false;
    }
  }
  return true;
}

static void close_handle(uv_handle_t *h) {
  if (!uv_is_closing(h)) {
    uv_close(h, NULL);
  }
}

static void dg_close(void *self) {
  nb_svc_dgram_t *s = self;
  dg_stop(s);
  nb_svc_ns_observe(s->ns, NULL, NULL);
  for (size_t i = 0; i < s->n_socks; i++) {
    nb_udp_poller_close(&s->socks[i].rd);
    close_handle((uv_handle_t *)&s->socks[i].udp);
  }
  if (s->handles_init) {
    close_handle((uv_handle_t *)&s->timer);
    close_handle((uv_handle_t *)&s->check);
    close_handle((uv_handle_t *)&s->idle);
  }
}

/* ---- reports -------------------------------------------------------------
 */

#define DG_COUNTERS(XX)                                                        \
  XX(rx_packets)                                                               \
  XX(rx_dropped)                                                               \
  XX(rx_datagrams)                                                             \
  XX(delivered)                                                                \
  XX(errors_sent)                                                              \
  XX(errors_not_sent)                                                          \
  XX(rate_limited)                                                             \
  XX(errors_received)                                                          \
  XX(sends)                                                                    \
  XX(sends_ok)                                                                 \
  XX(sends_failed)                                                             \
  XX(resolves)                                                                 \
  XX(nbdd_queries)                                                             \
  XX(nbdd_answers)                                                             \
  XX(nbdd_relayed)                                                             \
  XX(tx_queued)                                                                \
  XX(tx_sent)                                                                  \
  XX(tx_queue_full)                                                            \
  XX(events_dropped)

#define DG_REASM(XX)                                                           \
  XX(fragments)                                                                \
  XX(completed)                                                                \
  XX(duplicates)                                                               \
  XX(overlaps)                                                                 \
  XX(conflicts)                                                                \
  XX(expired)                                                                  \
  XX(evicted)                                                                  \
  XX(too_big)                                                                  \
  XX(invalid)

#define DG_API(XX)                                                             \
  XX(api_clients)                                                              \
  XX(api_refused)                                                              \
  XX(api_lines)                                                                \
  XX(api_bad_lines)                                                            \
  XX(api_slow)                                                                 \
  XX(rx_not_ipv4)

static size_t n_binds(const nb_svc_dgram_t *s) {
  size_t n = 0;
  for (size_t i = 0; i < NB_DGMSVC_MAX_BINDS; i++) {
    n += s->binds[i].id != 0;
  }
  return n;
}

static void report_text(const nb_svc_dgram_t *s, nb_sbuf_t *out) {
  const nb_dgmsvc_counters_t *c = nb_dgmsvc_counters(s->eng);
  const nb_dgm_reasm_stats_t *r = nb_dgmsvc_reasm_stats(s->eng);
#define T_(f)                                                                  \
  nb_sbuf_printf(out, "datagram-service.%s %llu\n", #f,                        \
                 (unsigned long long)c->f);
  DG_COUNTERS(T_)
#undef T_
  for (int i = 0; i < NB_DGMSVC_DROP__COUNT; i++) {
    nb_sbuf_printf(out, "datagram-service.drop.%s %llu\n",
                   nb_dgmsvc_drop_name((nb_dgmsvc_drop_t)i),
                   (unsigned long long)c->drop[i]);
  }
#define R_(f)                                                                  \
  nb_sbuf_printf(out, "datagram-service.reasm.%s %llu\n", #f,                  \
                 (unsigned long long)r->f);
  DG_REASM(R_)
#undef R_
#define A_(f)                                                                  \
  nb_sbuf_printf(out, "datagram-service.%s %llu\n", #f,                        \
                 (unsigned long long)s->f);
  DG_API(A_)
#undef A_
  nb_sbuf_printf(out, "datagram-service.udp.rx %llu\n",
                 (unsigned long long)s->udp.rx);
  nb_sbuf_printf(out, "datagram-service.udp.tx %llu\n",
                 (unsigned long long)s->udp.tx);
  nb_sbuf_printf(out, "datagram-service.bindings %zu\n", n_binds(s));
  nb_lbcast_report_text(&s->lbcast, out);
}

static void report_json(const nb_svc_dgram_t *s, nb_sbuf_t *out) {
  const nb_dgmsvc_counters_t *c = nb_dgmsvc_counters(s->eng);
  const nb_dgm_reasm_stats_t *r = nb_dgmsvc_reasm_stats(s->eng);
  nb_sbuf_printf(out, "{\"counters\":{\"bindings\":%zu", n_binds(s));
#define J_(f) nb_sbuf_printf(out, ",\"%s\":%llu", #f, (unsigned long long)c->f);
  DG_COUNTERS(J_)
#undef J_
#define JA_(f)                                                                 \
  nb_sbuf_printf(out, ",\"%s\":%llu", #f, (unsigned long long)s->f);
  DG_API(JA_)
#undef JA_
  nb_sbuf_printf(out, ",\"udp_rx\":%llu,\"udp_tx\":%llu},\"drop\":{",
                 (unsigned long long)s->udp.rx, (unsigned long long)s->udp.tx);
  for (int i = 0; i < NB_DGMSVC_DROP__COUNT; i++) {
    nb_sbuf_printf(out, "%s\"%s\":%llu", i > 0 ? "," : "",
                   nb_dgmsvc_drop_name((nb_dgmsvc_drop_t)i),
                   (unsigned long long)c->drop[i]);
  }
  nb_sbuf_printf(out, "},\"reassembly\":{\"bytes\":%zu",
                 nb_dgmsvc_reasm_bytes(s->eng));
#define JR_(f)                                                                 \
  nb_sbuf_printf(out, ",\"%s\":%llu", #f, (unsigned long long)r->f);
  DG_REASM(JR_)
#undef JR_
  nb_sbuf_printf(out, "},");
  nb_lbcast_report_json(&s->lbcast, s->d, out);
  nb_sbuf_printf(out, "}");
}

static void dg_report(const void *self, nb_sbuf_t *out, nb_report_fmt_t fmt) {
  const nb_svc_dgram_t *s = self;
  if (s->eng == NULL) {
    nb_sbuf_printf(out, "%s", fmt == NB_REPORT_JSON ? "null" : "");
  } else if (fmt == NB_REPORT_JSON) {
    report_json(s, out);
  } else {
    report_text(s, out);
  }
}

const nb_service_ops_t nb_svc_dgram_ops = {
    "datagram-service", dg_start, dg_stop, dg_done, dg_close, dg_report,
};
