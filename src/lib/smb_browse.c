/* SPDX-License-Identifier: BSD-2-Clause */
/* SMB mailslot transactions and browser messages inside datagrams
 * ([MS-CIFS] 2.2.4.33, [MS-MAIL] 2.2.1, [MS-BRWS] 2.2).
 *
 * WARNING: nb_smb_mailslot_parse() and nb_browse_parse() parse untrusted
 * network data. All reads go through an nb_rd_t cursor (the little-endian
 * helpers below are built on nb_rd_bytes); every offset taken from the
 * packet is checked against the input before use. No heap. */
#include "nb/smb_browse.h"

#include <string.h>

#define SMB_WORDS_AT (NB_SMB_HEADER_LEN + 1)   /* after WordCount */
#define SMB_DATA_COUNT_AT (SMB_WORDS_AT + 22)  /* the DataCount word */
#define SMB_DATA_OFFSET_AT (SMB_WORDS_AT + 24) /* the DataOffset word */
#define SMB_BYTES_AT (SMB_WORDS_AT + 2 * NB_SMB_TRANS_WCT + 2)
#define BROWSE_MAX 512 /* a browser message inside one datagram */

/* A sticky little-endian reader: the first failure is recorded in `diag`
 * with its offset and field; later reads return 0 and do nothing. */
typedef struct {
  nb_rd_t r;
  nb_diag_t *diag;
  nb_err_t err;
} srd_t;

static void s_fail(srd_t *s, nb_err_t err, size_t at, const char *field) {
  if (s->err == NB_OK) {
    s->err = nb_diag_set(s->diag, err, at, field);
  }
}

static const uint8_t *s_bytes(srd_t *s, size_t n, const char *field) {
  const uint8_t *p = NULL;
  if (s->err == NB_OK && nb_rd_bytes(&s->r, n, &p) != NB_OK) {
    s_fail(s, NB_ETRUNCATED, s->r.pos, field);
    p = NULL;
  }
  return p;
}

static uint8_t s_u8(srd_t *s, const char *field) {
  const uint8_t *p = s_bytes(s, 1, field);
  return p ? p[0] : 0;
}

static uint16_t s_le16(srd_t *s, const char *field) {
  const uint8_t *p = s_bytes(s, 2, field);
  return p ? (uint16_t)(p[0] | (unsigned)p[1] << 8) : 0;
}

static uint32_t s_le32(srd_t *s, const char *field) {
  const uint8_t *p = s_bytes(s, 4, field);
  return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                 (uint32_t)p[3] << 24
           : 0;
}

/* A NUL-terminated string at the cursor, borrowed without its NUL. When
 * `strict` is false a missing NUL ends the string at the end of the
 * input (the last field of a browser message). */
static const char *s_cstr(srd_t *s, size_t *len, bool strict,
                          const char *field) {
  nb_rd_t look = s->r;
  const uint8_t *p = NULL;
  size_t left = nb_rd_left(&look);
  *len = 0;
  if (s->err != NB_OK || nb_rd_bytes(&look, left, &p) != NB_OK) {
    return NULL;
  }
  const uint8_t *nul = left ? memchr(p, 0, left) : NULL;
  if (nul == NULL && strict) {
    s_fail(s, NB_ETRUNCATED, s->r.end, field);
    return NULL;
  }
  *len = nul ? (size_t)(nul - p) : left;
  (void)nb_rd_skip(&s->r, nul ? *len + 1 : *len);
  return (const char *)p;
}

static void wr_le16(nb_wr_t *w, uint16_t v) {
  nb_wr_u8(w, (uint8_t)v);
  nb_wr_u8(w, (uint8_t)(v >> 8));
}

static void wr_le32(nb_wr_t *w, uint32_t v) {
  wr_le16(w, (uint16_t)v);
  wr_le16(w, (uint16_t)(v >> 16));
}

/* A string and its NUL; NB_EINVAL if it holds a NUL itself. */
static void wr_cstr(nb_wr_t *w, const char *s, size_t len) {
  if ((s == NULL && len > 0) || (len > 0 && memchr(s, 0, len) != NULL)) {
    nb_wr_fail(w, NB_EINVAL);
    return;
  }
  nb_wr_bytes(w, s, len);
  nb_wr_u8(w, 0);
}

