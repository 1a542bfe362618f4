"""benchmarks/waiting.py: the app's and video's fast path in the benchmark (--quick), its clip, its score and targets."""

import json

import numpy as np
import pytest

from benchmarks import cpu_runtimes as bench
from benchmarks import waiting


def test_the_clip_is_640_by_360_and_pans(tmp_path):
    import cv2

    path = waiting.make_clip(tmp_path / "clip.mp4", 5)
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame.astype(np.float32))
    capture.release()
    assert len(frames) == 5 and frames[0].shape == (360, 640, 3)
    assert np.abs(frames[0] - frames[-1]).mean() > 10  # the view moved


def test_aligned_absrel_is_zero_for_an_affine_disparity_and_exact_for_a_known_error():
    depth = np.array([[1.0, 2.0], [4.0, np.nan]])
    assert waiting.aligned_absrel(3.0 / depth + 0.5, depth) == pytest.approx(0.0, abs=1e-12)
    # another prediction, scored independently: the least-squares line by np.polyfit on the valid pixels
    prediction = np.array([[1.0, 0.7], [0.2, 5.0]])
    z = np.array([1.0, 2.0, 4.0])
    scale, shift = np.polyfit(np.array([1.0, 0.7, 0.2]), 1.0 / z, 1)
    aligned = scale * np.array([1.0, 0.7, 0.2]) + shift
    expected = np.mean(np.abs(1.0 / aligned - z) / z)
    assert expected > 0.01 and waiting.aligned_absrel(prediction, depth) == pytest.approx(expected, rel=1e-6)

def test_the_targets_compute_their_ratios_from_the_figures():
    app = {"exact_ms": 600.0, "fast_ms": 150.0, "bare_ms": 120.0}
    video = {"eager_fps": 1.5, "fast_fps": 4.0}
    rows = {row["what"]: row for row in waiting.waiting_targets(app, video, vnni=True)}
    assert [(r["value"], r["met"]) for r in rows.values()] == [("1.25×", True), ("4.00×", True), ("2.67×", False)]
    avx2 = {row["what"]: row for row in waiting.waiting_targets(app, video, vnni=False)}
    assert [r["goal"].split(" on ")[0] for r in avx2.values()][:2] == ["≤ 1.5×", "≥ 1.5×"]
    assert list(avx2.values())[2]["met"] is None  # no video target without VNNI


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    folder = tmp_path_factory.mktemp("waiting")
    path = folder / "result.json"
    assert bench.main(["--quick", "--only", "waiting", "--workdir", str(folder), "--json", str(path)]) == 0
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_quick_run_measures_the_app_and_the_video_both_ways(quick):
    section = quick["sections"]["waiting"]
    assert section["model"] == {"checkpoint": "depth-anything/Depth-Anything-V2-Metric-Indoor-Small-hf", "stand_in": True}
    from helpers.fastpath import int8_pays_on_this_cpu

    int8 = "OpenVINO int8 (static, NNCF) + " if int8_pays_on_this_cpu() else "OpenVINO "  # no VNNI: float
    assert section["fast_path"]["runtime"].startswith(int8)
    app = section["app"]
    for name in ("exact", "fast", "bare"):
        samples = section["app_samples_ms"][name]
        assert len(samples) == 1 and app[f"{name}_ms"] == pytest.approx(samples[0]) and samples[0] > 0
    assert np.isfinite(app["max_relative_difference"]) and app["max_relative_difference"] >= 0
    assert set(section["middlebury_absrel"]) == {"exact", "fast"}
    video = section["video"]
    assert video["frames"] == waiting.QUICK_CLIP_FRAMES and video["size"] == [1280, 360]  # photo | depth
    assert video["eager_fps"] > 0 and video["fast_fps"] > 0
    targets = [t for t in quick["targets"] if t["section"] == "waiting"]
    assert [t["what"] for t in targets] == [t["what"] for t in waiting.waiting_targets(app, video, True)]
    assert targets[1]["value"] == f"{app['exact_ms'] / app['fast_ms']:.2f}×"
