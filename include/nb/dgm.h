/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NB_DGM_H
#define NB_DGM_H

/* The datagram service (RFC 1002 4.4, RFC 1001 17): packets on UDP 138, a
 * fragmenting writer and a sans-I/O reassembler.
 *
 * Every packet starts with the 10 octets MSG_TYPE, FLAGS, DGM_ID,
 * SOURCE_IP, SOURCE_PORT (RFC 1002 4.4.1). Then, by MSG_TYPE:
 *   0x10-0x12 DIRECT_UNIQUE, DIRECT_GROUP, BROADCAST (4.4.2): DGM_LENGTH,
 *             PACKET_OFFSET and a fragment of the data section (the two
 *             names and USER_DATA);
 *   0x13      DATAGRAM ERROR (4.4.3): ERROR_CODE;
 *   0x14-0x16 QUERY REQUEST, POSITIVE / NEGATIVE QUERY RESPONSE (4.4.4,
 *             4.4.5): DESTINATION_NAME.
 *
 * Decisions (docs/CONFORMANCE.md "Datagram service", tested in
 * tests/unit/test_dgm.c and test_dgm_reasm.c):
 *  - DGM_LENGTH counts the whole data section of the datagram (both names
 *    and all USER_DATA, RFC 1002 5.3.1) and is the same in every fragment
 *    (RFC 1001 17.1.2: only FLAGS and PACKET_OFFSET vary); PACKET_OFFSET is
 *    the data-section bytes carried by the fragments before this one
 *    (RFC 1001 17.1.2). RFC 1002 5.3.1's pseudo-code "OFFSET in 2nd UDP =
 *    DGM_LENGTH - number of name and data bytes in 1st UDP" would give the
 *    second fragment's own length; we follow RFC 1001.
 *  - A fragment at PACKET_OFFSET 0 starts with the two names; any other
 *    carries raw data-section bytes. The FIRST flag must agree (a finding
 *    when not); the offset decides, because that is what the bytes are.
 *  - Fatal: unknown MSG_TYPE, truncation, names that do not decode
 *    (label pointers are refused, RFC 1002 4.1), PACKET_OFFSET past
 *    DGM_LENGTH, and a last fragment (MORE clear) shorter than DGM_LENGTH
 *    says.
 *  - Findings (the packet still parses): reserved FLAGS bits, FIRST flag
 *    against PACKET_OFFSET, MORE set on a fragment that reaches DGM_LENGTH,
 *    bytes after DGM_LENGTH or after the last field, USER_DATA over 512
 *    bytes, a BROADCAST not sent to '*', source and destination scopes
 *    that differ, an ERROR_CODE outside 0x82-0x84, FIRST or MORE set on a
 *    DATAGRAM ERROR, an empty continuation fragment. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nb/err.h"
#include "nb/name.h"
#include "nb/wire.h"

#define NB_DGM_PORT 138          /* RFC 1002 6: DGM_SRVC_UDP_PORT */
#define NB_DGM_COMMON_LEN 10     /* MSG_TYPE .. SOURCE_PORT */
#define NB_DGM_HEADER_LEN 14     /* + DGM_LENGTH, PACKET_OFFSET (4.4.1) */
#define NB_DGM_USER_DATA_MAX 512 /* RFC 1001 17.1.2 */
/* RFC 1001 17.1.2: the data section is two names of at most 255 octets
 * and at most 512 bytes of user data. */
#define NB_DGM_DATA_MAX (2 * NB_NAME_WIRE_MAX + NB_DGM_USER_DATA_MAX)
#define NB_DGM_MAX_DATAGRAM_LENGTH 576 /* RFC 1002 6: IP datagram, default */
#define NB_DGM_IP_UDP_HEADERS 28       /* RFC 1001 17.1.2: 20 + 8 */
/* Default largest UDP payload when fragmenting (576 - 28). */
#define NB_DGM_MAX_PAYLOAD (NB_DGM_MAX_DATAGRAM_LENGTH - NB_DGM_IP_UDP_HEADERS)
#define NB_DGM_FRAGMENT_TO_MS 2000 /* RFC 1002 6: FRAGMENT_TO */

