/* SPDX-License-Identifier: BSD-2-Clause */
/* The wire cursors: checked reads, unmoved on error, hard sub-windows, a
 * sticky writer error and mark/patch. */
#include <string.h>

#include "testutil.h"

#include "nb/wire.h"

static void test_reads_big_endian(void **state) {
  (void)state;
  const uint8_t msg[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                         0x08, 0x09, 0x0a};
  nb_rd_t r;
  uint8_t u8;
  uint16_t u16;
  uint32_t u32;
  nb_rd_init(&r, msg, sizeof msg);
  assert_int_equal(nb_rd_u8(&r, &u8), NB_OK);
  assert_int_equal(u8, 0x01);
  assert_int_equal(nb_rd_be16(&r, &u16), NB_OK);
  assert_int_equal(u16, 0x0203);
  assert_int_equal(nb_rd_be24(&r, &u32), NB_OK);
  assert_int_equal(u32, 0x040506);
  assert_int_equal(nb_rd_be32(&r, &u32), NB_OK);
  assert_int_equal(u32, 0x0708090a);
  assert_int_equal(r.pos, 10);
  assert_int_equal(nb_rd_left(&r), 0);
}

static void test_unmoved_on_error(void **state) {
  (void)state;
  const uint8_t msg[] = {0xaa, 0xbb, 0xcc};
  nb_rd_t r;
  uint32_t u32;
  uint16_t u16;
  const uint8_t *p = NULL;
  nb_rd_init(&r, msg, sizeof msg);
  assert_int_equal(nb_rd_skip(&r, 1), NB_OK);
  assert_int_equal(nb_rd_be32(&r, &u32), NB_ETRUNCATED);
  assert_int_equal(nb_rd_be24(&r, &u32), NB_ETRUNCATED);
  assert_int_equal(nb_rd_bytes(&r, 3, &p), NB_ETRUNCATED);
  assert_null(p);
  assert_int_equal(nb_rd_skip(&r, 3), NB_ETRUNCATED);
  assert_int_equal(r.pos, 1);
  assert_int_equal(nb_rd_peek_be16(&r, &u16), NB_OK);
  assert_int_equal(u16, 0xbbcc);
  assert_int_equal(r.pos, 1);
  assert_int_equal(nb_rd_be16(&r, &u16), NB_OK);
  uint8_t u8;
  assert_int_equal(nb_rd_u8(&r, &u8), NB_ETRUNCATED);
  assert_int_equal(nb_rd_peek_u8(&r, &u8), NB_ETRUNCATED);
}

static void test_empty_message(void **state) {
  (void)state;
  nb_rd_t r;
  uint8_t u8;
  nb_rd_init(&r, NULL, 0);
  assert_int_equal(nb_rd_u8(&r, &u8), NB_ETRUNCATED);
  assert_int_equal(nb_rd_copy(&r, &u8, 0), NB_OK);
  assert_int_equal(nb_rd_left(&r), 0);
}

static void test_sub_window_is_hard(void **state) {
  (void)state;
  const uint8_t msg[] = {0, 1, 2, 3, 4, 5, 6, 7};
  nb_rd_t r;
  nb_rd_t sub;
  uint16_t u16;
  uint32_t u32;
  nb_rd_init(&r, msg, sizeof msg);
  assert_int_equal(nb_rd_skip(&r, 2), NB_OK);
  assert_int_equal(nb_rd_sub(&r, 3, &sub), NB_OK);
  assert_int_equal(r.pos, 5);
  assert_int_equal(sub.pos, 2);
  assert_int_equal(sub.end, 5);
  assert_int_equal(nb_rd_be32(&sub, &u32), NB_ETRUNCATED);
  assert_int_equal(nb_rd_be16(&sub, &u16), NB_OK);
  assert_int_equal(u16, 0x0203);
  assert_int_equal(nb_rd_be16(&sub, &u16), NB_ETRUNCATED);
  assert_int_equal(nb_rd_left(&sub), 1);
  /* A window larger than what is left fails and leaves r where it was. */
  assert_int_equal(nb_rd_sub(&r, 4, &sub), NB_ETRUNCATED);
  assert_int_equal(r.pos, 5);
  /* nb_rd_at reaches back into the message, not beyond it. */
  nb_rd_t at;
  assert_int_equal(nb_rd_at(&r, 0, &at), NB_OK);
  assert_int_equal(at.end, sizeof msg);
  assert_int_equal(nb_rd_at(&r, sizeof msg + 1, &at), NB_ETRUNCATED);
}

