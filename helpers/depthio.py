"""Saving depth maps losslessly: 16-bit PNG with a stated scale, and .npy. Never overwrites unless asked.

One convention for the whole project: a 16-bit depth PNG stores ``round(metres * scale)`` with
``scale = DEPTH_PNG_SCALE = 1000`` (millimetres, 0.001 .. 65.535 m) unless a caller chooses another, and
0 for unknown pixels. Other datasets use other scales (KITTI's depth PNGs use 256, TUM RGB-D's 5000), so
every file written here carries its scale in a PNG text chunk (``depth_scale``) and the loader reads it:
a wrong scale can no longer be applied silently.
"""

from __future__ import annotations

import math
import numbers
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from .depthmath import as_array

UINT16_MAX = 65535
DEPTH_PNG_SCALE = 1000.0  # the project's default: PNG units per metre (1000 = millimetres)
SCALE_KEY = "depth_scale"  # the PNG text chunk that states the scale (units per metre)


def _writable(path: Path, overwrite: bool) -> Path:
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it, or choose another name.")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def save_depth_png16(path, depth_m, scale: float = DEPTH_PNG_SCALE, overwrite: bool = False) -> Path:
    """Write depth (metres) as a 16-bit PNG of round(depth * scale), 0 for unknown, with the scale in the file.

    The default scale 1000 stores millimetres, so the range is 0.001 m .. 65.535 m. The scale is written
    to the PNG text chunk ``depth_scale``, which ``load_depth_png16`` reads back.
    """
    if isinstance(scale, (str, bytes, bool)) or not isinstance(scale, numbers.Real) or not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number of PNG units per metre (e.g. 1000 for millimetres), got {scale!r}.")
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
    info = PngImagePlugin.PngInfo()
    info.add_text(SCALE_KEY, repr(float(scale)))
    Image.fromarray(stored.astype(np.uint16)).save(target, format="PNG", pnginfo=info)
    return target


def png_depth_scale(path) -> float | None:
    """The scale (PNG units per metre) a depth PNG states in its ``depth_scale`` text chunk; None if it states none."""
    with Image.open(path) as image:
        text = getattr(image, "text", {}) or {}
    if SCALE_KEY not in text:
        return None
    try:
        return float(text[SCALE_KEY])
    except ValueError:
        raise ValueError(f"{path} has a {SCALE_KEY} text chunk that is not a number: {text[SCALE_KEY]!r}.") from None


def load_depth_png16(path, scale: float | None = None) -> np.ndarray:
    """Read a 16-bit depth PNG as float32 metres, NaN where 0 (unknown), using the scale the file states.

    ``scale=None`` (the default) uses the file's ``depth_scale`` chunk; for a file without one (e.g. a
    KITTI PNG, scale 256) pass the scale, otherwise the project default 1000 is assumed with a warning.
    A ``scale`` that contradicts the file's own is an error.
    """
    stated = png_depth_scale(path)
    if stated is not None and scale is not None and not math.isclose(float(scale), stated, rel_tol=1e-9):
        raise ValueError(
            f"{path} states its depth scale as {stated:g} units per metre (PNG text chunk {SCALE_KEY!r}), "
            f"but scale={scale:g} was passed; leave scale out to use the file's, or pass scale={stated:g}."
        )
    if stated is None and scale is None:
        warnings.warn(
            f"{path} does not state its depth scale (no {SCALE_KEY!r} text chunk); assuming {DEPTH_PNG_SCALE:g} "
            f"units per metre (millimetres). Pass scale= to say what it is (KITTI depth PNGs use 256).",
            UserWarning, stacklevel=2,
        )
    used = stated if stated is not None else (DEPTH_PNG_SCALE if scale is None else float(scale))
    with Image.open(path) as image:
        raw = np.asarray(image)
    if raw.dtype not in (np.uint16, np.int32) or raw.ndim != 2:
        raise ValueError(f"{path} is not a single-channel 16-bit PNG (got {raw.dtype}, shape {raw.shape}).")
    depth = raw.astype(np.float32) / np.float32(used)
    depth[raw == 0] = np.nan
    return depth


def save_depth_npy(path, depth, overwrite: bool = False) -> Path:
    """Write a depth map as float32 .npy (exact, NaN kept)."""
    target = _writable(path, overwrite)
    np.save(target, as_array(depth))
    return target
