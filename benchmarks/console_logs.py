"""How gandiag reads console logs people paste into issues, and whether its verdicts agree with the threads.

    python benchmarks/console_logs.py            # the real logs of fixtures/console/real
    python benchmarks/console_logs.py --verbose  # and one line per log

Every log of ``fixtures/console/real/manifest.json`` (copied from a public
GitHub issue or README, with its address and the reason for its label) is
analyzed from its losses. A log is *parsed* when gandiag reads it without an
error. Each expectation the thread clearly supports is then checked:

- ``verdict``: the verdict is that outcome (``judgeable: false`` marks a log
  below the 10 rows a verdict needs: counted apart, as too short to judge);
- ``not_failure``: the thread calls the run normal, so the verdict is not a failure;
- ``not_discriminator_win``: the maintainers call a discriminator loss of 0 normal for
  this loss, so the verdict is not ``non_converged`` with a confidence above 0.5;
- ``family``: the loss family gandiag reports.

It also prints the size of the layout registry (layouts, codebases) and
checks that every layout fixture of ``fixtures/console/layouts`` is read in
its own layout.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "fixtures" / "console" / "real"
LAYOUT_FIXTURES = ROOT / "fixtures" / "console" / "layouts"


def check(expect: dict, verdict: str, confidence: float, family: str) -> list[tuple[str, bool | None]]:
    """``(expectation, agrees)`` for each expectation; ``None`` when the log is too short to judge it."""
    out: list[tuple[str, bool | None]] = []
    if "verdict" in expect:
        agrees = verdict == expect["verdict"]
        out.append((f"verdict {expect['verdict']}", None if not agrees and not expect.get("judgeable", True)
                    else agrees))
    if expect.get("not_failure"):
        out.append(("not a failure", verdict not in ("mode_collapse", "non_converged")))
    if expect.get("not_discriminator_win"):
        out.append(("not a confident discriminator win", not (verdict == "non_converged" and confidence > 0.5)))
    if "family" in expect:
        out.append((f"family {expect['family']}", family == expect["family"]))
    return out


def evaluate(manifest: Path = REAL / "manifest.json") -> list[dict]:
    """One result per log: parsed or the error, the verdict, and each expectation checked."""
    import gandiag
    from gandiag.errors import GandiagError

    entries = json.loads(manifest.read_text())["logs"]
    results = []
    for entry in entries:
        path = manifest.parent / entry["file"]
        row = {"file": entry["file"], "codebase": entry["codebase"], "source": entry["source"]}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # a library warning would reach the user's terminal
                d = gandiag.analyze(str(path), no_samples=True)
        except GandiagError as exc:
            row.update(parsed=False, error=exc.one_line(), checks=[])
        else:
            row.update(parsed=True, verdict=d.verdict.value, confidence=d.confidence, family=d.loss_family,
                       layout=(d.inputs or {}).get("format"), steps=d.n_steps,
                       checks=check(entry.get("expect", {}), d.verdict.value, d.confidence, d.loss_family))
        results.append(row)
    return results


def layout_fixture_results() -> list[tuple[str, str, bool]]:
    """``(fixture, expected layout, read in it)`` for each layout fixture."""
    from gandiag.ingest import read_raw

    manifest = json.loads((LAYOUT_FIXTURES / "manifest.json").read_text())
    out = []
    for entry in manifest["layouts"]:
        raw = read_raw(LAYOUT_FIXTURES / entry["file"], input_format=None)
        out.append((entry["file"], entry["layout"], raw.notes.get("layout") == entry["layout"]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verbose", "-v", action="store_true")
    args = parser.parse_args(argv)
    from gandiag.ingest.layouts import LAYOUTS

    results = evaluate()
    parsed = [r for r in results if r["parsed"]]
    checks = [(r["file"], name, ok) for r in results for name, ok in r["checks"]]
    judged = [c for c in checks if c[2] is not None]
    agree = [c for c in judged if c[2]]
    codebases = {r["codebase"].split(" (")[0] for r in results}
    if args.verbose:
        for r in results:
            what = (f"{r['verdict']:<14} {r['confidence']:.2f}  {r['family']:<6} {r['steps']:>3} rows"
                    if r["parsed"] else f"ERROR {r['error']}")
            marks = "; ".join(f"{n}: {'ok' if ok else 'too short' if ok is None else 'DISAGREES'}"
                              for n, ok in r["checks"])
            print(f"{r['file']:<28} {what}  {marks}")
        print()
    print(f"real console logs: {len(results)} from {len(codebases)} codebases")
    print(f"parsed:            {len(parsed)}/{len(results)} ({100 * len(parsed) / max(1, len(results)):.0f}%)")
    print(f"labelled logs:     {len({c[0] for c in checks})}; expectations checked {len(judged)}, "
          f"agree {len(agree)} ({100 * len(agree) / max(1, len(judged)):.0f}%), "
          f"too short to judge {len(checks) - len(judged)}")
    for file, name, ok in judged:
        if not ok:
            print(f"  disagrees: {file}: {name}")
    layout_codebases = {layout.codebase for layout in LAYOUTS if layout.codebase != "generic"}
    fixtures = layout_fixture_results()
    print(f"layouts:           {len(LAYOUTS)} ({sum(layout.codebase != 'generic' for layout in LAYOUTS)} "
          f"for named codebases, {len(layout_codebases)} distinct codebase entries)")
    print(f"layout fixtures:   {sum(ok for *_, ok in fixtures)}/{len(fixtures)} read in their own layout")
    for file, layout, ok in fixtures:
        if not ok:
            print(f"  not read as {layout}: {file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
