"""How far a runtime is from the hardware's limit: the forward pass's operations ÷ the machine's matrix-multiply rate.

A vision transformer spends nearly all its time in matrix multiplications, so the fastest any runtime can
go is about ``floor = FLOPs / GEMM rate``: count the forward pass's floating-point operations once
(``forward_flops``), measure how many the CPU multiplies per second in float32, bfloat16 and int8
(``gemm_rate``), and compare each option's measured time with its floor (``share_of_floor``). A runtime at
half its floor has little left to gain; only a cheaper precision (a faster rate) lowers the floor itself.
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
    _forward(model, pixel_values, counter)
    return int(counter.get_total_flops())


def _forward(model: Any, pixel_values: Any, mode: Any) -> None:
    """One forward pass of ``model`` on ``pixel_values`` (array or tensor, moved to the model's device and dtype)
    inside ``mode``: the FLOP counter, or the dispatch mode that records the arithmetic."""
    import torch

    weight = next(model.parameters())
    pixel_values = torch.as_tensor(np.asarray(pixel_values) if not torch.is_tensor(pixel_values) else pixel_values)
    with torch.no_grad(), mode:
        model(pixel_values.to(weight.device, weight.dtype))


@contextlib.contextmanager
def _torch_threads(threads: int | None):
    """torch on ``threads`` threads (None: as it is) inside the block, its own count restored afterwards."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads or previous)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _best_seconds(run: Callable[[], Any], repeats: int) -> float:
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
    with _torch_threads(threads):
        return operations / _best_seconds(run, repeats)


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


def share_of_floor(measured_ms: float, floor: float) -> float:
    """floor ÷ measured time: 1.0 is the hardware's limit, 0.5 means twice as slow as the floor."""
    if measured_ms <= 0:
        raise ValueError(f"measured_ms must be positive, not {measured_ms}.")
    return floor / measured_ms


# the operations whose arithmetic the floor counts: matrix products, convolutions and fused attention
_ARITHMETIC_OPS = ("addmm", "mm", "bmm", "convolution", "_scaled_dot_product_flash_attention_for_cpu")


def arithmetic_ops(model: Any, pixel_values: Any) -> list[tuple[str, tuple, dict, int]]:
    """The forward pass's matrix products, convolutions and attention kernels as PyTorch runs them:
    ``(operation, arguments, keyword arguments, how many times)`` in order of first use, each tensor written as
    ``("tensor", shape, dtype)``."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    def frozen(value):
        if torch.is_tensor(value):
            return ("tensor", tuple(value.shape), str(value.dtype))
        return tuple(frozen(v) for v in value) if isinstance(value, (list, tuple)) else value

    found: dict[tuple, int] = {}

    class Record(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            name = func._overloadpacket.__name__
            if name in _ARITHMETIC_OPS:
                key = (name, frozen(args), tuple(sorted((k, frozen(v)) for k, v in (kwargs or {}).items())))
                found[key] = found.get(key, 0) + 1
            return func(*args, **(kwargs or {}))

    _forward(model, pixel_values, Record())
    return [(name, args, dict(kwargs), count) for (name, args, kwargs), count in found.items()]


def arithmetic_ms(model: Any, pixel_values: Any, repeats: int = 5, threads: int | None = None) -> float:
    """Milliseconds of the forward pass's arithmetic alone (``arithmetic_ops``), each operation replayed at its own
    shapes in PyTorch, best of ``repeats``, times how often it runs: what the matrix products cost at this model's
    shapes, which are smaller and thinner than ``gemm_rate``'s square product, without the element-wise work."""
    import torch

    generator = torch.Generator().manual_seed(0)

    def real(value):
        if isinstance(value, tuple) and value[:1] == ("tensor",):
            return torch.randn(value[1], generator=generator).to(getattr(torch, value[2].split(".")[-1]))
        return [real(v) for v in value] if isinstance(value, tuple) else value

    total = 0.0
    with _torch_threads(threads), torch.no_grad():
        for name, args, kwargs, count in arithmetic_ops(model, pixel_values):
            op, args, kwargs = getattr(torch.ops.aten, name), real(args), {k: real(v) for k, v in kwargs.items()}
            total += count * _best_seconds(lambda: op(*args, **kwargs), repeats)
    return 1000.0 * total
