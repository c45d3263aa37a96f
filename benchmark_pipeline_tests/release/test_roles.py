"""The PostgreSQL read-only role: SELECT on the latest_* views, nothing else."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from benchmark_pipeline.release import WarehouseUnavailableError, WarehouseURLError, grant_read_only_role, read_table
from benchmark_pipeline.release.roles import READ_ONLY_VIEWS
from benchmark_pipeline.release.store import ReleaseStore
from benchmark_pipeline_tests.release.conftest import Publisher

pytestmark = pytest.mark.postgres


@pytest.fixture
def read_only_role(pg_database):
    role = f"bp_reader_{uuid.uuid4().hex[:10]}"
    yield role
    engine = sa.create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP OWNED BY "{role}"'))
        conn.execute(sa.text(f'REVOKE ALL ON DATABASE "{sa.make_url(pg_database).database}" FROM "{role}"'))
    engine.dispose()
    # the database is dropped by pg_database afterwards; the role is cluster-wide
    admin = sa.create_engine(pg_database.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP ROLE IF EXISTS "{role}"'))
    admin.dispose()


def test_read_only_role_reads_latest_views_and_nothing_else(tmp_path, pg_database, read_only_role):
    with ReleaseStore(tmp_path / "out", pg_database) as store:
        release = Publisher(store, tmp_path / "inputs").publish(2024)
    granted = grant_read_only_role(pg_database, read_only_role)
    assert granted == list(READ_ONLY_VIEWS)
    assert grant_read_only_role(pg_database, read_only_role) == granted  # idempotent

    reader_url = sa.make_url(pg_database).set(username=read_only_role).render_as_string(hide_password=False)
    frame = read_table("indicator_values", year=2024, warehouse_url=reader_url)
    assert set(frame["release_id"]) == {release.release_id}

    engine = sa.create_engine(reader_url)
    try:
        for view in READ_ONLY_VIEWS:
            with engine.connect() as conn:
                conn.execute(sa.text(f"SELECT * FROM {view}")).fetchall()
        forbidden = [
            "SELECT * FROM indicator_values",
            "SELECT * FROM releases",
            "SELECT * FROM alembic_version",
            "INSERT INTO indicator_values (release_id) VALUES ('x')",
            "DELETE FROM latest_year_summary",
            "UPDATE releases SET withdrawn = true",
            "CREATE TABLE sneaky (x int)",
            "CREATE VIEW sneaky AS SELECT 1",
            "DROP VIEW latest_year_summary",
        ]
        for statement in forbidden:
            with engine.connect() as conn, pytest.raises(sa.exc.DBAPIError) as caught:
                conn.execute(sa.text(statement))
            assert getattr(caught.value.orig, "pgcode", None) in {"42501", "25006", "42809", "55000"}, statement
    finally:
        engine.dispose()

    owner = sa.create_engine(pg_database)
    with owner.connect() as conn:
        grants = conn.execute(
            sa.text("SELECT table_name, privilege_type FROM information_schema.role_table_grants WHERE grantee = :r"),
            {"r": read_only_role},
        ).fetchall()
        can_create = conn.execute(
            sa.text("SELECT has_schema_privilege(:r, 'public', 'CREATE')"), {"r": read_only_role}
        ).scalar_one()
    owner.dispose()
    assert sorted(grants) == sorted((view, "SELECT") for view in READ_ONLY_VIEWS)
    assert can_create is False

    # the consumer API turns a forbidden read into a clear environment error (CLI exit 3)
    with pytest.raises(WarehouseUnavailableError, match="permission denied"):
        read_table("indicator_values", release=release.release_id, warehouse_url=reader_url)


def test_roles_are_postgres_only(tmp_path):
    with pytest.raises(WarehouseURLError):
        grant_read_only_role(f"sqlite:///{tmp_path / 'w.sqlite'}", "reader")
