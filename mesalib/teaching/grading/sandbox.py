"""Running one learner's exercises in an operating-system sandbox, from the grader's side.

For each learner the grader writes a job (the lesson's imports, the learner's cells, the case
arguments: plain data only; the seed, the expected answers and the grader's state never leave its
process) into a folder of its own, starts a fresh bubblewrap sandbox (`bwrap.py`) that sees that
folder read-only and runs `inside.py`, and reads one JSON reply per exercise from the sandbox's
stdout, with a cap on the bytes and a wall-clock deadline. When the deadline passes or the cap is
reached it kills the sandbox (its namespace dies with it); exercises without a reply become that
learner's `timeout` or `crashed`, never anybody else's. The job folder is removed afterwards.

Without bubblewrap (`trusted=True`, only for a class the instructor trusts) the same runner runs as
a plain child process: the limits and the answers-as-data still hold, the isolation does not.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from mesalib.teaching.grading import bwrap, plain

__all__ = ["ExerciseJob", "Limits", "RunResult", "Sandbox"]

_BOOT = (
    "import sys; sys.path[:0] = [sys.argv[1]]; sys.path += sys.argv[2].split(':') if sys.argv[2] else []; "
    "from mesalib.teaching.grading.inside import main; main(sys.argv[3], sys.argv[4])"
)
_REPLY_SLACK = 2**20


@dataclass(frozen=True)
class Limits:
    """Per exercise: wall-clock and CPU seconds, memory above what the runner maps (MiB), the largest
    file (its printed output included, MiB), the most answer data read back (MiB) and the processes
    or threads it may add (none by default: a fork bomb's first fork fails, instead of respawning
    until the wall clock). Per learner: the size of its /tmp (MiB) and the seconds its sandbox may
    take to start and import the lesson's modules."""

    wall_s: float = 20.0
    cpu_s: float = 20.0
    memory_mb: int = 1024
    file_mb: int = 16
    answers_mb: int = 64
    processes: int = 0
    tmp_mb: int = 256
    startup_s: float = 60.0


@dataclass
class ExerciseJob:
    """One exercise for the sandbox: the function to call, the learner's cells, the cases (the two
    files of `plain.dumps`) and the exercise's own call adapter (`calls.py`), if any."""

    function: str
    cell: str
    earlier: list[str]
    cases: tuple[bytes, bytes]
    call: str | None = None


@dataclass
class RunResult:
    """What happened to one exercise's child: how it ended, what it reported and what it answered.
    Everything but `error` and `timed_out` (when the grader's deadline passed) comes from inside."""

    exit_code: int | None = None
    signal: int | None = None
    timed_out: bool = False
    wall_s: float = 0.0
    cpu_s: float = 0.0
    status: str = ""  # the runner's word: ok, not_implemented, exit_raised, no_function, memory_limit
    detail: str = ""
    cell_error: str = ""
    origin: str = ""  # where the graded function was defined, when not in its own cell
    answers: list | None = None
    output: str = ""
    error: str = ""  # the sandbox itself failed (no verdict on the learner)
    lost: str = ""  # the sandbox ended before this exercise's reply: "timeout" or "crashed"


class Sandbox:
    """Runs learners' jobs; one bubblewrap sandbox per `run` call (per learner), none shared.

    `view`: the generated package folder (`package_view.build_view`); `scratch`: a folder of the
    grader's own for the job folders; `trusted`: run without bubblewrap (no isolation)."""

    def __init__(self, view: Path, scratch: Path, trusted: bool = False):
        self.view, self.scratch, self.trusted = Path(view), Path(scratch), trusted
        self.python, sites = bwrap.python_paths()
        self.sites = ":".join(sites)

    def run(self, preamble: str, jobs: list[ExerciseJob], limits: Limits) -> list[RunResult]:
        """One result per job, in order; never raises for anything the learner's code does."""
        if not jobs:
            return []
        folder = Path(tempfile.mkdtemp(prefix="learner-", dir=self.scratch))
        try:
            inputs, work = folder / "in", folder / "work"
            inputs.mkdir()
            work.mkdir()
            _write_job(inputs, preamble, jobs, limits)
            for path in (folder, inputs, work, *inputs.iterdir()):  # readable by the sandbox's uid
                path.chmod(0o755 if path.is_dir() else 0o644)
            with bwrap.user_namespace() if not self.trusted else contextlib.nullcontext() as fd:
                proc = self._start(inputs, work, limits, fd)
                replies, ended = _collect(proc, len(jobs), limits)
        except OSError as exc:
            return [RunResult(error=f"the sandbox could not be started ({exc})") for _ in jobs]
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return [_result(replies[i] if i < len(replies) else None, ended, limits) for i in range(len(jobs))]

    def _start(self, inputs: Path, work: Path, limits: Limits, userns_fd: int | None) -> subprocess.Popen:
        if self.trusted:
            argv = [self.python, "-I", "-S", "-c", _BOOT, str(self.view), self.sites, str(inputs), str(work)]
            env = {**bwrap.ENVIRONMENT, "HOME": str(work), "TMPDIR": str(work)}
            return subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                cwd=work,
                start_new_session=True,
            )
        args = [bwrap.PACKAGE, self.sites, bwrap.INPUT, bwrap.WORK]
        return subprocess.Popen(
            bwrap.command(self.view, inputs, _BOOT, args, limits.tmp_mb, userns_fd),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={},
            start_new_session=True,
            pass_fds=() if userns_fd is None else (userns_fd,),
        )


