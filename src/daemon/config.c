/* SPDX-License-Identifier: BSD-2-Clause */
/* nbtd's configuration: nbtd.conf, smb.conf and flags into one model.
 *
 * WARNING: parses untrusted-ish text. Every read is bounded by the length
 * the caller gives; lines, values and lists have caps; nothing allocates.
 *
 * nbtd.conf (docs/CONFIGURATION.md):
 *
 *   file    = *( line LF )           ; CR before LF is ignored
 *   line    = ws [ section / param / comment ] ws
 *   section = "[" name "]"
 *   param   = key ws "=" ws [ value ]
 *   value   = bare / quoted          ; bare runs to the end of the line
 *   quoted  = DQUOTE *( char / "\" DQUOTE / "\\" ) DQUOTE
 *   comment = ( "#" / ";" ) *char    ; only on a line of its own
 *
 * smb.conf: Samba's format (smb.conf(5)): [sections], "name = value",
 * comments starting with '#' or ';', a trailing '\' continues a line,
 * parameter names compared without case and without spaces. */
#include "config.h"

#include <stdio.h>
#include <string.h>

/* The keys. The order is the order nb_config_write() uses. */
typedef enum {
  K_NAME,
  K_ALIAS,
  K_WORKGROUP,
  K_SCOPE,
  K_INTERFACE,
  K_BIND_IFACES_ONLY,
  K_LIMITED_BCAST,
  K_WINS_SERVER,
  K_NODE_TYPE,
  K_RESOLVE_ORDER,
  K_USER,
  K_CONTROL,
  K_PID_FILE,
  K_LOG_LEVEL,
  K_SYSLOG,
  K_PORT,
  K_RATE_LIMIT,
  K_RATE_LIMIT_GLOBAL,
  K_SESSION_PORT,
  K_FORWARD,
  K_ROUTE,
  K_SESSION_LIMIT,
  K_REQUEST_TIMEOUT,
  K_CONNECT_TIMEOUT,
  K_IDLE_TIMEOUT,
  K_KEEPALIVE,
  K_BUFFER_HIGH,
  K_BUFFER_LOW,
  K_NBNS_SERVER, /* [wins] (issue 9) */
  K_WINS_DB,
  K_WINS_TTL_MIN,
  K_WINS_TTL_MAX,
  K_WINS_MAX_NAMES,
  K_DGRAM_SERVICE, /* [datagram] (issue 8) */
  K_DGRAM_PORT,
  K_DGRAM_SOCKET,
  K_NBDD,
  K_NBDD_QUERY,
  K_NBDD_SERVER,
  K_DGRAM_RATE_LIMIT,
  K_DGRAM_RATE_LIMIT_GLOBAL,
  K_COUNT
} key_id_t;

typedef enum {
  SEC_GLOBAL,
  SEC_NAME_SERVICE,
  SEC_SESSION,
  SEC_WINS,
  SEC_DATAGRAM,
  SEC_COUNT
} section_t;

static const char *const section_names[SEC_COUNT] = {
    "global", "name-service", "session", "wins", "datagram"};

/* Value kinds, each with one setter below. */
typedef enum {
  V_NBNAME,
  V_NBNAME_LIST,
  V_SCOPE,
  V_IFACE_LIST,
  V_BOOL,
  V_IPV4_LIST,
  V_NODE,
  V_RESOLVE_LIST,
  V_USER,
  V_PATH,
  V_LOG_LEVEL,
  V_PORT,
  V_RATE,
  V_ROUTE,
  V_SESSION_NUM,
  V_WINS_NUM,
  V_DGRAM /* [datagram]: set_dgram() */
} kind_t;

typedef struct {
  const char *key;
  section_t section;
  kind_t kind;
} key_def_t;

static const key_def_t keys[K_COUNT] = {
    [K_NAME] = {"name", SEC_GLOBAL, V_NBNAME},
    [K_ALIAS] = {"alias", SEC_GLOBAL, V_NBNAME_LIST},
    [K_WORKGROUP] = {"workgroup", SEC_GLOBAL, V_NBNAME},
    [K_SCOPE] = {"scope", SEC_GLOBAL, V_SCOPE},
    [K_INTERFACE] = {"interface", SEC_GLOBAL, V_IFACE_LIST},
    [K_BIND_IFACES_ONLY] = {"bind-interfaces-only", SEC_GLOBAL, V_BOOL},
    [K_LIMITED_BCAST] = {"limited-broadcast", SEC_GLOBAL, V_BOOL},
    [K_WINS_SERVER] = {"wins-server", SEC_GLOBAL, V_IPV4_LIST},
    [K_NODE_TYPE] = {"node-type", SEC_GLOBAL, V_NODE},
    [K_RESOLVE_ORDER] = {"resolve-order", SEC_GLOBAL, V_RESOLVE_LIST},
    [K_USER] = {"user", SEC_GLOBAL, V_USER},
    [K_CONTROL] = {"control", SEC_GLOBAL, V_PATH},
    [K_PID_FILE] = {"pid-file", SEC_GLOBAL, V_PATH},
    [K_LOG_LEVEL] = {"log-level", SEC_GLOBAL, V_LOG_LEVEL},
    [K_SYSLOG] = {"syslog", SEC_GLOBAL, V_BOOL},
    [K_PORT] = {"port", SEC_NAME_SERVICE, V_PORT},
    [K_RATE_LIMIT] = {"rate-limit", SEC_NAME_SERVICE, V_RATE},
    [K_RATE_LIMIT_GLOBAL] = {"rate-limit-global", SEC_NAME_SERVICE, V_RATE},
    [K_SESSION_PORT] = {"session-port", SEC_SESSION, V_SESSION_NUM},
    [K_FORWARD] = {"forward", SEC_SESSION, V_ROUTE},
    [K_ROUTE] = {"route", SEC_SESSION, V_ROUTE},
    [K_SESSION_LIMIT] = {"session-limit", SEC_SESSION, V_SESSION_NUM},
    [K_REQUEST_TIMEOUT] = {"request-timeout", SEC_SESSION, V_SESSION_NUM},
    [K_CONNECT_TIMEOUT] = {"connect-timeout", SEC_SESSION, V_SESSION_NUM},
    [K_IDLE_TIMEOUT] = {"idle-timeout", SEC_SESSION, V_SESSION_NUM},
    [K_KEEPALIVE] = {"keepalive", SEC_SESSION, V_SESSION_NUM},
    [K_BUFFER_HIGH] = {"buffer-high", SEC_SESSION, V_SESSION_NUM},
    [K_BUFFER_LOW] = {"buffer-low", SEC_SESSION, V_SESSION_NUM},
    [K_NBNS_SERVER] = {"nbns-server", SEC_WINS, V_BOOL},
    [K_WINS_DB] = {"db", SEC_WINS, V_PATH},
    [K_WINS_TTL_MIN] = {"wins-ttl-min", SEC_WINS, V_WINS_NUM},
    [K_WINS_TTL_MAX] = {"wins-ttl-max", SEC_WINS, V_WINS_NUM},
    [K_WINS_MAX_NAMES] = {"wins-max-names", SEC_WINS, V_WINS_NUM},
    [K_DGRAM_SERVICE] = {"dgram-service", SEC_DATAGRAM, V_DGRAM},
    [K_DGRAM_PORT] = {"dgram-port", SEC_DATAGRAM, V_DGRAM},
    [K_DGRAM_SOCKET] = {"dgram-socket", SEC_DATAGRAM, V_DGRAM},
    [K_NBDD] = {"nbdd", SEC_DATAGRAM, V_DGRAM},
    [K_NBDD_QUERY] = {"nbdd-query", SEC_DATAGRAM, V_DGRAM},
    [K_NBDD_SERVER] = {"nbdd-server", SEC_DATAGRAM, V_DGRAM},
    [K_DGRAM_RATE_LIMIT] = {"dgram-rate-limit", SEC_DATAGRAM, V_DGRAM},
    [K_DGRAM_RATE_LIMIT_GLOBAL] = {"dgram-rate-limit-global", SEC_DATAGRAM,
                                   V_DGRAM},
};