/* [MS-CIFS] 2.2.3.1: the 32-byte SMB header; only the protocol and the
 * command matter here. */
static void parse_smb_header(srd_t *s) {
  const uint8_t *magic = s_bytes(s, 4, "SMB header");
  if (magic != NULL && memcmp(magic, "\xffSMB", 4) != 0) {
    s_fail(s, NB_EMALFORMED, 0, "SMB protocol (not \\xffSMB)");
  }
  uint8_t cmd = s_u8(s, "SMB command");
  if (s->err == NB_OK && cmd != NB_SMB_COM_TRANSACTION) {
    s_fail(s, NB_EMALFORMED, 4, "SMB command (not TRANSACTION 0x25)");
  }
  (void)s_bytes(s, NB_SMB_HEADER_LEN - 5, "SMB header");
}

/* [MS-CIFS] 2.2.4.33.1: the 17 parameter words of a mailslot write. */
static void parse_trans_words(srd_t *s, nb_smb_mailslot_t *m,
                              uint16_t *data_count, uint16_t *data_offset) {
  if (s_u8(s, "WordCount") != NB_SMB_TRANS_WCT && s->err == NB_OK) {
    s_fail(s, NB_EMALFORMED, NB_SMB_HEADER_LEN, "WordCount (not 17)");
  }
  (void)s_le16(s, "TotalParameterCount");
  m->total_data_count = s_le16(s, "TotalDataCount");
  (void)s_bytes(s, 6, "MaxParameterCount..Reserved1");
  (void)s_le16(s, "Flags");
  m->timeout = s_le32(s, "Timeout");
  (void)s_bytes(s, 6, "Reserved2..ParameterOffset");
  *data_count = s_le16(s, "DataCount");
  *data_offset = s_le16(s, "DataOffset");
  size_t at = s->r.pos;
  if (s_u8(s, "SetupCount") != 3 && s->err == NB_OK) {
    s_fail(s, NB_EMALFORMED, at, "SetupCount (not 3)");
  }
  (void)s_u8(s, "Reserved3");
  m->opcode = s_le16(s, "Setup opcode");
  m->priority = s_le16(s, "Setup priority");
  m->mailslot_class = s_le16(s, "Setup class");
}

/* ByteCount, then the mailslot name inside it. */
static void parse_trans_name(srd_t *s, nb_smb_mailslot_t *m) {
  uint16_t bcc = s_le16(s, "ByteCount");
  srd_t bytes = {s->r, s->diag, s->err};
  if (s->err == NB_OK && nb_rd_sub(&s->r, bcc, &bytes.r) != NB_OK) {
    s_fail(s, NB_ETRUNCATED, s->r.pos - 2, "ByteCount (past the end)");
    return;
  }
  m->name = s_cstr(&bytes, &m->name_len, true, "mailslot name (no NUL)");
  s->err = bytes.err;
  if (s->err == NB_OK && m->name_len == 0) {
    s_fail(s, NB_EMALFORMED, SMB_BYTES_AT, "mailslot name (empty)");
  }
}

nb_err_t nb_smb_mailslot_parse(const uint8_t *buf, size_t len,
                               nb_smb_mailslot_t *out, nb_diag_t *diag) {
  srd_t s = {{buf, len, 0, len}, diag, NB_OK};
  uint16_t count = 0, offset = 0;
  memset(out, 0, sizeof *out);
  parse_smb_header(&s);
  parse_trans_words(&s, out, &count, &offset);
  parse_trans_name(&s, out);
  if (s.err != NB_OK) {
    return s.err;
  }
  /* DataOffset counts from the SMB header; the data follows ByteCount. */
  if (offset < SMB_BYTES_AT) {
    return nb_diag_set(diag, NB_EMALFORMED, SMB_DATA_OFFSET_AT,
                       "DataOffset (inside the parameter words)");
  }
  nb_rd_t at;
  if (nb_rd_at(&s.r, offset, &at) != NB_OK ||
      nb_rd_bytes(&at, count, &out->data) != NB_OK) {
    return nb_diag_set(diag, NB_ETRUNCATED, SMB_DATA_COUNT_AT,
                       "DataOffset + DataCount (past the end)");
  }
  out->data_len = count;
  return NB_OK;
}

