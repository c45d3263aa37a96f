"""Run the yearly job for the CLI, and turn its outcome into words and an exit code.

In process by default; on the Celery profile (`BENCHMARK_EXECUTOR=celery`) this process orchestrates
the run and the workers run its steps, rebuilding the job from the environment they share.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from dagster import DagsterInstance, DagsterEventType, execute_job, reconstructable

from benchmark_pipeline.defs.build import build_definitions, yearly_job_from_env
from benchmark_pipeline.defs.tags import PARTITION_TAG
from benchmark_pipeline.publication import missing_inputs
from benchmark_pipeline.release import ReleaseStore
from benchmark_pipeline.defs.failures import CHECK_FAILED, step_exit_code
from benchmark_pipeline.errors import EXIT_CONTENT, EXIT_ENVIRONMENT, EXIT_INPUT, EXIT_OK
from benchmark_pipeline.settings import CELERY, ENVIRONMENT, Settings

# Dagster's console logger would print tracebacks for expected failures; the CLI reports them itself.
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass
class YearOutcome:
    survey_year: int
    exit_code: int
    run_id: str = ""
    release_id: str = ""
    release_path: str = ""
    reused: bool = False
    rows_quarantined: int = 0  # left out of a published year (exit 0 all the same: see docs/operations.md)
    messages: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_OK


def open_instance() -> DagsterInstance:
    """The instance in $DAGSTER_HOME (so runs show in the UI), or an ephemeral one when it is unset."""
    home = os.environ.get("DAGSTER_HOME")
    if home and Path(home).is_dir():
        return DagsterInstance.get()
    return DagsterInstance.ephemeral()


def _failure_messages(result) -> tuple[int, list[str]]:
    exit_code, messages = EXIT_OK, []
    for event in result.get_step_failure_events():
        data = event.step_failure_data
        code = step_exit_code(data)
        user = data.user_failure_data
        if user is not None:
            messages.append(user.description or "the step failed")
        elif data.error is not None and data.error.cls_name == CHECK_FAILED:
            pass  # the failed check's own evaluation says why, below
        else:
            error = data.error
            while error is not None and error.cause is not None:
                error = error.cause
            text = error.message.strip() if error else "unknown error"
            messages.append(f"{event.step_key}: {text.splitlines()[0]}")
        exit_code = max(exit_code, code)
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed and evaluation.severity.value == "ERROR":
            why = f": {evaluation.description}" if evaluation.description else ""
            messages.append(f"check {evaluation.check_name} failed for {evaluation.asset_key.to_user_string()}{why}")
            exit_code = max(exit_code, EXIT_CONTENT)
    return exit_code or EXIT_CONTENT, list(dict.fromkeys(messages))  # a retried step fails alike each time


def _run_failure_messages(result, settings: Settings) -> list[str]:
    """Why a run failed that no step failure explains: the executor's own error (the broker unreachable,
    a result lost), in its first line, and on the Celery profile where it was connecting to."""
    where = ""
    if settings.executor == CELERY:
        from kombu.utils.url import maybe_sanitize_url  # shows a URL without its password

        where = (f" (Celery broker {maybe_sanitize_url(settings.celery_broker_url)}, result backend "
                 f"{maybe_sanitize_url(settings.celery_backend_url)}, queue {settings.celery_queue}: are they "
                 "reachable, and are workers listening on that queue?)")
    messages = []
    for event in result.all_events:
        if event.event_type != DagsterEventType.RUN_FAILURE:
            continue
        error = event.event_specific_data.error if event.event_specific_data is not None else None
        while error is not None and error.cause is not None:
            error = error.cause
        text = (error.message if error is not None else event.message) or "the run failed"
        messages.append(f"the run failed outside any step: {text.strip().splitlines()[0]}{where}")
    return messages


def celery_misuse(settings: Settings, instance: DagsterInstance) -> str | None:
    """Why this run cannot go to Celery workers as asked, or None.

    The workers see only their own environment and the instance: settings given as flags would not reach
    them, and an ephemeral instance is not one they can write the run's events into.
    """
    if instance.is_ephemeral:
        return ("the Celery profile needs a Dagster instance the workers share: set DAGSTER_HOME to a folder "
                "with a dagster.yaml (docs/dagster-postgres.yaml), as the workers have")
    shared = Settings.from_env()
    differing = [ENVIRONMENT[name] for name in ("data_dir", "output_dir", "warehouse_url", "min_respondents",
                                                "max_quarantine_share", "dagster_io_base")
                 if getattr(shared, name) != getattr(settings, name)]
    if differing:
        return (f"on the Celery profile the workers read their settings from the environment: set "
                f"{', '.join(differing)} there (for this command and the workers) instead of giving a flag")
    return None


def _execute(settings: Settings, job, survey_year: int, instance: DagsterInstance):
    if settings.executor == CELERY:
        from celery.exceptions import DuplicateTaskNameWarning

        with warnings.catch_warnings():
            # dagster-celery registers its one task again for every step it submits: harmless, and not
            # something a person running the CLI can act on.
            warnings.simplefilter("ignore", DuplicateTaskNameWarning)
            return execute_job(
                reconstructable(yearly_job_from_env),
                instance=instance,
                tags={PARTITION_TAG: str(survey_year)},
                run_config=QUIET_RUN_CONFIG,
                raise_on_error=False,
            )
    return job.execute_in_process(
        partition_key=str(survey_year), instance=instance, raise_on_error=False, run_config=QUIET_RUN_CONFIG
    )


def run_year(settings: Settings, survey_year: int, instance: DagsterInstance | None = None) -> YearOutcome:
    """Materialise every asset and check of one survey year through Dagster (in this process, or on the
    Celery workers when the settings say so)."""
    job = build_definitions(settings).resolve_job_def("yearly_benchmark")
    keys = job.partitions_def.get_partition_keys()
    if str(survey_year) not in keys:
        return YearOutcome(
            survey_year=survey_year,
            exit_code=EXIT_INPUT,
            messages=[f"{survey_year} is not a survey year the pipeline can run: the yearly partitions are "
                      f"{keys[0]}-{keys[-1]} (they end with the current year, or with "
                      f"{ENVIRONMENT['last_survey_year']} when it is set)"],
        )
    missing = missing_inputs(settings, survey_year)
    if missing is not None:
        return YearOutcome(survey_year=survey_year, exit_code=EXIT_INPUT, messages=[missing])
    instance = instance or open_instance()
    misuse = celery_misuse(settings, instance) if settings.executor == CELERY else None
    if misuse is not None:
        return YearOutcome(survey_year=survey_year, exit_code=EXIT_INPUT, messages=[misuse])
    # Dagster keeps a year's intermediate outputs per year, not per run: two runs of one year at once
    # would read each other's. The second waits here, then reuses the first's release.
    with ReleaseStore(settings.output_dir, settings.resolved_warehouse_url) as store, store.run_lock(survey_year):
        result = _execute(settings, job, survey_year, instance)
    outcome = YearOutcome(survey_year=survey_year, exit_code=EXIT_OK, run_id=result.run_id)
    if not result.success:
        outcome.exit_code, outcome.messages = _failure_messages(result)
        if not result.get_step_failure_events():
            outcome.messages += _run_failure_messages(result, settings)
            outcome.exit_code = EXIT_ENVIRONMENT if outcome.messages else outcome.exit_code
        return outcome
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        if materialization.asset_key.to_user_string() != "published_release":
            continue
        meta = materialization.metadata
        outcome.release_id = str(meta["release_id"].value)
        outcome.release_path = str(meta["release_path"].value)
        outcome.reused = bool(meta["reused"].value)
        outcome.rows_quarantined = int(meta["rows_quarantined"].value)
    return outcome


__all__ = ["YearOutcome", "run_year", "open_instance", "DagsterEventType"]
