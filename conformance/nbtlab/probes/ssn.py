"""Session service probes (TCP 139; RFC 1002 4.3, 5.2; RFC 1001 16).

Each probe is one TCP conversation; the events (what we sent, each session
packet received, end of stream, reset, or the connection still open at the
end) are what is compared. Facts designed for (samba-behaviour.md 3.2):
smbd answers any called name positively, closes on a keepalive before
negotiate, closes on a second request, and retargets a configured name.
"""

import struct
import uuid

from .. import checks as C
from .. import nbwire
from .. import scenarios as sc
from . import probe

S_REQ = "RFC 1002 5.2.1.2"
CALLING = "NBTPROBE<00>"


def smb2_negotiate():
    """A minimal SMB2 NEGOTIATE request (dialects 2.0.2 and 2.1) - the
    payload of a session message, not NBT itself."""
    hdr = (b"\xfeSMB" + struct.pack("<HHIHHIIQIIQ", 64, 0, 0, 0, 1, 0, 0, 0,
                                    0xFEFF, 0, 0) + b"\0" * 16)
    body = struct.pack("<HHHHI", 36, 2, 1, 0, 0)
    body += uuid.UUID("6e627400-0000-4000-8000-6c6162000000").bytes
    body += struct.pack("<Q", 0) + struct.pack("<HH", 0x0202, 0x0210)
    return hdr + body


def events(v, label="tcp:139"):
    return v.step(label).events


def _received(v, kind=None):
    out = []
    for e in events(v):
        if e[0] == "recv":
            p = nbwire.parse_ssn(e[1])
            if kind is None or p["type"] == kind:
                out.append(p)
    return out


def _closed(v):
    return any(e[0] in ("eof", "reset") for e in events(v))


def positive_then_open(after_keepalive=False):
    def check(v):
        pos = _received(v, 0x82)
        neg = _received(v, 0x83)
        out = [(len(pos) == 1 and not neg, "RFC 1002 5.2.1.2: a POSITIVE "
                "SESSION RESPONSE for a called name the node listens on"),
               (all(p["flags"] == 0 and p["length"] == 0 for p in pos),
                "RFC 1002 4.3.3: type 0x82, FLAGS 0, LENGTH 0"),
               (not _closed(v), "RFC 1002 5.2.1.2: the session stays open ("
                "connection " + ("closed" if _closed(v) else "open") + ")")]
        if after_keepalive:
            out.append((True, "RFC 1001 16.3.2: 'when a session keep alive "
                        "packet is received, it should be discarded'"))
        return out
    return check


def negative(code="82"):
    def check(v):
        neg = _received(v, 0x83)
        out = [(len(neg) == 1 and not _received(v, 0x82),
                "RFC 1002 5.2.1.2: a NEGATIVE SESSION RESPONSE")]
        if neg:
            out += [(neg[0].get("error") == code, "RFC 1002 4.3.4: ERROR_CODE "
                     f"0x{code} (got {neg[0].get('error')})"),
                    (neg[0]["length"] == 1, "RFC 1002 4.3.4: LENGTH 1")]
        out.append((_closed(v), "RFC 1002 5.2.1.2: then close TCP "
                    "connection"))
        return out
    return check


def not_positive(why):
    def check(v):
        return [(not _received(v, 0x82), f"{why}: no POSITIVE SESSION "
                 "RESPONSE")]
    return check


def _request(ctx, called, calling=CALLING, finish=True):
    conv = ctx.tcp(139)
    conv.send(ctx.codec.ssn_request(ctx.name(called), ctx.name(calling)),
              "request").read()
    if finish:
        conv.finish()
    return conv


@probe("ssn.request.own", "RFC 1002 4.3.3", "SESSION REQUEST to the node's "
       "own name <20>",
       "The node listens on its name: POSITIVE SESSION RESPONSE (4.3.3: "
       "0x82, LENGTH 0) and the connection is handed to the session "
       "(5.2.1.2).", positive_then_open(), remote=True)
def _(ctx):
    _request(ctx, f"{ctx.own}<20>")


@probe("ssn.request.alias", "RFC 1002 4.3.3", "SESSION REQUEST to the "
       "node's alias <20>",
       "As for the own name: the alias is a name the node owns.",
       positive_then_open())
def _(ctx):
    _request(ctx, f"{ctx.scn.aliases[0]}<20>")


