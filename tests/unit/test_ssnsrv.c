/* SPDX-License-Identifier: BSD-2-Clause */
/* The session server and forwarder pump (nb/ssnsrv.h), driven byte by byte
 * with a virtual clock: every route action and negative code, the SESSION
 * REQUEST and both streams at every split point, keep-alives (dropped one
 * way, generated the other), watermarks, half-close and reset, timeouts,
 * and the 24-bit framing of large SMB2 messages to a 139 client. The test
 * plays client and backend; what each receives is compared with what the
 * other sent, minus the control packets the engine handles. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "nb/ssnsrv.h"

#define BUF_CAP (256u * 1024u)
#define MAX_EV 16

typedef struct {
  nb_ssnsrv_t s;
  nb_ssnsrv_config_t cfg;
  nb_ssnsrv_route_t routes[8];
  nb_name_t own[2];
  uint64_t now;
  uint8_t *mem[2];
  size_t cap;
  uint8_t *out[2]; /* what each side received (grows) */
  size_t out_len[2];
  size_t out_cap[2];
  nb_ssnsrv_event_t ev[MAX_EV];
  size_t n_ev;
  bool auto_flush; /* drain both sides after every input */
} h_t;

static h_t *h_new(size_t cap) {
  h_t *h = calloc(1, sizeof *h);
  assert_non_null(h);
  h->cap = cap;
  for (int i = 0; i < 2; i++) {
    h->mem[i] = malloc(cap);
    h->out_cap[i] = 8192;
    h->out[i] = malloc(h->out_cap[i]);
    assert_non_null(h->mem[i]);
    assert_non_null(h->out[i]);
  }
  nb_ssnsrv_config_init(&h->cfg);
  h->cfg.routes = h->routes;
  h->cfg.own = h->own;
  h->cfg.keepalive_ms = 0;
  h->now = 1000;
  h->auto_flush = true;
  return h;
}

static void h_free(h_t *h) {
  for (int i = 0; i < 2; i++) {
    free(h->mem[i]);
    free(h->out[i]);
  }
  free(h);
}

static void h_route(h_t *h, const char *text) {
  nb_diag_t d;
  assert_int_equal(nb_ssnsrv_route_parse(&h->routes[h->cfg.n_routes], text,
                                         strlen(text), &d),
                   NB_OK);
  h->cfg.n_routes++;
}

static void h_start(h_t *h, bool busy) {
  assert_int_equal(nb_ssnsrv_init(&h->s, &h->cfg, busy, h->now), NB_OK);
  nb_ssnsrv_attach(&h->s, NB_SSNSRV_CLIENT, h->mem[0], h->cap);
  nb_ssnsrv_attach(&h->s, NB_SSNSRV_BACKEND, h->mem[1], h->cap);
}

static void h_events(h_t *h) {
  nb_ssnsrv_event_t ev;
  while (nb_ssnsrv_next_event(&h->s, &ev)) {
    assert_true(h->n_ev < MAX_EV);
    h->ev[h->n_ev++] = ev;
  }
}

/* Write up to `max` bytes pending for `to` (in chunks of `chunk`). */
static void h_drain(h_t *h, nb_ssnsrv_side_t to, size_t max, size_t chunk) {
  const uint8_t *p = NULL;
  size_t n;
  while (max > 0 && (n = nb_ssnsrv_pending(&h->s, to, &p)) > 0) {
    n = n < max ? n : max;
    n = n < chunk ? n : chunk;
    while (h->out_len[to] + n > h->out_cap[to]) {
      h->out_cap[to] *= 2;
      h->out[to] = realloc(h->out[to], h->out_cap[to]);
      assert_non_null(h->out[to]);
    }
    memcpy(h->out[to] + h->out_len[to], p, n);
    h->out_len[to] += n;
    nb_ssnsrv_advance(&h->s, to, n, h->now);
    max -= n;
  }
  h_events(h);
}

static void h_flush(h_t *h) {
  h_drain(h, NB_SSNSRV_CLIENT, SIZE_MAX, SIZE_MAX);
  h_drain(h, NB_SSNSRV_BACKEND, SIZE_MAX, SIZE_MAX);
}

/* Feed bytes from `from` in one read (must fit). */
static void h_feed(h_t *h, nb_ssnsrv_side_t from, const uint8_t *p, size_t n) {
  size_t taken = 0;
  while (n > 0 && !nb_ssnsrv_closed(&h->s)) {
    nb_ssnsrv_recv(&h->s, from, p, n, &taken, h->now);
    h_events(h);
    if (h->auto_flush) {
      h_flush(h);
    }
    assert_true(taken > 0 || nb_ssnsrv_closed(&h->s));
    p += taken;
    n -= taken;
  }
  h_events(h);
}

static void h_feed_hex(h_t *h, nb_ssnsrv_side_t from, const char *hex) {
  uint8_t buf[1024];
  size_t n = nb_test_unhex(hex, buf, sizeof buf);
  h_feed(h, from, buf, n);
}

static const nb_ssnsrv_event_t *h_find(const h_t *h, nb_ssnsrv_ev_kind_t k) {
  for (size_t i = 0; i < h->n_ev; i++) {
    if (h->ev[i].kind == k) {
      return &h->ev[i];
    }
  }
  return NULL;
}

static void h_expect_out(const h_t *h, nb_ssnsrv_side_t to, const char *hex) {
  uint8_t buf[1024];
  size_t n = nb_test_unhex(hex, buf, sizeof buf);
  assert_int_equal(h->out_len[to], n);
  assert_memory_equal(h->out[to], buf, n);
}

static size_t request(uint8_t *buf, size_t cap, const char *called,
                      const char *calling) {
  nb_name_t a;
  nb_name_t b;
  nb_wr_t w;
  size_t len = 0;
  assert_int_equal(nb_name_from_text(&a, called, strlen(called), NULL), NB_OK);
  assert_int_equal(nb_name_from_text(&b, calling, strlen(calling), NULL),
                   NB_OK);
  nb_wr_init(&w, buf, cap);
  nb_ssn_write_request(&w, &a, &b);
  assert_int_equal(nb_wr_finish(&w, &len), NB_OK);
  return len;
}

static void h_request(h_t *h, const char *called) {
  uint8_t buf[NB_SSN_CONTROL_MAX];
  size_t n = request(buf, sizeof buf, called, "SCANNER");
  h_feed(h, NB_SSNSRV_CLIENT, buf, n);
}

/* A session message of `len` bytes, byte i = seed + i. */
static size_t message(uint8_t *buf, size_t cap, uint32_t len, uint8_t seed,
                      nb_ssn_mode_t mode) {
  nb_wr_t w;
  size_t n = 0;
  nb_wr_init(&w, buf, cap);
  nb_ssn_write_msg_header(&w, mode, len);
  for (uint32_t i = 0; i < len; i++) {
    nb_wr_u8(&w, (uint8_t)(seed + i));
  }
  assert_int_equal(nb_wr_finish(&w, &n), NB_OK);
  return n;
}

