"""Shared fixtures: the shipped data folder and per-test output folders."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from benchmark_pipeline.instrument import load_year
from benchmark_pipeline.reference import load_kommuner
from benchmark_pipeline.settings import DEFAULT_DATA_DIR

IN_CI = os.environ.get("CI", "").lower() == "true"

# `make test` exports the developer's DAGSTER_HOME; tests (and the CLI processes they start) must not
# write runs into it. Tests that need a persistent instance make their own.
os.environ.pop("DAGSTER_HOME", None)


# What `make test-fast` leaves out: modules that run the pipeline (real Dagster runs, the CLI in a
# subprocess, crash and concurrency scenarios, the webserver, a browser). `make test` runs everything.
INTEGRATION_MODULES = (
    "audit/test_cli_audit.py",
    "cli/test_releases.py",
    "cli/test_run.py",
    "defs/test_alerts.py",
    "defs/test_backfill.py",
    "defs/test_definitions.py",
    "defs/test_pipeline.py",
    "defs/test_postgres_instance.py",
    "defs/test_ui_browser.py",
    "defs/test_ui_secrets.py",
    "release/test_store.py",
    "reliability/",
    "reports/test_browser.py",
)
TESTS_DIR = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = Path(str(item.fspath)).relative_to(TESTS_DIR).as_posix()
        if module.startswith(INTEGRATION_MODULES):
            item.add_marker(pytest.mark.integration)
    # Slow tests first (a stable sort: the order within each group stays). pytest-xdist hands out files in
    # this order with `--dist loadfile --no-loadscope-reorder` (.ci/run); otherwise it puts the files with
    # the most tests first, which left the few-minute single-test files for the end, one worker running
    # them while the other had nothing left. Measured on fresh clones (.ci/run): 14m40s and 17m00s with this
    # order, 15m58s without, so any gain is within the machine's noise.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def require_or_skip(condition: bool, reason: str) -> None:
    """Skip with a reason on a developer machine without the service; fail in CI, where it must exist."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DEFAULT_DATA_DIR


@pytest.fixture(scope="session")
def kommuner(data_dir):
    return load_kommuner(data_dir)


@pytest.fixture(scope="session")
def instrument_2023(data_dir):
    return load_year(data_dir, 2023)


@pytest.fixture(scope="session")
def instrument_2024(data_dir):
    return load_year(data_dir, 2024)


@pytest.fixture(scope="session")
def instrument_2025(data_dir):
    return load_year(data_dir, 2025)


@dataclass(frozen=True)
class PublishedSamples:
    """The shipped samples published once, as `make run` publishes them. Read it; never write into it."""

    output_dir: Path
    release_ids: dict[int, str]  # survey year -> release id


@pytest.fixture(scope="session")
def published_samples(tmp_path_factory, worker_id) -> PublishedSamples:
    """`benchmark-pipeline run --all` on the shipped data folder into a fresh output folder (a real process,
    the SQLite warehouse): the reference every other way of running (UI, backfills, the daemon) must equal.

    Published once per test run: pytest-xdist's workers share one (the first to need it publishes, under a
    lock, and the others wait for it), so its half-minute is not paid by every worker."""
    from filelock import FileLock

    from benchmark_pipeline_tests.reliability.helpers import run_cli

    base = tmp_path_factory.getbasetemp()
    root = base if worker_id == "master" else base.parent  # the parent: shared by the workers of one run
    shared = root / "published-samples"
    with FileLock(str(root / "published-samples.lock")):
        done = shared / "release_ids.json"
        if not done.exists():
            result = run_cli("run", "--all", "--data-dir", DEFAULT_DATA_DIR, "--output-dir", shared / "output")
            assert result.returncode == 0, result.stdout + result.stderr
            ids = dict(re.findall(r"^(\d{4}): published (\S+)$", result.stdout, flags=re.MULTILINE))
            assert sorted(ids) == ["2023", "2024", "2025"], result.stdout
            done.write_text(json.dumps(ids), encoding="utf-8")
        ids = json.loads(done.read_text(encoding="utf-8"))
    return PublishedSamples(shared / "output", {int(year): release_id for year, release_id in ids.items()})
