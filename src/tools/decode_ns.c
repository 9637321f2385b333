/* SPDX-License-Identifier: BSD-2-Clause */
/* nbt decode: the name-service printer (UDP 137; RFC 1002 4.2).
 *
 * The packet is parsed by the codec (nb_ns_parse: WARNING: parses untrusted
 * network data; all checks live there); this file only prints the model:
 * text (one line, then indented continuation lines) or one JSON object per
 * packet. Every field is documented in docs/DECODE.md; keep the two in
 * step. */
#include <string.h>

#include "decode.h"
#include "nb/ns.h"
#include "util.h"

/* ---- small formatters -------------------------------------------------- */

static const char *opcode_name(unsigned op) {
  switch (op) {
  case NB_NS_OPCODE_QUERY:
    return "query";
  case NB_NS_OPCODE_REGISTRATION:
    return "registration";
  case NB_NS_OPCODE_RELEASE:
    return "release";
  case NB_NS_OPCODE_WACK:
    return "wack";
  case NB_NS_OPCODE_REFRESH:
  case NB_NS_OPCODE_REFRESH_ALT:
    return "refresh";
  case NB_NS_OPCODE_MULTIHOMED:
    return "multihomed";
  default:
    return "unknown";
  }
}

static const char *type_name(unsigned type) {
  switch (type) {
  case NB_NS_TYPE_A:
    return "A";
  case NB_NS_TYPE_NS:
    return "NS";
  case NB_NS_TYPE_NULL:
    return "NULL";
  case NB_NS_TYPE_NB:
    return "NB";
  case NB_NS_TYPE_NBSTAT:
    return "NBSTAT";
  default:
    return "UNKNOWN";
  }
}

/* Owner node type from NB_FLAGS / NAME_FLAGS bits 1-2 (RFC 1002 4.2.1.3). */
static const char *ont_name(uint16_t flags) {
  static const char *const ont[] = {"B", "P", "M", "H"};
  return ont[(flags & NB_NS_NB_ONT_MASK) >> 13];
}

static const char *form_name(nb_ns_name_form_t form) {
  switch (form) {
  case NB_NS_NAME_POINTER:
    return "pointer";
  case NB_NS_NAME_NULL:
    return "null";
  default:
    return "full";
  }
}

static void format_ipv4(char out[16], uint32_t a) {
  snprintf(out, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
           a & 0xff);
}

/* Text form of a name ("FRED<20>.scope"); "" for the null name. */
static size_t name_text(const nb_ns_name_t *n, char *buf, size_t cap) {
  if (n->form == NB_NS_NAME_NULL) {
    buf[0] = '\0';
    return 0;
  }
  size_t len = nb_name_to_text(&n->name, buf, cap);
  return len < cap ? len : cap - 1;
}

/* Text form of the raw 16 bytes of an NBSTAT entry (no scope). */
static size_t raw_name_text(const uint8_t bytes[NB_NAME_BYTES], char *buf,
                            size_t cap) {
  nb_name_t n;
  memset(&n, 0, sizeof n);
  memcpy(n.bytes, bytes, NB_NAME_BYTES);
  size_t len = nb_name_to_text(&n, buf, cap);
  return len < cap ? len : cap - 1;
}

static void json_key_str(FILE *f, const char *key, const char *s, size_t len) {
  fprintf(f, ",\"%s\":", key);
  nbt_json_str(f, s, len);
}

static void json_key_bool(FILE *f, const char *key, bool v) {
  fprintf(f, ",\"%s\":%s", key, v ? "true" : "false");
}

static void json_key_hex(FILE *f, const char *key, const uint8_t *p,
                         size_t len) {
  fprintf(f, ",\"%s\":\"", key);
  nbt_print_hex(f, p, len);
  fputc('"', f);
}

/* ---- JSON -------------------------------------------------------------- */

static void json_name(FILE *f, const nb_ns_name_t *n) {
  char text[NB_NAME_TEXT_MAX];
  size_t len = name_text(n, text, sizeof text);
  json_key_str(f, "name", text, len);
  json_key_hex(f, "name_hex", n->name.bytes, NB_NAME_BYTES);
  fprintf(f, ",\"suffix\":%u", nb_name_suffix(&n->name));
  json_key_str(f, "scope", n->name.scope, n->name.scope_len);
  fprintf(f, ",\"form\":\"%s\"", form_name(n->form));
  if (n->form == NB_NS_NAME_POINTER) {
    fprintf(f, ",\"ptr\":%u", n->ptr);
  }
}

