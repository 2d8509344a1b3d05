# The README's two commands: `make demo` (the main job on the example site) and
# `make test` (every test, ruff and mypy). Both install what they need themselves.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | $(PYTHON) -c "import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:12])")
# Debian packages the tools call: ssh-keygen checks approvals, rsync is a deploy target;
# the tests also need PostgreSQL (the suite starts its own server in a temp dir) and
# Debian's Chromium, which Playwright drives for the desk's browser tests, and openssl,
# which makes the mail tests' throw-away TLS certificate.
RUN_PACKAGES := openssh-client rsync
# PyICU (the guideline's Unicode look-alike check) has no wheels: pip builds it against ICU
BUILD_PACKAGES := libicu-dev pkg-config g++ python3-dev
TEST_PACKAGES := $(RUN_PACKAGES) postgresql chromium openssl

.PHONY: install demo test lint bench clean messages

$(STAMP): pyproject.toml
	@$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || scripts/apt-install.sh python3-venv
	@scripts/apt-install.sh $(BUILD_PACKAGES)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

demo: install
	@scripts/apt-install.sh $(RUN_PACKAGES)
	@scripts/demo.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# pytest-xdist: one worker per core (TEST_WORKERS=1 for one), each test file kept on one
# worker so that its module fixtures are made once; each worker starts its own PostgreSQL.
# The tests marked `alone` time themselves against a limit and run afterwards, by themselves.
TEST_WORKERS ?= auto
test: install lint
	@scripts/apt-install.sh $(TEST_PACKAGES)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile -m "not alone"
	$(BIN)/pytest -m alone

# Benchmarks time things and so are no tests: scheduler ticks (bench/tick.py), builds,
# stock Pelican against ours (bench/build.py), and the guideline check on 5,000 pieces
# (bench/check.py: CPU seconds too, and how it grows with 10× longer posts), and years of
# comments in the store, inbox and desk (on a generated site of SITE_POSTS posts) at
# 1,000,000 comments on SQLite and a throw-away
# PostgreSQL (bench/comments.py; COMMENTS=20000 for a quick look), and how many sites one
# agency worker keeps ticking every 5 minutes, idle and with a change per site per tick
# (bench/agency.py, on a throw-away PostgreSQL); figures in bench/results/.
COMMENTS ?= 1000000
SITE_POSTS ?= 5000
bench: install
	$(BIN)/python bench/tick.py
	$(BIN)/python bench/agency.py
	$(BIN)/python bench/build.py
	$(BIN)/python bench/check.py --scaling 500
	$(BIN)/python bench/comments.py --comments $(COMMENTS) --site-posts $(SITE_POSTS)
	$(BIN)/python bench/summary.py

# German and English: extract every marked string (babel.cfg) into the German catalog
# editorial/locale/de/LC_MESSAGES/messages.po; new strings arrive untranslated, and a test
# fails until each has its German. Nothing to compile: the .po is read at run time.
messages: install
	$(BIN)/python -m publish.i18n_catalog

clean:
	rm -rf $(VENV) output .pytest_cache .mypy_cache .ruff_cache
