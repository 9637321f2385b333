/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NBT_DECODE_H
#define NBT_DECODE_H

/* The contract between `nbt decode`'s driver (cmd_decode.c: input from hex,
 * stdin or a pcap/pcapng file through libpcap, IPv4/UDP/TCP extraction,
 * dispatch by port, the exit code) and the per-protocol printers:
 *   decode_ns.c  - UDP 137 name-service packets
 *   decode_dgm.c - UDP 138 datagrams
 *   decode_ssn.c - TCP 139 (and 445) session streams
 *
 * Output: text by default, one line per packet (continuation lines indented
 * by two spaces); with --json exactly one JSON object per line. Every JSON
 * object starts with the common fields printed by nbt_decode_json_begin():
 *   "frame" (1-based frame number, 0 for hex input), "ts" (seconds, float),
 *   "src", "dst" (dotted IPv4), "sport", "dport", "proto" ("nbns", "nbdgm",
 *   "nbss")
 * then the protocol's fields, then
 *   "ok": true|false,
 *   "error": {"code": "ETRUNCATED", "offset": N, "field": "..."} (when not ok),
 *   "findings": [{"rule": "...", "rfc": "RFC 1002 4.2.x", "offset": N,
 *                 "text": "..."}] (conformance findings on packets that parse)
 * and ends with nbt_decode_json_end(). docs/DECODE.md documents every field.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nb/err.h"

typedef struct nbt_decode_opts {
  bool json;
  FILE *out;
} nbt_decode_opts_t;

typedef struct nbt_pkt_meta {
  unsigned long frame; /* 1-based frame number; 0 for hex/stdin input */
  double ts;           /* capture time in seconds; 0 for hex input */
  char src[16];        /* dotted IPv4, "" when unknown */
  char dst[16];
  uint16_t sport;
  uint16_t dport;
} nbt_pkt_meta_t;

/* UDP 137 / 138 payloads. Return true when the packet decoded without a
 * fatal error (findings do not count as failures). */
bool nbt_decode_ns(const nbt_decode_opts_t *o, const nbt_pkt_meta_t *m,
                   const uint8_t *p, size_t len);
bool nbt_decode_dgm(const nbt_decode_opts_t *o, const nbt_pkt_meta_t *m,
                    const uint8_t *p, size_t len);

/* TCP session service. The driver passes every TCP segment to or from port
 * 139 or 445 in capture order; the decoder tracks connections, orders bytes
 * by sequence number, frames them (the session framer), prints each session
 * packet, and returns false from _segment/_finish when a stream failed. */
typedef struct nbt_ssn_decoder nbt_ssn_decoder_t;
nbt_ssn_decoder_t *nbt_ssn_decoder_new(const nbt_decode_opts_t *o);
bool nbt_ssn_decoder_segment(nbt_ssn_decoder_t *d, const nbt_pkt_meta_t *m,
                             uint32_t seq, uint8_t tcp_flags,
                             const uint8_t *payload, size_t len);
bool nbt_ssn_decoder_finish(nbt_ssn_decoder_t *d);
void nbt_ssn_decoder_free(nbt_ssn_decoder_t *d);
/* One direction of a session stream given as bytes (hex or stdin input). */
bool nbt_decode_ssn_bytes(const nbt_decode_opts_t *o, const uint8_t *p,
                          size_t len);

/* TCP flag bits as in the TCP header. */
#define NBT_TCP_FIN 0x01
#define NBT_TCP_SYN 0x02
#define NBT_TCP_RST 0x04

/* Shared printing helpers (decode_common.c). */
void nbt_decode_json_begin(const nbt_decode_opts_t *o, const nbt_pkt_meta_t *m,
                           const char *proto);
void nbt_decode_json_end(const nbt_decode_opts_t *o);
/* Text prefix: "frame 3 10.0.0.1:137 > 10.0.0.255:137 " (nothing for hex). */
void nbt_decode_text_prefix(const nbt_decode_opts_t *o,
                            const nbt_pkt_meta_t *m);
/* ,"ok":false,"error":{...} */
void nbt_decode_json_error(const nbt_decode_opts_t *o, const nb_diag_t *d);
/* "NBNS error ETRUNCATED at offset 12 (field): text\n" (after the prefix). */
void nbt_decode_text_error(const nbt_decode_opts_t *o, const char *text_proto,
                           const nb_diag_t *d);
/* A packet whose parser failed with `e` (`d` from the parser): one JSON
 * object with "len" and "error", or the text prefix and the error line. */
void nbt_decode_failed(const nbt_decode_opts_t *o, const nbt_pkt_meta_t *m,
                       const char *json_proto, const char *text_proto,
                       size_t len, nb_err_t e, nb_diag_t d);

/* One conformance finding. `rule`, `rfc` and `text` are static strings. */
typedef struct nbt_finding {
  const char *rule; /* e.g. "NEG_CODE_UNKNOWN" */
  const char *rfc;  /* e.g. "RFC 1002 4.3.4" */
  uint64_t offset;  /* into the packet (or the stream) */
  const char *text;
} nbt_finding_t;
/* "\n  finding RULE (RFC) at N: TEXT" (a continuation line). */
void nbt_decode_text_finding(FILE *f, const nbt_finding_t *fd);
/* {"rule":..,"rfc":..,"offset":N,"text":..}, after a comma unless `first`. */
void nbt_decode_json_finding(FILE *f, bool first, const nbt_finding_t *fd);

#endif
