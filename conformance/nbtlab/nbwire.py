"""The lab's own small reader (and a fallback assembler) for NBT packets.

WARNING: parses untrusted network data (replies from the device under
test). Every read is bounds-checked; a bad packet raises WireError with the
byte offset and the field, never anything else.

Why a second implementation in Python: the judge must find fields (TTL
offsets to mask, flags, counts, RDATA layouts) in whatever the device
sends, including packets nbtkit's codec rejects. It is deliberately
independent of nbtkit's C codec so the two can be compared (the report
shows `nbt decode`'s and tshark's view next to this one), and it is kept
small: RFC 1002 4.1 names, 4.2 name service, 4.3 session, 4.4 datagram.

The assembler (build_* functions) is what the probes fall back to when the
`nbt build` subcommands are not in the build; codec.py prefers `nbt build`.
"""

import ipaddress
import struct


class WireError(ValueError):
    def __init__(self, offset, field, text):
        super().__init__(f"{text} at byte {offset} ({field})")
        self.offset = offset
        self.field = field
        self.text = text


# --- names (RFC 1002 4.1, RFC 1001 14) -------------------------------------

MAX_HOPS = 10
MAX_NAME = 255


def parse_name_text(text):
    """'NAME<XX>.scope' -> (16 raw bytes, scope). '*' is NUL-padded,
    everything else space-padded; without <XX> the suffix is 0x20.
    \\xHH escapes are accepted in the name part."""
    scope = ""
    head = text
    if ">" in text:
        head, _, rest = text.partition(">")
        head += ">"
        if rest.startswith("."):
            scope = rest[1:]
    elif "." in text:
        head, _, scope = text.partition(".")
    suffix = 0x20
    if head.endswith(">") and "<" in head:
        head, _, sfx = head[:-1].rpartition("<")
        suffix = int(sfx, 16)
    raw = bytearray()
    i = 0
    while i < len(head):
        if head.startswith("\\x", i):
            raw.append(int(head[i + 2:i + 4], 16))
            i += 4
        else:
            raw.append(ord(head[i]))
            i += 1
    if len(raw) > 15:
        raise ValueError(f"name longer than 15 bytes: {text!r}")
    pad = b"\0" if bytes(raw) == b"*" else b" "
    return bytes(raw) + pad * (15 - len(raw)) + bytes([suffix]), scope


def first_level(raw16):
    """RFC 1001 14.1: each byte -> two characters 'A' + nibble."""
    return bytes(c for b in raw16 for c in (0x41 + (b >> 4), 0x41 + (b & 15)))


def encode_name(raw16, scope=""):
    """Second-level encoding: 32-byte label, scope labels, root."""
    out = bytearray([32]) + first_level(raw16)
    for label in scope.split(".") if scope else []:
        lb = label.encode("ascii")
        out += bytes([len(lb)]) + lb
    return bytes(out + b"\0")


def name_bytes(text):
    raw, scope = parse_name_text(text)
    return encode_name(raw, scope)


def name_text(raw16, scope=""):
    """Readable form: trailing spaces (or NULs after '*') trimmed, <XX>."""
    body = raw16[:15]
    body = body.rstrip(b"\0") if body[:1] == b"*" else body.rstrip(b" ")
    s = "".join(chr(b) if 0x20 < b < 0x7F and chr(b) not in "\\<>." else
                f"\\x{b:02x}" for b in body)
    s = s or "\\x20"
    s += f"<{raw16[15]:02x}>"
    return s + ("." + scope if scope else "")


