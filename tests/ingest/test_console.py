"""The console-log reader: layouts, steps, skipped lines, gaps, damage."""

from __future__ import annotations

import codecs

import numpy as np
import pytest
from layouts import LAYOUT_OF, NO_RUNS_REASON, console_layouts, noisy, real_runs

from gandiag.errors import InputError
from gandiag.history import Reduction, build_history
from gandiag.ingest import read_raw, read_run, sniff_format
from gandiag.ingest.console import LAYOUTS, read_text
from gandiag.ingest.labels import lex

RUNS = real_runs()


def _history(text: str):
    return build_history(read_text(text, "test.log"))


# --- the example line of every layout, value by value ------------------------------------------

EXAMPLES = {
    "tutorial": (">12, d1=0.593, d2=0.546 g=1.330, a1=76, a2=82\n",
                 {"step": [12], "d_loss_real": [0.593], "d_loss_fake": [0.546], "g_loss": [1.33],
                  "d_acc_real": [0.76], "d_acc_fake": [0.82]}),
    "tutorial-combined": (">12, d=0.514, g=0.969, a=80\n",
                          {"step": [12], "d_loss": [0.514], "g_loss": [0.969], "d_acc": [0.8]}),
    "tutorial-epoch-batch": (">1, 4/390, d1=0.522, d2=0.709 g=0.680\n>2, 1/390, d1=0.5, d2=0.6 g=0.7\n",
                             {"step": [4, 391], "d_loss_real": [0.522, 0.5], "g_loss": [0.68, 0.7]}),
    "pytorch-dcgan": ("[0/5][50/1583]\tLoss_D: 0.0154\tLoss_G: 35.5240\tD(x): 0.9927\tD(G(z)): 0.0012 / 0.0003\n",
                      {"step": [51], "d_loss": [0.0154], "g_loss": [35.524], "d_real_prob": [0.9927],
                       "d_fake_prob": [0.0012]}),
    "keras-gan": ("1234 [D loss: 0.622592, acc.: 62.50%] [G loss: 1.056955]\n",
                  {"step": [1235], "d_loss": [0.622592], "d_acc": [0.625], "g_loss": [1.056955]}),
    "keras-gan-wgan": ("7 [D loss: -0.011835] [G loss: -0.503221]\n",
                       {"step": [8], "d_loss": [-0.011835], "g_loss": [-0.503221]}),
    "pytorch-gan": ("[Epoch 3/200] [Batch 500/938] [D loss: 0.690274] [G loss: 0.808068] [Recon loss: 0.1] [KL: 2e-3]\n",
                    {"step": [3 * 938 + 501], "d_loss": [0.690274], "g_loss": [0.808068]}),
    "epoch-step": ("Epoch [0/200], Step [200/600], d_loss: 0.0536, g_loss: 4.1040, D(x): 0.99, D(G(z)): 0.04\n",
                   {"step": [200], "d_loss": [0.0536], "g_loss": [4.104], "d_fake_prob": [0.04]}),
    "per-epoch": ("Epoch [12/200], d_loss: 0.0126, g_loss: 0.0364, D(x): 0.99, D(G(z)): 0.01\n",
                  {"step": [12], "d_loss": [0.0126], "d_real_prob": [0.99]}),
    "labelled": ("Epoch 3, Step12, d_loss: 0.61, g_loss: 0.87\nEpoch 3, Step13, d_loss: nan, g_loss: inf\n",
                 {"step": [12, 13], "d_loss": [0.61, np.nan], "g_loss": [0.87, np.inf]}),
    "unindexed": ("INFO:root:Generator loss: 0.97, Discriminator loss: 0.0004\n"
                  "2024-05-01 10:00:00,123 - gan - INFO - Generator loss: 1.2e-03, Discriminator loss: 4E-4\n",
                  {"step": [1, 2], "g_loss": [0.97, 0.0012], "d_loss": [0.0004, 0.0004]}),
    "keras-fit": ("Epoch 1/2\n\r\x1b[1m1/4\x1b[0m \x1b[32m━━\x1b[0m \x1b[1m1s\x1b[0m 5ms/step - d_loss: 0.7000 - g_loss: 0.9000"
                  "\b\b\b\b\r\x1b[1m4/4\x1b[0m \x1b[32m━━━━\x1b[0m \x1b[1m2s\x1b[0m 5ms/step - d_loss: 0.6164 - g_loss: 8.6460e-04\n"
                  "Epoch 2/2\n\r\x1b[1m4/4\x1b[0m \x1b[32m━━━━\x1b[0m \x1b[1m2s\x1b[0m 5ms/step - d_loss: 0.5000 - g_loss: 1.2000\n",
                  {"step": [1, 2], "d_loss": [0.6164, 0.5], "g_loss": [8.646e-4, 1.2]}),
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_layout_example_values(name):
    text, expected = EXAMPLES[name]
    h = _history(text)
    assert h.steps.tolist() == expected.pop("step")
    for role, values in expected.items():
        got = h.series[role]
        np.testing.assert_array_equal(got[np.isfinite(values)], np.asarray(values)[np.isfinite(values)])
        assert (np.isnan(got) == np.isnan(values)).all()
        assert (np.isinf(got) == np.isinf(values)).all()


def test_layout_names_and_conventions():
    raw = read_text(EXAMPLES["pytorch-dcgan"][0])
    assert raw.notes["layout"] == "pytorch-dcgan"
    assert raw.default_reduction is Reduction.SUM
    assert raw.columns["D(G(z))#2"].tolist() == [0.0003]  # after the generator update, kept apart
    raw = read_text(EXAMPLES["keras-gan"][0])
    assert raw.notes["layout"] == "keras-gan" and raw.default_reduction is Reduction.MEAN
    assert "acc." in raw.percent_names
    raw = read_text(EXAMPLES["pytorch-gan"][0])
    assert raw.columns["Recon loss"].tolist() == [0.1] and raw.columns["KL"].tolist() == [0.002]
    raw = read_text(EXAMPLES["keras-fit"][0])
    assert raw.notes["step_unit"] == "epoch"
    raw = read_text(EXAMPLES["per-epoch"][0])
    assert raw.notes["step_unit"] == "epoch"


def test_every_layout_has_an_example_the_reader_recognises():
    for layout in LAYOUTS:
        example = layout.example
        if layout.name == "keras-fit":
            continue  # its example is two lines (see EXAMPLES)
        assert read_text(example + "\n").notes["layout"] == layout.name, layout.name


def test_tutorial_accuracy_is_percent_even_when_small():
    # a1=1 means 1 %, not 100 %: the layout declares its accuracies as percent.
    h = _history(">1, d1=0.5, d2=0.5 g=1.0, a1=1, a2=0\n>2, d1=0.5, d2=0.5 g=1.0, a1=0, a2=1\n")
    assert h.series["d_acc_real"].tolist() == [0.01, 0.0]


# --- real printed output from the tutorial (seeds 001 and 004) --------------------------------------

SEED_001 = """\
>1, d1=0.859, d2=0.664 g=0.872, a1=37, a2=59
>2, d1=0.190, d2=1.429 g=0.555, a1=100, a2=4
>3, d1=0.094, d2=1.467 g=0.597, a1=100, a2=4
>4, d1=0.097, d2=1.315 g=0.686, a1=100, a2=9
>5, d1=0.100, d2=1.241 g=0.714, a1=100, a2=9
...
>446, d1=0.593, d2=0.546 g=1.330, a1=76, a2=82
>447, d1=0.551, d2=0.739 g=0.981, a1=82, a2=39
>448, d1=0.628, d2=0.505 g=1.420, a1=79, a2=89
"""


def test_seed_tutorial_log_with_elision_is_a_gap_not_glued():
    raw = read_text(SEED_001)
    assert raw.columns["step"].tolist() == [1, 2, 3, 4, 5, 446, 447, 448]
    assert raw.notes["gaps"] == [{"after_step": 5.0, "before_step": 446.0}]
    assert raw.notes["skipped"] == {"elision": 1}
    h = build_history(raw)
    assert h.series["d_acc_fake"][-1] == 0.89


def test_web_copied_log_on_one_line_is_split_into_records():
    joined = " ".join(line for line in SEED_001.splitlines()) + "\n"
    raw = read_text(joined)
    assert raw.columns["step"].tolist() == [1, 2, 3, 4, 5, 446, 447, 448]
    assert raw.columns["g"].tolist() == [0.872, 0.555, 0.597, 0.686, 0.714, 1.33, 0.981, 1.42]
    assert len(raw.notes["gaps"]) == 1


def test_seed_004_epoch_batch_with_evaluation_lines():
    text = ("(50000, 32, 32, 3)\n>1, 1/390, d1=0.720, d2=0.695 g=0.692\n>1, 2/390, d1=0.658, d2=0.697 g=0.691\n"
            ">Accuracy real: 55%, fake: 92%\n>2, 1/390, d1=0.604, d2=0.700 g=0.687\n")
    raw = read_text(text)
    assert raw.notes["layout"] == "tutorial-epoch-batch"
    assert raw.columns["step"].tolist() == [1, 2, 391]
    assert raw.columns["epoch"].tolist() == [1, 1, 2]
    assert raw.notes["skipped"] == {"no metric": 1, "other layout (unindexed)": 1}


# --- skipped lines, damage, encodings ---------------------------------------------------------------

def test_skipped_lines_are_counted_with_examples():
    text = "Downloading data from https://x/mnist.npz\n\nDone!\n>1, d=0.5, g=0.9, a=50\nWARNING: slow\n"
    raw = read_text(text)
    assert raw.notes["skipped"] == {"no metric": 3, "blank": 1}
    assert raw.notes["skipped_examples"][0] == "line 1: Downloading data from https://x/mnist.npz"
    assert raw.notes["skipped_examples"][1] == "line 3: Done!"


def test_cut_last_line_is_dropped_with_a_warning():
    raw = read_text(">1, d=0.5, g=0.9, a=50\n>2, d=0.4, g=0.8, a=5")
    assert raw.columns["step"].tolist() == [1]
    assert "cut" in raw.warnings[0] and ":2:" in raw.warnings[0]


def test_crlf_utf16_and_mixed_encodings(tmp_path):
    text = ">1, d=0.5, g=0.9, a=50\r\n>2, d=0.4, g=0.8, a=60\r\n"
    p = tmp_path / "utf16.log"
    p.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert read_raw(p).columns["step"].tolist() == [1, 2]
    p = tmp_path / "mixed.log"
    p.write_bytes(">1, d=0.5, g=0.9, a=50\n# caf\xe9 \xff\n".encode("latin-1") + ">2, d=0.4, g=0.8, a=60 ✓\n".encode())
    raw = read_raw(p)
    assert raw.columns["d"].tolist() == [0.5, 0.4]


def test_nothing_recognised_names_the_failing_line_and_the_column_hint(tmp_path):
    # The message used to list every layout tried; with dozens of layouts it names the failing line instead.
    p = tmp_path / "train.log"
    p.write_text("hello\nworld\n")
    with pytest.raises(InputError) as err:
        read_raw(p)
    msg = err.value.one_line()
    assert "no layout fits; line 1" in msg and "'hello'" in msg and str(p) in msg and "--column ROLE=NAME" in msg


def test_sniffing_picks_console_for_logs(tmp_path):
    p = tmp_path / "out.txt"
    p.write_text(SEED_001)
    assert sniff_format(p) == "console"


def test_lexer_rules():
    toks = lex("ETA: 10s - 57ms/step - d_loss: -1.5e-3 - acc: 50% step12 D(G(z)): 0.1 / 0.2 Epoch 3/200")
    got = {t.label: (t.value, t.second, t.percent, t.fraction) for t in toks}
    assert got["d_loss"] == (-0.0015, None, False, False)
    assert got["acc"] == (50.0, None, True, False)
    assert got["step"][0] == 12.0
    assert got["D(G(z))"] == (0.1, 0.2, False, False)
    assert got["Epoch"] == (3.0, 200.0, False, True)
    assert "ETA" not in got  # 10s is not a number


# --- real harness runs written in every layout --------------------------------------------------------

def _check_rendered(h, rendered, label):
    np.testing.assert_array_equal(h.steps, rendered.steps, err_msg=label)
    for role, values in rendered.expected.items():
        got = h.series[role]
        ok = np.isfinite(values)
        tol = rendered.precision + 1e-12 * np.maximum(1.0, np.abs(values[ok]))  # float spacing of big values
        assert np.all(np.abs(got[ok] - values[ok]) <= tol), (label, role)
        assert np.array_equal(np.isnan(got), np.isnan(values)), (label, role)


@pytest.mark.skipif(not RUNS, reason=NO_RUNS_REASON)
@pytest.mark.parametrize("run", sorted(RUNS))
def test_real_runs_in_every_layout(run, tmp_path):
    for name, rendered in console_layouts(RUNS[run]).items():
        p = tmp_path / f"{name}.log"
        p.write_text(rendered.text, encoding="utf-8")
        h = read_run(p)
        assert h.input_format == "console", name
        assert h.notes["layout"] == LAYOUT_OF.get(name, name), name
        _check_rendered(h, rendered, f"{run}/{name}")


@pytest.mark.skipif(not RUNS, reason=NO_RUNS_REASON)
@pytest.mark.parametrize("run", sorted(RUNS))
def test_real_runs_noisy_and_truncated(run, tmp_path):
    head = {k: v[:300] for k, v in RUNS[run].items()}
    for name, rendered in console_layouts(head).items():
        p = tmp_path / f"{name}.log"
        p.write_text(noisy(rendered.text, seed=len(name)), encoding="utf-8")
        h = read_run(p)
        _check_rendered(h, rendered, f"{run}/{name} (noisy)")
        assert sum(h.notes["skipped"].values()) > 0
        if name == "keras-fit":
            continue
        # cut in the middle of the last line: that row is dropped, the others stay exact
        cut = rendered.text.rstrip("\n")[:-3]  # inside the last printed value
        p.write_text(cut, encoding="utf-8")
        h = read_run(p)
        assert any("cut" in w for w in h.warnings), name
        n = len(h.steps)
        assert n == len(rendered.steps) - 1, name
        np.testing.assert_array_equal(h.steps, rendered.steps[:n])


def test_real_keras_progbar_output():
    """Keras' own Progbar (what Model.fit prints), captured: the last state of each epoch is read."""
    import contextlib
    import io

    pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")
    from keras.src.utils import io_utils

    buf = io.StringIO()
    means = []  # in Model.fit these are the train_step's running means
    with contextlib.redirect_stdout(buf):
        for epoch, values in enumerate([[0.7, 0.65, 0.6], [0.5, 0.4, 1e-4]]):
            io_utils.print_msg(f"Epoch {epoch + 1}/2")
            bar = keras.utils.Progbar(3, stateful_metrics=None, interval=0.0)
            for k, v in enumerate(values, 1):
                bar.update(k, values=[("d_loss", v), ("g_loss", 1.0 + v)])
            means.append((values[-1], 1.0 + values[-1]))  # the final update shows the values given last
    text = buf.getvalue()
    assert "\r" in text and "\x1b[" in text
    raw = read_text(text)
    assert raw.notes["layout"] == "keras-fit"
    assert raw.columns["step"].tolist() == [1, 2]
    assert raw.columns["d_loss"].tolist() == [0.6, 1e-4]  # 0.6000, 1.0000e-04
    assert raw.columns["g_loss"].tolist() == [1.6, 1.0001]
