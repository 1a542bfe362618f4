import numpy as np
import pytest
import torch

from helpers.registry import ZOEDEPTH_PROCESSOR
from helpers.zoedepth import remove_zoedepth_padding, zoedepth_input_size, zoedepth_padded_size, zoedepth_padding

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
    "size, padded, model_input",
    [
        ((300, 451), (372, 541), (384, 544)),  # fit height: 541 * 384/372 = 558.5 -> 544
        ((480, 640), (572, 746), (384, 512)),  # fit width: 572 * 512/746 = 392.6 -> 384
        ((1080, 1920), (1218, 2104), (384, 672)),  # fit height: 2104 * 384/1218 = 663.3 -> 672
        ((500, 741), (594, 855), (384, 544)),  # fit height: 855 * 384/594 = 552.7 -> 544
    ],
)
def test_padded_and_input_sizes_hand_computed(size, padded, model_input):
    assert zoedepth_padded_size(*size) == padded
    assert zoedepth_input_size(*size) == model_input


@pytest.mark.parametrize("size", SIZES)
def test_padding_matches_the_library(size):
    height, width = size
    pad_h, pad_w = zoedepth_padding(height, width)
    padded = _processor(do_resize=False, do_normalize=False, do_rescale=False)(
        _image(height, width), return_tensors="pt"
    ).pixel_values
    assert tuple(padded.shape[-2:]) == zoedepth_padded_size(height, width)
    # the source sits in the middle, untouched; the border is its reflection (row pad_h - 1 mirrors row pad_h + 1)
    source = torch.from_numpy(_image(height, width)).permute(2, 0, 1)
    torch.testing.assert_close(padded[0, :, pad_h:pad_h + height, pad_w:pad_w + width], source)
    torch.testing.assert_close(padded[0, :, pad_h - 1], padded[0, :, pad_h + 1])


@pytest.mark.parametrize("size", SIZES)
def test_input_size_matches_the_library(size):
    pixel_values = _processor()(_image(*size), return_tensors="pt").pixel_values
    assert tuple(pixel_values.shape[-2:]) == zoedepth_input_size(*size)


@pytest.mark.parametrize("size", [(300, 451), (480, 640), (37, 53)])
def test_post_processing_removes_exactly_this_padding(size):
    """The library's padding removal equals: resize to the padded size, then crop pad_h/pad_w (recomputed here)."""
    from transformers.models.zoedepth.modeling_zoedepth import ZoeDepthDepthEstimatorOutput

    height, width = size
    in_h, in_w = zoedepth_input_size(height, width)
    raw = torch.rand(1, in_h, in_w, generator=torch.Generator().manual_seed(1))
    result = _processor().post_process_depth_estimation(
        ZoeDepthDepthEstimatorOutput(predicted_depth=raw), source_sizes=[(height, width)]
    )[0]["predicted_depth"]
    pad_h, pad_w = zoedepth_padding(height, width)
    resized = torch.nn.functional.interpolate(
        raw[:, None], size=(height + 2 * pad_h, width + 2 * pad_w), mode="bicubic", align_corners=False
    )
    by_hand = resized[0, 0, pad_h:pad_h + height, pad_w:pad_w + width]
    assert result.shape == (height, width)
    torch.testing.assert_close(result, by_hand, rtol=0, atol=0)
    torch.testing.assert_close(remove_zoedepth_padding(raw, height, width), by_hand[None], rtol=0, atol=0)
    torch.testing.assert_close(remove_zoedepth_padding(raw[0], height, width), by_hand, rtol=0, atol=0)
    # and a different padding would not match: the test can fail
    wrong = resized[0, 0, pad_h - 1:pad_h - 1 + height, pad_w:pad_w + width]
    assert not torch.equal(result, wrong)


@pytest.mark.parametrize("bad", [0, -3, 2.5, "300", None, True])
def test_bad_sizes_are_clear_errors(bad):
    with pytest.raises(ValueError, match="positive whole number"):
        zoedepth_padding(bad, 10)
    with pytest.raises(ValueError, match="width must be"):
        zoedepth_input_size(10, bad)


def test_numpy_integers_are_accepted():
    assert zoedepth_padding(np.int64(300), np.int32(451)) == (36, 45)


def test_remove_padding_keeps_the_batch_and_each_item_matches_the_library():
    from transformers.models.zoedepth.modeling_zoedepth import ZoeDepthDepthEstimatorOutput

    raw = torch.rand(2, 384, 544, generator=torch.Generator().manual_seed(2))
    out = remove_zoedepth_padding(raw, 300, 451)
    assert out.shape == (2, 300, 451)
    library = _processor().post_process_depth_estimation(
        ZoeDepthDepthEstimatorOutput(predicted_depth=raw), source_sizes=[(300, 451), (300, 451)]
    )
    for item, result in zip(out, library):
        torch.testing.assert_close(item, result["predicted_depth"], rtol=0, atol=0)


def test_remove_padding_of_a_constant_map_is_that_constant():
    out = remove_zoedepth_padding(torch.full((384, 544), 2.5), 300, 451)
    torch.testing.assert_close(out, torch.full((300, 451), 2.5))


@pytest.mark.parametrize("bad", [np.zeros((384, 544)), torch.zeros(1, 1, 384, 544), torch.zeros(384, 544, dtype=torch.long)])
def test_remove_padding_rejects_other_inputs_clearly(bad):
    with pytest.raises(ValueError, match="floating-point torch tensor"):
        remove_zoedepth_padding(bad, 300, 451)
