# The two commands of the README: `make run` (demo desk on SQLite) and `make test` (the suite).
# Both create .venv if it is missing and install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint format install clean messages

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/madad serve --demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

# pytest exits 5 when it collects no tests; make treats any non-zero exit as a failure.
test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache

# Extract every UI string (code and templates) and merge it into the catalogs; then translate
# the new entries in src/madad/web/locales/ur/LC_MESSAGES/messages.po (tests check completeness).
LOCALES := src/madad/web/locales
messages: $(STAMP)
	$(BIN)/pybabel extract -F src/madad/web/babel.cfg -o $(LOCALES)/messages.pot --no-location \
		--sort-output -k _ -k gettext -k ngettext:1,2 --project Madad .
	@test -f $(LOCALES)/ur/LC_MESSAGES/messages.po || \
		$(BIN)/pybabel init -i $(LOCALES)/messages.pot -d $(LOCALES) -l ur
	$(BIN)/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) -l ur --no-fuzzy-matching \
		--ignore-obsolete
