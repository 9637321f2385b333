/* SPDX-License-Identifier: BSD-2-Clause */
/* The line protocol of nbtd's datagram socket (docs/DATAGRAM-API.md):
 * parse and format, both directions. Pure: no I/O, no heap.
 *
 * WARNING: nb_dgmsvc_api_parse() parses untrusted input (any local process
 * may connect to the socket). Every token is bounded by the line, which is
 * bounded by NB_DGMSVC_API_LINE_MAX; hex data by 512 bytes. */
#include <stdio.h>
#include <string.h>

#include "nb/dgmsvc.h"

#define MAX_TOKENS 9

typedef struct {
  const char *p;
  size_t len;
  size_t at; /* offset in the line */
} tok_t;

typedef struct {
  tok_t t[MAX_TOKENS];
  size_t n;
  const char *line;
  size_t len;
  nb_diag_t *diag;
} toks_t;

static nb_err_t fail(const toks_t *k, size_t i, const char *field) {
  size_t at = i < k->n ? k->t[i].at : k->len;
  return nb_diag_set(k->diag, NB_EMALFORMED, at, field);
}

/* Split on single spaces; an empty token (two spaces) is malformed. */
static nb_err_t split(toks_t *k) {
  size_t i = 0;
  k->n = 0;
  while (i <= k->len) {
    size_t start = i;
    while (i < k->len && k->line[i] != ' ')
      i++;
    if (i == start || k->n == MAX_TOKENS)
      return nb_diag_set(k->diag, NB_EMALFORMED, start,
                         i == start ? "empty field" : "too many fields");
    k->t[k->n].p = k->line + start;
    k->t[k->n].len = i - start;
    k->t[k->n].at = start;
    k->n++;
    i++; /* past the space (or the end) */
  }
  return NB_OK;
}

static bool tok_is(const tok_t *t, const char *s) {
  return t->len == strlen(s) && memcmp(t->p, s, t->len) == 0;
}

static bool tag_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

static nb_err_t get_tag(const toks_t *k, size_t i, char *out) {
  const tok_t *t = &k->t[i];
  if (t->len > NB_DGMSVC_API_TAG_MAX)
    return nb_diag_set(k->diag, NB_ELIMIT, t->at, "tag (over 16 characters)");
  for (size_t j = 0; j < t->len; j++) {
    if (!tag_char(t->p[j]))
      return fail(k, i, "tag (want [A-Za-z0-9_.-])");
  }
  memcpy(out, t->p, t->len);
  out[t->len] = '\0';
  return NB_OK;
}

static bool get_u32(const tok_t *t, uint32_t max, uint32_t *out) {
  uint64_t v = 0;
  if (t->len == 0 || t->len > 10)
    return false;
  for (size_t j = 0; j < t->len; j++) {
    if (t->p[j] < '0' || t->p[j] > '9')
      return false;
    v = v * 10u + (uint64_t)(t->p[j] - '0');
  }
  if (v > max)
    return false;
  *out = (uint32_t)v;
  return true;
}

/* A dotted quad into host order. */
static bool get_ipv4(const char *p, size_t len, uint32_t *out) {
  uint32_t a = 0;
  size_t i = 0;
  for (int part = 0; part < 4; part++) {
    tok_t t = {p + i, 0, 0};
    uint32_t v = 0;
    while (i + t.len < len && p[i + t.len] != '.')
      t.len++;
    if (!get_u32(&t, 255, &v) || t.len > 3 || (part < 3 && i + t.len >= len) ||
        (part == 3 && i + t.len != len))
      return false;
    a = a << 8 | v;
    i += t.len + 1;
  }
  *out = a;
  return true;
}

