"""The raw-export sensor: new, changed, touched-but-unchanged and missing exports, changed mappings and
unusable drops, through a real sensor context."""

from __future__ import annotations

import json
import os
import time

import pytest
from dagster import SensorResult, build_sensor_context, instance_for_test

from benchmark_pipeline.candidate import year_inputs_sha256
from benchmark_pipeline.defs.sensors import (
    HASH_TAG,
    evaluate_exports,
    parse_cursor,
    raw_export_sensor,
)
from benchmark_pipeline.ingest import export_files
from benchmark_pipeline_tests.defs.conftest import write_export

EXPORT_A = "respondentid;s_1;s_2\n1;101;1\n2;147;2\n"
EXPORT_B = "respondentid;s_1;s_2\n1;101;1\n2;147;3\n"


@pytest.fixture(scope="module")
def instance():
    """One throwaway instance (creating one takes seconds); no test adds runs to it."""
    with instance_for_test() as instance:
        yield instance


def tick(benchmark_resource, instance, cursor: str | None = None) -> SensorResult:
    context = build_sensor_context(
        instance=instance, cursor=cursor, resources={"benchmark": benchmark_resource}, sensor_name="raw_export_sensor"
    )
    result = raw_export_sensor(context)
    assert isinstance(result, SensorResult)
    return result


def requested_years(result: SensorResult) -> list[str]:
    return [r.partition_key for r in result.run_requests or []]


def test_new_export_requests_its_year_with_the_content_hash_in_run_key_and_cursor(
    scratch_data_dir, benchmark_resource, instance
):
    write_export(scratch_data_dir, 2024, EXPORT_A)
    result = tick(benchmark_resource, instance)
    assert requested_years(result) == ["2024"]
    request = result.run_requests[0]
    digest = year_inputs_sha256(benchmark_resource.settings(), 2024)
    assert digest[:16] in request.run_key and request.run_key.startswith("raw-2024-")
    assert request.tags[HASH_TAG] == digest
    assert request.job_name in (None, "yearly_benchmark")
    assert json.loads(result.cursor) == {"2024": digest}


def test_touched_but_unchanged_export_does_not_run_again(scratch_data_dir, benchmark_resource, instance):
    path = write_export(scratch_data_dir, 2024, EXPORT_A)
    first = tick(benchmark_resource, instance)
    before = path.stat().st_mtime
    stamp = time.time() - 600  # a new mtime (older than the settle time), same bytes
    os.utime(path, (stamp, stamp))
    assert path.stat().st_mtime != before
    second = tick(benchmark_resource, instance, first.cursor)
    assert not second.run_requests
    assert second.skip_reason is not None
    assert second.cursor == first.cursor


def test_changed_export_runs_again_with_a_new_run_key(scratch_data_dir, benchmark_resource, instance):
    write_export(scratch_data_dir, 2024, EXPORT_A)
    first = tick(benchmark_resource, instance)
    write_export(scratch_data_dir, 2024, EXPORT_B)
    second = tick(benchmark_resource, instance, first.cursor)
    assert requested_years(second) == ["2024"]
    assert second.run_requests[0].run_key != first.run_requests[0].run_key
    assert json.loads(second.cursor) == {"2024": year_inputs_sha256(benchmark_resource.settings(), 2024)}


def test_changing_back_to_an_earlier_export_is_a_new_change(scratch_data_dir, benchmark_resource, instance):
    keys, cursor = [], None
    for content in (EXPORT_A, EXPORT_B, EXPORT_A):
        write_export(scratch_data_dir, 2024, content)
        result = tick(benchmark_resource, instance, cursor)
        assert requested_years(result) == ["2024"]
        keys.append(result.run_requests[0].run_key)
        cursor = result.cursor
    assert len(set(keys)) == 3  # Dagster drops a request whose run key it has seen: A->B->A must still run


def test_missing_year_requests_nothing(scratch_data_dir, benchmark_resource, instance):
    # Mapped years 2023-2025 and no raw folder at all.
    result = tick(benchmark_resource, instance)
    assert not result.run_requests
    assert "no new or changed input" in result.skip_reason.skip_message
    assert json.loads(result.cursor) == {}


def test_readme_hidden_and_lock_files_are_not_part_of_the_export(scratch_data_dir, benchmark_resource, instance):
    write_export(scratch_data_dir, 2025, "Eksporten kommer i november", name="README.txt")
    write_export(scratch_data_dir, 2025, "x", name=".DS_Store")
    assert not tick(benchmark_resource, instance).run_requests
    write_export(scratch_data_dir, 2025, EXPORT_A)
    first = tick(benchmark_resource, instance)
    assert requested_years(first) == ["2025"]
    assert json.loads(first.cursor)["2025"] == year_inputs_sha256(benchmark_resource.settings(), 2025)
    write_export(scratch_data_dir, 2025, "Opdateret note", name="README.txt")
    write_export(scratch_data_dir, 2025, "lock", name="~$export.xlsx")
    assert not tick(benchmark_resource, instance, first.cursor).run_requests
    assert [p.name for p in export_files(scratch_data_dir / "raw" / "2025")] == ["export.csv"]


def test_a_file_still_being_copied_waits_for_the_next_tick(scratch_data_dir, benchmark_resource, instance):
    path = write_export(scratch_data_dir, 2024, EXPORT_A, age=0)
    result = tick(benchmark_resource, instance)
    assert not result.run_requests
    assert "waiting for the copy" in result.skip_reason.skip_message
    assert json.loads(result.cursor) == {}  # not recorded, so the settled file runs later
    stamp = time.time() - 120
    os.utime(path, (stamp, stamp))
    assert requested_years(tick(benchmark_resource, instance, result.cursor)) == ["2024"]