static void json_header(FILE *f, const nb_ns_msg_t *m) {
  const nb_ns_header_t *h = &m->hdr;
  fprintf(f, ",\"kind\":\"%s\",\"kind_id\":\"%s\",\"kind_rfc\":\"%s\"",
          nb_ns_kind_name(m->kind), nb_ns_kind_ident(m->kind),
          nb_ns_kind_rfc(m->kind));
  fprintf(f, ",\"trn_id\":%u,\"flags_word\":\"0x%04x\"", h->trn_id,
          nb_ns_flags_word(h));
  json_key_bool(f, "response", h->response);
  fprintf(f, ",\"opcode\":%u,\"opcode_name\":\"%s\"", h->opcode,
          opcode_name(h->opcode));
  fprintf(f,
          ",\"nm_flags\":{\"aa\":%s,\"tc\":%s,\"rd\":%s,\"ra\":%s,"
          "\"b\":%s,\"reserved\":%u}",
          (h->nm_flags & NB_NS_FLAG_AA) ? "true" : "false",
          (h->nm_flags & NB_NS_FLAG_TC) ? "true" : "false",
          (h->nm_flags & NB_NS_FLAG_RD) ? "true" : "false",
          (h->nm_flags & NB_NS_FLAG_RA) ? "true" : "false",
          (h->nm_flags & NB_NS_FLAG_B) ? "true" : "false",
          (h->nm_flags & NB_NS_FLAG_RESERVED) >> 1);
  fprintf(f, ",\"rcode\":%u,\"rcode_name\":\"%s\"", h->rcode,
          nb_ns_rcode_name(h->rcode));
  fprintf(f, ",\"qdcount\":%u,\"ancount\":%u,\"nscount\":%u,\"arcount\":%u",
          m->qdcount, m->ancount, m->nscount, m->arcount);
}

static void json_questions(FILE *f, const nb_ns_msg_t *m) {
  fputs(",\"questions\":[", f);
  for (size_t i = 0; i < m->qdcount && i < NB_NS_MAX_QUESTIONS; i++) {
    const nb_ns_question_t *q = &m->qd[i];
    fprintf(f, "%s{\"offset\":%zu", i ? "," : "", q->offset);
    json_name(f, &q->qname);
    fprintf(f, ",\"type\":%u,\"type_name\":\"%s\",\"class\":%u}", q->qtype,
            type_name(q->qtype), q->qclass);
  }
  fputc(']', f);
}

static void json_nb(FILE *f, const nb_ns_rr_t *rr) {
  nb_ns_nb_entry_t e;
  char addr[16];
  fputs(",\"nb\":[", f);
  for (size_t i = 0; i < rr->nb_count; i++) {
    if (nb_ns_nb_entry(rr, i, &e) != NB_OK) {
      break;
    }
    format_ipv4(addr, e.addr);
    fprintf(f,
            "%s{\"flags\":\"0x%04x\",\"g\":%s,\"ont\":\"%s\","
            "\"addr\":\"%s\"}",
            i ? "," : "", e.nb_flags,
            (e.nb_flags & NB_NS_NB_G) ? "true" : "false", ont_name(e.nb_flags),
            addr);
  }
  fputc(']', f);
}

static void json_nbstat_names(FILE *f, const nb_ns_rr_t *rr) {
  nb_ns_nbstat_entry_t e;
  char text[NB_NAME_TEXT_MAX];
  fputs("\"names\":[", f);
  for (size_t i = 0; i < rr->nbstat_names; i++) {
    if (nb_ns_nbstat_entry(rr, i, &e) != NB_OK) {
      break;
    }
    size_t len = raw_name_text(e.name, text, sizeof text);
    fprintf(f, "%s{\"name\":", i ? "," : "");
    nbt_json_str(f, text, len);
    json_key_hex(f, "name_hex", e.name, NB_NAME_BYTES);
    fprintf(f, ",\"suffix\":%u,\"flags\":\"0x%04x\",\"ont\":\"%s\"",
            e.name[NB_NAME_BYTES - 1], e.name_flags, ont_name(e.name_flags));
    json_key_bool(f, "g", e.name_flags & NB_NS_NAME_G);
    json_key_bool(f, "drg", e.name_flags & NB_NS_NAME_DRG);
    json_key_bool(f, "cnf", e.name_flags & NB_NS_NAME_CNF);
    json_key_bool(f, "act", e.name_flags & NB_NS_NAME_ACT);
    json_key_bool(f, "prm", e.name_flags & NB_NS_NAME_PRM);
    fputc('}', f);
  }
  fputc(']', f);
}

