"""Console logs: what a training script printed.

The reader is general: every line is lexed into labelled numbers
(:mod:`gandiag.ingest.labels`) whose labels go through the alias table, and a
*layout* only says how the start of a line gives the step. Layouts are small
templates (``"[{epoch0}/{epochs}][{batch0}/{batches}]"``), tried in order;
the layout that recognises most lines wins and the others' lines are skipped.

Template fields: ``step``, ``epoch``, ``batch`` (as printed, 1-based),
``step0``, ``epoch0``, ``batch0`` (0-based) and the totals ``epochs`` and
``batches``. A space stands for any run of blanks.

Steps (gandiag counts completed generator updates from 1)
----------------------------------------------------------
- a printed step: itself, plus one when it counts from 0 (``step0``, or a
  labelled ``step``/``iter`` whose first value is 0);
- epoch and batch: ``(epoch - 1) * batches + batch`` with both made 1-based;
  ``batches`` is the printed total or, when not printed, the largest batch
  seen (noted as an estimate); a labelled ``Step`` that restarts every epoch
  counts as a batch;
- epoch only (per-epoch prints, Keras ``fit``): the 1-based epoch; the step
  unit is then ``epoch`` (``notes['step_unit']``);
- nothing (``INFO:root:Generator loss: ...``): the order of the line.

Lines that give no metric are skipped and counted by reason with examples;
``...``, ``…`` and ``[...]`` elisions are recorded as gaps between the steps
around them. Carriage returns keep only the last state of a progress bar, ANSI
colour codes and backspaces are removed, and a last line without a line end
is dropped with a warning (it may have been cut while being written).

Reading is streamed line by line under the read limits (:mod:`gandiag.infra.limits`:
line length, labelled numbers per line, rows) and the rows are kept as columns
of numbers, not objects, so a million-line log needs tens of megabytes. Lines
of one log mostly share one shape (the same text with other digits), so each
shape is parsed once into a *plan* (which layout, which printed numbers go to
which column) and later lines of that shape only have their numbers read; see
:mod:`.scan`. The pieces: :mod:`.lines` (bytes to lines), :mod:`.plan` (one
line's shape to a plan), :mod:`.scan` (the pass over the lines), :mod:`.table`
(columns and steps); the layouts are data in :mod:`gandiag.ingest.layouts`.
"""

from __future__ import annotations

from pathlib import Path

from gandiag.errors import LimitError
from gandiag.history.model import RawTable
from gandiag.history.roles import normalize_name
from gandiag.infra.files import open_log
from gandiag.ingest.console.lines import FORMAT, decode, text_lines
from gandiag.ingest.console.scan import Scan, scan_lines
from gandiag.ingest.console.table import raw_table
from gandiag.ingest.layouts import BY_NAME, LAYOUTS

__all__ = ["BY_NAME", "FORMAT", "LAYOUTS", "decode", "read", "read_text", "sniff"]

def _extra(names) -> frozenset[str]:
    return frozenset(normalize_name(n) for n in names or ())


def read_text(text: str, source: str = "<text>", *, cache: bool = True, names=()) -> RawTable:
    """Read console output given as a string (see :func:`read`)."""
    lines = text.split("\n")
    pieces = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        pieces.append(lines[-1])
    return raw_table(scan_lines(pieces, source, cache=cache, extra=_extra(names)), source)


def read(path: Path | str, *, names=(), **options) -> RawTable:
    """Read a console log (a file of printed training progress) into a :class:`RawTable`, streaming.

    ``names``: labels given with ``--column ROLE=NAME``, read as metrics although the alias table does not know them.
    """
    with open_log(path) as stream:
        source = str(path) if str(path) != "-" else stream.where
        scan = scan_lines(text_lines(stream), source, stream.limits, extra=_extra(names))
        table = raw_table(scan, source)
    if stream.warnings:
        table = RawTable(columns=table.columns, source=table.source, input_format=table.input_format,
                         nonfinite=table.nonfinite, default_reduction=table.default_reduction,
                         percent_names=table.percent_names, warnings=tuple(stream.warnings) + table.warnings,
                         notes=table.notes)
    return table


def sniff(path: Path, head: bytes) -> float:
    """How much ``head`` looks like a console log (0..1)."""
    if not head or path.is_dir():
        return 0.0
    text = decode(head)
    lines = [ln for ln in text.split("\n")[:200] if ln.strip()]
    if not lines:
        return 0.0
    if sum(ln.lstrip().startswith("{") for ln in lines) > len(lines) / 2:
        return 0.05  # JSON lines; leave them to the jsonl reader
    scan = Scan(cache=False)
    for i, ln in enumerate(lines, 1):
        try:
            scan.line(i, ln)
        except LimitError:
            continue  # a line of too many labels: the read says so
    if not scan.n_records:
        # Plain text nothing else claims still comes here, so that the error
        # lists the layouts tried and the first lines seen.
        return 0.01 if "\x00" not in text else 0.0
    fraction = scan.n_records / len(lines)
    bonus = 0.05 if path.suffix.lower() in {".log", ".txt", ".out", ".err"} else 0.0
    return min(0.9, 0.4 + 0.45 * fraction + bonus)
