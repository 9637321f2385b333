/* SPDX-License-Identifier: BSD-2-Clause */
/* nbt decode: the datagram-service printer (UDP 138; RFC 1002 4.4).
 *
 * The packet is parsed by the codec (nb_dgm_parse, and for user data that
 * holds an SMB mailslot write, nb_smb_mailslot_parse and nb_browse_parse:
 * WARNING: they parse untrusted network data; all checks live there).
 * This file only prints the models: text (one line, then indented
 * continuation lines) or one JSON object per packet. Every field is
 * documented in docs/DECODE.md ("Datagram service"); keep them in step.
 * A user-data payload that does not parse is reported beside the datagram
 * (the datagram itself still decoded). */
#include <string.h>

#include "decode.h"
#include "nb/dgm.h"
#include "nb/smb_browse.h"
#include "ns_client.h" /* nbt_ipv4_str */
#include "util.h"

/* What rides in a datagram's user data. */
typedef struct {
  bool is_smb;        /* starts with \xffSMB */
  nb_err_t smb_err;   /* nb_smb_mailslot_parse() */
  nb_diag_t smb_diag; /* offsets made absolute in the packet */
  nb_smb_mailslot_t ms;
  bool is_browse;      /* \MAILSLOT\BROWSE */
  nb_err_t browse_err; /* nb_browse_parse() */
  nb_diag_t browse_diag;
  nb_browse_t b;
} payload_t;

/* SV_TYPE_* bit names ([MS-RAP] 2.5.5.2.1), bit 0 first. */
static const char *const sv_type_names[32] = {"workstation",
                                              "server",
                                              "sql_server",
                                              "domain_ctrl",
                                              "domain_bakctrl",
                                              "time_source",
                                              "afp",
                                              "novell",
                                              "domain_member",
                                              "print_server",
                                              "dialin_server",
                                              "xenix_server",
                                              "nt",
                                              "wfw",
                                              "server_mfpn",
                                              "server_nt",
                                              "potential_browser",
                                              "backup_browser",
                                              "master_browser",
                                              "domain_master",
                                              "server_osf",
                                              "server_vms",
                                              "windows",
                                              "dfs",
                                              "cluster_nt",
                                              "terminal_server",
                                              "cluster_vs_nt",
                                              NULL,
                                              NULL,
                                              NULL,
                                              "local_list_only",
                                              "domain_enum"};

static size_t name_text(const nb_name_t *n, char *buf, size_t cap) {
  size_t len = nb_name_to_text(n, buf, cap);
  return len < cap ? len : cap - 1;
}

/* "whole", "first", "middle" or "last" (RFC 1001 17.1.2). */
static const char *fragment_kind(const nb_dgm_msg_t *m) {
  if (nb_dgm_is_whole(m)) {
    return "whole";
  }
  if (nb_dgm_has_names(m)) {
    return "first";
  }
  return (m->flags & NB_DGM_FLAG_M) ? "middle" : "last";
}

/* Parse what the user data carries; offsets become packet offsets. */
static void parse_payload(const uint8_t *p, const nb_dgm_msg_t *m,
                          payload_t *pl) {
  memset(pl, 0, sizeof *pl);
  if (!nb_dgm_has_names(m) || m->data_len < 4 ||
      memcmp(m->data, "\xffSMB", 4) != 0) {
    return;
  }
  size_t base = (size_t)(m->data - p);
  pl->is_smb = true;
  pl->smb_err =
      nb_smb_mailslot_parse(m->data, m->data_len, &pl->ms, &pl->smb_diag);
  pl->smb_diag.offset += base;
  if (pl->smb_err != NB_OK ||
      !nb_smb_mailslot_is(&pl->ms, NB_MAILSLOT_BROWSE)) {
    return;
  }
  pl->is_browse = true;
  pl->browse_err =
      nb_browse_parse(pl->ms.data, pl->ms.data_len, &pl->b, &pl->browse_diag);
  pl->browse_diag.offset += (size_t)(pl->ms.data - p);
}

/* ---- JSON -------------------------------------------------------------- */

static void json_name(FILE *f, const char *key, const nb_name_t *n) {
  char text[NB_NAME_TEXT_MAX];
  size_t len = name_text(n, text, sizeof text);
  fprintf(f, ",\"%s\":{\"name\":", key);
  nbt_json_str(f, text, len);
  fputs(",\"name_hex\":\"", f);
  nbt_print_hex(f, n->bytes, NB_NAME_BYTES);
  fprintf(f, "\",\"suffix\":%u,\"scope\":", nb_name_suffix(n));
  nbt_json_str(f, n->scope, n->scope_len);
  fputc('}', f);
}

