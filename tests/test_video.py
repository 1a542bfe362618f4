"""helpers.video: the lesson's alignment and moving average computed the same way as notebook 12's cells, video
files round-tripped in order, the input never destroyed, no partial output under the final name, every frame
counted, the real reason for a failure, odd frame sizes padded, and a long video streamed in bounded memory."""

import errno
import os
import tracemalloc

import cv2
import numpy as np
import pytest

from helpers import video
from helpers.video import (
    VideoReader, VideoWriter, align_frames, batched, depth_video, ema, frame_image, pan_and_zoom, side_by_side,
    video_info,
)
from tests.lesson_code import lesson_function

RNG = np.random.default_rng(0)
SCALES = [1.0, 0.5, 2.0, 3.5, 0.8]
SHIFTS = [0.0, 1.0, -2.0, 0.25, 4.0]


def test_align_frames_undoes_per_frame_scale_and_shift_on_a_still_scene():
    truth = RNG.uniform(0.5, 2.0, (24, 32)).astype(np.float32)
    frames = [(truth - t) / s for s, t in zip(SCALES, SHIFTS)]
    for aligned in align_frames(frames):
        np.testing.assert_allclose(aligned, truth, rtol=1e-5)


def _panned(truth):
    move = pan_and_zoom(truth.shape, [(0, 0, 32), (40, 30, 32)], frames=len(SCALES), size=(32, 24))  # a pan
    return move, [(move.frame(truth, k, nearest=True) - t) / s for k, (s, t) in enumerate(zip(SCALES, SHIFTS))]


def test_align_frames_uses_only_the_pixels_both_frames_see_on_a_camera_move():
    truth = RNG.uniform(0.5, 2.0, (60, 80)).astype(np.float32)
    move, frames = _panned(truth)
    for k, aligned in enumerate(align_frames(frames, to_common=move.to_source)):
        np.testing.assert_allclose(aligned, move.frame(truth, k, nearest=True), rtol=1e-5)


def test_the_lessons_alignment_computes_what_align_frames_computes():
    align_to_previous = lesson_function("12", "align_to_previous")
    truth = RNG.uniform(0.5, 2.0, (60, 80)).astype(np.float32)
    move, frames = _panned(truth)
    frames = [f * (1 + 0.02 * RNG.standard_normal(f.shape)).astype(np.float32) for f in frames]  # not exact: fits differ
    ours = list(align_frames(frames, to_common=move.to_source))
    lessons = align_to_previous(frames, move.to_source)
    assert len(lessons) == len(ours)
    for a, b in zip(lessons, ours):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_a_constant_frame_is_kept_and_never_becomes_the_reference():
    truth = RNG.uniform(0.5, 2.0, (8, 8)).astype(np.float32)
    frames = [np.zeros_like(truth), (truth - 1.0) / 2.0, np.ones_like(truth), (truth - 3.0) / 0.5]
    out = list(align_frames(frames))
    np.testing.assert_array_equal(out[0], frames[0])
    np.testing.assert_allclose(out[3], frames[1], rtol=1e-5, atol=1e-6)  # aligned to the first usable frame


def test_ema_is_the_recursive_average():
    maps = [np.full((2, 2), v, np.float32) for v in (0.0, 1.0, 1.0)]
    out = list(ema(maps, alpha=0.25))
    np.testing.assert_allclose([o[0, 0] for o in out], [0.0, 0.25, 0.4375])
    with pytest.raises(ValueError, match="alpha"):
        list(ema(maps, 0.0))


def test_the_lessons_moving_average_computes_what_ema_computes_unknown_pixels_included():
    lessons_ema = lesson_function("12", "ema")
    maps = [RNG.uniform(1.0, 5.0, (6, 7)) for _ in range(5)]
    maps[0][0, 0] = maps[2][1, 1] = maps[3][1, 1] = maps[4][2, 2] = np.nan  # unknown pixels
    ours = list(ema(maps, alpha=0.3))
    lessons = lessons_ema(maps, 0.3)
    assert len(lessons) == len(ours)
    for a, b in zip(lessons, ours):
        np.testing.assert_allclose(a, b, rtol=1e-6, equal_nan=True)
    assert np.isfinite(ours[4][1, 1]) and ours[1][0, 0] == np.float32(maps[1][0, 0])


