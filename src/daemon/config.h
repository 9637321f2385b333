/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NBTD_CONFIG_H
#define NBTD_CONFIG_H

/* nbtd's configuration: one model filled from three sources, in order of
 * increasing precedence: an smb.conf (`--smb-conf`), nbtd's own file
 * (`--config`, format in docs/CONFIGURATION.md) and command-line flags.
 *
 * WARNING: parses untrusted-ish text (configuration files may come from
 * elsewhere, smb.conf in particular). Everything is bounds-checked, nothing
 * is allocated: the model is fixed-size and every list has a cap. Errors say
 * where (line and column) and what.
 *
 * Every key of nbtd's file is also a long flag (`name = X` is `--name X`),
 * so one table (config.c) drives both. A list key (alias, interface,
 * wins-server, resolve-order) given by a later source replaces the list an
 * earlier source gave; within one source, its values accumulate.
 *
 * Layout for later services: keys live in sections. `[global]` holds the
 * node's names and the daemon's process settings, `[name-service]` the
 * settings of the UDP 137 service. The session, datagram and WINS services
 * (issues 7, 8, 9) add their own sections to the same table. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nb/err.h"
#include "nb/name.h"
#include "nb/ssnsrv.h"

#define NB_CONFIG_MAX_ALIASES 8
#define NB_CONFIG_MAX_IFACES 16
#define NB_CONFIG_MAX_WINS 4
#define NB_CONFIG_MAX_RESOLVE 4
#define NB_CONFIG_IFNAME_MAX 15 /* IFNAMSIZ - 1 */
#define NB_CONFIG_USER_MAX 32
#define NB_CONFIG_PATH_MAX 107 /* sizeof(sun_path) - 1 */
#define NB_CONFIG_LINE_MAX 1024
#define NB_CONFIG_FILE_MAX (256u * 1024u)
#define NB_CONFIG_PREFIX_UNSET 0xff /* address given without /len */
#define NB_CONFIG_MAX_ROUTES 32     /* [session] route table */
#define NB_CONFIG_CONTROL_DEFAULT "/run/nbtd/nbtd.sock"

#define NB_CONFIG_WINS_DB_DEFAULT "/var/lib/nbtd/wins.db" /* [wins] */

/* [datagram] (issue 8): the application socket of the datagram service. */
#define NB_CONFIG_DGRAM_SOCKET_DEFAULT "/run/nbtd/dgram.sock"

/* Node types (RFC 1001 10): the letters the flags and files use. */
typedef enum nb_config_node {
  NB_CONFIG_NODE_UNSET = 0,
  NB_CONFIG_NODE_B = 'b',
  NB_CONFIG_NODE_P = 'p',
  NB_CONFIG_NODE_M = 'm',
  NB_CONFIG_NODE_H = 'h'
} nb_config_node_t;

/* `name resolve order` methods (smb.conf); only wins and bcast change
 * nbtd's behaviour (they pick the node type), the others are kept so that a
 * dump shows what was read. */
typedef enum nb_config_resolve {
  NB_CONFIG_RESOLVE_LMHOSTS = 1,
  NB_CONFIG_RESOLVE_HOST,
  NB_CONFIG_RESOLVE_WINS,
  NB_CONFIG_RESOLVE_BCAST
} nb_config_resolve_t;

/* Log levels, syslog's order (lower is more severe). */
typedef enum nb_log_level {
  NB_LOG_ERR = 3,
  NB_LOG_WARNING = 4,
  NB_LOG_NOTICE = 5,
  NB_LOG_INFO = 6,
  NB_LOG_DEBUG = 7
} nb_log_level_t;

/* One `interface` value: an IPv4 address with a prefix length, or an
 * interface name (which may hold shell wildcards, as Samba allows) that the
 * daemon resolves. Addresses are in host byte order. */