static void json_diag(FILE *f, const char *key, const nb_diag_t *d) {
  const char *field = d->field ? d->field : "";
  fprintf(f, ",\"%s\":{\"code\":\"%s\",\"offset\":%zu,\"field\":", key,
          nb_errname(d->err), d->offset);
  nbt_json_str(f, field, strlen(field));
  fputc('}', f);
}

static void json_header(FILE *f, const nb_dgm_msg_t *m) {
  char ip[16];
  nbt_ipv4_str(m->source_ip, ip);
  fprintf(f, ",\"msg_type\":%u,\"type_name\":\"%s\"", m->msg_type,
          nb_dgm_type_name(m->msg_type));
  fprintf(f,
          ",\"flags\":\"0x%02x\",\"more\":%s,\"first\":%s,\"snt\":\"%s\","
          "\"reserved_flags\":%u",
          m->flags, (m->flags & NB_DGM_FLAG_M) ? "true" : "false",
          (m->flags & NB_DGM_FLAG_F) ? "true" : "false",
          nb_dgm_snt_name(NB_DGM_SNT(m->flags)),
          (m->flags & NB_DGM_FLAG_RESERVED) >> 4);
  fprintf(f, ",\"dgm_id\":%u,\"source_ip\":\"%s\",\"source_port\":%u",
          m->dgm_id, ip, m->source_port);
}

static void json_server_type(FILE *f, uint32_t type) {
  fprintf(f, ",\"server_type\":\"0x%08x\",\"server_type_names\":[", type);
  const char *sep = "";
  for (unsigned bit = 0; bit < 32; bit++) {
    if ((type >> bit & 1u) && sv_type_names[bit] != NULL) {
      fprintf(f, "%s\"%s\"", sep, sv_type_names[bit]);
      sep = ",";
    }
  }
  fputc(']', f);
}

static void json_browse(FILE *f, const nb_browse_t *b) {
  fprintf(f, ",\"browser\":{\"opcode\":%u,\"command\":\"%s\"", b->opcode,
          nb_browse_opcode_name(b->opcode));
  if (nb_browse_is_announcement(b->opcode)) {
    fputs(",\"server\":", f);
    nbt_json_str(f, b->server_name, strlen(b->server_name));
    fprintf(f, ",\"os_major\":%u,\"os_minor\":%u", b->os_major, b->os_minor);
    json_server_type(f, b->server_type);
    fprintf(f,
            ",\"update_count\":%u,\"periodicity\":%u,\"browser_major\":%u,"
            "\"browser_minor\":%u,\"signature\":\"0x%04x\"",
            b->update_count, b->periodicity, b->browser_major, b->browser_minor,
            b->signature);
  } else if (b->opcode == NB_BROWSE_REQUEST_ELECTION) {
    fprintf(f, ",\"version\":%u,\"criteria\":\"0x%08x\",\"uptime\":%u",
            b->election_version, b->criteria, b->uptime);
  } else if (b->opcode == NB_BROWSE_GET_BACKUP_LIST_REQUEST ||
             b->opcode == NB_BROWSE_GET_BACKUP_LIST_RESPONSE) {
    fprintf(f, ",\"count\":%u,\"token\":%u", b->count, b->token);
  } else if (b->opcode == NB_BROWSE_RESET_STATE) {
    fprintf(f, ",\"reset_type\":%u", b->reset_type);
  }
  if (b->str != NULL) {
    fputs(",\"string\":", f);
    nbt_json_str(f, b->str, b->str_len);
  }
  if (b->list != NULL) {
    fputs(",\"list\":", f);
    nbt_json_str(f, (const char *)b->list, b->list_len);
  }
  fputc('}', f);
}

