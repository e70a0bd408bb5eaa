"""`mesalib grade`: a class of synthetic submissions (correct, partial, broken and cheating), each
with its exact outcome; outputs, idempotence, crashes and resuming, the command line.

The submissions are built here from the official lesson notebooks (mesalib.teaching.grading.synthetic);
lesson 00 (one exercise, 1 point) carries most of them because its exercise is cheap to run.
"""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import numpy as np
import pytest

from mesalib.teaching import checks, cli
from mesalib.teaching.grading import Limits, grade, hundredths
from mesalib.teaching.grading.grader import ExerciseGrader
from mesalib.teaching.grading.synthetic import learner_notebook, solution_sources, write_notebook

LIMITS = Limits(wall_s=3.0, cpu_s=3.0, memory_mb=256)
SEED = 7
GOOD = "def discounted_return(rewards, gamma):\n    return sum(gamma**t * r for t, r in enumerate(rewards))\n"
RAISES = GOOD.replace(
    "    return sum", "    if gamma < 0.6:\n        raise ValueError('gamma too small')\n    return sum"
)
EX00 = checks.lesson00.discounted_return
N_PUBLIC, N_HIDDEN = len(EX00.cases(0)), EX00.n_random
HIDDEN = EX00.random_cases(np.random.default_rng(SEED), EX00.n_random)


def _cell_index(nb: dict, key: str, value: str) -> int:
    (index,) = [
        i for i, c in enumerate(nb["cells"]) if c.get("metadata", {}).get("mesalib", {}).get(key) == value
    ]
    return index


def nb00(source: str = GOOD) -> dict:
    return learner_notebook("00", {"discounted_return": source})


def _memorizer() -> str:
    table = {repr((c.args["rewards"], c.args["gamma"])): EX00.expected(c) for c in EX00.cases(0)}
    return (
        "TABLE = " + repr(table) + "\n\n"
        "def discounted_return(rewards, gamma):\n"
        "    return TABLE.get(repr((rewards, gamma)), 0.0)\n"
    )