static nb_err_t get_name(const toks_t *k, size_t i, nb_name_t *out) {
  const tok_t *t = &k->t[i];
  nb_diag_t d = {NB_OK, 0, NULL};
  if (nb_name_from_text(out, t->p, t->len, &d) != NB_OK)
    return nb_diag_set(k->diag, NB_EMALFORMED, t->at + d.offset,
                       d.field != NULL ? d.field : "name");
  return NB_OK;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static nb_err_t get_data(const toks_t *k, size_t i, nb_dgmsvc_api_msg_t *m) {
  const tok_t *t = &k->t[i];
  m->data_len = 0;
  if (tok_is(t, "-"))
    return NB_OK;
  if (t->len % 2 != 0)
    return fail(k, i, "data (odd number of hex digits)");
  if (t->len / 2 > NB_DGM_USER_DATA_MAX)
    return nb_diag_set(k->diag, NB_ELIMIT, t->at,
                       "data (over 512 bytes, RFC 1001 17.1.2)");
  for (size_t j = 0; j < t->len; j += 2) {
    int hi = hexval(t->p[j]), lo = hexval(t->p[j + 1]);
    if (hi < 0 || lo < 0)
      return nb_diag_set(k->diag, NB_EMALFORMED, t->at + j, "data (hex)");
    m->data[j / 2] = (uint8_t)(hi << 4 | lo);
  }
  m->data_len = t->len / 2;
  return NB_OK;
}

/* The rest of the line from token i on: printable ASCII, <= 127 bytes. */
static nb_err_t get_text(const toks_t *k, size_t i, char *out, size_t cap) {
  out[0] = '\0';
  if (i >= k->n)
    return NB_OK;
  size_t at = k->t[i].at, n = k->len - at;
  if (n >= cap)
    return nb_diag_set(k->diag, NB_ELIMIT, at, "text (over 127 bytes)");
  for (size_t j = 0; j < n; j++) {
    if (k->line[at + j] < 0x20 || k->line[at + j] > 0x7e)
      return nb_diag_set(k->diag, NB_EMALFORMED, at + j, "text (printable)");
  }
  memcpy(out, k->line + at, n);
  out[n] = '\0';
  return NB_OK;
}

static bool get_kind(const tok_t *t, bool send, nb_dgmsvc_api_kind_t *out) {
  if (tok_is(t, send ? "name" : "unique")) {
    *out = send ? NB_DGMSVC_API_K_NAME : NB_DGMSVC_API_K_UNIQUE;
  } else if (tok_is(t, "group")) {
    *out = NB_DGMSVC_API_K_GROUP;
  } else if (tok_is(t, "broadcast")) {
    *out = NB_DGMSVC_API_K_BROADCAST;
  } else {
    return false;
  }
  return true;
}

/* The fields after the verb: how many tokens each verb takes (min, max). */
static const struct {
  const char *word;
  nb_dgmsvc_api_verb_t verb;
  size_t min, max; /* tokens, verb included; max 0 = rest of line */
} verbs[] = {
    {"BIND", NB_DGMSVC_API_BIND, 3, 4},
    {"MONITOR", NB_DGMSVC_API_MONITOR, 2, 2},
    {"UNBIND", NB_DGMSVC_API_UNBIND, 3, 3},
    {"SEND", NB_DGMSVC_API_SEND, 6, 7},
    {"PING", NB_DGMSVC_API_PING, 2, 2},
    {"OK", NB_DGMSVC_API_OK, 2, 0},
    {"ERR", NB_DGMSVC_API_ERR, 3, 0},
    {"DGRAM", NB_DGMSVC_API_DGRAM, 8, 8},
    {"SENT", NB_DGMSVC_API_SENT, 5, 5},
    {"DERR", NB_DGMSVC_API_DERR, 4, 4},
};

static nb_err_t parse_bind(const toks_t *k, nb_dgmsvc_api_msg_t *m) {
  if (tok_is(&k->t[2], "*")) {
    m->star = true;
  } else {
    nb_err_t err = get_name(k, 2, &m->to);
    if (err != NB_OK)
      return err;
  }
  if (k->n == 4 && (!tok_is(&k->t[3], "group") || m->star))
    return fail(k, 3, "BIND option (want 'group')");
  m->group = k->n == 4;
  return NB_OK;
}

/* SEND tag KIND FROM TO HEX [IP] */
static nb_err_t parse_send(const toks_t *k, nb_dgmsvc_api_msg_t *m) {
  nb_err_t err;
  if (!get_kind(&k->t[2], true, &m->kind))
    return fail(k, 2, "kind (want name, group or broadcast)");
  if (tok_is(&k->t[3], "-"))
    m->from_node = true;
  else if ((err = get_name(k, 3, &m->from)) != NB_OK)
    return err;
  m->star = tok_is(&k->t[4], "*");
  if (m->star != (m->kind == NB_DGMSVC_API_K_BROADCAST))
    return fail(k, 4, "destination ('*' exactly for broadcast)");
  if (!m->star && (err = get_name(k, 4, &m->to)) != NB_OK)
    return err;
  if ((err = get_data(k, 5, m)) != NB_OK)
    return err;
  if (k->n == 7 && !get_ipv4(k->t[6].p, k->t[6].len, &m->ip))
    return fail(k, 6, "address (want a dotted quad)");
  return NB_OK;
}

static nb_err_t parse_err_code(const toks_t *k, nb_dgmsvc_api_msg_t *m) {
  for (int v = 0; v >= -64; v--) {
    const char *name = nb_errname((nb_err_t)v);
    if (strcmp(name, "EUNKNOWN") != 0 && tok_is(&k->t[2], name)) {
      m->err = (nb_err_t)v;
      return get_text(k, 3, m->text, sizeof m->text);
    }
  }
  return fail(k, 2, "error code (an nb_errname)");
}

/* DGRAM ID KIND IP:PORT FROM TO B|U HEX */
static nb_err_t parse_dgram(const toks_t *k, nb_dgmsvc_api_msg_t *m) {
  const tok_t *a = &k->t[3];
  const char *colon = memchr(a->p, ':', a->len);
  tok_t port = {NULL, 0, 0};
  uint32_t v = 0;
  nb_err_t err;
  if (!get_u32(&k->t[1], UINT32_MAX, &m->id) || m->id == 0)
    return fail(k, 1, "binding id");
  if (!get_kind(&k->t[2], false, &m->kind))
    return fail(k, 2, "kind (want unique, group or broadcast)");
  if (colon != NULL) {
    port.p = colon + 1;
    port.len = a->len - (size_t)(colon - a->p) - 1;
  }
  if (colon == NULL || !get_ipv4(a->p, (size_t)(colon - a->p), &m->ip) ||
      !get_u32(&port, 65535, &v))
    return fail(k, 3, "address (want IP:PORT)");
  m->port = (uint16_t)v;
  if ((err = get_name(k, 4, &m->from)) != NB_OK ||
      (err = get_name(k, 5, &m->to)) != NB_OK)
    return err;
  if (!tok_is(&k->t[6], "B") && !tok_is(&k->t[6], "U"))
    return fail(k, 6, "B or U");
  m->broadcast = tok_is(&k->t[6], "B");
  return get_data(k, 7, m);
}

static nb_err_t parse_rest(const toks_t *k, nb_dgmsvc_api_msg_t *m) {
  uint32_t v = 0;
  switch (m->verb) {
  case NB_DGMSVC_API_BIND:
    return parse_bind(k, m);
  case NB_DGMSVC_API_UNBIND:
    if (!get_u32(&k->t[2], UINT32_MAX, &m->id) || m->id == 0)
      return fail(k, 2, "binding id");
    return NB_OK;
  case NB_DGMSVC_API_SEND:
    return parse_send(k, m);
  case NB_DGMSVC_API_OK:
    return get_text(k, 2, m->text, sizeof m->text);
  case NB_DGMSVC_API_ERR:
    return parse_err_code(k, m);
  case NB_DGMSVC_API_DGRAM:
    return parse_dgram(k, m);
  case NB_DGMSVC_API_SENT:
    if (!get_kind(&k->t[2], false, &m->kind) ||
        !get_u32(&k->t[3], UINT32_MAX, &m->count) ||
        !get_ipv4(k->t[4].p, k->t[4].len, &m->ip))
      return fail(k, 2, "SENT fields (KIND PACKETS IP)");
    return NB_OK;
  case NB_DGMSVC_API_DERR:
    if (k->t[2].len != 2 || hexval(k->t[2].p[0]) < 0 ||
        hexval(k->t[2].p[1]) < 0 || !get_ipv4(k->t[3].p, k->t[3].len, &m->ip))
      return fail(k, 2, "DERR fields (CODE IP)");
    v = (uint32_t)(hexval(k->t[2].p[0]) << 4 | hexval(k->t[2].p[1]));
    m->code = (uint8_t)v;
    return NB_OK;
  default: /* MONITOR, PING: the tag only */
    return NB_OK;
  }
}

nb_err_t nb_dgmsvc_api_parse(const char *line, size_t len,
                             nb_dgmsvc_api_msg_t *out, nb_diag_t *diag) {
  toks_t k;
  memset(out, 0, offsetof(nb_dgmsvc_api_msg_t, data));
  if (len > 0 && line[len - 1] == '\r')
    len--;
  if (len > NB_DGMSVC_API_LINE_MAX)
    return nb_diag_set(diag, NB_ELIMIT, NB_DGMSVC_API_LINE_MAX, "line");
  k.line = line;
  k.len = len;
  k.diag = diag;
  nb_err_t err = split(&k);
  if (err != NB_OK)
    return err;
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
    if (!tok_is(&k.t[0], verbs[i].word))
      continue;
    if (k.n < verbs[i].min || (verbs[i].max != 0 && k.n > verbs[i].max))
      return fail(&k, k.n < verbs[i].min ? k.n : verbs[i].max,
                  "number of fields");
    out->verb = verbs[i].verb;
    /* DGRAM has no tag; every other message starts with one. */
    if (out->verb != NB_DGMSVC_API_DGRAM &&
        (err = get_tag(&k, 1, out->tag)) != NB_OK)
      return err;
    return parse_rest(&k, out);
  }
  return fail(&k, 0, "verb");
}

