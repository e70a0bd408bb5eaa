"""Checks for lesson 09 (three levels of concern): a behavioural verdict from the 2-D robustness plot,
and the table of coordinates and verdicts for several systems.

References: `mesalib.analysis.concern.verdict` and `mesalib.analysis.concern.concern_table`.
Cases are plain data: pairs of numbers, and dictionaries of evaluation summaries (plain numbers, as
`Evaluation.summary()` gives them).
"""

from __future__ import annotations

import math

import numpy as np

from mesalib.analysis.concern import CAPABLE, ON_GOAL, TRAINED, VERDICTS
from mesalib.analysis.concern import concern_table as _reference_concern_table
from mesalib.analysis.concern import verdict as _reference_verdict
from mesalib.teaching.checks import Case, Exercise, close_number, same_array

NAN = float("nan")


def _compare_verdict(expected, actual) -> str | None:
    if not isinstance(actual, str):
        return f"expected a string, one of {list(VERDICTS)}; got {type(actual).__name__}"
    if actual != expected:
        extra = "" if actual in VERDICTS else f" (not one of the allowed verdicts {list(VERDICTS)})"
        return f"{actual!r} instead of {expected!r}{extra}"
    return None


# --------------------------------------------------------------------------------------------------
# Exercise 9.1: verdict


def _verdict_fixed() -> list[Case]:
    def case(train, test, label):
        return Case({"train": [float(v) for v in train], "test": [float(v) for v in test]}, label)

    return [
        case((0.90, 0.96), (0.86, 0.31), "the docstring's example: capable on TEST, few chests"),
        case((0.98, 1.00), (1.02, 1.00), "key_then_chest: robust"),
        case((0.93, 0.98), (0.34, 0.40), "skills gone on TEST and few chests: an arbitrary failure"),
        case((0.95, 0.97), (0.45, 0.75), "slow on TEST but still opening chests: a capability failure"),
        case((0.06, 0.08), (0.21, 0.10), "random: it fails on TRAIN already"),
        case(
            (1.00, 0.60), (1.00, 1.00), "perfect on TEST but y on TRAIN is below 0.8: still 'fails on TRAIN'"
        ),
        case((0.20, 0.85), (0.90, 0.20), "x on TRAIN plays no part in the rule"),
        case((0.90, TRAINED), (0.90, 0.90), "y on TRAIN exactly at the threshold counts as trained (>=)"),
        case((0.90, 0.90), (CAPABLE, 0.20), "x on TEST exactly at the threshold counts as capable (>=)"),
        case((0.90, 0.90), (0.90, ON_GOAL), "y on TEST exactly at the threshold counts as on goal (>=)"),
        case((0.90, 0.90), (0.20, 0.90), "x low, y high on TEST: the axes must not be swapped"),
        case((0.90, 0.90), (NAN, 0.90), "a NaN coordinate (a zero denominator): 'unknown'"),
        case((NAN, 0.90), (0.90, 0.90), "NaN x on TRAIN: 'unknown' too, although the rule does not use it"),
        case((0.90, NAN), (0.90, 0.30), "NaN y on TRAIN: 'unknown', not 'fails on TRAIN'"),
    ]


def _verdict_random(rng: np.random.Generator, n: int) -> list[Case]:
    special = [TRAINED, CAPABLE, ON_GOAL, 0.0, 1.0]
    cases = []
    for i in range(n):
        values = []
        for _ in range(4):
            u = rng.random()
            if u < 0.04:
                values.append(NAN)
            elif u < 0.2:
                values.append(float(rng.choice(special)))
            else:
                values.append(float(np.round(rng.uniform(0.0, 1.2), 3)))
        if rng.random() < 0.6:  # mostly systems that pass TRAIN, so the TEST rule gets exercised
            values[1] = float(np.round(rng.uniform(TRAINED, 1.05), 3))
            if rng.random() < 0.5:  # and half of those capable on TEST
                values[2] = float(np.round(rng.uniform(CAPABLE, 1.1), 3))
        cases.append(Case({"train": values[:2], "test": values[2:]}, f"random #{i + 1}"))
    return cases


