import http.server
import json
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import checkpoints
from helpers.checkpoints import (
    CHECKPOINTS,
    UnknownCheckpointError,
    checkpoint_info,
    hub_is_reachable,
    is_stand_in,
    resolve_checkpoint,
)
from helpers.data import load_image


@pytest.fixture(autouse=True)
def fresh_probe():
    hub_is_reachable.cache_clear()
    yield
    hub_is_reachable.cache_clear()


def test_offline_env_decides_without_touching_the_network(monkeypatch):
    import requests

    def boom(*args, **kwargs):
        raise AssertionError("the probe must not run under HF_HUB_OFFLINE=1")

    monkeypatch.setattr(requests, "head", boom)
    assert hub_is_reachable() is False


def test_probe_says_unreachable_when_nothing_listens(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("DEPTH_TUTORIALS_OFFLINE", "0")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: connection refused at once
    assert hub_is_reachable() is False


def test_probe_says_reachable_when_the_endpoint_answers(monkeypatch):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HF_HUB_OFFLINE", "0")
        monkeypatch.setenv("DEPTH_TUTORIALS_OFFLINE", "0")
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
        assert hub_is_reachable() is True
    finally:
        server.shutdown()


def test_registry_lookup_is_case_insensitive_like_the_hub():
    info = checkpoint_info("depth-anything/Depth-Anything-V2-base-hf")  # the guide's spelling
    assert info.hub_id == "depth-anything/Depth-Anything-V2-Base-hf"
    assert info.licence == "cc-by-nc-4.0" and not info.commercial_use
    assert checkpoint_info("depth-anything/Depth-Anything-V2-Small-hf").licence == "apache-2.0"


def test_unknown_checkpoint_offline_names_the_likely_one():
    with pytest.raises(UnknownCheckpointError, match="Did you mean 'Intel/zoedepth-nyu-kitti'"):
        resolve_checkpoint("Intel/zoedepth-nyu-kiti")


def test_stand_in_announces_itself_once(capsys, monkeypatch):
    monkeypatch.setattr(checkpoints, "_ANNOUNCED", set())
    first = resolve_checkpoint("depth-anything/Depth-Anything-V2-Small-hf")
    second = resolve_checkpoint("depth-anything/Depth-Anything-V2-Small-hf")
    out = capsys.readouterr().out
    assert first == second and is_stand_in(first)
    assert out.count("STAND-IN MODEL: depth-anything/Depth-Anything-V2-Small-hf") == 1
    assert "MEANINGLESS" in out


def test_depth_anything_stand_in_has_the_real_processor_settings():
    from transformers import AutoImageProcessor, AutoModelForDepthEstimation

    path = resolve_checkpoint("depth-anything/Depth-Anything-V2-base-hf")
    processor = AutoImageProcessor.from_pretrained(path)
    assert (processor.size["height"], processor.size["width"]) == (518, 518)
    assert processor.keep_aspect_ratio is True and processor.ensure_multiple_of == 14
    assert processor.do_pad is False
    assert list(processor.image_mean) == [0.485, 0.456, 0.406] and list(processor.image_std) == [0.229, 0.224, 0.225]
    assert int(processor.resample) == 3
    model = AutoModelForDepthEstimation.from_pretrained(path)
    assert type(model).__name__ == "DepthAnythingForDepthEstimation"
    assert model.config.depth_estimation_type == "relative"
    # 300x451 keeps its aspect: the short side to 518 -> 518 x 778.7, rounded to multiples of 14 -> 350 x 518
    pixels = processor(load_image("chelsea"), return_tensors="pt").pixel_values
    assert tuple(pixels.shape) == (1, 3, 350, 518)


def test_zoedepth_stand_in_has_the_real_processor_settings():
    from transformers import AutoImageProcessor, AutoModelForDepthEstimation

    path = resolve_checkpoint("Intel/zoedepth-nyu-kitti")
    processor = AutoImageProcessor.from_pretrained(path)
    assert type(processor).__name__ == "ZoeDepthImageProcessor"
    assert (processor.size["height"], processor.size["width"]) == (384, 512)
    assert processor.do_pad is True and processor.keep_aspect_ratio is True and processor.ensure_multiple_of == 32
    assert list(processor.image_mean) == [0.5, 0.5, 0.5]
    model = AutoModelForDepthEstimation.from_pretrained(path)
    assert type(model).__name__ == "ZoeDepthForDepthEstimation"
    assert [b["max_depth"] for b in model.config.bin_configurations] == [10.0, 80.0]


def test_metric_depth_anything_stand_in_is_metric():
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(resolve_checkpoint("depth-anything/Depth-Anything-V2-Metric-Indoor-Small-hf"))
    assert config.depth_estimation_type == "metric" and config.max_depth == 20


def test_stand_in_runs_through_the_pipeline_at_the_source_size():
    from transformers import pipeline

    pipe = pipeline("depth-estimation", model=resolve_checkpoint("depth-anything/Depth-Anything-V2-Small-hf"))
    out = pipe(load_image("chelsea"))
    assert tuple(out["predicted_depth"].shape) == (300, 451)
    assert out["depth"].size == (451, 300)
    assert is_stand_in(pipe)


def test_stand_ins_are_deterministic(tmp_path, monkeypatch):
    info = CHECKPOINTS["depth-anything/Depth-Anything-V2-Small-hf"]
    first = checkpoints.build_stand_in(info)
    monkeypatch.setenv("DEPTH_TUTORIALS_CACHE", str(tmp_path))
    second = checkpoints.build_stand_in(info)
    assert first != second
    from safetensors.torch import load_file

    a, b = load_file(first / "model.safetensors"), load_file(second / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_full_stand_in_config_has_the_real_dimensions():
    small = checkpoints._model_config(CHECKPOINTS["depth-anything/Depth-Anything-V2-Small-hf"], full=True)
    assert (small.backbone_config.hidden_size, small.backbone_config.num_hidden_layers) == (384, 12)
    assert list(small.neck_hidden_sizes) == [48, 96, 192, 384] and small.fusion_hidden_size == 64
    zoe = checkpoints._model_config(CHECKPOINTS["Intel/zoedepth-nyu-kitti"], full=True)
    assert (zoe.backbone_config.hidden_size, zoe.backbone_config.num_hidden_layers) == (1024, 24)


def test_real_checkpoint_in_the_local_cache_wins_over_a_stand_in():
    from huggingface_hub import constants

    repo = Path(constants.HF_HUB_CACHE) / "models--depth-anything--Depth-Anything-V2-Large-hf"
    snapshot = repo / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123")
    (snapshot / "config.json").write_text(json.dumps({"model_type": "depth_anything"}))
    (snapshot / "model.safetensors").write_bytes(b"")
    try:
        assert resolve_checkpoint("depth-anything/Depth-Anything-V2-Large-hf") == str(snapshot)
        assert not is_stand_in(str(snapshot))
    finally:
        import shutil

        shutil.rmtree(repo)


def test_a_local_model_folder_is_used_as_it_is(tmp_path):
    assert resolve_checkpoint(str(tmp_path)) == str(tmp_path)
