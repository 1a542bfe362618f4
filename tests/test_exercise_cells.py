"""Exercise check cells show only check()'s own message: a last check(...) call ends with ';' (else Jupyter also shows 'False')."""

import ast
import json

import pytest

from helpers.paths import NOTEBOOKS_DIR

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def echo_problems(cells: list[dict]) -> list[str]:
    """Code cells whose last statement is a bare check(...) call not silenced with ';'."""
    problems = []
    for index, cell in enumerate(cells):
        source = "".join(cell["source"]).rstrip()
        if cell["cell_type"] != "code" or not source:
            continue
        python = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        body = ast.parse(python).body
        if not body:
            continue
        last = body[-1]
        is_check = isinstance(last, ast.Expr) and isinstance(last.value, ast.Call) and \
            getattr(last.value.func, "id", getattr(last.value.func, "attr", None)) == "check"
        if is_check and not source.endswith(";"):
            problems.append(f"cell {index}: {source.splitlines()[-1].strip()}")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_check_cells_do_not_echo_false(path):
    assert echo_problems(json.loads(path.read_text(encoding="utf-8"))["cells"]) == []


@pytest.mark.parametrize("text, found", [
    ('answer = None\ncheck(answer, 3, name="Exercise 1");', []),
    ('answer = None\ncheck(answer, 3, name="Exercise 1")', ['cell 0: check(answer, 3, name="Exercise 1")']),
    ('from helpers import exercises\nexercises.check(None, 3)\n', ["cell 0: exercises.check(None, 3)"]),
    ('ok = check(None, 3)', []),
])
def test_the_rule_catches_an_echoing_check(text, found):
    assert echo_problems([{"cell_type": "code", "source": [text]}]) == found
