"""Assemble the code location from one `Settings`, so the CLI can run it with its own flags."""

from __future__ import annotations

from dagster import Definitions, JobDefinition

from benchmark_pipeline.defs.assets import ALL_ASSETS
from benchmark_pipeline.defs.checks import ALL_CHECKS
from benchmark_pipeline.defs.executors import executor_for
from benchmark_pipeline.defs.jobs import YEARLY_JOB_NAME, yearly_benchmark_job
from benchmark_pipeline.defs.resources import build_resources
from benchmark_pipeline.defs.schedules import yearly_benchmark_schedule
from benchmark_pipeline.defs.sensors import benchmark_run_failure_sensor, raw_export_sensor
from benchmark_pipeline.settings import Settings


def build_definitions(settings: Settings) -> Definitions:
    return Definitions(
        assets=ALL_ASSETS,
        asset_checks=ALL_CHECKS,
        jobs=[yearly_benchmark_job],
        schedules=[yearly_benchmark_schedule],
        sensors=[raw_export_sensor, benchmark_run_failure_sensor],
        resources=build_resources(settings),
        # For the yearly job and the UI's ad-hoc asset job alike: in process by default, or on Celery
        # workers when BENCHMARK_EXECUTOR=celery (defs/executors.py).
        executor=executor_for(settings),
    )


def yearly_job_from_env() -> JobDefinition:
    """The yearly job as every process of the Celery profile rebuilds it: from the environment it shares.

    `dagster.reconstructable(yearly_job_from_env)` is what a run launched outside a code server (the CLI,
    the benchmark) hands to the workers, which import this module and call it again.
    """
    return build_definitions(Settings.from_env()).resolve_job_def(YEARLY_JOB_NAME)
