"""The Chinese edition: ``notebooks/zh/NN_name.ipynb`` generated from ``notebooks/NN_name.ipynb`` plus translations.

The English notebooks are the source. A Chinese notebook is never edited by hand: ``sync`` writes it from

- the English notebook: every cell in the same order with the same id; code cells keep the English code
  (only comments are translated) and the English stored outputs;
- ``notebooks/zh/translations/NN_name.json``: the translated markdown, keyed by English cell id, each entry
  recording the English text it translates (``en`` and its hash ``en_sha``), and one map of code comments
  (English comment text -> Chinese) for the whole notebook.

A markdown cell whose translation is missing or stale (the English text changed since it was translated)
is written as the English text under a visible ``待翻译 (translation pending)`` banner, never silently as
English, and ``sync --check`` fails naming the notebook, the cell id and the first line of the English.

Commands (``python -m helpers.maintain.translations ...``)::

    prepare notebooks/01_x.ipynb   create / extend the translation file: empty entries to fill in
    sync [--check]                 write the Chinese notebooks (--check: change nothing, exit 1 if anything is
                                   missing, stale, untranslated, not in the house style or not written yet)
    accept notebooks/01_x.ipynb CELL_ID ...   after updating stale translations: record the new English text
    status                         coverage per notebook

Generated cells are localised, mirroring ``generated_cells``: the top cell has the Colab badge opening
``notebooks/zh/...``, 上一篇 and 目录 (an absolute link to README.zh.md's table on GitHub, built from the
repository URL as the English Contents link is); the bottom cell has one 下一篇 link (back to 目录 after the last
notebook); the Colab set-up cell is the English one with its ``#@title`` and comment in Chinese
(``GENERATED_COMMENTS``: a generated comment missing there fails ``sync --check``). The structure rules (shared/STYLE.md) apply with the Chinese headings
(学习目标, 前置知识, 总结, 练习, 解答; exercise levels 简单 / 中等 / 困难): ``structure_problems``.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import io
import json
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

from ..paths import NOTEBOOKS_DIR
from .generated_cells import (BADGE, BRANCH, COLAB_SETUP, GENERATED_NOTE, NAV_BOTTOM, NAV_TOP, SYNC_COMMAND,
                              colab_url, generated_tag, link_text, notebook_title, repository_url)
from .notebook_files import list_notebooks, read_notebook, write_notebook
from .structure import structure_problems as english_structure_problems

LANG = "zh"
COMMAND = "python -m helpers.maintain.translations"
CONTENTS_ANCHOR = "README.zh.md#笔记本"  # the table of notebooks in README.zh.md (its heading: ## 笔记本)
BANNER_TITLE = "待翻译 (translation pending)"
BANNER_REASONS = {"missing": "尚无中文译文", "stale": "英文原文已修改，中文译文待更新"}
ZH_NOTE = f"由 `{COMMAND} sync` 从英文版生成：请修改脚本或译文文件，不要直接编辑此单元格"
# Comments of the generated Colab set-up cell (generated_cells.COLAB_SETUP_TEMPLATE), translated once here. When
# that template's comments change, `sync --check` names the one without a translation here.
GENERATED_COMMENTS = {
    '@title Colab set-up: gets this project and installs what the notebooks need (elsewhere it does nothing) '
    '{ display-mode: "form" }':
        '@title Colab 设置：获取本项目并安装笔记本所需的软件包（在其他环境中什么也不做） { display-mode: "form" }',
    GENERATED_NOTE: ZH_NOTE,
}
# The house-style headings and exercise levels, English -> Chinese (shared/STYLE.md, "Two languages").
HEADINGS = {"What you will learn": "学习目标", "Prerequisites": "前置知识", "Summary": "总结",
            "Exercises": "练习", "Solution": "解答"}
LEVELS = {"easy": "简单", "medium": "中等", "hard": "困难"}
MARKERS = ("NBVAL_", "noqa", "type:", "pragma")  # machine-read comments: never translated


def zh_folder(english_folder: Path = NOTEBOOKS_DIR) -> Path:
    """Where the Chinese notebooks live: ``notebooks/zh``."""
    return Path(english_folder) / LANG


def translations_folder(english_folder: Path = NOTEBOOKS_DIR) -> Path:
    """Where the translation files live: ``notebooks/zh/translations``."""
    return zh_folder(english_folder) / "translations"


def translation_path(english: Path) -> Path:
    """The translation file of an English notebook: ``notebooks/zh/translations/NN_name.json``."""
    english = Path(english)
    return translations_folder(english.parent) / f"{english.stem}.json"


def text_of(cell: dict) -> str:
    """A cell's source as one string (notebooks store it as a list of lines or a string)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def lines_of(text: str) -> list[str]:
    """Text as a notebook stores it: a list of lines, each keeping its newline."""
    return text.splitlines(keepends=True)


