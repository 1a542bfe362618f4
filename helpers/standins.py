"""Stand-ins: the same model class as a real checkpoint, its real image-processor settings, random weights.

``build_stand_in(info)`` writes a folder that ``from_pretrained`` loads, once per recipe, transformers
and torch version; ``full=True`` uses the real architecture's dimensions (honest timings), the default a
tiny model of the same classes (fast tests). A ``STAND_IN.json`` file in the folder marks it, so that
``helpers.is_stand_in`` can tell any output made from it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .paths import cache_dir

if TYPE_CHECKING:  # for the annotations only; checkpoints imports this module
    from .checkpoints import CheckpointInfo

STANDIN_VERSION = 2  # bump when the stand-in recipe changes, so old cached folders are rebuilt
STANDIN_SEED = 0
MARKER = "STAND_IN.json"
PREFETCH_COMMAND = "python -m helpers.classroom.prefetch"

# (hidden size, layers, heads, fusion width, neck widths, backbone layers read) of the real DA-V2 sizes
DEPTH_ANYTHING_SIZES = {
    "small": dict(hidden=384, layers=12, heads=6, fusion=64, neck=[48, 96, 192, 384], out=[3, 6, 9, 12]),
    "base": dict(hidden=768, layers=12, heads=12, fusion=128, neck=[96, 192, 384, 768], out=[3, 6, 9, 12]),
    "large": dict(hidden=1024, layers=24, heads=16, fusion=256, neck=[256, 512, 1024, 1024], out=[5, 12, 18, 24]),
}
TINY_DEPTH_ANYTHING = dict(hidden=32, layers=4, heads=2, fusion=16, neck=[8, 16, 32, 32], out=[1, 2, 3, 4])


def is_stand_in(model_or_path: Any) -> bool:
    """True when a path, pipeline or model was loaded from a stand-in folder."""
    candidate = model_or_path
    if hasattr(candidate, "model"):  # a pipeline
        candidate = candidate.model
    if hasattr(candidate, "name_or_path"):
        candidate = candidate.name_or_path
    elif hasattr(candidate, "config"):
        candidate = getattr(candidate.config, "_name_or_path", "")
    path = Path(str(candidate))
    return path.is_dir() and (path / MARKER).is_file()


STAND_IN_LABEL = "STAND-IN: random weights, meaningless"


def stand_in_label(model_or_path: Any, prefix: str = "\n") -> str:
    """``prefix + STAND_IN_LABEL`` for a stand-in (to append to a figure title or a printed line), else ''."""
    return prefix + STAND_IN_LABEL if is_stand_in(model_or_path) else ""


def stand_in_folder(info: CheckpointInfo, full: bool) -> Path:
    import torch
    import transformers

    tag = f"v{STANDIN_VERSION}-tf{transformers.__version__}-torch{torch.__version__.split('+')[0]}"
    name = info.hub_id.replace("/", "--") + ("-full" if full else "-tiny")
    return cache_dir() / "stand-ins" / tag / name


def model_config(info: CheckpointInfo, full: bool):
    """Config of the real architecture (``full``) or of a tiny model of the same classes."""
    if info.family == "depth_anything":
        from transformers import DepthAnythingConfig, Dinov2Config

        dims = DEPTH_ANYTHING_SIZES[info.size] if full else TINY_DEPTH_ANYTHING
        backbone = Dinov2Config(
            hidden_size=dims["hidden"], num_hidden_layers=dims["layers"], num_attention_heads=dims["heads"],
            intermediate_size=4 * dims["hidden"], image_size=518, patch_size=14, out_indices=dims["out"],
            apply_layernorm=True, reshape_hidden_states=False,
        )
        metric = info.metric_max_depth is not None
        return DepthAnythingConfig(
            backbone_config=backbone, reassemble_hidden_size=dims["hidden"], patch_size=14,
            fusion_hidden_size=dims["fusion"], neck_hidden_sizes=dims["neck"],
            depth_estimation_type="metric" if metric else "relative",
            max_depth=int(info.metric_max_depth) if metric else 1,
        )
    from transformers import BeitConfig, ZoeDepthConfig

    if full:
        backbone = BeitConfig(
            image_size=384, num_hidden_layers=24, hidden_size=1024, intermediate_size=4096, num_attention_heads=16,
            use_relative_position_bias=True, reshape_hidden_states=False,
            out_features=["stage6", "stage12", "stage18", "stage24"],
        )
        extra: dict[str, Any] = dict(neck_hidden_sizes=[256, 512, 1024, 1024])
    else:
        backbone = BeitConfig(
            image_size=384, num_hidden_layers=4, hidden_size=32, intermediate_size=64, num_attention_heads=2,
            use_relative_position_bias=True, reshape_hidden_states=False,
            out_features=["stage1", "stage2", "stage3", "stage4"],
        )
        # the metric head works on large feature maps once per bin: with the real 64 bins, 128-wide bin
        # embeddings and 16/8/4/1 attractors, a forward pass of the tiny model took 1.0 s (one thread), almost
        # all of it there; with these sizes 0.2 s. Each bin configuration keeps its real depth range.
        extra = dict(neck_hidden_sizes=[8, 16, 32, 32], fusion_hidden_size=16, bottleneck_features=16,
                     num_relative_features=8, bin_embedding_dim=16, num_attractors=[4, 2, 2, 1])
    n_bins = 64 if full else 16
    return ZoeDepthConfig(
        backbone_config=backbone, bin_centers_type="softplus",
        bin_configurations=[
            {"name": "nyu", "n_bins": n_bins, "min_depth": 1e-3, "max_depth": 10.0},
            {"name": "kitti", "n_bins": n_bins, "min_depth": 1e-3, "max_depth": 80.0},
        ],
        # transformers hard-codes the patch transformer (4 layers, width 128), so the tiny stand-in
        # keeps those two dimensions
        num_patch_transformer_layers=4, patch_transformer_hidden_size=128,
        patch_transformer_intermediate_size=1024 if full else 128, patch_transformer_num_attention_heads=4,
        **extra,
    )


def image_processor(info: CheckpointInfo):
    from transformers import DPTImageProcessor, ZoeDepthImageProcessor

    settings = {k: v for k, v in info.processor.items() if k != "image_processor_type"}
    cls = DPTImageProcessor if info.family == "depth_anything" else ZoeDepthImageProcessor
    return cls(**settings)


def build_stand_in(info: CheckpointInfo, full: bool = False) -> Path:
    """Build the stand-in folder once (atomically) and return it; a cache hit returns at once."""
    folder = stand_in_folder(info, full)
    if (folder / MARKER).is_file():
        return folder
    import torch
    from transformers import AutoModelForDepthEstimation

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        torch.manual_seed(STANDIN_SEED)
        model = AutoModelForDepthEstimation.from_config(model_config(info, full))
        model.eval()
        model.save_pretrained(staging)
        image_processor(info).save_pretrained(staging)
        marker = {
            "stand_in_for": info.hub_id,
            "weights": f"random (torch.manual_seed({STANDIN_SEED}))",
            "size": "full architecture" if full else "tiny",
            "meaningful_outputs": False,
            "how_to_get_the_real_one": f"go online, or run `{PREFETCH_COMMAND}` once",
        }
        (staging / MARKER).write_text(json.dumps(marker, indent=2))
        try:
            os.replace(staging, folder)
        except OSError:  # another process finished first
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder
