"""A camera for a photo: the focal length from its EXIF (35 mm-equivalent) when it has one, else a field-of-view guess.

Phones and most cameras write ``FocalLengthIn35mmFilm`` (EXIF tag 0xA405): the focal length a 36 x 24 mm film
frame would need for the same field of view. The equivalence is by the diagonal (the crop factor is the ratio of
diagonals), so in pixels ``f = f35 / 43.27 mm * diagonal in pixels`` (43.27 mm is the diagonal of 36 x 24 mm).
That number does not depend on which way the photo is turned; the principal point does: it is the centre of the
picture as it is shown, after its EXIF orientation is applied (``helpers.load_image`` applies it).
Without the tag (screenshots, webcam frames, edited or stripped files) the fallback is a horizontal field of view,
as in notebook 06 (``Intrinsics.from_fov``: ``f = (w / 2) / tan(fov / 2)``). ``intrinsics_for_photo`` says which
source it used.

Depth Pro predicts the horizontal field of view itself: transformers' ``post_process_depth_estimation(outputs,
target_sizes=[(h, w)])`` converts it with the same rule and returns ``"focal_length"``, and computes its metres from
that focal length (depth ∝ f), so its own ``f`` and its depth belong together (notebook 13).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PIL import Image

from .geometry import Intrinsics

FILM_DIAGONAL_MM = math.hypot(36.0, 24.0)  # 43.27 mm: the diagonal of a 35 mm film frame
DEFAULT_HFOV_DEG = 55.0  # ZoeDepth's own point-cloud code assumes 55° (notebook 06)
EXIF_IFD = 0x8769  # the Exif sub-IFD, where the camera settings live
FOCAL_35MM_TAG = 0xA405  # FocalLengthIn35mmFilm, in mm (0 = unknown)
ORIENTATION_TAG = 0x0112  # 1 = upright; 5..8 = turned by 90° (width and height swap when shown)


@dataclass(frozen=True)
class PhotoCamera:
    """Intrinsics for a photo and where the focal length came from (``"exif"`` or ``"fov"``)."""

    intrinsics: Intrinsics
    source: Literal["exif", "fov"]
    focal_35mm: float | None  # the EXIF value in mm, None when the field of view was used
    hfov_deg: float  # the horizontal field of view these intrinsics give

    def describe(self) -> str:
        """One sentence for a learner: the focal length in pixels and which source it came from."""
        if self.source == "exif":
            return (f"Focal length {self.intrinsics.fx:.0f} px from the photo's EXIF ({self.focal_35mm:g} mm, "
                    f"35 mm-equivalent), a {self.hfov_deg:.0f}° horizontal field of view.")
        return (f"No focal length in the photo's EXIF: assumed a {self.hfov_deg:.0f}° horizontal field of view "
                f"(focal length {self.intrinsics.fx:.0f} px).")


def _exif(source) -> Image.Exif:
    """The EXIF block of a path or a PIL image (empty when there is none)."""
    if isinstance(source, Image.Image):
        return source.getexif()
    with Image.open(Path(source)) as image:
        return image.getexif()


def exif_focal_35mm(source) -> float | None:
    """The 35 mm-equivalent focal length (mm) a photo's EXIF states (a path or a PIL image); None if absent or 0."""
    exif = _exif(source)
    value = exif.get_ifd(EXIF_IFD).get(FOCAL_35MM_TAG, exif.get(FOCAL_35MM_TAG))
    try:
        focal = float(value)
    except (TypeError, ValueError):
        return None
    return focal if math.isfinite(focal) and focal > 0 else None


def exif_orientation(source) -> int:
    """The EXIF orientation (1..8; 1 = upright) of a path or a PIL image; 1 when absent or invalid."""
    value = _exif(source).get(ORIENTATION_TAG, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def upright_size(source) -> tuple[int, int]:
    """(width, height) of a photo as shown, with its EXIF orientation applied (5..8 swap the two)."""
    if isinstance(source, Image.Image):
        width, height = source.size
    else:
        with Image.open(Path(source)) as image:
            width, height = image.size
    return (height, width) if exif_orientation(source) >= 5 else (width, height)


def focal_35mm_to_pixels(focal_35mm: float, width: int, height: int) -> float:
    """Focal length in pixels from a 35 mm-equivalent one: ``f35 / 43.27 mm * diagonal in pixels``."""
    if not focal_35mm > 0:
        raise ValueError(f"focal_35mm must be > 0 mm, got {focal_35mm}.")
    return focal_35mm / FILM_DIAGONAL_MM * math.hypot(width, height)


def intrinsics_for_photo(source, size: tuple[int, int] | None = None,
                         hfov_deg: float = DEFAULT_HFOV_DEG) -> PhotoCamera:
    """Intrinsics for a photo (path or PIL image as opened): EXIF 35 mm-equivalent focal length, else ``hfov_deg``.

    ``size``: (width, height) of the picture the depth map belongs to, upright (e.g. after downscaling); default
    the photo's own size with its EXIF orientation applied. Square pixels, principal point at the centre.
    """
    width, height = size if size is not None else upright_size(source)
    focal_35mm = exif_focal_35mm(source)
    if focal_35mm is None:
        K = Intrinsics.from_fov(width, height, hfov_deg=hfov_deg)
        return PhotoCamera(K, "fov", None, float(hfov_deg))
    K = Intrinsics.centred(focal_35mm_to_pixels(focal_35mm, width, height), width, height)
    return PhotoCamera(K, "exif", focal_35mm, K.hfov_deg(width))
