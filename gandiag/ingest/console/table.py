"""A scanned console log turned into a :class:`~gandiag.history.RawTable`: steps from the layout's fields, columns named.

Steps follow the rules in :mod:`gandiag.ingest.console` (a printed step, epoch
and batch, epoch only, or the order of the lines); terms a layout groups (real
and fake halves, several generator terms) are combined as the layout says.
"""

from __future__ import annotations

import numpy as np

from gandiag.errors import InputError
from gandiag.history.model import RawTable
from gandiag.history.roles import normalize_name
from gandiag.ingest.console.lines import FORMAT
from gandiag.ingest.console.plan import LAYOUT_INDEX
from gandiag.ingest.console.scan import Scan
from gandiag.ingest.layouts import IGNORED_NAMES, LAYOUTS, Layout


def _steps(field, keys: set[str], n: int, layout: Layout, notes: dict) -> np.ndarray:
    """Global 1-based steps of the chosen layout's records (see the module docstring)."""

    def one_based(values: np.ndarray, zero_based: bool) -> tuple[np.ndarray, bool]:
        finite = values[np.isfinite(values)]
        shift = zero_based or (finite.size > 0 and finite.min() == 0)
        return values + (1 if shift else 0), shift

    step_key = "step0" if "step0" in keys else "step" if "step" in keys else None
    epoch_key = "epoch0" if "epoch0" in keys else "epoch" if "epoch" in keys else None
    batch_key = "batch0" if "batch0" in keys else "batch" if "batch" in keys else None
    epoch = one_based(field(epoch_key), epoch_key == "epoch0")[0] if epoch_key else None
    totals_key = "batches"

    if layout.epoch_rows and epoch is not None:
        notes["step_unit"] = "epoch"
        notes["step_rule"] = "step = epoch (1-based)"
        return epoch
    if step_key:
        step = field(step_key)
        finite = step[np.isfinite(step)]
        restarts = epoch is not None and finite.size > 1 and bool(np.any(np.diff(finite) < 0))
        if not restarts:
            step, shifted = one_based(step, step_key == "step0")
            notes["step_unit"] = "generator update"
            notes["step_rule"] = "step as printed" + (" + 1 (printed from 0)" if shifted else "")
            return step
        if not batch_key:  # a step counter that restarts every epoch is a batch index
            batch_key, totals_key = step_key, "steps"
    if batch_key and epoch is not None:
        batch = one_based(field(batch_key), batch_key.endswith("0"))[0]
        totals = field(totals_key)
        if np.isnan(totals).all():
            estimate = float(np.nanmax(batch)) if np.isfinite(batch).any() else np.nan
            totals = np.full(n, estimate)
            notes["batches_per_epoch_estimated"] = estimate
        notes["step_unit"] = "generator update"
        notes["step_rule"] = "step = (epoch - 1) * batches_per_epoch + batch, epoch and batch 1-based"
        return (epoch - 1) * totals + batch
    if epoch is not None:
        notes["step_unit"] = "epoch"
        notes["step_rule"] = "step = epoch (1-based)"
        return epoch
    if batch_key:  # a batch counter and no epoch: the step when it never goes back
        batch = field(batch_key)
        finite = batch[np.isfinite(batch)]
        if finite.size and not np.any(np.diff(finite) < 0):
            batch, shifted = one_based(batch, batch_key.endswith("0"))
            notes["step_unit"] = "generator update"
            notes["step_rule"] = "step = batch as printed" + (" + 1 (printed from 0)" if shifted else "")
            return batch
    notes["step_unit"] = "printed line"
    notes["step_rule"] = "step = order of the line (the log prints no step)"
    return np.arange(1, n + 1, dtype=float)


