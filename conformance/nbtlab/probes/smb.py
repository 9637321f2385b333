"""SMB through the session service with Samba's own client (smbclient over
TCP 139: SESSION REQUEST, then SMB in SESSION MESSAGEs; RFC 1001 16,
RFC 1002 4.3). The comparison is on what the user sees: the exit status
and the names listed, not on SMB bytes (GUIDs and times differ per run)."""

import re

from .. import samba
from . import probe

S = "RFC 1001 16.1"


def _names(rc, out, err):
    files = {m.group(1) for m in re.finditer(
        r"^  (\S+)\s+[ADHNRS]+\s+\d+\s", out, re.M)}
    shares = {m.group(1) for m in re.finditer(
        r"^\t(\S+)\s+(?:Disk|IPC|Printer)\b", out, re.M)}
    names = sorted((files | shares) - {".", ".."})
    status = re.findall(r"NT_STATUS_[A-Z_]+", out + err)
    return {"rc": rc, "names": names, "status": sorted(set(status))}


def works(label):
    def check(v):
        ev = dict(e for e in v.step(label).events if len(e) == 2)
        res = ev.get("result") or {}
        return [(ev.get("rc") == 0 and bool(res.get("names")),
                 "RFC 1001 16.1: a session is established over TCP 139 and "
                 "carries the user's data (smbclient exit 0, listing "
                 f"{', '.join(res.get('names', [])) or 'nothing'})")]
    return check


def _client(ctx):
    conf = samba.client_conf(ctx.workdir, ctx.scn)
    return ["smbclient", "-s", conf, "-N", "-p", "139", "-m", "SMB3"]


@probe("smb.ls.share", S, "smbclient over 139: list the guest share",
       "SMB over an RFC 1002 session: SESSION REQUEST to the server's name, "
       "POSITIVE SESSION RESPONSE, then SESSION MESSAGEs (RFC 1001 16.1, "
       "RFC 1002 4.3). Success is the listing.", works("smbclient"))
def _(ctx):
    argv = _client(ctx) + ["-I", ctx.target,
                           f"//{ctx.own}/{ctx.scn.share}", "-c", "ls"]
    ctx.tool("smbclient", argv, _names)


@probe("smb.list.shares", S, "smbclient over 139: list shares (-L)",
       "As above; the list comes over the session (IPC$ and RPC inside "
       "SESSION MESSAGEs).", works("smbclient"))
def _(ctx):
    argv = _client(ctx) + ["-I", ctx.target, "-L", ctx.own]
    ctx.tool("smbclient", argv, _names)


@probe("smb.ls.smb1", S, "smbclient over 139 with NT1 (SMB1): list the "
       "share",
       "SMB1 over an RFC 1002 session, the original NetBIOS transport.",
       works("smbclient"), scenario="smb1")
def _(ctx):
    argv = ["smbclient", "-s", samba.client_conf(ctx.workdir, ctx.scn),
            "-N", "-p", "139", "-m", "NT1", "-I", ctx.target,
            f"//{ctx.own}/{ctx.scn.share}", "-c", "ls"]
    ctx.tool("smbclient", argv, _names)
