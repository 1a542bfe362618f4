"""helpers.standins: deterministic stand-ins with the real dimensions on request, marked and labelled as such."""

import torch

from helpers import standins
from helpers.registry import CHECKPOINTS
from helpers.standins import STAND_IN_LABEL, build_stand_in, is_stand_in, model_config, stand_in_label


def test_stand_ins_are_deterministic(tmp_path, monkeypatch):
    info = CHECKPOINTS["depth-anything/Depth-Anything-V2-Small-hf"]
    first = build_stand_in(info)
    monkeypatch.setenv("DEPTH_TUTORIALS_CACHE", str(tmp_path))
    second = build_stand_in(info)
    assert first != second
    from safetensors.torch import load_file

    a, b = load_file(first / "model.safetensors"), load_file(second / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_full_stand_in_config_has_the_real_dimensions():
    small = model_config(CHECKPOINTS["depth-anything/Depth-Anything-V2-Small-hf"], full=True)
    assert (small.backbone_config.hidden_size, small.backbone_config.num_hidden_layers) == (384, 12)
    assert list(small.neck_hidden_sizes) == [48, 96, 192, 384] and small.fusion_hidden_size == 64
    zoe = model_config(CHECKPOINTS["Intel/zoedepth-nyu-kitti"], full=True)
    assert (zoe.backbone_config.hidden_size, zoe.backbone_config.num_hidden_layers) == (1024, 24)
    tiny = model_config(CHECKPOINTS["depth-anything/Depth-Anything-V2-Large-hf"], full=False)
    assert tiny.backbone_config.hidden_size == standins.TINY_DEPTH_ANYTHING["hidden"] == 32


def test_the_marker_file_decides_and_the_label_says_so(tmp_path):
    folder = build_stand_in(CHECKPOINTS["Intel/zoedepth-nyu-kitti"])
    assert is_stand_in(folder) and is_stand_in(str(folder))
    assert stand_in_label(folder) == "\nSTAND-IN: random weights, meaningless"
    assert stand_in_label(folder, prefix=" | ") == " | " + STAND_IN_LABEL
    assert not is_stand_in(tmp_path) and stand_in_label(tmp_path) == ""
    assert not is_stand_in("Intel/zoedepth-nyu-kitti")


def test_a_model_made_from_a_stand_in_and_saved_stays_marked(tmp_path):
    from transformers import AutoConfig, AutoModelForDepthEstimation

    folder = build_stand_in(CHECKPOINTS["depth-anything/Depth-Anything-V2-Small-hf"])
    model = AutoModelForDepthEstimation.from_pretrained(folder)
    assert model.config.stand_in_for == "depth-anything/Depth-Anything-V2-Small-hf"
    config = AutoConfig.from_pretrained(folder, depth_estimation_type="metric", max_depth=20)  # notebook 10's way
    metric = AutoModelForDepthEstimation.from_config(config)
    assert is_stand_in(metric)  # a new model object, no folder yet: its config says where it came from
    metric.save_pretrained(tmp_path / "fine-tuned")  # a plain save_pretrained, no marker file copied
    assert not (tmp_path / "fine-tuned" / standins.MARKER).exists()
    assert is_stand_in(tmp_path / "fine-tuned") and is_stand_in(AutoModelForDepthEstimation.from_pretrained(tmp_path / "fine-tuned"))
    assert stand_in_label(tmp_path / "fine-tuned") == "\n" + STAND_IN_LABEL
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "config.json").write_text('{"model_type": "depth_anything"}')
    assert not is_stand_in(tmp_path / "real")
