"""Focal length in pixels from a field of view, as Depth Pro reports it, and how far a wrong one bends a 3-D cloud.

Depth Pro predicts the camera's *horizontal* field of view (degrees) beside its depth. transformers'
``DepthProImageProcessor.post_process_depth_estimation(outputs, target_sizes=[(h, w)])`` turns it into a focal
length in pixels of the target image, ``f = (w / 2) / tan(fov / 2)``, and returns both (``"field_of_view"``,
``"focal_length"``); without ``target_sizes`` it returns no focal length. The same rule gives pixels from any
horizontal field of view (notebook 06's 55° guess is ``Intrinsics.from_fov``); a photo's EXIF focal length is
``helpers.camera``'s job.
"""

from __future__ import annotations

from .geometry import Intrinsics


def fov_to_focal_px(hfov_deg: float, width: int) -> float:
    """Focal length in pixels for a horizontal field of view over ``width`` pixels: ``(w / 2) / tan(fov / 2)``."""
    hfov_deg = float(hfov_deg)
    if not 0.0 < hfov_deg < 180.0:
        raise ValueError(f"a horizontal field of view lies between 0 and 180 degrees, got {hfov_deg}.")
    if width <= 0:
        raise ValueError(f"width must be positive, got {width}.")
    return Intrinsics.from_fov(width, 1, hfov_deg).fx


def focal_px_to_fov(focal_px: float, width: int) -> float:
    """The horizontal field of view (degrees) a focal length of ``focal_px`` pixels gives over ``width`` pixels."""
    if not focal_px > 0:
        raise ValueError(f"focal_px must be > 0, got {focal_px}.")
    return Intrinsics.centred(focal_px, width, 1).hfov_deg(width)


def depth_pro_intrinsics(result: dict, width: int, height: int) -> Intrinsics:
    """Intrinsics from one entry of Depth Pro's post-processed output for a ``width`` x ``height`` picture.

    Uses its ``focal_length`` when post-processing was given ``target_sizes=[(height, width)]``, else converts its
    ``field_of_view``. Square pixels, principal point at the centre (as Depth Pro assumes).
    """
    focal = result.get("focal_length")
    if focal is None:
        fov = result.get("field_of_view")
        if fov is None:
            raise ValueError("this output has neither 'focal_length' nor 'field_of_view': is it Depth Pro's, "
                             "post-processed with post_process_depth_estimation?")
        focal = fov_to_focal_px(float(fov), width)
    return Intrinsics.centred(float(focal), width, height)


def focal_scale_error(focal_used: float, focal_true: float) -> float:
    """Relative error of every sideways (x, y) coordinate of a back-projected cloud: ``f_true / f_used - 1``.

    ``X = (u - cx) · Z / f``: with the right depth Z, a focal length too small by a factor k widens the scene by 1/k;
    the depth axis is untouched, so angles and shapes distort, not only the size.
    """
    if not (focal_used > 0 and focal_true > 0):
        raise ValueError("focal lengths must be positive.")
    return focal_true / focal_used - 1.0
