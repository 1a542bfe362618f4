"""Depth for video: frames in and out with OpenCV as streams, a camera move over a scene with known depth,
per-frame alignment, smoothing over time, and a flicker measure.

Frames are RGB ``uint8`` arrays ``(H, W, 3)``. ``read_frames`` yields them one at a time and ``VideoWriter``
writes them one at a time, so ``depth_video`` keeps only one batch in memory however long the video is. Every
frame goes through the one image contract (``helpers.images.as_rgb_image``): OpenCV decodes BGR, which
``frame_image`` turns into RGB with ``bgr=True`` (the order is never guessed), and ``VideoWriter.write`` and
``frame_image`` take any array or PIL image the contract does.
OpenCV's pip wheels write MPEG-4 Part 2 (``mp4v``) into ``.mp4`` files; they have no H.264 encoder. Most
players (VLC, QuickTime, Windows' Films & TV) play ``mp4v``; browsers mostly do not, which is why the
notebook previews a clip as an animated GIF.

Flicker (``flicker``): the mean absolute change of a value between consecutive frames, at the pixels both
frames see, as a fraction of the clip's value range. The maps must share one pixel grid (for the camera
move: ``CameraMove.to_source``), so that a pixel is the same scene point in every frame.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from .align import fit_scale_shift
from .depthmath import normalize_minmax, normalize_range
from .images import MAX_PIXELS

FOURCC = "mp4v"  # MPEG-4 Part 2: what OpenCV's pip wheels can write into an .mp4 file


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
    """The frame rate, frame count and frame size of a video file."""
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


def _images(path: str | Path, max_frames: int | None = None, every: int = 1):
    """The frames of a video as RGB PIL images (``frame_image`` of OpenCV's BGR arrays), one at a time."""
    if every < 1:
        raise ValueError(f"every must be at least 1, got {every}.")
    capture = _capture(path)
    count = index = 0
    try:
        while max_frames is None or count < max_frames:
            ok, bgr = capture.read()
            if not ok:
                break
            if index % every == 0:
                count += 1
                yield frame_image(bgr, bgr=True, label=f"frame {index} of {path}")
            index += 1
    finally:
        capture.release()
    if count == 0 and max_frames != 0:
        path = Path(path).expanduser()
        raise ValueError(f"No frame of {path} could be decoded (the file holds no frames, or a codec OpenCV cannot "
                         f"decode): {_convert_hint(path)}.")


def read_frames(path: str | Path, max_frames: int | None = None, every: int = 1) -> Iterator[np.ndarray]:
    """RGB uint8 frames ``(H, W, 3)`` of a video, one at a time (every ``every``-th frame, at most ``max_frames``)."""
    for image in _images(path, max_frames, every):
        yield np.array(image)  # a writable copy: the caller owns it


class VideoWriter:
    """Writes RGB uint8 frames to a video file one at a time: ``with VideoWriter(path, fps) as out: out.write(frame)``.

    The first frame fixes the size; a frame of another size raises an error naming the file and the frame.
    """

    def __init__(self, path: str | Path, fps: float = 25.0, fourcc: str = FOURCC):
        self.path = Path(path).expanduser()
        self.fps = float(fps)
        self.fourcc = fourcc
        self.frames = 0
        self.size: tuple[int, int] | None = None  # (width, height)
        self._writer = None

    def _open(self, width: int, height: int) -> None:
        import cv2

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*self.fourcc), self.fps, (width, height))
        if not self._writer.isOpened():
            raise ValueError(f"OpenCV cannot write {self.path} with the codec {self.fourcc!r}: use a .mp4 name with "
                             "'mp4v' (or an .avi name with 'MJPG').")
        self.size = (width, height)

    def write(self, frame: np.ndarray) -> None:
        """Append one frame: an RGB uint8 array ``(H, W, 3)``, or any array or PIL image ``frame_image`` takes."""
        import cv2

        if not (isinstance(frame, np.ndarray) and frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8):
            frame = np.asarray(frame_image(frame, label=f"{self.path}: frame {self.frames}"))
        height, width = frame.shape[:2]
        if self._writer is None:
            self._open(width, height)
        elif (width, height) != self.size:
            raise ValueError(f"{self.path}: frame {self.frames} is {width}x{height} but the video is "
                             f"{self.size[0]}x{self.size[1]}: every frame of a video has one size, so resize the "
                             "frames (cv2.resize) before writing.")
        self._writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        self.frames += 1

    def close(self) -> None:
        """Finish the file (nothing is written when no frame came)."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def write_video(path: str | Path, frames: Iterable[np.ndarray], fps: float = 25.0) -> Path:
    """Write RGB uint8 frames (any iterable, consumed one at a time) to a video file; returns its path."""
    with VideoWriter(path, fps) as out:
        for frame in frames:
            out.write(frame)
    if out.frames == 0:
        raise ValueError(f"{out.path}: no frames to write.")
    return out.path


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


def camera_move(source_shape: tuple[int, int], keyframes: Sequence[tuple[float, float, float]], frames: int,
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


def normalize(values, value_range: tuple[float, float] | None = None) -> np.ndarray:
    """Values scaled to 0..1 by ``value_range`` (clipped), or by the map's own min and max; NaN stays NaN."""
    if value_range is None:
        return normalize_minmax(values, fill=np.nan)
    return normalize_range(values, value_range, fill=np.nan)


