"""The Chinese edition: ``notebooks/zh/NN_name.ipynb`` generated from ``notebooks/NN_name.ipynb`` plus translations.

The English notebooks are the source. A Chinese notebook is never edited by hand: ``sync`` writes it from

- the English notebook: every cell in the same order with the same id; code cells keep the English code
  (only comments are translated) and the English stored outputs and metadata;
- ``notebooks/zh/translations/NN_name.po``: a gettext catalogue, the format Poedit, Weblate and Crowdin open.
  One entry per English markdown *paragraph* (a cell split at blank lines, a fenced code block kept whole):
  ``msgctxt`` the cell id, ``msgid`` the English paragraph, ``msgstr`` its Chinese; and one entry per code comment
  (``msgctxt "code comment"``, translated once for the whole notebook).

``sync`` first merges each catalogue with its English notebook, as gettext's ``msgmerge`` does: a new English
paragraph or comment gets an empty entry; a changed one gets a *fuzzy* entry (``#, fuzzy``) holding the old
translation, with the English it translated as ``#| msgid``; entries of text no longer in the English are
dropped. A paragraph without a current translation (empty or fuzzy) is written as the English under a visible
``待翻译 (translation pending)`` banner, never silently as English, and ``sync --check`` fails naming the
notebook, the cell id, the paragraph and its first line. A translator edits ``msgstr``, clears the fuzzy flag
(Poedit: "Needs work" off; in a text editor: delete the ``#, fuzzy`` and ``#|`` lines), and runs ``sync``.

Commands (``python -m helpers.maintain.translations ...``); they need the standard library and ``polib`` only::

    sync [--check]                 merge the catalogues with the English and write them and the Chinese notebooks
                                   (--check: change nothing, exit 1 naming whatever is untranslated, fuzzy,
                                   not merged, not written yet or not in the house style)
    status                         translated paragraphs and comments per notebook
    prepare notebooks/14_x.ipynb   a catalogue for a notebook that has none: empty entries to translate
    accept notebooks/01_x.ipynb CELL_ID ...   clear the fuzzy flags of those cells' entries, once checked

Generated cells are localised, mirroring ``generated_cells``: the top cell has the Colab badge opening
``notebooks/zh/...``, 上一篇 and 目录 (an absolute link to README.zh.md's table on GitHub, built from the
repository URL as the English Contents link is); the bottom cell has one 下一篇 link (back to 目录 after the last
notebook); the Colab set-up cell is the English one with its ``#@title`` and comment in Chinese
(``GENERATED_COMMENTS``: a generated comment missing there fails ``sync --check``). The structure rules
(shared/STYLE.md) apply with the Chinese headings (学习目标, 前置知识, 总结, 练习, 解答; exercise levels
简单 / 中等 / 困难): ``structure_problems``.
"""

from __future__ import annotations

import ast
import copy
import difflib
import io
import json
import re
import tokenize
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import polib

from ..paths import NOTEBOOKS_DIR
from .generated_cells import (BADGE, BRANCH, COLAB_SETUP, GENERATED_NOTE, NAV_BOTTOM, NAV_TOP, SYNC_COMMAND,
                              colab_url, generated_tag, link_text, notebook_title, repository_url)
from .notebook_files import list_notebooks, read_notebook, write_notebook
from .structure import structure_problems as english_structure_problems

LANG = "zh"
LANGUAGE = "zh_CN"  # the catalogues' Language header: Simplified Chinese
COMMAND = "python -m helpers.maintain.translations"
CONTENTS_ANCHOR = "README.zh.md#笔记本"  # the table of notebooks in README.zh.md (its heading: ## 笔记本)
COMMENT_CONTEXT = "code comment"  # msgctxt of the code comments' entries (markdown entries: the cell id)
BANNER_TITLE = "待翻译 (translation pending)"
BANNER_REASONS = {"missing": "尚无中文译文", "fuzzy": "英文原文已修改，中文译文待更新"}
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
    """Where the catalogues live: ``notebooks/zh/translations``."""
    return zh_folder(english_folder) / "translations"


def translation_path(english: Path) -> Path:
    """The catalogue of an English notebook: ``notebooks/zh/translations/NN_name.po``."""
    english = Path(english)
    return translations_folder(english.parent) / f"{english.stem}.po"


