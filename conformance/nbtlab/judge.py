"""Judging: normalise both sides' exchanges, compare them, apply the RFC
expectations, and give each probe one verdict.

Normalisation. The lab is mirrored (both LANs use the same addresses) and
the probes choose the transaction ids, so most replies are byte-identical
when the implementations agree. What still varies is removed:
- duplicates: nmbd answers a broadcast once per socket it arrives on, so
  identical replies are counted but compared once;
- client ports: our ephemeral ports differ per side; a reply is keyed by
  the local port's role ("eph" or the fixed port it was sent to);
- ids the server chooses (its challenge queries' NAME_TRN_ID);
- fields a probe declares volatile: "ttl" (a registered name's remaining
  life counts down; zero/non-zero is kept), "smb" (SMB2 GUIDs and times:
  a session message is reduced to its length, protocol id, command and
  status);
- follow-up steps (the liveness query after a malformed packet, the query
  after a release or conflict demand) compare only their outcome: a
  positive answer or none. Their bytes (and negative answer vs silence)
  are judged by the dedicated query probes, so one wrong flag does not
  cascade.

Verdicts (RFC = the probe's expectation on that side's replies):
- conforms: same as Samba, and the RFC is met (or says nothing);
- deviates-like-Samba: same as Samba, both break the RFC;
- Samba-deviates-from-RFC: different, Samba breaks the RFC, the dut meets it;
- differs: anything else that is different.
Against a remote target (no reference) a probe conforms or differs by the
RFC alone, or is "unspecified".
"""

import struct
import tomllib
from dataclasses import dataclass, field

from . import checks as C
from . import nbwire

VERDICTS = ("conforms", "deviates-like-Samba", "Samba-deviates-from-RFC",
            "differs")


# --- normalisation ---------------------------------------------------------

def outcome(data):
    """A name-service reply reduced to what a follow-up query establishes:
    positive, negative with its RCODE, or unparsable."""
    try:
        p = nbwire.parse_ns(data)
    except nbwire.WireError:
        return "unparsable"
    if p["r"] and p["rcode"] == 0 and p["answers"]:
        return "positive"
    return f"response rcode={p['rcode']}" if p["r"] else "request"


def _mask_ns(data, mask):
    if "outcome" in mask:
        return outcome(data)
    if not mask:
        return data.hex()
    try:
        p = nbwire.parse_ns(data)
    except nbwire.WireError:
        return data.hex()
    b = bytearray(data)
    if "trn" in mask:
        b[0:2] = b"\0\0"
    if "ttl" in mask:
        for sect in ("answers", "authority", "additional"):
            for rr in p[sect]:
                o = rr["ttl_off"]
                b[o:o + 4] = b"\0\0\0\0" if rr["ttl"] == 0 else b"TTL+"
    return bytes(b).hex()


def smb_summary(frame):
    """A session message reduced to what is stable between two servers."""
    body = frame[4:]
    if body[:4] == b"\xfeSMB" and len(body) >= 64:
        cmd, = struct.unpack_from("<H", body, 12)
        status, = struct.unpack_from("<I", body, 8)
        extra = ""
        if cmd == 0 and len(body) >= 64 + 8:
            dialect, = struct.unpack_from("<H", body, 64 + 4)
            extra = f" dialect=0x{dialect:04x}"
        return (f"msg len={len(body)} smb2 cmd={cmd} status=0x{status:08x}"
                + extra)
    if body[:4] == b"\xffSMB" and len(body) >= 9:
        return (f"msg len={len(body)} smb1 cmd=0x{body[4]:02x} "
                f"status=0x{struct.unpack_from('<I', body, 5)[0]:08x}")
    return f"msg len={len(body)} proto={body[:4].hex()}"


