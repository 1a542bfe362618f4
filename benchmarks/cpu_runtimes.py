"""How fast Depth Anything V2 Small runs on this CPU: the project's speed evidence and targets, outside the lessons.

    python -m benchmarks.cpu_runtimes                          # every section, full-size model (several minutes)
    python -m benchmarks.cpu_runtimes --only runtimes          # one section (or a comma-separated list)
    python -m benchmarks.cpu_runtimes --quick                  # tiny stand-in, one repetition: checks the code path
    python -m benchmarks.cpu_runtimes --avx2-only --only runtimes  # an AVX2-only CPU's kernels, on this CPU

Four sections, each the measurement of a notebook run on the full-size model (the real checkpoint when the Hugging
Face cache or the Hub has it, else the full-size stand-in: the real architecture with random weights, so real
compute and real timings, meaningless depth):

- ``runtimes`` (notebook 08): one photo through processor -> network -> post-processing with each option of
  ``RUNTIME_OPTIONS`` (eager PyTorch, ONNX Runtime f32, dynamic int8 and static int8 (QDQ), OpenVINO with the f32
  and bf16 hints, and OpenVINO's static int8 from NNCF with either hint for the layers left in float; OpenVINO
  compiled for the photo's input shape, ``static_shapes=True``), timed in
  turns; each option's speedup over eager PyTorch, its largest difference from eager's map, and its hardware floor
  (the forward pass's FLOPs ÷ this machine's matrix-multiply rate in its precision) with its share of it.
- ``batching`` (notebook 07): per-image pipeline calls against batched ones, the pipeline's overhead over the bare
  forward pass, colouring a 4K map, and the arithmetic rate of one layer on 1, 4 and 16 images' rows (why batching
  pays little on a CPU that one image already saturates).
- ``ray`` (notebook 09): the same images through a plain loop and through Ray Data on a local instance.
- ``waiting`` (the app and notebook 12; ``benchmarks/waiting.py``): the app's time from an uploaded photo to every
  output and ``depth_video``'s frames per second on a 640 × 360 clip, exact float32 against the fast path
  (``helpers.fastpath``), with the accuracy cost of the fast path.

``--avx2-only`` runs the benchmark again in a child process whose environment limits PyTorch, oneDNN, MKL and
OpenVINO to AVX2 kernels (``helpers.machine.AVX2_ONLY_ENVIRONMENT``): the code paths of an AVX2-only CPU, with this
CPU's caches, memory and clock. ONNX Runtime cannot be limited, so its rows are skipped; OpenVINO's float32
fully-connected layers that it hands to MLAS still use the CPU's widest vectors.

It prints one table per section, the machine (CPU model and the features that decide the outcome), the targets
with met / not met, and writes everything to JSON (``--json``; default ``build/benchmarks/cpu_runtimes.json``).
Nothing here is a lesson: the notebooks measure the learner's machine; README's run-time table quotes this.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

from benchmarks.arithmetic import arithmetic_ms
from helpers.batch import depth_batch, predict_depth
from helpers.checkpoints import checkpoint_info, resolve_checkpoint
from helpers.data import load_image
from helpers.deploy import (default_onnx_path, export_onnx, max_relative_difference, onnx_session, openvino_model,
                            predict_onnx)
from helpers.machine import AVX2_ONLY_ENVIRONMENT, cpu_features, cpu_name, describe_cpu, limited_to_avx2
from helpers.onnx_identity import OnnxExport, model_source
from helpers.paths import PROJECT_ROOT, build_dir, data_path
from helpers.quantize import calibration_set, quantize_int8, quantize_static_int8
from helpers.roofline import forward_flops, machine_rates
from helpers.standins import build_stand_in, is_stand_in
from helpers.timing import Timing, layer_rates, speedups, time_call, time_interleaved, time_stages
from helpers.viz import colorize

CHECKPOINT = "depth-anything/Depth-Anything-V2-Small-hf"
IMAGE = "chelsea"  # 451 x 300: a 518 x 350 input, as in notebook 08
BATCH_IMAGES = ("chelsea", "coffee", "rocket", "chelsea")  # 3:2 photos: one input shape, so they batch (notebook 07)
RAY_PHOTOS = ("chelsea", "coffee", "rocket")  # copied to RAY_IMAGES files (QUICK_RAY_IMAGES with --quick)
RAY_IMAGES, QUICK_RAY_IMAGES = 8, 2
# static int8's calibration set: every bundled photo (the Middlebury pair among them); two with --quick, as notebook 08
CALIBRATION_PHOTOS = ("chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "motorcycle_right.png")
QUICK_CALIBRATION = 2
SECTIONS = ("runtimes", "batching", "ray", "waiting")
BASELINE = "eager PyTorch"
PER_IMAGE = "pipeline, one call per image"
JSON_VERSION = 1


# ------------------------------------------------------------------------------------------------------ targets

@dataclass(frozen=True)
class Target:
    """One speed target checked against a measurement; ``met`` is None where it could not be measured here."""

    section: str
    what: str
    value: str
    goal: str
    met: bool | None
    note: str = ""

    def __str__(self) -> str:
        verdict = {True: "met    ", False: "NOT met", None: "—      "}[self.met]
        return f"{verdict}  {self.what}: {self.value} (target {self.goal}){'; ' + self.note if self.note else ''}"


def fastest_goal(features: Mapping[str, bool | None]) -> tuple[float, str]:
    """The speedup the fastest runtime must reach on this kind of CPU (issue 22): 4x with AVX-512 VNNI, else 1.8x."""
    if features.get("AVX-512") and features.get("VNNI"):
        return 4.0, "a CPU with AVX-512 VNNI"
    return 1.8, "a CPU without AVX-512 VNNI (AVX2-only class)"


MLAS_CAVEAT = "with --avx2-only OpenVINO's float32 layers run by MLAS still use AVX-512, so this is an upper estimate"


def _avx2_verdict(option: dict, met: bool, note: str, avx2_only: bool) -> tuple[bool | None, str]:
    """A verdict on ``option`` under --avx2-only: where OpenVINO runs float32 layers (f32, or int8 with f32 layers),
    MLAS still uses AVX-512, so the figure is an upper estimate: a "NOT met" stands, a "met" is not measured."""
    if avx2_only and option["name"].startswith("OpenVINO") and "bf16" not in option["computes"]:
        return (False if met is False else None), f"{note}; {MLAS_CAVEAT}"
    return met, note


def runtime_targets(options: list[dict], features: Mapping[str, bool | None], floors: Mapping[str, float],
                    arithmetic_ms: float | None = None, avx2_only: bool = False) -> list[Target]:
    """The runtime targets: ONNX Runtime f32 >= 1.5x eager at <= 1e-4 (issues 18/08), the fastest option >= 1.8x or
    4x by CPU class, and the fastest float32 option within 1.3x of the float32 floor (issue 22; None until measured).
    ``arithmetic_ms``: the forward pass's matrix products alone at the model's own shapes (``benchmarks.arithmetic``),
    quoted beside the float32 floor to show how much of the gap the shapes themselves explain. ``avx2_only``: the
    kernels were limited to AVX2, so verdicts that rest on OpenVINO's float32 layers carry ``MLAS_CAVEAT``."""
    timed = {o["name"]: o for o in options if "median_ms" in o}
    targets = []
    ort = timed.get("ONNX Runtime f32")
    if ort:
        close = ort["max_relative_difference"] <= 1e-4
        targets.append(Target("runtimes", "ONNX Runtime f32 vs eager PyTorch", f"{ort['speedup']:.2f}×",
                              "≥ 1.5× at a max relative difference ≤ 1e-4", ort["speedup"] >= 1.5 and close,
                              f"difference {ort['max_relative_difference']:.1e}"))
    others = [o for name, o in timed.items() if name != BASELINE]
    if others:
        best = max(others, key=lambda o: o["speedup"])
        goal, kind = fastest_goal(features)
        note = f"its accuracy cost: max relative difference {best['max_relative_difference']:.1e}"
        eager = timed.get(BASELINE)
        if eager and floors:
            lowest = min(floors, key=floors.get)  # the cheapest precision's floor bounds every option's speedup
            note += (f"; the lowest floor ({lowest}, {floors[lowest]:.0f} ms) allows at most "
                     f"{eager['median_ms'] / floors[lowest]:.1f}× over eager's {eager['median_ms']:.0f} ms")
        met, note = _avx2_verdict(best, best["speedup"] >= goal, note, avx2_only)
        targets.append(Target("runtimes", f"fastest option ({best['name']}) vs eager PyTorch", f"{best['speedup']:.2f}×",
                              f"≥ {goal:g}× on {kind}", met, note))
    f32 = [o for o in timed.values() if o["computes"] == "f32"]
    floor = floors.get("f32")
    if f32 and floor:
        best = min(f32, key=lambda o: o["median_ms"])
        ratio = best["median_ms"] / floor
        note = f"{100 / ratio:.0f} % of the float32 matrix-multiply rate"
        if arithmetic_ms:
            note += (f"; the matrix products alone, replayed at the model's own shapes in PyTorch, take "
                     f"{arithmetic_ms:.0f} ms = {arithmetic_ms / floor:.2f}× the floor")
        met, note = _avx2_verdict(best, ratio <= 1.3, note, avx2_only)
        targets.append(Target("runtimes", f"fastest float32 option ({best['name']}) vs the float32 floor",
                              f"{ratio:.2f}× the floor ({floor:.0f} ms)", "≤ 1.3×", met, note))
    else:
        targets.append(Target("runtimes", "fastest float32 option vs the float32 floor", "floor not measured",
                              "≤ 1.3×", None, "the floor (operations ÷ matrix-multiply rate) is not measured yet"))
    return targets


