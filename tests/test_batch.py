"""helpers.batch: batched results equal per-image results, folders, files, resuming, and no silent overwrites."""

import errno
import os
import re
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

import helpers.batch
import helpers.outputs
from helpers.batch import depth_batch, is_metric_model, list_images, output_paths, predict_depth, predict_folder
from helpers.checkpoints import resolve_checkpoint
from helpers.depthio import load_depth_png16, png_depth_scale

DA = "depth-anything/Depth-Anything-V2-Small-hf"
ZOE = "Intel/zoedepth-nyu-kitti"
SMALL_ZOE = {"size": {"height": 96, "width": 128}}  # keeps the tiny ZoeDepth fast; same code path


def _load(hub_id):
    from transformers import AutoImageProcessor, AutoModelForDepthEstimation

    checkpoint = resolve_checkpoint(hub_id)
    return AutoModelForDepthEstimation.from_pretrained(checkpoint).eval(), AutoImageProcessor.from_pretrained(checkpoint)


@pytest.fixture(scope="module")
def da():
    return _load(DA)


@pytest.fixture(scope="module")
def zoe():
    return _load(ZOE)


def _images():
    """Three sizes, three aspect ratios: wide, square, tall (deterministic noise so outputs vary)."""
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for h, w in [(60, 90), (50, 50), (80, 40)]]


def _forward_batches(model, fn):
    """Run ``fn`` and return the batch size of every forward pass of ``model`` it made."""
    seen = []
    handle = model.register_forward_pre_hook(
        lambda module, args, kwargs: seen.append(kwargs["pixel_values"].shape[0]), with_kwargs=True)
    try:
        fn()
    finally:
        handle.remove()
    return seen


def test_batched_depth_anything_equals_the_per_image_pipeline(da):
    from transformers import pipeline

    model, processor = da
    pipe = pipeline("depth-estimation", model=model, image_processor=processor, device="cpu")
    images = _images() + _images()[:1]  # two wide images can share a batch
    batches = _forward_batches(model, lambda: predict_depth(model, processor, images, batch_size=2, progress=False))
    got = predict_depth(model, processor, images, batch_size=2, progress=False)
    assert sorted(batches) == [1, 1, 2]  # the two wide images together, square and tall alone
    for image, depth in zip(images, got):
        expected = pipe(image)["predicted_depth"].numpy()
        assert depth.shape == (image.height, image.width) and depth.dtype == np.float32
        np.testing.assert_allclose(depth, expected, rtol=1e-4, atol=1e-6 * np.abs(expected).max())


def test_batched_zoedepth_uses_source_sizes_and_equals_the_guide_code(zoe):
    model, processor = zoe
    images = _images()[:2] + _images()[:1]
    got = predict_depth(model, processor, images, batch_size=3, processor_kwargs=SMALL_ZOE, progress=False)
    tta = predict_depth(model, processor, images[:1], flip_tta=True, processor_kwargs=SMALL_ZOE, progress=False)
    for image, depth in zip(images, got):  # the guide's manual code, one image at a time
        pixel_values = processor(image, return_tensors="pt", **SMALL_ZOE).pixel_values
        with torch.no_grad():
            outputs = model(pixel_values)
        expected = processor.post_process_depth_estimation(outputs, source_sizes=[(image.height, image.width)])
        assert depth.shape == (image.height, image.width)
        np.testing.assert_allclose(depth, expected[0]["predicted_depth"].numpy(), rtol=1e-4)
    pixel_values = processor(images[0], return_tensors="pt", **SMALL_ZOE).pixel_values
    with torch.no_grad():  # the guide's flip example, with `pixel_values` where the guide has an undefined `inputs`
        outputs, flipped = model(pixel_values), model(pixel_values=torch.flip(pixel_values, dims=[3]))
    expected = processor.post_process_depth_estimation(outputs, source_sizes=[images[0].size[::-1]], outputs_flipped=flipped)
    np.testing.assert_allclose(tta[0], expected[0]["predicted_depth"].numpy(), rtol=1e-4)


