"""helpers.camera: the focal length from constructed EXIF (35 mm-equivalent -> pixels), orientation, the FOV fallback."""

import io
import math

import pytest
from PIL import Image

import helpers
from helpers.camera import (
    EXIF_IFD, FOCAL_35MM_TAG, ORIENTATION_TAG, exif_focal_35mm, exif_orientation, focal_35mm_to_pixels,
    intrinsics_for_photo, upright_size,
)


def photo(tmp_path, size=(40, 30), focal_35mm=None, orientation=None, name="photo.jpg"):
    """A JPEG of ``size`` (as stored) with the given EXIF tags, written to tmp_path."""
    exif = Image.Exif()
    if orientation is not None:
        exif[ORIENTATION_TAG] = orientation
    if focal_35mm is not None:
        exif.get_ifd(EXIF_IFD)[FOCAL_35MM_TAG] = focal_35mm
    path = tmp_path / name
    Image.new("RGB", size, (120, 80, 40)).save(path, "JPEG", exif=exif)
    return path


def test_the_35mm_equivalent_goes_by_the_diagonal():
    # a phone's main camera: 26 mm equivalent, 4032 x 3024 px -> 26 / 43.2666 * 5040 px
    assert focal_35mm_to_pixels(26, 4032, 3024) == pytest.approx(26 / math.sqrt(36**2 + 24**2) * 5040, rel=1e-12)
    assert focal_35mm_to_pixels(26, 4032, 3024) == pytest.approx(3028.66, abs=0.01)
    # a 3:2 picture is a 35 mm frame: 36 mm equivalent spans its width, so the field of view is 2 atan(18/36)
    f = focal_35mm_to_pixels(36, 3000, 2000)
    assert math.degrees(2 * math.atan(1500 / f)) == pytest.approx(math.degrees(2 * math.atan(18 / 36)), rel=1e-12)
    with pytest.raises(ValueError, match="> 0"):
        focal_35mm_to_pixels(0, 10, 10)


def test_exif_focal_length_read_from_a_file(tmp_path):
    path = photo(tmp_path, focal_35mm=26)
    assert exif_focal_35mm(path) == 26.0
    camera = intrinsics_for_photo(path)
    assert camera.source == "exif" and camera.focal_35mm == 26.0
    assert camera.intrinsics.fx == camera.intrinsics.fy == pytest.approx(26 / 43.266615 * 50, rel=1e-6)
    assert (camera.intrinsics.cx, camera.intrinsics.cy) == (19.5, 14.5)
    assert "EXIF" in camera.describe() and "26 mm" in camera.describe()


def test_a_rotated_photo_gets_the_principal_point_of_the_upright_picture(tmp_path):
    path = photo(tmp_path, size=(40, 30), focal_35mm=26, orientation=6)  # stored landscape, shown portrait
    assert exif_orientation(path) == 6 and upright_size(path) == (30, 40)
    camera = intrinsics_for_photo(path)
    assert (camera.intrinsics.cx, camera.intrinsics.cy) == (14.5, 19.5)
    assert camera.intrinsics.fx == pytest.approx(26 / 43.266615 * 50, rel=1e-6)  # the diagonal does not turn
    assert helpers.load_image(path).size == (30, 40)  # the loader shows it the same way


def test_a_smaller_picture_scales_the_focal_length(tmp_path):
    path = photo(tmp_path, size=(400, 300), focal_35mm=28)
    full, half = intrinsics_for_photo(path), intrinsics_for_photo(path, size=(200, 150))
    assert half.intrinsics.fx == pytest.approx(full.intrinsics.fx / 2, rel=1e-12)
    assert half.hfov_deg == pytest.approx(full.hfov_deg, rel=1e-12)


def test_no_exif_falls_back_to_the_field_of_view(tmp_path):
    path = tmp_path / "plain.png"
    Image.new("RGB", (64, 48)).save(path)
    camera = intrinsics_for_photo(path, hfov_deg=60.0)
    assert camera.source == "fov" and camera.focal_35mm is None
    assert camera.intrinsics == helpers.Intrinsics.from_fov(64, 48, hfov_deg=60.0)
    assert camera.hfov_deg == 60.0 and "60°" in camera.describe() and "No focal length" in camera.describe()


def test_a_zero_focal_length_means_unknown(tmp_path):
    path = photo(tmp_path, focal_35mm=0)
    assert exif_focal_35mm(path) is None
    assert intrinsics_for_photo(path).source == "fov"


def test_a_pil_image_as_opened_works_too(tmp_path):
    path = photo(tmp_path, focal_35mm=50, orientation=8)
    with Image.open(io.BytesIO(path.read_bytes())) as image:
        camera = intrinsics_for_photo(image)
    assert camera.source == "exif" and (camera.intrinsics.cx, camera.intrinsics.cy) == (14.5, 19.5)
