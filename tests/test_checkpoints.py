"""helpers.checkpoints: the three-step resolution (Hub, cache, stand-in), the probe, and the real user's path."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import checkpoints
from helpers.checkpoints import UnknownCheckpointError, checkpoint_info, hub_is_reachable, resolve_checkpoint
from helpers.data import load_image
from helpers.standins import is_stand_in


@pytest.fixture(autouse=True)
def fresh_probe(monkeypatch):
    monkeypatch.setattr(checkpoints, "_PROBES", {})


def _online(monkeypatch, endpoint):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("DEPTH_TUTORIALS_OFFLINE", "0")
    monkeypatch.setenv("HF_ENDPOINT", endpoint)


def test_offline_env_decides_without_touching_the_network(monkeypatch):
    import requests

    def boom(*args, **kwargs):
        raise AssertionError("the probe must not run under HF_HUB_OFFLINE=1")

    monkeypatch.setattr(requests, "head", boom)
    assert hub_is_reachable() is False


def test_probe_says_unreachable_when_nothing_listens(monkeypatch):
    _online(monkeypatch, "http://127.0.0.1:9")  # discard port: connection refused at once
    assert hub_is_reachable() is False


def test_probe_says_reachable_when_the_endpoint_answers(monkeypatch, fake_hub):
    hub = fake_hub({})
    _online(monkeypatch, hub.url)
    assert hub_is_reachable() is True
    assert hub.requests == [("HEAD", "/api/models")]


def test_probe_notices_when_the_network_comes_back_and_goes_away(monkeypatch, fake_hub):
    now = [1000.0]
    monkeypatch.setattr(checkpoints, "monotonic", lambda: now[0])
    hub = fake_hub({})
    _online(monkeypatch, hub.url)
    hub.server.stop()
    assert hub_is_reachable() is False  # started offline
    hub.server.start()
    now[0] += checkpoints.REPROBE_AFTER_S - 1
    assert hub_is_reachable() is False and hub.requests == []  # the answer is kept for a while: no probe
    now[0] += 2
    assert hub_is_reachable() is True  # the network came back: noticed
    assert hub.requests == [("HEAD", "/api/models")]
    hub.server.stop()
    now[0] += checkpoints.REPROBE_AFTER_S + 1
    assert hub_is_reachable() is False


def test_a_probe_that_gets_no_answer_gives_up_within_two_seconds(monkeypatch):
    import requests

    seen = {}

    def silent(url, timeout, allow_redirects):
        seen["timeout"] = timeout
        raise requests.Timeout("no answer")

    monkeypatch.setattr(requests, "head", silent)
    _online(monkeypatch, "http://127.0.0.1:9")
    assert hub_is_reachable() is False
    assert sum(seen["timeout"]) <= 2.0  # (connect, read): one decision takes at most this long


def test_registry_lookup_is_case_insensitive_like_the_hub():
    info = checkpoint_info("depth-anything/Depth-Anything-V2-base-hf")  # the guide's spelling
    assert info.hub_id == "depth-anything/Depth-Anything-V2-Base-hf"
    assert info.licence == "cc-by-nc-4.0" and not info.commercial_use
    assert checkpoint_info("depth-anything/Depth-Anything-V2-Small-hf").licence == "apache-2.0"
    metric = checkpoint_info("depth-anything/Depth-Anything-V2-Metric-Indoor-Small-hf")
    assert metric.licence == "not stated" and not metric.commercial_use  # no licence on its card: not assumed
    assert checkpoint_info("Intel/zoedepth-nyu-kitti").commercial_use


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


REAL_ID = "depth-anything/Depth-Anything-V2-Small-hf"
LEARNER = """
import sys
from transformers import AutoImageProcessor, AutoModelForDepthEstimation
import helpers

for checkpoint in sys.argv[1:]:
    try:
        path = helpers.resolve_checkpoint(checkpoint)
    except helpers.checkpoints.UnknownCheckpointError as err:
        print("unknown:", str(err).split(":")[1].split(".")[0].strip())
        continue
    model = AutoModelForDepthEstimation.from_pretrained(path)
    AutoImageProcessor.from_pretrained(path)
    print(path)
    print(type(model).__name__, "stand-in" if helpers.is_stand_in(model) else "real")
    print(round(sum(float(t.double().abs().sum()) for t in model.state_dict().values()), 6))
