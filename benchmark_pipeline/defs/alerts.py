"""Alerts: what the run-failure sensor records about a failed run, the warning a year published without
its quarantined rows raises, and where they go.

Every alert goes to three places, in this order:
1. a structured log line (one JSON object) on the `benchmark_pipeline.alerts` logger and the sensor's log;
2. one line appended to `<output-dir>/alerts/alerts.jsonl` (the durable record the ops team reads);
3. optionally a JSON POST to the URL in `BENCHMARK_ALERT_WEBHOOK_URL` (a chat or incident webhook), with a
   short timeout. A webhook that cannot be reached is logged, never raised: an alert must not fail the
   sensor, and the file already holds it.

Alerts carry run ids, step keys and the failure messages (which name files, rows and columns, never
respondents' answers); messages are cut to `MAX_MESSAGE_CHARS`.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dagster import DagsterEventType, DagsterInstance, DagsterRun

from benchmark_pipeline.defs.failures import INPUT_MISSING, step_exit_code
from benchmark_pipeline.defs.tags import BACKFILL_TAG, PARTITION_TAG, TRIGGER_TAG
from benchmark_pipeline.errors import EXIT_CONTENT, EXIT_ENVIRONMENT, EXIT_INPUT, EXIT_OK

WEBHOOK_TIMEOUT_SECONDS = 5.0
ALERT_TITLES = {
    "run_failure": "benchmark run failed",
    "unusable_input": "benchmark input unusable",
    "quarantine_warning": "benchmark published with quarantined rows",
}
MAX_MESSAGE_CHARS = 1000

logger = logging.getLogger("benchmark_pipeline.alerts")


def _cut(text: str | None) -> str:
    text = (text or "").strip()
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def _step_failures(instance: DagsterInstance, run_id: str) -> list[dict[str, Any]]:
    """Each failed step with its message and exit code (the CLI's codes: domain failures carry theirs)."""
    steps = []
    for record in instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE):
        event = record.dagster_event
        data = event.step_failure_data
        user = data.user_failure_data if data is not None else None
        if user is not None:
            message = user.description or "the step failed"
        else:
            error = data.error if data is not None else None
            message = _error_text(error) if error is not None else (event.message or "unknown error")
            if error is not None and error.cls_name == INPUT_MISSING:
                message = (f"{message}. The step's stored input is missing: materialise the whole year "
                           "(Materialize all, that partition) instead of this step alone")
        code = step_exit_code(data)
        steps.append({"step_key": event.step_key, "exit_code": code, "message": _cut(message)})
    return steps


def _error_text(error) -> str:
    """The error's first line and its root cause (Dagster wraps the real exception, e.g. a FileNotFoundError)."""
    first = error.message.strip().splitlines()[0] if error.message.strip() else error.cls_name or "error"
    root = error
    while root.cause is not None:
        root = root.cause
    if root is error:
        return first
    cause = root.message.strip().splitlines()[0] if root.message.strip() else root.cls_name or ""
    return f"{first} caused by {cause}"


def _failed_checks(instance: DagsterInstance, run_id: str) -> list[dict[str, Any]]:
    """Failed checks of ERROR severity (the ones that stop a year); WARN checks are for the UI, not alerts."""
    checks = []
    for record in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = record.dagster_event.event_specific_data
        if evaluation.passed or evaluation.severity.value != "ERROR":
            continue
        checks.append(
            {
                "asset": evaluation.asset_key.to_user_string(),
                "check": evaluation.check_name,
                "severity": evaluation.severity.value,
                "message": _cut(evaluation.description),
            }
        )
    return checks


def build_alert(instance: DagsterInstance, run: DagsterRun, failure_message: str | None = None) -> dict[str, Any]:
    """The alert for a failed run: who, what, which year, which steps and checks, and the exit code."""
    steps = _step_failures(instance, run.run_id)
    checks = _failed_checks(instance, run.run_id)
    codes = [s["exit_code"] for s in steps] + ([EXIT_CONTENT] if checks else [])
    partition = run.tags.get(PARTITION_TAG)
    return {
        "kind": "run_failure",
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "run_id": run.run_id,
        "job_name": run.job_name,
        "partition": partition,
        "survey_year": int(partition) if partition and partition.isdigit() else None,
        "exit_code": max(codes) if codes else EXIT_ENVIRONMENT,
        "message": _cut(failure_message),
        "failed_steps": steps,
        "failed_checks": checks,
        "trigger": trigger_of(run),
    }