UNKNOWN_RFC = ("'IF called name does not exist on node THEN send NEGATIVE "
               "SESSION RESPONSE with CALLED NAME NOT PRESENT error code "
               "(0x82); close TCP connection' (5.2.1.2).")


@probe("ssn.request.unknown", S_REQ, "SESSION REQUEST to a name the node "
       "does not own", UNKNOWN_RFC, negative("82"), remote=True)
def _(ctx):
    _request(ctx, "NOSUCHNAME<20>")


@probe("ssn.request.smbserver", S_REQ, "SESSION REQUEST to '*SMBSERVER<20>'",
       UNKNOWN_RFC + " '*SMBSERVER' is a Windows convention for 'whoever "
       "you are'; no node may own a name starting with '*' (RFC 1001 5.2).",
       negative("82"), remote=True)
def _(ctx):
    _request(ctx, "*SMBSERVER<20>")


@probe("ssn.request.lowercase", S_REQ, "SESSION REQUEST to the own name in "
       "lower case",
       "Whether called names compare case-insensitively is not specified "
       "(RFC 1001 14).", C.unspecified, remote=True)
def _(ctx):
    _request(ctx, f"{ctx.own.lower()}<20>")


def _raw_request(ctx, body, flags=None):
    conv = ctx.tcp(139)
    conv.send(nbwire.build_ssn(0x81, body, flags), "request").read()
    conv.finish()


BAD_RFC = ("The SESSION REQUEST is malformed (%s); 5.2.1.2 only knows "
           "well-formed called names. Not specified beyond not accepting "
           "the session with a name the node does not own.")


@probe("ssn.request.empty", "RFC 1002 4.3.2", "SESSION REQUEST with an "
       "empty trailer", BAD_RFC % "no names", not_positive("RFC 1002 4.3.2"),
       remote=True)
def _(ctx):
    _raw_request(ctx, b"")


@probe("ssn.request.label-31", "RFC 1002 4.3.2", "SESSION REQUEST whose "
       "called name has a 31-byte first label",
       BAD_RFC % "the first label is not 32 bytes (4.1)", C.unspecified,
       remote=True)
def _(ctx):
    called = b"\x1f" + nbwire.first_level(
        nbwire.parse_name_text(f"{ctx.own}<20>")[0])[:31] + b"\x00"
    _raw_request(ctx, called + ctx.codec.name(CALLING))


@probe("ssn.request.pointer", "RFC 1002 4.3.2", "SESSION REQUEST whose "
       "calling name is a label pointer to the called name",
       BAD_RFC % "label pointers are only for name-service packets (4.1)",
       C.unspecified, remote=True)
def _(ctx):
    _raw_request(ctx, ctx.codec.name(f"{ctx.own}<20>") + b"\xc0\x04")


@probe("ssn.request.calling-type-r", "RFC 1002 4.3.2", "SESSION REQUEST "
       "with calling name suffix 'R' (0x52)",
       "Any suffix is a valid name byte; 5.2.1.2 may refuse a calling name "
       "('NOT LISTENING FOR CALLING NAME') but does not require it: not "
       "specified.", C.unspecified, remote=True)
def _(ctx):
    _request(ctx, f"{ctx.own}<20>", calling="NBTPROBE<52>")


@probe("ssn.request.trailing", "RFC 1002 4.3.2", "SESSION REQUEST with 20 "
       "junk bytes after the names",
       "LENGTH covers more than the two names; the trailer of 4.3.2 is "
       "exactly CALLED NAME and CALLING NAME. Not specified.",
       C.unspecified, remote=True)
def _(ctx):
    body = (ctx.codec.name(f"{ctx.own}<20>") + ctx.codec.name(CALLING)
            + b"\x55" * 20)
    _raw_request(ctx, body)


@probe("ssn.request.twice", "RFC 1002 5.2.1.2", "a second SESSION REQUEST "
       "on an established session",
       "After a POSITIVE SESSION RESPONSE the connection is in the data "
       "transfer phase (5.2.2), where a SESSION REQUEST is not defined: not "
       "specified.", C.unspecified, remote=True)
def _(ctx):
    conv = _request(ctx, f"{ctx.own}<20>", finish=False)
    conv.send(ctx.codec.ssn_request(ctx.name(f"{ctx.own}<20>"),
                                    ctx.name(CALLING)), "request 2")
    conv.finish()


