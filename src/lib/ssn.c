/* SPDX-License-Identifier: BSD-2-Clause */
/* Session service packets (RFC 1002 4.3): header, control packets and
 * session messages, parse and write.
 *
 * WARNING: parses untrusted network data. Every read goes through the
 * nb_rd_t cursor; names are decoded without pointers; nothing allocates.
 *
 * RFC 1002 4.3.1, the general format (RFC mode):
 *
 *                      1 1 1 1 1 1 1 1 1 1 2 2 2 2 2 2 2 2 2 2 3 3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      TYPE     |     FLAGS     |            LENGTH             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                                                               |
 * /               TRAILER (Packet Type Dependent)                 /
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *   FLAGS:  0   1   2   3   4   5   6   7   (RFC bit numbering: bit 7
 *         | 0 | 0 | 0 | 0 | 0 | 0 | 0 | E |  is the least significant)
 *
 * Direct mode ([MS-SMB2] 2.1): a zero byte, then a 24-bit length.
 *
 * Trailers: SESSION REQUEST (4.3.2) = CALLED NAME, CALLING NAME;
 * POSITIVE (4.3.3) = none; NEGATIVE (4.3.4) = ERROR_CODE (1 byte);
 * RETARGET (4.3.5) = RETARGET_IP_ADDRESS (4), PORT (2);
 * SESSION MESSAGE (4.3.6) = USER_DATA; KEEP ALIVE (4.3.7) = none. */
#include "nb/ssn.h"

#include <string.h>

const char *nb_ssn_type_name(uint8_t type) {
  switch (type) {
  case NB_SSN_SESSION_MESSAGE:
    return "SESSION MESSAGE";
  case NB_SSN_SESSION_REQUEST:
    return "SESSION REQUEST";
  case NB_SSN_POSITIVE_SESSION_RESPONSE:
    return "POSITIVE SESSION RESPONSE";
  case NB_SSN_NEGATIVE_SESSION_RESPONSE:
    return "NEGATIVE SESSION RESPONSE";
  case NB_SSN_RETARGET_SESSION_RESPONSE:
    return "RETARGET SESSION RESPONSE";
  case NB_SSN_SESSION_KEEP_ALIVE:
    return "SESSION KEEP ALIVE";
  default:
    return "unknown";
  }
}

/* RFC 1002 4.3.4 */
const char *nb_ssn_neg_text(uint8_t code) {
  switch (code) {
  case NB_SSN_NEG_NOT_LISTENING_CALLED:
    return "Not listening on called name";
  case NB_SSN_NEG_NOT_LISTENING_CALLING:
    return "Not listening for calling name";
  case NB_SSN_NEG_CALLED_NOT_PRESENT:
    return "Called name not present";
  case NB_SSN_NEG_INSUFFICIENT_RESOURCES:
    return "Called name present, but insufficient resources";
  case NB_SSN_NEG_UNSPECIFIED:
    return "Unspecified error";
  default:
    return "Unknown error code";
  }
}

bool nb_ssn_neg_known(uint8_t code) {
  return (code >= NB_SSN_NEG_NOT_LISTENING_CALLED &&
          code <= NB_SSN_NEG_INSUFFICIENT_RESOURCES) ||
         code == NB_SSN_NEG_UNSPECIFIED;
}

/* The LENGTH each type requires; `at` is the offset of the LENGTH field.
 * RFC 1002 4.3.2-4.3.7; RFC 1001 5.3 allows messages of 0..131071 bytes. */
