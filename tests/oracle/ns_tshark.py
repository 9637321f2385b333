#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The tshark oracle for NBNS builders (ctest: oracle_ns_tshark).

Every kind `nbt build ns` offers is built with known arguments, the packets
are written into one pcap (by hand, tests/oracle/nbtpcap.py: Ethernet, IPv4
127.0.0.1 -> 127.0.0.2, UDP 137 -> 137) and tshark decodes it. For each
packet tshark must show exactly the fields the builder was asked for:
transaction ID, the flags word (so R, opcode, NM_FLAGS and RCODE), the
section counts, every name, type, class, TTL, RDLENGTH, NB_FLAGS (group and
owner node type), address, and for node status the names, NAME_FLAGS and
unit ID. No packet may be marked malformed or carry an expert item.

The expectations come from the command line and the RFC 1002 4.2 diagrams,
never from nbtkit's own decoder. tshark cannot see first-level characters
outside A-P, wrong flag combinations or counts (it decodes, it does not
validate: /work/shared/notes/scapy-and-tshark.md 4.3), which is why the
flags word is compared against the diagrams here.

usage: ns_tshark.py NBT [WORKDIR]
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nbtpcap  # noqa: E402

WILDCARD = "*" + "<00>" * 15
UNIT = "00:0c:29:0d:06:56"


def hdr(trn, flags, qd=0, an=0, ns=0, ar=0):
    return [("nbns.id", "0x%04x" % trn), ("nbns.flags", "0x%04x" % flags),
            ("nbns.count.queries", str(qd)), ("nbns.count.answers", str(an)),
            ("nbns.count.auth_rr", str(ns)), ("nbns.count.add_rr", str(ar))]


def question(name, qtype=32):
    return [("nbns.name", name), ("nbns.type", str(qtype)),
            ("nbns.class", "1")]


def rr(name, rtype, ttl, rdlen):
    return [("nbns.name", name), ("nbns.type", str(rtype)),
            ("nbns.class", "1"), ("nbns.ttl", str(ttl)),
            ("nbns.data_length", str(rdlen))]


def nb(flags, addr):
    return [("nbns.nb_flags", "0x%04x" % flags), ("nbns.addr", addr)]


def nb_rr(name, ttl, flags, *addrs):
    out = rr(name, 32, ttl, 6 * len(addrs))
    for a in addrs:
        out += nb(flags, a)
    return out


def nbstat(entries, unit):
    out = [("nbns.number_of_names", str(len(entries)))]
    for name, flags in entries:
        out += [("nbns.netbios_name", name),
                ("nbns.name_flags", "0x%04x" % flags)]
    return out + [("nbns.unit_id", unit)]


def request_ar(kind, trn, flags, name, addr, ttl, nbf, extra=()):
    """register/overwrite/refresh/release/multihomed: RFC 1002 4.2.2-4.2.9
    (question, then the additional NB record for the same name)."""
    args = [kind, "--name", name, "--addr", addr, "--trn", str(trn)]
    return (args + list(extra),
            hdr(trn, flags, qd=1, ar=1) + question(name) +
            nb_rr(name, ttl, nbf, addr))


