# tinygrad_edu — every target sets itself up: a fresh clone needs only `make demo` / `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PIP := $(PY) -m pip --disable-pip-version-check -q
# Extra arguments for `make lab`, e.g. LAB_ARGS="--no-browser --port 8890".
LAB_ARGS ?=
# CI=true (or 1, yes), as tests/conftest.py reads it: nothing may be skipped for a missing tool.
IN_CI := $(filter 1 true yes,$(shell printf '%s' '$(CI)' | tr A-Z a-z))

.PHONY: help demo test test-site site docs lint lint-only sync lab bench notebooks clean \
	graphviz graphviz-if-possible chromium venv-demo venv-test venv-lab venv-docs npm

help:
	@echo "make demo       train the pass/fail example and write its pictures to demo_out/"
	@echo "                (without Graphviz it still trains and says which pictures it skipped)"
	@echo "make test       unit tests, PyTorch comparisons, notebooks, browser test (installs"
	@echo "                everything, Graphviz and Chromium included when root on Debian)"
	@echo "make site       the course in the browser (JupyterLite) in build/site/, offline"
	@echo "make docs       the documentation site in build/docs/, offline"
	@echo "make test-site  build both, then run their notebooks and search in Chromium"
	@echo "make lab        install JupyterLab and what the notebooks need, open notebooks/ in it"
	@echo "make lint       ruff, and each notebooks/**/*.ipynb matches its jupytext source"
	@echo "make sync       after editing a notebook's source notebooks/sources/NN_name.py,"
	@echo "                update its paired .ipynb (jupytext; the .py wins, outputs are kept)"
	@echo "make notebooks  sync, then run every notebooks/NN_*.ipynb and save its outputs in it"
	@echo "                (commit them), plus HTML copies in build/notebooks/"
	@echo "make bench      benchmarks against micrograd (see docs/performance.md)"
	@echo "make clean      remove .venv, .venv-site, node_modules, build/ and demo_out/"

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

$(VENV)/.lab-installed: pyproject.toml | $(PY)
	$(PIP) install -e '.[viz,plot,progress,notebooks,lab]'
	@touch $@ $(VENV)/.demo-installed

$(VENV)/.docs-installed: pyproject.toml | $(PY)
	$(PIP) install -e '.[docs,viz,plot,progress]'
	@touch $@

venv-demo: $(VENV)/.demo-installed
venv-test: $(VENV)/.test-installed
venv-lab: $(VENV)/.lab-installed
venv-docs: $(VENV)/.docs-installed

# npm packages for the sites (Pyodide, viz.js, MathJax), exactly as package-lock.json pins them.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "make site/docs need Node.js's npm (Debian: apt-get install npm)"; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund
	@touch $@
npm: node_modules/.installed

# The site's tools (jupyterlite, pyodide-lock) need Python 3.12+: their own venv, .venv-site.
SITE_VENV := .venv-site
SITE_PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 \
	$$(ls -d $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null); do \
	"$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo "$$p"; break; }; \
	done)
$(SITE_VENV)/.installed: scripts/requirements-site.txt
	@[ -n "$(SITE_PYTHON)" ] || { echo "make site needs Python 3.12 or newer (pyodide-lock, which makes"; \
	  echo "the site's package lock, requires it): install one, or name it: make site SITE_PYTHON=/path/to/python3.12"; exit 1; }
	rm -rf $(SITE_VENV)
	$(SITE_PYTHON) -m venv $(SITE_VENV)
	$(SITE_VENV)/bin/python -m pip --disable-pip-version-check -q install -r scripts/requirements-site.txt
	@touch $@

site: node_modules/.installed $(SITE_VENV)/.installed
	$(SITE_VENV)/bin/python scripts/build_site.py --out build/site

docs: venv-docs node_modules/.installed
	$(PY) scripts/build_docs.py --out build/docs

# The sites in a real browser: a second target, so `make test` stays quick (.ci/run runs both).
test-site: site docs venv-test chromium
	$(PY) -m pytest -q tests/site

