"""Every notebook follows the house style (shared/STYLE.md); the rules themselves are tested too."""

import json

import nbformat
import pytest

from helpers.maintain import generated_cells as generated
from helpers.maintain.generated_cells import COLAB_SETUP, NAV_BOTTOM, NAV_TOP
from helpers.maintain.notebook_files import write_notebook
from helpers.maintain.structure import collection_problems, naming_problems, structure_problems


def test_the_collection_follows_the_house_style():
    assert collection_problems() == {}


EXERCISES = """## Exercises

1. **First** (easy) Do it.

<details><summary>Solution</summary>

1. **Not an exercise** (hard): a numbered step inside a solution does not count.
</details>

2. **Second** (medium) Do more.

<details><summary>Solution</summary>y</details>
"""


def _good_notebook(next_name="02_next.ipynb"):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title\n\nWhy.\n\n**What you will learn**\n- x\n\n**Prerequisites**\n- y"),
        nbformat.v4.new_code_cell("CHECKPOINT = 'a'\nSEED = 0\n\nimport helpers"),
        nbformat.v4.new_code_cell("print(1)", metadata={"tags": ["nbval-check-output"]}),
        nbformat.v4.new_markdown_cell(f"## Summary\n- a\n\n{EXERCISES}"),
        nbformat.v4.new_code_cell("answer = None\nhelpers.check(answer, 2, name='Exercise 1')"),
        nbformat.v4.new_markdown_cell(f"Next: [{next_name}]({next_name})"),
    ]
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    cells = generated.generated_cells("01_this.ipynb", None, (next_name, "Next"), "https://github.com/o/r")
    nb = json.loads(nbformat.writes(nb))
    nb["cells"][1:1] = [cells[NAV_TOP], cells[COLAB_SETUP]]
    nb["cells"].append(cells[NAV_BOTTOM])
    return nb


def _replace_exercises(nb, text):
    nb["cells"][5]["source"] = "## Summary\n- a\n\n" + text


def test_a_conforming_notebook_has_no_problems():
    assert structure_problems(_good_notebook(), "02_next.ipynb") == []


def _move_nav_top_down(nb):
    nb["cells"].insert(4, nb["cells"].pop(1))


def _drop_generated(nb):
    nb["cells"] = [c for c in nb["cells"] if generated.generated_tag(c) is None]


