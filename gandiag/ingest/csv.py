"""CSV histories: gandiag's own, the tutorial's columns, Keras CSVLogger, Lightning, W&B/MLflow exports.

Read with pandas' C parser (small files of plain numbers without it: see ``_SMALL_BYTES``). Handles ``,`` ``;`` or tab separators, gzip,
a UTF-8 BOM, CRLF, ``NA``, sparse rows (merged by step later), a truncated
last line from a killed run (dropped with a warning) and NaN/inf values
(kept: they are evidence of divergence).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np

from gandiag.errors import InputError, LimitError
from gandiag.history.model import RawTable, Reduction
from gandiag.history.roles import Role, resolve_role
from gandiag.infra.files import open_log

FORMAT = "csv"

_NONFINITE_WORDS = {"nan", "-nan", "+nan", "inf", "+inf", "-inf", "infinity", "-infinity", "+infinity"}
_MISSING_WORDS = {"", "na", "n/a", "null", "none", "nat", "<na>"}


def sniff(path: Path, head: bytes) -> float:
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz", ".tsv", ".tsv.gz")):
        return 0.9
    text = _decode(head)
    if text is None:
        return 0.0
    lines = [ln for ln in text.splitlines()[:21] if ln.strip()][:20]
    if len(lines) < 2:
        return 0.0
    sep = _separator(lines[0])
    if sep is None:
        return 0.0
    header = [c.strip() for c in lines[0].split(sep)]
    # A CSV only when the lines form a consistent table: every line as wide as the header (the last may be
    # cut by the head), a header of names, and rows of numbers. Console output with commas in it
    # ("(epoch: 1, iters: 100, ...) D_A: 0.2") is not, whatever its first line looks like.
    body = lines[1:-1] if len(lines) > 2 else lines[1:]
    if any(len(ln.split(sep)) != len(header) for ln in body):
        return 0.0
    if not header or any(_is_number(c) for c in header) or not any(_is_number(c) for c in lines[1].split(sep)):
        return 0.0
    return 0.7 if any(resolve_role(c) for c in header) else 0.1


def _is_number(cell: str) -> bool:
    try:
        float(cell.strip().strip('"'))
    except ValueError:
        return False
    return True


def _decode(head: bytes) -> str | None:
    if b"\x00" in head[:4096]:
        return None
    try:
        return head.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return head[:-3].decode("utf-8-sig")  # a multi-byte character cut by the head
        except UnicodeDecodeError:
            return None


def _separator(header: str) -> str | None:
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    sep, n = max(counts.items(), key=lambda kv: kv[1])
    return sep if n > 0 else None


def read(path, **_options) -> RawTable:
    """Read a CSV history into a :class:`RawTable` (names as found), streaming under the read limits."""
    with open_log(path) as stream:
        return _read_stream(stream)


#: A CSV whose whole text is at most this long is read without pandas when every field is a plain number or empty
#: (the common case: gandiag's, Keras CSVLogger's, Lightning's). ``import pandas`` costs 0.6-0.9 s, most of a cold
#: start; anything else (quotes, words, ragged rows) goes to pandas, which reads and reports it as before.
_SMALL_BYTES = 1 << 20
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _read_stream(stream) -> RawTable:
    where = stream.where
    head = stream.head(8192)
    if not head.strip() and not stream.head(len(head) + 1)[len(head):]:
        raise InputError("empty file", where=where, hint="The run wrote nothing yet; check the path or wait for the first step")
    if b"\x00" in head[:4096]:
        raise InputError("binary data, not a CSV text file", where=where,
                         hint="Give the history CSV, a console log, JSONL or a TensorBoard folder")
    if head.startswith(b"\xef\xbb\xbf"):
        stream.skip(3)
        head = head[3:]
    try:
        text_head = head.decode("utf-8")
    except UnicodeDecodeError:
        text_head = head.decode("latin-1")
    first_line = text_head.splitlines()[0] if text_head.splitlines() else ""
    sep = _separator(first_line)
    if sep is None:
        raise InputError("no header with separated column names in the first line", where=where,
                         hint="A CSV history starts with a header such as step,d_loss,g_loss")
    header = [c.strip().strip('"') for c in first_line.split(sep)]

    # A killed run can leave its last line half-written (fewer fields than the
    # header): the stream holds the last line back and drops it with a warning.
    stream.hold_last_line(sep.encode(), len(header))
    counted = io.BufferedReader(_RowLimit(stream, len(header)), buffer_size=1 << 18)
    start = counted.read(_SMALL_BYTES)  # short only at the end of the stream
    if len(start) < _SMALL_BYTES:
        plain = _read_plain(start, sep)
        if plain is not None:
            return _table(*plain, sep, where, stream)
        source = io.BytesIO(start)
    else:
        source = io.BufferedReader(_Chain(start, counted), buffer_size=1 << 18)
    return _table(*_read_pandas(source, sep, where), sep, where, stream)


def _read_plain(data: bytes, sep: str) -> tuple[list[str], list[tuple[np.ndarray, np.ndarray] | None], int] | None:
    """Names, columns and row count of a small CSV of plain numbers, or ``None`` for anything pandas should read."""
    text = data.decode("utf-8", errors="replace")
    if '"' in text or "\r" in text.replace("\r\n", "\n"):
        return None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    if len(lines) < 2 or any(not ln.strip() for ln in lines):
        return None
    names = lines[0].split(sep)
    if any(not name.strip() for name in names):
        return None  # pandas names an unnamed column itself
    rows = [ln.split(sep) for ln in lines[1:]]
    if any(len(row) != len(names) for row in rows):
        return None
    columns: list[tuple[np.ndarray, np.ndarray] | None] = []
    match = _PLAIN_NUMBER.fullmatch
    for fields in zip(*rows):
        if not all(f == "" or match(f) for f in fields):
            return None
        values = np.array([float(f) if f else np.nan for f in fields], dtype=float)
        columns.append((values, np.isinf(values)))
    return names, columns, len(rows)


def _read_pandas(source, sep: str, where: str) -> tuple[list[str], list[tuple[np.ndarray, np.ndarray] | None], int]:
    """Names, columns (``None`` for a text column) and row count, read by pandas' C parser."""
    import warnings as _warnings

    import pandas as pd

    try:
        with _warnings.catch_warnings():
            # pandas takes a first row with one field more than the header as an index column
            # (and drops data with index_col=False): a malformed file, not a history.
            _warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(
                source, sep=sep, engine="c", index_col=False,
                # 'nan' is NOT a missing marker: a logged NaN is evidence of divergence,
                # an empty field is a metric not logged on that row (sparse logs).
                na_values=["", "NA", "N/A", "null", "None", "<NA>"], keep_default_na=False,
                encoding="utf-8", encoding_errors="replace", on_bad_lines="error",
            )
    except pd.errors.EmptyDataError:
        raise InputError("empty file", where=where, hint="Check the path") from None
    except pd.errors.ParserWarning:
        raise InputError("malformed CSV (the rows have more fields than the header)", where=where,
                         hint="Every row needs as many fields as the header; fix the header or the rows") from None
    except pd.errors.ParserError as exc:
        raise InputError(f"malformed CSV ({str(exc).strip().splitlines()[-1][:120]})", where=where,
                         hint="Every row needs as many fields as the header; fix or remove the bad line") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", where=where, hint="Save the log as UTF-8") from None
    columns: list[tuple[np.ndarray, np.ndarray] | None] = []
    for i, name in enumerate(df.columns):
        col = df.iloc[:, i]
        if col.dtype.kind in "fiub":
            values = col.to_numpy(dtype=float, na_value=np.nan)
            columns.append((values, np.isinf(values)))
        else:
            values, nf = _coerce(col, str(name).strip(), resolve_role(str(name).strip()), where)
            columns.append(None if values is None else (values, nf))
    return [str(c) for c in df.columns], columns, int(df.shape[0])


