import gzip

import numpy as np
import pytest

from gandiag.errors import InputError
from gandiag.ingest import read_run

TUTORIAL = "step,d1,d2,g,a1,a2\n1,0.859,0.664,0.872,37,59\n2,0.190,1.429,0.555,100,10\n3,0.094,1.467,0.597,100,4\n"


def test_tutorial_names_and_percent_accuracy(write):
    h = read_run(write("run.csv", TUTORIAL))
    assert set(h.present) >= {"d_loss_real", "d_loss_fake", "g_loss", "d_acc_real", "d_acc_fake"}
    assert h.get("d_acc_real").tolist() == [0.37, 1.0, 1.0]
    assert h.steps.tolist() == [1, 2, 3]
    assert h.columns["d_loss_real"] == "d1"


def test_tutorial_plot_labels(write):
    h = read_run(write("run.csv", "d-real,d-fake,gen,acc-real,acc-fake\n0.5,0.6,1.1,0.7,0.8\n0.5,0.6,1.2,0.7,0.8\n"))
    assert h.get("g_loss").tolist() == [1.1, 1.2] and h.steps.tolist() == [1, 2]


@pytest.mark.parametrize("d_name,g_name", [("loss_D", "loss_G"), ("D_loss", "G_loss"), ("disc_loss", "gen_loss"),
                                           ("discriminator_loss", "generator_loss"), ("errD", "errG"), ("D loss", "G loss")])
def test_common_aliases(write, d_name, g_name):
    h = read_run(write("run.csv", f"iteration,{d_name},{g_name}\n1,0.7,1.0\n2,0.6,1.1\n"))
    assert h.get("d_loss").tolist() == [0.7, 0.6] and h.get("g_loss").tolist() == [1.0, 1.1]


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_separators_bom_crlf(write, sep):
    text = "\ufeff" + TUTORIAL.replace(",", sep).replace("\n", "\r\n")
    h = read_run(write("run.csv", text))
    assert h.get("g_loss").tolist() == [0.872, 0.555, 0.597]


def test_gzip(tmp_path):
    p = tmp_path / "run.csv.gz"
    p.write_bytes(gzip.compress(TUTORIAL.encode()))
    assert len(read_run(p)) == 3


def test_keras_csvlogger_na_and_sparse_lightning_rows(write):
    text = "epoch,step,d_loss,g_loss\n0,0,0.7,\n0,0,,1.1\n0,1,0.6,\n0,1,,1.2\n"
    h = read_run(write("metrics.csv", text))
    assert h.steps.tolist() == [1, 2]  # 0-based step shifted, sparse rows merged
    assert h.get("d_loss").tolist() == [0.7, 0.6] and h.get("g_loss").tolist() == [1.1, 1.2]
    keras = read_run(write("log.csv", "epoch,d_loss,g_loss,lr\n0,0.7,NA,0.1\n1,0.6,1.2,0.1\n"))
    assert np.isnan(keras.get("g_loss")[0]) and not keras.nonfinite_mask("g_loss")[0]


def test_unsorted_and_duplicated_steps_warn(write):
    h = read_run(write("run.csv", "step,d_loss,g_loss\n3,0.3,1.3\n1,0.1,1.1\n2,0.2,1.2\n2,0.25,1.25\n"))
    assert h.steps.tolist() == [1, 2, 3]
    assert h.get("d_loss").tolist() == [0.1, 0.25, 0.3]
    assert any("merged" in w for w in h.warnings)


def test_truncated_last_line_is_dropped_with_a_warning(write):
    h = read_run(write("run.csv", TUTORIAL + "4,0.1,1."))
    assert len(h) == 3 and any("incomplete" in w for w in h.warnings)


def test_nan_and_inf_are_kept_as_evidence(write):
    h = read_run(write("run.csv", "step,d_loss,g_loss\n1,0.6,1.0\n2,nan,inf\n3,NaN,-inf\n"))
    assert h.nonfinite_mask("d_loss").tolist() == [False, True, True]
    assert np.isinf(h.get("g_loss")[1])


def test_stdin(monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", type("S", (), {"buffer": io.BytesIO(TUTORIAL.encode())})())
    assert len(read_run("-")) == 3


@pytest.mark.parametrize("content,expected", [
    ("", "empty file"),
    ("step,d1,d2,g\n", "header but no data rows"),
    ("step,lr,momentum\n1,0.1,0.9\n", "no recognisable loss column"),
    ("step,d_loss,g_loss\n1,0.5,1.0\n2,0.5,oops\n", "non-numeric value 'oops' at line 3"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary data"),
])
def test_bad_input_is_a_clear_error(write, content, expected):
    with pytest.raises(InputError) as err:
        read_run(write("run.csv", content), input_format="csv")
    assert expected in err.value.one_line()
    assert "run.csv" in err.value.one_line()


def test_column_override(write):
    h = read_run(write("run.csv", "step,lossA,lossB\n1,0.6,1.0\n2,0.5,1.1\n"), columns={"d_loss": "lossA", "g_loss": "lossB"})
    assert h.get("g_loss").tolist() == [1.0, 1.1]


def test_header_names_that_collide_once_stripped_are_kept_apart(write):
    h = read_run(write("run.csv", "step,g_loss, g_loss\n1,1.0,2.0\n2,1.1,2.1\n"))
    assert h.get("g_loss").tolist() == [1.0, 1.1]


@pytest.mark.parametrize("text", [
    "step,d_loss,g_loss,d_acc\n0,0.7,1.0,50\n1,,1.25e-3,60\n2,-0.5,1E+2,\n",  # 0-based steps, gaps, exponents
    "step;lossD;lossG\r\n1;0.1;2\r\n2;0.2;3\r\n",                              # CRLF and semicolons
    "epoch\tstep\tloss_D\tloss_G\n1\t1\t.5\t7.\n1\t2\t0.25\t1e999\n",          # tabs, '.5', '7.', overflow to inf
    "step,d_loss,d_loss ,g_loss\n1,0.5,0.6,1\n2,0.5,0.6,1\n",                 # names equal once stripped
    'step,"d_loss",g_loss\n1,0.5,1\n2,nan,inf\n',                             # quotes and words: pandas reads it
])
def test_small_files_of_plain_numbers_read_as_pandas_reads_them(write, monkeypatch, text):
    """Small CSVs of plain numbers skip pandas (its import is most of a cold start); the table must be the one
    pandas' C parser gives, bit for bit, and anything else must still go to pandas."""
    from gandiag.ingest import csv as csv_reader

    path = write("run.csv", text)
    fast = csv_reader.read(path)
    monkeypatch.setattr(csv_reader, "_read_plain", lambda data, sep: None)
    slow = csv_reader.read(path)
    assert list(fast.columns) == list(slow.columns)
    for name in fast.columns:
        np.testing.assert_array_equal(fast.columns[name], slow.columns[name])
        np.testing.assert_array_equal(fast.nonfinite[name], slow.nonfinite[name])
    assert fast.notes == slow.notes and fast.warnings == slow.warnings


def test_a_large_file_is_read_past_what_the_plain_reader_looked_at(write, monkeypatch):
    from gandiag.ingest import csv as csv_reader

    monkeypatch.setattr(csv_reader, "_SMALL_BYTES", 64)  # the head goes to pandas with the rest chained after it
    rows = "".join(f"{i},{0.5 + i / 1000:.4f},{1 + i / 100:.3f}\n" for i in range(1, 501))
    table = csv_reader.read(write("run.csv", "step,d_loss,g_loss\n" + rows))
    assert table.notes["rows"] == 500 and table.columns["step"][-1] == 500 and table.columns["g_loss"][0] == 1.01
