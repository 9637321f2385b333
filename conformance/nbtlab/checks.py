"""What the RFC requires of a reply: reusable expectations for probes.

An expectation is a function View -> list of (ok, text) findings. An empty
list means "nothing to check" and None means the RFC does not specify the
behaviour (the verdict then rests on the Samba comparison alone). Every
finding cites the RFC section it comes from.

Conventions taken from the RFC text, with the ambiguous points decided:
- RFC 1002 4.2.15 (last paragraph): an end node answering a NAME QUERY
  REQUEST sets AA and RA in positive and negative responses. 4.2.1.1 says
  RA "must be zero in all other responses" than an NBNS's; for queries the
  specific rule wins.
- RFC 1002 4.2.14's diagram has ANCOUNT 0 but draws an RR; we require
  the RR and accept ANCOUNT 1 (every implementation sends it).
- RFC 1002 4.2.13: RD is drawn as 1 in every positive query response.
"""

from . import nbwire

NB, NBSTAT, NULL = nbwire.T_NB, nbwire.T_NBSTAT, nbwire.T_NULL


class View:
    """Read-only access to one side's Exchange for expectations."""

    def __init__(self, ex, scn, target, client_addr):
        self.ex = ex
        self.scn = scn
        self.target = target
        self.client_addr = client_addr

    def step(self, label):
        return self.ex.step(label)

    def sent(self, label):
        st = self.step(label)
        try:
            return nbwire.parse(st.proto, st.sent)
        except nbwire.WireError:
            return None

    def replies(self, label):
        """Distinct replies of a step as (rx, parsed or WireError)."""
        seen = set()
        out = []
        for rx in self.step(label).rx:
            if rx.data in seen:
                continue
            seen.add(rx.data)
            try:
                out.append((rx, nbwire.parse(rx.proto, rx.data)))
            except nbwire.WireError as e:
                out.append((rx, e))
        return out


def _same_name(a, b):
    return a.upper() == b.upper()


# --- generic ---------------------------------------------------------------

def silence(label="q", why="RFC 1002 5.1.1.5", text="no reply"):
    def check(v):
        n = len(v.replies(label))
        return [(n == 0, f"{why}: {text}" + ("" if n == 0 else
                                             f" (got {n} distinct)"))]
    return check


def alive(label="liveness"):
    """The node still answers its own name after the probe."""
    def check(v):
        reps = [p for _, p in v.replies(label) if isinstance(p, dict)]
        ok = any(p["r"] == 1 and p["rcode"] == 0 and p["answers"]
                 for p in reps)
        return [(ok, "RFC 1002 5.1.1.5: still answers a query for its own "
                 "name afterwards")]
    return check


def all_of(*checks):
    def check(v):
        out = []
        for c in checks:
            r = c(v)
            if r is None:
                continue
            out += r
        return out
    return check


def unspecified(v):
    return None


def _header(p, req, opcode, why):
    """Checks every name-service response shares (RFC 1002 4.2.1.1)."""
    ops = {opcode} if isinstance(opcode, int) else set(opcode)
    want = "/".join(str(o) for o in sorted(ops))
    out = [(p["r"] == 1, f"{why}: R=1 in a response"),
           (p["opcode"] in ops, f"{why}: OPCODE {want}"
            + ("" if p["opcode"] in ops else f" (got {p['opcode']})")),
           (p["qdcount"] == 0, "RFC 1002 4.2.1.1: QDCOUNT is zero in "
            f"responses (got {p['qdcount']})")]
    if req is not None:
        out.append((p["trn"] == req["trn"], "RFC 1002 4.2.1.1: NAME_TRN_ID "
                     "copied from the request"))
    return out


def _only_reply(v, label, why):
    reps = v.replies(label)
    if not reps:
        return None, [(False, f"{why}: a reply is required, got none")]
    bad = [p for _, p in reps if not isinstance(p, dict)]
    if bad:
        return None, [(False, f"{why}: reply does not parse: {bad[0]}")]
    if len(reps) > 1:
        return reps[0][1], [(False, f"{why}: one distinct reply expected, "
                             f"got {len(reps)}")]
    return reps[0][1], []


