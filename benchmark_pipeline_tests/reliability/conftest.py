"""Fixtures: a PostgreSQL database per test, and one real `run` of 2023 that tests copy instead of repeating."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benchmark_pipeline_tests.release.conftest import temporary_pg_database
from benchmark_pipeline_tests.reliability.helpers import copy_data, run_cli


@pytest.fixture
def pg_url():
    """A fresh, uniquely named PostgreSQL database, dropped afterwards. Yields its URL."""
    with temporary_pg_database("bp_reliability") as url:
        yield url


@pytest.fixture(scope="session")
def sample_data(tmp_path_factory) -> Path:
    """A data folder with the 2023 and 2024 sample exports (2025 left out: not needed here)."""
    return copy_data(tmp_path_factory.mktemp("reliability-data") / "data", (2023, 2024))


@pytest.fixture(scope="session")
def published_2023(tmp_path_factory, sample_data) -> Path:
    """An output folder where a real `benchmark-pipeline run --year 2023` published (SQLite warehouse)."""
    out = tmp_path_factory.mktemp("reliability-2023") / "out"
    result = run_cli("run", "--year", "2023", "--data-dir", sample_data, "--output-dir", out)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture
def output_with_2023(tmp_path, published_2023) -> Path:
    """A private copy of the published-2023 output folder."""
    out = tmp_path / "out"
    shutil.copytree(published_2023, out, symlinks=True)
    return out
