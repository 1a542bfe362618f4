"""What the machine can do: the CPU features that decide how fast a network runs on it (notebooks 07 and 08).

Batching, bfloat16 and int8 pay off on a CPU only when it has the wide vector or matrix units for them,
so a timing means little without them: print ``describe_cpu()`` next to any measurement.
"""

from __future__ import annotations

import os
import platform
import subprocess
from typing import Iterable

# feature shown -> CPU flags that provide it (Linux /proc/cpuinfo names; Arm's "bf16" included)
CPU_FEATURES: dict[str, tuple[str, ...]] = {
    "AVX2": ("avx2",),  # 256-bit vectors: what most float32 kernels use on x86
    "AVX-512": ("avx512f",),  # 512-bit vectors: twice the float32 work per instruction
    "VNNI": ("avx512_vnni", "avx_vnni"),  # int8 dot products (quantised models)
    "BF16": ("avx512_bf16", "bf16"),  # bfloat16 arithmetic in hardware (x86 AVX-512 or Arm)
    "AMX": ("amx_bf16", "amx_int8", "amx_tile"),  # matrix tiles for bfloat16 / int8 (Xeon Sapphire Rapids and later)
}


def cpu_flags() -> set[str] | None:
    """The CPU's feature flags as the operating system reports them (lower case), or None where unknown."""
    system = platform.system()
    if system == "Linux":
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
                for line in info:
                    key, _, value = line.partition(":")
                    if key.strip().lower() in ("flags", "features"):  # x86: "flags"; Arm: "Features"
                        return set(value.lower().split())
        except OSError:
            return None
        return None
    if system == "Darwin":
        flags: set[str] = set()
        for name in ("machdep.cpu.features", "machdep.cpu.leaf7_features"):  # Intel Macs
            flags |= set(_sysctl(name).lower().replace(".", "_").split())
        if _sysctl("hw.optional.arm.FEAT_BF16").strip() == "1":  # Apple silicon from M2 on
            flags.add("bf16")
        return flags or None
    return None


def _sysctl(name: str) -> str:
    try:
        return subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=2).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


# Environment variables that limit each library to AVX2 kernels, as on an AVX2-only CPU: PyTorch's own kernels,
# oneDNN (in PyTorch and OpenVINO), MKL, FBGEMM and OpenVINO's CPU plugin. ONNX Runtime has no such limit.
AVX2_ONLY_ENVIRONMENT = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
                         "FBGEMM_ENABLE_INSTRUCTIONS": "AVX2", "OV_CPU_MAX_ISA": "AVX2"}


def limited_to_avx2() -> bool:
    """Whether this process's environment limits the libraries to AVX2 kernels (``AVX2_ONLY_ENVIRONMENT``)."""
    return os.environ.get("ONEDNN_MAX_CPU_ISA", "").upper() == "AVX2"


def cpu_features(flags: Iterable[str] | None = None) -> dict[str, bool | None]:
    """Which of AVX2, AVX-512, VNNI, BF16 and AMX the CPU has (None for all when its flags are unknown).

    ``flags`` defaults to this machine's (``cpu_flags()``); pass a set to ask about another CPU. For this machine,
    features beyond AVX2 count as absent while ``limited_to_avx2()``: the kernels cannot use them.
    """
    known = cpu_flags() if flags is None else {flag.lower() for flag in flags}
    if known is None:
        return {name: None for name in CPU_FEATURES}
    features = {name: any(flag in known for flag in provided) for name, provided in CPU_FEATURES.items()}
    if flags is None and limited_to_avx2():
        features.update({name: False for name in features if name != "AVX2"})
    return features


def describe_cpu(features: dict[str, bool | None] | None = None) -> str:
    """One line: CPU model, cores, torch threads, the features that matter, and the kernels torch chose."""
    import torch

    features = cpu_features() if features is None else features
    shown = ", ".join(f"{name} {'?' if has is None else ('yes' if has else 'no')}" for name, has in features.items())
    return (f"CPU: {cpu_name()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads | {shown} | "
            f"torch CPU kernels: {torch.backends.cpu.get_cpu_capability()}"
            + (" | limited to AVX2 kernels by the environment (ONEDNN_MAX_CPU_ISA=AVX2, ...)" if limited_to_avx2() else ""))


def cpu_name() -> str:
    """The CPU's model name as the operating system reports it (or the platform's machine name)."""
    if platform.system() == "Linux":
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
                for line in info:
                    if line.lower().startswith("model name"):
                        return line.partition(":")[2].strip()
        except OSError:
            pass
    elif platform.system() == "Darwin":
        return _sysctl("machdep.cpu.brand_string").strip() or platform.machine()
    return platform.processor() or platform.machine() or "unknown"
