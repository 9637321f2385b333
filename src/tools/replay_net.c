/* SPDX-License-Identifier: BSD-2-Clause */
/* Sending a capture's requests to the target and collecting what comes
 * back, for `nbt replay` (shell layer: sockets and a clock; the framing is
 * the nb_ssn framer's).
 *
 * WARNING: parses untrusted network data: the target's TCP stream is cut
 * by the nb_ssn framer (capped at NBT_RP_MAX_PKT per packet, header and
 * NBT_RP_SSN_KEEP body bytes kept), UDP datagrams are peeked at through
 * nb_rd_t cursors.
 *
 * Traffic goes only to opts->target, which cmd_replay.c has checked is a
 * unicast address; sockets never get SO_BROADCAST, so the kernel refuses a
 * broadcast destination anyway. Every wait is bounded by the per-exchange
 * timeout. UDP: one fresh socket on an ephemeral port per exchange, so a
 * late answer to an earlier exchange cannot be taken for this one; every
 * datagram from the target's address within the timeout whose
 * NAME_TRN_ID (NS) matches is collected, since nmbd may answer twice.
 * TCP: one connection per recorded connection, opened at its first turn;
 * after each client packet the target's packets are read until as many as
 * were recorded have come (and, when the recorded server closed, until it
 * closes), or the timeout. Bytes that arrive beyond that stay for the next
 * turn. */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nb/ssn.h"
#include "nb/wire.h"
#include "replay.h"

#define RP_INBUF 65536

typedef struct rp_tcp {
  unsigned conn; /* recorded connection number; 0 = free slot */
  int fd;
  bool eof;
  bool broken; /* out of memory: nothing more is read */
  bool raw;    /* the framer refused the stream: cut by LENGTH */
  nb_ssn_framer_t fr;
  uint8_t in[RP_INBUF]; /* received, not yet framed */
  size_t in_len;
  uint8_t *pkt; /* the packet being framed (header + kept body) */
  size_t pkt_len, pkt_full;
} rp_tcp_t;

struct nbt_rp_net {
  nbt_rp_opts_t o;
  rp_tcp_t *tcp[NBT_RP_MAX_CONN];
};

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int left_ms(double deadline) {
  double l = deadline - now_ms();
  return l <= 0 ? 0 : (int)l + 1;
}

static struct sockaddr_in target_addr(const nbt_rp_net_t *n, uint16_t port) {
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(n->o.target);
  return sa;
}

static void set_error(nbt_rp_result_t *res, const char *what, int err) {
  snprintf(res->error, sizeof res->error, "%s: %s", what, strerror(err));
}

static bool add_live(nbt_rp_result_t *res, const uint8_t *p, size_t keep,
                     size_t full) {
  if (res->nlive == NBT_RP_MAX_RESP) {
    res->live_dropped++;
    return true;
  }
  if (!nbt_rp_msg_set(&res->live[res->nlive], p, keep, full, 0)) {
    return false;
  }
  res->nlive++;
  return true;
}

/* ---- UDP ----------------------------------------------------------------- */

/* True when `p` answers `req`, by the rule replay_plan.c applies to the
 * capture: an NS response carries the request's NAME_TRN_ID (RFC 1002
 * 4.2.1.1); a datagram response is a DATAGRAM ERROR or QUERY response
 * (RFC 1002 4.4.3, 4.4.4) with the request's DGM_ID. */
static bool udp_matches(const nbt_rp_exch_t *e, const uint8_t *p, size_t n) {
  nb_rd_t a;
  nb_rd_t b;
  uint8_t type = 0;
  uint16_t ida = 0;
  uint16_t idb = 0;
  nb_rd_init(&a, e->req.data, e->req.len);
  nb_rd_init(&b, p, n);
  if (e->kind == NBT_RP_DGM) {
    if (nb_rd_u8(&b, &type) != NB_OK ||
        (type != 0x13 && type != 0x15 && type != 0x16)) {
      return false;
    }
    (void)nb_rd_skip(&a, 2);
    (void)nb_rd_skip(&b, 1);
  }
  return nb_rd_be16(&a, &ida) == NB_OK && nb_rd_be16(&b, &idb) == NB_OK &&
         ida == idb;
}

