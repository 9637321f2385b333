/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_dgm_packet: the datagram-service codec and what rides in it.
 *
 * Input: one UDP payload as received on port 138. Oracles:
 *  - a failed parse reports an error, a field and an offset inside the
 *    input;
 *  - parse -> write -> parse gives the same model (header, names, data
 *    bytes, findings other than trailing bytes), and the writer's output
 *    equals the input exactly when the parser found no trailing bytes
 *    (the decoder accepts canonical bytes only);
 *  - a whole datagram split by the fragmenting writer, written, parsed
 *    and fed to the reassembler in order comes back identical;
 *  - the SMB mailslot and browser parsers (on the datagram's user data and
 *    on the raw input) round-trip through their writers;
 *  - names: the MSG_TYPE name is known exactly for 0x10-0x16, the SNT and
 *    finding rule texts are known, an ERROR_CODE has a name exactly when
 *    it draws no error-code finding; every error has known texts;
 *  - refusals (DGM_ID bits 0-1 choose): an unknown MSG_TYPE, USER_DATA
 *    over 0xFFFF bytes or not there are NB_EINVAL; or the datagram rebuilt
 *    with nb_dgm_set_datagram() (NB_EINVAL for a non-service type,
 *    NB_ELIMIT over 512 bytes) writes and parses back whole;
 *  - every browser message also goes through nb_browse_write_mailslot()
 *    (its mailslot transaction parses back to the same bytes), its
 *    strings through the AnnouncementRequest and HostAnnouncement
 *    builders; an unknown opcode, a list or string that is not there, a
 *    ServerName without NUL or a string with one are NB_EINVAL, and so are
 *    mailslots without a name or with too much data. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nb/dgm.h"
#include "nb/err.h"
#include "nb/smb_browse.h"

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

