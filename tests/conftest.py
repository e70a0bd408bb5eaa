"""Suite-wide collection rules: which tests count as slow, and no doctest collection of test files.

`make test-fast` runs `pytest -m "not slow"`; CI (`make check`) runs everything. A test is slow when
it takes more than about 3 s on an idle 2-core machine: mark it `@pytest.mark.slow` where it is
written. Whole kinds of tests are marked here instead: the browser tests and the notebooks.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _pytest.doctest import DoctestModule

TESTS = Path(__file__).resolve().parent
SLOW_FOLDERS = (TESTS / "browser",)
"""Every test under these folders is slow (a JupyterLab server in a real browser)."""


@pytest.hookimpl(wrapper=True)
def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    """`--doctest-modules` is meant for the package; the test files hold no doctests, so they are
    collected once, as tests, not a second time as doctest modules."""
    collected = yield
    if file_path.is_relative_to(TESTS):
        return [c for c in collected if not isinstance(c, DoctestModule)]
    return collected


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(item.path)
        if path.suffix == ".ipynb" or any(path.is_relative_to(f) for f in SLOW_FOLDERS):
            item.add_marker(pytest.mark.slow)


def pytest_configure(config: pytest.Config) -> None:
    """Under `MESALIB_THREADS` (the Makefile sets 1: two test workers share two cores), every torch call
    in the suite follows it, not only those that go through `train` or `Agent.load`."""
    import os

    if os.environ.get("MESALIB_THREADS"):
        from mesalib.agents.nets import use_threads

        use_threads()


@pytest.fixture(autouse=True)
def _learner_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Python tests see checks as a learner does (they print, never raise); under `--nbval-lax` the
    plugin sets MESALIB_VALIDATE for the notebooks, and tests of validation mode set it themselves."""
    monkeypatch.delenv("MESALIB_VALIDATE", raising=False)
