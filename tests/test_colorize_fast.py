"""The fast colorize path (one scaling pass + a 256-entry lookup) gives the same pictures as the definition."""

import numpy as np
from matplotlib import colormaps

from helpers.depthmath import normalize_minmax, normalize_percentile
from helpers.viz import colorize


def _reference(values, kind, near, cmap, robust=False):
    """The definition, recomputed independently in float64: scale to [0, 1], flip as asked, look up."""
    values = np.asarray(values, dtype=np.float64)
    level = (normalize_percentile if robust else normalize_minmax)(values).astype(np.float64)
    if (kind == "depth") == (near == "bright"):
        level = 1.0 - level
    table = np.round(colormaps[cmap](np.linspace(0.0, 1.0, 256))[:, :3] * 255).astype(np.uint8)
    rgb = table[np.round(level * 255).astype(np.uint8)]
    rgb[~np.isfinite(values)] = 0
    return rgb


def test_mid_levels_round_to_the_nearest_colour():
    rgb = colorize(np.array([[0.0, 1.0, 2.0, 4.0]], dtype=np.float32), kind="disparity", cmap="gray")
    # 0, 63.75, 127.5, 255 -> 0, 64, 128 (half to even), 255
    assert rgb[0, :, 0].tolist() == [0, 64, 128, 255]


def test_matches_the_definition_on_random_maps_with_holes():
    rng = np.random.default_rng(3)
    values = (rng.random((61, 47)) * 7.0 + 0.3).astype(np.float32)
    values[rng.random(values.shape) < 0.05] = np.nan
    for kind in ("depth", "disparity"):
        for near in ("bright", "dark"):
            for robust in (False, True):
                got = colorize(values, kind=kind, near=near, cmap="viridis", robust=robust).astype(int)
                want = _reference(values, kind, near, "viridis", robust=robust).astype(int)
                # float32 vs float64 arithmetic may move a pixel sitting exactly between two levels
                assert np.abs(got - want).max() <= 3 and (got != want).any(axis=-1).mean() < 0.01


def test_the_input_map_is_left_untouched():
    values = np.array([[1.0, np.nan], [3.0, 5.0]], dtype=np.float32)
    before = values.copy()
    colorize(values, kind="depth", robust=True)
    colorize(values, kind="depth", mask=np.array([[True, True], [False, True]]))
    np.testing.assert_array_equal(values, before)


def test_mask_marks_pixels_invalid_and_sets_the_range_from_the_rest():
    values = np.array([[0.0, 10.0, 100.0]], dtype=np.float32)
    rgb = colorize(values, kind="disparity", cmap="gray", mask=np.array([[True, True, False]]), invalid_color=(9, 9, 9))
    assert rgb[0, :, 0].tolist() == [0, 255, 9]
