#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The tshark oracle for the session service (ctest: oracle_ssn_tshark).

Every packet kind `nbt build ssn` offers (nbtkit's writers) is built with
known arguments and written into one pcap as TCP segments (by hand:
Ethernet, IPv4 127.0.0.1 -> 127.0.0.2, TCP with a SYN, then the packet in
segments of at most 1460 bytes, one connection per case). tshark decodes
it; for each case it must show exactly what the builder was asked for:
nbss.type, nbss.flags (the E bit for a 0x10005-byte message), nbss.length
(24 bits on 445), the error code, the retarget address and port, the
called and calling names, and never "NBSS Continuation Message" or a
malformed mark. Then `nbt decode --json` reads the same pcap and must agree
with both (three-way: the request, tshark, nbtkit's decoder).

The expectations come from the command line and RFC 1002 4.3, never from
nbtkit's own decoder. One documented disagreement is checked as such: a
SESSION MESSAGE of LENGTH 0 is legal (RFC 1001 5.3: messages of 0 to
131,071 bytes) and nbtkit accepts it, while tshark 4.0 shows it as "NBSS
Continuation Message" (/work/shared/notes/scapy-and-tshark.md 4.2).

usage: ssn_tshark.py NBT [WORKDIR]
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nbtpcap  # noqa: E402  (classic pcap writer, tshark runner)

SCOPE = "NETBIOS.COM"
SMB1 = "ff534d4272" + "00" * 27
SMB2 = "fe534d4240" + "00" * 59

# (nbt build ssn arguments, port, expected fields; None = not shown)
CASES = [
    (["request", "--called", "VMWINXP<20>", "--calling", "PRINTER<00>"], 139,
     {"type": 0x81, "flags": 0, "length": 68, "called": "VMWINXP<20>",
      "calling": "PRINTER<00>"}),
    (["request", "--called", "FRED<20>." + SCOPE, "--calling",
      "CLIENT<00>." + SCOPE], 139,
     {"type": 0x81, "flags": 0, "length": 92, "called": "FRED<20>." + SCOPE,
      "calling": "CLIENT<00>." + SCOPE}),
    (["request", "--called", "*SMBSERVER<20>", "--calling", "SCANNER<00>"],
     139, {"type": 0x81, "flags": 0, "length": 68,
           "called": "*SMBSERVER<20>", "calling": "SCANNER<00>"}),
    (["positive"], 139, {"type": 0x82, "flags": 0, "length": 0}),
    (["retarget", "--addr", "10.0.0.1", "--port", "139"], 139,
     {"type": 0x84, "flags": 0, "length": 6, "addr": "10.0.0.1",
      "port": 139}),
    (["retarget", "--addr", "192.168.1.2", "--port", "4139"], 139,
     {"type": 0x84, "flags": 0, "length": 6, "addr": "192.168.1.2",
      "port": 4139}),
    (["keepalive"], 139, {"type": 0x85, "flags": 0, "length": 0}),
    # With an SMB magic tshark reads 24 bits ("is_cifs") and shows no flags
    (["message", "--data", SMB1], 139,
     {"type": 0x00, "flags": None, "length": 32, "payload": "SMB1"}),
    (["message", "--data", "68656c6c6f"], 139,
     {"type": 0x00, "flags": 0, "length": 5, "payload": "unknown"}),
    # The E bit (RFC 1002 4.3.1): flags 0x01 makes 0x10005, and the largest
    # RFC message; no SMB magic, so tshark must use the 17-bit rule
    (["message", "--data", "68656c6c6f", "--size", str(0x10005)], 139,
     {"type": 0x00, "flags": 1, "length": 0x10005, "payload": "unknown"}),
    (["message", "--size", "0x1ffff"], 139,
     {"type": 0x00, "flags": 1, "length": 0x1FFFF, "payload": "unknown"}),
    # Direct TCP (445): a 24-bit length beyond 17 bits, and a keep-alive
    (["message", "--direct", "--data", SMB2, "--size", "0x20010"], 445,
     {"type": 0x00, "flags": None, "length": 0x20010, "payload": "SMB2"}),
    (["message", "--direct", "--data", SMB2], 445,
     {"type": 0x00, "flags": None, "length": 64, "payload": "SMB2"}),
    (["keepalive", "--direct"], 445, {"type": 0x85, "flags": None,
                                      "length": 0}),
]
for code in (0x80, 0x81, 0x82, 0x83, 0x8F):
    CASES.append((["negative", "--code", "0x%02x" % code], 139,
                  {"type": 0x83, "flags": 0, "length": 1, "code": code}))
ZERO_LENGTH = (["message"], 139, {"type": 0x00, "flags": 0, "length": 0})

FIELDS = ["frame.number", "tcp.srcport", "nbss.type", "nbss.flags",
          "nbss.length", "nbss.error_code", "nbss.retarget_ip_address",
          "nbss.retarget_port", "nbss.called_name", "nbss.calling_name",
          "_ws.col.Info", "_ws.malformed"]


def build(nbt, args):
    out = subprocess.run([nbt, "build", "ssn"] + args, capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError("nbt build ssn %s: %s" % (args[0], out.stderr))
    return bytes.fromhex(out.stdout.strip())


def tcp_frame(payload, sport, dport, seq, flags):
    """Ethernet / IPv4 / TCP (checksum 0: tshark does not check it)."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 1, 5 << 4, flags,
                      65535, 0, 0) + payload
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1,
                               0x4000, 64, 6, 0, bytes((127, 0, 0, 1)),
                               bytes((127, 0, 0, 2))))
    struct.pack_into("!H", ip, 10, nbtpcap._ipv4_checksum(ip))
    eth = bytes(6) + bytes([2, 0, 0, 0, 0, 1]) + struct.pack("!H", 0x0800)
    return eth + bytes(ip) + tcp


def connection(packet, sport, dport):
    """A SYN, then `packet` in segments of at most 1460 bytes (PSH|ACK)."""
    isn = 1000 * sport
    frames = [tcp_frame(b"", sport, dport, isn, 0x02)]
    seq = isn + 1
    for at in range(0, len(packet), 1460):
        chunk = packet[at:at + 1460]
        frames.append(tcp_frame(chunk, sport, dport, seq, 0x18))
        seq += len(chunk)
    return frames


def tshark_pdus(path):
    """Per source port: the list of NBSS PDUs tshark shows, each a dict."""
    # SMB is not dissected: the payloads are placeholders, and what is
    # checked is the NBSS framing, not SMB.
    args = ["-r", path, "--disable-protocol", "smb", "--disable-protocol",
            "smb2", "-Y", "nbss", "-T", "fields", "-E", "separator=\t",
            "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in FIELDS:
        args += ["-e", f]
    per_port = {}
    for line in nbtpcap.tshark(args).splitlines():
        v = dict(zip(FIELDS, line.split("\t")))
        per_port.setdefault(int(v["tcp.srcport"]), []).append(v)
    return per_port


def check_tshark(got, want, why):
    """tshark's fields for one case against the expectation."""
    bad = []
    if len(got) != 1:
        infos = sorted(set(g["_ws.col.Info"] for g in got))
        return ["%s: %d frames with NBSS (want 1): %s" % (why, len(got),
                                                           infos[:3])]
    g = got[0]
    if "Continuation" in g["_ws.col.Info"] or g["_ws.malformed"]:
        bad.append("flagged: %r" % g["_ws.col.Info"])
    pairs = [("nbss.type", "0x%02x" % want["type"]),
             ("nbss.length", str(want["length"]))]
    if want.get("flags") is not None:
        pairs.append(("nbss.flags", "0x%02x" % want["flags"]))
    if "code" in want:
        pairs.append(("nbss.error_code", "0x%02x" % want["code"]))
    if "addr" in want:
        pairs += [("nbss.retarget_ip_address", want["addr"]),
                  ("nbss.retarget_port", str(want["port"]))]
    if "called" in want:
        pairs += [("nbss.called_name", want["called"]),
                  ("nbss.calling_name", want["calling"])]
    for field, value in pairs:
        if g[field] != value:
            bad.append("%s: tshark %r, want %r" % (field, g[field], value))
    return ["%s: %s" % (why, b) for b in bad]


def check_decoder(objs, want, why):
    """nbt decode --json's objects for one case against the expectation."""
    if len(objs) != 1 or not objs[0]["ok"]:
        return ["%s: nbt decode gave %s" % (why, objs)]
    o = objs[0]
    pairs = [("type_code", want["type"]), ("length", want["length"])]
    if want.get("flags") is not None:
        pairs.append(("flags", want["flags"]))
    for key, wkey in (("error_code", "code"), ("retarget_addr", "addr"),
                      ("retarget_port", "port"), ("called", "called"),
                      ("calling", "calling"), ("payload", "payload")):
        if wkey in want:
            pairs.append((key, want[wkey]))
    return ["%s: nbt decode %s=%r, want %r" % (why, k, o.get(k), v)
            for k, v in pairs if o.get(k) != v]


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    nbt = sys.argv[1]
    work = tempfile.mkdtemp(prefix="ssn_tshark.",
                            dir=sys.argv[2] if len(sys.argv) > 2 else None)
    cases = CASES + [ZERO_LENGTH]
    frames = []
    for i, (args, port, _) in enumerate(cases):
        frames += connection(build(nbt, args), 40000 + i, port)
    path = os.path.join(work, "ssn_oracle.pcap")
    nbtpcap.write_pcap(path, frames)
    pdus = tshark_pdus(path)
    out = subprocess.run([nbt, "decode", "--json", "--pcap", path],
                         capture_output=True, text=True, check=False)
    objs = [json.loads(line) for line in out.stdout.splitlines()]
    failures = []
    for i, (args, port, want) in enumerate(cases[:-1]):
        why = "%s (port %d)" % (" ".join(args)[:60], port)
        failures += check_tshark(pdus.get(40000 + i, []), want, why)
        mine = [o for o in objs if o["sport"] == 40000 + i]
        failures += check_decoder(mine, want, why)
    # The documented disagreement: LENGTH 0 messages.
    zport = 40000 + len(cases) - 1
    z = pdus.get(zport, [])
    if len(z) != 1 or "NBSS Continuation Message" not in z[0]["_ws.col.Info"]:
        failures.append("zero-length message: tshark no longer flags it: %s"
                        % z)
    failures += check_decoder([o for o in objs if o["sport"] == zport],
                              ZERO_LENGTH[2], "zero-length message")
    if out.returncode != 0:
        failures.append("nbt decode exit %d: %s" % (out.returncode,
                                                    out.stderr))
    for f in failures:
        print("FAIL:", f)
    print("%d cases, %d failures (pcap: %s)" % (len(cases), len(failures),
                                                path))
    if not failures:
        shutil.rmtree(work)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