/* Maps an offset in a joined smb.conf line back to line and column. */
typedef struct smb smb_t;
static void smb_locate(const smb_t *s, const char *at, unsigned *line,
                       unsigned *col);

/* A value being set: its bytes and where they start, for errors. */
typedef struct {
  const char *p;
  size_t len;
  unsigned line;
  unsigned column;  /* column of p[0] */
  const smb_t *smb; /* set when p points into a joined smb.conf line */
} val_t;

static nb_err_t fail(nb_config_error_t *e, const val_t *v, size_t at,
                     const char *what) {
  if (e != NULL) {
    e->err = NB_EINVAL;
    e->line = v->line;
    e->column = v->line == 0 ? 0 : v->column + (unsigned)at;
    if (v->smb != NULL) {
      smb_locate(v->smb, v->p + at, &e->line, &e->column);
    }
    e->what = what;
  }
  return NB_EINVAL;
}

static void set_error_key(nb_config_error_t *e, const char *key, size_t len) {
  if (e != NULL) {
    size_t n = len < sizeof e->key - 1 ? len : sizeof e->key - 1;
    memcpy(e->key, key, n);
    e->key[n] = '\0';
  }
}

static char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static char upper(char c) {
  return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

static bool is_ws(char c) { return c == ' ' || c == '\t'; }

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Case-insensitive comparison of v with a NUL-terminated lower-case word. */
static bool word_is(const char *p, size_t len, const char *word) {
  size_t n = strlen(word);
  if (n != len) {
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    if (lower(p[i]) != word[i]) {
      return false;
    }
  }
  return true;
}

/* A decimal number of at most `max`; `*out` on success. */
static bool parse_uint(const char *p, size_t len, uint32_t max, uint32_t *out) {
  uint32_t v = 0;
  if (len == 0 || len > 10) {
    return false;
  }
  for (size_t i = 0; i < len; i++) {
    if (!is_digit(p[i])) {
      return false;
    }
    uint64_t n = (uint64_t)v * 10u + (uint64_t)(p[i] - '0');
    if (n > max) {
      return false;
    }
    v = (uint32_t)n;
  }
  *out = v;
  return true;
}

/* A dotted quad, each part 0..255 in at most three digits, no leading
 * zeros. On failure `*bad` is the offset of the first bad byte. */
static bool parse_ipv4(const char *p, size_t len, uint32_t *out, size_t *bad) {
  uint32_t addr = 0;
  size_t i = 0;
  for (int part = 0; part < 4; part++) {
    size_t start = i;
    while (i < len && is_digit(p[i]) && i - start < 3) {
      i++;
    }
    uint32_t v = 0;
    if (i == start || !parse_uint(p + start, i - start, 255, &v) ||
        (p[start] == '0' && i - start > 1)) {
      *bad = start;
      return false;
    }
    addr = addr << 8 | v;
    if (part < 3) {
      if (i >= len || p[i] != '.') {
        *bad = i;
        return false;
      }
      i++;
    }
  }
  if (i != len) {
    *bad = i;
    return false;
  }
  *out = addr;
  return true;
}

/* Characters Windows refuses in NetBIOS computer names (and '.', which
 * starts the scope in the text form, and space). */
static bool nbname_char_ok(char c) {
  return c > 0x20 && c < 0x7f && strchr("\\/:*?\"<>|.", c) == NULL;
}

static nb_err_t set_nbname(nb_config_nbname_t *out, const val_t *v,
                           nb_config_error_t *e) {
  if (v->len == 0) {
    return fail(e, v, 0, "empty NetBIOS name");
  }
  if (v->len > NB_NAME_CHARS) {
    return fail(e, v, NB_NAME_CHARS, "NetBIOS name longer than 15 bytes");
  }
  for (size_t i = 0; i < v->len; i++) {
    if (!nbname_char_ok(v->p[i])) {
      return fail(e, v, i, "character not allowed in a NetBIOS name");
    }
  }
  for (size_t i = 0; i < v->len; i++) {
    out->s[i] = upper(v->p[i]);
  }
  out->s[v->len] = '\0';
  return NB_OK;
}

static nb_err_t set_scope(nb_config_t *c, const val_t *v,
                          nb_config_error_t *e) {
  nb_name_t tmp;
  nb_diag_t d = {NB_OK, 0, NULL};
  memset(&tmp, 0, sizeof tmp);
  if (nb_name_set_scope(&tmp, v->p, v->len, &d) != NB_OK) {
    return fail(e, v, d.offset < v->len ? d.offset : v->len,
                d.field != NULL ? d.field : "bad scope");
  }
  memcpy(c->scope, tmp.scope, (size_t)tmp.scope_len + 1);
  return NB_OK;
}

/* A dotted netmask with contiguous ones, as a prefix length. */
static bool mask_to_prefix(uint32_t mask, uint8_t *prefix) {
  uint8_t n = 0;
  while (n < 32 && (mask & (0x80000000u >> n)) != 0) {
    n++;
  }
  if (n < 32 && (mask << n) != 0) {
    return false;
  }
  *prefix = n;
  return true;
}

static bool ifname_char_ok(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
         strchr("-_.:@*?[]", c) != NULL;
}

static nb_err_t parse_ifname(nb_config_iface_t *i, const val_t *v,
                             nb_config_error_t *e) {
  if (v->len > NB_CONFIG_IFNAME_MAX) {
    return fail(e, v, NB_CONFIG_IFNAME_MAX, "interface name too long");
  }
  for (size_t k = 0; k < v->len; k++) {
    if (!ifname_char_ok(v->p[k])) {
      return fail(e, v, k, "character not allowed in an interface name");
    }
  }
  memcpy(i->ifname, v->p, v->len);
  i->ifname[v->len] = '\0';
  return NB_OK;
}

/* ADDR, ADDR/LEN, ADDR/MASK or an interface name. */
static nb_err_t parse_iface(nb_config_iface_t *i, const val_t *v,
                            nb_config_error_t *e) {
  memset(i, 0, sizeof *i);
  i->prefix = NB_CONFIG_PREFIX_UNSET;
  if (v->len == 0 || !is_digit(v->p[0])) {
    return parse_ifname(i, v, e);
  }
  const char *slash = memchr(v->p, '/', v->len);
  size_t alen = slash != NULL ? (size_t)(slash - v->p) : v->len;
  size_t bad = 0;
  if (!parse_ipv4(v->p, alen, &i->addr, &bad)) {
    return fail(e, v, bad, "bad IPv4 address");
  }
  if (slash == NULL) {
    return NB_OK;
  }
  const char *m = slash + 1;
  size_t mlen = v->len - alen - 1;
  uint32_t n = 0;
  if (memchr(m, '.', mlen) != NULL) {
    if (!parse_ipv4(m, mlen, &n, &bad)) {
      return fail(e, v, alen + 1 + bad, "bad netmask");
    }
    if (!mask_to_prefix(n, &i->prefix)) {
      return fail(e, v, alen + 1, "netmask ones not contiguous");
    }
  } else if (parse_uint(m, mlen, 32, &n)) {
    i->prefix = (uint8_t)n;
  } else {
    return fail(e, v, alen + 1, "prefix length not 0..32");
  }
  return NB_OK;
}

static nb_err_t parse_bool(bool *out, const val_t *v, nb_config_error_t *e) {
  static const char *const yes[] = {"yes", "true", "on", "1"};
  static const char *const no[] = {"no", "false", "off", "0"};
  for (size_t i = 0; i < 4; i++) {
    if (word_is(v->p, v->len, yes[i]) || word_is(v->p, v->len, no[i])) {
      *out = word_is(v->p, v->len, yes[i]);
      return NB_OK;
    }
  }
  return fail(e, v, 0, "not a boolean (yes/no)");
}

static nb_err_t parse_node(nb_config_t *c, const val_t *v,
                           nb_config_error_t *e) {
  static const char letters[] = "bpmh";
  if (v->len == 1) {
    const char *hit = strchr(letters, lower(v->p[0]));
    if (hit != NULL && *hit != '\0') {
      c->node_type = (nb_config_node_t)*hit;
      return NB_OK;
    }
  }
  return fail(e, v, 0, "node type not b, p, m or h");
}

static const char *const resolve_names[] = {NULL, "lmhosts", "host", "wins",
                                            "bcast"};

static nb_err_t parse_resolve(nb_config_resolve_t *out, const val_t *v,
                              nb_config_error_t *e) {
  for (int i = NB_CONFIG_RESOLVE_LMHOSTS; i <= NB_CONFIG_RESOLVE_BCAST; i++) {
    if (word_is(v->p, v->len, resolve_names[i])) {
      *out = (nb_config_resolve_t)i;
      return NB_OK;
    }
  }
  return fail(e, v, 0, "not lmhosts, host, wins or bcast");
}

static nb_err_t parse_user(char *out, const val_t *v, nb_config_error_t *e) {
  if (v->len > NB_CONFIG_USER_MAX) {
    return fail(e, v, NB_CONFIG_USER_MAX, "user name too long");
  }
  for (size_t i = 0; i < v->len; i++) {
    char ch = v->p[i];
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              is_digit(ch) || ch == '_' || ch == '.' || (ch == '-' && i > 0);
    if (!ok) {
      return fail(e, v, i, "character not allowed in a user name");
    }
  }
  memcpy(out, v->p, v->len);
  out[v->len] = '\0';
  return NB_OK;
}

static nb_err_t parse_path(char *out, const val_t *v, nb_config_error_t *e) {
  if (v->len > NB_CONFIG_PATH_MAX) {
    return fail(e, v, NB_CONFIG_PATH_MAX, "path too long");
  }
  if (v->len > 0 && v->p[0] != '/') {
    return fail(e, v, 0, "path not absolute");
  }
  for (size_t i = 0; i < v->len; i++) {
    if (v->p[i] < 0x20 || v->p[i] > 0x7e) {
      return fail(e, v, i, "control or non-ASCII byte in a path");
    }
  }
  memcpy(out, v->p, v->len);
  out[v->len] = '\0';
  return NB_OK;
}

static const char *const level_names[] = {"err", "warning", "notice", "info",
                                          "debug"};

static nb_err_t parse_level(nb_log_level_t *out, const val_t *v,
                            nb_config_error_t *e) {
  uint32_t n = 0;
  for (size_t i = 0; i < 5; i++) {
    if (word_is(v->p, v->len, level_names[i])) {
      *out = (nb_log_level_t)(NB_LOG_ERR + (int)i);
      return NB_OK;
    }
  }
  if (word_is(v->p, v->len, "error") || word_is(v->p, v->len, "warn")) {
    *out = lower(v->p[0]) == 'e' ? NB_LOG_ERR : NB_LOG_WARNING;
    return NB_OK;
  }
  if (parse_uint(v->p, v->len, NB_LOG_DEBUG, &n) && n >= NB_LOG_ERR) {
    *out = (nb_log_level_t)n;
    return NB_OK;
  }
  return fail(e, v, 0, "log level not err, warning, notice, info or debug");
}

/* Split a list value on spaces, tabs and commas; `one` sets one item. */
typedef nb_err_t (*item_fn)(nb_config_t *c, const val_t *item,
                            nb_config_error_t *e);

static nb_err_t for_each_item(nb_config_t *c, const val_t *v, item_fn one,
                              nb_config_error_t *e) {
  size_t i = 0;
  while (i < v->len) {
    while (i < v->len && (is_ws(v->p[i]) || v->p[i] == ',')) {
      i++;
    }
    size_t start = i;
    while (i < v->len && !is_ws(v->p[i]) && v->p[i] != ',') {
      i++;
    }
    if (i > start) {
      val_t item = {v->p + start, i - start, v->line,
                    v->column + (unsigned)start, v->smb};
      nb_err_t err = one(c, &item, e);
      if (err != NB_OK) {
        return err;
      }
    }
  }
  return NB_OK;
}

static nb_err_t item_alias(nb_config_t *c, const val_t *v,
                           nb_config_error_t *e) {
  if (c->n_aliases >= NB_CONFIG_MAX_ALIASES) {
    return fail(e, v, 0, "too many aliases (at most 8)");
  }
  nb_err_t err = set_nbname(&c->aliases[c->n_aliases], v, e);
  if (err == NB_OK) {
    c->n_aliases++;
  }
  return err;
}

static nb_err_t item_iface(nb_config_t *c, const val_t *v,
                           nb_config_error_t *e) {
  if (c->n_ifaces >= NB_CONFIG_MAX_IFACES) {
    return fail(e, v, 0, "too many interfaces (at most 16)");
  }
  nb_err_t err = parse_iface(&c->ifaces[c->n_ifaces], v, e);
  if (err == NB_OK) {
    c->n_ifaces++;
  }
  return err;
}

static nb_err_t item_wins(nb_config_t *c, const val_t *v,
                          nb_config_error_t *e) {
  size_t bad = 0;
  if (c->n_wins >= NB_CONFIG_MAX_WINS) {
    return fail(e, v, 0, "too many WINS servers (at most 4)");
  }
  if (!parse_ipv4(v->p, v->len, &c->wins[c->n_wins], &bad)) {
    return fail(e, v, bad, "WINS server not an IPv4 address");
  }
  c->n_wins++;
  return NB_OK;
}

static nb_err_t item_resolve(nb_config_t *c, const val_t *v,
                             nb_config_error_t *e) {
  if (c->n_resolve >= NB_CONFIG_MAX_RESOLVE) {
    return fail(e, v, 0, "too many resolve methods (at most 4)");
  }
  nb_err_t err = parse_resolve(&c->resolve[c->n_resolve], v, e);
  if (err == NB_OK) {
    c->n_resolve++;
  }
  return err;
}

static nb_err_t set_number(nb_config_t *c, key_id_t k, const val_t *v,
                           nb_config_error_t *e) {
  uint32_t n = 0;
  if (k == K_PORT) {
    if (!parse_uint(v->p, v->len, 65535, &n) || n == 0) {
      return fail(e, v, 0, "port not 1..65535");
    }
    c->port = (uint16_t)n;
    return NB_OK;
  }
  if (!parse_uint(v->p, v->len, 1000000, &n)) {
    return fail(e, v, 0, "rate limit not 0..1000000");
  }
  if (k == K_RATE_LIMIT) {
    c->rate_limit = n;
  } else {
    c->rate_limit_global = n;
  }
  return NB_OK;
}

/* Empty the list of a list key when a new source sets it first. */
static void start_list(nb_config_t *c, key_id_t k) {
  if (c->src_of[k] == c->src) {
    return;
  }
  c->src_of[k] = c->src;
  switch (k) {
  case K_ALIAS:
    c->n_aliases = 0;
    break;
  case K_INTERFACE:
    c->n_ifaces = 0;
    break;
  case K_WINS_SERVER:
    c->n_wins = 0;
    break;
  case K_RESOLVE_ORDER:
    c->n_resolve = 0;
    break;
  default:
    break;
  }
}

static nb_err_t set_list(nb_config_t *c, key_id_t k, const val_t *v,
                         nb_config_error_t *e) {
  start_list(c, k);
  switch (keys[k].kind) {
  case V_NBNAME_LIST:
    return for_each_item(c, v, item_alias, e);
  case V_IFACE_LIST:
    return for_each_item(c, v, item_iface, e);
  case V_IPV4_LIST:
    return for_each_item(c, v, item_wins, e);
  default:
    return for_each_item(c, v, item_resolve, e);
  }
}

/* ---- [session] (issue 7): routes and session service numbers ---------
 */

/* `forward NAME=IP:PORT` and `route NAME ACTION ...` (nb/ssnsrv.h) fill
 * one route table: a later source that sets either replaces it. */
static nb_err_t add_route(nb_config_t *c, key_id_t k, const val_t *v,
                          nb_config_error_t *e) {
  nb_diag_t d = {NB_OK, 0, NULL};
  nb_err_t err;
  if (c->src_of[K_ROUTE] != c->src) {
    c->src_of[K_ROUTE] = c->src;
    c->n_routes = 0;
  }
  if (c->n_routes >= NB_CONFIG_MAX_ROUTES) {
    return fail(e, v, 0, "too many routes (at most 32)");
  }
  err = k == K_FORWARD
            ? nb_ssnsrv_forward_parse(&c->routes[c->n_routes], v->p, v->len, &d)
            : nb_ssnsrv_route_parse(&c->routes[c->n_routes], v->p, v->len, &d);
  if (err != NB_OK) {
    return fail(e, v, d.offset < v->len ? d.offset : v->len,
                d.field != NULL ? d.field : "bad route");
  }
  c->n_routes++;
  return NB_OK;
}

static nb_err_t set_session_number(nb_config_t *c, key_id_t k, const val_t *v,
                                   nb_config_error_t *e) {
  static const struct {
    key_id_t k;
    uint32_t min, max;
    const char *what;
  } lim[] = {
      {K_SESSION_PORT, 1, 65535, "port not 1..65535"},
      {K_SESSION_LIMIT, 1, 1000000, "session limit not 1..1000000"},
      {K_REQUEST_TIMEOUT, 1, 3600, "timeout not 1..3600 s"},
      {K_CONNECT_TIMEOUT, 1, 3600, "timeout not 1..3600 s"},
      {K_IDLE_TIMEOUT, 0, 604800, "idle timeout not 0..604800 s"},
      {K_KEEPALIVE, 0, 86400, "keepalive not 0..86400 s"},
      {K_BUFFER_HIGH, 4096, 1u << 26, "buffer-high not 4096..64 MiB"},
      {K_BUFFER_LOW, 0, 1u << 26, "buffer-low not 0..64 MiB"},
  };
  uint32_t *dst[] = {NULL,
                     &c->session_limit,
                     &c->request_timeout_s,
                     &c->connect_timeout_s,
                     &c->idle_timeout_s,
                     &c->keepalive_s,
                     &c->buffer_high,
                     &c->buffer_low};
  for (size_t i = 0; i < sizeof lim / sizeof lim[0]; i++) {
    uint32_t n = 0;
    if (lim[i].k != k) {
      continue;
    }
    if (!parse_uint(v->p, v->len, lim[i].max, &n) || n < lim[i].min) {
      return fail(e, v, 0, lim[i].what);
    }
    if (k == K_SESSION_PORT) {
      c->session_port = (uint16_t)n;
    } else {
      *dst[i] = n;
    }
    return NB_OK;
  }
  return fail(e, v, 0, "unknown session key");
}

/* ---- [wins] (issue 9): the NBNS server -----------------------------------
 * TTLs in seconds: the minimum granted (RFC 1001 15.1.3.2 allows raising
 * short proposals) and an optional maximum (0 = none; a cap is nmbd's
 * deviation from the RFC). */
static nb_err_t set_wins_number(nb_config_t *c, key_id_t k, const val_t *v,
                                nb_config_error_t *e) {
  uint32_t n = 0;
  if (k == K_WINS_MAX_NAMES) {
    if (!parse_uint(v->p, v->len, 4000000, &n) || n < 16) {
      return fail(e, v, 0, "max names not 16..4000000");
    }
    c->wins_max_names = n;
    return NB_OK;
  }
  if (!parse_uint(v->p, v->len, 315360000, &n) ||
      (k == K_WINS_TTL_MIN && n < 1)) {
    return fail(e, v, 0, "TTL not 1..315360000 s (max: 0 = none)");
  }
  *(k == K_WINS_TTL_MIN ? &c->wins_ttl_min_s : &c->wins_ttl_max_s) = n;
  return NB_OK;
}

/* ---- [datagram] (issue 8): UDP 138, the application socket, the NBDD ----
 */
static nb_err_t set_dgram(nb_config_t *c, key_id_t k, const val_t *v,
                          nb_config_error_t *e) {
  uint32_t n = 0;
  size_t bad = 0;
  switch (k) {
  case K_DGRAM_SERVICE:
    return parse_bool(&c->dgram_service, v, e);
  case K_NBDD_QUERY:
    return parse_bool(&c->nbdd_query, v, e);
  case K_NBDD_SERVER:
    return parse_bool(&c->nbdd_server, v, e);
  case K_DGRAM_SOCKET:
    return parse_path(c->dgram_socket, v, e);
  case K_NBDD:
    if (v->len == 0) {
      c->nbdd = 0; /* none */
      return NB_OK;
    }
    return parse_ipv4(v->p, v->len, &c->nbdd, &bad)
               ? NB_OK
               : fail(e, v, bad, "NBDD not an IPv4 address");
  case K_DGRAM_PORT:
    if (!parse_uint(v->p, v->len, 65535, &n) || n == 0) {
      return fail(e, v, 0, "port not 1..65535");
    }
    c->dgram_port = (uint16_t)n;
    return NB_OK;
  default: /* the two rate limits */
    if (!parse_uint(v->p, v->len, 1000000, &n)) {
      return fail(e, v, 0, "rate limit not 0..1000000");
    }
    *(k == K_DGRAM_RATE_LIMIT ? &c->dgram_rate_limit
                              : &c->dgram_rate_limit_global) = n;
    return NB_OK;
  }
}

static nb_err_t set_value(nb_config_t *c, key_id_t k, const val_t *v,
                          nb_config_error_t *e) {
  if (keys[k].kind == V_DGRAM) {
    return set_dgram(c, k, v, e);
  }
  switch (k) {
  case K_NAME:
    return set_nbname(&c->name, v, e);
  case K_WORKGROUP:
    return set_nbname(&c->workgroup, v, e);
  case K_SCOPE:
    return set_scope(c, v, e);
  case K_BIND_IFACES_ONLY:
    return parse_bool(&c->bind_interfaces_only, v, e);
  case K_LIMITED_BCAST:
    return parse_bool(&c->limited_broadcast, v, e);
  case K_SYSLOG:
    return parse_bool(&c->syslog, v, e);
  case K_NBNS_SERVER:
    return parse_bool(&c->nbns_server, v, e);
  case K_WINS_DB:
    return parse_path(c->wins_db, v, e);
  case K_WINS_TTL_MIN:
  case K_WINS_TTL_MAX:
  case K_WINS_MAX_NAMES:
    return set_wins_number(c, k, v, e);
  case K_NODE_TYPE:
    return parse_node(c, v, e);
  case K_USER:
    return parse_user(c->user, v, e);
  case K_CONTROL:
    return parse_path(c->control, v, e);
  case K_PID_FILE:
    return parse_path(c->pid_file, v, e);
  case K_LOG_LEVEL:
    return parse_level(&c->log_level, v, e);
  case K_PORT:
  case K_RATE_LIMIT:
  case K_RATE_LIMIT_GLOBAL:
    return set_number(c, k, v, e);
  case K_FORWARD:
  case K_ROUTE:
    return add_route(c, k, v, e);
  case K_SESSION_PORT:
  case K_SESSION_LIMIT:
  case K_REQUEST_TIMEOUT:
  case K_CONNECT_TIMEOUT:
  case K_IDLE_TIMEOUT:
  case K_KEEPALIVE:
  case K_BUFFER_HIGH:
  case K_BUFFER_LOW:
    return set_session_number(c, k, v, e);
  default:
    return set_list(c, k, v, e);
  }
}

static int find_key(const char *key, size_t len) {
  for (int k = 0; k < K_COUNT; k++) {
    if (strlen(keys[k].key) == len && memcmp(keys[k].key, key, len) == 0) {
      return k;
    }
  }
  return -1;
}

static nb_err_t set_key(nb_config_t *c, key_id_t k, const val_t *v,
                        nb_config_error_t *e) {
  set_error_key(e, keys[k].key, strlen(keys[k].key));
  return set_value(c, k, v, e);
}

void nb_config_init(nb_config_t *c) {
  memset(c, 0, sizeof *c);
  memcpy(c->workgroup.s, "WORKGROUP", sizeof "WORKGROUP");
  memcpy(c->control, NB_CONFIG_CONTROL_DEFAULT,
         sizeof NB_CONFIG_CONTROL_DEFAULT);
  c->log_level = NB_LOG_NOTICE;
  c->limited_broadcast = true;
  c->port = 137;
  c->rate_limit = 20; /* the engine's defaults */
  c->rate_limit_global = 2000;
  c->session_port = 139; /* [session]: nb/ssnsrv.h defaults */
  c->session_limit = 1000;
  c->request_timeout_s = NB_SSNSRV_REQUEST_TIMEOUT_MS / 1000u;
  c->connect_timeout_s = NB_SSNSRV_CONNECT_TIMEOUT_MS / 1000u;
  c->idle_timeout_s = 0;
  c->keepalive_s = 60;
  c->buffer_high = NB_SSNSRV_BUF_HIGH;
  c->buffer_low = NB_SSNSRV_BUF_LOW;
  memcpy(c->wins_db, NB_CONFIG_WINS_DB_DEFAULT,
         sizeof NB_CONFIG_WINS_DB_DEFAULT); /* [wins] */
  c->wins_ttl_min_s = 300;
  c->wins_ttl_max_s = 0;
  c->wins_max_names = 65536;
  c->dgram_service = true; /* [datagram]: nb/dgmsvc.h defaults */
  c->dgram_port = 138;
  memcpy(c->dgram_socket, NB_CONFIG_DGRAM_SOCKET_DEFAULT,
         sizeof NB_CONFIG_DGRAM_SOCKET_DEFAULT);
  c->nbdd_query = true;
  c->dgram_rate_limit = 5;
  c->dgram_rate_limit_global = 100;
  c->src = 1;
}

void nb_config_begin_source(nb_config_t *c) {
  c->src = (uint8_t)(c->src == 0xff ? 1 : c->src + 1);
  if (c->src == 1) {
    memset(c->src_of, 0, sizeof c->src_of); /* wrapped: forget sources */
  }
}

/* Switches that are also flags `--no-KEY` (a default of yes to turn off). */
static bool negatable(int k) { return k == K_LIMITED_BCAST; }

/* A flag's key: a key, or `no-KEY` for a negatable switch (*negated). */
static int find_flag(const char *key, bool *negated) {
  size_t len = strlen(key);
  int k = find_key(key, len);
  *negated = false;
  if (k < 0 && len > 3 && memcmp(key, "no-", 3) == 0) {
    k = find_key(key + 3, len - 3);
    *negated = k >= 0;
    k = negatable(k) ? k : -1;
  }
  return k;
}

nb_err_t nb_config_set(nb_config_t *c, const char *key, const char *value,
                       size_t vlen, nb_config_error_t *e) {
  bool negated = false;
  int k = find_flag(key, &negated);
  val_t v = {value, vlen, 0, 0, NULL};
  if (k >= 0 && negated) { /* --no-KEY[=yes|no]: KEY gets the opposite */
    bool on = false;
    set_error_key(e, key, strlen(key));
    if (parse_bool(&on, &v, e) != NB_OK) {
      return NB_EINVAL;
    }
    v.p = on ? "no" : "yes";
    v.len = strlen(v.p);
  }
  if (k < 0) {
    set_error_key(e, key, strlen(key));
    if (e != NULL) {
      e->err = NB_ENOTFOUND;
      e->line = e->column = 0;
      e->what = "unknown option";
    }
    return NB_ENOTFOUND;
  }
  return set_key(c, (key_id_t)k, &v, e);
}

bool nb_config_key_is_switch(const char *key) {
  bool negated = false;
  int k = find_flag(key, &negated);
  return k >= 0 && keys[k].kind == V_BOOL;
}

bool nb_config_key_exists(const char *key) {
  bool negated = false;
  return find_flag(key, &negated) >= 0;
}

/* ---- nbtd.conf ---------------------------------------------------------
 */

/* One physical line being parsed. */
typedef struct {
  const char *p;
  size_t len;
  unsigned line;
  section_t section;
  nb_config_t *c;
  nb_config_error_t *e;
} line_t;

static nb_err_t line_fail(const line_t *l, size_t at, const char *what) {
  val_t v = {l->p, l->len, l->line, 1, NULL};
  return fail(l->e, &v, at, what);
}

static size_t skip_ws(const line_t *l, size_t i) {
  while (i < l->len && is_ws(l->p[i])) {
    i++;
  }
  return i;
}

static nb_err_t parse_section(line_t *l, size_t i) {
  size_t start = i + 1;
  size_t end = start;
  while (end < l->len && l->p[end] != ']') {
    end++;
  }
  if (end >= l->len) {
    return line_fail(l, l->len, "section header without ']'");
  }
  if (skip_ws(l, end + 1) != l->len) {
    return line_fail(l, skip_ws(l, end + 1), "text after section header");
  }
  for (int s = 0; s < SEC_COUNT; s++) {
    if (word_is(l->p + start, end - start, section_names[s])) {
      l->section = (section_t)s;
      return NB_OK;
    }
  }
  set_error_key(l->e, l->p + start, end - start);
  return line_fail(l, start, "unknown section");
}

/* A quoted value: unescape into `buf`; `*vlen` its length. */
static nb_err_t unquote(const line_t *l, size_t i, char *buf, size_t *vlen) {
  size_t n = 0;
  for (i++; i < l->len; i++) {
    char ch = l->p[i];
    if (ch == '"') {
      if (skip_ws(l, i + 1) != l->len) {
        return line_fail(l, skip_ws(l, i + 1), "text after quoted value");
      }
      *vlen = n;
      return NB_OK;
    }
    if (ch == '\\') {
      if (i + 1 >= l->len || (l->p[i + 1] != '"' && l->p[i + 1] != '\\')) {
        return line_fail(l, i, "bad escape (only \\\" and \\\\)");
      }
      ch = l->p[++i];
    }
    buf[n++] = ch;
  }
  return line_fail(l, l->len, "quoted value without closing '\"'");
}

static nb_err_t parse_param_value(line_t *l, key_id_t k, size_t i) {
  char buf[NB_CONFIG_LINE_MAX];
  val_t v = {l->p + i, l->len - i, l->line, (unsigned)i + 1, NULL};
  if (i < l->len && l->p[i] == '"') {
    size_t vlen = 0;
    nb_err_t err = unquote(l, i, buf, &vlen);
    if (err != NB_OK) {
      return err;
    }
    v.p = buf;
    v.len = vlen;
    v.column++;
  }
  while (v.len > 0 && is_ws(v.p[v.len - 1])) {
    v.len--;
  }
  return set_key(l->c, k, &v, l->e);
}

static bool key_char(char c) {
  return (c >= 'a' && c <= 'z') || is_digit(c) || c == '-';
}

static nb_err_t parse_param(line_t *l, size_t i) {
  size_t start = i;
  while (i < l->len && key_char(l->p[i])) {
    i++;
  }
  if (i == start) {
    return line_fail(l, i, "expected a key, a [section] or a comment");
  }
  set_error_key(l->e, l->p + start, i - start);
  int k = find_key(l->p + start, i - start);
  if (k < 0) {
    return line_fail(l, start, "unknown key");
  }
  if (keys[k].section != l->section) {
    return line_fail(l, start, "key belongs to another section");
  }
  i = skip_ws(l, i);
  if (i >= l->len || l->p[i] != '=') {
    return line_fail(l, i, "expected '='");
  }
  return parse_param_value(l, (key_id_t)k, skip_ws(l, i + 1));
}

static nb_err_t parse_line(line_t *l) {
  if (l->len > NB_CONFIG_LINE_MAX) {
    return line_fail(l, NB_CONFIG_LINE_MAX, "line longer than 1024 bytes");
  }
  for (size_t i = 0; i < l->len; i++) {
    if (l->p[i] == '\0') {
      return line_fail(l, i, "NUL byte");
    }
  }
  size_t i = skip_ws(l, 0);
  if (i == l->len || l->p[i] == '#' || l->p[i] == ';') {
    return NB_OK;
  }
  if (l->p[i] == '[') {
    return parse_section(l, i);
  }
  return parse_param(l, i);
}

/* Call `fn` for each line of `text` (LF-separated, CR before LF dropped). */
typedef nb_err_t (*line_fn)(line_t *l, void *ctx);

static nb_err_t for_each_line(const char *text, size_t len, line_t *l,
                              line_fn fn, void *ctx) {
  size_t pos = 0;
  l->line = 0;
  while (pos < len) {
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t end = nl != NULL ? (size_t)(nl - text) : len;
    l->p = text + pos;
    l->len = end - pos;
    l->line++;
    if (l->len > 0 && l->p[l->len - 1] == '\r') {
      l->len--;
    }
    nb_err_t err = fn(l, ctx);
    if (err != NB_OK) {
      return err;
    }
    pos = end + 1;
  }
  return NB_OK;
}

static nb_err_t conf_line(line_t *l, void *ctx) {
  (void)ctx;
  return parse_line(l);
}

static nb_err_t check_size(size_t len, nb_config_error_t *e) {
  if (len <= NB_CONFIG_FILE_MAX) {
    return NB_OK;
  }
  if (e != NULL) {
    e->err = NB_ELIMIT;
    e->line = e->column = 0;
    e->what = "file larger than 256 KiB";
    e->key[0] = '\0';
  }
  return NB_ELIMIT;
}

nb_err_t nb_config_parse(nb_config_t *c, const char *text, size_t len,
                         nb_config_error_t *e) {
  line_t l = {NULL, 0, 0, SEC_GLOBAL, c, e};
  if (e != NULL) {
    e->key[0] = '\0';
  }
  nb_err_t err = check_size(len, e);
  return err != NB_OK ? err : for_each_line(text, len, &l, conf_line, NULL);
}

/* ---- smb.conf ----------------------------------------------------------
 */

#define SMB_LINE_MAX 4096
#define SMB_SEGMENTS 64

/* A logical smb.conf line: physical lines joined at a trailing '\'. The
 * segment table maps an offset in `buf` back to a line and column. */
struct smb {
  char buf[SMB_LINE_MAX];
  size_t len;
  size_t seg_off[SMB_SEGMENTS];
  unsigned seg_line[SMB_SEGMENTS];
  size_t n_seg;
  bool in_global;
  bool continued;
  nb_config_t *c;
  nb_config_error_t *e;
};

static void smb_locate(const smb_t *s, const char *at, unsigned *line,
                       unsigned *col) {
  size_t off = (size_t)(at - s->buf);
  size_t k = 0;
  while (k + 1 < s->n_seg && s->seg_off[k + 1] <= off) {
    k++;
  }
  *line = s->seg_line[k];
  *col = (unsigned)(off - s->seg_off[k]) + 1;
}

static nb_err_t smb_fail(const smb_t *s, size_t off, const char *what) {
  val_t v = {s->buf, s->len, 1, 1, s};
  return fail(s->e, &v, off, what);
}

/* The parameters nbtd reads, by their squeezed lower-case names. */
static const struct {
  const char *smb;
  key_id_t key;
} smb_params[] = {
    {"netbiosname", K_NAME},        {"netbiosaliases", K_ALIAS},
    {"workgroup", K_WORKGROUP},     {"netbiosscope", K_SCOPE},
    {"interfaces", K_INTERFACE},    {"bindinterfacesonly", K_BIND_IFACES_ONLY},
    {"winsserver", K_WINS_SERVER},  {"nameresolveorder", K_RESOLVE_ORDER},
    {"winssupport", K_NBNS_SERVER},
};

/* Squeeze a parameter name: drop spaces, lower-case. */
static size_t squeeze(const char *p, size_t len, char *out, size_t cap) {
  size_t n = 0;
  for (size_t i = 0; i < len && n < cap; i++) {
    if (!is_ws(p[i])) {
      out[n++] = lower(p[i]);
    }
  }
  return n;
}

/* `wins server` items may be "tag:IP"; keep the address. */
static nb_err_t smb_wins_item(nb_config_t *c, const val_t *v,
                              nb_config_error_t *e) {
  val_t a = *v;
  const char *colon = memchr(v->p, ':', v->len);
  if (colon != NULL) {
    size_t skip = (size_t)(colon - v->p) + 1;
    a.p += skip;
    a.len -= skip;
    a.column += (unsigned)skip;
  }
  return item_wins(c, &a, e);
}

/* `interfaces` items may carry ";options" (Samba 4.4+); nbtd ignores
 * them. Surrounding quotes are dropped. */
static nb_err_t smb_iface_item(nb_config_t *c, const val_t *v,
                               nb_config_error_t *e) {
  val_t a = *v;
  const char *semi = memchr(v->p, ';', v->len);
  if (semi != NULL) {
    a.len = (size_t)(semi - v->p);
  }
  if (a.len >= 2 && a.p[0] == '"' && a.p[a.len - 1] == '"') {
    a.p++;
    a.len -= 2;
    a.column++;
  }
  return a.len == 0 ? NB_OK : item_iface(c, &a, e);
}

static nb_err_t smb_set(smb_t *s, key_id_t k, size_t voff, size_t vlen) {
  val_t v = {s->buf + voff, vlen, 1, 1, s};
  set_error_key(s->e, keys[k].key, strlen(keys[k].key));
  if (memchr(v.p, '%', v.len) != NULL) {
    return fail(s->e, &v, (size_t)((const char *)memchr(v.p, '%', v.len) - v.p),
                "Samba variable substitution is not supported");
  }
  if (k == K_WINS_SERVER || k == K_INTERFACE) {
    start_list(s->c, k);
    return for_each_item(
        s->c, &v, k == K_WINS_SERVER ? smb_wins_item : smb_iface_item, s->e);
  }
  return set_value(s->c, k, &v, s->e);
}

static nb_err_t smb_param(smb_t *s) {
  const char *eq = memchr(s->buf, '=', s->len);
  if (eq == NULL) {
    return NB_OK; /* Samba ignores a line without '=' with a warning */
  }
  char name[32];
  size_t nlen = squeeze(s->buf, (size_t)(eq - s->buf), name, sizeof name);
  size_t voff = (size_t)(eq - s->buf) + 1;
  size_t vend = s->len;
  while (voff < vend && is_ws(s->buf[voff])) {
    voff++;
  }
  while (vend > voff && is_ws(s->buf[vend - 1])) {
    vend--;
  }
  for (size_t i = 0; i < sizeof smb_params / sizeof smb_params[0]; i++) {
    if (strlen(smb_params[i].smb) == nlen &&
        memcmp(smb_params[i].smb, name, nlen) == 0) {
      return smb_set(s, smb_params[i].key, voff, vend - voff);
    }
  }
  return NB_OK;
}

static nb_err_t smb_logical(smb_t *s) {
  size_t i = 0;
  while (i < s->len && is_ws(s->buf[i])) {
    i++;
  }
  if (i == s->len || s->buf[i] == '#' || s->buf[i] == ';') {
    return NB_OK;
  }
  if (s->buf[i] == '[') {
    const char *close = memchr(s->buf + i, ']', s->len - i);
    if (close == NULL) {
      return smb_fail(s, s->len, "section header without ']'");
    }
    char name[16];
    size_t n = squeeze(s->buf + i + 1, (size_t)(close - s->buf) - i - 1, name,
                       sizeof name);
    s->in_global = word_is(name, n, "global");
    return NB_OK;
  }
  return s->in_global ? smb_param(s) : NB_OK;
}

/* Append a physical line; run the logical line when it does not end in a
 * backslash. */
static nb_err_t smb_line(line_t *l, void *ctx) {
  smb_t *s = ctx;
  size_t len = l->len;
  bool cont = len > 0 && l->p[len - 1] == '\\';
  if (!s->continued) {
    s->len = 0;
    s->n_seg = 0;
  }
  if (cont) {
    len--;
  }
  if (s->len + len > SMB_LINE_MAX || s->n_seg >= SMB_SEGMENTS) {
    return line_fail(l, 0,
                     "line longer than 4096 bytes (continuations "
                     "included)");
  }
  if (memchr(l->p, '\0', len) != NULL) {
    return line_fail(l, (size_t)((const char *)memchr(l->p, '\0', len) - l->p),
                     "NUL byte");
  }
  s->seg_off[s->n_seg] = s->len;
  s->seg_line[s->n_seg++] = l->line;
  memcpy(s->buf + s->len, l->p, len);
  s->len += len;
  s->continued = cont;
  return cont ? NB_OK : smb_logical(s);
}

nb_err_t nb_config_parse_smbconf(nb_config_t *c, const char *text, size_t len,
                                 nb_config_error_t *e) {
  smb_t s;
  line_t l = {NULL, 0, 0, SEC_GLOBAL, c, e};
  memset(&s, 0, sizeof s);
  s.in_global = true; /* parameters before any section are global */
  s.c = c;
  s.e = e;
  if (e != NULL) {
    e->key[0] = '\0';
  }
  nb_err_t err = check_size(len, e);
  if (err == NB_OK) {
    err = for_each_line(text, len, &l, smb_line, &s);
  }
  if (err == NB_OK && s.continued) {
    err = smb_logical(&s); /* a final line ending in '\' */
  }
  return err;
}

/* ---- finish, write, compare --------------------------------------------
 */

static int resolve_pos(const nb_config_t *c, nb_config_resolve_t r) {
  for (size_t i = 0; i < c->n_resolve; i++) {
    if (c->resolve[i] == r) {
      return (int)i;
    }
  }
  return -1;
}

static nb_config_node_t derive_node(const nb_config_t *c) {
  if (c->n_wins == 0) {
    return NB_CONFIG_NODE_B;
  }
  int w = resolve_pos(c, NB_CONFIG_RESOLVE_WINS);
  int b = resolve_pos(c, NB_CONFIG_RESOLVE_BCAST);
  if (c->n_resolve == 0 || (w >= 0 && b >= 0 && w < b)) {
    return NB_CONFIG_NODE_H; /* nmbd: H-node with a WINS server */
  }
  if (w >= 0 && b >= 0) {
    return NB_CONFIG_NODE_M;
  }
  return w >= 0 ? NB_CONFIG_NODE_P : NB_CONFIG_NODE_B;
}

nb_err_t nb_config_finish(nb_config_t *c, nb_config_error_t *e) {
  if (c->node_type == NB_CONFIG_NODE_UNSET) {
    c->node_type = derive_node(c);
  }
  if (c->node_type != NB_CONFIG_NODE_B && c->n_wins == 0) {
    if (e != NULL) {
      e->err = NB_EINVAL;
      e->line = e->column = 0;
      e->what = "node types p, m and h need a wins-server";
      set_error_key(e, "node-type", 9);
    }
    return NB_EINVAL;
  }
  return NB_OK;
}

/* Append with snprintf semantics: `*n` counts what the full text needs. */
static void out(char *buf, size_t cap, size_t *n, const char *s, size_t len) {
  if (*n < cap) {
    size_t room = cap - *n - 1;
    memcpy(buf + *n, s, len < room ? len : room);
    buf[*n + (len < room ? len : room)] = '\0';
  }
  *n += len;
}

static void out_str(char *buf, size_t cap, size_t *n, const char *s) {
  out(buf, cap, n, s, strlen(s));
}

static void out_ipv4(char *buf, size_t cap, size_t *n, uint32_t a) {
  char t[16];
  int len = snprintf(t, sizeof t, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff,
                     (a >> 8) & 0xff, a & 0xff);
  out(buf, cap, n, t, (size_t)len);
}

static void out_key(char *buf, size_t cap, size_t *n, key_id_t k) {
  out_str(buf, cap, n, keys[k].key);
  out_str(buf, cap, n, " = ");
}

/* A path or other string, quoted when a bare value would not read back. */
static void out_value(char *buf, size_t cap, size_t *n, const char *s) {
  size_t len = strlen(s);
  bool quote = len > 0 && (is_ws(s[0]) || is_ws(s[len - 1]) || s[0] == '"');
  if (!quote) {
    out(buf, cap, n, s, len);
    return;
  }
  out_str(buf, cap, n, "\"");
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '"' || s[i] == '\\') {
      out_str(buf, cap, n, "\\");
    }
    out(buf, cap, n, s + i, 1);
  }
  out_str(buf, cap, n, "\"");
}

