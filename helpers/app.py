"""Notebook 11's app: depth for your own photos in the browser (Gradio). ``python -m helpers.app`` starts it.

Two layers, as in the notebook:

- ``depth_results(photo, checkpoint, ...)``: one photo in, everything out: the coloured depth picture, the depth
  file (metric: a 16-bit PNG that states its scale; relative: float32 ``.npy``), the camera (EXIF focal length or a
  field-of-view guess, ``helpers.camera``) and a coloured point cloud (PLY) without the pixels on depth edges.
  It only strings helpers together: ``load_image``, ``predict_depth``, ``colorize``, ``save_depth_png16`` /
  ``save_depth_npy``, ``discontinuity_mask``, ``point_cloud``, ``write_ply``.
- ``depth_app()``: the ``gr.Blocks`` around it: upload / webcam / clipboard, a model choice with its licence,
  photo <-> depth slider, colormap, downloads, a 3-D view with the edge threshold, messages for bad uploads, and a
  speed choice: ``EXACT`` (PyTorch float32) or ``FAST`` (``helpers.fastpath.fastest_runtime``: exported and
  quantized on the first request that asks for it, with progress shown, then reused; each result names its runtime
  and accuracy cost).

Every photo, from a file, the webcam or the clipboard, is read by ``helpers.load_image`` (the one image contract,
``helpers.images``, one pixel limit for every decoder, the EXIF taken from the same decoded file): the browser's
upload arrives as a file, a webcam frame sent inline is written to a file first. Result files go to one temporary
folder per app (``ResultFolder``): a sub-folder per request, only the newest ``KEEP_RESULTS`` kept, the whole
folder removed when the app closes, when Python exits, or when ``python -m helpers.app`` is stopped (Ctrl+C or
SIGTERM); Gradio's own copies of uploads and downloads are deleted an hour after they were made, and when the
server stops (``delete_cache``).

What the server accepts from a caller (the page or a raw API call alike): only files that were uploaded to it
(Gradio's upload folder) or are its bundled examples, never a URL (the server makes no request on a caller's
behalf), uploads up to ``MAX_UPLOAD_MB``, and settings the interface offers (``checked_settings``). Refusals say
the same whatever the path named, so they tell nothing about the server's files; every message is plain text
(escaped before Gradio shows it as HTML).

Offline by design: no analytics, never ``share=True`` (which downloads a tunnel program); Gradio serves its own
fonts and scripts. The app binds to 127.0.0.1 unless you pass another ``--host``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import html
import math
import os
import re
import shutil
import signal
import tempfile
import threading
import traceback
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .batch import is_metric_model, predict_depth
from .camera import DEFAULT_HFOV_DEG, PhotoCamera, intrinsics_for_photo
from .checkpoints import checkpoint_info, load_depth_model
from .data import DATA, bundled_file, load_image
from .depthio import DEPTH_PNG_SCALE, save_depth_npy, save_depth_png16
from .env import pick_device
from .geometry import PointCloud, discontinuity_mask, point_cloud, write_ply
from .images import MAX_PIXELS, ImageTooLargeError, describe
from .recent import RecentlyUsed
from .standins import STAND_IN_LABEL, is_stand_in
from .viz import colorize

# label shown in the app -> checkpoint; the licence is read from the registry (helpers.checkpoint_info)
MODELS = {
    "Depth Anything V2 Small: relative": "depth-anything/Depth-Anything-V2-Small-hf",
    "Depth Anything V2 Metric Indoor Small: metres": "depth-anything/Depth-Anything-V2-Metric-Indoor-Small-hf",
    "ZoeDepth NYU+KITTI: metres": "Intel/zoedepth-nyu-kitti",
}
DEFAULT_MODEL = "Depth Anything V2 Metric Indoor Small: metres"
COLORMAPS = ("magma", "viridis", "turbo", "inferno", "gray")
EDGE_RANGE = (0.0, 20.0)  # the edge slider (%), and what an API call may send
HFOV_RANGE = (20.0, 120.0)  # the field-of-view slider (°)
MAX_UPLOAD_MB = 50  # Gradio refuses larger uploads (launch's max_file_size); a 200-megapixel JPEG is about 40 MB
MAX_SIDE = 2048  # larger photos are reduced to this many pixels on their long side (the models work near 518 px)
KEEP_RESULTS = 32  # the app keeps the result files of this many recent requests; older ones are deleted
CACHE_HOURS = 1  # Gradio's copies of uploads and downloads are deleted after this long
MAX_POINTS = 150_000  # the point cloud keeps every k-th pixel so that it stays below this (a light 3-D view)
EDGE_JUMP = 0.05  # notebook 06: drop pixels next to a depth jump of more than 5 %
EXAMPLES = ("coffee", "chelsea", "motorcycle_left")  # bundled photos (data/)
NO_PHOTO = "No photo yet: upload one, take one with the webcam, paste one, or pick an example."
NOT_UPLOADED = ("The app reads only photos sent to it through its page: upload a file, use the webcam or the "
                "clipboard, or pick an example.")  # the same words whatever was named: they reveal nothing
CHANGED = "The model changed: press **Estimate depth** for its depth map."
SPEED_CHANGED = "The speed changed: press **Estimate depth** for a depth map made that way."
EXACT, FAST = "exact: PyTorch float32", "fastest on this CPU"  # the speed choice
SPEEDS = (EXACT, FAST)
RELATIVE_NOTE = ("Relative depth has no unit: the model's numbers are disparity-like (larger = nearer) with an "
                 "unknown scale and shift per photo, so they are saved exactly as float32 .npy, not as metres.")


@dataclass
class DepthResults:
    """Everything ``depth_results`` makes from one photo."""

    image: Image.Image  # the photo as the model saw it: upright RGB, reduced if it was very large
    depth: np.ndarray  # float32 (H, W): metres (metric) or relative disparity
    metric: bool
    checkpoint: str
    stand_in: bool
    picture: np.ndarray  # the coloured depth (H, W, 3) uint8, bright = near; stamped when made by a stand-in
    legend: str  # which end is near, and the range in metres for a metric model
    depth_file: Path
    depth_note: str  # how the depth file is stored (the PNG's scale, or why .npy)
    runtime: str = ""  # what computed the depth, and its accuracy cost where it is not float32 PyTorch
    camera: PhotoCamera | None = None  # metric models only: the intrinsics of the point cloud
    cloud: PointCloud | None = None
    cloud_file: Path | None = None  # PLY in the camera frame (x right, y down, z forward), as notebook 06
    notices: list[str] = field(default_factory=list)  # a reduced photo, a stand-in, ...


_MODELS: dict[tuple[str, str], tuple[Any, Any]] = {}
_LOCK = threading.Lock()


def load_model(checkpoint: str, device: str | None = None) -> tuple[Any, Any]:
    """``(processor, model)`` for a checkpoint, loaded once per process (``helpers.load_depth_model``)."""
    device = device or pick_device()
    with _LOCK:
        if (checkpoint, device) not in _MODELS:
            _MODELS[(checkpoint, device)] = load_depth_model(checkpoint, device=device)
        return _MODELS[(checkpoint, device)]


KEEP_DEPTHS = 4  # moving a slider re-uses the prediction for the same photo and model instead of running it again
_DEPTHS: RecentlyUsed[np.ndarray] = RecentlyUsed(KEEP_DEPTHS)


_FAST: RecentlyUsed[Any] = RecentlyUsed(2)  # checkpoint, device -> helpers.fastpath.FastDepth, built once


def fast_runtime(checkpoint: str, device: str | None = None, progress: Any = None) -> Any:
    """The fastest runtime this machine has for ``checkpoint`` (``helpers.fastpath.fastest_runtime``), built on the
    first request that needs it (``progress(fraction, message)`` hears its steps) and reused afterwards."""
    from .fastpath import fastest_runtime

    device = device or pick_device()

    def build():
        processor, model = load_model(checkpoint, device=device)
        return fastest_runtime(model, processor, progress=progress)

    return _FAST.get((checkpoint, device), build)


def predicted_depth(image: Image.Image, checkpoint: str, device: str | None = None, speed: str = EXACT,
                    progress: Any = None) -> np.ndarray:
    """The model's depth for ``image``, remembered for the last ``KEEP_DEPTHS`` photos, models and speeds: the app's
    edge and field-of-view sliders change only the point cloud, so they need no second pass through the network.
    ``speed=FAST`` runs ``fast_runtime`` (its first call exports and quantizes, telling ``progress``)."""
    device = device or pick_device()
    pixels = np.asarray(image)
    key = (checkpoint, device, speed, pixels.shape, hashlib.sha256(pixels.tobytes()).hexdigest())

    def predict():
        if speed == FAST:
            return fast_runtime(checkpoint, device, progress)([image])[0]
        processor, model = load_model(checkpoint, device=device)
        return predict_depth(model, processor, [image], progress=False)[0]

    return _DEPTHS.get(key, predict).copy()  # the caller's own array: changing it leaves the remembered one alone


def read_photo(source, max_side: int = MAX_SIDE, name: str | None = None, *, bgr: bool = False,
               max_pixels: int | None = MAX_PIXELS) -> tuple[Image.Image, list[str]]:
    """An upright RGB photo (``helpers.load_image``), reduced to ``max_side`` on its long side, and any notice.

    ``source``: anything ``helpers.load_image`` takes (a path, a registry name, a PIL image, a NumPy array;
    ``bgr=True`` for OpenCV's arrays). Files that are not images, truncated files, pictures above ``max_pixels``
    (None: no limit) and anything else a decoder raises become ``ValueError`` with a message that names the file as
    the user knows it (``name``). The photo's EXIF stays with the image returned (``Image.info``), so the camera is
    read from this one decoded file, under the same limit, never by opening it a second time.
    """
    is_file = isinstance(source, (str, os.PathLike))
    label = name or (Path(str(source)).name if is_file else describe(source))
    try:
        image = load_image(source, bgr=bgr, max_pixels=max_pixels)
    except ImageTooLargeError as err:  # the app has no max_pixels switch: the user reduces the photo
        width, height = err.size
        raise ValueError(f"{label} is {width}×{height} pixels ({err.megapixels:.1f} megapixels), more than the app "
                         f"reads ({err.max_pixels / 1e6:g} megapixels); reduce it first (any photo editor), then "
                         "upload it again (in Python: depth_results(..., max_pixels=None) reads it).") from err
    except (ValueError, OSError) as err:
        raise ValueError(str(err).replace(str(source), label) if is_file else str(err)) from err
    except Exception as err:  # Pillow's decoders raise more kinds than these (bomb guard, struct, index errors...)
        raise ValueError(f"{label} could not be read as an image; save it again as PNG or JPEG and try once "
                         "more.") from err
    notices = []
    if max(image.size) > max_side:
        width, height = image.size
        factor = max_side / max(width, height)
        image = image.resize((max(1, round(width * factor)), max(1, round(height * factor))), Image.Resampling.LANCZOS)
        notices.append(f"The photo is {width}×{height} px; it was reduced to {image.width}×{image.height} px "
                       f"(the models work at about 518 px anyway).")
    return image, notices


def stamp_stand_in(picture: np.ndarray) -> np.ndarray:
    """The picture faded, with red 'STAND-IN: random weights' rows across it, wherever the photo slider stands."""
    from .viz import stamp_picture

    return stamp_picture(picture, tiled=True)


def _photo_stem(photo, name: str | None) -> str:
    if name:
        stem = Path(name).stem
    elif isinstance(photo, (str, Path)) and not (isinstance(photo, str) and photo in DATA):
        stem = Path(photo).stem
    else:
        stem = str(photo) if isinstance(photo, str) else "photo"
    stem = re.sub(r"[^\w .-]+", "_", stem).strip(" .")[:80]  # a file name on any system: no markup, no separators
    return stem or "photo"


def depth_results(
    photo,
    checkpoint: str = MODELS[DEFAULT_MODEL],
    cmap: str = "magma",
    edge_jump: float = EDGE_JUMP,
    hfov_deg: float = DEFAULT_HFOV_DEG,
    out_dir: str | Path | None = None,
    name: str | None = None,
    max_side: int = MAX_SIDE,
    max_points: int = MAX_POINTS,
    device: str | None = None,
    bgr: bool = False,
    max_pixels: int | None = MAX_PIXELS,
    speed: str = EXACT,
    progress: Any = None,
) -> DepthResults:
    """One photo -> coloured depth, depth file, camera and point cloud.

    ``photo``: anything ``helpers.load_image`` takes: a path, a registry name, a PIL image or a NumPy array
    (``bgr=True`` for OpenCV's order), as ``helpers.images`` writes down; above ``max_pixels`` it is refused.
    ``edge_jump``: drop points next to a relative depth jump larger than this (0 keeps every point).
    ``hfov_deg``: the field of view assumed when the photo's EXIF has no focal length. Files go to ``out_dir``
    (default: a new temporary folder, yours to delete; the app passes ``ResultFolder.new()``), named after ``name``
    or the photo. Point clouds only for metric models. ``speed``: ``EXACT`` (PyTorch float32) or ``FAST`` (the
    fastest runtime this CPU has, ``fast_runtime``; ``progress(fraction, message)`` hears its first build).
    """
    image, notices = read_photo(photo, max_side=max_side, name=name, bgr=bgr, max_pixels=max_pixels)
    depth = predicted_depth(image, checkpoint, device=device, speed=speed, progress=progress)
    processor, model = load_model(checkpoint, device=device)
    runtime = fast_runtime(checkpoint, device).describe() if speed == FAST else "PyTorch float32 (exact)."
    metric, stand_in = is_metric_model(model), is_stand_in(model)
    if stand_in:
        notices.append(f"{STAND_IN_LABEL}: the real {checkpoint} weights are not on this machine, so a model "
                       "with random weights stands in; run `python -m helpers.classroom.prefetch` with internet "
                       "access for the real ones.")
    picture = colorize(depth, kind="depth" if metric else "disparity", near="bright", cmap=cmap)
    if stand_in:
        picture = stamp_stand_in(picture)
    folder = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="depth-app-"))
    stem = _photo_stem(photo, name)
    if metric:
        finite = depth[np.isfinite(depth)]
        top = float(finite.max()) if finite.size else 0.0
        scale = DEPTH_PNG_SCALE if top * DEPTH_PNG_SCALE <= 65535 else 256.0  # millimetres, else KITTI's 1/256 m
        depth_file = save_depth_png16(folder / f"{stem}_depth16.png", depth, scale=scale, overwrite=True)
        unit = "millimetres" if scale == DEPTH_PNG_SCALE else f"1/{scale:g} m"
        depth_note = (f"16-bit PNG: value = depth in metres × {scale:g} ({unit}), 0 = unknown; the scale is written "
                      f"in the file (text chunk 'depth_scale'); `helpers.load_depth_png16` reads it.")
        legend = (f"{cmap}: bright = near, dark = far; {float(finite.min()):.2f} m (brightest) to "
                  f"{top:.2f} m (darkest).")
    else:
        depth_file = save_depth_npy(folder / f"{stem}_relative.npy", depth, overwrite=True)
        depth_note = RELATIVE_NOTE
        legend = f"{cmap}: bright = near, dark = far (relative: no unit)."
    results = DepthResults(image, depth, metric, checkpoint, stand_in, picture, legend, depth_file, depth_note,
                           runtime, notices=notices)
    if metric:  # the EXIF travels with the decoded image (read_photo): no second decoder, no second limit
        results.camera = intrinsics_for_photo(image, size=image.size, hfov_deg=hfov_deg)
        keep = ~discontinuity_mask(depth, max_rel_jump=edge_jump) if edge_jump > 0 else None
        valid = int(np.isfinite(depth).sum() if keep is None else (np.isfinite(depth) & keep).sum())
        stride = max(1, math.ceil(math.sqrt(valid / max_points))) if max_points else 1
        results.cloud = point_cloud(depth, results.camera.intrinsics, image, mask=keep, stride=stride)
        results.cloud_file = write_ply(folder / f"{stem}_points.ply", results.cloud, overwrite=True)
    return results


def model_note(label: str) -> str:
    """The model's output and its licence, as the app shows them beside the choice."""
    info = checkpoint_info(MODELS[_choice(label, MODELS, "a model")])
    licence = "no licence stated on its model card" if info.licence == "not stated" else f"licence {info.licence}"
    return f"{info.hub_id}: {info.output}; {licence}."


def _view_file(results: DepthResults) -> Path:
    """The point cloud turned for a 3-D viewer (y up, looking along -z): a 180° rotation about x, same points."""
    flipped = PointCloud(results.cloud.points * np.float32([1, -1, -1]), results.cloud.colors)
    return write_ply(results.cloud_file.with_name(results.cloud_file.stem + "_view.ply"), flipped, overwrite=True)


class ResultFolder:
    """One temporary folder for an app's result files: ``new()`` gives a sub-folder per request and deletes all
    but the newest ``keep``; the whole folder is removed by ``close()``, when the object is garbage-collected,
    or when Python exits, so that a long-running app holds a bounded number of files."""

    def __init__(self, keep: int = KEEP_RESULTS, prefix: str = "depth-app-"):
        if keep < 1:
            raise ValueError(f"keep must be at least 1 (the request being answered), got {keep}.")
        self.keep, self._prefix = keep, prefix
        self._count = 0
        self._lock = threading.Lock()
        self._open()

    def _open(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix=self._prefix))
        self._remove = weakref.finalize(self, shutil.rmtree, self.path, ignore_errors=True)  # also at exit

    def new(self) -> Path:
        """A fresh sub-folder for one request; the oldest beyond ``keep`` are deleted."""
        with self._lock:
            if not self._remove.alive:  # used again after close() (an app launched again): a new folder
                self._open()
            self._count += 1
            folder = self.path / f"request-{self._count:06d}"
            folder.mkdir(parents=True)
            requests = [p for p in self.path.iterdir() if p.is_dir() and p.name.startswith("request-")]
            old = sorted(requests, key=lambda p: int(p.name.split("-")[1]))[:-self.keep]
        for path in old:
            shutil.rmtree(path, ignore_errors=True)
        return folder

    def close(self) -> None:
        """Remove the folder and everything in it (again: a no-op)."""
        self._remove()


def _choice(value, choices: Iterable[str], what: str) -> str:
    """``value`` if it is one of ``choices``; else a ``ValueError`` that lists them (the value is not echoed)."""
    choices = list(choices)
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"Choose {what} from the list: {'; '.join(choices)}.")
    return value