@probe("ssn.keepalive.before-request", "RFC 1001 16.3.2", "SESSION KEEP "
       "ALIVE, then SESSION REQUEST",
       "'When a session keep alive packet is received, it should be "
       "discarded' (RFC 1001 16.3.2); the request that follows is answered "
       "positively (RFC 1002 5.2.1.2).",
       positive_then_open(after_keepalive=True), remote=True)
def _(ctx):
    conv = ctx.tcp(139)
    conv.send(ctx.codec.ssn_keepalive(), "keepalive").read()
    conv.send(ctx.codec.ssn_request(ctx.name(f"{ctx.own}<20>"),
                                    ctx.name(CALLING)), "request")
    conv.finish()


@probe("ssn.keepalive.after-request", "RFC 1001 16.3.2", "SESSION REQUEST, "
       "then SESSION KEEP ALIVE",
       "The keep alive is discarded (RFC 1001 16.3.2, RFC 1002 4.3.7); the "
       "session stays open.", positive_then_open(after_keepalive=True),
       remote=True)
def _(ctx):
    conv = _request(ctx, f"{ctx.own}<20>", finish=False)
    conv.send(ctx.codec.ssn_keepalive(), "keepalive")
    conv.finish()


@probe("ssn.keepalive.after-negotiate", "RFC 1001 16.3.2", "SESSION "
       "REQUEST, SMB2 NEGOTIATE, then SESSION KEEP ALIVE",
       "The keep alive is discarded (RFC 1001 16.3.2); the session stays "
       "open.", positive_then_open(after_keepalive=True), remote=True,
       mask=("smb",))
def _(ctx):
    conv = _request(ctx, f"{ctx.own}<20>", finish=False)
    conv.send(ctx.codec.ssn_message(smb2_negotiate()), "negotiate").read()
    conv.send(ctx.codec.ssn_keepalive(), "keepalive")
    conv.finish()


def message_framing(v):
    """Session messages from the node use FLAGS 0 or the E bit only and
    LENGTH matching the bytes (RFC 1002 4.3.1, 4.3.6)."""
    msgs = _received(v, 0x00)
    out = [(bool(msgs), "RFC 1002 4.3.6: the SMB reply arrives as a SESSION "
            "MESSAGE")]
    for m in msgs:
        out.append((m["flags"] & 0xFE == 0, "RFC 1002 4.3.1: FLAGS reserved "
                    f"bits zero (flags 0x{m['flags']:02x})"))
        out.append((m["length"] == m["body_len"], "RFC 1002 4.3.1: LENGTH "
                    "is the number of bytes following"))
    return out


@probe("ssn.message.negotiate", "RFC 1002 4.3.6", "SESSION REQUEST, then "
       "an SMB2 NEGOTIATE in a SESSION MESSAGE",
       "User data travels in SESSION MESSAGEs (4.3.6) whose 17-bit LENGTH "
       "counts the bytes after the header (4.3.1).",
       C.all_of(positive_then_open(), message_framing), remote=True,
       mask=("smb",))
def _(ctx):
    conv = _request(ctx, f"{ctx.own}<20>", finish=False)
    conv.send(ctx.codec.ssn_message(smb2_negotiate()), "negotiate")
    conv.finish()


@probe("ssn.message.before-request", "RFC 1002 5.2.1.2", "SMB2 NEGOTIATE "
       "without a SESSION REQUEST",
       "5.2.1.2 handles only SESSION REQUEST in the establishment phase; "
       "anything else is not specified (direct-hosted SMB on 139 is a "
       "Microsoft/Samba extension).", C.unspecified, remote=True,
       mask=("smb",))
def _(ctx):
    conv = ctx.tcp(139)
    conv.send(ctx.codec.ssn_message(smb2_negotiate()), "negotiate")
    conv.finish()


@probe("ssn.length.e-bit", "RFC 1002 4.3.1", "SESSION REQUEST, then a "
       "SESSION MESSAGE of 65540 bytes (E bit set)",
       "The E bit is the 17th length bit, so LENGTH 0x10004 covers all "
       "65540 bytes (4.3.1). The content is junk for SMB; what the upper "
       "layer does with it is not specified.", C.unspecified, remote=True)
def _(ctx):
    conv = _request(ctx, f"{ctx.own}<20>", finish=False)
    conv.send(nbwire.build_ssn(0x00, b"\x00" * 65540), "message 64K+4")
    conv.finish(window=1.5)