/* A started session to a direct route, positive response consumed. */
static h_t *h_established(void) {
  h_t *h = h_new(BUF_CAP);
  h_route(h, "XYKON-2 direct 127.0.0.1:445");
  h_start(h, false);
  h_request(h, "XYKON-2");
  nb_ssnsrv_connected(&h->s, NB_SSNSRV_CONN_OK, h->now);
  h_events(h);
  h_flush(h);
  h_expect_out(h, NB_SSNSRV_CLIENT, "82000000");
  h->out_len[NB_SSNSRV_CLIENT] = 0;
  h->n_ev = 0;
  assert_true(nb_ssnsrv_established(&h->s));
  return h;
}

/* ---- routes ------------------------------------------------------------
 */

static bool name_same(const nb_name_t *a, const nb_name_t *b) {
  return memcmp(a->bytes, b->bytes, NB_NAME_BYTES) == 0 &&
         strcmp(a->scope, b->scope) == 0;
}

static bool route_equal(const nb_ssnsrv_route_t *a,
                        const nb_ssnsrv_route_t *b) {
  return name_same(&a->name, &b->name) && a->action == b->action &&
         a->code == b->code && a->rewrite == b->rewrite && a->port == b->port &&
         a->addr == b->addr && (!a->rewrite || name_same(&a->as, &b->as));
}

static void test_route_parse(void **state) {
  (void)state;
  static const char *const good[] = {
      "XYKON-2 direct 127.0.0.1:445",
      "FILES<20> nbt 192.0.2.20:139 as BACKEND<20>",
      "OLD retarget 192.0.2.30:139",
      "GONE reject 0x82",
      "busy reject 131",
      "*SMBSERVER direct 10.0.0.1:445",
      "NAME.scope.example direct 10.0.0.1:1",
  };
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    nb_ssnsrv_route_t r;
    nb_ssnsrv_route_t back;
    char text[NB_SSNSRV_ROUTE_TEXT_MAX];
    assert_int_equal(nb_ssnsrv_route_parse(&r, good[i], strlen(good[i]), NULL),
                     NB_OK);
    size_t n = nb_ssnsrv_route_to_text(&r, text, sizeof text);
    assert_true(n < sizeof text);
    assert_int_equal(nb_ssnsrv_route_parse(&back, text, n, NULL), NB_OK);
    assert_true(route_equal(&r, &back));
  }
  nb_ssnsrv_route_t r;
  assert_int_equal(nb_ssnsrv_route_parse(&r, good[1], strlen(good[1]), NULL),
                   NB_OK);
  assert_int_equal(r.action, NB_SSNSRV_ROUTE_NBT);
  assert_true(r.rewrite);
  assert_int_equal(r.addr, 0xC0000214u);
  assert_int_equal(r.port, 139);
  assert_int_equal(nb_name_suffix(&r.name), 0x20);
}

static void test_route_parse_errors(void **state) {
  (void)state;
  static const struct {
    const char *text;
    size_t offset;
  } bad[] = {
      {"", 0},
      {"NAME", 4},
      {"NAME fly 1.2.3.4:5", 5},
      {"NAME direct 1.2.3.4", 19},
      {"NAME direct 1.2.3.4:0", 20},
      {"NAME direct 1.2.3.4:65536", 20},
      {"NAME direct 256.2.3.4:1", 12},
      {"NAME direct 01.2.3.4:1", 12},
      {"NAME direct 1.2.3.4:1 extra", 22},
      {"NAME nbt 1.2.3.4:1 like X", 19},
      {"NAME nbt 1.2.3.4:1 as", 21},
      {"NAME reject 0x84", 12},
      {"NAME reject", 11},
      {"SIXTEEN-CHARS-XX direct 1.2.3.4:1", 15},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    nb_ssnsrv_route_t r;
    nb_diag_t d = {NB_OK, 0, NULL};
    assert_int_equal(
        nb_ssnsrv_route_parse(&r, bad[i].text, strlen(bad[i].text), &d),
        NB_EINVAL);
    assert_non_null(d.field);
    if (d.offset != bad[i].offset) {
      fail_msg("'%s': offset %zu, want %zu (%s)", bad[i].text, d.offset,
               bad[i].offset, d.field);
    }
  }
  nb_ssnsrv_route_t r;
  nb_diag_t d;
  assert_int_equal(nb_ssnsrv_forward_parse(&r, "XYKON-2=127.0.0.1:445", 21, &d),
                   NB_OK);
  assert_int_equal(r.action, NB_SSNSRV_ROUTE_DIRECT);
  assert_int_equal(r.addr, 0x7F000001u);
  assert_int_equal(nb_ssnsrv_forward_parse(&r, "XYKON-2", 7, &d), NB_EINVAL);
  assert_int_equal(nb_ssnsrv_forward_parse(&r, "X=1.2.3.4:x", 11, &d),
                   NB_EINVAL);
  assert_int_equal(d.offset, 10);
  /* A name may hold '=' (fuzz_config: route_to_text prints it raw); the
   * address never does, so the last '=' splits. */
  nb_name_t eq;
  assert_int_equal(nb_name_from_text(&eq, "N;SPEED=1", 9, NULL), NB_OK);
  assert_int_equal(
      nb_ssnsrv_forward_parse(&r, "N;speed=1=10.0.0.16:445", 23, &d), NB_OK);
  assert_true(nb_name_equal(&r.name, &eq));
  assert_int_equal(r.addr, 0x0A000010u);
  assert_int_equal(r.port, 445);
  assert_int_equal(nb_ssnsrv_forward_parse(&r, "X=1.2.3.4:5=", 12, &d),
                   NB_EINVAL);
  /* A name may hold spaces too: route_to_text escapes them, so that its
   * text is words route_parse reads back (fuzz_config's round trip). */
  char text[NB_SSNSRV_ROUTE_TEXT_MAX];
  nb_ssnsrv_route_t back;
  assert_int_equal(nb_ssnsrv_forward_parse(&r, "A B=1.2.3.4:445", 15, &d),
                   NB_OK);
  size_t n = nb_ssnsrv_route_to_text(&r, text, sizeof text);
  assert_string_equal(text, "A\\x20B<20> direct 1.2.3.4:445");
  assert_int_equal(nb_ssnsrv_route_parse(&back, text, n, &d), NB_OK);
  assert_true(nb_name_equal(&back.name, &r.name));
}

