# Every target bootstraps what it needs (virtualenv, Pulumi engine), idempotently.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# pulumi-aws lives in a virtualenv of its own: its aws plugin binary cannot be
# installed offline, and the language host would report it as required to
# every program run from .venv. The interop tests use Pulumi's mocks there.
VENV_AWS := .venv-aws
AWS_STAMP := $(VENV_AWS)/.installed-stamp
# The exports the engine needs (PATH, PULUMI_HOME, local backend, passphrase,
# no plugin downloads); tools/engine.sh builds the engine only on first use.
WITH_ENV = eval "$$(tools/env.sh)" &&

.PHONY: test unit lint guards docs demo bench chaos doctor env engine engine-path sdk-smoke venv clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python >= 3.11 is needed ($(PYTHON))" >&2; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q -e ".[dev]" >$(VENV)/pip.log 2>&1 || { cat $(VENV)/pip.log >&2; exit 1; }
	@touch $@

$(AWS_STAMP): pyproject.toml
	@test -x $(VENV_AWS)/bin/python || $(PYTHON) -m venv $(VENV_AWS)
	@$(VENV_AWS)/bin/python -m pip install -q -e ".[aws]" pytest >$(VENV_AWS)/pip.log 2>&1 || { cat $(VENV_AWS)/pip.log >&2; exit 1; }
	@touch $@

venv: $(STAMP)

engine:
	@tools/engine.sh >/dev/null

# Only `export PATH=...` for the engine, for a user's own repo:
# eval "$(make -s -C /path/to/checkout engine-path)". `make env` is this repo's dev shell.
engine-path:
	@tools/engine.sh --print-path

env: $(STAMP)
	@tools/env.sh

# The end-to-end tests mostly wait on the engine and the emulator: three workers
# (each with its own emulator, backend and Pulumi home) keep two cores busy.
TEST_WORKERS ?= 3

test: $(STAMP) $(AWS_STAMP) engine lint guards
	@$(VENV_AWS)/bin/python -m pytest -q -p no:cacheprovider tests/interop
	@$(WITH_ENV) $(PY) -m pytest tests --ignore=tests/interop --durations=25 \
		-n $(TEST_WORKERS) --dist worksteal

# Each ownership guard taken out in turn: a fast test must fail (tools/guards.py).
guards: $(STAMP)
	@$(PY) -m tools.guards

# The oldest and the newest admitted SDK end to end (also part of `make test`).
sdk-smoke: $(STAMP) engine
	@$(WITH_ENV) $(PY) -m tools.sdk_smoke

# docs/reference.md and bench/README.md's results table, from the code (tools/docs.py);
# tests/unit/test_docs.py fails when they are stale.
docs: $(STAMP)
	@$(PY) -m tools.docs

unit: $(STAMP)
	@$(PY) -m pytest tests/unit -q

lint: $(STAMP)
	@$(PY) -m ruff check fsx_backup_provider fsx_emulator bench tests tools __main__.py
	@$(PY) -m mypy --strict fsx_backup_provider fsx_emulator bench tools

demo: $(STAMP) engine
	@$(WITH_ENV) $(PY) -m tools.demo

# Bytecode first, as installing a wheel compiles it: an editable checkout
# under PYTHONDONTWRITEBYTECODE would otherwise recompile the package in every
# provider process the benchmark starts.
bench: $(STAMP) engine
	@$(PY) -m compileall -q fsx_backup_provider bench
	@$(WITH_ENV) $(PY) -m tools.bench

chaos: $(STAMP) engine
	@$(WITH_ENV) $(PY) -m tools.chaos --trials 20 --destroy-trials 5 --rotate-trials 5 --fault-runs 10

doctor: $(STAMP)
	@$(WITH_ENV) $(PY) -m tools.doctor

clean:
	rm -rf .pulumi-state .mypy_cache .ruff_cache .pytest_cache
