"""Classical stereo matching with OpenCV, so the notebooks can compare it with ground truth and with networks."""

from __future__ import annotations

import numpy as np
from PIL import Image


def sgbm_disparity(
    left: Image.Image,
    right: Image.Image,
    num_disparities: int = 80,
    block_size: int = 5,
    min_disparity: int = 0,
) -> np.ndarray:
    """Left-view disparity in pixels from OpenCV's semi-global block matching (NaN where it found no match)."""
    import cv2

    if left.size != right.size:
        raise ValueError(f"left and right images must have the same size, got {left.size} and {right.size}.")
    if num_disparities <= 0 or num_disparities % 16:
        raise ValueError(f"num_disparities must be a positive multiple of 16, got {num_disparities}.")
    if block_size < 1 or block_size % 2 == 0:
        raise ValueError(f"block_size must be odd and >= 1, got {block_size}.")
    gray_left = np.asarray(left.convert("L"))
    gray_right = np.asarray(right.convert("L"))
    matcher = cv2.StereoSGBM_create(
        minDisparity=min_disparity,
        numDisparities=num_disparities,
        blockSize=block_size,
        P1=8 * block_size**2,  # the usual smoothness penalties for one channel
        P2=32 * block_size**2,
        disp12MaxDiff=1,
        uniquenessRatio=10,
        speckleWindowSize=100,
        speckleRange=2,
        mode=cv2.STEREO_SGBM_MODE_SGBM_3WAY,
    )
    fixed_point = matcher.compute(gray_left, gray_right)  # int16, disparity * 16
    disparity = fixed_point.astype(np.float32) / 16.0
    disparity[fixed_point < min_disparity * 16] = np.nan  # OpenCV marks "no match" below the search range
    return disparity
