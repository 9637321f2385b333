/* SPDX-License-Identifier: BSD-2-Clause */
/* The session client engine (nb/ssnclient.h) against scripted servers
 * with a virtual clock: the request bytes, positive / negative / retarget
 * answers, the retarget hop limit (a retarget loop ends), timeouts,
 * direct mode, MAX_MESSAGE_LENGTH per mode, writes with backpressure,
 * pause/resume, keep-alives both ways, end and FIN, protocol errors, and
 * the server's stream at every split point. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "nb/ssnclient.h"

#define MAX_EV 64

typedef struct {
  nb_ssnclient_t c;
  nb_ssnclient_config_t cfg;
  uint8_t mem[4096];
  uint64_t now;
  nb_ssnclient_event_t ev[MAX_EV];
  size_t n_ev;
  uint8_t msgs[8192]; /* received message bodies, concatenated */
  size_t msgs_len;
  size_t n_msgs;
  uint8_t wire[8192]; /* what the client wrote */
  size_t wire_len;
} h_t;

static h_t *h_new(nb_ssn_mode_t mode) {
  h_t *h = calloc(1, sizeof *h);
  assert_non_null(h);
  nb_ssnclient_config_init(&h->cfg);
  h->cfg.mode = mode;
  assert_int_equal(nb_name_from_text(&h->cfg.called, "XYKON-2", 7, NULL),
                   NB_OK);
  assert_int_equal(nb_name_from_text(&h->cfg.calling, "SCANNER<00>", 11, NULL),
                   NB_OK);
  h->now = 500;
  return h;
}

static void h_events(h_t *h) {
  nb_ssnclient_event_t ev;
  while (nb_ssnclient_next_event(&h->c, &ev)) {
    assert_true(h->n_ev < MAX_EV);
    h->ev[h->n_ev++] = ev;
  }
}

static void h_start(h_t *h, size_t out_cap) {
  assert_true(out_cap <= sizeof h->mem);
  assert_int_equal(nb_ssnclient_init(&h->c, &h->cfg, 0xC000020Au, 139, h->mem,
                                     out_cap, h->now),
                   NB_OK);
  h_events(h);
}

static const nb_ssnclient_event_t *h_last(const h_t *h) {
  assert_true(h->n_ev > 0);
  return &h->ev[h->n_ev - 1];
}

/* Write everything pending. */
static void h_flush(h_t *h) {
  const uint8_t *p = NULL;
  size_t n;
  while ((n = nb_ssnclient_pending(&h->c, &p)) > 0) {
    assert_true(h->wire_len + n <= sizeof h->wire);
    memcpy(h->wire + h->wire_len, p, n);
    h->wire_len += n;
    nb_ssnclient_advance(&h->c, n, h->now);
  }
  h_events(h);
}

static void h_feed(h_t *h, const uint8_t *p, size_t n) {
  while (true) {
    size_t used = 0;
    nb_ssnclient_event_t ev;
    nb_ssnclient_recv(&h->c, p, n, &used, &ev, h->now);
    h_events(h);
    p += used;
    n -= used;
    if (ev.kind == NB_SSNCLIENT_EV_NONE) {
      break;
    }
    if (ev.kind == NB_SSNCLIENT_EV_MSG_DATA) {
      memcpy(h->msgs + h->msgs_len, ev.data, ev.length);
      h->msgs_len += ev.length;
    }
    if (ev.kind == NB_SSNCLIENT_EV_MSG_END) {
      h->n_msgs++;
    }
  }
}

static void h_feed_hex(h_t *h, const char *hex) {
  uint8_t buf[2048];
  size_t n = nb_test_unhex(hex, buf, sizeof buf);
  h_feed(h, buf, n);
}

static size_t request_bytes(const h_t *h, uint8_t *buf, size_t cap) {
  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, buf, cap);
  nb_ssn_write_request(&w, &h->cfg.called, &h->cfg.calling);
  assert_int_equal(nb_wr_finish(&w, &len), NB_OK);
  return len;
}

static h_t *h_open(void) {
  h_t *h = h_new(NB_SSN_MODE_RFC);
  h_start(h, sizeof h->mem);
  nb_ssnclient_connected(&h->c, true, h->now);
  h_flush(h);
  h_feed_hex(h, "82000000");
  assert_true(nb_ssnclient_is_open(&h->c));
  h->wire_len = 0;
  h->n_ev = 0;
  return h;
}

