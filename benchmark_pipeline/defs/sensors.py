"""Sensors: run a survey year when any of its inputs arrives or changes, and alert when a run fails.

`raw_export_sensor` watches every year with a mapping file. A year is run when the hash of its inputs
(`candidate.year_inputs_sha256`: the export's content hash, which is also the raw asset's data version
and the fingerprint's input, plus the year's mapping, the question registry and the reference files;
README*, hidden and `~$` Office lock files ignored, exactly the files `find_export` ignores) differs from
the hash the cursor holds for it. Fixing a mapping therefore runs the year again, as does a new export.
The cursor is JSON, `{"<year>": "<sha256>"}`, so touching a file without changing it does not run
anything. The run key holds the year, the new hash and the previous one, so a run is requested once per
change, also when the inputs are changed back to an earlier content.

A drop that cannot be run (several export files, a mapping that does not load) is not requested: the tick
is skipped with the reason and one alert is recorded per distinct content (the same channels as a failed
run), so fixing the drop is what runs it. Files modified less than `SETTLE_SECONDS` ago are still being
copied: the year waits for the next tick. Several years may be requested at once: their runs publish
oldest first by themselves (`defs/ordering.py`).

`benchmark_run_failure_sensor` records an alert for every failed run in this code location (the yearly job
and the runs the UI launches when an analyst clicks Materialize): see `benchmark_pipeline.defs.alerts`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from dagster import (
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    run_failure_sensor,
    sensor,
)

from benchmark_pipeline.candidate import year_inputs_sha256
from benchmark_pipeline.defs.alerts import build_alert, record_alert, unusable_input_alert
from benchmark_pipeline.defs.jobs import yearly_benchmark_job
from benchmark_pipeline.defs.partitions import survey_years
from benchmark_pipeline.defs.resources import BenchmarkSettings
from benchmark_pipeline.defs.tags import HASH_TAG, TRIGGER_TAG
from benchmark_pipeline.ingest import ExportNotFoundError, export_files, find_export
from benchmark_pipeline.instrument import InstrumentError, load_year, mapped_years
from benchmark_pipeline.settings import Settings

SENSOR_INTERVAL_SECONDS = 60
SETTLE_SECONDS = 30.0


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
    """One tick's decision: the runs to request, the unusable drops to alert, the new cursor and the notes."""

    run_requests: list[RunRequest] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)
    cursor: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def skip_reason(self) -> str:
        return "; ".join(self.notes) if self.notes else "no new or changed input in any mapped year"


def unusable_reason(settings: Settings, survey_year: int) -> str | None:
    """Why the year's drop cannot be run as it is (the same words a run would fail with), or None."""
    try:
        load_year(settings.data_dir, survey_year)
        find_export(settings.raw_dir(survey_year))
    except (InstrumentError, ExportNotFoundError) as exc:
        return f"{exc} (nothing was run; check the export with: benchmark-pipeline check)"
    return None


def evaluate_exports(
    settings: Settings,
    cursor: dict[str, str],
    now: float | None = None,
    settle_seconds: float = SETTLE_SECONDS,
) -> Evaluation:
    """Decide which years to run: changed inputs, settled files, a drop that can be run."""
    now = time.time() if now is None else now
    result = Evaluation(cursor=dict(cursor))
    partition_keys = set(survey_years.get_partition_keys())
    for year in mapped_years(settings.data_dir):
        key = str(year)
        files = export_files(settings.raw_dir(year))
        if not files:
            continue  # no export (yet) for this year: nothing to do, and nothing to say every minute
        if any(now - p.stat().st_mtime < settle_seconds for p in files):
            result.notes.append(f"{year}: files changed in the last {settle_seconds:.0f} s, waiting for the copy to finish")
            continue
        digest = year_inputs_sha256(settings, year)
        previous = cursor.get(key)
        if digest == previous:
            continue
        if key not in partition_keys:
            result.notes.append(f"{year}: has an export but is not a partition of survey_years yet")
            continue
        result.cursor[key] = digest
        reason = unusable_reason(settings, year)
        if reason is not None:
            result.notes.append(f"{year}: {reason}")
            result.alerts.append(unusable_input_alert(year, reason, digest))
            continue
        result.run_requests.append(
            RunRequest(
                run_key=f"raw-{year}-{digest[:16]}-after-{(previous or 'none')[:16]}",
                partition_key=key,
                tags={TRIGGER_TAG: "raw_export_sensor", HASH_TAG: digest},
            )
        )
    return result


@sensor(
    name="raw_export_sensor",
    job=yearly_benchmark_job,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=DefaultSensorStatus.STOPPED,
    description=(
        "Runs a survey year when its export in data/raw/<year>/, its mapping or the reference files are new "
        "or changed (SHA-256 per year in the cursor; touching a file does not re-run); alerts once on a drop "
        "that cannot be run. Turn on in production."
    ),
)
def raw_export_sensor(context: SensorEvaluationContext, benchmark: BenchmarkSettings):
    settings = benchmark.settings()
    evaluation = evaluate_exports(settings, parse_cursor(context.cursor))
    for note in evaluation.notes:
        context.log.info(note)
    for alert in evaluation.alerts:
        record_alert(alert, settings.alerts_file, webhook_url=settings.alert_webhook_url, log=context.log)
    for request in evaluation.run_requests:
        context.log.info(f"requesting survey year {request.partition_key} (inputs {request.tags[HASH_TAG][:12]})")
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

