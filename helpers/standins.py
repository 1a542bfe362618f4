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
from typing import Any

from .paths import cache_dir
from .registry import CheckpointInfo

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


CONFIG_KEY = "stand_in_for"  # in a stand-in's config.json: it travels with save_pretrained to every model made from it


def is_stand_in(model_or_path: Any) -> bool:
    """True when a path, pipeline or model was loaded from a stand-in folder, or made from a stand-in (its config
    carries ``stand_in_for``, so a model fine-tuned from one and saved with ``save_pretrained`` stays marked)."""
    candidate = model_or_path
    if hasattr(candidate, "model"):  # a pipeline
        candidate = candidate.model
    if getattr(getattr(candidate, "config", None), CONFIG_KEY, None):
        return True
    if hasattr(candidate, "name_or_path"):
        candidate = candidate.name_or_path
    elif hasattr(candidate, "config"):
        candidate = getattr(candidate.config, "_name_or_path", "")
    path = Path(str(candidate))
    return path.is_dir() and ((path / MARKER).is_file() or _config_marks(path / "config.json"))


def _config_marks(config_file: Path) -> bool:
    """True when a model folder's config.json says it was made from a stand-in."""
    try:
        return bool(json.loads(config_file.read_text(encoding="utf-8")).get(CONFIG_KEY))
    except (OSError, ValueError, AttributeError):
        return False


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
    if info.family in OTHER_FAMILIES:
        return OTHER_FAMILIES[info.family](info, full)
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


def _dpt_config(info: CheckpointInfo, full: bool):
    """DPT-Large (ViT-L/16 at 384, as in Intel/dpt-large's config.json) or a tiny ViT of the same classes."""
    from transformers import DPTConfig

    if full:  # https://huggingface.co/Intel/dpt-large/blob/main/config.json
        return DPTConfig(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096,
                         image_size=384, patch_size=16, backbone_out_indices=[5, 11, 17, 23],
                         neck_hidden_sizes=[256, 512, 1024, 1024], fusion_hidden_size=256, readout_type="project")
    return DPTConfig(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=64,
                     image_size=384, patch_size=16, backbone_out_indices=[0, 1, 2, 3],
                     neck_hidden_sizes=[8, 16, 32, 32], fusion_hidden_size=16, readout_type="project")


def _glpn_config(info: CheckpointInfo, full: bool):
    """GLPN with the Mix Transformer of vinvino02/glpn-nyu (MiT-b4 sizes, 10 m) or a tiny one."""
    from transformers import GLPNConfig

    max_depth = int(info.metric_max_depth or 10)
    if full:  # vinvino02/glpn-nyu config.json: depths 3/8/27/3, widths 64/128/320/512, decoder 64, max_depth 10
        return GLPNConfig(depths=[3, 8, 27, 3], hidden_sizes=[64, 128, 320, 512], num_attention_heads=[1, 2, 5, 8],
                          decoder_hidden_size=64, max_depth=max_depth)
    return GLPNConfig(depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 32, 32], num_attention_heads=[1, 1, 2, 2],
                      decoder_hidden_size=8, max_depth=max_depth)


def _depth_pro_config(info: CheckpointInfo, full: bool):
    """Depth Pro: three DINOv2 encoders (patches, whole image, field of view), ViT-L/16 in apple/DepthPro-hf."""
    from transformers import DepthProConfig, Dinov2Config

    def encoder(hidden: int, layers: int, heads: int):
        return Dinov2Config(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads, image_size=384,
                            patch_size=16, out_indices=[layers], use_mask_token=False)

    if full:  # https://huggingface.co/apple/DepthPro-hf/blob/main/config.json
        return DepthProConfig(image_model_config=encoder(1024, 24, 16), patch_model_config=encoder(1024, 24, 16),
                              fov_model_config=encoder(1024, 24, 16), fusion_hidden_size=256, use_fov_model=True,
                              intermediate_hook_ids=[11, 5], intermediate_feature_dims=[256, 256],
                              scaled_images_feature_dims=[1024, 1024, 512])
    # tiny: the same 1536-pixel input cut into the same 35 patches of 384 pixels, through 2-layer encoders. Its forward
    # pass stays near 1 s on one thread (the others well under): the head's last convolutions have 32 channels fixed
    # in transformers and run on the full 1536 x 1536 output, whatever the sizes chosen here.
    return DepthProConfig(image_model_config=encoder(16, 2, 1), patch_model_config=encoder(16, 2, 1),
                          fov_model_config=encoder(16, 2, 1), fusion_hidden_size=8, use_fov_model=True,
                          intermediate_hook_ids=[1, 0], intermediate_feature_dims=[8, 8],
                          scaled_images_feature_dims=[16, 16, 8])


def _prompt_depth_anything_config(info: CheckpointInfo, full: bool):
    """Prompt Depth Anything: Depth Anything's DINOv2 + DPT head with prompt fusion (ViT-S in the -vits- checkpoint)."""
    from transformers import Dinov2Config, PromptDepthAnythingConfig

    # depth-anything/prompt-depth-anything-vits(-transparent)-hf config.json: ViT-S/14, neck 48/96/192/384, fusion 64
    dims = DEPTH_ANYTHING_SIZES[info.size] if full else TINY_DEPTH_ANYTHING
    backbone = Dinov2Config(
        hidden_size=dims["hidden"], num_hidden_layers=dims["layers"], num_attention_heads=dims["heads"],
        intermediate_size=4 * dims["hidden"], image_size=518, patch_size=14, out_indices=dims["out"],
        apply_layernorm=True, reshape_hidden_states=False,
    )
    return PromptDepthAnythingConfig(backbone_config=backbone, reassemble_hidden_size=dims["hidden"], patch_size=14,
                                     fusion_hidden_size=dims["fusion"], neck_hidden_sizes=dims["neck"],
                                     depth_estimation_type="metric", max_depth=1)


OTHER_FAMILIES = {"dpt": _dpt_config, "glpn": _glpn_config, "depth_pro": _depth_pro_config,
                  "prompt_depth_anything": _prompt_depth_anything_config}


def image_processor(info: CheckpointInfo):
    import transformers

    settings = {k: v for k, v in info.processor.items() if k != "image_processor_type"}
    cls = getattr(transformers, info.processor.get("image_processor_type", "DPTImageProcessor"))
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
        setattr(model.config, CONFIG_KEY, info.hub_id)  # saved in config.json: models made from it stay marked
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
