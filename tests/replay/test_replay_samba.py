"""`nbt replay` against Samba 4.17 in a lab of network namespaces.

Needs root (the lab creates namespaces); tests/replay/run.sh reports SKIP
(exit 77) otherwise. The expected agreements and differences, with their
reasons, are in expectations.py; any other difference fails.

Run: NBT=build/<dir>/src/tools/nbt /usr/bin/python3 -m pytest tests/replay
"""

import json
import os
import re
import tempfile

import pytest

import expectations
import replaylab as rl


@pytest.fixture(scope="module")
def lab():
    logdir = tempfile.mkdtemp(prefix="nbt-replay-samba-")
    with rl.ReplayLab(logdir) as lab:
        yield lab


def is_exchange(e, row):
    """`e` names an exchange by number, or by a regular expression over its
    request description (for captures with many alike exchanges)."""
    if isinstance(e, int):
        return row["exchange"] == e
    return re.fullmatch(e, row["request"]) is not None


def check_diffs(name, spec, rows):
    """Every diff must be expected, and every expectation must be met."""
    problems = []
    used = set()
    for row in rows:
        ex = row["exchange"]
        for d in row["diffs"]:
            hit = [i for i, (e, f, r, l, _) in enumerate(spec["diffs"])
                   if is_exchange(e, row) and re.fullmatch(f, d["field"])
                   and re.fullmatch(r, d["recorded"])
                   and re.fullmatch(l, d["live"])]
            if not hit:
                problems.append(f"{name} #{ex} ({row['request']}): "
                                f"unexpected diff {d}")
            used.update(hit)
        if row["status"] == "agree" and row["diffs"]:
            problems.append(f"{name} #{ex}: agree with diffs {row['diffs']}")
    for i, (e, f, r, l, why) in enumerate(spec["diffs"]):
        if i not in used:
            problems.append(f"{name} #{e}: expected diff {f} "
                            f"({r} -> {l}) did not appear ({why})")
    return problems


@pytest.mark.parametrize("capture", sorted(expectations.CAPTURES))
def test_capture(lab, capture):
    spec = expectations.CAPTURES[capture]
    rc, rows, err = lab.replay(rl.pcap(capture), extra=spec["args"])
    assert len(rows) == spec["exchanges"], err
    problems = check_diffs(capture, spec, rows)
    for ex, idx, flags, why in spec.get("live", []):
        matched = [r for r in rows if is_exchange(ex, r)]
        if not matched:
            problems.append(f"{capture}: no exchange {ex} ({why})")
        for row in matched:
            live = row["live_hex"]
            got = live[idx][4:8] if idx < len(live) else None
            if got != flags:
                problems.append(f"{capture} #{row['exchange']}: live "
                                f"response {idx} flags {got}, expected "
                                f"{flags} ({why})")
    assert not problems, "\n".join(problems) + "\n" + err
    assert rc == spec["exit"], err


def test_scanner_full_session(lab):
    """All five turns of the scanner's session (session setup as anonymous,
    tree connect to \\\\VMWINXP\\SCANNER, tree disconnect) agree at the
    level compared: packet types, SMB magic and command."""
    rc, rows, err = lab.replay(
        rl.pcap("node-netbios/netbios-ssn-full-scanner-winxp.pcap"))
    assert [r["status"] for r in rows] == ["agree"] * 5, rows
    assert [r["request"] for r in rows] == [
        "SESSION REQUEST VMWINXP<20> from PRINTER<00>",
        "SESSION MESSAGE SMB1 0x72", "SESSION MESSAGE SMB1 0x73",
        "SESSION MESSAGE SMB1 0x75", "SESSION MESSAGE SMB1 0x71"]
    assert rc == 0, err


def test_absent_target_differs(lab):
    """Nothing answers at an address on the LAN that nobody owns: the
    recorded responses are missing, so the replay must fail."""
    rc, rows, err = lab.replay(
        rl.pcap("node-netbios/netbios-ns-b-full-query.pcap"),
        target=rl.ABSENT)
    assert rc == 1, err
    assert [r["diffs"] for r in rows] == [
        [{"field": "responses", "recorded": "1", "live": "0"}]] * 2, rows


# ---- meta-tests: the replay must notice a wrong answer ------------------


