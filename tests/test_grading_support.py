"""What the grading tests that need bubblewrap share: the rule (skipped on a developer's machine
without it, failed, never skipped, in CI, where .ci/run installs it) and a sandbox for lesson 00."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mesalib.teaching import checks
from mesalib.teaching.grading import bwrap, forbidden_targets
from mesalib.teaching.grading.package_view import build_view
from mesalib.teaching.grading.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[1]  # the clone these tests run in


def require_sandbox() -> None:
    """Skip the calling test where bubblewrap cannot sandbox here; fail instead under CI=true."""
    why_not = bwrap.probe()
    if not why_not:
        return
    message = f"the grading sandbox is not available: {why_not}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI must install bubblewrap: see .ci/run)")
    pytest.skip(message)


def test_a_missing_sandbox_fails_in_ci_and_skips_elsewhere(monkeypatch):
    monkeypatch.setattr(bwrap, "probe", lambda: "bubblewrap (bwrap) is not installed")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="not installed.*CI must install bubblewrap"):
        require_sandbox()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        require_sandbox()


def lesson00_sandbox(root: Path) -> Sandbox:
    """A sandbox in `root` whose package view has lesson 00's graded reference taken away."""
    require_sandbox()
    view = build_view(REPO / "mesalib", root / "view", forbidden_targets(checks.lesson00.discounted_return))
    (root / "jobs").mkdir()
    return Sandbox(view, root / "jobs")