def read_name(msg, off, pointers=True):
    """Read a second-level name at `off`. Returns (raw16, scope, end) where
    end is the offset after the name in the original position. Pointers
    must point strictly backwards (RFC 1002 4.1 via RFC 883 compression)."""
    labels = []
    pos = off
    end = None
    hops = 0
    total = 0
    while True:
        if pos >= len(msg):
            raise WireError(pos, "name", "truncated name")
        ln = msg[pos]
        if ln & 0xC0 == 0xC0:
            if not pointers:
                raise WireError(pos, "name", "label pointer not allowed")
            if pos + 1 >= len(msg):
                raise WireError(pos, "name", "truncated pointer")
            target = (ln & 0x3F) << 8 | msg[pos + 1]
            if end is None:
                end = pos + 2
            hops += 1
            if hops > MAX_HOPS:
                raise WireError(pos, "name", "too many pointer hops")
            if target >= pos:
                raise WireError(pos, "name", "pointer not backwards")
            pos = target
            continue
        if ln & 0xC0:
            raise WireError(pos, "name", "reserved label type")
        if ln == 0:
            if end is None:
                end = pos + 1
            break
        if pos + 1 + ln > len(msg):
            raise WireError(pos, "name", "truncated label")
        labels.append(msg[pos + 1:pos + 1 + ln])
        total += ln + 1
        if total + 1 > MAX_NAME:
            raise WireError(pos, "name", "name longer than 255 bytes")
        pos += 1 + ln
    if not labels or len(labels[0]) != 32:
        raise WireError(off, "name", "first label not 32 bytes")
    first = labels[0]
    if any(not 0x41 <= c <= 0x50 for c in first):
        raise WireError(off + 1, "name", "first label character not A-P")
    raw = bytes((first[i] - 0x41) << 4 | (first[i + 1] - 0x41)
                for i in range(0, 32, 2))
    scope = ".".join(lb.decode("latin-1") for lb in labels[1:])
    return raw, scope, end


# --- name service (RFC 1002 4.2) --------------------------------------------

OPCODES = {0: "query", 5: "registration", 6: "release", 7: "wack",
           8: "refresh", 9: "refresh", 15: "multihomed"}
RCODES = {0: "OK", 1: "FMT_ERR", 2: "SRV_ERR", 3: "NAM_ERR", 4: "IMP_ERR",
          5: "RFS_ERR", 6: "ACT_ERR", 7: "CFT_ERR"}
RRTYPES = {1: "A", 2: "NS", 0x0A: "NULL", 0x20: "NB", 0x21: "NBSTAT"}
T_NB, T_NBSTAT, T_NULL = 0x20, 0x21, 0x0A


def ns_flags(opcode, r=False, aa=False, tc=False, rd=False, ra=False,
             b=False, rcode=0):
    return ((r << 15) | (opcode << 11) | (aa << 10) | (tc << 9) | (rd << 8)
            | (ra << 7) | (b << 4) | rcode)


def decode_flags(w):
    return {"r": w >> 15 & 1, "opcode": w >> 11 & 15, "aa": w >> 10 & 1,
            "tc": w >> 9 & 1, "rd": w >> 8 & 1, "ra": w >> 7 & 1,
            "z": w >> 5 & 3, "b": w >> 4 & 1, "rcode": w & 15}


def _u16(msg, off, field):
    if off + 2 > len(msg):
        raise WireError(off, field, "truncated")
    return struct.unpack_from(">H", msg, off)[0]


def _u32(msg, off, field):
    if off + 4 > len(msg):
        raise WireError(off, field, "truncated")
    return struct.unpack_from(">I", msg, off)[0]


def _rdata(rtype, rd, base):
    """Structured view of RDATA for NB, NBSTAT and NULL (WACK) types."""
    if rtype == T_NB:
        if len(rd) % 6:
            raise WireError(base, "rdata", "NB RDATA not a multiple of 6")
        return {"entries": [
            {"flags": f"{struct.unpack_from('>H', rd, i)[0]:04x}",
             "g": rd[i] >> 7, "ont": "bpmh"[rd[i] >> 5 & 3],
             "addr": str(ipaddress.IPv4Address(rd[i + 2:i + 6]))}
            for i in range(0, len(rd), 6)]}
    if rtype == T_NBSTAT:
        if not rd:
            raise WireError(base, "rdata", "empty NBSTAT RDATA")
        n = rd[0]
        need = 1 + 18 * n
        if len(rd) < need:
            raise WireError(base, "num_names", "NUM_NAMES exceeds RDATA")
        names = [{"name": name_text(rd[1 + 18 * i:17 + 18 * i]),
                  "flags": f"{struct.unpack_from('>H', rd, 17 + 18 * i)[0]:04x}"}
                 for i in range(n)]
        return {"num_names": n, "names": names,
                "stats_len": len(rd) - need, "stats": rd[need:].hex()}
    if rtype == T_NULL and len(rd) == 2:
        w = struct.unpack(">H", rd)[0]
        return {"wack_flags": f"{w:04x}"}
    return {}


