"""Depth maths: normalisation for pictures, depth <-> disparity, stereo triangulation.

Conventions, the same everywhere in this project:
- "invalid" means not finite (NaN, +inf, -inf) or outside the optional ``mask``;
- normalised pictures are float32 in [0, 1]; invalid pixels get ``fill`` (default 0.0), never NaN;
- a map whose valid values are all equal (no range) normalises to 0.0 on its valid pixels;
- conversions that divide (depth <-> disparity) return NaN where the input is invalid or <= 0.
"""

from __future__ import annotations

import numpy as np


def as_array(values) -> np.ndarray:
    """A float32 NumPy copy of a NumPy array, torch tensor or PIL image (batch/channel dims of 1 squeezed)."""
    if hasattr(values, "detach"):  # torch tensor
        values = values.detach().float().cpu().numpy()
    array = np.array(values, dtype=np.float32)
    while array.ndim > 2 and array.shape[0] == 1:
        array = array[0]
    return array


def valid_mask(values, mask: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask of finite values, and-ed with ``mask`` when given (shapes must match)."""
    array = as_array(values)
    valid = np.isfinite(array)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != array.shape:
            raise ValueError(f"mask shape {mask.shape} does not match values shape {array.shape}.")
        valid &= mask
    return valid


def _normalise_between(array: np.ndarray, valid: np.ndarray, low: float, high: float, fill: float) -> np.ndarray:
    out = np.full(array.shape, fill, dtype=np.float32)
    if high > low:
        out[valid] = np.clip((array[valid] - low) / (high - low), 0.0, 1.0)
    else:
        out[valid] = 0.0
    return out


def normalize_minmax(values, mask: np.ndarray | None = None, fill: float = 0.0) -> np.ndarray:
    """Scale valid values linearly to [0, 1] (min -> 0, max -> 1); invalid pixels get ``fill``."""
    array = as_array(values)
    valid = valid_mask(array, mask)
    if not valid.any():
        return np.full(array.shape, fill, dtype=np.float32)
    picked = array[valid]
    return _normalise_between(array, valid, float(picked.min()), float(picked.max()), fill)


def normalize_percentile(
    values, low: float = 2.0, high: float = 98.0, mask: np.ndarray | None = None, fill: float = 0.0
) -> np.ndarray:
    """Robust scaling to [0, 1]: the ``low``/``high`` percentiles of valid values map to 0/1, outliers clip."""
    if not 0.0 <= low < high <= 100.0:
        raise ValueError(f"need 0 <= low < high <= 100, got low={low}, high={high}.")
    array = as_array(values)
    valid = valid_mask(array, mask)
    if not valid.any():
        return np.full(array.shape, fill, dtype=np.float32)
    lo, hi = np.percentile(array[valid], [low, high])
    return _normalise_between(array, valid, float(lo), float(hi), fill)


def _safe_reciprocal(numerator: float, values) -> np.ndarray:
    array = as_array(values)
    out = np.full(array.shape, np.nan, dtype=np.float32)
    good = np.isfinite(array) & (array > 0)
    out[good] = numerator / array[good]
    return out


def depth_to_disparity(depth, focal_baseline: float = 1.0) -> np.ndarray:
    """Disparity (inverse depth) ``focal_baseline / depth``; NaN where depth is invalid or <= 0."""
    return _safe_reciprocal(focal_baseline, depth)


def disparity_to_depth(disparity, focal_baseline: float = 1.0) -> np.ndarray:
    """Depth ``focal_baseline / disparity``; NaN where disparity is invalid or <= 0."""
    return _safe_reciprocal(focal_baseline, disparity)


def stereo_disparity_to_depth(disparity, focal_px: float, baseline: float, doffs_px: float = 0.0) -> np.ndarray:
    """Triangulate: depth = focal * baseline / (disparity + doffs), in the units of ``baseline``."""
    return _safe_reciprocal(focal_px * baseline, as_array(disparity) + np.float32(doffs_px))