def _rr_name_matches(p, req, why):
    if not req or not req["questions"] or not p["answers"]:
        return []
    q, rr = req["questions"][0]["name"], p["answers"][0]["name"]
    return [(_same_name(q, rr), f"{why}: RR_NAME is the question name "
             f"({rr} vs {q})")]


# --- name query (RFC 1002 4.2.12-4.2.15) -------------------------------------

def positive_query(label="q", group=False, addrs=None, ont=None):
    why = "RFC 1002 4.2.13"

    def check(v):
        p, out = _only_reply(v, label, why)
        if p is None:
            return out
        req = v.sent(label)
        out += _header(p, req, 0, why)
        out += [(p["aa"] == 1 and p["ra"] == 1,
                 "RFC 1002 4.2.15: an end node sets AA and RA in query "
                 f"responses (AA={p['aa']} RA={p['ra']})"),
                (p["rd"] == 1, f"{why}: RD=1 (RD={p['rd']})"),
                (p["b"] == 0, f"{why}: B=0 in a response"),
                (p["rcode"] == 0, f"{why}: RCODE 0 (got {p['rcode']})"),
                (p["ancount"] == 1 and p["nscount"] == 0
                 and p["arcount"] == 0, f"{why}: ANCOUNT 1, NS/AR 0")]
        if not p["answers"]:
            return out
        rr = p["answers"][0]
        out += _rr_name_matches(p, req, why)
        out += [(rr["type"] == NB and rr["class"] == 1,
                 f"{why}: RR type NB, class IN"),
                (rr["rdlength"] % 6 == 0 and rr["rdlength"] > 0,
                 f"{why}: RDLENGTH a multiple of 6 (got {rr['rdlength']})")]
        entries = rr.get("entries", [])
        want = addrs or [v.target]
        got = [e["addr"] for e in entries]
        out.append((set(want) <= set(got), f"{why}: ADDR_ENTRY holds "
                    f"{', '.join(want)} (got {', '.join(got) or 'none'})"))
        for e in entries:
            fl = int(e["flags"], 16)
            out.append((e["g"] == int(group), "RFC 1002 4.2.1.3: NB_FLAGS G="
                        f"{int(group)} for a {'group' if group else 'unique'}"
                        f" name (flags {e['flags']})"))
            out.append((fl & 0x1FFF == 0, "RFC 1002 4.2.1.3: NB_FLAGS "
                        f"reserved bits zero (flags {e['flags']})"))
            want_ont = ont or v.scn.node_type
            if want_ont in "bpm":
                out.append((e["ont"] == want_ont, "RFC 1002 4.2.1.3: ONT is "
                            f"the owner's node type {want_ont.upper()} "
                            f"(got {e['ont'].upper()})"))
            else:
                out.append((e["ont"] != "h", "RFC 1002 4.2.1.3: ONT 11 is "
                            "reserved (an H node has no RFC 1002 code; "
                            f"got {e['ont'].upper()})"))
        return out
    return check


def negative_query(label="q", rcode=3, optional=False):
    """NEGATIVE NAME QUERY RESPONSE; with optional=True silence is also
    accepted (an end node need not answer, RFC 1002 5.1.1.5)."""
    why = "RFC 1002 4.2.14"

    def check(v):
        if optional and not v.replies(label):
            return [(True, "RFC 1002 5.1.1.5: an end node answers only for "
                     "names in its table; silence conforms")]
        p, out = _only_reply(v, label, why)
        if p is None:
            return out
        req = v.sent(label)
        out += _header(p, req, 0, why)
        out += [(p["rcode"] == rcode, f"{why}: RCODE {rcode} "
                 f"({nbwire.RCODES.get(rcode)}) (got {p['rcode']})"),
                (p["aa"] == 1 and p["ra"] == 1, "RFC 1002 4.2.15: AA and RA "
                 f"set in an end node's query response (AA={p['aa']} "
                 f"RA={p['ra']})"),
                (p["rd"] == 1, f"{why}: RD=1"),
                (p["ancount"] <= 1 and p["nscount"] == 0
                 and p["arcount"] == 0, f"{why}: no NS/AR records")]
        if p["answers"]:
            rr = p["answers"][0]
            out += _rr_name_matches(p, req, why)
            out += [(rr["type"] == NULL, f"{why}: RR type NULL (0x000A) "
                     f"(got 0x{rr['type']:04x})"),
                    (rr["ttl"] == 0 and rr["rdlength"] == 0,
                     f"{why}: TTL 0 and RDLENGTH 0")]
        return out
    return check


