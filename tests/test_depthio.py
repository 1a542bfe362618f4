"""helpers.depthio: lossless depth files (16-bit PNG in millimetres, .npy)."""

import warnings

import numpy as np
import pytest
from PIL import Image

from helpers.depthio import (
    DEPTH_PNG_SCALE, depth_file_shape, load_depth_png16, png_depth_scale, read_depth, save_depth_npy, save_depth_png16,
)

NAN = np.nan


# ---- lossless depth files --------------------------------------------------------------------

def test_png16_round_trip_in_millimetres(tmp_path):
    depth = np.array([[0.5, 1.2344], [65.535, NAN]], dtype=np.float32)
    path = save_depth_png16(tmp_path / "d.png", depth)
    assert np.asarray(Image.open(path)).tolist() == [[500, 1234], [65535, 0]]
    assert DEPTH_PNG_SCALE == 1000.0 and png_depth_scale(path) == 1000.0
    back = load_depth_png16(path)
    np.testing.assert_allclose(back[0], [0.5, 1.234], atol=1e-6)
    assert back[1, 0] == pytest.approx(65.535) and np.isnan(back[1, 1])


def test_png16_file_states_its_scale_and_the_loader_uses_it(tmp_path):
    depth = np.array([[2.5, 0.01], [100.0, 1 / 256]])
    path = save_depth_png16(tmp_path / "kitti.png", depth, scale=256)
    assert np.asarray(Image.open(path)).tolist() == [[640, 3], [25600, 1]]  # exact integers: round(m * 256)
    assert Image.open(path).text == {"depth_scale": "256.0"}
    assert png_depth_scale(path) == 256.0
    np.testing.assert_array_equal(load_depth_png16(path), np.float32([[2.5, 3 / 256], [100.0, 1 / 256]]))
    np.testing.assert_array_equal(load_depth_png16(path, scale=256), load_depth_png16(path))  # agreeing is fine


def test_png16_a_scale_that_contradicts_the_file_is_an_error(tmp_path):
    path = save_depth_png16(tmp_path / "mm.png", np.full((2, 2), 2.0))
    with pytest.raises(ValueError) as caught:
        load_depth_png16(path, scale=256)
    assert str(caught.value) == (
        f"{path} states its depth scale as 1000 units per metre (PNG text chunk 'depth_scale'), "
        "but scale=256 was passed; leave scale out to use the file's, or pass scale=1000."
    )


def test_png16_without_a_scale_chunk(tmp_path):
    path = tmp_path / "plain.png"
    Image.fromarray(np.array([[0, 640], [2500, 65535]], dtype=np.uint16)).save(path)  # e.g. a KITTI file
    assert png_depth_scale(path) is None
    with pytest.warns(UserWarning, match=r"does not state its depth scale.*assuming 1000.*KITTI depth PNGs use 256"):
        assumed = load_depth_png16(path)
    np.testing.assert_array_equal(assumed[~np.isnan(assumed)], np.float32([640, 2500, 65535]) / np.float32(1000))
    assert np.isnan(assumed[0, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a stated scale: no warning
        kitti = load_depth_png16(path, scale=256)
    assert kitti[0, 1] == 2.5 and kitti[1, 0] == pytest.approx(2500 / 256)


def test_png16_refuses_a_scale_that_is_not_a_positive_number(tmp_path):
    assert png_depth_scale(save_depth_png16(tmp_path / "np.png", np.ones((2, 2)), scale=np.float32(256))) == 256.0
    for bad in (0, -1.0, float("nan"), "1000", True):
        with pytest.raises(ValueError, match="scale must be a positive number"):
            save_depth_png16(tmp_path / "x.png", np.ones((2, 2)), scale=bad)
    assert not (tmp_path / "x.png").exists()


def test_png16_refuses_overflow_negatives_and_overwrites(tmp_path):
    with pytest.raises(ValueError, match="does not fit 16 bits"):
        save_depth_png16(tmp_path / "far.png", np.array([[70.0]]))
    with pytest.raises(ValueError, match=">= 0"):
        save_depth_png16(tmp_path / "neg.png", np.array([[-1.0]]))
    save_depth_png16(tmp_path / "d.png", np.ones((2, 2)))
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_depth_png16(tmp_path / "d.png", np.zeros((2, 2)))
    save_depth_png16(tmp_path / "d.png", np.full((2, 2), 2.0), overwrite=True)
    assert load_depth_png16(tmp_path / "d.png")[0, 0] == 2.0


def test_casting_floats_straight_to_uint16_loses_the_depth():
    depth = np.array([[0.4, 1.6, 2.5]])
    assert depth.astype(np.uint16).tolist() == [[0, 1, 2]]  # why the scale matters


def test_npy_round_trip_is_exact(tmp_path):
    depth = np.array([[0.123456, NAN]], dtype=np.float32)
    back = np.load(save_depth_npy(tmp_path / "d.npy", depth))
    assert back[0, 0] == np.float32(0.123456) and np.isnan(back[0, 1])
    with pytest.raises(FileExistsError):
        save_depth_npy(tmp_path / "d.npy", depth)


# ---- reading any depth file in metres: the unit is never guessed, a damaged file is named --------------------------

def test_read_depth_npy_is_metres_with_nan_for_zero_and_png16_uses_its_stated_scale(tmp_path):
    back = read_depth(save_depth_npy(tmp_path / "d.npy", np.array([[0.0, 2.5]], dtype=np.float32)))
    assert np.isnan(back[0, 0]) and back[0, 1] == 2.5
    kitti = read_depth(save_depth_png16(tmp_path / "k.png", np.array([[0.0, 2.5]]), scale=256))
    assert np.isnan(kitti[0, 0]) and kitti[0, 1] == 2.5
    assert depth_file_shape(tmp_path / "k.png") == (1, 2) == depth_file_shape(tmp_path / "d.npy")


def test_read_depth_integer_files_need_their_unit_stated(tmp_path):
    np.save(tmp_path / "mm.npy", np.array([[0, 1500]], dtype=np.uint16))
    Image.fromarray(np.array([[0, 1500]], dtype=np.uint16)).save(tmp_path / "mm.png")  # no depth_scale chunk
    for name in ("mm.npy", "mm.png"):
        with pytest.raises(ValueError, match=rf"{name} .*(integers|depth scale).*not guessed|{name} holds integers"):
            read_depth(tmp_path / name)
        depth = read_depth(tmp_path / name, depth_scale=1000)
        assert np.isnan(depth[0, 0]) and depth[0, 1] == 1.5


def test_png_depth_scale_reads_the_chunk_from_the_header_so_a_truncated_file_still_states_it(tmp_path):
    path = save_depth_png16(tmp_path / "d.png", np.random.default_rng(0).random((40, 40)) + 1)
    path.write_bytes(path.read_bytes()[:-200])
    assert png_depth_scale(path) == 1000.0  # a text chunk before the pixels: read without decoding them
    with pytest.raises(ValueError, match=r"d\.png is truncated or damaged"):
        load_depth_png16(path)
