"""The sandbox's isolation asserted directly: what a learner's code can see and touch from inside, a
small class in which learners cannot reach each other, and the sandbox killed with the grader."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest
from test_grading_support import lesson00_sandbox, require_sandbox

from mesalib.teaching import checks
from mesalib.teaching.grading import Limits, grade, plain
from mesalib.teaching.grading.bwrap import python_paths
from mesalib.teaching.grading.sandbox import ExerciseJob
from mesalib.teaching.grading.synthetic import learner_notebook, write_notebook

EX00 = checks.lesson00.discounted_return
GOOD = "def discounted_return(rewards, gamma):\n    return sum(gamma**t * r for t, r in enumerate(rewards))\n"


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    return lesson00_sandbox(tmp_path_factory.mktemp("isolation"))


def test_the_learner_sees_nothing_of_the_grader_and_can_write_only_its_scratch(box, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the grader's")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    targets = [str(tmp_path / "x"), "/x", "/grading/in/x", "/grading/pkg/x", "/usr/x", "/dev/shm/x", "/tmp/x"]
    observe = textwrap.dedent(
        f"""
        import os, socket
        pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
        cmdlines = [open(f'/proc/{{p}}/cmdline', 'rb').read().decode('latin-1') for p in pids]
        try:
            socket.create_connection(('127.0.0.1', {port}), timeout=2)
            network = 'connected'
        except OSError as exc:
            network = type(exc).__name__
        writes = {{}}
        for path in {targets!r}:
            try:
                open(path, 'w').write('x')
                writes[path] = 'wrote'
            except OSError as exc:
                writes[path] = type(exc).__name__
        try:
            read = open({str(secret)!r}).read()
        except OSError as exc:
            read = type(exc).__name__
        interfaces = [name for _, name in socket.if_nameindex()]
        seen = [pids, os.path.exists('/proc/{os.getpid()}'), cmdlines, network,
                interfaces, writes, read, os.getuid(), sorted(os.listdir('/'))]

        def discounted_return(rewards, gamma):
            return seen
        """
    )
    cases = plain.dumps([EX00.cases(0)[0].args])
    (result,) = box.run("import mesalib", [ExerciseJob("discounted_return", observe, [], cases)], Limits())
    server.close()
    pids, grader_visible, cmdlines, network, interfaces, writes, read, uid, top = result.answers[0]
    assert pids == [1, 2] and not grader_visible  # the runner and the exercise's child, nothing else
    assert all(str(tmp_path) not in c and "pytest" not in c and "bwrap" not in c for c in cmdlines)
    assert network != "connected" and interfaces == ["lo"]  # only a loopback of its own, and it is down
    assert {p for p, outcome in writes.items() if outcome == "wrote"} == {"/tmp/x"}
    assert not (tmp_path / "x").exists() and read == "FileNotFoundError" and uid == 65534
    assert set(top) <= SYSTEM_FOLDERS | python_tops()


SYSTEM_FOLDERS = {"bin", "dev", "grading", "lib", "lib32", "lib64", "proc", "root", "sbin", "tmp", "usr"}


def python_tops() -> set[str]:
    """The top-level folders of this Python and its site-packages, which the sandbox binds read-only
    at their own paths (a clone under /work here, under /check in CI)."""
    executable, sites = python_paths()
    folders = [sys.base_prefix, executable, *sites]
    return {os.path.realpath(f).split(os.sep)[1] for f in folders}


def test_in_a_class_learners_cannot_reach_each_other(tmp_path):
    require_sandbox()
    writer = (
        "open('/tmp/note', 'w').write('hello')\ntry:\n"
        f"    open({str(tmp_path / 'subs' / 'b_reader.ipynb')!r}, 'a').write('x')\n"
        "except OSError:\n    pass\n" + GOOD
    )
    reader = (
        "import os\nSEEN = os.path.exists('/tmp/note') or sum(p.isdigit() for p in os.listdir('/proc')) > 2\n"
        "def discounted_return(rewards, gamma):\n"
        "    return -1.0 if SEEN else sum(gamma**t * r for t, r in enumerate(rewards))\n"
    )
    write_notebook(
        learner_notebook("00", {"discounted_return": writer}), tmp_path / "subs" / "a_writer.ipynb"
    )
    write_notebook(
        learner_notebook("00", {"discounted_return": reader}), tmp_path / "subs" / "b_reader.ipynb"
    )
    run = grade(
        sorted((tmp_path / "subs").glob("*.ipynb")),
        tmp_path / "out",
        seed=3,
        jobs=1,
        limits=Limits(wall_s=5, cpu_s=5, startup_s=20),
        progress=False,
        echo=None,
    )
    assert [(r["learner"], r["status"], r["total"]) for r in run.records] == [
        ("a_writer", "ok", 1.0),  # its attempts failed quietly; its own work counts
        ("b_reader", "ok", 1.0),  # saw no trace of the learner before it, in its notebook or its /tmp
    ]


GRADER = """
import sys
from mesalib.teaching.grading import Limits, grade
grade([sys.argv[1]], sys.argv[2], seed=1, limits=Limits(wall_s=600, cpu_s=600), progress=False, echo=None)
"""


def _children(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                if ppid == parent:
                    found.append(int(entry))
                    todo.append(int(entry))
    return found


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in "ZX"
    except OSError:
        return False


def test_the_sandbox_dies_with_the_grader(tmp_path):
    require_sandbox()
    sleeper = "import time\ntime.sleep(600)\n" + GOOD
    path = write_notebook(learner_notebook("00", {"discounted_return": sleeper}), tmp_path / "zed.ipynb")
    (tmp_path / "tmp").mkdir()  # a grader killed with SIGKILL cannot remove its temporary folder
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp")}
    grader = subprocess.Popen([sys.executable, "-c", GRADER, str(path), str(tmp_path / "out")], env=env)
    try:
        sandboxed: list[int] = []
        for _ in range(600):  # until the learner's code runs: its runner and the exercise's child
            sandboxed = _children(grader.pid)
            if sum("/grading/pkg" in _cmdline(p) for p in sandboxed) >= 2:
                break
            time.sleep(0.1)
        assert sum("/grading/pkg" in _cmdline(p) for p in sandboxed) >= 2, "the sandbox did not start"
        time.sleep(0.5)
        sandboxed = _children(grader.pid)
        os.kill(grader.pid, signal.SIGKILL)
        grader.wait()
        deadline = time.monotonic() + 20
        while any(_alive(p) for p in sandboxed) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [(p, _cmdline(p)[:100]) for p in sandboxed if _alive(p)]
    finally:
        if grader.poll() is None:
            grader.kill()
            grader.wait()
