"""Registration, overwrite, refresh, release and conflict probes against a
B node (RFC 1002 4.2.2-4.2.11, 4.2.15-4.2.16, 5.1.1.5; RFC 1001 15.2.1).

Probes that could take a name away from an RFC-conforming node (release,
overwrite, conflict demand) use the alias, never the node's own name, and
are tagged "late" so they run after everything else in the scenario.
"""

from .. import checks as C
from .. import nbwire
from .. import scenarios as sc
from . import probe

S_REG = "RFC 1002 4.2.6"
S_REL = "RFC 1002 4.2.9"
S_CFT = "RFC 1002 4.2.8"
CLIENT = sc.CLIENT_ADDR


def _reg(ctx, kind, name, bcast, group=False, label="q", ttl=300000):
    pkt = ctx.codec.ns(kind, ctx.name(name), ctx.trn(), bcast=bcast,
                       addr=CLIENT, ttl=ttl, group=group,
                       ont="b" if bcast else "p")
    return ctx.udp(label, pkt, bcast=bcast)


def _query_after(ctx, name, label="after"):
    pkt = ctx.codec.ns("query", ctx.name(name), ctx.trn(), rd=False)
    return ctx.udp(label, pkt, mask=("outcome",))


def still_owned(label="after", group=False):
    """The follow-up query is still answered positively."""
    def check(v):
        return [(ok, "RFC 1002 5.1.1.5 (afterwards): " + t)
                for ok, t in C.positive_query(label, group=group)(v)]
    return check


def not_owned(label="after"):
    return C.no_positive(label, why="RFC 1002 5.1.1.5",
                         text="afterwards the name is not answered")


CONFLICT_RFC = ("'IF name exists in local name table THEN send NEGATIVE NAME "
                "REGISTRATION RESPONSE' (5.1.1.5 for a UNIQUE request; for a "
                "GROUP request only when the local entry is unique). The "
                "response (4.2.6) has AA=1, RD=1, RCODE ACT_ERR ('Name is "
                "owned by another node') and the request's RR_NAME; its RDATA names the "
                "owner, the defending node (4.2.1.3: 'For responses this is "
                "the actual owner's type', NB_ADDRESS 'is the IP address of "
                "the name's owner').")


@probe("ns.reg.bc.unique.own", S_REG, "broadcast unique registration of "
       "the node's own name", CONFLICT_RFC,
       C.registration_response(rcode=6, owner_group=False))
def _(ctx):
    _reg(ctx, "register", f"{ctx.own}<20>", bcast=True)


@probe("ns.reg.bc.unique.own-group", S_REG, "broadcast unique registration "
       "of the node's group name", CONFLICT_RFC,
       C.registration_response(rcode=6, owner_group=True))
def _(ctx):
    _reg(ctx, "register", f"{ctx.scn.workgroup}<00>", bcast=True)


@probe("ns.reg.bc.group.own-unique", S_REG, "broadcast group registration "
       "of the node's unique name", CONFLICT_RFC,
       C.registration_response(rcode=6, owner_group=False))
def _(ctx):
    _reg(ctx, "register", f"{ctx.own}<00>", bcast=True, group=True)


@probe("ns.reg.bc.group.own-group", S_REG, "broadcast group registration "
       "of the node's group name",
       "A GROUP registration of a name the node holds as a group raises no "
       "objection (5.1.1.5): silence.", C.silence())
def _(ctx):
    _reg(ctx, "register", f"{ctx.scn.workgroup}<1e>", bcast=True,
         group=True)


NEW_RFC = ("A registration of a name the node does not own raises no "
           "objection (5.1.1.5) and does not put the name in the node's "
           "table: silence, and the name is not answered afterwards.")


@probe("ns.reg.bc.unique.new", S_REG, "broadcast unique registration of a "
       "new name", NEW_RFC, C.all_of(C.silence(), not_owned()))
def _(ctx):
    _reg(ctx, "register", "NEWNAME<00>", bcast=True)
    _query_after(ctx, "NEWNAME<00>")


@probe("ns.reg.bc.group.new", S_REG, "broadcast group registration of a "
       "new name", NEW_RFC, C.all_of(C.silence(), not_owned()))
def _(ctx):
    _reg(ctx, "register", "NEWGROUP<1e>", bcast=True, group=True)
    _query_after(ctx, "NEWGROUP<1e>")


@probe("ns.reg.uc.unique.own", S_REG, "unicast unique registration of the "
       "node's own name",
       CONFLICT_RFC + " 5.1.1.5 does not distinguish unicast from broadcast "
       "requests.", C.registration_response(rcode=6, owner_group=False),
       remote=True)
def _(ctx):
    _reg(ctx, "register", f"{ctx.own}<20>", bcast=False)


@probe("ns.reg.uc.unique.new", S_REG, "unicast unique registration of a "
       "new name (end node, not an NBNS)", NEW_RFC,
       C.all_of(C.silence(), not_owned()), remote=True)
def _(ctx):
    _reg(ctx, "register", "NEWNAME2<00>", bcast=False)
    _query_after(ctx, "NEWNAME2<00>")


@probe("ns.refresh.bc.own", "RFC 1002 4.2.4", "broadcast refresh (opcode 8) "
       "of the node's own name",
       "Refresh requests go to the NBNS (4.2.4, RFC 1001 15.5.1); 5.1.1.5 "
       "has no case for them at a B node: not specified.", C.unspecified)
def _(ctx):
    _reg(ctx, "refresh", f"{ctx.own}<20>", bcast=True)


@probe("ns.refresh.uc.new", "RFC 1002 4.2.4", "unicast refresh of a name "
       "the node does not own",
       "Not specified for an end node (refresh goes to the NBNS).",
       C.unspecified, remote=True)
