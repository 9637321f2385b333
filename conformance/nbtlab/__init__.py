"""nbtlab: nbtkit's conformance lab.

A private LAN of network namespaces (lab.py), Samba started inside it
(samba.py), the device under test in a slot next to it (duts.py), probes
sent to both (probes/), responses judged against the RFC and against each
other (judge.py) and written up (report.py). Run it with conformance/run;
import it as a library (``from nbtlab.lab import Lab``) to build other
experiments on the same namespaces, as ``nbt replay``'s tests do.

Everything here runs with Debian's /usr/bin/python3 (3.11, with
python3-scapy and python3-pytest).
"""

__all__ = ["lab", "samba", "duts", "codec", "nbwire", "capture", "judge",
           "report", "runner"]
