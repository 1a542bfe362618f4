"""One forward pass of every depth family in the registry on this CPU: notebook 13's cost column, measured here.

    python -m benchmarks.model_zoo            # full-size models (the real architectures): several minutes on 2 cores
    python -m benchmarks.model_zoo --quick    # tiny stand-ins, one repetition: checks the code path in seconds
    python -m benchmarks.model_zoo --only Intel/dpt-large,apple/DepthPro-hf

Each model is the real checkpoint when the Hugging Face cache or the Hub has it, else the full-size stand-in (same
architecture and processor, random weights: real compute, so real timings). One photo (Middlebury *Motorcycle*,
741 x 500, as in notebook 13) goes through its processor; the forward pass alone is timed (``--repeats`` runs after
one warm-up, median), then the processor and the post-processing once each. It prints the machine (CPU and the
features that decide the speed, load average), one table, and writes JSON (default
``build/benchmarks/model_zoo.json``). The table and JSON conventions are those of ``benchmarks.cpu_runtimes``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import cpu_runtimes as shared
from helpers.checkpoints import checkpoint_info, resolve_checkpoint
from helpers.data import load_stereo_pair
from helpers.paths import build_dir
from helpers.registry import CHECKPOINTS
from helpers.standins import is_stand_in
from helpers.timing import time_call

JSON_VERSION = 1


def measure(hub_id: str, quick: bool, repeats: int, warmup: int) -> dict:
    """Parameters, input size and timings of one registry entry (full-size unless ``quick``)."""
    import torch
    from transformers import AutoImageProcessor, AutoModelForDepthEstimation

    info = checkpoint_info(hub_id)
    path = resolve_checkpoint(hub_id, full=not quick)
    processor = AutoImageProcessor.from_pretrained(path)
    model = AutoModelForDepthEstimation.from_pretrained(path).eval()
    image = load_stereo_pair().left
    started = time.perf_counter()
    inputs = processor(images=image, return_tensors="pt")
    processor_s = time.perf_counter() - started

    def forward():
        with torch.no_grad():
            return model(**inputs)

    outputs = forward()  # the first pass (untimed) is a warm-up too, and its output is post-processed below
    timing = time_call(forward, repeats=repeats, warmup=max(0, warmup - 1))
    sizes = {"target_sizes": [(image.height, image.width)]}
    if info.family == "zoedepth":
        sizes["source_sizes"] = sizes["target_sizes"]
    started = time.perf_counter()
    result = processor.post_process_depth_estimation(outputs, **sizes)[0]
    post_s = time.perf_counter() - started
    weights = ("stand-in, " + ("tiny" if quick else "full-size")) if is_stand_in(model) else "real"
    return {
        "checkpoint": hub_id, "family": info.family, "class": type(model).__name__, "weights": weights,
        "output": info.output, "licence": info.licence, "parameters_m": sum(p.numel() for p in model.parameters()) / 1e6,
        "input": list(inputs["pixel_values"].shape), "returns": sorted(result),
        "forward_ms": timing.median_ms, "forward_runs_ms": [1000 * s for s in timing.samples_s],
        "processor_ms": 1000 * processor_s, "post_processing_ms": 1000 * post_s,
    }


def run(checkpoints: list[str], quick: bool, repeats: int, warmup: int, threads: int) -> dict:
    """Every asked-for checkpoint, one at a time (one model in memory); the result as the JSON holds it."""
    import torch

    torch.set_num_threads(threads)
    load_start = shared.load_average()
    rows = []
    for hub_id in checkpoints:
        try:
            rows.append(measure(hub_id, quick, repeats, warmup))
        except Exception as err:  # report and go on: one family failing must not hide the others
            rows.append({"checkpoint": hub_id, "error": f"{type(err).__name__}: {err}"})
    return {
        "benchmark": "model_zoo", "version": JSON_VERSION,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "quick": quick, "repeats": repeats,
        "warmup": warmup, "threads": threads,
        "load_average": {"start": load_start, "end": shared.load_average()},
        "machine": shared.machine(), "models": rows,
    }


def report(result: dict) -> str:
    """The printed report: the machine, the load, one table."""
    m, load = result["machine"], result["load_average"]
    busy = max(load["start"] or 0, load["end"] or 0) > 0.5 * (m["cores"] or 1)
    lines = ["Forward pass of every depth family in the registry"
             + ("  [--quick: tiny stand-ins, timings meaningless]" if result["quick"] else ""),
             m["describe"],
             f"load average (1 min): {load['start']} at the start, {load['end']} at the end, on {m['cores']} cores"
             + ("  (other programs were running: compare rows of one run only)" if busy else ""),
             f"threads: {result['threads']}, timed runs per model: {result['repeats']} after {result['warmup']} "
             f"warm-up, median; one photo 741 x 500", ""]
    ok = [r for r in result["models"] if "error" not in r]
    lines.append(shared.table(ok, [
        ("checkpoint", lambda r: r["checkpoint"]),
        ("output", lambda r: r["output"]),
        ("licence", lambda r: r["licence"]),
        ("parameters (M)", lambda r: f"{r['parameters_m']:.1f}"),
        ("input (H×W)", lambda r: f"{r['input'][-2]}×{r['input'][-1]}"),
        ("forward (ms)", lambda r: f"{r['forward_ms']:.0f}"),
        ("processor (ms)", lambda r: f"{r['processor_ms']:.0f}"),
        ("post-processing (ms)", lambda r: f"{r['post_processing_ms']:.0f}"),
        ("weights", lambda r: r["weights"]),
    ]))
    lines += [f"FAILED {r['checkpoint']}: {r['error']}" for r in result["models"] if "error" in r]
    return "\n".join(lines)


def parse(argv: list[str] | None) -> tuple[argparse.Namespace, Path]:
    import torch

    parser = argparse.ArgumentParser(prog="python -m benchmarks.model_zoo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny stand-ins, one repetition: checks the code path")
    parser.add_argument("--only", help="comma-separated Hub ids of the registry (default: every entry)")
    parser.add_argument("--repeats", type=int, help="timed forward passes per model (default 3; 1 with --quick)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's count)")
    parser.add_argument("--json", type=Path, help="where to write the results (default: build/benchmarks/"
                                                  "model_zoo.json; model_zoo-quick.json with --quick)")
    args = parser.parse_args(argv)
    args.checkpoints = [c.strip() for c in args.only.split(",")] if args.only else list(CHECKPOINTS)
    unknown = [c for c in args.checkpoints if c not in CHECKPOINTS]
    if unknown:
        parser.error(f"not in the registry: {', '.join(unknown)}; choose from {', '.join(CHECKPOINTS)}")
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.threads = args.threads or torch.get_num_threads()
    folder = build_dir() / "benchmarks"
    return args, args.json or folder / ("model_zoo-quick.json" if args.quick else "model_zoo.json")


def main(argv: list[str] | None = None) -> int:
    args, json_path = parse(argv)
    result = shared.json_safe(run(args.checkpoints, args.quick, args.repeats, 0 if args.quick else 1, args.threads))
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(report(result))
    print(f"\nJSON: {json_path}")
    return 1 if any("error" in r for r in result["models"]) else 0


if __name__ == "__main__":
    sys.exit(main())