/* MSG_TYPE (RFC 1002 4.4.1). */
typedef enum nb_dgm_type {
  NB_DGM_DIRECT_UNIQUE = 0x10,
  NB_DGM_DIRECT_GROUP = 0x11,
  NB_DGM_BROADCAST = 0x12,
  NB_DGM_ERROR = 0x13,
  NB_DGM_QUERY_REQUEST = 0x14,
  NB_DGM_POSITIVE_QUERY_RESPONSE = 0x15,
  NB_DGM_NEGATIVE_QUERY_RESPONSE = 0x16
} nb_dgm_type_t;

/* FLAGS (RFC 1002 4.4.1): bit 7 (0x01) M, bit 6 (0x02) F, bits 4-5 SNT,
 * bits 0-3 reserved. */
#define NB_DGM_FLAG_M 0x01u
#define NB_DGM_FLAG_F 0x02u
#define NB_DGM_FLAG_SNT_MASK 0x0Cu
#define NB_DGM_FLAG_RESERVED 0xF0u
#define NB_DGM_SNT(flags) ((unsigned)((flags) >> 2) & 3u)
#define NB_DGM_SNT_FLAGS(snt) ((uint8_t)(((unsigned)(snt)&3u) << 2))

/* SNT: source end-node type. 3 is the NBDD in the RFC; Windows sends it
 * for H nodes (the ndpi capture's Windows 7 hosts). */
typedef enum nb_dgm_snt {
  NB_DGM_SNT_B = 0,
  NB_DGM_SNT_P = 1,
  NB_DGM_SNT_M = 2,
  NB_DGM_SNT_NBDD = 3
} nb_dgm_snt_t;

/* ERROR_CODE (RFC 1002 4.4.3). */
typedef enum nb_dgm_error_code {
  NB_DGM_ERR_DEST_NAME_NOT_PRESENT = 0x82,
  NB_DGM_ERR_INVALID_SOURCE_NAME = 0x83,
  NB_DGM_ERR_INVALID_DEST_NAME = 0x84
} nb_dgm_error_code_t;

/* Conformance findings: id, RFC section, text. */
#define NB_DGM_RULE_MAP(XX)                                                    \
  XX(RESERVED_FLAGS, "reserved-flags", "RFC 1002 4.4.1",                       \
     "reserved FLAGS bits 0-3 are not zero")                                   \
  XX(FIRST_FLAG, "first-flag", "RFC 1001 17.1.2",                              \
     "FIRST flag disagrees with PACKET_OFFSET (0 exactly for the first "       \
     "fragment)")                                                              \
  XX(MORE_AT_END, "more-flag", "RFC 1001 17.1.2",                              \
     "MORE flag set on a fragment that reaches DGM_LENGTH")                    \
  XX(TRAILING, "trailing-bytes", "RFC 1002 4.4",                               \
     "bytes after the end of the packet (DGM_LENGTH or its last field)")       \
  XX(USER_DATA_LONG, "user-data-length", "RFC 1001 17.1.2",                    \
     "USER_DATA longer than 512 bytes")                                        \
  XX(BCAST_DEST, "broadcast-destination", "RFC 1002 5.3.1",                    \
     "BROADCAST datagram whose DESTINATION_NAME is not '*'")                   \
  XX(SCOPE_MISMATCH, "scope-mismatch", "RFC 1002 5.3.1",                       \
     "SOURCE_NAME and DESTINATION_NAME carry different scopes")                \
  XX(ERROR_CODE, "error-code", "RFC 1002 4.4.3",                               \
     "ERROR_CODE is not 0x82, 0x83 or 0x84")                                   \
  XX(ERROR_FLAGS, "error-flags", "RFC 1002 5.3.3",                             \
     "DATAGRAM ERROR with FIRST or MORE set (the sender clears both)")         \
  XX(EMPTY_FRAGMENT, "empty-fragment", "RFC 1001 17.1.2",                      \
     "a continuation fragment with no data")

typedef enum nb_dgm_rule {
#define NB_DGM_RULE_ENUM_(name, id, rfc, text) NB_DGM_R_##name,
  NB_DGM_RULE_MAP(NB_DGM_RULE_ENUM_)
#undef NB_DGM_RULE_ENUM_
      NB_DGM_R_COUNT_
} nb_dgm_rule_t;

