"""int8 quantization of an exported ONNX file: dynamic (ONNX Runtime) and static, calibrated on real photos.

- ``quantize_int8(path)``: ONNX Runtime's dynamic int8 quantization (int8 weights, activations quantized
  on the fly), written next to the float file.
- ``calibration_set(processor, images)`` and ``quantize_static_int8(path, calibration, runtime)``: static
  (post-training) int8 quantization with a calibration set of real images prepared by the model's own
  processor: OpenVINO through NNCF (an OpenVINO IR, ``.xml`` + ``.bin``) or ONNX Runtime's QDQ format (an
  ``.onnx``).

Each result records the float file's identity (and the calibration set's) and follows the export's rules
(``helpers.onnx_identity``): reused when they match, refused otherwise, never overwritten unless ``overwrite=True``.
The runtimes of ``helpers.deploy`` run the results. Heavy libraries are imported inside the functions that need them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np

from .batch import image_at, model_input
from .onnx_identity import (IDENTITY_KEYS, INPUT_NAME, META_PREFIX, OnnxExport, check_onnx, existing_metadata,
                            identity_mismatch, onnx_metadata, read_ir_metadata, read_metadata, staged_file)
from .outputs import writable_folder


# ------------------------------------------------------------------------------------------------ int8

def quantize_int8(path: str | Path, out: str | Path | None = None, overwrite: bool = False) -> OnnxExport:
    """ONNX Runtime's dynamic int8 quantization of ``path`` (int8 weights; activations quantized at run time).

    Writes ``<name>.int8.onnx`` beside it by default; reuses a valid earlier result of the same file, never
    overwrites anything else unless ``overwrite=True``.
    """
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    path = Path(path)
    source = onnx_metadata(check_onnx(path))  # the full check: quantization reads every node
    out = Path(out) if out is not None else path.with_name(path.stem + ".int8.onnx")
    if out.resolve() == path.resolve():
        raise ValueError(f"out must differ from the float file {path}.")
    wanted = {k: source.get(k, "") for k in IDENTITY_KEYS}
    if out.exists() and not overwrite:
        found = existing_metadata(out)
        if found.get("quantized") != "int8 dynamic" or identity_mismatch(found, wanted):
            raise FileExistsError(f"{out} exists but is not the int8 quantization of {path.name}. It was left "
                                  "alone: pass overwrite=True to replace it, or choose another path.")
        return OnnxExport(out, reused=True, seconds=0.0, source=found.get("source", ""))
    writable_folder(out.parent, "the int8 file's folder")
    started = time.perf_counter()
    with staged_file(out) as staged:
        logging.disable(logging.WARNING)  # its advice to pre-process first goes to the root logger, on stderr
        try:
            quantize_dynamic(str(path), str(staged), weight_type=QuantType.QInt8)
        finally:
            logging.disable(logging.NOTSET)
        model = onnx.load(str(staged))
        del model.metadata_props[:]
        for key, value in {**source, "quantized": "int8 dynamic"}.items():
            model.metadata_props.add(key=META_PREFIX + key, value=value)
        onnx.save(model, str(staged))
    return OnnxExport(out, reused=False, seconds=time.perf_counter() - started, source=source.get("source", ""))


# ----------------------------------------------------------------------------------------- static int8

STATIC_METHODS = {"openvino": "int8 static (NNCF)", "onnxruntime": "int8 static (QDQ)"}  # runtime -> metadata


def calibration_images(images: Any) -> list:
    """The calibration images as a list: a folder's images (sorted by name: ``list_images``), a list, or one image."""
    from .batch import list_images

    if isinstance(images, (str, os.PathLike)) and Path(images).expanduser().is_dir():
        return list_images(images)
    if isinstance(images, (str, os.PathLike)) or not isinstance(images, Sequence):
        return [images]
    return list(images)


def calibration_set(processor: Any, images: Any, limit: int | None = None) -> list[np.ndarray]:
    """``pixel_values`` of each calibration image, prepared by the model's own processor as ``predict_depth`` does.

    ``images``: a folder (its images, sorted by name: ``list_images``) or a list of images (files, URLs, PIL
    images, arrays); ``limit`` keeps the first ones. Real photos like the ones the model will see, never noise:
    calibration measures the range of every activation on them.
    """
    images = calibration_images(images)[:limit]
    if not images:
        raise ValueError("No calibration images: give a few photos like the ones the model will see "
                         "(a list of files or images, or a folder).")
    return [model_input(processor, image_at(images, index))[0].numpy() for index in range(len(images))]


