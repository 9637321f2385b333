/* SPDX-License-Identifier: BSD-2-Clause */
/* Session routes (nb/ssnsrv.h): their text form and the lookup.
 *
 * WARNING: parses untrusted-ish text (configuration files and flags).
 * Every read is bounded by the length given; nothing allocates.
 *
 *   route   = name 1*WS action
 *   action  = "direct" 1*WS ipport
 *           / "nbt" 1*WS ipport [ 1*WS "as" 1*WS name ]
 *           / "retarget" 1*WS ipport
 *           / "reject" 1*WS code
 *   forward = name "=" ipport               ; the --forward flag: direct
 *   ipport  = dotted-quad ":" 1*5DIGIT      ; port 1..65535
 *   code    = "0x80" / "0x81" / "0x82" / "0x83" / "0x8f" (or decimal)
 *   name    = nb_name_from_text()'s form, e.g. XYKON-2<20>.scope */
#include <stdio.h>
#include <string.h>

#include "nb/ssnsrv.h"

typedef struct {
  const char *p;
  size_t len;
  size_t pos; /* offset of the cursor in the whole text */
} words_t;

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* The next blank-separated word: `*at` its offset, `*n` its length. */
static bool next_word(words_t *w, size_t *at, size_t *n) {
  while (w->pos < w->len && is_blank(w->p[w->pos])) {
    w->pos++;
  }
  *at = w->pos;
  while (w->pos < w->len && !is_blank(w->p[w->pos])) {
    w->pos++;
  }
  *n = w->pos - *at;
  return *n > 0;
}

static bool word_eq(const char *p, size_t n, const char *word) {
  size_t wl = strlen(word);
  if (n != wl) {
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    char c = p[i];
    if (c >= 'A' && c <= 'Z') {
      c = (char)(c - 'A' + 'a');
    }
    if (c != word[i]) {
      return false;
    }
  }
  return true;
}

/* Decimal digits of at most `max`. */
static bool parse_dec(const char *p, size_t n, uint32_t max, uint32_t *out) {
  uint32_t v = 0;
  if (n == 0 || n > 10) {
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    if (!is_digit(p[i])) {
      return false;
    }
    uint64_t t = (uint64_t)v * 10u + (uint32_t)(p[i] - '0');
    if (t > max) {
      return false;
    }
    v = (uint32_t)t;
  }
  *out = v;
  return true;
}

/* `a.b.c.d:port`; on failure `*bad` is the offset of the first bad byte. */
static bool parse_ipport(const char *p, size_t n, uint32_t *addr,
                         uint16_t *port, size_t *bad) {
  uint32_t a = 0;
  size_t i = 0;
  for (int part = 0; part < 4; part++) {
    size_t start = i;
    uint32_t v = 0;
    while (i < n && is_digit(p[i]) && i - start < 3) {
      i++;
    }
    if (!parse_dec(p + start, i - start, 255, &v) ||
        (p[start] == '0' && i - start > 1)) {
      *bad = start;
      return false;
    }
    a = a << 8 | v;
    char sep = part < 3 ? '.' : ':';
    if (i >= n || p[i] != sep) {
      *bad = i;
      return false;
    }
    i++;
  }
  uint32_t v = 0;
  if (!parse_dec(p + i, n - i, 65535, &v) || v == 0) {
    *bad = i;
    return false;
  }
  *addr = a;
  *port = (uint16_t)v;
  return true;
}

static nb_err_t parse_code(const char *p, size_t n, uint8_t *code) {
  uint32_t v = 0;
  if (n == 4 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
    for (size_t i = 2; i < 4; i++) {
      char c = p[i];
      uint32_t d = is_digit(c)              ? (uint32_t)(c - '0')
                   : (c >= 'a' && c <= 'f') ? (uint32_t)(c - 'a' + 10)
                   : (c >= 'A' && c <= 'F') ? (uint32_t)(c - 'A' + 10)
                                            : 16u;
      if (d > 15) {
        return NB_EINVAL;
      }
      v = v << 4 | d;
    }
  } else if (!parse_dec(p, n, 255, &v)) {
    return NB_EINVAL;
  }
  /* RFC 1002 4.3.4: only the five codes are ever written. */
  if (!nb_ssn_neg_known((uint8_t)v)) {
    return NB_EINVAL;
  }
  *code = (uint8_t)v;
  return NB_OK;
}

static nb_err_t parse_name(nb_name_t *out, const char *p, size_t n, size_t at,
                           nb_diag_t *diag) {
  nb_diag_t d = {NB_OK, 0, NULL};
  if (nb_name_from_text(out, p, n, &d) != NB_OK) {
    return nb_diag_set(diag, NB_EINVAL, at + d.offset,
                       d.field != NULL ? d.field : "bad NetBIOS name");
  }
  return NB_OK;
}

