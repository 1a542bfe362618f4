"""Pictures of depth maps with matplotlib colormaps; the near-is-bright convention is always explicit.

Where the colours are chosen: ``bright_is_large`` (which end of the colormap the near pixels get), the
``cmap`` argument (matplotlib's magma by default) and ``UNKNOWN_GREY`` for pixels with no value.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal, Mapping

import numpy as np

from .depthmath import as_array, valid_mask

Kind = Literal["depth", "disparity"]
Near = Literal["bright", "dark"]
UNKNOWN_GREY = (153, 153, 153)  # pixels with no value (NaN, masked out): the same grey in every picture


def bright_is_large(kind: Kind, near: Near) -> bool:
    """The near/far convention, in one place: True when the colormap's bright end goes to the largest values.

    Depth grows with distance and disparity shrinks, so "near = bright" puts bright on the smallest depth
    and on the largest disparity; ``near="dark"`` turns either around.
    """
    if kind not in ("depth", "disparity"):
        raise ValueError(f"kind must be 'depth' (larger = farther) or 'disparity' (larger = nearer), got {kind!r}.")
    if near not in ("bright", "dark"):
        raise ValueError(f"near must be 'bright' or 'dark', got {near!r}.")
    return (kind == "disparity") == (near == "bright")


@lru_cache(maxsize=32)
def _lut(cmap: str) -> np.ndarray:
    """The colormap sampled at 256 levels, shaped (256, 1, 3) uint8 as OpenCV's applyColorMap takes it."""
    from matplotlib import colormaps

    table = np.round(colormaps[cmap](np.linspace(0.0, 1.0, 256))[:, :3] * 255).astype(np.uint8)
    table = np.ascontiguousarray(table.reshape(256, 1, 3))
    table.flags.writeable = False
    return table


def _value_range(array: np.ndarray, valid: np.ndarray, robust: bool) -> tuple[float, float]:
    """(lo, hi) of the valid values: min and max, or the 2nd and 98th percentiles when ``robust``."""
    if not valid.any():
        return 0.0, 0.0
    if robust:
        lo, hi = np.percentile(array[valid], [2.0, 98.0])
        return float(lo), float(hi)
    if valid.all():
        return float(array.min()), float(array.max())
    return float(np.min(array, where=valid, initial=np.inf)), float(np.max(array, where=valid, initial=-np.inf))


def colorize(
    values,
    kind: Kind,
    near: Near = "bright",
    cmap: str = "magma",
    mask: np.ndarray | None = None,
    robust: bool = False,
    invalid_color: tuple[int, int, int] = UNKNOWN_GREY,
    value_range: tuple[float, float] | None = None,
) -> np.ndarray:
    """An (H, W, 3) uint8 picture: ``cmap``'s bright end marks the nearest pixels when ``near='bright'``.

    ``value_range=(lo, hi)`` fixes the colour scale (values outside are clipped), e.g. one range for every frame
    of a video; by default each map is scaled by its own minimum and maximum.

    Fast enough for video frames (a 3840x2160 float32 map in about 30 ms on 2 CPU cores): each value
    becomes a level 0..255 in one OpenCV pass, then a 256-entry colour table is looked up. ``robust=True``
    (2nd-98th percentile scaling) needs a sort and is several times slower.
    """
    import cv2

    large_is_bright = bright_is_large(kind, near)
    array = np.asarray(values, dtype=np.float32) if isinstance(values, np.ndarray) else as_array(values)
    while array.ndim > 2 and array.shape[0] == 1:  # no copy of float32 input
        array = array[0]
    if array.ndim != 2:
        raise ValueError(f"colorize needs one 2-D map, got shape {array.shape}.")
    valid = valid_mask(array, mask)
    all_valid = bool(valid.all())
    lo, hi = _value_range(array, valid, robust) if value_range is None else (float(value_range[0]), float(value_range[1]))
    if robust or not all_valid or value_range is not None:  # clip outliers, give invalid pixels any value in range (painted grey below)
        array = np.clip(array, lo, hi)
        array[~valid] = lo
    # level = (value - lo) / (hi - lo) * 255, or 255 - that: the bright end (255) on the nearest pixels
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    if large_is_bright:
        alpha, beta = scale, -lo * scale
    else:
        alpha, beta = -scale, hi * scale if hi > lo else 255.0
    # one multi-threaded pass: saturate(round(|value * alpha + beta|)); every result lies in 0..255 already
    levels = cv2.convertScaleAbs(np.ascontiguousarray(array), alpha=alpha, beta=beta)
    rgb = cv2.applyColorMap(levels, _lut(cmap))
    if not all_valid:
        rgb[~valid] = invalid_color
    return rgb


WATERMARK = "STAND-IN\nrandom weights"
STAMP_RED = (198, 40, 40)  # #c62828, the stamp's colour in figures and in pictures
FADE = 0.35  # how much of a stand-in's picture shows through under the stamp


def watermark(ax) -> None:
    """Mark a picture as a stand-in's at a glance: the map faded and a large red diagonal stamp across it."""
    for image in ax.get_images():
        image.set_alpha(FADE)
    text = getattr(ax, "text2D", ax.text)  # a 3-D axis places text in data space unless told otherwise
    text(0.5, 0.5, WATERMARK, transform=ax.transAxes, rotation=28, ha="center", va="center",
         fontsize=22, fontweight="bold", color="#%02x%02x%02x" % STAMP_RED, alpha=0.9, linespacing=1.1, zorder=10)


