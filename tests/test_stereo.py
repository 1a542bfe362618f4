"""helpers.stereo: OpenCV SGBM on the bundled Middlebury pair."""

import numpy as np
import pytest
from PIL import Image

from helpers.data import load_stereo_pair
from helpers.metrics import bad_pixel_rate, epe, match_density
from helpers.stereo import sgbm_disparity


# ---- SGBM on the real pair -------------------------------------------------------------------

def test_sgbm_on_motorcycle_is_close_to_ground_truth():
    pair = load_stereo_pair()
    disparity = sgbm_disparity(pair.left, pair.right)
    assert disparity.shape == (500, 741) and disparity.dtype == np.float32
    # a classical matcher on this pair: EPE about 1 px, few bad pixels, most GT pixels matched
    assert epe(disparity, pair.disparity) < 1.5  # measured: 1.04 px
    assert bad_pixel_rate(disparity, pair.disparity, 2.0) < 8.0  # measured: 5.96 %
    assert match_density(disparity, pair.disparity) > 80.0  # measured: 85.0 %


def test_sgbm_rejects_bad_parameters():
    image = Image.new("RGB", (32, 16))
    with pytest.raises(ValueError, match="multiple of 16"):
        sgbm_disparity(image, image, num_disparities=20)
    with pytest.raises(ValueError, match="odd"):
        sgbm_disparity(image, image, block_size=4)
    with pytest.raises(ValueError, match="same size"):
        sgbm_disparity(image, Image.new("RGB", (16, 16)))


def test_notebook_01s_own_sgbm_call_gives_the_helpers_disparity():
    """Notebook 01 writes the OpenCV call in its cell; 05 and 06 use helpers.sgbm_disparity: the same map."""
    from tests.lesson_code import lesson_function

    lesson_sgbm = lesson_function("01", "sgbm_disparity")
    pair = load_stereo_pair()
    for num_disparities, block_size in ((80, 5), (64, 3)):
        expected = sgbm_disparity(pair.left, pair.right, num_disparities=num_disparities, block_size=block_size)
        found = lesson_sgbm(pair.left, pair.right, num_disparities, block_size)
        assert found.dtype == np.float32 and 0.05 < np.isnan(found).mean() < 0.5
        np.testing.assert_array_equal(found, expected)  # NaN in the same places, every value identical
