"""Fine-tuning: the RGB-D folder (helpers.finetune) and the lesson's own losses, loop and save (notebook 10's cells).

The losses, the training loop and the safe save are written in notebook 10; ``lesson_function`` takes them out of
the notebook, so these tests check the code a learner reads, against independent computations.
"""

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from helpers.align import fit_scale_shift
from helpers.depthio import save_depth_npy, save_depth_png16
from helpers.finetune import RGBDFolder, find_pairs, joint_augment
from tests.lesson_code import lesson_function

SMALL = "depth-anything/Depth-Anything-V2-Small-hf"


@pytest.fixture(scope="module")
def silog_loss():
    return lesson_function("10", "silog_loss")


@pytest.fixture(scope="module")
def ssi_loss():
    return lesson_function("10", "ssi_loss")


def _numpy_silog(pred, gt, lambd):
    g = np.log(gt.astype(np.float64)) - np.log(pred.astype(np.float64))
    return math.sqrt(np.mean(g**2) - lambd * np.mean(g) ** 2)


# ---- the lesson's losses ---------------------------------------------------------------------------------------

def test_silog_is_zero_for_a_perfect_prediction_and_matches_numpy(silog_loss):
    gt = torch.tensor([[1.0, 2.0], [4.0, 8.0]])
    valid = torch.ones_like(gt, dtype=torch.bool)
    assert float(silog_loss(gt.clone(), gt, valid)) == 0.0
    pred = torch.tensor([[1.5, 1.0], [5.0, 6.0]])
    for lambd in (0.0, 0.5, 0.85, 1.0):
        assert float(silog_loss(pred, gt, valid, lambd)) == pytest.approx(_numpy_silog(pred.numpy(), gt.numpy(), lambd), rel=1e-6)
    g = np.log([2 / 3, 2, 4 / 5, 4 / 3])  # by hand: g = ln(gt / pred)
    assert float(silog_loss(pred, gt, valid)) == pytest.approx(math.sqrt(np.mean(g**2) - 0.5 * np.mean(g) ** 2), rel=1e-6)


def test_silog_of_a_scaled_truth_is_sqrt_one_minus_lambda_times_log_scale(silog_loss):
    gt = torch.rand(3, 8, 8, dtype=torch.float64) * 5 + 0.5
    valid = torch.ones_like(gt, dtype=torch.bool)
    for k in (0.5, 2.0, 3.0):
        assert float(silog_loss(k * gt, gt, valid, 0.5)) == pytest.approx(math.sqrt(0.5) * abs(math.log(k)), rel=1e-9)


def test_silog_ignores_masked_pixels_whatever_they_hold(silog_loss):
    gt = torch.tensor([[2.0, float("nan")], [3.0, 0.0]])
    pred = torch.tensor([[2.0, 0.0], [3.0, -1.0]])
    valid = torch.tensor([[True, False], [True, False]])
    assert float(silog_loss(pred, gt, valid)) == 0.0


def test_ssi_loss_is_zero_for_any_scale_and_shift_of_the_truth(ssi_loss):
    torch.manual_seed(0)
    disparity = 1.0 / (torch.rand(2, 16, 16, dtype=torch.float64) * 4 + 1)
    valid = torch.ones_like(disparity, dtype=torch.bool)
    for a, b in ((1.0, 0.0), (30.0, -4.0), (0.01, 7.0), (-2.0, 1.0)):
        assert float(ssi_loss(a * disparity + b, disparity, valid)) == pytest.approx(0.0, abs=1e-20)


def test_ssi_loss_is_notebook_05s_alignment_then_mse_per_image(ssi_loss):
    rng = np.random.default_rng(1)
    pred = rng.random((2, 12, 10))
    target = 1.0 / (rng.random((2, 12, 10)) * 3 + 1)
    valid = rng.random((2, 12, 10)) > 0.3
    per_image = []
    for p, y, m in zip(pred, target, valid):
        s, t = fit_scale_shift(p, y, mask=m)  # helpers.align, independent of torch
        per_image.append(np.mean((s * p[m] + t - y[m]) ** 2))
    got = ssi_loss(torch.from_numpy(pred), torch.from_numpy(target), torch.from_numpy(valid))
    assert float(got) == pytest.approx(np.mean(per_image), rel=1e-9)
    assert float(ssi_loss(*(torch.from_numpy(a[0]) for a in (pred, target, valid)))) == pytest.approx(per_image[0], rel=1e-9)