def clip_range(maps: Iterable, percentiles: tuple[float, float] | None = None) -> tuple[float, float]:
    """One (low, high) for a whole clip: the min and max of every finite value, or the given percentiles."""
    values = np.concatenate([np.asarray(m, dtype=np.float64)[np.isfinite(m)] for m in maps])
    if values.size == 0:
        raise ValueError("no finite value in any map: the clip has no range.")
    if percentiles is not None:
        lo, hi = np.percentile(values, percentiles)
        return float(lo), float(hi)
    return float(values.min()), float(values.max())


def align_to_reference(prediction, reference, mask: np.ndarray | None = None) -> tuple[np.ndarray, float, float]:
    """``(s * prediction + t, s, t)`` with ``(s, t)`` the least-squares fit to ``reference`` on pixels valid in both.

    As ``helpers.align.fit_scale_shift``: a pixel counts where both maps are finite, the reference is > 0 and
    ``mask`` (if given) is True. For relative models, align their disparity-like output (notebook 05).
    """
    scale, shift = fit_scale_shift(prediction, reference, mask)
    aligned = (scale * np.asarray(prediction, dtype=np.float64) + shift).astype(np.float32)
    return aligned, scale, shift


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


def flicker(maps: Sequence, value_range: tuple[float, float] | None = None) -> float:
    """Mean |change| between consecutive maps at pixels finite in both, as a fraction of the value range.

    The maps share one pixel grid (a pixel is one scene point in every map). Each pair of consecutive frames
    counts once (the mean of its pixels' changes); ``value_range`` defaults to the clip's min and max.
    """
    maps = [np.asarray(m, dtype=np.float64) for m in maps]
    if len(maps) < 2:
        raise ValueError(f"flicker needs at least 2 frames, got {len(maps)}.")
    lo, hi = value_range if value_range is not None else clip_range(maps)
    if not hi > lo:
        raise ValueError(f"the value range ({lo}, {hi}) is empty: a constant clip has no flicker to scale.")
    changes = []
    for before, after in zip(maps, maps[1:]):
        both = np.isfinite(before) & np.isfinite(after)
        if not both.any():
            raise ValueError("two consecutive frames share no valid pixel: put the maps on a common grid first.")
        changes.append(np.mean(np.abs(after[both] - before[both])))
    return float(np.mean(changes) / (hi - lo))


