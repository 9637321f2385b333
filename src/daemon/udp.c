/* SPDX-License-Identifier: BSD-2-Clause */
#include "udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* libuv reads at most this many datagrams per recvmmsg(), each into a slot
 * of 64 KiB (its UV__MMSG_MAXWIDTH and UV__UDP_DGRAM_MAXSIZE). */
#define RECV_SLOTS 20
#define RECV_SLOT (64u * 1024u)

static char *recv_buf;

int nb_udp_global_init(void) {
  if (recv_buf == NULL) {
    recv_buf = malloc((size_t)RECV_SLOTS * RECV_SLOT);
  }
  return recv_buf != NULL ? 0 : UV_ENOMEM;
}

void nb_udp_global_free(void) {
  free(recv_buf);
  recv_buf = NULL;
}

void nb_udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  (void)suggested;
  *buf = uv_buf_init(recv_buf, recv_buf != NULL ? RECV_SLOTS * RECV_SLOT : 0);
}

static void sockaddr_of(struct sockaddr_in *sa, uint32_t ip, uint16_t port) {
  memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  sa->sin_port = htons(port);
  sa->sin_addr.s_addr = htonl(ip);
}

/* Room for bursts: a loop that is not scheduled for a few milliseconds
 * should not lose datagrams. SO_RCVBUFFORCE passes net.core.rmem_max while
 * we are still root (sockets are bound before root is dropped); otherwise
 * the kernel clamps SO_RCVBUF. Best effort. */
static void grow_rcvbuf(uv_udp_t *handle) {
  uv_os_fd_t fd;
  int size = NB_UDP_RCVBUF;
  if (uv_fileno((const uv_handle_t *)handle, &fd) != 0) {
    return;
  }
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) {
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
}

int nb_udp_open(uv_loop_t *loop, uv_udp_t *handle, uint32_t ip, uint16_t port,
                bool broadcast, uv_close_cb close_cb) {
  struct sockaddr_in sa;
  int rc = uv_udp_init_ex(loop, handle, AF_INET | UV_UDP_RECVMMSG);
  if (rc != 0) {
    return rc;
  }
  sockaddr_of(&sa, ip, port);
  rc = uv_udp_bind(handle, (const struct sockaddr *)&sa, UV_UDP_REUSEADDR);
  if (rc == 0 && broadcast) {
    rc = uv_udp_set_broadcast(handle, 1);
  }
  if (rc == 0) {
    grow_rcvbuf(handle);
  }
  if (rc != 0) {
    uv_close((uv_handle_t *)handle, close_cb);
  }
  return rc;
}

int nb_udp_want_pktinfo(uv_udp_t *handle) {
  uv_os_fd_t fd;
  int on = 1;
  int rc = uv_fileno((const uv_handle_t *)handle, &fd);
  if (rc == 0 && setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on) != 0) {
    rc = uv_translate_sys_error(errno);
  }
  return rc;
}

void nb_udp_out_init(nb_udp_out_t *out, uv_udp_t *handle,
                     nb_udp_counters_t *counters) {
  out->handle = handle;
  out->n = 0;
  out->counters = counters;
  out->last_error = 0;
}

/* libuv's queue: one heap block per datagram, request first. */
typedef struct {
  uv_udp_send_t req;
  size_t len;
  uint8_t data[];
} queued_t;

static void queued_done(uv_udp_send_t *req, int status) {
  queued_t *q = (queued_t *)req;
  nb_udp_counters_t *c = req->data;
  if (status == 0) {
    c->tx++;
  } else if (status != UV_ECANCELED) {
    c->tx_errors++;
  }
  free(q);
}

static void enqueue(nb_udp_out_t *out, size_t i) {
  nb_udp_counters_t *c = out->counters;
  size_t len = out->iov[i].iov_len;
  queued_t *q = NULL;
  if (uv_udp_get_send_queue_size(out->handle) + len <= NB_UDP_QUEUE_MAX) {
    q = malloc(sizeof *q + len);
  }
  if (q == NULL) {
    c->tx_dropped++;
    return;
  }
  q->len = len;
  memcpy(q->data, out->data[i], len);
  q->req.data = c;
  uv_buf_t b = uv_buf_init((char *)q->data, (unsigned)len);
  if (uv_udp_send(&q->req, out->handle, &b, 1,
                  (const struct sockaddr *)&out->dst[i], queued_done) != 0) {
    c->tx_errors++;
    free(q);
    return;
  }
  c->tx_queued++;
}

