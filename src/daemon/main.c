/* SPDX-License-Identifier: BSD-2-Clause */
/* nbtd: the NetBIOS-over-TCP/IP daemon. Reads its configuration (smb.conf,
 * its own file, flags), binds its sockets, drops root, runs the loop, and
 * stops gracefully on SIGINT/SIGTERM. See docs/man/nbtd.8. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "daemon.h"
#include "ifaces.h"
#include "log.h"
#include "nb/nb.h"
#include "privs.h"
#include "svc_dgram.h"
#include "svc_ns.h"
#include "svc_session.h"
#include "svc_wins.h"
#include "udp.h"

enum { EXIT_USAGE = 2 };

typedef struct {
  const char *config_file;
  const char *smb_conf;
  bool foreground;
  bool dump;
  bool check;
} opts_t;

static void usage(FILE *f) {
  fprintf(f,
          "usage: nbtd [-F] [-c FILE] [-s SMB.CONF] [--OPTION VALUE]...\n"
          "\n"
          "  -F, --foreground       stay in the foreground, log to stderr\n"
          "  -c, --config FILE      nbtd's configuration file\n"
          "  -s, --smb-conf FILE    read names and interfaces from smb.conf\n"
          "      --dump-config      print the effective configuration, exit\n"
          "      --check-config     check the configuration, exit\n"
          "  -h, --help, -V, --version\n"
          "\n"
          "Every configuration key is also an option (file values are\n"
          "overridden): --name N, --alias N (repeatable), --workgroup N,\n"
          "--scope S, --interface ADDR/LEN|ADDR|IFNAME (repeatable),\n"
          "--bind-interfaces-only, --wins-server IP, --node-type b|p|m|h,\n"
          "--resolve-order LIST, --user U, --control PATH, --pid-file PATH,\n"
          "--log-level L, --syslog, --port N, --rate-limit N,\n"
          "--rate-limit-global N, --nbns-server, --db PATH, --wins-ttl-min S,\n"
          "--wins-ttl-max S, --wins-max-names N, --dgram-service yes|no,\n"
          "--dgram-port N, --dgram-socket PATH, --nbdd IP, --nbdd-query\n"
          "yes|no, --nbdd-server yes|no, --dgram-rate-limit N,\n"
          "--dgram-rate-limit-global N, --limited-broadcast yes|no\n"
          "(--no-limited-broadcast). See nbtd(8) and docs/CONFIGURATION.md.\n");
}

static char *read_text(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  if (f != NULL) {
    buf = malloc(NB_CONFIG_FILE_MAX + 1);
    *len = buf != NULL ? fread(buf, 1, NB_CONFIG_FILE_MAX + 1, f) : 0;
    if (buf != NULL && ferror(f)) {
      free(buf);
      buf = NULL;
    }
    fclose(f);
  }
  return buf;
}

typedef nb_err_t (*parse_fn)(nb_config_t *, const char *, size_t,
                             nb_config_error_t *);

static int load(nb_config_t *c, const char *path, parse_fn parse) {
  size_t len = 0;
  char *text = read_text(path, &len);
  nb_config_error_t e;
  char msg[512];
  if (text == NULL) {
    fprintf(stderr, "nbtd: %s: %s\n", path, strerror(errno));
    return -1;
  }
  memset(&e, 0, sizeof e);
  nb_config_begin_source(c);
  nb_err_t err = parse(c, text, len, &e);
  free(text);
  if (err != NB_OK) {
    nb_config_format_error(&e, path, msg, sizeof msg);
    fprintf(stderr, "nbtd: %s\n", msg);
    return -1;
  }
  return 0;
}

static bool is(const char *a, const char *s, const char *l) {
  return (s != NULL && strcmp(a, s) == 0) || strcmp(a, l) == 0;
}

/* Pass 1: the options that are not configuration keys. */
static int parse_opts(int argc, char **argv, opts_t *o) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (is(a, "-h", "--help")) {
      usage(stdout);
      exit(0);
    } else if (is(a, "-V", "--version")) {
      printf("nbtd (nbtkit) %s\n", NB_VERSION_STRING);
      exit(0);
    } else if (is(a, "-F", "--foreground")) {
      o->foreground = true;
    } else if (is(a, NULL, "--dump-config")) {
      o->dump = true;
    } else if (is(a, NULL, "--check-config")) {
      o->check = true;
    } else if (is(a, "-c", "--config") || is(a, "-s", "--smb-conf")) {
      if (i + 1 >= argc) {
        fprintf(stderr, "nbtd: %s needs a file\n", a);
        return -1;
      }
      *(a[1] == 'c' || a[2] == 'c' ? &o->config_file : &o->smb_conf) =
          argv[++i];
    } else if (strncmp(a, "--", 2) != 0) {
      fprintf(stderr, "nbtd: unexpected argument '%s'\n", a);
      return -1;
    } else {
      const char *eq = strchr(a, '=');
      char key[40];
      snprintf(key, sizeof key, "%.*s",
               (int)(eq != NULL ? (size_t)(eq - a - 2) : strlen(a + 2)), a + 2);
      if (eq == NULL && !nb_config_key_is_switch(key)) {
        i++; /* its value: checked in pass 2 */
      }
    }
  }
  return 0;
}