def parse_ns(msg):
    """Parse a name-service packet into a dict (see module doc)."""
    if len(msg) < 12:
        raise WireError(len(msg), "header", "shorter than 12 bytes")
    trn, flags, qd, an, ns, ar = struct.unpack_from(">6H", msg, 0)
    p = {"trn": trn, "flags": f"{flags:04x}", **decode_flags(flags),
         "qdcount": qd, "ancount": an, "nscount": ns, "arcount": ar,
         "questions": [], "answers": [], "authority": [], "additional": []}
    off = 12
    for _ in range(qd):
        raw, scope, off = read_name(msg, off)
        qt = _u16(msg, off, "qtype")
        qc = _u16(msg, off + 2, "qclass")
        p["questions"].append({"name": name_text(raw, scope), "type": qt,
                               "class": qc})
        off += 4
    for sect, count in (("answers", an), ("authority", ns),
                        ("additional", ar)):
        for _ in range(count):
            rr, off = _parse_rr(msg, off)
            p[sect].append(rr)
    p["trailing"] = len(msg) - off
    return p


def _parse_rr(msg, off):
    name_off = off
    raw, scope, off = read_name(msg, off)
    rtype = _u16(msg, off, "rr_type")
    rclass = _u16(msg, off + 2, "rr_class")
    ttl = _u32(msg, off + 4, "ttl")
    rdlen = _u16(msg, off + 8, "rdlength")
    start = off + 10
    if start + rdlen > len(msg):
        raise WireError(off + 8, "rdlength", "RDLENGTH beyond the packet")
    rd = msg[start:start + rdlen]
    rr = {"name": name_text(raw, scope), "name_off": name_off,
          "name_ptr": msg[name_off] & 0xC0 == 0xC0, "type": rtype,
          "class": rclass, "ttl": ttl, "ttl_off": off + 4,
          "rdlength": rdlen, "rdata": rd.hex()}
    rr.update(_rdata(rtype, rd, start))
    return rr, start + rdlen


def build_ns(trn, flags, questions=(), answers=(), additional=(),
             authority=()):
    """Assemble a name-service packet. questions: (name_bytes, qtype);
    RRs: (name_bytes, rtype, ttl, rdata)."""
    out = bytearray(struct.pack(">6H", trn, flags, len(questions),
                                len(answers), len(authority),
                                len(additional)))
    for name, qtype in questions:
        out += name + struct.pack(">HH", qtype, 1)
    for name, rtype, ttl, rdata in (list(answers) + list(authority)
                                    + list(additional)):
        out += name + struct.pack(">HHIH", rtype, 1, ttl, len(rdata)) + rdata
    return bytes(out)


def nb_rdata(addr, group=False, ont="b"):
    flags = (group << 15) | ("bpmh".index(ont) << 13)
    return struct.pack(">H", flags) + ipaddress.IPv4Address(addr).packed


# --- session service (RFC 1002 4.3) -----------------------------------------

SSN_TYPES = {0x00: "message", 0x81: "request", 0x82: "positive",
             0x83: "negative", 0x84: "retarget", 0x85: "keepalive"}


def ssn_frame_len(buf):
    """Total length of the first session packet in `buf`, or None if the
    4-byte header is incomplete (17-bit length: E bit + 16, RFC 1002 4.3.1)."""
    if len(buf) < 4:
        return None
    return 4 + ((buf[1] & 1) << 16 | buf[2] << 8 | buf[3])


