"""Fine-tuning a depth model on your own RGB-D data: a folder dataset, joint augmentation, losses, a short loop.

The folder layout (one pair per name)::

    DATA_DIR/images/NAME.jpg | .png | ...       the photo (.jpg .jpeg .png .webp .tif .tiff .bmp)
    DATA_DIR/depth/NAME.png                     16-bit depth PNG that states its scale (helpers.save_depth_png16)
    DATA_DIR/depth/NAME.npy                     or float metres (helpers.save_depth_npy), NaN / 0 where unknown

Photos are read through the one image contract (``helpers.images.as_rgb_image``): any mode, made upright by
their EXIF orientation. A depth map is aligned with the photo *as displayed*: a phone photo stored landscape
with an EXIF rotation to portrait needs a portrait depth map, and then it just works. A depth map at the
photo's stored (unrotated) size, where that differs, is refused with a message saying how to turn it; any
other size is refused too. Each error names the files.

Losses take a *valid mask* and compute only on the selected pixels, so an invalid pixel (0, NaN, beyond
``max_depth``) never contributes a value or a gradient. ``DepthAnythingForDepthEstimation`` raises
``NotImplementedError`` when given ``labels``, so the loss lives here, outside the model.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .images import IMAGE_SUFFIXES  # the photos predict_folder reads: .png .jpg .jpeg .bmp .tif .tiff .webp
from .depthio import load_depth_png16, png_depth_scale, save_depth_npy, save_depth_png16
from .images import MAX_PIXELS
from .standins import MARKER, is_stand_in

LAYOUT = "DATA_DIR/images/NAME.jpg|png|... with DATA_DIR/depth/NAME.png (16-bit, stated scale) or DATA_DIR/depth/NAME.npy (metres)"
MIN_DEPTH = 1e-3  # metres: the authors' metric training ignores depths at or below this, as unknown


# ---- data -----------------------------------------------------------------------------------------------------


def save_rgbd_pair(folder, name: str, image, depth_m, depth_format: str = "png16", overwrite: bool = False,
                   *, bgr: bool = False) -> Path:
    """Write one pair in the folder layout: ``images/NAME.png`` and ``depth/NAME.png`` (mm) or ``depth/NAME.npy``.

    ``image`` is anything ``helpers.images.as_rgb_image`` takes (``bgr=True`` for OpenCV's arrays); it is saved
    upright as RGB, and ``depth_m`` must have its displayed (H, W).
    """
    from .images import as_rgb_image

    folder = Path(folder)
    if depth_format not in ("png16", "npy"):
        raise ValueError(f"depth_format must be 'png16' or 'npy', got {depth_format!r}.")
    picture = as_rgb_image(image, bgr=bgr, label=f"{name}: the image")
    depth = np.asarray(depth_m, dtype=np.float32)
    if depth.shape != (picture.height, picture.width):
        raise ValueError(f"{name}: depth shape {depth.shape} does not match the image's (H, W) = "
                         f"{(picture.height, picture.width)}.")
    target = folder / "images" / f"{name}.png"
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} already exists; pass overwrite=True to replace it.")
    target.parent.mkdir(parents=True, exist_ok=True)
    picture.save(target)
    if depth_format == "png16":
        save_depth_png16(folder / "depth" / f"{name}.png", depth, overwrite=overwrite)
    else:
        save_depth_npy(folder / "depth" / f"{name}.npy", depth, overwrite=overwrite)
    return target


def read_depth(path, png_scale: float | None = None) -> np.ndarray:
    """Depth in metres (float32, NaN where unknown) from a stated-scale 16-bit PNG or a .npy of metres."""
    path = Path(path)
    if path.suffix == ".npy":
        depth = np.load(path).astype(np.float32)
        if depth.ndim != 2:
            raise ValueError(f"{path} holds an array of shape {depth.shape}; a depth map is 2-D (H, W) in metres.")
        depth[depth <= 0] = np.nan
        return depth
    if png_depth_scale(path) is None and png_scale is None:
        raise ValueError(
            f"{path} does not state its depth scale (no 'depth_scale' text chunk), so its units are unknown. "
            "Pass png_scale= (PNG units per metre: 1000 for millimetres, 256 for KITTI, 5000 for TUM RGB-D), "
            "or re-save it with helpers.save_depth_png16 (which writes the scale into the file)."
        )
    return load_depth_png16(path, scale=None if png_depth_scale(path) is not None else png_scale)


def _stored_and_displayed_size(path: Path, max_pixels: int | None = MAX_PIXELS):
    """(H, W) of an image file as stored and as displayed (after its EXIF orientation), from its header."""
    from .camera import upright_size
    from .images import check_image_file

    width, height = check_image_file(path, max_pixels)  # not an image, truncated header, too many pixels: errors naming it
    shown_width, shown_height = upright_size(path)
    return (height, width), (shown_height, shown_width)


def _depth_shape(path: Path) -> tuple[int, ...]:
    if path.suffix == ".npy":
        return tuple(np.load(path, mmap_mode="r").shape)
    from PIL import Image

    with Image.open(path) as depth:
        return depth.height, depth.width


def _check_aligned(image: Path, depth: Path, max_pixels: int | None = MAX_PIXELS) -> None:
    """The depth map has the photo's displayed (H, W), or a clear error naming both files and what to do."""
    stored, displayed = _stored_and_displayed_size(image, max_pixels)
    shape = _depth_shape(depth)
    if shape == displayed:
        return
    if shape == stored:
        raise ValueError(
            f"{depth} has shape {shape}: the size of {image} as stored, but its EXIF orientation turns that photo "
            f"to (H, W) = {displayed} when it is shown, and a depth map must be aligned with the photo as shown. "
            "Turn the depth map the same way (PIL.ImageOps.exif_transpose tells how: e.g. np.rot90(depth, -1) for "
            "orientation 6), or save the photo upright (helpers.load_image(path).save(...)).")
    raise ValueError(
        f"{depth} has shape {shape} but {image} is (H, W) = {displayed} as shown: a depth map "
        "must be pixel-aligned with its image. Resize the depth with nearest-neighbour (never bilinear: it "
        "blends foreground and background) or register it to the camera first."
    )


def find_pairs(folder, max_pixels: int | None = MAX_PIXELS) -> list[tuple[str, Path, Path]]:
    """``(name, image path, depth path)`` for every pair in the folder layout; clear errors for what is missing.

    A photo above ``max_pixels`` (None: no limit) is refused, naming it (``helpers.images.MAX_PIXELS``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"No folder at {folder}. Expected the layout {LAYOUT}.")
    images = sorted(p for p in (folder / "images").glob("*")  # not hidden files such as macOS's ._NAME.jpg
                    if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise FileNotFoundError(f"No images ({', '.join(IMAGE_SUFFIXES)}) in {folder / 'images'}. Expected the layout "
                                f"{LAYOUT}.")
    pairs, missing = [], []
    for image in images:
        candidates = [folder / "depth" / f"{image.stem}{suffix}" for suffix in (".png", ".npy")]
        found = [c for c in candidates if c.is_file()]
        if not found:
            missing.append(image.name)
            continue
        if len(found) == 2:
            raise ValueError(f"{image.stem} has two depth files ({found[0].name} and {found[1].name}); keep one.")
        pairs.append((image.stem, image, found[0]))
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise FileNotFoundError(
            f"{len(missing)} image(s) in {folder / 'images'} have no depth file: {shown}. Add depth/NAME.png "
            "(16-bit, stated scale) or depth/NAME.npy (metres) for each, or move those images out of the folder."
        )
    for _, image, depth in pairs:
        _check_aligned(image, depth, max_pixels)
    return pairs


def joint_augment(image, depth, size: int, scale_range: tuple[float, float] = (1.0, 1.25), flip_p: float = 0.5,
                  jitter: float = 0.2, image_mode: str = "bilinear"):
    """One random crop + resize to ``size`` x ``size`` and horizontal flip, applied identically to both; colour to the image only.

    ``image``: float tensor (3, H, W) in 0..1; ``depth``: float tensor (H, W), NaN where unknown. The crop side is
    ``min(H, W) / s`` for ``s`` drawn from ``scale_range``; depth is resized with nearest-neighbour, so no value is
    invented between a foreground and a background pixel and NaN never spreads.
    """
    import torch
    import torch.nn.functional as F

    _, height, width = image.shape
    scale = float(torch.empty(1).uniform_(*scale_range)) if scale_range[1] > scale_range[0] else float(scale_range[0])
    side = max(1, min(height, width, int(round(min(height, width) / scale))))
    top = int(torch.randint(0, height - side + 1, (1,)))
    left = int(torch.randint(0, width - side + 1, (1,)))
    image = image[:, top:top + side, left:left + side]
    depth = depth[top:top + side, left:left + side]
    if side != size:
        extra = {"align_corners": False, "antialias": True} if image_mode in ("bilinear", "bicubic") else {}
        image = F.interpolate(image[None], size=(size, size), mode=image_mode, **extra)[0]
        depth = F.interpolate(depth[None, None], size=(size, size), mode="nearest")[0, 0]
    if float(torch.rand(1)) < flip_p:
        image, depth = image.flip(-1), depth.flip(-1)
    if jitter > 0:  # brightness and contrast, the image only: depth does not change with the light
        brightness = 1.0 + float(torch.empty(1).uniform_(-jitter, jitter))
        contrast = 1.0 + float(torch.empty(1).uniform_(-jitter, jitter))
        mean = image.mean()
        image = ((image - mean) * contrast + mean) * brightness
        image = image.clamp(0.0, 1.0)
    return image, depth


class RGBDFolder:
    """A ``torch.utils.data.Dataset`` of (image, metric depth) pairs in the folder layout ``LAYOUT``.

    ``dataset[i]`` gives a training sample: ``pixel_values`` (3, size, size) normalised with the processor's
    mean and std, ``depth`` (size, size) in metres (0 where invalid) and ``valid`` (bool), after
    ``joint_augment`` when ``augment``. ``dataset.pair(i)`` gives the untouched ``(PIL image, depth)`` for evaluation.
    ``max_pixels``: photos above it are refused (None: no limit), as everywhere in ``helpers.images``.
    """

    def __init__(self, folder, size: int = 266, max_depth: float = 20.0, augment: bool = True,
                 mean: Iterable[float] = (0.485, 0.456, 0.406), std: Iterable[float] = (0.229, 0.224, 0.225),
                 png_scale: float | None = None, scale_range: tuple[float, float] = (1.0, 1.25), jitter: float = 0.2,
                 max_pixels: int | None = MAX_PIXELS):
        self.folder = Path(folder)
        self.max_pixels = max_pixels
        self.pairs = find_pairs(self.folder, max_pixels)
        self.size, self.max_depth, self.augment = int(size), float(max_depth), augment
        self.mean, self.std = list(mean), list(std)
        self.png_scale, self.scale_range, self.jitter = png_scale, scale_range, jitter
        for _, _, depth in self.pairs:  # an unknown PNG scale is found now, not at step 100
            if depth.suffix == ".png" and png_depth_scale(depth) is None and png_scale is None:
                read_depth(depth)

    def __len__(self) -> int:
        return len(self.pairs)

    @property
    def names(self) -> list[str]:
        """The pairs' names, in order."""
        return [name for name, _, _ in self.pairs]

    def pair(self, index: int):
        """``(RGB PIL image, depth in metres with NaN where unknown)`` of pair ``index``, untouched.

        The image is the contract's (``helpers.images.as_rgb_image``): upright, RGB, at the displayed size, which
        is the depth map's.
        """
        from .images import as_rgb_image

        _, image, depth = self.pairs[index]
        return as_rgb_image(image, max_pixels=self.max_pixels), read_depth(depth, self.png_scale)

    def valid(self, depth):
        """The pixels to learn from: finite, above ``MIN_DEPTH`` and at most ``max_depth`` metres."""
        return np.isfinite(depth) & (depth > MIN_DEPTH) & (depth <= self.max_depth) if isinstance(depth, np.ndarray) \
            else depth.isfinite() & (depth > MIN_DEPTH) & (depth <= self.max_depth)

    def __getitem__(self, index: int) -> dict:
        import torch
        import torch.nn.functional as F

        image, depth = self.pair(index)
        image = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).permute(2, 0, 1)
        depth = torch.from_numpy(depth)
        if self.augment:
            image, depth = joint_augment(image, depth, self.size, self.scale_range, jitter=self.jitter)
        else:  # the whole picture, squeezed to size x size
            image = F.interpolate(image[None], size=(self.size, self.size), mode="bilinear", antialias=True)[0]
            depth = F.interpolate(depth[None, None], size=(self.size, self.size), mode="nearest")[0, 0]
        valid = self.valid(depth)
        mean = torch.tensor(self.mean).view(3, 1, 1)
        std = torch.tensor(self.std).view(3, 1, 1)
        return {"pixel_values": (image - mean) / std, "depth": torch.where(valid, depth, torch.zeros_like(depth)),
                "valid": valid}