static void test_rollback_is_struct_copy(void **state) {
  (void)state;
  const uint8_t msg[] = {1, 2, 3, 4};
  nb_rd_t r;
  uint16_t u16;
  nb_rd_init(&r, msg, sizeof msg);
  nb_rd_t save = r;
  assert_int_equal(nb_rd_be16(&r, &u16), NB_OK);
  r = save;
  assert_int_equal(nb_rd_be16(&r, &u16), NB_OK);
  assert_int_equal(u16, 0x0102);
}

static void test_writer_and_patch(void **state) {
  (void)state;
  uint8_t buf[16];
  nb_wr_t w;
  size_t len = 0;
  nb_wr_init(&w, buf, sizeof buf);
  nb_wr_u8(&w, 0x81);
  size_t at = nb_wr_mark(&w, 2);
  nb_wr_be24(&w, 0x010203);
  nb_wr_be32(&w, 0xdeadbeef);
  nb_wr_bytes(&w, "xy", 2);
  nb_wr_fill(&w, 0x20, 2);
  nb_wr_patch_be16(&w, at, (uint16_t)(w.len - 3));
  assert_int_equal(nb_wr_finish(&w, &len), NB_OK);
  assert_int_equal(len, 14);
  const uint8_t want[] = {0x81, 0x00, 0x0b, 0x01, 0x02, 0x03, 0xde,
                          0xad, 0xbe, 0xef, 'x',  'y',  0x20, 0x20};
  assert_memory_equal(buf, want, sizeof want);
}

static void test_writer_sticky_nospc(void **state) {
  (void)state;
  uint8_t buf[3];
  nb_wr_t w;
  size_t len = 99;
  nb_wr_init(&w, buf, sizeof buf);
  nb_wr_be16(&w, 0x0102);
  nb_wr_be16(&w, 0x0304); /* does not fit */
  nb_wr_u8(&w, 0x05);     /* would fit, but the error sticks */
  assert_int_equal(w.len, 2);
  assert_int_equal(nb_wr_finish(&w, &len), NB_ENOSPC);
  assert_int_equal(len, 99);
}

static void test_writer_bad_patch_and_values(void **state) {
  (void)state;
  uint8_t buf[8];
  nb_wr_t w;
  nb_wr_init(&w, buf, sizeof buf);
  nb_wr_u8(&w, 0);
  nb_wr_patch_be16(&w, 0, 1); /* only one byte written */
  assert_int_equal(nb_wr_finish(&w, NULL), NB_EINVAL);
  nb_wr_init(&w, buf, sizeof buf);
  nb_wr_be24(&w, 0x1000000);
  assert_int_equal(nb_wr_finish(&w, NULL), NB_EINVAL);
  nb_wr_init(&w, buf, sizeof buf);
  nb_wr_fail(&w, NB_ELIMIT);
  nb_wr_fail(&w, NB_EINVAL);
  assert_int_equal(nb_wr_finish(&w, NULL), NB_ELIMIT);
}

static void test_error_table(void **state) {
  (void)state;
  assert_string_equal(nb_strerror(NB_OK), "success");
  assert_string_equal(nb_strerror(NB_ETRUNCATED), "truncated input");
  assert_string_equal(nb_errname(NB_ELIMIT), "ELIMIT");
  assert_string_equal(nb_strerror((nb_err_t)-1000), "unknown error");
  nb_diag_t d;
  assert_int_equal(nb_diag_set(&d, NB_EMALFORMED, 7, "x"), NB_EMALFORMED);
  assert_int_equal(d.offset, 7);
  assert_int_equal(nb_diag_set(NULL, NB_EINVAL, 0, "y"), NB_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reads_big_endian),
      cmocka_unit_test(test_unmoved_on_error),
      cmocka_unit_test(test_empty_message),
      cmocka_unit_test(test_sub_window_is_hard),
      cmocka_unit_test(test_rollback_is_struct_copy),
      cmocka_unit_test(test_writer_and_patch),
      cmocka_unit_test(test_writer_sticky_nospc),
      cmocka_unit_test(test_writer_bad_patch_and_values),
      cmocka_unit_test(test_error_table),
  };
  return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
