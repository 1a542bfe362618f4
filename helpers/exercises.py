"""Self-checks for the exercises: the learner sets ``answer`` and runs the cell; nothing ever raises."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def _close(answer: Any, expected: Any, rel: float, abs_tol: float) -> bool:
    if isinstance(expected, (str, bool)) or expected is None:
        return answer == expected
    if isinstance(expected, (int, float, np.number)):
        try:
            return math.isclose(float(answer), float(expected), rel_tol=rel, abs_tol=abs_tol)
        except (TypeError, ValueError):
            return False
    try:
        a, e = np.asarray(answer, dtype=float), np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return False
    return a.shape == e.shape and bool(np.allclose(a, e, rtol=rel, atol=abs_tol, equal_nan=True))


def check(answer: Any, expected: Any, rel: float = 1e-2, abs_tol: float = 0.0, name: str = "your answer") -> bool:
    """Print whether ``answer`` matches ``expected`` (numbers within ``rel``); ``None`` means not answered yet."""
    if answer is None:
        print(f"{name}: not answered yet — replace None with your answer and run the cell again.")
        return False
    if _close(answer, expected, rel, abs_tol):
        print(f"{name}: correct!")
        return True
    print(f"{name}: not quite — got {answer!r}. Re-read the hint, or unfold the solution above.")
    return False
