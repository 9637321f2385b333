/* SPDX-License-Identifier: BSD-2-Clause */
/* nbt decode, session service (TCP 139 and 445): the printer side of
 * decode.h.
 *
 * WARNING: parses untrusted network data. Segments are ordered per
 * direction by TCP sequence number; out-of-order segments are copied and
 * held, at most NBT_SSN_OOO_SEGS of them and NBT_SSN_OOO_BYTES per
 * direction (over the cap, or a gap still open at the end, is an error for
 * that stream, never a crash). At most NBT_SSN_MAX_CONNS connections are
 * tracked. In-order bytes go straight to the session framer (nb/ssn.h),
 * which never buffers a message body: only the first 4 payload bytes of a
 * message are kept, to name its protocol.
 *
 * One line (or JSON object) per session packet: the type, LENGTH, for a
 * request the names, for a negative response the code and its meaning, for
 * a retarget the address and port, for a message its length and payload
 * protocol (SMB1/SMB2 magic), never the payload. Port 445 streams start in
 * direct mode (24-bit lengths), everything else in RFC mode. Fields:
 * docs/DECODE.md "Session service". */
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "nb/ssn.h"
#include "util.h"

#define NBT_SSN_MAX_CONNS 1024
#define NBT_SSN_OOO_SEGS 64
#define NBT_SSN_OOO_BYTES ((size_t)1 << 20)
#define NBT_PORT_DIRECT 445

typedef struct ooo_seg {
  struct ooo_seg *next;
  uint32_t seq;
  size_t len;
  uint8_t data[]; /* copied: the capture buffer is gone by the time */
} ooo_seg_t;

typedef struct ssn_dir {
  nbt_pkt_meta_t meta; /* the segment being fed (for printing) */
  nb_ssn_framer_t framer;
  bool started; /* next_seq is known */
  bool closed;  /* FIN reached in order */
  bool failed;  /* an error was printed; the rest is ignored */
  bool fin_seen;
  uint32_t next_seq;
  uint32_t fin_seq;
  ooo_seg_t *ooo; /* sorted by seq */
  size_t ooo_segs;
  size_t ooo_bytes;
  uint8_t head[4]; /* the current message's first payload bytes */
  size_t head_len;
} ssn_dir_t;

typedef struct ssn_conn {
  struct ssn_conn *next;
  char addr[2][16];
  uint16_t port[2];
  ssn_dir_t dir[2]; /* dir[i]: from addr[i]:port[i] */
} ssn_conn_t;

struct nbt_ssn_decoder {
  nbt_decode_opts_t o;
  ssn_conn_t *conns;
  size_t nconns;
  bool cap_reported;
};

/* ---- printing ------------------------------------------------------------ */

/* SMB magics: [MS-SMB] 2.2.3.1, [MS-SMB2] 2.2.1, 2.2.41, 2.2.42. */
static const char *payload_proto(const uint8_t *h, size_t n) {
  if (n < 4) {
    return n == 0 ? "empty" : "short";
  }
  if (h[1] != 'S' || h[2] != 'M' || h[3] != 'B') {
    return "unknown";
  }
  switch (h[0]) {
  case 0xff:
    return "SMB1";
  case 0xfe:
    return "SMB2";
  case 0xfd:
    return "SMB2 transform";
  case 0xfc:
    return "SMB2 compressed";
  default:
    return "unknown";
  }
}

static void format_ipv4(char out[16], uint32_t a) {
  snprintf(out, 16, "%u.%u.%u.%u", (unsigned)(a >> 24),
           (unsigned)(a >> 16) & 255u, (unsigned)(a >> 8) & 255u,
           (unsigned)a & 255u);
}

static void json_name(FILE *f, const char *key, const nb_name_t *n) {
  char text[NB_NAME_TEXT_MAX];
  size_t len = nb_name_to_text(n, text, sizeof text);
  fprintf(f, ",\"%s\":", key);
  nbt_json_str(f, text, len < sizeof text ? len : sizeof text - 1);
}

/* The type-dependent fields of a control packet, JSON. */
static void json_control(FILE *f, const nb_ssn_packet_t *p) {
  char addr[16];
  switch (p->type) {
  case NB_SSN_SESSION_REQUEST:
    json_name(f, "called", &p->called);
    json_name(f, "calling", &p->calling);
    break;
  case NB_SSN_NEGATIVE_SESSION_RESPONSE:
    fprintf(f, ",\"error_code\":%u,\"error_text\":\"%s\"", p->error_code,
            nb_ssn_neg_text(p->error_code));
    break;
  case NB_SSN_RETARGET_SESSION_RESPONSE:
    format_ipv4(addr, p->retarget_addr);
    fprintf(f, ",\"retarget_addr\":\"%s\",\"retarget_port\":%u", addr,
            p->retarget_port);
    break;
  default:
    break;
  }
}

