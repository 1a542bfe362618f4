"""Helpers for the depth-estimation tutorials: data, checkpoints, depth maths and pictures.

Import what a notebook needs, e.g. ``from helpers import load_image, resolve_checkpoint``.
"""

from .checkpoints import CHECKPOINTS, checkpoint_info, hub_is_reachable, is_stand_in, resolve_checkpoint, stand_in_label
from .data import BEE_URL, DATA, StereoCalibration, StereoPair, load_image, load_stereo_pair
from .depthmath import (
    depth_to_disparity,
    disparity_to_depth,
    normalize_minmax,
    normalize_percentile,
    stereo_disparity_to_depth,
    to_uint8,
    valid_mask,
)
from .deploy import (
    check_onnx,
    cpu_features,
    describe_cpu,
    export_onnx,
    max_relative_difference,
    onnx_session,
    openvino_model,
    predict_onnx,
    quantize_int8,
)
from .env import notebook_setup, pick_device, seed_everything
from .paths import DATA_DIR, NOTEBOOKS_DIR, PROJECT_ROOT
from .viz import colorize, nearness, show_depth, show_grid

__all__ = [
    "BEE_URL", "CHECKPOINTS", "DATA", "DATA_DIR", "NOTEBOOKS_DIR", "PROJECT_ROOT", "StereoCalibration",
    "StereoPair", "checkpoint_info", "colorize", "depth_to_disparity", "disparity_to_depth",
    "hub_is_reachable", "is_stand_in", "load_image", "load_stereo_pair", "nearness", "normalize_minmax",
    "normalize_percentile", "notebook_setup", "pick_device", "resolve_checkpoint", "seed_everything",
    "show_depth", "show_grid", "stand_in_label", "stereo_disparity_to_depth", "to_uint8", "valid_mask",
]
__all__ += [  # helpers.deploy: ONNX export and CPU runtimes (notebook 08)
    "check_onnx", "cpu_features", "describe_cpu", "export_onnx", "max_relative_difference", "onnx_session",
    "openvino_model", "predict_onnx", "quantize_int8",
]
