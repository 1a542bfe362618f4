"""Honest timings: warm-up runs, several repetitions, the median, and a GPU that has really finished;
plus the measurements the benchmarks repeat (notebook 07 writes its own in its cells) and 07's plot of variants."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping


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


# ---- the benchmarks' measurements (notebook 07 writes them in its cells): stages, one layer's rate; 07's plot ----

@dataclass(frozen=True)
class StageTimings:
    """``time_stages``'s result: each stage's timing, the whole pipeline call's, and one run's inputs and outputs."""

    stages: dict[str, Timing]
    whole: Timing
    inputs: Any
    outputs: Any

    @property
    def overhead(self) -> float:
        """How much longer the pipeline call takes than the bare forward pass (0.05 = 5 %)."""
        return self.whole.median_s / self.stages["forward"].median_s - 1.0


def time_stages(pipe: Any, image: Any, repeats: int, warmup: int, device: Any = "cpu") -> StageTimings:
    """Time a depth pipeline's pre-processing, forward pass and post-processing separately, and the whole call.

    The stages use the documented transformers calls (image processor, model, ``post_process_depth_estimation``)
    and are timed in turns with the pipeline call, so a change in load hits all four alike.
    """
    import torch

    processor, model = pipe.image_processor, pipe.model
    dtype = next(model.parameters()).dtype

    def pre():
        return processor(images=image, return_tensors="pt").to(device=device, dtype=dtype)

    inputs = pre()

    def forward():
        with torch.inference_mode():
            return model(**inputs)

    outputs = forward()

    def post():  # positional, as the pipeline does: source_sizes for ZoeDepth, target_sizes for DPT models
        return processor.post_process_depth_estimation(outputs, [(image.height, image.width)])

    timings = time_interleaved({"pre-processing": pre, "forward": forward, "post-processing": post,
                                "pipeline call": lambda: pipe(image)}, repeats, warmup, device)
    whole = timings.pop("pipeline call")
    return StageTimings(timings, whole, inputs, outputs)


def layer_rates(layer: Any, tokens: int, batches: Iterable[int] = (1, 4, 16), repeats: int = 50,
                warmup: int = 3, device: Any = "cpu") -> dict[int, float]:
    """GFLOP/s of one linear layer on the rows of each batch size (``batch × tokens`` rows; 2 × rows × in × out per call).

    Timed in turns (1, 4, 16, 1, 4, 16, ...): a shared machine's speed drifts, and taking turns exposes
    every batch size to the same drift, so the ratios hold even when the rates move.
    """
    import torch

    batches = tuple(batches)
    inputs = {b: torch.randn(b * tokens, layer.in_features, device=device, dtype=layer.weight.dtype) for b in batches}
    with torch.inference_mode():
        timings = time_interleaved({b: (lambda x=x: layer(x)) for b, x in inputs.items()}, repeats, warmup, device)
    return {b: 2 * b * tokens * layer.in_features * layer.out_features / timings[b].median_s / 1e9 for b in batches}


def plot_variant_times(timings: Mapping[str, Timing], baseline: str, items: int, title: str) -> Any:
    """Bars of each variant's median time per item, labelled with its speedup over ``baseline`` (grey)."""
    import matplotlib.pyplot as plt

    ratios = speedups(timings, baseline)
    names = list(timings)[::-1]
    per_item_ms = [timings[n].median_ms / items for n in names]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(names) + 1.2), constrained_layout=True)
    colours = ["tab:grey" if n == baseline else ("tab:green" if ratios[n] >= 1 else "tab:red") for n in names]
    ax.barh(names, per_item_ms, color=colours)
    for row, name in enumerate(names):
        ax.text(per_item_ms[row], row, f" {ratios[name]:.2f}×", va="center")
    log = max(per_item_ms) > 8 * min(per_item_ms)  # one very slow variant would squash the others
    if log:
        ax.set_xscale("log")
        ax.set_xlim(min(per_item_ms) / 1.5, max(per_item_ms) * 2.5)
    else:
        ax.set_xlim(0, max(per_item_ms) * 1.18)
    ax.set_xlabel(f"median time per image (ms){' (log scale)' if log else ''} — shorter is faster; "
                  "label: speedup vs the grey baseline")
    ax.set_title(title)
    plt.close(fig)
    return fig