def text_of(cell: dict) -> str:
    """A cell's source as one string (notebooks store it as a list of lines or a string)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def lines_of(text: str) -> list[str]:
    """Text as a notebook stores it: a list of lines, each keeping its newline."""
    return text.splitlines(keepends=True)


def first_line(text: str, width: int = 80) -> str:
    """The first non-blank line of a text, shortened to ``width`` characters, for messages."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return line if len(line) <= width else line[: width - 1] + "…"


def paragraphs(text: str) -> list[str]:
    """A markdown text split at blank lines (``"\\n\\n"``), a fenced code block kept whole: the units translated.

    ``"\\n\\n".join(paragraphs(text)) == text`` always.
    """
    found: list[str] = []
    in_fence = False
    for piece in text.split("\n\n"):
        if found and in_fence:
            found[-1] += "\n\n" + piece
        else:
            found.append(piece)
        if len(re.findall(r"^[ \t]*(?:```|~~~)", piece, flags=re.MULTILINE)) % 2:
            in_fence = not in_fence
    return found


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


# --- catalogues (gettext .po) ------------------------------------------------------------------------------

WIDTH = 79  # msgcat's default: no line of the file longer than this, a Chinese character counting two columns
_NO_BREAK_BEFORE = set("，。、；：？！）」』】》〉…—％,.;:?!)]}'\"")
_NO_BREAK_AFTER = set("（「『【《〈([{'\"")


def _wide(ch: str) -> bool:
    """True for a character a terminal or editor shows two columns wide (Chinese, full-width punctuation)."""
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _columns(text: str) -> int:
    """How wide ``text`` is once escaped for a .po file: wide characters count two columns, ``\\n`` two."""
    return sum(2 if _wide(ch) else len(polib.escape(ch)) for ch in text)


def _chunks(line: str) -> list[str]:
    """A line cut where it may wrap: after a space, or next to a Chinese character (not before ，。）… or after （)."""
    chunks, start = [], 0
    for i in range(1, len(line)):
        before, ch = line[i - 1], line[i]
        if ch == " ":
            continue
        if before == " " or ((_wide(before) or _wide(ch)) and ch not in _NO_BREAK_BEFORE
                             and before not in _NO_BREAK_AFTER):
            chunks.append(line[start:i])
            start = i
    return chunks + [line[start:]] if line else []


def wrap_field(text: str, width: int) -> list[str]:
    """``text`` as the pieces of a .po string: one per line of the text (each keeping its ``\\n``), long lines
    wrapped to ``width`` columns. Joined, the pieces are ``text`` again."""
    pieces = []
    for line in re.findall(r"[^\n]*\n|[^\n]+", text):
        current = ""
        for chunk in _chunks(line):
            if current and _columns(current + chunk) > width:
                pieces.append(current)
                current = ""
            current += chunk
        pieces.append(current)
    return pieces


class Entry(polib.POEntry):
    """A catalogue entry written as ``msgcat`` writes one: a string of several lines or longer than a line starts
    with ``""``, then one quoted piece per line of the text, long lines wrapped (Chinese too) to 79 columns."""

    def _str_field(self, fieldname, delflag, plural_index, field, wrapwidth=WIDTH):
        """The lines of one field (``msgid``, ``msgstr``, ``#| msgid``...): polib's hook, called for each."""
        name = fieldname.replace("previous_", "") + plural_index
        pieces = wrap_field(field, WIDTH - len(delflag) - 2)
        if len(pieces) <= 1 and len(delflag) + len(name) + 3 + _columns(field) <= WIDTH:
            return [f'{delflag}{name} "{polib.escape(field)}"']
        return [f'{delflag}{name} ""'] + [f'{delflag}"{polib.escape(piece)}"' for piece in pieces]


def _fields(entry: polib.POEntry) -> tuple:
    """What an entry says, whatever wrapping the file uses: for comparing a catalogue with its merge."""
    return (entry.msgctxt, entry.msgid, entry.msgstr, sorted(entry.flags), entry.previous_msgctxt,
            entry.previous_msgid, entry.comment or "", entry.tcomment or "", entry.obsolete)


def as_entry(entry: polib.POEntry, **changes) -> Entry:
    """A copy of an entry (as polib read it) that writes itself the project's way, with ``changes`` applied."""
    fields = dict(msgctxt=entry.msgctxt, msgid=entry.msgid, msgstr=entry.msgstr, flags=list(entry.flags),
                  previous_msgctxt=entry.previous_msgctxt, previous_msgid=entry.previous_msgid,
                  comment=entry.comment, tcomment=entry.tcomment)
    fields.update(changes)
    return Entry(**fields)


