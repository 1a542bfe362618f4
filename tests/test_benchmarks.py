"""benchmarks.cpu_runtimes and benchmarks.arithmetic: a quick run's JSON (structure and real values), report, verdicts."""

import json
import math

import pytest
import torch

from benchmarks import cpu_runtimes as bench
from benchmarks.arithmetic import arithmetic_ms, arithmetic_ops
from helpers.machine import CPU_FEATURES
from helpers.timing import Timing


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """One quick run (tiny stand-in, one repetition) of the runtime and batching sections, read back from its JSON.

    The ray section starts a local Ray instance (tens of seconds on a busy 2-core machine): notebook 09 runs that
    code path; here ``ray_summary`` and ``ray_targets`` are tested on known numbers.
    """
    folder = tmp_path_factory.mktemp("benchmark")
    path = folder / "result.json"
    assert bench.main(["--quick", "--only", "runtimes,batching", "--workdir", str(folder), "--json", str(path)]) == 0
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_quick_run_records_the_run_and_the_machine(quick):
    assert (quick["benchmark"], quick["version"], quick["quick"], quick["repeats"], quick["warmup"]) == \
        ("cpu_runtimes", bench.JSON_VERSION, True, 1, 0)
    assert list(quick["sections"]) == ["runtimes", "batching"]
    machine = quick["machine"]
    assert machine["cpu"] and machine["cores"] >= 1 and machine["describe"].startswith("CPU: ")
    assert list(machine["features"]) == list(CPU_FEATURES)
    assert machine["versions"]["torch"] and machine["versions"]["onnxruntime"] and machine["versions"]["openvino"]
    assert all(section["seconds"] > 0 for section in quick["sections"].values())


def test_every_runtime_option_is_timed_against_eager(quick):
    runtimes = quick["sections"]["runtimes"]
    assert runtimes["model"]["weights"].startswith("stand-in, tiny")
    assert runtimes["input"] == [1, 3, 350, 518] and runtimes["baseline"] == bench.BASELINE
    options = {o["name"]: o for o in runtimes["options"]}
    assert list(options) == [o.name for o in bench.RUNTIME_OPTIONS]
    assert not [o["error"] for o in options.values() if "error" in o]
    eager = options[bench.BASELINE]
    assert eager["speedup"] == 1.0 and eager["max_relative_difference"] == 0.0 and eager["computes"] == "f32"
    for option in options.values():
        assert len(option["samples_ms"]) == 1 and option["median_ms"] == option["samples_ms"][0] > 0
        assert option["speedup"] == pytest.approx(eager["median_ms"] / option["median_ms"])
        assert math.isfinite(option["max_relative_difference"]) and option["max_relative_difference"] >= 0
        assert option["megabytes"] > 0 and option["floor_ms"] > 0
        assert option["share_of_floor"] == pytest.approx(option["floor_ms"] / option["median_ms"])
        assert option["floor_ms"] == runtimes["floors_ms"][bench.precision_class(option["computes"])]
    for f32 in ("ONNX Runtime f32", "OpenVINO f32 hint"):  # the same arithmetic as eager, up to summation order
        assert options[f32]["computes"] == "f32" and options[f32]["max_relative_difference"] <= 1e-4
    assert options["ONNX Runtime int8 (dynamic)"]["computes"] == "int8 (dynamic)"
    assert options["ONNX Runtime int8 (dynamic)"]["megabytes"] < options["ONNX Runtime f32"]["megabytes"]
    assert options["OpenVINO bf16 hint"]["computes"] in ("bf16", "f32")  # f32 where the CPU has no bfloat16 units
    for static in ("ONNX Runtime int8 static (QDQ)", "OpenVINO int8 static (NNCF), f32 hint"):
        assert options[static]["computes"] == "int8 (static) + f32"
        assert options[static]["megabytes"] < options["ONNX Runtime f32"]["megabytes"]
    assert options["OpenVINO int8 static (NNCF), bf16 hint"]["computes"] in ("int8 (static) + bf16", "int8 (static) + f32")
    assert runtimes["calibration_images"] == list(bench.CALIBRATION_PHOTOS[:bench.QUICK_CALIBRATION])
    assert runtimes["gflop"] > 0 and set(runtimes["floors_ms"]) == {k for k, v in runtimes["gemm_gflops"].items() if v}
    assert {"f32", "int8"} <= set(runtimes["floors_ms"])
    assert runtimes["floors_ms"]["f32"] == pytest.approx(1000 * runtimes["gflop"] / runtimes["gemm_gflops"]["f32"])
    assert runtimes["arithmetic_f32_ms"] > 0
    assert runtimes["export"]["megabytes"] == options["ONNX Runtime f32"]["megabytes"]


