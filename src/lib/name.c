/* SPDX-License-Identifier: BSD-2-Clause */
/* NetBIOS name codec: first- and second-level encoding (RFC 1001 14,
 * RFC 1002 4.1) and the text form used by people and logs.
 *
 * WARNING: nb_name_decode() parses untrusted network data. */
#include "nb/name.h"

#include <string.h>

#include "name_int.h"

#define NB_PTR_MASK 0xC0u /* RFC 883: top two bits 11 mark a pointer */

static uint8_t ascii_upper(uint8_t c) {
  return (c >= 'a' && c <= 'z') ? (uint8_t)(c - ('a' - 'A')) : c;
}

/* Scope label bytes: printable ASCII other than '.' and space (a DNS-style
 * label, the decision recorded in docs/CONFORMANCE.md). */
static bool scope_byte_ok(uint8_t c) {
  return c > 0x20 && c < 0x7f && c != '.';
}

nb_err_t nb_name_set_scope(nb_name_t *n, const char *scope, size_t scope_len,
                           nb_diag_t *diag) {
  if (scope_len > NB_SCOPE_MAX) {
    return nb_diag_set(diag, NB_ELIMIT, NB_SCOPE_MAX, "scope longer than 220");
  }
  size_t label = 0;
  for (size_t i = 0; i < scope_len; i++) {
    uint8_t c = (uint8_t)scope[i];
    if (c == '.') {
      if (label == 0) {
        return nb_diag_set(diag, NB_EINVAL, i, "empty scope label");
      }
      label = 0;
      continue;
    }
    if (!scope_byte_ok(c)) {
      return nb_diag_set(diag, NB_EINVAL, i, "scope label character");
    }
    if (++label > NB_LABEL_MAX) {
      return nb_diag_set(diag, NB_ELIMIT, i, "scope label longer than 63");
    }
  }
  if (scope_len > 0 && label == 0) {
    return nb_diag_set(diag, NB_EINVAL, scope_len, "empty scope label");
  }
  if (scope_len > 0) {
    memcpy(n->scope, scope, scope_len);
  }
  n->scope[scope_len] = '\0';
  n->scope_len = (uint8_t)scope_len;
  return NB_OK;
}

/* Pad per RFC 1001 17.2: the wildcard "*" with NULs, anything else with
 * spaces. */
static void pad_name(uint8_t bytes[NB_NAME_BYTES], size_t len) {
  uint8_t pad = (len == 1 && bytes[0] == '*') ? 0x00 : 0x20;
  memset(bytes + len, pad, NB_NAME_CHARS - len);
}