static void udp_collect(nbt_rp_net_t *n, int fd, const nbt_rp_exch_t *e,
                        nbt_rp_result_t *res, double deadline) {
  static uint8_t buf[NBT_RP_MAX_UDP];
  for (int ms; (ms = left_ms(deadline)) > 0;) {
    struct pollfd pfd = {fd, POLLIN, 0};
    int pr = poll(&pfd, 1, ms);
    if (pr < 0 && errno == EINTR) {
      continue;
    }
    if (pr <= 0) {
      break;
    }
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ssize_t got =
        recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    if (got < 0) {
      if (errno != EINTR && errno != EAGAIN && errno != ECONNREFUSED) {
        set_error(res, "recvfrom", errno);
        break;
      }
      continue;
    }
    if (ntohl(from.sin_addr.s_addr) != n->o.target ||
        !udp_matches(e, buf, (size_t)got)) {
      res->stray++;
      continue;
    }
    if (!add_live(res, buf, (size_t)got, (size_t)got)) {
      set_error(res, "collect", ENOMEM);
      break;
    }
  }
}

static void udp_exchange(nbt_rp_net_t *n, const nbt_rp_exch_t *e,
                         nbt_rp_result_t *res, double deadline) {
  uint16_t port = n->o.port[e->kind];
  struct sockaddr_in to = target_addr(n, port);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    set_error(res, "socket", errno);
    return;
  }
  struct sockaddr_in any;
  memset(&any, 0, sizeof any);
  any.sin_family = AF_INET;
  if (bind(fd, (struct sockaddr *)&any, sizeof any) != 0) {
    set_error(res, "bind", errno);
  } else if (sendto(fd, e->req.data, e->req.len, 0, (struct sockaddr *)&to,
                    sizeof to) != (ssize_t)e->req.len) {
    set_error(res, "sendto", errno);
  } else {
    udp_collect(n, fd, e, res, deadline);
  }
  close(fd);
}

/* ---- TCP ----------------------------------------------------------------- */

static rp_tcp_t *tcp_slot(nbt_rp_net_t *n, unsigned conn) {
  for (size_t i = 0; i < NBT_RP_MAX_CONN; i++) {
    if (n->tcp[i] != NULL && n->tcp[i]->conn == conn) {
      return n->tcp[i];
    }
  }
  return NULL;
}

static void tcp_close(nbt_rp_net_t *n, rp_tcp_t *t) {
  for (size_t i = 0; i < NBT_RP_MAX_CONN; i++) {
    if (n->tcp[i] == t) {
      n->tcp[i] = NULL;
    }
  }
  if (t->fd >= 0) {
    close(t->fd);
  }
  free(t->pkt);
  free(t);
}

/* A non-blocking connect bounded by the deadline. */
static int tcp_connect(nbt_rp_net_t *n, nbt_rp_result_t *res, double deadline) {
  struct sockaddr_in to = target_addr(n, n->o.port[NBT_RP_SSN]);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    set_error(res, "socket", errno);
    return -1;
  }
  if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0 &&
      errno != EINPROGRESS) {
    set_error(res, "connect", errno);
    close(fd);
    return -1;
  }
  struct pollfd pfd = {fd, POLLOUT, 0};
  int soerr = 0;
  socklen_t sl = sizeof soerr;
  if (poll(&pfd, 1, left_ms(deadline)) <= 0) {
    soerr = ETIMEDOUT;
  } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0) {
    soerr = errno;
  }
  if (soerr != 0) {
    set_error(res, "connect", soerr);
    close(fd);
    return -1;
  }
  return fd;
}

