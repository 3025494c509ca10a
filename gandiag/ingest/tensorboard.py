"""TensorBoard event files and run folders, read without TensorFlow.

A path is an event file or a folder searched recursively for
``*tfevents*`` files; all are merged (files in name order, which is their
creation order). Each record's framing is checked (:mod:`.tfrecord`); a cut
last record is dropped with a warning and a record whose data checksum fails
is skipped with a warning.

Values: ``simple_value`` (TF1 style) and one-element numeric tensors
(TF2 ``tf.summary.scalar``: float, double, half, bfloat16, integer values or
``tensor_content`` bytes) whose plugin is ``scalars`` or unnamed. Images,
histograms, text and the rest are ignored.

Names: a column is named by its tag; when event files sit in several
sub-folders (Keras writes ``train/`` and ``validation/``) the sub-folder is
put in front (``train/epoch_d_loss``). A name that the alias table does not
know is tried again without the leading parts listed in
:data:`gandiag.ingest.labels.STRIPPED_PREFIXES`; the shortened name becomes the column name and the
original tag is kept in ``notes['tags']``. ``val``/``validation``/``test``/
``eval`` prefixes are never stripped, so held-out curves never pose as
training ones. When Keras wrote both ``batch_*`` and ``epoch_*`` tags (or
Lightning both ``*_step`` and ``*_epoch``), the per-batch ones are used and
the per-epoch ones dropped (noted).

Steps: the event step; a run logged from step 0 is shifted by one (gandiag
counts completed generator updates from 1) and the shift is noted.

Event files are read one record at a time under the read limits
(:mod:`gandiag.infra.limits`): records longer than ``GANDIAG_MAX_LINE`` (image
summaries) are skipped unread, and the bytes, tags and values kept are bounded.
"""

from __future__ import annotations

import struct
from array import array
from pathlib import Path

import numpy as np

from gandiag.errors import InputError, LimitError
from gandiag.history.model import RawTable
from gandiag.history.roles import METRIC_ROLES, resolve_role
from gandiag.infra.files import open_binary
from gandiag.infra.limits import current_limits
from gandiag.ingest import tfrecord
from gandiag.ingest.labels import shorten
from gandiag.ingest.tfrecord import Malformed

FORMAT = "tensorboard"

_DTYPES = {1: "<f4", 2: "<f8", 3: "<i4", 4: "<u1", 5: "<i2", 6: "<i1", 9: "<i8", 17: "<u2",
           19: "<f2", 14: "bfloat16", 22: "<u4", 23: "<u8"}
_SCALAR_PLUGINS = {"", "scalars"}


def _tensor_scalar(buf: bytes) -> float | None:
    """The value of a one-element numeric TensorProto, else None."""
    dtype, numel = 0, 1
    content = None
    vals: dict[int, list] = {}
    for number, wire, value in tfrecord.fields(buf):
        if number == 1 and wire == 0:
            dtype = value
        elif number == 2 and wire == 2:
            for n2, w2, dim in tfrecord.fields(value):
                if n2 == 2 and w2 == 2:
                    size = 1
                    for n3, w3, v3 in tfrecord.fields(dim):
                        if n3 == 1 and w3 == 0:
                            size = tfrecord.signed64(v3)
                    numel *= size
        elif number == 4 and wire == 2:
            content = value
        elif number in (5, 6, 7, 10, 13, 16, 17):
            vals.setdefault(number, []).extend(_repeated(number, wire, value))
    kind = _DTYPES.get(dtype)
    if kind is None or numel != 1:
        return None
    if content is not None:
        if kind == "bfloat16":
            if len(content) != 2:
                return None
            (bits,) = struct.unpack("<H", content)
            return float(np.frombuffer(struct.pack("<I", bits << 16), dtype="<f4")[0])
        if len(content) != np.dtype(kind).itemsize:
            return None
        return float(np.frombuffer(content, dtype=kind)[0])
    field = {"<f4": 5, "<f8": 6, "<i8": 10, "<u4": 16, "<u8": 17, "<f2": 13, "bfloat16": 13}.get(kind, 7)
    got = vals.get(field)
    if not got or len(got) != 1:
        return None
    raw = got[0]
    if kind == "<f2":
        return float(np.frombuffer(struct.pack("<H", raw & 0xFFFF), dtype="<f2")[0])
    if kind == "bfloat16":
        return float(np.frombuffer(struct.pack("<I", (raw & 0xFFFF) << 16), dtype="<f4")[0])
    if kind in ("<i8", "<i4", "<i2", "<i1"):
        return float(tfrecord.signed64(raw))
    return float(raw)


