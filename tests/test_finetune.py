"""helpers.finetune: losses against independent computations, masks, augmentation alignment, groups, training, saving."""

import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from helpers.align import fit_scale_shift
from helpers.depthio import save_depth_npy
from helpers.finetune import (
    MIN_DEPTH, RGBDFolder, evaluate_folder, find_pairs, joint_augment, metric_model, param_groups, read_depth,
    save_finetuned, save_rgbd_pair, silog_loss, ssi_loss, train_steps,
)
from helpers.standins import MARKER, is_stand_in

SMALL = "depth-anything/Depth-Anything-V2-Small-hf"


def _numpy_silog(pred, gt, lambd):
    g = np.log(gt.astype(np.float64)) - np.log(pred.astype(np.float64))
    return math.sqrt(np.mean(g**2) - lambd * np.mean(g) ** 2)


# ---- losses ----------------------------------------------------------------------------------------------------

def test_silog_is_zero_for_a_perfect_prediction_and_matches_numpy():
    gt = torch.tensor([[1.0, 2.0], [4.0, 8.0]])
    valid = torch.ones_like(gt, dtype=torch.bool)
    assert float(silog_loss(gt.clone(), gt, valid)) == 0.0
    pred = torch.tensor([[1.5, 1.0], [5.0, 6.0]])
    for lambd in (0.0, 0.5, 0.85, 1.0):
        assert float(silog_loss(pred, gt, valid, lambd)) == pytest.approx(_numpy_silog(pred.numpy(), gt.numpy(), lambd), rel=1e-6)
    # by hand: g = ln(gt/pred) = [ln(2/3), ln 2, ln(4/5), ln(4/3)]
    g = np.log([2 / 3, 2, 4 / 5, 4 / 3])
    assert float(silog_loss(pred, gt, valid)) == pytest.approx(math.sqrt(np.mean(g**2) - 0.5 * np.mean(g) ** 2), rel=1e-6)


def test_silog_of_a_scaled_truth_is_sqrt_one_minus_lambda_times_log_scale():
    gt = torch.rand(3, 8, 8) * 5 + 0.5
    valid = torch.ones_like(gt, dtype=torch.bool)
    for k in (0.5, 2.0, 3.0):
        assert float(silog_loss(k * gt, gt, valid, 0.5)) == pytest.approx(math.sqrt(0.5) * abs(math.log(k)), rel=1e-4)
        assert float(silog_loss(k * gt, gt, valid, 1.0)) == pytest.approx(0.0, abs=2e-3)  # λ = 1: scale-invariant


def test_silog_ignores_masked_pixels_whatever_they_hold():
    gt = torch.tensor([[2.0, float("nan")], [3.0, 0.0]])
    pred = torch.tensor([[2.0, 0.0], [3.0, -1.0]])
    valid = torch.tensor([[True, False], [True, False]])
    assert float(silog_loss(pred, gt, valid)) == 0.0
    with pytest.raises(ValueError, match="no valid pixel"):
        silog_loss(pred, gt, torch.zeros_like(valid))


def test_ssi_loss_is_zero_for_any_scale_and_shift_of_the_truth():
    torch.manual_seed(0)
    disparity = 1.0 / (torch.rand(2, 16, 16, dtype=torch.float64) * 4 + 1)
    valid = torch.ones_like(disparity, dtype=torch.bool)
    for a, b in ((1.0, 0.0), (30.0, -4.0), (0.01, 7.0), (-2.0, 1.0)):
        assert float(ssi_loss(a * disparity + b, disparity, valid)) == pytest.approx(0.0, abs=1e-20)


def test_ssi_loss_equals_the_alignment_of_notebook_05_then_mse():
    rng = np.random.default_rng(1)
    pred = rng.random((12, 10))
    target = 1.0 / (rng.random((12, 10)) * 3 + 1)
    valid = rng.random((12, 10)) > 0.3
    s, t = fit_scale_shift(pred, target, mask=valid)  # helpers.align, independent of torch
    expected = np.mean((s * pred[valid] + t - target[valid]) ** 2)
    got = ssi_loss(torch.from_numpy(pred), torch.from_numpy(target), torch.from_numpy(valid))
    assert float(got) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("loss", [silog_loss, ssi_loss])