def _class00(root: Path, outside: Path) -> dict[str, str]:
    """Write one learner per situation into root; returns learner -> a note of what it is."""
    made = {}

    def put(name: str, nb: dict | None = None, *, raw: bytes | None = None, folder: bool = False) -> None:
        path = root / name / "00_welcome.ipynb" if folder else root / f"{name}.ipynb"
        if raw is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(raw)
        else:
            write_notebook(nb, path)
        made[name] = str(path.parent if folder else path)

    put("correct", nb00(), folder=True)
    put("stub", learner_notebook("00", solved=False))
    put(
        "partial",
        nb00(GOOD.replace("    return sum", "    if not rewards:\n        return 1.0\n    return sum")),
    )
    put("memorizer", nb00(_memorizer()))
    put("raises", nb00(RAISES))
    put("returns_set", nb00("def discounted_return(rewards, gamma):\n    return {1.0}\n"))
    put(
        "prints_passed",
        nb00(
            'print("✓ discounted_return: all 25 cases pass.")\n\n'
            "def discounted_return(rewards, gamma):\n    return 0.0\n"
        ),
    )
    nb = nb00()
    nb["cells"][_cell_index(nb, "check", "lesson00.discounted_return")]["source"] = (
        'print("✓ discounted_return: all 25 cases pass.")'
    )
    put("check_edited", nb)
    put(
        "patches_numpy",
        nb00("import numpy as np\nnp.testing.assert_allclose = lambda *a, **k: None\n\n" + GOOD),
    )
    nb = nb00()
    nb["cells"].insert(
        _cell_index(nb, "check", "lesson00.discounted_return"),
        {
            "cell_type": "code",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
            "source": "import mesalib.teaching.checks\n"
            "mesalib.teaching.checks.Exercise.__call__ = lambda self, fn, seed=0: None",
        },
    )
    put("patches_checks", nb)
    put("system_exit", nb00("def discounted_return(rewards, gamma):\n    raise SystemExit(0)\n"))
    put("keyboard_interrupt", nb00(GOOD + "\nraise KeyboardInterrupt\n"))
    put(
        "equals_anything",
        nb00(
            "class Anything:\n    def __eq__(self, other):\n        return True\n\n"
            "def discounted_return(rewards, gamma):\n    return Anything()\n"
        ),
    )
    put(
        "imports_reference",
        nb00(
            "from mesalib.analysis.evaluate import discounted_return as ref\n\n"
            "def discounted_return(rewards, gamma):\n    return ref(rewards, gamma)\n"
        ),
    )
    put(
        "reference_by_getattr",
        nb00(
            "import mesalib.analysis.evaluate\n\ndef discounted_return(rewards, gamma):\n"
            "    return getattr(mesalib.analysis.evaluate, 'discounted' + '_return')(rewards, gamma)\n"
        ),
    )
    put(
        "writes_outside",
        nb00(
            f"def discounted_return(rewards, gamma):\n"
            f"    open({str(outside)!r}, 'w').write('x')\n" + GOOD.split("\n", 1)[1]
        ),
    )
    put(
        "writes_inside",
        nb00(
            "def discounted_return(rewards, gamma):\n"
            "    open('scratch.txt', 'w').write('x')\n" + GOOD.split("\n", 1)[1]
        ),
    )
    put(
        "forks",
        nb00(
            "import os, time\n\ndef discounted_return(rewards, gamma):\n"
            "    if os.fork() == 0:\n        time.sleep(600)\n    return 0.0\n"
        ),
    )
    put(
        "network",
        nb00(
            "import socket\n\ndef discounted_return(rewards, gamma):\n"
            "    socket.create_connection(('example.org', 80))\n"
        ),
    )
    put("sleeps", nb00("import time\n\ndef discounted_return(rewards, gamma):\n    time.sleep(60)\n"))
    put(
        "allocates",
        nb00("def discounted_return(rewards, gamma):\n    hog = bytearray(4 * 1024**3)\n    return 0.0\n"),
    )
    nb = nb00()
    nb["cells"][_cell_index(nb, "exercise", "lesson00.discounted_return")]["metadata"]["mesalib"][
        "points"
    ] = 5
    put("points_edited", nb)
    nb = nb00()
    nb["cells"][_cell_index(nb, "exercise", "lesson00.discounted_return")]["metadata"]["mesalib"][
        "exercise"
    ] = "lesson00.bonus"
    put("id_edited", nb)
    nb = nb00()
    i = _cell_index(nb, "exercise", "lesson00.discounted_return")
    nb["cells"].insert(i, copy.deepcopy(nb["cells"][i]))
    put("duplicated", nb)
    nb = nb00()
    del nb["cells"][_cell_index(nb, "exercise", "lesson00.discounted_return")]
    put("missing_cell", nb)
    put("syntax_error", nb00("def discounted_return(rewards, gamma)\n    return 0.0\n"))
    put("invalid_json", raw=json.dumps(nb00()).encode()[:-40])
    put("empty", raw=b"")
    write_notebook(learner_notebook("01"), root / "other_lesson.ipynb")
    made["other_lesson"] = str(root / "other_lesson.ipynb")
    huge = root / "huge.ipynb"
    with open(huge, "wb") as f:
        f.truncate(3 * 2**20)  # sparse: 3 MiB on paper, over the 1 MiB limit of these tests
    made["huge"] = str(huge)
    return made


