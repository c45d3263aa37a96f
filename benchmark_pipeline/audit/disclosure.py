"""The exact disclosure audit of a release folder: what an attacker can solve for from its tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from benchmark_pipeline.publication import DISCLOSURE_TABLES
from benchmark_pipeline.stats.attack import DisclosureAudit, audit_tables
from benchmark_pipeline.stats.geography import Geography


def release_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """The disclosure tables of a release folder (Parquet), or {} when it has none."""
    tables = {}
    for name in DISCLOSURE_TABLES:
        path = Path(folder) / "tables" / f"{name}.parquet"
        if path.is_file():
            tables[name] = pd.read_parquet(path)
    return tables


def audit_release_disclosure(folder: Path, geo: Geography, minimum: int) -> DisclosureAudit:
    """The exact audit of one release folder."""
    return audit_tables(release_tables(folder), geo, minimum)
