# opsportal: `make run` serves everything on one machine with no services; `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
# Embedded mode is a development mode: DEBUG on, a per-machine secret key in var/.
DEV_ENV := DEBUG=$${DEBUG:-1}

.PHONY: install run test lint format migrations-check deploy-check clean lock

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

run: install
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEV_ENV) $(BIN)/python manage.py load_demo
	$(DEV_ENV) $(BIN)/python manage.py run_embedded --host $(HOST) --port $(PORT)

test: install
	$(DEV_ENV) $(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: install
	$(DEV_ENV) $(BIN)/python manage.py makemigrations --check --dry-run

# Production settings must pass Django's deployment checklist.
deploy-check: install
	DEBUG=0 SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
	ALLOWED_HOSTS=status.example.com PUBLIC_URL=https://status.example.com \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

lock:
	$(BIN)/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
