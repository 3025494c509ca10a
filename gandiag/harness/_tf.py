"""Lazy TensorFlow/Keras import with an actionable error when the extra is missing."""

from __future__ import annotations

import os
from typing import Any

from ..errors import MissingExtraError


def require_tensorflow() -> tuple[Any, Any]:
    """Return ``(tensorflow, keras)``; raise :class:`MissingExtraError` if not installed."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf
        import keras
    except ImportError as exc:
        raise MissingExtraError("TensorFlow is not installed", hint="pip install 'gandiag[train]'") from exc
    return tf, keras
