#!/usr/bin/python3
# Gap-filling seeds from the coverage report (scripts/coverage, docs/FUZZING.md
# "Coverage"): inputs for branches no corpus reached. Each is hand-made here
# from RFC 1001/1002 and the decoder's documented limits (nb/name.h); none is
# taken from a capture. Writes corpus/<target>/<sha256> (scripts/corpus-add's
# naming); run it again after changing a seed.
import hashlib
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, "..", ".."))


def l1(raw16):
    return bytes(c for b in raw16 for c in (0x41 + (b >> 4), 0x41 + (b & 15)))


def name(text, suffix=0x20, scope=b""):
    out = bytes([32]) + l1(text.ljust(15, b" ")[:15] + bytes([suffix]))
    for label in scope.split(b".") if scope else []:
        out += bytes([len(label)]) + label
    return out + b"\0"


def chain(base, hops):
    """A name at `base`, then `hops` pointers, each to the one before it."""
    cells = b""
    prev = base
    for i in range(hops):
        cells += struct.pack(">H", 0xC000 | prev)
        prev = base + 34 + 2 * i
    return cells, prev  # prev: offset of the last pointer


seeds = {"name": [], "ns_packet": []}

# fuzz_name: byte 0 is the start offset. A chain of 10 pointers is the most
# the decoder follows (NB_NAME_MAX_HOPS); 11 must fail with NB_ELIMIT.
for hops in (10, 11):
    cells, last = chain(0, hops)
    seeds["name"].append(bytes([last]) + name(b"CHAIN") + cells)
# fuzz_name also parses the whole input as text: escapes in upper and lower
# case hex, a lone backslash, a bad escape, a bad or trailing suffix, empty
# scope labels, a 16-byte name, the wildcard with a suffix.
seeds["name"] += [
    b"A\\x4Ab\\x4ac<1B>",
    b"A\\\\B<20>",
    b"A\\qB",
    b"A\\x4",
    b"FOO<2G>",
    b"FOO<20>x",
    b"FOO<20>.",
    b"FOO<20>.a..b",
    b"SIXTEENBYTENAMES",
    b"*<00>.scope",
]

# fuzz_ns_packet: a NAME QUERY RESPONSE whose NS RDATA (a NULL record's
# bytes hold the chain) needs 11 hops, and one needing 10.
for hops in (10, 11):
    q = name(b"CHAIN")
    hdr = struct.pack(">6H", 0x7777, 0x8500, 1, 2, 0, 0)
    # question at 12; answer 1: NULL record whose RDATA is the chain cells;
    # answer 2: NS record whose RDATA points at the last cell.
    an1_name = struct.pack(">H", 0xC00C)
    rdata_at = 12 + len(q) + 4 + len(an1_name) + 10
    cells = b""
    prev = 12
    for i in range(hops - 1):
        cells += struct.pack(">H", 0xC000 | prev)
        prev = rdata_at + 2 * i
    an1 = an1_name + struct.pack(">HHIH", 0x000A, 1, 0, len(cells)) + cells
    ns_rdata = struct.pack(">H", 0xC000 | prev)
    an2 = struct.pack(">H", 0xC00C) + struct.pack(">HHIH", 0x0002, 1, 0, 2) + ns_rdata
    seeds["ns_packet"].append(hdr + q + struct.pack(">HH", 0x20, 1) + an1 + an2)

for target, items in seeds.items():
    out = os.path.join(root, "corpus", target)
    os.makedirs(out, exist_ok=True)
    for s in items:
        with open(os.path.join(out, hashlib.sha256(s).hexdigest()), "wb") as f:
            f.write(s)
    print(f"{len(items)} seeds in corpus/{target}")