def no_positive(label="q", why="RFC 1001 5.2", text="no positive answer"):
    def check(v):
        reps = [p for _, p in v.replies(label) if isinstance(p, dict)]
        pos = [p for p in reps if p["r"] == 1 and p["rcode"] == 0
               and p["answers"]]
        return [(not pos, f"{why}: {text}")]
    return check


# --- node status (RFC 1002 4.2.17-4.2.18) ----------------------------------

def status_response(label="q", expect_names=None):
    why = "RFC 1002 4.2.18"

    def check(v):
        p, out = _only_reply(v, label, why)
        if p is None:
            return out
        req = v.sent(label)
        out += _header(p, req, 0, why)
        out += [(p["aa"] == 1 and p["tc"] == 0 and p["rd"] == 0
                 and p["ra"] == 0 and p["b"] == 0 and p["rcode"] == 0,
                 f"{why}: flags AA=1, TC/RD/RA/B 0, RCODE 0 "
                 f"(flags 0x{p['flags']})"),
                (p["ancount"] == 1, f"{why}: ANCOUNT 1")]
        if not p["answers"]:
            return out
        rr = p["answers"][0]
        out += _rr_name_matches(p, req, why + " (RR_NAME is the requesting "
                                "name)")
        out += [(rr["type"] == NBSTAT and rr["class"] == 1,
                 f"{why}: RR type NBSTAT, class IN"),
                (rr["ttl"] == 0, f"{why}: TTL 0 (got {rr['ttl']})")]
        if "num_names" not in rr:
            return out + [(False, f"{why}: RDATA holds NUM_NAMES and names")]
        out.append((rr["stats_len"] == 46, f"{why}: STATISTICS is 46 bytes "
                    f"(got {rr['stats_len']})"))
        rules = ((lambda f: f & 0x0400, "ACT set on every entry"),
                 (lambda f: not f & 0x01FF, "NAME_FLAGS reserved bits zero"),
                 (lambda f: f >> 13 & 3 != 3, "no entry with ONT 11 "
                  "(reserved)"))
        for test, text in rules:
            bad = [f"{e['name']} {e['flags']}" for e in rr["names"]
                   if not test(int(e["flags"], 16))]
            out.append((not bad, f"{why}: {text}"
                        + (f" (not: {', '.join(bad)})" if bad else "")))
        if expect_names:
            listed = {e["name"].upper() for e in rr["names"]}
            want = {n.upper() for n in expect_names(v.scn)}
            miss = sorted(want - listed)
            out.append((not miss, "RFC 1001 15.1.4: the node's names are "
                        "listed" + (f" (missing {', '.join(miss)})"
                                    if miss else "")))
        return out
    return check


def own_status_names(scn):
    return [nbwire.name_text(nbwire.parse_name_text(f"{n}<{t:02x}>")[0])
            for n, t in scn.unique_names() + scn.group_names()]


# --- registration, release, conflict (RFC 1002 4.2.5-4.2.11, 5.1.1.5) ------

def registration_response(label="q", rcode=0, why="RFC 1002 4.2.6",
                          opcode=5, ttl=None, echo_rdata=True,
                          owner_group=None):
    """POSITIVE (rcode 0, 4.2.5) or NEGATIVE (4.2.6) registration response.
    rcode may be a set of acceptable codes. `owner_group` (True/False) is
    for an end node defending a name it holds: the RDATA then describes
    the owner - the responding node and its entry's G flag - not the
    claimant (RFC 1002 4.2.1.3: "For responses this is the actual owner's
    type"; "the NB_ADDRESS ... is the IP address of the name's owner")."""
    codes = {rcode} if isinstance(rcode, int) else set(rcode)

    def check(v):
        p, out = _only_reply(v, label, why)
        if p is None:
            return out
        req = v.sent(label)
        names = "/".join(nbwire.RCODES.get(c, str(c)) for c in sorted(codes))
        out += _header(p, req, opcode, why)
        out += [(p["rcode"] in codes, f"{why}: RCODE {names} "
                 f"(got {nbwire.RCODES.get(p['rcode'], p['rcode'])})"),
                (p["aa"] == 1 and p["rd"] == 1 and p["b"] == 0,
                 f"{why}: AA=1, RD=1, B=0 (flags 0x{p['flags']})"),
                (p["ancount"] == 1, f"{why}: ANCOUNT 1")]
        if p["answers"]:
            rr = p["answers"][0]
            out += _rr_name_matches(p, req, why)
            out.append((rr["type"] == NB and rr["rdlength"] == 6,
                        f"{why}: RR type NB, RDLENGTH 6"))
            if ttl is not None:
                out.append((rr["ttl"] == ttl, f"{why}: TTL {ttl} "
                            f"(got {rr['ttl']})"))
            if owner_group is not None:
                out += _owner_rdata(v, label, rr, owner_group)
            elif echo_rdata and req and req["additional"]:
                out.append((rr["rdata"] == req["additional"][0]["rdata"],
                            f"{why}: NB_FLAGS/NB_ADDRESS of the request"))
        return out
    return check


