"""The grader's parts on their own: plain data across the sandbox wall, the static checks, the
sandbox's limits and locks, and the scoring rules."""

from __future__ import annotations

import io
import os
import signal
import zipfile

import numpy as np
import pytest

from mesalib.teaching import checks
from mesalib.teaching.grading import codecheck, forbidden_targets, hundredths, plain
from mesalib.teaching.grading.sandbox import Limits, Sandbox

EX00 = checks.lesson00.discounted_return
CASES = plain.dumps([c.args for c in EX00.cases(0)])
GOOD = "def discounted_return(rewards, gamma):\n    return sum(gamma**t * r for t, r in enumerate(rewards))\n"


# --------------------------------------------------------------------------------------------------
# plain data


def test_plain_data_round_trips_exactly():
    value = [
        1,
        2.5,
        float("nan"),
        True,
        None,
        "text",
        (1, (2, 3)),
        {"a": [np.int64(3), np.float32(0.5)]},
        np.arange(6, dtype=np.uint8).reshape(2, 3),
        np.zeros((0, 4), bool),
        np.bool_(True),
    ]
    text, arrays = plain.dumps([value])
    (back,), extra = plain.loads(text, arrays, 2**20)
    assert extra == {}
    assert back[:2] == [1, 2.5] and np.isnan(back[2]) and back[3:6] == [True, None, "text"]
    assert back[6] == (1, (2, 3)) and type(back[6]) is tuple
    assert type(back[7]["a"][0]) is np.int64 and type(back[7]["a"][1]) is np.float32
    assert back[8].dtype == np.uint8 and back[8].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert back[9].shape == (0, 4) and back[9].dtype == bool and type(back[10]) is np.bool_


def test_objects_that_are_not_plain_are_refused_and_liars_are_named():
    class Liar(float):
        def __eq__(self, other):
            return True

    class Point:
        pass

    Liar.__module__ = Point.__module__ = "__main__"  # as if written in the learner's cell

    from enum import IntEnum

    class Move(IntEnum):
        UP = 0

    trees, arrays = plain.encode_many(
        [Liar(1.0), Point(), {1, 2}, np.array([object()]), Move.UP, {"k": [Liar(2)]}]
    )
    values = [plain.decode(t, arrays) for t in trees]
    assert (
        plain.contains_eq(values[0])
        == "test_objects_that_are_not_plain_are_refused_and_liars_are_named.<locals>.Liar"
    )
    assert isinstance(values[1], plain.NotPlain) and not values[1].claims_equality
    assert values[2].type_name == "set" and "dtype object" in values[3].type_name
    assert values[4] == 0 and type(values[4]) is int
    assert plain.contains_eq(values[5]) is not None
    assert values[1] != values[1]  # a refused answer equals nothing, itself included


def test_damaged_or_forged_answer_files_are_refused(tmp_path):
    text, arrays = plain.dumps([np.ones(3)])
    with pytest.raises(plain.PlainError):
        plain.loads(b"{not json", arrays, 2**20)
    with pytest.raises(plain.PlainError):
        plain.loads(b'{"values": [{"#": "nd", "k": "a9"}]}', arrays, 2**20)
    with pytest.raises(plain.PlainError):
        plain.loads(b'{"values": [{"#": "pickle", "v": "..."}]}', arrays, 2**20)
    buffer = io.BytesIO()
    np.save(buffer, np.array([object()]), allow_pickle=True)
    with zipfile.ZipFile(packed := io.BytesIO(), "w") as archive:
        archive.writestr("a0.npy", buffer.getvalue())
    with pytest.raises(plain.PlainError, match="unreadable arrays"):  # object arrays need pickles: refused
        plain.loads(b'{"values": [{"#": "nd", "k": "a0"}]}', packed.getvalue(), 2**20)
    squeezed = io.BytesIO()
    np.savez_compressed(squeezed, a0=np.zeros(10**6))
    with pytest.raises(plain.PlainError, match="compressed"):
        plain.loads(text, squeezed.getvalue(), 2**30)
    with pytest.raises(plain.PlainError, match="larger than the limit"):
        plain.loads(text, arrays, 10)
    target = tmp_path / "secret"
    target.write_text("x")
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(OSError):
        plain.read_regular_file(tmp_path / "link", 100)
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(plain.PlainError, match="not a regular file"):
        plain.read_regular_file(tmp_path / "fifo", 100)
    with pytest.raises(plain.PlainError, match="more than the limit"):
        plain.read_regular_file(target, 0)


