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
	$(PY) benchmarks/fetch.py
	$(PY) benchmarks/write.py

clean:
	rm -rf $(VENV) build *.egg-info site .pytest_cache .ruff_cache .mypy_cache