/* The type-dependent fields of a control packet, text. */
static void text_control(FILE *f, const nb_ssn_packet_t *p) {
  char a[NB_NAME_TEXT_MAX];
  char b[NB_NAME_TEXT_MAX];
  switch (p->type) {
  case NB_SSN_SESSION_REQUEST:
    nb_name_to_text(&p->called, a, sizeof a);
    nb_name_to_text(&p->calling, b, sizeof b);
    fprintf(f, " called=%s calling=%s", a, b);
    break;
  case NB_SSN_NEGATIVE_SESSION_RESPONSE:
    fprintf(f, " code=0x%02x (%s)", p->error_code,
            nb_ssn_neg_text(p->error_code));
    break;
  case NB_SSN_RETARGET_SESSION_RESPONSE:
    format_ipv4(a, p->retarget_addr);
    fprintf(f, " addr=%s port=%u", a, p->retarget_port);
    break;
  default:
    break;
  }
}

/* The one finding this printer knows: a NEGATIVE SESSION RESPONSE code
 * outside RFC 1002 4.3.4's five (parsed, since the session failed anyway). */
static bool unknown_code(const nb_ssn_packet_t *p) {
  return p->type == NB_SSN_NEGATIVE_SESSION_RESPONSE &&
         !nb_ssn_neg_known(p->error_code);
}

/* The packet starts at `off`; ERROR_CODE is its fifth byte. */
static nbt_finding_t neg_code_finding(uint64_t off) {
  nbt_finding_t fd = {"NEG_CODE_UNKNOWN", "RFC 1002 4.3.4", off + 4,
                      "ERROR_CODE is not 0x80-0x83 or 0x8F"};
  return fd;
}

static void json_findings(FILE *f, const nb_ssn_packet_t *p, uint64_t off) {
  fputs(",\"findings\":[", f);
  if (p != NULL && unknown_code(p)) {
    nbt_finding_t fd = neg_code_finding(off);
    nbt_decode_json_finding(f, true, &fd);
  }
  fputc(']', f);
}

/* What print_packet needs to know about one session packet. `p` is NULL
 * for a message, whose payload is described by the direction's head. */
typedef struct ssn_item {
  uint8_t type;
  uint8_t flags;
  uint32_t length;
  uint64_t off;
  const nb_ssn_packet_t *p;
} ssn_item_t;

static const char *mode_name(const ssn_dir_t *d) {
  return d->framer.mode == NB_SSN_MODE_RFC ? "rfc" : "direct";
}

static void json_packet(const nbt_decode_opts_t *o, const ssn_dir_t *d,
                        const ssn_item_t *it) {
  FILE *f = o->out;
  nbt_decode_json_begin(o, &d->meta, "nbss");
  fprintf(f,
          ",\"mode\":\"%s\",\"offset\":%llu,\"type\":\"%s\","
          "\"type_code\":%u,\"flags\":%u,\"length\":%u",
          mode_name(d), (unsigned long long)it->off, nb_ssn_type_name(it->type),
          it->type, it->flags, it->length);
  if (it->p != NULL) {
    json_control(f, it->p);
  } else {
    fprintf(f, ",\"payload\":\"%s\",\"magic\":\"",
            payload_proto(d->head, d->head_len));
    nbt_print_hex(f, d->head, d->head_len);
    fputc('"', f);
  }
  fputs(",\"ok\":true", f);
  json_findings(f, it->p, it->off);
  nbt_decode_json_end(o);
}

static void text_packet(const nbt_decode_opts_t *o, const ssn_dir_t *d,
                        const ssn_item_t *it) {
  FILE *f = o->out;
  nbt_decode_text_prefix(o, &d->meta);
  fprintf(f, "%s length=%u", nb_ssn_type_name(it->type), it->length);
  if (it->flags != 0) {
    fprintf(f, " flags=0x%02x", it->flags);
  }
  if (it->p == NULL) {
    fprintf(f, " payload=%s\n", payload_proto(d->head, d->head_len));
    return;
  }
  text_control(f, it->p);
  if (unknown_code(it->p)) {
    nbt_finding_t fd = neg_code_finding(it->off);
    nbt_decode_text_finding(f, &fd);
  }
  fputc('\n', f);
}

