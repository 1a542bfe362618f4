"""Deploying a depth model on a CPU: ONNX export, and ONNX Runtime and OpenVINO sessions that run the file.

The flow of notebook 08, in small steps:

- ``export_onnx(model)`` writes ``build/onnx/<name>.onnx`` with the dynamo exporter
  (``torch.onnx.export(..., dynamo=True)``), with dynamic batch, height and width, so that one file takes
  every input size the image processor produces. It records where the weights came from in the file, and
  follows the rules of ``helpers.onnx_identity``: a file that is already there is reused when it was exported
  from the same model, refused otherwise, and never overwritten unless ``overwrite=True``.
- ``onnx_session(path, threads)`` (ONNX Runtime) and ``openvino_model(path, precision, threads, static_shapes)``
  (OpenVINO)
  return an :class:`OnnxDepthModel`: call it on ``pixel_values`` (a NumPy array) to get ``predicted_depth``;
  it refuses, with a clear message, an input size the file cannot take (e.g. not a multiple of 14).
- ``predict_onnx(runtime, processor, image)``: the same processor, the runtime instead of the PyTorch model,
  the same ``post_process_depth_estimation`` (the runtime's array is wrapped in transformers'
  ``DepthEstimatorOutput``, which is what the processor expects).

int8 quantization is ``helpers.quantize``'s job; what the CPU can do (AVX2, AVX-512, VNNI, BF16, AMX) is
``helpers.machine``'s.

Heavy libraries (torch, onnx, onnxruntime, openvino) are imported inside the functions that need them.
"""

from __future__ import annotations

import contextlib
import io
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np

from .batch import depth_maps, image_at, model_input
from .images import MAX_PIXELS
from .onnx_identity import (INPUT_NAME, META_PREFIX, OUTPUT_NAME, OnnxExport, check_onnx, existing_metadata,
                            identity_mismatch, invalid_onnx, model_identity, model_source, onnx_metadata,
                            read_ir_metadata, staged_file)
from .outputs import writable_folder
from .paths import build_dir
from .recent import RecentlyUsed


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
    identity = model_identity(model)
    if path.exists() and not overwrite:
        found = existing_metadata(path)
        if "quantized" in found:
            raise FileExistsError(f"{path} holds a quantized model ({found['quantized']}), not a float export. It was "
                                  "left alone: pass overwrite=True to replace it, or choose another path.")
        differs = identity_mismatch(found, identity)
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
    with staged_file(path) as staged:
        program.save(staged)
    return OnnxExport(path, reused=False, seconds=seconds, source=identity["source"])


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
    metadata = onnx_metadata(proto)
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
    metadata = read_ir_metadata(path) if path.suffix == ".xml" else onnx_metadata(check_onnx(path))
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
