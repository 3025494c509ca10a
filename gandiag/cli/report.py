"""``gandiag report``: figures and HTML pages a person can read, per run and for many runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gandiag.cli.analyze import fail
from gandiag.errors import GandiagError, MissingExtraError


def register(app: typer.Typer) -> None:
    @app.command()
    def report(
        paths: Annotated[list[str], typer.Argument(help="History files or run folders (searched recursively).")],
        out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the figures and HTML pages.")],
        rules: Annotated[list[Path] | None, typer.Option("--rules", help="Extra rule file or folder.")] = None,
        select: Annotated[list[str] | None, typer.Option(help="Only these rule codes or prefixes.")] = None,
        ignore: Annotated[list[str] | None, typer.Option(help="Drop these rule codes or prefixes.")] = None,
        no_samples: Annotated[bool, typer.Option("--no-samples", help="Do not use samples.npz / real.npz beside a history.")] = False,
        samples: Annotated[Path | None, typer.Option(help="Generated-sample snapshots, as for `gandiag analyze` (one path only).")] = None,
        real: Annotated[Path | None, typer.Option(help="A real reference sample (real.npz, .npy or PNG folder), or a data set by name (digits, mnist ...).")] = None,
        grid: Annotated[str | None, typer.Option(help="Split grid PNGs into tiles, e.g. 10x10 (the tutorial's plots).")] = None,
        jobs: Annotated[int, typer.Option("--jobs", "-j", help="Analyze runs and draw their figures in N processes (joblib).")] = 1,
    ) -> None:
        """Write each run's figures and a self-contained HTML page, plus an index page with the verdict table."""
        from gandiag.cli.analyze import analyze_paths, check_rule_paths, parse_grid, split_list
        from gandiag.engine.findings import FAILURE_VERDICTS
        from gandiag.engine.loader import load_rules, select_rules
        from gandiag.errors import UsageError
        from gandiag.infra.outputs import prepare_out_dir
        from gandiag.report.html import index_page, write_text
        from gandiag.report.plots import run_folder_name
        from gandiag.report.summary import ReportRun

        try:
            rule_set = load_rules(check_rule_paths(rules or []))
            if (samples or real) and len(paths) > 1:
                raise UsageError("--samples/--real apply to one history; give one path",
                                 hint="Or keep samples.npz / real.npz beside each history for automatic discovery")
            options = {"select": split_list(select), "ignore": split_list(ignore), "no_samples": no_samples,
                       "samples": samples, "real": real, "grid": parse_grid(grid)}
            select_rules(rule_set, select=options["select"], ignore=options["ignore"])
            prepare_out_dir(out, "--out")  # a file, a file in the path or no permission: say so before any work
        except GandiagError as exc:
            raise fail(exc) from None
        results, errors = analyze_paths(paths, rule_set, options, jobs, None)
        judged = select_rules(rule_set, select=options["select"], ignore=options["ignore"])
        used: set[str] = set()
        work = []
        for r in results:
            d = r.diagnosis
            run = ReportRun(d, r.target.key, r.target.run_id,
                            failure=f"verdict {d.verdict.value}" if d.verdict in FAILURE_VERDICTS else None)
            work.append((run, str(r.target.path), _unique(run_folder_name(r.target.key), used)))
        written = _write_pages(work, out, judged, jobs)
        linked = []
        for (run, source, name), problem in zip(work, written):
            if isinstance(problem, MissingExtraError):
                raise fail(problem) from None
            if problem is not None:
                errors.append((source, problem.one_line()))
                continue
            linked.append((run, f"{name}/report.html"))
        try:
            index = write_text(out / "index.html", index_page(linked, errors=errors))
        except GandiagError as exc:
            raise fail(exc) from None
        for _source, message in errors:
            typer.echo(f"error: {message}", err=True)
        typer.echo(f"{len(linked)} run pages and {index} written")
        if errors:
            raise typer.Exit(code=2)


def write_page(run, source: str, name: str, out: Path, rules) -> GandiagError | None:
    """One run's figures and page under ``out/name``; the problem (as an error, not raised) when it fails."""
    from gandiag.infra.guard import one_run
    from gandiag.report.html import run_page, write_text
    from gandiag.report.plots import write_run_figures

    try:
        with one_run(source):  # one run's figures failing does not stop the others
            figures = write_run_figures(run.diagnosis, out / name, title=run.key, rules=rules)
            write_text(out / name / "report.html", run_page(run, figures, index_href="../index.html"))
    except GandiagError as exc:
        return exc
    return None


def _write_pages(work: list, out: Path, rules, jobs: int) -> list[GandiagError | None]:
    """Every run's page, in ``jobs`` processes (joblib) when asked: drawing is most of a report's time."""
    if jobs == 1 or len(work) < 2:
        return [write_page(run, source, name, out, rules) for run, source, name in work]
    import joblib

    calls = (joblib.delayed(write_page)(run, source, name, out, rules) for run, source, name in work)
    return list(joblib.Parallel(n_jobs=jobs)(calls))


def _unique(name: str, used: set[str]) -> str:
    """Two runs with the same folder name (from different roots) get -2, -3 ... rather than overwrite each other."""
    candidate, i = name, 1
    while candidate in used:
        i += 1
        candidate = f"{name}-{i}"
    used.add(candidate)
    return candidate