def test_pan_and_zoom_boxes_stay_inside_and_map_back_to_the_source():
    source = np.arange(60 * 80, dtype=np.float32).reshape(60, 80)
    move = pan_and_zoom(source.shape, [(0, 0, 40), (40, 30, 40)], frames=5, size=(40, 30))
    assert len(move) == 5 and move.boxes[0] == (0, 0, 40, 30) and move.boxes[-1] == (40, 30, 40, 30)
    back = move.to_source(move.frame(source, 2, nearest=True), 2)  # same size: an exact round trip
    x, y, w, h = move.boxes[2]
    np.testing.assert_array_equal(back[y:y + h, x:x + w], source[y:y + h, x:x + w])
    assert np.isnan(back[0, 79])
    with pytest.raises(ValueError, match="leaves the 80x60 source"):
        pan_and_zoom(source.shape, [(0, 0, 40), (60, 0, 40)], frames=3, size=(40, 30))


def _numbered(count, size=(64, 48)):
    """Frames whose index is written in their pixels: 8 bits as black/white bands (robust to lossy codecs)."""
    for index in range(count):
        frame = np.zeros((size[1], size[0], 3), np.uint8)
        for bit in range(8):
            if index >> bit & 1:
                frame[:, bit * 8:(bit + 1) * 8] = 255
        yield frame


def _index(frame):
    frame = np.asarray(frame)
    return sum(1 << bit for bit in range(8) if frame[:, bit * 8 + 2:(bit + 1) * 8 - 2].mean() > 127)


def _write(path, frames, fps=10):
    with VideoWriter(path, fps) as out:
        for frame in frames:
            out.write(frame)
    return out.path


def test_video_round_trip_keeps_count_size_and_order(tmp_path):
    path = _write(tmp_path / "numbered.mp4", _numbered(37))
    info = video_info(path)
    assert (info.frames, info.width, info.height, info.fps) == (37, 64, 48, 10.0)
    reader = VideoReader(path)
    frames = list(reader)
    assert len(frames) == 37 and frames[0].size == (64, 48) and frames[0].mode == "RGB"
    assert [_index(f) for f in frames] == list(range(37))
    assert (reader.announced, reader.decoded, reader.missing) == (37, 37, 0)
    assert [_index(f) for f in VideoReader(path, max_frames=5)] == [0, 1, 2, 3, 4]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["numbered.mp4"]  # no temporary file left


def test_missing_empty_and_undecodable_files_name_the_file_and_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.mp4"):
        next(iter(VideoReader(tmp_path / "nothere.mp4")))
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty\.mp4.*ffmpeg"):
        next(iter(VideoReader(tmp_path / "empty.mp4")))
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


def _fake_depth(images):
    """A cheap stand-in for a model: the mean of the RGB channels plus a ramp, a float32 map per image."""
    return [np.asarray(image, np.float32).mean(axis=2) + np.linspace(1.0, 2.0, image.width, dtype=np.float32)
            for image in images]


def test_frames_are_rgb_through_the_image_contract(tmp_path):
    frame = np.broadcast_to(np.uint8(RED), (48, 64, 3))
    path = _write(tmp_path / "red.mp4", [frame] * 3, fps=5)
    for read in VideoReader(path):  # OpenCV decodes BGR; frame_image(..., bgr=True) turns it into RGB
        assert np.abs(np.asarray(read).astype(int) - RED).max() <= 8
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


def test_batched_and_side_by_side():
    assert [len(b) for b in batched(range(7), 3)] == [3, 3, 1]
    frame = np.zeros((10, 20, 3), np.uint8)
    assert side_by_side(frame, np.ones((5, 10, 3), np.uint8), label="x").shape == (10, 40, 3)
    stamped = side_by_side(np.zeros((120, 160, 3), np.uint8), np.zeros((120, 160, 3), np.uint8), watermark=True)[:, 160:]
    assert (stamped == 165).all(axis=2).mean() > 0.5  # black faded to light grey
    assert ((stamped[..., 0] > 150) & (stamped[..., 2] < 100)).any()  # the red stamp


