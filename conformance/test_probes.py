"""The probes as a pytest suite: one test per probe, passing when the
probe's verdict passes (see docs/LAB.md, "Judging").

    sudo /usr/bin/python3 -m pytest conformance/ [-k ns.query] [-x]

NB_DUT selects the dut slot (samba, wrong, nbtd or a command template;
default samba) and NB_LAB_OUT the report directory (default
conformance/report). All selected probes run once, in one lab, before the
first test reports; without root every test is skipped.
"""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from nbtlab import lab, probes, runner  # noqa: E402

PROBES = probes.load()


@pytest.fixture(scope="session")
def run(request):
    msg = lab.missing_privileges()
    if msg:
        pytest.skip(msg)
    ids = [item.callspec.params["pid"] for item in request.session.items
           if hasattr(item, "callspec") and "pid" in item.callspec.params]
    out = os.environ.get("NB_LAB_OUT") or os.path.join(HERE, "report")
    r = runner.Runner(out, dut=os.environ.get("NB_DUT", "samba"),
                      only=["=" + i for i in ids], log=lambda m: None)
    r.run()
    print(f"\nreport: {os.path.join(out, 'index.html')}")
    return {x.probe.id: x for x in r.results}


@pytest.mark.parametrize("pid", [p.id for p in PROBES])
def test_probe(run, pid):
    r = run[pid]
    bad = [t for ok, t in (r.dut_findings or []) if not ok]
    diffs = [f"{d['step']}: ref {d['ref']} / dut {d['dut']}"
             for d in r.diffs]
    if not r.passed:
        pytest.fail(f"{pid} ({r.probe.section}): {r.verdict}"
                    + (f" - {r.note}" if r.note else "")
                    + "".join(f"\n  RFC: {t}" for t in bad)
                    + "".join(f"\n  diff {d}" for d in diffs), pytrace=False)
