"""Honest timings: warm-up runs, several repetitions, the median, and a GPU that has really finished."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping


@dataclass(frozen=True)
class Timing:
    """All measured durations of one call, in seconds (warm-up runs excluded)."""

    samples_s: tuple[float, ...]

    @property
    def median_s(self) -> float:
        """The median duration: robust to the odd slow run caused by other processes."""
        return statistics.median(self.samples_s)

    @property
    def median_ms(self) -> float:
        """The median duration in milliseconds."""
        return 1000.0 * self.median_s

    def __str__(self) -> str:
        spread = f", {1000 * min(self.samples_s):.1f}-{1000 * max(self.samples_s):.1f} ms" if len(self.samples_s) > 1 else ""
        return f"{self.median_ms:.1f} ms (median of {len(self.samples_s)}{spread})"


def synchronize(device: Any = "cpu") -> None:
    """Wait until ``device`` has finished its queued work (CUDA and MPS run asynchronously); no-op on CPU."""
    kind = str(device).split(":")[0]
    if kind not in ("cuda", "mps"):
        return
    import torch

    if kind == "cuda" and torch.cuda.is_available():
        torch.cuda.synchronize(device)
    elif kind == "mps" and torch.backends.mps.is_available():
        torch.mps.synchronize()


def time_call(fn: Callable[[], Any], repeats: int = 5, warmup: int = 1, device: Any = "cpu") -> Timing:
    """Run ``fn`` ``warmup`` times untimed, then ``repeats`` times timed; synchronizes GPUs around each run."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}.")
    if warmup < 0:
        raise ValueError(f"warmup must be 0 or more, got {warmup}.")
    for _ in range(warmup):
        fn()
    synchronize(device)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        synchronize(device)  # otherwise a GPU call returns as soon as its work is queued
        samples.append(time.perf_counter() - start)
    return Timing(tuple(samples))


def time_interleaved(fns: Mapping[str, Callable[[], Any]], repeats: int = 5, warmup: int = 1,
                     device: Any = "cpu") -> dict[str, Timing]:
    """Like ``time_call`` for several functions, run in turns (a, b, c, a, b, c, ...) so that a change in
    the machine's load during the measurement hits all of them alike; the fair way to compare on a shared machine."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}.")
    if warmup < 0:
        raise ValueError(f"warmup must be 0 or more, got {warmup}.")
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    synchronize(device)
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            synchronize(device)
            samples[name].append(time.perf_counter() - start)
    return {name: Timing(tuple(found)) for name, found in samples.items()}


def shares(timings: Mapping[str, Timing]) -> dict[str, float]:
    """Each entry's share of the sum of the medians, in percent (e.g. of pre-processing, forward, post-processing)."""
    total = sum(t.median_s for t in timings.values())
    if total <= 0:
        raise ValueError("the timings sum to zero; nothing to share out.")
    return {name: 100.0 * t.median_s / total for name, t in timings.items()}


def speedups(timings: Mapping[str, Timing], baseline: str) -> dict[str, float]:
    """``baseline``'s median divided by each entry's median: 2.0 means twice as fast as the baseline."""
    if baseline not in timings:
        raise KeyError(f"baseline {baseline!r} is not one of the timed entries: {', '.join(timings)}.")
    reference = timings[baseline].median_s
    return {name: reference / t.median_s for name, t in timings.items()}


def markdown_table(timings: Mapping[str, Timing], baseline: str | None = None, items: int = 1,
                   extra: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """A Markdown table of medians (and per item when ``items`` > 1), speedups against ``baseline``, extra columns."""
    ratios = speedups(timings, baseline) if baseline else {}
    extra_columns = list(dict.fromkeys(c for row in (extra or {}).values() for c in row))
    header = ["variant", "median (ms)", "runs"]
    if items > 1:
        header.append(f"per image (ms, {items} images)")
    if baseline:
        header.append(f"speedup vs {baseline}")
    header += extra_columns
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, timing in timings.items():
        row = [name, f"{timing.median_ms:.1f}", str(len(timing.samples_s))]
        if items > 1:
            row.append(f"{timing.median_ms / items:.1f}")
        if baseline:
            row.append(f"{ratios[name]:.2f}×")
        row += [(extra or {}).get(name, {}).get(column, "") for column in extra_columns]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)
