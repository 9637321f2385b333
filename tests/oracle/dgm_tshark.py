#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The tshark oracle for the datagram service (ctest: oracle_dgm_tshark).

Every packet kind `nbt build dgm` offers (nbtkit's writers: the datagram
codec, the fragmenting writer and the browser builders) is built with known
arguments; each output line (one per UDP packet) goes into one classic pcap
as Ethernet / IPv4 127.0.0.1 -> 127.0.0.2 / UDP 138 -> 138 (written by hand
in nbtpcap.py). tshark decodes it, and for every packet it must show what
the builder was asked for: nbdgm.type, flags, DGM_ID, SOURCE_IP and
SOURCE_PORT, DGM_LENGTH and PACKET_OFFSET (computed here from the encoded
name lengths and the data, RFC 1001 17.1.2), both names, the error code,
the mailslot name and the browser command / server / comment / response
name, and no malformed or expert mark. Then `nbt decode --json` reads the
same pcap and must agree with both (three-way).

The expectations come from the command line and the RFCs, never from
nbtkit's decoder. One documented disagreement is checked as such: tshark
4.0 has no datagram fragment support and reads names at the start of every
DIRECT_UNIQUE/GROUP/BROADCAST packet, so a continuation fragment (PACKET_
OFFSET > 0, raw data-section bytes) is "Malformed" there; its header fields
must still agree (/work/shared/notes/scapy-and-tshark.md 4.2).

usage: dgm_tshark.py NBT [WORKDIR]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nbtpcap  # noqa: E402  (classic pcap writer, tshark runner)

FIELDS = ["nbdgm.type", "nbdgm.flags", "nbdgm.dgram_id", "nbdgm.src.ip",
          "nbdgm.src.port", "nbdgm.dgram_len", "nbdgm.pkt_offset",
          "nbdgm.source_name", "nbdgm.destination_name", "nbdgm.error_code",
          "mailslot.name", "browser.command", "browser.server",
          "browser.os_major", "browser.os_minor", "browser.server_type",
          "browser.comment", "browser.response_computer_name",
          "_ws.malformed", "_ws.expert"]


def name_len(text):
    """Second-level encoded length of NAME<XX>.scope (RFC 1002 4.1)."""
    scope = text.split(">", 1)[1].lstrip(".") if ">" in text else ""
    labels = [x for x in scope.split(".") if x]
    return 34 + sum(1 + len(x) for x in labels)


def datagram(args, src, dst, data_len, msg_type, flags=0x02, dgm_id=1,
             ip="127.0.0.1", port=138, max_payload=548, extra=None):
    """Expected packets of one datagram: fragments as RFC 1001 17.1.2 cuts
    them (the header and both names in the first)."""
    names = name_len(src) + name_len(dst)
    total = names + data_len
    room = max_payload - 14
    out, sent = [], 0
    while sent < total:
        chunk = min(total - sent, room)
        f = (flags & 0x0C) | (0x02 if sent == 0 else 0)
        f |= 0x01 if sent + chunk < total else 0
        exp = {"type": msg_type, "flags": f, "id": dgm_id, "ip": ip,
               "port": port, "dgram_len": total, "offset": sent}
        if sent == 0:
            exp.update({"src": src, "dst": dst})
            exp.update(extra or {})
        out.append(exp)
        sent += chunk
    return (args, out)