static void out_line(char *buf, size_t cap, size_t *n, key_id_t k,
                     const char *v) {
  out_key(buf, cap, n, k);
  out_value(buf, cap, n, v);
  out_str(buf, cap, n, "\n");
}

static void out_iface(char *buf, size_t cap, size_t *n,
                      const nb_config_iface_t *i) {
  char t[8];
  out_key(buf, cap, n, K_INTERFACE);
  if (i->ifname[0] != '\0') {
    out_str(buf, cap, n, i->ifname);
  } else {
    out_ipv4(buf, cap, n, i->addr);
    if (i->prefix != NB_CONFIG_PREFIX_UNSET) {
      int len = snprintf(t, sizeof t, "/%u", i->prefix);
      out(buf, cap, n, t, (size_t)len);
    }
  }
  out_str(buf, cap, n, "\n");
}

static void write_names(const nb_config_t *c, char *buf, size_t cap,
                        size_t *n) {
  if (c->name.s[0] != '\0') {
    out_line(buf, cap, n, K_NAME, c->name.s);
  }
  for (size_t i = 0; i < c->n_aliases; i++) {
    out_line(buf, cap, n, K_ALIAS, c->aliases[i].s);
  }
  out_line(buf, cap, n, K_WORKGROUP, c->workgroup.s);
  if (c->scope[0] != '\0') {
    out_line(buf, cap, n, K_SCOPE, c->scope);
  }
  for (size_t i = 0; i < c->n_ifaces; i++) {
    out_iface(buf, cap, n, &c->ifaces[i]);
  }
  out_line(buf, cap, n, K_BIND_IFACES_ONLY,
           c->bind_interfaces_only ? "yes" : "no");
  out_line(buf, cap, n, K_LIMITED_BCAST, c->limited_broadcast ? "yes" : "no");
}

