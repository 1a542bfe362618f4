"""helpers.recent.RecentlyUsed: values kept by key, the least recently used dropped first."""

import pytest

from helpers.recent import RecentlyUsed


def test_kept_values_are_reused_and_the_least_recently_used_goes_first():
    made = []
    recent = RecentlyUsed(keep=2)

    def make(key):
        return lambda: made.append(key) or key * 10

    assert [recent.get(k, make(k)) for k in (1, 2, 1, 3)] == [10, 20, 10, 30]
    assert made == [1, 2, 3]  # 1 was reused, not made again
    assert list(recent) == [1, 3] and recent.values() == [10, 30] and len(recent) == 2  # 2 was the least recent
    assert recent.get(2, make(2)) == 20 and made == [1, 2, 3, 2] and list(recent) == [3, 2]
    with pytest.raises(ValueError, match="keep must be at least 1"):
        RecentlyUsed(keep=0)
