"""helpers.maintain.testenv and the project's conftest.py: offline variables, and no scratch folder left behind."""

import os
import subprocess
import sys

from helpers.maintain.testenv import DEAD_PROXY, SCRATCH_PREFIX, offline_environment, offline_variables
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
