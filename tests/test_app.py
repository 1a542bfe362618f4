"""helpers.app: the depth app served on loopback and driven through its API with gradio_client (stand-in models).

Upload -> depth, the 16-bit file read back with the scale it states, the PLY read back with the point count the
app reports and the geometry of the photo's EXIF focal length; bad uploads -> a clear message, and the app answers
the next request; result files bounded (one folder per app, the newest requests kept, removed on close).

Under attack, through gradio_client and through raw HTTP alike: the server reads only what was uploaded to it
(never another file on the server, never a URL: a loopback server of the test records that no request came), every
setting is checked against what the interface offers, messages are text (not markup), every decoder works under
one pixel limit, uploads have a size limit, and SIGTERM cleans up as Ctrl+C does. Nothing here contacts anything
but 127.0.0.1.
"""

import gc
import io
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import zlib

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import helpers
from helpers.camera import EXIF_IFD, FOCAL_35MM_TAG, ORIENTATION_TAG
from helpers.data import bundled_file

gradio_client = pytest.importorskip("gradio_client")
from helpers.app import (  # noqa: E402
    CHANGED, DEFAULT_MODEL, EXACT, EXAMPLES, FAST, MAX_UPLOAD_MB, MODELS, NO_PHOTO, NOT_UPLOADED, RELATIVE_NOTE,
    SPEED_CHANGED, SPEEDS, ResultFolder, depth_app, depth_results, model_changed, run_app, speed_changed,
)

RELATIVE = "Depth Anything V2 Small: relative"


@pytest.fixture(scope="module")
def app():
    """The app on 127.0.0.1 (a free port), and a client for it; closed after this file's tests."""
    demo = depth_app()
    demo.launch(server_name="127.0.0.1", server_port=_free_port(), prevent_thread_lock=True, quiet=True, share=False)
    client = gradio_client.Client(demo.local_url, verbose=False)
    yield demo, client
    client.close()
    demo.close()


@pytest.fixture
def phone_photo(tmp_path):
    """A small JPEG as a phone writes it: stored landscape (200 x 150), EXIF turns it upright, 26 mm equivalent."""
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = 6
    exif.get_ifd(EXIF_IFD)[FOCAL_35MM_TAG] = 26
    path = tmp_path / "phone.jpg"
    helpers.load_image("chelsea").resize((200, 150)).save(path, "JPEG", exif=exif, quality=90)
    return path


def call(client, path, model=DEFAULT_MODEL, edge=5.0, hfov=55.0, speed=EXACT):
    return client.predict(gradio_client.handle_file(str(path)), model, "magma", edge, hfov, speed, api_name="/depth")


def test_a_photo_gives_depth_a_scaled_16_bit_file_and_a_point_cloud(app, phone_photo, tmp_path):
    _, client = app
    (photo, picture), files, view, status = call(client, phone_photo)
    assert Image.open(photo).size == Image.open(picture).size == (150, 200)  # upright, as the EXIF says
    png = next(f for f in files if f.endswith("_depth16.png"))
    ply = next(f for f in files if f.endswith("_points.ply"))
    assert helpers.png_depth_scale(png) == 1000.0  # the file states its scale: millimetres
    served = helpers.load_depth_png16(png)

    local = depth_results(phone_photo, MODELS[DEFAULT_MODEL], out_dir=tmp_path / "local", edge_jump=0.05)
    assert served.shape == local.depth.shape == (200, 150)
    assert np.nanmax(np.abs(served - local.depth)) <= 0.0005 + 1e-6  # rounded to whole millimetres, no more
    cloud = helpers.read_ply(ply)
    assert len(cloud) == len(local.cloud) > 0
    assert f"{len(cloud):,} points" in status
    assert "EXIF" in status and "26 mm" in status
    # the points sit where the EXIF focal length puts them: X = (u - cx) Z / f for the widest pixels
    f = 26 / 43.266615 * np.hypot(150, 200)
    z = cloud.points[:, 2]
    assert np.max(cloud.points[:, 0] / z) == pytest.approx((149 - 74.5) / f, rel=1e-3)
    assert view is not None and helpers.read_ply(view).points.shape == cloud.points.shape


