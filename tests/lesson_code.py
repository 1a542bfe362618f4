"""The one source of truth for code a lesson teaches and a later lesson, the app or the benchmark reuses.

A notebook writes its subject in its own cells (``def silog_loss(...)`` in notebook 10, the padding arithmetic in
03, ...). Where ``helpers`` keeps a careful version of the same computation for later use, a test takes the
lesson's own function out of the English notebook with :func:`lesson_function` and checks that both compute the
same on the same inputs, so the two can never drift apart silently.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

from helpers.paths import NOTEBOOKS_DIR


def notebook_path(number: str) -> Path:
    """The English notebook whose name starts with ``number`` (``"03"``)."""
    (path,) = sorted(NOTEBOOKS_DIR.glob(f"{number}_*.ipynb"))
    return path


def lesson_function(number: str, name: str, **namespace):
    """The function (or class) ``name`` exactly as notebook ``number``'s code cell defines it.

    Only that definition is executed, in a namespace holding the usual imports (``np``, ``torch``, ``math``, ``cv2``,
    ``helpers``) and ``namespace`` (names the definition reads from the notebook's knobs). Fails if no cell, or more
    than one, defines it.
    """
    found = []
    for cell in json.loads(notebook_path(number).read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        try:
            tree = ast.parse(source)
        except SyntaxError:  # IPython magics: not a definition cell
            continue
        found += [node for node in tree.body
                  if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name]
    assert len(found) == 1, f"notebook {number} defines {name!r} {len(found)} times (expected once)"
    import math

    import numpy as np

    import helpers

    scope = {"np": np, "math": math, "helpers": helpers, **namespace}
    for module in ("torch", "cv2"):
        try:
            scope[module] = __import__(module)
        except ImportError:  # pragma: no cover - both are in requirements.txt
            pass
    exec(compile(ast.Module(body=found, type_ignores=[]), f"{notebook_path(number).name}:{name}", "exec"), scope)
    return scope[name]
