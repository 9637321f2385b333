/* SPDX-License-Identifier: BSD-2-Clause */
/* nbtd's configuration: nbtd.conf, smb.conf, flags, errors with line and
 * column, precedence, node-type derivation, write/parse round trips. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "testutil.h"

static nb_err_t parse(nb_config_t *c, const char *text, nb_config_error_t *e) {
  nb_config_init(c);
  nb_config_begin_source(c);
  memset(e, 0, sizeof *e);
  return nb_config_parse(c, text, strlen(text), e);
}

static nb_err_t parse_smb(nb_config_t *c, const char *text,
                          nb_config_error_t *e) {
  nb_config_init(c);
  nb_config_begin_source(c);
  memset(e, 0, sizeof *e);
  return nb_config_parse_smbconf(c, text, strlen(text), e);
}

static uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (uint32_t)(a << 24 | b << 16 | c << 8 | d);
}

static void test_defaults(void **state) {
  nb_config_t c;
  nb_config_error_t e;
  (void)state;
  nb_config_init(&c);
  assert_string_equal(c.workgroup.s, "WORKGROUP");
  assert_int_equal(c.port, 137);
  assert_string_equal(c.control, "/run/nbtd/nbtd.sock");
  assert_int_equal(c.log_level, NB_LOG_NOTICE);
  assert_int_equal(c.n_ifaces, 0);
  assert_int_equal(c.node_type, NB_CONFIG_NODE_UNSET);
  assert_int_equal(nb_config_finish(&c, &e), NB_OK);
  assert_int_equal(c.node_type, NB_CONFIG_NODE_B);
}

static const char full[] = "# nbtd.conf\n"
                           "[global]\n"
                           "name = xykon-2\n"
                           "alias = foo, bar\n"
                           "alias = baz\n"
                           "workgroup = TESTGRP\n"
                           "scope = example.com\n"
                           "interface = 192.0.2.10/24\n"
                           "interface = 198.51.100.7/255.255.255.128 eth*\n"
                           "  ; indented comment\n"
                           "bind-interfaces-only = yes\n"
                           "wins-server = 192.0.2.1\n"
                           "node-type = H\n"
                           "resolve-order = wins bcast\n"
                           "user = nbtd\n"
                           "control = \"/run/nbtd dir/sock\"\n"
                           "pid-file =\n"
                           "log-level = debug\r\n"
                           "syslog = on\n"
                           "\n"
                           "[name-service]\n"
                           "port = 13137\n"
                           "rate-limit = 0\n"
                           "rate-limit-global = 5000\n";

static void test_full_file(void **state) {
  nb_config_t c;
  nb_config_error_t e;
  (void)state;
  assert_int_equal(parse(&c, full, &e), NB_OK);
  assert_string_equal(c.name.s, "XYKON-2"); /* upper-cased, like nmbd */
  assert_int_equal(c.n_aliases, 3);
  assert_string_equal(c.aliases[0].s, "FOO");
  assert_string_equal(c.aliases[2].s, "BAZ");
  assert_string_equal(c.workgroup.s, "TESTGRP");
  assert_string_equal(c.scope, "example.com");
  assert_int_equal(c.n_ifaces, 3);
  assert_int_equal(c.ifaces[0].addr, ip(192, 0, 2, 10));
  assert_int_equal(c.ifaces[0].prefix, 24);
  assert_int_equal(nb_config_iface_bcast(&c.ifaces[0]), ip(192, 0, 2, 255));
  assert_int_equal(c.ifaces[1].prefix, 25);
  assert_string_equal(c.ifaces[2].ifname, "eth*");
  assert_true(c.bind_interfaces_only);
  assert_int_equal(c.n_wins, 1);
  assert_int_equal(c.wins[0], ip(192, 0, 2, 1));
  assert_int_equal(c.node_type, NB_CONFIG_NODE_H);
  assert_int_equal(c.n_resolve, 2);
  assert_int_equal(c.resolve[0], NB_CONFIG_RESOLVE_WINS);
  assert_string_equal(c.user, "nbtd");
  assert_string_equal(c.control, "/run/nbtd dir/sock");
  assert_string_equal(c.pid_file, "");
  assert_int_equal(c.log_level, NB_LOG_DEBUG);
  assert_true(c.syslog);
  assert_int_equal(c.port, 13137);
  assert_int_equal(c.rate_limit, 0);
  assert_int_equal(c.rate_limit_global, 5000);
}

typedef nb_err_t (*parse_fn)(nb_config_t *, const char *, nb_config_error_t *);

