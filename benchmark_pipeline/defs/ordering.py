"""Survey years publish oldest first, however their runs were launched.

Year t is compared with year t-1's latest published release and its reports show every earlier year, so
t's comparison must not start before a run still publishing t-1 has ended. Dagster cannot order this by
asset dependencies (t-1's `published_release` is downstream of t's `comparison_base` in the asset graph:
a cycle), so a backfill launches every year at once and `comparison_base` waits here for runs of t-1 that
are queued or in progress on the same instance. Ingestion, validation and indicators of the years run in
parallel meanwhile; only comparing and publishing are ordered. t-1 waited for t-2 in turn, so when t goes
on every earlier year that has an export is published (or its failure is named).

On the Celery profile the waiting step sleeps on a worker slot, so the workers need more slots than the
run queue's `max_concurrent_runs` (docs/operations.md "Years in parallel").
"""

from __future__ import annotations

import time
from collections.abc import Callable

from dagster import AssetKey, DagsterInstance, DagsterRun, DagsterRunStatus, RunsFilter

from benchmark_pipeline.defs.tags import PARTITION_TAG
from benchmark_pipeline.errors import EXIT_CONTENT, PipelineError

IN_PROGRESS = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
]
PUBLISHED_RELEASE = AssetKey("published_release")
# A year's run takes about a minute at a million respondents (docs/performance.md); an hour is a stuck run.
WAIT_LIMIT_SECONDS = 3600.0
POLL_SECONDS = 2.0


def publishes(run: DagsterRun) -> bool:
    """Whether the run materialises `published_release` (a run with no asset selection runs the whole job)."""
    return run.asset_selection is None or PUBLISHED_RELEASE in run.asset_selection


def runs_publishing(instance: DagsterInstance, survey_year: int, exclude_run_id: str = "") -> list[DagsterRun]:
    """Runs queued or in progress that will publish the survey year."""
    runs = instance.get_runs(filters=RunsFilter(statuses=IN_PROGRESS, tags={PARTITION_TAG: str(survey_year)}))
    return [run for run in runs if run.run_id != exclude_run_id and publishes(run)]


def wait_for_year(
    instance: DagsterInstance,
    survey_year: int,
    current_run_id: str,
    log: Callable[[str], None],
    limit_seconds: float = WAIT_LIMIT_SECONDS,
    poll_seconds: float = POLL_SECONDS,
) -> None:
    """Return once no run is publishing the survey year; raise when one ended without success or it takes too long.

    A failed earlier year is named with its run, so the backfill says exactly what to fix, and the later
    year fails at once instead of comparing with an older release.
    """
    pending = runs_publishing(instance, survey_year, current_run_id)
    if not pending:
        return
    ids = ", ".join(run.run_id for run in pending)
    log(f"waiting for the run(s) publishing survey year {survey_year} ({ids}) to finish before comparing with it")
    deadline = time.monotonic() + limit_seconds
    while True:
        time.sleep(poll_seconds)
        finished = [instance.get_run_by_id(run.run_id) for run in pending]
        if all(run is None or run.is_finished for run in finished):
            break
        if time.monotonic() > deadline:
            raise PipelineError(
                f"survey year {survey_year} is still being published by run(s) {ids} after "
                f"{limit_seconds / 60:.0f} minutes; once they have finished, run survey year {survey_year + 1} again",
                EXIT_CONTENT,
            )
    failed = [run for run in finished if run is not None and run.status != DagsterRunStatus.SUCCESS]
    if failed:
        run = failed[0]
        raise PipelineError(
            f"survey year {survey_year} did not publish (run {run.run_id} ended {run.status.value}), so survey "
            f"year {survey_year + 1} cannot be compared with it: fix {survey_year} (see that run and its alert), "
            f"then run {survey_year} and {survey_year + 1} again (or launch the backfill again)",
            EXIT_CONTENT,
        )
