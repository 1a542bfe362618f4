"""The Chinese edition (helpers.maintain.translations), checked statically instead of run a second time: both
editions match cell by cell (code token for token, comments aside; outputs and metadata copied), every English
paragraph has a current translation in the notebook's gettext catalogue, the Chinese notebooks are exactly what
`sync` writes, the generated cells are localised, and the house style holds in Chinese.

The mutation tests work on temporary copies of notebook 01 (English, Chinese, catalogue) and the English
notebook 02, which has no Chinese twin in the copy.
"""

import copy
import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import polib
import pytest

from helpers.maintain import translations as tr
from helpers.maintain.notebook_files import list_notebooks, write_notebook
from helpers.maintain.translations import (check_problems, edition_differences, main, paragraphs, strip_comments,
                                           structure_problems, translate_comments, wrap_field)
from helpers.paths import NOTEBOOKS_DIR, PROJECT_ROOT

NB01 = "01_monocular_vs_stereo.ipynb"
NB02 = "02_depth_pipeline.ipynb"
PO01 = "01_monocular_vs_stereo.po"
SYNC = "run `python -m helpers.maintain.translations sync`"
MISSING_02 = (f"{NB02}: no Chinese edition (zh/translations/02_depth_pipeline.po is missing): run "
              f"`python -m helpers.maintain.translations prepare notebooks/{NB02}`, translate, then "
              "`python -m helpers.maintain.translations sync`")
OUT_OF_DATE_01 = f"zh/{NB01}: out of date: {SYNC}"
FUZZY = "fuzzy (the English changed: check msgstr against it, then clear the fuzzy flag)"


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


def _entry(catalogue, msgctxt, start):
    return next(e for e in catalogue if e.msgctxt == msgctxt and e.msgid.startswith(start))


# --- the real collection -----------------------------------------------------------------------------------

def test_every_chinese_notebook_is_complete_in_sync_and_in_the_house_style():
    """Every English paragraph and comment has a current translation, every catalogue is merged with its English
    notebook, and every Chinese notebook is exactly what `sync` writes."""
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


def test_every_catalogue_is_a_gettext_file_with_one_entry_per_paragraph_and_comment():
    """polib (as Poedit, Weblate and Crowdin) reads each catalogue; its entries are the English notebook's
    paragraphs and comments, each once, all translated, none fuzzy, no line wider than 79 columns but an
    unbreakable one (a long URL)."""
    for english in list_notebooks(NOTEBOOKS_DIR):
        path = tr.translation_path(english)
        catalogue = polib.pofile(str(path))
        assert catalogue.metadata["Language"] == "zh_CN"
        assert catalogue.metadata["Content-Type"] == "text/plain; charset=UTF-8"
        wanted = [(ctx, msgid) for ctx, msgid, _ in tr.template(_load(english), english.name)]
        assert [(e.msgctxt, e.msgid) for e in catalogue] == wanted
        assert catalogue.percent_translated() == 100 and catalogue.fuzzy_entries() == []
        for line in path.read_text(encoding="utf-8").splitlines():
            columns = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
            if columns > 79:  # only a piece that cannot be broken: a long address, a long path
                text = polib.unescape(line[line.index('"') + 1:-1])
                assert line.endswith('"') and len(wrap_field(text, 1)) == 1, line


def test_the_pilot_translation_keeps_the_seed_terms():
    """Notebook 01 says 视差, 度量深度, 相对深度, 双目或多目 as the Chinese guide does, and quotes its table."""
    text = "\n".join("".join(c["source"]) for c in _load(NOTEBOOKS_DIR / "zh" / NB01)["cells"]
                     if c["cell_type"] == "markdown")
    for term in ("视差", "度量深度", "相对深度", "绝对深度", "双目或多目深度估计", "学习目标", "前置知识", "## 总结",
                 "## 练习", "<summary>解答</summary>", "（简单）", "（中等）", "（困难）"):
        assert term in text, term
    assert "| **挑战** | 尺度模糊性：无法直接提供绝对深度信息" in text  # the seed's table, quoted
    assert tr.BANNER_TITLE not in text


# --- paragraphs and the file's lines -----------------------------------------------------------------------

def test_a_markdown_cell_is_translated_paragraph_by_paragraph_a_fenced_block_kept_whole():
    text = "# Title\n\nOne paragraph,\ntwo lines.\n\n```\nfolder/\n\n  file\n```\n\n- a list\n- of two"
    assert paragraphs(text) == ["# Title", "One paragraph,\ntwo lines.", "```\nfolder/\n\n  file\n```",
                                "- a list\n- of two"]
    assert "\n\n".join(paragraphs(text)) == text
    assert paragraphs("a\n\n\n\nb\n") == ["a", "", "b\n"]  # extra blank lines survive the round trip


