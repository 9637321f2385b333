/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NBTD_UDP_H
#define NBTD_UDP_H

/* UDP plumbing shared by nbtd's services (shell layer, no protocol logic).
 *
 * Receiving: sockets are opened with UV_UDP_RECVMMSG, and nb_udp_alloc()
 * hands libuv one process-wide buffer big enough for a full recvmmsg()
 * batch. The buffer is only in use inside one read callback run, which is
 * always finished before libuv reads another socket.
 *
 * Sending: datagrams are copied into a per-socket batch and written with
 * one sendmmsg() per batch (when the batch fills, and once per loop
 * iteration from a uv_check handle). When the kernel would block, the rest
 * goes through libuv's own send queue (uv_udp_send, copied, freed in the
 * callback), bounded by NB_UDP_QUEUE_MAX bytes; beyond that datagrams are
 * dropped and counted. Order on a socket is kept: nothing is written
 * directly while libuv's queue is not empty. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#define NB_UDP_BATCH 64
#define NB_UDP_MAX_PAYLOAD 1472 /* largest datagram a service sends */
#define NB_UDP_QUEUE_MAX (256u * 1024u)
#define NB_UDP_RCVBUF (1 << 20) /* socket receive buffer asked for */

typedef struct nb_udp_counters {
  uint64_t rx;           /* datagrams received */
  uint64_t rx_truncated; /* longer than the receive slot (MSG_TRUNC) */
  uint64_t rx_errors;    /* read errors */
  uint64_t tx;           /* datagrams handed to the kernel */
  uint64_t tx_syscalls;  /* sendmmsg()/sendmsg() calls */
  uint64_t tx_queued;    /* datagrams that went through libuv's queue */
  uint64_t tx_dropped;   /* dropped: libuv's queue over its cap */
  uint64_t tx_errors;    /* refused by the kernel (e.g. ENETUNREACH) */
} nb_udp_counters_t;

/* A socket's outgoing batch. Embedded in the owner's struct. */
typedef struct nb_udp_out {
  uv_udp_t *handle;
  size_t n;
  struct mmsghdr msgs[NB_UDP_BATCH];
  struct iovec iov[NB_UDP_BATCH];
  struct sockaddr_in dst[NB_UDP_BATCH];
  uint8_t data[NB_UDP_BATCH][NB_UDP_MAX_PAYLOAD];
  nb_udp_counters_t *counters; /* where to count (borrowed) */
  int last_error;              /* last errno from a send, 0 if none */
} nb_udp_out_t;

/* Make the process-wide receive buffer; 0 or UV_ENOMEM. */
int nb_udp_global_init(void);
void nb_udp_global_free(void);

/* libuv alloc callback for sockets opened with UV_UDP_RECVMMSG. */
void nb_udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);

/* Open `handle` on `loop` bound to ip:port (host order), with
 * SO_REUSEADDR, recvmmsg, a receive buffer of NB_UDP_RCVBUF, and
 * SO_BROADCAST when `broadcast` is set.
 * 0 or a libuv error; on error the handle is closed (close_cb runs). */
int nb_udp_open(uv_loop_t *loop, uv_udp_t *handle, uint32_t ip, uint16_t port,
                bool broadcast, uv_close_cb close_cb);

/* Ask for IP_PKTINFO on an open socket (for nb_udp_read_dst()): the
 * destination address and receiving interface of every datagram.
 * 0 or a libuv error. */
int nb_udp_want_pktinfo(uv_udp_t *handle);

/* Bind `out` to an open socket. */
void nb_udp_out_init(nb_udp_out_t *out, uv_udp_t *handle,
                     nb_udp_counters_t *counters);

/* Queue one datagram for ip:port (host order); flushes when the batch is
 * full. A payload over NB_UDP_MAX_PAYLOAD is dropped and counted. */
void nb_udp_out_add(nb_udp_out_t *out, const uint8_t *data, size_t len,
                    uint32_t ip, uint16_t port);

/* Write everything batched so far. */
void nb_udp_out_flush(nb_udp_out_t *out);

/* True when nothing is waiting, here or in libuv's queue. */
bool nb_udp_out_idle(const nb_udp_out_t *out);

/* Direct reading, for a socket whose readiness the caller watches itself
 * (a uv_poll_t on a dup() of the socket's descriptor): one recvmmsg() of
 * up to NB_UDP_RX_BATCH datagrams, another only while batches come back
 * full (at most NB_UDP_RX_ROUNDS), so a drained socket costs no extra
 * EAGAIN call per wake-up as libuv's read loop does; epoll is
 * level-triggered, so what arrives meanwhile wakes the loop again. Each
 * datagram goes to `fn` (`data` valid during the call only); longer ones
 * than NB_UDP_RX_SLOT are counted as rx_truncated and skipped, read errors
 * as rx_errors. One process-wide buffer: not reentrant. */
#define NB_UDP_RX_BATCH 64
#define NB_UDP_RX_ROUNDS 4
#define NB_UDP_RX_SLOT 4096
typedef void (*nb_udp_rx_fn)(void *ctx, const uint8_t *data, size_t len,
                             const struct sockaddr *from);
void nb_udp_read(uv_os_fd_t fd, nb_udp_counters_t *counters, nb_udp_rx_fn fn,
                 void *ctx);

/* A dup() of an open socket's descriptor watched by a uv_poll_t: how the
 * services wait for nb_udp_read()/nb_udp_read_dst() to have something. */
typedef struct nb_udp_poller {
  uv_poll_t poll; /* first member; poll.data is the caller's */
  uv_os_fd_t fd;  /* -1 until started; closed after the poll handle */
  bool init;      /* `poll` initialised: nb_udp_poller_close() closes it */
} nb_udp_poller_t;

/* Not started: what nb_udp_poller_close() may always be called on. */
void nb_udp_poller_reset(nb_udp_poller_t *p);

/* Dup `udp`'s descriptor and call `cb` (poll.data = `data`) whenever it is
 * readable. 0 or a libuv error; on error nb_udp_poller_close() still
 * releases what was set up. */
int nb_udp_poller_start(nb_udp_poller_t *p, uv_loop_t *loop, uv_udp_t *udp,
                        uv_poll_cb cb, void *data);

/* Close the poll handle (the dup'd descriptor when its close completes),
 * or just the descriptor when no handle was made. Idempotent. */
void nb_udp_poller_close(nb_udp_poller_t *p);

/* Where a datagram was received (IP_PKTINFO, see nb_udp_want_pktinfo()).
 * Host order. `known` is false when the kernel sent no IP_PKTINFO. */
typedef struct nb_udp_dst {
  bool known;
  uint32_t addr;     /* ipi_addr: the header's destination address */
  uint32_t spec_dst; /* ipi_spec_dst: the local address replies would use */
  unsigned ifindex;  /* ipi_ifindex: the interface it arrived on */
} nb_udp_dst_t;
typedef void (*nb_udp_rx_dst_fn)(void *ctx, const uint8_t *data, size_t len,
                                 const struct sockaddr *from,
                                 const nb_udp_dst_t *dst);

/* As nb_udp_read(), passing each datagram's IP_PKTINFO (`dst` valid during
 * the call only). */
void nb_udp_read_dst(uv_os_fd_t fd, nb_udp_counters_t *counters,
                     nb_udp_rx_dst_fn fn, void *ctx);

/* The sender of a received datagram, host order; false if not IPv4. */
bool nb_udp_peer(const struct sockaddr *addr, uint32_t *ip, uint16_t *port);

/* Dotted-quad text of a host-order address into `buf` (16 bytes). */
const char *nb_udp_ntoa(uint32_t ip, char buf[16]);

#endif