static void json_statistics(FILE *f, const nb_ns_statistics_t *s) {
  const uint8_t *u = s->unit_id;
  fprintf(f,
          "{\"unit_id\":\"%02x:%02x:%02x:%02x:%02x:%02x\",\"jumpers\":%u,"
          "\"test_result\":%u,\"version_number\":%u,"
          "\"period_of_statistics\":%u,\"number_of_crcs\":%u,"
          "\"number_alignment_errors\":%u,\"number_of_collisions\":%u,"
          "\"number_send_aborts\":%u,\"number_good_sends\":%u,"
          "\"number_good_receives\":%u,",
          u[0], u[1], u[2], u[3], u[4], u[5], s->jumpers, s->test_result,
          s->version_number, s->period_of_statistics, s->number_of_crcs,
          s->number_alignment_errors, s->number_of_collisions,
          s->number_send_aborts, s->number_good_sends, s->number_good_receives);
  fprintf(f,
          "\"number_retransmits\":%u,\"number_no_resource_conditions\":%u,"
          "\"number_free_command_blocks\":%u,"
          "\"total_number_command_blocks\":%u,"
          "\"max_total_number_command_blocks\":%u,"
          "\"number_pending_sessions\":%u,"
          "\"max_number_pending_sessions\":%u,"
          "\"max_total_sessions_possible\":%u,"
          "\"session_data_packet_size\":%u}",
          s->number_retransmits, s->number_no_resource_conditions,
          s->number_free_command_blocks, s->total_number_command_blocks,
          s->max_total_number_command_blocks, s->number_pending_sessions,
          s->max_number_pending_sessions, s->max_total_sessions_possible,
          s->session_data_packet_size);
}

static void json_nbstat(FILE *f, const nb_ns_rr_t *rr) {
  nb_ns_statistics_t s;
  fprintf(f, ",\"nbstat\":{\"num_names\":%u,", rr->nbstat_names);
  json_nbstat_names(f, rr);
  fprintf(f, ",\"statistics_len\":%u", rr->nbstat_stats);
  if (nb_ns_nbstat_statistics(rr, &s) == NB_OK) {
    fputs(",\"statistics\":", f);
    json_statistics(f, &s);
  }
  fputc('}', f);
}

/* Typed RDATA by RR_TYPE (RFC 1002 4.2.1.3, 4.2.15, 4.2.16, 4.2.18). */
static void json_rdata(FILE *f, const nb_ns_rr_t *rr) {
  char addr[16];
  json_key_hex(f, "rdata", rr->rdata, rr->rdlength);
  if (rr->rrtype == NB_NS_TYPE_NB) {
    json_nb(f, rr);
  } else if (rr->rrtype == NB_NS_TYPE_NBSTAT) {
    json_nbstat(f, rr);
  } else if (rr->rrtype == NB_NS_TYPE_A && rr->rdlength == 4) {
    format_ipv4(addr, rr->a_addr);
    fprintf(f, ",\"a\":\"%s\"", addr);
  } else if (rr->rrtype == NB_NS_TYPE_NS && rr->rdlength > 0) {
    fputs(",\"nsd\":{", f);
    json_name(f, &rr->nsd);
    fputc('}', f);
  }
}

static void json_rrs(FILE *f, const nb_ns_msg_t *m) {
  static const char *const sections[] = {"answers", "authority", "additional"};
  size_t first[4] = {0, m->ancount, (size_t)m->ancount + m->nscount,
                     (size_t)m->ancount + m->nscount + m->arcount};
  for (size_t s = 0; s < 3; s++) {
    fprintf(f, ",\"%s\":[", sections[s]);
    for (size_t i = first[s]; i < first[s + 1] && i < NB_NS_MAX_RRS; i++) {
      const nb_ns_rr_t *rr = &m->rr[i];
      fprintf(f, "%s{\"offset\":%zu", i > first[s] ? "," : "", rr->offset);
      json_name(f, &rr->rrname);
      fprintf(f,
              ",\"type\":%u,\"type_name\":\"%s\",\"class\":%u,\"ttl\":%u,"
              "\"rdlength\":%u,\"rdata_offset\":%zu",
              rr->rrtype, type_name(rr->rrtype), rr->rrclass, rr->ttl,
              rr->rdlength, rr->rdata_offset);
      json_rdata(f, rr);
      fputc('}', f);
    }
    fputc(']', f);
  }
}

