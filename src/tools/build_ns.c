/* SPDX-License-Identifier: BSD-2-Clause */
/* nbt build ns KIND [OPTIONS]: one name-service packet as a line of hex.
 *
 * The interface agreed with the conformance lab (extend only additively):
 *   query --name NAME [--trn N] [--bcast] [--no-rd]
 *   status --name NAME
 *   register|overwrite|refresh|release|multihomed --name NAME --addr IPV4
 *       [--ttl N] [--group] [--ont b|p|m|h] [--bcast] [--trn N]
 *   query-response --name NAME --addr IPV4[,IPV4...] [--ttl N] [--group]
 *       [--ont X] [--ra]
 *   negative-query-response --name NAME [--rcode N]
 *   registration-response --name NAME --addr IPV4 [--rcode N] [--ttl N]
 *   release-response --name NAME --addr IPV4 [--rcode N] [--ttl N]
 *   wack --name NAME [--ttl N]
 *   redirect --name NAME --nsd-name NAME --nsd-addr IPV4 [--ttl N]
 *   conflict-demand --name NAME --addr IPV4
 *   status-response --name NAME --entry 'NAME<XX>:FLAGS' ... [--unit-id MAC]
 * Additions: --trn on every kind; challenge-response; --tc, --opcode,
 * --request-flags, --ar-name-full, --flags WORD (raw second header word);
 * the codec's kind identifiers (nb_ns_kind_ident) as aliases.
 *
 * Shell layer only: the packets come from the codec's nb_ns_build(); the
 * two options the builder has no argument for (--no-rd, and --addr on a
 * conflict demand, whose RFC 1002 4.2.8 address is 0) are applied by
 * parsing the built packet, changing the model and writing it again with
 * nb_ns_write(). */
#include <stdlib.h>
#include <string.h>

#include "nb/ns.h"
#include "nbt.h"
#include "util.h"

#define NS_BUILD_CAP 8192 /* NBSTAT with 255 names is about 4.7 KiB */
#define NS_MAX_ADDRS 100  /* query-response ADDR_ENTRY array */
#define NS_MAX_NBSTAT 255 /* NUM_NAMES is one byte (RFC 1002 4.2.18) */
#define NS_DEFAULT_TRN 0x0001
#define NS_DEFAULT_TTL 300000u      /* 0x493e0, what Windows registers with */
#define NS_DEFAULT_WACK_TTL 60u     /* nmbd's WACK */
#define NS_DEFAULT_WACK_REQ 0x2900u /* a unicast registration with RD */

/* Options, as bits: a kind lists which it accepts and which it needs. */
enum {
  O_NAME = 1u << 0,
  O_TRN = 1u << 1,
  O_BCAST = 1u << 2,
  O_NO_RD = 1u << 3,
  O_ADDR = 1u << 4,
  O_TTL = 1u << 5,
  O_GROUP = 1u << 6,
  O_ONT = 1u << 7,
  O_RA = 1u << 8,
  O_TC = 1u << 9,
  O_RCODE = 1u << 10,
  O_ENTRY = 1u << 11,
  O_UNIT_ID = 1u << 12,
  O_NSD_NAME = 1u << 13,
  O_NSD_ADDR = 1u << 14,
  O_REQ_FLAGS = 1u << 15,
  O_OPCODE = 1u << 16,
  O_AR_FULL = 1u << 17,
  O_FLAGS = 1u << 18,
};

#define O_COMMON (O_NAME | O_TRN | O_FLAGS)
#define O_NB_ENTRY (O_ADDR | O_TTL | O_GROUP | O_ONT)
#define O_REQUEST_AR (O_COMMON | O_NB_ENTRY | O_BCAST | O_AR_FULL)

typedef struct ns_kind_cmd {
  const char *word;
  nb_ns_kind_t kind;     /* with rcode 0 (or the only kind) */
  nb_ns_kind_t neg_kind; /* with a non-zero --rcode, when different */
  unsigned allowed;
  unsigned required;
  uint32_t ttl; /* default TTL */
} ns_kind_cmd_t;

