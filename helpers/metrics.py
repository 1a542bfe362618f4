"""Error metrics against ground truth, always computed on the pixels where both maps are valid.

Disparity metrics (stereo benchmarks): end-point error (EPE) and bad-N %.
"""

from __future__ import annotations

import numpy as np

from .depthmath import as_array


def _paired(pred, gt, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
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
    p, g = _paired(pred_disparity, gt_disparity, mask)
    return float(np.mean(np.abs(p - g)))


def bad_pixel_rate(pred_disparity, gt_disparity, threshold: float = 2.0, mask: np.ndarray | None = None) -> float:
    """bad-N: percentage of pixels valid in both whose disparity error exceeds ``threshold`` pixels."""
    p, g = _paired(pred_disparity, gt_disparity, mask)
    return float(100.0 * np.mean(np.abs(p - g) > threshold))


def density(pred, gt) -> float:
    """Percentage of ground-truth pixels where the prediction has a value too."""
    p, g = as_array(pred), as_array(gt)
    if p.shape != g.shape:
        raise ValueError(f"prediction shape {p.shape} does not match ground-truth shape {g.shape}.")
    known = np.isfinite(g)
    return float(100.0 * np.isfinite(p[known]).mean()) if known.any() else 0.0
