"""Property tests: any input gives a history or a GandiagError, never a crash or an invented number.

Inputs: random bytes, random CSVs, and random mutations of real-format logs
(cut lines, swapped fields, stray characters, lines in another encoding,
dropped and repeated lines, a cut file) fed to every reader.

Oracles
-------
- the outcome is a RawTable (and then a RunHistory) or a GandiagError;
- every finite metric value a text reader returns is a number printed in
  the input (steps and epochs are computed, so they are not checked);
- the TensorBoard reader only returns values that were written (a damaged
  record fails its checksum and is skipped);
- console lines the mutation left alone come back with exactly their values.

The default profile runs ``FAST`` examples per test; the ``slow``-marked
variants run ``SLOW`` (>= 1,000) per reader.
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from layouts import console_layouts, event_file_bytes, real_runs, seed_history, write_jsonl

from gandiag.errors import GandiagError
from gandiag.history import RawTable, RunHistory, build_history
from gandiag.history.roles import INDEX_ROLES, resolve_role
from gandiag.ingest import read_raw
from gandiag.ingest.console import decode

FAST = 100
SLOW = 1000
READERS = ("csv", "console", "jsonl", "tensorboard")
_LITERAL = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")

_settings = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                 derandomize=False)


def _bases() -> dict[str, dict[str, np.ndarray]]:
    runs = {name: {k: v[:40] for k, v in h.items()} for name, h in list(real_runs().items())[:2]}
    runs["seed"] = seed_history()
    return runs


BASES = _bases()
CONSOLE_TEXTS = [r.text for h in BASES.values() for r in console_layouts(h, batches=10).values()]
_TMP = Path(tempfile.mkdtemp(prefix="gandiag-fuzz-"))  # hypothesis examples share one folder, not tmp_path
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)


def _jsonl_text(h) -> str:
    p = _TMP / "base.jsonl"
    write_jsonl(h, p)
    return p.read_text()


def _csv_text(h) -> str:
    keys = [k for k in h if np.isfinite(h[k]).any()]
    rows = [",".join(keys)] + [",".join(repr(float(h[k][i])) for k in keys) for i in range(len(h["step"]))]
    return "\n".join(rows) + "\n"


JSONL_TEXTS = [_jsonl_text(h) for h in BASES.values()]
CSV_TEXTS = [_csv_text(h) for h in BASES.values()]
TB_TAGS = {"d_loss_real": "loss/d_real", "d_loss_fake": "loss/d_fake", "d_loss": "Loss/D", "g_loss": "train/g_loss",
           "d_acc_real": "acc_real"}
TB_FILES = [(event_file_bytes(h, TB_TAGS), h) for h in BASES.values()]


def _literals(data: bytes) -> set[float]:
    out = set()
    for text in (data.decode("latin-1"), decode(data)):
        for m in _LITERAL.finditer(text):
            try:
                out.add(float(m.group()))
            except (ValueError, OverflowError):
                pass
    return out


def _run(data: bytes, fmt: str, suffix: str = ".log") -> RawTable | None:
    """Read ``data`` with reader ``fmt``; check the outcome's type; return the RawTable or None."""
    path = _TMP / f"input{suffix}"
    path.write_bytes(data)
    try:
        raw = read_raw(path, input_format=fmt)
    except GandiagError as exc:
        assert exc.one_line()
        return None
    assert isinstance(raw, RawTable)
    lengths = {len(v) for v in raw.columns.values()}
    assert len(lengths) <= 1
    try:
        assert isinstance(build_history(raw), RunHistory)
    except GandiagError:
        pass
    return raw


def _metric_values(raw: RawTable):
    for name, col in raw.columns.items():
        if name == "step" or resolve_role(name) in INDEX_ROLES:
            continue
        col = np.asarray(col, dtype=float)
        yield name, col[np.isfinite(col)]


def _check_printed(raw: RawTable | None, data: bytes) -> None:
    if raw is None:
        return
    literals = _literals(data)
    for name, values in _metric_values(raw):
        for v in values:
            assert v in literals, f"{name}={v!r} was not printed"