def _number(value, what: str, bounds: tuple[float, float]) -> float:
    """``value`` as a float within ``bounds``; else a ``ValueError`` that says what is expected."""
    low, high = bounds
    expected = f"give a number from {low:g} to {high:g}"
    if value is None:
        raise ValueError(f"{what} is missing: {expected}.")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{what} must be a number: {expected}.")
    if not low <= value <= high:
        raise ValueError(f"{what} is out of range: {expected}.")
    return float(value)


def checked_settings(label, cmap, edge_percent, hfov_deg, speed=EXACT) -> tuple[str, str, float, float, str]:
    """The app's settings as the interface offers them (a listed model, colormap and speed, numbers within the
    sliders' ranges), whatever a caller sent; anything else is a ``ValueError`` that says what is expected."""
    return (_choice(label, MODELS, "a model"), _choice(cmap, COLORMAPS, "a colormap"),
            _number(edge_percent, "The 3-D edge threshold (%)", EDGE_RANGE),
            _number(hfov_deg, "The field of view (°)", HFOV_RANGE), _choice(speed, SPEEDS, "a speed"))


def _display_name(name: str) -> str:
    """The file's name as the user's computer shows it: no folders, no control characters, not too long."""
    name = Path(name.replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable())
    return (name[:100] + "…" if len(name) > 100 else name) or "the photo"


