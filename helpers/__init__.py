"""Helpers for the depth-estimation tutorials: data, checkpoints, depth maths, metrics, geometry and pictures.

Notebooks write ``import helpers`` and call ``helpers.load_image(...)``, ``helpers.show_depth(...)``: every
name a notebook uses is exported here, so a reader sees at each call that it comes from this package and
finds it in the module named below. Tools for instructors live in ``helpers.classroom``, tools for the
maintainers in ``helpers.maintain``; no notebook imports those.
"""

from .align import align_disparity, fit_scale_shift, median_scale
from .batch import depth_batch, predict_depth, predict_folder
from .camera import focal_35mm_to_pixels, intrinsics_for_photo
from .checkpoints import checkpoint_info, load_depth_model, resolve_checkpoint
from .data import load_image, load_stereo_pair
from .depthio import load_depth_png16, png_depth_scale, save_depth_npy, save_depth_png16
from .depthmath import as_array
from .env import notebook_setup, pick_device
from .focal import depth_pro_intrinsics, fov_to_focal_px
from .exercises import check
from .finetune import (
    RGBDFolder, evaluate_folder, metric_model, param_groups, save_finetuned, save_rgbd_pair, silog_loss, ssi_loss,
    train_steps,
)
from .geometry import (
    Intrinsics, PointCloud, backproject, discontinuity_mask, point_cloud, project, read_ply, write_ply,
    z_to_ray_distance,
)
from .machine import cpu_features, cpu_name, describe_cpu
from .paths import build_dir
from .metrics import bad_pixel_rate, density, depth_metrics, epe, metrics_table
from .standins import is_stand_in, stand_in_label
from .stereo import sgbm_disparity
from .timing import (
    layer_rates, markdown_table, plot_stage_shares, plot_variant_times, shares, speedups, time_call, time_interleaved,
    time_stages,
)
from .viz import colorize, mark_if_stand_in, show_depth, show_grid
from .video import (
    align_frames, camera_move, clip_range, depth_video, ema, flicker, gif, lag, normalize, read_frames, video_info,
    write_video,
)
from .zoedepth import remove_zoedepth_padding, zoedepth_input_size, zoedepth_padded_size, zoedepth_padding
from .deploy import (
    calibration_set, check_onnx, error_line, export_onnx, max_relative_difference, onnx_session, openvino_model,
    predict_onnx, quantize_int8, quantize_static_int8, read_metadata,
)
from .roofline import floor_ms, forward_flops, machine_rates

__all__ = [
    # checkpoints and stand-ins
    "checkpoint_info", "is_stand_in", "load_depth_model", "resolve_checkpoint", "stand_in_label",
    # data and files
    "load_depth_png16", "load_image", "load_stereo_pair", "png_depth_scale", "save_depth_npy", "save_depth_png16",
    # notebook set-up and exercises
    "build_dir", "check", "describe_cpu", "notebook_setup", "pick_device",
    # depth maths, alignment, metrics
    "align_disparity", "as_array", "bad_pixel_rate", "density", "depth_metrics", "epe", "fit_scale_shift",
    "median_scale", "metrics_table",
    # models: ZoeDepth's padding, stereo, batches, timing
    "depth_batch", "layer_rates", "markdown_table", "plot_stage_shares", "plot_variant_times", "predict_depth",
    "predict_folder", "remove_zoedepth_padding", "sgbm_disparity", "shares", "speedups", "time_call",
    "time_interleaved", "time_stages", "zoedepth_input_size", "zoedepth_padded_size", "zoedepth_padding",
    # geometry
    "Intrinsics", "PointCloud", "backproject", "discontinuity_mask", "point_cloud", "project", "read_ply",
    "write_ply", "z_to_ray_distance",
    # pictures
    "colorize", "mark_if_stand_in", "show_depth", "show_grid",
]
__all__ += [  # helpers.deploy: ONNX export and CPU runtimes (notebook 08); helpers.machine: what the CPU can do
    "check_onnx", "cpu_features", "cpu_name", "error_line", "export_onnx", "max_relative_difference", "onnx_session",
    "openvino_model", "predict_onnx", "quantize_int8", "read_metadata",
]
__all__ += [  # static int8 with a calibration set (helpers.deploy) and the hardware's floor (helpers.roofline), notebook 08
    "calibration_set", "floor_ms", "forward_flops", "machine_rates", "quantize_static_int8",
]
__all__ += [  # helpers.video: frames in and out, the camera move, alignment over time, flicker (notebook 12)
    "align_frames", "camera_move", "clip_range", "depth_video", "ema", "flicker", "gif", "lag", "normalize",
    "read_frames", "video_info", "write_video",
]
__all__ += [  # helpers.finetune: your RGB-D folder, losses with masks, a metric model, a short loop (notebook 10)
    "RGBDFolder", "evaluate_folder", "metric_model", "param_groups", "save_finetuned", "save_rgbd_pair",
    "silog_loss", "ssi_loss", "train_steps",
]
__all__ += ["depth_app", "depth_results", "intrinsics_for_photo"]  # helpers.app and helpers.camera (notebook 11)
__all__ += ["depth_pro_intrinsics", "focal_35mm_to_pixels", "fov_to_focal_px"]  # helpers.focal, helpers.camera (notebook 13)


def __getattr__(name: str):
    """``helpers.depth_app`` / ``helpers.depth_results``: helpers.app is imported on first use, so that
    ``python -m helpers.app`` runs that module once (no runpy warning about a module imported twice)."""
    if name in ("depth_app", "depth_results"):
        from . import app

        return getattr(app, name)
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")
