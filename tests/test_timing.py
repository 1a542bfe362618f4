"""helpers.timing: warm-up and repetition counts, medians, GPU synchronisation and speedups; the benchmarks' stages
and layer rates, 07's variant plot (the speed targets are benchmarks.cpu_runtimes's: tests/test_benchmarks.py)."""

from types import SimpleNamespace

import pytest
import torch

import helpers.timing as timing_module
from helpers.timing import (
    StageTimings, Timing, layer_rates, markdown_table, plot_variant_times, speedups,
    synchronize, time_call, time_interleaved, time_stages,
)


def test_warmup_runs_are_not_timed_and_repeats_are():
    calls = []
    timing = time_call(lambda: calls.append(1), repeats=4, warmup=2)
    assert len(calls) == 6 and len(timing.samples_s) == 4
    assert all(s >= 0 for s in timing.samples_s)


def test_median_of_known_samples():
    timing = Timing((0.3, 0.1, 0.2, 5.0))
    assert timing.median_s == pytest.approx(0.25) and timing.median_ms == pytest.approx(250.0)
    assert str(Timing((0.3, 0.1, 0.2))) == "200.0 ms (median of 3, 100.0-300.0 ms)"


def test_bad_counts_are_clear_errors():
    with pytest.raises(ValueError, match="repeats"):
        time_call(lambda: None, repeats=0)
    with pytest.raises(ValueError, match="warmup"):
        time_call(lambda: None, warmup=-1)


def test_cuda_is_synchronised_after_warm_up_and_after_every_timed_run(monkeypatch):
    synced = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: synced.append(device))
    time_call(lambda: None, repeats=3, warmup=1, device="cuda")
    assert synced == ["cuda"] * 4
    synced.clear()
    time_call(lambda: None, repeats=3, warmup=1, device="cpu")
    synchronize("cpu")
    assert synced == []


def test_speedups_are_exact():
    timings = {"pre": Timing((0.1,)), "forward": Timing((0.3,)), "post": Timing((0.1,))}
    assert speedups(timings, "forward") == pytest.approx({"pre": 3.0, "forward": 1.0, "post": 3.0})
    with pytest.raises(KeyError, match="baseline"):
        speedups(timings, "nope")


def test_markdown_table_rows():
    table = markdown_table({"a": Timing((0.4,)), "b": Timing((0.2, 0.2))}, baseline="a", items=4,
                           extra={"b": {"max diff": "0.01"}})
    lines = table.splitlines()
    assert lines[0] == "| variant | median (ms) | runs | per image (ms, 4 images) | speedup vs a | max diff |"
    assert lines[2] == "| a | 400.0 | 1 | 100.0 | 1.00× |  |"
    assert lines[3] == "| b | 200.0 | 2 | 50.0 | 2.00× | 0.01 |"


def test_interleaved_runs_take_turns_after_the_warm_up():
    order = []
    timings = time_interleaved({"a": lambda: order.append("a"), "b": lambda: order.append("b")}, repeats=2, warmup=1)
    assert order == ["a", "b"] * 3
    assert list(timings) == ["a", "b"] and all(len(t.samples_s) == 2 for t in timings.values())
    with pytest.raises(ValueError, match="repeats"):
        time_interleaved({"a": lambda: None}, repeats=0)


# ---- notebook 07's measurements ---------------------------------------------------------------------

def test_layer_rates_count_two_flops_per_multiply_add(monkeypatch):
    layer = torch.nn.Linear(8, 32)
    seen = {}

    def fake(fns, repeats, warmup, device):
        seen.update(repeats=repeats, warmup=warmup, rows={b: None for b in fns})
        return {b: Timing((0.001 * b,)) for b in fns}  # 1 ms per image's rows

    monkeypatch.setattr(timing_module, "time_interleaved", fake)
    rates = layer_rates(layer, tokens=10, batches=(1, 4), repeats=7)
    # 2 × (b × 10 rows) × 8 × 32 = b × 5120 FLOP in b ms -> 5.12 MFLOP/s = 0.00512 GFLOP/s, whatever b
    assert rates == pytest.approx({1: 0.00512, 4: 0.00512})
    assert seen["repeats"] == 7 and seen["warmup"] == 3 and list(seen["rows"]) == [1, 4]


def test_layer_rates_runs_the_layer_on_batch_times_tokens_rows():
    rows = []
    layer = torch.nn.Linear(4, 6)
    layer.register_forward_hook(lambda module, args, out: rows.append(args[0].shape[0]))
    rates = layer_rates(layer, tokens=3, batches=(1, 2), repeats=1, warmup=0)
    assert rows == [3, 6] and set(rates) == {1, 2} and all(r > 0 for r in rates.values())


class _Processor:
    def __init__(self, calls):
        self.calls = calls

    def __call__(self, images, return_tensors):
        self.calls.append("pre")
        return SimpleNamespace(to=lambda device, dtype: {"pixel_values": torch.zeros(1, 3, 4, 4, dtype=dtype)})

    def post_process_depth_estimation(self, outputs, sizes):
        self.calls.append(("post", tuple(sizes)))
        return [{"predicted_depth": outputs}]


def test_time_stages_times_each_stage_in_turns_with_the_whole_call():
    calls = []

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(1))

        def forward(self, pixel_values):
            calls.append("forward")
            return pixel_values.sum()

    class Pipe:
        image_processor, model = _Processor(calls), Model()

        def __call__(self, image):
            calls.append("pipeline")

    pipe = Pipe()
    result = time_stages(pipe, SimpleNamespace(height=5, width=7), repeats=2, warmup=1)
    assert isinstance(result, StageTimings)
    assert list(result.stages) == ["pre-processing", "forward", "post-processing"]
    assert len(result.whole.samples_s) == 2 and all(len(t.samples_s) == 2 for t in result.stages.values())
    # one run to get inputs and outputs, then 1 warm-up + 2 timed rounds, in turns
    assert calls == ["pre", "forward"] + ["pre", "forward", ("post", ((5, 7),)), "pipeline"] * 3
    assert result.inputs["pixel_values"].shape == (1, 3, 4, 4)
    assert StageTimings({"forward": Timing((2.0,))}, Timing((2.2,)), None, None).overhead == pytest.approx(0.1)


def test_the_variant_plot_has_one_bar_per_entry():
    fig = plot_variant_times({"base": Timing((1.0,)), "fast": Timing((0.5,))}, "base", items=2, title="t")
    ax = fig.axes[0]
    assert [p.get_width() for p in ax.patches] == [250.0, 500.0]  # per item, reversed order (baseline on top)
    assert [t.get_text() for t in ax.texts] == [" 2.00×", " 1.00×"]
