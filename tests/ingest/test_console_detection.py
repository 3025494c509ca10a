"""Console logs read as they are printed: numbers in every spelling, several lines a record, tables,
and format detection that does not guess wrong."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

import gandiag
from gandiag.cli import app
from gandiag.errors import InputError
from gandiag.history import build_history
from gandiag.ingest import read_raw, read_run, sniff_format
from gandiag.ingest.assemble import normalise
from gandiag.ingest.console import read_text

runner = CliRunner()


def _history(text: str, **kw):
    return build_history(read_text(text, "test.log", **kw))


def test_thousands_separators_eta_and_clocks_are_not_columns():
    text = "".join(
        f"2022-09-26 16:29:{k:02d},822 INFO: [train..][epoch:  0, iter:  {12 + k},400, lr:(2.000e-04,)] "
        f"[eta: 2 days, 10:15:30, time (data): 0.5 (0.004)] l_g_gan: 2.{k}e-02 l_d: 0.2{k} real_score: 2.1\n"
        for k in range(3))
    raw = read_text(text, "t.log")
    history = build_history(raw)
    assert history.steps.tolist() == [12400, 13400, 14400]
    assert history.get("d_loss").tolist() == [0.2, 0.21, 0.22]
    assert history.get("g_loss").tolist() == [0.02, 0.021, 0.022]  # scientific notation
    assert not any(name.strip().isdigit() or name in ("15", "30") for name in raw.columns)  # the clock is gone
    assert raw.notes["layout"] == "basicsr"


@pytest.mark.parametrize("spelling", ["nan", "-inf", "NaN", "1.#INF", "-1.#IND", "1.#QNAN", "inf", "+nan"])
def test_every_spelling_of_non_finite_is_a_non_finite_value(spelling):
    lines = "".join(f"[Epoch 0/5] [Batch {k}/100] [D loss: 0.{60 + k}] [G loss: 0.8]\n" for k in range(12))
    lines += f"[Epoch 0/5] [Batch 12/100] [D loss: {spelling}] [G loss: 0.8]\n"
    history = _history(lines)
    mask = history.nonfinite_mask("d_loss")
    assert mask.tolist() == [False] * 12 + [True]
    assert gandiag.analyze(history).verdict.value == "non_converged"


def test_normalise_leaves_plain_lines_alone_and_prefixes_groups():
    plain = "[0/5][50/1583]\tLoss_D: 0.0154\tLoss_G: 35.5240\tD(x): 0.9927\tD(G(z)): 0.0000 / 0.0000"
    assert normalise(plain) == plain
    assert normalise("[G - gan: 2.1, rec: 0.2] [D - real: 0.5, fake: 0.3]") == \
        "G_gan: 2.1, G_rec: 0.2; D_real: 0.5, D_fake: 0.3;"
    assert normalise("7: [D] real 0.05 fake nan [G] fake 2.3").split() == \
        ["7:", "D_real", "0.05", "D_fake", "nan", "G_fake", "2.3"]


def test_multi_line_records_are_joined():
    text = "".join(f"progress  epoch {k // 10 + 1}  step {50 * (k + 1)}  image/sec 10.5  remaining {99 - k}m\n"
                   f"discrim_loss 0.6{k % 10}\ngen_loss_GAN 1.{k % 10}\ngen_loss_L1 0.09\n" for k in range(12))
    raw = read_text(text, "t.log")
    history = build_history(raw)
    assert raw.notes["layout"] == "pix2pix-tensorflow"
    assert history.steps.tolist() == [50 * (k + 1) for k in range(12)]
    assert history.get("d_loss")[:3].tolist() == [0.6, 0.61, 0.62]
    assert history.get("g_loss")[:2].tolist() == [1.0, 1.1]


def test_a_header_then_pipe_separated_rows_with_a_trailing_timestamp():
    text = "D_loss       acc     G_loss\n" + "".join(
        f"0.00{k + 1} | 100 | 5.{k} | 2 days, 12:04:{10 + k}.416641\n" for k in range(6))
    raw = read_text(text, "t.log")
    history = build_history(raw)
    assert raw.notes["layout"] == "header-table"
    assert history.get("d_loss").tolist() == [0.001, 0.002, 0.003, 0.004, 0.005, 0.006]
    assert history.get("d_acc").tolist() == [1.0] * 6  # percent
    assert history.get("g_loss")[-1] == 5.5


def test_one_garbled_line_among_good_ones_is_skipped_and_counted_in_a_warning():
    good = [f"[Epoch 0/5] [Batch {k}/100] [D loss: 0.{60 + k}] [G loss: 0.8]\n" for k in range(12)]
    good.insert(5, "[Epoch 0/5] [Batch 5/100] [D loss: 0.6#3] [G lo\n")
    history = _history("".join(good))
    assert len(history) == 12
    warning = [w for w in history.warnings if "start like pytorch-gan records" in w]
    assert warning and "1 line(s)" in warning[0] and "line 6" in warning[0]


def test_no_layout_fits_names_the_closest_layout_the_line_and_the_column_hint(tmp_path):
    p = tmp_path / "train.log"
    p.write_text("".join(f"[Epoch 3/20] [Batch {k}/900] [adv: 0.{k}] [rec: 0.2]\n" for k in range(5)))
    with pytest.raises(InputError) as err:
        read_raw(p)
    msg = err.value.one_line()
    assert "closest layout pytorch-gan (5 line(s)" in msg and "line 1" in msg
    assert "--column g_loss=adv" in msg and len(msg) <= 300
    result = runner.invoke(app, ["analyze", str(p)])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "Traceback" not in result.output
    # and the hint works: a console name given with --column is read as that role
    history = read_run(p, columns={"g_loss": "adv"})
    assert history.get("g_loss").tolist() == [0.0, 0.1, 0.2, 0.3, 0.4]


def test_auto_detection_calls_a_file_csv_only_when_it_is_a_consistent_table(tmp_path):
    console = tmp_path / "train.txt"
    console.write_text("".join(f"(epoch: 1, iters: {100 * k}, time: 0.5, data: 0.1) D_A: 0.2 G_A: 0.3 D_B: 0.2 "
                               f"G_B: 0.4\n" for k in range(1, 12)))
    assert sniff_format(console) == "console"
    grouped = tmp_path / "grouped.txt"
    grouped.write_text("".join(f"[Epoch 3/20] [Batch {k}/900] [G - gan1: 2.1, gan2: 1.9, rec: 0.2] "
                               f"[D - real: 0.5, fake1: 0.3, fake2: 0.4]\n" for k in range(12)))
    assert sniff_format(grouped) == "console"
    assert read_run(grouped).get("d_loss_fake")[0] == 0.4  # the larger fake term
    table = tmp_path / "history.txt"
    table.write_text("step,d_loss,g_loss\n" + "".join(f"{k},0.6,0.9\n" for k in range(1, 12)))
    assert sniff_format(table) == "csv"
    ragged = tmp_path / "ragged.txt"
    ragged.write_text("step,d_loss,g_loss\n1,0.6,0.9\n2,0.6,0.9,7,8,9\n3,0.5\n")
    assert sniff_format(ragged) != "csv"


def test_one_record_logs_print_no_library_warning(tmp_path):
    from gandiag.cli.inspect import describe

    p = tmp_path / "one.log"
    p.write_text("l_d_real: 3.2484e-01 l_d_fake: 5.3701e-01 D_real: -1.0425e+01 D_fake: -1.2688e+01\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = gandiag.analyze(str(p), no_samples=True)
        info = describe(p)
    assert d.verdict.value == "inconclusive"
    assert info["roles"]["d_loss_real"]["tag"] == "l_d_real" and "D_real" in info["ignored"]


def test_a_batch_counter_without_an_epoch_is_the_step():
    history = _history("".join(f"Elapsed [1:{k:02d}:00.5] batch: {500 * k}  d_loss: 0.5  g_loss: 1.{k}\n"
                               for k in range(1, 12)))
    assert history.steps.tolist() == [500 * k for k in range(1, 12)]
    assert np.isfinite(history.get("g_loss")).all()
