"""Helpers for the depth-estimation tutorials: the plumbing around the lessons.

Notebooks write ``import helpers`` and call ``helpers.load_image(...)``, ``helpers.show_depth(...)``. The table
below is the package's table of contents: each exported name, grouped by what it is for, and the module it lives
in. A module is imported the first time one of its names is used, so ``import helpers`` is instant and the
maintainers' tools (``python -m helpers.maintain.…``) import nothing heavy they do not need. Tools for
instructors live in ``helpers.classroom``, tools for the maintainers in ``helpers.maintain``; no notebook imports
those.
"""

from importlib import import_module

_WHERE = {  # exported name -> the helpers module that defines it
    # set-up, files and exercises
    "notebook_setup": "env",
    "pick_device": "env",
    "build_dir": "paths",
    "check": "exercises",
    "describe_cpu": "machine",
    # load: photos, the stereo pair and its ground truth, depth files
    "load_image": "data",
    "load_stereo_pair": "data",
    "load_depth_png16": "depthio",
    "png_depth_scale": "depthio",
    "save_depth_npy": "depthio",
    "save_depth_png16": "depthio",
    # models: checkpoints, stand-ins, prediction
    "checkpoint_info": "checkpoints",
    "load_depth_model": "checkpoints",
    "resolve_checkpoint": "checkpoints",
    "is_stand_in": "standins",
    "stand_in_label": "standins",
    "predict_depth": "batch",
    "predict_folder": "batch",
    "sgbm_disparity": "stereo",
    # show: colours, maps, stand-in stamps
    "mark_if_stand_in": "viz",
    "show_depth": "viz",
    "show_grid": "viz",
    # depth maths, alignment, evaluation
    "as_array": "depthmath",
    "align_disparity": "align",
    "fit_scale_shift": "align",
    "bad_pixel_rate": "metrics",
    "match_density": "metrics",
    "depth_metrics": "metrics",
    "epe": "metrics",
    "metrics_table": "metrics",
    # geometry and cameras
    "Intrinsics": "geometry",
    "read_ply": "geometry",
    "intrinsics_for_photo": "camera",
    # speed
    "markdown_table": "timing",
    "plot_variant_times": "timing",
    "time_call": "timing",
    "time_interleaved": "timing",
    # CPU deployment
    "export_onnx": "deploy",
    "max_relative_difference": "deploy",
    "openvino_model": "deploy",
    "quantize_static_int8": "quantize",
    # fine-tuning
    "RGBDFolder": "finetune",
    # video
    "depth_video": "video",
    "pan_and_zoom": "video",
    "fastest_runtime": "fastpath",
}

__all__ = list(_WHERE)


def __getattr__(name: str):
    """``helpers.NAME``: import NAME's module on first use (PEP 562) and remember the name."""
    if name not in _WHERE:
        raise AttributeError(f"module 'helpers' has no attribute {name!r}")
    value = getattr(import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The exported names beside the module's own, so tab completion in a notebook lists them."""
    return sorted(set(globals()) | set(__all__))
