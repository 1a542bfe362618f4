"""The Chinese edition (helpers.maintain.translations): both editions match cell by cell, stale or missing
translations are named, the generated cells are localised, and the house style holds in Chinese.

The mutation tests work on temporary copies of notebook 01 (English, Chinese, translation file) and the
English notebook 02, which has no Chinese twin in the copy.
"""

import copy
import json
import re
import shutil
from pathlib import Path

import pytest

from helpers.maintain import translations as tr
from helpers.maintain.notebook_files import list_notebooks, write_notebook
from helpers.maintain.translations import (check_problems, edition_differences, main, strip_comments,
                                           structure_problems, translate_comments)
from helpers.paths import NOTEBOOKS_DIR

NB01 = "01_monocular_vs_stereo.ipynb"
NB02 = "02_depth_pipeline.ipynb"
SYNC = "run `python -m helpers.maintain.translations sync`"
MISSING_02 = (f"{NB02}: no Chinese edition (zh/translations/02_depth_pipeline.json is missing): run "
              f"`python -m helpers.maintain.translations prepare notebooks/{NB02}`, translate, then "
              "`python -m helpers.maintain.translations sync`")
OUT_OF_DATE_01 = f"zh/{NB01}: out of date: {SYNC}"


def _load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def _cell(notebook, cell_id):
    return next(c for c in notebook["cells"] if c.get("id") == cell_id)


def _edit(path, cell_id, change):
    """Apply ``change(text) -> text`` to one cell of a notebook file, keeping everything else."""
    notebook = _load(path)
    cell = _cell(notebook, cell_id)
    cell["source"] = change("".join(cell["source"])).splitlines(keepends=True)
    write_notebook(path, notebook)


# --- the real collection -----------------------------------------------------------------------------------

def test_every_chinese_notebook_is_complete_in_sync_and_in_the_house_style():
    problems = [p for p in check_problems() if "no Chinese edition" not in p]
    assert problems == [], "\n".join(problems)
    assert tr.stray_notebooks() == []


@pytest.mark.parametrize("chinese", list_notebooks(NOTEBOOKS_DIR / "zh"), ids=lambda p: p.name)
def test_the_two_editions_match_cell_by_cell(chinese):
    english = _load(NOTEBOOKS_DIR / chinese.name)
    assert edition_differences(english, _load(chinese)) == []


def test_every_english_notebook_has_a_chinese_twin():
    missing = [p for p in check_problems() if "no Chinese edition" in p]
    assert missing == [], "\n".join(missing)


def test_the_real_chinese_edition_is_complete_and_in_sync():
    assert check_problems() == []


def test_the_pilot_translation_keeps_the_seed_terms():
    """Notebook 01 says 视差, 度量深度, 相对深度, 双目或多目 as the Chinese guide does, and quotes its table."""
    text = "\n".join("".join(c["source"]) for c in _load(NOTEBOOKS_DIR / "zh" / NB01)["cells"]
                     if c["cell_type"] == "markdown")
    for term in ("视差", "度量深度", "相对深度", "绝对深度", "双目或多目深度估计", "学习目标", "前置知识", "## 总结",
                 "## 练习", "<summary>解答</summary>", "（简单）", "（中等）", "（困难）"):
        assert term in text, term
    assert "| **挑战** | 尺度模糊性：无法直接提供绝对深度信息" in text  # the seed's table, quoted
    assert tr.BANNER_TITLE not in text


# --- temporary copies --------------------------------------------------------------------------------------

