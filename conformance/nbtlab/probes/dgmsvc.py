"""Datagram service probes of issue 8 (nbtd's datagram service): the cases
the basic set (dgm.py) leaves open - a fragmented datagram reassembled,
the storm and reflection rules for DATAGRAM ERROR, other scopes, user
data over 512 bytes, and the browser's AnnouncementRequest.

nbtd's choices (nb/dgmsvc.h, docs/CONFORMANCE.md "Datagram service
engine"): DATAGRAM ERROR only to datagrams received by unicast from the
address in their SOURCE_IP; fragments reassembled (RFC 1002 5.3.3 allows
out-of-order reassembly) and judged as one datagram; no browser
announcements of its own (nbtd is not an SMB server).
"""

import socket
import struct

from .. import checks as C
from .. import nbwire
from .. import scenarios as sc
from ..exchange import Step, _collect
from . import probe
from .dgm import datagram_error, quiet

S = "RFC 1002 5.3.3"
CLIENT = sc.CLIENT_ADDR
PAYLOAD = b"nbtkit lab datagram, in two fragments: " + bytes(range(48, 123))


def _hdr(ctx, t, flags, dgm_id, length, offset, src_ip=CLIENT):
    return struct.pack(">BBH4sHHH", t, flags, dgm_id,
                       socket.inet_aton(src_ip), 138, length, offset)


def _names(ctx, dst, src="NBTPROBE<00>"):
    return (nbwire.name_bytes(ctx.name(src)) + nbwire.name_bytes(ctx.name(dst)))


def _send(ctx, pkt, label="q", bcast=False):
    st = ctx.udp(label, pkt, port=138, bcast=bcast, also_listen=(138,))
    return st


def _fragments(ctx, dst):
    """One DIRECT_UNIQUE datagram cut in two (RFC 1001 17.1.2: FIRST and
    MORE set on the first, OFFSET = the data-section bytes before)."""
    body = _names(ctx, dst) + PAYLOAD
    cut = len(body) - 40
    dgm_id = ctx.trn()
    first = _hdr(ctx, 0x10, 0x03, dgm_id, len(body), 0) + body[:cut]
    second = _hdr(ctx, 0x10, 0x00, dgm_id, len(body), cut) + body[cut:]
    return first, second


@probe("dgmsvc.fragment.own", S, "a datagram in two fragments to the node's "
       "own name",
       "The first fragment is saved, the second completes the datagram, "
       "which is delivered to the name's receives (5.3.3); no reply.",
       C.all_of(C.silence("first", why=S), quiet("no reply")), remote=True)
def _(ctx):
    first, second = _fragments(ctx, f"{ctx.own}<20>")
    _send(ctx, first, label="first")
    _send(ctx, second)
    ctx.liveness()


@probe("dgmsvc.fragment.unknown", S, "a datagram in two fragments to a "
       "unique name the node does not own",
       "Reassembled, the datagram is for a name not in the local name "
       "table: DATAGRAM ERROR 0x82 once it is complete (5.3.3), not for "
       "the first fragment.",
       C.all_of(C.silence("first", why=S), datagram_error(), C.alive()),
       remote=True)
def _(ctx):
    first, second = _fragments(ctx, "NOSUCHNAME<20>")
    _send(ctx, first, label="first")
    _send(ctx, second)
    ctx.liveness()


@probe("dgmsvc.unique.unknown-bcast", "RFC 1001 17.2", "DIRECT_UNIQUE to an "
       "unknown name, sent by broadcast",
       "Read literally 5.3.3 answers it with a DATAGRAM ERROR; every node of "
       "the subnet would (a storm). Errors go only to datagrams received by "
       "unicast (nbtd's reading; nmbd never sends one).",
       quiet("no DATAGRAM ERROR to a broadcast"))
def _(ctx):
    pkt = ctx.codec.dgm("unique", CLIENT, 138, ctx.name("NBTPROBE<00>"),
                        ctx.name("NOSUCHNAME<20>"), b"x", dgm_id=ctx.trn())
    _send(ctx, pkt, bcast=True)
    ctx.liveness()


@probe("dgmsvc.unique.forged-source", S, "DIRECT_UNIQUE to an unknown name "
       "whose SOURCE_IP is not the sender's",
       "5.3.3 answers 'to source IP address and port of UDP', RFC 1001 17.2 "
       "'to the SOURCE_IP and SOURCE_PORT'; when they differ the datagram "
       "was relayed or forged, and an error would be reflected: none.",
       quiet("no reply"), remote=True)
