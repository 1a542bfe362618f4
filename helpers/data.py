"""Sample data: bundled files, remote images with a local cache, and the Middlebury stereo pair."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .images import MAX_PIXELS, ImageTooLargeError, as_rgb_image, open_checked, refuse_bgr, to_rgb
from .paths import cache_dir, data_path


@dataclass(frozen=True)
class DataFile:
    """One entry of the data registry: where it comes from, its checksum and its licence."""

    source: str  # a file name in data/, an http(s) URL, or "hub:<path>" for a file served by the Hugging Face Hub
    sha256: str | None  # None for remote files whose bytes we cannot pin offline
    licence: str
    fallback: str | None = None  # bundled entry used when a remote file cannot be fetched

    @property
    def remote(self) -> bool:
        """True for entries that are downloaded (a URL or a Hub file), False for bundled files."""
        return self.source.startswith(("http://", "https://", HUB))

    @property
    def url(self) -> str:
        """Where to download the entry now: Hub files from the endpoint the Hub client uses (HF_ENDPOINT)."""
        if self.source.startswith(HUB):
            return f"{hub_endpoint()}/{self.source[len(HUB):]}"
        return self.source

    @property
    def cache_key(self) -> str:
        """The address the cache is keyed by: for Hub files the huggingface.co URL, whatever the endpoint."""
        if self.source.startswith(HUB):
            return f"{DEFAULT_HUB_ENDPOINT}/{self.source[len(HUB):]}"
        return self.source


HUB = "hub:"
DEFAULT_HUB_ENDPOINT = "https://huggingface.co"


def hub_endpoint() -> str:
    """The Hub address the Hugging Face client uses: ``HF_ENDPOINT`` as set now, else huggingface_hub's own."""
    endpoint = os.environ.get("HF_ENDPOINT", "").strip()
    if not endpoint:
        from huggingface_hub import constants

        endpoint = constants.ENDPOINT
    return endpoint.rstrip("/")


# One registry for every image the notebooks use (data/README.md gives the full credits).
DATA: dict[str, DataFile] = {
    "motorcycle_left": DataFile(
        "motorcycle_left.png",
        "db18e9c4157617403c3537a6ba355dfeafe9a7eabb6b9b94cb33f6525dd49179",
        "Middlebury 2014 stereo data (Scharstein et al., GCPR 2014), via scikit-image",
    ),
    "motorcycle_right": DataFile(
        "motorcycle_right.png",
        "5fc913ae870e42a4b662314bc904d1786bcad8e2f0b9b67dba5a229406357797",
        "Middlebury 2014 stereo data (Scharstein et al., GCPR 2014), via scikit-image",
    ),
    "motorcycle_disparity": DataFile(
        "motorcycle_disp.npz",
        "2e49c8cebff3fa20359a0cc6880c82e1c03bbb106da81a177218281bc2f113d7",
        "Middlebury 2014 stereo data (Scharstein et al., GCPR 2014), via scikit-image",
    ),
    "chelsea": DataFile(
        "chelsea.png",
        "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb",
        "CC0 (Stefan van der Walt), via scikit-image",
    ),
    "coffee": DataFile(
        "coffee.png",
        "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7",
        "CC0 (Rachel Michetti), via scikit-image",
    ),
    "rocket": DataFile(
        "rocket.jpg",
        "c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c",
        "Public domain (SpaceX), via scikit-image",
    ),
    # The task guide's own pictures, from the Hub's documentation-images dataset (through a mirror when
    # HF_ENDPOINT names one, as the Hub client does).
    "bee": DataFile(
        "hub:datasets/huggingface/documentation-images/resolve/main/bee.jpg",
        None,
        "Hugging Face documentation image",
        fallback="chelsea",
    ),
    "cat_chonk": DataFile(
        "hub:datasets/huggingface/documentation-images/resolve/main/pipeline-cat-chonk.jpeg",
        None,
        "Hugging Face documentation image",
        fallback="chelsea",
    ),
}