def _table(scan: Scan, chosen_layout: int, source: str) -> RawTable:
    layout = LAYOUTS[chosen_layout]
    rec_layout = scan.layouts()
    is_chosen = rec_layout == chosen_layout
    chosen = np.flatnonzero(is_chosen)
    counts = np.bincount(rec_layout, minlength=len(LAYOUTS))
    present, first = np.unique(rec_layout, return_index=True)
    for i in present[np.argsort(first)]:  # in the order the layouts were first seen
        if i != chosen_layout:
            scan.skipped[f"other layout ({LAYOUTS[i].name})"] = int(counts[i])
    notes: dict[str, object] = {"layout": layout.name, "layout_example": layout.example,
                                "layout_source": layout.source}
    n = int(chosen.size)
    spec_of = np.frombuffer(scan.rec_spec, dtype=np.int64)[chosen] if n else np.zeros(0, np.int64)
    offsets = np.frombuffer(scan.rec_off, dtype=np.int64)[chosen] if n else np.zeros(0, np.int64)
    values = np.frombuffer(scan.values, dtype=np.float64) if len(scan.values) else np.zeros(0)
    uniq, first = np.unique(spec_of, return_index=True)
    used = [int(sid) for sid in uniq[np.argsort(first)]]  # in the order of first use: the columns' order

    index: dict[str, np.ndarray] = {}
    columns: dict[str, np.ndarray] = {}
    nonfinite: dict[str, np.ndarray] = {}
    percent: set[str] = set()
    for sid in used:
        spec = scan.spec_list[sid]
        rows = np.flatnonzero(spec_of == sid)
        width = len(spec.index_keys) + len(spec.names)
        block = values[offsets[rows][:, None] + np.arange(width)] if width else np.zeros((rows.size, 0))
        for j, key in enumerate(spec.index_keys):
            index.setdefault(key, np.full(n, np.nan))[rows] = block[:, j]
        for j, (name, pct) in enumerate(zip(spec.names, spec.percent), len(spec.index_keys)):
            if name not in columns:
                columns[name] = np.full(n, np.nan)
                nonfinite[name] = np.zeros(n, dtype=bool)
            columns[name][rows] = block[:, j]
            nonfinite[name][rows] = ~np.isfinite(block[:, j])
            if pct:
                percent.add(name)

    def field(name: str) -> np.ndarray:
        return index.get(name, np.full(n, np.nan))

    steps = _steps(field, set(index), n, layout, notes)
    out: dict[str, np.ndarray] = {"step": steps}
    has_epoch0 = any("epoch0" in scan.spec_list[sid].index_keys for sid in used)
    if not layout.epoch_rows and ("epoch0" in index or "epoch" in index):
        e = np.where(np.isnan(field("epoch0")), field("epoch"), field("epoch0"))
        if has_epoch0 or np.nanmin(e) == 0:
            e = e + 1
        out["epoch"] = e
    columns, nonfinite, percent = _layout_names(layout, columns, nonfinite, percent, notes)
    out.update(columns)
    warnings = list(scan.warnings)
    garbled = scan.skipped.get(f"no metric (starts like {layout.name})", 0)
    if garbled:
        lineno, text = scan.first_skip[f"no metric (starts like {layout.name})"]
        warnings.append(f"{source}: {garbled} line(s) that start like {layout.name} records hold no readable loss and "
                        f"were skipped (first: line {lineno}: {text[:60]!r})")

    finite = steps[np.isfinite(steps)]
    if finite.size > 1:
        notes["print_interval"] = float(np.median(np.diff(np.sort(finite))))
    prev_row = np.concatenate(([-1], np.cumsum(is_chosen) - 1))  # last chosen row before record i
    gaps = []
    total = scan.n_records
    for at in sorted({min(int(at), total) for at in scan.elisions}):  # records of a cut last line are gone
        gap: dict[str, object] = {}
        if prev_row[at] >= 0:
            gap["after_step"] = float(steps[prev_row[at]])
        if prev_row[at] + 1 < n:
            gap["before_step"] = float(steps[prev_row[at] + 1])
        gaps.append(gap)
    notes["gaps"] = gaps
    notes["skipped"] = dict(scan.skipped)
    notes["skipped_examples"] = list(scan.examples)
    notes["records"] = n
    return RawTable(
        columns=out,
        source=source,
        input_format=FORMAT,
        nonfinite=nonfinite,
        default_reduction=layout.reduction,
        percent_names=frozenset(percent),
        warnings=tuple(warnings),
        notes=notes,
    )


def _combined(how: str, stack: np.ndarray) -> np.ndarray:
    """``max`` or ``mean`` over the rows of ``stack``, ignoring NaN (a term not printed), without numpy warnings."""
    logged = ~np.isnan(stack)
    count = logged.sum(axis=0)
    if how == "max":
        out = np.where(logged, stack, -np.inf).max(axis=0)
    else:
        out = np.where(logged, stack, 0.0).sum(axis=0) / np.maximum(count, 1)
    return np.where(count > 0, out, np.nan)