# (description, nbt build ns arguments, expected tshark fields in order)
CASES = [
    ("query, broadcast (4.2.12)",
     ["query", "--name", "FRED<00>", "--trn", "0x0101", "--bcast"],
     hdr(0x0101, 0x0110, qd=1) + question("FRED<00>")),
    ("query, unicast (4.2.12)",
     ["query", "--name", "WORKGROUP<1d>", "--trn", "0x0102"],
     hdr(0x0102, 0x0100, qd=1) + question("WORKGROUP<1d>")),
    ("query, --no-rd",
     ["query", "--name", "FRED<00>", "--trn", "259", "--bcast", "--no-rd"],
     hdr(0x0103, 0x0010, qd=1) + question("FRED<00>")),
    ("query, scoped name (4.1)",
     ["query", "--name", "FRED<20>.NETBIOS.COM", "--trn", "0x0104"],
     hdr(0x0104, 0x0100, qd=1) + question("FRED<20>.NETBIOS.COM")),
    ("node status request (4.2.17)",
     ["status", "--name", "*<00>", "--trn", "0x0105"],
     hdr(0x0105, 0x0000, qd=1) + question(WILDCARD, 33)),
    ("registration, broadcast (4.2.2)",) + request_ar(
        "register", 0x0201, 0x2910, "HOST<00>", "10.1.2.3", 300000, 0x0000,
        ["--ttl", "300000", "--bcast"]),
    ("registration, group, H node, unicast (4.2.2)",) + request_ar(
        "register", 0x0202, 0x2900, "GRP<1c>", "10.1.2.4", 0, 0xE000,
        ["--ttl", "0", "--group", "--ont", "h"]),
    ("overwrite demand, P node (4.2.3)",) + request_ar(
        "overwrite", 0x0203, 0x2810, "HOST<20>", "10.1.2.5", 300000, 0x2000,
        ["--ont", "p", "--bcast"]),
    ("refresh, M node (4.2.4, opcode 8)",) + request_ar(
        "refresh", 0x0204, 0x4000, "HOST<00>", "10.1.2.6", 1200, 0x4000,
        ["--ont", "m", "--ttl", "1200"]),
    ("refresh, opcode 9 (4.2.4 diagram)",) + request_ar(
        "refresh", 0x0205, 0x4800, "HOST<00>", "10.1.2.6", 1200, 0x0000,
        ["--ttl", "1200", "--opcode", "9"]),
    ("release, broadcast (4.2.9)",) + request_ar(
        "release", 0x0206, 0x3010, "HOST<00>", "10.1.2.7", 0, 0x0000,
        ["--bcast"]),
    ("multi-homed registration (opcode 0xF, RD as nmbd to WINS)",) +
    request_ar("multihomed", 0x0207, 0x7900, "MULTI<20>", "10.1.2.8",
               300000, 0x6000, ["--ont", "h", "--ttl", "300000"]),
    ("positive query response, two addresses (4.2.13)",
     ["query-response", "--name", "FRED<00>", "--addr", "10.0.0.1,10.0.0.2",
      "--ttl", "300000", "--trn", "0x0301"],
     hdr(0x0301, 0x8500, an=1) +
     nb_rr("FRED<00>", 300000, 0x0000, "10.0.0.1", "10.0.0.2")),
    ("positive query response, RA, group (4.2.13)",
     ["query-response", "--name", "WORKGROUP<00>", "--addr", "10.0.0.3",
      "--ttl", "60", "--ra", "--group", "--trn", "0x0302"],
     hdr(0x0302, 0x8580, an=1) +
     nb_rr("WORKGROUP<00>", 60, 0x8000, "10.0.0.3")),
    ("positive registration response (4.2.5)",
     ["registration-response", "--name", "HOST<00>", "--addr", "10.1.2.3",
      "--ttl", "300000", "--trn", "0x0401"],
     hdr(0x0401, 0xAD80, an=1) +
     nb_rr("HOST<00>", 300000, 0x0000, "10.1.2.3")),
    ("negative registration response, ACT_ERR (4.2.6)",
     ["registration-response", "--name", "HOST<00>", "--addr", "10.1.2.3",
      "--ttl", "0", "--rcode", "6", "--trn", "0x0402"],
     hdr(0x0402, 0xAD86, an=1) + nb_rr("HOST<00>", 0, 0x0000, "10.1.2.3")),
    ("end-node challenge registration response (4.2.7)",
     ["challenge-response", "--name", "HOST<00>", "--addr", "10.1.2.9",
      "--ttl", "300000", "--trn", "0x0403"],
     hdr(0x0403, 0xAD00, an=1) +
     nb_rr("HOST<00>", 300000, 0x0000, "10.1.2.9")),
    ("name conflict demand, address given (4.2.8)",
     ["conflict-demand", "--name", "HOST<00>", "--addr", "10.1.2.10",
      "--trn", "0x0404"],
     hdr(0x0404, 0xAD87, an=1) + nb_rr("HOST<00>", 0, 0x0000, "10.1.2.10")),
    ("name conflict demand, RFC address 0 (4.2.8)",
     ["conflict-demand", "--name", "HOST<00>", "--ont", "p", "--trn",
      "0x0405"],
     hdr(0x0405, 0xAD87, an=1) + nb_rr("HOST<00>", 0, 0x2000, "0.0.0.0")),
    ("positive release response (4.2.10)",
     ["release-response", "--name", "HOST<00>", "--addr", "10.1.2.7",
      "--trn", "0x0501"],
     hdr(0x0501, 0xB400, an=1) + nb_rr("HOST<00>", 0, 0x0000, "10.1.2.7")),
    ("negative release response, RFS_ERR (4.2.11)",
     ["release-response", "--name", "HOST<00>", "--addr", "10.1.2.7",
      "--rcode", "5", "--trn", "0x0502"],
     hdr(0x0502, 0xB405, an=1) + nb_rr("HOST<00>", 0, 0x0000, "10.1.2.7")),
    ("WACK (4.2.16; RR type NULL 0x000A)",
     ["wack", "--name", "HOST<00>", "--ttl", "60", "--trn", "0x0601"],
     hdr(0x0601, 0xBC00, an=1) + rr("HOST<00>", 10, 60, 2) +
     [("nbns.data", "29:00")]),
    ("WACK for a broadcast refresh",
     ["wack", "--name", "HOST<00>", "--ttl", "0", "--request-flags",
      "0x4010", "--trn", "0x0602"],
     hdr(0x0602, 0xBC00, an=1) + rr("HOST<00>", 10, 0, 2) +
     [("nbns.data", "40:10")]),
    ("node status response (4.2.18)",
     ["status-response", "--name", "FRED<20>", "--entry", "FRED<00>:ACT",
      "--entry", "FRED<20>", "--entry", "WORKGROUP<00>:G,ACT", "--entry",
      "WORKGROUP<1e>:0x8400", "--entry", "FRED<03>:H,ACT,PRM", "--unit-id",
      UNIT, "--trn", "0x0701"],
     hdr(0x0701, 0x8400, an=1) + rr("FRED<20>", 33, 0, 1 + 5 * 18 + 46) +
     nbstat([("FRED<00>", 0x0400), ("FRED<20>", 0x0400),
             ("WORKGROUP<00>", 0x8400), ("WORKGROUP<1e>", 0x8400),
             ("FRED<03>", 0x6600)], UNIT)),
]