def _write_job(inputs: Path, preamble: str, jobs: list[ExerciseJob], limits: Limits) -> None:
    exercises = []
    for i, job in enumerate(jobs):
        for suffix, data in zip((".json", ".npz"), job.cases):
            (inputs / f"cases-{i}{suffix}").write_bytes(data)
        exercises.append(
            {
                "name": job.function,
                "function": job.function,
                "cell": job.cell,
                "earlier": job.earlier,
                "cases": f"cases-{i}",
                "call": job.call,
            }
        )
    document = {"preamble": preamble, "exercises": exercises, "limits": asdict(limits)}
    (inputs / "job.json").write_text(json.dumps(document), encoding="ascii")  # odd characters escaped


def _collect(proc: subprocess.Popen, expected: int, limits: Limits) -> tuple[list[bytes], str]:
    """The reply lines of the sandbox (at most `expected`), and how it ended: "" (it exited),
    "timeout" (the deadline passed) or "crashed" (too much data, or it exited early)."""
    assert proc.stdout is not None and proc.stderr is not None
    deadline = time.monotonic() + limits.startup_s + expected * (limits.wall_s + 1.0)
    cap = expected * (limits.answers_mb * 2**20 * 4 // 3 + 2 * 65536) + _REPLY_SLACK
    out, err = bytearray(), bytearray()
    streams = {proc.stdout.fileno(): out, proc.stderr.fileno(): err}
    ended = ""
    try:
        while streams:
            left = deadline - time.monotonic()
            if left <= 0:
                ended = "timeout"
                break
            ready, _, _ = select.select(list(streams), [], [], left)
            for fd in ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    del streams[fd]
                    continue
                buffer = streams[fd]
                if buffer is err:
                    err += chunk[: max(0, 65536 - len(err))]
                else:
                    out += chunk
            if len(out) > cap:
                ended = "crashed"
                break
    finally:
        _kill(proc, wait_s=0.0 if ended else 5.0)
        proc.stdout.close()
        proc.stderr.close()
    lines = bytes(out).split(b"\n")
    replies = [line for line in lines[:-1]][:expected]
    if not ended and len(replies) < expected:
        ended = "crashed"
        if not replies and proc.returncode not in (0, None):
            message = err.decode("utf-8", "replace").strip()[-500:]
            if message and ("bwrap" in message or "Traceback" in message):
                ended = "error:" + message
    return replies, ended


def _kill(proc: subprocess.Popen, wait_s: float) -> None:
    """End the sandbox: bwrap dies, and with it (--die-with-parent) its namespace and every process in
    it. A sandbox that closed its output is first given `wait_s` to exit by itself."""
    try:
        proc.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        pass
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            proc.kill()
    proc.wait()


def _result(line: bytes | None, ended: str, limits: Limits) -> RunResult:
    if line is None:
        if ended.startswith("error:"):
            return RunResult(error="the sandbox failed to start: " + ended[6:])
        return RunResult(lost=ended or "crashed", timed_out=ended == "timeout")
    try:
        reply = json.loads(line)
        if type(reply) is not dict:
            raise ValueError("not an object")
        result = RunResult(
            exit_code=_int_or_none(reply.get("exit_code")),
            signal=_int_or_none(reply.get("signal")),
            timed_out=reply.get("timed_out") is True,
            wall_s=float(reply.get("wall_s", 0.0)),
            cpu_s=float(reply.get("cpu_s", 0.0)),
            output=str(reply.get("output", ""))[:65536],
        )
    except (ValueError, TypeError) as exc:
        return RunResult(exit_code=0, status="bad_answers", detail=f"a damaged reply ({exc})"[:200])
    if result.exit_code == 0:
        try:
            limit = limits.answers_mb * 2**20
            text = str(reply.get("answers_json", "")).encode("utf-8", "surrogatepass")
            arrays = base64.b64decode(str(reply.get("answers_npz", "")), validate=True)
            values, extra = plain.loads(text, arrays, limit)
        except (ValueError, plain.PlainError) as exc:
            result.status, result.detail = "bad_answers", str(exc)[:300]
        else:
            result.answers = values
            result.status = str(extra.get("status", ""))[:50]
            result.detail = str(extra.get("detail", ""))[:300]
            result.cell_error = str(extra.get("cell_error", ""))[:300]
            result.origin = str(extra.get("origin", ""))[:200]
    return result


def _int_or_none(value) -> int | None:
    return value if type(value) is int else None
