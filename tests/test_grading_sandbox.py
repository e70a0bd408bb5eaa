"""The grader's parts on their own: plain data across the sandbox wall, the static checks, names,
look-alike text, provenance, call adapters, the package view, the sandbox's limits, and the scoring
rules. (A hostile class is in test_grading_hostile.py; isolation in test_grading_isolation.py.)"""

from __future__ import annotations

import inspect
import io
import os
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from test_grading_support import lesson00_sandbox

from mesalib.teaching import checks
from mesalib.teaching.grading import bwrap, codecheck, forbidden_targets, hundredths, plain
from mesalib.teaching.grading.calls import call_source
from mesalib.teaching.grading.imitation import imitates_check
from mesalib.teaching.grading.learners import printable, unique_names
from mesalib.teaching.grading.package_view import STUB_ERROR, build_view, stub_source
from mesalib.teaching.grading.provenance import copied_function, library_shapes
from mesalib.teaching.grading.sandbox import ExerciseJob, Limits

REPO = Path(__file__).resolve().parents[1]  # the clone these tests run in

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


def test_naming_the_reference_is_found_and_ordinary_code_is_not_flagged():
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
    assert uses("class NearestKey:\n    pass\ndef f():\n    return NearestKey()") == []  # the learner's own
    assert uses("def f(walls, keys):\n    return np.argmin(walls)") == []
    # Reflection is no rule any more: in the sandbox's view there is no answer for it to reach.
    assert uses("def f(d):\n    return sorted(vars(d)) + list(globals())") == []


def test_cell_magics_run_the_same_in_the_static_and_the_run_phase():
    timed = "%%time\ndef f():\n    !ls\n    return 1\n"
    assert codecheck.runnable_source(timed) == "\ndef f():\n    pass\n    return 1\n"
    tree, error = codecheck.parse(timed)
    assert error == "" and codecheck.binds(tree, "f")
    assert codecheck.runnable_source("\n  %%capture out\nx = 1") == "\n\nx = 1"
    assert codecheck.runnable_source("%%bash\necho hi") == ""  # not Python: it defines nothing
    assert codecheck.parse("def f(:\n")[1].startswith("line 1")


def test_fake_check_output_is_an_imitation_of_the_check_not_any_pass():
    def fake(source, name="discounted_return"):
        return codecheck.fake_output(codecheck.parse(source)[0], name)

    assert fake("print(f'✓ {name}: all 25 cases pass.')")
    assert fake("print('✓ discounted_return: all cases pass.')")
    assert fake("import sys\nsys.stdout.write('All 25 cases pass')")
    assert fake("print('✔ ｄiscounted_return')")  # another check mark, a full-width letter
    assert fake("print('\u2713 discounted_return: \u0430ll 25 c\u0430ses p\u0430ss.')")  # Cyrillic a
    assert not fake("print('my self-test passed')") and not fake("print('all tests pass')")
    assert not fake("print('distance', d)\n'the keys passed in'")
    assert imitates_check("✓ discounted\u200b_return", "discounted_return")  # a zero-width space
    assert imitates_check("passed: 3 of 3", "discounted_return") is None


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
# names, provenance, call adapters


def test_learner_names_are_printable_unique_and_independent_of_order():
    given = [("alice", "b/alice.ipynb"), ("alice", "a/alice.ipynb"), ("alice~2", "alice~2.ipynb")]
    names, notes = unique_names(given)
    assert names == ["alice~3", "alice", "alice~2"]  # the free name alice~2 stays its owner's
    again, _ = unique_names(list(reversed(given)))
    assert list(reversed(again)) == names  # the same names whatever the order given
    assert notes == [
        "the submission b/alice.ipynb is named alice~3, because the submission a/alice.ipynb is named alice",
        "",
        "",
    ]
    assert printable("caf\udce9") == "caf\\xe9" and printable("zoë") == "zoë"
    assert unique_names([("Ann", "x"), ("ann", "y")])[0] == ["Ann", "ann~2"]  # one name, whatever the case


