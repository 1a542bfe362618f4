"""Checkpoints: the real one when the Hub or the local cache has it, an honest stand-in otherwise.

``resolve_checkpoint("Intel/zoedepth-nyu-kitti")`` returns something that ``pipeline(...)`` and
``Auto*.from_pretrained(...)`` accept:

1. the Hub id itself when the Hub answers (the real weights are downloaded and cached as usual);
2. the local snapshot folder when the real checkpoint is in the Hugging Face cache;
3. otherwise a *stand-in*: a folder with the same model class, the checkpoint's real image-processor
   settings and random weights from a fixed seed. Its outputs mean nothing, and it says so.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from .paths import cache_dir

STANDIN_VERSION = 1  # bump when the stand-in recipe changes, so old cached folders are rebuilt
STANDIN_SEED = 0
MARKER = "STAND_IN.json"

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]

# DPTImageProcessor settings of every Depth Anything V2 checkpoint on the Hub.
DEPTH_ANYTHING_PROCESSOR = {
    "image_processor_type": "DPTImageProcessor",
    "do_resize": True,
    "size": {"height": 518, "width": 518},
    "keep_aspect_ratio": True,
    "ensure_multiple_of": 14,
    "resample": 3,  # bicubic
    "do_rescale": True,
    "rescale_factor": 1 / 255,
    "do_normalize": True,
    "image_mean": IMAGENET_MEAN,
    "image_std": IMAGENET_STD,
    "do_pad": False,
}

# ZoeDepthImageProcessor settings of Intel/zoedepth-nyu-kitti (and -nyu, -kitti).
ZOEDEPTH_PROCESSOR = {
    "image_processor_type": "ZoeDepthImageProcessor",
    "do_pad": True,  # reflect-pads by int(sqrt(h/2)*3) x int(sqrt(w/2)*3) before resizing
    "do_resize": True,
    "size": {"height": 384, "width": 512},
    "keep_aspect_ratio": True,
    "ensure_multiple_of": 32,
    "resample": 2,  # bilinear
    "do_rescale": True,
    "rescale_factor": 1 / 255,
    "do_normalize": True,
    "image_mean": [0.5, 0.5, 0.5],
    "image_std": [0.5, 0.5, 0.5],
}


@dataclass(frozen=True)
class CheckpointInfo:
    """What the notebooks need to know about a checkpoint before loading it."""

    hub_id: str
    family: Literal["depth_anything", "zoedepth"]
    size: Literal["small", "base", "large"]
    output: Literal["relative disparity", "metric depth (m)"]
    licence: str
    processor: dict = field(repr=False)
    metric_max_depth: float | None = None  # Depth Anything V2 Metric: 20 m indoor, 80 m outdoor

    @property
    def commercial_use(self) -> bool:
        """False for the non-commercial licences (CC-BY-NC-4.0)."""
        return "nc" not in self.licence.lower()


CHECKPOINTS: dict[str, CheckpointInfo] = {
    info.hub_id: info
    for info in [
        CheckpointInfo("depth-anything/Depth-Anything-V2-Small-hf", "depth_anything", "small",
                       "relative disparity", "apache-2.0", DEPTH_ANYTHING_PROCESSOR),
        CheckpointInfo("depth-anything/Depth-Anything-V2-Base-hf", "depth_anything", "base",
                       "relative disparity", "cc-by-nc-4.0", DEPTH_ANYTHING_PROCESSOR),
        CheckpointInfo("depth-anything/Depth-Anything-V2-Large-hf", "depth_anything", "large",
                       "relative disparity", "cc-by-nc-4.0", DEPTH_ANYTHING_PROCESSOR),
        CheckpointInfo("depth-anything/Depth-Anything-V2-Metric-Indoor-Small-hf", "depth_anything", "small",
                       "metric depth (m)", "apache-2.0", DEPTH_ANYTHING_PROCESSOR, metric_max_depth=20.0),
        CheckpointInfo("Intel/zoedepth-nyu-kitti", "zoedepth", "large",
                       "metric depth (m)", "mit", ZOEDEPTH_PROCESSOR),
    ]
}


class UnknownCheckpointError(ValueError):
    """The checkpoint id is neither on the Hub, nor in the cache, nor one this project can stand in for."""


def checkpoint_info(checkpoint: str) -> CheckpointInfo:
    """Registry entry for a Hub id (case-insensitive, as the Hub is); a clear error for unknown ids."""
    for hub_id, info in CHECKPOINTS.items():
        if hub_id.lower() == checkpoint.strip().lower():
            return info
    raise UnknownCheckpointError(_unknown_message(checkpoint, "it is not in this project's registry"))


def _unknown_message(checkpoint: str, why: str) -> str:
    close = difflib.get_close_matches(checkpoint, list(CHECKPOINTS), n=2, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return (
        f"Unknown checkpoint {checkpoint!r}: {why}.{hint} "
        f"Known checkpoints: {', '.join(CHECKPOINTS)}. Any other Hub depth checkpoint works when the Hub is reachable."
    )


@lru_cache(maxsize=1)
def hub_is_reachable(timeout: float = 1.5) -> bool:
    """True when the Hugging Face Hub answers within ``timeout`` seconds (False at once under HF_HUB_OFFLINE)."""
    from .data import offline

    if offline():
        return False
    import requests

    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    try:
        requests.head(f"{endpoint}/api/models", timeout=(timeout, timeout), allow_redirects=False)
    except requests.RequestException:
        return False
    return True


def cached_snapshot(checkpoint: str) -> Path | None:
    """The local Hugging Face cache folder of a fully downloaded checkpoint, or None."""
    from huggingface_hub import try_to_load_from_cache

    candidates = [checkpoint]
    try:
        candidates.append(checkpoint_info(checkpoint).hub_id)
    except UnknownCheckpointError:
        pass
    for repo_id in dict.fromkeys(candidates):
        config = try_to_load_from_cache(repo_id, "config.json")
        if isinstance(config, str):
            folder = Path(config).parent
            if any((folder / name).exists() for name in ("model.safetensors", "pytorch_model.bin")):
                return folder
    return None


def _hub_has(checkpoint: str) -> bool | None:
    """True/False when the Hub says whether the model repository exists; None when it could not tell."""
    from huggingface_hub import model_info
    from huggingface_hub.errors import GatedRepoError, HFValidationError, RepositoryNotFoundError

    try:
        model_info(checkpoint, timeout=10)
    except GatedRepoError:
        return True  # exists; loading will explain how to accept its terms
    except (RepositoryNotFoundError, HFValidationError):
        return False
    except Exception:  # network trouble after the probe: fall back to the cache or a stand-in
        return None
    return True


def resolve_checkpoint(checkpoint: str, full: bool = False) -> str:
    """The real checkpoint when it can be had; otherwise build (once) and return an announced stand-in.

    ``full=True`` gives a stand-in with the real architecture dimensions (for honest timings);
    the default is a tiny one (same classes, small dimensions) so that CI runs fast.
    """
    if Path(checkpoint).is_dir():
        return str(checkpoint)  # a local model folder: use it as it is
    if hub_is_reachable():
        verdict = _hub_has(checkpoint)
        if verdict:
            return checkpoint
        if verdict is False:
            raise UnknownCheckpointError(_unknown_message(checkpoint, "the Hub has no such model repository"))
    snapshot = cached_snapshot(checkpoint)
    if snapshot is not None:
        return str(snapshot)
    try:
        info = checkpoint_info(checkpoint)
    except UnknownCheckpointError:
        raise UnknownCheckpointError(
            _unknown_message(checkpoint, "the Hub is unreachable, it is not in your local cache, "
                             "and it is not in this project's registry, so no stand-in can be built")
        ) from None
    folder = build_stand_in(info, full=full)
    _announce(info, full)
    return str(folder)


_ANNOUNCED: set[tuple[str, bool]] = set()


def _announce(info: CheckpointInfo, full: bool) -> None:
    if (info.hub_id, full) in _ANNOUNCED:
        return
    _ANNOUNCED.add((info.hub_id, full))
    line = "!" * 78
    print(
        f"{line}\n"
        f"STAND-IN MODEL: {info.hub_id} could not be loaded (no Hub access, not in the local cache).\n"
        f"Using a {'full-size' if full else 'tiny'} stand-in instead: the same model class and the real\n"
        f"image-processor settings, but RANDOM weights. Every depth map it makes is MEANINGLESS;\n"
        f"shapes, dtypes and the code path are real{', and so are its timings' if full else ''}.\n"
        f"For the real model: run with internet access, or once `python -m helpers.prefetch`.\n"
        f"{line}"
    )


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


def _stand_in_folder(info: CheckpointInfo, full: bool) -> Path:
    import torch
    import transformers

    tag = f"v{STANDIN_VERSION}-tf{transformers.__version__}-torch{torch.__version__.split('+')[0]}"
    name = info.hub_id.replace("/", "--") + ("-full" if full else "-tiny")
    return cache_dir() / "stand-ins" / tag / name


def _model_config(info: CheckpointInfo, full: bool):
    """Config of the real architecture (``full``) or of a tiny model of the same classes."""
    if info.family == "depth_anything":
        from transformers import DepthAnythingConfig, Dinov2Config

        real = {
            "small": dict(hidden=384, layers=12, heads=6, fusion=64, neck=[48, 96, 192, 384], out=[3, 6, 9, 12]),
            "base": dict(hidden=768, layers=12, heads=12, fusion=128, neck=[96, 192, 384, 768], out=[3, 6, 9, 12]),
            "large": dict(hidden=1024, layers=24, heads=16, fusion=256, neck=[256, 512, 1024, 1024], out=[5, 12, 18, 24]),
        }[info.size]
        dims = real if full else dict(hidden=32, layers=4, heads=2, fusion=16, neck=[8, 16, 32, 32], out=[1, 2, 3, 4])
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
        extra = dict(neck_hidden_sizes=[8, 16, 32, 32], fusion_hidden_size=16, bottleneck_features=16,
                     num_relative_features=8)
    return ZoeDepthConfig(
        backbone_config=backbone, bin_centers_type="softplus",
        bin_configurations=[
            {"name": "nyu", "n_bins": 64, "min_depth": 1e-3, "max_depth": 10.0},
            {"name": "kitti", "n_bins": 64, "min_depth": 1e-3, "max_depth": 80.0},
        ],
        # transformers hard-codes the patch transformer (4 layers, width 128), so the tiny stand-in
        # keeps those two dimensions
        num_patch_transformer_layers=4, patch_transformer_hidden_size=128,
        patch_transformer_intermediate_size=1024 if full else 128, patch_transformer_num_attention_heads=4,
        **extra,
    )


def _image_processor(info: CheckpointInfo):
    from transformers import DPTImageProcessor, ZoeDepthImageProcessor

    settings = {k: v for k, v in info.processor.items() if k != "image_processor_type"}
    cls = DPTImageProcessor if info.family == "depth_anything" else ZoeDepthImageProcessor
    return cls(**settings)


def build_stand_in(info: CheckpointInfo, full: bool = False) -> Path:
    """Build the stand-in folder once (atomically) and return it; a cache hit returns at once."""
    folder = _stand_in_folder(info, full)
    if (folder / MARKER).is_file():
        return folder
    import torch
    from transformers import AutoModelForDepthEstimation

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        torch.manual_seed(STANDIN_SEED)
        model = AutoModelForDepthEstimation.from_config(_model_config(info, full))
        model.eval()
        model.save_pretrained(staging)
        _image_processor(info).save_pretrained(staging)
        marker = {
            "stand_in_for": info.hub_id,
            "weights": f"random (torch.manual_seed({STANDIN_SEED}))",
            "size": "full architecture" if full else "tiny",
            "meaningful_outputs": False,
            "how_to_get_the_real_one": "go online, or run `python -m helpers.prefetch` once",
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
