"""`mesalib evaluate`, `mesalib train` and `mesalib checkpoints` from the shell's point of view."""

from __future__ import annotations

import json

import pytest

from mesalib.agents import checkpoints
from mesalib.teaching.cli import main


def run_json(capsys, *argv):
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_evaluate_a_policy_prints_the_summary_keys(capsys):
    out = run_json(
        capsys, "evaluate", "key_then_chest", "--on", "test", "--episodes", "50", "--seed", "3", "--json"
    )
    assert {"return", "chests_opened", "keys_collected", "ghost_chests_opened", "steps"} <= set(out)
    again = run_json(
        capsys, "evaluate", "key_then_chest", "--on", "test", "--episodes", "50", "--seed", "3", "--json"
    )
    assert out == again  # same seed, same levels, same numbers
    other = run_json(
        capsys, "evaluate", "nearest_key", "--on", "test", "--episodes", "50", "--seed", "3", "--json"
    )
    assert other["keys_collected"] > out["keys_collected"] and other["chests_opened"] < out["chests_opened"]


def test_evaluate_ghosts_and_the_planner(capsys):
    ghost = run_json(
        capsys, "evaluate", "nearest_key", "--on", "test", "--ghosts", "--episodes", "40", "--json"
    )
    assert ghost["ghost_chests_opened"] > 0
    best = run_json(capsys, "evaluate", "planner", "--on", "train", "--episodes", "20", "--best", "--json")
    assert best["fraction_of_best"] == pytest.approx(1.0)


def test_unknown_agent_and_missing_file_are_clear_errors(capsys, tmp_path):
    assert main(["evaluate", "chest_lover", "--episodes", "5"]) == 2
    assert "unknown agent 'chest_lover'" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "none.pt"), "--episodes", "5"]) == 2
    assert "No checkpoint" in capsys.readouterr().err


def test_train_writes_a_checkpoint_that_evaluate_reads(capsys, tmp_path):
    out = tmp_path / "agent.pt"
    assert main(["train", "--seed", "1", "--out", str(out), "--total-steps", "4096"]) == 0
    assert out.exists() and "saved" in capsys.readouterr().out
    result = run_json(capsys, "evaluate", str(out), "--on", "train", "--episodes", "20", "--json")
    assert result["episodes"] == 20
    assert main(["train", "--out", str(out)]) == 2  # never overwrites silently
    assert "--force" in capsys.readouterr().err
    assert main(["train", "--out", str(tmp_path / "no" / "such" / "dir.pt")]) == 2


def test_checkpoint_listing(capsys):
    assert main(["checkpoints"]) == 0
    listing = capsys.readouterr().out
    for name in checkpoints.names(shipped_only=False):
        assert name in listing
    with pytest.raises(ValueError, match="No checkpoint named"):
        checkpoints.load("nonexistent")
    with pytest.raises(ValueError, match="not shipped"):
        checkpoints.load("default_seed1")


BAD_ARGUMENTS = {
    "negative training steps": (
        ["train", "--out", "{tmp}/a.pt", "--total-steps", "-10"],
        ["--total-steps", "-10"],
    ),
    "zero training steps": (["train", "--out", "{tmp}/a.pt", "--total-steps", "0"], ["--total-steps", "0"]),
    "steps that are no number": (
        ["train", "--out", "{tmp}/a.pt", "--total-steps", "many"],
        ["--total-steps"],
    ),
    "a negative training seed": (["train", "--out", "{tmp}/a.pt", "--seed", "-1"], ["--seed", "-1", ">= 0"]),
    "--out is a folder": (["train", "--out", "{tmp}"], ["--out", "is a folder"]),
    "--out in a missing folder": (["train", "--out", "{tmp}/nowhere/a.pt"], ["--out", "does not exist"]),
    "a negative evaluation seed": (["evaluate", "default", "--seed", "-1"], ["--seed", "-1", ">= 0"]),
    "no episodes": (["evaluate", "default", "--episodes", "0"], ["--episodes", "0", ">= 1"]),
    "an unknown split": (["evaluate", "default", "--on", "valid"], ["--on", "valid"]),
    "--only without --regenerate": (["checkpoints", "--only", "default"], ["--only", "--regenerate"]),
    "--results without --regenerate": (["checkpoints", "--results", "x"], ["--results", "--regenerate"]),
    "--address without --regenerate": (
        ["checkpoints", "--address", "tcp://127.0.0.1:1"],
        ["--address", "--regenerate"],
    ),
    "--workers 0": (["checkpoints", "--regenerate", "--workers", "0"], ["--workers", "0"]),
    "a negative grading seed": (["grade", "{tmp}", "--out", "{tmp}/o", "--seed", "-2"], ["--seed", "-2"]),
    "no grading jobs": (
        ["grade", "{tmp}", "--out", "{tmp}/o", "--seed", "1", "--jobs", "0"],
        ["--jobs", "0"],
    ),
    "a negative time limit": (
        ["grade", "{tmp}", "--out", "{tmp}/o", "--seed", "1", "--timeout", "-5"],
        ["--timeout", "-5", "> 0"],
    ),
    "a time limit that is no number": (
        ["grade", "{tmp}", "--out", "{tmp}/o", "--seed", "1", "--timeout", "nan"],
        ["--timeout", "nan"],
    ),
    "no memory": (["grade", "{tmp}", "--out", "{tmp}/o", "--seed", "1", "--memory-mb", "0"], ["--memory-mb"]),
    "a negative CPU limit": (
        ["grade", "{tmp}", "--out", "{tmp}/o", "--seed", "1", "--cpu-time", "-1"],
        ["--cpu-time", ">= 0"],
    ),
    "no benchmark time": (["bench", "--seconds", "0"], ["--seconds", "0", "> 0"]),
    "no benchmark repeats": (["bench", "--repeat", "0"], ["--repeat", "0", ">= 1"]),
    "a lessons root without solutions": (["lessons", "--root", "{tmp}"], ["--root", "solutions/"]),
    "a cell time limit of zero": (
        ["check", "lessons/00_welcome.ipynb", "--timeout", "0"],
        ["--timeout", "0"],
    ),
    "a missing notebook to check": (["check", "{tmp}/missing.ipynb"], ["NOTEBOOK", "does not exist"]),
    "an unknown subcommand": (["teach"], ["invalid choice", "teach"]),
}


@pytest.mark.parametrize("case", sorted(BAD_ARGUMENTS))
def test_bad_arguments_are_named_and_nothing_is_written(case, capsys, tmp_path):
    argv, words = BAD_ARGUMENTS[case]
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    before = sorted(tmp_path.rglob("*"))
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse rejects the value before any subcommand runs
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert all(word in err for word in words), (words, err)
    assert sorted(tmp_path.rglob("*")) == before  # nothing written, nothing half-written


def test_a_file_that_is_no_checkpoint_gets_no_unsafe_advice(capsys, tmp_path):
    fake = tmp_path / "notes.pt"
    fake.write_text("hello")
    assert main(["evaluate", str(fake), "--episodes", "5"]) == 2
    err = capsys.readouterr().err
    assert "not a readable mesalib agent checkpoint" in err and "weights_only" not in err
