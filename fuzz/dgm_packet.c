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
 *    on the raw input) round-trip through their writers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nb/dgm.h"
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
    return;
  }
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

static void check_browse(const uint8_t *data, size_t size) {
  static uint8_t out[1024];
  nb_browse_t b, again;
  nb_diag_t diag = {NB_OK, 0, NULL};
  if (nb_browse_parse(data, size, &b, &diag) != NB_OK) {
    require(diag.field != NULL && diag.offset <= size);
    return;
  }
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
}

static void check_mailslot(const uint8_t *data, size_t size) {
  static uint8_t out[70000];
  nb_smb_mailslot_t m, again;
  nb_diag_t diag = {NB_OK, 0, NULL};
  if (nb_smb_mailslot_parse(data, size, &m, &diag) != NB_OK) {
    require(diag.field != NULL && diag.offset <= size);
    return;
  }
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