def test_the_batching_section_holds_its_evidence(quick):
    batching = quick["sections"]["batching"]
    variants = {v["name"]: v for v in batching["variants"]}
    assert list(variants) == [bench.PER_IMAGE, "pipeline, list, batch_size=4", "predict_depth, batch 4"]
    assert variants[bench.PER_IMAGE]["speedup"] == 1.0 and variants[bench.PER_IMAGE]["max_relative_difference"] == 0.0
    assert all(v["max_relative_difference"] <= 1e-4 for v in variants.values())  # batching never changes the maps
    assert all(v["per_image_ms"] == pytest.approx(v["median_ms"] / 4) for v in variants.values())
    assert batching["best_batched"]["name"] in list(variants)[1:]
    assert list(batching["stages_ms"]) == ["pre-processing", "forward", "post-processing"]
    assert batching["pipeline_overhead"] == pytest.approx(batching["pipeline_call_ms"] / batching["stages_ms"]["forward"] - 1)
    assert batching["colorize_4k_ms"] > 0
    layer = batching["layer"]
    assert layer["rows_per_image"] == 25 * 37 + 1  # a 350 x 518 input: 25 x 37 patches of 14 pixels, plus the class token
    assert list(layer["gflops"]) == ["1", "4", "16"] and layer["ratio_to_one_image"]["1"] == 1.0


def test_the_targets_are_listed_with_verdicts(quick):
    targets = quick["targets"]
    assert [t["section"] for t in targets] == ["runtimes"] * 3 + ["batching"] * 3
    assert all(t["met"] in (True, False, None) for t in targets)
    floor = targets[2]
    assert floor["met"] in (True, False) and "float32 floor" in floor["what"]  # issue 22: measured, with a verdict
    assert "the lowest floor" in targets[1]["note"]  # why the fastest option cannot go faster, from the floor
    goal, _ = bench.fastest_goal(quick["machine"]["features"])
    assert f"≥ {goal:g}×" in targets[1]["goal"]


def test_the_report_shows_the_machine_every_row_and_the_targets(quick):
    text = bench.report(quick)
    assert quick["machine"]["describe"] in text and "[--quick: tiny stand-in, timings meaningless]" in text
    assert all(f"| {o.name} |" in text for o in bench.RUNTIME_OPTIONS)
    assert "| predict_depth, batch 4 |" in text and "## targets" in text and "ONNX Runtime f32 vs eager PyTorch" in text


def _row(name, speedup, difference, computes="f32", median_ms=100.0):
    return {"name": name, "speedup": speedup, "max_relative_difference": difference, "computes": computes,
            "median_ms": median_ms}


def test_runtime_targets_verdicts():
    avx2 = {"AVX2": True, "AVX-512": False, "VNNI": False, "BF16": False, "AMX": False}
    rows = [_row(bench.BASELINE, 1.0, 0.0, median_ms=300.0), _row("ONNX Runtime f32", 1.6, 2e-5, median_ms=187.5),
            _row("OpenVINO bf16 hint", 1.9, 1e-2, "bf16", 157.9), {"name": "broken", "error": "x"}]
    ort, fastest, floor = bench.runtime_targets(rows, avx2, {})
    assert (ort.met, fastest.met, floor.met) == (True, True, None)
    assert fastest.what == "fastest option (OpenVINO bf16 hint) vs eager PyTorch" and fastest.value == "1.90×"
    assert "1.0e-02" in fastest.note
    rows[1]["max_relative_difference"] = 2e-4  # fast enough, but not the same result
    assert not bench.runtime_targets(rows, avx2, {})[0].met
    avx512_vnni = dict(avx2, **{"AVX-512": True, "VNNI": True})
    assert not bench.runtime_targets(rows, avx512_vnni, {})[1].met  # 1.9x is short of 4x on such a CPU
    floor = bench.runtime_targets(rows, avx2, {"f32": 150.0})[2]
    assert (floor.met, floor.value) == (True, "1.25× the floor (150 ms)")  # ONNX Runtime f32: 187.5 / 150
    assert not bench.runtime_targets(rows, avx2, {"f32": 140.0})[2].met
    note = bench.runtime_targets(rows, avx2, {"f32": 150.0}, arithmetic_ms=180.0)[2].note
    assert note.endswith("take 180 ms = 1.20× the floor") and "80 % of the float32" in note