def _repeated(number: int, wire: int, value) -> list:
    """Values of a repeated scalar field, packed or not (floats as floats)."""
    if number == 5:  # float
        if wire == 5:
            return [struct.unpack("<f", value.to_bytes(4, "little"))[0]]
        if wire == 2 and len(value) % 4 == 0:
            return list(struct.unpack(f"<{len(value) // 4}f", value))
    elif number == 6:  # double
        if wire == 1:
            return [struct.unpack("<d", value.to_bytes(8, "little"))[0]]
        if wire == 2 and len(value) % 8 == 0:
            return list(struct.unpack(f"<{len(value) // 8}d", value))
    else:  # varint kinds
        if wire == 0:
            return [value]
        if wire == 2:
            return tfrecord.packed_varints(value)
    raise Malformed(f"bad repeated field {number}")


def _plugin(buf: bytes) -> tuple[str, int]:
    name, data_class = "", 0
    for number, wire, value in tfrecord.fields(buf):
        if number == 1 and wire == 2:
            for n2, w2, v2 in tfrecord.fields(value):
                if n2 == 1 and w2 == 2:
                    name = v2.decode("utf-8", "replace")
        elif number == 4 and wire == 0:
            data_class = value
    return name, data_class


def parse_event(data: bytes) -> tuple[int | None, list[tuple[str, float]]]:
    """Step and scalar ``(tag, value)`` pairs of one Event record."""
    step = 0
    summary = None
    for number, wire, value in tfrecord.fields(data):
        if number == 2 and wire == 0:
            step = tfrecord.signed64(value)
        elif number == 5 and wire == 2:
            summary = value
    if summary is None:
        return step, []
    out = []
    for number, wire, value in tfrecord.fields(summary):
        if number != 1 or wire != 2:
            continue
        tag, simple, tensor, plugin, data_class = None, None, None, "", 0
        for n2, w2, v2 in tfrecord.fields(value):
            if n2 == 1 and w2 == 2:
                tag = v2.decode("utf-8", "replace")
            elif n2 == 2 and w2 == 5:
                simple = struct.unpack("<f", v2.to_bytes(4, "little"))[0]
            elif n2 == 8 and w2 == 2:
                tensor = v2
            elif n2 == 9 and w2 == 2:
                plugin, data_class = _plugin(v2)
        if tag is None:
            continue
        if simple is not None:
            out.append((tag, float(simple)))
        elif tensor is not None and (plugin in _SCALAR_PLUGINS or data_class == 1):
            scalar = _tensor_scalar(tensor)
            if scalar is not None:
                out.append((tag, scalar))
    return step, out


def event_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted((p for p in path.rglob("*tfevents*") if p.is_file()), key=lambda p: (p.parent.as_posix(), p.name))
    return [path]


