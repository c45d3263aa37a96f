"""The consumer API: read published tables from the warehouse (see docs/consumers.md).

Needs only SELECT on the `latest_*` views for the default (latest) reads; reading a named release
reads the base table and needs SELECT on it.
"""

from __future__ import annotations

import pandas as pd

from benchmark_pipeline.release import schema
from benchmark_pipeline.release.errors import ReleaseNotFoundError
from benchmark_pipeline.release.warehouse import Warehouse


def _url(warehouse_url: str | None) -> str:
    if warehouse_url:
        return warehouse_url
    from benchmark_pipeline.settings import Settings

    return Settings.from_env().resolved_warehouse_url


def read_table(
    name: str, year: int | None = None, release: str | None = None, warehouse_url: str | None = None
) -> pd.DataFrame:
    """One published table as a DataFrame, `release_id` first, documented dtypes, fixed row order.

    - `read_table("indicator_values")`: every year's latest release (the `latest_indicator_values` view).
    - `read_table("indicator_values", year=2025)`: 2025's latest release.
    - `read_table("indicator_values", release="2025-r2-0123456789ab")`: exactly that release, even when
      it was superseded or withdrawn.
    `warehouse_url` defaults to `BENCHMARK_WAREHOUSE_URL`, else the SQLite file in the output folder.
    """
    schema.spec(name)
    warehouse = Warehouse(_url(warehouse_url))
    try:
        frame = warehouse.read_table(name, survey_year=year, release_id=release)
        if release is not None and frame.empty and not _release_known(warehouse, release):
            raise ReleaseNotFoundError(f"no published release {release!r}")
        return frame
    finally:
        warehouse.dispose()


def _release_known(warehouse: Warehouse, release_id: str) -> bool:
    return bool(warehouse.release_rows(release_id=release_id))


def latest_releases(warehouse_url: str | None = None) -> pd.DataFrame:
    """Each survey year's latest non-withdrawn release (the `latest_releases` view)."""
    warehouse = Warehouse(_url(warehouse_url))
    try:
        return warehouse.latest_releases()
    finally:
        warehouse.dispose()


def table_names() -> list[str]:
    return list(schema.TABLE_NAMES)
