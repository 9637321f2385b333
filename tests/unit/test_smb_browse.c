/* SPDX-License-Identifier: BSD-2-Clause */
/* SMB mailslot transactions and browser messages: golden bytes from the
 * Windows 98 (arkime/nbns.pcap) and Windows 7 (ndpi/netbios.pcap) browser
 * datagrams, byte-identical rebuilds, every opcode's round trip, the
 * builders, and every rejection with its offset. */
#include <stdio.h>
#include <string.h>

#include "testutil.h"

#include "nb/smb_browse.h"

/* The SMB TRANSACTION prefix (86 bytes up to the data) of the Windows 98
 * datagrams, with TotalDataCount/DataCount/ByteCount for `n` data bytes
 * patched in by trans(). */
#define SMB_W98                                                                \
  "ff534d4225000000000000000000000000000000000000000000000000000000"           \
  "11 0000 2100 0000 0000 00 00 0000 00000000 0000 0000 0000 2100 5600"        \
  "03 00 0100 0100 0200 3200 5c4d41494c534c4f545c42524f57534500"

/* User data of arkime frames 30 (HostAnnouncement), 31
 * (AnnouncementRequest), 36 (RequestElection), 54
 * (LocalMasterAnnouncement), 55 (DomainAnnouncement), and ndpi frame 20
 * (Windows 7 HostAnnouncement): the browser message only. */
static const char host_w98[] =
    "010360ea00004d444a52393800000000000000000000040003204000150455aa00";
static const char request_w98[] = "02004d444a52393800";
static const char election_w98[] = "08010000000000000000000000004d444a52393800";
static const char lmb_w98[] =
    "0f05c0d401004d444a52393800000000000000000000040003204500150455aa00";
static const char domain_w98[] =
    "0c00c0d40100574f524b47524f555000000000000000040000204080000000004d444a"
    "52393800";
static const char host_w7[] =
    "010080fc0a004e5652390000000000000000000000000601071001000f0155aa00";

/* The Windows 7 datagram's whole user data (ndpi frame 20). */
static const char smb_w7[] =
    "ff534d422500000000000000000000000000000000000000000000000000000011000021"
    "000000000000000000e803000000000000000021005600030001000000020032005c4d41"
    "494c534c4f545c42524f57534500"
    "010080fc0a004e5652390000000000000000000000000601071001000f0155aa00";

static size_t unhex(const char *hex, uint8_t *buf, size_t cap) {
  return nb_test_unhex(hex, buf, cap);
}

static void browse_ok(const char *hex, nb_browse_t *b, uint8_t *buf,
                      size_t cap) {
  size_t len = unhex(hex, buf, cap);
  nb_diag_t d = {NB_OK, 0, NULL};
  nb_err_t err = nb_browse_parse(buf, len, b, &d);
  if (err != NB_OK) {
    print_error("%s at %zu: %s\n", nb_errname(err), d.offset, d.field);
  }
  assert_int_equal(err, NB_OK);
}

/* parse -> write gives the bytes back. */
static void assert_browse_rebuilds(const char *hex) {
  uint8_t in[256], out[256];
  nb_browse_t b;
  size_t len = unhex(hex, in, sizeof in);
  assert_int_equal(nb_browse_parse(in, len, &b, NULL), NB_OK);
  nb_wr_t w;
  size_t n = 0;
  nb_wr_init(&w, out, sizeof out);
  nb_browse_write(&w, &b);
  assert_int_equal(nb_wr_finish(&w, &n), NB_OK);
  assert_int_equal(n, len);
  assert_memory_equal(out, in, len);
}

static void assert_str(const char *s, size_t len, const char *want) {
  assert_int_equal(len, strlen(want));
  if (len > 0) {
    assert_memory_equal(s, want, len);
  }
}

