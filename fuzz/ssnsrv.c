/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_ssnsrv: the session server and forwarder pump, driven statefully
 * by a script of client bytes, backend bytes, closes, connect results,
 * clock steps, partial writes and buffer swaps.
 *
 * Input: a 2-byte header, then events [op][len][payload].
 *   header: [cfg][cap]: cfg bit 0 busy, bits 1-2 keep-alive/idle timers,
 *           bit 3 "asynchronous" writes (partial, lent regions checked);
 *           cap: buffer size 600 + 64 * cap bytes (watermarks 1/2, 1/8).
 *   ops (op % 12):
 *     0 CLIENT   [bytes] from the client       1 BACKEND [bytes]
 *     2 EOF      [side]                        3 RESET   [side]
 *     4 CONNECT  [result]: the backend connect finished
 *     5 STEP     [ms lo][ms hi] clock, timers run when due
 *     6 WRITE    [side][n lo][n hi]: write up to n pending bytes
 *     7 SWAP     [side]: detach the buffer (if empty) and attach it again
 *     8 FLUSH    write everything pending both ways
 *     9 TICK     jump to next_deadline(), run timers
 *     10 BULK    [side][k lo][k hi][seed]: one whole session message of
 *                64 * (k % 16384) bytes (24-bit header above 0x1FFFF),
 *                fed in reads of up to 64 KiB: large SMB2 READ/WRITE
 *                shapes
 *     11 PASS    [side][bytes]: as many of the bytes as passthrough()
 *                allows go around the engine (splice) straight to the
 *                other side, which must be their place in the stream
 * Invariants (abort() on violation):
 *  - message bytes written toward a side are a prefix of what a model
 *    framer extracts from the other side's stream (headers in 24-bit form,
 *    which equals the 17-bit form up to 0x1FFFF): nothing lost, reordered,
 *    duplicated or invented; control packets never forwarded;
 *  - held bytes never exceed the buffer; data pointers lie inside it; a
 *    region handed out by pending() does not move until advance();
 *  - events: CONNECT, ESTABLISHED, REFUSED at most once, in that order,
 *    SHUTDOWN at most once per side, CLOSE at most once and last; nothing
 *    pending and no read wanted after CLOSE; the deadline is in the future
 *    after timers ran. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nb/ssnsrv.h"

#define MAX_CAP (600u + 64u * 255u)
#define IP(a, b, c, d)                                                         \
  ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 |            \
   (uint32_t)(d))

static void require(int cond) {
  if (!cond) {
    abort();
  }
}

/* What must come out toward one side: a model framer over the other
 * side's stream and a queue of the message bytes it expects. */
typedef struct {
  nb_ssn_framer_t f;
  int phase; /* 0 before the request/answer, 1 collecting, 2 stopped */
  uint8_t *q;
  size_t q_cap;
  size_t q_head;
  size_t q_len;
} model_t;

typedef struct {
  nb_ssnsrv_t s;
  nb_ssnsrv_config_t cfg;
  nb_ssnsrv_route_t routes[4];
  nb_name_t own[1];
  uint8_t *mem[2];
  size_t cap;
  bool attached[2];
  uint64_t now;
  bool async;
  model_t m[2];    /* m[to]: what must reach `to` */
  bool m_ready[2]; /* the backend model exists once routed */
  const uint8_t *lent_p[2];
  size_t lent_n[2];
  uint8_t lent_copy[2][256];
  /* event bookkeeping */
  int n_connect, n_estab, n_refused, n_shut[2], n_close;
  bool connect_pending;
} fz_t;

static void q_push(model_t *m, const uint8_t *p, size_t n) {
  if (m->q_head + m->q_len + n > m->q_cap) {
    if (m->q_head > 0) {
      memmove(m->q, m->q + m->q_head, m->q_len);
      m->q_head = 0;
    }
    if (m->q_len + n > m->q_cap) {
      size_t cap = (m->q_len + n) * 2 + 64;
      uint8_t *q = realloc(m->q, cap);
      require(q != NULL);
      m->q = q;
      m->q_cap = cap;
    }
  }
  memcpy(m->q + m->q_head + m->q_len, p, n);
  m->q_len += n;
}

