/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_ssn_packet: one session packet (RFC 1002 4.3).
 *
 * Input: byte 0 bit 0 chooses the framing mode (0 RFC, 1 direct); the rest
 * is the packet. Oracles:
 *  - parse -> write -> byte-identical, and parse again -> the same fields
 *    (a NEGATIVE RESPONSE with a code outside the RFC's five must instead
 *    be refused by the writer: parse tolerantly, emit conservatively);
 *  - a failed parse fills the diag inside the input with a field name;
 *  - differential: the framer fed the same bytes in one call agrees with
 *    nb_ssn_parse (same packet, same message length, same error, offset
 *    and field; "need more" exactly when the parse was truncated);
 *  - the header writer and reader agree on (type, length) taken from the
 *    input's first bytes;
 *  - names: nb_ssn_type_name() is known exactly for the six RFC types,
 *    nb_ssn_neg_text() exactly for the five RFC codes (nb_ssn_neg_known),
 *    and every error returned has a known nb_strerror()/nb_errname();
 *  - refusals (byte 0 bits 1-3 choose): the parsed packet with an unknown
 *    type, a control type in direct mode, a message over 0xFFFFFF bytes or
 *    without its data, or a bad framing mode, is refused with NB_EINVAL
 *    before anything is written;
 *  - the wire writer's mark/patch: the packet written as a reserved header,
 *    the trailer, then the header patched in (patch_u8/be16/be24) equals
 *    the input; out-of-range patches and 24-bit values set NB_EINVAL, and
 *    a failed writer changes nothing. */
#include <stdlib.h>
#include <string.h>

#include "nb/err.h"
#include "nb/ssn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int cond) {
  if (!cond) {
    abort();
  }
}

static int same_name(const nb_name_t *a, const nb_name_t *b) {
  return memcmp(a->bytes, b->bytes, NB_NAME_BYTES) == 0 &&
         a->scope_len == b->scope_len &&
         memcmp(a->scope, b->scope, a->scope_len) == 0;
}

static int same_packet(const nb_ssn_packet_t *a, const nb_ssn_packet_t *b) {
  if (a->type != b->type || a->flags != b->flags || a->length != b->length) {
    return 0;
  }
  switch (a->type) {
  case NB_SSN_SESSION_REQUEST:
    return same_name(&a->called, &b->called) &&
           same_name(&a->calling, &b->calling);
  case NB_SSN_NEGATIVE_SESSION_RESPONSE:
    return a->error_code == b->error_code;
  case NB_SSN_RETARGET_SESSION_RESPONSE:
    return a->retarget_addr == b->retarget_addr &&
           a->retarget_port == b->retarget_port;
  default:
    return 1;
  }
}

static void check_roundtrip(const uint8_t *buf, size_t used, nb_ssn_mode_t mode,
                            const nb_ssn_packet_t *p) {
  uint8_t *out = malloc(used);
  nb_wr_t w;
  size_t len = 0;
  require(out != NULL);
  nb_wr_init(&w, out, used);
  nb_ssn_write(&w, mode, p);
  if (p->type == NB_SSN_NEGATIVE_SESSION_RESPONSE &&
      !nb_ssn_neg_known(p->error_code)) {
    require(nb_wr_finish(&w, NULL) == NB_EINVAL);
    free(out);
    return;
  }
  require(nb_wr_finish(&w, &len) == NB_OK);
  require(len == used && memcmp(out, buf, used) == 0);
  nb_ssn_packet_t again;
  size_t used2 = 0;
  require(nb_ssn_parse(out, len, mode, &again, &used2, NULL) == NB_OK);
  require(used2 == used && same_packet(p, &again));
  free(out);
}

static void check_err_names(nb_err_t err) {
  require(strcmp(nb_strerror(err), "unknown error") != 0);
  require(strcmp(nb_errname(err), "EUNKNOWN") != 0);
}

static bool type_known(uint8_t type) {
  return type == NB_SSN_SESSION_MESSAGE ||
         (type >= NB_SSN_SESSION_REQUEST && type <= NB_SSN_SESSION_KEEP_ALIVE);
}

/* The type's name is known exactly for the RFC's types; a NEGATIVE
 * RESPONSE's text exactly for its five codes. */
