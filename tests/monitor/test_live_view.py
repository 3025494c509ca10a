"""The live view: a figure and a self-reloading page, redrawn within a time budget (``gandiag.live.view``)."""

import hashlib
import os
import re

import numpy as np
import pytest
from fixture_runs import FIXTURE_RUNS
from typer.testing import CliRunner

from gandiag.cli import app
from gandiag.errors import UsageError
from gandiag.live import view as view_module
from gandiag.live.keras import _Diagnostics
from gandiag.live.monitor import history_rows
from gandiag.live.view import LiveView, Throttle

pytest.importorskip("matplotlib")


class Clock:
    """Time that moves only when told to: a run's seconds, and a draw's."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_throttle_keeps_drawing_within_its_budget_and_still_draws():
    clock = Clock()
    throttle = Throttle(budget=0.01, min_interval=5.0, clock=clock)
    draws = []
    for _ in range(200_000):  # 2,000 s of training in 10 ms steps; each draw takes 0.4 s
        clock.now += 0.01
        if throttle.due():
            start = clock.now
            clock.now += 0.4
            throttle.record(clock.now - start)
            draws.append(start)
        assert throttle.spent <= 0.01 * throttle.elapsed() + 1e-9
    # about as many as 80% of the budget allows (the rest is headroom for slower draws), no more than 1% would
    assert 0.9 * view_module.HEADROOM * 0.01 * 2000 / 0.4 <= len(draws) <= 0.01 * 2000 / 0.4
    assert min(np.diff(draws)) >= 5.0 and draws[0] >= 0.4 / 0.01  # the first waits until it fits in 1%


def test_throttle_rejects_a_budget_that_is_no_share():
    for budget in (0, 1.5, -0.1):
        with pytest.raises(UsageError, match="budget"):
            Throttle(budget=budget)


def _feed(view, history, clock, upto, seconds_per_row=0.05):
    rows = list(history_rows(history))
    for step, metrics in rows[:upto]:
        clock.now += seconds_per_row
        view.row(step, **metrics)
        view.update()


def test_page_reloads_itself_and_the_picture_follows_the_run(tmp_path, histories, monkeypatch):
    clock = Clock()
    real_draw = view_module.LiveView._draw

    def costly_draw(self):  # a real figure, which the fake clock says took 0.5 s
        real_draw(self)
        clock.now += 0.5

    monkeypatch.setattr(view_module.LiveView, "_draw", costly_draw)
    with np.load(os.path.join(FIXTURE_RUNS, "ring8-stable-s0", "real.npz")) as z:
        real = z["real"]
    with np.load(os.path.join(FIXTURE_RUNS, "ring8-stable-s0", "samples.npz")) as z:
        first, last = z["step_100"], z["step_1500"]
    view = LiveView(tmp_path, real=real, budget=0.05, min_interval=1.0, refresh=3, title="ring8", clock=clock,
                    planned_steps=1500)
    page = (tmp_path / "live.html").read_text()
    assert '<meta http-equiv="refresh" content="3">' in page and "Waiting for the first figure" in page
    assert not (tmp_path / "live.png").exists()
    history = histories["ring8-stable-s0"]
    view.snapshot(100, first)
    _feed(view, history, clock, 600)  # 30 s: a first figure (0.8 s, the first guess) fits in 80% of 5% after 20 s
    assert view.draws >= 1
    png = hashlib.sha256((tmp_path / "live.png").read_bytes()).hexdigest()
    page = (tmp_path / "live.html").read_text()
    assert '<meta http-equiv="refresh" content="3">' in page and "data:image/png;base64," in page
    drawn = view.draws
    view.snapshot(1500, last)
    clock.now += 100.0
    assert view.update() and view.draws == drawn + 1
    assert hashlib.sha256((tmp_path / "live.png").read_bytes()).hexdigest() != png  # the picture moved on
    assert not view.update()  # nothing new since: no redraw
    assert view.throttle.spent <= 0.05 * view.throttle.elapsed()
    view.close()
    page = (tmp_path / "live.html").read_text()
    assert "http-equiv" not in page and "The run has ended" in page  # an ended run's page stops reloading


def test_the_first_figure_shows_the_run(tmp_path, histories, captured):
    view = LiveView(tmp_path, budget=1.0, min_interval=0.0, title="digits", clock=Clock())
    view.throttle.start = -10.0  # ten seconds in: the first draw fits
    for step, metrics in history_rows(histories["digits-stable-s0"]):
        view.row(step, **metrics)
    assert view.update()
    (rec,) = captured
    ax_loss, ax_acc, ax_snap = rec["axes"][:3]
    assert [ln.get_label() for ln in ax_loss.get_lines()] == ["d-real", "d-fake", "gen"]
    assert rec["fig"].get_suptitle() == "digits: step 600"
    assert any(t.get_text() == "no snapshot yet" for t in ax_snap.texts)


def test_long_series_are_thinned_keeping_their_extremes():
    from gandiag.report.live_figure import MAX_POINTS, thin

    steps = np.arange(1, 1_000_001, dtype=float)
    values = np.sin(steps / 5000.0)
    values[123_456] = 50.0  # a spike
    s, v = thin(steps, values)
    assert len(s) == len(v) <= MAX_POINTS
    assert v.max() == 50.0 and np.isclose(v.min(), -1.0, atol=1e-3) and s[0] == 1 and np.all(np.diff(s) >= 0)


def test_keras_callback_keeps_a_live_view(tmp_path, histories):
    cb = _Diagnostics(tmp_path, planned_steps=600, verbose=False, action="warn", live=True, live_budget=1.0)
    clock = Clock()
    cb.view.throttle.clock = clock
    cb.view.throttle.start = 0.0
    rows = [(s, {k: m[k] for k in ("d_loss_real", "d_loss_fake", "g_loss")})
            for s, m in history_rows(histories["digits-stable-s0"])]
    for batch, (_, logs) in enumerate(rows):
        clock.now += 0.1
        cb.batch_end(batch, logs, None)
    assert cb.view.rows == len(rows) and cb.view.draws >= 1
    assert '<meta http-equiv="refresh"' in (tmp_path / "live.html").read_text()
    cb.close()
    assert "The run has ended" in (tmp_path / "live.html").read_text()
    with pytest.raises(UsageError, match="live=True"):
        _Diagnostics(None, live=True, verbose=False)


def test_watch_live_writes_the_page(tmp_path):
    out = tmp_path / "live"
    r = CliRunner().invoke(app, ["watch", os.path.join(FIXTURE_RUNS, "digits-stable-s0"), "--idle", "0.2",
                                 "--live", str(out)])
    assert r.exit_code == 0, r.output
    page = (out / "live.html").read_text()
    assert "http-equiv" not in page and "The run has ended" in page
    assert re.search(r"digits-stable-s0: step 600", page)  # every row reached the view
    bad = CliRunner().invoke(app, ["watch", os.path.join(FIXTURE_RUNS, "digits-stable-s0"), "--live",
                                   str(tmp_path / "live" / "live.html")])
    assert bad.exit_code == 2 and "--live names a file" in bad.output and bad.output.count("\n") == 1


def test_rows_reach_the_columns_whatever_their_keys(tmp_path):
    view = LiveView(tmp_path, title="keys", clock=Clock())
    for step in range(1, 3001):  # past a block, then a metric appears and a value is missing
        metrics = {"d_loss": 0.5 + step * 1e-4, "g_loss": 1.0}
        if step > 2000:
            metrics["acc"] = 80.0 if step % 2 else None  # percent; None is a gap
        view.row(step, **metrics)
    cols = view.columns()
    assert view.rows == 3000 and cols["step"].tolist() == list(range(1, 3001))
    assert np.isclose(cols["d_loss"][1234], 0.5 + 1235e-4) and np.isnan(cols["d_acc"][:2000]).all()
    assert cols["d_acc"][2000] == 0.8 and np.isnan(cols["d_acc"][2001])  # percent became a share


def test_the_per_row_path_is_charged_against_the_budget(tmp_path):
    assert 0 < view_module.per_row_seconds() < 1e-3  # timed once per process
    clock = Clock()
    view = LiveView(tmp_path, budget=0.01, min_interval=0.0, title="charged", clock=clock)
    view.per_row = 0.001  # as if each row cost 1 ms: 10% of a 10 ms step, ten times the budget
    for step in range(1, 20_001):
        clock.now += 0.01
        view.row(step, d_loss=0.5, g_loss=1.0)
        assert not view.update()
    assert view.draws == 0 and view.throttle.charged == pytest.approx(20.0)
    view.close()
    assert "No figure was drawn" in (tmp_path / "live.html").read_text()
