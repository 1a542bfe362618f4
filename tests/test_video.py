"""helpers.video: known scale and shift recovered, the flicker measure against a hand computation, video files
round-tripped in order, clear errors on bad input, and a long video streamed in bounded memory."""

import tracemalloc

import numpy as np
import pytest

from helpers.video import (
    VideoWriter, align_frames, align_to_reference, batched, camera_move, clip_range, depth_video, ema, flicker,
    frame_image, gif, lag, normalize, read_frames, side_by_side, video_info, write_video,
)

RNG = np.random.default_rng(0)
SCALES = [1.0, 0.5, 2.0, 3.5, 0.8]
SHIFTS = [0.0, 1.0, -2.0, 0.25, 4.0]


def test_align_to_reference_recovers_a_known_scale_and_shift_exactly():
    truth = RNG.uniform(0.5, 2.0, (20, 30))
    prediction = (truth - 0.7) / 2.5  # truth = 2.5 * prediction + 0.7
    aligned, scale, shift = align_to_reference(prediction, truth)
    assert scale == pytest.approx(2.5, abs=1e-6) and shift == pytest.approx(0.7, abs=1e-6)
    np.testing.assert_allclose(aligned, truth, rtol=1e-6)


def test_align_frames_undoes_per_frame_scale_and_shift_on_a_still_scene():
    truth = RNG.uniform(0.5, 2.0, (24, 32)).astype(np.float32)
    frames = [(truth - t) / s for s, t in zip(SCALES, SHIFTS)]
    for aligned in align_frames(frames):
        np.testing.assert_allclose(aligned, truth, rtol=1e-5)


def test_align_frames_uses_only_the_pixels_both_frames_see_on_a_camera_move():
    truth = RNG.uniform(0.5, 2.0, (60, 80)).astype(np.float32)
    move = camera_move(truth.shape, [(0, 0, 32), (40, 30, 32)], frames=len(SCALES), size=(32, 24))  # a pan
    frames = [(move.frame(truth, k, nearest=True) - t) / s for k, (s, t) in enumerate(zip(SCALES, SHIFTS))]
    for k, aligned in enumerate(align_frames(frames, to_common=move.to_source)):
        np.testing.assert_allclose(aligned, move.frame(truth, k, nearest=True), rtol=1e-5)


def test_a_constant_frame_is_kept_and_never_becomes_the_reference():
    truth = RNG.uniform(0.5, 2.0, (8, 8)).astype(np.float32)
    frames = [np.zeros_like(truth), (truth - 1.0) / 2.0, np.ones_like(truth), (truth - 3.0) / 0.5]
    out = list(align_frames(frames))
    np.testing.assert_array_equal(out[0], frames[0])
    np.testing.assert_allclose(out[3], frames[1], rtol=1e-5)  # aligned to the first usable frame


def test_flicker_is_zero_for_a_consistent_sequence():
    still = RNG.uniform(0.0, 1.0, (10, 12))
    assert flicker([still] * 4) == 0.0


def test_flicker_matches_an_independent_computation():
    maps = [RNG.uniform(0.0, 1.0, (6, 7)) for _ in range(4)]
    maps[1][0, 0] = maps[2][3, 3] = np.nan  # unseen pixels drop out of their pairs
    values = np.concatenate([m[np.isfinite(m)] for m in maps])
    expected = []
    for a, b in zip(maps, maps[1:]):
        total, count = 0.0, 0
        for x, y in zip(a.ravel(), b.ravel()):
            if np.isfinite(x) and np.isfinite(y):
                total, count = total + abs(y - x), count + 1
        expected.append(total / count)
    assert flicker(maps) == pytest.approx(sum(expected) / len(expected) / (values.max() - values.min()), rel=1e-12)
    assert flicker(maps, value_range=(0.0, 2.0)) == pytest.approx(sum(expected) / len(expected) / 2.0, rel=1e-12)


def test_per_frame_min_max_flickers_when_the_range_changes_and_one_range_does_not():
    scene = np.linspace(1.0, 5.0, 100).reshape(10, 10)
    near_object = scene.copy()
    near_object[0, 0] = 0.2  # something near enters a corner: every other pixel's normalised value changes
    frames = [scene, near_object, scene]
    assert flicker([normalize(f) for f in frames], value_range=(0.0, 1.0)) > 0.05
    one = clip_range(frames)
    steady = [normalize(f, one) for f in frames]
    assert flicker([np.where(np.arange(100).reshape(10, 10) == 0, np.nan, f) for f in steady]) == 0.0


