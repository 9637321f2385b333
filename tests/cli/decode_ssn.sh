#!/usr/bin/env bash
# nbt decode / nbt build for the session service (TCP 139/445):
#  - the done-means command on the scanner capture (exact text), and JSON;
#  - Zeek's split (decodes) and truncated (an error for that stream) captures;
#  - Windows 10 SMB2 on 139 and 445: the same PDUs as tshark;
#  - a TCP keep-alive probe at the start of a mid-capture stream (nDPI);
#  - hex streams built with `nbt build ssn`, and bad ones with their reasons;
#  - reordered, retransmitted and overlapping segments give the in-order
#    output; a missing segment and too many held segments are errors.
# usage: decode_ssn.sh NBT SOURCE_DIR
set -u
nbt=$1
src=${2:-$(cd "$(dirname "$0")/../.." && pwd)}
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# 1. The done-means command: exactly these lines, exit 0.
scanner=$src/pcaps/node-netbios/netbios-ssn-full-scanner-winxp.pcap
cat >"$tmp/scanner.want" <<'EOF'
frame 4 10.0.1.10:1044 > 10.0.1.12:139 SESSION REQUEST length=68 called=VMWINXP<20> calling=PRINTER<00>
frame 5 10.0.1.12:139 > 10.0.1.10:1044 POSITIVE SESSION RESPONSE length=0
frame 6 10.0.1.10:1044 > 10.0.1.12:139 SESSION MESSAGE length=170 payload=SMB1
frame 7 10.0.1.12:139 > 10.0.1.10:1044 SESSION MESSAGE length=107 payload=SMB1
frame 8 10.0.1.10:1044 > 10.0.1.12:139 SESSION MESSAGE length=147 payload=SMB1
frame 9 10.0.1.12:139 > 10.0.1.10:1044 SESSION MESSAGE length=129 payload=SMB1
frame 10 10.0.1.10:1044 > 10.0.1.12:139 SESSION MESSAGE length=86 payload=SMB1
frame 11 10.0.1.12:139 > 10.0.1.10:1044 SESSION MESSAGE length=54 payload=SMB1
frame 12 10.0.1.10:1044 > 10.0.1.12:139 SESSION MESSAGE length=35 payload=SMB1
frame 13 10.0.1.12:139 > 10.0.1.10:1044 SESSION MESSAGE length=35 payload=SMB1
EOF
"$nbt" decode --pcap "$scanner" >"$tmp/scanner.out" 2>"$tmp/scanner.err"
rc=$?
if [ "$rc" -eq 0 ] && diff -u "$tmp/scanner.want" "$tmp/scanner.out"; then ok; else
  bad "scanner text rc=$rc: $(cat "$tmp/scanner.err")"; fi
"$nbt" decode --json --pcap "$scanner" >"$tmp/scanner.json"
jcheck "scanner JSON" "$tmp/scanner.json" \
  'len(objs) == 10 and all(o["proto"] == "nbss" and o["ok"] and o["mode"] == "rfc" and o["findings"] == [] for o in objs) and objs[0]["type"] == "SESSION REQUEST" and objs[0]["type_code"] == 0x81 and objs[0]["length"] == 68 and objs[0]["called"] == "VMWINXP<20>" and objs[0]["calling"] == "PRINTER<00>" and objs[0]["offset"] == 0 and objs[1]["type_code"] == 0x82 and [o["length"] for o in objs[2:]] == [170, 107, 147, 129, 86, 54, 35, 35] and all(o["payload"] == "SMB1" and o["magic"] == "ff534d42" for o in objs[2:]) and [o["offset"] for o in objs[2::2]] == [72, 246, 397, 487]'

# 2. Zeek: a header split across segments decodes; a truncated message is an
#    error for its stream (the run goes on, exit 1).
check "zeek split" 0 'frame 6 10\.0\.0\.1:54321 > 10\.0\.0\.2:139 SESSION MESSAGE length=32 payload=SMB1
frame 6 10\.0\.0\.1:54321 > 10\.0\.0\.2:139 SESSION MESSAGE length=4 payload=SMB1' \
  "$nbt" decode --pcap "$src/pcaps/zeek/netbios-split-session-msg.pcap"
check "zeek truncated" 1 '^frame 6 10\.0\.0\.1:54321 > 10\.0\.0\.2:139 NBSS error ETRUNCATED at offset 104 \(stream ended inside a session message\)' \
  "$nbt" decode --pcap "$src/pcaps/zeek/netbios-truncated-session-msg.pcap"
