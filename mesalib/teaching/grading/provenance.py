"""Whether an answer is the learner's own code: detected, not prevented (see the instructor guide).

Two signs, each reported with the status `provenance` (zero points; the instructor decides):

- *copied*: a function in the exercise cell has the same code as the library's answer (its
  reference or another object the exercise forbids), compared as syntax trees without docstrings,
  so that reformatting or new comments do not hide a copy. Tiny functions (a line or two) are not
  compared: honest work can match them by chance.
- *not defined in its cell*: the function the grader calls was not made by the exercise's own cell
  (it comes from an earlier exercise cell, from `exec` of some text, from a library file...). The
  sandbox's runner reports where its code object was compiled; a learner can hide that, which is
  why it is detection only.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap

from mesalib.teaching.grading.codecheck import parse_python

__all__ = ["MIN_NODES", "copied_function", "library_shapes", "origin_problem"]

MIN_NODES = 40
"""Functions with fewer syntax nodes than this are too small to call a copy."""


def _shape(function: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str, int]:
    """The function's body as a canonical string (docstring dropped, positions ignored), and its size."""
    body = list(function.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    module = ast.Module(body=body, type_ignores=[])
    return ast.dump(module, annotate_fields=False), sum(1 for _ in ast.walk(module))


def _functions(tree: ast.AST):
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def library_shapes(targets: list[str]) -> set[str]:
    """The canonical bodies of every function (methods included) of the library objects `targets`
    ("module:name"), large enough to compare."""
    shapes = set()
    for target in targets:
        module_name, _, name = target.partition(":")
        try:
            obj = getattr(importlib.import_module(module_name), name)
            source = textwrap.dedent(inspect.getsource(obj))
            tree = parse_python(source)
        except (ImportError, AttributeError, OSError, TypeError, SyntaxError):
            continue
        for function in _functions(tree):
            shape, size = _shape(function)
            if size >= MIN_NODES:
                shapes.add(shape)
    return shapes


def copied_function(tree: ast.Module, shapes: set[str]) -> str | None:
    """The name of a function in the cell whose code is the library's, or None."""
    for function in _functions(tree):
        shape, size = _shape(function)
        if size >= MIN_NODES and shape in shapes:
            return function.name
    return None


def origin_problem(function: str, origin: str) -> str | None:
    """The message for a graded function not defined in its own cell (`origin` from the sandbox)."""
    if not origin:
        return None
    if origin == "<earlier exercise cell>":
        where = "an earlier exercise cell"
    elif origin.startswith("<"):
        where = f"code compiled at run time ({origin}: exec, eval or compile of some text)"
    else:
        where = f"the file {origin}"
    return f"the {function}() graded is not defined in this exercise's cell: its code comes from {where}"
