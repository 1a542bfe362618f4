"""One input contract (helpers.images) for every entry point that takes images, table-driven.

Every input kind (files in many modes and formats, PIL images, NumPy arrays as users hold them, degenerate
shapes) goes through every entry point (predict_depth, depth_batch, predict_folder for files, predict_onnx,
the app's depth_results, a video frame through helpers.video.frame_image for images in memory, the fine-tuning
dataset RGBDFolder for files), and each map is compared with predict_depth's for the equivalent RGB image,
built here independently of helpers: exactly for the PyTorch entry points, within 1e-4 of the peak for ONNX
Runtime (its float arithmetic differs from PyTorch's; tests/test_deploy.py holds it to the same bound). The
dataset yields no map: its image (``pair``) must equal the RGB image and its ``pixel_values`` the same image
resized and normalised here, with the depth file, written at the displayed size, read back aligned. The model's input is kept at 56 px
(``processor_kwargs``) so that the table stays fast; the code path is the same at any size.
"""

import copy
import pickle
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import app
from helpers.batch import depth_batch, predict_depth, predict_folder
from helpers.deploy import max_relative_difference, onnx_session, predict_onnx
from helpers.depthio import save_depth_npy
from helpers.finetune import RGBDFolder
from helpers.images import ImageTooLargeError, as_rgb_image
from helpers.video import frame_image

SMALL = {"size": {"height": 56, "width": 56}}
ONNX_TOLERANCE = 1e-4  # max |onnx - eager| / max |eager|
H, W = 30, 45
RNG = np.random.default_rng(7)
RGB = RNG.integers(0, 256, (H, W, 3), dtype=np.uint8)
GREY = RNG.integers(0, 256, (H, W), dtype=np.uint8)
ALPHA = np.where(RNG.random((H, W)) < 0.3, 0, 255).astype(np.uint8)  # fully transparent or opaque: exact expectations
WORDS16 = RNG.integers(0, 65536, (H, W, 3), dtype=np.uint16)
UNIT = RNG.random((H, W, 3))


def _grey3(grey):
    return np.repeat(np.asarray(grey, np.uint8)[:, :, None], 3, axis=2)


def _over_white(rgb, alpha):
    return np.where(alpha[:, :, None] == 0, 255, rgb).astype(np.uint8)