def trigger_of(run: DagsterRun) -> str:
    """What started the run: the pipeline's own tag, a sensor, a schedule, a backfill, else an analyst."""
    tags = run.tags
    if tags.get(TRIGGER_TAG):
        return tags[TRIGGER_TAG]
    if tags.get(BACKFILL_TAG):
        return f"backfill {tags[BACKFILL_TAG]}"
    return tags.get("dagster/sensor_name") or tags.get("dagster/schedule_name") or "manual"


def unusable_input_alert(survey_year: int, message: str, inputs_sha256: str) -> dict[str, Any]:
    """The alert for a drop the sensor cannot run (two export files, a broken mapping): no run to look at,
    so the message is what to fix; one per distinct content of the year's inputs."""
    return {
        "kind": "unusable_input",
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "survey_year": survey_year,
        "exit_code": EXIT_INPUT,
        "message": _cut(message),
        "inputs_sha256": inputs_sha256,
        "trigger": "raw_export_sensor",
    }


def quarantine_warning(run_id: str, candidate, release_id: str, quarantine_dir: Path) -> dict[str, Any]:
    """The warning for a year published without some of its rows: someone should fix the export (exit 0)."""
    return {
        "kind": "quarantine_warning",
        "severity": "warning",
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "run_id": run_id,
        "survey_year": candidate.survey_year,
        "release_id": release_id,
        "exit_code": EXIT_OK,
        "rows_quarantined": candidate.rows_quarantined,
        "message": _cut(
            f"{candidate.survey_year} was published as {release_id} without {candidate.rows_quarantined} "
            f"quarantined row(s) of {candidate.export.files[0].name if candidate.export.files else 'the export'}; "
            f"the rows and their reasons are in {quarantine_dir}: fix the export and drop it in again"
        ),
    }


def append_alert(path: Path, alert: dict[str, Any]) -> Path:
    """Append the alert as one JSON line (a single write in append mode, so concurrent writers don't interleave)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(alert, ensure_ascii=False, sort_keys=True) + "\n"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())
    return path


def _where(url: str) -> str:
    """The webhook's scheme and host only: its path and query often hold a secret token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}{':' + str(parts.port) if parts.port else ''}"


def post_webhook(url: str, alert: dict[str, Any], timeout: float = WEBHOOK_TIMEOUT_SECONDS) -> bool:
    """POST the alert as JSON; True when the receiver answered 2xx. Never raises."""
    body = json.dumps(alert, ensure_ascii=False).encode("utf-8")
    try:
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            ok = 200 <= response.status < 300
            if not ok:
                logger.warning("alert webhook %s answered HTTP %s", _where(url), response.status)
            return ok
    except urllib.error.HTTPError as exc:
        logger.warning("alert webhook %s answered HTTP %s; the alert is in alerts.jsonl", _where(url), exc.code)
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        logger.warning("alert webhook %s not delivered (%s); the alert is in alerts.jsonl", _where(url), reason)
    return False


def record_alert(
    alert: dict[str, Any],
    alerts_file: Path,
    webhook_url: str | None = None,
    log: Any = None,
    timeout: float = WEBHOOK_TIMEOUT_SECONDS,
) -> dict[str, Any]:
    """Log, append to `alerts_file` and, given a webhook URL, POST one alert. Returns where it went."""
    line = json.dumps(alert, ensure_ascii=False, sort_keys=True)
    what = ALERT_TITLES.get(alert.get("kind"), "benchmark run failed")
    level = logging.WARNING if alert.get("severity") == "warning" else logging.ERROR
    logger.log(level, "%s: %s", what, line)
    if log is not None:
        (log.warning if level == logging.WARNING else log.error)(f"{what}: {line}")
    path = append_alert(alerts_file, alert)
    delivered = post_webhook(webhook_url, alert, timeout=timeout) if webhook_url else None
    return {"file": str(path), "webhook_delivered": delivered}
