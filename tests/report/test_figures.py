import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")

from gandiag.report import figures  # noqa: E402


def _png(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return data


def test_history_split_and_labels(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    n = 50
    df = pd.DataFrame({"step": np.arange(1, n + 1), "d_loss_real": np.full(n, 0.6),
                       "d_loss_fake": np.full(n, 0.7), "g_loss": np.linspace(1, 2, n),
                       "d_acc_real": np.full(n, 0.8), "d_acc_fake": np.full(n, 0.7)})
    captured = {}
    real_save = figures._save

    def spy(plt, fig, path):
        ax_loss, ax_acc = fig.axes
        captured["loss"] = [t.get_text() for t in ax_loss.get_legend().get_texts()]
        captured["acc"] = [t.get_text() for t in ax_acc.get_legend().get_texts()]
        captured["labels"] = (ax_loss.get_ylabel(), ax_acc.get_ylabel(), ax_acc.get_xlabel())
        captured["vlines"] = sum(1 for ln in ax_loss.lines if ln.get_linestyle() == "--")
        captured["spans"] = len(ax_loss.patches)
        return real_save(plt, fig, path)

    figures._save = spy
    try:
        out = figures.plot_history(df, tmp_path / "h.png", title="t", spans=[(10, 20, "collapse")],
                                   onset_step=12)
    finally:
        figures._save = real_save
    _png(out)
    assert captured["loss"][:3] == ["d-real", "d-fake", "gen"]
    assert "collapse" in captured["loss"] and "onset (step 12)" in captured["loss"]
    assert captured["acc"] == ["acc-real", "acc-fake"]
    assert captured["labels"] == ("loss", "accuracy", "step")
    assert captured["vlines"] == 1 and captured["spans"] == 1


def test_history_combined_from_csv_with_nan(tmp_path):
    p = tmp_path / "history.csv"
    p.write_text("step,d_loss,g_loss,d_acc\n1,0.5,1.0,0.5\n2,nan,nan,0.0\n3,inf,nan,0.0\n")
    _png(figures.plot_history(p, tmp_path / "h.png"))


def test_sample_grid_and_scatter(tmp_path):
    rng = np.random.default_rng(0)
    _png(figures.plot_sample_grid(rng.uniform(-1, 1, (100, 8, 8, 1)), tmp_path / "g.png", title="x"))
    _png(figures.plot_sample_grid(rng.uniform(-1, 1, (30, 32, 32, 3)), tmp_path / "c.png"))
    _png(figures.plot_scatter(rng.normal(size=(200, 2)) * 0.3, rng.normal(size=(300, 2)) * 0.3,
                              tmp_path / "s.png"))
