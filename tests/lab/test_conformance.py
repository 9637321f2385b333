"""The conformance run checks itself:
- Samba in both slots agrees 100% and every RFC deviation it shows is in
  the allowlist (and every allowlisted Samba deviation is still seen);
- the deliberately wrong responder is reported as differing, exactly on
  the probes its wrong field touches, with the byte that differs;
- the same responder with nothing wrong agrees with Samba (so the
  difference found above is the one field, not noise);
- the report's parts exist and parse.
"""

import json
import os
import subprocess
import xml.etree.ElementTree as ET

import pytest

from conftest import CONFORMANCE
from nbtlab import judge, probes, runner

pytestmark = pytest.mark.needs_root

NS_SUBSET = ["ns.query", "ns.status"]


@pytest.fixture(scope="module")
def samba_run(outdir):
    out = os.path.join(outdir, "samba-vs-samba")
    r = runner.Runner(out, dut="samba", log=lambda m: None)
    r.run()
    return r, out


def test_samba_vs_samba_full_agreement(samba_run):
    r, _ = samba_run
    s = r.summary
    assert s["total"] == len(probes.load())
    assert s["errors"] == 0, [x.probe.id for x in r.results
                              if x.ref.error or x.dut.error]
    assert s["compared"] == s["total"]
    assert s["agreement"] == 100.0, [x.probe.id for x in r.results
                                     if not x.same]
    assert s["counts"]["differs"] == 0


def test_samba_deviations_are_all_allowlisted(samba_run):
    r, _ = samba_run
    unlisted = [x.probe.id for x in r.results if not x.passed]
    assert unlisted == [], "Samba deviations missing from allowlist.toml"
    seen = {x.probe.id for x in r.results if x.ref_rfc == "fail"}
    stale = [pid for pid, a in r.allow.items()
             if a.kind == "samba" and pid not in seen]
    assert stale == [], "allowlist entries no longer observed"


# Every probe cites the specification it checks: RFC 1001/1002, or for the
# browser protocol carried in datagrams (not an RFC) Microsoft's MS-BRWS.
SPEC_PREFIXES = ("RFC 100", "MS-BRWS ")


def test_every_probe_has_an_rfc_reference(samba_run):
    for p in probes.load():
        assert p.section.startswith(SPEC_PREFIXES), p.id
        assert p.rfc, p.id


def test_report_files(samba_run):
    r, out = samba_run
    html = open(os.path.join(out, "index.html"), encoding="utf-8").read()
    for section in {p.section for p in probes.load()}:
        assert f"<h2>{section} (" in html
    suites = ET.parse(os.path.join(out, "junit.xml")).getroot()
    cases = suites.findall(".//testcase")
    assert len(cases) == len(probes.load())
    assert not suites.findall(".//failure")
    data = json.load(open(os.path.join(out, "results.json")))
    assert data["summary"]["agreement"] == 100.0
    md = open(os.path.join(out, "summary.md"), encoding="utf-8").read()
    assert "agreement with Samba: 100.0%" in md
    for side in ("ref", "dut"):
        assert os.path.getsize(os.path.join(out, "captures",
                                            f"{side}.pcap")) > 1000
        assert os.path.exists(os.path.join(out, "logs", f"bnode-{side}",
                                           "nmbd.log"))


def test_pcaps_hold_the_exchanges(samba_run):
    """Each probe's pcap holds its requests and Samba's replies, and tshark
    reads Samba's replies without flagging them malformed."""
    r, out = samba_run
    with_traffic = [x for x in r.results if x.extra.get("ref_pcap")]
    assert len(with_traffic) >= len(r.results) - 2
    for x in r.results:
        rows = x.extra.get("ref_tshark") or []
        udp = [st for st in x.ref.steps if st.kind == "udp"]
        want = sum(len(st.rx) + 1 for st in udp)   # requests + replies
        assert len(rows) >= want, (x.probe.id, len(rows), want)
        replies = [row for row in rows if row[1].startswith(
            ("Name query response", "Registration response",
             "Release response", "Wait for"))]
        assert not any(row[2] for row in replies), x.probe.id
    own = next(x for x in r.results if x.probe.id == "ns.query.uc.own.rd0")
    infos = [row[1] for row in own.extra["ref_tshark"]]
    assert any("Name query NB NBTTEST<20>" in i for i in infos), infos
    assert any("Name query response NB 192.0.2.10" in i for i in infos), infos
    assert not any(row[2] for row in own.extra["ref_tshark"])


