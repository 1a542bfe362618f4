"""Deploying a depth model on a CPU: ONNX export, ONNX Runtime and OpenVINO sessions, int8 quantization.

The flow of notebook 08, in small steps:

- ``export_onnx(model)`` writes ``build/onnx/<name>.onnx`` with the dynamo exporter
  (``torch.onnx.export(..., dynamo=True)``), with dynamic batch, height and width, so that one file takes
  every input size the image processor produces. It records where the weights came from (the checkpoint or
  stand-in id, a hash of the config and one of the weights) in the file's ``metadata_props``: a file that is
  already there is reused when it was exported from the same model, refused otherwise, and never
  overwritten unless ``overwrite=True``.
- ``check_onnx(path)`` loads and checks a file: clear errors for a missing or corrupt file.
- ``onnx_session(path, threads)`` (ONNX Runtime) and ``openvino_model(path, precision, threads, static_shapes)``
  (OpenVINO)
  return an :class:`OnnxDepthModel`: call it on ``pixel_values`` (a NumPy array) to get ``predicted_depth``;
  it refuses, with a clear message, an input size the file cannot take (e.g. not a multiple of 14).
- ``predict_onnx(runtime, processor, image)``: the same processor, the runtime instead of the PyTorch model,
  the same ``post_process_depth_estimation`` (the runtime's array is wrapped in transformers'
  ``DepthEstimatorOutput``, which is what the processor expects).
- ``quantize_int8(path)``: ONNX Runtime's dynamic int8 quantization (int8 weights, activations quantized
  on the fly), written next to the float file.
- ``calibration_set(processor, images)`` and ``quantize_static_int8(path, calibration, runtime)``: static
  (post-training) int8 quantization with a calibration set of real images prepared by the model's own
  processor: OpenVINO through NNCF (an OpenVINO IR, ``.xml`` + ``.bin``) or ONNX Runtime's QDQ format (an
  ``.onnx``). Both record the float file's identity and the calibration set's, and follow the export's rules:
  reused when they match, refused otherwise, never overwritten unless ``overwrite=True``.

What the CPU can do (AVX2, AVX-512, VNNI, BF16, AMX) is ``helpers.machine``'s job.

Heavy libraries (torch, onnx, onnxruntime, openvino) are imported inside the functions that need them.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np

from .batch import depth_maps, image_at, model_input
from .images import MAX_PIXELS
from .outputs import os_error, writable_folder
from .recent import RecentlyUsed
from .standins import MARKER, is_stand_in
from .paths import build_dir

META_PREFIX = "depth_tutorials."
INPUT_NAME, OUTPUT_NAME = "pixel_values", "predicted_depth"


# ------------------------------------------------------------------------------------------- identity of a model

def model_source(model: Any) -> str:
    """Where the weights came from: the Hub id, or 'STAND-IN for <id> (tiny|full-size, random weights)'."""
    path = str(getattr(model, "name_or_path", "") or getattr(model.config, "_name_or_path", ""))
    if is_stand_in(path):
        marker = json.loads((Path(path) / MARKER).read_text())
        size = "tiny" if marker.get("size") == "tiny" else "full-size"
        return f"STAND-IN for {marker['stand_in_for']} ({size}, random weights)"
    match = re.search(r"models--([^/\\]+?)--([^/\\]+)[/\\]snapshots", path)  # a Hugging Face cache folder
    if match:
        return f"{match.group(1)}/{match.group(2)}"
    return path or type(model).__name__


def config_hash(model: Any) -> str:
    """SHA-256 of the model's configuration (its architecture), without where it was loaded from."""
    config = model.config.to_dict()
    for key in ("_name_or_path", "transformers_version", "_commit_hash", "torch_dtype", "dtype"):
        config.pop(key, None)
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()


def weights_hash(model: Any) -> str:
    """SHA-256 of every parameter and buffer (names, shapes, dtypes and bytes)."""
    import torch

    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype};".encode())
        digest.update(tensor.view(torch.uint8).numpy() if tensor.numel() else b"")
    return digest.hexdigest()


def size_multiple(model: Any) -> int:
    """Input heights and widths must be multiples of this: the ViT patch size (14 for Depth Anything)."""
    config = model.config
    patch = getattr(config, "patch_size", None) or getattr(getattr(config, "backbone_config", None), "patch_size", None)
    if config.model_type == "zoedepth":
        return 32  # ZoeDepthImageProcessor's ensure_multiple_of
    return int(patch or 1)


