"""One guard around each run's read-and-analyse: no exception from one input can stop the others.

``gandiag analyze``, ``inspect``, ``report``, ``--baseline``, ``verify``,
``watch`` and the batch runner read and analyse each run inside
:func:`one_run`. Whatever goes wrong there leaves as a
:class:`~gandiag.errors.GandiagError` that names the input: a known problem
keeps its own message; a deeply nested document, an exhausted memory or an
unreadable file become an :class:`~gandiag.errors.InputError`; anything else
(a bug, or a library failing on data it should have been spared) becomes an
:class:`~gandiag.errors.UnexpectedError` for that run, and the batch goes on.

``KeyboardInterrupt`` and ``SystemExit`` are not caught. Set
``GANDIAG_DEBUG=1`` to let unexpected exceptions through with their traceback.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from gandiag.errors import GandiagError, InputError, LimitError, UnexpectedError

DEBUG_ENV = "GANDIAG_DEBUG"


def _debugging() -> bool:
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def as_gandiag_error(exc: BaseException, where: str) -> GandiagError:
    """The user-facing error for an exception raised while reading or analysing ``where``."""
    if isinstance(exc, GandiagError):
        return exc
    if isinstance(exc, RecursionError):
        return InputError("the input is nested too deeply to read", where=where,
                          hint="Check that it is a training log written by a logger")
    if isinstance(exc, MemoryError):
        return LimitError("out of memory while reading this input", where=where,
                          hint="Lower the GANDIAG_MAX_* read limits (docs/formats.md, Limits) or free memory")
    if isinstance(exc, PermissionError):
        return InputError("permission denied", where=getattr(exc, "filename", None) or where,
                          hint="Check the permissions of the file and its folders")
    if isinstance(exc, OSError):
        what = exc.strerror or type(exc).__name__
        return InputError(f"cannot read the input ({what})", where=getattr(exc, "filename", None) or where,
                          hint="Check the path")
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return UnexpectedError(f"could not analyze this run ({detail})", where=where,
                           hint=f"This looks like a gandiag bug: please report it with the file "
                                f"(set {DEBUG_ENV}=1 for the traceback); the other runs were analyzed")


@contextmanager
def one_run(where: str) -> Iterator[None]:
    """Re-raise any failure inside the block as a :class:`GandiagError` naming ``where``.

    Numeric ``RuntimeWarning``s (overflow, invalid value) are silenced inside:
    non-finite values are evidence the rules judge, not news for stderr.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            yield
    except GandiagError:
        raise
    except Exception as exc:  # noqa: BLE001 - the point of the guard
        if _debugging():
            raise
        raise as_gandiag_error(exc, where) from exc
