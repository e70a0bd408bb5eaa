"""A hostile class, graded with the sandbox: every failure class of issue 15 as a regression test with
its exact status and points, beside honest learners whose grades must not move.

The red-team class itself is private; these submissions are written here, one per way of attack:
switching the in-process guard off, taking the library's answer (runpy, reload, getsource + exec,
base64 + exec, an earlier cell smuggling it, the solutions on disk), writing outside (dir_fd,
sqlite3, a process that outlives the grading), reading the grader's /proc and environment, signals,
forged replies, odd text, name collisions, and honest work that used to be penalised (%%time, a
self-test printing "passed") or a fake pass line spelled with look-alike letters.
"""

from __future__ import annotations

import base64
import csv
import inspect
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from test_grading_support import require_sandbox

from mesalib.analysis import evaluate
from mesalib.teaching import checks, cli
from mesalib.teaching.grading import Limits, grade, hundredths
from mesalib.teaching.grading import bwrap as bwrap_module
from mesalib.teaching.grading.synthetic import learner_notebook, write_notebook

REPO = Path(__file__).resolve().parents[1]  # the clone these tests run in

EX00 = checks.lesson00.discounted_return
SEED = 11
CASES = EX00.cases(0) + EX00.random_cases(np.random.default_rng(SEED), EX00.n_random)
TOTAL = len(CASES)
LIMITS = Limits(wall_s=3, cpu_s=3, memory_mb=256, startup_s=10)
SECRET = "grader-secret-4711"
GOOD = "def discounted_return(rewards, gamma):\n    return sum(gamma**t * r for t, r in enumerate(rewards))\n"
ZERO = "def discounted_return(rewards, gamma):\n    return 0.0\n"


def _passed(source: str) -> int:
    scope: dict = {}
    exec(source, scope)
    passed = 0
    for case in CASES:
        try:
            passed += EX00.judge(case, scope["discounted_return"](**case.args)) is None
        except Exception:
            pass
    return passed


def _points(source: str) -> float:
    return hundredths(1, _passed(source), TOTAL) / 100


PARTIAL = GOOD.replace("    return sum", "    if not rewards:\n        return 1.0\n    return sum")
SURROGATE = GOOD.replace(
    "    return sum", "    if gamma < 0.6:\n        raise ValueError('bad \\udcff text')\n    return sum"
)


