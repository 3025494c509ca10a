"""The TensorBoard reader against event files written by TensorFlow itself.

TF2's ``tf.summary.scalar`` lives in the ``tensorboard`` package; where that
is not installed the tests call what it calls, ``tf.summary.write`` with the
``scalars`` plugin metadata, so the bytes on disk are the same.
"""

from __future__ import annotations

import struct
import subprocess
import sys

import numpy as np
import pytest
from layouts import NO_RUNS_REASON, _varint, real_runs
from layouts import tfrecord_frame as _record

from gandiag.errors import InputError
from gandiag.ingest import read_raw, read_run, sniff_format, tfrecord

RUNS = real_runs()

SPLIT_TAGS = {"d_loss_real": "train/d_loss_real", "d_loss_fake": "Loss/D_fake", "g_loss": "loss/generator",
              "d_acc_real": "metrics/d_acc_real", "d_acc_fake": "metrics/d_acc_fake",
              "d_real_prob": "D(x)", "d_fake_prob": "D(G(z))"}
COMBINED_TAGS = {"d_loss": "Loss/D", "g_loss": "train/g_loss", "d_acc": "acc"}


@pytest.fixture(scope="module")
def tf():
    tf = pytest.importorskip("tensorflow")
    return tf


def _scalar(tf, tag, value, step, dtype=None):
    try:
        from tensorboard.summary import v2 as tb  # noqa: F401
    except ImportError:
        tb = None
    dtype = dtype or tf.float32
    if tb is not None and dtype == tf.float32:
        tf.summary.scalar(tag, value, step=step)
        return
    from tensorflow.core.framework import summary_pb2

    meta = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"),
        data_class=summary_pb2.DATA_CLASS_SCALAR,
    )
    tf.summary.write(tag, tf.constant(value, dtype), step=step, metadata=meta)


def write_run(tf, folder, h, tags, *, zero_based=False):
    writer = tf.summary.create_file_writer(str(folder))
    with writer.as_default():
        for i, s in enumerate(h["step"].astype(int)):
            for role, tag in tags.items():
                if role in h and not np.isnan(h[role][i]):
                    _scalar(tf, tag, float(h[role][i]), int(s) - (1 if zero_based else 0))
    writer.flush()
    writer.close()


def _files(folder):
    return sorted(folder.rglob("*tfevents*"))


@pytest.mark.skipif(not RUNS, reason=NO_RUNS_REASON)
@pytest.mark.parametrize("zero_based", [False, True])
def test_real_runs_roundtrip(tf, tmp_path, zero_based):
    # eager tf.summary calls cost ~0.5 ms each: the first 120 steps of every run (all runs when
    # logged from 1, two when logged from 0) keep this test at a few seconds
    runs = list(RUNS.items())[: None if not zero_based else 2]
    for name, full in runs:
        h = {k: v[:120] for k, v in full.items()}
        tags = SPLIT_TAGS if "d_loss_real" in h and np.isfinite(h["d_loss_real"]).any() else COMBINED_TAGS
        folder = tmp_path / name
        write_run(tf, folder, h, tags, zero_based=zero_based)
        assert sniff_format(folder) == "tensorboard"
        hist = read_run(folder)
        np.testing.assert_array_equal(hist.steps, h["step"].astype(int))
        for role in tags:
            if role in h:
                expected = h[role].astype(np.float32).astype(float)
                np.testing.assert_array_equal(hist.series[role], expected, err_msg=f"{name}/{role}")


