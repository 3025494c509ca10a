"""TensorFlow training of the tutorials' experiments (the ``train`` extra).

Importing this package does not import TensorFlow; :func:`train` does.

Example
-------
>>> from gandiag.harness import make_config, train
>>> cfg = make_config("mode_collapse", "digits", steps=600, seed=1)
>>> result = train(cfg, out="runs/collapse")          # doctest: +SKIP
"""

from __future__ import annotations

from .config import EXPECTED_BEHAVIOUR, EXPERIMENTS, DUpdate, LossKind, Optim, TrainConfig, make_config
from .datasets import DATASETS, Dataset, load_dataset
from .run import RunResult, train, write_plots

__all__ = [
    "DATASETS",
    "EXPECTED_BEHAVIOUR",
    "EXPERIMENTS",
    "DUpdate",
    "Dataset",
    "LossKind",
    "Optim",
    "RunResult",
    "TrainConfig",
    "load_dataset",
    "make_config",
    "train",
    "write_plots",
]
