/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_diff_dgm_samba: nbtkit's datagram parser against Samba's.
 *
 * This file is BSD-licensed, but the program it builds links Samba's
 * libndr-nbt (GPL-3.0-or-later): it is built only with NB_WITH_SAMBA where
 * samba-dev is installed (pkg-config ndr_nbt), and never installed.
 *
 * The input is one UDP 138 payload, parsed by nb_dgm_parse() and by
 * Samba's ndr_pull_nbt_dgram_packet() (as libcli/dgram/dgramsocket.c
 * does). Oracle: both accept or both refuse; when both accept, MSG_TYPE,
 * FLAGS, DGM_ID, SOURCE_IP, SOURCE_PORT agree, and by type DGM_LENGTH,
 * PACKET_OFFSET, both names and the SMB mailslot fields (nbtkit's
 * nb_smb_mailslot_parse() of USER_DATA against Samba's smb_trans_body),
 * the ERROR_CODE, or the DESTINATION_NAME. Exceptions, detected from the
 * bytes and listed with their reasons in docs/FUZZING.md:
 *
 *  the name limits of fuzz/diff_samba.h (as for name-service packets), and
 *  LIM_POINTER      a compression pointer in a name (RFC 1002 4.1 allows
 *                   them only in name-service packets; Samba follows them)
 *  LIM_NOT_SMB      0x10-0x12 whose bytes after the names are not the SMB
 *                   TRANSACTION mailslot Samba's NDR requires ("\xffSMB",
 *                   command 0x25, WordCount 17, SetupCount 3, a NUL-ended
 *                   7-bit mailslot name): we carry any USER_DATA
 *  LIM_FRAGMENT     PACKET_OFFSET not 0: a continuation fragment carries no
 *                   names (RFC 1001 17.1.2); Samba parses names anyway
 *  LIM_DGM_LENGTH   DGM_LENGTH - PACKET_OFFSET differs from the bytes after
 *                   the header (we bound the names and data by DGM_LENGTH
 *                   and refuse a last fragment shorter than it says;
 *                   Samba ignores DGM_LENGTH)
 * A disagreement that no limit explains aborts (a bug on one side). */
#include "diff_samba.h"
#include "nb/dgm.h"
#include "nb/smb_browse.h"

enum {
  LIM_NOT_SMB = 1u << 8,
  LIM_FRAGMENT = 1u << 9,
  LIM_DGM_LENGTH = 1u << 10,
  LIM_WALK_STOPPED = 1u << 11 /* the walker could not finish: no claim */
};
#define LIM_VERDICT                                                            \
  (LIM_NAMES | LIM_POINTER | LIM_NOT_SMB | LIM_FRAGMENT | LIM_DGM_LENGTH)

static void fail(const char *what, unsigned limits) {
  diff_fail("diff_dgm_samba", what, limits);
}

/* ---- the interop-limit walker ----------------------------------------------
 */

/* Samba's smb_trans_body at `b` (the "\xffSMB" is its dgram_body_type). */
static bool samba_smb_shape(const uint8_t *p, size_t n, size_t b) {
  static const uint8_t magic[4] = {0xFF, 'S', 'M', 'B'};
  if (b + 69 > n || memcmp(p + b, magic, 4) != 0) {
    return false;
  }
  if (p[b + 4] != NB_SMB_COM_TRANSACTION || p[b + 32] != 17 || p[b + 59] != 3) {
    return false;
  }
  /* The mailslot name: NUL-terminated, and 7-bit (Samba converts it from
   * the DOS charset, which without smb.conf is ASCII). */
  for (size_t i = b + 69; i < n; i++) {
    if (p[i] == 0) {
      return true;
    }
    if (p[i] >= 0x80) {
      return false;
    }
  }
  return false;
}

static unsigned interop_limits(const uint8_t *p, size_t n) {
  walk_t w = {p, n, 0};
  if (n < NB_DGM_COMMON_LEN) {
    return 0;
  }
  if (p[0] >= NB_DGM_QUERY_REQUEST && p[0] <= NB_DGM_NEGATIVE_QUERY_RESPONSE) {
    return walk_name(&w, NB_DGM_COMMON_LEN) ? w.lim : w.lim | LIM_WALK_STOPPED;
  }
  if (p[0] < NB_DGM_DIRECT_UNIQUE || p[0] > NB_DGM_BROADCAST ||
      n < NB_DGM_HEADER_LEN) {
    return 0;
  }
  unsigned len = rd16(&w, 10), off = rd16(&w, 12);
  w.lim |= off != 0 ? LIM_FRAGMENT : 0;
  w.lim |= off > len || n - NB_DGM_HEADER_LEN != len - off ? LIM_DGM_LENGTH : 0;
  size_t at = walk_name(&w, NB_DGM_HEADER_LEN);
  at = at ? walk_name(&w, at) : 0;
  if (at == 0) {
    return w.lim | LIM_WALK_STOPPED;
  }
  return w.lim | (samba_smb_shape(p, n, at) ? 0 : LIM_NOT_SMB);
}