static void json_payload(FILE *f, const payload_t *pl) {
  if (!pl->is_smb) {
    return;
  }
  if (pl->smb_err != NB_OK) {
    json_diag(f, "smb_error", &pl->smb_diag);
    return;
  }
  fputs(",\"smb\":{\"mailslot\":", f);
  nbt_json_str(f, pl->ms.name, pl->ms.name_len);
  fprintf(f,
          ",\"opcode\":%u,\"priority\":%u,\"class\":%u,\"timeout\":%u,"
          "\"data_len\":%zu}",
          pl->ms.opcode, pl->ms.priority, pl->ms.mailslot_class, pl->ms.timeout,
          pl->ms.data_len);
  if (pl->is_browse && pl->browse_err != NB_OK) {
    json_diag(f, "browser_error", &pl->browse_diag);
  } else if (pl->is_browse) {
    json_browse(f, &pl->b);
  }
}

static void json_service(FILE *f, const uint8_t *p, const nb_dgm_msg_t *m) {
  payload_t pl;
  fprintf(f, ",\"dgm_length\":%u,\"packet_offset\":%u,\"fragment\":\"%s\"",
          m->dgm_length, m->packet_offset, fragment_kind(m));
  if (nb_dgm_has_names(m)) {
    json_name(f, "source_name", &m->source_name);
    json_name(f, "destination_name", &m->destination_name);
    fprintf(f, ",\"names_len\":%zu", nb_dgm_names_len(m));
  }
  fprintf(f, ",\"data_len\":%zu,\"data\":\"", m->data_len);
  nbt_print_hex(f, m->data, m->data_len);
  fputc('"', f);
  parse_payload(p, m, &pl);
  json_payload(f, &pl);
}

static nbt_finding_t finding(const nb_dgm_msg_t *m, size_t i) {
  nb_dgm_rule_t r = m->findings[i].rule;
  nbt_finding_t out = {nb_dgm_rule_id(r), nb_dgm_rule_rfc(r),
                       m->findings[i].offset, nb_dgm_rule_text(r)};
  return out;
}

static void json_findings(FILE *f, const nb_dgm_msg_t *m) {
  fputs(",\"findings\":[", f);
  for (size_t i = 0; i < m->n_findings; i++) {
    nbt_finding_t fd = finding(m, i);
    nbt_decode_json_finding(f, i == 0, &fd);
  }
  fprintf(f, "],\"findings_overflow\":%s",
          m->findings_overflow ? "true" : "false");
}

static void print_json(FILE *f, const uint8_t *p, size_t len,
                       const nb_dgm_msg_t *m) {
  json_header(f, m);
  if (nb_dgm_is_service(m->msg_type)) {
    json_service(f, p, m);
  } else if (m->msg_type == NB_DGM_ERROR) {
    fprintf(f, ",\"error_code\":%u,\"error_name\":\"%s\"", m->error_code,
            nb_dgm_error_name(m->error_code));
  } else {
    json_name(f, "destination_name", &m->destination_name);
  }
  fprintf(f, ",\"len\":%zu,\"ok\":true", len);
  json_findings(f, m);
}

/* ---- text -------------------------------------------------------------- */

static void text_server_type(FILE *f, uint32_t type) {
  fprintf(f, " type=0x%08x", type);
  const char *sep = " (";
  for (unsigned bit = 0; bit < 32; bit++) {
    if ((type >> bit & 1u) && sv_type_names[bit] != NULL) {
      fprintf(f, "%s%s", sep, sv_type_names[bit]);
      sep = ",";
    }
  }
  fputs(*sep == ',' ? ")" : "", f);
}

/* Printable ASCII as is, anything else (and '"') as \xHH. */
static void text_str(FILE *f, const char *s, size_t len, bool quote) {
  fputs(quote ? "\"" : "", f);
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c < 0x7f && c != '"') {
      fputc(c, f);
    } else {
      fprintf(f, "\\x%02x", c);
    }
  }
  fputs(quote ? "\"" : "", f);
}

static void text_browse(FILE *f, const nb_browse_t *b) {
  fprintf(f, "\n  browser %s", nb_browse_opcode_name(b->opcode));
  if (nb_browse_is_announcement(b->opcode)) {
    fputs(" server=", f);
    text_str(f, b->server_name, strlen(b->server_name), false);
    fprintf(f, " os=%u.%u", b->os_major, b->os_minor);
    text_server_type(f, b->server_type);
    fprintf(f, " periodicity=%ums", b->periodicity);
  } else if (b->opcode == NB_BROWSE_REQUEST_ELECTION) {
    fprintf(f, " version=%u criteria=0x%08x uptime=%ums", b->election_version,
            b->criteria, b->uptime);
  } else if (b->opcode == NB_BROWSE_GET_BACKUP_LIST_REQUEST ||
             b->opcode == NB_BROWSE_GET_BACKUP_LIST_RESPONSE) {
    fprintf(f, " count=%u token=%u", b->count, b->token);
  } else if (b->opcode == NB_BROWSE_RESET_STATE) {
    fprintf(f, " reset_type=%u", b->reset_type);
  }
  if (b->str != NULL) {
    fputs(nb_browse_is_announcement(b->opcode) ? " comment=" : " name=", f);
    text_str(f, b->str, b->str_len, true);
  }
}

