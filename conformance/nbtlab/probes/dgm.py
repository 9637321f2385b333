"""Datagram service probes (UDP 138; RFC 1002 4.4, 5.3.3; RFC 1001 17).

Datagrams carry SOURCE_IP/SOURCE_PORT in their header; we write the
client's address and 138 there, send from an ephemeral port, and listen on
both (RFC 1002 5.3.3 sends a DATAGRAM ERROR 'to source IP address and port
of UDP'). Every probe ends with a name query so a crash of the datagram
code shows (nmbd serves both ports in one process).
"""

import struct

from .. import checks as C
from .. import nbwire
from .. import scenarios as sc
from . import probe

S = "RFC 1002 5.3.3"
CLIENT = sc.CLIENT_ADDR
PAYLOAD = b"nbtkit lab datagram"


def _dgm(ctx, kind, dst, src="NBTPROBE<00>", data=PAYLOAD, bcast=False,
         label="q"):
    pkt = ctx.codec.dgm(kind, CLIENT, 138, ctx.name(src), ctx.name(dst),
                        data, dgm_id=ctx.trn())
    return _send(ctx, pkt, bcast=bcast, label=label)


def _send(ctx, pkt, bcast=False, label="q"):
    st = ctx.udp(label, pkt, port=138, bcast=bcast, also_listen=(138,))
    ctx.liveness()
    return st


def datagram_error(label="q", code="82"):
    why = "RFC 1002 5.3.3"

    def check(v):
        reps = v.replies(label)
        if len(reps) != 1 or not isinstance(reps[0][1], dict):
            return [(False, f"{why}: one DATAGRAM ERROR packet expected "
                     f"(got {len(reps)} replies)")]
        rx, p = reps[0]
        return [(p["type"] == 0x13, f"{why}: MSG_TYPE 0x13 DATAGRAM ERROR "
                 f"(got 0x{p['type']:02x})"),
                (p.get("error") == code, f"{why}: ERROR_CODE 0x{code} "
                 f"(got {p.get('error')})"),
                (p["flags"] & 0x03 == 0, f"{why}: FIRST and MORE cleared"),
                (p["src_ip"] == v.target, f"{why}: SOURCE_IP is the node's "
                 f"({p['src_ip']})")]
    return check


def quiet(text):
    return C.all_of(C.silence(why=S, text=text), C.alive())


@probe("dgm.unique.unknown", S, "DIRECT_UNIQUE to a name the node does not "
       "own",
       "'IF DESTINATION_NAME is not present in the local name table THEN "
       "build DATAGRAM ERROR packet, clear FIRST and MORE bit, put in this "
       "nodes IP and PORT, set ERROR_CODE' 0x82 DESTINATION NAME NOT "
       "PRESENT (5.3.3, 4.4.3).",
       C.all_of(datagram_error(), C.alive()), remote=True)
def _(ctx):
    _dgm(ctx, "unique", "NOSUCHNAME<20>")


@probe("dgm.unique.own", S, "DIRECT_UNIQUE to the node's own name",
       "Delivered to the name's pending receives; no reply (5.3.3).",
       quiet("no reply"), remote=True)
def _(ctx):
    _dgm(ctx, "unique", f"{ctx.own}<20>")


@probe("dgm.group.own", S, "DIRECT_GROUP to the node's workgroup <1e>",
       "Delivered to the group's receives; no reply (5.3.3).",
       quiet("no reply"))
def _(ctx):
    _dgm(ctx, "group", f"{ctx.scn.workgroup}<1e>", bcast=True)


@probe("dgm.group.unknown", "RFC 1001 17.2", "DIRECT_GROUP to a group the "
       "node is not in",
       "'The receiving node quietly discards datagrams with a GROUP name "
       "destination if the name is not owned by the node' (RFC 1001 17.2).",
       quiet("quietly discarded"))
def _(ctx):
    _dgm(ctx, "group", "NOSUCHGROUP<1e>", bcast=True)


@probe("dgm.broadcast", S, "BROADCAST datagram to '*'",
       "Delivered to receive-broadcast requests; no reply (5.3.3).",
       quiet("no reply"))
def _(ctx):
    _dgm(ctx, "broadcast", "*<00>", bcast=True)


def _raw_hdr(ctx, t, flags=0x02, port=138):
    return struct.pack(">BBH", t, flags, ctx.trn() & 0xFFFF) + bytes(
        [192, 0, 2, 100]) + struct.pack(">H", port)


def _names(ctx, dst):
    return (nbwire.name_bytes(ctx.name("NBTPROBE<00>"))
            + nbwire.name_bytes(ctx.name(dst)))