# learner -> (status column of the gradebook, points); None: checked separately
EXPECTED = {
    "correct": ("ok", 1.0),
    "writes_inside": ("ok", 1.0),
    "stub": ("discounted_return: not_implemented", 0.0),
    "partial": (
        "discounted_return: partial",
        hundredths(1, N_PUBLIC + N_HIDDEN - 1, N_PUBLIC + N_HIDDEN) / 100,
    ),
    "memorizer": None,
    "raises": None,
    "returns_set": ("discounted_return: failed", 0.0),
    "prints_passed": ("discounted_return: fake_output", 0.0),
    "check_edited": ("discounted_return: check_edited", 0.0),
    "patches_numpy": ("discounted_return: tampering", 0.0),
    "patches_checks": ("discounted_return: tampering", 0.0),
    "system_exit": ("discounted_return: exit_raised", 0.0),
    "keyboard_interrupt": ("discounted_return: exit_raised", 0.0),
    "equals_anything": ("discounted_return: custom_eq", 0.0),
    "imports_reference": ("discounted_return: reads_reference", 0.0),
    "reference_by_getattr": ("discounted_return: reads_reference", 0.0),
    "writes_outside": ("discounted_return: failed", 0.0),  # no such folder in the sandbox: it raises
    "forks": ("discounted_return: failed", 0.0),  # no new processes in the sandbox: the fork raises
    "network": ("discounted_return: failed", 0.0),  # no network in the sandbox: it raises
    "sleeps": ("discounted_return: timeout", 0.0),
    "allocates": ("discounted_return: memory_limit", 0.0),
    "points_edited": ("discounted_return: metadata_edited", 0.0),
    "id_edited": ("discounted_return: missing_cell", 0.0),
    "duplicated": ("discounted_return: duplicate_cell", 0.0),
    "missing_cell": ("discounted_return: missing_cell", 0.0),
    "syntax_error": ("discounted_return: syntax_error", 0.0),
    "invalid_json": ("invalid_json", 0.0),
    "empty": ("empty_file", 0.0),
    "other_lesson": ("wrong_lesson", 0.0),
    "huge": ("too_large", 0.0),
}


@pytest.fixture(scope="module")
def class00(tmp_path_factory):
    root = tmp_path_factory.mktemp("class00")
    outside = root.parent / "written_by_a_learner.txt"
    made = _class00(root / "subs", outside)
    run = grade(
        [made[k] for k in sorted(made)],
        root / "out",
        seed=SEED,
        jobs=2,
        limits=LIMITS,
        max_bytes=2**20,
        progress=False,
        echo=None,
    )
    return run, root, made, outside


def _rows(out: Path) -> dict[str, dict]:
    with open(out / "gradebook.csv", newline="") as f:
        return {row["learner"]: row for row in csv.DictReader(f)}


def test_every_situation_gets_its_exact_status_and_points(class00):
    run, root, made, outside = class00
    rows = _rows(root / "out")
    assert set(rows) == set(EXPECTED)
    for learner, want in EXPECTED.items():
        if want is None:
            continue
        status, points = want
        row = rows[learner]
        assert (row["status"], float(row["total"])) == (status, points), (learner, row)
        assert row["lesson"] == "00" and row["max"] == "1"
    assert not outside.exists()  # the write outside the working directory never happened
    assert run.lesson == "00" and run.graded_now == len(EXPECTED) and run.reused == 0


def test_statuses_say_why(class00):
    run, *_ = class00
    by = {r["learner"]: r for r in run.records}

    def message(learner):
        return by[learner]["exercises"][0]["message"]

    assert "prints '✓ discounted_return: all 25 cases pass.'" in message("prints_passed")
    assert "check cell's code was changed" in message("check_edited")
    assert "np.testing.assert_allclose" in message("patches_numpy")
    assert "cell 9" in message("patches_checks") and "mesalib.teaching.checks.Exercise.__call__" in message(
        "patches_checks"
    )
    assert "raised SystemExit" in message("system_exit") and "KeyboardInterrupt" in message(
        "keyboard_interrupt"
    )
    assert "class Anything" in message("equals_anything")
    assert "imports discounted_return from mesalib.analysis.evaluate" in message("imports_reference")
    assert "calls mesalib.analysis.evaluate:discounted_return, the library's answer" in message(
        "reference_by_getattr"
    )
    assert "raised FileNotFoundError" in by["writes_outside"]["exercises"][0]["report"]
    assert "raised" in by["network"]["exercises"][0]["report"]
    assert "raised BlockingIOError" in by["forks"]["exercises"][0]["report"]
    assert "3 s limit" in message("sleeps")
    assert "256 MiB" in message("allocates")
    assert "points: 5 instead of 1" in message("points_edited")
    assert "2 cells" in message("duplicated")
    assert "line 1" in message("syntax_error")
    assert any("lesson00.bonus" in note for note in by["id_edited"]["notes"])
    assert "not valid JSON" in by["invalid_json"]["message"]
    assert "is empty" in by["empty"]["message"]
    assert "lesson 01, not lesson 00" in by["other_lesson"]["message"]
    assert "3.0 MiB, over the limit of 1.0 MiB" in by["huge"]["message"]


