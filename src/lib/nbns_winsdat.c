/* SPDX-License-Identifier: BSD-2-Clause */
/* nmbd's wins.dat text format, so that an nmbd WINS server migrates to
 * nbtd in one command (`nbt wins import`) and back (`nbt wins export`).
 * The format is what source3/nmbd/nmbd_winsserver.c writes
 * (wins_write_name_record) and reads (initialise_wins):
 *
 *   VERSION 1 0
 *   "NAME#XX" DEATH_TIME IP [IP ...] FLAGSR
 *
 * Tokens are separated by blanks; double quotes group (and are removed),
 * as Samba's next_token() does. NAME#XX: the name without its padding and
 * the suffix in hex (split at the last '#'). DEATH_TIME: Unix seconds, 0 =
 * permanent. Every token with a '.' is an address. FLAGS: nmbd's nb_flags
 * byte in hex (0x80 group, 0x60 ONT, 0x04 active, 0x02 permanent), then R
 * (registered) or S (nmbd's own name: skipped, as nmbd skips it). As nmbd,
 * a record with less than 60 s to live is not imported.
 *
 * What a real nmbd 4.17 writes (tests/wins/golden/nmbd-wins.dat): its own
 * names as R records with the permanent bit (0x66R), and its workgroup
 * names with the address 0.0.0.0. Neither is imported: nbtd's own names
 * come from its configuration (static entries), and 0.0.0.0 is no
 * member's address. */
#include <stdio.h>
#include <string.h>

#include "nbns_int.h"

#define WINSDAT_VERSION 1
#define WINSDAT_TOKENS (NB_NBNS_MAX_ADDRS + 3)
#define WINSDAT_PERMANENT 0 /* nmbd's PERMANENT_TTL */
#define WINSDAT_GROUP 0x80u
#define WINSDAT_ONT 0x60u
#define WINSDAT_ACTIVE 0x04u
#define WINSDAT_PERMANENT_FLAG 0x02u /* nmbd's NB_PERM: its own names */

typedef struct tok {
  size_t start; /* column of the first byte (quotes included) */
  size_t len;   /* bytes in `text` */
  char text[64];
} tok_t;

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* Split `line` into tokens (quotes group and are dropped). Returns the
 * count, or -1 when a token is too long or there are too many. */
static int tokenize(const char *line, size_t len, tok_t *t, int cap) {
  size_t i = 0;
  int n = 0;
  while (i < len) {
    while (i < len && blank(line[i]))
      i++;
    if (i >= len || line[i] == '\n')
      break;
    if (n >= cap)
      return -1;
    tok_t *k = &t[n++];
    bool quoted = false;
    k->start = i;
    k->len = 0;
    while (i < len && line[i] != '\n' && (quoted || !blank(line[i]))) {
      if (line[i] == '"') {
        quoted = !quoted;
      } else if (k->len + 1 >= sizeof k->text) {
        return -1;
      } else {
        k->text[k->len++] = line[i];
      }
      i++;
    }
    k->text[k->len] = '\0';
  }
  return n;
}

static nb_err_t bad(nb_diag_t *diag, size_t col, const char *what) {
  return nb_diag_set(diag, NB_EMALFORMED, col, what);
}

static bool parse_hex(const char *s, size_t len, uint32_t max, uint32_t *out) {
  uint32_t v = 0;
  if (len == 0 || len > 8)
    return false;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0)
      return false;
    v = v * 16u + (uint32_t)d;
  }
  *out = v;
  return v <= max;
}

static bool parse_ipv4(const char *s, uint32_t *out) {
  unsigned a, b, c, d;
  char tail;
  if (sscanf(s, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &tail) != 4 || a > 255 ||
      b > 255 || c > 255 || d > 255)
    return false;
  *out = a << 24 | b << 16 | c << 8 | d;
  return true;
}

static bool parse_time(const char *s, int64_t *out) {
  long long v;
  char tail;
  if (sscanf(s, "%lld%c", &v, &tail) != 1)
    return false;
  *out = v;
  return true;
}

/* "NAME#XX" into the record's name. */
static nb_err_t parse_name(const tok_t *t, const char *scope,
                           nb_nbns_record_t *out, nb_diag_t *diag) {
  const char *hash = strrchr(t->text, '#');
  uint32_t suffix = 0;
  if (hash == NULL || hash == t->text)
    return bad(diag, t->start, "name without #type");
  size_t nlen = (size_t)(hash - t->text);
  if (nlen > NB_NAME_CHARS || memchr(t->text, '\0', nlen) != NULL)
    return bad(diag, t->start, "name longer than 15 bytes");
  /* The writer (and nmbd's) trims the padding, so a name of blanks would
   * be written as "#XX", which no reader takes: refused here too. */
  size_t used = nlen;
  while (used > 0 && t->text[used - 1] == ' ')
    used--;
  if (used == 0)
    return bad(diag, t->start, "blank name");
  if (!parse_hex(hash + 1, strlen(hash + 1), 0xff, &suffix))
    return bad(diag, t->start + nlen + 1, "type not hex 00..ff");
  if (nb_name_make(&out->name, t->text, nlen, (uint8_t)suffix,
                   scope != NULL ? scope : "") != NB_OK)
    return bad(diag, t->start, "not a NetBIOS name (or bad scope)");
  return NB_OK;
}

static nb_err_t parse_flags(const tok_t *t, nb_nbns_record_t *out, bool *self,
                            nb_diag_t *diag) {
  size_t len = t->len;
  char last = len > 0 ? t->text[len - 1] : '\0';
  uint32_t flags = 0;
  *self = last == 'S';
  if (last == 'R' || last == 'S')
    len--;
  if (!parse_hex(t->text, len, 0xff, &flags))
    return bad(diag, t->start, "flags not hex 00..ff");
  *self = *self || (flags & WINSDAT_PERMANENT_FLAG) != 0;
  out->group = (flags & WINSDAT_GROUP) != 0;
  uint16_t nb =
      (uint16_t)(((flags & WINSDAT_ONT) << 8) | (out->group ? NB_NS_NB_G : 0));
  for (size_t i = 0; i < out->n_members; i++)
    out->members[i].nb_flags = nb;
  return NB_OK;
}

