"""helpers.app in a real browser: headless Chromium (Debian's package) driven by Playwright.

Uploads a photo, waits for the depth picture and the 3-D view, downloads the depth file and reads it back, and
saves a screenshot (``helpers.build_dir()/app_browser.png``, or ``DEPTH_TUTORIALS_SCREENSHOT_DIR``); then changes
the model and sees the previous model's results go. A file whose name is markup gets its message as text. Without
Chromium the test skips with one line, unless ``DEPTH_TUTORIALS_REQUIRE_BROWSER=1`` (set by .ci/run) makes
that a failure.
"""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import helpers

REQUIRED = os.environ.get("DEPTH_TUTORIALS_REQUIRE_BROWSER") == "1"
CHROMIUM = next((p for p in (os.environ.get("DEPTH_TUTORIALS_CHROMIUM"), shutil.which("chromium"),
                             shutil.which("chromium-browser"), shutil.which("google-chrome")) if p), None)


def _missing(reason: str):
    if REQUIRED:
        pytest.fail(f"{reason}, and DEPTH_TUTORIALS_REQUIRE_BROWSER=1 requires the browser test", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


try:
    from playwright.sync_api import sync_playwright
except ImportError:
    _missing("Playwright is not installed (pip install -r requirements.txt)")
if CHROMIUM is None:
    _missing("no Chromium found (Debian/Ubuntu: apt-get install chromium)")

from helpers.app import CHANGED, DEFAULT_MODEL, MODELS, depth_app  # noqa: E402
from helpers.camera import EXIF_IFD, FOCAL_35MM_TAG  # noqa: E402

# software WebGL, so that the 3-D view renders without a GPU
CHROMIUM_ARGS = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--no-sandbox"]


def view_drawn(canvas, path, seconds=30.0) -> bool:
    """Wait until the 3-D canvas shows its dark background with coloured points on it."""
    background = np.array([26, 26, 26])  # the clear colour (0.1, 0.1, 0.1)
    for _ in range(int(seconds)):
        canvas.screenshot(path=str(path))
        pixels = np.asarray(Image.open(path).convert("RGB")).astype(int)
        is_background = np.abs(pixels - background).sum(axis=-1) <= 6
        if 0.2 < is_background.mean() < 0.95:
            return True
        canvas.page.wait_for_timeout(1000)
    return False


@pytest.fixture(scope="module")
def served():
    demo = depth_app()
    demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True, share=False)
    yield demo.local_url
    demo.close()


def test_upload_depth_3d_view_and_download_in_chromium(served, tmp_path):
    photo = tmp_path / "kitchen.jpg"
    exif = Image.Exif()
    exif.get_ifd(EXIF_IFD)[FOCAL_35MM_TAG] = 26
    helpers.load_image("coffee").resize((160, 120)).save(photo, "JPEG", exif=exif, quality=90)
    shots = Path(os.environ.get("DEPTH_TUTORIALS_SCREENSHOT_DIR") or helpers.build_dir())
    shots.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1600}, accept_downloads=True)
            page.goto(served, wait_until="networkidle")
            assert page.locator("#model").inner_text().count(DEFAULT_MODEL) <= 1
            page.locator("#photo input[type=file]").set_input_files(str(photo))
            page.locator("#photo img").first.wait_for(timeout=20_000)  # the upload is shown
            page.locator("#run").click()
            page.get_by_text("points (pixels next to a depth jump").wait_for(timeout=60_000)
            status = page.locator("#status").inner_text()
            assert "from the photo's EXIF (26 mm" in status
            assert page.locator("#slider img").count() == 2  # photo and depth, under one slider
            canvas = page.locator("#view canvas").first
            canvas.wait_for(timeout=30_000)
            assert view_drawn(canvas, tmp_path / "view.png"), "the 3-D view shows no point cloud"
            with page.expect_download(timeout=20_000) as download:
                page.locator('#downloads a[download="kitchen_depth16.png"]').click()
            saved = tmp_path / "downloaded.png"
            download.value.save_as(saved)
            page.screenshot(path=str(shots / "app_browser.png"))
            # another model: the first model's picture, files and 3-D view go, and the page says what to do
            other = next(label for label in MODELS if label != DEFAULT_MODEL)
            page.locator("#model input").click()
            page.get_by_role("option", name=other).click()
            page.get_by_text(CHANGED.replace("**", "")).wait_for(timeout=20_000)
            assert page.locator("#slider img").count() == 0
            assert page.locator('#downloads a[download="kitchen_depth16.png"]').count() == 0
        finally:
            browser.close()
    assert helpers.png_depth_scale(saved) == 1000.0
    depth = helpers.load_depth_png16(saved)
    assert depth.shape == (120, 160) and np.isfinite(depth).all() and float(np.nanmin(depth)) > 0


def test_a_file_name_in_a_message_is_shown_as_text_not_markup(served, tmp_path):
    name = "<img src=x id=injected>.png"
    fake = tmp_path / name
    fake.write_text("not a photo")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(served, wait_until="networkidle")
            page.locator("#photo input[type=file]").set_input_files(str(fake))
            page.wait_for_timeout(2000)  # the upload reaches the server
            page.locator("#run").click()
            message = page.get_by_text("is not an image file").first
            message.wait_for(timeout=30_000)
            assert message.inner_text().startswith(f"{name} is not an image file")  # the name, as text
            assert page.locator("#injected").count() == 0  # ... and no element made of it
        finally:
            browser.close()
