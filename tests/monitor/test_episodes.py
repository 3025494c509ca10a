"""EpisodeTracker equals the offline persistence.episodes on any mask, however it is chunked."""

import numpy as np
import pytest

from gandiag.live.episodes import EpisodeTracker
from gandiag.signals.persistence import episodes


def _check(mask, chunks, for_steps):
    tracker = EpisodeTracker(for_steps=for_steps)
    at = 0
    for k in chunks:
        tracker.extend(mask[at : at + k])
        at += k
        eps = episodes(mask[:at], for_steps=for_steps)
        expected_last = tuple(int(x) for x in eps[-1]) if len(eps) else None
        expected_first = tuple(int(x) for x in eps[0]) if len(eps) else None
        assert tracker.last() == expected_last, (mask[:at].astype(int).tolist(), for_steps)
        assert tracker.first() == expected_first


@pytest.mark.parametrize("seed", range(40))
def test_random_masks_in_random_chunks(seed):
    """Hand-made random masks (not runs): flapping conditions with short and long streaks."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    p_flip = float(rng.uniform(0.02, 0.5))
    flips = rng.random(n) < p_flip
    mask = (np.cumsum(flips) % 2).astype(bool)
    chunks = []
    left = n
    while left:
        k = int(min(left, rng.integers(1, 40)))
        chunks.append(k)
        left -= k
    _check(mask, chunks, int(rng.integers(1, 25)))


def test_pending_streak_is_not_an_episode_until_it_lasts():
    t = EpisodeTracker(for_steps=5)
    t.extend(np.ones(4, dtype=bool))
    assert t.last() is None
    t.extend(np.ones(1, dtype=bool))
    assert t.last() == (0, 4)


def test_short_gap_merges_episodes_and_keeps_the_first_onset():
    mask = np.array([1] * 6 + [0] * 2 + [1] * 6 + [0] * 10 + [1] * 6, dtype=bool)
    _check(mask, [3] * 10, 5)
    t = EpisodeTracker(for_steps=5)
    t.extend(mask)
    assert t.first() == (0, 13) and t.last() == (24, 29)