def test_fastest_goal_follows_the_cpu_class():
    assert bench.fastest_goal({"AVX-512": True, "VNNI": True})[0] == 4.0
    assert bench.fastest_goal({"AVX-512": True, "VNNI": False})[0] == 1.8
    assert bench.fastest_goal({"AVX-512": False, "VNNI": True})[0] == 1.8  # AVX-VNNI on an AVX2 laptop
    assert bench.fastest_goal({name: None for name in CPU_FEATURES})[0] == 1.8


def test_batching_targets_verdicts_and_lines():
    targets = bench.batching_targets(0.05, ("predict_depth, batch 4", 1.33), 41.0)
    assert [t.met for t in targets] == [True, True, False]
    assert [str(t) for t in targets] == [
        "met      pipeline overhead over the bare forward pass: 5.0 % (target ≤ 10 %)",
        "met      batched throughput (predict_depth, batch 4): 1.33× (target ≥ 1.3×)",
        "NOT met  colorize a 3840×2160 depth map: 41.0 ms (target ≤ 40 ms)",
    ]
    assert not bench.batching_targets(0.1001, ("x", 1.29), 40.0)[1].met
    assert bench.batching_targets(0.10, ("x", 1.3), 40.0)[0].met
    assert str(bench.Target("s", "a", "1", "2", None, "why")) == "—        a: 1 (target 2); why"


NAMES = ["pipeline, one call per image", "pipeline, list, batch_size=4", "predict_depth, batch 4",
         "bfloat16 (predict_depth, batch 1)"]


def test_best_batched_selects_by_batch_size_not_by_name():
    # bfloat16 at batch 1 is the fastest and has "batch" in its name: it must not count as batched
    timings = {name: Timing((s,)) for name, s in zip(NAMES, (2.0, 2.0 / 0.97, 2.0 / 0.95, 1.0))}
    name, speedup = bench.best_batched(timings, NAMES[0], {NAMES[1]: 4, NAMES[2]: 4})
    assert (name, round(speedup, 2)) == ("pipeline, list, batch_size=4", 0.97)
    with pytest.raises(ValueError, match="more than one image per forward pass"):
        bench.best_batched(timings, NAMES[0], {NAMES[3]: 1})


def test_ray_summary_and_target():
    summary = bench.ray_summary(8, 8, plain_s=4.0, start_s=3.0, total_s=12.0, before_ready_s=7.0, running_s=4.8)
    assert summary["overhead_running"] == pytest.approx(0.2) and summary["overhead_with_start"] == pytest.approx(2.0)
    (target,) = bench.ray_targets(summary["overhead_running"])
    assert target.met and target.value == "20.0 %"
    assert not bench.ray_targets(0.2501)[0].met


def test_precision_classes_and_the_options_table():
    assert [bench.precision_class(c) for c in ("f32", "bf16", "int8 (dynamic)", "int8 (static)")] == \
        ["f32", "bf16", "int8", "int8"]
    names = [o.name for o in bench.RUNTIME_OPTIONS]
    assert names[0] == bench.BASELINE and len(set(names)) == len(names)


def test_arguments(tmp_path):
    settings, path = bench.parse(["--quick", "--workdir", str(tmp_path)])
    assert (settings.quick, settings.repeats, settings.sections, path) == \
        (True, 1, bench.SECTIONS, tmp_path / "cpu_runtimes-quick.json")
    settings, path = bench.parse(["--only", "ray,runtimes", "--repeats", "3", "--workdir", str(tmp_path)])
    assert (settings.sections, settings.repeats, settings.warmup, path) == \
        (("ray", "runtimes"), 3, 1, tmp_path / "cpu_runtimes.json")
    with pytest.raises(SystemExit):
        bench.parse(["--only", "gpu"])


