/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_config: nbtd's configuration parser (src/daemon/config.c).
 *
 * Input: byte 0 picks the parser (0 nbtd.conf, 1 smb.conf, 2 one flag:
 * "key\0value"); the rest is the text. Oracles:
 *  - a failure names a line and column inside the input and a message;
 *  - a success writes back (nb_config_write) to text that parses to an
 *    equal configuration, and writing that again gives the same bytes;
 *  - the same holds after nb_config_finish() (derived node type);
 *  - every [session] route (`route`, `forward`) prints with
 *    nb_ssnsrv_route_to_text() (snprintf's contract: the same length and a
 *    NUL-terminated prefix in a short buffer) to text that
 *    nb_ssnsrv_route_parse() reads back to the same route, a direct route
 *    also as the flag form NAME=IP:PORT through nb_ssnsrv_forward_parse();
 *    nb_ssnsrv_route_find() gives the first route of each name, and for
 *    *SMBSERVER<20> its own route, else the first direct or nbt one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "nb/ssnsrv.h"

#define OUT_MAX 16384

static void require(int cond) {
  if (!cond) {
    abort();
  }
}

static unsigned count_lines(const uint8_t *p, size_t len) {
  unsigned n = 1;
  for (size_t i = 0; i < len; i++) {
    n += p[i] == '\n';
  }
  return n;
}

static void check_error(const nb_config_error_t *e, const uint8_t *text,
                        size_t len, int mode) {
  require(e->what != NULL);
  require(e->err != NB_OK);
  if (mode == 2 || e->err == NB_ELIMIT) {
    return;
  }
  require(e->line >= 1 && e->line <= count_lines(text, len));
  require(e->column >= 1 && e->column <= 4097 + 1);
}

/* write -> parse -> equal; write again -> same bytes. */
static void check_round_trip(const nb_config_t *c) {
  static char out[OUT_MAX];
  static char again[OUT_MAX];
  static nb_config_t back;
  nb_config_error_t e;
  size_t n = nb_config_write(c, out, sizeof out);
  require(n < sizeof out);
  require(strlen(out) == n);
  nb_config_init(&back);
  nb_config_begin_source(&back);
  memset(&e, 0, sizeof e);
  require(nb_config_parse(&back, out, n, &e) == NB_OK);
  require(nb_config_equal(c, &back));
  require(nb_config_write(&back, again, sizeof again) == n);
  require(memcmp(out, again, n) == 0);
}

static int same_route(const nb_ssnsrv_route_t *a, const nb_ssnsrv_route_t *b) {
  if (!nb_name_equal(&a->name, &b->name) || a->action != b->action) {
    return 0;
  }
  if (a->action == NB_SSNSRV_ROUTE_REJECT) {
    return a->code == b->code;
  }
  if (a->addr != b->addr || a->port != b->port) {
    return 0;
  }
  return a->action != NB_SSNSRV_ROUTE_NBT ||
         (a->rewrite == b->rewrite &&
          (!a->rewrite || nb_name_equal(&a->as, &b->as)));
}

/* to_text -> route_parse is the identity; a short buffer gets a prefix. */
static void check_route_text(const nb_ssnsrv_route_t *r, size_t cut) {
  char text[NB_SSNSRV_ROUTE_TEXT_MAX];
  char part[NB_SSNSRV_ROUTE_TEXT_MAX];
  nb_ssnsrv_route_t back;
  nb_diag_t d = {NB_OK, 0, NULL};
  size_t n = nb_ssnsrv_route_to_text(r, text, sizeof text);
  require(n > 0 && n < sizeof text && strlen(text) == n);
  require(nb_ssnsrv_route_parse(&back, text, n, &d) == NB_OK);
  require(same_route(r, &back));
  cut %= n + 1;
  require(nb_ssnsrv_route_to_text(r, part, cut) == n);
  require(cut == 0 ||
          (strlen(part) == cut - 1 && memcmp(part, text, cut - 1) == 0));
  if (r->action != NB_SSNSRV_ROUTE_DIRECT) {
    return;
  }
  /* "NAME direct IP:PORT" -> "NAME=IP:PORT", the --forward form */
  const char *sp = memchr(text, ' ', n);
  const char *ip =
      sp != NULL ? memchr(sp + 1, ' ', n - (size_t)(sp + 1 - text)) : NULL;
  require(ip != NULL);
  memcpy(part, text, (size_t)(sp - text));
  part[sp - text] = '=';
  memcpy(part + (sp - text) + 1, ip + 1, n - (size_t)(ip + 1 - text));
  size_t flen = (size_t)(sp - text) + 1 + n - (size_t)(ip + 1 - text);
  require(nb_ssnsrv_forward_parse(&back, part, flen, &d) == NB_OK);
  require(same_route(r, &back));
}