static nb_err_t check_length(const nb_ssn_header_t *h, size_t at,
                             nb_diag_t *diag) {
  switch (h->type) {
  case NB_SSN_SESSION_MESSAGE:
    return NB_OK;
  case NB_SSN_SESSION_REQUEST:
    if (h->length < NB_SSN_REQUEST_MIN) {
      return nb_diag_set(diag, NB_EMALFORMED, at,
                         "SESSION REQUEST LENGTH below 68 (two names)");
    }
    if (h->length > NB_SSN_REQUEST_MAX) {
      return nb_diag_set(diag, NB_ELIMIT, at,
                         "SESSION REQUEST LENGTH over 510 (two names)");
    }
    return NB_OK;
  case NB_SSN_NEGATIVE_SESSION_RESPONSE:
    return h->length == 1 ? NB_OK
                          : nb_diag_set(diag, NB_EMALFORMED, at,
                                        "NEGATIVE SESSION RESPONSE LENGTH "
                                        "not 1");
  case NB_SSN_RETARGET_SESSION_RESPONSE:
    return h->length == NB_SSN_RETARGET_LEN
               ? NB_OK
               : nb_diag_set(diag, NB_EMALFORMED, at,
                             "RETARGET SESSION RESPONSE LENGTH not 6");
  case NB_SSN_POSITIVE_SESSION_RESPONSE:
  case NB_SSN_SESSION_KEEP_ALIVE:
    return h->length == 0 ? NB_OK
                          : nb_diag_set(diag, NB_EMALFORMED, at,
                                        h->type == NB_SSN_SESSION_KEEP_ALIVE
                                            ? "SESSION KEEP ALIVE LENGTH not 0"
                                            : "POSITIVE SESSION RESPONSE "
                                              "LENGTH not 0");
  default:
    return nb_diag_set(diag, NB_EMALFORMED, at, "TYPE");
  }
}

static bool rfc_type_known(uint8_t type) {
  return type == NB_SSN_SESSION_MESSAGE ||
         (type >= NB_SSN_SESSION_REQUEST && type <= NB_SSN_SESSION_KEEP_ALIVE);
}

/* RFC mode: TYPE, FLAGS (0000000E), LENGTH. RFC 1002 4.3.1 */
static nb_err_t header_rfc(const uint8_t *raw, size_t at, nb_ssn_header_t *h,
                           nb_diag_t *diag) {
  if (!rfc_type_known(raw[0])) {
    return nb_diag_set(diag, NB_EMALFORMED, at,
                       "TYPE (not a session packet type)");
  }
  if ((raw[1] & ~NB_SSN_FLAG_E) != 0) {
    return nb_diag_set(diag, NB_EMALFORMED, at + 1,
                       "FLAGS reserved bits (must be zero)");
  }
  h->type = raw[0];
  h->flags = raw[1];
  h->length =
      (uint32_t)(raw[1] & NB_SSN_FLAG_E) << 16 | (uint32_t)raw[2] << 8 | raw[3];
  return check_length(h, at + 2, diag);
}

/* Direct mode: 0x00 and a 24-bit length; the keep-alive 85 00 00 00 is
 * tolerated because clients send it on 445 ([MS-SMB2] 2.1 has only 0x00). */
static nb_err_t header_direct(const uint8_t *raw, size_t at, nb_ssn_header_t *h,
                              nb_diag_t *diag) {
  if (raw[0] != NB_SSN_SESSION_MESSAGE && raw[0] != NB_SSN_SESSION_KEEP_ALIVE) {
    return nb_diag_set(diag, NB_EMALFORMED, at,
                       "TYPE (direct mode: only 0x00 and keep-alive 0x85)");
  }
  h->type = raw[0];
  h->flags = 0;
  h->length = (uint32_t)raw[1] << 16 | (uint32_t)raw[2] << 8 | raw[3];
  return check_length(h, at + 1, diag);
}

nb_err_t nb_ssn_parse_header(nb_rd_t *r, nb_ssn_mode_t mode, nb_ssn_header_t *h,
                             nb_diag_t *diag) {
  nb_rd_t c = *r;
  const uint8_t *raw = NULL; /* borrowed: 4 bytes of r->msg */
  nb_ssn_header_t tmp = {0, 0, 0};
  nb_err_t err;
  if (nb_rd_bytes(&c, NB_SSN_HEADER_LEN, &raw) != NB_OK) {
    return nb_diag_set(diag, NB_ETRUNCATED, r->end, "session packet header");
  }
  if (mode == NB_SSN_MODE_RFC) {
    err = header_rfc(raw, r->pos, &tmp, diag);
  } else if (mode == NB_SSN_MODE_DIRECT) {
    err = header_direct(raw, r->pos, &tmp, diag);
  } else {
    return nb_diag_set(diag, NB_EINVAL, r->pos, "framing mode");
  }
  if (err == NB_OK) {
    *h = tmp;
    *r = c;
  }
  return err;
}

/* One name of a SESSION REQUEST; a name that runs past LENGTH is
 * malformed, not truncated: LENGTH said where the packet ends. */
