"""helpers.deploy, onnx_identity and quantize (dynamic int8): ONNX export of a tiny stand-in, runtimes, clear errors.

One export per test session (the slow step; the ``tiny_onnx`` fixture in tests/conftest.py); nothing here is timed.
"""

import errno
import platform
import re

import numpy as np
import pytest
import torch
from PIL import Image

import helpers
import helpers.outputs
from helpers import deploy, onnx_identity
from helpers.deploy import export_onnx, max_relative_difference, onnx_session, openvino_model, predict_onnx
from helpers.machine import cpu_features
from helpers.onnx_identity import OnnxExport, check_onnx, error_line, read_metadata
from helpers.quantize import quantize_int8

CHECKPOINT = "depth-anything/Depth-Anything-V2-Small-hf"


@pytest.fixture(scope="module")
def tiny(tiny_depth_anything):
    """The tiny stand-in (random weights, real architecture classes and processor settings), in eval mode."""
    return tiny_depth_anything


@pytest.fixture(scope="module")
def exported(tiny_onnx):
    """The session's one export of the tiny stand-in (tests/conftest.py), shared with tests/test_input_contract.py."""
    return tiny_onnx


def _eager(model, processor, image):
    with torch.no_grad():
        outputs = model(**processor(images=image, return_tensors="pt"))
    return processor.post_process_depth_estimation(outputs, [(image.height, image.width)])[0]["predicted_depth"]


def _image(height, width, seed=0):
    pixels = np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


def test_export_writes_a_valid_file_with_dynamic_axes_and_the_models_identity(tiny, exported):
    model, _ = tiny
    assert isinstance(exported, OnnxExport) and not exported.reused and exported.path.is_file()
    graph = check_onnx(exported.path).graph
    assert [d.dim_param or d.dim_value for d in graph.input[0].type.tensor_type.shape.dim] == \
        ["batch", 3, "height", "width"]
    output_dims = [d.dim_param or d.dim_value for d in graph.output[0].type.tensor_type.shape.dim]
    assert output_dims[0] == "batch" and all(isinstance(d, str) for d in output_dims[1:])  # not frozen at 350 × 518
    metadata = read_metadata(exported.path)
    assert metadata["source"] == f"STAND-IN for {CHECKPOINT} (tiny, random weights)"
    assert metadata["config_sha256"] == onnx_identity.config_hash(model)
    assert metadata["weights_sha256"] == onnx_identity.weights_hash(model)
    assert metadata["size_multiple"] == "14"
    assert "forward" not in vars(model.head)  # the export-time patch of the head is undone
    assert not model.training


def test_onnx_runtime_matches_eager_at_two_image_sizes_through_one_file(tiny, exported):
    model, processor = tiny
    session = onnx_session(exported.path, threads=1)
    assert session.threads == 1 and session.runtime.get_session_options().intra_op_num_threads == 1
    for image, model_input in ((_image(300, 451), (350, 518)), (_image(200, 200, seed=1), (518, 518))):
        assert tuple(processor(images=image, return_tensors="np")["pixel_values"].shape[-2:]) == model_input
        depth = predict_onnx(session, processor, image)
        reference = _eager(model, processor, image)
        assert tuple(depth.shape) == (image.height, image.width) and depth.dtype == torch.float32
        assert max_relative_difference(depth, reference) <= 1e-4


