"""Name query probes (RFC 1002 4.2.12-4.2.15, 5.1.1.5; RFC 1001 15.1.2)."""

import struct

from .. import checks as C
from .. import nbwire
from . import probe

S_POS = "RFC 1002 4.2.13"
S_NEG = "RFC 1002 4.2.14"
S_REQ = "RFC 1002 4.2.12"


def _query(ctx, name, bcast=False, rd=None, label="q"):
    pkt = ctx.codec.ns("query", ctx.name(name), ctx.trn(), bcast=bcast,
                       rd=rd)
    return ctx.udp(label, pkt, bcast=bcast)


def _raw_query(ctx, raw16, qtype=0x20, qclass=1, flags=None, extra=b"",
               qdcount=1, label="q"):
    """A query assembled field by field (for odd names, classes and
    flags): raw bytes by design."""
    flags = nbwire.ns_flags(0) if flags is None else flags
    name = nbwire.encode_name(raw16, ctx.scn.scope)
    pkt = (struct.pack(">6H", ctx.trn(), flags, qdcount, 0, 0, 0) + name
           + struct.pack(">HH", qtype, qclass) + extra)
    return ctx.udp(label, pkt)


def _raw(text):
    return nbwire.parse_name_text(text)[0]


OWN_RFC = ("An end node that owns the name answers with a POSITIVE NAME "
           "QUERY RESPONSE to the requester's address and port: R=1, AA=1, "
           "RD=1, RA=1 (4.2.15: end nodes set AA and RA), RCODE 0, one NB "
           "record for the question name with the owner's NB_FLAGS and "
           "address (5.1.1.5).")


@probe("ns.query.uc.own.rd0", S_POS, "unicast query, own name <20>, RD=0",
       OWN_RFC, C.positive_query(), remote=True)
def _(ctx):
    _query(ctx, f"{ctx.own}<20>", rd=False)


@probe("ns.query.uc.own.rd1", S_POS, "unicast query, own name <20>, RD=1",
       OWN_RFC, C.positive_query(), remote=True)
def _(ctx):
    _query(ctx, f"{ctx.own}<20>", rd=True)


@probe("ns.query.uc.own00", S_POS, "unicast query, own name <00>",
       OWN_RFC, C.positive_query(), remote=True)
def _(ctx):
    _query(ctx, f"{ctx.own}<00>", rd=False)


@probe("ns.query.bc.own", S_POS, "broadcast query, own name <20>",
       OWN_RFC + " A broadcast request has B=1; the reply is unicast "
       "(B=0). Duplicate identical replies are accepted.",
       C.positive_query())
def _(ctx):
    _query(ctx, f"{ctx.own}<20>", bcast=True)


@probe("ns.query.uc.alias", S_POS, "unicast query, alias <20>", OWN_RFC,
       C.positive_query())
def _(ctx):
    _query(ctx, f"{ctx.scn.aliases[0]}<20>", rd=False)


@probe("ns.query.uc.group", S_POS, "unicast query, workgroup <00> (group)",
       OWN_RFC + " G=1 for a group name (4.2.1.3).",
       C.positive_query(group=True), remote=True)
def _(ctx):
    _query(ctx, f"{ctx.scn.workgroup}<00>", rd=False)


@probe("ns.query.bc.group", S_POS, "broadcast query, workgroup <1e> (group)",
       OWN_RFC + " G=1 for a group name (4.2.1.3).",
       C.positive_query(group=True))
def _(ctx):
    _query(ctx, f"{ctx.scn.workgroup}<1e>", bcast=True)


UNKNOWN_RFC = ("A B node answers only for names in its local name table "
               "(5.1.1.5); it may send a NEGATIVE NAME QUERY RESPONSE "
               "(4.2.14: RCODE NAM_ERR, RR type NULL, TTL 0, RDLENGTH 0; "
               "4.2.15: AA and RA set) or stay silent.")


@probe("ns.query.uc.unknown.rd0", S_NEG, "unicast query, unknown name, RD=0",
       UNKNOWN_RFC, C.negative_query(optional=True), remote=True)
def _(ctx):
    _query(ctx, "NOSUCHNAME<20>", rd=False)


@probe("ns.query.uc.unknown.rd1", S_NEG, "unicast query, unknown name, RD=1",
       UNKNOWN_RFC, C.negative_query(optional=True), remote=True)
def _(ctx):
    _query(ctx, "NOSUCHNAME<20>", rd=True)


@probe("ns.query.bc.unknown", S_NEG, "broadcast query, unknown name",
       "Nodes that do not own the name stay silent on a broadcast query "
       "(5.1.1.5; a negative answer to a broadcast would be a storm).",
       C.silence(why="RFC 1002 5.1.1.5"))
def _(ctx):
    _query(ctx, "NOSUCHNAME<20>", bcast=True)


WILD_RFC = ("'*' is not a name anyone may own: 'Names may not start with an "
            "asterisk' (RFC 1001 5.2); '*' padded with NULs is the "
            "node-status and broadcast-datagram wildcard (RFC 1001 17.2). "
            "So no POSITIVE NAME QUERY RESPONSE.")


@probe("ns.query.uc.wildcard", S_REQ, "unicast query for '*<00>'", WILD_RFC,
       C.no_positive(why="RFC 1001 5.2", text="no positive answer for '*'"),
       remote=True)
def _(ctx):
    _query(ctx, "*<00>", rd=False)