/* One session packet; FLAGS is 0x01 exactly when an RFC-mode LENGTH needs
 * its 17th bit (the framer rejected any other FLAGS). */
static void print_packet(const nbt_decode_opts_t *o, const ssn_dir_t *d,
                         uint8_t type, uint32_t length, uint64_t off,
                         const nb_ssn_packet_t *p) {
  ssn_item_t it = {type, 0, length, off, p};
  it.flags = d->framer.mode == NB_SSN_MODE_RFC && length > 0xFFFFu;
  if (o->json) {
    json_packet(o, d, &it);
  } else {
    text_packet(o, d, &it);
  }
}

static void print_error(const nbt_decode_opts_t *o, const ssn_dir_t *d,
                        const nb_diag_t *diag) {
  FILE *f = o->out;
  if (o->json) {
    nbt_decode_json_begin(o, &d->meta, "nbss");
    fprintf(f, ",\"mode\":\"%s\"", mode_name(d));
    nbt_decode_json_error(o, diag);
    nbt_decode_json_end(o);
    return;
  }
  nbt_decode_text_prefix(o, &d->meta);
  nbt_decode_text_error(o, "NBSS", diag);
}

/* ---- framing ------------------------------------------------------------- */

/* Mark the stream failed and print why. */
static bool dir_fail(const nbt_decode_opts_t *o, ssn_dir_t *d, nb_err_t err,
                     uint64_t off, const char *field) {
  nb_diag_t diag = {err, (size_t)off, field};
  print_error(o, d, &diag);
  d->failed = true;
  return false;
}

/* Act on one framer event; false when the stream failed. */
static bool on_event(const nbt_decode_opts_t *o, ssn_dir_t *d,
                     const nb_ssn_event_t *ev) {
  switch (ev->kind) {
  case NB_SSN_EV_CONTROL:
    d->head_len = 0;
    print_packet(o, d, ev->packet.type, ev->length, ev->offset, &ev->packet);
    return true;
  case NB_SSN_EV_MSG_BEGIN:
    d->head_len = 0;
    return true;
  case NB_SSN_EV_MSG_DATA:
    for (size_t i = 0; i < ev->length && d->head_len < sizeof d->head; i++) {
      d->head[d->head_len++] = ev->data[i];
    }
    return true;
  case NB_SSN_EV_MSG_END:
    print_packet(o, d, NB_SSN_SESSION_MESSAGE, ev->length, ev->offset, NULL);
    return true;
  case NB_SSN_EV_ERROR:
    return dir_fail(o, d, ev->diag.err, ev->diag.offset, ev->diag.field);
  default:
    return true;
  }
}

/* In-order stream bytes into the framer. */
static bool dir_feed(const nbt_decode_opts_t *o, ssn_dir_t *d, const uint8_t *p,
                     size_t len) {
  while (!d->failed) {
    nb_ssn_event_t ev;
    size_t used = 0;
    (void)nb_ssn_framer_feed(&d->framer, p, len, &used, &ev);
    if (used > 0) {
      p += used;
      len -= used;
    }
    if (!on_event(o, d, &ev)) {
      return false;
    }
    if (ev.kind == NB_SSN_EV_NEED_MORE) {
      return true;
    }
  }
  return true;
}

/* The stream ended (FIN, or the end of the capture): cut short? */
static bool dir_end(const nbt_decode_opts_t *o, ssn_dir_t *d) {
  nb_diag_t diag = {NB_OK, 0, NULL};
  if (d->failed) {
    return true; /* already reported */
  }
  if (d->ooo != NULL) {
    return dir_fail(o, d, NB_ETRUNCATED, d->framer.offset,
                    "TCP sequence gap (segments missing before buffered "
                    "data)");
  }
  if (nb_ssn_framer_eof(&d->framer, &diag) != NB_OK) {
    return dir_fail(o, d, diag.err, diag.offset, diag.field);
  }
  return true;
}

/* ---- TCP ordering -------------------------------------------------------- */

/* a - b in sequence space (RFC 793 3.3: modulo 2^32). */
static int64_t seq_diff(uint32_t a, uint32_t b) {
  uint32_t d = a - b;
  return d < 0x80000000u ? (int64_t)d : (int64_t)d - ((int64_t)1 << 32);
}

