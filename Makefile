# opsportal: `make run` serves everything on one machine with no services; `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
# Embedded mode is a development mode: DEBUG on, a per-machine secret key in var/.
DEV_ENV := DEBUG=$${DEBUG:-1}
# The suite's second tier (DATABASE_URL + REDIS_URL set) runs in production mode; the app never guesses it.
TEST_ENV := $(DEV_ENV) OPSPORTAL_MODE=$${OPSPORTAL_MODE:-$${REDIS_URL:+production}}

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
	$(TEST_ENV) $(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: install
	$(DEV_ENV) $(BIN)/python manage.py makemigrations --check --dry-run

# Production settings must pass Django's deployment checklist (nothing here connects to these services).
deploy-check: install
	DEBUG=0 SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
	ALLOWED_HOSTS=status.example.com PUBLIC_URL=https://status.example.com OPSPORTAL_MODE=production \
	DATABASE_URL=postgres://opsportal@db.example.com/opsportal REDIS_URL=redis://redis.example.com:6379/0 \
	EMAIL_HOST=smtp.example.com SMS_API_BASE_URL=https://sms.example.com SMS_ACCOUNT_SID=AC-deploy-check \
	SMS_AUTH_TOKEN=deploy-check SMS_FROM=+15005550006 \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

lock:
	$(BIN)/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
