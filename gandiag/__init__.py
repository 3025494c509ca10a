"""gandiag: automated failure-mode analysis of GAN training.

>>> import gandiag
>>> sorted(gandiag.__all__)[:3]
['Diagnosis', 'Finding', 'GandiagError']
"""

from __future__ import annotations

from gandiag import _compat
from gandiag._version import __version__
from gandiag.errors import GandiagError

_compat.install()  # old import paths (gandiag.monitor, gandiag.keras ...) for one release

__all__ = [
    "Diagnosis",
    "Finding",
    "GandiagError",
    "Monitor",
    "RunHistory",
    "RunLogger",
    "Verdict",
    "__version__",
    "analyze",
    "read_run",
]

_LAZY = {
    "analyze": ("gandiag.api", "analyze"),
    "read_run": ("gandiag.ingest", "read_run"),
    "RunHistory": ("gandiag.history", "RunHistory"),
    "Diagnosis": ("gandiag.verdict.diagnosis", "Diagnosis"),
    "Finding": ("gandiag.engine.findings", "Finding"),
    "Verdict": ("gandiag.engine.findings", "Verdict"),
    "RunLogger": ("gandiag.live.runlog", "RunLogger"),
    "Monitor": ("gandiag.live.monitor", "Monitor"),
    # the Keras callback: not in __all__, since `from gandiag import *` must not import Keras
    "GanDiagnostics": ("gandiag.live.keras", "GanDiagnostics"),
}


def __getattr__(name: str):
    # Imports on first use keep `import gandiag` (and the CLI's start) light.
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'gandiag' has no attribute {name!r}") from None
    import importlib

    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