static int same_data(const uint8_t *a, size_t alen, const uint8_t *b,
                     size_t blen) {
  return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* Same model, ignoring where `data` points and TRAILING findings. */
static void require_same_msg(const nb_dgm_msg_t *a, const nb_dgm_msg_t *b) {
  require(a->msg_type == b->msg_type && a->flags == b->flags);
  require(a->dgm_id == b->dgm_id && a->source_ip == b->source_ip);
  require(a->source_port == b->source_port);
  require(a->dgm_length == b->dgm_length);
  require(a->packet_offset == b->packet_offset);
  require(a->error_code == b->error_code);
  require(same_name(&a->source_name, &b->source_name));
  require(same_name(&a->destination_name, &b->destination_name));
  require(same_data(a->data, a->data_len, b->data, b->data_len));
  size_t j = 0;
  for (size_t i = 0; i < a->n_findings; i++) {
    if (a->findings[i].rule == NB_DGM_R_TRAILING) {
      continue;
    }
    require(j < b->n_findings && b->findings[j].rule == a->findings[i].rule);
    j++;
  }
  require(j == b->n_findings);
}

static int has_trailing(const nb_dgm_msg_t *m) {
  for (size_t i = 0; i < m->n_findings; i++) {
    if (m->findings[i].rule == NB_DGM_R_TRAILING) {
      return 1;
    }
  }
  return 0;
}

#define CANARY 0xA5

static void check_err_names(nb_err_t err) {
  require(strcmp(nb_strerror(err), "unknown error") != 0);
  require(strcmp(nb_errname(err), "EUNKNOWN") != 0);
}

static int known(const char *name) { return strcmp(name, "unknown") != 0; }

static void check_dgm_names(const nb_dgm_msg_t *m) {
  require(known(nb_dgm_type_name(m->msg_type)));
  require(nb_dgm_snt_name(NB_DGM_SNT(m->flags))[0] ==
          "BPMN"[NB_DGM_SNT(m->flags)]);
  if (m->msg_type == NB_DGM_ERROR) {
    int finding = 0;
    for (size_t i = 0; i < m->n_findings; i++) {
      finding |= m->findings[i].rule == NB_DGM_R_ERROR_CODE;
    }
    require(known(nb_dgm_error_name(m->error_code)) == !finding);
  }
  for (size_t i = 0; i < m->n_findings; i++) {
    nb_dgm_rule_t r = m->findings[i].rule;
    require(known(nb_dgm_rule_id(r)) && known(nb_dgm_rule_text(r)));
    require(strncmp(nb_dgm_rule_rfc(r), "RFC 100", 7) == 0);
  }
}

/* nb_dgm_set_datagram() on the parsed names and data: refused as the
 * header says, or a whole datagram that writes and parses back. */
static void check_set_datagram(const nb_dgm_msg_t *m) {
  static uint8_t out[NB_DGM_HEADER_LEN + NB_DGM_DATA_MAX];
  nb_dgm_msg_t d, back;
  nb_wr_t w;
  size_t len = 0;
  nb_dgm_init(&d, m->msg_type, m->dgm_id, m->source_ip, m->source_port);
  nb_err_t err = nb_dgm_set_datagram(&d, &m->source_name, &m->destination_name,
                                     m->data, m->data_len);
  if (!nb_dgm_is_service(m->msg_type)) {
    require(err == NB_EINVAL);
    return;
  }
  if (m->data_len > NB_DGM_USER_DATA_MAX) {
    require(err == NB_ELIMIT);
    return;
  }
  require(err == NB_OK && nb_dgm_is_whole(&d) && d.flags == NB_DGM_FLAG_F);
  nb_wr_init(&w, out, sizeof out);
  nb_dgm_write(&w, &d);
  require(nb_wr_finish(&w, &len) == NB_OK);
  require(nb_dgm_parse(out, len, &back, NULL) == NB_OK);
  require(nb_dgm_is_whole(&back) && back.dgm_length == d.dgm_length);
  require(same_name(&back.source_name, &m->source_name));
  require(same_name(&back.destination_name, &m->destination_name));
  require(same_data(back.data, back.data_len, m->data, m->data_len));
}

/* The parsed model with one field broken (DGM_ID bits 0-1). */
static void check_dgm_refusal(const nb_dgm_msg_t *parsed) {
  static uint8_t out[70000];
  nb_dgm_msg_t m = *parsed;
  unsigned v = parsed->dgm_id >> 2;
  nb_wr_t w;
  size_t cap = NB_DGM_HEADER_LEN + nb_dgm_names_len(&m) + 16;
  switch (parsed->dgm_id & 3) {
  case 0: /* below 0x10 or above 0x16 */
    m.msg_type = (uint8_t)((v & 1) ? v % 0x10 : 0x17 + v % 0xE9);
    break;
  case 1: /* more USER_DATA than DGM_LENGTH can say */
    m.msg_type = (uint8_t)(NB_DGM_DIRECT_UNIQUE + v % 3);
    m.data_len = 0x10000u + v;
    break;
  case 2: /* USER_DATA that is not there */
    m.msg_type = (uint8_t)(NB_DGM_DIRECT_UNIQUE + v % 3);
    m.data = NULL;
    m.data_len |= 1u;
    break;
  default:
    check_set_datagram(parsed);
    return;
  }
  memset(out, CANARY, cap + 16);
  nb_wr_init(&w, out, cap);
  nb_dgm_write(&w, &m);
  require(nb_wr_finish(&w, NULL) == NB_EINVAL && w.len <= cap);
  check_err_names(w.err);
  for (size_t i = cap; i < cap + 16; i++) {
    require(out[i] == CANARY);
  }
}

/* Split, write, parse, reassemble in order: the same datagram. */
static void check_split(const nb_dgm_msg_t *m, size_t extra) {
  static nb_dgm_reasm_t r;
  static uint8_t wire[64][NB_DGM_MAX_PAYLOAD];
  nb_dgm_split_t s;
  nb_dgm_msg_t f, p, out;
  size_t max = NB_DGM_HEADER_LEN + nb_dgm_names_len(m) + 1 + extra % 64;
  max = max > NB_DGM_MAX_PAYLOAD ? NB_DGM_MAX_PAYLOAD : max;
  if (nb_dgm_split_init(&s, m, max) != NB_OK) {
    require(m->data_len > NB_DGM_USER_DATA_MAX ||
            max < NB_DGM_HEADER_LEN + nb_dgm_names_len(m));
    return;
  }
  require(nb_dgm_reasm_init(&r, NULL) == NB_OK);
  nb_dgm_reasm_result_t res = NB_DGM_REASM_PENDING;
  for (size_t i = 0; nb_dgm_split_next(&s, &f); i++) {
    nb_wr_t w;
    size_t len = 0;
    require(i < 64 && res == NB_DGM_REASM_PENDING);
    nb_wr_init(&w, wire[i], sizeof wire[i]);
    nb_dgm_write(&w, &f);
    require(nb_wr_finish(&w, &len) == NB_OK && len <= max);
    require(nb_dgm_parse(wire[i], len, &p, NULL) == NB_OK);
    res = nb_dgm_reasm_add(&r, &p, i, &out);
  }
  require(res == NB_DGM_REASM_COMPLETE);
  require(same_name(&out.source_name, &m->source_name));
  require(same_name(&out.destination_name, &m->destination_name));
  require(same_data(out.data, out.data_len, m->data, m->data_len));
  require(out.dgm_length == m->dgm_length && out.dgm_id == m->dgm_id);
}

static void check_dgm(const uint8_t *data, size_t size) {
  static uint8_t out[70000];
  nb_dgm_msg_t m, again;
  nb_diag_t diag = {NB_OK, 0, NULL};
  if (nb_dgm_parse(data, size, &m, &diag) != NB_OK) {
    require(diag.err != NB_OK && diag.field != NULL && diag.offset <= size);
    check_err_names(diag.err);
    require(size == 0 || known(nb_dgm_type_name(data[0])) ==
                             (data[0] >= NB_DGM_DIRECT_UNIQUE &&
                              data[0] <= NB_DGM_NEGATIVE_QUERY_RESPONSE));
    return;
  }
  check_dgm_names(&m);
  check_dgm_refusal(&m);
  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, out, sizeof out);
  nb_dgm_write(&w, &m);
  require(nb_wr_finish(&w, &len) == NB_OK);
  require(nb_dgm_parse(out, len, &again, NULL) == NB_OK);
  require_same_msg(&m, &again);
  require(!has_trailing(&again));
  if (!has_trailing(&m)) {
    require(len == size && memcmp(out, data, size) == 0);
  }
  if (nb_dgm_is_whole(&m)) {
    check_split(&m, size);
  }
}

