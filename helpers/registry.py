"""The checkpoints this collection knows: each one's family, size, output, licence, training data and the image-processor
settings of its real ``preprocessor_config.json``.

``helpers.checkpoints`` resolves a checkpoint (Hub, cache or stand-in) and ``helpers.standins`` builds a stand-in;
both read this table, which imports neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

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