@pytest.mark.parametrize("name", ["silog_loss", "ssi_loss"])
def test_masked_pixels_get_exactly_zero_gradient(name):
    loss = lesson_function("10", name)
    torch.manual_seed(0)
    target = torch.rand(2, 6, 6) * 3 + 1
    valid = torch.rand(2, 6, 6) > 0.4
    target[~valid] = float("nan")  # unknown depth, as in the files
    pred = torch.rand(2, 6, 6) * 3 + 1
    pred[0, 0, 0] = 0.0  # log(0) would be -inf, if this pixel were ever touched
    valid[0, 0, 0] = False
    pred.requires_grad_(True)
    loss(pred, target, valid).backward()
    assert torch.isfinite(pred.grad).all()
    assert float(pred.grad[~valid].abs().max()) == 0.0
    assert float(pred.grad[valid].abs().max()) > 0.0


# ---- data ------------------------------------------------------------------------------------------------------

def _write_pair(folder, name, image, depth, fmt="png16"):
    (folder / "images").mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(folder / "images" / f"{name}.png")
    if fmt == "png16":
        return save_depth_png16(folder / "depth" / f"{name}.png", depth, overwrite=True)
    return save_depth_npy(folder / "depth" / f"{name}.npy", depth, overwrite=True)


def _folder(tmp_path, n=2, size=(20, 30), fmt="png16"):
    rng = np.random.default_rng(0)
    for i in range(n):
        image = rng.integers(0, 255, (*size, 3), dtype=np.uint8)
        depth = rng.random(size).astype(np.float32) * 4 + 1
        depth[0, 0] = np.nan
        depth[0, 1] = 30.0  # beyond max_depth
        _write_pair(tmp_path, f"pair{i}", image, depth, fmt)
    return tmp_path


def test_joint_augment_keeps_image_and_depth_pixel_aligned_and_divides_depth_by_the_zoom():
    h, w = 40, 60
    code = torch.arange(h * w, dtype=torch.float32).reshape(h, w)
    image = (code / (h * w)).expand(3, h, w).clone()
    depth = code + 1.0
    flips, zooms = set(), set()
    for seed in range(12):
        torch.manual_seed(seed)
        img, dep = joint_augment(image, depth, size=32, scale_range=(1.0, 1.6), jitter=0.0, image_mode="nearest")
        assert img.shape == (3, 32, 32) and dep.shape == (32, 32)
        source = torch.round(img[0] * h * w) + 1.0  # which source pixel each output pixel shows
        zoom = source / dep  # the depth there was divided by the zoom: one factor for the whole crop
        torch.testing.assert_close(zoom, torch.full_like(zoom, float(zoom[0, 0])), rtol=1e-5, atol=0)
        side = round(min(h, w) / float(zoom[0, 0]))  # the crop's side in source pixels
        assert float(zoom[0, 0]) == pytest.approx(min(h, w) / side, rel=1e-5) and 1.0 <= float(zoom[0, 0]) <= 1.6 + 1e-6
        zooms.add(side)
        flips.add(bool(dep[0, 0] * zoom[0, 0] > dep[0, -1] * zoom[0, -1]))  # a flipped crop runs right to left
    assert flips == {True, False} and len(zooms) > 3


def test_joint_augment_by_default_does_not_zoom_and_keeps_the_depth():
    torch.manual_seed(0)
    depth = torch.rand(20, 30) + 1
    for _ in range(5):
        _, dep = joint_augment(torch.rand(3, 20, 30), depth, size=20, jitter=0.0, flip_p=0.0)
        assert any(torch.equal(dep, depth[:, x:x + 20]) for x in range(11))  # a 20 x 20 crop, values untouched


