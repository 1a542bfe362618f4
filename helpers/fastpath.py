"""The fastest way this machine has to run a depth checkpoint, chosen once and reused: for the app and for video.

Notebook 08 teaches each step (export, static int8 with a calibration set, OpenVINO compiled per input size);
``fastest_runtime(model, processor)`` chains them for the places where a person waits:

1. a GPU present: PyTorch on the GPU (float32), nothing exported;
2. else, with OpenVINO installed: ``export_onnx`` once (reused by its identity rules), ``quantize_static_int8`` once
   with a calibration set (the bundled photos, or your folder), compiled by OpenVINO per input size
   (``static_shapes=True``), bfloat16 for the layers left in float where the CPU has BF16 (AVX-512 BF16 or AMX),
   float32 elsewhere; on a CPU without int8 dot-product units (no VNNI or AMX: most AVX2-only CPUs) int8 gains
   little, so OpenVINO in float, exact up to rounding; if the int8 step fails, OpenVINO in float too; if the export
   fails (ZoeDepth's), eager PyTorch;
3. every fallback says why in one line (``FastDepth.reason``).

It measures its accuracy cost once, against float32 PyTorch on the first calibration photo
(``FastDepth.max_relative_difference``); with a stand-in (random weights) that number means nothing, and
``describe()`` says so. Call the result like ``predict_depth``'s core: a list of images in, a list of maps out.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .paths import data_path

BUNDLED_PHOTOS = ("coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png")  # real photos in data/
Progress = Callable[[float, str], Any]  # progress(fraction done, what is happening now)


@dataclass
class FastDepth:
    """A depth runtime chosen by ``fastest_runtime``: call it on a list of images to get their depth maps."""

    runtime: str  # what runs, e.g. "OpenVINO int8 (static, NNCF) + bf16" or "PyTorch float32 (eager)"
    reason: str  # why this one: the machine's choice, or the one-line reason of a fallback
    model: Any = field(repr=False)
    processor: Any = field(repr=False)
    compiled: Any = field(default=None, repr=False)  # the OnnxDepthModel, or None for PyTorch
    files: tuple[Path, ...] = ()  # the exported / quantized files it runs from
    reused: bool = False  # every file came from an earlier run (nothing exported or quantized now)
    max_relative_difference: float | None = None  # against float32 PyTorch on the check photo; None: it is float32
    stand_in: bool = False

    @property
    def exact(self) -> bool:
        """True when it computes what float32 PyTorch computes (no int8, no bfloat16)."""
        return self.compiled is None

    def __call__(self, images: Sequence[Any]) -> list[np.ndarray]:
        """Float32 depth maps at each image's displayed size, as ``helpers.predict_depth`` returns them."""
        images = list(images)
        if self.compiled is None:
            from .batch import predict_depth

            return predict_depth(self.model, self.processor, images, progress=False)
        from .deploy import predict_onnx

        return [np.asarray(depth, dtype=np.float32) for depth in predict_onnx(self.compiled, self.processor, images)]

    def describe(self) -> str:
        """One line for a person: what runs, why, and what it costs in accuracy."""
        line = f"{self.runtime}: {self.reason}"
        if self.max_relative_difference is not None:
            line += f"; max relative difference to float32 {100 * self.max_relative_difference:.3g} %"
            if self.stand_in:
                line += " (random weights of a stand-in: the difference means nothing for real weights)"
        return line + "."


def _say(progress: Progress | None, fraction: float, message: str) -> None:
    if progress is not None:
        progress(fraction, message)


def _eager(model: Any, processor: Any, reason: str, stand_in: bool, device: str = "cpu") -> FastDepth:
    model.to(device)
    where = "" if device == "cpu" else f" on {device}"
    return FastDepth(f"PyTorch float32 (eager){where}", reason, model, processor, stand_in=stand_in)


def int8_pays_on_this_cpu() -> bool:
    """True when the CPU has int8 dot-product units (VNNI, AVX-VNNI or AMX): only then does static int8 beat OpenVINO's
    float32 (notebook 08; without them int8 multiplies barely faster than float32 and OpenVINO's int8 layers fall back
    to a general kernel)."""
    from .machine import cpu_features

    features = cpu_features()
    return bool(features.get("VNNI") or features.get("AMX"))