def test_depth_video_writes_a_side_by_side_video(tmp_path):
    source = _write(tmp_path / "in.mp4", _numbered(9))
    run = depth_video(source, tmp_path / "out.mp4", _fake_depth, batch_size=4, progress=False, label="test")
    info = video_info(run.path)
    assert (run.frames, run.read, run.missing, run.size) == (9, 9, 0, (128, 48))
    assert (info.frames, info.width, info.height) == (9, 128, 48)
    assert [_index(np.asarray(f)[:, :64]) for f in VideoReader(run.path)] == list(range(9))  # in order, none lost
    assert run.value_range is not None and run.fps > 0
    naive = depth_video(source, tmp_path / "naive.mp4", _fake_depth, stabilize=False, ema_alpha=0.5, progress=False)
    assert naive.frames == 9 and naive.value_range is None


# -- never destroy the input ---------------------------------------------------------------------------------------

def test_the_input_is_never_the_output_nor_a_link_to_it(tmp_path):
    source = _write(tmp_path / "in.mp4", _numbered(6))
    before = source.read_bytes()
    (tmp_path / "link.mp4").symlink_to(source)
    os.link(source, tmp_path / "hard.mp4")
    for out in (source, tmp_path / "link.mp4", tmp_path / "hard.mp4", tmp_path / "sub" / ".." / "in.mp4"):
        with pytest.raises(ValueError, match="input video .* destroy the input"):
            depth_video(source, out, _fake_depth, progress=False)
    assert source.read_bytes() == before and [_index(f) for f in VideoReader(source)] == list(range(6))


# -- a temporary name, renamed when complete ------------------------------------------------------------------------

def _failing_after(batches, error=RuntimeError("the model ran out of memory")):
    calls = []

    def depth_fn(images):
        calls.append(len(images))
        if len(calls) > batches:
            raise error
        return _fake_depth(images)
    return depth_fn


@pytest.mark.parametrize("error", [RuntimeError("the model ran out of memory"), KeyboardInterrupt()])
def test_an_interrupted_run_leaves_no_shorter_video_and_keeps_the_previous_one(tmp_path, error):
    source = _write(tmp_path / "in.mp4", _numbered(12))
    out = tmp_path / "out.mp4"
    with pytest.raises(type(error)):
        depth_video(source, out, _failing_after(2, error), batch_size=2, progress=False)
    assert not out.exists()  # not a playable 4-frame video under the final name
    complete = depth_video(source, out, _fake_depth, batch_size=2, progress=False)
    assert complete.frames == 12
    before = out.read_bytes()
    with pytest.raises(type(error)):
        depth_video(source, out, _failing_after(3, error), batch_size=2, progress=False)
    assert out.read_bytes() == before and video_info(out).frames == 12
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4", "out.mp4"]  # the temporary file is gone


# -- count what was read and written --------------------------------------------------------------------------------

def test_a_depth_function_returning_fewer_maps_is_an_error_with_the_counts(tmp_path):
    source = _write(tmp_path / "in.mp4", _numbered(10))

    def drops_one(images):
        return _fake_depth(images)[:-1]

    with pytest.raises(ValueError, match=r"returned 3 depth maps for 4 frames \(frames 0 to 3 of in\.mp4\)"):
        depth_video(source, tmp_path / "out.mp4", drops_one, batch_size=4, progress=False)
    assert not (tmp_path / "out.mp4").exists()