def test_long_lines_wrap_at_79_columns_after_spaces_and_between_chinese_characters():
    english = "The relative head ends in a ReLU and predicts disparity without a unit; a metric head ends in a sigmoid."
    assert wrap_field(english, 40) == ["The relative head ends in a ReLU and ", "predicts disparity without a unit; a ",
                                       "metric head ends in a sigmoid."]
    chinese = "相对深度的预测头以 ReLU 结尾，预测没有单位的视差；度量深度的预测头以 sigmoid 结尾。"
    pieces = wrap_field(chinese, 30)  # a Chinese character is two columns wide; no line starts with ，or ；
    assert pieces == ["相对深度的预测头以 ReLU 结尾，", "预测没有单位的视差；度量深度的", "预测头以 sigmoid 结尾。"]
    assert wrap_field("line one\nline two", 79) == ["line one\n", "line two"]  # each line of the text on its own
    entry = tr.Entry(msgctxt="abc", msgid=english, msgstr=chinese)
    assert str(entry).splitlines()[1:3] == ['msgid ""', '"The relative head ends in a ReLU and predicts disparity '
                                                        'without a unit; a "']
    assert polib.pofile(f'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n{entry}\n')[0].msgstr \
        == chinese


def test_merge_keeps_translations_makes_changed_text_fuzzy_and_drops_what_is_gone():
    """msgmerge's rules: an entry whose English is unchanged stays; a changed paragraph starts from the most similar
    vanished one of its cell (fuzzy, the older English as #| msgid); a paragraph moved to another cell keeps its
    translation, fuzzy, with the old cell as #| msgctxt; text unlike anything before gets an empty entry."""
    old = tr.new_catalogue("x.ipynb")
    for ctx, msgid, msgstr in [("a", "Depth maps tell how far each pixel is.", "深度图给出每个像素的距离。"),
                               ("a", "A paragraph that goes away.", "将被删除的段落。"),
                               ("a", "## Summary", "## 总结"),
                               ("b", "Stereo measures depth by triangulation.", "双目通过三角测量得到深度。")]:
        old.append(tr.Entry(msgctxt=ctx, msgid=msgid, msgstr=msgstr))
    english = {"cells": [
        {"cell_type": "markdown", "id": "a", "metadata": {},
         "source": "## Summary\n\nDepth maps tell how far away each pixel is.\n\nSomething entirely new here."},
        {"cell_type": "markdown", "id": "c", "metadata": {}, "source": "Stereo measures depth by triangulation."}]}
    merged, report = tr.merge(old, english, "x.ipynb")
    assert [(e.msgctxt, e.msgid, e.msgstr, e.flags, e.previous_msgctxt, e.previous_msgid) for e in merged] == [
        ("a", "## Summary", "## 总结", [], None, None),
        ("a", "Depth maps tell how far away each pixel is.", "深度图给出每个像素的距离。", ["fuzzy"], None,
         "Depth maps tell how far each pixel is."),
        ("a", "Something entirely new here.", "", [], None, None),
        ("c", "Stereo measures depth by triangulation.", "双目通过三角测量得到深度。", ["fuzzy"], "b",
         "Stereo measures depth by triangulation."),
    ]
    assert report == ["cell a: changed, fuzzy until checked: 'Depth maps tell how far away each pixel is.'",
                      "cell a: new, to translate: 'Something entirely new here.'",
                      "cell c: changed, fuzzy until checked: 'Stereo measures depth by triangulation.'",
                      "cell a: dropped (no longer in the English): 'A paragraph that goes away.'"]
    again, report = tr.merge(merged, english, "x.ipynb")  # merging twice changes nothing
    assert tr.same_catalogue(again, merged) and report == []


# --- temporary copies --------------------------------------------------------------------------------------

@pytest.fixture
def project(tmp_path):
    """``tmp/notebooks`` with English 01 and 02, Chinese 01 and its catalogue; 02 has no twin.

    The copied zh/01 links to the real Chinese 02; synced once here, its 下一篇 leads to the English 02 instead.
    """
    english = tmp_path / "notebooks"
    (english / "zh" / "translations").mkdir(parents=True)
    for name in (NB01, NB02):
        shutil.copy(NOTEBOOKS_DIR / name, english / name)
    shutil.copy(NOTEBOOKS_DIR / "zh" / NB01, english / "zh" / NB01)
    shutil.copy(NOTEBOOKS_DIR / "zh" / "translations" / PO01, english / "zh" / "translations")
    assert main(["sync", "--folder", str(english)]) == 0
    return english


