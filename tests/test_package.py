"""helpers/__init__.py and the package as a whole: exports exactly what notebooks use, no cycles, no private imports."""

import ast
import json
import re
from pathlib import Path

import helpers
from helpers.maintain.generated_cells import generated_tag
from helpers.paths import NOTEBOOKS_DIR, PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "helpers"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path):
    """(imported module, imported names) of every runtime import in a file (TYPE_CHECKING blocks skipped)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
               for child in node.body for n in ast.walk(child)}
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rsplit(".", 1)[0]
            module = (base + "." + node.module if node.module else base) if node.level else node.module
            yield module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


def _graph() -> dict[str, set[str]]:
    """``{module: the helpers modules it imports}``; ``from .pkg import module`` counts as importing that module."""
    modules = {_module_name(path) for path in PACKAGE.rglob("*.py")}
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        deps = set()
        for module, names in _imports(path):
            deps |= {module} | {f"{module}.{name}" for name in names}
        graph[_module_name(path)] = {d for d in deps & modules if d != _module_name(path)}
    return graph


def test_no_import_cycles_between_modules():
    graph = {name: {d for d in deps if not name.startswith(d + ".") and d != "helpers"} for name, deps in _graph().items()}
    assert "helpers.standins" in graph["helpers.checkpoints"]  # the graph sees imports (function-level ones too)
    assert "helpers.maintain.refresh" in graph["helpers.classroom.previews"]
    state = {}

    def visit(node, trail):
        if state.get(node) == "done":
            return
        assert state.get(node) != "open", f"import cycle: {' -> '.join(trail + [node])}"
        state[node] = "open"
        for dep in sorted(graph[node]):
            visit(dep, trail + [node])
        state[node] = "done"

    for node in sorted(graph):
        visit(node, [])


def test_no_private_name_is_imported_from_another_module():
    private = [f"{_module_name(path)} imports {name} from {module}"
               for path in PACKAGE.rglob("*.py") for module, names in _imports(path)
               if module.startswith("helpers") for name in names if name.startswith("_") and name != "__future__"]
    assert private == []


def _names_notebooks_use() -> set[str]:
    used = set()
    for path in sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code" and generated_tag(cell) is None:  # generated cells aside (other tags count)
                code = re.sub(r"#.*", "", "".join(cell["source"]))  # comments aside
                used |= set(re.findall(r"\bhelpers\.(\w+)", code))
    return used


def test_the_package_exports_exactly_what_the_notebooks_use():
    used = _names_notebooks_use()
    assert sorted(used - set(helpers.__all__)) == [], "export these in helpers/__init__.py"
    assert sorted(set(helpers.__all__) - used) == [], "no notebook uses these: drop them from helpers/__init__.py"
    assert all(hasattr(helpers, name) for name in helpers.__all__)


def test_the_package_is_small_and_import_helpers_loads_nothing_heavy():
    import subprocess
    import sys

    assert len(helpers.__all__) <= 45 and len(set(helpers.__all__)) == len(helpers.__all__)
    code = ("import sys, helpers; heavy = {'numpy', 'torch', 'PIL', 'matplotlib', 'cv2', 'transformers'} & "
            "{m.split('.')[0] for m in sys.modules}; print(sorted(heavy)); helpers.check; "
            "print('numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PROJECT_ROOT)
    assert out.stdout.split("\n")[:2] == ["[]", "True"]  # nothing until a name is used; then its module's imports
