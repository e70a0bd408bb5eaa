"""Running a learner's exercise code in a separate, limited process.

A `Sandbox` owns one *fork server*: a Python process started once, which imports NumPy, mesalib,
the lesson's official imports and its checks module, then waits for requests. For each request
(one exercise of one learner) it forks a child, so that every exercise runs in a fresh process
without paying for the imports again. The child, before any learner code runs:

- starts a new session (the server kills the whole process group afterwards), asks to be killed
  if the server dies (PR_SET_PDEATHSIG, plus an alarm as a last resort), points stdin at /dev/null
  and stdout/stderr at a capture file, and turns the server's pipes into /dev/null;
- reads the case arguments (plain data, see `plain.py`) and opens its answer files;
- replaces the library objects that compute the exercise's answer, and every check's `reference`,
  with tripwires, and forgets `mesalib.teaching.checks`;
- changes into an empty working directory and empties the environment (PATH, HOME and TMPDIR
  pointing there, LANG, one thread for BLAS/OpenMP);
- sets limits with `resource.setrlimit`: CPU seconds, address space (what the server already
  maps plus the memory allowance), file size, no core files, and no new processes (for non-root);
- installs an audit hook (`sys.addaudithook`, which cannot be removed) that ends the process on
  forking or starting programs, signals, sockets and network modules, ctypes, writing, renaming,
  deleting or linking files outside the working directory, changing resource limits, walking the
  garbage collector's objects and importing `mesalib.teaching.checks`. The hook writes what happened to a
  file the grader reads and exits with code 86 before the learner's code can catch anything.

Then the child runs, in the namespace of the lesson's imports, the learner's earlier exercise cells
(errors ignored, as they were run in the notebook before), then the exercise cell, calls the function on each
case and writes the answers as plain data. The server waits with a wall-clock limit, kills the
process group when it is over, and reports the exit status, signal and resource use.

This is a course grader, not a security boundary against native code: it stops the cheats and
accidents a learner can write in Python. For a hostile class, run `mesalib grade` itself inside a
container as an unprivileged user.

Three modules: this one is the grader's side (`Limits`, `Sandbox`, `RunResult`); the fork server
and the child's lock-down are in `sandbox_server.py`; the audit hook and the tripwires in
`sandbox_guards.py`.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from mesalib.teaching.grading import plain

__all__ = ["Limits", "Sandbox", "RunResult", "VIOLATION_EXIT", "SETUP_FAILED_EXIT"]

VIOLATION_EXIT = 86
OUTPUT_MARKER = "\n[mesalib grading: the exercise cell starts here]\n"
SETUP_FAILED_EXIT = 70
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[3])
THREAD_VARS = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
}


@dataclass(frozen=True)
class Limits:
    """Per exercise: wall-clock and CPU seconds, memory above what the fork server maps (MiB),
    the largest file the code may write (its captured output included, MiB) and the most answer
    data the grader reads back (MiB)."""

    wall_s: float = 20.0
    cpu_s: float = 20.0
    memory_mb: int = 1024
    file_mb: int = 16
    answers_mb: int = 64


@dataclass
class RunResult:
    """What happened to one child: how it ended, what it reported and what it answered."""

    exit_code: int | None = None  # the exit status, when it exited
    signal: int | None = None  # the signal that ended it, when one did
    timed_out: bool = False
    wall_s: float = 0.0
    cpu_s: float = 0.0
    violation: str = ""  # "kind\tdetail" written by the audit hook or a tripwire
    status: str = ""  # the harness's own word: ok, not_implemented, exit_raised, ...
    detail: str = ""
    cell_error: str = ""
    answers: list | None = None  # decoded plain data (or plain.Raised / plain.NotPlain)
    output: str = ""  # the first 64 kB of what the code printed
    error: str = ""  # the sandbox itself failed (no verdict on the learner)


class Sandbox:
    """A fork server in its own process; `run` sends one request and waits for its result.

    Not thread-safe: give each grading thread its own Sandbox. `close()` ends the server (it also
    ends by itself when the grader's end of its pipe closes).
    """

    def __init__(self, debug: bool = False):
        self._proc: subprocess.Popen | None = None
        self._buffer = b""
        self._debug = debug or bool(os.environ.get("MESALIB_GRADING_DEBUG"))

    def _start(self) -> None:
        env = {**os.environ, **THREAD_VARS, "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg"}
        boot = (
            "import sys; sys.path.insert(0, sys.argv[1]); "
            "from mesalib.teaching.grading.sandbox_server import serve; serve()"
        )
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-c", boot, _PACKAGE_ROOT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None if self._debug else subprocess.DEVNULL,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
        self._buffer = b""

    def start(self) -> Sandbox:
        """Start the server now (it imports in the background while the grader prepares)."""
        if self._proc is None or self._proc.poll() is not None:
            self._start()
        return self

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            assert proc.stdin is not None  # started with stdin=PIPE
            proc.stdin.close()
            proc.wait(timeout=5)
        except Exception:
            kill_group(proc.pid)
            try:
                proc.wait(timeout=5)
            except Exception:
                pass
        try:
            assert proc.stdout is not None  # started with stdout=PIPE
            proc.stdout.close()
        except Exception:
            pass

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def _readline(self, deadline: float) -> bytes | None:
        assert self._proc is not None and self._proc.stdout is not None  # called after a request
        fd = self._proc.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def run(
        self,
        *,
        checks_module: str,
        exercise: str,
        function: str,
        preamble: str,
        earlier: list[str],
        cell: str,
        guards: list[str],
        cases: tuple[bytes, bytes],
        limits: Limits,
        startup_s: float = 120.0,
    ) -> RunResult:
        """Run one exercise: define the learner's function from `preamble`, the `earlier` exercise
        cells' definitions and `cell`, call it on `cases` (the two files of `plain.dumps`)."""
        io_dir = tempfile.mkdtemp(prefix="mesalib-grade-")
        try:
            os.mkdir(os.path.join(io_dir, "work"), 0o700)
            for name, data in zip(("cases.json", "cases.npz"), cases):
                with open(os.path.join(io_dir, name), "wb") as f:
                    f.write(data)
            request = {
                "checks_module": checks_module,
                "exercise": exercise,
                "function": function,
                "preamble": preamble,
                "earlier": earlier,
                "cell": cell,
                "guards": guards,
                "io": io_dir,
                "limits": asdict(limits),
            }
            reply = self._request(request, limits.wall_s + startup_s)
            if "error" in reply:
                return RunResult(error=reply["error"])
            return _collect(io_dir, reply, limits)
        finally:
            _remove_tree(io_dir)

    def _request(self, request: dict, wait_s: float) -> dict:
        for attempt in range(2):
            self.start()
            assert self._proc is not None and self._proc.stdin is not None  # start() made the server
            try:
                self._proc.stdin.write(json.dumps(request).encode() + b"\n")
                self._proc.stdin.flush()
            except (BrokenPipeError, OSError):
                self.close()
                if attempt == 0:
                    continue
                return {"error": "the sandbox server could not be started"}
            line = self._readline(time.monotonic() + wait_s)
            if line is None:
                self.close()
                return {"error": "the sandbox server stopped answering"}
            try:
                reply = json.loads(line)
            except ValueError:
                self.close()
                return {"error": "the sandbox server gave a damaged reply"}
            return reply
        return {"error": "the sandbox server could not be started"}


def _collect(io_dir: str, reply: dict, limits: Limits) -> RunResult:
    result = RunResult(
        exit_code=reply.get("exit_code"),
        signal=reply.get("signal"),
        timed_out=bool(reply.get("timed_out")),
        wall_s=float(reply.get("wall_s", 0.0)),
        cpu_s=float(reply.get("cpu_s", 0.0)),
    )
    limit = limits.answers_mb * 2**20

    def read(name: str, max_bytes: int) -> bytes:
        try:
            return plain.read_regular_file(os.path.join(io_dir, name), max_bytes)
        except (OSError, plain.PlainError):
            return b""

    output = read("output.txt", 2**30).decode("utf-8", "replace")
    result.output = output.partition(OUTPUT_MARKER)[2][:65536] if OUTPUT_MARKER in output else output[:65536]
    if result.exit_code == VIOLATION_EXIT:
        result.violation = read("violation.txt", 4096).decode("utf-8", "replace") or "forbidden\t"
    if result.exit_code == 0:
        try:
            text, arrays = read("answers.json", limit), read("answers.npz", limit)
            values, extra = plain.loads(text, arrays, limit)
        except plain.PlainError as exc:
            result.status, result.detail = "bad_answers", str(exc)
        else:
            result.answers = values
            result.status = str(extra.get("status", ""))[:50]
            result.detail = str(extra.get("detail", ""))[:2000]
            result.cell_error = str(extra.get("cell_error", ""))[:2000]
    return result


def kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
            return
        except (ProcessLookupError, PermissionError):
            continue


def _remove_tree(path: str) -> None:
    def retry(func, target, _exc):
        try:
            os.chmod(os.path.dirname(target), 0o700)
            os.chmod(target, 0o700)
            func(target)
        except OSError:
            pass

    shutil.rmtree(path, onerror=retry)
