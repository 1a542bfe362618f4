"""Setting the project up inside a Colab session (the generated Colab cell of every notebook runs this file).

Standard library only, and run by file path (``runpy.run_path(..., run_name="__main__")``), not imported as
``helpers.maintain.colab_install``: importing the package would import numpy & co. before they are installed.
Run so, it calls ``install`` on the project folder it sits in. ``install(project)``:

1. installs only what the notebooks need: the lines of ``requirements.txt`` above its
   ``RUNTIME_END`` line, minus the torch/torchvision pins. Colab's own torch and torchvision are
   built for its GPU and CUDA version (re-pinning them would download about 2 GB and could break
   CUDA), and Colab brings its own Jupyter, so the local-Jupyter and test tools are skipped;
2. makes this kernel see the project (``sys.path``);
3. stops with a clear error when the install changed the version of a package this kernel had
   already imported (Colab imports some at start-up): the old version would stay in memory next to
   the new files. Restarting the session fixes it; the install is kept, so the next run is quick.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path
from typing import Callable

RUNTIME_END = "# --- end of what the notebooks need"  # a line in requirements.txt starts with this
COLAB_KEEPS_ITS_OWN = ("torch==", "torchvision==")


def colab_requirements(requirements: str) -> list[str]:
    """The requirement lines to install on Colab: those above the ``RUNTIME_END`` line, minus torch/torchvision."""
    lines = requirements.splitlines()
    ends = [i for i, line in enumerate(lines) if line.startswith(RUNTIME_END)]
    if not ends:
        raise ValueError(f"requirements.txt has no line starting with {RUNTIME_END!r} to end the notebooks' part.")
    return [line for line in lines[:ends[0]] if not line.startswith(COLAB_KEEPS_ITS_OWN)]


def distribution_name(name: str) -> str:
    """A package name in the normalized form that pip and importlib.metadata compare (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned(requirements: list[str]) -> set[str]:
    """The normalized names of the ``name==version`` lines (extras dropped: ``ray[data]`` is the package ``ray``)."""
    return {distribution_name(line.split("==")[0].split("[")[0].strip()) for line in requirements if "==" in line}


def loaded_versions(names: set[str], version: Callable[[str], str] | None = None) -> dict[str, str]:
    """``{distribution: installed version}`` for those of ``names`` that this interpreter has imported already."""
    version = version or importlib.metadata.version
    imported = {distribution_name(dist)
                for module, dists in importlib.metadata.packages_distributions().items()
                if module in sys.modules for dist in dists}
    return {name: version(name) for name in sorted(names & imported)}


def changed_versions(before: dict[str, str], version: Callable[[str], str] | None = None) -> list[str]:
    """``"numpy 2.0.2 -> 2.4.6"`` for every distribution whose installed version is no longer ``before``'s."""
    version = version or importlib.metadata.version
    importlib.invalidate_caches()
    now = {name: version(name) for name in before}
    return [f"{name} {before[name]} -> {now[name]}" for name in before if now[name] != before[name]]


def install(project: Path) -> None:
    """Install the notebooks' requirements into this Colab kernel and make ``helpers`` importable."""
    project = Path(project)
    wanted = colab_requirements((project / "requirements.txt").read_text(encoding="utf-8"))
    (project / "requirements-colab.txt").write_text("\n".join(wanted) + "\n", encoding="utf-8")
    before = loaded_versions(pinned(wanted))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-r", "requirements-colab.txt"],
                   cwd=project, check=True)
    if str(project) not in sys.path:  # the kernel started before `pip install -e .`, so it would not see it
        sys.path.insert(0, str(project))
    changed = changed_versions(before)
    if changed:
        raise RuntimeError(
            "The install replaced packages this session had already loaded (" + ", ".join(changed) + "). "
            "Restart the session (menu Runtime > Restart session), then run the notebook again from the top: "
            "the install is kept, so this cell will be quick and pass."
        )


if __name__ == "__main__":  # the generated Colab cell: runpy.run_path(".../helpers/maintain/colab_install.py", ...)
    install(Path(__file__).resolve().parents[2])
