"""Test configuration shared by the unit tests and nbval: offline, and independent of the machine.

This runs before any test and before nbval starts a notebook kernel (kernels inherit this
environment), so every test sees: no Hub (HF_HUB_OFFLINE=1), an empty Hugging Face cache (so a
real checkpoint someone downloaded never changes a checked output: the stand-ins always run), a
private helpers cache, and proxies that refuse every non-loopback connection at once. Inside this
process a socket guard also refuses any connection that is not to loopback. The scratch folder
holding those caches lives as long as the test session and is removed at its end.

With pytest-xdist (``-n 2 --dist loadfile`` in pyproject.toml) a unit of work is a test file or a notebook,
handed out unit tests first, then the heaviest notebooks (``run_order``). nbval runs the English notebooks only;
the Chinese edition, the same code with translated text, is checked statically (tests/test_translations.py).
"""

import os
import shutil
import socket
import tempfile

from helpers.maintain.testenv import SCRATCH_PREFIX, offline_variables, run_order

_SCRATCH = tempfile.mkdtemp(prefix=SCRATCH_PREFIX)
os.environ.update(offline_variables(_SCRATCH))


def pytest_unconfigure(config):
    """Remove the session's scratch folder (caches, stand-ins) once every test and notebook has run."""
    shutil.rmtree(_SCRATCH, ignore_errors=True)


_LOOPBACK = ("127.", "::1", "localhost")
_real_connect = socket.socket.connect


def _guarded_connect(self, address):
    host = address[0] if isinstance(address, tuple) else str(address)
    if self.family in (socket.AF_INET, socket.AF_INET6) and not str(host).startswith(_LOOPBACK):
        raise ConnectionRefusedError(f"tests may not use the network (tried to reach {host})")
    return _real_connect(self, address)


socket.socket.connect = _guarded_connect


def pytest_collection_modifyitems(items):
    """Unit tests first, then the notebooks, heaviest first (``run_order``). pytest-xdist hands out work in this
    order: ``--no-loadscope-reorder`` in pyproject.toml."""
    items.sort(key=lambda item: run_order(item.path))  # stable: a notebook's cells, a file's tests keep their order

