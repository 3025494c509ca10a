"""Render a recorded training history into each printed layout, as the scripts print it.

Test helper. A history is a dict of float arrays keyed by canonical role
(``step`` 1-based, ``d_loss_real`` ...), as the harness writes
``fixtures/runs/<name>/history.csv``. Each renderer returns the text the
original script would have printed for that history, and the rows it
printed (so tests know which steps to expect and at what precision).

The format strings are those of the scripts named in each docstring.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def runs_dir() -> Path:
    return Path(os.environ.get("GANDIAG_RUNS_DIR", ROOT / "fixtures" / "runs"))


def load_history(path: Path) -> dict[str, np.ndarray]:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        return {}
    out = {}
    for key in rows[0]:
        col = []
        for row in rows:
            text = (row.get(key) or "").strip()
            try:
                col.append(float(text) if text not in ("", "NA") else np.nan)
            except ValueError:
                col.append(np.nan)
        out[key] = np.asarray(col)
    if "step" not in out:
        out["step"] = np.arange(1, len(rows) + 1, dtype=float)
    return out


def real_runs() -> dict[str, dict[str, np.ndarray]]:
    """The recorded harness runs (``fixtures/runs/*/history.csv``), by name."""
    found = {}
    for path in sorted(runs_dir().glob("*/history.csv")):
        h = load_history(path)
        if h and len(h["step"]) >= 10:
            found[path.parent.name] = h
    return found


NO_RUNS_REASON = ("no recorded harness runs in fixtures/runs/*/history.csv yet "
                  "(the TensorFlow harness writes them; set GANDIAG_RUNS_DIR to use others)")


def split(h: dict[str, np.ndarray]) -> bool:
    """Whether the run logged the real and fake discriminator terms separately."""
    return "d_loss_real" in h and np.isfinite(h["d_loss_real"]).any()


def d_loss(h) -> np.ndarray:
    """Combined discriminator loss as the mean of the two terms (or as logged)."""
    return (h["d_loss_real"] + h["d_loss_fake"]) / 2 if split(h) else h["d_loss"]


def d_acc(h) -> np.ndarray:
    if "d_acc_real" in h and np.isfinite(h["d_acc_real"]).any():
        return (h["d_acc_real"] + h["d_acc_fake"]) / 2
    return h.get("d_acc", np.full(len(h["step"]), np.nan))


def _get(h, key):
    return h.get(key, np.full(len(h["step"]), np.nan))


@dataclass(frozen=True)
class Rendered:
    text: str
    steps: np.ndarray  # gandiag steps of the printed rows, in order
    expected: dict[str, np.ndarray]  # canonical role -> value as the reader should return it (after build_history)
    precision: float  # half of the last printed digit of the coarsest value


def _nan_fmt(fmt: str, value: float) -> str:
    return fmt % value


def tutorial(h) -> Rendered:
    """``>%d, d1=%.3f, d2=%.3f g=%.3f, a1=%d, a2=%d`` (split) or ``>%d, d=%.3f, g=%.3f, a=%d``."""
    lines = []
    steps = h["step"].astype(int)
    if split(h):
        for i, s in enumerate(steps):
            lines.append(">%d, d1=%.3f, d2=%.3f g=%.3f, a1=%d, a2=%d" % (
                s, h["d_loss_real"][i], h["d_loss_fake"][i], h["g_loss"][i],
                int(100 * h["d_acc_real"][i]), int(100 * h["d_acc_fake"][i])))
        exp = {"d_loss_real": h["d_loss_real"], "d_loss_fake": h["d_loss_fake"], "g_loss": h["g_loss"],
               "d_acc_real": np.floor(100 * h["d_acc_real"]) / 100, "d_acc_fake": np.floor(100 * h["d_acc_fake"]) / 100}
    else:
        for i, s in enumerate(steps):
            lines.append(">%d, d=%.3f, g=%.3f, a=%d" % (s, h["d_loss"][i], h["g_loss"][i], int(100 * h["d_acc"][i])))
        exp = {"d_loss": h["d_loss"], "g_loss": h["g_loss"], "d_acc": np.floor(100 * h["d_acc"]) / 100}
    return Rendered("\n".join(lines) + "\n", steps, exp, 0.0005)


def tutorial_epoch_batch(h, batches: int) -> Rendered:
    """``>%d, %d/%d, d1=%.3f, d2=%.3f g=%.3f`` (epoch i+1, batch j+1, bat_per_epo)."""
    lines = []
    steps = h["step"].astype(int)
    d1, d2 = h["d_loss_real"], h["d_loss_fake"]
    for i, s in enumerate(steps):
        lines.append(">%d, %d/%d, d1=%.3f, d2=%.3f g=%.3f" % ((s - 1) // batches + 1, (s - 1) % batches + 1, batches,
                                                            d1[i], d2[i], h["g_loss"][i]))
    return Rendered("\n".join(lines) + "\n", steps, {"d_loss_real": d1, "d_loss_fake": d2, "g_loss": h["g_loss"]},
                    0.0005)


def pytorch_dcgan(h, batches: int, every: int = 1) -> Rendered:
    """PyTorch examples dcgan/main.py: ``'[%d/%d][%d/%d]\\tLoss_D: %.4f\\tLoss_G: %.4f\\tD(x): %.4f\\tD(G(z)): %.4f / %.4f'``.

    ``Loss_D`` is errD_real + errD_fake; the second ``D(G(z))`` (after the
    generator update) is rendered as the next step's value.
    """
    steps = h["step"].astype(int)
    n_epochs = int((steps[-1] - 1) // batches + 1)
    errd = h["d_loss_real"] + h["d_loss_fake"] if split(h) else 2 * h["d_loss"]
    dx, dgz = _get(h, "d_real_prob"), _get(h, "d_fake_prob")
    dgz2 = np.append(dgz[1:], dgz[-1:])
    lines, kept = [], []
    for i, s in enumerate(steps):
        epoch, batch = (s - 1) // batches, (s - 1) % batches
        if batch % every:
            continue
        kept.append(i)
        lines.append("[%d/%d][%d/%d]\tLoss_D: %.4f\tLoss_G: %.4f\tD(x): %.4f\tD(G(z)): %.4f / %.4f" % (
            epoch, n_epochs, batch, batches, errd[i], h["g_loss"][i], dx[i], dgz[i], dgz2[i]))
    k = np.array(kept)
    return Rendered("\n".join(lines) + "\n", steps[k], {"d_loss": errd[k], "g_loss": h["g_loss"][k],
                                                        "d_real_prob": dx[k], "d_fake_prob": dgz[k]}, 0.00005)


def pytorch_gan(h, batches: int, extra: bool = False) -> Rendered:
    """PyTorch-GAN: ``"[Epoch %d/%d] [Batch %d/%d] [D loss: %f] [G loss: %f]"`` (D loss = (real + fake) / 2)."""
    steps = h["step"].astype(int)
    n_epochs = int((steps[-1] - 1) // batches + 1)
    d = d_loss(h)
    lines = []
    for i, s in enumerate(steps):
        line = "[Epoch %d/%d] [Batch %d/%d] [D loss: %f] [G loss: %f]" % (
            (s - 1) // batches, n_epochs, (s - 1) % batches, batches, d[i], h["g_loss"][i])
        if extra:
            line += " [Recon loss: %f] [KL: %f]" % (abs(h["g_loss"][i] - d[i]), 0.01 * s)
        lines.append(line)
    return Rendered("\n".join(lines) + "\n", steps, {"d_loss": d, "g_loss": h["g_loss"]}, 0.0000005)


def keras_gan(h, wgan: bool = False) -> Rendered:
    """Keras-GAN: ``"%d [D loss: %f, acc.: %.2f%%] [G loss: %f]" % (epoch, ...)``, epoch counted from 0.

    The WGAN variant prints ``"%d [D loss: %f] [G loss: %f]"``; here the
    losses are shifted by -1 so that they are negative, as critics' are.
    """
    steps = h["step"].astype(int)
    d, acc, g = d_loss(h), d_acc(h), h["g_loss"]
    lines = []
    if wgan:
        d, g = d - 1.0, g - 1.0
        for i, s in enumerate(steps):
            lines.append("%d [D loss: %f] [G loss: %f]" % (s - 1, d[i], g[i]))
        return Rendered("\n".join(lines) + "\n", steps, {"d_loss": d, "g_loss": g}, 0.0000005)
    for i, s in enumerate(steps):
        lines.append("%d [D loss: %f, acc.: %.2f%%] [G loss: %f]" % (s - 1, d[i], 100 * acc[i], g[i]))
    return Rendered("\n".join(lines) + "\n", steps, {"d_loss": d, "g_loss": g, "d_acc": acc}, 0.00005)


def epoch_step(h, batches: int) -> Rendered:
    """pytorch-tutorial (yunjey): ``'Epoch [{}/{}], Step [{}/{}], d_loss: {:.4f}, g_loss: {:.4f}, D(x): {:.2f}, D(G(z)): {:.2f}'``.

    ``d_loss`` is d_loss_real + d_loss_fake; epoch from 0, step i+1.
    """
    steps = h["step"].astype(int)
    n_epochs = int((steps[-1] - 1) // batches + 1)
    d = 2 * d_loss(h)
    dx, dgz = _get(h, "d_real_prob"), _get(h, "d_fake_prob")
    lines = ["Epoch [{}/{}], Step [{}/{}], d_loss: {:.4f}, g_loss: {:.4f}, D(x): {:.2f}, D(G(z)): {:.2f}".format(
        (s - 1) // batches, n_epochs, (s - 1) % batches + 1, batches, d[i], h["g_loss"][i], dx[i], dgz[i])
        for i, s in enumerate(steps)]
    return Rendered("\n".join(lines) + "\n", steps, {"d_loss": d, "g_loss": h["g_loss"], "d_real_prob": dx,
                                                     "d_fake_prob": dgz}, 0.005)


def per_epoch(h, batches: int) -> Rendered:
    """``'Epoch [{}/{}], d_loss: {:.4f}, g_loss: {:.4f}, D(x): {:.2f}, D(G(z)): {:.2f}'`` once per epoch (epoch+1), last batch's values."""
    steps = h["step"].astype(int)
    n_epochs = int((steps[-1] - 1) // batches + 1)
    d = 2 * d_loss(h)
    dx, dgz = _get(h, "d_real_prob"), _get(h, "d_fake_prob")
    lines, kept, epochs = [], [], []
    for i, s in enumerate(steps):
        if s % batches == 0 or i == len(steps) - 1 and s % batches:
            e = (s - 1) // batches
            kept.append(i)
            epochs.append(e + 1)
            lines.append("Epoch [{}/{}], d_loss: {:.4f}, g_loss: {:.4f}, D(x): {:.2f}, D(G(z)): {:.2f}".format(
                e + 1, n_epochs, d[i], h["g_loss"][i], dx[i], dgz[i]))
    k = np.array(kept)
    return Rendered("\n".join(lines) + "\n", np.array(epochs), {"d_loss": d[k], "g_loss": h["g_loss"][k],
                                                                "d_real_prob": dx[k], "d_fake_prob": dgz[k]}, 0.005)


def epoch_step_labelled(h, batches: int) -> Rendered:
    """``f"Epoch {epoch}, Step{step}, d_loss: {d:.4f}, g_loss: {g:.4f}"`` (1-based epoch, global step)."""
    steps = h["step"].astype(int)
    d = d_loss(h)
    lines = [f"Epoch {(s - 1) // batches + 1}, Step{s}, d_loss: {d[i]:.4f}, g_loss: {h['g_loss'][i]:.4f}"
             for i, s in enumerate(steps)]
    return Rendered("\n".join(lines) + "\n", steps, {"d_loss": d, "g_loss": h["g_loss"]}, 0.00005)


def logging_info(h) -> Rendered:
    """``logging.info("Generator loss: %.4f, Discriminator loss: %.4f", g, d)`` under ``basicConfig(level=INFO)``.

    Only reproduces the run when every step was printed: the log has no step.
    """
    d = d_loss(h)
    lines = ["INFO:root:Generator loss: %.4f, Discriminator loss: %.4f" % (h["g_loss"][i], d[i])
             for i in range(len(h["step"]))]
    return Rendered("\n".join(lines) + "\n", np.arange(1, len(lines) + 1), {"d_loss": d, "g_loss": h["g_loss"]},
                    0.00005)


def _keras_value(avg: float) -> str:
    return f" {avg:.4f}" if abs(avg) > 1e-3 else f" {avg:.4e}"


def keras_fit(h, batches: int) -> Rendered:
    """Keras 3 ``Model.fit(verbose=1)`` of a custom GAN ``train_step`` (keras/src/utils/progbar.py).

    Each epoch: ``Epoch e/E`` then progress updates rewritten with backspaces
    and ``\\r``, ANSI bold/colour codes, ``- d_loss: %.4f - g_loss: %.4f``
    (running means over the epoch), and a final update ending with a newline.
    """
    steps = h["step"].astype(int)
    n_epochs = int((steps[-1] - 1) // batches + 1)
    d, g = d_loss(h), h["g_loss"]
    out, exp_d, exp_g, epochs = [], [], [], []
    width = 20
    digits = len(str(batches))
    for e in range(n_epochs):
        idx = np.where((steps - 1) // batches == e)[0]
        if idx.size == 0:
            continue
        out.append(f"Epoch {e + 1}/{n_epochs}\n")
        prev = 0
        shown = [k for k in range(1, idx.size + 1) if k % max(1, idx.size // 4) == 0 or k == idx.size]
        for k in shown:
            cur = int((steps[idx[k - 1]] - 1) % batches + 1)
            md, mg = float(np.mean(d[idx[:k]])), float(np.mean(g[idx[:k]]))
            bar = f"\x1b[1m{cur:>{digits}d}/{batches}\x1b[0m "
            filled = int(width * cur / batches)
            if filled:
                bar += f"\x1b[32m{'━' * filled}\x1b[0m"
            bar += f"\x1b[37m{'━' * (width - filled)}\x1b[0m"
            final = k == idx.size
            info = f" \x1b[1m{'3s' if final else '1s'}\x1b[0m 12ms/step - d_loss:{_keras_value(md)} - g_loss:{_keras_value(mg)}"
            out.append("\b" * prev + "\r" + bar + info)
            prev = len(bar) + len(info) - 34
        out.append("\n")
        epochs.append(e + 1)
        exp_d.append(float(f"{md:.4f}" if abs(md) > 1e-3 else f"{md:.4e}"))
        exp_g.append(float(f"{mg:.4f}" if abs(mg) > 1e-3 else f"{mg:.4e}"))
    return Rendered("".join(out), np.array(epochs), {"d_loss": np.array(exp_d), "g_loss": np.array(exp_g)}, 0.0)


def console_layouts(h, batches: int = 25) -> dict[str, Rendered]:
    """Every console layout of ``h`` (``batches`` per epoch for the epoch/batch layouts)."""
    out = {
        "tutorial": tutorial(h),
        "tutorial-epoch-batch": tutorial_epoch_batch(h, batches) if split(h) else None,
        "pytorch-dcgan": pytorch_dcgan(h, batches),
        "pytorch-gan": pytorch_gan(h, batches),
        "pytorch-gan-extra": pytorch_gan(h, batches, extra=True),
        "keras-gan": keras_gan(h),
        "keras-gan-wgan": keras_gan(h, wgan=True),
        "epoch-step": epoch_step(h, batches),
        "per-epoch": per_epoch(h, batches),
        "labelled": epoch_step_labelled(h, batches),
        "unindexed": logging_info(h),
        "keras-fit": keras_fit(h, batches),
    }
    if not split(h):
        del out["tutorial-epoch-batch"]  # that script always prints the two terms
    if not split(h) and not np.isfinite(d_acc(h)).any():
        del out["tutorial"]
    if not np.isfinite(d_acc(h)).any():
        del out["keras-gan"]
    if not np.isfinite(_get(h, "d_real_prob")).any():
        for name in ("pytorch-dcgan", "epoch-step", "per-epoch"):
            out.pop(name)
    return out


#: Which reader layout each rendered variant must be recognised as.
LAYOUT_OF = {"pytorch-gan-extra": "pytorch-gan", "keras-gan-wgan": "keras-gan"}


def noisy(text: str, seed: int = 0) -> str:
    """Interleave what real consoles show: warnings, download progress, blank lines, ``Done!``."""
    rng = np.random.default_rng(seed)
    junk = [
        "",
        "WARNING:tensorflow:Compiled the loaded model, but the compiled metrics have yet to be built.",
        "Downloading data from https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
        "11490434/11490434 [==============================] - 1s 0us/step",
        "(5851, 28, 28, 1)",
        "/usr/lib/python3/site-packages/keras/optimizers.py:12: UserWarning: The `lr` argument is deprecated.",
        "Done!",
        "\x1b[1m4/4\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m\x1b[37m\x1b[0m \x1b[1m0s\x1b[0m 3ms/step",
    ]
    lines = text.split("\n")
    out = []
    for line in lines:
        if rng.random() < 0.1:
            out.append(junk[int(rng.integers(len(junk)))])
        out.append(line)
    return "\n".join(out)


def write_jsonl(h, path: Path, *, zero_based: bool = False) -> None:
    import json

    keys = [k for k in h if k not in ("step",) and np.isfinite(h[k]).any()]
    with open(path, "w") as fh:
        for i, s in enumerate(h["step"]):
            obj = {"step": int(s) - (1 if zero_based else 0)}
            loss = {}
            for k in keys:
                v = float(h[k][i])
                if k in ("d_loss_real", "d_loss_fake", "d_loss", "g_loss"):
                    loss[k] = v if np.isfinite(v) else str(v)  # trackers write "nan" strings
                else:
                    obj[k] = v  # json.dumps writes NaN / Infinity tokens
            obj["losses"] = loss
            fh.write(json.dumps(obj) + "\n")


# --- a TensorBoard event file framed by hand (for tests that run without TensorFlow) ---------------

def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def tfrecord_frame(data: bytes) -> bytes:
    import struct

    from gandiag.ingest import tfrecord

    header = struct.pack("<Q", len(data))
    return (header + struct.pack("<I", tfrecord.masked(tfrecord.crc32c(header))) + data
            + struct.pack("<I", tfrecord.masked(tfrecord.crc32c(data))))


def event_file_bytes(h, tags: dict[str, str]) -> bytes:
    """TF1-style ``simple_value`` events of ``h`` (Event.step = 2, Event.summary = 5, Value.tag = 1, simple_value = 2)."""
    out = [tfrecord_frame(b"\x1a\x0dbrain.Event:2")]
    for i, s in enumerate(h["step"].astype(int)):
        summary = b""
        for role, tag in tags.items():
            if role in h:  # NaN too: a loop that logs a NaN loss writes NaN
                t = tag.encode()
                with np.errstate(over="ignore"):
                    value = np.float32(h[role][i]).astype("<f4").tobytes()
                body = b"\x0a" + _varint(len(t)) + t + b"\x15" + value
                summary += b"\x0a" + _varint(len(body)) + body
        event = b"\x10" + _varint(int(s)) + b"\x2a" + _varint(len(summary)) + summary
        out.append(tfrecord_frame(event))
    return b"".join(out)


#: The tutorial's own printed output (seed 001: steps 1-5 and 446-448), as a history.
SEED_ROWS = [
    (1, 0.859, 0.664, 0.872, 37, 59), (2, 0.190, 1.429, 0.555, 100, 4), (3, 0.094, 1.467, 0.597, 100, 4),
    (4, 0.097, 1.315, 0.686, 100, 9), (5, 0.100, 1.241, 0.714, 100, 9), (446, 0.593, 0.546, 1.330, 76, 82),
    (447, 0.551, 0.739, 0.981, 82, 39), (448, 0.628, 0.505, 1.420, 79, 89),
]


def seed_history() -> dict[str, np.ndarray]:
    rows = np.array(SEED_ROWS, dtype=float)
    return {"step": rows[:, 0], "d_loss_real": rows[:, 1], "d_loss_fake": rows[:, 2], "g_loss": rows[:, 3],
            "d_acc_real": rows[:, 4] / 100, "d_acc_fake": rows[:, 5] / 100}
