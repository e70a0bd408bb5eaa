"""`make setup`: where the CPU build of torch comes from, the exact versions it installs
(.ci/constraints.txt, within pyproject.toml's ranges), and package metadata without deprecations.

The torch rule is checked with `make -n` (commands printed, nothing run, no network) in an empty
folder, with pip's configuration files switched off (PIP_CONFIG_FILE=/dev/null) and a clean
environment, so the result does not depend on this machine's pip set-up.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CPU_INDEX = "https://download.pytorch.org/whl/cpu"

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def _setup_plan(tmp_path: Path, env: dict[str, str] | None = None, *make_vars: str) -> list[str]:
    """The lines `make -n setup` would run in a fresh folder, under a clean environment plus `env`."""
    folder = tmp_path / "fresh"
    folder.mkdir(exist_ok=True)
    (folder / "pyproject.toml").touch()
    (folder / ".ci").mkdir(exist_ok=True)
    (folder / ".ci" / "constraints.txt").touch()
    clean = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIP_CONFIG_FILE": "/dev/null"}
    command = [
        "make",
        "-n",
        "-B",
        "-f",
        str(ROOT / "Makefile"),
        f"PYTHON={sys.executable}",
        *make_vars,
        "setup",
    ]
    out = subprocess.run(
        command, cwd=folder, env=clean | (env or {}), capture_output=True, text=True, check=True
    ).stdout
    return out.splitlines()


def _torch_line(plan: list[str]) -> str:
    [line] = [line for line in plan if "pip install torch==" in line]
    return line


@needs_make
def test_a_machine_with_no_pip_sources_gets_the_cpu_build_from_pytorchs_index(tmp_path):
    plan = _setup_plan(tmp_path)
    assert _torch_line(plan).split()[-2:] == ["--index-url", CPU_INDEX]
    assert any(f"from {CPU_INDEX}" in line for line in plan if line.startswith("echo"))


@needs_make
@pytest.mark.parametrize(
    "env",
    [{"PIP_FIND_LINKS": "/opt/wheels"}, {"PIP_INDEX_URL": "https://mirror.invalid/simple"}],
    ids=["find-links", "index-url"],
)
def test_pips_own_sources_from_the_environment_are_kept(tmp_path, env):
    plan = _setup_plan(tmp_path, env)
    assert "--index-url" not in _torch_line(plan)
    [name] = env
    assert any(name in line and "sources pip is set up with" in line for line in plan)


@needs_make
def test_pips_own_sources_from_a_config_file_are_kept(tmp_path):
    config = tmp_path / "pip.conf"
    config.write_text("[global]\nextra-index-url = file:///srv/pypi/simple\n")
    plan = _setup_plan(tmp_path, {"PIP_CONFIG_FILE": str(config)})
    assert "--index-url" not in _torch_line(plan)
    assert any("global.extra-index-url" in line for line in plan if line.startswith("echo"))


@needs_make
def test_torch_index_overrides_the_rule_either_way(tmp_path):
    forced = _setup_plan(
        tmp_path, {"PIP_FIND_LINKS": "/opt/wheels"}, "TORCH_INDEX=https://example.invalid/cpu"
    )
    assert _torch_line(forced).split()[-2:] == ["--index-url", "https://example.invalid/cpu"]
    plain = _setup_plan(tmp_path, None, "TORCH_INDEX=")
    assert "--index-url" not in _torch_line(plain)


@needs_make
def test_setup_installs_torch_before_the_package_and_shows_pips_progress(tmp_path):
    plan = [line for line in _setup_plan(tmp_path) if "pip install" in line]
    torch = next(line for line in plan if "torch==2.13.0" in line)
    package = next(line for line in plan if '-e ".[dev,bench]"' in line)
    assert plan.index(torch) < plan.index(package)
    assert "-c .ci/constraints.txt" in package  # the course's exact versions; pyproject.toml has ranges
    assert "--quiet" not in torch and "--quiet" not in package  # the long steps show what they do
    # nbgrader goes into a folder of its own, pinned too, so its menus stay out of the course's lab
    apart = next(line for line in plan if "--target .venv/nbgrader" in line)
    assert plan.index(package) < plan.index(apart) and "-c .ci/constraints.txt" in apart


def test_the_constraints_pin_every_dependency_exactly_within_pyprojects_ranges():
    """Every requirement of the package and its extras has one exact version in the constraints, and
    that version lies in pyproject.toml's range (so `make setup` installs what the ranges allow)."""
    from packaging.requirements import Requirement
    from setuptools.config.pyprojecttoml import read_configuration

    project = read_configuration(ROOT / "pyproject.toml")["project"]
    wanted = [Requirement(r) for r in project["dependencies"]]
    wanted += [Requirement(r) for extra in project["optional-dependencies"].values() for r in extra]
    pins = {}
    for line in (ROOT / ".ci" / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    for requirement in wanted:
        pinned = pins.get(requirement.name.lower().replace("_", "-"))
        assert pinned is not None, f"{requirement.name} has no exact version in .ci/constraints.txt"
        assert requirement.specifier.contains(pinned), (
            f"{requirement.name}=={pinned} is outside {requirement}"
        )
        assert "==" not in str(requirement.specifier), f"{requirement} is pinned in pyproject.toml"


def test_the_licence_is_an_spdx_expression_without_deprecation_warnings(monkeypatch):
    from setuptools.config.pyprojecttoml import apply_configuration
    from setuptools.dist import Distribution

    monkeypatch.chdir(ROOT)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a deprecated licence table would raise here
        dist = apply_configuration(Distribution(), ROOT / "pyproject.toml")
    assert dist.metadata.license_expression == "MIT"
    assert list(dist.metadata.license_files) == ["LICENSE"]
