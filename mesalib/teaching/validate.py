"""Validating a lesson the way a learner asks for it: `mesalib check lessons/02_heuristics.ipynb`.

The notebook runs top to bottom in a fresh kernel (nbclient) from a copy without its saved outputs,
so nothing an earlier run left behind can make correct work fail. Each check cell appends its
outcome to a results file (see `checks.RESULTS`); the report then lists every exercise of the lesson
as passed, not done or failed (with the check's case, expected, got and hint), and every other cell
that raised, named by the section it sits in (JupyterLab shows no cell numbers). A cell that runs past
the time limit, or code that ends the kernel (`os._exit`, running out of memory), stops the run there
and is reported the same way, never as a hang or a traceback of this module; so is a file that is not
a notebook at all.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from mesalib.teaching import checks
from mesalib.teaching.lessons import clean

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class CellError:
    """A cell that raised: where it is (section heading, first line of code) and what it raised.
    `stopped`: the cell ended the run (it timed out or its kernel died); `error` then says how."""

    section: str
    first_line: str
    error: str
    traceback: str
    stopped: bool = False


@dataclass
class CheckReport:
    """What `mesalib check` found: each exercise's outcome (None: its check never ran) and the errors."""

    notebook: str
    outcomes: dict[str, checks.Outcome | None] = field(default_factory=dict)
    errors: list[CellError] = field(default_factory=list)
    unreadable: str = ""
    """Why the file could not be read as a notebook at all (then nothing ran)."""

    @property
    def ok(self) -> bool:
        return (
            not self.unreadable
            and not self.errors
            and all(o is not None and o.ok for o in self.outcomes.values())
        )

    def text(self) -> str:
        lines = [f"{self.notebook}:"]
        if self.unreadable:
            return "\n".join(
                [*lines, f"  ! not a notebook Jupyter can open ({self.unreadable}): nothing ran."]
            )
        for name, outcome in self.outcomes.items():
            if outcome is None:
                lines.append(f"  ? {name}: not checked (its check cell did not run; see the errors below)")
            elif outcome.ok:
                lines.append(f"  ✓ {name}: passed ({outcome.total} cases)")
            elif outcome.not_done:
                lines.append(f"  · {name}: not done yet (its cell still raises NotImplementedError)")
            else:
                lines.append(f"  ✗ {name}: failed, {outcome.passed} of {outcome.total} cases pass")
                lines.extend("      " + line for line in outcome.failure.splitlines())
        for err in self.errors:
            what = err.error if err.stopped else f"raised {err.error}"
            lines.append(f"  ! a cell in “{err.section}” ({err.first_line}) {what}")
            lines.extend("      " + line for line in err.traceback.splitlines())
        done = sum(o is not None and o.ok for o in self.outcomes.values())
        verdict = "all good" if self.ok else "not yet"
        raised = f"{len(self.errors)} other cells raised"
        lines.append(f"{done} of {len(self.outcomes)} exercises pass; {raised}: {verdict}.")
        return "\n".join(lines)


def lesson_exercises(notebook: Path) -> list[str]:
    """The exercises checked in a lesson (by its number, "02_heuristics.ipynb" -> lesson "02"), in order."""
    number = notebook.name[:2]
    if not number.isdigit():
        return []
    return [ex.name for ex in checks.all_exercises().values() if ex.lesson == number]


