# SPDX-License-Identifier: BSD-2-Clause
"""Write UDP payloads into a classic pcap file and read tshark's decode back.

Shared by the tshark oracles (tests/oracle/*_tshark.py). The pcap is written
by hand (global header, then per frame: Ethernet II, IPv4, UDP) with loopback
addresses, so nothing here depends on nbtkit's own code.
"""
import struct
import subprocess
import xml.etree.ElementTree as ET

PCAP_MAGIC = 0xA1B2C3D4
LINKTYPE_ETHERNET = 1


def _ipv4_checksum(header):
    total = 0
    for i in range(0, len(header), 2):
        total += (header[i] << 8) | header[i + 1]
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def udp_frame(payload, sport, dport, src=(127, 0, 0, 1), dst=(127, 0, 0, 2),
              ip_id=1):
    """Ethernet II / IPv4 / UDP around `payload` (UDP checksum 0: none)."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), ip_id,
                               0, 64, 17, 0, bytes(src), bytes(dst)))
    struct.pack_into("!H", ip, 10, _ipv4_checksum(ip))
    eth = bytes(6) + bytes([2, 0, 0, 0, 0, 1]) + struct.pack("!H", 0x0800)
    return eth + bytes(ip) + udp


def write_pcap(path, frames):
    """Classic pcap, microsecond timestamps, one second apart."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", PCAP_MAGIC, 2, 4, 0, 0, 65535,
                            LINKTYPE_ETHERNET))
        for i, frame in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(frame),
                                len(frame)))
            f.write(frame)


def tshark(args):
    out = subprocess.run(["tshark"] + args, capture_output=True, check=False)
    if out.returncode != 0:
        raise RuntimeError("tshark %s failed (%d): %s" %
                           (" ".join(args), out.returncode,
                            out.stderr.decode(errors="replace")))
    return out.stdout.decode(errors="replace")


def pdml_fields(path, proto):
    """Per frame: the list of (name, show, showname) of every field under
    `proto`, in document order, plus whether the frame was marked
    malformed or carries an expert item."""
    root = ET.fromstring(tshark(["-r", path, "-T", "pdml"]))
    frames = []
    for packet in root.iter("packet"):
        fields = []
        bad = []
        for p in packet.iter("proto"):
            if p.get("name") == "_ws.malformed":
                bad.append("malformed")
            if p.get("name") == proto:
                for fld in p.iter("field"):
                    fields.append((fld.get("name"), fld.get("show"),
                                   fld.get("showname") or ""))
        for fld in packet.iter("field"):
            if (fld.get("name") or "").startswith("_ws.expert"):
                bad.append(fld.get("showname") or fld.get("name"))
        frames.append((fields, bad))
    return frames


def flagged_frames(path, proto):
    """Frame numbers tshark marks malformed or with an expert item."""
    out = tshark(["-r", path, "-Y", "%s && (_ws.malformed || _ws.expert)" %
                  proto, "-T", "fields", "-e", "frame.number"])
    return [int(x) for x in out.split()]