/* Each bad text: the error's line, column and message. */
static void expect_error_with(parse_fn fn, const char *text, unsigned line,
                              unsigned col, const char *what) {
  nb_config_t c;
  nb_config_error_t e;
  nb_err_t err = fn(&c, text, &e);
  if (err == NB_OK || e.line != line || e.column != col ||
      strstr(e.what, what) == NULL) {
    fail_msg("'%s': got err %d at %u:%u '%s', want %u:%u '%s'", text, err,
             e.line, e.column, e.what ? e.what : "", line, col, what);
  }
}

static void expect_error(const char *text, unsigned line, unsigned col,
                         const char *what) {
  expect_error_with(parse, text, line, col, what);
}

static void test_errors_located(void **state) {
  (void)state;
  expect_error("interface = 192.0.2.300/24\n", 1, 21, "bad IPv4 address");
  expect_error("\n\ninterface = 192.0.2.1/33\n", 3, 23, "prefix length");
  expect_error("interface = 10.0.0.1/255.0.255.0\n", 1, 22, "contiguous");
  expect_error("name = ABCDEFGHIJKLMNOP\n", 1, 23, "longer than 15");
  expect_error("name = A.B\n", 1, 9, "not allowed");
  expect_error("workgroup =\n", 1, 12, "empty NetBIOS name");
  expect_error("nmae = X\n", 1, 1, "unknown key");
  expect_error("  port = 1\n", 1, 3, "another section");
  expect_error("[name-service]\nname = X\n", 2, 1, "another section");
  expect_error("[nope]\n", 1, 2, "unknown section");
  expect_error("[global\n", 1, 8, "without ']'");
  expect_error("[global] x\n", 1, 10, "after section");
  expect_error("name X\n", 1, 6, "expected '='");
  expect_error("= X\n", 1, 1, "expected a key");
  expect_error("control = \"/a\n", 1, 14, "without closing");
  expect_error("control = \"/a\\n\"\n", 1, 14, "bad escape");
  expect_error("control = \"/a\" x\n", 1, 16, "after quoted");
  expect_error("control = relative\n", 1, 11, "not absolute");
  expect_error("wins-server = 192.0.2.1 192.0.2.02\n", 1, 33,
               "not an IPv4 address");
  expect_error("node-type = x\n", 1, 13, "b, p, m or h");
  expect_error("[name-service]\nport = 0\n", 2, 8, "1..65535");
  expect_error("[name-service]\nport = 65536\n", 2, 8, "1..65535");
  expect_error("syslog = maybe\n", 1, 10, "boolean");
  expect_error("log-level = loud\n", 1, 13, "log level");
  expect_error("user = -x\n", 1, 8, "user name");
  expect_error("resolve-order = wins dns\n", 1, 22, "lmhosts");
  expect_error("alias = A B C D E F G H I\n", 1, 25, "too many aliases");
  expect_error("scope = a..b\n", 1, 11, "empty scope label");
}

static void test_nul_and_long_lines(void **state) {
  nb_config_t c;
  nb_config_error_t e;
  char text[2100];
  (void)state;
  nb_config_init(&c);
  memset(&e, 0, sizeof e);
  assert_int_equal(nb_config_parse(&c, "name = A\0B\n", 11, &e), NB_EINVAL);
  assert_int_equal(e.line, 1);
  assert_int_equal(e.column, 9);
  memset(text, ' ', sizeof text);
  memcpy(text + 2000, "name = X\n", 9);
  assert_int_equal(parse(&c, "", &e), NB_OK);
  nb_config_init(&c);
  assert_int_equal(nb_config_parse(&c, text, 2009, &e), NB_EINVAL);
  assert_int_equal(e.column, NB_CONFIG_LINE_MAX + 1);
}

static void test_sources_replace_lists(void **state) {
  nb_config_t c;
  nb_config_error_t e;
  (void)state;
  assert_int_equal(parse(&c, "alias = A B\ninterface = eth0\n", &e), NB_OK);
  nb_config_begin_source(&c); /* the flags */
  assert_int_equal(nb_config_set(&c, "alias", "C", 1, &e), NB_OK);
  assert_int_equal(nb_config_set(&c, "alias", "D", 1, &e), NB_OK);
  assert_int_equal(c.n_aliases, 2);
  assert_string_equal(c.aliases[0].s, "C");
  assert_string_equal(c.aliases[1].s, "D");
  assert_int_equal(c.n_ifaces, 1); /* untouched by the flags */
  assert_int_equal(nb_config_set(&c, "nope", "1", 1, &e), NB_ENOTFOUND);
  assert_string_equal(e.key, "nope");
  assert_true(nb_config_key_is_switch("syslog"));
  assert_false(nb_config_key_is_switch("name"));
}

