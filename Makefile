# The two commands a newcomer needs: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.stamp-install

.PHONY: run console demo test lint typecheck pytest bench messages clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "iben-bot needs Python 3.11 or newer, found " + sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)            ## start every enabled adapter (the console when none is)
	$(BIN)/iben-bot run $(ARGS)

demo: $(STAMP)           ## the console with a sample directory
	$(BIN)/iben-bot console --demo $(ARGS)

test: $(STAMP) lint typecheck pytest  ## install, lint, type-check and run every test

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(STAMP)          ## speed figures, printed as tables (never part of the tests)
	$(BIN)/python -m bench.dispatch
	$(BIN)/python -m bench.whois
	$(BIN)/python -m bench.routing
	$(BIN)/python -m bench.qa_search
	$(BIN)/python -m bench.ask
	$(BIN)/python -m bench.meetups
	$(BIN)/python -m bench.reminders

bench-cluster: $(STAMP)  ## two bot processes on PostgreSQL under slash-command load (needs a server; ARGS=...)
	$(BIN)/python -m bench.load $(ARGS)

messages: $(STAMP)       ## refresh the translation template and catalogs after changing strings
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k gettext -k ngettext:1,2 --no-location --sort-output \
		--project iben-bot --version 0.1 -o bot/locale/messages.pot .
	$(BIN)/pybabel update -i bot/locale/messages.pot -d bot/locale -D messages --no-fuzzy-matching --width 100

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache
