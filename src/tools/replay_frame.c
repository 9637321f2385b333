/* SPDX-License-Identifier: BSD-2-Clause */
/* Link, IPv4, UDP and TCP headers of a captured frame (see replay_frame.h).
 *
 * WARNING: parses untrusted network data. A capture file is as hostile as
 * the network it was recorded on: every field is read through the nb_rd_t
 * cursors, every length is checked against what was captured, and nothing
 * here allocates or asserts. Checksums are not verified (captures taken on
 * the sending host carry offloaded, unfilled checksums). */
#include "replay_frame.h"

#include <stdio.h>

#include "nb/wire.h"

#define ETHERTYPE_IPV4 0x0800
#define FLAG_LINK_SAID_IPV4 0x100u /* private to this file */
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define VLAN_MAX_TAGS 4
#define AF_INET_NULL 2 /* AF_INET in the BSD loopback header */

static nb_err_t fail(nb_diag_t *d, nb_err_t e, size_t at, const char *f) {
  return nb_diag_set(d, e, at, f);
}

/* Ethernet II: dst(6) src(6) type(2), then zero or more 802.1Q/802.1ad tags
 * of TCI(2) type(2). */
static nb_err_t link_ethernet(nb_rd_t *r, uint16_t *type, nb_diag_t *d) {
  if (nb_rd_skip(r, 12) != NB_OK || nb_rd_be16(r, type) != NB_OK) {
    return fail(d, NB_ETRUNCATED, r->pos, "Ethernet header");
  }
  for (int tags = 0; *type == ETHERTYPE_VLAN || *type == ETHERTYPE_QINQ;
       tags++) {
    if (tags == VLAN_MAX_TAGS) {
      return fail(d, NB_ELIMIT, r->pos, "802.1Q tags");
    }
    if (nb_rd_skip(r, 2) != NB_OK || nb_rd_be16(r, type) != NB_OK) {
      return fail(d, NB_ETRUNCATED, r->pos, "802.1Q tag");
    }
  }
  return NB_OK;
}

/* BSD loopback: a 4-byte address family, host order (NULL) or network
 * order (LOOP). AF_INET is 2 everywhere, so either byte order is accepted. */
static nb_err_t link_null(nb_rd_t *r, uint16_t *type, nb_diag_t *d) {
  uint32_t fam = 0;
  if (nb_rd_be32(r, &fam) != NB_OK) {
    return fail(d, NB_ETRUNCATED, r->pos, "loopback header");
  }
  *type = (fam == AF_INET_NULL || fam == (uint32_t)AF_INET_NULL << 24)
              ? ETHERTYPE_IPV4
              : 0;
  return NB_OK;
}

/* Linux cooked v1: packet type(2) ARPHRD(2) addr len(2) addr(8) proto(2).
 * Linux cooked v2: proto(2) reserved(2) ifindex(4) ARPHRD(2) type(1)
 * addr len(1) addr(8). */
static nb_err_t link_sll(nb_rd_t *r, int v2, uint16_t *type, nb_diag_t *d) {
  nb_err_t e = v2 ? nb_rd_be16(r, type) : nb_rd_skip(r, 14);
  if (e == NB_OK) {
    e = v2 ? nb_rd_skip(r, 18) : nb_rd_be16(r, type);
  }
  return e == NB_OK ? NB_OK : fail(d, NB_ETRUNCATED, r->pos, "SLL header");
}

static nb_err_t link_header(int link, nb_rd_t *r, uint16_t *type,
                            nb_diag_t *d) {
  switch (link) {
  case NBT_RP_LINK_EN10MB:
    return link_ethernet(r, type, d);
  case NBT_RP_LINK_NULL:
  case NBT_RP_LINK_LOOP:
    return link_null(r, type, d);
  case NBT_RP_LINK_LINUX_SLL:
    return link_sll(r, 0, type, d);
  case NBT_RP_LINK_LINUX_SLL2:
    return link_sll(r, 1, type, d);
  case NBT_RP_LINK_RAW:
  case NBT_RP_LINK_RAW_BSD:
  case NBT_RP_LINK_RAW_LT:
  case NBT_RP_LINK_IPV4:
    *type = ETHERTYPE_IPV4; /* the version nibble is checked below */
    return NB_OK;
  default:
    return fail(d, NB_ENOTFOUND, 0, "link type");
  }
}