static void write_resolution(const nb_config_t *c, char *buf, size_t cap,
                             size_t *n) {
  for (size_t i = 0; i < c->n_wins; i++) {
    out_key(buf, cap, n, K_WINS_SERVER);
    out_ipv4(buf, cap, n, c->wins[i]);
    out_str(buf, cap, n, "\n");
  }
  if (c->node_type != NB_CONFIG_NODE_UNSET) {
    char t[2] = {(char)c->node_type, '\0'};
    out_line(buf, cap, n, K_NODE_TYPE, t);
  }
  for (size_t i = 0; i < c->n_resolve; i++) {
    out_line(buf, cap, n, K_RESOLVE_ORDER, resolve_names[c->resolve[i]]);
  }
}

static void write_process(const nb_config_t *c, char *buf, size_t cap,
                          size_t *n) {
  char t[16];
  if (c->user[0] != '\0') {
    out_line(buf, cap, n, K_USER, c->user);
  }
  out_line(buf, cap, n, K_CONTROL, c->control);
  out_line(buf, cap, n, K_PID_FILE, c->pid_file);
  out_line(buf, cap, n, K_LOG_LEVEL, nb_config_log_level_name(c->log_level));
  out_line(buf, cap, n, K_SYSLOG, c->syslog ? "yes" : "no");
  out_str(buf, cap, n, "\n[name-service]\n");
  snprintf(t, sizeof t, "%u", c->port);
  out_line(buf, cap, n, K_PORT, t);
  snprintf(t, sizeof t, "%u", c->rate_limit);
  out_line(buf, cap, n, K_RATE_LIMIT, t);
  snprintf(t, sizeof t, "%u", c->rate_limit_global);
  out_line(buf, cap, n, K_RATE_LIMIT_GLOBAL, t);
}

