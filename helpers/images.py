"""What an image may be: one contract for every helper that takes images, kept in ``as_rgb_image``.

``load_image``, ``predict_depth``, ``predict_folder``, ``depth_batch`` and ``predict_onnx`` all accept:

- **a file**: a ``str`` or ``pathlib.Path`` to anything Pillow reads (PNG, JPEG, WebP, TIFF, BMP, ...);
  ``load_image`` (and so every entry point) also takes a registry name such as ``"bee"`` or an http(s) URL;
- **a PIL image** in any mode: RGBA, LA and palette images with transparency are laid over white; grey
  (``L``, 1-bit ``1``) becomes three equal channels; 16-bit grey (``I;16``) is scaled from 0–65535, 32-bit
  ``I`` from 0–65535 when a value exceeds 255 (else from 0–255); 32-bit float ``F`` must lie in [0, 1];
  CMYK, YCbCr, LAB and HSV are converted by Pillow;
- **a NumPy array** as you hold it: ``H×W`` or ``H×W×1`` grey, ``H×W×2`` grey and alpha, ``H×W×3`` RGB,
  ``H×W×4`` RGBA; ``uint8`` (0–255), ``uint16`` (0–65535), ``bool``, or float in [0, 1]. OpenCV's arrays
  are BGR: say so with ``bgr=True``. The channel order is never guessed from the pixels.

Files and PIL images are turned upright by their EXIF orientation, so the image is the one a viewer
displays. What comes back from every entry point: one float32 map per image at that *displayed* size
(height × width after EXIF rotation), for every shape, 1×1 and 1×N included. An image the model's
processor cannot take as it is (under 8 pixels on a side, or thinner than its processor allows; see
``helpers.batch.processor_input_size``) is stretched along its short side before the model sees it; the map
still comes back at the image's own size.

Very large photos: an image above ``max_pixels`` (default ``MAX_PIXELS``, 200 megapixels: the largest phone
sensors) is refused with ``ImageTooLargeError``, which names the file, before it is decoded. Pass
``max_pixels=None`` (no limit) or a larger number to any entry point to read it anyway (its depth map takes
4 bytes a pixel). This limit replaces Pillow's decompression-bomb guard (a warning above 89 megapixels, an
error above 179) while helpers reads a file. Every error names the file (or, for an image in memory, its
place in the list) and says what to do.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 200_000_000  # 200 megapixels: a 16320 × 12240 phone photo fits
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")  # a folder's photos, by file name


class ImageTooLargeError(ValueError):
    """An image with more pixels than ``max_pixels`` allows: ``label``, ``size`` (width, height) and ``max_pixels`` say
    which and by how much; the message names it and says how to raise the limit."""

    def __init__(self, label: str, size: tuple[int, int], max_pixels: int):
        width, height = size
        self.label, self.size, self.max_pixels = label, (width, height), max_pixels
        super().__init__(
            f"{label} is {width}×{height} pixels ({self.megapixels:.1f} megapixels), above the limit of "
            f"{max_pixels / 1e6:g} megapixels (helpers.images.MAX_PIXELS). Pass max_pixels=None to read it anyway (its "
            f"depth map alone takes {width * height * 4 / 1e9:.1f} GB), or a larger max_pixels, or downscale the photo "
            "first.")

    @property
    def megapixels(self) -> float:
        """The image's size in millions of pixels."""
        return self.size[0] * self.size[1] / 1e6

    def __reduce__(self):  # pickled with its attributes (e.g. from a DataLoader worker process)
        return type(self), (self.label, self.size, self.max_pixels)


def check_pixels(size: tuple[int, int], label: str, max_pixels: int | None = MAX_PIXELS) -> None:
    """Refuse a (width, height) above ``max_pixels`` (None: no limit) with a message naming ``label``."""
    width, height = size
    if max_pixels is None or width * height <= max_pixels:
        return
    raise ImageTooLargeError(label, (width, height), max_pixels)


_PILLOW_GUARD = threading.Lock()