def _(ctx):
    dst = _names(ctx, "NOSUCHNAME<20>") + b"x"
    pkt = _hdr(ctx, 0x10, 0x02, ctx.trn(), len(dst), 0,
               src_ip=sc.ABSENT_ADDR) + dst
    _send(ctx, pkt)
    ctx.liveness()


@probe("dgmsvc.group.unicast-unknown", "RFC 1001 17.2", "DIRECT_GROUP sent "
       "by unicast to a group the node is not in",
       "'The receiving node quietly discards datagrams with a GROUP name "
       "destination if the name is not owned by the node' (RFC 1001 17.2).",
       quiet("quietly discarded"), remote=True)
def _(ctx):
    pkt = ctx.codec.dgm("group", CLIENT, 138, ctx.name("NBTPROBE<00>"),
                        ctx.name("NOSUCHGROUP<1e>"), b"x", dgm_id=ctx.trn())
    _send(ctx, pkt)
    ctx.liveness()


@probe("dgmsvc.scope.other", "RFC 1001 14", "DIRECT_UNIQUE to the node's "
       "name in another scope",
       "A name in another scope is another name space (RFC 1001 14, RFC "
       "1002 5.3: single-scope operation): discarded.",
       C.alive(), remote=True)
def _(ctx):
    dst = (nbwire.name_bytes("NBTPROBE<00>.OTHER.SCOPE")
           + nbwire.name_bytes(f"{ctx.own}<20>.OTHER.SCOPE") + b"x")
    _send(ctx, _hdr(ctx, 0x10, 0x02, ctx.trn(), len(dst), 0) + dst)
    ctx.liveness()


@probe("dgmsvc.user-data.600", "RFC 1001 17.1.2", "DIRECT_UNIQUE to the "
       "node's name with 600 bytes of user data",
       "'The NetBIOS user's data (maximum of 512 bytes)': over the limit; "
       "not specified beyond staying alive (nbtd drops it, nmbd reads at "
       "most 576 bytes).",
       C.alive(), remote=True)
def _(ctx):
    body = _names(ctx, f"{ctx.own}<20>") + b"L" * 600
    _send(ctx, _hdr(ctx, 0x10, 0x02, ctx.trn(), len(body), 0) + body)
    ctx.liveness()


def _announcement_request(ctx):
    """AnnouncementRequest ([MS-BRWS] 2.2.2) in a \\MAILSLOT\\BROWSE
    transaction, as nmbd's broadcast_announce_request builds it."""
    browse = b"\x02\x00NBTPROBE\x00"
    name = b"\\MAILSLOT\\BROWSE\x00"
    data_off = 32 + 1 + 34 + 2 + len(name)
    words = struct.pack("<HHHHBBHIHHHHHBBHHH", 0, len(browse), 0, 0, 0, 0, 0,
                        0, 0, 0, 0, len(browse), data_off, 3, 0, 1, 0, 2)
    smb = (b"\xffSMB\x25" + b"\x00" * 27 + b"\x11" + words
           + struct.pack("<H", len(name) + len(browse)) + name + browse)
    return ctx.codec.dgm("group", CLIENT, 138, ctx.name("NBTPROBE<00>"),
                         ctx.name(f"{ctx.scn.workgroup}<1e>"), smb,
                         dgm_id=ctx.trn())


@probe("dgmsvc.browse.announce-request", "MS-BRWS 3.3.5",
       "AnnouncementRequest to the workgroup's <1e> group",
       "Not RFC 1001/1002: the browser protocol has servers answer with a "
       "HostAnnouncement to WORKGROUP<1d> by broadcast. nmbd announces; "
       "nbtd is not an SMB server and sends none (it delivers the request "
       "to applications bound to WORKGROUP<1e>).",
       C.alive(), tags=("browse",))
def _(ctx):
    listen = ctx.socket()
    listen.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listen.bind((ctx.bcast, 138))  # announcements go to BCAST:138
    try:
        st = Step("announce", "listen", "nbdgm", ctx.bcast, 138, 138)
        ctx._add(st)
        _send(ctx, _announcement_request(ctx), bcast=True)
        st.rx = [rx for rx in _collect([listen], "nbdgm", 3.0, 0.5)
                 if rx.src == ctx.target]
        for rx in st.rx:  # DGM_ID is the sender's counter: not compared
            rx.data = rx.data[:2] + b"\0\0" + rx.data[4:]
        ctx.note("DGM_ID of the announcements zeroed for the comparison")
    finally:
        listen.close()
    ctx.liveness()