static void test_route_find(void **state) {
  (void)state;
  nb_ssnsrv_route_t routes[3];
  nb_name_t n;
  const char *texts[] = {"OLD retarget 1.2.3.4:139", "FILES nbt 1.2.3.5:139",
                         "XYKON-2 direct 1.2.3.6:445"};
  for (int i = 0; i < 3; i++) {
    assert_int_equal(
        nb_ssnsrv_route_parse(&routes[i], texts[i], strlen(texts[i]), NULL),
        NB_OK);
  }
  /* Case-insensitive name, exact suffix. */
  assert_int_equal(nb_name_from_text(&n, "xykon-2", 7, NULL), NB_OK);
  assert_ptr_equal(nb_ssnsrv_route_find(routes, 3, &n), &routes[2]);
  assert_int_equal(nb_name_from_text(&n, "XYKON-2<00>", 11, NULL), NB_OK);
  assert_null(nb_ssnsrv_route_find(routes, 3, &n));
  /* Scope must match. */
  assert_int_equal(nb_name_from_text(&n, "XYKON-2.other", 13, NULL), NB_OK);
  assert_null(nb_ssnsrv_route_find(routes, 3, &n));
  /* *SMBSERVER<20>: the first forwarding route. */
  assert_int_equal(nb_name_from_text(&n, "*smbserver", 10, NULL), NB_OK);
  assert_true(nb_ssnsrv_is_smbserver(&n));
  assert_ptr_equal(nb_ssnsrv_route_find(routes, 3, &n), &routes[1]);
  assert_null(nb_ssnsrv_route_find(routes, 1, &n));
}

/* ---- session setup ------------------------------------------------------
 */

static void test_direct_route(void **state) {
  (void)state;
  h_t *h = h_new(BUF_CAP);
  h_route(h, "XYKON-2 direct 127.0.0.1:445");
  h_start(h, false);
  assert_true(nb_ssnsrv_want_read(&h->s, NB_SSNSRV_CLIENT));
  assert_false(nb_ssnsrv_want_read(&h->s, NB_SSNSRV_BACKEND));
  h_request(h, "xykon-2");
  const nb_ssnsrv_event_t *ev = h_find(h, NB_SSNSRV_EV_CONNECT);
  assert_non_null(ev);
  assert_int_equal(ev->addr, 0x7F000001u);
  assert_int_equal(ev->port, 445);
  assert_int_equal(h->out_len[NB_SSNSRV_CLIENT], 0); /* nothing yet */
  nb_ssnsrv_connected(&h->s, NB_SSNSRV_CONN_OK, h->now);
  h_events(h);
  h_flush(h);
  h_expect_out(h, NB_SSNSRV_CLIENT, "82000000");
  assert_non_null(h_find(h, NB_SSNSRV_EV_ESTABLISHED));
  /* The request is answered locally: the 445 backend sees none of it. */
  assert_int_equal(h->out_len[NB_SSNSRV_BACKEND], 0);
  h_feed_hex(h, NB_SSNSRV_CLIENT, "00000004 fe534d42 85000000 00000001 aa");
  h_expect_out(h, NB_SSNSRV_BACKEND, "00000004 fe534d42 00000001 aa");
  assert_int_equal(h->s.c.keepalives_in, 1);
  h_feed_hex(h, NB_SSNSRV_BACKEND, "00000005 fe534d4201");
  h_expect_out(h, NB_SSNSRV_CLIENT, "82000000 00000005 fe534d4201");
  assert_int_equal(h->s.c.msgs[NB_SSNSRV_BACKEND], 2);
  assert_int_equal(h->s.c.msgs[NB_SSNSRV_CLIENT], 1);
  h_free(h);
}

static void refused_case(const char *route, bool busy, const char *called,
                         const char *want) {
  h_t *h = h_new(BUF_CAP);
  if (route != NULL) {
    h_route(h, route);
  }
  assert_int_equal(nb_name_from_text(&h->own[0], "NBTD", 4, NULL), NB_OK);
  h->cfg.n_own = 1;
  h_start(h, busy);
  h_request(h, called);
  h_expect_out(h, NB_SSNSRV_CLIENT, want);
  assert_non_null(h_find(h, NB_SSNSRV_EV_REFUSED));
  assert_null(h_find(h, NB_SSNSRV_EV_CONNECT));
  const nb_ssnsrv_event_t *ev = h_find(h, NB_SSNSRV_EV_SHUTDOWN);
  assert_non_null(ev);
  assert_int_equal(ev->side, NB_SSNSRV_CLIENT);
  /* Late client bytes are drained and dropped until its FIN. */
  assert_true(nb_ssnsrv_want_read(&h->s, NB_SSNSRV_CLIENT));
  h_feed_hex(h, NB_SSNSRV_CLIENT, "00000001 ff");
  assert_int_equal(h->out_len[NB_SSNSRV_BACKEND], 0);
  nb_ssnsrv_eof(&h->s, NB_SSNSRV_CLIENT, h->now);
  h_events(h);
  ev = h_find(h, NB_SSNSRV_EV_CLOSE);
  assert_non_null(ev);
  assert_false(ev->reset);
  assert_true(nb_ssnsrv_closed(&h->s));
  h_free(h);
}

static void test_refusals(void **state) {
  (void)state;
  /* RFC 1002 4.3.4 codes; reasoning in docs/CONFORMANCE.md. */
  refused_case(NULL, false, "NOBODY", "83000001 82");
  refused_case("X direct 1.2.3.4:445", false, "nbtd", "83000001 80");
  refused_case("X direct 1.2.3.4:445", false, "NBTD<00>", "83000001 82");
  refused_case("GONE reject 0x81", false, "GONE", "83000001 81");
  refused_case("GONE reject 0x8f", false, "gone", "83000001 8f");
  refused_case("OLD retarget 192.0.2.30:1139", false, "OLD",
               "84000006 c000021e 0473");
  refused_case("X direct 1.2.3.4:445", true, "X", "83000001 83");
  refused_case("X nbt 1.2.3.4:139", true, "X", "83000001 83");
  /* Refusals and retargets need no resources: answered even when busy. */
  refused_case("OLD retarget 192.0.2.30:139", true, "OLD",
               "84000006 c000021e 008b");
  refused_case("X direct 1.2.3.4:445", true, "NOBODY", "83000001 82");
}

static void test_smbserver(void **state) {
  (void)state;
  h_t *h = h_new(BUF_CAP);
  h_route(h, "OLD retarget 1.2.3.4:139");
  h_route(h, "XYKON-2 direct 10.1.2.3:445");
  h_start(h, false);
  h_request(h, "*SMBSERVER");
  const nb_ssnsrv_event_t *ev = h_find(h, NB_SSNSRV_EV_CONNECT);
  assert_non_null(ev);
  assert_int_equal(ev->addr, 0x0A010203u);
  h_free(h);
}

static void connect_fail_case(nb_ssnsrv_conn_t result, const char *want) {
  h_t *h = h_new(BUF_CAP);
  h_route(h, "X direct 1.2.3.4:445");
  h_start(h, false);
  h_request(h, "X");
  nb_ssnsrv_connected(&h->s, result, h->now);
  h_events(h);
  h_flush(h);
  h_expect_out(h, NB_SSNSRV_CLIENT, want);
  nb_ssnsrv_eof(&h->s, NB_SSNSRV_CLIENT, h->now);
  h_events(h);
  const nb_ssnsrv_event_t *ev = h_find(h, NB_SSNSRV_EV_CLOSE);
  assert_non_null(ev);
  assert_int_equal(ev->end, NB_SSNSRV_END_BACKEND_CONNECT);
  h_free(h);
}