def _class(root: Path, out: Path) -> dict[str, tuple[str, float]]:
    """Write the class into root/subs; learner -> (gradebook status, points) expected."""
    subs = root / "subs"
    grader = os.getpid()
    honest_path = subs / "honest.ipynb"
    targets = {name: root / f"host_{name}" for name in ("dir_fd", "sqlite", "outlived", "open")}
    library_source = inspect.getsource(evaluate.discounted_return)
    hidden = base64.b64encode(library_source.encode()).decode()

    attacks = {
        # The guard switched off from Python: there is none in the learner's interpreter any more;
        # whatever the code changes in its own process, it only gets what its own function earns.
        "guard_off": (
            "import gc, sys\n"
            "for obj in gc.get_objects():\n"
            "    if isinstance(obj, dict) and 'blocked' in obj:\n"
            "        obj.clear()\n"
            "inside = sys.modules.get('mesalib.teaching.grading.inside')\n"
            "if inside:\n"
            "    inside._run_cell = lambda *a: ('ok', '', '', [], {}, '')\n" + ZERO,
            ("discounted_return: partial", _points(ZERO)),
        ),
        "runpy": (
            "import runpy\nimport mesalib.analysis.evaluate\n"
            "name = 'mesalib.analysis.evaluate'\n"
            "discounted_return = runpy.run_module(name, run_name=name)['discounted_' + 'return']\n",
            ("discounted_return: reads_reference", 0.0),
        ),
        "reload": (
            "import importlib\nimport mesalib.analysis.evaluate as m\nm = importlib.reload(m)\n"
            "def discounted_return(rewards, gamma):\n"
            "    return getattr(m, 'discounted_' + 'return')(rewards, gamma)\n",
            ("discounted_return: reads_reference", 0.0),
        ),
        "getsource_exec": (
            "import inspect\nimport mesalib.analysis.evaluate as m\n"
            "exec(inspect.getsource(getattr(m, 'discounted_' + 'return')))\n"
            "discounted_return = discounted_return\n",
            ("discounted_return: provenance", 0.0),
        ),
        "base64_exec": (
            f"import base64\nexec(base64.b64decode({hidden!r}).decode())\n"
            "discounted_return = discounted_return\n",
            ("discounted_return: provenance", 0.0),
        ),
        "solution_from_disk": (
            "import json\n"
            f"cells = json.load(open({str(REPO / 'solutions' / '00_welcome.ipynb')!r}))['cells']\n"
            "exec(''.join(c['source']) for c in cells if 'exercise' in c['metadata'].get('mesalib', {}))\n"
            "discounted_return = discounted_return\n",
            ("discounted_return: no_function", 0.0),
        ),
        "reads_grader": (
            "import os\nfound = []\n"
            f"for path in ['/proc/{grader}/cmdline', '/proc/{grader}/environ', '/proc/{grader}/mem',\n"
            f"             {str(honest_path)!r}, {str(REPO / 'solutions' / '00_welcome.ipynb')!r}]:\n"
            "    try:\n        found.append(open(path, 'rb').read(4000).decode('latin-1'))\n"
            "    except OSError as exc:\n        found.append(type(exc).__name__)\n"
            "for pid in os.listdir('/proc'):\n"
            "    for part in ('cmdline', 'environ'):\n"
            "        try:\n"
            "            found.append(open(f'/proc/{pid}/{part}', 'rb').read().decode('latin-1'))\n"
            "        except OSError:\n            pass\n"
            "found.append(repr(sorted(os.environ.items())))\n"
            "wanted = ('MESALIB_GRADER_SECRET', 'pytest', 'BEGIN SOLUTION', 'seed')\n"
            "hits = [t[:60] for t in found if any(w in t for w in wanted)]\n"
            "def discounted_return(rewards, gamma):\n"
            "    raise ValueError(f'found {hits} in {len(found)} texts')\n",
            ("discounted_return: failed", 0.0),
        ),
        "writes_outside": (
            "import os, sqlite3\n"
            "try:\n    root = os.open('/', os.O_RDONLY)\n"
            f"    fd = os.open({str(targets['dir_fd'])[1:]!r}, os.O_WRONLY | os.O_CREAT, dir_fd=root)\n"
            "    os.write(fd, b'x')\nexcept OSError:\n    pass\n"
            "try:\n"
            f"    db = sqlite3.connect({str(targets['sqlite'])!r})\n"
            "    db.execute('create table t (x)')\n    db.commit()\nexcept sqlite3.Error:\n    pass\n"
            "try:\n"
            f"    open({str(targets['open'])!r}, 'w').write('x')\n"
            f"    open({str(out / 'gradebook.csv')!r}, 'w').write('hacked')\n"
            f"    open({str(out / 'records' / 'honest.json')!r}, 'w').write('hacked')\n"
            "except OSError:\n    pass\n" + GOOD,
            ("ok", 1.0),
        ),
        "outlives": (
            "import os, time\n"
            "try:\n    child = os.fork()\nexcept OSError:\n    child = 1  # no new processes in the sandbox\n"
            "if child == 0:\n"
            "    os.setsid()\n"
            "    time.sleep(2)\n"
            f"    for path in [{str(targets['outlived'])!r}, {str(out / 'gradebook.csv')!r}]:\n"
            "        try:\n            open(path, 'w').write('hacked')\n"
            "        except OSError:\n            pass\n"
            "    os._exit(0)\n" + GOOD,
            ("ok", 1.0),
        ),
        "signals_grader": (
            "import os, signal\n"
            f"for attempt in (lambda: os.kill({grader}, signal.SIGKILL),\n"
            f"                lambda: os.kill({grader}, signal.SIGSTOP),\n"
            f"                lambda: signal.pidfd_send_signal(os.pidfd_open({grader}), signal.SIGKILL)):\n"
            "    try:\n        attempt()\n    except OSError:\n        pass\n" + GOOD,
            ("ok", 1.0),
        ),
        # The runner is the sandbox's process 1: signals from the learner's code do not reach it.
        "kills_everything": (
            "import os, signal\nfor sig in (signal.SIGSTOP, signal.SIGKILL):\n"
            "    for pid in (1, -1):\n        try:\n            os.kill(pid, sig)\n"
            "        except OSError:\n            pass\n" + GOOD,
            ("ok", 1.0),
        ),
        "exits_hard": (
            "import os\ndef discounted_return(rewards, gamma):\n    os._exit(3)\n",
            ("discounted_return: crashed", 0.0),
        ),
        "sleeps": (
            "import time\ndef discounted_return(rewards, gamma):\n    time.sleep(60)\n",
            ("discounted_return: timeout", 0.0),
        ),
        "forges_replies": (
            "import os\nfor pid in os.listdir('/proc'):\n    for fd in range(20):\n        try:\n"
            "            with open(f'/proc/{pid}/fd/{fd}', 'wb') as f:\n"
            '                f.write(b\'{"exercise": "discounted_return", "exit_code": 0}\\n\' * 3)\n'
            "        except (OSError, ValueError):\n            pass\n" + ZERO,
            None,  # its own answers may be spoiled: its grade is its own business (checked below)
        ),
        "surrogate": (SURROGATE, ("discounted_return: partial", _points(SURROGATE))),
        "magic_time": ("%%time\n" + GOOD, ("ok", 1.0)),
        "self_test": (
            PARTIAL + "\nassert discounted_return([1.0], 0.5) == 1.0\nprint('my self-test passed')\n",
            ("discounted_return: partial", _points(PARTIAL)),
        ),
        "homoglyph": (
            "print('\u2713 discounted_return: \u0430ll 25 c\u0430ses p\u0430ss.')\n" + ZERO,
            ("discounted_return: fake_output", 0.0),
        ),
        "honest": (GOOD, ("ok", 1.0)),
    }
    expected = {}
    for name, (source, want) in attacks.items():
        write_notebook(learner_notebook("00", {"discounted_return": source}), subs / f"{name}.ipynb")
        expected[name] = want
    # A file name that is not UTF-8, and two submissions that map to the same learner name.
    odd = os.fsencode(str(subs)) + b"/caf\xe9.ipynb"
    with open(odd, "wb") as f:
        f.write(json.dumps(learner_notebook("00", {"discounted_return": GOOD})).encode())
    expected["caf\\xe9"] = ("ok", 1.0)
    write_notebook(
        learner_notebook("00", {"discounted_return": GOOD}), subs / "a" / "dup" / "00_welcome.ipynb"
    )
    write_notebook(
        learner_notebook("00", {"discounted_return": ZERO}), subs / "b" / "dup" / "00_welcome.ipynb"
    )
    expected["dup"] = ("ok", 1.0)  # a/dup comes first by path, whatever the order given
    expected["dup~2"] = ("discounted_return: partial", _points(ZERO))
    return expected


