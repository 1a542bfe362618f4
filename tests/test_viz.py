"""helpers.viz: the near/far convention, the fast colorize path against its definition, the figures."""

import numpy as np
import pytest
from matplotlib import colormaps

from helpers.depthmath import normalize_minmax, normalize_percentile
from helpers.viz import UNKNOWN_GREY, bright_is_large, colorize, show_depth, show_grid


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


def test_a_fixed_value_range_scales_like_the_map_spanning_it_and_clips_outside():
    fixed = colorize([[0.5, 2.0, -1.0]], kind="disparity", cmap="gray", value_range=(0.0, 1.0))
    spanning = colorize([[0.0, 0.5, 1.0]], kind="disparity", cmap="gray")
    np.testing.assert_array_equal(fixed[0, 0], spanning[0, 1])  # 0.5 sits in the middle of (0, 1)
    np.testing.assert_array_equal(fixed[0, 1:], spanning[0, [2, 0]])  # 2.0 clipped to the top, -1.0 to the bottom


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


@pytest.mark.parametrize("kind, near, expected", [("depth", "bright", False), ("depth", "dark", True),
                                                  ("disparity", "bright", True), ("disparity", "dark", False)])
def test_the_convention_in_one_place(kind, near, expected):
    assert bright_is_large(kind, near) is expected


def test_unknown_pixels_are_the_same_grey_in_colorize_and_show_depth():
    values = np.array([[1.0, np.nan], [2.0, 3.0]], dtype=np.float32)
    assert UNKNOWN_GREY == (153, 153, 153)
    assert tuple(colorize(values, kind="depth")[0, 1]) == (153, 153, 153)
    fig = show_depth(np.zeros((2, 2, 3), dtype=np.uint8), values, kind="depth")
    drawn = fig.axes[1].images[0]
    rgba = drawn.to_rgba(drawn.get_array(), bytes=True)
    assert tuple(rgba[0, 1]) == (153, 153, 153, 255)
    assert tuple(rgba[0, 0]) != (153, 153, 153, 255)


def _reference(values, kind, near, cmap, robust=False):
    """The definition, recomputed independently in float64: scale to [0, 1], flip as asked, look up."""
    values = np.asarray(values, dtype=np.float64)
    level = (normalize_percentile if robust else normalize_minmax)(values).astype(np.float64)
    if (kind == "depth") == (near == "bright"):
        level = 1.0 - level
    table = np.round(colormaps[cmap](np.linspace(0.0, 1.0, 256))[:, :3] * 255).astype(np.uint8)
    rgb = table[np.round(level * 255).astype(np.uint8)]
    rgb[~np.isfinite(values)] = UNKNOWN_GREY
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


def _stamps(ax):
    from helpers.viz import WATERMARK

    return [t for t in ax.texts if t.get_text() == WATERMARK]


def test_a_stand_ins_maps_are_stamped_and_faded_and_a_real_models_are_not(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.standins import MARKER
    from helpers.viz import mark_if_stand_in

    stand_in = tmp_path / "stand-in"
    stand_in.mkdir()
    (stand_in / MARKER).write_text("{}")
    values = np.arange(12, dtype=np.float32).reshape(3, 4)

    fig, (flat, colorbar_owner) = plt.subplots(1, 2)
    image = flat.imshow(values)
    colorbar_owner.imshow(values)
    bar = fig.colorbar(image, ax=colorbar_owner)
    flat_3d = fig.add_subplot(2, 2, 4, projection="3d")
    flat_3d.scatter([0, 1], [0, 1], [0, 1])
    assert mark_if_stand_in(fig, str(stand_in)) is True
    assert [len(_stamps(ax)) for ax in (flat, colorbar_owner, bar.ax, flat_3d)] == [1, 1, 0, 1]
    assert image.get_alpha() == 0.35

    fig, ax = plt.subplots()
    real = ax.imshow(values)
    assert mark_if_stand_in(fig, str(tmp_path)) is False  # a folder without the stand-in mark
    assert (_stamps(ax), real.get_alpha()) == ([], None)


def test_show_depth_stamps_the_map_exactly_when_its_title_carries_the_stand_in_label():
    from helpers.standins import STAND_IN_LABEL

    image = np.zeros((3, 4, 3), np.uint8)
    values = np.arange(12, dtype=np.float32).reshape(3, 4)
    stamped = show_depth(image, values, kind="depth", title="depth\n" + STAND_IN_LABEL)
    plain = show_depth(image, values, kind="depth", title="depth")
    assert [len(_stamps(ax)) for ax in stamped.axes[:2]] == [0, 1]
    assert sum(len(_stamps(ax)) for ax in plain.axes) == 0


@pytest.mark.parametrize("tiled", [False, True])
def test_a_stand_ins_picture_is_faded_and_stamped_in_red(tiled):
    from helpers.viz import STAMP_RED, stamp_picture

    black = np.zeros((120, 320, 3), np.uint8)
    stamped = stamp_picture(black, tiled=tiled)
    assert black.max() == 0  # the caller's picture is left as it was
    assert (stamped == 165).all(axis=2).mean() > 0.5  # black faded to 0.65 * 255
    red = (np.abs(stamped.astype(int) - STAMP_RED).sum(axis=2) < 60)
    quarters = [red[:, q * 80:(q + 1) * 80].any() for q in range(4)]
    assert all(quarters) if tiled else red[:, 120:200].any()  # tiled: every part of the width shows the stamp