static int set_flag(nb_config_t *c, const char *key, const char *value) {
  nb_config_error_t e;
  char msg[512];
  memset(&e, 0, sizeof e);
  if (nb_config_set(c, key, value, strlen(value), &e) != NB_OK) {
    nb_config_format_error(&e, "nbtd: --", msg, sizeof msg);
    fprintf(stderr, "%s (value '%s')\n", msg, value);
    return -1;
  }
  return 0;
}

/* Pass 2: configuration keys given as flags. */
static int apply_flags(nb_config_t *c, int argc, char **argv) {
  nb_config_begin_source(c);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (is(a, "-c", "--config") || is(a, "-s", "--smb-conf")) {
      i++;
      continue;
    }
    if (strncmp(a, "--", 2) != 0 || is(a, "-F", "--foreground") ||
        is(a, NULL, "--dump-config") || is(a, NULL, "--check-config")) {
      continue;
    }
    char key[40];
    const char *eq = strchr(a, '=');
    size_t klen = eq != NULL ? (size_t)(eq - a - 2) : strlen(a + 2);
    snprintf(key, sizeof key, "%.*s", (int)klen, a + 2);
    const char *value = eq != NULL ? eq + 1 : NULL;
    if (!nb_config_key_exists(key) || klen >= sizeof key) {
      fprintf(stderr, "nbtd: unknown option '%s'\n", a);
      return -1;
    }
    if (value == NULL) {
      value = nb_config_key_is_switch(key) ? "yes"
              : i + 1 < argc               ? argv[++i]
                                           : NULL;
    }
    if (value == NULL) {
      fprintf(stderr, "nbtd: %s needs a value\n", a);
      return -1;
    }
    if (set_flag(c, key, value) != 0) {
      return -1;
    }
  }
  return 0;
}

/* nmbd's default: the host name's first label, upper-cased, 15 bytes. */
static int default_name(nb_config_t *c) {
  char host[256];
  if (c->name.s[0] != '\0') {
    return 0;
  }
  if (gethostname(host, sizeof host) != 0) {
    fprintf(stderr, "nbtd: no --name and no host name\n");
    return -1;
  }
  host[sizeof host - 1] = '\0';
  host[strcspn(host, ".")] = '\0';
  host[NB_NAME_CHARS] = '\0';
  nb_config_begin_source(c);
  return set_flag(c, "name", host);
}