def test_ema_is_the_recursive_average_and_lag_measures_it():
    maps = [np.full((2, 2), v, np.float32) for v in (0.0, 1.0, 1.0)]
    out = list(ema(maps, alpha=0.25))
    np.testing.assert_allclose([o[0, 0] for o in out], [0.0, 0.25, 0.4375])
    assert lag(out, maps, (0.0, 1.0)) == pytest.approx((0.0 + 0.75 + 0.5625) / 3)
    with pytest.raises(ValueError, match="alpha"):
        list(ema(maps, 0.0))


def test_camera_move_boxes_stay_inside_and_map_back_to_the_source():
    source = np.arange(60 * 80, dtype=np.float32).reshape(60, 80)
    move = camera_move(source.shape, [(0, 0, 40), (40, 30, 40)], frames=5, size=(40, 30))
    assert len(move) == 5 and move.boxes[0] == (0, 0, 40, 30) and move.boxes[-1] == (40, 30, 40, 30)
    back = move.to_source(move.frame(source, 2, nearest=True), 2)  # same size: an exact round trip
    x, y, w, h = move.boxes[2]
    np.testing.assert_array_equal(back[y:y + h, x:x + w], source[y:y + h, x:x + w])
    assert np.isnan(back[0, 79])
    with pytest.raises(ValueError, match="leaves the 80x60 source"):
        camera_move(source.shape, [(0, 0, 40), (60, 0, 40)], frames=3, size=(40, 30))


def _numbered(count, size=(64, 48)):
    """Frames whose index is written in their pixels: 8 bits as black/white bands (robust to lossy codecs)."""
    for index in range(count):
        frame = np.zeros((size[1], size[0], 3), np.uint8)
        for bit in range(8):
            if index >> bit & 1:
                frame[:, bit * 8:(bit + 1) * 8] = 255
        yield frame


def _index(frame):
    return sum(1 << bit for bit in range(8) if frame[:, bit * 8 + 2:(bit + 1) * 8 - 2].mean() > 127)


def test_video_round_trip_keeps_count_size_and_order(tmp_path):
    path = write_video(tmp_path / "numbered.mp4", _numbered(37), fps=10)
    info = video_info(path)
    assert (info.frames, info.width, info.height, info.fps) == (37, 64, 48, 10.0)
    frames = list(read_frames(path))
    assert len(frames) == 37 and frames[0].shape == (48, 64, 3) and frames[0].dtype == np.uint8
    assert [_index(f) for f in frames] == list(range(37))
    assert [_index(f) for f in read_frames(path, max_frames=5, every=3)] == [0, 3, 6, 9, 12]


def test_missing_empty_and_undecodable_files_name_the_file_and_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.mp4"):
        next(read_frames(tmp_path / "nothere.mp4"))
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty\.mp4.*ffmpeg"):
        next(read_frames(tmp_path / "empty.mp4"))
    (tmp_path / "notes.mp4").write_text("not a video")
    with pytest.raises(ValueError, match=r"notes\.mp4.*ffmpeg"):
        video_info(tmp_path / "notes.mp4")


def test_frames_of_changing_size_are_refused_naming_the_file_and_the_frame(tmp_path):
    with VideoWriter(tmp_path / "mixed.mp4", fps=5) as out:
        out.write(np.zeros((48, 64, 3), np.uint8))
        with pytest.raises(ValueError, match=r"mixed\.mp4: frame 1 is 32x48 but the video is 64x48.*resize"):
            out.write(np.zeros((48, 32, 3), np.uint8))
        with pytest.raises(ValueError, match=r"mixed\.mp4: frame 1 holds floats from 3 to 3, but an image's floats "
                                             r"must lie in \[0, 1\]"):
            out.write(np.full((48, 64), 3.0, np.float32))  # the image contract's rule, naming the file and frame
        with pytest.raises(ValueError, match=r"mixed\.mp4: frame 1 has shape \(3, 48, 64\): channels first"):
            out.write(np.zeros((3, 48, 64), np.uint8))
        out.write(np.full((48, 64), 0.5, np.float32))  # grey floats in [0, 1]: taken, as everywhere
        assert out.frames == 2


RED = (220, 30, 40)  # RGB: a colour whose channel order shows (BGR would read it as blue)