def _layout_names(layout: Layout, columns: dict[str, np.ndarray], nonfinite: dict[str, np.ndarray], percent: set[str],
                  notes: dict) -> tuple[dict, dict, set]:
    """Apply the layout's own names: terms combined into a role, names renamed to their role, names that are no loss.

    The renamed and combined columns come first, so they win over a name the
    alias table maps to the same role. ``notes`` records, for ``inspect``, the
    printed name behind each renamed column and why, and the ignored names.
    """
    by_key = {normalize_name(name): name for name in columns}
    front: dict[str, np.ndarray] = {}
    front_nf: dict[str, np.ndarray] = {}
    original: dict[str, str] = {}
    why: dict[str, str] = {}
    ignored: dict[str, str] = {}
    used: set[str] = set()
    for role, (how, keys) in layout.combine.items():
        present = [by_key[k] for k in keys if k in by_key]
        if not present or role in columns:
            continue
        stack = np.vstack([columns[n] for n in present])
        front[role] = _combined(how, stack) if len(present) > 1 else stack[0]
        front_nf[role] = np.any(np.vstack([nonfinite[n] for n in present]), axis=0)
        if front_nf[role].any():  # a diverged term diverges the combination
            front[role] = np.where(front_nf[role], np.nan, front[role])
        original[role] = " + ".join(present)
        why[role] = (f"{how} of {', '.join(present)} ({layout.name} layout: "
                     + ("the discriminator has won only when every term is near 0)" if how == "max"
                        else "the generator's adversarial terms)"))
        used.update(present)
    for key, role in layout.roles.items():
        name = by_key.get(key)
        if name is None or name in used:
            continue
        if not role:
            ignored[name] = f"not a loss in the {layout.name} layout"
            used.add(name)
            continue
        if role in columns or role in front or role in INDEX_NAMES:
            continue
        front[role], front_nf[role] = columns[name], nonfinite[name]
        original[role] = name
        why[role] = f"the {layout.name} layout ({layout.codebase}) prints {role} as {name!r}"
        if name in percent:
            percent.add(role)
        used.add(name)
    for name in columns:
        if name not in used and normalize_name(name) in IGNORED_NAMES:
            ignored[name] = "timing, throughput or schedule, not a metric"
    if layout.family:
        notes["loss_family"] = layout.family
    notes["original_names"] = original
    notes["role_reasons"] = why
    notes["ignored"] = ignored
    if not front and not any(n in used for n in columns):
        return columns, nonfinite, percent
    rest = {n: v for n, v in columns.items() if n not in used}
    rest_nf = {n: v for n, v in nonfinite.items() if n not in used}
    return {**front, **rest}, {**front_nf, **rest_nf}, percent


INDEX_NAMES = frozenset({"step", "epoch", "batch"})


def _no_metrics(scan: Scan, source: str) -> InputError:
    """The error for a log without one metric record: the closest layout, the line where it failed, the hint."""
    near = {reason[len("no metric (starts like "):-1]: n for reason, n in scan.skipped.items()
            if reason.startswith("no metric (starts like ")}
    if near:
        layout = max(near, key=lambda name: (near[name], -LAYOUT_INDEX[name]))
        lineno, text = scan.first_skip[f"no metric (starts like {layout})"]
        what = (f"no training metrics recognised: closest layout {layout} ({near[layout]} line(s) start like its "
                f"records), but line {lineno} names no known loss: {text[:60]!r}")
    elif "no metric" in scan.first_skip:
        lineno, text = scan.first_skip["no metric"]
        what = f"no training metrics recognised: no layout fits; line {lineno} names no known loss: {text[:60]!r}"
    else:
        seen = " | ".join(repr(s[:40]) for s in scan.first_lines[:2]) or "nothing but blank lines"
        what = f"no training metrics recognised (first lines: {seen})"
    example = scan.unknown_names[0] if scan.unknown_names else "NAME"
    found = f" (names found: {', '.join(scan.unknown_names[:5])})" if scan.unknown_names else ""
    return InputError(what, where=source,
                      hint=f"Map a name to a role with --column ROLE=NAME, e.g. --column g_loss={example}{found}")


def raw_table(scan: Scan, source: str) -> RawTable:
    if not scan.n_records:
        raise _no_metrics(scan, source)
    counts = np.bincount(scan.layouts(), minlength=len(LAYOUTS))
    best = max(range(len(LAYOUTS)), key=lambda i: (counts[i], -i))
    return _table(scan, best, source)
