"""Survey years as Dagster partitions, shared by assets, checks, jobs, schedules and sensors."""

from dagster import TimeWindowPartitionsDefinition

FIRST_SURVEY_YEAR = 2023

# end_offset=1: a survey run in the autumn must have its year's partition before the year is over.
survey_years = TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 1 *",
    fmt="%Y",
    start=str(FIRST_SURVEY_YEAR),
    end_offset=1,
    timezone="Europe/Copenhagen",
)
