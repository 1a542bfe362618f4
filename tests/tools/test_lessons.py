"""The lesson rules: no project talk, stored figures from real data only, short prose (helpers.maintain.lessons)."""

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from helpers.maintain.lessons import (
    PROJECT_TALK, REAL_DATA_FIGURE, figure_problems, lesson_problems, markdown_words, model_derived_names,
)
from helpers.maintain.notebook_files import cell_source, list_notebooks, read_notebook
from helpers.maintain.refresh import strip_unchecked_outputs
from helpers.maintain.translations import zh_folder
from helpers.paths import NOTEBOOKS_DIR

def _png(size=(40, 30)) -> str:
    """A real RGBA PNG (a colour ramp, half transparent), base64 as notebooks store it."""
    image = Image.fromarray(np.dstack([np.tile(np.arange(size[0], dtype=np.uint8) * 6, (size[1], 1))] * 3
                                      + [np.full(size[::-1], 128, np.uint8)]), "RGBA")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode("ascii")


PNG = {"image/png": _png(), "text/plain": "<Figure size 640x480 with 1 Axes>"}


def _code(source, tagged=False, picture=False):
    cell = {"cell_type": "code", "metadata": {"tags": [REAL_DATA_FIGURE]} if tagged else {}, "source": source,
            "outputs": [], "execution_count": None}
    if picture:
        cell["outputs"] = [{"output_type": "display_data", "data": dict(PNG), "metadata": {}}]
    return cell


@pytest.mark.parametrize("phrase", [
    "measured once on this project's machine", "Under the tests we skip this", "a review of this notebook measured",
    "(24 Nov 2026, not recomputed here)", "the speed targets", "print('NOT met')", "the test machine",
    "This project cannot reach the Hub", "measured on 25 November 2026", "本项目的测试机上", "速度目标",
    "2026 年 11 月测得",
])
def test_project_talk_is_found(phrase):
    assert PROJECT_TALK.search(phrase), phrase


@pytest.mark.parametrize("phrase", [
    "the test image", "a t-test", "not met by a stand-in? no: the numbers mean nothing", "targets the learner",
    "Depth Anything V2 (2024)",
])
def test_lesson_phrases_are_not_project_talk(phrase):
    found = PROJECT_TALK.search(phrase)
    assert found is None, found


def test_model_output_is_traced_through_names_functions_and_in_place_writes():
    sources = [
        "pipe = pipeline('depth-estimation', model=checkpoint)\npair = helpers.load_stereo_pair()",
        "result = pipe(image)\ndepth = result['predicted_depth']\ngt = pair.depth",
        "def panel(x):\n    return depth * x\nscaled = panel(2)",
        "canvas = np.zeros((2, 2))\ncanvas[0] = depth[0, 0]",
        "for name, m in {'a': scaled}.items():\n    last = m",
        "%matplotlib inline\npred = helpers.predict_depth(model, image)",
    ]
    assert model_derived_names(sources) == {"pipe", "result", "depth", "panel", "scaled", "canvas", "name", "m",
                                            "last", "pred"}


def test_stored_pictures_only_in_real_data_cells_that_read_no_model_output():
    cells = [
        _code("pair = helpers.load_stereo_pair()\nmodel = helpers.load_depth_model(CHECKPOINT)"),
        _code("pred = helpers.predict_depth(model, pair.left)"),
        _code("helpers.show_depth(pair.left, pair.disparity, kind='disparity')", tagged=True, picture=True),
        _code("helpers.show_depth(pair.left, pred, kind='depth')", picture=True),
        _code("helpers.show_depth(pair.left, pred, kind='depth')", tagged=True, picture=True),
        _code("helpers.show_depth(pair.left, helpers.predict_depth(m, x), kind='depth')", tagged=True),
    ]
    problems = figure_problems(cells)
    assert problems == [
        f"cell 3 stores a picture but is not tagged '{REAL_DATA_FIGURE}': only figures drawn from real data are "
        "stored (tag the cell, or clear its outputs)",
        f"cell 4 is tagged '{REAL_DATA_FIGURE}' but reads pred, computed by a model: a stand-in's picture must "
        "never be stored (remove the tag)",
        f"cell 5 is tagged '{REAL_DATA_FIGURE}' but calls a model, computed by a model: a stand-in's picture must "
        "never be stored (remove the tag)",
    ]