def test_fixed_size_batches_mixed_sizes_together_and_returns_source_sizes(da):
    model, processor = da
    images = _images()
    batches = _forward_batches(
        model, lambda: predict_depth(model, processor, images, batch_size=8, fixed_size=(70, 70), progress=False))
    assert batches == [3]
    got = predict_depth(model, processor, images, batch_size=8, fixed_size=(70, 70), progress=False)
    assert [d.shape for d in got] == [(60, 90), (50, 50), (80, 40)]


def test_half_precision_runs_and_returns_float32(da):
    from transformers import AutoModelForDepthEstimation

    model = AutoModelForDepthEstimation.from_pretrained(resolve_checkpoint(DA)).eval()
    got = predict_depth(model, da[1], _images()[:1], dtype=torch.bfloat16, progress=False)
    assert next(model.parameters()).dtype == torch.bfloat16 and got[0].dtype == np.float32
    assert got[0].shape == (60, 90)


def test_bad_arguments_are_clear_errors(da):
    model, processor = da
    with pytest.raises(ValueError, match="batch_size"):
        predict_depth(model, processor, _images(), batch_size=0)
    with pytest.raises(ValueError, match="fixed_size"):
        predict_depth(model, processor, _images(), fixed_size=(518,))
    with pytest.raises(ValueError, match="ZoeDepth option"):
        predict_depth(model, processor, _images()[:1], flip_tta=True, progress=False)


def test_metric_models_are_recognised():
    def fake(**config):
        return SimpleNamespace(config=SimpleNamespace(**config))

    assert is_metric_model(fake(model_type="zoedepth"))
    assert is_metric_model(fake(model_type="depth_anything", depth_estimation_type="metric"))
    assert not is_metric_model(fake(model_type="depth_anything", depth_estimation_type="relative"))
    assert not is_metric_model(fake(model_type="dpt"))


def _folder(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    for name, image in zip(["b.png", "a.JPG", "c.webp"], _images()):
        image.save(folder / name)
    (folder / "README.txt").write_text("not an image")
    (folder / ".hidden.png").write_bytes(b"")
    (folder / "sub").mkdir()
    _images()[0].save(folder / "sub" / "d.png")
    return folder


def test_list_images_skips_other_files_hidden_files_and_subfolders(tmp_path):
    assert [p.name for p in list_images(_folder(tmp_path))] == ["a.JPG", "b.png", "c.webp"]


def test_empty_or_missing_folders_and_broken_images_are_clear_errors(tmp_path, da):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x")
    with pytest.raises(FileNotFoundError, match="No images"):
        list_images(tmp_path / "empty")
    with pytest.raises(NotADirectoryError):
        list_images(tmp_path / "nowhere")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "x.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="not an image file"):
        predict_folder(*da, tmp_path / "broken", progress=False)


def test_relative_model_writes_npy_only_and_a_second_run_skips_everything(tmp_path, da):
    model, processor = da
    folder, out = _folder(tmp_path), tmp_path / "out"
    first = predict_folder(model, processor, folder, out_dir=out, progress=False)
    assert list(first.depths) == ["a.JPG", "b.png", "c.webp"]
    assert first.computed == ["a.JPG", "b.png", "c.webp"] and first.skipped == []
    assert sorted(p.name for p in out.iterdir()) == ["a.npy", "b.npy", "c.npy"]  # no temporary files left
    np.testing.assert_array_equal(np.load(out / "b.npy"), first.depths["b.png"])
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.iterdir()}
    second = []
    assert _forward_batches(model, lambda: second.append(predict_folder(model, processor, folder, out_dir=out,
                                                                        progress=False))) == []  # nothing recomputed
    assert second[0].computed == [] and second[0].skipped == ["a.JPG", "b.png", "c.webp"]
    assert str(second[0]) == "3 images: 0 computed, 3 skipped (their files were already there)"
    for name, depth in first.depths.items():  # read back from the files, identical
        np.testing.assert_array_equal(second[0].depths[name], depth)
    assert {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.iterdir()} == before
    (out / "b.npy").write_bytes(b"edited by hand")  # overwrite=True recomputes and replaces every file
    assert sorted(_forward_batches(model, lambda: predict_folder(model, processor, folder, out_dir=out, overwrite=True,
                                                                 progress=False))) == [1, 1, 1]
    np.testing.assert_array_equal(np.load(out / "b.npy"), first.depths["b.png"])
    with pytest.raises(ValueError, match="must differ"):
        predict_folder(model, processor, folder, out_dir=folder, progress=False)


