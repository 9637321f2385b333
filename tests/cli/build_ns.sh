#!/usr/bin/env bash
# nbt build ns: the interface the conformance lab uses. Every kind's bytes
# are compared with the RFC 1002 4.2 diagram, written out here by hand
# (names encoded by a few lines of python, independently of nbtkit), and
# bad command lines fail with exit 2. tests/oracle/ns_tshark.py checks the
# same kinds through tshark.
# usage: build_ns.sh NBT
set -u
nbt=$1
py=/usr/bin/python3
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

want() { want_build ns "$@"; } # want DESC EXPECTED_HEX ARGS...
# h TRN FLAGS QD AN NS AR: the 12-byte header (RFC 1002 4.2.1.1).
h() { printf '%04x%04x%04x%04x%04x%04x' "$1" "$2" "$3" "$4" "$5" "$6"; }

FRED00=$(enc FRED 00)
FRED20=$(enc FRED 20)
STAR=$(enc '*' 00)
NB=00200001     # type NB, class IN
NBSTAT=00210001 # type NBSTAT, class IN
AR=c00c$NB      # additional RR_NAME: pointer to offset 12 (4.2.2)

# Requests (4.2.2-4.2.4, 4.2.9, 4.2.12, 4.2.17): trn, flags word, counts.
want "query bcast (4.2.12)" "$(h 0x1234 0x0110 1 0 0 0)${FRED00}${NB}" \
  query --name 'FRED<00>' --trn 0x1234 --bcast
want "query unicast" "$(h 0x0001 0x0100 1 0 0 0)${FRED20}${NB}" query --name FRED
want "query --no-rd" "$(h 0x0007 0x0010 1 0 0 0)${FRED00}${NB}" \
  query --name 'FRED<00>' --trn 7 --bcast --no-rd
want "query scoped (4.1)" "$(h 1 0x0100 1 0 0 0)$(enc FRED 20 | sed 's/00$//')074e455442494f5303434f4d00${NB}" \
  query --name 'FRED.NETBIOS.COM'
want "status (4.2.17)" "$(h 0x0009 0x0000 1 0 0 0)${STAR}${NBSTAT}" \
  status --name '*<00>' --trn 9
want "register bcast (4.2.2)" "$(h 0x0002 0x2910 1 0 0 1)${FRED00}${NB}${AR}000493e000060000c0a80001" \
  register --name 'FRED<00>' --addr 192.168.0.1 --bcast --trn 2
want "register group H ttl" "$(h 0x0003 0x2900 1 0 0 1)${FRED00}${NB}${AR}0000003c0006e0000a000001" \
  register --name 'FRED<00>' --addr 10.0.0.1 --group --ont h --ttl 60 --trn 3
want "overwrite (4.2.3)" "$(h 0x0004 0x2810 1 0 0 1)${FRED00}${NB}${AR}000493e0000620000a000001" \
  overwrite --name 'FRED<00>' --addr 10.0.0.1 --ont p --bcast --trn 4
want "refresh (4.2.4, opcode 8)" "$(h 0x0005 0x4000 1 0 0 1)${FRED00}${NB}${AR}000493e0000640000a000001" \
  refresh --name 'FRED<00>' --addr 10.0.0.1 --ont m --trn 5
want "refresh opcode 9" "$(h 0x0005 0x4800 1 0 0 1)${FRED00}${NB}${AR}000493e0000600000a000001" \
  refresh --name 'FRED<00>' --addr 10.0.0.1 --opcode 9 --trn 5
want "release (4.2.9, TTL 0)" "$(h 0x0006 0x3010 1 0 0 1)${FRED00}${NB}${AR}00000000000600000a000001" \
  release --name 'FRED<00>' --addr 10.0.0.1 --bcast --trn 6
want "release with an explicit TTL" "$(h 0x0006 0x3000 1 0 0 1)${FRED00}${NB}${AR}00000005000600000a000001" \
  release --name 'FRED<00>' --addr 10.0.0.1 --ttl 5 --trn 6
want "multihomed (opcode 0xF)" "$(h 0x0008 0x7900 1 0 0 1)${FRED00}${NB}${AR}000493e0000600000a000001" \
  multihomed --name 'FRED<00>' --addr 10.0.0.1 --trn 8
want "register --ar-name-full" "$(h 0x0002 0x2910 1 0 0 1)${FRED00}${NB}${FRED00}${NB}000493e000060000c0a80001" \
  register --name 'FRED<00>' --addr 192.168.0.1 --bcast --trn 2 --ar-name-full

# Responses (4.2.5-4.2.8, 4.2.10, 4.2.11, 4.2.13-4.2.16, 4.2.18).
want "query-response two addrs (4.2.13)" "$(h 0x0010 0x8500 0 1 0 0)${FRED00}${NB}000493e0000c00000a00000100000a000002" \
  query-response --name 'FRED<00>' --addr 10.0.0.1,10.0.0.2 --trn 0x10
want "query-response RA group" "$(h 0x0011 0x8580 0 1 0 0)${FRED00}${NB}0000003c000680000a000001" \
  query-response --name 'FRED<00>' --addr 10.0.0.1 --ra --group --ttl 60 --trn 0x11
want "registration-response positive (4.2.5)" "$(h 0x0012 0xad80 0 1 0 0)${FRED00}${NB}000493e0000600000a000001" \
  registration-response --name 'FRED<00>' --addr 10.0.0.1 --trn 0x12