def canon_step(st, mask):
    """The comparable form of one step."""
    mask = set(mask) | set(st.mask)
    if st.kind == "udp" and "outcome" in mask:
        # A follow-up query establishes one thing: is the name answered?
        # (Negative answer vs silence is judged by the dedicated probes.)
        pos = any(outcome(rx.data) == "positive" for rx in st.rx
                  if rx.proto == "nbns")
        return (st.label, st.kind, "positive" if pos else "no positive")
    if st.kind in ("udp", "listen"):
        if st.kind == "listen":
            mask.add("trn")
        out = set()
        for rx in st.rx:
            port = "eph" if rx.dport in (0, st.sport) and st.kind == "udp" \
                else rx.dport
            data = (_mask_ns(rx.data, mask) if rx.proto == "nbns"
                    else rx.data.hex())
            out.add((rx.src, rx.sport, port, data))
        return (st.label, st.kind, tuple(sorted(out)))
    if st.kind == "tcp":
        ev = []
        for e in st.events:
            if e[0] == "sent":
                ev.append(("sent", e[2]))
            elif e[0] == "recv":
                frame = e[1]
                if "smb" in mask and frame[:1] == b"\x00":
                    ev.append(("recv", smb_summary(frame)))
                else:
                    ev.append(("recv", frame.hex()))
            elif e[0] == "recv-partial":
                ev.append(("recv-partial", len(e[1])))
            else:
                ev.append(tuple(e))
        return (st.label, st.kind, tuple(ev))
    if st.kind == "tool":
        return (st.label, st.kind, repr(st.events))
    return (st.label, st.kind)


def canon(ex, mask=()):
    if ex is None:
        return None
    return tuple(canon_step(st, mask) for st in ex.steps) + (
        ("error", ex.error),)


# --- byte diffs ------------------------------------------------------------

def byte_diff(a, b):
    """Two hex strings -> list of (offset, a_byte, b_byte) that differ,
    plus a length note."""
    x, y = bytes.fromhex(a), bytes.fromhex(b)
    diffs = [(i, x[i] if i < len(x) else None, y[i] if i < len(y) else None)
             for i in range(max(len(x), len(y)))
             if (x[i] if i < len(x) else None) != (y[i] if i < len(y)
                                                    else None)]
    return diffs


# --- verdicts --------------------------------------------------------------

def rfc_status(findings):
    if findings is None:
        return "n/a"
    return "fail" if any(not ok for ok, _ in findings) else "ok"


@dataclass
class Allowed:
    probe: str
    kind: str          # "samba" (a Samba deviation) or "nbtkit" (our choice)
    rfc: str
    reason: str


def load_allowlist(path):
    with open(path, "rb") as f:
        data = tomllib.load(f)
    out = {}
    for e in data.get("deviation", []):
        for key in ("probe", "kind", "rfc", "reason"):
            if not e.get(key):
                raise ValueError(f"{path}: entry {e} lacks '{key}'")
        if e["kind"] not in ("samba", "nbtkit"):
            raise ValueError(f"{path}: {e['probe']}: kind is samba|nbtkit")
        if e["probe"] in out:
            raise ValueError(f"{path}: {e['probe']} listed twice")
        out[e["probe"]] = Allowed(e["probe"], e["kind"], e["rfc"],
                                  e["reason"])
    return out


@dataclass
class Result:
    probe: object
    ref: object = None             # Exchange or None
    dut: object = None
    ref_findings: list = None
    dut_findings: list = None
    same: bool = None
    verdict: str = ""
    passed: bool = True
    allowed: object = None
    note: str = ""
    diffs: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)   # pcaps, tshark, decode

    @property
    def ref_rfc(self):
        return rfc_status(self.ref_findings)

    @property
    def dut_rfc(self):
        return rfc_status(self.dut_findings)


def findings_for(probe, ex, scn, target, client_addr):
    if ex is None:
        return None
    if ex.error:
        return [(False, f"probe error: {ex.error}")]
    try:
        return probe.check(C.View(ex, scn, target, client_addr))
    except (KeyError, IndexError, TypeError, ValueError) as e:
        return [(False, f"expectation could not be evaluated: "
                 f"{type(e).__name__}: {e}")]