@probe("ssn.length.reserved-flags", "RFC 1002 4.3.1", "SESSION REQUEST, "
       "then a SESSION MESSAGE header with reserved FLAGS bits set "
       "(a 24-bit length 0x7f0004)",
       "FLAGS bits 0-6 are reserved and must be zero (4.3.1); with them set "
       "the header is invalid for RFC 1002 (it reads as a 24-bit length "
       "only under direct-hosted SMB). Not specified.", C.unspecified,
       remote=True)
def _(ctx):
    conv = _request(ctx, f"{ctx.own}<20>", finish=False)
    conv.send(b"\x00\x7f\x00\x04" + b"\x00" * 4, "bad header")
    conv.finish(window=1.5)


@probe("ssn.bad.type-0x89", "RFC 1002 4.3.1", "a first packet of type "
       "0x89",
       "0x89 is not a session packet type (4.3.1): not specified.",
       C.unspecified, remote=True)
def _(ctx):
    conv = ctx.tcp(139)
    conv.send(b"\x89\x00\x00\x00", "type 0x89")
    conv.finish()


@probe("ssn.retarget", "RFC 1002 4.3.5", "SESSION REQUEST to a name the "
       "node retargets",
       "A listener elsewhere gets 'RETARGET SESSION RESPONSE with listener's "
       "IP address and TCP port; close TCP connection' (5.2.1.2; 4.3.5: "
       "type 0x84, LENGTH 6).",
       lambda v: retarget_check(v))
def _(ctx):
    _request(ctx, f"{ctx.scn.retarget_name}<20>")


def retarget_check(v):
    why = "RFC 1002 4.3.5"
    rt = _received(v, 0x84)
    out = [(len(rt) == 1, f"{why}: a RETARGET SESSION RESPONSE")]
    if rt:
        out += [(rt[0]["length"] == 6 and rt[0]["flags"] == 0,
                 f"{why}: FLAGS 0, LENGTH 6"),
                (rt[0].get("ip") == v.target and rt[0].get("port")
                 == sc.RETARGET_PORT, f"{why}: RETARGET_IP_ADDRESS and PORT "
                 f"of the listener ({rt[0].get('ip')}:{rt[0].get('port')})")]
    out.append((_closed(v), "RFC 1002 5.2.1.2: then close TCP connection"))
    return out


# --- scenario smb1: `server min protocol = NT1` sends smbd down its SMB1
# path, where session packets before negotiate go to reply_special() -----

@probe("ssn.smb1.keepalive.before-request", "RFC 1001 16.3.2", "(SMB1 "
       "server) SESSION KEEP ALIVE, then SESSION REQUEST",
       "The keep alive is discarded (RFC 1001 16.3.2); the request is "
       "answered positively (RFC 1002 5.2.1.2).",
       positive_then_open(after_keepalive=True), scenario="smb1")
def _(ctx):
    conv = ctx.tcp(139)
    conv.send(ctx.codec.ssn_keepalive(), "keepalive").read()
    conv.send(ctx.codec.ssn_request(ctx.name(f"{ctx.own}<20>"),
                                    ctx.name(CALLING)), "request")
    conv.finish()


@probe("ssn.smb1.keepalive.after-request", "RFC 1001 16.3.2", "(SMB1 "
       "server) SESSION REQUEST, then SESSION KEEP ALIVE",
       "The keep alive is discarded; the session stays open.",
       positive_then_open(after_keepalive=True), scenario="smb1")
def _(ctx):
    conv = _request(ctx, f"{ctx.own}<20>", finish=False)
    conv.send(ctx.codec.ssn_keepalive(), "keepalive")
    conv.finish()


@probe("ssn.smb1.request.twice", "RFC 1002 5.2.1.2", "(SMB1 server) a "
       "second SESSION REQUEST", "Not specified (see ssn.request.twice).",
       C.unspecified, scenario="smb1")
def _(ctx):
    conv = _request(ctx, f"{ctx.own}<20>", finish=False)
    conv.send(ctx.codec.ssn_request(ctx.name(f"{ctx.own}<20>"),
                                    ctx.name(CALLING)), "request 2")
    conv.finish()


@probe("ssn.smb1.request.own", "RFC 1002 4.3.3", "(SMB1 server) SESSION "
       "REQUEST to the own name", "POSITIVE SESSION RESPONSE (5.2.1.2).",
       positive_then_open(), scenario="smb1")
def _(ctx):
    _request(ctx, f"{ctx.own}<20>")