bool nb_smb_mailslot_is(const nb_smb_mailslot_t *m, const char *want) {
  size_t n = strlen(want);
  if (m->name == NULL || m->name_len != n) {
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    unsigned a = (unsigned char)m->name[i], b = (unsigned char)want[i];
    a = (a >= 'a' && a <= 'z') ? a - 32u : a;
    b = (b >= 'a' && b <= 'z') ? b - 32u : b;
    if (a != b) {
      return false;
    }
  }
  return true;
}

void nb_smb_mailslot_write(nb_wr_t *w, const nb_smb_mailslot_t *m) {
  size_t data_at = SMB_BYTES_AT + m->name_len + 1;
  if (m->name == NULL || m->name_len == 0 || data_at + m->data_len > 0xFFFFu ||
      (m->data == NULL && m->data_len)) {
    nb_wr_fail(w, NB_EINVAL);
    return;
  }
  nb_wr_bytes(w, "\xffSMB", 4);
  nb_wr_u8(w, NB_SMB_COM_TRANSACTION);
  nb_wr_fill(w, 0, NB_SMB_HEADER_LEN - 5); /* status .. mid: zero */
  nb_wr_u8(w, NB_SMB_TRANS_WCT);
  wr_le16(w, 0);                     /* TotalParameterCount */
  wr_le16(w, (uint16_t)m->data_len); /* TotalDataCount */
  nb_wr_fill(w, 0, 6);               /* MaxParameter/Data, MaxSetup, R1 */
  wr_le16(w, 0);                     /* Flags */
  wr_le32(w, m->timeout);
  nb_wr_fill(w, 0, 6); /* Reserved2, ParameterCount, ParameterOffset */
  wr_le16(w, (uint16_t)m->data_len);
  wr_le16(w, (uint16_t)data_at);
  nb_wr_u8(w, 3); /* SetupCount */
  nb_wr_u8(w, 0);
  wr_le16(w, m->opcode);
  wr_le16(w, m->priority);
  wr_le16(w, m->mailslot_class);
  wr_le16(w, (uint16_t)(m->name_len + 1 + m->data_len)); /* ByteCount */
  wr_cstr(w, m->name, m->name_len);
  nb_wr_bytes(w, m->data, m->data_len);
}

const char *nb_browse_opcode_name(uint8_t opcode) {
  switch (opcode) {
  case NB_BROWSE_HOST_ANNOUNCEMENT:
    return "HostAnnouncement";
  case NB_BROWSE_ANNOUNCEMENT_REQUEST:
    return "AnnouncementRequest";
  case NB_BROWSE_REQUEST_ELECTION:
    return "RequestElection";
  case NB_BROWSE_GET_BACKUP_LIST_REQUEST:
    return "GetBackupListRequest";
  case NB_BROWSE_GET_BACKUP_LIST_RESPONSE:
    return "GetBackupListResponse";
  case NB_BROWSE_BECOME_BACKUP:
    return "BecomeBackup";
  case NB_BROWSE_DOMAIN_ANNOUNCEMENT:
    return "DomainAnnouncement";
  case NB_BROWSE_MASTER_ANNOUNCEMENT:
    return "MasterAnnouncement";
  case NB_BROWSE_RESET_STATE:
    return "ResetStateRequest";
  case NB_BROWSE_LOCAL_MASTER_ANNOUNCEMENT:
    return "LocalMasterAnnouncement";
  default:
    return "unknown";
  }
}

static bool opcode_known(uint8_t opcode) {
  return strcmp(nb_browse_opcode_name(opcode), "unknown") != 0;
}

bool nb_browse_is_announcement(uint8_t opcode) {
  return opcode == NB_BROWSE_HOST_ANNOUNCEMENT ||
         opcode == NB_BROWSE_DOMAIN_ANNOUNCEMENT ||
         opcode == NB_BROWSE_LOCAL_MASTER_ANNOUNCEMENT;
}