/* [session]: numbers, then one `route` line per route (forwards too). */
static void write_session(const nb_config_t *c, char *buf, size_t cap,
                          size_t *n) {
  const uint32_t vals[] = {c->session_port,      c->session_limit,
                           c->request_timeout_s, c->connect_timeout_s,
                           c->idle_timeout_s,    c->keepalive_s,
                           c->buffer_high,       c->buffer_low};
  const key_id_t ks[] = {K_SESSION_PORT,    K_SESSION_LIMIT, K_REQUEST_TIMEOUT,
                         K_CONNECT_TIMEOUT, K_IDLE_TIMEOUT,  K_KEEPALIVE,
                         K_BUFFER_HIGH,     K_BUFFER_LOW};
  char t[NB_SSNSRV_ROUTE_TEXT_MAX];
  out_str(buf, cap, n, "\n[session]\n");
  for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
    snprintf(t, sizeof t, "%u", vals[i]);
    out_line(buf, cap, n, ks[i], t);
  }
  for (size_t i = 0; i < c->n_routes; i++) {
    nb_ssnsrv_route_to_text(&c->routes[i], t, sizeof t);
    out_line(buf, cap, n, K_ROUTE, t);
  }
}

static bool session_equal(const nb_config_t *a, const nb_config_t *b) {
  char ta[NB_SSNSRV_ROUTE_TEXT_MAX];
  char tb[NB_SSNSRV_ROUTE_TEXT_MAX];
  if (a->session_port != b->session_port ||
      a->session_limit != b->session_limit ||
      a->request_timeout_s != b->request_timeout_s ||
      a->connect_timeout_s != b->connect_timeout_s ||
      a->idle_timeout_s != b->idle_timeout_s ||
      a->keepalive_s != b->keepalive_s || a->buffer_high != b->buffer_high ||
      a->buffer_low != b->buffer_low || a->n_routes != b->n_routes) {
    return false;
  }
  for (size_t i = 0; i < a->n_routes; i++) {
    nb_ssnsrv_route_to_text(&a->routes[i], ta, sizeof ta);
    nb_ssnsrv_route_to_text(&b->routes[i], tb, sizeof tb);
    if (strcmp(ta, tb) != 0) {
      return false;
    }
  }
  return true;
}

