"""helpers.classroom.prefetch against the fake Hub on loopback (HF_ENDPOINT): no test reaches the network.

huggingface_hub reads HF_ENDPOINT and HF_HOME when it is imported, so downloads run in a subprocess with
that environment; a tiny driver there swaps the registries for one fake checkpoint and one fake image.
"""

import hashlib
import io
import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from helpers.registry import DEPTH_ANYTHING_PROCESSOR
from helpers.classroom import prefetch
from helpers.classroom.prefetch import Item, Result, human_size

TINY = "test-org/tiny-depth"
BROKEN = "test-org/broken-depth"
BIN_ONLY = "test-org/bin-only-depth"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (5, 4), (1, 2, 3)).save(buffer, format="PNG")
    return buffer.getvalue()


REPO_FILES = {
    "config.json": json.dumps({"model_type": "depth_anything", "depth_estimation_type": "relative"}).encode(),
    "preprocessor_config.json": json.dumps(DEPTH_ANYTHING_PROCESSOR).encode(),
    "model.safetensors": b"w" * 123_456,
    "pytorch_model.bin": b"b" * 1000,  # a duplicate weight format: must not be fetched
    "onnx/model.onnx": b"o" * 500,  # an export: must not be fetched
    "README.md": b"# tiny\n",
}
FETCHED = ["config.json", "model.safetensors", "preprocessor_config.json"]
IMAGE = _png()


@pytest.fixture
def hub(fake_hub):
    broken = dict(REPO_FILES, **{"preprocessor_config.json": b"{not json"})
    bin_only = {k: v for k, v in REPO_FILES.items() if k != "model.safetensors"}
    return fake_hub({TINY: REPO_FILES, BROKEN: broken, BIN_ONLY: bin_only}, {"/images/pic.png": IMAGE})


DRIVER = """
import sys
from helpers import data, registry
from helpers.classroom import prefetch

base, repos = sys.argv[1], sys.argv[2].split(",")
registry.CHECKPOINTS.clear()
for repo in repos:
    registry.CHECKPOINTS[repo] = registry.CheckpointInfo(
        repo, "depth_anything", "small", "relative disparity", "apache-2.0", registry.DEPTH_ANYTHING_PROCESSOR)
if "--keep-images" in sys.argv:  # the registry's own images, served by the fake Hub as a mirror
    sys.argv.remove("--keep-images")
else:
    for name in [n for n, e in data.DATA.items() if e.remote]:
        del data.DATA[name]
    data.DATA["pic"] = data.DataFile(base + "/images/pic.png", None, "test image")
raise SystemExit(prefetch.main(sys.argv[3:]))
"""


def _environment(tmp_path, hub, offline=False):
    env = dict(os.environ)  # conftest's: dead proxies except for loopback
    env.update(HF_ENDPOINT=hub.url, HF_HOME=str(tmp_path / "hf"), DEPTH_TUTORIALS_CACHE=str(tmp_path / "cache"),
               HF_HUB_OFFLINE="1" if offline else "0", DEPTH_TUTORIALS_OFFLINE="1" if offline else "0",
               HF_HUB_DISABLE_PROGRESS_BARS="1")
    return env


def _prefetch(tmp_path, hub, *args, repos=(TINY,), offline=False):
    return subprocess.run(
        [sys.executable, "-c", DRIVER, hub.url, ",".join(repos), *args],
        env=_environment(tmp_path, hub, offline), capture_output=True, text=True, timeout=300,
    )


def _snapshot(tmp_path, hub, repo_id=TINY):
    return tmp_path / "hf" / "hub" / f"models--{repo_id.replace('/', '--')}" / "snapshots" / hub.commit(repo_id)


def _cached_image(tmp_path, hub):
    url = hub.url + "/images/pic.png"
    return tmp_path / "cache" / "images" / f"{hashlib.sha1(url.encode()).hexdigest()[:16]}-pic.png"


