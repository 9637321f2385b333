"""The node as NetBIOS Name Server (scenario "wins"; RFC 1002 5.1.4.1,
4.2.2-4.2.16; RFC 1001 15.2.2, 15.5).

The client registers names for itself (192.0.2.100) and for addresses on
the LAN; the challenge probe binds UDP 137 on the client so the server's
challenge query (RFC 1002 5.1.4.1, "secure" server) reaches it and is
answered. Registered names' TTLs in later query answers count down, so
those probes mask the TTL (judge.normalise).
"""

import threading
import time

from .. import checks as C
from .. import nbwire
from .. import scenarios as sc
from ..exchange import Rx
from . import probe

SCN = "wins"
CLIENT = sc.CLIENT_ADDR
OTHER = "192.0.2.101"


def _reg(ctx, kind, name, addr=CLIENT, group=False, label="q", ttl=300000,
         **kw):
    pkt = ctx.codec.ns(kind, name, ctx.trn(), addr=addr, ttl=ttl,
                       group=group, ont="p")
    return ctx.udp(label, pkt, **kw)


def _query(ctx, name, rd=True, label="q", mask=()):
    pkt = ctx.codec.ns("query", name, ctx.trn(), rd=rd)
    return ctx.udp(label, pkt, mask=mask)


def _not_wack(rx):
    return len(rx.data) > 3 and (rx.data[2] >> 3) & 15 != 7


REG_RFC = ("An NBNS registers a name nobody holds and answers with a "
           "POSITIVE NAME REGISTRATION RESPONSE (5.1.4.1; 4.2.5: AA=1, RD=1, "
           "RA=1, RCODE 0, the request's RR_NAME and RDATA, the TTL granted).")


@probe("ns.wins.reg.uc.new", "RFC 1002 4.2.5", "WINS: unicast registration "
       "of a new unique name", REG_RFC,
       C.registration_response(rcode=0, why="RFC 1002 4.2.5"), scenario=SCN)
def _(ctx):
    _reg(ctx, "register", "WINSNAME<00>")


@probe("ns.wins.reg.uc.again", "RFC 1002 4.2.5", "WINS: the same "
       "registration again from the owner",
       "Re-registering a name with the same owner succeeds (RFC 1001 "
       "15.2.2.2 treats it as the owner being active; 5.1.4.1 answers the "
       "owner positively).",
       C.registration_response(rcode=0, why="RFC 1002 4.2.5"), scenario=SCN)
def _(ctx):
    _reg(ctx, "register", "WINSNAME<00>")


QUERY_RFC = ("'IF name exists in data base THEN send POSITIVE NAME QUERY "
             "RESPONSE' (5.1.4.1), whatever RD says; the answer carries the "
             "owner's address and NB_FLAGS as registered.")


@probe("ns.wins.query.uc.registered", "RFC 1002 4.2.13", "WINS: query "
       "(RD=1) for a registered name", QUERY_RFC,
       C.positive_query(addrs=[CLIENT], ont="p"), scenario=SCN, mask=("ttl",))
def _(ctx):
    _query(ctx, "WINSNAME<00>", rd=True, mask=("ttl",))


@probe("ns.wins.query.uc.registered.rd0", "RFC 1002 4.2.13", "WINS: query "
       "(RD=0) for a registered name", QUERY_RFC,
       C.positive_query(addrs=[CLIENT], ont="p"), scenario=SCN, mask=("ttl",))
def _(ctx):
    _query(ctx, "WINSNAME<00>", rd=False, mask=("ttl",))


@probe("ns.wins.query.uc.unknown", "RFC 1002 4.2.14", "WINS: query (RD=1) "
       "for an unknown name",
       "An NBNS answers a query for a name not in its data base with a "
       "NEGATIVE NAME QUERY RESPONSE, RCODE NAM_ERR (5.1.4.1, 4.2.14).",
       C.negative_query(rcode=3), scenario=SCN)
def _(ctx):
    _query(ctx, "NOSUCHNAME<00>", rd=True)


@probe("ns.wins.query.uc.own", "RFC 1002 4.2.13", "WINS: query (RD=1) for "
       "the server's own name", QUERY_RFC,
       C.positive_query(), scenario=SCN, mask=("ttl",))