/* Hold a segment that starts beyond the next expected byte (a copy). */
static bool ooo_hold(const nbt_decode_opts_t *o, ssn_dir_t *d, uint32_t seq,
                     const uint8_t *p, size_t len) {
  if (d->ooo_segs >= NBT_SSN_OOO_SEGS ||
      len > NBT_SSN_OOO_BYTES - d->ooo_bytes) {
    return dir_fail(o, d, NB_ELIMIT, d->framer.offset,
                    "out-of-order TCP segments over the cap (64, 1 MiB)");
  }
  ooo_seg_t *s = malloc(sizeof *s + len);
  if (s == NULL) {
    return dir_fail(o, d, NB_ENOMEM, d->framer.offset,
                    "out-of-order TCP segment");
  }
  s->seq = seq;
  s->len = len;
  memcpy(s->data, p, len);
  ooo_seg_t **at = &d->ooo;
  while (*at != NULL && seq_diff((*at)->seq, seq) <= 0) {
    at = &(*at)->next;
  }
  s->next = *at;
  *at = s;
  d->ooo_segs++;
  d->ooo_bytes += len;
  return true;
}

/* Bytes that start at `seq`: held if early, trimmed if partly seen. */
static bool dir_data(const nbt_decode_opts_t *o, ssn_dir_t *d, uint32_t seq,
                     const uint8_t *p, size_t len) {
  int64_t delta = seq_diff(seq, d->next_seq);
  if (delta > 0) {
    return ooo_hold(o, d, seq, p, len);
  }
  size_t skip = (size_t)-delta;
  if (skip >= len) {
    return true; /* a retransmission of bytes already framed */
  }
  d->next_seq += (uint32_t)(len - skip);
  return dir_feed(o, d, p + skip, len - skip);
}

/* Feed the held segments the stream has now reached. */
static bool ooo_drain(const nbt_decode_opts_t *o, ssn_dir_t *d) {
  bool ok = true;
  while (ok && !d->failed && d->ooo != NULL &&
         seq_diff(d->ooo->seq, d->next_seq) <= 0) {
    ooo_seg_t *s = d->ooo;
    d->ooo = s->next;
    d->ooo_segs--;
    d->ooo_bytes -= s->len;
    ok = dir_data(o, d, s->seq, s->data, s->len);
    free(s);
  }
  return ok;
}

static void ooo_free(ssn_dir_t *d) {
  while (d->ooo != NULL) {
    ooo_seg_t *s = d->ooo;
    d->ooo = s->next;
    free(s);
  }
  d->ooo_segs = 0;
  d->ooo_bytes = 0;
}

/* A fresh direction in `mode` (a new connection, or a SYN that reuses the
 * 4-tuple). */
static void dir_reset(ssn_dir_t *d, nb_ssn_mode_t mode) {
  nbt_pkt_meta_t meta = d->meta;
  ooo_free(d);
  memset(d, 0, sizeof *d);
  d->meta = meta;
  (void)nb_ssn_framer_init(&d->framer, mode, 0); /* mode is valid */
}

/* ---- connections --------------------------------------------------------- */

static ssn_conn_t *conn_find(nbt_ssn_decoder_t *dec, const nbt_pkt_meta_t *m,
                             int *which) {
  for (ssn_conn_t *c = dec->conns; c != NULL; c = c->next) {
    for (int i = 0; i < 2; i++) {
      if (c->port[i] == m->sport && c->port[1 - i] == m->dport &&
          strcmp(c->addr[i], m->src) == 0 &&
          strcmp(c->addr[1 - i], m->dst) == 0) {
        *which = i;
        return c;
      }
    }
  }
  return NULL;
}

/* Port 445 (and not 139) means direct TCP framing from the first byte. */
static nb_ssn_mode_t conn_mode(const ssn_conn_t *c) {
  bool direct = c->port[0] == NBT_PORT_DIRECT || c->port[1] == NBT_PORT_DIRECT;
  bool nbt = c->port[0] == 139 || c->port[1] == 139;
  return direct && !nbt ? NB_SSN_MODE_DIRECT : NB_SSN_MODE_RFC;
}

static ssn_conn_t *conn_add(nbt_ssn_decoder_t *dec, const nbt_pkt_meta_t *m) {
  if (dec->nconns >= NBT_SSN_MAX_CONNS) {
    return NULL;
  }
  ssn_conn_t *c = calloc(1, sizeof *c);
  if (c == NULL) {
    return NULL;
  }
  memcpy(c->addr[0], m->src, sizeof c->addr[0]);
  memcpy(c->addr[1], m->dst, sizeof c->addr[1]);
  c->addr[0][15] = c->addr[1][15] = '\0';
  c->port[0] = m->sport;
  c->port[1] = m->dport;
  dir_reset(&c->dir[0], conn_mode(c));
  dir_reset(&c->dir[1], conn_mode(c));
  ssn_conn_t **tail = &dec->conns; /* keep first-seen order for finish */
  while (*tail != NULL) {
    tail = &(*tail)->next;
  }
  *tail = c;
  dec->nconns++;
  return c;
}