def batching_targets(pipeline_overhead: float, batched: tuple[str, float], colorize_4k_ms: float) -> list[Target]:
    """Notebook 07's former targets: pipeline overhead <= 10 %, batched throughput >= 1.3x, a 4K colouring <= 40 ms."""
    name, speedup = batched
    return [
        Target("batching", "pipeline overhead over the bare forward pass", f"{100 * pipeline_overhead:.1f} %", "≤ 10 %",
               pipeline_overhead <= 0.10),
        Target("batching", f"batched throughput ({name})", f"{speedup:.2f}×", "≥ 1.3×", speedup >= 1.3),
        Target("batching", "colorize a 3840×2160 depth map", f"{colorize_4k_ms:.1f} ms", "≤ 40 ms", colorize_4k_ms <= 40),
    ]


def ray_targets(overhead_running: float) -> list[Target]:
    """Notebook 09's former target: Ray Data's overhead over the plain loop, once its actor is ready, <= 25 %."""
    return [Target("ray", "Ray Data's overhead over the plain loop, once running", f"{100 * overhead_running:.1f} %",
                   "≤ 25 %", overhead_running <= 0.25)]


def best_batched(timings: Mapping[str, Timing], baseline: str, images_per_pass: Mapping[str, int]) -> tuple[str, float]:
    """The fastest variant that runs more than one image per forward pass: ``(name, speedup over baseline)``.

    Chosen by ``images_per_pass`` (the batch size each variant was built with), never by its name.
    """
    ratios = speedups(timings, baseline)
    batched = [name for name in timings if images_per_pass.get(name, 1) > 1]
    if not batched:
        raise ValueError("no timed variant runs more than one image per forward pass; give their batch sizes "
                         "in images_per_pass.")
    best = max(batched, key=ratios.__getitem__)
    return best, ratios[best]