/* The IP payload: a hard window of Total Length bytes from `start`
 * (Ethernet padding after it is ignored; when `partial`, cut to what was
 * captured), with the options up to `ihl` skipped. */
static nb_err_t ipv4_body(const nb_rd_t *r, size_t start, size_t ihl,
                          size_t total, bool partial, nb_rd_t *body,
                          nb_diag_t *d) {
  nb_rd_t ip = *r;
  ip.pos = start;
  size_t want = total;
  if (partial && want > nb_rd_left(&ip)) {
    want = nb_rd_left(&ip); /* cut by the snaplen: keep what is there */
  }
  if (nb_rd_sub(&ip, want, body) != NB_OK) {
    return fail(d, NB_ETRUNCATED, start + 2, "IPv4 total length");
  }
  if (ihl > want) { /* partial only: want == total >= ihl otherwise */
    return fail(d, NB_ETRUNCATED, start, "IPv4 options");
  }
  body->pos = start + ihl; /* skip options, inside the window */
  return NB_OK;
}

/* RFC 791 3.1:
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |Version|  IHL  |Type of Service|          Total Length         |
 *  |         Identification        |Flags|      Fragment Offset    |
 *  |  Time to Live |    Protocol   |         Header Checksum       |
 *  |                       Source Address                          |
 *  |                    Destination Address                        |
 *  |                    Options                    |    Padding    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * On success `body` is a window over the IP payload (see ipv4_body). */
static nb_err_t ipv4_header(nb_rd_t *r, unsigned flags, nbt_rp_pkt_t *out,
                            nb_rd_t *body, nb_diag_t *d) {
  size_t start = r->pos;
  uint8_t vihl = 0;
  uint16_t total = 0;
  uint16_t frag = 0;
  if (nb_rd_peek_u8(r, &vihl) == NB_OK && vihl >> 4 != 4) {
    /* Raw IP: not IPv4 (even if short). Behind a link header that said
     * IPv4: a broken frame (Wireshark: "Bogus IPv4 version"). */
    return fail(
        d, (flags & FLAG_LINK_SAID_IPV4) != 0 ? NB_EMALFORMED : NB_ENOTFOUND,
        start, "IP version");
  }
  if (nb_rd_u8(r, &vihl) != NB_OK || nb_rd_skip(r, 1) != NB_OK ||
      nb_rd_be16(r, &total) != NB_OK || nb_rd_skip(r, 2) != NB_OK ||
      nb_rd_be16(r, &frag) != NB_OK || nb_rd_skip(r, 1) != NB_OK ||
      nb_rd_u8(r, &out->proto) != NB_OK || nb_rd_skip(r, 2) != NB_OK ||
      nb_rd_be32(r, &out->src) != NB_OK || nb_rd_be32(r, &out->dst) != NB_OK) {
    return fail(d, NB_ETRUNCATED, r->pos, "IPv4 header");
  }
  size_t ihl = (size_t)(vihl & 0x0f) * 4;
  if (ihl < 20 || total < ihl) {
    return fail(d, NB_EMALFORMED, start, "IPv4 IHL / total length");
  }
  if ((frag & 0x3fff) != 0) { /* MF set or a non-zero offset */
    out->fragment = true;
    return fail(d, NB_ELIMIT, start + 6, "IPv4 fragment (not reassembled)");
  }
  return ipv4_body(r, start, ihl, total, (flags & NBT_RP_PARTIAL) != 0, body,
                   d);
}

