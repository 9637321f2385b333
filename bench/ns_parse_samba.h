/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NB_BENCH_NS_PARSE_SAMBA_H
#define NB_BENCH_NS_PARSE_SAMBA_H

/* The Samba side of bench/ns_parse.c: only linked into the optional
 * bench_ns_parse_samba target (NB_WITH_SAMBA), which links Samba's GPL
 * libndr-nbt and is never installed. */
#include <stddef.h>
#include <stdint.h>

/* Parse one name-service packet with Samba's ndr_pull_nbt_name_packet, the
 * way libcli/nbt/nbtsocket.c does (a talloc context per packet, freed after).
 * Returns 0 when Samba rejects the packet, otherwise a value derived from
 * the parsed packet (so the work cannot be optimised away). */
unsigned nb_bench_samba_parse(const uint8_t *p, size_t len);

#endif
