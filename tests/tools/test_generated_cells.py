"""helpers.maintain.generated_cells: navigation, Colab badge and Colab set-up cells, on synthetic notebooks."""

import json
import subprocess
import sys
import types

import nbformat
import pytest

from helpers.maintain import generated_cells as generated
from helpers.maintain.generated_cells import COLAB_SETUP, NAV_BOTTOM, NAV_TOP, main, plan_sync, repository_url
from helpers.paths import PROJECT_ROOT

REPO = "https://github.com/depth-tutorials/depth-estimation-tutorials"
COLAB = "https://colab.research.google.com/github/depth-tutorials/depth-estimation-tutorials/blob/main/notebooks/"
CONTENTS = f"[Contents]({REPO}/blob/main/README.md#the-notebooks)"  # absolute: it works on Colab too


def _notebook(title, minor=5):
    nb = nbformat.v4.new_notebook()
    nb.nbformat_minor = minor
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# {title}\n\nWhy.\n\n**What you will learn**\n- x"),
        nbformat.v4.new_code_cell("CHECKPOINT = 'a'"),
        nbformat.v4.new_markdown_cell("## Summary\n- a"),
    ]
    if minor < 5:
        for cell in nb.cells:
            cell.pop("id", None)
    return json.loads(nbformat.writes(nb, version=4)) if minor >= 5 else json.loads(json.dumps(nb))


@pytest.fixture
def folder(tmp_path):
    for name, title in [("01_first.ipynb", "First"), ("02_second.ipynb", "Second"), ("03_third.ipynb", "Third")]:
        generated.write_notebook(tmp_path / name, _notebook(title))
    return tmp_path


def _load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def _tags(nb):
    return [(c.get("metadata", {}).get("tags") or [None])[0] for c in nb["cells"]]


def test_repository_url_comes_from_pyproject():
    assert repository_url() == REPO
    assert f'Repository = "{REPO}"' in (PROJECT_ROOT / "pyproject.toml").read_text()


