/* SPDX-License-Identifier: BSD-2-Clause */
/* The exchanges of a capture, for `nbt replay` (see replay.h).
 *
 * WARNING: parses untrusted network data. Payloads are only peeked at
 * through nb_rd_t cursors (NS and datagram headers) or cut by the nb_ssn
 * framer; every buffer is capped (NBT_RP_MAX_*), and a stream that does not
 * frame is noted and dropped from that point on.
 *
 * Two passes over the file: the first finds the capture's server (unless
 * --server names it), the second builds the exchanges:
 *  - UDP 137: every request (R=0, RFC 1002 4.2.1.1) from a host other than
 *    the server is an exchange; a response (R=1) from the server's port 137
 *    is recorded for the latest request with the same client address, port
 *    and NAME_TRN_ID (RFC 1002 4.2.1.1).
 *  - UDP 138: every datagram from another host to the server (or to a
 *    broadcast address) is an exchange; a DATAGRAM ERROR or QUERY response
 *    (RFC 1002 4.4.3, 4.4.4) from the server is recorded for the latest one
 *    with the same client and DGM_ID.
 *  - TCP 139 to the server: each direction is reassembled by sequence
 *    number and cut at session-packet boundaries by the framer (RFC 1002
 *    4.3.1). Each client packet is an exchange ("turn"); the server's
 *    packets that complete before the client's next packet are its recorded
 *    responses. A FIN or RST from the server before the client's marks the
 *    turn as closed by the server. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "nb/ssn.h"
#include "nb/wire.h"
#include "replay.h"

#define NS_FLAG_R 0x8000u /* RFC 1002 4.2.1.1: R, the response bit */
#define DGM_ERROR 0x13    /* RFC 1002 4.4.1 MSG_TYPE values */
#define DGM_POS_QUERY_RESP 0x15
#define DGM_NEG_QUERY_RESP 0x16
#define NO_TURN ((size_t)-1)
#define VOTES 64

typedef struct rp_seg {
  uint32_t seq;
  uint8_t *data;
  size_t len;
} rp_seg_t;

/* One direction of a TCP connection. */
typedef struct rp_dir {
  bool have_next;
  bool dead; /* a gap, or a packet over the cap: the rest is ignored */
  bool raw;  /* the framer refused the stream: cut by header lengths */
  uint32_t next;
  nb_ssn_framer_t fr;
  uint8_t *pkt; /* the packet being framed */
  size_t pkt_len, pkt_cap, pkt_full;
  rp_seg_t hold[NBT_RP_MAX_HOLD]; /* out-of-order segments */
  size_t nhold;
} rp_dir_t;

typedef struct rp_conn {
  uint32_t cli, srv;
  uint16_t cport, sport;
  unsigned id;
  unsigned turns;
  size_t cur; /* exchange index of the latest turn, or NO_TURN */
  bool past_limit, cli_closed, srv_closed, had_data;
  bool midstream;           /* began before the capture: not replayed */
  unsigned long last_frame; /* of the latest segment of this connection */
  double last_ts;
  rp_dir_t c2s, s2c;
} rp_conn_t;

typedef struct rp_vote {
  uint32_t addr;
  unsigned long n;
} rp_vote_t;

struct nbt_rp_builder {
  nbt_rp_plan_t *plan;
  const nbt_rp_select_t *sel;
  rp_conn_t *conns[NBT_RP_MAX_CONN];
  unsigned nconns;
  bool oom;
  rp_vote_t votes[2][VOTES]; /* [0] responders, [1] request targets */
};
typedef nbt_rp_builder_t rp_build_t;

