/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NB_SMB_BROWSE_H
#define NB_SMB_BROWSE_H

/* What browser datagrams carry: an SMB1 TRANSACTION (0x25) holding a
 * mailslot write ([MS-CIFS] 2.2.4.33, [MS-MAIL] 2.2.1) inside a datagram's
 * USER_DATA, and for \MAILSLOT\BROWSE the browser protocol message
 * ([MS-BRWS] 2.2; Samba's librpc/idl/nbt.idl nbt_browse_packet).
 *
 * Layout (all integers little-endian, unlike NetBIOS):
 *   SMB header, 32 bytes: "\xffSMB", command 0x25, status(4), flags(1),
 *     flags2(2), pid_high(2), signature(8), reserved(2), tid, pid, uid,
 *     mid (2 each)
 *   WordCount 17, then TotalParameterCount, TotalDataCount,
 *     MaxParameterCount, MaxDataCount, MaxSetupCount(1), Reserved(1),
 *     Flags, Timeout(4), Reserved(2), ParameterCount, ParameterOffset,
 *     DataCount, DataOffset, SetupCount(1) = 3, Reserved(1),
 *     Setup: Opcode (1 = write mailslot), Priority, Class
 *   ByteCount, the mailslot name (NUL-terminated ASCII), then the data at
 *     DataOffset (counted from the SMB header) for DataCount bytes.
 *
 * The parsers borrow: string and data pointers point into the input and
 * are valid while it is. Strings are not NUL-terminated in the input
 * view; use the _len fields. Accepted envelope (tests/unit/
 * test_smb_browse.c): WordCount exactly 17 and SetupCount exactly 3 (as
 * Samba's NDR requires); DataOffset + DataCount inside the input; the
 * mailslot name terminated inside ByteCount. Bytes after a browser
 * message's last field are ignored. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nb/err.h"
#include "nb/wire.h"

#define NB_SMB_HEADER_LEN 32
#define NB_SMB_COM_TRANSACTION 0x25
#define NB_SMB_TRANS_WCT 17
#define NB_SMB_MAILSLOT_WRITE 1 /* setup[0] opcode, [MS-MAIL] 2.2.1 */
#define NB_SMB_MAILSLOT_CLASS_RELIABLE 1
#define NB_SMB_MAILSLOT_CLASS_UNRELIABLE 2 /* unreliable and broadcast */
#define NB_MAILSLOT_BROWSE "\\MAILSLOT\\BROWSE"
#define NB_MAILSLOT_LANMAN "\\MAILSLOT\\LANMAN"

/* A mailslot write carried in an SMB TRANSACTION. */
typedef struct nb_smb_mailslot {
  uint16_t total_data_count;
  uint32_t timeout; /* milliseconds */
  uint16_t opcode;  /* 1: write mailslot */
  uint16_t priority;
  uint16_t mailslot_class; /* 1 reliable, 2 unreliable & broadcast */
  const char *name;        /* "\MAILSLOT\BROWSE" (borrowed, no NUL) */
  size_t name_len;
  const uint8_t *data; /* the transaction data (borrowed) */
  size_t data_len;
} nb_smb_mailslot_t;

/* Parse the SMB TRANSACTION at the start of `buf` (a datagram's USER_DATA).
 *
 * WARNING: parses untrusted network data.
 *
 * NB_EMALFORMED when it is not "\xffSMB" + 0x25 with WordCount 17 and
 * SetupCount 3, NB_ETRUNCATED when a field, the name or the data lie past
 * the end. `diag->offset` is an offset into `buf`. */
NB_API nb_err_t nb_smb_mailslot_parse(const uint8_t *buf, size_t len,
                                      nb_smb_mailslot_t *out, nb_diag_t *diag);

/* Write a mailslot TRANSACTION the way Samba's cli_send_mailslot does:
 * zero SMB header fields, TotalDataCount = DataCount = data_len, no
 * parameters, DataOffset just after the name. `m->total_data_count` is
 * ignored. A name containing NUL, an empty name, or sizes over 0xFFFF set
 * NB_EINVAL. */
NB_API void nb_smb_mailslot_write(nb_wr_t *w, const nb_smb_mailslot_t *m);

/* True when the mailslot name is `want` (ASCII case-insensitive, as
 * Windows treats mailslot names). */
NB_API bool nb_smb_mailslot_is(const nb_smb_mailslot_t *m, const char *want);

/* Browser opcodes ([MS-BRWS] 2.2). */
typedef enum nb_browse_opcode {
  NB_BROWSE_HOST_ANNOUNCEMENT = 1,
  NB_BROWSE_ANNOUNCEMENT_REQUEST = 2,
  NB_BROWSE_REQUEST_ELECTION = 8,
  NB_BROWSE_GET_BACKUP_LIST_REQUEST = 9,
  NB_BROWSE_GET_BACKUP_LIST_RESPONSE = 10,
  NB_BROWSE_BECOME_BACKUP = 11,
  NB_BROWSE_DOMAIN_ANNOUNCEMENT = 12,
  NB_BROWSE_MASTER_ANNOUNCEMENT = 13,
  NB_BROWSE_RESET_STATE = 14,
  NB_BROWSE_LOCAL_MASTER_ANNOUNCEMENT = 15
} nb_browse_opcode_t;

