"""Hostile sample files beside a history: never a traceback, never a silent "stable"."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from contract import assert_contract, assert_no_traceback, cli, error_lines
from hostile import good_run

STEPS = (20, 40, 60, 80)


def _run(tmp_path: Path) -> Path:
    folder = tmp_path / "run"
    good_run(folder)
    return folder


def _real(folder: Path, real: np.ndarray | None = None) -> None:
    rng = np.random.default_rng(1)
    np.savez(folder / "real.npz", real=rng.normal(size=(300, 8, 8, 1)) if real is None else real)


def _snaps(value) -> dict[str, np.ndarray]:
    return {f"step_{s}": value(s) for s in STEPS}


def _npz_with_members(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def _npy_header_claiming(shape: tuple[int, ...]) -> bytes:
    """A valid .npy header that claims ``shape`` float64, followed by a few bytes of data."""
    header = repr({"descr": "<f8", "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + b"\0" * 64


@pytest.mark.parametrize("fill", [np.nan, np.inf], ids=["nan", "inf"])
def test_non_finite_samples_are_non_converged_not_stable(tmp_path, fill):
    folder = _run(tmp_path)
    np.savez(folder / "samples.npz", **_snaps(lambda s: np.full((300, 8, 8, 1), fill, np.float16)))
    _real(folder)
    r = cli("analyze", folder, "-f", "json")
    assert_no_traceback(r)
    run = json.loads(r.stdout)["runs"][0]
    assert run["verdict"] == "non_converged", run["reason"]
    assert any(f["rule"] == "GD902" for f in run["findings"])
    assert r.exit_code == 1


def test_npz_member_that_is_not_an_array_is_ignored(tmp_path):
    folder = _run(tmp_path)
    rng = np.random.default_rng(2)
    members = {f"step_{s}.npy": _npy_bytes(rng.normal(size=(300, 8, 8, 1))) for s in STEPS}
    members["notes.txt"] = b"not an array"
    members["step_99"] = b"no .npy suffix: not an array either"
    _npz_with_members(folder / "samples.npz", members)
    _real(folder)
    r = cli("analyze", folder, "-f", "json")
    assert_no_traceback(r)
    assert r.exit_code in (0, 1) and not error_lines(r), r.stderr
    assert len(json.loads(r.stdout)["runs"][0]["snapshots"]) == len(STEPS)


def _only_text_member(folder: Path) -> str:
    _npz_with_members(folder / "samples.npz", {"readme.txt": b"hello"})
    return ".npz holds no arrays"


def _real_all_nan(folder: Path) -> str:
    np.savez(folder / "samples.npz", **_snaps(lambda s: np.zeros((300, 8, 8, 1))))
    _real(folder, np.full((300, 8, 8, 1), np.nan))
    return "holds no finite sample"


def _zero_features(folder: Path) -> str:
    np.savez(folder / "samples.npz", **_snaps(lambda s: np.zeros((300, 0))))
    _real(folder, np.zeros((300, 0)))
    return "no features"


def _step_key_too_large(folder: Path) -> str:
    np.savez(folder / "samples.npz", step_99999999999999999999999=np.zeros((300, 2)), step_10=np.zeros((300, 2)))
    return "beyond"


def _pickled(folder: Path) -> str:
    _npz_with_members(folder / "samples.npz", {"step_10.npy": _npy_bytes(np.array([{"a": 1}], dtype=object))})
    return "Python objects"


def _header_claims_petabytes(folder: Path) -> str:
    _npz_with_members(folder / "samples.npz", {"step_10.npy": _npy_header_claiming((10**8, 10**7))})
    return "GANDIAG_MAX_SAMPLE_BYTES"


def _truncated_archive(folder: Path) -> str:
    buf = io.BytesIO()
    np.savez(buf, **_snaps(lambda s: np.zeros((300, 2))))
    (folder / "samples.npz").write_bytes(buf.getvalue()[:200])
    return "cannot read .npz"


def _zip_bomb_member(folder: Path) -> str:
    data = _npy_bytes(np.zeros((4096, 4096)))  # 128 MB of zeros, a few hundred kB compressed
    with zipfile.ZipFile(folder / "samples.npz", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("step_10.npy", data)
    return "GANDIAG_MAX_SAMPLE_BYTES"


SAMPLE_CASES = {
    "npz-without-arrays": (_only_text_member, {}),
    "real-all-nan": (_real_all_nan, {}),
    "zero-features": (_zero_features, {}),
    "step-key-beyond-int64": (_step_key_too_large, {}),
    "pickled-object-array": (_pickled, {}),
    "header-claims-8PB": (_header_claims_petabytes, {}),
    "truncated-archive": (_truncated_archive, {}),
    "zip-bomb-member": (_zip_bomb_member, {"GANDIAG_MAX_SAMPLE_BYTES": "64M"}),
}


@pytest.mark.parametrize("name", sorted(SAMPLE_CASES))
def test_bad_sample_files(tmp_path, name):
    build, env = SAMPLE_CASES[name]
    folder = _run(tmp_path)
    says = build(folder)
    line = assert_contract(cli("analyze", folder, env=env), str(folder))[0]
    assert says in line, line


@pytest.mark.parametrize("name", ["real-all-nan", "zero-features", "zip-bomb-member"])
def test_bad_samples_in_a_sweep_leave_the_others(tmp_path, name):
    build, env = SAMPLE_CASES[name]
    runs = tmp_path / "runs"
    good_run(runs / "good")
    good_run(runs / "bad")
    build(runs / "bad")
    r = cli("analyze", runs, "-f", "markdown", env=env)
    assert_contract(r, "bad")
    assert "`good/history.csv`" in r.stdout


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header says ``width`` x ``height`` (Pillow refuses it as a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_png_decompression_bomb(tmp_path):
    folder = _run(tmp_path)
    pngs = tmp_path / "pngs"
    pngs.mkdir()
    (pngs / "generated_plot_010.png").write_bytes(_png_claiming(40_000, 40_000))
    line = assert_contract(cli("analyze", folder / "history.csv", "--samples", pngs, "--grid", "10x10"), "png")[0]
    assert "decompression" in line


def test_npy_header_claiming_too_much(tmp_path):
    folder = _run(tmp_path)
    (tmp_path / "x.npy").write_bytes(_npy_header_claiming((10**9, 10**6)))
    line = assert_contract(cli("analyze", folder / "history.csv", "--samples", tmp_path / "x.npy"), "x.npy")[0]
    assert "GANDIAG_MAX_SAMPLE_BYTES" in line


def test_samples_fifo_does_not_hang(tmp_path):
    import os

    folder = _run(tmp_path)
    os.mkfifo(tmp_path / "s.npz")
    assert_contract(cli("analyze", folder / "history.csv", "--samples", tmp_path / "s.npz"), "s.npz")
