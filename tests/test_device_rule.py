"""One device rule everywhere: every notebook picks its device with helpers.pick_device() (a DEVICE knob may override it)."""

import ast
import json
import re

import pytest

from helpers.paths import NOTEBOOKS_DIR

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
OWN_RULE = re.compile(r"torch\.cuda\.is_available\(\)|backends\.mps\.is_available\(\)")
ALLOWED = {"pick_device()", "helpers.pick_device()", "DEVICE or pick_device()", "DEVICE or helpers.pick_device()"}


def device_problems(cells: list[dict]) -> list[str]:
    """Code cells that choose a device some other way than ``[DEVICE or ]helpers.pick_device()``."""
    problems = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        if OWN_RULE.search(source):
            problems.append(f"cell {index}: its own device rule ({OWN_RULE.search(source).group(0)})")
        python = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(python)):
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and any(
                isinstance(t, ast.Name) and t.id == "device" for t in targets
            ):
                value = ast.unparse(node.value) if node.value is not None else ""
                if value not in ALLOWED:
                    problems.append(f"cell {index}: device = {value}")
    return problems


def test_every_notebook_is_checked():
    assert len(NOTEBOOKS) >= 7


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_pick_their_device_with_pick_device(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    assert device_problems(cells) == []


def _code(text):
    return {"cell_type": "code", "source": [text]}


@pytest.mark.parametrize("text, found", [
    ("device = DEVICE or helpers.pick_device()  # the rule", []),
    ("device = pick_device()\n", []),
    ('device = "cuda" if torch.cuda.is_available() else "cpu"',
     ["cell 0: its own device rule (torch.cuda.is_available())", "cell 0: device = 'cuda' if torch.cuda.is_available() else 'cpu'"]),
    ('device = "cpu"', ["cell 0: device = 'cpu'"]),
    ("pipe = pipeline(\n    device=device,\n)", []),
    ("if device == 'cuda':\n    torch.cuda.synchronize()", []),
    ("use_mps = torch.backends.mps.is_available()", ["cell 0: its own device rule (backends.mps.is_available())"]),
])
def test_the_rule_catches_other_device_choices(text, found):
    assert device_problems([_code(text), {"cell_type": "markdown", "source": ["torch.cuda.is_available()"]}]) == found
