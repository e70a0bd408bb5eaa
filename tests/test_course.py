"""lessons/ is generated from solutions/, and must stay in sync."""

from pathlib import Path

import nbformat
import pytest

from mesalib.teaching.cli import main
from mesalib.teaching.lessons import BEGIN, END, STUB, build_lessons, strip_solutions

ROOT = Path(__file__).resolve().parent.parent


def test_repository_lessons_are_in_sync_with_solutions():
    assert build_lessons(ROOT / "solutions", ROOT / "lessons", check=True) == []


def test_solution_regions_become_stubs_at_their_indentation():
    source = f'def f(x):\n    """Doc."""\n    {BEGIN}\n    y = x + 1\n    return y\n    {END}\n\nprint(1)'
    assert strip_solutions(source) == f'def f(x):\n    """Doc."""\n    {STUB}\n\nprint(1)'
    assert strip_solutions("a = 1") == "a = 1"


@pytest.mark.parametrize(
    "source, message",
    [
        (f"{BEGIN}\nx = 1", "never closed"),
        (f"x = 1\n{END}", "without a"),
        (f"{BEGIN}\n{BEGIN}\n{END}", "inside another"),
    ],
)
def test_broken_markers_are_clear_errors(source, message):
    with pytest.raises(ValueError, match=message):
        strip_solutions(source)


def make_solution(path: Path, answer: str) -> None:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(f"def f():\n    {BEGIN}\n    return {answer}\n    {END}")
    cell.outputs = [nbformat.v4.new_output("stream", text="noise")]
    cell.execution_count = 3
    nb.cells = [nbformat.v4.new_markdown_cell("# t"), cell]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def test_build_then_check_then_detect_staleness(tmp_path, capsys):
    make_solution(tmp_path / "solutions" / "01_x.ipynb", "42")
    assert main(["lessons", "--check", "--root", str(tmp_path)]) == 1
    assert main(["lessons", "--root", str(tmp_path)]) == 0
    lesson = nbformat.read(tmp_path / "lessons" / "01_x.ipynb", as_version=4)
    code = lesson.cells[1]
    assert "return 42" not in code.source and STUB in code.source
    assert code.outputs == [] and code.execution_count is None
    assert main(["lessons", "--check", "--root", str(tmp_path)]) == 0
    sol = nbformat.read(tmp_path / "solutions" / "01_x.ipynb", as_version=4)
    sol.cells[0].source = "# changed text"
    nbformat.write(sol, tmp_path / "solutions" / "01_x.ipynb")
    assert main(["lessons", "--check", "--root", str(tmp_path)]) == 1
    (tmp_path / "lessons" / "99_orphan.ipynb").write_text("{}")
    main(["lessons", "--root", str(tmp_path)])
    assert (tmp_path / "lessons" / "99_orphan.ipynb").exists()  # never deletes a learner's file
    assert "no solutions/99_orphan.ipynb" in capsys.readouterr().out


def test_notebooks_are_committed_without_outputs():
    for folder in ("solutions", "lessons"):
        for path in sorted((ROOT / folder).glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            for i, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    assert not cell.outputs and cell.execution_count is None, (
                        f"{folder}/{path.name} cell {i} has outputs"
                    )


def test_every_lesson_opens_with_goals_and_time_and_ends_with_summary_questions_reading():
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        first = nb.cells[0].source
        assert "Time:" in first or "time:" in first.lower(), f"{path.name}: say how long it takes"
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        for heading in ("## Summary", "## Discussion questions", "## Further reading"):
            assert heading in text, f"{path.name}: missing {heading}"


def test_regenerating_never_erases_a_learners_work(tmp_path, capsys):
    make_solution(tmp_path / "solutions" / "01_x.ipynb", "42")
    sol = nbformat.read(tmp_path / "solutions" / "01_x.ipynb", as_version=4)
    sol.cells[1].metadata["mesalib"] = {"exercise": "lesson01.f", "points": 1}
    nbformat.write(sol, tmp_path / "solutions" / "01_x.ipynb")
    assert main(["lessons", "--root", str(tmp_path)]) == 0
    lesson_path = tmp_path / "lessons" / "01_x.ipynb"
    lesson = nbformat.read(lesson_path, as_version=4)
    lesson.cells[1].source = lesson.cells[1].source.replace(STUB, "return 41  # my own answer")
    nbformat.write(lesson, lesson_path)
    mine = lesson_path.read_text()
    sol = nbformat.read(tmp_path / "solutions" / "01_x.ipynb", as_version=4)
    sol.cells[0].source = "# the maintainer changed the text"
    nbformat.write(sol, tmp_path / "solutions" / "01_x.ipynb")
    capsys.readouterr()

    assert main(["lessons", "--root", str(tmp_path)]) == 2  # refused: the learner's work is named
    assert "lessons/01_x.ipynb" in capsys.readouterr().err and lesson_path.read_text() == mine
    assert not (tmp_path / ".lesson-backups").exists()

    assert main(["lessons", "--root", str(tmp_path), "--force"]) == 0  # replaced, with a backup first
    (backup,) = (tmp_path / ".lesson-backups").iterdir()
    assert backup.read_text() == mine
    assert STUB in nbformat.read(lesson_path, as_version=4).cells[1].source


def test_a_lesson_that_ran_counts_as_work_and_a_fresh_one_does_not(tmp_path):
    from mesalib.teaching.lessons import worked_on

    make_solution(tmp_path / "solutions" / "01_x.ipynb", "42")
    main(["lessons", "--root", str(tmp_path)])
    path = tmp_path / "lessons" / "01_x.ipynb"
    assert not worked_on(path)
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].execution_count = 3
    nbformat.write(nb, path)
    assert worked_on(path)