def test_the_copy_reports_only_the_missing_twin(project, capsys):
    assert check_problems(project) == [MISSING_02]
    assert main(["sync", "--check", "--folder", str(project)]) == 1
    assert capsys.readouterr().out == MISSING_02 + "\n"


def test_an_english_change_makes_a_fuzzy_entry_and_a_new_one_until_the_translator_follows(project, capsys):
    english = project / NB01
    po = project / "zh" / "translations" / PO01
    before = po.read_text(encoding="utf-8")
    _edit(english, "1cdcf20c", lambda text: text.replace("From disparity", "From Disparity") + "\n\nA new sentence.")
    assert check_problems(project) == [
        MISSING_02,
        f"{NB01}: cell 1cdcf20c paragraph 1: {FUZZY}: '## 3. From Disparity to metric depth'",
        f"{NB01}: cell 1cdcf20c paragraph 5: not translated: 'A new sentence.'",
        f"zh/translations/{PO01}: not merged with the English (1 new, 1 changed): {SYNC}",
        OUT_OF_DATE_01,
    ]
    assert po.read_text(encoding="utf-8") == before  # --check changes nothing
    capsys.readouterr()
    assert main(["sync", "--folder", str(project)]) == 0
    assert capsys.readouterr().out.splitlines()[:3] == [
        f"wrote zh/translations/{PO01}",
        "  cell 1cdcf20c: changed, fuzzy until checked: '## 3. From Disparity to metric depth'",
        "  cell 1cdcf20c: new, to translate: 'A new sentence.'"]
    # the catalogue now holds a standard fuzzy entry (the old translation, the English it translated) and an
    # empty one, in the cell's order; the rest of the file is unchanged
    text = po.read_text(encoding="utf-8")
    assert ('#, fuzzy\n#| msgid "## 3. From disparity to metric depth"\nmsgctxt "1cdcf20c"\n'
            'msgid "## 3. From Disparity to metric depth"\nmsgstr "## 3. 从视差到度量深度"\n') in text
    assert 'msgctxt "1cdcf20c"\nmsgid "A new sentence."\nmsgstr ""\n' in text
    assert len(text.splitlines()) == len(before.splitlines()) + 6
    # sync writes each pending paragraph's English under the visible banner, never the old Chinese
    shown = "".join(_cell(_load(project / "zh" / NB01), "1cdcf20c")["source"])
    assert shown.startswith("> **待翻译 (translation pending)**：英文原文已修改，中文译文待更新，下面暂时显示英文原文。\n\n"
                            "## 3. From Disparity to metric depth\n\n两台焦距为")
    assert shown.endswith("\n\n> **待翻译 (translation pending)**：尚无中文译文，下面暂时显示英文原文。\n\nA new sentence.")
    # the translator, in a text editor: one msgstr written, one fuzzy flag (and its #| line) removed
    text = text.replace('msgid "A new sentence."\nmsgstr ""', 'msgid "A new sentence."\nmsgstr "新增的一句。"')
    po.write_text(text.replace('#, fuzzy\n#| msgid "## 3. From disparity to metric depth"\n', ""), encoding="utf-8")
    assert check_problems(project) == [MISSING_02, OUT_OF_DATE_01]
    assert main(["sync", "--folder", str(project)]) == 0
    assert check_problems(project) == [MISSING_02]
    shown = "".join(_cell(_load(project / "zh" / NB01), "1cdcf20c")["source"])
    assert shown.startswith("## 3. 从视差到度量深度\n\n") and shown.endswith("\n\n新增的一句。")


def test_accept_clears_the_fuzzy_flags_of_a_cell(project, capsys):
    _edit(project / NB01, "1cdcf20c", lambda text: text.replace("From disparity", "From Disparity"))
    main(["sync", "--folder", str(project)])
    catalogue = polib.pofile(str(project / "zh" / "translations" / PO01))
    assert _entry(catalogue, "1cdcf20c", "## 3.").previous_msgid == "## 3. From disparity to metric depth"
    assert main(["accept", str(project / NB01), "1cdcf20c"]) == 0
    assert capsys.readouterr().out.endswith("cleared the fuzzy flag of 1 entries\n")
    entry = _entry(polib.pofile(str(project / "zh" / "translations" / PO01)), "1cdcf20c", "## 3.")
    assert (entry.flags, entry.previous_msgid, entry.msgstr) == ([], None, "## 3. 从视差到度量深度")
    assert check_problems(project) == [MISSING_02, OUT_OF_DATE_01]
    assert main(["accept", str(project / NB01), "nosuchcell"]) == 2