/* nb_ssnsrv_route_find() against a linear model of its rule. */
static void check_route_find(const nb_ssnsrv_route_t *routes, size_t n) {
  static const char star[] = "*SMBSERVER";
  nb_name_t any;
  require(nb_name_make(&any, star, sizeof star - 1, NB_SUFFIX_SERVER, NULL) ==
          NB_OK);
  const nb_ssnsrv_route_t *want = NULL;
  for (size_t i = 0; i < n; i++) {
    size_t j = 0;
    while (!nb_name_equal(&routes[j].name, &routes[i].name)) {
      j++; /* ends at i at the latest */
    }
    require(nb_ssnsrv_route_find(routes, n, &routes[i].name) == &routes[j]);
  }
  for (size_t i = 0; i < n && want == NULL; i++) {
    if (nb_name_equal(&routes[i].name, &any)) {
      want = &routes[i];
    }
  }
  for (size_t i = 0; i < n && want == NULL; i++) {
    if (routes[i].action == NB_SSNSRV_ROUTE_DIRECT ||
        routes[i].action == NB_SSNSRV_ROUTE_NBT) {
      want = &routes[i];
    }
  }
  require(nb_ssnsrv_is_smbserver(&any));
  require(nb_ssnsrv_route_find(routes, n, &any) == want);
}

static void check_routes(const nb_config_t *c, const uint8_t *p, size_t len) {
  require(c->n_routes <= NB_CONFIG_MAX_ROUTES);
  for (size_t i = 0; i < c->n_routes; i++) {
    check_route_text(&c->routes[i], len > 0 ? p[(i * 7) % len] : 0);
  }
  check_route_find(c->routes, c->n_routes);
}

static nb_err_t run_flag(nb_config_t *c, const uint8_t *p, size_t len,
                         nb_config_error_t *e) {
  char key[64];
  const uint8_t *nul = memchr(p, 0, len);
  size_t klen = nul != NULL ? (size_t)(nul - p) : len;
  if (klen >= sizeof key) {
    return NB_EINVAL;
  }
  memcpy(key, p, klen);
  key[klen] = '\0';
  size_t vstart = nul != NULL ? klen + 1 : len;
  return nb_config_set(c, key, (const char *)p + vstart, len - vstart, e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static nb_config_t c;
  nb_config_error_t e;
  if (size < 1) {
    return 0;
  }
  int mode = data[0] % 3;
  const uint8_t *text = data + 1;
  size_t len = size - 1;
  nb_config_init(&c);
  nb_config_begin_source(&c);
  memset(&e, 0, sizeof e);
  nb_err_t err;
  if (mode == 0) {
    err = nb_config_parse(&c, (const char *)text, len, &e);
  } else if (mode == 1) {
    err = nb_config_parse_smbconf(&c, (const char *)text, len, &e);
  } else {
    err = run_flag(&c, text, len, &e);
    if (err == NB_EINVAL && e.what == NULL) {
      return 0; /* key too long for the harness */
    }
  }
  if (err != NB_OK) {
    check_error(&e, text, len, mode);
    return 0;
  }
  check_round_trip(&c);
  check_routes(&c, text, len);
  if (nb_config_finish(&c, &e) == NB_OK) {
    check_round_trip(&c);
  }
  return 0;
}