#define K(x) NB_NS_KIND_##x
static const ns_kind_cmd_t kinds[] = {
    {"query", K(QUERY_REQUEST), K(UNKNOWN), O_COMMON | O_BCAST | O_NO_RD,
     O_NAME, 0},
    {"status", K(STATUS_REQUEST), K(UNKNOWN), O_COMMON | O_BCAST, O_NAME, 0},
    {"register", K(REGISTRATION_REQUEST), K(UNKNOWN), O_REQUEST_AR,
     O_NAME | O_ADDR, NS_DEFAULT_TTL},
    {"overwrite", K(OVERWRITE_REQUEST), K(UNKNOWN), O_REQUEST_AR,
     O_NAME | O_ADDR, NS_DEFAULT_TTL},
    {"refresh", K(REFRESH_REQUEST), K(UNKNOWN), O_REQUEST_AR | O_OPCODE,
     O_NAME | O_ADDR, NS_DEFAULT_TTL},
    {"release", K(RELEASE_REQUEST), K(UNKNOWN), O_REQUEST_AR, O_NAME | O_ADDR,
     0},
    {"multihomed", K(MULTIHOMED_REQUEST), K(UNKNOWN), O_REQUEST_AR,
     O_NAME | O_ADDR, NS_DEFAULT_TTL},
    {"query-response", K(POS_QUERY_RESPONSE), K(UNKNOWN),
     O_COMMON | O_NB_ENTRY | O_RA | O_TC, O_NAME | O_ADDR, NS_DEFAULT_TTL},
    {"negative-query-response", K(NEG_QUERY_RESPONSE), K(UNKNOWN),
     O_COMMON | O_RCODE | O_RA, O_NAME, 0},
    {"registration-response", K(POS_REGISTRATION_RESPONSE),
     K(NEG_REGISTRATION_RESPONSE), O_COMMON | O_NB_ENTRY | O_RCODE | O_OPCODE,
     O_NAME | O_ADDR, NS_DEFAULT_TTL},
    {"release-response", K(POS_RELEASE_RESPONSE), K(NEG_RELEASE_RESPONSE),
     O_COMMON | O_NB_ENTRY | O_RCODE, O_NAME | O_ADDR, 0},
    {"challenge-response", K(CHALLENGE_RESPONSE), K(UNKNOWN),
     O_COMMON | O_NB_ENTRY, O_NAME | O_ADDR, NS_DEFAULT_TTL},
    {"wack", K(WACK), K(UNKNOWN), O_COMMON | O_TTL | O_REQ_FLAGS, 0,
     NS_DEFAULT_WACK_TTL},
    {"redirect", K(REDIRECT_RESPONSE), K(UNKNOWN),
     O_COMMON | O_TTL | O_NSD_NAME | O_NSD_ADDR,
     O_NAME | O_NSD_NAME | O_NSD_ADDR, NS_DEFAULT_TTL},
    {"conflict-demand", K(CONFLICT_DEMAND), K(UNKNOWN),
     O_COMMON | O_ADDR | O_ONT | O_OPCODE | O_TTL, O_NAME, 0},
    {"status-response", K(STATUS_RESPONSE), K(UNKNOWN),
     O_COMMON | O_ENTRY | O_UNIT_ID, O_NAME, 0},
};
#undef K

typedef struct ns_opt {
  const char *flag;
  unsigned bit;
  bool has_arg;
} ns_opt_t;

static const ns_opt_t opts[] = {
    {"--name", O_NAME, true},
    {"--trn", O_TRN, true},
    {"--bcast", O_BCAST, false},
    {"--no-rd", O_NO_RD, false},
    {"--addr", O_ADDR, true},
    {"--ttl", O_TTL, true},
    {"--group", O_GROUP, false},
    {"--ont", O_ONT, true},
    {"--ra", O_RA, false},
    {"--tc", O_TC, false},
    {"--rcode", O_RCODE, true},
    {"--entry", O_ENTRY, true},
    {"--unit-id", O_UNIT_ID, true},
    {"--nsd-name", O_NSD_NAME, true},
    {"--nsd-addr", O_NSD_ADDR, true},
    {"--request-flags", O_REQ_FLAGS, true},
    {"--opcode", O_OPCODE, true},
    {"--ar-name-full", O_AR_FULL, false},
    {"--flags", O_FLAGS, true},
};