/* Static strings for a rule (never NULL; "unknown" out of range). */
NB_API const char *nb_dgm_rule_id(nb_dgm_rule_t rule);
NB_API const char *nb_dgm_rule_rfc(nb_dgm_rule_t rule);
NB_API const char *nb_dgm_rule_text(nb_dgm_rule_t rule);

#define NB_DGM_FINDINGS_MAX 8

typedef struct nb_dgm_finding {
  nb_dgm_rule_t rule;
  size_t offset; /* byte offset in the packet */
} nb_dgm_finding_t;

/* One datagram-service packet. The caller owns it; names are inline
 * copies, `data` borrows from the parsed input (valid while it is) or, for
 * a model you build, from your buffer. Fields outside `msg_type`'s layout
 * are zero after a parse. */
typedef struct nb_dgm_msg {
  uint8_t msg_type;     /* nb_dgm_type_t */
  uint8_t flags;        /* raw FLAGS octet, reserved bits included */
  uint16_t dgm_id;      /* DGM_ID */
  uint32_t source_ip;   /* SOURCE_IP, host order */
  uint16_t source_port; /* SOURCE_PORT */
  /* 0x10-0x12 */
  uint16_t dgm_length;    /* DGM_LENGTH: the whole datagram's data section */
  uint16_t packet_offset; /* PACKET_OFFSET: 0 = first fragment, names */
  nb_name_t source_name;  /* offset 0 only */
  nb_name_t destination_name; /* offset 0 and 0x14-0x16 */
  const uint8_t *data;        /* offset 0: this fragment's USER_DATA (after the
                                 names); otherwise: its data-section bytes */
  size_t data_len;
  /* 0x13 */
  uint8_t error_code;
  /* Conformance findings from nb_dgm_parse() (none for built models). */
  nb_dgm_finding_t findings[NB_DGM_FINDINGS_MAX];
  uint8_t n_findings;
  bool findings_overflow; /* more findings than NB_DGM_FINDINGS_MAX */
} nb_dgm_msg_t;

/* "DIRECT_UNIQUE DATAGRAM", ... as RFC 1002 4.4.1 names them; "unknown". */
NB_API const char *nb_dgm_type_name(uint8_t msg_type);
/* "B", "P", "M", "NBDD". */
NB_API const char *nb_dgm_snt_name(unsigned snt);
/* RFC 1002 4.4.3 text ("DESTINATION NAME NOT PRESENT", ...) or "unknown". */
NB_API const char *nb_dgm_error_name(uint8_t code);
/* True for 0x10-0x12 (the types with DGM_LENGTH and a data section). */
NB_API bool nb_dgm_is_service(uint8_t msg_type);
/* True when the packet carries the names: a 0x10-0x12 fragment at
 * PACKET_OFFSET 0. */
NB_API bool nb_dgm_has_names(const nb_dgm_msg_t *m);
/* Bytes of the two second-level names (the data section's first part). */
NB_API size_t nb_dgm_names_len(const nb_dgm_msg_t *m);
/* True when a 0x10-0x12 packet is a whole datagram: offset 0 and the
 * names and data fill DGM_LENGTH. */
NB_API bool nb_dgm_is_whole(const nb_dgm_msg_t *m);

/* Parse one packet (`len` bytes, a whole UDP payload).
 *
 * WARNING: parses untrusted network data.
 *
 * On success `out` holds the fields of its MSG_TYPE and the findings;
 * `out->data` borrows from `buf`. On failure returns the error and fills
 * `diag` (may be NULL) with the offset into `buf` and the field; `out` is
 * then unspecified. No heap, no recursion. */
NB_API nb_err_t nb_dgm_parse(const uint8_t *buf, size_t len, nb_dgm_msg_t *out,
                             nb_diag_t *diag);

/* Write `m` as it is (DGM_LENGTH, PACKET_OFFSET and FLAGS verbatim, so a
 * parsed packet without trailing bytes writes back byte-identical). Names
 * are written when nb_dgm_has_names(m). An unknown MSG_TYPE, or `data_len`
 * over 0xFFFF, sets NB_EINVAL. Sticky error: check with nb_wr_finish(). */
NB_API void nb_dgm_write(nb_wr_t *w, const nb_dgm_msg_t *m);

/* Start a model: zero everything, set the header fields and FLAGS = FIRST
 * for 0x10-0x12 (0 otherwise), SNT B. Adjust m->flags with
 * NB_DGM_SNT_FLAGS() for another node type. */