def _table(raw_names: list[str], read: list[tuple[np.ndarray, np.ndarray] | None], n_rows: int, sep: str,
           where: str, stream) -> RawTable:
    """The :class:`RawTable` of a read CSV: names stripped and made unique, text columns left out, steps 1-based."""
    warnings: list[str] = list(stream.warnings)
    if n_rows == 0:
        raise InputError("the file has a header but no data rows", where=where,
                         hint="The run logged no step yet; wait for it or check the path")
    names: list[str] = []
    for c in raw_names:
        name = str(c).strip()
        base, k = name, 1
        while name in names:  # " a" and "a" collide once stripped: keep both, the later one renamed
            name, k = f"{base}.{k}", k + 1
        names.append(name)

    columns: dict[str, np.ndarray] = {}
    nonfinite: dict[str, np.ndarray] = {}
    for name, got in zip(names, read):
        if got is None:
            continue  # a text column (a timestamp, a run name): not a metric
        columns[name], nonfinite[name] = got
    if "step" not in {(resolve_role(c) or "").__str__() for c in columns} and not columns:
        raise InputError("no numeric column", where=where, hint="Check the file is a training history")

    notes: dict[str, object] = {"rows": n_rows, "separator": {"\t": "tab"}.get(sep, sep)}
    # 0-based step counters (Lightning, W&B's _step) become 1-based: step N = N+1 completed updates.
    step_col = next((c for c in columns if resolve_role(c) is Role.STEP), None)
    if step_col is not None:
        s = columns[step_col]
        finite = s[np.isfinite(s)]
        if finite.size and float(finite.min()) == 0.0:
            columns[step_col] = s + 1.0
            notes["step_offset"] = "0-based step column shifted to 1-based"
    return RawTable(
        columns=columns, source=where, input_format=FORMAT, nonfinite=nonfinite,
        default_reduction=Reduction.MEAN, warnings=tuple(warnings), notes=notes,
    )


