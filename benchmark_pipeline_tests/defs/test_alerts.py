"""Failure alerts: the JSON line, the alerts file and the webhook, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from dagster import (
    DagsterRun,
    AssetCheckResult,
    AssetCheckSeverity,
    DagsterEventType,
    Failure,
    MetadataValue,
    asset,
    asset_check,
    build_run_status_sensor_context,
    instance_for_test,
    job,
    materialize,
    op,
)

from benchmark_pipeline.defs.alerts import post_webhook, record_alert
from benchmark_pipeline.defs.resources import BenchmarkSettings
from benchmark_pipeline.defs.sensors import benchmark_run_failure_sensor

from .conftest import write_export


class Receiver:
    """A real HTTP server in a thread that records what it is sent and answers with `status`."""

    def __init__(self, status: int = 200, delay: float = 0.0):
        self.status, self.delay, self.received = status, delay, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append({"path": self.path, "type": self.headers.get("Content-Type"), "body": body})
                time.sleep(receiver.delay)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/benchmark?token=s3cret"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


ALERTS = "alerts.jsonl"
ALERT = {"kind": "run_failure", "run_id": "abc", "survey_year": 2024, "exit_code": 2, "message": "Ærø: no export"}


def test_webhook_receives_the_alert_as_json():
    with Receiver() as receiver:
        assert post_webhook(receiver.url, ALERT) is True
    [request] = receiver.received
    assert request["path"] == "/hooks/benchmark?token=s3cret"
    assert request["type"].startswith("application/json")
    assert json.loads(request["body"].decode("utf-8")) == ALERT


def test_record_alert_writes_one_json_line_per_alert_and_posts(tmp_path, caplog):
    with Receiver() as receiver, caplog.at_level(logging.ERROR, logger="benchmark_pipeline.alerts"):
        first = record_alert(ALERT, tmp_path / ALERTS, webhook_url=receiver.url)
        record_alert({**ALERT, "run_id": "def"}, tmp_path / ALERTS, webhook_url=receiver.url)
    assert first == {"file": str((tmp_path / ALERTS)), "webhook_delivered": True}
    lines = (tmp_path / ALERTS).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["run_id"] for line in lines] == ["abc", "def"]
    assert len(receiver.received) == 2
    logged = [r.getMessage() for r in caplog.records if r.name == "benchmark_pipeline.alerts"]
    assert any('"run_id": "abc"' in m for m in logged)  # the structured line


def test_webhook_error_status_is_logged_not_raised_and_the_file_still_has_the_alert(tmp_path, caplog):
    with Receiver(status=500) as receiver, caplog.at_level(logging.WARNING, logger="benchmark_pipeline.alerts"):
        outcome = record_alert(ALERT, tmp_path / ALERTS, webhook_url=receiver.url)
    assert outcome["webhook_delivered"] is False
    assert (tmp_path / ALERTS).is_file()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("HTTP 500" in w for w in warnings)
    assert not any("s3cret" in w for w in warnings)  # the URL's token is never logged


def test_unreachable_webhook_is_logged_not_raised(tmp_path, caplog):
    url = f"http://127.0.0.1:{free_port()}/hook"
    with caplog.at_level(logging.WARNING, logger="benchmark_pipeline.alerts"):
        assert record_alert(ALERT, tmp_path / ALERTS, webhook_url=url)["webhook_delivered"] is False
    assert any("not delivered" in r.getMessage() for r in caplog.records)


def test_slow_webhook_times_out_quickly(tmp_path):
    with Receiver(delay=3.0) as receiver:
        started = time.monotonic()
        assert post_webhook(receiver.url, ALERT, timeout=0.5) is False
        assert time.monotonic() - started < 2.5


def test_malformed_webhook_url_is_logged_not_raised(tmp_path):
    assert record_alert(ALERT, tmp_path / ALERTS, webhook_url="not a url")["webhook_delivered"] is False


def test_without_a_webhook_url_only_log_and_file(tmp_path):
    outcome = record_alert(ALERT, tmp_path / ALERTS)
    assert outcome["webhook_delivered"] is None
    assert (tmp_path / ALERTS).is_file()


# --------------------------------------------------------------------------- the run-failure sensor


@op
def read_the_export():
    raise Failure(
        description="data/raw/2024: the folder holds no export file",
        metadata={"exit_code": MetadataValue.int(2)},
        allow_retries=False,
    )


@job
def failing_job():
    read_the_export()


def failure_context(instance, benchmark_resource):
    result = failing_job.execute_in_process(
        instance=instance, raise_on_error=False, tags={"dagster/partition": "2024", "benchmark/trigger": "schedule"}
    )
    assert not result.success
    return run_failure_context(instance, result.run_id, benchmark_resource)


def run_failure_context(instance, run_id, benchmark_resource):
    """The failed run and the failure sensor's context for it, as the daemon would build them."""
    run = instance.get_run_by_id(run_id)
    [record] = instance.all_logs(run_id, of_type=DagsterEventType.RUN_FAILURE)
    return run, build_run_status_sensor_context(
        sensor_name="benchmark_run_failure_sensor",
        dagster_event=record.dagster_event,
        dagster_instance=instance,
        dagster_run=run,
        resources={"benchmark": benchmark_resource},
    ).for_run_failure()


