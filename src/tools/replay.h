/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NBT_REPLAY_H
#define NBT_REPLAY_H

/* `nbt replay`: the pieces behind cmd_replay.c.
 *
 *   replay_frame.c  link/IPv4/UDP/TCP headers of one frame (pure)
 *   replay_pcap.c   libpcap: every IPv4 UDP/TCP packet of a capture
 *   replay_plan.c   the exchanges of a capture: requests and the responses
 *                   recorded for them (TCP streams reassembled and cut at
 *                   session-packet boundaries by the nb_ssn framer)
 *   replay_net.c    sending requests to the target, collecting responses
 *   replay_diff.c   normalising and comparing recorded and live responses
 *   replay_report.c text, JSON lines and JUnit XML
 *
 * Ownership: a plan owns every byte buffer in it (nbt_rp_plan_free). All
 * sizes are capped by the NBT_RP_MAX_* limits below; a capture that exceeds
 * one is reported, never allowed to grow memory without bound. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nb/ssn.h"
#include "replay_frame.h"

#define NBT_RP_PORT_NS 137  /* RFC 1002 4.2 */
#define NBT_RP_PORT_DGM 138 /* RFC 1002 4.4 */
#define NBT_RP_PORT_SSN 139 /* RFC 1002 4.3 */

#define NBT_RP_MAX_EXCH 4096             /* exchanges per capture */
#define NBT_RP_MAX_RESP 16               /* responses kept per exchange */
#define NBT_RP_MAX_CONN 256              /* TCP connections per capture */
#define NBT_RP_MAX_PKT ((size_t)1 << 20) /* bytes of one session packet */
#define NBT_RP_MAX_UDP 65535             /* bytes of one UDP payload */
#define NBT_RP_MAX_HOLD 64               /* out-of-order segments held */
#define NBT_RP_SSN_KEEP 64               /* body bytes kept of a response */

typedef enum nbt_rp_kind {
  NBT_RP_NS = 0,  /* UDP 137 request (R=0) */
  NBT_RP_DGM = 1, /* UDP 138 datagram */
  NBT_RP_SSN = 2  /* one client session packet on TCP 139 */
} nbt_rp_kind_t;

/* One message: owned bytes. For session responses `data` holds the header
 * and at most NBT_RP_SSN_KEEP body bytes; `full_len` is the whole size. */
typedef struct nbt_rp_msg {
  uint8_t *data;
  size_t len;
  size_t full_len;
  unsigned long frame; /* capture frame it completed in; 0 when live */
} nbt_rp_msg_t;

/* One exchange: a request and the responses recorded for it. */
typedef struct nbt_rp_exch {
  nbt_rp_kind_t kind;
  unsigned conn;     /* TCP connection number (1-based); 0 for UDP */
  unsigned turn;     /* 1-based packet number within the connection */
  bool last_turn;    /* the connection's last client packet */
  bool rec_closed;   /* the server closed (FIN/RST) after this turn */
  double ts;         /* capture time of the request */
  uint32_t src, dst; /* request's addresses (host order) */
  uint16_t sport, dport;
  nbt_rp_msg_t req;
  nbt_rp_msg_t rec[NBT_RP_MAX_RESP];
  size_t nrec;
  size_t rec_dropped; /* recorded responses beyond NBT_RP_MAX_RESP */
} nbt_rp_exch_t;

typedef struct nbt_rp_plan {
  uint32_t server;     /* the capture's server (host order) */
  bool server_given;   /* from --server rather than detected */
  nbt_rp_exch_t *exch; /* in capture order of the requests */
  size_t nexch;
  size_t cap;
  unsigned nconn;
  /* What was skipped, for the summary. */
  unsigned long frames, not_ip4, bad_hdr, frags, unpaired, ignored;
  char notes[8][160]; /* capture-level notes (stream errors, caps hit) */
  unsigned nnotes;
} nbt_rp_plan_t;

/* Which protocols to take from a capture, and how much of each stream. */
typedef struct nbt_rp_select {
  bool ns, dgm, ssn;
  unsigned ssn_turns; /* client packets per connection; 0 = all */
  uint32_t server;    /* 0: detect */
} nbt_rp_select_t;

/* replay_pcap.c: call `fn` for every IPv4 UDP/TCP packet of `path` (pcap or
 * pcapng), in file order. `frame` is 1-based. Frames that are not IPv4
 * UDP/TCP are counted in the plan's skip counters. Returns 0, or -1 with a
 * message in `err` when the file cannot be read. */
typedef void (*nbt_rp_pkt_fn)(void *ctx, unsigned long frame, double ts,
                              const nbt_rp_pkt_t *p);
int nbt_rp_pcap_read(const char *path, nbt_rp_plan_t *plan, nbt_rp_pkt_fn fn,
                     void *ctx, char *err, size_t errlen);

/* replay_pcap.c: build the plan of the capture `path` (two passes: the
 * server, unless sel->server names it, then the exchanges). Returns 0, or
 * -1 with `err` (I/O, or out of memory). */
int nbt_rp_plan_build(const char *path, const nbt_rp_select_t *sel,
                      nbt_rp_plan_t *plan, char *err, size_t errlen);

/* replay_plan.c: the builder behind it, fed packets from anywhere (the
 * fuzz target feeds it from memory). new() zeroes `plan`; feed every
 * packet to nbt_rp_plan_detect (pass 1), call choose_server, feed every
 * packet again to nbt_rp_plan_packet (pass 2), then finish(), which frees
 * the builder and returns -1 (plan freed) when memory ran out. */
typedef struct nbt_rp_builder nbt_rp_builder_t;
nbt_rp_builder_t *nbt_rp_builder_new(const nbt_rp_select_t *sel,
                                     nbt_rp_plan_t *plan);
