#!/usr/bin/python3
# Seeds for fuzz_ns_packet: one NBNS datagram per file, written to
# corpus/ns_packet/<sha256>.
#
# Provenance:
#  - every NBNS payload (UDP 137; port 53 for the nDPI wildcard query) of the
#    captures under pcaps/ (copies of shared/pcaps-external, licences in
#    pcaps/PROVENANCE.md), extracted with tshark;
#  - packets of every RFC 1002 4.2 kind built here from the diagrams;
#  - regression inputs for bug shapes that hit other NetBIOS parsers:
#    the empty datagram (Samba CVE-2020-14303), 11 bytes, a pointer in the
#    last byte (Samba OSS-Fuzz 20193), a name of many one-byte labels
#    (CVE-2020-10745), requests with QDCOUNT 0, ARCOUNT 0 or an NB RDATA of
#    RDLENGTH 0 (CVE-2026-3238), counts far larger than the data, NUM_NAMES
#    larger than the RDATA, and pointer loops.
import hashlib
import os
import struct
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, "..", ".."))


def l1(raw16):
    return bytes(c for b in raw16 for c in (0x41 + (b >> 4), 0x41 + (b & 15)))


def name(text, suffix=0x20, scope=b""):
    pad = b"\0" if text == b"*" else b" "
    out = bytes([32]) + l1(text.ljust(15, pad)[:15] + bytes([suffix]))
    for label in scope.split(b".") if scope else []:
        out += bytes([len(label)]) + label
    return out + b"\0"


def hdr(trn, word, qd=0, an=0, ns=0, ar=0):
    return struct.pack(">6H", trn, word, qd, an, ns, ar)


def question(n, qtype=0x20):
    return n + struct.pack(">HH", qtype, 1)