static void test_node_type_derivation(void **state) {
  static const struct {
    const char *text;
    nb_config_node_t want;
  } cases[] = {
      {"", NB_CONFIG_NODE_B},
      {"wins-server = 192.0.2.1\n", NB_CONFIG_NODE_H},
      {"wins-server = 192.0.2.1\nresolve-order = lmhosts wins host bcast\n",
       NB_CONFIG_NODE_H},
      {"wins-server = 192.0.2.1\nresolve-order = bcast wins\n",
       NB_CONFIG_NODE_M},
      {"wins-server = 192.0.2.1\nresolve-order = wins\n", NB_CONFIG_NODE_P},
      {"wins-server = 192.0.2.1\nresolve-order = host bcast\n",
       NB_CONFIG_NODE_B},
      {"wins-server = 192.0.2.1\nnode-type = p\nresolve-order = bcast\n",
       NB_CONFIG_NODE_P},
  };
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    nb_config_t c;
    nb_config_error_t e;
    assert_int_equal(parse(&c, cases[i].text, &e), NB_OK);
    assert_int_equal(nb_config_finish(&c, &e), NB_OK);
    assert_int_equal(c.node_type, cases[i].want);
  }
  nb_config_t c;
  nb_config_error_t e;
  assert_int_equal(parse(&c, "node-type = p\n", &e), NB_OK);
  assert_int_equal(nb_config_finish(&c, &e), NB_EINVAL);
  assert_string_equal(e.key, "node-type");
}

/* A generated smb.conf with what Samba admins write: other sections,
 * continuation lines, odd spacing and case, tags on wins servers. */
static const char smbconf[] =
    "; generated for the test\n"
    "[global]\n"
    "   NetBIOS Name = nbttest\n"
    "   netbios aliases = NBTALIAS, other\n"
    "   workgroup = TESTGRP\n"
    "   netbios scope = corp.example\n"
    "   interfaces = 192.0.2.10/24 \\\n"
    "                \"198.51.100.1/255.255.255.0\" eth1;speed=1000\n"
    "   bind interfaces only = Yes\n"
    "   wins server = tag1:192.0.2.1 192.0.2.2\n"
    "   name resolve order = lmhosts wins bcast\n"
    "   server role = standalone server\n"
    "   log file = /var/log/samba/log.%m\n"
    "[share]\n"
    "   netbios name = IGNORED\n"
    "   path = /srv\n";

static void test_smbconf(void **state) {
  nb_config_t c;
  nb_config_error_t e;
  (void)state;
  assert_int_equal(parse_smb(&c, smbconf, &e), NB_OK);
  assert_string_equal(c.name.s, "NBTTEST");
  assert_int_equal(c.n_aliases, 2);
  assert_string_equal(c.aliases[1].s, "OTHER");
  assert_string_equal(c.workgroup.s, "TESTGRP");
  assert_string_equal(c.scope, "corp.example");
  assert_int_equal(c.n_ifaces, 3);
  assert_int_equal(c.ifaces[1].addr, ip(198, 51, 100, 1));
  assert_int_equal(c.ifaces[1].prefix, 24);
  assert_string_equal(c.ifaces[2].ifname, "eth1");
  assert_true(c.bind_interfaces_only);
  assert_int_equal(c.n_wins, 2);
  assert_int_equal(c.wins[0], ip(192, 0, 2, 1));
  assert_int_equal(nb_config_finish(&c, &e), NB_OK);
  assert_int_equal(c.node_type, NB_CONFIG_NODE_H);
}

static void expect_smb_error(const char *text, unsigned line, unsigned col,
                             const char *what) {
  expect_error_with(parse_smb, text, line, col, what);
}

static void test_smbconf_errors(void **state) {
  (void)state;
  /* the bad address is on the second physical line of a continued one */
  expect_smb_error("[global]\ninterfaces = 192.0.2.1/24 \\\n  10.0.0.256\n", 3,
                   10, "bad IPv4 address");
  expect_smb_error("netbios name = %h\n", 1, 16, "substitution");
  expect_smb_error("[global]\nwins server = wins.example.com\n", 2, 15,
                   "not an IPv4 address");
  expect_smb_error("[global\n", 1, 8, "without ']'");
  /* a bad value in a section nbtd does not read is not an error */
  nb_config_t c;
  nb_config_error_t e;
  assert_int_equal(parse_smb(&c, "[x]\ninterfaces = bogus!\n", &e), NB_OK);
}