def test_masked_pixels_get_exactly_zero_gradient(loss):
    torch.manual_seed(0)
    target = torch.rand(2, 6, 6) * 3 + 1
    valid = torch.rand(2, 6, 6) > 0.4
    target[~valid] = float("nan")  # unknown depth, as in the files
    pred = (torch.rand(2, 6, 6) * 3 + 1)
    pred[0, 0, 0] = 0.0  # log(0) would be -inf, if this pixel were ever touched
    valid[0, 0, 0] = False
    pred.requires_grad_(True)
    loss(pred, target, valid).backward()
    assert torch.isfinite(pred.grad).all()
    assert float(pred.grad[~valid].abs().max()) == 0.0
    assert float(pred.grad[valid].abs().max()) > 0.0


# ---- data ------------------------------------------------------------------------------------------------------

def test_joint_augment_keeps_image_and_depth_pixel_aligned():
    h, w = 40, 60
    code = torch.arange(h * w, dtype=torch.float32).reshape(h, w)
    image = (code / (h * w)).expand(3, h, w).clone()
    depth = code + 1.0
    flips = set()
    for seed in range(12):
        torch.manual_seed(seed)
        img, dep = joint_augment(image, depth, size=32, scale_range=(1.0, 1.6), jitter=0.0, image_mode="nearest")
        assert img.shape == (3, 32, 32) and dep.shape == (32, 32)
        torch.testing.assert_close(torch.round(img[0] * h * w) + 1.0, dep, rtol=0, atol=0)
        flips.add(bool(dep[0, 0] > dep[0, -1]))  # a flipped crop runs right to left
    assert flips == {True, False}


def test_joint_augment_colour_jitter_changes_the_image_only():
    torch.manual_seed(3)
    image = torch.rand(3, 20, 20)
    depth = torch.rand(20, 20) + 1
    img, dep = joint_augment(image, depth, size=20, scale_range=(1.0, 1.0), flip_p=0.0, jitter=0.5)
    torch.testing.assert_close(dep, depth, rtol=0, atol=0)
    assert not torch.equal(img, image)


def _folder(tmp_path, n=2, size=(20, 30), fmt="png16"):
    rng = np.random.default_rng(0)
    for i in range(n):
        image = rng.integers(0, 255, (*size, 3), dtype=np.uint8)
        depth = rng.random(size).astype(np.float32) * 4 + 1
        depth[0, 0] = np.nan
        depth[0, 1] = 30.0  # beyond max_depth
        save_rgbd_pair(tmp_path, f"pair{i}", image, depth, fmt)
    return tmp_path


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


def test_read_depth_npy_is_metres_with_nan_for_zero(tmp_path):
    path = save_depth_npy(tmp_path / "d.npy", np.array([[0.0, 2.5]], dtype=np.float32))
    back = read_depth(path)
    assert np.isnan(back[0, 0]) and back[0, 1] == 2.5


# ---- bad input: clear errors naming the file and what to do ----------------------------------------------------

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


def test_save_rgbd_pair_takes_images_through_the_contract(tmp_path):
    rgb = np.random.default_rng(2).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    depth = np.full((20, 30), 2.0, np.float32)
    save_rgbd_pair(tmp_path, "bgr", np.ascontiguousarray(rgb[:, :, ::-1]), depth, "npy", bgr=True)  # OpenCV's order
    save_rgbd_pair(tmp_path, "unit", rgb / 255.0, depth, "npy")  # floats in [0, 1], not truncated to 0
    alpha = np.dstack([rgb, np.zeros((20, 30), np.uint8)])  # fully transparent: white, as the contract says
    save_rgbd_pair(tmp_path, "clear", Image.fromarray(alpha), depth, "npy")
    dataset = RGBDFolder(tmp_path, augment=False)
    images = {name: np.asarray(dataset.pair(i)[0]) for i, name in enumerate(dataset.names)}
    assert images["bgr"].tolist() == images["unit"].tolist() == rgb.tolist()
    assert (images["clear"] == 255).all()
    with pytest.raises(ValueError, match=r"bad: the image has dtype int64"):
        save_rgbd_pair(tmp_path, "bad", rgb.astype(np.int64), depth, "npy")


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


def test_depth_png_without_a_scale_is_refused_unless_given(tmp_path):
    _folder(tmp_path, n=1, fmt="npy")
    (tmp_path / "depth" / "pair0.npy").unlink()
    Image.fromarray(np.full((20, 30), 2000, np.uint16)).save(tmp_path / "depth" / "pair0.png")  # no depth_scale chunk
    with pytest.raises(ValueError, match=r"pair0\.png does not state its depth scale.*png_scale=.*save_depth_png16"):
        RGBDFolder(tmp_path)
    dataset = RGBDFolder(tmp_path, png_scale=1000)
    assert float(np.nanmax(dataset.pair(0)[1])) == pytest.approx(2.0)


