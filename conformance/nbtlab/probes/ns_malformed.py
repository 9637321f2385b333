"""The malformed list: name-service packets that break RFC 1002 4.1/4.2.1.

Raw bytes by design (no builder would produce them). Each is sent unicast
to port 137 and followed by a liveness query: whatever the node does with
the bad packet, it must not answer it positively and must keep answering
its own name (the empty datagram is CVE-2020-14303; pointer loops, label
and length limits are the classic name-decoder bugs, see
shared/notes/samba-behaviour.md section 6).
"""

import struct

from .. import checks as C
from .. import nbwire
from . import probe

S_NAME = "RFC 1002 4.1"
S_HDR = "RFC 1002 4.2.1"

BAD_RFC = ("The packet is not a well-formed request (%s). The RFC gives an "
           "end node no duty to answer it; a reply may only be a FMT_ERR "
           "('Request was invalidly formatted', 4.2.6/4.2.14), and the node "
           "must go on working (checked by a query for its own name).")


def tolerated(label="q"):
    """No reply other than FMT_ERR, and still alive."""
    def check(v):
        out = []
        for _, p in v.replies(label):
            ok = isinstance(p, dict) and p["r"] == 1 and p["rcode"] == 1
            out.append((ok, "RFC 1002 4.2.1.1: the only acceptable reply to a"
                        " malformed request is a FMT_ERR response (got "
                        + (f"flags 0x{p['flags']}" if isinstance(p, dict)
                           else "an unparsable packet") + ")"))
        if not out:
            out.append((True, "no reply to the malformed packet"))
        return out + C.alive()(v)
    return check


def _hdr(ctx, flags=0, qd=1, an=0, ns=0, ar=0):
    return struct.pack(">6H", ctx.trn(), flags, qd, an, ns, ar)


def _own(ctx, suffix=0x20):
    return nbwire.encode_name(nbwire.parse_name_text(
        f"{ctx.own}<{suffix:02x}>")[0], ctx.scn.scope)


QT = struct.pack(">HH", 0x20, 1)


def _bad(pid, section, title, why, build):
    @probe(pid, section, title, BAD_RFC % why, tolerated(), remote=True)
    def run(ctx):
        ctx.udp("q", build(ctx))
        ctx.liveness()
    return run


_bad("ns.bad.empty", S_HDR, "empty UDP datagram",
     "no 12-byte header; CVE-2020-14303", lambda ctx: b"")
_bad("ns.bad.11-bytes", S_HDR, "11-byte datagram",
     "shorter than the 12-byte header of 4.2.1.1", lambda ctx: _hdr(ctx)[:11])
_bad("ns.bad.header-only", S_HDR, "header with QDCOUNT 1 and nothing else",
     "QDCOUNT promises a question that is not there",
     lambda ctx: _hdr(ctx))
_bad("ns.bad.qdcount-0", S_HDR, "query with QDCOUNT 0",
     "QDCOUNT 'must be non-zero for all NetBIOS Name requests' (4.2.1.1)",
     lambda ctx: _hdr(ctx, qd=0) + _own(ctx) + QT)
_bad("ns.bad.ancount-lies", S_HDR, "query with ANCOUNT 100 and no records",
     "the counts promise 100 records that are not there",
     lambda ctx: _hdr(ctx, an=100) + _own(ctx) + QT)
_bad("ns.bad.no-qtype", S_HDR, "question name without type and class",
     "the question section ends after the name (4.2.1.2)",
     lambda ctx: _hdr(ctx) + _own(ctx))
_bad("ns.bad.opcode-3", S_HDR, "request with opcode 3",
     "opcode 3 is not defined (4.2.1.1)",
     lambda ctx: _hdr(ctx, flags=nbwire.ns_flags(3)) + _own(ctx) + QT)
_bad("ns.bad.pointer-self", S_NAME, "question name is a pointer to itself",
     "a label pointer must point to a prior occurrence of a name (4.1, "
     "RFC 883 compression); this one loops",
     lambda ctx: _hdr(ctx) + b"\xc0\x0c" + QT)
_bad("ns.bad.pointer-loop", S_NAME, "two pointers pointing at each other",
     "a pointer loop (4.1)",
     lambda ctx: _hdr(ctx, qd=2) + b"\xc0\x12" + QT + b"\xc0\x0c" + QT)
