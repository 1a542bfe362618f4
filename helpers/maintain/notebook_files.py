"""The notebook files themselves: listing them in reading order, reading and writing their JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..paths import NOTEBOOKS_DIR

NAME_PATTERN = re.compile(r"^(\d\d)_[a-z0-9]+(?:_[a-z0-9]+)*\.ipynb$")


def list_notebooks(folder: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The tutorial notebooks in reading order (``NN_title.ipynb``)."""
    return sorted(p for p in Path(folder).glob("*.ipynb") if NAME_PATTERN.match(p.name))


def cell_source(cell: dict) -> str:
    """A cell's source as one string (notebook files store it as a list of lines or as one string)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def read_notebook(path: Path) -> dict:
    """A notebook file as a dict; a clear error when it is not notebook JSON."""
    try:
        notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid notebook JSON ({err}); fix or restore it first.") from err
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise ValueError(f"{path} has no list of cells; is it a Jupyter notebook?")
    return notebook


def write_notebook(path: Path, notebook: dict) -> None:
    """Write a notebook the one way this project does (one-space indent, UTF-8, final newline)."""
    Path(path).write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