/* RFC 768: source port(2) destination port(2) length(2) checksum(2). */
static nb_err_t udp_header(nb_rd_t *r, unsigned flags, nbt_rp_pkt_t *out,
                           nb_diag_t *d) {
  size_t start = r->pos;
  uint16_t len = 0;
  if (nb_rd_be16(r, &out->sport) != NB_OK ||
      nb_rd_be16(r, &out->dport) != NB_OK || nb_rd_be16(r, &len) != NB_OK ||
      nb_rd_skip(r, 2) != NB_OK) {
    return fail(d, NB_ETRUNCATED, r->pos, "UDP header");
  }
  bool partial = (flags & NBT_RP_PARTIAL) != 0;
  if (len < 8 || (!partial && (size_t)len - 8 > nb_rd_left(r))) {
    return fail(d, NB_EMALFORMED, start + 4, "UDP length");
  }
  out->len = (size_t)len - 8;
  if (out->len > nb_rd_left(r)) { /* partial: what the IP body holds */
    out->len = nb_rd_left(r);
  }
  return nb_rd_bytes(r, out->len, &out->payload);
}

/* RFC 793 3.1: source port(2) destination port(2) sequence(4) ack(4)
 * data offset(4 bits) reserved and flags(12 bits) window(2) checksum(2)
 * urgent(2) options. The payload is the rest of the IP body. */
static nb_err_t tcp_header(nb_rd_t *r, nbt_rp_pkt_t *out, nb_diag_t *d) {
  size_t start = r->pos;
  uint8_t off = 0;
  if (nb_rd_be16(r, &out->sport) != NB_OK ||
      nb_rd_be16(r, &out->dport) != NB_OK ||
      nb_rd_be32(r, &out->seq) != NB_OK || nb_rd_skip(r, 4) != NB_OK ||
      nb_rd_u8(r, &off) != NB_OK || nb_rd_u8(r, &out->tcp_flags) != NB_OK) {
    return fail(d, NB_ETRUNCATED, r->pos, "TCP header");
  }
  size_t hlen = (size_t)(off >> 4) * 4;
  if (hlen < 20 || hlen - 14 > nb_rd_left(r)) {
    return fail(d, NB_EMALFORMED, start + 12, "TCP data offset");
  }
  (void)nb_rd_skip(r, hlen - 14);
  out->len = nb_rd_left(r);
  return nb_rd_bytes(r, out->len, &out->payload);
}

nb_err_t nbt_rp_frame_parse_ex(int link, const uint8_t *frame, size_t caplen,
                               unsigned flags, nbt_rp_pkt_t *out,
                               nb_diag_t *diag) {
  nb_rd_t r;
  nb_rd_t body;
  uint16_t type = 0;
  *out = (nbt_rp_pkt_t){0};
  nb_rd_init(&r, frame, caplen);
  nb_err_t e = link_header(link, &r, &type, diag);
  if (e != NB_OK) {
    return e;
  }
  if (type != ETHERTYPE_IPV4) {
    return fail(diag, NB_ENOTFOUND, r.pos, "not IPv4");
  }
  flags &= NBT_RP_PARTIAL;
  flags |= r.pos > 0 ? FLAG_LINK_SAID_IPV4 : 0; /* not raw IP */
  e = ipv4_header(&r, flags, out, &body, diag);
  if (e != NB_OK) {
    return e;
  }
  if (out->proto == NBT_RP_IPPROTO_UDP) {
    return udp_header(&body, flags, out, diag);
  }
  if (out->proto == NBT_RP_IPPROTO_TCP) {
    return tcp_header(&body, out, diag);
  }
  return fail(diag, NB_ENOTFOUND, body.pos, "not UDP or TCP");
}

nb_err_t nbt_rp_frame_parse(int link, const uint8_t *frame, size_t caplen,
                            nbt_rp_pkt_t *out, nb_diag_t *diag) {
  return nbt_rp_frame_parse_ex(link, frame, caplen, 0, out, diag);
}

void nbt_rp_ip4_text(uint32_t a, char buf[16]) {
  snprintf(buf, 16, "%u.%u.%u.%u", (unsigned)(a >> 24) & 0xff,
           (unsigned)(a >> 16) & 0xff, (unsigned)(a >> 8) & 0xff,
           (unsigned)a & 0xff);
}
