"""Notebook set-up: device choice, one seed call, quiet libraries."""

from __future__ import annotations

import os
import random
import warnings

import numpy as np


def pick_device() -> str:
    """'cuda' when an NVIDIA GPU is usable, 'mps' on Apple silicon, else 'cpu'."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and (if installed) torch, for repeatable notebooks."""
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:
        return
    torch.manual_seed(seed)


def quiet_libraries() -> None:
    """Silence progress bars and advisory warnings that would clutter notebook output."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # only the libraries' own advisory warnings: a warning raised by the learner's code still shows
    libraries = r"(transformers|torch|torchvision|huggingface_hub)(\..*)?\Z"
    warnings.filterwarnings("ignore", category=UserWarning, module=libraries)
    warnings.filterwarnings("ignore", category=FutureWarning, module=libraries)
    try:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
        from transformers.utils import logging

        logging.set_verbosity_error()
        logging.disable_progress_bar()
    except ImportError:
        pass


FIGURE_DPI = 72  # stored figures stay small (a few tens of kB each); a learner can raise it


def notebook_setup(seed: int = 0) -> None:
    """The one set-up call at the top of every notebook: quiet libraries, modest figure size, seed everything."""
    quiet_libraries()
    try:
        import matplotlib

        matplotlib.rcParams["figure.dpi"] = FIGURE_DPI
    except ImportError:
        pass
    seed_everything(seed)