@pytest.fixture
def project(tmp_path):
    """``tmp/notebooks`` with English 01 and 02, Chinese 01 and its translation file; 02 has no twin.

    The copied zh/01 links to the real Chinese 02; synced once here, its 下一篇 leads to the English 02 instead.
    """
    english = tmp_path / "notebooks"
    (english / "zh" / "translations").mkdir(parents=True)
    for name in (NB01, NB02):
        shutil.copy(NOTEBOOKS_DIR / name, english / name)
    shutil.copy(NOTEBOOKS_DIR / "zh" / NB01, english / "zh" / NB01)
    shutil.copy(NOTEBOOKS_DIR / "zh" / "translations" / "01_monocular_vs_stereo.json",
                english / "zh" / "translations")
    assert main(["sync", "--folder", str(english)]) == 0
    return english


def test_the_copy_reports_only_the_missing_twin(project, capsys):
    assert check_problems(project) == [MISSING_02]
    assert main(["sync", "--check", "--folder", str(project)]) == 1
    assert capsys.readouterr().out == MISSING_02 + "\n"


def test_an_english_markdown_change_alone_names_the_stale_cell_until_the_translation_follows(project, capsys):
    english = project / NB01
    _edit(english, "1cdcf20c", lambda text: text + "\n\nA new English sentence.")
    assert check_problems(project) == [
        MISSING_02,
        f"{NB01}: cell 1cdcf20c translation is stale (the English text changed): '## 3. From disparity to metric depth'",
        OUT_OF_DATE_01,
    ]
    # sync writes the current English under the visible banner, never the old Chinese, never silently English
    assert main(["sync", "--folder", str(project)]) == 0
    shown = "".join(_cell(_load(project / "zh" / NB01), "1cdcf20c")["source"])
    assert shown.startswith("> **待翻译 (translation pending)**：英文原文已修改，中文译文待更新，下面暂时显示英文原文。\n\n"
                            "## 3. From disparity to metric depth\n")
    assert shown.endswith("A new English sentence.")
    # prepare shows the translator what changed; after updating zh, accept records the new English
    capsys.readouterr()
    assert main(["prepare", str(english)]) == 0
    report = capsys.readouterr().out
    assert f"accept {english} 1cdcf20c" in report and "+A new English sentence." in report
    path = project / "zh" / "translations" / "01_monocular_vs_stereo.json"
    data = _load(path)
    entry = data["markdown"]["1cdcf20c"]
    assert "".join(entry["en_now"]).endswith("A new English sentence.")
    entry["zh"] = entry["zh"] + ["\n", "\n", "新增的一句中文。"]
    path.write_text(json.dumps(data, ensure_ascii=False))
    assert check_problems(project)[1].startswith(f"{NB01}: cell 1cdcf20c translation is stale")
    assert main(["accept", str(english), "1cdcf20c"]) == 0
    assert check_problems(project) == [MISSING_02, OUT_OF_DATE_01]
    assert main(["sync", "--folder", str(project)]) == 0
    assert check_problems(project) == [MISSING_02]
    assert "".join(_cell(_load(project / "zh" / NB01), "1cdcf20c")["source"]).endswith("新增的一句中文。")


def test_a_missing_translation_shows_english_under_the_banner_and_fails(project):
    path = project / "zh" / "translations" / "01_monocular_vs_stereo.json"
    data = _load(path)
    data["markdown"]["dddd140d"]["zh"] = None
    path.write_text(json.dumps(data, ensure_ascii=False))
    assert check_problems(project) == [
        MISSING_02,
        f"{NB01}: cell dddd140d not translated: 'A check by numbers: an 11×11 patch around the pixel in the left view "
        "should loo…'",
        OUT_OF_DATE_01,
    ]
    main(["sync", "--folder", str(project)])
    shown = "".join(_cell(_load(project / "zh" / NB01), "dddd140d")["source"])
    assert shown.startswith("> **待翻译 (translation pending)**：尚无中文译文，下面暂时显示英文原文。\n\nA check by numbers")
    # the English changes before anyone translated it: prepare offers the current English to translate from
    _edit(project / NB01, "dddd140d", lambda text: "Changed: " + text)
    assert tr.prepare(project / NB01) == ["cell dddd140d: to translate: 'Changed: A check by numbers: an 11×11 patch "
                                          "around the pixel in the left view s…'"]
    entry = _load(path)["markdown"]["dddd140d"]
    assert "".join(entry["en"]).startswith("Changed: ") and entry["en_sha"] == tr.en_sha("".join(entry["en"]))


