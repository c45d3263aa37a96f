"""Credentials never reach the UI: with a password in the warehouse URL and a token in the webhook URL,
the real webserver's Resources page (its GraphQL) names the environment variables, never their values."""

from __future__ import annotations

import json

import pytest

from benchmark_pipeline_tests.defs.dagster_dev import DagsterDev, graphql

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
