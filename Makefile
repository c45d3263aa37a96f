# The two commands people need: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export DAGSTER_HOME

.PHONY: install run test test-fast dev bench bench-scale workers sample clean code-versions axe

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip==26.3"
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

# axe-core for the accessibility gate (benchmark_pipeline_tests/reports/test_accessibility.py), pinned, into the
# git-ignored virtualenv folder; the test reads axe.min.js from there and downloads nothing.
AXE_CORE_VERSION := 4.14.1
AXE_STAMP := $(VENV)/node/.axe-core-$(AXE_CORE_VERSION)

$(AXE_STAMP):
	npm install --no-save --no-audit --no-fund --prefix $(VENV)/node axe-core@$(AXE_CORE_VERSION)
	touch $(AXE_STAMP)

axe: $(AXE_STAMP)

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

run: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/benchmark-pipeline run --all

test: install axe $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The unit tests (no Dagster run, no subprocess, no browser): a quick check while working.
test-fast: install
	$(BIN)/python -m pytest -m "not integration and not slow" -n 2 $(PYTEST_ARGS)

# After changing a step's code: bump its CODE_VERSIONS entry if its output changes, then record.
code-versions: install
	$(BIN)/python -m benchmark_pipeline.versions --record

dev: install $(DAGSTER_HOME)/dagster.yaml
	set -m; $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

bench: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m bench

# Ten synthetic years in process vs on two Celery workers (docs/performance.md "Scaling out"); needs
# RabbitMQ, Redis and PostgreSQL (see docs/operations.md). About 12 minutes.
bench-scale: install
	$(BIN)/python -m bench.scale $(SCALE_ARGS)

# The Celery profile's workers (docs/operations.md "Celery profile"): WORKERS dagster-celery workers in the
# foreground, each running WORKER_CONCURRENCY steps at once; Ctrl-C stops them. Runs use them when
# BENCHMARK_EXECUTOR=celery; both sides read the broker, backend and queue from these variables.
BENCHMARK_CELERY_BROKER_URL ?= amqp://127.0.0.1:5672//
BENCHMARK_CELERY_BACKEND_URL ?= redis://127.0.0.1:6379/0
BENCHMARK_CELERY_QUEUE ?= dagster
WORKERS ?= 2
WORKER_CONCURRENCY ?= 3

workers: install $(DAGSTER_HOME)/dagster.yaml
	export PATH="$(CURDIR)/$(BIN):$$PATH" BENCHMARK_CELERY_BROKER_URL='$(BENCHMARK_CELERY_BROKER_URL)' \
	  BENCHMARK_CELERY_BACKEND_URL='$(BENCHMARK_CELERY_BACKEND_URL)'; \
	for i in $$(seq 1 $(WORKERS)); do \
	  dagster-celery worker start -A dagster_celery.app -y celery.yaml -q '$(BENCHMARK_CELERY_QUEUE)' \
	    -n "benchmark-$$i" -- --concurrency $(WORKER_CONCURRENCY) & \
	done; wait

sample: install
	$(BIN)/benchmark-pipeline generate-sample

clean:
	rm -rf output .dagster_home bench/results.json