# ------------------------------------------------------------------------------------------ the runtime options

@dataclass
class Context:
    """What every runtime option is built from: the model, its processor, the photo, the float export, the threads."""

    model: Any
    processor: Any
    image: Any
    threads: int
    workdir: Path
    export: OnnxExport
    calibration_photos: tuple[str, ...] = CALIBRATION_PHOTOS
    _calibration: list | None = None

    def calibration(self) -> list:
        """The calibration set (the bundled photos through the model's own processor), prepared once."""
        if self._calibration is None:
            self._calibration = calibration_set(self.processor, [data_path(name) for name in self.calibration_photos])
        return self._calibration


@dataclass(frozen=True)
class Runner:
    """A built option: ``run()`` takes the photo through processor -> network -> post-processing to an (H, W) map."""

    run: Callable[[], Any]
    computes: str  # the precision it computes in, read back where the runtime says: "f32", "bf16", "int8 (dynamic)"
    megabytes: float  # the weights in memory (eager) or the file the runtime loads


@dataclass(frozen=True)
class Option:
    """One row of the runtime table: a name and how to build it."""

    name: str
    build: Callable[[Context], Runner]


def _eager(ctx: Context) -> Runner:
    import torch

    def run():
        with torch.inference_mode():
            outputs = ctx.model(**ctx.processor(images=ctx.image, return_tensors="pt"))
        size = [(ctx.image.height, ctx.image.width)]
        return ctx.processor.post_process_depth_estimation(outputs, size)[0]["predicted_depth"]

    megabytes = sum(p.numel() * p.element_size() for p in ctx.model.parameters()) / 1e6
    return Runner(run, "f32", megabytes)


def _onnx_runtime(path_of: Callable[[Context], Path]) -> Callable[[Context], Runner]:
    def build(ctx: Context) -> Runner:
        path = path_of(ctx)
        session = onnx_session(path, threads=ctx.threads)
        return Runner(lambda: predict_onnx(session, ctx.processor, ctx.image), session.precision,
                      path.stat().st_size / 1e6)
    return build


def _openvino(precision: str, static_int8: bool = False) -> Callable[[Context], Runner]:
    def build(ctx: Context) -> Runner:
        made = _static(ctx, "openvino") if static_int8 else ctx.export
        # static shapes: the photo's one input size, as a camera or a folder of one phone's photos would give
        compiled = openvino_model(made.path, precision=precision, threads=ctx.threads, static_shapes=True)
        return Runner(lambda: predict_onnx(compiled, ctx.processor, ctx.image), compiled.precision, made.megabytes)
    return build


def _static(ctx: Context, runtime: str) -> OnnxExport:
    """The static int8 file of the float export, calibrated on ``ctx.calibration()``; in the benchmark's own folder a
    stale one (other weights or other photos) is made again."""
    try:
        return quantize_static_int8(ctx.export.path, ctx.calibration(), runtime=runtime, overwrite=not ctx.export.reused)
    except FileExistsError as err:
        print(f"{err} -> quantizing again")
        return quantize_static_int8(ctx.export.path, ctx.calibration(), runtime=runtime, overwrite=True)


def _int8_dynamic(ctx: Context) -> Path:
    # the benchmark's own folder: a fresh float export makes any earlier int8 file stale, so it is rebuilt
    return quantize_int8(ctx.export.path, overwrite=not ctx.export.reused).path