# ---- losses ---------------------------------------------------------------------------------------------------


def silog_loss(pred, target, valid, lambd: float = 0.5):
    """Scale-invariant log loss: sqrt(mean g² − λ·(mean g)²), g = ln target − ln pred over the valid pixels only.

    λ = 0.5 is the authors' metric training (Depth Anything V2); λ = 1 ignores a global scale entirely. The
    pixels are selected *before* the logarithm, so NaN or 0 on an invalid pixel can neither poison the value nor
    the gradient (multiplying by a mask would: 0 · NaN = NaN).
    """
    import torch

    valid = valid.detach().bool()
    if not bool(valid.any()):
        raise ValueError("no valid pixel in this batch: check max_depth and the depth files' units.")
    g = torch.log(target[valid]) - torch.log(pred[valid])
    value = (g ** 2).mean() - lambd * g.mean() ** 2
    return torch.sqrt(value.clamp(min=0.0))


def fit_scale_shift_torch(pred, target, valid):
    """Per image, the least-squares ``(s, t)`` minimising Σ (s·pred + t − target)² over valid pixels (as ``helpers.fit_scale_shift``)."""
    import torch

    n = valid.sum(dim=(-2, -1)).clamp(min=1).to(pred.dtype)
    p_mean = torch.where(valid, pred, torch.zeros_like(pred)).sum(dim=(-2, -1)) / n  # where, not *: 0 · NaN = NaN
    t_mean = torch.where(valid, target, torch.zeros_like(target)).sum(dim=(-2, -1)) / n
    dp = torch.where(valid, pred - p_mean[..., None, None], torch.zeros_like(pred))
    dt = torch.where(valid, target - t_mean[..., None, None], torch.zeros_like(target))
    scale = (dp * dt).sum(dim=(-2, -1)) / (dp * dp).sum(dim=(-2, -1)).clamp(min=1e-12)
    return scale, t_mean - scale * p_mean