NB_API void nb_dgm_init(nb_dgm_msg_t *m, uint8_t msg_type, uint16_t dgm_id,
                        uint32_t source_ip, uint16_t source_port);

/* Make `m` (initialised with a 0x10-0x12 type) a whole datagram: copies the
 * names, borrows `data`, sets PACKET_OFFSET 0, FIRST set and MORE clear,
 * and DGM_LENGTH = names + len. USER_DATA over 512 bytes is NB_ELIMIT
 * (RFC 1001 17.1.2); a non-service type is NB_EINVAL. */
NB_API nb_err_t nb_dgm_set_datagram(nb_dgm_msg_t *m, const nb_name_t *src,
                                    const nb_name_t *dst, const uint8_t *data,
                                    size_t len);

/* ------------------------------------------------------------------------
 * The fragmenting writer (RFC 1001 17.1.2, RFC 1002 5.3.1).
 *
 * Splits a whole datagram into UDP payloads of at most `max_payload` bytes:
 * the first carries the header, both names and the user data that fits
 * (FIRST and MORE set, PACKET_OFFSET 0); each later one the header and the
 * next slice (FIRST clear, MORE set except on the last, PACKET_OFFSET the
 * data-section bytes sent before it). A datagram that fits is one packet
 * with FIRST set and MORE clear. RFC 1002's pseudo-code makes at most two
 * fragments, which is what 576-byte IP datagrams need; RFC 1001 allows
 * more, and a smaller `max_payload` gives more. */
typedef struct nb_dgm_split {
  const nb_dgm_msg_t *dgram; /* borrowed; valid for the whole split */
  size_t max_payload;
  size_t names_len;
  size_t sent; /* data-section bytes emitted */
  bool done;
} nb_dgm_split_t;

/* `dgram` must be a whole 0x10-0x12 datagram (nb_dgm_is_whole()).
 * NB_ELIMIT when the header and both names do not fit in `max_payload`
 * (the first fragment must hold the names) or the user data is over 512
 * bytes; NB_EINVAL for anything that is not a whole datagram. */
NB_API nb_err_t nb_dgm_split_init(nb_dgm_split_t *s, const nb_dgm_msg_t *dgram,
                                  size_t max_payload);
/* The next fragment as a model (names copied, data borrowed from
 * dgram->data); false when all were produced. Write it with
 * nb_dgm_write(). */
NB_API bool nb_dgm_split_next(nb_dgm_split_t *s, nb_dgm_msg_t *frag);

/* ------------------------------------------------------------------------
 * The reassembler (RFC 1002 5.3.3): sans-I/O, time passed in, fixed
 * storage inside the struct (no heap).
 *
 * Fragments are keyed by SOURCE_IP and DGM_ID. Out-of-order arrival is
 * reassembled (5.3.3 allows it). Each reassembly reserves its DGM_LENGTH
 * bytes when it starts, so `max_bytes` is a hard cap on buffered data;
 * `max_slots` caps concurrent reassemblies. Rules (counted in stats):
 *  - a whole datagram passes straight through (no slot used);
 *  - DGM_LENGTH over NB_DGM_DATA_MAX or over max_bytes: refused (too_big);
 *  - no room: the oldest reassemblies are evicted (evicted);
 *  - a fragment whose MSG_TYPE, SOURCE_PORT or DGM_LENGTH differ from the
 *    reassembly with its key: the old reassembly is discarded (conflicts)
 *    and a new one starts (a reused DGM_ID);
 *  - bytes already held: identical ones are accepted; a fragment that adds
 *    nothing is a duplicate (ignored); one that adds bytes and overlaps
 *    identical ones is merged (overlaps); any differing byte drops the
 *    whole reassembly and the fragment (conflicts);
 *  - a reassembly not complete FRAGMENT_TO (timeout_ms) after its first
 *    fragment arrived is discarded (expired); later fragments do not
 *    extend the deadline;
 *  - complete when every byte of [0, DGM_LENGTH) is held; the names are
 *    decoded from the reassembled bytes. */

#define NB_DGM_REASM_SLOTS 16 /* compiled maximum of concurrent slots */

