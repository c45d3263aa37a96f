"""The production instance configuration (docs/dagster-postgres.yaml) and the run queue's one-run-per-year rule.

The `postgres` test creates its own database on 127.0.0.1:5432, points the documented dagster.yaml at it
through the DAGSTER_PG_* environment variables, runs the yearly job for one year in process and reads the
run and its materialisations back from PostgreSQL, then drops the database.
"""

from __future__ import annotations

import shutil
import uuid

import pytest
import yaml
from dagster import AssetKey, DagsterInstance, DagsterRunStatus
from dagster._core.storage.tags import PARTITION_NAME_TAG

from benchmark_pipeline.settings import REPO_ROOT, Settings
from benchmark_pipeline_tests.conftest import require_or_skip

DOCS_CONFIG = REPO_ROOT / "docs" / "dagster-postgres.yaml"
DEV_CONFIG = REPO_ROOT / "dagster.yaml"
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
SURVEY_YEAR = 2023


def _partition_limits(run_queue_config) -> list:
    return [
        limit
        for limit in run_queue_config.tag_concurrency_limits
        if limit["key"] == PARTITION_NAME_TAG and limit["limit"] == 1
    ]


@pytest.mark.parametrize("config", [DEV_CONFIG, DOCS_CONFIG], ids=["dagster.yaml", "docs/dagster-postgres.yaml"])
def test_run_queue_allows_one_run_per_survey_year(config, tmp_path, monkeypatch):
    """Both instance files limit runs per unique value of the tag Dagster puts on partitioned runs."""
    assert PARTITION_NAME_TAG == "dagster/partition"
    if config == DOCS_CONFIG:
        # Validate against Dagster's schema without connecting: swap the storage for SQLite.
        doc = yaml.safe_load(config.read_text())
        doc["storage"] = {"sqlite": {"base_dir": str(tmp_path / "storage")}}
        (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(doc))
    else:
        shutil.copy(config, tmp_path / "dagster.yaml")
    instance = DagsterInstance.from_config(str(tmp_path))
    try:
        queue = instance.get_concurrency_config().run_queue_config
        [limit] = _partition_limits(queue)
        assert limit["value"] == {"applyLimitPerUniqueValue": True}
        assert queue.max_concurrent_runs >= 1
    finally:
        instance.dispose()


def _admin_connection():
    import psycopg2

    try:
        connection = psycopg2.connect(dbname="postgres", connect_timeout=3, **PG)
    except psycopg2.OperationalError as exc:
        return None, str(exc).strip()
    connection.autocommit = True
    return connection, ""


@pytest.fixture
def pg_database():
    """A fresh database for this test; dropped afterwards (also when the test fails)."""
    admin, error = _admin_connection()
    require_or_skip(admin is not None, f"PostgreSQL at 127.0.0.1:5432 is unreachable ({error})")
    name = f"benchmark_dagster_test_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.mark.postgres
@pytest.mark.slow
def test_yearly_job_records_run_and_materialisations_in_postgres(pg_database, tmp_path, monkeypatch):
    import psycopg2

    from benchmark_pipeline.defs.runner import run_year

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DOCS_CONFIG, home / "dagster.yaml")  # the documented file, unchanged
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_PG_HOST", PG["host"])
    monkeypatch.setenv("DAGSTER_PG_PORT", str(PG["port"]))
    monkeypatch.setenv("DAGSTER_PG_DB", pg_database)
    monkeypatch.setenv("DAGSTER_PG_USER", PG["user"])
    monkeypatch.delenv("DAGSTER_PG_PASSWORD", raising=False)  # trust authentication here: no password at all
    monkeypatch.delenv("PGPASSWORD", raising=False)

    settings = Settings.from_env(output_dir=tmp_path / "out")
    instance = DagsterInstance.get()
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        outcome = run_year(settings, SURVEY_YEAR, instance)
        assert outcome.ok, outcome.messages
        assert outcome.release_id.startswith(f"{SURVEY_YEAR}-r1-")

        # Through Dagster's API: the run, its partition tag and the published release's metadata.
        run = instance.get_run_by_id(outcome.run_id)
        assert run.status == DagsterRunStatus.SUCCESS
        assert run.tags[PARTITION_NAME_TAG] == str(SURVEY_YEAR)
        event = instance.get_latest_materialization_event(AssetKey("published_release"))
        materialization = event.asset_materialization
        assert materialization.partition == str(SURVEY_YEAR)
        assert materialization.metadata["release_id"].value == outcome.release_id
    finally:
        instance.dispose()

    # Straight from PostgreSQL: the rows Dagster wrote are in this database.
    with psycopg2.connect(dbname=pg_database, **PG) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT status FROM runs WHERE run_id = %s", (outcome.run_id,))
        assert cursor.fetchone() == ("SUCCESS",)
        cursor.execute(
            "SELECT value FROM run_tags WHERE run_id = %s AND key = %s", (outcome.run_id, PARTITION_NAME_TAG)
        )
        assert cursor.fetchone() == (str(SURVEY_YEAR),)
        cursor.execute(
            "SELECT asset_key, partition FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'",
            (outcome.run_id,),
        )
        materialised = set(cursor.fetchall())
        names = {AssetKey.from_db_string(key).to_user_string() for key, _ in materialised}
        assert {"raw_survey_responses", "validated_responses", "staged_release", "published_release"} <= names
        assert {partition for _, partition in materialised} == {str(SURVEY_YEAR)}
        cursor.execute(
            "SELECT count(*) FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_CHECK_EVALUATION'",
            (outcome.run_id,),
        )
        assert cursor.fetchone()[0] >= 5
    connection.close()
