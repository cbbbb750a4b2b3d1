"""The HTML report: one self-contained page (thumbnails inlined) that CI can keep as an artifact.

Per scene: a thumbnail of each format at t=0, one row per case, and every finding of a failed
case (a message repeated in another format is shown once); at the top, the findings by kind.
"""

from __future__ import annotations

import base64
import re
from collections import Counter
from html import escape
from pathlib import Path

from .findings import MJCF, USD, Finding, FormatResult, Report, SceneResult
from .report_json import write_atomically
from .report_text import describe_settings, outcome, short_node, throughput

__all__ = ["render_html", "write_html"]

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin: 0 0 .3em; }
.summary { margin-bottom: 1.5em; }
.scene { display: flex; gap: 1.2em; border: 1px solid #ccc; border-radius: 6px; padding: 1em;
         margin-bottom: 1em; }
.scene.failed { border-color: #c33; }
.thumb { width: 320px; height: 240px; flex: none; background: #eee; display: flex;
         align-items: center; justify-content: center; color: #777; text-align: center; }
table { border-collapse: collapse; } td, th { padding: .2em .8em .2em 0; text-align: left; }
.pass { color: #1a7f37; font-weight: bold; } .FAIL { color: #c33; font-weight: bold; }
.skip { color: #777; font-weight: bold; }
ul.findings { margin: .4em 0; padding-left: 1.2em; } code { font-size: .95em; }
.note { color: #777; } .thumbs { display: flex; flex-direction: column; gap: .4em; }
.partial { background: #fff3cd; border: 1px solid #e0b000; padding: .5em 1em; }
"""

_VIEWS = {MJCF: "MuJoCo view of the MJCF", USD: "the USD stage, drawn by MuJoCo"}
_BACKTICKED = re.compile(r"`([^`]+)`")
_REQUEST_ID = re.compile(r"request id \S+")


def _text(text: str) -> str:
    """Escaped, with the CLI's `command` quoting shown as code instead of raw backticks."""
    return _BACKTICKED.sub(r"<code>\1</code>", escape(text))


def _thumbnail(scene: SceneResult, fmt: str) -> str:
    view = _VIEWS.get(fmt, fmt)
    png = scene.thumbnails.get(fmt)
    if png and Path(png).is_file():
        data = base64.b64encode(Path(png).read_bytes()).decode("ascii")
        return (
            f'<img class="thumb" alt="{escape(view)} of {escape(scene.scene_name)} at t=0" '
            f'title="{escape(view)}" src="data:image/png;base64,{data}">'
        )
    result = scene.results.get(fmt)
    reasons = [n for n in (result.notes if result else []) if n.startswith("no thumbnail")]
    text = reasons[0] if reasons else f"no thumbnail of the {fmt} (not loaded, or disabled)"
    return f'<div class="thumb">{escape(text)}</div>'


def _thumbnails(scene: SceneResult) -> str:
    formats = [f for f in (MJCF, USD) if f in scene.results] or [MJCF]
    return '<div class="thumbs">' + "".join(_thumbnail(scene, f) for f in formats) + "</div>"


def _finding(finding: Finding) -> str:
    return (
        f"<li><code>{escape(finding.check)}</code> "
        + (f"<b>{escape(finding.placement)}</b>: " if finding.placement else "")
        + _text(finding.message)
        + (f' <span class="note">[{escape(finding.where)}]</span>' if finding.where else "")
        + "</li>"
    )


def _case(result: FormatResult, seen: dict[tuple[str, str], str]) -> str:
    """One case's row; `seen` maps (check, message) to the format that showed it first (two
    answers of one failure differ only in their request ids)."""
    word = outcome(result)
    load = f"{result.load_seconds * 1000:.1f} ms" if result.load_seconds is not None else "-"
    details = []
    if result.skipped:
        details.append(f'<span class="note">{escape(result.skipped)}</span>')
    if result.findings:
        items = []
        for finding in result.findings:
            kind = (finding.check, _REQUEST_ID.sub("request id", finding.message))
            first = seen.setdefault(kind, result.format)
            if first == result.format:
                items.append(_finding(finding))
            else:
                items.append(
                    f"<li><code>{escape(finding.check)}</code> "
                    f'<span class="note">the same as for {escape(first)}</span></li>'
                )
        details.append(f'<ul class="findings">{"".join(items)}</ul>')
    details += [f'<div class="note">{_text(n)}</div>' for n in result.notes]
    return (
        f'<tr><td>{escape(result.format)}</td><td class="{word}">{word}</td>'
        f"<td>{load}</td><td>{''.join(details)}</td></tr>"
    )


def _scene(scene: SceneResult) -> str:
    status = "passed" if scene.passed else "failed"
    seen: dict[tuple[str, str], str] = {}
    rows = "".join(_case(r, seen) for r in scene.results.values())
    return (
        f'<section class="scene {status}">{_thumbnails(scene)}<div>'
        f"<h2>{escape(scene.scene_name)} <code>{escape(scene.scene_id)}</code></h2>"
        f"<div>{_contents(scene)}, checked in {scene.seconds:.2f} s on node "
        f'<code title="{escape(scene.node)}">{escape(short_node(scene.node))}</code></div>'
        f"<table><tr><th>format</th><th>result</th><th>load</th><th>details</th></tr>{rows}"
        "</table></div></section>"
    )


def _contents(scene: SceneResult) -> str:
    """What the scene held: its API placements, or (none) how it was checked, or nothing known
    when no export arrived."""
    if all(r.load_seconds is None for r in scene.results.values()):
        return "no export could be checked"
    if scene.placements:
        return f"{scene.placements} placement(s)"
    return "no API placements: checked on its own terms"


def _by_kind(report: Report) -> str:
    kinds = Counter(f.check for _, r in report.cases() for f in r.findings)
    if not kinds:
        return ""
    listed = ", ".join(f"<code>{escape(k)}</code> &times;{n}" for k, n in kinds.most_common())
    return f"<div>Findings by kind: {listed}</div>"


def render_html(report: Report) -> str:
    cases = report.cases()
    failed = sum(not r.passed for _, r in cases)
    verdict = "all cases passed" if report.passed else f"{failed} of {len(cases)} case(s) failed"
    if report.partial:
        verdict = f"interrupted, {verdict} so far"
    banner = (
        '<div class="partial">PARTIAL report: the run was interrupted (Ctrl-C); only the '
        "scenes finished by then are in it.</div>"
        if report.partial
        else ""
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Gizmo load test: {escape(verdict)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>Gizmo load test: {escape(verdict)}</h1>{banner}"
        f'<div class="summary">Target <code>{escape(report.target)}</code>, started '
        f"{escape(report.started_at)}; {len(report.scenes)} scene(s) in "
        f"{report.elapsed_seconds:.1f} s with {report.workers} worker(s): "
        f"<b>{escape(throughput(report))}</b>.{_by_kind(report)}"
        f'<div class="note">{escape(describe_settings(report.settings))}</div></div>'
        + "".join(_scene(s) for s in report.scenes)
        + "</body></html>\n"
    )


def write_html(report: Report, path: Path) -> Path:
    return write_atomically(path, render_html(report))
