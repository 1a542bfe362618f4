"""Notebook 03's ZoeDepth arithmetic (its own cells, taken out with ``lesson_function``) against the library.

The lesson writes the padding, the model-input size and the padding removal itself; ``ZoeDepthImageProcessor``
(with the real checkpoint's settings) is the source of truth they must agree with on every size.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers.registry import ZOEDEPTH_PROCESSOR
from tests.lesson_code import lesson_function

zoedepth_padding = lesson_function("03", "zoedepth_padding")
zoedepth_input_size = lesson_function("03", "zoedepth_input_size", zoedepth_padding=zoedepth_padding)
remove_zoedepth_padding = lesson_function("03", "remove_zoedepth_padding", F=F, zoedepth_padding=zoedepth_padding)

# (height, width): the bundled photos (chelsea 300x451, coffee 400x600, rocket 427x640, Motorcycle 500x741),
# VGA, full HD, portrait, square, small, and sizes whose half is a perfect square (sqrt is exact there)
SIZES = [(300, 451), (400, 600), (427, 640), (500, 741), (480, 640), (1080, 1920), (640, 480), (512, 512),
         (37, 53), (8, 18), (200, 98), (384, 512)]


def _processor(**overrides):
    from transformers import ZoeDepthImageProcessor

    settings = {k: v for k, v in ZOEDEPTH_PROCESSOR.items() if k != "image_processor_type"}
    return ZoeDepthImageProcessor(**{**settings, **overrides})


def _image(height, width, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)


@pytest.mark.parametrize(
    "size, expected",
    [
        ((300, 451), (36, 45)),  # 3*sqrt(150) = 36.74, 3*sqrt(225.5) = 45.05
        ((480, 640), (46, 53)),  # 3*sqrt(240) = 46.48, 3*sqrt(320) = 53.67
        ((1080, 1920), (69, 92)),  # 3*sqrt(540) = 69.71, 3*sqrt(960) = 92.95
        ((8, 18), (6, 9)),  # 3*sqrt(4) = 6 and 3*sqrt(9) = 9 exactly: no flooring below an exact integer
        ((1, 1), (2, 2)),  # 3*sqrt(0.5) = 2.12
    ],
)
def test_padding_hand_computed(size, expected):
    assert zoedepth_padding(*size) == expected


@pytest.mark.parametrize(
    "size, model_input",
    [
        ((300, 451), (384, 544)),  # padded 372 x 541, fit height: 541 * 384/372 = 558.5 -> 544
        ((480, 640), (384, 512)),  # padded 572 x 746, fit width: 572 * 512/746 = 392.6 -> 384
        ((1080, 1920), (384, 672)),  # padded 1218 x 2104, fit height: 2104 * 384/1218 = 663.3 -> 672
        ((500, 741), (384, 544)),  # padded 594 x 855, fit height: 855 * 384/594 = 552.7 -> 544
    ],
)
def test_input_size_hand_computed(size, model_input):
    assert zoedepth_input_size(*size) == model_input


@pytest.mark.parametrize("size", SIZES)
def test_padding_matches_the_library(size):
    height, width = size
    pad_h, pad_w = zoedepth_padding(height, width)
    padded = _processor(do_resize=False, do_normalize=False, do_rescale=False)(
        _image(height, width), return_tensors="pt"
    ).pixel_values
    assert tuple(padded.shape[-2:]) == (height + 2 * pad_h, width + 2 * pad_w)
    # the source sits in the middle, untouched; the border is its reflection (row pad_h - 1 mirrors row pad_h + 1)
    source = torch.from_numpy(_image(height, width)).permute(2, 0, 1)
    torch.testing.assert_close(padded[0, :, pad_h:pad_h + height, pad_w:pad_w + width], source)
    torch.testing.assert_close(padded[0, :, pad_h - 1], padded[0, :, pad_h + 1])


@pytest.mark.parametrize("size", SIZES)
def test_input_size_matches_the_library(size):
    pixel_values = _processor()(_image(*size), return_tensors="pt").pixel_values
    assert tuple(pixel_values.shape[-2:]) == zoedepth_input_size(*size)


@pytest.mark.parametrize("size", [(300, 451), (480, 640), (37, 53), (1080, 1920)])
def test_padding_removal_matches_the_library_batch_and_all(size):
    from transformers.models.zoedepth.modeling_zoedepth import ZoeDepthDepthEstimatorOutput

    height, width = size
    raw = torch.rand(2, *zoedepth_input_size(height, width), generator=torch.Generator().manual_seed(1))
    library = _processor().post_process_depth_estimation(
        ZoeDepthDepthEstimatorOutput(predicted_depth=raw), source_sizes=[(height, width)] * 2
    )
    by_hand = remove_zoedepth_padding(raw, height, width)
    assert by_hand.shape == (2, height, width)
    for item, result in zip(by_hand, library):
        torch.testing.assert_close(item, result["predicted_depth"], rtol=0, atol=0)
    # a crop one row off would not match: the comparison can fail
    pad_h, pad_w = zoedepth_padding(height, width)
    stretched = F.interpolate(raw[:, None], size=(height + 2 * pad_h, width + 2 * pad_w), mode="bicubic",
                              align_corners=False)
    assert not torch.equal(stretched[0, 0, pad_h - 1:pad_h - 1 + height, pad_w:pad_w + width], by_hand[0])
