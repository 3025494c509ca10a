"""Regenerate the ground-truth corpus in ``fixtures/corpus/`` from scratch.

    python -m corpus.make train [--jobs 2] [--only TEXT]   # train every run of the grid (skips finished ones)
    python -m corpus.make compact                          # copy them, compacted, into fixtures/corpus/runs/
    python -m corpus.make label                            # label each run with the oracle -> manifest.json
    python -m corpus.make pin                              # record the analyzer's output as expected_verdict
    python -m corpus.make all                              # the four in order
    python -m corpus.make list                             # print the grid
    python -m corpus.make label-fixtures                   # oracle labels for fixtures/manifest.json

Raw runs go to ``.corpus-work/`` (ignored by git). Training is deterministic
on one machine (TensorFlow's op determinism, seeded numpy streams); another
CPU or TensorFlow build may train slightly differently. The grid is
documented in ``fixtures/corpus/README.md``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".corpus-work"
CORPUS = ROOT / "fixtures" / "corpus"

#: samples kept per image snapshot, and the grid they are rounded to (the digits' own 17 grey levels)
IMAGE_SAMPLES_KEPT = 200
VECTOR_SAMPLES_KEPT = 300  # samples kept per snapshot of data in more than two dimensions (cancer, mix8d)
IMAGE_QUANTUM = 1 / 8
#: real images kept in real.npz (2D and vector runs keep the harness's 1,000 points)
IMAGE_REAL_KEPT = 500
SNAPSHOTS_PER_RUN = 16  # trained
SNAPSHOTS_KEPT = 12  # stored: evenly spaced, the last always kept
HISTORY_DIGITS = 4  # significant digits of the stored history


@dataclass(frozen=True)
class Family:
    """A data family: a dataset with its own oracle check, and its base run length."""

    name: str
    kind: str  # "points" (2D), "vectors" (more dimensions), "images"
    steps: int
    what: str


FAMILIES: tuple[Family, ...] = (
    Family("ring8", "points", 2000, "8 Gaussians on a circle (sigma 0.03)"),
    Family("ring16", "points", 3000, "16 narrow Gaussians on a circle (sigma 0.01, far narrower than the gaps)"),
    Family("grid9", "points", 2000, "3x3 Gaussian grid (sigma 0.04)"),
    Family("grid25", "points", 4000, "5x5 Gaussian grid (sigma 0.025)"),
    Family("blobs3", "points", 1500, "3 wide Gaussians (sigma 0.12) with unequal weights 0.55/0.30/0.15"),
    Family("spiral", "points", 3000, "a two-turn spiral with lateral spread"),
    Family("circle", "points", 2000, "a ring without modes (radius 0.7, noise 0.03)"),
    Family("moons", "points", 2000, "two interleaving half circles"),
    Family("sine", "points", 2000, "a sine band"),
    Family("mix8d", "vectors", 2000, "6 Gaussians in 8 dimensions"),
    Family("cancer", "vectors", 2000, "scikit-learn's breast-cancer table (30 standardised features)"),
    Family("digits", "images", 600, "scikit-learn's 8x8 digits, all classes"),
    Family("digits8", "images", 600, "the 174 eights"),
    Family("digits04", "images", 600, "digits of classes 0-4"),
    Family("digits16", "images", 600, "the digits upsampled to 16x16"),
)
FAMILY = {f.name: f for f in FAMILIES}


@dataclass(frozen=True)
class Variant:
    """One training configuration: a harness experiment plus overrides."""

    name: str
    experiment: str
    overrides: dict[str, Any]
    what: str
    kinds: tuple[str, ...] = ("points", "vectors", "images")
    declared_loss: str | None = None  # what a careful user passes with --loss


VARIANTS: tuple[Variant, ...] = (
    Variant("baseline", "stable", {}, "the tutorial's baseline: Adam(2e-4, 0.5), non-saturating BCE, split D batches"),
    Variant("latent1", "mode_collapse", {}, "latent_dim=1 (the tutorial's mode collapse)"),
    Variant("combined", "convergence_failure", {}, "D on one combined real+fake batch (the tutorial's failure)"),
    Variant("default_adam", "aggressive_adam", {}, "Adam's defaults for both models: lr 1e-3, beta_1 0.9"),
    Variant("high_lr", "stable", {"lr_d": 5e-3, "lr_g": 5e-3}, "Adam lr 5e-3 (beta_1 0.5) for both models"),
    Variant("d_lr_10x", "stable", {"lr_d": 2e-3}, "D's learning rate 10x G's"),
    Variant("g_lr_10x", "stable", {"lr_g": 2e-3}, "G's learning rate 10x D's"),
    Variant("small_g", "stable", {"g_width": 8}, "a generator 8 units / filters wide"),
    Variant("d_steps5", "stable", {"d_steps": 5}, "5 D updates per G update with the BCE loss"),
    Variant("tiny_batch", "stable", {"batch_size": 8}, "batches of 8"),
    Variant("big_batch", "stable", {"batch_size": 256}, "batches of 256"),
    Variant("smooth", "stable", {"label_smoothing": 0.1}, "one-sided label smoothing 0.1"),
    Variant("noisy_labels", "stable", {"label_noise": 0.05}, "5% of D's labels flipped"),
    Variant("rmsprop", "stable", {"optimizer": "rmsprop", "lr_d": 1e-3, "lr_g": 1e-3}, "RMSprop lr 1e-3"),
    Variant("minimax", "stable", {"loss": "minimax"}, "the saturating (minimax) generator loss", declared_loss="bce"),
    Variant("lsgan", "stable", {"loss": "lsgan"}, "least-squares GAN", declared_loss="lsgan"),
    Variant("hinge", "stable", {"loss": "hinge"}, "hinge loss", declared_loss="hinge"),
    Variant("wgan_gp", "wgan_gp", {}, "WGAN with gradient penalty 10, 5 critic steps", declared_loss="wgan"),
    Variant("no_bn", "stable", {"batchnorm": False}, "no BatchNorm", kinds=("images",)),
    Variant("latent2", "stable", {"latent_dim": 2}, "latent_dim=2", kinds=("images", "vectors")),
)
VARIANT = {v.name: v for v in VARIANTS}

#: Seed 0 of every (family, variant); seed 1 of the variants below, with run lengths and logging varied.
SECOND_SEED = ("baseline", "latent1", "default_adam", "high_lr", "minimax", "lsgan", "hinge", "tiny_batch",
               "d_lr_10x", "latent2", "small_g")


@dataclass(frozen=True)
class RunSpec:
    id: str
    family: str
    variant: str
    seed: int
    steps: int
    log_every: int
    snapshot_every: int
    overrides: dict[str, Any] = field(default_factory=dict)


def _pick(run_id: str, choices: tuple, weights: tuple) -> Any:
    """A deterministic choice from the run's name (stable across Python versions, unlike hash())."""
    u = int(hashlib.sha256(run_id.encode()).hexdigest()[:8], 16) / 2**32
    return choices[int(np.searchsorted(np.cumsum(weights) / sum(weights), u, side="right"))]