class _Case(tuple):
    """(base, lines, touched, data), shown short in failure reports."""

    def __new__(cls, base, lines, touched, data):
        return super().__new__(cls, (base, lines, touched, data))

    def __repr__(self):
        return f"<mutated input {self[3][:300]!r}...>"


# --- mutations -------------------------------------------------------------------------------------

_STRAY = st.sampled_from(list(".,:=-+[]()%e/0123456789 \t\r\x1b\x00\ufffd\u00e9\u2501nanINF\\\"'{}") + ["...", "[...]"])


@st.composite
def mutated(draw, texts):
    base = texts[draw(st.integers(0, len(texts) - 1))]
    lines = base.split("\n")
    touched: set[int] = set()
    encodings: dict[int, str] = {}
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, max(0, len(lines) - 1)))
        line = lines[i]
        op = draw(st.sampled_from(["cut", "swap", "stray", "encode", "drop", "repeat", "blank", "join", "elide"]))
        touched.add(i)
        if op == "cut":
            lines[i] = line[: draw(st.integers(0, max(0, len(line))))]
        elif op == "swap":
            parts = re.split(r"(, |\t|\] \[| - | )", line)
            if len(parts) >= 3:
                a, b = draw(st.integers(0, len(parts) - 1)), draw(st.integers(0, len(parts) - 1))
                parts[a], parts[b] = parts[b], parts[a]
                lines[i] = "".join(parts)
        elif op == "stray":
            pos = draw(st.integers(0, len(line)))
            lines[i] = line[:pos] + draw(_STRAY) + line[pos:]
        elif op == "encode":
            encodings[i] = draw(st.sampled_from(["latin-1", "utf-16", "cp1252"]))
        elif op == "drop":
            lines[i] = ""
        elif op == "repeat":
            lines.insert(i, line)
            touched = {j + 1 if j >= i else j for j in touched} | {i}
            encodings = {j + 1 if j >= i else j: e for j, e in encodings.items()}
        elif op == "blank":
            lines[i] = "   "
        elif op == "join" and i + 1 < len(lines):  # web pages join printed lines
            lines[i] = line + draw(st.sampled_from([" ", " ... ", " [...] "])) + lines[i + 1]
            lines[i + 1] = ""
            touched.add(i + 1)
        elif op == "elide":
            lines[i] = draw(st.sampled_from(["...", "[...]", "…"]))
    chunks = [line.encode(encodings.get(i, "utf-8"), errors="replace") for i, line in enumerate(lines)]
    data = b"\n".join(chunks)
    if draw(st.booleans()) and draw(st.integers(0, 9)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    return _Case(base, lines, touched, data)


def _untouched_console_rows_survive(base: str, lines: list[str], touched: set[int], data: bytes, raw) -> None:
    """Console lines left alone give exactly the values they gave before the mutation."""
    if raw is None:
        return
    try:
        original = read_raw_text(base)
    except GandiagError:
        return
    if original.notes.get("layout") != raw.notes.get("layout") or original.notes.get("step_unit") != "generator update":
        return
    if original.notes.get("layout") in ("keras-fit", "unindexed", "per-epoch"):
        return
    names = [n for n in original.columns if n in raw.columns and n != "step"]
    if "batches_per_epoch_estimated" in original.notes or "batches_per_epoch_estimated" in raw.notes:
        names = [n for n in names if n != "step"]
    got = {tuple(np.round([raw.columns[n][i] for n in names], 12).tolist())
           for i in range(len(raw.columns["step"]))}
    base_lines = base.split("\n")
    text = data.decode("utf-8", errors="replace")
    complete = text.endswith("\n")
    kept_lines = set(text.split("\n")[:-1] if not complete else text.split("\n"))
    rows = {}
    for i in range(len(original.columns["step"])):
        rows[i] = tuple(np.round([original.columns[n][i] for n in names], 12).tolist())
    # map each original record to its line: records are one per non-blank line in these layouts
    record_lines = [ln for ln in base_lines if ln.strip()]
    if len(record_lines) != len(rows):
        return
    for i, ln in enumerate(record_lines):
        if ln in kept_lines and ln in lines and all(lines[j] != ln for j in touched) \
                and not any(np.isnan(v) for v in rows[i]):
                assert rows[i] in got, f"untouched line {ln!r} lost its values"


def read_raw_text(text: str) -> RawTable:
    from gandiag.ingest.console import read_text

    return read_text(text)


def _console_case(case):
    base, lines, touched, data = case
    raw = _run(data, "console")
    _check_printed(raw, data)
    _untouched_console_rows_survive(base, lines, touched, data, raw)


def _jsonl_case(case):
    _, _, _, data = case
    _check_printed(_run(data, "jsonl", ".jsonl"), data)


def _csv_case(case):
    _, _, _, data = case
    _check_printed(_run(data, "csv", ".csv"), data)


@st.composite
def damaged_events(draw):
    data, h = TB_FILES[draw(st.integers(0, len(TB_FILES) - 1))]
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 16))]
    return _Case(None, None, None, bytes(data)), h


