"""Error metrics against ground truth, always computed on the pixels where both maps are valid.

Disparity metrics (stereo benchmarks): end-point error (EPE) and bad-N %.
Depth metrics (monocular benchmarks): AbsRel, SqRel, RMSE, RMSE-log, log10, δ < 1.25 / 1.25² / 1.25³.
"""

from __future__ import annotations

import numpy as np

from .depthmath import as_array


def paired_values(pred, gt, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The valid (finite in both, inside ``mask``) values of two same-shaped maps."""
    p, g = as_array(pred), as_array(gt)
    if p.shape != g.shape:
        raise ValueError(f"prediction shape {p.shape} does not match ground-truth shape {g.shape}; resize first.")
    valid = np.isfinite(p) & np.isfinite(g)
    if mask is not None:
        valid &= np.asarray(mask, dtype=bool)
    if not valid.any():
        raise ValueError("no pixel is valid in both maps (and the mask): nothing to compare.")
    return p[valid].astype(np.float64), g[valid].astype(np.float64)


def epe(pred_disparity, gt_disparity, mask: np.ndarray | None = None) -> float:
    """End-point error: mean |pred - gt| in pixels over pixels valid in both."""
    p, g = paired_values(pred_disparity, gt_disparity, mask)
    return float(np.mean(np.abs(p - g)))


def bad_pixel_rate(pred_disparity, gt_disparity, threshold: float = 2.0, mask: np.ndarray | None = None) -> float:
    """bad-N: percentage of pixels valid in both whose disparity error exceeds ``threshold`` pixels."""
    p, g = paired_values(pred_disparity, gt_disparity, mask)
    return float(100.0 * np.mean(np.abs(p - g) > threshold))


def match_density(pred, gt) -> float:
    """Percentage of ground-truth pixels where the prediction has a value too."""
    p, g = as_array(pred), as_array(gt)
    if p.shape != g.shape:
        raise ValueError(f"prediction shape {p.shape} does not match ground-truth shape {g.shape}.")
    known = np.isfinite(g)
    return float(100.0 * np.isfinite(p[known]).mean()) if known.any() else 0.0


# ---- depth metrics (the monocular-depth literature, Eigen et al. 2014) ------------------------
#
# All computed on pixels where both maps are finite, the ground truth is > 0 (0 often marks
# "unknown" in depth files) and the optional mask is True. A finite prediction <= 0 on such a pixel
# is an error (logarithms and ratios are undefined): clip it or mask it, never drop it silently.

DEPTH_METRICS = ("abs_rel", "sq_rel", "rmse", "rmse_log", "log10", "delta1", "delta2", "delta3")


def _paired_depth(pred, gt, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Valid depth pairs: finite in both, GT > 0, inside ``mask``; refuses non-positive predictions."""
    g_all = as_array(gt)
    known = np.isfinite(g_all) & (g_all > 0)
    mask = known if mask is None else known & np.asarray(mask, dtype=bool)
    p, g = paired_values(pred, g_all, mask)
    if (p <= 0).any():
        raise ValueError(
            f"{int((p <= 0).sum())} valid prediction pixels are <= 0, where depth errors are undefined. "
            "Clip the prediction (e.g. np.clip(pred, 1e-3, None)) or set those pixels to NaN first."
        )
    return p, g


def abs_rel(pred_depth, gt_depth, mask: np.ndarray | None = None) -> float:
    """Absolute relative error: mean |pred - gt| / gt."""
    p, g = _paired_depth(pred_depth, gt_depth, mask)
    return float(np.mean(np.abs(p - g) / g))


def sq_rel(pred_depth, gt_depth, mask: np.ndarray | None = None) -> float:
    """Squared relative error: mean (pred - gt)^2 / gt (in the depth unit)."""
    p, g = _paired_depth(pred_depth, gt_depth, mask)
    return float(np.mean((p - g) ** 2 / g))


def rmse(pred_depth, gt_depth, mask: np.ndarray | None = None) -> float:
    """Root-mean-square error, in the depth unit."""
    p, g = _paired_depth(pred_depth, gt_depth, mask)
    return float(np.sqrt(np.mean((p - g) ** 2)))


def rmse_log(pred_depth, gt_depth, mask: np.ndarray | None = None) -> float:
    """Root-mean-square error of natural logs: sqrt(mean (ln pred - ln gt)^2)."""
    p, g = _paired_depth(pred_depth, gt_depth, mask)
    return float(np.sqrt(np.mean((np.log(p) - np.log(g)) ** 2)))


def log10_error(pred_depth, gt_depth, mask: np.ndarray | None = None) -> float:
    """Mean absolute log10 error: mean |log10 pred - log10 gt|."""
    p, g = _paired_depth(pred_depth, gt_depth, mask)
    return float(np.mean(np.abs(np.log10(p) - np.log10(g))))


def delta_accuracy(pred_depth, gt_depth, power: int = 1, mask: np.ndarray | None = None) -> float:
    """Threshold accuracy δ < 1.25**power: fraction (0..1) of pixels with max(pred/gt, gt/pred) < 1.25**power."""
    p, g = _paired_depth(pred_depth, gt_depth, mask)
    return float(np.mean(np.maximum(p / g, g / p) < 1.25**power))


def depth_metrics(pred_depth, gt_depth, mask: np.ndarray | None = None) -> dict[str, float]:
    """All the usual depth metrics in one dict (keys in ``DEPTH_METRICS``; δ as fractions 0..1)."""
    return {
        "abs_rel": abs_rel(pred_depth, gt_depth, mask),
        "sq_rel": sq_rel(pred_depth, gt_depth, mask),
        "rmse": rmse(pred_depth, gt_depth, mask),
        "rmse_log": rmse_log(pred_depth, gt_depth, mask),
        "log10": log10_error(pred_depth, gt_depth, mask),
        "delta1": delta_accuracy(pred_depth, gt_depth, 1, mask),
        "delta2": delta_accuracy(pred_depth, gt_depth, 2, mask),
        "delta3": delta_accuracy(pred_depth, gt_depth, 3, mask),
    }


def metrics_table(rows: dict[str, dict[str, float]], digits: int = 3) -> str:
    """A plain-text table: one row per method (its name → a ``depth_metrics`` dict), one column per metric."""
    if not rows:
        raise ValueError("metrics_table needs at least one row, e.g. {'stereo': depth_metrics(pred, gt)}.")
    columns = list(dict.fromkeys(key for row in rows.values() for key in row))
    width = max(len(name) for name in rows)
    cells = max(digits + 3, *(len(c) for c in columns))
    lines = [" " * width + "  " + "  ".join(f"{c:>{cells}}" for c in columns)]
    for name, row in rows.items():
        values = "  ".join(f"{row[c]:>{cells}.{digits}f}" if c in row else " " * (cells - 1) + "-" for c in columns)
        lines.append(f"{name:<{width}}  {values}")
    return "\n".join(lines)
