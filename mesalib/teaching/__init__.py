"""The teaching layer: what turns the library into a course, at the top of the stack.

- `checks`: one module per lesson, checking learners' exercises against the library's own functions.
- `lessons`: building the exercise notebooks in `lessons/` from `solutions/`.
- `validate` (`mesalib check`) and `pytest_plugin`: validating a learner's lesson; under validation a
  failing check fails its cell, in JupyterLab it never stops Run All.
- `lab` and `lab_contents`: opening the course in JupyterLab (`mesalib lab`, `make course`).
- `grading`: auto-grading learners' notebooks.
- `cli`: the `mesalib` command.
"""