def en_sha(text: str) -> str:
    """The version stamp of an English markdown text: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def first_line(text: str, width: int = 80) -> str:
    """The first non-blank line of a text, shortened to ``width`` characters, for messages."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return line if len(line) <= width else line[: width - 1] + "…"


# --- code comments -----------------------------------------------------------------------------------------

def comment_spans(source: str) -> list[tuple[int, int, str]]:
    """``(line index, column, text)`` of every ``#`` comment in Python source (``#`` inside strings is not one)."""
    try:
        return [(tok.start[0] - 1, tok.start[1], tok.string)
                for tok in tokenize.generate_tokens(io.StringIO(source).readline) if tok.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError):  # IPython magics or a syntax error: whole-line comments only
        return [(i, len(line) - len(line.lstrip()), line.strip())
                for i, line in enumerate(source.split("\n")) if line.lstrip().startswith("#")]


def comment_body(comment: str) -> tuple[str, str]:
    """``("# ", "the text")``: a comment's marker and its text, the text being what the translation map keys."""
    prefix = re.match(r"#+[ \t]*", comment).group()
    return prefix, comment[len(prefix):].rstrip()


def translatable(body: str) -> bool:
    """False for empty comments and machine-read markers (``# NBVAL_CHECK_OUTPUT``, ``# noqa``)."""
    return bool(body) and not any(marker in body for marker in MARKERS)


def translate_comments(source: str, comments: dict[str, str | None]) -> tuple[str, list[str]]:
    """The source with each comment replaced by its translation; also the comment texts that have none."""
    lines = source.split("\n")
    missing = []
    for index, column, comment in reversed(comment_spans(source)):
        prefix, body = comment_body(comment)
        if not translatable(body):
            continue
        translated = comments.get(body)
        if not translated:
            missing.append(body)
            continue
        line = lines[index]
        lines[index] = line[:column] + prefix + translated + line[column + len(comment):]
    return "\n".join(lines), list(reversed(missing))


def strip_comments(source: str) -> str:
    """The source without its comments, lines right-stripped: what must be identical in both editions."""
    lines = source.split("\n")
    for index, column, comment in reversed(comment_spans(source)):
        lines[index] = lines[index][:column] + lines[index][column + len(comment):]
    return "\n".join(line.rstrip() for line in lines)


def code_comments(notebook: dict) -> list[tuple[str, str]]:
    """``(cell id, comment text)`` of every translatable comment in the author's code cells, in order."""
    found = []
    for cell in notebook["cells"]:
        if cell.get("cell_type") == "code" and generated_tag(cell) is None:
            for _, _, comment in comment_spans(text_of(cell)):
                body = comment_body(comment)[1]
                if translatable(body):
                    found.append((cell.get("id"), body))
    return found


# --- translation files -------------------------------------------------------------------------------------

def authored_markdown(notebook: dict, name: str) -> list[dict]:
    """The markdown cells an author wrote (not the generated ones), each with its id; an error if one has none."""
    cells = [c for c in notebook["cells"] if c.get("cell_type") == "markdown" and generated_tag(c) is None]
    if any(not c.get("id") for c in cells):
        raise ValueError(f"{name} has markdown cells without ids (notebook format < 4.5): translations are keyed "
                         "by cell id; save it with a current Jupyter or nbformat first.")
    return cells


def read_translations(path: Path) -> dict:
    """A translation file as a dict, checked for shape; a clear error naming the file otherwise."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err}); fix it or restore it with git.") from err
    if not isinstance(data, dict) or not isinstance(data.get("markdown"), dict) \
            or not isinstance(data.get("comments"), dict):
        raise ValueError(f"{path} must hold {{\"notebook\": ..., \"markdown\": {{cell id: entry}}, "
                         "\"comments\": {English: Chinese}}; see notebooks/zh/GLOSSARY.md.")
    for cell_id, entry in data["markdown"].items():
        if not isinstance(entry, dict) or not {"en_sha", "en", "zh"} <= set(entry):
            raise ValueError(f"{path}: the entry of cell {cell_id} needs en_sha, en and zh "
                             f"(run `{COMMAND} prepare` to add empty entries).")
    return data


def write_translations(path: Path, data: dict) -> None:
    """Write a translation file: one-space indent, UTF-8, Chinese as is."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def joined(value) -> str | None:
    """A translation stored as a list of lines (or a string) as one string; None or empty stays None."""
    text = "".join(value) if isinstance(value, list) else value
    return text or None


