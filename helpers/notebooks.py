"""The notebook collection itself: listing in reading order and the house-style structure rules."""

from __future__ import annotations

import json
import re
from pathlib import Path

from .collection import COLAB_CHECK, COLAB_SETUP, GENERATED_TAGS, NAV_BOTTOM, NAV_TOP, generated_tag, plan_sync
from .collection import _source
from .paths import NOTEBOOKS_DIR

NAME_PATTERN = re.compile(r"^(\d\d)_[a-z0-9]+(?:_[a-z0-9]+)*\.ipynb$")
KNOB_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]*\s*=", re.MULTILINE)
# The exercise convention: `1. **Title** (easy|medium|hard) ...`, each followed by a <details> solution.
EXERCISE_ITEM = re.compile(r"^ {0,3}(\d+)\.\s+\*\*(.+?)\*\*[ \t]*(?:\((easy|medium|hard)\))?", re.MULTILINE)
DETAILS_BLOCK = re.compile(r"<details>.*?</details>", re.DOTALL)
LEVELS = ("easy", "medium", "hard")
SYNC_HINT = "run `python -m helpers.collection sync`"


def list_notebooks(folder: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The tutorial notebooks in reading order (``NN_title.ipynb``)."""
    return sorted(p for p in Path(folder).glob("*.ipynb") if NAME_PATTERN.match(p.name))


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
        if cell.get("cell_type") == "code" and "google.colab" not in _source(cell):
            return cell
    return None


def _exercises_start(cells: list[dict]) -> int | None:
    """Index of the markdown cell that opens the '## Exercises' section (the last one), or None."""
    found = None
    for index, cell in enumerate(cells):
        if cell.get("cell_type") == "markdown" and re.search(r"^## Exercises\s*$", _source(cell), re.MULTILINE):
            found = index
    return found


def exercise_problems(cells: list[dict]) -> list[str]:
    """Problems with the closing exercises: 2-4 of rising difficulty, each with a <details> solution, one self-check."""
    start = _exercises_start(cells)
    if start is None:
        return []  # the missing section is reported by structure_problems
    section = [c for c in cells[start:] if generated_tag(c) is None]
    text = "\n".join(_source(c) for c in section if c.get("cell_type") == "markdown")
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
    if not any(c.get("cell_type") == "code" and re.search(r"\bcheck\(", _source(c)) for c in section):
        problems.append("no exercise can be checked by running code: after '## Exercises', add a code cell "
                        "that calls check(answer, expected) from helpers.exercises")
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
    if colab.get("cell_type") != "code" or COLAB_CHECK not in _source(colab):
        problems.append(f"the colab-setup cell must be code that acts only when {COLAB_CHECK}: {SYNC_HINT}")
    if "colab.research.google.com" not in _source(cells[tags.index(NAV_TOP)]):
        problems.append(f"the nav-top cell has no Open-in-Colab badge: {SYNC_HINT}")
    return problems


def structure_problems(notebook: dict, next_name: str | None) -> list[str]:
    """House-style problems of one notebook (shared/STYLE.md); an empty list means it conforms."""
    cells = notebook.get("cells", [])
    problems: list[str] = []
    if not cells:
        return ["the notebook has no cells"]
    opening = _source(cells[0])
    if cells[0].get("cell_type") != "markdown" or not opening.lstrip().startswith("# "):
        problems.append("the first cell must be markdown starting with '# Title'")
    for heading in ("What you will learn", "Prerequisites"):
        if heading not in opening:
            problems.append(f"the opening cell needs a '{heading}' section")
    knobs = _knobs_cell(cells)
    if knobs is None or not KNOB_PATTERN.search(_source(knobs)):
        problems.append("the first code cell must hold the knobs (UPPER_CASE constants)")
    markdown = "\n".join(_source(c) for c in cells if c.get("cell_type") == "markdown")
    for heading in ("## Summary", "## Exercises"):
        if heading not in markdown:
            problems.append(f"missing a '{heading}' section")
    if "## Summary" in markdown and "## Exercises" in markdown \
            and markdown.index("## Summary") > markdown.index("## Exercises"):
        problems.append("'## Summary' must come before '## Exercises'")
    problems += exercise_problems(cells)
    problems += generated_cell_problems(cells)
    if next_name and next_name not in markdown:
        problems.append(f"no link to the next notebook, {next_name}")
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        source = _source(cell)
        outputs = cell.get("outputs", [])
        if any(o.get("output_type") == "error" for o in outputs):
            problems.append(f"cell {index} stores an error output")
        if outputs and "NBVAL_CHECK_OUTPUT" not in source:
            problems.append(f"cell {index} stores outputs but is not a checked cell (# NBVAL_CHECK_OUTPUT)")
        skip = re.search(r"#\s*NBVAL_SKIP(.*)", source)
        if skip and len(skip.group(1).strip(" :-—#")) < 5:
            problems.append(f"cell {index} uses NBVAL_SKIP without a reason beside it")
    return problems


def collection_problems(folder: Path = NOTEBOOKS_DIR) -> dict[str, list[str]]:
    """Structure problems of every notebook, keyed by file name (naming problems under '*')."""
    notebooks = list_notebooks(folder)
    report = {"*": naming_problems(folder)}
    for i, path in enumerate(notebooks):
        following = notebooks[i + 1].name if i + 1 < len(notebooks) else None
        report[path.name] = structure_problems(json.loads(path.read_text(encoding="utf-8")), following)
    for path in plan_sync(folder):
        if not any(SYNC_HINT in problem for problem in report[path.name]):
            report[path.name].append(f"navigation / Colab cells are out of date: {SYNC_HINT}")
    return {name: found for name, found in report.items() if found}


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def strip_unchecked_outputs(notebook: dict) -> dict:
    """Keep stored outputs only in ``# NBVAL_CHECK_OUTPUT`` cells; clear timing metadata and unchecked counts.

    Checked cells are numbered 1, 2, ... in order: nbval refuses a reference cell that has outputs but no
    execution count ("Unrun reference cell has outputs"), and fixed numbers keep diffs small. The saved
    widget state (progress bars) goes too unless a kept output shows a widget: it is rewritten with new
    random ids on every run and would fill every diff.
    """
    checked = 0
    for cell in notebook.get("cells", []):
        cell.get("metadata", {}).pop("execution", None)
        if cell.get("cell_type") != "code":
            continue
        count = None
        if "NBVAL_CHECK_OUTPUT" in _source(cell):
            checked += 1
            count = checked
        else:
            cell["outputs"] = []
        cell["execution_count"] = count
        for output in cell.get("outputs", []):
            if "execution_count" in output:
                output["execution_count"] = count
    kept = [output for cell in notebook.get("cells", []) for output in cell.get("outputs", [])]
    if not any(WIDGET_VIEW in output.get("data", {}) for output in kept):
        notebook.get("metadata", {}).pop("widgets", None)
    return notebook


def notebook_client(path: Path, timeout: int = 600):
    """``(notebook, client)``: a kernel client that runs the notebook in its own folder, as nbval does."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(str(path), as_version=4)
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(Path(path).parent)}}
    )
    return notebook, client


def execute(path: Path, timeout: int = 600):
    """Run a notebook top to bottom in its own folder (as nbval does) and return the executed notebook."""
    notebook, client = notebook_client(path, timeout)
    client.execute()
    return notebook


def refresh(path: Path) -> None:
    """Re-execute a notebook offline (the test environment) and store only its checked outputs."""
    import os

    import nbformat

    from .testenv import offline_environment

    os.environ.update(offline_environment())
    notebook = execute(path)
    stripped = strip_unchecked_outputs(json.loads(nbformat.writes(notebook)))
    Path(path).write_text(json.dumps(stripped, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.notebooks refresh [NOTEBOOK ...]`` (default: all) or ``check``."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m helpers.notebooks", description=main.__doc__)
    parser.add_argument("command", choices=["refresh", "check"])
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    if args.command == "check":
        problems = collection_problems()
        for name, found in problems.items():
            for problem in found:
                print(f"{name}: {problem}")
        return 1 if problems else 0
    for path in args.notebooks or list_notebooks():
        print(f"refreshing {path} ...", flush=True)
        try:
            refresh(path)
        except Exception as err:  # nbclient's CellExecutionError names the cell and the traceback
            print(f"FAILED: {path}\n{err}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