def ssi_loss(pred, target_disparity, valid):
    """Scale-and-shift-invariant loss (MiDaS): align ``pred`` to the target disparity per image, then mean squared error.

    For relative models such as Depth Anything V2 (disparity up to scale and shift): ``target_disparity`` is
    ``1 / depth``. Any ``a · target + b`` as prediction gives 0. Batched: (B, H, W) or (H, W).
    """
    import torch

    valid = valid.detach().bool()
    if not bool(valid.any()):
        raise ValueError("no valid pixel in this batch.")
    scale, shift = fit_scale_shift_torch(pred, target_disparity, valid)
    aligned = scale[..., None, None] * pred + shift[..., None, None]
    return ((aligned[valid] - target_disparity[valid]) ** 2).mean()


# ---- the model and its optimiser ------------------------------------------------------------------------------


def metric_model(checkpoint: str, max_depth: int = 20, full: bool = False, seed: int | None = None):
    """``(image_processor, model)``: a metric Depth Anything to fine-tune, resolved like every checkpoint here.

    A *relative* checkpoint gives its encoder (the DINOv2 backbone) with a fresh neck and head set to
    ``depth_estimation_type="metric"`` and ``max_depth`` (the authors' metric recipe: only the encoder is kept);
    a *metric* checkpoint is loaded whole, to fine-tune it to a new camera or scene.
    """
    import torch
    from transformers import AutoConfig, AutoImageProcessor, AutoModelForDepthEstimation

    from .checkpoints import resolve_checkpoint

    path = resolve_checkpoint(checkpoint, full=full)
    processor = AutoImageProcessor.from_pretrained(path)
    source = AutoModelForDepthEstimation.from_pretrained(path)
    if getattr(source.config, "depth_estimation_type", "relative") == "metric":
        return processor, source
    config = AutoConfig.from_pretrained(path, depth_estimation_type="metric", max_depth=int(max_depth))
    if seed is not None:  # the fresh neck and head: repeatable
        torch.manual_seed(seed)
    model = AutoModelForDepthEstimation.from_config(config)
    model.backbone.load_state_dict(source.backbone.state_dict())
    model.config._name_or_path = str(path)  # so helpers.is_stand_in can still tell a stand-in's encoder
    return processor, model


