"""``gandiag analyze`` and ``gandiag rules``."""

from __future__ import annotations

import hashlib
import textwrap
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import GandiagError, UsageError


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class LossFamilyOpt(StrEnum):
    BCE = "bce"
    LSGAN = "lsgan"
    HINGE = "hinge"
    WGAN = "wgan"


class ReductionOpt(StrEnum):
    MEAN = "mean"
    SUM = "sum"


def fail(exc: GandiagError) -> typer.Exit:
    """Print a GandiagError as one line and return the exit to raise."""
    typer.echo(f"error: {exc.one_line()}", err=True)
    return typer.Exit(code=2)


def _split(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def _parse_grid(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    rows, sep, cols = text.lower().partition("x")
    if not sep or not rows.strip().isdigit() or not cols.strip().isdigit() or int(rows) < 1 or int(cols) < 1:
        raise UsageError(f"--grid expects ROWSxCOLS such as 10x10, got '{text}'")
    return int(rows), int(cols)


def rules_digest(rules) -> str:
    h = hashlib.sha256()
    for code, rule in sorted(rules.items()):
        h.update(code.encode())
        h.update(Path(rule.path).read_bytes())
    return "sha256:" + h.hexdigest()[:16]


def register(app: typer.Typer) -> None:
    rules_app = typer.Typer(help="List and explain the diagnostic rules.", no_args_is_help=True)
    app.add_typer(rules_app, name="rules")

    @app.command()
    def analyze(
        paths: Annotated[list[str], typer.Argument(help="History files, run folders (searched recursively), or - for CSV on stdin.")],
        rules: Annotated[Optional[list[Path]], typer.Option("--rules", help="Extra rule file or folder; overrides rules with the same code.")] = None,
        select: Annotated[Optional[list[str]], typer.Option(help="Only these rule codes or prefixes (GD1,GD203).")] = None,
        ignore: Annotated[Optional[list[str]], typer.Option(help="Drop these rule codes or prefixes.")] = None,
        column: Annotated[Optional[list[str]], typer.Option("--column", help="Map a column to a role: ROLE=NAME (e.g. g_loss=lossG).")] = None,
        output_format: Annotated[OutputFormat, typer.Option("--output-format", "-f", case_sensitive=False)] = OutputFormat.TEXT,
        fail_on: Annotated[Optional[str], typer.Option(help="Verdicts that make the exit code 1 (default mode_collapse,non_converged).")] = None,
        exit_zero: Annotated[bool, typer.Option("--exit-zero", help="Exit 0 even when a run fails (errors still exit 2).")] = False,
        input_format: Annotated[Optional[str], typer.Option(help="Skip format detection: csv, console, jsonl, tensorboard.")] = None,
        d_loss_reduction: Annotated[Optional[ReductionOpt], typer.Option(help="How a combined D loss was reported: mean of the real/fake terms or their sum.", case_sensitive=False)] = None,
        loss: Annotated[Optional[LossFamilyOpt], typer.Option(help="Declare the loss family (LSGAN and hinge cannot always be told from BCE).", case_sensitive=False)] = None,
        settle_fraction: Annotated[Optional[float], typer.Option(help="Final share of the run the verdict judges.")] = None,
        samples: Annotated[Optional[Path], typer.Option(help="Generated-sample snapshots: samples.npz (step_<N> keys), a .npy, a folder of PNGs, or the tutorial's generated_plot_NNN.png grids.")] = None,
        real: Annotated[Optional[Path], typer.Option(help="A real reference sample (real.npz, .npy or PNG folder).")] = None,
        no_samples: Annotated[bool, typer.Option("--no-samples", help="Do not use samples.npz / real.npz found beside a history.")] = False,
        grid: Annotated[Optional[str], typer.Option(help="Split grid PNGs into tiles, e.g. 10x10 (the tutorial's plots).")] = None,
        verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show healthy-range findings too.")] = False,
    ) -> None:
        """Diagnose GAN training logs: verdict, onset step, evidence and fixes."""
        from ..api import analyze as run_analyze
        from ..config import load_config
        from ..engine.loader import load_rules
        from ..findings import Verdict
        from ..ingest import discover_runs
        from ..report import json as json_report
        from ..report import text as text_report
        from ..roles import parse_column_overrides

        try:
            cfg = load_config()
            rule_set = load_rules([*cfg.rules, *(rules or [])])
            columns = {**cfg.columns, **parse_column_overrides(column or [])}
            fail_labels = _split([fail_on]) if fail_on is not None else list(cfg.fail_on or ("mode_collapse", "non_converged"))
            fail_verdicts = set()
            for label in fail_labels:
                try:
                    fail_verdicts.add(Verdict(label))
                except ValueError:
                    raise UsageError(f"--fail-on: unknown verdict '{label}'",
                                     hint="Use stable, mode_collapse, non_converged or inconclusive") from None
            options = dict(
                select=_split(select) or list(cfg.select),
                ignore=_split(ignore) or list(cfg.ignore),
                columns=columns or None,
                input_format=input_format,
                d_loss_reduction=(d_loss_reduction.value if d_loss_reduction else cfg.d_loss_reduction),
                loss=(loss.value if loss else cfg.loss),
                settle_fraction=settle_fraction if settle_fraction is not None else (cfg.settle_fraction or 0.25),
                no_samples=no_samples,
                grid=_parse_grid(grid),
            )
            if (samples or real) and len(paths) > 1:
                raise UsageError("--samples/--real apply to one history; give one path",
                                 hint="Or keep samples.npz / real.npz beside each history for automatic discovery")
            from ..engine.loader import select_rules

            select_rules(rule_set, select=options["select"], ignore=options["ignore"])  # validate codes once
        except GandiagError as exc:
            raise fail(exc) from None

        diagnoses, errors = [], []
        for path in paths:
            try:
                targets = discover_runs(path)
            except GandiagError as exc:
                errors.append((path, exc.one_line()))
                continue
            for target in targets:
                try:
                    diagnoses.append(run_analyze(target if str(target) != "-" else "-", rules=rule_set,
                                                 samples=samples, real=real, **options))
                except UsageError as exc:
                    raise fail(exc) from None
                except GandiagError as exc:
                    errors.append((str(target), exc.one_line()))

        for source, message in errors:
            typer.echo(f"error: {message}", err=True)
        if output_format is OutputFormat.JSON:
            shown_opts = {k: v for k, v in options.items() if v not in (None, [], {})}
            shown_opts["fail_on"] = sorted(v.value for v in fail_verdicts)
            typer.echo(json_report.render(diagnoses, rules_digest=rules_digest(rule_set), options=shown_opts, errors=errors))
        elif diagnoses:
            typer.echo(text_report.render(diagnoses, errors=errors, verbose=verbose))
        if errors:
            raise typer.Exit(code=2)
        if not exit_zero and any(d.verdict in fail_verdicts for d in diagnoses):
            raise typer.Exit(code=1)

    @rules_app.command("list")
    def rules_list(
        rules: Annotated[Optional[list[Path]], typer.Option("--rules", help="Extra rule file or folder.")] = None,
    ) -> None:
        """List every rule: code, severity, the verdict it supports, and its title."""
        from ..engine.loader import load_rules

        try:
            rule_set = load_rules(rules or [])
        except GandiagError as exc:
            raise fail(exc) from None
        typer.echo(f"{'code':<6} {'name':<34} {'severity':<8} {'supports':<14} title")
        for code, r in rule_set.items():
            typer.echo(f"{code:<6} {r.name:<34} {r.severity.value:<8} {(r.supports.value if r.supports else '-'):<14} {r.title}")

    @rules_app.command("explain")
    def rules_explain(
        code: Annotated[str, typer.Argument(help="A rule code such as GD101, or its name.")],
        rules: Annotated[Optional[list[Path]], typer.Option("--rules", help="Extra rule file or folder.")] = None,
    ) -> None:
        """Print a rule's documentation: what it does, why it is bad, an example, the fix."""
        from ..engine.loader import load_rules

        try:
            rule_set = load_rules(rules or [])
            rule = rule_set.get(code.upper()) or next((r for r in rule_set.values() if r.name == code), None)
            if rule is None:
                raise UsageError(f"no rule '{code}'", hint="See `gandiag rules list`")
        except GandiagError as exc:
            raise fail(exc) from None
        out = [f"{rule.code} {rule.name}: {rule.title}", ""]
        out.append(f"severity {rule.severity.value}; supports {rule.supports.value if rule.supports else 'nothing'} "
                   f"(weight {rule.weight}); loss families: {', '.join(f.value for f in rule.families)}")
        out.append("condition: " + " and ".join(c.describe() for c in rule.when))
        p = rule.persistence
        out.append(f"persistence: for {p.for_snapshots if rule.on_samples else p.for_steps} "
                   f"{'snapshots' if rule.on_samples else 'steps'}, warm-up {p.warmup_steps} steps / "
                   f"{p.warmup_fraction:.0%}, active when it holds in >= {p.settle_share:.0%} of the settled window")
        for title, body in (("What it does", rule.docs.what), ("Why is this bad", rule.docs.why),
                            ("Example", rule.docs.example), ("Fix", rule.docs.fix)):
            out.extend(["", f"## {title}"])
            out.extend(textwrap.wrap(body, 100) or [""])
        typer.echo("\n".join(out))