def test_two_depth_files_for_one_image(tmp_path):
    _folder(tmp_path, n=1)
    save_depth_npy(tmp_path / "depth" / "pair0.npy", np.ones((20, 30), np.float32))
    with pytest.raises(ValueError, match="pair0 has two depth files"):
        find_pairs(tmp_path)


# ---- model, optimiser, training, saving ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny():
    return metric_model(SMALL, max_depth=20, full=False)


def test_metric_model_keeps_the_encoder_and_starts_a_metric_head(tiny):
    processor, model = tiny
    assert model.config.depth_estimation_type == "metric" and model.config.max_depth == 20
    assert is_stand_in(model)
    from transformers import AutoModelForDepthEstimation

    source = AutoModelForDepthEstimation.from_pretrained(str(model.config._name_or_path))
    for (name, a), (_, b) in zip(model.backbone.state_dict().items(), source.backbone.state_dict().items()):
        assert torch.equal(a, b), name
    assert not torch.equal(model.head.conv3.weight, source.head.conv3.weight)  # a fresh head


def test_param_groups_learning_rates():
    _, model = metric_model(SMALL, full=False)
    groups = param_groups(model, 1e-4, encoder_lr_factor=0.1)
    assert [g["name"] for g in groups] == ["encoder", "decoder (neck + head)"]
    assert [g["lr"] for g in groups] == pytest.approx([1e-5, 1e-4])
    assert sum(p.numel() for g in groups for p in g["params"]) == sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(groups)
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([1e-5, 1e-4])
    frozen = param_groups(model, 1e-4, encoder_lr_factor=None)
    assert [g["name"] for g in frozen] == ["decoder (neck + head)"]
    assert not any(p.requires_grad for p in model.backbone.parameters())


def test_a_few_steps_on_the_tiny_stand_in_lower_the_training_loss(tiny):
    processor, model = tiny
    torch.manual_seed(0)
    batch = {"pixel_values": torch.randn(2, 3, 56, 56), "depth": torch.rand(2, 56, 56) * 2 + 2,
             "valid": torch.rand(2, 56, 56) > 0.2}
    optimizer = torch.optim.AdamW(param_groups(model, 3e-3, encoder_lr_factor=None))
    history = train_steps(model, [batch], optimizer, steps=15)
    assert history.step == list(range(1, 16))
    assert history.train_loss[-1] < 0.8 * history.train_loss[0]


def test_save_reload_gives_identical_outputs_and_keeps_the_stand_in_mark(tiny, tmp_path):
    processor, model = tiny
    model.eval()
    folder = save_finetuned(model, processor, tmp_path / "fine", input_size=56)
    assert json.loads((folder / MARKER).read_text())["stand_in_for"] == SMALL
    from transformers import AutoImageProcessor, AutoModelForDepthEstimation, pipeline

    reloaded = AutoModelForDepthEstimation.from_pretrained(folder).eval()
    assert reloaded.config.depth_estimation_type == "metric" and is_stand_in(reloaded)
    assert AutoImageProcessor.from_pretrained(folder).size == {"height": 56, "width": 56}
    x = torch.randn(1, 3, 56, 56)
    with torch.no_grad():
        assert float((model(pixel_values=x).predicted_depth - reloaded(pixel_values=x).predicted_depth).abs().max()) == 0.0
    out = pipeline("depth-estimation", model=str(folder))(Image.new("RGB", (40, 30), (120, 80, 40)))
    assert tuple(out["predicted_depth"].shape) == (30, 40)


def test_evaluate_scores_the_same_valid_pixels(tiny, tmp_path):
    processor, model = tiny
    dataset = RGBDFolder(_folder(tmp_path), size=28, augment=False)
    first, second = evaluate_folder(model, processor, dataset, 28), evaluate_folder(model, processor, dataset, 28)
    assert first.pixels == 2 * (20 * 30 - 2)  # every pixel but the NaN one and the one beyond max_depth
    np.testing.assert_array_equal(first.gt, second.gt)
    assert (first.pred >= MIN_DEPTH).all() and set(first.metrics()) >= {"abs_rel", "rmse", "delta1"}


def test_a_metric_checkpoint_is_loaded_whole():
    processor, model = metric_model("depth-anything/Depth-Anything-V2-Metric-Indoor-Small-hf", full=False)
    from transformers import AutoModelForDepthEstimation

    source = AutoModelForDepthEstimation.from_pretrained(str(model.config._name_or_path))
    assert model.config.depth_estimation_type == "metric" and model.config.max_depth == 20
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), source.state_dict().values()))