want "registration-response ACT_ERR (4.2.6)" "$(h 0x0013 0xad86 0 1 0 0)${FRED00}${NB}00000000000600000a000001" \
  registration-response --name 'FRED<00>' --addr 10.0.0.1 --rcode 6 --ttl 0 --trn 0x13
want "challenge (4.2.7)" "$(h 0x0014 0xad00 0 1 0 0)${FRED00}${NB}000493e0000600000a000001" \
  challenge-response --name 'FRED<00>' --addr 10.0.0.1 --trn 0x14
want "conflict demand with address" "$(h 0x0015 0xad87 0 1 0 0)${FRED00}${NB}00000000000600000a000001" \
  conflict-demand --name 'FRED<00>' --addr 10.0.0.1 --trn 0x15
want "conflict demand, RFC address 0 (4.2.8)" "$(h 0x0015 0xad87 0 1 0 0)${FRED00}${NB}000000000006200000000000" \
  conflict-demand --name 'FRED<00>' --ont p --trn 0x15
want "release-response positive (4.2.10)" "$(h 0x0016 0xb400 0 1 0 0)${FRED00}${NB}00000000000600000a000001" \
  release-response --name 'FRED<00>' --addr 10.0.0.1 --trn 0x16
want "release-response RFS_ERR (4.2.11)" "$(h 0x0017 0xb405 0 1 0 0)${FRED00}${NB}00000000000600000a000001" \
  release-response --name 'FRED<00>' --addr 10.0.0.1 --rcode 5 --trn 0x17
want "wack (4.2.16, NULL 0x000A)" "$(h 0x0018 0xbc00 0 1 0 0)${FRED00}000a00010000003c00022900" \
  wack --name 'FRED<00>' --trn 0x18
want "wack request flags" "$(h 0x0019 0xbc00 0 1 0 0)${FRED00}000a00010000000200024010" \
  wack --name 'FRED<00>' --ttl 2 --request-flags 0x4010 --trn 0x19
# raw NAME SUFFIX: the 16 unencoded bytes of a NODE_NAME entry (4.2.18).
raw() { printf '%-15s' "$1" | od -An -tx1 | tr -d ' \n'; printf '%s' "$2"; }
STATS0=$(printf '0%.0s' $(seq 1 80)) # the 40 STATISTICS bytes after UNIT_ID
want "status-response (4.2.18)" "$(h 0x001a 0x8400 0 1 0 0)${FRED20}${NBSTAT}00000000005302$(raw FRED 00)0400$(raw WORKGROUP 1e)8400000c290d0656${STATS0}" \
  status-response --name 'FRED<20>' --entry 'FRED<00>' --entry 'WORKGROUP<1e>:G,ACT' --unit-id 00:0c:29:0d:06:56 --trn 0x1a
want "alias pos-query" "$(h 0x0010 0x8500 0 1 0 0)${FRED00}${NB}000493e0000600000a000001" \
  pos-query --name 'FRED<00>' --addr 10.0.0.1 --trn 0x10
want "alias neg-release defaults to ACT_ERR" "$(h 0x0017 0xb406 0 1 0 0)${FRED00}${NB}00000000000600000a000001" \
  neg-release --name 'FRED<00>' --addr 10.0.0.1 --trn 0x17
want "raw --flags" "$(h 0x0001 0xffff 1 0 0 0)${FRED20}${NB}" query --name FRED --flags 0xffff

# negative-query-response: 4.2.14's diagram contradicts itself (ANCOUNT 0
# above a NULL record); flags and RCODE are fixed, the record is checked by
# the tshark oracle.
check "negative-query-response" 0 "^001b8503" "$nbt" build ns negative-query-response --name FRED --trn 0x1b
check "redirect" 0 "^001c8100000000000001000" "$nbt" build ns redirect --name 'DOM<00>' --nsd-name NBNS --nsd-addr 10.9.9.9 --trn 0x1c

# Bad command lines: exit 2, saying what is wrong.
check "unknown kind" 2 "unknown kind 'frob'" "$nbt" build ns frob --name X
check "missing --name" 2 'missing a required option' "$nbt" build ns query
check "missing --addr" 2 'missing a required option' "$nbt" build ns register --name X
check "option not for kind" 2 "unexpected '--ra'" "$nbt" build ns query --name X --ra
check "bad address" 2 "bad --addr '10.0.0.256'" "$nbt" build ns register --name X --addr 10.0.0.256
check "bad address list" 2 "bad --addr" "$nbt" build ns query-response --name X --addr 10.0.0.1,
check "bad ont" 2 "bad --ont 'x'" "$nbt" build ns register --name X --addr 1.2.3.4 --ont x
check "bad name" 2 "name 'ABCDEFGHIJKLMNOPQ'" "$nbt" build ns query --name ABCDEFGHIJKLMNOPQ
check "bad trn" 2 "bad --trn '65536'" "$nbt" build ns query --name X --trn 65536
check "bad entry flags" 2 "bad --entry" "$nbt" build ns status-response --name X --entry 'A<00>:FOO'
check "bad mac" 2 "bad --unit-id" "$nbt" build ns status-response --name X --unit-id 00:11:22
check "option without value" 2 "unexpected '--name'" "$nbt" build ns query --name
check "unknown protocol" 2 "unknown protocol 'xx'" "$nbt" build xx
check "help" 0 'negative-query-response' "$nbt" build ns --help
check "build help" 0 'usage: nbt build PROTO' "$nbt" build --help

finish