def judge(probe, ref, dut, scn, target, client_addr, allow):
    r = Result(probe, ref, dut)
    r.ref_findings = findings_for(probe, ref, scn, target, client_addr)
    r.dut_findings = findings_for(probe, dut, scn, target, client_addr)
    r.allowed = allow.get(probe.id)
    if ref is None:                       # remote target: RFC only
        st = r.dut_rfc
        r.verdict = {"ok": "conforms", "fail": "differs"}.get(st,
                                                              "unspecified")
        # The allowlist describes Samba and nbtkit, not a third-party
        # device: against a remote target only the RFC counts.
        r.passed = st != "fail"
        return r
    a, b = canon(ref, probe.mask), canon(dut, probe.mask)
    r.same = a == b
    if not r.same:
        r.diffs = diff_steps(ref, dut, probe.mask)
    if r.same:
        r.verdict = ("deviates-like-Samba" if r.ref_rfc == "fail"
                     else "conforms")
    elif r.ref_rfc == "fail" and r.dut_rfc == "ok":
        r.verdict = "Samba-deviates-from-RFC"
    else:
        r.verdict = "differs"
        if r.ref_rfc == "ok" and r.dut_rfc == "ok":
            r.note = "both meet the RFC, but differently"
    r.passed = _passes(r)
    return r


def _passes(r):
    if any(ex is not None and ex.error for ex in (r.ref, r.dut)):
        return False
    if r.verdict in ("conforms", "Samba-deviates-from-RFC"):
        return True
    if r.verdict == "deviates-like-Samba":
        if r.allowed is None:
            r.note = "RFC deviation not in the allowlist"
        return r.allowed is not None
    if r.allowed is not None and r.allowed.kind == "nbtkit":
        return True
    return False


def diff_steps(ref, dut, mask):
    """Human-oriented differences, step by step."""
    out = []
    n = max(len(ref.steps), len(dut.steps))
    for i in range(n):
        a = ref.steps[i] if i < len(ref.steps) else None
        b = dut.steps[i] if i < len(dut.steps) else None
        ca = canon_step(a, mask) if a else None
        cb = canon_step(b, mask) if b else None
        if ca == cb:
            continue
        label = (a or b).label
        d = {"step": label, "ref": _show(a, mask), "dut": _show(b, mask),
             "bytes": []}
        if a and b and a.kind == b.kind == "udp" and not isinstance(
                ca[2], str):
            ra = sorted({x[3] for x in ca[2]})
            rb = sorted({x[3] for x in cb[2]})
            if len(ra) == len(rb) == 1:
                try:
                    d["bytes"] = byte_diff(ra[0], rb[0])
                    d["ref_hex"], d["dut_hex"] = ra[0], rb[0]
                except ValueError:   # an "outcome" summary, not hex
                    d["bytes"] = []
        out.append(d)
    if ref.error != dut.error:
        out.append({"step": "error", "ref": [ref.error], "dut": [dut.error],
                    "bytes": []})
    return out


def _show(st, mask):
    if st is None:
        return ["(no such step)"]
    c = canon_step(st, mask)
    if isinstance(c[2], str):
        return [c[2]]
    if st.kind in ("udp", "listen"):
        return [f"{src}:{sport} -> {port}: {data}"
                for src, sport, port, data in c[2]] or ["(no reply)"]
    if st.kind == "tcp":
        return [" ".join(str(x) for x in e) for e in c[2]]
    return [str(c[2:])]


def summary(results):
    counts = {v: 0 for v in VERDICTS + ("unspecified",)}
    for r in results:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    compared = [r for r in results if r.same is not None]
    same = sum(1 for r in compared if r.same)
    return {"total": len(results), "counts": counts,
            "compared": len(compared), "same": same,
            "agreement": (100.0 * same / len(compared)) if compared else None,
            "failed": sum(1 for r in results if not r.passed),
            "errors": sum(1 for r in results
                          if any(ex is not None and ex.error
                                 for ex in (r.ref, r.dut)))}