def _checked_calibration(calibration: Any, multiple: int, name: str) -> list[np.ndarray]:
    """The calibration inputs as float32 arrays, or a clear error for an empty set or an input that does not fit."""
    samples = [] if calibration is None else list(calibration)
    if not samples:
        raise ValueError(f"The calibration set for {name} is empty: static int8 quantization measures the range of "
                         "every activation on real inputs, so it needs at least one. Prepare a few photos with the "
                         "model's own processor: helpers.calibration_set(processor, images).")
    checked = []
    for index, sample in enumerate(samples):
        array = sample.detach().cpu().numpy() if hasattr(sample, "detach") else sample
        shape = getattr(array, "shape", None)
        fits = (isinstance(array, np.ndarray) and np.issubdtype(array.dtype, np.floating) and array.ndim == 4
                and shape[0] == 1 and shape[1] == 3 and shape[2] >= multiple and shape[3] >= multiple
                and not shape[2] % multiple and not shape[3] % multiple)
        if not fits:
            what = f"shape {tuple(shape)}, {array.dtype}" if isinstance(array, np.ndarray) else _describe_value(sample)
            raise ValueError(f"Calibration input {index} ({what}) does not fit {name}: it takes pixel_values of shape "
                             f"(1, 3, height, width), float, height and width multiples of {multiple}. Prepare the "
                             "images with the model's own processor: helpers.calibration_set(processor, images).")
        if not np.isfinite(array).all():
            raise ValueError(f"Calibration input {index} holds NaN or infinite values: {name} cannot be calibrated "
                             "on it. Prepare the images with helpers.calibration_set(processor, images).")
        checked.append(np.ascontiguousarray(array, dtype=np.float32))
    return checked


def _describe_value(value: Any) -> str:
    """A short description of a value that is not an array: its type (and size for an image)."""
    size = getattr(value, "size", None)
    return f"{type(value).__name__} {size}" if isinstance(size, tuple) else type(value).__name__


