"""The lesson rules (shared/STYLE.md, "The lesson first"): what a notebook may say and which figures it may store.

- **No project talk.** A lesson speaks to the learner about depth estimation and their machine: never about this
  project's machine, tests, reviews, speed targets or dates of measurement (``PROJECT_TALK``, English and Chinese).
- **Stored figures are real data.** A stored picture is allowed only in a cell tagged ``real-data-figure``, and such
  a cell may not read anything computed from a model (``model_derived_names``: every name bound, directly or
  through other names, from a pipeline, a model, a checkpoint or a prediction), so a stand-in's picture is never
  stored. ``helpers.maintain.refresh`` keeps these cells' pictures.
- **Test machinery out of sight.** Checked cells carry the cell tag ``nbval-check-output`` (cell metadata), never a
  ``# NBVAL_…`` comment in the code a learner reads.
- **Short.** ``markdown_words`` counts the prose a learner reads (generated cells aside).
"""

from __future__ import annotations

import ast
import re

from .generated_cells import generated_tag
from .notebook_files import cell_source

REAL_DATA_FIGURE = "real-data-figure"
CHECK_OUTPUT = "nbval-check-output"  # the cell tag nbval reads: this cell's stored output is compared on every run
NBVAL_COMMENT = re.compile(r"^[ \t]*#[ \t]*NBVAL_\w+", re.MULTILINE)  # the comment form of nbval's markers
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")

# Phrases that talk about this project instead of the lesson (markdown and code alike: a printed "NOT met" counts).
PROJECT_TALK = re.compile(
    r"this project'?s? (machine|test|review|target|budget|computer)|test machine|\bthe tests\b|under (the )?tests\b|"
    r"tests' |test suite|\bnbval\b|(?-i:\bCI\b)|a review (of|found|measured)|\breviewer|not recomputed|measured once|"
    r"speed targets?|\btargets? (met|not met)|(?-i:\bNOT met\b)|cannot reach the Hub|could not reach|"
    r"\b\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* 20\d\d\b|"
    r"\b(January|February|March|April|May|June|July|August|September|October|November|December) 20\d\d\b|"
    r"本项目的(机器|测试|评审|目标)|测试机|测试中|在测试里|测试套件|评审|审查发现|速度目标|未达(到|成)目标|"
    r"20\d\d ?年 ?\d{1,2} ?月",
    re.IGNORECASE,
)

# Calls whose result comes from a model (or is the model itself): the sources of model_derived_names.
MODEL_SOURCES = re.compile(
    r"^(pipeline|load_depth_model|resolve_checkpoint|from_pretrained|predict_\w+|depth_batch|export_onnx|"
    r"quantize\w*|onnx_session|openvino_model|infer_\w+)$"
)


def _called_name(node: ast.Call) -> str:
    """The last name of what a call calls: ``helpers.predict_depth(...)`` -> 'predict_depth'."""
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _read_names(node: ast.AST) -> set[str]:
    """Every plain name an expression or statement reads."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _calls_a_model(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) and MODEL_SOURCES.match(_called_name(n)) for n in ast.walk(node))


def _bound_names(statement: ast.stmt) -> set[str]:
    """Names a statement binds: assignment targets, loop and ``with`` targets, defined functions and classes."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}
    return {n.id for n in ast.walk(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _parse(source: str) -> ast.Module | None:
    """A cell's code as a syntax tree (IPython magics and shell lines blanked), None if it does not parse."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def model_derived_names(sources: list[str]) -> set[str]:
    """Names bound, in cell order, from a model call or from other model-derived names (a simple taint analysis).

    A statement taints every name it binds when it calls a model source (``MODEL_SOURCES``) or reads a tainted
    name; a function or class is tainted when its body does. Mutating a real-data variable in place through a
    tainted value (``x[...] = pred``) taints ``x`` too, since ``x`` is stored there.
    """
    tainted: set[str] = set()
    for source in sources:
        tree = _parse(source)
        if tree is None:
            continue
        for statement in tree.body:
            if _calls_a_model(statement) or _read_names(statement) & tainted:
                tainted |= _bound_names(statement)
                for node in ast.walk(statement):  # in-place writes: x[...] = ..., x.attr = ...
                    if isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, ast.Store):
                        tainted |= _read_names(node.value)
    return tainted


def tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def is_real_data_figure(cell: dict) -> bool:
    return REAL_DATA_FIGURE in tags(cell)


def is_checked_cell(cell: dict) -> bool:
    """A code cell tagged ``nbval-check-output``: its stored output is kept and compared by nbval."""
    return cell.get("cell_type") == "code" and CHECK_OUTPUT in tags(cell)


def has_image(cell: dict) -> bool:
    return any(key in output.get("data", {}) for output in cell.get("outputs", []) for key in IMAGE_TYPES)


def figure_problems(cells: list[dict]) -> list[str]:
    """Stored pictures outside ``real-data-figure`` cells, and such cells that read a model's output."""
    problems = []
    code_before: list[str] = []
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        source = cell_source(cell)
        if is_real_data_figure(cell):
            tree = _parse(source) or ast.Module(body=[], type_ignores=[])
            derived = sorted(_read_names(tree) & model_derived_names(code_before))
            calls = _calls_a_model(tree)
            if derived or calls:
                what = f"reads {', '.join(derived)}" if derived else "calls a model"
                problems.append(f"cell {index} is tagged '{REAL_DATA_FIGURE}' but {what}, computed by a model: "
                                "a stand-in's picture must never be stored (remove the tag)")
        elif has_image(cell):
            problems.append(f"cell {index} stores a picture but is not tagged '{REAL_DATA_FIGURE}': only figures "
                            "drawn from real data are stored (tag the cell, or clear its outputs)")
        code_before.append(source)
    return problems


def talk_problems(cells: list[dict]) -> list[str]:
    """Cells that talk about this project (its machine, tests, reviews, targets, dates) instead of the lesson."""
    problems = []
    for index, cell in enumerate(cells):
        if generated_tag(cell) is not None:
            continue
        found = PROJECT_TALK.search(cell_source(cell))
        if found:
            problems.append(f"cell {index} talks about the project, not the lesson: {found.group(0)!r} "
                            "(say it to the learner, or move it to CONTRIBUTING.md / a benchmark command)")
    return problems


def markdown_words(notebook: dict) -> int:
    """Words of prose a learner reads: authored markdown cells (generated navigation aside)."""
    return sum(len(cell_source(c).split()) for c in notebook.get("cells", [])
               if c.get("cell_type") == "markdown" and generated_tag(c) is None)


def lesson_problems(notebook: dict) -> list[str]:
    """Every lesson-rule problem of one notebook (either language)."""
    cells = notebook.get("cells", [])
    return talk_problems(cells) + figure_problems(cells)
