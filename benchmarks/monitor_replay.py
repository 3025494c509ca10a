"""Early stopping measured: replay recorded runs step by step through the Monitor.

For each run of the manifest's split (losses only, one row at a time, the
default stop policy unless overridden): the step at which the Monitor confirms
a failure, against the oracle's onset, and the share of the run's steps an
early stop would have saved; for runs labelled stable, the false stops
(target: none); and whether the Monitor's final state equals ``gandiag
analyze`` of the whole log (it must, always).

    python benchmarks/monitor_replay.py [--manifest fixtures/corpus/manifest.json] [--split test]
        [--min-steps 100] [--min-fraction 0.1] [--patience 0] [--every 32]

The ground-truth corpus (fixtures/corpus/manifest.json, per-run ``oracle_label``
and ``oracle_onset_step``) is used when it exists; otherwise the recorded
fixtures (fixtures/manifest.json), all splits if the requested one is empty
there (the recorded fixtures are all ``dev``: the rules were tuned on them).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FAILURES = ("mode_collapse", "non_converged")


def load_runs(manifest: Path, split: str) -> tuple[list[dict], str]:
    data = json.loads(manifest.read_text())
    runs, seen = [], set()
    for r in data["runs"]:
        path = (manifest.parent / r["path"]).resolve()
        if path in seen:
            continue  # the same run pinned with and without samples: the monitor reads losses only
        seen.add(path)
        runs.append({"id": r.get("id", r["path"]).split("/")[0], "path": path, "split": r.get("split", "dev"),
                     "label": r.get("oracle_label") or r.get("observed_label"), "onset": r.get("oracle_onset_step")})
    chosen = [r for r in runs if split == "all" or r["split"] == split]
    note = f"{manifest.relative_to(ROOT) if manifest.is_relative_to(ROOT) else manifest}, split {split}"
    if not chosen:
        chosen, note = runs, f"{note} holds no run: all {len(runs)} runs instead"
    return chosen, note


def replay(run: dict, options: dict) -> dict:
    import gandiag
    from gandiag.ingest import read_run
    from gandiag.monitor import Monitor, history_rows

    history = read_run(run["path"])
    monitor = Monitor(planned_steps=int(history.steps[-1]), **options)
    stop = None
    for step, metrics in history_rows(history):
        state = monitor.update(step, **metrics)
        if state.confirmed and stop is None:
            stop = state
    live = monitor.evaluate()
    offline = gandiag.analyze(history)
    return {"last": int(history.steps[-1]), "stop": stop, "offline": offline,
            "agree": (live.verdict, live.onset_step) == (offline.verdict, offline.onset_step)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, default=None)
    parser.add_argument("--split", default="test", help="test, dev or all")
    parser.add_argument("--min-steps", type=int, default=None)
    parser.add_argument("--min-fraction", type=float, default=None)
    parser.add_argument("--patience", type=int, default=None)
    parser.add_argument("--every", type=int, default=None)
    args = parser.parse_args()
    manifest = args.manifest
    if manifest is None:
        manifest = ROOT / "fixtures/corpus/manifest.json"
        if not manifest.exists():
            manifest = ROOT / "fixtures/manifest.json"
    options = {k: v for k, v in (("min_steps", args.min_steps), ("min_fraction", args.min_fraction),
                                 ("patience", args.patience), ("every", args.every)) if v is not None}
    runs, note = load_runs(manifest, args.split)
    print(f"runs: {note}; policy: {options or 'defaults'}")
    print(f"{'run':<34} {'label':<14} {'steps':>6} {'stopped':>8} {'as':<14} {'onset':>6} {'saved':>6}  offline verdict")
    t0 = time.perf_counter()
    failing = saved = caught = false_stops = stable = disagree = 0
    delays = []
    for run in runs:
        r = replay(run, options)
        stop, last, offline = r["stop"], r["last"], r["offline"]
        share = (last - stop.step) / last if stop else 0.0
        onset = run["onset"] if run["onset"] is not None else offline.onset_step
        print(f"{run['id']:<34} {run['label']!s:<14} {last:>6} {stop.step if stop else '-':>8} "
              f"{stop.verdict.value if stop else '-':<14} {onset if onset is not None else '-':>6} {100 * share:>5.0f}%  "
              f"{offline.verdict.value}{'' if r['agree'] else '  (LIVE != OFFLINE)'}")
        disagree += not r["agree"]
        if run["label"] in FAILURES:
            failing += 1
            saved += share
            caught += stop is not None
            if stop is not None and onset is not None:
                delays.append(stop.step - onset)
        elif run["label"] == "stable":
            stable += 1
            false_stops += stop is not None
    print()
    if failing:
        print(f"failing runs: {caught}/{failing} stopped early; compute saved {100 * saved / failing:.0f}% of their "
              f"steps on average (unstopped runs count 0%)")
    if delays:
        delays.sort()
        print(f"stop step - onset step: median {delays[len(delays) // 2]}, range {delays[0]}..{delays[-1]} steps")
    print(f"stable runs: {false_stops} false stop(s) out of {stable} (target: none)")
    print(f"final live state == gandiag analyze: {len(runs) - disagree}/{len(runs)}")
    print(f"({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
