/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NB_SSN_H
#define NB_SSN_H

/* The session service (RFC 1002 4.3, RFC 1001 16): packets and a sans-I/O
 * stream framer.
 *
 * Every session packet starts with a 4-byte header:
 *
 *     0               1               2               3
 *   +---------------+---------------+-------------------------------+
 *   |     TYPE      |     FLAGS     |            LENGTH             |
 *   +---------------+---------------+-------------------------------+
 *
 * RFC mode (TCP 139): FLAGS is 0000000E; E (the LOW bit, 0x01) is the 17th,
 * high-order bit of LENGTH, so a trailer is 0..0x1FFFF bytes; the seven
 * other bits are reserved and must be zero (RFC 1002 4.3.1). The seed
 * library took E as 0x80 and misframed every message of 64 KiB or more.
 *
 * Direct mode (TCP 445, and Samba on 139 after SMB negotiate): a zero byte
 * and a 24-bit length ([MS-SMB2] 2.1), 0..0xFFFFFF bytes.
 *
 * The decisions about what is accepted are in docs/CONFORMANCE.md
 * ("Session service") and tested in tests/unit/test_ssn*.c:
 *  - types: 0x00, 0x81..0x85 in RFC mode; anything else is an error;
 *  - SESSION REQUEST: two second-level names without pointers
 *    (NB_NAME_F_NO_POINTERS, RFC 1002 4.1), LENGTH exactly their sum
 *    (68..510); trailing bytes are rejected;
 *  - POSITIVE RESPONSE and KEEP ALIVE: LENGTH 0; NEGATIVE: 1; RETARGET: 6;
 *  - NEGATIVE codes other than 0x80-0x83/0x8F parse (the session failed
 *    either way) but are never written;
 *  - a SESSION MESSAGE of LENGTH 0 is legal (RFC 1001 5.3: "0 to 131,071");
 *  - direct mode knows type 0x00 and the keep-alive `85 00 00 00` only. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nb/err.h"
#include "nb/name.h"
#include "nb/wire.h"

/* Session packet types (RFC 1002 4.3.1). */
typedef enum nb_ssn_type {
  NB_SSN_SESSION_MESSAGE = 0x00,
  NB_SSN_SESSION_REQUEST = 0x81,
  NB_SSN_POSITIVE_SESSION_RESPONSE = 0x82,
  NB_SSN_NEGATIVE_SESSION_RESPONSE = 0x83,
  NB_SSN_RETARGET_SESSION_RESPONSE = 0x84,
  NB_SSN_SESSION_KEEP_ALIVE = 0x85
} nb_ssn_type_t;

/* NEGATIVE SESSION RESPONSE error codes (RFC 1002 4.3.4). */
typedef enum nb_ssn_neg {
  NB_SSN_NEG_NOT_LISTENING_CALLED = 0x80,
  NB_SSN_NEG_NOT_LISTENING_CALLING = 0x81,
  NB_SSN_NEG_CALLED_NOT_PRESENT = 0x82,
  NB_SSN_NEG_INSUFFICIENT_RESOURCES = 0x83,
  NB_SSN_NEG_UNSPECIFIED = 0x8F
} nb_ssn_neg_t;

/* Framing modes. */
typedef enum nb_ssn_mode {
  NB_SSN_MODE_RFC = 0,   /* TYPE, FLAGS (E = 0x01), 16-bit LENGTH */
  NB_SSN_MODE_DIRECT = 1 /* 0x00 and a 24-bit length */
} nb_ssn_mode_t;

#define NB_SSN_HEADER_LEN 4
#define NB_SSN_FLAG_E 0x01u           /* RFC 1002 4.3.1: length extension */
#define NB_SSN_RFC_MAX 0x1FFFFu       /* 17-bit LENGTH */
#define NB_SSN_DIRECT_MAX 0xFFFFFFu   /* 24-bit length */
#define NB_SSN_REQUEST_MIN (2u * 34u) /* two names without scope */
#define NB_SSN_REQUEST_MAX (2u * NB_NAME_WIRE_MAX) /* two 255-octet names */
/* The largest control packet: a SESSION REQUEST with two longest names. */
#define NB_SSN_CONTROL_MAX (NB_SSN_HEADER_LEN + NB_SSN_REQUEST_MAX)
#define NB_SSN_RETARGET_LEN 6

/* A parsed header. `flags` is the raw FLAGS octet in RFC mode and 0 in
 * direct mode; `length` is the full 17- or 24-bit trailer length. */
typedef struct nb_ssn_header {
  uint8_t type;
  uint8_t flags;
  uint32_t length;
} nb_ssn_header_t;