static void check_names(const uint8_t *buf, size_t len, nb_err_t err,
                        const nb_ssn_packet_t *p) {
  if (len > 0) {
    const char *name = nb_ssn_type_name(buf[0]);
    require(name != NULL &&
            type_known(buf[0]) == (strcmp(name, "unknown") != 0));
  }
  if (err != NB_OK) {
    check_err_names(err);
    return;
  }
  require(type_known(p->type));
  if (p->type == NB_SSN_NEGATIVE_SESSION_RESPONSE) {
    const char *text = nb_ssn_neg_text(p->error_code);
    require(text != NULL && nb_ssn_neg_known(p->error_code) ==
                                (strcmp(text, "Unknown error code") != 0));
  }
}

/* The parsed packet with one field out of range (`sel`, value `v`):
 * nb_ssn_write() must refuse it before writing a byte. */
static void check_refusal(nb_ssn_mode_t mode, const nb_ssn_packet_t *parsed,
                          uint8_t sel, uint8_t v) {
  static const uint8_t control[] = {
      NB_SSN_SESSION_REQUEST, NB_SSN_POSITIVE_SESSION_RESPONSE,
      NB_SSN_NEGATIVE_SESSION_RESPONSE, NB_SSN_RETARGET_SESSION_RESPONSE};
  nb_ssn_packet_t p = *parsed;
  uint8_t out[8];
  nb_wr_t w;
  nb_wr_init(&w, out, sizeof out);
  switch (sel & 7) {
  case 1: /* a type no RFC packet has */
    p.type = (uint8_t)(v % 0x80 + 1);
    break;
  case 2: /* direct mode carries messages and keep-alives only */
    mode = NB_SSN_MODE_DIRECT;
    p.type = control[v % 4];
    break;
  case 3: /* over the 24-bit length: refused before `data` is read */
    p.type = NB_SSN_SESSION_MESSAGE;
    p.length = NB_SSN_DIRECT_MAX + 1u + v;
    break;
  case 4: /* USER_DATA that is not there */
    p.type = NB_SSN_SESSION_MESSAGE;
    p.data = NULL;
    p.length |= 1u;
    break;
  case 5: { /* a framing mode that does not exist */
    nb_ssn_header_t h;
    nb_rd_t r;
    nb_diag_t d = {NB_OK, 0, NULL};
    mode = (nb_ssn_mode_t)(2 + v % 8);
    nb_rd_init(&r, out, sizeof out);
    require(nb_ssn_parse_header(&r, mode, &h, &d) == NB_EINVAL);
    require(r.pos == 0 && d.err == NB_EINVAL && d.field != NULL);
    p.type = NB_SSN_SESSION_MESSAGE;
    break;
  }
  default:
    return;
  }
  nb_ssn_write(&w, mode, &p);
  require(nb_wr_finish(&w, NULL) == NB_EINVAL && w.len == 0);
  check_err_names(w.err);
}

/* nb_wr_mark + the trailer + nb_wr_patch_*: the header written after the
 * body, as a second writer of the same bytes. */
static void check_patch_writer(const uint8_t *buf, size_t used,
                               nb_ssn_mode_t mode, const nb_ssn_packet_t *p,
                               uint8_t v) {
  static uint8_t out[65536 + 8];
  nb_wr_t w;
  size_t len = 0;
  if (used > sizeof out) {
    return;
  }
  nb_wr_init(&w, out, used);
  size_t at = nb_wr_mark(&w, NB_SSN_HEADER_LEN);
  nb_wr_bytes(&w, buf + NB_SSN_HEADER_LEN, used - NB_SSN_HEADER_LEN);
  nb_wr_patch_u8(&w, at, p->type);
  if (mode == NB_SSN_MODE_RFC) {
    nb_wr_patch_u8(&w, at + 1, (uint8_t)(p->length >> 16 & NB_SSN_FLAG_E));
    nb_wr_patch_be16(&w, at + 2, (uint16_t)p->length);
  } else {
    nb_wr_patch_be24(&w, at + 1, p->length);
  }
  require(nb_wr_finish(&w, &len) == NB_OK && len == used);
  require(memcmp(out, buf, used) == 0);

  /* Refusals: the writer's error is NB_EINVAL, the bytes stay, and writes
   * and patches after it do nothing. */
  nb_wr_t bad = w;
  switch (v % 3) {
  case 0: /* a patch that runs past what was written */
    nb_wr_patch_be24(&bad, used - 2 + (size_t)(v >> 4) % 3, 0);
    break;
  case 1: /* 24-bit fields hold 24 bits */
    nb_wr_patch_be24(&bad, at + 1, 0x1000000u | v);
    break;
  default:
    nb_wr_be24(&bad, 0x1000000u << (v % 8));
    break;
  }
  require(nb_wr_finish(&bad, NULL) == NB_EINVAL && bad.len == used);
  nb_wr_u8(&bad, v);
  nb_wr_patch_u8(&bad, at, (uint8_t)~p->type);
  require(bad.len == used && bad.err == NB_EINVAL);
  require(memcmp(out, buf, used) == 0);
}

