#!/usr/bin/env bash
# nbt decode / nbt build for the datagram service (UDP 138): the browser
# datagrams of two real captures show who announces on the LAN (Windows 98
# MDJR98 in pcaps/arkime/nbns.pcap, Windows 7 NVR9 and BOWIE in
# pcaps/ndpi/netbios.pcap, which is pcapng), JSON fields, errors with
# offsets that do not stop the run, and `nbt build dgm` against bytes laid
# out by hand from RFC 1002 4.4 (names encoded by a few lines of python,
# independently of nbtkit).
# usage: decode_dgm.sh NBT
set -u
nbt=$1
here=$(cd "$(dirname "$0")/../.." && pwd)
py=/usr/bin/python3
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ark=$here/pcaps/arkime/nbns.pcap
ndpi=$here/pcaps/ndpi/netbios.pcap

# Who is announcing: host, local master and domain announcements.
check "w98 host announcement" 0 \
  'frame 30 .*DIRECT_GROUP DATAGRAM .*MDJR98<00> > WORKGROUP<1d>' "$nbt" decode --pcap "$ark"
check "w98 announcer" 0 \
  'browser HostAnnouncement server=MDJR98 os=4\.0 type=0x00402003 \(workstation,server,wfw,windows\)' \
  "$nbt" decode --pcap "$ark"
check "w98 local master" 0 'browser LocalMasterAnnouncement server=MDJR98 .*master_browser' \
  "$nbt" decode --pcap "$ark"
check "w98 domain announcement" 0 \
  'browser DomainAnnouncement server=WORKGROUP .*domain_enum.* comment="MDJR98"' \
  "$nbt" decode --pcap "$ark"
check "w98 election" 0 'browser RequestElection version=1 criteria=0x01041500 uptime=105871ms name="MDJR98"' \
  "$nbt" decode --pcap "$ark"
check "mailslot name" 0 'mailslot \\MAILSLOT\\BROWSE priority=1 class=2' "$nbt" decode --pcap "$ark"
count "w98: 15 browser datagrams" 15 '^  mailslot \\MAILSLOT\\BROWSE' "$nbt" decode --pcap "$ark"
count "w98: no datagram findings" 0 'finding' "$nbt" decode --pcap "$ark"
check "w7 hosts (pcapng)" 0 'server=NVR9 os=6\.1 .*potential_browser' "$nbt" decode --pcap "$ndpi"
check "w7 SNT 11" 0 'flags=0x0e \(NBDD FIRST\) src=10\.0\.5\.9:138' "$nbt" decode --pcap "$ndpi"
count "w7: two announcers" 2 'browser HostAnnouncement server=(NVR9|BOWIE) ' "$nbt" decode --pcap "$ndpi"

# JSON: one object per datagram with the announcement fields.
check "json" 0 '"proto":"nbdgm","msg_type":17,"type_name":"DIRECT_GROUP DATAGRAM","flags":"0x0e",.*"dgm_length":187,"packet_offset":0,"fragment":"whole","source_name":\{"name":"BOWIE<20>"' \
  "$nbt" decode --json --pcap "$ndpi"
check "json browser" 0 '"smb":\{"mailslot":"\\\\MAILSLOT\\\\BROWSE","opcode":1,"priority":0,"class":2,"timeout":1000,"data_len":33\},"browser":\{"opcode":1,"command":"HostAnnouncement","server":"BOWIE","os_major":6,"os_minor":1,"server_type":"0x00011007"' \
  "$nbt" decode --json --pcap "$ndpi"