def test_avx2_only_runs_a_child_process_with_the_limits_and_skips_onnx_runtime(tmp_path, monkeypatch):
    from helpers.machine import AVX2_ONLY_ENVIRONMENT

    settings, path = bench.parse(["--avx2-only", "--only", "runtimes", "--workdir", str(tmp_path)])
    assert settings.avx2_only and path == tmp_path / "cpu_runtimes-avx2.json"
    calls = []

    class Done:
        returncode = 3

    monkeypatch.setattr(bench, "limited_to_avx2", lambda: False)
    monkeypatch.setattr(bench.subprocess, "run", lambda command, **kw: calls.append((command, kw)) or Done())
    argv = ["--avx2-only", "--only", "runtimes", "--workdir", str(tmp_path)]
    assert bench.main(argv) == 3  # the child's exit status
    (command, kw), = calls
    assert command[1:] == ["-m", "benchmarks.cpu_runtimes", *argv]
    assert {k: kw["env"][k] for k in AVX2_ONLY_ENVIRONMENT} == AVX2_ONLY_ENVIRONMENT
    kept, skipped = bench.runtime_options(avx2_only=True)
    assert [o.name for o in kept] == [o.name for o in bench.RUNTIME_OPTIONS if not o.name.startswith("ONNX Runtime")]
    assert [r["name"] for r in skipped] == [o.name for o in bench.RUNTIME_OPTIONS if o.name.startswith("ONNX Runtime")]
    assert len(skipped) == 3 and all("cannot be limited" in r["skipped"] for r in skipped)
    assert bench.runtime_options(avx2_only=False) == (bench.RUNTIME_OPTIONS, [])


def test_hardware_limits_keep_the_fastest_rate_and_the_shortest_replay():
    first = {"gemm_gflops": {"f32": 200.0, "bf16": None, "int8": 2000.0}, "arithmetic_f32_ms": 400.0}
    second = {"gemm_gflops": {"f32": 280.0, "bf16": None, "int8": 1400.0}, "arithmetic_f32_ms": 350.0}
    best = bench.hardware_limits(70.0, first, second)
    assert best["gflop"] == 70.0
    assert best["gemm_gflops"] == {"f32": 280.0, "bf16": None, "int8": 2000.0}
    assert best["floors_ms"] == {"f32": pytest.approx(250.0), "int8": pytest.approx(35.0)}
    assert best["arithmetic_f32_ms"] == 350.0


def test_avx2_only_withholds_a_met_that_rests_on_openvino_float32_layers():
    rows = [_row(bench.BASELINE, 1.0, 0.0, median_ms=600.0), _row("OpenVINO f32 hint", 1.4, 1e-6, median_ms=430.0),
            _row("OpenVINO int8 static (NNCF), f32 hint", 1.1, 5e-2, "int8 (static) + f32", 545.0)]
    avx2 = {"AVX2": True, "AVX-512": False, "VNNI": False, "BF16": False, "AMX": False}
    fastest, floor = bench.runtime_targets(rows, avx2, {"f32": 450.0}, avx2_only=True)
    assert (fastest.met, floor.met) == (False, None)  # NOT met stands; met (0.96x the floor) is not measured
    assert all("upper estimate" in t.note for t in (fastest, floor))
    eager_only = [_row(bench.BASELINE, 1.0, 0.0, median_ms=600.0), _row("OpenVINO bf16 hint", 2.0, 1e-2, "bf16", 300.0)]
    (fastest,) = [t for t in bench.runtime_targets(eager_only, avx2, {}, avx2_only=True)
                  if t.what.startswith("fastest option")]
    assert fastest.met is True and "upper estimate" not in fastest.note


def test_arithmetic_ops_lists_each_product_at_its_shape_and_count():
    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 8, kernel_size=2, stride=2)
            self.linear = torch.nn.Linear(8, 8)

        def forward(self, x):
            tokens = self.conv(x).flatten(2).transpose(1, 2).reshape(16, 8)  # 16 tokens of 8 channels
            tokens = self.linear(self.linear(tokens))  # the same layer twice: one entry, counted twice
            q = tokens.view(1, 16, 2, 4).transpose(1, 2)  # 2 heads of 4 channels
            return torch.nn.functional.scaled_dot_product_attention(q, q, q)

    ops = arithmetic_ops(Block().eval(), torch.zeros(1, 3, 8, 8))

    def shapes(args):
        return [a[1] for a in args if isinstance(a, tuple) and a[:1] == ("tensor",)]

    assert [(name, shapes(args), count) for name, args, _, count in ops] == [
        ("convolution", [(1, 3, 8, 8), (8, 3, 2, 2), (8,)], 1),
        ("addmm", [(8,), (16, 8), (8, 8)], 2),
        ("_scaled_dot_product_flash_attention_for_cpu", [(1, 2, 16, 4)] * 3, 1)]
    assert arithmetic_ms(Block().eval(), torch.zeros(1, 3, 8, 8), repeats=2, threads=1) > 0