static nbt_finding_t finding(const nb_ns_finding_t *fd) {
  nbt_finding_t out = {nb_ns_rule_name(fd->rule), fd->rfc, fd->offset,
                       fd->text};
  return out;
}

static void json_findings(FILE *f, const nb_ns_msg_t *m) {
  fputs(",\"findings\":[", f);
  for (size_t i = 0; i < m->nfindings; i++) {
    nbt_finding_t fd = finding(&m->findings[i]);
    nbt_decode_json_finding(f, i == 0, &fd);
  }
  fputc(']', f);
  json_key_bool(f, "findings_overflow", m->findings_overflow);
}

static void print_json(const nbt_decode_opts_t *o, const nb_ns_msg_t *m) {
  FILE *f = o->out;
  json_header(f, m);
  json_questions(f, m);
  json_rrs(f, m);
  fprintf(f, ",\"trailing_len\":%zu", m->trailing_len);
  json_key_hex(f, "trailing", m->trailing, m->trailing_len);
  fprintf(f, ",\"len\":%zu,\"ok\":true", m->len);
  json_findings(f, m);
}

/* ---- text -------------------------------------------------------------- */

static void text_flags(FILE *f, const nb_ns_header_t *h) {
  static const struct {
    uint8_t bit;
    const char *name;
  } bits[] = {{NB_NS_FLAG_AA, "AA"},
              {NB_NS_FLAG_TC, "TC"},
              {NB_NS_FLAG_RD, "RD"},
              {NB_NS_FLAG_RA, "RA"},
              {NB_NS_FLAG_RESERVED, "RESERVED"},
              {NB_NS_FLAG_B, "B"}};
  fprintf(f, "flags=0x%04x (%s %s", nb_ns_flags_word(h),
          h->response ? "response" : "request", opcode_name(h->opcode));
  for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
    if (h->nm_flags & bits[i].bit) {
      fprintf(f, " %s", bits[i].name);
    }
  }
  fputc(')', f);
}

static void text_nb(FILE *f, const nb_ns_rr_t *rr) {
  nb_ns_nb_entry_t e;
  char addr[16];
  for (size_t i = 0; i < rr->nb_count; i++) {
    if (nb_ns_nb_entry(rr, i, &e) != NB_OK) {
      break;
    }
    format_ipv4(addr, e.addr);
    fprintf(f, " [%s%s %s]", (e.nb_flags & NB_NS_NB_G) ? "G " : "",
            ont_name(e.nb_flags), addr);
  }
}

static void text_nbstat(FILE *f, const nb_ns_rr_t *rr) {
  nb_ns_nbstat_entry_t e;
  nb_ns_statistics_t s;
  char text[NB_NAME_TEXT_MAX];
  fprintf(f, " names=%u", rr->nbstat_names);
  for (size_t i = 0; i < rr->nbstat_names; i++) {
    if (nb_ns_nbstat_entry(rr, i, &e) != NB_OK) {
      break;
    }
    raw_name_text(e.name, text, sizeof text);
    fprintf(f, "\n    %s flags=0x%04x%s %s%s%s%s%s", text, e.name_flags,
            (e.name_flags & NB_NS_NAME_G) ? " G" : "", ont_name(e.name_flags),
            (e.name_flags & NB_NS_NAME_DRG) ? " DRG" : "",
            (e.name_flags & NB_NS_NAME_CNF) ? " CNF" : "",
            (e.name_flags & NB_NS_NAME_ACT) ? " ACT" : "",
            (e.name_flags & NB_NS_NAME_PRM) ? " PRM" : "");
  }
  if (nb_ns_nbstat_statistics(rr, &s) == NB_OK) {
    const uint8_t *u = s.unit_id;
    fprintf(f, "\n    statistics=%u unit_id=%02x:%02x:%02x:%02x:%02x:%02x",
            rr->nbstat_stats, u[0], u[1], u[2], u[3], u[4], u[5]);
  }
}

