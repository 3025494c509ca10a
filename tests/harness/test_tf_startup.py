"""TensorFlow's start-up lines stay off the terminal unless --verbose: they are written while it loads, so the
environment alone does not hide them (absl ignores TF_CPP_MIN_LOG_LEVEL before its logging starts)."""

import os
import subprocess
import sys

import pytest

from gandiag.harness._tf import without_startup_notes

NOTES = """WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
I0000 00:00:1796700466.437111   13087 port.cc:153] oneDNN custom operations are on. You may see slightly different.
I0000 00:00:1796700466.501850   13087 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use available CPU
To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow.
"""


def test_start_up_notes_are_dropped_and_everything_else_is_kept():
    real = "E0000 00:00:1796700466.501850   13087 cuda_executor.cc:1] failed call to cuInit\nsomething else broke\n"
    assert without_startup_notes(NOTES) == ""
    assert without_startup_notes(NOTES + real + NOTES) == real
    assert without_startup_notes("plain line\n") == "plain line\n"


def _import_in_a_fresh_process(verbose: bool) -> subprocess.CompletedProcess:
    code = ("from gandiag.harness._tf import require_tensorflow, set_verbose\n"
            f"set_verbose({verbose})\nrequire_tensorflow()\nimport sys\nprint('after', file=sys.stderr)\n")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # as on a fresh terminal
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300,
                          check=False)


@pytest.mark.train
def test_importing_tensorflow_prints_nothing_unless_verbose():
    pytest.importorskip("tensorflow")
    quiet = _import_in_a_fresh_process(False)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == "after\n"  # and stderr still works afterwards
    loud = _import_in_a_fresh_process(True)
    assert loud.returncode == 0 and ("oneDNN" in loud.stderr or "absl" in loud.stderr), loud.stderr
