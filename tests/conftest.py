import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE_RUNS = os.path.join(ROOT, "fixtures", "runs")


@pytest.fixture
def write(tmp_path):
    """Write text or bytes to a file under tmp_path and return its path."""

    def _write(name, content, mode="w"):
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8", newline="")
        return p

    return _write


#: Modules (or test-name prefixes) whose tests together take most of the suite's time: the whole corpus, every
#: fixture in every layout, real-size hostile inputs, wheels and reports. `make test-fast` skips them (`-m "not
#: slow"`); `make test` (CI) runs everything. Measured with `pytest --durations=0`: most of the 209 s of test time.
SLOW = (
    "tests/test_calibrate.py", "tests/test_corpus.py", "tests/test_oracle.py", "tests/test_fixtures.py",
    "tests/test_packaging.py", "tests/test_tutorial_folder.py", "tests/ingest/test_cross_format.py",
    "tests/ingest/test_tensorboard.py", "tests/cli/test_ci_outputs.py", "tests/cli/test_report_cmd.py",
    "tests/adversarial/test_hostile_inputs.py", "tests/ingest/test_console.py::test_real_runs",
    "tests/monitor/test_monitor.py::test_provisional", "tests/monitor/test_monitor.py::test_replay",
    "tests/samples/test_read.py", "tests/monitor/test_watch.py",
    "tests/monitor/test_samples_live.py::test_live", "tests/monitor/test_samples_live.py::test_provisional",
    "tests/monitor/test_samples_live.py::test_the_default", "tests/monitor/test_samples_live.py::test_a_quiet",
    "tests/monitor/test_monitor.py::test_a_short_run_policy", "tests/monitor/test_keras_core.py::test_sample_fn_snap",
    "tests/report/test_figures.py", "tests/ingest/test_console.py::test_real_keras_progbar_output",
    "tests/adversarial/test_hostile_samples.py::test_npz_member_that_is_not_an_array_is_ignored",
    "tests/test_batch.py::test_parallel_gives_the_serial_results",
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid.startswith(SLOW):
            item.add_marker(pytest.mark.slow)


#: Files whose every test trains (module-level ``pytestmark = pytest.mark.train``) and which import TensorFlow when
#: collected (8 s). A run that deselects training tests (`make test-fast`) does not import them at all.
TRAIN_ONLY = {"test_log_every.py", "test_losses.py", "test_resume.py", "test_training.py", "test_training_stops.py"}


def pytest_ignore_collect(collection_path, config):
    if collection_path.name in TRAIN_ONLY and "not train" in (config.option.markexpr or ""):
        return True
    return None


@pytest.fixture
def captured(monkeypatch):
    """Keep each figure's drawn texts and their boxes (in pixels), before _save closes it.

    Texts are collected from the renderer's draw_text calls: matplotlib keeps
    Text objects for ticks outside the view that it never draws.
    """
    from matplotlib.backends.backend_agg import RendererAgg

    seen = []
    from gandiag.report import canvas

    real_save = canvas.save

    def spy(plt, fig, path):
        drawn = []
        real_draw_text = RendererAgg.draw_text

        def record(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
            if mtext is not None and s.strip():
                drawn.append(mtext)
            return real_draw_text(self, gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

        monkeypatch.setattr(RendererAgg, "draw_text", record)
        fig.canvas.draw()
        monkeypatch.setattr(RendererAgg, "draw_text", real_draw_text)
        renderer = fig.canvas.get_renderer()
        boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in dict.fromkeys(drawn)]
        seen.append({"fig": fig, "axes": list(fig.axes), "boxes": boxes,
                     "size": (fig.get_figwidth() * fig.dpi, fig.get_figheight() * fig.dpi)})
        return real_save(plt, fig, path)

    monkeypatch.setattr(canvas, "save", spy)
    return seen
