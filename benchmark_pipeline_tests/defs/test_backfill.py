"""Backfills on fresh storage with the real daemon: every year that has an export publishes, oldest first,
with the release ids of `make run`; a year without its inputs is skipped with its reason, never failed.

`dagster dev` runs the webserver, the daemon (run queue, backfills) and the code server against a
PostgreSQL Dagster instance in a database of the test's own (the documented docs/dagster-postgres.yaml,
no password: trust authentication), and the backfill is the command line's, `dagster job backfill`. The
asset backfill as the UI launches it is tested on this instance with the Celery profile
(test_celery_profile.py) and clicked in Chromium on the SQLite instance (test_ui_browser.py).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmark_pipeline.defs.partitions import survey_years
from benchmark_pipeline.release import ReleaseStore
from benchmark_pipeline.settings import REPO_ROOT
from benchmark_pipeline_tests.defs.dagster_dev import DagsterDev, graphql
from benchmark_pipeline_tests.release.conftest import temporary_pg_database

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(1200)]



def partition_of(run: dict) -> str:
    return next(tag["value"] for tag in run["tags"] if tag["key"] == "dagster/partition")


@pytest.fixture
def dagster_dev_on_postgres(tmp_path, monkeypatch):
    with temporary_pg_database("bp_dagster_instance") as url:
        from sqlalchemy.engine import make_url

        database = make_url(url)
        environment = {
            "DAGSTER_PG_HOST": database.host or "127.0.0.1",
            "DAGSTER_PG_PORT": str(database.port or 5432),
            "DAGSTER_PG_DB": database.database,
            "DAGSTER_PG_USER": database.username or "postgres",
        }
        monkeypatch.delenv("DAGSTER_PG_PASSWORD", raising=False)  # trust authentication: no password
        server = DagsterDev(tmp_path, environment, instance_config=REPO_ROOT / "docs" / "dagster-postgres.yaml")
        try:
            server.wait_until_serving()
            yield server
        finally:
            server.stop()


def test_a_backfill_of_every_partition_publishes_every_year_oldest_first(dagster_dev_on_postgres, published_samples):
    """The command line's job backfill of every partition, all runs launched at once: each year publishes
    after the one before, with the ids of `make run`; the year without a mapping is skipped, not failed."""
    server = dagster_dev_on_postgres
    partitions = survey_years.get_partition_keys()
    assert partitions[:3] == ["2023", "2024", "2025"] and len(partitions) >= 4  # one without a mapping
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "job", "backfill", "-w", "workspace.yaml",
         "-j", "yearly_benchmark", "--partitions", ",".join(partitions), "--noprompt"],
        cwd=REPO_ROOT, env=server.environment, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    job_backfill = graphql(server.base, "{ partitionBackfillsOrError(limit: 1) { ... on PartitionBackfills { results { id } } } }")
    backfill = server.wait_for_backfill(job_backfill["partitionBackfillsOrError"]["results"][0]["id"], seconds=900)
    runs = {partition_of(run): run for run in backfill["runs"]}
    assert sorted(runs) == partitions  # one run per year: no year reached through another
    assert {run["status"] for run in runs.values()} == {"SUCCESS"}, f"{runs}\n{server.log_tail()}"

    store = ReleaseStore(server.output_dir, f"sqlite:///{server.output_dir / 'warehouse.sqlite'}")
    published = {year: store.latest(year) for year in (2023, 2024, 2025)}
    assert {year: release.release_id for year, release in published.items()} == published_samples.release_ids
    for year in (2024, 2025):  # compared with what readers saw, so published after it
        earlier = published[year - 1]
        assert published[year].manifest["previous_release_id"] == earlier.release_id
        assert published[year].manifest["created_at"] > earlier.manifest["created_at"]

    later = partitions[3]  # no mapping: skipped with the reason, in a successful run
    assert store.latest(int(later)) is None
    assert any(f"skipped: survey year {later} has no mapping" in m for m in server.run_messages(runs[later]["runId"]))