SCOPE = "NETBIOS.COM"
HELLO = "68656c6c6f"
BIG = "5a" * 512
CASES = [
    datagram(["direct-unique", "--src", "FRED<00>", "--dst", "HOST1<20>",
              "--data", HELLO], "FRED<00>", "HOST1<20>", 5, 0x10),
    datagram(["direct-group", "--src", "FRED<00>", "--dst", "WORKGROUP<1d>",
              "--src-ip", "10.1.2.3", "--src-port", "5138", "--id", "0xbeef",
              "--snt", "p"], "FRED<00>", "WORKGROUP<1d>", 0, 0x11,
             flags=0x06, dgm_id=0xBEEF, ip="10.1.2.3", port=5138),
    datagram(["broadcast", "--src", "FRED<00>", "--data", HELLO, "--snt",
              "nbdd"], "FRED<00>", "*<00>", 5, 0x12, flags=0x0E),
    datagram(["direct-unique", "--src", "FRED<00>." + SCOPE, "--dst",
              "HOST1<20>." + SCOPE, "--data", HELLO, "--snt", "m"],
             "FRED<00>." + SCOPE, "HOST1<20>." + SCOPE, 5, 0x10, flags=0x0A),
    # 512 bytes of user data: two fragments at 576-byte IP datagrams
    # (RFC 1002 5.3.1), four at a 200-byte payload (RFC 1001 17.1.2).
    datagram(["direct-unique", "--src", "A<00>", "--dst", "B<00>", "--data",
              BIG, "--id", "77"], "A<00>", "B<00>", 512, 0x10, dgm_id=77),
    datagram(["direct-group", "--src", "A<00>", "--dst", "B<1d>", "--data",
              BIG, "--max-payload", "200"], "A<00>", "B<1d>", 512, 0x11,
             max_payload=200),
    datagram(["announce-request", "--src", "NBTTEST<00>", "--dst",
              "WORKGROUP<1d>"], "NBTTEST<00>", "WORKGROUP<1d>",
             86 + 10, 0x11,
             extra={"mailslot": "\\MAILSLOT\\BROWSE", "command": 2,
                    "response": "NBTTEST"}),
    datagram(["host-announcement", "--src", "NBTKIT<20>", "--dst",
              "WORKGROUP<1d>", "--os", "10.0", "--type", "0x00011003",
              "--comment", "nbtkit oracle"], "NBTKIT<20>", "WORKGROUP<1d>",
             86 + 32 + len("nbtkit oracle") + 1, 0x11,
             extra={"mailslot": "\\MAILSLOT\\BROWSE", "command": 1,
                    "server": "NBTKIT", "os_major": 10, "os_minor": 0,
                    "server_type": 0x00011003, "comment": "nbtkit oracle"}),
]
for code in (0x82, 0x83, 0x84):
    CASES.append((["error", "--code", "0x%02x" % code, "--id", "9"],
                  [{"type": 0x13, "flags": 0, "id": 9, "ip": "127.0.0.1",
                    "port": 138, "error": code}]))
for word, t in (("query-request", 0x14), ("positive-query-response", 0x15),
                ("negative-query-response", 0x16)):
    for dst in ("WORKGROUP<1d>", "HOST1<20>." + SCOPE):
        CASES.append(([word, "--dst", dst],
                      [{"type": t, "flags": 0, "id": 1, "ip": "127.0.0.1",
                        "port": 138, "dst": dst}]))


