"""helpers.machine: which CPU features are present, from known flag sets."""

import helpers
from helpers.machine import CPU_FEATURES, cpu_features, cpu_flags, describe_cpu

AVX2_ONLY = "fpu sse2 avx avx2 fma".split()  # e.g. this project's AMD EPYC test machine
SAPPHIRE_RAPIDS = "avx2 avx512f avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8".split()
ICE_LAKE = "avx2 avx512f avx512_vnni".split()
ARM_BF16 = "fp asimd sve bf16 i8mm".split()  # an Arm server's "Features" line


def test_features_from_known_flags():
    assert list(CPU_FEATURES) == ["AVX2", "AVX-512", "VNNI", "BF16", "AMX"]
    assert cpu_features(AVX2_ONLY) == {"AVX2": True, "AVX-512": False, "VNNI": False, "BF16": False, "AMX": False}
    assert cpu_features(ICE_LAKE) == {"AVX2": True, "AVX-512": True, "VNNI": True, "BF16": False, "AMX": False}
    assert cpu_features(SAPPHIRE_RAPIDS) == dict.fromkeys(CPU_FEATURES, True)
    assert cpu_features(ARM_BF16) == {"AVX2": False, "AVX-512": False, "VNNI": False, "BF16": True, "AMX": False}
    assert cpu_features(["AVX2", "AVX_VNNI"])["VNNI"] is True  # case does not matter; AVX-VNNI counts


def test_unknown_flags_say_unknown(monkeypatch):
    monkeypatch.setattr("helpers.machine.cpu_flags", lambda: None)
    assert cpu_features() == dict.fromkeys(CPU_FEATURES)
    assert "AVX2 ?, AVX-512 ?" in describe_cpu()


def test_this_machine_and_the_one_line_summary():
    flags = cpu_flags()
    assert flags is None or all(flag == flag.lower() for flag in flags)
    line = describe_cpu(cpu_features(SAPPHIRE_RAPIDS))
    assert "| AVX2 yes, AVX-512 yes, VNNI yes, BF16 yes, AMX yes |" in line and "torch CPU kernels:" in line
    assert helpers.describe_cpu is describe_cpu


def test_an_avx2_limit_in_the_environment_hides_the_wider_units(monkeypatch):
    from helpers.machine import AVX2_ONLY_ENVIRONMENT, limited_to_avx2

    monkeypatch.setattr("helpers.machine.cpu_flags", lambda: set(SAPPHIRE_RAPIDS))
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    assert not limited_to_avx2() and cpu_features() == dict.fromkeys(CPU_FEATURES, True)
    for key, value in AVX2_ONLY_ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    assert limited_to_avx2()
    assert cpu_features() == {"AVX2": True, "AVX-512": False, "VNNI": False, "BF16": False, "AMX": False}
    assert cpu_features(SAPPHIRE_RAPIDS) == dict.fromkeys(CPU_FEATURES, True)  # asking about a named CPU is unaffected
    assert "limited to AVX2 kernels" in describe_cpu()