def test_hidden_cases_count_but_are_never_shown(class00):
    run, root, *_ = class00
    memo = next(r for r in run.records if r["learner"] == "memorizer")
    ex = memo["exercises"][0]
    hidden_right = sum(
        EX00.judge(case, 0.0) is None for case in HIDDEN
    )  # the table answers 0.0 to what it has not seen
    assert ex["public"] == [N_PUBLIC, N_PUBLIC] and ex["hidden"] == [hidden_right, N_HIDDEN]
    assert ex["points"] == hundredths(1, N_PUBLIC + hidden_right, N_PUBLIC + N_HIDDEN) / 100 < 1.0
    assert ex["status"] == "partial" and ex["report"] == ""
    texts = [
        (root / "out" / "grades.json").read_text(),
        (root / "out" / "feedback" / "memorizer.md").read_text(),
    ]
    assert "Every public case passes but some hidden ones fail" in texts[1]
    for case in HIDDEN:
        for text in texts:
            assert repr(case.args["rewards"]) not in text
    assert "def " not in texts[1] and "_reference" not in texts[1]


def test_exceptions_and_answers_that_are_not_plain_fail_their_cases(class00):
    run, root, *_ = class00
    by = {r["learner"]: r["exercises"][0] for r in run.records}
    namespace: dict = {}
    exec(RAISES, namespace)

    def outcome(case):
        try:
            return EX00.judge(case, namespace["discounted_return"](**case.args))
        except ValueError:
            return "raised"

    passed = sum(outcome(c) is None for c in EX00.cases(0) + HIDDEN)
    assert 0 < passed < N_PUBLIC + N_HIDDEN
    assert (by["raises"]["status"], by["raises"]["points"]) == (
        "partial",
        hundredths(1, passed, N_PUBLIC + N_HIDDEN) / 100,
    )
    assert "Problem: raised ValueError: gamma too small" in by["raises"]["report"]
    assert by["returns_set"]["public"] == [0, N_PUBLIC]
    assert "Problem: returned a set, which is not plain data" in by["returns_set"]["report"]


def test_feedback_shows_the_first_failing_public_case_and_the_hint(class00):
    _, root, *_ = class00
    text = (root / "out" / "feedback" / "partial.md").read_text()
    assert "# Feedback on lesson 00 for partial" in text
    assert (
        f"Public cases: {N_PUBLIC - 1} of {N_PUBLIC} pass. Hidden cases: {N_HIDDEN} of {N_HIDDEN} pass."
        in text
    )
    assert "Case (an empty episode):" in text and "Expected:\n    0.0\nGot:\n    1.0" in text
    assert f"Hint: {EX00.nudge}" in " ".join(text.split())  # the check's report wraps long lines
    assert (root / "out" / "feedback" / "correct.md").read_text().count("(all cases pass)") == 1
    assert f"Hint: {EX00.nudge}" in (root / "out" / "feedback" / "sleeps.md").read_text()
    assert "could not be graded" in (root / "out" / "feedback" / "huge.md").read_text()


def test_the_json_holds_everything_and_the_summary_the_distribution(class00):
    run, root, *_ = class00
    data = json.loads((root / "out" / "grades.json").read_text())
    assert data["lesson"] == "00" and data["seed"] == SEED and data["max_points"] == 1
    assert data["exercises"] == [
        {
            "exercise": "lesson00.discounted_return",
            "name": "discounted_return",
            "points": 1,
            "public_cases": N_PUBLIC,
            "hidden_cases": N_HIDDEN,
        }
    ]
    assert [r["learner"] for r in data["learners"]] == sorted(EXPECTED)
    assert "fingerprint" not in data["learners"][0]
    assert "Class distribution" in run.summary and "full 1 |" in run.summary
    assert len(list((root / "out" / "feedback").glob("*.md"))) == len(EXPECTED)
    assert len(list((root / "out" / "records").glob("*.json"))) == len(EXPECTED)