def _(ctx):
    _reg(ctx, "refresh", "NEWNAME3<00>", bcast=False)


@probe("ns.release.bc.unknown", S_REL, "broadcast release of a name the "
       "node does not own",
       "A B node receiving a NAME RELEASE REQUEST only drops the name from "
       "its cache (5.1.1.5): silence.", C.silence())
def _(ctx):
    _reg(ctx, "release", "NOSUCHNAME<00>", bcast=True, ttl=0)


@probe("ns.multihomed.bc.new", "RFC 1002 4.2.2", "broadcast multi-homed "
       "registration (opcode 15)",
       "Opcode 15 is a later Microsoft addition, not in RFC 1002: not "
       "specified.", C.unspecified)
def _(ctx):
    _reg(ctx, "multihomed", "NEWNAME4<00>", bcast=True)


@probe("ns.wack.unsolicited", "RFC 1002 4.2.16", "unsolicited WACK sent to "
       "the node",
       "A WACK only extends a request the receiver has outstanding; one "
       "matching nothing is ignored (5.1.1.5 has no case for it): silence, "
       "the node keeps working.",
       C.all_of(C.silence(why="RFC 1002 4.2.16"), C.alive()), remote=True)
def _(ctx):
    text, trn = ctx.name(f"{ctx.own}<20>"), ctx.trn()
    pkt = ctx.codec.ns_other(
        "wack", ["--name", text, "--trn", trn, "--ttl", 60,
                 "--request-flags", "0x2900"],
        lambda: nbwire.build_ns(trn, nbwire.ns_flags(7, r=True, aa=True),
                                answers=[(nbwire.name_bytes(text), 0x0A, 60,
                                          b"\x29\x00")]))
    ctx.udp("q", pkt)
    ctx.liveness()


@probe("ns.redirect.unsolicited", "RFC 1002 4.2.15", "unsolicited REDIRECT "
       "NAME QUERY RESPONSE sent to the node",
       "A REDIRECT answers a query the receiver sent; one matching nothing "
       "is ignored: silence, the node keeps working.",
       C.all_of(C.silence(why="RFC 1002 4.2.15"), C.alive()), remote=True)
def _(ctx):
    text, trn = ctx.name(f"{ctx.own}<20>"), ctx.trn()

    def lab():
        nsd = nbwire.name_bytes("NBNS<20>")
        return nbwire.build_ns(
            trn, nbwire.ns_flags(0, r=True, rd=True),
            authority=[(nbwire.name_bytes(text), 0x02, 300000, nsd)],
            additional=[(nsd, 0x01, 300000, bytes([192, 0, 2, 99]))])
    pkt = ctx.codec.ns_other("redirect", ["--name", text, "--trn", trn,
                                          "--nsd-name", "NBNS<20>",
                                          "--nsd-addr", "192.0.2.99"], lab)
    ctx.udp("q", pkt)
    ctx.liveness()


# --- late: probes that may take a name away from a conforming node ---------

@probe("ns.overwrite.bc.alias", "RFC 1002 4.2.3", "broadcast NAME OVERWRITE "
       "DEMAND (RD=0) for the node's alias",
       "5.1.1.5 lists no case for an overwrite demand of a name the node "
       "owns (B nodes send it after an unopposed registration): not "
       "specified.", C.unspecified, tags=("late",))
def _(ctx):
    _reg(ctx, "overwrite", f"{ctx.scn.aliases[0]}<20>", bcast=True)


RELEASE_RFC = ("A B node receiving a NAME RELEASE REQUEST only removes the "
               "name from its cache (5.1.1.5): no response, and it keeps "
               "owning its own name; release responses (4.2.10-4.2.11) are "
               "NBNS replies.")


@probe("ns.release.bc.alias", S_REL, "broadcast release of the node's alias",
       RELEASE_RFC, C.all_of(C.silence(), still_owned()), tags=("late",))
def _(ctx):
    _reg(ctx, "release", f"{ctx.scn.aliases[0]}<00>", bcast=True, ttl=0)
    _query_after(ctx, f"{ctx.scn.aliases[0]}<00>")


@probe("ns.release.uc.alias", S_REL, "unicast release of the node's alias",
       RELEASE_RFC, C.all_of(C.silence(), still_owned()), tags=("late",))
def _(ctx):
    _reg(ctx, "release", f"{ctx.scn.aliases[0]}<00>", bcast=False, ttl=0)
    _query_after(ctx, f"{ctx.scn.aliases[0]}<00>")


@probe("ns.conflict.alias", S_CFT, "NAME CONFLICT DEMAND for the node's "
       "alias <03>",
       "On a NAME CONFLICT DEMAND for a name in its table the node marks it "
       "'conflict detected': the name 'does not logically exist' and is not "
       "used to answer requests (5.1.1.5); the demand is not answered.",
       C.all_of(C.silence(why="RFC 1002 5.1.1.5"), not_owned()),
       tags=("late",))
def _(ctx):
    text, trn = ctx.name(f"{ctx.scn.aliases[0]}<03>"), ctx.trn()
    # 4.2.8: identical to a NEGATIVE NAME REGISTRATION RESPONSE, CFT_ERR.
    pkt = ctx.codec.ns_other(
        "conflict-demand", ["--name", text, "--trn", trn],
        lambda: nbwire.build_ns(trn, nbwire.ns_flags(5, r=True, aa=True,
                                                     rd=True, ra=True,
                                                     rcode=7),
                                answers=[(nbwire.name_bytes(text), 0x20, 0,
                                          nbwire.nb_rdata("0.0.0.0"))]))
    ctx.udp("q", pkt)
    _query_after(ctx, f"{ctx.scn.aliases[0]}<03>")