def test_wrong_responder_is_reported_as_differing(outdir):
    """The meta-test: one field off (RA cleared in positive query
    responses) must surface as 'differs', with the byte pinpointed, and
    make the CLI fail."""
    out = os.path.join(outdir, "wrong-ra")
    p = subprocess.run(["/usr/bin/python3", os.path.join(CONFORMANCE, "run"),
                        "--dut", "wrong", "--only"] + NS_SUBSET
                       + ["--out", out, "-q"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 1, p.stdout + p.stderr
    data = json.load(open(os.path.join(out, "results.json")))
    v = {x["id"]: x for x in data["results"]}
    assert data["summary"]["agreement"] < 100.0
    own = v["ns.query.uc.own.rd0"]
    assert own["verdict"] == "differs" and not own["passed"]
    assert own["ref_rfc"] == "ok" and own["dut_rfc"] == "fail"
    # Every probe whose Samba answer is a positive query response differs;
    # the others (silence, NAM_ERR, node status) still agree. Follow-up
    # liveness queries compare only their outcome, so they do not count.
    for pid, x in v.items():
        positive = any(
            rx["hex"][4:8] == "8580"
            for st in x["ref"]["steps"] if st["label"] != "liveness"
            for rx in st["rx"])
        assert (x["verdict"] == "differs") == positive, pid
    assert v["ns.status.uc.own"]["verdict"] == "conforms"
    assert "differs" in p.stdout and "report:" in p.stdout


def test_wrong_responder_field_is_pinpointed(outdir):
    r = runner.Runner(os.path.join(outdir, "wrong-ra-inproc"), dut="wrong",
                      only=["ns.query.uc.own.rd0"], log=lambda m: None)
    r.run()
    (res,) = r.results
    assert res.verdict == "differs"
    (d,) = res.diffs
    assert [(off, a, b) for off, a, b in d["bytes"]] == [(3, 0x80, 0x00)]
    assert any(not ok and "RA" in t for ok, t in res.dut_findings)


def test_crashing_responder_is_caught(outdir):
    """A dut that dies on the empty datagram: the liveness query after the
    malformed packet goes unanswered, so the probe differs and the RFC
    check ('still answers') fails on the dut side only."""
    r = runner.Runner(os.path.join(outdir, "wrong-crash"), dut="wrong:crash",
                      only=["ns.bad.empty"], log=lambda m: None)
    r.run()
    (res,) = r.results
    assert res.verdict == "differs" and not res.passed
    assert res.ref_rfc == "ok" and res.dut_rfc == "fail"
    assert [d["step"] for d in res.diffs] == ["liveness"]


def test_wrong_responder_control_agrees(outdir):
    """With no field off the same responder agrees with Samba on the whole
    name-query and node-status subset: the harness reports differences
    only where there are some."""
    r = runner.Runner(os.path.join(outdir, "wrong-none"), dut="wrong:none",
                      only=NS_SUBSET, log=lambda m: None)
    s = r.run()
    assert s["agreement"] == 100.0, [x.probe.id for x in r.results
                                     if not x.same]


def test_judge_verdict_table():
    """The four verdicts from (same?, Samba RFC, dut RFC)."""
    class P:
        id = "x"
        mask = ()

        @staticmethod
        def check(v):
            return [(v.ex.side == "good", "rule")]

    from nbtlab.exchange import Exchange, Step, Rx
    from nbtlab import scenarios as sc

    def ex(side, reply):
        e = Exchange("x", side)
        st = Step("q", "udp", sport=1000)
        st.rx = [Rx(0, "192.0.2.10", 137, reply, "nbns", 1000)]
        e.steps.append(st)
        return e
    a, b = b"\x00\x01" + b"\x85\x80" + b"\0" * 8, b"\x00\x01" + b"\x85\x00" \
        + b"\0" * 8
    cases = [(("good", a), ("good", a), "conforms"),
             (("bad", a), ("bad", a), "deviates-like-Samba"),
             (("bad", a), ("good", b), "Samba-deviates-from-RFC"),
             (("good", a), ("bad", b), "differs"),
             (("good", a), ("good", b), "differs")]
    for (rs, ra), (ds, da), want in cases:
        r = judge.judge(P, ex(rs, ra), ex(ds, da), sc.BNODE, "192.0.2.10",
                        "192.0.2.100", {})
        assert r.verdict == want, (rs, ds, want)