# Kinds whose RFC diagram leaves something to the codec: the expected
# fields are filled in by the case itself (see NEGATIVE_QUERY / REDIRECT).
NEG_QUERY = ("negative query response, NAM_ERR (4.2.14)",
             ["negative-query-response", "--name", "GHOST<00>", "--trn",
              "0x0303"])
REDIRECT = ("redirect name query response (4.2.15)",
            ["redirect", "--name", "DOMAIN<00>", "--nsd-name", "NBNS<20>",
             "--nsd-addr", "10.9.9.9", "--ttl", "3600", "--trn", "0x0304"])


def neg_query_expected(got):
    """4.2.14 draws ANCOUNT 0 above an answer record of type NULL: accept
    either reading, but the flags word, rcode and name are fixed."""
    base = hdr(0x0303, 0x8503, an=1) + rr("GHOST<00>", 10, 0, 0) + \
        [("nbns.data", "")]
    if ("nbns.count.answers", "0") in got:
        base = hdr(0x0303, 0x8503, an=0)
    return base


def second_level(name, suffix):
    """RFC 1001 14.1 / RFC 1002 4.1, written here independently of nbtkit:
    pad to 15 with spaces, add the suffix, one nibble per letter from 'A',
    length 32, terminating zero."""
    raw = name.encode().ljust(15, b" ") + bytes([suffix])
    label = "".join(chr(65 + (b >> 4)) + chr(65 + (b & 15)) for b in raw)
    return bytes([32]) + label.encode() + b"\0"