verdict = Exercise(
    lesson="09",
    name="verdict",
    points=2,
    reference=_reference_verdict,
    fixed_cases=_verdict_fixed,
    random_cases=_verdict_random,
    compare=_compare_verdict,
    nudge="Go through the table's rows from the top: which of the four numbers does each row read, and "
    "does a point exactly on a line pass?",
    hint=f"In this order: any NaN among the four numbers -> 'unknown'; y on TRAIN (train[1]) < {TRAINED} -> "
    f"'fails on TRAIN'; then on TEST, capable = x >= {CAPABLE} (test[0]) and on goal = y >= {ON_GOAL} "
    "(test[1]): both -> 'robust', capable only -> 'goal misgeneralization', on goal only -> "
    "'capability failure', neither -> 'arbitrary failure'. Thresholds count as passed (>=).",
)


# --------------------------------------------------------------------------------------------------
# Exercise 9.2: concern_table


def _summary(keys, chests, steps, fraction) -> dict:
    return {
        "keys_collected": float(keys),
        "chests_opened": float(chests),
        "steps": float(steps),
        "fraction_of_best": float(fraction),
        "episodes": 150,
    }


_REFERENCE = {"train": _summary(1.55, 1.55, 9.1, 1.0), "test": _summary(6.91, 0.49, 18.6, 0.33)}


def _table_fixed() -> list[Case]:
    measured_like = {
        "key_then_chest": {"train": _summary(1.55, 1.55, 9.3, 1.0), "test": _summary(1.93, 1.53, 8.5, 1.0)},
        "agent": {"train": _summary(1.51, 1.49, 9.7, 0.96), "test": _summary(5.87, 0.48, 18.6, 0.31)},
        "inventory": {"train": _summary(1.54, 1.52, 9.6, 0.98), "test": _summary(1.55, 0.64, 16.2, 0.40)},
        "random": {"train": _summary(0.29, 0.13, 19.5, 0.08), "test": _summary(1.50, 0.15, 19.7, 0.10)},
    }
    return [
        Case(
            {"summaries": {"agent": measured_like["agent"]}, "reference": _REFERENCE},
            "one system, goal misgeneralization",
        ),
        Case(
            {"summaries": measured_like, "reference": _REFERENCE},
            "four systems like those of the lesson (each split against the reference's same split)",
        ),
        Case(
            {"summaries": {"nearest_key": dict(_REFERENCE)}, "reference": _REFERENCE},
            "the reference itself: x = 1 on both splits",
        ),
        Case(
            {
                "summaries": {
                    "fast on TRAIN only": {
                        "train": _summary(3.0, 1.5, 9.0, 0.9),
                        "test": _summary(1.0, 0.3, 20.0, 0.2),
                    }
                },
                "reference": _REFERENCE,
            },
            "TRAIN and TEST differ a lot: use each split's own numbers",
        ),
        Case(
            {
                "summaries": {
                    "idle": {"train": _summary(1.5, 1.5, 9.0, 0.95), "test": _summary(0.0, 0.0, 20.0, 0.0)},
                    "no chests possible": {
                        "train": _summary(1.5, 1.5, 9.0, 0.95),
                        "test": _summary(3.0, 0.0, 20.0, NAN),
                    },
                },
                "reference": _REFERENCE,
            },
            "x = 0 on TEST, and a NaN fraction_of_best (verdict 'unknown')",
        ),
        Case(
            {
                "summaries": {"agent": measured_like["agent"]},
                "reference": {"train": _summary(1.2, 1.0, 11.0, 0.8), "test": _summary(3.0, 0.2, 20.0, 0.1)},
            },
            "a different reference: x depends on it",
        ),
        Case(
            {
                "summaries": {
                    "on the lines": {
                        "train": _summary(1.5, 1.5, 10.0, TRAINED),
                        "test": _summary(7.0, 1.0, 20.0, ON_GOAL),
                    },
                    "capable, barely": {
                        "train": _summary(1.5, 1.5, 10.0, 0.9),
                        "test": _summary(8.0, 0.0, 20.0, 0.2),
                    },
                },
                "reference": {"train": _summary(1.5, 1.5, 10.0, 1.0), "test": _summary(10.0, 0.0, 20.0, 0.3)},
            },
            f"points exactly on the thresholds (x = {CAPABLE} on TEST, y = {TRAINED} on TRAIN, "
            f"y = {ON_GOAL} on TEST)",
        ),
    ]