def encoder_parameters(model) -> list:
    """The encoder's (backbone's) parameters."""
    return list(model.backbone.parameters())


def param_groups(model, lr: float, encoder_lr_factor: float | None = 0.1, weight_decay: float = 0.01) -> list[dict]:
    """Optimizer groups: the encoder at ``lr * encoder_lr_factor``, the rest (neck, head) at ``lr``.

    ``encoder_lr_factor=None`` freezes the encoder (``requires_grad=False``, left out of the optimizer):
    the choice for tiny data or a CPU. The authors' metric training uses a factor of 0.1.
    """
    encoder = {id(p) for p in encoder_parameters(model)}
    rest = [p for p in model.parameters() if id(p) not in encoder]
    groups = [{"name": "decoder (neck + head)", "params": rest, "lr": lr, "weight_decay": weight_decay}]
    for p in encoder_parameters(model):
        p.requires_grad_(encoder_lr_factor is not None)
    if encoder_lr_factor is not None:
        groups.insert(0, {"name": "encoder", "params": encoder_parameters(model), "lr": lr * encoder_lr_factor,
                          "weight_decay": weight_decay})
    return groups


# ---- training and evaluation ----------------------------------------------------------------------------------


@dataclass
class History:
    """What a training run recorded: step numbers, training losses, learning rates, and validation losses."""

    step: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    val_step: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)