/* [MS-BRWS] 2.2.1, 2.2.7, 2.2.11: UpdateCount(1), Periodicity(4),
 * ServerName(16), OSVersionMajor(1), OSVersionMinor(1), ServerType(4),
 * BrowserConfigVersionMajor(1), Minor(1), Signature(2), Comment. */
static void parse_announcement(srd_t *s, nb_browse_t *b) {
  b->update_count = s_u8(s, "UpdateCount");
  b->periodicity = s_le32(s, "Periodicity");
  const uint8_t *name = s_bytes(s, NB_BROWSE_SERVER_NAME_LEN, "ServerName");
  if (name != NULL) {
    const uint8_t *nul = memchr(name, 0, NB_BROWSE_SERVER_NAME_LEN);
    size_t n = nul ? (size_t)(nul - name) : NB_BROWSE_SERVER_NAME_LEN;
    memcpy(b->server_name, name, n);
    b->server_name[n] = '\0';
  }
  b->os_major = s_u8(s, "OSVersionMajor");
  b->os_minor = s_u8(s, "OSVersionMinor");
  b->server_type = s_le32(s, "ServerType");
  b->browser_major = s_u8(s, "BrowserConfigVersionMajor");
  b->browser_minor = s_u8(s, "BrowserConfigVersionMinor");
  b->signature = s_le16(s, "Signature");
  b->str = s_cstr(s, &b->str_len, false, "Comment");
}

/* [MS-BRWS] 2.2.2-2.2.6, 2.2.8-2.2.10: the other messages. */
static void parse_other(srd_t *s, nb_browse_t *b) {
  switch (b->opcode) {
  case NB_BROWSE_ANNOUNCEMENT_REQUEST:
    (void)s_u8(s, "Unused");
    b->str = s_cstr(s, &b->str_len, false, "ResponseName");
    break;
  case NB_BROWSE_REQUEST_ELECTION:
    b->election_version = s_u8(s, "Version");
    b->criteria = s_le32(s, "Criteria");
    b->uptime = s_le32(s, "Uptime");
    (void)s_le32(s, "Unused");
    b->str = s_cstr(s, &b->str_len, false, "ServerName");
    break;
  case NB_BROWSE_GET_BACKUP_LIST_REQUEST:
  case NB_BROWSE_GET_BACKUP_LIST_RESPONSE:
    b->count = s_u8(s, "BackupListRequestedCount");
    b->token = s_le32(s, "Token");
    if (b->opcode == NB_BROWSE_GET_BACKUP_LIST_RESPONSE) {
      b->list_len = nb_rd_left(&s->r);
      b->list = s_bytes(s, b->list_len, "BackupServerList");
    }
    break;
  case NB_BROWSE_RESET_STATE:
    b->reset_type = s_u8(s, "Type");
    break;
  default: /* BecomeBackup, MasterAnnouncement: one string */
    b->str = s_cstr(s, &b->str_len, false, "ServerName");
    break;
  }
}

nb_err_t nb_browse_parse(const uint8_t *buf, size_t len, nb_browse_t *out,
                         nb_diag_t *diag) {
  srd_t s = {{buf, len, 0, len}, diag, NB_OK};
  memset(out, 0, sizeof *out);
  out->opcode = s_u8(&s, "browser opcode");
  if (s.err != NB_OK) {
    return s.err;
  }
  if (!opcode_known(out->opcode)) {
    return nb_diag_set(diag, NB_EMALFORMED, 0, "browser opcode (unknown)");
  }
  if (nb_browse_is_announcement(out->opcode)) {
    parse_announcement(&s, out);
  } else {
    parse_other(&s, out);
  }
  return s.err;
}

static void write_announcement(nb_wr_t *w, const nb_browse_t *b) {
  const char *nul = memchr(b->server_name, 0, sizeof b->server_name);
  size_t n = nul ? (size_t)(nul - b->server_name) : sizeof b->server_name;
  if (n > NB_BROWSE_SERVER_NAME_LEN) {
    nb_wr_fail(w, NB_EINVAL);
    return;
  }
  nb_wr_u8(w, b->update_count);
  wr_le32(w, b->periodicity);
  nb_wr_bytes(w, b->server_name, n);
  nb_wr_fill(w, 0, NB_BROWSE_SERVER_NAME_LEN - n);
  nb_wr_u8(w, b->os_major);
  nb_wr_u8(w, b->os_minor);
  wr_le32(w, b->server_type);
  nb_wr_u8(w, b->browser_major);
  nb_wr_u8(w, b->browser_minor);
  wr_le16(w, b->signature);
  wr_cstr(w, b->str, b->str_len);
}