static void test_request_and_open(void **state) {
  (void)state;
  h_t *h = h_new(NB_SSN_MODE_RFC);
  h_start(h, sizeof h->mem);
  assert_int_equal(h->n_ev, 1);
  assert_int_equal(h->ev[0].kind, NB_SSNCLIENT_EV_CONNECT);
  assert_int_equal(h->ev[0].addr, 0xC000020Au);
  assert_int_equal(h->ev[0].port, 139);
  assert_int_equal(h->ev[0].hop, 0);
  const uint8_t *p;
  assert_int_equal(nb_ssnclient_pending(&h->c, &p), 0);
  assert_false(nb_ssnclient_want_read(&h->c));
  nb_ssnclient_connected(&h->c, true, h->now);
  h_flush(h);
  uint8_t want[NB_SSN_CONTROL_MAX];
  size_t n = request_bytes(h, want, sizeof want);
  assert_int_equal(h->wire_len, n);
  assert_memory_equal(h->wire, want, n);
  assert_true(nb_ssnclient_want_read(&h->c));
  /* Writing before OPEN is a state error. */
  assert_int_equal(nb_ssnclient_send(&h->c, "x", 1, h->now), NB_ESTATE);
  h_feed_hex(h, "85000000 82000000 00000003 616263");
  assert_int_equal(h->ev[1].kind, NB_SSNCLIENT_EV_OPEN);
  assert_int_equal(h->n_msgs, 1);
  assert_int_equal(h->msgs_len, 3);
  assert_memory_equal(h->msgs, "abc", 3);
  assert_int_equal(h->c.keepalives_in, 1);
  free(h);
}

static void test_negative(void **state) {
  (void)state;
  static const uint8_t codes[] = {0x80, 0x81, 0x82, 0x83, 0x8f, 0x42};
  for (size_t i = 0; i < sizeof codes; i++) {
    h_t *h = h_new(NB_SSN_MODE_RFC);
    h_start(h, sizeof h->mem);
    nb_ssnclient_connected(&h->c, true, h->now);
    h_flush(h);
    uint8_t pkt[5] = {0x83, 0, 0, 1, codes[i]};
    h_feed(h, pkt, sizeof pkt);
    assert_int_equal(h_last(h)->kind, NB_SSNCLIENT_EV_CLOSED);
    assert_int_equal(h_last(h)->why, NB_SSNCLIENT_WHY_NEGATIVE);
    assert_int_equal(h_last(h)->code, codes[i]);
    assert_true(nb_ssnclient_is_closed(&h->c));
    assert_false(nb_ssnclient_want_read(&h->c));
    free(h);
  }
}

static void test_retarget(void **state) {
  (void)state;
  h_t *h = h_new(NB_SSN_MODE_RFC);
  h_start(h, sizeof h->mem);
  nb_ssnclient_connected(&h->c, true, h->now);
  h_flush(h);
  /* The rest of the old connection's bytes are not consumed. */
  uint8_t buf[64];
  size_t n = nb_test_unhex("84000006 c0000214 0473 82000000", buf, sizeof buf);
  size_t used = 0;
  nb_ssnclient_event_t ev;
  nb_ssnclient_recv(&h->c, buf, n, &used, &ev, h->now);
  assert_int_equal(used, 10);
  assert_int_equal(ev.kind, NB_SSNCLIENT_EV_NONE);
  h_events(h);
  assert_int_equal(h_last(h)->kind, NB_SSNCLIENT_EV_CONNECT);
  assert_int_equal(h_last(h)->addr, 0xC0000214u);
  assert_int_equal(h_last(h)->port, 1139);
  assert_int_equal(h_last(h)->hop, 1);
  /* The second connection gets the same request. */
  h->wire_len = 0;
  nb_ssnclient_connected(&h->c, true, h->now);
  h_flush(h);
  uint8_t want[NB_SSN_CONTROL_MAX];
  size_t wn = request_bytes(h, want, sizeof want);
  assert_int_equal(h->wire_len, wn);
  assert_memory_equal(h->wire, want, wn);
  h_feed_hex(h, "82000000");
  assert_true(nb_ssnclient_is_open(&h->c));
  free(h);
}

static void test_retarget_loop(void **state) {
  (void)state;
  /* A server that retargets to itself forever: the seed hung here. */
  for (unsigned limit = 0; limit < 6; limit++) {
    h_t *h = h_new(NB_SSN_MODE_RFC);
    h->cfg.max_retargets = limit;
    h_start(h, sizeof h->mem);
    unsigned connects = 0;
    for (unsigned round = 0; round < 20 && !nb_ssnclient_is_closed(&h->c);
         round++) {
      connects++;
      nb_ssnclient_connected(&h->c, true, h->now);
      h_flush(h);
      h_feed_hex(h, "84000006 c000020a 008b");
    }
    assert_int_equal(connects, limit + 1);
    assert_int_equal(h_last(h)->kind, NB_SSNCLIENT_EV_CLOSED);
    assert_int_equal(h_last(h)->why, NB_SSNCLIENT_WHY_RETARGETS);
    free(h);
  }
}

