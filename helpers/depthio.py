"""Saving depth maps losslessly: 16-bit PNG with a stated scale, and .npy. Never overwrites unless asked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .depthmath import as_array

UINT16_MAX = 65535


def _writable(path: Path, overwrite: bool) -> Path:
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it, or choose another name.")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def save_depth_png16(path, depth_m, scale: float = 1000.0, overwrite: bool = False) -> Path:
    """Write depth (metres) as a 16-bit PNG storing round(depth * scale); 0 marks unknown pixels.

    The default scale 1000 stores millimetres, so the range is 0.001 m .. 65.535 m.
    """
    depth = as_array(depth_m)
    if depth.ndim != 2:
        raise ValueError(f"need one 2-D depth map, got shape {depth.shape}.")
    valid = np.isfinite(depth)
    if (depth[valid] < 0).any():
        raise ValueError("depth must be >= 0 metres; negative values cannot be stored in a 16-bit PNG.")
    stored = np.zeros(depth.shape, dtype=np.float64)
    stored[valid] = np.round(depth[valid].astype(np.float64) * scale)
    if stored.max(initial=0) > UINT16_MAX:
        raise ValueError(
            f"depth up to {float(depth[valid].max()):.3f} m does not fit 16 bits at scale {scale} "
            f"(max {UINT16_MAX / scale:.3f} m); use a smaller scale, e.g. {UINT16_MAX / float(depth[valid].max()):.1f}."
        )
    target = _writable(path, overwrite)
    Image.fromarray(stored.astype(np.uint16)).save(target, format="PNG")
    return target


def load_depth_png16(path, scale: float = 1000.0) -> np.ndarray:
    """Read a 16-bit depth PNG written with ``scale``: float32 metres, NaN where 0 (unknown)."""
    raw = np.asarray(Image.open(path))
    if raw.dtype not in (np.uint16, np.int32) or raw.ndim != 2:
        raise ValueError(f"{path} is not a single-channel 16-bit PNG (got {raw.dtype}, shape {raw.shape}).")
    depth = raw.astype(np.float32) / np.float32(scale)
    depth[raw == 0] = np.nan
    return depth


def save_depth_npy(path, depth, overwrite: bool = False) -> Path:
    """Write a depth map as float32 .npy (exact, NaN kept)."""
    target = _writable(path, overwrite)
    np.save(target, as_array(depth))
    return target