def rr(n, rtype, ttl, rdata, rclass=1):
    return n + struct.pack(">HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def nb(flags, addr):
    return struct.pack(">HI", flags, addr)


PTR = b"\xc0\x0c"
FRED = name(b"FRED", 0x00)
SCOPED = name(b"VMWINXP", 0x20, b"example.com")
STATS = bytes.fromhex("000c290d0656") + bytes(40)


def status_rdata(entries, stats=STATS):
    out = bytes([len(entries)])
    for raw, flags in entries:
        out += raw.ljust(15)[:15] + raw[15:16] + struct.pack(">H", flags)
    return out + stats


def kinds():
    a = 0x0a000001
    yield hdr(1, 0x0110, qd=1) + question(FRED)  # query (broadcast)
    yield hdr(2, 0x0000, qd=1) + question(name(b"*", 0), 0x21)  # status
    for word in (0x2910, 0x2900, 0x2810, 0x4010, 0x4800, 0x7900, 0x3010):
        yield (hdr(3, word, qd=1, ar=1) + question(SCOPED)
               + rr(PTR, 0x20, 0 if word == 0x3010 else 300000,
                    nb(0x6000, a)))
    for word in (0xad80, 0xad86, 0xad00, 0xad87, 0xb400, 0xb406, 0xad81):
        yield hdr(4, word, an=1) + rr(FRED, 0x20, 0, nb(0x2000, a))
    yield hdr(5, 0x8500, an=1) + rr(FRED, 0x20, 300000,
                                     nb(0x8000, a) + nb(0x8000, a + 1))
    yield hdr(6, 0x8583, an=1) + rr(FRED, 0x0a, 0, b"")  # negative query
    nbns = name(b"NBNS", 0x20)
    ns = rr(name(b"DOMAIN", 0x00), 0x02, 3600, nbns)
    yield hdr(7, 0x8100, ns=1, ar=1) + ns + rr(b"\xc0\x38", 0x01, 3600,
                                                struct.pack(">I", a))
    yield hdr(8, 0xbc00, an=1) + rr(FRED, 0x0a, 60, b"\x29\x00")  # WACK
    yield hdr(9, 0xbc00, an=1) + rr(b"\0", 0x0a, 0, b"\x40\x00")  # null name
    yield hdr(10, 0x8400, an=1) + rr(FRED, 0x21, 0, status_rdata(
        [(b"FRED\0", 0x0400), (b"WORKGROUP\0", 0x8400),
         (b"\x01\x02__MSBROWSE__\x02\x01", 0x8400)]))


def bug_shapes():
    yield b""
    yield hdr(1, 0x0110, qd=1)[:11]
    yield hdr(1, 0x0110, qd=1)
    # pointer in the last byte
    yield hdr(1, 0x0110, qd=1) + FRED[:-1] + b"\xc0"
    # many one-byte labels
    yield hdr(1, 0x0110, qd=1) + FRED[:-1] + b"\x01a" * 127 + b"\0\0\x20\0\x01"
    # QDCOUNT 0, ARCOUNT 0, NB RDLENGTH 0 in registration/query/release
    yield hdr(1, 0x2910, ar=1) + rr(FRED, 0x20, 0, nb(0, 1))
    yield hdr(1, 0x2910, qd=1) + question(FRED)
    yield hdr(1, 0x2910, qd=1, ar=1) + question(FRED) + rr(PTR, 0x20, 0, b"")
    yield hdr(1, 0x3010, qd=1, ar=1) + question(FRED) + rr(PTR, 0x20, 0, b"")
    yield hdr(1, 0x0110)
    # counts far larger than the data
    yield hdr(1, 0x0110, qd=0xffff) + question(FRED)
    yield hdr(1, 0x8500, an=0x7fff) + rr(FRED, 0x20, 0, nb(0, 1))
    yield hdr(1, 0x2910, qd=1, ar=0xffff) + question(FRED)
    # NUM_NAMES larger than the RDATA
    yield hdr(1, 0x8400, an=1) + rr(FRED, 0x21, 0, b"\xff" + bytes(18))
    yield hdr(1, 0x8400, an=1) + rr(FRED, 0x21, 0, b"")
    # pointer loops: to itself, forward, mutual
    yield hdr(1, 0x0110, qd=1) + b"\xc0\x0c\x00\x20\x00\x01"
    yield hdr(1, 0x0110, qd=1) + b"\xc0\x0e\xc0\x0c\x00\x20\x00\x01"
    yield (hdr(1, 0x2910, qd=1, ar=1) + question(FRED)
           + rr(b"\xc0\x40", 0x20, 0, nb(0, 1)) + b"\xc0\x32")
    # RDLENGTH past the end, not a multiple of 6, A of 3 bytes
    yield hdr(1, 0x8500, an=1) + rr(FRED, 0x20, 0, nb(0, 1))[:-1]
    yield hdr(1, 0x8500, an=1) + rr(FRED, 0x20, 0, b"\0" * 5)
    yield hdr(1, 0x8100, ns=1, ar=1) + rr(FRED, 2, 0, PTR) + rr(PTR, 1, 0, b"abc")
    # Windows XP's trailing bytes, a partially compressed name
    yield hdr(1, 0x8400, an=1) + rr(FRED, 0x21, 0, status_rdata([])) + bytes(18)
    yield (hdr(1, 0x0110, qd=2) + question(name(b"A", 0, b"example"))
           + question(name(b"B", 0)[:-1] + b"\xc0\x2d"))


def captures():
    files = [
        ("node-netbios/netbios-ns-b-query-winxp.pcap", 137),
        ("node-netbios/netbios-ns-b-positive-response-winxp.pcap", 137),
        ("node-netbios/netbios-ns-b-register-winxp.pcap", 137),
        ("node-netbios/netbios-ns-b-register-negative-response-winxp.pcap", 137),
        ("node-netbios/netbios-ns-b-nbstat-winxp.pcap", 137),
        ("node-netbios/netbios-ns-b-nbstat-response-winxp.pcap", 137),
        ("node-netbios/netbios-ns-b-full-query.pcap", 137),
        ("arkime/nbns.pcap", 137),
        ("ndpi/anyconnect-vpn.nbns-only.pcap", 137),
        ("ndpi/zoom.nbns-only.pcap", 137),
        ("ndpi/netbios.pcap", 137),
        ("ndpi/netbios_wildcard_dns_query.pcap", 53),
        ("ndpi/fuzz-2006-06-26-2594.pcap", 137),
        ("tcpdump/nbns-valgrind.pcap", 137),
        ("generated/tshark-oracle-probe.pcap", 137),
    ]
    for f, port in files:
        out = subprocess.run(
            ["tshark", "-r", os.path.join(root, "pcaps", f), "-Y",
             "udp.port==%d" % port, "-T", "fields", "-e", "udp.payload"],
            capture_output=True, text=True, check=True).stdout
        for line in out.split():
            yield bytes.fromhex(line)


def main():
    out = os.path.join(root, "corpus", "ns_packet")
    os.makedirs(out, exist_ok=True)
    seen = set()
    for seed in list(kinds()) + list(bug_shapes()) + list(captures()):
        digest = hashlib.sha256(seed).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        with open(os.path.join(out, digest), "wb") as f:
            f.write(seed)
    print(f"{len(seen)} seeds in {os.path.relpath(out, root)}")


if __name__ == "__main__":
    sys.exit(main())
