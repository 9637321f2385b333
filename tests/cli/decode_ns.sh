#!/usr/bin/env bash
# nbt decode, name service: the done-means capture, hex and stdin input,
# failures that report error + offset and let the run continue, pcapng, a
# snaplen-truncated capture, every link type the driver claims, exit codes.
# usage: decode_ns.sh NBT SOURCE_DIR
set -u
nbt=$1
src=$2
py=/usr/bin/python3
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

full=$src/pcaps/node-netbios/netbios-ns-b-full-query.pcap
q=82c701100001000000000000204649464a454c4550454f434e44434341434143414341434143414341434141410000200001

# The done-means command: four packets, with their kinds, in order.
"$nbt" decode --pcap "$full" --json >"$tmp/full.json" 2>"$tmp/full.err"
rc=$?
[ "$rc" -eq 0 ] && ok || bad "full-query rc=$rc: $(cat "$tmp/full.err")"
jcheck "full-query: four objects with kinds" "$tmp/full.json" \
  '[o["kind"] for o in objs] == ["NAME QUERY REQUEST", "POSITIVE NAME QUERY RESPONSE", "NODE STATUS REQUEST", "NODE STATUS RESPONSE"]'
jcheck "full-query: common fields" "$tmp/full.json" \
  '[o["frame"] for o in objs] == [1, 2, 3, 4] and objs[0]["src"] == "10.0.1.12" and objs[0]["dst"] == "10.0.1.255" and all(o["sport"] == 137 and o["dport"] == 137 and o["proto"] == "nbns" and o["ok"] for o in objs) and objs[0]["ts"] > 1e9'
jcheck "full-query: query fields" "$tmp/full.json" \
  'objs[0]["trn_id"] == 0x82c7 and objs[0]["flags_word"] == "0x0110" and objs[0]["nm_flags"]["b"] and objs[0]["nm_flags"]["rd"] and objs[0]["questions"][0]["name"] == "XYKON-2<00>" and objs[0]["questions"][0]["type_name"] == "NB" and objs[0]["qdcount"] == 1'
jcheck "full-query: answer NB entry" "$tmp/full.json" \
  'objs[1]["answers"][0]["ttl"] == 3572 and objs[1]["answers"][0]["nb"] == [{"flags": "0x0000", "g": False, "ont": "B", "addr": "10.0.1.6"}]'
jcheck "full-query: NBSTAT entries" "$tmp/full.json" \
  'objs[3]["answers"][0]["nbstat"]["num_names"] == 1 and objs[3]["answers"][0]["nbstat"]["names"][0]["name"] == "XYKON-2<00>" and objs[3]["answers"][0]["nbstat"]["names"][0]["act"] and objs[3]["answers"][0]["nbstat"]["statistics_len"] == 46'
jcheck "findings are objects with rule, rfc, offset, text" "$tmp/full.json" \
  'all(set(f) == {"rule", "rfc", "offset", "text"} and f["rfc"].startswith("RFC 1002") for o in objs for f in o["findings"])'

check "full-query text" 0 '^frame 4 10\.0\.1\.6:137 > 10\.0\.1\.12:137 NODE STATUS RESPONSE trn=0x82c6' \
  "$nbt" decode --pcap "$full"
check "text continuation" 0 '^  question XYKON-2<00> NB class=1$' "$nbt" decode --pcap "$full"
check "hex text" 0 '^NAME QUERY REQUEST trn=0x82c7 flags=0x0110 \(request query RD B\) rcode=OK qd=1 an=0 ns=0 ar=0$' \
  "$nbt" decode "$q"
check "hex with separators" 0 '"kind":"NAME QUERY REQUEST"' "$nbt" decode --json "82:c7 01 10:00 01 ${q:12}"

# Failures: error and offset, exit 1.
check "bad hex" 1 'NBNS error EMALFORMED at offset 3 \(hex input\): invalid hex' "$nbt" decode 82cz
check "odd hex" 1 'EMALFORMED at offset 2 \(hex input\)' "$nbt" decode 82c
check "truncated header" 1 '^NBNS error ETRUNCATED at offset [0-9]+ ' "$nbt" decode 82c70110
check "truncated question" 1 '"ok":false,"error":\{"code":"ETRUNCATED","offset":[1-9][0-9]*,' "$nbt" decode --json "${q:0:80}"

# stdin: one packet per line; bad lines fail and the run continues.
printf '# a comment\n%s\n\n82cz\n%s\n%s\n' "$q" "${q:0:80}" "$q" \
  | "$nbt" decode --json - >"$tmp/stdin.json" 2>&1
rc=$?
[ "$rc" -eq 1 ] && ok || bad "stdin mixed rc=$rc (want 1)"
jcheck "stdin: four objects, two failed, run continued" "$tmp/stdin.json" \
  '[o["ok"] for o in objs] == [True, False, False, True] and objs[1]["error"] == {"code": "EMALFORMED", "offset": 3, "field": "hex input"} and objs[2]["error"]["code"] == "ETRUNCATED" and objs[3]["kind"] == "NAME QUERY REQUEST"'
printf '%s\n%s\n' "$q" "$q" | "$nbt" decode - >"$tmp/stdin.txt" 2>&1
rc=$?
[ "$rc" -eq 0 ] && [ "$(grep -c '^NAME QUERY REQUEST' "$tmp/stdin.txt")" -eq 2 ] && ok \
  || bad "stdin two good lines rc=$rc: $(cat "$tmp/stdin.txt")"