/* The framer, fed everything at once, must agree with nb_ssn_parse. */
static void check_framer(const uint8_t *buf, size_t len, nb_ssn_mode_t mode,
                         nb_err_t err, const nb_ssn_packet_t *p,
                         const nb_diag_t *d) {
  static nb_ssn_framer_t f;
  static nb_ssn_event_t ev;
  size_t used = 0;
  require(nb_ssn_framer_init(&f, mode, 0) == NB_OK);
  nb_err_t ferr = nb_ssn_framer_feed(&f, buf, len, &used, &ev);
  require(used <= len);
  if (err == NB_OK && p->type == NB_SSN_SESSION_MESSAGE) {
    require(ferr == NB_OK && ev.kind == NB_SSN_EV_MSG_BEGIN);
    require(ev.offset == 0 && ev.length == p->length && used == 4);
  } else if (err == NB_OK) {
    require(ferr == NB_OK && ev.kind == NB_SSN_EV_CONTROL);
    require(used == 4 + (size_t)p->length && same_packet(p, &ev.packet));
  } else if (err == NB_ETRUNCATED) {
    /* a header or control packet cut short, or a message's body */
    require(ferr == NB_OK);
    require(ev.kind == NB_SSN_EV_NEED_MORE || ev.kind == NB_SSN_EV_MSG_BEGIN);
  } else {
    require(ferr == err && ev.kind == NB_SSN_EV_ERROR);
    require(ev.diag.err == d->err && ev.diag.offset == d->offset);
    require(ev.diag.field == d->field);
  }
}

/* Header writer vs reader on (type, length) from the input. */
static void check_header_writer(const uint8_t *buf, size_t len,
                                nb_ssn_mode_t mode) {
  if (len < 4) {
    return;
  }
  uint32_t length = (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
  if (mode == NB_SSN_MODE_RFC) {
    length &= 0x3FFFFu; /* one bit too many, to hit the limit */
  }
  uint8_t out[4];
  nb_wr_t w;
  nb_wr_init(&w, out, sizeof out);
  nb_ssn_write_header(&w, mode, buf[0], length);
  if (nb_wr_finish(&w, NULL) != NB_OK) {
    return;
  }
  nb_rd_t r;
  nb_ssn_header_t h;
  nb_rd_init(&r, out, sizeof out);
  require(nb_ssn_parse_header(&r, mode, &h, NULL) == NB_OK);
  require(h.type == buf[0] && h.length == length && r.pos == 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) {
    return 0;
  }
  nb_ssn_mode_t mode = (data[0] & 1) ? NB_SSN_MODE_DIRECT : NB_SSN_MODE_RFC;
  const uint8_t *buf = data + 1;
  size_t len = size - 1;
  static nb_ssn_packet_t p;
  nb_diag_t d = {NB_OK, 0, NULL};
  size_t used = 0;
  nb_err_t err = nb_ssn_parse(buf, len, mode, &p, &used, &d);
  if (err == NB_OK) {
    require(used == 4 + (size_t)p.length && used <= len);
    require(p.type != NB_SSN_SESSION_MESSAGE || p.data == buf + 4);
    check_roundtrip(buf, used, mode, &p);
    check_refusal(mode, &p, (uint8_t)(data[0] >> 1), used > 4 ? buf[4] : 0);
    check_patch_writer(buf, used, mode, &p, data[0]);
  } else {
    require(d.err == err && d.field != NULL && d.offset <= len);
  }
  check_names(buf, len, err, &p);
  check_framer(buf, len, mode, err, &p, &d);
  check_header_writer(buf, len, mode);
  return 0;
}
