"""Learner names: printable, unique, and the same whatever order the submissions are given in.

A learner's name comes from a file or folder name, which may hold bytes that are not UTF-8 (Python
shows them as lone surrogates) or characters a file system refuses. `printable` makes any name safe
to write (undecodable bytes become `\\xNN`). When two submissions map to the same name, they are
sorted by the path they were given as, the first keeps the name and the others get `~2`, `~3` ...
(skipping names already taken), so that every submission keeps its own row; each renaming is
returned as a note for the record and the run's warnings.
"""

from __future__ import annotations

__all__ = ["printable", "unique_names"]


def printable(text: str) -> str:
    """`text` with lone surrogates (undecodable bytes of a file name) written as backslash escapes."""
    return (
        text.encode("utf-8", "surrogateescape")
        .decode("utf-8", "backslashreplace")
        .encode("utf-8", "backslashreplace")
        .decode("utf-8")
    )


def unique_names(wanted: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """For (name, given path) pairs: a unique name for each, in the same order, and notes about every
    collision resolved. Deterministic: the first of each name (by the given path) keeps it, names that
    are free keep theirs, and the others get the first free `~N`."""
    names = [printable(name) or "learner" for name, _ in wanted]
    givens = [printable(given) for _, given in wanted]
    order = sorted(range(len(wanted)), key=lambda i: (names[i].casefold(), names[i], givens[i]))
    out = [""] * len(wanted)
    holder: dict[str, int] = {}  # a name (case-folded) -> the submission that has it
    for i in order:
        if names[i].casefold() not in holder:
            holder[names[i].casefold()] = i
            out[i] = names[i]
    notes = [""] * len(wanted)
    for i in order:
        if out[i]:
            continue
        n = 2
        while f"{names[i]}~{n}".casefold() in holder:
            n += 1
        out[i] = f"{names[i]}~{n}"
        holder[out[i].casefold()] = i
        first = holder[names[i].casefold()]
        notes[i] = (
            f"the submission {givens[i]} is named {out[i]}, "
            f"because the submission {givens[first]} is named {out[first]}"
        )
    return out, notes
