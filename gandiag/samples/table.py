"""What the sample stage hands the rule engine: per-snapshot statistics on their own step axis."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SnapshotTable:
    """Per-snapshot statistics of generated samples, on their own step axis."""

    steps: np.ndarray
    stats: Mapping[str, np.ndarray]
