"""Node status probes (RFC 1002 4.2.17-4.2.18, 5.1.1.5; RFC 1001 15.1.4)."""

from .. import checks as C
from . import probe

S = "RFC 1002 4.2.18"

STATUS_RFC = ("A node that owns the requested name answers with a NODE "
              "STATUS RESPONSE (5.1.1.5): AA=1, RD=RA=0, RR_NAME the "
              "requesting name, type NBSTAT, TTL 0, NUM_NAMES entries of "
              "16-byte name + NAME_FLAGS (ACT set, reserved bits zero), then "
              "46 bytes of STATISTICS; only names in the requester's scope.")


def _status(ctx, name, bcast=False):
    pkt = ctx.codec.ns("status", ctx.name(name), ctx.trn(), bcast=bcast)
    return ctx.udp("q", pkt, bcast=bcast)


@probe("ns.status.uc.own", S, "unicast node status for own name <00>",
       STATUS_RFC, C.status_response(expect_names=C.own_status_names),
       remote=True)
def _(ctx):
    _status(ctx, f"{ctx.own}<00>")


@probe("ns.status.uc.wildcard", S, "unicast node status for '*'",
       STATUS_RFC + " '*' (NUL-padded) is the name every node answers to "
       "for status (RFC 1001 15.1.4; what Windows and Samba clients send).",
       C.status_response(expect_names=C.own_status_names), remote=True)
def _(ctx):
    _status(ctx, "*<00>")


@probe("ns.status.bc.wildcard", S, "broadcast node status for '*'",
       STATUS_RFC + " Duplicate identical replies are accepted.",
       C.status_response(expect_names=C.own_status_names))
def _(ctx):
    _status(ctx, "*<00>", bcast=True)


@probe("ns.status.uc.alias", S, "unicast node status for an alias <20>",
       STATUS_RFC, C.status_response(expect_names=C.own_status_names))
def _(ctx):
    _status(ctx, f"{ctx.scn.aliases[0]}<20>")


@probe("ns.status.uc.unknown", S, "unicast node status for an unknown name",
       "Only 'IF name exists in local name table' is a NODE STATUS RESPONSE "
       "sent (5.1.1.5): silence.", C.silence(), remote=True)
def _(ctx):
    _status(ctx, "NOSUCHNAME<00>")


@probe("ns.status.uc.other-scope", S, "unicast node status, '*' in a "
       "foreign scope",
       "The returned status is filtered to names with the requester's scope "
       "(RFC 1001 15.1.4); a node in another scope owns no such name: "
       "silence, or a response listing no names.",
       C.status_filtered(), remote=True)
def _(ctx):
    pkt = ctx.codec.ns("status", "*<00>.OTHER.SCOPE", ctx.trn())
    ctx.udp("q", pkt)
