# Every target starts from nothing but python3: the venv is created on demand.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck docs bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/vidiframe demo

test: $(STAMP)
	$(VENV)/bin/ruff check vidiframe tests benchmarks
	$(VENV)/bin/ruff format --check vidiframe tests benchmarks
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check vidiframe tests benchmarks
	$(VENV)/bin/ruff format --check vidiframe tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) benchmarks/parse.py

clean:
	rm -rf $(VENV) build *.egg-info site .pytest_cache .ruff_cache .mypy_cache
