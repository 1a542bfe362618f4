"""Every notebook follows the house style (shared/STYLE.md); the rules themselves are tested too."""

import json

import nbformat
import pytest

from helpers.notebooks import collection_problems, naming_problems, structure_problems


def test_the_collection_follows_the_house_style():
    assert collection_problems() == {}


def _good_notebook(next_name="02_next.ipynb"):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title\n\nWhy.\n\n**What you will learn**\n- x\n\n**Prerequisites**\n- y"),
        nbformat.v4.new_code_cell("CHECKPOINT = 'a'\nSEED = 0"),
        nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(1)"),
        nbformat.v4.new_markdown_cell(
            f"## Summary\n- a\n\n## Exercises\n1. Do it.\n<details><summary>Solution</summary>x</details>\n\n"
            f"Next: [{next_name}]({next_name})"
        ),
    ]
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    return json.loads(nbformat.writes(nb))


def test_a_conforming_notebook_has_no_problems():
    assert structure_problems(_good_notebook(), "02_next.ipynb") == []


@pytest.mark.parametrize(
    "breakage, expected",
    [
        (lambda nb: nb["cells"][0].update(source="Title without hash"), "first cell must be markdown"),
        (lambda nb: nb["cells"][0].update(source="# T\n**Prerequisites**"), "What you will learn"),
        (lambda nb: nb["cells"][1].update(source="x = 1"), "knobs"),
        (lambda nb: nb["cells"][3].update(source="## Exercises\n<details></details>"), "## Summary"),
        (lambda nb: nb["cells"][3].update(source="## Summary\n## Exercises\n1. no solution"), "<details>"),
        (lambda nb: nb["cells"][2].update(source="print(1)"), "not a checked cell"),
        (lambda nb: nb["cells"][2]["outputs"].append({"output_type": "error", "ename": "E", "evalue": "", "traceback": []}),
         "error output"),
        (lambda nb: nb["cells"][1].update(source="SEED = 0  # NBVAL_SKIP"), "without a reason"),
    ],
)
def test_each_rule_catches_its_breakage(breakage, expected):
    nb = _good_notebook()
    breakage(nb)
    problems = structure_problems(nb, "02_next.ipynb")
    assert any(expected in p for p in problems), problems


def test_missing_link_to_the_next_notebook_is_caught():
    assert any("02_other.ipynb" in p for p in structure_problems(_good_notebook(), "02_other.ipynb"))


def test_naming_and_numbering_rules(tmp_path):
    for name in ("01_a.ipynb", "03_c.ipynb", "Bad Name.ipynb"):
        (tmp_path / name).write_text("{}")
    problems = naming_problems(tmp_path)
    assert any("Bad Name.ipynb" in p for p in problems)
    assert any("without gaps" in p for p in problems)
    (tmp_path / "Bad Name.ipynb").unlink()
    (tmp_path / "02_b.ipynb").write_text("{}")
    assert naming_problems(tmp_path) == []