/* Server type bits ([MS-RAP] 2.5.5.2.1 SV_TYPE_*), the common ones. */
#define NB_SV_TYPE_WORKSTATION 0x00000001u
#define NB_SV_TYPE_SERVER 0x00000002u
#define NB_SV_TYPE_DOMAIN_CTRL 0x00000008u
#define NB_SV_TYPE_PRINTQ_SERVER 0x00000200u
#define NB_SV_TYPE_NT 0x00001000u
#define NB_SV_TYPE_POTENTIAL_BROWSER 0x00010000u
#define NB_SV_TYPE_BACKUP_BROWSER 0x00020000u
#define NB_SV_TYPE_MASTER_BROWSER 0x00040000u
#define NB_SV_TYPE_DOMAIN_MASTER 0x00080000u
#define NB_SV_TYPE_WIN95_PLUS 0x00400000u
#define NB_SV_TYPE_DOMAIN_ENUM 0x80000000u

#define NB_BROWSE_SERVER_NAME_LEN 16 /* the fixed ServerName field */
#define NB_BROWSE_SIGNATURE 0xAA55u

/* One browser message. Only the fields of `opcode` are meaningful. */
typedef struct nb_browse {
  uint8_t opcode; /* nb_browse_opcode_t */
  /* HostAnnouncement, DomainAnnouncement, LocalMasterAnnouncement */
  uint8_t update_count;
  uint32_t periodicity;                            /* milliseconds */
  char server_name[NB_BROWSE_SERVER_NAME_LEN + 1]; /* up to the first NUL;
                         for a DomainAnnouncement the workgroup */
  uint8_t os_major;
  uint8_t os_minor;
  uint32_t server_type;  /* NB_SV_TYPE_* bits */
  uint8_t browser_major; /* BrowserConfigVersionMajor (15 from Windows) */
  uint8_t browser_minor;
  uint16_t signature; /* 0xAA55 */
  /* The string field, borrowed (no NUL): the comment of an announcement
   * (a DomainAnnouncement's is the master browser's name), the
   * ResponseName of an AnnouncementRequest, the ServerName of a
   * RequestElection, BrowserToPromote of BecomeBackup, and the
   * MasterBrowserServerName of a MasterAnnouncement. */
  const char *str;
  size_t str_len;
  /* RequestElection */
  uint8_t election_version;
  uint32_t criteria;
  uint32_t uptime; /* milliseconds */
  /* GetBackupList request / response */
  uint8_t count;
  uint32_t token;
  const uint8_t *list; /* response: the server names, NUL-separated,
                          borrowed, as received */
  size_t list_len;
  /* ResetStateRequest */
  uint8_t reset_type;
} nb_browse_t;

/* "HostAnnouncement", ... as [MS-BRWS] names them; "unknown". */
NB_API const char *nb_browse_opcode_name(uint8_t opcode);
/* True for opcodes 1, 12 and 15 (the fixed announcement layout). */
NB_API bool nb_browse_is_announcement(uint8_t opcode);

/* Parse a browser message (a \MAILSLOT\BROWSE transaction's data).
 *
 * WARNING: parses untrusted network data.
 *
 * An unknown opcode is NB_EMALFORMED; a missing fixed field NB_ETRUNCATED.
 * The string field is the last one: it ends at its NUL or, tolerantly, at
 * the end of the input. `diag->offset` is an offset into `buf`. */
NB_API nb_err_t nb_browse_parse(const uint8_t *buf, size_t len,
                                nb_browse_t *out, nb_diag_t *diag);

/* Write a browser message from its fields (a NUL-terminated copy of each
 * string; zero for the unused and reserved bytes). Unknown opcodes, and
 * strings containing NUL set NB_EINVAL. `server_name` may use all 16
 * bytes of its field (no NUL then), as a parse may give. */
NB_API void nb_browse_write(nb_wr_t *w, const nb_browse_t *b);

/* Write a whole \MAILSLOT\BROWSE transaction around `b` (class 2,
 * unreliable and broadcast, as announcements are sent). The browser
 * message may take at most 512 bytes (the datagram's USER_DATA cap). */
NB_API void nb_browse_write_mailslot(nb_wr_t *w, const nb_browse_t *b);

/* Builders used by the datagram daemon and `nbt browse`. */
/* AnnouncementRequest ([MS-BRWS] 2.2.2): `response_name` (NUL-terminated,
 * borrowed by `b`) is the name that wants the answers. */
NB_API void nb_browse_announcement_request(nb_browse_t *b,
                                           const char *response_name);
/* HostAnnouncement ([MS-BRWS] 2.2.1): browser version 15.1, signature
 * 0xAA55, update count 0. `comment` is borrowed by `b`. NB_EINVAL when
 * `server` is empty or longer than 15 characters. */
NB_API nb_err_t nb_browse_host_announcement(nb_browse_t *b, const char *server,
                                            uint8_t os_major, uint8_t os_minor,
                                            uint32_t server_type,
                                            uint32_t periodicity_ms,
                                            const char *comment);

#endif
