#!/usr/bin/python3
# Seeds for fuzz_name: byte 0 = start offset (bit 7: pointers forbidden),
# then a message holding the name. Writes corpus/name/<sha256>.
# Provenance: RFC 1002 4.1 (FRED), RFC 1001 14.1 (corrected), Windows XP
# captures in shared/pcaps-external/node-netbios/ (BSD-2-Clause, seed repo),
# and hand-made bug shapes (Samba OSS-Fuzz 20193, CVE-2020-10745).
import hashlib, os, sys

def l1(raw16):
    return bytes(c for b in raw16 for c in (0x41 + (b >> 4), 0x41 + (b & 15)))

def name(text, suffix=0x20, scope=b"", pad=b" "):
    raw = text.ljust(15, pad)[:15] + bytes([suffix])
    out = bytes([32]) + l1(raw)
    for label in scope.split(b".") if scope else []:
        out += bytes([len(label)]) + label
    return out + b"\0"

seeds = [
    b"\x00" + name(b"FRED", 0x20, b"NETBIOS.COM"),
    b"\x00" + name(b"The NetBIOS nam", ord("e")),
    b"\x00" + name(b"*", 0x00, pad=b"\0"),
    b"\x00" + name(b"\x01\x02__MSBROWSE__\x02", 0x01),
    b"\x00" + name(b"VMWINXP", 0x20, b"example.com"),
    b"\x80" + name(b"PRINTER", 0x00),
    # a pointer at offset 34 back to 0
    bytes([34]) + name(b"XYKON-2", 0x00) + b"\xc0\x00",
    # pointer into the scope of the first name
    bytes([46]) + name(b"A", 0, b"ex.com") + b"\x20" + l1(b"B" + b" " * 14 + b"\x20") + b"\xc0\x21",
    # pointer in the last byte (OSS-Fuzz 20193 shape)
    b"\x00" + b"\x20" + l1(b"FRED" + b" " * 12) + b"\xc0",
    # pointer loop
    bytes([2]) + b"\xc0\x02\xc0\x00",
    # many one-byte labels (CVE-2020-10745 shape)
    b"\x00" + b"\x20" + l1(b"FRED" + b" " * 12) + b"\x01a" * 150 + b"\0",
    # first label 31, lower case, reserved label type
    b"\x00" + b"\x1f" + l1(b"FRED" + b" " * 12)[:31] + b"\0",
    b"\x00" + b"\x20" + l1(b"FRED" + b" " * 12).lower() + b"\0",
    b"\x00" + b"\x40",
    b"",
    # text forms
    b"FRED<20>.example.com",
    b"*<00>",
    b"\\x01\\x02__MSBROWSE__\\x02<01>",
    b"A\\x2eB<1b>",
]

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "corpus", "name")
os.makedirs(out, exist_ok=True)
for s in seeds:
    with open(os.path.join(out, hashlib.sha256(s).hexdigest()), "wb") as f:
        f.write(s)
print(f"{len(seeds)} seeds in {os.path.normpath(out)}")
