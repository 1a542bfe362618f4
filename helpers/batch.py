"""Depth for many images: batched forward passes with a progress bar, depth maps back at each source size.

Images of different sizes: the image processor turns each image into ``pixel_values`` whose shape
depends on the image's aspect ratio (Depth Anything keeps it and rounds to multiples of 14). Only
equal shapes can be stacked into one batch, so ``predict_depth`` *groups images by that shape*: each
image gets exactly the input the pipeline would give it, and the batched result equals the per-image
result (up to floating-point noise). With many different shapes the batches get small; pass
``fixed_size=(518, 518)`` to resize every image to one size (``keep_aspect_ratio=False``) so that all
of them batch together. That squashes or stretches the model's input, which changes the depth maps
(notebook 07 measures by how much). Padding is not offered: a ViT attends to the padded area too, so
padded results also differ, and nothing in transformers removes that padding again for DPT models.

Files (``predict_folder(..., out_dir=...)``): ``<stem>.npy`` always (float32, exact, whatever the
model outputs). ``<stem>.png`` (16-bit) only for *metric* models, storing ``round(metres * png_scale)``
with the project's default ``png_scale=1000`` (millimetres, up to 65.535 m; the file states its scale
and ``helpers.depthio.load_depth_png16(path)`` reads it; pass ``png_scale=256``, KITTI's convention, for
outdoor scenes beyond 65 m). Relative models (Depth Anything V2
relative, DPT) output disparity-like numbers with an unknown scale and shift per image: no fixed
scale can make them a depth file, so they are stored as ``.npy`` only. Existing files are never
overwritten unless ``overwrite=True``; this is checked before any model runs.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def is_metric_model(model: Any) -> bool:
    """True when the model outputs metric depth in metres (ZoeDepth, Depth Anything V2 Metric)."""
    config = model.config
    return config.model_type == "zoedepth" or getattr(config, "depth_estimation_type", "relative") == "metric"


def _post_process(processor: Any, outputs: Any, sizes: list[tuple[int, int]], outputs_flipped: Any = None) -> list:
    """Post-process a batch back to source sizes: ZoeDepth needs ``source_sizes``, DPT-style models ``target_sizes``."""
    parameters = inspect.signature(processor.post_process_depth_estimation).parameters
    kwargs: dict[str, Any] = {}
    if outputs_flipped is not None:
        if "outputs_flipped" not in parameters:
            raise ValueError(
                f"{type(processor).__name__} cannot average flipped outputs (flip_tta=True is a ZoeDepth option); "
                "use flip_tta=False with this model."
            )
        kwargs["outputs_flipped"] = outputs_flipped
    if "source_sizes" in parameters:  # ZoeDepth: removes its reflect padding, then resizes to the source size
        kwargs["source_sizes"] = sizes
    else:
        kwargs["target_sizes"] = sizes
    return processor.post_process_depth_estimation(outputs, **kwargs)


def _as_float32_output(outputs: Any) -> Any:
    """Post-processing interpolates in float32: cast a half-precision ``predicted_depth`` back."""
    outputs["predicted_depth"] = outputs["predicted_depth"].float()
    return outputs


def _load(source: Any):
    from .data import load_image

    return load_image(source)


def iter_depth(
    model: Any,
    processor: Any,
    images: Sequence[Any],
    batch_size: int = 4,
    device: Any = None,
    dtype: Any = None,
    fixed_size: tuple[int, int] | None = None,
    flip_tta: bool = False,
    processor_kwargs: dict | None = None,
    progress: bool = True,
) -> Iterable[tuple[int, np.ndarray]]:
    """Yield ``(index, depth map)`` as batches finish; ``predict_depth`` is the ordered list of these."""
    import torch
    from tqdm.auto import tqdm

    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    if fixed_size is not None and (len(fixed_size) != 2 or min(fixed_size) < 1):
        raise ValueError(f"fixed_size must be (height, width) in pixels, got {fixed_size!r}.")
    images = list(images)
    if device is not None or dtype is not None:
        model.to(device=device, dtype=dtype)
    param = next(model.parameters())
    device, dtype = param.device, param.dtype
    call_kwargs = dict(processor_kwargs or {})
    if fixed_size is not None:
        call_kwargs.update(size={"height": int(fixed_size[0]), "width": int(fixed_size[1])}, keep_aspect_ratio=False)

    def run(bucket: list[tuple[int, Any, tuple[int, int]]]) -> list[tuple[int, np.ndarray]]:
        pixel_values = torch.cat([item[1] for item in bucket]).to(device=device, dtype=dtype)
        sizes = [item[2] for item in bucket]
        with torch.inference_mode():
            outputs = _as_float32_output(model(pixel_values=pixel_values))
            flipped = None
            if flip_tta:
                flipped = _as_float32_output(model(pixel_values=torch.flip(pixel_values, dims=[3])))
            results = _post_process(processor, outputs, sizes, flipped)
        return [(item[0], r["predicted_depth"].float().cpu().numpy()) for item, r in zip(bucket, results)]

    model.eval()
    buckets: dict[tuple[int, ...], list] = {}
    with tqdm(total=len(images), desc="depth", unit="image", disable=not progress) as bar:
        for index, source in enumerate(images):
            image = _load(source)
            pixel_values = processor(images=image, return_tensors="pt", **call_kwargs)["pixel_values"]
            bucket = buckets.setdefault(tuple(pixel_values.shape), [])
            bucket.append((index, pixel_values, (image.height, image.width)))
            if len(bucket) == batch_size:
                yield from run(buckets.pop(tuple(pixel_values.shape)))
                bar.update(batch_size)
        for bucket in buckets.values():  # the partly filled batches, one per input shape
            yield from run(bucket)
            bar.update(len(bucket))


def predict_depth(
    model: Any,
    processor: Any,
    images: Sequence[Any],
    batch_size: int = 4,
    device: Any = None,
    dtype: Any = None,
    fixed_size: tuple[int, int] | None = None,
    flip_tta: bool = False,
    processor_kwargs: dict | None = None,
    progress: bool = True,
) -> list[np.ndarray]:
    """Post-processed float32 depth maps, one per image at its source size, computed in batches.

    ``images``: PIL images, paths or ``helpers.load_image`` names. ``device``/``dtype`` default to the
    model's own; when given, the model is moved there in place (as ``model.to`` does). ``flip_tta``
    averages with the horizontally flipped input (ZoeDepth only). ``fixed_size=(h, w)`` resizes every
    input to one size so that mixed sizes batch together (this changes the results); see the module
    docstring. ``processor_kwargs`` go to every processor call (e.g. ``size={"height": 364, "width": 364}``).
    """
    results: list[np.ndarray | None] = [None] * len(images)
    for index, depth in iter_depth(model, processor, images, batch_size, device, dtype, fixed_size, flip_tta,
                                   processor_kwargs, progress):
        results[index] = depth
    return results  # type: ignore[return-value]


def list_images(folder: str | Path) -> list[Path]:
    """The image files directly inside ``folder``, sorted by name; other files and sub-folders are skipped.

    Only the suffix decides (.png, .jpg, .jpeg, .bmp, .tif, .tiff, .webp, any case); hidden files are
    skipped. A file with an image suffix that cannot be decoded raises a clear error later, when loaded.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder; give the folder that holds your images.")
    found = sorted(p for p in folder.iterdir()
                   if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES)
    if not found:
        raise FileNotFoundError(
            f"No images in {folder} (looked for {', '.join(IMAGE_SUFFIXES)}; sub-folders are not searched)."
        )
    return found