def parse_ssn(pkt):
    if len(pkt) < 4:
        raise WireError(len(pkt), "header", "shorter than 4 bytes")
    t, fl = pkt[0], pkt[1]
    ln = (fl & 1) << 16 | pkt[2] << 8 | pkt[3]
    p = {"type": t, "kind": SSN_TYPES.get(t, "unknown"), "flags": fl,
         "length": ln, "body_len": len(pkt) - 4}
    body = pkt[4:]
    if t == 0x83 and body:
        p["error"] = f"{body[0]:02x}"
    elif t == 0x84 and len(body) >= 6:
        p["ip"] = str(ipaddress.IPv4Address(body[:4]))
        p["port"] = struct.unpack(">H", body[4:6])[0]
    elif t == 0x81:
        try:
            raw, scope, off = read_name(body, 0, pointers=False)
            p["called"] = name_text(raw, scope)
            raw, scope, off = read_name(body, off, pointers=False)
            p["calling"] = name_text(raw, scope)
        except WireError as e:
            p["name_error"] = str(e)
    elif t == 0x00 and len(body) >= 4:
        p["proto"] = body[:4].hex()
    return p


def build_ssn(t, body=b"", flags=None):
    if flags is None:
        flags = (len(body) >> 16) & 1
    return struct.pack(">BBH", t, flags, len(body) & 0xFFFF) + body


# --- datagram service (RFC 1002 4.4) ----------------------------------------

DGM_TYPES = {0x10: "direct_unique", 0x11: "direct_group", 0x12: "broadcast",
             0x13: "error", 0x14: "query", 0x15: "positive_query",
             0x16: "negative_query"}


def parse_dgm(msg):
    if len(msg) < 10:
        raise WireError(len(msg), "header", "shorter than 10 bytes")
    t, fl, dgm_id = struct.unpack_from(">BBH", msg, 0)
    p = {"type": t, "kind": DGM_TYPES.get(t, "unknown"), "flags": fl,
         "id": dgm_id, "src_ip": str(ipaddress.IPv4Address(msg[4:8])),
         "src_port": _u16(msg, 8, "source_port")}
    if t == 0x13:
        if len(msg) < 11:
            raise WireError(10, "error_code", "truncated")
        p["error"] = f"{msg[10]:02x}"
    elif t in (0x10, 0x11, 0x12):
        p["dgm_length"] = _u16(msg, 10, "dgm_length")
        p["packet_offset"] = _u16(msg, 12, "packet_offset")
        raw, scope, off = read_name(msg, 14, pointers=False)
        p["source_name"] = name_text(raw, scope)
        raw, scope, off = read_name(msg, off, pointers=False)
        p["destination_name"] = name_text(raw, scope)
        p["user_data_len"] = len(msg) - off
    elif t in (0x14, 0x15, 0x16):
        raw, scope, _ = read_name(msg, 10, pointers=False)
        p["destination_name"] = name_text(raw, scope)
    return p


def build_dgm(t, src_ip, src_port, src_name=b"", dst_name=b"", data=b"",
              flags=0x02, dgm_id=1, dgm_length=None, packet_offset=0):
    """DIRECT_UNIQUE/GROUP/BROADCAST (4.4.2). DGM_LENGTH counts the names
    and user data: the bytes after PACKET_OFFSET."""
    body = src_name + dst_name + data
    if dgm_length is None:
        dgm_length = len(body)
    return (struct.pack(">BBH", t, flags, dgm_id)
            + ipaddress.IPv4Address(src_ip).packed
            + struct.pack(">HHH", src_port, dgm_length, packet_offset) + body)


def parse(proto, data):
    """Dispatch by protocol name ('nbns', 'nbdgm', 'nbss')."""
    return {"nbns": parse_ns, "nbdgm": parse_dgm, "nbss": parse_ssn}[proto](
        data)
