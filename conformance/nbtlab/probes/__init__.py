"""The probe registry.

A probe is a function ctx -> None that talks to one side through
``ctx`` (exchange.ProbeCtx), plus metadata: an id, the RFC section its
table sits in, the scenario it needs, what the RFC says (text for the
report) and an expectation (checks.py) that turns the exchange into
findings. The same function runs against ref and dut with identical
bytes. Probes run in registration order within a scenario; the ones that
change the node's state (conflict demands, releases) come last.
"""

import importlib
from dataclasses import dataclass, field

REGISTRY = []
_MODULES = ("ns_query", "ns_status", "ns_reg", "ns_malformed", "ns_scope",
            "ns_wins", "dgm", "dgmsvc", "ssn", "smb")


@dataclass
class Probe:
    id: str
    section: str
    title: str
    scenario: str
    rfc: str
    fn: object
    check: object
    remote: bool = False       # usable against --target (unicast only)
    mask: tuple = ()           # volatile fields, see judge.normalise
    tags: tuple = field(default_factory=tuple)


def probe(id, section, title, rfc, check, scenario="bnode", remote=False,
          mask=(), tags=()):
    def deco(fn):
        if any(p.id == id for p in REGISTRY):
            raise ValueError(f"duplicate probe id {id}")
        REGISTRY.append(Probe(id, section, title, scenario, rfc, fn, check,
                              remote, tuple(mask), tuple(tags)))
        return fn
    return deco


def load():
    for m in _MODULES:
        importlib.import_module(f"{__name__}.{m}")
    return REGISTRY


def _matches(p, pattern):
    if pattern.startswith("="):
        return p.id == pattern[1:]
    return p.id.startswith(pattern) or pattern == p.section


def select(patterns=None, scenarios=None, remote=False):
    """Probes whose id starts with one of `patterns` ('=ID' for exactly
    that id; an RFC section selects its table), all when None."""
    out = []
    for p in load():
        if patterns and not any(_matches(p, x) for x in patterns):
            continue
        if scenarios and p.scenario not in scenarios:
            continue
        if remote and not p.remote:
            continue
        out.append(p)
    return out
