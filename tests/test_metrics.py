"""helpers.metrics: depth and disparity metrics against values computed by hand."""

import math

import numpy as np
import pytest

from helpers.metrics import (
    DEPTH_METRICS,
    abs_rel,
    bad_pixel_rate,
    delta_accuracy,
    depth_metrics,
    epe,
    log10_error,
    match_density,
    rmse,
    rmse_log,
    sq_rel,
)

NAN, INF = np.nan, np.inf


def test_perfect_prediction_scores_zero_error_and_full_accuracy():
    gt = np.array([[1.0, 2.0], [4.0, 8.0]])
    assert depth_metrics(gt, gt) == {
        "abs_rel": 0.0, "sq_rel": 0.0, "rmse": 0.0, "rmse_log": 0.0, "log10": 0.0,
        "delta1": 1.0, "delta2": 1.0, "delta3": 1.0,
    }
    assert tuple(depth_metrics(gt, gt)) == DEPTH_METRICS


def test_a_prediction_1_5_times_too_far_gives_the_hand_computed_values():
    gt = np.array([[1.0, 2.0], [4.0, 8.0]])
    got = depth_metrics(1.5 * gt, gt)
    # |1.5g - g| / g = 0.5; (0.5 g)^2 / g = 0.25 g -> 0.25 * mean(1, 2, 4, 8) = 0.9375
    assert got["abs_rel"] == pytest.approx(0.5)
    assert got["sq_rel"] == pytest.approx(0.9375)
    assert got["rmse"] == pytest.approx(0.5 * math.sqrt(85 / 4))  # sqrt(mean (0.5 g)^2)
    assert got["rmse_log"] == pytest.approx(math.log(1.5))
    assert got["log10"] == pytest.approx(math.log10(1.5))
    # ratio 1.5: not < 1.25, but < 1.25^2 = 1.5625 and < 1.25^3 = 1.953125
    assert (got["delta1"], got["delta2"], got["delta3"]) == (0.0, 1.0, 1.0)


def test_a_prediction_too_near_by_the_same_factor_scores_the_same_deltas():
    gt = np.array([1.0, 2.0, 4.0, 8.0])
    assert depth_metrics(gt / 2, gt)["delta3"] == depth_metrics(gt * 2, gt)["delta3"] == 0.0  # 2 > 1.953125
    assert depth_metrics(gt / 2, gt)["rmse_log"] == pytest.approx(math.log(2))


def test_each_metric_on_a_mixed_example():
    gt = np.array([2.0, 4.0, 5.0, 10.0])
    pred = np.array([2.0, 5.0, 4.0, 13.0])  # ratios 1, 1.25, 1.25, 1.3
    assert abs_rel(pred, gt) == pytest.approx((0 + 0.25 + 0.2 + 0.3) / 4)
    assert sq_rel(pred, gt) == pytest.approx((0 + 1 / 4 + 1 / 5 + 9 / 10) / 4)
    assert rmse(pred, gt) == pytest.approx(math.sqrt((0 + 1 + 1 + 9) / 4))
    logs = np.log([1.0, 1.25, 0.8, 1.3])
    assert rmse_log(pred, gt) == pytest.approx(math.sqrt(np.mean(logs**2)))
    assert log10_error(pred, gt) == pytest.approx(np.mean(np.abs(logs)) / math.log(10))
    # δ uses a strict "<": exactly 1.25 does not count for δ1
    assert delta_accuracy(pred, gt, 1) == pytest.approx(0.25)
    assert delta_accuracy(pred, gt, 2) == pytest.approx(1.0)


def test_nan_inf_and_zero_ground_truth_are_ignored():
    gt = np.array([[1.0, NAN, INF], [0.0, 2.0, -INF]])
    pred = np.array([[2.0, 5.0, 5.0], [5.0, 2.0, 5.0]])
    # only (1 -> 2) and (2 -> 2) are compared
    assert abs_rel(pred, gt) == pytest.approx(0.5)
    assert rmse(pred, gt) == pytest.approx(math.sqrt(0.5))
    assert delta_accuracy(pred, gt) == pytest.approx(0.5)


def test_nan_predictions_and_the_mask_drop_pixels():
    gt = np.array([1.0, 2.0, 4.0])
    pred = np.array([NAN, 3.0, 4.0])
    assert abs_rel(pred, gt) == pytest.approx(0.25)
    assert abs_rel(pred, gt, mask=np.array([True, False, True])) == 0.0


def test_non_positive_predictions_are_refused_not_dropped():
    with pytest.raises(ValueError, match="<= 0"):
        depth_metrics(np.array([1.0, 0.0]), np.array([1.0, 1.0]))
    with pytest.raises(ValueError, match="<= 0"):
        abs_rel(np.array([-1.0, 1.0]), np.array([1.0, 1.0]))


def test_shape_mismatch_and_nothing_valid_raise():
    with pytest.raises(ValueError, match="resize first"):
        rmse(np.ones((2, 2)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="nothing to compare"):
        rmse(np.ones(2), np.array([NAN, 0.0]))


def test_metrics_table_lines_up_rows_and_marks_missing_values():
    from helpers.metrics import metrics_table

    table = metrics_table({"a": {"abs_rel": 0.12345, "rmse": 1.0}, "longer": {"abs_rel": 2.0}}, digits=2)
    assert table.splitlines() == [
        "        abs_rel     rmse",  # every column as wide as the longest name (7)
        "a          0.12     1.00",
        "longer     2.00        -",
    ]
    with pytest.raises(ValueError, match="at least one row"):
        metrics_table({})


# ---- disparity metrics on hand-computed arrays -----------------------------------------------

def test_epe_and_bad_pixels_on_known_values():
    gt = np.array([[10.0, 20.0], [30.0, NAN]])
    pred = np.array([[11.0, 23.0], [30.0, 5.0]])
    assert epe(pred, gt) == pytest.approx((1 + 3 + 0) / 3)
    assert bad_pixel_rate(pred, gt, threshold=2.0) == pytest.approx(100 / 3)
    assert bad_pixel_rate(pred, gt, threshold=0.5) == pytest.approx(200 / 3)


def test_perfect_prediction_has_zero_error():
    gt = np.arange(12, dtype=float).reshape(3, 4)
    assert epe(gt, gt) == 0.0 and bad_pixel_rate(gt, gt) == 0.0


def test_match_density_counts_predictions_on_known_ground_truth():
    gt = np.array([[1.0, 2.0, NAN, 4.0]])
    pred = np.array([[1.0, NAN, 3.0, NAN]])
    assert match_density(pred, gt) == pytest.approx(100 / 3)


def test_metrics_refuse_mismatched_shapes_and_empty_overlap():
    with pytest.raises(ValueError, match="resize first"):
        epe(np.zeros((2, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="nothing to compare"):
        epe(np.full((2, 2), NAN), np.ones((2, 2)))
