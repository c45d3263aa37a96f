"""The yearly schedule requests the survey year's partition when its export is there, and skips otherwise."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from dagster import RunRequest, SkipReason, build_schedule_context

from benchmark_pipeline.defs.schedules import (
    SCHEDULE_CRON,
    SCHEDULE_TIMEZONE,
    survey_year_at,
    yearly_benchmark_schedule,
)
from benchmark_pipeline_tests.defs.conftest import write_export

CPH = ZoneInfo("Europe/Copenhagen")


def _tick(year: int) -> datetime:
    return datetime(year, 12, 1, 6, 0, tzinfo=CPH)


def test_schedule_runs_1_december_0600_copenhagen_on_the_yearly_job(tmp_path):
    assert SCHEDULE_CRON == "0 6 1 12 *"
    assert yearly_benchmark_schedule.cron_schedule == SCHEDULE_CRON
    assert yearly_benchmark_schedule.execution_timezone == SCHEDULE_TIMEZONE == "Europe/Copenhagen"
    assert yearly_benchmark_schedule.job_name == "yearly_benchmark"
    from benchmark_pipeline.defs.build import build_definitions
    from benchmark_pipeline.settings import Settings

    defs = build_definitions(Settings.from_env(output_dir=tmp_path))
    assert defs.resolve_schedule_def("yearly_benchmark_schedule").job_name == "yearly_benchmark"


def test_export_present_requests_that_years_partition(scratch_data_dir, benchmark_resource):
    write_export(scratch_data_dir, 2024, "respondentid;s_1\n1;101\n")
    context = build_schedule_context(scheduled_execution_time=_tick(2024), resources={"benchmark": benchmark_resource})
    result = yearly_benchmark_schedule(context)
    assert isinstance(result, RunRequest)
    assert result.partition_key == "2024"
    assert result.run_key == "scheduled-2024"
    assert result.tags["benchmark/trigger"] == "schedule"


def test_missing_export_skips_with_a_reason_naming_the_folder(scratch_data_dir, benchmark_resource):
    write_export(scratch_data_dir, 2023, "respondentid;s_1\n1;101\n")  # another year's export does not count
    context = build_schedule_context(scheduled_execution_time=_tick(2024), resources={"benchmark": benchmark_resource})
    result = yearly_benchmark_schedule(context)
    assert isinstance(result, SkipReason)
    assert "survey year 2024 has no export yet" in result.skip_message
    assert str(scratch_data_dir / "raw" / "2024") in result.skip_message


def test_only_a_readme_is_no_export(scratch_data_dir, benchmark_resource):
    write_export(scratch_data_dir, 2025, "Export arrives in November", name="README.md")
    context = build_schedule_context(scheduled_execution_time=_tick(2025), resources={"benchmark": benchmark_resource})
    assert isinstance(yearly_benchmark_schedule(context), SkipReason)


def test_year_without_a_mapping_skips(scratch_data_dir, benchmark_resource):
    # 2026 has a partition (end_offset=1) but no data/instrument/2026.yaml.
    (scratch_data_dir / "instrument" / "2026.yaml").unlink(missing_ok=True)
    write_export(scratch_data_dir, 2026, "respondentid;s_1\n1;101\n")
    context = build_schedule_context(scheduled_execution_time=_tick(2026), resources={"benchmark": benchmark_resource})
    result = yearly_benchmark_schedule(context)
    assert isinstance(result, SkipReason)
    assert "2026.yaml" in result.skip_message


def test_year_before_the_first_partition_skips(scratch_data_dir, benchmark_resource):
    context = build_schedule_context(scheduled_execution_time=_tick(2022), resources={"benchmark": benchmark_resource})
    result = yearly_benchmark_schedule(context)
    assert isinstance(result, SkipReason)
    assert "not a partition" in result.skip_message


def test_survey_year_is_the_copenhagen_calendar_year():
    assert survey_year_at(_tick(2025)) == 2025
    # 23:30 UTC on 31 December is already New Year in Copenhagen.
    assert survey_year_at(datetime(2025, 12, 31, 23, 30, tzinfo=timezone.utc)) == 2026
    assert survey_year_at(None) == datetime.now(CPH).year


def test_shipped_sample_export_is_scheduled(data_dir, tmp_path):
    from benchmark_pipeline.defs.resources import BenchmarkSettings
    from benchmark_pipeline.settings import Settings

    resource = BenchmarkSettings.from_settings(Settings.from_env(environ={}, data_dir=data_dir, output_dir=tmp_path))
    context = build_schedule_context(scheduled_execution_time=_tick(2025), resources={"benchmark": resource})
    result = yearly_benchmark_schedule(context)
    assert isinstance(result, RunRequest) and result.partition_key == "2025"