def test_an_english_code_change_alone_is_caught(project):
    _edit(project / NB01, "1e39ccec", lambda text: text.replace("cal = pair.calibration", "cal = pair.calibration  "
                                                                "# a new comment\nextra = 1"))
    assert check_problems(project) == [
        MISSING_02,
        f"{NB01}: cell 1e39ccec comment not translated: 'a new comment'",
        OUT_OF_DATE_01,
    ]
    assert edition_differences(_load(project / NB01), _load(project / "zh" / NB01)) == [
        "cell 1e39ccec: code differs from the English (comments aside)"]


def test_a_chinese_code_change_alone_is_caught(project):
    _edit(project / "zh" / NB01, "00d8c976", lambda text: text.replace("1000.0", "1000"))
    assert check_problems(project) == [MISSING_02, OUT_OF_DATE_01]
    assert edition_differences(_load(project / NB01), _load(project / "zh" / NB01)) == [
        "cell 00d8c976: code differs from the English (comments aside)"]
    main(["sync", "--folder", str(project)])  # sync puts the English code back
    assert check_problems(project) == [MISSING_02]


def test_a_chinese_comment_edited_by_hand_is_out_of_date_but_the_code_still_matches(project):
    _edit(project / "zh" / NB01, "00d8c976", lambda text: text.replace("像素、米、像素", "随便改的注释"))
    assert check_problems(project) == [MISSING_02, OUT_OF_DATE_01]
    assert edition_differences(_load(project / NB01), _load(project / "zh" / NB01)) == []


def test_outputs_order_and_types_are_compared(project):
    english, chinese = _load(project / NB01), _load(project / "zh" / NB01)
    changed = copy.deepcopy(chinese)
    _cell(changed, "92506e0d")["outputs"][0]["text"] = ["something else\n"]
    assert edition_differences(english, changed) == ["cell 92506e0d: stored outputs differ from the English"]
    swapped = copy.deepcopy(chinese)
    swapped["cells"][5], swapped["cells"][6] = swapped["cells"][6], swapped["cells"][5]
    assert edition_differences(english, swapped) == [
        "cell 5: English is markdown 9ab99292, Chinese is markdown 145a4583 "
        "(cells must match one to one: order, ids, types, tags)"]
    shorter = copy.deepcopy(chinese)
    del shorter["cells"][-2]
    assert edition_differences(english, shorter)[-1] == "English has 36 cells, Chinese has 35"


REPOSITORY = "https://github.com/depth-tutorials/depth-estimation-tutorials"


