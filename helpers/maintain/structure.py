"""The house-style structure rules every notebook follows (shared/STYLE.md), checked by the tests.

``python -m helpers.maintain.structure`` prints every problem, one per line, and exits 1 if there is any.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..paths import NOTEBOOKS_DIR
from .generated_cells import (
    COLAB_CHECK, COLAB_SETUP, GENERATED_TAGS, NAV_BOTTOM, NAV_TOP, SYNC_COMMAND, generated_tag, plan_sync,
)
from .lessons import CHECK_OUTPUT, NBVAL_COMMENT, is_checked_cell, is_real_data_figure, lesson_problems, tags
from .notebook_files import NAME_PATTERN, cell_source, list_notebooks, read_notebook
KNOB_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]*\s*=", re.MULTILINE)
# The exercise convention: `1. **Title** (easy|medium|hard) ...`, each followed by a <details> solution.
EXERCISE_ITEM = re.compile(r"^ {0,3}(\d+)\.\s+\*\*(.+?)\*\*[ \t]*(?:\((easy|medium|hard)\))?", re.MULTILINE)
DETAILS_BLOCK = re.compile(r"<details>.*?</details>", re.DOTALL)
LEVELS = ("easy", "medium", "hard")
SYNC_HINT = f"run `{SYNC_COMMAND}`"
# The one import style of notebooks: `import helpers`, then `helpers.name(...)` (every such name is exported by
# helpers/__init__.py). These forms break it: `from helpers import x`, `from helpers.sub import x`,
# `import helpers.sub` and `helpers.sub.x`.
SUBMODULE_NAMES = tuple(sorted(p.stem for p in (Path(__file__).parents[1]).glob("*.py") if p.stem != "__init__"))
OTHER_IMPORT_STYLE = re.compile(
    r"^\s*(from\s+helpers(\.\w+)*\s+import\b|import\s+helpers\.)|\bhelpers\.(%s)\.\w" % "|".join(SUBMODULE_NAMES),
    re.MULTILINE)


def naming_problems(folder: Path = NOTEBOOKS_DIR) -> list[str]:
    """Problems with names and numbering: every notebook named NN_snake_title, numbered 01, 02, ... without gaps."""
    problems = [
        f"{p.name}: name must look like NN_snake_title.ipynb"
        for p in sorted(Path(folder).glob("*.ipynb"))
        if not NAME_PATTERN.match(p.name)
    ]
    numbers = [int(NAME_PATTERN.match(p.name).group(1)) for p in list_notebooks(folder)]
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"numbering must run 01, 02, ... without gaps or repeats; found {numbers}")
    return problems


def _knobs_cell(cells: list[dict]) -> dict | None:
    """The first code cell that is not the Colab install cell."""
    for cell in cells:
        if cell.get("cell_type") == "code" and "google.colab" not in cell_source(cell):
            return cell
    return None


def _exercises_start(cells: list[dict]) -> int | None:
    """Index of the markdown cell that opens the '## Exercises' section (the last one), or None."""
    found = None
    for index, cell in enumerate(cells):
        if cell.get("cell_type") == "markdown" and re.search(r"^## Exercises\s*$", cell_source(cell), re.MULTILINE):
            found = index
    return found


def exercise_problems(cells: list[dict]) -> list[str]:
    """Problems with the closing exercises: 2-4 of rising difficulty, each with a <details> solution, one self-check."""
    start = _exercises_start(cells)
    if start is None:
        return []  # the missing section is reported by structure_problems
    section = [c for c in cells[start:] if generated_tag(c) is None]
    text = "\n".join(cell_source(c) for c in section if c.get("cell_type") == "markdown")
    text = re.split(r"^## Exercises\s*$", text, maxsplit=1, flags=re.MULTILINE)[1]
    problems = [f"'## Exercises' must be the last section, but '{h}' follows it"
                for h in re.findall(r"^## .*$", text, re.MULTILINE)]
    blanked = DETAILS_BLOCK.sub(lambda m: " " * len(m.group()), text)  # numbered lists inside solutions don't count
    items = list(EXERCISE_ITEM.finditer(blanked))
    if not 2 <= len(items) <= 4:
        problems.append(f"'## Exercises' needs 2 to 4 exercises written '1. **Title** (easy) ...'; found {len(items)}")
    for item, following in zip(items, items[1:] + [None]):
        number, title, level = item.group(1), item.group(2), item.group(3)
        body = text[item.start(): following.start() if following else len(text)]
        if not DETAILS_BLOCK.search(body):
            problems.append(f"exercise {number} ('{title}') has no solution the learner can unfold "
                            "(<details><summary>Solution</summary> ... </details>)")
        if level is None:
            problems.append(f"exercise {number} ('{title}') needs a difficulty right after its title: "
                            "(easy), (medium) or (hard)")
    levels = [item.group(3) for item in items if item.group(3)]
    if levels != sorted(levels, key=LEVELS.index):
        problems.append(f"exercises must rise in difficulty (easy, medium, hard); found {', '.join(levels)}")
    if not any(c.get("cell_type") == "code" and re.search(r"\bcheck\(", cell_source(c)) for c in section):
        problems.append("no exercise can be checked by running code: after '## Exercises', add a code cell "
                        "that calls helpers.check(answer, expected)")
    return problems


def generated_cell_problems(cells: list[dict]) -> list[str]:
    """Problems with the generated cells: top navigation, Colab setup and bottom navigation, in place."""
    tags = [generated_tag(c) for c in cells]
    if not any(tags):
        return [f"has no generated navigation / Colab cells: {SYNC_HINT}"]
    problems = []
    for tag in GENERATED_TAGS:
        if tags.count(tag) != 1:
            problems.append(f"needs exactly one generated '{tag}' cell, found {tags.count(tag)}: {SYNC_HINT}")
    if problems:
        return problems
    if len(cells) < 4 or tags[1:3] != [NAV_TOP, COLAB_SETUP] or tags[-1] != NAV_BOTTOM:
        problems.append("generated cells out of place (opening cell, nav-top, colab-setup, ..., nav-bottom last): "
                        + SYNC_HINT)
    colab = cells[tags.index(COLAB_SETUP)]
    if colab.get("cell_type") != "code" or COLAB_CHECK not in cell_source(colab):
        problems.append(f"the colab-setup cell must be code that acts only when {COLAB_CHECK}: {SYNC_HINT}")
    if "colab.research.google.com" not in cell_source(cells[tags.index(NAV_TOP)]):
        problems.append(f"the nav-top cell has no Open-in-Colab badge: {SYNC_HINT}")
    return problems


def next_link_problems(cells: list[dict], next_name: str | None) -> list[str]:
    """One generated link to the next notebook, at the end (nav-bottom); none at the top."""
    if next_name is None:
        return []
    links = {generated_tag(c): cell_source(c).count(f"]({next_name})") for c in cells if generated_tag(c)}
    if links.get(NAV_BOTTOM, 0) != 1 or links.get(NAV_TOP, 0) != 0:
        return [f"needs exactly one generated link to the next notebook, {next_name}, in the nav-bottom cell "
                f"(found {links.get(NAV_TOP, 0)} at the top, {links.get(NAV_BOTTOM, 0)} at the bottom): {SYNC_HINT}"]
    return []


def import_style_problems(cells: list[dict]) -> list[str]:
    """Code cells that import from helpers otherwise than `import helpers` + `helpers.name`."""
    problems = []
    for index, cell in enumerate(cells):
        if cell.get("cell_type") == "code" and generated_tag(cell) is None:
            found = OTHER_IMPORT_STYLE.search(cell_source(cell))
            if found:
                problems.append(f"cell {index} uses {found.group(0).strip()!r}: notebooks write `import helpers` "
                                "and call `helpers.name(...)` (export the name in helpers/__init__.py)")
    return problems


def structure_problems(notebook: dict, next_name: str | None) -> list[str]:
    """House-style problems of one notebook (shared/STYLE.md); an empty list means it conforms."""
    cells = notebook.get("cells", [])
    problems: list[str] = []
    if not cells:
        return ["the notebook has no cells"]
    opening = cell_source(cells[0])
    if cells[0].get("cell_type") != "markdown" or not opening.lstrip().startswith("# "):
        problems.append("the first cell must be markdown starting with '# Title'")
    for heading in ("What you will learn", "Prerequisites"):
        if heading not in opening:
            problems.append(f"the opening cell needs a '{heading}' section")
    knobs = _knobs_cell(cells)
    if knobs is None or not KNOB_PATTERN.search(cell_source(knobs)):
        problems.append("the first code cell must hold the knobs (UPPER_CASE constants)")
    markdown = "\n".join(cell_source(c) for c in cells if c.get("cell_type") == "markdown")
    for heading in ("## Summary", "## Exercises"):
        if heading not in markdown:
            problems.append(f"missing a '{heading}' section")
    if "## Summary" in markdown and "## Exercises" in markdown \
            and markdown.index("## Summary") > markdown.index("## Exercises"):
        problems.append("'## Summary' must come before '## Exercises'")
    problems += exercise_problems(cells)
    problems += generated_cell_problems(cells)
    problems += next_link_problems(cells, next_name)
    problems += import_style_problems(cells)
    problems += lesson_problems(notebook)
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        source = cell_source(cell)
        outputs = cell.get("outputs", [])
        if any(o.get("output_type") == "error" for o in outputs):
            problems.append(f"cell {index} stores an error output")
        if outputs and not is_checked_cell(cell) and not is_real_data_figure(cell):
            problems.append(f"cell {index} stores outputs but is not a checked cell (tag '{CHECK_OUTPUT}') "
                            "nor a real-data figure")
        marker = NBVAL_COMMENT.search(source)
        if marker:
            problems.append(f"cell {index} has a '{marker.group().strip()}' comment: use the cell tag "
                            f"('{CHECK_OUTPUT}', 'nbval-skip', ...) so the learner's code stays clean")
        if "nbval-skip" in tags(cell) and not re.search(r"#.{5,}", source):
            problems.append(f"cell {index} is tagged 'nbval-skip' without a reason beside it (a comment)")
    return problems


def collection_problems(folder: Path = NOTEBOOKS_DIR) -> dict[str, list[str]]:
    """Structure problems of every notebook, keyed by file name (naming problems under '*')."""
    notebooks = list_notebooks(folder)
    report = {"*": naming_problems(folder)}
    for i, path in enumerate(notebooks):
        following = notebooks[i + 1].name if i + 1 < len(notebooks) else None
        report[path.name] = structure_problems(read_notebook(path), following)
    for path in plan_sync(folder):
        if not any(SYNC_HINT in problem for problem in report[path.name]):
            report[path.name].append(f"navigation / Colab cells are out of date: {SYNC_HINT}")
    return {name: found for name, found in report.items() if found}


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.maintain.structure [--folder DIR]``: print every structure problem; exit 1 if any."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m helpers.maintain.structure", description=main.__doc__)
    parser.add_argument("--folder", type=Path, default=NOTEBOOKS_DIR, help="notebooks folder (default: notebooks/)")
    args = parser.parse_args(argv)
    problems = collection_problems(args.folder)
    for name, found in problems.items():
        for problem in found:
            print(f"{name}: {problem}")
    if not problems:
        print("every notebook follows the structure rules")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