def calibration_hash(calibration: Sequence[np.ndarray]) -> str:
    """SHA-256 of a calibration set (each input's shape and bytes, in order): which images a quantized file saw."""
    digest = hashlib.sha256()
    for array in calibration:
        array = np.ascontiguousarray(array, dtype=np.float32)
        digest.update(f"{array.shape};".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def default_static_path(path: Path, runtime: str) -> Path:
    """``<name>.int8-static.xml`` (OpenVINO IR) or ``<name>.int8-qdq.onnx`` (ONNX Runtime) beside the float file."""
    return path.with_name(path.stem + (".int8-static.xml" if runtime == "openvino" else ".int8-qdq.onnx"))


def quantize_static_int8(path: str | Path, calibration: Sequence[Any], runtime: Literal["openvino", "onnxruntime"] = "openvino",
                         out: str | Path | None = None, overwrite: bool = False) -> OnnxExport:
    """Static int8 quantization of the float ONNX file ``path``, calibrated on ``calibration`` (``calibration_set``).

    ``runtime="openvino"``: NNCF's post-training quantization with ``model_type=TRANSFORMER`` (matrix
    multiplications in int8; LayerNorm, Softmax and GELU stay in float), saved as an OpenVINO IR. ``"onnxruntime"``:
    ONNX Runtime's static QDQ quantization of MatMul, Gemm and Conv (uint8 activations, int8 weights per channel).
    An existing result of the same float file and calibration set is reused; anything else is left alone with a clear
    error unless ``overwrite=True``.
    """
    if runtime not in STATIC_METHODS:
        raise ValueError(f"runtime must be one of {sorted(STATIC_METHODS)}, not {runtime!r}.")
    path = Path(path)
    source = onnx_metadata(check_onnx(path))
    multiple = int(source.get("size_multiple", 1))
    samples = _checked_calibration(calibration, multiple, path.name)
    out = Path(out) if out is not None else default_static_path(path, runtime)
    if out.suffix != (".xml" if runtime == "openvino" else ".onnx"):
        raise ValueError(f"{out}: the {runtime} result needs the suffix {'.xml' if runtime == 'openvino' else '.onnx'}.")
    if out.resolve() == path.resolve():
        raise ValueError(f"out must differ from the float file {path}.")
    method = STATIC_METHODS[runtime]
    wanted = {**{k: source.get(k, "") for k in IDENTITY_KEYS}, "calibration_sha256": calibration_hash(samples)}
    if out.exists() and not overwrite:
        try:
            found = read_ir_metadata(out) if runtime == "openvino" else read_metadata(out)
        except (OSError, ValueError) as err:
            raise FileExistsError(f"{out} exists but is not usable ({err}). It was left alone: pass overwrite=True "
                                  "to replace it, or choose another path.") from None
        if found.get("quantized") != method or identity_mismatch(found, wanted):
            raise FileExistsError(f"{out} exists but is not the {method} quantization of {path.name}. It was left "
                                  "alone: pass overwrite=True to replace it, or choose another path.")
        if found.get("calibration_sha256") != wanted["calibration_sha256"]:
            raise FileExistsError(f"{out} was calibrated on other images ({found.get('calibration_images', '?')} of "
                                  f"them; this set has {len(samples)}). It was left alone: pass overwrite=True to "
                                  "quantize again with this set, or choose another path.")
        return OnnxExport(out, reused=True, seconds=0.0, source=found.get("source", ""))
    writable_folder(out.parent, "the int8 file's folder")
    metadata = {**source, **wanted, "quantized": method, "calibration_images": str(len(samples))}
    started = time.perf_counter()
    if runtime == "openvino":
        _quantize_nncf(path, out, samples, metadata)
    else:
        _quantize_qdq(path, out, samples, metadata)
    return OnnxExport(out, reused=False, seconds=time.perf_counter() - started, source=source.get("source", ""))


@contextlib.contextmanager
def _quiet_nncf():
    """NNCF without its progress bars and INFO lines (they would fill a notebook cell)."""
    import logging

    logging.disable(logging.WARNING)  # torch's 'No CUDA runtime' line when NNCF is imported, NNCF's INFO lines
    try:
        from nncf.common.logging import track_progress

        original = track_progress.track.__init__

        def silent(self, *args, **kwargs):
            kwargs["disable"] = True
            original(self, *args, **kwargs)

        track_progress.track.__init__ = silent
        try:
            yield
        finally:
            track_progress.track.__init__ = original
    finally:
        logging.disable(logging.NOTSET)


def _quantize_nncf(path: Path, out: Path, samples: list[np.ndarray], metadata: dict[str, str]) -> None:
    import openvino as ov

    with _quiet_nncf():
        import nncf

        model = ov.Core().read_model(str(path))
        quantized = nncf.quantize(model, nncf.Dataset(samples), model_type=nncf.ModelType.TRANSFORMER,
                                  subset_size=len(samples))
    for key, value in metadata.items():
        quantized.set_rt_info(value, [META_PREFIX.rstrip("."), key])
    with staged_file(out, companions=(".bin",)) as staged:
        ov.save_model(quantized, str(staged), compress_to_fp16=False)  # float layers stay float32


def _quantize_qdq(path: Path, out: Path, samples: list[np.ndarray], metadata: dict[str, str]) -> None:
    import logging

    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.inputs = iter(samples)

        def get_next(self):
            sample = next(self.inputs, None)
            return None if sample is None else {INPUT_NAME: sample}

    with staged_file(out) as staged:
        logging.disable(logging.WARNING)  # its advice to pre-process first goes to the root logger, on stderr
        try:
            quantize_static(str(path), str(staged), Reader(), quant_format=QuantFormat.QDQ,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True,
                            op_types_to_quantize=["MatMul", "Gemm", "Conv"])
        finally:
            logging.disable(logging.NOTSET)
        model = onnx.load(str(staged))
        del model.metadata_props[:]
        for key, value in metadata.items():
            model.metadata_props.add(key=META_PREFIX + key, value=value)
        onnx.save(model, str(staged))
