"""Warehouse schema revisions: a warehouse made at an earlier revision, with releases in it, upgrades in
place; its rows keep their values and the latest_* views show every column of the current schema."""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command

from benchmark_pipeline.release import ReleaseStore, schema
from benchmark_pipeline.release import warehouse as warehouse_module
from benchmark_pipeline.release.warehouse import Warehouse, head_revision
from benchmark_pipeline_tests.release.conftest import Publisher
from benchmark_pipeline_tests.release.tables import make_tables

OLD_RELEASE = "2024-r1-0000000000aa"
# The columns revision 0002 added: a warehouse at 0001 has none of them.
ADDED = {
    "yoy_changes": ["comparison"],
    "kommune_benchmarks": ["percentile_of", "national_min", "national_median", "national_max",
                           "national_published", "group_min", "group_median", "group_max", "group_published"],
}


def migrate(warehouse: Warehouse, revision: str, down: bool = False) -> None:
    """Run the revisions up (or down) to `revision`, as `Warehouse.upgrade` runs them to the head."""
    if warehouse.sqlite_path is not None:
        warehouse.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    with warehouse.engine.begin() as conn:
        config = warehouse_module._alembic_config(conn)
        (command.downgrade if down else command.upgrade)(config, revision)


def old_tables() -> dict[str, pd.DataFrame]:
    """2024's tables as revision 0001 held them (no first-year changes, trends or spread)."""
    tables = make_tables(2024)
    tables.pop("trends")
    return {name: frame.drop(columns=ADDED.get(name, [])) for name, frame in tables.items()}


def plain_rows(name: str, frame: pd.DataFrame) -> list[dict]:
    """Rows as Python values of each column's declared type (None for missing)."""
    types = {c.name: schema.PANDAS_DTYPES[c.type] for c in schema.spec(name).columns}
    typed = frame.astype({column: types[column] for column in frame.columns})
    return typed.astype(object).where(typed.notna(), None).to_dict("records")


def insert_old_release(warehouse: Warehouse) -> dict[str, pd.DataFrame]:
    tables = old_tables()
    with warehouse.engine.begin() as conn:
        reflected = sa.MetaData()
        reflected.reflect(conn)
        conn.execute(sa.insert(reflected.tables["releases"]), [{
            "release_id": OLD_RELEASE, "survey_year": 2024, "revision": 1,
            "created_at": datetime(2025, 6, 1, tzinfo=timezone.utc), "fingerprint": "f" * 64,
            "input_sha256": "i" * 64, "code_version": "{}", "package_version": "0.1",
            "manifest_path": f"releases/2024/{OLD_RELEASE}/manifest.json", "manifest_sha256": "m" * 64,
            "previous_release_id": None, "withdrawn": False,
        }])
        for name, frame in tables.items():
            conn.execute(sa.insert(reflected.tables[name]), plain_rows(name, frame.assign(release_id=OLD_RELEASE)))
    return tables


@pytest.fixture
def old_warehouse(warehouse_url):
    warehouse = Warehouse(warehouse_url)
    migrate(warehouse, "0001_initial")
    tables = insert_old_release(warehouse)
    yield warehouse, tables
    warehouse.dispose()


def test_a_warehouse_with_releases_at_0001_upgrades_to_head(old_warehouse):
    warehouse, before = old_warehouse
    assert warehouse.current_revision() == "0001_initial"
    warehouse.upgrade()
    assert warehouse.current_revision() == head_revision()
    for name in schema.TABLE_NAMES:  # the latest_* views list every current column
        latest = warehouse.read_table(name)
        assert list(latest.columns) == schema.spec(name).column_names
        assert (latest["release_id"] == OLD_RELEASE).all() and len(latest) == len(before.get(name, []))
    yoy = warehouse.read_table("yoy_changes", release_id=OLD_RELEASE)
    assert (yoy["comparison"] == "previous_year").all()  # the only comparison a 0001 release made
    pd.testing.assert_series_equal(yoy["diff_pp"], before["yoy_changes"]["diff_pp"].reset_index(drop=True),
                                   check_names=False)
    kb = warehouse.read_table("kommune_benchmarks", release_id=OLD_RELEASE)
    assert kb[ADDED["kommune_benchmarks"]].isna().all().all()
    assert kb["percentile"].notna().sum() == before["kommune_benchmarks"]["percentile"].notna().sum()


def test_an_upgraded_warehouse_takes_new_releases_beside_the_old(old_warehouse, tmp_path):
    warehouse, _ = old_warehouse
    with ReleaseStore(tmp_path / "out", warehouse.url, lock_timeout=30) as store:
        release = Publisher(store, tmp_path / "inputs").publish(2025, compared=[OLD_RELEASE])
        assert warehouse.current_revision() == head_revision()  # the store upgrades before it writes
        assert store.verify(release) == []
        trends = store.read_table("trends")
        assert len(trends) == 3 and (trends["release_id"] == release.release_id).all()
        latest_yoy = store.read_table("yoy_changes")
        assert set(latest_yoy["release_id"]) == {OLD_RELEASE, release.release_id}
        new = store.read_table("kommune_benchmarks", year=2025)
        assert new.loc[~new["suppressed"], "percentile_of"].notna().all()


def test_the_upgrade_can_be_undone(old_warehouse):
    warehouse, before = old_warehouse
    warehouse.upgrade()
    migrate(warehouse, "0001_initial", down=True)
    assert warehouse.current_revision() == "0001_initial"
    with warehouse.engine.connect() as conn:
        inspector = sa.inspect(conn)
        assert not inspector.has_table("trends")
        for name, added in ADDED.items():
            assert not set(added) & {c["name"] for c in inspector.get_columns(name)}
        rows = conn.execute(sa.text("SELECT count(*) FROM latest_yoy_changes")).scalar_one()
    assert rows == len(before["yoy_changes"])
