/* SPDX-License-Identifier: BSD-2-Clause */
/* Datagram-service packets (RFC 1002 4.4): parse and write.
 *
 * WARNING: nb_dgm_parse() parses untrusted network data. All reads go
 * through the nb_rd_t cursor; the data section is a hard window of
 * DGM_LENGTH - PACKET_OFFSET bytes; names are decoded without label
 * pointers (RFC 1002 4.1). No heap, no recursion. */
#include "nb/dgm.h"

#include <string.h>

/* Offsets of the header fields (RFC 1002 4.4.1). */
#define OFF_FLAGS 1
#define OFF_DGM_LENGTH 10
#define OFF_PACKET_OFFSET 12

static const char *const rule_ids[] = {
#define NB_DGM_RULE_ID_(name, id, rfc, text) id,
    NB_DGM_RULE_MAP(NB_DGM_RULE_ID_)
#undef NB_DGM_RULE_ID_
};
static const char *const rule_rfcs[] = {
#define NB_DGM_RULE_RFC_(name, id, rfc, text) rfc,
    NB_DGM_RULE_MAP(NB_DGM_RULE_RFC_)
#undef NB_DGM_RULE_RFC_
};
static const char *const rule_texts[] = {
#define NB_DGM_RULE_TEXT_(name, id, rfc, text) text,
    NB_DGM_RULE_MAP(NB_DGM_RULE_TEXT_)
#undef NB_DGM_RULE_TEXT_
};

static bool rule_ok(nb_dgm_rule_t rule) {
  return (unsigned)rule < (unsigned)NB_DGM_R_COUNT_;
}

const char *nb_dgm_rule_id(nb_dgm_rule_t rule) {
  return rule_ok(rule) ? rule_ids[rule] : "unknown";
}

const char *nb_dgm_rule_rfc(nb_dgm_rule_t rule) {
  return rule_ok(rule) ? rule_rfcs[rule] : "unknown";
}

const char *nb_dgm_rule_text(nb_dgm_rule_t rule) {
  return rule_ok(rule) ? rule_texts[rule] : "unknown";
}

const char *nb_dgm_type_name(uint8_t msg_type) {
  static const char *const names[] = {
      "DIRECT_UNIQUE DATAGRAM",
      "DIRECT_GROUP DATAGRAM",
      "BROADCAST DATAGRAM",
      "DATAGRAM ERROR",
      "DATAGRAM QUERY REQUEST",
      "DATAGRAM POSITIVE QUERY RESPONSE",
      "DATAGRAM NEGATIVE QUERY RESPONSE",
  };
  if (msg_type < NB_DGM_DIRECT_UNIQUE ||
      msg_type > NB_DGM_NEGATIVE_QUERY_RESPONSE) {
    return "unknown";
  }
  return names[msg_type - NB_DGM_DIRECT_UNIQUE];
}

const char *nb_dgm_snt_name(unsigned snt) {
  static const char *const names[] = {"B", "P", "M", "NBDD"};
  return names[snt & 3u];
}

const char *nb_dgm_error_name(uint8_t code) {
  switch (code) {
  case NB_DGM_ERR_DEST_NAME_NOT_PRESENT:
    return "DESTINATION NAME NOT PRESENT";
  case NB_DGM_ERR_INVALID_SOURCE_NAME:
    return "INVALID SOURCE NAME FORMAT";
  case NB_DGM_ERR_INVALID_DEST_NAME:
    return "INVALID DESTINATION NAME FORMAT";
  default:
    return "unknown";
  }
}

bool nb_dgm_is_service(uint8_t msg_type) {
  return msg_type >= NB_DGM_DIRECT_UNIQUE && msg_type <= NB_DGM_BROADCAST;
}

static bool is_query(uint8_t msg_type) {
  return msg_type >= NB_DGM_QUERY_REQUEST &&
         msg_type <= NB_DGM_NEGATIVE_QUERY_RESPONSE;
}

bool nb_dgm_has_names(const nb_dgm_msg_t *m) {
  return nb_dgm_is_service(m->msg_type) && m->packet_offset == 0;
}

size_t nb_dgm_names_len(const nb_dgm_msg_t *m) {
  return nb_name_wire_len(&m->source_name) +
         nb_name_wire_len(&m->destination_name);
}

