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
        # what notebooks write (helpers.build_dir): per test session, so the English and Chinese twins of a
        # notebook, run at the same time by two workers, never share (or delete) each other's files
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

def run_order(path) -> tuple[int, int, bool]:
    """Sort key for the collected tests: the unit tests first (many small files), then the notebooks, highest
    number (heaviest) first, each English notebook just before its Chinese twin. Handed out in this order, the
    light notebooks fill the gaps at the end, so two workers finish within seconds of each other."""
    lesson = NAME_PATTERN.match(path.name)  # NN_title.ipynb, English or Chinese edition
    if lesson:
        return (1, -int(lesson.group(1)), path.parent.name == "zh")
    return (0, 0, False)


def work_unit(nodeid: str) -> str:
    """``notebook-08`` for every cell of notebooks/08_*.ipynb and notebooks/zh/08_*.ipynb; a test's file otherwise."""
    path = nodeid.split("::", 1)[0]
    lesson = NAME_PATTERN.match(path.rsplit("/", 1)[-1])
    return f"notebook-{lesson.group(1)}" if lesson else path


def twins_scheduler(config, log=None):
    """pytest-xdist's ``--dist loadfile``, except that a notebook and its Chinese twin are one unit of work.

    A test file's tests run in one worker (a module fixture runs once). The English notebook runs, then its twin,
    in the same worker, with the same session build folder: the twin reuses what the English notebook made there
    (08's ONNX export), as a learner's second run would, and the two never run at the same time (two local Ray
    instances at once would only slow each other down). pytest-xdist's ``--dist loadgroup`` would group with
    marks, but it stopped grouping with pytest 9.2, silently (pytest-dev/pytest-xdist#1386).
    """
    from xdist.scheduler import LoadScopeScheduling

    class TwinsTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return TwinsTogether(config, log)