def _files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_grading_again_gives_identical_files(class00, tmp_path):
    run, root, made, _ = class00
    quick = [made[k] for k in sorted(made) if k not in ("sleeps",)]
    first = grade(quick, tmp_path / "a", seed=SEED, limits=LIMITS, max_bytes=2**20, progress=False, echo=None)
    second = grade(
        quick, tmp_path / "b", seed=SEED, limits=LIMITS, max_bytes=2**20, progress=False, echo=None
    )
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert first.records == [r for r in run.records if r["learner"] != "sleeps"]
    assert second.records == first.records and second.summary == first.summary
    assert (second.graded_now, second.reused) == (len(quick), 0)  # graded again, not copied


def test_a_crash_on_one_submission_loses_nothing_and_resuming_finishes(tmp_path, monkeypatch):
    subs = tmp_path / "subs"
    paths = [write_notebook(nb00(), subs / f"{name}.ipynb") for name in ("ann", "ben", "cat", "dan")]
    mutant = GOOD.replace("gamma**t", "gamma**(t + 1)")
    write_notebook(nb00(mutant), subs / "ben.ipynb")
    namespace: dict = {}
    exec(mutant, namespace)
    cases = EX00.cases(0) + HIDDEN
    ben_passed = sum(EX00.judge(c, namespace["discounted_return"](**c.args)) is None for c in cases)
    clean = grade(paths, tmp_path / "clean", seed=SEED, jobs=1, limits=LIMITS, progress=False, echo=None)

    original = ExerciseGrader.grade

    def flaky(self, sub, sandbox):
        if sub.learner == "ben":
            raise RuntimeError("boom")
        if sub.learner == "cat":
            raise KeyboardInterrupt  # the instructor pressed Ctrl-C, or the machine went down
        return original(self, sub, sandbox)

    monkeypatch.setattr(ExerciseGrader, "grade", flaky)
    with pytest.raises(KeyboardInterrupt):
        grade(paths, tmp_path / "out", seed=SEED, jobs=1, limits=LIMITS, progress=False, echo=None)
    saved = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "out" / "records").glob("*.json")}
    assert {"ann", "ben"} <= set(saved) and "cat" not in saved  # graded before the interruption: on disk
    assert saved["ann"]["total"] == 1.0 and saved["ben"]["status"] == "grader_error"
    assert (
        "RuntimeError: boom" in saved["ben"]["message"] and "others are unaffected" in saved["ben"]["message"]
    )
    assert (tmp_path / "out" / "feedback" / "ann.md").exists()

    monkeypatch.setattr(ExerciseGrader, "grade", original)
    (tmp_path / "out" / "records" / "ben.json").unlink()  # regrade ben now that the grader is fixed
    resumed = grade(
        paths, tmp_path / "out", seed=SEED, jobs=1, limits=LIMITS, resume=True, progress=False, echo=None
    )
    assert resumed.reused == len(saved) - 1 and resumed.reused + resumed.graded_now == 4
    assert _files(tmp_path / "out") == _files(tmp_path / "clean")
    assert 0 < ben_passed < len(cases)
    assert [r["total"] for r in clean.records] == [1.0, hundredths(1, ben_passed, len(cases)) / 100, 1.0, 1.0]


