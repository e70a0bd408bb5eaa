"""The fork server of the sandbox, and what its forked child does before and while it runs learner code.

`sandbox.py` is the grader's side and says what the child locks down and why; the audit hook and
the tripwires the child installs are in `sandbox_guards.py`. The server is started by `Sandbox`
as `python -I -c "... serve()"` and speaks one JSON request and one JSON reply per line.
"""

from __future__ import annotations

import builtins
import copy
import importlib
import json
import math
import os
import select
import signal
import sys
import tempfile
import time
from collections.abc import Callable

from mesalib.teaching.grading import plain
from mesalib.teaching.grading.sandbox import OUTPUT_MARKER, SETUP_FAILED_EXIT, THREAD_VARS, kill_group
from mesalib.teaching.grading.sandbox_guards import (
    forget_checks,
    install_tripwires,
    make_audit_hook,
    reporter,
)

__all__ = ["serve"]

_PROTOCOL_FDS: tuple[int, ...] = ()


def serve() -> None:
    """The fork server's main loop: one JSON request per line in, one JSON reply per line out."""
    global _PROTOCOL_FDS
    sys.dont_write_bytecode = True
    proto_in, proto_out = os.dup(0), os.dup(1)
    _PROTOCOL_FDS = (proto_in, proto_out)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)  # stray prints of imported modules must not reach the protocol
    os.close(null)
    import numpy  # noqa: F401  (the fork children share these imports)

    import mesalib  # noqa: F401

    reader = os.fdopen(proto_in, "rb", closefd=False)
    for line in reader:
        try:
            request = json.loads(line)
            reply = _handle(request)
        except Exception as exc:  # a bug in the server: the grader records a sandbox error
            reply = {"error": f"sandbox server error: {type(exc).__name__}: {exc}"}
        data = json.dumps(reply).encode() + b"\n"
        while data:
            data = data[os.write(proto_out, data) :]


_CACHE: dict = {}


def _prepare(request: dict) -> tuple:
    """Import the lesson's official imports and its checks module once per server; the key to them."""
    key = (request["checks_module"], request["preamble"])
    if key not in _CACHE:
        import ast

        namespace = {"__name__": "__main__", "__builtins__": builtins}
        for node in ast.parse(request["preamble"]).body:  # the official imports, one by one
            try:
                exec(compile(ast.Module([node], []), "<lesson imports>", "exec"), namespace)
            except Exception:
                pass
        _CACHE[key] = (namespace, importlib.import_module(request["checks_module"]))
    return key


def _handle(request: dict) -> dict:
    key = _prepare(request)
    sys.stdout.flush()
    sys.stderr.flush()
    start = time.monotonic()
    server = os.getpid()
    pid = os.fork()
    if pid == 0:
        _child(request, key, server)  # never returns
        os._exit(SETUP_FAILED_EXIT)
    return _wait(pid, float(request["limits"]["wall_s"]), start)


def _wait(pid: int, wall_s: float, start: float) -> dict:
    """Wait for the child until it ends or its time is up; kill its process group while the child is
    still unreaped (so neither its pid nor its group id can have been reused), then reap it."""
    deadline = start + wall_s
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    timed_out = False
    try:
        while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            if pidfd is not None:
                select.select([pidfd], [], [], left)
            else:
                time.sleep(min(0.005, left))
    finally:
        if pidfd is not None:
            os.close(pidfd)
    kill_group(pid)  # on time-out the child itself; otherwise whatever it left behind in its group
    _, status, usage = os.wait4(pid, 0)
    reply = {
        "timed_out": timed_out,
        "wall_s": round(time.monotonic() - start, 4),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 4),
        "maxrss_kb": usage.ru_maxrss,
        "exit_code": None,
        "signal": None,
    }
    if os.WIFEXITED(status):
        reply["exit_code"] = os.WEXITSTATUS(status)
    elif os.WIFSIGNALED(status):
        reply["signal"] = os.WTERMSIG(status)
    return reply


def _vm_bytes() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 * 4


def _set_limits(limits: dict) -> None:
    import resource

    cpu = max(1, math.ceil(float(limits["cpu_s"])))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    address_space = _vm_bytes() + int(limits["memory_mb"]) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    size = int(limits["file_mb"]) * 2**20
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if os.geteuid() != 0:  # root ignores RLIMIT_NPROC; the audit hook still stops forks
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))


