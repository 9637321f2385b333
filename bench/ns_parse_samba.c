/* SPDX-License-Identifier: BSD-2-Clause */
/* Samba's NBT name-packet parser, for the comparison in bench/ns_parse.c.
 *
 * This file is BSD-licensed, but the program it is linked into links
 * Samba's libndr-nbt (GPL-3.0-or-later): bench_ns_parse_samba is built only
 * with NB_WITH_SAMBA, is never installed, and is not distributed. */
#include "ns_parse_samba.h"

#include <stdbool.h>
#include <stdint.h>

#include <gen_ndr/ndr_nbt.h>
#include <ndr.h>
#include <talloc.h>

unsigned nb_bench_samba_parse(const uint8_t *p, size_t len) {
  /* data_blob_const() takes a const pointer; Samba only reads the blob. */
  DATA_BLOB blob = data_blob_const(p, len);
  struct nbt_name_packet *pkt = talloc(NULL, struct nbt_name_packet);
  unsigned r = 0;
  if (pkt == NULL) {
    return 0;
  }
  enum ndr_err_code e = ndr_pull_struct_blob(
      &blob, pkt, pkt, (ndr_pull_flags_fn_t)ndr_pull_nbt_name_packet);
  if (NDR_ERR_CODE_IS_SUCCESS(e)) {
    r = 1u + pkt->operation + pkt->qdcount + pkt->ancount + pkt->arcount;
  }
  talloc_free(pkt);
  return r;
}
