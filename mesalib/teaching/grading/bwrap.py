"""The operating-system sandbox: the bubblewrap (`bwrap`) command line one learner's code runs under.

What the learner's process tree gets, by construction (Linux namespaces, set up by bwrap before any
learner code exists):

- new user, PID, network, IPC, UTS, mount and cgroup namespaces: uid and gid 65534 with no
  capabilities, and on the host too the unprivileged 65534 (`userns.py`) when the grader is root;
  it sees only its own processes (never the grader's PID, command line,
  environment or memory); no network but a loopback that is down;
- a new session (`--new-session`, so no terminal to push keystrokes into) and death with its parent
  (`--die-with-parent`: when the grader dies, the namespace's first process dies, and with it every
  process in the namespace);
- the runner as the namespace's process 1 (`--as-pid-1`): the learner's code cannot kill or stop it
  (Linux delivers to a namespace's init only the signals it handles), and no process in the sandbox
  has a command line that names a path of the grader's. For the same reason a parent-death signal
  cannot end it: the runner ends itself as soon as the grader's end of its output pipe is gone,
  and when it ends, Linux kills every process of its namespace;
- a file system of its own: read-only binds of the Python installation, the site-packages, /usr and
  the generated package view (`package_view.py`), the learner's own inputs read-only, a fresh /proc
  of its own namespace, a minimal read-only /dev, and a size-limited tmpfs at /tmp as the only
  writable place (the sandbox's own root, made by bwrap, is remounted read-only).
  Nothing of the repository (solutions/, lessons/, tests), the other learners, the grader's
  temporary folder or the host's /proc, /etc, /home, /root or /work is there;
- an empty environment (`--clearenv`) but for the few variables set here.

Resource limits (CPU, memory, file size, processes, open files) are set inside, by the runner, before
the learner's code runs (`inside.py`); the wall clock is the grader's (`sandbox.py`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

from mesalib.teaching.grading import userns

__all__ = [
    "INPUT",
    "PACKAGE",
    "SandboxUnavailable",
    "bwrap_path",
    "command",
    "probe",
    "python_paths",
    "user_namespace",
]

INPUT = "/grading/in"
PACKAGE = "/grading/pkg"
WORK = "/tmp"
UNPRIVILEGED = "65534"
THREAD_VARS = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
}
ENVIRONMENT = {
    "PATH": "/usr/bin:/bin",
    "HOME": WORK,
    "TMPDIR": WORK,
    "LANG": "C.UTF-8",
    "MPLBACKEND": "Agg",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
    **THREAD_VARS,
}


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing, or cannot create the namespaces it needs on this machine."""


def bwrap_path() -> str | None:
    """The bwrap executable, or None."""
    return shutil.which("bwrap") or ("/usr/bin/bwrap" if os.access("/usr/bin/bwrap", os.X_OK) else None)


def python_paths() -> tuple[str, list[str]]:
    """The real (not virtual-environment) Python executable and the folders the sandbox needs on
    sys.path besides the standard library: the site-packages of this environment."""
    executable = getattr(sys, "_base_executable", None) or sys.executable
    executable = os.path.realpath(executable)
    sites = []
    for key in ("purelib", "platlib"):
        path = sysconfig.get_paths()[key]
        if os.path.isdir(path) and path not in sites:
            sites.append(path)
    return executable, sites


def _read_only_binds() -> list[str]:
    """The folders bound read-only at their own paths: Python, its site-packages and /usr."""
    executable, sites = python_paths()
    folders = [os.path.realpath(sys.base_prefix), *(os.path.realpath(s) for s in sites)]
    if not executable.startswith(os.path.realpath(sys.base_prefix) + os.sep):
        folders.append(os.path.dirname(executable))
    folders.append("/usr")
    out: list[str] = []
    made = {WORK}  # the private tmpfs, mounted before these binds
    for folder in dict.fromkeys(folders):
        out += _parents(folder, made)
        out += ["--ro-bind", folder, folder]
    for link in ("bin", "lib", "lib64", "lib32", "sbin"):
        target = os.path.join("/", link)
        if os.path.islink(target):
            out += ["--symlink", os.readlink(target), target]
        elif os.path.isdir(target) and link != "bin":
            out += ["--ro-bind", target, target]
    return out


def _hide_installed_package() -> list[str]:
    """An empty read-only folder over the installed mesalib where a bound site-packages holds it (a
    wheel install): its sources are the answers. The sandbox imports the package view instead."""
    from mesalib.teaching.course_files import package_folder

    installed = os.path.realpath(package_folder())
    _, sites = python_paths()
    if not any(installed.startswith(os.path.realpath(site) + os.sep) for site in sites):
        return []  # an editable install: the clone is never bound
    return ["--tmpfs", installed, "--remount-ro", installed]