# pcapng: every UDP 137 frame tshark sees, in order.
ng=$src/pcaps/ndpi/netbios.pcap
"$nbt" decode --json --pcap "$ng" >"$tmp/ng.json" 2>"$tmp/ng.err"
rc=$?
[ "$rc" -eq 0 ] && ok || bad "pcapng rc=$rc: $(cat "$tmp/ng.err")"
tshark -r "$ng" -Y 'udp.port == 137' -T fields -e frame.number 2>/dev/null | tr '\n' ' ' >"$tmp/ng.frames"
jcheck "pcapng: same NBNS frames as tshark" "$tmp/ng.json" \
  "[o['frame'] for o in objs if o['proto'] == 'nbns'] == [int(x) for x in '$(cat "$tmp/ng.frames")'.split()] and len([o for o in objs if o['proto'] == 'nbns']) == 256 and all(o['ok'] for o in objs if o['proto'] == 'nbns')"
# Its datagrams and session segments are decoded, or (while those decoders
# are not built) noted on stderr as not decoded: never silently dropped.
if grep -q '"proto":"nbdgm"' "$tmp/ng.json" || grep -q 'not decoded' "$tmp/ng.err"; then ok; else bad "pcapng: datagrams neither decoded nor noted"; fi

# A snaplen-truncated capture: the packet fails, the run reports it.
check "snaplen-truncated capture" 1 'NBNS error ETRUNCATED at offset' \
  "$nbt" decode --pcap "$src/pcaps/tcpdump/nbns-valgrind.pcap"

# Link types and IPv4 details: rewrite the Ethernet capture as SLL, SLL2,
# raw IP, LINKTYPE_IPV4, BSD loopback (both byte orders), DLT_LOOP and
# 802.1Q; add Ethernet padding; add an IPv4 fragment and an ARP frame that
# must be skipped. Every variant must decode like the original.
"$py" - "$full" "$tmp" <<'EOF'
import struct, sys
src, out = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
hdr, body = data[:24], data[24:]
frames = []
while body:
    ts, us, cap, wire = struct.unpack("<IIII", body[:16])
    frames.append((ts, us, body[16:16 + cap]))
    body = body[16 + cap:]
def write(name, linktype, conv, extra=()):
    with open("%s/%s.pcap" % (out, name), "wb") as f:
        f.write(hdr[:20] + struct.pack("<I", linktype))
        for ts, us, fr in list(frames) + list(extra):
            new = conv(fr)
            f.write(struct.pack("<IIII", ts, us, len(new), len(new)) + new)
ip = lambda fr: fr[14:]
write("sll", 113, lambda fr: struct.pack("!HHH8sH", 0, 1, 6, fr[6:12] + b"\0\0", 0x0800) + ip(fr))
write("sll2", 276, lambda fr: struct.pack("!HHIHBB8s", 0x0800, 0, 1, 1, 0, 6, fr[6:12] + b"\0\0") + ip(fr))
write("raw", 101, ip)
write("ipv4", 228, ip)
write("null_le", 0, lambda fr: struct.pack("<I", 2) + ip(fr))
write("null_be", 0, lambda fr: struct.pack(">I", 2) + ip(fr))
write("loop", 108, lambda fr: struct.pack(">I", 2) + ip(fr))
write("vlan", 1, lambda fr: fr[:12] + struct.pack("!HH", 0x8100, 5) + fr[12:])
write("padded", 1, lambda fr: fr + b"\xee" * 23)
frag = bytearray(frames[0][2]); frag[14 + 6] = 0x20  # MF set
arp = frames[0][2][:12] + b"\x08\x06" + bytes(28)
write("extra", 1, lambda fr: fr, [(1, 0, bytes(frag)), (1, 0, arp)])
EOF
"$nbt" decode --json --pcap "$full" | sed 's/"ts":[^,]*,//' >"$tmp/ref.json"
for v in sll sll2 raw ipv4 null_le null_be loop vlan padded; do
  "$nbt" decode --json --pcap "$tmp/$v.pcap" 2>&1 | sed 's/"ts":[^,]*,//' >"$tmp/$v.json"
  cmp -s "$tmp/ref.json" "$tmp/$v.json" && ok || bad "link type $v differs: $(head -c 300 "$tmp/$v.json")"
done
"$nbt" decode --json --pcap "$tmp/extra.pcap" >"$tmp/extra.json" 2>"$tmp/extra.err"
rc=$?
[ "$rc" -eq 0 ] && [ "$(wc -l <"$tmp/extra.json")" -eq 4 ] && grep -q '1 IPv4 fragments skipped' "$tmp/extra.err" \
  && ok || bad "fragment/ARP skipping rc=$rc: $(cat "$tmp/extra.err")"

# Exit codes.
check "usage: nothing" 2 'usage: nbt decode' "$nbt" decode
check "usage: both inputs" 2 'usage: nbt decode' "$nbt" decode --pcap "$full" "$q"
check "usage: bad proto" 2 "unknown --proto 'x'" "$nbt" decode --proto x "$q"
check "help" 0 'usage: nbt decode' "$nbt" decode --help
check "missing file" 3 'nbt: decode: .*nonexistent' "$nbt" decode --pcap "$tmp/nonexistent.pcap"
check "not a capture" 3 'nbt: decode: ' "$nbt" decode --pcap "$src/README.md"

finish
