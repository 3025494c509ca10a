"""Old import paths, kept working for one release with a :class:`DeprecationWarning`.

Until 0.x the package was flat (``gandiag.monitor``, ``gandiag.keras``,
``gandiag.runlog``, ``gandiag.calibrate`` ...). Each stage now has its own
package; an import of an old path is answered with the module that holds
its contents now (the same module object, so ``isinstance`` checks and
monkeypatching still work), or, where one old module became several, a
module holding all of their names. The warning names where to import from.
"""

from __future__ import annotations

import sys
import types
import warnings

#: Old dotted path -> the modules that hold its contents now.
MOVED: dict[str, tuple[str, ...]] = {
    "gandiag.monitor": ("gandiag.live.monitor",),
    "gandiag.keras": ("gandiag.live.keras",),
    "gandiag.runlog": ("gandiag.live.runlog",),
    "gandiag.findings": ("gandiag.engine.findings", "gandiag.verdict.diagnosis"),
    "gandiag.classify": ("gandiag.verdict.outcome", "gandiag.history.family"),
    "gandiag.calibrate": ("gandiag.verdict.calibration", "gandiag.verdict.cases", "gandiag.verdict.fit",
                          "gandiag.verdict.metrics"),
    "gandiag.sampling": ("gandiag.samples.evidence",),
    "gandiag.roles": ("gandiag.history.roles",),
    "gandiag.batch": ("gandiag.workflows.batch",),
    "gandiag.baseline": ("gandiag.workflows.baseline",),
    "gandiag.verify": ("gandiag.workflows.verify",),
    "gandiag.config": ("gandiag.cli.config",),
    "gandiag.mlflow_tags": ("gandiag.integrations.mlflow_tags",),
    "gandiag.mlflow_mirror": ("gandiag.integrations.mlflow_mirror",),
    "gandiag.limits": ("gandiag.infra.limits",),
    "gandiag.guard": ("gandiag.infra.guard",),
    "gandiag.outputs": ("gandiag.infra.outputs",),
    "gandiag.npzappend": ("gandiag.infra.npzappend",),
    "gandiag.progress": ("gandiag.infra.progress",),
    "gandiag.ingest.samples": ("gandiag.samples.read", "gandiag.samples.grids"),
    "gandiag.ingest.mlflow_store": ("gandiag.integrations.mlflow_store",),
    "gandiag.signals.knn": ("gandiag.samples.knn", "gandiag.samples.knn_exact", "gandiag.samples.knn_approx"),
    "gandiag.harness.datasets": ("gandiag.data.datasets",),
    "gandiag.signals.diversity": ("gandiag.samples.diversity", "gandiag.samples.compare", "gandiag.samples.ndb"),
}


def _caller_level() -> int:
    """The ``stacklevel`` of the first frame outside the import machinery (the line that imported)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and (frame.f_code.co_filename.startswith("<frozen importlib")
                                 or frame.f_code.co_filename == __file__
                                 or frame.f_globals.get("__name__", "").startswith("importlib")):
        frame, level = frame.f_back, level + 1
    return level


class OldPaths:
    """A meta-path finder and loader for the paths in :data:`MOVED` (nothing else goes through it)."""

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname not in MOVED:
            return None
        from importlib.machinery import ModuleSpec

        return ModuleSpec(fullname, self)

    def create_module(self, spec):
        import importlib

        targets = MOVED[spec.name]
        warnings.warn(f"{spec.name} is deprecated and goes in the next release: import from {' or '.join(targets)}",
                      DeprecationWarning, stacklevel=_caller_level())
        modules = [importlib.import_module(t) for t in targets]
        if len(modules) == 1:
            module = modules[0]
            module.__dict__.setdefault("__gandiag_spec__", module.__spec__)
            return module
        merged = types.ModuleType(spec.name, f"Deprecated: the names of {', '.join(targets)}.")
        for m in modules:
            merged.__dict__.update({k: v for k, v in vars(m).items() if not k.startswith("__")})
        return merged

    def exec_module(self, module) -> None:
        # the import machinery gave a moved module the alias's spec; it keeps its own
        original = module.__dict__.pop("__gandiag_spec__", None)
        if original is not None:
            module.__spec__ = original


def install() -> None:
    if not any(isinstance(f, OldPaths) for f in sys.meta_path):
        sys.meta_path.insert(0, OldPaths())
