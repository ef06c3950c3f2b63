# The two set-up commands (see README): `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PASSWORD ?= demo12345
ADDRESS ?= 127.0.0.1:8000
RUN_ENV := DEBUG=1

.PHONY: run test install install-dev lint check messages clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
	bash scripts/system-deps.sh

install-dev: $(VENV)/.installed-dev
	bash scripts/system-deps.sh --test

## Install, migrate, load the demo county and start the server at http://127.0.0.1:8000
run: install
	$(RUN_ENV) $(PY) manage.py migrate --no-input
	$(RUN_ENV) $(PY) manage.py seed_demo --password "$(PASSWORD)"
	@echo ""
	@echo "党员积分管理 http://$(ADDRESS)/   管理后台 http://$(ADDRESS)/admin/"
	@echo "演示账号 (密码 $(PASSWORD)): county 县委组织部 · township 乡镇 · secretary 山岔村书记 ·"
	@echo "  committee 山岔村支委 · member 山岔村党员 · other_secretary 西川村书记 · admin 管理员"
	@echo ""
	$(RUN_ENV) $(PY) manage.py runserver $(ADDRESS)

## Run the whole test suite (embedded SQLite by default; set DATABASE_URL/REDIS_URL for PostgreSQL/Redis)
test: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## Refresh translation catalogues (zh-Hans, zh-Hant filled automatically; English by hand)
messages: install-dev
	$(PY) scripts/translate.py

clean:
	rm -rf var/db.sqlite3 var/media var/test-media
