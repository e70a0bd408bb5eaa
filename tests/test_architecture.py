"""The package's layers: data flows one way, and the environment stays light.

Every `import` in every module (those inside functions included) is read from the source, so a lazy
import cannot hide a dependency on a higher layer.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mesalib"
LAYERS = ("env", "agents", "analysis", "drawing", "teaching")
"""Bottom to top: a module may import from its own layer and the layers before it, never after."""
HEAVY = ("torch", "matplotlib", "ipywidgets")


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _layer(path: Path) -> str | None:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 and parts[0] in LAYERS else None


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: relative import; the package uses absolute imports")
    return names


def _upward(path: Path, own: str | None = None) -> list[str]:
    """The imports of `path` from layers above its own (`own`, default: where the file lives)."""
    own = own or _layer(path)
    if own is None:
        return []
    allowed = set(LAYERS[: LAYERS.index(own) + 1])
    return sorted(
        name
        for name in _imported(path)
        if name.startswith("mesalib.") and name.split(".")[1] in LAYERS and name.split(".")[1] not in allowed
    )


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_from_a_higher_layer(path):
    assert _upward(path) == [], f"{path.relative_to(PACKAGE)} imports from a higher layer"


def test_every_module_lives_in_a_layer():
    loose = [p.name for p in _modules() if _layer(p) is None and p.name != "__init__.py"]
    assert loose == [], f"modules outside the layers {LAYERS}: {loose}"


def test_the_environment_layer_needs_only_numpy_and_gymnasium():
    env = [p for p in _modules() if _layer(p) == "env"]
    heavy = {str(p.name): sorted(n for n in _imported(p) if n.split(".")[0] in HEAVY) for p in env}
    assert not any(heavy.values()), heavy


def test_importing_the_package_loads_no_heavy_library():
    code = f"import sys, mesalib; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_checker_catches_an_upward_import_even_inside_a_function(tmp_path):
    module = tmp_path / "module.py"
    module.write_text("import numpy\n\ndef f():\n    from mesalib.drawing.render import text\n")
    assert _upward(module, own="env") == ["mesalib.drawing.render", "mesalib.drawing.render.text"]
    assert _upward(module, own="teaching") == []
