"""Where a person waits: the app's time per photo and video's frames per second, exact float32 against the fast path.

The ``waiting`` section of ``python -m benchmarks.cpu_runtimes`` (``--only waiting``). The fast path is
``helpers.fastpath.fastest_runtime``: built once (its export and quantization are not timed here, as a server
builds it before its first visitor or on the first request), then:

- the app: one photo through the app's own event function (the file as the upload hands it over -> every output:
  coloured map, 16-bit PNG, point cloud, 3-D view), after a first request, ``exact`` against ``fast``, in turns;
  beside it the fast runtime's bare call on the same photo (processor -> network -> post-processing), the floor
  the app's own work sits on;
- video: ``helpers.depth_video`` on a 640 × 360 clip (a pan over the Middlebury photo), eager ``predict_depth``
  against the fast path, in turns; frames per second, reading and writing included.

Accuracy cost beside each: the fast path's max relative difference to float32 on the photo, and on Middlebury the
AbsRel of each against the ground truth after a scale-and-shift alignment in disparity (with a stand-in both numbers
are those of random weights and mean nothing).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

CLIP_SIZE = (640, 360)  # width, height: the clip
CLIP_FRAMES, QUICK_CLIP_FRAMES = 24, 4


def make_clip(path: Path, frames: int, size: tuple[int, int] = CLIP_SIZE) -> Path:
    """A pan across the Middlebury left photo, ``frames`` frames of ``size`` (width, height), written with OpenCV."""
    import cv2

    from helpers.data import load_stereo_pair

    photo = np.asarray(load_stereo_pair().left)  # RGB
    height, width = photo.shape[:2]
    crop_w = int(width * 0.6)
    crop_h = int(crop_w * size[1] / size[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 12.0, size)
    try:
        for index in range(frames):
            x = round((width - crop_w) * index / max(frames - 1, 1))
            y = (height - crop_h) // 2
            crop = cv2.resize(photo[y:y + crop_h, x:x + crop_w], size, interpolation=cv2.INTER_AREA)
            writer.write(cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    return path


def interleaved(calls: Mapping[str, Callable[[], Any]], repeats: int) -> dict[str, list[float]]:
    """Seconds of each call, run in turns ``repeats`` times (the machine's drift falls on every call alike)."""
    seconds: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            seconds[name].append(time.perf_counter() - start)
    return seconds


def aligned_absrel(disparity: np.ndarray, depth_m: np.ndarray) -> float:
    """AbsRel against metres after a least-squares scale and shift of ``disparity`` to 1/depth on the valid pixels."""
    from helpers.align import fit_scale_shift

    valid = np.isfinite(depth_m) & (depth_m > 0)
    scale, shift = fit_scale_shift(disparity[valid], 1.0 / depth_m[valid])
    aligned = scale * disparity + shift
    ok = valid & (aligned > 0)
    return float(np.mean(np.abs(1.0 / aligned[ok] - depth_m[ok]) / depth_m[ok]))


def waiting_targets(app: Mapping[str, float], video: Mapping[str, float], vnni: bool) -> list[dict]:
    """The targets of issue 33, as (what, value, goal, met, note) rows."""
    rows = []
    ratio_to_bare = app["fast_ms"] / app["bare_ms"]
    rows.append(("app: fast per photo vs the fast runtime's bare call", f"{ratio_to_bare:.2f}×", "≤ 1.5×",
                 ratio_to_bare <= 1.5, f"{app['fast_ms']:.0f} ms against {app['bare_ms']:.0f} ms"))
    speedup = app["exact_ms"] / app["fast_ms"]
    goal = 3.0 if vnni else 1.5
    rows.append(("app: fast vs exact (eager float32) per photo", f"{speedup:.2f}×",
                 f"≥ {goal:g}× on {'a CPU with AVX-512 VNNI' if vnni else 'a CPU without AVX-512 VNNI'}", speedup >= goal,
                 f"{app['exact_ms']:.0f} -> {app['fast_ms']:.0f} ms"))
    fps_ratio = video["fast_fps"] / video["eager_fps"]
    rows.append(("video: depth_video frames per second, fast vs eager", f"{fps_ratio:.2f}×",
                 "≥ 3× on a CPU with AVX-512 VNNI" if vnni else "— (no target without AVX-512 VNNI)",
                 (fps_ratio >= 3.0) if vnni else None,
                 f"{video['eager_fps']:.2f} -> {video['fast_fps']:.2f} frames/s at {CLIP_SIZE[0]}×{CLIP_SIZE[1]}"))
    return [{"section": "waiting", "what": w, "value": v, "goal": g, "met": m, "note": n} for w, v, g, m, n in rows]
