import io
import re
import warnings

import numpy as np
import pytest
from PIL import Image, ImageFile

from helpers import data
from helpers.data import load_image, load_stereo_pair
from helpers.images import MAX_PIXELS, ImageTooLargeError

BEE_URL = "https://huggingface.co/datasets/huggingface/documentation-images/resolve/main/bee.jpg"  # the task guide's


# ---- the stereo pair --------------------------------------------------------------------------

def test_stereo_pair_shapes_and_unknown_pixels():
    pair = load_stereo_pair()
    assert pair.left.size == (741, 500) and pair.right.size == (741, 500)
    assert pair.disparity.shape == (500, 741) and pair.disparity.dtype == np.float32
    with np.load(data.bundled_file("motorcycle_disparity")) as raw:
        unknown = int((~np.isfinite(raw["arr_0"])).sum())
    assert int(np.isnan(pair.disparity).sum()) == unknown == 27226
    assert not np.isinf(pair.disparity).any()


def test_stereo_depth_formula_on_a_known_pixel():
    pair = load_stereo_pair()
    d = float(pair.disparity[250, 370])
    expected = 994.978 * 0.193001 / (d + 31.086)
    assert pair.depth_m()[250, 370] == pytest.approx(expected, rel=1e-6)


def test_disparity_convention_left_x_matches_right_x_minus_d():
    pair = load_stereo_pair()
    left = np.asarray(pair.left.convert("L"), dtype=np.float64)
    right = np.asarray(pair.right.convert("L"), dtype=np.float64)
    ys, xs = np.nonzero(pair.valid)
    errors = {}
    for sign in (-1, +1):
        xr = np.round(xs + sign * pair.disparity[ys, xs]).astype(int)
        keep = (xr >= 0) & (xr < left.shape[1])
        errors[sign] = np.abs(left[ys[keep], xs[keep]] - right[ys[keep], xr[keep]]).mean()
    assert errors[-1] < 10 < 30 < errors[+1]


# ---- images: modes, orientation, errors -------------------------------------------------------

def _save(tmp_path, image, name, **kwargs):
    path = tmp_path / name
    image.save(path, **kwargs)
    return path


def test_rgba_transparency_goes_over_white(tmp_path):
    rgba = Image.new("RGBA", (2, 1), (10, 20, 30, 255))
    rgba.putpixel((1, 0), (0, 0, 0, 0))
    out = load_image(_save(tmp_path, rgba, "a.png"))
    assert out.mode == "RGB" and out.getpixel((0, 0)) == (10, 20, 30) and out.getpixel((1, 0)) == (255, 255, 255)


def test_16_bit_grayscale_is_scaled_not_clipped(tmp_path):
    gray16 = Image.fromarray(np.array([[0, 32768, 65535]], dtype=np.uint16))
    out = load_image(_save(tmp_path, gray16, "g16.png"))
    assert [out.getpixel((x, 0)) for x in range(3)] == [(0, 0, 0), (128, 128, 128), (255, 255, 255)]


def test_grayscale_and_palette_become_rgb(tmp_path):
    gray = load_image(_save(tmp_path, Image.new("L", (1, 1), 77), "l.png"))
    assert gray.getpixel((0, 0)) == (77, 77, 77)
    palette = Image.new("RGB", (1, 1), (200, 10, 10)).convert("P")
    assert load_image(_save(tmp_path, palette, "p.png")).mode == "RGB"