def _exif(orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def _palette_image():
    colours = RNG.integers(0, 256, (4, 3), dtype=np.uint8)
    index = RNG.integers(0, 4, (H, W), dtype=np.uint8)
    image = Image.fromarray(index, mode="P")
    image.putpalette(colours.flatten().tolist())
    image.info["transparency"] = 0
    return image, np.where(index[:, :, None] == 0, 255, colours[index]).astype(np.uint8)


def _file(folder, name, image, **save):
    path = folder / name
    image.save(path, **save)
    return path


# kind -> builder(folder) returning (the input, the RGB array it means[, options for the entry points])
def _jpeg_rotated_ccw(folder):
    path = _file(folder, "rotated ccw.jpg", Image.fromarray(RGB), exif=_exif(8), quality=95)
    with Image.open(path) as raw:  # the stored pixels, before the EXIF orientation: shown rotated 90° counter-clockwise
        return path, np.rot90(np.asarray(raw.convert("RGB")), 1)


def _cmyk_tiff(folder):
    cmyk = np.concatenate([RNG.integers(0, 256, (H, W, 3), dtype=np.uint8), np.zeros((H, W, 1), np.uint8)], axis=2)
    return _file(folder, "cmyk.tif", Image.fromarray(cmyk, mode="CMYK")), 255 - cmyk[:, :, :3]  # K = 0: exact


def _palette_png(folder):
    image, rgb = _palette_image()
    return _file(folder, "palette.png", image), rgb


def _grey16(grey16):
    return _grey3(np.round(grey16 / 65535 * 255).astype(np.uint8))


FILES = {
    "PNG, RGB": lambda f: (_file(f, "rgb.png", Image.fromarray(RGB)), RGB),
    "PNG, EXIF orientation 6 (shown rotated 90° cw)": lambda f: (
        _file(f, "rotated cw.png", Image.fromarray(RGB), exif=_exif(6)), np.rot90(RGB, -1)),
    "JPEG, EXIF orientation 8 (shown rotated 90° ccw)": _jpeg_rotated_ccw,
    "PNG, RGBA": lambda f: (_file(f, "rgba.png", Image.fromarray(np.dstack([RGB, ALPHA]))), _over_white(RGB, ALPHA)),
    "PNG, LA (grey and alpha)": lambda f: (
        _file(f, "la.png", Image.fromarray(np.dstack([GREY, ALPHA]), mode="LA")), _over_white(_grey3(GREY), ALPHA)),
    "PNG, L (grey)": lambda f: (_file(f, "grey.png", Image.fromarray(GREY)), _grey3(GREY)),
    "PNG, I;16 (16-bit grey)": lambda f: (_file(f, "grey16.png", Image.fromarray(WORDS16[:, :, 0])), _grey16(WORDS16[:, :, 0])),
    "PNG, P (palette, transparent index)": _palette_png,
    "PNG, 1 (1-bit)": lambda f: (_file(f, "bits.png", Image.fromarray(GREY > 127)), _grey3(np.where(GREY > 127, 255, 0))),
    "TIFF, CMYK": _cmyk_tiff,
    "WebP, lossless": lambda f: (_file(f, "lossless.webp", Image.fromarray(RGB), lossless=True), RGB),
    "str path, non-ASCII name": lambda f: (str(_file(f, "café 写真.png", Image.fromarray(RGB))), RGB),
}
IN_MEMORY = {
    "PIL, RGB": lambda f: (Image.fromarray(RGB), RGB),
    "PIL, RGBA": lambda f: (Image.fromarray(np.dstack([RGB, ALPHA])), _over_white(RGB, ALPHA)),
    "PIL, I;16": lambda f: (Image.fromarray(WORDS16[:, :, 1]), _grey16(WORDS16[:, :, 1])),
    "PIL, P with transparency": lambda f: _palette_image(),
    "PIL, CMYK": lambda f: (Image.fromarray(RGB).convert("CMYK"), RGB),  # Pillow's RGB -> CMYK -> RGB is exact
    "PIL, opened from a file with EXIF orientation 6": lambda f: (
        Image.open(_file(f, "rotated-for-pil.png", Image.fromarray(RGB), exif=_exif(6))), np.rot90(RGB, -1)),
    "array H×W uint8 (grey)": lambda f: (GREY, _grey3(GREY)),
    "array H×W×1 uint8": lambda f: (GREY[:, :, None], _grey3(GREY)),
    "array H×W×3 uint8 (RGB)": lambda f: (RGB, RGB),
    "array H×W×3 uint8, bgr=True (OpenCV)": lambda f: (RGB[:, :, ::-1].copy(), RGB, {"bgr": True}),
    "array H×W×4 uint8 (RGBA)": lambda f: (np.dstack([RGB, ALPHA]), _over_white(RGB, ALPHA)),
    "array H×W×4 uint8, bgr=True (BGRA)": lambda f: (np.dstack([RGB[:, :, ::-1], ALPHA]), _over_white(RGB, ALPHA),
                                                     {"bgr": True}),
    "array H×W×3 uint16": lambda f: (WORDS16, np.round(WORDS16 / 65535 * 255).astype(np.uint8)),
    "array H×W×3 float64 in [0, 1]": lambda f: (UNIT, np.round(UNIT * 255).astype(np.uint8)),
    "array H×W float32 in [0, 1]": lambda f: (
        UNIT[:, :, 0].astype(np.float32), _grey3(np.round(UNIT[:, :, 0].astype(np.float32).astype(np.float64) * 255).astype(np.uint8))),
    "array H×W bool": lambda f: (GREY > 127, _grey3(np.where(GREY > 127, 255, 0))),
    "array, a flipped view (not contiguous)": lambda f: (RGB[:, ::-1], RGB[:, ::-1]),
}
DEGENERATE = [(1, 1), (1, 60), (60, 1), (2, 300), (7, 7)]  # 2 × 300: thinner than the processor takes (1 : 4 at 56 px)


def _pixels(h, w):
    return np.random.default_rng(h * 1000 + w).integers(0, 256, (h, w, 3), dtype=np.uint8)


for _h, _w in DEGENERATE:
    FILES[f"PNG, {_h}×{_w}"] = lambda f, h=_h, w=_w: (_file(f, f"tiny-{h}x{w}.png", Image.fromarray(_pixels(h, w))),
                                                       _pixels(h, w))
    IN_MEMORY[f"array, {_h}×{_w}"] = lambda f, h=_h, w=_w: (_pixels(h, w), _pixels(h, w))

ENTRY_POINTS = ["predict_depth", "depth_batch", "predict_folder", "predict_onnx", "app depth_results",
                "video frame_image", "RGBDFolder"]
FILES_ONLY = {"predict_folder", "RGBDFolder"}  # a folder holds files
IN_MEMORY_ONLY = {"video frame_image"}  # a decoded frame is an array (OpenCV's: BGR)
TABLE = [(kind, entry) for kind in [*FILES, *IN_MEMORY] for entry in ENTRY_POINTS
         if (entry not in FILES_ONLY or kind in FILES) and (entry not in IN_MEMORY_ONLY or kind in IN_MEMORY)]
RELATIVE = app.MODELS["Depth Anything V2 Small: relative"]


@pytest.fixture(scope="module")
def kinds(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kinds")
    return {name: (build(folder) + ({},))[:3] for name, build in {**FILES, **IN_MEMORY}.items()}


@pytest.fixture(scope="module")
def session(tiny_onnx):
    return onnx_session(tiny_onnx.path, threads=1)


@pytest.fixture(scope="module")
def references(tiny_depth_anything):
    """kind -> predict_depth's map of the RGB image it means, computed once per kind."""
    return {}


def _reference(model, processor, expected):
    return predict_depth(model, processor, [Image.fromarray(np.ascontiguousarray(expected))], processor_kwargs=SMALL,
                         progress=False)[0]


@pytest.fixture
def app_model(tiny_depth_anything, monkeypatch):
    """The app's model cache holding the tiny stand-in with its processor set to SMALL's input size."""
    model, processor = tiny_depth_anything
    small = copy.deepcopy(processor)
    small.size = dict(SMALL["size"])
    monkeypatch.setitem(app._MODELS, (RELATIVE, "cpu"), (small, model))


def _dataset_sample(source, expected, tmp_path):
    """RGBDFolder over a folder holding the file and a depth map at its displayed size: (dataset, depth written)."""
    folder = tmp_path / "rgbd"
    (folder / "images").mkdir(parents=True)
    shutil.copy(source, folder / "images")
    height, width = expected.shape[:2]
    depth = (1.0 + np.arange(height * width, dtype=np.float32).reshape(height, width) / 8).astype(np.float32)
    save_depth_npy(folder / "depth" / f"{Path(source).stem}.npy", depth)
    return RGBDFolder(folder, size=14, augment=False, max_depth=1e6), depth


def _check_dataset(dataset, depth, expected):
    import torch
    import torch.nn.functional as F

    image, read = dataset.pair(0)
    assert np.asarray(image).tolist() == np.ascontiguousarray(expected).tolist()
    np.testing.assert_array_equal(read, depth)  # pixel-aligned with the image as displayed
    pixels = torch.from_numpy(np.ascontiguousarray(expected).astype(np.float32) / 255.0).permute(2, 0, 1)
    pixels = F.interpolate(pixels[None], size=(14, 14), mode="bilinear", antialias=True)[0]
    mean, std = torch.tensor(dataset.mean).view(3, 1, 1), torch.tensor(dataset.std).view(3, 1, 1)
    torch.testing.assert_close(dataset[0]["pixel_values"], (pixels - mean) / std, rtol=0, atol=1e-6)


@pytest.mark.parametrize("kind, entry", TABLE, ids=[f"{kind} | {entry}" for kind, entry in TABLE])
def test_every_input_kind_through_every_entry_point_equals_predict_depth_on_its_rgb_image(
        kind, entry, kinds, references, tiny_depth_anything, session, app_model, tmp_path):
    model, processor = tiny_depth_anything
    source, expected, options = kinds[kind]
    assert np.asarray(as_rgb_image(source, **options)).tolist() == np.ascontiguousarray(expected).tolist()
    if entry == "RGBDFolder":
        _check_dataset(*_dataset_sample(source, expected, tmp_path), expected)
        return
    if kind not in references:
        references[kind] = _reference(model, processor, expected)
    reference = references[kind]
    if entry == "predict_depth":
        found = predict_depth(model, processor, [source], processor_kwargs=SMALL, progress=False, **options)[0]
    elif entry == "depth_batch":
        found = depth_batch({"image": [source]}, model, processor, processor_kwargs=SMALL, **options)["depth"][0]
    elif entry == "predict_folder":
        folder = tmp_path / "photos"
        folder.mkdir()
        shutil.copy(source, folder)
        result = predict_folder(model, processor, folder, out_dir=tmp_path / "depth", processor_kwargs=SMALL,
                                batch_size=1, progress=False, **options)
        [found] = result.depths.values()
        assert np.load(next((tmp_path / "depth").glob("*.npy"))).tolist() == found.tolist()
    elif entry == "app depth_results":
        results = app.depth_results(source, RELATIVE, out_dir=tmp_path, device="cpu", **options)
        assert np.asarray(results.image).tolist() == np.ascontiguousarray(expected).tolist()
        assert np.load(results.depth_file).tolist() == results.depth.tolist()
        found = results.depth
    elif entry == "video frame_image":
        found = predict_depth(model, processor, [frame_image(source, **options)], processor_kwargs=SMALL,
                              progress=False)[0]
    else:
        found = predict_onnx(session, processor, source, processor_kwargs=SMALL, **options).numpy()
    assert found.shape == expected.shape[:2] and found.dtype == np.float32 and np.isfinite(found).all()
    if entry == "predict_onnx":
        assert max_relative_difference(found, reference) <= ONNX_TOLERANCE
    else:
        np.testing.assert_array_equal(found, reference)


def test_a_list_through_predict_onnx_gives_a_list_and_names_a_bad_item_by_its_place(tiny_depth_anything, session, kinds):
    _, processor = tiny_depth_anything
    maps = predict_onnx(session, processor, [RGB, GREY], processor_kwargs=SMALL)
    assert [tuple(m.shape) for m in maps] == [(H, W), (H, W)]
    with pytest.raises(ValueError, match=r"images\[1\] \(the 30×45 int64 array\) has dtype int64.*astype\(np\.uint8\)"):
        predict_onnx(session, processor, [RGB, GREY.astype(np.int64)], processor_kwargs=SMALL)


# ---- the contract's rules, one by one -----------------------------------------------------------------------

@pytest.mark.parametrize("array, message", [
    (np.zeros((3, H, W), np.uint8), r"shape \(3, 30, 45\): channels first.*transpose\(1, 2, 0\)"),
    (np.zeros((H, W, 5), np.uint8), r"shape \(30, 45, 5\); an image array is H×W"),
    (np.zeros((H,), np.uint8), r"shape \(30,\); an image array is H×W"),
    (np.zeros((0, W, 3), np.uint8), r"shape \(0, 45, 3\): an image with no pixels"),
    (np.zeros((H, W, 3), np.int64), r"dtype int64; an image array is uint8 \(0–255\), uint16 \(0–65535\), bool or float"),
    (np.full((H, W, 3), 255.0), r"holds floats from 255 to 255, but an image's floats must lie in \[0, 1\]: divide by 255"),
    (np.full((H, W), np.nan), r"holds NaN or infinite values"),
])
def test_arrays_that_are_not_images_are_clear_errors(array, message):
    with pytest.raises(ValueError, match=message):
        as_rgb_image(array)


def test_floats_that_round_into_0_255_are_accepted():
    nearly = np.array([[-0.001, 1.001]])
    assert np.asarray(as_rgb_image(nearly))[0, :, 0].tolist() == [0, 255]


def test_bgr_is_never_guessed_and_refused_where_the_order_is_known(tmp_path):
    bgr = RGB[:, :, ::-1]
    assert np.asarray(as_rgb_image(bgr)).tolist() == bgr.tolist()  # taken as RGB unless told
    assert np.asarray(as_rgb_image(bgr, bgr=True)).tolist() == RGB.tolist()
    path = _file(tmp_path, "x.png", Image.fromarray(RGB))
    for source in (path, Image.fromarray(RGB)):
        with pytest.raises(ValueError, match=r"bgr=True describes NumPy arrays in OpenCV's channel order"):
            as_rgb_image(source, bgr=True)


def test_other_types_are_a_clear_error():
    import torch

    with pytest.raises(TypeError, match=r"the Tensor is not an image \(a torch tensor: tensor\.permute\(1, 2, 0\)"):
        as_rgb_image(torch.zeros(3, 4, 4))
    with pytest.raises(TypeError, match=r"the bytes is not an image: give a file path, a PIL image or a NumPy array"):
        as_rgb_image(b"\x89PNG")


def test_float_pil_images_follow_the_float_rule():
    assert as_rgb_image(Image.fromarray(np.full((2, 2), 0.5, np.float32))).getpixel((0, 0)) == (128, 128, 128)
    with pytest.raises(ValueError, match=r"the 2×2 F PIL image holds floats from 3 to 3"):
        as_rgb_image(Image.fromarray(np.full((2, 2), 3.0, np.float32)))


@pytest.mark.parametrize("make", [
    lambda: np.zeros((30, 40, 3), np.uint8),
    lambda: Image.new("RGB", (40, 30)),
], ids=["array", "PIL image"])
def test_max_pixels_applies_to_images_in_memory_too(make):
    with pytest.raises(ImageTooLargeError, match=r"is 40×30 pixels \(0\.0 megapixels\), above the limit of 0\.001 "
                                                  r"megapixels.*Pass max_pixels=None") as refused:
        as_rgb_image(make(), max_pixels=1000)
    # the error carries what it says, so that a caller (the app's message) reads it instead of parsing the text
    assert (refused.value.size, refused.value.max_pixels, refused.value.megapixels) == ((40, 30), 1000, 0.0012)
    assert refused.value.label.startswith("the ") and str(refused.value).startswith(refused.value.label)
    again = pickle.loads(pickle.dumps(refused.value))  # e.g. from a DataLoader worker: attributes and text intact
    assert (type(again), again.size, again.max_pixels, str(again)) == (ImageTooLargeError, (40, 30), 1000,
                                                                       str(refused.value))
    assert as_rgb_image(make(), max_pixels=None).size == (40, 30)


def test_entry_points_name_the_file_above_max_pixels_before_any_model_work(tiny_depth_anything, session, tmp_path):
    model, processor = tiny_depth_anything
    folder = tmp_path / "photos"
    folder.mkdir()
    small = _file(folder, "a small.png", Image.fromarray(RGB))
    big = _file(folder, "b big.png", Image.new("RGB", (100, 50)))
    passes = []
    handle = model.register_forward_pre_hook(lambda *args: passes.append(1))
    try:
        for call in (lambda: predict_depth(model, processor, [big], max_pixels=4000, progress=False),
                     lambda: predict_onnx(session, processor, big, max_pixels=4000),
                     lambda: predict_folder(model, processor, folder, out_dir=tmp_path / "out", max_pixels=4000,
                                            progress=False)):
            with pytest.raises(ImageTooLargeError, match=rf"{re.escape(str(big))} is 100×50 pixels"):
                call()
    finally:
        handle.remove()
    assert passes == []  # the folder's first image was not computed before its last was refused
    assert small.exists() and not any((tmp_path / "out").iterdir())
