"""ZoeDepth's input arithmetic: the reflect padding it adds and the model-input size that results.

``ZoeDepthImageProcessor`` (transformers) prepares an image of ``height x width`` pixels in three steps:

1. reflect-pad the *source* image by ``int(sqrt(height / 2) * 3)`` rows above and below and
   ``int(sqrt(width / 2) * 3)`` columns left and right (ZoeDepth's fix for boundary artefacts);
2. resize the padded image, keeping its aspect ratio, towards 384 x 512: the scale factor closest
   to 1 wins, and each side is rounded to a multiple of 32;
3. rescale and normalise the pixel values.

``post_process_depth_estimation(outputs, source_sizes=[(height, width)])`` undoes step 1 and 2: it
resizes the prediction to ``(height + 2 * pad_h, width + 2 * pad_w)`` and crops the padding away.
These functions reproduce that arithmetic (``remove_zoedepth_padding`` applies the removal to a raw map), so a
notebook can print it and a test can hold the library to it.
"""

from __future__ import annotations

import math

import numpy as np

PAD_FACTOR = 3  # ZoeDepth's padding factor (fh = fw = 3 in the original implementation)
INPUT_SIZE = (384, 512)  # (height, width) the processor resizes towards
MULTIPLE = 32  # each side of the model input is a multiple of this


def _check_size(height: int, width: int) -> None:
    for name, value in (("height", height), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(
                f"{name} must be a positive whole number of pixels, got {value!r}. "
                f"Pass the source image's size, e.g. (image.height, image.width) for a PIL image."
            )


def zoedepth_padding(height: int, width: int) -> tuple[int, int]:
    """Rows (top and bottom, each) and columns (left and right, each) ZoeDepth reflect-pads a height x width image by."""
    _check_size(height, width)
    return int(math.sqrt(height / 2) * PAD_FACTOR), int(math.sqrt(width / 2) * PAD_FACTOR)


def zoedepth_padded_size(height: int, width: int) -> tuple[int, int]:
    """Size (height, width) of the source image after ZoeDepth's reflect padding."""
    pad_h, pad_w = zoedepth_padding(height, width)
    return height + 2 * pad_h, width + 2 * pad_w


def _round_to_multiple(value: float, multiple: int) -> int:
    """Nearest multiple, rounding halves to even as the processor (``np.round``) does."""
    return int(np.round(value / multiple) * multiple)


def zoedepth_input_size(
    height: int, width: int, target: tuple[int, int] = INPUT_SIZE, multiple: int = MULTIPLE
) -> tuple[int, int]:
    """Size (height, width) of ``pixel_values`` for a height x width source: pad, then keep-aspect resize to a multiple."""
    padded_h, padded_w = zoedepth_padded_size(height, width)
    scale_h, scale_w = target[0] / padded_h, target[1] / padded_w
    # keep the aspect ratio and scale as little as possible: the factor closer to 1 is used for both sides
    scale = scale_w if abs(1 - scale_w) < abs(1 - scale_h) else scale_h
    return _round_to_multiple(scale * padded_h, multiple), _round_to_multiple(scale * padded_w, multiple)


def remove_zoedepth_padding(raw, height: int, width: int):
    """Undo ZoeDepth's padding on a raw (H_in, W_in) or (N, H_in, W_in) map: bicubic resize to the padded size, crop."""
    import torch
    import torch.nn.functional as F

    if not isinstance(raw, torch.Tensor) or raw.ndim not in (2, 3) or not raw.is_floating_point():
        raise ValueError(
            "raw must be a floating-point torch tensor of shape (H_in, W_in) or (batch, H_in, W_in), such as "
            f"outputs.predicted_depth; got {type(raw).__name__} {tuple(getattr(raw, 'shape', ()))}."
        )
    pad_h, pad_w = zoedepth_padding(height, width)
    batch = raw if raw.ndim == 3 else raw[None]
    stretched = F.interpolate(batch[:, None], size=(height + 2 * pad_h, width + 2 * pad_w), mode="bicubic",
                              align_corners=False)
    cropped = stretched[:, 0, pad_h:pad_h + height, pad_w:pad_w + width]
    return cropped if raw.ndim == 3 else cropped[0]
