"""The RGB-D folder that fine-tuning reads: pairs found and checked when the folder is opened, joint augmentation.

The folder layout (one pair per name)::

    DATA_DIR/images/NAME.jpg | .png | ...       the photo (.jpg .jpeg .png .webp .tif .tiff .bmp)
    DATA_DIR/depth/NAME.png                     16-bit depth PNG that states its scale (helpers.save_depth_png16)
    DATA_DIR/depth/NAME.npy                     or float metres (helpers.save_depth_npy), NaN / 0 where unknown

Opening a folder checks every pair before training starts, as far as the files' headers allow (a readable photo,
a depth map of the photo's displayed size, a stated unit) and reads every depth map (a truncated one, a pair with
no valid pixel); an error that only decoding a photo can reveal later names that file too. Photos are read through
the one image contract (``helpers.images.as_rgb_image``): any mode, made upright by their EXIF orientation. A
depth map is aligned with the photo *as displayed*: a phone photo stored landscape with an EXIF rotation to
portrait needs a portrait depth map. A depth map at the photo's stored (unrotated) size, where that differs, is
refused with a message saying how to turn it; any other size is refused too.

The losses, the metric model, the optimiser, the training loop and the evaluation are the lesson's own code, in
notebook 10.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

from .images import IMAGE_SUFFIXES  # the photos predict_folder reads: .png .jpg .jpeg .bmp .tif .tiff .webp
from .depthio import depth_file_shape, read_depth
from .images import MAX_PIXELS

LAYOUT = ("DATA_DIR/images/NAME.jpg|png|... with DATA_DIR/depth/NAME.png (16-bit, stated scale) or "
          "DATA_DIR/depth/NAME.npy (metres)")
MIN_DEPTH = 1e-3  # metres: the authors' metric training ignores depths at or below this, as unknown
DECODING_ERRORS = (OSError, SyntaxError, ValueError, EOFError)


def _naming(path: Path, err: Exception) -> Exception:
    """``err`` as it is when it names ``path``, else a ValueError that does (Pillow's "image file is truncated" does not)."""
    if str(path) in str(err):
        return err
    return ValueError(f"{path} cannot be decoded ({err}); the file is damaged or truncated: copy it again.")


def _stored_and_displayed_size(path: Path, max_pixels: int | None = MAX_PIXELS):
    """(H, W) of an image file as stored and as displayed (after its EXIF orientation), from its header."""
    from .camera import upright_size
    from .images import check_image_file

    width, height = check_image_file(path, max_pixels)  # not an image, truncated header, too many pixels: errors naming it
    try:
        shown_width, shown_height = upright_size(path)  # EXIF: for a PNG, Pillow may decode the whole image to reach it
        if path.suffix.lower() == ".png":
            from PIL import Image

            with Image.open(path) as image:
                image.verify()  # every chunk's checksum, to the end of the file, without decoding the pixels
    except DECODING_ERRORS as err:
        raise _naming(path, err) from err
    return (height, width), (shown_height, shown_width)


def _check_aligned(image: Path, depth: Path, max_pixels: int | None = MAX_PIXELS,
                   depth_scale: float | None = None) -> None:
    """The depth map is readable, of a stated unit and of the photo's displayed (H, W), or an error naming the files."""
    stored, displayed = _stored_and_displayed_size(image, max_pixels)
    shape = depth_file_shape(depth, depth_scale)
    if shape == displayed:
        return
    if shape == stored:
        raise ValueError(
            f"{depth} has shape {shape}: the size of {image} as stored, but its EXIF orientation turns that photo "
            f"to (H, W) = {displayed} when it is shown, and a depth map must be aligned with the photo as shown. "
            "Turn the depth map the same way (PIL.ImageOps.exif_transpose tells how: e.g. np.rot90(depth, -1) for "
            "orientation 6), or save the photo upright (helpers.load_image(path).save(...)).")
    raise ValueError(
        f"{depth} has shape {shape} but {image} is (H, W) = {displayed} as shown: a depth map "
        "must be pixel-aligned with its image. Resize the depth with nearest-neighbour (never bilinear: it "
        "blends foreground and background) or register it to the camera first."
    )


def find_pairs(folder, max_pixels: int | None = MAX_PIXELS,
               depth_scale: float | None = None) -> list[tuple[str, Path, Path]]:
    """``(name, image path, depth path)`` for every pair in the folder layout, each checked from its files' headers.

    Errors name the files: what is missing, unreadable, of an unknown unit (``depth_scale``: units per metre of
    integer depth files that do not state theirs) or misaligned. A photo above ``max_pixels`` (None: no limit) is
    refused (``helpers.images.MAX_PIXELS``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"No folder at {folder}. Expected the layout {LAYOUT}.")
    images = sorted(p for p in (folder / "images").glob("*")  # not hidden files such as macOS's ._NAME.jpg
                    if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise FileNotFoundError(f"No images ({', '.join(IMAGE_SUFFIXES)}) in {folder / 'images'}. Expected the layout "
                                f"{LAYOUT}.")
    pairs, missing = [], []
    for image in images:
        candidates = [folder / "depth" / f"{image.stem}{suffix}" for suffix in (".png", ".npy")]
        found = [c for c in candidates if c.is_file()]
        if not found:
            missing.append(image.name)
            continue
        if len(found) == 2:
            raise ValueError(f"{image.stem} has two depth files ({found[0].name} and {found[1].name}); keep one.")
        pairs.append((image.stem, image, found[0]))
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise FileNotFoundError(
            f"{len(missing)} image(s) in {folder / 'images'} have no depth file: {shown}. Add depth/NAME.png "
            "(16-bit, stated scale) or depth/NAME.npy (metres) for each, or move those images out of the folder."
        )
    for _, image, depth in pairs:
        _check_aligned(image, depth, max_pixels, depth_scale)
    return pairs


def joint_augment(image, depth, size: int, scale_range: tuple[float, float] = (1.0, 1.0), flip_p: float = 0.5,
                  jitter: float = 0.2, image_mode: str = "bilinear"):
    """One random square crop resized to ``size`` x ``size`` and a horizontal flip, applied identically to image and
    depth; brightness and contrast to the image only.

    ``image``: float tensor (3, H, W) in 0..1; ``depth``: float tensor (H, W) in metres, NaN where unknown. The crop
    side is ``min(H, W) / s`` for a zoom ``s`` drawn from ``scale_range`` (default 1: no zoom, as the authors' metric
    training). A zoom by ``s`` makes everything look ``s`` times larger, as if ``s`` times nearer to a camera of the
    same focal length, so the depth is divided by ``s``: that assumes the model reads distance from apparent size
    at one focal length, the training camera's. Depth is resized with nearest-neighbour, so no value is invented
    between a foreground and a background pixel and NaN never spreads.
    """
    import torch
    import torch.nn.functional as F

    _, height, width = image.shape
    scale = float(torch.empty(1).uniform_(*scale_range)) if scale_range[1] > scale_range[0] else float(scale_range[0])
    side = max(1, min(height, width, int(round(min(height, width) / scale))))
    top = int(torch.randint(0, height - side + 1, (1,)))
    left = int(torch.randint(0, width - side + 1, (1,)))
    image = image[:, top:top + side, left:left + side]
    depth = depth[top:top + side, left:left + side] * (side / min(height, width))  # the zoom actually applied
    if side != size:
        extra = {"align_corners": False, "antialias": True} if image_mode in ("bilinear", "bicubic") else {}
        image = F.interpolate(image[None], size=(size, size), mode=image_mode, **extra)[0]
        depth = F.interpolate(depth[None, None], size=(size, size), mode="nearest")[0, 0]
    if float(torch.rand(1)) < flip_p:
        image, depth = image.flip(-1), depth.flip(-1)
    if jitter > 0:  # brightness and contrast, the image only: depth does not change with the light
        brightness = 1.0 + float(torch.empty(1).uniform_(-jitter, jitter))
        contrast = 1.0 + float(torch.empty(1).uniform_(-jitter, jitter))
        mean = image.mean()
        image = ((image - mean) * contrast + mean) * brightness
        image = image.clamp(0.0, 1.0)
    return image, depth


class RGBDFolder:
    """A ``torch.utils.data.Dataset`` of (image, metric depth) pairs in the folder layout ``LAYOUT``.

    Opening it checks every pair (``find_pairs``) and reads every depth map: a damaged file, an unknown unit
    (``depth_scale``: units per metre of integer depth files that do not state theirs, e.g. 1000 for millimetres)
    or a pair without one valid pixel is named now, not at step 100. ``dataset[i]`` gives a training sample:
    ``pixel_values`` (3, size, size) normalised with the processor's mean and std, ``depth`` (size, size) in metres
    (0 where invalid), ``valid`` (bool) and the pair's ``image_file`` and ``depth_file``, after ``joint_augment``
    when ``augment``. ``dataset.pair(i)`` gives the untouched ``(PIL image, depth)`` for evaluation.
    ``max_pixels``: photos above it are refused (None: no limit), as everywhere in ``helpers.images``.
    """

    def __init__(self, folder, size: int = 266, max_depth: float = 20.0, augment: bool = True,
                 mean: Iterable[float] = (0.485, 0.456, 0.406), std: Iterable[float] = (0.229, 0.224, 0.225),
                 depth_scale: float | None = None, scale_range: tuple[float, float] = (1.0, 1.0),
                 jitter: float = 0.2, max_pixels: int | None = MAX_PIXELS):
        self.folder = Path(folder)
        self.max_pixels = max_pixels
        self.size, self.max_depth, self.augment = int(size), float(max_depth), augment
        self.mean, self.std = list(mean), list(std)
        self.depth_scale, self.scale_range, self.jitter = depth_scale, scale_range, jitter
        self.pairs = find_pairs(self.folder, max_pixels, depth_scale)
        empty = [depth for _, _, depth in self.pairs if not self.valid(read_depth(depth, depth_scale)).any()]
        if empty:
            shown = ", ".join(str(path) for path in empty[:5]) + (f" and {len(empty) - 5} more" if len(empty) > 5 else "")
            raise ValueError(
                f"{len(empty)} depth file(s) have no valid pixel (finite, above {MIN_DEPTH} m and at most "
                f"max_depth = {self.max_depth:g} m): {shown}. Check their unit (metres?) and max_depth, or move "
                "those pairs out of the folder.")

    def __len__(self) -> int:
        return len(self.pairs)

    @property
    def names(self) -> list[str]:
        """The pairs' names, in order."""
        return [name for name, _, _ in self.pairs]

    def pair(self, index: int):
        """``(RGB PIL image, depth in metres with NaN where unknown)`` of pair ``index``, untouched.

        The image is the contract's (``helpers.images.as_rgb_image``): upright, RGB, at the displayed size, which
        is the depth map's. A file that fails to decode is named in the error.
        """
        from .images import as_rgb_image

        _, image, depth = self.pairs[index]
        try:
            picture = as_rgb_image(image, max_pixels=self.max_pixels)
        except DECODING_ERRORS as err:
            raise _naming(image, err) from err
        return picture, read_depth(depth, self.depth_scale)

    def valid(self, depth):
        """The pixels to learn from: finite, above ``MIN_DEPTH`` and at most ``max_depth`` metres."""
        return np.isfinite(depth) & (depth > MIN_DEPTH) & (depth <= self.max_depth) if isinstance(depth, np.ndarray) \
            else depth.isfinite() & (depth > MIN_DEPTH) & (depth <= self.max_depth)

    def __getitem__(self, index: int) -> dict:
        import torch
        import torch.nn.functional as F

        _, image_file, depth_file = self.pairs[index]
        image, depth = self.pair(index)
        image = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).permute(2, 0, 1)
        depth = torch.from_numpy(depth)
        if self.augment:
            image, depth = joint_augment(image, depth, self.size, self.scale_range, jitter=self.jitter)
        else:  # the whole picture, squeezed to size x size
            image = F.interpolate(image[None], size=(self.size, self.size), mode="bilinear", antialias=True)[0]
            depth = F.interpolate(depth[None, None], size=(self.size, self.size), mode="nearest")[0, 0]
        valid = self.valid(depth)
        mean = torch.tensor(self.mean).view(3, 1, 1)
        std = torch.tensor(self.std).view(3, 1, 1)
        return {"pixel_values": (image - mean) / std, "depth": torch.where(valid, depth, torch.zeros_like(depth)),
                "valid": valid, "image_file": str(image_file), "depth_file": str(depth_file)}
