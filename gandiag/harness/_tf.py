"""Lazy TensorFlow/Keras import with an actionable error when the extra is missing, and a quiet start-up.

TensorFlow's runtime writes start-up lines to file descriptor 2 while it loads
(``WARNING: All log messages before absl::InitializeLog() is called ...`` and
``I0000 ... oneDNN custom operations are on ...``, once per native library).
Since TensorFlow 2.16 they go through absl's logging, which does not read
``TF_CPP_MIN_LOG_LEVEL`` before it is initialised, so setting the environment
is not enough: :func:`require_tensorflow` sets it and, unless verbose, holds
file descriptor 2 in a temporary file during the import, then writes back
every line that is not such a start-up note (a real error still shows).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gandiag.errors import MissingExtraError

_VERBOSE = False


def set_verbose(verbose: bool) -> None:
    """Show TensorFlow's start-up messages (oneDNN, CUDA probing, absl) or, by default, keep them off the terminal.

    Must run before TensorFlow is imported: its C++ logging reads the environment once.
    """
    global _VERBOSE
    _VERBOSE = verbose
    if not verbose:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    else:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"


#: a line TensorFlow's runtime writes while it loads: absl's note before its logging starts, or an INFO or WARNING line
#: in absl's format (``I0000 00:00:1796700270.356832   10111 port.cc:153] oneDNN custom operations are on ...``)
STARTUP_NOTE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\)|[IW]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\] )")


#: the start of any record in absl's format: a line after a start-up note that does not start so continues it
LOG_RECORD = re.compile(r"^[IWEF]\d{4} ")


def without_startup_notes(text: str) -> str:
    """``text`` without TensorFlow's start-up notes (and their continuation lines); everything else is kept."""
    kept, dropping = [], False
    for line in text.splitlines(keepends=True):
        if STARTUP_NOTE.match(line):
            dropping = True
        elif dropping and not LOG_RECORD.match(line) and line.strip():
            pass  # the rest of a multi-line note ("To enable the following instructions: ...")
        else:
            dropping = False
            kept.append(line)
    return "".join(kept)


@contextmanager
def _quiet_fd2(verbose: bool) -> Iterator[None]:
    """Hold what is written to file descriptor 2 meanwhile; afterwards write back all but the start-up notes."""
    if verbose:
        yield
        return
    import tempfile

    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no file descriptor 2 to hold (a closed or replaced stderr)
        yield
        return
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            try:
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            kept = without_startup_notes(held.read().decode("utf-8", "replace"))
            if kept:
                os.write(2, "".join(kept).encode("utf-8"))


def require_tensorflow() -> tuple[Any, Any]:
    """Return ``(tensorflow, keras)``; raise :class:`MissingExtraError` if not installed.

    The first import sets ``TF_CPP_MIN_LOG_LEVEL`` (unless set) and keeps TensorFlow's start-up notes off the
    terminal unless :func:`set_verbose` asked for them.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0" if _VERBOSE else "2")
    try:
        if "tensorflow" in sys.modules and "keras" in sys.modules:
            import keras
            import tensorflow as tf
        else:
            with _quiet_fd2(_VERBOSE):
                import keras
                import tensorflow as tf
    except ImportError as exc:
        raise MissingExtraError("TensorFlow is not installed", hint="pip install 'gandiag[train]'") from exc
    if not _VERBOSE:
        import logging

        logging.getLogger("absl").setLevel(logging.ERROR)
        tf.get_logger().setLevel(logging.ERROR)
    return tf, keras


_DETERMINISM_ENABLED = False


def enable_determinism(tf: Any) -> None:
    """``tf.config.experimental.enable_op_determinism()``, once per process.

    There is no public way back: a process that enabled it keeps deterministic
    ops for every later run, whatever that run's ``deterministic`` says
    (``meta.json`` records the actual state as ``op_determinism``).
    """
    global _DETERMINISM_ENABLED
    if not _DETERMINISM_ENABLED:
        tf.config.experimental.enable_op_determinism()
        _DETERMINISM_ENABLED = True


def op_determinism_enabled(tf: Any) -> bool:
    """Whether TensorFlow runs deterministic ops in this process (best effort: private API)."""
    try:
        from tensorflow.python.framework import config as tf_config

        return bool(tf_config.is_op_determinism_enabled())
    except (ImportError, AttributeError):
        return _DETERMINISM_ENABLED
