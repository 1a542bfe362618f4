"""Test configuration shared by the unit tests and nbval: offline, and independent of the machine.

This runs before any test and before nbval starts a notebook kernel (kernels inherit this
environment), so every test sees: no Hub (HF_HUB_OFFLINE=1), an empty Hugging Face cache (so a
real checkpoint someone downloaded never changes a checked output: the stand-ins always run), a
private helpers cache, and proxies that refuse every non-loopback connection at once. Inside this
process a socket guard also refuses any connection that is not to loopback. The scratch folder
holding those caches lives as long as the test session and is removed at its end.
"""

import os
import shutil
import socket
import tempfile

from helpers.maintain.testenv import SCRATCH_PREFIX, offline_variables

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
    """Notebooks before unit tests, the heaviest (highest number) first, all English ones before their Chinese
    twins: the two workers finish at about the same time, and a notebook does not run beside its twin (two
    local Ray instances, or two exports of the same model, at once would only slow each other down)."""
    def cost_rank(item):
        path = item.path
        if path.suffix == ".ipynb" and path.name[:2].isdigit():
            return (0, path.parent.name == "zh", -int(path.name[:2]))
        return (1, False, 0)

    items.sort(key=cost_rank)  # stable: a notebook's cells and a file's tests keep their order
