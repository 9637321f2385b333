/* SPDX-License-Identifier: BSD-2-Clause */
/* Every NBNS payload of the captures under pcaps/ (copies of
 * shared/pcaps-external/, see pcaps/PROVENANCE.md) through the name-service
 * codec, read with libpcap:
 *  - real traffic must parse (no fatal error);
 *  - every packet that parses round-trips byte-exact: write(parse(b)) == b
 *    and parse(write(m)) == m. There is no exception list because no
 *    capture needs one (docs/CONFORMANCE.md, "Non-canonical packets");
 *  - packets that do not parse (the Wireshark fuzz capture, tcpdump's
 *    snaplen-truncated query, the deliberately malformed probes) fail with
 *    an offset inside the payload and a named field, and their number is
 *    pinned;
 *  - the kinds found in each capture are pinned as a histogram.
 * With NB_NS_PCAP_VERBOSE=1 every failure is printed (the list in
 * docs/CONFORMANCE.md was made that way). */
#define _DEFAULT_SOURCE 1 /* u_int and friends for <pcap/pcap.h> */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "nb/ns.h"

typedef struct {
  const char *file;  /* under pcaps/ */
  uint16_t port;     /* the UDP port carrying NBNS */
  unsigned packets;  /* NBNS payloads */
  unsigned failed;   /* fatal parse errors expected */
  const char *kinds; /* "ident:count ..." in kind order */
} capture_t;

static const capture_t captures[] = {
    {"node-netbios/netbios-ns-b-query-winxp.pcap", 137, 1, 0, "query:1"},
    {"node-netbios/netbios-ns-b-positive-response-winxp.pcap", 137, 1, 0,
     "pos-query:1"},
    {"node-netbios/netbios-ns-b-register-winxp.pcap", 137, 1, 0,
     "registration:1"},
    {"node-netbios/netbios-ns-b-register-negative-response-winxp.pcap", 137, 1,
     0, "neg-registration:1"},
    {"node-netbios/netbios-ns-b-nbstat-winxp.pcap", 137, 1, 0, "status:1"},
    {"node-netbios/netbios-ns-b-nbstat-response-winxp.pcap", 137, 1, 0,
     "status-response:1"},
    {"node-netbios/netbios-ns-b-full-query.pcap", 137, 4, 0,
     "query:1 pos-query:1 status:1 status-response:1"},
    {"arkime/nbns.pcap", 137, 46, 0, "registration:38 overwrite:8"},
    {"ndpi/anyconnect-vpn.nbns-only.pcap", 137, 15, 0,
     "registration:3 release:6 query:6"},
    {"ndpi/zoom.nbns-only.pcap", 137, 3, 0, "refresh:3"},
    {"ndpi/netbios.pcap", 137, 256, 0,
     "query:246 pos-query:2 status:4 status-response:4"},
    {"ndpi/netbios_wildcard_dns_query.pcap", 53, 1, 0, "status:1"},
    {"tcpdump/nbns-valgrind.pcap", 137, 1, 1, ""},
    {"generated/tshark-oracle-probe.pcap", 137, 24, 10,
     "unknown:1 registration:2 conflict:1 query:4 pos-query:2 neg-query:1 "
     "wack:2 status:1"},
    {"ndpi/fuzz-2006-06-26-2594.pcap", 137, 102, 47, "unknown:1 query:54"},
};

/* One UDP payload found in a frame. */
typedef struct {
  const uint8_t *data;
  size_t len;
} payload_t;