def test_bad_uploads_get_a_message_and_the_app_keeps_answering(app, tmp_path):
    _, client = app
    not_an_image = tmp_path / "notes.jpg"
    not_an_image.write_text("this is not a photo")
    with pytest.raises(gradio_client.exceptions.AppError, match="notes.jpg is not an image file"):
        call(client, not_an_image)
    buffer = io.BytesIO()
    helpers.load_image("coffee").save(buffer, "JPEG")
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(gradio_client.exceptions.AppError, match="cut.jpg is truncated or corrupt"):
        call(client, truncated)
    # still serving: a 16-bit grey PNG through the relative model gives an .npy and no 3-D view
    grey16 = tmp_path / "grey16.png"
    Image.fromarray((np.arange(96 * 64, dtype=np.uint16).reshape(64, 96) * 10)).save(grey16)
    (photo, picture), files, view, status = call(client, grey16, model=RELATIVE)
    assert Image.open(picture).size == (96, 64)
    assert [f.rsplit("/", 1)[-1] for f in files] == ["grey16_relative.npy"]
    assert np.load(files[0]).shape == (64, 96)
    assert view is None and RELATIVE_NOTE in status
    # a photo above the image contract's pixel limit: refused from its header, named, with what to do
    with pytest.raises(gradio_client.exceptions.AppError,
                       match=r"huge\.png is 20000×12000 pixels \(240\.0 megapixels\), more than the app reads "
                             r"\(200 megapixels\); reduce it first"):
        call(client, _png_header(tmp_path / "huge.png", 20000, 12000))
    demo, _ = app
    kept = list(demo.result_folder.path.iterdir())  # the app's results live in its one folder
    assert 1 <= len(kept) <= demo.result_folder.keep


