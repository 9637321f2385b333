#!/usr/bin/env bash
# replay_samba: `nbt replay` against Samba in a lab of network namespaces
# (tests/replay/test_replay_samba.py). Needs root and Samba; exits 77 (ctest
# SKIP) when either is missing.
set -u
nbt=${1:?usage: run.sh NBT}
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: the lab needs root (network namespaces)"; exit 77
fi
for tool in nmbd smbd nmblookup ip; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
/usr/bin/python3 -c 'import pytest, scapy' 2>/dev/null ||
  { echo "SKIP: /usr/bin/python3 lacks pytest or scapy"; exit 77; }
NBT=$(readlink -f "$nbt")
export NBT
cd "$here" || exit 1
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider \
  test_replay_samba.py