@contextlib.contextmanager
def _own_limit():
    """Pillow's decompression-bomb guard set aside (it is a module global, hence the lock): ``check_pixels`` applies
    helpers' own limit from the file's header, before anything is decoded."""
    with _PILLOW_GUARD:
        saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def open_checked(fp: Any, label: str, max_pixels: int | None = MAX_PIXELS) -> Image.Image:
    """Open and fully decode an image file, refusing one above ``max_pixels``; every error names ``label``."""
    image = _open_header(fp, label, max_pixels)
    try:
        with _own_limit():
            image.load()
    except (OSError, SyntaxError) as err:
        image.close()
        raise ValueError(f"{label} is truncated or corrupt ({err}); download or copy it again.") from err
    return image


def _open_header(fp: Any, label: str, max_pixels: int | None) -> Image.Image:
    try:
        with _own_limit():
            image = Image.open(fp)
    except UnidentifiedImageError as err:
        raise ValueError(f"{label} is not an image file that Pillow can read (PNG, JPEG, ...).") from err
    except (OSError, SyntaxError) as err:
        raise ValueError(f"{label} is truncated or corrupt ({err}); download or copy it again.") from err
    try:
        check_pixels(image.size, label, max_pixels)
    except ImageTooLargeError:
        image.close()
        raise
    return image


def check_image_file(path: str | Path, max_pixels: int | None = MAX_PIXELS) -> tuple[int, int]:
    """Read only the header of an image file: its (width, height), or the error loading it would raise later."""
    path = _existing_file(path)
    with _open_header(path, str(path), max_pixels) as image:
        return image.size


def _existing_file(path: str | os.PathLike) -> Path:
    path = Path(path).expanduser()
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; give the path of one image file.")
    if not path.exists():
        raise FileNotFoundError(f"No image at {path}: check the path (a relative path starts in the folder Python "
                                f"runs in, {Path.cwd()}).")
    return path


def _float_to_uint8(values: np.ndarray, label: str) -> np.ndarray:
    """Floats in [0, 1] to 0–255 (anything that rounds into 0–255 is accepted); a clear error otherwise."""
    values = values.astype(np.float64, copy=False)
    if not np.isfinite(values).all():
        raise ValueError(f"{label} holds NaN or infinite values: an image's floats must lie in [0, 1].")
    low, high = float(values.min()), float(values.max())
    if low < -0.5 / 255 or high > 1 + 0.5 / 255:
        raise ValueError(f"{label} holds floats from {low:.4g} to {high:.4g}, but an image's floats must lie in [0, 1]: "
                         "divide by 255 if they are 0–255 values (or by their maximum), or pass a uint8 array.")
    return np.round(np.clip(values, 0.0, 1.0) * 255).astype(np.uint8)


def _scale_to_uint8(values: np.ndarray, top: float) -> np.ndarray:
    return np.round(np.clip(values.astype(np.float64) / top, 0.0, 1.0) * 255).astype(np.uint8)


def to_rgb(image: Image.Image, label: str = "the image") -> Image.Image:
    """RGB copy of a PIL image in any mode: EXIF orientation applied, transparency over white, 16-bit scaled."""
    image = ImageOps.exif_transpose(image)
    if image.mode.startswith("I;16"):
        image = Image.fromarray(_scale_to_uint8(np.asarray(image), 65535.0), mode="L")
    elif image.mode == "I":
        values = np.asarray(image)
        image = Image.fromarray(_scale_to_uint8(values, 65535.0 if values.max(initial=0) > 255 else 255.0), mode="L")
    elif image.mode == "F":
        image = Image.fromarray(_float_to_uint8(np.asarray(image), label), mode="L")
    if image.mode in ("P", "PA", "LA", "La", "RGBa"):
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    return image.convert("RGB")