class _Chain(io.RawIOBase):
    """Bytes already read, then the rest of a stream."""

    def __init__(self, first: bytes, rest):
        super().__init__()
        self.first, self.rest = memoryview(first), rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.first.nbytes:
            n = min(len(buffer), self.first.nbytes)
            buffer[:n] = self.first[:n]
            self.first = self.first[n:]
            return n
        return self.rest.readinto(buffer)


def _coerce(col, name: str, role, where: str):
    """Parse an object column: numbers, NaN/inf words and missing markers; else an error for metrics."""
    import pandas as pd

    text = col.astype("string").str.strip()
    lower = text.str.lower()
    pct = text.str.endswith("%").fillna(False)
    cleaned = text.where(~pct, text.str.rstrip("%"))
    values = pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    missing = lower.isna() | lower.isin(_MISSING_WORDS)
    words = lower.isin(_NONFINITE_WORDS).fillna(False).to_numpy()
    bad = np.isnan(values) & ~missing.to_numpy() & ~words
    if bad.any():
        if role is None or role in (Role.EPOCH, Role.BATCH):
            return None, None
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"column '{_short(name)}' has a non-numeric value {_short(str(col.iloc[i]))!r} at line {i + 2}",
            where=where, hint="Loss and accuracy columns must hold numbers (nan/inf are allowed)",
        )
    for word, val in (("inf", np.inf), ("+inf", np.inf), ("infinity", np.inf), ("-inf", -np.inf), ("-infinity", -np.inf)):
        values[(lower == word).fillna(False).to_numpy()] = val
    nf = words | np.isinf(values)
    return values, nf


def _short(text: str, n: int = 40) -> str:
    """A value quoted in a message: at most ``n`` characters."""
    return text if len(text) <= n else text[: n - 1] + "…"


class _RowLimit(io.RawIOBase):
    """Passes a stream's bytes to pandas; stops past ``max_rows`` lines, or ``max_cells`` numbers (rows x columns)."""

    def __init__(self, stream, n_fields: int):
        super().__init__()
        self.stream = stream
        limits = stream.limits
        self.max_rows = min(limits.max_rows, max(1, limits.max_cells // max(1, n_fields)))
        self.lines = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.stream.readinto(buffer)
        if n:
            self.lines += bytes(memoryview(buffer)[:n]).count(b"\n")
            if self.lines > self.max_rows + 1:
                limits = self.stream.limits
                field = "max_rows" if self.max_rows == limits.max_rows else "max_cells"
                what = f"more than {self.max_rows:,} rows" + ("" if field == "max_rows" else
                                                             f" of this many columns ({limits.max_cells:,} numbers)")
                raise LimitError(what, where=self.stream.where, hint=limits.raise_hint(field))
        return n
