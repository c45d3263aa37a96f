"""Sensors: run a survey year when its export arrives or changes, and alert when a run fails.

`raw_export_sensor` watches `<data-dir>/raw/<year>/` for every year with a mapping file. A year is run when
its export's content hash (`candidate.ExportIdentity`, the same hash as the raw asset's data version and
the release fingerprint's input; README*, hidden and `~$` Office lock files ignored, exactly the files
`find_export` ignores) differs from the hash the cursor holds for it. The cursor is JSON,
`{"<year>": "<sha256>"}`, so touching a file without changing it does not run anything. The run key holds
the year, the new hash and the previous one, so a run is requested once per change, also when an export is
changed back to an earlier content.

Years depend on each other (year t compares with t-1's latest release), so the sensor holds a changed year
while an earlier year is requested in the same tick or still queued/running; it requests it on a later tick.
Files modified less than `SETTLE_SECONDS` ago are still being copied: the year waits for the next tick.

`benchmark_run_failure_sensor` records an alert for every failed run in this code location (the yearly job
and the runs the UI launches when an analyst clicks Materialize): see `benchmark_pipeline.defs.alerts`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    run_failure_sensor,
    sensor,
)

from benchmark_pipeline.candidate import ExportIdentity
from benchmark_pipeline.defs.alerts import build_alert, record_alert
from benchmark_pipeline.defs.jobs import yearly_benchmark_job
from benchmark_pipeline.defs.partitions import survey_years
from benchmark_pipeline.defs.resources import BenchmarkSettings
from benchmark_pipeline.ingest import export_files
from benchmark_pipeline.instrument import mapped_years
from benchmark_pipeline.publication import has_export
from benchmark_pipeline.defs.tags import HASH_TAG, TRIGGER_TAG
from benchmark_pipeline.settings import Settings

SENSOR_INTERVAL_SECONDS = 60
SETTLE_SECONDS = 30.0
ACTIVE_STATUSES = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
]


def parse_cursor(cursor: str | None) -> dict[str, str]:
    if not cursor:
        return {}
    try:
        value = json.loads(cursor)
    except json.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


@dataclass
class Evaluation:
    """One tick's decision: the runs to request, the new cursor and what was left alone and why."""

    run_requests: list[RunRequest] = field(default_factory=list)
    cursor: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def skip_reason(self) -> str:
        return "; ".join(self.notes) if self.notes else "no new or changed export in any mapped year"


def evaluate_exports(
    settings: Settings,
    cursor: dict[str, str],
    active_years: set[int] = frozenset(),
    now: float | None = None,
    settle_seconds: float = SETTLE_SECONDS,
) -> Evaluation:
    """Decide which years to run: changed content, settled files, a valid export, no earlier year pending."""
    now = time.time() if now is None else now
    result = Evaluation(cursor=dict(cursor))
    partition_keys = set(survey_years.get_partition_keys())
    blocked_from: int | None = min(active_years) if active_years else None
    for year in mapped_years(settings.data_dir):
        key = str(year)
        files = export_files(settings.raw_dir(year))
        if not files:
            continue  # no export (yet) for this year: nothing to do, and nothing to say every minute
        if any(now - p.stat().st_mtime < settle_seconds for p in files):
            result.notes.append(f"{year}: files changed in the last {settle_seconds:.0f} s, waiting for the copy to finish")
            blocked_from = year if blocked_from is None else min(blocked_from, year)
            continue
        digest = ExportIdentity.of(files).sha256
        previous = cursor.get(key)
        if digest == previous:
            continue
        if key not in partition_keys:
            result.notes.append(f"{year}: has an export but is not a partition of survey_years yet")
            continue
        if not has_export(settings, year):
            result.notes.append(
                f"{year}: {settings.raw_dir(year)} changed but holds no usable export "
                "(exactly one .xlsx/.csv/.tsv/.txt expected; check it with benchmark-pipeline check)"
            )
            continue
        if blocked_from is not None and blocked_from < year:
            result.notes.append(f"{year}: changed, waiting for survey year {blocked_from} to finish first")
            continue
        result.run_requests.append(
            RunRequest(
                run_key=f"raw-{year}-{digest[:16]}-after-{(previous or 'none')[:16]}",
                partition_key=key,
                tags={TRIGGER_TAG: "raw_export_sensor", HASH_TAG: digest},
            )
        )
        result.cursor[key] = digest
        blocked_from = year if blocked_from is None else min(blocked_from, year)
    return result


def active_survey_years(context: SensorEvaluationContext) -> set[int]:
    """Years with a queued or running run in this instance (any job: also the UI's Materialize runs)."""
    try:
        instance = context.instance
    except Exception:  # build_sensor_context() without an instance: nothing can be running
        return set()
    years = set()
    for run in instance.get_runs(filters=RunsFilter(statuses=ACTIVE_STATUSES)):
        partition = run.tags.get("dagster/partition", "")
        if partition.isdigit():
            years.add(int(partition))
    return years


@sensor(
    name="raw_export_sensor",
    job=yearly_benchmark_job,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=DefaultSensorStatus.STOPPED,
    description=(
        "Runs a survey year when its export in data/raw/<year>/ is new or its content changed "
        "(SHA-256 per year in the cursor; touching a file does not re-run). Turn on in production."
    ),
)
def raw_export_sensor(context: SensorEvaluationContext, benchmark: BenchmarkSettings):
    settings = benchmark.settings()
    evaluation = evaluate_exports(settings, parse_cursor(context.cursor), active_survey_years(context))
    for note in evaluation.notes:
        context.log.info(note)
    for request in evaluation.run_requests:
        context.log.info(f"requesting survey year {request.partition_key} (export {request.tags[HASH_TAG][:12]})")
    cursor = json.dumps(evaluation.cursor, sort_keys=True)
    if evaluation.run_requests:
        return SensorResult(run_requests=evaluation.run_requests, cursor=cursor)
    return SensorResult(skip_reason=evaluation.skip_reason, cursor=cursor)


@run_failure_sensor(
    name="benchmark_run_failure_sensor",
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description=(
        "Records an alert for every failed run: a JSON log line, <output-dir>/alerts/alerts.jsonl and, "
        "when BENCHMARK_ALERT_WEBHOOK_URL is set, a JSON POST to that URL."
    ),
)
def benchmark_run_failure_sensor(context: RunFailureSensorContext, benchmark: BenchmarkSettings):
    alert = build_alert(context.instance, context.dagster_run, context.failure_event.message)
    settings = benchmark.settings()
    record_alert(alert, settings.alerts_file, webhook_url=settings.alert_webhook_url, log=context.log)