def test_frames_are_rgb_through_the_image_contract(tmp_path):
    frame = np.broadcast_to(np.uint8(RED), (48, 64, 3))
    path = write_video(tmp_path / "red.mp4", [frame] * 3, fps=5)
    for read in read_frames(path):  # OpenCV decodes BGR; frame_image(..., bgr=True) turns it into RGB
        assert np.abs(read.astype(int) - RED).max() <= 8 and read.flags.writeable
    seen = []

    def spy(images):
        seen.extend(images)
        return _fake_depth(images)

    depth_video(path, tmp_path / "out.mp4", spy, batch_size=2, progress=False)
    assert len(seen) == 3 and all(image.mode == "RGB" and image.size == (64, 48) for image in seen)
    assert np.abs(np.asarray(seen[0]).astype(int) - RED).max() <= 8
    bgr = np.ascontiguousarray(frame[:, :, ::-1])  # as cv2.imread or cv2.VideoCapture hold it
    assert np.asarray(frame_image(bgr, bgr=True)).tolist() == frame.tolist()
    with pytest.raises(ValueError, match=r"frame 7 of clip\.mp4 has dtype int64"):
        frame_image(bgr.astype(np.int64), label="frame 7 of clip.mp4")
    with pytest.raises(ValueError, match=r"frame 8 of clip\.mp4 is 64×48 pixels .* Pass max_pixels=None"):
        frame_image(bgr, bgr=True, label="frame 8 of clip.mp4", max_pixels=1000)
    assert frame_image(bgr, bgr=True, max_pixels=None).size == (64, 48)


def test_batched_side_by_side_and_gif():
    assert [len(b) for b in batched(range(7), 3)] == [3, 3, 1]
    frame = np.zeros((10, 20, 3), np.uint8)
    assert side_by_side(frame, np.ones((5, 10, 3), np.uint8), label="x").shape == (10, 40, 3)
    stamped = side_by_side(np.zeros((120, 160, 3), np.uint8), np.zeros((120, 160, 3), np.uint8), watermark=True)[:, 160:]
    assert (stamped == 165).all(axis=2).mean() > 0.5  # black faded to light grey
    assert ((stamped[..., 0] > 150) & (stamped[..., 2] < 100)).any()  # the red stamp
    data = gif([frame, frame + 50], width=10, colors=16)
    assert data[:6] == b"GIF89a"
    from PIL import Image
    import io
    with Image.open(io.BytesIO(data)) as preview:
        assert (preview.n_frames, preview.size) == (2, (10, 5))


def _fake_depth(images):
    """A cheap stand-in for a model: the mean of the RGB channels plus a ramp, a float32 map per image."""
    return [np.asarray(image, np.float32).mean(axis=2) + np.linspace(1.0, 2.0, image.width, dtype=np.float32)
            for image in images]


def test_depth_video_writes_a_side_by_side_video(tmp_path):
    source = write_video(tmp_path / "in.mp4", _numbered(9), fps=10)
    run = depth_video(source, tmp_path / "out.mp4", _fake_depth, batch_size=4, progress=False, label="test")
    info = video_info(run.path)
    assert (run.frames, info.frames, info.width, info.height) == (9, 9, 128, 48)
    assert run.value_range is not None and run.fps > 0
    naive = depth_video(source, tmp_path / "naive.mp4", _fake_depth, stabilize=False, ema_alpha=0.5, progress=False)
    assert naive.frames == 9 and naive.value_range is None


def _peak_bytes(source, out):
    tracemalloc.start()
    try:
        run = depth_video(source, out, _fake_depth, batch_size=4, ema_alpha=0.5, progress=False)
        return run.frames, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_long_video_streams_in_bounded_memory(tmp_path):
    size = (96, 64)
    frame_bytes = size[0] * size[1] * 3
    short = write_video(tmp_path / "short.mp4", _numbered(30, size), fps=25)
    long = write_video(tmp_path / "long.mp4", _numbered(300, size), fps=25)
    _peak_bytes(short, tmp_path / "warm-up.mp4")  # the first call imports modules: not the stream's memory
    frames_short, peak_short = _peak_bytes(short, tmp_path / "short_depth.mp4")
    frames_long, peak_long = _peak_bytes(long, tmp_path / "long_depth.mp4")
    assert (frames_short, frames_long) == (30, 300)
    # one batch of 4 frames, their float maps and the side-by-side picture: a few dozen frames' worth at most,
    # against 300 frames' worth (and more for their maps) if anything accumulated; and no growth with length
    assert peak_long < 60 * frame_bytes, f"peak {peak_long / frame_bytes:.1f} frames' worth"
    assert peak_long < peak_short + 4 * frame_bytes, f"{peak_short} bytes for 30 frames, {peak_long} for 300"