def _uploaded_file(path: str, uploads: Path, examples: Iterable[str | Path]) -> Path:
    """``path`` resolved, if it is a file in Gradio's upload folder or a bundled example; else ``NOT_UPLOADED``."""
    try:
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", path) and not re.match(r"^[a-zA-Z]:[\\/]", path):
            raise ValueError("a URL")  # http:, file:, ... (a Windows drive letter is a path)
        file = Path(path).resolve()
        root = Path(uploads).resolve()
        allowed = (file.is_relative_to(root) and file != root) or file in {Path(e).resolve() for e in examples}
        if allowed and file.is_file():
            return file
    except (OSError, ValueError, RuntimeError):
        pass
    raise ValueError(NOT_UPLOADED)


def _uploaded_path(payload, folder: Path | None = None, *, uploads: str | Path | None = None,
                   examples: Iterable[str | Path] = ()) -> tuple[str, str]:
    """(path on the server, the name the user gave it) of an image payload passed without preprocessing.

    Only a file in ``uploads`` (Gradio's upload folder; default: its standard place) or one of ``examples`` is
    read; any other path or a URL is refused with ``NOT_UPLOADED``, whether it exists or not. A picture sent inline
    (a webcam frame as a data URL, at most ``MAX_UPLOAD_MB``) is written to ``folder`` (default: a temporary file).
    """
    if payload is None:
        raise ValueError(NO_PHOTO)
    if isinstance(payload, dict):
        path, name, url = payload.get("path"), payload.get("orig_name"), payload.get("url")
    elif isinstance(payload, str):
        path, name, url = payload, None, None
    else:
        raise ValueError(NOT_UPLOADED)
    name = _display_name(name) if isinstance(name, str) else None
    if not path and isinstance(url, str) and url.startswith("data:") and "," in url:  # sent inline: a webcam frame
        if len(url) > MAX_UPLOAD_MB * 2**20 * 4 // 3 + 1024:  # base64: 4 characters for 3 bytes
            raise ValueError(f"The picture sent by the browser is larger than the app takes ({MAX_UPLOAD_MB} MB).")
        try:
            data = base64.b64decode(url.split(",", 1)[1], validate=True)
        except (binascii.Error, ValueError) as err:
            raise ValueError("The picture sent by the browser could not be decoded; try again.") from err
        if folder is not None:
            file = folder / "webcam.png"
            file.write_bytes(data)
            path = str(file)
        else:
            with tempfile.NamedTemporaryFile(prefix="depth-app-", suffix=".png", delete=False) as file:
                file.write(data)
            path = file.name
        return path, name or "webcam.png"
    if not path:
        raise ValueError(NO_PHOTO)
    if not isinstance(path, str):
        raise ValueError(NOT_UPLOADED)
    if uploads is None:
        from gradio.utils import get_upload_folder

        uploads = get_upload_folder()
    file = _uploaded_file(path, Path(uploads), examples)
    return str(file), name or _display_name(file.name)


