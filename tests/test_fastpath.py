"""helpers.fastpath: the fastest runtime for a checkpoint, built once and reused, with its reasons and its cost.

On the tiny stand-in (random weights): the maps' sizes and their closeness to float32 are checked, never speed.
"""

import shutil

import numpy as np
import pytest
import torch

from helpers import deploy, fastpath, quantize
from helpers.deploy import default_onnx_path, max_relative_difference
from helpers.paths import data_path

PHOTOS = [data_path(name) for name in ("chelsea.png", "coffee.png")]
# The stated tolerances. The tiny stand-in's random weights give maps of about 1e-7 that int8 cannot resolve (its
# int8 maps differ from float32 by more than their own peak), so for int8 only the size, finiteness, sign and order
# of magnitude are claimed; OpenVINO's float paths (the fallbacks when int8 fails) are held to a number.
PEAK_RATIO = (0.25, 4.0)  # int8: max(found) / max(float32)
FLOAT_TOLERANCE = {"f32": 1e-4, "bf16": 0.03}  # max relative difference to float32 PyTorch


@pytest.fixture(scope="module")
def folder(tiny_depth_anything, tiny_onnx, tmp_path_factory):
    """A folder holding the session's tiny export under the name fastest_runtime looks for (the export is reused)."""
    folder = tmp_path_factory.mktemp("fast")
    shutil.copy(tiny_onnx.path, folder / default_onnx_path(tiny_depth_anything[0]).name)
    return folder


@pytest.fixture(scope="module")
def fast(tiny_depth_anything, folder):
    model, processor = tiny_depth_anything
    with pytest.MonkeyPatch.context() as patch:  # the int8 path on every CPU (with VNNI it is the one chosen)
        patch.setattr(fastpath, "int8_pays_on_this_cpu", lambda: True)
        return _built(model, processor, folder)


def _built(model, processor, folder):
    heard = []
    runtime = fastpath.fastest_runtime(model, processor, PHOTOS, progress=lambda f, m: heard.append((f, m)), folder=folder)
    runtime.heard = heard
    return runtime


def test_the_fast_path_is_static_int8_openvino_and_matches_float32(tiny_depth_anything, fast):
    model, processor = tiny_depth_anything
    precision = "bf16" if fastpath.bf16_on_this_cpu() else "f32"
    assert fast.runtime == f"OpenVINO int8 (static, NNCF) + {precision}" and not fast.exact and fast.stand_in
    assert [path.suffix for path in fast.files] == [".onnx", ".xml"] and not fast.reused  # quantized now
    photo = data_path("rocket.jpg")  # not a calibration photo
    (found,), (reference,) = fast([photo]), fastpath.FastDepth("eager", "", model, processor)([photo])
    assert found.shape == reference.shape == (427, 640) and found.dtype == np.float32 and np.isfinite(found).all()
    assert PEAK_RATIO[0] < found.max() / reference.max() < PEAK_RATIO[1]
    # the cost it reports is the one on its check photo (the first calibration photo), recomputed here
    again = max_relative_difference(fast([PHOTOS[0]])[0], fastpath.FastDepth("eager", "", model, processor)([PHOTOS[0]])[0])
    assert fast.max_relative_difference == pytest.approx(again, rel=1e-6)
    assert "random weights of a stand-in" in fast.describe()
    fractions = [f for f, _ in fast.heard]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and fast.heard[-1][1] == fast.describe()