def train_steps(model, loader, optimizer, scheduler=None, steps: int = 100, loss_fn: Callable = silog_loss,
                device: str = "cpu", clip_norm: float | None = 1.0, eval_fn: Callable | None = None,
                eval_every: int = 0, history: History | None = None) -> History:
    """A plain training loop: ``steps`` optimizer steps over ``loader`` (cycled), gradient clipping, optional
    scheduler and validation (``eval_fn(model) -> loss`` every ``eval_every`` steps). bfloat16 autocast on CUDA.
    """
    import torch

    history = history if history is not None else History()
    start = history.step[-1] if history.step else 0
    use_amp = device == "cuda"
    batches = iter(loader)
    for step in range(start + 1, start + steps + 1):
        try:
            batch = next(batches)
        except StopIteration:
            batches = iter(loader)
            batch = next(batches)
        model.train()
        pixel_values = batch["pixel_values"].to(device)
        depth, valid = batch["depth"].to(device), batch["valid"].to(device)
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=use_amp):
            pred = model(pixel_values=pixel_values).predicted_depth
        loss = loss_fn(pred.float(), depth, valid)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], clip_norm)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        history.step.append(step)
        history.train_loss.append(float(loss.detach()))
        history.lr.append(float(optimizer.param_groups[-1]["lr"]))
        if eval_fn is not None and eval_every and (step % eval_every == 0 or step == start + steps):
            history.val_step.append(step)
            history.val_loss.append(float(eval_fn(model)))
    model.eval()
    return history