nb_err_t nb_name_make(nb_name_t *out, const void *name, size_t name_len,
                      uint8_t suffix, const char *scope) {
  if (name == NULL || name_len == 0 || name_len > NB_NAME_CHARS) {
    return NB_EINVAL;
  }
  nb_name_t tmp;
  memcpy(tmp.bytes, name, name_len);
  pad_name(tmp.bytes, name_len);
  tmp.bytes[NB_NAME_BYTES - 1] = suffix;
  nb_err_t err = nb_name_set_scope(&tmp, scope ? scope : "",
                                   scope ? strlen(scope) : 0, NULL);
  if (err == NB_OK) {
    *out = tmp;
  }
  return err;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

/* Two hex digits at text[i], i+1 into *out. */
static bool hex_pair(const char *text, size_t len, size_t i, uint8_t *out) {
  if (i + 2 > len) {
    return false;
  }
  int hi = hex_value(text[i]);
  int lo = hex_value(text[i + 1]);
  if (hi < 0 || lo < 0) {
    return false;
  }
  *out = (uint8_t)(hi << 4 | lo);
  return true;
}

/* The NAME part of the text form, up to an unescaped '<' or '.'. Sets
 * `*stop` to the index where it ended and `*literal_star` when the name was
 * written as a bare "*". */
static nb_err_t text_name_part(const char *text, size_t len, uint8_t *bytes,
                               size_t *count, size_t *stop, nb_diag_t *diag) {
  size_t i = 0;
  size_t n = 0;
  while (i < len && text[i] != '<' && text[i] != '.') {
    uint8_t c = (uint8_t)text[i];
    size_t at = i;
    if (c == '\\') {
      if (i + 1 < len && text[i + 1] == '\\') {
        i += 2;
      } else if (i + 1 < len && text[i + 1] == 'x' &&
                 hex_pair(text, len, i + 2, &c)) {
        i += 4;
      } else {
        return nb_diag_set(diag, NB_EINVAL, at, "escape (use \\xHH or \\\\)");
      }
    } else if (c < 0x20 || c > 0x7e) {
      return nb_diag_set(diag, NB_EINVAL, at, "unescaped non-printable byte");
    } else {
      i++;
    }
    if (n == NB_NAME_CHARS) {
      return nb_diag_set(diag, NB_ELIMIT, at, "name longer than 15 bytes");
    }
    bytes[n++] = c;
  }
  *count = n;
  *stop = i;
  return NB_OK;
}

nb_err_t nb_name_from_text(nb_name_t *out, const char *text, size_t len,
                           nb_diag_t *diag) {
  nb_name_t tmp;
  size_t n = 0;
  size_t i = 0;
  nb_err_t err = text_name_part(text, len, tmp.bytes, &n, &i, diag);
  if (err != NB_OK) {
    return err;
  }
  if (n == 0) {
    return nb_diag_set(diag, NB_EINVAL, 0, "empty name");
  }
  /* Only a literal, unescaped "*" is the NUL-padded wildcard. */
  if (n == 1 && tmp.bytes[0] == '*' && i == 1) {
    memset(tmp.bytes + 1, 0x00, NB_NAME_CHARS - 1);
  } else {
    memset(tmp.bytes + n, 0x20, NB_NAME_CHARS - n);
  }
  tmp.bytes[NB_NAME_BYTES - 1] = 0x20;
  if (i < len && text[i] == '<') {
    if (!hex_pair(text, len, i + 1, &tmp.bytes[NB_NAME_BYTES - 1]) ||
        i + 3 >= len || text[i + 3] != '>') {
      return nb_diag_set(diag, NB_EINVAL, i, "suffix (want <XX>, two hex)");
    }
    i += 4;
  }
  if (i < len && text[i] != '.') {
    return nb_diag_set(diag, NB_EINVAL, i, "text after suffix");
  }
  size_t scope_at = i < len ? i + 1 : len;
  if (i < len && scope_at == len) {
    return nb_diag_set(diag, NB_EINVAL, i, "empty scope");
  }
  err = nb_name_set_scope(&tmp, text + scope_at, len - scope_at, diag);
  if (err != NB_OK) {
    if (diag != NULL) {
      diag->offset += scope_at;
    }
    return err;
  }
  *out = tmp;
  return NB_OK;
}

/* Append to a bounded text buffer, counting what would have been written. */
typedef struct {
  char *buf;
  size_t cap;
  size_t len;
} text_out_t;

static void out_char(text_out_t *o, char c) {
  if (o->len + 1 < o->cap) {
    o->buf[o->len] = c;
  }
  o->len++;
}

static void out_hex_byte(text_out_t *o, uint8_t b) {
  static const char digits[] = "0123456789abcdef";
  out_char(o, digits[b >> 4]);
  out_char(o, digits[b & 0xf]);
}

static bool is_wildcard(const nb_name_t *n) {
  if (n->bytes[0] != '*') {
    return false;
  }
  for (size_t i = 1; i < NB_NAME_CHARS; i++) {
    if (n->bytes[i] != 0x00) {
      return false;
    }
  }
  return true;
}

static bool text_byte_literal(uint8_t c) {
  return c >= 0x20 && c <= 0x7e && c != '\\' && c != '<' && c != '>' &&
         c != '.';
}

size_t nb_name_to_text(const nb_name_t *n, char *buf, size_t cap) {
  text_out_t o = {buf, cap, 0};
  size_t end = NB_NAME_CHARS;
  if (is_wildcard(n)) {
    end = 1;
  } else {
    while (end > 0 && n->bytes[end - 1] == 0x20) {
      end--;
    }
  }
  for (size_t i = 0; i < end; i++) {
    uint8_t c = n->bytes[i];
    if (text_byte_literal(c)) {
      out_char(&o, (char)c);
    } else {
      out_char(&o, '\\');
      out_char(&o, 'x');
      out_hex_byte(&o, c);
    }
  }
  /* Keep the trimmed form unambiguous: all spaces, or "*" padded with
   * spaces rather than NULs, keep one escaped space. */
  if (end == 0 || (end == 1 && n->bytes[0] == '*' && !is_wildcard(n))) {
    out_char(&o, '\\');
    out_char(&o, 'x');
    out_hex_byte(&o, 0x20);
  }
  out_char(&o, '<');
  out_hex_byte(&o, nb_name_suffix(n));
  out_char(&o, '>');
  if (n->scope_len > 0) {
    out_char(&o, '.');
    for (size_t i = 0; i < n->scope_len; i++) {
      out_char(&o, n->scope[i]);
    }
  }
  if (cap > 0) {
    buf[o.len < cap ? o.len : cap - 1] = '\0';
  }
  return o.len;
}

void nb_name_first_level(const nb_name_t *n, char out[NB_NAME_L1_LEN + 1]) {
  for (size_t i = 0; i < NB_NAME_BYTES; i++) {
    out[2 * i] = (char)('A' + (n->bytes[i] >> 4));
    out[2 * i + 1] = (char)('A' + (n->bytes[i] & 0x0f));
  }
  out[NB_NAME_L1_LEN] = '\0';
}

nb_err_t nb_name_from_first_level(uint8_t out[NB_NAME_BYTES],
                                  const uint8_t *label, size_t len,
                                  size_t *bad_index) {
  if (len != NB_NAME_L1_LEN) {
    if (bad_index != NULL) {
      *bad_index = 0;
    }
    return NB_EMALFORMED;
  }
  /* One pass without a branch per byte: a character outside 'A'..'P'
   * makes its unsigned nibble > 15, and the OR of all nibbles says whether
   * any did (one comparison instead of 32: under the fuzzers' comparison
   * tracing each one is a callback). The failing index is looked for only
   * on failure. On failure `out` is left partly written. */
  unsigned bad = 0;
  for (size_t i = 0; i < NB_NAME_BYTES; i++) {
    unsigned hi = (unsigned)label[2 * i] - 'A';
    unsigned lo = (unsigned)label[2 * i + 1] - 'A';
    bad |= hi | lo;
    out[i] = (uint8_t)(hi << 4 | (lo & 0x0fu));
  }
  if (bad > 15u) {
    if (bad_index != NULL) {
      size_t i = 0;
      while ((unsigned)label[i] - 'A' <= 15u) {
        i++;
      }
      *bad_index = i;
    }
    return NB_EMALFORMED;
  }
  return NB_OK;
}

size_t nb_name_wire_len(const nb_name_t *n) {
  /* length octet + 32 + terminating zero; each scope label adds its length
   * octet, which the dotted form spells as a '.' (plus one for the first). */
  return 1 + NB_NAME_L1_LEN + 1 + (n->scope_len ? (size_t)n->scope_len + 1 : 0);
}

/* The encoding is built in a local buffer and written with one call: a
 * writer call per label (and the copy of each) cost more than the
 * encoding itself. */
void nb_name_encode(nb_wr_t *w, const nb_name_t *n) {
  uint8_t enc[1 + NB_NAME_L1_LEN + 1 + NB_SCOPE_MAX + 1];
  size_t len = 0;
  enc[len++] = NB_NAME_L1_LEN;
  nb_name_first_level(n, (char *)enc + len); /* its NUL is overwritten */
  len += NB_NAME_L1_LEN;
  size_t scope_len = n->scope_len;
  size_t start = 0;
  if (scope_len > NB_SCOPE_MAX) {
    nb_wr_fail(w, NB_EINVAL); /* a hand-built name past its scope array */
    return;
  }
  for (size_t i = 0; i <= scope_len && scope_len > 0; i++) {
    if (i == scope_len || n->scope[i] == '.') {
      size_t label = i - start;
      if (label == 0 || label > NB_LABEL_MAX) {
        nb_wr_fail(w, NB_EINVAL); /* only reachable if the caller bypassed
                                     nb_name_set_scope */
        return;
      }
      enc[len++] = (uint8_t)label;
      memcpy(enc + len, n->scope + start, label);
      len += label;
      start = i + 1;
    }
  }
  enc[len++] = 0;
  nb_wr_bytes(w, enc, len);
}

void nb_name_encode_pointer(nb_wr_t *w, size_t target) {
  if (target >= 0x4000) {
    nb_wr_fail(w, NB_EINVAL); /* 14-bit offsets only (c-ares #1159) */
    return;
  }
  nb_wr_be16(w, (uint16_t)(0xC000u | target));
}

/* State of one name decode. */
typedef struct {
  nb_rd_t cur;      /* where we read now (may have jumped) */
  size_t seg_start; /* pointers must target strictly before this */
  size_t total;     /* expanded octets so far (RFC 883's 255 cap) */
  unsigned hops;    /* pointers followed */
  bool jumped;      /* a pointer was followed */
  size_t in_place;  /* end of the in-place bytes once jumped */
  unsigned flags;
  unsigned labels;       /* labels decoded so far */
  nb_name_shape_t shape; /* the first pointer: where in-place bytes end */
} name_dec_t;

/* Follow the pointer whose first octet `hi` was just read at `at`. */
static nb_err_t dec_pointer(name_dec_t *d, uint8_t hi, size_t at,
                            nb_diag_t *diag) {
  uint8_t lo;
  if (d->flags & NB_NAME_F_NO_POINTERS) {
    return nb_diag_set(diag, NB_EMALFORMED, at,
                       "label pointer (not allowed in this packet)");
  }
  if (nb_rd_u8(&d->cur, &lo) != NB_OK) {
    return nb_diag_set(diag, NB_ETRUNCATED, at, "label pointer");
  }
  size_t target = (size_t)(hi & 0x3f) << 8 | lo;
  if (target >= d->seg_start) {
    return nb_diag_set(diag, NB_EMALFORMED, at,
                       "label pointer not strictly backward");
  }
  if (++d->hops > NB_NAME_MAX_HOPS) {
    return nb_diag_set(diag, NB_ELIMIT, at, "label pointer hops over 10");
  }
  if (!d->jumped) {
    d->jumped = true;
    d->in_place = d->cur.pos;
    d->shape.pointer = true;
    d->shape.ptr = (uint16_t)target;
    d->shape.labels = (uint8_t)d->labels; /* <= 128 within 255 bytes */
  }
  d->seg_start = target;
  return nb_rd_at(&d->cur, target, &d->cur);
}

/* The first label: exactly 32 characters 'A'..'P'. */
static nb_err_t dec_first_label(name_dec_t *d, uint8_t len, size_t at,
                                nb_name_t *out, nb_diag_t *diag) {
  const uint8_t *label;
  size_t bad = 0;
  if (len != NB_NAME_L1_LEN) {
    return nb_diag_set(diag, NB_EMALFORMED, at, "first label not 32 bytes");
  }
  if (nb_rd_bytes(&d->cur, len, &label) != NB_OK) {
    return nb_diag_set(diag, NB_ETRUNCATED, at + 1, "first label");
  }
  if (nb_name_from_first_level(out->bytes, label, len, &bad) != NB_OK) {
    return nb_diag_set(diag, NB_EMALFORMED, at + 1 + bad,
                       "first label character not A-P");
  }
  return NB_OK;
}

/* A scope label, appended to out->scope with a dot separator. */
static nb_err_t dec_scope_label(name_dec_t *d, uint8_t len, size_t at,
                                nb_name_t *out, nb_diag_t *diag) {
  const uint8_t *label;
  if (nb_rd_bytes(&d->cur, len, &label) != NB_OK) {
    return nb_diag_set(diag, NB_ETRUNCATED, at + 1, "scope label");
  }
  for (size_t i = 0; i < len; i++) {
    if (!scope_byte_ok(label[i])) {
      return nb_diag_set(diag, NB_EMALFORMED, at + 1 + i,
                         "scope label character");
    }
  }
  /* d->total <= 254 here, so the dotted scope fits NB_SCOPE_MAX. */
  size_t pos = out->scope_len;
  if (pos > 0) {
    out->scope[pos++] = '.';
  }
  memcpy(out->scope + pos, label, len);
  out->scope_len = (uint8_t)(pos + len);
  out->scope[out->scope_len] = '\0';
  return NB_OK;
}

nb_err_t nb_name_decode_shape(nb_rd_t *r, nb_name_t *out, unsigned flags,
                              nb_diag_t *diag, nb_name_shape_t *shape) {
  name_dec_t d = {*r, r->pos, 0, 0, false, 0, flags, 0, {false, 0, 0}};
  nb_name_t tmp;
  tmp.scope_len = 0;
  tmp.scope[0] = '\0';
  for (;;) {
    size_t at = d.cur.pos;
    uint8_t len;
    nb_err_t err;
    if (nb_rd_u8(&d.cur, &len) != NB_OK) {
      return nb_diag_set(diag, NB_ETRUNCATED, at, "name label length");
    }
    if ((len & NB_PTR_MASK) == NB_PTR_MASK) {
      err = dec_pointer(&d, len, at, diag);
      if (err != NB_OK) {
        return err;
      }
      continue; /* a pointer is not a label */
    }
    if ((len & NB_PTR_MASK) != 0) {
      return nb_diag_set(diag, NB_EMALFORMED, at,
                         "label type (reserved 01/10 bits)");
    }
    if (d.labels == 0) {
      err = dec_first_label(&d, len, at, &tmp, diag);
    } else if (len == 0) {
      break;
    } else if (d.total + 1u + len + 1u > NB_NAME_WIRE_MAX) {
      return nb_diag_set(diag, NB_ELIMIT, at, "name longer than 255");
    } else {
      err = dec_scope_label(&d, len, at, &tmp, diag);
    }
    if (err != NB_OK) {
      return err;
    }
    d.total += 1u + len;
    d.labels++;
  }
  memcpy(out->bytes, tmp.bytes, sizeof tmp.bytes);
  memcpy(out->scope, tmp.scope, (size_t)tmp.scope_len + 1);
  out->scope_len = tmp.scope_len;
  r->pos = d.jumped ? d.in_place : d.cur.pos;
  if (shape != NULL) {
    *shape = d.shape;
  }
  return NB_OK;
}

nb_err_t nb_name_decode(nb_rd_t *r, nb_name_t *out, unsigned flags,
                        nb_diag_t *diag) {
  return nb_name_decode_shape(r, out, flags, diag, NULL);
}

bool nb_name_equal(const nb_name_t *a, const nb_name_t *b) {
  if (a->bytes[NB_NAME_BYTES - 1] != b->bytes[NB_NAME_BYTES - 1] ||
      a->scope_len != b->scope_len) {
    return false;
  }
  for (size_t i = 0; i < NB_NAME_CHARS; i++) {
    if (ascii_upper(a->bytes[i]) != ascii_upper(b->bytes[i])) {
      return false;
    }
  }
  for (size_t i = 0; i < a->scope_len; i++) {
    if (ascii_upper((uint8_t)a->scope[i]) !=
        ascii_upper((uint8_t)b->scope[i])) {
      return false;
    }
  }
  return true;
}

uint32_t nb_name_hash(const nb_name_t *n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < NB_NAME_CHARS; i++) {
    h = (h ^ ascii_upper(n->bytes[i])) * 16777619u;
  }
  h = (h ^ nb_name_suffix(n)) * 16777619u;
  for (size_t i = 0; i < n->scope_len; i++) {
    h = (h ^ ascii_upper((uint8_t)n->scope[i])) * 16777619u;
  }
  return h;
}
