"""The forward pass's arithmetic alone: each matrix product, convolution and attention kernel replayed at its own shapes.

``helpers.roofline`` gives the hardware floor (FLOPs ÷ the machine's rate on a square matrix product); the
benchmark (``benchmarks.cpu_runtimes``) adds what the model's own, thinner shapes cost: ``arithmetic_ops`` records
them from one forward pass and ``arithmetic_ms`` replays them in PyTorch.
"""

from __future__ import annotations

from typing import Any

from helpers.roofline import best_seconds, run_forward, torch_threads

# the operations whose arithmetic the floor counts: matrix products, convolutions and fused attention
ARITHMETIC_OPS = ("addmm", "mm", "bmm", "convolution", "_scaled_dot_product_flash_attention_for_cpu")


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
            if name in ARITHMETIC_OPS:
                key = (name, frozen(args), tuple(sorted((k, frozen(v)) for k, v in (kwargs or {}).items())))
                found[key] = found.get(key, 0) + 1
            return func(*args, **(kwargs or {}))

    run_forward(model, pixel_values, Record())
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
    with torch_threads(threads), torch.no_grad():
        for name, args, kwargs, count in arithmetic_ops(model, pixel_values):
            op, args, kwargs = getattr(torch.ops.aten, name), real(args), {k: real(v) for k, v in kwargs.items()}
            total += count * best_seconds(lambda: op(*args, **kwargs), repeats)
    return 1000.0 * total
