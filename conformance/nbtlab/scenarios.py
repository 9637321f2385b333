"""Scenarios: the configuration both slots are brought up with.

A scenario fixes everything a probe may rely on: the node's NetBIOS name,
aliases, workgroup, scope, whether it is a WINS server (NBNS), the SMB
protocol floor, and the session-service retarget rule. Every slot (Samba,
the wrong responder, a command, later nbtd) is started from the same
Scenario, so the probes can address the same names on both sides.

The lab is mirrored (see runner.py): the ref side and the dut side are two
LANs with identical addressing, so replies from both carry the same
addresses and can be compared byte for byte.
"""

from dataclasses import dataclass, field, replace

SUBNET = "192.0.2.0/24"          # TEST-NET-1 (RFC 5737)
TARGET_ADDR = "192.0.2.10"       # ref / dut on their LAN
CLIENT_ADDR = "192.0.2.100"      # the probing client
PEER_ADDR = "192.0.2.11"         # room for a second node (WINS client ...)
BCAST_ADDR = "192.0.2.255"
ABSENT_ADDR = "192.0.2.77"       # on the LAN, owned by nobody
RETARGET_PORT = 445


@dataclass(frozen=True)
class Scenario:
    name: str
    netbios_name: str = "NBTTEST"
    aliases: tuple = ("NBTALIAS",)
    workgroup: str = "TESTGRP"
    scope: str = ""
    wins_support: bool = False
    server_min_protocol: str = ""        # "" = Samba's default (SMB2_02)
    retarget_name: str = "RETARGET"      # called name answered by 0x84
    share: str = "pub"
    share_files: tuple = (("hello.txt", "hello from the nbtkit lab\n"),)
    max_ttl: int = 259200
    extra: tuple = field(default_factory=tuple)   # (key, value) smb.conf

    @property
    def node_type(self):
        """Owner node type nmbd advertises: B, or H with WINS support."""
        return "h" if self.wins_support else "b"

    def unique_names(self):
        """(name, suffix) the node owns as UNIQUE."""
        out = []
        for n in (self.netbios_name,) + tuple(self.aliases):
            out += [(n, 0x00), (n, 0x03), (n, 0x20)]
        return out

    def group_names(self):
        return [(self.workgroup, 0x00), (self.workgroup, 0x1E)]

    def qualify(self, text):
        """NAME<XX> -> NAME<XX>.scope when the scenario has a scope."""
        return f"{text}.{self.scope}" if self.scope else text


BNODE = Scenario("bnode")
WINS = Scenario("wins", wins_support=True)
SCOPE = Scenario("scope", scope="NBTLAB.EXAMPLE")
SMB1 = Scenario("smb1", server_min_protocol="NT1")

ALL = {s.name: s for s in (BNODE, WINS, SCOPE, SMB1)}


def with_changes(s, **kw):
    return replace(s, **kw)