def test_a_missing_translation_shows_english_under_the_banner_and_fails(project):
    po = project / "zh" / "translations" / PO01
    catalogue = polib.pofile(str(po))
    _entry(catalogue, "dddd140d", "A check by numbers").msgstr = ""
    catalogue.save()  # polib's own wrapping, as another tool would write it
    assert check_problems(project) == [
        MISSING_02,
        f"{NB01}: cell dddd140d paragraph 1: not translated: 'A check by numbers: an 11×11 patch around the pixel in "
        "the left view should loo…'",
        f"zh/translations/{PO01}: not written the project's way (wrapped by another tool?): {SYNC}",
        OUT_OF_DATE_01,
    ]
    main(["sync", "--folder", str(project)])
    shown = "".join(_cell(_load(project / "zh" / NB01), "dddd140d")["source"])
    assert shown.startswith("> **待翻译 (translation pending)**：尚无中文译文，下面暂时显示英文原文。\n\nA check by numbers")
    # the English changes before anyone translated it: the entry follows the new English, still empty
    _edit(project / NB01, "dddd140d", lambda text: "Changed: " + text)
    main(["sync", "--folder", str(project)])
    entry = _entry(polib.pofile(str(po)), "dddd140d", "Changed: A check by numbers")
    assert (entry.msgstr, entry.flags) == ("", [])


def test_another_tools_wrapping_is_rewritten_the_projects_way_without_changing_a_word(project):
    po = project / "zh" / "translations" / PO01
    before = po.read_text(encoding="utf-8")
    catalogue = polib.pofile(str(po))
    catalogue.metadata["X-Generator"] = "Poedit 3.5"
    catalogue.save()
    assert po.read_text(encoding="utf-8") != before
    assert check_problems(project) == [
        MISSING_02, f"zh/translations/{PO01}: not written the project's way (wrapped by another tool?): {SYNC}"]
    main(["sync", "--folder", str(project)])
    assert check_problems(project) == [MISSING_02]
    after = po.read_text(encoding="utf-8")
    assert after.replace('"X-Generator: Poedit 3.5\\n"\n', "") == before  # the tool's header line is kept


def test_an_english_code_change_alone_is_caught(project):
    _edit(project / NB01, "1e39ccec", lambda text: text.replace("cal = pair.calibration", "cal = pair.calibration  "
                                                                "# a new comment\nextra = 1"))
    assert check_problems(project) == [
        MISSING_02,
        f"{NB01}: cell 1e39ccec comment not translated: 'a new comment'",
        f"zh/translations/{PO01}: not merged with the English (1 new): {SYNC}",
        OUT_OF_DATE_01,
    ]
    assert edition_differences(_load(project / NB01), _load(project / "zh" / NB01)) == [
        "cell 1e39ccec: code differs from the English (comments aside), line 3: 'gt_disparity' where the English has "
        "'extra'"]


def test_a_chinese_code_change_of_one_token_is_caught(project):
    _edit(project / "zh" / NB01, "00d8c976", lambda text: text.replace("1000.0", "1000"))
    assert check_problems(project) == [MISSING_02, OUT_OF_DATE_01]
    assert edition_differences(_load(project / NB01), _load(project / "zh" / NB01)) == [
        "cell 00d8c976: code differs from the English (comments aside), line 1: '1000' where the English has '1000.0'"]
    main(["sync", "--folder", str(project)])  # sync puts the English code back
    assert check_problems(project) == [MISSING_02]
    assert edition_differences(_load(project / NB01), _load(project / "zh" / NB01)) == []


def test_a_chinese_code_cell_that_does_not_parse_is_caught(project):
    _edit(project / "zh" / NB01, "00d8c976", lambda text: text.replace("  # 像素、米、像素", "  像素、米、像素"))
    assert edition_differences(_load(project / NB01), _load(project / "zh" / NB01)) == [
        "cell 00d8c976: the Chinese code does not parse (SyntaxError: invalid character '、' (U+3001) (<unknown>, "
        "line 1))"]


def test_a_chinese_comment_edited_by_hand_is_out_of_date_but_the_code_still_matches(project):
    _edit(project / "zh" / NB01, "00d8c976", lambda text: text.replace("像素、米、像素", "随便改的注释"))
    assert check_problems(project) == [MISSING_02, OUT_OF_DATE_01]
    assert edition_differences(_load(project / NB01), _load(project / "zh" / NB01)) == []


