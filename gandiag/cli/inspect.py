"""``gandiag inspect``: what gandiag read from a log, and how it understood it.

This is what a user runs when a verdict surprises them: the format and
layout, the name behind each role, rows and step range, the loss convention,
skipped lines with examples, gaps and warnings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from gandiag.cli.analyze import OutputFormat, ReductionOpt  # one definition of each choice
from gandiag.errors import GandiagError
from gandiag.history.model import Reduction
from gandiag.history.roles import Role

_INDEX_NAMES = {"step", "epoch"}


def describe(
    path: str | Path,
    *,
    input_format: str | None = None,
    columns: dict[str, str] | None = None,
    d_loss_reduction: str | None = None,
) -> dict:
    """Read ``path`` and describe what was recognised, as plain data."""
    from gandiag.infra.files import check_input_path
    from gandiag.ingest import build_history, find_history_in, read_raw, sniff_format

    p = Path(path)
    if str(path) != "-":
        check_input_path(p)  # missing, unreadable, a FIFO or a device: a clear error, never a hang
    if str(path) != "-" and p.is_dir():
        p = find_history_in(p)
    fmt = input_format or ("csv" if str(path) == "-" else sniff_format(p))
    raw = read_raw(p if str(path) != "-" else "-", input_format=fmt, names=tuple((columns or {}).values()))
    history = build_history(raw, overrides=columns, d_loss_reduction=d_loss_reduction)
    notes = dict(raw.notes)
    mapped = dict(history.columns)
    used = set(mapped.values())
    tags = notes.pop("original_names", {}) or {}
    reasons = notes.pop("role_reasons", {}) or {}
    overridden = {role for role in (columns or {})}
    roles = {}
    for role, name in mapped.items():
        entry = {"name": name}
        if tags.get(name, name) != name:
            entry["tag"] = tags[name]
        if role in overridden:
            entry["why"] = f"--column {role}={columns[role]}"
        elif name in reasons:
            entry["why"] = reasons[name]
        elif role not in _INDEX_NAMES:
            entry["why"] = "the alias table" if name != role else "the canonical name"
        if name in raw.percent_names:
            entry["percent"] = True
        series = history.series.get(role)
        if series is not None:
            entry["logged"] = int(np.sum(np.isfinite(series) | history.nonfinite_mask(role)))
            entry["nan_or_inf"] = int(np.sum(history.nonfinite_mask(role)))
        roles[role] = entry
    ignored = dict(notes.pop("ignored", {}) or {})
    unmapped = [n for n in raw.columns if n not in used and n not in _INDEX_NAMES and n not in ignored]

    has_d = Role.D_LOSS.value in history.series
    if d_loss_reduction:
        reduction_origin = "--d-loss-reduction"
    else:
        layout = notes.get("layout")
        reduction_origin = f"default of the {layout} layout" if layout else f"default of the {raw.input_format} format"
    from gandiag.history.family import detect_loss_family

    family, family_reason = detect_loss_family(history)
    loss = {
        "family": family.value,
        "family_reason": family_reason,
        "d_loss_reduction": history.d_loss_reduction.value if has_d else None,
        "d_loss_reduction_origin": reduction_origin if has_d else None,
        "d_loss_reduction_meaning": (
            "d_loss = real + fake (healthy about 1.0-1.5)" if history.d_loss_reduction is Reduction.SUM
            else "d_loss = (real + fake) / 2 (healthy about 0.5-0.8)") if has_d else None,
    }
    steps = history.steps
    layout_name = notes.get("layout")
    layout_info = None
    if raw.input_format == "console" and layout_name:
        from gandiag.ingest.layouts import BY_NAME

        known = BY_NAME.get(layout_name)
        layout_info = {"name": layout_name, "codebase": known.codebase if known else None,
                       "source": notes.pop("layout_source", None),
                       "why": f"{notes.get('records', '?')} record(s) read in this layout"
                              + _other_layouts(notes.get("skipped", {}))}
    return {
        "source": str(path),
        "format": raw.input_format,
        "layout": notes.pop("layout", None),
        "layout_example": notes.pop("layout_example", None),
        "rows": len(history),
        "step_first": int(steps[0]) if steps.size else None,
        "step_last": int(steps[-1]) if steps.size else None,
        "step_unit": notes.pop("step_unit", "step"),
        "step_rule": notes.pop("step_rule", None),
        "print_interval": notes.pop("print_interval", None),
        "roles": roles,
        "unmapped": unmapped,
        "ignored": ignored,
        "layout_info": layout_info,
        "loss_convention": loss,
        "skipped": notes.pop("skipped", {}),
        "skipped_examples": notes.pop("skipped_examples", []),
        "gaps": notes.pop("gaps", []),
        "warnings": list(history.warnings),
        "notes": {k: v for k, v in notes.items() if k not in ("layout_source", "records", "rows", "loss_family")},
    }


def _other_layouts(skipped: dict) -> str:
    others = {k[len("other layout ("):-1]: n for k, n in skipped.items() if k.startswith("other layout (")}
    if not others:
        return ""
    return "; other records in " + ", ".join(f"{name} ({n})" for name, n in others.items())


def render_text(info: dict) -> str:
    """The human-readable form of :func:`describe`'s result."""
    out = [f"{info['source']}"]
    fmt = info["format"] + (f" (layout {info['layout']}: {info['layout_example']!r})" if info["layout"] else "")
    out.append(f"  format:     {fmt}")
    if info.get("layout_info"):
        li = info["layout_info"]
        out.append(f"  layout:     {li['name']} ({li['codebase']}): {li['why']}")
        if li.get("source"):
            out.append(f"  follows:    {li['source']}")
    rng = f"{info['step_first']}..{info['step_last']}" if info["rows"] else "-"
    interval = f", every {info['print_interval']:g}" if info.get("print_interval") else ""
    out.append(f"  rows:       {info['rows']}, steps {rng} ({info['step_unit']}{interval})")
    if info["step_rule"]:
        out.append(f"  step rule:  {info['step_rule']}")
    out.append("  roles:")
    for role, entry in info["roles"].items():
        extra = []
        if "tag" in entry:
            extra.append(f"printed as {entry['tag']}" if info["format"] == "console" else f"tag {entry['tag']}")
        if entry.get("percent"):
            extra.append("percent, divided by 100")
        if entry.get("nan_or_inf"):
            extra.append(f"{entry['nan_or_inf']} nan/inf")
        if "logged" in entry and role not in _INDEX_NAMES:
            extra.append(f"{entry['logged']} values")
        if entry.get("why"):
            extra.append(f"why: {entry['why']}")
        out.append(f"    {role:<12} <- {entry['name']}" + (f"  ({'; '.join(extra)})" if extra else ""))
    if info["unmapped"]:
        out.append("  not mapped: " + ", ".join(info["unmapped"]) + "  (map one with --column ROLE=NAME)")
    if info.get("ignored"):
        out.append("  ignored:    " + "; ".join(f"{name} ({why})" for name, why in info["ignored"].items()))
    loss = info["loss_convention"]
    out.append(f"  loss:       {loss['family']} ({loss['family_reason']})")
    if loss["d_loss_reduction"]:
        out.append(f"  d_loss:     {loss['d_loss_reduction']} ({loss['d_loss_reduction_meaning']}; "
                   f"{loss['d_loss_reduction_origin']}; override with --d-loss-reduction)")
    if info["skipped"]:
        counts = ", ".join(f"{reason}: {n}" for reason, n in info["skipped"].items())
        out.append(f"  skipped:    {counts}")
        for example in info["skipped_examples"]:
            out.append(f"    {example}")
    for gap in info["gaps"]:
        a, b = gap.get("after_step"), gap.get("before_step")
        out.append(f"  gap:        elided lines between step {a:g} and {b:g}" if a is not None and b is not None
                   else "  gap:        elided lines at the " + ("end" if a is not None else "start"))
    for warning in info["warnings"]:
        out.append(f"  warning:    {warning}")
    for key, value in info["notes"].items():
        out.append(f"  {key}: {value}")
    return "\n".join(out)


