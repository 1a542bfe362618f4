"""helpers.depthio: lossless depth files (16-bit PNG in millimetres, .npy)."""

import numpy as np
import pytest
from PIL import Image

from helpers.depthio import load_depth_png16, save_depth_npy, save_depth_png16

NAN = np.nan


# ---- lossless depth files --------------------------------------------------------------------

def test_png16_round_trip_in_millimetres(tmp_path):
    depth = np.array([[0.5, 1.2344], [65.535, NAN]], dtype=np.float32)
    path = save_depth_png16(tmp_path / "d.png", depth)
    assert np.asarray(Image.open(path)).tolist() == [[500, 1234], [65535, 0]]
    back = load_depth_png16(path)
    np.testing.assert_allclose(back[0], [0.5, 1.234], atol=1e-6)
    assert back[1, 0] == pytest.approx(65.535) and np.isnan(back[1, 1])


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
