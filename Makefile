# The two quick-start commands (see README): `make course` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: course test setup bench lessons times clean

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

test: setup  ## set up and run the whole test suite
	MESALIB_THREADS=1 $(BIN)/python -m pytest -n 2 --dist loadfile --nbval-lax tests solutions

bench: setup  ## environment throughput, as ratios against Minigrid measured in the same run
	$(BIN)/python benchmarks/env_throughput.py

lessons: setup  ## regenerate lessons/ from solutions/
	$(BIN)/mesalib lessons

times: setup  ## run every solution notebook and print its wall time (budget: 3 minutes each)
	$(BIN)/python benchmarks/notebook_times.py

clean:
	rm -rf $(VENV) *.egg-info