/* ---- formatting ------------------------------------------------------------
 */

typedef struct {
  char *buf;
  size_t cap;
  size_t len;
} out_t;

static void put(out_t *o, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (o->len + 1 < o->cap)
      o->buf[o->len] = s[i];
    o->len++;
  }
  if (o->cap > 0)
    o->buf[o->len < o->cap ? o->len : o->cap - 1] = '\0';
}

static void puts_(out_t *o, const char *s) { put(o, s, strlen(s)); }

/* strlen bounded by `cap` (strnlen is POSIX, not C11). */
static size_t bounded_len(const char *s, size_t cap) {
  const char *nul = memchr(s, 0, cap);
  return nul != NULL ? (size_t)(nul - s) : cap;
}

/* A name token: the text form with spaces written \x20. False when the
 * name cannot be one token. */
static bool put_name(out_t *o, const nb_name_t *n) {
  char t[NB_NAME_TEXT_MAX];
  size_t len = nb_name_to_text(n, t, sizeof t);
  if (len >= sizeof t)
    return false;
  puts_(o, " ");
  for (size_t i = 0; i < len; i++) {
    if (t[i] == ' ')
      puts_(o, "\\x20");
    else
      put(o, &t[i], 1);
  }
  return true;
}

static void put_ip(out_t *o, uint32_t ip) {
  char t[16];
  snprintf(t, sizeof t, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255u,
           (ip >> 8) & 255u, ip & 255u);
  puts_(o, t);
}

