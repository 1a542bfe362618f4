"""helpers.app: the depth app served on loopback and driven through its API with gradio_client (stand-in models).

Upload -> depth, the 16-bit file read back with the scale it states, the PLY read back with the point count the
app reports and the geometry of the photo's EXIF focal length; bad uploads -> a clear message, and the app answers
the next request; result files bounded (one folder per app, the newest requests kept, removed on close).
"""

import gc
import io
import struct
import zlib

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import helpers
from helpers.camera import EXIF_IFD, FOCAL_35MM_TAG, ORIENTATION_TAG

gradio_client = pytest.importorskip("gradio_client")
from helpers.app import (  # noqa: E402
    DEFAULT_MODEL, MODELS, RELATIVE_NOTE, ResultFolder, depth_app, depth_results, run_app,
)

RELATIVE = "Depth Anything V2 Small: relative"


@pytest.fixture(scope="module")
def app():
    """The app on 127.0.0.1 (a free port), and a client for it; closed after this file's tests."""
    demo = depth_app()
    demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True, share=False)
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


def call(client, path, model=DEFAULT_MODEL, edge=5.0, hfov=55.0):
    return client.predict(gradio_client.handle_file(str(path)), model, "magma", edge, hfov, api_name="/depth")


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
                                 store=store)
    assert sorted(p.name for p in root.iterdir()) == ["request-000003", "request-000004"]  # the oldest deleted
    assert all(Path(f).is_file() and Path(f).is_relative_to(root / "request-000004") for f in files)
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6)).save(buffer, "PNG")
    url = "data:image/png;base64," + __import__("base64").b64encode(buffer.getvalue()).decode()
    run_app({"path": None, "url": url}, RELATIVE, "magma", 5.0, 55.0, store=store)  # a webcam frame sent inline
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
