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
scale can make them a depth file, so they are stored as ``.npy`` only.

Resuming: each file is written under a temporary name and renamed when complete, so an interrupted
run never leaves a file that looks finished. Run ``predict_folder`` again and it computes only the
images whose files are missing; the others are read back, never recomputed. Existing files are
never overwritten unless ``overwrite=True`` (which recomputes everything).
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .data import load_image
from .depthio import save_depth_npy, save_depth_png16

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
    on_depth: Callable[[int, np.ndarray], Any] | None = None,
) -> list[np.ndarray]:
    """Post-processed float32 depth maps, one per image at its source size, computed in batches.

    ``images``: PIL images, paths or ``helpers.load_image`` names. ``device``/``dtype`` default to the
    model's own; when given, the model is moved there in place (as ``model.to`` does). ``flip_tta``
    averages with the horizontally flipped input (ZoeDepth only). ``fixed_size=(h, w)`` resizes every
    input to one size so that mixed sizes batch together (this changes the results); see the module
    docstring. ``processor_kwargs`` go to every processor call (e.g. ``size={"height": 364, "width": 364}``).
    ``on_depth(index, depth)`` is called as soon as each map is ready (batches finish in the order their
    shape fills up, not in input order), e.g. to save it at once so that an interrupted run keeps it.
    """
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
    results: list[np.ndarray | None] = [None] * len(images)

    def run(bucket: list[tuple[int, Any, tuple[int, int]]]) -> None:
        pixel_values = torch.cat([item[1] for item in bucket]).to(device=device, dtype=dtype)
        sizes = [item[2] for item in bucket]
        with torch.inference_mode():
            outputs = _as_float32_output(model(pixel_values=pixel_values))
            flipped = None
            if flip_tta:
                flipped = _as_float32_output(model(pixel_values=torch.flip(pixel_values, dims=[3])))
            post = _post_process(processor, outputs, sizes, flipped)
        for item, r in zip(bucket, post):
            results[item[0]] = r["predicted_depth"].float().cpu().numpy()
            if on_depth is not None:
                on_depth(item[0], results[item[0]])

    model.eval()
    buckets: dict[tuple[int, ...], list] = {}
    with tqdm(total=len(images), desc="depth", unit="image", disable=not progress) as bar:
        for index, source in enumerate(images):
            image = load_image(source)
            pixel_values = processor(images=image, return_tensors="pt", **call_kwargs)["pixel_values"]
            bucket = buckets.setdefault(tuple(pixel_values.shape), [])
            bucket.append((index, pixel_values, (image.height, image.width)))
            if len(bucket) == batch_size:
                run(buckets.pop(tuple(pixel_values.shape)))
                bar.update(batch_size)
        for bucket in buckets.values():  # the partly filled batches, one per input shape
            run(bucket)
            bar.update(len(bucket))
    return results  # type: ignore[return-value]


def depth_batch(batch: dict[str, Sequence[Any]], model: Any, processor: Any, image_column: str = "image",
                **options: Any) -> dict[str, list[np.ndarray]]:
    """``{"depth": maps}`` for one batch of rows given as columns, as 🤗 Datasets' ``map(batched=True)`` and
    Ray Data's ``map_batches`` pass them.

    The images (PIL images, ``H x W x 3`` uint8 arrays as Ray Data decodes them, or paths) go through
    ``predict_depth`` with ``options`` (``batch_size``, ``fixed_size``, ...), so the maps are exactly
    ``predict_depth``'s for the same images and options.
    """
    from PIL import Image

    if image_column not in batch:
        raise KeyError(f"the batch has no column {image_column!r} (it has {', '.join(batch)}); pass image_column=...")
    images = [Image.fromarray(np.asarray(x)) if isinstance(x, np.ndarray) else x for x in batch[image_column]]
    return {"depth": predict_depth(model, processor, images, **{"progress": False, **options})}


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


@dataclass(frozen=True)
class FolderResult:
    """What ``predict_folder`` did: every image's depth map, and which were computed now or skipped."""

    depths: dict[str, np.ndarray]  # by image file name, sorted: computed now, or read back from out_dir
    computed: list[str] = field(default_factory=list)  # file names run through the model in this call
    skipped: list[str] = field(default_factory=list)  # file names whose outputs were already there

    def __str__(self) -> str:
        return (f"{len(self.depths)} images: {len(self.computed)} computed, "
                f"{len(self.skipped)} skipped (their files were already there)")


def _write_atomically(path: Path, write: Callable[[Path], Any], overwrite: bool) -> None:
    """Write through ``write(temporary path)``, then rename: an interrupted write never looks complete."""
    partial = path.with_name(f".{path.name}.partial{path.suffix}")  # hidden; the same suffix for np.save
    try:
        write(partial)
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} appeared while this run was writing it; not overwritten.")
        os.replace(partial, path)  # atomic on one file system
    finally:
        partial.unlink(missing_ok=True)


def predict_folder(
    model: Any,
    processor: Any,
    folder: str | Path,
    out_dir: str | Path | None = None,
    overwrite: bool = False,
    png_scale: float = 1000.0,  # helpers.depthio.DEPTH_PNG_SCALE: millimetres
    **kwargs: Any,
) -> FolderResult:
    """Depth for every image in ``folder``, optionally written to ``out_dir`` as each batch finishes.

    Writes ``<stem>.npy`` (float32) for every model and a 16-bit ``<stem>.png`` of ``round(metres *
    png_scale)`` for metric models only (see the module docstring). Resumes: images whose files are all
    in ``out_dir`` already are read back from their ``.npy`` instead of being computed again, and existing
    files are never replaced unless ``overwrite=True``. Other keyword arguments go to ``predict_depth``.
    """
    paths = list_images(folder)
    metric = is_metric_model(model)
    todo = list(range(len(paths)))
    if out_dir is not None:
        out_dir = Path(out_dir).expanduser()
        if out_dir.resolve() == Path(folder).expanduser().resolve():
            raise ValueError("out_dir must differ from the image folder: the 16-bit PNGs would be read as inputs next time.")
        stems = [p.stem for p in paths]
        clashes = sorted({s for s in stems if stems.count(s) > 1})
        if clashes:
            raise ValueError(f"several images share a name stem ({', '.join(clashes)}), so their outputs would collide; rename them.")
        out_dir.mkdir(parents=True, exist_ok=True)
        if not overwrite:  # an image is done when all of its files exist (a file exists only once complete)
            todo = [i for i in todo if not all(p.exists() for p in output_paths([stems[i]], out_dir, metric))]
    skipped = sorted(set(range(len(paths))) - set(todo))  # all their files were already there

    def save(position: int, depth: np.ndarray) -> None:
        stem = paths[todo[position]].stem
        npy, png = out_dir / f"{stem}.npy", out_dir / f"{stem}.png"
        if overwrite or not npy.exists():
            _write_atomically(npy, lambda p: save_depth_npy(p, depth, overwrite=True), overwrite)
        if metric and (overwrite or not png.exists()):
            _write_atomically(png, lambda p: save_depth_png16(p, depth, scale=png_scale, overwrite=True), overwrite)

    computed = predict_depth(model, processor, [paths[i] for i in todo],
                             on_depth=save if out_dir is not None else None, **kwargs)
    depths = dict(zip(todo, computed))
    depths.update({i: np.load(out_dir / f"{paths[i].stem}.npy") for i in skipped})
    return FolderResult(depths={paths[i].name: depths[i] for i in range(len(paths))},
                        computed=[paths[i].name for i in todo], skipped=[paths[i].name for i in skipped])