def entry_state(entry: dict | None, english: str) -> str:
    """``"ok"``, ``"missing"`` (no entry or no Chinese yet), ``"stale"`` (the English changed) or ``"edited"``."""
    if entry is None or not joined(entry.get("zh")):
        return "missing"
    if en_sha(joined(entry.get("en")) or "") != entry.get("en_sha"):
        return "edited"
    return "ok" if entry["en_sha"] == en_sha(english) else "stale"


STATE_MESSAGES = {
    "missing": "not translated",
    "stale": "translation is stale (the English text changed)",
    "edited": "entry's en and en_sha disagree (edited by hand?); restore en, or run `accept` after checking it",
}


# --- the Chinese notebook ----------------------------------------------------------------------------------

@dataclass
class Edition:
    """One Chinese notebook as sync would write it, and what keeps it from being complete."""

    english: Path
    target: Path
    notebook: dict
    problems: list[str] = field(default_factory=list)  # untranslated / stale cells and comments
    following: str | None = None  # the link target of the next notebook, relative to notebooks/zh/


def pending_text(english: str, reason: str) -> str:
    """The English text under the visible banner that says it still needs translating."""
    return f"> **{BANNER_TITLE}**：{BANNER_REASONS[reason]}，下面暂时显示英文原文。\n\n{english}"


def localised_notebook(english: dict, name: str, translations: dict) -> tuple[dict, list[str]]:
    """The Chinese notebook (generated cells not yet localised) and the problems found on the way."""
    notebook = copy.deepcopy(english)
    problems = []
    for cell in notebook["cells"]:
        if generated_tag(cell) is not None:
            continue
        source = text_of(cell)
        if cell.get("cell_type") == "markdown":
            entry = translations["markdown"].get(cell["id"])
            state = entry_state(entry, source)
            if state == "ok":
                text = joined(entry["zh"])
            else:
                problems.append(f"{name}: cell {cell['id']} {STATE_MESSAGES[state]}: {first_line(source)!r}")
                text = pending_text(source, "stale" if state in ("stale", "edited") else "missing")
            cell["source"] = lines_of(text)
        elif cell.get("cell_type") == "code":
            text, missing = translate_comments(source, translations["comments"])
            problems += [f"{name}: cell {cell.get('id')} comment not translated: {body!r}" for body in missing]
            cell["source"] = lines_of(text)
    return notebook, problems


def contents_url(repository: str) -> str:
    """README.zh.md's table of notebooks on GitHub, built as the English Contents link: works on Colab and locally."""
    return f"{repository}/blob/{BRANCH}/{CONTENTS_ANCHOR}"


def neighbour_link(neighbour: tuple[str, str, bool]) -> str:
    """``[02 — 标题](02_b.ipynb)`` from ``(file name, title, has a Chinese twin)``; without a twin the link opens
    the English notebook, marked （英文版）."""
    name, title, twin = neighbour
    return f"[{link_text(name, title)}]({name})" if twin else f"[{link_text(name, title)}（英文版）](../{name})"


def neighbour_target(neighbour: tuple[str, str, bool] | None) -> str | None:
    """Where the link to a neighbour leads, relative to notebooks/zh/ (what the structure rules look for)."""
    if neighbour is None:
        return None
    return neighbour[0] if neighbour[2] else f"../{neighbour[0]}"


def nav_top(previous: tuple[str, str, bool] | None, repository: str) -> str:
    """``← 上一篇：[01 — 标题](01_a.ipynb) · [目录](https://github.com/.../README.zh.md#笔记本)``."""
    parts = [f"← 上一篇：{neighbour_link(previous)}"] if previous else []
    parts.append(f"[目录]({contents_url(repository)})")
    return " · ".join(parts)