class Interrupted(Exception):
    pass


def _same_size_folder(tmp_path, count):
    """``count`` different images of one size (they share batches), named im0.png, im1.png, ..."""
    folder = tmp_path / "same"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for i in range(count):
        Image.fromarray(rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)).save(folder / f"im{i}.png")
    return folder


def test_an_interrupted_run_resumes_without_recomputing_or_touching_finished_files(tmp_path, da):
    model, processor = da
    folder, out = _same_size_folder(tmp_path, 5), tmp_path / "out"
    reference = predict_depth(model, processor, list_images(folder), batch_size=2, progress=False)
    passes = []

    def stop_at_the_second_batch(module, args, kwargs):
        passes.append(kwargs["pixel_values"].shape[0])
        if len(passes) == 2:
            raise Interrupted("stopped, as a Ctrl+C or a crash would")

    handle = model.register_forward_pre_hook(stop_at_the_second_batch, with_kwargs=True)
    try:
        with pytest.raises(Interrupted):
            predict_folder(model, processor, folder, out_dir=out, batch_size=2, progress=False)
    finally:
        handle.remove()
    assert sorted(p.name for p in out.iterdir()) == ["im0.npy", "im1.npy"]  # the first batch only, complete
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.iterdir()}
    results = []
    batches = _forward_batches(model, lambda: results.append(
        predict_folder(model, processor, folder, out_dir=out, batch_size=2, progress=False)))
    assert sum(batches) == 3  # model calls for the three missing images only
    assert results[0].skipped == ["im0.png", "im1.png"] and results[0].computed == ["im2.png", "im3.png", "im4.png"]
    assert {name: before[name] for name in before} == {
        p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.iterdir() if p.name in before}
    assert sorted(p.name for p in out.iterdir()) == [f"im{i}.npy" for i in range(5)]
    for i, expected in enumerate(reference):
        np.testing.assert_array_equal(np.load(out / f"im{i}.npy"), expected)
        np.testing.assert_array_equal(results[0].depths[f"im{i}.png"], expected)


def test_a_write_interrupted_halfway_never_looks_complete(tmp_path, da, monkeypatch):
    model, processor = da
    folder, out = _same_size_folder(tmp_path, 3), tmp_path / "out"
    real_save = helpers.batch.save_depth_npy
    written = []

    def save_then_die_on_the_third(path, depth, overwrite=False):
        if len(written) == 2:
            path.write_bytes(b"\x93NUMPY half a file")  # the process dies in the middle of writing
            raise Interrupted("killed while writing")
        written.append(path)
        return real_save(path, depth, overwrite=overwrite)

    monkeypatch.setattr(helpers.batch, "save_depth_npy", save_then_die_on_the_third)
    with pytest.raises(Interrupted):
        predict_folder(model, processor, folder, out_dir=out, batch_size=3, progress=False)
    assert sorted(p.name for p in out.iterdir()) == ["im0.npy", "im1.npy"]  # no im2.npy, no half-written file
    monkeypatch.setattr(helpers.batch, "save_depth_npy", real_save)
    result = predict_folder(model, processor, folder, out_dir=out, batch_size=3, progress=False)
    assert result.computed == ["im2.png"] and result.skipped == ["im0.png", "im1.png"]
    np.testing.assert_array_equal(np.load(out / "im2.npy"), result.depths["im2.png"])


def test_on_depth_sees_every_map_once_as_its_batch_finishes(da):
    model, processor = da
    images = _images() + _images()[:1]
    seen = []
    got = predict_depth(model, processor, images, batch_size=2, progress=False,
                        on_depth=lambda index, depth: seen.append((index, depth)))
    assert [index for index, _ in seen] == [0, 3, 1, 2]  # the two wide images fill a batch first
    for index, depth in seen:
        assert depth is got[index]
    assert not hasattr(helpers.batch, "iter_depth")  # one public form: predict_depth


