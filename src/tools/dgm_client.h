/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NBT_DGM_CLIENT_H
#define NBT_DGM_CLIENT_H

/* The datagram service for `nbt dgram` and `nbt browse`, two ways:
 *  - through nbtd: its application socket (docs/DATAGRAM-API.md), one line
 *    per request and per event;
 *  - standalone, when no nbtd runs: the datagram engine (nb/dgmsvc.h)
 *    in-process on a UDP socket bound to 0.0.0.0:138 (root), names
 *    resolved by the name-service engine in-process (ns_client.h). A
 *    standalone listener holds its names only locally: it does not
 *    register them, and it never sends DATAGRAM ERRORs (it is not the
 *    node's datagram service).
 * Shell layer: it moves bytes and lines; the protocol is the engine's and
 * the codec's. Blocking, poll()-based, time passed to the engine. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nb/dgmsvc.h"
#include "ns_client.h"

typedef struct nbt_dgm_opts {
  const char *socket; /* nbtd's socket; NULL: the default path, and
                         standalone when nothing listens there */
  bool standalone;    /* never try nbtd */
  uint16_t port;      /* standalone: the datagram port (138) */
  uint16_t ns_port;   /* standalone: the name service's port (137) */
  uint32_t bcast;     /* standalone: broadcast address; 0 = every
                         interface's */
  const char *scope;  /* standalone: the scope ("" none) */
  bool must_bind;     /* standalone: fail if the port cannot be bound
                         (listeners); senders fall back to an ephemeral
                         port */
} nbt_dgm_opts_t;

/* One received datagram. */
typedef struct nbt_dgm_rx {
  nb_dgmsvc_api_kind_t kind;
  uint32_t ip; /* SOURCE_IP and SOURCE_PORT of the datagram */
  uint16_t port;
  nb_name_t from;
  nb_name_t to;
  bool broadcast; /* received by broadcast */
  size_t len;
  uint8_t data[NB_DGM_USER_DATA_MAX];
} nbt_dgm_rx_t;

/* What a send became. */
typedef struct nbt_dgm_sent {
  nb_dgmsvc_api_kind_t kind; /* unique, group or broadcast */
  uint32_t packets;
  uint32_t ip; /* the (first) destination */
} nbt_dgm_sent_t;

#define NBT_DGM_QUEUE 32

typedef struct nbt_dgm {
  bool daemon;
  int fd; /* nbtd's socket, or the UDP socket */
  char path[108];
  /* through nbtd */
  char in[NB_DGMSVC_API_LINE_MAX + 2];
  size_t in_len;
  unsigned tags;
  nb_dgmsvc_api_msg_t msg; /* scratch */
  /* standalone */
  nb_dgmsvc_t *eng;
  nbt_ns_client_t ns;
  bool ns_open;
  uint16_t port;
  /* datagrams that came while waiting for an answer */
  nbt_dgm_rx_t q[NBT_DGM_QUEUE];
  size_t q_head, q_n;
  /* the last send, for a DATAGRAM ERROR coming back */
  char last_tag[NB_DGMSVC_API_TAG_MAX + 1];
  uint32_t last_handle;
  bool derr;
  uint8_t derr_code;
  uint32_t derr_ip;
} nbt_dgm_t;

/* 0, or -1 with `err` filled. `note` (may be NULL) is set to a static
 * line saying which way was taken. */
int nbt_dgm_open(nbt_dgm_t *c, const nbt_dgm_opts_t *o, const char **note,
                 char *err, size_t cap);
void nbt_dgm_close(nbt_dgm_t *c);

/* Receive datagrams for `name` (nbtd claims it when the node does not hold
 * it; `group` claims a group name), for NetBIOS broadcasts (`star`), or
 * everything heard (`monitor`). 0, or -1 with `err`. */
int nbt_dgm_bind(nbt_dgm_t *c, const nb_name_t *name, bool star, bool monitor,
                 bool group, char *err, size_t cap);

typedef struct nbt_dgm_send {
  nb_dgmsvc_api_kind_t kind; /* NAME (resolve), GROUP, BROADCAST */
  const nb_name_t *from;     /* NULL: nbtd's name / this host's name */
  const nb_name_t *to;       /* ignored for BROADCAST */
  const uint8_t *data;
  size_t len;
  uint32_t ip; /* 0, or send there without resolving */
} nbt_dgm_send_t;

/* Send one datagram. 0 sent (`res` filled), 1 refused or failed (`err`
 * says why: over 512 bytes, name not found, ...), -1 I/O error. */
int nbt_dgm_send(nbt_dgm_t *c, const nbt_dgm_send_t *s, nbt_dgm_sent_t *res,
                 char *err, size_t cap);

/* The next datagram within `timeout_ms` (< 0: no limit): 1 and `out`
 * filled, 0 on timeout, -1 on error (`err`; the connection closed). A
 * DATAGRAM ERROR for the last send is recorded in c->derr. */
int nbt_dgm_next(nbt_dgm_t *c, int64_t timeout_ms, nbt_dgm_rx_t *out, char *err,
                 size_t cap);

/* Milliseconds of a monotonic clock. */
uint64_t nbt_dgm_now(void);

#endif