def catalogue_header(name: str) -> str:
    """The comment at the top of a catalogue: what it translates and how."""
    return (f"Chinese translation of notebooks/{name}.\n"
            "The Chinese notebook (notebooks/zh/, same name) is made from the English\n"
            f"one and this file by `{COMMAND} sync`.\n"
            "msgctxt: the English markdown cell's id (\"code comment\" for code comments);\n"
            "msgid: one English paragraph or comment; msgstr: its Chinese, to edit.\n"
            "A fuzzy entry translates an older English text (#| msgid): update msgstr,\n"
            "then remove the fuzzy flag. Terms: notebooks/zh/GLOSSARY.md.")


def new_catalogue(name: str, metadata: dict | None = None, header: str | None = None) -> polib.POFile:
    """An empty catalogue with this project's header and metadata (kept from ``metadata`` where given)."""
    catalogue = polib.POFile(wrapwidth=WIDTH)
    catalogue.header = header if header is not None else catalogue_header(name)
    catalogue.metadata = {"Project-Id-Version": f"depth-tutorials {Path(name).stem}", "Language": LANGUAGE,
                          "MIME-Version": "1.0", "Content-Type": "text/plain; charset=UTF-8",
                          "Content-Transfer-Encoding": "8bit", **(metadata or {})}
    return catalogue


def read_catalogue(path: Path) -> polib.POFile:
    """A catalogue as polib reads it; a clear error naming the file if it is not a valid .po file."""
    try:
        catalogue = polib.pofile(str(path), wrapwidth=WIDTH)
    except (OSError, ValueError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not a valid .po file ({err}); fix it (Poedit names the line) or restore "
                         "it with git.") from err
    if any(entry.msgctxt is None for entry in catalogue):  # polib reads a mangled entry as one without msgctxt
        entry = next(entry for entry in catalogue if entry.msgctxt is None)
        raise ValueError(f"{path}: the entry at line {entry.linenum} has no msgctxt (a cell id or \"code comment\"); "
                         "fix it (Poedit names the line) or restore it with git.")
    return catalogue


def catalogue_text(catalogue: polib.POFile) -> str:
    """The file text of a catalogue, every entry written the project's way (``Entry``)."""
    copied = polib.POFile(wrapwidth=WIDTH)
    copied.header, copied.metadata = catalogue.header, dict(catalogue.metadata)
    copied.extend(as_entry(entry) for entry in catalogue if not entry.obsolete)
    return str(copied) + "\n"


def same_catalogue(a: polib.POFile, b: polib.POFile) -> bool:
    """True when two catalogues say the same (entries in order, header, metadata), however each is wrapped."""
    return (a.header, a.metadata, [_fields(e) for e in a]) == (b.header, b.metadata, [_fields(e) for e in b])


def authored_markdown(notebook: dict, name: str) -> list[dict]:
    """The markdown cells an author wrote (not the generated ones), each with its id; an error if one has none."""
    cells = [c for c in notebook["cells"] if c.get("cell_type") == "markdown" and generated_tag(c) is None]
    if any(not c.get("id") for c in cells):
        raise ValueError(f"{name} has markdown cells without ids (notebook format < 4.5): translations are keyed "
                         "by cell id; save it with a current Jupyter or nbformat first.")
    return cells


def template(notebook: dict, name: str) -> list[tuple[str, str, str]]:
    """``(msgctxt, msgid, note)`` of every text to translate in an English notebook, in reading order, each once:
    the paragraphs of its markdown cells and its code comments (the note says in which cells)."""
    authored_markdown(notebook, name)
    comment_cells: dict[str, list[str]] = {}
    for cell_id, body in code_comments(notebook):
        cells = comment_cells.setdefault(body, [])
        if cell_id not in cells:
            cells.append(cell_id)
    wanted, seen = [], set()
    for cell in notebook["cells"]:
        if generated_tag(cell) is not None:
            continue
        if cell.get("cell_type") == "markdown":
            keys = [(cell["id"], p, "") for p in paragraphs(text_of(cell)) if p.strip()]
        elif cell.get("cell_type") == "code":
            keys = [(COMMENT_CONTEXT, body, "a comment in code cell " + ", ".join(comment_cells[body])
                     + ": one line") for _, _, comment in comment_spans(text_of(cell))
                    for body in [comment_body(comment)[1]] if translatable(body)]
        else:
            keys = []
        for key in keys:
            if key[:2] not in seen:
                seen.add(key[:2])
                wanted.append(key)
    return wanted