static nb_err_t parse_name(nb_rd_t *t, nb_name_t *out, const char *past,
                           nb_diag_t *diag) {
  nb_diag_t d = {NB_OK, 0, NULL};
  nb_err_t err = nb_name_decode(t, out, NB_NAME_F_NO_POINTERS, &d);
  if (err == NB_ETRUNCATED) {
    return nb_diag_set(diag, NB_EMALFORMED, d.offset, past);
  }
  if (err != NB_OK) {
    return nb_diag_set(diag, err, d.offset, d.field);
  }
  return NB_OK;
}

/* RFC 1002 4.3.2: CALLED NAME, CALLING NAME, second-level encoded, and
 * no label string pointers (4.1). LENGTH must be exactly the two names. */
static nb_err_t parse_request(nb_rd_t *t, nb_ssn_packet_t *p, nb_diag_t *diag) {
  nb_err_t err =
      parse_name(t, &p->called, "CALLED NAME runs past LENGTH", diag);
  if (err == NB_OK) {
    err = parse_name(t, &p->calling, "CALLING NAME runs past LENGTH", diag);
  }
  if (err == NB_OK && nb_rd_left(t) != 0) {
    err = nb_diag_set(diag, NB_EMALFORMED, t->pos,
                      "bytes after CALLING NAME (LENGTH exceeds the names)");
  }
  return err;
}

/* The trailer `t` (exactly LENGTH bytes) of a packet of `h->type`. The
 * LENGTH rules were checked with the header. */
static nb_err_t parse_trailer(nb_rd_t *t, const nb_ssn_header_t *h,
                              nb_ssn_packet_t *p, nb_diag_t *diag) {
  const uint8_t *data = NULL;
  switch (h->type) {
  case NB_SSN_SESSION_REQUEST:
    return parse_request(t, p, diag);
  case NB_SSN_NEGATIVE_SESSION_RESPONSE: /* RFC 1002 4.3.4 */
    return nb_rd_u8(t, &p->error_code);
  case NB_SSN_RETARGET_SESSION_RESPONSE: /* RFC 1002 4.3.5 */
    (void)nb_rd_be32(t, &p->retarget_addr);
    return nb_rd_be16(t, &p->retarget_port);
  case NB_SSN_SESSION_MESSAGE: /* RFC 1002 4.3.6 */
    (void)nb_rd_bytes(t, h->length, &data);
    p->data = data;
    return NB_OK;
  default: /* POSITIVE, KEEP ALIVE: LENGTH 0 */
    return NB_OK;
  }
}

nb_err_t nb_ssn_parse(const uint8_t *buf, size_t len, nb_ssn_mode_t mode,
                      nb_ssn_packet_t *out, size_t *used, nb_diag_t *diag) {
  nb_rd_t r;
  nb_rd_t t;
  nb_ssn_header_t h;
  nb_ssn_packet_t tmp;
  nb_rd_init(&r, buf, len);
  nb_err_t err = nb_ssn_parse_header(&r, mode, &h, diag);
  if (err != NB_OK) {
    return err;
  }
  if (nb_rd_sub(&r, h.length, &t) != NB_OK) {
    return nb_diag_set(diag, NB_ETRUNCATED, len,
                       "session packet trailer (LENGTH past the end)");
  }
  memset(&tmp, 0, sizeof tmp);
  tmp.type = h.type;
  tmp.flags = h.flags;
  tmp.length = h.length;
  err = parse_trailer(&t, &h, &tmp, diag);
  if (err != NB_OK) {
    return err;
  }
  *out = tmp;
  if (used != NULL) {
    *used = r.pos;
  }
  return NB_OK;
}

/* Would the parser accept this header? (Emit conservatively.) */
static bool header_writable(nb_ssn_mode_t mode, uint8_t type, uint32_t length) {
  nb_ssn_header_t h = {type, 0, length};
  if (mode == NB_SSN_MODE_RFC) {
    return rfc_type_known(type) && length <= NB_SSN_RFC_MAX &&
           check_length(&h, 0, NULL) == NB_OK;
  }
  if (mode == NB_SSN_MODE_DIRECT) {
    return (type == NB_SSN_SESSION_MESSAGE ||
            type == NB_SSN_SESSION_KEEP_ALIVE) &&
           length <= NB_SSN_DIRECT_MAX && check_length(&h, 0, NULL) == NB_OK;
  }
  return false;
}