def test_dtypes_and_simple_values(tf, tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path / "v2"))
    with writer.as_default():
        for i in range(4):
            _scalar(tf, "d_loss", 0.5 + i / 10, i + 1)
            _scalar(tf, "g_loss", 1.0 / (i + 1), i + 1, tf.float64)
            _scalar(tf, "half", 0.25 + i, i + 1, tf.float16)
            _scalar(tf, "int32", -3 + i, i + 1, tf.int32)
            _scalar(tf, "int64", -(2 ** 40) + i, i + 1, tf.int64)
            tf.summary.write("histogram_like", tf.constant(np.arange(6.0).reshape(2, 3)), step=i + 1)
            tf.summary.write("text_like", tf.constant("hello"), step=i + 1)
        _scalar(tf, "d_loss", float("nan"), 5)
    writer.close()
    raw = read_raw(tmp_path / "v2")
    assert raw.columns["step"].tolist() == [1, 2, 3, 4, 5]
    np.testing.assert_array_equal(raw.columns["d_loss"][:4], np.float32([0.5, 0.6, 0.7, 0.8]).astype(float))
    assert np.isnan(raw.columns["d_loss"][4]) and raw.nonfinite["d_loss"].tolist() == [False] * 4 + [True]
    assert raw.columns["g_loss"][:4].tolist() == [1.0, 0.5, 1 / 3, 0.25]
    assert raw.columns["half"][:4].tolist() == [0.25, 1.25, 2.25, 3.25]
    assert raw.columns["int32"][:4].tolist() == [-3, -2, -1, 0]
    assert raw.columns["int64"][:4].tolist() == [-(2 ** 40) + i for i in range(4)]
    assert "histogram_like" not in raw.columns and "text_like" not in raw.columns

    from tensorflow.core.framework import summary_pb2
    from tensorflow.core.util import event_pb2

    (tmp_path / "v1").mkdir()
    with tf.io.TFRecordWriter(str(tmp_path / "v1" / "events.out.tfevents.1.host")) as w:
        for i in range(3):
            ev = event_pb2.Event(step=i + 1, wall_time=1.0, summary=summary_pb2.Summary(
                value=[summary_pb2.Summary.Value(tag="Loss/D", simple_value=0.1 * i),
                       summary_pb2.Summary.Value(tag="Loss/G", simple_value=-0.5 * i)]))
            w.write(ev.SerializeToString())
    h = read_run(tmp_path / "v1")
    assert h.columns["d_loss"] == "Loss/D" and h.columns["g_loss"] == "Loss/G"
    np.testing.assert_array_equal(h.series["g_loss"], np.float32([0, -0.5, -1.0]).astype(float))


def _one_run(tf, folder, n=6):
    writer = tf.summary.create_file_writer(str(folder))
    with writer.as_default():
        for i in range(n):
            _scalar(tf, "d_loss", 0.5 + i / 10, i + 1)
            _scalar(tf, "g_loss", 1.0 + i / 10, i + 1)
    writer.close()
    return _files(folder)[0]


def test_truncated_last_record_is_dropped_with_a_warning(tf, tmp_path):
    path = _one_run(tf, tmp_path / "run")
    data = path.read_bytes()
    path.write_bytes(data[:-7])
    raw = read_raw(path)
    assert raw.columns["step"].tolist() == [1, 2, 3, 4, 5, 6]
    assert np.isnan(raw.columns["g_loss"][-1])  # g_loss of step 6 was the cut record
    assert any("cut" in w for w in raw.warnings)