def test_the_plan_is_exactly_the_registries():
    assert [(i.kind, i.name, i.licence) for i in prefetch.plan()] == [
        ("checkpoint", "depth-anything/Depth-Anything-V2-Small-hf", "apache-2.0"),
        ("checkpoint", "depth-anything/Depth-Anything-V2-Base-hf", "cc-by-nc-4.0"),
        ("checkpoint", "depth-anything/Depth-Anything-V2-Large-hf", "cc-by-nc-4.0"),
        ("checkpoint", "depth-anything/Depth-Anything-V2-Metric-Indoor-Small-hf", "not stated"),
        ("checkpoint", "Intel/zoedepth-nyu-kitti", "mit"),
        ("image", "bee", "Hugging Face documentation image"),
        ("image", "cat_chonk", "Hugging Face documentation image"),
    ]
    assert prefetch.plan()[5].source == "https://huggingface.co/datasets/huggingface/documentation-images/resolve/main/bee.jpg"


def test_the_plan_takes_hub_images_from_hf_endpoint(monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "https://hub-mirror.example/")
    assert [i.source for i in prefetch.plan(["bee", "cat_chonk"])] == [
        "https://hub-mirror.example/datasets/huggingface/documentation-images/resolve/main/bee.jpg",
        "https://hub-mirror.example/datasets/huggingface/documentation-images/resolve/main/pipeline-cat-chonk.jpeg",
    ]


def test_only_selects_by_name_and_rejects_unknown_names():
    assert [i.name for i in prefetch.plan(["bee", "intel/zoedepth-nyu-kitti"])] == ["bee", "Intel/zoedepth-nyu-kitti"]
    with pytest.raises(ValueError, match="Nothing called 'nope' to prefetch"):
        prefetch.plan(["nope"])


@pytest.mark.parametrize("size, text", [(0, "0 B"), (999, "999 B"), (1000, "1.0 kB"), (123_456, "123.5 kB"),
                                        (999_960, "1.0 MB"), (24_800_000, "24.8 MB"), (1_300_000_000, "1.3 GB")])
def test_human_size(size, text):
    assert human_size(size) == text


def test_summary_lists_what_where_and_totals(monkeypatch, tmp_path):
    monkeypatch.setattr(prefetch, "cache_locations", lambda: {"HF": tmp_path / "hf", "helpers": tmp_path / "c"})
    results = [
        Result(Item("checkpoint", "a/b", "a/b", "mit"), "downloaded", tmp_path / "snap", 2_500_000),
        Result(Item("image", "pic", "http://x/pic.png", "CC0"), "cached", tmp_path / "pic.png", 1500),
        Result(Item("image", "gone", "http://x/gone.png", "CC0"), "missing"),
        Result(Item("checkpoint", "c/d", "c/d", "mit"), "failed", error="boom"),
    ]
    assert prefetch.summary(results).splitlines() == [
        "what            licence  state       size    where",
        f"checkpoint a/b  mit      downloaded  2.5 MB  {tmp_path / 'snap'}",
        f"image pic       CC0      cached      1.5 kB  {tmp_path / 'pic.png'}",
        "image gone      CC0      missing     -       -",
        "checkpoint c/d  mit      failed      -       -",
        "total: 2 of 4 ready, 2.5 MB on disk",
        f"HF: {tmp_path / 'hf'}",
        f"helpers: {tmp_path / 'c'}",
        "FAILED c/d: boom",
    ]


def test_check_on_an_empty_cache_lists_what_is_missing_and_downloads_nothing(tmp_path, hub):
    done = _prefetch(tmp_path, hub, "--check")
    assert done.returncode == 1, done.stderr
    assert f"missing: {TINY}, pic\n" in done.stdout
    assert "total: 0 of 2 ready, 0 B on disk" in done.stdout
    assert hub.requests == []