/* One session packet. Only the fields of `type` are meaningful; the others
 * are zero. The names are inline copies; `data` borrows. */
typedef struct nb_ssn_packet {
  uint8_t type;           /* nb_ssn_type_t */
  uint8_t flags;          /* raw FLAGS octet (RFC mode), else 0 */
  uint32_t length;        /* LENGTH: bytes after the header */
  nb_name_t called;       /* SESSION REQUEST: CALLED NAME */
  nb_name_t calling;      /* SESSION REQUEST: CALLING NAME */
  uint8_t error_code;     /* NEGATIVE SESSION RESPONSE: ERROR_CODE */
  uint32_t retarget_addr; /* RETARGET: RETARGET_IP_ADDRESS, host order */
  uint16_t retarget_port; /* RETARGET: PORT */
  const uint8_t *data;    /* SESSION MESSAGE from nb_ssn_parse(): the
                             USER_DATA, borrowed from the input (valid while
                             it is); NULL from the framer */
} nb_ssn_packet_t;

/* "SESSION REQUEST", ... as in RFC 1002 4.3.1; "unknown" otherwise. */
NB_API const char *nb_ssn_type_name(uint8_t type);
/* RFC 1002 4.3.4 text ("Not listening on called name", ...); "Unknown
 * error code" for codes outside the RFC's five. */
NB_API const char *nb_ssn_neg_text(uint8_t code);
/* True for the five RFC 1002 4.3.4 codes. */
NB_API bool nb_ssn_neg_known(uint8_t code);

/* Read and check a 4-byte header at `r` in `mode`: known type, reserved
 * FLAGS bits zero (RFC mode), and the LENGTH each control type requires.
 * It does not apply a maximum message size (the framer does). On error `r`
 * is unmoved and `diag` names the field, with offsets into `r->msg`. */
NB_API nb_err_t nb_ssn_parse_header(nb_rd_t *r, nb_ssn_mode_t mode,
                                    nb_ssn_header_t *h, nb_diag_t *diag);

/* Parse one whole session packet at the start of `buf` (`len` bytes, which
 * may hold more after it). On success `*used` (if not NULL) is the packet's
 * size, 4 + LENGTH. A SESSION MESSAGE's `out->data` borrows from `buf`.
 * On error `diag->offset` is an offset into `buf`. */
NB_API nb_err_t nb_ssn_parse(const uint8_t *buf, size_t len, nb_ssn_mode_t mode,
                             nb_ssn_packet_t *out, size_t *used,
                             nb_diag_t *diag);

/* Writers. Each appends one packet to `w` (sticky error: check with
 * nb_wr_finish). Values the RFC does not allow set NB_EINVAL. */
/* A header; lengths beyond the mode's limit (0x1FFFF RFC, 0xFFFFFF direct),
 * and in direct mode types other than 0x00 and 0x85 (length 0), are
 * NB_EINVAL. The E bit is set from bit 16 of `length` in RFC mode. */
NB_API void nb_ssn_write_header(nb_wr_t *w, nb_ssn_mode_t mode, uint8_t type,
                                uint32_t length);
/* A SESSION MESSAGE header for `length` bytes of USER_DATA. */
NB_API void nb_ssn_write_msg_header(nb_wr_t *w, nb_ssn_mode_t mode,
                                    uint32_t length);
/* A whole SESSION MESSAGE: header and `len` bytes of `data`. */
NB_API void nb_ssn_write_message(nb_wr_t *w, nb_ssn_mode_t mode,
                                 const void *data, size_t len);
/* SESSION REQUEST (RFC 1002 4.3.2): both names without compression. */
NB_API void nb_ssn_write_request(nb_wr_t *w, const nb_name_t *called,
                                 const nb_name_t *calling);
NB_API void nb_ssn_write_positive(nb_wr_t *w);
/* NEGATIVE SESSION RESPONSE; codes other than the RFC's five: NB_EINVAL. */
NB_API void nb_ssn_write_negative(nb_wr_t *w, uint8_t code);
/* RETARGET SESSION RESPONSE; `addr` in host order. */
NB_API void nb_ssn_write_retarget(nb_wr_t *w, uint32_t addr, uint16_t port);
NB_API void nb_ssn_write_keepalive(nb_wr_t *w);
/* Any packet from its struct (the round-trip writer). A SESSION MESSAGE
 * writes `p->length` bytes from `p->data` (NULL only when length is 0). */
NB_API void nb_ssn_write(nb_wr_t *w, nb_ssn_mode_t mode,
                         const nb_ssn_packet_t *p);