@probe("ns.query.bc.wildcard", S_REQ, "broadcast query for '*<00>'",
       WILD_RFC, C.no_positive(why="RFC 1001 5.2",
                               text="no positive answer for '*'"))
def _(ctx):
    _query(ctx, "*<00>", bcast=True)


CASE_RFC = ("RFC 1001 14 treats a name as 16 opaque bytes and does not say "
            "whether lookups fold case; not specified (nbtkit compares "
            "case-insensitively, docs/CONFORMANCE.md).")


@probe("ns.query.uc.lowercase", S_REQ, "unicast query, own name lower case",
       CASE_RFC, C.unspecified, remote=True)
def _(ctx):
    _query(ctx, f"{ctx.own.lower()}<20>", rd=False)


@probe("ns.query.uc.mixedcase", S_REQ, "unicast query, own name mixed case",
       CASE_RFC, C.unspecified, remote=True)
def _(ctx):
    n = ctx.own
    _query(ctx, n[:1] + n[1:].lower() + "<20>", rd=False)


@probe("ns.query.uc.nulpadded", S_REQ, "unicast query, own name NUL-padded",
       "Names are padded with spaces (RFC 1001 14.1); a NUL-padded name is a "
       "different 16-byte name. Not specified whether it matches.",
       C.unspecified, remote=True)
def _(ctx):
    own = ctx.own.encode()
    _raw_query(ctx, own + b"\0" * (15 - len(own)) + b"\x20")


@probe("ns.query.uc.qclass-any", S_REQ, "unicast query, QUESTION_CLASS 0xFFFF",
       "QUESTION_CLASS is IN (0x0001) for every request (4.2.1.2, 4.2.12); "
       "a query of another class is not a NAME QUERY REQUEST, so it gets "
       "no positive answer.",
       C.no_positive(why="RFC 1002 4.2.12",
                     text="no positive answer to class 0xFFFF"), remote=True)
def _(ctx):
    _raw_query(ctx, _raw(f"{ctx.own}<20>"), qclass=0xFFFF)


@probe("ns.query.uc.qtype-a", S_REQ, "unicast query, QUESTION_TYPE A (1)",
       "QUESTION_TYPE is NB or NBSTAT (4.2.1.2); type A is only an RR type "
       "of the REDIRECT response. No positive answer.",
       C.no_positive(why="RFC 1002 4.2.1.2",
                     text="no positive answer to QUESTION_TYPE 1"),
       remote=True)
def _(ctx):
    _raw_query(ctx, _raw(f"{ctx.own}<20>"), qtype=1)


@probe("ns.query.uc.aa-in-request", S_REQ, "unicast query with AA=1",
       "AA 'must be zero (0) if R flag of OPCODE is zero' (4.2.1.1); what a "
       "receiver does with a request that breaks this is not specified.",
       C.unspecified, remote=True)
def _(ctx):
    _raw_query(ctx, _raw(f"{ctx.own}<20>"),
               flags=nbwire.ns_flags(0, aa=True))


@probe("ns.query.uc.rcode-in-request", S_REQ, "unicast query with RCODE 5",
       "RCODE is a result code of responses (4.2.1.1); a request carrying "
       "one is not specified.", C.unspecified, remote=True)
def _(ctx):
    _raw_query(ctx, _raw(f"{ctx.own}<20>"), flags=nbwire.ns_flags(0, rcode=5))


@probe("ns.query.uc.two-questions", S_REQ, "unicast query, QDCOUNT 2",
       "Every request in 4.2 carries exactly one question; two are not "
       "specified.", C.unspecified, remote=True)
def _(ctx):
    name = nbwire.encode_name(_raw(f"{ctx.own}<20>"), ctx.scn.scope)
    _raw_query(ctx, _raw(f"{ctx.own}<00>"), qdcount=2,
               extra=name + struct.pack(">HH", 0x20, 1))


@probe("ns.query.uc.other-scope", S_NEG, "unicast query, own name in a "
       "foreign scope",
       "The scope is part of the name (RFC 1001 14); a node in another scope "
       "does not own NAME.OTHER.SCOPE: no positive answer; a NEGATIVE "
       "response or silence.", C.negative_query(optional=True), remote=True)
def _(ctx):
    pkt = ctx.codec.ns("query", f"{ctx.own}<20>.OTHER.SCOPE", ctx.trn(),
                       rd=False)
    ctx.udp("q", pkt)


@probe("ns.query.uc.response-bit", S_REQ, "a query with R=1 (unsolicited "
       "positive response)",
       "A POSITIVE NAME QUERY RESPONSE that matches no outstanding request "
       "is ignored (5.1.1.5: 'ignore packet').",
       C.all_of(C.silence(why="RFC 1002 5.1.1.5"), C.alive()), remote=True)
def _(ctx):
    text, trn = ctx.name(f"{ctx.own}<20>"), ctx.trn()
    pkt = ctx.codec.ns_other(
        "query-response", ["--name", text, "--trn", trn, "--addr",
                           "192.0.2.99", "--ttl", 300, "--ra"],
        lambda: nbwire.build_ns(trn, nbwire.ns_flags(0, r=True, aa=True,
                                                     rd=True, ra=True),
                                answers=[(nbwire.name_bytes(text), 0x20, 300,
                                          nbwire.nb_rdata("192.0.2.99"))]))
    ctx.udp("q", pkt)
    ctx.liveness()
