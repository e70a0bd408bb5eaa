"""The instructor's documents in course/ (and CONTRIBUTING.md) name only things that exist, so they
cannot drift from the code.

Everything a document in `course/` or `CONTRIBUTING.md` writes in backticks (inline or in a fenced
block) is read and checked against the repository and the library:

- commands: `mesalib <subcommand> --option ...` against `mesalib.teaching.cli.build_parser()` (subcommands,
  options, choices, agent and checkpoint names, lesson numbers); `make <target>` against the Makefile;
  paths inside other commands (`pytest`, `python`, ...) like any path;
- paths from the repository root (`mesalib/...`, `lessons/...`, `solutions/...`, `tests/...`, ...),
  globs included, must exist; a lesson notebook named anywhere (`02_heuristics.ipynb`) must exist;
- Python: every dotted name rooted at `mesalib`, at one of its submodules or at a name the package
  exports (`checkpoints.load`, `TRAIN.replace`, `mesalib.teaching.grading.grade`) must resolve by import and
  attribute lookup; keyword arguments of resolved calls must be parameters (dataclass fields for
  `replace`); Gymnasium ids `mesalib/...` must be registered and `gym.make` keywords must be
  `LevelDistribution` fields; `from mesalib... import ...` must work;
- names written without their module: a CamelCase or UPPER_CASE name (`Planner`, `UNREACHABLE`,
  `ValuePlanner.objective`) must be defined in some mesalib module (with its attributes) or, for
  notebook and environment variables, appear in the library's or the solutions' code; a snake_case
  name (`keys_held`, a grading status such as `check_edited`) must appear there too. A fenced block
  opened with ```` ```python new ```` is code the reader is asked to add: the names it defines may be
  used in the same document;
- exercise ids (`lesson02.distance_map`) must be exercises of `mesalib.teaching.checks`, with the points the
  check gives when a document states them; "Exercise 2.1" must be a header of lesson 02; "lesson 09"
  must be a notebook; the lesson map's times must be the notebooks' own "Time:" statements;
- Markdown links to local files must resolve;
- and the other way round: every exercise, every lesson (in the map, with its time), every option
  of `mesalib grade`, every grading status and output file, and the glossary's required terms are
  in `course/`.

The checker itself is tested on small synthetic documents that name things that do not exist.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import os
import re
import shlex
import textwrap
from dataclasses import fields, is_dataclass
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "course"
DOCS = (
    "README.md",
    "syllabus.md",
    "instructor_guide.md",
    "readings.md",
    "glossary.md",
    "jupyterhub.md",
    "sweeps.md",
    "exports.md",
)
"""The documents in course/."""
ROOT_DOCS = ("CONTRIBUTING.md",)
"""Documents at the repository root checked the same way (the README is the lead's, with its own tests)."""
REPO_ROOTS = {
    "mesalib",
    "lessons",
    "solutions",
    "tests",
    "benchmarks",
    "course",
    "Makefile",
    "README.md",
    "pyproject.toml",
    ".ci",
    "CONTRIBUTING.md",
    "CHANGELOG.md",
    "LICENSE",
}
"""First path components that are the repository's own: such paths must exist."""
OTHER_TOOLS_OPTIONS = {
    "--nbval-lax",
    "--nbval",
    "--doctest-modules",
    "--index-url",
    "--extra-index-url",
    "--no-index",
    "--find-links",
    "--help",
    "--version",
    "--user",
    "--upgrade",
}
"""Options of other tools (pytest, pip) that a document may name on their own."""
PYTHON_TOOLS = {
    "python",
    "python3",
    "pytest",
    "pip",
    "jupyter",
    "jupyterhub",
    "time",
    "cp",
    "ls",
    "mkdir",
    "rsync",
    "tar",
    "git",
    "cd",
    "export",
}
_NOT_OURS = {
    "True",
    "False",
    "None",
    "NaN",
    "Exception",
    "ValueError",
    "KeyError",
    "SystemExit",
    "KeyboardInterrupt",
    "BaseException",
    "NotImplementedError",
    "Path",
    "PATH",
    "HOME",
    "TMPDIR",
    "LANG",
    "CSV",
    "JSON",
    "CPU",
    "GPU",
    "CUDA",
    "PPO",
    "GAE",
    "BFS",
    "IRL",
    "URL",
    "API",
    "RL",
    "AI",
    "OK",
    "UTF",
    "TODO",
    "NB",
}
"""Capitalised names that belong to Python, the shell or plain English, not to the library."""
GYM_KEYWORDS = {
    "render_mode",
    "num_envs",
    "dist",
    "vectorization_mode",
    "max_episode_steps",
    "disable_env_checker",
    "vector_kwargs",
}
LESSON_NOTEBOOK = re.compile(r"^\d\d_[A-Za-z0-9_]+\.ipynb$")
EXERCISE_ID = re.compile(r"^lesson\d\d\.[A-Za-z_]\w*$")
PLACEHOLDER = re.compile(r"^(<.*>|[A-Z][A-Z0-9_]*|\.\.\.|\{.*\})$")


# --------------------------------------------------------------------------------------------------
# What exists


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    """Every subcommand by its words: "train", and nested ones as "sweep run"."""
    from mesalib.teaching.cli import build_parser

    def nested(parser: argparse.ArgumentParser, prefix: str = "") -> dict[str, argparse.ArgumentParser]:
        found = {}
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found[prefix + name] = sub
                    found.update(nested(sub, f"{prefix}{name} "))
        return found

    found = nested(build_parser())
    if not found:
        raise AssertionError("mesalib.teaching.cli.build_parser() has no subcommands")
    return found


def _make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return {
        m.group(1) for m in re.finditer(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", text, re.M) if m.group(1) != ".PHONY"
    }


def _exercises() -> dict:
    from mesalib.teaching import checks

    return checks.all_exercises()


def _lesson_numbers() -> set[str]:
    return {p.name[:2] for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")}


def _mesalib_roots() -> dict[str, list[str]]:
    """Names that, in a document's Python, stand for the library, each with its path under `mesalib`:
    the package's exports, and every module by its own name (`plots` is `mesalib.drawing.plots`)."""
    import pkgutil

    import mesalib

    names = {n: [n] for n in dir(mesalib) if not n.startswith("_")}
    for m in pkgutil.walk_packages(mesalib.__path__, "mesalib."):
        names.setdefault(m.name.rpartition(".")[2], m.name.split(".")[1:])
    names.pop("register", None)
    return names


_INDEX: dict[str, list] | None = None
_WORDS: set[str] | None = None
PROPER_NAME = re.compile(
    r"^(?:[A-Z][a-z0-9]+[A-Z]\w*|[A-Z][a-z0-9]+|[A-Z][A-Z0-9]*_[A-Z0-9_]+|[A-Z]{2,}[A-Z0-9]*)$"
)
"""CamelCase, Capitalised or UPPER_CASE identifiers: the proper names of code, checked even without a
module."""
SNAKE_NAME = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")
"""snake_case identifiers (with at least one underscore): a function, field, argument or status name."""


def _library_index() -> dict[str, list]:
    """Every module-level name of every mesalib module -> the objects it names."""
    global _INDEX
    if _INDEX is None:
        import pkgutil

        import mesalib

        _INDEX = {}
        for info in pkgutil.walk_packages(mesalib.__path__, "mesalib."):
            try:
                module = importlib.import_module(info.name)
            except Exception:  # an optional dependency missing: its names are simply not indexed
                continue
            for name, value in vars(module).items():
                if not name.startswith("__"):
                    _INDEX.setdefault(name, []).append(value)
    return _INDEX


def _code_words() -> set[str]:
    """Every identifier-like word in the library's sources and the solution notebooks' code (names a
    document may cite as they appear there: notebook variables, environment variables, statuses)."""
    global _WORDS
    if _WORDS is None:
        texts = [p.read_text() for p in (ROOT / "mesalib").rglob("*.py")]
        for path in (ROOT / "solutions").glob("*.ipynb"):
            texts += [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        _WORDS = set(re.findall(r"[A-Za-z_]\w*", "\n".join(texts)))
    return _WORDS


def _resolve_anywhere(chain: list[str]) -> str | None:
    """None when `chain` (a proper name, perhaps with attributes) names something in the library or
    the lessons; otherwise what is missing."""
    root, rest = chain[0], chain[1:]
    candidates = _library_index().get(root, [])
    if not candidates:  # a notebook variable or an environment variable: only the name can be checked
        return None if root in _code_words() else root
    return None if any(_has_path(obj, rest) for obj in candidates) else ".".join(chain)


def _has_path(obj, parts: list[str]) -> bool:
    for part in parts:
        if hasattr(obj, part):
            obj = getattr(obj, part)
        elif is_dataclass(obj) and part in {f.name for f in fields(obj)}:
            return True  # a field without a class-level default
        else:
            return False
    return True


# --------------------------------------------------------------------------------------------------
# Reading a document


def code_spans(text: str) -> list[tuple[str, str]]:
    """(kind, code) for every fenced block ("bash", "python", "python-new" or "" for others) and inline
    span ("inline"). A block opened with ```` ```python new ```` shows code the reader is asked to add:
    the names it defines at top level may be used elsewhere in the same document before they exist."""
    spans = []

    def fenced(match):
        lang = (match.group(1) or "").lower()
        kind = (
            "bash"
            if lang in ("bash", "sh", "shell", "console")
            else "python"
            if lang in ("python", "py")
            else ""
        )
        if kind == "python" and "new" in match.group(2).split():
            kind = "python-new"
        spans.append((kind, textwrap.dedent(match.group(3))))
        return "\n"

    rest = re.sub(r"^[ \t]*```([\w+-]*)([^\n]*)\n(.*?)^[ \t]*```[ \t]*$", fenced, text, flags=re.S | re.M)
    for match in re.finditer(r"(`+)((?:[^\n]|\n(?!\s*\n))+?)\1", rest):
        spans.append(("inline", re.sub(r"\s*\n\s*", " ", match.group(2)).strip()))
    return spans


def _prose(text: str) -> str:
    return re.sub(r"^[ \t]*```.*?^[ \t]*```[ \t]*$", "", text, flags=re.S | re.M)


# --------------------------------------------------------------------------------------------------
# Checks, one kind of thing each; each returns a list of problems (empty: fine)


def check_path(path: str) -> list[str]:
    clean = path.strip().rstrip("/").removeprefix("./")
    if not clean or clean.startswith(("http://", "https://", "~", "$", "/")):
        return []
    first = clean.split("/")[0]
    name = clean.split("/")[-1]
    if first in REPO_ROOTS:
        found = list(ROOT.glob(clean)) if any(c in clean for c in "*?[") else [ROOT / clean]
        if not any(p.exists() for p in found):
            return [f"the path {path!r} does not exist in the repository"]
        return []
    inside = [p for p in (ROOT / "mesalib").glob(f"**/{clean}") if "__pycache__" not in p.parts]
    if "/" in clean and inside:
        return [f"write {path!r} from the repository root ({inside[0].relative_to(ROOT)})"]
    if LESSON_NOTEBOOK.match(name) and not (ROOT / "lessons" / name).exists():
        return [f"{path!r} names a lesson notebook that lessons/ does not have"]
    return []


def _looks_like_path(span: str) -> bool:
    if " " in span or "(" in span or "=" in span:
        return False
    if re.fullmatch(r"[\w.*~?\[\]-]+(/[\w.*~?\[\]-]*)+/?", span):
        return True
    return bool(re.fullmatch(r"[\w.*-]+\.(py|ipynb|md|json|csv|pt|toml|txt|cfg)", span))


def check_mesalib_command(tokens: list[str]) -> list[str]:
    parsers = _subparsers()
    tokens = [t.strip("[]") for t in tokens]
    tokens = [t for t in tokens if t and t not in ("|", "...")]
    if not tokens:
        return []
    if tokens[0] in ("-h", "--help"):
        return []
    sub = tokens[0]
    if sub not in parsers:
        return [f"`mesalib {sub}`: no such subcommand (there are: {', '.join(sorted(parsers))})"]
    i = 1
    if len(tokens) > 1 and f"{sub} {tokens[1]}" in parsers:  # a nested subcommand: `mesalib sweep run`
        sub, i = f"{sub} {tokens[1]}", 2
    parser = parsers[sub]
    options = {s: a for a in parser._actions for s in a.option_strings}
    problems, positionals = [], []
    while i < len(tokens):
        token = tokens[i]
        if token.startswith("--") or (token.startswith("-") and len(token) == 2 and token[1].isalpha()):
            name, _, value = token.partition("=")
            if name not in options:
                problems.append(
                    f"`mesalib {sub} {name}`: no such option (it has: "
                    f"{', '.join(sorted(s for s in options if s.startswith('--')))})"
                )
                i += 1
                continue
            action = options[name]
            takes = action.nargs != 0
            values = []
            if takes and value:
                values = [value]
            elif takes:
                many = action.nargs in ("*", "+")
                while i + 1 < len(tokens) and not tokens[i + 1].startswith("-"):
                    values.append(tokens[i + 1])
                    i += 1
                    if not many:
                        break
            problems += _check_option_values(sub, name, action, values)
        else:
            positionals.append(token)
        i += 1
    if sub == "evaluate" and positionals:
        problems += _check_agent(positionals[0])
    return problems


def _check_option_values(sub: str, name: str, action, values: list[str]) -> list[str]:
    problems = []
    for value in values:
        if PLACEHOLDER.match(value):
            continue
        if action.choices and value not in action.choices:
            problems.append(f"`mesalib {sub} {name} {value}`: {value!r} is not one of {list(action.choices)}")
        if sub == "checkpoints" and name == "--only":
            from mesalib.agents import checkpoints

            if value not in checkpoints.RECIPES:
                problems.append(f"`mesalib checkpoints --only {value}`: no such recipe")
        if name == "--lesson" and value not in _lesson_numbers():
            problems.append(f"`mesalib {sub} --lesson {value}`: there is no lesson {value}")
        if action.type in (int, float):
            try:
                action.type(value)
            except ValueError:
                problems.append(f"`mesalib {sub} {name} {value}`: not a number")
    return problems


def _check_agent(agent: str) -> list[str]:
    from mesalib.agents import checkpoints
    from mesalib.agents.registry import POLICIES

    if PLACEHOLDER.match(agent) or agent in POLICIES or agent in checkpoints.RECIPES or agent.endswith(".pt"):
        return []
    return [f"`mesalib evaluate {agent}`: {agent!r} is no policy, shipped checkpoint or .pt file"]


def check_command(line: str) -> list[str] | None:
    """Problems of a shell command line, or None when the line is not a command we know."""
    line = line.strip()
    if line.startswith("$ "):
        line = line[2:]
    line = re.split(r"\s+#", line, maxsplit=1)[0].strip()
    if not line or line.startswith("#"):
        return []
    try:
        tokens = shlex.split(line)
    except ValueError:
        tokens = line.split()
    while tokens and re.fullmatch(r"[A-Z_]+=\S*", tokens[0]):  # VAR=value before the command
        tokens = tokens[1:]
    if not tokens:
        return []
    head = tokens[0]
    if head == "mesalib" or head.endswith("/bin/mesalib"):
        return check_mesalib_command(tokens[1:])
    if head == "make":
        targets = _make_targets()
        return [
            f"`make {t}`: the Makefile has no target {t!r}"
            for t in tokens[1:]
            if not t.startswith("-") and "=" not in t and t not in targets
        ]
    if head in PYTHON_TOOLS or head.endswith(("/python", "/pytest", "/pip", "/jupyter")):
        problems = []
        for token in tokens[1:]:
            if token.startswith("-") or "=" in token:
                continue
            if _looks_like_path(token) or "/" in token:
                problems += check_path(token)
        return problems
    return None


def _resolve(parts: list[str]):
    """The object `mesalib.<parts>` names, or raise LookupError with what is missing."""
    import mesalib

    obj = mesalib
    done = ["mesalib"]
    for part in parts:
        if hasattr(obj, part):
            obj = getattr(obj, part)
        elif inspect.ismodule(obj):
            try:
                obj = importlib.import_module(f"{obj.__name__}.{part}")
            except ModuleNotFoundError:
                raise LookupError(".".join(done + [part])) from None
        elif is_dataclass(obj) and part in {f.name for f in fields(obj)}:
            return None  # a field without a class-level default: it exists, and we go no further
        else:
            raise LookupError(".".join(done + [part]))
        done.append(part)
    return obj


def _dotted(node) -> list[str] | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id] + parts[::-1]
    return None


def new_names(code: str) -> set[str]:
    """The names a block of Python defines at its top level (assignments, functions, classes)."""
    names = set()
    for node in ast.parse(code).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def check_python(code: str, declared: frozenset[str] = frozenset()) -> list[str] | None:
    """Problems of a piece of Python, or None when it does not parse as Python. `declared`: names
    the document asks the reader to create (in a ```` ```python new ```` block), allowed to be missing."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    roots = _mesalib_roots()
    local = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            local.add(node.id)
        elif isinstance(node, ast.arg):
            local.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            local.add(node.name)
    problems: list[str] = []
    imported: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "mesalib":
            try:
                module = importlib.import_module(node.module)
            except ModuleNotFoundError:
                problems.append(f"`from {node.module} import ...`: no module {node.module}")
                continue
            for alias in node.names:
                if alias.name != "*" and not hasattr(module, alias.name):
                    try:
                        importlib.import_module(f"{node.module}.{alias.name}")
                    except ModuleNotFoundError:
                        problems.append(
                            f"`from {node.module} import {alias.name}`: {node.module} has no {alias.name}"
                        )
                        continue
                imported[alias.asname or alias.name] = node.module.split(".")[1:] + [alias.name]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "mesalib":
                    try:
                        importlib.import_module(alias.name)
                    except ModuleNotFoundError:
                        problems.append(f"`import {alias.name}`: no such module")
    # Longest dotted chains only: skip attributes that are the value of a larger attribute.
    inner = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    resolved: dict[int, object] = {}
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Attribute, ast.Name)) or id(node) in inner:
            continue
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            continue
        chain = _dotted(node)
        if not chain:
            continue
        root = chain[0]
        if root == "mesalib":
            parts = chain[1:]
        elif root in imported:
            parts = imported[root] + chain[1:]
        elif root in roots and root not in local:
            parts = roots[root] + chain[1:]
        else:
            if (
                SNAKE_NAME.match(root)
                and len(chain) == 1
                and root not in local
                and root not in imported
                and root not in _code_words()
                and root not in declared
            ):
                problems.append(f"`{root}` is a name that appears nowhere in mesalib or the lessons")
            if (
                PROPER_NAME.match(root)
                and root not in local
                and root not in imported
                and root not in _NOT_OURS
            ):
                missing = _resolve_anywhere(chain)
                if missing and missing.rsplit(".", 1)[-1] not in declared:
                    problems.append(
                        f"`{'.'.join(chain)}`: {missing} is defined nowhere in mesalib or the lessons"
                    )
            continue
        try:
            resolved[id(node)] = _resolve(parts)
        except LookupError as exc:
            if str(exc).rsplit(".", 1)[-1] not in declared:
                problems.append(f"`{'.'.join(chain)}`: {exc} does not exist")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.startswith("mesalib/")
        ):
            import gymnasium as gym

            if re.fullmatch(r"mesalib/[\w-]+-v\d+", node.value) and node.value not in gym.envs.registry:
                problems.append(f"{node.value!r} is not a registered Gymnasium id")
        if not isinstance(node, ast.Call):
            continue
        names = [k.arg for k in node.keywords if k.arg]
        chain = _dotted(node.func) or []
        if chain[-1:] in (["make"], ["make_vec"]) and chain[:1] in (["gym"], ["gymnasium"]):
            from mesalib.env.levels import LevelDistribution

            allowed = {f.name for f in fields(LevelDistribution)} | GYM_KEYWORDS
            problems += [
                f"`{'.'.join(chain)}(..., {k}=...)`: {k!r} is not a LevelDistribution field"
                for k in names
                if k not in allowed
            ]
            continue
        if id(node.func) not in resolved:
            continue
        problems += _check_keywords(".".join(chain), resolved[id(node.func)], names)
    return problems


def _check_keywords(name: str, obj, keywords: list[str]) -> list[str]:
    if obj is None or not keywords:
        return []
    allowed = None
    if inspect.ismethod(obj) and obj.__name__ == "replace" and is_dataclass(obj.__self__):
        allowed = {f.name for f in fields(obj.__self__)}
    elif inspect.isclass(obj) and is_dataclass(obj):
        allowed = {f.name for f in fields(obj) if f.init}
    else:
        try:
            signature = inspect.signature(obj)
        except (TypeError, ValueError):
            return []
        if any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
            return []
        allowed = {n for n, p in signature.parameters.items() if p.kind is not p.VAR_POSITIONAL}
    return [
        f"`{name}(..., {k}=...)`: {k!r} is not one of its parameters" for k in keywords if k not in allowed
    ]


def check_span(span: str, declared: frozenset[str] = frozenset()) -> list[str]:
    span = span.strip()
    if not span:
        return []
    command = check_command(span)
    if command is not None:
        return command
    if EXERCISE_ID.match(span):
        return [] if span in _exercises() else [f"`{span}` is not an exercise of mesalib.teaching.checks"]
    if span.startswith("--"):
        option = span.split()[0].split("=")[0]
        known = {s for p in _subparsers().values() for a in p._actions for s in a.option_strings}
        if option not in known | OTHER_TOOLS_OPTIONS:
            return [f"`{option}` is no option of any `mesalib` subcommand"]
        return []
    if _looks_like_path(span):
        return check_path(span)
    assignment = re.match(r"^([A-Za-z_]\w*)\s*=(?!=)", span)
    if assignment and assignment.group(1) not in _code_words() | declared:
        return [f"`{span}`: {assignment.group(1)!r} appears nowhere in mesalib or the lessons"]
    python = check_python(span, declared)
    return python or []


def check_prose(text: str) -> list[str]:
    problems = []
    prose = _prose(text)
    lessons = _lesson_numbers()
    for match in re.finditer(
        r"\b[Ll]essons? ((?:\d\d(?:,\s*|\s+and\s+|\s+to\s+|\s+or\s+|\s*-\s*|\s*–\s*))*\d\d)\b", prose
    ):
        for number in re.findall(r"\d\d", match.group(1)):
            if number not in lessons:
                problems.append(f"lesson {number}: there is no solutions/{number}_*.ipynb")
    headers = _exercise_headers()
    for match in re.finditer(r"\bExercises? (\d+)\.(\d+)\b", prose):
        number = f"{int(match.group(1)):02d}"
        if (number, match.group(0).split()[-1]) not in headers:
            problems.append(
                f"{match.group(0)}: lesson {number} has no header '## Exercise {match.group(0).split()[-1]}'"
            )
    exercises = _exercises()
    for match in re.finditer(r"`(lesson\d\d\.\w+)`\s*[(,:]?\s*(\d+)\s*points?\b", text):
        ex_id, points = match.group(1), int(match.group(2))
        if ex_id in exercises and exercises[ex_id].points != points:
            problems.append(f"`{ex_id}` is worth {exercises[ex_id].points} points, not {points}")
    return problems


def check_links(text: str, where: Path) -> list[str]:
    problems = []
    for match in re.finditer(r"\[[^\]]*\]\(([^)\s]+)\)", _prose(text)):
        target = match.group(1).split("#")[0]
        if not target or re.match(r"^[a-z]+:", target):
            continue
        if not Path(os.path.normpath(where.parent / target)).exists():
            problems.append(f"the link {match.group(1)!r} leads nowhere")
    return problems


def doc_problems(text: str, where: Path = COURSE / "synthetic.md") -> list[str]:
    problems = []
    spans = code_spans(text)
    declared = set()
    for kind, code in spans:
        if kind == "python-new":
            try:
                declared |= new_names(code)
            except SyntaxError:
                problems.append("a python block does not parse")
    declared = frozenset(declared)
    for kind, code in spans:
        if kind == "bash" or kind == "":
            for line in re.sub(r"\\\n", " ", code).splitlines():
                found = check_command(line)
                if found is None and kind == "bash":
                    found = []
                problems += found or []
        elif kind in ("python", "python-new"):
            found = check_python(code, declared)
            problems += ["a python block does not parse"] if found is None else found
        else:
            problems += check_span(code, declared)
    return problems + check_prose(text) + check_links(text, where)


_HEADERS: set | None = None


def _exercise_headers() -> set[tuple[str, str]]:
    global _HEADERS
    if _HEADERS is None:
        _HEADERS = set()
        for path in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"):
            nb = nbformat.read(path, as_version=4)
            for cell in nb.cells:
                if cell.cell_type == "markdown":
                    for m in re.finditer(r"^#+\s*Exercise (\d+\.\d+)", cell.source, re.M):
                        _HEADERS.add((path.name[:2], m.group(1)))
    return _HEADERS


def _notebook_time(number: str) -> int | None:
    path = next((ROOT / "solutions").glob(f"{number}_*.ipynb"))
    first = nbformat.read(path, as_version=4).cells[0].source
    match = re.search(r"\*\*Time:\*\*\s*about\s+(\d+)\s+minutes", first)
    return int(match.group(1)) if match else None


# --------------------------------------------------------------------------------------------------
# The repository's course/


@pytest.mark.parametrize("name", [f"course/{name}" for name in DOCS] + list(ROOT_DOCS))
def test_the_document_exists_and_names_only_what_exists(name):
    path = ROOT / name
    assert path.exists(), f"{name} is missing"
    problems = doc_problems(path.read_text(), path)
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)


def test_the_lesson_map_lists_every_lesson_with_its_own_time():
    text = (COURSE / "README.md").read_text()
    rows = {}
    for line in text.splitlines():
        match = re.search(r"lessons/(\d\d)_\w+\.ipynb", line)
        if line.startswith("|") and match:
            minutes = re.search(r"(\d+) min", line)
            rows[match.group(1)] = int(minutes.group(1)) if minutes else None
    missing = sorted(_lesson_numbers() - set(rows))
    assert not missing, f"course/README.md's lesson map lacks lesson(s) {missing}"
    for number, minutes in sorted(rows.items()):
        assert minutes == _notebook_time(number), (
            f"lesson {number}: the map says {minutes} min, "
            f"the notebook says about {_notebook_time(number)} minutes"
        )
    minutes = re.search(r"In all: (\d+) minutes", text)
    assert minutes and int(minutes.group(1)) == sum(_notebook_time(n) for n in _lesson_numbers()), (
        "course/README.md's total time is not the sum of the lessons' times"
    )
    totals = re.search(r"(\d+) points over (\d+) exercises", text)
    assert totals, "course/README.md no longer states the total points and exercises"
    exercises = _exercises()
    assert (int(totals.group(1)), int(totals.group(2))) == (
        sum(e.points for e in exercises.values()),
        len(exercises),
    ), (
        f"course/README.md says {totals.group(0)}; "
        f"the checks have {sum(e.points for e in exercises.values())} points over {len(exercises)} exercises"
    )


def test_every_exercise_is_named_in_the_course_documents():
    text = "\n".join((COURSE / name).read_text() for name in DOCS)
    missing = [ex_id for ex_id in _exercises() if f"`{ex_id}`" not in text]
    assert not missing, f"course/ never names these exercises: {missing}"


def test_the_instructor_guide_documents_every_option_of_mesalib_grade():
    text = (COURSE / "instructor_guide.md").read_text()
    options = {s for a in _subparsers()["grade"]._actions for s in a.option_strings if s.startswith("--")} - {
        "--help"
    }
    missing = sorted(o for o in options if f"`{o}" not in text and f" {o}" not in text)
    assert not missing, f"course/instructor_guide.md does not explain `mesalib grade` {missing}"


def test_the_instructor_guide_explains_every_grading_status_and_output_file():
    from mesalib.teaching.grading.report import STATUS_TITLES

    text = (COURSE / "instructor_guide.md").read_text()
    missing = sorted(status for status in STATUS_TITLES if f"`{status}`" not in text)
    assert not missing, f"course/instructor_guide.md does not explain the grading statuses {missing}"
    runner = (ROOT / "mesalib" / "teaching" / "grading" / "runner.py").read_text()
    written = set(re.findall(r'out / "([^"]+)"', runner))
    assert written, "mesalib/teaching/grading/runner.py no longer writes into out / ...: update this test"
    missing = sorted(name for name in written if f"`{name}" not in text)
    assert not missing, f"course/instructor_guide.md does not describe the output files {missing}"


def test_the_glossary_defines_the_terms_the_issue_asks_for():
    headings = [h.lower() for h in re.findall(r"^#+\s*(.+)$", (COURSE / "glossary.md").read_text(), re.M)]
    for term in (
        "mesa-optimizer",
        "base objective",
        "mesa-objective",
        "behavioural objective",
        "inner alignment",
        "outer alignment",
        "pseudo-alignment",
        "proxy alignment",
        "malign generalization",
        "goal misgeneralization",
        "capability robustness",
        "objective robustness",
        "intentional stance",
    ):
        assert any(term in h for h in headings), f"course/glossary.md has no entry for {term!r}"


# --------------------------------------------------------------------------------------------------
# The checker catches what does not exist


GOOD = """
# A small synthetic guide
Run `mesalib grade subs/ --out grades/ --seed 7 --lesson 02 --jobs 2`, then open `grades/gradebook.csv`.
`mesalib checkpoints --regenerate --only default` retrains one agent;
`mesalib evaluate nearest_key --on test`. `make course` and `make test`. The lesson
`lessons/02_heuristics.ipynb` and its check `mesalib/teaching/checks/lesson02.py`; every check lives in
`mesalib/teaching/checks/lesson*.py`. Exercise 2.1 is `lesson02.distance_map` (3 points), in lesson 02.
`mesalib.agents.heuristics.distance_map`, `checkpoints.load("default")`,
`TRAIN.replace(view=7, inventory_planes=2)`, `gym.make("mesalib/ChestsAndKeys-Test-v0", view=7)`,
`LevelDistribution.max_steps`, `mix(TRAIN, TEST, 0.1)` and `--resume`. See [the README](../README.md).
`Planner`, `ValuePlanner.objective`, `UNREACHABLE`, `PPOConfig.total_steps`, `KEYS_FIRST` (a lesson's name),
`MESALIB_THREADS`, `True`, `keys_held`, `check_edited`, `ghost_chests=True`, `LIVE_SEEDS = (10, 11)` and
a code span broken over `two
lines`.

```bash
.venv/bin/mesalib grade class/ --out out/ --seed 3 \\
    --timeout 30
pytest --nbval-lax lessons/00_welcome.ipynb
```

```python
from mesalib.env.levels import TRAIN, mix
from mesalib.agents import checkpoints
agent = checkpoints.load("default")
levels = TRAIN.sample(rng, 4)   # a local name that shadows a submodule is not the module
print(levels.keys, agent.stats)
```
"""

BAD = {
    "an unknown subcommand": ("`mesalib frobnicate --now`", "frobnicate"),
    "an unknown option": ("`mesalib grade subs/ --out o --seed 1 --no-such-option`", "--no-such-option"),
    "an option of another subcommand": ("`mesalib train --regenerate`", "--regenerate"),
    "a wrong choice": ("`mesalib evaluate default --on valid`", "valid"),
    "an unknown agent": ("`mesalib evaluate clever_agent`", "clever_agent"),
    "an unknown recipe": ("`mesalib checkpoints --regenerate --only alpha0.3`", "alpha0.3"),
    "an unknown lesson to grade": ("`mesalib grade subs/ --out o --seed 1 --lesson 42`", "42"),
    "a lone unknown option": ("`--regrade`", "--regrade"),
    "a make target": ("`make lectures`", "lectures"),
    "a missing file": ("`mesalib/teaching/grading/marking.py`", "marking.py"),
    "a missing lesson file": ("`lessons/10_deception.ipynb`", "10_deception"),
    "a glob that matches nothing": ("`mesalib/teaching/checks/lecture*.py`", "lecture*"),
    "a lesson file under another folder": ("`submissions/alice/11_extra.ipynb`", "11_extra"),
    "a path not from the root": ("`grading/runner.py`", "grading/runner.py"),
    "a missing function": ("`mesalib.policies.nearest_chest`", "nearest_chest"),
    "a missing module": ("`mesalib.interp.probe`", "interp"),
    "a missing attribute of a submodule": ('`checkpoints.download("default")`', "download"),
    "a missing field": ("`TRAIN.replace(doors=3)`", "doors"),
    "a wrong keyword": (
        "`mesalib.analysis.evaluate.evaluate(policy, TEST, episodes=10, levels=5)`",
        "levels",
    ),
    "an unregistered environment": ('`gym.make("mesalib/ChestsAndKeys-Hard-v0")`', "Hard"),
    "a gym keyword that is no field": ('`gym.make("mesalib/ChestsAndKeys-Test-v0", fog=True)`', "fog"),
    "a bad import": ("```python\nfrom mesalib.agents.heuristics import SmartPolicy\n```", "SmartPolicy"),
    "an unknown exercise": ("`lesson02.shortest_path`", "shortest_path"),
    "wrong points": ("`lesson02.distance_map` (5 points)", "distance_map"),
    "a missing lesson in prose": ("Lessons 08 and 42 go further.", "42"),
    "a missing exercise header": ("Exercise 2.9 is the hardest.", "2.9"),
    "a dead link": ("[notes](../notes/extra.md)", "extra.md"),
    "a command in a bash block": ("```bash\nmesalib checkpoints --list\n```", "--list"),
    "a class that does not exist": ("`SmartPlanner`", "SmartPlanner"),
    "a status that does not exist": ("`check_failed_badly`", "check_failed_badly"),
    "a keyword that does not exist": ("`view_size=7`", "view_size"),
    "a method that does not exist": ("`ValuePlanner.imagine`", "imagine"),
    "a constant that does not exist": ("`MAX_KEYS`", "MAX_KEYS"),
    "a new exercise used without being declared": (
        "```python\nchecks.lesson07.median_accuracy.run(f)\n```",
        "median_accuracy",
    ),
}


def test_a_document_naming_only_what_exists_passes():
    assert doc_problems(GOOD) == []


def test_a_document_may_use_what_it_asks_the_reader_to_create():
    declares = "```python new\nmedian_accuracy = Exercise(lesson='07', name='median_accuracy')\n```\n"
    uses = "```python\nfrom mesalib.teaching import checks\nchecks.lesson07.median_accuracy.run(f)\n```\n"
    assert doc_problems(GOOD + declares + uses) == []
    assert doc_problems(GOOD + uses)


@pytest.mark.parametrize("what", sorted(BAD))
def test_a_document_naming_what_does_not_exist_fails(what):
    snippet, culprit = BAD[what]
    problems = doc_problems(GOOD + "\n" + snippet + "\n")
    assert problems, f"{what}: {snippet!r} was not caught"
    assert any(culprit in p for p in problems), (what, problems)


def test_code_spans_reads_inline_and_fenced_code():
    spans = code_spans("a `x` b ``y `z` y``\n```bash\nmake test\n```\n`w`")
    assert ("inline", "x") in spans and ("inline", "y `z` y") in spans and ("bash", "make test\n") in spans
    assert ("inline", "w") in spans and ("inline", "make test") not in spans
