"""How far a runtime is from the hardware's limit: the forward pass's operations ÷ the machine's matrix-multiply rate.

A vision transformer spends nearly all its time in matrix multiplications, so the fastest any runtime can
go is about ``floor = FLOPs / GEMM rate``: count the forward pass's floating-point operations once
(``forward_flops``), measure how many the CPU multiplies per second in float32, bfloat16 and int8
(``gemm_rate``), and compare each option's measured time with its floor (``floor_ms``; ``benchmarks/`` does, for
each runtime). A runtime at half its floor has little left to gain; only a cheaper precision (a faster rate) lowers
the floor itself.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, Callable, Literal

import numpy as np

Precision = Literal["f32", "bf16", "int8"]


def forward_flops(model: Any, pixel_values: Any) -> int:
    """Floating-point operations of one forward pass on ``pixel_values`` (a multiply-add counts as 2).

    Counted by ``torch.utils.flop_counter.FlopCounterMode``: matrix multiplications, convolutions and attention,
    the operations that set a transformer's cost (element-wise work is left out). Attention run through
    PyTorch's CPU kernel (``scaled_dot_product_attention`` on a CPU tensor) is counted too: torch's own table
    lacks that kernel, and would leave out a fifth of Depth Anything's work.
    """
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False, custom_mapping=_missing_attention_formulas())
    run_forward(model, pixel_values, counter)
    return int(counter.get_total_flops())


def run_forward(model: Any, pixel_values: Any, mode: Any) -> None:
    """One forward pass of ``model`` on ``pixel_values`` (array or tensor, moved to the model's device and dtype)
    inside ``mode``: the FLOP counter, or the dispatch mode that records the arithmetic."""
    import torch

    weight = next(model.parameters())
    pixel_values = torch.as_tensor(np.asarray(pixel_values) if not torch.is_tensor(pixel_values) else pixel_values)
    with torch.no_grad(), mode:
        model(pixel_values.to(weight.device, weight.dtype))


@contextlib.contextmanager
def torch_threads(threads: int | None):
    """torch on ``threads`` threads (None: as it is) inside the block, its own count restored afterwards."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads or previous)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def best_seconds(run: Callable[[], Any], repeats: int) -> float:
    """The fastest of ``repeats`` timed calls of ``run``, after one untimed call (kernels chosen, memory touched)."""
    run()
    best = float("inf")
    for _ in range(max(1, repeats)):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def _missing_attention_formulas() -> dict:
    """FLOP formulas for attention kernels torch's counter has no entry for (its CPU flash-attention kernel)."""
    import torch
    from torch.utils.flop_counter import flop_registry, sdpa_flop_count

    def attention(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
        return sdpa_flop_count(query_shape, key_shape, value_shape)  # Q·Kᵀ and weights·V, as torch counts the others

    kernels = [getattr(torch.ops.aten, name, None) for name in ("_scaled_dot_product_flash_attention_for_cpu",)]
    return {kernel: attention for kernel in kernels if kernel is not None and kernel not in flop_registry}


def gemm_rate(precision: Precision = "f32", size: int = 1024, repeats: int = 10, threads: int | None = None) -> float:
    """The machine's matrix-multiply rate in FLOP/s (int8: operations/s): the best of ``repeats`` products of two
    ``size`` × ``size`` matrices, on ``threads`` threads (default: torch's count).

    Through torch: float32 and bfloat16 with ``torch.mm``, int8 with ``torch._int_mm`` (int8 × int8 → int32);
    oneDNN and MKL pick AMX, AVX-512 (VNNI, BF16) or AVX2 kernels as the CPU allows, the same kernel families
    OpenVINO's quantized and bfloat16 layers use, and they honour ``ONEDNN_MAX_CPU_ISA``-style limits.
    """
    import torch

    operations = 2 * size**3
    if precision not in ("f32", "bf16", "int8"):
        raise ValueError(f"precision must be 'f32', 'bf16' or 'int8', not {precision!r}.")
    generator = torch.Generator().manual_seed(0)
    if precision == "int8":
        a = torch.randint(-128, 128, (size, size), generator=generator, dtype=torch.int8)
        b = torch.randint(-128, 128, (size, size), generator=generator, dtype=torch.int8)

        def run():
            torch._int_mm(a, b)
    else:
        dtype = torch.float32 if precision == "f32" else torch.bfloat16
        a = torch.randn(size, size, generator=generator).to(dtype)
        b = torch.randn(size, size, generator=generator).to(dtype)

        def run():
            torch.mm(a, b)
    with torch_threads(threads):
        return operations / best_seconds(run, repeats)


def machine_rates(threads: int | None = None, size: int = 1024, repeats: int = 10) -> dict[str, float | None]:
    """``gemm_rate`` for f32, int8, and bf16 where the CPU has bfloat16 units (None otherwise: emulated bfloat16
    is no limit a runtime would run at; OpenVINO computes in float32 there)."""
    from .machine import cpu_features

    features = cpu_features()
    rates: dict[str, float | None] = {"f32": gemm_rate("f32", size, repeats, threads)}
    has_bf16 = bool(features.get("BF16") or features.get("AMX"))
    rates["bf16"] = gemm_rate("bf16", size, repeats, threads) if has_bf16 else None
    rates["int8"] = gemm_rate("int8", size, repeats, threads)
    return rates


def floor_ms(flops: float, rate: float) -> float:
    """The hardware floor in milliseconds: ``flops`` operations at ``rate`` operations per second."""
    if rate <= 0:
        raise ValueError(f"rate must be positive, not {rate}.")
    return 1000.0 * flops / rate