def test_dynamic_batch_gives_each_images_eager_output(tiny, exported):
    model, _ = tiny
    pixel_values = torch.randn(3, 3, 266, 392, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        reference = model(pixel_values=pixel_values).predicted_depth
    found = onnx_session(exported.path)(pixel_values.numpy())
    assert found.shape == (3, 266, 392)
    assert max_relative_difference(found, reference) <= 1e-4


def test_a_valid_earlier_export_is_reused_untouched(tiny, exported):
    model, _ = tiny
    before = exported.path.stat().st_mtime_ns, exported.path.read_bytes()
    again = export_onnx(model, exported.path)
    assert again.reused and again.seconds == 0.0 and again.path == exported.path
    assert (exported.path.stat().st_mtime_ns, exported.path.read_bytes()) == before


def test_an_export_of_other_weights_is_refused_and_left_alone(tiny, exported, tmp_path, onnx_copy):
    model, _ = tiny
    other = onnx_copy(exported.path, tmp_path / "other.onnx", weights_sha256="0" * 64)
    before = other.read_bytes()
    with pytest.raises(FileExistsError, match=r"exported from other weights \(weights_sha256 differ.*overwrite=True"):
        export_onnx(model, other)
    assert other.read_bytes() == before


def test_an_older_export_of_the_same_weights_is_refused_with_the_reason(tiny, exported, tmp_path, onnx_copy):
    model, _ = tiny
    older = onnx_copy(exported.path, tmp_path / "older.onnx", export_format=None)  # written before the format key
    before = older.read_bytes()
    with pytest.raises(FileExistsError, match=r"these weights, exported by an older version.*overwrite=True"):
        export_onnx(model, older)
    assert older.read_bytes() == before
    assert not export_onnx(model, older, overwrite=True).reused
    assert read_metadata(older)["export_format"] == onnx_identity.EXPORT_FORMAT


def test_attention_is_exported_as_matmul_softmax_matmul_without_a_nan_guard(tiny, exported):
    model, _ = tiny
    ops = [node.op_type for node in check_onnx(exported.path).graph.node]
    layers = model.config.backbone_config.num_hidden_layers
    assert ops.count("Softmax") == layers and "IsNaN" not in ops  # sdpa's export guards each Softmax with IsNaN
    assert model.backbone.config._attn_implementation == "sdpa"  # the model's own setting is back


def test_a_corrupt_file_is_refused_not_overwritten(tiny, tmp_path):
    model, _ = tiny
    corrupt = tmp_path / "model.onnx"
    corrupt.write_bytes(b"definitely not protobuf \x00\xff" * 10)
    with pytest.raises(FileExistsError, match=r"model.onnx exists but is not a usable ONNX file.*overwrite=True"):
        export_onnx(model, corrupt)
    assert corrupt.read_bytes() == b"definitely not protobuf \x00\xff" * 10


def test_clear_errors_for_missing_and_corrupt_files(tmp_path):
    missing = tmp_path / "nowhere.onnx"
    for load in (check_onnx, onnx_session, openvino_model):
        with pytest.raises(FileNotFoundError, match=r"No ONNX file at .*nowhere\.onnx: export one first with helpers\.export_onnx"):
            load(missing)
    corrupt = tmp_path / "broken.onnx"
    corrupt.write_bytes(b"\x08\x07garbage" * 50)
    with pytest.raises(ValueError, match=r"broken\.onnx is not a valid ONNX file \(.*\).*export again"):
        onnx_session(corrupt)
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(b"")  # an empty file parses as an empty model; the checker rejects it
    with pytest.raises(ValueError, match="is not a valid ONNX file"):
        check_onnx(truncated)


def _broken_copies(exported, folder):
    """An empty file, the first half of a real export (an interrupted copy), and bytes that are not protobuf."""
    whole = exported.path.read_bytes()
    files = {"empty.onnx": b"", "half.onnx": whole[: len(whole) // 2], "garbage.onnx": b"\x08\x07garbage" * 50}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return [folder / name for name in files]


def test_every_reader_refuses_an_empty_truncated_or_corrupt_file_with_its_name_and_what_to_do(tiny, exported, tmp_path):
    model, _ = tiny
    readers = {"check_onnx": check_onnx, "check_onnx(full_check=False)": lambda p: check_onnx(p, full_check=False),
               "read_metadata": read_metadata, "onnx_session": onnx_session, "openvino_model": openvino_model,
               "quantize_int8": quantize_int8}
    for path in _broken_copies(exported, tmp_path):
        before = path.read_bytes()
        wording = rf"{re.escape(str(path))} is not a valid ONNX file \(.+\)\. It may be truncated or not an ONNX model: " \
                  r"delete it and export again \(export_onnx\(\.\.\., overwrite=True\)\)\."
        for name, read in readers.items():
            with pytest.raises(ValueError, match=wording):
                read(path)
        with pytest.raises(FileExistsError, match=rf"{re.escape(str(path))} exists but is not a usable ONNX file"):
            export_onnx(model, path)  # in the way of an export: named, and left alone
        assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.onnx", "garbage.onnx", "half.onnx"]  # no int8 written
    with pytest.raises(ValueError, match=r"empty: 0 bytes"):
        read_metadata(tmp_path / "empty.onnx")  # onnx.load reads an empty file as an empty model, without an error
    with pytest.raises(IsADirectoryError, match=r"is a folder: give the path of an \.onnx file"):
        check_onnx(tmp_path)


def test_export_and_int8_check_their_folder_before_any_work(tiny, exported, tmp_path, monkeypatch):
    import onnxruntime.quantization

    model, _ = tiny
    monkeypatch.setattr(torch.onnx, "export", lambda *a, **k: pytest.fail("exported before the folder was checked"))
    monkeypatch.setattr(onnxruntime.quantization, "quantize_dynamic",
                        lambda *a, **k: pytest.fail("quantized before the folder was checked"))
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(NotADirectoryError, match=rf"the ONNX file's folder {re.escape(str(blocker))} is a file, not a "
                                                 r"folder\. Give a folder \(it is created if missing\), or move the file away"):
        export_onnx(model, blocker / "model.onnx")
    with pytest.raises(NotADirectoryError, match=rf"cannot be created: {re.escape(str(blocker))} is a file"):
        quantize_int8(exported.path, blocker / "deeper" / "model.int8.onnx")

    def refused(*args, **kwargs):  # what a read-only folder answers (chmod does not stop root, who runs the tests)
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(helpers.outputs.tempfile, "NamedTemporaryFile", refused)
    with pytest.raises(PermissionError, match=rf"cannot write in the int8 file's folder {re.escape(str(tmp_path))} "
                                              r"\(Permission denied\): you may not write there: choose a folder"):
        quantize_int8(exported.path, tmp_path / "model.int8.onnx")
    assert export_onnx(model, exported.path).reused  # nothing to write: a read-only folder is no obstacle


def test_an_input_size_the_file_cannot_take_is_a_clear_error(exported):
    session = onnx_session(exported.path)
    with pytest.raises(ValueError, match=r"cannot take a 351×518 input: height and width must be multiples of 14.*"
                                         r"resize to e\.g\. 350×518"):
        session(np.zeros((1, 3, 351, 518), np.float32))
    with pytest.raises(ValueError, match=r"pixel_values of shape \(batch, 3, height, width\); got \(1, 4, 28, 28\)"):
        session(np.zeros((1, 4, 28, 28), np.float32))
    with pytest.raises(ValueError, match="multiples of 14"):
        session(np.zeros((1, 3, 0, 14), np.float32))


def test_int8_quantization_is_smaller_runs_and_is_reused(tiny, exported):
    model, processor = tiny
    quantized = quantize_int8(exported.path)
    assert quantized.path == exported.path.with_name("tiny.int8.onnx") and not quantized.reused
    assert quantized.path.stat().st_size < exported.path.stat().st_size
    metadata = read_metadata(quantized.path)
    assert metadata["quantized"] == "int8 dynamic"
    assert metadata["weights_sha256"] == read_metadata(exported.path)["weights_sha256"]
    ops = {node.op_type for node in check_onnx(quantized.path).graph.node}
    assert "DynamicQuantizeLinear" in ops or "MatMulInteger" in ops
    session = onnx_session(quantized.path)
    assert session.precision == "int8 (dynamic)"
    image = _image(300, 451)
    depth = predict_onnx(session, processor, image)
    assert tuple(depth.shape) == (300, 451) and torch.isfinite(depth).all()
    before = quantized.path.read_bytes()
    assert quantize_int8(exported.path).reused and quantized.path.read_bytes() == before
    with pytest.raises(FileExistsError, match=r"holds a quantized model \(int8 dynamic\), not a float export"):
        export_onnx(model, quantized.path)
    assert quantized.path.read_bytes() == before


def test_quantize_refuses_a_foreign_file_unless_asked(exported, tmp_path):
    out = tmp_path / "q.onnx"
    out.write_bytes(b"mine")
    with pytest.raises(FileExistsError, match=r"q\.onnx exists but is not a usable ONNX file.*overwrite=True"):
        quantize_int8(exported.path, out)
    assert out.read_bytes() == b"mine"
    assert not quantize_int8(exported.path, out, overwrite=True).reused
    assert read_metadata(out)["quantized"] == "int8 dynamic"
    with pytest.raises(ValueError, match="must differ"):
        quantize_int8(exported.path, exported.path)


def test_openvino_compiles_the_file_and_reports_its_precision(tiny, exported):
    model, processor = tiny
    compiled = openvino_model(exported.path, precision="f32", threads=1)
    assert compiled.backend == "openvino" and compiled.precision == "f32"
    assert compiled.runtime.get_property("INFERENCE_NUM_THREADS") == 1
    image = _image(200, 300)
    assert max_relative_difference(predict_onnx(compiled, processor, image), _eager(model, processor, image)) <= 1e-4
    bf16 = openvino_model(exported.path, precision="bf16")
    assert bf16.precision in ("bf16", "f32")  # OpenVINO falls back to f32 on a CPU without bfloat16 units
    features = cpu_features()
    if platform.machine().lower() in ("x86_64", "amd64") and features["BF16"] is False and features["AMX"] is False:
        assert bf16.precision == "f32"  # no bfloat16 units: the hint cannot be honoured
    with pytest.raises(ValueError, match="multiples of 14"):
        compiled(np.zeros((1, 3, 20, 28), np.float32))


def test_openvino_static_shapes_give_the_same_maps_and_keep_the_last_shapes(tiny, exported, monkeypatch):
    from helpers import deploy as deploy_module

    model, processor = tiny
    monkeypatch.setattr(deploy_module, "SHAPES_KEPT", 2)
    any_shape = openvino_model(exported.path, precision="f32", threads=1)
    static = openvino_model(exported.path, precision="f32", threads=1, static_shapes=True)
    assert static.precision == "f32" and static.runtime.get_property("INFERENCE_NUM_THREADS") == 1
    for height, width in ((200, 300), (300, 200), (200, 300), (150, 150)):  # 3 input shapes, one seen twice
        image = _image(height, width)
        assert max_relative_difference(predict_onnx(static, processor, image), predict_onnx(any_shape, processor, image)) <= 1e-6
    def shape(height, width):
        return tuple(processor(images=_image(height, width), return_tensors="np")["pixel_values"].shape)

    assert shape(200, 300) != shape(300, 200)
    assert list(static.runtime.compiled) == [shape(200, 300), shape(150, 150)]  # the two used last, oldest first
    assert all(len(compiled.inputs[0].get_partial_shape().to_shape()) == 4 for compiled in static.runtime.compiled.values())
    with pytest.raises(ValueError, match="multiples of 14"):
        static(np.zeros((1, 3, 20, 28), np.float32))


def test_default_path_and_source_names(tiny, monkeypatch):
    model, _ = tiny
    path = deploy.default_onnx_path(model)
    assert path == helpers.build_dir() / "onnx" / "Depth-Anything-V2-Small-hf-stand-in-tiny.onnx"
    cached = "/home/me/.cache/huggingface/hub/models--depth-anything--Depth-Anything-V2-Small-hf/snapshots/abc123"
    monkeypatch.setattr(model, "name_or_path", cached)
    assert onnx_identity.model_source(model) == "depth-anything/Depth-Anything-V2-Small-hf"
    assert deploy.default_onnx_path(model).name == "Depth-Anything-V2-Small-hf.onnx"


def test_bad_suffix_and_example_size(tiny, tmp_path):
    model, _ = tiny
    with pytest.raises(ValueError, match=r"\.onnx suffix"):
        export_onnx(model, tmp_path / "model.bin")
    with pytest.raises(ValueError, match=r"example_size \(350, 517\) must be multiples of 14"):
        export_onnx(model, tmp_path / "model.onnx", example_size=(350, 517))
    assert not (tmp_path / "model.onnx").exists()


def test_max_relative_difference_exact_values():
    assert max_relative_difference([1.0, 2.0, 4.0], [1.0, 2.0, 4.0]) == 0.0
    assert max_relative_difference([1.0, 2.5, 4.0], [1.0, 2.0, 4.0]) == 0.125  # 0.5 / 4
    assert max_relative_difference(np.array([-8.0, 0.0]), np.array([-10.0, 1.0])) == 0.2
    with pytest.raises(ValueError, match="shapes differ"):
        max_relative_difference([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="all zeros"):
        max_relative_difference([1.0], [0.0])




def test_error_line_is_type_and_first_line_without_colour_codes():
    err = RuntimeError("Failed to export. \x1b[96mThis is step 1/3\x1b[0m of exporting.\nthe graph ...\nmore")
    assert error_line(err) == "RuntimeError: Failed to export. This is step 1/3 of exporting."
    assert error_line(ValueError()) == "ValueError: (no message)"


def test_a_staged_write_replaces_the_file_only_once_complete_and_leaves_nothing_behind(tmp_path):
    target = tmp_path / "out" / "model.onnx"
    with onnx_identity.staged_file(target) as staged:
        staged.write_bytes(b"first")
    assert target.read_bytes() == b"first" and [p.name for p in target.parent.iterdir()] == ["model.onnx"]
    with pytest.raises(RuntimeError, match="interrupted"), onnx_identity.staged_file(target) as staged:
        staged.write_bytes(b"half")
        raise RuntimeError("interrupted")
    assert target.read_bytes() == b"first" and [p.name for p in target.parent.iterdir()] == ["model.onnx"]