@pytest.mark.slow
def test_lesson02_partial_credit_follows_the_learners_own_earlier_functions(tmp_path):
    sol = solution_sources("02")
    wrong_tie = sol["nearest_key"].replace("np.argmin(ahead)", "len(ahead) - 1 - np.argmin(ahead[::-1])")
    assert wrong_tie != sol["nearest_key"]
    subs = tmp_path / "subs"
    write_notebook(learner_notebook("02"), subs / "full" / "02_heuristics.ipynb")
    write_notebook(learner_notebook("02", {"nearest_key": wrong_tie}), subs / "tie.ipynb")
    write_notebook(
        learner_notebook(
            "02",
            {
                "nearest_key": "def nearest_key(walls, keys, agent):\n"
                "    from mesalib.env.levels import Boards\n"
                "    boards = Boards(walls, keys, keys & False, walls & False, agent, 0 * agent[:, 0])\n"
                "    return NearestKey()(None, boards)\n",
                "distance_map": "from mesalib.agents.heuristics import distance_map as library\n\n"
                "def distance_map(walls, targets):\n    return library(walls, targets)\n",
            },
        ),
        subs / "library.ipynb",
    )
    # An earlier exercise cell that smuggles the library's NearestKey into a later one (no static
    # rule sees it), and one that hands a later exercise a function it defines itself.
    smuggler = sol["distance_map"] + "\nfrom mesalib.agents import heuristics as _h\n_lib = _h.NearestKey\n"
    write_notebook(
        learner_notebook(
            "02",
            {
                "distance_map": smuggler,
                "nearest_key": "def nearest_key(walls, keys, agent):\n"
                "    from mesalib.env.levels import Boards\n"
                "    boards = Boards(walls, keys, keys & False, walls & False, agent, 0 * agent[:, 0])\n"
                "    return _lib()(None, boards)\n",
            },
        ),
        subs / "smuggler.ipynb",
    )
    handed = sol["distance_map"] + "\n" + sol["nearest_key"].replace("def nearest_key(", "def _ready(")
    write_notebook(
        learner_notebook("02", {"distance_map": handed, "nearest_key": "nearest_key = _ready\n"}),
        subs / "handed.ipynb",
    )
    run = grade(
        [
            subs / "full",
            subs / "tie.ipynb",
            subs / "library.ipynb",
            subs / "smuggler.ipynb",
            subs / "handed.ipynb",
        ],
        tmp_path / "out",
        seed=SEED,
        limits=Limits(wall_s=10, cpu_s=10),
        progress=False,
        echo=None,
    )
    by = {r["learner"]: r for r in run.records}
    full_marks = sum(ex.points for ex in checks.all_exercises().values() if ex.lesson == "02")
    assert by["full"]["total"] == float(full_marks) and by["full"]["status"] == "ok"

    # The same mutant run here, as the notebook runs it: key_then_chest calls the learner's nearest_key.
    namespace: dict = {}
    exec(
        "import numpy as np\nfrom collections import deque\n"
        "from mesalib.agents.heuristics import UNREACHABLE\n"
        "from mesalib.env.rules import MOVES, Action\n",
        namespace,
    )
    for source in (sol["distance_map"], wrong_tie, sol["key_then_chest"]):
        exec(source, namespace)
    for ex in (checks.lesson02.nearest_key, checks.lesson02.key_then_chest):
        cases = ex.cases(0) + ex.random_cases(np.random.default_rng(SEED), ex.n_random)
        passed = sum(ex.judge(c, namespace[ex.name](**copy.deepcopy(c.args))) is None for c in cases)
        assert 0 < passed < len(cases)
        got = next(e for e in by["tie"]["exercises"] if e["name"] == ex.name)
        assert (got["status"], got["points"]) == ("partial", hundredths(ex.points, passed, len(cases)) / 100)
    assert by["tie"]["exercises"][0]["points"] == 3.0

    lib = {e["name"]: e for e in by["library"]["exercises"]}
    assert (
        lib["distance_map"]["status"] == "reads_reference"
        and "imports distance_map from mesalib.agents.heuristics" in lib["distance_map"]["message"]
    )
    assert (
        lib["nearest_key"]["status"] == "reads_reference"
        and "uses NearestKey" in lib["nearest_key"]["message"]
    )
    # key_then_chest calls the learner's nearest_key, which takes the library's NearestKey: in the
    # sandbox NearestKey has no code, and calling it is reported.
    assert lib["key_then_chest"]["status"] == "reads_reference"
    assert "calls mesalib.agents.heuristics:NearestKey" in lib["key_then_chest"]["message"]
    smuggled = {e["name"]: (e["status"], e["points"]) for e in by["smuggler"]["exercises"]}
    assert smuggled == {
        "distance_map": ("ok", 3.0),
        "nearest_key": ("reads_reference", 0.0),
        "key_then_chest": ("reads_reference", 0.0),  # it calls the learner's nearest_key
        "separating_level": ("ok", 2.0),  # the solution's own level, untouched
    }
    handed_over = next(e for e in by["handed"]["exercises"] if e["name"] == "nearest_key")
    assert (handed_over["status"], handed_over["points"]) == ("provenance", 0.0)
    assert "comes from an earlier exercise cell" in handed_over["message"]


