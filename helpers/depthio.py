"""Depth files: 16-bit PNG with a stated scale, and .npy; written losslessly (never over a file unless asked) and
read back in metres, with every error naming the file.

One convention for the whole project: a 16-bit depth PNG stores ``round(metres * scale)`` with
``scale = DEPTH_PNG_SCALE = 1000`` (millimetres, 0.001 .. 65.535 m) unless a caller chooses another, and
0 for unknown pixels. Other datasets use other scales (KITTI's depth PNGs use 256, TUM RGB-D's 5000), so
every file written here carries its scale in a PNG text chunk (``depth_scale``) and the loader reads it:
a wrong scale can no longer be applied silently. A depth file's unit is never guessed: an integer file (PNG or
``.npy``) that does not state its scale is refused until the caller states it (``depth_scale``).
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
    """The scale (PNG units per metre) a depth PNG states in its ``depth_scale`` text chunk; None if it states none.

    A chunk before the pixels (where ``save_depth_png16`` writes it) is read with the header; only a file without
    one is read to its end, where a text chunk may also stand.
    """
    with Image.open(path) as image:
        text = dict(image.info)
        if SCALE_KEY not in text:
            try:
                text = getattr(image, "text", {}) or {}  # chunks after the pixels: Pillow decodes the image to reach them
            except (OSError, SyntaxError, ValueError, EOFError) as err:
                raise ValueError(f"{path} is truncated or damaged ({err}); copy it again.") from err
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
        try:
            raw = np.asarray(image)
        except (OSError, SyntaxError, ValueError, EOFError) as err:  # Pillow's "image file is truncated" names no file
            raise ValueError(f"{path} is truncated or damaged ({err}); copy it again.") from err
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


DEPTH_SUFFIXES = (".png", ".npy")
SCALE_ADVICE = "(units per metre: 1000 for millimetres, 256 for KITTI, 5000 for TUM RGB-D)"


def _npy_header(path: Path) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of a .npy file from its header, checking that the file holds all the data it announces."""
    with open(path, "rb") as file:
        try:
            major, _ = np.lib.format.read_magic(file)
            read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
            shape, _, dtype = read(file)
        except (ValueError, OSError, SyntaxError, EOFError) as err:
            raise ValueError(f"{path} is not a readable NumPy .npy file ({err}); save the depth with "
                             "helpers.save_depth_npy (float32 metres).") from err
        offset = file.tell()
    if dtype.hasobject:
        raise ValueError(
            f"{path} holds Python objects (dtype {dtype}), which NumPy stores pickled; a depth map is a plain array of "
            "numbers. Open it yourself only if you trust where it came from (np.load(path, allow_pickle=True)), then "
            "save the depth as float32 metres (helpers.save_depth_npy).")
    needed = offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if path.stat().st_size < needed:
        raise ValueError(f"{path} is truncated: its header announces {shape} values of {dtype} ({needed} bytes) but "
                         f"the file has {path.stat().st_size} bytes; copy it again.")
    return tuple(shape), dtype


def depth_file_shape(path, depth_scale: float | None = None) -> tuple[int, int]:
    """(H, W) of a depth file from its header alone, or an error naming it and saying what to do.

    Refused: a file that is not a depth map (an 8-bit or colour PNG, an .npy of objects or of more than one channel,
    a truncated .npy) and an integer file whose unit is unknown: a PNG without a ``depth_scale`` chunk or an
    integer .npy, unless ``depth_scale`` states it.
    """
    path = Path(path)
    if path.suffix.lower() == ".npy":
        shape, dtype = _npy_header(path)
        if not (np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.integer)):
            raise ValueError(f"{path} holds {dtype} values; a depth map holds numbers (float32 metres).")
        if np.issubdtype(dtype, np.integer) and depth_scale is None:
            raise ValueError(
                f"{path} holds integers ({dtype}) and does not state their unit (most RGB-D tools write millimetres), "
                f"so it is not guessed. State it with depth_scale= {SCALE_ADVICE}, or save metres as float32: "
                "np.save(path, depth.astype(np.float32) / 1000) for millimetres.")
        if len(shape) == 3 and 1 in (shape[0], shape[-1]):
            raise ValueError(f"{path} holds an array of shape {shape}: a depth map with an extra axis of length 1. "
                             "A depth map is 2-D (H, W): save depth.squeeze() (e.g. depth[..., 0]) instead.")
        if len(shape) != 2:
            raise ValueError(f"{path} holds an array of shape {shape}; a depth map is 2-D (H, W) in metres.")
        return shape
    if path.suffix.lower() != ".png":
        raise ValueError(f"{path}: a depth file is a 16-bit .png or a .npy, not {path.suffix!r}.")
    try:
        with Image.open(path) as image:
            mode, (width, height) = image.mode, image.size
    except (OSError, SyntaxError, ValueError) as err:
        raise ValueError(f"{path} is not a PNG that Pillow can read ({err}); copy it again.") from err
    if mode not in ("I;16", "I;16B", "I;16L", "I"):
        raise ValueError(
            f"{path} is a PNG of mode {mode}, not a single-channel 16-bit depth PNG: an 8-bit or colour PNG is a "
            "picture of depth, not distances. Save the depth itself with helpers.save_depth_png16 or as .npy metres.")
    if png_depth_scale(path) is None and depth_scale is None:
        raise ValueError(
            f"{path} does not state its depth scale (no {SCALE_KEY!r} text chunk), so its unit is unknown and is "
            f"not guessed. State it with depth_scale= {SCALE_ADVICE}, or re-save it with helpers.save_depth_png16 "
            "(which writes the scale into the file).")
    return height, width


def read_depth(path, depth_scale: float | None = None) -> np.ndarray:
    """Depth in metres (float32, NaN where unknown) from a 16-bit PNG or a .npy; every error names the file.

    A float .npy holds metres; an integer file (a PNG without a ``depth_scale`` chunk, an integer .npy) needs
    ``depth_scale``, its units per metre (1000 for millimetres): the unit is never guessed. 0 means unknown.
    """
    path = Path(path)
    depth_file_shape(path, depth_scale)
    if path.suffix.lower() == ".png":
        stated = png_depth_scale(path)
        return load_depth_png16(path, scale=None if stated is not None else depth_scale)
    try:
        raw = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise ValueError(f"{path} cannot be read as a depth map ({err}); copy it again.") from err
    depth = raw.astype(np.float32)
    if np.issubdtype(raw.dtype, np.integer):
        depth /= np.float32(depth_scale)
    depth[~(depth > 0)] = np.nan  # 0 (and negative) = unknown; NaN stays NaN
    return depth
