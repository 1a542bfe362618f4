"""Fixtures shared by the unit tests: one loopback HTTP server, and a fake Hub built on it.

Every test that needs a web server uses ``loopback`` (answers from a route function, records requests,
can go down and come back) or ``fake_hub`` (the Hugging Face Hub's HTTP API as ``huggingface_hub`` and
``helpers.resolve_checkpoint`` use it). The socket guard in the project's conftest.py lets only loopback through.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import urllib.parse
from typing import Callable

import pytest

Route = Callable[[str, str], "tuple[int, dict[str, str], bytes]"]  # (method, path) -> (status, headers, body)


class _Server(http.server.ThreadingHTTPServer):
    allow_reuse_address = True  # so that a stopped server can listen on its port again at once
    daemon_threads = True


class LoopbackServer:
    """An HTTP server on 127.0.0.1 that answers from ``route`` and records ``(method, path)`` of each request."""

    def __init__(self, route: Route):
        self.route, self.requests = route, []
        self._server: http.server.ThreadingHTTPServer | None = None
        self.port = 0
        self.start()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, the same across ``stop()`` and ``start()``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Listen (again, on the same port after a ``stop``)."""
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_HEAD(self):
                self._answer(head=True)

            def do_GET(self):
                self._answer(head=False)

            def log_message(self, *args):
                pass

            def _answer(self, head):
                path = urllib.parse.urlparse(self.path).path
                owner.requests.append((self.command, path))
                status, headers, body = owner.route(self.command, path)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

        self._server = _Server(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_port
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop listening: connections to the port are refused until ``start()``."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def loopback():
    """``loopback(route)`` starts a LoopbackServer; every server started is stopped after the test."""
    servers = []

    def start(route: Route) -> LoopbackServer:
        servers.append(LoopbackServer(route))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def commit_of(repo_id: str) -> str:
    """The fake Hub's commit hash of a repository (a fixed function of its id)."""
    return hashlib.sha1(repo_id.encode()).hexdigest()


class FakeHub:
    """The Hub's HTTP API as huggingface_hub uses it, on loopback (set ``HF_ENDPOINT`` to ``url``).

    - ``HEAD /api/models``: the reachability probe of ``helpers.hub_is_reachable``;
    - ``GET /api/models/<id>`` (and ``/revision/<rev>``, ``/tree/<rev>``): model info, file list;
    - ``HEAD/GET /<id>/resolve/<rev>/<file>``: small files directly; weights (``*.safetensors``, ``*.bin``)
      answer as the Hub does for LFS files: a 302 redirect to a storage host (``localhost``), with ``X-Linked-Etag`` (the
      sha256) and ``X-Linked-Size``;
    - ``GET /lfs/<sha256>``: the weights themselves; any other path in ``files``: that file.
    Unknown repositories get a 404 with ``X-Error-Code: RepoNotFound``, as on the Hub.
    """

    LFS = (".safetensors", ".bin")

    def __init__(self, loopback, repos: dict[str, dict[str, bytes]], files: dict[str, bytes] | None = None):
        self.repos, self.files = repos, files or {}
        lfs = [(n, b) for f in repos.values() for n, b in f.items() if n.endswith(self.LFS)]
        self.blobs = {hashlib.sha256(b).hexdigest(): b for n, b in lfs}
        self.blob_names = {hashlib.sha256(b).hexdigest(): n.rsplit("/", 1)[-1] for n, b in lfs}
        self.server = loopback(self.route)
        self.url, self.requests = self.server.url, self.server.requests
        # weights are stored on another host, as on the Hub (its CDN): here the same server under another name
        self.storage_url = self.url.replace("127.0.0.1", "localhost")

    commit = staticmethod(commit_of)

    def route(self, method: str, path: str):
        as_json = {"Content-Type": "application/json"}
        if path == "/api/models":
            return 200, as_json, b"[]"
        for repo_id, files in self.repos.items():
            info = {"id": repo_id, "modelId": repo_id, "sha": commit_of(repo_id), "private": False,
                    "siblings": [{"rfilename": f} for f in files]}
            if path == f"/api/models/{repo_id}" or path.startswith(f"/api/models/{repo_id}/revision/"):
                return 200, as_json, json.dumps(info).encode()
            if path.startswith(f"/api/models/{repo_id}/tree/"):
                tree = [{"type": "file", "path": p, "size": len(b), "oid": hashlib.sha1(b).hexdigest()}
                        for p, b in files.items()]
                return 200, as_json, json.dumps(tree).encode()
            if path.startswith(f"/{repo_id}/resolve/"):
                name = path[len(f"/{repo_id}/resolve/"):].split("/", 1)[1]
                if name not in files:
                    return 404, {"X-Error-Code": "EntryNotFound"}, b'{"error": "entry not found"}'
                body, commit = files[name], {"X-Repo-Commit": commit_of(repo_id)}
                if name.endswith(self.LFS):
                    sha256 = hashlib.sha256(body).hexdigest()
                    return 302, {**commit, "Location": f"{self.storage_url}/lfs/{sha256}", "X-Linked-Etag": f'"{sha256}"',
                                 "X-Linked-Size": str(len(body))}, b""
                return 200, {**commit, "ETag": f'"{hashlib.sha1(body).hexdigest()}"'}, body
        if path.startswith("/lfs/") and path[5:] in self.blobs:
            return 200, {}, self.blobs[path[5:]]
        if path in self.files:
            return 200, {}, self.files[path]
        return 404, {"X-Error-Code": "RepoNotFound"}, b'{"error": "Repository not found"}'

    def downloads(self) -> list[str]:
        """What was fetched (GETs that are not API calls), by file name (weights by their repository name), sorted."""
        names = [p.rsplit("/", 1)[-1] for method, p in self.requests if method == "GET" and not p.startswith("/api/")]
        return sorted(self.blob_names.get(name, name) for name in names)


@pytest.fixture
def fake_hub(loopback):
    """``fake_hub(repos, files=None)`` starts a FakeHub serving ``{repo_id: {filename: bytes}}``."""
    return lambda repos, files=None: FakeHub(loopback, repos, files)


@pytest.fixture(scope="session")
def tiny_depth_anything():
    """(model, processor): Depth Anything V2 Small's tiny stand-in (random weights, real classes and processor
    settings), in eval mode, loaded once per session. Tests must not change its weights."""
    from transformers import AutoImageProcessor, AutoModelForDepthEstimation

    from helpers import resolve_checkpoint

    folder = resolve_checkpoint("depth-anything/Depth-Anything-V2-Small-hf")
    return AutoModelForDepthEstimation.from_pretrained(folder).eval(), AutoImageProcessor.from_pretrained(folder)


@pytest.fixture(scope="session")
def tiny_onnx(tiny_depth_anything, tmp_path_factory):
    """``helpers.export_onnx`` of ``tiny_depth_anything`` to ``tiny.onnx`` in a folder of its own: the slow step
    (tens of seconds), done once per session for every test file that needs an ONNX model."""
    from helpers.deploy import export_onnx

    return export_onnx(tiny_depth_anything[0], tmp_path_factory.mktemp("onnx") / "tiny.onnx")


@pytest.fixture
def onnx_copy():
    """``onnx_copy(source, dest, key=value, ...)`` copies the ONNX file ``source`` to ``dest`` with some of this
    project's metadata changed (a value of None removes the key) and returns ``dest``: a file from "other
    weights" or "an older export", for the rules on reusing files."""
    import onnx

    from helpers.onnx_identity import META_PREFIX

    def copy(source, dest, **changes):
        proto = onnx.load(str(source))
        props = {p.key: p.value for p in proto.metadata_props}
        for key, value in changes.items():
            if value is None:
                props.pop(META_PREFIX + key, None)
            else:
                props[META_PREFIX + key] = value
        del proto.metadata_props[:]
        for key, value in props.items():
            proto.metadata_props.add(key=key, value=value)
        onnx.save(proto, str(dest))
        return dest

    return copy