DROP_PRIVILEGES = (
    f"import os; os.setgroups([]); os.setresgid({UNPRIVILEGED}, {UNPRIVILEGED}, {UNPRIVILEGED}); "
    f"os.setresuid({UNPRIVILEGED}, {UNPRIVILEGED}, {UNPRIVILEGED}); del os\n"
)
"""The first line the sandbox's Python runs in a namespace of `userns.py`: it becomes uid 65534,
which drops every capability, before anything else is read or imported."""


def _parents(path: str, made: set[str]) -> list[str]:
    """Options that make the folders above `path` in the sandbox, readable by its uid (bwrap would
    make them private to root)."""
    out: list[str] = []
    parent = os.path.dirname(path)
    while parent not in ("/", "") and parent not in made:
        made.add(parent)
        out = ["--perms", "0755", "--dir", parent, *out]
        parent = os.path.dirname(parent)
    return out


def command(
    package_view: Path,
    inputs: Path,
    python_code: str,
    args: list[str],
    tmp_mb: int,
    userns_fd: int | None = None,
) -> list[str]:
    """The full command: bwrap and its options, then the real Python running `python_code` with
    `args`, as uid 65534. `userns_fd`: the user namespace to join (`userns.py`, when the grader is
    root; bwrap itself cannot switch to 65534 in it, so Python does, first), else a new one."""
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed")
    if userns_fd is None:
        namespaces = ["--unshare-all", "--uid", UNPRIVILEGED, "--gid", UNPRIVILEGED, "--cap-drop", "ALL"]
    else:
        namespaces = ["--userns", str(userns_fd), "--unshare-pid", "--unshare-net", "--unshare-ipc"]
        namespaces += ["--unshare-uts", "--unshare-cgroup-try"]
        python_code = DROP_PRIVILEGES + python_code
    executable, _ = python_paths()
    out = [
        bwrap,
        *namespaces,
        "--die-with-parent",
        "--new-session",
        "--as-pid-1",
        # the private /tmp first, so that Python or its site-packages under the host's /tmp (a clone
        # in /tmp, say) are bound on top of it rather than hidden by it
        "--size",
        str(int(tmp_mb) * 2**20),
        "--perms",
        "1777",
        "--tmpfs",
        WORK,
        *_read_only_binds(),
        *_hide_installed_package(),
        *_parents(PACKAGE, set()),
        "--ro-bind",
        str(package_view),
        PACKAGE,
        "--ro-bind",
        str(inputs),
        INPUT,
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--remount-ro",
        "/dev",
        "--remount-ro",
        "/",
        "--chdir",
        WORK,
        "--clearenv",
    ]
    for key, value in ENVIRONMENT.items():
        out += ["--setenv", key, value]
    return out + ["--", executable, "-I", "-S", "-c", python_code, *args]


@contextlib.contextmanager
def user_namespace() -> Iterator[int | None]:
    """The user namespace a sandbox joins: a fresh one mapping uid 65534 to the host's 65534 when
    the grader is root (`userns.py`), else None (bwrap makes one that maps to the grader's user)."""
    if not userns.needed():
        yield None
        return
    with userns.UserNamespace() as fd:
        yield fd


@functools.lru_cache(maxsize=1)
def probe() -> str:
    """ "" when bwrap can build the sandbox here, else why not (cached: asked once per process)."""
    if bwrap_path() is None:
        return "bubblewrap (bwrap) is not installed (Debian and Ubuntu: apt-get install bubblewrap)"
    empty = Path(sys.base_prefix)  # any folder will do for the two binds of the probe
    code = "import os; print(os.getuid(), open('/proc/self/status').read().split('CapEff:')[1].split()[0])"
    try:
        with user_namespace() as fd:
            done = subprocess.run(
                command(empty, empty, code, [], 1, fd),
                capture_output=True,
                timeout=30,
                stdin=subprocess.DEVNULL,
                pass_fds=() if fd is None else (fd,),
            )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not be started ({exc})"
    if done.returncode != 0 or done.stdout.split() != [UNPRIVILEGED.encode(), b"0000000000000000"]:
        error = done.stderr.decode("utf-8", "replace").strip()[:300]
        return f"bwrap cannot create its namespaces here ({error or f'exit status {done.returncode}'})"
    return ""
