/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_replay_capture: what `nbt replay` makes of a hostile capture.
 *
 * Input: byte 0 picks the link type (Ethernet, raw IPv4, Linux SLL, SLL2,
 * BSD loopback), byte 1 bits 0-2 the selection (ns, dgm, ssn) and bits 3-7
 * a --ssn-turns limit; then frames, each a 16-bit big-endian length and
 * that many bytes. Every frame goes through nbt_rp_frame_parse() and, when
 * it is an IPv4 UDP/TCP packet, through both passes of the plan builder
 * (server detection, then exchanges: UDP pairing, TCP reassembly and
 * session framing). Oracles:
 *  - a parsed payload lies inside its frame;
 *  - the partial mode of `nbt decode --pcap` (NBT_RP_PARTIAL) accepts every
 *    frame strict mode accepts, with the same fields, and its payload too
 *    lies inside the frame;
 *  - the plan respects every cap: exchanges, responses per exchange,
 *    session packet sizes, kept response bytes;
 *  - a turn is one whole session packet by its header's LENGTH (only a
 *    connection's last turn may be cut short), and the turns of a
 *    connection are numbered 1, 2, ... in order, the last one marked;
 *  - UDP requests are byte copies of a frame's payload;
 *  - building the plan twice from the same frames gives the same plan. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/tools/replay.h"
#include "nb/ssn.h"

static void require(int cond) {
  if (!cond) {
    abort();
  }
}

static const int links[] = {NBT_RP_LINK_EN10MB, NBT_RP_LINK_RAW,
                            NBT_RP_LINK_LINUX_SLL, NBT_RP_LINK_LINUX_SLL2,
                            NBT_RP_LINK_NULL};

typedef struct input {
  int link;
  const uint8_t *frames;
  size_t len;
} input_t;

/* Partial mode (nbt decode --pcap) agrees with strict mode wherever strict
 * mode accepts a frame, and its payload always lies inside the frame. */
static void check_partial(int link, const uint8_t *f, size_t n,
                          const nbt_rp_pkt_t *strict) {
  nbt_rp_pkt_t p;
  nb_err_t e = nbt_rp_frame_parse_ex(link, f, n, NBT_RP_PARTIAL, &p, NULL);
  require(strict == NULL || e == NB_OK);
  if (e != NB_OK) {
    return;
  }
  require(p.len == 0 || (p.payload >= f && p.payload + p.len <= f + n));
  if (strict != NULL) {
    require(p.len == strict->len && p.payload == strict->payload);
    require(p.src == strict->src && p.dst == strict->dst);
    require(p.sport == strict->sport && p.dport == strict->dport);
    require(p.proto == strict->proto && p.seq == strict->seq);
    require(p.tcp_flags == strict->tcp_flags);
  }
}

/* Feed every frame to `fn`; returns the number of frames. */
static unsigned long each_frame(const input_t *in, nbt_rp_pkt_fn fn,
                                void *ctx) {
  unsigned long frame = 0;
  size_t pos = 0;
  while (pos + 2 <= in->len) {
    size_t n = (size_t)in->frames[pos] << 8 | in->frames[pos + 1];
    pos += 2;
    n = n < in->len - pos ? n : in->len - pos;
    const uint8_t *f = in->frames + pos;
    nbt_rp_pkt_t p;
    frame++;
    if (nbt_rp_frame_parse(in->link, f, n, &p, NULL) == NB_OK) {
      require(p.len == 0 || (p.payload >= f && p.payload + p.len <= f + n));
      check_partial(in->link, f, n, &p);
      fn(ctx, frame, (double)frame, &p);
    } else {
      check_partial(in->link, f, n, NULL);
    }
    pos += n;
  }
  return frame;
}

static int build(const input_t *in, const nbt_rp_select_t *sel,
                 nbt_rp_plan_t *plan) {
  nbt_rp_builder_t *b = nbt_rp_builder_new(sel, plan);
  if (b == NULL) {
    return -1;
  }
  each_frame(in, nbt_rp_plan_detect, b);
  nbt_rp_builder_choose_server(b);
  each_frame(in, nbt_rp_plan_packet, b);
  return nbt_rp_builder_finish(b);
}

