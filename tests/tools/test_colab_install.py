"""helpers.maintain.colab_install: what the Colab install cell installs, and the restart it asks for when it must."""

import subprocess
import sys

import pytest

from helpers.maintain import colab_install as colab
from helpers.paths import PROJECT_ROOT

REQUIREMENTS = (PROJECT_ROOT / "requirements.txt").read_text().splitlines()  # the pins, read, never copied
RUNTIME = ["transformers", "huggingface_hub", "pillow", "numpy", "matplotlib", "requests", "opencv-python-headless",
           "tqdm", "onnx", "onnxruntime", "onnxscript", "openvino", "nncf", "datasets", "ray[data]", "gradio", "plotly",
           "-e ."]


def test_colab_installs_what_the_notebooks_need_but_not_torch_or_the_test_tools():
    wanted = [line for line in colab.colab_requirements("\n".join(REQUIREMENTS)) if line and not line.startswith("#")]
    assert [line.split("==")[0] for line in wanted] == RUNTIME
    assert all(line in REQUIREMENTS for line in wanted)  # exactly the pinned lines of requirements.txt
    assert all(line.count("==") == 1 for line in wanted if line != "-e .")


def test_requirements_without_the_end_line_are_refused():
    with pytest.raises(ValueError, match="no line starting with '# --- end of what the notebooks need'"):
        colab.colab_requirements("numpy==2.4.6\npytest==9.2.0\n")


def test_pinned_names_are_normalized_as_pip_compares_them():
    assert colab.pinned(["huggingface_hub==2.4.0", "Pillow==13.0.0", "-e .", "# x", "zope.interface==7",
                         "ray[data]==2.60.0"]) == {"huggingface-hub", "pillow", "zope-interface", "ray"}


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
    assert [line.split("==")[0] for line in written if line and not line.startswith("#")] == RUNTIME
    assert all(line in REQUIREMENTS for line in written)
    assert sys.path[0] == str(project)


def test_run_by_path_it_installs_the_project_it_sits_in(monkeypatch, tmp_path):
    """As the generated Colab cell runs it: runpy.run_path(<project>/helpers/maintain/colab_install.py)."""
    import runpy

    project, calls = _project(tmp_path), []
    (project / "helpers" / "maintain").mkdir(parents=True)
    installer = project / "helpers" / "maintain" / "colab_install.py"
    installer.write_text((PROJECT_ROOT / "helpers" / "maintain" / "colab_install.py").read_text())
    monkeypatch.setattr(subprocess, "run", lambda command, **kwargs: calls.append(kwargs["cwd"]))
    monkeypatch.setattr(sys, "path", list(sys.path))
    runpy.run_path(str(installer), run_name="__main__")
    assert calls == [project] and sys.path[0] == str(project)


def test_install_asks_for_a_restart_when_it_replaced_a_loaded_package(monkeypatch, tmp_path):
    versions = {"numpy": "2.0.2"}

    def fake_pip(command, **kwargs):
        versions["numpy"] = "2.4.6"

    monkeypatch.setattr(subprocess, "run", fake_pip)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(colab.importlib.metadata, "version", lambda name: versions.get(name, "1.0"))
    with pytest.raises(RuntimeError, match=r"\(numpy 2\.0\.2 -> 2\.4\.6\)\. Restart the session"):
        colab.install(_project(tmp_path))
