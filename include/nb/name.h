/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NB_NAME_H
#define NB_NAME_H

/* NetBIOS names (RFC 1001 14, RFC 1002 4.1).
 *
 * A name is 16 bytes (15 name bytes and one suffix, or "type", byte) plus a
 * scope ID made of DNS-style labels. First-level encoding turns the 16 bytes
 * into 32 characters 'A'..'P' (a nibble each); second-level encoding writes
 * that 32-byte label, then the scope labels, length-prefixed, then a zero.
 *
 * The model keeps the 16 bytes exactly as given or received: case is never
 * changed and non-printable bytes round-trip. Comparison (nb_name_equal) is
 * case-insensitive on the 15 name bytes and the scope, exact on the suffix,
 * which is what nmbd does (the RFC treats the bytes as opaque).
 *
 * The interop envelope of the decoder, decided here and tested in
 * tests/unit/test_name.c (see docs/CONFORMANCE.md):
 *  - first label exactly 32 bytes, each 'A'..'P' (upper case only);
 *  - scope labels 1..63 bytes of printable ASCII other than '.';
 *  - the whole name, expanded, at most 255 octets (RFC 883/1035), so a
 *    dotted scope of at most 220 characters;
 *  - compression pointers only where allowed (not in datagram or session
 *    packets), each pointing strictly before the start of the segment being
 *    read (so they cannot loop), and at most NB_NAME_MAX_HOPS of them. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nb/err.h"
#include "nb/wire.h"

#define NB_NAME_BYTES 16     /* 15 name bytes + suffix */
#define NB_NAME_CHARS 15     /* name bytes without the suffix */
#define NB_NAME_L1_LEN 32    /* first-level encoded length */
#define NB_NAME_WIRE_MAX 255 /* RFC 883: label and length octets of a name */
#define NB_SCOPE_MAX 220     /* dotted scope characters within that cap */
#define NB_LABEL_MAX 63      /* RFC 883: six-bit label length */
#define NB_NAME_MAX_HOPS 10  /* compression pointers followed per name */

/* Common suffixes (Microsoft KB163409). */
#define NB_SUFFIX_WORKSTATION 0x00
#define NB_SUFFIX_MESSENGER 0x03
#define NB_SUFFIX_MASTER_BROWSER 0x1d
#define NB_SUFFIX_BROWSER_ELECTION 0x1e
#define NB_SUFFIX_DOMAIN_MASTER 0x1b
#define NB_SUFFIX_DOMAIN_CONTROLLERS 0x1c
#define NB_SUFFIX_SERVER 0x20

typedef struct nb_name {
  uint8_t bytes[NB_NAME_BYTES]; /* name bytes and suffix, as on the wire */
  uint8_t scope_len;            /* strlen(scope), 0..NB_SCOPE_MAX */
  char scope[NB_SCOPE_MAX + 1]; /* dotted scope ID without leading dot,
                                   NUL-terminated; "" when there is none */
} nb_name_t;

/* Longest text form: 15 bytes escaped as \xHH, "<XX>", "." and the scope. */
#define NB_NAME_TEXT_MAX (NB_NAME_CHARS * 4 + 4 + 1 + NB_SCOPE_MAX + 1)

/* Decoder flags. */
#define NB_NAME_F_NO_POINTERS 0x1u /* datagram and session packets (4.1) */

static inline uint8_t nb_name_suffix(const nb_name_t *n) {
  return n->bytes[NB_NAME_BYTES - 1];
}

/* Build a name from up to 15 bytes (`name_len` of them), a suffix and a
 * dotted scope (NULL or "" for none). The name is padded with spaces, except
 * the wildcard "*", which is padded with NULs (RFC 1001 17.2). */
NB_API nb_err_t nb_name_make(nb_name_t *out, const void *name, size_t name_len,
                             uint8_t suffix, const char *scope);

/* Set or validate a scope ID: dotted labels of 1..63 printable non-dot
 * ASCII bytes, NB_SCOPE_MAX characters at most. */
NB_API nb_err_t nb_name_set_scope(nb_name_t *n, const char *scope,
                                  size_t scope_len, nb_diag_t *diag);

/* Parse the text form `NAME<XX>.scope` (the `<XX>` and `.scope` parts are
 * optional; without `<XX>` the suffix is 0x20, as in RFC 1002 4.1's "FRED "
 * example; note that Samba's nmblookup defaults to 0x00 instead). In
 * NAME, `\xHH` escapes any byte and `\\` a backslash; `*` alone is the
 * NUL-padded wildcard. `diag->offset` is an offset into `text`. */
NB_API nb_err_t nb_name_from_text(nb_name_t *out, const char *text, size_t len,
                                  nb_diag_t *diag);

/* Print the text form into `buf` (always NUL-terminated when cap > 0).
 * Returns the length the full text needs, excluding the NUL, like snprintf.
 * Trailing spaces are trimmed; bytes outside 0x20..0x7e and the characters
 * `\ < > .` are escaped as \xHH, so nb_name_from_text() gives back the same
 * 16 bytes and scope. */
NB_API size_t nb_name_to_text(const nb_name_t *n, char *buf, size_t cap);

/* First-level encoding: 32 characters 'A'..'P' and a NUL into `out`. */
NB_API void nb_name_first_level(const nb_name_t *n,
                                char out[NB_NAME_L1_LEN + 1]);

/* Decode a first-level label of exactly 32 characters 'A'..'P' into the 16
 * bytes. On failure `*bad_index` is the first bad character's index and `out`
 * is unspecified. */
NB_API nb_err_t nb_name_from_first_level(uint8_t out[NB_NAME_BYTES],
                                         const uint8_t *label, size_t len,
                                         size_t *bad_index);

/* Bytes the uncompressed second-level encoding of `n` takes. */
NB_API size_t nb_name_wire_len(const nb_name_t *n);

/* Write the second-level encoding of `n` (no compression). */
NB_API void nb_name_encode(nb_wr_t *w, const nb_name_t *n);

/* Write a compression pointer to message offset `target` (< 0x4000). */
NB_API void nb_name_encode_pointer(nb_wr_t *w, size_t target);

/* Decode a second-level name at `r->pos`, following pointers within
 * `r->msg`. On success `r` is advanced past the bytes the name uses in place
 * (up to and including the first pointer or the terminating zero). On
 * failure `r` is unmoved and `diag` says where and what. `out` is fully
 * owned by the caller: nothing in it borrows the input. */
NB_API nb_err_t nb_name_decode(nb_rd_t *r, nb_name_t *out, unsigned flags,
                               nb_diag_t *diag);

/* Case-insensitive (ASCII) on the 15 name bytes and the scope, exact on the
 * suffix. */
NB_API bool nb_name_equal(const nb_name_t *a, const nb_name_t *b);

/* Hash consistent with nb_name_equal (FNV-1a over the case-folded form). */
NB_API uint32_t nb_name_hash(const nb_name_t *n);

#endif