def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bundled_file(name: str) -> Path:
    """Path of a bundled registry entry, checked against its sha256."""
    entry = DATA[name]
    if entry.remote:
        raise ValueError(f"{name!r} is a remote entry; use fetch({name!r}) or load_image({name!r}).")
    path = data_path(entry.source)
    if entry.sha256 and _sha256(path) != entry.sha256:
        raise ValueError(
            f"{path} does not match its registered sha256: the file was modified or corrupted. "
            f"Restore it with `git checkout -- data/{entry.source}`."
        )
    return path


def offline() -> bool:
    """True when the user asked for no network use (``HF_HUB_OFFLINE`` or ``DEPTH_TUTORIALS_OFFLINE``)."""
    truthy = {"1", "true", "yes", "on"}
    return any(os.environ.get(v, "").strip().lower() in truthy for v in ("HF_HUB_OFFLINE", "DEPTH_TUTORIALS_OFFLINE"))


def cached_download_path(url: str) -> Path:
    """Where ``fetch`` keeps (or will keep) the download of ``url`` in the helpers cache."""
    digest = hashlib.sha1(url.encode()).hexdigest()[:16]
    name = url.rstrip("/").rsplit("/", 1)[-1] or "download"
    return cache_dir() / "images" / f"{digest}-{name}"


def fetch(url: str, timeout: float = 10.0, cache_key: str | None = None) -> Path:
    """Download ``url`` once into the cache (keyed by ``cache_key``, default the URL) and return the cached path."""
    target = cached_download_path(cache_key or url)
    if target.is_file():
        return target
    if offline():
        raise ConnectionError(f"Not downloading {url}: offline mode is on (HF_HUB_OFFLINE or DEPTH_TUTORIALS_OFFLINE)")
    import requests

    try:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
    except requests.RequestException as err:
        raise ConnectionError(f"Could not download {url}: {_reason(err)}") from err
    open_checked(io.BytesIO(response.content), url)  # refuse to cache something that is not an image
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
        tmp.write(response.content)
    os.replace(tmp.name, target)
    return target


def fetch_entry(name: str, timeout: float = 10.0) -> Path:
    """Download a remote registry entry once (from ``HF_ENDPOINT`` for Hub files) and return the cached path."""
    entry = DATA[name]
    return fetch(entry.url, timeout=timeout, cache_key=entry.cache_key)


def cached_entry(name: str) -> Path | None:
    """The cached copy of a remote registry entry, or None; never uses the network."""
    path = cached_download_path(DATA[name].cache_key)
    return path if path.is_file() else None


def _reason(err: Exception) -> str:
    """A short reason for a failed download: the HTTP status, a timeout, or no connection."""
    import requests

    response = getattr(err, "response", None)
    if response is not None:
        return f"HTTP {response.status_code}"
    if isinstance(err, requests.Timeout):
        return "no answer in time"
    if isinstance(err, requests.ConnectionError):
        return "no connection"
    return type(err).__name__


def load_image(source: Any, timeout: float = 10.0, *, bgr: bool = False,
               max_pixels: int | None = MAX_PIXELS) -> Image.Image:
    """An RGB PIL image, upright, of a path, a registry name (``"bee"``), a URL, a PIL image or a NumPy array.

    What an image may be is written once, in ``helpers.images`` (``bgr=True`` for OpenCV's arrays;
    ``max_pixels`` refuses larger images, None lifts the limit). A URL that cannot be fetched falls back,
    with a printed notice, to a bundled photo when it is one of the registry's URLs (the task guide's
    pictures); any other URL raises ``ConnectionError``.
    """
    if not isinstance(source, (str, os.PathLike)):
        return as_rgb_image(source, bgr=bgr, max_pixels=max_pixels)
    text = str(source)
    refuse_bgr(bgr, text)
    name = _registry_name(text)
    if name is not None and not DATA[name].remote:
        return to_rgb(open_checked(bundled_file(name), name, max_pixels), name)
    if name is not None:
        entry = DATA[name]
        try:
            return to_rgb(open_checked(fetch_entry(name, timeout=timeout), name, max_pixels), name)
        except ImageTooLargeError:
            raise
        except (ConnectionError, ValueError) as err:
            if entry.fallback is None:
                raise
            print(fallback_notice(name, err))
            return to_rgb(open_checked(bundled_file(entry.fallback), entry.fallback, max_pixels), entry.fallback)
    if text.startswith(("http://", "https://")):
        try:
            return to_rgb(open_checked(fetch(text, timeout=timeout), text, max_pixels), text)
        except ImageTooLargeError:
            raise
        except (ConnectionError, ValueError) as err:
            raise ConnectionError(f"{str(err).rstrip('.')}. This URL has no bundled fallback: check the address or your network.") from err
    path = Path(text).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"No image at {path}. Give a file path, an http(s) URL or one of: {', '.join(DATA)}.")
    return as_rgb_image(path, max_pixels=max_pixels)