def test_exif_orientation_is_applied(tmp_path):
    image = Image.new("RGB", (4, 2), (0, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    out = load_image(_save(tmp_path, image, "rot.jpg", exif=exif.tobytes()))
    assert out.size == (2, 4)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="No image at"):
        load_image(tmp_path / "nope.png")


def test_folder_is_a_clear_error(tmp_path):
    with pytest.raises(IsADirectoryError):
        load_image(tmp_path)


def test_not_an_image_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("hello")
    with pytest.raises(ValueError, match="not an image"):
        load_image(path)


def test_truncated_image_is_a_clear_error(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(buffer, format="PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load_image(path)


def test_bundled_file_checks_its_checksum(monkeypatch):
    monkeypatch.setitem(data.DATA, "chelsea", data.DataFile("chelsea.png", "0" * 64, "test"))
    with pytest.raises(ValueError, match="sha256"):
        load_image("chelsea")


# ---- very large photos: one documented limit, the file named, Pillow's guard set aside ----------------------

def test_a_photo_above_max_pixels_is_refused_from_its_header_naming_the_file(tmp_path, monkeypatch):
    path = _save(tmp_path, Image.new("RGB", (40, 30), (1, 2, 3)), "holiday photo.png")
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("decoded before the size was checked"))
    with pytest.raises(ImageTooLargeError, match=rf"{re.escape(str(path))} is 40×30 pixels \(0\.0 megapixels\), above "
                                                  r"the limit of 0\.001 megapixels \(helpers\.images\.MAX_PIXELS\)\. "
                                                  r"Pass max_pixels=None to read it anyway"):
        load_image(path, max_pixels=1000)
    monkeypatch.undo()
    assert load_image(path, max_pixels=1200).size == (40, 30)  # the limit itself is allowed
    assert load_image(path, max_pixels=None).getpixel((0, 0)) == (1, 2, 3)
    assert MAX_PIXELS == 200_000_000  # a 200-megapixel phone photo (16320 × 12240) is read by default
    assert issubclass(ImageTooLargeError, ValueError)


def test_pillows_decompression_bomb_guard_gives_way_to_max_pixels(tmp_path, monkeypatch):
    path = _save(tmp_path, Image.new("RGB", (40, 30), (9, 9, 9)), "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500)  # Pillow itself: a warning above 500 pixels, an error above 1000
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's DecompressionBombWarning would fail here
        assert load_image(path).size == (40, 30)
    assert Image.MAX_IMAGE_PIXELS == 500  # Pillow's own setting is put back
    with pytest.raises(ImageTooLargeError, match=re.escape(str(path))):
        load_image(path, max_pixels=1000)


def test_bgr_is_refused_for_names_and_files():
    with pytest.raises(ValueError, match=r"bgr=True describes NumPy arrays.*chelsea is a file or a PIL image"):
        load_image("chelsea", bgr=True)


def test_load_image_takes_arrays_and_pil_images_as_the_contract_says():
    pixels = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    assert np.asarray(load_image(pixels)).tolist() == pixels.tolist()
    assert np.asarray(load_image(pixels[:, :, ::-1], bgr=True)).tolist() == pixels.tolist()
    assert load_image(Image.fromarray(pixels)).size == (4, 2)


# ---- URLs: fallback offline, cache online ------------------------------------------------------

def test_guide_url_falls_back_to_the_bundled_photo_offline(capsys):
    out = load_image(BEE_URL)
    assert np.array_equal(np.asarray(out), np.asarray(load_image("chelsea")))
    assert capsys.readouterr().out == (
        "[helpers] Offline mode is on and 'bee' is not in the cache, so the bundled photo 'chelsea' is shown "
        "instead; to get 'bee', run `python -m helpers.classroom.prefetch --only bee` once with network access.\n"
    )


def test_guide_pictures_come_from_hf_endpoint_at_call_time(monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9/")
    assert data.DATA["bee"].url == "http://127.0.0.1:9/datasets/huggingface/documentation-images/resolve/main/bee.jpg"
    monkeypatch.delenv("HF_ENDPOINT")
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "ENDPOINT", "https://hf.example")
    assert data.DATA["cat_chonk"].url == (
        "https://hf.example/datasets/huggingface/documentation-images/resolve/main/pipeline-cat-chonk.jpeg")
    assert data.DATA["bee"].cache_key == BEE_URL


def test_unknown_url_offline_is_a_clear_error():
    with pytest.raises(ConnectionError, match="no bundled fallback"):
        load_image("https://example.org/some.jpg")


@pytest.fixture
def image_server(loopback):
    """The shared loopback server, serving one PNG and (any other path) a non-image, counting requests."""
    png = io.BytesIO()
    Image.new("RGB", (3, 2), (9, 8, 7)).save(png, format="PNG")
    hits = {"count": 0}

    def route(method, path):
        hits["count"] += 1
        hits.setdefault("paths", []).append(path)
        if "missing" in path:
            return 404, {}, b""
        return 200, {}, png.getvalue() if path.endswith((".png", ".jpg")) else b"<html>not an image</html>"

    return loopback(route).url, hits


def test_download_once_then_cache_hit(image_server, monkeypatch, tmp_path):
    base, hits = image_server
    monkeypatch.setenv("DEPTH_TUTORIALS_OFFLINE", "0")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("DEPTH_TUTORIALS_CACHE", str(tmp_path))
    first = load_image(f"{base}/pic.png")
    second = load_image(f"{base}/pic.png")
    assert first.size == (3, 2) and first.getpixel((0, 0)) == (9, 8, 7)
    assert np.array_equal(np.asarray(first), np.asarray(second))
    assert hits["count"] == 1


def test_download_of_a_non_image_is_refused_and_not_cached(image_server, monkeypatch, tmp_path):
    base, _ = image_server
    monkeypatch.setenv("DEPTH_TUTORIALS_OFFLINE", "0")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("DEPTH_TUTORIALS_CACHE", str(tmp_path))
    with pytest.raises(ConnectionError):
        load_image(f"{base}/page.html")
    assert not (tmp_path / "images").exists() or not any((tmp_path / "images").iterdir())


def _online(monkeypatch, tmp_path, endpoint):
    monkeypatch.setenv("DEPTH_TUTORIALS_OFFLINE", "0")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("DEPTH_TUTORIALS_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_ENDPOINT", endpoint)


def test_the_guide_picture_comes_from_the_hub_mirror(image_server, monkeypatch, tmp_path, capsys):
    base, hits = image_server
    _online(monkeypatch, tmp_path, base)
    bee = load_image("bee")
    assert hits["paths"] == ["/datasets/huggingface/documentation-images/resolve/main/bee.jpg"]
    assert bee.size == (3, 2) and bee.getpixel((0, 0)) == (9, 8, 7)
    assert capsys.readouterr().out == ""  # no fallback
    # the guide's own address means the same file: served from the cache, no second request
    assert load_image(BEE_URL).getpixel((2, 1)) == (9, 8, 7) and hits["count"] == 1


def test_a_mirror_without_the_picture_gives_one_clear_notice(image_server, monkeypatch, tmp_path, capsys):
    base, _ = image_server
    _online(monkeypatch, tmp_path, base + "/missing")
    out = load_image("bee")
    assert np.array_equal(np.asarray(out), np.asarray(load_image("chelsea")))
    assert capsys.readouterr().out == (
        f"[helpers] Could not download 'bee' from {base}/missing/datasets/huggingface/documentation-images/resolve/main/"
        "bee.jpg (HTTP 404), so the bundled photo 'chelsea' is shown instead; check your network, or set HF_ENDPOINT "
        "to a Hub mirror you can reach, and run the cell again.\n"
    )
