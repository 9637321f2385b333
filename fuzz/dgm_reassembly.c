/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_dgm_reassembly: the datagram reassembler under a script of
 * fragments and clock steps.
 *
 * Input: two config bytes (slot cap 1..16; byte cap 1..16 KiB), then
 * operations, each chosen by one byte:
 *   0 STEP  n: advance the virtual clock by n*16 ms and fire the timer
 *   1 RAW   l, l bytes: one UDP payload, parsed and added if it parses
 *   2 SEND  ip, id, lenhi, lenlo, max, order, drops, gap: build a
 *           datagram of user data taken from the input, split it with the
 *           fragmenting writer, write and parse each fragment, and add
 *           them in a permuted order with some repeated or left out and a
 *           clock step between them
 * Oracles, after every step:
 *  - the caps hold: bytes reserved <= max_bytes, slots <= max_slots, and
 *    both equal what the slots say;
 *  - every fragment the writer makes parses without findings;
 *  - a completed datagram whose key (SOURCE_IP, DGM_ID) saw only the
 *    fragments of one intended datagram equals that datagram exactly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nb/dgm.h"

#define MAX_FRAGS 24
#define KEYS 32 /* 4 source addresses x 8 ids */

typedef struct {
  const uint8_t *p;
  size_t left;
} in_t;

typedef struct {
  bool active;
  bool clean;
  nb_dgm_msg_t whole; /* data points into `data` */
  uint8_t data[NB_DGM_USER_DATA_MAX];
} intent_t;

static nb_dgm_reasm_t reasm;
static intent_t intents[KEYS];
static uint64_t now;

static void require(int cond) {
  if (!cond) {
    abort();
  }
}

static uint8_t take(in_t *in) {
  if (in->left == 0) {
    return 0;
  }
  in->left--;
  return *in->p++;
}

static void check_caps(void) {
  size_t bytes = 0, slots = 0;
  for (size_t i = 0; i < NB_DGM_REASM_SLOTS; i++) {
    if (reasm.slots[i].used) {
      require(i < reasm.cfg.max_slots);
      require(reasm.slots[i].held <= reasm.slots[i].dgm_length);
      bytes += reasm.slots[i].dgm_length;
      slots++;
    }
  }
  require(bytes == reasm.bytes && bytes <= reasm.cfg.max_bytes);
  require(slots == reasm.slots_used && slots <= reasm.cfg.max_slots);
}

static size_t key_of(uint32_t ip, uint16_t id) {
  return (size_t)((ip & 3u) * 8u + (id & 7u)) % KEYS;
}

static int same_name(const nb_name_t *a, const nb_name_t *b) {
  return memcmp(a->bytes, b->bytes, NB_NAME_BYTES) == 0 &&
         a->scope_len == b->scope_len &&
         memcmp(a->scope, b->scope, a->scope_len) == 0;
}

/* A completed datagram from a clean key is the intended one. */
static void check_complete(const nb_dgm_msg_t *out) {
  intent_t *t = &intents[key_of(out->source_ip, out->dgm_id)];
  if (!t->active || !t->clean || t->whole.source_ip != out->source_ip ||
      t->whole.dgm_id != out->dgm_id) {
    return;
  }
  const nb_dgm_msg_t *w = &t->whole;
  require(out->msg_type == w->msg_type && out->dgm_length == w->dgm_length);
  require(out->source_port == w->source_port && out->flags == w->flags);
  require(same_name(&out->source_name, &w->source_name));
  require(same_name(&out->destination_name, &w->destination_name));
  require(out->data_len == w->data_len);
  require(w->data_len == 0 || memcmp(out->data, w->data, w->data_len) == 0);
}

static void add(const nb_dgm_msg_t *frag) {
  nb_dgm_msg_t out;
  if (nb_dgm_reasm_add(&reasm, frag, now, &out) == NB_DGM_REASM_COMPLETE) {
    require(nb_dgm_is_whole(&out));
    check_complete(&out);
  }
  check_caps();
}

static void op_step(in_t *in) {
  now += (uint64_t)take(in) * 16u;
  uint64_t next = nb_dgm_reasm_next_deadline(&reasm);
  size_t n = nb_dgm_reasm_on_timer(&reasm, now);
  require(n == 0 || next <= now);
  require(nb_dgm_reasm_next_deadline(&reasm) > now);
  check_caps();
}