static nb_err_t parse_target(nb_ssnsrv_route_t *r, words_t *w,
                             nb_diag_t *diag) {
  size_t at = 0;
  size_t n = 0;
  size_t bad = 0;
  if (!next_word(w, &at, &n)) {
    return nb_diag_set(diag, NB_EINVAL, at, "expected IPv4:PORT");
  }
  if (!parse_ipport(w->p + at, n, &r->addr, &r->port, &bad)) {
    return nb_diag_set(diag, NB_EINVAL, at + bad,
                       "expected IPv4:PORT (port 1..65535)");
  }
  return NB_OK;
}

/* `as NAME` after an nbt target. */
static nb_err_t parse_as(nb_ssnsrv_route_t *r, words_t *w, nb_diag_t *diag) {
  size_t at = 0;
  size_t n = 0;
  if (!next_word(w, &at, &n)) {
    return NB_OK;
  }
  if (!word_eq(w->p + at, n, "as")) {
    return nb_diag_set(diag, NB_EINVAL, at, "expected 'as NAME' or the end");
  }
  if (!next_word(w, &at, &n)) {
    return nb_diag_set(diag, NB_EINVAL, at, "expected a name after 'as'");
  }
  r->rewrite = true;
  return parse_name(&r->as, w->p + at, n, at, diag);
}

static nb_err_t parse_action(nb_ssnsrv_route_t *r, words_t *w,
                             nb_diag_t *diag) {
  size_t at = 0;
  size_t n = 0;
  const char *p = NULL;
  if (!next_word(w, &at, &n)) {
    return nb_diag_set(diag, NB_EINVAL, at,
                       "expected direct, nbt, retarget or reject");
  }
  p = w->p + at;
  if (word_eq(p, n, "direct") || word_eq(p, n, "retarget")) {
    r->action = word_eq(p, n, "direct") ? NB_SSNSRV_ROUTE_DIRECT
                                        : NB_SSNSRV_ROUTE_RETARGET;
    return parse_target(r, w, diag);
  }
  if (word_eq(p, n, "nbt")) {
    r->action = NB_SSNSRV_ROUTE_NBT;
    nb_err_t err = parse_target(r, w, diag);
    return err != NB_OK ? err : parse_as(r, w, diag);
  }
  if (word_eq(p, n, "reject")) {
    r->action = NB_SSNSRV_ROUTE_REJECT;
    if (!next_word(w, &at, &n) || parse_code(w->p + at, n, &r->code) != NB_OK) {
      return nb_diag_set(diag, NB_EINVAL, at,
                         "expected a code: 0x80, 0x81, 0x82, 0x83 or 0x8f");
    }
    return NB_OK;
  }
  return nb_diag_set(diag, NB_EINVAL, at,
                     "expected direct, nbt, retarget or reject");
}

nb_err_t nb_ssnsrv_route_parse(nb_ssnsrv_route_t *out, const char *text,
                               size_t len, nb_diag_t *diag) {
  words_t w = {text, len, 0};
  size_t at = 0;
  size_t n = 0;
  memset(out, 0, sizeof *out);
  if (text == NULL || !next_word(&w, &at, &n)) {
    return nb_diag_set(diag, NB_EINVAL, 0, "expected NAME ACTION ...");
  }
  nb_err_t err = parse_name(&out->name, text + at, n, at, diag);
  if (err == NB_OK) {
    err = parse_action(out, &w, diag);
  }
  if (err == NB_OK && next_word(&w, &at, &n)) {
    err = nb_diag_set(diag, NB_EINVAL, at, "text after the route");
  }
  return err;
}

/* The last '=' of the text: IPv4:PORT holds none, a NetBIOS name may
 * ("A=B=1.2.3.4:445" is the name A=B; nb_ssnsrv_route_to_text prints it
 * raw). */
static const char *last_eq(const char *text, size_t len) {
  for (size_t i = len; text != NULL && i > 0; i--) {
    if (text[i - 1] == '=') {
      return text + i - 1;
    }
  }
  return NULL;
}

