#!/usr/bin/env bash
# nbt replay without root: usage and I/O errors, and replays against the
# scripted responder (tests/replay/responder.py) on 127.0.0.1 at high
# ports (--port-map), answering right (exit 0) or wrong in one field
# (exit 1, and the diff names that field). Loopback only; every responder
# is bounded by --lifetime and killed by its pid.
set -u
nbt=$1
here=$(cd "$(dirname "$0")/../.." && pwd)
py=/usr/bin/python3
responder=$here/tests/replay/responder.py
fq=$here/pcaps/node-netbios/netbios-ns-b-full-query.pcap
scan=$here/pcaps/node-netbios/netbios-ssn-full-scanner-winxp.pcap
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"


# start_responder PCAP NSPORT SSNPORT CORRUPT: background, waits for "ready".
start_responder() {
  local log=$tmp/resp.$RANDOM
  "$py" "$responder" --pcap "$1" --bind 127.0.0.1 --ns-port "$2" \
    --ssn-port "$3" --corrupt "$4" --lifetime 120 >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do
    grep -q ready "$log" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "responder did not start:"; cat "$log"; return 1
}

check "usage" 2 'usage: nbt replay' "$nbt" replay
check "no target" 2 'required' "$nbt" replay "$fq"
check "broadcast target refused" 2 "bad --target '255.255.255.255'" \
  "$nbt" replay "$fq" --target 255.255.255.255
check "multicast target refused" 2 "bad --target" \
  "$nbt" replay "$fq" --target 224.0.0.1
check "hostname refused" 2 "bad --target" "$nbt" replay "$fq" --target localhost
check "bad port map" 2 "bad --port-map" "$nbt" replay "$fq" --target 127.0.0.1 \
  --port-map 140:5000
check "bad --only" 2 "bad --only 'ns,smb'" "$nbt" replay "$fq" --target 127.0.0.1 \
  --only ns,smb
check "--only dgm: nothing" 1 'no requests to replay' "$nbt" replay "$fq" \
  --target 127.0.0.1 --only dgm
check "bad timeout" 2 "bad --timeout" "$nbt" replay "$fq" --target 127.0.0.1 \
  --timeout 0
check "missing capture" 3 'nbt: replay: .*(No such file|such file)' \
  "$nbt" replay "$tmp/none.pcap" --target 127.0.0.1
check "nothing to replay" 1 'no requests to replay' "$nbt" replay \
  "$here/pcaps/tcpdump/nbns-valgrind.pcap" --target 127.0.0.1 --timeout 50

base=$((20000 + RANDOM % 20000))
ns_ok=$base; ns_flags=$((base + 1)); ns_addr=$((base + 2))
ssn_ok=$((base + 3)); ssn_bad=$((base + 4))
start_responder "$fq" "$ns_ok" 0 "" || exit 1
start_responder "$fq" "$ns_flags" 0 ns-flags || exit 1
start_responder "$fq" "$ns_addr" 0 ns-addr || exit 1
start_responder "$scan" $((base + 5)) "$ssn_ok" "" || exit 1
start_responder "$scan" $((base + 6)) "$ssn_bad" ssn-neg || exit 1

check "right NS answers agree" 0 '2 exchanges, 2 agree, 0 differ' \
  "$nbt" replay "$fq" --target 127.0.0.1 --port-map "137:$ns_ok" --timeout 300
check "flags off by RA" 1 '"field":"resp\[0\]\.flags","recorded":"0x8400 \(R AA\)","live":"0x8480 \(R AA RA\)"' \
  "$nbt" replay "$fq" --target 127.0.0.1 --port-map "137:$ns_flags" \
  --timeout 300 --json
check "NB address off by one" 1 'diff resp\[0\]\.an\[0\]\.nb\[0\]\.addr: recorded <server>, live 127\.0\.0\.2' \
  "$nbt" replay "$fq" --target 127.0.0.1 --port-map "137:$ns_addr" --timeout 300
check "right session answers agree" 0 '5 exchanges, 5 agree, 0 differ' \
  "$nbt" replay "$scan" --target 127.0.0.1 --port-map "139:$ssn_ok" --timeout 500
check "negative instead of positive" 1 'diff resp\[0\]: recorded POSITIVE SESSION RESPONSE length 0, live NEGATIVE SESSION RESPONSE 0x82' \
  "$nbt" replay "$scan" --target 127.0.0.1 --port-map "139:$ssn_bad" \
  --timeout 500 --ssn-turns 1
check "nothing listening" 1 'diff io: recorded ok, live connect: Connection refused' \
  "$nbt" replay "$scan" --target 127.0.0.1 --port-map "139:$((base + 7))" \
  --timeout 300 --ssn-turns 1

# JUnit: one testcase per exchange, failures counted.
junit=$tmp/out.xml
"$nbt" replay "$fq" --target 127.0.0.1 --port-map "137:$ns_flags" \
  --timeout 300 --junit "$junit" >/dev/null 2>&1
check "junit" 0 '^2 1 0 failure$' "$py" -c '
import sys, xml.etree.ElementTree as ET
s = ET.parse(sys.argv[1]).getroot().find("testsuite")
cases = s.findall("testcase")
print(s.get("tests"), s.get("failures"), s.get("skipped"),
      cases[0][0].tag if len(cases[0]) else "none")' "$junit"
check "junit unwritable" 3 'cannot write' "$nbt" replay "$fq" \
  --target 127.0.0.1 --port-map "137:$ns_ok" --timeout 100 \
  --junit "$tmp/no/such/dir.xml"

finish
