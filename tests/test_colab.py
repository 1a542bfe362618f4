"""helpers.colab: what the Colab install cell installs, and the restart it asks for when it must."""

import subprocess
import sys

import pytest

from helpers import colab
from helpers.paths import PROJECT_ROOT

RUNTIME = [
    "transformers==5.23.0", "huggingface_hub==2.4.0", "pillow==13.0.0", "numpy==2.4.6", "matplotlib==3.11.2",
    "requests==2.34.2", "opencv-python-headless==5.0.0.93", "tqdm==4.70.1",
    "onnx==1.23.2", "onnxruntime==1.31.1", "onnxscript==0.7.2", "openvino==2026.4.1", "-e .",
]


def test_colab_installs_what_the_notebooks_need_but_not_torch_or_the_test_tools():
    wanted = colab.colab_requirements((PROJECT_ROOT / "requirements.txt").read_text())
    assert [line for line in wanted if line and not line.startswith("#")] == RUNTIME


def test_requirements_without_the_end_line_are_refused():
    with pytest.raises(ValueError, match="no line starting with '# --- end of what the notebooks need'"):
        colab.colab_requirements("numpy==2.4.6\npytest==9.2.0\n")


def test_pinned_names_are_normalized_as_pip_compares_them():
    assert colab.pinned(["huggingface_hub==2.4.0", "Pillow==13.0.0", "-e .", "# x", "zope.interface==7"]) == {
        "huggingface-hub", "pillow", "zope-interface"}


def test_only_packages_this_interpreter_has_imported_are_watched():
    # pytest has imported itself and numpy (conftest); "tqdm-never" is not installed at all
    loaded = colab.loaded_versions({"pytest", "numpy", "tqdm-never"}, version=lambda name: f"v-{name}")
    assert loaded == {"numpy": "v-numpy", "pytest": "v-pytest"}


def test_changed_versions_names_each_package_with_old_and_new_version():
    installed = {"numpy": "2.4.6", "pillow": "13.0.0"}
    assert colab.changed_versions({"numpy": "2.0.2", "pillow": "13.0.0"}, version=installed.__getitem__) == [
        "numpy 2.0.2 -> 2.4.6"]


def _project(tmp_path):
    (tmp_path / "requirements.txt").write_text((PROJECT_ROOT / "requirements.txt").read_text())
    return tmp_path


def test_install_writes_the_colab_requirements_runs_pip_there_and_adds_the_project_to_the_path(monkeypatch, tmp_path):
    project, calls = _project(tmp_path), []
    monkeypatch.setattr(subprocess, "run", lambda command, **kwargs: calls.append((command, kwargs)))
    monkeypatch.setattr(sys, "path", list(sys.path))
    colab.install(project)
    assert calls == [([sys.executable, "-m", "pip", "install", "-q", "-r", "requirements-colab.txt"],
                      {"cwd": project, "check": True})]
    written = (project / "requirements-colab.txt").read_text().splitlines()
    assert [line for line in written if line and not line.startswith("#")] == RUNTIME
    assert sys.path[0] == str(project)


def test_install_asks_for_a_restart_when_it_replaced_a_loaded_package(monkeypatch, tmp_path):
    versions = {"numpy": "2.0.2"}

    def fake_pip(command, **kwargs):
        versions["numpy"] = "2.4.6"

    monkeypatch.setattr(subprocess, "run", fake_pip)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(colab.importlib.metadata, "version", lambda name: versions.get(name, "1.0"))
    with pytest.raises(RuntimeError, match=r"\(numpy 2\.0\.2 -> 2\.4\.6\)\. Restart the session"):
        colab.install(_project(tmp_path))