def test_outputs_metadata_order_and_types_are_compared(project):
    english, chinese = _load(project / NB01), _load(project / "zh" / NB01)
    changed = copy.deepcopy(chinese)
    _cell(changed, "92506e0d")["outputs"][0]["text"] = ["something else\n"]
    assert edition_differences(english, changed) == ["cell 92506e0d: stored outputs differ from the English"]
    changed = copy.deepcopy(chinese)
    _cell(changed, "92506e0d")["metadata"]["collapsed"] = True
    changed["metadata"]["language_info"] = {"name": "python", "version": "0"}
    assert edition_differences(english, changed) == ["notebook metadata differs from the English",
                                                      "cell 92506e0d: metadata differs from the English"]
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


def test_a_broken_catalogue_is_named(project, capsys):
    po = project / "zh" / "translations" / PO01
    broken = po.read_text(encoding="utf-8").replace('msgctxt "dddd140d"', 'nonsense\nmsgctxt "dddd140d"')
    po.write_text(broken, encoding="utf-8")
    assert main(["sync", "--check", "--folder", str(project)]) == 2
    assert f"{PO01} is not a valid .po file (Syntax error in po file" in capsys.readouterr().out
    po.write_text('msgid ""\nmsgstr ""\n\nmsgid "a"\nmsgstr "甲"\n', encoding="utf-8")  # no cell id
    assert main(["sync", "--check", "--folder", str(project)]) == 2
    assert capsys.readouterr().out.endswith(f"{PO01}: the entry at line 4 has no msgctxt (a cell id or \"code "
                                            "comment\"); fix it (Poedit names the line) or restore it with git.\n")


def test_status_counts_translated_paragraphs_and_comments(project, capsys):
    assert main(["status", "--folder", str(project)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == [NB01, "53/53", "22/22", "0", "up", "to", "date"]
    assert lines[2].split() == [NB02, "-", "-", "-", "no", "catalogue", "yet"]


def test_prepare_starts_the_catalogue_of_a_new_notebook(project, capsys):
    assert main(["prepare", str(project / NB02)]) == 0
    catalogue = polib.pofile(str(project / "zh" / "translations" / "02_depth_pipeline.po"))
    wanted = tr.template(_load(project / NB02), NB02)
    assert [(e.msgctxt, e.msgid, e.msgstr) for e in catalogue] == [(ctx, msgid, "") for ctx, msgid, _ in wanted]
    assert capsys.readouterr().out.count(": new, to translate: ") == len(wanted)


# a sitecustomize that makes every numerical package unimportable, as on a translator's machine without them
BLOCKER = """
import importlib.abc, sys
class NoNumerics(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"numpy", "torch", "PIL", "matplotlib", "cv2", "transformers", "scipy"}:
            raise ImportError(f"{name} is not installed here")
sys.meta_path.insert(0, NoNumerics())
"""


def test_one_sentence_is_corrected_and_synced_without_numerical_packages(project, tmp_path):
    """A translator's five minutes: edit one msgstr, run sync, in an environment where numpy, torch, PIL,
    matplotlib and cv2 cannot be imported (the standard library and polib only)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(PROJECT_ROOT)]))
    probe = subprocess.run([sys.executable, "-c", "import numpy"], env=env, capture_output=True, text=True)
    assert "numpy is not installed here" in probe.stderr  # the blocker works
    po = project / "zh" / "translations" / PO01
    po.write_text(po.read_text(encoding="utf-8").replace('msgstr "## 3. 从视差到度量深度"', 'msgstr "## 3. 由视差求度量深度"'),
                  encoding="utf-8")
    command = [sys.executable, "-m", "helpers.maintain.translations"]
    done = subprocess.run(command + ["sync", "--folder", str(project)], env=env, capture_output=True, text=True,
                          timeout=120)
    assert (done.returncode, done.stdout) == (0, f"wrote zh/{NB01}\nno catalogue yet: {NB02}\n"), done.stderr
    assert "".join(_cell(_load(project / "zh" / NB01), "1cdcf20c")["source"]).startswith("## 3. 由视差求度量深度\n\n")
    check = subprocess.run(command + ["sync", "--check", "--folder", str(project)], env=env, capture_output=True,
                           text=True, timeout=120)
    assert (check.returncode, check.stdout) == (1, MISSING_02 + "\n"), check.stderr


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
    for command in ("python -m helpers.classroom.prefetch", "python -m helpers.classroom.previews --lang zh"):
        assert command in text, command