/* ------------------------------------------------------------------------
 * The framer: a sans-I/O session stream splitter.
 *
 * Feed it the bytes of one direction of a TCP connection as they arrive;
 * each call returns ONE event and says how many input bytes it consumed:
 *
 *   CONTROL    a whole control packet (0x81..0x85), parsed into ev->packet
 *   MSG_BEGIN  a SESSION MESSAGE header: ev->length bytes follow
 *   MSG_DATA   ev->length bytes of USER_DATA at ev->data, borrowed from the
 *              input of this call (valid while the caller's buffer is)
 *   MSG_END    the message is complete
 *   NEED_MORE  all input was consumed and no event is pending
 *   ERROR      a bad header or control packet: ev->diag has the error, the
 *              stream offset and the reason. Errors are sticky: every later
 *              call returns the same error and consumes nothing.
 *
 * Call it in a loop, advancing the input by `*consumed`, until NEED_MORE or
 * ERROR (a MSG_END may be returned with no input left). Only a partial
 * header and a partial control packet (at most NB_SSN_CONTROL_MAX bytes)
 * are kept inside; message bodies are never buffered. Events are the same
 * however the stream is split into calls. */

typedef enum nb_ssn_event_kind {
  NB_SSN_EV_NEED_MORE = 0,
  NB_SSN_EV_CONTROL,
  NB_SSN_EV_MSG_BEGIN,
  NB_SSN_EV_MSG_DATA,
  NB_SSN_EV_MSG_END,
  NB_SSN_EV_ERROR
} nb_ssn_event_kind_t;

typedef struct nb_ssn_event {
  nb_ssn_event_kind_t kind;
  uint64_t offset;        /* stream offset: of the packet's header (CONTROL,
                             MSG_BEGIN, MSG_END) or of the data (MSG_DATA) */
  uint32_t length;        /* MSG_BEGIN/MSG_END: message LENGTH; MSG_DATA: chunk
                             length; CONTROL: trailer LENGTH */
  const uint8_t *data;    /* MSG_DATA only (borrowed) */
  nb_ssn_packet_t packet; /* CONTROL only */
  nb_diag_t diag;         /* ERROR only: offset is a stream offset */
} nb_ssn_event_t;

typedef struct nb_ssn_framer {
  nb_ssn_mode_t mode;
  uint32_t max_msg;    /* effective cap on SESSION MESSAGE LENGTH */
  uint32_t max_cfg;    /* as given to init (0: the mode's limit) */
  int state;           /* private */
  uint64_t offset;     /* stream bytes consumed so far */
  uint64_t pkt_offset; /* stream offset of the current packet */
  uint32_t msg_len;    /* current message LENGTH */
  uint32_t msg_left;   /* its bytes still to come */
  size_t pkt_len;      /* bytes of the current header/control packet */
  size_t pkt_want;     /* bytes that packet needs in all */
  nb_diag_t err;       /* the sticky error */
  uint8_t pkt[NB_SSN_CONTROL_MAX]; /* header and control packet bytes */
} nb_ssn_framer_t;

/* Start a framer in `mode`. `max_msg` caps SESSION MESSAGE LENGTH (0, or
 * anything above the mode's limit, means the mode's limit: 0x1FFFF RFC,
 * 0xFFFFFF direct); a longer message is an NB_ELIMIT error. */
NB_API nb_err_t nb_ssn_framer_init(nb_ssn_framer_t *f, nb_ssn_mode_t mode,
                                   uint32_t max_msg);

/* Switch the header format at a packet boundary (no header byte of the
 * next packet consumed and no event pending), e.g. after the MSG_END of an
 * SMB2 NEGOTIATE on 139. Elsewhere NB_ESTATE; an unknown mode NB_EINVAL. */
NB_API nb_err_t nb_ssn_framer_set_mode(nb_ssn_framer_t *f, nb_ssn_mode_t mode);

/* Consume up to `len` bytes of `data` (NULL allowed when len is 0) and
 * return one event in `*ev`. `*consumed` gets the bytes used. Returns
 * NB_OK, or the error of an ERROR event. */
NB_API nb_err_t nb_ssn_framer_feed(nb_ssn_framer_t *f, const uint8_t *data,
                                   size_t len, size_t *consumed,
                                   nb_ssn_event_t *ev);

/* The stream has ended (FIN). NB_OK at a packet boundary; NB_ETRUNCATED
 * with the stream offset and what was cut short when inside a packet;
 * NB_ESTATE when a MSG_END is still to be collected; the sticky error
 * after an ERROR. */
NB_API nb_err_t nb_ssn_framer_eof(const nb_ssn_framer_t *f, nb_diag_t *diag);

/* True when the framer is between packets (set_mode would succeed). */
NB_API bool nb_ssn_framer_at_boundary(const nb_ssn_framer_t *f);

#endif
