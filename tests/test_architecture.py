"""The package's shape: one package per pipeline stage, imports only downward, no cycles, small modules.

The pipeline runs ingest -> history -> signals / samples -> rules -> verdict ->
reporters, with live monitoring and CI workflows built on the API, and the CLI
on top. A module may import its own package and the stages below it; an import
of a later stage, or a cycle anywhere, fails here. Lazy imports inside
functions count: they are dependencies all the same.
"""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gandiag"

#: Bottom to top. A module's layer is the longest entry its dotted name starts with.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("gandiag.errors", "gandiag._version"),
    ("gandiag.infra",),
    ("gandiag.data",),
    ("gandiag.history",),
    ("gandiag.ingest",),
    ("gandiag.signals",),
    ("gandiag.samples",),
    ("gandiag.engine",),
    ("gandiag.verdict",),
    ("gandiag.report",),
    ("gandiag.api",),
    ("gandiag.integrations",),
    ("gandiag.live",),
    ("gandiag.workflows",),
    ("gandiag.harness",),
    ("gandiag.cli",),
    ("gandiag", "gandiag.__main__", "gandiag._compat"),
)
#: The face: what may sit at the top level besides the packages.
TOP_LEVEL = {"__init__", "__main__", "_version", "_compat", "api", "errors"}
MAX_LINES = 600


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(PACKAGE.rglob("*.py")):
        parts = p.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = p
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every gandiag module ``name`` imports, at the top or inside functions, resolved to a module."""
    is_pkg = path.name == "__init__.py"
    package = name if is_pkg else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("gandiag"):
                continue
            for alias in node.names:
                child = f"{target}.{alias.name}"
                found.add(child if child in MODULES else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("gandiag"))
    # importing a.b.c runs a/__init__ and a/b/__init__ too, but those are the importer's own concern
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def layer(name: str) -> int:
    best, rank = -1, None
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), i
    assert rank is not None, f"{name} belongs to no layer: add its package to LAYERS"
    return rank


def test_every_module_has_a_layer():
    for name in MODULES:
        layer(name)


def test_imports_only_downward():
    upward = [f"{src} imports {dst} ({LAYERS[layer(dst)][0]} is above {LAYERS[layer(src)][0]})"
              for src, deps in GRAPH.items() for dst in sorted(deps) if layer(dst) > layer(src)]
    assert upward == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        m = stack.pop()
                        on_stack.discard(m)
                        component.append(m)
                        if m == node:
                            break
                    if len(component) > 1:
                        out.append(sorted(component))
    return out


def test_no_import_cycles():
    assert _cycles(GRAPH) == []


def test_cycle_finder_finds_a_cycle():
    # the check above would pass vacuously if the finder never found anything
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_top_level_holds_the_face_only():
    top = {p.stem for p in PACKAGE.glob("*.py")}
    assert top <= TOP_LEVEL, f"move {sorted(top - TOP_LEVEL)} into the package of their stage"
    assert len(top - {"__init__", "__main__"}) <= 6


def test_no_module_over_600_lines():
    long = {name: n for name, path in MODULES.items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


@pytest.mark.parametrize("package", sorted(n for n, p in MODULES.items() if p.name == "__init__.py"))
def test_every_package_says_what_comes_in_and_goes_out(package):
    doc = ast.get_docstring(ast.parse(MODULES[package].read_text(encoding="utf-8")))
    assert doc and len(doc) > 40, f"{package}/__init__.py needs a docstring"


@pytest.mark.parametrize(("old", "new", "attr"), [
    ("gandiag.monitor", "gandiag.live.monitor", "Monitor"),
    ("gandiag.keras", "gandiag.live.keras", "GanDiagnostics"),
    ("gandiag.runlog", "gandiag.live.runlog", "RunLogger"),
    ("gandiag.findings", "gandiag.verdict.diagnosis", "Diagnosis"),
    ("gandiag.calibrate", "gandiag.verdict.fit", "calibrate"),
])
def test_old_import_paths_still_work_with_a_deprecation_warning(old, new, attr):
    import importlib
    import sys

    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    assert getattr(module, attr) is getattr(importlib.import_module(new), attr)
    assert any(issubclass(w.category, DeprecationWarning) and new in str(w.message) for w in caught)