def _column_names(tags: list[str], notes: dict) -> dict[str, str]:
    """Column name for each (run-qualified) tag; see the module docstring."""
    def leaf(tag: str) -> str:
        return tag.lower().rsplit("/", 1)[-1]

    def per_epoch(tag: str) -> bool:
        return leaf(tag).startswith("epoch_") or leaf(tag).endswith("_epoch")

    def per_batch(tag: str) -> bool:
        short = shorten(tag)
        return (leaf(tag).startswith("batch_") or leaf(tag).endswith("_step")) and short is not None \
            and resolve_role(short) in METRIC_ROLES

    batch_level = any(per_batch(t) for t in tags)
    names: dict[str, str] = {}
    used: set[str] = set()
    dropped = []
    for tag in tags:
        if batch_level and per_epoch(tag):
            dropped.append(tag)
            continue
        short = shorten(tag)
        name = short if short is not None and short not in used else tag
        if name == "step":  # the event step is the step column; a tag of that name stays apart
            name = "tag:step"
        names[tag] = name
        used.add(name)
    if dropped:
        notes["dropped_tags"] = dropped
        notes["dropped_reason"] = "per-epoch tags dropped because per-batch tags of the same run are used"
    return names


def read(path: Path | str, **options) -> RawTable:
    """Read TensorBoard event file(s) into a :class:`RawTable` (see the module docstring)."""
    path = Path(path)
    files = event_files(path)
    if not files:
        raise InputError("no TensorBoard event files (events.out.tfevents.*) in this folder", where=str(path),
                         hint="Point at the run's log folder or an event file")
    root = path if path.is_dir() else path.parent
    runs = {f.parent.relative_to(root).as_posix() if f.parent != root else "" for f in files}
    warnings: list[str] = []
    limits = current_limits()
    values: dict[str, tuple[array, array]] = {}  # tag -> (steps, values) in the order logged
    counts = {"bad_crc": 0, "cells": 0, "bytes": 0, "large": 0}
    for f in files:
        run = f.parent.relative_to(root).as_posix() if f.parent != root else ""
        fh = open_binary(f, what="event file")
        with fh:
            stream = tfrecord.RecordStream(fh, max_record=limits.max_line,
                                           max_bytes=limits.max_bytes - counts["bytes"])
            try:
                chunk: list = []
                for record in stream:
                    chunk.append(record)
                    if len(chunk) >= 4096:
                        _take(chunk, run, runs, values, counts, limits, str(path))
                        chunk = []
                _take(chunk, run, runs, values, counts, limits, str(path))
            except OverflowError:
                raise LimitError(f"more than {limits.max_bytes:,} bytes of event records", where=str(f),
                                 hint=limits.raise_hint("max_bytes")) from None
            except OSError as exc:
                raise InputError(f"cannot read the event file ({exc.strerror or type(exc).__name__})", where=str(f),
                                 hint="Check the path") from None
        counts["bytes"] += stream.bytes_read
        counts["large"] += stream.skipped_large
        if stream.problem and not stream.count and not stream.truncated:
            raise InputError(f"not a TensorBoard event file ({stream.problem} at byte {stream.problem_offset})",
                             where=str(f), hint="Give the run's log folder, or pick another reader with --input-format")
        if stream.problem:
            warnings.append(f"{f}: {stream.problem} at byte {stream.problem_offset}; "
                            f"{'it was dropped' if stream.truncated else 'the rest of the file was not read'}")
    bad_crc = counts["bad_crc"]
    steps_of, values_of, duplicates = _last_per_step(values)
    values = None  # the merged arrays are what is used from here
    if bad_crc:
        warnings.append(f"{bad_crc} record(s) failed their data checksum and were skipped")
    if duplicates:
        warnings.append(f"{duplicates} value(s) logged twice for the same tag and step: the later one is used")
    if not steps_of:
        raise InputError("the event file(s) hold no scalar summaries", where=str(path),
                         hint="Log losses with tf.summary.scalar / SummaryWriter.add_scalar")
    notes: dict[str, object] = {"event_files": [str(f) for f in files]}
    if counts["large"]:
        notes["skipped_large_records"] = counts["large"]
    names = _column_names(list(steps_of), notes)
    logged = np.unique(np.concatenate([steps_of[tag] for tag in names])) if names else np.zeros(0, np.int64)
    if logged.size > limits.max_rows:
        raise LimitError(f"more than {limits.max_rows:,} logged steps", where=str(path),
                         hint=limits.raise_hint("max_rows"))
    steps = logged.astype(float)
    columns: dict[str, np.ndarray] = {}
    nonfinite: dict[str, np.ndarray] = {}
    for tag, name in names.items():
        col = np.full(steps.size, np.nan)
        at = np.searchsorted(logged, steps_of[tag])
        col[at] = values_of[tag]
        bad = np.zeros(steps.size, dtype=bool)
        bad[at] = ~np.isfinite(values_of[tag])
        columns[name] = col
        nonfinite[name] = bad
    notes["original_names"] = {name: tag for tag, name in names.items() if name != tag}
    rule = "step = event step"
    if steps.size and steps.min() == 0:
        steps = steps + 1
        rule += " + 1 (logged from 0)"
    notes["step_rule"] = rule
    notes["step_unit"] = "logged step"
    notes["records"] = int(steps.size)
    if steps.size > 1:
        notes["print_interval"] = float(np.median(np.diff(steps)))
    return RawTable(columns={"step": steps, **columns}, source=str(path), input_format=FORMAT,
                    nonfinite=nonfinite, warnings=tuple(warnings), notes=notes)