void nbt_rp_plan_note(nbt_rp_plan_t *plan, const char *fmt, ...) {
  if (plan->nnotes >= sizeof plan->notes / sizeof plan->notes[0]) {
    return;
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(plan->notes[plan->nnotes++], sizeof plan->notes[0], fmt, ap);
  va_end(ap);
}

bool nbt_rp_msg_set(nbt_rp_msg_t *m, const uint8_t *p, size_t keep,
                    size_t full_len, unsigned long frame) {
  m->data = malloc(keep ? keep : 1);
  if (m->data == NULL) {
    return false;
  }
  if (keep > 0) {
    memcpy(m->data, p, keep);
  }
  m->len = keep;
  m->full_len = full_len;
  m->frame = frame;
  return true;
}

void nbt_rp_msg_free(nbt_rp_msg_t *m) {
  free(m->data);
  memset(m, 0, sizeof *m);
}

/* A heuristic without the netmask: the limited broadcast, or a host part
 * of all ones in the last octet (every capture we replay uses /24 or
 * wider). Documented in docs/REPLAY.md. */
static bool is_bcast(uint32_t a) {
  return a == 0xffffffffu || (a & 0xffu) == 0xffu;
}

/* ---- pass 1: which address is the server? ---------------------------- */

static void vote(rp_vote_t *t, uint32_t addr) {
  for (size_t i = 0; i < VOTES; i++) {
    if (t[i].n == 0 || t[i].addr == addr) {
      t[i].addr = addr;
      t[i].n++;
      return;
    }
  }
}

static uint32_t vote_winner(const rp_vote_t *t) {
  size_t best = 0;
  for (size_t i = 1; i < VOTES; i++) {
    if (t[i].n > t[best].n) {
      best = i;
    }
  }
  return t[best].n > 0 ? t[best].addr : 0;
}

/* NAME_TRN_ID and the flags word of an NS packet (RFC 1002 4.2.1.1). */
static bool ns_peek(const nbt_rp_pkt_t *p, uint16_t *id, uint16_t *flags) {
  nb_rd_t r;
  nb_rd_init(&r, p->payload, p->len);
  return p->len >= 12 && nb_rd_be16(&r, id) == NB_OK &&
         nb_rd_be16(&r, flags) == NB_OK;
}

/* MSG_TYPE and DGM_ID of a datagram (RFC 1002 4.4.1). */
static bool dgm_peek(const nbt_rp_pkt_t *p, uint8_t *type, uint16_t *id) {
  nb_rd_t r;
  nb_rd_init(&r, p->payload, p->len);
  return nb_rd_u8(&r, type) == NB_OK && nb_rd_skip(&r, 1) == NB_OK &&
         nb_rd_be16(&r, id) == NB_OK;
}

void nbt_rp_plan_detect(void *ctx, unsigned long frame, double ts,
                        const nbt_rp_pkt_t *p) {
  rp_build_t *b = ctx;
  uint16_t id = 0;
  uint16_t flags = 0;
  (void)frame;
  (void)ts;
  if (p->proto == NBT_RP_IPPROTO_UDP && ns_peek(p, &id, &flags)) {
    if (p->sport == NBT_RP_PORT_NS && (flags & NS_FLAG_R)) {
      vote(b->votes[0], p->src);
    } else if (p->dport == NBT_RP_PORT_NS && !is_bcast(p->dst)) {
      vote(b->votes[1], p->dst);
    }
  } else if (p->proto == NBT_RP_IPPROTO_TCP) {
    if (p->sport == NBT_RP_PORT_SSN && (p->tcp_flags & NBT_RP_TCP_SYN)) {
      vote(b->votes[0], p->src);
    } else if (p->dport == NBT_RP_PORT_SSN) {
      vote(b->votes[1], p->dst);
    }
  }
}

/* ---- exchanges -------------------------------------------------------- */

static nbt_rp_exch_t *exch_new(rp_build_t *b, nbt_rp_kind_t kind,
                               const nbt_rp_pkt_t *p, double ts) {
  nbt_rp_plan_t *plan = b->plan;
  if (plan->nexch == NBT_RP_MAX_EXCH) {
    if (plan->ignored++ == 0) {
      nbt_rp_plan_note(plan, "more than %d exchanges: the rest ignored",
                       NBT_RP_MAX_EXCH);
    }
    return NULL;
  }
  if (plan->nexch == plan->cap) {
    size_t ncap = plan->cap ? plan->cap * 2 : 64;
    nbt_rp_exch_t *n = realloc(plan->exch, ncap * sizeof *n);
    if (n == NULL) {
      b->oom = true;
      return NULL;
    }
    plan->exch = n;
    plan->cap = ncap;
  }
  nbt_rp_exch_t *e = &plan->exch[plan->nexch++];
  memset(e, 0, sizeof *e);
  e->kind = kind;
  e->ts = ts;
  e->src = p->src;
  e->dst = p->dst;
  e->sport = p->sport;
  e->dport = p->dport;
  return e;
}

static void exch_add_resp(rp_build_t *b, nbt_rp_exch_t *e, const uint8_t *d,
                          size_t keep, size_t full, unsigned long frame) {
  if (e->nrec == NBT_RP_MAX_RESP) {
    e->rec_dropped++;
    return;
  }
  if (!nbt_rp_msg_set(&e->rec[e->nrec], d, keep, full, frame)) {
    b->oom = true;
    return;
  }
  e->nrec++;
}

static void udp_request(rp_build_t *b, nbt_rp_kind_t kind, unsigned long frame,
                        double ts, const nbt_rp_pkt_t *p) {
  nbt_rp_exch_t *e = exch_new(b, kind, p, ts);
  if (e != NULL &&
      !nbt_rp_msg_set(&e->req, p->payload, p->len, p->len, frame)) {
    b->oom = true;
    b->plan->nexch--;
  }
}

/* The latest UDP exchange of `kind` from the response's destination whose
 * transaction id (NAME_TRN_ID or DGM_ID, both at offset 2 for datagrams and
 * 0 for NS) is `id`. */
static nbt_rp_exch_t *udp_match(rp_build_t *b, nbt_rp_kind_t kind,
                                const nbt_rp_pkt_t *p, uint16_t id) {
  size_t at = kind == NBT_RP_NS ? 0 : 2;
  for (size_t i = b->plan->nexch; i-- > 0;) {
    nbt_rp_exch_t *e = &b->plan->exch[i];
    if (e->kind != kind || e->src != p->dst || e->sport != p->dport ||
        e->req.len < at + 2) {
      continue;
    }
    if ((uint16_t)(e->req.data[at] << 8 | e->req.data[at + 1]) == id) {
      return e;
    }
  }
  return NULL;
}

static void udp_response(rp_build_t *b, nbt_rp_kind_t kind, unsigned long frame,
                         const nbt_rp_pkt_t *p, uint16_t id) {
  nbt_rp_exch_t *e = udp_match(b, kind, p, id);
  if (e == NULL) {
    b->plan->unpaired++;
    return;
  }
  exch_add_resp(b, e, p->payload, p->len, p->len, frame);
}

static void udp_pkt(rp_build_t *b, unsigned long frame, double ts,
                    const nbt_rp_pkt_t *p) {
  uint32_t srv = b->plan->server;
  uint16_t id = 0;
  uint16_t flags = 0;
  uint8_t type = 0;
  if (p->sport == NBT_RP_PORT_NS && p->src == srv && ns_peek(p, &id, &flags) &&
      (flags & NS_FLAG_R)) {
    udp_response(b, NBT_RP_NS, frame, p, id);
  } else if (p->dport == NBT_RP_PORT_NS && p->src != srv &&
             ns_peek(p, &id, &flags) && !(flags & NS_FLAG_R)) {
    if (b->sel->ns) {
      udp_request(b, NBT_RP_NS, frame, ts, p);
    }
  } else if (p->sport == NBT_RP_PORT_DGM && p->src == srv &&
             dgm_peek(p, &type, &id) &&
             (type == DGM_ERROR || type == DGM_POS_QUERY_RESP ||
              type == DGM_NEG_QUERY_RESP)) {
    udp_response(b, NBT_RP_DGM, frame, p, id);
  } else if (p->dport == NBT_RP_PORT_DGM && p->src != srv &&
             (p->dst == srv || is_bcast(p->dst)) && p->len > 0) {
    if (b->sel->dgm) {
      udp_request(b, NBT_RP_DGM, frame, ts, p);
    }
  } else {
    b->plan->ignored++;
  }
}

/* ---- TCP 139 ---------------------------------------------------------- */

static void dir_free(rp_dir_t *d) {
  free(d->pkt);
  for (size_t i = 0; i < d->nhold; i++) {
    free(d->hold[i].data);
  }
}

/* A connection whose first segment in the capture is not a SYN began
 * before the capture did: its session request (and whatever else set up
 * the session) is missing, so it cannot be replayed faithfully. Its
 * segments are tracked and ignored; it gets no connection number. */
static rp_conn_t *conn_new(rp_build_t *b, const nbt_rp_pkt_t *p, bool syn) {
  if (b->nconns == NBT_RP_MAX_CONN) {
    return NULL;
  }
  rp_conn_t *c = calloc(1, sizeof *c);
  if (c == NULL) {
    b->oom = true;
    return NULL;
  }
  c->cli = p->src;
  c->cport = p->sport;
  c->srv = p->dst;
  c->sport = p->dport;
  c->midstream = !syn;
  c->id = syn ? ++b->plan->nconn : 0;
  if (!syn) {
    char a[16];
    nbt_rp_ip4_text(p->src, a);
    nbt_rp_plan_note(b->plan,
                     "a connection from %s:%u began before the capture "
                     "(no SYN): not replayed",
                     a, p->sport);
  }
  c->cur = NO_TURN;
  (void)nb_ssn_framer_init(&c->c2s.fr, NB_SSN_MODE_RFC, 0);
  (void)nb_ssn_framer_init(&c->s2c.fr, NB_SSN_MODE_RFC, 0);
  b->conns[b->nconns++] = c;
  return c;
}

/* The connection of a client-to-server segment `p` (addresses as sent by
 * the client). A SYN on a tuple that already carried data or closed starts
 * a new connection. */
static rp_conn_t *conn_find(rp_build_t *b, const nbt_rp_pkt_t *p, bool syn,
                            bool any_syn) {
  for (unsigned i = b->nconns; i-- > 0;) {
    rp_conn_t *c = b->conns[i];
    if (c->cli == p->src && c->cport == p->sport && c->srv == p->dst &&
        c->sport == p->dport) {
      if (syn && (c->had_data || c->cli_closed || c->srv_closed)) {
        break;
      }
      return c;
    }
  }
  rp_conn_t *c = conn_new(b, p, any_syn);
  if (c == NULL && b->plan->ignored++ == 0) {
    nbt_rp_plan_note(b->plan, "more than %d TCP connections: rest ignored",
                     NBT_RP_MAX_CONN);
  }
  return c;
}

static void pkt_append(rp_dir_t *d, bool client, const uint8_t *p, size_t n) {
  size_t limit = client ? NBT_RP_MAX_PKT : NB_SSN_HEADER_LEN + NBT_RP_SSN_KEEP;
  d->pkt_full += n;
  size_t take = d->pkt_len < limit ? limit - d->pkt_len : 0;
  take = take < n ? take : n;
  if (take == 0) {
    return;
  }
  if (d->pkt_len + take > d->pkt_cap) {
    size_t ncap = d->pkt_cap ? d->pkt_cap : 256;
    while (ncap < d->pkt_len + take) {
      ncap *= 2;
    }
    uint8_t *np = realloc(d->pkt, ncap);
    if (np == NULL) {
      d->dead = true;
      return;
    }
    d->pkt = np;
    d->pkt_cap = ncap;
  }
  memcpy(d->pkt + d->pkt_len, p, take);
  d->pkt_len += take;
}

static void client_packet(rp_build_t *b, rp_conn_t *c, unsigned long frame,
                          double ts) {
  rp_dir_t *d = &c->c2s;
  if (d->pkt_full > NBT_RP_MAX_PKT) {
    nbt_rp_plan_note(b->plan,
                     "connection %u: a %zu-byte client packet is "
                     "over the cap; the rest of it ignored",
                     c->id, d->pkt_full);
    d->dead = true;
    c->past_limit = true;
    return;
  }
  if (c->past_limit ||
      (b->sel->ssn_turns != 0 && c->turns >= b->sel->ssn_turns)) {
    c->past_limit = true;
    return;
  }
  nbt_rp_pkt_t p = {
      .src = c->cli, .dst = c->srv, .sport = c->cport, .dport = c->sport};
  nbt_rp_exch_t *e = exch_new(b, NBT_RP_SSN, &p, ts);
  if (e == NULL) {
    c->past_limit = true;
    return;
  }
  if (!nbt_rp_msg_set(&e->req, d->pkt, d->pkt_len, d->pkt_full, frame)) {
    b->oom = true;
    b->plan->nexch--;
    return;
  }
  e->conn = c->id;
  e->turn = ++c->turns;
  c->cur = (size_t)(e - b->plan->exch);
}

static void server_packet(rp_build_t *b, rp_conn_t *c, unsigned long frame) {
  rp_dir_t *d = &c->s2c;
  if (c->cur == NO_TURN || c->past_limit) {
    b->plan->ignored++;
    return;
  }
  exch_add_resp(b, &b->plan->exch[c->cur], d->pkt, d->pkt_len, d->pkt_full,
                frame);
}

/* A SESSION MESSAGE carrying SMB2 ([MS-SMB2] 2.2.1: 0xFE 'S' 'M' 'B') on 139
 * switches that direction to the 24-bit direct framing, as Samba does after
 * an SMB2 NEGOTIATE (see nb/ssn.h). */
static bool is_smb2(const rp_dir_t *d) {
  static const uint8_t magic[4] = {0xfe, 'S', 'M', 'B'};
  return d->pkt_len >= NB_SSN_HEADER_LEN + 4 && d->pkt[0] == 0 &&
         memcmp(d->pkt + NB_SSN_HEADER_LEN, magic, 4) == 0;
}

static void packet_done(rp_build_t *b, rp_conn_t *c, bool client,
                        unsigned long frame, double ts) {
  rp_dir_t *d = client ? &c->c2s : &c->s2c;
  if (client) {
    client_packet(b, c, frame, ts);
  } else {
    server_packet(b, c, frame);
  }
  if (is_smb2(d) && d->fr.mode == NB_SSN_MODE_RFC) {
    (void)nb_ssn_framer_set_mode(&d->fr, NB_SSN_MODE_DIRECT);
  }
  d->pkt_len = 0;
  d->pkt_full = 0;
}

size_t nbt_rp_ssn_raw_size(const uint8_t *hdr, size_t have,
                           nb_ssn_mode_t mode) {
  nb_rd_t r;
  uint8_t type = 0;
  uint8_t flags = 0;
  uint16_t len16 = 0;
  uint32_t len24 = 0;
  nb_rd_init(&r, hdr, have < NB_SSN_HEADER_LEN ? have : NB_SSN_HEADER_LEN);
  if (mode == NB_SSN_MODE_DIRECT) { /* [MS-SMB2] 2.1: zero, 24-bit length */
    if (nb_rd_u8(&r, &type) != NB_OK || nb_rd_be24(&r, &len24) != NB_OK) {
      return 0;
    }
    return NB_SSN_HEADER_LEN + len24;
  }
  if (nb_rd_u8(&r, &type) != NB_OK || nb_rd_u8(&r, &flags) != NB_OK ||
      nb_rd_be16(&r, &len16) != NB_OK) {
    return 0;
  }
  /* RFC 1002 4.3.1: E (0x01) is the 17th bit of LENGTH. */
  return NB_SSN_HEADER_LEN + ((size_t)(flags & NB_SSN_FLAG_E) << 16) + len16;
}

/* After the framer refused a stream (a malformed packet: exactly what a
 * conformance probe sends), cut the rest by the header's LENGTH alone, so
 * that the probe's bytes are still replayed as they were sent. */
static void dir_raw_feed(rp_build_t *b, rp_conn_t *c, bool client,
                         const uint8_t *p, size_t n, unsigned long frame,
                         double ts) {
  rp_dir_t *d = client ? &c->c2s : &c->s2c;
  while (n > 0 && !d->dead) {
    size_t want = nbt_rp_ssn_raw_size(d->pkt, d->pkt_len, d->fr.mode);
    size_t need = want ? want - d->pkt_full : NB_SSN_HEADER_LEN - d->pkt_full;
    size_t take = need < n ? need : n;
    pkt_append(d, client, p, take);
    p += take;
    n -= take;
    want = nbt_rp_ssn_raw_size(d->pkt, d->pkt_len, d->fr.mode);
    if (want != 0 && d->pkt_full == want) {
      packet_done(b, c, client, frame, ts);
    }
  }
}

/* Bytes in stream order to the framer; each complete packet is handed to
 * packet_done. */
static void dir_feed(rp_build_t *b, rp_conn_t *c, bool client, const uint8_t *p,
                     size_t n, unsigned long frame, double ts) {
  rp_dir_t *d = client ? &c->c2s : &c->s2c;
  while (!d->dead && !d->raw) {
    nb_ssn_event_t ev;
    size_t used = 0;
    (void)nb_ssn_framer_feed(&d->fr, p, n, &used, &ev);
    pkt_append(d, client, p, used);
    p += used;
    n -= used;
    if (ev.kind == NB_SSN_EV_NEED_MORE) {
      return;
    }
    if (ev.kind == NB_SSN_EV_ERROR) {
      nbt_rp_plan_note(b->plan,
                       "connection %u %s stream: %s at offset %zu "
                       "(%s); cut by LENGTH from there",
                       c->id, client ? "client" : "server",
                       nb_errname(ev.diag.err), ev.diag.offset,
                       ev.diag.field ? ev.diag.field : "");
      d->raw = true;
    } else if (ev.kind == NB_SSN_EV_CONTROL || ev.kind == NB_SSN_EV_MSG_END) {
      packet_done(b, c, client, frame, ts);
    }
  }
  if (d->raw) {
    dir_raw_feed(b, c, client, p, n, frame, ts);
  }
}

static bool hold_segment(rp_dir_t *d, uint32_t seq, const uint8_t *p,
                         size_t n) {
  if (d->nhold == NBT_RP_MAX_HOLD) {
    return false;
  }
  uint8_t *copy = malloc(n);
  if (copy == NULL) {
    return false;
  }
  memcpy(copy, p, n);
  d->hold[d->nhold++] = (rp_seg_t){seq, copy, n};
  return true;
}

/* Deliver the part of a segment at or after `next` that is in order;
 * returns false when the segment lies wholly ahead (a gap). */
static bool deliver(rp_build_t *b, rp_conn_t *c, bool client, uint32_t seq,
                    const uint8_t *p, size_t n, unsigned long frame,
                    double ts) {
  rp_dir_t *d = client ? &c->c2s : &c->s2c;
  int32_t rel = (int32_t)(seq - d->next);
  if (rel > 0) {
    return false;
  }
  size_t trim = (size_t)(-(int64_t)rel);
  if (trim < n) {
    d->next += (uint32_t)(n - trim);
    dir_feed(b, c, client, p + trim, n - trim, frame, ts);
  }
  return true;
}

static void drain_held(rp_build_t *b, rp_conn_t *c, bool client,
                       unsigned long frame, double ts) {
  rp_dir_t *d = client ? &c->c2s : &c->s2c;
  for (bool again = true; again;) {
    again = false;
    for (size_t i = 0; i < d->nhold; i++) {
      rp_seg_t s = d->hold[i];
      if (deliver(b, c, client, s.seq, s.data, s.len, frame, ts)) {
        free(s.data);
        d->hold[i] = d->hold[--d->nhold];
        again = true;
        break;
      }
    }
  }
}

static void tcp_data(rp_build_t *b, rp_conn_t *c, bool client,
                     const nbt_rp_pkt_t *p, unsigned long frame, double ts) {
  rp_dir_t *d = client ? &c->c2s : &c->s2c;
  if (d->dead) {
    return;
  }
  if (!d->have_next) {
    d->next = p->seq;
    d->have_next = true;
  }
  c->had_data = true;
  if (!deliver(b, c, client, p->seq, p->payload, p->len, frame, ts)) {
    if (!hold_segment(d, p->seq, p->payload, p->len)) {
      nbt_rp_plan_note(b->plan,
                       "connection %u: a gap in the %s stream; "
                       "the rest ignored",
                       c->id, client ? "client" : "server");
      d->dead = true;
    }
    return;
  }
  drain_held(b, c, client, frame, ts);
}

static void tcp_pkt(rp_build_t *b, unsigned long frame, double ts,
                    const nbt_rp_pkt_t *p) {
  bool client = p->dport == NBT_RP_PORT_SSN;
  uint32_t srv = b->plan->server;
  if (!b->sel->ssn || (client ? p->dst : p->src) != srv ||
      (!client && p->sport != NBT_RP_PORT_SSN)) {
    b->plan->ignored++;
    return;
  }
  nbt_rp_pkt_t key = *p;
  if (!client) { /* look the connection up from the client's side */
    key.src = p->dst, key.dst = p->src, key.sport = p->dport,
    key.dport = p->sport;
  }
  bool syn =
      (p->tcp_flags & (NBT_RP_TCP_SYN | NBT_RP_TCP_ACK)) == NBT_RP_TCP_SYN;
  rp_conn_t *c =
      conn_find(b, &key, syn && client, (p->tcp_flags & NBT_RP_TCP_SYN) != 0);
  if (c == NULL) {
    return;
  }
  if (c->midstream) {
    b->plan->ignored++;
    return;
  }
  rp_dir_t *d = client ? &c->c2s : &c->s2c;
  c->last_frame = frame;
  c->last_ts = ts;
  if (p->tcp_flags & NBT_RP_TCP_SYN) {
    d->next = p->seq + 1; /* RFC 793 3.3: the SYN takes one number */
    d->have_next = true;
  } else if (p->len > 0) {
    tcp_data(b, c, client, p, frame, ts);
  }
  if (p->tcp_flags & (NBT_RP_TCP_FIN | NBT_RP_TCP_RST)) {
    if (!client && !c->cli_closed && !c->srv_closed && c->cur != NO_TURN &&
        !c->past_limit) {
      b->plan->exch[c->cur].rec_closed = true;
    }
    *(client ? &c->cli_closed : &c->srv_closed) = true;
  }
}

void nbt_rp_plan_packet(void *ctx, unsigned long frame, double ts,
                        const nbt_rp_pkt_t *p) {
  rp_build_t *b = ctx;
  if (b->oom) {
    return;
  }
  if (p->proto == NBT_RP_IPPROTO_UDP) {
    udp_pkt(b, frame, ts, p);
  } else if (p->proto == NBT_RP_IPPROTO_TCP &&
             (p->dport == NBT_RP_PORT_SSN || p->sport == NBT_RP_PORT_SSN)) {
    tcp_pkt(b, frame, ts, p);
  } else {
    b->plan->ignored++;
  }
}

/* A client stream that ends inside a packet (a truncated probe): the
 * partial packet is replayed as it was sent, as the connection's last
 * turn. Then mark each connection's last turn. */
static void finish_conns(rp_build_t *b) {
  for (unsigned i = 0; i < b->nconns; i++) {
    rp_conn_t *c = b->conns[i];
    if (!c->c2s.dead && c->c2s.pkt_full > 0) {
      nbt_rp_plan_note(b->plan,
                       "connection %u: the client stream ends inside a "
                       "packet; its %zu bytes are replayed as they are",
                       c->id, c->c2s.pkt_full);
      client_packet(b, c, c->last_frame, c->last_ts);
    }
    if (c->cur != NO_TURN) {
      b->plan->exch[c->cur].last_turn = true;
    }
    dir_free(&c->c2s);
    dir_free(&c->s2c);
    free(c);
  }
  b->nconns = 0;
}

nbt_rp_builder_t *nbt_rp_builder_new(const nbt_rp_select_t *sel,
                                     nbt_rp_plan_t *plan) {
  rp_build_t *b = calloc(1, sizeof *b);
  memset(plan, 0, sizeof *plan);
  if (b != NULL) {
    b->plan = plan;
    b->sel = sel;
    plan->server = sel->server;
    plan->server_given = sel->server != 0;
  }
  return b;
}

void nbt_rp_builder_choose_server(nbt_rp_builder_t *b) {
  nbt_rp_plan_t *plan = b->plan;
  if (!plan->server_given) {
    plan->server = vote_winner(b->votes[0]);
    plan->server = plan->server ? plan->server : vote_winner(b->votes[1]);
  }
}

int nbt_rp_builder_finish(nbt_rp_builder_t *b) {
  int rc = b->oom ? -1 : 0;
  finish_conns(b);
  if (rc != 0) {
    nbt_rp_plan_free(b->plan);
  }
  free(b);
  return rc;
}

void nbt_rp_plan_free(nbt_rp_plan_t *plan) {
  for (size_t i = 0; i < plan->nexch; i++) {
    nbt_rp_msg_free(&plan->exch[i].req);
    for (size_t j = 0; j < plan->exch[i].nrec; j++) {
      nbt_rp_msg_free(&plan->exch[i].rec[j]);
    }
  }
  free(plan->exch);
  plan->exch = NULL;
  plan->nexch = 0;
  plan->cap = 0;
}