# One table of options: add a row (a name and a builder) and every table, difference and target includes it.
RUNTIME_OPTIONS: list[Option] = [
    Option(BASELINE, _eager),
    Option("ONNX Runtime f32", _onnx_runtime(lambda ctx: ctx.export.path)),
    Option("ONNX Runtime int8 (dynamic)", _onnx_runtime(_int8_dynamic)),
    Option("ONNX Runtime int8 static (QDQ)", _onnx_runtime(lambda ctx: _static(ctx, "onnxruntime").path)),
    Option("OpenVINO f32 hint", _openvino("f32")),
    Option("OpenVINO bf16 hint", _openvino("bf16")),
    Option("OpenVINO int8 static (NNCF), f32 hint", _openvino("f32", static_int8=True)),
    Option("OpenVINO int8 static (NNCF), bf16 hint", _openvino("bf16", static_int8=True)),
]


def runtime_options(avx2_only: bool) -> tuple[list[Option], list[dict]]:
    """The options to time, and a row for each one skipped: ONNX Runtime's when the kernels are limited to AVX2
    (its kernels follow the CPU, whatever the environment says)."""
    if not avx2_only:
        return list(RUNTIME_OPTIONS), []
    kept = [o for o in RUNTIME_OPTIONS if not o.name.startswith("ONNX Runtime")]
    return kept, [{"name": o.name, "skipped": "ONNX Runtime's kernels cannot be limited to AVX2"}
                  for o in RUNTIME_OPTIONS if o not in kept]


def precision_class(computes: str) -> str:
    """Which floor an option is measured against: 'f32', 'bf16' or 'int8' (from what it really computes in)."""
    for name in ("int8", "bf16", "f16"):
        if name in computes:
            return name
    return "f32"


def machine_speed(ctx: Context, settings: "Settings", pixel_values: Any) -> dict:
    """This machine's speed right now, on ``settings.threads`` threads: its matrix-multiply rate per precision in
    GFLOP/s (bf16 only where the CPU has bfloat16 units), and the forward pass's arithmetic replayed at its own
    shapes in PyTorch (``benchmarks.arithmetic``)."""
    rates = machine_rates(threads=settings.threads, repeats=3 if settings.quick else 10)
    arithmetic = arithmetic_ms(ctx.model, pixel_values, repeats=2 if settings.quick else 5, threads=settings.threads)
    return {"gemm_gflops": {k: (r / 1e9 if r else None) for k, r in rates.items()}, "arithmetic_f32_ms": arithmetic}


def hardware_limits(gflop: float, *speeds: dict) -> dict:
    """The floors of a forward pass of ``gflop`` GFLOP, from the most favourable of several ``machine_speed``
    measurements taken at different moments (the fastest rate per precision, the shortest replayed arithmetic): a
    floor is what the machine can do at its best, and a shared machine's speed drifts during a run."""
    rates = {k: max((m["gemm_gflops"][k] for m in speeds if m["gemm_gflops"].get(k)), default=None)
             for k in speeds[0]["gemm_gflops"]}
    return {"gflop": gflop, "gemm_gflops": rates, "floors_ms": {k: 1000 * gflop / r for k, r in rates.items() if r},
            "arithmetic_f32_ms": min(m["arithmetic_f32_ms"] for m in speeds)}


def export_for_benchmark(model: Any, workdir: Path) -> OnnxExport:
    """The float export in the benchmark's own folder: reused when it holds these weights, else written again."""
    path = workdir / "onnx" / default_onnx_path(model).name
    try:
        return export_onnx(model, path)
    except FileExistsError:  # other weights (the real checkpoint arrived since) or an older export: this folder is ours
        print(f"{path.name} held other weights or an older export: exporting again")
        return export_onnx(model, path, overwrite=True)


# ------------------------------------------------------------------------------------------------ the sections

@dataclass(frozen=True)
class Settings:
    quick: bool
    repeats: int
    warmup: int
    threads: int
    sections: tuple[str, ...]
    workdir: Path
    avx2_only: bool = False  # the environment limits the kernels to AVX2 (set by --avx2-only for its child process)


def _checkpoint(quick: bool) -> str:
    """The tiny stand-in with --quick (always: fast and the same everywhere); else the real weights or the full-size one."""
    if quick:
        return str(build_stand_in(checkpoint_info(CHECKPOINT), full=False))
    return resolve_checkpoint(CHECKPOINT, full=True)


def _weights(model: Any, quick: bool) -> str:
    if not is_stand_in(model):
        return "real"
    return "stand-in, tiny (timings meaningless)" if quick else "stand-in, full-size (real architecture, random weights)"