def default_onnx_path(model: Any) -> Path:
    """``build/onnx/<checkpoint name>[-stand-in-tiny|-stand-in-full].onnx`` (``helpers.paths.build_dir``, git-ignored)."""
    source = model_source(model)
    stand_in = re.match(r"STAND-IN for (\S+) \((tiny|full-size)", source)
    name = stand_in.group(1) if stand_in else source
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name.rstrip("/").split("/")[-1])
    if stand_in:
        name += "-stand-in-" + ("tiny" if stand_in.group(2) == "tiny" else "full")
    return build_dir() / "onnx" / f"{name}.onnx"


# -------------------------------------------------------------------------------------------------- export

@dataclass(frozen=True)
class OnnxExport:
    """What ``export_onnx`` did: the file, whether a valid earlier export was reused, and how long it took."""

    path: Path
    reused: bool
    seconds: float
    source: str

    @property
    def megabytes(self) -> float:
        """The file's size in MB (10^6 bytes); an OpenVINO IR counts its ``.xml`` and its ``.bin``."""
        files = [self.path] + ([self.path.with_suffix(".bin")] if self.path.suffix == ".xml" else [])
        return sum(f.stat().st_size for f in files if f.exists()) / 1e6


def _depth_only(model: Any):
    """Wrap a depth model so that the exported graph has one input (pixel_values) and one output."""
    import torch

    class PredictedDepth(torch.nn.Module):
        def __init__(self, inner: Any):
            super().__init__()
            self.model = inner

        def forward(self, pixel_values):
            return self.model(pixel_values=pixel_values).predicted_depth

    return PredictedDepth(model).eval()


def _symbolic_depth_anything_head(head: Any):
    """A copy of transformers' DepthAnythingDepthEstimationHead.forward without ``int()`` on the output size.

    transformers 5.23 writes ``int(patch_height * self.patch_size)``; during export ``int()`` turns the
    symbolic height into the example's number, and the file would always answer at the example's size.
    """
    import torch

    def forward(hidden_states, patch_height, patch_width):
        depth = head.conv1(hidden_states[head.head_in_index])
        depth = torch.nn.functional.interpolate(
            depth, (patch_height * head.patch_size, patch_width * head.patch_size), mode="bilinear", align_corners=True)
        depth = head.conv3(head.activation1(head.conv2(depth)))
        return (head.activation2(depth) * head.max_depth).squeeze(dim=1)

    return forward


@contextlib.contextmanager
def _attention_as_matmuls(model: Any):
    """Export attention as transformers' "eager" implementation: MatMul -> Softmax -> MatMul.

    The default ("sdpa") exports PyTorch's scaled_dot_product_attention, which the exporter writes with a guard
    against rows that are entirely masked (IsNaN -> Where after the Softmax). An image model masks nothing, yet
    the guard costs a pass over every attention weight and stops OpenVINO from fusing attention into one
    kernel; the eager form computes the same numbers. The model's own setting is restored afterwards.
    """
    configs = {id(c): c for c in (getattr(m, "config", None) for m in model.modules())
               if hasattr(c, "_attn_implementation_internal")}
    before = {key: config._attn_implementation_internal for key, config in configs.items()}
    if hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation("eager")
    try:
        yield
    finally:
        for key, config in configs.items():
            config._attn_implementation_internal = before[key]


def read_metadata(path: str | Path) -> dict[str, str]:
    """This project's entries of an ONNX file's ``metadata_props`` (source, hashes, size multiple), prefix removed."""
    return _metadata(check_onnx(path, full_check=False))


def _metadata(model: Any) -> dict[str, str]:
    return {p.key[len(META_PREFIX):]: p.value for p in model.metadata_props if p.key.startswith(META_PREFIX)}


# How export_onnx writes the graph; files written another way are exported again (with overwrite=True), not reused.
# "2": attention as MatMul -> Softmax -> MatMul, which OpenVINO fuses into one kernel (see _attention_as_matmuls).
EXPORT_FORMAT = "2"


def _identity(model: Any) -> dict[str, str]:
    return {"source": model_source(model), "config_sha256": config_hash(model), "weights_sha256": weights_hash(model),
            "export_format": EXPORT_FORMAT}


IDENTITY_KEYS = ("source", "config_sha256", "weights_sha256", "export_format")  # what _identity records