/* sendmmsg() from batch entry `i` on; returns the next unsent entry. */
static size_t send_direct(nb_udp_out_t *out, size_t i, bool *blocked) {
  uv_os_fd_t fd;
  if (uv_fileno((const uv_handle_t *)out->handle, &fd) != 0) {
    *blocked = true;
    return i;
  }
  int rc;
  do {
    rc = sendmmsg(fd, &out->msgs[i], (unsigned)(out->n - i), MSG_DONTWAIT);
  } while (rc < 0 && errno == EINTR);
  out->counters->tx_syscalls++;
  if (rc > 0) {
    out->counters->tx += (uint64_t)rc;
    return i + (size_t)rc;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
    *blocked = true;
    return i;
  }
  out->last_error = errno; /* this datagram is refused: skip it */
  out->counters->tx_errors++;
  return i + 1;
}

void nb_udp_out_flush(nb_udp_out_t *out) {
  size_t i = 0;
  bool blocked = uv_udp_get_send_queue_count(out->handle) > 0;
  while (i < out->n && !blocked) {
    i = send_direct(out, i, &blocked);
  }
  for (; i < out->n; i++) {
    enqueue(out, i);
  }
  out->n = 0;
}

void nb_udp_out_add(nb_udp_out_t *out, const uint8_t *data, size_t len,
                    uint32_t ip, uint16_t port) {
  if (len > NB_UDP_MAX_PAYLOAD) {
    out->counters->tx_dropped++;
    return;
  }
  size_t i = out->n++;
  memcpy(out->data[i], data, len);
  sockaddr_of(&out->dst[i], ip, port);
  out->iov[i].iov_base = out->data[i];
  out->iov[i].iov_len = len;
  memset(&out->msgs[i], 0, sizeof out->msgs[i]);
  out->msgs[i].msg_hdr.msg_name = &out->dst[i];
  out->msgs[i].msg_hdr.msg_namelen = sizeof out->dst[i];
  out->msgs[i].msg_hdr.msg_iov = &out->iov[i];
  out->msgs[i].msg_hdr.msg_iovlen = 1;
  if (out->n == NB_UDP_BATCH) {
    nb_udp_out_flush(out);
  }
}

bool nb_udp_out_idle(const nb_udp_out_t *out) {
  return out->n == 0 && uv_udp_get_send_queue_count(out->handle) == 0;
}

/* ---- direct reading -------------------------------------------------- */

/* Room for one IP_PKTINFO per datagram (aligned as a cmsghdr). */
typedef union {
  size_t align; /* cmsghdr alignment: its first member is a size_t */
  uint8_t buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
} rx_ctrl_t;

static struct {
  bool init;
  struct mmsghdr msgs[NB_UDP_RX_BATCH];
  struct iovec iov[NB_UDP_RX_BATCH];
  struct sockaddr_storage from[NB_UDP_RX_BATCH];
  rx_ctrl_t ctrl[NB_UDP_RX_BATCH];
  uint8_t data[NB_UDP_RX_BATCH][NB_UDP_RX_SLOT];
} rx;

static void rx_reset(void) {
  for (size_t i = 0; i < NB_UDP_RX_BATCH; i++) {
    if (!rx.init) {
      rx.iov[i].iov_base = rx.data[i];
      rx.iov[i].iov_len = NB_UDP_RX_SLOT;
      rx.msgs[i].msg_hdr.msg_iov = &rx.iov[i];
      rx.msgs[i].msg_hdr.msg_iovlen = 1;
      rx.msgs[i].msg_hdr.msg_name = &rx.from[i];
      rx.msgs[i].msg_hdr.msg_control = rx.ctrl[i].buf;
    }
    /* the kernel writes these back */
    rx.msgs[i].msg_hdr.msg_namelen = sizeof rx.from[i];
    rx.msgs[i].msg_hdr.msg_controllen = sizeof rx.ctrl[i].buf;
    rx.msgs[i].msg_hdr.msg_flags = 0;
  }
  rx.init = true;
}

/* The IP_PKTINFO of a received message, if it came with one. */
static void rx_dst(struct msghdr *h, nb_udp_dst_t *dst) {
  memset(dst, 0, sizeof *dst);
  for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm != NULL;
       cm = CMSG_NXTHDR(h, cm)) {
    if (cm->cmsg_level != IPPROTO_IP || cm->cmsg_type != IP_PKTINFO ||
        cm->cmsg_len < CMSG_LEN(sizeof(struct in_pktinfo))) {
      continue;
    }
    struct in_pktinfo pi;
    memcpy(&pi, CMSG_DATA(cm), sizeof pi);
    dst->known = true;
    dst->addr = ntohl(pi.ipi_addr.s_addr);
    dst->spec_dst = ntohl(pi.ipi_spec_dst.s_addr);
    dst->ifindex = pi.ipi_ifindex > 0 ? (unsigned)pi.ipi_ifindex : 0;
  }
}

