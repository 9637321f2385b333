/* SPDX-License-Identifier: BSD-2-Clause */
/* nbt decode: the driver behind the printers of decode.h.
 *
 * WARNING: parses untrusted network data. A capture file is as hostile as
 * the network it was taken from: link, IPv4, UDP and TCP headers go through
 * nbt_rp_frame_parse_ex (replay_frame.c, fuzzed by fuzz_replay_capture) in
 * partial mode, where lengths in headers are only ever used to shrink a
 * window, never to grow one; a frame whose headers do not parse is counted
 * and skipped.
 *
 * Inputs: a HEX argument, `-` (hex text on stdin, one packet per line; for
 * --proto ssn the whole text is one stream), or --pcap FILE (pcap or pcapng
 * through libpcap). Output and fields: docs/DECODE.md. Exit code: 0 when
 * every NetBIOS packet decoded, 1 when any failed, 2 usage, 3 I/O.
 *
 * The datagram and session printers (decode_dgm.c, decode_ssn.c) are linked
 * only when their sources exist: CMake then defines NBT_HAVE_DECODE_DGM /
 * NBT_HAVE_DECODE_SSN. Without them their packets are counted as "not
 * decoded" on stderr, never reported as decoded. */
/* libpcap's headers use the BSD u_int/u_char types, which strict C11 hides. */
#define _DEFAULT_SOURCE 1

#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "nbt.h"
#include "replay_frame.h"
#include "util.h"

#define NBT_PORT_NS 137  /* RFC 1002 4.2: UDP 137 */
#define NBT_PORT_DGM 138 /* RFC 1002 4.4: UDP 138 */
#define NBT_PORT_SSN 139 /* RFC 1002 4.3: TCP 139 */
#define NBT_PORT_SMB 445 /* SMB direct: the same framing in practice */
#define NBT_STDIN_MAX ((size_t)16 << 20)

typedef enum { PROTO_NS, PROTO_DGM, PROTO_SSN } decode_proto_t;

typedef struct decode_run {
  nbt_decode_opts_t o;
  decode_proto_t proto;   /* hex input only */
  nbt_ssn_decoder_t *ssn; /* pcap input, when the session decoder is built */
  unsigned long packets;  /* payloads handed to a printer */
  unsigned long failed;   /* of which did not decode */
  unsigned long bad_hdr;  /* frames whose link/IP/UDP/TCP headers failed */
  unsigned long frags;    /* IPv4 fragments (not reassembled) */
  unsigned long unbuilt;  /* NetBIOS payloads whose printer is not built */
} decode_run_t;

static const char *const proto_json[] = {"nbns", "nbdgm", "nbss"};
static const char *const proto_text[] = {"NBNS", "NBDGM", "NBSS"};

static void decode_usage(FILE *f) {
  fprintf(f,
          "usage: nbt decode [--json] [--proto ns|dgm|ssn] HEX|-\n"
          "       nbt decode [--json] --pcap FILE\n"
          "\n"
          "Decode NetBIOS packets: one line per packet (continuation lines\n"
          "indented), or one JSON object per line with --json. HEX is one\n"
          "packet; '-' reads hex text from stdin, one packet per line ('#'\n"
          "starts a comment line). --pcap reads pcap or pcapng (Ethernet,\n"
          "Linux cooked SLL/SLL2, raw IP, loopback) and decodes IPv4 UDP 137\n"
          "(ns), UDP 138 (dgm) and TCP 139/445 (ssn). Exit code: 0 all\n"
          "decoded, 1 a packet failed, 2 usage, 3 I/O. See docs/DECODE.md.\n");
}

/* A payload that never reached a printer (bad hex): reported in the same
 * shape as a printer's error, with the character offset into the text. */