typedef struct nb_config_iface {
  char ifname[NB_CONFIG_IFNAME_MAX + 1]; /* "" when given by address */
  uint32_t addr;                         /* host order; 0 with ifname */
  uint8_t prefix;                        /* 0..32, or NB_CONFIG_PREFIX_UNSET */
} nb_config_iface_t;

/* A NetBIOS name as configured: 1..15 bytes, upper-cased (nmbd upper-cases
 * its names too), NUL-terminated. */
typedef struct nb_config_nbname {
  char s[NB_NAME_CHARS + 1];
} nb_config_nbname_t;

typedef struct nb_config {
  /* [global]: the node */
  nb_config_nbname_t name; /* "" until set; the daemon falls back to the
                              host name */
  nb_config_nbname_t aliases[NB_CONFIG_MAX_ALIASES];
  size_t n_aliases;
  nb_config_nbname_t workgroup; /* default WORKGROUP */
  char scope[NB_SCOPE_MAX + 1]; /* "" for none */
  nb_config_iface_t ifaces[NB_CONFIG_MAX_IFACES];
  size_t n_ifaces; /* 0: every broadcast-capable IPv4 interface */
  bool bind_interfaces_only;
  bool limited_broadcast; /* yes: hear 255.255.255.255 (0.0.0.0 sockets) */
  uint32_t wins[NB_CONFIG_MAX_WINS]; /* host order */
  size_t n_wins;
  nb_config_node_t node_type; /* UNSET: derived in nb_config_finish */
  nb_config_resolve_t resolve[NB_CONFIG_MAX_RESOLVE];
  size_t n_resolve;
  /* [global]: the process */
  char user[NB_CONFIG_USER_MAX + 1];     /* "" : nobody when root */
  char control[NB_CONFIG_PATH_MAX + 1];  /* control socket; "" for none */
  char pid_file[NB_CONFIG_PATH_MAX + 1]; /* "" for none */
  nb_log_level_t log_level;
  bool syslog;
  /* [name-service] */
  uint16_t port;              /* UDP port, 137 */
  uint32_t rate_limit;        /* responses/s to one source, 0 = none */
  uint32_t rate_limit_global; /* responses/s to all sources, 0 = none */
  /* [session] (issue 7): TCP 139 and the forwarder. The service runs when
   * the route table is not empty; `forward` and `route` fill one list. */
  uint16_t session_port; /* TCP port, 139 */
  nb_ssnsrv_route_t routes[NB_CONFIG_MAX_ROUTES];
  size_t n_routes;
  uint32_t session_limit;     /* sessions at once; 0x83 beyond (1000) */
  uint32_t request_timeout_s; /* SESSION REQUEST wait (10) */
  uint32_t connect_timeout_s; /* backend connect and answer (10) */
  uint32_t idle_timeout_s;    /* no message bytes: close; 0 = never */
  uint32_t keepalive_s;       /* KEEP ALIVE to idle clients; 0 = never */
  uint32_t buffer_high;       /* bytes held per direction: stop reading */
  uint32_t buffer_low;        /* ... resume at or below */
  /* [wins] (issue 9): the NBNS (WINS) server. Runs when nbns_server is
   * set (`--nbns-server`, smb.conf `wins support = yes`). */
  bool nbns_server;
  char wins_db[NB_CONFIG_PATH_MAX + 1]; /* SQLite database */
  uint32_t wins_ttl_min_s;              /* 300: shorter proposals raised */
  uint32_t wins_ttl_max_s;              /* 0 = no cap (RFC 1001 15.1.3.2) */
  uint32_t wins_max_names;              /* 65536: the table's size */
  /* [datagram] (issue 8): UDP 138 and the application socket
   * (docs/DATAGRAM-API.md). */
  bool dgram_service;                        /* yes: run it */
  uint16_t dgram_port;                       /* 138 */
  char dgram_socket[NB_CONFIG_PATH_MAX + 1]; /* "" for none */
  uint32_t nbdd;                             /* NBDD of P/M/H nodes; 0 none */
  bool nbdd_query;                           /* yes: DATAGRAM QUERY first */
  bool nbdd_server;                          /* no: act as the NBDD */
  uint32_t dgram_rate_limit;                 /* responses/s to one source */
  uint32_t dgram_rate_limit_global;          /* responses/s in all */
  /* which source last set each key (for list replacement); internal */
  uint8_t src_of[64]; /* indexed by key: room for every section's keys */
  uint8_t src;
} nb_config_t;

