"""How the sandbox calls a learner's function when the exercise overrides `Exercise.call`.

Most exercises call the function with a case's arguments (`fn(**args)`). Some convert first (torch
tensors in, plain data out: `lesson04.TensorExercise`). The conversion code lives in the lesson's
checks module, which the sandbox must not see (it names the references). So the grader extracts,
from that module's source, only the `call` method and the top-level definitions and imports it needs
(a closure over names), and hands that small module to the sandbox as text. References are never in
it: an import is kept only when a kept definition uses a name it binds, and a kept definition naming
an exercise's reference is refused.
"""

from __future__ import annotations

import ast
import inspect
import textwrap

from mesalib.teaching.checks import Exercise
from mesalib.teaching.grading.codecheck import parse_python

__all__ = ["call_source"]


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _bound(statement: ast.stmt) -> set[str]:
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in statement.names}
    return set()


def call_source(exercise: Exercise) -> str | None:
    """Python source defining `call(fn, args)` as `exercise.call` does, or None when the exercise uses
    the plain `fn(**args)`."""
    method = type(exercise).call
    if method is Exercise.call:
        return None
    module = inspect.getmodule(method)
    if module is None:
        raise ValueError(f"the call of {exercise.id} has no module")
    tree = parse_python(inspect.getsource(module))
    body = textwrap.dedent(inspect.getsource(method))
    function = parse_python(body).body[0]
    assert isinstance(function, ast.FunctionDef)
    function.name = "_exercise_call"
    function.decorator_list = []
    needed = _names(function)
    kept: list[ast.stmt] = []
    changed = True
    while changed:
        changed = False
        for statement in tree.body:
            if statement in kept or not (_bound(statement) & needed):
                continue
            if isinstance(statement, ast.ImportFrom) and "checks" in (statement.module or ""):
                raise ValueError(f"the call of {exercise.id} needs the checks ({ast.unparse(statement)})")
            kept.append(statement)
            needed |= _names(statement)
            changed = True
    source = "\n".join(ast.unparse(s) for s in sorted(kept, key=lambda s: s.lineno))
    if "reference" in source:
        raise ValueError(f"the call of {exercise.id} uses a reference; it cannot go into the sandbox")
    entry = "def call(fn, args):\n    return _exercise_call(None, fn, args)\n"
    return f"{source}\n\n{ast.unparse(function)}\n\n\n{entry}"