/* The message as a \MAILSLOT\BROWSE transaction: its data are the bytes
 * nb_browse_write() gave (`body`), or it is refused when they exceed 512. */
static void check_browse_mailslot(const nb_browse_t *b, const uint8_t *body,
                                  size_t body_len) {
  static uint8_t out[1024];
  nb_smb_mailslot_t m;
  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, out, sizeof out);
  nb_browse_write_mailslot(&w, b);
  if (body_len > 512) {
    require(nb_wr_finish(&w, NULL) == NB_ENOSPC && w.len == 0);
    return;
  }
  require(nb_wr_finish(&w, &len) == NB_OK);
  require(nb_smb_mailslot_parse(out, len, &m, NULL) == NB_OK);
  require(nb_smb_mailslot_is(&m, NB_MAILSLOT_BROWSE));
  require(m.opcode == NB_SMB_MAILSLOT_WRITE &&
          m.mailslot_class == NB_SMB_MAILSLOT_CLASS_UNRELIABLE);
  require(same_data(m.data, m.data_len, body, body_len));
}

/* The builders, fed the parsed strings: they write what parses back. */
static void check_browse_builders(const nb_browse_t *b, uint8_t sel) {
  static uint8_t out[1024];
  char str[256];
  nb_browse_t r, back;
  nb_wr_t w;
  size_t len = 0;
  if (b->str_len >= sizeof str) {
    return;
  }
  if (b->str_len > 0) {
    memcpy(str, b->str, b->str_len); /* a parsed string holds no NUL */
  }
  str[b->str_len] = '\0';
  nb_browse_announcement_request(&r, (sel & 1) ? NULL : str);
  nb_wr_init(&w, out, sizeof out);
  nb_browse_write(&w, &r);
  require(nb_wr_finish(&w, &len) == NB_OK);
  require(nb_browse_parse(out, len, &back, NULL) == NB_OK);
  require(back.opcode == NB_BROWSE_ANNOUNCEMENT_REQUEST);
  require(same_data((const uint8_t *)back.str, back.str_len,
                    (const uint8_t *)r.str, r.str_len));

  size_t n = strlen(b->server_name);
  nb_err_t err = nb_browse_host_announcement(
      &r, b->server_name, b->os_major, b->os_minor, b->server_type,
      b->periodicity, (sel & 2) ? NULL : str);
  require(err == (n >= 1 && n < NB_BROWSE_SERVER_NAME_LEN ? NB_OK : NB_EINVAL));
  if (err != NB_OK) {
    return;
  }
  nb_wr_init(&w, out, sizeof out);
  nb_browse_write(&w, &r);
  require(nb_wr_finish(&w, &len) == NB_OK);
  require(nb_browse_parse(out, len, &back, NULL) == NB_OK);
  require(back.opcode == NB_BROWSE_HOST_ANNOUNCEMENT && back.update_count == 0);
  require(strcmp(back.server_name, b->server_name) == 0);
  require(back.os_major == b->os_major && back.os_minor == b->os_minor);
  require(back.server_type == b->server_type);
  require(back.periodicity == b->periodicity);
  require(back.browser_major == 15 && back.browser_minor == 1);
  require(back.signature == NB_BROWSE_SIGNATURE);
  require(same_data((const uint8_t *)back.str, back.str_len,
                    (const uint8_t *)r.str, r.str_len));
}

