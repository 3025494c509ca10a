"""``gandiag calibrate`` and ``gandiag rules stats``: scores and rule statistics from a labelled corpus."""

from __future__ import annotations

import json
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from gandiag.errors import GandiagError


class StatsFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def _fail(exc: GandiagError) -> typer.Exit:
    typer.echo(f"error: {exc.one_line()}", err=True)
    return typer.Exit(code=2)


def _cases(manifest: Path, rules_paths, jobs: int, cache_dir: Path | None, no_cache: bool):
    from gandiag.engine.loader import load_rules
    from gandiag.verdict.cases import check_corpus, collect_corpus, default_cache_dir, read_corpus

    runs = read_corpus(manifest)
    check_corpus(runs, str(manifest))
    rules = load_rules(rules_paths or [], default_scores=False)
    cache = None if no_cache else (cache_dir or default_cache_dir())
    return runs, rules, collect_corpus(runs, rules, jobs=jobs, cache_dir=cache)


def _pct(x) -> str:
    return "  -  " if x is None or x != x else f"{100 * x:4.0f}%"


def register(app: typer.Typer) -> None:
    rules_app = next((g.typer_instance for g in app.registered_groups if g.name == "rules"), None)

    @app.command()
    def calibrate(
        manifest: Annotated[Path, typer.Argument(help="A corpus: a gandiag.manifest/1 file whose runs carry family and oracle_label.")],
        out: Annotated[Path, typer.Option("--out", "-o", help="Write the scores file here (TOML).")],
        rules: Annotated[list[Path] | None, typer.Option("--rules", help="Extra rule file or folder.")] = None,
        bound: Annotated[float, typer.Option(help="At most this share of stable runs flagged, with samples.")] = 0.05,
        loss_bound: Annotated[float, typer.Option(help="The same, from losses alone.")] = 0.10,
        jobs: Annotated[int, typer.Option("--jobs", "-j", help="Evaluate runs in N processes.")] = 1,
        cache_dir: Annotated[Path | None, typer.Option(help="Cache of per-run evaluations (default ~/.cache/gandiag/calibrate).")] = None,
        no_cache: Annotated[bool, typer.Option("--no-cache", help="Evaluate every run afresh.")] = False,
        lofo: Annotated[bool, typer.Option("--lofo/--no-lofo", help="Also report leave-one-family-out figures.")] = True,
    ) -> None:
        """Fit the rules' open thresholds and the verdict's probabilities on a labelled corpus of runs."""
        from gandiag.verdict.calibration import Scores, render_scores
        from gandiag.verdict.fit import calibrate as fit_all
        from gandiag.verdict.fit import leave_one_family_out
        from gandiag.verdict.metrics import scores_of

        t0 = time.perf_counter()
        try:
            runs, rule_set, cases = _cases(manifest, rules, jobs, cache_dir, no_cache)
        except GandiagError as exc:
            raise _fail(exc) from None
        families = sorted({c.family for c in cases})
        cal = fit_all(cases, rule_set, bound=bound, loss_bound=loss_bound)
        header = [f"Fitted by `gandiag calibrate` on {len({r.path for r in runs})} runs of {manifest}",
                  f"({len(families)} families: {', '.join(families)}); stable runs flagged <= {bound:g} with samples, "
                  f"<= {loss_bound:g} from losses alone.",
                  "[thresholds]: each within the range its rule file declares (tune = [low, high]).",
                  "[probabilities.PATH]: the share of corpus runs decided by PATH (the test of the outcome definition "
                  "that decided, with samples or from losses) that ended in each outcome, Laplace-smoothed."]
        try:
            out.write_text(render_scores(Scores(cal.thresholds, cal.probabilities), header=header), encoding="utf-8")
        except OSError as exc:
            raise _fail(GandiagError(f"cannot write the scores file ({exc.strerror})", where=str(out),
                                     hint="Choose a writable path")) from None
        lines = [f"{len(cases)} evaluations of {len({r.path for r in runs})} runs, {len(families)} families",
                 "thresholds: " + ", ".join(f"{k}={v:g}" for k, v in sorted(cal.thresholds.items()))]
        for mode in ("samples", "losses", "noref"):
            rows = [r for r in cal.rows if r["mode"] == mode]
            if not rows:
                continue
            s = scores_of(rows)
            lines.append(f"{mode:<8} in-sample:            macro-F1 {s['macro_f1']:.2f}, failing caught {_pct(s['failures_caught'])}, "
                         f"stable flagged {_pct(s['stable_flagged'])}, ECE {s['ece']:.3f}")
        if lofo and len(families) > 1:
            rows, _ = leave_one_family_out(cases, rule_set, bound=bound, loss_bound=loss_bound, jobs=jobs)
            for mode in ("samples", "losses", "noref"):
                sub = [r for r in rows if r["mode"] == mode]
                if sub:
                    s = scores_of(sub)
                    lines.append(f"{mode:<8} leave-one-family-out: macro-F1 {s['macro_f1']:.2f}, failing caught "
                                 f"{_pct(s['failures_caught'])}, stable flagged {_pct(s['stable_flagged'])}, "
                                 f"ECE {s['ece']:.3f}, Brier {s['brier']:.3f}")
        lines.append(f"wrote {out} ({time.perf_counter() - t0:.0f} s)")
        typer.echo("\n".join(lines))

    if rules_app is None:  # pragma: no cover - analyze registers the rules group first
        return

    @rules_app.command("stats")
    def rules_stats(
        manifest: Annotated[Path, typer.Argument(help="A labelled corpus (gandiag.manifest/1 with oracle_label).")],
        rules: Annotated[list[Path] | None, typer.Option("--rules", help="Extra rule file or folder.")] = None,
        scores: Annotated[Path | None, typer.Option(help="Thresholds from this scores file (default: the shipped one).")] = None,
        output_format: Annotated[StatsFormat, typer.Option("--output-format", "-f", case_sensitive=False)] = StatsFormat.TEXT,
        jobs: Annotated[int, typer.Option("--jobs", "-j")] = 1,
        cache_dir: Annotated[Path | None, typer.Option(help="Cache of per-run evaluations.")] = None,
        no_cache: Annotated[bool, typer.Option("--no-cache")] = False,
    ) -> None:
        """Per rule: how often it is active on runs of each outcome, its precision, and where it fires against the label."""
        from gandiag.engine.loader import default_scores_path, load_scores
        from gandiag.verdict.fit import rule_stats

        try:
            _, rule_set, cases = _cases(manifest, rules, jobs, cache_dir, no_cache)
            path = scores or default_scores_path()
            thresholds = load_scores(path) if path.is_file() else {}
        except GandiagError as exc:
            raise _fail(exc) from None
        out = {}
        for mode in ("samples", "losses", "noref"):
            sub = [c for c in cases if c.mode == mode]
            if sub:
                out[mode] = rule_stats(sub, rule_set, thresholds)
        if output_format is StatsFormat.JSON:
            typer.echo(json.dumps({"schema": "gandiag.rule-stats/1", "manifest": str(manifest), **out}, indent=1))
            return
        lines = []
        for mode, stats in out.items():
            n = {lab: sum(1 for c in cases if c.mode == mode and c.label == lab)
                 for lab in ("stable", "mode_collapse", "non_converged")}
            lines.append(f"== {mode} ({n['stable']} stable, {n['mode_collapse']} mode_collapse, "
                         f"{n['non_converged']} non_converged runs) ==")
            lines.append(f"{'rule':<6} {'supports':<14} {'test':>4}  {'active on stable':>16} {'collapse':>9} "
                         f"{'unconv.':>8}  {'precision':>9} {'recall':>7}  fires against the label")
            for s in stats:
                if not any(s["judged"].values()):
                    continue
                a = s["active"]
                against = s["fires_against_label"]
                more = f" ... (+{len(against) - 3})" if len(against) > 3 else ""
                lines.append(
                    f"{s['rule']:<6} {s['supports'] or '-':<14} {s['outcome_test'] or '-':>4}  "
                    f"{a['stable']:>16} {a['mode_collapse']:>9} {a['non_converged']:>8}  {_pct(s['precision']):>9} "
                    f"{_pct(s['recall']):>7}  {', '.join(against[:3])}{more}")
            lines.append("")
        typer.echo("\n".join(lines).rstrip())
