import numpy as np
import pytest
from matplotlib import colormaps

from helpers.viz import colorize, nearness, show_depth, show_grid


def test_disparity_near_bright_uses_the_colormap_ends():
    rgb = colorize([[0.0, 1.0]], kind="disparity", near="bright", cmap="gray")
    np.testing.assert_array_equal(rgb, [[[0, 0, 0], [255, 255, 255]]])


def test_depth_is_inverted_so_near_stays_bright():
    rgb = colorize([[1.0, 5.0]], kind="depth", near="bright", cmap="gray")
    np.testing.assert_array_equal(rgb, [[[255, 255, 255], [0, 0, 0]]])


def test_near_dark_flips_the_picture():
    rgb = colorize([[1.0, 5.0]], kind="depth", near="dark", cmap="gray")
    np.testing.assert_array_equal(rgb, [[[0, 0, 0], [255, 255, 255]]])


def test_magma_endpoints_match_matplotlib():
    rgb = colorize([[0.0, 2.0]], kind="disparity", cmap="magma")
    expected = np.round(colormaps["magma"]([0.0, 1.0])[:, :3] * 255).astype(np.uint8)
    np.testing.assert_array_equal(rgb[0], expected)


def test_invalid_pixels_get_the_invalid_colour_and_constant_maps_do_not_crash():
    rgb = colorize([[np.nan, 1.0], [1.0, np.inf]], kind="depth", cmap="gray", invalid_color=(1, 2, 3))
    assert tuple(rgb[0, 0]) == (1, 2, 3) and tuple(rgb[1, 1]) == (1, 2, 3)
    # a constant valid map has no range: nearness 0 -> depth inverted to 1 -> white
    assert tuple(rgb[0, 1]) == (255, 255, 255)


def test_nearness_is_one_at_the_nearest_pixel_for_both_kinds():
    np.testing.assert_array_equal(nearness([[2.0, 4.0, 6.0]], kind="depth"), [[1.0, 0.5, 0.0]])
    np.testing.assert_array_equal(nearness([[2.0, 4.0, 6.0]], kind="disparity"), [[0.0, 0.5, 1.0]])


@pytest.mark.parametrize("kwargs", [{"kind": "metres"}, {"kind": "depth", "near": "white"}])
def test_bad_convention_names_are_clear_errors(kwargs):
    with pytest.raises(ValueError, match="kind must be|near must be"):
        colorize([[1.0, 2.0]], **kwargs)


def test_colorize_needs_a_2d_map():
    with pytest.raises(ValueError, match="2-D"):
        colorize(np.zeros((2, 2, 2)), kind="depth")


def test_show_depth_labels_the_colorbar_with_units():
    fig = show_depth(np.zeros((4, 6, 3), dtype=np.uint8), np.linspace(1, 2, 24).reshape(4, 6), kind="depth", units="m")
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert "depth (m)" in labels
    assert len(fig.axes) == 3  # image, map, colorbar


def test_show_depth_without_units_says_relative():
    fig = show_depth(np.zeros((2, 2, 3), dtype=np.uint8), [[1.0, 2.0], [3.0, 4.0]], kind="disparity")
    assert "disparity (no units: relative)" in [ax.get_ylabel() for ax in fig.axes]


def test_show_grid_lays_out_rows_and_rejects_empty():
    maps = {f"m{i}": np.random.default_rng(i).random((3, 3)) for i in range(4)}
    fig = show_grid(maps, kind="depth", ncols=3)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["m0", "m1", "m2", "m3"]
    with pytest.raises(ValueError, match="at least one"):
        show_grid({}, kind="depth")
