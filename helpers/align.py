"""Aligning predictions to ground truth before evaluation: scale-and-shift in disparity space.

Relative models such as Depth Anything and MiDaS predict disparity (inverse depth) up to an unknown
scale *and shift*, so the fit belongs in disparity space: ``1/depth ≈ s * pred + t``. Notebook 05 writes the
fit in its cells; these are the versions later notebooks reuse (tests/test_align.py holds the two equal).

Conventions: fits use the pixels where prediction and ground truth are both finite, the ground
truth is > 0 and the optional mask is True; the fitted map is applied to every pixel; the returned
depth is NaN wherever it is not a positive finite number (e.g. aligned disparity <= 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .depthmath import as_array, depth_to_disparity, disparity_to_depth
from .metrics import paired_values


@dataclass(frozen=True)
class Alignment:
    """An aligned depth map (NaN where undefined) and the fitted ``scale`` and ``shift``."""

    depth: np.ndarray
    scale: float
    shift: float


def fit_scale_shift(pred, target, mask: np.ndarray | None = None) -> tuple[float, float]:
    """Least-squares (s, t) minimising sum (s * pred + t - target)^2 over pixels valid in both."""
    p, g = paired_values(pred, target, mask)
    if p.size < 2:
        raise ValueError(f"need at least 2 valid pixels to fit a scale and a shift, got {p.size}.")
    p_mean, g_mean = p.mean(), g.mean()
    variance = np.mean((p - p_mean) ** 2)
    if not variance > 0:
        raise ValueError("the prediction is constant on the valid pixels: its scale and shift cannot be fitted.")
    scale = np.mean((p - p_mean) * (g - g_mean)) / variance
    return float(scale), float(g_mean - scale * p_mean)


def _positive_depth(depth: np.ndarray) -> np.ndarray:
    out = np.asarray(depth, dtype=np.float32).copy()
    out[~(np.isfinite(out) & (out > 0))] = np.nan
    return out


def align_disparity(pred_disparity, gt_depth, mask: np.ndarray | None = None) -> Alignment:
    """Fit ``1/gt ≈ s * pred + t`` (disparity space) and return the aligned depth ``1 / (s * pred + t)``.

    Pixels whose aligned disparity is <= 0 or not finite get NaN depth.
    """
    pred = as_array(pred_disparity).astype(np.float64)
    inverse_gt = depth_to_disparity(gt_depth)  # NaN where GT is unknown or <= 0
    scale, shift = fit_scale_shift(pred, inverse_gt, mask)
    aligned = (scale * pred + shift).astype(np.float32)
    return Alignment(_positive_depth(disparity_to_depth(aligned)), scale, shift)