def test_a_file_damaged_in_the_middle_is_read_past_the_damage_with_a_notice(tmp_path):
    source = _write(tmp_path / "in.mp4", _numbered(90, size=(96, 64)))
    data = bytearray(source.read_bytes())
    start, end = data.find(b"mdat"), data.find(b"moov")  # the frames' data, then the index of the file
    middle = (start + end) // 2
    data[middle:middle + 500] = np.random.default_rng(1).integers(0, 256, 500, dtype=np.uint8).tobytes()
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    first_failure = sum(1 for _ in _first_run(damaged))  # where OpenCV's plain read loop stops
    assert first_failure < 80
    with pytest.warns(UserWarning, match=r"damaged\.mp4: (\d+) of the 90 frames its header announces could be "
                                         r"decoded; (\d+) could not"):
        run = depth_video(damaged, tmp_path / "out.mp4", _fake_depth, batch_size=8, progress=False)
    assert run.read > first_failure  # the frames after the damage are in the output too
    assert run.frames == run.read == video_info(run.path).frames and run.missing == 90 - run.read > 0
    assert [_index(np.asarray(f)[:, :64]) for f in VideoReader(run.path)][-1] == 89  # up to the last frame


def _first_run(path):
    import cv2

    capture = cv2.VideoCapture(str(path))
    while capture.read()[0]:
        yield
    capture.release()


# -- say the real reason --------------------------------------------------------------------------------------------

def test_a_folder_that_cannot_be_written_is_not_called_a_codec_problem(tmp_path, monkeypatch):
    source = _write(tmp_path / "in.mp4", _numbered(4))
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    if os.access(locked, os.W_OK):  # root may write anyway: make the folder refuse as a read-only one does

        def refuse(*args, **kwargs):
            raise PermissionError(errno.EROFS, os.strerror(errno.EROFS))

        monkeypatch.setattr(video.tempfile, "mkstemp", refuse)
        monkeypatch.setattr(cv2, "VideoWriter", lambda *a, **k: _ClosedWriter())  # as OpenCV answers there
    try:
        with pytest.raises(PermissionError, match=r"Cannot write the video out\.mp4 in .*locked.*read-only folder"):
            depth_video(source, locked / "out.mp4", _fake_depth, progress=False)
    finally:
        locked.chmod(0o755)
    assert not (locked / "out.mp4").exists()


class _ClosedWriter:
    """What cv2.VideoWriter gives for a path it cannot create: an unopened writer."""

    def isOpened(self):
        return False

    def release(self):
        pass


# -- frame sizes the codec would round ------------------------------------------------------------------------------

def test_odd_frame_sizes_are_padded_to_even_and_the_written_size_reported(tmp_path):
    frames = [np.full((47, 65, 3), 40 * k, np.uint8) for k in range(3)]
    for frame in frames:
        frame[:, -1] = 255  # the last column: repeated into the padding
    with VideoWriter(tmp_path / "odd.mp4", fps=5) as out:
        for frame in frames:
            out.write(frame)
    assert (out.frame_size, out.size) == ((65, 47), (66, 48))
    info = video_info(out.path)
    assert (info.width, info.height, info.frames) == (66, 48, 3)  # nothing of the frames cut off
    read = np.asarray(next(iter(VideoReader(out.path))))
    assert read[:, -2:].mean() > 200 and abs(read[:, :60].mean() - 0) < 10
    source = _write(tmp_path / "in.mp4", frames)
    run = depth_video(source, tmp_path / "out.mp4", _fake_depth, progress=False)
    assert run.size == (132, 48) and (video_info(run.path).width, video_info(run.path).height) == (132, 48)


# -- bounded memory -------------------------------------------------------------------------------------------------

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
    short = _write(tmp_path / "short.mp4", _numbered(30, size), fps=25)
    long = _write(tmp_path / "long.mp4", _numbered(300, size), fps=25)
    _peak_bytes(short, tmp_path / "warm-up.mp4")  # the first call imports modules: not the stream's memory
    frames_short, peak_short = _peak_bytes(short, tmp_path / "short_depth.mp4")
    frames_long, peak_long = _peak_bytes(long, tmp_path / "long_depth.mp4")
    assert (frames_short, frames_long) == (30, 300)
    # one batch of 4 frames, their float maps and the side-by-side picture: a few dozen frames' worth at most,
    # against 300 frames' worth (and more for their maps) if anything accumulated; and no growth with length
    assert peak_long < 60 * frame_bytes, f"peak {peak_long / frame_bytes:.1f} frames' worth"
    assert peak_long < peak_short + 4 * frame_bytes, f"{peak_short} bytes for 30 frames, {peak_long} for 300"
