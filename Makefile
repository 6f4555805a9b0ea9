# tinygrad_edu — every target sets itself up: a fresh clone needs only `make demo` / `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: help demo test lint lint-only sync bench notebooks clean graphviz venv-demo venv-test

help:
	@echo "make demo       train the pass/fail example and write its pictures to demo_out/"
	@echo "make test       unit tests, PyTorch comparisons and notebooks (installs everything)"
	@echo "make lint       ruff, and each notebooks/**/*.ipynb matches its jupytext .py source"
	@echo "make sync       after editing a notebook's source notebooks/NN_name.py, update its"
	@echo "                paired .ipynb (jupytext; outputs of unchanged cells are kept)"
	@echo "make bench      benchmarks against micrograd (see BENCHMARKS.md)"
	@echo "make notebooks  execute every notebook into build/notebooks/ (outputs included)"
	@echo "make clean      remove .venv, build/ and demo_out/"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip setuptools wheel

# One stamp per set of extras, so `make demo` does not pull torch.
$(VENV)/.demo-installed: pyproject.toml | $(PY)
	$(PIP) install -e '.[viz,plot,progress]'
	@touch $@

$(VENV)/.test-installed: pyproject.toml | $(PY)
	$(PIP) install -e '.[dev,viz,plot,notebooks]'
	@touch $@ $(VENV)/.demo-installed

venv-demo: $(VENV)/.demo-installed
venv-test: $(VENV)/.test-installed

# Rendering needs Graphviz's `dot` program, which pip cannot install.
graphviz:
	@if ! command -v dot >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's graphviz (the 'dot' program) ..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; \
	  else \
	    echo "error: Graphviz's 'dot' program is missing and cannot be installed automatically."; \
	    echo "  Debian/Ubuntu: sudo apt-get install graphviz"; \
	    echo "  macOS:         brew install graphviz"; \
	    echo "  conda:         conda install -c conda-forge graphviz"; \
	    echo "then run this command again."; \
	    exit 1; \
	  fi; \
	fi

demo: venv-demo graphviz
	$(PY) -m tinygrad_edu.demo --out demo_out

test: venv-test graphviz lint-only
	$(PY) -m pytest -n 2 --nbmake tests notebooks

lint: venv-test lint-only

# Notebook sources are jupytext py:percent files (notebooks/**/NN_name.py) paired with the
# .ipynb beside them; lint checks each pair with jupytext's compare_notebooks.
lint-only:
	$(BIN)/ruff check .
	$(PY) scripts/check_notebooks.py

# The .py always wins: `--update --to ipynb` rewrites the cells of the .ipynb from it and keeps
# the outputs of cells that did not change (`jupytext --sync` would take whichever file is newer).
NOTEBOOK_SOURCES = $(wildcard notebooks/*.py notebooks/*/*.py)
sync: venv-test
	$(BIN)/jupytext --update --to ipynb $(NOTEBOOK_SOURCES)

bench: venv-test
	$(PY) benchmarks/run.py

notebooks: venv-test graphviz
	$(PY) scripts/run_notebooks.py notebooks build/notebooks

clean:
	rm -rf $(VENV) build demo_out .pytest_cache .ruff_cache .hypothesis *.egg-info