/* [wins] (issue 9). */
static void write_wins(const nb_config_t *c, char *buf, size_t cap, size_t *n) {
  char t[16];
  out_str(buf, cap, n, "\n[wins]\n");
  out_line(buf, cap, n, K_NBNS_SERVER, c->nbns_server ? "yes" : "no");
  out_line(buf, cap, n, K_WINS_DB, c->wins_db);
  snprintf(t, sizeof t, "%u", c->wins_ttl_min_s);
  out_line(buf, cap, n, K_WINS_TTL_MIN, t);
  snprintf(t, sizeof t, "%u", c->wins_ttl_max_s);
  out_line(buf, cap, n, K_WINS_TTL_MAX, t);
  snprintf(t, sizeof t, "%u", c->wins_max_names);
  out_line(buf, cap, n, K_WINS_MAX_NAMES, t);
}

static bool wins_equal(const nb_config_t *a, const nb_config_t *b) {
  return a->nbns_server == b->nbns_server &&
         strcmp(a->wins_db, b->wins_db) == 0 &&
         a->wins_ttl_min_s == b->wins_ttl_min_s &&
         a->wins_ttl_max_s == b->wins_ttl_max_s &&
         a->wins_max_names == b->wins_max_names;
}

/* [datagram] (issue 8). */
static void write_dgram(const nb_config_t *c, char *buf, size_t cap,
                        size_t *n) {
  char t[16];
  out_str(buf, cap, n, "\n[datagram]\n");
  out_line(buf, cap, n, K_DGRAM_SERVICE, c->dgram_service ? "yes" : "no");
  snprintf(t, sizeof t, "%u", c->dgram_port);
  out_line(buf, cap, n, K_DGRAM_PORT, t);
  out_line(buf, cap, n, K_DGRAM_SOCKET, c->dgram_socket);
  if (c->nbdd != 0) {
    out_key(buf, cap, n, K_NBDD);
    out_ipv4(buf, cap, n, c->nbdd);
    out_str(buf, cap, n, "\n");
  }
  out_line(buf, cap, n, K_NBDD_QUERY, c->nbdd_query ? "yes" : "no");
  out_line(buf, cap, n, K_NBDD_SERVER, c->nbdd_server ? "yes" : "no");
  snprintf(t, sizeof t, "%u", c->dgram_rate_limit);
  out_line(buf, cap, n, K_DGRAM_RATE_LIMIT, t);
  snprintf(t, sizeof t, "%u", c->dgram_rate_limit_global);
  out_line(buf, cap, n, K_DGRAM_RATE_LIMIT_GLOBAL, t);
}