static void test_timeouts(void **state) {
  (void)state;
  h_t *h = h_new(NB_SSN_MODE_RFC);
  h->cfg.connect_timeout_ms = 2000;
  h_start(h, sizeof h->mem);
  assert_int_equal(nb_ssnclient_next_deadline(&h->c), h->now + 2000);
  nb_ssnclient_on_timer(&h->c, h->now + 1999);
  h_events(h);
  assert_false(nb_ssnclient_is_closed(&h->c));
  nb_ssnclient_on_timer(&h->c, h->now + 2000);
  h_events(h);
  assert_int_equal(h_last(h)->why, NB_SSNCLIENT_WHY_TIMEOUT);
  free(h);
  /* Connected, but no answer. */
  h = h_new(NB_SSN_MODE_RFC);
  h->cfg.connect_timeout_ms = 2000;
  h_start(h, sizeof h->mem);
  nb_ssnclient_connected(&h->c, true, h->now + 1000);
  nb_ssnclient_on_timer(&h->c, h->now + 2000);
  h_events(h);
  assert_int_equal(h_last(h)->why, NB_SSNCLIENT_WHY_TIMEOUT);
  free(h);
  /* The connect fails; a reset while connecting is the same. */
  h = h_new(NB_SSN_MODE_RFC);
  h_start(h, sizeof h->mem);
  nb_ssnclient_connected(&h->c, false, h->now);
  h_events(h);
  assert_int_equal(h_last(h)->why, NB_SSNCLIENT_WHY_CONNECT);
  free(h);
}

static void test_direct_mode(void **state) {
  (void)state;
  h_t *h = h_new(NB_SSN_MODE_DIRECT);
  h_start(h, sizeof h->mem);
  nb_ssnclient_connected(&h->c, true, h->now);
  h_events(h);
  assert_int_equal(h_last(h)->kind, NB_SSNCLIENT_EV_OPEN);
  assert_true(nb_ssnclient_is_open(&h->c));
  assert_int_equal(nb_ssnclient_max_message(&h->c), 0xFFFFFF);
  h_flush(h);
  assert_int_equal(h->wire_len, 0); /* no session request on 445 */
  assert_int_equal(nb_ssnclient_send(&h->c, "\xfeSMB", 4, h->now), NB_OK);
  h_flush(h);
  assert_int_equal(h->wire_len, 8);
  assert_memory_equal(h->wire, "\x00\x00\x00\x04\xfeSMB", 8);
  /* A 24-bit length arrives; a RETARGET is a protocol error here. */
  h_feed_hex(h, "00020000");
  assert_false(nb_ssnclient_is_closed(&h->c));
  free(h);
  h = h_new(NB_SSN_MODE_DIRECT);
  h_start(h, sizeof h->mem);
  nb_ssnclient_connected(&h->c, true, h->now);
  h_feed_hex(h, "84000006 01020304 0001");
  h_events(h);
  assert_int_equal(h_last(h)->why, NB_SSNCLIENT_WHY_PROTOCOL);
  assert_non_null(h_last(h)->diag.field);
  free(h);
}

static void test_max_message(void **state) {
  (void)state;
  h_t *h = h_open();
  assert_int_equal(nb_ssnclient_max_message(&h->c), 0x1FFFF);
  assert_int_equal(nb_ssnclient_msg_begin(&h->c, 0x20000), NB_ELIMIT);
  assert_int_equal(nb_ssnclient_send(&h->c, h->mem, 0x20000, h->now),
                   NB_ELIMIT);
  /* 0x1FFFF is allowed, streamed: the E bit carries bit 16. */
  assert_int_equal(nb_ssnclient_msg_begin(&h->c, 0x1FFFF), NB_OK);
  assert_int_equal(nb_ssnclient_send(&h->c, "x", 1, h->now), NB_ESTATE);
  const uint8_t *p;
  assert_int_equal(nb_ssnclient_pending(&h->c, &p), 4);
  assert_memory_equal(p, "\x00\x01\xff\xff", 4);
  /* After SMB negotiate: 24-bit lengths. */
  free(h);
  h = h_open();
  assert_int_equal(nb_ssnclient_set_mode(&h->c, NB_SSN_MODE_DIRECT), NB_OK);
  assert_int_equal(nb_ssnclient_max_message(&h->c), 0xFFFFFF);
  assert_int_equal(nb_ssnclient_msg_begin(&h->c, 0x100000), NB_OK);
  assert_int_equal(nb_ssnclient_pending(&h->c, &p), 4);
  assert_memory_equal(p, "\x00\x10\x00\x00", 4);
  free(h);
}