def _table_random(rng: np.random.Generator, n: int) -> list[Case]:
    def draw(steps_low=6.0):
        return _summary(
            np.round(rng.uniform(0, 8), 3),
            np.round(rng.uniform(0, 3), 3),
            np.round(rng.uniform(steps_low, 20), 2),
            np.round(rng.uniform(0, 1.05), 3),
        )

    cases = []
    for i in range(n):
        reference = {"train": draw(), "test": draw()}
        names = [f"system_{j}" for j in range(int(rng.integers(1, 5)))]
        summaries = {}
        for name in names:
            train = draw()
            if rng.random() < 0.6:
                train["fraction_of_best"] = float(np.round(rng.uniform(0.8, 1.0), 3))
            summaries[name] = {"train": train, "test": draw()}
        cases.append(Case({"summaries": summaries, "reference": reference}, f"random #{i + 1}"))
    return cases


def _compare_table(expected, actual) -> str | None:
    if not isinstance(actual, dict):
        return (
            f"expected a dict name -> {{'train': (x, y), 'test': (x, y), 'verdict': str}}; "
            f"got {type(actual).__name__}"
        )
    if set(actual) != set(expected):
        return f"the names differ: expected {sorted(expected)}, got {sorted(map(str, actual))}"
    for name, row in expected.items():
        got = actual[name]
        if not isinstance(got, dict) or set(got) != {"train", "test", "verdict"}:
            keys = sorted(map(str, got)) if isinstance(got, dict) else type(got).__name__
            return f"{name!r}: expected a dict with exactly the keys 'train', 'test', 'verdict'; got {keys}"
        for split in ("train", "test"):
            pair = got[split]
            if isinstance(pair, (str, dict)) or not hasattr(pair, "__len__") or len(pair) != 2:
                return f"{name!r}, {split}: expected a pair (x, y); got {pair!r}"
            problem = same_array(np.array(row[split], dtype=float), pair)
            if problem is not None:
                x, y = row[split]
                nan = (
                    " (NaN expected where a denominator is 0 or a number is missing)"
                    if math.isnan(x) or math.isnan(y)
                    else ""
                )
                return f"{name!r}, {split}: {tuple(pair)!r} instead of ({x!r}, {y!r}): {problem}{nan}"
        problem = _compare_verdict(row["verdict"], got["verdict"])
        if problem is not None:
            return f"{name!r}, verdict: {problem}"
    return None


concern_table = Exercise(
    lesson="09",
    name="concern_table",
    points=2,
    reference=_reference_concern_table,
    fixed_cases=_table_fixed,
    random_cases=_table_random,
    compare=_compare_table,
    nudge="Each split has its own reference: which summary should the TEST point be measured against?",
    hint="For every name: train = robustness_coordinates(summaries[name]['train'], reference['train']) and "
    "test = robustness_coordinates(summaries[name]['test'], reference['test']), with the default "
    "capability='pace' and best=None (lesson 05's function, or robustness.robustness_coordinates); then "
    "verdict = your verdict(train, test). Return {name: {'train': train, 'test': test, 'verdict': ...}}.",
)


# --------------------------------------------------------------------------------------------------
# Exercise 9.3: mystery_verdicts (three levels of concern, judged from evidence)

