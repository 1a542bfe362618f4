"""Depth for video, the careful version of notebook 12's OpenCV loop, and the camera move that makes its clip.

``depth_video`` reads a video frame by frame (``cv2.VideoCapture``), sends the frames through a depth function in
batches and writes ``photo | coloured depth`` side by side (``cv2.VideoWriter``), holding one batch in memory
however long the video is. What it adds to the lesson's loop:

- The input is never overwritten: an output path that is the input, or a link to it, is refused.
- The output is written under a temporary name in its own folder (``.NAME.partial.mp4``) and renamed when it is
  complete, so an interrupted run (Ctrl+C, an error in the depth function) leaves no shorter video under the final
  name, and a previous complete output stays as it was.
- What was read and written is counted: frames OpenCV cannot decode in the middle of a damaged file are skipped
  with a warning that gives the counts; a depth function that returns a different number of maps than it was
  given frames is an error, never a silently shorter video.
- A folder that cannot be written is reported as such, not as a codec problem.
- Frame sizes the codec would round (MPEG-4 needs even widths and heights) are padded by repeating the last
  column or row, and the size written is reported.

Frames are RGB ``uint8`` arrays ``(H, W, 3)``. Every frame goes through the one image contract
(``helpers.images.as_rgb_image``): OpenCV decodes BGR, which ``frame_image`` turns into RGB with ``bgr=True``.
OpenCV's pip wheels write MPEG-4 Part 2 (``mp4v``) into ``.mp4`` files; they have no H.264 encoder. Most players
(VLC, QuickTime, Windows' Films & TV) play ``mp4v``; browsers mostly do not.

``pan_and_zoom`` makes a camera move over a still picture with known depth: the true depth of every frame, and a
way to put each frame's map back on the picture's pixel grid (``CameraMove.to_source``), so that a pixel is the
same scene point in every frame. ``align_frames`` and ``ema`` are the lesson's alignment and moving average
(tests check that they compute what notebook 12's cells compute).
"""

from __future__ import annotations

import os
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from .align import fit_scale_shift
from .images import MAX_PIXELS

FOURCC = "mp4v"  # MPEG-4 Part 2: what OpenCV's pip wheels can write into an .mp4 file
MAX_BAD_READS = 250  # consecutive undecodable frames tried before a damaged file is read as ended


def _convert_hint(path: Path) -> str:
    return (f"convert it with ffmpeg (`ffmpeg -i {path.name} -c:v libx264 -pix_fmt yuv420p converted.mp4`) "
            "and point to the converted file")


def _capture(path: str | Path):
    """An opened ``cv2.VideoCapture``, or a clear error naming the file and what to do."""
    import cv2

    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"No video at {path}: check the path (relative paths start in the notebook's folder).")
    if not path.is_file():
        raise IsADirectoryError(f"{path} is a folder; give the path of one video file.")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise ValueError(f"OpenCV cannot open {path} as a video (an empty or damaged file, not a video, or a codec "
                         f"it cannot decode): {_convert_hint(path)}.")
    return capture


@dataclass(frozen=True)
class VideoInfo:
    """What a video file's header says: frames per second, frame count (an estimate for some codecs), size."""

    path: Path
    fps: float
    frames: int
    width: int
    height: int


def video_info(path: str | Path) -> VideoInfo:
    """The frame rate, frame count and frame size of a video file, as its header gives them."""
    import cv2

    capture = _capture(path)
    try:
        return VideoInfo(Path(path), float(capture.get(cv2.CAP_PROP_FPS) or 0.0),
                         int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0),
                         int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    finally:
        capture.release()


def frame_image(frame, *, bgr: bool = False, label: str | None = None, max_pixels: int | None = MAX_PIXELS):
    """A frame as an RGB PIL image, through the one contract (``helpers.images.as_rgb_image``).

    ``frame``: an array as ``helpers.images`` describes (``bgr=True`` for OpenCV's order, as ``cv2.VideoCapture``
    decodes) or a PIL image; above ``max_pixels`` (None: no limit) it is refused. ``label`` names the frame in
    errors, e.g. ``"frame 12 of clip.mp4"``.
    """
    from .images import as_rgb_image

    return as_rgb_image(frame, bgr=bgr, label=label, max_pixels=max_pixels)