void nb_ssn_write_header(nb_wr_t *w, nb_ssn_mode_t mode, uint8_t type,
                         uint32_t length) {
  if (!header_writable(mode, type, length)) {
    nb_wr_fail(w, NB_EINVAL);
    return;
  }
  nb_wr_u8(w, type);
  if (mode == NB_SSN_MODE_RFC) {
    /* RFC 1002 4.3.1: E, the low FLAGS bit, is LENGTH's 17th bit */
    nb_wr_u8(w, (uint8_t)((length >> 16) & NB_SSN_FLAG_E));
    nb_wr_be16(w, (uint16_t)(length & 0xFFFFu));
  } else {
    nb_wr_be24(w, length);
  }
}

void nb_ssn_write_msg_header(nb_wr_t *w, nb_ssn_mode_t mode, uint32_t length) {
  nb_ssn_write_header(w, mode, NB_SSN_SESSION_MESSAGE, length);
}

void nb_ssn_write_message(nb_wr_t *w, nb_ssn_mode_t mode, const void *data,
                          size_t len) {
  if (len > NB_SSN_DIRECT_MAX || (data == NULL && len > 0)) {
    nb_wr_fail(w, NB_EINVAL);
    return;
  }
  nb_ssn_write_msg_header(w, mode, (uint32_t)len);
  nb_wr_bytes(w, data, len);
}

void nb_ssn_write_request(nb_wr_t *w, const nb_name_t *called,
                          const nb_name_t *calling) {
  size_t len = nb_name_wire_len(called) + nb_name_wire_len(calling);
  if (len > NB_SSN_REQUEST_MAX) {
    nb_wr_fail(w, NB_EINVAL); /* only with a scope nb_name_* would refuse */
    return;
  }
  nb_ssn_write_header(w, NB_SSN_MODE_RFC, NB_SSN_SESSION_REQUEST,
                      (uint32_t)len);
  nb_name_encode(w, called);
  nb_name_encode(w, calling);
}

void nb_ssn_write_positive(nb_wr_t *w) {
  nb_ssn_write_header(w, NB_SSN_MODE_RFC, NB_SSN_POSITIVE_SESSION_RESPONSE, 0);
}

void nb_ssn_write_negative(nb_wr_t *w, uint8_t code) {
  if (!nb_ssn_neg_known(code)) {
    nb_wr_fail(w, NB_EINVAL);
    return;
  }
  nb_ssn_write_header(w, NB_SSN_MODE_RFC, NB_SSN_NEGATIVE_SESSION_RESPONSE, 1);
  nb_wr_u8(w, code);
}

void nb_ssn_write_retarget(nb_wr_t *w, uint32_t addr, uint16_t port) {
  nb_ssn_write_header(w, NB_SSN_MODE_RFC, NB_SSN_RETARGET_SESSION_RESPONSE,
                      NB_SSN_RETARGET_LEN);
  nb_wr_be32(w, addr);
  nb_wr_be16(w, port);
}

void nb_ssn_write_keepalive(nb_wr_t *w) {
  nb_ssn_write_header(w, NB_SSN_MODE_RFC, NB_SSN_SESSION_KEEP_ALIVE, 0);
}

void nb_ssn_write(nb_wr_t *w, nb_ssn_mode_t mode, const nb_ssn_packet_t *p) {
  if (mode == NB_SSN_MODE_DIRECT && p->type != NB_SSN_SESSION_MESSAGE &&
      p->type != NB_SSN_SESSION_KEEP_ALIVE) {
    nb_wr_fail(w, NB_EINVAL);
    return;
  }
  switch (p->type) {
  case NB_SSN_SESSION_MESSAGE:
    nb_ssn_write_message(w, mode, p->data, p->length);
    return;
  case NB_SSN_SESSION_REQUEST:
    nb_ssn_write_request(w, &p->called, &p->calling);
    return;
  case NB_SSN_POSITIVE_SESSION_RESPONSE:
    nb_ssn_write_positive(w);
    return;
  case NB_SSN_NEGATIVE_SESSION_RESPONSE:
    nb_ssn_write_negative(w, p->error_code);
    return;
  case NB_SSN_RETARGET_SESSION_RESPONSE:
    nb_ssn_write_retarget(w, p->retarget_addr, p->retarget_port);
    return;
  case NB_SSN_SESSION_KEEP_ALIVE:
    nb_ssn_write_keepalive(w);
    return;
  default:
    nb_wr_fail(w, NB_EINVAL);
  }
}
