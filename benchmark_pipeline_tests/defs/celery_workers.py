"""Real `dagster-celery worker start` processes for the Celery profile's tests, on a queue of their own.

Each test session's workers listen on a queue named for it, so parallel pytest workers (and a developer's
`make workers` on the default queue) never take each other's tasks; the queue is deleted afterwards.
Redis keeps results under task ids, which are unique, so one database index serves every session.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from dagster import DagsterEventType, DagsterInstance

from benchmark_pipeline.settings import DEFAULT_CELERY_BACKEND_URL, DEFAULT_CELERY_BROKER_URL, REPO_ROOT
from benchmark_pipeline_tests.conftest import require_or_skip
from benchmark_pipeline_tests.release.conftest import temporary_pg_database

BIN = Path(sys.executable).parent
CELERY_YAML = REPO_ROOT / "celery.yaml"
READY_SECONDS = 90
BROKER_URL = os.environ.get("BENCHMARK_TEST_CELERY_BROKER_URL", DEFAULT_CELERY_BROKER_URL)
BACKEND_URL = os.environ.get("BENCHMARK_TEST_CELERY_BACKEND_URL", DEFAULT_CELERY_BACKEND_URL)


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=3):
            return True
    except OSError:
        return False


def require_broker_and_backend() -> None:
    """RabbitMQ and Redis answer, or the test skips (and fails in CI, where `.ci/run` starts them)."""
    from kombu.utils.url import url_to_parts

    for name, url, port in (("RabbitMQ", BROKER_URL, 5672), ("Redis", BACKEND_URL, 6379)):
        parts = url_to_parts(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or port
        require_or_skip(reachable(host, port), f"{name} is not reachable at {host}:{port} (the Celery profile's tests need it)")


def celery_environment(queue: str) -> dict[str, str]:
    return {
        "BENCHMARK_EXECUTOR": "celery",
        "BENCHMARK_CELERY_BROKER_URL": BROKER_URL,
        "BENCHMARK_CELERY_BACKEND_URL": BACKEND_URL,
        "BENCHMARK_CELERY_QUEUE": queue,
    }


def new_queue_name() -> str:
    return f"benchmark_test_{uuid.uuid4().hex[:12]}"


def delete_queue(queue: str) -> None:
    from kombu import Connection

    with Connection(BROKER_URL, connect_timeout=5) as connection:
        channel = connection.channel()
        try:
            channel.queue_delete(queue)
        finally:
            channel.close()


@dataclass
class Worker:
    name: str
    process: subprocess.Popen
    log_path: Path

    @property
    def hostname_prefix(self) -> str:
        return f"{self.name}@"  # Celery names it <name>@<host>

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def ready(self) -> bool:
        return f"{self.name}@" in self.log() and " ready." in self.log()

    def kill(self) -> None:
        """SIGKILL the worker's whole process group (its main process and its pool children): a machine gone."""
        try:
            os.killpg(os.getpgid(self.process.pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)

    def stop(self) -> None:
        try:
            pgid = os.getpgid(self.process.pid)
        except ProcessLookupError:
            return
        for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout=wait)
                os.killpg(pgid, 0)  # the group leader is gone: any child left in the group?
            except subprocess.TimeoutExpired:
                continue
            except ProcessLookupError:
                return


@dataclass
class Workers:
    queue: str
    environment: dict[str, str]
    workers: list[Worker] = field(default_factory=list)

    def tail(self, lines: int = 30) -> str:
        return "\n".join(f"--- {w.name}\n" + "\n".join(w.log().splitlines()[-lines:]) for w in self.workers)


def start_worker(name: str, queue: str, environment: dict[str, str], log_dir: Path, concurrency: int) -> Worker:
    """`dagster-celery worker start` as `make workers` runs it, in its own process group."""
    log_path = log_dir / f"{name}.log"
    process = subprocess.Popen(
        [str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app", "-y", str(CELERY_YAML),
         "-q", queue, "-n", name, "--", "--concurrency", str(concurrency)],
        cwd=REPO_ROOT,
        env={**environment, "PATH": f"{BIN}{os.pathsep}{environment.get('PATH', '')}"},
        stdout=open(log_path, "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Worker(name, process, log_path)


@contextmanager
def celery_workers(environment: dict[str, str], log_dir: Path, count: int = 2, concurrency: int = 2):
    """`count` workers on the environment's queue, ready to take tasks; stopped and the queue deleted after."""
    queue = environment["BENCHMARK_CELERY_QUEUE"]
    pool = Workers(queue, environment)
    try:
        for index in range(count):
            pool.workers.append(start_worker(f"w{index + 1}-{queue}", queue, environment, log_dir, concurrency))
        deadline = time.monotonic() + READY_SECONDS
        while not all(worker.ready() for worker in pool.workers):
            for worker in pool.workers:
                if worker.process.poll() is not None:
                    pytest.fail(f"celery worker {worker.name} exited with {worker.process.returncode}:\n{pool.tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"celery workers not ready in {READY_SECONDS} s:\n{pool.tail()}")
            time.sleep(0.5)
        yield pool
    finally:
        for worker in pool.workers:
            worker.stop()
        try:
            delete_queue(queue)
        except Exception:  # the broker may be what failed; the queue is empty and harmless then
            pass


PG_INSTANCE_CONFIG = REPO_ROOT / "docs" / "dagster-postgres.yaml"


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
