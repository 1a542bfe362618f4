"""The environment every test and every checked notebook output is made in: offline, machine-independent."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from typing import Iterator

from .notebook_files import NAME_PATTERN

DEAD_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens, so connections fail at once
SCRATCH_PREFIX = "depth-tutorials-tests-"


def offline_variables(scratch: str) -> dict[str, str]:
    """Variables for an offline run: no Hub, an empty HF cache and a private helpers cache under ``scratch``."""
    env = {
        "HF_HUB_OFFLINE": "1",
        "DEPTH_TUTORIALS_OFFLINE": "1",
        # an empty Hugging Face cache: a real checkpoint someone downloaded never changes a checked output
        "HF_HOME": os.path.join(scratch, "hf-home"),
        "DEPTH_TUTORIALS_CACHE": os.environ.get("DEPTH_TUTORIALS_TEST_CACHE") or os.path.join(scratch, "cache"),
        # what notebooks write (helpers.build_dir): per test session (per worker), so two notebooks run at the
        # same time by two workers never share (or delete) each other's files
        "DEPTH_TUTORIALS_BUILD": os.path.join(scratch, "build"),
        # the visible knob in a notebook's settings cell: QUICK = os.environ.get("DEPTH_TUTORIALS_QUICK") == "1"
        "DEPTH_TUTORIALS_QUICK": "1",
        "MPLBACKEND": os.environ.get("MPLBACKEND", "Agg"),
        # one compute thread per process: the suite runs two notebooks at once (pytest -n 2) on two cores, and two
        # kernels with two torch threads each fight over the cores (measured: 505 s for the suite, against 313 s)
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NO_PROXY": "127.0.0.1,localhost,::1",
        "no_proxy": "127.0.0.1,localhost,::1",
    }
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env[var] = DEAD_PROXY
    return env


@contextlib.contextmanager
def offline_environment() -> Iterator[dict[str, str]]:
    """The offline variables over a fresh scratch folder, which is removed when the block ends."""
    scratch = tempfile.mkdtemp(prefix=SCRATCH_PREFIX)
    try:
        yield offline_variables(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# ------------------------------------------------------------------------------ how pytest-xdist shares the work

def run_order(path) -> tuple[int, int]:
    """Sort key for the collected tests: the unit tests first (many small files), then the notebooks, highest
    number (heaviest) first. pytest-xdist's ``--dist loadfile`` hands out whole files in this order, so the light
    notebooks fill the gaps at the end and the two workers finish within seconds of each other."""
    lesson = NAME_PATTERN.match(path.name)  # NN_title.ipynb
    return (1, -int(lesson.group(1))) if lesson else (0, 0)
