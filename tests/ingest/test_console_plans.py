"""The console reader's plan cache changes nothing: cached, uncached and streamed reads give the same table.

Lines of one shape (the same text but for the printed digits) reuse one parse
plan, and lines read from a file are parsed in bulk (:class:`_Batch`). Both
are only shortcuts: on every layout and on mutated logs (digits changed,
widths changed, stray characters, cut lines) the table must equal the one
parsed line by line without a cache.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from layouts import console_layouts, real_runs, seed_history

from gandiag.errors import GandiagError
from gandiag.ingest import console

_TMP = Path(tempfile.mkdtemp(prefix="gandiag-plans-"))
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)
_BASES = [{k: v[:60] for k, v in h.items()} for h in list(real_runs().values())[:2]] + [seed_history()]
TEXTS = [r.text for h in _BASES for r in console_layouts(h, batches=10).values()]
TEXTS += ["Epoch 3, Step12, d_loss: 0.61, g_loss: 0.87\nEpoch 3, Step13, d_loss: 0.62, g_loss: 0.88\n",
          "time 5s loss 0.3 g_loss 1\ntime 6s loss 0.4 g_loss 2\n",
          "step 1.5 d_loss 1 g_loss 2\nstep 2.0 d_loss 1 g_loss 2\nstep 3 d_loss 1 g_loss 2\n",
          "".join(f"étape {i}, µ d_loss: 0.{i}, g_loss: {i}.5\n" for i in range(30))]


def _table(raw) -> tuple:
    """Everything a RawTable holds, comparable (repr, so that NaN equals NaN)."""
    return (list(raw.columns), repr({k: np.asarray(v).tolist() for k, v in raw.columns.items()}),
            repr({k: np.asarray(v).tolist() for k, v in raw.nonfinite.items()}), raw.default_reduction,
            sorted(raw.percent_names), raw.warnings, repr(raw.notes))


def _outcome(read) -> tuple | str:
    try:
        return _table(read())
    except GandiagError as exc:
        return f"error: {exc.one_line()}"


def _same_three_ways(text: str, encoding: str = "utf-8") -> None:
    path = _TMP / "train.log"
    path.write_bytes(text.encode(encoding, errors="replace"))
    decoded = console.decode(path.read_bytes())
    plain = _outcome(lambda: console.read_text(decoded, str(path), cache=False))
    assert _outcome(lambda: console.read_text(decoded, str(path))) == plain
    assert _outcome(lambda: console.read(path)) == plain


def test_every_layout():
    for text in TEXTS:
        _same_three_ways(text)
        _same_three_ways(text, "latin-1")


_digit = st.sampled_from("0123456789")


@st.composite
def mutated(draw) -> str:
    lines = draw(st.sampled_from(TEXTS)).split("\n")
    for _ in range(draw(st.integers(1, 8))):
        i = draw(st.integers(0, len(lines) - 1))
        line = lines[i]
        op = draw(st.integers(0, 4))
        if op == 0:  # every digit of the line redrawn (same shape)
            lines[i] = "".join(draw(_digit) if ch.isdigit() else ch for ch in line)
        elif op == 1 and line:  # a number grows or shrinks (another shape)
            j = draw(st.integers(0, len(line) - 1))
            lines[i] = line[:j] + draw(st.sampled_from(["", "7", "77", "-", ".", "e-3", "nan"])) + line[j + 1:]
        elif op == 2 and line:  # a stray character
            j = draw(st.integers(0, len(line)))
            lines[i] = line[:j] + draw(st.sampled_from(list(",;:=[]() x\r\x1b%/>…"))) + line[j:]
        elif op == 3:
            lines.insert(i, draw(st.sampled_from(["...", "", "Epoch 2/5", "Downloading..."])))
        else:
            lines[i] = line[: draw(st.integers(0, len(line)))]
    return "\n".join(lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated())
def test_mutated_logs(text):
    _same_three_ways(text)