bool nb_dgm_is_whole(const nb_dgm_msg_t *m) {
  return nb_dgm_has_names(m) &&
         nb_dgm_names_len(m) + m->data_len == m->dgm_length;
}

static void add_finding(nb_dgm_msg_t *m, nb_dgm_rule_t rule, size_t offset) {
  if (m->n_findings >= NB_DGM_FINDINGS_MAX) {
    m->findings_overflow = true;
    return;
  }
  m->findings[m->n_findings].rule = rule;
  m->findings[m->n_findings].offset = offset;
  m->n_findings++;
}

/* Checked reads that name the field on failure. */
static nb_err_t rd8(nb_rd_t *r, uint8_t *v, const char *field,
                    nb_diag_t *diag) {
  if (nb_rd_u8(r, v) != NB_OK) {
    return nb_diag_set(diag, NB_ETRUNCATED, r->pos, field);
  }
  return NB_OK;
}

static nb_err_t rd16(nb_rd_t *r, uint16_t *v, const char *field,
                     nb_diag_t *diag) {
  if (nb_rd_be16(r, v) != NB_OK) {
    return nb_diag_set(diag, NB_ETRUNCATED, r->pos, field);
  }
  return NB_OK;
}

/*  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   MSG_TYPE    |     FLAGS     |           DGM_ID              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           SOURCE_IP                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          SOURCE_PORT          |   (per MSG_TYPE)              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * RFC 1002 4.4.1: the ten octets every datagram-service packet starts
 * with. An unknown MSG_TYPE is fatal: nothing after it can be read. */
static nb_err_t parse_common(nb_rd_t *r, nb_dgm_msg_t *m, nb_diag_t *diag) {
  nb_err_t err = rd8(r, &m->msg_type, "MSG_TYPE", diag);
  if (err != NB_OK) {
    return err;
  }
  if (!nb_dgm_is_service(m->msg_type) && m->msg_type != NB_DGM_ERROR &&
      !is_query(m->msg_type)) {
    return nb_diag_set(diag, NB_EMALFORMED, 0, "MSG_TYPE (unknown)");
  }
  if ((err = rd8(r, &m->flags, "FLAGS", diag)) != NB_OK ||
      (err = rd16(r, &m->dgm_id, "DGM_ID", diag)) != NB_OK) {
    return err;
  }
  if (nb_rd_be32(r, &m->source_ip) != NB_OK) {
    return nb_diag_set(diag, NB_ETRUNCATED, r->pos, "SOURCE_IP");
  }
  err = rd16(r, &m->source_port, "SOURCE_PORT", diag);
  if (err == NB_OK && (m->flags & NB_DGM_FLAG_RESERVED) != 0) {
    add_finding(m, NB_DGM_R_RESERVED_FLAGS, OFF_FLAGS); /* RFC 1002 4.4.1 */
  }
  return err;
}

/* True when the scopes differ (compared like nb_name_equal: ASCII case
 * folded). */
static bool scopes_differ(const nb_name_t *a, const nb_name_t *b) {
  if (a->scope_len != b->scope_len) {
    return true;
  }
  for (size_t i = 0; i < a->scope_len; i++) {
    unsigned x = (unsigned char)a->scope[i];
    unsigned y = (unsigned char)b->scope[i];
    x = (x >= 'a' && x <= 'z') ? x - 32u : x;
    y = (y >= 'a' && y <= 'z') ? y - 32u : y;
    if (x != y) {
      return true;
    }
  }
  return false;
}

/* The first fragment's data section: SOURCE_NAME, DESTINATION_NAME, then
 * USER_DATA (RFC 1002 4.4.2), all inside the window `win`. */
static nb_err_t parse_names(nb_rd_t *win, nb_dgm_msg_t *m, nb_diag_t *diag) {
  nb_err_t err =
      nb_name_decode(win, &m->source_name, NB_NAME_F_NO_POINTERS, diag);
  if (err != NB_OK) {
    return err;
  }
  size_t dst_at = win->pos;
  err = nb_name_decode(win, &m->destination_name, NB_NAME_F_NO_POINTERS, diag);
  if (err != NB_OK) {
    return err;
  }
  size_t names = win->pos - NB_DGM_HEADER_LEN; /* <= DGM_LENGTH */
  if ((size_t)m->dgm_length - names > NB_DGM_USER_DATA_MAX) {
    add_finding(m, NB_DGM_R_USER_DATA_LONG, OFF_DGM_LENGTH); /* 1001 17.1.2 */
  }
  if (m->msg_type == NB_DGM_BROADCAST && m->destination_name.bytes[0] != '*') {
    add_finding(m, NB_DGM_R_BCAST_DEST, dst_at); /* RFC 1002 5.3.1 */
  }
  if (scopes_differ(&m->source_name, &m->destination_name)) {
    add_finding(m, NB_DGM_R_SCOPE_MISMATCH, dst_at); /* RFC 1002 5.3.1 */
  }
  return NB_OK;
}

