"""Lazy TensorFlow/Keras import with an actionable error when the extra is missing."""

from __future__ import annotations

import os
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


def require_tensorflow() -> tuple[Any, Any]:
    """Return ``(tensorflow, keras)``; raise :class:`MissingExtraError` if not installed."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
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