/* The Windows 7 datagram's SMB TRANSACTION, and its rebuild. */
static void test_mailslot_golden(void **state) {
  (void)state;
  uint8_t buf[256], out[256];
  size_t len = unhex(smb_w7, buf, sizeof buf);
  nb_smb_mailslot_t m;
  nb_diag_t d = {NB_OK, 0, NULL};
  assert_int_equal(nb_smb_mailslot_parse(buf, len, &m, &d), NB_OK);
  assert_str(m.name, m.name_len, "\\MAILSLOT\\BROWSE");
  assert_true(nb_smb_mailslot_is(&m, NB_MAILSLOT_BROWSE));
  assert_true(nb_smb_mailslot_is(&m, "\\mailslot\\browse"));
  assert_false(nb_smb_mailslot_is(&m, NB_MAILSLOT_LANMAN));
  assert_int_equal(m.opcode, NB_SMB_MAILSLOT_WRITE);
  assert_int_equal(m.priority, 0);
  assert_int_equal(m.mailslot_class, NB_SMB_MAILSLOT_CLASS_UNRELIABLE);
  assert_int_equal(m.timeout, 1000);
  assert_int_equal(m.total_data_count, 33);
  assert_int_equal(m.data_len, 33);
  assert_ptr_equal(m.data, buf + 86);
  /* Rebuilt byte for byte: Windows zeroes what Samba's writer zeroes. */
  nb_wr_t w;
  size_t n = 0;
  nb_wr_init(&w, out, sizeof out);
  nb_smb_mailslot_write(&w, &m);
  assert_int_equal(nb_wr_finish(&w, &n), NB_OK);
  assert_int_equal(n, len);
  assert_memory_equal(out, buf, len);
}

/* Windows 98's transaction prefix: priority 1, timeout 0. */
static void test_mailslot_w98(void **state) {
  (void)state;
  char hex[512];
  uint8_t buf[256], out[256];
  snprintf(hex, sizeof hex, "%s%s", SMB_W98, host_w98);
  size_t len = unhex(hex, buf, sizeof buf);
  nb_smb_mailslot_t m;
  assert_int_equal(nb_smb_mailslot_parse(buf, len, &m, NULL), NB_OK);
  assert_int_equal(m.priority, 1);
  assert_int_equal(m.timeout, 0);
  assert_int_equal(m.data_len, 33);
  nb_wr_t w;
  size_t n = 0;
  nb_wr_init(&w, out, sizeof out);
  nb_smb_mailslot_write(&w, &m);
  assert_int_equal(nb_wr_finish(&w, &n), NB_OK);
  assert_int_equal(n, len);
  assert_memory_equal(out, buf, len);
}

static void test_host_announcements(void **state) {
  (void)state;
  uint8_t buf[256];
  nb_browse_t b;
  browse_ok(host_w98, &b, buf, sizeof buf);
  assert_int_equal(b.opcode, NB_BROWSE_HOST_ANNOUNCEMENT);
  assert_int_equal(b.update_count, 3);
  assert_int_equal(b.periodicity, 60000);
  assert_string_equal(b.server_name, "MDJR98");
  assert_int_equal(b.os_major, 4);
  assert_int_equal(b.os_minor, 0);
  assert_int_equal(b.server_type, 0x00402003u);
  assert_true(b.server_type & NB_SV_TYPE_WIN95_PLUS);
  assert_int_equal(b.browser_major, 0x15);
  assert_int_equal(b.browser_minor, 0x04);
  assert_int_equal(b.signature, NB_BROWSE_SIGNATURE);
  assert_str(b.str, b.str_len, "");
  browse_ok(host_w7, &b, buf, sizeof buf);
  assert_string_equal(b.server_name, "NVR9");
  assert_int_equal(b.periodicity, 720000); /* 12 minutes */
  assert_int_equal(b.os_major, 6);
  assert_int_equal(b.os_minor, 1);
  assert_int_equal(b.server_type, 0x00011007u);
  assert_int_equal(b.browser_major, 15);
  assert_int_equal(b.browser_minor, 1);
  assert_string_equal(nb_browse_opcode_name(b.opcode), "HostAnnouncement");
}