static rp_tcp_t *tcp_open(nbt_rp_net_t *n, unsigned conn, nbt_rp_result_t *res,
                          double deadline) {
  size_t slot = 0;
  while (slot < NBT_RP_MAX_CONN && n->tcp[slot] != NULL) {
    slot++;
  }
  rp_tcp_t *t = slot < NBT_RP_MAX_CONN ? calloc(1, sizeof *t) : NULL;
  if (t == NULL) {
    set_error(res, "connection", ENOMEM);
    return NULL;
  }
  t->conn = conn;
  t->fd = tcp_connect(n, res, deadline);
  (void)nb_ssn_framer_init(&t->fr, NB_SSN_MODE_RFC, 0);
  t->pkt = malloc(NB_SSN_HEADER_LEN + NBT_RP_SSN_KEEP);
  n->tcp[slot] = t;
  if (t->fd < 0 || t->pkt == NULL) {
    t->broken = true;
  }
  return t;
}

static bool tcp_send(rp_tcp_t *t, const nbt_rp_msg_t *m, nbt_rp_result_t *res,
                     double deadline) {
  size_t off = 0;
  while (off < m->len) {
    struct pollfd pfd = {t->fd, POLLOUT, 0};
    if (poll(&pfd, 1, left_ms(deadline)) <= 0) {
      set_error(res, "send", ETIMEDOUT);
      return false;
    }
    ssize_t w = send(t->fd, m->data + off, m->len - off, MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN && errno != EINTR) {
      set_error(res, "send", errno);
      return false;
    }
    off += w > 0 ? (size_t)w : 0;
  }
  return true;
}

static void pkt_keep(rp_tcp_t *t, const uint8_t *p, size_t n) {
  size_t room = NB_SSN_HEADER_LEN + NBT_RP_SSN_KEEP - t->pkt_len;
  size_t take = n < room ? n : room;
  memcpy(t->pkt + t->pkt_len, p, take);
  t->pkt_len += take;
  t->pkt_full += n;
}

static bool tcp_packet_done(rp_tcp_t *t, nbt_rp_result_t *res) {
  if (!add_live(res, t->pkt, t->pkt_len, t->pkt_full)) {
    t->broken = true;
  }
  t->pkt_len = 0;
  t->pkt_full = 0;
  return true;
}

/* After the framer refused the target's stream: cut by LENGTH alone. */
static bool tcp_raw_one(rp_tcp_t *t, nbt_rp_result_t *res) {
  while (t->in_len > 0 && !t->broken) {
    size_t want = nbt_rp_ssn_raw_size(t->pkt, t->pkt_len, t->fr.mode);
    size_t need = want ? want - t->pkt_full : NB_SSN_HEADER_LEN - t->pkt_full;
    size_t take = need < t->in_len ? need : t->in_len;
    pkt_keep(t, t->in, take);
    memmove(t->in, t->in + take, t->in_len - take);
    t->in_len -= take;
    want = nbt_rp_ssn_raw_size(t->pkt, t->pkt_len, t->fr.mode);
    if (want != 0 && t->pkt_full == want) {
      return tcp_packet_done(t, res);
    }
  }
  return false;
}

/* Frame buffered bytes until one packet completes (true) or they run out
 * (false). The SMB2 switch to direct framing follows replay_plan.c. */
static bool tcp_frame_one(rp_tcp_t *t, nbt_rp_result_t *res) {
  static const uint8_t smb2[4] = {0xfe, 'S', 'M', 'B'};
  if (t->raw) {
    return tcp_raw_one(t, res);
  }
  while (!t->broken) {
    nb_ssn_event_t ev;
    size_t used = 0;
    (void)nb_ssn_framer_feed(&t->fr, t->in, t->in_len, &used, &ev);
    pkt_keep(t, t->in, used);
    memmove(t->in, t->in + used, t->in_len - used);
    t->in_len -= used;
    if (ev.kind == NB_SSN_EV_NEED_MORE) {
      return false;
    }
    if (ev.kind == NB_SSN_EV_ERROR) {
      t->raw = true; /* as replay_plan.c does with the capture */
      return tcp_raw_one(t, res);
    }
    if (ev.kind == NB_SSN_EV_CONTROL || ev.kind == NB_SSN_EV_MSG_END) {
      bool is2 = t->pkt_len >= 8 && t->pkt[0] == 0 &&
                 memcmp(t->pkt + NB_SSN_HEADER_LEN, smb2, 4) == 0;
      if (is2 && t->fr.mode == NB_SSN_MODE_RFC) {
        (void)nb_ssn_framer_set_mode(&t->fr, NB_SSN_MODE_DIRECT);
      }
      return tcp_packet_done(t, res);
    }
  }
  return false;
}

