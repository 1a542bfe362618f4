"""Refreshing a notebook's checked outputs: run it offline as the tests do, keep only the checked cells' outputs.

``python -m helpers.maintain.refresh [NOTEBOOK ...]`` (default: every notebook) after changing a notebook.
"""

from __future__ import annotations

import json
from pathlib import Path

from .lessons import CHECK_OUTPUT, IMAGE_TYPES, is_checked_cell, is_real_data_figure
from .notebook_files import cell_source, list_notebooks, write_notebook

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"  # Jupyter's own: a figure becomes a stored PNG


def compact_png(encoded: str) -> str:
    """A stored PNG (base64) re-encoded with a 256-colour palette: about a quarter of the bytes, looks the same."""
    import base64
    import io

    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(encoded))) as image:
        rgb = image.convert("RGBA")
        flat = Image.new("RGB", rgb.size, "white")
        flat.paste(rgb, mask=rgb.getchannel("A"))
    out = io.BytesIO()
    flat.quantize(colors=256).save(out, format="PNG", optimize=True)
    return base64.b64encode(out.getvalue()).decode("ascii")


def _pictures(outputs: list[dict]) -> list[dict]:
    """Only the pictures of a cell's outputs, each with its picture data alone (no text repr), PNGs compacted."""
    kept = []
    for output in outputs:
        data = {key: value for key, value in output.get("data", {}).items() if key in IMAGE_TYPES}
        if "image/png" in data:
            data["image/png"] = compact_png("".join(data["image/png"]) if isinstance(data["image/png"], list)
                                            else data["image/png"])
        if data:
            kept.append({"output_type": "display_data", "data": data, "metadata": output.get("metadata", {})})
    return kept


def tag_checked_cells(notebook: dict) -> dict:
    """Move each ``# NBVAL_CHECK_OUTPUT`` comment line out of the code into the cell tag ``nbval-check-output``."""
    for cell in notebook.get("cells", []):
        lines = cell_source(cell).splitlines(keepends=True)
        kept = [line for line in lines if line.strip() != "# NBVAL_CHECK_OUTPUT"]
        if cell.get("cell_type") == "code" and len(kept) < len(lines):
            cell["source"] = kept
            tags = cell.setdefault("metadata", {}).setdefault("tags", [])
            if CHECK_OUTPUT not in tags:
                tags.append(CHECK_OUTPUT)
    return notebook


def strip_unchecked_outputs(notebook: dict) -> dict:
    """Keep stored outputs only in cells tagged ``nbval-check-output``, and the pictures of ``real-data-figure`` cells.

    A ``# NBVAL_CHECK_OUTPUT`` comment line is moved into that tag first (``tag_checked_cells``).
    Timing metadata and unchecked execution counts are cleared.

    Checked cells are numbered 1, 2, ... in order: nbval refuses a reference cell that has outputs but no
    execution count ("Unrun reference cell has outputs"), and fixed numbers keep diffs small. The saved
    widget state (progress bars) goes too unless a kept output shows a widget: it is rewritten with new
    random ids on every run and would fill every diff.
    """
    checked = 0
    for cell in tag_checked_cells(notebook).get("cells", []):
        cell.get("metadata", {}).pop("execution", None)
        if cell.get("cell_type") != "code":
            continue
        count = None
        if is_checked_cell(cell):
            checked += 1
            count = checked
        elif is_real_data_figure(cell) and _pictures(cell.get("outputs", [])):
            cell["outputs"] = _pictures(cell["outputs"])
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

    saved = dict(os.environ)
    with offline_environment() as env:
        os.environ.update(env)  # the kernel inherits it
        os.environ["MPLBACKEND"] = INLINE_BACKEND  # pictures, as in Jupyter: the tests' Agg would draw none
        try:
            notebook = execute(path)
        finally:
            os.environ.clear()
            os.environ.update(saved)
    write_notebook(path, strip_unchecked_outputs(json.loads(nbformat.writes(notebook))))


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.maintain.refresh [NOTEBOOK ...]`` (default: every notebook)."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m helpers.maintain.refresh",
        description="Re-run notebooks offline (as the tests do) and keep only the outputs of checked cells.")
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to refresh (default: all)")
    args = parser.parse_args(argv)
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