static void test_other_captured_messages(void **state) {
  (void)state;
  uint8_t buf[256];
  nb_browse_t b;
  browse_ok(request_w98, &b, buf, sizeof buf);
  assert_int_equal(b.opcode, NB_BROWSE_ANNOUNCEMENT_REQUEST);
  assert_str(b.str, b.str_len, "MDJR98");
  browse_ok(election_w98, &b, buf, sizeof buf);
  assert_int_equal(b.opcode, NB_BROWSE_REQUEST_ELECTION);
  assert_int_equal(b.election_version, 1);
  assert_int_equal(b.criteria, 0);
  assert_int_equal(b.uptime, 0);
  assert_str(b.str, b.str_len, "MDJR98");
  browse_ok(lmb_w98, &b, buf, sizeof buf);
  assert_int_equal(b.opcode, NB_BROWSE_LOCAL_MASTER_ANNOUNCEMENT);
  assert_true(b.server_type & NB_SV_TYPE_MASTER_BROWSER);
  assert_string_equal(b.server_name, "MDJR98");
  browse_ok(domain_w98, &b, buf, sizeof buf);
  assert_int_equal(b.opcode, NB_BROWSE_DOMAIN_ANNOUNCEMENT);
  assert_string_equal(b.server_name, "WORKGROUP");
  assert_int_equal(b.server_type, 0x80402000u);
  assert_str(b.str, b.str_len, "MDJR98"); /* the master browser */
}

/* Every captured browser message is rebuilt byte for byte. */
static void test_captured_rebuild(void **state) {
  (void)state;
  assert_browse_rebuilds(host_w98);
  assert_browse_rebuilds(request_w98);
  assert_browse_rebuilds(election_w98);
  assert_browse_rebuilds(lmb_w98);
  assert_browse_rebuilds(domain_w98);
  assert_browse_rebuilds(host_w7);
}

/* Each opcode built from fields, written, parsed back: same fields. */
static void test_every_opcode_round_trip(void **state) {
  (void)state;
  static const uint8_t list[] = "ALPHA\0BETA";
  static const uint8_t opcodes[] = {1, 2, 8, 9, 10, 11, 12, 13, 14, 15};
  for (size_t i = 0; i < sizeof opcodes; i++) {
    nb_browse_t b, p;
    memset(&b, 0, sizeof b);
    b.opcode = opcodes[i];
    b.update_count = 7;
    b.periodicity = 0x01020304;
    memcpy(b.server_name, "SIXTEEN_CHARS_XY", 16); /* fills the field */
    b.os_major = 10;
    b.server_type = 0x80000003u;
    b.signature = 0xaa55;
    b.str = "a comment";
    b.str_len = 9;
    b.election_version = 1;
    b.criteria = 0x20010f03;
    b.uptime = 99;
    b.count = 2;
    b.token = 0xdeadbeef;
    b.list = list;
    b.list_len = sizeof list;
    b.reset_type = 4;
    uint8_t out[256];
    nb_wr_t w;
    size_t n = 0;
    nb_wr_init(&w, out, sizeof out);
    nb_browse_write(&w, &b);
    assert_int_equal(nb_wr_finish(&w, &n), NB_OK);
    assert_int_equal(nb_browse_parse(out, n, &p, NULL), NB_OK);
    assert_int_equal(p.opcode, b.opcode);
    if (nb_browse_is_announcement(b.opcode)) {
      assert_string_equal(p.server_name, "SIXTEEN_CHARS_XY");
      assert_int_equal(p.periodicity, b.periodicity);
      assert_int_equal(p.server_type, b.server_type);
      assert_int_equal(p.signature, 0xaa55);
    }
    if (p.str != NULL) {
      assert_str(p.str, p.str_len, "a comment");
    }
    if (b.opcode == NB_BROWSE_REQUEST_ELECTION) {
      assert_int_equal(p.criteria, b.criteria);
      assert_int_equal(p.uptime, 99);
    }
    if (b.opcode == NB_BROWSE_GET_BACKUP_LIST_RESPONSE) {
      assert_int_equal(p.list_len, sizeof list);
      assert_memory_equal(p.list, list, sizeof list);
    }
    if (b.opcode == 9 || b.opcode == 10) {
      assert_int_equal(p.token, 0xdeadbeef);
      assert_int_equal(p.count, 2);
    }
    if (b.opcode == NB_BROWSE_RESET_STATE) {
      assert_int_equal(p.reset_type, 4);
    }
  }
}