/* The message with one field broken (`sel`): NB_EINVAL. */
static void check_browse_refusal(const nb_browse_t *parsed, uint8_t sel) {
  static uint8_t out[1024];
  nb_browse_t b = *parsed;
  nb_wr_t w;
  size_t cap = 64;
  switch (sel & 3) {
  case 0: /* an opcode [MS-BRWS] does not have */
    b.opcode = (uint8_t)(16 + (sel >> 2));
    break;
  case 1: /* a backup list that is not there */
    b.list = NULL;
    b.list_len |= 1u;
    break;
  case 2: /* a ServerName that fills its 17 bytes: no NUL */
    b.opcode = NB_BROWSE_HOST_ANNOUNCEMENT;
    memset(b.server_name, 'A', sizeof b.server_name);
    break;
  default: /* a string holding a NUL */
    b.opcode = NB_BROWSE_ANNOUNCEMENT_REQUEST;
    b.str = "NUL\0INSIDE";
    b.str_len = 10;
    break;
  }
  memset(out, CANARY, cap + 16);
  nb_wr_init(&w, out, cap);
  nb_browse_write(&w, &b);
  require(nb_wr_finish(&w, NULL) == NB_EINVAL && w.len <= cap);
  require((sel & 3) >= 2 || w.len == 0);
  check_err_names(w.err);
  for (size_t i = cap; i < cap + 16; i++) {
    require(out[i] == CANARY);
  }
}

/* The mailslot with one field broken (its Priority, bits 0-1): refused
 * before the first byte. */
static void check_mailslot_refusal(const nb_smb_mailslot_t *parsed) {
  uint8_t out[8];
  nb_smb_mailslot_t m = *parsed;
  nb_wr_t w;
  switch (parsed->priority & 3) {
  case 0:
    m.name = NULL;
    break;
  case 1:
    m.name_len = 0;
    break;
  case 2: /* DataOffset + DataCount over 0xFFFF */
    m.data_len = 0xFFFFu - (parsed->priority >> 2) % 32;
    break;
  default:
    m.data = NULL;
    m.data_len |= 1u;
    break;
  }
  nb_wr_init(&w, out, sizeof out);
  nb_smb_mailslot_write(&w, &m);
  require(nb_wr_finish(&w, NULL) == NB_EINVAL && w.len == 0);
}

static void check_browse(const uint8_t *data, size_t size) {
  static uint8_t out[1024];
  nb_browse_t b, again;
  nb_diag_t diag = {NB_OK, 0, NULL};
  if (nb_browse_parse(data, size, &b, &diag) != NB_OK) {
    require(diag.field != NULL && diag.offset <= size);
    check_err_names(diag.err);
    return;
  }
  check_browse_builders(&b, data[size - 1]);
  check_browse_refusal(&b, data[size - 1]);
  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, out, sizeof out);
  nb_browse_write(&w, &b);
  if (nb_wr_finish(&w, &len) != NB_OK) {
    /* Only a string holding no NUL can be written; a parsed one cannot
     * hold one, so the buffer size is the one way to fail. */
    require(w.err == NB_ENOSPC);
    return;
  }
  require(nb_browse_parse(out, len, &again, NULL) == NB_OK);
  require(again.opcode == b.opcode && again.server_type == b.server_type);
  require(strcmp(again.server_name, b.server_name) == 0);
  require(again.periodicity == b.periodicity && again.token == b.token);
  require(again.criteria == b.criteria && again.uptime == b.uptime);
  require(same_data((const uint8_t *)again.str, again.str_len,
                    (const uint8_t *)b.str, b.str_len));
  require(same_data(again.list, again.list_len, b.list, b.list_len));
  check_browse_mailslot(&b, out, len);
}

static void check_mailslot(const uint8_t *data, size_t size) {
  static uint8_t out[70000];
  nb_smb_mailslot_t m, again;
  nb_diag_t diag = {NB_OK, 0, NULL};
  if (nb_smb_mailslot_parse(data, size, &m, &diag) != NB_OK) {
    require(diag.field != NULL && diag.offset <= size);
    check_err_names(diag.err);
    return;
  }
  check_mailslot_refusal(&m);
  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, out, sizeof out);
  nb_smb_mailslot_write(&w, &m);
  if (nb_wr_finish(&w, &len) == NB_OK) {
    require(nb_smb_mailslot_parse(out, len, &again, NULL) == NB_OK);
    require(same_data((const uint8_t *)again.name, again.name_len,
                      (const uint8_t *)m.name, m.name_len));
    require(same_data(again.data, again.data_len, m.data, m.data_len));
    require(again.opcode == m.opcode && again.priority == m.priority &&
            again.mailslot_class == m.mailslot_class &&
            again.timeout == m.timeout);
  }
  if (nb_smb_mailslot_is(&m, NB_MAILSLOT_BROWSE)) {
    check_browse(m.data, m.data_len);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  nb_dgm_msg_t m;
  check_dgm(data, size);
  if (nb_dgm_parse(data, size, &m, NULL) == NB_OK && nb_dgm_has_names(&m)) {
    check_mailslot(m.data, m.data_len);
  }
  check_mailslot(data, size);
  check_browse(data, size);
  return 0;
}
