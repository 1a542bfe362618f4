"""Notebook 13's model zoo: registry entries, a stand-in for every family, Depth Pro's field of view -> pixels, its depth ∝ f."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from helpers.classroom import prefetch
from helpers.geometry import Intrinsics
from helpers.registry import CHECKPOINTS
from helpers.standins import build_stand_in, is_stand_in, model_config

NEW = ["Intel/dpt-large", "vinvino02/glpn-nyu", "LiheYoung/depth-anything-small-hf", "apple/DepthPro-hf",
       "depth-anything/prompt-depth-anything-vits-hf"]


def test_every_entry_states_its_output_licence_and_training_data():
    for hub_id, info in CHECKPOINTS.items():
        assert info.output.startswith(("relative", "metric")), hub_id
        assert info.licence and info.trained_on, hub_id
    assert {CHECKPOINTS[h].licence for h in NEW} == {"apache-2.0", "apple-amlr"}
    assert not CHECKPOINTS["apple/DepthPro-hf"].commercial_use
    assert CHECKPOINTS["apple/DepthPro-hf"].output == "metric depth (m) + field of view"


def test_the_new_families_are_prefetched_only_when_named():
    names = [item.name for item in prefetch.plan()]
    assert not set(NEW) & set(names)
    assert [item.name for item in prefetch.plan(["apple/depthpro-hf"])] == ["apple/DepthPro-hf"]


@pytest.mark.parametrize("hub_id", NEW)
def test_each_stand_in_builds_offline_and_its_output_matches_post_processing(hub_id):
    from transformers import AutoImageProcessor, AutoModelForDepthEstimation

    folder = build_stand_in(CHECKPOINTS[hub_id])
    assert is_stand_in(folder)
    processor = AutoImageProcessor.from_pretrained(folder)
    model = AutoModelForDepthEstimation.from_pretrained(folder).eval()
    assert type(processor).__name__ == CHECKPOINTS[hub_id].processor["image_processor_type"]
    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (60, 80, 3), dtype=np.uint8))
    inputs = processor(images=image, return_tensors="pt")
    with torch.no_grad():
        outputs = model(**inputs)
    assert outputs.predicted_depth.shape[-2:] == inputs.pixel_values.shape[-2:]
    result = processor.post_process_depth_estimation(outputs, target_sizes=[(60, 80)])[0]
    assert tuple(result["predicted_depth"].shape) == (60, 80)
    if hub_id == "apple/DepthPro-hf":
        assert {"field_of_view", "focal_length"} <= set(result)
        fov = float(result["field_of_view"])
        assert float(result["focal_length"]) == pytest.approx(Intrinsics.from_fov(80, 60, fov).fx, rel=1e-5)
        # its metres are computed from its own focal length: depth ∝ f (notebook 13), so X = (u - cx)·Z/f is not
        focal, depth = {}, {}
        # a canonical inverse depth inside post-processing's clamp (1e-4..1e4), which random weights can leave
        outputs.predicted_depth = 0.5 + torch.rand(outputs.predicted_depth.shape, generator=torch.Generator().manual_seed(0))
        for hfov in (40.0, 70.0):
            outputs.field_of_view = torch.full_like(outputs.field_of_view, hfov)
            found = processor.post_process_depth_estimation(outputs, target_sizes=[(60, 80)])[0]
            focal[hfov], depth[hfov] = float(found["focal_length"]), found["predicted_depth"]
        torch.testing.assert_close(depth[40.0] / depth[70.0], torch.full((60, 80), focal[40.0] / focal[70.0]),
                                   rtol=1e-4, atol=0)


def test_full_size_configs_have_the_real_sizes():
    def parameters(hub_id):
        from transformers import AutoModelForDepthEstimation

        with torch.device("meta"):
            model = AutoModelForDepthEstimation.from_config(model_config(CHECKPOINTS[hub_id], full=True))
        return sum(p.numel() for p in model.parameters()) / 1e6

    # the model cards: DPT-Large 343 M, GLPN 61 M (MiT-b4), Depth Anything (V1, Prompt) ViT-S about 25 M, Depth Pro 952 M
    assert parameters("Intel/dpt-large") == pytest.approx(343, abs=2)
    assert parameters("vinvino02/glpn-nyu") == pytest.approx(61.2, abs=0.5)
    assert parameters("LiheYoung/depth-anything-small-hf") == pytest.approx(24.8, abs=0.3)
    assert parameters("depth-anything/prompt-depth-anything-vits-hf") == pytest.approx(25.1, abs=0.3)
    assert parameters("apple/DepthPro-hf") == pytest.approx(952, abs=3)


def test_the_benchmark_command_prints_a_table_and_writes_json(tmp_path, capsys):
    from benchmarks import model_zoo

    path = tmp_path / "zoo.json"
    assert model_zoo.main(["--quick", "--only", "Intel/dpt-large,apple/DepthPro-hf", "--json", str(path)]) == 0
    result = json.loads(path.read_text(encoding="utf-8"))
    assert (result["benchmark"], result["quick"], result["repeats"]) == ("model_zoo", True, 1)
    assert result["machine"]["describe"].startswith("CPU: ")
    rows = {row["checkpoint"]: row for row in result["models"]}
    assert rows["apple/DepthPro-hf"]["input"] == [1, 3, 1536, 1536]
    assert rows["apple/DepthPro-hf"]["returns"] == ["field_of_view", "focal_length", "predicted_depth"]
    assert rows["Intel/dpt-large"]["weights"] == "stand-in, tiny" and rows["Intel/dpt-large"]["forward_ms"] > 0
    printed = capsys.readouterr().out
    assert "| Intel/dpt-large | relative disparity | apache-2.0 |" in printed and "load average" in printed


def test_notebook_13s_backprojection_is_the_helpers_one():
    from helpers.geometry import backproject
    from tests.lesson_code import lesson_function

    lesson_backproject = lesson_function("13", "backproject")
    depth = np.array([[1.0, 2.0, np.nan], [4.0, 0.5, 3.0]], dtype=np.float32)
    K = Intrinsics(2.0, 4.0, 1.0, 0.5)
    np.testing.assert_allclose(lesson_backproject(depth, K), backproject(depth, K), rtol=1e-6)
    assert lesson_backproject(depth, K)[1, 2].tolist() == [1.5, 0.375, 3.0]  # X = (2 − 1)·3 / 2, Y = (1 − 0.5)·3 / 4
