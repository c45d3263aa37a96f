"""Fixtures for the stats tests (the instrument and kommuner fixtures live in the top-level conftest)."""

from __future__ import annotations

import pytest

from benchmark_pipeline.stats.geography import Geography


@pytest.fixture(scope="session")
def geo(kommuner):
    return Geography.from_kommuner(kommuner)


@pytest.fixture(scope="session")
def region_members(kommuner):
    t = kommuner.table
    return {r: sorted(g["kommune_kode"]) for r, g in t.groupby("region_kode")}


@pytest.fixture(scope="session")
def group_members(kommuner):
    t = kommuner.table
    return {r: sorted(g["kommune_kode"]) for r, g in t.groupby("kommunegruppe_kode")}