def _similar(a: str, b: str) -> float:
    """How alike two English texts are, word by word (0 to 1; below 0.5 not worked out): fast on long paragraphs."""
    matcher = difflib.SequenceMatcher(None, a.split(), b.split(), autojunk=False)
    return matcher.ratio() if matcher.real_quick_ratio() > 0.5 and matcher.quick_ratio() > 0.5 else 0.0


def _fuzzy_source(msgctxt: str, msgid: str, vanished: list[polib.POEntry]) -> polib.POEntry | None:
    """The translation of an older English text to start from: the most similar vanished entry of the same cell
    (or of the comments), else a near-identical one from another cell (a paragraph moved)."""
    best, best_score = None, 0.0
    for entry in vanished:
        score = _similar(entry.msgid, msgid)
        if score >= (0.5 if entry.msgctxt == msgctxt else 0.8) and score > best_score:
            best, best_score = entry, score
    return best


def merge(catalogue: polib.POFile, notebook: dict, name: str) -> tuple[polib.POFile, list[str]]:
    """What ``msgmerge`` would make of a catalogue and the English notebook, and a line for each entry added, made
    fuzzy or dropped. Translated entries of text still in the English are kept as they are."""
    old = {(e.msgctxt, e.msgid): e for e in catalogue if not e.obsolete}
    wanted = template(notebook, name)
    keys = {(ctx, msgid) for ctx, msgid, _ in wanted}
    vanished = [e for key, e in old.items() if key not in keys and e.msgstr]
    merged = new_catalogue(name, catalogue.metadata, catalogue.header)
    report, used = [], set()
    for ctx, msgid, note in wanted:
        where = "comment" if ctx == COMMENT_CONTEXT else f"cell {ctx}"
        entry = old.get((ctx, msgid))
        if entry is not None:
            merged.append(as_entry(entry, comment=note or None))
            continue
        source = _fuzzy_source(ctx, msgid, vanished)
        if source is None:
            merged.append(Entry(msgctxt=ctx, msgid=msgid, msgstr="", comment=note or None))
            report.append(f"{where}: new, to translate: {first_line(msgid)!r}")
            continue
        used.add((source.msgctxt, source.msgid))
        older = "fuzzy" in source.flags and source.previous_msgid is not None
        previous_ctx = (source.previous_msgctxt if older and source.previous_msgctxt else source.msgctxt)
        merged.append(as_entry(source, msgctxt=ctx, msgid=msgid, flags=["fuzzy"], comment=note or None,
                               previous_msgid=source.previous_msgid if older else source.msgid,
                               previous_msgctxt=previous_ctx if previous_ctx != ctx else None))
        report.append(f"{where}: changed, fuzzy until checked: {first_line(msgid)!r}")
    for (ctx, msgid), entry in old.items():
        if (ctx, msgid) not in keys and (ctx, msgid) not in used:
            where = "comment" if ctx == COMMENT_CONTEXT else f"cell {ctx}"
            report.append(f"{where}: dropped (no longer in the English): {first_line(msgid)!r}")
    return merged, report


def entry_state(entry: polib.POEntry | None) -> str:
    """``"ok"``, ``"missing"`` (no entry or an empty msgstr) or ``"fuzzy"`` (translates an older English text)."""
    if entry is None or not entry.msgstr:
        return "missing"
    return "fuzzy" if "fuzzy" in entry.flags else "ok"


STATE_MESSAGES = {
    "missing": "not translated",
    "fuzzy": "fuzzy (the English changed: check msgstr against it, then clear the fuzzy flag)",
}


# --- the Chinese notebook ----------------------------------------------------------------------------------

@dataclass
class Edition:
    """One Chinese notebook and its catalogue as sync would write them, and what keeps them from being complete."""

    english: Path
    target: Path
    notebook: dict
    catalogue: polib.POFile  # merged with the English notebook
    catalogue_state: str  # "current", "unmerged" (the merge changes entries) or "layout" (only the wrapping)
    problems: list[str] = field(default_factory=list)  # untranslated / fuzzy paragraphs and comments
    following: str | None = None  # the link target of the next notebook, relative to notebooks/zh/
    merge_report: list[str] = field(default_factory=list)


