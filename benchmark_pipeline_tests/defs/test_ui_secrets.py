"""Credentials never reach the UI: with a password in the warehouse URL and a token in the webhook URL,
the real webserver's Resources page (its GraphQL) names the environment variables, never their values;
and after real runs, failed and published, the password is in no answer, no alert and no log line."""

from __future__ import annotations

import json
import time

import pytest

from benchmark_pipeline.defs.assets import ALL_ASSETS
from benchmark_pipeline_tests.defs.dagster_dev import DagsterDev, graphql

ALL_KEYS = [asset.key.to_user_string() for asset in ALL_ASSETS]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

PASSWORD = "S3cret-pw-4711"
TOKEN = "t0ken-0815"
RESOURCES_QUERY = """
{
  workspaceOrError {
    ... on Workspace {
      locationEntries {
        locationOrLoadError {
          __typename
          ... on RepositoryLocation {
            repositories { allTopLevelResourceDetails { name configuredValues { key value type } } }
          }
          ... on PythonError { message }
        }
      }
    }
  }
}
"""


def test_the_resources_page_shows_credentials_as_environment_variables(tmp_path):
    server = DagsterDev(tmp_path, {
        "BENCHMARK_WAREHOUSE_URL": f"postgresql+psycopg2://writer:{PASSWORD}@127.0.0.1:5432/benchmark",
        "BENCHMARK_ALERT_WEBHOOK_URL": f"https://alerts.example.org/hook/{TOKEN}",
    })
    try:
        server.wait_until_serving()
        data = graphql(server.base, RESOURCES_QUERY)
    finally:
        server.stop()
    [entry] = data["workspaceOrError"]["locationEntries"]
    location = entry["locationOrLoadError"]
    assert location["__typename"] == "RepositoryLocation", location
    [repository] = location["repositories"]
    resources = {r["name"]: r for r in repository["allTopLevelResourceDetails"]}
    shown = {v["key"]: v for v in resources["benchmark"]["configuredValues"]}
    assert shown["warehouse_url"] == {"key": "warehouse_url", "value": "BENCHMARK_WAREHOUSE_URL", "type": "ENV_VAR"}
    assert shown["alert_webhook_url"]["type"] == "ENV_VAR"
    assert shown["output_dir"]["type"] == "VALUE"  # a path is no secret
    text = json.dumps(data)
    assert PASSWORD not in text and TOKEN not in text


RUNS_AND_LOGS = """
{ runsOrError { ... on Runs { results { runId status runConfigYaml tags { key value } } } } }
"""
EVENTS = """
query Events($runId: ID!) {
  logsForRun(runId: $runId) { ... on EventConnection { events {
    __typename
    ... on MessageEvent { message }
    ... on MaterializationEvent { metadataEntries { label ... on TextMetadataEntry { text } ... on PathMetadataEntry { path } ... on JsonMetadataEntry { jsonString } ... on MarkdownMetadataEntry { mdStr } } }
    ... on ExecutionStepFailureEvent { error { message } failureMetadata { metadataEntries { label } } }
  } } }
}
"""


@pytest.mark.postgres
def test_a_password_in_the_warehouse_url_reaches_no_answer_no_log_and_no_alert(tmp_path):
    """Real runs against a PostgreSQL warehouse whose URL holds a password (trust authentication accepts
    it): one year that fails (2024 before 2023: an alert) and one that publishes. The password is in no
    GraphQL answer (run config, tags, event logs, metadata), no alert, no line of the server's log."""
    from sqlalchemy.engine import make_url

    from benchmark_pipeline_tests.release.conftest import temporary_pg_database

    with temporary_pg_database("bp_secret_warehouse") as url:
        warehouse = make_url(url).set(password=PASSWORD).render_as_string(hide_password=False)
        server = DagsterDev(tmp_path, {"BENCHMARK_WAREHOUSE_URL": warehouse})
        answers = []
        try:
            server.wait_until_serving()
            failed = server.wait_for_backfill(server.launch_backfill(ALL_KEYS, ["2024"]))
            assert [run["status"] for run in failed["runs"]] == ["FAILURE"]
            published = server.wait_for_backfill(server.launch_backfill(ALL_KEYS, ["2023"]))
            assert [run["status"] for run in published["runs"]] == ["SUCCESS"], server.log_tail()
            deadline = time.monotonic() + 90  # the failure sensor ticks every 30 s
            while not server.alerts_file.exists() and time.monotonic() < deadline:
                time.sleep(2)
            runs = graphql(server.base, RUNS_AND_LOGS)
            answers.append(runs)
            for run in runs["runsOrError"]["results"]:
                answers.append(graphql(server.base, EVENTS, {"runId": run["runId"]}))
            answers.append(graphql(server.base, RESOURCES_QUERY))
        finally:
            server.stop()
    text = json.dumps(answers)
    assert "release_id" in text and "publish 2023 first" in text  # the answers are the real ones
    assert PASSWORD not in text
    alerts = server.alerts_file.read_text(encoding="utf-8")
    assert '"survey_year": 2024' in alerts and PASSWORD not in alerts
    assert PASSWORD not in server.log_path.read_text(errors="replace")
