"""HTML: one self-contained page per run (figures embedded) and an index page with the verdict table.

Standard library only (``string.Template`` and ``html.escape``): a page is a
few tables and images, not worth a template engine. Images are embedded as
base64 data URIs so a page can be attached to a CI run or mailed as one file.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from string import Template

from gandiag.engine.findings import Severity
from gandiag.report.plots import RunFigure
from gandiag.report.summary import ReportRun, onset_text, sort_runs, top_findings, verdict_counts
from gandiag.verdict.diagnosis import Diagnosis

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; }
.v-non_converged, .v-mode_collapse { color: #b00020; font-weight: bold; }
.v-inconclusive { color: #8a6d00; font-weight: bold; }
.v-stable { color: #1b5e20; font-weight: bold; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { color: #555; font-size: 0.9em; }
p.missing { color: #555; font-style: italic; }
.samples { display: flex; flex-wrap: wrap; gap: 1em; }
.samples figure { flex: 1 1 30%; max-width: 49%; margin: 0; }
"""

_PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>$title</title>
<style>$style</style>
</head>
<body>
$body
</body>
</html>
""")


#: what a run page says where its samples would be
NO_SAMPLES = ("No sample snapshots: the verdict rests on the losses alone, which are weak evidence. Keep samples.npz "
              "(step_<N> keys) and real.npz beside the history, or pass --samples and --real, to see the samples "
              "and have them judged.")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _verdict(d: Diagnosis) -> str:
    return f'<span class="v-{d.verdict.value}">{_e(d.verdict.value)}</span>'


_MIME = {".png": "image/png", ".gif": "image/gif"}


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"data:{_MIME.get(path.suffix.lower(), 'image/png')};base64,{data}"


def _figure(fig: RunFigure) -> str:
    return (f'<figure><img src="{_img(fig.path)}" alt="{_e(fig.caption)}">'
            f"<figcaption>{_e(fig.caption)}</figcaption></figure>")


def _findings_table(d: Diagnosis) -> str:
    rows = [f"<tr><td>{_e(f.rule)}</td><td>{_e(f.name)}</td><td>{_e(f.severity.value)}</td>"
            f"<td>{_e(f.status.value)}</td><td class='num'>{f.onset_step}</td><td class='num'>{f.end_step}</td>"
            f"<td>{_e(f.message)}</td><td>{_e(f.fix if f.severity is not Severity.INFO else '')}</td></tr>"
            for f in d.findings]
    if not rows:
        return "<p>No rule fired.</p>"
    head = ("<tr><th>rule</th><th>name</th><th>severity</th><th>status</th><th>onset</th><th>end</th>"
            "<th>finding</th><th>fix</th></tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def run_page(run: ReportRun, figures: Sequence[RunFigure], *, index_href: str | None = None) -> str:
    """The page of one run: verdict, why, findings with fixes, then every figure."""
    d = run.diagnosis
    check = f"fails the check: {run.failure}" if run.fails else "passes the check" + (f" ({run.note})" if run.note else "")
    window = (f"steps {d.settle_window.start_step}-{d.settle_window.end_step} (final {d.settle_window.fraction:.0%})"
              if d.settle_window else "-")
    parts = []
    if index_href:
        parts.append(f'<p><a href="{_e(index_href)}">&larr; all runs</a></p>')
    parts += [
        f"<h1>{_e(run.key)}</h1>",
        "<table>",
        f"<tr><th>verdict</th><td>{_verdict(d)} (confidence {d.confidence:.2f})</td></tr>",
        f"<tr><th>onset step</th><td>{_e(onset_text(d))}</td></tr>",
        f"<tr><th>judged on</th><td>{_e(window)}</td></tr>",
        f"<tr><th>why</th><td>{_e(d.reason)}</td></tr>",
        f"<tr><th>check</th><td>{_e(check)}</td></tr>",
        (f"<tr><th>input</th><td>{_e(d.source)} ({_e(d.inputs.get('format', '?'))}, {d.n_steps} steps, "
         f"loss family {_e(d.loss_family)})</td></tr>"),
        "</table>",
        "<h2>Findings</h2>",
        _findings_table(d),
    ]
    main = [f for f in figures if f.section == "figures"]
    evolution = [f for f in figures if f.section == "evolution"]
    samples = [f for f in figures if f.section == "samples"]
    if main:
        parts.append("<h2>Figures</h2>")
        parts += [_figure(f) for f in main]
    if evolution:
        parts.append("<h2>Evolution</h2>")
        parts += [_figure(f) for f in evolution]
    if samples:
        parts.append("<h2>Samples</h2>")
        parts.append('<div class="samples">' + "".join(_figure(f) for f in samples) + "</div>")
    elif not d.inputs.get("samples"):
        parts.append("<h2>Samples</h2>")
        parts.append(f"<p class='missing'>{_e(NO_SAMPLES)}</p>")
    if d.warnings:
        parts.append("<h2>Warnings</h2><ul>" + "".join(f"<li>{_e(w)}</li>" for w in d.warnings) + "</ul>")
    return _PAGE.substitute(title=_e(f"gandiag: {run.key}"), style=_STYLE, body="\n".join(parts))


def index_page(runs: Sequence[tuple[ReportRun, str]], *, errors: Sequence[tuple[str, str]] = ()) -> str:
    """The verdict table of many runs, worst first, each linking to its page."""
    href = {id(r): h for r, h in runs}
    ordered = sort_runs([r for r, _ in runs])
    rows = []
    for r in ordered:
        d = r.diagnosis
        findings = ", ".join(f"{f.rule} {f.name}" for f in top_findings(d)) or "-"
        check = f"fails: {r.failure}" if r.fails else "ok"
        rows.append(f'<tr><td><a href="{_e(href[id(r)])}">{_e(r.key)}</a></td><td>{_verdict(d)}</td>'
                    f"<td class='num'>{d.confidence:.2f}</td><td class='num'>{_e(onset_text(d))}</td>"
                    f"<td>{_e(findings)}</td><td>{_e(check)}</td></tr>")
    parts = [f"<h1>gandiag: {len(ordered)} runs</h1>",
             f"<p>{_e(verdict_counts(ordered) or 'no runs')}; {sum(r.fails for r in ordered)} failing the check</p>"]
    if rows:
        parts.append("<table><tr><th>run</th><th>verdict</th><th>confidence</th><th>onset step</th>"
                     "<th>top findings</th><th>check</th></tr>" + "".join(rows) + "</table>")
    if errors:
        parts.append("<h2>Unreadable inputs</h2><ul>"
                     + "".join(f"<li><code>{_e(s)}</code>: {_e(m)}</li>" for s, m in errors) + "</ul>")
    return _PAGE.substitute(title="gandiag report", style=_STYLE, body="\n".join(parts))


def write_text(path: Path, text: str) -> Path:
    """Write atomically, so a browser refreshing the page never sees half of it (OutputError when it cannot)."""
    from gandiag.infra.outputs import atomic_write_text

    return atomic_write_text(path, text)