def test_failure_sensor_records_the_alert_in_file_log_and_webhook(scratch_settings):
    with Receiver() as receiver, instance_for_test() as instance:
        with_webhook = BenchmarkSettings.from_settings(replace(scratch_settings, alert_webhook_url=receiver.url))
        run, context = failure_context(instance, with_webhook)
        benchmark_run_failure_sensor(context)
    [line] = scratch_settings.alerts_file.read_text(encoding="utf-8").splitlines()
    alert = json.loads(line)
    assert alert["run_id"] == run.run_id
    assert alert["job_name"] == "failing_job"
    assert alert["survey_year"] == 2024 and alert["partition"] == "2024"
    assert alert["exit_code"] == 2
    assert alert["trigger"] == "schedule"
    assert alert["failed_steps"] == [
        {"step_key": "read_the_export", "exit_code": 2, "message": "data/raw/2024: the folder holds no export file"}
    ]
    [posted] = receiver.received
    assert json.loads(posted["body"]) == alert


def test_failure_sensor_with_a_dead_webhook_still_writes_the_file(scratch_settings):
    dead = BenchmarkSettings.from_settings(replace(scratch_settings, alert_webhook_url=f"http://127.0.0.1:{free_port()}/hook"))
    with instance_for_test() as instance:
        _, context = failure_context(instance, dead)
        benchmark_run_failure_sensor(context)  # does not raise
    assert json.loads(scratch_settings.alerts_file.read_text(encoding="utf-8"))["exit_code"] == 2


@pytest.mark.slow
def test_a_failed_yearly_run_gives_an_alert_with_the_cli_exit_code(scratch_settings, benchmark_resource):
    """The real yearly job on a malformed drop (two export files): raw_survey_responses fails with exit code 2."""
    from benchmark_pipeline.defs.runner import run_year

    write_export(scratch_settings.data_dir, 2024, "a;b\n", name="one.csv")
    write_export(scratch_settings.data_dir, 2024, "a;b\n", name="two.csv")
    with instance_for_test() as instance:
        outcome = run_year(scratch_settings, 2024, instance)
        assert outcome.exit_code == 2
        _, context = run_failure_context(instance, outcome.run_id, benchmark_resource)
        benchmark_run_failure_sensor(context)
    alert = json.loads(scratch_settings.alerts_file.read_text(encoding="utf-8"))
    assert alert["job_name"] == "yearly_benchmark"
    assert alert["survey_year"] == 2024
    assert alert["exit_code"] == 2
    assert alert["failed_steps"][0]["step_key"] == "raw_survey_responses"


@op
def write_the_release():
    raise FileNotFoundError(2, "No such file or directory", "/srv/benchmark/output/releases/2024")


@job
def crashing_job():
    write_the_release()


@asset
def staged_table():
    return 1


@asset_check(asset=staged_table, blocking=True)
def small_cells(staged_table):
    return AssetCheckResult(passed=False)


@asset_check(asset=staged_table, blocking=False)
def only_a_warning(staged_table):
    return AssetCheckResult(passed=False, severity=AssetCheckSeverity.WARN)


def _alert_for(instance, result):
    from benchmark_pipeline.defs.alerts import build_alert

    run = instance.get_run_by_id(result.run_id)
    [record] = instance.all_logs(result.run_id, of_type=DagsterEventType.RUN_FAILURE)
    return build_alert(instance, run, record.dagster_event.message)


def test_an_unexpected_error_is_an_environment_failure_with_its_root_cause():
    with instance_for_test() as instance:
        result = crashing_job.execute_in_process(instance=instance, raise_on_error=False)
        alert = _alert_for(instance, result)
    assert alert["exit_code"] == 3
    [step] = alert["failed_steps"]
    assert "FileNotFoundError" in step["message"] and "releases/2024" in step["message"]


def test_a_failed_blocking_check_is_a_content_stop_and_warnings_are_left_out():
    with instance_for_test() as instance:
        result = materialize([staged_table, small_cells, only_a_warning], instance=instance, raise_on_error=False)
        assert not result.success
        alert = _alert_for(instance, result)
    assert alert["exit_code"] == 1
    assert alert["failed_checks"] == [{"asset": "staged_table", "check": "small_cells", "severity": "ERROR", "message": ""}]


def test_the_trigger_names_the_backfill_the_sensor_or_the_schedule():
    from benchmark_pipeline.defs.alerts import trigger_of

    def run(**tags):
        return DagsterRun(job_name="yearly_benchmark", run_id="r", tags=tags)

    assert trigger_of(run(**{"dagster/backfill": "abcdefgh"})) == "backfill abcdefgh"
    assert trigger_of(run(**{"benchmark/trigger": "raw_export_sensor", "dagster/backfill": "x"})) == "raw_export_sensor"
    assert trigger_of(run(**{"dagster/schedule_name": "yearly_benchmark_schedule"})) == "yearly_benchmark_schedule"
    assert trigger_of(run()) == "manual"


def test_a_missing_stored_input_is_a_misuse_not_the_environment():
    from dagster._core.execution.plan.objects import StepFailureData
    from dagster_shared.error import SerializableErrorInfo

    from benchmark_pipeline.defs.failures import step_exit_code

    def failure(cls_name):
        return StepFailureData(error=SerializableErrorInfo("failed", [], cls_name), user_failure_data=None)

    assert step_exit_code(failure("DagsterExecutionLoadInputError")) == 2
    assert step_exit_code(failure("DagsterAssetCheckFailedError")) == 1
    assert step_exit_code(failure("OperationalError")) == 3
