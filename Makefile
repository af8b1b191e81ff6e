# Every target starts from nothing but python3: the venvs are created on demand.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The demo gets a venv of its own with the package as a user installs it: only
# its declared dependencies, none of the test, lint and docs tools of .venv.
DEMO_VENV  := .venv-demo
DEMO_STAMP := $(DEMO_VENV)/.installed
SOURCES    := $(shell find vidiframe -name '*.py' -o -name '*.json' -o -name 'py.typed')

.PHONY: demo test lint typecheck docs bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# A regular (not editable) install, rebuilt when the package's files change. No
# bytecode for the whole of Polars and PyArrow up front (half the install time):
# Python compiles what the demo imports.
$(DEMO_STAMP): pyproject.toml $(SOURCES)
	$(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_VENV)/bin/python -m pip install --quiet --no-compile .
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(DEMO_VENV)/bin/vidiframe demo

test: $(STAMP)
	$(VENV)/bin/ruff check vidiframe tests benchmarks docs
	$(VENV)/bin/ruff format --check vidiframe tests benchmarks docs
	$(VENV)/bin/mypy
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check vidiframe tests benchmarks docs
	$(VENV)/bin/ruff format --check vidiframe tests benchmarks docs

typecheck: $(STAMP)
	$(VENV)/bin/mypy

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

bench: $(STAMP)
	$(PY) benchmarks/parse.py
	$(PY) benchmarks/parse_nested.py
	$(PY) benchmarks/fetch.py
	$(PY) benchmarks/write.py
	$(PY) benchmarks/names.py

clean:
	rm -rf $(VENV) $(DEMO_VENV) build *.egg-info site .pytest_cache .ruff_cache .mypy_cache