typedef struct nb_dgm_reasm_cfg {
  size_t max_slots;    /* 1..NB_DGM_REASM_SLOTS */
  size_t max_bytes;    /* cap on reserved DGM_LENGTH bytes, >= 1 */
  uint64_t timeout_ms; /* FRAGMENT_TO */
} nb_dgm_reasm_cfg_t;

typedef struct nb_dgm_reasm_stats {
  uint64_t fragments;  /* fragments offered to nb_dgm_reasm_add() */
  uint64_t completed;  /* datagrams returned (whole ones included) */
  uint64_t duplicates; /* fragments that added nothing */
  uint64_t overlaps;   /* fragments merged over identical held bytes */
  uint64_t conflicts;  /* reassemblies dropped for differing bytes/headers */
  uint64_t expired;    /* reassemblies timed out */
  uint64_t evicted;    /* reassemblies dropped to make room */
  uint64_t too_big;    /* fragments refused by the size caps */
  uint64_t invalid;    /* fragments that are not 0x10-0x12 fragments or
                          reach past DGM_LENGTH */
} nb_dgm_reasm_stats_t;

/* Private: one reassembly in progress. */
typedef struct nb_dgm_reasm_slot {
  bool used;
  bool have_first;
  uint8_t msg_type;
  uint8_t first_flags;
  uint16_t dgm_id;
  uint16_t source_port;
  uint16_t dgm_length;
  uint16_t held; /* bytes of [0, dgm_length) held */
  uint32_t source_ip;
  uint64_t deadline;
  uint64_t born; /* arrival order, for eviction */
  uint8_t have[(NB_DGM_DATA_MAX + 7) / 8];
  uint8_t data[NB_DGM_DATA_MAX];
} nb_dgm_reasm_slot_t;

typedef struct nb_dgm_reasm {
  nb_dgm_reasm_cfg_t cfg;
  size_t bytes;      /* reserved now; never above cfg.max_bytes */
  size_t slots_used; /* never above cfg.max_slots */
  uint64_t next_born;
  nb_dgm_reasm_stats_t stats;
  nb_dgm_reasm_slot_t slots[NB_DGM_REASM_SLOTS];
  uint8_t out[NB_DGM_DATA_MAX]; /* the last completed data section */
} nb_dgm_reasm_t;

typedef enum nb_dgm_reasm_result {
  NB_DGM_REASM_COMPLETE = 0, /* *out holds a whole datagram */
  NB_DGM_REASM_PENDING,      /* held; waiting for more fragments */
  NB_DGM_REASM_DUPLICATE,    /* ignored: every byte was already held */
  NB_DGM_REASM_DROPPED       /* refused or conflicting (see stats) */
} nb_dgm_reasm_result_t;

/* Defaults: NB_DGM_REASM_SLOTS slots, that many times NB_DGM_DATA_MAX
 * bytes, FRAGMENT_TO 2 s. */
NB_API void nb_dgm_reasm_cfg_default(nb_dgm_reasm_cfg_t *cfg);
/* NB_EINVAL when a limit is out of range. `cfg` NULL takes the defaults. */
NB_API nb_err_t nb_dgm_reasm_init(nb_dgm_reasm_t *r,
                                  const nb_dgm_reasm_cfg_t *cfg);

/* Offer one parsed fragment received at `now_ms` (any monotonic clock;
 * expired reassemblies are discarded first). On COMPLETE, `*out` is the
 * whole datagram (PACKET_OFFSET 0, FIRST set, MORE clear, names decoded);
 * its `data` borrows from `frag` for a whole datagram that passed through,
 * else from `r` (valid until the next call on `r`). `frag` is not kept:
 * its bytes are copied. */
NB_API nb_dgm_reasm_result_t nb_dgm_reasm_add(nb_dgm_reasm_t *r,
                                              const nb_dgm_msg_t *frag,
                                              uint64_t now_ms,
                                              nb_dgm_msg_t *out);
/* The earliest deadline of a reassembly in progress; UINT64_MAX when none.
 * Arm one timer for it and call nb_dgm_reasm_on_timer() when it fires. */
NB_API uint64_t nb_dgm_reasm_next_deadline(const nb_dgm_reasm_t *r);
/* Discard reassemblies whose deadline is <= now_ms; returns how many. */
NB_API size_t nb_dgm_reasm_on_timer(nb_dgm_reasm_t *r, uint64_t now_ms);

#endif
