"""``gandiag verify``: recorded-fixture regression tests."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from gandiag.errors import GandiagError


class VerifyFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    JUNIT = "junit"


def register(app: typer.Typer) -> None:
    @app.command()
    def verify(
        manifest: Annotated[Path, typer.Argument(help="A gandiag.manifest/1 JSON file, or a folder holding manifest.json.")],
        rules: Annotated[list[Path] | None, typer.Option("--rules", help="Extra rule file or folder.")] = None,
        output_format: Annotated[VerifyFormat, typer.Option("--output-format", "-f", case_sensitive=False)] = VerifyFormat.TEXT,
        update: Annotated[bool, typer.Option("--update", help="Re-pin: write the verdicts observed now into the manifest.")] = False,
    ) -> None:
        """Re-analyze every pinned run of a manifest; exit 1 if any verdict or onset changed."""
        from gandiag.cli.analyze import check_rule_paths
        from gandiag.engine.loader import load_rules
        from gandiag.infra.guard import one_run
        from gandiag.workflows.verify import load_manifest, render_json, render_junit, render_text, update_manifest
        from gandiag.workflows.verify import verify as run_verify

        try:
            with one_run(str(manifest)):
                doc, entries = load_manifest(manifest)
            outcomes = run_verify(entries, rules=load_rules(check_rule_paths(rules or [])))
        except GandiagError as exc:
            typer.echo(f"error: {exc.one_line()}", err=True)
            raise typer.Exit(code=2) from None
        if update:
            try:
                update_manifest(manifest, doc, outcomes)
            except GandiagError as exc:
                typer.echo(f"error: {exc.one_line()}", err=True)
                raise typer.Exit(code=2) from None
            typer.echo(f"re-pinned {len(outcomes)} run(s) in {manifest}")
            return
        render = {VerifyFormat.TEXT: render_text, VerifyFormat.JSON: render_json, VerifyFormat.JUNIT: render_junit}
        typer.echo(render[output_format](outcomes))
        if any(o.problem and o.problem.startswith("could not analyze") for o in outcomes):
            raise typer.Exit(code=2)
        if any(not o.ok for o in outcomes):
            raise typer.Exit(code=1)