class VideoReader:
    """The frames of a video file as RGB PIL images, one at a time, counting what was decoded and what was not.

    OpenCV's ``read`` fails at the end of a file and also at a damaged frame in its middle. While the header
    announces more frames, reading goes on past a failure (at most ``MAX_BAD_READS`` failures in a row), so a
    damaged stretch costs its own frames only; ``missing`` counts the announced frames that were not decoded, and
    a warning gives the counts.
    """

    def __init__(self, path: str | Path, max_frames: int | None = None):
        self.path = Path(path).expanduser()
        self.max_frames = max_frames
        self.announced = 0  # frames the header announces (an estimate for some codecs)
        self.decoded = 0  # frames decoded and handed out
        self.failed_reads = 0  # reads that failed before the announced end

    @property
    def missing(self) -> int:
        """Announced frames that could not be decoded (0 when reading stopped early at ``max_frames``)."""
        if self.max_frames is not None and self.decoded >= self.max_frames:
            return 0
        return max(self.announced - self.decoded, 0) if self.failed_reads else 0

    def __iter__(self) -> Iterator:
        import cv2

        capture = _capture(self.path)
        self.announced = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.decoded = self.failed_reads = 0
        in_a_row = 0
        try:
            while self.max_frames is None or self.decoded < self.max_frames:
                ok, bgr = capture.read()
                if ok:
                    in_a_row = 0
                    self.decoded += 1
                    yield frame_image(bgr, bgr=True, label=f"frame {self.decoded - 1} of {self.path}")
                    continue
                still_announced = self.announced - self.decoded
                if in_a_row >= min(still_announced, MAX_BAD_READS):
                    break  # the end of the file (or of what can be decoded in it)
                in_a_row += 1
                self.failed_reads += 1
        finally:
            capture.release()
        if self.decoded == 0 and self.max_frames != 0:
            raise ValueError(f"No frame of {self.path} could be decoded (the file holds no frames, or a codec OpenCV "
                             f"cannot decode): {_convert_hint(self.path)}.")
        if self.missing:
            warnings.warn(f"{self.path}: {self.decoded} of the {self.announced} frames its header announces could be "
                          f"decoded; {self.missing} could not (a damaged or truncated file) and were skipped.",
                          stacklevel=2)