static void put_data(out_t *o, const nb_dgmsvc_api_msg_t *m) {
  static const char digits[] = "0123456789abcdef";
  puts_(o, " ");
  if (m->data_len == 0)
    puts_(o, "-");
  for (size_t i = 0; i < m->data_len; i++) {
    char h[2] = {digits[m->data[i] >> 4], digits[m->data[i] & 15u]};
    put(o, h, 2);
  }
}

static const char *kind_word(nb_dgmsvc_api_kind_t k) {
  static const char *const w[] = {"name", "unique", "group", "broadcast"};
  return (unsigned)k <= NB_DGMSVC_API_K_BROADCAST ? w[k] : "unique";
}

static bool put_text(out_t *o, const char *text) {
  size_t n = bounded_len(text, 128);
  if (n == 0)
    return true;
  for (size_t i = 0; i < n; i++) {
    if (text[i] < 0x20 || text[i] > 0x7e)
      return false;
  }
  puts_(o, " ");
  put(o, text, n);
  return n < 128;
}

static bool format_send(out_t *o, const nb_dgmsvc_api_msg_t *m) {
  bool ok = true;
  puts_(o, " ");
  puts_(o, kind_word(m->kind));
  if (m->from_node)
    puts_(o, " -");
  else
    ok = put_name(o, &m->from);
  if (m->kind == NB_DGMSVC_API_K_BROADCAST)
    puts_(o, " *");
  else
    ok = ok && put_name(o, &m->to);
  put_data(o, m);
  if (m->ip != 0) {
    puts_(o, " ");
    put_ip(o, m->ip);
  }
  return ok && m->kind != NB_DGMSVC_API_K_UNIQUE;
}