def output_paths(stems: Sequence[str], out_dir: str | Path, metric: bool) -> list[Path]:
    """The files ``predict_folder`` writes for these stems: ``<stem>.npy``, plus ``<stem>.png`` when ``metric``."""
    out_dir = Path(out_dir).expanduser()
    suffixes = (".npy", ".png") if metric else (".npy",)
    return [out_dir / f"{stem}{suffix}" for stem in stems for suffix in suffixes]


def predict_folder(
    model: Any,
    processor: Any,
    folder: str | Path,
    out_dir: str | Path | None = None,
    overwrite: bool = False,
    png_scale: float = 1000.0,  # helpers.depthio.DEPTH_PNG_SCALE: millimetres
    **kwargs: Any,
) -> dict[str, np.ndarray]:
    """Depth for every image in ``folder`` (``{file name: depth map}``), optionally written to ``out_dir``.

    Writes ``<stem>.npy`` (float32) for every model and a 16-bit ``<stem>.png`` of ``round(metres *
    png_scale)`` for metric models only (see the module docstring). Refuses, before running the model,
    to overwrite existing files unless ``overwrite=True``. Other keyword arguments go to ``predict_depth``.
    """
    from .depthio import save_depth_npy, save_depth_png16

    paths = list_images(folder)
    metric = is_metric_model(model)
    if out_dir is not None:
        out_dir = Path(out_dir).expanduser()
        if out_dir.resolve() == Path(folder).expanduser().resolve():
            raise ValueError("out_dir must differ from the image folder: the 16-bit PNGs would be read as inputs next time.")
        stems = [p.stem for p in paths]
        clashes = sorted({s for s in stems if stems.count(s) > 1})
        if clashes:
            raise ValueError(f"several images share a name stem ({', '.join(clashes)}), so their outputs would collide; rename them.")
        existing = [p for p in output_paths(stems, out_dir, metric) if p.exists()]
        if existing and not overwrite:
            listed = ", ".join(str(p) for p in existing[:5]) + (" ..." if len(existing) > 5 else "")
            raise FileExistsError(f"{len(existing)} output file(s) already exist ({listed}); pass overwrite=True "
                                  "to replace them, or choose another out_dir.")
    depths = predict_depth(model, processor, paths, **kwargs)
    if out_dir is not None:
        for path, depth in zip(paths, depths):
            save_depth_npy(out_dir / f"{path.stem}.npy", depth, overwrite=overwrite)
            if metric:
                save_depth_png16(out_dir / f"{path.stem}.png", depth, scale=png_scale, overwrite=overwrite)
    return {path.name: depth for path, depth in zip(paths, depths)}
