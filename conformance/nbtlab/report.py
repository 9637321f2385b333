"""The report: index.html (a table per RFC section), junit.xml for CI,
summary.md (printed to the terminal), results.json (for the self-checks).
"""

import html
import json
import os
import re
import xml.etree.ElementTree as ET

from . import nbwire

COLOURS = {"conforms": "#cfc", "deviates-like-Samba": "#ffd",
           "Samba-deviates-from-RFC": "#cef", "differs": "#fcc",
           "unspecified": "#eee"}


def section_key(s):
    """'RFC 1002 4.2.13' sorts by RFC number, then numerically."""
    m = re.match(r"RFC (\d+) ([\d.]+)", s)
    if not m:
        return (9999, (), s)
    return (int(m.group(1)), tuple(int(x) for x in m.group(2).split(".")
                                   if x), s)


def by_section(results):
    out = {}
    for r in results:
        out.setdefault(r.probe.section, []).append(r)
    return dict(sorted(out.items(), key=lambda kv: section_key(kv[0])))


# --- one-line descriptions of replies ----------------------------------------

def describe_rx(proto, data):
    try:
        p = nbwire.parse(proto, data)
    except nbwire.WireError as e:
        return f"unparsable ({e})"
    except KeyError:
        return data.hex()
    if proto == "nbns":
        s = (f"{nbwire.OPCODES.get(p['opcode'], p['opcode'])} "
             f"{'resp' if p['r'] else 'req'} 0x{p['flags']} "
             f"{nbwire.RCODES.get(p['rcode'], p['rcode'])}")
        for rr in p["answers"]:
            t = nbwire.RRTYPES.get(rr["type"], hex(rr["type"]))
            s += f" {t} {rr['name']} ttl={rr['ttl']}"
            if "entries" in rr:
                s += " " + ",".join(f"{e['flags']}/{e['addr']}"
                                    for e in rr["entries"])
            if "num_names" in rr:
                s += f" {rr['num_names']} names"
        return s
    if proto == "nbss":
        extra = p.get("error") or (f"{p.get('ip')}:{p.get('port')}"
                                   if "ip" in p else "")
        return f"{p['kind']} len={p['length']} {extra}".strip()
    return f"{p['kind']} {p.get('error', '')}".strip()


def describe_ex(ex):
    if ex is None:
        return ["(not run)"]
    out = []
    if ex.error:
        out.append(f"ERROR {ex.error}")
    for st in ex.steps:
        if st.kind in ("udp", "listen"):
            distinct = []
            for rx in st.rx:
                if rx.data not in distinct:
                    distinct.append(rx.data)
            if not distinct:
                out.append(f"{st.label}: silence")
            for d in distinct:
                n = sum(1 for rx in st.rx if rx.data == d)
                out.append(f"{st.label}: {n}x " + describe_rx(st.proto, d))
        elif st.kind == "tcp":
            ev = []
            for e in st.events:
                if e[0] == "recv":
                    ev.append(describe_rx("nbss", e[1]))
                elif e[0] == "sent":
                    ev.append(f"> {e[2]}")
                else:
                    ev.append(" ".join(str(x) for x in e))
            out.append("tcp: " + "; ".join(ev))
        elif st.kind == "tool":
            out.append(f"{st.label}: " + "; ".join(str(e[1])
                                                   for e in st.events))
    return out


# --- HTML ----------------------------------------------------------------

def _e(s):
    return html.escape(str(s))


def _hexdiff(a, b, diffs):
    bad = {o for o, _, _ in diffs}

    def render(h):
        x = bytes.fromhex(h)
        return " ".join(f"<mark>{c:02x}</mark>" if i in bad else f"{c:02x}"
                        for i, c in enumerate(x))
    return (f"<div class=hex>ref: {render(a)}</div>"
            f"<div class=hex>dut: {render(b)}</div>")


def _findings(fs):
    if fs is None:
        return "<i>RFC: not specified</i>"
    return "<ul>" + "".join(
        f"<li class={'ok' if ok else 'bad'}>{'&#10003;' if ok else '&#10007;'}"
        f" {_e(t)}</li>" for ok, t in fs) + "</ul>"


def _side(r, side):
    ex = getattr(r, side)
    fs = r.ref_findings if side == "ref" else r.dut_findings
    st = r.ref_rfc if side == "ref" else r.dut_rfc
    pcap = r.extra.get(f"{side}_pcap")
    lines = "<br>".join(_e(x) for x in describe_ex(ex))
    link = f" <a href='{_e(pcap)}'>pcap</a>" if pcap else ""
    rfc = {"ok": "RFC ok", "fail": "RFC broken", "n/a": ""}[st]
    return (f"<td><div class=sum>{lines}</div><small>{rfc}{link}</small>"
            f"<details><summary>detail</summary>{_findings(fs)}"
            f"{_steps_html(ex)}{_tshark_html(r, side)}{_decode_html(r, side)}"
            "</details></td>")