def test_repository_url_errors_say_what_to_add(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    with pytest.raises(ValueError, match=r"no \[project.urls\] Repository"):
        repository_url(tmp_path / "pyproject.toml")
    (tmp_path / "pyproject.toml").write_text('[project.urls]\nRepository = "https://gitlab.com/a/b"\n')
    with pytest.raises(ValueError, match="must look like https://github.com/OWNER/REPO"):
        repository_url(tmp_path / "pyproject.toml")
    # Python 3.10 has no tomllib: the fallback reads the same value
    monkeypatch.setitem(sys.modules, "tomllib", None)
    assert repository_url() == REPO
    (tmp_path / "pyproject.toml").write_text('[project.urls]\n\n[other]\nRepository = "https://github.com/a/b"\n')
    with pytest.raises(ValueError, match="no"):
        repository_url(tmp_path / "pyproject.toml")


def test_sync_inserts_the_generated_cells_in_house_order(folder):
    originals = {p.name: _load(p) for p in sorted(folder.glob("*.ipynb"))}
    assert main(["sync", "--folder", str(folder)]) == 0
    second = _load(folder / "02_second.ipynb")
    assert _tags(second) == [None, NAV_TOP, COLAB_SETUP, None, None, NAV_BOTTOM]
    nav = f"← [01 — First](01_first.ipynb) · {CONTENTS}"
    assert "".join(second["cells"][1]["source"]).splitlines() == [
        f"<!-- {generated.GENERATED_NOTE} -->",
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({COLAB}02_second.ipynb)",
        "",
        nav,
    ]
    # the one link to the next notebook is at the end, where the reader has finished
    assert "".join(second["cells"][-1]["source"]).splitlines()[-3:] == ["---", "", "**Next:** [03 — Third](03_third.ipynb) →"]
    assert [c["id"] for c in second["cells"][1:3]] == [NAV_TOP, COLAB_SETUP]
    # the author's cells are untouched, in their order
    for name, original in originals.items():
        synced = _load(folder / name)
        assert [synced["cells"][0]] + synced["cells"][3:-1] == original["cells"]
        assert synced["metadata"] == original["metadata"]
    # the first has no previous link, the last no next link
    first_nav = "".join(_load(folder / "01_first.ipynb")["cells"][1]["source"]).splitlines()[-1]
    last_nav = "".join(_load(folder / "03_third.ipynb")["cells"][-1]["source"]).splitlines()[-1]
    assert first_nav == CONTENTS
    assert last_nav == f"This was the last notebook: back to the {CONTENTS}."


def test_sync_is_idempotent_and_check_reports_out_of_date_notebooks(folder, capsys):
    assert main(["sync", "--check", "--folder", str(folder)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{n}: navigation / Colab cells are out of date; run `python -m helpers.maintain.generated_cells sync`"
        for n in ("01_first.ipynb", "02_second.ipynb", "03_third.ipynb")
    ]
    main(["sync", "--folder", str(folder)])
    before = {p.name: p.read_bytes() for p in folder.glob("*.ipynb")}
    capsys.readouterr()
    assert main(["sync", "--folder", str(folder)]) == 0
    assert capsys.readouterr().out == "all notebooks already in sync\n"
    assert {p.name: p.read_bytes() for p in folder.glob("*.ipynb")} == before
    assert main(["sync", "--check", "--folder", str(folder)]) == 0


def test_a_new_title_updates_exactly_the_neighbours(folder):
    main(["sync", "--folder", str(folder)])
    nb = _load(folder / "02_second.ipynb")
    nb["cells"][0]["source"] = ["# Renamed\n", "\n", "Why."]
    generated.write_notebook(folder / "02_second.ipynb", nb)
    assert sorted(p.name for p in plan_sync(folder)) == ["01_first.ipynb", "03_third.ipynb"]


def test_misplaced_or_duplicated_generated_cells_are_put_back(folder):
    main(["sync", "--folder", str(folder)])
    path = folder / "02_second.ipynb"
    nb = _load(path)
    nav_top = nb["cells"].pop(1)
    nb["cells"].insert(4, nav_top)  # moved among the author's cells
    nb["cells"].append(dict(nb["cells"][-1]))  # a pasted duplicate of the bottom bar
    nb["cells"][2]["source"] = ["# hand-edited\n"]
    generated.write_notebook(path, nb)
    assert list(plan_sync(folder)) == [path]
    main(["sync", "--folder", str(folder)])
    assert _tags(_load(path)) == [None, NAV_TOP, COLAB_SETUP, None, None, NAV_BOTTOM]
    assert plan_sync(folder) == {}


def test_notebooks_before_format_4_5_get_no_cell_ids(tmp_path):
    generated.write_notebook(tmp_path / "01_old.ipynb", _notebook("Old", minor=4))
    main(["sync", "--folder", str(tmp_path)])
    assert all("id" not in cell for cell in _load(tmp_path / "01_old.ipynb")["cells"])


def test_a_broken_notebook_is_named_and_nothing_is_written(folder, capsys):
    (folder / "02_second.ipynb").write_text("{ not json")
    before = (folder / "01_first.ipynb").read_bytes()
    assert main(["sync", "--folder", str(folder)]) == 2
    assert "02_second.ipynb is not valid notebook JSON" in capsys.readouterr().out
    assert (folder / "01_first.ipynb").read_bytes() == before


def _colab_source():
    cells = generated.generated_cells("01_a.ipynb", None, None, REPO)
    return "".join(cells[COLAB_SETUP]["source"])


def test_the_colab_cell_does_nothing_outside_colab(monkeypatch):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(_colab_source(), {})
    assert calls == []


def test_on_colab_the_cell_clones_the_project_and_runs_its_colab_installer(monkeypatch, tmp_path):
    """The generated cell with a fake google.colab and fake git/pip: clone, then the installer by path."""
    source = _colab_source().replace('"/content/', f'"{tmp_path}/')
    project = tmp_path / "depth-estimation-tutorials"
    calls = []

    def fake_run(command, **kwargs):
        calls.append((command, kwargs.get("cwd")))
        if command[0] == "git":  # the clone brings the real requirements file and installer
            (project / "helpers" / "maintain").mkdir(parents=True)
            for name in ("requirements.txt", "helpers/maintain/colab_install.py"):
                (project / name).write_text((PROJECT_ROOT / name).read_text())

    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(sys, "path", list(sys.path))
    exec(source, {})
    assert calls == [
        (["git", "clone", "--depth", "1", REPO, str(project)], None),
        ([sys.executable, "-m", "pip", "install", "-q", "-r", "requirements-colab.txt"], project),
    ]
    pinned = [line for line in (PROJECT_ROOT / "requirements.txt").read_text().splitlines() if line.startswith("transformers==")]
    assert pinned and pinned[0] in (project / "requirements-colab.txt").read_text().splitlines()
    assert sys.path[0] == str(project)

    calls.clear()  # run again (a second notebook, or after a restart): no second clone
    exec(source, {})
    assert [command[0] for command, _ in calls] == [sys.executable]


def test_the_colab_cell_is_short_and_collapsed():
    cell = generated.generated_cells("01_a.ipynb", None, None, REPO)[COLAB_SETUP]
    lines = "".join(cell["source"]).splitlines()
    assert len(lines) <= 5 and lines[0].startswith("#@title ")  # Colab shows the title as a form, code hidden
    assert cell["metadata"] == {"cellView": "form", "jupyter": {"source_hidden": True}, "tags": [COLAB_SETUP]}
    assert 'runpy.run_path("/content/depth-estimation-tutorials/helpers/maintain/colab_install.py"' in lines[-1]
    assert (PROJECT_ROOT / "helpers" / "maintain" / "colab_install.py").is_file()


def test_the_real_notebooks_are_in_sync():
    assert [p.name for p in plan_sync()] == [], "run `python -m helpers.maintain.generated_cells sync`"


def test_a_title_that_already_starts_with_its_number_is_not_numbered_twice():
    from helpers.maintain.generated_cells import link_text, notebook_title

    notebook = {"cells": [{"cell_type": "markdown", "source": "# 03 — Manual inference\n\ntext"}]}
    assert notebook_title(notebook, "x") == "Manual inference"
    assert link_text("03_manual.ipynb", notebook_title(notebook, "x")) == "03 — Manual inference"
    assert notebook_title({"cells": [{"cell_type": "markdown", "source": "# 3-D geometry"}]}, "x") == "3-D geometry"
