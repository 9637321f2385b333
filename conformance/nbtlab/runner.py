"""One conformance run: build the lab, bring up the slots per scenario, run
every probe against both sides, capture, judge, report.

Topology (mirrored): two LANs with the same addressing, one per side.

    lan "ref":  ref 192.0.2.10      client-ref 192.0.2.100
    lan "dut":  dut 192.0.2.10      client-dut 192.0.2.100

Each probe runs on both sides at the same time from identical clients, so
the two implementations see the same bytes from the same addresses and
answer with the same addresses; the judge compares the answers directly.
Two Samba instances with one name on one LAN would also defend their names
against each other, which the mirror avoids.
"""

import concurrent.futures as cf
import contextlib
import os
import shutil
import tempfile
import time
import traceback

from . import capture
from . import codec as codec_mod
from . import duts
from . import judge
from . import nbwire
from . import probes as probes_mod
from . import report
from . import samba
from . import scenarios as sc
from .exchange import ProbeCtx
from .lab import Lab

HERE = os.path.dirname(os.path.abspath(__file__))
ALLOWLIST = os.path.join(os.path.dirname(HERE), "allowlist.toml")
SIDES = ("ref", "dut")


def ordered(probes):
    """Scenario by scenario (in scenarios.ALL order); within one, probes in
    registration order with the 'late' ones (state-changing) last."""
    out = []
    for name in sc.ALL:
        group = [p for p in probes if p.scenario == name]
        out += [p for p in group if "late" not in p.tags]
        out += [p for p in group if "late" in p.tags]
    return out


