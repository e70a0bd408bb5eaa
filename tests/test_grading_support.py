"""The rule for the grading tests that need bubblewrap: skipped on a developer's machine without it,
failed (never skipped) in CI, where .ci/run installs it."""

from __future__ import annotations

import os

import pytest

from mesalib.teaching.grading import bwrap


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