"$nbt" decode --json --pcap "$src/pcaps/zeek/netbios-truncated-session-msg.pcap" >"$tmp/trunc.json"
jcheck "zeek truncated JSON" "$tmp/trunc.json" \
  'len(objs) == 1 and objs[0]["ok"] is False and objs[0]["error"] == {"code": "ETRUNCATED", "offset": 104, "field": "stream ended inside a session message"}'

# 3. Windows 10, SMB2 on 139 (two sessions) and on 445 (direct framing):
#    the same (frame, type, length) list as tshark.
ark=$src/pcaps/arkime/wireshark-smb-on-windows10.pcap
"$nbt" decode --json --pcap "$ark" >"$tmp/ark.json"; rc=$?
[ "$rc" -eq 0 ] && ok || bad "arkime rc=$rc"
tshark -r "$ark" -Y nbss -T fields -e frame.number -e nbss.type -e nbss.length \
  2>/dev/null >"$tmp/ark.tshark"
jcheck "arkime: same PDUs as tshark, 445 in direct mode" "$tmp/ark.json" \
  'sorted((o["frame"], o["type_code"], o["length"]) for o in objs) == sorted((int(f), int(t, 16), int(n)) for f, ts, ns in (l.rstrip("\n").split("\t") for l in open("'"$tmp/ark.tshark"'")) for t, n in zip(ts.split(","), ns.split(","))) and len(objs) == 84 and all(o["ok"] for o in objs) and all(o["mode"] == ("direct" if 445 in (o["sport"], o["dport"]) else "rfc") for o in objs) and sum(o["mode"] == "direct" for o in objs) > 0 and {o["payload"] for o in objs if o["type_code"] == 0} == {"SMB1", "SMB2"}'

# 4. nDPI: a 1-byte TCP keep-alive probe starts an unseen stream on 139; it
#    is not session data. The one SESSION REQUEST decodes.
"$nbt" decode --json --pcap "$src/pcaps/ndpi/netbios.pcap" >"$tmp/ndpi.json" 2>/dev/null
jcheck "ndpi: keep-alive probe ignored, request decoded" "$tmp/ndpi.json" \
  '[(o["frame"], o["called"], o["calling"]) for o in objs if o["proto"] == "nbss"] == [(261, "IBIFHQ11WS023<20>", "ROSFHQ07WS004<00>")] and all(o["ok"] for o in objs if o["proto"] == "nbss")'

# 5. Hex streams from the builders, one direction, RFC mode.
req=$("$nbt" build ssn request --called 'FRED<20>.NETBIOS.COM' --calling 'CLIENT<00>')
stream=$req$("$nbt" build ssn positive)$("$nbt" build ssn negative --code 0x83)$("$nbt" build ssn retarget --addr 10.1.2.3 --port 4139)$("$nbt" build ssn keepalive)$("$nbt" build ssn message --data fd534d42aa)$("$nbt" build ssn message)
"$nbt" decode --proto ssn "$stream" >"$tmp/hex.out"; rc=$?
cat >"$tmp/hex.want" <<'EOF'
SESSION REQUEST length=80 called=FRED<20>.NETBIOS.COM calling=CLIENT<00>
POSITIVE SESSION RESPONSE length=0
NEGATIVE SESSION RESPONSE length=1 code=0x83 (Called name present, but insufficient resources)
RETARGET SESSION RESPONSE length=6 addr=10.1.2.3 port=4139
SESSION KEEP ALIVE length=0
SESSION MESSAGE length=5 payload=SMB2 transform
SESSION MESSAGE length=0 payload=empty
EOF
if [ "$rc" -eq 0 ] && diff -u "$tmp/hex.want" "$tmp/hex.out"; then ok; else bad "hex stream rc=$rc"; fi
"$nbt" build ssn message --data ff534d42 --size 65541 >"$tmp/ebit.hex"
check "E bit message (stdin)" 0 '^SESSION MESSAGE length=65541 flags=0x01 payload=SMB1$' \
  "$nbt" decode --proto ssn - <"$tmp/ebit.hex"
check "unknown type" 1 'NBSS error EMALFORMED at offset 4 \(TYPE \(not a session packet type\)\)' \
  "$nbt" decode --proto ssn '82000000 86000000'
check "seed's E bit 0x80" 1 'NBSS error EMALFORMED at offset 1 \(FLAGS reserved bits \(must be zero\)\)' \
  "$nbt" decode --proto ssn 0080000568656c6c6f
check "truncated stream" 1 'NBSS error ETRUNCATED at offset 5 \(stream ended inside a session message\)' \
  "$nbt" decode --proto ssn 0000ffff41