static void test_backpressure(void **state) {
  (void)state;
  h_t *h = h_new(NB_SSN_MODE_RFC);
  h_start(h, 100);
  nb_ssnclient_connected(&h->c, true, h->now);
  h_flush(h);
  h_feed_hex(h, "82000000");
  h->wire_len = 0;
  uint8_t body[1000];
  for (size_t i = 0; i < sizeof body; i++) {
    body[i] = (uint8_t)(i * 7);
  }
  assert_int_equal(nb_ssnclient_send(&h->c, body, 97, h->now), NB_ENOSPC);
  assert_int_equal(nb_ssnclient_send(&h->c, body, 96, h->now), NB_OK);
  assert_int_equal(nb_ssnclient_writable(&h->c), 0);
  h_flush(h);
  assert_int_equal(nb_ssnclient_msg_begin(&h->c, sizeof body), NB_OK);
  size_t pos = 0;
  unsigned rounds = 0;
  while (pos < sizeof body) {
    size_t k = nb_ssnclient_msg_write(&h->c, body + pos, sizeof body - pos);
    assert_true(k <= 100);
    if (k == 0) {
      /* Backpressure: only a partial write frees room. */
      const uint8_t *p;
      size_t n = nb_ssnclient_pending(&h->c, &p);
      memcpy(h->wire + h->wire_len, p, n / 2 + 1);
      h->wire_len += n / 2 + 1;
      nb_ssnclient_advance(&h->c, n / 2 + 1, h->now);
      rounds++;
    }
    pos += k;
  }
  h_flush(h);
  assert_true(rounds >= 10);
  assert_int_equal(h->wire_len, 100 + 4 + sizeof body);
  assert_memory_equal(h->wire + 4, body, 96);
  assert_memory_equal(h->wire + 104, body, sizeof body);
  /* end(): SHUTDOWN once written, then the peer's FIN closes normally. */
  nb_ssnclient_end(&h->c, h->now);
  h_events(h);
  assert_int_equal(h_last(h)->kind, NB_SSNCLIENT_EV_SHUTDOWN);
  assert_int_equal(nb_ssnclient_send(&h->c, "x", 1, h->now), NB_ESTATE);
  nb_ssnclient_eof(&h->c, h->now);
  h_events(h);
  assert_int_equal(h_last(h)->why, NB_SSNCLIENT_WHY_NORMAL);
  free(h);
}

static void test_end_waits_for_message(void **state) {
  (void)state;
  h_t *h = h_open();
  assert_int_equal(nb_ssnclient_msg_begin(&h->c, 4), NB_OK);
  assert_int_equal(nb_ssnclient_msg_write(&h->c, "ab", 2), 2);
  nb_ssnclient_end(&h->c, h->now);
  h_flush(h);
  assert_int_equal(h->n_ev, 0); /* the message is not finished */
  assert_int_equal(nb_ssnclient_msg_write(&h->c, "cdef", 4), 2);
  h_flush(h);
  assert_int_equal(h_last(h)->kind, NB_SSNCLIENT_EV_SHUTDOWN);
  assert_int_equal(h->wire_len, 8);
  /* The peer closing first is reported as such. */
  free(h);
  h = h_open();
  nb_ssnclient_eof(&h->c, h->now);
  h_events(h);
  assert_int_equal(h_last(h)->why, NB_SSNCLIENT_WHY_EOF);
  free(h);
}

static void test_pause_resume(void **state) {
  (void)state;
  h_t *h = h_open();
  nb_ssnclient_pause(&h->c);
  assert_false(nb_ssnclient_want_read(&h->c));
  uint8_t buf[16];
  size_t n = nb_test_unhex("00000002 6869", buf, sizeof buf);
  size_t used = 0;
  nb_ssnclient_event_t ev;
  nb_ssnclient_recv(&h->c, buf, n, &used, &ev, h->now);
  assert_int_equal(used, 0);
  assert_int_equal(ev.kind, NB_SSNCLIENT_EV_NONE);
  nb_ssnclient_resume(&h->c);
  assert_true(nb_ssnclient_want_read(&h->c));
  h_feed(h, buf, n);
  assert_int_equal(h->n_msgs, 1);
  assert_memory_equal(h->msgs, "hi", 2);
  free(h);
}