static void report_bad_hex(decode_run_t *run, size_t at) {
  nbt_pkt_meta_t m;
  nb_diag_t d = {NB_EMALFORMED, at, "hex input"};
  memset(&m, 0, sizeof m);
  if (run->o.json) {
    nbt_decode_json_begin(&run->o, &m, proto_json[run->proto]);
    nbt_decode_json_error(&run->o, &d);
    nbt_decode_json_end(&run->o);
  } else {
    fprintf(run->o.out, "%s error %s at offset %zu (%s): invalid hex\n",
            proto_text[run->proto], nb_errname(d.err), d.offset, d.field);
  }
  run->packets++;
  run->failed++;
}

static void decode_bytes(decode_run_t *run, const uint8_t *p, size_t len) {
  nbt_pkt_meta_t m;
  bool ok = false;
  memset(&m, 0, sizeof m);
  switch (run->proto) {
  case PROTO_NS:
    ok = nbt_decode_ns(&run->o, &m, p, len);
    break;
  case PROTO_DGM:
#ifdef NBT_HAVE_DECODE_DGM
    ok = nbt_decode_dgm(&run->o, &m, p, len);
#endif
    break;
  case PROTO_SSN:
#ifdef NBT_HAVE_DECODE_SSN
    ok = nbt_decode_ssn_bytes(&run->o, p, len);
#endif
    break;
  }
  run->packets++;
  run->failed += ok ? 0 : 1;
}

/* One packet (or, for ssn, one stream) of hex text. */
static int decode_hex_text(decode_run_t *run, const char *text) {
  size_t cap = strlen(text) / 2 + 1;
  size_t len = 0;
  size_t bad = 0;
  uint8_t *buf = malloc(cap);
  if (buf == NULL) {
    perror("nbt: decode");
    return NBT_EXIT_ERROR;
  }
  if (nbt_unhex(text, buf, cap, &len, &bad)) {
    decode_bytes(run, buf, len);
  } else {
    report_bad_hex(run, bad);
  }
  free(buf);
  return NBT_EXIT_OK;
}

static bool blank_or_comment(const char *line) {
  line += strspn(line, " \t\r");
  return *line == '\0' || *line == '#';
}

/* stdin: one packet per non-blank line (ns, dgm); one stream (ssn). */
static int decode_stdin(decode_run_t *run) {
  size_t n = 0;
  int rc = NBT_EXIT_OK;
  char *text = (char *)nbt_read_file("-", NBT_STDIN_MAX, &n);
  if (text == NULL) {
    perror("nbt: decode: stdin");
    return NBT_EXIT_ERROR;
  }
  text[n] = '\0'; /* nbt_read_file leaves room for one more byte */
  if (run->proto == PROTO_SSN) {
    rc = decode_hex_text(run, text);
    free(text);
    return rc;
  }
  char *line = text;
  while (line != NULL && rc == NBT_EXIT_OK) {
    char *next = strchr(line, '\n');
    if (next != NULL) {
      *next++ = '\0';
    }
    if (!blank_or_comment(line)) {
      rc = decode_hex_text(run, line);
    }
    line = next;
  }
  free(text);
  return rc;
}

/* ---- capture frames ---------------------------------------------------- */

/* Which NetBIOS service a UDP port pair belongs to; the destination port
 * decides when both are NetBIOS ports. 0 when neither is. */
static uint16_t udp_service(uint16_t sport, uint16_t dport) {
  if (dport == NBT_PORT_NS || dport == NBT_PORT_DGM) {
    return dport;
  }
  if (sport == NBT_PORT_NS || sport == NBT_PORT_DGM) {
    return sport;
  }
  return 0;
}

/* UDP 137 to the name-service printer, UDP 138 to the datagram one. */
static void udp_payload(decode_run_t *run, const nbt_pkt_meta_t *m,
                        const nbt_rp_pkt_t *p) {
  bool ok = true;
  uint16_t svc = udp_service(m->sport, m->dport);
  if (svc == 0) {
    return;
  }
  if (svc == NBT_PORT_NS) {
    ok = nbt_decode_ns(&run->o, m, p->payload, p->len);
  } else {
#ifdef NBT_HAVE_DECODE_DGM
    ok = nbt_decode_dgm(&run->o, m, p->payload, p->len);
#else
    run->unbuilt++;
    return;
#endif
  }
  run->packets++;
  run->failed += ok ? 0 : 1;
}

