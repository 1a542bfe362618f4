"""tests/lesson_code.py: a lesson's function is taken from its notebook cell and runs as written."""

import json

import pytest

from tests import lesson_code


def test_lesson_function_runs_the_definition_from_the_notebook(tmp_path, monkeypatch):
    cells = [{"cell_type": "code", "source": ["K = 3\n", "def triple(x):\n", "    return K * x\n", "print(triple(2))\n"]},
             {"cell_type": "markdown", "source": ["def not_code(): pass"]},
             {"cell_type": "code", "source": ["%time 1\n"]}]
    (tmp_path / "99_demo.ipynb").write_text(json.dumps({"cells": cells}), encoding="utf-8")
    monkeypatch.setattr(lesson_code, "NOTEBOOKS_DIR", tmp_path)
    assert lesson_code.lesson_function("99", "triple", K=5)(2) == 10  # the knob comes from the test, not the cell
    with pytest.raises(AssertionError, match="defines 'not_code' 0 times"):
        lesson_code.lesson_function("99", "not_code")
