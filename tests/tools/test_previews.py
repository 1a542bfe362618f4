"""helpers.classroom.previews on tiny synthetic notebooks: progress lines, HTML copies, and the first failing cell named."""

import re

import nbformat
import pytest

from helpers.classroom.previews import main


def _write(folder, name, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {name}")] + [nbformat.v4.new_code_cell(s) for s in sources]
    path = folder / name
    nbformat.write(nb, str(path))
    return path


@pytest.fixture
def notebooks(tmp_path):
    return [
        _write(tmp_path, "01_ok.ipynb", "print(6 * 7)"),
        _write(tmp_path, "02_fail.ipynb", "x = 1", "raise ValueError('boom')", "print('never ran')"),
        _write(tmp_path, "03_later.ipynb", "print('third')"),
    ]


def _progress(stdout):
    """Progress lines with the seconds replaced by T and runs of spaces collapsed."""
    return [" ".join(re.sub(r"^\d+\.\d$", "T", word) for word in line.split())
            for line in stdout.splitlines() if line.startswith("[")]


def test_stops_at_the_first_failure_and_names_its_cell(notebooks, tmp_path, capsys):
    out = tmp_path / "previews"
    assert main([*map(str, notebooks), "--out", str(out)]) == 1
    stdout = capsys.readouterr().out
    assert _progress(stdout) == [
        "[1/3] 01_ok.ipynb T s ok",
        "[2/3] 02_fail.ipynb T s FAILED",
    ]
    assert ("02_fail.ipynb failed at cell 2 (counting from 0, markdown included): ValueError: boom\n"
            f"The page up to the failure is in {out / '02_fail.html'}") in stdout
    assert sorted(p.name for p in out.iterdir()) == ["01_ok.html", "02_fail.html"]
    assert "42" in (out / "01_ok.html").read_text() and "boom" in (out / "02_fail.html").read_text()
    assert "never ran" in (out / "02_fail.html").read_text()  # the source is shown, but it has no output
    assert "never ran</pre>" not in (out / "02_fail.html").read_text()


def test_keep_going_runs_the_rest_and_still_fails(notebooks, tmp_path, capsys):
    out = tmp_path / "previews"
    assert main([str(notebooks[1]), str(notebooks[2]), "--out", str(out), "--keep-going"]) == 1
    stdout = capsys.readouterr().out
    assert [line.rsplit(" ", 1)[-1] for line in _progress(stdout)] == ["FAILED", "ok"]
    assert "02_fail.ipynb failed at cell 2" in stdout
    assert "third" in (out / "03_later.html").read_text()


def test_all_passing_exits_zero(notebooks, tmp_path, capsys):
    assert main([str(notebooks[0]), "--out", str(tmp_path / "p")]) == 0
    assert _progress(capsys.readouterr().out) == ["[1/1] 01_ok.ipynb T s ok"]


def test_a_missing_notebook_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path / "nope.ipynb")])
    assert exit_info.value.code == 2 and "no such notebook" in capsys.readouterr().err