/* Where and why a parse failed. `line` and `column` are 1-based (0 when the
 * value came from a flag); `what` is a static string; `key` is the key
 * involved, possibly truncated, "" when none. */
typedef struct nb_config_error {
  nb_err_t err;
  unsigned line;
  unsigned column;
  const char *what;
  char key[32];
} nb_config_error_t;

/* Defaults: workgroup WORKGROUP, port 137, log level notice, control
 * socket /run/nbtd/nbtd.sock, rate limits 20 responses/s per source and
 * 2000/s in all, no names, all interfaces, node type derived. */
void nb_config_init(nb_config_t *c);

/* Start a new source (file or flags): a list key set after this replaces
 * what earlier sources gave. */
void nb_config_begin_source(nb_config_t *c);

/* Parse nbtd's own file format (`text` need not be NUL-terminated). On
 * failure `c` may hold the values of the lines before the bad one. */
nb_err_t nb_config_parse(nb_config_t *c, const char *text, size_t len,
                         nb_config_error_t *e);

/* Read the relevant [global] parameters of a Samba smb.conf: netbios name,
 * netbios aliases, workgroup, netbios scope, interfaces, bind interfaces
 * only, wins server, name resolve order, wins support (issue 9). Other
 * parameters and sections are
 * ignored, as Samba ignores what it does not know; a bad value of a
 * parameter that is read is an error. */
nb_err_t nb_config_parse_smbconf(nb_config_t *c, const char *text, size_t len,
                                 nb_config_error_t *e);

/* Set one key (the flag spelling without "--", or the file's key) from a
 * value of `vlen` bytes. Unknown keys give NB_ENOTFOUND. `no-KEY` sets a
 * negatable switch (limited-broadcast) to the opposite of the value. */
nb_err_t nb_config_set(nb_config_t *c, const char *key, const char *value,
                       size_t vlen, nb_config_error_t *e);

/* True when `key` is a configuration key that takes no value on the
 * command line (a boolean flag such as --syslog, or `no-KEY` for a switch
 * that can be negated: --no-limited-broadcast). */
bool nb_config_key_is_switch(const char *key);

/* True when `key` is a configuration key at all (or `no-KEY`, see above). */
bool nb_config_key_exists(const char *key);

/* Check the result and derive what was left open: the node type (B with no
 * WINS server; with one, from the resolve order: wins before bcast H, bcast
 * before wins M, wins alone P). P, M and H need a WINS server. */
nb_err_t nb_config_finish(nb_config_t *c, nb_config_error_t *e);

/* Write `c` in nbtd's file format (every key that differs from "unset").
 * Returns the length needed, like snprintf; `buf` is NUL-terminated when
 * cap > 0. Parsing the output gives back an equal configuration. */
size_t nb_config_write(const nb_config_t *c, char *buf, size_t cap);

/* Field-by-field equality of the user-visible settings. */
bool nb_config_equal(const nb_config_t *a, const nb_config_t *b);

/* "SOURCE:LINE:COLUMN: key: what" (or "SOURCE: key: what" for flags) into
 * `buf`; returns the length needed, like snprintf. */
size_t nb_config_format_error(const nb_config_error_t *e, const char *source,
                              char *buf, size_t cap);

/* Text forms: "err".."debug", "b".."h". NULL for an unknown value. */
const char *nb_config_log_level_name(nb_log_level_t l);

/* The broadcast address of an interface with a known prefix. */
uint32_t nb_config_iface_bcast(const nb_config_iface_t *i);

#endif
