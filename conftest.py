"""Test configuration shared by the unit tests and nbval: offline, and independent of the machine.

This runs before any test and before nbval starts a notebook kernel (kernels inherit this
environment), so every test sees: no Hub (HF_HUB_OFFLINE=1), an empty Hugging Face cache (so a
real checkpoint someone downloaded never changes a checked output: the stand-ins always run), a
private helpers cache, and proxies that refuse every non-loopback connection at once.
"""

import os
import socket
import tempfile

_TMP = tempfile.mkdtemp(prefix="depth-tutorials-tests-")

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["DEPTH_TUTORIALS_OFFLINE"] = "1"
os.environ["HF_HOME"] = os.path.join(_TMP, "hf-home")
os.environ["DEPTH_TUTORIALS_CACHE"] = os.environ.get("DEPTH_TUTORIALS_TEST_CACHE") or os.path.join(_TMP, "cache")
os.environ["DEPTH_TUTORIALS_CI"] = "1"  # notebooks may use smaller repetition counts under tests
os.environ.setdefault("MPLBACKEND", "Agg")
for _var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ[_var] = "http://127.0.0.1:9"  # the discard port: nothing listens, connections fail fast
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"

_LOOPBACK = ("127.", "::1", "localhost")
_real_connect = socket.socket.connect


def _guarded_connect(self, address):
    host = address[0] if isinstance(address, tuple) else str(address)
    if self.family in (socket.AF_INET, socket.AF_INET6) and not str(host).startswith(_LOOPBACK):
        raise ConnectionRefusedError(f"tests may not use the network (tried to reach {host})")
    return _real_connect(self, address)


socket.socket.connect = _guarded_connect
