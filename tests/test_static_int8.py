"""helpers.quantize's static int8 (NNCF/OpenVINO and ONNX Runtime QDQ) on the tiny stand-in, and helpers.roofline.

The tiny export is the session's one (``tiny_onnx`` in tests/conftest.py); each runtime quantizes it once per module.
Nothing here is timed: the stand-in's outputs are random-weight numbers, so only shapes, ranges, files and rules are checked.
"""

import numpy as np
import pytest
import torch
from PIL import Image

from helpers.deploy import export_onnx, onnx_session, openvino_model
from helpers.onnx_identity import IDENTITY_KEYS, check_onnx, read_ir_metadata, read_metadata
from helpers.quantize import calibration_set, quantize_static_int8
from helpers.paths import data_path
from helpers.roofline import floor_ms, forward_flops, gemm_rate

PHOTOS = [data_path(name) for name in ("chelsea.png", "coffee.png")]


@pytest.fixture(scope="module")
def calibration(tiny_depth_anything):
    """Two bundled photos through the model's own processor."""
    return calibration_set(tiny_depth_anything[1], PHOTOS)


@pytest.fixture(scope="module")
def nncf_int8(tiny_onnx, calibration):
    return quantize_static_int8(tiny_onnx.path, calibration, runtime="openvino")


@pytest.fixture(scope="module")
def qdq_int8(tiny_onnx, calibration):
    return quantize_static_int8(tiny_onnx.path, calibration, runtime="onnxruntime")


def test_calibration_set_is_the_processors_pixel_values(tiny_depth_anything, calibration):
    _, processor = tiny_depth_anything
    assert len(calibration) == 2
    for array, photo in zip(calibration, PHOTOS):
        expected = processor(images=Image.open(photo).convert("RGB"), return_tensors="pt")["pixel_values"].numpy()
        assert array.dtype == np.float32 and array.shape == expected.shape and array.shape[2] % 14 == 0
        np.testing.assert_array_equal(array, expected)
    assert len(calibration_set(processor, PHOTOS[0].parent, limit=1)) == 1  # a folder, first image by name


def _float_and(int8_runtime, tiny_onnx, processor):
    """The float export's and the int8 runtime's raw output (before post-processing) on a bundled photo."""
    pixel_values = calibration_set(processor, PHOTOS[1:])[0]
    return onnx_session(tiny_onnx.path)(pixel_values), int8_runtime(pixel_values)


def _same_shape_and_range(found, reference):
    assert found.shape == reference.shape and np.isfinite(found).all()
    assert found.min() >= 0 and reference.min() >= 0  # the head ends in a ReLU: depth is never negative
    assert 0.25 < found.max() / reference.max() < 4  # the same order of magnitude (random weights: no closer claim)


def test_nncf_static_int8_is_a_valid_smaller_openvino_model_with_floats_shape_and_range(tiny_depth_anything, tiny_onnx, nncf_int8):
    _, processor = tiny_depth_anything
    assert nncf_int8.path == tiny_onnx.path.with_name("tiny.int8-static.xml") and not nncf_int8.reused
    assert nncf_int8.path.with_suffix(".bin").is_file() and nncf_int8.megabytes < tiny_onnx.megabytes
    metadata = read_ir_metadata(nncf_int8.path)
    assert metadata["quantized"] == "int8 static (NNCF)" and metadata["calibration_images"] == "2"
    assert {k: metadata[k] for k in IDENTITY_KEYS} == {k: read_metadata(tiny_onnx.path)[k] for k in IDENTITY_KEYS}
    runtime = openvino_model(nncf_int8.path, precision="f32", threads=1)
    assert runtime.precision == "int8 (static) + f32" and runtime.size_multiple == 14
    reference, found = _float_and(runtime, tiny_onnx, processor)
    _same_shape_and_range(found, reference)
    assert not list(nncf_int8.path.parent.glob(".tiny*"))  # no staging folder left behind


