"""Signals on hand-made series (synthetic, not runs)."""

import numpy as np
import pytest

from gandiag.signals import oscillation, persistence, rolling, trend


def test_rolling_median_ignores_a_spike_the_mean_does_not():
    series = np.r_[np.full(20, 0.5), 50.0, np.full(20, 0.5)]  # hand-made: one spike
    assert rolling.rolling_median(series, window=9)[25] == pytest.approx(0.5)
    assert rolling.rolling_mean(series, window=9)[25] > 5


def test_rolling_stats_are_causal():
    series = np.r_[np.zeros(50), np.ones(50)]  # hand-made step at row 50
    med = rolling.rolling_median(series, window=10)
    assert np.all(np.isnan(med[:4])) and np.all(med[4:50] == 0)  # nothing after row t leaks into row t
    assert med[60] == 1


def test_rolling_skips_missing_values():
    series = np.array([1.0, np.nan, 3.0, np.nan, 5.0])
    assert rolling.rolling_mean(series, window=5)[-1] == pytest.approx(3.0)


def test_saturation_counts_rows_at_or_above_level():
    acc = np.r_[np.full(10, 1.0), np.full(10, 0.7)]  # hand-made accuracies
    sat = rolling.saturation(acc, window=10, level=0.99)
    assert sat[9] == 1.0 and sat[-1] == 0.0 and sat[14] == pytest.approx(0.5)


def test_near_zero_share():
    series = np.r_[np.full(5, 0.001), np.full(5, 0.6)]
    assert rolling.near_zero(series, window=10, level=0.05)[-1] == pytest.approx(0.5)


def test_rolling_cv_is_scale_free():
    rng = np.random.default_rng(0)
    noise = rng.normal(1.0, 0.1, 500)
    assert np.nanmedian(rolling.rolling_cv(noise, window=50)) == pytest.approx(
        np.nanmedian(rolling.rolling_cv(noise * 100, window=50)), rel=1e-9)


def test_rolling_slope_matches_a_line_and_handles_gaps():
    line = 3.0 * np.arange(100) + 7
    assert trend.rolling_slope(line, window=20)[-1] == pytest.approx(3.0)
    gappy = line.copy()
    gappy[50:55] = np.nan
    assert trend.rolling_slope(gappy, window=40)[-1] == pytest.approx(3.0, rel=0.05)


def test_relative_trend_flags_a_climb_not_a_plateau():
    climbing = np.linspace(2.0, 10.0, 300)  # hand-made: G loss climbing steadily
    flat = np.full(300, 1.0) + np.random.default_rng(1).normal(0, 0.1, 300)
    assert trend.relative_trend(climbing, window=100)[-1] > 0.1
    assert abs(trend.relative_trend(flat, window=100)[-1]) < 0.05


def test_theil_sen_is_robust_to_outliers():
    y = np.arange(50, dtype=float)
    y[10] = 1e6
    assert trend.theil_sen_slope(y) == pytest.approx(1.0)


def test_oscillation_amplitude_separates_a_swinging_series_from_noise():
    t = np.arange(600)
    swinging = 1.5 + 1.0 * np.sin(2 * np.pi * t / 25)  # hand-made: period 25, like the tutorial's collapse
    noisy = 1.0 + np.random.default_rng(2).normal(0, 0.08, 600)
    assert np.nanmedian(oscillation.relative_amplitude(swinging, window=25)[100:]) > 0.35
    assert np.nanmedian(oscillation.relative_amplitude(noisy, window=25)[100:]) < 0.15


def test_dominant_period_finds_25_steps():
    t = np.arange(450)
    series = 1.0 + 0.5 * np.sin(2 * np.pi * t / 25) + np.random.default_rng(3).normal(0, 0.05, 450)
    period, share = oscillation.dominant_period(series)
    assert period == pytest.approx(25, rel=0.06)
    assert share > 0.5


def test_sign_change_rate_orders_noise_above_smooth_oscillation():
    t = np.arange(400)
    noise = np.random.default_rng(4).normal(size=400)
    smooth = np.sin(2 * np.pi * t / 40)
    assert np.nanmean(oscillation.sign_change_rate(noise, window=50)[100:]) > 0.5
    assert np.nanmean(oscillation.sign_change_rate(smooth, window=50)[100:]) < 0.1
    assert np.nanmax(oscillation.sign_change_rate(np.arange(100.0), window=20)) == 0


def test_episodes_need_for_steps_rows_and_merge_short_gaps():
    m = np.array([1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1], dtype=bool)
    assert persistence.episodes(m, for_steps=3).tolist() == [[3, 11]]
    assert persistence.episodes(m, for_steps=3, max_gap=1).tolist() == [[3, 6], [8, 11]]
    assert persistence.episodes(m, for_steps=5).size == 0  # pending, never firing


def test_onset_is_first_row_of_final_streak():
    m = np.array([1, 1, 1, 0, 0, 1, 1, 1, 1], dtype=bool)
    assert persistence.onset_index(m, for_steps=3) == 5
    assert persistence.onset_index(m, for_steps=5) is None


def test_nonfinite():
    assert persistence.nonfinite(np.array([0.0, np.nan, -np.inf, 1.0])).tolist() == [False, True, True, False]
