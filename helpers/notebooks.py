"""The notebook collection itself: listing in reading order and the house-style structure rules."""

from __future__ import annotations

import json
import re
from pathlib import Path

from .paths import NOTEBOOKS_DIR

NAME_PATTERN = re.compile(r"^(\d\d)_[a-z0-9]+(?:_[a-z0-9]+)*\.ipynb$")
KNOB_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]*\s*=", re.MULTILINE)


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


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _knobs_cell(cells: list[dict]) -> dict | None:
    """The first code cell that is not the Colab install cell."""
    for cell in cells:
        if cell.get("cell_type") == "code" and "google.colab" not in _source(cell):
            return cell
    return None


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
    if "## Exercises" in markdown and "<details>" not in markdown.split("## Exercises", 1)[1]:
        problems.append("exercises need solutions the learner can unfold (<details>)")
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
    return {name: found for name, found in report.items() if found}
