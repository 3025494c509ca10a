"""Early stopping measured: replay recorded runs step by step through the Monitor.

For each run of the manifest's split (losses only, one row at a time, the
default stop policy unless overridden): the step at which the Monitor confirms
a failure, against the oracle's onset, and the share of the run's steps an
early stop would have saved; for runs labelled stable, the false stops
(target: none); and whether the Monitor's final state equals ``gandiag
analyze`` of the whole log (it must, always).

    python benchmarks/monitor_replay.py [--manifest fixtures/corpus/manifest.json] [--split all]
        [--min-steps 100] [--min-fraction 0.1] [--patience 0] [--every 32] [--min-probability 0.7]

Each run is replayed twice, side by side: with the policy given (default: the
Monitor's defaults) and with the same policy but no probability gate
(``min_probability=0``: every confirmed failure verdict stops), so the gate's
effect on early stops and false stops is measured in one run.

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
    gated = Monitor(planned_steps=int(history.steps[-1]), **options)
    ungated = Monitor(planned_steps=int(history.steps[-1]), **{**options, "min_probability": 0.0})
    stop = stop0 = None
    for step, metrics in history_rows(history):
        state = gated.update(step, **metrics)
        state0 = ungated.update(step, **metrics)
        if state.confirmed and stop is None:
            stop = state
        if state0.confirmed and stop0 is None:
            stop0 = state0
    live = gated.evaluate()
    offline = gandiag.analyze(history)
    return {"last": int(history.steps[-1]), "stop": stop, "stop0": stop0, "offline": offline,
            "agree": (live.verdict, live.onset_step) == (offline.verdict, offline.onset_step)}


def summary(name: str, rows: list[tuple[dict, dict, object]]) -> None:
    failing = saved = caught = false_stops = stable = 0
    delays, stopped_saved = [], []
    for run, r, stop in rows:
        last = r["last"]
        share = (last - stop.step) / last if stop else 0.0
        onset = run["onset"] if run["onset"] is not None else r["offline"].onset_step
        if run["label"] in FAILURES:
            failing += 1
            saved += share
            caught += stop is not None
            if stop is not None:
                stopped_saved.append(share)
                if onset is not None:
                    delays.append(stop.step - onset)
        elif run["label"] == "stable":
            stable += 1
            false_stops += stop is not None
    delays.sort()
    med = f"median stop - onset {delays[len(delays) // 2]} steps" if delays else "no stop"
    on_stopped = f", {100 * sum(stopped_saved) / len(stopped_saved):.0f}% on those stopped" if stopped_saved else ""
    print(f"{name:<34} failing runs stopped {caught}/{failing}, compute saved {100 * saved / max(failing, 1):.0f}% "
          f"(all failing runs{on_stopped}); {med}; false stops {false_stops}/{stable} stable runs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, default=None)
    parser.add_argument("--split", default="all", help="all, or a split named in the manifest")
    parser.add_argument("--min-steps", type=int, default=None)
    parser.add_argument("--min-fraction", type=float, default=None)
    parser.add_argument("--patience", type=int, default=None)
    parser.add_argument("--every", type=int, default=None)
    parser.add_argument("--min-probability", type=float, default=None)
    args = parser.parse_args()
    manifest = args.manifest
    if manifest is None:
        manifest = ROOT / "fixtures/corpus/manifest.json"
        if not manifest.exists():
            manifest = ROOT / "fixtures/manifest.json"
    options = {k: v for k, v in (("min_steps", args.min_steps), ("min_fraction", args.min_fraction),
                                 ("patience", args.patience), ("every", args.every),
                                 ("min_probability", args.min_probability)) if v is not None}
    runs, note = load_runs(manifest, args.split)
    print(f"runs: {note}; policy: {options or 'defaults'}")
    print(f"{'run':<34} {'label':<14} {'steps':>6} {'stopped':>8} {'as':<14} {'onset':>6} {'ungated':>8}  offline verdict")
    t0 = time.perf_counter()
    results, disagree = [], 0
    for run in runs:
        r = replay(run, options)
        stop, stop0, last, offline = r["stop"], r["stop0"], r["last"], r["offline"]
        onset = run["onset"] if run["onset"] is not None else offline.onset_step
        print(f"{run['id']:<34} {run['label']!s:<14} {last:>6} {stop.step if stop else '-':>8} "
              f"{stop.verdict.value if stop else '-':<14} {onset if onset is not None else '-':>6} "
              f"{stop0.step if stop0 else '-':>8}  {offline.verdict.value}{'' if r['agree'] else '  (LIVE != OFFLINE)'}")
        disagree += not r["agree"]
        results.append((run, r))
    print()
    gate = options.get("min_probability", "default")
    summary(f"with the probability gate ({gate})", [(run, r, r["stop"]) for run, r in results])
    summary("without it (min_probability 0)", [(run, r, r["stop0"]) for run, r in results])
    print("\nper family (with the gate): failing runs stopped / failing, false stops / stable")
    fams: dict[str, list[int]] = {}
    for run, r in results:
        fam = run["id"].split("-")[0]
        c = fams.setdefault(fam, [0, 0, 0, 0])
        if run["label"] in FAILURES:
            c[0] += r["stop"] is not None
            c[1] += 1
        elif run["label"] == "stable":
            c[2] += r["stop"] is not None
            c[3] += 1
    print("  " + "; ".join(f"{fam} {a}/{b}, {c}/{d}" for fam, (a, b, c, d) in sorted(fams.items())))
    print(f"final live state == gandiag analyze: {len(runs) - disagree}/{len(runs)}")
    print(f"({time.perf_counter() - t0:.1f} s)")

if __name__ == "__main__":
    main()
