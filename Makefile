# The two quick-start commands (see README): `make course` and `make test`.
# Day to day: `make test-fast` while working, `make check` (what CI runs) before a commit.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: course test test-fast check lint format types setup bench lessons times clean

$(BIN)/mesalib: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# CPU torch first, pinned, so nothing pulls the CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev,bench]"
	touch $@

setup: $(BIN)/mesalib

course: setup  ## set up and open the course in JupyterLab at the first lesson
	$(BIN)/jupyter lab lessons/00_welcome.ipynb

PYTEST := MESALIB_THREADS=1 $(BIN)/python -m pytest
CODE   := mesalib tests benchmarks

test: setup  ## set up and run the whole test suite: tests, doctests and every solution notebook
	$(PYTEST) -n 2 --dist loadfile --nbval-lax --doctest-modules tests solutions mesalib

test-fast: setup  ## the tests and doctests not marked slow, no notebooks (for day-to-day work)
	$(PYTEST) -n 2 --dist loadfile -m "not slow" --doctest-modules tests mesalib

lint: setup  ## ruff: lint rules and formatting (config in pyproject.toml)
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)

format: setup  ## let ruff fix what it can and format the code
	$(BIN)/ruff check --fix $(CODE)
	$(BIN)/ruff format $(CODE)

types: setup  ## mypy over the package (config in pyproject.toml)
	$(BIN)/mypy

check: lint types test  ## lint, types and the whole suite: what CI runs

bench: setup  ## environment throughput, as ratios against Minigrid measured in the same run
	$(BIN)/python benchmarks/env_throughput.py

lessons: setup  ## regenerate lessons/ from solutions/
	$(BIN)/mesalib lessons

times: setup  ## run every solution notebook and print its wall time (budget: 3 minutes each)
	$(BIN)/python benchmarks/notebook_times.py

clean:
	rm -rf $(VENV) *.egg-info