MALIGN = 0.75
"""Level 1 in Exercise 9.3: on TEST, fewer than this share of key_then_chest's chests (and on TRAIN at
least `TRAINED` of them: a system that never did the job has nothing to generalize)."""
LEVELS_93 = ("level 1", "level 2", "level 3")
EVIDENCE_KEYS = ("train_chests", "test_chests", "goal_minus_device", "interval", "explicit")


def _reference_mystery_verdicts(summaries, reference, attributions, boxes):
    """Exercise 9.3's evidence table and verdicts, per system (see the exercise's rules)."""
    report = {}
    for name, by_split in summaries.items():
        train, test = (
            by_split[s]["chests_opened"] / reference[s]["chests_opened"] for s in ("train", "test")
        )
        best, box = attributions[name]["best"], boxes[name]
        explicit = bool(box["search"] and box["world_model"] and box["objective"] is not None)
        level1 = bool(train >= TRAINED and test < MALIGN)
        level3 = level1 and explicit
        level2 = level1 and (best["interval"][0] > 0 or level3)
        report[name] = {
            "evidence": {
                "train_chests": float(train),
                "test_chests": float(test),
                "goal_minus_device": float(best["intentional_minus_device"]),
                "interval": [float(x) for x in best["interval"]],
                "explicit": explicit,
            },
            "verdicts": {"level 1": level1, "level 2": level2, "level 3": level3},
        }
    return report


_BOXES = {
    "network": {
        "made_of": "a feed-forward network",
        "search": False,
        "world_model": False,
        "objective": None,
    },
    "rule": {"made_of": "a hand-written rule", "search": False, "world_model": False, "objective": None},
    "planner": {
        "made_of": "a search, simulated with the game's rules, scored by an objective",
        "search": True,
        "world_model": True,
        "objective": "Objective(chest=1, key=1, step=-0.1)",
    },
    "search, no model": {
        "made_of": "a search in its head",
        "search": True,
        "world_model": False,
        "objective": "?",
    },
    "model, no objective": {"made_of": "a simulator", "search": True, "world_model": True, "objective": None},
}
_REF_93 = {"train": _summary(1.5, 2.0, 9.0, 1.0), "test": _summary(6.0, 4.0, 9.0, 1.0)}
"""Chests in powers of two, so that a ratio times the reference, divided again, gives the ratio exactly."""


def _system(train, test, diff, low, high, box="network", goal="keys", device="nearest_key") -> tuple:
    """One system's plain data: summaries with the given chest ratios, an attribution's "best" entry
    and a box."""
    summaries = {
        s: _summary(1.5, r * _REF_93[s]["chests_opened"], 10.0, round(0.9 * r, 4))  # not the ratio asked for
        for s, r in (("train", train), ("test", test))
    }
    best = {
        "intentional": goal,
        "device": device,
        "intentional_minus_device": float(diff),
        "interval": [float(low), float(high)],
        "verdict": "...",
    }
    return summaries, {"agent": "mystery", "best": best}, dict(_BOXES[box])


def _mystery_case(systems: dict, label: str, reference=None) -> Case:
    data = {name: _system(*args) if isinstance(args, tuple) else args for name, args in systems.items()}
    return Case(
        {
            "summaries": {name: d[0] for name, d in data.items()},
            "reference": reference or _REF_93,
            "attributions": {name: d[1] for name, d in data.items()},
            "boxes": {name: d[2] for name, d in data.items()},
        },
        label,
    )


def _real_mystery_case() -> Case:
    """Lesson 09's mystery agents, with the evidence the library gathers for them (cached per process)."""
    from mesalib.analysis.mystery import gather

    g = gather()
    return Case(
        {k: g[k] for k in ("summaries", "reference", "attributions", "boxes")},
        "lesson 09's mystery agents, evidence gathered by mesalib.analysis.mystery.gather()",
    )


