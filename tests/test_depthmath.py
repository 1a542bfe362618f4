import numpy as np
import pytest
import torch

from helpers.depthmath import (
    as_array,
    depth_to_disparity,
    disparity_to_depth,
    normalize_minmax,
    normalize_percentile,
    stereo_disparity_to_depth,
    valid_mask,
)

NAN, INF = np.nan, np.inf


def test_minmax_maps_min_to_0_and_max_to_1():
    out = normalize_minmax([[1.0, 2.0], [3.0, 5.0]])
    np.testing.assert_array_equal(out, np.array([[0.0, 0.25], [0.5, 1.0]], dtype=np.float32))
    assert out.dtype == np.float32


def test_minmax_ignores_nan_and_inf_and_fills_them():
    out = normalize_minmax([[NAN, 2.0], [4.0, INF]], fill=0.0)
    np.testing.assert_array_equal(out, [[0.0, 0.0], [1.0, 0.0]])
    assert not np.isnan(out).any()


def test_minmax_respects_mask():
    out = normalize_minmax([[0.0, 10.0], [20.0, 1000.0]], mask=[[True, True], [True, False]], fill=-1.0)
    np.testing.assert_array_equal(out, [[0.0, 0.5], [1.0, -1.0]])


@pytest.mark.parametrize("values", [[[3.0, 3.0], [3.0, 3.0]], [[NAN, NAN], [INF, -INF]]])
def test_constant_or_all_invalid_maps_give_zeros_not_nan(values):
    out = normalize_minmax(values)
    np.testing.assert_array_equal(out, np.zeros((2, 2), dtype=np.float32))
    np.testing.assert_array_equal(normalize_percentile(values), np.zeros((2, 2), dtype=np.float32))


def test_empty_mask_gives_fill_everywhere():
    out = normalize_minmax([[1.0, 2.0]], mask=[[False, False]], fill=0.5)
    np.testing.assert_array_equal(out, [[0.5, 0.5]])


def test_mismatched_mask_is_a_clear_error():
    with pytest.raises(ValueError, match="mask shape"):
        normalize_minmax(np.zeros((2, 2)), mask=np.ones((3, 3), dtype=bool))


def test_percentile_clips_outliers():
    values = np.arange(101, dtype=np.float64)  # percentiles are the values themselves
    out = normalize_percentile(values, low=10, high=90)
    assert out[50] == pytest.approx(0.5)
    assert out[0] == 0.0 and out[10] == 0.0 and out[90] == 1.0 and out[100] == 1.0
    assert out[30] == pytest.approx(0.25)


def test_percentile_rejects_bad_bounds():
    with pytest.raises(ValueError, match="low < high"):
        normalize_percentile([1.0, 2.0], low=90, high=10)


def test_depth_disparity_inverse_with_invalid_values():
    out = depth_to_disparity([[2.0, 0.0], [-1.0, NAN]])
    assert out[0, 0] == 0.5
    assert np.isnan(out[0, 1]) and np.isnan(out[1, 0]) and np.isnan(out[1, 1])


def test_depth_disparity_round_trip():
    depth = np.array([[0.5, 1.0], [4.0, 80.0]], dtype=np.float32)
    np.testing.assert_allclose(disparity_to_depth(depth_to_disparity(depth, 7.0), 7.0), depth, rtol=1e-6)


def test_stereo_formula_on_a_known_pixel():
    # 1000 px * 0.2 m / (90 px + 10 px) = 2 m
    out = stereo_disparity_to_depth(np.array([[90.0, NAN]]), focal_px=1000.0, baseline=0.2, doffs_px=10.0)
    assert out[0, 0] == pytest.approx(2.0)
    assert np.isnan(out[0, 1])


def test_as_array_accepts_tensors_and_squeezes_batch():
    out = as_array(torch.arange(6, dtype=torch.float64).reshape(1, 1, 2, 3))
    assert out.shape == (2, 3) and out.dtype == np.float32 and out[1, 2] == 5.0


def test_valid_mask():
    np.testing.assert_array_equal(valid_mask([[1.0, NAN, INF]]), [[True, False, False]])