def build(nbt, args):
    out = subprocess.run([nbt, "build", "dgm"] + args, capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError("nbt build dgm %s: %s" % (args, out.stderr))
    return [bytes.fromhex(x) for x in out.stdout.split()]


def num(s):
    return int(s, 0) if s else None


def tshark_rows(path):
    out = nbtpcap.tshark(["-r", path, "-T", "fields", "-E", "separator=\t",
                          "-E", "occurrence=f"] +
                         sum([["-e", f] for f in FIELDS], []))
    return [dict(zip(FIELDS, line.split("\t"))) for line in
            out.splitlines()]


def tshark_form(text):
    """How tshark 4.0 prints NAME<XX>.scope: the 15 bytes padded (NULs for
    the wildcard "*", RFC 1001 17.2; spaces otherwise), trailing spaces
    dropped, other non-printable bytes as <XX>."""
    if text is None or "<" not in text:
        return text
    name, rest = text.split("<", 1)
    raw = (name.encode() + (b"\0" if name == "*" else b" ") * 15)[:15]
    raw = raw.rstrip(b" ")
    shown = "".join(chr(b) if 0x20 <= b < 0x7F else "<%02x>" % b for b in raw)
    return shown + "<" + rest


def compare_tshark(exp, row):
    """Differences between what was asked for and what tshark shows."""
    got = {"type": num(row["nbdgm.type"]), "flags": num(row["nbdgm.flags"]),
           "id": num(row["nbdgm.dgram_id"]), "ip": row["nbdgm.src.ip"],
           "port": num(row["nbdgm.src.port"]),
           "dgram_len": num(row["nbdgm.dgram_len"]),
           "offset": num(row["nbdgm.pkt_offset"]),
           "src": row["nbdgm.source_name"],
           "dst": row["nbdgm.destination_name"],
           "error": num(row["nbdgm.error_code"]),
           "mailslot": row["mailslot.name"],
           "command": num(row["browser.command"]),
           "server": row["browser.server"],
           "os_major": num(row["browser.os_major"]),
           "os_minor": num(row["browser.os_minor"]),
           "server_type": num(row["browser.server_type"]),
           "comment": row["browser.comment"],
           "response": row["browser.response_computer_name"]}
    want = dict(exp)
    for k in ("src", "dst"):
        if k in want:
            want[k] = tshark_form(want[k])
    diffs = ["%s: tshark %r, asked %r" % (k, got[k], v)
             for k, v in want.items() if got[k] != v]
    malformed = row["_ws.malformed"] or row["_ws.expert"]
    if exp.get("offset", 0) > 0:
        # tshark reads names in continuation fragments: documented above.
        if not malformed:
            diffs.append("continuation fragment not flagged by tshark "
                         "(has tshark learnt fragments? update the oracle)")
    elif malformed:
        diffs.append("tshark marks it malformed: %s" % malformed)
    return diffs


def compare_nbt(exp, obj):
    """nbt decode --json against the same expectations."""
    keys = {"type": obj.get("msg_type"), "flags": int(obj["flags"], 16),
            "id": obj.get("dgm_id"), "ip": obj.get("source_ip"),
            "port": obj.get("source_port"),
            "dgram_len": obj.get("dgm_length"),
            "offset": obj.get("packet_offset"),
            "src": obj.get("source_name", {}).get("name"),
            "dst": obj.get("destination_name", {}).get("name"),
            "error": obj.get("error_code"),
            "mailslot": obj.get("smb", {}).get("mailslot"),
            "command": obj.get("browser", {}).get("opcode"),
            "server": obj.get("browser", {}).get("server"),
            "os_major": obj.get("browser", {}).get("os_major"),
            "os_minor": obj.get("browser", {}).get("os_minor"),
            "server_type": int(obj.get("browser", {}).get("server_type",
                                                          "0"), 16),
            "comment": obj.get("browser", {}).get("string"),
            "response": obj.get("browser", {}).get("string")}
    diffs = ["%s: nbt decode %r, asked %r" % (k, keys[k], v)
             for k, v in exp.items() if keys[k] != v]
    if not obj.get("ok") or obj.get("findings"):
        diffs.append("nbt decode: ok=%s findings=%s" %
                     (obj.get("ok"), obj.get("findings")))
    return diffs


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    nbt = sys.argv[1]
    if shutil.which("tshark") is None:
        print("tshark not installed (scripts/bootstrap installs it)")
        return 1
    work = tempfile.mkdtemp(prefix="dgm_tshark.", dir=sys.argv[2]
                            if len(sys.argv) > 2 else None)
    frames, expected, labels = [], [], []
    for args, exps in CASES:
        packets = build(nbt, args)
        if len(packets) != len(exps):
            print("FAIL %s: %d packets, expected %d" %
                  (" ".join(args), len(packets), len(exps)))
            return 1
        for i, (p, e) in enumerate(zip(packets, exps)):
            frames.append(nbtpcap.udp_frame(p, 138, 138,
                                            ip_id=len(frames) + 1))
            expected.append(e)
            shown = [a if len(a) <= 40 else "<%d hex digits>" % len(a)
                     for a in args]
            labels.append("%s [%d/%d]" % (" ".join(shown), i + 1, len(exps)))
    path = os.path.join(work, "dgm_builders.pcap")
    nbtpcap.write_pcap(path, frames)
    rows = tshark_rows(path)
    dec = subprocess.run([nbt, "decode", "--json", "--pcap", path],
                         capture_output=True, text=True, check=False)
    objs = [json.loads(x) for x in dec.stdout.splitlines()]
    fails = 0
    if len(rows) != len(frames) or len(objs) != len(frames):
        print("FAIL: %d frames, tshark %d rows, nbt decode %d objects" %
              (len(frames), len(rows), len(objs)))
        return 1
    for label, exp, row, obj in zip(labels, expected, rows, objs):
        diffs = compare_tshark(exp, row) + compare_nbt(exp, obj)
        print("%s %s%s" % ("FAIL" if diffs else "ok  ", label,
                           "".join("\n    " + d for d in diffs)))
        fails += bool(diffs)
    print("%d packets, %d agree with tshark and nbt decode, %d differ" %
          (len(frames), len(frames) - fails, fails))
    if fails == 0:
        shutil.rmtree(work)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