void nbt_rp_plan_detect(void *builder, unsigned long frame, double ts,
                        const nbt_rp_pkt_t *p);
void nbt_rp_builder_choose_server(nbt_rp_builder_t *b);
void nbt_rp_plan_packet(void *builder, unsigned long frame, double ts,
                        const nbt_rp_pkt_t *p);
int nbt_rp_builder_finish(nbt_rp_builder_t *b);
void nbt_rp_plan_free(nbt_rp_plan_t *plan);
void nbt_rp_plan_note(nbt_rp_plan_t *plan, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The size (4 + LENGTH) of the session packet whose header starts `hdr`
 * (`have` bytes of it), from the header alone, without judging it; 0 while
 * fewer than 4 bytes are there. Used once the framer has refused a
 * stream. */
size_t nbt_rp_ssn_raw_size(const uint8_t *hdr, size_t have, nb_ssn_mode_t mode);

/* Duplicate `len` bytes (of which `keep` are stored) into `m`; false when
 * out of memory. */
bool nbt_rp_msg_set(nbt_rp_msg_t *m, const uint8_t *p, size_t keep,
                    size_t full_len, unsigned long frame);
void nbt_rp_msg_free(nbt_rp_msg_t *m);

/* ---- replaying and comparing ------------------------------------------ */

typedef enum nbt_rp_status {
  NBT_RP_AGREE = 0,
  NBT_RP_DIFFER = 1,
  NBT_RP_SKIPPED = 2 /* not sent: total time cap, an earlier failure */
} nbt_rp_status_t;

#define NBT_RP_MAX_DIFFS 48
#define NBT_RP_FIELD_MAX 48
#define NBT_RP_VALUE_MAX 80

/* One difference (or, with `note`, an observation that is not one). */
typedef struct nbt_rp_diff {
  bool note;
  char field[NBT_RP_FIELD_MAX]; /* "resp[0].flags", "packets", ... */
  char recorded[NBT_RP_VALUE_MAX];
  char live[NBT_RP_VALUE_MAX];
} nbt_rp_diff_t;

/* What happened to one exchange. Owns its live responses. */
typedef struct nbt_rp_result {
  nbt_rp_status_t status;
  nbt_rp_msg_t live[NBT_RP_MAX_RESP];
  size_t nlive;
  size_t live_dropped; /* beyond NBT_RP_MAX_RESP */
  size_t stray;        /* datagrams from the target that did not match */
  bool live_closed;    /* TCP: the target closed after this turn */
  char error[128];     /* I/O trouble (connect refused, ...), or "" */
  double ms;           /* time spent */
  nbt_rp_diff_t diffs[NBT_RP_MAX_DIFFS];
  size_t ndiffs;
  size_t diffs_dropped;
} nbt_rp_result_t;

/* Where and how to replay. */
typedef struct nbt_rp_opts {
  uint32_t target;   /* host order */
  uint16_t port[3];  /* target ports for NS, DGM, SSN (137, 138, 139) */
  int timeout_ms;    /* per exchange */
  double max_time_s; /* for the whole run */
  bool strict_ttl;   /* compare every TTL exactly */
} nbt_rp_opts_t;

/* replay_net.c: a run's sockets (the TCP connections kept open between the
 * turns of a connection). */
typedef struct nbt_rp_net nbt_rp_net_t;
nbt_rp_net_t *nbt_rp_net_new(const nbt_rp_opts_t *o);
/* Send `e`'s request and collect the target's responses into `res`
 * (res->live, live_closed, error). */
void nbt_rp_net_exchange(nbt_rp_net_t *n, const nbt_rp_exch_t *e,
                         nbt_rp_result_t *res);
void nbt_rp_net_free(nbt_rp_net_t *n);

/* replay_diff.c: normalise and compare recorded and live responses, fill
 * res->diffs and res->status. `server` is the capture's server and
 * o->target the live one: an address equal to either is the placeholder
 * "<server>" on its side. */
void nbt_rp_compare(const nbt_rp_exch_t *e, const nbt_rp_plan_t *plan,
                    const nbt_rp_opts_t *o, nbt_rp_result_t *res);
/* Add a difference (note=false) or an observation (note=true). */
void nbt_rp_diff_add(nbt_rp_result_t *res, bool note, const char *field,
                     const char *recorded, const char *live);
/* A one-line description of a request or response ("query XYKON-2<00>",
 * "pos-query 0x8580", "SESSION REQUEST VMWINXP<20> from PRINTER<00>"). */
void nbt_rp_describe(nbt_rp_kind_t kind, const nbt_rp_msg_t *m, char *buf,
                     size_t cap);
void nbt_rp_result_free(nbt_rp_result_t *res);

/* replay_report.c */
typedef enum nbt_rp_format { NBT_RP_TEXT = 0, NBT_RP_JSON = 1 } nbt_rp_format_t;

void nbt_rp_report_exchange(FILE *f, nbt_rp_format_t fmt, size_t index,
                            const nbt_rp_exch_t *e, const nbt_rp_result_t *r);
void nbt_rp_report_summary(FILE *f, const char *pcap, const nbt_rp_plan_t *p,
                           const nbt_rp_opts_t *o, const size_t count[3]);
/* JUnit XML: each testcase is written to a memory stream as the run goes
 * (nbt_rp_junit_case), then the file gets the testsuite around them. */
typedef struct nbt_rp_junit {
  size_t tests, failures, skipped;
  double seconds;
  const char *body; /* the testcases (borrowed) */
  size_t body_len;
} nbt_rp_junit_t;

void nbt_rp_junit_case(FILE *f, size_t i, const nbt_rp_exch_t *e,
                       const nbt_rp_result_t *r);
int nbt_rp_junit_write(const char *path, const char *pcap,
                       const nbt_rp_junit_t *j);

#endif