static void text_diag(FILE *f, const char *what, const nb_diag_t *d) {
  fprintf(f, "\n  %s error %s at offset %zu (%s)", what, nb_errname(d->err),
          d->offset, d->field ? d->field : "");
}

static void text_payload(FILE *f, const payload_t *pl) {
  if (!pl->is_smb) {
    return;
  }
  if (pl->smb_err != NB_OK) {
    text_diag(f, "smb", &pl->smb_diag);
    return;
  }
  fputs("\n  mailslot ", f);
  text_str(f, pl->ms.name, pl->ms.name_len, false);
  fprintf(f, " priority=%u class=%u data=%zu", pl->ms.priority,
          pl->ms.mailslot_class, pl->ms.data_len);
  if (pl->is_browse && pl->browse_err != NB_OK) {
    text_diag(f, "browser", &pl->browse_diag);
  } else if (pl->is_browse) {
    text_browse(f, &pl->b);
  }
}

static void text_service(FILE *f, const uint8_t *p, const nb_dgm_msg_t *m) {
  char src[NB_NAME_TEXT_MAX], dst[NB_NAME_TEXT_MAX];
  payload_t pl;
  fprintf(f, " len=%u off=%u %s", m->dgm_length, m->packet_offset,
          fragment_kind(m));
  if (!nb_dgm_has_names(m)) {
    fprintf(f, " data=%zu", m->data_len);
    return;
  }
  name_text(&m->source_name, src, sizeof src);
  name_text(&m->destination_name, dst, sizeof dst);
  fprintf(f, " %s > %s user_data=%zu", src, dst, m->data_len);
  parse_payload(p, m, &pl);
  text_payload(f, &pl);
}

static void print_text(FILE *f, const uint8_t *p, const nb_dgm_msg_t *m) {
  char ip[16], dst[NB_NAME_TEXT_MAX];
  nbt_ipv4_str(m->source_ip, ip);
  fprintf(f, "%s id=0x%04x flags=0x%02x (%s%s%s) src=%s:%u",
          nb_dgm_type_name(m->msg_type), m->dgm_id, m->flags,
          nb_dgm_snt_name(NB_DGM_SNT(m->flags)),
          (m->flags & NB_DGM_FLAG_F) ? " FIRST" : "",
          (m->flags & NB_DGM_FLAG_M) ? " MORE" : "", ip, m->source_port);
  if (nb_dgm_is_service(m->msg_type)) {
    text_service(f, p, m);
  } else if (m->msg_type == NB_DGM_ERROR) {
    fprintf(f, " code=0x%02x (%s)", m->error_code,
            nb_dgm_error_name(m->error_code));
  } else {
    name_text(&m->destination_name, dst, sizeof dst);
    fprintf(f, " dst=%s", dst);
  }
  for (size_t i = 0; i < m->n_findings; i++) {
    nbt_finding_t fd = finding(m, i);
    nbt_decode_text_finding(f, &fd);
  }
  fputc('\n', f);
}

/* ---- entry point (decode.h) -------------------------------------------- */

bool nbt_decode_dgm(const nbt_decode_opts_t *o, const nbt_pkt_meta_t *m,
                    const uint8_t *p, size_t len) {
  static nb_dgm_msg_t msg; /* about 600 bytes: kept off the stack */
  nb_diag_t d = {NB_OK, 0, NULL};
  nb_err_t e = nb_dgm_parse(p, len, &msg, &d);
  if (e != NB_OK) {
    nbt_decode_failed(o, m, "nbdgm", "NBDGM", len, e, d);
    return false;
  }
  if (o->json) {
    nbt_decode_json_begin(o, m, "nbdgm");
    print_json(o->out, p, len, &msg);
    nbt_decode_json_end(o);
  } else {
    nbt_decode_text_prefix(o, m);
    print_text(o->out, p, &msg);
  }
  return true;
}