def pending_text(english: str, reason: str) -> str:
    """An English paragraph under the visible banner that says it still needs translating."""
    return f"> **{BANNER_TITLE}**：{BANNER_REASONS[reason]}，下面暂时显示英文原文。\n\n{english}"


def localised_notebook(english: dict, name: str, catalogue: polib.POFile) -> tuple[dict, list[str]]:
    """The Chinese notebook (generated cells not yet localised) from a merged catalogue, and the problems found."""
    notebook = copy.deepcopy(english)
    entries = {(e.msgctxt, e.msgid): e for e in catalogue if not e.obsolete}
    comments = {}
    for (ctx, msgid), entry in entries.items():
        if ctx == COMMENT_CONTEXT and entry_state(entry) == "ok" and "\n" not in entry.msgstr:
            comments[msgid] = entry.msgstr
    problems = []
    for cell in notebook["cells"]:
        if generated_tag(cell) is not None:
            continue
        source = text_of(cell)
        if cell.get("cell_type") == "markdown":
            parts = paragraphs(source)
            for number, paragraph in enumerate(parts, 1):
                if not paragraph.strip():
                    continue
                entry = entries.get((cell["id"], paragraph))
                state = entry_state(entry)
                if state == "ok":
                    parts[number - 1] = entry.msgstr
                    continue
                problems.append(f"{name}: cell {cell['id']} paragraph {number}: {STATE_MESSAGES[state]}: "
                                f"{first_line(paragraph)!r}")
                parts[number - 1] = pending_text(paragraph, state)
            cell["source"] = lines_of("\n\n".join(parts))
        elif cell.get("cell_type") == "code":
            text, missing = translate_comments(source, comments)
            for body in missing:
                entry = entries.get((COMMENT_CONTEXT, body))
                state = entry_state(entry)
                message = (STATE_MESSAGES[state] if state != "ok" else
                           "comment's translation has a line break (a comment's msgstr must be one line)")
                problems.append(f"{name}: cell {cell.get('id')} comment {message}: {body!r}")
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
    """Every Chinese notebook that has a catalogue, with its catalogue merged, as sync would write them, and the
    English notebooks that have none (their names). Nothing is written."""
    english_paths = list_notebooks(english_folder)
    twins = [translation_path(p).is_file() for p in english_paths]
    editions, titles = {}, {}
    for path, twin in zip(english_paths, twins):
        english = read_notebook(path)
        titles[path.name] = notebook_title(english, path.stem)
        if not twin:
            continue
        on_disk = read_catalogue(translation_path(path))
        catalogue, report = merge(on_disk, english, path.name)
        notebook, problems = localised_notebook(english, path.name, catalogue)
        titles[path.name] = notebook_title(notebook, path.stem)
        if translation_path(path).read_text(encoding="utf-8") == catalogue_text(catalogue):
            state = "current"
        else:
            state = "unmerged" if not same_catalogue(on_disk, catalogue) else "layout"
        editions[path.name] = Edition(path, zh_folder(english_folder) / path.name, notebook, catalogue, state,
                                      problems, merge_report=report)
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

def code_tokens(source: str) -> list[tokenize.TokenInfo]:
    """Python's tokens of a code cell without its comments (and the blank lines around them): what must be
    identical in both editions, compared by type and text. An error if the source does not parse."""
    ast.parse(source)
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING}
    return [tok for tok in tokenize.generate_tokens(io.StringIO(source).readline) if tok.type not in skip]


