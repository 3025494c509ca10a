import os

import pytest

from gandiag.engine.findings import FAILURE_VERDICTS
from gandiag.engine.loader import load_rules
from gandiag.report.summary import ReportRun
from gandiag.workflows.batch import analyze_many, find_targets

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

#: recorded runs covering each verdict (losses only, so the set is quick to analyze)
SNAPSHOT_RUNS = ("digits-convergence_failure-s0", "digits-diverge-s0", "digits-stable-s0", "digits-wgan-s0")


@pytest.fixture(scope="session")
def fixture_report_runs():
    """ReportRuns of real recorded runs, with paths relative to the repository so snapshots are portable."""
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        targets, errors = find_targets([os.path.join("fixtures", "runs", name) for name in SNAPSHOT_RUNS])
        results = analyze_many(targets, rules=load_rules(), options={"no_samples": True})
    finally:
        os.chdir(here)
    assert not errors and all(r.diagnosis for r in results)
    return [ReportRun(r.diagnosis, r.target.key, failure=f"verdict {r.diagnosis.verdict.value} is in --fail-on"
                      if r.diagnosis.verdict in FAILURE_VERDICTS else None) for r in results]


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
