"""The Celery profile's fault: a worker killed (SIGKILL, its whole process group: a machine gone) in the
middle of a step. The step goes back to the broker and the other worker runs it (celery.yaml: acks late),
no partial release is ever visible, the year publishes the in-process release (revision 1, the same files),
and running it again reuses that release. Two real workers, a PostgreSQL instance and warehouse of the
test's own, the run started by `benchmark-pipeline run` with BENCHMARK_EXECUTOR=celery.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest
from dagster import DagsterInstance, DagsterRunStatus

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
from benchmark_pipeline_tests.reliability.helpers import cli_command, cli_env

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(900)]


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