def test_joint_augment_colour_jitter_changes_the_image_only():
    torch.manual_seed(3)
    image = torch.rand(3, 20, 20)
    depth = torch.rand(20, 20) + 1
    img, dep = joint_augment(image, depth, size=20, scale_range=(1.0, 1.0), flip_p=0.0, jitter=0.5)
    torch.testing.assert_close(dep, depth, rtol=0, atol=0)
    assert not torch.equal(img, image)


@pytest.mark.parametrize("fmt", ["png16", "npy"])
def test_folder_dataset_reads_both_formats_and_masks_invalid_pixels(tmp_path, fmt):
    dataset = RGBDFolder(_folder(tmp_path, fmt=fmt), size=14, augment=False, max_depth=20)
    assert len(dataset) == 2 and dataset.names == ["pair0", "pair1"]
    image, depth = dataset.pair(0)
    assert image.size == (30, 20) and depth.shape == (20, 30)
    assert np.isnan(depth[0, 0]) and depth[0, 1] == pytest.approx(30.0)
    valid = dataset.valid(depth)
    assert not valid[0, 0] and not valid[0, 1] and valid[1:].all()
    sample = dataset[0]
    assert sample["pixel_values"].shape == (3, 14, 14) and sample["depth"].shape == (14, 14)
    assert not bool(sample["valid"].all()) and float(sample["depth"][~sample["valid"]].abs().sum()) == 0.0
    suffix = ".png" if fmt == "png16" else ".npy"
    assert (sample["image_file"], sample["depth_file"]) == (str(tmp_path / "images" / "pair0.png"),
                                                            str(tmp_path / "depth" / f"pair0{suffix}"))


def test_empty_or_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No folder at .*nowhere.*images/NAME"):
        find_pairs(tmp_path / "nowhere")
    (tmp_path / "images").mkdir()
    with pytest.raises(FileNotFoundError, match=r"No images \(.png, .jpg, .jpeg, .bmp, .tif, .tiff, .webp\) in .*images\. "
                                                r"Expected the layout DATA_DIR/images/NAME"):
        find_pairs(tmp_path)
    (tmp_path / "images" / "._hidden.jpg").write_bytes(b"macOS metadata")  # hidden files are not photos
    with pytest.raises(FileNotFoundError, match=r"No images"):
        find_pairs(tmp_path)


def test_a_file_that_is_not_a_photo_is_named(tmp_path):
    _folder(tmp_path, n=1)
    (tmp_path / "images" / "notes.jpg").write_text("not a photo")
    save_depth_npy(tmp_path / "depth" / "notes.npy", np.ones((20, 30), np.float32))
    with pytest.raises(ValueError, match=r"notes\.jpg is not an image file that Pillow can read"):
        RGBDFolder(tmp_path)
    (tmp_path / "images" / "notes.jpg").unlink()
    with pytest.raises(ValueError, match=r"pair0\.png is 30×20 pixels .* above the limit .* Pass max_pixels=None"):
        RGBDFolder(tmp_path, max_pixels=500)  # helpers.images' pixel limit, lifted with None as everywhere
    assert RGBDFolder(tmp_path, max_pixels=None).pair(0)[0].size == (30, 20)


