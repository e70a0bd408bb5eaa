"""The runner inside one learner's sandbox: runs each exercise in a forked, limited child and sends
the answers to the grader as plain data.

Started by `sandbox.py` as the only process of a fresh bubblewrap sandbox (see `bwrap.py`), with the
learner's inputs read-only at /grading/in: `job.json` (the lesson's imports, and per exercise the
cell, the learner's earlier exercise cells, the call adapter and the case arguments). It imports the
lesson's imports once, then for each exercise forks a child (the per-learner speed trick: the imports
are paid once per learner, and no process is ever shared between learners) that

- gets its own process group, a fresh working folder under /tmp, stdin from /dev/null and its
  printed output in a file;
- sets its limits (CPU seconds, address space, file size, processes, open files, no core files);
- runs the learner's earlier exercise cells (errors ignored, output discarded), then the exercise's
  cell, and calls the function on each case, then writes its answers (`plain.py`) to a file.

The runner waits for the child with the exercise's wall-clock limit, kills its group, and writes one
JSON line per exercise to the grader. It is the sandbox's process 1, so the learner's code cannot
signal it; it runs as the learner's uid, though, so whatever the learner's code still manages to do
to it (its files in /tmp, its pipe where /proc allows) can only spoil that learner's own answers,
which the grader judges in its own process.
"""

from __future__ import annotations

import ast
import base64
import builtins
import copy
import json
import math
import os
import resource
import select
import signal
import sys
import time

from mesalib.teaching.grading import plain

__all__ = ["main"]

CELL_FILE = "<exercise cell>"
OUTPUT_BYTES = 65536
EXIT_SETUP_FAILED = 70
_PROTOCOL: list[int] = []  # the runner's pipe to the grader, closed in every child


def main(inputs: str, work: str) -> None:
    """Run every exercise of the job in `inputs` (folders under `work`) and write each reply to the
    grader (this process's stdout)."""
    with open(os.path.join(inputs, "job.json"), encoding="utf-8") as f:
        job = json.load(f)
    proto = os.dup(1)
    _PROTOCOL.append(proto)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    namespace = _lesson_namespace(job["preamble"])
    for index, exercise in enumerate(job["exercises"]):
        reply = _run_exercise(index, exercise, namespace, job["limits"], inputs, work)
        data = (json.dumps(reply) + "\n").encode()
        while data:
            data = data[os.write(proto, data) :]
    os._exit(0)


def _lesson_namespace(preamble: str) -> dict:
    """The lesson's imports, run once, one statement at a time (one failing does not stop the rest)."""
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    for node in ast.parse(preamble).body:
        try:
            exec(compile(ast.Module([node], []), "<lesson imports>", "exec"), namespace)
        except Exception:
            pass
    return namespace


def _run_exercise(index: int, exercise: dict, namespace: dict, limits: dict, inputs: str, work: str) -> dict:
    """Fork a child for the exercise, wait for it within the wall-clock limit, and collect its reply."""
    folder = os.path.join(work, f"exercise-{index}")
    os.mkdir(folder, 0o700)
    files = {name: os.path.join(folder, f".{name}") for name in ("output", "answers.json", "answers.npz")}
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            _child(exercise, namespace, limits, inputs, folder, files)
        finally:
            os._exit(EXIT_SETUP_FAILED)
    reply = _wait(pid, float(limits["wall_s"]), start)
    reply["exercise"] = exercise["name"]
    reply["output"] = _read(files["output"], OUTPUT_BYTES).decode("utf-8", "replace")
    if reply["exit_code"] == 0:
        limit = int(limits["answers_mb"]) * 2**20
        reply["answers_json"] = _read(files["answers.json"], limit).decode("utf-8", "replace")
        reply["answers_npz"] = base64.b64encode(_read(files["answers.npz"], limit)).decode()
    return reply


def _read(path: str, limit: int) -> bytes:
    try:
        return plain.read_regular_file(path, limit)
    except (OSError, plain.PlainError):
        return b""


def _grader_gone() -> bool:
    """Whether the grader's end of the reply pipe is closed (the grader died): a pipe's writer sees
    POLLERR once it has no reader."""
    poller = select.poll()
    for fd in _PROTOCOL:
        poller.register(fd, select.POLLOUT)
    return any(events & select.POLLERR for _, events in poller.poll(0))


def _wait(pid: int, wall_s: float, start: float) -> dict:
    """Wait for the child until it ends or its time is up, kill its group, reap it. If the grader
    dies meanwhile, kill the child and end: as the sandbox's process 1, that ends the sandbox."""
    deadline = start + wall_s
    timed_out = False
    while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        if time.monotonic() >= deadline:
            timed_out = True
            break
        if _grader_gone():
            os.killpg(pid, signal.SIGKILL)
            os._exit(EXIT_SETUP_FAILED)
        time.sleep(0.002)
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
            break
        except OSError:
            continue
    _, status, usage = os.wait4(pid, 0)
    return {
        "timed_out": timed_out,
        "wall_s": round(time.monotonic() - start, 4),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 4),
        "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
    }


