"""The yearly schedule: publish the survey year once its survey has closed.

The survey closes in the autumn and the export is delivered in November, so on 1 December at 06:00
(Copenhagen time) the schedule requests that year's partition of `yearly_benchmark` if its export is in
`<data-dir>/raw/<year>/`, and otherwise skips with a reason the ops team can act on. The raw-export sensor
is the primary trigger (it runs a year as soon as its export arrives or changes); the schedule is the safety
net. A scheduled run of a year the sensor has already published reuses that release (same fingerprint), so
running both costs one quick no-op run.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from benchmark_pipeline.defs.jobs import yearly_benchmark_job
from benchmark_pipeline.defs.partitions import survey_years
from benchmark_pipeline.defs.resources import BenchmarkSettings
from benchmark_pipeline.publication import missing_inputs
from benchmark_pipeline.defs.tags import TRIGGER_TAG
from benchmark_pipeline.settings import FIRST_SURVEY_YEAR, Settings

SCHEDULE_TIMEZONE = "Europe/Copenhagen"
# 06:00 on 1 December: after the autumn survey has closed and the export has been delivered.
SCHEDULE_CRON = "0 6 1 12 *"


def survey_year_at(moment: datetime | None) -> int:
    """The survey year a tick at `moment` is for: the calendar year in Copenhagen."""
    zone = ZoneInfo(SCHEDULE_TIMEZONE)
    moment = moment or datetime.now(zone)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(zone).year


def scheduled_request(settings: Settings, survey_year: int, moment: datetime | None = None) -> RunRequest | SkipReason:
    """A run of the year's partition when its export is present, else a SkipReason that says what is missing."""
    key = str(survey_year)
    if key not in survey_years.get_partition_keys(current_time=moment):
        return SkipReason(f"survey year {survey_year} is not a partition of survey_years (the first survey year is {FIRST_SURVEY_YEAR})")
    missing = missing_inputs(settings, survey_year)
    if missing is not None:
        return SkipReason(
            f"{missing}. Nothing was run. Once the export is dropped there, the raw_export_sensor runs the year "
            f"(or materialise partition {survey_year} in the UI, or: benchmark-pipeline run --year {survey_year})."
        )
    return RunRequest(
        run_key=f"scheduled-{survey_year}",
        partition_key=key,
        tags={TRIGGER_TAG: "schedule"},
    )


@schedule(
    name="yearly_benchmark_schedule",
    cron_schedule=SCHEDULE_CRON,
    execution_timezone=SCHEDULE_TIMEZONE,
    job=yearly_benchmark_job,
    default_status=DefaultScheduleStatus.STOPPED,
    description=(
        "1 December 06:00 Copenhagen time: publish that survey year if its export is in data/raw/<year>/, "
        "otherwise skip with the reason. Turn on in production (see docs/operations.md)."
    ),
)
def yearly_benchmark_schedule(context: ScheduleEvaluationContext, benchmark: BenchmarkSettings):
    moment = context.scheduled_execution_time
    return scheduled_request(benchmark.settings(), survey_year_at(moment), moment)