def test_the_generated_cells_are_localised(project):
    zh = _load(project / "zh" / NB01)
    assert "".join(zh["cells"][1]["source"]).splitlines() == [
        f"<!-- {tr.ZH_NOTE} -->",
        "[![在 Colab 中打开](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google"
        ".com/github/depth-tutorials/depth-estimation-tutorials/blob/main/notebooks/zh/01_monocular_vs_stereo.ipynb)",
        "",
        f"[目录]({REPOSITORY}/blob/main/README.zh.md#笔记本)",
    ]
    assert "".join(zh["cells"][-1]["source"]).splitlines() == [
        f"<!-- {tr.ZH_NOTE} -->", "", "---", "",
        "**下一篇：** [02 — The depth-estimation pipeline（英文版）](../02_depth_pipeline.ipynb) →"]
    colab = "".join(zh["cells"][2]["source"])
    assert colab.splitlines()[0] == ('#@title Colab 设置：获取本项目并安装笔记本所需的软件包（在其他环境中什么也不做） '
                                     '{ display-mode: "form" }')
    assert colab.splitlines()[1] == f"import os, runpy, subprocess, sys  # {tr.ZH_NOTE}"
    assert strip_comments(colab) == strip_comments("".join(_load(project / NB01)["cells"][2]["source"]))
    # once 02 has a twin, the link goes to the Chinese 02 with its Chinese title; the first notebook has no
    # previous link, the last one leads back to the contents
    assert tr.nav_top(("01_a.ipynb", "甲", True), REPOSITORY) == (
        f"← 上一篇：[01 — 甲](01_a.ipynb) · [目录]({REPOSITORY}/blob/main/README.zh.md#笔记本)")
    assert tr.nav_top(("01_a.ipynb", "A", False), REPOSITORY).startswith("← 上一篇：[01 — A（英文版）](../01_a.ipynb) · ")
    assert tr.nav_bottom(("03_c.ipynb", "丙", True), REPOSITORY) == "**下一篇：** [03 — 丙](03_c.ipynb) →"
    assert tr.nav_bottom(None, REPOSITORY) == f"这是最后一篇笔记本：返回[目录]({REPOSITORY}/blob/main/README.zh.md#笔记本)。"


def test_a_generated_comment_without_a_translation_fails_the_check(project, monkeypatch):
    title = next(key for key in tr.GENERATED_COMMENTS if key.startswith("@title"))
    monkeypatch.delitem(tr.GENERATED_COMMENTS, title)
    assert check_problems(project) == [
        MISSING_02,
        f"{NB01}: generated cell colab-setup: comment not translated: {title!r} (add it to GENERATED_COMMENTS in "
        "helpers/maintain/translations.py)",
        OUT_OF_DATE_01,
    ]


def test_a_broken_translation_file_is_named(project, capsys):
    (project / "zh" / "translations" / "01_monocular_vs_stereo.json").write_text("{ not json")
    assert main(["sync", "--check", "--folder", str(project)]) == 2
    assert "01_monocular_vs_stereo.json is not valid JSON" in capsys.readouterr().out


