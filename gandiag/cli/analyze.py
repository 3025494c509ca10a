"""``gandiag analyze`` and ``gandiag rules``."""

from __future__ import annotations

import hashlib
import textwrap
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from gandiag.errors import GandiagError, MissingExtraError, UsageError


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    JUNIT = "junit"
    GITHUB = "github"
    MARKDOWN = "markdown"
    SARIF = "sarif"
    GITLAB = "gitlab"
    CONCISE = "concise"


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


def check_rule_paths(paths) -> list[Path]:
    """``--rules`` paths (and the project configuration's) that are safe to read: regular files, not too big.

    A FIFO or a device (``--rules /dev/zero``) would hang or fill the memory;
    each rule file may hold at most ``GANDIAG_MAX_RULE_BYTES``.
    """
    from gandiag.infra.files import check_input_path
    from gandiag.infra.limits import current_limits

    limits = current_limits()
    out = []
    for given in paths:
        p = Path(given)
        if not p.exists():
            out.append(p)  # load_rules says "rules path not found"
            continue
        files = sorted(p.glob("*.toml")) if p.is_dir() else [p]
        for f in files:
            try:
                st = check_input_path(f, what="rule file")
            except GandiagError as exc:
                raise UsageError(exc.message, where=exc.where, hint="Give --rules a .toml rule file or a folder of them") from None
            if st.st_size > limits.max_rule_bytes:
                raise UsageError(f"rule file of {st.st_size:,} bytes is larger than {limits.max_rule_bytes:,}",
                                 where=str(f), hint=limits.raise_hint("max_rule_bytes"))
            _parses_without_recursing(f)
        out.append(p)
    return out


def _parses_without_recursing(path: Path) -> None:
    """A TOML file nested so deeply that tomllib recurses out of the stack is a usage error, not a traceback.

    Other TOML problems are left to the rule loader, which reports every one of them with its key.
    """
    import tomllib

    try:
        tomllib.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise UsageError("rule file nested too deeply to read", where=str(path),
                         hint="Give --rules a rule file written as docs/rules.md describes") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
        pass