static bool dgram_equal(const nb_config_t *a, const nb_config_t *b) {
  return a->dgram_service == b->dgram_service &&
         a->dgram_port == b->dgram_port &&
         strcmp(a->dgram_socket, b->dgram_socket) == 0 && a->nbdd == b->nbdd &&
         a->nbdd_query == b->nbdd_query && a->nbdd_server == b->nbdd_server &&
         a->dgram_rate_limit == b->dgram_rate_limit &&
         a->dgram_rate_limit_global == b->dgram_rate_limit_global;
}

size_t nb_config_write(const nb_config_t *c, char *buf, size_t cap) {
  size_t n = 0;
  if (cap > 0) {
    buf[0] = '\0';
  }
  out_str(buf, cap, &n, "[global]\n");
  write_names(c, buf, cap, &n);
  write_resolution(c, buf, cap, &n);
  write_process(c, buf, cap, &n);
  write_session(c, buf, cap, &n);
  write_wins(c, buf, cap, &n);
  write_dgram(c, buf, cap, &n);
  return n;
}

static bool iface_equal(const nb_config_iface_t *a,
                        const nb_config_iface_t *b) {
  return strcmp(a->ifname, b->ifname) == 0 && a->addr == b->addr &&
         a->prefix == b->prefix;
}

static bool names_equal(const nb_config_t *a, const nb_config_t *b) {
  if (strcmp(a->name.s, b->name.s) != 0 || a->n_aliases != b->n_aliases ||
      strcmp(a->workgroup.s, b->workgroup.s) != 0 ||
      strcmp(a->scope, b->scope) != 0 || a->n_ifaces != b->n_ifaces) {
    return false;
  }
  for (size_t i = 0; i < a->n_aliases; i++) {
    if (strcmp(a->aliases[i].s, b->aliases[i].s) != 0) {
      return false;
    }
  }
  for (size_t i = 0; i < a->n_ifaces; i++) {
    if (!iface_equal(&a->ifaces[i], &b->ifaces[i])) {
      return false;
    }
  }
  return true;
}