# --------------------------------------------------------------------------------------------------
# static checks


def _tamper(source, **kw):
    return [target for _, target in codecheck.tampering(codecheck.parse(source)[0], **kw)]


def test_tampering_is_found_through_aliases_but_not_in_own_variables():
    assert _tamper("import numpy.testing as nt\nnt.assert_allclose = print", exercise_cell=True) == [
        "nt.assert_allclose"
    ]
    assert _tamper(
        "from mesalib.teaching import checks as c\nsetattr(c.lesson02, 'x', 1)", exercise_cell=False
    ) == ["c.lesson02"]
    assert _tamper("import sys\nsys.modules['mesalib.teaching.checks'] = None", exercise_cell=False) == [
        "sys.modules"
    ]
    assert _tamper(
        "from unittest import mock\nmock.patch('numpy.testing.assert_allclose').start()", exercise_cell=False
    ) == ["numpy.testing.assert_allclose"]
    assert _tamper("del np.isclose", exercise_cell=True) == ["np.isclose"]
    assert (
        _tamper("checks = [1, 2]\nchecks[0] = 3\nkeys = walls.copy()\nkeys[1, 2] = False", exercise_cell=True)
        == []
    )
    assert (
        _tamper("import matplotlib.pyplot as plt\nplt.rcParams['figure.dpi'] = 80", exercise_cell=False) == []
    )
    assert (
        _tamper("import matplotlib.pyplot as plt\nplt.rcParams['figure.dpi'] = 80", exercise_cell=True) != []
    )
    official = codecheck.statement_keys(codecheck.parse("np.random.seed = 3")[0])
    assert _tamper("np.random.seed = 3", exercise_cell=False, official=frozenset(official)) == []


def test_reading_the_reference_is_found():
    guards = ["mesalib.agents.heuristics:NearestKey", "mesalib.agents.heuristics:greedy_step"]
    pre = {"NearestKey": "mesalib.agents.heuristics.NearestKey", "np": "numpy"}

    def uses(source):
        return codecheck.reference_use(codecheck.parse(source)[0], guards, pre)

    assert uses("def f(w):\n    return NearestKey()(None, w)") == [
        "uses NearestKey (imported from mesalib.agents.heuristics)"
    ]
    assert uses("import mesalib.agents.heuristics as p\ndef f(w):\n    return p.greedy_step(w)") == [
        "uses p.greedy_step"
    ]
    assert uses("from mesalib.agents.heuristics import greedy_step as g") == [
        "imports greedy_step from mesalib.agents.heuristics"
    ]
    assert uses("from mesalib.teaching import checks") == [
        "imports mesalib.teaching.checks (the grader's checks)"
    ]
    assert uses("def f():\n    return eval('1')") == ["uses eval (dynamic access)"]
    assert uses("import sys\ndef f():\n    return sys.modules") == ["uses sys.modules (dynamic access)"]
    assert uses("def f(c):\n    return c.__subclasses__()") == ["uses .__subclasses__ (reflection)"]
    assert uses("class NearestKey:\n    pass\ndef f():\n    return NearestKey()") == []  # the learner's own
    assert uses("def f(walls, keys):\n    return np.argmin(walls)") == []