/* ---- field comparison -------------------------------------------------------
 */

static bool same_mailslot(const nb_dgm_msg_t *m,
                          const struct smb_trans_body *t) {
  nb_smb_mailslot_t ms;
  if (nb_smb_mailslot_parse(m->data, m->data_len, &ms, NULL) != NB_OK) {
    return true; /* outside our mailslot envelope: nothing to compare */
  }
  return t->opcode == ms.opcode && t->priority == ms.priority &&
         t->_class == ms.mailslot_class && t->timeout == ms.timeout &&
         t->total_data_count == ms.total_data_count &&
         t->mailslot_name != NULL && strlen(t->mailslot_name) == ms.name_len &&
         memcmp(t->mailslot_name, ms.name, ms.name_len) == 0;
}

static void compare(const nb_dgm_msg_t *m, const struct nbt_dgram_packet *s,
                    unsigned lim) {
  char ip[16];
  snprintf(ip, sizeof ip, "%u.%u.%u.%u", (unsigned)(m->source_ip >> 24),
           (unsigned)(m->source_ip >> 16 & 0xFF),
           (unsigned)(m->source_ip >> 8 & 0xFF),
           (unsigned)(m->source_ip & 0xFF));
  if ((unsigned)s->msg_type != m->msg_type || s->flags != m->flags ||
      s->dgram_id != m->dgm_id || s->src_port != m->source_port ||
      s->src_addr == NULL || strcmp(s->src_addr, ip) != 0) {
    fail("header differs", lim);
  }
  if (nb_dgm_is_service(m->msg_type)) {
    const struct dgram_message *d = &s->data.msg;
    if (d->length != m->dgm_length || d->offset != m->packet_offset ||
        !same_name(&m->source_name, &d->source_name) ||
        !same_name(&m->destination_name, &d->dest_name)) {
      fail("DGM_LENGTH, PACKET_OFFSET or a name differs", lim);
    }
    if (!same_mailslot(m, &d->body.smb.body.trans)) {
      fail("the SMB mailslot fields differ", lim);
    }
  } else if (m->msg_type == NB_DGM_ERROR) {
    if ((unsigned)s->data.error != m->error_code) {
      fail("ERROR_CODE differs", lim);
    }
  } else if (!same_name(&m->destination_name, &s->data.dest_name)) {
    fail("DESTINATION_NAME differs", lim);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static nb_dgm_msg_t m;
  if (size > 65535) {
    return 0; /* a UDP payload */
  }
  bool ours = nb_dgm_parse(data, size, &m, NULL) == NB_OK;
  TALLOC_CTX *ctx = talloc_new(NULL);
  struct nbt_dgram_packet *pkt = talloc_zero(ctx, struct nbt_dgram_packet);
  if (ctx == NULL || pkt == NULL) {
    abort();
  }
  /* data_blob_const() takes a const pointer; Samba only reads the blob. */
  DATA_BLOB blob = data_blob_const(data, size);
  enum ndr_err_code e = ndr_pull_struct_blob(
      &blob, pkt, pkt, (ndr_pull_flags_fn_t)ndr_pull_nbt_dgram_packet);
  bool theirs = NDR_ERR_CODE_IS_SUCCESS(e);
  unsigned lim = interop_limits(data, size);
  if (ours != theirs && (lim & LIM_VERDICT) == 0) {
    fail(ours ? "nbtkit accepts, Samba refuses"
              : "Samba accepts, nbtkit refuses",
         lim);
  }
  bool cmp = ours && theirs && (lim & LIM_FRAGMENT) == 0;
  if (cmp) {
    compare(&m, pkt, lim);
  }
  diff_count("diff_dgm_samba",
             ours != theirs ? 3
             : !ours        ? 0
             : cmp          ? 1
                            : 2,
             lim);
  talloc_free(ctx);
  return 0;
}