_ARRAY_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def array_to_image(array: np.ndarray, *, bgr: bool = False, label: str = "the array",
                   max_pixels: int | None = MAX_PIXELS) -> Image.Image:
    """A PIL image (L, LA, RGB or RGBA) of a NumPy array held as the module docstring says; ``bgr`` for OpenCV's order."""
    shape, dtype = array.shape, array.dtype
    if array.ndim == 3 and shape[-1] not in _ARRAY_MODES and shape[0] in _ARRAY_MODES:
        raise ValueError(f"{label} has shape {shape}: channels first, as PyTorch holds images. Give height × width × "
                         "channels: array.transpose(1, 2, 0).")
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[-1] not in _ARRAY_MODES:
        raise ValueError(f"{label} has shape {shape}; an image array is H×W (grey), H×W×1, H×W×2 (grey, alpha), "
                         "H×W×3 (RGB, or BGR with bgr=True) or H×W×4 (RGBA, or BGRA with bgr=True).")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{label} has shape {shape}: an image with no pixels.")
    check_pixels((array.shape[1], array.shape[0]), label, max_pixels)
    if dtype == np.bool_:
        array = array.astype(np.uint8) * 255
    elif dtype == np.uint16:
        array = _scale_to_uint8(array, 65535.0)
    elif np.issubdtype(dtype, np.floating):
        array = _float_to_uint8(array, label)
    elif dtype != np.uint8:
        raise ValueError(f"{label} has dtype {dtype}; an image array is uint8 (0–255), uint16 (0–65535), bool or "
                         "float in [0, 1]: convert it, e.g. array.astype(np.uint8) for 0–255 values.")
    channels = array.shape[-1]
    if bgr and channels >= 3:
        array = array[:, :, [2, 1, 0, 3][:channels]]  # BGR(A) -> RGB(A)
    array = np.ascontiguousarray(array)
    return Image.fromarray(array[:, :, 0] if channels == 1 else array, mode=_ARRAY_MODES[channels])


def describe(image: Any) -> str:
    """A short name for an image in error messages: its file, or what it is (mode or dtype, and size)."""
    if isinstance(image, (str, os.PathLike)):
        return str(Path(image).expanduser())
    if isinstance(image, Image.Image):
        origin = getattr(image, "filename", "")
        return f"the PIL image from {origin}" if origin else f"the {image.width}×{image.height} {image.mode} PIL image"
    if isinstance(image, np.ndarray):
        return f"the {'×'.join(map(str, image.shape))} {image.dtype} array"
    return f"the {type(image).__name__}"


def as_rgb_image(image: Any, *, bgr: bool = False, max_pixels: int | None = MAX_PIXELS,
                 label: str | None = None) -> Image.Image:
    """An RGB PIL image at the displayed size of a file path, a PIL image or a NumPy array (see the module docstring).

    ``bgr=True``: a 3- or 4-channel array is in OpenCV's order (BGR, BGRA); a file or PIL image has a known
    order, so it is refused there. ``max_pixels`` (None: no limit) refuses larger images, before a file is
    decoded. ``label`` names the image in errors (default: its path, or what it is).
    """
    label = label or describe(image)
    if isinstance(image, (str, os.PathLike)):
        refuse_bgr(bgr, label)
        return to_rgb(open_checked(_existing_file(image), label, max_pixels), label)
    if isinstance(image, Image.Image):
        refuse_bgr(bgr, label)
        check_pixels(image.size, label, max_pixels)
        return to_rgb(image, label)
    if isinstance(image, np.ndarray):
        return to_rgb(array_to_image(image, bgr=bgr, label=label, max_pixels=max_pixels), label)
    hint = " (a torch tensor: tensor.permute(1, 2, 0).cpu().numpy() for C×H×W)" if type(image).__name__ == "Tensor" else ""
    raise TypeError(f"{label} is not an image{hint}: give a file path, a PIL image or a NumPy array "
                    "(helpers.images says what each may be).")


def refuse_bgr(bgr: bool, label: str) -> None:
    """``bgr=True`` with a file or a PIL image is a mistake (their channel order is known): a clear error."""
    if bgr:
        raise ValueError(f"bgr=True describes NumPy arrays in OpenCV's channel order; {label} is a file or a PIL image, "
                         "whose order is known. Pass bgr=True only with arrays from OpenCV.")
