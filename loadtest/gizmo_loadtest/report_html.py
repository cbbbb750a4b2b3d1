"""The HTML report: one self-contained page (thumbnails inlined) that CI can keep as an artifact.

Per scene: its MuJoCo thumbnail at t=0, one row per case, and every finding of a failed case.
"""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from .findings import FormatResult, Report, SceneResult
from .report_json import write_atomically
from .report_text import outcome, short_node

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
.note { color: #777; }
"""


def _thumbnail(scene: SceneResult) -> str:
    if scene.thumbnail and Path(scene.thumbnail).is_file():
        data = base64.b64encode(Path(scene.thumbnail).read_bytes()).decode("ascii")
        return (
            f'<img class="thumb" alt="MuJoCo view of {escape(scene.scene_name)} at t=0" '
            f'src="data:image/png;base64,{data}">'
        )
    reasons = [n for r in scene.results.values() for n in r.notes if n.startswith("no thumbnail")]
    text = reasons[0] if reasons else "no thumbnail (MJCF not checked, not loaded, or disabled)"
    return f'<div class="thumb">{escape(text)}</div>'


def _case(result: FormatResult) -> str:
    word = outcome(result)
    load = f"{result.load_seconds * 1000:.1f} ms" if result.load_seconds is not None else "-"
    details = []
    if result.skipped:
        details.append(f'<span class="note">{escape(result.skipped)}</span>')
    if result.findings:
        items = "".join(
            f"<li><code>{escape(f.check)}</code> "
            + (f"<b>{escape(f.placement)}</b>: " if f.placement else "")
            + escape(f.message)
            + (f' <span class="note">[{escape(f.where)}]</span>' if f.where else "")
            + "</li>"
            for f in result.findings
        )
        details.append(f'<ul class="findings">{items}</ul>')
    details += [f'<div class="note">{escape(n)}</div>' for n in result.notes]
    return (
        f'<tr><td>{escape(result.format)}</td><td class="{word}">{word}</td>'
        f"<td>{load}</td><td>{''.join(details)}</td></tr>"
    )


def _scene(scene: SceneResult) -> str:
    status = "passed" if scene.passed else "failed"
    rows = "".join(_case(r) for r in scene.results.values())
    return (
        f'<section class="scene {status}">{_thumbnail(scene)}<div>'
        f"<h2>{escape(scene.scene_name)} <code>{escape(scene.scene_id)}</code></h2>"
        f"<div>{scene.placements} placement(s), checked in {scene.seconds:.2f} s on node "
        f'<code title="{escape(scene.node)}">{escape(short_node(scene.node))}</code></div>'
        f"<table><tr><th>format</th><th>result</th><th>load</th><th>details</th></tr>{rows}"
        "</table></div></section>"
    )


def render_html(report: Report) -> str:
    cases = report.cases()
    failed = sum(not r.passed for _, r in cases)
    verdict = "all cases passed" if report.passed else f"{failed} of {len(cases)} case(s) failed"
    settings = ", ".join(f"{k}={v}" for k, v in report.settings.items())
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Gizmo load test: {escape(verdict)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>Gizmo load test: {escape(verdict)}</h1>"
        f'<div class="summary">Target <code>{escape(report.target)}</code>, started '
        f"{escape(report.started_at)}; {len(report.scenes)} scene(s) in "
        f"{report.elapsed_seconds:.1f} s with {report.workers} worker(s): "
        f"<b>{report.scenes_per_minute:.1f} scenes per minute</b>."
        f'<div class="note">{escape(settings)}</div></div>'
        + "".join(_scene(s) for s in report.scenes)
        + "</body></html>\n"
    )


def write_html(report: Report, path: Path) -> Path:
    return write_atomically(path, render_html(report))
