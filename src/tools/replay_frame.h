/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NBT_REPLAY_FRAME_H
#define NBT_REPLAY_FRAME_H

/* Link, IPv4, UDP and TCP headers of one captured frame, for `nbt replay`
 * and `nbt decode --pcap`. A pure function over bytes (no libpcap, no
 * sockets), so that it can be fuzzed in-process (fuzz/replay_capture.c). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nb/err.h"

/* Link-layer header types, as libpcap's pcap_datalink() reports them. */
#define NBT_RP_LINK_NULL 0     /* BSD loopback: 4-byte family, host order */
#define NBT_RP_LINK_EN10MB 1   /* Ethernet II, optional 802.1Q tags */
#define NBT_RP_LINK_RAW 12     /* raw IP (DLT_RAW on most systems) */
#define NBT_RP_LINK_RAW_BSD 14 /* raw IP (DLT_RAW on OpenBSD) */
#define NBT_RP_LINK_RAW_LT 101 /* LINKTYPE_RAW, if not mapped */
#define NBT_RP_LINK_LOOP 108   /* OpenBSD loopback: family, network order */
#define NBT_RP_LINK_LINUX_SLL 113
#define NBT_RP_LINK_IPV4 228
#define NBT_RP_LINK_LINUX_SLL2 276

#define NBT_RP_IPPROTO_TCP 6
#define NBT_RP_IPPROTO_UDP 17

/* TCP flag bits. */
#define NBT_RP_TCP_FIN 0x01
#define NBT_RP_TCP_SYN 0x02
#define NBT_RP_TCP_RST 0x04
#define NBT_RP_TCP_ACK 0x10

/* One IPv4 UDP datagram or TCP segment. `payload` borrows from the frame
 * given to nbt_rp_frame_parse (valid while that frame is). */
typedef struct nbt_rp_pkt {
  uint32_t src; /* IPv4 addresses in host byte order */
  uint32_t dst;
  uint16_t sport;
  uint16_t dport;
  uint8_t proto;     /* NBT_RP_IPPROTO_UDP or _TCP */
  uint8_t tcp_flags; /* TCP only */
  uint32_t seq;      /* TCP only */
  const uint8_t *payload;
  size_t len;
  bool fragment; /* set with NB_ELIMIT when the frame is an IPv4 fragment */
} nbt_rp_pkt_t;

/* Flags for nbt_rp_frame_parse_ex. */
#define NBT_RP_PARTIAL 0x01u /* keep what was captured: see below */

/* Parse one captured frame of link type `link` (`caplen` bytes captured).
 * Returns NB_OK for an IPv4 UDP or TCP packet, NB_ENOTFOUND for anything
 * else that is well formed (ARP, IPv6, ICMP, an unknown link type), NB_ELIMIT
 * for an IPv4 fragment (not reassembled), and NB_ETRUNCATED / NB_EMALFORMED
 * with `diag` saying where for a broken or snaplen-cut frame. */
nb_err_t nbt_rp_frame_parse(int link, const uint8_t *frame, size_t caplen,
                            nbt_rp_pkt_t *out, nb_diag_t *diag);

/* nbt_rp_frame_parse with `flags`. NBT_RP_PARTIAL (for a decoder, which
 * shows what it has): an IPv4 Total Length past the captured bytes or a UDP
 * Length past the IP body is not an error; the payload is then what the
 * frame holds. The headers themselves must still be whole. */
nb_err_t nbt_rp_frame_parse_ex(int link, const uint8_t *frame, size_t caplen,
                               unsigned flags, nbt_rp_pkt_t *out,
                               nb_diag_t *diag);

/* Dotted-quad text of a host-order address into buf[16]. */
void nbt_rp_ip4_text(uint32_t addr, char buf[16]);

#endif
