"""Alignment (helpers.align): disparity-space scale-and-shift; notebook 05's own fit and median scaling."""

import numpy as np
import pytest

from helpers.align import align_disparity, fit_scale_shift
from helpers.metrics import abs_rel
from tests.lesson_code import lesson_function

NAN = np.nan


def test_fit_recovers_a_known_scale_and_shift_exactly():
    pred = np.array([[0.0, 1.0], [2.0, 3.0]])
    s, t = fit_scale_shift(pred, 2.5 * pred - 0.75)
    assert s == pytest.approx(2.5, abs=1e-12) and t == pytest.approx(-0.75, abs=1e-12)


def test_fit_matches_the_normal_equations_on_noisy_data():
    rng = np.random.default_rng(0)
    pred = rng.uniform(0, 1, 100)
    target = 3 * pred + 1 + rng.normal(0, 0.1, 100)
    expected = np.linalg.lstsq(np.stack([pred, np.ones_like(pred)], 1), target, rcond=None)[0]
    np.testing.assert_allclose(fit_scale_shift(pred, target), expected, rtol=1e-6)  # helpers compute from float32


def test_fit_ignores_invalid_pixels_and_respects_the_mask():
    pred = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    target = np.array([1.0, 3.0, NAN, 7.0, 100.0])  # 2 * pred + 1, except the last (masked out)
    s, t = fit_scale_shift(pred, target, mask=np.array([True, True, True, True, False]))
    assert (s, t) == pytest.approx((2.0, 1.0))


def test_fit_refuses_constant_or_too_small_inputs():
    with pytest.raises(ValueError, match="constant"):
        fit_scale_shift(np.full(4, 1e-7), np.arange(4.0))
    with pytest.raises(ValueError, match="at least 2"):
        fit_scale_shift(np.array([1.0, NAN]), np.array([1.0, 1.0]))


def test_align_disparity_recovers_depth_from_an_affine_disparity():
    gt_depth = np.array([[1.0, 2.0], [4.0, 5.0]])
    pred = (1 / gt_depth - 0.1) / 0.02  # what an affine-invariant model might output
    result = align_disparity(pred, gt_depth)
    assert result.scale == pytest.approx(0.02) and result.shift == pytest.approx(0.1)
    np.testing.assert_allclose(result.depth, gt_depth, rtol=1e-6)
    assert result.depth.dtype == np.float32


def test_align_disparity_applies_the_fit_everywhere_and_nans_non_positive_disparity():
    gt_depth = np.array([1.0, 0.5, NAN, NAN, NAN])
    pred = np.array([1.0, 2.0, 0.0, -1.0, NAN])  # fit: 1/gt = 1 * pred + 0
    result = align_disparity(pred, gt_depth)
    assert (result.scale, result.shift) == pytest.approx((1.0, 0.0))
    np.testing.assert_allclose(result.depth[:2], [1.0, 0.5])
    assert np.isnan(result.depth[2:]).all()  # disparity 0, negative, unknown -> no depth


def test_depth_space_affine_fit_cannot_undo_an_inverse_depth_prediction():
    gt_depth = np.linspace(2.0, 4.0, 50)
    pred = 1 / gt_depth  # a perfect disparity prediction
    s, t = fit_scale_shift(pred, gt_depth)  # the wrong space: depth ≈ s * pred + t
    assert s < 0  # the best straight line through a hyperbola even has the wrong sign
    assert abs_rel(s * pred + t, gt_depth) > 0.03  # measured 0.032
    assert abs_rel(align_disparity(pred, gt_depth).depth, gt_depth) < 1e-6
    wide = np.linspace(1.0, 10.0, 50)
    s, t = fit_scale_shift(1 / wide, wide)
    assert (s / wide + t).min() < 0  # over a wider range it even predicts negative depths


def test_the_lessons_fit_computes_what_helpers_fit_scale_shift_does():
    """Notebook 05 writes the fit with np.linalg.lstsq; helpers' closed form (reused by 10, 13, video) agrees."""
    lesson_fit = lesson_function("05", "fit_scale_shift")
    rng = np.random.default_rng(0)
    for size in (5, 100, 10_000):
        pred = rng.uniform(0.1, 3.0, size)
        target = 1.7 * pred - 0.4 + rng.normal(0, 0.05, size)
        target[::7] = NAN  # unknown ground truth: left out by both (the lesson through its mask)
        mask = np.isfinite(target) & (rng.uniform(size=size) > 0.2)
        np.testing.assert_allclose(lesson_fit(pred, target, mask), fit_scale_shift(pred, target, mask), rtol=1e-6)  # helpers: float32
    assert lesson_fit(np.arange(4.0), 2.5 * np.arange(4.0) - 0.75, np.ones(4, bool)) == pytest.approx((2.5, -0.75))


def test_the_lessons_median_scale():
    median_scale = lesson_function("05", "median_scale")
    gt = np.array([1.0, 2.0, 3.0, 4.0, 5.0, NAN])
    pred = np.array([0.5, 1.0, 1.5, 2.0, 2.5, 1.0])
    assert median_scale(pred, gt, np.isfinite(gt)) == 2.0
    assert median_scale(np.array([1.0, 2.0, 4.0]), np.array([9.0, 3.0, 3.0]), np.array([False, True, True])) == 1.0
