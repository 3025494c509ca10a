"""Early stopping measured: replay recorded runs through the Monitor, rows and sample snapshots as they were written.

Each run of the manifest's split is replayed once, row by row, with its
recorded snapshots given to ``Monitor.snapshot`` after the row of their step
(``--no-samples``: losses only). Every state the monitor judges is recorded;
a stop policy (:class:`gandiag.live.monitor.StopGate`) is a function of those
states alone, so any number of policies are then measured on the same replay:

* the default policy (what ``Monitor()`` does), and the same policy without the
  probability gate, side by side;
* per family: failing runs stopped, false stops on stable runs;
* ``--fit``: the policy grid searched for the most failing runs stopped with
  **no** false stop, chosen leave-one-family-out (fit on 14 families, scored on
  the 15th) and in-sample (fit and scored on all: not a generalisation figure);
* the final live state against ``gandiag analyze`` of the whole run (must be equal).

    python benchmarks/monitor_replay.py [--manifest fixtures/corpus/manifest.json] [--split all]
        [--no-samples] [--jobs 2] [--fit] [--traces .cache/monitor_traces.json]

Ground truth: the corpus manifest's ``oracle_label`` (fixtures/corpus).
``--traces`` keeps the recorded states so a second run with ``--fit`` skips
the replay (delete the file after changing the rules or the monitor).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FAILURES = ("mode_collapse", "non_converged")

#: The policy grid of --fit (patience, in rows, stays at its default).
GRID = {
    "min_steps": (100, 250, 500, 1000),
    "min_fraction": (0.2, 0.3, 0.5),
    "snapshot_patience": (2, 3, 4, 6),
    "min_probability": (0.7, 0.9),
    "sample_tests": ((3,), (3, 5), (3, 4, 5)),
}


def load_runs(manifest: Path, split: str, samples: bool) -> tuple[list[dict], str]:
    data = json.loads(manifest.read_text())
    runs, seen = [], set()
    for r in data["runs"]:
        path = (manifest.parent / r["path"]).resolve()
        if path in seen:
            continue  # the same run pinned with and without samples: replayed once
        seen.add(path)
        runs.append({"id": r.get("id", r["path"]).split("/")[0], "path": str(path), "split": r.get("split", "dev"),
                     "family": r.get("family") or r.get("id", r["path"]).split("-")[0],
                     "label": r.get("oracle_label") or r.get("observed_label"), "onset": r.get("oracle_onset_step"),
                     "samples": samples and (path / "samples.npz").is_file()})
    chosen = [r for r in runs if split == "all" or r["split"] == split]
    note = f"{manifest.relative_to(ROOT) if manifest.is_relative_to(ROOT) else manifest}, split {split}"
    if not chosen:
        chosen, note = runs, f"{note} holds no run: all {len(runs)} runs instead"
    return chosen, note


def replay(run: dict) -> dict:
    """Replay one run; returns the judged states (the gate's inputs) and the live/offline comparison."""
    import gandiag
    from gandiag.ingest import read_run
    from gandiag.live.monitor import Monitor, replay
    from gandiag.live.stop import StopGate

    folder = Path(run["path"])
    history = read_run(folder)
    snaps, real = None, None
    if run["samples"]:
        from gandiag.samples.read import read_reference, read_snapshots

        snaps = read_snapshots(folder / "samples.npz", last_step=int(history.steps[-1]))
        real = read_reference(folder / "real.npz") if (folder / "real.npz").is_file() else None
    states: list[tuple] = []

    class Recorder(StopGate):
        def check(self, verdict, rows, step, p_failed=None, decision_path="", snapshots=0):
            states.append((verdict.value, rows, step, p_failed, decision_path, snapshots))
            return super().check(verdict, rows, step, p_failed, decision_path, snapshots)

    monitor = Monitor(planned_steps=int(history.steps[-1]), real=real)
    monitor.gate = Recorder(planned_steps=int(history.steps[-1]))
    t0 = time.perf_counter()
    for _ in replay(monitor, history, snaps):
        pass
    live = monitor.evaluate()
    seconds = time.perf_counter() - t0
    offline = gandiag.analyze(folder, no_samples=not run["samples"])
    return {**run, "last": int(history.steps[-1]), "states": states, "seconds": seconds,
            "live": [live.verdict.value, live.onset_step], "offline": [offline.verdict.value, offline.onset_step],
            "default_stop": monitor.stopped_at}


def stop_step(result: dict, policy: dict) -> int | None:
    """The first step ``policy`` confirms a failure on the recorded states of one run (None: never)."""
    from gandiag.engine.findings import Verdict
    from gandiag.live.stop import StopGate

    gate = StopGate(planned_steps=result["last"], **policy)
    for verdict, rows, step, p_failed, path, snapshots in result["states"]:
        if gate.check(Verdict(verdict), rows, step, p_failed, path, snapshots):
            return step
    return None


def score(results: list[dict], policy: dict, stops: list | None = None) -> dict:
    """Failing runs stopped, false stops, and the share of failing runs' steps saved."""
    caught = failing = false = stable = 0
    saved = 0.0
    delays = []
    for i, r in enumerate(results):
        stop = stops[i] if stops is not None else stop_step(r, policy)
        if r["label"] in FAILURES:
            failing += 1
            if stop is not None:
                caught += 1
                saved += (r["last"] - stop) / r["last"]
                if r["onset"] is not None:
                    delays.append(stop - r["onset"])
        elif r["label"] == "stable":
            stable += 1
            false += stop is not None
    delays.sort()
    return {"caught": caught, "failing": failing, "false": false, "stable": stable,
            "saved": saved / max(failing, 1), "delay": delays[len(delays) // 2] if delays else None}


def line(name: str, s: dict) -> str:
    delay = f"; median stop - onset {s['delay']} steps" if s.get("delay") is not None else ""
    return (f"{name:<44} failing runs stopped {s['caught']:>3}/{s['failing']}, compute saved {100 * s['saved']:4.1f}%; "
            f"false stops {s['false']}/{s['stable']}{delay}")


def policies() -> list[dict]:
    keys = list(GRID)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*(GRID[k] for k in keys))]


def best(results: list[dict], grid: list[dict], stops: list[list]) -> int:
    """Index of the grid's policy with the fewest false stops that stops the most failing runs (then saves the
    most; ties go to the first in grid order)."""
    key_best, chosen = None, 0
    for j, policy in enumerate(grid):
        s = score(results, policy, stops[j])
        key = (-s["false"], s["caught"], round(s["saved"], 4))
        if key_best is None or key > key_best:
            key_best, chosen = key, j
    return chosen


def fit(results: list[dict]) -> None:
    grid = policies()
    stops = [[stop_step(r, policy) for r in results] for policy in grid]  # every policy on every run, once
    families = sorted({r["family"] for r in results})
    print(f"\n--fit: grid {GRID}; objective: fewest false stops, then the most failing runs stopped")
    totals = {"caught": 0, "failing": 0, "false": 0, "stable": 0, "saved_sum": 0.0}
    print("leave-one-family-out (the policy chosen on the other families, scored on the held-out one):")
    for fam in families:
        inside = [i for i, r in enumerate(results) if r["family"] != fam]
        held = [i for i, r in enumerate(results) if r["family"] == fam]
        j = best([results[i] for i in inside], grid, [[st[i] for i in inside] for st in stops])
        s = score([results[i] for i in held], grid[j], [stops[j][i] for i in held])
        for k in ("caught", "failing", "false", "stable"):
            totals[k] += s[k]
        totals["saved_sum"] += s["saved"] * s["failing"]
        print(f"  {fam:<9} policy {grid[j]}: stopped {s['caught']}/{s['failing']}, false stops {s['false']}/{s['stable']}")
    print(line("LOFO total", {**totals, "saved": totals["saved_sum"] / max(totals["failing"], 1)}))
    j = best(results, grid, stops)
    print(line(f"in-sample best {grid[j]}", score(results, grid[j], stops[j])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, default=ROOT / "fixtures/corpus/manifest.json")
    parser.add_argument("--split", default="all", help="all, or a split named in the manifest")
    parser.add_argument("--no-samples", action="store_true", help="replay losses only (no snapshots)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--fit", action="store_true", help="search the policy grid, leave-one-family-out")
    parser.add_argument("--traces", type=Path, default=None, help="keep / reuse the recorded states (JSON)")
    args = parser.parse_args()
    runs, note = load_runs(args.manifest, args.split, samples=not args.no_samples)
    t0 = time.perf_counter()
    if args.traces is not None and args.traces.is_file():
        results = json.loads(args.traces.read_text())
        print(f"runs: {note}; states read from {args.traces}")
    else:
        from multiprocessing import get_context

        with get_context("fork").Pool(args.jobs) as pool:
            results = pool.map(replay, runs, chunksize=4)
        if args.traces is not None:
            args.traces.parent.mkdir(parents=True, exist_ok=True)
            args.traces.write_text(json.dumps(results))
        print(f"runs: {note}; {'losses only' if args.no_samples else 'rows and snapshots'}; "
              f"replayed in {time.perf_counter() - t0:.0f} s with {args.jobs} processes "
              f"({sum(r['seconds'] for r in results) / len(results):.2f} s of monitoring per run)")
    default: dict = {}  # StopGate's own defaults: what Monitor() does
    mismatched = [r["id"] for r in results if stop_step(r, default) != r["default_stop"]]
    if mismatched:  # the states were recorded under other defaults (an old --traces file): say so, go on
        print(f"note: {len(mismatched)} runs' recorded stop differs from the replayed default policy: the states "
              f"file predates the current defaults (delete it to re-record)")
    print()
    print(line("default policy", score(results, default)))
    print(line("default policy without the probability gate", score(results, {**default, "min_probability": 0.0})))
    print("\nper family (default policy): failing runs stopped / failing, false stops / stable")
    parts = []
    for fam in sorted({r["family"] for r in results}):
        s = score([r for r in results if r["family"] == fam], default)
        parts.append(f"{fam} {s['caught']}/{s['failing']}, {s['false']}/{s['stable']}")
    print("  " + "; ".join(parts))
    false_ids = [r["id"] for r in results if r["label"] == "stable" and stop_step(r, default) is not None]
    if false_ids:
        print("  false stops: " + ", ".join(false_ids))
    agree = sum(r["live"] == r["offline"] for r in results)
    print(f"final live state == gandiag analyze (verdict, onset): {agree}/{len(results)}")
    if args.fit:
        fit(results)
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