/* Receive more bytes; false on timeout, EOF or error. */
static bool tcp_recv(rp_tcp_t *t, nbt_rp_result_t *res, double deadline) {
  struct pollfd pfd = {t->fd, POLLIN, 0};
  int pr = poll(&pfd, 1, left_ms(deadline));
  if (pr <= 0) {
    return false;
  }
  ssize_t got = recv(t->fd, t->in + t->in_len, sizeof t->in - t->in_len, 0);
  if (got == 0 || (got < 0 && errno == ECONNRESET)) {
    t->eof = true;
    return false;
  }
  if (got < 0) {
    if (errno == EAGAIN || errno == EINTR) {
      return true;
    }
    set_error(res, "recv", errno);
    t->broken = true;
    return false;
  }
  t->in_len += (size_t)got;
  return true;
}

static bool tcp_need(const nbt_rp_exch_t *e, const nbt_rp_result_t *res) {
  return res->nlive + res->live_dropped < e->nrec;
}

/* Read the target's packets for this turn: as many as were recorded, then,
 * when the recorded server closed, everything up to its close. Framing
 * always empties `in` unless the count was reached first. */
static void tcp_collect(rp_tcp_t *t, const nbt_rp_exch_t *e,
                        nbt_rp_result_t *res, double deadline) {
  for (;;) {
    while (tcp_need(e, res) && tcp_frame_one(t, res)) {
    }
    if (!tcp_need(e, res) && !e->rec_closed) {
      break;
    }
    while (!tcp_need(e, res) && tcp_frame_one(t, res)) {
    }
    if (t->eof || t->broken || !tcp_recv(t, res, deadline)) {
      break;
    }
  }
  res->live_closed = t->eof;
}

static void tcp_exchange(nbt_rp_net_t *n, const nbt_rp_exch_t *e,
                         nbt_rp_result_t *res, double deadline) {
  rp_tcp_t *t = tcp_slot(n, e->conn);
  if (t == NULL) {
    t = tcp_open(n, e->conn, res, deadline);
  }
  if (t == NULL) {
    return;
  }
  if (t->broken || t->eof) {
    if (res->error[0] == '\0') {
      snprintf(res->error, sizeof res->error, "%s",
               t->eof ? "connection closed by the target" : "no connection");
    }
    res->live_closed = t->eof;
  } else if (tcp_send(t, &e->req, res, deadline)) {
    tcp_collect(t, e, res, deadline);
  }
  if (e->last_turn) {
    tcp_close(n, t);
  }
}

/* ---- the run ---------------------------------------------------------- */

nbt_rp_net_t *nbt_rp_net_new(const nbt_rp_opts_t *o) {
  nbt_rp_net_t *n = calloc(1, sizeof *n);
  if (n != NULL) {
    n->o = *o;
  }
  return n;
}

void nbt_rp_net_exchange(nbt_rp_net_t *n, const nbt_rp_exch_t *e,
                         nbt_rp_result_t *res) {
  double start = now_ms();
  double deadline = start + n->o.timeout_ms;
  if (e->kind == NBT_RP_SSN) {
    tcp_exchange(n, e, res, deadline);
  } else {
    udp_exchange(n, e, res, deadline);
  }
  res->ms = now_ms() - start;
}

void nbt_rp_net_free(nbt_rp_net_t *n) {
  if (n == NULL) {
    return;
  }
  for (size_t i = 0; i < NBT_RP_MAX_CONN; i++) {
    if (n->tcp[i] != NULL) {
      tcp_close(n, n->tcp[i]);
    }
  }
  free(n);
}