static nb_err_t parse_version(const tok_t *t, int n, nb_diag_t *diag) {
  uint32_t v = 0;
  if (n < 2 || sscanf(t[1].text, "%u", &v) != 1 || v != WINSDAT_VERSION)
    return bad(diag, n >= 2 ? t[1].start : t[0].start,
               "not a VERSION 1 wins.dat");
  return NB_ENOTFOUND;
}

/* The addresses (tokens 2..n-2) and the expiry of every member. */
static nb_err_t parse_members(const tok_t *t, int n, int64_t death,
                              uint64_t now_unix_ms, uint64_t now_ms,
                              nb_nbns_record_t *out, nb_diag_t *diag) {
  uint64_t expire = NB_NBNS_NEVER;
  if (death != WINSDAT_PERMANENT) {
    /* nmbd: "add all entries that have 60 seconds or more to live" */
    if (death < 60 || death > INT64_MAX / 1000 - 60 ||
        (uint64_t)(death - 60) * 1000u <= now_unix_ms)
      return NB_ETIMEDOUT;
    expire = now_ms + ((uint64_t)death * 1000u - now_unix_ms);
  }
  for (int i = 2; i < n - 1; i++) {
    uint32_t ip = 0;
    if (!parse_ipv4(t[i].text, &ip))
      return bad(diag, t[i].start, "not an IPv4 address");
    if (out->n_members >= NB_NBNS_MAX_ADDRS)
      return bad(diag, t[i].start, "more than 25 addresses");
    if (ip == 0)
      continue; /* nmbd's own group names: 0.0.0.0 */
    out->members[out->n_members].ip = ip;
    out->members[out->n_members].expire_ms = expire;
    out->n_members++;
  }
  return NB_OK;
}

/* WARNING: parses untrusted text (a wins.dat from elsewhere). Bounded:
 * tokens are copied into fixed buffers, counts are capped. */
nb_err_t nb_nbns_winsdat_parse_line(const char *line, size_t len,
                                    const char *scope, uint64_t now_unix_ms,
                                    uint64_t now_ms, nb_nbns_record_t *out,
                                    nb_diag_t *diag) {
  tok_t t[WINSDAT_TOKENS];
  int64_t death = 0;
  bool self = false;
  memset(out, 0, sizeof *out);
  int n = tokenize(line, len, t, WINSDAT_TOKENS);
  if (n < 0)
    return bad(diag, 0, "token too long or too many tokens");
  if (n == 0 || t[0].text[0] == '#')
    return NB_ENOTFOUND;
  if (strcmp(t[0].text, "VERSION") == 0)
    return parse_version(t, n, diag);
  if (n < 4)
    return bad(diag, t[n - 1].start, "needs name, time, address and flags");
  nb_err_t err = parse_name(&t[0], scope, out, diag);
  if (err != NB_OK)
    return err;
  if (!parse_time(t[1].text, &death))
    return bad(diag, t[1].start, "time not a number");
  err = parse_members(t, n, death, now_unix_ms, now_ms, out, diag);
  if (err == NB_OK)
    err = parse_flags(&t[n - 1], out, &self, diag);
  if (err == NB_OK && (self || out->n_members == 0))
    return NB_ENOTFOUND; /* the server's own name, or no usable address */
  return err;
}

size_t nb_nbns_winsdat_format(const nb_nbns_record_t *rec, uint64_t now_unix_ms,
                              uint64_t now_ms, char *buf, size_t cap) {
  char name[NB_NAME_CHARS + 1];
  size_t nlen = NB_NAME_CHARS;
  uint64_t latest = 0;
  uint16_t nb = 0;
  memcpy(name, rec->name.bytes, NB_NAME_CHARS);
  while (nlen > 0 && (name[nlen - 1] == ' ' || name[nlen - 1] == '\0'))
    nlen--;
  name[nlen] = '\0';
  for (size_t i = 0; i < rec->n_members; i++) {
    if (rec->members[i].expire_ms > latest)
      latest = rec->members[i].expire_ms;
    nb = rec->members[i].nb_flags;
  }
  int64_t death = WINSDAT_PERMANENT;
  if (latest != NB_NBNS_NEVER) /* the wall-clock second it expires in */
    death = (int64_t)((now_unix_ms + (latest > now_ms ? latest - now_ms : 0)) /
                      1000u);
  unsigned flags = (rec->group ? WINSDAT_GROUP : 0u) |
                   ((unsigned)(nb >> 8) & WINSDAT_ONT) | WINSDAT_ACTIVE;
  int w = snprintf(buf, cap, "\"%s#%02x\" %lld ", name,
                   nb_name_suffix(&rec->name), (long long)death);
  size_t n = w > 0 ? (size_t)w : 0;
  for (size_t i = 0; i < rec->n_members; i++) {
    uint32_t a = rec->members[i].ip;
    w = snprintf(n < cap ? buf + n : NULL, n < cap ? cap - n : 0,
                 "%u.%u.%u.%u ", a >> 24, (a >> 16) & 0xffu, (a >> 8) & 0xffu,
                 a & 0xffu);
    n += w > 0 ? (size_t)w : 0;
  }
  w = snprintf(n < cap ? buf + n : NULL, n < cap ? cap - n : 0, "%2xR\n",
               flags);
  return n + (w > 0 ? (size_t)w : 0);
}
