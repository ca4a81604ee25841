# Two commands for a fresh machine:  `make run`  and  `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check venv sysdeps services-up services-down bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@echo "make: installing docsvc and its dependencies into $(VENV) (the first time takes a few minutes)"
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# Debian packages the tests use for real (poppler's pdfsig, SoftHSM2, NSS tools, Tesseract's
# Vietnamese model, fonts); installed when missing and we may (root), else the tests say what is missing.
sysdeps:
	@bash scripts/sysdeps.sh

run: venv
	$(BIN)/docsvc init
	$(BIN)/docsvc demo
	$(BIN)/docsvc serve --host 127.0.0.1 --port 8000

# Lint and types (configured in pyproject.toml); CI runs them before the tests and fails on any finding.
check: venv
	$(BIN)/ruff check .
	$(BIN)/mypy

# Tests run in parallel (pytest-xdist), one worker per core; PYTEST_WORKERS=0 runs them in one process.
PYTEST_WORKERS ?= auto

test: venv sysdeps
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

services-up:
	bash scripts/services.sh up

services-down:
	bash scripts/services.sh down

bench: venv
	$(BIN)/python bench/run.py

clean:
	rm -rf var/docsvc.sqlite var/objects var/keys var/search
