#!/usr/bin/python3
# Seeds for the oracles of issue 10's coverage work ("cov"): [session]
# routes for fuzz_config (every form of docs/CONFIGURATION.md and each way
# a route or forward is refused), and builder knob inputs for
# fuzz_ns_packet (raw_flags, the null WACK name, response opcodes, the
# refusals, a 64 KiB RDATA). Writes OUTDIR/<target>/<sha256>; add them with
#   fuzz/seeds/cov.py /tmp/s && scripts/corpus-add config /tmp/s/config/*
# (or `fuzz/campaign merge TARGET /tmp/s/TARGET` to keep only what adds
# coverage). Provenance: hand-written from docs/CONFIGURATION.md and the
# fuzz targets' input layouts.
import hashlib, os, sys

ROUTES = b"""[session]
forward = XYKON-2=192.0.2.20:445
route = FILES nbt 192.0.2.21:139 as SRV
route = OLDNAME retarget 192.0.2.22:139
route = GONE reject 0x82
route = *SMBSERVER direct 10.0.0.1:445
route = A.scope.example<1b> NBT 1.2.3.4:139
route = B reject 143
route = C Reject 0X8F
route = D nbt 255.255.255.255:65535
route = FILES direct 9.9.9.9:1
"""

BAD_ROUTES = [
    b"X", b"X direct", b"X direct 1.2.3:4", b"X direct 1.2.3.4:0",
    b"X direct 01.2.3.4:5", b"X direct 1.2.3.4:65536", b"X direct 1.2.3.4",
    b"X direct 256.1.1.1:1", b"X direct 1.2.3.4:x", b"X direct 1.2.3.4.5:6",
    b"X nbt 1.2.3.4:139 foo", b"X nbt 1.2.3.4:139 as",
    b"X nbt 1.2.3.4:139 as ABCDEFGHIJKLMNOPQ", b"X reject", b"X reject 0x84",
    b"X reject 0xZZ", b"X reject 999", b"X reject abc", b"X reject 0x8",
    b"X frobnicate 1.2.3.4:1", b"X direct 1.2.3.4:1 extra",
    b"ABCDEFGHIJKLMNOPQRST direct 1.2.3.4:5", b"X<zz> direct 1.2.3.4:5",
    b"X retarget", b"X nbt",
]
BAD_FORWARDS = [b"X", b"=1.2.3.4:5", b"X=1.2.3.4", b"X=1.2.3.4:99999",
                b"X=a.b.c.d:1", b"ABCDEFGHIJKLMNOPQRST=1.2.3.4:5"]

config = [b"\x00" + ROUTES,
          b"\x00[session]\nroute = ONLY reject 0x80\nroute = R retarget "
          b"1.1.1.1:139\n",
          b"\x00[session]\n" + b"".join(b"route = N%d direct 10.0.0.%d:445\n"
                                        % (i, i) for i in range(33)),
          b"\x02forward\x00XYKON-2=127.0.0.1:445",
          b"\x02route\x00FILES nbt 192.0.2.21:139 as SRV.corp",
          b"\x02route\x00*smbserver reject 0x83"]
config += [b"\x00[session]\nroute = " + r + b"\n" for r in BAD_ROUTES]
config += [b"\x00[session]\nforward = " + f + b"\n" for f in BAD_FORWARDS]
config += [b"\x02route\x00" + r for r in BAD_ROUTES[:6]]
config += [b"\x02forward\x00" + f for f in BAD_FORWARDS]

# fuzz_ns_packet's builder reads: kind, two names (16 bytes + scope pick),
# trn_id(4), bits, ttl(4), nb_flags, addr(4), rcode, wack(4), nsd_addr(4),
# lists (n_entries 0, n_nbstat 0, unit_id 6, 4, 4, stats pick), then the
# knob, its value and one more byte.
def build_input(kind, knob, v, more=0):
    b = bytes([kind]) + b"A" * 16 + b"\x00" + b"B" * 16 + b"\x01"
    b += b"\x12\x34\x00\x00" + b"\x00" + b"\x00\x00\x01\x00" + b"\x00"
    b += b"\x0a\x00\x00\x01" + b"\x01" + b"\x29\x10\x00\x00" + b"\x0a\x00\x00\x02"
    b += b"\x00\x00" + b"\x00" * 6 + b"\x00" * 8 + b"\x00"
    return b + bytes([knob, v, more])

ns = []
for kind in range(18):
    for knob, vs in ((1, (0x00, 0x85, 0xAF)), (2, (0,)), (3, (0x80, 0x81, 0x82, 0x03)),
                     (4, (0, 1, 2, 3)), (5, (0, 7))):
        ns += [build_input(kind, knob, v, 0x40) for v in vs]
ns.append(build_input(12, 6, 0))  # POSITIVE QUERY RESPONSE with 64 KiB RDATA

out = sys.argv[1] if len(sys.argv) > 1 else "seeds-out"
for target, seeds in (("config", config), ("ns_packet", ns)):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    for s in seeds:
        with open(os.path.join(d, hashlib.sha256(s).hexdigest()), "wb") as f:
            f.write(s)
    print(f"{len(seeds)} seeds in {d}")
