"""Survey years as Dagster partitions, shared by assets, checks, jobs, schedules and sensors."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from dagster import TimeWindowPartitionsDefinition

from benchmark_pipeline.settings import FIRST_SURVEY_YEAR, Settings

TIMEZONE = "Europe/Copenhagen"


def survey_years_until(last: int | None, now: datetime | None = None) -> TimeWindowPartitionsDefinition:
    """One partition per survey year from the first up to the current year (a survey run in the autumn must
    have its year's partition before the year is over), or up to `last` (`Settings.last_survey_year`)."""
    this_year = (now or datetime.now(ZoneInfo(TIMEZONE))).year
    bounds = {} if last is None else {"end": str(last + 1)}  # `end` is exclusive
    # Dagster ends time partitions at the current one plus end_offset - 1, and never after `end`.
    return TimeWindowPartitionsDefinition(
        cron_schedule="0 0 1 1 *", fmt="%Y", start=str(FIRST_SURVEY_YEAR), timezone=TIMEZONE,
        end_offset=1 if last is None else max(1, last - this_year + 1), **bounds,
    )


survey_years = survey_years_until(Settings.from_env().last_survey_year)
