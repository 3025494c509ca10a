"""TensorFlow training of the tutorials' experiments (the ``train`` extra).

Importing this package does not import TensorFlow; :func:`train` does.

Example
-------
>>> from gandiag.harness import make_config, train
>>> cfg = make_config("mode_collapse", "digits", steps=600, seed=1)
>>> result = train(cfg, out="runs/collapse")          # doctest: +SKIP
"""

from __future__ import annotations

from gandiag.data.datasets import (
    DATASETS,
    POINT_SPECS,
    CurveSpec,
    Dataset,
    MixtureSpec,
    dataset_labels,
    load_dataset,
    point_spec,
)
from gandiag.harness.config import EXPECTED_BEHAVIOUR, EXPERIMENTS, DUpdate, LossKind, Optim, TrainConfig, make_config
from gandiag.harness.run import RunResult, train, write_plots

__all__ = [
    "DATASETS",
    "EXPECTED_BEHAVIOUR",
    "EXPERIMENTS",
    "POINT_SPECS",
    "CurveSpec",
    "DUpdate",
    "Dataset",
    "LossKind",
    "MixtureSpec",
    "Optim",
    "RunResult",
    "TrainConfig",
    "dataset_labels",
    "load_dataset",
    "make_config",
    "point_spec",
    "train",
    "write_plots",
]