static bool is_ssn_port(uint16_t port) {
  return port == NBT_PORT_SSN || port == NBT_PORT_SMB;
}

/* TCP 139/445: sequence number, flags and payload go to the session
 * decoder, which orders and frames the streams. */
static void tcp_payload(decode_run_t *run, const nbt_pkt_meta_t *m,
                        const nbt_rp_pkt_t *p) {
  if (!is_ssn_port(m->sport) && !is_ssn_port(m->dport)) {
    return;
  }
#ifdef NBT_HAVE_DECODE_SSN
  bool ok = nbt_ssn_decoder_segment(run->ssn, m, p->seq, p->tcp_flags,
                                    p->payload, p->len);
  run->failed += ok ? 0 : 1;
#else
  run->unbuilt += p->len > 0 ? 1 : 0;
#endif
}

/* Headers through replay_frame.c's parser (fuzzed), in partial mode: a
 * frame cut by the snaplen still shows what it holds. */
static void decode_frame(decode_run_t *run, int dlt,
                         const struct pcap_pkthdr *h, const uint8_t *data,
                         unsigned long frame) {
  nbt_rp_pkt_t p;
  nbt_pkt_meta_t m;
  memset(&m, 0, sizeof m);
  m.frame = frame;
  m.ts = (double)h->ts.tv_sec + (double)h->ts.tv_usec / 1e6;
  nb_err_t e =
      nbt_rp_frame_parse_ex(dlt, data, h->caplen, NBT_RP_PARTIAL, &p, NULL);
  if (e == NB_ETRUNCATED || e == NB_EMALFORMED ||
      (e == NB_ELIMIT && !p.fragment)) {
    run->bad_hdr++;
  }
  run->frags += e == NB_ELIMIT && p.fragment ? 1 : 0;
  if (e != NB_OK) {
    return;
  }
  nbt_rp_ip4_text(p.src, m.src);
  nbt_rp_ip4_text(p.dst, m.dst);
  m.sport = p.sport;
  m.dport = p.dport;
  if (p.proto == NBT_RP_IPPROTO_UDP) {
    udp_payload(run, &m, &p);
  } else {
    tcp_payload(run, &m, &p);
  }
}

static int decode_pcap_loop(decode_run_t *run, pcap_t *pc, const char *path) {
  struct pcap_pkthdr *h = NULL;
  const u_char *data = NULL;
  unsigned long frame = 0;
  int dlt = pcap_datalink(pc);
  int st;
  while ((st = pcap_next_ex(pc, &h, &data)) == 1) {
    decode_frame(run, dlt, h, data, ++frame);
  }
  if (st == PCAP_ERROR) {
    fprintf(stderr, "nbt: decode: %s: %s\n", path, pcap_geterr(pc));
    return NBT_EXIT_ERROR;
  }
  return NBT_EXIT_OK;
}

static int decode_pcap(decode_run_t *run, const char *path) {
  char errbuf[PCAP_ERRBUF_SIZE];
  pcap_t *pc = pcap_open_offline(path, errbuf);
  if (pc == NULL) {
    fprintf(stderr, "nbt: decode: %s: %s\n", path, errbuf);
    return NBT_EXIT_ERROR;
  }
#ifdef NBT_HAVE_DECODE_SSN
  run->ssn = nbt_ssn_decoder_new(&run->o);
  if (run->ssn == NULL) {
    pcap_close(pc);
    fprintf(stderr, "nbt: decode: out of memory\n");
    return NBT_EXIT_ERROR;
  }
#endif
  int rc = decode_pcap_loop(run, pc, path);
  pcap_close(pc);
#ifdef NBT_HAVE_DECODE_SSN
  run->failed += nbt_ssn_decoder_finish(run->ssn) ? 0 : 1;
  nbt_ssn_decoder_free(run->ssn);
  run->ssn = NULL;
#endif
  return rc;
}

