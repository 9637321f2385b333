#!/usr/bin/python3
# Seeds for fuzz_dgm_packet: one UDP-138 payload per file, named by its
# SHA-256, written to corpus/dgm_packet/.
# Provenance: every NBDGM payload of the captures under pcaps/ (arkime
# Windows 98 browser datagrams, ndpi Windows 7 announcements, the generated
# tshark probe; see pcaps/PROVENANCE.md) and, when the shared research
# folder is present, the 7 NBDGM frames of nDPI's fuzz capture; then
# packets of every MSG_TYPE and browser opcode built here from RFC 1002 4.4
# and [MS-BRWS] 2.2, and hand-made bug shapes (pointers, lying lengths,
# fragments, trailing bytes).
import hashlib, os, struct, subprocess

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, "..", ".."))


def l1(raw16):
    return bytes(c for b in raw16 for c in (0x41 + (b >> 4), 0x41 + (b & 15)))


def name(text, suffix=0x20, scope=b"", pad=b" "):
    raw = text.ljust(15, pad)[:15] + bytes([suffix])
    out = bytes([32]) + l1(raw)
    for label in scope.split(b".") if scope else []:
        out += bytes([len(label)]) + label
    return out + b"\0"


def hdr(t, flags=0x02, dgm_id=1, ip=0x0A000001, port=138):
    return struct.pack(">BBHIH", t, flags, dgm_id, ip, port)


def datagram(t, src, dst, data, flags=0x02, dgm_id=1, length=None, offset=0):
    section = src + dst + data
    n = len(section) if length is None else length
    return hdr(t, flags, dgm_id) + struct.pack(">HH", n, offset) + section


def mailslot(data, slot=b"\\MAILSLOT\\BROWSE", priority=0, timeout=0):
    smb = b"\xffSMB\x25" + bytes(27)
    words = struct.pack("<HHHHBBHIHHHHHBBHHH", 0, len(data), 0, 0, 0, 0, 0,
                        timeout, 0, 0, 0, len(data), 70 + len(slot), 3, 0,
                        1, priority, 2)
    return (smb + b"\x11" + words + struct.pack("<H", len(slot) + 1 + len(data))
            + slot + b"\0" + data)


def announce(op, server, comment=b"", stype=0x00011003, major=6, minor=1):
    return (bytes([op, 0]) + struct.pack("<I", 720000)
            + server.ljust(16, b"\0") + bytes([major, minor])
            + struct.pack("<I", stype) + bytes([15, 1]) + b"\x55\xaa"
            + comment + b"\0")


browse = [
    announce(1, b"HOST1", b"a comment"),
    announce(15, b"LMB", b""),
    announce(12, b"WORKGROUP", b"LMB", stype=0x80001000),
    b"\x02\x00NBTTEST\0",
    b"\x08\x01" + struct.pack("<III", 0x20010F03, 12345, 0) + b"CANDIDATE\0",
    b"\x09\x04" + struct.pack("<I", 7),
    b"\x0a\x02" + struct.pack("<I", 7) + b"BACKUP1\0BACKUP2\0",
    b"\x0b" + b"PROMOTE\0",
    b"\x0d" + b"MASTER\0",
    b"\x0e\x04",
    b"\x01",  # truncated announcement
    b"\x03\x00",  # unknown opcode
]

FRED = name(b"FRED", 0x00)
WG = name(b"WORKGROUP", 0x1D)
STAR = name(b"*", 0x00, pad=b"\0")
seeds = []
for b in browse:
    seeds.append(datagram(0x11, FRED, WG, mailslot(b)))
    seeds.append(b)
seeds += [
    mailslot(browse[0], slot=b"\\MAILSLOT\\LANMAN", priority=1, timeout=1000),
    datagram(0x10, FRED, name(b"HOST1"), b"hello"),
    datagram(0x12, FRED, STAR, b"broadcast"),
    datagram(0x10, name(b"FRED", 0x20, b"NETBIOS.COM"),
             name(b"HOST1", 0x20, b"NETBIOS.COM"), b"scoped"),
    datagram(0x11, FRED, WG, b"\xaa" * 513),  # user data over 512
    datagram(0x11, FRED, WG, b"", flags=0x03, length=68 + 100),  # 1st frag
    hdr(0x11) + struct.pack(">HH", 168, 68) + b"\xbb" * 100,  # last frag
    hdr(0x11, 0x01) + struct.pack(">HH", 168, 68) + b"\xbb" * 50,  # middle
    hdr(0x11, 0x00) + struct.pack(">HH", 10, 11) + b"x",  # offset > length
    datagram(0x11, FRED, WG, b"hello", length=999),  # lying DGM_LENGTH
    datagram(0x11, FRED, WG, b"hello", length=70),  # trailing bytes
    datagram(0x11, FRED, b"\xc0\x0e", b""),  # pointer (RFC 1002 4.1)
    datagram(0x11, FRED[:-1] + b"\xc0", WG, b""),
    datagram(0x10, FRED, WG, b"", flags=0xF2),  # reserved flag bits
    hdr(0x13, 0x00) + b"\x82",
    hdr(0x13, 0x00) + b"\x83",
    hdr(0x13, 0x02) + b"\x84",
    hdr(0x13, 0x00) + b"\x85\xff",
    hdr(0x14, 0x00) + WG,
    hdr(0x15, 0x00) + WG,
    hdr(0x16, 0x00) + WG + b"\0",
    hdr(0x17, 0x00) + WG,
    hdr(0x10)[:5],
    b"",
]


def capture_payloads(path):
    if not os.path.exists(path):
        return []
    out = subprocess.run(["tshark", "-r", path, "-Y", "nbdgm", "-T", "fields",
                          "-e", "udp.payload"], capture_output=True,
                         text=True, check=True).stdout
    return [bytes.fromhex(h) for h in out.split() if h]


for rel in ["pcaps/arkime/nbns.pcap", "pcaps/ndpi/netbios.pcap",
            "pcaps/generated/tshark-oracle-probe.pcap",
            "../shared/pcaps-external/ndpi/fuzz-2006-06-26-2594.pcap"]:
    seeds += capture_payloads(os.path.join(root, rel))

out = os.path.join(root, "corpus", "dgm_packet")
os.makedirs(out, exist_ok=True)
for s in seeds:
    with open(os.path.join(out, hashlib.sha256(s).hexdigest()), "wb") as f:
        f.write(s)
print(f"{len(seeds)} seeds in {os.path.relpath(out, root)}")