def test_corrupted_records(tf, tmp_path):
    path = _one_run(tf, tmp_path / "run")
    data = bytearray(path.read_bytes())
    framing = tfrecord.split_records(bytes(data))
    victim = framing.records[3]
    data[victim.offset + 12 + len(victim.data) // 2] ^= 0xFF  # inside the data: checksum fails
    path.write_bytes(bytes(data))
    raw = read_raw(path)
    assert any("checksum" in w for w in raw.warnings)
    logged = int(np.isfinite(raw.columns["d_loss"]).sum() + np.isfinite(raw.columns["g_loss"]).sum())
    assert logged == 11
    # a damaged length header ends the file with a warning; what came before stays
    data = bytearray(path.read_bytes())
    data[framing.records[6].offset] ^= 0x01
    path.write_bytes(bytes(data))
    raw = read_raw(path)
    assert any("length checksum" in w for w in raw.warnings)


def test_folder_with_several_runs_and_keras_style_tags(tf, tmp_path):
    for sub, prefix in (("train", "batch_"), ("train", "epoch_"), ("validation", "epoch_")):
        writer = tf.summary.create_file_writer(str(tmp_path / "logs" / sub))
        with writer.as_default():
            for i in range(3):
                _scalar(tf, prefix + "d_loss", 0.5 + i, i if prefix == "epoch_" else i * 10)
                _scalar(tf, prefix + "g_loss", 1.5 + i, i if prefix == "epoch_" else i * 10)
        writer.close()
    raw = read_raw(tmp_path / "logs")
    assert len(raw.notes["event_files"]) == 3
    assert raw.columns["step"].tolist() == [1, 11, 21]
    assert raw.columns["d_loss"].tolist() == [0.5, 1.5, 2.5]
    assert raw.notes["original_names"]["d_loss"] == "train/batch_d_loss"
    assert "train/epoch_d_loss" in raw.notes["dropped_tags"]
    assert "validation/epoch_d_loss" in raw.notes["dropped_tags"]


def test_reader_does_not_import_tensorflow(tf, tmp_path):
    path = _one_run(tf, tmp_path / "run")
    code = ("import sys; from gandiag.ingest import read_run; h = read_run(sys.argv[1]); "
            "assert len(h) == 6; bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'tensorboard', "
            "'google')]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, timeout=60)


def test_not_an_event_file(tmp_path):
    p = tmp_path / "x.bin"
    p.write_bytes(b"step,d_loss\n1,0.5\n" * 3)
    with pytest.raises(InputError, match="not a TensorBoard event file"):
        read_raw(p, input_format="tensorboard")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no TensorBoard event files"):
        read_raw(empty, input_format="tensorboard")


# --- without TensorFlow: a hand-framed file (framing and CRC against known values) ----------------

def test_crc32c_known_vectors():
    assert tfrecord.crc32c(b"123456789") == 0xE3069283
    assert tfrecord.crc32c(b"") == 0
    chunks = [bytes([i]) * 40 for i in range(10)] + [b"123456789"]
    assert tfrecord.crc32c_many(chunks) == [tfrecord.crc32c(c) for c in chunks]


def test_hand_framed_simple_values(tmp_path):
    def value(tag, v):
        t = tag.encode()
        body = b"\x0a" + _varint(len(t)) + t + b"\x15" + struct.pack("<f", v)
        return b"\x0a" + _varint(len(body)) + body

    data = b""
    for step in (1, 2):
        summary = value("d_loss", 0.25 * step) + value("g_loss", 2.0)
        event = b"\x10" + _varint(step) + b"\x2a" + _varint(len(summary)) + summary
        data += _record(event)
    p = tmp_path / "events.out.tfevents.123.host"
    p.write_bytes(data)
    raw = read_raw(p)
    assert raw.columns["d_loss"].tolist() == [0.25, 0.5]


def test_lightning_step_and_epoch_tags(tmp_path):
    from layouts import event_file_bytes

    h = {"step": np.array([1.0, 2.0, 3.0]), "a": np.array([0.5, 0.6, 0.7]), "b": np.array([1.0, 1.1, 1.2]),
         "c": np.array([0.55, np.nan, 0.65]), "e": np.array([0.0, 0.0, 1.0])}
    tags = {"a": "d_loss_step", "b": "train/g_loss_step", "c": "d_loss_epoch", "e": "epoch"}
    (tmp_path / "events.out.tfevents.1.host").write_bytes(event_file_bytes(h, tags))
    raw = read_raw(tmp_path)
    assert raw.columns["d_loss"].tolist() == [0.5, 0.6000000238418579, 0.699999988079071]
    assert raw.notes["original_names"]["g_loss"] == "train/g_loss_step"
    assert raw.notes["dropped_tags"] == ["d_loss_epoch"]
    assert "epoch" in raw.columns
