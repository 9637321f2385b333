#!/usr/bin/env bash
# ci_fuzz: fuzz/ci-fuzz passes a sound target and fails a buggy one, leaving
# the crashing input (path and hex) and the stack trace in its output.
# A throwaway tree (corpus/, fuzz/) and a prebuilt target (crashy.c, clang
# -fsanitize=fuzzer,address) stand in for the project's; the build step is
# skipped (NB_CI_FUZZ_NO_BUILD=1).
# Usage: ci_fuzz.sh SOURCE_DIR
set -euo pipefail
command -v clang >/dev/null 2>&1 || { echo "SKIP: no clang"; exit 77; }
src=$(cd "${1:?usage: $0 SOURCE_DIR}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir -p "$tmp/build/fuzz" "$tmp/root/corpus/crashy" "$tmp/root/fuzz"
clang -g -fsanitize=fuzzer,address "$src/tests/fuzzinfra/crashy.c" \
  -o "$tmp/build/fuzz/fuzz_crashy"
printf 'hello' >"$tmp/root/corpus/crashy/seed"
echo crashy >"$tmp/build/fuzz/targets.txt"
run() {
  NB_CI_FUZZ_NO_BUILD=1 NB_CI_FUZZ_BUILD="$tmp/build" \
    NB_CI_FUZZ_ROOT="$tmp/root" NB_CI_FUZZ_WORK="$tmp/work" \
    NB_CI_FUZZ_SECONDS="$1" bash "$src/fuzz/ci-fuzz" >"$tmp/out.log" 2>&1
}
expect_report() { # the input's path and hex, the sanitizer's stack trace
  grep -q "^input: .*crash-" "$tmp/out.log" || fail "$1: no input path"
  grep -qE '^ 46 55( [0-9a-f]{2})*$' "$tmp/out.log" || fail "$1: no hex dump"
  grep -q "ERROR: AddressSanitizer: heap-buffer-overflow" "$tmp/out.log" ||
    fail "$1: no sanitizer report"
  grep -qE '#[0-9]+ .*LLVMFuzzerTestOneInput' "$tmp/out.log" ||
    fail "$1: no stack trace"
}

# 1. A crash the fuzzing finds: the run fails and reports it.
run 60 && { cat "$tmp/out.log"; fail "ci-fuzz passed a crashing target"; }
expect_report "fuzzing"
grep -q "ci-fuzz: FAILED: crashy" "$tmp/out.log" || fail "no FAILED line"
echo "ok: a crash found by fuzzing fails the run with input and trace"

# 2. A corpus input that crashes: the replay fails before any fuzzing.
printf 'FUZZ' >"$tmp/root/corpus/crashy/bad"
run 5 && fail "ci-fuzz passed a crashing corpus"
expect_report "replay"
grep -q "replay failed: crashy" "$tmp/out.log" || fail "no replay failure line"
echo "ok: a crashing corpus input fails the replay with input and trace"

# 3. The same tree without the bug's trigger and with a sound target passes.
rm "$tmp/root/corpus/crashy/bad"
cat >"$tmp/sound.c" <<'C'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return size > 1 && data[0] == 'F' && data[1] == 'U' ? 0 : 0;
}
C
clang -g -fsanitize=fuzzer,address "$tmp/sound.c" -o "$tmp/build/fuzz/fuzz_crashy"
run 3 || { cat "$tmp/out.log"; fail "ci-fuzz failed a sound target"; }
grep -q "^ok   crashy" "$tmp/out.log" || fail "no ok line for the sound target"
echo "ok: a sound target passes"