@pytest.mark.parametrize(
    "breakage, expected",
    [
        (lambda nb: nb["cells"][0].update(source="Title without hash"), "first cell must be markdown"),
        (lambda nb: nb["cells"][0].update(source="# T\n**Prerequisites**"), "What you will learn"),
        (lambda nb: nb["cells"][3].update(source="x = 1"), "knobs"),
        (lambda nb: nb["cells"][5].update(source=EXERCISES), "missing a '## Summary' section"),
        (lambda nb: nb["cells"][5].update(source=EXERCISES + "\n## Summary\n- a"), "'## Summary' must come before"),
        (lambda nb: _replace_exercises(nb, "## Exercises\n1. **Only** (easy) x\n<details>s</details>"),
         "needs 2 to 4 exercises written '1. **Title** (easy) ...'; found 1"),
        (lambda nb: _replace_exercises(nb, EXERCISES + "".join(
            f"{n}. **More** (hard) x\n<details>s</details>\n" for n in (3, 4, 5))), "found 5"),
        (lambda nb: _replace_exercises(nb, EXERCISES.replace("<details><summary>Solution</summary>y</details>", "")),
         "exercise 2 ('Second') has no solution the learner can unfold"),
        (lambda nb: _replace_exercises(nb, EXERCISES.replace(" (medium)", "")),
         "exercise 2 ('Second') needs a difficulty"),
        (lambda nb: _replace_exercises(nb, EXERCISES.replace("(easy)", "(hard)")),
         "exercises must rise in difficulty (easy, medium, hard); found hard, medium"),
        (lambda nb: _replace_exercises(nb, EXERCISES + "\n## Further reading\n- z"),
         "'## Exercises' must be the last section, but '## Further reading' follows it"),
        (lambda nb: nb["cells"][6].update(source="answer = None"), "no exercise can be checked by running code"),
        (lambda nb: [nb["cells"][4].update(source="check(1, 1)"),  # before the section
                     nb["cells"][6].update(source="answer = None")], "no exercise can be checked"),
        (lambda nb: nb["cells"][4]["metadata"].pop("tags"), "not a checked cell (tag 'nbval-check-output')"),
        (lambda nb: nb["cells"][4].update(source="# NBVAL_CHECK_OUTPUT\nprint(1)"),
         "cell 4 has a '# NBVAL_CHECK_OUTPUT' comment: use the cell tag"),
        (lambda nb: nb["cells"][4]["outputs"].append({"output_type": "error", "ename": "E", "evalue": "", "traceback": []}),
         "error output"),
        (lambda nb: nb["cells"][3]["metadata"].update(tags=["nbval-skip"]), "without a reason"),
        (_drop_generated, "has no generated navigation / Colab cells: run `python -m helpers.maintain.generated_cells sync`"),
        (lambda nb: nb["cells"].pop(), "needs exactly one generated 'nav-bottom' cell, found 0"),
        (lambda nb: nb["cells"].append(nb["cells"][1]), "needs exactly one generated 'nav-top' cell, found 2"),
        (_move_nav_top_down, "generated cells out of place"),
        (lambda nb: nb["cells"][2].update(source="import os"), "colab-setup cell must be code that acts only when"),
        (lambda nb: nb["cells"][1].update(source="[Contents](x)"), "no Open-in-Colab badge"),
        (lambda nb: nb["cells"][1].update(source="".join(nb["cells"][1]["source"]) + "\n[Next](02_next.ipynb)"),
         "exactly one generated link to the next notebook, 02_next.ipynb, in the nav-bottom cell (found 1 at the top"),
        (lambda nb: nb["cells"][-1].update(source="---"), "(found 0 at the top, 0 at the bottom)"),
        (lambda nb: nb["cells"][4].update(source="from helpers import load_image\nload_image('bee')"),
         "cell 4 uses 'from helpers import': notebooks write `import helpers`"),
        (lambda nb: nb["cells"][4].update(source="from helpers.metrics import epe"), "uses 'from helpers.metrics import'"),
        (lambda nb: nb["cells"][4].update(source="import helpers.viz"), "uses 'import helpers.'"),
        (lambda nb: nb["cells"][4].update(source="x = helpers.depthmath.as_array(1)"), "uses 'helpers.depthmath.a'"),
    ],
)
def test_each_rule_catches_its_breakage(breakage, expected):
    nb = _good_notebook()
    breakage(nb)
    problems = structure_problems(nb, "02_next.ipynb")
    assert any(expected in p for p in problems), problems


def test_missing_link_to_the_next_notebook_is_caught():
    assert any("02_other.ipynb" in p for p in structure_problems(_good_notebook(), "02_other.ipynb"))


def test_the_one_import_style_allows_attributes_of_exported_classes():
    nb = _good_notebook()
    nb["cells"][4]["source"] = "import helpers\nK = helpers.Intrinsics.from_fov(4, 3, 60.0)  # helpers.batch, a comment"
    assert structure_problems(nb, "02_next.ipynb") == []


def test_naming_and_numbering_rules(tmp_path):
    for name in ("01_a.ipynb", "03_c.ipynb", "Bad Name.ipynb"):
        (tmp_path / name).write_text("{}")
    problems = naming_problems(tmp_path)
    assert any("Bad Name.ipynb" in p for p in problems)
    assert any("without gaps" in p for p in problems)
    (tmp_path / "Bad Name.ipynb").unlink()
    (tmp_path / "02_b.ipynb").write_text("{}")
    assert naming_problems(tmp_path) == []


def test_a_synced_collection_conforms_and_a_stale_one_is_named(tmp_path):
    for name, following in (("01_a.ipynb", "02_b.ipynb"), ("02_b.ipynb", "01_a.ipynb")):
        write_notebook(tmp_path / name, _good_notebook(following))
    assert generated.main(["sync", "--folder", str(tmp_path)]) == 0
    assert collection_problems(tmp_path) == {}
    renamed = json.loads((tmp_path / "02_b.ipynb").read_text())
    renamed["cells"][0]["source"] = "# A new title\n\n**What you will learn**\n- x\n\n**Prerequisites**\n- y"
    write_notebook(tmp_path / "02_b.ipynb", renamed)
    assert collection_problems(tmp_path) == {
        "01_a.ipynb": ["navigation / Colab cells are out of date: run `python -m helpers.maintain.generated_cells sync`"]
    }
