/* SPDX-License-Identifier: BSD-2-Clause */
/* One driver for every fuzz target outside libFuzzer.
 *
 * - Built by afl-clang-fast (NB_FUZZ_ENGINE=afl): AFL++ persistent mode with
 *   shared-memory test cases (__AFL_FUZZ_INIT / __AFL_LOOP), as documented in
 *   AFL++'s instrumentation/README.persistent_mode.md.
 * - Built by any other compiler: a replay driver. Each argument is a file or
 *   a directory of files; each input is copied into an exact-size heap
 *   buffer (so ASan sees overruns) and passed to LLVMFuzzerTestOneInput.
 *   This is how every corpus runs under ctest in ordinary builds. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#ifdef __AFL_FUZZ_TESTCASE_LEN
__AFL_FUZZ_INIT();

int main(int argc, char **argv) {
  if (LLVMFuzzerInitialize) {
    LLVMFuzzerInitialize(&argc, &argv);
  }
  __AFL_INIT();
  unsigned char *buf = __AFL_FUZZ_TESTCASE_BUF;
  while (__AFL_LOOP(10000)) {
    size_t len = (size_t)__AFL_FUZZ_TESTCASE_LEN;
    /* Copy so that reads past the end hit a redzone under ASan. */
    uint8_t *copy = malloc(len ? len : 1);
    if (copy == NULL) {
      return 1;
    }
    memcpy(copy, buf, len);
    LLVMFuzzerTestOneInput(copy, len);
    free(copy);
  }
  return 0;
}

#else

#define MAX_INPUT (1u << 20)

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    perror(path);
    return 1;
  }
  uint8_t *buf = malloc(MAX_INPUT);
  if (buf == NULL) {
    fclose(f);
    return 1;
  }
  size_t len = fread(buf, 1, MAX_INPUT, f);
  fclose(f);
  uint8_t *copy = malloc(len ? len : 1);
  if (copy == NULL) {
    free(buf);
    return 1;
  }
  memcpy(copy, buf, len);
  free(buf);
  LLVMFuzzerTestOneInput(copy, len);
  free(copy);
  return 0;
}

static int run_path(const char *path, unsigned *count) {
  struct stat st;
  if (stat(path, &st) != 0) {
    perror(path);
    return 1;
  }
  if (!S_ISDIR(st.st_mode)) {
    (*count)++;
    return run_file(path);
  }
  DIR *dir = opendir(path);
  if (dir == NULL) {
    perror(path);
    return 1;
  }
  int rc = 0;
  struct dirent *de;
  while ((de = readdir(dir)) != NULL) {
    if (de->d_name[0] == '.') {
      continue;
    }
    char child[4096];
    int n = snprintf(child, sizeof child, "%s/%s", path, de->d_name);
    if (n < 0 || (size_t)n >= sizeof child) {
      rc = 1;
      continue;
    }
    rc |= run_path(child, count);
  }
  closedir(dir);
  return rc;
}

int main(int argc, char **argv) {
  if (LLVMFuzzerInitialize) {
    LLVMFuzzerInitialize(&argc, &argv);
  }
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
    return 2;
  }
  unsigned count = 0;
  int rc = 0;
  for (int i = 1; i < argc; i++) {
    rc |= run_path(argv[i], &count);
  }
  printf("%s: replayed %u inputs\n", argv[0], count);
  if (count == 0) {
    fprintf(stderr, "%s: no inputs found\n", argv[0]);
    return 1;
  }
  return rc;
}
#endif