def stamp_picture(picture, tiled: bool = False) -> np.ndarray:
    """A stand-in's RGB picture (H, W, 3) uint8 as ``watermark`` marks a figure: faded, the stamp in red.

    ``tiled=False``: ``WATERMARK`` large in the middle (a video frame); ``tiled=True``: rows of
    'STAND-IN: random weights' across the whole width, so any part of the picture shows it (the app's slider).
    """
    import cv2

    picture = (FADE * np.asarray(picture) + (1.0 - FADE) * 255).astype(np.uint8)
    height, width = picture.shape[:2]
    font = cv2.FONT_HERSHEY_DUPLEX
    if tiled:
        scale = max(0.3, min(width / 14, height / 8) / 22)
        thickness = max(1, round(scale))
        line = "STAND-IN: random weights   "
        (w, h), _ = cv2.getTextSize(line, font, scale, thickness)
        for row in range(4):
            y = int((row + 0.5) * height / 4 + h / 2)
            for x in range(-(row % 2) * w // 2, width, max(w, 1)):
                cv2.putText(picture, line, (x, y), font, scale, STAMP_RED, thickness, cv2.LINE_AA)
        return picture
    lines = WATERMARK.split("\n")
    scale = width / 260
    thickness = max(1, round(2 * scale))
    for number, text in enumerate(lines):
        (w, h), _ = cv2.getTextSize(text, font, scale, thickness)
        at = ((width - w) // 2, height // 2 + int((number - (len(lines) - 1) / 2) * 1.6 * h) + h // 2)
        cv2.putText(picture, text, at, font, scale, STAMP_RED, thickness, cv2.LINE_AA)
    return picture


def mark_if_stand_in(figure_or_axes, model) -> bool:
    """Watermark every picture in a figure (or the given axes) when ``model`` is a stand-in; True if it was."""
    from .standins import is_stand_in

    if not is_stand_in(model):
        return False
    axes = figure_or_axes.axes if hasattr(figure_or_axes, "axes") and not hasattr(figure_or_axes, "imshow") \
        else [figure_or_axes]
    for ax in axes:
        is_colorbar = getattr(ax, "_colorbar", None) is not None
        if not is_colorbar and (ax.get_images() or ax.collections):
            watermark(ax)
    return True


def _imshow_map(ax, values, kind: Kind, near: Near, cmap: str, units: str | None, title: str | None):
    """Draw one map with its true values on the colorbar; unknown pixels show in ``UNKNOWN_GREY``."""
    from matplotlib import colormaps

    array = as_array(values)
    valid = valid_mask(array)
    # matplotlib colormaps grow brighter towards their end: reverse it when small values must be bright
    reverse = not bright_is_large(kind, near)
    grey = tuple(c / 255 for c in UNKNOWN_GREY)
    colormap = colormaps[cmap + "_r" if reverse else cmap].with_extremes(bad=grey)
    shown = np.where(valid, array, np.nan)
    if valid.any():
        lo, hi = float(shown[valid].min()), float(shown[valid].max())
    else:
        lo, hi = 0.0, 1.0
    image = ax.imshow(shown, cmap=colormap, vmin=lo, vmax=hi if hi > lo else lo + 1.0)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    from .standins import STAND_IN_LABEL

    if title and STAND_IN_LABEL in title:  # a stand-in's map, labelled by stand_in_label: stamp it too
        watermark(ax)
    colorbar = ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.02)
    label = {"depth": "depth", "disparity": "disparity"}[kind]
    colorbar.set_label(f"{label} ({units})" if units else f"{label} (no units: relative)")
    return image


def show_depth(
    image,
    values,
    kind: Kind,
    near: Near = "bright",
    cmap: str = "magma",
    units: str | None = None,
    title: str | None = None,
):
    """Figure: the RGB image beside its depth/disparity map, with a colorbar in ``units`` (if any)."""
    import matplotlib.pyplot as plt

    bright_is_large(kind, near)  # a clear error for a misspelt convention, before drawing anything
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    left.imshow(np.asarray(image))
    left.set_axis_off()
    left.set_title("input")
    _imshow_map(right, values, kind, near, cmap, units, title or f"{kind} ({'near' if near == 'bright' else 'far'} = bright)")
    plt.close(fig)
    return fig


def show_grid(
    maps: Mapping[str, object],
    kind: Kind | Mapping[str, Kind],
    near: Near = "bright",
    cmap: str = "magma",
    units: str | Mapping[str, str | None] | None = None,
    ncols: int = 3,
):
    """Figure: a grid of named maps (``{title: map}``), each with its own colorbar, one convention for all."""
    import matplotlib.pyplot as plt

    if not maps:
        raise ValueError("show_grid needs at least one map.")
    ncols = max(1, min(ncols, len(maps)))
    nrows = -(-len(maps) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.8 * ncols, 3.6 * nrows), constrained_layout=True, squeeze=False)
    for ax, (title, values) in zip(axes.flat, maps.items()):
        map_kind = kind[title] if isinstance(kind, Mapping) else kind
        map_units = units.get(title) if isinstance(units, Mapping) else units
        bright_is_large(map_kind, near)  # a clear error for a misspelt convention
        if np.asarray(values).ndim == 3 and np.asarray(values).shape[-1] == 3:
            ax.imshow(np.asarray(values))
            ax.set_axis_off()
            ax.set_title(title)
        else:
            _imshow_map(ax, values, map_kind, near, cmap, map_units, title)
    for ax in list(axes.flat)[len(maps):]:
        ax.set_axis_off()
    plt.close(fig)
    return fig