def nav_bottom(following: tuple[str, str, bool] | None, repository: str) -> str:
    """``**下一篇：** [03 — 标题](03_c.ipynb) →``, or back to the contents after the last notebook."""
    if following:
        return f"**下一篇：** {neighbour_link(following)} →"
    return f"这是最后一篇笔记本：返回[目录]({contents_url(repository)})。"


def localise_generated(notebook: dict, name: str, previous: tuple[str, str, bool] | None,
                       following: tuple[str, str, bool] | None, repository: str) -> list[str]:
    """Rewrite the generated cells in place: Chinese navigation, the zh Colab badge, the Colab cell's comments in
    Chinese. Returns the problems: a generated comment with no entry in ``GENERATED_COMMENTS``."""
    top = (f"<!-- {ZH_NOTE} -->\n[![在 Colab 中打开]({BADGE})]({colab_url(repository, f'{LANG}/{name}')})\n\n"
           f"{nav_top(previous, repository)}")
    bottom = f"<!-- {ZH_NOTE} -->\n\n---\n\n{nav_bottom(following, repository)}"
    problems = []
    for cell in notebook["cells"]:
        tag = generated_tag(cell)
        if tag == NAV_TOP:
            cell["source"] = lines_of(top)
        elif tag == NAV_BOTTOM:
            cell["source"] = lines_of(bottom)
        elif tag == COLAB_SETUP:
            text, missing = translate_comments(text_of(cell), GENERATED_COMMENTS)
            cell["source"] = lines_of(text)
            problems += [f"{name}: generated cell {COLAB_SETUP}: comment not translated: {body!r} (add it to "
                         "GENERATED_COMMENTS in helpers/maintain/translations.py)" for body in missing]
    return problems


def plan(english_folder: Path = NOTEBOOKS_DIR) -> tuple[list[Edition], list[str]]:
    """Every Chinese notebook that has a translation file, as sync would write it, and the English notebooks
    that have none (their names). Nothing is written."""
    english_paths = list_notebooks(english_folder)
    twins = [translation_path(p).is_file() for p in english_paths]
    editions, titles = {}, {}
    for path, twin in zip(english_paths, twins):
        english = read_notebook(path)
        titles[path.name] = notebook_title(english, path.stem)
        if not twin:
            continue
        authored_markdown(english, path.name)
        translations = read_translations(translation_path(path))
        notebook, problems = localised_notebook(english, path.name, translations)
        titles[path.name] = notebook_title(notebook, path.stem)
        editions[path.name] = Edition(path, zh_folder(english_folder) / path.name, notebook, problems)
    repository = repository_url()
    names = [p.name for p in english_paths]
    for i, name in enumerate(names):
        if name not in editions:
            continue
        previous = (names[i - 1], titles[names[i - 1]], twins[i - 1]) if i else None
        following = (names[i + 1], titles[names[i + 1]], twins[i + 1]) if i + 1 < len(names) else None
        editions[name].problems += localise_generated(editions[name].notebook, name, previous, following, repository)
        editions[name].following = neighbour_target(following)
    missing = [name for name, twin in zip(names, twins) if not twin]
    return list(editions.values()), missing


def serialised(notebook: dict) -> str:
    """A notebook's file text exactly as ``write_notebook`` writes it."""
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def up_to_date(edition: Edition) -> bool:
    """True when the Chinese notebook on disk is exactly what sync would write."""
    return edition.target.is_file() and edition.target.read_text(encoding="utf-8") == serialised(edition.notebook)


# --- both editions, cell by cell ---------------------------------------------------------------------------

def edition_differences(english: dict, chinese: dict) -> list[str]:
    """What differs between the editions beyond translated text: cell order, ids, types, tags, code (comments
    stripped), stored outputs and execution counts. An empty list means the Chinese one is a faithful twin."""
    en_cells, zh_cells = english.get("cells", []), chinese.get("cells", [])
    problems = []
    shape = [(c.get("id"), c.get("cell_type"), c.get("metadata", {}).get("tags")) for c in en_cells]
    zh_shape = [(c.get("id"), c.get("cell_type"), c.get("metadata", {}).get("tags")) for c in zh_cells]
    if shape != zh_shape:
        for index, (a, b) in enumerate(zip(shape, zh_shape)):
            if a != b:
                problems.append(f"cell {index}: English is {a[1]} {a[0]}, Chinese is {b[1]} {b[0]} "
                                "(cells must match one to one: order, ids, types, tags)")
                break
        if len(shape) != len(zh_shape):
            problems.append(f"English has {len(shape)} cells, Chinese has {len(zh_shape)}")
        return problems
    for en, zh in zip(en_cells, zh_cells):
        if en.get("cell_type") != "code":
            continue
        if strip_comments(text_of(en)) != strip_comments(text_of(zh)):
            problems.append(f"cell {en.get('id')}: code differs from the English (comments aside)")
        if en.get("outputs", []) != zh.get("outputs", []) or en.get("execution_count") != zh.get("execution_count"):
            problems.append(f"cell {en.get('id')}: stored outputs differ from the English")
    return problems