def register(app: typer.Typer) -> None:
    @app.command()
    def inspect(
        path: Annotated[str, typer.Argument(help="A history file, run folder, TensorBoard folder, or - for CSV on stdin.")],
        input_format: Annotated[str | None, typer.Option(help="Skip format detection: csv, console, jsonl, tensorboard.")] = None,
        column: Annotated[list[str] | None, typer.Option("--column", help="Map a name to a role: ROLE=NAME (e.g. g_loss=lossG).")] = None,
        d_loss_reduction: Annotated[ReductionOpt | None, typer.Option(help="How a combined D loss was reported.", case_sensitive=False)] = None,
        output_format: Annotated[OutputFormat, typer.Option("--output-format", "-f", case_sensitive=False)] = OutputFormat.TEXT,
    ) -> None:
        """Show what gandiag reads from a log: format, roles, steps, loss convention, skipped lines."""
        from gandiag.history.roles import parse_column_overrides
        from gandiag.infra.guard import one_run

        try:
            overrides = parse_column_overrides(column or [])
            with one_run(str(path)):
                info = describe(path, input_format=input_format, columns=overrides or None,
                                d_loss_reduction=d_loss_reduction.value if d_loss_reduction else None)
        except GandiagError as exc:
            typer.echo(f"error: {exc.one_line()}", err=True)
            raise typer.Exit(code=2) from None
        if output_format is OutputFormat.JSON:
            typer.echo(json.dumps(info, indent=2, default=_json_default))
        else:
            typer.echo(render_text(info))


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)
