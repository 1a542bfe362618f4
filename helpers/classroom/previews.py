"""Executed previews: run every notebook headless and write an HTML copy of each, outputs included.

``python -m helpers.classroom.previews [--out build/previews] [--timeout 600] [--keep-going] [NOTEBOOK ...]`` prints one
line per notebook (name, seconds, ok / FAILED) and exits 1 naming the first failing notebook and cell.
``--lang zh`` renders the Chinese edition (``notebooks/zh``) into ``build/previews/zh``.
It runs in your environment as it is: online or offline, real checkpoints or stand-ins.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..paths import NOTEBOOKS_DIR, PROJECT_ROOT

DEFAULT_OUT = PROJECT_ROOT / "build" / "previews"


@dataclass(frozen=True)
class Outcome:
    """How one notebook ran: its HTML preview, its time, and where it failed (if it did)."""

    notebook: Path
    html: Path
    seconds: float
    failed_cell: int | None = None  # index in the notebook's cells, as the structure rules count them
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when every cell ran."""
        return self.error is None


def _error_line(exc: BaseException, cell: dict | None) -> str:
    """``ValueError: boom`` from the cell's error output, else the exception's last line."""
    for output in (cell or {}).get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename')}: {output.get('evalue')}"
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def run_notebook(path: Path, timeout: int = 600) -> tuple[Any, int | None, str | None]:
    """Execute a notebook in its own folder; return it with the index of the failing cell and the error (or Nones)."""
    from ..maintain.refresh import notebook_client

    notebook, client = notebook_client(path, timeout)
    started: list[int] = []
    client.on_cell_start = lambda cell, cell_index: started.append(cell_index)
    try:
        client.execute()
    except Exception as exc:  # CellExecutionError, CellTimeoutError, a dead kernel, ...
        index = started[-1] if started else None
        return notebook, index, _error_line(exc, notebook.cells[index] if index is not None else None)
    return notebook, None, None


def write_html(notebook: Any, target: Path) -> Path:
    """Export an executed notebook to a self-contained HTML file (pictures embedded)."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(embed_images=True).from_notebook_node(notebook)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(body, encoding="utf-8")
    return target


def preview(path: Path, out: Path, timeout: int = 600) -> Outcome:
    """Run one notebook and write ``out/NN_name.html``, even when a cell fails (the error shows in the page)."""
    start = time.perf_counter()
    notebook, failed_cell, error = run_notebook(path, timeout)
    seconds = time.perf_counter() - start
    html = write_html(notebook, Path(out) / f"{Path(path).stem}.html")
    return Outcome(Path(path), html, seconds, failed_cell, error)


def progress_line(position: int, total: int, outcome: Outcome) -> str:
    """``[2/7] 02_depth_pipeline.ipynb   41.3 s  ok`` (or FAILED)."""
    state = "ok" if outcome.ok else "FAILED"
    return f"[{position}/{total}] {outcome.notebook.name:<36} {outcome.seconds:7.1f} s  {state}"


def failure_message(outcome: Outcome) -> str:
    """Which notebook, which cell, what error, and where the page showing it is."""
    where = f"cell {outcome.failed_cell}" if outcome.failed_cell is not None else "before the first cell"
    return (f"{outcome.notebook.name} failed at {where} (counting from 0, markdown included): {outcome.error}\n"
            f"The page up to the failure is in {outcome.html}")


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.classroom.previews [--out DIR] [--timeout S] [--keep-going] [NOTEBOOK ...]``."""
    import argparse

    from ..maintain.notebook_files import list_notebooks

    parser = argparse.ArgumentParser(
        prog="python -m helpers.classroom.previews",
        description="Run notebooks headless and write executed HTML copies (NN_name.html) to a folder.",
    )
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: all, in order)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell (default: 600)")
    parser.add_argument("--keep-going", action="store_true", help="run the remaining notebooks after a failure")
    parser.add_argument("--lang", choices=["en", "zh"], default="en",
                        help="zh: the Chinese edition (notebooks/zh, pages in build/previews/zh by default)")
    args = parser.parse_args(argv)
    if args.lang == "zh" and args.out == DEFAULT_OUT:
        args.out = DEFAULT_OUT / "zh"
    paths = args.notebooks or list_notebooks(NOTEBOOKS_DIR / "zh" if args.lang == "zh" else NOTEBOOKS_DIR)
    missing = [str(p) for p in paths if not Path(p).is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    if not paths:
        parser.error("no notebooks found in notebooks/")
    print(f"writing executed previews to {args.out}", flush=True)
    first_failure = None
    for position, path in enumerate(paths, start=1):
        outcome = preview(Path(path), args.out, args.timeout)
        print(progress_line(position, len(paths), outcome), flush=True)
        if not outcome.ok:
            first_failure = first_failure or outcome
            if not args.keep_going:
                break
    if first_failure:
        print(failure_message(first_failure))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