/* ---- command line ------------------------------------------------------ */

static void print_notes(const decode_run_t *run) {
  if (run->bad_hdr > 0) {
    fprintf(stderr,
            "nbt: decode: %lu frames skipped: bad link/IP/UDP/TCP "
            "header\n",
            run->bad_hdr);
  }
  if (run->frags > 0) {
    fprintf(stderr,
            "nbt: decode: %lu IPv4 fragments skipped (not "
            "reassembled)\n",
            run->frags);
  }
  if (run->unbuilt > 0) {
    fprintf(stderr,
            "nbt: decode: %lu datagram/session packets not decoded "
            "(their decoder is not built in)\n",
            run->unbuilt);
  }
}

static bool proto_built(decode_proto_t p) {
#ifndef NBT_HAVE_DECODE_DGM
  if (p == PROTO_DGM) {
    return false;
  }
#endif
#ifndef NBT_HAVE_DECODE_SSN
  if (p == PROTO_SSN) {
    return false;
  }
#endif
  (void)p;
  return true;
}

static bool parse_proto(const char *s, decode_proto_t *out) {
  static const char *const words[] = {"ns", "dgm", "ssn"};
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
    if (strcmp(s, words[i]) == 0) {
      *out = (decode_proto_t)i;
      return true;
    }
  }
  return false;
}

typedef struct decode_args {
  const char *pcap;
  const char *input; /* HEX or "-" */
  bool help;
} decode_args_t;

static int parse_args(int argc, char **argv, decode_run_t *run,
                      decode_args_t *a) {
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
      a->help = true;
    } else if (strcmp(s, "--json") == 0) {
      run->o.json = true;
    } else if (strcmp(s, "--pcap") == 0 && i + 1 < argc) {
      a->pcap = argv[++i];
    } else if (strcmp(s, "--proto") == 0 && i + 1 < argc) {
      if (!parse_proto(argv[++i], &run->proto)) {
        fprintf(stderr, "nbt: decode: unknown --proto '%s'\n", argv[i]);
        return NBT_EXIT_USAGE;
      }
    } else if (a->input == NULL && (s[0] != '-' || s[1] == '\0')) {
      a->input = s;
    } else {
      fprintf(stderr, "nbt: decode: unexpected argument '%s'\n", s);
      return NBT_EXIT_USAGE;
    }
  }
  return NBT_EXIT_OK;
}

int nbt_cmd_decode(int argc, char **argv) {
  decode_run_t run;
  decode_args_t a = {NULL, NULL, false};
  memset(&run, 0, sizeof run);
  run.o.out = stdout;
  int rc = parse_args(argc, argv, &run, &a);
  if (rc == NBT_EXIT_OK && a.help) {
    decode_usage(stdout);
    return NBT_EXIT_OK;
  }
  if (rc != NBT_EXIT_OK || (a.pcap == NULL) == (a.input == NULL)) {
    decode_usage(stderr);
    return NBT_EXIT_USAGE;
  }
  if (a.pcap == NULL && !proto_built(run.proto)) {
    fprintf(stderr, "nbt: decode: the %s decoder is not built in yet\n",
            proto_text[run.proto]);
    return NBT_EXIT_USAGE;
  }
  if (a.pcap != NULL) {
    rc = decode_pcap(&run, a.pcap);
  } else if (strcmp(a.input, "-") == 0) {
    rc = decode_stdin(&run);
  } else {
    rc = decode_hex_text(&run, a.input);
  }
  fflush(stdout);
  print_notes(&run);
  if (rc != NBT_EXIT_OK) {
    return rc;
  }
  return run.failed > 0 ? NBT_EXIT_FAIL : NBT_EXIT_OK;
}