def run_runtimes(settings: Settings, checkpoint: str) -> tuple[dict, list[Target]]:
    """Notebook 08's comparison: every option of RUNTIME_OPTIONS on one photo, timed in turns."""
    from transformers import AutoImageProcessor, AutoModelForDepthEstimation

    processor = AutoImageProcessor.from_pretrained(checkpoint)
    model = AutoModelForDepthEstimation.from_pretrained(checkpoint).eval()
    image = load_image(IMAGE)
    export = export_for_benchmark(model, settings.workdir)
    photos = CALIBRATION_PHOTOS[:QUICK_CALIBRATION] if settings.quick else CALIBRATION_PHOTOS
    ctx = Context(model, processor, image, settings.threads, settings.workdir, export, photos)
    runners: dict[str, Runner] = {}
    options, rows = runtime_options(settings.avx2_only)
    for option in options:
        try:
            runners[option.name] = option.build(ctx)
        except Exception as err:  # a runtime missing or failing here is reported, not hidden; the rest still runs
            rows.append({"name": option.name, "error": f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"})
    reference = runners[BASELINE].run()
    differences = {name: max_relative_difference(r.run(), reference) for name, r in runners.items()}  # also a warm-up
    pixel_values = processor(images=image, return_tensors="pt")["pixel_values"]
    gflop = forward_flops(model, pixel_values) / 1e9
    before = machine_speed(ctx, settings, pixel_values)
    timings = time_interleaved({name: r.run for name, r in runners.items()}, settings.repeats, settings.warmup)
    ratios = speedups(timings, BASELINE)
    limits = hardware_limits(gflop, before, machine_speed(ctx, settings, pixel_values))  # both sides of the runs
    floors = limits["floors_ms"]
    for name, runner in runners.items():
        floor = floors.get(precision_class(runner.computes))
        rows.append({
            "name": name, "computes": runner.computes, "megabytes": round(runner.megabytes, 2),
            "median_ms": timings[name].median_ms, "samples_ms": [1000 * s for s in timings[name].samples_s],
            "speedup": ratios[name], "max_relative_difference": differences[name],
            "floor_ms": floor, "share_of_floor": (floor / timings[name].median_ms) if floor else None,
        })
    order = [o.name for o in RUNTIME_OPTIONS]
    rows.sort(key=lambda row: order.index(row["name"]))
    section = {
        "model": {"checkpoint": CHECKPOINT, "weights": _weights(model, settings.quick), "source": model_source(model)},
        "image": IMAGE, "input": list(pixel_values.shape),
        "export": {"path": str(export.path), "reused": export.reused, "megabytes": round(export.megabytes, 2)},
        "baseline": BASELINE, "calibration_images": list(ctx.calibration_photos), "gflop": limits["gflop"],
        "gemm_gflops": limits["gemm_gflops"], "floors_ms": floors, "arithmetic_f32_ms": limits["arithmetic_f32_ms"],
        "options": rows,
    }
    return section, runtime_targets(rows, cpu_features(), floors, limits["arithmetic_f32_ms"], settings.avx2_only)


def run_batching(settings: Settings, checkpoint: str) -> tuple[dict, list[Target]]:
    """Notebook 07's batching evidence: per-image vs batched calls, the pipeline's overhead, a 4K colouring, layer rates."""
    import numpy as np
    from transformers import pipeline

    pipe = pipeline("depth-estimation", model=checkpoint, device="cpu")
    images = [load_image(name) for name in BATCH_IMAGES]
    stages = time_stages(pipe, images[0], settings.repeats, settings.warmup)
    batch = len(images)

    def as_maps(results):
        return [r["predicted_depth"].float().numpy() for r in (results if isinstance(results, list) else [results])]

    variants = {
        PER_IMAGE: lambda: [m for image in images for m in as_maps(pipe(image))],
        f"pipeline, list, batch_size={batch}": lambda: as_maps(pipe(images, batch_size=batch)),
        f"predict_depth, batch {batch}": lambda: predict_depth(pipe.model, pipe.image_processor, images,
                                                               batch_size=batch, progress=False),
    }
    maps = {name: run() for name, run in variants.items()}  # also the first warm-up
    timings = time_interleaved(variants, settings.repeats, max(settings.warmup - 1, 0))
    ratios = speedups(timings, PER_IMAGE)
    best = best_batched(timings, PER_IMAGE, {name: batch for name in list(variants)[1:]})
    depth_4k = pipe.image_processor.post_process_depth_estimation(stages.outputs, [(2160, 3840)])[0]["predicted_depth"]
    depth_4k = depth_4k.float().numpy()
    colour = time_call(lambda: colorize(depth_4k, kind="disparity"), repeats=max(settings.repeats, 5), warmup=1)
    fc1 = pipe.model.backbone.encoder.layer[0].mlp.fc1  # hidden -> 4 x hidden, run on every token
    patch = pipe.model.config.backbone_config.patch_size
    height, width = stages.inputs["pixel_values"].shape[-2:]
    tokens = (height // patch) * (width // patch) + 1
    rates = layer_rates(fc1, tokens, batches=(1, 4, 16), repeats=3 if settings.quick else 50)
    section = {
        "model": {"checkpoint": CHECKPOINT, "weights": _weights(pipe.model, settings.quick)},
        "images": list(BATCH_IMAGES),
        "stages_ms": {name: t.median_ms for name, t in stages.stages.items()},
        "pipeline_call_ms": stages.whole.median_ms, "pipeline_overhead": stages.overhead,
        "baseline": PER_IMAGE,
        "variants": [{"name": name, "median_ms": t.median_ms, "per_image_ms": t.median_ms / batch,
                      "samples_ms": [1000 * s for s in t.samples_s], "speedup": ratios[name],
                      "max_relative_difference": max(max_relative_difference(a, b)
                                                     for a, b in zip(maps[name], maps[PER_IMAGE]))}
                     for name, t in timings.items()],
        "best_batched": {"name": best[0], "speedup": best[1]},
        "colorize_4k_ms": colour.median_ms,
        "layer": {"name": "backbone.encoder.layer[0].mlp.fc1", "rows_per_image": tokens,
                  "in": fc1.in_features, "out": fc1.out_features,
                  "gflops": {str(b): r for b, r in rates.items()},
                  "ratio_to_one_image": {str(b): r / rates[1] for b, r in rates.items()}},
    }
    assert all(np.isfinite(v["max_relative_difference"]) for v in section["variants"])
    return section, batching_targets(stages.overhead, best, colour.median_ms)


def _depth_actor_class():
    """The Ray actor, defined in a function so that Ray ships it by value (workers need not import ``benchmarks``)."""
    import pyarrow as pa

    class DepthActor:
        def __init__(self, checkpoint: str, batch_size: int, threads: int):
            import time

            import torch
            from transformers import AutoImageProcessor, AutoModelForDepthEstimation

            torch.set_num_threads(threads)  # Ray sets OMP_NUM_THREADS to the actor's CPU slots
            self.model = AutoModelForDepthEstimation.from_pretrained(checkpoint).eval()
            self.processor = AutoImageProcessor.from_pretrained(checkpoint)
            self.batch_size = batch_size
            self.ready = time.time()

        def __call__(self, batch: dict) -> "pa.Table":
            import time

            maps = depth_batch(batch, self.model, self.processor, batch_size=self.batch_size)["depth"]
            return pa.table({"path": list(batch["path"]), "ready": [self.ready] * len(maps),
                             "finished": [time.time()] * len(maps)})

    return DepthActor


def run_ray(settings: Settings, checkpoint: str) -> tuple[dict, list[Target]]:
    """Notebook 09's comparison: the same images through a plain loop and through Ray Data (a local instance)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_DATA_LOG_LEVEL", "WARNING")
    import pyarrow.parquet as pq
    import ray
    from transformers import AutoImageProcessor, AutoModelForDepthEstimation

    count = QUICK_RAY_IMAGES if settings.quick else RAY_IMAGES
    folder = settings.workdir / "ray-images"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for index in range(count):
        load_image(RAY_PHOTOS[index % len(RAY_PHOTOS)]).save(folder / f"{index:03d}.png")
    paths = sorted(folder.iterdir())
    batch = count
    model = AutoModelForDepthEstimation.from_pretrained(checkpoint).eval()
    processor = AutoImageProcessor.from_pretrained(checkpoint)
    predict_depth(model, processor, paths[:1], progress=False)  # warm-up, as the actor's first batch is not timed apart
    plain = time_call(lambda: predict_depth(model, processor, paths, batch_size=batch, progress=False),
                      repeats=1, warmup=0).median_s
    out = settings.workdir / "ray-parquet"
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    try:
        start_s = time.perf_counter() - started
        ray.data.DataContext.get_current().enable_progress_bars = False
        wall, started = time.time(), time.perf_counter()
        (ray.data.read_images(str(folder), include_paths=True, mode="RGB")
            .map_batches(_depth_actor_class(), batch_size=batch, compute=ray.data.ActorPoolStrategy(size=1), num_cpus=1,
                         fn_constructor_kwargs={"checkpoint": checkpoint, "batch_size": batch,
                                                "threads": settings.threads})
            .write_parquet(str(out)))
        total = time.perf_counter() - started
    finally:
        ray.shutdown()
    table = pq.read_table(out)
    section = ray_summary(count, table.num_rows, plain, start_s, total, min(table["ready"].to_pylist()) - wall,
                          max(table["finished"].to_pylist()) - min(table["ready"].to_pylist()))
    return section, ray_targets(section["overhead_running"])


def ray_summary(images: int, rows: int, plain_s: float, start_s: float, total_s: float, before_ready_s: float,
                running_s: float) -> dict:
    """The ray section's figures: Ray's overhead over the plain loop once its actor was ready, and with its start."""
    return {"images": images, "rows_written": rows, "plain_loop_s": plain_s, "ray_start_s": start_s,
            "ray_total_s": total_s, "ray_before_actor_ready_s": before_ready_s, "ray_running_s": running_s,
            "overhead_running": running_s / plain_s - 1, "overhead_with_start": total_s / plain_s - 1}


def run_waiting(settings: Settings, checkpoint: str) -> tuple[dict, list[Target]]:
    """Where a person waits (benchmarks/waiting.py): the app per photo and video per frame, exact vs the fast path."""
    from benchmarks.waiting import run_waiting as measure

    section, targets = measure(settings.quick, settings.repeats, settings.workdir, cpu_features())
    return section, [Target(**target) for target in targets]


RUNNERS: dict[str, Callable[[Settings, str], tuple[dict, list[Target]]]] = {
    "runtimes": run_runtimes, "batching": run_batching, "ray": run_ray, "waiting": run_waiting,
}


# ------------------------------------------------------------------------------------------- the machine, output

def machine() -> dict:
    """The CPU and the software versions the figures depend on."""
    import torch

    versions = {"python": platform.python_version(), "torch": torch.__version__}
    for package in ("transformers", "onnxruntime", "openvino", "ray"):
        try:
            versions[package] = __import__(package).__version__
        except Exception:
            versions[package] = None
    return {"cpu": cpu_name(), "cores": os.cpu_count(), "features": cpu_features(), "describe": describe_cpu(),
            "torch_cpu_kernels": torch.backends.cpu.get_cpu_capability(), "versions": versions}


def _commit() -> str | None:
    try:
        found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                               text=True, timeout=5)
        return found.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def load_average() -> float | None:
    """The 1-minute load average, rounded (None where the system has none)."""
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def table(rows: list[dict], columns: list[tuple[str, Callable[[dict], str]]]) -> str:
    """A Markdown table (pastable into README's run-time section)."""
    lines = ["| " + " | ".join(h for h, _ in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row) for _, cell in columns) + " |" for row in rows]
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _share(value: float | None) -> str:
    if not value:
        return "—"
    return f"{100 * value:.0f} %" if value >= 0.1 else f"{100 * value:.1f} %"


def _limits_line(s: dict) -> str:
    """The floor's ingredients: the forward pass's FLOPs and the machine's matrix-multiply rates."""
    if not s.get("gflop"):
        return "floor: not measured"
    rates = ", ".join(f"{k} {'— (no units)' if v is None else f'{v:.0f} GFLOP/s'}" for k, v in s["gemm_gflops"].items())
    floors = ", ".join(f"{k} {v:.0f} ms" for k, v in s["floors_ms"].items())
    return (f"floor = forward pass {s['gflop']:.1f} GFLOP ÷ matrix-multiply rate ({rates}) -> {floors}; "
            f"the matrix products alone at the model's own shapes (PyTorch f32): {s['arithmetic_f32_ms']:.0f} ms; "
            f"static int8 calibrated on {len(s['calibration_images'])} photos: {', '.join(s['calibration_images'])}")


def report(result: dict) -> str:
    """The printed report: the machine, one table per section, the targets."""
    m = result["machine"]
    load = result["load_average"]
    lines = [f"CPU runtimes of {CHECKPOINT}" + ("  [--quick: tiny stand-in, timings meaningless]" if result["quick"] else ""),
             m["describe"],
             *(["AVX2-only kernels on this CPU (--avx2-only): its caches, memory and clock; ONNX Runtime skipped; "
                "OpenVINO's float32 layers run by MLAS still use AVX-512"] if result.get("avx2_only") else []),
             f"load average (1 min): {load['start']} at the start, {load['end']} at the end, on {m['cores']} cores"
             + ("  (other programs were running: compare rows of one run only)"
                if max(load["start"] or 0, load["end"] or 0) > 0.5 * (m["cores"] or 1) else ""),
             f"threads: {result['threads']}, timed runs per option: {result['repeats']} (interleaved), "
             f"warm-up: {result['warmup']}, commit {result['commit']}", ""]
    sections = result["sections"]
    if "runtimes" in sections:
        s = sections["runtimes"]
        lines += [f"## runtimes: one photo ({s['image']}, input {'×'.join(map(str, s['input']))}), "
                  f"{s['model']['weights']}", table(s["options"], [
                      ("option", lambda r: r["name"]),
                      ("computes", lambda r: r.get("computes", "—")),
                      ("median (ms)", lambda r: "failed: " + r["error"] if "error" in r
                       else "skipped: " + r["skipped"] if "skipped" in r else _ms(r.get("median_ms"))),
                      ("speedup vs eager", lambda r: f"{r['speedup']:.2f}×" if "speedup" in r else "—"),
                      ("max relative difference", lambda r: f"{r['max_relative_difference']:.1e}"
                       if "max_relative_difference" in r else "—"),
                      ("file / weights (MB)", lambda r: f"{r['megabytes']:.1f}" if "megabytes" in r else "—"),
                      ("floor (ms)", lambda r: _ms(r.get("floor_ms"))),
                      ("share of floor", lambda r: _share(r.get("share_of_floor"))),
                  ]), _limits_line(s), ""]
    if "batching" in sections:
        s = sections["batching"]
        stages = ", ".join(f"{name} {ms:.1f} ms" for name, ms in s["stages_ms"].items())
        layer = s["layer"]
        lines += [f"## batching: {len(s['images'])} photos, {s['model']['weights']}", table(s["variants"], [
            ("variant", lambda r: r["name"]), ("median (ms)", lambda r: _ms(r["median_ms"])),
            ("per image (ms)", lambda r: _ms(r["per_image_ms"])),
            ("speedup vs per-image calls", lambda r: f"{r['speedup']:.2f}×"),
            ("max relative difference", lambda r: f"{r['max_relative_difference']:.1e}"),
        ]), f"stages of one pipeline call: {stages}; whole call {s['pipeline_call_ms']:.1f} ms "
            f"(overhead {100 * s['pipeline_overhead']:.1f} %); colorize 4K: {s['colorize_4k_ms']:.1f} ms",
            f"one layer ({layer['name']}, {layer['in']} -> {layer['out']}, {layer['rows_per_image']} rows per image): "
            + ", ".join(f"{b} image(s) {g:.1f} GFLOP/s ({layer['ratio_to_one_image'][b]:.2f}×)"
                        for b, g in layer["gflops"].items()), ""]
    if "ray" in sections:
        s = sections["ray"]
        lines += [f"## ray: {s['images']} images, one pass each",
                  f"plain loop {s['plain_loop_s']:.2f} s; Ray Data {s['ray_total_s']:.2f} s "
                  f"({s['ray_before_actor_ready_s']:.2f} s before its actor was ready, {s['ray_running_s']:.2f} s running; "
                  f"ray.init {s['ray_start_s']:.1f} s not counted); overhead once running "
                  f"{100 * s['overhead_running']:.1f} %, with its start {100 * s['overhead_with_start']:.0f} %", ""]
    if "waiting" in sections:
        from benchmarks.waiting import report_lines

        lines += report_lines(sections["waiting"])
    lines += ["## targets"] + [str(Target(**t)) for t in result["targets"]]
    return "\n".join(lines)


def run(settings: Settings) -> dict:
    """Every asked-for section; the result as the JSON holds it."""
    import torch
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # "Loading weights" bars would bury the report
    torch.set_num_threads(settings.threads)
    settings.workdir.mkdir(parents=True, exist_ok=True)
    load_start = load_average()
    checkpoint = _checkpoint(settings.quick)
    sections, targets = {}, []
    for name in settings.sections:
        started = time.perf_counter()
        sections[name], found = RUNNERS[name](settings, checkpoint)
        sections[name]["seconds"] = time.perf_counter() - started
        targets += found
    return {
        "benchmark": "cpu_runtimes", "version": JSON_VERSION,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "commit": _commit(),
        "quick": settings.quick, "avx2_only": settings.avx2_only, "repeats": settings.repeats,
        "warmup": settings.warmup, "threads": settings.threads,
        "load_average": {"start": load_start, "end": load_average()}, "machine": machine(),
        "sections": sections, "targets": [vars(t) for t in targets],
    }


def json_safe(value: Any) -> Any:
    """NaN and infinities as None, so the JSON stays standard."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def parse(argv: list[str] | None) -> tuple[Settings, Path]:
    import torch

    parser = argparse.ArgumentParser(prog="python -m benchmarks.cpu_runtimes", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections to run (default: all of {', '.join(SECTIONS)})")
    parser.add_argument("--quick", action="store_true", help="tiny stand-in, one repetition: checks the code path")
    parser.add_argument("--repeats", type=int, help="timed runs per option (default 10; 1 with --quick)")
    parser.add_argument("--threads", type=int, help="threads for every runtime (default: torch's count)")
    parser.add_argument("--workdir", type=Path, help="exports and scratch files (default: build/benchmarks)")
    parser.add_argument("--json", type=Path, help="where to write the results (default: <workdir>/cpu_runtimes.json; "
                                                  "cpu_runtimes-quick.json with --quick, -avx2.json with --avx2-only)")
    parser.add_argument("--avx2-only", action="store_true",
                        help="limit PyTorch, oneDNN, MKL and OpenVINO to AVX2 kernels (a child process with "
                             "helpers.machine.AVX2_ONLY_ENVIRONMENT); ONNX Runtime's rows are skipped")
    args = parser.parse_args(argv)
    sections = tuple(s.strip() for s in args.only.split(",") if s.strip())
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown or not sections:
        parser.error(f"unknown section(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(SECTIONS)}")
    workdir = args.workdir or build_dir() / "benchmarks"
    settings = Settings(quick=args.quick, repeats=args.repeats or (1 if args.quick else 10), warmup=0 if args.quick else 1,
                        threads=args.threads or torch.get_num_threads(), sections=sections, workdir=workdir,
                        avx2_only=args.avx2_only)
    name = "cpu_runtimes" + ("-quick" if args.quick else "") + ("-avx2" if args.avx2_only else "")
    return settings, args.json or workdir / f"{name}.json"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    settings, json_path = parse(argv)
    if settings.avx2_only and not limited_to_avx2():
        # the libraries read these limits when they load their kernels: a fresh process, not this one
        print("running again limited to AVX2 kernels: " + " ".join(f"{k}={v}" for k, v in AVX2_ONLY_ENVIRONMENT.items()))
        child = subprocess.run([sys.executable, "-m", "benchmarks.cpu_runtimes", *argv], cwd=PROJECT_ROOT,
                               env={**os.environ, **AVX2_ONLY_ENVIRONMENT})
        return child.returncode
    result = json_safe(run(settings))
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(report(result))
    print(f"\nJSON: {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