/* Bytes written toward a side must be the next expected bytes. */
static void q_match(model_t *m, const uint8_t *p, size_t n) {
  require(n <= m->q_len);
  require(memcmp(m->q + m->q_head, p, n) == 0);
  m->q_head += n;
  m->q_len -= n;
}

static void model_init(model_t *m, nb_ssn_mode_t mode, int phase) {
  (void)nb_ssn_framer_init(&m->f, mode, 0);
  m->phase = phase;
}

/* Feed the model the bytes the engine accepted from the source. `start`
 * is the control type that opens phase 1 (0x81 from a client, 0x82 from
 * an nbt backend). */
static void model_feed(model_t *m, const uint8_t *p, size_t n, uint8_t start) {
  size_t used = 0;
  while (m->phase < 2) {
    nb_ssn_event_t ev;
    size_t k = 0;
    (void)nb_ssn_framer_feed(&m->f, p != NULL ? p + used : NULL, n - used, &k,
                             &ev);
    used += k;
    if (ev.kind == NB_SSN_EV_NEED_MORE) {
      return;
    }
    if (ev.kind == NB_SSN_EV_CONTROL &&
        ev.packet.type == NB_SSN_SESSION_KEEP_ALIVE) {
      continue;
    }
    if (m->phase == 0) {
      if (ev.kind == NB_SSN_EV_CONTROL && ev.packet.type == start &&
          nb_ssn_framer_set_mode(&m->f, NB_SSN_MODE_DIRECT) == NB_OK) {
        m->phase = 1;
        continue;
      }
      m->phase = 2;
      return;
    }
    if (ev.kind == NB_SSN_EV_MSG_BEGIN) {
      uint8_t h[4] = {0, (uint8_t)(ev.length >> 16), (uint8_t)(ev.length >> 8),
                      (uint8_t)ev.length};
      q_push(m, h, 4);
    } else if (ev.kind == NB_SSN_EV_MSG_DATA) {
      q_push(m, ev.data, ev.length);
    } else if (ev.kind != NB_SSN_EV_MSG_END) {
      m->phase = 2;
    }
  }
}

static void check_events(fz_t *z) {
  nb_ssnsrv_event_t ev;
  while (nb_ssnsrv_next_event(&z->s, &ev)) {
    require(z->n_close == 0); /* nothing after CLOSE */
    switch (ev.kind) {
    case NB_SSNSRV_EV_CONNECT:
      require(z->n_connect++ == 0);
      z->connect_pending = true;
      /* The route by address: 10.0.0.1 direct, 10.0.0.2 nbt. */
      require(ev.addr == IP(10, 0, 0, 1) || ev.addr == IP(10, 0, 0, 2));
      model_init(&z->m[NB_SSNSRV_CLIENT],
                 ev.addr == IP(10, 0, 0, 1) ? NB_SSN_MODE_DIRECT
                                            : NB_SSN_MODE_RFC,
                 ev.addr == IP(10, 0, 0, 1) ? 1 : 0);
      z->m_ready[NB_SSNSRV_CLIENT] = true;
      break;
    case NB_SSNSRV_EV_ESTABLISHED:
      require(z->n_connect == 1 && z->n_estab++ == 0 && z->n_refused == 0);
      break;
    case NB_SSNSRV_EV_REFUSED:
      require(z->n_refused++ == 0 && z->n_estab == 0);
      break;
    case NB_SSNSRV_EV_SHUTDOWN:
      require(ev.side == NB_SSNSRV_CLIENT || ev.side == NB_SSNSRV_BACKEND);
      require(z->n_shut[ev.side]++ == 0);
      break;
    case NB_SSNSRV_EV_CLOSE:
      z->n_close++;
      require(nb_ssnsrv_closed(&z->s));
      require((unsigned)ev.end < NB_SSNSRV_END__COUNT);
      break;
    default:
      abort();
    }
  }
  if (z->n_close > 0) {
    const uint8_t *p = NULL;
    require(nb_ssnsrv_pending(&z->s, NB_SSNSRV_CLIENT, &p) == 0);
    require(nb_ssnsrv_pending(&z->s, NB_SSNSRV_BACKEND, &p) == 0);
    require(!nb_ssnsrv_want_read(&z->s, NB_SSNSRV_CLIENT));
    require(!nb_ssnsrv_want_read(&z->s, NB_SSNSRV_BACKEND));
  }
}

