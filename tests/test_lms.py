"""`mesalib export canvas`: a `mesalib grade` gradebook as Canvas's gradebook import CSV."""

from __future__ import annotations

import argparse
import csv
import io

import pytest

from mesalib.teaching import export_command
from mesalib.teaching.grading.lms import CANVAS_IDENTITY, LmsExportError, canvas_gradebook
from mesalib.teaching.grading.report import gradebook_csv

RECORDS = [
    {
        "learner": "bob",
        "lesson": "02",
        "exercises": [{"name": "distance_map", "points": 0.0}, {"name": "nearest_key", "points": 0.65}],
        "total": 0.65,
        "max": 5,
        "status": "distance_map: failed; nearest_key: partial",
    },
    {
        "learner": "alice",
        "lesson": "02",
        "exercises": [{"name": "distance_map", "points": 3.0}, {"name": "nearest_key", "points": 2.0}],
        "total": 5.0,
        "max": 5,
        "status": "ok",
    },
]
GRADEBOOK = gradebook_csv(RECORDS, ["distance_map", "nearest_key"])
"""Written by the grader's own function, so a change of its columns shows here."""
ROSTER = (
    "learner,Student,ID,SIS User ID,SIS Login ID,Section\n"
    '"alice","Lovelace, Ada",101,S-1,ada,Seminar A\n'
    '"bob","Babbage, Charles",102,S-2,cb,Seminar B\n'
    '"carol","Herschel, Caroline",103,S-3,ch,Seminar A\n'
)


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_canvas_columns_points_possible_and_one_row_per_learner_from_the_roster():
    rows = _rows(canvas_gradebook(GRADEBOOK, ROSTER, assignment="Lesson 2 (4711)"))
    assert rows[0] == [*CANVAS_IDENTITY, "Lesson 2 (4711)"]
    assert rows[1] == ["Points Possible", "", "", "", "", "5"]
    assert rows[2:] == [
        ["Lovelace, Ada", "101", "S-1", "ada", "Seminar A", "5.00"],
        ["Babbage, Charles", "102", "S-2", "cb", "Seminar B", "0.65"],
    ]


def test_without_a_roster_the_learner_name_is_the_student_and_the_column_is_a_new_assignment():
    rows = _rows(canvas_gradebook(GRADEBOOK))
    assert rows[0][-1] == "mesalib lesson 02"
    assert rows[2:] == [["alice", "", "", "", "", "5.00"], ["bob", "", "", "", "", "0.65"]]


def test_two_lessons_give_two_columns_and_a_missing_score_stays_blank():
    other = GRADEBOOK + "alice,03,1.00,1.00,2.00,3,ok\n"
    rows = _rows(canvas_gradebook(other))
    assert rows[0][5:] == ["mesalib lesson 02", "mesalib lesson 03"]
    assert rows[1][5:] == ["5", "3"]
    assert rows[3] == ["bob", "", "", "", "", "0.65", ""]
    with pytest.raises(LmsExportError, match="--assignment names one column"):
        canvas_gradebook(other, assignment="Lesson 2")


@pytest.mark.parametrize(
    "gradebook, roster, message",
    [
        ("learner,lesson,points\nalice,02,3\n", None, "the gradebook has no column total, max"),
        ("", None, "the gradebook has no column learner, lesson, total, max"),
        ("learner,lesson,total,max,status\n", None, "the gradebook has no learners"),
        (GRADEBOOK, "name,ID\nalice,1\n", "the roster has no column learner"),
        (GRADEBOOK, "learner,Section\nalice,A\nbob,B\n", "Student, ID or SIS User ID"),
        (GRADEBOOK, "learner,ID\nalice,1\n", "no row for learner.s. bob"),
        (GRADEBOOK, "learner,ID\nalice,1\nalice,2\nbob,3\n", "learner 'alice' twice"),
        (GRADEBOOK + "alice,02,1,1,2.00,5,ok\n", None, "'alice' has two rows for lesson 02"),
        (GRADEBOOK + "carol,02,1,1,2.00,6,ok\n", None, "lesson 02 has two maxima"),
    ],
)
def test_clear_errors(gradebook, roster, message):
    with pytest.raises(LmsExportError, match=message):
        canvas_gradebook(gradebook, roster)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="mesalib")
    export_command.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_the_command_writes_the_file_and_names_a_missing_input(tmp_path, capsys):
    (tmp_path / "gradebook.csv").write_text("\ufeff" + GRADEBOOK)  # a spreadsheet's byte-order mark
    (tmp_path / "roster.csv").write_text(ROSTER)
    out = tmp_path / "canvas.csv"
    args = _parse(
        [
            "export",
            "canvas",
            str(tmp_path / "gradebook.csv"),
            str(out),
            "--roster",
            str(tmp_path / "roster.csv"),
        ]
    )
    assert args.run(args) == 0
    assert _rows(out.read_text())[2][0] == "Lovelace, Ada"
    args = _parse(["export", "canvas", str(tmp_path / "nope.csv"), str(out)])
    assert args.run(args) == 2
    assert "GRADEBOOK.csv" in capsys.readouterr().err
    args = _parse(["export", "canvas", str(tmp_path / "gradebook.csv"), str(out), "--roster", str(tmp_path)])
    assert args.run(args) == 2
    err = capsys.readouterr().err
    assert "--roster" in err and "is a folder" in err
