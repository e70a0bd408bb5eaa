"""Static checks of learners' code (Python's `ast`), made before anything runs.

- `parse`: the cell's syntax tree (IPython `%magic` and `!shell` lines become `pass`), or the error.
- `tampering`: statements that change the grading machinery: assigning to (or deleting) an
  attribute or item of an imported module (`np.testing.assert_allclose = ...`,
  `checks.lesson02.distance_map = ...`, `sys.modules[...] = ...`), `setattr`/`delattr` on one,
  `mock.patch(...)` of one. In an exercise cell every imported module counts; in the notebook's
  other cells the modules of the grading machinery count (mesalib, numpy, sys, builtins), and
  statements that the official notebook itself contains are ignored.
- `reference_use`: reading the answer from the library when the exercise forbids it (see
  `grader.REFERENCE_RULES`): importing or naming a guarded library object, importing
  `mesalib.teaching.checks` or touching a check's `.reference`, and the dynamic ways around a name (`eval`,
  `exec`, `compile`, `__import__`, `importlib`, `globals()`, `vars()`, `sys.modules`, `gc`,
  `inspect`, `ctypes`, and reflective attributes such as `__subclasses__` or `__globals__`).
- `fake_output`: printing text that imitates a passing check ("✓", "all 25 cases pass", "passed").
"""

from __future__ import annotations

import ast
import re

__all__ = [
    "parse",
    "statement_keys",
    "preamble_imports",
    "binds",
    "tampering",
    "reference_use",
    "fake_output",
    "FAKE_PASS",
]

FAKE_PASS = re.compile(r"✓|✔|\bcases? pass|\bpassed\b|\ball tests pass", re.IGNORECASE)
_MAGIC = re.compile(r"^(\s*)[%!].*$")
GRADING_ROOTS = ("mesalib", "numpy", "sys", "builtins", "__builtins__", "unittest")
_DEFAULT_ALIASES = {
    "np": "numpy",
    "numpy": "numpy",
    "mesalib": "mesalib",
    "checks": "mesalib.teaching.checks",
    "sys": "sys",
    "builtins": "builtins",
    "__builtins__": "builtins",
}
_DYNAMIC_CALLS = {"eval", "exec", "compile", "__import__", "globals", "vars", "breakpoint", "locals"}
_DYNAMIC_MODULES = ("importlib", "gc", "inspect", "ctypes", "_ctypes")
_REFLECTIVE = {
    "__subclasses__",
    "__globals__",
    "__closure__",
    "__code__",
    "__dict__",
    "__builtins__",
    "__mro__",
    "__bases__",
    "__base__",
    "__wrapped__",
    "__self__",
    "__func__",
    "__kwdefaults__",
    "__defaults__",
    "f_back",
    "f_globals",
    "f_locals",
    "tb_frame",
    "gi_frame",
    "cr_frame",
    "ag_frame",
    "__loader__",
    "__spec__",
}


def parse(source: str) -> tuple[ast.Module | None, str]:
    """(tree, "") or (None, "line N: message")."""
    lines = [(_MAGIC.sub(r"\1pass", line)) for line in source.split("\n")]
    try:
        return ast.parse("\n".join(lines)), ""
    except SyntaxError as exc:
        return None, f"line {exc.lineno}: {exc.msg}"
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurd nesting
        return None, f"{type(exc).__name__}: {exc}"


def statement_keys(tree: ast.Module) -> set[str]:
    """A canonical text of every statement in the tree (to recognise the official notebook's own)."""
    keys = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt):
            try:
                keys.add(ast.unparse(node))
            except Exception:
                pass
    return keys


def _is_checks_import(module: str | None, name: str | None = None) -> bool:
    full = f"{module}.{name}" if module and name else (module or name or "")
    return (
        full == "mesalib.teaching.checks"
        or full.startswith("mesalib.teaching.checks.")
        or (module or "").startswith("mesalib.teaching.checks")
    )


def preamble_imports(tree: ast.Module) -> list[str]:
    """The cell's top-level import statements as source, leaving out mesalib.teaching.checks (and
    __future__)."""
    out = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names = [a for a in node.names if not _is_checks_import(a.name)]
            if names:
                out.append(ast.unparse(ast.Import(names=names)))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module != "__future__":
            names = [a for a in node.names if not _is_checks_import(node.module, a.name)]
            if names:
                out.append(ast.unparse(ast.ImportFrom(module=node.module, names=names, level=0)))
    return out


def import_bindings(tree: ast.Module | None) -> dict[str, str]:
    """name -> dotted thing it is bound to, for the imports anywhere in the tree."""
    bound: dict[str, str] = {}
    if tree is None:
        return bound
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    bound[a.asname] = a.name
                else:
                    bound[a.name.split(".")[0]] = a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                bound[a.asname or a.name] = f"{node.module}.{a.name}"
    return bound


def binds(tree: ast.Module, name: str) -> bool:
    """Whether the cell binds `name` at its top level (def, class, assignment or import)."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return True
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name) and sub.id == name:
                        return True
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                if (a.asname or a.name.split(".")[0]) == name:
                    return True
    return False


def local_names(tree: ast.Module) -> set[str]:
    """Names the cell binds other than by importing: assignment targets, arguments, defs, loops."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


