"""The sandbox's view of mesalib: a generated copy in which the graded answers are not there.

The library is the reference, so a learner's code that could import it could hand in the library's
answer. The sandbox therefore sees, instead of the real package, a copy made once per grading run:

- every library object that computes the answer to one of the lesson's exercises (its
  `references.forbidden_targets`) keeps its name and signature, but each function body in it (the
  function itself, or every method of a class) is replaced by `raise ReferenceUnavailable(...)`,
  so imports, subclasses and the lesson's own imports still work while the answer's code is gone
  (from the module, its source and its bytecode);
- `mesalib.teaching.checks` is a stub package whose attributes raise the same error (the checks name
  their references, and a solution is one attribute away);
- no `__pycache__` is copied (the real bytecode holds the answers; the copy is compiled afresh from
  its stubbed sources), and the repository's `solutions/`, `lessons/` and tests are never part of
  it (the copy is of the package folder only).

The learner at home keeps the real library (and the lesson's fallback to it); only the graded run
sees this view.
"""

from __future__ import annotations

import ast
import compileall
import importlib
import shutil
from collections.abc import Iterable
from pathlib import Path

from mesalib.teaching.grading.codecheck import parse_python

__all__ = ["STUB_ERROR", "build_view", "stub_source"]

STUB_ERROR = "ReferenceUnavailable"
"""The name of the exception a stubbed reference raises (the grader reports it as reads_reference)."""

_PRELUDE = f'''
class {STUB_ERROR}(RuntimeError):
    """The library's answer to a graded exercise is not available while grading."""


def _graded_away(target):
    raise {STUB_ERROR}(
        f"{{target}} is the library's answer to an exercise being graded; it is not available to graded code"
    )
'''

_CHECKS_STUB = f'''"""Not available while grading: the checks name the library's answers."""
{_PRELUDE}

def __getattr__(name):
    _graded_away("mesalib.teaching.checks." + name)
'''


def _raise_statement(target: str) -> ast.stmt:
    return parse_python(f"_graded_away({target!r})").body[0]


class _Stubber(ast.NodeTransformer):
    """Replaces the bodies of the named top-level functions, and of every method of the named classes."""

    def __init__(self, module: str, names: set[str]):
        self.module, self.names = module, names
        self.found: set[str] = set()

    def visit_Module(self, node: ast.Module) -> ast.Module:
        for i, statement in enumerate(node.body):
            if (
                isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))
                and statement.name in self.names
            ):
                self.found.add(statement.name)
                statement.body = [_raise_statement(f"{self.module}:{statement.name}")]
            elif isinstance(statement, ast.ClassDef) and statement.name in self.names:
                self.found.add(statement.name)
                target = f"{self.module}:{statement.name}"
                for sub in ast.walk(statement):
                    if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        sub.body = [_raise_statement(target)]
            node.body[i] = statement
        node.body[_after_future_imports(node) : _after_future_imports(node)] = parse_python(_PRELUDE).body
        return node


def _after_future_imports(tree: ast.Module) -> int:
    """Where the stub's helpers go: after the docstring and `from __future__` imports."""
    i = 0
    for i, statement in enumerate(tree.body):
        is_doc = i == 0 and isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
        is_future = isinstance(statement, ast.ImportFrom) and statement.module == "__future__"
        if not (is_doc or is_future):
            return i
    return len(tree.body)


def stub_source(source: str, module: str, names: Iterable[str]) -> str:
    """`source` with the named objects' code replaced by raises; ValueError if a name is not defined
    at the module's top level (the view would otherwise silently keep an answer)."""
    wanted = set(names)
    stubber = _Stubber(module, wanted)
    tree = stubber.visit(parse_python(source))
    missing = wanted - stubber.found
    if missing:
        raise ValueError(f"{module} defines no top-level {', '.join(sorted(missing))} to stub")
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def build_view(package: Path, destination: Path, targets: Iterable[str], compiled_as: str = "") -> Path:
    """Copy the package folder `package` (mesalib) into `destination`/mesalib with every target
    ("module:name") stubbed and the checks replaced; return `destination` (the folder for sys.path).
    With `compiled_as` (the folder's path inside the sandbox) the copy is also byte-compiled, from
    the stubbed sources only (the real package's own caches are never copied: they hold the answers)."""
    copy = destination / package.name
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    by_module: dict[str, set[str]] = {}
    for target in targets:
        module, _, name = target.partition(":")
        by_module.setdefault(_defining_module(module, name), set()).add(name.split(".")[0])
    for module, names in sorted(by_module.items()):
        path = _module_file(destination, module)
        path.write_text(stub_source(path.read_text(encoding="utf-8"), module, names), encoding="utf-8")
    checks = copy / "teaching" / "checks"
    shutil.rmtree(checks)
    checks.mkdir()
    (checks / "__init__.py").write_text(_CHECKS_STUB, encoding="utf-8")
    if compiled_as:  # bytecode of the stubbed sources, so that no sandbox compiles them again
        compileall.compile_dir(copy, ddir=f"{compiled_as}/{package.name}", quiet=2, workers=1)
    return destination


def _defining_module(module: str, name: str) -> str:
    """The module whose source defines `module.name` (a module may only re-export it)."""
    obj = getattr(importlib.import_module(module), name.split(".")[0], None)
    where = getattr(obj, "__module__", None)
    return where if isinstance(where, str) and where.startswith("mesalib.") else module


def _module_file(root: Path, module: str) -> Path:
    parts = module.split(".")
    plain = root.joinpath(*parts).with_suffix(".py")
    return plain if plain.is_file() else root.joinpath(*parts, "__init__.py")