def split_list(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def parse_grid(text: str | None) -> tuple[int, int] | None:
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


def _settings(select, ignore, column, fail_on, input_format, d_loss_reduction, loss, settle_fraction,
              no_samples, grid):
    """Merge the project configuration and the flags into analysis options and the --fail-on verdicts."""
    from gandiag.cli.config import load_config
    from gandiag.engine.findings import Verdict
    from gandiag.history.roles import parse_column_overrides

    cfg = load_config()
    columns = {**cfg.columns, **parse_column_overrides(column or [])}
    fail_labels = split_list([fail_on]) if fail_on is not None else list(cfg.fail_on or ("mode_collapse", "non_converged"))
    fail_verdicts = set()
    for label in fail_labels:
        try:
            fail_verdicts.add(Verdict(label))
        except ValueError:
            raise UsageError(f"--fail-on: unknown verdict '{label}'",
                             hint="Use stable, mode_collapse, non_converged or inconclusive") from None
    options = {
        "select": split_list(select) or list(cfg.select),
        "ignore": split_list(ignore) or list(cfg.ignore),
        "columns": columns or None,
        "input_format": input_format,
        "d_loss_reduction": (d_loss_reduction.value if d_loss_reduction else cfg.d_loss_reduction),
        "loss": (loss.value if loss else cfg.loss),
        "settle_fraction": settle_fraction if settle_fraction is not None else (cfg.settle_fraction or 0.25),
        "no_samples": no_samples,
        "grid": parse_grid(grid),
    }
    return cfg, options, fail_verdicts


def _load_baseline(path: Path | None):
    if path is None:
        return None
    from gandiag.infra.guard import one_run
    from gandiag.workflows.baseline import load_baseline

    with one_run(str(path)):
        return load_baseline(path)


def analyze_paths(paths, rule_set, options, jobs, scheduler, tracking_uri=None):
    """Find every run and analyze them (in parallel if asked); a usage error stops everything."""
    from gandiag.workflows.batch import analyze_many, find_targets

    try:
        targets, errors = find_targets(paths, tracking_uri=tracking_uri)
        results = analyze_many(targets, rules=rule_set, options=options, jobs=jobs, scheduler=scheduler)
    except GandiagError as exc:
        raise fail(exc) from None
    fatal = next((r for r in results if r.fatal), None)
    if fatal is not None:
        typer.echo(f"error: {fatal.error}", err=True)
        raise typer.Exit(code=2)
    errors.extend((str(r.target.path), r.error) for r in results if r.error)
    return [r for r in results if r.diagnosis is not None], errors


def _judge(results, fail_verdicts, base_runs):
    """Decide which runs fail the check: --fail-on, or in baseline mode only the ones that got worse or are new and failing."""
    from gandiag.report.summary import ReportRun

    if base_runs is None:
        runs = [ReportRun(r.diagnosis, r.target.key, r.target.run_id,
                          failure=(f"verdict {r.diagnosis.verdict.value} is in --fail-on"
                                   if r.diagnosis.verdict in fail_verdicts else None)) for r in results]
        return runs, None
    from gandiag.workflows.baseline import compare

    comparisons = compare([(r.target, r.diagnosis) for r in results], base_runs, fail_verdicts)
    runs = []
    for r, c in zip(results, comparisons):  # compare() keeps the order of the current runs first
        runs.append(ReportRun(r.diagnosis, r.target.key, r.target.run_id,
                              failure=c.describe() if c.fails else None,
                              note=None if c.fails else c.describe()))
    return runs, comparisons


def _baseline_footer(comparisons, baseline: Path | None) -> list[str]:
    """The baseline summary line, then every run that got worse, is new, improved or is gone."""
    if comparisons is None:
        return []
    from gandiag.workflows.baseline import Change, summary_line

    lines = [summary_line(comparisons, str(baseline))]
    lines += [f"  {c.change.value:<11} {c.key}: {c.describe()}" for c in comparisons if c.change is not Change.SAME]
    return lines


def _emit(output_format, runs, errors, *, footer, verbose, rule_set, options, fail_verdicts, comparisons, baseline):
    """Print the report in the chosen format (one renderer module per format)."""
    if output_format is OutputFormat.JSON:
        from gandiag.report import json as json_report

        shown_opts = {k: v for k, v in options.items() if v not in (None, [], {})}
        shown_opts["fail_on"] = sorted(v.value for v in fail_verdicts)
        base = None if comparisons is None else {
            "path": str(baseline),
            "runs": [{"key": c.key, "change": c.change.value, "before": c.before and c.before.value,
                      "after": c.after and c.after.value, "fails": c.fails} for c in comparisons]}
        typer.echo(json_report.render(runs, rules_digest=rules_digest(rule_set), options=shown_opts, errors=errors,
                                      baseline=base))
    elif output_format is OutputFormat.JUNIT:
        from gandiag.report import junit

        typer.echo(junit.render(runs, errors=errors))
    elif output_format is OutputFormat.GITHUB:
        from gandiag.report import github

        typer.echo(github.render(runs, errors=errors))
    elif output_format is OutputFormat.MARKDOWN:
        from gandiag.report import markdown

        typer.echo(markdown.render(runs, errors=errors, footer=footer), nl=False)
    elif output_format is OutputFormat.SARIF:
        from gandiag.report import sarif

        typer.echo(sarif.render(runs, errors=errors, rules=rule_set))
    elif output_format is OutputFormat.CONCISE:
        from gandiag.report import concise

        typer.echo(concise.render(runs, errors=errors, footer=footer))
    elif output_format is OutputFormat.GITLAB:
        from gandiag.report import gitlab

        typer.echo(gitlab.render(runs, errors=errors))
    elif runs or footer:
        from gandiag.report import text as text_report

        typer.echo(text_report.render(runs, errors=errors, verbose=verbose, footer=footer))


def _tag_mlflow_runs(results, report_runs, rule_set, options) -> list[tuple[str, str]]:
    """--mlflow-tag: the verdict tags and the one-run JSON report on each MLflow run analyzed."""
    from gandiag.integrations.mlflow_tags import write_back
    from gandiag.report import json as json_report

    pairs = [(res, run) for res, run in zip(results, report_runs) if res.target.mlflow is not None]
    shown = {k: v for k, v in options.items() if v not in (None, [], {})}
    digest = rules_digest(rule_set)
    return write_back([(res.target.mlflow, res.diagnosis) for res, _ in pairs],
                      lambda i: json_report.render([pairs[i][1]], rules_digest=digest, options=shown))


def _write_plots(runs, out: Path, rules=None) -> list[tuple[str, str]]:
    """--plot: each run's figures in a folder named after its key (no HTML: that is `gandiag report`).

    A run whose figures cannot be drawn or written is an error for that run; the others are still drawn.
    """
    from gandiag.infra.guard import one_run
    from gandiag.report.plots import run_folder_name, write_run_figures

    errors = []
    for r in runs:
        try:
            with one_run(r.diagnosis.source):
                write_run_figures(r.diagnosis, out / run_folder_name(r.key), rules=rules)
        except GandiagError as exc:
            if not isinstance(exc, MissingExtraError):
                errors.append((r.diagnosis.source, exc.one_line()))
                continue
            raise fail(exc) from None
    typer.echo(f"figures written to {out}", err=True)
    return errors


def register(app: typer.Typer) -> None:
    rules_app = typer.Typer(help="List and explain the diagnostic rules.", no_args_is_help=True)
    app.add_typer(rules_app, name="rules")

    @app.command()
    def analyze(
        paths: Annotated[list[str], typer.Argument(help="History files, run folders (searched recursively), - for CSV on stdin, or MLflow runs: mlflow:runs/RUN_ID, mlflow:experiments/NAME.")],
        rules: Annotated[list[Path] | None, typer.Option("--rules", help="Extra rule file or folder; overrides rules with the same code.")] = None,
        select: Annotated[list[str] | None, typer.Option(help="Only these rule codes or prefixes (GD1,GD203).")] = None,
        ignore: Annotated[list[str] | None, typer.Option(help="Drop these rule codes or prefixes.")] = None,
        column: Annotated[list[str] | None, typer.Option("--column", help="Map a column to a role: ROLE=NAME (e.g. g_loss=lossG).")] = None,
        output_format: Annotated[OutputFormat, typer.Option("--output-format", "-f", case_sensitive=False)] = OutputFormat.TEXT,
        fail_on: Annotated[str | None, typer.Option(help="Verdicts that make the exit code 1 (default mode_collapse,non_converged).")] = None,
        exit_zero: Annotated[bool, typer.Option("--exit-zero", help="Exit 0 even when a run fails (errors still exit 2).")] = False,
        input_format: Annotated[str | None, typer.Option(help="Skip format detection: csv, console, jsonl, tensorboard.")] = None,
        d_loss_reduction: Annotated[ReductionOpt | None, typer.Option(help="How a combined D loss was reported: mean of the real/fake terms or their sum.", case_sensitive=False)] = None,
        loss: Annotated[LossFamilyOpt | None, typer.Option("--loss-family", "--loss", help="Declare the loss family (a hinge or relativistic loss makes a discriminator loss of 0 normal; LSGAN and hinge cannot always be told from BCE).", case_sensitive=False)] = None,
        settle_fraction: Annotated[float | None, typer.Option(help="Final share of the run the verdict judges.")] = None,
        samples: Annotated[Path | None, typer.Option(help="Generated-sample snapshots: samples.npz (step_<N> keys), a .npy, FILE.npz:ARRAY (features), a folder of step_<N>.npy, a folder of PNG/JPEG images, or the tutorial's generated_plot_NNN.png grids.")] = None,
        real: Annotated[Path | None, typer.Option(help="A real reference sample (real.npz, .npy, FILE.npz:ARRAY of features, an image folder), or a data set by name: digits, digits8, mnist or cifar10 (from the Keras cache), ring8 ...")] = None,
        no_samples: Annotated[bool, typer.Option("--no-samples", help="Do not use samples.npz / real.npz found beside a history.")] = False,
        grid: Annotated[str | None, typer.Option(help="Split grid PNGs into tiles, e.g. 10x10 (the tutorial's plots).")] = None,
        exact: Annotated[bool, typer.Option("--exact", help="Full-set sample statistics (last snapshot over 2,000 samples) from every pair, not approximate neighbours: minutes at 50,000 x 2,048.")] = False,
        no_full_set: Annotated[bool, typer.Option("--no-full-set", help="Skip the full-set sample statistics; the verdict's 2,000-sample statistics are still computed.")] = False,
        verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show healthy-range findings too.")] = False,
        jobs: Annotated[int, typer.Option("--jobs", "-j", help="Analyze runs in N processes (joblib); -1: every core.")] = 1,
        scheduler: Annotated[str | None, typer.Option(help="Run on a dask.distributed scheduler (tcp://HOST:PORT) through joblib's Dask backend; needs the dask extra.")] = None,
        baseline: Annotated[Path | None, typer.Option(help="An earlier JSON report (e.g. from main): fail only runs whose verdict got worse, or new failing runs.")] = None,
        plot: Annotated[Path | None, typer.Option("--plot", help="Also write each run's figures (history, what the sample rules read, the snapshots' evolution) under this folder.")] = None,
        tracking_uri: Annotated[str | None, typer.Option("--tracking-uri", help="MLflow tracking store for mlflow:runs/ID and mlflow:experiments/NAME inputs (default: MLFLOW_TRACKING_URI).")] = None,
        mlflow_tag: Annotated[bool, typer.Option("--mlflow-tag", help="Write each MLflow run's verdict back as gandiag.* run tags and its JSON report as an artifact.")] = False,
    ) -> None:
        """Diagnose GAN training logs: verdict, onset step, evidence and fixes."""
        from gandiag.engine.loader import load_rules, select_rules

        try:
            cfg, options, fail_verdicts = _settings(select, ignore, column, fail_on, input_format, d_loss_reduction,
                                                    loss, settle_fraction, no_samples, grid)
            if exact and no_full_set:
                raise UsageError("--exact and --no-full-set contradict each other",
                                 hint="--exact: full-set statistics from every pair; --no-full-set: none")
            options["full_set"] = "off" if no_full_set else ("exact" if exact else "auto")
            rule_set = load_rules(check_rule_paths([*cfg.rules, *(rules or [])]))
            if (samples or real) and len(paths) > 1:
                raise UsageError("--samples/--real apply to one history; give one path",
                                 hint="Or keep samples.npz / real.npz beside each history for automatic discovery")
            select_rules(rule_set, select=options["select"], ignore=options["ignore"])  # validate codes once
            base_runs = _load_baseline(baseline)
            if plot is not None:
                from gandiag.infra.outputs import prepare_out_dir

                prepare_out_dir(plot, "--plot")
            if mlflow_tag and not any(str(p).startswith("mlflow:") for p in paths):
                raise UsageError("--mlflow-tag writes to MLflow runs, and no input is one",
                                 hint="Give mlflow:runs/RUN_ID or mlflow:experiments/NAME")
        except GandiagError as exc:
            raise fail(exc) from None

        try:
            results, errors = analyze_paths(paths, rule_set, {**options, "samples": samples, "real": real}, jobs,
                                             scheduler, tracking_uri)
        except KeyboardInterrupt:  # Ctrl-C during a long sample computation: one line, no traceback
            typer.echo("interrupted: nothing was reported", err=True)
            raise typer.Exit(code=130) from None
        report_runs, comparisons = _judge(results, fail_verdicts, base_runs)
        if mlflow_tag:
            errors.extend(_tag_mlflow_runs(results, report_runs, rule_set, options))
        for _source, message in errors:
            typer.echo(f"error: {message}", err=True)
        footer = _baseline_footer(comparisons, baseline)
        _emit(output_format, report_runs, errors, footer=footer, verbose=verbose, rule_set=rule_set, options=options,
              fail_verdicts=fail_verdicts, comparisons=comparisons, baseline=baseline)
        if plot is not None:
            judged = select_rules(rule_set, select=options["select"], ignore=options["ignore"])
            for _source, message in _write_plots(report_runs, plot, judged):
                typer.echo(f"error: {message}", err=True)
                errors.append((_source, message))
        if errors:
            raise typer.Exit(code=2)
        if not exit_zero and any(r.fails for r in report_runs):
            raise typer.Exit(code=1)

    @rules_app.command("list")
    def rules_list(
        rules: Annotated[list[Path] | None, typer.Option("--rules", help="Extra rule file or folder.")] = None,
    ) -> None:
        """List every rule: code, severity, the verdict it supports, and its title."""
        from gandiag.engine.loader import load_rules

        try:
            rule_set = load_rules(check_rule_paths(rules or []))
        except GandiagError as exc:
            raise fail(exc) from None
        typer.echo(f"{'code':<6} {'name':<34} {'severity':<8} {'supports':<14} title")
        for code, r in rule_set.items():
            typer.echo(f"{code:<6} {r.name:<34} {r.severity.value:<8} {(r.supports.value if r.supports else '-'):<14} {r.title}")

    @rules_app.command("explain")
    def rules_explain(
        code: Annotated[str, typer.Argument(help="A rule code such as GD101, or its name.")],
        rules: Annotated[list[Path] | None, typer.Option("--rules", help="Extra rule file or folder.")] = None,
    ) -> None:
        """Print a rule's documentation: what it does, why it is bad, an example, the fix."""
        from gandiag.engine.loader import load_rules

        try:
            rule_set = load_rules(check_rule_paths(rules or []))
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