def test_unmapped_year_folder_is_ignored(scratch_data_dir, benchmark_resource, instance):
    write_export(scratch_data_dir, 2019, EXPORT_A)
    assert not tick(benchmark_resource, instance).run_requests


def alerts_of(benchmark_resource) -> list[dict]:
    path = benchmark_resource.settings().alerts_file
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def test_two_export_files_are_not_run_and_alert_once_per_content(scratch_data_dir, benchmark_resource, instance):
    write_export(scratch_data_dir, 2024, EXPORT_A, name="a.csv")
    write_export(scratch_data_dir, 2024, EXPORT_B, name="b.csv")
    first = tick(benchmark_resource, instance)
    assert not first.run_requests
    assert "several export files (a.csv, b.csv)" in first.skip_reason.skip_message
    [alert] = alerts_of(benchmark_resource)
    assert alert["kind"] == "unusable_input" and alert["survey_year"] == 2024 and alert["exit_code"] == 2
    assert "a.csv, b.csv" in alert["message"]
    again = tick(benchmark_resource, instance, first.cursor)  # same content: no second alert
    assert not again.run_requests and len(alerts_of(benchmark_resource)) == 1
    (scratch_data_dir / "raw" / "2024" / "b.csv").unlink()  # the fix is what runs the year
    fixed = tick(benchmark_resource, instance, again.cursor)
    assert requested_years(fixed) == ["2024"]
    assert len(alerts_of(benchmark_resource)) == 1


def test_a_changed_mapping_runs_its_year_again(scratch_data_dir, benchmark_resource, instance):
    write_export(scratch_data_dir, 2024, EXPORT_A)
    first = tick(benchmark_resource, instance)
    mapping = scratch_data_dir / "instrument" / "2024.yaml"
    mapping.write_text(mapping.read_text(encoding="utf-8") + "# corrected a label\n", encoding="utf-8")
    second = tick(benchmark_resource, instance, first.cursor)
    assert requested_years(second) == ["2024"]
    assert second.run_requests[0].run_key != first.run_requests[0].run_key


def test_a_broken_mapping_alerts_and_its_fix_runs_the_year(scratch_data_dir, benchmark_resource, instance):
    """Adding a year by copying last year's mapping and forgetting its survey_year, then fixing it."""
    mapping = scratch_data_dir / "instrument" / "2024.yaml"
    good = mapping.read_text(encoding="utf-8")
    mapping.write_text(good.replace("survey_year: 2024", "survey_year: 2023"), encoding="utf-8")
    write_export(scratch_data_dir, 2024, EXPORT_A)
    broken = tick(benchmark_resource, instance)
    assert not broken.run_requests
    assert "survey_year is 2023, expected 2024" in broken.skip_reason.skip_message
    assert [a["survey_year"] for a in alerts_of(benchmark_resource)] == [2024]
    mapping.write_text(good, encoding="utf-8")
    assert requested_years(tick(benchmark_resource, instance, broken.cursor)) == ["2024"]


def test_a_changed_reference_file_runs_every_year_with_an_export(scratch_data_dir, benchmark_resource, instance):
    write_export(scratch_data_dir, 2023, EXPORT_A)
    write_export(scratch_data_dir, 2024, EXPORT_B)
    first = tick(benchmark_resource, instance)
    assert requested_years(first) == ["2023", "2024"]  # their runs order themselves (defs/ordering.py)
    reference = scratch_data_dir / "reference" / "kommuner.csv"
    reference.write_bytes(reference.read_bytes() + b"\n")
    assert requested_years(tick(benchmark_resource, instance, first.cursor)) == ["2023", "2024"]


def test_evaluation_is_independent_of_listing_order_and_mtime(scratch_data_dir, scratch_settings):
    write_export(scratch_data_dir, 2024, EXPORT_A)
    first = evaluate_exports(scratch_settings, {})
    again = evaluate_exports(scratch_settings, {}, now=time.time() + 10_000)
    assert first.cursor == again.cursor


def test_cursor_parsing_tolerates_garbage():
    assert parse_cursor(None) == {}
    assert parse_cursor("not json") == {}
    assert parse_cursor("[1, 2]") == {}
    assert parse_cursor('{"2024": "abc"}') == {"2024": "abc"}


def test_sensor_is_registered_on_the_yearly_job(tmp_path):
    from benchmark_pipeline.defs.build import build_definitions
    from benchmark_pipeline.settings import Settings

    defs = build_definitions(Settings.from_env(output_dir=tmp_path))
    sensor = defs.resolve_sensor_def("raw_export_sensor")
    assert sensor.job_name == "yearly_benchmark"
    assert defs.resolve_sensor_def("benchmark_run_failure_sensor") is not None


def test_shipped_sample_exports_run_oldest_year_first(data_dir, tmp_path):
    """On the real sample exports (SurveyXact xlsx and csv, Microsoft Forms): every year, once."""
    from benchmark_pipeline.settings import Settings

    settings = Settings.from_env(environ={}, data_dir=data_dir, output_dir=tmp_path)
    evaluation = evaluate_exports(settings, {}, settle_seconds=0)
    assert [r.partition_key for r in evaluation.run_requests] == ["2023", "2024", "2025"]
    assert not evaluation.alerts
    everything_done = {str(y): year_inputs_sha256(settings, y) for y in (2023, 2024, 2025)}
    assert not evaluate_exports(settings, everything_done, settle_seconds=0).run_requests