@probe("dgm.error.to-node", "RFC 1002 4.4.3", "a DATAGRAM ERROR sent to the "
       "node",
       "An error packet reports on a datagram the receiver sent; 5.3.3 has "
       "no case for receiving one: not specified (no reply expected).",
       C.alive(), remote=True)
def _(ctx):
    _send(ctx, _raw_hdr(ctx, 0x13) + b"\x82")


@probe("dgm.query.own", "RFC 1002 4.4.4", "DATAGRAM QUERY REQUEST for the "
       "node's name",
       "Datagram queries are addressed to the NBDD (5.3.4); an end node's "
       "handling is not specified.", C.alive(), remote=True)
def _(ctx):
    _send(ctx, _raw_hdr(ctx, 0x14)
          + nbwire.name_bytes(ctx.name(f"{ctx.own}<20>")))


@probe("dgm.fragment.first-only", S, "first fragment (F=1, M=1) with no "
       "second",
       "The first fragment is saved until FRAGMENT_TO and then discarded "
       "(5.3.3): no reply.", quiet("no reply"), remote=True)
def _(ctx):
    body = _names(ctx, f"{ctx.own}<20>") + PAYLOAD
    pkt = _raw_hdr(ctx, 0x10, flags=0x03) + struct.pack(">HH", len(body), 0)
    _send(ctx, pkt + body)


@probe("dgm.fragment.second-only", S, "a non-first fragment (F=0) with no "
       "first",
       "'IF found 1st fragment THEN ... ELSE discard 2nd fragment' (5.3.3): "
       "no reply.", quiet("no reply"), remote=True)
def _(ctx):
    body = _names(ctx, f"{ctx.own}<20>") + PAYLOAD
    pkt = _raw_hdr(ctx, 0x10, flags=0x00) + struct.pack(">HH", len(body), 40)
    _send(ctx, pkt + body)


BAD = ("The datagram breaks RFC 1002 4.4 (%s). 5.3.3 defines error codes "
       "0x83/0x84 for bad source/destination names but no rule to send "
       "them; not specified beyond staying alive.")


def _bad(pid, title, why, build):
    @probe(pid, "RFC 1002 4.4.1", title, BAD % why, C.alive(), remote=True)
    def run(ctx):
        _send(ctx, build(ctx))
    return run


_bad("dgm.bad.short", "9-byte datagram", "shorter than the 10-byte header",
     lambda ctx: _raw_hdr(ctx, 0x10)[:9])
_bad("dgm.bad.header-only", "DIRECT_UNIQUE with a header and nothing else",
     "DGM_LENGTH and the names are missing",
     lambda ctx: _raw_hdr(ctx, 0x10))
_bad("dgm.bad.dgm-length", "DIRECT_UNIQUE whose DGM_LENGTH says 999",
     "DGM_LENGTH does not match the bytes that follow",
     lambda ctx: _raw_hdr(ctx, 0x10) + struct.pack(">HH", 999, 0)
     + _names(ctx, f"{ctx.own}<20>") + PAYLOAD)
_bad("dgm.bad.source-name", "DIRECT_UNIQUE with a 31-byte source label",
     "the SOURCE_NAME's first label is not 32 bytes",
     lambda ctx: _raw_hdr(ctx, 0x10) + struct.pack(">HH", 80, 0)
     + b"\x1f" + b"A" * 31 + b"\x00"
     + nbwire.name_bytes(ctx.name(f"{ctx.own}<20>")) + PAYLOAD)
_bad("dgm.bad.pointer-name", "DIRECT_UNIQUE whose destination is a label "
     "pointer", "label pointers are for name-service packets only (4.1)",
     lambda ctx: _raw_hdr(ctx, 0x10) + struct.pack(">HH", 40, 0)
     + nbwire.name_bytes(ctx.name("NBTPROBE<00>")) + b"\xc0\x0e" + PAYLOAD)
_bad("dgm.bad.type-0x20", "datagram with MSG_TYPE 0x20",
     "0x20 is not a defined MSG_TYPE",
     lambda ctx: _raw_hdr(ctx, 0x20) + b"\x00" * 8)
_bad("dgm.bad.reserved-flags", "DIRECT_UNIQUE with reserved flag bits set",
     "FLAGS bits 0-3 are reserved, must be zero",
     lambda ctx: _raw_hdr(ctx, 0x10, flags=0xF2)
     + struct.pack(">HH", 68 + len(PAYLOAD), 0)
     + _names(ctx, f"{ctx.own}<20>") + PAYLOAD)
