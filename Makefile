# Everything a developer or CI runs, in one place. See README.md.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?= -n 2

.PHONY: demo serve test test-pg lint messages translations assets setup setup-test system clean

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh test

demo: setup
	$(VENV)/bin/tadamun demo

serve: setup
	$(VENV)/bin/tadamun serve

# Debian packages the tests need: chromium for the browser tests, gettext for the catalogues.
system:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v msgmerge >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium gettext >/dev/null; \
	  else echo "The tests need Debian's chromium and gettext: sudo apt-get install chromium gettext"; exit 1; fi; fi

lint: setup-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

messages: setup-test system
	$(PY) scripts/check_translations.py

# Refresh the catalogues from the code and templates, then compile them.
translations: setup-test system
	cd tadamun && ../$(VENV)/bin/tadamun makemessages --no-obsolete --no-location -l ar -l fr -l it -l el -i "static/*"
	cd tadamun && ../$(VENV)/bin/tadamun compilemessages

test: setup-test system lint messages
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The same suite on PostgreSQL (DATABASE_URL must point at a server; .ci/run starts one).
test-pg: setup-test system
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tadamun} $(VENV)/bin/pytest $(PYTEST_ARGS)

assets:
	scripts/vendor_assets.sh

clean:
	rm -rf $(VENV) data