# --- structure rules in Chinese ----------------------------------------------------------------------------

_BREAK = "\u2060"  # word joiner: splits an English heading so the English rules no longer see it


def _as_english(text: str) -> str:
    """Chinese house-style headings and levels rewritten as the English rules expect; English ones hidden."""
    for heading in HEADINGS:
        text = text.replace(heading, heading[0] + _BREAK + heading[1:])
    for level in LEVELS:
        text = text.replace(f"({level})", f"({level[0]}{_BREAK}{level[1:]})")
    text = text.replace(HEADINGS["What you will learn"], "What you will learn")
    text = text.replace(HEADINGS["Prerequisites"], "Prerequisites")
    text = re.sub(rf"^## {HEADINGS['Summary']}[ \t]*$", "## Summary", text, flags=re.MULTILINE)
    text = re.sub(rf"^## {HEADINGS['Exercises']}[ \t]*$", "## Exercises", text, flags=re.MULTILINE)
    for level, zh in LEVELS.items():
        text = re.sub(rf"\*\*[ \t]*[（(]{zh}[）)]", f"** ({level})", text)
    return text


MESSAGE_TERMS = [
    ("'What you will learn'", f"'{HEADINGS['What you will learn']}'"),
    ("'Prerequisites'", f"'{HEADINGS['Prerequisites']}'"),
    ("## Summary", f"## {HEADINGS['Summary']}"), ("## Exercises", f"## {HEADINGS['Exercises']}"),
    ("<summary>Solution</summary>", f"<summary>{HEADINGS['Solution']}</summary>"),
    ("'1. **Title** (easy) ...'", "'1. **标题**（简单）...'"),
    ("(easy), (medium) or (hard)", "（简单）、（中等）或（困难）"), ("(easy, medium, hard)", "（简单、中等、困难）"),
    (SYNC_COMMAND, f"{COMMAND} sync"),
]


def structure_problems(notebook: dict, next_name: str | None) -> list[str]:
    """House-style problems of a Chinese notebook: the English rules with 学习目标, 前置知识, 总结, 练习, 解答."""
    normalised = copy.deepcopy(notebook)
    for cell in normalised.get("cells", []):
        if cell.get("cell_type") == "markdown":
            cell["source"] = _as_english(text_of(cell))
    problems = english_structure_problems(normalised, next_name)
    for en, zh in MESSAGE_TERMS:
        problems = [p.replace(en, zh) for p in problems]
    for en, zh in LEVELS.items():
        problems = [p.replace(f"found {en}", f"found {zh}").replace(f", {en}", f", {zh}") for p in problems]
    markdown = "\n".join(text_of(c) for c in notebook.get("cells", []) if c.get("cell_type") == "markdown")
    if "<summary>Solution</summary>" in markdown:
        problems.append(f"write the solutions' summary as <summary>{HEADINGS['Solution']}</summary>, not Solution")
    return problems


def link_problems(notebook: dict, folder: Path, english_folder: Path) -> list[str]:
    """Relative links in the Chinese markdown that lead nowhere (they are relative to ``notebooks/zh/``).

    A link to a sibling notebook counts as fine when the English one exists (its twin is checked elsewhere).
    """
    problems = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "markdown" or generated_tag(cell) is not None:
            continue
        for target in re.findall(r"\]\(([^)\s]+)\)", text_of(cell)):
            path = target.split("#", 1)[0]
            if not path or re.match(r"^[a-z][a-z0-9+.-]*:", path) or path.startswith("/"):
                continue
            if (folder / path).exists() or ("/" not in path and (english_folder / path).is_file()):
                continue
            problems.append(f"cell {cell.get('id')} links to {target}, which does not exist "
                            "(links are relative to notebooks/zh/)")
    return problems


# --- what the tests and --check report ---------------------------------------------------------------------

