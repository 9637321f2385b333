#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build script for nbtkit.
#
# The contract (google/oss-fuzz docs/getting-started/new_project_guide.md):
# compile with $CC and $CFLAGS, link every fuzz target with
# $LIB_FUZZING_ENGINE using $CXX as the linker, and put into $OUT, for each
# target T:
#   T                     the fuzzer binary (no extension)
#   T_seed_corpus.zip     corpus/T/ and fuzz/regress/T/
#   T.dict                fuzz/T.dict, when the target has one
#   T.options             [libfuzzer] dict, timeout and memory limit
# Targets are the ones fuzz/CMakeLists.txt declares (its targets.txt), minus
# `empty` (bench/fuzz_rate's floor) and the optional Samba differentials
# (never built here). Intermediate files go to $WORK. The same script runs
# outside Docker (tests/fuzzinfra/cflite_build.sh does that in ctest).
src=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${SRC:-}" ] && [ -d "$SRC/nbtkit/.clusterfuzzlite" ]; then
  src="$SRC/nbtkit" # inside the image, build.sh is copied to $SRC/
fi
build="${WORK:-/tmp}/nbtkit-cflite"
gen=()
command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)

# CMAKE_BUILD_TYPE=OssFuzz has no flags of its own: $CFLAGS decide.
cmake -S "$src" -B "$build" ${gen[@]+"${gen[@]}"} \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$CFLAGS" \
  -DCMAKE_BUILD_TYPE=OssFuzz \
  -DCMAKE_C_LINK_EXECUTABLE="$CXX <FLAGS> <CMAKE_C_LINK_FLAGS> <LINK_FLAGS> <OBJECTS> -o <TARGET> <LINK_LIBRARIES>" \
  -DNB_FUZZ_ENGINE=external -DNB_FUZZ_LINK="$LIB_FUZZING_ENGINE" \
  -DNB_BUILD_TESTS=OFF -DNB_BUILD_TOOLS=OFF -DNB_BUILD_DAEMON=OFF \
  -DNB_SANITIZE=OFF -DNB_WITH_SAMBA=OFF

targets=()
while read -r t; do
  [ -n "$t" ] && [ "$t" != empty ] && targets+=("$t")
done <"$build/fuzz/targets.txt"
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/#/fuzz_}"

mkdir -p "$OUT"
for t in "${targets[@]}"; do
  cp "$build/fuzz/fuzz_$t" "$OUT/$t"
  rm -f "$OUT/${t}_seed_corpus.zip"
  seeds=()
  for d in "$src/corpus/$t" "$src/fuzz/regress/$t"; do
    [ -d "$d" ] && seeds+=("$d"/*)
  done
  if [ ${#seeds[@]} -gt 0 ]; then
    zip -q -j "$OUT/${t}_seed_corpus.zip" "${seeds[@]}"
  fi
  {
    echo "[libfuzzer]"
    if [ -f "$src/fuzz/$t.dict" ]; then
      cp -L "$src/fuzz/$t.dict" "$OUT/$t.dict"
      echo "dict = $t.dict"
    fi
    echo "timeout = 10"
    echo "rss_limit_mb = 2560"
  } >"$OUT/$t.options"
done
echo "build.sh: ${#targets[@]} targets in $OUT: ${targets[*]}"
