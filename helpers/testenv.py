"""The environment every test and every checked notebook output is made in: offline, machine-independent."""

from __future__ import annotations

import os
import tempfile

DEAD_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens, so connections fail at once


def offline_environment(scratch: str | None = None) -> dict[str, str]:
    """Variables for an offline run: no Hub, an empty HF cache, a private helpers cache, dead proxies."""
    scratch = scratch or tempfile.mkdtemp(prefix="depth-tutorials-tests-")
    env = {
        "HF_HUB_OFFLINE": "1",
        "DEPTH_TUTORIALS_OFFLINE": "1",
        # an empty Hugging Face cache: a real checkpoint someone downloaded never changes a checked output
        "HF_HOME": os.path.join(scratch, "hf-home"),
        "DEPTH_TUTORIALS_CACHE": os.environ.get("DEPTH_TUTORIALS_TEST_CACHE") or os.path.join(scratch, "cache"),
        "DEPTH_TUTORIALS_CI": "1",  # notebooks may use smaller repetition counts under tests
        # the visible knob in a notebook's settings cell: QUICK = os.environ.get("DEPTH_TUTORIALS_QUICK") == "1"
        "DEPTH_TUTORIALS_QUICK": "1",
        "MPLBACKEND": os.environ.get("MPLBACKEND", "Agg"),
        "NO_PROXY": "127.0.0.1,localhost,::1",
        "no_proxy": "127.0.0.1,localhost,::1",
    }
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env[var] = DEAD_PROXY
    return env


def under_tests() -> bool:
    """True inside `pytest` (and notebooks it runs), where notebooks may choose smaller workloads."""
    return os.environ.get("DEPTH_TUTORIALS_CI", "").strip() == "1"