/* Everything the command line said, decoded. */
typedef struct ns_build_opts {
  unsigned seen;
  nb_name_t name;
  nb_name_t nsd_name;
  uint16_t trn;
  uint32_t ttl;
  nb_ns_nb_entry_t addrs[NS_MAX_ADDRS];
  size_t n_addrs;
  uint16_t nb_flags; /* G and ONT */
  unsigned rcode;
  unsigned opcode;
  uint16_t req_flags;
  uint16_t flags_word;
  uint32_t nsd_addr;
  nb_ns_nbstat_entry_t nbstat[NS_MAX_NBSTAT];
  size_t n_nbstat;
  nb_ns_statistics_t stats;
} ns_build_opts_t;

static void build_ns_usage(FILE *f) {
  fprintf(f, "usage: nbt build ns KIND [OPTIONS]\n\nkinds:\n");
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    fprintf(f, "  %-24s %s\n", kinds[i].word, nb_ns_kind_name(kinds[i].kind));
  }
  fprintf(f,
          "\noptions: --name NAME[<XX>][.SCOPE] --trn N --bcast --no-rd\n"
          "  --addr IPV4[,IPV4...] --ttl N --group --ont b|p|m|h --ra --tc\n"
          "  --rcode N --entry 'NAME<XX>[:FLAGS]' (FLAGS a number or\n"
          "  G,P,M,H,DRG,CNF,ACT,PRM; default ACT) --unit-id MAC\n"
          "  --nsd-name NAME --nsd-addr IPV4 --request-flags WORD (wack)\n"
          "  --opcode N --ar-name-full --flags WORD (raw header word)\n"
          "Prints the packet as one line of lowercase hex. The codec's kind\n"
          "identifiers (e.g. pos-query, neg-registration) are accepted too.\n"
          "See docs/DECODE.md.\n");
}

/* ---- value parsers (command-line text, not network data) -------------- */

static bool parse_addr_list(ns_build_opts_t *o, const char *s) {
  while (true) {
    size_t n = strcspn(s, ",");
    if (o->n_addrs == NS_MAX_ADDRS ||
        !nbt_parse_dotted(s, n, &o->addrs[o->n_addrs].addr)) {
      return false;
    }
    o->n_addrs++;
    if (s[n] == '\0') {
      return true;
    }
    s += n + 1;
  }
}

static bool parse_ont(const char *s, uint16_t *flags) {
  static const char letters[] = "bpmh";
  const char *p = strlen(s) == 1 ? strchr(letters, s[0] | 0x20) : NULL;
  if (p == NULL || *p == '\0') {
    return false;
  }
  *flags = (uint16_t)(*flags & ~NB_NS_NB_ONT_MASK);
  *flags = (uint16_t)(*flags | (unsigned)(p - letters) << 13);
  return true;
}

static bool parse_name(const char *s, nb_name_t *out) {
  nb_diag_t d = {NB_OK, 0, NULL};
  if (nb_name_from_text(out, s, strlen(s), &d) == NB_OK) {
    return true;
  }
  fprintf(stderr, "nbt: build ns: name '%s': %s at character %zu: %s\n", s,
          nb_strerror(d.err), d.offset, d.field);
  return false;
}

/* NAME_FLAGS words: G, the node types, DRG, CNF, ACT, PRM (4.2.18). */
static bool parse_name_flag_word(const char *w, size_t n, uint16_t *flags) {
  static const struct {
    const char *word;
    uint16_t bits;
  } words[] = {{"G", NB_NS_NAME_G},     {"B", NB_NS_ONT_B},
               {"P", NB_NS_ONT_P},      {"M", NB_NS_ONT_M},
               {"H", NB_NS_ONT_H},      {"DRG", NB_NS_NAME_DRG},
               {"CNF", NB_NS_NAME_CNF}, {"ACT", NB_NS_NAME_ACT},
               {"PRM", NB_NS_NAME_PRM}};
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
    if (strlen(words[i].word) == n && strncmp(words[i].word, w, n) == 0) {
      *flags = (uint16_t)(*flags | words[i].bits);
      return true;
    }
  }
  return false;
}