def _root(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _line(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except Exception:
        text = type(node).__name__
    text = text.split("\n")[0]
    return (text[:80] + "...") if len(text) > 80 else text


def tampering(
    tree: ast.Module,
    *,
    exercise_cell: bool,
    known: dict[str, str] | None = None,
    official: frozenset[str] = frozenset(),
) -> list[tuple[str, str]]:
    """[(statement, what it targets)] for statements that change imported modules (see module doc).
    `known`: names bound by imports elsewhere (the preamble, other cells)."""
    aliases = dict(_DEFAULT_ALIASES)
    aliases.update(known or {})
    for name in local_names(tree):  # a variable the cell makes itself, even if called `checks`
        aliases.pop(name, None)
    aliases.update(import_bindings(tree))

    def module_root(node: ast.AST) -> str | None:
        root = _root(node)
        if root is None or root not in aliases:
            return None
        target = aliases[root]
        if exercise_cell or target.split(".")[0] in GRADING_ROOTS:
            return target
        return None

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and not exercise_cell:
            try:
                if ast.unparse(node) in official:
                    continue
            except Exception:
                pass
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, (ast.Attribute, ast.Subscript)) and module_root(sub):
                    found.append((_line(node), _dotted(sub)))
                    break
        if isinstance(node, ast.Call):
            name = _dotted(node.func) if isinstance(node.func, (ast.Name, ast.Attribute)) else ""
            short = name.split(".")[-1]
            if short in ("setattr", "delattr") and node.args:
                if module_root(node.args[0]) or (
                    isinstance(node.args[0], ast.Constant)
                    and str(node.args[0].value).startswith(GRADING_ROOTS)
                ):
                    found.append(
                        (_line(node), _dotted(node.args[0]) or str(getattr(node.args[0], "value", "")))
                    )
            elif short in ("patch", "object", "dict", "multiple") and "patch" in name and node.args:
                first = node.args[0]
                if module_root(first) or (
                    isinstance(first, ast.Constant)
                    and isinstance(first.value, str)
                    and first.value.startswith(GRADING_ROOTS)
                ):
                    found.append((_line(node), _dotted(first) or str(getattr(first, "value", ""))))
    if not exercise_cell:
        found = [f for f in found if f[0] not in official]
    return found


def _fake_text(node: ast.AST) -> str | None:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and FAKE_PASS.search(sub.value):
            return sub.value
    return None


def fake_output(tree: ast.Module) -> list[str]:
    """Texts that imitate a passing check, printed (print, sys.stdout.write, display, Markdown, ...)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = (
                _dotted(node.func).split(".")[-1] if isinstance(node.func, (ast.Name, ast.Attribute)) else ""
            )
            if name in ("print", "write", "display", "Markdown", "HTML", "display_markdown", "warn", "info"):
                for arg in list(node.args) + [k.value for k in node.keywords]:
                    text = _fake_text(arg)
                    if text:
                        found.append(text[:80])
    return found


def reference_use(tree: ast.Module, forbidden: list[str], preamble_bindings: dict[str, str]) -> list[str]:
    """Ways the cell reads the library's answer: guarded objects (`forbidden`, "module:name"), the
    checks, or dynamic access that could reach them. Empty when there are none."""
    names = {t.partition(":")[2] for t in forbidden}
    own = {n for n in names if binds(tree, n)}
    modules = dict(_DEFAULT_ALIASES)
    modules.update({k: v for k, v in preamble_bindings.items()})
    modules.update(import_bindings(tree))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if _is_checks_import(a.name):
                    found.append(f"imports {a.name} (the grader's checks)")
                elif a.name.split(".")[0] in _DYNAMIC_MODULES:
                    found.append(f"imports {a.name} (dynamic access)")
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                if _is_checks_import(node.module, a.name):
                    found.append(f"imports {node.module}.{a.name} (the grader's checks)")
                elif node.module.startswith("mesalib") and a.name in names:
                    found.append(f"imports {a.name} from {node.module}")
            if node.module.split(".")[0] in _DYNAMIC_MODULES:
                found.append(f"imports from {node.module} (dynamic access)")
        elif isinstance(node, ast.Attribute):
            root = _root(node)
            target = modules.get(root or "", "")
            if node.attr in names and root in modules and root not in own:
                found.append(f"uses {_dotted(node)}")
            elif node.attr in ("reference", "_reference") and target.startswith("mesalib"):
                found.append(f"reads {_dotted(node)} (a check's reference)")
            elif node.attr == "modules" and target == "sys":
                found.append("uses sys.modules (dynamic access)")
            elif node.attr in _REFLECTIVE:
                found.append(f"uses .{node.attr} (reflection)")
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            bound = preamble_bindings.get(node.id, "")
            if node.id in names and node.id not in own and bound.startswith("mesalib"):
                found.append(f"uses {node.id} (imported from {bound.rpartition('.')[0]})")
            elif node.id in _DYNAMIC_CALLS or node.id == "__builtins__":
                found.append(f"uses {node.id} (dynamic access)")
        elif isinstance(node, ast.keyword) and node.arg == "dir_fd":
            found.append("uses dir_fd (files outside its folder)")
    return list(dict.fromkeys(found))
