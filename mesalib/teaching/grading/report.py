"""What the grader writes: one record per learner, the feedback file, the gradebook CSV, the JSON
with everything, and the class summary (a text histogram of the totals).

Everything written is a function of the inputs, the seed and the limits only (no times, no dates,
no absolute temporary paths), so grading the same submissions again gives byte-identical files.
"""

from __future__ import annotations

import csv
import io
import json
import os
import statistics
import threading
from collections import Counter
from pathlib import Path

__all__ = ["write_atomic", "feedback_text", "gradebook_csv", "histogram", "summary_text"]

STATUS_TITLES = {
    "ok": "all cases pass",
    "partial": "some cases fail",
    "failed": "every case fails",
    "not_implemented": "not implemented",
    "missing_cell": "exercise cell missing",
    "duplicate_cell": "exercise cell duplicated",
    "not_code": "exercise cell is not code",
    "metadata_edited": "metadata edited",
    "check_edited": "check cell changed",
    "syntax_error": "syntax error",
    "no_function": "function not defined",
    "tampering": "grading machinery changed",
    "reads_reference": "answer taken from the library",
    "provenance": "not your own code",
    "fake_output": "fake check output",
    "exit_raised": "raised SystemExit or similar",
    "custom_eq": "answer claims equality",
    "timeout": "time limit",
    "cpu_limit": "CPU limit",
    "memory_limit": "memory limit",
    "output_limit": "output limit",
    "crashed": "crashed",
    "bad_answers": "answers unreadable",
    "sandbox_error": "grader's sandbox failed",
}


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file and a rename: a reader never sees half a file.
    Characters UTF-8 cannot encode (lone surrogates from undecodable names or messages) are written
    as backslash escapes, so odd text never stops the grader; the temporary file never stays behind."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}-{threading.get_ident()}")
    try:
        with open(tmp, "w", encoding="utf-8", errors="backslashreplace", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def points_text(value: float) -> str:
    return f"{value:.2f}"


def _points(n: int) -> str:
    return f"{n} point" if n == 1 else f"{n} points"


def feedback_text(record: dict, hints: dict[str, str]) -> str:
    """The learner's feedback (Markdown): per exercise the points, what passed, the first failing
    public case and the hint. Never hidden inputs, never reference code."""
    lines = [f"# Feedback on lesson {record['lesson']} for {record['learner']}", ""]
    lines.append(f"Total: **{points_text(record['total'])} of {_points(record['max'])}**.")
    if str(record.get("isolation", "")).startswith("NONE"):
        lines += ["", f"Isolation: {record['isolation']}."]
    if record.get("problem"):
        lines += [
            "",
            f"Your submission could not be graded: {record['message']}",
            "",
            "Every exercise gets 0 points. Hand in the lesson's notebook (.ipynb) as Jupyter saved it.",
        ]
        return "\n".join(lines) + "\n"
    lines += [
        "",
        "Each exercise is graded on the public cases your notebook's check uses and on hidden cases "
        "drawn at random by your instructor. Only the exercise cells run, each on its own, with the "
        "lesson's imports and the functions of your earlier exercise cells.",
        "",
    ]
    for ex in record["exercises"]:
        title = STATUS_TITLES.get(ex["status"], ex["status"])
        lines.append(f"## {ex['name']}: {points_text(ex['points'])} of {_points(ex['max'])} ({title})")
        lines.append("")
        public, hidden = ex["public"], ex["hidden"]
        if ex["status"] in ("ok", "partial", "failed", "fake_output"):
            lines.append(
                f"Public cases: {public[0]} of {public[1]} pass. "
                f"Hidden cases: {hidden[0]} of {hidden[1]} pass."
            )
        if ex["status"] not in ("ok", "partial", "failed"):
            lines.append("")
            lines.append(ex["message"][:1].upper() + ex["message"][1:] + ".")
        if ex["report"]:
            lines += ["", "The first public case that fails:", "", "```", ex["report"], "```"]
        elif ex["status"] in ("partial", "failed", "fake_output") and public[0] == public[1]:
            lines += [
                "",
                "Every public case passes but some hidden ones fail: test your function on inputs "
                "the public cases do not cover (other sizes, edge cases, ties).",
            ]
        if ex["status"] != "ok" and not ex["report"]:
            lines += ["", f"Hint: {hints.get(ex['exercise'], '')}"]
        for note in ex.get("notes", []):
            lines += ["", f"Note: {note}."]
        lines.append("")
    for note in record.get("notes", []):
        lines.append(f"Note: {note}.")
    return "\n".join(lines).rstrip("\n") + "\n"


def gradebook_csv(records: list[dict], exercise_names: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["learner", "lesson", *exercise_names, "total", "max", "status"])
    for record in records:
        by_name = {ex["name"]: ex["points"] for ex in record["exercises"]}
        writer.writerow(
            [
                record["learner"],
                record["lesson"],
                *(points_text(by_name.get(n, 0.0)) for n in exercise_names),
                points_text(record["total"]),
                record["max"],
                record["status"],
            ]
        )
    return buffer.getvalue()


def histogram(totals: list[float], maximum: int, width: int = 40) -> list[str]:
    """A text histogram of totals: ten equal bins over [0, max), then a row for full marks."""
    if not totals:
        return ["(no submissions)"]
    bins = 10
    edges = [maximum * i / bins for i in range(bins + 1)]
    counts = [0] * bins
    full = 0
    for t in totals:
        if t >= maximum:
            full += 1
        else:
            counts[min(bins - 1, int(t * bins / maximum))] += 1
    top = max(counts + [full]) or 1
    rows = []
    for i, count in enumerate(counts):
        label = f"{edges[i]:5.2f} - {edges[i + 1]:5.2f}"
        rows.append(f"  {label} | {'#' * round(count * width / top):<{width}} {count}")
    rows.append(f"  {'full ' + str(maximum):>13} | {'#' * round(full * width / top):<{width}} {full}")
    return rows


def summary_text(records: list[dict], lesson: str, seed: int, maximum: int, isolation: str) -> str:
    totals = [r["total"] for r in records]
    lines = [f"Lesson {lesson}, seed {seed}: {len(records)} submission(s), totals out of {_points(maximum)}."]
    lines.append(f"Isolation: {isolation}.")
    if totals:
        lines.append(
            f"Mean {statistics.fmean(totals):.2f}, median {statistics.median(totals):.2f}, "
            f"{sum(t >= maximum for t in totals)} with full marks."
        )
        lines.append("Class distribution (totals):")
        lines += histogram(totals, maximum)
    statuses: Counter[str] = Counter()
    for r in records:
        if r.get("problem"):
            statuses[r["status"]] += 1
        else:
            for ex in r["exercises"]:
                statuses[ex["status"]] += 1
    if statuses:
        lines.append(
            "Statuses (per exercise; per submission for unreadable ones): "
            + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items(), key=lambda kv: (-kv[1], kv[0])))
        )
    return "\n".join(lines)


def dumps_json(data) -> str:
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=True) + "\n"
