"""Where the yearly job's steps run, chosen by one setting (`BENCHMARK_EXECUTOR`), never by editing code.

`in_process` (the default): every step in the run's own process, since a year's steps are few and fast
(docs/performance.md). `celery`: each step is a task on dagster-celery workers (`make workers`), RabbitMQ
as broker and Redis as result backend; the workers must be started with the same broker, backend and
queue (celery.yaml) and reach the same instance, warehouse and folders (docs/operations.md).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from dagster import ExecutorDefinition, in_process_executor

from benchmark_pipeline.settings import CELERY, ENVIRONMENT, IN_PROCESS, Settings

# A worker that dies mid-step (killed, out of memory, its machine gone) must not lose the step: the task is
# acknowledged only when it has ended, so the broker hands it to another worker. Without this the run
# would wait for a result that never comes. The same keys are in celery.yaml, which the workers read.
CELERY_TASK_SETTINGS = {
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    "worker_prefetch_multiplier": 1,  # a busy worker does not hold tasks another could run
}


def _source(settings: Settings, field: str, environ: Mapping[str, str]):
    """A URL read from the environment stays a reference to its variable, so the UI shows the name only."""
    value, name = getattr(settings, field), ENVIRONMENT[field]
    return {"env": name} if environ.get(name) == value else value


def celery_config(settings: Settings, environ: Mapping[str, str] | None = None) -> dict:
    """The Celery executor's configuration for these settings (the run side of celery.yaml)."""
    env = os.environ if environ is None else environ
    return {
        "broker": _source(settings, "celery_broker_url", env),
        "backend": _source(settings, "celery_backend_url", env),
        "config_source": {"task_default_queue": settings.celery_queue, **CELERY_TASK_SETTINGS},
    }


def executor_for(settings: Settings, environ: Mapping[str, str] | None = None) -> ExecutorDefinition:
    if settings.executor == IN_PROCESS:
        return in_process_executor
    assert settings.executor == CELERY, settings.executor  # Settings refuses any other value
    from dagster_celery import celery_executor  # only the Celery profile needs the package

    return celery_executor.configured(celery_config(settings, environ), name="celery")