def lag(outputs: Sequence, inputs: Sequence, value_range: tuple[float, float]) -> float:
    """Mean |output - input| per frame (e.g. smoothed vs unsmoothed), as a fraction of the value range."""
    lo, hi = value_range
    errors = [np.nanmean(np.abs(np.asarray(o, np.float64) - np.asarray(i, np.float64))) for o, i in zip(outputs, inputs)]
    return float(np.mean(errors) / (hi - lo))


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
    """What ``depth_video`` did: frames written, seconds taken, the output file and the colour range used."""

    path: Path
    frames: int
    seconds: float
    value_range: tuple[float, float] | None

    @property
    def fps(self) -> float:
        """Frames per second, reading, depth and writing together."""
        return self.frames / self.seconds if self.seconds > 0 else float("nan")


def depth_video(source: str | Path, out_path: str | Path, depth_fn: Callable[[list], list], batch_size: int = 8,
                max_frames: int | None = None, kind: str = "disparity", stabilize: bool = True,
                ema_alpha: float | None = None, label: str | None = None, watermark: bool = False,
                fps: float | None = None, progress: bool = True) -> VideoRun:
    """Stream a video through ``depth_fn`` in batches and write ``photo | coloured depth`` side by side to ``out_path``.

    ``depth_fn(images)`` maps a list of RGB PIL images (``frame_image`` of each decoded frame) to a list of depth
    maps (e.g. ``helpers.predict_depth``).
    ``stabilize=True``: each map is aligned (scale and shift) to the previous one, and the colours use one range
    for the whole clip, taken from the first frame (2nd-98th percentile); ``False``: every frame is coloured by
    its own min and max, the naive way. ``ema_alpha`` adds smoothing over time. ``label`` and ``watermark`` go to
    ``side_by_side`` (pass ``watermark=helpers.is_stand_in(model)``). Memory holds one batch.
    """
    from tqdm.auto import tqdm

    info = video_info(source)
    total = min(info.frames, max_frames) if max_frames is not None and info.frames else (info.frames or max_frames)
    waiting: list = []  # frames whose maps are on their way through the generators below

    def raw_maps() -> Iterator[np.ndarray]:
        for batch in batched(_images(source, max_frames=max_frames), batch_size):
            maps = depth_fn(batch)
            for frame, values in zip(batch, maps):
                waiting.append(frame)
                yield np.asarray(values, dtype=np.float32)

    maps: Iterable[np.ndarray] = raw_maps()
    if stabilize:
        maps = align_frames(maps)
    if ema_alpha is not None:
        maps = ema(maps, ema_alpha)
    value_range = None
    start = time.perf_counter()
    with VideoWriter(out_path, fps or info.fps or 25.0) as out, \
            tqdm(total=total or None, desc="frames", unit="frame", disable=not progress) as bar:
        for values in maps:
            if stabilize and value_range is None:
                value_range = clip_range([values], percentiles=(2.0, 98.0))
            picture = _colour(values, kind, value_range if stabilize else None)
            out.write(side_by_side(np.asarray(waiting.pop(0)), picture, label, watermark))
            bar.update(1)
    return VideoRun(out.path, out.frames, time.perf_counter() - start, value_range)


def _colour(values: np.ndarray, kind: str, value_range: tuple[float, float] | None) -> np.ndarray:
    from .viz import colorize

    return colorize(values, kind=kind, near="bright", value_range=value_range)


def gif(frames: Iterable[np.ndarray], fps: float = 8.0, width: int | None = None, colors: int = 256) -> bytes:
    """An animated GIF (bytes) of RGB uint8 frames, shrunk to ``width`` if given: a preview a notebook can show.

    Each frame gets its own palette of ``colors`` colours (fewer: a smaller file), without dithering.
    """
    from PIL import Image

    pictures = []
    for frame in frames:
        picture = Image.fromarray(np.asarray(frame))
        if width is not None and picture.width > width:
            picture = picture.resize((width, round(picture.height * width / picture.width)), Image.Resampling.BOX)
        pictures.append(picture.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE))
    if not pictures:
        raise ValueError("no frames for the GIF.")
    buffer = io.BytesIO()
    pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:], duration=round(1000 / fps),
                     loop=0, optimize=True)
    return buffer.getvalue()