def colon_hex(data):
    return ":".join("%02x" % b for b in data)


def redirect_expected(_got):
    """4.2.15: NS record for the domain with RDATA NSD_NAME, then an A
    record whose RR_NAME is NSD_NAME (tshark resolves the pointer) holding
    NSD_IP_ADDR. tshark 4.0 does not decode NBNS types A, NS and NULL
    ("type Unknown"): their RDATA is compared as bytes."""
    nsd = second_level("NBNS", 0x20)
    return (hdr(0x0304, 0x8100, ns=1, ar=1) +
            rr("DOMAIN<00>", 2, 3600, len(nsd)) +
            [("nbns.data", colon_hex(nsd))] +
            rr("NBNS<20>", 1, 3600, 4) + [("nbns.data", "0a:09:09:09")])


COMPARED = {name for _, _, exp in CASES for name, _ in exp}
COMPARED.add("nbns.data")


def normalise(fields):
    """Keep the compared fields; drop tshark's service annotation
    ("FRED<00> (Workstation/Redirector)") and take the NBSTAT entry name
    (with its suffix) from the display text."""
    out = []
    for name, show, showname in fields:
        if name not in COMPARED:
            continue
        if name == "nbns.netbios_name":
            show = showname.split(": ", 1)[-1]
        if name in ("nbns.name", "nbns.netbios_name") and show.endswith(")") \
                and " (" in show:
            show = show[:show.rindex(" (")]
        out.append((name, show))
    return out


def build(nbt, args):
    res = subprocess.run([nbt, "build", "ns"] + args, capture_output=True,
                         text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError("nbt build ns %s: rc %d: %s" %
                           (" ".join(args), res.returncode, res.stderr))
    return bytes.fromhex(res.stdout.strip())


def diff(desc, want, got):
    lines = ["FAIL: %s" % desc]
    for i in range(max(len(want), len(got))):
        w = want[i] if i < len(want) else None
        g = got[i] if i < len(got) else None
        lines.append("  %s %-40s %s" % ("  " if w == g else "!=", w, g))
    return "\n".join(lines)


def main():
    nbt = sys.argv[1]
    work = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp()
    cases = [(d, a, e) for d, a, e in CASES] + \
            [NEG_QUERY + (neg_query_expected,), REDIRECT + (redirect_expected,)]
    payloads = [build(nbt, args) for _, args, _ in cases]
    pcap = os.path.join(work, "ns_builders.pcap")
    nbtpcap.write_pcap(pcap, [nbtpcap.udp_frame(p, 137, 137, ip_id=i + 1)
                              for i, p in enumerate(payloads)])
    decoded = nbtpcap.pdml_fields(pcap, "nbns")
    flagged = nbtpcap.flagged_frames(pcap, "nbns")
    failures = []
    for i, (desc, args, expected) in enumerate(cases):
        fields, bad = decoded[i]
        got = normalise(fields)
        want = expected(got) if callable(expected) else expected
        if got != want:
            failures.append(diff("%s: nbt build ns %s" %
                                 (desc, " ".join(args)), want, got))
        if bad or (i + 1) in flagged:
            failures.append("FAIL: %s: tshark marks frame %d: %s" %
                            (desc, i + 1, bad))
    for f in failures:
        print(f)
    print("%d packets, %d checked by tshark, %d failures (pcap: %s)" %
          (len(cases), len(decoded), len(failures), pcap))
    return 1 if failures or len(decoded) != len(cases) else 0


if __name__ == "__main__":
    sys.exit(main())
