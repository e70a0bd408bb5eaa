"""`mesalib export`: the course in other tools' formats (course/exports.md).

    mesalib export nbgrader DIR --seed 4711            # an nbgrader course directory (needs a clone)
    mesalib export canvas grades/gradebook.csv canvas.csv --roster roster.csv --assignment "Lesson 2 (4711)"
    mesalib export site build/site                     # the course as a static website (needs a clone)

A thin layer over `nbgrader_export`, `grading.lms` and `site`. The `mesalib` command adds it with
`add_parser(subparsers)`.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

SEED_HELP = "draws the hidden tests' cases (keep it secret: it is in the source notebooks only)"


def _lesson_number(text: str) -> str:
    if not re.fullmatch(r"\d\d", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed: use a two-digit lesson number such as 02")
    return text


def add_parser(subparsers) -> argparse.ArgumentParser:
    from mesalib.teaching.cli import SEED  # the command's own numeric types (cli imports this module)

    ex = subparsers.add_parser("export", help="the course for nbgrader, a gradebook for Canvas, a website")
    kinds = ex.add_subparsers(dest="kind", required=True)

    nb = kinds.add_parser("nbgrader", help="write an nbgrader course directory from the solution notebooks")
    nb.add_argument("folder", metavar="DIR", help="the nbgrader course directory (made if missing)")
    nb.add_argument("--seed", type=SEED, required=True, help=SEED_HELP)
    nb.add_argument("--lessons", nargs="+", type=_lesson_number, help="lesson numbers (default: all)")
    nb.add_argument("--force", action="store_true", help="replace source notebooks already in DIR")

    ca = kinds.add_parser("canvas", help="write a `mesalib grade` gradebook.csv as a Canvas gradebook import")
    ca.add_argument("gradebook", metavar="GRADEBOOK.csv", help="the gradebook.csv `mesalib grade` wrote")
    ca.add_argument("out", metavar="OUT.csv", help="the CSV to import into Canvas")
    ca.add_argument(
        "--roster",
        metavar="ROSTER.csv",
        help="maps learners to Canvas: column learner, and any of Student, ID, SIS User ID, SIS Login ID, "
        "Section (default: the learner's name as Student)",
    )
    ca.add_argument(
        "--assignment",
        metavar="NAME",
        help='the assignment column, e.g. "Lesson 2 (4711)" for Canvas assignment 4711 '
        "(default: mesalib lesson NN, which Canvas creates as a new assignment)",
    )

    si = kinds.add_parser("site", help="build the course as a static website (Sphinx, offline)")
    si.add_argument("folder", metavar="DIR", nargs="?", default="build/site", help="default build/site")
    si.add_argument("--lessons", nargs="+", type=_lesson_number, help="lesson numbers (default: all)")
    si.add_argument("--course-pages", nargs="+", metavar="FILE", help="files of course/ (default: every .md)")
    ex.set_defaults(run=main)
    return ex


def main(args: argparse.Namespace) -> int:
    from mesalib.teaching.course_files import CourseFilesMissing

    try:
        return {"nbgrader": _nbgrader, "canvas": _canvas, "site": _site}[args.kind](args)
    except CourseFilesMissing as exc:
        print(f"error: mesalib export {args.kind}: {exc}", file=sys.stderr)
        return 2


def _nbgrader(args: argparse.Namespace) -> int:
    from mesalib.teaching.nbgrader_export import ExportError, export_course

    folder = Path(args.folder)
    if folder.exists() and not folder.is_dir():
        print(f"error: DIR {args.folder!r} is a file: give a folder for the nbgrader course", file=sys.stderr)
        return 2
    try:
        written = export_course(folder, args.seed, lessons=args.lessons, force=args.force)
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Wrote {len(written)} assignment(s) into {folder / 'source'}; next, in {folder}:")
    print("  nbgrader generate_assignment lesson00   # the release version: stubs, hidden tests removed")
    return 0


def _canvas(args: argparse.Namespace) -> int:
    from mesalib.teaching.grading.lms import LmsExportError, canvas_gradebook

    texts = {}
    for option, name in (("GRADEBOOK.csv", args.gradebook), ("--roster", args.roster)):
        if name is None:
            continue
        path = Path(name)
        if not path.is_file():
            print(
                f"error: {option} {name!r} {'is a folder' if path.is_dir() else 'does not exist'}",
                file=sys.stderr,
            )
            return 2
        texts[option] = path.read_text(encoding="utf-8-sig")
    try:
        result = canvas_gradebook(texts["GRADEBOOK.csv"], texts.get("--roster"), args.assignment)
    except LmsExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    Path(args.out).write_text(result, encoding="utf-8")
    print(f"Wrote {args.out}: import it in Canvas under Grades > Import.")
    return 0


def _site(args: argparse.Namespace) -> int:
    from mesalib.teaching.site import SiteError, build_site

    try:
        index = build_site(Path(args.folder), lessons=args.lessons, course_pages=args.course_pages)
    except SiteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Built {index} (open it in a browser; nothing is fetched from the network).")
    return 0