def _take(records: list, run: str, runs: set[str], values: dict, counts: dict, limits, where: str) -> None:
    """Parse a chunk of records, check the data checksums of those that matter, keep their scalars."""
    parsed = []
    for record in records:
        try:
            step, scalars = parse_event(record.data)
        except (Malformed, UnicodeDecodeError, struct.error, OverflowError, ValueError):
            step, scalars = None, None
        parsed.append((record, step, scalars))
    check = [r for r, _, s in parsed if s is None or s]
    ok = dict(zip((id(r) for r in check), tfrecord.data_crc_ok(check)))
    for record, step, scalars in parsed:
        if scalars is not None and not scalars:
            continue
        if not ok[id(record)]:
            counts["bad_crc"] += 1
            continue
        if scalars is None:
            continue  # a valid record of a kind this reader does not know
        for tag, value in scalars:
            key = f"{run}/{tag}" if run and len(runs) > 1 else tag
            series = values.get(key)
            if series is None:
                if len(values) >= limits.max_labels:
                    raise LimitError(f"more than {limits.max_labels:,} different tags", where=where,
                                     hint=limits.raise_hint("max_labels"))
                series = values[key] = (array("q"), array("d"))
            series[0].append(step)
            series[1].append(value)
        counts["cells"] += len(scalars)
        if counts["cells"] > limits.max_cells:
            raise LimitError(f"more than {limits.max_cells:,} scalar values", where=where,
                             hint=limits.raise_hint("max_cells"))


def _last_per_step(values: dict) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], int]:
    """Per tag, the steps in order and the value logged last for each; and how many values were repeats."""
    steps_of, values_of, duplicates = {}, {}, 0
    for tag, (steps, vals) in values.items():
        s = np.frombuffer(steps, dtype=np.int64)
        v = np.frombuffer(vals, dtype=np.float64)
        uniq, last_rev = np.unique(s[::-1], return_index=True)
        duplicates += s.size - uniq.size
        steps_of[tag] = uniq
        values_of[tag] = v[::-1][last_rev]
    return steps_of, values_of, duplicates


def sniff(path: Path, head: bytes) -> float:
    """Event files by name, folders holding them, or a valid first TFRecord header."""
    if path.is_dir():
        return 1.0 if any(path.rglob("*tfevents*")) else 0.0
    if "tfevents" in path.name:
        return 1.0
    if len(head) >= 12:
        header = head[:8]
        if tfrecord.masked(tfrecord.crc32c(header)) == struct.unpack("<I", head[8:12])[0]:
            return 0.9
    return 0.0