static bool in_ctl(const fz_t *z, nb_ssnsrv_side_t to, const uint8_t *p) {
  const uint8_t *c = z->s.to[to].ctl;
  return p >= c && p < c + sizeof z->s.to[to].ctl;
}

/* Write up to `max` bytes pending toward `to`. */
static void write_out(fz_t *z, nb_ssnsrv_side_t to, size_t max) {
  const uint8_t *p = NULL;
  size_t n;
  while (max > 0 && (n = nb_ssnsrv_pending(&z->s, to, &p)) > 0) {
    bool ctl = in_ctl(z, to, p);
    if (!ctl) {
      require(p >= z->mem[to] && p + n <= z->mem[to] + z->cap);
      if (z->lent_n[to] > 0) { /* the lent region did not move */
        require(p == z->lent_p[to]);
        require(memcmp(p, z->lent_copy[to], z->lent_n[to]) == 0);
      }
      require(z->m_ready[to]);
      q_match(&z->m[to], p, n < max ? n : max);
    }
    size_t k = n < max ? n : max;
    nb_ssnsrv_advance(&z->s, to, k, z->now);
    max -= k;
    z->lent_n[to] = 0;
    if (!ctl && k < n && z->async) {
      size_t keep =
          n - k < sizeof z->lent_copy[to] ? n - k : sizeof z->lent_copy[to];
      z->lent_p[to] = p + k;
      z->lent_n[to] = keep;
      memcpy(z->lent_copy[to], p + k, keep);
    }
  }
  check_events(z);
}

static void feed(fz_t *z, nb_ssnsrv_side_t from, const uint8_t *p, size_t n) {
  nb_ssnsrv_side_t to =
      from == NB_SSNSRV_CLIENT ? NB_SSNSRV_BACKEND : NB_SSNSRV_CLIENT;
  while (n > 0) {
    size_t taken = 0;
    bool accept = nb_ssnsrv_want_read(&z->s, from);
    if (!accept) {
      return; /* a shell would not read now */
    }
    nb_ssnsrv_recv(&z->s, from, p, n, &taken, z->now);
    if (taken == 0) {
      return;
    }
    if (z->m_ready[to]) {
      model_feed(&z->m[to], p, taken,
                 from == NB_SSNSRV_CLIENT ? NB_SSN_SESSION_REQUEST
                                          : NB_SSN_POSITIVE_SESSION_RESPONSE);
    }
    require(nb_ssnsrv_held(&z->s, to) <= z->cap + NB_SSN_CONTROL_MAX);
    check_events(z);
    p += taken;
    n -= taken;
  }
}

/* A whole message of `len` bytes from `from`, in 64 KiB reads; each read
 * starts with its offset and the seed, so misplaced chunks show. */
