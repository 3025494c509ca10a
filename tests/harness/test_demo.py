"""`gandiag demo` end to end on a few steps: four runs trained, diagnosed, summarised (the full demo is `make demo`)."""

import pytest

pytestmark = pytest.mark.train


def test_demo_trains_diagnoses_and_summarises_each_experiment(tmp_path):
    pytest.importorskip("tensorflow")
    from gandiag.harness.demo import DEMO_RUNS, run_demo

    rows = run_demo(tmp_path, seed=0, steps_scale=0.05)  # 30 steps per run
    assert [r.experiment for r in rows] == ["stable", "mode_collapse", "convergence_failure", "aggressive_adam"]
    for r in rows:
        assert (r.run_dir / "history.csv").is_file() and (r.run_dir / "samples.npz").is_file()
        assert r.verdict in ("stable", "mode_collapse", "non_converged", "inconclusive")
    summary = (tmp_path / "summary.md").read_text()
    assert summary.count("## ") == 4 and "| aggressive_adam | digits | non_converged |" in summary
    # the aggressive run really is twice Adam's default rate (the margin docs/harness.md measured)
    import json

    meta = json.loads((rows[3].run_dir / "meta.json").read_text())
    assert meta["config"]["lr_d"] == meta["config"]["lr_g"] == 2e-3 and meta["config"]["beta1_d"] == 0.9
    assert DEMO_RUNS[3][3] == {"lr_d": 2e-3, "lr_g": 2e-3}
