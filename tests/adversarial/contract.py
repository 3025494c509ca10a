"""The adversarial suite's contract and helpers (the fixture that bounds every case is in conftest.py).

Every case runs under a wall-clock timeout (a hang is a failure, never a stuck
CI job) and with its memory measured (the growth of the process's peak RSS;
heavy cases run in a subprocess measured with ``wait4`` from a small parent, _peak.py). A bad input must give
exit code 2 and, on stderr, one ``error:`` line per bad input, at most 300
characters, naming the file and ending with what to do; no traceback; and the
good runs beside it are still analysed and reported.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from gandiag.cli import app

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_RUNS = ROOT / "fixtures" / "runs"
STABLE = FIXTURE_RUNS / "digits-stable-s0" / "history.csv"
#: seconds a case may take (the machines running CI are loaded; a case takes well under a second normally)
CASE_TIMEOUT = 30
#: how much a case may raise the test process's peak memory
CASE_MEMORY_MB = 300


def cli(*args: str, input: bytes | str | None = None, env: dict[str, str] | None = None):
    """Run the gandiag CLI in this process; stdout and stderr apart."""
    return CliRunner().invoke(app, [str(a) for a in args], input=input, env=env, catch_exceptions=True)


def error_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def assert_no_traceback(result) -> None:
    text = result.stdout + result.stderr
    assert "Traceback" not in text, text[-2000:]
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {type(result.exception).__name__}: {result.exception}") from result.exception


def assert_contract(result, *names: str, errors: int = 1) -> list[str]:
    """Exit 2; ``errors`` error lines, each <= 300 characters naming one of ``names`` and ending with a hint."""
    assert_no_traceback(result)
    assert result.exit_code == 2, (result.exit_code, result.stdout[-1000:], result.stderr[-1000:])
    lines = error_lines(result)
    assert len(lines) == errors, result.stderr
    for line in lines:
        assert len(line) <= 300, (len(line), line)
        assert line.isprintable(), repr(line)
        assert any(n in line for n in names), (names, line)
        assert re.search(r"\. \S[^.]*.*\.$", line), line  # ends with what to do, as a sentence
    return lines


def write_history(path: Path, rows: int = 80, source: Path = STABLE) -> Path:
    """A short real history (the first rows of a recorded stable run)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = source.read_text(encoding="utf-8").splitlines()[: rows + 1]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def peak_rss_mb(argv: list[str], *, env: dict[str, str] | None = None, timeout: float = 120,
                stdin: bytes | None = None) -> tuple[int, float, str, str]:
    """Run ``argv`` in a subprocess: ``(exit code, peak RSS in MB, stdout, stderr)``, measured with wait4 by _peak.py."""
    import tempfile
    import threading

    fd, report = tempfile.mkstemp(prefix="gandiag-peak-")
    os.close(fd)
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("_peak.py")), report, *argv],
                            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **(env or {})},
                            start_new_session=True)
    out: dict[str, bytes] = {}

    def pump(name, stream):
        out[name] = stream.read()

    threads = [threading.Thread(target=pump, args=("out", proc.stdout)),
               threading.Thread(target=pump, args=("err", proc.stderr))]
    for t in threads:
        t.start()
    if stdin is not None:
        try:
            proc.stdin.write(stdin)
        except BrokenPipeError:
            pass
        proc.stdin.close()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()
        raise AssertionError(f"{argv} ran longer than {timeout} s") from None
    finally:
        for t in threads:
            t.join()
    try:
        peak_kib = int(Path(report).read_text() or 0)
    finally:
        os.unlink(report)
    return proc.returncode, peak_kib / 1024, out["out"].decode(errors="replace"), out["err"].decode(errors="replace")


#: the installed command, for cases that must run in their own process
GANDIAG = [str(Path(sys.executable).parent / "gandiag")]


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)