def test_onnxruntime_static_qdq_is_a_valid_smaller_onnx_model_with_floats_shape_and_range(tiny_depth_anything, tiny_onnx, qdq_int8):
    _, processor = tiny_depth_anything
    assert qdq_int8.path == tiny_onnx.path.with_name("tiny.int8-qdq.onnx") and not qdq_int8.reused
    assert qdq_int8.megabytes < tiny_onnx.megabytes
    ops = {node.op_type for node in check_onnx(qdq_int8.path).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    assert read_metadata(qdq_int8.path)["quantized"] == "int8 static (QDQ)"
    session = onnx_session(qdq_int8.path, threads=1)
    assert session.precision == "int8 (static) + f32"
    reference, found = _float_and(session, tiny_onnx, processor)
    _same_shape_and_range(found, reference)
    with pytest.raises(FileExistsError, match=r"holds a quantized model \(int8 static \(QDQ\)\), not a float export"):
        export_onnx(tiny_depth_anything[0], qdq_int8.path)


@pytest.mark.parametrize("runtime", ["openvino", "onnxruntime"])
def test_a_static_int8_file_is_reused_for_the_same_calibration_and_refused_for_another(
        runtime, tiny_onnx, calibration, nncf_int8, qdq_int8):
    made = nncf_int8 if runtime == "openvino" else qdq_int8
    before = made.path.stat().st_mtime_ns, made.path.read_bytes()
    again = quantize_static_int8(tiny_onnx.path, calibration, runtime=runtime)
    assert again.reused and again.seconds == 0.0 and (made.path.stat().st_mtime_ns, made.path.read_bytes()) == before
    with pytest.raises(FileExistsError, match=r"calibrated on other images \(2 of them; this set has 1\).*overwrite=True"):
        quantize_static_int8(tiny_onnx.path, calibration[:1], runtime=runtime)
    assert made.path.read_bytes() == before[1]


def test_a_foreign_or_other_models_file_is_refused_and_left_alone(tiny_onnx, calibration, qdq_int8, tmp_path, onnx_copy):
    mine = tmp_path / "mine.xml"
    mine.write_text("<not an IR/>")
    with pytest.raises(FileExistsError, match=r"mine\.xml exists but is not usable.*overwrite=True"):
        quantize_static_int8(tiny_onnx.path, calibration, runtime="openvino", out=mine)
    assert mine.read_text() == "<not an IR/>"
    float_copy = tmp_path / "float.onnx"  # a float export where the int8 file would go
    float_copy.write_bytes(tiny_onnx.path.read_bytes())
    with pytest.raises(FileExistsError, match=r"not the int8 static \(QDQ\) quantization of tiny\.onnx"):
        quantize_static_int8(tiny_onnx.path, calibration, runtime="onnxruntime", out=float_copy)
    other = onnx_copy(qdq_int8.path, tmp_path / "other.onnx", weights_sha256="0" * 64)  # int8 of other weights
    before = other.read_bytes()
    with pytest.raises(FileExistsError, match=r"not the int8 static \(QDQ\) quantization"):
        quantize_static_int8(tiny_onnx.path, calibration, runtime="onnxruntime", out=other)
    assert other.read_bytes() == before
    assert not quantize_static_int8(tiny_onnx.path, calibration, runtime="onnxruntime", out=other, overwrite=True).reused
    assert read_metadata(other)["weights_sha256"] == read_metadata(tiny_onnx.path)["weights_sha256"]


def test_calibration_rejects_an_empty_or_mismatched_set_before_any_work(tiny_depth_anything, tiny_onnx, tmp_path):
    _, processor = tiny_depth_anything
    out = tmp_path / "never.onnx"
    for empty in ([], None):
        with pytest.raises(ValueError, match=r"calibration set for tiny\.onnx is empty.*helpers\.calibration_set"):
            quantize_static_int8(tiny_onnx.path, empty, runtime="onnxruntime", out=out)
    with pytest.raises(ValueError, match="No calibration images"):
        calibration_set(processor, [])
    good = np.zeros((1, 3, 28, 42), np.float32)
    bad = {
        "not a multiple": np.zeros((1, 3, 30, 42), np.float32),
        "one channel": np.zeros((1, 1, 28, 42), np.float32),
        "no batch axis": np.zeros((3, 28, 42), np.float32),
        "raw pixels": np.zeros((1, 3, 28, 42), np.uint8),
        "an image, not pixel_values": Image.new("RGB", (42, 28)),
    }
    for what, sample in bad.items():
        with pytest.raises(ValueError, match=r"Calibration input 1 \(.*\) does not fit tiny\.onnx.*multiples of 14.*"
                                             r"model's own processor: helpers\.calibration_set"):
            quantize_static_int8(tiny_onnx.path, [good, sample], runtime="openvino", out=tmp_path / "never.xml")
    with pytest.raises(ValueError, match="Calibration input 0 holds NaN"):
        quantize_static_int8(tiny_onnx.path, [np.full((1, 3, 28, 42), np.nan, np.float32)], runtime="onnxruntime", out=out)
    with pytest.raises(ValueError, match="runtime must be one of"):
        quantize_static_int8(tiny_onnx.path, [good], runtime="tensorrt")
    with pytest.raises(ValueError, match="needs the suffix .xml"):
        quantize_static_int8(tiny_onnx.path, [good], runtime="openvino", out=tmp_path / "x.onnx")
    assert not list(tmp_path.iterdir())  # nothing written


def test_ir_readers_give_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No OpenVINO IR at .*gone\.xml"):
        read_ir_metadata(tmp_path / "gone.xml")
    broken = tmp_path / "broken.xml"
    broken.write_text("<net")
    for read in (read_ir_metadata, openvino_model):
        with pytest.raises(ValueError, match=r"broken\.xml is not a valid OpenVINO IR"):
            read(broken)


# ------------------------------------------------------------------------------------------------ roofline

def test_flop_count_of_a_conv_linear_stack_equals_the_hand_count():
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, kernel_size=3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(8, 4, kernel_size=1, stride=2), torch.nn.Flatten(), torch.nn.Linear(4 * 8 * 8, 10))
    batch = 2
    by_hand = (2 * batch * 8 * 16 * 16 * 3 * 3 * 3  # conv 3x3: one multiply-add per output, input channel, tap
               + 2 * batch * 4 * 8 * 8 * 8  # conv 1x1, stride 2: 8 x 8 outputs
               + 2 * batch * (4 * 8 * 8) * 10)  # linear
    assert forward_flops(model, torch.zeros(batch, 3, 16, 16)) == by_hand
    assert forward_flops(model, np.zeros((batch, 3, 16, 16), np.float32)) == by_hand


