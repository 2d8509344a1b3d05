# The README's two commands: `make demo` (the main job on the example site) and
# `make test` (every test, ruff and mypy). Both install what they need themselves.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | $(PYTHON) -c "import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:12])")
# Debian packages the tools and tests call: ssh-keygen signs approvals, PostgreSQL backs the
# store tests (started by the test suite itself in a temp dir), rsync is a deploy target.
SYSTEM_PACKAGES := openssh-client postgresql rsync

.PHONY: install system demo test lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || scripts/apt-install.sh python3-venv
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

system:
	@scripts/apt-install.sh $(SYSTEM_PACKAGES)

demo: install system
	@scripts/demo.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

test: install system lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) output .pytest_cache .mypy_cache .ruff_cache