def _(ctx):
    _query(ctx, f"{ctx.own}<20>", rd=True, mask=("ttl",))


def _challenge_server(sock, stop, name, got, codec):
    """Answer the NBNS's challenge query for `name` on the client's 137,
    as the owner still holding it (RFC 1002 5.1.4.1)."""
    sock.settimeout(0.1)
    while not stop.is_set():
        try:
            data, addr = sock.recvfrom(2048)
        except OSError:
            continue
        got.append(Rx(time.time(), addr[0], addr[1], data, "nbns", 137))
        try:
            q = nbwire.parse_ns(data)
        except nbwire.WireError:
            continue
        if q["r"] or q["opcode"] != 0 or not q["questions"]:
            continue
        qname = q["questions"][0]["name"]
        if qname.upper() != name.upper():
            continue
        resp = codec.ns_other(
            "query-response", ["--name", qname, "--trn", q["trn"], "--addr",
                               CLIENT, "--ttl", 300000, "--ra", "--ont", "p"],
            lambda: nbwire.build_ns(q["trn"], nbwire.ns_flags(
                0, r=True, aa=True, rd=True, ra=True), answers=[(
                    nbwire.name_bytes(qname), 0x20, 300000,
                    nbwire.nb_rdata(CLIENT, ont="p"))]))
        sock.sendto(resp, addr)


def challenged():
    """The server's challenge reached the owner as a NAME QUERY REQUEST."""
    def check(v):
        seen = []
        for rx in v.step("owner:137").rx:
            try:
                p = nbwire.parse_ns(rx.data)
            except nbwire.WireError:
                continue
            if p["r"] == 0 and p["opcode"] == 0:
                seen.append(p)
        return [(bool(seen), "RFC 1002 5.1.4.1: a secure NBNS challenges the "
                 "current owner with a NAME QUERY REQUEST")]
    return check


@probe("ns.wins.reg.conflict", "RFC 1002 4.2.16", "WINS: registration of a "
       "name held by a live owner (WACK, challenge, refusal)",
       "The NBNS challenges the owner (NAME QUERY REQUEST, 5.1.4.1) and "
       "meanwhile may send a WACK (4.2.16: RDATA = the request's OPCODE and "
       "NM_FLAGS). The owner confirms, so the requester gets a NEGATIVE NAME "
       "REGISTRATION RESPONSE (5.1.4.1); ACT_ERR is the code for 'owned by "
       "another node' (4.2.6).",
       C.all_of(C.wack(), challenged(),
                C.registration_response(
                    "final", rcode=6, why="RFC 1002 4.2.6")),
       scenario=SCN)
def _(ctx):
    step, sock = ctx.udp_listen("owner:137", 137, window=5)
    stop = threading.Event()
    th = threading.Thread(target=_challenge_server,
                          args=(sock, stop, "WINSNAME<00>", step.rx,
                                ctx.codec))
    th.start()
    try:
        st = _reg(ctx, "register", "WINSNAME<00>", addr=OTHER, window=8.0,
                  until=_not_wack)
    finally:
        stop.set()
        th.join()
        sock.close()
        step.t1 = time.time()
    # Split the requester's replies: the WACK(s) stay on "q"; the final
    # answer is judged on its own step.
    final = [rx for rx in st.rx if _not_wack(rx)]
    st.rx = [rx for rx in st.rx if not _not_wack(rx)]
    fin = type(st)("final", "udp", "nbns", st.dst, st.dport, st.sport,
                   st.sent, st.builder, st.t0, st.t1, final)
    ctx._add(fin)


REFRESH_RFC = ("NAME REFRESH REQUEST at an NBNS: 'send POSITIVE NAME "
               "REGISTRATION' (5.1.4.1), i.e. the 4.2.5 packet; 4.2.5 draws "
               "OPCODE 5 and no rule ties the response opcode to the "
               "refresh's 8. Either 5 or 8 is accepted.")


@probe("ns.wins.refresh.uc.registered", "RFC 1002 4.2.4", "WINS: refresh "
       "of a registered name by its owner", REFRESH_RFC,
       C.registration_response(rcode=0, why="RFC 1002 4.2.5",
                               opcode={5, 8}, echo_rdata=True),
       scenario=SCN)