def test_depth_batch_equals_predict_depth_for_datasets_and_ray_style_batches(tmp_path, da):
    import datasets

    model, processor = da
    images = _images() + _images()[:1]
    expected = predict_depth(model, processor, images, batch_size=2, progress=False)
    as_pil = depth_batch({"image": images}, model, processor, batch_size=2)
    as_arrays = depth_batch({"pixels": np.array([np.asarray(i) for i in images], dtype=object)}, model, processor,
                            image_column="pixels", batch_size=2)  # Ray Data's ragged image column
    assert list(as_pil) == ["depth"]
    for got in (as_pil["depth"], as_arrays["depth"]):
        assert len(got) == len(expected)
        for a, b in zip(got, expected):
            np.testing.assert_array_equal(a, b)
    table = datasets.Dataset.from_dict({"image": images}, features=datasets.Features({"image": datasets.Image()}))
    mapped = table.map(depth_batch, batched=True, batch_size=4, fn_kwargs={"model": model, "processor": processor,
                                                                          "batch_size": 2}, keep_in_memory=True)
    for a, b in zip(mapped.with_format("numpy")["depth"], expected):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(KeyError, match="no column 'image'"):
        depth_batch({"img": images}, model, processor)


def test_metric_model_also_writes_a_16_bit_png_in_millimetres_that_states_its_scale(tmp_path, zoe):
    model, processor = zoe
    folder, out = _folder(tmp_path), tmp_path / "out"
    depths = predict_folder(model, processor, folder, out_dir=out, processor_kwargs=SMALL_ZOE, progress=False).depths
    assert sorted(p.name for p in out.iterdir()) == ["a.npy", "a.png", "b.npy", "b.png", "c.npy", "c.png"]
    raw = np.asarray(Image.open(out / "a.png"))
    assert raw.dtype == np.uint16 and raw.shape == (50, 50)  # a.JPG is the square image
    np.testing.assert_array_equal(raw, np.round(depths["a.JPG"].astype(np.float64) * 1000).astype(np.uint16))
    assert png_depth_scale(out / "a.png") == 1000.0  # the project default, stated in the file
    np.testing.assert_allclose(load_depth_png16(out / "a.png"), depths["a.JPG"], atol=0.5 / 1000 + 1e-6)


def test_name_clashes_are_refused(tmp_path, da):
    folder = tmp_path / "clash"
    folder.mkdir()
    _images()[0].save(folder / "x.png")
    _images()[1].save(folder / "x.jpg")
    with pytest.raises(ValueError, match="share a name stem"):
        predict_folder(*da, folder, out_dir=tmp_path / "out", progress=False)


def test_output_paths():
    assert [p.name for p in output_paths(["a"], "o", metric=True)] == ["a.npy", "a.png"]
    assert [p.name for p in output_paths(["a", "b"], "o", metric=False)] == ["a.npy", "b.npy"]


def test_a_metric_image_with_only_one_of_its_files_gets_the_missing_one(tmp_path, zoe):
    model, processor = zoe
    folder, out = _folder(tmp_path), tmp_path / "out"
    first = predict_folder(model, processor, folder, out_dir=out, processor_kwargs=SMALL_ZOE, progress=False)
    (out / "b.png").unlink()  # as if interrupted between b's two files
    npy_before = (out / "b.npy").stat().st_mtime_ns, (out / "b.npy").read_bytes()
    again = predict_folder(model, processor, folder, out_dir=out, processor_kwargs=SMALL_ZOE, progress=False)
    assert again.computed == ["b.png"] and again.skipped == ["a.JPG", "c.webp"]
    assert ((out / "b.npy").stat().st_mtime_ns, (out / "b.npy").read_bytes()) == npy_before  # kept, not rewritten
    raw = np.asarray(Image.open(out / "b.png"))
    np.testing.assert_array_equal(raw, np.round(first.depths["b.png"].astype(np.float64) * 1000).astype(np.uint16))


# ---- every failure names its file; what can be known up front is checked before any model work ----------------

def _refused_before_model_work(model, fn, error, match):
    """``fn()`` raises ``error`` matching ``match`` before ``model`` made a single forward pass."""
    passes = []
    handle = model.register_forward_pre_hook(lambda *args: passes.append(1))
    try:
        with pytest.raises(error, match=match):
            fn()
    finally:
        handle.remove()
    assert passes == [], "the error came after model work"