def _registry_name(text: str) -> str | None:
    """The registry name for a name or for the URL of a remote entry (the guide's address or the current one)."""
    if text in DATA:
        return text
    if not text.startswith(("http://", "https://")):
        return None
    return next((n for n, e in DATA.items() if e.remote and text in (e.source, e.url, e.cache_key)), None)


def fallback_notice(name: str, err: Exception) -> str:
    """One sentence: which picture could not be had, why, what is shown instead, and what to do."""
    entry = DATA[name]
    if offline():
        return (f"[helpers] Offline mode is on and '{name}' is not in the cache, so the bundled photo "
                f"'{entry.fallback}' is shown instead; to get '{name}', run `python -m helpers.classroom.prefetch --only {name}` "
                "once with network access.")
    why = str(err).split(": ", 1)[-1] if isinstance(err, ConnectionError) else "the file is not an image"
    return (f"[helpers] Could not download '{name}' from {entry.url} ({why}), so the bundled photo "
            f"'{entry.fallback}' is shown instead; check your network, or set HF_ENDPOINT to a Hub mirror you can "
            "reach, and run the cell again.")


@dataclass(frozen=True)
class StereoCalibration:
    """Pinhole stereo calibration of a rectified pair: depth = focal * baseline / (disparity + doffs)."""

    focal_px: float
    baseline_mm: float
    doffs_px: float  # x-difference of the two principal points (Middlebury's "doffs")
    cx_px: float
    cy_px: float

    def depth_m(self, disparity: np.ndarray) -> np.ndarray:
        """Depth in metres from disparity in pixels (NaN where disparity is unknown or not finite)."""
        from .depthmath import stereo_disparity_to_depth

        return stereo_disparity_to_depth(disparity, self.focal_px, self.baseline_mm / 1000.0, self.doffs_px)


# Calibration of the quarter-resolution Motorcycle pair, from skimage.data.stereo_motorcycle's docstring.
MOTORCYCLE_CALIBRATION = StereoCalibration(
    focal_px=994.978, baseline_mm=193.001, doffs_px=31.086, cx_px=311.193, cy_px=254.877
)


@dataclass(frozen=True)
class StereoPair:
    """A rectified stereo pair with ground-truth disparity of the left view (NaN where unknown)."""

    left: Image.Image
    right: Image.Image
    disparity: np.ndarray
    calibration: StereoCalibration

    @property
    def valid(self) -> np.ndarray:
        """Mask of pixels with ground truth."""
        return np.isfinite(self.disparity)

    def depth_m(self) -> np.ndarray:
        """Ground-truth depth of the left view in metres (NaN where unknown)."""
        return self.calibration.depth_m(self.disparity)


def load_stereo_pair() -> StereoPair:
    """The Middlebury 2014 Motorcycle pair (quarter resolution) with GT disparity and calibration."""
    with np.load(bundled_file("motorcycle_disparity")) as npz:
        disparity = npz["arr_0"].astype(np.float32)
    disparity[~np.isfinite(disparity)] = np.nan  # the file marks unknown pixels with inf
    return StereoPair(
        left=load_image("motorcycle_left"),
        right=load_image("motorcycle_right"),
        disparity=disparity,
        calibration=MOTORCYCLE_CALIBRATION,
    )
