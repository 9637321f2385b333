#!/usr/bin/env bash
# nbt name: the RFC vector, JSON fields, and clean failures on bad input.
set -u
nbt=$1
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
check "FRED first level" 0 '^EGFCEFEECACACACACACACACACACACACA$' "$nbt" name encode FRED
check "FRED wire" 0 '^20454746434546454543414341434143414341434143414341434143414341434100$' "$nbt" name encode FRED
check "scoped wire" 0 '074e455442494f5303434f4d00$' "$nbt" name encode 'FRED<20>.NETBIOS.COM'
check "wildcard" 0 '^CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA$' "$nbt" name encode '*<00>'
check "decode" 0 '^FRED<20>$' "$nbt" name decode 20454746434546454543414341434143414341434143414341434143414341434100
check "decode json" 0 '"text":"VMWINXP<20>.example.com".*"suffix":32,"scope":"example.com"' \
  "$nbt" name decode --json '204647454e4648454a454f46494641434143414341434143414341434143414341076578616d706c6503636f6d00'
check "pointer via --offset" 0 '^VMWINXP<00>$' "$nbt" name decode --offset 50 \
  8d8f29000001000000000001204647454e4648454a454f464946414341434143414341434143414341434141410000200001c00c00200001000493e000066000c0a8cf80
check "bad hex" 1 'invalid hex at character 3' "$nbt" name decode 204z
check "odd hex" 1 'invalid hex at character 2' "$nbt" name decode 204
check "bad first label" 1 'malformed input at byte 0: first label not 32 bytes' "$nbt" name decode 1f00
check "bad character" 1 'at byte 3: first label character not A-P' "$nbt" name decode 2045475a4345464545434143414341434143414341434143414341434143414341434100
check "truncated" 1 'truncated input at byte 33' "$nbt" name decode 204547464345464545434143414341434143414341434143414341434143414341
check "name too long" 1 'limit exceeded at character 15: name longer than 15 bytes' "$nbt" name encode ABCDEFGHIJKLMNOP
check "bad suffix" 1 'suffix' "$nbt" name encode 'FRED<2x>'
check "usage" 2 'usage: nbt name' "$nbt" name frobnicate x
check "unknown command" 2 'unknown command' "$nbt" frobnicate
finish
