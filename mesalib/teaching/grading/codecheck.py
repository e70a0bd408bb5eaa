"""Static checks of learners' code (Python's `ast`), made before anything runs.

These are reports for the instructor, not the defence: whatever the code does at run time happens in
its own sandbox, and its answers are judged in the grader's process.

- `runnable_source`: the Python a cell runs as, the same for the static checks and the sandbox:
  a cell magic on the first line that runs its body as Python (`%%time`, `%%capture` ...) is
  dropped, other cell magics (`%%bash`, `%%writefile` ...) leave no Python; `%magic` and `!shell`
  lines become `pass`.
- `parse`: the syntax tree of the runnable source, or the error.
- `tampering`: statements that change the grading machinery: assigning to (or deleting) an
  attribute or item of an imported module (`np.testing.assert_allclose = ...`,
  `checks.lesson02.distance_map = ...`, `sys.modules[...] = ...`), `setattr`/`delattr` on one,
  `mock.patch(...)` of one. In an exercise cell every imported module counts; in the notebook's
  other cells the modules of the grading machinery count (mesalib, numpy, sys, builtins), and
  statements that the official notebook itself contains are ignored.
- `reference_use`: naming the answer from the library when the exercise forbids it (see
  `references.REFERENCE_RULES`): importing or naming a guarded library object, importing
  `mesalib.teaching.checks` or touching a check's `.reference`. Ways around a name (getattr, exec,
  runpy, reading files) are not chased here: in the sandbox those objects have no code
  (`package_view.py`), and `provenance.py` reports what came from elsewhere.
- `fake_output`: printing text that imitates a passing check (`imitation.py`).
"""

from __future__ import annotations

import ast
import re
import threading

from mesalib.teaching.grading.imitation import imitates_check

__all__ = [
    "parse",
    "runnable_source",
    "needed_imports",
    "statement_keys",
    "preamble_imports",
    "binds",
    "tampering",
    "reference_use",
    "fake_output",
]

_MAGIC = re.compile(r"^(\s*)[%!].*$")
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "python", "python3"})
"""Cell magics whose body IPython runs as Python in the kernel."""
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


def runnable_source(source: str) -> str:
    """The Python the cell runs as (see the module's docstring); line numbers are kept."""
    lines = source.replace("\r\n", "\n").split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        magic = lines[first].lstrip()[2:].split(maxsplit=1)
        if not magic or magic[0] not in PYTHON_CELL_MAGICS:
            return ""
        lines[first] = ""
    return "\n".join(_MAGIC.sub(r"\1pass", line) for line in lines)


_PARSING = threading.Lock()


def parse_python(source: str) -> ast.Module:
    """`ast.parse`, one thread at a time. The grader reads learners' cells in several threads, and
    CPython 3.11's conversion of a syntax tree to Python objects is not thread-safe: two at once can
    fail with "SystemError: AST constructor recursion depth mismatch" (seen in CI)."""
    with _PARSING:
        return ast.parse(source)


def parse(source: str) -> tuple[ast.Module | None, str]:
    """(tree, "") or (None, "line N: message"), for the cell's runnable source."""
    try:
        return parse_python(runnable_source(source)), ""
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


def needed_imports(preamble: str, sources: list[str]) -> str:
    """The statements of the lesson's imports that bind a name the learner's cells use. The sandbox
    runs only these: a lesson that imports torch or matplotlib for its pictures costs its exercises
    nothing unless they use them (a name reached only through `globals()` is the price)."""
    used: set[str] = set()
    for source in sources:
        tree = parse(source)[0]
        if tree is not None:
            used |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    kept = []
    for node in parse_python(preamble).body:
        if import_bindings(ast.Module(body=[node], type_ignores=[])).keys() & used:
            kept.append(ast.unparse(node))
    return "\n".join(kept)


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


def _text(node: ast.AST) -> str:
    """The text a constant or f-string argument prints (a placeholder's source stands for its value)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            _text(v) if isinstance(v, ast.Constant) else (_dotted(v.value) or "0")
            for v in node.values
            if isinstance(v, (ast.Constant, ast.FormattedValue))
        )
    return " ".join(_text(sub) for sub in ast.iter_child_nodes(node))


def fake_output(tree: ast.Module, function: str) -> list[str]:
    """Texts that imitate a passing check of `function`, printed (print, sys.stdout.write, display, ...)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = (
                _dotted(node.func).split(".")[-1] if isinstance(node.func, (ast.Name, ast.Attribute)) else ""
            )
            if name in ("print", "write", "display", "Markdown", "HTML", "display_markdown", "warn", "info"):
                for arg in list(node.args) + [k.value for k in node.keywords]:
                    text = _text(arg)
                    if imitates_check(text, function):
                        found.append(text[:80])
    return found


def reference_use(tree: ast.Module, forbidden: list[str], preamble_bindings: dict[str, str]) -> list[str]:
    """Ways the cell names the library's answer: guarded objects (`forbidden`, "module:name") or the
    checks. Empty when there are none."""
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
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                if _is_checks_import(node.module, a.name):
                    found.append(f"imports {node.module}.{a.name} (the grader's checks)")
                elif node.module.startswith("mesalib") and a.name in names:
                    found.append(f"imports {a.name} from {node.module}")
        elif isinstance(node, ast.Attribute):
            root = _root(node)
            target = modules.get(root or "", "")
            if node.attr in names and root in modules and root not in own:
                found.append(f"uses {_dotted(node)}")
            elif node.attr in ("reference", "_reference") and target.startswith("mesalib"):
                found.append(f"reads {_dotted(node)} (a check's reference)")
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            bound = preamble_bindings.get(node.id, "")
            if node.id in names and node.id not in own and bound.startswith("mesalib"):
                found.append(f"uses {node.id} (imported from {bound.rpartition('.')[0]})")
    return list(dict.fromkeys(found))