def _(ctx):
    _reg(ctx, "refresh", "WINSNAME<00>")


@probe("ns.wins.refresh.uc.wrong-ip", "RFC 1002 4.2.4", "WINS: refresh of a "
       "registered name from another address",
       "'check for consistency; IF node not allowed to have name THEN send "
       "NEGATIVE NAME REGISTRATION RESPONSE' (5.1.4.1).",
       C.registration_response(rcode={5, 6}, why="RFC 1002 4.2.6",
                               opcode={5, 8}), scenario=SCN)
def _(ctx):
    _reg(ctx, "refresh", "WINSNAME<00>", addr="192.0.2.102")


@probe("ns.wins.reg.group", "RFC 1002 4.2.5", "WINS: group registration of "
       "a new name", REG_RFC,
       C.registration_response(rcode=0, why="RFC 1002 4.2.5"), scenario=SCN)
def _(ctx):
    _reg(ctx, "register", "WINSGRP<1e>", group=True)


@probe("ns.wins.query.uc.group", "RFC 1002 4.2.13", "WINS: query for the "
       "registered group",
       "The answer lists the group's members: 'Each ADDR_ENTRY record "
       "represents an owner of a name' (4.2.13), G=1.",
       C.positive_query(group=True, addrs=[CLIENT], ont="p"), scenario=SCN,
       mask=("ttl",))
def _(ctx):
    _query(ctx, "WINSGRP<1e>", rd=True, mask=("ttl",))


@probe("ns.wins.reg.bc", "RFC 1002 5.1.4.1", "WINS: broadcast registration "
       "of a new name",
       "'IF packet was sent as a broadcast THEN discard packet' (5.1.4.1); as "
       "an end node it has no objection either (5.1.1.5): silence.",
       C.silence(why="RFC 1002 5.1.4.1"), scenario=SCN)
def _(ctx):
    pkt = ctx.codec.ns("register", "WINSBC<00>", ctx.trn(), bcast=True,
                       addr=CLIENT, ttl=300000)
    ctx.udp("q", pkt, bcast=True)


@probe("ns.wins.multihomed", "RFC 1002 4.2.2", "WINS: multi-homed "
       "registration (opcode 15)",
       "Opcode 15 is a Microsoft extension, not in RFC 1002: not specified.",
       C.unspecified, scenario=SCN)
def _(ctx):
    _reg(ctx, "multihomed", "WINSMH<00>")


@probe("ns.wins.status.uc.wildcard", "RFC 1002 4.2.18", "WINS: node status "
       "for '*'",
       "A NODE STATUS RESPONSE as from any node (RFC 1002 4.2.18).",
       C.status_response(expect_names=C.own_status_names), scenario=SCN)
def _(ctx):
    ctx.udp("q", ctx.codec.ns("status", "*<00>", ctx.trn()))


RELEASE_RFC = ("NAME RELEASE REQUEST at an NBNS: 'update data base - remove "
               "entry; send POSITIVE NAME RELEASE RESPONSE' (5.1.4.1; 4.2.10: "
               "opcode 6, AA=1, RCODE 0).")


@probe("ns.wins.release.uc.registered", "RFC 1002 4.2.10", "WINS: release "
       "of a registered name by its owner", RELEASE_RFC,
       C.release_response(rcode=0), scenario=SCN, tags=("late",))
def _(ctx):
    _reg(ctx, "release", "WINSNAME<00>", ttl=0)


@probe("ns.wins.release.uc.again", "RFC 1002 4.2.10", "WINS: release of the "
       "same name again",
       RELEASE_RFC + " The procedure is unconditional, and 4.2.11 defines no "
       "NAM_ERR for releases.", C.release_response(rcode=0), scenario=SCN,
       tags=("late",))
def _(ctx):
    _reg(ctx, "release", "WINSNAME<00>", ttl=0)


@probe("ns.wins.query.uc.released", "RFC 1002 4.2.14", "WINS: query for the "
       "released name",
       "The entry was removed: NEGATIVE NAME QUERY RESPONSE, NAM_ERR "
       "(5.1.4.1).", C.negative_query(rcode=3), scenario=SCN, tags=("late",))
def _(ctx):
    _query(ctx, "WINSNAME<00>", rd=True)
