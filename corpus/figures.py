"""Figures to check the oracle by eye: final snapshots of corpus runs, grouped by the oracle's label.

    python -m corpus.figures [--corpus fixtures/corpus] [--out fixtures/corpus/figures]

One PNG per data family: for each label, up to ``--per-label`` runs, each
panel titled with the run, the label, the test of the outcome definition that
decided it and the measurements behind it. 2D panels draw the real data in
grey (and, for mixtures, the oracle's closeness radius around each mode
centre); image panels show the first 36 samples; vectors of more dimensions
are drawn on their first two principal axes of the real data.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

LABELS = ("stable", "mode_collapse", "non_converged")


def _panel_points(ax, samples, real, dataset):
    from matplotlib.patches import Circle

    from corpus import oracle

    samples, real = samples.reshape(len(samples), -1), real.reshape(len(real), -1)
    if real.shape[1] > 2:  # first two principal axes of the real data
        mean = real.mean(0)
        _, _, vt = np.linalg.svd(real - mean, full_matrices=False)
        real, samples = (real - mean) @ vt[:2].T, (samples - mean) @ vt[:2].T
    ax.scatter(real[:, 0], real[:, 1], s=2, c="0.8", label="real")
    ax.scatter(samples[:, 0], samples[:, 1], s=3, c="tab:red", alpha=0.6, label="generated")
    t = oracle.truth(dataset)
    if t.kind == "mixture" and real.shape[1] == 2 and samples.shape[1] == 2:
        from gandiag.data.datasets import POINT_SPECS

        for c in POINT_SPECS[dataset].centres:
            ax.add_patch(Circle(c, t.tolerance, fill=False, lw=0.6, color="tab:blue"))
    lim = 1.2 if real.shape[1] == 2 else float(np.abs(real).max()) * 1.2
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def _panel_images(ax, samples):
    side = samples.shape[1]
    grid = np.ones((6 * (side + 1), 6 * (side + 1)))
    for i in range(min(36, len(samples))):
        r, c = divmod(i, 6)
        grid[r * (side + 1):r * (side + 1) + side, c * (side + 1):c * (side + 1) + side] = samples[i, ..., 0]
    ax.imshow(grid, cmap="gray_r", vmin=-1, vmax=1)
    ax.axis("off")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=ROOT / "fixtures" / "corpus")
    parser.add_argument("--out", type=Path, default=ROOT / "fixtures" / "corpus" / "figures")
    parser.add_argument("--per-label", type=int, default=4)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from corpus.oracle import read_run_snapshots

    doc = json.loads((args.corpus / "manifest.json").read_text())
    runs = {}
    for r in doc["runs"]:
        if r["options"].get("no_samples"):
            continue
        runs.setdefault(r["family"], []).append(r)
    args.out.mkdir(parents=True, exist_ok=True)
    for dataset, entries in sorted(runs.items()):
        entries.sort(key=lambda r: r["id"])
        n = args.per_label
        fig, axes = plt.subplots(len(LABELS), n, figsize=(2.6 * n, 2.9 * len(LABELS)), squeeze=False)
        for row, label in enumerate(LABELS):
            chosen = [r for r in entries if r["oracle_label"] == label][:n]
            for col in range(n):
                ax = axes[row, col]
                if col >= len(chosen):
                    ax.axis("off")
                    continue
                r = chosen[col]
                folder = args.corpus / r["path"]
                _, snaps, _ = read_run_snapshots(folder)
                last = snaps[max(snaps)].astype(np.float32)
                if last.ndim == 2:
                    with np.load(folder / "real.npz") as z:
                        real = z["real"].astype(np.float32)
                    _panel_points(ax, last, real, dataset)
                else:
                    _panel_images(ax, last)
                m = r["oracle_metrics"]
                facts = ", ".join(f"{k[:5]} {m[k]:.2f}" for k in ("quality", "covered", "spread") if k in m)
                ax.set_title(f"{r['path'].split('/')[-1]}\n{label} (test {r.get('oracle_test')}): {facts}", fontsize=7)
        fig.suptitle(f"{dataset}: final snapshot of runs by oracle label (rows: {', '.join(LABELS)})", fontsize=9)
        fig.tight_layout()
        path = args.out / f"{dataset}.png"
        fig.savefig(path, dpi=72)
        plt.close(fig)
        print(path)


if __name__ == "__main__":
    main()
