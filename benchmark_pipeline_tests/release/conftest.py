"""Release fixtures: a warehouse per test on SQLite and, when reachable, on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from benchmark_pipeline.release import ReleaseStore, release_fingerprint
from benchmark_pipeline_tests.conftest import require_or_skip
from benchmark_pipeline_tests.release.tables import make_tables

PG_ADMIN_URL = os.environ.get("BENCHMARK_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def pg_reachable() -> bool:
    try:
        engine = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@contextmanager
def temporary_pg_database(prefix: str):
    """A fresh PostgreSQL database with a unique name, dropped afterwards. Yields its URL."""
    require_or_skip(pg_reachable(), f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_database():
    with temporary_pg_database("bp_release_test") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def warehouse_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'wh' / 'warehouse.sqlite'}"
    return request.getfixturevalue("pg_database")


@pytest.fixture
def store(tmp_path, warehouse_url):
    with ReleaseStore(tmp_path / "out", warehouse_url, lock_timeout=30) as s:
        yield s


class Publisher:
    """Publishes a year the way the Dagster layer will: fingerprint, reuse check, stage, reports, publish."""

    def __init__(self, store: ReleaseStore, inputs_dir: Path):
        self.store = store
        self.inputs_dir = inputs_dir

    def input_file(self, year: int, content: str | None = None) -> Path:
        path = self.inputs_dir / str(year) / "export.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is not None or not path.exists():
            path.write_text(content or f"respondent_id,kommune\nr1,101\n# synthetic {year}\n", encoding="utf-8")
        return path

    def fingerprint(self, year: int, compared: list[str] | None = None, bump: float = 0.0) -> str:
        return release_fingerprint(
            year,
            [self.input_file(year)],
            mapping_sha256="m" * 64,
            reference_sha256="r" * 64,
            code_versions={"stats": "1", "bump": str(bump)},
            settings={"min_respondents": 5, "max_quarantine_share": 0.2},
            compared_release_ids=compared or [],
        )

    def stage(self, year: int, bump: float = 0.0, compared: list[str] | None = None):
        fingerprint = self.fingerprint(year, compared, bump)
        staged = self.store.stage(
            year,
            fingerprint,
            make_tables(year, bump),
            [self.input_file(year)],
            {"stats": "1", "bump": str(bump)},
            {"min_respondents": 5, "max_quarantine_share": 0.2},
            previous_release_id=(compared or [None])[-1],
        )
        (staged.reports_dir / "national.html").write_text(
            f"<!doctype html><html lang=da><h1>Rapport {year}</h1><p>{staged.release_id}</p></html>", encoding="utf-8"
        )
        return staged

    def publish(self, year: int, bump: float = 0.0, compared: list[str] | None = None):
        reused = self.store.reusable(year, self.fingerprint(year, compared, bump))
        if reused is not None:
            return reused
        return self.store.publish(self.stage(year, bump, compared))


@pytest.fixture
def publisher(store, tmp_path):
    return Publisher(store, tmp_path / "inputs")
