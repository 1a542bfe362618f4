"""helpers.timing: warm-up and repetition counts, medians, GPU synchronisation, shares and speedups."""

import pytest
import torch

from helpers.timing import Timing, markdown_table, shares, speedups, synchronize, time_call, time_interleaved


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


def test_shares_and_speedups_are_exact():
    timings = {"pre": Timing((0.1,)), "forward": Timing((0.3,)), "post": Timing((0.1,))}
    assert shares(timings) == pytest.approx({"pre": 20.0, "forward": 60.0, "post": 20.0})
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