def _steps_html(ex):
    if ex is None:
        return ""
    out = []
    for st in ex.steps:
        row = f"<div class=step><b>{_e(st.label)}</b> [{_e(st.kind)}"
        if st.builder != "raw":
            row += f", built by {_e(st.builder)}"
        row += "]"
        if st.sent:
            row += f"<div class=hex>&gt; {_e(st.sent.hex())}</div>"
        for rx in st.rx:
            row += (f"<div class=hex>&lt; {_e(rx.src)}:{rx.sport} "
                    f"{_e(rx.data.hex())}</div>")
        for e in st.events:
            if e[0] in ("recv", "sent", "recv-partial"):
                continue
            row += f"<div>{_e(' '.join(str(x) for x in e))}</div>"
        if st.note:
            row += f"<pre>{_e(st.note)}</pre>"
        out.append(row + "</div>")
    return "".join(out)


def _tshark_html(r, side):
    rows = r.extra.get(f"{side}_tshark") or []
    if not rows:
        return ""
    return "<div><b>tshark</b><ul>" + "".join(
        f"<li class={'bad' if mal else 'ok'}>#{n} {_e(info)}"
        f"{' [MALFORMED]' if mal else ''}{' ' + _e(exp) if exp else ''}</li>"
        for n, info, mal, exp in rows) + "</ul></div>"


def _decode_html(r, side):
    rows = r.extra.get(f"{side}_decode")
    if rows is None:
        return "<div><i>nbt decode: not in this build</i></div>"
    if not rows:
        return ""
    return "<div><b>nbt decode</b><ul>" + "".join(
        f"<li class={'ok' if d['ok'] else 'bad'}>{_e(d['step'])} "
        f"{_e(d['hex'])}&hellip; {'ok' if d['ok'] else 'REJECTED'} "
        f"{_e(d['stderr'])}</li>" for d in rows) + "</ul></div>"


CSS = """body{font-family:sans-serif;font-size:13px;margin:1em}
table{border-collapse:collapse;width:100%;margin-bottom:1.5em}
td,th{border:1px solid #bbb;padding:4px;vertical-align:top;text-align:left}
th{background:#ddd}.hex{font-family:monospace;word-break:break-all}
mark{background:#f66}.ok{color:#060}.bad{color:#a00}
.sum{font-family:monospace;font-size:12px}.step{margin:4px 0}
pre{white-space:pre-wrap;font-size:11px;background:#f6f6f6}
td.v{font-weight:bold;white-space:nowrap}"""


def write_html(out, results, summary, meta):
    parts = [f"<!doctype html><meta charset=utf-8><title>nbtkit conformance"
             f"</title><style>{CSS}</style><h1>nbtkit conformance report</h1>"]
    parts.append("<table>" + "".join(
        f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in
        list(meta.items()) + [("agreement", _agreement(summary)),
                              ("failed", summary["failed"])]) + "</table>")
    parts.append("<p>" + " ".join(
        f"<span style='background:{COLOURS.get(k, '#eee')};padding:2px 6px'>"
        f"{_e(k)}: {v}</span>" for k, v in summary["counts"].items() if v)
        + " &mdash; logs in <a href='logs/'>logs/</a>, full captures in "
        "<a href='captures/'>captures/</a></p>")
    for section, rs in by_section(results).items():
        parts.append(f"<h2>{_e(section)} ({len(rs)})</h2><table><tr>"
                     "<th>probe</th><th>RFC says</th><th>Samba (ref)</th>"
                     "<th>dut</th><th>verdict</th></tr>")
        for r in rs:
            parts.append(_row(r))
        parts.append("</table>")
    with open(os.path.join(out, "index.html"), "w", encoding="utf-8") as f:
        f.write("\n".join(parts))


def _row(r):
    p = r.probe
    v = r.verdict
    cell = f"<td class=v style='background:{COLOURS.get(v, '#eee')}'>{_e(v)}"
    if not r.passed:
        cell += "<br>FAIL"
    if r.allowed:
        cell += (f"<br><small>allowlisted ({_e(r.allowed.kind)}): "
                 f"{_e(r.allowed.reason)} [{_e(r.allowed.rfc)}]</small>")
    if r.note:
        cell += f"<br><small>{_e(r.note)}</small>"
    for d in r.diffs:
        cell += f"<div><small>step {_e(d['step'])} differs</small>"
        if d.get("bytes"):
            cell += _hexdiff(d["ref_hex"], d["dut_hex"], d["bytes"])
        else:
            cell += ("<div class=hex>ref: " + _e(" | ".join(d["ref"]))
                     + "</div><div class=hex>dut: " + _e(" | ".join(d["dut"]))
                     + "</div>")
        cell += "</div>"
    cell += "</td>"
    return (f"<tr id='{_e(p.id)}'><td><b>{_e(p.id)}</b><br>{_e(p.title)}"
            f"<br><small>scenario {_e(p.scenario)}</small></td>"
            f"<td>{_e(p.rfc)}</td>{_side(r, 'ref')}{_side(r, 'dut')}{cell}"
            "</tr>")


