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
images whose files are missing; the others are read back, never recomputed. A file that is there but
cannot be read back (empty, truncated, e.g. by an interrupted copy of the folder) is not taken as
finished: a printed notice names it, and its image is computed again and the file replaced. Other
existing files are never overwritten unless ``overwrite=True`` (which recomputes everything).

Errors name their file, and what can be known before any model work is checked first: ``out_dir``
(``helpers.outputs.writable_folder``: not a file, writable) and every image still to compute (it opens
as an image within ``max_pixels``; ``helpers.images``).
"""

from __future__ import annotations

import contextlib
import inspect
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from .data import load_image
from .depthio import save_depth_npy, save_depth_png16
from .images import IMAGE_SUFFIXES, MAX_PIXELS, as_rgb_image, check_image_file, describe, refuse_bgr
from .outputs import os_error, writable_folder


def is_metric_model(model: Any) -> bool:
    """True when the model outputs metric depth in metres (ZoeDepth, Depth Anything V2 Metric)."""
    config = model.config
    return config.model_type == "zoedepth" or getattr(config, "depth_estimation_type", "relative") == "metric"


MIN_SIDE = 8  # pixels: a shorter side is stretched up to this for the model (ZoeDepth's reflect padding needs 5)


def _size_entry(size: Any, key: str) -> int | None:
    value = size.get(key) if isinstance(size, dict) else getattr(size, key, None)
    return int(value) if value else None


def processor_input_size(processor: Any, height: int, width: int, processor_kwargs: dict | None = None) -> tuple[int, int]:
    """The (height, width) an image is handed to the processor at: its own size, or for a degenerate one, stretched.

    An image under ``MIN_SIDE`` pixels on a side, or thinner than the processor can take, is stretched along its
    short side. Processors that keep the aspect ratio while resizing to ``size`` in multiples of
    ``ensure_multiple_of`` (DPT, Depth Anything, ZoeDepth) round a side to zero when the image is thinner than about
    1 : (longest target side / multiple / 2); the limit used here keeps a factor of two to spare: 1 : 37 for Depth
    Anything (518 / 14), 1 : 16 for ZoeDepth (512 / 32). Every other image is handed over as it is.
    """
    kwargs = processor_kwargs or {}
    limit = math.inf
    if kwargs.get("keep_aspect_ratio", getattr(processor, "keep_aspect_ratio", False)):
        size = kwargs.get("size", getattr(processor, "size", None))
        longest = max(filter(None, (_size_entry(size, "height"), _size_entry(size, "width"))), default=None)
        multiple = kwargs.get("ensure_multiple_of", getattr(processor, "ensure_multiple_of", None)) or 1
        if longest:
            limit = max(longest / multiple, 1.0)
    return (max(height, MIN_SIDE, math.ceil(width / limit)), max(width, MIN_SIDE, math.ceil(height / limit)))


class ModelInput(NamedTuple):
    """One image prepared for the model: its ``pixel_values`` and the (height, width) the processor was given."""

    pixel_values: Any  # a torch tensor (1, 3, H, W)
    given: tuple[int, int]


def model_input(processor: Any, image: Any, processor_kwargs: dict | None = None) -> ModelInput:
    """``pixel_values`` (a torch tensor) for one RGB PIL image, and the (height, width) the processor was given.

    That size is the image's own, except for a degenerate image (``processor_input_size``), which is stretched
    (bilinear) first; ``depth_maps`` brings its map back to the image's size.
    """
    from PIL import Image

    given = processor_input_size(processor, image.height, image.width, processor_kwargs)
    if given != (image.height, image.width):
        image = image.resize((given[1], given[0]), Image.Resampling.BILINEAR)
    pixel_values = processor(images=image, return_tensors="pt", **(processor_kwargs or {}))["pixel_values"]
    return ModelInput(pixel_values, given)


def depth_maps(processor: Any, outputs: Any, given: list[tuple[int, int]], sizes: list[tuple[int, int]],
               outputs_flipped: Any = None) -> list:
    """Post-process a batch (``model_input``'s sizes ``given``) into one (height, width) float map per image at ``sizes``.

    The processor's own post-processing (ZoeDepth needs ``source_sizes``, DPT-style models ``target_sizes``) brings
    each map to the size the processor was given; a stretched image's map is then shrunk back (area averaging).
    """
    import torch

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
        kwargs["source_sizes"] = given
    else:
        kwargs["target_sizes"] = given
    maps = []
    for result, at, size in zip(processor.post_process_depth_estimation(outputs, **kwargs), given, sizes):
        depth = result["predicted_depth"].float().reshape(at)  # DPT's post-processing squeezes a 1-pixel side away
        if at != tuple(size):
            depth = torch.nn.functional.interpolate(depth[None, None], size=tuple(size), mode="area")[0, 0]
        maps.append(depth)
    return maps


def _as_float32_output(outputs: Any) -> Any:
    """Post-processing interpolates in float32: cast a half-precision ``predicted_depth`` back."""
    outputs["predicted_depth"] = outputs["predicted_depth"].float()
    return outputs


def image_at(images: Sequence[Any], index: int, *, bgr: bool = False, max_pixels: int | None = MAX_PIXELS) -> Any:
    """``images[index]`` as an RGB PIL image (``helpers.images``): files, names and URLs through ``load_image``; an
    image in memory is named ``images[index]`` in errors."""
    source = images[index]
    if isinstance(source, (str, os.PathLike)):
        return load_image(source, bgr=bgr, max_pixels=max_pixels)
    return as_rgb_image(source, bgr=bgr, max_pixels=max_pixels, label=f"images[{index}] ({describe(source)})")


class Pending(NamedTuple):
    """An image prepared for the model and waiting for its batch in ``predict_depth``."""

    index: int  # its position in the list of images
    pixel_values: Any  # the processor's output, (1, 3, H, W)
    size: tuple[int, int]  # (height, width) of the image: its map comes back at this size
    given: tuple[int, int]  # (height, width) the processor was given (``model_input``)


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
    bgr: bool = False,
    max_pixels: int | None = MAX_PIXELS,
) -> list[np.ndarray]:
    """Post-processed float32 depth maps, one per image at its displayed size, computed in batches.

    ``images``: paths, ``helpers.load_image`` names or URLs, PIL images, NumPy arrays (``bgr=True`` for
    OpenCV's), as ``helpers.images`` says; ``max_pixels`` refuses larger images (None: no limit). Each map is
    (height, width) of the image as displayed (EXIF orientation applied), whatever its shape.
    ``device``/``dtype`` default to the model's own; when given, the model is moved there in place (as
    ``model.to`` does). ``flip_tta``
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

    def run(bucket: list[Pending]) -> None:
        pixel_values = torch.cat([item.pixel_values for item in bucket]).to(device=device, dtype=dtype)
        with torch.inference_mode():
            outputs = _as_float32_output(model(pixel_values=pixel_values))
            flipped = None
            if flip_tta:
                flipped = _as_float32_output(model(pixel_values=torch.flip(pixel_values, dims=[3])))
            maps = depth_maps(processor, outputs, [item.given for item in bucket], [item.size for item in bucket], flipped)
        for item, depth in zip(bucket, maps):
            results[item.index] = depth.cpu().numpy()
            if on_depth is not None:
                on_depth(item.index, results[item.index])

    model.eval()
    buckets: dict[tuple[int, ...], list[Pending]] = {}  # input shape -> images waiting for a batch
    with tqdm(total=len(images), desc="depth", unit="image", disable=not progress) as bar:
        for index, source in enumerate(images):
            image = image_at(images, index, bgr=bgr, max_pixels=max_pixels)
            pixel_values, given = model_input(processor, image, call_kwargs)
            bucket = buckets.setdefault(tuple(pixel_values.shape), [])
            bucket.append(Pending(index, pixel_values, (image.height, image.width), given))
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

    The images (PIL images, ``H x W x 3`` uint8 arrays as Ray Data decodes them, paths: anything
    ``helpers.images`` allows) go through ``predict_depth`` with ``options`` (``batch_size``, ``fixed_size``,
    ``bgr``, ...), so the maps are exactly ``predict_depth``'s for the same images and options.
    """
    if image_column not in batch:
        raise KeyError(f"the batch has no column {image_column!r} (it has {', '.join(batch)}); pass image_column=...")
    images = list(batch[image_column])
    return {"depth": predict_depth(model, processor, images, **{"progress": False, **options})}


def list_images(folder: str | Path) -> list[Path]:
    """The image files directly inside ``folder``, sorted by name; other files and sub-folders are skipped.

    Only the suffix decides (.png, .jpg, .jpeg, .bmp, .tif, .tiff, .webp, any case); hidden files are
    skipped. A file with an image suffix that cannot be decoded raises a clear error later, when loaded.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder; give the folder that holds your images.")
    try:
        found = sorted(p for p in folder.iterdir()
                       if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES)
    except OSError as err:
        raise os_error(err, f"could not list the images in {folder}") from None
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
        try:
            write(partial)
        except OSError as err:
            raise os_error(err, f"could not write {path}") from None
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} appeared while this run was writing it; not overwritten.")
        try:
            os.replace(partial, path)  # atomic on one file system
        except OSError as err:
            raise os_error(err, f"could not write {path}") from None
    finally:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)