def _png_header(path, width, height):
    """A PNG that states its size and holds no pixels: enough for the pixel limit, which reads only the header."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IEND", b""))
    return path


def test_result_files_are_bounded_and_removed_with_the_app(tmp_path):
    photo = tmp_path / "small.png"
    Image.new("RGB", (24, 16), (40, 80, 120)).save(photo)
    store = ResultFolder(keep=2)
    root = store.path
    for _ in range(4):
        _, files, _, _ = run_app({"path": str(photo), "orig_name": "small.png"}, RELATIVE, "magma", 5.0, 55.0,
                                 store=store, uploads=tmp_path)
    assert sorted(p.name for p in root.iterdir()) == ["request-000003", "request-000004"]  # the oldest deleted
    assert all(Path(f).is_file() and Path(f).is_relative_to(root / "request-000004") for f in files)
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6)).save(buffer, "PNG")
    url = "data:image/png;base64," + __import__("base64").b64encode(buffer.getvalue()).decode()
    run_app({"path": None, "url": url}, RELATIVE, "magma", 5.0, 55.0, store=store, uploads=tmp_path)  # webcam, inline
    assert (root / "request-000005" / "webcam.png").is_file() and len(list(root.iterdir())) == 2
    store.close()
    assert not root.exists()
    again = store.new()  # used after close (an app launched again): a new folder, removed in its turn
    assert again.is_dir() and not again.is_relative_to(root)
    second = store.path
    del store
    gc.collect()
    assert not second.exists()  # garbage-collected (and at exit: weakref.finalize)


def test_the_app_owns_one_result_folder_removed_by_close_and_prunes_gradios_cache():
    demo = depth_app(keep_results=3)
    folder = demo.result_folder.path
    assert folder.is_dir() and demo.result_folder.keep == 3
    assert demo.delete_cache == (900, 3600)  # Gradio's copies of uploads and downloads: deleted after an hour
    demo.close()
    assert not folder.exists()


def test_a_very_large_photo_is_reduced_with_a_notice(tmp_path):
    big = Image.new("RGB", (300, 120), (90, 120, 150))
    results = depth_results(big, MODELS[RELATIVE], out_dir=tmp_path, max_side=150)
    assert results.image.size == results.depth.shape[::-1] == (150, 60)
    assert any("300×120 px" in n and "150×60 px" in n for n in results.notices)
    assert any(n.startswith("STAND-IN") for n in results.notices) == results.stand_in  # announced when it is one
    with pytest.raises(ValueError, match=r"the 300×120 RGB PIL image is 300×120 pixels \(0\.0 megapixels\), more than "
                                         r"the app reads \(0\.01 megapixels\); reduce it first.*max_pixels=None"):
        depth_results(big, MODELS[RELATIVE], out_dir=tmp_path, max_pixels=10_000)


def test_cmyk_and_inline_pictures_are_read(tmp_path):
    from helpers.app import _uploaded_path

    cmyk = tmp_path / "print.jpg"
    helpers.load_image("coffee").resize((64, 48)).convert("CMYK").save(cmyk, "JPEG")
    results = depth_results(cmyk, MODELS[RELATIVE], out_dir=tmp_path)
    assert results.image.mode == "RGB" and results.depth.shape == (48, 64)
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (1, 2, 3)).save(buffer, "PNG")
    url = "data:image/png;base64," + __import__("base64").b64encode(buffer.getvalue()).decode()
    path, name = _uploaded_path({"path": None, "url": url}, tmp_path)  # written where it is told
    assert name == "webcam.png" and Image.open(path).size == (8, 6)


def test_the_sliders_reuse_the_prediction_for_the_same_photo_and_model(monkeypatch, tmp_path):
    import helpers.app as app_module

    calls = []
    real = app_module.predict_depth
    monkeypatch.setattr(app_module, "predict_depth", lambda *a, **k: calls.append(a[2][0].size) or real(*a, **k))
    monkeypatch.setattr(app_module, "_DEPTHS", app_module.RecentlyUsed(app_module.KEEP_DEPTHS))
    photo = helpers.load_image("coffee").resize((120, 80))
    metric = MODELS[DEFAULT_MODEL]
    first = depth_results(photo, metric, edge_jump=0.0, out_dir=tmp_path / "a")
    second = depth_results(photo, metric, edge_jump=0.02, hfov_deg=70.0, out_dir=tmp_path / "b")
    assert calls == [(120, 80)]  # the edge and field-of-view sliders ran no second prediction
    assert np.array_equal(first.depth, second.depth)
    assert np.array_equal(first.cloud.points[:, 2], second.cloud.points[:, 2])  # the same depths, ...
    assert np.ptp(second.cloud.points[:, 0]) > np.ptp(first.cloud.points[:, 0])  # ... spread by a wider view
    first.depth[:] = 0  # the caller's copy; the remembered map is untouched
    assert np.array_equal(depth_results(photo, metric, edge_jump=0.0, out_dir=tmp_path / "c").depth, second.depth)
    depth_results(photo.rotate(180), metric, out_dir=tmp_path / "d")  # another photo
    depth_results(photo, MODELS[RELATIVE], out_dir=tmp_path / "e")  # another model
    assert calls == [(120, 80)] * 3
    for index in range(app_module.KEEP_DEPTHS):  # four other photos push the first one out
        depth_results(photo.resize((120 - 14 * (index + 1), 80)), metric, out_dir=tmp_path / f"f{index}")
    depth_results(photo, metric, out_dir=tmp_path / "g")
    assert len(calls) == 3 + app_module.KEEP_DEPTHS + 1 and len(app_module._DEPTHS) == app_module.KEEP_DEPTHS


# ---- under attack: the same checks through gradio_client and through raw HTTP ---------------------------------------

DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never through a proxy


def raw_call(url: str, data: list, api: str = "depth") -> tuple[str, object]:
    """One call of the app's HTTP API without gradio_client: (``"complete"`` or ``"error"``, what came back)."""
    request = urllib.request.Request(f"{url.rstrip('/')}/gradio_api/call/{api}", json.dumps({"data": data}).encode(),
                                     {"Content-Type": "application/json"})
    event = json.load(DIRECT.open(request, timeout=60))["event_id"]
    stream = DIRECT.open(f"{url.rstrip('/')}/gradio_api/call/{api}/{event}", timeout=300).read().decode()
    kind = data_line = None
    for line in stream.splitlines():
        if line.startswith("event: "):
            kind = line[len("event: "):]
        elif line.startswith("data: ") and kind in ("complete", "error"):
            data_line = line[len("data: "):]
    return kind, json.loads(data_line)


