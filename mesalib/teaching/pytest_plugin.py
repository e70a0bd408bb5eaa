"""A pytest plugin, registered through the `pytest11` entry point: under nbval, failing checks fail.

In JupyterLab a check cell never stops Run All. While nbval validates notebooks the same cells must
fail on unfinished or wrong work, so this plugin sets `MESALIB_VALIDATE=1`, which the kernels that
nbval starts inherit from pytest's environment. Without `--nbval`/`--nbval-lax` it changes nothing.
"""

from __future__ import annotations

import os

from mesalib.teaching.checks import VALIDATE


def pytest_configure(config) -> None:
    if config.getoption("nbval", default=False) or config.getoption("nbval_lax", default=False):
        os.environ[VALIDATE] = "1"