def _owner_rdata(v, label, rr, group):
    """RFC 1002 4.2.1.3: a response's NB entry names the actual owner."""
    why = "RFC 1002 4.2.1.3"
    src = v.replies(label)[0][0].src
    ents = rr.get("entries") or []
    if not ents:
        return [(False, f"{why}: NB_FLAGS/NB_ADDRESS of the owner (no entry)")]
    e = ents[0]
    return [(e["addr"] == src and e["g"] == int(group),
             f"{why}: NB_FLAGS/NB_ADDRESS of the owner, the defending node "
             f"({src}, G={int(group)}; got {e['addr']}, G={e['g']})")]


def release_response(label="q", rcode=0):
    why = "RFC 1002 4.2.10" if rcode == 0 else "RFC 1002 4.2.11"

    def check(v):
        p, out = _only_reply(v, label, why)
        if p is None:
            return out
        req = v.sent(label)
        out += _header(p, req, 6, why)
        out += [(p["rcode"] == rcode, f"{why}: RCODE "
                 f"{nbwire.RCODES.get(rcode)} (got "
                 f"{nbwire.RCODES.get(p['rcode'], p['rcode'])})"),
                (p["aa"] == 1 and p["rd"] == 0 and p["ra"] == 0,
                 f"{why}: AA=1, RD=0, RA=0 (flags 0x{p['flags']})")]
        out += _rr_name_matches(p, req, why)
        return out
    return check


def wack(label="q"):
    why = "RFC 1002 4.2.16"

    def check(v):
        reps = [p for _, p in v.replies(label) if isinstance(p, dict)]
        w = [p for p in reps if p["opcode"] == 7]
        if not w:
            return [(False, f"{why}: a WACK is expected first")]
        p = w[0]
        req = v.sent(label)
        out = _header(p, req, 7, why)
        out.append((p["aa"] == 1 and p["rd"] == 0 and p["ra"] == 0
                    and p["rcode"] == 0, f"{why}: flags AA=1 only "
                    f"(flags 0x{p['flags']})"))
        if p["answers"]:
            rr = p["answers"][0]
            want = f"{int(req['flags'], 16) & 0xFFF0:04x}" if req else None
            out.append((rr.get("wack_flags") is not None
                        and rr["rdlength"] == 2, f"{why}: RDLENGTH 2"))
            if want:
                out.append((rr.get("wack_flags") == want, f"{why}: RDATA "
                            f"holds the request's OPCODE and NM_FLAGS "
                            f"({want}, got {rr.get('wack_flags')})"))
            out.append((rr["type"] in (NULL, NB), f"{why}: RR type NULL "
                        "(the diagram writes NULL (0x0020); either accepted)"))
        return out
    return check


def status_filtered(label="q"):
    """RFC 1001 15.1.4: only names in the requester's scope are listed; when
    none qualify the node is silent or lists none."""
    def check(v):
        out = []
        for _, p in v.replies(label):
            if not isinstance(p, dict) or not p["answers"]:
                continue
            names = p["answers"][0].get("names", [])
            out.append((not names, "RFC 1001 15.1.4: no names of another "
                        f"scope listed (got {len(names)})"))
        return out or [(True, "RFC 1001 15.1.4: silence (no names qualify)")]
    return check
