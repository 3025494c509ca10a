"""Record and label runs of the tutorial port (examples/tutorial) for fixtures/tutorial.

    python -m corpus.tutorial record --seeds 0 1 2   # train 3 experiments x seeds (about 2 min each on 2 cores)
    python -m corpus.tutorial label                  # oracle labels -> fixtures/tutorial/manifest.json

A run is stored as the port writes it: ``<experiment>.log`` and
``results_<experiment>/generated_plot_NNN.png`` (the loss plot is dropped to
save space; tests add their own). The oracle labels a run from what the
tutorial's user has and from the known eights: test 2 of the definition on the
printed losses and accuracies, the other tests on the 100 tiles of each grid
(``corpus/oracle.py``, data family ``digits8``). The names of the experiments
are not labels: the oracle judges what each run shows (since the port runs the
tutorial's BatchNormalization as Keras 2 did, it shows the intended behaviour).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "fixtures" / "tutorial"
PORT = ROOT / "examples" / "tutorial" / "tutorial_gan.py"
EXPERIMENTS = ("stable", "collapse", "convergence")


def record(seeds: list[int], experiments: tuple[str, ...] = EXPERIMENTS) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        for exp in experiments:
            dst = OUT / f"{exp}-s{seed}"
            if (dst / f"{exp}.log").is_file():
                continue
            with tempfile.TemporaryDirectory() as tmp:
                with open(Path(tmp) / f"{exp}.log", "w") as log:
                    subprocess.run([sys.executable, str(PORT), exp, "--seed", str(seed)], cwd=tmp, stdout=log,
                                   check=True)
                store(Path(tmp), exp, dst)
            print(f"recorded {dst}", flush=True)


def store(src: Path, exp: str, dst: Path) -> None:
    """Copy a port run (its log, its grids, the real eights once) into the fixtures."""
    (dst / f"results_{exp}").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src / f"{exp}.log", dst / f"{exp}.log")
    for png in sorted((src / f"results_{exp}").glob("generated_plot_*.png")):
        shutil.copyfile(png, dst / f"results_{exp}" / png.name)
    real = src / f"results_{exp}" / "real.npy"
    if real.is_file() and not (OUT / "real.npy").is_file():
        shutil.copyfile(real, OUT / "real.npy")


def label_one(folder: Path, exp: str) -> dict:
    import pandas as pd

    from corpus.oracle import NONCONV, label_snapshots, loss_tests
    from gandiag.ingest import read_run
    from gandiag.samples.grids import read_grid_png

    h = read_run(folder / f"{exp}.log")
    frame = pd.DataFrame({"step": h.steps, **{k: v for k, v in h.series.items()}})
    snaps = {int(re.search(r"(\d+)", p.stem).group(1)): read_grid_png(p, (10, 10), tile_shape=(8, 8))
             for p in sorted((folder / f"results_{exp}").glob("generated_plot_*.png"))}
    sampled = label_snapshots({s: np.asarray(x) for s, x in snaps.items()}, "digits8", int(h.steps[-1]))
    early = loss_tests(frame, "bce")
    if early is not None:
        return {"oracle_label": NONCONV, "oracle_test": early[0], "oracle_onset_step": early[1],
                "samples_alone": sampled.label}
    return {"oracle_label": sampled.label, "oracle_test": sampled.test, "oracle_onset_step": sampled.onset_step,
            "oracle_metrics": sampled.final_metrics}


def label() -> None:
    runs = []
    for folder in sorted(p for p in OUT.glob("*-s*") if p.is_dir()):
        exp, seed = folder.name.rsplit("-s", 1)
        runs.append({"id": folder.name, "experiment": exp, "seed": int(seed), **label_one(folder, exp)})
        print(runs[-1], flush=True)
    doc = {"about": "oracle labels of the tutorial port's recorded runs (python -m corpus.tutorial label)",
           "runs": runs}
    (OUT / "manifest.json").write_text(json.dumps(doc, indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("phase", choices=["record", "label"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    if args.phase == "record":
        record(args.seeds)
    else:
        label()


if __name__ == "__main__":
    main()
