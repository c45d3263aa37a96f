"""The raw-export sensor: new, changed, touched-but-unchanged and missing exports, through a real sensor context."""

from __future__ import annotations

import json
import os
import time
import uuid

import pytest
from dagster import DagsterRun, DagsterRunStatus, SensorResult, build_sensor_context, instance_for_test

from benchmark_pipeline.candidate import ExportIdentity
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
    path = write_export(scratch_data_dir, 2024, EXPORT_A)
    result = tick(benchmark_resource, instance)
    assert requested_years(result) == ["2024"]
    request = result.run_requests[0]
    digest = ExportIdentity.of([path]).sha256
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
    path = write_export(scratch_data_dir, 2024, EXPORT_B)
    second = tick(benchmark_resource, instance, first.cursor)
    assert requested_years(second) == ["2024"]
    assert second.run_requests[0].run_key != first.run_requests[0].run_key
    assert json.loads(second.cursor) == {"2024": ExportIdentity.of([path]).sha256}


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
    assert "no new or changed export" in result.skip_reason.skip_message
    assert json.loads(result.cursor) == {}


def test_readme_hidden_and_lock_files_are_not_part_of_the_export(scratch_data_dir, benchmark_resource, instance):
    write_export(scratch_data_dir, 2025, "Eksporten kommer i november", name="README.txt")
    write_export(scratch_data_dir, 2025, "x", name=".DS_Store")
    assert not tick(benchmark_resource, instance).run_requests
    export = write_export(scratch_data_dir, 2025, EXPORT_A)
    first = tick(benchmark_resource, instance)
    assert requested_years(first) == ["2025"]
    assert json.loads(first.cursor)["2025"] == ExportIdentity.of([export]).sha256
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


def test_two_export_files_are_reported_not_run(scratch_data_dir, benchmark_resource, instance):
    write_export(scratch_data_dir, 2024, EXPORT_A, name="a.csv")
    write_export(scratch_data_dir, 2024, EXPORT_B, name="b.csv")
    result = tick(benchmark_resource, instance)
    assert not result.run_requests
    assert "no usable export" in result.skip_reason.skip_message
    assert json.loads(result.cursor) == {}


def test_later_year_waits_for_an_earlier_year_requested_in_the_same_tick(
    scratch_data_dir, benchmark_resource, instance
):
    write_export(scratch_data_dir, 2023, EXPORT_A)
    write_export(scratch_data_dir, 2024, EXPORT_B)
    first = tick(benchmark_resource, instance)
    assert requested_years(first) == ["2023"]
    assert set(json.loads(first.cursor)) == {"2023"}
    second = tick(benchmark_resource, instance, first.cursor)  # 2023's run finished: nothing active
    assert requested_years(second) == ["2024"]


def test_later_year_waits_while_an_earlier_year_is_running(scratch_data_dir, benchmark_resource):
    write_export(scratch_data_dir, 2024, EXPORT_B)
    with instance_for_test() as instance:
        _later_year_waits(benchmark_resource, instance)


def _later_year_waits(benchmark_resource, instance):
    instance.add_run(
        DagsterRun(
            job_name="yearly_benchmark",
            run_id=str(uuid.uuid4()),
            status=DagsterRunStatus.STARTED,  # a QUEUED run needs a remote origin; both count as active
            tags={"dagster/partition": "2023"},
        )
    )
    result = tick(benchmark_resource, instance)
    assert not result.run_requests
    assert "waiting for survey year 2023" in result.skip_reason.skip_message


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
    """On the real sample exports (SurveyXact xlsx and csv, Microsoft Forms): 2023 first, the rest held."""
    from benchmark_pipeline.settings import Settings

    settings = Settings.from_env(environ={}, data_dir=data_dir, output_dir=tmp_path)
    evaluation = evaluate_exports(settings, {}, settle_seconds=0)
    assert [r.partition_key for r in evaluation.run_requests] == ["2023"]
    assert any("waiting for survey year 2023" in note for note in evaluation.notes)
    everything_done = {str(y): ExportIdentity.of(export_files(settings.raw_dir(y))).sha256 for y in (2023, 2024, 2025)}
    assert not evaluate_exports(settings, everything_done, settle_seconds=0).run_requests