static void test_backend_unreachable(void **state) {
  (void)state;
  connect_fail_case(NB_SSNSRV_CONN_REFUSED, "83000001 80");
  connect_fail_case(NB_SSNSRV_CONN_FAILED, "83000001 8f");
  /* The connect timeout: 0x8F too. */
  h_t *h = h_new(BUF_CAP);
  h_route(h, "X direct 1.2.3.4:445");
  h->cfg.connect_timeout_ms = 3000;
  h_start(h, false);
  h_request(h, "X");
  assert_int_equal(nb_ssnsrv_next_deadline(&h->s), h->now + 3000);
  nb_ssnsrv_on_timer(&h->s, h->now + 2999);
  h_flush(h);
  assert_int_equal(h->out_len[NB_SSNSRV_CLIENT], 0);
  h->now += 3000;
  nb_ssnsrv_on_timer(&h->s, h->now);
  h_flush(h);
  h_expect_out(h, NB_SSNSRV_CLIENT, "83000001 8f");
  /* A late connect result changes nothing. */
  nb_ssnsrv_connected(&h->s, NB_SSNSRV_CONN_OK, h->now);
  h_flush(h);
  h_expect_out(h, NB_SSNSRV_CLIENT, "83000001 8f");
  /* The client never reads: the linger timeout resets. */
  h->now += NB_SSNSRV_LINGER_MS;
  nb_ssnsrv_on_timer(&h->s, h->now);
  h_events(h);
  const nb_ssnsrv_event_t *ev = h_find(h, NB_SSNSRV_EV_CLOSE);
  assert_non_null(ev);
  assert_true(ev->reset);
  assert_int_equal(ev->end, NB_SSNSRV_END_LINGER_TIMEOUT);
  h_free(h);
}

static void test_request_timeout_and_garbage(void **state) {
  (void)state;
  h_t *h = h_new(BUF_CAP);
  h->cfg.request_timeout_ms = 5000;
  h_start(h, false);
  h_feed_hex(h, NB_SSNSRV_CLIENT, "85000000"); /* keep-alives are ignored */
  assert_false(nb_ssnsrv_closed(&h->s));
  h->now += 5000;
  nb_ssnsrv_on_timer(&h->s, h->now);
  h_events(h);
  assert_int_equal(h_find(h, NB_SSNSRV_EV_CLOSE)->end,
                   NB_SSNSRV_END_REQUEST_TIMEOUT);
  assert_int_equal(h->out_len[NB_SSNSRV_CLIENT], 0);
  h_free(h);

  /* A message before any request: closed without an answer. */
  h = h_new(BUF_CAP);
  h_start(h, false);
  h_feed_hex(h, NB_SSNSRV_CLIENT, "00000004 ff534d42");
  assert_int_equal(h_find(h, NB_SSNSRV_EV_CLOSE)->end,
                   NB_SSNSRV_END_CLIENT_PROTOCOL);
  assert_int_equal(h->out_len[NB_SSNSRV_CLIENT], 0);
  h_free(h);

  /* A malformed SESSION REQUEST (trailing byte): 0x8F. */
  h = h_new(BUF_CAP);
  h_start(h, false);
  uint8_t buf[NB_SSN_CONTROL_MAX + 1];
  size_t n = request(buf, sizeof buf, "X", "Y");
  buf[3] = (uint8_t)(buf[3] + 1);
  buf[n++] = 0;
  h_feed(h, NB_SSNSRV_CLIENT, buf, n);
  h_expect_out(h, NB_SSNSRV_CLIENT, "83000001 8f");
  h_free(h);

  /* The client leaves before the backend answers. */
  h = h_new(BUF_CAP);
  h_route(h, "X direct 1.2.3.4:445");
  h_start(h, false);
  h_request(h, "X");
  nb_ssnsrv_eof(&h->s, NB_SSNSRV_CLIENT, h->now);
  h_events(h);
  assert_int_equal(h_find(h, NB_SSNSRV_EV_CLOSE)->end,
                   NB_SSNSRV_END_CLIENT_EOF);
  h_free(h);
}

static h_t *nbt_session(const char *route) {
  h_t *h = h_new(BUF_CAP);
  h_route(h, route);
  h_start(h, false);
  h_request(h, "FILES");
  nb_ssnsrv_connected(&h->s, NB_SSNSRV_CONN_OK, h->now);
  h_events(h);
  h_flush(h);
  return h;
}

