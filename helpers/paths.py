"""Where things live: the project's data folder and the helpers' own cache."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"


def cache_dir() -> Path:
    """Folder for stand-in models and downloaded images (``DEPTH_TUTORIALS_CACHE`` overrides)."""
    override = os.environ.get("DEPTH_TUTORIALS_CACHE")
    base = Path(override) if override else Path.home() / ".cache" / "depth-tutorials"
    base.mkdir(parents=True, exist_ok=True)
    return base


def build_dir() -> Path:
    """Where notebooks write what they make: ``build/`` here (git-ignored); ``DEPTH_TUTORIALS_BUILD`` overrides."""
    override = os.environ.get("DEPTH_TUTORIALS_BUILD")
    return Path(override) if override else PROJECT_ROOT / "build"


def data_path(name: str) -> Path:
    """Path of a file shipped in ``data/``; a clear error if it is missing."""
    path = DATA_DIR / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing. It ships with this repository: restore it with "
            f"`git checkout -- data/{name}` or re-clone the project."
        )
    return path