def test_fake_check_output_and_magics():
    assert codecheck.fake_output(codecheck.parse("print(f'✓ {name}: all 25 cases pass.')")[0])
    assert codecheck.fake_output(codecheck.parse("import sys\nsys.stdout.write('tests passed')")[0])
    assert not codecheck.fake_output(codecheck.parse("print('distance', d)\n'''the keys passed in'''")[0])
    tree, error = codecheck.parse("%timeit f()\ndef f():\n    !ls\n    return 1")
    assert error == "" and codecheck.binds(tree, "f")
    assert codecheck.parse("def f(:\n")[1].startswith("line 1")


def test_forbidden_targets_come_from_the_reference_and_the_rules():
    assert forbidden_targets(EX00) == ["mesalib.analysis.evaluate:discounted_return"]
    assert forbidden_targets(checks.lesson02.distance_map)[0] == "mesalib.agents.heuristics:distance_map"
    nearest = forbidden_targets(checks.lesson02.nearest_key)
    assert nearest[0] == "mesalib.agents.heuristics:NearestKey"  # found in the reference wrapper's code
    assert {"mesalib.agents.heuristics:KeyThenChest", "mesalib.agents.heuristics:greedy_step"} <= set(nearest)


def test_partial_credit_rounds_down_to_hundredths():
    assert hundredths(3, 22, 23) == 286 and hundredths(1, 44, 45) == 97 and hundredths(2, 49, 49) == 200
    assert hundredths(3, 199, 200) == 298 and hundredths(2, 0, 10) == 0 and hundredths(2, 0, 0) == 0


# --------------------------------------------------------------------------------------------------
# the sandbox


@pytest.fixture(scope="module")
def box():
    with Sandbox() as sandbox:
        yield sandbox


SMALL = Limits(wall_s=5, cpu_s=5, memory_mb=256)


def _run(
    box,
    cell,
    limits=SMALL,
    guards=("mesalib.analysis.evaluate:discounted_return",),
):
    return box.run(
        checks_module="mesalib.teaching.checks.lesson00",
        exercise="discounted_return",
        function="discounted_return",
        preamble="import gymnasium as gym\nimport mesalib",
        earlier=[],
        cell=cell,
        guards=list(guards),
        cases=CASES,
        limits=limits,
    )


def test_correct_code_gives_answers_the_grader_judges(box):
    result = _run(box, GOOD)
    assert (result.exit_code, result.status, result.violation) == (0, "ok", "")
    assert sum(EX00.judge(c, a) is None for c, a in zip(EX00.cases(0), result.answers)) == len(EX00.cases(0))


def test_the_child_has_a_fresh_folder_and_a_minimal_environment(box):
    result = _run(
        box,
        "import os, sys\ndef discounted_return(rewards, gamma):\n"
        "    return [sorted(os.environ), os.listdir('.'), os.getcwd() == os.environ['HOME'],\n"
        "            'mesalib.teaching.checks' in sys.modules, os.getpid() != os.getsid(0)]\n",
    )
    env, listing, home_is_cwd, has_checks, not_leader = result.answers[0]
    assert env == sorted(
        [
            "PATH",
            "HOME",
            "TMPDIR",
            "LANG",
            "MPLBACKEND",
            "OMP_NUM_THREADS",
            "OPENBLAS_NUM_THREADS",
            "MKL_NUM_THREADS",
            "NUMEXPR_NUM_THREADS",
            "VECLIB_MAXIMUM_THREADS",
        ]
    )
    assert listing == [] and home_is_cwd and not has_checks and not not_leader


def test_cpu_time_is_limited(box):
    result = _run(
        box,
        "def discounted_return(rewards, gamma):\n    while True:\n        pass\n",
        limits=Limits(wall_s=30, cpu_s=1),
    )
    # The CPU limit ended it, not the wall clock. Linux sends SIGXCPU only once the child has used its
    # 1 s, so the lower bound is sound under any load (the grader calls >= 90% of the limit cpu_limit);
    # how far past it the child got before the signal landed depends on the machine, so no upper bound.
    assert result.signal == signal.SIGXCPU and not result.timed_out
    assert result.cpu_s >= 0.9