def bf16_on_this_cpu() -> bool:
    """True when the CPU computes bfloat16 in hardware (AVX-512 BF16 or AMX): OpenVINO's bf16 is then fast."""
    from .machine import cpu_features

    features = cpu_features()
    return bool(features.get("BF16") or features.get("AMX"))


def fastest_runtime(model: Any, processor: Any, calibration: Any = None, progress: Progress | None = None,
                    folder: str | Path | None = None) -> FastDepth:
    """The fastest runtime this machine has for ``model``, built once (later calls reuse the files), with its cost.

    ``calibration``: photos like the ones the model will see (a folder or a list; default: the bundled photos);
    ``folder``: where the exported and quantized files go (default: ``build/onnx/``). ``progress(fraction, message)``
    hears each step, so a caller can show it: the first call exports and quantizes (a minute or more for a
    full-size model on two cores), later calls only compile.
    """
    import torch

    from .deploy import default_onnx_path, export_onnx, max_relative_difference, openvino_model
    from .onnx_identity import error_line
    from .quantize import calibration_hash, calibration_images, calibration_set, quantize_static_int8
    from .standins import is_stand_in

    stand_in = is_stand_in(model)
    model.eval()
    if torch.cuda.is_available():
        return _eager(model, processor, "a GPU is present, and PyTorch on it is the fast path", stand_in, "cuda")
    if importlib.util.find_spec("openvino") is None:
        return _eager(model, processor, "OpenVINO is not installed (pip install openvino nncf)", stand_in)
    model.to("cpu")
    photos = [data_path(name) for name in BUNDLED_PHOTOS] if calibration is None else calibration_images(calibration)
    onnx_path = default_onnx_path(model) if folder is None else Path(folder) / default_onnx_path(model).name
    _say(progress, 0.05, f"exporting to ONNX once ({onnx_path.name})")
    try:
        export = export_onnx(model, onnx_path)
    except Exception as err:  # ZoeDepth's data-dependent export, a read-only folder, ...
        return _eager(model, processor, f"no ONNX export ({error_line(err)})", stand_in)
    _say(progress, 0.35, "preparing the calibration photos")
    try:
        samples = calibration_set(processor, photos)
    except Exception as err:  # an empty or unreadable calibration folder
        return _eager(model, processor, f"no calibration set ({error_line(err)})", stand_in)
    precision = "bf16" if bf16_on_this_cpu() else "f32"
    # the calibration set's hash in the name: another folder of photos gets its own file instead of a refusal
    int8_path = export.path.with_name(f"{export.path.stem}.int8-static-{calibration_hash(samples)[:8]}.xml")
    files: tuple[Path, ...] = (export.path,)
    reused = export.reused
    if not int8_pays_on_this_cpu():
        source, runtime = export.path, f"OpenVINO {precision}"
        reason = ("the fastest option on this CPU: it has no int8 dot-product units (VNNI or AMX), so int8 would "
                  "gain little")
    else:
        _say(progress, 0.45, f"quantizing to int8 once, calibrated on {len(samples)} photos (NNCF)")
        try:
            quantized = quantize_static_int8(export.path, samples, runtime="openvino", out=int8_path)
            source, runtime = quantized.path, f"OpenVINO int8 (static, NNCF) + {precision}"
            files += (quantized.path,)
            reused = reused and quantized.reused
            reason = "the fastest option on this CPU" + ("" if precision == "bf16"
                                                          else " (no BF16: float layers in f32)")
        except Exception as err:  # NNCF missing or failing: OpenVINO in float is still faster than eager
            source, runtime = export.path, f"OpenVINO {precision}"
            reason = f"no int8 ({error_line(err)})"
    _say(progress, 0.8, f"compiling for this CPU ({runtime})")
    try:
        compiled = openvino_model(source, precision=precision, static_shapes=True)
    except Exception as err:
        return _eager(model, processor, f"OpenVINO could not compile it ({error_line(err)})", stand_in)
    fast = FastDepth(runtime, reason, model, processor, compiled, files, reused, stand_in=stand_in)
    _say(progress, 0.9, "measuring the accuracy cost against float32 on one photo")
    check_photo = photos[0]  # the cost is measured on the first calibration photo (calibration_set refused none)
    reference = _eager(model, processor, "", stand_in)([check_photo])[0]
    fast.max_relative_difference = max_relative_difference(fast([check_photo])[0], reference)
    _say(progress, 1.0, fast.describe())
    return fast