/* One reader for both callback kinds: exactly one of fn, fn_dst is set. */
typedef struct {
  nb_udp_rx_fn fn;
  nb_udp_rx_dst_fn fn_dst;
  void *ctx;
} rx_sink_t;

/* One recvmmsg(); the number of datagrams read, or -1 (errno). */
static int rx_batch(uv_os_fd_t fd, nb_udp_counters_t *c, const rx_sink_t *k) {
  int n;
  rx_reset();
  do {
    n = recvmmsg(fd, rx.msgs, NB_UDP_RX_BATCH, MSG_DONTWAIT, NULL);
  } while (n < 0 && errno == EINTR);
  for (int i = 0; i < n; i++) {
    struct msghdr *h = &rx.msgs[i].msg_hdr;
    const struct sockaddr *from =
        (const struct sockaddr *)(const void *)&rx.from[i];
    if ((h->msg_flags & MSG_TRUNC) != 0) {
      c->rx_truncated++;
      continue;
    }
    if (k->fn_dst != NULL) {
      nb_udp_dst_t dst;
      rx_dst(h, &dst);
      k->fn_dst(k->ctx, rx.data[i], rx.msgs[i].msg_len, from, &dst);
    } else {
      k->fn(k->ctx, rx.data[i], rx.msgs[i].msg_len, from);
    }
  }
  return n;
}

static void rx_rounds(uv_os_fd_t fd, nb_udp_counters_t *c, const rx_sink_t *k) {
  for (int round = 0; round < NB_UDP_RX_ROUNDS; round++) {
    int n = rx_batch(fd, c, k);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      c->rx_errors++;
    }
    if (n < NB_UDP_RX_BATCH) {
      return; /* drained (or failed): wait for the next wake-up */
    }
  }
}

void nb_udp_read(uv_os_fd_t fd, nb_udp_counters_t *c, nb_udp_rx_fn fn,
                 void *ctx) {
  rx_sink_t k = {fn, NULL, ctx};
  rx_rounds(fd, c, &k);
}

void nb_udp_read_dst(uv_os_fd_t fd, nb_udp_counters_t *c, nb_udp_rx_dst_fn fn,
                     void *ctx) {
  rx_sink_t k = {NULL, fn, ctx};
  rx_rounds(fd, c, &k);
}

void nb_udp_poller_reset(nb_udp_poller_t *p) {
  p->fd = -1;
  p->init = false;
}

static void poller_closed(uv_handle_t *h) {
  nb_udp_poller_t *p = (nb_udp_poller_t *)(void *)h; /* poll is first */
  (void)close(p->fd);
  p->fd = -1;
}

int nb_udp_poller_start(nb_udp_poller_t *p, uv_loop_t *loop, uv_udp_t *udp,
                        uv_poll_cb cb, void *data) {
  uv_os_fd_t fd;
  int rc = uv_fileno((const uv_handle_t *)udp, &fd);
  if (rc != 0) {
    return rc;
  }
  p->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (p->fd < 0) {
    return uv_translate_sys_error(errno);
  }
  rc = uv_poll_init_socket(loop, &p->poll, p->fd);
  if (rc != 0) {
    (void)close(p->fd);
    p->fd = -1;
    return rc;
  }
  p->init = true;
  p->poll.data = data;
  return uv_poll_start(&p->poll, UV_READABLE, cb);
}

void nb_udp_poller_close(nb_udp_poller_t *p) {
  if (p->init) {
    if (!uv_is_closing((uv_handle_t *)&p->poll)) {
      uv_close((uv_handle_t *)&p->poll, poller_closed);
    }
  } else if (p->fd >= 0) {
    (void)close(p->fd);
    p->fd = -1;
  }
}

bool nb_udp_peer(const struct sockaddr *addr, uint32_t *ip, uint16_t *port) {
  if (addr == NULL || addr->sa_family != AF_INET) {
    return false;
  }
  const struct sockaddr_in *sin =
      (const struct sockaddr_in *)(const void *)addr;
  *ip = ntohl(sin->sin_addr.s_addr);
  *port = ntohs(sin->sin_port);
  return true;
}

const char *nb_udp_ntoa(uint32_t ip, char buf[16]) {
  snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xffu,
           (ip >> 8) & 0xffu, ip & 0xffu);
  return buf;
}