static void test_keepalives(void **state) {
  (void)state;
  h_t *h = h_new(NB_SSN_MODE_RFC);
  h->cfg.keepalive_ms = 30000;
  h_start(h, sizeof h->mem);
  nb_ssnclient_connected(&h->c, true, h->now);
  h_flush(h);
  h_feed_hex(h, "82000000");
  h->wire_len = 0;
  assert_int_equal(nb_ssnclient_next_deadline(&h->c), h->now + 30000);
  h->now += 30000;
  nb_ssnclient_on_timer(&h->c, h->now);
  h_flush(h);
  assert_int_equal(h->wire_len, 4);
  assert_memory_equal(h->wire, "\x85\x00\x00\x00", 4);
  /* Not inside a message being written. */
  assert_int_equal(nb_ssnclient_msg_begin(&h->c, 10), NB_OK);
  h_flush(h);
  h->now += 30000;
  nb_ssnclient_on_timer(&h->c, h->now);
  h_flush(h);
  assert_int_equal(h->wire_len, 8);
  assert_int_equal(h->c.keepalives_out, 1);
  free(h);
}

static void test_protocol_errors(void **state) {
  (void)state;
  static const char *const bad[] = {
      "00000001 ff", /* a message before the answer */
      "82010000",    /* reserved FLAGS bit */
      "81000000",    /* a request from the server */
      "86000000",    /* unknown type */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    h_t *h = h_new(NB_SSN_MODE_RFC);
    h_start(h, sizeof h->mem);
    nb_ssnclient_connected(&h->c, true, h->now);
    h_flush(h);
    h_feed_hex(h, bad[i]);
    assert_int_equal(h_last(h)->kind, NB_SSNCLIENT_EV_CLOSED);
    assert_int_equal(h_last(h)->why, NB_SSNCLIENT_WHY_PROTOCOL);
    free(h);
  }
  /* A second positive response once open. */
  h_t *h = h_open();
  h_feed_hex(h, "82000000");
  assert_int_equal(h_last(h)->why, NB_SSNCLIENT_WHY_PROTOCOL);
  free(h);
}

static void test_server_splits(void **state) {
  (void)state;
  uint8_t stream[2048];
  size_t n = nb_test_unhex("85000000 82000000 85000000", stream, 64);
  uint8_t body[300];
  for (size_t i = 0; i < sizeof body; i++) {
    body[i] = (uint8_t)(i + 3);
  }
  for (int m = 0; m < 3; m++) {
    size_t len = (size_t)m * 150;
    stream[n++] = 0;
    stream[n++] = 0;
    stream[n++] = (uint8_t)(len >> 8);
    stream[n++] = (uint8_t)len;
    memcpy(stream + n, body, len);
    n += len;
    memcpy(stream + n, "\x85\0\0\0", 4);
    n += 4;
  }
  uint32_t seed = 99;
  for (size_t round = 0; round < n + 300; round++) {
    h_t *h = h_new(NB_SSN_MODE_RFC);
    h_start(h, sizeof h->mem);
    nb_ssnclient_connected(&h->c, true, h->now);
    h_flush(h);
    size_t pos = 0;
    while (pos < n) {
      size_t step =
          round < n ? (pos == 0 ? round + 1 : n) : 1 + nb_test_rand(&seed) % 40;
      step = step < n - pos ? step : n - pos;
      h_feed(h, stream + pos, step);
      pos += step;
    }
    assert_true(nb_ssnclient_is_open(&h->c));
    assert_int_equal(h->n_msgs, 3);
    assert_int_equal(h->msgs_len, 450);
    assert_memory_equal(h->msgs, body, 150);
    assert_memory_equal(h->msgs + 150, body, 300);
    assert_int_equal(h->c.keepalives_in, 5);
    free(h);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_request_and_open),
      cmocka_unit_test(test_negative),
      cmocka_unit_test(test_retarget),
      cmocka_unit_test(test_retarget_loop),
      cmocka_unit_test(test_timeouts),
      cmocka_unit_test(test_direct_mode),
      cmocka_unit_test(test_max_message),
      cmocka_unit_test(test_backpressure),
      cmocka_unit_test(test_end_waits_for_message),
      cmocka_unit_test(test_pause_resume),
      cmocka_unit_test(test_keepalives),
      cmocka_unit_test(test_protocol_errors),
      cmocka_unit_test(test_server_splits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