static bool parse_name_flags(const char *s, uint16_t *flags) {
  unsigned long v = 0;
  if (nbt_parse_uint(s, 0xffff, &v)) {
    *flags = (uint16_t)v;
    return true;
  }
  *flags = 0;
  while (true) {
    size_t n = strcspn(s, ",+|");
    if (!parse_name_flag_word(s, n, flags)) {
      return false;
    }
    if (s[n] == '\0') {
      return true;
    }
    s += n + 1;
  }
}

/* --entry 'NAME<XX>[:FLAGS]': the name's 16 bytes (scope ignored). */
static bool parse_entry(ns_build_opts_t *o, const char *s) {
  char text[NB_NAME_TEXT_MAX];
  const char *colon = strrchr(s, ':');
  size_t n = colon ? (size_t)(colon - s) : strlen(s);
  nb_ns_nbstat_entry_t *e = &o->nbstat[o->n_nbstat];
  nb_name_t name;
  if (o->n_nbstat == NS_MAX_NBSTAT || n >= sizeof text) {
    return false;
  }
  memcpy(text, s, n);
  text[n] = '\0';
  if (!parse_name(text, &name)) {
    return false;
  }
  memcpy(e->name, name.bytes, NB_NAME_BYTES);
  e->name_flags = NB_NS_NAME_ACT;
  if (colon != NULL && !parse_name_flags(colon + 1, &e->name_flags)) {
    return false;
  }
  o->n_nbstat++;
  return true;
}

static bool parse_mac(const char *s, uint8_t out[6]) {
  uint8_t buf[6];
  size_t len = 0;
  size_t bad = 0;
  if (strlen(s) > 17 || !nbt_unhex(s, buf, sizeof buf, &len, &bad) ||
      len != 6) {
    return false;
  }
  memcpy(out, buf, 6);
  return true;
}

static bool parse_small(const char *s, unsigned long max, unsigned *out) {
  unsigned long v = 0;
  if (!nbt_parse_uint(s, max, &v)) {
    return false;
  }
  *out = (unsigned)v;
  return true;
}

static bool parse_u16(const char *s, uint16_t *out) {
  unsigned v = 0;
  if (!parse_small(s, 0xffff, &v)) {
    return false;
  }
  *out = (uint16_t)v;
  return true;
}

static bool parse_value(ns_build_opts_t *o, unsigned bit, const char *v) {
  unsigned long ttl = 0;
  switch (bit) {
  case O_NAME:
    return parse_name(v, &o->name);
  case O_NSD_NAME:
    return parse_name(v, &o->nsd_name);
  case O_TRN:
    return parse_u16(v, &o->trn);
  case O_TTL:
    if (!nbt_parse_uint(v, 0xffffffffu, &ttl)) {
      return false;
    }
    o->ttl = (uint32_t)ttl;
    return true;
  case O_ADDR:
    return parse_addr_list(o, v);
  case O_ONT:
    return parse_ont(v, &o->nb_flags);
  case O_RCODE:
    return parse_small(v, 15, &o->rcode);
  case O_OPCODE:
    return parse_small(v, 15, &o->opcode);
  case O_ENTRY:
    return parse_entry(o, v);
  case O_UNIT_ID:
    return parse_mac(v, o->stats.unit_id);
  case O_NSD_ADDR:
    return nbt_parse_dotted(v, strlen(v), &o->nsd_addr);
  case O_REQ_FLAGS:
    return parse_u16(v, &o->req_flags);
  case O_FLAGS:
    return parse_u16(v, &o->flags_word);
  default:
    return true;
  }
}

static const ns_opt_t *find_opt(const char *flag) {
  for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
    if (strcmp(flag, opts[i].flag) == 0) {
      return &opts[i];
    }
  }
  return NULL;
}

