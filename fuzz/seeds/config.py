#!/usr/bin/python3
# Seeds for fuzz_config: byte 0 = parser (0 nbtd.conf, 1 smb.conf, 2 one
# flag "key\0value"), then the text. Writes corpus/config/<sha256>.
# Provenance: hand-written from docs/CONFIGURATION.md and smb.conf(5); the
# smb.conf shapes are those of shared/notes/samba-behaviour.md 4.2.
import hashlib, os

NBTD = b"""# nbtd.conf
[global]
name = XYKON-2
alias = FOO, BAR
workgroup = TESTGRP
scope = example.com
interface = 192.0.2.10/24
interface = 198.51.100.7/255.255.255.128 eth*
bind-interfaces-only = yes
wins-server = 192.0.2.1
node-type = h
resolve-order = wins bcast
user = nobody
control = "/run/nbtd/nbtd.sock"
pid-file = /run/nbtd.pid
log-level = info
syslog = no

[name-service]
port = 137
rate-limit = 20
rate-limit-global = 2000
"""

SMB = b"""[global]
   netbios name = NBTTEST
   netbios aliases = NBTALIAS
   workgroup = TESTGRP
   netbios scope = corp.example
   interfaces = 192.0.2.10/24 \\
        "198.51.100.1/255.255.255.0" eth1;speed=1000
   bind interfaces only = yes
   wins server = tag:192.0.2.1 192.0.2.2
   name resolve order = lmhosts wins host bcast
   lock directory = /tmp/x
[homes]
   netbios name = ignored
"""

seeds = [
    b"\x00" + NBTD,
    b"\x00" + NBTD.replace(b"\n", b"\r\n"),
    b"\x00name = a\n[name-service]\nport = 65535\n",
    b"\x00interface = 10.0.0.1\ncontrol = \"/a \\\"b\\\\\"\n",
    b"\x00[global\n",
    b"\x00name = " + b"A" * 2000 + b"\n",
    b"\x01" + SMB,
    b"\x01" + SMB.replace(b"\n", b"\r\n"),
    b"\x01netbios name = %h\n",
    b"\x01[global]\ninterfaces = a \\\nb \\\nc \\\n",
    b"\x01" + b"x = y \\\n" * 70,
    b"\x02name\x00xykon-2",
    b"\x02interface\x00192.0.2.10/24 eth0",
    b"\x02node-type\x00m",
    b"\x02syslog\x00yes",
    b"\x02port\x0013137",
]

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "..", "corpus", "config")
os.makedirs(out, exist_ok=True)
for s in seeds:
    with open(os.path.join(out, hashlib.sha256(s).hexdigest()), "wb") as f:
        f.write(s)
print(f"{len(seeds)} seeds in corpus/config")
