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
"""

from __future__ import annotations

import builtins
import copy
import importlib
import json
import math
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
_THREAD_VARS = {
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


# --------------------------------------------------------------------------------------------------
# The grader's side


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
        env = {**os.environ, **_THREAD_VARS, "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg"}
        boot = (
            "import sys; sys.path.insert(0, sys.argv[1]); "
            "from mesalib.teaching.grading.sandbox import serve; serve()"
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
            proc.stdin.close()
            proc.wait(timeout=5)
        except Exception:
            _kill_group(proc.pid)
            try:
                proc.wait(timeout=5)
            except Exception:
                pass
        for stream in (proc.stdout,):
            try:
                stream.close()
            except Exception:
                pass

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def _readline(self, deadline: float) -> bytes | None:
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


def _kill_group(pid: int) -> None:
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


# --------------------------------------------------------------------------------------------------
# The fork server

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
    _kill_group(pid)  # on time-out the child itself; otherwise whatever it left behind in its group
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


# --------------------------------------------------------------------------------------------------
# The child

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
_BLOCKED = {
    "os.fork": "forks a new process",
    "os.forkpty": "forks a new process",
    "os.posix_spawn": "starts another program",
    "os.spawn": "starts another program",
    "os.exec": "starts another program",
    "os.system": "starts another program",
    "subprocess.Popen": "starts another program",
    "os.startfile": "starts another program",
    "pty.spawn": "starts another program",
    "os.kill": "sends a signal to a process",
    "os.killpg": "sends a signal to a process",
    "signal.pthread_kill": "sends a signal to a thread",
    "os.symlink": "creates a symbolic link",
    "os.link": "creates a hard link",
    "sys.addaudithook": "adds an audit hook",
    "gc.get_objects": "searches the interpreter's objects",
    "gc.get_referrers": "searches the interpreter's objects",
    "gc.get_referents": "searches the interpreter's objects",
    "resource.setrlimit": "changes its resource limits",
    "resource.prlimit": "changes its resource limits",
    "urllib.Request": "uses the network",
    "http.client.connect": "uses the network",
    "ftplib.connect": "uses the network",
    "smtplib.connect": "uses the network",
    "poplib.connect": "uses the network",
    "imaplib.open": "uses the network",
    "nntplib.connect": "uses the network",
    "webbrowser.open": "opens a web browser",
}
_BLOCKED_PREFIXES = (
    ("socket.", "uses the network (a socket)"),
    ("ctypes.", "calls native code through ctypes"),
    ("_ctypes.", "calls native code through ctypes"),
)
# Events whose path arguments (by position) must lie inside the working directory.
_PATH_EVENTS = {
    "os.remove": (0,),
    "os.rmdir": (0,),
    "os.rename": (0, 1),
    "os.mkdir": (0,),
    "os.chmod": (0,),
    "os.chown": (0,),
    "os.chflags": (0,),
    "os.truncate": (0,),
    "os.utime": (0,),
    "os.mkfifo": (0,),
    "os.mknod": (0,),
    "os.setxattr": (0,),
    "os.removexattr": (0,),
    "shutil.rmtree": (0,),
    "shutil.copyfile": (1,),
    "shutil.copymode": (1,),
    "shutil.copystat": (1,),
    "shutil.copytree": (1,),
    "shutil.chown": (0,),
    "shutil.unpack_archive": (1,),
    "shutil.make_archive": (0,),
}
_DIR_FD_EVENTS = {"os.remove": 1, "os.rmdir": 1, "os.mkdir": 2, "os.chmod": 2, "os.chown": 3}


def _normalize(path: str, cwd: str) -> str:
    """The absolute, '..'-resolved form of `path` (string operations only: nothing to monkeypatch)."""
    if not path.startswith("/"):
        path = cwd + "/" + path
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts)


def _reporter(fd: int):
    pwrite, truncate, exit_ = os.pwrite, os.ftruncate, os._exit

    def report(kind: str, detail: str) -> None:
        try:
            truncate(fd, 0)  # whatever the learner's code wrote there before
            pwrite(fd, (str(kind) + "\t" + str(detail)[:1000]).encode("utf-8", "replace"), 0)
        finally:
            exit_(VIOLATION_EXIT)

    return report


def _make_hook(work: str, report, blocked_imports: tuple[str, ...]):
    getcwd, fspath = os.getcwd, os.fspath
    inside_prefix = work.rstrip("/") + "/"
    blocked, prefixes, path_events, dir_fd_events = _BLOCKED, _BLOCKED_PREFIXES, _PATH_EVENTS, _DIR_FD_EVENTS
    write_flags = _WRITE_FLAGS

    def inside(path) -> bool:
        if isinstance(path, int):
            return True  # an open file descriptor: opened under these same rules
        try:
            text = fspath(path)
        except TypeError:
            return False
        if isinstance(text, bytes):
            text = text.decode("utf-8", "surrogateescape")
        full = _normalize(text, getcwd())
        return full == work or full.startswith(inside_prefix) or full == "/dev/null"

    def hook(event: str, args: tuple) -> None:
        if event in blocked:
            report("forbidden", blocked[event])
        elif event == "open":
            path, mode, flags = (tuple(args) + (None, None, None))[:3]
            writing = (isinstance(flags, int) and flags & write_flags) or (
                isinstance(mode, str) and any(c in mode for c in "wax+")
            )
            if writing and not inside(path):
                report("forbidden", f"writes the file {path!r}, outside its working directory")
        elif event in path_events:
            where = dir_fd_events.get(event)
            if where is not None and len(args) > where and args[where] not in (None, -1):
                report("forbidden", f"{event} with dir_fd (a file outside its working directory)")
            for i in path_events[event]:
                if i < len(args) and args[i] is not None and not inside(args[i]):
                    report("forbidden", f"{event} on {args[i]!r}, outside its working directory")
        elif event == "import":
            name = args[0] if args else ""
            if isinstance(name, str) and name.startswith(blocked_imports):
                report("reference", f"imports {name}, the grader's own code")
        else:
            for prefix, why in prefixes:
                if event.startswith(prefix):
                    report("forbidden", why)

    return hook


def _tripwire(target: str, report):
    def tripwire(*args, **kwargs):
        report("reference", f"uses {target.replace(':', '.')}, the library's answer to this exercise")

    tripwire.__name__ = target.rpartition(":")[2]
    return tripwire


def _install_tripwires(guards: list[str], namespace: dict, report) -> None:
    """Swap each guarded library object for a tripwire in every loaded mesalib module (one level into
    dicts, lists and tuples there) and in the learner's namespace; and each check's reference for one
    inside the checks modules (which are then forgotten)."""
    from mesalib.teaching.checks import Exercise  # already loaded by the server

    swaps: dict[int, object] = {}
    for target in guards:
        module_name, _, attr = target.partition(":")
        module = sys.modules.get(module_name)
        obj = getattr(module, attr, None) if module is not None else None
        if obj is not None:
            swaps[id(obj)] = _tripwire(target, report)
    in_checks = dict(swaps)  # the checks' own references too, but only inside the checks modules
    for name, module in list(sys.modules.items()):
        if name.startswith("mesalib.teaching.checks") and module is not None:
            for value in list(vars(module).values()):
                if isinstance(value, Exercise):
                    ref = value.reference
                    target = f"{getattr(ref, '__module__', '?')}:{getattr(ref, '__name__', '?')}"
                    wire = in_checks.setdefault(id(ref), swaps.get(id(ref)) or _tripwire(target, report))
                    object.__setattr__(value, "reference", wire)

    def swap_in(mapping: dict, wires: dict) -> None:
        for key, value in list(mapping.items()):
            if id(value) in wires:
                mapping[key] = wires[id(value)]
            elif type(value) is dict:
                for k, v in list(value.items()):
                    if id(v) in wires:
                        value[k] = wires[id(v)]
            elif type(value) is list:
                value[:] = [wires.get(id(v), v) for v in value]
            elif type(value) is tuple and any(id(v) in wires for v in value):
                mapping[key] = tuple(wires.get(id(v), v) for v in value)

    for name, module in list(sys.modules.items()):
        if module is not None and (name == "mesalib" or name.startswith("mesalib.")):
            swap_in(vars(module), in_checks if name.startswith("mesalib.teaching.checks") else swaps)
    swap_in(namespace, swaps)


def _forget_checks() -> None:
    for name in [n for n in sys.modules if n.startswith("mesalib.teaching.checks")]:
        del sys.modules[name]
    import mesalib.teaching

    if "checks" in vars(mesalib.teaching):
        delattr(mesalib.teaching, "checks")


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
        signal.alarm(
            int(math.ceil(float(request["limits"]["wall_s"]))) + 10
        )  # in case the server cannot kill it
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # Python ignores it; past the file-size limit, stop
        io_dir = request["io"]
        work = os.path.realpath(os.path.join(io_dir, "work"))
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
        limit = int(request["limits"]["answers_mb"]) * 2**20
        with open(os.path.join(io_dir, "cases.json"), "rb") as f:
            text = f.read()
        with open(os.path.join(io_dir, "cases.npz"), "rb") as f:
            arrays = f.read()
        cases, _ = plain.loads(text, arrays, limit)
        template, module = _CACHE[key]
        exercise = getattr(module, request["exercise"], None)
        call = getattr(exercise, "call", None)  # exercises whose function takes other types (tensors)
        report = _reporter(opened["violation.txt"])
        namespace = dict(template)
        _CACHE.clear()  # no path back to the server's own namespaces
        exercise = module = template = None
        _install_tripwires(list(request["guards"]), namespace, report)
        _forget_checks()
        os.chdir(work)
        os.environ.clear()
        os.environ.update(
            {
                "PATH": "/usr/local/bin:/usr/bin:/bin",
                "HOME": work,
                "TMPDIR": work,
                "LANG": "C.UTF-8",
                "MPLBACKEND": "Agg",
                **_THREAD_VARS,
            }
        )
        tempfile.tempdir = work
        _set_limits(request["limits"])
        sys.addaudithook(_make_hook(work, report, ("mesalib.teaching.checks", "mesalib.teaching.grading")))
    except BaseException as exc:  # the harness failed before any learner code ran
        try:
            os.write(2, f"sandbox setup failed: {type(exc).__name__}: {exc}\n".encode())
        finally:
            os._exit(SETUP_FAILED_EXIT)
    _run_learner(request, namespace, cases, call, opened)


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