def responder(lab, capture, *args):
    return lab.start_responder(["--pcap", rl.pcap(capture), "--bind",
                                rl.RESPONDER, "--ssn-port", "139",
                                "--lifetime", "60", *args])


def stop(p):
    p.stdin.close()
    p.wait(timeout=10)


def test_meta_right_answers_agree(lab):
    cap = "node-netbios/netbios-ns-b-full-query.pcap"
    p = responder(lab, cap)
    try:
        rc, rows, err = lab.replay(rl.pcap(cap), target=rl.RESPONDER)
    finally:
        stop(p)
    assert [r["status"] for r in rows] == ["agree", "agree"], rows
    assert rc == 0, err


@pytest.mark.parametrize("corrupt,field,rec,live", [
    ("ns-flags", r"resp\[0\]\.flags", r"0x8400 \(R AA\)",
     r"0x8480 \(R AA RA\)"),
    ("ns-addr", r"resp\[0\]\.an\[0\]\.nb\[0\]\.addr", "<server>",
     r"192\.0\.2\.13"),
])
def test_meta_one_field_off_fails(lab, corrupt, field, rec, live):
    cap = "node-netbios/netbios-ns-b-full-query.pcap"
    p = responder(lab, cap, "--corrupt", corrupt)
    try:
        rc, rows, err = lab.replay(rl.pcap(cap), target=rl.RESPONDER)
    finally:
        stop(p)
    assert rc == 1, err
    assert rows[0]["status"] == "differ" and rows[1]["status"] == "agree"
    assert len(rows[0]["diffs"]) == 1, rows[0]["diffs"]
    d = rows[0]["diffs"][0]
    assert re.fullmatch(field, d["field"]), d
    assert re.fullmatch(rec, d["recorded"]) and re.fullmatch(live, d["live"])


def test_meta_session_wrong_fails(lab):
    cap = "node-netbios/netbios-ssn-full-scanner-winxp.pcap"
    p = responder(lab, cap, "--corrupt", "ssn-neg")
    try:
        rc, rows, err = lab.replay(rl.pcap(cap), target=rl.RESPONDER,
                                   extra=["--ssn-turns", "1"])
    finally:
        stop(p)
    assert rc == 1, err
    assert rows[0]["diffs"] == [{
        "field": "resp[0]", "recorded": "POSITIVE SESSION RESPONSE length 0",
        "live": "NEGATIVE SESSION RESPONSE 0x82"}], rows


# ---- the lab engineer's Samba reference captures ------------------------

REFERENCE = rl.reference_captures()


@pytest.fixture(scope="module")
def scenario_labs():
    """The lab for a scenario of the reference captures: started on first
    use; the manifest groups captures by scenario, so the previous
    scenario's lab is torn down when the next one starts (one Samba at a
    time besides the module's own)."""
    live = {}

    def get(name):
        if name not in live:
            for old in list(live.values()):
                old.__exit__(None, None, None)
            live.clear()
            logdir = tempfile.mkdtemp(prefix=f"nbt-replay-{name}-")
            live[name] = rl.ReplayLab(logdir, scenario=rl.scenario(name))
            live[name].__enter__()
        return live[name]

    try:
        yield get
    finally:
        for lab in live.values():
            lab.__exit__(None, None, None)


@pytest.mark.skipif(not REFERENCE,
                    reason="pcaps/samba-4.17/MANIFEST.tsv not recorded yet")
@pytest.mark.parametrize("capture,probe,scn", REFERENCE or [("-", "-", "-")],
                         ids=[p for _, p, _ in REFERENCE] or ["none"])
def test_samba_reference_capture(scenario_labs, capture, probe, scn):
    """Samba against Samba: a reference capture replayed against Samba
    started with the capture's scenario must agree, except for the
    differences expectations.SAMBA lists for that probe."""
    lab = scenario_labs(scn)
    spec = expectations.SAMBA.get(probe, {})
    spec = {"diffs": spec.get("diffs", []), "args": spec.get("args", [])}
    rc, rows, err = lab.replay(capture, extra=spec["args"])
    assert rows, err
    problems = check_diffs(probe, spec, rows)
    assert not problems, "\n".join(problems) + "\n" + json.dumps(rows)
    assert rc == (1 if spec["diffs"] else 0), err
