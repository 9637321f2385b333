"""Re-record the Samba reference captures (pcaps/samba-4.17/).

    conformance/run --record pcaps/samba-4.17 [--only ID...]

Runs the probes with Samba in both slots and keeps the ref side's
per-probe captures: one pcap per probe (the client's requests and
everything Samba sent back, as seen on the lab bridge), plus MANIFEST.md
(what each capture is, how it was recorded, the Samba version) and
MANIFEST.tsv (the same, machine-readable, for `nbt replay` tests).
Re-recording changes timestamps and ephemeral ports, nothing else that a
comparison looks at.
"""

import os
import shutil
import tempfile

from . import report
from . import runner
from . import samba
from . import scenarios as sc


def record(dest, only=None, log=print, nbt=None):
    dest = os.path.abspath(dest)
    with tempfile.TemporaryDirectory(prefix="nbtlab-record-") as tmp:
        r = runner.Runner(tmp, dut="samba", only=only, log=log, nbt=nbt)
        summary = r.run()
        if summary["agreement"] != 100.0:
            log("record: the two Samba instances disagreed; not recording")
            return 1
        os.makedirs(dest, exist_ok=True)
        if not only:
            for old in os.listdir(dest):
                if old.endswith(".pcap"):
                    os.unlink(os.path.join(dest, old))
        rows = []
        for res in r.results:
            rel = res.extra.get("ref_pcap")
            if not rel:
                continue
            name = f"{res.probe.id}.pcap"
            shutil.copy(os.path.join(tmp, rel), os.path.join(dest, name))
            rows.append((name, res))
        write_manifest(dest, rows, r.meta, r.codec.describe())
    log(f"record: {len(rows)} captures in {dest}")
    return 0


def _scenario_text(name):
    s = sc.ALL[name]
    parts = [f"netbios name {s.netbios_name}",
             f"aliases {', '.join(s.aliases)}", f"workgroup {s.workgroup}"]
    if s.scope:
        parts.append(f"scope {s.scope}")
    parts.append("wins support = yes" if s.wins_support else "B node")
    if s.server_min_protocol:
        parts.append(f"server min protocol {s.server_min_protocol}")
    return "; ".join(parts)


def write_manifest(dest, rows, meta, codec_text):
    version = samba.version()
    scen = sorted({res.probe.scenario for _, res in rows},
                  key=list(sc.ALL).index)
    L = ["# Samba reference captures", "",
         f"Samba {version} as Debian bookworm ships it (nmbd and smbd), "
         "recorded by nbtkit's conformance lab.", "",
         "- Re-record: `sudo conformance/run --record pcaps/samba-4.17` "
         "(about three minutes; needs root).",
         f"- Recorded: {meta.get('started')}; requests built by: "
         f"{codec_text}.",
         "- How: a private LAN of network namespaces (conformance/nbtlab/"
         "lab.py); Samba at "
         f"{sc.TARGET_ADDR}/24 started by the lab from a generated smb.conf "
         "(`local master = no`, `dns proxy = no`, a guest share `pub`, "
         f"`netbios retarget:RETARGET#20 = {sc.TARGET_ADDR}:445`); "
         f"the probing client at {sc.CLIENT_ADDR} using ephemeral ports; "
         "tcpdump on the lab bridge; each file holds one probe's frames "
         "(its requests and everything Samba sent back; nmbd answers a "
         "broadcast twice).",
         "- Scenarios:"]
    L += [f"  - `{n}`: {_scenario_text(n)}" for n in scen]
    L += ["- What each probe checks and what the RFC says: "
          "conformance/nbtlab/probes/ and the lab report.", "",
          "| file | RFC section | scenario | probe | Samba's answer |",
          "|---|---|---|---|---|"]
    tsv = ["file\tprobe\tsection\tscenario\tsamba"]
    for name, res in rows:
        answer = "; ".join(report.describe_ex(res.ref)).replace("|", "/")
        L.append(f"| {name} | {res.probe.section} | {res.probe.scenario} | "
                 f"{res.probe.title} | {answer} |")
        tsv.append("\t".join([name, res.probe.id, res.probe.section,
                              res.probe.scenario, answer]))
    with open(os.path.join(dest, "MANIFEST.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(L) + "\n")
    with open(os.path.join(dest, "MANIFEST.tsv"), "w", encoding="utf-8") as f:
        f.write("\n".join(tsv) + "\n")
