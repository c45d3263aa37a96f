"""The Celery profile end to end: two real `dagster-celery worker start` processes on RabbitMQ and Redis, a
PostgreSQL Dagster instance (docs/dagster-postgres.yaml) and a PostgreSQL warehouse, each in a database of
the test's own, and the profile chosen by one setting (BENCHMARK_EXECUTOR=celery), nothing else.

- A backfill of every survey year, launched as the UI launches it on `dagster dev` (daemon, run queue,
  DefaultRunLauncher), runs every step on the workers, both of them, and publishes the release ids and the
  files of the in-process `make run`.
- A worker killed (SIGKILL, its whole process group) in the middle of a step: the step goes back to the
  broker and the other worker runs it (celery.yaml: acks late), no partial release is ever visible, the
  year publishes the in-process release, and running it again reuses that release.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus

from benchmark_pipeline.defs.assets import ALL_ASSETS
from benchmark_pipeline.defs.partitions import survey_years
from benchmark_pipeline.release import ReleaseStore
from benchmark_pipeline.settings import REPO_ROOT
from benchmark_pipeline_tests.defs.celery_workers import (
    celery_environment,
    celery_workers,
    new_queue_name,
    require_broker_and_backend,
)
from benchmark_pipeline_tests.defs.dagster_dev import DagsterDev
from benchmark_pipeline_tests.release.conftest import temporary_pg_database
from benchmark_pipeline_tests.reliability.helpers import cli_command, cli_env

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(900)]

PG_INSTANCE_CONFIG = REPO_ROOT / "docs" / "dagster-postgres.yaml"
ASSET_KEYS = [asset.key.to_user_string() for asset in ALL_ASSETS]
SAMPLE_YEARS = (2023, 2024, 2025)


def pg_environment(instance_url: str) -> dict[str, str]:
    url = sa.make_url(instance_url)
    return {
        "DAGSTER_PG_HOST": url.host or "127.0.0.1",
        "DAGSTER_PG_PORT": str(url.port or 5432),
        "DAGSTER_PG_DB": url.database,
        "DAGSTER_PG_USER": url.username or "postgres",
    }


def release_files(folder: Path) -> dict[str, bytes]:
    """Every file of a release but its manifest (which holds its creation time), by relative path."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != "manifest.json"
    }


def manifest_without_time(folder: Path) -> dict:
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.pop("created_at")
    return manifest


def assert_same_release(ours: Path, reference: Path) -> None:
    assert release_files(ours).keys() == release_files(reference).keys()
    different = [name for name, data in release_files(ours).items() if data != release_files(reference)[name]]
    assert different == [], f"files differ from the in-process release: {different[:10]}"
    assert manifest_without_time(ours) == manifest_without_time(reference)


def celery_workers_of(instance: DagsterInstance, run_id: str) -> dict[str, str]:
    """step key -> the Celery worker that ran it, from the engine events the workers wrote."""
    ran = {}
    for record in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        event = record.dagster_event
        if "in celery worker" in (event.message or ""):
            ran[event.step_key] = str(event.engine_event_data.metadata["Celery worker"].value)
    return ran


@pytest.fixture
def profile_databases():
    """A Dagster instance database and a warehouse database (apart: both keep an alembic_version table)."""
    require_broker_and_backend()
    with temporary_pg_database("bp_celery_instance") as instance_url, \
            temporary_pg_database("bp_celery_warehouse") as warehouse_url:
        yield instance_url, warehouse_url


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


def wait_for_step_on_worker(instance: DagsterInstance, step: str, seconds: float = 240) -> tuple[str, str]:
    """The run and the worker hostname once `step` has started on a worker."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for run in instance.get_runs():
            worker = celery_workers_of(instance, run.run_id).get(step)
            if worker is not None:
                return run.run_id, worker
            if run.is_finished:
                pytest.fail(f"the run ended ({run.status}) before {step} started on a worker")
        time.sleep(0.2)
    pytest.fail(f"{step} did not start on a worker in {seconds} s")


def test_a_worker_killed_mid_step_leaves_no_partial_release_and_the_year_publishes_as_in_process(
    profile_databases, tmp_path, monkeypatch, published_samples
):
    instance_url, warehouse_url = profile_databases
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PG_INSTANCE_CONFIG, home / "dagster.yaml")
    output_dir = tmp_path / "output"
    environment = cli_env({
        **pg_environment(instance_url),
        **celery_environment(new_queue_name()),
        "DAGSTER_HOME": str(home),
        "BENCHMARK_OUTPUT_DIR": str(output_dir),
        "BENCHMARK_WAREHOUSE_URL": warehouse_url,
    })
    environment.pop("DAGSTER_PG_PASSWORD", None)
    for name, value in pg_environment(instance_url).items():
        monkeypatch.setenv(name, value)
    year = 2023
    step = "report_artefacts"  # seconds long: it writes 98 kommune pages, the workbook and charts
    with celery_workers(environment, tmp_path) as workers, DagsterInstance.from_config(str(home)) as instance:
        run = subprocess.Popen(cli_command("run", "--year", year), env=environment, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            run_id, hostname = wait_for_step_on_worker(instance, step)
            victim = next(w for w in workers.workers if hostname.startswith(w.hostname_prefix))
            victim.kill()
            store = ReleaseStore(output_dir, warehouse_url)
            try:
                assert store.latest(year) is None  # nothing visible while the step is being run again
            finally:
                store.close()
            stdout, stderr = run.communicate(timeout=300)
        finally:
            if run.poll() is None:
                run.kill()
        assert run.returncode == 0, f"{stdout}\n{stderr}\n{workers.tail()}"
        assert f"{year}: published {published_samples.release_ids[year]}" in stdout

        survivor = next(w for w in workers.workers if w is not victim)
        assert celery_workers_of(instance, run_id)[step].startswith(survivor.hostname_prefix)
        assert instance.get_run_by_id(run_id).status == DagsterRunStatus.SUCCESS

        # Exactly the one release, revision 1: the killed attempt left nothing a reader or a rerun counts.
        release_id = published_samples.release_ids[year]
        store = ReleaseStore(output_dir, warehouse_url)
        try:
            assert [r.release_id for r in store.releases(year)] == [release_id]
        finally:
            store.close()
        assert sorted(p.name for p in (output_dir / "releases" / str(year)).iterdir()) == [release_id, "latest.json"]
        assert_same_release(output_dir / "releases" / str(year) / release_id,
                            published_samples.output_dir / "releases" / str(year) / release_id)

        # Run again on the one worker left: the same release, reused.
        again = subprocess.run(cli_command("run", "--year", year), env=environment, text=True,
                               capture_output=True, timeout=300)
        assert again.returncode == 0, again.stdout + again.stderr
        assert f"{year}: reused unchanged release {release_id}" in again.stdout
    assert os.environ.get("BENCHMARK_EXECUTOR") is None  # the profile never leaked into the test process