def test_flop_count_includes_attention_on_the_cpu_kernel():
    class Attention(torch.nn.Module):  # scaled_dot_product_attention on CPU tensors: torch's own table misses it
        def forward(self, x):
            q = k = v = x.view(2, 3, 10, 8)  # batch 2, 3 heads, 10 tokens, 8 channels per head
            return torch.nn.functional.scaled_dot_product_attention(q, k, v)

    model = torch.nn.Sequential(torch.nn.Linear(8, 8, bias=False), Attention())
    by_hand = (2 * 60 * 8 * 8  # the linear layer on 2 x 3 x 10 rows
               + 2 * 2 * 3 * 10 * 10 * 8  # Q·Kᵀ: 10 x 10 scores of 8 multiply-adds, per batch and head
               + 2 * 2 * 3 * 10 * 8 * 10)  # weights·V
    assert forward_flops(model, torch.randn(60, 8)) == by_hand


def test_flop_count_of_the_tiny_depth_model_is_the_same_with_either_attention(tiny_depth_anything):
    import copy

    model, _ = tiny_depth_anything
    x = torch.zeros(1, 3, 14 * 10, 14 * 12)
    eager = copy.deepcopy(model)
    eager.set_attn_implementation("eager")  # attention as two batched matrix products, which torch counts itself
    assert model.backbone.config._attn_implementation == "sdpa"
    assert forward_flops(model, x) == forward_flops(eager, x) > 0


def test_flop_count_of_the_tiny_depth_model_grows_with_the_input(tiny_depth_anything):
    model, _ = tiny_depth_anything
    small = forward_flops(model, torch.zeros(1, 3, 14 * 10, 14 * 10))
    large = forward_flops(model, torch.zeros(1, 3, 14 * 20, 14 * 20))
    assert 0 < small < large and not model.training


def test_gemm_rates_and_floor_arithmetic():
    for precision in ("f32", "int8"):
        rate = gemm_rate(precision, size=128, repeats=2, threads=1)
        assert np.isfinite(rate) and rate > 1e6
    with pytest.raises(ValueError, match="precision must be"):
        gemm_rate("f8")
    assert floor_ms(54.5e9, 167e9) == pytest.approx(326.35, abs=0.01)
    with pytest.raises(ValueError):
        floor_ms(1.0, 0)
