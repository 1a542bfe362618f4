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


def strip_unchecked_outputs(notebook: dict) -> dict:
    """Keep stored outputs only in ``# NBVAL_CHECK_OUTPUT`` cells; clear counts and timing metadata."""
    for cell in notebook.get("cells", []):
        cell.get("metadata", {}).pop("execution", None)
        if cell.get("cell_type") != "code":
            continue
        cell["execution_count"] = None
        if "NBVAL_CHECK_OUTPUT" not in _source(cell):
            cell["outputs"] = []
        for output in cell.get("outputs", []):
            if "execution_count" in output:
                output["execution_count"] = None
    return notebook


def execute(path: Path, timeout: int = 600):
    """Run a notebook top to bottom in its own folder (as nbval does) and return the executed notebook."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(str(path), as_version=4)
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(Path(path).parent)}}
    )
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