/* No room for another connection: say so once. */
static bool conn_refused(nbt_ssn_decoder_t *dec, const nbt_pkt_meta_t *m) {
  if (!dec->cap_reported) {
    ssn_dir_t tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.meta = *m;
    dec->cap_reported = true;
    return dir_fail(&dec->o, &tmp, NB_ELIMIT, 0,
                    "TCP connections over the cap (1024); not decoded");
  }
  return true;
}

/* ---- decode.h entry points ----------------------------------------------- */

nbt_ssn_decoder_t *nbt_ssn_decoder_new(const nbt_decode_opts_t *o) {
  nbt_ssn_decoder_t *dec = calloc(1, sizeof *dec);
  if (dec != NULL) {
    dec->o = *o;
  }
  return dec;
}

/* SYN: the stream starts at seq + 1. A SYN on a direction already under
 * way with another sequence number is a new connection on the same ports. */
static void dir_syn(const ssn_conn_t *c, ssn_dir_t *d, uint32_t seq) {
  if (d->started && !d->closed && !d->failed && d->next_seq == seq + 1) {
    return; /* a retransmitted SYN */
  }
  if (d->started) {
    dir_reset(d, conn_mode(c));
  }
  d->started = true;
  d->next_seq = seq + 1;
}

bool nbt_ssn_decoder_segment(nbt_ssn_decoder_t *dec, const nbt_pkt_meta_t *m,
                             uint32_t seq, uint8_t tcp_flags,
                             const uint8_t *payload, size_t len) {
  int w = 0;
  ssn_conn_t *c = conn_find(dec, m, &w);
  if (c == NULL && (c = conn_add(dec, m)) == NULL) {
    return conn_refused(dec, m);
  }
  ssn_dir_t *d = &c->dir[w];
  d->meta = *m;
  if (tcp_flags & NBT_TCP_SYN) {
    dir_syn(c, d, seq);
    seq += 1; /* the SYN takes one sequence number */
  }
  if (d->failed || d->closed) {
    return true; /* reported already, or data after FIN: ignored */
  }
  if (!d->started && len == 1) {
    return true; /* a TCP keep-alive probe (RFC 1122 4.2.3.6: one byte at
                    SND.NXT - 1) before any byte of the stream was seen */
  }
  if (!d->started) { /* the capture began mid-connection */
    d->started = true;
    d->next_seq = seq;
  }
  bool ok = len == 0 || dir_data(&dec->o, d, seq, payload, len);
  ok = ok && ooo_drain(&dec->o, d);
  if (tcp_flags & NBT_TCP_FIN) {
    d->fin_seen = true;
    d->fin_seq = seq + (uint32_t)len;
  }
  if (ok && d->fin_seen && !d->failed && d->next_seq == d->fin_seq) {
    d->closed = true;
    ok = dir_end(&dec->o, d);
  }
  return ok;
}

bool nbt_ssn_decoder_finish(nbt_ssn_decoder_t *dec) {
  bool ok = true;
  for (ssn_conn_t *c = dec->conns; c != NULL; c = c->next) {
    for (int i = 0; i < 2; i++) {
      ssn_dir_t *d = &c->dir[i];
      if (d->started && !d->closed && !dir_end(&dec->o, d)) {
        ok = false;
      }
    }
  }
  return ok;
}

void nbt_ssn_decoder_free(nbt_ssn_decoder_t *dec) {
  if (dec == NULL) {
    return;
  }
  while (dec->conns != NULL) {
    ssn_conn_t *c = dec->conns;
    dec->conns = c->next;
    ooo_free(&c->dir[0]);
    ooo_free(&c->dir[1]);
    free(c);
  }
  free(dec);
}

bool nbt_decode_ssn_bytes(const nbt_decode_opts_t *o, const uint8_t *p,
                          size_t len) {
  ssn_dir_t *d = calloc(1, sizeof *d);
  if (d == NULL) {
    return false;
  }
  (void)nb_ssn_framer_init(&d->framer, NB_SSN_MODE_RFC, 0);
  bool ok = dir_feed(o, d, p, len);
  ok = dir_end(o, d) && ok && !d->failed;
  free(d);
  return ok;
}
