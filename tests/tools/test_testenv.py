"""helpers.maintain.testenv and the project's conftest.py: offline variables, no scratch folder left behind, which
notebooks nbval runs (the English edition only) and how pytest-xdist shares the work (a file at a time, in order)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.maintain.testenv import DEAD_PROXY, SCRATCH_PREFIX, offline_environment, offline_variables, run_order
from helpers.paths import PROJECT_ROOT


def test_offline_variables_point_every_cache_into_the_scratch_folder(monkeypatch):
    monkeypatch.delenv("DEPTH_TUTORIALS_TEST_CACHE", raising=False)
    env = offline_variables("/scratch")
    assert (env["HF_HUB_OFFLINE"], env["DEPTH_TUTORIALS_OFFLINE"], env["DEPTH_TUTORIALS_QUICK"]) == ("1", "1", "1")
    assert (env["HF_HOME"], env["DEPTH_TUTORIALS_CACHE"]) == ("/scratch/hf-home", "/scratch/cache")
    assert env["DEPTH_TUTORIALS_BUILD"] == "/scratch/build"  # notebooks' outputs: never shared between sessions
    assert env["HTTPS_PROXY"] == env["http_proxy"] == DEAD_PROXY and "127.0.0.1" in env["NO_PROXY"]
    assert (env["OMP_NUM_THREADS"], env["MKL_NUM_THREADS"]) == ("1", "1")  # one thread per notebook kernel


def test_offline_environment_removes_its_scratch_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    with offline_environment() as env:
        scratch = os.path.dirname(env["HF_HOME"])
        assert os.path.isdir(scratch) and os.path.basename(scratch).startswith(SCRATCH_PREFIX)
        os.makedirs(env["HF_HOME"])  # something written there, as a test run writes caches
    assert not os.path.exists(scratch)


def test_a_test_session_leaves_no_scratch_folder_behind(tmp_path):
    env = dict(os.environ, TMPDIR=str(tmp_path), PYTHONPATH=str(PROJECT_ROOT))
    probe = ("import os, conftest\n"
             "scratch = os.path.dirname(os.environ['HF_HOME'])\n"
             "print(os.path.isdir(scratch), scratch.startswith(os.environ['TMPDIR']))\n"
             "conftest.pytest_unconfigure(None)\n"
             "print(os.path.exists(scratch))\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.splitlines() == ["True True", "False"], done.stderr
    session = subprocess.run([sys.executable, "-m", "pytest", "-q", "tests/test_exercises.py"], cwd=PROJECT_ROOT,
                             env=env, capture_output=True, text=True, timeout=300)
    assert session.returncode == 0, session.stdout + session.stderr
    assert sorted(p.name for p in tmp_path.glob(SCRATCH_PREFIX + "*")) == []


# ------------------------------------------------------------------------------ how pytest-xdist shares the work

class FakeWorker:
    """What pytest-xdist's scheduler asks of a worker: its id, and the test indices it is sent."""

    def __init__(self, name):
        self.gateway = type("Gateway", (), {"id": name})()
        self.shutting_down = False
        self.sent = []

    def send_runtest_some(self, indices):
        self.sent.extend(indices)

    def shutdown(self):
        self.shutting_down = True


def project_collection():
    """Node ids as pytest collects the project: two cells per English notebook, two test files, in run order."""
    from helpers.maintain.notebook_files import list_notebooks

    paths = [Path("tests/test_align.py"), Path("tests/tools/test_prefetch.py")] + [
        nb.relative_to(PROJECT_ROOT) for nb in list_notebooks()]
    return [f"{path.as_posix()}::{test}" for path in sorted(paths, key=run_order) for test in ("Cell 0", "Cell 1")]


def test_run_order_puts_unit_tests_first_then_notebooks_heaviest_first():
    order = [p.as_posix() for p in sorted([Path("notebooks/01_a.ipynb"), Path("tests/test_b.py"),
                                           Path("notebooks/09_c.ipynb"), Path("tests/test_a.py")], key=run_order)]
    assert order == ["tests/test_b.py", "tests/test_a.py", "notebooks/09_c.ipynb", "notebooks/01_a.ipynb"]


def test_nbval_collects_the_english_notebooks_only():
    """The Chinese notebooks are the English code with translated text: tests/test_translations.py checks them
    statically; running them a second time would only double the notebooks' time."""
    from helpers.maintain.notebook_files import list_notebooks

    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0", "notebooks"],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    files = {line.split("::")[0] for line in done.stdout.splitlines() if "::" in line}
    assert files == {nb.relative_to(PROJECT_ROOT).as_posix() for nb in list_notebooks()}
    assert list_notebooks(PROJECT_ROOT / "notebooks" / "zh")  # there is a Chinese edition, and it is not collected


def test_the_scheduler_sends_each_file_whole_to_one_worker_in_run_order():
    pytest.importorskip("xdist")
    from xdist.scheduler import LoadFileScheduling

    config = type("Config", (), {"getvalue": lambda self, name: ["2*popen"] if name == "tx" else None,
                                 "option": type("Option", (), {"loadscopereorder": False})()})()
    scheduler = LoadFileScheduling(config)
    workers = [FakeWorker("gw0"), FakeWorker("gw1")]
    collection = project_collection()
    for worker in workers:
        scheduler.add_node(worker)
        scheduler.add_node_collection(worker, collection)
    scheduler.schedule()
    while scheduler.workqueue:  # each worker reports its tests done; it gets the next unit when it runs short
        for worker in workers:
            for index in list(worker.sent):
                nodeid = collection[index]
                if not scheduler.assigned_work[worker][nodeid.split("::")[0]][nodeid]:
                    scheduler.mark_test_complete(worker, index)
    by_file = {}
    for worker in workers:
        for index in worker.sent:
            by_file.setdefault(collection[index].split("::")[0], set()).add(worker.gateway.id)
    assert all(len(names) == 1 for names in by_file.values()), by_file  # never split between the workers
    sent = sorted(index for worker in workers for index in worker.sent)
    assert sent == list(range(len(collection)))  # every test sent once
    assert [collection[w.sent[0]].split("::")[0] for w in workers] == ["tests/test_align.py",
                                                                      "tests/tools/test_prefetch.py"]
    for worker in workers:  # each worker's notebooks come heaviest first
        numbers = [collection[i].split("/")[-1][:2] for i in worker.sent if collection[i].startswith("notebooks/")]
        assert numbers == sorted(numbers, reverse=True)
