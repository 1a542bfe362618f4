"""The two READMEs agree: the same notebooks in the same order, the same commands, and no broken local link."""

import re
from pathlib import Path

import pytest

from helpers.maintain.notebook_files import list_notebooks
from helpers.maintain.translations import zh_folder
from helpers.paths import NOTEBOOKS_DIR

ROOT = NOTEBOOKS_DIR.parent
READMES = {"en": ROOT / "README.md", "zh": ROOT / "README.zh.md"}
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _linked_notebooks(text: str) -> list[str]:
    return re.findall(r"\]\((notebooks/(?:zh/)?\d\d_[a-z0-9_]+\.ipynb)\)", text)


def _commands(text: str) -> list[str]:
    """Shell lines of the fenced bash blocks, comments dropped, the Chinese folder read as the English one."""
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.DOTALL):
        for line in block.splitlines():
            line = line.split("#", 1)[0].strip().replace("notebooks/zh/", "notebooks/")
            if line:
                lines.append(re.sub(r"\s+", " ", line))
    return lines


def test_each_readme_lists_every_notebook_of_its_edition_once_in_order():
    english = [f"notebooks/{p.name}" for p in list_notebooks()]
    chinese = [f"notebooks/zh/{p.name}" for p in list_notebooks(zh_folder())]
    assert _linked_notebooks(READMES["en"].read_text(encoding="utf-8")) == english
    assert _linked_notebooks(READMES["zh"].read_text(encoding="utf-8")) == chinese


def test_both_readmes_give_the_same_commands():
    english, chinese = (_commands(p.read_text(encoding="utf-8")) for p in READMES.values())
    assert english == chinese and len(english) >= 6


@pytest.mark.parametrize("name", READMES)
def test_local_links_of_the_readmes_exist(name):
    text = READMES[name].read_text(encoding="utf-8")
    missing = [target for target in LINK.findall(text)
               if not target.startswith(("http://", "https://", "mailto:")) and not (ROOT / target).exists()]
    assert missing == []


def test_readme_first_screen_has_the_picture_the_commands_and_where_to_start():
    text = READMES["en"].read_text(encoding="utf-8")
    first = text[: text.index("## The notebooks")]
    assert "![" in first and "pip install -r requirements.txt" in first and "## Where to start" in first
    assert len(first.split()) <= 400, len(first.split())