static void write_other(nb_wr_t *w, const nb_browse_t *b) {
  switch (b->opcode) {
  case NB_BROWSE_ANNOUNCEMENT_REQUEST:
    nb_wr_u8(w, 0);
    wr_cstr(w, b->str, b->str_len);
    break;
  case NB_BROWSE_REQUEST_ELECTION:
    nb_wr_u8(w, b->election_version);
    wr_le32(w, b->criteria);
    wr_le32(w, b->uptime);
    wr_le32(w, 0);
    wr_cstr(w, b->str, b->str_len);
    break;
  case NB_BROWSE_GET_BACKUP_LIST_REQUEST:
  case NB_BROWSE_GET_BACKUP_LIST_RESPONSE:
    nb_wr_u8(w, b->count);
    wr_le32(w, b->token);
    if (b->opcode == NB_BROWSE_GET_BACKUP_LIST_RESPONSE) {
      nb_wr_bytes(w, b->list, b->list_len);
    }
    break;
  case NB_BROWSE_RESET_STATE:
    nb_wr_u8(w, b->reset_type);
    break;
  default:
    wr_cstr(w, b->str, b->str_len);
    break;
  }
}

void nb_browse_write(nb_wr_t *w, const nb_browse_t *b) {
  if (!opcode_known(b->opcode) || (b->list == NULL && b->list_len > 0)) {
    nb_wr_fail(w, NB_EINVAL);
    return;
  }
  nb_wr_u8(w, b->opcode);
  if (nb_browse_is_announcement(b->opcode)) {
    write_announcement(w, b);
  } else {
    write_other(w, b);
  }
}

void nb_browse_write_mailslot(nb_wr_t *w, const nb_browse_t *b) {
  uint8_t body[BROWSE_MAX];
  nb_wr_t bw;
  nb_smb_mailslot_t m;
  memset(&m, 0, sizeof m);
  nb_wr_init(&bw, body, sizeof body);
  nb_browse_write(&bw, b);
  nb_err_t err = nb_wr_finish(&bw, &m.data_len);
  if (err != NB_OK) {
    nb_wr_fail(w, err);
    return;
  }
  m.name = NB_MAILSLOT_BROWSE;
  m.name_len = sizeof NB_MAILSLOT_BROWSE - 1;
  m.data = body;
  m.opcode = NB_SMB_MAILSLOT_WRITE;
  m.mailslot_class = NB_SMB_MAILSLOT_CLASS_UNRELIABLE;
  nb_smb_mailslot_write(w, &m);
}

void nb_browse_announcement_request(nb_browse_t *b, const char *response_name) {
  memset(b, 0, sizeof *b);
  b->opcode = NB_BROWSE_ANNOUNCEMENT_REQUEST;
  b->str = response_name;
  b->str_len = response_name ? strlen(response_name) : 0;
}

nb_err_t nb_browse_host_announcement(nb_browse_t *b, const char *server,
                                     uint8_t os_major, uint8_t os_minor,
                                     uint32_t server_type,
                                     uint32_t periodicity_ms,
                                     const char *comment) {
  size_t n = server ? strlen(server) : 0;
  if (n == 0 || n >= NB_BROWSE_SERVER_NAME_LEN) {
    return NB_EINVAL;
  }
  memset(b, 0, sizeof *b);
  b->opcode = NB_BROWSE_HOST_ANNOUNCEMENT;
  b->periodicity = periodicity_ms;
  memcpy(b->server_name, server, n + 1);
  b->os_major = os_major;
  b->os_minor = os_minor;
  b->server_type = server_type;
  b->browser_major = 15; /* what Windows sends ([MS-BRWS] 2.2.1) */
  b->browser_minor = 1;
  b->signature = NB_BROWSE_SIGNATURE;
  b->str = comment;
  b->str_len = comment ? strlen(comment) : 0;
  return NB_OK;
}