def _given(root: Path) -> list:
    subs = root / "subs"
    files = sorted(p for p in os.listdir(os.fsencode(subs)) if p.endswith(b".ipynb"))
    paths = [os.fsdecode(os.fsencode(subs) + b"/" + name) for name in files]
    return [*paths, subs / "b" / "dup", subs / "a" / "dup"]  # b before a: resolution must not care


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    require_sandbox()
    root = tmp_path_factory.mktemp("hostile")
    out = root / "out"
    expected = _class(root, out)
    scratch = root / "grader_tmp"
    scratch.mkdir()
    old_tempdir, old_secret = tempfile.tempdir, os.environ.get("MESALIB_GRADER_SECRET")
    tempfile.tempdir = str(scratch)
    os.environ["MESALIB_GRADER_SECRET"] = SECRET
    try:
        run = grade(_given(root), out, seed=SEED, jobs=2, limits=LIMITS, progress=False, echo=None)
    finally:
        tempfile.tempdir = old_tempdir
        if old_secret is None:
            del os.environ["MESALIB_GRADER_SECRET"]
        else:
            os.environ["MESALIB_GRADER_SECRET"] = old_secret
    gradebook = (out / "gradebook.csv").read_bytes()
    time.sleep(3)  # longer than the process that tried to outlive its sandbox would sleep
    return run, root, out, expected, scratch, gradebook


def _rows(out: Path) -> dict[str, dict]:
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as f:
        return {row["learner"]: row for row in csv.DictReader(f)}


def test_every_learner_keeps_a_row_with_its_exact_status_and_points(hostile):
    run, root, out, expected, *_ = hostile
    rows = _rows(out)
    assert set(rows) == set(expected)
    for learner, want in expected.items():
        if want is not None:
            assert (rows[learner]["status"], float(rows[learner]["total"])) == want, (learner, rows[learner])
    assert "Isolation: bubblewrap" in run.summary