/* The builders the daemon and `nbt browse` use, inside a whole mailslot
 * transaction: DataOffset is 70 + strlen(mailslot), as Samba writes it. */
static void test_builders(void **state) {
  (void)state;
  nb_browse_t b, p;
  uint8_t out[512];
  nb_wr_t w;
  size_t n = 0;
  assert_int_equal(
      nb_browse_host_announcement(&b, "NBTKIT", 6, 1,
                                  NB_SV_TYPE_WORKSTATION | NB_SV_TYPE_SERVER,
                                  720000, "nbtkit test"),
      NB_OK);
  nb_wr_init(&w, out, sizeof out);
  nb_browse_write_mailslot(&w, &b);
  assert_int_equal(nb_wr_finish(&w, &n), NB_OK);
  nb_smb_mailslot_t m;
  assert_int_equal(nb_smb_mailslot_parse(out, n, &m, NULL), NB_OK);
  assert_true(nb_smb_mailslot_is(&m, NB_MAILSLOT_BROWSE));
  assert_ptr_equal(m.data, out + 70 + 16);
  assert_int_equal(m.mailslot_class, 2);
  assert_int_equal(nb_browse_parse(m.data, m.data_len, &p, NULL), NB_OK);
  assert_string_equal(p.server_name, "NBTKIT");
  assert_int_equal(p.browser_major, 15);
  assert_int_equal(p.signature, 0xaa55);
  assert_str(p.str, p.str_len, "nbtkit test");
  /* An AnnouncementRequest is opcode 2, an unused byte and the name. */
  uint8_t want[16];
  size_t want_len = unhex("02 00 4e425454455354 00", want, sizeof want);
  nb_browse_announcement_request(&b, "NBTTEST");
  nb_wr_init(&w, out, sizeof out);
  nb_browse_write(&w, &b);
  assert_int_equal(nb_wr_finish(&w, &n), NB_OK);
  assert_int_equal(n, want_len);
  assert_memory_equal(out, want, n);
  /* Server names must fit the 16-byte field with its NUL. */
  assert_int_equal(nb_browse_host_announcement(&b, "", 6, 1, 0, 0, NULL),
                   NB_EINVAL);
  assert_int_equal(
      nb_browse_host_announcement(&b, "SIXTEEN_CHARS_XY", 6, 1, 0, 0, NULL),
      NB_EINVAL);
}

static void assert_mailslot_fails(const char *hex, nb_err_t err, size_t off,
                                  const char *field) {
  uint8_t buf[512];
  size_t len = unhex(hex, buf, sizeof buf);
  nb_smb_mailslot_t m;
  nb_diag_t d = {NB_OK, 0, NULL};
  assert_int_equal(nb_smb_mailslot_parse(buf, len, &m, &d), err);
  assert_int_equal(d.offset, off);
  assert_non_null(strstr(d.field, field));
}