@pytest.mark.parametrize("precision", ["f32", "bf16"])
def test_without_int8_openvino_in_float_matches_float32(tiny_depth_anything, folder, precision, monkeypatch):
    def no_nncf(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'nncf'")

    monkeypatch.setattr(quantize, "quantize_static_int8", no_nncf)
    monkeypatch.setattr(fastpath, "int8_pays_on_this_cpu", lambda: True)
    monkeypatch.setattr(fastpath, "bf16_on_this_cpu", lambda: precision == "bf16")
    fast = fastpath.fastest_runtime(*tiny_depth_anything, PHOTOS, folder=folder)
    assert fast.runtime == f"OpenVINO {precision}" and fast.reason == "no int8 (ModuleNotFoundError: No module named 'nncf')"
    assert len(fast.files) == 1 and fast.max_relative_difference < FLOAT_TOLERANCE[precision]
    photo = data_path("rocket.jpg")
    found, reference = fast([photo])[0], fastpath.FastDepth("eager", "", *tiny_depth_anything)([photo])[0]
    assert max_relative_difference(found, reference) < FLOAT_TOLERANCE[precision]


def test_without_int8_units_the_cpu_gets_openvino_in_float(tiny_depth_anything, folder, monkeypatch):
    monkeypatch.setattr(fastpath, "int8_pays_on_this_cpu", lambda: False)
    monkeypatch.setattr(fastpath, "bf16_on_this_cpu", lambda: False)
    monkeypatch.setattr(quantize, "_quantize_nncf", lambda *a, **k: pytest.fail("quantized without VNNI"))
    fast = fastpath.fastest_runtime(*tiny_depth_anything, PHOTOS, folder=folder)
    assert fast.runtime == "OpenVINO f32" and len(fast.files) == 1
    assert fast.reason.endswith("no int8 dot-product units (VNNI or AMX), so int8 would gain little")
    assert fast.max_relative_difference < FLOAT_TOLERANCE["f32"]


def test_a_second_call_reuses_the_files_and_exports_nothing(tiny_depth_anything, fast, folder, monkeypatch):
    monkeypatch.setattr(fastpath, "int8_pays_on_this_cpu", lambda: True)
    calls = []
    monkeypatch.setattr(torch.onnx, "export", lambda *a, **k: calls.append("export"))
    monkeypatch.setattr(quantize, "_quantize_nncf", lambda *a, **k: calls.append("quantize"))
    before = {path: path.read_bytes() for path in fast.files}
    again = fastpath.fastest_runtime(*tiny_depth_anything, PHOTOS, folder=folder)
    assert calls == [] and again.reused and again.files == fast.files
    assert {path: path.read_bytes() for path in again.files} == before
    fastpath.fastest_runtime(*tiny_depth_anything, PHOTOS[:1], folder=folder)  # another calibration set
    assert calls == ["quantize"]  # quantized again, into a file of its own: the first one is kept as it was
    assert {path: path.read_bytes() for path in fast.files} == before


def test_a_failing_export_falls_back_to_eager_with_its_reason(tiny_depth_anything, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise RuntimeError("Could not guard on data-dependent expression\nmore lines")

    monkeypatch.setattr(deploy, "export_onnx", refuse)
    fast = fastpath.fastest_runtime(*tiny_depth_anything, PHOTOS, folder=tmp_path)
    assert fast.exact and fast.runtime == "PyTorch float32 (eager)" and fast.max_relative_difference is None
    assert fast.reason == "no ONNX export (RuntimeError: Could not guard on data-dependent expression)"
    assert fast.describe() == "PyTorch float32 (eager): no ONNX export (RuntimeError: Could not guard on " \
                              "data-dependent expression)."
    assert list(tmp_path.iterdir()) == []


def test_no_openvino_or_a_gpu_each_say_why(tiny_depth_anything, tmp_path, monkeypatch):
    real_find_spec = fastpath.importlib.util.find_spec
    monkeypatch.setattr(fastpath.importlib.util, "find_spec", lambda name, *a: None if name == "openvino" else real_find_spec(name, *a))
    fast = fastpath.fastest_runtime(*tiny_depth_anything, PHOTOS, folder=tmp_path)
    assert fast.reason == "OpenVINO is not installed (pip install openvino nncf)" and fast.exact
    model, processor = tiny_depth_anything
    moved = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(model, "to", lambda device: moved.append(device))  # no GPU here: record the move instead
    fast = fastpath.fastest_runtime(model, processor, PHOTOS, folder=tmp_path)
    assert moved == ["cuda"] and fast.runtime == "PyTorch float32 (eager) on cuda" and "a GPU is present" in fast.reason
    assert list(tmp_path.iterdir()) == []  # nothing exported in either case
