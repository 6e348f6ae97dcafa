# promo: developer commands. On a fresh machine only Python 3.11 is needed: `make run`
# creates .venv, installs the pinned packages and starts embedded PostgreSQL + Redis
# (promo/devtools/embedded.py) unless DATABASE_URL / REDIS_URL are already set.

PY ?= python3.11
VENV := .venv
PYTHON := $(VENV)/bin/python
RUFF := $(VENV)/bin/ruff
MYPY := $(VENV)/bin/mypy
STAMP := $(VENV)/.installed
# Starts (or reuses) the embedded servers when the variables are unset, then runs the rest.
EMBED := $(PYTHON) -m promo.devtools.embedded exec --
PYTEST_ARGS ?=
# Settings refuse to load without a production SECRET_KEY unless DEBUG or PROMO_TESTING.
TEST_ENV := PROMO_TESTING=1
DEV_ENV := DEBUG=$${DEBUG:-1}

# Translations: the committed locale/*/LC_MESSAGES/*.po are compiled to .mo (not committed)
# in pure Python by polib, so no machine needs GNU gettext. The settings only have to load,
# nothing connects: placeholders stand in for DATABASE_URL / REDIS_URL when they are unset.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/*.po))
I18N_ENV := $(DEV_ENV) DATABASE_URL=$${DATABASE_URL:-postgres://localhost/unused} REDIS_URL=$${REDIS_URL:-redis://localhost:6379/0}
# mypy's Django plugin loads the settings (nothing connects): the same placeholders.
TYPES_ENV := $(TEST_ENV) DATABASE_URL=$${DATABASE_URL:-postgres://localhost/unused} REDIS_URL=$${REDIS_URL:-redis://localhost:6379/0}

# Front-end packages come later; until package-lock.json exists the npm step is skipped.
NPM_STAMP := $(if $(wildcard package-lock.json),node_modules/.installed)

.PHONY: install browser screenshots lock run test lint format migrate seed shell stop clean bench backup restore drill

install: $(STAMP) $(NPM_STAMP) $(MO_FILES)

$(PYTHON):
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml constraints.txt | $(PYTHON)
	$(PYTHON) -m pip install -c constraints.txt -e '.[dev]'
	touch $@

# Browser tests drive Debian's Chromium (no browser download: the machines reach only the
# package registries); the bench and its test drive Debian's wrk, a compiled load generator.
# The bulletin's PDF is laid out by WeasyPrint on Pango with the Noto CJK fonts; its tests
# read the PDF back with poppler's pdftotext. Installed once, as root via apt-get, or via
# sudo when available.
SYSTEM_PACKAGES := chromium chromium-driver fonts-noto-cjk wrk libpango-1.0-0 libpangoft2-1.0-0 poppler-utils
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v wrk >/dev/null 2>&1 \
	  && command -v pdftotext >/dev/null 2>&1 && [ -e /usr/share/fonts/opentype/noto ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "installing $(SYSTEM_PACKAGES) for the browser tests and the bench"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES); \
	elif command -v sudo >/dev/null 2>&1; then \
	  sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES); \
	else echo "the browser tests and the bench need Debian packages: apt-get install $(SYSTEM_PACKAGES)" >&2; exit 1; fi

locale/%.mo: locale/%.po | $(STAMP)
	$(I18N_ENV) $(PYTHON) manage.py compile_translations

node_modules/.installed: package-lock.json
	npm ci
	touch $@

# Re-pin every installed package. To upgrade: `.venv/bin/pip install -U NAME`, then `make lock`.
lock: | $(PYTHON)
	{ echo "# Pinned versions for promo; regenerate with 'make lock' (pip freeze of .venv)."; \
	  echo "# Used as: pip install -c constraints.txt -e '.[dev]'"; \
	  $(PYTHON) -m pip freeze --exclude-editable; } > constraints.txt
	@if [ -f $(STAMP) ] && [ $(STAMP) -nt pyproject.toml ]; then touch $(STAMP); fi

run: install
	$(DEV_ENV) $(EMBED) $(PYTHON) -m promo.devtools.launcher

test: install browser
	$(EMBED) $(RUFF) check .
	$(EMBED) $(RUFF) format --check .
	$(TYPES_ENV) $(MYPY)
	$(TEST_ENV) $(EMBED) $(PYTHON) manage.py makemigrations --check --dry-run
	$(TEST_ENV) $(EMBED) $(PYTHON) -m pytest $(PYTEST_ARGS)

# Refresh the pictures in docs/screenshots/ from the browser tests.
screenshots: install browser
	PROMO_SCREENSHOTS=1 $(TEST_ENV) $(EMBED) $(PYTHON) -m pytest tests/browser

lint: install
	$(RUFF) check .
	$(RUFF) format --check .
	$(TYPES_ENV) $(MYPY)

format: install
	$(RUFF) format .
	$(RUFF) check --fix .

migrate: install
	$(DEV_ENV) $(EMBED) $(PYTHON) manage.py migrate --noinput

seed: install
	$(DEV_ENV) $(EMBED) $(PYTHON) manage.py seed_demo

shell: install
	$(DEV_ENV) $(EMBED) $(PYTHON) manage.py shell

# Backups (docs/operations.md): the database as pg_dump custom format, the media files and a
# manifest, in var/backups/promo-<stamp>/. Restore replaces promo's own database: stop `make run`.
backup: install
	$(DEV_ENV) $(EMBED) $(PYTHON) manage.py backup

restore: install
	@if [ -z "$(BACKUP)" ]; then echo "usage: make restore BACKUP=var/backups/promo-<stamp>" >&2; exit 2; fi
	$(DEV_ENV) $(EMBED) $(PYTHON) manage.py restore "$(BACKUP)" --replace

stop:
	@if [ -x $(PYTHON) ]; then $(PYTHON) -m promo.devtools.embedded stop; fi

clean: stop
	@if [ -d var ]; then echo "removing var/ (embedded PostgreSQL and Redis data, celerybeat schedule)"; rm -rf var; fi

# Load test (docs/performance.md): gunicorn with DEBUG off on 127.0.0.1 against one database
# per scale (promo_bench_county, promo_bench_province), created and seeded by
# `manage.py seed_demo --scale` when missing (province: ~10 minutes), reused afterwards; prints
# one table and writes docs/bench.json. The databases live on the server of BENCH_DATABASE_URL
# (else DATABASE_URL, else the embedded PostgreSQL).
BENCH_DATABASE_URL ?=
bench: install browser
	DATABASE_URL=$${BENCH_DATABASE_URL:-$${DATABASE_URL:-}} $(EMBED) $(PYTHON) -m promo.devtools.bench

# Operations drill (docs/operations.md, issue #18): a missed 06:00 bulletin run (broker
# hiccup, then a PostgreSQL outage) on a frozen clock, a webhook robot down for a while on a
# real local HTTP server, a real worker process killed whole mid-import, and uploads with
# Redis hung then stopped; prints the figures. Database promo_drill on the server of
# DATABASE_URL (else the embedded PostgreSQL), reused between runs. About 2.5 minutes (plus
# the migrations on the first run); DRILL_ARGS=--long: the robot down 6 minutes,
# PostgreSQL 2 hours, a publish with Celery's defaults to a hung Redis (about 11 minutes).
DRILL_ARGS ?=
drill: install
	$(DEV_ENV) $(EMBED) $(PYTHON) -m promo.devtools.drill $(DRILL_ARGS)