def _die_with_server(server: int) -> None:
    """Ask Linux to kill this child if the server dies (prctl PR_SET_PDEATHSIG), so that no learner
    code outlives the grader; the server enforces the wall-clock limit as long as it lives."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except Exception:
        pass
    if os.getppid() != server:  # the server died before the request took effect
        os._exit(SETUP_FAILED_EXIT)


def _child(request: dict, key: tuple, server: int) -> None:
    """In the forked child: lock down, run the learner's code on the cases, write the answers, exit."""
    try:
        os.setsid()
        _die_with_server(server)
        signal.alarm(int(math.ceil(float(request["limits"]["wall_s"]))) + 10)  # if the server cannot kill it
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # Python ignores it; past the file-size limit, stop
        io_dir = request["io"]
        work = os.path.realpath(os.path.join(io_dir, "work"))
        opened = _redirect_files(io_dir)
        cases = _read_cases(io_dir, int(request["limits"]["answers_mb"]) * 2**20)
        report = reporter(opened["violation.txt"])
        namespace, call = _learner_namespace(key, request["exercise"])
        install_tripwires(list(request["guards"]), namespace, report)
        forget_checks()
        _empty_environment(work)
        _set_limits(request["limits"])
        sys.addaudithook(
            make_audit_hook(work, report, ("mesalib.teaching.checks", "mesalib.teaching.grading"))
        )
    except BaseException as exc:  # the harness failed before any learner code ran
        try:
            os.write(2, f"sandbox setup failed: {type(exc).__name__}: {exc}\n".encode())
        finally:
            os._exit(SETUP_FAILED_EXIT)
    _run_learner(request, namespace, cases, call, opened)


def _redirect_files(io_dir: str) -> dict[str, int]:
    """Point stdin and the protocol pipes at /dev/null and stdout/stderr at the capture file, open the
    answer and violation files, and close every other descriptor inherited from the server."""
    null = os.open(os.devnull, os.O_RDWR)
    out = os.open(os.path.join(io_dir, "output.txt"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    for fd in _PROTOCOL_FDS:
        os.dup2(null, fd)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    opened = {
        name: os.open(os.path.join(io_dir, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        for name in ("answers.json", "answers.npz", "violation.txt")
    }
    keep = {0, 1, 2, *opened.values(), *_PROTOCOL_FDS}
    for fd in range(3, max(keep) + 64):
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass
    return opened


def _read_cases(io_dir: str, limit: int) -> list:
    """The case arguments the grader wrote (plain data, see `plain.py`)."""
    with open(os.path.join(io_dir, "cases.json"), "rb") as f:
        text = f.read()
    with open(os.path.join(io_dir, "cases.npz"), "rb") as f:
        arrays = f.read()
    cases, _ = plain.loads(text, arrays, limit)
    return cases


def _learner_namespace(key: tuple, exercise_name: str) -> tuple[dict, Callable | None]:
    """A copy of the lesson's imports for the learner's code, and the exercise's `call` (for
    functions that take other types, such as tensors). The server's cache is emptied, so nothing
    left in this process leads back to the server's own namespaces or to the checks."""
    template, module = _CACHE[key]
    call = getattr(getattr(module, exercise_name, None), "call", None)
    namespace = dict(template)
    _CACHE.clear()
    return namespace, call


def _empty_environment(work: str) -> None:
    """Work in the empty folder, with a minimal environment whose HOME and TMPDIR point there."""
    os.chdir(work)
    os.environ.clear()
    os.environ.update(
        {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": work,
            "TMPDIR": work,
            "LANG": "C.UTF-8",
            "MPLBACKEND": "Agg",
            **THREAD_VARS,
        }
    )
    tempfile.tempdir = work


def _run_learner(request: dict, namespace: dict, cases: list, call, opened: dict) -> None:
    status, detail, cell_error = "ok", "", ""
    trees: list = []
    encoder = plain._Encoder()
    try:
        for source in request["earlier"]:  # the exercise cells before this one, as the notebook ran them
            try:
                exec(compile(source, "<earlier exercise cell>", "exec"), namespace)
            except BaseException:
                pass
        try:
            sys.stdout.write(OUTPUT_MARKER)  # the grader reads the printed text from here on
            sys.stdout.flush()
        except BaseException:
            pass
        try:
            exec(compile(request["cell"], "<exercise cell>", "exec"), namespace)
        except MemoryError:
            raise
        except Exception as exc:
            cell_error = f"{type(exc).__name__}: {exc}"
        fn = namespace.get(request["function"])
        if not callable(fn):
            status = "no_function"
            detail = cell_error or f"the cell does not define {request['function']}()"
        else:
            for args in cases:
                args = copy.deepcopy(args)
                try:
                    value = call(fn, args) if call is not None else fn(**args)
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
    _finish(status, detail, cell_error, trees, encoder.arrays, opened)


def _finish(status, detail, cell_error, trees, arrays, opened) -> None:
    try:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:
            pass
        import numpy as np

        text = json.dumps(
            {"values": trees, "status": status, "detail": detail, "cell_error": cell_error}, allow_nan=True
        ).encode()
        fd = opened["answers.json"]  # from the start: the learner's code may have written to it
        os.ftruncate(fd, 0)
        offset = 0
        while offset < len(text):
            offset += os.pwrite(fd, text[offset:], offset)
        with os.fdopen(opened["answers.npz"], "wb") as f:
            f.seek(0)
            f.truncate()
            np.savez(f, **arrays)
    except BaseException:
        os._exit(SETUP_FAILED_EXIT)
    os._exit(0)