def _tb_case(case):
    wrapped, h = case
    data = wrapped[3]
    raw = _run(data, "tensorboard", ".tfevents")
    if raw is None:
        return
    written = {float(np.float32(v)) for k, col in h.items() if k != "step" for v in col[np.isfinite(col)]}
    for name, values in _metric_values(raw):
        for v in values:
            assert v in written, f"{name}={v!r} was never written"


@st.composite
def random_csv(draw):
    pool = ["step", "epoch", "d_loss", "g_loss", "d1", "d2", "Loss_D", "D(G(z))", "acc.", "lr", "", "x y", "_step",
            "d_acc", "é", "1.5"]
    names = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=6))
    sep = draw(st.sampled_from([",", "\t", ";", " "]))
    cell = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-10**6, 10**6).map(str),
                     st.sampled_from(["", "NA", "nan", "-inf", "1e309", "0x10", "1,5", "abc", "50%", "\"0.5\""]))
    rows = draw(st.lists(st.lists(cell, min_size=0, max_size=len(names) + 1), max_size=30))
    text = sep.join(names) + "\n" + "\n".join(sep.join(r) for r in rows)
    if draw(st.booleans()):
        text += "\n"
    return text.encode("utf-8")


# --- the tests --------------------------------------------------------------------------------------

def _all_readers_on(data: bytes) -> None:
    for fmt in READERS:
        _check_printed(_run(data, fmt, ".dat"), data) if fmt != "tensorboard" else _run(data, fmt, ".dat")


@settings(max_examples=FAST, **_settings)
@given(st.binary(max_size=2048))
def test_random_bytes_every_reader(data):
    _all_readers_on(data)


@settings(max_examples=FAST, **_settings)
@given(random_csv())
def test_random_csv_every_reader(data):
    _all_readers_on(data)


@settings(max_examples=FAST, **_settings)
@given(mutated(CONSOLE_TEXTS))
def test_mutated_console_logs(case):
    _console_case(case)


@settings(max_examples=FAST, **_settings)
@given(mutated(JSONL_TEXTS))
def test_mutated_jsonl(case):
    _jsonl_case(case)


@settings(max_examples=FAST, **_settings)
@given(mutated(CSV_TEXTS))
def test_mutated_csv(case):
    _csv_case(case)


@settings(max_examples=FAST, **_settings)
@given(damaged_events())
def test_damaged_event_files(case):
    _tb_case(case)


# --- >= 1,000 examples per reader (pytest -m slow) ----------------------------------------------------

@pytest.mark.slow
@settings(max_examples=SLOW, **_settings)
@given(st.one_of(st.binary(max_size=4096), random_csv()))
def test_slow_random_inputs_every_reader(data):
    _all_readers_on(data)


@pytest.mark.slow
@settings(max_examples=SLOW, **_settings)
@given(mutated(CONSOLE_TEXTS))
def test_slow_mutated_console_logs(case):
    _console_case(case)


@pytest.mark.slow
@settings(max_examples=SLOW, **_settings)
@given(mutated(JSONL_TEXTS))
def test_slow_mutated_jsonl(case):
    _jsonl_case(case)


@pytest.mark.slow
@settings(max_examples=SLOW, **_settings)
@given(mutated(CSV_TEXTS))
def test_slow_mutated_csv(case):
    _csv_case(case)


@pytest.mark.slow
@settings(max_examples=SLOW, **_settings)
@given(damaged_events())
def test_slow_damaged_event_files(case):
    _tb_case(case)
