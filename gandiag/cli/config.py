"""Project configuration: ``[tool.gandiag]`` in pyproject.toml, or a ``gandiag.toml``.

Command-line flags override it. Looked up from the current directory upwards.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from gandiag.errors import UsageError

KEYS = {"select", "ignore", "fail-on", "columns", "loss", "loss-family", "rules", "settle-fraction", "d-loss-reduction",
        "scores"}


@dataclass(frozen=True)
class ProjectConfig:
    path: str | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: tuple[str, ...] | None = None
    columns: dict[str, str] = field(default_factory=dict)
    loss: str | None = None
    rules: tuple[str, ...] = ()
    settle_fraction: float | None = None
    d_loss_reduction: str | None = None
    scores: str | None = None  # a scores file from `gandiag calibrate` (default: the shipped one)


def find_config(start: Path | None = None) -> tuple[Path, dict] | None:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        g = folder / "gandiag.toml"
        if g.is_file():
            return g, _read(g)
        p = folder / "pyproject.toml"
        if p.is_file():
            table = _read(p).get("tool", {}).get("gandiag")
            if table is not None:
                return p, table
    return None


def _read(path: Path) -> dict:
    from gandiag.infra.limits import current_limits

    limits = current_limits()
    try:
        if path.stat().st_size > limits.max_rule_bytes:
            raise UsageError(f"configuration file of more than {limits.max_rule_bytes:,} bytes", where=str(path),
                             hint=limits.raise_hint("max_rule_bytes"))
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise UsageError(f"invalid TOML: {str(exc)[:120] or 'nested too deeply'}", where=str(path),
                         hint="Fix the configuration file") from None
    except OSError as exc:
        raise UsageError(f"cannot read the configuration file ({exc.strerror})", where=str(path),
                         hint="Check its permissions") from None


def load_config(start: Path | None = None) -> ProjectConfig:
    found = find_config(start)
    if found is None:
        return ProjectConfig()
    path, table = found
    where = f"{path}:[tool.gandiag]" if path.name == "pyproject.toml" else str(path)
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise UsageError(f"unknown key(s) {unknown}", where=where, hint=f"Allowed: {', '.join(sorted(KEYS))}")

    def strings(key):
        v = table.get(key, [])
        if isinstance(v, str):
            v = [x.strip() for x in v.split(",") if x.strip()]
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise UsageError(f"'{key}' must be a list of strings", where=where)
        return tuple(v)

    columns = table.get("columns", {})
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        raise UsageError("'columns' must be a table of role = \"name\"", where=where)
    sf = table.get("settle-fraction")
    if sf is not None and (isinstance(sf, bool) or not isinstance(sf, (int, float))):
        raise UsageError("'settle-fraction' must be a number", where=where)
    for key in ("loss", "loss-family", "d-loss-reduction", "scores"):
        if key in table and not isinstance(table[key], str):
            raise UsageError(f"'{key}' must be a string", where=where)
    if "loss" in table and "loss-family" in table and table["loss"] != table["loss-family"]:
        raise UsageError("'loss' and 'loss-family' disagree", where=where, hint="Keep one of them ('loss-family')")
    base = path.parent
    return ProjectConfig(
        path=str(path),
        select=strings("select"),
        ignore=strings("ignore"),
        fail_on=strings("fail-on") if "fail-on" in table else None,
        columns=dict(columns),
        loss=table.get("loss-family", table.get("loss")),
        rules=tuple(str((base / r).resolve()) for r in strings("rules")),
        settle_fraction=float(sf) if sf is not None else None,
        d_loss_reduction=table.get("d-loss-reduction"),
        scores=str((base / table["scores"]).resolve()) if "scores" in table else None,
    )