/* Every rejection of the transaction, with its offset. */
static void test_mailslot_rejections(void **state) {
  (void)state;
  char hex[1024];
  /* Not SMB; not a TRANSACTION. */
  assert_mailslot_fails("fe534d4225", NB_EMALFORMED, 0, "not \\xffSMB");
  assert_mailslot_fails("ff534d4272", NB_EMALFORMED, 4, "TRANSACTION");
  assert_mailslot_fails("ff534d", NB_ETRUNCATED, 0, "SMB header");
  /* WordCount 16. */
  snprintf(hex, sizeof hex, "%s", smb_w7);
  memcpy(hex + 64, "10", 2);
  assert_mailslot_fails(hex, NB_EMALFORMED, 32, "WordCount");
  /* SetupCount 2 (byte 59). */
  snprintf(hex, sizeof hex, "%s", smb_w7);
  memcpy(hex + 118, "02", 2);
  assert_mailslot_fails(hex, NB_EMALFORMED, 59, "SetupCount");
  /* ByteCount past the end (0x0132, bytes 67-68). */
  snprintf(hex, sizeof hex, "%s", smb_w7);
  memcpy(hex + 134, "3201", 4);
  assert_mailslot_fails(hex, NB_ETRUNCATED, 67, "ByteCount");
  /* Mailslot name without a NUL inside ByteCount (ByteCount 16). */
  snprintf(hex, sizeof hex, "%s", smb_w7);
  memcpy(hex + 134, "1000", 4);
  assert_mailslot_fails(hex, NB_ETRUNCATED, 85, "no NUL");
  /* DataCount past the end (0x22, byte 55). */
  snprintf(hex, sizeof hex, "%s", smb_w7);
  memcpy(hex + 110, "22", 2);
  assert_mailslot_fails(hex, NB_ETRUNCATED, 55, "past the end");
  /* DataOffset into the parameter words (0x0010, byte 57). */
  snprintf(hex, sizeof hex, "%s", smb_w7);
  memcpy(hex + 114, "10", 2);
  assert_mailslot_fails(hex, NB_EMALFORMED, 57, "DataOffset");
  /* Every prefix fails. */
  uint8_t buf[256];
  size_t len = unhex(smb_w7, buf, sizeof buf);
  for (size_t cut = 0; cut < len; cut++) {
    nb_smb_mailslot_t m;
    nb_diag_t d = {NB_OK, 0, NULL};
    assert_int_equal(nb_smb_mailslot_parse(buf, cut, &m, &d), NB_ETRUNCATED);
    assert_true(d.offset <= cut);
  }
}

static void test_browse_rejections(void **state) {
  (void)state;
  uint8_t buf[256];
  nb_browse_t b;
  nb_diag_t d = {NB_OK, 0, NULL};
  size_t len = unhex("03 00", buf, sizeof buf);
  assert_int_equal(nb_browse_parse(buf, len, &b, &d), NB_EMALFORMED);
  assert_int_equal(d.offset, 0);
  assert_int_equal(nb_browse_parse(buf, 0, &b, &d), NB_ETRUNCATED);
  /* Each prefix of an announcement shorter than its fixed fields fails;
   * from there on the comment is tolerantly cut at the end. */
  len = unhex(host_w7, buf, sizeof buf);
  for (size_t cut = 1; cut < 32; cut++) {
    assert_int_equal(nb_browse_parse(buf, cut, &b, &d), NB_ETRUNCATED);
    assert_true(d.offset <= cut);
  }
  assert_int_equal(nb_browse_parse(buf, 32, &b, &d), NB_OK);
  assert_int_equal(b.str_len, 0);
  /* A comment without its NUL runs to the end of the data. */
  len = unhex("01 00 00000000 41000000000000000000000000000000 00 00 "
              "00000000 00 00 0000 6869",
              buf, sizeof buf);
  assert_int_equal(nb_browse_parse(buf, len, &b, &d), NB_OK);
  assert_str(b.str, b.str_len, "hi");
  /* Writers refuse an unknown opcode and a NUL inside a string. */
  nb_wr_t w;
  memset(&b, 0, sizeof b);
  b.opcode = 3;
  nb_wr_init(&w, buf, sizeof buf);
  nb_browse_write(&w, &b);
  assert_int_equal(nb_wr_finish(&w, NULL), NB_EINVAL);
  b.opcode = NB_BROWSE_MASTER_ANNOUNCEMENT;
  b.str = "A\0B";
  b.str_len = 3;
  nb_wr_init(&w, buf, sizeof buf);
  nb_browse_write(&w, &b);
  assert_int_equal(nb_wr_finish(&w, NULL), NB_EINVAL);
  assert_string_equal(nb_browse_opcode_name(3), "unknown");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mailslot_golden),
      cmocka_unit_test(test_mailslot_w98),
      cmocka_unit_test(test_host_announcements),
      cmocka_unit_test(test_other_captured_messages),
      cmocka_unit_test(test_captured_rebuild),
      cmocka_unit_test(test_every_opcode_round_trip),
      cmocka_unit_test(test_builders),
      cmocka_unit_test(test_mailslot_rejections),
      cmocka_unit_test(test_browse_rejections),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