def _child(exercise: dict, template: dict, limits: dict, inputs: str, folder: str, files: dict) -> None:
    """In the forked child: lock down, run the learner's code on the cases, write the answers, exit."""
    os.setpgid(0, 0)
    _die_with_parent()
    for fd in _PROTOCOL:
        os.close(fd)
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # Python ignores it; past the file-size limit, stop
    null = os.open(os.devnull, os.O_RDWR)
    out = os.open(files["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    answers = {
        name: os.open(files[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        for name in ("answers.json", "answers.npz")
    }
    os.chdir(folder)
    with open(os.path.join(inputs, exercise["cases"] + ".json"), "rb") as f:
        text = f.read()
    with open(os.path.join(inputs, exercise["cases"] + ".npz"), "rb") as f:
        arrays = f.read()
    cases, _ = plain.loads(text, arrays, int(limits["answers_mb"]) * 2**20)
    call = _adapter(exercise.get("call"))
    namespace = dict(template)
    _set_limits(limits)
    os.dup2(null, 1)
    os.dup2(null, 2)
    for source in exercise["earlier"]:  # the exercise cells before this one, as the notebook ran them
        try:
            exec(compile(source, "<earlier exercise cell>", "exec"), namespace)
        except BaseException:
            pass
    _flush()
    os.dup2(out, 1)
    os.dup2(out, 2)
    status, detail, cell_error, trees, arrays_out, origin = _run_cell(exercise, namespace, cases, call)
    _flush()
    document = {
        "values": trees,
        "status": status,
        "detail": detail,
        "cell_error": cell_error,
        "origin": origin,
    }
    _write_all(answers["answers.json"], json.dumps(document, allow_nan=True).encode())
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, **arrays_out)
    _write_all(answers["answers.npz"], buffer.getvalue())
    os._exit(0)


def _die_with_parent() -> None:
    """Ask Linux to kill this child when the runner dies (prctl PR_SET_PDEATHSIG), so that without
    bubblewrap too (a trusted class) no learner code outlives the grader; and never to grant it
    privileges again (PR_SET_NO_NEW_PRIVS: a set-user-id program it runs stays unprivileged)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)
        libc.prctl(38, 1, 0, 0, 0)
    except Exception:
        pass


def _adapter(source: str | None):
    """The exercise's own `call` (see `calls.py`), or None for `fn(**args)`."""
    if not source:
        return None
    scope: dict = {"__name__": "mesalib_grading_call"}
    exec(compile(source, "<exercise call>", "exec"), scope)
    return scope["call"]


def _run_cell(exercise: dict, namespace: dict, cases: list, call) -> tuple:
    """Run the exercise cell and the function on every case: (status, detail, cell error, answer
    trees, arrays, where the function was defined)."""
    status, detail, cell_error, origin = "ok", "", "", ""
    trees: list = []
    encoder = plain._Encoder()
    try:
        try:
            exec(compile(exercise["cell"], CELL_FILE, "exec"), namespace)
        except MemoryError:
            raise
        except Exception as exc:
            cell_error = _exception_text(exc)
        fn = namespace.get(exercise["function"])
        if not callable(fn):
            return "no_function", cell_error or "the cell does not define it", cell_error, [], {}, ""
        origin = _origin(fn)
        for args in cases:
            try:
                value = call(fn, args) if call is not None else fn(**copy.deepcopy(args))
            except NotImplementedError:
                status = "not_implemented"
                break
            except MemoryError:
                status, detail = "memory_limit", "MemoryError"
                break
            except Exception as exc:
                trees.append(plain.raised_tree(exc))
                continue
            try:
                trees.append(encoder.encode(value))
            except (plain.PlainError, RecursionError) as exc:
                trees.append({"#": "other", "type": f"too large ({exc})"[:100]})
    except MemoryError:
        status, detail = "memory_limit", "MemoryError"
    except BaseException as exc:  # SystemExit, KeyboardInterrupt, GeneratorExit ... raised by the learner
        status, detail = "exit_raised", type(exc).__name__
    return status, detail, cell_error, trees, encoder.arrays, origin


def _origin(fn) -> str:
    """Where the graded function's code comes from: "" when from the exercise's own cell (or when it
    is not a Python function), else the file its code object names (a library file, another cell,
    "<string>" for exec)."""
    for _ in range(10):  # through functools.wraps-style decorators
        inner = getattr(fn, "__wrapped__", None)
        if inner is None:
            break
        fn = inner
    if isinstance(fn, type):  # a class: where its own __init__ or __call__ was written
        fn = vars(fn).get("__init__") or vars(fn).get("__call__")
    code = getattr(fn, "__code__", None)
    if code is None:  # not Python code of its own (functools.partial, np.vectorize ...): nothing to say
        return ""
    return "" if code.co_filename == CELL_FILE else str(code.co_filename)[:200]


def _exception_text(exc: BaseException) -> str:
    try:
        return f"{type(exc).__name__}: {exc}"[:300]
    except Exception:
        return type(exc).__name__


def _set_limits(limits: dict) -> None:
    cpu = max(1, math.ceil(float(limits["cpu_s"])))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    address_space = _vm_bytes() + int(limits["memory_mb"]) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    size = int(limits["file_mb"]) * 2**20
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    processes = _threads_running() + int(limits["processes"])
    resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))


def _vm_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _threads_running() -> int:
    """Threads of every process in this sandbox (what RLIMIT_NPROC counts for this uid here)."""
    total = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                total += len(os.listdir(f"/proc/{entry}/task"))
            except OSError:
                pass
    return total


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def _write_all(fd: int, data: bytes) -> None:
    os.ftruncate(fd, 0)  # from the start: the learner's code may have written to it
    offset = 0
    while offset < len(data):
        offset += os.pwrite(fd, data[offset:], offset)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
