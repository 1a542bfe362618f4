"""Checkpoints: the real one when the Hub or the local cache has it, an honest stand-in otherwise.

``resolve_checkpoint("Intel/zoedepth-nyu-kitti")`` returns something that ``pipeline(...)`` and
``Auto*.from_pretrained(...)`` accept:

1. the Hub id itself when the Hub answers (the real weights are downloaded and cached as usual);
2. the local snapshot folder when the real checkpoint is in the Hugging Face cache;
3. otherwise a *stand-in*: a folder with the same model class, the checkpoint's real image-processor
   settings and random weights from a fixed seed (built in ``helpers/standins.py``). Its outputs mean
   nothing, and it says so.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from time import monotonic
from typing import Literal

from .standins import PREFETCH_COMMAND, STAND_IN_LABEL, build_stand_in, is_stand_in

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

# Notebook 13's other families. Each processor is the checkpoint's own preprocessor_config.json on the Hub, as
# transformers 5.23 reads it (values it leaves at the class defaults are spelled out here):
# Intel/dpt-large (https://huggingface.co/Intel/dpt-large/blob/main/preprocessor_config.json):
# 384 x 384, aspect ratio not kept, bilinear, mean = std = 0.5.
DPT_LARGE_PROCESSOR = {
    "image_processor_type": "DPTImageProcessor",
    "do_resize": True,
    "size": {"height": 384, "width": 384},
    "keep_aspect_ratio": False,
    "ensure_multiple_of": 1,
    "resample": 2,  # bilinear
    "do_rescale": True,
    "rescale_factor": 1 / 255,
    "do_normalize": True,
    "image_mean": [0.5, 0.5, 0.5],
    "image_std": [0.5, 0.5, 0.5],
    "do_pad": False,
}

# vinvino02/glpn-nyu (https://huggingface.co/vinvino02/glpn-nyu/blob/main/preprocessor_config.json): no fixed
# size, each side rounded down to a multiple of 32, bilinear, values scaled to [0, 1], no normalisation.
GLPN_PROCESSOR = {
    "image_processor_type": "GLPNImageProcessor",
    "do_resize": True,
    "size_divisor": 32,
    "resample": 2,  # bilinear
    "do_rescale": True,
    "rescale_factor": 1 / 255,
}

# LiheYoung/depth-anything-small-hf: the same DPTImageProcessor settings as Depth Anything V2 (518, multiple of 14,
# bicubic, ImageNet statistics; https://huggingface.co/LiheYoung/depth-anything-large-hf/blob/main/preprocessor_config.json).
DEPTH_ANYTHING_V1_PROCESSOR = DEPTH_ANYTHING_PROCESSOR

# apple/DepthPro-hf (https://huggingface.co/apple/DepthPro-hf/blob/main/preprocessor_config.json): always
# 1536 x 1536 (the model cuts it into 384-pixel patches at three scales), bilinear, mean = std = 0.5.
DEPTH_PRO_PROCESSOR = {
    "image_processor_type": "DepthProImageProcessor",
    "do_resize": True,
    "size": {"height": 1536, "width": 1536},
    "resample": 2,  # bilinear
    "do_rescale": True,
    "rescale_factor": 1 / 255,
    "do_normalize": True,
    "image_mean": [0.5, 0.5, 0.5],
    "image_std": [0.5, 0.5, 0.5],
}

# depth-anything/prompt-depth-anything-vits-hf
# (https://huggingface.co/depth-anything/prompt-depth-anything-vits-hf/blob/main/preprocessor_config.json):
# Depth Anything's resize at 756 instead of 518; the prompt (a low-resolution depth map) is read in millimetres.
PROMPT_DEPTH_ANYTHING_PROCESSOR = {
    "image_processor_type": "PromptDepthAnythingImageProcessor",
    "do_resize": True,
    "size": {"height": 756, "width": 756},
    "keep_aspect_ratio": True,
    "ensure_multiple_of": 14,
    "resample": 3,  # bicubic
    "do_rescale": True,
    "rescale_factor": 1 / 255,
    "do_normalize": True,
    "image_mean": IMAGENET_MEAN,
    "image_std": IMAGENET_STD,
    "do_pad": False,
    "prompt_scale_to_meter": 0.001,
}

Family = Literal["depth_anything", "zoedepth", "dpt", "glpn", "depth_pro", "prompt_depth_anything"]
Output = Literal["relative disparity", "metric depth (m)", "metric depth (m) + field of view",
                 "metric depth (m) from a depth prompt"]


@dataclass(frozen=True)
class CheckpointInfo:
    """What the notebooks need to know about a checkpoint before loading it."""

    hub_id: str
    family: Family
    size: Literal["small", "base", "large"]
    output: Output
    licence: str
    processor: dict = field(repr=False)
    metric_max_depth: float | None = None  # Depth Anything V2 Metric: 20 m indoor, 80 m outdoor; GLPN-NYU 10 m
    trained_on: str = ""  # the training data in a few words, from the model card or the paper
    prefetch: bool = True  # False: `python -m helpers.classroom.prefetch` fetches it only when named (--only)

    @property
    def commercial_use(self) -> bool:
        """True only for the permissive licences (Apache-2.0, MIT); False for CC-BY-NC-4.0 and for a licence not stated."""
        return self.licence.lower() in ("apache-2.0", "mit")


DA_V2_DATA = "595 K synthetic labelled + 62 M pseudo-labelled real images"

CHECKPOINTS: dict[str, CheckpointInfo] = {
    info.hub_id: info
    for info in [
        CheckpointInfo("depth-anything/Depth-Anything-V2-Small-hf", "depth_anything", "small",
                       "relative disparity", "apache-2.0", DEPTH_ANYTHING_PROCESSOR, trained_on=DA_V2_DATA),
        CheckpointInfo("depth-anything/Depth-Anything-V2-Base-hf", "depth_anything", "base",
                       "relative disparity", "cc-by-nc-4.0", DEPTH_ANYTHING_PROCESSOR, trained_on=DA_V2_DATA),
        CheckpointInfo("depth-anything/Depth-Anything-V2-Large-hf", "depth_anything", "large",
                       "relative disparity", "cc-by-nc-4.0", DEPTH_ANYTHING_PROCESSOR, trained_on=DA_V2_DATA),
        CheckpointInfo("depth-anything/Depth-Anything-V2-Metric-Indoor-Small-hf", "depth_anything", "small",
                       # the authors' Apache-2.0 sentence names the relative Small model; this card states no licence
                       "metric depth (m)", "not stated", DEPTH_ANYTHING_PROCESSOR, metric_max_depth=20.0,
                       trained_on="Hypersim: synthetic indoor scenes"),
        CheckpointInfo("Intel/zoedepth-nyu-kitti", "zoedepth", "large",
                       "metric depth (m)", "mit", ZOEDEPTH_PROCESSOR,
                       trained_on="NYU Depth v2 (indoor) + KITTI (driving), on a relative model pre-trained on 12 sets"),
        # Notebook 13's families: not prefetched by default (several GB in all); name them with --only.
        # Licences: each model card's `license` field (https://huggingface.co/<id>).
        CheckpointInfo("Intel/dpt-large", "dpt", "large", "relative disparity", "apache-2.0", DPT_LARGE_PROCESSOR,
                       trained_on="MIX 6: 1.4 M images, indoor and outdoor (MiDaS v3)", prefetch=False),
        CheckpointInfo("vinvino02/glpn-nyu", "glpn", "small", "metric depth (m)", "apache-2.0", GLPN_PROCESSOR,
                       metric_max_depth=10.0, trained_on="NYU Depth v2: indoor rooms, Kinect", prefetch=False),
        CheckpointInfo("LiheYoung/depth-anything-small-hf", "depth_anything", "small", "relative disparity",
                       "apache-2.0", DEPTH_ANYTHING_V1_PROCESSOR,
                       trained_on="1.5 M labelled + 62 M pseudo-labelled images", prefetch=False),
        CheckpointInfo("apple/DepthPro-hf", "depth_pro", "large", "metric depth (m) + field of view", "apple-amlr",
                       DEPTH_PRO_PROCESSOR, trained_on="many real and synthetic datasets, indoor and outdoor",
                       prefetch=False),
        CheckpointInfo("depth-anything/prompt-depth-anything-vits-hf", "prompt_depth_anything", "small",
                       "metric depth (m) from a depth prompt", "apache-2.0", PROMPT_DEPTH_ANYTHING_PROCESSOR,
                       trained_on="ARKitScenes, ScanNet++ and synthetic scenes with simulated LiDAR (indoor)",
                       prefetch=False),
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


REPROBE_AFTER_S = 30.0  # a kernel started offline notices within this long that the network came back
_PROBES: dict[str, tuple[float, bool]] = {}  # endpoint -> (when it was probed, whether it answered)


def hub_is_reachable(timeout: float = 1.0) -> bool:
    """True when the Hub (``HF_ENDPOINT``) answers; asked again after ``REPROBE_AFTER_S`` s, at most 2 x ``timeout``."""
    from .data import hub_endpoint, offline

    if offline():
        return False
    endpoint = hub_endpoint()
    probed = _PROBES.get(endpoint)
    if probed is not None and monotonic() - probed[0] < REPROBE_AFTER_S:
        return probed[1]
    import requests

    try:  # (connect, read) timeouts: one decision takes at most 2 x timeout
        requests.head(f"{endpoint}/api/models", timeout=(timeout, timeout), allow_redirects=False)
        answered = True
    except requests.RequestException:
        answered = False
    _PROBES[endpoint] = (monotonic(), answered)
    return answered


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
        f"For the real model: run with internet access, or once `{PREFETCH_COMMAND}`.\n"
        f"{line}"
    )


def load_depth_model(checkpoint: str, device: str = "cpu", full: bool = False):
    """``(image_processor, model)`` for a checkpoint resolved as above, the model on ``device``; says which weights run."""
    from transformers import AutoImageProcessor, AutoModelForDepthEstimation

    path = resolve_checkpoint(checkpoint, full=full)
    image_processor = AutoImageProcessor.from_pretrained(path)
    model = AutoModelForDepthEstimation.from_pretrained(path).to(device)
    if is_stand_in(model):
        print(f"{STAND_IN_LABEL}: every depth value and picture from this {type(model).__name__} is noise; "
              "shapes, sizes and the code path are real.")
    else:
        print(f"{checkpoint}: the real weights, on {device}.")
    return image_processor, model