static int parse_opts(int argc, char **argv, const ns_kind_cmd_t *k,
                      ns_build_opts_t *o) {
  for (int i = 2; i < argc; i++) {
    const ns_opt_t *opt = find_opt(argv[i]);
    if (opt == NULL || (k->allowed & opt->bit) == 0 ||
        (opt->has_arg && i + 1 >= argc)) {
      fprintf(stderr, "nbt: build ns %s: unexpected '%s'\n", k->word, argv[i]);
      return NBT_EXIT_USAGE;
    }
    const char *v = opt->has_arg ? argv[++i] : NULL;
    o->seen |= opt->bit;
    if (v != NULL && !parse_value(o, opt->bit, v)) {
      fprintf(stderr, "nbt: build ns %s: bad %s '%s'\n", k->word, opt->flag, v);
      return NBT_EXIT_USAGE;
    }
  }
  if ((o->seen & k->required) != k->required) {
    fprintf(stderr,
            "nbt: build ns %s: missing a required option (see "
            "'nbt build ns --help')\n",
            k->word);
    return NBT_EXIT_USAGE;
  }
  return NBT_EXIT_OK;
}

/* ---- building --------------------------------------------------------- */

static void fill_args(const ns_kind_cmd_t *k, ns_build_opts_t *o,
                      nb_ns_build_args_t *a) {
  memset(a, 0, sizeof *a);
  a->trn_id = (o->seen & O_TRN) ? o->trn : NS_DEFAULT_TRN;
  a->name = (o->seen & O_NAME) ? &o->name : NULL;
  a->broadcast = (o->seen & O_BCAST) != 0;
  a->ttl = (o->seen & O_TTL) ? o->ttl : k->ttl;
  a->nb_flags =
      (uint16_t)(o->nb_flags | ((o->seen & O_GROUP) ? NB_NS_NB_G : 0));
  a->addr = o->n_addrs > 0 ? o->addrs[0].addr : 0;
  for (size_t i = 0; i < o->n_addrs; i++) {
    o->addrs[i].nb_flags = a->nb_flags;
  }
  a->entries = o->n_addrs > 0 ? o->addrs : NULL;
  a->n_entries = o->n_addrs;
  a->rcode = (uint8_t)o->rcode;
  a->ra = (o->seen & O_RA) != 0;
  a->truncated = (o->seen & O_TC) != 0;
  a->opcode = (uint8_t)o->opcode;
  a->ar_name_full = (o->seen & O_AR_FULL) != 0;
  a->wack_request_flags =
      (o->seen & O_REQ_FLAGS) ? o->req_flags : NS_DEFAULT_WACK_REQ;
  a->nbstat = o->nbstat;
  a->n_nbstat = o->n_nbstat;
  a->statistics = &o->stats;
  a->nsd_name = (o->seen & O_NSD_NAME) ? &o->nsd_name : NULL;
  a->nsd_addr = o->nsd_addr;
  a->raw_flags = (o->seen & O_FLAGS) != 0;
  a->flags_word = o->flags_word;
}

/* The kind to build: the alias's kind when one was named, else negative
 * when a non-zero --rcode asks for it. Negative kinds default to the RCODE
 * their RFC section lists first for them. */
static nb_ns_kind_t pick_kind(const ns_kind_cmd_t *k, nb_ns_kind_t alias,
                              ns_build_opts_t *o) {
  nb_ns_kind_t kind = k->kind;
  if (alias != NB_NS_KIND_UNKNOWN) {
    kind = alias;
  } else if (k->neg_kind != NB_NS_KIND_UNKNOWN && o->rcode != 0) {
    kind = k->neg_kind;
  }
  if (!(o->seen & O_RCODE) && kind == NB_NS_KIND_NEG_QUERY_RESPONSE) {
    o->rcode = NB_NS_RCODE_NAM_ERR; /* RFC 1002 4.2.14 */
  } else if (!(o->seen & O_RCODE) && kind == k->neg_kind) {
    o->rcode = NB_NS_RCODE_ACT_ERR; /* RFC 1002 4.2.6, 4.2.11 */
  }
  return kind;
}

/* Apply what nb_ns_build() has no argument for: --no-rd, a conflict
 * demand's --addr (RFC 1002 4.2.8 says 0; the lab may ask for another) and
 * an explicit --ttl where the diagram fixes the TTL at 0 (release 4.2.9,
 * conflict 4.2.8): parse the built packet, change the model, write it
 * again. An explicit --ttl sets the TTL of every record. */