def raw_error(url: str, data: list) -> str | None:
    """The message of a refused raw call (None: refused without one); fails the test if the call succeeded."""
    kind, answer = raw_call(url, data)
    assert kind == "error", f"the server answered {answer!r}"
    return answer["error"] if answer else None


def raw_upload(url: str, name: str, content: bytes) -> tuple[int, object]:
    """POST one file to Gradio's upload route as a browser does: (HTTP status, the answer)."""
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{url.rstrip('/')}/gradio_api/upload", body,
                                     {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with DIRECT.open(request, timeout=120) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def uploaded(url: str, path: Path) -> dict:
    """The payload the page sends for a file it uploaded (raw HTTP)."""
    status, [server_path] = raw_upload(url, path.name, path.read_bytes())
    assert status == 200
    return {"path": server_path, "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}


def settings(model=DEFAULT_MODEL, cmap="magma", edge=5.0, hfov=55.0, speed=EXACT) -> list:
    return [model, cmap, edge, hfov, speed]


@pytest.fixture
def secret(tmp_path):
    """A real photo on the server's disk that nobody uploaded: the app must not read it for a caller."""
    path = tmp_path / "server-side" / "secret.png"
    path.parent.mkdir()
    Image.new("RGB", (24, 16), (200, 10, 10)).save(path)
    return path


def test_the_server_reads_only_files_uploaded_to_it_and_says_the_same_whatever_was_named(app, secret, tmp_path):
    demo, client = app
    uploads = Path(demo.GRADIO_CACHE)
    up_and_back = os.path.join(uploads, *[".."] * len(uploads.parts), *secret.parts[1:])  # inside, then out again
    named = [str(secret), str(secret.with_name("absent.png")), up_and_back, "coffee",  # coffee: a bundled name
             str(secret.parent), f"file://{secret}"]
    for path in named:
        # a bare dict reaches the function as it came: refused in the app's own words, the same for every path
        assert raw_error(demo.local_url, [{"path": path, "orig_name": "photo.png"}, *settings()]) == NOT_UPLOADED
        with pytest.raises(gradio_client.exceptions.AppError, match=f"^{re.escape(NOT_UPLOADED)}$"):
            client.predict({"path": path}, *settings(), api_name="/depth")
        # a bare string, and Gradio's file payload: refused before the app runs, with no message that could tell
        for payload in (path, {"path": path, "meta": {"_type": "gradio.FileData"}}):
            assert raw_error(demo.local_url, [payload, *settings()]) in (NOT_UPLOADED, None)
    # what was uploaded is read, by the raw route as by the client
    kind, answer = raw_call(demo.local_url, [uploaded(demo.local_url, secret), *settings(model=RELATIVE)])
    assert kind == "complete" and answer[1][0]["orig_name"] == "secret_relative.npy"


def test_a_url_in_a_call_is_never_fetched(app, loopback, monkeypatch, tmp_path):
    demo, client = app
    buffer = io.BytesIO()
    Image.new("RGB", (24, 16), (10, 200, 10)).save(buffer, "PNG")
    server = loopback(lambda method, path: (200, {"Content-Type": "image/png"}, buffer.getvalue()))
    url = f"{server.url}/photo.png"

    # Gradio's own download guard refuses loopback addresses; an online server would fetch a public one. Stand in for
    # that here (the download goes to the test's loopback server), so that only the app can keep it from happening.
    import gradio.processing_utils as processing_utils

    async def download(address, cache_dir):
        target = Path(cache_dir) / uuid.uuid4().hex / "photo.png"
        target.parent.mkdir(parents=True)
        target.write_bytes(DIRECT.open(address, timeout=10).read())
        return str(target)

    monkeypatch.setattr(processing_utils, "async_ssrf_protected_download", download)
    for payload in ({"path": url}, {"path": url, "orig_name": "photo.png"}, {"path": None, "url": url},
                    {"path": url, "url": url, "meta": {"_type": "gradio.FileData"}}):
        assert raw_error(demo.local_url, [payload, *settings()]) in (NOT_UPLOADED, NO_PHOTO)
    with pytest.raises(gradio_client.exceptions.AppError, match=f"^{re.escape(NOT_UPLOADED)}$"):
        client.predict(gradio_client.handle_file(url), *settings(), api_name="/depth")
    with pytest.raises(gradio_client.exceptions.AppError, match=f"^{re.escape(NOT_UPLOADED)}$"):
        client.predict({"path": url}, *settings(), api_name="/depth")
    assert server.requests == []  # no request on a caller's behalf


MODEL_LIST = "; ".join(MODELS)


@pytest.mark.parametrize("changed, message", [
    ({"model": "gpt-5"}, f"Choose a model from the list: {MODEL_LIST}."),
    ({"model": None}, f"Choose a model from the list: {MODEL_LIST}."),
    ({"model": ["x"]}, f"Choose a model from the list: {MODEL_LIST}."),
    ({"cmap": "jet"}, "Choose a colormap from the list: magma; viridis; turbo; inferno; gray."),
    ({"edge": "5"}, "The 3-D edge threshold (%) must be a number: give a number from 0 to 20."),
    ({"edge": None}, "The 3-D edge threshold (%) is missing: give a number from 0 to 20."),
    ({"edge": True}, "The 3-D edge threshold (%) must be a number: give a number from 0 to 20."),
    ({"edge": -1}, "The 3-D edge threshold (%) is out of range: give a number from 0 to 20."),
    ({"hfov": 1e9}, "The field of view (°) is out of range: give a number from 20 to 120."),
    ({"hfov": {"deg": 55}}, "The field of view (°) must be a number: give a number from 20 to 120."),
    ({"speed": "ludicrous"}, f"Choose a speed from the list: {'; '.join(SPEEDS)}."),
    ({"speed": None}, f"Choose a speed from the list: {'; '.join(SPEEDS)}."),
], ids=lambda value: json.dumps(value) if isinstance(value, dict) else "")
def test_every_setting_is_checked_against_what_the_interface_offers(app, phone_photo, changed, message):
    demo, client = app
    data = settings(**changed)
    assert raw_error(demo.local_url, [uploaded(demo.local_url, phone_photo), *data]) == message
    with pytest.raises(gradio_client.exceptions.AppError, match=f"^{re.escape(message)}$"):
        client.predict(gradio_client.handle_file(str(phone_photo)), *data, api_name="/depth")


def test_messages_are_text_a_file_name_never_becomes_markup(app, tmp_path):
    demo, client = app
    name = "<img src=x onerror=alert(1)>.png"
    fake = tmp_path / name
    fake.write_text("not a photo")
    shown = "&lt;img src=x onerror=alert(1)&gt;.png is not an image file"  # Gradio shows a message as HTML
    payload = uploaded(demo.local_url, fake)  # the name as the browser sends it, beside the file it uploaded
    assert payload["orig_name"] == name
    message = raw_error(demo.local_url, [payload, *settings()])
    assert message.startswith(shown) and "<" not in message
    with pytest.raises(gradio_client.exceptions.AppError) as refused:
        client.predict({k: payload[k] for k in ("path", "orig_name")}, *settings(), api_name="/depth")
    assert str(refused.value).startswith(shown) and "<" not in str(refused.value)
    with pytest.raises(gradio_client.exceptions.AppError) as refused:  # gradio_client's own upload
        client.predict(gradio_client.handle_file(str(fake)), *settings(), api_name="/depth")
    assert "is not an image file" in str(refused.value) and "<" not in str(refused.value)


def test_the_exif_is_read_from_the_one_decoded_photo_under_the_apps_limit(phone_photo, tmp_path, monkeypatch):
    import PIL.Image

    opened = []
    real_open = PIL.Image.open
    monkeypatch.setattr(PIL.Image, "open", lambda *a, **k: opened.append(a[0]) or real_open(*a, **k))
    # Pillow's own guard far below the photo (200 × 150), the app's limit above it: only the app's limit may apply
    monkeypatch.setattr(PIL.Image, "MAX_IMAGE_PIXELS", 1000)
    results = depth_results(phone_photo, MODELS[DEFAULT_MODEL], out_dir=tmp_path, max_pixels=40_000)
    assert results.camera.source == "exif" and results.camera.focal_35mm == 26.0  # the EXIF is there ...
    assert len(opened) == 1  # ... read from the one decoded file
    with pytest.raises(ValueError, match=r"phone\.jpg is 200×150 pixels \(0\.0 megapixels\), more than the app reads "
                                         r"\(0\.02 megapixels\)"):
        depth_results(phone_photo, MODELS[DEFAULT_MODEL], out_dir=tmp_path, max_pixels=20_000)


def test_every_decoder_error_becomes_a_message_at_the_boundary(tmp_path, monkeypatch):
    import gradio as gr
    import PIL.ImageFile

    photo = tmp_path / "odd.png"
    Image.new("RGB", (24, 16)).save(photo)

    def broken(self):
        raise struct.error("unpack requires a buffer of 4 bytes")  # one of the errors Pillow's decoders let out

    monkeypatch.setattr(PIL.ImageFile.ImageFile, "load", broken)
    with pytest.raises(gr.Error) as refused:
        run_app({"path": str(photo), "orig_name": "odd.png"}, RELATIVE, "magma", 5.0, 55.0, uploads=tmp_path)
    assert refused.value.message == ("odd.png could not be read as an image; save it again as PNG or JPEG and try "
                                     "once more.")


def test_uploads_have_a_size_limit_stated_on_the_page(app):
    demo, _ = app
    assert demo.max_file_size == MAX_UPLOAD_MB * 2**20
    config = json.load(DIRECT.open(f"{demo.local_url.rstrip('/')}/config", timeout=30))
    labels = [c.get("props", {}).get("label") for c in config["components"]]
    assert f"Photo (up to {MAX_UPLOAD_MB} MB)" in labels
    status, answer = raw_upload(demo.local_url, "big.png", bytes(MAX_UPLOAD_MB * 2**20 + 1))
    assert status == 413 and "maximum allowed size" in answer
    status, _ = raw_upload(demo.local_url, "small.png", bytes(1000))
    assert status == 200


def test_a_model_change_clears_the_previous_models_results(phone_photo, tmp_path):
    note, picture, files, view, status = model_changed(RELATIVE)
    assert (picture, files, view, status) == (None, None, None, CHANGED)
    assert note.startswith(MODELS[RELATIVE])
    *_, status = run_app({"path": str(phone_photo), "orig_name": "phone.jpg"}, RELATIVE, "viridis", 5.0, 55.0,
                         uploads=tmp_path)
    assert status.startswith(f"- Made by **{RELATIVE}** with the viridis colormap.")  # the result names its model


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl+C"])
def test_stopping_the_server_removes_its_results_and_gradios_copies_of_the_uploads(tmp_path, phone_photo, stop):
    temp, cache = tmp_path / "tmp", tmp_path / "gradio"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "GRADIO_TEMP_DIR": str(cache), "GRADIO_ANALYTICS_ENABLED": "False",
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "helpers.app", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = server.stdout.readline()
        assert line.startswith("Depth app running at http://127.0.0.1:"), line
        url = f"http://127.0.0.1:{port}"
        upload = Path(uploaded(url, phone_photo)["path"])
        assert upload.is_file() and upload.is_relative_to(cache)
        [results] = [p for p in temp.iterdir() if p.name.startswith("depth-app-")]  # the app's result folder
        (results / "request-000001").mkdir()
        (results / "request-000001" / "phone_depth16.png").write_bytes(b"a result")
        server.send_signal(stop)
        assert server.wait(timeout=60) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        server.stdout.close()
    assert not results.exists() and not upload.exists()
    examples = {bundled_file(name).name for name in EXAMPLES}  # copies of data/'s photos that Gradio keeps
    assert sorted(p.name for p in cache.rglob("*") if p.is_file() and p.name not in examples) == []


def test_a_speed_change_clears_the_previous_results():
    assert speed_changed(FAST) == (None, None, None, SPEED_CHANGED)


@pytest.fixture
def fast_files(tiny_depth_anything, tiny_onnx, tmp_path, monkeypatch):
    """The build folder of this test, holding the session's tiny export where the fast path looks for it."""
    from helpers import app as app_module
    from helpers.deploy import default_onnx_path

    monkeypatch.setenv("DEPTH_TUTORIALS_BUILD", str(tmp_path / "build"))
    target = default_onnx_path(tiny_depth_anything[0])
    target.parent.mkdir(parents=True)
    target.write_bytes(tiny_onnx.path.read_bytes())
    monkeypatch.setattr(app_module, "_FAST", app_module.RecentlyUsed(2))  # this test's runtimes only
    monkeypatch.setattr(app_module, "_DEPTHS", app_module.RecentlyUsed(app_module.KEEP_DEPTHS))
    return target.parent


@pytest.mark.parametrize("int8", [True, False], ids=["int8", "OpenVINO float (no NNCF)"])
def test_the_fast_choice_gives_the_exact_choices_outputs_within_the_tolerance(app, fast_files, int8, monkeypatch):
    from helpers import fastpath, quantize

    monkeypatch.setattr(fastpath, "int8_pays_on_this_cpu", lambda: True)  # the int8 path on every CPU
    if not int8:  # OpenVINO's float path, which a stated tolerance can hold on random weights
        monkeypatch.setattr(quantize, "quantize_static_int8", lambda *a, **k: (_ for _ in ()).throw(ImportError("no nncf")))
    demo, client = app
    photo = bundled_file("coffee")
    exact_picture, exact_files, _, exact_status = call(client, photo, model=RELATIVE)
    (_, fast_picture), fast_files_out, _, status = call(client, photo, model=RELATIVE, speed=FAST)
    assert "Runtime: PyTorch float32 (exact)." in exact_status
    precision = "bf16" if fastpath.bf16_on_this_cpu() else "f32"
    runtime = f"OpenVINO int8 (static, NNCF) + {precision}" if int8 else f"OpenVINO {precision}"
    assert f"Runtime: {runtime}: " in status and "max relative difference to float32" in status
    exact, fast = (np.load(files[0]) for files in (exact_files, fast_files_out))
    assert fast.shape == exact.shape == (400, 600) and np.isfinite(fast).all()
    if int8:  # random weights: int8 cannot resolve the tiny stand-in's maps, only their size and magnitude
        assert 0.25 < fast.max() / exact.max() < 4
    else:
        assert helpers.max_relative_difference(fast, exact) < 0.03
    assert sorted(p.suffix for p in fast_files.iterdir()) == ([".bin", ".onnx", ".xml"] if int8 else [".onnx"])
    before = {p: p.stat().st_mtime_ns for p in fast_files.iterdir()}
    call(client, photo, model=RELATIVE, speed=FAST)  # reused: nothing exported or quantized again
    assert {p: p.stat().st_mtime_ns for p in fast_files.iterdir()} == before