def check_problems(english_folder: Path = NOTEBOOKS_DIR) -> list[str]:
    """Everything ``sync --check`` reports: missing twins, untranslated or stale cells and comments, Chinese
    notebooks not written or out of date, and house-style problems of the complete ones."""
    editions, missing = plan(english_folder)
    problems = [f"{name}: no Chinese edition ({LANG}/translations/{Path(name).stem}.json is missing): "
                f"run `{COMMAND} prepare notebooks/{name}`, translate, then `{COMMAND} sync`" for name in missing]
    for edition in editions:
        problems += edition.problems
        target = f"{LANG}/{edition.target.name}"
        if not up_to_date(edition):
            state = "out of date" if edition.target.is_file() else "not written yet"
            problems.append(f"{target}: {state}: run `{COMMAND} sync`")
        if not edition.problems:
            found = structure_problems(edition.notebook, edition.following)
            found += link_problems(edition.notebook, edition.target.parent, Path(english_folder))
            problems += [f"{target}: {problem}" for problem in found]
    return problems


def stray_notebooks(english_folder: Path = NOTEBOOKS_DIR) -> list[str]:
    """Chinese notebooks with no English original (renamed or removed in English): ``zh/NN_name.ipynb``."""
    english = {p.name for p in list_notebooks(english_folder)}
    return [f"{LANG}/{p.name}" for p in list_notebooks(zh_folder(english_folder)) if p.name not in english]


# --- commands ----------------------------------------------------------------------------------------------

def prepare(english: Path) -> list[str]:
    """Create or extend an English notebook's translation file; return lines saying what is left to translate.

    New markdown cells get ``{"en_sha", "en", "zh": null}``; a stale entry keeps its old ``en`` and ``zh`` and
    gains ``en_now`` (the current English) to translate from; entries of cells that no longer exist are removed;
    missing comments are added with ``null``, unused ones removed.
    """
    english = Path(english)
    notebook = read_notebook(english)
    path = translation_path(english)
    data = read_translations(path) if path.is_file() else {"notebook": english.name, "markdown": {}, "comments": {}}
    report = []
    markdown = {}
    for cell in authored_markdown(notebook, english.name):
        source = text_of(cell)
        entry = data["markdown"].get(cell["id"]) or {"en_sha": en_sha(source), "en": lines_of(source), "zh": None}
        entry.pop("en_now", None)
        if not joined(entry.get("zh")):  # nothing translated yet: translate from the current English
            entry.update(en_sha=en_sha(source), en=lines_of(source), zh=None)
        state = entry_state(entry, source)
        if state in ("stale", "edited"):
            entry["en_now"] = lines_of(source)
            diff = difflib.unified_diff(lines_of(joined(entry["en"]) or ""), lines_of(source), "translated English",
                                        "English now", n=1)
            report.append(f"cell {cell['id']}: {STATE_MESSAGES[state]}; update zh from en_now, then "
                          f"`{COMMAND} accept {english} {cell['id']}`\n" + "".join(diff).rstrip("\n"))
        elif state == "missing":
            report.append(f"cell {cell['id']}: to translate: {first_line(source)!r}")
        markdown[cell["id"]] = entry
    for cell_id in data["markdown"].keys() - markdown.keys():
        report.append(f"cell {cell_id}: removed (no such markdown cell in {english.name} any more)")
    comments = {}
    for cell_id, body in code_comments(notebook):
        if body in comments:  # the same comment in several cells: one translation
            continue
        comments[body] = data["comments"].get(body)
        if not comments[body]:
            report.append(f"comment in cell {cell_id}: to translate: {body!r}")
    for body in data["comments"].keys() - comments.keys():
        report.append(f"comment removed (no longer in the English code): {body!r}")
    write_translations(path, {"notebook": english.name, "markdown": markdown, "comments": comments})
    return report


def accept(english: Path, cell_ids: list[str]) -> None:
    """Record that the translations of ``cell_ids`` now follow the current English text (after updating zh)."""
    english = Path(english)
    path = translation_path(english)
    data = read_translations(path)
    cells = {c["id"]: text_of(c) for c in authored_markdown(read_notebook(english), english.name)}
    for cell_id in cell_ids:
        if cell_id not in cells or cell_id not in data["markdown"]:
            raise ValueError(f"{english.name} has no translated markdown cell {cell_id!r}; "
                             f"`{COMMAND} status` lists what there is.")
        entry = data["markdown"][cell_id]
        if not joined(entry.get("zh")):
            raise ValueError(f"cell {cell_id} has no Chinese text yet: translate it first.")
        entry.update(en_sha=en_sha(cells[cell_id]), en=lines_of(cells[cell_id]))
        entry.pop("en_now", None)
    write_translations(path, data)