def _mismatch(found: dict[str, str], wanted: dict[str, str]) -> list[str]:
    return [key for key in IDENTITY_KEYS if found.get(key) != wanted[key]]


@contextlib.contextmanager
def _staged(path: Path, companions: Sequence[str] = ()):
    """Yield a path in a private folder beside ``path`` to write the file to; once the block ends without an error
    it replaces ``path`` in one step (atomic on one file system), so an interrupted write never leaves a file that
    looks complete. The folder goes either way. ``companions``: suffixes of files written beside it (an IR's
    ``.bin``), moved in before ``path`` itself."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{path.stem}-", dir=path.parent))
    except OSError as err:
        raise os_error(err, f"could not write {path}") from None
    try:
        yield staging / path.name
        for suffix in companions:
            os.replace(staging / path.with_suffix(suffix).name, path.with_suffix(suffix))
        os.replace(staging / path.name, path)
    except OSError as err:  # a full disk while saving, ...
        raise os_error(err, f"could not write {path}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _existing_metadata(path: Path) -> dict[str, str]:
    """The metadata of a file that is in the way; a FileExistsError (file left alone) when it is not ONNX."""
    try:
        return read_metadata(path)
    except (OSError, ValueError) as err:
        raise FileExistsError(f"{path} exists but is not a usable ONNX file ({err}). It was left alone: "
                              "pass overwrite=True to replace it, or choose another path.") from None


def export_onnx(model: Any, path: str | Path | None = None, overwrite: bool = False,
                example_size: tuple[int, int] = (350, 518), opset: int | None = None) -> OnnxExport:
    """Export ``model`` to ONNX (dynamo exporter; dynamic batch, height, width), or reuse a valid earlier export.

    An existing file is reused when it was exported from the same weights (source, config and weights hashes
    in its metadata); any other existing file is left alone with a clear error unless ``overwrite=True``.
    """
    import torch

    path = Path(path) if path is not None else default_onnx_path(model)
    if path.suffix != ".onnx":
        raise ValueError(f"{path}: give the file an .onnx suffix.")
    identity = _identity(model)
    if path.exists() and not overwrite:
        found = _existing_metadata(path)
        if "quantized" in found:
            raise FileExistsError(f"{path} holds a quantized model ({found['quantized']}), not a float export. It was "
                                  "left alone: pass overwrite=True to replace it, or choose another path.")
        differs = _mismatch(found, identity)
        if differs == ["export_format"]:
            raise FileExistsError(
                f"{path} holds these weights, exported by an older version of helpers.export_onnx (it works, but "
                "runs slower in OpenVINO). It was left alone: pass overwrite=True to export again, or choose "
                "another path.")
        if differs:
            raise FileExistsError(
                f"{path} exists but was exported from other weights ({', '.join(differs)} differ: it holds "
                f"{found.get('source', 'an unknown model')!r}, this model is {identity['source']!r}). It was left "
                "alone: pass overwrite=True to replace it, or choose another path.")
        return OnnxExport(path, reused=True, seconds=0.0, source=identity["source"])

    multiple = size_multiple(model)
    height, width = example_size
    if height % multiple or width % multiple:
        raise ValueError(f"example_size {example_size} must be multiples of {multiple}.")
    writable_folder(path.parent, "the ONNX file's folder")  # before the export's minutes, not after
    was_training = model.training
    model.eval()
    head = getattr(model, "head", None)
    patched = type(head).__name__ == "DepthAnythingDepthEstimationHead"
    if patched:
        head.forward = _symbolic_depth_anything_head(head)
    started = time.perf_counter()
    try:
        # a batch of 2: an example batch of 1 lets torch.export treat the batch size as the constant 1
        weight = next(model.parameters())
        example = torch.zeros(2, 3, height, width, dtype=weight.dtype, device=weight.device)
        kwargs = {} if opset is None else {"opset_version": opset}
        # torch.export writes the whole traced graph (hundreds of kB) to stderr when it fails; the exception
        # it raises says what went wrong, so the console chatter is kept out of the notebook
        chatter = io.StringIO()
        with torch.no_grad(), contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter), \
                _attention_as_matmuls(model):
            program = torch.onnx.export(
                _depth_only(model), (example,), None, dynamo=True, verbose=False,
                input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                dynamic_shapes={INPUT_NAME: {0: "batch", 2: "height", 3: "width"}}, **kwargs)
    finally:
        if patched:
            del head.forward  # back to the class's own method
        model.train(was_training)
    seconds = time.perf_counter() - started
    import transformers

    metadata = {**identity, "size_multiple": str(multiple), "torch": torch.__version__,
                "transformers": transformers.__version__}
    program.model.metadata_props.update({META_PREFIX + k: v for k, v in metadata.items()})
    with _staged(path) as staged:
        program.save(staged)
    return OnnxExport(path, reused=False, seconds=seconds, source=identity["source"])


def check_onnx(path: str | Path, full_check: bool = True):
    """Load an .onnx file (and run onnx's checker): the one reader, with a clear error for a missing, empty,
    truncated or corrupt file, naming it and saying what to do. Every function here that reads ONNX uses it."""
    import onnx

    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder: give the path of an .onnx file.")
    if not path.is_file():
        raise FileNotFoundError(f"No ONNX file at {path}: export one first with "
                                f"helpers.export_onnx(model, {str(path)!r}).")
    try:
        empty = path.stat().st_size == 0
        model = None if empty else onnx.load(str(path))
    except OSError as err:
        raise os_error(err, f"could not read {path}") from None
    except Exception as err:  # protobuf DecodeError, ...
        raise invalid_onnx(path, err) from None
    if model is None or not model.graph.node or not model.opset_import or model.ir_version < 1:
        raise invalid_onnx(path, "empty: 0 bytes" if empty else "no graph or no opset: the file ends early")
    if full_check:
        try:
            onnx.checker.check_model(model)
        except Exception as err:  # ValidationError, ...
            raise invalid_onnx(path, err) from None
    return model


def invalid_onnx(path: Path, reason: Any) -> ValueError:
    """The error for a file that is not a usable ONNX model: its name, why, and what to do (one wording for all)."""
    if isinstance(reason, BaseException):
        first = str(reason).strip().splitlines()[0] if str(reason).strip() else ""
        reason = f"{type(reason).__name__}: {first}" if first else type(reason).__name__
    return ValueError(f"{path} is not a valid ONNX file ({reason}). It may be truncated or not an ONNX model: "
                      "delete it and export again (export_onnx(..., overwrite=True)).")


# --------------------------------------------------------------------------------------------- runtimes

@dataclass
class OnnxDepthModel:
    """An .onnx depth model compiled by a runtime: call it on ``pixel_values`` (N, 3, H, W) to get (N, H, W)."""

    path: Path
    backend: Literal["onnxruntime", "openvino"]
    runtime: Any = field(repr=False)  # the onnxruntime.InferenceSession or openvino.CompiledModel
    threads: int
    size_multiple: int = 1
    precision: str = "f32"

    def check_input(self, shape: Sequence[int]) -> None:
        """A clear error for an input this file cannot take (wrong rank or channels, size not a multiple)."""
        if len(shape) != 4 or shape[1] != 3:
            raise ValueError(f"{self.path.name} takes pixel_values of shape (batch, 3, height, width); got {tuple(shape)}.")
        height, width = int(shape[2]), int(shape[3])
        if height < self.size_multiple or width < self.size_multiple or height % self.size_multiple \
                or width % self.size_multiple:
            raise ValueError(
                f"{self.path.name} cannot take a {height}×{width} input: height and width must be multiples of "
                f"{self.size_multiple} (the model's patch size). Use the model's image processor (it rounds to "
                f"multiples of {self.size_multiple}), or resize to e.g. "
                f"{max(1, round(height / self.size_multiple)) * self.size_multiple}×"
                f"{max(1, round(width / self.size_multiple)) * self.size_multiple}.")

    def __call__(self, pixel_values: Any) -> np.ndarray:
        """``predicted_depth`` for a float32 batch of ``pixel_values``, as a NumPy array."""
        pixel_values = np.ascontiguousarray(np.asarray(pixel_values, dtype=np.float32))
        self.check_input(pixel_values.shape)
        if self.backend == "onnxruntime":
            return self.runtime.run([OUTPUT_NAME], {INPUT_NAME: pixel_values})[0]
        return self.runtime(pixel_values)[0]


def onnx_session(path: str | Path, threads: int | None = None) -> OnnxDepthModel:
    """An ONNX Runtime CPU session on ``path`` with ``threads`` intra-op threads (default: torch's count)."""
    import onnxruntime as ort
    import torch

    path = Path(path)
    proto = check_onnx(path)
    metadata = _metadata(proto)
    threads = threads or torch.get_num_threads()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads  # set explicitly: the default follows the machine, not your choice
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime's Fail, InvalidGraph, ...
        raise invalid_onnx(path, err) from None
    ops = {node.op_type for node in proto.graph.node}
    precision = ("int8 (dynamic)" if ops & {"DynamicQuantizeLinear", "MatMulInteger"}
                 else "int8 (static) + f32" if "QuantizeLinear" in ops else "f32")
    return OnnxDepthModel(path, "onnxruntime", session, threads, int(metadata.get("size_multiple", 1)), precision)


def openvino_model(path: str | Path, precision: Literal["f32", "bf16", "f16"] | None = None,
                   threads: int | None = None, device: str = "CPU", static_shapes: bool = False) -> OnnxDepthModel:
    """OpenVINO's compiled model of ``path`` (an .onnx file or an OpenVINO IR .xml, e.g. ``quantize_static_int8``'s);
    ``precision`` sets INFERENCE_PRECISION_HINT for what is computed in float (None: OpenVINO's choice).

    ``static_shapes=True`` compiles the model again for each input shape it meets (the last ``SHAPES_KEPT`` are
    kept): the first call of a size compiles (about ten seconds for Depth Anything V2 Small on 2 cores), later ones
    are faster, because OpenVINO plans kernels and memory for one known shape instead of any. Worth it when many
    images share a size (a camera, a video, a folder of photos from one phone); the answers are the same.
    """
    import openvino as ov
    import torch

    path = Path(path)
    metadata = read_ir_metadata(path) if path.suffix == ".xml" else _metadata(check_onnx(path))
    threads = threads or torch.get_num_threads()
    config: dict[str, Any] = {"INFERENCE_NUM_THREADS": threads}
    if precision is not None:
        config["INFERENCE_PRECISION_HINT"] = precision
    core = ov.Core()
    try:
        network = core.read_model(str(path))
        compiled = core.compile_model(network, device, config)
    except Exception as err:  # OpenVINO's read or compile errors
        raise invalid_onnx(path, err) from None
    computes = openvino_precision(compiled)
    if metadata.get("quantized", "").startswith("int8"):
        computes = f"int8 (static) + {computes}"  # the hint applies to the layers left in float
    runtime = PerShapeCompiled(core, network, device, config, compiled) if static_shapes else compiled
    return OnnxDepthModel(path, "openvino", runtime, threads, int(metadata.get("size_multiple", 1)), computes)


SHAPES_KEPT = 4  # compiled shapes a static_shapes model keeps, the most recently used


class PerShapeCompiled:
    """An OpenVINO model compiled for each input shape it is called with (static shapes), the last ``SHAPES_KEPT``
    kept; ``get_property`` answers for the any-shape compilation it was made from."""

    def __init__(self, core: Any, network: Any, device: str, config: dict[str, Any], any_shape: Any):
        self.core, self.network, self.device, self.config, self.any_shape = core, network, device, config, any_shape
        self.compiled: RecentlyUsed = RecentlyUsed(SHAPES_KEPT)  # input shape -> compiled model

    def _compile(self, shape: tuple[int, ...]) -> Any:
        network = self.network.clone()
        network.reshape({network.inputs[0].get_any_name(): list(shape)})
        return self.core.compile_model(network, self.device, self.config)

    def __call__(self, pixel_values: np.ndarray) -> Any:
        shape = tuple(int(n) for n in pixel_values.shape)
        return self.compiled.get(shape, lambda: self._compile(shape))(pixel_values)

    def get_property(self, name: str) -> Any:
        return self.any_shape.get_property(name)


def openvino_precision(compiled: Any) -> str:
    """The precision an OpenVINO compiled model really computes in ('f32', 'bf16', 'f16'), read back."""
    return compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()


def predict_onnx(runtime: OnnxDepthModel, processor: Any, images: Any, *, processor_kwargs: dict | None = None,
                 bgr: bool = False, max_pixels: int | None = MAX_PIXELS) -> Any:
    """Depth at each image's displayed size: the same processor, the runtime instead of the model, the same post-processing.

    ``images``: one image or a list, each anything ``helpers.images`` allows (``bgr=True`` for OpenCV's
    arrays), prepared exactly as ``predict_depth`` prepares it. One image gives one (H, W) tensor; a list
    gives a list (one runtime call per image). ``processor_kwargs`` go to every processor call.
    """
    import torch
    from transformers.modeling_outputs import DepthEstimatorOutput

    single = not isinstance(images, (list, tuple))
    images = [images] if single else list(images)
    maps = []
    for index in range(len(images)):
        image = image_at(images, index, bgr=bgr, max_pixels=max_pixels)
        pixel_values, given = model_input(processor, image, processor_kwargs)
        outputs = DepthEstimatorOutput(predicted_depth=torch.from_numpy(runtime(pixel_values.numpy())))
        maps.append(depth_maps(processor, outputs, [given], [(image.height, image.width)])[0])
    return maps[0] if single else maps


def max_relative_difference(found: Any, reference: Any) -> float:
    """max |found − reference| / max |reference|: 0 for identical maps, 1e-4 for a difference of 0.01 % of the peak."""
    found = np.asarray(found, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if found.shape != reference.shape:
        raise ValueError(f"shapes differ: {found.shape} vs {reference.shape}")
    peak = np.abs(reference).max()
    if peak == 0:
        raise ValueError("the reference map is all zeros: a relative difference is undefined.")
    return float(np.abs(found - reference).max() / peak)


def error_line(err: BaseException) -> str:
    """One line for a caught error: its type and the first line of its message, without terminal colour codes."""
    message = re.sub(r"\x1b\[[0-9;]*m", "", str(err)).strip()
    return f"{type(err).__name__}: {message.splitlines()[0] if message else '(no message)'}"


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
    source = _metadata(check_onnx(path))  # the full check: quantization reads every node
    out = Path(out) if out is not None else path.with_name(path.stem + ".int8.onnx")
    if out.resolve() == path.resolve():
        raise ValueError(f"out must differ from the float file {path}.")
    wanted = {k: source.get(k, "") for k in IDENTITY_KEYS}
    if out.exists() and not overwrite:
        found = _existing_metadata(out)
        if found.get("quantized") != "int8 dynamic" or _mismatch(found, wanted):
            raise FileExistsError(f"{out} exists but is not the int8 quantization of {path.name}. It was left "
                                  "alone: pass overwrite=True to replace it, or choose another path.")
        return OnnxExport(out, reused=True, seconds=0.0, source=found.get("source", ""))
    writable_folder(out.parent, "the int8 file's folder")
    started = time.perf_counter()
    with _staged(out) as staged:
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


def calibration_set(processor: Any, images: Any, limit: int | None = None) -> list[np.ndarray]:
    """``pixel_values`` of each calibration image, prepared by the model's own processor as ``predict_depth`` does.

    ``images``: a folder (its images, sorted by name: ``list_images``) or a list of images (files, URLs, PIL
    images, arrays); ``limit`` keeps the first ones. Real photos like the ones the model will see, never noise:
    calibration measures the range of every activation on them.
    """
    from .batch import list_images

    if isinstance(images, (str, os.PathLike)) and Path(images).expanduser().is_dir():
        images = list_images(images)
    elif isinstance(images, (str, os.PathLike)) or not isinstance(images, Sequence):
        images = [images]
    images = list(images)[:limit]
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


def read_ir_metadata(path: str | Path) -> dict[str, str]:
    """This project's entries of an OpenVINO IR's ``rt_info`` (what ``quantize_static_int8`` recorded)."""
    import openvino as ov

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No OpenVINO IR at {path}: write one with helpers.quantize_static_int8(...).")
    try:
        model = ov.Core().read_model(str(path))
    except Exception as err:  # a missing .bin, a truncated .xml, ...
        raise ValueError(f"{path} is not a valid OpenVINO IR ({error_line(err)}). Delete it (and its .bin) and "
                         "quantize again (quantize_static_int8(..., overwrite=True)).") from None
    info = model.get_rt_info()
    entries = info[META_PREFIX.rstrip(".")] if META_PREFIX.rstrip(".") in info else {}
    return {key: value.astype(str) if hasattr(value, "astype") else str(value) for key, value in entries.items()}


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
    source = _metadata(check_onnx(path))
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
        if found.get("quantized") != method or _mismatch(found, wanted):
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
    with _staged(out, companions=(".bin",)) as staged:
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

    with _staged(out) as staged:
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