def edition_differences(english: dict, chinese: dict) -> list[str]:
    """What differs between the editions beyond translated text: notebook metadata, cell order, ids, types and
    metadata, code (token for token, comments aside; both must parse), stored outputs and execution counts. An
    empty list means the Chinese one is a faithful twin."""
    en_cells, zh_cells = english.get("cells", []), chinese.get("cells", [])
    problems = []
    if english.get("metadata") != chinese.get("metadata"):
        problems.append("notebook metadata differs from the English")
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
        if en.get("metadata") != zh.get("metadata"):
            problems.append(f"cell {en.get('id')}: metadata differs from the English")
        if en.get("cell_type") != "code":
            continue
        try:
            en_tokens = code_tokens(text_of(en))
        except (SyntaxError, tokenize.TokenError):
            en_tokens = None  # the English cell does not parse: then the texts, comments aside, must match
        try:
            zh_tokens = code_tokens(text_of(zh))
        except (SyntaxError, tokenize.TokenError) as err:
            if en_tokens is not None:
                problems.append(f"cell {en.get('id')}: the Chinese code does not parse ({err.__class__.__name__}: "
                                f"{err})")
                continue
            zh_tokens = None
        if en_tokens is None or zh_tokens is None:
            if strip_comments(text_of(en)) != strip_comments(text_of(zh)):
                problems.append(f"cell {en.get('id')}: code differs from the English (comments aside)")
        elif [t[:2] for t in en_tokens] != [t[:2] for t in zh_tokens]:
            index = next((i for i, (a, b) in enumerate(zip(en_tokens, zh_tokens)) if a[:2] != b[:2]),
                         min(len(en_tokens), len(zh_tokens)))
            english_token = en_tokens[index].string if index < len(en_tokens) else "(end)"
            chinese = zh_tokens[index] if index < len(zh_tokens) else None
            where = f"line {chinese.start[0]}: " if chinese else "at the end: "
            problems.append(f"cell {en.get('id')}: code differs from the English (comments aside), {where}"
                            f"{chinese.string if chinese else '(end)'!r} where the English has {english_token!r}")
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
    """Everything ``sync --check`` reports: English notebooks without a catalogue, untranslated or fuzzy
    paragraphs and comments, catalogues not merged with the English, Chinese notebooks not written or out of
    date, and house-style problems of the complete ones."""
    editions, missing = plan(english_folder)
    problems = [f"{name}: no Chinese edition ({LANG}/translations/{Path(name).stem}.po is missing): "
                f"run `{COMMAND} prepare notebooks/{name}`, translate, then `{COMMAND} sync`" for name in missing]
    for edition in editions:
        problems += edition.problems
        po = f"{LANG}/translations/{edition.english.stem}.po"
        if edition.catalogue_state == "unmerged":
            kinds = [re.search(r": (new|changed|dropped)\b", line).group(1) for line in edition.merge_report]
            changes = ", ".join(f"{kinds.count(kind)} {kind}" for kind in ("new", "changed", "dropped")
                                if kind in kinds) or "its header, order or obsolete entries"
            problems.append(f"{po}: not merged with the English ({changes}): run `{COMMAND} sync`")
        elif edition.catalogue_state == "layout":
            problems.append(f"{po}: not written the project's way (wrapped by another tool?): run `{COMMAND} sync`")
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

def write_catalogue(path: Path, catalogue: polib.POFile) -> None:
    """Write a catalogue the project's way (``catalogue_text``), UTF-8."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(catalogue_text(catalogue), encoding="utf-8")


def prepare(english: Path) -> list[str]:
    """Create (or merge) an English notebook's catalogue; return lines saying what is left to translate."""
    english = Path(english)
    path = translation_path(english)
    on_disk = read_catalogue(path) if path.is_file() else new_catalogue(english.name)
    catalogue, report = merge(on_disk, read_notebook(english), english.name)
    write_catalogue(path, catalogue)
    return report


def accept(english: Path, cell_ids: list[str]) -> int:
    """Clear the fuzzy flags (and the older English kept with them) of the entries of ``cell_ids``, once a
    translator has checked them (``code comment`` names the comments). Returns how many entries changed."""
    english = Path(english)
    path = translation_path(english)
    catalogue, _ = merge(read_catalogue(path), read_notebook(english), english.name)
    known = {e.msgctxt for e in catalogue}
    unknown = [cell_id for cell_id in cell_ids if cell_id not in known]
    if unknown:
        raise ValueError(f"{english.name} has no translated text in {', '.join(map(repr, unknown))}; "
                         f"`{COMMAND} sync --check` names the fuzzy entries.")
    changed = 0
    for entry in catalogue:
        if entry.msgctxt in cell_ids and "fuzzy" in entry.flags:
            if not entry.msgstr:
                raise ValueError(f"cell {entry.msgctxt}: {first_line(entry.msgid)!r} has no Chinese yet: "
                                 "translate it first.")
            entry.flags.remove("fuzzy")
            entry.previous_msgid = entry.previous_msgctxt = None
            changed += 1
    write_catalogue(path, catalogue)
    return changed


