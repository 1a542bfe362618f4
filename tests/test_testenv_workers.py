"""conftest.py's offline environment holds in whichever process runs the tests: the main one, or each
pytest-xdist worker (`-n 2` in pyproject.toml), which imports conftest.py itself and so gets its own scratch."""

import os
import socket
import tempfile
from pathlib import Path

import pytest


def test_this_process_is_offline_with_a_private_empty_cache():
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["DEPTH_TUTORIALS_QUICK"] == "1"
    scratch = Path(os.environ["HF_HOME"]).parent
    assert scratch.parent == Path(tempfile.gettempdir()) and scratch.name.startswith("depth-tutorials-tests-")
    assert not (Path(os.environ["HF_HOME"]) / "hub").exists() or not any((Path(os.environ["HF_HOME"]) / "hub").iterdir())
    assert os.environ["HTTPS_PROXY"] == "http://127.0.0.1:9"
    import torch

    assert torch.get_num_threads() == 1  # torch read OMP_NUM_THREADS=1 from the environment conftest set


def test_the_socket_guard_refuses_the_network_here():
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError, match=r"tests may not use the network "
                                                                              r"\(tried to reach 192\.0\.2\.1\)"):
        sock.connect(("192.0.2.1", 80))