"""


def _weights_checksum(folder) -> float:
    from transformers import AutoModelForDepthEstimation

    model = AutoModelForDepthEstimation.from_pretrained(folder)
    return round(sum(float(t.double().abs().sum()) for t in model.state_dict().values()), 6)


def test_the_real_users_path_hub_download_cache_then_offline_reuse(tmp_path, fake_hub):
    """What a learner online gets, against a fake Hub (or mirror) named by HF_ENDPOINT, serving a tiny real model.

    Online: the probe answers, the model info says the repository exists, so resolve_checkpoint returns the Hub
    id and from_pretrained downloads it (the weights through a redirect, as the Hub serves LFS files) into the
    Hugging Face cache. Offline afterwards: the cached snapshot is used, without a request and without a stand-in.
    """
    from helpers.standins import MARKER, build_stand_in

    tiny = build_stand_in(checkpoint_info(REAL_ID))  # a small model of the real class, served as if it were real
    files = {name: (tiny / name).read_bytes() for name in ("config.json", "preprocessor_config.json", "model.safetensors")}
    config = json.loads(files["config.json"])
    config.pop("stand_in_for")  # a stand-in's config says what it stands in for: the "real" model's does not
    files["config.json"] = json.dumps(config).encode()
    assert not (tiny / MARKER).name in files
    hub = fake_hub({REAL_ID: files})
    env = dict(os.environ, HF_ENDPOINT=hub.url, HF_HOME=str(tmp_path / "hf"), HF_HUB_OFFLINE="0",
               DEPTH_TUTORIALS_OFFLINE="0", DEPTH_TUTORIALS_CACHE=str(tmp_path / "cache"))

    online = subprocess.run([sys.executable, "-c", LEARNER, REAL_ID, "nobody/no-such-model"], env=env,
                            capture_output=True, text=True, timeout=300)
    expected_sum = _weights_checksum(tiny)
    assert online.stdout.splitlines() == [REAL_ID, "DepthAnythingForDepthEstimation real", str(expected_sum),
                                          "unknown: the Hub has no such model repository"], online.stderr
    assert ("HEAD", "/api/models") in hub.requests
    assert ("GET", f"/api/models/{REAL_ID}") in hub.requests  # the model info that says the repository exists
    assert [p for m, p in hub.requests if p.startswith("/lfs/")]  # the weights came through the redirect
    assert hub.downloads() == ["config.json", "model.safetensors", "preprocessor_config.json"]
    snapshot = tmp_path / "hf" / "hub" / "models--depth-anything--Depth-Anything-V2-Small-hf" / "snapshots" / hub.commit(REAL_ID)
    assert sorted(p.name for p in snapshot.iterdir()) == sorted(files)

    hub.requests.clear()
    offline = subprocess.run([sys.executable, "-c", LEARNER, REAL_ID], env=dict(env, HF_HUB_OFFLINE="1"),
                             capture_output=True, text=True, timeout=300)
    assert offline.stdout.splitlines() == [str(snapshot), "DepthAnythingForDepthEstimation real", str(expected_sum)], \
        offline.stderr
    assert hub.requests == []
    assert "STAND-IN" not in online.stdout + offline.stdout


def test_load_depth_model_gives_the_processor_and_the_model_and_says_which_weights_run(capsys):
    from helpers.checkpoints import load_depth_model

    processor, model = load_depth_model("Intel/zoedepth-nyu-kitti", "cpu")
    assert (type(processor).__name__, type(model).__name__) == ("ZoeDepthImageProcessor", "ZoeDepthForDepthEstimation")
    assert is_stand_in(model) and str(model.device) == "cpu"
    assert capsys.readouterr().out.splitlines()[-1] == (
        "STAND-IN: random weights, meaningless: every depth value and picture from this ZoeDepthForDepthEstimation "
        "is noise; shapes, sizes and the code path are real.")