static void test_nbt_route(void **state) {
  (void)state;
  uint8_t want[NB_SSN_CONTROL_MAX];
  /* Relayed with the called name rewritten, calling name kept. */
  h_t *h = nbt_session("FILES nbt 192.0.2.20:139 as BACKEND");
  size_t n = request(want, sizeof want, "BACKEND", "SCANNER");
  assert_int_equal(h->out_len[NB_SSNSRV_BACKEND], n);
  assert_memory_equal(h->out[NB_SSNSRV_BACKEND], want, n);
  assert_int_equal(h->out_len[NB_SSNSRV_CLIENT], 0);
  /* A keep-alive, then the positive answer and a message together. */
  h_feed_hex(h, NB_SSNSRV_BACKEND, "85000000 82000000 00010000 aa");
  h_expect_out(h, NB_SSNSRV_CLIENT, "82000000 00010000 aa");
  assert_true(nb_ssnsrv_established(&h->s));
  h_free(h);

  /* Without `as`: the request goes on unchanged. */
  h = nbt_session("FILES nbt 192.0.2.20:139");
  n = request(want, sizeof want, "FILES", "SCANNER");
  assert_int_equal(h->out_len[NB_SSNSRV_BACKEND], n);
  assert_memory_equal(h->out[NB_SSNSRV_BACKEND], want, n);
  h_free(h);

  /* Negative codes and retargets are relayed. */
  static const struct {
    const char *answer;
    const char *relayed;
    nb_ssnsrv_end_t end;
  } cases[] = {
      {"83000001 82", "83000001 82", NB_SSNSRV_END_REFUSED},
      {"83000001 80", "83000001 80", NB_SSNSRV_END_REFUSED},
      {"83000001 42", "83000001 8f", NB_SSNSRV_END_REFUSED},
      {"84000006 c0000214 008b", "84000006 c0000214 008b",
       NB_SSNSRV_END_REFUSED},
      {"00000001 ff", "83000001 8f", NB_SSNSRV_END_BACKEND_PROTOCOL},
      {"81000000", "83000001 8f", NB_SSNSRV_END_BACKEND_PROTOCOL},
      {"77000000", "83000001 8f", NB_SSNSRV_END_BACKEND_PROTOCOL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    h = nbt_session("FILES nbt 192.0.2.20:139");
    h_feed_hex(h, NB_SSNSRV_BACKEND, cases[i].answer);
    h_expect_out(h, NB_SSNSRV_CLIENT, cases[i].relayed);
    nb_ssnsrv_eof(&h->s, NB_SSNSRV_CLIENT, h->now);
    h_events(h);
    assert_int_equal(h_find(h, NB_SSNSRV_EV_CLOSE)->end, cases[i].end);
    h_free(h);
  }

  /* The backend hangs up without answering, or never answers. */
  h = nbt_session("FILES nbt 192.0.2.20:139");
  nb_ssnsrv_eof(&h->s, NB_SSNSRV_BACKEND, h->now);
  h_flush(h);
  h_expect_out(h, NB_SSNSRV_CLIENT, "83000001 8f");
  h_free(h);
  h = nbt_session("FILES nbt 192.0.2.20:139");
  h->now += NB_SSNSRV_CONNECT_TIMEOUT_MS;
  nb_ssnsrv_on_timer(&h->s, h->now);
  h_flush(h);
  h_expect_out(h, NB_SSNSRV_CLIENT, "83000001 8f");
  h_free(h);
}

/* ---- split points -------------------------------------------------------
 */

/* The client's whole stream (request, messages, keep-alives) and what the
 * backend must receive. */
typedef struct {
  uint8_t in[4096];
  size_t in_len;
  uint8_t want[4096];
  size_t want_len;
} script_t;

static void script_add(script_t *sc, const uint8_t *p, size_t n, bool fwd) {
  memcpy(sc->in + sc->in_len, p, n);
  sc->in_len += n;
  if (fwd) {
    memcpy(sc->want + sc->want_len, p, n);
    sc->want_len += n;
  }
}

static void client_script(script_t *sc) {
  uint8_t buf[2048];
  static const uint8_t ka[] = {0x85, 0, 0, 0};
  memset(sc, 0, sizeof *sc);
  script_add(sc, buf, request(buf, sizeof buf, "XYKON-2", "SCANNER"), false);
  script_add(sc, ka, sizeof ka, false);
  script_add(sc, buf, message(buf, sizeof buf, 100, 1, NB_SSN_MODE_RFC), true);
  script_add(sc, ka, sizeof ka, false);
  script_add(sc, ka, sizeof ka, false);
  script_add(sc, buf, message(buf, sizeof buf, 0, 0, NB_SSN_MODE_RFC), true);
  script_add(sc, buf, message(buf, sizeof buf, 1500, 7, NB_SSN_MODE_RFC), true);
  script_add(sc, ka, sizeof ka, false);
}

/* Feed the script cut at `cuts` (sorted offsets); connect after the
 * request so that pipelined bytes are exercised too. */
static void run_cuts(const script_t *sc, const size_t *cuts, size_t n_cuts,
                     bool connect_late) {
  h_t *h = h_new(BUF_CAP);
  h_route(h, "XYKON-2 direct 127.0.0.1:445");
  h_start(h, false);
  if (!connect_late) {
    h->auto_flush = true;
  }
  size_t pos = 0;
  for (size_t i = 0; i <= n_cuts; i++) {
    size_t end = i < n_cuts ? cuts[i] : sc->in_len;
    h_feed(h, NB_SSNSRV_CLIENT, sc->in + pos, end - pos);
    pos = end;
    if (!connect_late && h_find(h, NB_SSNSRV_EV_CONNECT) != NULL &&
        !nb_ssnsrv_established(&h->s)) {
      nb_ssnsrv_connected(&h->s, NB_SSNSRV_CONN_OK, h->now);
      h_events(h);
      h_flush(h);
    }
  }
  if (connect_late) {
    nb_ssnsrv_connected(&h->s, NB_SSNSRV_CONN_OK, h->now);
    h_events(h);
    h_flush(h);
  }
  assert_int_equal(h->out_len[NB_SSNSRV_BACKEND], sc->want_len);
  assert_memory_equal(h->out[NB_SSNSRV_BACKEND], sc->want, sc->want_len);
  h_expect_out(h, NB_SSNSRV_CLIENT, "82000000");
  assert_int_equal(h->s.c.keepalives_in, 4);
  assert_int_equal(h->s.c.msgs[NB_SSNSRV_BACKEND], 3);
  h_free(h);
}

static void test_client_splits(void **state) {
  (void)state;
  script_t sc;
  client_script(&sc);
  run_cuts(&sc, NULL, 0, false);
  run_cuts(&sc, NULL, 0, true);
  for (size_t c = 1; c < sc.in_len; c++) {
    run_cuts(&sc, &c, 1, false);
    run_cuts(&sc, &c, 1, true);
  }
  /* Every pair of cuts over the request and the first message. */
  for (size_t a = 1; a < 180; a++) {
    for (size_t b = a + 1; b < 180; b += 3) {
      size_t cuts[2] = {a, b};
      run_cuts(&sc, cuts, 2, (a & 1) != 0);
    }
  }
  /* One byte at a time. */
  size_t *cuts = malloc(sc.in_len * sizeof *cuts);
  assert_non_null(cuts);
  for (size_t i = 0; i + 1 < sc.in_len; i++) {
    cuts[i] = i + 1;
  }
  run_cuts(&sc, cuts, sc.in_len - 1, false);
  /* Random cut sets (fixed seed). */
  uint32_t seed = 0x5eed;
  for (int round = 0; round < 300; round++) {
    size_t n = 0;
    for (size_t off = 1; off < sc.in_len; off++) {
      if (nb_test_rand(&seed) % 40 == 0) {
        cuts[n++] = off;
      }
    }
    run_cuts(&sc, cuts, n, (round & 1) != 0);
  }
  free(cuts);
}

static void test_backend_splits(void **state) {
  (void)state;
  uint8_t stream[8192];
  uint8_t want[8192];
  size_t n = 0;
  size_t w = 0;
  static const uint8_t ka[] = {0x85, 0, 0, 0};
  memcpy(want, "\x82\0\0\0", 4);
  w = 4;
  for (int i = 0; i < 4; i++) {
    size_t m = message(stream + n, sizeof stream - n, (uint32_t)(i * 700),
                       (uint8_t)i, NB_SSN_MODE_DIRECT);
    memcpy(want + w, stream + n, m);
    n += m;
    w += m;
    memcpy(stream + n, ka, 4); /* smbd's SMB1 keep-alives: dropped */
    n += 4;
  }
  uint32_t seed = 77;
  for (int round = 0; round < 400; round++) {
    h_t *h = h_established();
    memcpy(h->out[NB_SSNSRV_CLIENT], "\x82\0\0\0", 4);
    h->out_len[NB_SSNSRV_CLIENT] = 4;
    size_t pos = 0;
    while (pos < n) {
      size_t step =
          round < 100 ? (size_t)round + 1 : 1 + nb_test_rand(&seed) % 900;
      step = step < n - pos ? step : n - pos;
      h_feed(h, NB_SSNSRV_BACKEND, stream + pos, step);
      pos += step;
    }
    assert_int_equal(h->out_len[NB_SSNSRV_CLIENT], w);
    assert_memory_equal(h->out[NB_SSNSRV_CLIENT], want, w);
    assert_int_equal(h->s.c.keepalives_in, 4);
    h_free(h);
  }
}

/* ---- keep-alives, idle, half-close, reset -------------------------------
 */

static void test_keepalive_to_client(void **state) {
  (void)state;
  h_t *h = h_new(BUF_CAP);
  h_route(h, "X direct 1.2.3.4:445");
  h->cfg.keepalive_ms = 60000;
  h_start(h, false);
  h_request(h, "X");
  nb_ssnsrv_connected(&h->s, NB_SSNSRV_CONN_OK, h->now);
  h_flush(h);
  h->out_len[NB_SSNSRV_CLIENT] = 0;
  assert_int_equal(nb_ssnsrv_next_deadline(&h->s), h->now + 60000);
  h->now += 60000;
  nb_ssnsrv_on_timer(&h->s, h->now);
  h_flush(h);
  h_expect_out(h, NB_SSNSRV_CLIENT, "85000000");
  assert_int_equal(h->s.c.keepalives_out, 1);
  /* Mid-message: no keep-alive can be inserted. */
  h->out_len[NB_SSNSRV_CLIENT] = 0;
  h_feed_hex(h, NB_SSNSRV_BACKEND, "00000004 0102");
  h->now += 60000;
  nb_ssnsrv_on_timer(&h->s, h->now);
  h_flush(h);
  h_expect_out(h, NB_SSNSRV_CLIENT, "00000004 0102");
  h_feed_hex(h, NB_SSNSRV_BACKEND, "0304");
  h->now += 60000;
  nb_ssnsrv_on_timer(&h->s, h->now);
  h_flush(h);
  h_expect_out(h, NB_SSNSRV_CLIENT, "00000004 01020304 85000000");
  assert_int_equal(h->s.c.keepalives_out, 2);
  /* The backend never saw one. */
  assert_int_equal(h->out_len[NB_SSNSRV_BACKEND], 0);
  h_free(h);
}

static void test_idle_timeout(void **state) {
  (void)state;
  h_t *h = h_new(BUF_CAP);
  h_route(h, "X direct 1.2.3.4:445");
  h->cfg.idle_timeout_ms = 30000;
  h_start(h, false);
  h_request(h, "X");
  nb_ssnsrv_connected(&h->s, NB_SSNSRV_CONN_OK, h->now);
  h_flush(h);
  h->now += 20000;
  h_feed_hex(h, NB_SSNSRV_CLIENT, "00000001 01");
  h_feed_hex(h, NB_SSNSRV_CLIENT, "85000000"); /* not activity */
  assert_int_equal(nb_ssnsrv_next_deadline(&h->s), h->now + 30000);
  h->now += 29999;
  nb_ssnsrv_on_timer(&h->s, h->now);
  h_events(h);
  assert_false(nb_ssnsrv_closed(&h->s));
  h->now += 1;
  nb_ssnsrv_on_timer(&h->s, h->now);
  h_events(h);
  const nb_ssnsrv_event_t *ev = h_find(h, NB_SSNSRV_EV_CLOSE);
  assert_non_null(ev);
  assert_int_equal(ev->end, NB_SSNSRV_END_IDLE_TIMEOUT);
  assert_false(ev->reset);
  assert_int_equal(nb_ssnsrv_next_deadline(&h->s), UINT64_MAX);
  h_free(h);
}

static void test_half_close(void **state) {
  (void)state;
  h_t *h = h_established();
  h->auto_flush = false;
  h_feed_hex(h, NB_SSNSRV_CLIENT, "00000002 0102");
  nb_ssnsrv_eof(&h->s, NB_SSNSRV_CLIENT, h->now);
  h_events(h);
  /* FIN only once the bytes before it are written. */
  assert_null(h_find(h, NB_SSNSRV_EV_SHUTDOWN));
  assert_false(nb_ssnsrv_want_read(&h->s, NB_SSNSRV_CLIENT));
  h_drain(h, NB_SSNSRV_BACKEND, 3, 3);
  assert_null(h_find(h, NB_SSNSRV_EV_SHUTDOWN));
  h_drain(h, NB_SSNSRV_BACKEND, SIZE_MAX, SIZE_MAX);
  const nb_ssnsrv_event_t *ev = h_find(h, NB_SSNSRV_EV_SHUTDOWN);
  assert_non_null(ev);
  assert_int_equal(ev->side, NB_SSNSRV_BACKEND);
  /* The other way still flows. */
  assert_true(nb_ssnsrv_want_read(&h->s, NB_SSNSRV_BACKEND));
  h_feed_hex(h, NB_SSNSRV_BACKEND, "00000001 09");
  h_flush(h);
  h_expect_out(h, NB_SSNSRV_CLIENT, "00000001 09");
  assert_null(h_find(h, NB_SSNSRV_EV_CLOSE));
  nb_ssnsrv_eof(&h->s, NB_SSNSRV_BACKEND, h->now);
  h_events(h);
  ev = h_find(h, NB_SSNSRV_EV_CLOSE);
  assert_non_null(ev);
  assert_int_equal(ev->end, NB_SSNSRV_END_NORMAL);
  assert_false(ev->reset);
  assert_int_equal(h->ev[h->n_ev - 2].kind, NB_SSNSRV_EV_SHUTDOWN);
  assert_int_equal(h->ev[h->n_ev - 2].side, NB_SSNSRV_CLIENT);
  h_free(h);
}

static void test_reset_and_errors(void **state) {
  (void)state;
  static const struct {
    nb_ssnsrv_side_t from;
    const char *bytes; /* NULL: a reset */
    nb_ssnsrv_end_t end;
  } cases[] = {
      {NB_SSNSRV_CLIENT, NULL, NB_SSNSRV_END_CLIENT_RESET},
      {NB_SSNSRV_BACKEND, NULL, NB_SSNSRV_END_BACKEND_RESET},
      /* A second SESSION REQUEST, a reserved FLAGS bit, a bad type. */
      {NB_SSNSRV_CLIENT, "81000000", NB_SSNSRV_END_CLIENT_PROTOCOL},
      {NB_SSNSRV_CLIENT, "", NB_SSNSRV_END_CLIENT_PROTOCOL},
      {NB_SSNSRV_CLIENT, "00020000", NB_SSNSRV_END_CLIENT_PROTOCOL},
      {NB_SSNSRV_CLIENT, "82000000", NB_SSNSRV_END_CLIENT_PROTOCOL},
      {NB_SSNSRV_BACKEND, "81000000", NB_SSNSRV_END_BACKEND_PROTOCOL},
      /* Over 0x1FFFF before an SMB negotiate passed. */
      {NB_SSNSRV_BACKEND, "00020000", NB_SSNSRV_END_BACKEND_OVERSIZE},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    h_t *h = h_established();
    if (cases[i].bytes == NULL) {
      nb_ssnsrv_reset(&h->s, cases[i].from, h->now);
      h_events(h);
    } else if (cases[i].bytes[0] == '\0') {
      h_request(h, "XYKON-2"); /* a second, well-formed request */
    } else {
      h_feed_hex(h, cases[i].from, cases[i].bytes);
    }
    const nb_ssnsrv_event_t *ev = h_find(h, NB_SSNSRV_EV_CLOSE);
    assert_non_null(ev);
    assert_int_equal(ev->end, cases[i].end);
    assert_true(ev->reset);
    assert_false(nb_ssnsrv_want_read(&h->s, NB_SSNSRV_CLIENT));
    assert_false(nb_ssnsrv_want_read(&h->s, NB_SSNSRV_BACKEND));
    const uint8_t *p;
    assert_int_equal(nb_ssnsrv_pending(&h->s, NB_SSNSRV_CLIENT, &p), 0);
    /* Everything is inert afterwards. */
    nb_ssnsrv_eof(&h->s, NB_SSNSRV_CLIENT, h->now);
    nb_ssnsrv_on_timer(&h->s, h->now + 1000000);
    h_events(h);
    assert_int_equal(h->n_ev, 1);
    h_free(h);
  }
}

/* ---- flow control -------------------------------------------------------
 */

static void test_watermarks(void **state) {
  (void)state;
  h_t *h = h_new(8192);
  h_route(h, "X direct 1.2.3.4:445");
  h->cfg.buf_high = 4096;
  h->cfg.buf_low = 1024;
  h_start(h, false);
  h_request(h, "X");
  nb_ssnsrv_connected(&h->s, NB_SSNSRV_CONN_OK, h->now);
  h_flush(h);
  h->out_len[NB_SSNSRV_CLIENT] = 0;
  h->auto_flush = false;
  /* A 20000-byte message from a client, with a backend that does not
   * read: the engine stops the client at the high watermark. */
  static uint8_t msg[20004];
  size_t n = message(msg, sizeof msg, 20000, 3, NB_SSN_MODE_RFC);
  size_t pos = 0;
  size_t stops = 0;
  while (pos < n) {
    if (!nb_ssnsrv_want_read(&h->s, NB_SSNSRV_CLIENT)) {
      /* Stopped at the high watermark, or out of room while a write
       * holds the start of the buffer. */
      bool wm = nb_ssnsrv_held(&h->s, NB_SSNSRV_BACKEND) >= 4096;
      stops += wm ? 1 : 0;
      /* The backend reads a little at a time: no restart above low. */
      while (!nb_ssnsrv_want_read(&h->s, NB_SSNSRV_CLIENT)) {
        assert_true(nb_ssnsrv_held(&h->s, NB_SSNSRV_BACKEND) > 0);
        h_drain(h, NB_SSNSRV_BACKEND, 500, 500);
      }
      assert_true(nb_ssnsrv_held(&h->s, NB_SSNSRV_BACKEND) <= 1024);
      continue;
    }
    size_t cap = 0;
    uint8_t *dst = nb_ssnsrv_read_buf(&h->s, NB_SSNSRV_CLIENT, &cap);
    assert_non_null(dst);
    size_t k = n - pos < 1000 ? n - pos : 1000;
    k = k < cap ? k : cap;
    memcpy(dst, msg + pos, k);
    nb_ssnsrv_read_done(&h->s, NB_SSNSRV_CLIENT, k, h->now);
    pos += k;
    assert_true(nb_ssnsrv_held(&h->s, NB_SSNSRV_BACKEND) <= 8192);
  }
  h_drain(h, NB_SSNSRV_BACKEND, SIZE_MAX, SIZE_MAX);
  assert_true(stops >= 4);
  assert_int_equal(h->s.c.read_stops, stops);
  assert_int_equal(h->out_len[NB_SSNSRV_BACKEND], n);
  assert_memory_equal(h->out[NB_SSNSRV_BACKEND], msg, n);
  /* Empty again: the buffers can go back to the shell. */
  assert_ptr_equal(nb_ssnsrv_detach(&h->s, NB_SSNSRV_BACKEND), h->mem[1]);
  assert_ptr_equal(nb_ssnsrv_detach(&h->s, NB_SSNSRV_CLIENT), h->mem[0]);
  assert_false(nb_ssnsrv_has_buf(&h->s, NB_SSNSRV_CLIENT));
  h_free(h);
}

static void test_lent_region_stays(void **state) {
  (void)state;
  h_t *h = h_new(4096);
  h_route(h, "X direct 1.2.3.4:445");
  h->cfg.buf_high = 3000;
  h->cfg.buf_low = 100;
  h_start(h, false);
  h_request(h, "X");
  nb_ssnsrv_connected(&h->s, NB_SSNSRV_CONN_OK, h->now);
  h_flush(h);
  h->auto_flush = false;
  uint8_t msg[2100];
  size_t n = message(msg, sizeof msg, 2000, 9, NB_SSN_MODE_RFC);
  h_feed(h, NB_SSNSRV_CLIENT, msg, 1500);
  const uint8_t *p = NULL;
  size_t k = nb_ssnsrv_pending(&h->s, NB_SSNSRV_BACKEND, &p);
  assert_int_equal(k, 1500);
  /* An "asynchronous write" of p is in flight; 100 bytes of it done. */
  nb_ssnsrv_advance(&h->s, NB_SSNSRV_BACKEND, 100, h->now);
  /* More reads, which would like to compact the buffer. */
  h_feed(h, NB_SSNSRV_CLIENT, msg + 1500, n - 1500);
  assert_memory_equal(p, msg, 1500);
  nb_ssnsrv_advance(&h->s, NB_SSNSRV_BACKEND, 1400, h->now);
  k = nb_ssnsrv_pending(&h->s, NB_SSNSRV_BACKEND, &p);
  assert_int_equal(k, n - 1500);
  assert_memory_equal(p, msg + 1500, k);
  h_free(h);
}

/* ---- large messages to a 139 client -------------------------------------
 */

static void test_large_smb2_read(void **state) {
  (void)state;
  h_t *h = h_established();
  /* SMB2 NEGOTIATE both ways (abridged bodies). */
  h_feed_hex(h, NB_SSNSRV_CLIENT, "00000008 fe534d4240000000");
  h_feed_hex(h, NB_SSNSRV_BACKEND, "00000008 fe534d4240000100");
  assert_true(h->s.ext);
  /* A READ response of 1 MiB: carried with a 24-bit length. */
  size_t len = 1u << 20;
  uint8_t *big = malloc(len + 4);
  assert_non_null(big);
  size_t n = message(big, len + 4, (uint32_t)len, 5, NB_SSN_MODE_DIRECT);
  assert_int_equal(big[1], 0x10);
  h->out_len[NB_SSNSRV_CLIENT] = 0;
  for (size_t pos = 0; pos < n; pos += 65536) {
    h_feed(h, NB_SSNSRV_BACKEND, big + pos, n - pos < 65536 ? n - pos : 65536);
  }
  assert_int_equal(h->out_len[NB_SSNSRV_CLIENT], n);
  assert_memory_equal(h->out[NB_SSNSRV_CLIENT], big, n);
  assert_int_equal(h->s.c.big_msgs, 1);
  /* And the client may now write 24-bit lengths too (a large WRITE). */
  n = message(big, len + 4, 0x30000, 1, NB_SSN_MODE_DIRECT);
  for (size_t pos = 0; pos < n; pos += 40000) {
    h_feed(h, NB_SSNSRV_CLIENT, big + pos, n - pos < 40000 ? n - pos : 40000);
  }
  assert_int_equal(h->out_len[NB_SSNSRV_BACKEND], 12 + n);
  assert_memory_equal(h->out[NB_SSNSRV_BACKEND] + 12, big, n);
  free(big);
  h_free(h);

  /* Not SMB: the 139 side stays in 17-bit framing. */
  h = h_established();
  h_feed_hex(h, NB_SSNSRV_BACKEND, "00000004 01020304");
  assert_false(h->s.ext);
  h_feed_hex(h, NB_SSNSRV_CLIENT, "00020000");
  assert_int_equal(h_find(h, NB_SSNSRV_EV_CLOSE)->end,
                   NB_SSNSRV_END_CLIENT_PROTOCOL);
  h_free(h);
}

static void test_ext_switch_mid_message(void **state) {
  (void)state;
  /* The client is mid-message when the negotiate response completes: its
   * framer switches at the next boundary, not inside the message. */
  h_t *h = h_established();
  h_feed_hex(h, NB_SSNSRV_CLIENT, "00000004 fe53");
  h_feed_hex(h, NB_SSNSRV_BACKEND, "00000004 fe534d42");
  assert_true(h->s.ext);
  assert_true(h->s.ext_client_pending);
  h_feed_hex(h, NB_SSNSRV_CLIENT, "4d42 00000001 07");
  assert_false(h->s.ext_client_pending);
  h_expect_out(h, NB_SSNSRV_BACKEND, "00000004 fe534d42 00000001 07");
  h_free(h);
}

static void test_passthrough(void **state) {
  (void)state;
  h_t *h = h_established();
  const uint8_t *p;
  /* The backend's first message: its protocol id must be seen first. */
  h_feed_hex(h, NB_SSNSRV_BACKEND, "00000100 fe53");
  assert_int_equal(nb_ssnsrv_passthrough(&h->s, NB_SSNSRV_BACKEND), 0);
  h_feed_hex(h, NB_SSNSRV_BACKEND, "4d42");
  assert_int_equal(nb_ssnsrv_passthrough(&h->s, NB_SSNSRV_BACKEND), 252);
  /* 250 bytes go around the engine (splice), 2 through it. */
  nb_ssnsrv_passed(&h->s, NB_SSNSRV_BACKEND, 250, h->now);
  assert_int_equal(nb_ssnsrv_pending(&h->s, NB_SSNSRV_CLIENT, &p), 0);
  assert_int_equal(nb_ssnsrv_passthrough(&h->s, NB_SSNSRV_BACKEND), 2);
  assert_false(h->s.ext);
  h_feed_hex(h, NB_SSNSRV_BACKEND, "0102");
  assert_true(h->s.ext); /* the message ended: SMB, 24-bit from now */
  h_expect_out(h, NB_SSNSRV_CLIENT, "00000100 fe534d42 0102");
  assert_int_equal(h->s.c.bytes[NB_SSNSRV_CLIENT], 8 + 250 + 2);
  /* A 1 MiB READ response: header and a few bytes through the engine,
   * the rest around it; nothing while bytes are held for the client. */
  h->out_len[NB_SSNSRV_CLIENT] = 0;
  h->auto_flush = false;
  h_feed_hex(h, NB_SSNSRV_BACKEND, "00100000 aabbcc");
  assert_int_equal(nb_ssnsrv_passthrough(&h->s, NB_SSNSRV_BACKEND), 0);
  h_flush(h);
  assert_int_equal(nb_ssnsrv_passthrough(&h->s, NB_SSNSRV_BACKEND),
                   (1u << 20) - 3);
  nb_ssnsrv_passed(&h->s, NB_SSNSRV_BACKEND, (1u << 20) - 3, h->now);
  assert_int_equal(nb_ssnsrv_passthrough(&h->s, NB_SSNSRV_BACKEND), 0);
  assert_true(nb_ssn_framer_at_boundary(&h->s.to[NB_SSNSRV_CLIENT].in));
  /* Keep-alives and the next message come after it, through the engine. */
  h_feed_hex(h, NB_SSNSRV_BACKEND, "85000000 00000001 77");
  h_flush(h);
  h_expect_out(h, NB_SSNSRV_CLIENT, "00100000 aabbcc 00000001 77");
  /* Passed bytes count as activity and never exceed the message. */
  nb_ssnsrv_passed(&h->s, NB_SSNSRV_BACKEND, 100, h->now);
  assert_int_equal(h->s.c.bytes[NB_SSNSRV_CLIENT],
                   260 + 7 + ((1u << 20) - 3) + 5);
  /* FIN after the passed bytes: SHUTDOWN as soon as nothing is held. */
  h_feed_hex(h, NB_SSNSRV_CLIENT, "00000010 00");
  h_flush(h);
  assert_int_equal(nb_ssnsrv_passthrough(&h->s, NB_SSNSRV_CLIENT), 15);
  nb_ssnsrv_passed(&h->s, NB_SSNSRV_CLIENT, 15, h->now);
  nb_ssnsrv_eof(&h->s, NB_SSNSRV_CLIENT, h->now);
  h_events(h);
  assert_non_null(h_find(h, NB_SSNSRV_EV_SHUTDOWN));
  h_free(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_route_parse),
      cmocka_unit_test(test_route_parse_errors),
      cmocka_unit_test(test_route_find),
      cmocka_unit_test(test_direct_route),
      cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_smbserver),
      cmocka_unit_test(test_backend_unreachable),
      cmocka_unit_test(test_request_timeout_and_garbage),
      cmocka_unit_test(test_nbt_route),
      cmocka_unit_test(test_client_splits),
      cmocka_unit_test(test_backend_splits),
      cmocka_unit_test(test_keepalive_to_client),
      cmocka_unit_test(test_idle_timeout),
      cmocka_unit_test(test_half_close),
      cmocka_unit_test(test_reset_and_errors),
      cmocka_unit_test(test_watermarks),
      cmocka_unit_test(test_lent_region_stays),
      cmocka_unit_test(test_large_smb2_read),
      cmocka_unit_test(test_ext_switch_mid_message),
      cmocka_unit_test(test_passthrough),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