def _mystery_synthetic() -> list[Case]:
    """The hand-made cases: each label names the trap it sets."""
    return [
        _mystery_case(
            {
                "A": (0.98, 0.30, -0.40, -0.55, -0.25, "network"),
                "B": (1.00, 0.55, 0.30, 0.12, 0.48, "planner", "keys, then chests"),
                "C": (1.00, 1.00, -0.20, -0.30, -0.10, "rule", "chests", "key_then_chest"),
            },
            "a device-like network, a planner that a goal predicts, a robust rule",
        ),
        _mystery_case(
            {"P": (1.00, 0.50, -0.90, -1.60, -0.10, "planner", "keys", "nearest_key")},
            "a planner whose behaviour a device predicts better: level 3 comes from the box, and makes it "
            "level 2 too",
        ),
        _mystery_case(
            {"N": (0.95, 0.30, 0.25, 0.10, 0.40, "network")},
            "a network that a goal predicts: level 2 from behaviour, but nothing in the box searches",
        ),
        _mystery_case(
            {"S": (1.00, 0.83, 0.30, 0.10, 0.50, "planner", "keys and chests")},
            "a searcher that keeps most chests on TEST: no malign generalization, so no level at all",
        ),
        _mystery_case(
            {"F": (0.60, 0.20, 0.40, 0.20, 0.60, "planner")},
            "a searcher that fails on TRAIN: there was nothing to generalize",
        ),
        _mystery_case(
            {
                "on the TRAIN line": (TRAINED, 0.40, 0.05, 0.0, 0.10, "network"),
                "on the TEST line": (0.90, MALIGN, 0.30, 0.10, 0.50, "planner"),
            },
            f"points exactly on the lines: TRAIN at {TRAINED} counts as trained; TEST at {MALIGN} is not "
            "malign (fewer than); an interval starting at 0 is not a win for the goal",
        ),
        _mystery_case(
            {
                "all three": (0.90, 0.40, -0.10, -0.30, 0.10, "planner"),
                "no model": (0.90, 0.40, -0.10, -0.30, 0.10, "search, no model"),
                "no objective": (0.90, 0.40, -0.10, -0.30, 0.10, "model, no objective"),
            },
            "level 3 needs all three: search, a world model and an objective",
        ),
        _mystery_case(
            {"A": (0.90, 0.40, 0.20, 0.05, 0.35, "network")},
            "a different reference: the ratios use its chests, split by split",
            reference={"train": _summary(1.5, 1.2, 9.0, 1.0), "test": _summary(2.0, 2.5, 9.0, 1.0)},
        ),
        _mystery_case(
            {
                "B": (0.90, 0.40, -0.20, -0.40, -0.05, "planner", "keys", "wall_follower"),
                "A": (0.90, 0.40, 0.20, 0.05, 0.35, "network", "chests", "nearest_item"),
            },
            "names out of order: report every system under its own name",
        ),
    ]


def _mystery_fixed() -> list[Case]:
    return [*_mystery_synthetic(), _real_mystery_case()]


def _mystery_random(rng: np.random.Generator, n: int) -> list[Case]:
    cases = []
    for i in range(n):
        systems = {}
        for j in range(int(rng.integers(1, 5))):
            train = float(
                rng.choice([0.5, 0.79, TRAINED, 0.9, 0.95, 1.0, 1.0, round(float(rng.uniform(0.6, 1.0)), 3)])
            )
            test = float(rng.choice([0.3, 0.45, 0.6, MALIGN, 0.9, round(float(rng.uniform(0.1, 1.1)), 3)]))
            diff = round(float(rng.normal(0.0, 0.3)), 4)
            half = round(float(rng.uniform(0.05, 0.4)), 4)
            low = float(rng.choice([diff - half, 0.0])) if rng.random() < 0.1 else diff - half
            box = str(rng.choice(list(_BOXES)))
            systems[chr(ord("A") + j)] = (train, test, diff, round(low, 4), round(diff + half, 4), box)
        cases.append(_mystery_case(systems, f"random #{i + 1}: {len(systems)} systems"))
    return cases