def test_a_copy_of_the_library_answer_is_recognised_but_small_functions_are_not():
    from mesalib.agents import heuristics

    shapes = library_shapes(["mesalib.agents.heuristics:distance_map"])
    source = inspect.getsource(heuristics.distance_map)
    renamed = source.replace("def distance_map(", "def my_distances(").replace('"""', '"""Mine. ', 1)
    renamed = "\n".join(line + "  # reformatted" if line.strip() else line for line in renamed.split("\n"))
    assert copied_function(codecheck.parse(renamed)[0], shapes) == "my_distances"
    assert copied_function(codecheck.parse(GOOD)[0], library_shapes(forbidden_targets(EX00))) is None


def test_call_adapters_go_to_the_sandbox_without_the_checks_or_the_reference():
    assert call_source(EX00) is None
    source = call_source(checks.lesson04.clipped_policy_loss)
    assert source is not None and "def call(fn, args)" in source
    assert "reference" not in source and "checks" not in source and "clipped_policy_loss" not in source


# --------------------------------------------------------------------------------------------------
# the package view


def test_stubs_keep_names_signatures_and_classes_but_not_the_code():
    source = (
        '"""Doc."""\nfrom __future__ import annotations\nimport math\n\n'
        "def answer(x: int = 2) -> int:\n    return x * 21\n\n"
        "class Solver:\n    size = 3\n\n    def solve(self):\n        return math.pi\n\n"
        "def other():\n    return 1\n"
    )
    stubbed = stub_source(source, "m", ["answer", "Solver"])
    scope: dict = {}
    exec(stubbed, scope)
    assert "x * 21" not in stubbed and "math.pi" not in stubbed and scope["other"]() == 1
    assert scope["Solver"].size == 3
    for call in (lambda: scope["answer"](3), lambda: scope["Solver"]().solve()):
        with pytest.raises(Exception) as raised:
            call()
        assert type(raised.value).__name__ == STUB_ERROR and "m:" in str(raised.value)
    with pytest.raises(ValueError, match="defines no top-level missing"):
        stub_source(source, "m", ["missing"])