/* DGM_LENGTH and PACKET_OFFSET against the bytes present (RFC 1001
 * 17.1.2): the fragment holds data-section bytes [PACKET_OFFSET, ...) of
 * a DGM_LENGTH-byte section; the last one (MORE clear) reaches its end.
 * Sets `*take` to the bytes of this fragment inside DGM_LENGTH. */
static nb_err_t check_lengths(const nb_rd_t *r, nb_dgm_msg_t *m, size_t *take,
                              nb_diag_t *diag) {
  if (m->packet_offset > m->dgm_length) {
    return nb_diag_set(diag, NB_EMALFORMED, OFF_PACKET_OFFSET,
                       "PACKET_OFFSET (past DGM_LENGTH)");
  }
  size_t remaining = (size_t)(m->dgm_length - m->packet_offset);
  size_t avail = nb_rd_left(r);
  bool more = (m->flags & NB_DGM_FLAG_M) != 0;
  *take = avail;
  if (avail > remaining) {
    add_finding(m, NB_DGM_R_TRAILING, r->pos + remaining);
    *take = remaining;
  } else if (avail < remaining && !more) {
    return nb_diag_set(diag, NB_ETRUNCATED, r->end,
                       "data section (shorter than DGM_LENGTH)");
  }
  if (more && *take == remaining) {
    add_finding(m, NB_DGM_R_MORE_AT_END, OFF_FLAGS);
  }
  return NB_OK;
}

/* RFC 1002 4.4.2: DIRECT_UNIQUE, DIRECT_GROUP and BROADCAST.
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          SOURCE_PORT          |          DGM_LENGTH           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         PACKET_OFFSET         |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
 * /   SOURCE_NAME, DESTINATION_NAME (first fragment), USER_DATA   /
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ */
static nb_err_t parse_service(nb_rd_t *r, nb_dgm_msg_t *m, nb_diag_t *diag) {
  nb_err_t err;
  size_t take = 0;
  nb_rd_t win;
  if ((err = rd16(r, &m->dgm_length, "DGM_LENGTH", diag)) != NB_OK ||
      (err = rd16(r, &m->packet_offset, "PACKET_OFFSET", diag)) != NB_OK ||
      (err = check_lengths(r, m, &take, diag)) != NB_OK) {
    return err;
  }
  (void)nb_rd_sub(r, take, &win);     /* take <= nb_rd_left(r) */
  (void)nb_rd_skip(r, nb_rd_left(r)); /* trailing bytes: already a finding */
  bool first = (m->flags & NB_DGM_FLAG_F) != 0;
  if (first != (m->packet_offset == 0)) {
    add_finding(m, NB_DGM_R_FIRST_FLAG, OFF_FLAGS); /* RFC 1001 17.1.2 */
  }
  if (m->packet_offset == 0) {
    err = parse_names(&win, m, diag);
  } else if (take == 0) {
    add_finding(m, NB_DGM_R_EMPTY_FRAGMENT, NB_DGM_HEADER_LEN);
  }
  m->data = win.msg + win.pos;
  m->data_len = nb_rd_left(&win);
  return err;
}

/* RFC 1002 4.4.3: DATAGRAM ERROR.
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          SOURCE_PORT          |  ERROR_CODE   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ */
static nb_err_t parse_error(nb_rd_t *r, nb_dgm_msg_t *m, nb_diag_t *diag) {
  size_t at = r->pos;
  nb_err_t err = rd8(r, &m->error_code, "ERROR_CODE", diag);
  if (err != NB_OK) {
    return err;
  }
  if (m->error_code < NB_DGM_ERR_DEST_NAME_NOT_PRESENT ||
      m->error_code > NB_DGM_ERR_INVALID_DEST_NAME) {
    add_finding(m, NB_DGM_R_ERROR_CODE, at);
  }
  if ((m->flags & (NB_DGM_FLAG_F | NB_DGM_FLAG_M)) != 0) {
    add_finding(m, NB_DGM_R_ERROR_FLAGS, OFF_FLAGS); /* RFC 1002 5.3.3 */
  }
  return NB_OK;
}

