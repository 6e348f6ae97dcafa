# promo: developer commands. On a fresh machine only Python 3.11 is needed: `make run`
# creates .venv, installs the pinned packages and starts embedded PostgreSQL + Redis
# (promo/embedded.py) unless DATABASE_URL / REDIS_URL are already set.

PY ?= python3.11
VENV := .venv
PYTHON := $(VENV)/bin/python
RUFF := $(VENV)/bin/ruff
STAMP := $(VENV)/.installed
# Starts (or reuses) the embedded servers when the variables are unset, then runs the rest.
EMBED := $(PYTHON) -m promo.embedded exec --
PYTEST_ARGS ?=
# Settings refuse to load without a production SECRET_KEY unless DEBUG or PROMO_TESTING.
TEST_ENV := PROMO_TESTING=1
DEV_ENV := DEBUG=$${DEBUG:-1}

# Front-end packages come later; until package-lock.json exists the npm step is skipped.
NPM_STAMP := $(if $(wildcard package-lock.json),node_modules/.installed)

.PHONY: install lock run test lint format migrate seed shell stop clean

install: $(STAMP) $(NPM_STAMP)

$(PYTHON):
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml constraints.txt | $(PYTHON)
	$(PYTHON) -m pip install -c constraints.txt -e '.[dev]'
	touch $@

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
	$(DEV_ENV) $(EMBED) $(PYTHON) -m promo.launcher

test: install
	$(EMBED) $(RUFF) check .
	$(EMBED) $(RUFF) format --check .
	$(TEST_ENV) $(EMBED) $(PYTHON) manage.py makemigrations --check --dry-run
	$(TEST_ENV) $(EMBED) $(PYTHON) -m pytest $(PYTEST_ARGS)

lint: install
	$(RUFF) check .
	$(RUFF) format --check .

format: install
	$(RUFF) format .
	$(RUFF) check --fix .

migrate: install
	$(DEV_ENV) $(EMBED) $(PYTHON) manage.py migrate --noinput

seed: install
	$(DEV_ENV) $(EMBED) $(PYTHON) manage.py seed_demo

shell: install
	$(DEV_ENV) $(EMBED) $(PYTHON) manage.py shell

stop:
	@if [ -x $(PYTHON) ]; then $(PYTHON) -m promo.embedded stop; fi

clean: stop
	@if [ -d var ]; then echo "removing var/ (embedded PostgreSQL and Redis data, celerybeat schedule)"; rm -rf var; fi
