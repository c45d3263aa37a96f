"""The Celery profile end to end: two real `dagster-celery worker start` processes on RabbitMQ and Redis, a
PostgreSQL Dagster instance (docs/dagster-postgres.yaml) and a PostgreSQL warehouse, each in a database of
the test's own, and the profile chosen by one setting (BENCHMARK_EXECUTOR=celery), nothing else.

- A backfill of every survey year, launched as the UI launches it on `dagster dev` (daemon, run queue,
  DefaultRunLauncher), runs every step on the workers, both of them, and publishes the release ids and the
  files of the in-process `make run`.
The worker-kill test is in test_celery_worker_kill.py (a file of its own, so pytest-xdist runs the two at once).
"""

from __future__ import annotations

import pytest
from dagster import DagsterInstance

from benchmark_pipeline.defs.assets import ALL_ASSETS
from benchmark_pipeline.defs.partitions import survey_years
from benchmark_pipeline.release import ReleaseStore
from benchmark_pipeline_tests.defs.celery_workers import (
    PG_INSTANCE_CONFIG,
    assert_same_release,
    celery_environment,
    celery_workers,
    celery_workers_of,
    new_queue_name,
    pg_environment,
)
from benchmark_pipeline_tests.defs.dagster_dev import DagsterDev

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(900)]

ASSET_KEYS = [asset.key.to_user_string() for asset in ALL_ASSETS]
SAMPLE_YEARS = (2023, 2024, 2025)


def test_a_backfill_runs_on_both_workers_and_publishes_the_in_process_releases(
    profile_databases, tmp_path, monkeypatch, published_samples
):
    instance_url, warehouse_url = profile_databases
    queue = new_queue_name()
    environment = {
        **pg_environment(instance_url),
        **celery_environment(queue),
        "BENCHMARK_WAREHOUSE_URL": warehouse_url,
        # The I/O manager's folder from its setting, as a mount every worker shares would be given.
        "BENCHMARK_DAGSTER_IO_DIR": str(tmp_path / "shared" / "private_dagster_io"),
    }
    monkeypatch.delenv("DAGSTER_PG_PASSWORD", raising=False)
    server = DagsterDev(tmp_path, environment, instance_config=PG_INSTANCE_CONFIG)
    try:
        with celery_workers(server.environment, tmp_path) as workers:
            server.wait_until_serving()
            partitions = survey_years.get_partition_keys()
            backfill = server.wait_for_backfill(server.launch_backfill(ASSET_KEYS, partitions), seconds=600)
            statuses = {run["runId"]: run["status"] for run in backfill["runs"]}
            assert set(statuses.values()) == {"SUCCESS"}, f"{backfill}\n{server.log_tail()}\n{workers.tail()}"

            for name, value in server.environment.items():
                if name.startswith("DAGSTER_PG_"):
                    monkeypatch.setenv(name, value)
            with DagsterInstance.from_config(str(server.home)) as instance:
                ran_on = {}
                for run_id in statuses:
                    ran_on.update({(run_id, step): worker for step, worker in celery_workers_of(instance, run_id).items()})
            names = {worker.name for worker in workers.workers}
            assert {worker.split("@")[0] for worker in ran_on.values()} == names  # both workers took steps
            assert len(ran_on) >= 4 * len(SAMPLE_YEARS)  # the steps ran there, not in the run's process
    finally:
        server.stop()

    store = ReleaseStore(server.output_dir, warehouse_url)
    try:
        published = {year: store.latest(year).release_id for year in SAMPLE_YEARS}
        assert published == published_samples.release_ids
        for year in SAMPLE_YEARS:
            assert_same_release(
                server.output_dir / "releases" / str(year) / published[year],
                published_samples.output_dir / "releases" / str(year) / published[year],
            )
        assert store.latest(2024).manifest["previous_release_id"] == published[2023]
    finally:
        store.close()
    # Respondent-level values went to the folder the setting named, not to the output folder.
    assert any((tmp_path / "shared" / "private_dagster_io").rglob("*"))
    assert not (server.output_dir / "private" / "dagster_io").exists()