def test_the_view_of_lesson02_has_no_answers_and_its_imports_work(tmp_path):
    names = ("distance_map", "nearest_key", "key_then_chest")
    guards = sorted({g for name in names for g in forbidden_targets(getattr(checks.lesson02, name))})
    view = build_view(REPO / "mesalib", tmp_path, guards)
    heuristics = (view / "mesalib" / "agents" / "heuristics.py").read_text()
    body = heuristics.split("def distance_map", 1)[1].split("\ndef ", 1)[0]
    assert "deque" not in body and "_graded_away('mesalib.agents.heuristics:distance_map')" in body
    plan_search = (view / "mesalib" / "agents" / "plan_search.py").read_text()
    assert "_graded_away('mesalib.agents.plan_search:all_pairs_distances')" in plan_search  # where defined
    assert sorted(p.name for p in (view / "mesalib" / "teaching" / "checks").iterdir()) == ["__init__.py"]
    assert not list(view.rglob("__pycache__")) and not list(view.rglob("*.ipynb"))
    python, sites = bwrap.python_paths()
    probe = (
        "import sys; sys.path[:0] = [sys.argv[1]]; sys.path += sys.argv[2:]\n"
        "import mesalib, numpy as np\nfrom mesalib.agents.heuristics import UNREACHABLE, distance_map\n"
        "from mesalib.env.rules import MOVES, Action\nfrom mesalib.teaching import checks\n"
        "out = [mesalib.__file__.startswith(sys.argv[1])]\n"
        "for call in (lambda: distance_map(np.zeros((3, 3), bool), np.ones((3, 3), bool)),\n"
        "             lambda: checks.lesson02):\n"
        "    try:\n        call()\n    except Exception as exc:\n        out.append(type(exc).__name__)\n"
        "print(out)"
    )
    done = subprocess.run(
        [python, "-I", "-S", "-c", probe, str(view), *sites], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == f"[True, '{STUB_ERROR}', '{STUB_ERROR}']", done.stderr


# --------------------------------------------------------------------------------------------------
# the sandbox


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    return lesson00_sandbox(tmp_path_factory.mktemp("sandbox"))


SMALL = Limits(wall_s=5, cpu_s=5, memory_mb=256, startup_s=30)


def _run(box, *cells, limits=SMALL, earlier=()):
    jobs = [ExerciseJob("discounted_return", cell, list(earlier), CASES) for cell in cells]
    return box.run("import gymnasium as gym\nimport mesalib", jobs, limits)


def test_correct_code_gives_answers_the_grader_judges(box):
    (result,) = _run(box, GOOD)
    assert (result.exit_code, result.status, result.origin, result.error) == (0, "ok", "", "")
    assert sum(EX00.judge(c, a) is None for c, a in zip(EX00.cases(0), result.answers)) == len(EX00.cases(0))


def test_each_exercise_has_a_fresh_folder_and_a_minimal_environment(box):
    spy = (
        "import os\nopen('left_behind.txt', 'w').write('x')\n"
        "def discounted_return(rewards, gamma):\n"
        "    return [sorted(os.environ), os.getcwd(), sorted(os.listdir('.')), os.getuid(),\n"
        "            os.getpgid(0) == os.getpid()]\n"
    )
    first, second = _run(box, spy, spy)
    for result in (first, second):
        env, cwd, listing, uid, leader = result.answers[0]
        set_by_imports = {"PWD", "PYGAME_HIDE_SUPPORT_PROMPT"}  # bwrap's --chdir, an imported library
        assert set(bwrap.ENVIRONMENT) <= set(env) <= set(bwrap.ENVIRONMENT) | set_by_imports
        assert uid == 65534 and leader
        assert listing == [".answers.json", ".answers.npz", ".output", "left_behind.txt"]
    assert first.answers[0][1] != second.answers[0][1]


def test_cpu_time_is_limited(box):
    (result,) = _run(
        box,
        "def discounted_return(rewards, gamma):\n    while True:\n        pass\n",
        limits=Limits(wall_s=30, cpu_s=1, startup_s=30),
    )
    # Linux sends SIGXCPU once the child has used its 1 s, so the lower bound is sound under any load.
    assert result.signal == signal.SIGXCPU and not result.timed_out and result.cpu_s >= 0.9


def test_output_and_memory_are_limited(box):
    flood, hog = _run(
        box,
        "def discounted_return(rewards, gamma):\n    while True:\n        print('x' * 100000)\n",
        "def discounted_return(rewards, gamma):\n    return len(bytearray(2 * 1024**3))\n",
        limits=Limits(wall_s=20, cpu_s=20, file_mb=1, memory_mb=256, startup_s=30),
    )
    assert flood.signal == signal.SIGXFSZ
    assert hog.status == "memory_limit"


def test_a_wall_clock_timeout_ends_only_that_exercise(box):
    sleeper, good = _run(
        box,
        "import time\ndef discounted_return(rewards, gamma):\n    time.sleep(60)\n",
        GOOD,
        limits=Limits(wall_s=1, cpu_s=1, startup_s=30),
    )
    assert sleeper.timed_out and good.status == "ok"


def test_the_reference_has_no_code_in_the_sandbox(box):
    (result,) = _run(
        box,
        "import mesalib.analysis.evaluate as m\nf = getattr(m, 'discounted' + '_return')\n"
        "def discounted_return(rewards, gamma):\n    return f(rewards, gamma)\n",
    )
    assert {type(a).__name__ for a in result.answers} == {"Raised"}
    assert {a.type_name for a in result.answers} == {STUB_ERROR}


def test_the_runner_reports_where_the_function_was_defined(box):
    (made_by_exec,) = _run(box, "exec('def discounted_return(rewards, gamma):\\n    return 0.0')")
    assert made_by_exec.origin == "<string>"
    (smuggled,) = _run(
        box, "discounted_return = helper", earlier=["def helper(rewards, gamma):\n    return 0.0"]
    )
    assert smuggled.origin == "<earlier exercise cell>"
    (decorated,) = _run(
        box, "import functools\n\n@functools.lru_cache\n" + GOOD.replace("rewards, g", "rewards, g")
    )
    assert decorated.origin == ""


def test_replies_forged_by_the_learner_cannot_break_the_grader(box):
    forger = (
        "import os\nfor pid in os.listdir('/proc'):\n    for fd in range(0, 20):\n        try:\n"
        "            with open(f'/proc/{pid}/fd/{fd}', 'wb') as f:\n"
        '                f.write(b\'{"exit_code": 0, "answers_json": 7}\\n\\x00\\xff\\n\')\n'
        "        except (OSError, ValueError):\n            pass\n" + GOOD
    )
    results = _run(box, forger, GOOD)
    assert len(results) == 2 and all(r.error == "" for r in results)  # read, judged, nothing raised


def _processes_with(marker: bytes) -> list[int]:
    """Host PIDs of processes whose command line holds `marker`."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if marker in f.read():
                    found.append(int(entry))
        except (OSError, ValueError):
            continue
    return found


def test_no_process_outlives_its_sandbox_even_where_forks_are_allowed(box):
    marker = f"outliver-{os.getpid()}-{time.monotonic_ns()}"
    daemon = (
        "import os, sys\n"
        "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
        "        sleeper = 'import time; time.sleep(30)'\n"
        f"        os.execv(sys.executable, [sys.executable, '-c', sleeper, {marker!r}])\n"
        "    os._exit(0)\n" + GOOD
    )
    (result,) = _run(box, daemon, limits=Limits(wall_s=5, cpu_s=5, processes=8, startup_s=30))
    assert result.status == "ok"
    assert _processes_with(marker.encode()) == []  # the daemon died with its sandbox


def test_forks_fail_by_default(box):
    (result,) = _run(box, "import os\n" + GOOD.replace("    return", "    os.fork()\n    return"))
    assert result.answers is not None, result
    assert {a.type_name for a in result.answers} == {"BlockingIOError"}


def test_python_under_the_hosts_tmp_is_bound_on_top_of_the_private_tmp(monkeypatch, tmp_path):
    """A clone (and its virtual environment) in /tmp, as CI makes it: the sandbox's own /tmp must be
    mounted first, or it hides the site-packages and no learner's code can even import NumPy."""
    monkeypatch.setattr(
        bwrap, "python_paths", lambda: ("/usr/bin/python3", ["/tmp/clone/.venv/site-packages"])
    )
    monkeypatch.setattr(bwrap, "bwrap_path", lambda: "/usr/bin/bwrap")
    cmd = bwrap.command(tmp_path, tmp_path, "pass", [], tmp_mb=8)
    tmpfs = cmd.index("--tmpfs")
    assert cmd[tmpfs + 1] == bwrap.WORK == "/tmp"
    site = next(
        i
        for i in range(len(cmd) - 2)
        if cmd[i : i + 3] == ["--ro-bind", *["/tmp/clone/.venv/site-packages"] * 2]
    )
    assert tmpfs < site


def test_the_grader_parses_python_one_thread_at_a_time():
    """CPython 3.11's ast.parse is not thread-safe (its depth counter is shared between threads: CI saw
    "SystemError: AST constructor recursion depth mismatch" while two learners were graded at once).
    Every parse in the grader's process goes through `codecheck.parse_python`, which holds a lock;
    only the sandbox's runner (`inside.py`, one thread, its own process) may call ast.parse itself."""
    folder = Path(codecheck.__file__).parent
    direct = sorted(
        path.name
        for path in folder.glob("*.py")
        if "ast.parse(" in path.read_text(encoding="utf-8") and path.name not in ("inside.py", "codecheck.py")
    )
    assert direct == []
    assert codecheck.parse_python("x = 1").body[0].targets[0].id == "x"