def test_prefetch_downloads_verifies_and_then_works_offline(tmp_path, hub, monkeypatch):
    done = _prefetch(tmp_path, hub)
    assert done.returncode == 0, done.stdout + done.stderr
    snapshot = _snapshot(tmp_path, hub)
    # only configs, processor and safetensors: no duplicate .bin, no ONNX, no README
    assert sorted(p.name for p in snapshot.rglob("*")) == FETCHED
    assert hub.downloads() == sorted(FETCHED + ["pic.png"])
    assert _cached_image(tmp_path, hub).read_bytes() == IMAGE
    expected = sum(len(REPO_FILES[f]) for f in FETCHED) + len(IMAGE)
    assert f"total: 2 of 2 ready, {human_size(expected)} on disk" in done.stdout
    assert f"{snapshot}\n" in done.stdout and str(_cached_image(tmp_path, hub)) in done.stdout

    # exact sizes, read back from the same cache in this process
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    monkeypatch.setenv("DEPTH_TUTORIALS_CACHE", str(tmp_path / "cache"))
    found = prefetch.inspect(Item("checkpoint", TINY, TINY, "apache-2.0"))
    assert (found.state, found.path, found.size) == ("cached", snapshot, sum(len(REPO_FILES[f]) for f in FETCHED))
    from helpers import data

    monkeypatch.setitem(data.DATA, "pic", data.DataFile(hub.url + "/images/pic.png", None, "test image"))
    picture = prefetch.inspect(Item("image", "pic", hub.url + "/images/pic.png", "test"))
    assert (picture.state, picture.size) == ("cached", len(IMAGE))

    # a second run finds everything cached and asks the Hub nothing; --check agrees
    hub.requests.clear()
    again = _prefetch(tmp_path, hub, "--check")
    assert again.returncode == 0 and "total: 2 of 2 ready" in again.stdout and hub.requests == []

    # offline, the notebooks' own look-ups hit the cache: the real snapshot and the real image, no fallback
    probe = (
        "from helpers.checkpoints import cached_snapshot\nfrom helpers.data import load_image\n"
        f"print(cached_snapshot({TINY!r}))\nprint(load_image({hub.url + '/images/pic.png'!r}).size)"
    )
    offline = subprocess.run([sys.executable, "-c", probe], env=_environment(tmp_path, hub, offline=True),
                             capture_output=True, text=True, timeout=120)
    assert offline.stdout.splitlines() == [str(snapshot), "(5, 4)"], offline.stderr
    assert hub.requests == []


def test_a_checkpoint_that_does_not_load_is_reported_and_fails_the_run(tmp_path, hub):
    done = _prefetch(tmp_path, hub, repos=(TINY, BROKEN))
    assert done.returncode == 1
    assert f"FAILED {BROKEN}: ValueError: {BROKEN} is in the cache at {_snapshot(tmp_path, hub, BROKEN)} but does not load" \
        in done.stdout
    assert "total: 2 of 3 ready" in done.stdout


def test_prefetch_refuses_to_run_in_offline_mode(tmp_path, hub):
    done = _prefetch(tmp_path, hub, offline=True)
    assert done.returncode == 2 and "offline mode is on" in done.stdout and hub.requests == []


def test_a_repository_without_safetensors_gets_its_pytorch_weights(tmp_path, hub):
    done = _prefetch(tmp_path, hub, "--only", BIN_ONLY, repos=(BIN_ONLY,))
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in _snapshot(tmp_path, hub, BIN_ONLY).iterdir()) == [
        "config.json", "preprocessor_config.json", "pytorch_model.bin"]
    assert hub.downloads() == ["config.json", "preprocessor_config.json", "pytorch_model.bin"]


GUIDE_IMAGES = "/datasets/huggingface/documentation-images/resolve/main/"


def test_prefetch_behind_a_hub_mirror_gets_the_guide_pictures_from_it(tmp_path, fake_hub):
    bee, cat = _png(), _png()
    mirror = fake_hub({TINY: REPO_FILES}, {GUIDE_IMAGES + "bee.jpg": bee, GUIDE_IMAGES + "pipeline-cat-chonk.jpeg": cat})
    done = _prefetch(tmp_path, mirror, "--keep-images")
    assert done.returncode == 0, done.stdout + done.stderr
    images = [p for method, p in mirror.requests if method == "GET" and p.startswith("/datasets/")]
    assert images == [GUIDE_IMAGES + "bee.jpg", GUIDE_IMAGES + "pipeline-cat-chonk.jpeg"]
    assert "total: 3 of 3 ready" in done.stdout

    # offline afterwards, the notebooks' load_image("bee") is the mirror's picture, with no fallback notice
    mirror.requests.clear()
    probe = "from helpers.data import load_image\nprint(load_image('bee').getpixel((0, 0)))"
    offline = subprocess.run([sys.executable, "-c", probe], env=_environment(tmp_path, mirror, offline=True),
                             capture_output=True, text=True, timeout=120)
    assert offline.stdout.splitlines() == ["(1, 2, 3)"], offline.stdout + offline.stderr
    assert mirror.requests == []
