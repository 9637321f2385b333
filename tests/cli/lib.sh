# Helpers shared by the tests/cli/*.sh scripts; each sources this file
# (`. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"`) after setting `nbt` (and `py`
# when it uses enc or jcheck), then ends with `finish`.
# Every helper counts one pass or one failure; a failure prints FAIL and why.
fails=0; passes=0
py=${py:-/usr/bin/python3}

ok() { passes=$((passes + 1)); }
bad() { fails=$((fails + 1)); printf 'FAIL: %s\n' "$*"; }

# check DESC WANT_RC WANT_REGEX CMD...: CMD exits WANT_RC and its output
# (stdout and stderr) matches the extended regex.
check() {
  local desc=$1 want_rc=$2 want=$3; shift 3
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -eq "$want_rc" ] && printf '%s' "$out" | grep -Eq -- "$want"; then
    ok
  else
    bad "$desc: rc=$rc (want $want_rc)"; printf '%s\n' "$out" | head -20
  fi
}

# count DESC WANT_N REGEX CMD...: exactly WANT_N lines of CMD's stdout match.
count() {
  local desc=$1 want=$2 re=$3; shift 3
  local n
  n=$("$@" 2>/dev/null | grep -Ec -- "$re")
  if [ "$n" -eq "$want" ]; then
    ok
  else
    bad "$desc: $n lines match, want $want"
  fi
}

# jcheck DESC FILE PYTHON-EXPR: every line of FILE is one JSON object (no
# blank lines); the expression sees `objs` (the list) and must be true.
jcheck() {
  if "$py" -c 'import json,sys
objs=[json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if eval(sys.argv[2]) else 1)' "$2" "$3"; then ok; else
    bad "$1"; head -c 2000 "$2"; echo
  fi
}

# want_build PROTO DESC EXPECTED_HEX ARGS...: `nbt build PROTO ARGS...`
# exits 0 and prints exactly EXPECTED_HEX.
want_build() {
  local proto=$1 desc=$2 exp=$3; shift 3
  local out rc
  out=$("$nbt" build "$proto" "$@" 2>&1); rc=$?
  if [ "$rc" -eq 0 ] && [ "$out" = "$exp" ]; then
    ok
  else
    bad "$desc: nbt build $proto $*"
    printf '  rc=%s\n  got  %s\n  want %s\n' "$rc" "$out" "$exp"
  fi
}

# enc NAME SUFFIX: the second-level encoding of NAME<SUFFIX> (RFC 1001 14.1,
# RFC 1002 4.1), by a few lines of python, independently of nbtkit.
enc() {
  "$py" -c 'import sys
n = sys.argv[1].encode()
raw = (n + (b"\0" if n == b"*" else b" ") * 15)[:15] + bytes([int(sys.argv[2], 16)])
print("20" + "".join("%02x%02x" % (65 + (b >> 4), 65 + (b & 15)) for b in raw) + "00")' "$1" "$2"
}

# finish: the summary line; the script's exit status is 0 only if all passed.
finish() {
  echo "$passes passed, $fails failed"
  [ "$fails" -eq 0 ]
}