static void text_rr(FILE *f, const char *section, const nb_ns_rr_t *rr) {
  char text[NB_NAME_TEXT_MAX];
  char addr[16];
  name_text(&rr->rrname, text, sizeof text);
  fprintf(f, "\n  %s %s%s %s class=%u ttl=%u rdlength=%u", section,
          rr->rrname.form == NB_NS_NAME_NULL ? "(null)" : text,
          rr->rrname.form == NB_NS_NAME_POINTER ? " (ptr)" : "",
          type_name(rr->rrtype), rr->rrclass, rr->ttl, rr->rdlength);
  if (rr->rrtype == NB_NS_TYPE_NB) {
    text_nb(f, rr);
  } else if (rr->rrtype == NB_NS_TYPE_NBSTAT) {
    text_nbstat(f, rr);
  } else if (rr->rrtype == NB_NS_TYPE_A && rr->rdlength == 4) {
    format_ipv4(addr, rr->a_addr);
    fprintf(f, " %s", addr);
  } else if (rr->rrtype == NB_NS_TYPE_NS && rr->rdlength > 0) {
    name_text(&rr->nsd, text, sizeof text);
    fprintf(f, " nsd=%s", text);
  } else if (rr->rdlength > 0) {
    fputs(" rdata=", f);
    nbt_print_hex(f, rr->rdata, rr->rdlength);
  }
}

static void text_sections(FILE *f, const nb_ns_msg_t *m) {
  char text[NB_NAME_TEXT_MAX];
  for (size_t i = 0; i < m->qdcount && i < NB_NS_MAX_QUESTIONS; i++) {
    const nb_ns_question_t *q = &m->qd[i];
    name_text(&q->qname, text, sizeof text);
    fprintf(f, "\n  question %s %s class=%u", text, type_name(q->qtype),
            q->qclass);
  }
  size_t n = (size_t)m->ancount + m->nscount + m->arcount;
  for (size_t i = 0; i < n && i < NB_NS_MAX_RRS; i++) {
    const char *section = i < m->ancount                        ? "answer"
                          : i < (size_t)m->ancount + m->nscount ? "authority"
                                                                : "additional";
    text_rr(f, section, &m->rr[i]);
  }
}

static void print_text(const nbt_decode_opts_t *o, const nb_ns_msg_t *m) {
  FILE *f = o->out;
  fprintf(f, "%s trn=0x%04x ", nb_ns_kind_name(m->kind), m->hdr.trn_id);
  text_flags(f, &m->hdr);
  fprintf(f, " rcode=%s qd=%u an=%u ns=%u ar=%u",
          nb_ns_rcode_name(m->hdr.rcode), m->qdcount, m->ancount, m->nscount,
          m->arcount);
  text_sections(f, m);
  if (m->trailing_len > 0) {
    fprintf(f, "\n  trailing %zu bytes ", m->trailing_len);
    nbt_print_hex(f, m->trailing, m->trailing_len);
  }
  for (size_t i = 0; i < m->nfindings; i++) {
    nbt_finding_t fd = finding(&m->findings[i]);
    nbt_decode_text_finding(f, &fd);
  }
  if (m->findings_overflow) {
    fputs("\n  finding ... (more findings not kept)", f);
  }
  fputc('\n', f);
}

/* ---- entry point (decode.h) -------------------------------------------- */

bool nbt_decode_ns(const nbt_decode_opts_t *o, const nbt_pkt_meta_t *m,
                   const uint8_t *p, size_t len) {
  static nb_ns_msg_t msg; /* about 5 KiB: kept off the stack */
  nb_diag_t d = {NB_OK, 0, NULL};
  nb_err_t e = nb_ns_parse(p, len, &msg, &d);
  if (e != NB_OK) {
    nbt_decode_failed(o, m, "nbns", "NBNS", len, e, d);
    return false;
  }
  if (o->json) {
    nbt_decode_json_begin(o, m, "nbns");
    print_json(o, &msg);
    nbt_decode_json_end(o);
  } else {
    nbt_decode_text_prefix(o, m);
    print_text(o, &msg);
  }
  return true;
}