def predict_metric(model, processor, image, input_size: int | None = None) -> np.ndarray:
    """Depth in metres at the image's own size: the processor (short side ``input_size`` if given), the model,
    and the processor's post-processing back to (H, W). ``image``: anything ``helpers.images.as_rgb_image`` takes."""
    import torch

    from .images import as_rgb_image

    image = as_rgb_image(image)

    kwargs = {"size": {"height": input_size, "width": input_size}} if input_size else {}
    inputs = processor(images=image, return_tensors="pt", **kwargs)
    device = next(model.parameters()).device
    model.eval()
    with torch.no_grad():
        outputs = model(pixel_values=inputs["pixel_values"].to(device))
    post = processor.post_process_depth_estimation(outputs, target_sizes=[(image.height, image.width)])
    return post[0]["predicted_depth"].float().cpu().numpy()


@dataclass(frozen=True)
class Evaluation:
    """Predictions and ground truth of a whole dataset, flattened over its valid pixels (the same pixels every time)."""

    pred: np.ndarray
    gt: np.ndarray

    @property
    def pixels(self) -> int:
        """How many pixels were scored."""
        return int(self.gt.size)

    def metrics(self) -> dict[str, float]:
        """AbsRel, RMSE, δ1 … over these pixels (helpers.depth_metrics)."""
        from .metrics import depth_metrics

        return depth_metrics(self.pred, self.gt)

    def silog(self, lambd: float = 0.5) -> float:
        """The SiLog loss over these pixels."""
        import torch

        pred, gt = torch.from_numpy(self.pred), torch.from_numpy(self.gt)
        return float(silog_loss(pred, gt, torch.ones_like(gt, dtype=torch.bool), lambd))


def evaluate_folder(model, processor, dataset: RGBDFolder, input_size: int | None = None) -> Evaluation:
    """Predict every pair of ``dataset`` at its own size and keep the pixels with valid ground truth."""
    preds, gts = [], []
    for index in range(len(dataset)):
        image, depth = dataset.pair(index)
        pred = predict_metric(model, processor, image, input_size)
        keep = dataset.valid(depth)
        preds.append(np.maximum(pred[keep], MIN_DEPTH))
        gts.append(depth[keep])
    return Evaluation(np.concatenate(preds).astype(np.float32), np.concatenate(gts).astype(np.float32))


def save_finetuned(model, processor, folder, input_size: int | None = None, overwrite: bool = True) -> Path:
    """``save_pretrained`` of model and processor into one folder (the processor set to ``input_size`` if given).

    A model whose encoder came from a stand-in keeps the stand-in marker, so everything loaded from the
    folder is still labelled as such.
    """
    folder = Path(folder)
    if folder.exists():
        if not overwrite:
            raise FileExistsError(f"{folder} already exists; pass overwrite=True or choose another folder.")
        shutil.rmtree(folder)
    stand_in = is_stand_in(model)
    source_marker = Path(str(model.config._name_or_path)) / MARKER
    model.save_pretrained(folder)
    if input_size:
        processor.size = {"height": int(input_size), "width": int(input_size)}
    processor.save_pretrained(folder)
    if stand_in:
        marker = json.loads(source_marker.read_text())
        marker["fine_tuned_from"] = "a stand-in: its encoder's weights were random"
        (folder / MARKER).write_text(json.dumps(marker, indent=2))
    return folder