bool nb_config_equal(const nb_config_t *a, const nb_config_t *b) {
  return names_equal(a, b) &&
         a->bind_interfaces_only == b->bind_interfaces_only &&
         a->limited_broadcast == b->limited_broadcast &&
         a->n_wins == b->n_wins &&
         memcmp(a->wins, b->wins, a->n_wins * sizeof a->wins[0]) == 0 &&
         a->node_type == b->node_type && a->n_resolve == b->n_resolve &&
         memcmp(a->resolve, b->resolve, a->n_resolve * sizeof a->resolve[0]) ==
             0 &&
         strcmp(a->user, b->user) == 0 && strcmp(a->control, b->control) == 0 &&
         strcmp(a->pid_file, b->pid_file) == 0 &&
         a->log_level == b->log_level && a->syslog == b->syslog &&
         a->port == b->port && a->rate_limit == b->rate_limit &&
         a->rate_limit_global == b->rate_limit_global && session_equal(a, b) &&
         wins_equal(a, b) && dgram_equal(a, b);
}

size_t nb_config_format_error(const nb_config_error_t *e, const char *source,
                              char *buf, size_t cap) {
  const char *what = e->what != NULL ? e->what : nb_strerror(e->err);
  const char *sep = e->key[0] != '\0' ? ": " : "";
  int n = e->line != 0
              ? snprintf(buf, cap, "%s:%u:%u: %s%s%s", source, e->line,
                         e->column, e->key, sep, what)
              : snprintf(buf, cap, "%s: %s%s%s", source, e->key, sep, what);
  return n < 0 ? 0 : (size_t)n;
}

const char *nb_config_log_level_name(nb_log_level_t l) {
  if (l < NB_LOG_ERR || l > NB_LOG_DEBUG) {
    return NULL;
  }
  return level_names[l - NB_LOG_ERR];
}

uint32_t nb_config_iface_bcast(const nb_config_iface_t *i) {
  if (i->prefix >= 32) {
    return i->addr;
  }
  return i->addr | (0xffffffffu >> i->prefix);
}
