"""What counts as the library's answer to an exercise: the objects learner code may not use.

Three parts of the grader read this: the static check (`codecheck.reference_use`, on the cell's
AST), the sandbox's view of the package, in which each of these objects has no code
(`package_view.py`; calling one raises, and the status is `reads_reference`), and the provenance
check that recognises their code copied into a cell (`provenance.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mesalib.teaching.checks import Exercise

__all__ = ["REFERENCE_RULES", "ReferenceRule", "forbidden_targets"]


@dataclass(frozen=True)
class ReferenceRule:
    """Whether an exercise forbids taking its answer from the library, and which library objects
    (as "module:name") count besides its reference (`extra`) or are allowed after all (`allow`)."""

    forbid: bool = True
    extra: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()


# The grader's own list: every exercise forbids its reference (the library function it is checked
# against, or the library objects its reference wrapper calls); these add the other library objects
# that compute the same answer. Lessons whose exercises may build on the library say so here.
REFERENCE_RULES: dict[str, ReferenceRule] = {
    "lesson01.step": ReferenceRule(
        extra=("mesalib.env.rules:Game", "mesalib.env.rules:step", "mesalib.env.rules:arrive")
    ),
    "lesson01.observe": ReferenceRule(extra=("mesalib.env.rules:Game", "mesalib.env.rules:observe")),
    "lesson02.distance_map": ReferenceRule(extra=("mesalib.agents.planner:all_pairs_distances",)),
    "lesson02.nearest_key": ReferenceRule(
        extra=("mesalib.agents.heuristics:KeyThenChest", "mesalib.agents.heuristics:greedy_step")
    ),
    "lesson02.key_then_chest": ReferenceRule(
        extra=("mesalib.agents.heuristics:NearestKey", "mesalib.agents.heuristics:greedy_step")
    ),
}


def _library_name(obj: Any) -> str | None:
    module = getattr(obj, "__module__", None)
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if (
        isinstance(module, str)
        and isinstance(name, str)
        and module.startswith("mesalib.")
        and not module.startswith("mesalib.teaching.checks")
        and "<" not in name
    ):
        return f"{module}:{name}"
    return None


def forbidden_targets(exercise: Exercise) -> list[str]:
    """The library objects ("module:name") learner code may not use for `exercise` (empty when the
    exercise allows it): its reference if that is a library object, else the library functions and
    classes its reference wrapper names, plus REFERENCE_RULES' extras, minus its allowances."""
    rule = REFERENCE_RULES.get(exercise.id, ReferenceRule())
    if not rule.forbid:
        return []
    found = []
    ref = exercise.reference
    direct = _library_name(ref)
    if direct:
        found.append(direct)
    else:
        code, scope = getattr(ref, "__code__", None), getattr(ref, "__globals__", {})
        for name in code.co_names if code else ():
            target = _library_name(scope.get(name))
            if target and (callable(scope.get(name))):
                found.append(target)
    found += list(rule.extra)
    return [t for t in dict.fromkeys(found) if t not in rule.allow]