static int configure(nb_config_t *c, const opts_t *o, int argc, char **argv) {
  nb_config_error_t e;
  char msg[512];
  nb_config_init(c);
  if (o->smb_conf != NULL && load(c, o->smb_conf, nb_config_parse_smbconf)) {
    return -1;
  }
  if (o->config_file != NULL && load(c, o->config_file, nb_config_parse)) {
    return -1;
  }
  if (apply_flags(c, argc, argv) != 0 || default_name(c) != 0) {
    return -1;
  }
  memset(&e, 0, sizeof e);
  if (nb_config_finish(c, &e) != NB_OK) {
    nb_config_format_error(&e, "nbtd", msg, sizeof msg);
    fprintf(stderr, "%s\n", msg);
    return -1;
  }
  return 0;
}

/* The user to become when started as root; uid -1 when staying. */
static int target_user(const nb_config_t *c, uid_t *uid, gid_t *gid) {
  char err[256];
  *uid = (uid_t)-1;
  *gid = (gid_t)-1;
  if (geteuid() != 0) {
    if (c->user[0] != '\0') {
      nb_log_warn("not root: staying uid %u (user '%s' ignored)",
                  (unsigned)geteuid(), c->user);
    }
    return 0;
  }
  const char *user = c->user[0] != '\0' ? c->user : "nobody";
  if (nb_privs_lookup(user, uid, gid, err, sizeof err) != 0) {
    nb_log_err("%s", err);
    return -1;
  }
  return 0;
}

static void log_start(const nb_daemon_t *d) {
  const nb_config_t *c = d->cfg;
  nb_log_notice("nbtd %s: %s in workgroup %s, %c-node%s%s, port %u",
                NB_VERSION_STRING, c->name.s, c->workgroup.s,
                (char)(c->node_type - 'a' + 'A'),
                c->scope[0] != '\0' ? ", scope " : "", c->scope, c->port);
  for (size_t i = 0; i < d->n_ifaces; i++) {
    char a[16], m[16], b[16];
    nb_log_notice("interface %s: %s netmask %s broadcast %s",
                  d->ifaces[i].ifname[0] ? d->ifaces[i].ifname : "?",
                  nb_udp_ntoa(d->ifaces[i].ip, a),
                  nb_udp_ntoa(d->ifaces[i].netmask, m),
                  nb_udp_ntoa(d->ifaces[i].bcast, b));
  }
}

typedef struct {
  uv_loop_t loop;
  nb_daemon_t d;
  nb_svc_ns_t *ns;
  nb_svc_ssn_t *ssn;     /* session service and forwarder (issue 7) */
  nb_svc_wins_t *wins;   /* NBNS (WINS) server (issue 9), when enabled */
  nb_svc_dgram_t *dgram; /* datagram service (issue 8) */
  nb_control_t *ctl;
} nbtd_t;

static int setup(nbtd_t *t, const nb_config_t *c, uid_t uid, gid_t gid) {
  char err[256];
  if (nb_udp_global_init() != 0 || nb_daemon_init(&t->d, &t->loop, c) != 0) {
    nb_log_err("out of memory");
    return -1;
  }
  if (nb_ifaces_resolve(&t->d, err, sizeof err) != 0) {
    nb_log_err("interfaces: %s", err);
    return -1;
  }
  log_start(&t->d);
  t->ns = nb_svc_ns_new();
  t->ssn = nb_svc_ssn_new();
  /* The default path needs root (/run); without root and without an
   * explicit --control, run without the socket rather than fail. */
  bool optional =
      geteuid() != 0 && strcmp(c->control, NB_CONFIG_CONTROL_DEFAULT) == 0;
  t->ctl = c->control[0] != '\0'
               ? nb_control_new(c->control, optional, uid, gid)
               : NULL;
  t->wins = c->nbns_server ? nb_svc_wins_new(t->ns) : NULL;
  /* Issue 8: without root, UDP 138 and the default socket are optional. */
  t->dgram =
      t->ns != NULL ? nb_svc_dgram_new(t->ns, geteuid() != 0, uid, gid) : NULL;
  if (t->ns == NULL || t->ssn == NULL || (c->nbns_server && t->wins == NULL) ||
      t->dgram == NULL || (c->control[0] != '\0' && t->ctl == NULL)) {
    nb_log_err("out of memory");
    return -1;
  }
  if (t->ctl != NULL) {
    nb_daemon_add_service(&t->d, &nb_control_ops, t->ctl);
  }
  nb_daemon_add_service(&t->d, &nb_svc_ns_ops, t->ns);
  nb_daemon_add_service(&t->d, &nb_svc_ssn_ops, t->ssn);
  if (t->wins != NULL) { /* after the name service: it uses its sockets */
    nb_daemon_add_service(&t->d, &nb_svc_wins_ops, t->wins);
  }
  /* after the name service: it follows its names and resolves with it */
  nb_daemon_add_service(&t->d, &nb_svc_dgram_ops, t->dgram);
  return nb_daemon_start(&t->d) == 0 ? 0 : -1;
}