static uint16_t be16(const uint8_t *p) {
  return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

/* IPv4 + UDP to or from `port` in [p, end): the payload, bounded by the
 * captured bytes, the IP total length and the UDP length. */
static bool udp_payload(const uint8_t *p, const uint8_t *end, uint16_t port,
                        payload_t *out) {
  if (end - p < 20 || (p[0] >> 4) != 4 || p[9] != 17) {
    return false;
  }
  size_t ihl = (size_t)(p[0] & 0xF) * 4;
  size_t total = be16(p + 2);
  if ((be16(p + 6) & 0x3FFF) != 0 || ihl < 20 || total < ihl + 8) {
    return false; /* a fragment, or no room for UDP */
  }
  if ((size_t)(end - p) > total) {
    end = p + total;
  }
  const uint8_t *u = p + ihl;
  if (end - u < 8 || (be16(u) != port && be16(u + 2) != port)) {
    return false;
  }
  size_t ulen = be16(u + 4);
  if (ulen < 8) {
    return false;
  }
  out->data = u + 8;
  out->len = (size_t)(end - out->data);
  if (out->len > ulen - 8) {
    out->len = ulen - 8;
  }
  return true;
}

/* Ethernet (with one 802.1Q tag) or Linux cooked framing. */
static bool frame_payload(int dlt, const uint8_t *p, size_t caplen,
                          uint16_t port, payload_t *out) {
  const uint8_t *end = p + caplen;
  size_t l2 = 0;
  uint16_t type = 0;
  if (dlt == DLT_EN10MB && caplen >= 14) {
    l2 = 14;
    type = be16(p + 12);
    if (type == 0x8100 && caplen >= 18) {
      l2 = 18;
      type = be16(p + 16);
    }
  } else if (dlt == DLT_LINUX_SLL && caplen >= 16) {
    l2 = 16;
    type = be16(p + 14);
  }
  return type == 0x0800 && udp_payload(p + l2, end, port, out);
}

typedef struct {
  unsigned packets;
  unsigned failed;
  unsigned kinds[NB_NS_KIND_COUNT_];
} tally_t;

static void check_payload(const capture_t *c, unsigned long frame,
                          const payload_t *pl, tally_t *t) {
  nb_ns_msg_t m;
  nb_diag_t d = {NB_OK, 0, NULL};
  t->packets++;
  nb_err_t err = nb_ns_parse(pl->data, pl->len, &m, &d);
  if (err != NB_OK) {
    t->failed++;
    assert_non_null(d.field);
    assert_true(d.offset <= pl->len);
    if (getenv("NB_NS_PCAP_VERBOSE") != NULL) {
      printf("%s frame %lu (%zu bytes): %s at %zu: %s\n", c->file, frame,
             pl->len, nb_errname(err), d.offset, d.field);
    }
    return;
  }
  t->kinds[m.kind]++;
  uint8_t out[65536];
  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, out, sizeof out);
  assert_int_equal(nb_ns_write(&w, &m), NB_OK);
  assert_int_equal(nb_wr_finish(&w, &len), NB_OK);
  if (len != pl->len || memcmp(out, pl->data, len) != 0) {
    fail_msg("%s frame %lu: not byte-exact after a round trip", c->file, frame);
  }
  nb_ns_msg_t back;
  assert_int_equal(nb_ns_parse(out, len, &back, NULL), NB_OK);
  assert_true(nb_ns_msg_equal(&m, &back));
}

static void kinds_text(const tally_t *t, char *buf, size_t cap) {
  size_t n = 0;
  buf[0] = '\0';
  for (int k = 0; k < NB_NS_KIND_COUNT_; k++) {
    if (t->kinds[k] == 0) {
      continue;
    }
    int w = snprintf(buf + n, cap - n, "%s%s:%u", n ? " " : "",
                     nb_ns_kind_ident((nb_ns_kind_t)k), t->kinds[k]);
    assert_true(w > 0 && (size_t)w < cap - n);
    n += (size_t)w;
  }
}

static void run_capture(const capture_t *c) {
  const char *src = getenv("NB_SOURCE_DIR");
  char path[4096];
  char errbuf[PCAP_ERRBUF_SIZE];
  snprintf(path, sizeof path, "%s/pcaps/%s", src ? src : ".", c->file);
  pcap_t *pc = pcap_open_offline(path, errbuf);
  if (pc == NULL) {
    fail_msg("%s: %s", path, errbuf);
  }
  int dlt = pcap_datalink(pc);
  tally_t t;
  memset(&t, 0, sizeof t);
  struct pcap_pkthdr *h;
  const u_char *data;
  unsigned long frame = 0;
  while (pcap_next_ex(pc, &h, &data) == 1) {
    payload_t pl;
    frame++;
    if (frame_payload(dlt, data, h->caplen, c->port, &pl)) {
      check_payload(c, frame, &pl, &t);
    }
  }
  pcap_close(pc);
  char kinds[512];
  kinds_text(&t, kinds, sizeof kinds);
  printf("%-62s %3u NBNS, %2u fatal, %s\n", c->file, t.packets, t.failed,
         kinds);
  assert_int_equal(t.packets, c->packets);
  assert_int_equal(t.failed, c->failed);
  assert_string_equal(kinds, c->kinds);
}

static void test_captures(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof captures / sizeof captures[0]; i++) {
    run_capture(&captures[i]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_captures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