scan=$("$nbt" build ssn request --called 'VMWINXP<20>' --calling 'PRINTER<00>')
check "request with a trailing byte" 1 'at offset 72 \(bytes after CALLING NAME' \
  "$nbt" decode --proto ssn "81000045${scan:8}ff"
check "unknown negative code: a finding, not a failure" 0 'code=0x84 \(Unknown error code\)
  finding NEG_CODE_UNKNOWN \(RFC 1002 4\.3\.4\) at 4' "$nbt" decode --proto ssn 8300000184
check "build: unknown negative code refused" 1 'invalid argument' \
  "$nbt" build ssn negative --code 0x84
check "build: control packet in direct mode refused" 1 'invalid argument' \
  "$nbt" build ssn positive --direct
check "build: over 17 bits in RFC mode refused" 1 'invalid argument' \
  "$nbt" build ssn message --size 0x20000
check "build: 24 bits in direct mode" 0 '^00020000' \
  "$nbt" build ssn message --size 0x20000 --direct
check "build: missing name" 2 'calling NAME is required' \
  "$nbt" build ssn request --called 'A<20>'
check "build: usage" 2 'usage: nbt build ssn' "$nbt" build ssn frobnicate

# 6. TCP ordering: the scanner's client stream cut into 7 segments, sent
#    reordered, with a retransmission and an overlap, decodes as in order; a
#    missing segment, and more held segments than the cap, are errors.
PYTHONPATH=$src/tests/oracle "$py" - "$nbt" "$tmp" <<'EOF'
import subprocess, sys
import nbtpcap, ssn_tshark as T
nbt, tmp = sys.argv[1], sys.argv[2]
def b(*a):
    return bytes.fromhex(subprocess.run([nbt, "build", "ssn"] + list(a),
                         capture_output=True, text=True).stdout.strip())
stream = (b("request", "--called", "VMWINXP<20>", "--calling", "PRINTER<00>")
          + b("message", "--data", "ff534d4272", "--size", "170")
          + b("keepalive") + b("message", "--data", "fe534d42", "--size", "300"))
isn = 5000
cuts = [0, 3, 50, 72, 100, 250, 255, len(stream)]
segs = [(isn + 1 + cuts[i], stream[cuts[i]:cuts[i + 1]]) for i in range(7)]
syn = T.tcp_frame(b"", 1044, 139, isn, 0x02)
fin = lambda: T.tcp_frame(b"", 1044, 139, isn + 1 + len(stream), 0x11)
seg = lambda s: T.tcp_frame(s[1], 1044, 139, s[0], 0x18)
inorder = [syn] + [seg(s) for s in segs] + [fin()]
overlap = (isn + 1 + 40, stream[40:120])
shuffled = ([syn, seg(segs[2]), seg(segs[0]), seg(segs[0]), seg(segs[1]),
             seg(overlap), seg(segs[5]), seg(segs[4]), seg(segs[3]),
             seg(segs[6]), seg(segs[6])] + [fin()])
gap = [syn] + [seg(s) for s in segs if s is not segs[3]] + [fin()]
many = [syn] + [T.tcp_frame(bytes([0]), 1044, 139, isn + 10 + 2 * i, 0x18)
                for i in range(70)]
for name, frames in (("inorder", inorder), ("shuffled", shuffled),
                     ("gap", gap), ("many", many)):
    nbtpcap.write_pcap("%s/%s.pcap" % (tmp, name), frames)
EOF
[ $? -eq 0 ] && ok || bad "writing the TCP ordering pcaps"
strip() { sed 's/^frame [0-9]* //'; }
"$nbt" decode --pcap "$tmp/inorder.pcap" | strip >"$tmp/inorder.out"
"$nbt" decode --pcap "$tmp/shuffled.pcap" | strip >"$tmp/shuffled.out"; rc=$?
if [ "$rc" -eq 0 ] && [ "$(wc -l <"$tmp/inorder.out")" -eq 4 ] &&
   diff -u "$tmp/inorder.out" "$tmp/shuffled.out"; then ok; else
  bad "reordered segments rc=$rc"; cat "$tmp/inorder.out"; fi
check "missing segment" 1 'NBSS error ETRUNCATED at offset 72 \(TCP sequence gap' \
  "$nbt" decode --pcap "$tmp/gap.pcap"
check "held segments over the cap" 1 'NBSS error ELIMIT at offset 0 \(out-of-order TCP segments over the cap' \
  "$nbt" decode --pcap "$tmp/many.pcap"

finish
