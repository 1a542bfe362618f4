"""helpers.env: the libraries' own warnings are silenced, the learner's are not; one seed call repeats."""

import random
import warnings

import numpy as np
import torch

from helpers.env import quiet_libraries, seed_everything


def test_quiet_libraries_silences_only_the_libraries_own_warnings():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet_libraries()
        for module in ("transformers.models.zoedepth", "torch", "huggingface_hub.file_download", "__main__", "torchy"):
            warnings.warn_explicit(f"future from {module}", FutureWarning, "x.py", 1, module=module)
        warnings.warn_explicit("user from torchvision.io", UserWarning, "x.py", 1, module="torchvision.io")
        warnings.warn_explicit("user from __main__", UserWarning, "x.py", 1, module="__main__")
    assert [str(w.message) for w in caught] == ["future from __main__", "future from torchy", "user from __main__"]


def test_seed_everything_repeats_python_numpy_and_torch():
    def draw():
        return random.random(), float(np.random.rand()), float(torch.rand(1))

    seed_everything(7)
    first = draw()
    seed_everything(7)
    assert draw() == first