def grid() -> list[RunSpec]:
    out = []
    for seed in (0, 1):
        for fam in FAMILIES:
            for v in VARIANTS:
                if fam.kind not in v.kinds or (seed == 1 and v.name not in SECOND_SEED):
                    continue
                rid = f"{fam.name}-{v.name}-s{seed}"
                steps = fam.steps
                if seed == 1:  # run lengths from a few hundred to ten thousand steps
                    scale = _pick(rid + "/len", (0.5, 1.0, 2.5, 5.0), (2, 3, 3, 1)) if fam.kind != "images" \
                        else _pick(rid + "/len", (0.5, 1.0, 2.0), (1, 2, 1))
                    steps = int(min(10000, max(300, round(steps * scale, -1))))
                log_every = _pick(rid + "/log", (1, 10, 50), (6, 3, 1.5))
                while steps // log_every < 60 and log_every > 1:  # keep at least 60 logged rows
                    log_every = {50: 10, 10: 1}[log_every]
                snap = max(1, steps // SNAPSHOTS_PER_RUN)
                out.append(RunSpec(rid, fam.name, v.name, seed, steps, log_every, snap, dict(v.overrides)))
    return out


# ---------------------------------------------------------------------------- train


def _train_one(spec: RunSpec) -> tuple[str, str, float]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from gandiag.harness import make_config, train

    out = WORK / spec.id
    meta = out / "meta.json"
    if meta.exists() and json.loads(meta.read_text()).get("status") == "completed":
        return spec.id, "skipped", 0.0
    v = VARIANT[spec.variant]
    cfg = make_config(v.experiment, spec.family, steps=spec.steps, seed=spec.seed, snapshot_every=spec.snapshot_every,
                      log_every=spec.log_every, tags=(f"corpus:{v.name}",), **spec.overrides)
    t0 = time.perf_counter()
    try:
        result = train(cfg, out=out, plots=False, checkpoints=False)
    except Exception as exc:  # one broken configuration must not stop the other runs
        return spec.id, f"FAILED {type(exc).__name__}: {exc}", time.perf_counter() - t0
    return spec.id, result.status, time.perf_counter() - t0


def cmd_train(jobs: int, only: str | None) -> None:
    WORK.mkdir(exist_ok=True)
    todo = [s for s in grid() if not only or only in s.id]
    # longest first, so that two workers finish together
    todo.sort(key=lambda s: -s.steps * (5 if s.variant in ("d_steps5", "wgan_gp") else 1)
              * (3 if FAMILY[s.family].kind == "images" else 1))
    print(f"{len(todo)} runs -> {WORK}", flush=True)
    t0 = time.perf_counter()
    results = map(_train_one, todo) if jobs <= 1 else ProcessPoolExecutor(jobs).map(_train_one, todo)
    for i, (rid, status, secs) in enumerate(results, 1):
        print(f"[{i}/{len(todo)}] {rid}: {status} {secs:.1f} s (total {time.perf_counter() - t0:.0f} s)", flush=True)


# ---------------------------------------------------------------------------- compact


def _compact_history(src: Path, dst: Path) -> None:
    """history.csv -> history.csv.gz with HISTORY_DIGITS significant digits (float32 logs carry about 7)."""
    import pandas as pd

    df = pd.read_csv(src)
    text = df.to_csv(index=False, float_format=f"%.{HISTORY_DIGITS}g")
    dst.write_bytes(gzip.compress(text.encode(), mtime=0))


def _kept_snapshots(keys: list[str]) -> list[str]:
    keys = sorted(keys, key=lambda k: int(k.split("_", 1)[1]))
    if len(keys) <= SNAPSHOTS_KEPT:
        return keys
    idx = np.unique(np.round(np.linspace(0, len(keys) - 1, SNAPSHOTS_KEPT)).astype(int))
    return [keys[i] for i in idx]


def _compact_samples(src: Path, dst: Path, image: bool) -> None:
    """float16, SNAPSHOTS_KEPT snapshots; images keep IMAGE_SAMPLES_KEPT samples rounded to 17 grey levels."""
    with np.load(src) as z:
        arrays = {k: z[k] for k in _kept_snapshots(list(z.files))}
    if image:
        arrays = {k: (np.round(v[:IMAGE_SAMPLES_KEPT].astype(np.float32) / IMAGE_QUANTUM) * IMAGE_QUANTUM)
                  .astype(np.float16) for k, v in arrays.items()}
    else:
        arrays = {k: (v if v.reshape(len(v), -1).shape[1] <= 2 else v[:VECTOR_SAMPLES_KEPT]).astype(np.float16)
                  for k, v in arrays.items()}
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    dst.write_bytes(buf.getvalue())


def _compact_real(src: Path, dst: Path, image: bool) -> None:
    """The reference as trained; images keep a seeded random IMAGE_REAL_KEPT of it."""
    if not image:
        shutil.copyfile(src, dst)
        return
    with np.load(src) as z:
        real = z["real"]
    real = real[np.sort(np.random.default_rng(0).choice(len(real), min(IMAGE_REAL_KEPT, len(real)), replace=False))]
    buf = io.BytesIO()
    np.savez_compressed(buf, real=real)
    dst.write_bytes(buf.getvalue())


def cmd_compact() -> None:
    runs = CORPUS / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    n = 0
    for spec in grid():
        src = WORK / spec.id
        meta_path = src / "meta.json"
        if not meta_path.exists() or json.loads(meta_path.read_text()).get("status") != "completed":
            print(f"{spec.id}: not trained, skipped", file=sys.stderr)
            continue
        image = FAMILY[spec.family].kind == "images"
        dst = runs / spec.id
        dst.mkdir(exist_ok=True)
        _compact_history(src / "history.csv", dst / "history.csv.gz")
        _compact_samples(src / "samples.npz", dst / "samples.npz", image)
        _compact_real(src / "real.npz", dst / "real.npz", image)
        meta = json.loads(meta_path.read_text())
        meta["corpus"] = {"stored_samples_per_snapshot": IMAGE_SAMPLES_KEPT if image else
                          VECTOR_SAMPLES_KEPT if FAMILY[spec.family].kind == "vectors" else None,
                          "stored_snapshots": SNAPSHOTS_KEPT,
                          "stored_real_samples": IMAGE_REAL_KEPT if image else None,
                          "image_quantum": IMAGE_QUANTUM if image else None,
                          "history_significant_digits": HISTORY_DIGITS}
        (dst / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
        n += 1
    size = sum(p.stat().st_size for p in runs.rglob("*") if p.is_file())
    print(f"{n} runs in {runs}, {size / 1e6:.1f} MB")


# ---------------------------------------------------------------------------- label


def _label_one(spec: RunSpec) -> dict[str, Any] | None:
    import warnings

    warnings.simplefilter("ignore")
    from corpus.oracle import label_run

    folder = CORPUS / "runs" / spec.id
    if not (folder / "meta.json").exists():
        return None
    r = label_run(folder)
    return {"label": r.label, "test": r.test, "onset": r.onset_step, "metrics": r.final_metrics, "reason": r.reason}


def cmd_label(jobs: int) -> None:
    manifest_path = CORPUS / "manifest.json"
    old = {}
    if manifest_path.exists():
        old = {r["id"]: r for r in json.loads(manifest_path.read_text())["runs"]}
    specs = grid()
    results = list(map(_label_one, specs) if jobs <= 1 else ProcessPoolExecutor(jobs).map(_label_one, specs))
    entries = []
    for spec, res in zip(specs, results):
        if res is None:
            continue
        v = VARIANT[spec.variant]
        for mode in ("samples", "losses"):
            eid = f"{spec.id}/{mode}"
            prev = old.get(eid, {})
            options: dict[str, Any] = {"no_samples": mode == "losses"}
            if v.declared_loss:
                options["loss"] = v.declared_loss
            entries.append({
                "id": eid, "path": f"runs/{spec.id}", "family": spec.family, "variant": spec.variant,
                "seed": spec.seed, "steps": spec.steps, "log_every": spec.log_every,
                "loss": VARIANT[spec.variant].overrides.get("loss", "wgan" if spec.variant == "wgan_gp" else "bce"),
                "oracle_label": res["label"], "oracle_test": res["test"], "oracle_onset_step": res["onset"],
                "oracle_metrics": res["metrics"],
                "expected_verdict": prev.get("expected_verdict", "stable"),
                "expected_onset_step": prev.get("expected_onset_step"),
                "onset_tolerance": max(20, spec.steps // 20),
                "options": options,
            })
        print(f"{spec.id}: {res['label']} (test {res['test']}, onset {res['onset']})", flush=True)
    manifest = {
        "schema": "gandiag.manifest/1",
        "description": ("The ground-truth corpus: real harness runs over many data families, labelled by the oracle "
                        "(corpus/oracle.py, the outcome definition of docs/outcomes.md applied against the known data), "
                        "with the analyzer's pinned output. See README.md here."),
        "runs": entries,
    }
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    summary: dict[str, dict[str, int]] = {}
    for e in entries:
        if e["options"]["no_samples"]:
            summary.setdefault(e["family"], {}).setdefault(e["oracle_label"], 0)
            summary[e["family"]][e["oracle_label"]] += 1
    for fam, counts in summary.items():
        print(fam, counts)


def cmd_label_fixtures() -> None:
    """Oracle labels for the hand-described runs of fixtures/manifest.json (kept beside observed_label)."""
    from corpus.oracle import label_run

    path = ROOT / "fixtures" / "manifest.json"
    doc = json.loads(path.read_text())
    cache: dict[str, Any] = {}
    for run in doc["runs"]:
        folder = path.parent / run["path"]
        if not (folder / "samples.npz").exists():
            continue
        if run["path"] not in cache:
            cache[run["path"]] = label_run(folder)
        result = cache[run["path"]]
        run["oracle_label"] = result.label
        run["oracle_test"] = result.test
        run["oracle_onset_step"] = result.onset_step
    path.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"oracle labels written to {path}")


def cmd_pin() -> None:
    from gandiag.workflows.verify import load_manifest, update_manifest, verify

    path = CORPUS / "manifest.json"
    doc, entries = load_manifest(path)
    update_manifest(path, doc, verify(entries))
    print(f"pinned the analyzer's output in {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("phase", choices=["train", "compact", "label", "pin", "all", "list", "label-fixtures"])
    parser.add_argument("--jobs", type=int, default=1, help="processes (default 1)")
    parser.add_argument("--only", help="train only runs whose id contains this text")
    args = parser.parse_args(argv)
    if args.phase == "list":
        for s in grid():
            print(s.id, s.steps, s.log_every, s.snapshot_every)
        print(len(grid()), "runs")
    if args.phase in ("train", "all"):
        cmd_train(args.jobs, args.only)
    if args.phase in ("compact", "all"):
        cmd_compact()
    if args.phase in ("label", "all"):
        cmd_label(args.jobs)
    if args.phase in ("pin", "all"):
        cmd_pin()
    if args.phase == "label-fixtures":
        cmd_label_fixtures()


if __name__ == "__main__":
    main()
