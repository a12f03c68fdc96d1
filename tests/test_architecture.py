"""The layout docs/ARCHITECTURE.md promises: one package, imports that only point down, Blender and Ray
each in their one place."""
import ast
import importlib.util
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGE = ROOT / "synthact"
# Lower layers first; a module may import its own layer and the layers before it (dataset and dispatch
# share a rank but must not import each other).
LAYERS = [("spec", "rng", "locks", "progress", "decoders"), ("world",), ("config",), ("human",), ("scene",), ("clip",),
          ("render",), ("dispatch", "dataset"), ("train",), ("cli",), ("__main__",)]
RANK = {name: i for i, names in enumerate(LAYERS) for name in names}
# Datasets are made from written clips (clip/), never from the renderer; dispatch and dataset are siblings.
FORBIDDEN = {("dataset", "render"), ("dataset", "dispatch"), ("dispatch", "dataset"), ("train", "render"),
             ("train", "dispatch")}


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        yield path, rel.parts[0].removesuffix(".py")


def imports(path: Path) -> list[tuple[str, int]]:
    """Absolute module names imported by a file (relative imports resolved), with line numbers."""
    tree = ast.parse(path.read_text())
    package = ".".join(("synthact",) + path.relative_to(PACKAGE).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            found.append((name, node.lineno))
            found += [(f"{name}.{alias.name}", node.lineno) for alias in node.names]
    return found


def test_only_the_synthact_package_is_installed():
    import synthact
    assert synthact.__version__
    for name in ("generator", "render_workers", "postprocess", "trainer"):
        assert importlib.util.find_spec(name) is None, f"a top-level {name!r} module is importable"


def test_imports_point_down():
    wrong = []
    for path, layer in modules():
        if layer == "__init__":
            continue
        for name, line in imports(path):
            parts = name.split(".")
            if parts[0] != "synthact" or len(parts) < 2 or parts[1] not in RANK:
                continue
            target = parts[1]
            if target != layer and (RANK[target] >= RANK[layer] or (layer, target) in FORBIDDEN):
                wrong.append(f"{path.relative_to(ROOT)}:{line} {layer} imports {name}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("library, allowed", [
    ("bpy", ("render/blender/",)),
    ("mathutils", ("render/blender/",)),
    ("ray", ("dispatch/ray_executor.py", "dispatch/jobs.py", "dispatch/service.py")),
])
def test_engines_are_imported_in_one_place(library, allowed):
    users = sorted(str(path.relative_to(PACKAGE)) for path, _ in modules()
                   if any(name == library or name.startswith(library + ".") for name, _ in imports(path)))
    stray = [u for u in users if not u.startswith(allowed)]
    assert users and not stray, f"{library} imported outside {allowed}: {stray}"