static int drop_root(uid_t uid, gid_t gid) {
  char err[256];
  if (uid == (uid_t)-1) {
    return 0;
  }
  if (nb_privs_drop(uid, gid, err, sizeof err) != 0) {
    nb_log_err("dropping root: %s", err);
    return -1;
  }
  nb_log_info("running as uid %u gid %u", (unsigned)uid, (unsigned)gid);
  return 0;
}

static int start(nbtd_t *t, const nb_config_t *c, uid_t uid, gid_t gid) {
  char err[256];
  if (setup(t, c, uid, gid) != 0) {
    return -1;
  }
  if (c->pid_file[0] != '\0' &&
      nb_privs_pid_file(c->pid_file, err, sizeof err) != 0) {
    nb_log_err("pid file: %s", err);
    return -1;
  }
  return drop_root(uid, gid);
}

static int run(const nb_config_t *c, const opts_t *o) {
  static nbtd_t t;
  char err[256];
  uid_t uid;
  gid_t gid;
  int rc = 1;
  nb_log_open("nbtd", c->log_level, true, c->syslog || !o->foreground);
  /* A peer that goes away mid-write (a control or datagram client, a
   * session client or backend) must give EPIPE to that one write, not a
   * SIGPIPE that kills the daemon: ignored in every configuration. */
  (void)signal(SIGPIPE, SIG_IGN);
  if (!o->foreground && nb_privs_detach(err, sizeof err) != 0) {
    nb_log_err("%s", err);
    return 1;
  }
  if (target_user(c, &uid, &gid) != 0 || uv_loop_init(&t.loop) != 0) {
    return 1;
  }
  nb_privs_notify_open();
  if (start(&t, c, uid, gid) == 0) {
    nb_log_open("nbtd", c->log_level, o->foreground,
                c->syslog || !o->foreground);
    nb_privs_ready();
    rc = 0;
  } else {
    nb_daemon_close(&t.d);
  }
  uv_run(&t.loop, UV_RUN_DEFAULT);
  nb_privs_stopping();
  if (uv_loop_close(&t.loop) != 0) {
    nb_log_warn("loop closed with handles still open");
  }
  if (c->pid_file[0] != '\0') {
    (void)unlink(c->pid_file);
  }
  nb_svc_ns_free(t.ns);
  nb_svc_ssn_free(t.ssn);
  nb_svc_wins_free(t.wins);
  nb_svc_dgram_free(t.dgram);
  nb_control_free(t.ctl);
  nb_udp_global_free();
  nb_log_notice(rc == 0 ? "stopped" : "start-up failed");
  nb_log_close();
  return rc;
}

int main(int argc, char **argv) {
  static nb_config_t cfg;
  opts_t o;
  memset(&o, 0, sizeof o);
  if (parse_opts(argc, argv, &o) != 0) {
    usage(stderr);
    return EXIT_USAGE;
  }
  if (configure(&cfg, &o, argc, argv) != 0) {
    return EXIT_USAGE;
  }
  if (o.dump || o.check) {
    char buf[8192];
    size_t n = nb_config_write(&cfg, buf, sizeof buf);
    if (o.dump) {
      fwrite(buf, 1, n < sizeof buf ? n : sizeof buf - 1, stdout);
    }
    return 0;
  }
  return run(&cfg, &o);
}