def status_lines(english_folder: Path = NOTEBOOKS_DIR) -> list[str]:
    """One line per English notebook: translated paragraphs and comments, fuzzy entries, the Chinese file's state."""
    editions, _ = plan(english_folder)
    by_name = {e.english.name: e for e in editions}
    lines = [f"{'notebook':<40} {'paragraphs':>10} {'comments':>9} {'fuzzy':>6}  Chinese notebook"]
    for path in list_notebooks(english_folder):
        edition = by_name.get(path.name)
        if edition is None:
            lines.append(f"{path.name:<40} {'-':>10} {'-':>9} {'-':>6}  no catalogue yet")
            continue
        counts = {(kind, state): 0 for kind in ("markdown", "comment") for state in ("ok", "missing", "fuzzy")}
        for entry in edition.catalogue:
            counts["comment" if entry.msgctxt == COMMENT_CONTEXT else "markdown", entry_state(entry)] += 1
        total = {kind: sum(v for (k, _), v in counts.items() if k == kind) for kind in ("markdown", "comment")}
        fuzzy = counts["markdown", "fuzzy"] + counts["comment", "fuzzy"]
        state = "up to date" if up_to_date(edition) else ("out of date" if edition.target.is_file() else "not written")
        paragraphs_done = f"{counts['markdown', 'ok']}/{total['markdown']}"
        comments_done = f"{counts['comment', 'ok']}/{total['comment']}"
        lines.append(f"{path.name:<40} {paragraphs_done:>10} {comments_done:>9} {fuzzy:>6}  {state}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.maintain.translations {sync [--check], status, prepare NB, accept NB CELL...}``."""
    import argparse

    parser = argparse.ArgumentParser(prog=COMMAND, description="The Chinese edition of the notebooks "
                                     "(notebooks/zh): generated from the English ones plus gettext catalogues.")
    folder = argparse.ArgumentParser(add_help=False)
    folder.add_argument("--folder", type=Path, default=NOTEBOOKS_DIR, help="English notebooks (default: notebooks/)")
    commands = parser.add_subparsers(dest="command", required=True)
    sync = commands.add_parser("sync", parents=[folder], help="merge notebooks/zh/translations/*.po with the "
                               "English (new entries empty, changed ones fuzzy) and write notebooks/zh/NN_name.ipynb")
    sync.add_argument("--check", action="store_true", help="change nothing; exit 1 naming whatever is untranslated, "
                      "fuzzy, not merged, out of date or not in the house style")
    commands.add_parser("status", parents=[folder], help="translated paragraphs and comments per notebook")
    prep = commands.add_parser("prepare", help="create the catalogue of a notebook that has none (empty entries)")
    prep.add_argument("notebooks", nargs="+", type=Path, help="English notebooks, e.g. notebooks/14_x.ipynb")
    acc = commands.add_parser("accept", help="clear the fuzzy flags of these cells' entries, once checked")
    acc.add_argument("notebook", type=Path)
    acc.add_argument("cells", nargs="+", help=f"cell ids (or '{COMMENT_CONTEXT}')")
    args = parser.parse_args(argv)
    try:
        if args.command == "prepare":
            for english in args.notebooks:
                if not Path(english).is_file() or Path(english).parent.name == LANG:
                    parser.error(f"{english}: give an English notebook, e.g. notebooks/01_monocular_vs_stereo.ipynb")
                print(f"{translation_path(english)}:")
                print("\n".join(f"  {line}" for line in prepare(english)) or "  nothing new to translate")
            return 0
        if args.command == "accept":
            changed = accept(args.notebook, args.cells)
            print(f"{translation_path(args.notebook)}: cleared the fuzzy flag of {changed} entries")
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
            if edition.catalogue_state != "current":
                write_catalogue(translation_path(edition.english), edition.catalogue)
                print(f"wrote {LANG}/translations/{edition.english.stem}.po"
                      + "".join(f"\n  {line}" for line in edition.merge_report))
            if not up_to_date(edition):
                edition.target.parent.mkdir(parents=True, exist_ok=True)
                write_notebook(edition.target, edition.notebook)
                print(f"wrote {LANG}/{edition.target.name}" + (f" ({len(edition.problems)} pending)"
                                                                 if edition.problems else ""))
        if missing:
            print(f"no catalogue yet: {', '.join(missing)}")
        return 0
    except ValueError as err:  # a malformed notebook or catalogue, an unknown cell id
        print(f"error: {err}")
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