json_ok=$("$nbt" decode --json --pcap "$ark" | "$py" -c 'import json, sys
objs = [json.loads(l) for l in sys.stdin]
dg = [o for o in objs if o["proto"] == "nbdgm"]
hosts = sorted({o["browser"]["server"] for o in dg if "server" in o.get("browser", {})})
print(len(dg), all(o["ok"] and o["findings"] == [] for o in dg), ",".join(hosts))')
if [ "$json_ok" = "15 True MDJR98,WORKGROUP" ]; then ok; else
  bad "json parse of the arkime datagrams: $json_ok"; fi

# Errors carry the offset and field; the run goes on; exit code 1.
src=$(enc FRED 00); wg=$(enc WORKGROUP 1d)
good="110200017f000001008a00490000${src}${wg}68656c6c6f"
check "hex datagram" 0 'DIRECT_GROUP DATAGRAM id=0x0001 .* FRED<00> > WORKGROUP<1d> user_data=5$' \
  "$nbt" decode --proto dgm "$good"
check "lying DGM_LENGTH" 1 'NBDGM error ETRUNCATED at offset 87 \(data section \(shorter than DGM_LENGTH\)\)' \
  "$nbt" decode --proto dgm "110200017f000001008a03e70000${src}${wg}68656c6c6f"
check "pointer" 1 'NBDGM error EMALFORMED at offset 48 \(label pointer' \
  "$nbt" decode --proto dgm "110200017f000001008a00240000${src}c00e"
check "unknown type" 1 '"ok":false,"error":\{"code":"EMALFORMED","offset":0,"field":"MSG_TYPE \(unknown\)"\}' \
  "$nbt" decode --json --proto dgm 200200017f000001008a
check "truncated header" 1 'NBDGM error ETRUNCATED at offset 2 \(DGM_ID\)' \
  sh -c "printf '1102\n130000017f000001008a82\n' | '$nbt' decode --proto dgm -"
check "run continues" 1 'DATAGRAM ERROR id=0x0001 .* code=0x82 \(DESTINATION NAME NOT PRESENT\)' \
  sh -c "printf '1102\n130000017f000001008a82\n' | '$nbt' decode --proto dgm -"
check "finding" 0 'finding trailing-bytes \(RFC 1002 4.4\) at 84' \
  "$nbt" decode --proto dgm "110200017f000001008a00460000${src}${wg}68656c6c6f"
check "json finding" 0 '"findings":\[\{"rule":"error-flags","rfc":"RFC 1002 5.3.3","offset":1,' \
  "$nbt" decode --json --proto dgm 130200017f000001008a82
check "not a browser" 0 'smb error EMALFORMED at offset 86 \(SMB command' \
  "$nbt" decode --proto dgm "110200017f000001008a00490000${src}${wg}ff534d4272"

# nbt build dgm against RFC 1002 4.4 layouts written here.
want() { want_build dgm "$@"; } # want DESC EXPECTED ARGS...
hdr() { printf '%02x%02x%04x%s%04x' "$1" "$2" "$3" "$4" "$5"; } # type flags id ip port
dst=$(enc HOST1 20); star=$(enc '*' 00)
want "direct-unique" "$(hdr 16 2 0x1234 0a000001 138)00490000${src}${dst}68656c6c6f" \
  direct-unique --src 'FRED<00>' --dst 'HOST1' --src-ip 10.0.0.1 --id 0x1234 --data 68656c6c6f
want "direct-group snt m" "$(hdr 17 10 1 0a000001 138)00440000${src}${wg}" \
  direct-group --src 'FRED<00>' --dst 'WORKGROUP<1d>' --src-ip 10.0.0.1 --snt m
want "broadcast to *" "$(hdr 18 2 7 c0a80001 5000)00450000${src}${star}ff" \
  broadcast --src 'FRED<00>' --src-ip 192.168.0.1 --src-port 5000 --id 7 --data ff
want "error 0x83" "$(hdr 19 0 1 7f000001 138)83" error --code 0x83
want "query request" "$(hdr 20 0 1 7f000001 138)${wg}" query-request --dst 'WORKGROUP<1d>'
want "positive response" "$(hdr 21 0 1 7f000001 138)${wg}" positive-query-response --dst 'WORKGROUP<1d>'
want "negative response" "$(hdr 22 0 1 7f000001 138)${wg}" negative-query-response --dst 'WORKGROUP<1d>'
# AnnouncementRequest: Samba's mailslot layout around opcode 2, unused 0,
# the response name.
smb="ff534d4225$(printf '0%.0s' {1..54})11000009000000000000000000000000000000000000000900560003000100000002001a00"
smb="${smb}5c4d41494c534c4f545c42524f5753450002004d444a52393800"
want "announce-request" "$(hdr 17 2 14 c0a8ef81 138)00a30000$(enc MDJR98 20)${wg}${smb}" \
  announce-request --src 'MDJR98<20>' --dst 'WORKGROUP<1d>' --src-ip 192.168.239.129 --id 14
# 512 bytes of user data: two fragments at the default 548-byte payload.
big=$("$py" -c 'print("5a" * 512)')
frags=$("$nbt" build dgm direct-unique --src 'A<00>' --dst 'B<00>' --data "$big")
if [ "$(printf '%s\n' "$frags" | wc -l)" -eq 2 ] &&
   [ "$(printf '%s\n' "$frags" | head -1 | cut -c1-28)" = "$(hdr 16 3 1 7f000001 138)02440000" ] &&
   [ "$(printf '%s\n' "$frags" | tail -1 | cut -c1-28)" = "$(hdr 16 0 1 7f000001 138)02440216" ] &&
   [ "$(printf '%s\n' "$frags" | head -1 | wc -c)" -eq $((548 * 2 + 1)) ]; then
  ok; else bad "fragments: $(printf '%s\n' "$frags" | cut -c1-190)"; fi
count "fragments decode" 2 '^DIRECT_UNIQUE DATAGRAM .* len=580 off=(0 first|534 last)' \
  sh -c "printf '%s\n' '$frags' | '$nbt' decode --proto dgm -"
check "three fragments" 0 'len=580 off=236 middle data=236' \
  sh -c "'$nbt' build dgm direct-unique --src 'A<00>' --dst 'B<00>' --data $big --max-payload 250 | '$nbt' decode --proto dgm -"
count "three fragments" 3 '^' "$nbt" build dgm direct-unique --src 'A<00>' --dst 'B<00>' --data "$big" --max-payload 250
check "data over 512" 1 'limit exceeded' "$nbt" build dgm direct-unique --src 'A<00>' --dst 'B<00>' --data "${big}00"
check "missing --src" 2 '--src NAME is required' "$nbt" build dgm direct-group --dst 'B<00>'
check "bad name" 1 "--dst 'ABCDEFGHIJKLMNOP'" "$nbt" build dgm direct-group --src A --dst ABCDEFGHIJKLMNOP
check "option not for kind" 2 'option not valid' "$nbt" build dgm error --code 0x82 --dst A
check "unknown kind" 2 "unknown kind 'frob'" "$nbt" build dgm frob
check "help" 0 'host-announcement' "$nbt" build dgm --help
finish