/* RFC 1002 4.4.4 and 4.4.5: QUERY REQUEST, POSITIVE / NEGATIVE QUERY
 * RESPONSE.
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          SOURCE_PORT          |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * /                       DESTINATION_NAME                        /
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ */
static nb_err_t parse_query(nb_rd_t *r, nb_dgm_msg_t *m, nb_diag_t *diag) {
  return nb_name_decode(r, &m->destination_name, NB_NAME_F_NO_POINTERS, diag);
}

nb_err_t nb_dgm_parse(const uint8_t *buf, size_t len, nb_dgm_msg_t *out,
                      nb_diag_t *diag) {
  nb_rd_t r;
  nb_rd_init(&r, buf, len);
  memset(out, 0, sizeof *out);
  nb_err_t err = parse_common(&r, out, diag);
  if (err != NB_OK) {
    return err;
  }
  if (nb_dgm_is_service(out->msg_type)) {
    err = parse_service(&r, out, diag);
  } else if (out->msg_type == NB_DGM_ERROR) {
    err = parse_error(&r, out, diag);
  } else {
    err = parse_query(&r, out, diag);
  }
  if (err == NB_OK && nb_rd_left(&r) > 0) {
    add_finding(out, NB_DGM_R_TRAILING, r.pos); /* RFC 1002 4.4 */
  }
  return err;
}

/* The data section of a 0x10-0x12 packet. */
static void write_service(nb_wr_t *w, const nb_dgm_msg_t *m) {
  nb_wr_be16(w, m->dgm_length);
  nb_wr_be16(w, m->packet_offset);
  if (nb_dgm_has_names(m)) {
    nb_name_encode(w, &m->source_name);
    nb_name_encode(w, &m->destination_name);
  }
  if (m->data_len > 0xFFFFu || (m->data == NULL && m->data_len > 0)) {
    nb_wr_fail(w, NB_EINVAL);
    return;
  }
  nb_wr_bytes(w, m->data, m->data_len);
}

void nb_dgm_write(nb_wr_t *w, const nb_dgm_msg_t *m) {
  nb_wr_u8(w, m->msg_type);
  nb_wr_u8(w, m->flags);
  nb_wr_be16(w, m->dgm_id);
  nb_wr_be32(w, m->source_ip);
  nb_wr_be16(w, m->source_port);
  if (nb_dgm_is_service(m->msg_type)) {
    write_service(w, m);
  } else if (m->msg_type == NB_DGM_ERROR) {
    nb_wr_u8(w, m->error_code);
  } else if (is_query(m->msg_type)) {
    nb_name_encode(w, &m->destination_name);
  } else {
    nb_wr_fail(w, NB_EINVAL);
  }
}

void nb_dgm_init(nb_dgm_msg_t *m, uint8_t msg_type, uint16_t dgm_id,
                 uint32_t source_ip, uint16_t source_port) {
  memset(m, 0, sizeof *m);
  m->msg_type = msg_type;
  m->flags = nb_dgm_is_service(msg_type) ? NB_DGM_FLAG_F : 0;
  m->dgm_id = dgm_id;
  m->source_ip = source_ip;
  m->source_port = source_port;
}

nb_err_t nb_dgm_set_datagram(nb_dgm_msg_t *m, const nb_name_t *src,
                             const nb_name_t *dst, const uint8_t *data,
                             size_t len) {
  if (!nb_dgm_is_service(m->msg_type) || (data == NULL && len > 0)) {
    return NB_EINVAL;
  }
  if (len > NB_DGM_USER_DATA_MAX) {
    return NB_ELIMIT; /* RFC 1001 17.1.2 */
  }
  m->source_name = *src;
  m->destination_name = *dst;
  m->data = data;
  m->data_len = len;
  m->packet_offset = 0;
  m->flags = (uint8_t)((m->flags & ~NB_DGM_FLAG_M) | NB_DGM_FLAG_F);
  m->dgm_length = (uint16_t)(nb_dgm_names_len(m) + len); /* <= 1022 */
  return NB_OK;
}
