"""Years publish oldest first: a year's comparison waits for the runs still publishing the year before."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from dagster import AssetKey, DagsterRun, DagsterRunStatus, instance_for_test

from benchmark_pipeline.defs.ordering import publishes, runs_publishing, wait_for_year
from benchmark_pipeline.errors import PipelineError


@pytest.fixture
def instance():
    with instance_for_test() as instance:
        yield instance


def add_run(instance, year: int, status=DagsterRunStatus.STARTED, assets=None) -> DagsterRun:
    run = DagsterRun(
        job_name="__ASSET_JOB", run_id=str(uuid.uuid4()), status=status,
        tags={"dagster/partition": str(year)}, asset_selection=assets,
    )
    instance.add_run(run)
    return run


def finish_later(instance, run: DagsterRun, status: DagsterRunStatus, after: float = 0.3) -> threading.Thread:
    def finish():
        time.sleep(after)
        instance.run_storage.handle_run_event(run.run_id, _event(run, status))

    thread = threading.Thread(target=finish)
    thread.start()
    return thread


def _event(run: DagsterRun, status: DagsterRunStatus):
    from dagster import DagsterEvent, DagsterEventType

    kind = DagsterEventType.RUN_SUCCESS if status == DagsterRunStatus.SUCCESS else DagsterEventType.RUN_FAILURE
    return DagsterEvent(event_type_value=kind.value, job_name=run.job_name)


def test_only_runs_of_that_year_that_publish_are_waited_for(instance):
    whole = add_run(instance, 2023)
    add_run(instance, 2023, assets=frozenset({AssetKey("raw_survey_responses")}))  # an analyst's partial run
    add_run(instance, 2024)
    add_run(instance, 2023, status=DagsterRunStatus.FAILURE)  # over: nothing to wait for
    assert [run.run_id for run in runs_publishing(instance, 2023)] == [whole.run_id]
    assert runs_publishing(instance, 2023, exclude_run_id=whole.run_id) == []
    assert publishes(DagsterRun(job_name="yearly_benchmark", run_id="x", asset_selection=None))


def test_nothing_in_progress_returns_at_once(instance):
    said = []
    started = time.monotonic()
    wait_for_year(instance, 2023, "this-run", said.append)
    assert time.monotonic() - started < 1 and said == []


def test_waits_until_the_earlier_years_run_succeeded(instance):
    run = add_run(instance, 2023)
    said = []
    thread = finish_later(instance, run, DagsterRunStatus.SUCCESS)
    started = time.monotonic()
    wait_for_year(instance, 2023, "this-run", said.append, poll_seconds=0.05)
    thread.join()
    assert time.monotonic() - started >= 0.3
    assert run.run_id in said[0] and "survey year 2023" in said[0]


def test_a_failed_earlier_year_stops_the_later_one_naming_the_run(instance):
    run = add_run(instance, 2023)
    thread = finish_later(instance, run, DagsterRunStatus.FAILURE)
    with pytest.raises(PipelineError) as raised:
        wait_for_year(instance, 2023, "this-run", lambda _: None, poll_seconds=0.05)
    thread.join()
    assert f"run {run.run_id} ended FAILURE" in str(raised.value)
    assert "fix 2023" in str(raised.value) and raised.value.exit_code == 1


def test_a_stuck_earlier_year_gives_up_with_what_to_do(instance):
    add_run(instance, 2023)
    with pytest.raises(PipelineError, match="still being published .* run survey year 2024 again"):
        wait_for_year(instance, 2023, "this-run", lambda _: None, limit_seconds=0.2, poll_seconds=0.05)