def status_lines(english_folder: Path = NOTEBOOKS_DIR) -> list[str]:
    """One line per English notebook: translated markdown cells and comments, and the Chinese file's state."""
    editions, _ = plan(english_folder)
    by_name = {e.english.name: e for e in editions}
    lines = [f"{'notebook':<40} {'markdown':>9} {'comments':>9}  Chinese notebook"]
    for path in list_notebooks(english_folder):
        edition = by_name.get(path.name)
        if edition is None:
            lines.append(f"{path.name:<40} {'-':>9} {'-':>9}  no translation file")
            continue
        english = read_notebook(path)
        cells = len(authored_markdown(english, path.name))
        comments = len(code_comments(english))
        pending_cells = sum(" comment not translated: " not in p for p in edition.problems)
        pending_comments = len(edition.problems) - pending_cells
        state = "up to date" if up_to_date(edition) else ("out of date" if edition.target.is_file() else "not written")
        markdown = f"{cells - pending_cells}/{cells}"
        translated_comments = f"{comments - pending_comments}/{comments}"
        lines.append(f"{path.name:<40} {markdown:>9} {translated_comments:>9}  {state}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.maintain.translations {sync [--check], status, prepare NB, accept NB CELL...}``."""
    import argparse

    parser = argparse.ArgumentParser(prog=COMMAND, description="The Chinese edition of the notebooks "
                                     "(notebooks/zh): generated from the English ones plus translations.")
    folder = argparse.ArgumentParser(add_help=False)
    folder.add_argument("--folder", type=Path, default=NOTEBOOKS_DIR, help="English notebooks (default: notebooks/)")
    commands = parser.add_subparsers(dest="command", required=True)
    sync = commands.add_parser("sync", parents=[folder],
                               help="write notebooks/zh/NN_name.ipynb for every translation file")
    sync.add_argument("--check", action="store_true", help="change nothing; exit 1 naming whatever is missing, "
                      "stale, out of date or not in the house style")
    commands.add_parser("status", parents=[folder], help="translated cells and comments per notebook")
    prep = commands.add_parser("prepare", help="create or extend translation files (empty entries to fill in)")
    prep.add_argument("notebooks", nargs="+", type=Path, help="English notebooks, e.g. notebooks/02_x.ipynb")
    acc = commands.add_parser("accept", help="after updating stale translations, record the current English")
    acc.add_argument("notebook", type=Path)
    acc.add_argument("cells", nargs="+", help="cell ids")
    args = parser.parse_args(argv)
    try:
        if args.command == "prepare":
            for english in args.notebooks:
                if not Path(english).is_file() or Path(english).parent.name == LANG:
                    parser.error(f"{english}: give an English notebook, e.g. notebooks/01_monocular_vs_stereo.ipynb")
                print(f"{translation_path(english)}:")
                print("\n".join(f"  {line}" for line in prepare(english)) or "  everything translated")
            return 0
        if args.command == "accept":
            accept(args.notebook, args.cells)
            print(f"recorded the current English of {len(args.cells)} cell(s) in {translation_path(args.notebook)}")
            return 0
        if args.command == "status":
            print("\n".join(status_lines(args.folder)))
            return 0
        if args.check:
            problems = check_problems(args.folder) + [f"{name}: no English original; delete it"
                                                      for name in stray_notebooks(args.folder)]
            print("\n".join(problems) if problems else "the Chinese edition is complete and in sync")
            return 1 if problems else 0
        editions, missing = plan(args.folder)
        for edition in editions:
            if not up_to_date(edition):
                edition.target.parent.mkdir(parents=True, exist_ok=True)
                write_notebook(edition.target, edition.notebook)
                print(f"wrote {LANG}/{edition.target.name}" + (f" ({len(edition.problems)} pending)"
                                                                 if edition.problems else ""))
        if missing:
            print(f"no translation file yet: {', '.join(missing)}")
        return 0
    except ValueError as err:  # a malformed notebook or translation file, an unknown cell id
        print(f"error: {err}")
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
