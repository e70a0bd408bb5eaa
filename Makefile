# The two quick-start commands (see README): `make course` and `make test`.
# Day to day: `make test-fast` while working, `make check` (what CI runs) before a commit.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: course test test-fast check lint format types setup bench lessons times site clean

# Where the CPU build of PyTorch comes from. Plain PyPI gives Linux machines the CUDA build (several
# GB), so a fresh laptop uses PyTorch's CPU index. A machine whose pip is set up with its own sources
# (index-url, extra-index-url, find-links or no-index in a pip config file or a PIP_* variable: a
# mirror, local wheels) keeps them. Override: `make setup TORCH_INDEX=URL`, or `TORCH_INDEX=` for pip's.
# Step 4 hides setuptools' note on every editable install ("Editable installation. Please be careful
# with folders ..."), which newcomers read as an error; it is not one.
TORCH_CPU_INDEX := https://download.pytorch.org/whl/cpu
PIP_SOURCES = $(strip $(shell { env | grep -Eo '^PIP_(INDEX_URL|EXTRA_INDEX_URL|FIND_LINKS|NO_INDEX)='; \
	{ $(BIN)/python -m pip config list 2>/dev/null || $(PYTHON) -m pip config list 2>/dev/null; } \
	| grep -Eo '^[^ =:]*[.](index-url|extra-index-url|find-links|no-index)='; } | cut -d= -f1 | sort -u))
TORCH_INDEX ?= $(if $(PIP_SOURCES),,$(TORCH_CPU_INDEX))
TORCH_FROM = $(if $(TORCH_INDEX),from $(TORCH_INDEX),from the sources pip is set up with \
	($(or $(PIP_SOURCES),PyPI)); for the CPU build from PyTorch: make setup TORCH_INDEX=$(TORCH_CPU_INDEX))

# pyproject.toml gives compatible ranges (so the package fits into other environments); the course's
# own environment is exact: every version in $(CONSTRAINTS), the one lock of the course.
CONSTRAINTS := .ci/constraints.txt
NBGRADER_APART := $(VENV)/nbgrader
CHP_VERSION := 5.3.0

$(BIN)/mesalib: pyproject.toml $(CONSTRAINTS)
	@echo "==> 1/5 Creating the virtual environment $(VENV)/"
	$(PYTHON) -m venv $(VENV)
	@echo "==> 2/5 Updating pip"
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "==> 3/5 PyTorch 2.13.0 (the CPU build: about 200 MB) $(TORCH_FROM)"
	$(BIN)/python -m pip install torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	@echo "==> 4/5 mesalib and the course's packages (JupyterLab, pytest, ...; about 190 packages)"
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install -c $(CONSTRAINTS) -e ".[dev,bench]"
	@echo "==> 5/5 Tools the instructor tests use: nbgrader in $(NBGRADER_APART)/ (apart, so its menus stay"
	@echo "    out of the course's JupyterLab) and JupyterHub's proxy in $(VENV)/node/ (npm; skipped without npm)"
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) --target $(NBGRADER_APART) nbgrader
	@if command -v npm >/dev/null; then npm install --silent --no-fund --no-audit --prefix $(VENV)/node \
		configurable-http-proxy@$(CHP_VERSION); else echo "    (no npm: the JupyterHub test will be skipped)"; fi
	@echo "==> Set-up done: the course's environment is $(VENV)/."
	touch $@

setup: $(BIN)/mesalib

LAB_ARGS ?=
course: setup  ## set up, start JupyterLab at the course root with lesson 00 open, print its address
	$(BIN)/mesalib lab lessons/00_welcome.ipynb --root . $(LAB_ARGS)

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

site: setup  ## the course as a static website in build/site/html (offline; unchanged lessons are not re-run)
	$(BIN)/mesalib export site build/site

clean:
	rm -rf $(VENV) *.egg-info