def test_status_counts_translated_cells_and_comments(project, capsys):
    assert main(["status", "--folder", str(project)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == [NB01, "14/14", "19/19", "up", "to", "date"]
    assert lines[2].split() == [NB02, "-", "-", "no", "translation", "file"]


# --- comments ----------------------------------------------------------------------------------------------

def test_only_comments_are_translated_never_code_or_strings():
    source = 'x = "# not a comment"  # the real one\n# NBVAL_CHECK_OUTPUT\n    # indented\ny = 1 # unknown'
    translated, missing = translate_comments(source, {"the real one": "真正的注释", "indented": "缩进的"})
    assert translated == 'x = "# not a comment"  # 真正的注释\n# NBVAL_CHECK_OUTPUT\n    # 缩进的\ny = 1 # unknown'
    assert missing == ["unknown"]
    assert strip_comments(source) == strip_comments(translated) == 'x = "# not a comment"\n\n\ny = 1'


def test_cells_that_do_not_tokenize_fall_back_to_whole_line_comments():
    source = "%timeit f()  # a magic\n# whole line\nx = '''unterminated"
    assert translate_comments(source, {"whole line": "整行"}) == (
        "%timeit f()  # a magic\n# 整行\nx = '''unterminated", [])


# --- the house style in Chinese ----------------------------------------------------------------------------

# where zh 01's next link leads: the Chinese 02 once it exists, the English one until then
NEXT_01 = tr.neighbour_target((NB02, "", (NOTEBOOKS_DIR / "zh" / NB02).is_file()))


def _zh01():
    return _load(NOTEBOOKS_DIR / "zh" / NB01)


def _replace_everywhere(notebook, old, new):
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            cell["source"] = "".join(cell["source"]).replace(old, new)


@pytest.mark.parametrize("old, new, expected", [
    ("**学习目标**", "**What you will learn**", "the opening cell needs a '学习目标' section"),
    ("**前置知识**", "**先修**", "the opening cell needs a '前置知识' section"),
    ("## 总结", "## Summary", "missing a '## 总结' section"),
    ("## 练习", "## 习题", "missing a '## 练习' section"),
    ("（中等）", "(medium)", "exercise 2 ('双目在远处有多精确？') needs a difficulty right after its title: "
                            "（简单）、（中等）或（困难）"),
    ("（简单）", "（困难）", "exercises must rise in difficulty （简单、中等、困难）; found 困难, 中等, 中等, 困难"),
    ("<summary>解答</summary>", "<summary>Solution</summary>",
     "write the solutions' summary as <summary>解答</summary>, not Solution"),
    (f"]({NEXT_01})", "](elsewhere.ipynb)", f"needs exactly one generated link to the next notebook, {NEXT_01}, in "
     "the nav-bottom cell (found 0 at the top, 0 at the bottom): run `python -m helpers.maintain.translations sync`"),
])
def test_each_chinese_heading_rule_catches_its_breakage(old, new, expected):
    assert structure_problems(_zh01(), NEXT_01) == []
    notebook = _zh01()
    _replace_everywhere(notebook, old, new)
    assert expected in structure_problems(notebook, NEXT_01)


def test_relative_links_are_checked_from_the_chinese_folder():
    notebook = _zh01()
    _cell(notebook, "9ab99292")["source"] = "见 [数据说明](../data/README.md) 与 [下一篇](02_depth_pipeline.ipynb)"
    assert tr.link_problems(notebook, NOTEBOOKS_DIR / "zh", NOTEBOOKS_DIR) == [
        "cell 9ab99292 links to ../data/README.md, which does not exist (links are relative to notebooks/zh/)"]
    _cell(notebook, "9ab99292")["source"] = "见 [数据说明](../../data/README.md)"
    assert tr.link_problems(notebook, NOTEBOOKS_DIR / "zh", NOTEBOOKS_DIR) == []


# --- previews of the Chinese edition -----------------------------------------------------------------------

def test_previews_lang_zh_renders_the_chinese_notebooks_into_their_own_folder(monkeypatch, capsys):
    from helpers.classroom import previews

    ran = []

    def fake_preview(path, out, timeout):
        ran.append((path, out))
        return previews.Outcome(path, out / f"{path.stem}.html", 0.0)

    monkeypatch.setattr(previews, "preview", fake_preview)
    assert previews.main(["--lang", "zh"]) == 0
    chinese = list_notebooks(NOTEBOOKS_DIR / "zh")
    assert chinese and ran == [(path, previews.DEFAULT_OUT / "zh") for path in chinese]
    ran.clear()
    assert previews.main(["--lang", "zh", "--out", "handouts"]) == 0
    assert {out for _, out in ran} == {Path("handouts")}
    ran.clear()
    assert previews.main([]) == 0  # English by default, as before
    assert ran == [(path, previews.DEFAULT_OUT) for path in list_notebooks(NOTEBOOKS_DIR)]


# --- README.zh.md ------------------------------------------------------------------------------------------

def test_the_contents_link_leads_to_readme_zh_whose_table_lists_every_chinese_notebook():
    file, anchor = tr.CONTENTS_ANCHOR.split("#")
    text = (NOTEBOOKS_DIR.parent / file).read_text(encoding="utf-8")
    assert f"\n## {anchor}\n" in text  # GitHub's anchor of a Chinese heading is the heading itself
    table = text.split(f"\n## {anchor}\n", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"\]\(([^)]+)\)", table) == [f"notebooks/zh/{p.name}" for p in list_notebooks(NOTEBOOKS_DIR)]
    for command in ("python -m helpers.classroom.prefetch", "python -m helpers.classroom.previews --lang zh",
                    "python -m helpers.maintain.generated_cells sync", "python -m helpers.maintain.translations sync"):
        assert command in text, command