class Runner:
    def __init__(self, out, dut="samba", ref="samba", only=None,
                 target=None, log=print, allowlist=ALLOWLIST, nbt=None):
        self.out = os.path.abspath(out)
        self.dut_spec = dut
        self.ref_spec = ref
        self.only = only
        self.target = target
        self.log = log
        self.allow = judge.load_allowlist(allowlist)
        self.codec = codec_mod.Codec(nbt)
        self.exchanges = {}           # (probe id, side) -> Exchange
        self.meta = {}
        self.results = []

    # --- entry points ------------------------------------------------------

    def run(self):
        t0 = time.time()
        if os.path.isdir(self.out):
            for sub in ("pcaps", "logs", "captures"):
                shutil.rmtree(os.path.join(self.out, sub), ignore_errors=True)
        os.makedirs(self.out, exist_ok=True)
        self.meta = {"started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                     "codec": self.codec.describe(),
                     "samba": samba.version()}
        if self.target:
            self._run_remote()
        else:
            self._run_lab()
        self.meta["seconds"] = round(time.time() - t0, 1)
        self.meta["builder_fallbacks"] = [
            " ".join(a) + f": {why}" for a, why in self.codec.fallbacks][:50]
        self.summary = judge.summary(self.results)
        self.markdown = report.write_all(self.out, self.results, self.summary,
                                         self.meta, self.allow)
        return self.summary

    # --- lab mode --------------------------------------------------------

    def _run_lab(self):
        selected = ordered(probes_mod.select(self.only))
        if not selected:
            raise SystemExit(f"no probes match {self.only}")
        ref_slot = duts.make(self.ref_spec)
        dut_slot = duts.make(self.dut_spec)
        self.meta.update(mode="lab", ref=ref_slot.describe(),
                         dut=dut_slot.describe(), probes=len(selected))
        scen_names = [s for s in sc.ALL if any(p.scenario == s
                                               for p in selected)]
        with Lab(log=self.log) as lab, contextlib.ExitStack() as stack:
            hosts = self._build(lab)
            caps = {}
            for side in SIDES:
                caps[side] = capture.Capture(
                    lab, hosts[side][0].lan,
                    os.path.join(self.out, "captures", f"{side}.pcap"))
                caps[side].start()
                stack.callback(caps[side].stop)
            work = {side: stack.enter_context(tempfile.TemporaryDirectory(
                prefix=f"nbtlab-{side}-")) for side in SIDES}
            for name in scen_names:
                scn = sc.ALL[name]
                group = [p for p in selected if p.scenario == name]
                self._scenario(scn, group, hosts, {"ref": ref_slot,
                                                   "dut": dut_slot}, work)
            for side in SIDES:
                caps[side].stop()
        self._postprocess(selected)

    def _build(self, lab):
        hosts = {}
        for side in SIDES:
            lan = lab.add_lan(side)
            target = lab.add_host(side, lan, sc.TARGET_ADDR)
            client = lab.add_host(f"client-{side}", lan, sc.CLIENT_ADDR)
            hosts[side] = (target, client)
        lab.wait_links()
        return hosts

    def _scenario(self, scn, group, hosts, slots, work):
        self.log(f"== scenario {scn.name}: {len(group)} probes")
        t = time.time()
        started = []
        try:
            with cf.ThreadPoolExecutor(2) as pool:
                futs = {}
                for side in SIDES:
                    target, client = hosts[side]
                    logdir = os.path.join(self.out, "logs",
                                          f"{scn.name}-{side}")
                    slots[side].start(target, scn, logdir, client)
                    started.append(slots[side])
                    futs[side] = pool.submit(slots[side].wait_ready)
                for side, f in futs.items():
                    f.result()
            self.log(f"   both slots ready after {time.time() - t:.1f} s")
            for p in group:
                self._probe(p, scn, hosts, work)
        finally:
            for s in started:
                s.stop()

    def _probe(self, p, scn, hosts, work):
        def one(side):
            target, client = hosts[side]
            ctx = ProbeCtx(p, side, client, target.addr, scn, self.codec,
                           target.lan.broadcast, client.addr)
            ctx.workdir = work[side]
            ctx.ex.t0 = time.time()
            try:
                p.fn(ctx)
            except Exception as e:   # a probe bug must not stop the run
                ctx.ex.error = f"{type(e).__name__}: {e}"
                self.log(traceback.format_exc())
            ctx.ex.t1 = time.time()
            return ctx.ex
        with cf.ThreadPoolExecutor(2) as pool:
            exs = dict(zip(SIDES, pool.map(one, SIDES)))
        for side, ex in exs.items():
            self.exchanges[(p.id, side)] = ex
        same = judge.canon(exs["ref"], p.mask) == judge.canon(exs["dut"],
                                                              p.mask)
        self.log(f"   {'==' if same else '!='} {p.id}")

    def _postprocess(self, selected):
        frames = {}
        tables = {}
        for side in SIDES:
            path = os.path.join(self.out, "captures", f"{side}.pcap")
            frames[side] = capture.read_frames(path)
            tables[side] = capture.tshark_table(path)
        scn_of = {p.id: sc.ALL[p.scenario] for p in selected}
        for p in selected:
            ref = self.exchanges.get((p.id, "ref"))
            dut = self.exchanges.get((p.id, "dut"))
            r = judge.judge(p, ref, dut, scn_of[p.id], sc.TARGET_ADDR,
                            sc.CLIENT_ADDR, self.allow)
            for side, ex in (("ref", ref), ("dut", dut)):
                if ex is None:
                    continue
                rel = os.path.join("pcaps", side, f"{p.id}.pcap")
                nums = capture.split(frames[side], ex, sc.CLIENT_ADDR,
                                     os.path.join(self.out, rel))
                r.extra[f"{side}_pcap"] = rel if nums else None
                r.extra[f"{side}_tshark"] = [
                    (n,) + tables[side].get(n, ("", False, ""))
                    for n in nums]
                r.extra[f"{side}_decode"] = self._decode(ex)
            self.results.append(r)

    def _decode(self, ex):
        """nbtkit's decoder on every distinct reply (when built)."""
        if not self.codec.supports("decode"):
            return None
        out = []
        seen = set()
        for st in ex.steps:
            for rx in st.rx:
                if rx.data in seen or not rx.data:
                    continue
                seen.add(rx.data)
                d = self.codec.decode(rx.proto, rx.data)
                if d is not None:
                    out.append({"step": st.label, "hex": rx.data.hex()[:64],
                                "ok": d["ok"], "stderr": d["stderr"],
                                "json": d["objects"][:1]})
        return out

    # --- remote mode ---------------------------------------------------------

    def _run_remote(self):
        scn = self._discover()
        selected = [p for p in ordered(probes_mod.select(self.only,
                                                         remote=True))]
        self.meta.update(mode="remote", ref="(none: RFC only)",
                         dut=f"remote target {self.target}",
                         probes=len(selected), scenario=str(scn))
        with tempfile.TemporaryDirectory(prefix="nbtlab-remote-") as work:
            for p in selected:
                ctx = ProbeCtx(p, "dut", None, self.target, scn, self.codec,
                               None, "")
                ctx.workdir = work
                ctx.ex.t0 = time.time()
                try:
                    p.fn(ctx)
                except Exception as e:
                    ctx.ex.error = f"{type(e).__name__}: {e}"
                ctx.ex.t1 = time.time()
                r = judge.judge(p, None, ctx.ex, scn, self.target, "",
                                self.allow)
                self.results.append(r)
                self.log(f"   {r.verdict:>12} {p.id}")

    def _discover(self):
        """Learn the target's name and workgroup from a node status."""
        import socket
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2.0)
        try:
            q = nbwire.build_ns(0x5151, nbwire.ns_flags(0),
                                [(nbwire.name_bytes("*<00>"), 0x21)])
            s.sendto(q, (self.target, 137))
            data, _ = s.recvfrom(4096)
            names = nbwire.parse_ns(data)["answers"][0]["names"]
        except (OSError, nbwire.WireError, IndexError, KeyError) as e:
            raise SystemExit(f"--target {self.target}: no node status "
                             f"reply ({e}); is it an NBT node?")
        finally:
            s.close()
        uniq = [n["name"] for n in names if not int(n["flags"], 16) & 0x8000]
        grp = [n["name"] for n in names if int(n["flags"], 16) & 0x8000]

        def base(text):
            return text.rsplit("<", 1)[0]
        own = next((base(n) for n in uniq if n.endswith("<20>")),
                   base(uniq[0]) if uniq else "*SMBSERVER")
        wg = next((base(n) for n in grp if n.endswith("<00>")), "WORKGROUP")
        self.log(f"target {self.target}: name {own}, workgroup {wg}")
        return sc.Scenario("remote", netbios_name=own, aliases=(),
                           workgroup=wg)

