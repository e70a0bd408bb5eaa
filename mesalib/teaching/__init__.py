"""The teaching layer: what turns the library into a course, at the top of the stack.

- `checks`: one module per lesson, checking learners' exercises against the library's own functions.
- `lessons`: building the exercise notebooks in `lessons/` from `solutions/`.
- `grading`: auto-grading learners' notebooks.
- `cli`: the `mesalib` command.
"""
