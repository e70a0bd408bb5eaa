"""Printed text that imitates a passing check, recognised however it is spelled.

A check that passes prints `✓ name: all 25 cases pass.`. A submission that prints such a line while
some of its cases fail tries to fool whoever reads the notebook; a learner's own self-test printing
"passed" or "all tests pass" does not imitate the check and is not flagged. Before matching, the text
is normalised: Unicode NFKC (full-width and compatibility letters), invisible format characters
removed, look-alike letters from other scripts (Cyrillic `а`, Greek `ο`, ...) and look-alike check
marks (`✔ ☑ ✅ √ 🗸`) mapped to the plain ones, then lower case.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["imitates_check", "normalise"]

CHECK_MARK = "✓"
_LOOK_ALIKES = {
    **dict.fromkeys("✔☑✅√🗸🗹🗸✓︎", CHECK_MARK),
    **dict(zip("аеорсхуіјѕԁһԛԝвкмнтАВЕКМНОРСТХІЈЅ", "aeopcxyijsdhqwbkmhtABEKMHOPCTXIJS")),
    **dict(zip("αβεικνορτυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "abeiknoptuxABEZHIKMNOPTYX")),
    "ı": "i",
    "ℓ": "l",
}
_TABLE = str.maketrans(_LOOK_ALIKES)


def normalise(text: str) -> str:
    """`text` folded for matching: NFKC, no invisible format characters, look-alikes mapped, lower case."""
    folded = unicodedata.normalize("NFKC", text)
    folded = "".join(c for c in folded if unicodedata.category(c) != "Cf")
    folded = folded.translate(_TABLE)
    return re.sub(r"\s+", " ", folded).lower()


def imitates_check(text: str, function: str) -> str | None:
    """The part of `text` that imitates a passing check of `function` (a check mark before its name,
    or "all N cases pass"), or None."""
    pattern = re.compile(
        rf"{CHECK_MARK}\s*{re.escape(function.lower())}\b|\ball\s+(\d+\s+)?cases?\s+pass",
    )
    found = pattern.search(normalise(text))
    return found.group(0) if found else None