def test_lesson01_answers_with_tuples_come_back_intact(tmp_path):
    path = write_notebook(learner_notebook("01"), tmp_path / "subs" / "zoe.ipynb")
    run = grade(
        [path],
        tmp_path / "out",
        seed=SEED,
        lesson="01",
        limits=Limits(wall_s=10, cpu_s=10),
        progress=False,
        echo=None,
    )
    (record,) = run.records
    assert (record["status"], record["total"], record["max"]) == ("ok", 6.0, 6)


def test_command_line(tmp_path, capsys):
    a = write_notebook(nb00(), tmp_path / "ann.ipynb")
    b = write_notebook(
        nb00("def discounted_return(rewards, gamma):\n    return 0.0\n"), tmp_path / "bo.ipynb"
    )
    out = tmp_path / "out"
    assert (
        cli.main(
            ["grade", str(a), str(b), "--out", str(out), "--seed", "3", "--no-progress", "--timeout", "5"]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "Lesson 00, seed 3: 2 submission(s)" in printed and "Class distribution" in printed
    assert "full 1 |" in printed and "gradebook.csv" in printed
    rows = _rows(out)
    assert rows["ann"]["total"] == "1.00" and rows["bo"]["status"] == "discounted_return: partial"
    assert (
        cli.main(["grade", str(a), "--out", str(out), "--seed", "3", "--lesson", "99", "--no-progress"]) == 2
    )
    assert "lesson 99 has no checks" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:  # argparse names the option and what is allowed
        cli.main(["grade", str(a), "--out", str(out), "--seed", "3", "--jobs", "0"])
    assert refused.value.code == 2


def test_a_class_folder_and_learner_ids(tmp_path):
    root = tmp_path / "class"
    write_notebook(nb00(), root / "ann" / "00_welcome.ipynb")
    write_notebook(nb00(), root / "bo" / "my work.ipynb")
    write_notebook(
        learner_notebook("01"), root / "bo" / "01_world.ipynb"
    )  # another lesson beside it: ignored
    (root / "cy").mkdir()
    run = grade([root], tmp_path / "out", seed=1, limits=LIMITS, progress=False, echo=None)
    assert [(r["learner"], r["status"], r["total"]) for r in run.records] == [
        ("ann", "ok", 1.0),
        ("bo", "ok", 1.0),
        ("cy", "no_notebook", 0.0),
    ]
    assert run.records[1]["notebook"].endswith("my work.ipynb")


@pytest.mark.slow
def test_benchmark_builds_the_class_it_means(tmp_path, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "grading_bench", Path(__file__).parent.parent / "benchmarks" / "grading.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert (
        bench.main(["--lesson", "00", "--submissions", "40", "--timeout", "2", "--keep", str(tmp_path)]) == 0
    )
    printed = capsys.readouterr().out
    assert "statuses as built: all right" in printed and "per submission" in printed
    assert len(list((tmp_path / "submissions").glob("*.ipynb"))) == 40


@pytest.mark.slow
@pytest.mark.parametrize("lesson", [f"{n:02d}" for n in range(10)])
def test_every_lesson_grades_in_the_sandbox_solved_full_and_stubbed_nothing(lesson, tmp_path):
    """The sandbox's view of the package (answers stubbed) still runs every lesson's own solutions."""
    solved = write_notebook(learner_notebook(lesson), tmp_path / "ann.ipynb")
    stub = write_notebook(learner_notebook(lesson, solved=False), tmp_path / "bob.ipynb")
    run = grade(
        [solved, stub],
        tmp_path / "out",
        seed=SEED,
        lesson=lesson,
        limits=Limits(wall_s=60, cpu_s=60),
        progress=False,
        echo=None,
    )
    ann, bob = run.records
    assert (ann["status"], ann["total"]) == ("ok", ann["max"])
    assert bob["total"] == 0.0 and {e["status"] for e in bob["exercises"]} == {"not_implemented"}