static void bulk(fz_t *z, nb_ssnsrv_side_t from, size_t len, uint8_t seed) {
  static uint8_t chunk[65536];
  static bool ready;
  if (!ready) {
    for (size_t i = 0; i < sizeof chunk; i++) {
      chunk[i] = (uint8_t)(i * 131u + (i >> 8));
    }
    ready = true;
  }
  uint8_t h[4] = {0, (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
  if (len <= NB_SSN_RFC_MAX) {
    h[1] = (uint8_t)((len >> 16) & 1u); /* RFC 1002 4.3.1: E */
  }
  feed(z, from, h, sizeof h);
  for (size_t off = 0; off < len && nb_ssnsrv_want_read(&z->s, from);) {
    size_t n = len - off < sizeof chunk ? len - off : sizeof chunk;
    for (size_t i = 0; i < 8 && i < n; i++) {
      chunk[i] = (uint8_t)((off >> (8 * i)) + seed);
    }
    feed(z, from, chunk, n);
    off += n;
    if (!z->async) {
      write_out(z, NB_SSNSRV_CLIENT, SIZE_MAX);
      write_out(z, NB_SSNSRV_BACKEND, SIZE_MAX);
    }
  }
}

/* Zero copy: bytes that pass around the engine reach the sink at once,
 * so they must be the next bytes its model expects. */
static void pass(fz_t *z, nb_ssnsrv_side_t from, const uint8_t *p, size_t n) {
  nb_ssnsrv_side_t to =
      from == NB_SSNSRV_CLIENT ? NB_SSNSRV_BACKEND : NB_SSNSRV_CLIENT;
  size_t k = nb_ssnsrv_passthrough(&z->s, from);
  k = k < n ? k : n;
  if (k == 0 || !nb_ssnsrv_want_read(&z->s, from)) {
    return;
  }
  require(nb_ssnsrv_held(&z->s, to) == 0 && z->m_ready[to]);
  model_feed(&z->m[to], p, k,
             from == NB_SSNSRV_CLIENT ? NB_SSN_SESSION_REQUEST
                                      : NB_SSN_POSITIVE_SESSION_RESPONSE);
  q_match(&z->m[to], p, k);
  z->lent_n[to] = 0;
  nb_ssnsrv_passed(&z->s, from, k, z->now);
  check_events(z);
}

static void timers(fz_t *z) {
  uint64_t dl = nb_ssnsrv_next_deadline(&z->s);
  if (dl <= z->now) {
    nb_ssnsrv_on_timer(&z->s, z->now);
    check_events(z);
    dl = nb_ssnsrv_next_deadline(&z->s);
    require(dl > z->now || nb_ssnsrv_closed(&z->s));
  }
}

static void swap(fz_t *z, nb_ssnsrv_side_t to) {
  if (z->attached[to]) {
    uint8_t *m = nb_ssnsrv_detach(&z->s, to);
    if (m != NULL) {
      require(m == z->mem[to]);
      z->attached[to] = false;
      z->lent_n[to] = 0;
    }
  } else {
    nb_ssnsrv_attach(&z->s, to, z->mem[to], z->cap);
    z->attached[to] = true;
  }
}

static void setup(fz_t *z, uint8_t cfg, uint8_t capb) {
  static const char *const routes[] = {
      "A direct 10.0.0.1:445", "B nbt 10.0.0.2:139 as C",
      "R retarget 10.0.0.3:139", "J reject 0x82"};
  memset(z, 0, sizeof *z);
  for (size_t i = 0; i < 4; i++) {
    require(nb_ssnsrv_route_parse(&z->routes[i], routes[i], strlen(routes[i]),
                                  NULL) == NB_OK);
  }
  (void)nb_name_from_text(&z->own[0], "OWN", 3, NULL);
  nb_ssnsrv_config_init(&z->cfg);
  z->cfg.routes = z->routes;
  z->cfg.n_routes = 4;
  z->cfg.own = z->own;
  z->cfg.n_own = 1;
  z->cfg.keepalive_ms = (cfg & 2) ? 100 : 0;
  z->cfg.idle_timeout_ms = (cfg & 4) ? 1000 : 0;
  z->cap = 600u + 64u * capb;
  z->cfg.buf_high = (uint32_t)(z->cap / 2);
  z->cfg.buf_low = (uint32_t)(z->cap / 8);
  z->async = (cfg & 8) != 0;
  z->now = 1000;
  for (int i = 0; i < 2; i++) {
    z->mem[i] = malloc(z->cap);
    require(z->mem[i] != NULL);
    z->attached[i] = true;
  }
  require(nb_ssnsrv_init(&z->s, &z->cfg, (cfg & 1) != 0, z->now) == NB_OK);
  nb_ssnsrv_attach(&z->s, NB_SSNSRV_CLIENT, z->mem[0], z->cap);
  nb_ssnsrv_attach(&z->s, NB_SSNSRV_BACKEND, z->mem[1], z->cap);
  model_init(&z->m[NB_SSNSRV_BACKEND], NB_SSN_MODE_RFC, 0);
  z->m_ready[NB_SSNSRV_BACKEND] = true;
}

static void teardown(fz_t *z) {
  for (int i = 0; i < 2; i++) {
    free(z->mem[i]);
    free(z->m[i].q);
  }
}

static void step(fz_t *z, uint8_t op, const uint8_t *p, size_t n) {
  nb_ssnsrv_side_t side =
      n > 0 && (p[0] & 1) != 0 ? NB_SSNSRV_BACKEND : NB_SSNSRV_CLIENT;
  switch (op % 12) {
  case 0:
  case 1:
    feed(z, op % 10 == 0 ? NB_SSNSRV_CLIENT : NB_SSNSRV_BACKEND, p, n);
    break;
  case 2:
    nb_ssnsrv_eof(&z->s, side, z->now);
    break;
  case 3:
    nb_ssnsrv_reset(&z->s, side, z->now);
    break;
  case 4:
    if (z->connect_pending) {
      z->connect_pending = false;
      nb_ssnsrv_connected(
          &z->s, n > 0 ? (nb_ssnsrv_conn_t)(p[0] % 3) : NB_SSNSRV_CONN_OK,
          z->now);
    }
    break;
  case 5:
    z->now += n >= 2 ? (uint64_t)(p[0] | p[1] << 8) : 1;
    timers(z);
    break;
  case 6:
    write_out(z, side, n >= 3 ? (size_t)(p[1] | p[2] << 8) : 1);
    break;
  case 7:
    swap(z, side);
    break;
  case 8:
    write_out(z, NB_SSNSRV_CLIENT, SIZE_MAX);
    write_out(z, NB_SSNSRV_BACKEND, SIZE_MAX);
    break;
  case 11:
    pass(z, side, p + (n > 0 ? 1 : 0), n > 0 ? n - 1 : 0);
    break;
  case 10:
    bulk(z, side, n >= 4 ? (size_t)((p[1] | p[2] << 8) & 0x3fff) * 64u : 64u,
         n >= 4 ? p[3] : 0);
    break;
  default: {
    uint64_t dl = nb_ssnsrv_next_deadline(&z->s);
    if (dl != UINT64_MAX && dl > z->now) {
      z->now = dl;
    }
    timers(z);
  }
  }
  check_events(z);
  if (!z->async) {
    write_out(z, NB_SSNSRV_CLIENT, SIZE_MAX);
    write_out(z, NB_SSNSRV_BACKEND, SIZE_MAX);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static fz_t z;
  size_t pos = 2;
  if (size < 2) {
    return 0;
  }
  setup(&z, data[0], data[1]);
  while (pos + 2 <= size) {
    uint8_t op = data[pos];
    size_t n = data[pos + 1];
    pos += 2;
    n = n < size - pos ? n : size - pos;
    step(&z, op, data + pos, n);
    pos += n;
  }
  /* Drain: whatever is left must still match the models. */
  z.async = false;
  write_out(&z, NB_SSNSRV_CLIENT, SIZE_MAX);
  write_out(&z, NB_SSNSRV_BACKEND, SIZE_MAX);
  teardown(&z);
  return 0;
}