nb_err_t nb_ssnsrv_forward_parse(nb_ssnsrv_route_t *out, const char *text,
                                 size_t len, nb_diag_t *diag) {
  const char *eq = last_eq(text, len);
  size_t bad = 0;
  memset(out, 0, sizeof *out);
  if (eq == NULL) {
    return nb_diag_set(diag, NB_EINVAL, len, "expected NAME=IPv4:PORT");
  }
  size_t nlen = (size_t)(eq - text);
  nb_err_t err = parse_name(&out->name, text, nlen, 0, diag);
  if (err != NB_OK) {
    return err;
  }
  out->action = NB_SSNSRV_ROUTE_DIRECT;
  if (!parse_ipport(eq + 1, len - nlen - 1, &out->addr, &out->port, &bad)) {
    return nb_diag_set(diag, NB_EINVAL, nlen + 1 + bad,
                       "expected IPv4:PORT (port 1..65535)");
  }
  return NB_OK;
}

static const char *action_word(uint8_t a) {
  switch (a) {
  case NB_SSNSRV_ROUTE_DIRECT:
    return "direct";
  case NB_SSNSRV_ROUTE_NBT:
    return "nbt";
  case NB_SSNSRV_ROUTE_RETARGET:
    return "retarget";
  case NB_SSNSRV_ROUTE_REJECT:
    return "reject";
  default:
    return "?";
  }
}

/* A name as one word of a route: nb_name_to_text() with its spaces (a
 * name may hold them, "A B") escaped as \x20, which nb_name_from_text()
 * reads back. The result still fits NB_NAME_TEXT_MAX, which allows four
 * characters for each of the 15 name bytes. */
static void name_word(const nb_name_t *n, char out[NB_NAME_TEXT_MAX]) {
  char text[NB_NAME_TEXT_MAX];
  size_t j = 0;
  nb_name_to_text(n, text, sizeof text);
  for (size_t i = 0; text[i] != '\0' && j + 4 < NB_NAME_TEXT_MAX; i++) {
    if (text[i] == ' ') {
      memcpy(out + j, "\\x20", 4);
      j += 4;
    } else {
      out[j++] = text[i];
    }
  }
  out[j] = '\0';
}

size_t nb_ssnsrv_route_to_text(const nb_ssnsrv_route_t *r, char *buf,
                               size_t cap) {
  char name[NB_NAME_TEXT_MAX];
  char as[NB_NAME_TEXT_MAX];
  int n = 0;
  name_word(&r->name, name);
  if (r->action == NB_SSNSRV_ROUTE_REJECT) {
    n = snprintf(buf, cap, "%s reject 0x%02x", name, r->code);
  } else {
    n = snprintf(buf, cap, "%s %s %u.%u.%u.%u:%u", name, action_word(r->action),
                 r->addr >> 24, (r->addr >> 16) & 0xffu, (r->addr >> 8) & 0xffu,
                 r->addr & 0xffu, r->port);
  }
  if (n >= 0 && r->action == NB_SSNSRV_ROUTE_NBT && r->rewrite) {
    size_t used = (size_t)n < cap ? (size_t)n : (cap > 0 ? cap - 1 : 0);
    name_word(&r->as, as);
    int m = snprintf(cap > 0 ? buf + used : NULL, cap > used ? cap - used : 0,
                     " as %s", as);
    n = m < 0 ? m : n + m;
  }
  return n < 0 ? 0 : (size_t)n;
}

bool nb_ssnsrv_is_smbserver(const nb_name_t *n) {
  static const uint8_t smbserver[NB_NAME_BYTES] = {
      '*', 'S', 'M', 'B', 'S', 'E', 'R', 'V',
      'E', 'R', ' ', ' ', ' ', ' ', ' ', NB_SUFFIX_SERVER};
  for (size_t i = 0; i < NB_NAME_BYTES; i++) {
    uint8_t c = n->bytes[i];
    if (i < NB_NAME_CHARS && c >= 'a' && c <= 'z') {
      c = (uint8_t)(c - 'a' + 'A');
    }
    if (c != smbserver[i]) {
      return false;
    }
  }
  return true;
}

const nb_ssnsrv_route_t *nb_ssnsrv_route_find(const nb_ssnsrv_route_t *routes,
                                              size_t n,
                                              const nb_name_t *called) {
  for (size_t i = 0; i < n; i++) {
    if (nb_name_equal(&routes[i].name, called)) {
      return &routes[i];
    }
  }
  if (!nb_ssnsrv_is_smbserver(called)) {
    return NULL;
  }
  /* Samba's client calls *SMBSERVER<20> when it knows only an address
   * (source3/libsmb/smbsock_connect.c); the first forwarding route is the
   * server behind that address. */
  for (size_t i = 0; i < n; i++) {
    if (routes[i].action == NB_SSNSRV_ROUTE_DIRECT ||
        routes[i].action == NB_SSNSRV_ROUTE_NBT) {
      return &routes[i];
    }
  }
  return NULL;
}