def test_outputs_that_cannot_be_read_back_are_announced_recomputed_and_replaced(tmp_path, da, capsys):
    model, processor = da
    folder, out = _folder(tmp_path), tmp_path / "out"
    first = predict_folder(model, processor, folder, out_dir=out, progress=False)
    a_before = (out / "a.npy").stat().st_mtime_ns
    (out / "b.npy").write_bytes(b"")  # an interrupted copy: the file is there, empty
    whole = (out / "c.npy").read_bytes()
    (out / "c.npy").write_bytes(whole[: len(whole) // 2])  # ... or cut short
    capsys.readouterr()
    again = predict_folder(model, processor, folder, out_dir=out, progress=False)
    assert again.computed == ["b.png", "c.webp"] and again.skipped == ["a.JPG"]
    notices = capsys.readouterr().out.splitlines()
    assert notices == [
        f"[helpers] {out / 'b.npy'} cannot be read back (it is empty), so it is not taken as finished: b.png is computed "
        "again and the file replaced.",
        f"[helpers] {out / 'c.npy'} cannot be read back (ValueError: {notices[1].split('(ValueError: ')[1].split('), so')[0]}), "
        "so it is not taken as finished: c.webp is computed again and the file replaced."]
    for name, stem in (("b.png", "b"), ("c.webp", "c")):
        np.testing.assert_array_equal(np.load(out / f"{stem}.npy"), first.depths[name])
        np.testing.assert_array_equal(again.depths[name], first.depths[name])
    assert (out / "a.npy").stat().st_mtime_ns == a_before  # a readable file is never rewritten
    np.save(out / "a.npy", np.arange(3))  # a file of that name that is not a depth map
    third = predict_folder(model, processor, folder, out_dir=out, progress=False)
    assert third.computed == ["a.JPG"] and "it holds a int64 array of shape (3,), not a depth map" in capsys.readouterr().out


def test_a_metric_image_whose_png_cannot_be_read_gets_it_again_and_keeps_its_npy(tmp_path, zoe, capsys):
    model, processor = zoe
    folder, out = _folder(tmp_path), tmp_path / "out"
    first = predict_folder(model, processor, folder, out_dir=out, processor_kwargs=SMALL_ZOE, progress=False)
    whole = (out / "b.png").read_bytes()
    (out / "b.png").write_bytes(whole[: len(whole) // 2])
    npy_before = (out / "b.npy").stat().st_mtime_ns
    again = predict_folder(model, processor, folder, out_dir=out, processor_kwargs=SMALL_ZOE, progress=False)
    assert again.computed == ["b.png"] and f"{out / 'b.png'} cannot be read back" in capsys.readouterr().out
    assert (out / "b.npy").stat().st_mtime_ns == npy_before
    np.testing.assert_allclose(load_depth_png16(out / "b.png"), first.depths["b.png"], atol=0.5 / 1000 + 1e-6)


def test_an_out_dir_that_is_a_file_is_refused_before_any_model_work(tmp_path, da):
    model, processor = da
    folder, blocker = _folder(tmp_path), tmp_path / "depth"
    blocker.write_text("a file where the folder should be")

    def run(out_dir):
        return lambda: predict_folder(model, processor, folder, out_dir=out_dir, progress=False)

    _refused_before_model_work(model, run(blocker), NotADirectoryError,
                               rf"out_dir {re.escape(str(blocker))} is a file, not a folder\. Give a folder \(it is "
                               r"created if missing\), or move the file away\.")
    _refused_before_model_work(model, run(blocker / "more"), NotADirectoryError,
                               rf"out_dir {re.escape(str(blocker / 'more'))} cannot be created: "
                               rf"{re.escape(str(blocker))} is a file, not a folder")


def test_a_read_only_out_dir_is_refused_before_any_model_work(tmp_path, da, monkeypatch):
    model, processor = da
    folder, out = _folder(tmp_path), tmp_path / "out"
    out.mkdir()

    def refused(*args, **kwargs):  # what a read-only folder answers; chmod cannot show it to root (see below)
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(helpers.outputs.tempfile, "NamedTemporaryFile", refused)
    _refused_before_model_work(model, lambda: predict_folder(model, processor, folder, out_dir=out, progress=False),
                               PermissionError, rf"cannot write in out_dir {re.escape(str(out))} \(Permission denied\): "
                               r"you may not write there: choose a folder you can write to, or change its permissions")
    assert list(out.iterdir()) == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes into a chmod 500 folder anyway; the monkeypatched test above covers root")
def test_a_read_only_out_dir_really_chmodded(tmp_path, da):
    folder, out = _folder(tmp_path), tmp_path / "out"
    out.mkdir()
    out.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match=rf"cannot write in out_dir {re.escape(str(out))}"):
            predict_folder(*da, folder, out_dir=out, progress=False)
    finally:
        out.chmod(0o700)


def test_an_image_that_cannot_be_read_is_named_before_any_model_work(tmp_path, da):
    model, processor = da
    folder = _folder(tmp_path)
    (folder / "z last.png").write_bytes(b"not a png")  # sorted last: found before the other images' work
    for out_dir in (tmp_path / "out", None):
        _refused_before_model_work(
            model, lambda: predict_folder(model, processor, folder, out_dir=out_dir, batch_size=1, progress=False),
            ValueError, rf"{re.escape(str(folder / 'z last.png'))} is not an image file that Pillow can read")


def test_a_write_that_fails_says_which_file_and_what_to_do(tmp_path, da, monkeypatch):
    model, processor = da

    def disk_full(path, depth, overwrite=False):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(helpers.batch, "save_depth_npy", disk_full)
    out = tmp_path / "out"
    with pytest.raises(OSError, match=rf"could not write {re.escape(str(out / 'a.npy'))} \(No space left on device\): "
                                      r"the disk is full: free some space, or choose a folder on another disk\."):
        predict_folder(model, processor, _folder(tmp_path), out_dir=out, progress=False)
    assert list(out.iterdir()) == []  # no partial file left behind


def test_images_in_memory_are_named_by_their_place_in_the_list(da):
    model, processor = da
    good = np.zeros((20, 30, 3), np.uint8)
    with pytest.raises(ValueError, match=r"images\[1\] \(the 20×30×3 int64 array\) has dtype int64"):
        predict_depth(model, processor, [good, good.astype(np.int64)], progress=False)
    with pytest.raises(ValueError, match=r"bgr=True describes NumPy arrays.*chelsea is a file"):
        predict_depth(model, processor, ["chelsea"], bgr=True, progress=False)


@pytest.mark.parametrize("shape", [(1, 1), (1, 2), (4, 4), (1, 100), (3, 500), (60, 1)])
def test_degenerate_shapes_give_a_map_at_their_size_with_zoedepth_too(zoe, shape):
    model, processor = zoe
    pixels = np.random.default_rng(0).integers(0, 256, (*shape, 3), dtype=np.uint8)
    [depth] = predict_depth(model, processor, [pixels], processor_kwargs=SMALL_ZOE, progress=False)
    assert depth.shape == shape and depth.dtype == np.float32 and np.isfinite(depth).all()


def test_processor_input_size_stretches_only_what_the_processor_cannot_take(da, zoe):
    from helpers.batch import processor_input_size

    da_processor, zoe_processor = da[1], zoe[1]
    assert processor_input_size(da_processor, 300, 451) == (300, 451)  # ordinary photos: untouched
    assert processor_input_size(da_processor, 100, 3700) == (100, 3700)  # 1 : 37 is still taken as it is
    assert processor_input_size(da_processor, 1, 1) == (8, 8)
    assert processor_input_size(da_processor, 2, 1000) == (28, 1000)  # ceil(1000 / (518 / 14))
    assert processor_input_size(zoe_processor, 2, 1000) == (63, 1000)  # ceil(1000 / (512 / 32))
    assert processor_input_size(da_processor, 2, 1000, {"size": {"height": 56, "width": 56}}) == (250, 1000)
    assert processor_input_size(da_processor, 2, 1000, {"size": {"height": 56, "width": 56},
                                                         "keep_aspect_ratio": False}) == (8, 1000)


def test_read_back_names_the_map_and_each_unreadable_file(tmp_path):
    from helpers.batch import ReadBack, Unreadable, read_back

    good = tmp_path / "good.npy"
    np.save(good, np.full((2, 3), 1.5, np.float32))
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    found = read_back([good])
    assert isinstance(found, ReadBack) and found.unreadable == []
    np.testing.assert_array_equal(found.depth, np.full((2, 3), 1.5, np.float32))
    assert read_back([good, empty]) == ReadBack(None, [Unreadable(empty, "it is empty")])