def test_refresh_keeps_the_pictures_of_real_data_cells_and_nothing_else():
    notebook = {"cells": [
        _code("show(gt)", tagged=True, picture=True),
        _code("show(pred)", picture=True),
        {**_code("print(1)"), "metadata": {"tags": ["nbval-check-output"]}},
    ], "metadata": {}}
    notebook["cells"][0]["outputs"].append({"output_type": "stream", "name": "stdout", "text": "noise\n"})
    notebook["cells"][2]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "1\n"}]
    stripped = strip_unchecked_outputs(notebook)["cells"]
    (picture,) = stripped[0]["outputs"]
    assert (picture["output_type"], list(picture["data"])) == ("display_data", ["image/png"])
    assert (stripped[0]["execution_count"], stripped[1]["outputs"], stripped[2]["execution_count"]) == (1, [], 2)
    # the stored PNG is the same picture, palette-coded, flattened on white: ramp * 0.5 + 255 * 0.5
    with Image.open(io.BytesIO(base64.b64decode(picture["data"]["image/png"]))) as stored:
        assert (stored.mode, stored.size) == ("P", (40, 30))
        pixels = np.asarray(stored.convert("RGB"), dtype=int)
    expected = np.round(np.arange(40) * 6 * 128 / 255 + 255 * 127 / 255)
    assert np.abs(pixels[0, :, 0] - expected).max() <= 2


EDITIONS = [NOTEBOOKS_DIR, zh_folder()]


@pytest.mark.parametrize("folder", EDITIONS, ids=["en", "zh"])
def test_every_lesson_follows_the_lesson_rules(folder):
    problems = {p.name: lesson_problems(read_notebook(p)) for p in list_notebooks(folder)}
    assert {name: found for name, found in problems.items() if found} == {}


def test_lessons_01_to_09_hold_16000_words_of_markdown_or_fewer():
    words = {p.name[:2]: markdown_words(read_notebook(p)) for p in list_notebooks() if p.name[:2] <= "09"}
    assert sum(words.values()) <= 16_000, words


@pytest.mark.parametrize("folder", EDITIONS, ids=["en", "zh"])
def test_real_data_figures_are_stored_in_01_05_06(folder):
    stored = {p.name[:2]: sum(1 for c in read_notebook(p)["cells"] if any(
        "image/png" in o.get("data", {}) for o in c.get("outputs", []))) for p in list_notebooks(folder)}
    assert all(stored[n] >= 1 for n in ("01", "05", "06")), stored


def test_02_shows_the_pipelines_depth_picture_within_its_first_six_cells():
    from helpers.maintain.generated_cells import generated_tag

    path = next(p for p in list_notebooks() if p.name.startswith("02_"))
    authored = [c for c in read_notebook(path)["cells"] if generated_tag(c) is None][:6]
    calls = [i for i, c in enumerate(authored) if c["cell_type"] == "code" and re.search(r"\bpipe\(", cell_source(c))]
    shows = [i for i, c in enumerate(authored) if c["cell_type"] == "code" and re.search(
        r"\[\s*[\"']depth[\"']\s*\]", cell_source(c))]
    words = sum(len(cell_source(c).split()) for c in authored[: (shows or [6])[0]] if c["cell_type"] == "markdown")
    assert calls and shows and calls[0] <= shows[0], "02 must call pipe(...) and show result['depth'] in six cells"
    assert words <= 200, f"{words} words of markdown before the first depth picture"