static void test_round_trip(void **state) {
  nb_config_t c;
  nb_config_t back;
  nb_config_error_t e;
  char buf[4096];
  (void)state;
  assert_int_equal(parse(&c, full, &e), NB_OK);
  size_t n = nb_config_write(&c, buf, sizeof buf);
  assert_true(n < sizeof buf);
  assert_int_equal(parse(&back, buf, &e), NB_OK);
  assert_true(nb_config_equal(&c, &back));
  char again[4096];
  assert_int_equal(nb_config_write(&back, again, sizeof again), n);
  assert_string_equal(buf, again);
  /* a short buffer: truncated, NUL-terminated, full length reported */
  char small[16];
  assert_int_equal(nb_config_write(&c, small, sizeof small), n);
  assert_int_equal(strlen(small), sizeof small - 1);
}

/* limited-broadcast: default yes, a [global] switch in the file, and as a
 * flag also `no-limited-broadcast` (the opposite of its value). */
static void test_limited_broadcast(void **state) {
  nb_config_t c;
  nb_config_t back;
  nb_config_error_t e;
  char buf[8192];
  (void)state;
  nb_config_init(&c);
  assert_true(c.limited_broadcast);
  assert_int_equal(parse(&c, "limited-broadcast = no\n", &e), NB_OK);
  assert_false(c.limited_broadcast);
  assert_int_equal(parse(&c, "[name-service]\nlimited-broadcast = no\n", &e),
                   NB_EINVAL);
  assert_string_equal(e.what, "key belongs to another section");
  assert_int_equal(parse(&c, "no-limited-broadcast = yes\n", &e), NB_EINVAL);
  assert_string_equal(e.what, "unknown key"); /* the file has no no-KEY */
  /* flags */
  assert_true(nb_config_key_exists("limited-broadcast"));
  assert_true(nb_config_key_exists("no-limited-broadcast"));
  assert_true(nb_config_key_is_switch("no-limited-broadcast"));
  assert_false(nb_config_key_exists("no-syslog")); /* only this switch */
  assert_false(nb_config_key_exists("no-name"));
  assert_false(nb_config_key_exists("no-"));
  nb_config_init(&c);
  assert_int_equal(nb_config_set(&c, "no-limited-broadcast", "yes", 3, &e),
                   NB_OK);
  assert_false(c.limited_broadcast);
  assert_int_equal(nb_config_set(&c, "no-limited-broadcast", "no", 2, &e),
                   NB_OK);
  assert_true(c.limited_broadcast);
  assert_int_equal(nb_config_set(&c, "limited-broadcast", "off", 3, &e), NB_OK);
  assert_false(c.limited_broadcast);
  memset(&e, 0, sizeof e);
  assert_int_equal(nb_config_set(&c, "no-limited-broadcast", "maybe", 5, &e),
                   NB_EINVAL);
  assert_string_equal(e.key, "no-limited-broadcast");
  assert_false(c.limited_broadcast); /* unchanged */
  assert_int_equal(nb_config_set(&c, "no-syslog", "yes", 3, &e), NB_ENOTFOUND);
  /* written, read back, compared */
  size_t n = nb_config_write(&c, buf, sizeof buf);
  assert_true(n < sizeof buf);
  assert_non_null(strstr(buf, "limited-broadcast = no\n"));
  assert_int_equal(parse(&back, buf, &e), NB_OK);
  assert_false(back.limited_broadcast);
  assert_true(nb_config_equal(&c, &back));
  back.limited_broadcast = true;
  assert_false(nb_config_equal(&c, &back));
}

static void test_format_error(void **state) {
  nb_config_t c;
  nb_config_error_t e;
  char msg[256];
  (void)state;
  assert_int_not_equal(parse(&c, "x = 1\nport = 2\n", &e), NB_OK);
  nb_config_format_error(&e, "nbtd.conf", msg, sizeof msg);
  assert_string_equal(msg, "nbtd.conf:1:1: x: unknown key");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_full_file),
      cmocka_unit_test(test_errors_located),
      cmocka_unit_test(test_nul_and_long_lines),
      cmocka_unit_test(test_sources_replace_lists),
      cmocka_unit_test(test_node_type_derivation),
      cmocka_unit_test(test_smbconf),
      cmocka_unit_test(test_smbconf_errors),
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_format_error),
      cmocka_unit_test(test_limited_broadcast),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
