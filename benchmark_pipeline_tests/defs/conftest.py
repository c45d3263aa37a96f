"""Fixtures for the Dagster automation tests: a private data folder whose raw exports the tests write."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from benchmark_pipeline.defs.resources import BenchmarkSettings
from benchmark_pipeline.settings import DEFAULT_DATA_DIR, Settings
from benchmark_pipeline_tests.defs.celery_workers import profile_databases  # noqa: F401 (the Celery tests' fixture)

OLD = 3600.0  # seconds: files older than the sensor's settle time


def write_export(data_dir: Path, year: int, content: bytes | str, name: str = "export.csv", age: float = OLD) -> Path:
    """Write one export file into data/raw/<year>/ with an mtime `age` seconds in the past."""
    folder = Path(data_dir) / "raw" / str(year)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return path


@pytest.fixture
def scratch_data_dir(tmp_path) -> Path:
    """The shipped mappings and reference files, with an empty raw/ the test fills."""
    data = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR / "instrument", data / "instrument")
    shutil.copytree(DEFAULT_DATA_DIR / "reference", data / "reference")
    (data / "raw").mkdir()
    return data


@pytest.fixture
def scratch_settings(scratch_data_dir, tmp_path) -> Settings:
    return Settings.from_env(environ={}, data_dir=scratch_data_dir, output_dir=tmp_path / "out")


@pytest.fixture
def benchmark_resource(scratch_settings) -> BenchmarkSettings:
    return BenchmarkSettings.from_settings(scratch_settings)