def _same_file(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` name one file (the same path, a symbolic or a hard link)."""
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


class VideoWriter:
    """Writes RGB uint8 frames to a video file one at a time: ``with VideoWriter(path, fps) as out: out.write(frame)``.

    The frames go to a temporary file beside ``path``, renamed to ``path`` when the ``with`` block ends without an
    error (or at ``close()``); on an error, Ctrl+C included, or at ``abort()`` the temporary file is removed and
    ``path`` keeps what it held. ``keep``: files (e.g. the input video) that ``path`` must not be. The first frame
    fixes the size; an odd width or height is padded by one column or row (repeating the last one), because the
    codec would round it: ``size`` is the size written.
    """

    def __init__(self, path: str | Path, fps: float = 25.0, fourcc: str = FOURCC, keep: Iterable[str | Path] = ()):
        self.path = Path(path).expanduser()
        for other in keep:
            if self.path.resolve() == Path(other).expanduser().resolve() or _same_file(self.path, Path(other).expanduser()):
                raise ValueError(f"{self.path} is the input video {other} (or a link to it): writing there would "
                                 "destroy the input. Choose another output name.")
        if self.path.is_dir():
            raise IsADirectoryError(f"{self.path} is a folder; give the path of the video file to write.")
        self.fps = float(fps)
        self.fourcc = fourcc
        self.frames = 0
        self.frame_size: tuple[int, int] | None = None  # (width, height) of the frames given
        self.size: tuple[int, int] | None = None  # (width, height) written: even
        self.temporary: Path | None = None
        self._writer = None

    def _open(self, width: int, height: int) -> None:
        import cv2

        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=f".partial{self.path.suffix}",
                                            dir=folder)
        except OSError as err:
            raise PermissionError(f"Cannot write the video {self.path.name} in {folder}: {err.strerror or err} "
                                  "(a read-only folder, or one you may not write to). Choose another folder.") from err
        os.close(handle)
        self.temporary = Path(name)
        self.frame_size = (width, height)
        self.size = (width + width % 2, height + height % 2)
        self._writer = cv2.VideoWriter(str(self.temporary), cv2.VideoWriter_fourcc(*self.fourcc), self.fps, self.size)
        if not self._writer.isOpened():
            self.abort()
            raise ValueError(f"OpenCV cannot write {self.path.name} with the codec {self.fourcc!r}: use a .mp4 name "
                             "with 'mp4v' (or an .avi name with 'MJPG').")

    def write(self, frame: np.ndarray) -> None:
        """Append one frame: an RGB uint8 array ``(H, W, 3)``, or any array or PIL image ``frame_image`` takes."""
        import cv2

        if not (isinstance(frame, np.ndarray) and frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8):
            frame = np.asarray(frame_image(frame, label=f"{self.path}: frame {self.frames}"))
        height, width = frame.shape[:2]
        if self._writer is None:
            self._open(width, height)
        elif (width, height) != self.frame_size:
            raise ValueError(f"{self.path}: frame {self.frames} is {width}x{height} but the video is "
                             f"{self.frame_size[0]}x{self.frame_size[1]}: every frame of a video has one size, so "
                             "resize the frames (cv2.resize) before writing.")
        if (width, height) != self.size:
            frame = cv2.copyMakeBorder(frame, 0, self.size[1] - height, 0, self.size[0] - width, cv2.BORDER_REPLICATE)
        self._writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        self.frames += 1

    def close(self) -> None:
        """Finish the file and give it its final name (nothing is written when no frame came)."""
        if self._writer is None:
            return
        self._writer.release()
        self._writer = None
        if self.frames == 0:
            self.abort()
            return
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.temporary, 0o666 & ~umask)  # as a file opened the usual way (mkstemp's is private)
        os.replace(self.temporary, self.path)
        self.temporary = None

    def abort(self) -> None:
        """Stop and remove the unfinished file; ``path`` keeps what it held."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        if self.temporary is not None:
            self.temporary.unlink(missing_ok=True)
            self.temporary = None

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, kind: Any, *exc: Any) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def batched(items: Iterable[Any], size: int) -> Iterator[list]:
    """Lists of ``size`` consecutive items (the last one shorter), drawn lazily from any iterable."""
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}.")
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass(frozen=True)
class CameraMove:
    """A pan-and-zoom over a still picture: per frame, the box ``(x, y, w, h)`` of the source seen at ``size``."""

    boxes: tuple[tuple[int, int, int, int], ...]
    size: tuple[int, int]  # (width, height) of every frame
    source_shape: tuple[int, int]  # (height, width) of the source

    def __len__(self) -> int:
        return len(self.boxes)

    def frame(self, source, index: int, nearest: bool = False) -> np.ndarray:
        """Frame ``index`` of ``source`` (an image or a map of the source's size): its box, resized to ``size``.

        ``nearest=True`` for maps (depth, masks): every value is a real source value and unknown (NaN) pixels
        stay unknown; images are interpolated (area averaging when shrinking).
        """
        import cv2

        array = np.asarray(source)
        if array.shape[:2] != self.source_shape:
            raise ValueError(f"source is {array.shape[:2]}, but this move was made for {self.source_shape}.")
        x, y, w, h = self.boxes[index]
        crop = np.ascontiguousarray(array[y:y + h, x:x + w])
        shrinking = w > self.size[0]
        interpolation = cv2.INTER_NEAREST if nearest else (cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
        return cv2.resize(crop, self.size, interpolation=interpolation)

    def frames(self, source, nearest: bool = False) -> Iterator[np.ndarray]:
        """Every frame of ``source``, in order."""
        for index in range(len(self)):
            yield self.frame(source, index, nearest)

    def to_source(self, frame_map, index: int) -> np.ndarray:
        """A map of frame ``index`` put back on the source's pixel grid (nearest); NaN where the frame does not see."""
        import cv2

        x, y, w, h = self.boxes[index]
        canvas = np.full(self.source_shape, np.nan, dtype=np.float32)
        canvas[y:y + h, x:x + w] = cv2.resize(np.asarray(frame_map, dtype=np.float32), (w, h),
                                              interpolation=cv2.INTER_NEAREST)
        return canvas


def pan_and_zoom(source_shape: tuple[int, int], keyframes: Sequence[tuple[float, float, float]], frames: int,
                size: tuple[int, int] = (320, 240)) -> CameraMove:
    """A camera move through ``keyframes`` ``(x, y, width)`` in source pixels (height follows ``size``'s aspect).

    The box moves linearly between consecutive keyframes, which are spaced evenly over ``frames`` frames.
    """
    if frames < 2 or len(keyframes) < 2:
        raise ValueError(f"a camera move needs at least 2 keyframes and 2 frames, got {len(keyframes)} and {frames}.")
    height, width = source_shape
    aspect = size[1] / size[0]
    keys = np.asarray(keyframes, dtype=np.float64)
    at = np.linspace(0.0, 1.0, len(keys))
    boxes = []
    for t in np.linspace(0.0, 1.0, frames):
        x, y, w = (np.interp(t, at, keys[:, i]) for i in range(3))
        box = (int(round(x)), int(round(y)), int(round(w)), int(round(w * aspect)))
        if box[0] < 0 or box[1] < 0 or box[0] + box[2] > width or box[1] + box[3] > height or min(box[2:]) < 2:
            raise ValueError(f"the box {box} (x, y, w, h) leaves the {width}x{height} source: move the keyframes inside.")
        boxes.append(box)
    return CameraMove(tuple(boxes), (int(size[0]), int(size[1])), (int(height), int(width)))


def align_frames(maps: Iterable, to_common: Callable[[np.ndarray, int], np.ndarray] | None = None) -> Iterator[np.ndarray]:
    """Each map aligned (scale and shift) to the previous aligned one, over the pixels both frames see.

    ``to_common(map, index)`` puts frame ``index``'s map on a pixel grid shared by all frames (NaN where it
    does not see), e.g. ``CameraMove.to_source``; without it the frames are compared pixel by pixel, which
    assumes the camera moves little between frames. The first map is the reference and is kept as it is; a
    frame that cannot be fitted (constant, e.g. black, or nothing in common) is kept as it is. A generator: one frame in, one aligned frame out.
    """
    previous = None
    for index, values in enumerate(maps):
        values = np.asarray(values, dtype=np.float32)
        common = to_common(values, index) if to_common is not None else values
        aligned, usable = values, previous is None and _has_spread(common)
        if previous is not None:
            try:
                scale, shift = fit_scale_shift(common, previous)
            except ValueError:  # a constant frame (e.g. black), or no pixel in common: kept as it is
                pass
            else:
                aligned = (scale * values.astype(np.float64) + shift).astype(np.float32)
                common = (scale * common.astype(np.float64) + shift).astype(np.float32)
                usable = _has_spread(common)
        if usable:  # the next frame is aligned to this one; a degenerate frame never becomes the reference
            previous = common
        yield aligned


def _has_spread(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return finite.size >= 2 and float(finite.max()) > float(finite.min())


def ema(maps: Iterable, alpha: float) -> Iterator[np.ndarray]:
    """Exponential moving average over time: ``out = alpha * new + (1 - alpha) * previous out``, pixel by pixel.

    Small ``alpha`` smooths more and lags more: a pixel whose content changes (a moving object, a moving camera)
    keeps a trace of what was there before (ghosting). Where either value is NaN the other one is used.
    """
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}.")
    state = None
    for values in maps:
        values = np.asarray(values, dtype=np.float32)
        if state is None:
            state = values.copy()
        else:
            mixed = alpha * values + (1.0 - alpha) * state
            state = np.where(np.isfinite(values), np.where(np.isfinite(state), mixed, values), state)
            state = state.astype(np.float32)
        yield state


def side_by_side(frame: np.ndarray, picture: np.ndarray, label: str | None = None,
                 watermark: bool = False) -> np.ndarray:
    """``frame | picture`` in one RGB image (the picture resized to the frame's size).

    ``label``: a line of text written on the picture; ``watermark=True`` fades the picture and stamps it with
    ``helpers.viz.WATERMARK`` in large red letters, as ``helpers.mark_if_stand_in`` does to figures.
    """
    import cv2

    from .viz import stamp_picture

    frame = np.asarray(frame)
    picture = np.asarray(picture)
    if picture.shape[:2] != frame.shape[:2]:
        picture = cv2.resize(picture, (frame.shape[1], frame.shape[0]), interpolation=cv2.INTER_LINEAR)
    picture = stamp_picture(picture) if watermark else picture.copy() if label else picture
    width = picture.shape[1]
    if label:
        scale = max(0.35, width / 640)
        at = (6, int(20 * scale) + 4)
        cv2.putText(picture, label, at, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(picture, label, at, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return np.hstack([frame, picture])



@dataclass(frozen=True)
class VideoRun:
    """What ``depth_video`` did: the output file, frames read and written, frames of the input it could not decode,
    the size written (width, height), seconds taken and the colour range used."""

    path: Path
    frames: int
    read: int
    missing: int
    size: tuple[int, int]
    seconds: float
    value_range: tuple[float, float] | None

    @property
    def fps(self) -> float:
        """Frames per second, reading, depth and writing together."""
        return self.frames / self.seconds if self.seconds > 0 else float("nan")


def depth_video(source: str | Path, out_path: str | Path, depth_fn: Callable[[list], Sequence], batch_size: int = 8,
                max_frames: int | None = None, kind: str = "disparity", stabilize: bool = True,
                ema_alpha: float | None = None, label: str | None = None, watermark: bool = False,
                fps: float | None = None, progress: bool = True) -> VideoRun:
    """Stream a video through ``depth_fn`` in batches and write ``photo | coloured depth`` side by side to ``out_path``.

    ``depth_fn(images)`` maps a list of RGB PIL images (``frame_image`` of each decoded frame) to one depth map per
    image (e.g. ``helpers.predict_depth``); another count is an error naming the frames.
    ``stabilize=True``: each map is aligned (scale and shift) to the previous one (``align_frames``: the same pixels,
    which assumes the camera moves little between frames; the chain drifts slowly over a long clip), and the colours
    use one range for the whole clip, taken from the first frame (2nd-98th percentile); ``False``: every frame is
    coloured by its own min and max, the naive way. ``ema_alpha`` adds the moving average (``ema``). ``label`` and
    ``watermark`` go to ``side_by_side`` (pass ``watermark=helpers.is_stand_in(model)``). Memory holds one batch.
    ``out_path`` appears only when the video is complete (see the module's notes); it may not be ``source``.
    """
    from tqdm.auto import tqdm

    source = Path(source).expanduser()
    info = video_info(source)
    writer = VideoWriter(out_path, fps or info.fps or 25.0, keep=[source])
    reader = VideoReader(source, max_frames=max_frames)
    total = min(info.frames, max_frames) if max_frames is not None and info.frames else (info.frames or max_frames)
    waiting: list = []  # frames whose maps are on their way through the generators below

    def raw_maps() -> Iterator[np.ndarray]:
        first = 0
        for batch in batched(reader, batch_size):
            maps = list(depth_fn(batch))
            if len(maps) != len(batch):
                raise ValueError(f"depth_fn returned {len(maps)} depth maps for {len(batch)} frames (frames {first} to "
                                 f"{first + len(batch) - 1} of {source.name}): it must return one map per frame. "
                                 f"{writer.path.name} was not written.")
            first += len(batch)
            for frame, values in zip(batch, maps):  # equal lengths, checked above
                waiting.append(frame)
                yield np.asarray(values, dtype=np.float32)

    maps: Iterable[np.ndarray] = raw_maps()
    if stabilize:
        maps = align_frames(maps)
    if ema_alpha is not None:
        maps = ema(maps, ema_alpha)
    value_range = None
    start = time.perf_counter()
    with writer as out, tqdm(total=total or None, desc="frames", unit="frame", disable=not progress) as bar:
        for values in maps:
            if stabilize and value_range is None:
                value_range = _first_range(values)
            picture = _colour(values, kind, value_range if stabilize else None)
            out.write(side_by_side(np.asarray(waiting.pop(0)), picture, label, watermark))
            bar.update(1)
    if out.frames != reader.decoded:  # cannot happen while the loop above is one in, one out
        raise RuntimeError(f"{reader.decoded} frames read but {out.frames} written to {out.path}.")
    return VideoRun(out.path, out.frames, reader.decoded, reader.missing, out.size, time.perf_counter() - start,
                    value_range)


def _first_range(values: np.ndarray) -> tuple[float, float]:
    """The 2nd and 98th percentiles of a map's finite values: the colour range for the whole clip."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise ValueError("the first depth map holds no finite value: the clip's colour range cannot be set.")
    low, high = np.percentile(finite, (2.0, 98.0))
    return float(low), float(high)


def _colour(values: np.ndarray, kind: str, value_range: tuple[float, float] | None) -> np.ndarray:
    from .viz import colorize

    return colorize(values, kind=kind, near="bright", value_range=value_range)
