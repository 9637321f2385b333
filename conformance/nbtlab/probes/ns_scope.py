"""Scoped names (RFC 1001 14, RFC 1002 4.1): the node has a NetBIOS scope.

In scenario "scope" the node's names are NAME<XX>.NBTLAB.EXAMPLE; ctx.name
qualifies names with it. A name in another scope (or none) is another name.
"""

from .. import checks as C
from . import probe

S = "RFC 1001 14"
SCN = "scope"

SCOPED_RFC = ("The NetBIOS scope is part of the name (RFC 1001 14, RFC 1002 "
              "4.1): the node owns NAME.SCOPE, so a query for it is answered "
              "as for any own name (RFC 1002 4.2.13/4.2.15), the RR_NAME "
              "carrying the scope.")
OTHER_RFC = ("A name with another scope (or none) is a different name the "
             "node does not own: no positive answer; a NEGATIVE response "
             "(RFC 1002 4.2.14) or silence.")


def _q(ctx, text, bcast=False):
    pkt = ctx.codec.ns("query", text, ctx.trn(), bcast=bcast,
                       rd=None if bcast else False)
    ctx.udp("q", pkt, bcast=bcast)


@probe("ns.scope.query.uc.own", S, "unicast query, own name in the node's "
       "scope", SCOPED_RFC, C.positive_query(), scenario=SCN)
def _(ctx):
    _q(ctx, ctx.name(f"{ctx.own}<20>"))


@probe("ns.scope.query.bc.own", S, "broadcast query, own name in the node's "
       "scope", SCOPED_RFC, C.positive_query(), scenario=SCN)
def _(ctx):
    _q(ctx, ctx.name(f"{ctx.own}<20>"), bcast=True)


@probe("ns.scope.query.uc.group", S, "unicast query, workgroup <00> in scope",
       SCOPED_RFC, C.positive_query(group=True), scenario=SCN)
def _(ctx):
    _q(ctx, ctx.name(f"{ctx.scn.workgroup}<00>"))


@probe("ns.scope.query.uc.unscoped", S, "unicast query, own name without "
       "scope", OTHER_RFC, C.negative_query(optional=True), scenario=SCN)
def _(ctx):
    _q(ctx, f"{ctx.own}<20>")


@probe("ns.scope.query.bc.unscoped", S, "broadcast query, own name without "
       "scope", OTHER_RFC, C.no_positive(why="RFC 1001 14"), scenario=SCN)
def _(ctx):
    _q(ctx, f"{ctx.own}<20>", bcast=True)


@probe("ns.scope.query.uc.other", S, "unicast query, own name in another "
       "scope", OTHER_RFC, C.negative_query(optional=True), scenario=SCN)
def _(ctx):
    _q(ctx, f"{ctx.own}<20>.OTHER.EXAMPLE")


@probe("ns.scope.query.uc.lower-scope", S, "unicast query, scope in lower "
       "case",
       "RFC 1001 14 makes the scope a domain-name suffix but does not say "
       "whether scope comparison folds case: not specified.",
       C.unspecified, scenario=SCN)
def _(ctx):
    _q(ctx, f"{ctx.own}<20>.{ctx.scn.scope.lower()}")


@probe("ns.scope.query.uc.long-scope", S, "unicast query with a 200-byte "
       "scope",
       "A 200-byte scope is legal (the whole name is at most 255 bytes, RFC "
       "1002 4.1) but is not the node's: no positive answer; the node stays "
       "alive.", C.all_of(C.no_positive(why="RFC 1001 14"), C.alive()),
       scenario=SCN)
def _(ctx):
    scope = ".".join(["L" * 49] * 4)
    _q(ctx, f"{ctx.own}<20>.{scope}")
    ctx.liveness()


@probe("ns.scope.status.uc.wildcard", "RFC 1002 4.2.18", "unicast node "
       "status for '*' in the node's scope",
       "Answered with the names in the requester's scope (RFC 1001 15.1.4, "
       "RFC 1002 5.1.1.5).",
       C.status_response(expect_names=C.own_status_names), scenario=SCN)
def _(ctx):
    pkt = ctx.codec.ns("status", ctx.name("*<00>"), ctx.trn())
    ctx.udp("q", pkt)


@probe("ns.scope.status.uc.unscoped", "RFC 1002 4.2.18", "unicast node "
       "status for '*' without scope",
       "The status is 'filtered to contain only those names which have the "
       "same NetBIOS scope identifier as the requestor's name' (RFC 1001 "
       "15.1.4): none of the node's names qualify; silence or an empty "
       "list.", C.status_filtered(), scenario=SCN)
def _(ctx):
    pkt = ctx.codec.ns("status", "*<00>", ctx.trn())
    ctx.udp("q", pkt)


@probe("ns.scope.reg.bc.own", "RFC 1002 4.2.6", "broadcast registration of "
       "the node's scoped name",
       "NEGATIVE NAME REGISTRATION RESPONSE, ACT_ERR (RFC 1002 5.1.1.5), "
       "naming the owner in its RDATA (4.2.1.3).",
       C.registration_response(rcode=6, owner_group=False), scenario=SCN)
def _(ctx):
    pkt = ctx.codec.ns("register", ctx.name(f"{ctx.own}<20>"), ctx.trn(),
                       bcast=True, addr="192.0.2.100", ttl=300000)
    ctx.udp("q", pkt, bcast=True)