def check_notebook(notebook: Path, timeout: int = 600, progress: bool = True) -> CheckReport:
    """Run `notebook` in a fresh kernel and report each exercise and every cell that raised."""
    report = CheckReport(str(notebook), dict.fromkeys(lesson_exercises(notebook)))
    try:
        nb = clean(nbformat.read(notebook, as_version=4))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # not JSON, not UTF-8, not a notebook
        report.unreadable = f"{type(exc).__name__}: {str(exc)[:200]}"
        return report
    with tempfile.TemporaryDirectory(prefix="mesalib-check-") as scratch:
        results = Path(scratch) / "results.jsonl"
        with _kernel_environment({checks.RESULTS: str(results), checks.VALIDATE: None}):
            report.errors = _run(nb, notebook.resolve().parent, Path(scratch), timeout, progress)
        if results.exists():
            for line in results.read_text(encoding="utf-8").splitlines():
                record = json.loads(line)
                name = record["exercise"].split(".", 1)[1]
                outcome = checks.Outcome(
                    record["exercise"],
                    record["passed"],
                    record["total"],
                    record["failure"],
                    record["not_done"],
                )
                report.outcomes[name] = outcome  # the last call of a check is the one that counts
    return report


def _run(
    nb: nbformat.NotebookNode, cwd: Path, scratch: Path, timeout: int, progress: bool
) -> list[CellError]:
    """Execute every cell, going on after errors (as Run All does, since checks never raise there).
    The kernel talks over Unix sockets in `scratch` (private to this user), not over TCP."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from tqdm.auto import tqdm

    # The asynchronous manager: with a blocking one, nbclient waits for output without a deadline,
    # so a cell that loops forever or a kernel that dies would hang the check instead of ending it.
    kernel = AsyncKernelManager(kernel_name=nb.metadata.get("kernelspec", {}).get("name", "python3"))
    kernel.transport, kernel.ip = "ipc", str(scratch / "kernel")
    client = NotebookClient(
        nb, km=kernel, timeout=timeout, allow_errors=True, resources={"metadata": {"path": str(cwd)}}
    )
    code = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    errors: list[CellError] = []
    try:
        with (
            client.setup_kernel(),
            tqdm(total=len(code), unit="cell", disable=not progress, leave=False) as bar,
        ):
            for index in code:
                try:
                    cell = client.execute_cell(nb.cells[index], index)
                except CellTimeoutError:
                    why = f"ran longer than the {timeout} s limit (--timeout), so the check stopped there"
                    return [*errors, _stopped(nb, index, why)]
                except DeadKernelError:
                    why = (
                        "ended its kernel (os._exit, a crash, or too little memory), "
                        "so the check stopped there"
                    )
                    return [*errors, _stopped(nb, index, why)]
                bar.update()
                errors += [_cell_error(nb, index, out) for out in cell.outputs if out.output_type == "error"]
    finally:  # nbclient leaves a kernel it did not create running
        if kernel.has_kernel:
            run_sync(kernel.shutdown_kernel)(now=True)
    return errors


def _cell_error(nb: nbformat.NotebookNode, index: int, out) -> CellError:
    trace = _ANSI.sub("", "\n".join(out.get("traceback", []))).strip().splitlines()[-8:]
    return CellError(*_where(nb, index), f"{out.ename}: {out.evalue}", "\n".join(trace))


def _stopped(nb: nbformat.NotebookNode, index: int, why: str) -> CellError:
    return CellError(*_where(nb, index), why, "", stopped=True)


def _where(nb: nbformat.NotebookNode, index: int) -> tuple[str, str]:
    """A cell as a learner finds it: the heading of its section, and its first line of code."""
    section = "the top of the notebook"
    for cell in reversed(nb.cells[:index]):
        heading = next((ln for ln in cell.source.splitlines() if ln.startswith("#")), None)
        if cell.cell_type == "markdown" and heading:
            section = heading.lstrip("# ").strip()
            break
    lines = [ln for ln in nb.cells[index].source.splitlines() if ln.strip() and not ln.startswith("# NBVAL")]
    return section, f"`{lines[0].strip()[:60]}`" if lines else "an empty cell"


@contextmanager
def _kernel_environment(changes: dict[str, str | None]) -> Iterator[None]:
    """Set (or, for None, remove) environment variables that the kernel inherits; restore them after."""
    saved = {name: os.environ.get(name) for name in changes}
    try:
        for name, value in changes.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