static nb_err_t adjust(const ns_kind_cmd_t *k, const ns_build_opts_t *o,
                       const uint8_t *in, size_t in_len, uint8_t *out,
                       size_t *out_len) {
  nb_ns_msg_t m;
  nb_wr_t w;
  uint8_t rdata[NB_NS_NB_ENTRY_LEN];
  nb_diag_t d = {NB_OK, 0, NULL};
  nb_err_t e = nb_ns_parse(in, in_len, &m, &d);
  if (e != NB_OK) {
    return e;
  }
  if (o->seen & O_NO_RD) {
    m.hdr.nm_flags = (uint8_t)(m.hdr.nm_flags & ~NB_NS_FLAG_RD);
  }
  for (size_t i = 0; (o->seen & O_TTL) && i < NB_NS_MAX_RRS; i++) {
    m.rr[i].ttl = o->ttl;
  }
  if (k->kind == NB_NS_KIND_CONFLICT_DEMAND && o->n_addrs > 0 &&
      m.ancount == 1 && m.rr[0].rdlength == NB_NS_NB_ENTRY_LEN) {
    nb_wr_init(&w, rdata, sizeof rdata);
    nb_wr_bytes(&w, m.rr[0].rdata, 2); /* NB_FLAGS as built */
    nb_wr_be32(&w, o->addrs[0].addr);
    m.rr[0].rdata = rdata;
  }
  nb_wr_init(&w, out, NS_BUILD_CAP);
  (void)nb_ns_write(&w, &m);
  return nb_wr_finish(&w, out_len);
}

static int build_and_print(const ns_kind_cmd_t *k, nb_ns_kind_t alias,
                           ns_build_opts_t *o) {
  static uint8_t buf[NS_BUILD_CAP];
  static uint8_t out[NS_BUILD_CAP];
  nb_ns_build_args_t a;
  nb_wr_t w;
  size_t len = 0;
  nb_ns_kind_t kind = pick_kind(k, alias, o);
  bool rewrite = (o->seen & (O_NO_RD | O_TTL)) != 0 ||
                 (kind == NB_NS_KIND_CONFLICT_DEMAND && o->n_addrs > 0);
  fill_args(k, o, &a);
  nb_wr_init(&w, buf, sizeof buf);
  nb_err_t e = nb_ns_build(&w, kind, &a);
  if (e == NB_OK) {
    e = nb_wr_finish(&w, &len);
  }
  const uint8_t *p = buf;
  if (e == NB_OK && rewrite) {
    e = adjust(k, o, buf, len, out, &len);
    p = out;
  }
  if (e != NB_OK) {
    fprintf(stderr, "nbt: build ns %s: %s\n", k->word, nb_strerror(e));
    return NBT_EXIT_FAIL;
  }
  nbt_print_hex(stdout, p, len);
  printf("\n");
  return NBT_EXIT_OK;
}

/* A kind word of the agreed interface, or a codec identifier (`*alias`
 * then names the exact kind). */
static const ns_kind_cmd_t *find_kind(const char *word, nb_ns_kind_t *alias) {
  size_t n = sizeof kinds / sizeof kinds[0];
  *alias = NB_NS_KIND_UNKNOWN;
  for (size_t i = 0; i < n; i++) {
    if (strcmp(word, kinds[i].word) == 0) {
      return &kinds[i];
    }
  }
  nb_ns_kind_t kind = nb_ns_kind_from_ident(word);
  for (size_t i = 0; kind != NB_NS_KIND_UNKNOWN && i < n; i++) {
    if (kinds[i].kind == kind || kinds[i].neg_kind == kind) {
      *alias = kind;
      return &kinds[i];
    }
  }
  return NULL;
}

int nbt_build_ns(int argc, char **argv) {
  static ns_build_opts_t o;
  if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
      strcmp(argv[1], "-h") == 0) {
    build_ns_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? NBT_EXIT_USAGE : NBT_EXIT_OK;
  }
  nb_ns_kind_t alias = NB_NS_KIND_UNKNOWN;
  const ns_kind_cmd_t *k = find_kind(argv[1], &alias);
  if (k == NULL) {
    fprintf(stderr, "nbt: build ns: unknown kind '%s'\n", argv[1]);
    build_ns_usage(stderr);
    return NBT_EXIT_USAGE;
  }
  memset(&o, 0, sizeof o);
  int rc = parse_opts(argc, argv, k, &o);
  return rc != NBT_EXIT_OK ? rc : build_and_print(k, alias, &o);
}
