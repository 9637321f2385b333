#!/usr/bin/env bash
# cflite_build: runs .clusterfuzzlite/build.sh outside Docker the way the
# OSS-Fuzz base-builder image does (CC, CXX, CFLAGS, LIB_FUZZING_ENGINE,
# OUT, WORK, SRC set; clang, ASan, libFuzzer) and checks what lands in
# $OUT: one binary per fuzz target (every fuzz/*.c but driver.c, empty.c and
# the optional Samba differentials), its seed corpus zip holding every file
# of corpus/T/ and fuzz/regress/T/, its .options and its .dict; then each
# binary runs -runs=10 on its unpacked seed corpus.
# Usage: cflite_build.sh SOURCE_DIR
set -euo pipefail
command -v clang >/dev/null 2>&1 || { echo "SKIP: no clang"; exit 77; }
src=$(cd "${1:?usage: $0 SOURCE_DIR}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

export CC=clang CXX=clang++
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
export CXXFLAGS="$CFLAGS"
export LIB_FUZZING_ENGINE=-fsanitize=fuzzer
export OUT="$tmp/out" WORK="$tmp/work" SRC="$tmp/src"
mkdir -p "$OUT" "$WORK" "$SRC"
bash "$src/.clusterfuzzlite/build.sh" >"$tmp/build.log" 2>&1 ||
  { tail -n 40 "$tmp/build.log" >&2; fail "build.sh exited non-zero"; }

expected=()
for f in "$src"/fuzz/*.c; do
  t=$(basename "$f" .c)
  case "$t" in driver | empty | diff_*_samba) continue ;; esac
  expected+=("$t")
done
[ ${#expected[@]} -ge 10 ] || fail "only ${#expected[@]} targets in fuzz/"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
for t in "${expected[@]}"; do
  [ -x "$OUT/$t" ] || fail "$OUT/$t: no binary"
  grep -qx '\[libfuzzer\]' "$OUT/$t.options" || fail "$t.options: no [libfuzzer]"
  if [ -f "$src/fuzz/$t.dict" ]; then
    cmp -s "$src/fuzz/$t.dict" "$OUT/$t.dict" || fail "$t.dict differs"
    grep -qx "dict = $t.dict" "$OUT/$t.options" || fail "$t.options: no dict"
  fi
  want=$( (find -L "$src/corpus/$t" "$src/fuzz/regress/$t" -type f 2>/dev/null || true) | wc -l)
  [ "$want" -gt 0 ] || fail "$t: no seeds in the tree"
  mkdir -p "$tmp/seeds/$t"
  unzip -q -o "$OUT/${t}_seed_corpus.zip" -d "$tmp/seeds/$t" ||
    fail "$t: bad seed zip"
  got=$(find "$tmp/seeds/$t" -type f | wc -l)
  [ "$got" -eq "$want" ] || fail "$t: $got seeds in the zip, $want in the tree"
  "$OUT/$t" -runs=10 "$tmp/seeds/$t" >"$tmp/$t.log" 2>&1 ||
    { tail -n 30 "$tmp/$t.log" >&2; fail "$t: -runs=10 failed"; }
  grep -qE "^Done [0-9]+ runs" "$tmp/$t.log" || fail "$t: did not run"
  echo "ok $t: binary, $got seeds, options$([ -f "$OUT/$t.dict" ] && echo ', dict'), -runs=10"
done
extra=$(find "$OUT" -maxdepth 1 -type f -executable | wc -l)
[ "$extra" -eq ${#expected[@]} ] || fail "$extra binaries in \$OUT, ${#expected[@]} expected"
echo "cflite_build: ${#expected[@]} targets ok"
