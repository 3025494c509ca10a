"""Read limits: how much of one input gandiag reads before it stops with a clear error.

A pre-merge gate reads whatever lands in a folder of runs, so every reader
streams its input and stops at an explicit limit instead of following a
hostile file (a gzip bomb, a line of a million labels, ``/dev/zero``) into the
whole machine's memory. The defaults are far above any real training log and
keep one read well under 500 MB of memory; each can be raised with an
environment variable (read when a file is opened, so it reaches ``--jobs``
workers too):

============================  =======================  ==============================================
variable                      default                  what it bounds
============================  =======================  ==============================================
``GANDIAG_MAX_BYTES``         1 GiB                    bytes read from one log, after decompression
``GANDIAG_MAX_LINE``          1 MiB                    bytes in one line of a text log
``GANDIAG_MAX_ROWS``          5,000,000                data rows (CSV rows, JSON objects, printed
                                                       metric lines, TensorBoard steps) in one log
``GANDIAG_MAX_LABELS``        1,000                    labelled numbers in one console line, keys in
                                                       one JSON line, names in one log
``GANDIAG_MAX_CELLS``         32,000,000               numbers kept from one log (rows x columns)
``GANDIAG_MAX_SAMPLE_BYTES``  1 GiB                    bytes of the arrays in one sample file
                                                       (after decompression)
``GANDIAG_MAX_DOC_BYTES``     256 MiB                  a baseline report or manifest (JSON)
``GANDIAG_MAX_RULE_BYTES``    1 MiB                    one rule or configuration file (TOML)
============================  =======================  ==============================================

Values are whole numbers of bytes (or rows); ``k``, ``M`` and ``G`` suffixes
(powers of 1024) are accepted: ``GANDIAG_MAX_BYTES=4G``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from gandiag.errors import UsageError

_KiB, _MiB, _GiB = 1 << 10, 1 << 20, 1 << 30


@dataclass(frozen=True)
class ReadLimits:
    """The limits one read runs under (see the module docstring)."""

    max_bytes: int = 1 * _GiB
    max_line: int = 1 * _MiB
    max_rows: int = 5_000_000
    max_labels: int = 1_000
    max_cells: int = 32_000_000
    max_sample_bytes: int = 1 * _GiB
    max_doc_bytes: int = 256 * _MiB
    max_rule_bytes: int = 1 * _MiB

    def env_name(self, field: str) -> str:
        """The environment variable that overrides ``field``."""
        return "GANDIAG_" + field.upper()

    def raise_hint(self, field: str) -> str:
        """The sentence an error ends with: how to raise this limit if the input is genuine."""
        return f"If the file is genuine, raise the limit with {self.env_name(field)}=N (now {getattr(self, field):,})"


_SUFFIX = {"k": _KiB, "m": _MiB, "g": _GiB}


def _parse(name: str, text: str) -> int:
    t = text.strip().replace("_", "").replace(",", "")
    scale = 1
    if t[-1:].lower() in _SUFFIX:
        scale, t = _SUFFIX[t[-1].lower()], t[:-1]
    if t.lower().endswith("i"):  # "4Gi"
        t = t[:-1]
    try:
        value = int(t) * scale
    except ValueError:
        raise UsageError(f"{name} must be a whole number (optionally with k, M or G), got {text!r}",
                         hint=f"Set {name} to a number such as 2G, or unset it") from None
    if value < 1:
        raise UsageError(f"{name} must be at least 1, got {text!r}", hint=f"Unset {name} to use the default")
    return value


def current_limits(environ: Mapping[str, str] | None = None) -> ReadLimits:
    """The limits in force: the defaults, overridden by ``GANDIAG_MAX_*`` environment variables."""
    env = os.environ if environ is None else environ
    base = ReadLimits()
    values = {}
    for f in fields(ReadLimits):
        name = base.env_name(f.name)
        if env.get(name):
            values[f.name] = _parse(name, env[name])
    return ReadLimits(**values) if values else base