def _as_text(message: str) -> str:
    """A message for Gradio's error box, which renders HTML: escaped, so that a file name stays text."""
    return html.escape(message, quote=False)


def run_app(payload, label: str, cmap: str, edge_percent: float, hfov_deg: float, speed: str = EXACT,
            store: ResultFolder | None = None, *, uploads: str | Path | None = None,
            examples: Iterable[str | Path] = (), progress: Any = None):
    """The app's one event: every output from one photo; a bad upload or setting becomes a ``gr.Error`` with the
    reason, as plain text.

    The photo must be a file in ``uploads`` (Gradio's upload folder, by default its standard place) or one of
    ``examples``; the settings must be ones the interface offers (``checked_settings``). The files go to a new
    sub-folder of ``store`` (the app's ``ResultFolder``; default: a new temporary folder). ``speed``: ``EXACT`` or
    ``FAST``; the first ``FAST`` request of a model builds its runtime, reporting each step to ``progress``.
    """
    import gradio as gr

    folder = None
    try:
        label, cmap, edge_percent, hfov_deg, speed = checked_settings(label, cmap, edge_percent, hfov_deg, speed)
        folder = store.new() if store is not None else Path(tempfile.mkdtemp(prefix="depth-app-"))
        path, name = _uploaded_path(payload, folder, uploads=uploads, examples=examples)
        results = depth_results(path, MODELS[label], cmap=cmap, edge_jump=edge_percent / 100.0, hfov_deg=hfov_deg,
                                name=name, out_dir=folder, speed=speed, progress=progress)
    except (ValueError, OSError) as err:
        message = str(err) if folder is None else str(err).replace(str(folder), "the results folder")
        raise gr.Error(_as_text(message), duration=None) from err
    except Exception as err:  # a fault of the app, not of the photo: logged here, not shown as Python's text
        traceback.print_exc()
        raise gr.Error("Something went wrong while making this depth map; try again, or another photo.",
                       duration=None) from err
    lines = [f"Made by **{label}** with the {cmap} colormap."]
    lines += [f"**⚠️ {n}**" if n.startswith(STAND_IN_LABEL) else n for n in results.notices]
    lines.append(f"Runtime: {results.runtime}")
    lines.append(f"Depth: {results.legend}")
    lines.append(f"Depth file: {results.depth_note}")
    if results.metric:
        lines.append(results.camera.describe())
        edge = (f"pixels next to a depth jump of more than {edge_percent:g} % left out" if edge_percent > 0
                else "every pixel kept")
        lines.append(f"3-D view: {len(results.cloud):,} points ({edge}).")
        view = str(_view_file(results))
        files = [str(results.depth_file), str(results.cloud_file)]
    else:
        lines.append("3-D view: only for the metric models (a relative map has no scale to place points by).")
        view, files = None, [str(results.depth_file)]
    photo = np.asarray(results.image)
    return (photo, results.picture), files, view, "\n\n".join(f"- {line}" for line in lines)


