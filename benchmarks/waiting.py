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


def _fresh_app_memory(app_module: Any) -> None:
    """Empty the app's memory of recent predictions, so that every timed request runs the network (a new photo)."""
    app_module._DEPTHS = app_module.RecentlyUsed(app_module.KEEP_DEPTHS)


def run_waiting(quick: bool, repeats: int, workdir: Path, features: Mapping[str, bool | None]) -> tuple[dict, list[dict]]:
    """The app's time per photo and video's frames per second, exact against fast, in turns; their accuracy cost."""
    import shutil

    from transformers import AutoImageProcessor, AutoModelForDepthEstimation

    from helpers import app as app_module
    from helpers.batch import predict_depth
    from helpers.checkpoints import checkpoint_info, resolve_checkpoint
    from helpers.data import load_stereo_pair
    from helpers.deploy import max_relative_difference
    from helpers.paths import data_path
    from helpers.standins import build_stand_in, is_stand_in
    from helpers.timing import time_interleaved
    from helpers.video import depth_video

    label = app_module.DEFAULT_MODEL  # metric: the app's every output, the point cloud included
    hub_id = app_module.MODELS[label]
    folder = str(build_stand_in(checkpoint_info(hub_id), full=False)) if quick else resolve_checkpoint(hub_id, full=True)
    processor = AutoImageProcessor.from_pretrained(folder)
    model = AutoModelForDepthEstimation.from_pretrained(folder).eval()
    app_module._MODELS[(hub_id, "cpu")] = (processor, model)  # the app serves the benchmark's model
    started = time.perf_counter()
    fast = app_module.fast_runtime(hub_id, "cpu")  # export + quantize + compile, or reuse the files of a past run
    build_s = time.perf_counter() - started

    uploads = workdir / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    photo = uploads / "photo.png"
    shutil.copy(data_path("chelsea.png"), photo)  # 451 x 300: a 518 x 350 input, as in the runtimes section
    payload = {"path": str(photo), "orig_name": photo.name}

    def app_call(speed: str) -> Callable[[], Any]:
        def call():
            _fresh_app_memory(app_module)
            return app_module.run_app(payload, label, "magma", 5.0, 55.0, speed, uploads=uploads)
        return call

    # in turns, after a first request of each (it compiles OpenVINO for this input size), not timed
    app_s = time_interleaved({"exact": app_call(app_module.EXACT), "fast": app_call(app_module.FAST),
                              "bare": lambda: fast([photo])}, repeats, warmup=1)
    exact_map = predict_depth(model, processor, [photo], progress=False)[0]
    app = {"exact_ms": app_s["exact"].median_ms, "fast_ms": app_s["fast"].median_ms, "bare_ms": app_s["bare"].median_ms,
           "max_relative_difference": max_relative_difference(fast([photo])[0], exact_map)}

    pair = load_stereo_pair()
    truth = pair.depth_m()
    middlebury = {name: aligned_absrel(1.0 / np.maximum(depth, 1e-6), truth)
                  for name, depth in (("exact", predict_depth(model, processor, [pair.left], progress=False)[0]),
                                      ("fast", fast([pair.left])[0]))}

    frames = QUICK_CLIP_FRAMES if quick else CLIP_FRAMES
    clip = make_clip(workdir / "clip_640x360.mp4", frames)

    def eager(images):
        return predict_depth(model, processor, images, batch_size=4, progress=False)

    def video_call(depth_fn, name):
        return lambda: depth_video(clip, workdir / f"video_{name}.mp4", depth_fn, batch_size=4, kind="depth",
                                   progress=False)

    import cv2

    capture = cv2.VideoCapture(str(clip))
    ok, first = capture.read()
    capture.release()
    if ok:  # OpenVINO compiles once for the clip's frame size: a first frame, not timed, as for the photo
        fast([cv2.cvtColor(first, cv2.COLOR_BGR2RGB)])
    runs: dict[str, list] = {"eager": [], "fast": []}
    for _ in range(max(1, repeats // 5)):  # a whole clip per turn: fewer turns than single photos
        for name, depth_fn in (("eager", eager), ("fast", fast)):
            runs[name].append(video_call(depth_fn, name)())
    video = {name: statistics.median(run.fps for run in done) for name, done in runs.items()}
    video = {"eager_fps": video["eager"], "fast_fps": video["fast"], "frames": frames,
             "size": list(runs["fast"][0].size)}
    section = {
        "model": {"checkpoint": hub_id, "stand_in": is_stand_in(model)},
        "fast_path": {"runtime": fast.runtime, "reason": fast.reason, "build_s": build_s, "reused": fast.reused,
                      "files": [str(p) for p in fast.files], "describe": fast.describe()},
        "app": app, "app_samples_ms": {k: [1000 * s for s in v.samples_s] for k, v in app_s.items()},
        "middlebury_absrel": middlebury, "video": video,
    }
    vnni = bool(features.get("AVX-512") and features.get("VNNI"))
    return section, waiting_targets(app, video, vnni)


def report_lines(s: dict) -> list[str]:
    """The section in the printed report."""
    app, video, mb = s["app"], s["video"], s["middlebury_absrel"]
    stand_in = "  (stand-in: accuracy numbers are those of random weights and mean nothing)" if s["model"]["stand_in"] else ""
    return [
        f"## waiting: the app and video, exact (PyTorch float32) vs fast ({s['fast_path']['runtime']}){stand_in}",
        f"fast path: {s['fast_path']['describe']} built in {s['fast_path']['build_s']:.1f} s"
        + (" (files of an earlier run reused)" if s["fast_path"]["reused"] else ""),
        f"app, one photo to every output (median): exact {app['exact_ms']:.0f} ms, fast {app['fast_ms']:.0f} ms "
        f"({app['exact_ms'] / app['fast_ms']:.2f}×); the fast runtime's bare call {app['bare_ms']:.0f} ms; "
        f"max relative difference {app['max_relative_difference']:.1e}",
        f"Middlebury AbsRel after scale-and-shift alignment in disparity: exact {mb['exact']:.3f}, fast {mb['fast']:.3f}",
        f"video ({video['frames']} frames, {video['size'][0]}×{video['size'][1]} written): eager {video['eager_fps']:.2f} "
        f"frames/s, fast {video['fast_fps']:.2f} frames/s ({video['fast_fps'] / video['eager_fps']:.2f}×)", ""]
