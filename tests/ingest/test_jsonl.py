"""The JSON-lines reader."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from layouts import NO_RUNS_REASON, real_runs, write_jsonl

from gandiag.errors import InputError
from gandiag.ingest import read_raw, read_run, sniff_format
from gandiag.ingest.jsonl import read_text

RUNS = real_runs()


def test_nested_keys_nan_strings_and_step_shift():
    text = ('{"step": 0, "loss": {"d": 0.5, "g": 0.9}, "d_acc": 0.5, "tag": "x", "flag": true}\n'
            '{"step": 1, "loss": {"d": NaN, "g": "Infinity"}, "lr": [1, 2]}\n')
    raw = read_text(text)
    assert raw.columns["step"].tolist() == [1, 2]
    assert "step_rule" in raw.notes and "+ 1" in raw.notes["step_rule"]
    assert set(raw.columns) == {"step", "loss/d", "loss/g", "d_acc"}
    assert raw.nonfinite["loss/d"].tolist() == [False, True]
    assert raw.nonfinite["loss/g"].tolist() == [False, True]
    h = read_run_text(text)
    assert h.columns["d_loss"] == "loss/d" and h.columns["g_loss"] == "loss/g"


def read_run_text(text):
    from gandiag.history import build_history

    return build_history(read_text(text))


@pytest.mark.parametrize("key", ["step", "_step", "global_step", "iteration"])
def test_step_keys(key):
    raw = read_text("\n".join(json.dumps({key: 10 * i + 10, "d_loss": 0.1 * i, "g_loss": 1.0}) for i in range(3)))
    assert raw.columns["step"].tolist() == [10, 20, 30]


def test_epoch_only_is_the_step():
    raw = read_text("\n".join(json.dumps({"epoch": i, "d_loss": 0.1, "g_loss": 1.0}) for i in range(3)) + "\n")
    assert raw.columns["step"].tolist() == [1, 2, 3] and raw.notes["step_unit"] == "epoch"


def test_prefixed_keys_are_shortened_and_remembered():
    raw = read_text('{"step": 1, "losses": {"d_loss_real": 0.5, "d_loss_fake": 0.4}, "train/g_loss": 1.0}\n')
    assert {"d_loss_real", "d_loss_fake", "train/g_loss"} <= set(raw.columns)
    assert raw.notes["original_names"]["d_loss_real"] == "losses/d_loss_real"


def test_cut_last_line_and_bad_lines():
    raw = read_text('{"step": 1, "d_loss": 0.5, "g_loss": 1}\nnot json\n{"step": 2, "d_loss": 0.4, "g_loss": 1}\n'
                    '{"step": 3, "d_loss": 0.3')
    assert raw.columns["step"].tolist() == [1, 2]
    assert raw.notes["skipped"] == {"not a JSON object": 1, "cut last line": 1}
    assert any("cut" in w for w in raw.warnings)


def test_nothing_usable():
    with pytest.raises(InputError, match="no JSON object lines"):
        read_text("[1, 2]\n")


def test_gzip_and_sniffing(tmp_path):
    p = tmp_path / "metrics.jsonl.gz"
    p.write_bytes(gzip.compress(b'{"step": 1, "d_loss": 0.5, "g_loss": 1.0}\n{"step": 2, "d_loss": 0.4, "g_loss": 1.1}\n'))
    assert sniff_format(p) == "jsonl"
    assert read_raw(p).columns["d_loss"].tolist() == [0.5, 0.4]
    q = tmp_path / "log.txt"
    q.write_text('{"step": 1, "d_loss": 0.5, "g_loss": 1.0}\n')
    assert sniff_format(q) == "jsonl"


@pytest.mark.skipif(not RUNS, reason=NO_RUNS_REASON)
@pytest.mark.parametrize("zero_based", [False, True])
def test_real_runs_roundtrip(tmp_path, zero_based):
    for name, h in RUNS.items():
        p = tmp_path / f"{name}.jsonl"
        write_jsonl(h, p, zero_based=zero_based)
        hist = read_run(p)
        np.testing.assert_array_equal(hist.steps, h["step"].astype(int))
        for role in ("d_loss_real", "d_loss_fake", "d_loss", "g_loss", "d_acc_real", "d_fake_prob"):
            if role in h and np.isfinite(h[role]).any():
                np.testing.assert_array_equal(hist.series[role], h[role], err_msg=f"{name}/{role}")
        # a cut last line drops one row, with a warning
        text = p.read_text()
        p.write_text(text[: text.rstrip().rfind("\n") + 20])
        hist = read_run(p)
        assert len(hist) == len(h["step"]) - 1 and hist.warnings