static void op_raw(in_t *in) {
  size_t len = take(in);
  nb_dgm_msg_t m;
  len = len < in->left ? len : in->left;
  if (nb_dgm_parse(in->p, len, &m, NULL) == NB_OK &&
      nb_dgm_is_service(m.msg_type)) {
    intents[key_of(m.source_ip, m.dgm_id)].clean = false;
    add(&m);
  }
  in->p += len;
  in->left -= len;
}

static bool key_held(uint32_t ip, uint16_t id) {
  for (size_t i = 0; i < reasm.cfg.max_slots; i++) {
    const nb_dgm_reasm_slot_t *s = &reasm.slots[i];
    if (s->used && s->source_ip == ip && s->dgm_id == id) {
      return true;
    }
  }
  return false;
}

/* The intended datagram for this SEND, recorded under its key. */
static intent_t *make_intent(in_t *in) {
  uint32_t ip = 0x0a000000u | (take(in) & 3u);
  uint16_t id = take(in) & 7u;
  size_t len = ((size_t)take(in) << 8 | take(in)) % (NB_DGM_USER_DATA_MAX + 1);
  intent_t *t = &intents[key_of(ip, id)];
  /* Bytes still held under this key may mix with this datagram's. */
  bool clean = !key_held(ip, id);
  nb_name_t src, dst;
  require(nb_name_make(&src, "FUZZSRC", 7, 0x00, NULL) == NB_OK);
  require(nb_name_make(&dst, "FUZZDST", 7, 0x1d, NULL) == NB_OK);
  for (size_t i = 0; i < len; i++) {
    t->data[i] = in->left ? take(in) : (uint8_t)i;
  }
  nb_dgm_init(&t->whole, NB_DGM_DIRECT_GROUP, id, ip, NB_DGM_PORT);
  require(nb_dgm_set_datagram(&t->whole, &src, &dst, t->data, len) == NB_OK);
  t->active = true;
  t->clean = clean;
  return t;
}

static void op_send(in_t *in) {
  static uint8_t wire[MAX_FRAGS][NB_DGM_MAX_PAYLOAD];
  static nb_dgm_msg_t frags[MAX_FRAGS];
  intent_t *t = make_intent(in);
  size_t max =
      NB_DGM_HEADER_LEN + nb_dgm_names_len(&t->whole) + 24u + take(in) * 2u;
  max = max > NB_DGM_MAX_PAYLOAD ? NB_DGM_MAX_PAYLOAD : max;
  nb_dgm_split_t s;
  nb_dgm_msg_t f;
  size_t n = 0;
  require(nb_dgm_split_init(&s, &t->whole, max) == NB_OK);
  while (nb_dgm_split_next(&s, &f)) {
    nb_wr_t w;
    size_t len = 0;
    require(n < MAX_FRAGS);
    nb_wr_init(&w, wire[n], sizeof wire[n]);
    nb_dgm_write(&w, &f);
    require(nb_wr_finish(&w, &len) == NB_OK && len <= max);
    require(nb_dgm_parse(wire[n], len, &frags[n], NULL) == NB_OK);
    require(frags[n].n_findings == 0);
    n++;
  }
  uint8_t order = take(in), drops = take(in), gap = take(in);
  /* Rotate by `order`, reverse when its top bit is set; each of the
   * first 8 positions is repeated or left out by `drops`. */
  for (size_t k = 0; k < n + 2; k++) {
    size_t i = (k % n + order) % n;
    i = (order & 0x80) ? n - 1 - i : i;
    bool skip = k < 8 && ((drops >> k) & 1) && (order & 0x40);
    if (!skip && (k < n || ((drops >> (k - n)) & 1))) {
      add(&frags[i]);
    }
    now += gap;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  in_t in = {data, size};
  nb_dgm_reasm_cfg_t cfg;
  nb_dgm_reasm_cfg_default(&cfg);
  cfg.max_slots = 1u + (take(&in) & 15u);
  cfg.max_bytes = 1u + (size_t)take(&in) * 64u;
  require(nb_dgm_reasm_init(&reasm, &cfg) == NB_OK);
  memset(intents, 0, sizeof intents);
  now = 0;
  while (in.left > 0) {
    switch (take(&in) % 3) {
    case 0:
      op_step(&in);
      break;
    case 1:
      op_raw(&in);
      break;
    default:
      op_send(&in);
      break;
    }
  }
  return 0;
}