_bad("ns.bad.pointer-forward", S_NAME, "question name points forward to a "
     "valid name",
     "a compression pointer refers to a prior occurrence (4.1, RFC 883); a "
     "forward pointer is not one",
     lambda ctx: _hdr(ctx, qd=1) + b"\xc0\x12" + QT + _own(ctx))
_bad("ns.bad.pointer-last-byte", S_NAME, "a pointer in the last byte",
     "the packet ends inside a 2-byte label pointer",
     lambda ctx: _hdr(ctx) + b"\xc0")
_bad("ns.bad.label-31", S_NAME, "first label 31 bytes",
     "the first label is exactly 32 characters (4.1, RFC 1001 14.1)",
     lambda ctx: _hdr(ctx) + _own(ctx)[:1].replace(b"\x20", b"\x1f")
     + _own(ctx)[1:32] + b"\x00" + QT)
_bad("ns.bad.label-33", S_NAME, "first label 33 bytes",
     "the first label is exactly 32 characters (4.1)",
     lambda ctx: _hdr(ctx) + b"\x21" + _own(ctx)[1:33] + b"A\x00" + QT)
_bad("ns.bad.label-chars", S_NAME, "first label with characters outside A-P",
     "first-level encoding uses only 'A'..'P' (RFC 1001 14.1)",
     lambda ctx: _hdr(ctx) + b"\x20" + b"Z" * 32 + b"\x00" + QT)
_bad("ns.bad.label-type-01", S_NAME, "a scope label with type bits 01",
     "label types 01 and 10 are reserved (4.1, RFC 883)",
     lambda ctx: _hdr(ctx) + _own(ctx)[:-1] + b"\x41A\x00" + QT)
_bad("ns.bad.name-too-long", S_NAME, "name over 255 bytes (120 scope labels)",
     "a name is at most 255 bytes (4.1 via RFC 883); CVE-2020-10745 style",
     lambda ctx: _hdr(ctx) + _own(ctx)[:-1] + b"\x01x" * 120 + b"\x00" + QT)
_bad("ns.bad.truncated-name", S_NAME, "datagram ends inside the first label",
     "the name is cut short", lambda ctx: _hdr(ctx) + _own(ctx)[:20])
_bad("ns.bad.rdlength-lies", S_HDR, "registration whose RDLENGTH runs past "
     "the end",
     "RDLENGTH 0xFFFF with 6 bytes of RDATA (4.2.1.3)",
     lambda ctx: _hdr(ctx, flags=nbwire.ns_flags(5, rd=True, b=True), ar=1)
     + nbwire.name_bytes("LIARNAME<00>") + QT
     + b"\xc0\x0c" + QT + b"\x00\x00\x00\x00\xff\xff"
     + nbwire.nb_rdata("192.0.2.100"))


@probe("ns.bad.rdlength-0", S_HDR, "broadcast registration of the node's "
       "own name with RDLENGTH 0",
       "A registration's additional record holds NB_FLAGS and NB_ADDRESS "
       "(RDLENGTH 6, 4.2.2); an empty RDATA names no claimant. Samba reads "
       "6 bytes whatever RDLENGTH says; CVE-2026-3238 was the s4 WINS "
       "server's crash on it. Not specified: compared only; the node must "
       "stay alive.", C.alive(), remote=True)
def _(ctx):
    pkt = (_hdr(ctx, flags=nbwire.ns_flags(5, rd=True, b=True), ar=1)
           + _own(ctx) + QT + b"\xc0\x0c" + QT + b"\x00\x00\x00\x00\x00\x00")
    ctx.udp("q", pkt)
    ctx.liveness()


@probe("ns.bad.oversize", S_HDR, "valid query followed by 700 junk bytes",
       "Name-service datagrams are at most 576 bytes (4.2.1.1 TC flag; RFC "
       "1001 15.1.1); trailing bytes after the question are not defined. "
       "Not specified; the node must stay alive.", C.alive(), remote=True)
def _(ctx):
    ctx.udp("q", _hdr(ctx, flags=0) + _own(ctx) + QT + b"\xee" * 700)
    ctx.liveness()