class Unreadable(NamedTuple):
    """An output file that is there but cannot be read back, and why."""

    path: Path
    why: str


class ReadBack(NamedTuple):
    """An image's finished outputs read back: its depth map (None unless every file could be read) and the files
    that could not."""

    depth: np.ndarray | None
    unreadable: list[Unreadable]


def read_back(files: Sequence[Path]) -> ReadBack:
    """An image's finished outputs read back: ``ReadBack(depth from the .npy, [])`` when every file can be read, else
    ``ReadBack(None, [Unreadable(file, why), ...])``; an empty, truncated or foreign file is not taken as finished."""
    from PIL import Image

    depth, unreadable = None, []
    for path in files:
        try:
            if path.suffix == ".npy":
                depth = np.load(path)
                if depth.ndim != 2 or not np.issubdtype(depth.dtype, np.floating):
                    unreadable.append(Unreadable(path, f"it holds a {depth.dtype} array of shape {depth.shape}, not a depth map"))
            else:
                with Image.open(path) as png:
                    png.load()
        except (OSError, ValueError, EOFError, SyntaxError) as err:
            reason = "it is empty" if path.exists() and path.stat().st_size == 0 else f"{type(err).__name__}: {err}"
            unreadable.append(Unreadable(path, reason))
    return ReadBack(None if unreadable else depth, unreadable)


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
    in ``out_dir`` and can be read are read back from their ``.npy`` instead of being computed again; a
    file that is there but cannot be read (empty, truncated) is announced, computed again and replaced.
    Other files are never replaced unless ``overwrite=True``. Before any model work: ``out_dir`` must be a
    folder you can write to, and every image to compute must open as an image within ``max_pixels``.
    Other keyword arguments go to ``predict_depth``.
    """
    paths = list_images(folder)
    refuse_bgr(kwargs.get("bgr", False), f"{folder} (a folder of image files)")
    metric = is_metric_model(model)
    finished: dict[int, np.ndarray] = {}
    replace: set[Path] = set()  # files found unreadable: written again although they exist
    if out_dir is not None:
        out_dir = Path(out_dir).expanduser()
        if out_dir.resolve() == Path(folder).expanduser().resolve():
            raise ValueError("out_dir must differ from the image folder: the 16-bit PNGs would be read as inputs next time.")
        stems = [p.stem for p in paths]
        clashes = sorted({s for s in stems if stems.count(s) > 1})
        if clashes:
            raise ValueError(f"several images share a name stem ({', '.join(clashes)}), so their outputs would collide; rename them.")
        writable_folder(out_dir, "out_dir")
        for i, stem in enumerate([] if overwrite else stems):  # done: all of its files exist and can be read
            files = output_paths([stem], out_dir, metric)
            if not all(f.exists() for f in files):
                continue
            depth, unreadable = read_back(files)
            for path, why in unreadable:
                print(f"[helpers] {path} cannot be read back ({why}), so it is not taken as finished: "
                      f"{paths[i].name} is computed again and the file replaced.")
                replace.add(path)
            if depth is not None:
                finished[i] = depth
    todo = [i for i in range(len(paths)) if i not in finished]
    for i in todo:  # a file that is not an image, or too large, is named now rather than after other images' work
        check_image_file(paths[i], kwargs.get("max_pixels", MAX_PIXELS))

    def save(position: int, depth: np.ndarray) -> None:
        stem = paths[todo[position]].stem
        writers = [(out_dir / f"{stem}.npy", lambda p: save_depth_npy(p, depth, overwrite=True))]
        if metric:
            writers.append((out_dir / f"{stem}.png", lambda p: save_depth_png16(p, depth, scale=png_scale, overwrite=True)))
        for path, write in writers:
            if overwrite or path in replace or not path.exists():
                _write_atomically(path, write, overwrite or path in replace)

    computed = predict_depth(model, processor, [paths[i] for i in todo],
                             on_depth=save if out_dir is not None else None, **kwargs)
    depths = {**finished, **dict(zip(todo, computed))}
    return FolderResult(depths={paths[i].name: depths[i] for i in range(len(paths))},
                        computed=[paths[i].name for i in todo], skipped=[paths[i].name for i in sorted(finished)])