def _exif_rotated(tmp_path, orientation=6):
    """A phone photo: stored 30 wide × 20 high, with an EXIF orientation that shows it 20 wide × 30 high."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored = np.random.default_rng(1).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    (tmp_path / "images").mkdir(parents=True)
    Image.fromarray(stored).save(tmp_path / "images" / "phone.jpg", exif=exif.tobytes(), quality=95)
    with Image.open(tmp_path / "images" / "phone.jpg") as raw:
        return np.rot90(np.asarray(raw.convert("RGB")), -1)  # orientation 6: shown turned 90° clockwise


def test_a_phone_photo_with_an_exif_rotation_is_upright_and_its_displayed_size_depth_just_works(tmp_path):
    shown = _exif_rotated(tmp_path)
    depth = np.arange(30 * 20, dtype=np.float32).reshape(30, 20) / 100 + 1  # saved at the displayed size (H, W) = (30, 20)
    save_depth_npy(tmp_path / "depth" / "phone.npy", depth)
    dataset = RGBDFolder(tmp_path, size=14, augment=False)
    image, read = dataset.pair(0)
    assert np.asarray(image).tolist() == shown.tolist()  # upright, as a viewer shows it
    np.testing.assert_array_equal(read, depth)
    assert dataset[0]["pixel_values"].shape == (3, 14, 14)


def test_a_depth_map_at_the_stored_size_of_a_rotated_photo_is_refused_saying_how_to_turn_it(tmp_path):
    _exif_rotated(tmp_path)
    save_depth_npy(tmp_path / "depth" / "phone.npy", np.ones((20, 30), np.float32))  # the unrotated sensor's size
    with pytest.raises(ValueError, match=r"phone\.npy has shape \(20, 30\): the size of .*phone\.jpg as stored, but "
                                         r"its EXIF orientation turns that photo to \(H, W\) = \(30, 20\).*np\.rot90"):
        RGBDFolder(tmp_path)
    save_depth_npy(tmp_path / "depth" / "phone.npy", np.ones((10, 10), np.float32), overwrite=True)
    with pytest.raises(ValueError, match=r"phone\.npy has shape \(10, 10\) but .*phone\.jpg is \(H, W\) = \(30, 20\) "
                                         r"as shown.*nearest"):
        RGBDFolder(tmp_path)


def test_images_without_depth(tmp_path):
    _folder(tmp_path)
    Image.new("RGB", (30, 20)).save(tmp_path / "images" / "lonely.jpg")
    with pytest.raises(FileNotFoundError, match=r"1 image\(s\) in .* have no depth file: lonely.jpg\. Add depth/NAME.png"):
        find_pairs(tmp_path)


def test_mismatched_sizes_name_both_files(tmp_path):
    _folder(tmp_path, n=1)
    save_depth_npy(tmp_path / "depth" / "odd.npy", np.ones((10, 10), np.float32))
    Image.new("RGB", (30, 20)).save(tmp_path / "images" / "odd.png")
    with pytest.raises(ValueError, match=r"odd\.npy has shape \(10, 10\) but .*odd\.png is \(H, W\) = \(20, 30\) as shown.*nearest"):
        find_pairs(tmp_path)


def test_two_depth_files_for_one_image(tmp_path):
    _folder(tmp_path, n=1)
    save_depth_npy(tmp_path / "depth" / "pair0.npy", np.ones((20, 30), np.float32))
    with pytest.raises(ValueError, match="pair0 has two depth files"):
        find_pairs(tmp_path)


# ---- damaged files are named when the folder is opened (or, for what only decoding shows, when read) ----------

def test_a_truncated_png_photo_is_named_when_the_folder_is_opened(tmp_path):
    _folder(tmp_path, n=2)
    photo = tmp_path / "images" / "pair1.png"
    photo.write_bytes(photo.read_bytes()[:-200])  # the header survives, the pixels do not
    with pytest.raises(ValueError, match=r"pair1\.png .*(truncated|damaged)"):
        RGBDFolder(tmp_path)


def test_a_truncated_jpeg_photo_is_named_when_it_is_decoded(tmp_path):
    _folder(tmp_path, n=1)
    rng = np.random.default_rng(3)
    Image.fromarray(rng.integers(0, 255, (20, 30, 3), dtype=np.uint8)).save(tmp_path / "images" / "cut.jpg", quality=95)
    save_depth_npy(tmp_path / "depth" / "cut.npy", np.ones((20, 30), np.float32))
    data = (tmp_path / "images" / "cut.jpg").read_bytes()
    (tmp_path / "images" / "cut.jpg").write_bytes(data[: len(data) // 2])  # a JPEG's header says nothing of its end
    dataset = RGBDFolder(tmp_path, size=14)
    with pytest.raises(ValueError, match=r"cut\.jpg .*truncated"):
        dataset[dataset.names.index("cut")]


def test_a_truncated_16_bit_depth_png_is_named_when_the_folder_is_opened(tmp_path):
    _folder(tmp_path, n=2)
    depth = tmp_path / "depth" / "pair1.png"
    depth.write_bytes(depth.read_bytes()[:-300])  # header and depth_scale chunk survive, the pixels do not
    with pytest.raises(ValueError, match=r"pair1\.png is truncated or damaged"):
        RGBDFolder(tmp_path)


def test_an_npy_of_pickled_objects_is_refused_naming_it(tmp_path):
    _folder(tmp_path, n=1, fmt="npy")
    objects = np.empty((20, 30), dtype=object)
    objects[:] = 1.5  # each a Python float: stored pickled
    np.save(tmp_path / "depth" / "pair0.npy", objects, allow_pickle=True)
    with pytest.raises(ValueError, match=r"pair0\.npy holds Python objects .*pickled.*helpers\.save_depth_npy"):
        RGBDFolder(tmp_path)


def test_a_truncated_npy_is_named_when_the_folder_is_opened(tmp_path):
    _folder(tmp_path, n=1, fmt="npy")
    path = tmp_path / "depth" / "pair0.npy"
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(ValueError, match=r"pair0\.npy is truncated: its header announces \(20, 30\) values of float32"):
        RGBDFolder(tmp_path)


def test_an_integer_npy_is_refused_until_its_unit_is_stated(tmp_path):
    _folder(tmp_path, n=1, fmt="npy")
    millimetres = np.full((20, 30), 2500, np.uint16)
    millimetres[0, 0] = 0  # unknown
    np.save(tmp_path / "depth" / "pair0.npy", millimetres)
    with pytest.raises(ValueError, match=r"pair0\.npy holds integers \(uint16\) and does not state their unit.*"
                                         r"depth_scale=.*1000 for millimetres"):
        RGBDFolder(tmp_path)
    depth = RGBDFolder(tmp_path, depth_scale=1000).pair(0)[1]
    assert np.isnan(depth[0, 0]) and float(np.nanmin(depth)) == float(np.nanmax(depth)) == 2.5


def test_a_depth_png_without_a_scale_is_refused_until_its_unit_is_stated(tmp_path):
    _folder(tmp_path, n=1, fmt="npy")
    (tmp_path / "depth" / "pair0.npy").unlink()
    Image.fromarray(np.full((20, 30), 2000, np.uint16)).save(tmp_path / "depth" / "pair0.png")  # no depth_scale chunk
    with pytest.raises(ValueError, match=r"pair0\.png does not state its depth scale.*not guessed.*depth_scale=.*save_depth_png16"):
        RGBDFolder(tmp_path)
    assert float(np.nanmax(RGBDFolder(tmp_path, depth_scale=1000).pair(0)[1])) == pytest.approx(2.0)


def test_an_8_bit_png_is_not_taken_for_depth(tmp_path):
    _folder(tmp_path, n=1)
    Image.fromarray(np.full((20, 30), 200, np.uint8)).save(tmp_path / "depth" / "pair0.png")
    with pytest.raises(ValueError, match=r"pair0\.png is a PNG of mode L, not a single-channel 16-bit depth PNG"):
        RGBDFolder(tmp_path)


def test_a_pair_without_one_valid_pixel_is_said(tmp_path):
    _folder(tmp_path, n=2, fmt="npy")
    save_depth_npy(tmp_path / "depth" / "pair1.npy", np.full((20, 30), 2500.0, np.float32), overwrite=True)  # mm as metres
    with pytest.raises(ValueError, match=r"1 depth file\(s\) have no valid pixel .*at most max_depth = 20 m\): "
                                         r".*pair1\.npy\. Check their unit"):
        RGBDFolder(tmp_path)


@pytest.mark.parametrize("shape", [(20, 30, 1), (1, 20, 30)])
def test_an_array_with_an_extra_axis_gets_the_squeeze_advice_not_the_size_advice(tmp_path, shape):
    _folder(tmp_path, n=1, fmt="npy")
    np.save(tmp_path / "depth" / "pair0.npy", np.ones(shape, np.float32))
    with pytest.raises(ValueError, match=r"pair0\.npy holds an array of shape \(\d+, \d+, \d+\): a depth map with an "
                                         r"extra axis of length 1.*squeeze") as caught:
        RGBDFolder(tmp_path)
    assert "nearest" not in str(caught.value)


# ---- the lesson's loop and save ----------------------------------------------------------------------------------

class _Constant(torch.nn.Module):
    """A model whose depth is exp(w) everywhere: one weight, enough for a loop."""

    def __init__(self, value=0.0):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor(value))

    def forward(self, pixel_values):
        from types import SimpleNamespace

        return SimpleNamespace(predicted_depth=torch.exp(self.w).expand(pixel_values.shape[0], *pixel_values.shape[2:]))


def _train(silog_loss, validation_loss=lambda model: 0.0):
    return lesson_function("10", "train", forever=lesson_function("10", "forever"), silog_loss=silog_loss,
                           device="cpu", EVAL_EVERY=5, validation_loss=validation_loss)


def _batch(depth, files=("a", "b")):
    return {"pixel_values": torch.zeros(2, 3, 4, 4), "depth": depth, "valid": depth > 0,
            "image_file": [f"images/{f}.png" for f in files], "depth_file": [f"depth/{f}.png" for f in files]}


def test_the_lessons_loop_learns_a_constant_depth(silog_loss):
    model = _Constant()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    history = _train(lambda p, t, v: ((torch.log(t[v]) - torch.log(p[v])) ** 2).mean())(
        model, [_batch(torch.full((2, 4, 4), math.e ** 2))], optimizer, scheduler, 40)
    assert history["step"] == list(range(1, 41)) and history["val_step"] == [5, 10, 15, 20, 25, 30, 35, 40]
    assert model.w.item() == pytest.approx(2.0, abs=1e-3)  # exp(w) = e² metres, the truth
    assert history["loss"][-1] < 1e-5 < history["loss"][0]


def test_the_lessons_loop_stops_on_a_nan_loss_naming_the_step_and_the_batchs_files(silog_loss):
    model = _Constant()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    good = _batch(torch.full((2, 4, 4), 2.0), ("ok1", "ok2"))
    bad = _batch(torch.full((2, 4, 4), 2.0), ("room7", "room8"))
    bad["valid"] = torch.zeros(2, 4, 4, dtype=torch.bool)  # no valid pixel: the mean of nothing is NaN
    before = model.w.item()
    with pytest.raises(FloatingPointError, match=r"step 3: the loss is nan on the batch of "
                                                 r"\[\('images/room7\.png', 'depth/room7\.png'\), \('images/room8\.png'"):
        _train(silog_loss)(model, [good, good, bad], optimizer, scheduler, 10)
    assert math.isfinite(model.w.item()) and model.w.item() != before  # two good steps taken, the bad one never applied


def _tiny_model():
    from transformers import AutoConfig, AutoImageProcessor, AutoModelForDepthEstimation

    from helpers.checkpoints import resolve_checkpoint

    path = resolve_checkpoint(SMALL)
    config = AutoConfig.from_pretrained(path, depth_estimation_type="metric", max_depth=20)
    torch.manual_seed(0)
    return AutoImageProcessor.from_pretrained(path), AutoModelForDepthEstimation.from_config(config).eval()


def test_the_lessons_save_reloads_identically_and_an_interrupted_save_keeps_the_previous_model(tmp_path):
    from transformers import AutoModelForDepthEstimation

    save_model = lesson_function("10", "save_model", Path=Path, shutil=__import__("shutil"))
    processor, model = _tiny_model()
    folder = save_model(model, processor, tmp_path / "model")
    assert folder == tmp_path / "model" and not (tmp_path / "model.partial").exists()
    x = torch.randn(1, 3, 28, 28)
    with torch.no_grad():
        first = model(pixel_values=x).predicted_depth
        assert torch.equal(AutoModelForDepthEstimation.from_pretrained(folder).eval()(pixel_values=x).predicted_depth, first)

    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)  # "trained further"

    class Interrupted(KeyboardInterrupt):
        pass

    def interrupted(*args, **kwargs):
        raise Interrupted

    processor.save_pretrained = interrupted  # Ctrl+C while the processor is written, after the new weights
    with pytest.raises(Interrupted):
        save_model(model, processor, tmp_path / "model")
    with torch.no_grad():  # the previous model is still there, whole
        assert torch.equal(AutoModelForDepthEstimation.from_pretrained(folder).eval()(pixel_values=x).predicted_depth, first)
    assert (folder / "preprocessor_config.json").is_file()