static bool format_dgram(out_t *o, const nb_dgmsvc_api_msg_t *m) {
  char t[32];
  snprintf(t, sizeof t, "DGRAM %lu %s ", (unsigned long)m->id,
           kind_word(m->kind));
  puts_(o, t);
  put_ip(o, m->ip);
  snprintf(t, sizeof t, ":%u", m->port);
  puts_(o, t);
  bool ok = put_name(o, &m->from) && put_name(o, &m->to);
  puts_(o, m->broadcast ? " B" : " U");
  put_data(o, m);
  return ok && m->id != 0 && m->kind != NB_DGMSVC_API_K_NAME;
}

static bool format_body(out_t *o, const nb_dgmsvc_api_msg_t *m) {
  char t[40];
  switch (m->verb) {
  case NB_DGMSVC_API_BIND:
    if (m->star)
      puts_(o, " *");
    else if (!put_name(o, &m->to))
      return false;
    if (m->group && !m->star)
      puts_(o, " group");
    return true;
  case NB_DGMSVC_API_UNBIND:
    snprintf(t, sizeof t, " %lu", (unsigned long)m->id);
    puts_(o, t);
    return m->id != 0;
  case NB_DGMSVC_API_SEND:
    return format_send(o, m);
  case NB_DGMSVC_API_OK:
    return put_text(o, m->text);
  case NB_DGMSVC_API_ERR:
    puts_(o, " ");
    puts_(o, nb_errname(m->err));
    return strcmp(nb_errname(m->err), "EUNKNOWN") != 0 && put_text(o, m->text);
  case NB_DGMSVC_API_SENT:
    snprintf(t, sizeof t, " %s %lu ", kind_word(m->kind),
             (unsigned long)m->count);
    puts_(o, t);
    put_ip(o, m->ip);
    return m->kind != NB_DGMSVC_API_K_NAME;
  case NB_DGMSVC_API_DERR:
    snprintf(t, sizeof t, " %02x ", m->code);
    puts_(o, t);
    put_ip(o, m->ip);
    return true;
  default:
    return true;
  }
}

size_t nb_dgmsvc_api_format(const nb_dgmsvc_api_msg_t *m, char *buf,
                            size_t cap) {
  static const char *const words[] = {"",      "BIND", "MONITOR", "UNBIND",
                                      "SEND",  "PING", "OK",      "ERR",
                                      "DGRAM", "SENT", "DERR"};
  out_t o = {buf, cap, 0};
  if (cap > 0)
    buf[0] = '\0';
  if (m->verb < NB_DGMSVC_API_BIND || m->verb > NB_DGMSVC_API_DERR ||
      m->data_len > NB_DGM_USER_DATA_MAX)
    return 0;
  bool ok;
  if (m->verb == NB_DGMSVC_API_DGRAM) {
    ok = format_dgram(&o, m);
  } else {
    size_t tl = bounded_len(m->tag, sizeof m->tag);
    ok = tl > 0 && tl <= NB_DGMSVC_API_TAG_MAX;
    for (size_t i = 0; i < tl; i++)
      ok = ok && tag_char(m->tag[i]);
    puts_(&o, words[m->verb]);
    puts_(&o, " ");
    put(&o, m->tag, tl);
    ok = format_body(&o, m) && ok;
  }
  puts_(&o, "\n");
  if (!ok) {
    if (cap > 0)
      buf[0] = '\0';
    return 0;
  }
  return o.len;
}