def test_output_is_limited_and_the_protocol_cannot_be_forged(box):
    flood = _run(
        box,
        "def discounted_return(rewards, gamma):\n    while True:\n        print('x' * 100000)\n",
        limits=Limits(wall_s=20, cpu_s=20, file_mb=1),
    )
    assert flood.signal == signal.SIGXFSZ
    forged = _run(
        box,
        "import os\nfor fd in range(1, 40):\n    try:\n"
        '        os.write(fd, b\'{"exit_code": 0, "timed_out": false}\\n\')\n    except OSError:\n'
        "        pass\ndef discounted_return(rewards, gamma):\n    raise SystemExit\n",
    )
    assert (forged.exit_code, forged.status, forged.detail) == (0, "exit_raised", "SystemExit")
    assert _run(box, GOOD).status == "ok"  # the server is still in step


def test_forbidden_actions_end_the_child_and_the_server_survives(box, tmp_path):
    cases = {
        "import subprocess\nsubprocess.run(['true'])\n": "starts another program",
        "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n": "sends a signal",
        "import resource\nresource.setrlimit(resource.RLIMIT_CPU, (100, 100))\n": (
            "changes its resource limits"
        ),
        "import os\nos.symlink('/etc', 'etc')\n": "creates a symbolic link",
        f"import os\nos.remove({str(tmp_path / 'keep')!r})\n": "outside its working directory",
        "import ctypes\nctypes.CDLL(None)\n": "ctypes",
        "import gc\ngc.get_objects()\n": "searches the interpreter's objects",
        "from mesalib.teaching import checks\n": "imports mesalib.teaching.checks",
    }
    (tmp_path / "keep").write_text("x")
    for source, why in cases.items():
        result = _run(box, source + GOOD)
        assert result.exit_code == 86 and why in result.violation, (source, result)
    assert (tmp_path / "keep").exists()
    crashed = _run(box, "import os\ndef discounted_return(rewards, gamma):\n    os.abort()\n")
    assert crashed.signal == signal.SIGABRT
    assert _run(box, GOOD).status == "ok"


def test_the_reference_is_a_tripwire_inside_the_child(box):
    result = _run(
        box,
        "import mesalib.analysis.evaluate as m\nf = getattr(m, 'discounted' + '_return')\n"
        "def discounted_return(rewards, gamma):\n    return f(rewards, gamma)\n",
    )
    assert result.exit_code == 86 and result.violation.startswith(
        "reference\tuses mesalib.analysis.evaluate.discounted_return"
    )
    unguarded = _run(
        box,
        "import mesalib.analysis.evaluate as m\ndef discounted_return(rewards, gamma):\n"
        "    return m.discounted_return(rewards, gamma)\n",
        guards=(),
    )
    assert unguarded.status == "ok"  # without a guard the library works: the guard list decides


def test_a_dead_server_is_started_again(box):
    box._proc.kill()
    box._proc.wait()
    assert _run(box, GOOD).status == "ok"


def test_learner_code_does_not_outlive_the_server():
    with Sandbox() as sandbox:
        import threading

        marker = "import time\ndef discounted_return(rewards, gamma):\n    time.sleep(600)\n"
        thread = threading.Thread(target=_run, args=(sandbox, marker, Limits(wall_s=600, cpu_s=600)))
        thread.start()
        server = sandbox._proc.pid
        children = []
        for _ in range(200):  # wait for the child to start
            children = [int(p) for p in os.listdir("/proc") if p.isdigit() and _ppid(int(p)) == server]
            if children:
                break
            threading.Event().wait(0.05)
        assert children
        os.kill(server, signal.SIGKILL)
        thread.join(timeout=60)
        for _ in range(100):
            if (
                not os.path.exists(f"/proc/{children[0]}")
                or _ppid(children[0]) != server
                and _state(children[0]) in "ZX"
            ):
                break
            threading.Event().wait(0.05)
        assert not os.path.exists(f"/proc/{children[0]}") or _state(children[0]) in "ZX"


def _ppid(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "X"
