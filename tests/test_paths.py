"""helpers.paths: where the project's data is and where notebooks write."""

from pathlib import Path

from helpers.paths import DATA_DIR, PROJECT_ROOT, build_dir


def test_build_dir_is_the_projects_build_folder_unless_overridden(monkeypatch, tmp_path):
    monkeypatch.delenv("DEPTH_TUTORIALS_BUILD", raising=False)
    assert build_dir() == PROJECT_ROOT / "build" and DATA_DIR == PROJECT_ROOT / "data"
    monkeypatch.setenv("DEPTH_TUTORIALS_BUILD", str(tmp_path / "elsewhere"))
    assert build_dir() == Path(tmp_path / "elsewhere")


def test_the_tests_write_into_their_own_build_folder():
    assert build_dir() != PROJECT_ROOT / "build"  # conftest points it into the session's scratch folder
    assert build_dir().name == "build" and build_dir().parent.name.startswith("depth-tutorials-tests-")