def _agreement(summary):
    a = summary["agreement"]
    if a is None:
        return "n/a (no reference)"
    return f"{a:.1f}% ({summary['same']}/{summary['compared']} probes same)"


# --- JUnit --------------------------------------------------------------

def write_junit(out, results, summary):
    suites = ET.Element("testsuites", name="nbtkit-conformance",
                        tests=str(summary["total"]),
                        failures=str(summary["failed"]))
    for section, rs in by_section(results).items():
        suite = ET.SubElement(suites, "testsuite", name=section,
                              tests=str(len(rs)),
                              failures=str(sum(not r.passed for r in rs)))
        for r in rs:
            tc = ET.SubElement(suite, "testcase", classname=section,
                               name=r.probe.id)
            text = "\n".join(["ref: " + " | ".join(describe_ex(r.ref)),
                              "dut: " + " | ".join(describe_ex(r.dut))]
                             + [("ok  " if ok else "BAD ") + t for ok, t in
                                (r.dut_findings or [])])
            if not r.passed:
                f = ET.SubElement(tc, "failure",
                                  message=f"{r.verdict}: {r.note}".strip(": "),
                                  type=r.verdict)
                f.text = text
            ET.SubElement(tc, "system-out").text = (
                f"verdict: {r.verdict}\n{text}")
    ET.ElementTree(suites).write(os.path.join(out, "junit.xml"),
                                 encoding="utf-8", xml_declaration=True)


# --- Markdown ------------------------------------------------------------

def markdown(out, results, summary, meta):
    L = ["# nbtkit conformance summary", "",
         f"- ref: {meta.get('ref')}", f"- dut: {meta.get('dut')}",
         f"- codec: {meta.get('codec')}",
         f"- probes: {summary['total']}, agreement with Samba: "
         f"{_agreement(summary)}, failed: {summary['failed']}, "
         f"errors: {summary['errors']}, time: {meta.get('seconds')} s", "",
         "| verdict | probes |", "|---|---|"]
    L += [f"| {k} | {v} |" for k, v in summary["counts"].items() if v]
    L += ["", "| RFC section | probes | conforms | like Samba | "
          "Samba deviates | differs | unspecified |",
          "|---|---|---|---|---|---|---|"]
    for section, rs in by_section(results).items():
        c = {k: sum(r.verdict == k for r in rs) for k in COLOURS}
        L.append(f"| {section} | {len(rs)} | {c['conforms']} | "
                 f"{c['deviates-like-Samba']} | "
                 f"{c['Samba-deviates-from-RFC']} | {c['differs']} | "
                 f"{c['unspecified']} |")
    dev = [r for r in results if r.ref_rfc == "fail"]
    if dev:
        L += ["", "Samba deviations from the RFC found in this run:", ""]
        for r in dev:
            why = (f" (allowlisted: {r.allowed.reason})" if r.allowed
                   else " (NOT in the allowlist)")
            first = next((t for ok, t in r.ref_findings if not ok), "")
            L.append(f"- `{r.probe.id}`: {first}{why}")
    bad = [r for r in results if not r.passed]
    if bad:
        L += ["", "Failures:", ""]
        L += [f"- `{r.probe.id}`: {r.verdict}"
              + (f" ({r.note})" if r.note else "") for r in bad]
    L += ["", f"Report: {os.path.join(out, 'index.html')}"]
    text = "\n".join(L) + "\n"
    with open(os.path.join(out, "summary.md"), "w", encoding="utf-8") as f:
        f.write(text)
    return text


def save_json(out, results, summary, meta):
    def ex_json(ex):
        if ex is None:
            return None
        return {"error": ex.error, "steps": [
            {"label": s.label, "kind": s.kind, "sent": s.sent.hex(),
             "builder": s.builder,
             "rx": [{"src": r.src, "sport": r.sport, "hex": r.data.hex()}
                    for r in s.rx],
             "events": [[x.hex() if isinstance(x, bytes) else x for x in e]
                        for e in s.events]} for s in ex.steps]}
    data = {"meta": meta, "summary": summary, "results": [
        {"id": r.probe.id, "section": r.probe.section,
         "scenario": r.probe.scenario, "verdict": r.verdict,
         "passed": r.passed, "same": r.same, "ref_rfc": r.ref_rfc,
         "dut_rfc": r.dut_rfc, "note": r.note,
         "allowed": r.allowed.kind if r.allowed else None,
         "ref_findings": r.ref_findings, "dut_findings": r.dut_findings,
         "ref": ex_json(r.ref), "dut": ex_json(r.dut),
         "pcaps": {k: v for k, v in r.extra.items() if k.endswith("_pcap")}}
        for r in results]}
    with open(os.path.join(out, "results.json"), "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, default=str)


def write_all(out, results, summary, meta, allow):
    write_html(out, results, summary, meta)
    write_junit(out, results, summary)
    save_json(out, results, summary, meta)
    return markdown(out, results, summary, meta)