# Programs pip cannot install come from Debian's apt-get when missing and we are root.
# $(call system_package,TEST,PACKAGE,WHAT,ON_FAILURE): TEST is a shell test that succeeds when
# the program is there; ON_FAILURE runs (after the how-to message) when it cannot be installed.
define system_package
	@if ! $(1); then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's $(2) ($(3)) ..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; \
	  fi; \
	  if ! $(1); then \
	    echo "$(3) is missing and could not be installed automatically (that needs root, apt-get and a network)."; \
	    echo "  Debian/Ubuntu: sudo apt-get install $(2)"; \
	    $(4); \
	  fi; \
	fi
endef

GRAPHVIZ_HOW = echo "  macOS:         brew install graphviz"; \
	echo "  conda:         conda install -c conda-forge graphviz"

# Rendering graphs needs Graphviz's `dot` program: `make test` and `make notebooks` stop without it.
graphviz:
	$(call system_package,command -v dot >/dev/null 2>&1,graphviz,Graphviz's 'dot' program,\
	  $(GRAPHVIZ_HOW); echo "then run this command again."; exit 1)

# The demo and JupyterLab run without it: only the graph pictures are skipped.
graphviz-if-possible:
	$(call system_package,command -v dot >/dev/null 2>&1,graphviz,Graphviz's 'dot' program,\
	  $(GRAPHVIZ_HOW); echo "Going on without it: graph pictures are skipped.")

# The browser test drives Debian's Chromium at /usr/bin/chromium with Python Playwright (never
# `playwright install`). CI=true requires it; elsewhere the browser test is skipped without it.
chromium:
	$(call system_package,[ -x /usr/bin/chromium ],chromium,Chromium (/usr/bin/chromium),\
	  if [ -n "$(IN_CI)" ]; then echo "CI=true requires it."; exit 1; fi; \
	  echo "Going on without it: the browser test is skipped.")

demo: venv-demo graphviz-if-possible
	$(PY) -m tinygrad_edu.demo --out demo_out

test: venv-test graphviz chromium lint-only
	$(PY) -m pytest -n 2 --nbmake --ignore=tests/site tests notebooks

lint: venv-test lint-only

# Notebook sources are jupytext py:percent files in a sources/ folder beside the notebooks
# (notebooks/sources/NN_name.py pairs with notebooks/NN_name.ipynb, so JupyterLab lists each
# notebook once); lint checks each pair with jupytext's compare_notebooks.
lint-only:
	$(BIN)/ruff check .
	$(PY) scripts/check_notebooks.py

# The .py always wins: `--update --to ipynb` rewrites the cells of the .ipynb (one folder up,
# hence -o) from it and keeps the outputs (`jupytext --sync` would take the newer file).
NOTEBOOK_SOURCES = $(wildcard notebooks/sources/*.py notebooks/*/sources/*.py)
sync: venv-test
	@for src in $(NOTEBOOK_SOURCES); do \
	  nb="$$(dirname "$$(dirname "$$src")")/$$(basename "$${src%.py}").ipynb"; \
	  $(BIN)/jupytext --quiet --update --to ipynb -o "$$nb" "$$src" || exit 1; \
	  echo "$$src -> $$nb"; \
	done

# Executed outputs are committed, so pictures show on a code-hosting site and in JupyterLab.
notebooks: sync graphviz
	$(PY) scripts/run_notebooks.py --html build/notebooks

# Trusting the committed notebooks (their outputs come from `make notebooks`) lets JupyterLab
# show their SVG and HTML outputs too, not only the PNGs. Jupyter refuses to run as root
# unless told (containers often are root).
lab: venv-lab graphviz-if-possible
	$(BIN)/jupyter trust notebooks/*.ipynb
	$(BIN)/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_ARGS) notebooks/

bench: venv-test
	$(PY) benchmarks/run.py $(BENCH_ARGS)  # make bench BENCH_ARGS=--quick: a 3-minute run

clean:
	rm -rf $(VENV) $(SITE_VENV) node_modules build demo_out .pytest_cache .ruff_cache .hypothesis *.egg-info
