"""What the sandbox's child forbids: the audit hook, and the tripwires in place of the library's answers.

The child installs both just before the learner's code runs (see `sandbox_server._child`). Each
reports what happened through `reporter`, which writes "kind<TAB>detail" to the violation file
and ends the process with `VIOLATION_EXIT` before the learner's code can catch anything: kind
"forbidden" for an action the sandbox forbids, "reference" for reading the grader's or the
library's answer.
"""

from __future__ import annotations

import os
import sys

from mesalib.teaching.grading.sandbox import VIOLATION_EXIT

__all__ = ["forget_checks", "install_tripwires", "make_audit_hook", "reporter"]

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


def reporter(fd: int):
    pwrite, truncate, exit_ = os.pwrite, os.ftruncate, os._exit

    def report(kind: str, detail: str) -> None:
        try:
            truncate(fd, 0)  # whatever the learner's code wrote there before
            pwrite(fd, (str(kind) + "\t" + str(detail)[:1000]).encode("utf-8", "replace"), 0)
        finally:
            exit_(VIOLATION_EXIT)

    return report


def make_audit_hook(work: str, report, blocked_imports: tuple[str, ...]):
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


def install_tripwires(guards: list[str], namespace: dict, report) -> None:
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


def forget_checks() -> None:
    for name in [n for n in sys.modules if n.startswith("mesalib.teaching.checks")]:
        del sys.modules[name]
    import mesalib.teaching

    if "checks" in vars(mesalib.teaching):
        delattr(mesalib.teaching, "checks")