def _compare_mystery(expected, actual) -> str | None:
    if not isinstance(actual, dict):
        return f"expected a dict name -> {{'evidence': ..., 'verdicts': ...}}; got {type(actual).__name__}"
    if set(actual) != set(expected):
        return f"the names differ: expected {sorted(expected)}, got {sorted(map(str, actual))}"
    for name, row in expected.items():
        got = actual[name]
        if not isinstance(got, dict) or set(got) != {"evidence", "verdicts"}:
            return f"{name!r}: expected a dict with exactly the keys 'evidence' and 'verdicts'"
        evidence, verdicts = got["evidence"], got["verdicts"]
        if not isinstance(evidence, dict) or set(evidence) != set(EVIDENCE_KEYS):
            return (
                f"{name!r}: the evidence needs exactly the keys {list(EVIDENCE_KEYS)} (no verdict without it)"
            )
        for key in ("train_chests", "test_chests", "goal_minus_device"):
            problem = close_number(row["evidence"][key], evidence[key], tol=1e-4)
            if problem is not None:
                return f"{name!r}, evidence {key!r}: {problem}"
        problem = same_array(np.array(row["evidence"]["interval"]), evidence["interval"])
        if problem is not None:
            return f"{name!r}, evidence 'interval': {problem}"
        if (
            not isinstance(evidence["explicit"], (bool, np.bool_))
            or evidence["explicit"] != row["evidence"]["explicit"]
        ):
            want = row["evidence"]["explicit"]
            return f"{name!r}, evidence 'explicit': {evidence['explicit']!r} instead of {want!r}"
        if not isinstance(verdicts, dict) or set(verdicts) != set(LEVELS_93):
            return f"{name!r}: the verdicts need exactly the keys {list(LEVELS_93)}"
        for level in LEVELS_93:
            v = verdicts[level]
            if not isinstance(v, (bool, np.bool_)):
                return f"{name!r}, {level}: expected True or False; got {v!r}"
            if bool(v) != row["verdicts"][level]:
                return f"{name!r}, {level}: {bool(v)} instead of {row['verdicts'][level]}"
    return None


def _show_mystery(case: Case) -> str:
    a = case.args
    ref = a["reference"]
    lines = [
        f"reference chests opened: TRAIN {ref['train']['chests_opened']:.4f}, "
        f"TEST {ref['test']['chests_opened']:.4f}"
    ]
    for name, by_split in a["summaries"].items():
        best, box = a["attributions"][name]["best"], a["boxes"][name]
        lines.append(
            f"{name}: chests opened TRAIN {by_split['train']['chests_opened']:.4f}, TEST "
            f"{by_split['test']['chests_opened']:.4f}; best goal minus best device "
            f"{best['intentional_minus_device']:+.4f} {[round(x, 4) for x in best['interval']]}; box: search "
            f"{box['search']}, world_model {box['world_model']}, objective {box['objective']!r}"
        )
    return "\n".join(lines)


mystery_verdicts = Exercise(
    lesson="09",
    name="mystery_verdicts",
    points=3,
    reference=_reference_mystery_verdicts,
    fixed_cases=_mystery_fixed,
    random_cases=_mystery_random,
    compare=_compare_mystery,
    show=_show_mystery,
    nudge=(
        "Which tool can speak to which level? Behaviour settles level 1 and can support level 2; only "
        "the box can say whether anything searches."
    ),
    hint=(
        "Per name: train_chests and test_chests are its chests_opened over the reference's, split by "
        "split; goal_minus_device and interval come from attributions[name]['best'] "
        "('intentional_minus_device', 'interval'); explicit = box search AND world_model AND objective "
        f"is not None. Level 1: train_chests >= {TRAINED} and test_chests < {MALIGN}. Level 3: level 1 "
        "and explicit (only the box can say it; behaviour cannot). Level 2: level 1 and (the interval's "
        "low end > 0, or level 3: a search against an explicit objective pursues that objective)."
    ),
)