def test_nothing_was_written_outside_and_nothing_outlived_the_sandbox(hostile):
    run, root, out, _, scratch, gradebook = hostile
    assert sorted(p.name for p in root.iterdir()) == ["grader_tmp", "out", "subs"]  # no host_* file
    assert (out / "gradebook.csv").read_bytes() == gradebook  # unchanged after the would-be survivor woke
    honest = json.loads((out / "records" / "honest.json").read_text())
    assert (honest["status"], honest["total"]) == ("ok", 1.0)
    assert list(scratch.iterdir()) == []  # the package view and every job folder are gone
    assert not [p for p in out.rglob("*") if ".tmp" in p.name]


def test_secrets_and_classmates_never_reach_the_feedback(hostile):
    run, root, out, *_ = hostile
    feedback = (out / "feedback" / "reads_grader.md").read_text(encoding="utf-8")
    assert "Problem: raised ValueError: found [] in " in feedback  # it looked, and found nothing
    record = json.loads((out / "records" / "reads_grader.json").read_text())
    everything = feedback + json.dumps(record["exercises"]) + json.dumps(record["notes"])
    for secret in (SECRET, "pytest", "BEGIN SOLUTION", "gamma**t * r"):
        assert secret not in everything


def test_cheats_are_told_why(hostile):
    run, *_ = hostile
    by = {r["learner"]: r["exercises"][0]["message"] for r in run.records if not r["problem"]}
    assert "calls mesalib.analysis.evaluate:discounted_return, the library's answer" in by["runpy"]
    assert "calls mesalib.analysis.evaluate:discounted_return" in by["reload"]
    assert "code compiled at run time (<string>" in by["base64_exec"]
    assert "code compiled at run time (<string>" in by["getsource_exec"]
    assert "prints '\u2713 discounted_return" in by["homoglyph"]
    assert "ran longer than the 3 s limit" in by["sleeps"]
    assert "exited early with code 3" in by["exits_hard"]


def test_odd_text_and_name_collisions_are_written_and_reported(hostile):
    run, root, out, *_ = hostile
    by = {r["learner"]: r for r in run.records}
    assert "Problem: raised ValueError: bad \\udcff text" in (out / "feedback" / "surrogate.md").read_text()
    assert (out / "feedback" / "caf_xe9.md").exists() and by["caf\\xe9"]["total"] == 1.0
    assert by["dup"]["submission"].endswith("a/dup") and by["dup~2"]["submission"].endswith("b/dup")
    note = f"the submission {root / 'subs' / 'b' / 'dup'} is named dup~2, because the submission "
    assert any(n.startswith(note) for n in by["dup~2"]["notes"])
    assert any(w.startswith(note) for w in run.warnings)


def test_honest_work_is_graded_fairly(hostile):
    run, *_ = hostile
    by = {r["learner"]: r["exercises"][0] for r in run.records}
    assert by["magic_time"]["status"] == "ok"  # %%time: the same cell in the static and the run phase
    assert by["self_test"]["status"] == "partial"  # its own "passed" is no imitation of the check
    forged = by["forges_replies"]
    assert forged["status"] in ("partial", "bad_answers", "crashed") and forged["points"] <= _points(ZERO)


def test_grading_refuses_without_a_sandbox_unless_the_class_is_trusted(tmp_path, monkeypatch, capsys):
    path = write_notebook(learner_notebook("00", {"discounted_return": GOOD}), tmp_path / "ann.ipynb")
    monkeypatch.setattr(bwrap_module, "probe", lambda: "bubblewrap (bwrap) is not installed")
    argv = ["grade", str(path), "--out", str(tmp_path / "out"), "--seed", "1", "--no-progress"]
    assert cli.main(argv) == 2
    error = capsys.readouterr().err
    assert "bubblewrap (bwrap) is not installed" in error and "--trusted-class" in error
    assert not (tmp_path / "out").exists()
    assert cli.main([*argv, "--trusted-class"]) == 0
    assert "Isolation: NONE" in capsys.readouterr().out
    record = json.loads((tmp_path / "out" / "records" / "ann.json").read_text())
    assert record["total"] == 1.0 and record["isolation"].startswith("NONE")
    assert "Isolation: NONE" in (tmp_path / "out" / "feedback" / "ann.md").read_text()
    assert json.loads((tmp_path / "out" / "grades.json").read_text())["isolation"].startswith("NONE")