/* A turn is one whole session packet by its header's LENGTH (in RFC or,
 * after SMB2, direct framing); only a connection's last turn may be a
 * partial packet (the stream ended inside it). */
static void check_ssn(const nbt_rp_exch_t *e, unsigned *turn_of, size_t nconn) {
  require(e->conn >= 1 && e->conn <= nconn);
  require(e->turn == turn_of[e->conn - 1] + 1);
  turn_of[e->conn - 1] = e->turn;
  require(e->req.len == e->req.full_len && e->req.len <= NBT_RP_MAX_PKT);
  require(e->req.len > 0);
  size_t rfc = nbt_rp_ssn_raw_size(e->req.data, e->req.len, NB_SSN_MODE_RFC);
  size_t dir = nbt_rp_ssn_raw_size(e->req.data, e->req.len, NB_SSN_MODE_DIRECT);
  if (!e->last_turn) {
    require(e->req.len == rfc || e->req.len == dir);
  }
  for (size_t i = 0; i < e->nrec; i++) {
    require(e->rec[i].len <= NB_SSN_HEADER_LEN + NBT_RP_SSN_KEEP);
    require(e->rec[i].len <= e->rec[i].full_len);
  }
}

static void check_plan(const nbt_rp_plan_t *p) {
  unsigned *turn_of = calloc(p->nconn + 1, sizeof *turn_of);
  require(turn_of != NULL);
  require(p->nexch <= NBT_RP_MAX_EXCH && p->nconn <= NBT_RP_MAX_CONN);
  for (size_t i = 0; i < p->nexch; i++) {
    const nbt_rp_exch_t *e = &p->exch[i];
    require(e->nrec <= NBT_RP_MAX_RESP);
    if (e->kind == NBT_RP_SSN) {
      check_ssn(e, turn_of, p->nconn);
    } else {
      require(e->conn == 0 && e->req.len == e->req.full_len);
      require(e->req.len <= NBT_RP_MAX_UDP && e->src != p->server);
    }
  }
  for (size_t i = 0; i < p->nexch; i++) { /* the last turn, and only it */
    const nbt_rp_exch_t *e = &p->exch[i];
    require(e->kind != NBT_RP_SSN ||
            e->last_turn == (e->turn == turn_of[e->conn - 1]));
  }
  free(turn_of);
}

static int same_msg(const nbt_rp_msg_t *a, const nbt_rp_msg_t *b) {
  return a->len == b->len && a->full_len == b->full_len &&
         a->frame == b->frame && memcmp(a->data, b->data, a->len) == 0;
}

static void check_same(const nbt_rp_plan_t *a, const nbt_rp_plan_t *b) {
  require(a->nexch == b->nexch && a->server == b->server);
  for (size_t i = 0; i < a->nexch; i++) {
    const nbt_rp_exch_t *x = &a->exch[i];
    const nbt_rp_exch_t *y = &b->exch[i];
    require(x->kind == y->kind && x->nrec == y->nrec && x->turn == y->turn);
    require(x->last_turn == y->last_turn && x->rec_closed == y->rec_closed);
    require(same_msg(&x->req, &y->req));
    for (size_t j = 0; j < x->nrec; j++) {
      require(same_msg(&x->rec[j], &y->rec[j]));
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) {
    return 0;
  }
  input_t in = {links[data[0] % (sizeof links / sizeof links[0])], data + 2,
                size - 2};
  nbt_rp_select_t sel = {(data[1] & 1) != 0, (data[1] & 2) != 0,
                         (data[1] & 4) != 0, (unsigned)(data[1] >> 3), 0};
  nbt_rp_plan_t a;
  nbt_rp_plan_t b;
  if (build(&in, &sel, &a) != 0) {
    return 0;
  }
  check_plan(&a);
  if (build(&in, &sel, &b) == 0) {
    check_same(&a, &b);
    nbt_rp_plan_free(&b);
  }
  nbt_rp_plan_free(&a);
  return 0;
}