def model_changed(label: str):
    """After a model change: its note, and the previous model's results cleared (they are not the new model's)."""
    import gradio as gr

    try:
        note = model_note(label)
    except ValueError as err:
        raise gr.Error(_as_text(str(err)), duration=None) from err
    return note, None, None, None, CHANGED


def speed_changed(speed: str):
    """After a speed change: the previous results cleared (another runtime made them)."""
    return None, None, None, SPEED_CHANGED


def _photo_input(**kwargs):
    """``gr.Image`` that never downloads a URL named in an API call (Gradio would fetch it into its cache before the
    app's function sees the payload): the server makes no request on a caller's behalf."""
    import gradio as gr
    from gradio_client.utils import is_http_url_like

    photo = gr.Image(**kwargs)
    to_cache = photo.async_move_resource_to_block_cache

    async def refuse_urls(url_or_file_path):  # on this instance (a subclass would make Gradio write a .pyi file)
        if isinstance(url_or_file_path, str) and is_http_url_like(url_or_file_path):
            raise gr.Error(NOT_UPLOADED, duration=None)
        return await to_cache(url_or_file_path)

    photo.async_move_resource_to_block_cache = refuse_urls
    return photo


def depth_app(keep_results: int = KEEP_RESULTS):
    """The ``gr.Blocks`` app; call ``.launch()`` on it (``python -m helpers.app`` does).

    Its result files live in ``demo.result_folder`` (a ``ResultFolder`` keeping the newest ``keep_results``
    requests), removed by ``demo.close()`` or when Python exits.
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    examples = [str(bundled_file(name)) for name in EXAMPLES]
    store = ResultFolder(keep_results)

    def run(payload, label: str, cmap: str, edge_percent: float, hfov_deg: float, speed: str = EXACT,
            progress=gr.Progress()):
        # the first "fastest" request exports and quantizes the model (a minute or more): its steps show as progress
        return run_app(payload, label, cmap, edge_percent, hfov_deg, speed, store=store, uploads=demo.GRADIO_CACHE,
                       examples=examples, progress=lambda fraction, message: progress(fraction, desc=message))

    age = CACHE_HOURS * 3600
    with gr.Blocks(title="Depth from one photo", analytics_enabled=False, delete_cache=(age // 4, age)) as demo:
        gr.Markdown("# Depth from one photo\nUpload a photo (or use the webcam, paste one, or pick an example), "
                    "choose a model, and get its depth map, the depth file and a 3-D view. "
                    f"Photos up to {MAX_UPLOAD_MB} MB.", elem_id="intro")
        with gr.Row():
            with gr.Column(scale=1):
                photo = _photo_input(label=f"Photo (up to {MAX_UPLOAD_MB} MB)", type="filepath", image_mode=None,
                                     sources=["upload", "webcam", "clipboard"], elem_id="photo")
                model = gr.Dropdown(list(MODELS), value=DEFAULT_MODEL, label="Model", elem_id="model")
                licence = gr.Markdown(model_note(DEFAULT_MODEL), elem_id="licence")
                cmap = gr.Dropdown(list(COLORMAPS), value="magma", label="Colormap")
                edge = gr.Slider(*EDGE_RANGE, value=EDGE_JUMP * 100, step=0.5,
                                 label="3-D: leave out depth edges above (%)",
                                 info="0 keeps every point; notebook 06 explains flying pixels")
                hfov = gr.Slider(*HFOV_RANGE, value=DEFAULT_HFOV_DEG, step=1, label="Field of view (°)",
                                 info="used only when the photo's EXIF has no focal length")
                speed = gr.Radio(list(SPEEDS), value=EXACT, label="Speed", elem_id="speed",
                                 info="fastest: exported and quantized once for this CPU (int8, bfloat16 where it "
                                      "has it), its accuracy cost shown with the result; the first request takes a "
                                      "minute or more")
                button = gr.Button("Estimate depth", variant="primary", elem_id="run")
                gr.Examples(examples, inputs=photo, label="Examples (data/)")
            with gr.Column(scale=2):
                status = gr.Markdown(elem_id="status")
                slider = gr.ImageSlider(label="Photo ↔ depth", elem_id="slider")
                view = gr.Model3D(label="3-D view (drag to turn)", display_mode="point_cloud",
                                  clear_color=(0.1, 0.1, 0.1, 1.0), elem_id="view")
                files = gr.File(label="Downloads: depth file and point cloud", file_count="multiple", interactive=False,
                                elem_id="downloads")
        inputs = [photo, model, cmap, edge, hfov, speed]
        outputs = [slider, files, view, status]
        # the previous model's picture, files and 3-D view do not stay on screen as if they were the new model's
        model.change(model_changed, model, [licence, *outputs], queue=False, api_visibility="private")
        speed.change(speed_changed, speed, outputs, queue=False, api_visibility="private")
        # preprocess=False: the app opens the uploaded file itself (helpers.load_image), so a file that is not a
        # picture gets a clear message instead of a decoder error, and the EXIF focal length is still there
        button.click(run, inputs, outputs, preprocess=False, api_name="depth")
        edge.release(run, inputs, outputs, preprocess=False, api_name=False)
    demo.result_folder = store
    close, launch = demo.close, demo.launch

    def close_and_clean(*args, **kwargs):  # demo.close() also removes the result files
        try:
            return close(*args, **kwargs)
        finally:
            store.close()

    def launch_with_limits(*args, **kwargs):  # every launch refuses uploads above MAX_UPLOAD_MB, as the page says
        kwargs.setdefault("max_file_size", MAX_UPLOAD_MB * 2**20)
        return launch(*args, **kwargs)

    demo.close, demo.launch = close_and_clean, launch_with_limits
    return demo


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM (a service manager, ``kill``) stops the app the way Ctrl+C does


def main(argv: list[str] | None = None) -> None:
    """``python -m helpers.app [--host 127.0.0.1] [--port 7860]``: serve the app until Ctrl+C or SIGTERM, then
    remove its result files and Gradio's copies of the uploads."""
    parser = argparse.ArgumentParser(description="Depth from one photo, in your browser (offline).")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    parser.add_argument("--port", type=int, default=None, help="port (default: the first free one from 7860)")
    args = parser.parse_args(argv)
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")  # Gradio checks its own address: never via a proxy
    demo = depth_app()
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        # show_error=False: the app's own messages reach the page; an unexpected error's Python text does not
        demo.launch(server_name=args.host, server_port=args.port, share=False, show_error=False, quiet=True,
                    prevent_thread_lock=True)
        print(f"Depth app running at {demo.local_url} (open it in your browser; Ctrl+C stops it)", flush=True)
        demo.block_thread()
    finally:
        demo.close()


if __name__ == "__main__":
    main()
