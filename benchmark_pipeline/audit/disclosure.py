"""The exact disclosure audit of release folders: what an attacker can solve for from their tables.

A release is read together with the other releases of its year that are still published (sibling
folders without a withdrawal marker), since whoever reads one can read them all.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from benchmark_pipeline.publication import DISCLOSURE_TABLES
from benchmark_pipeline.release.store import WITHDRAWN_MARKER
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


def still_published_siblings(folder: Path) -> list[Path]:
    """The other release folders of the same year that are not withdrawn."""
    folder = Path(folder)
    parent = folder.parent
    return sorted(
        p for p in parent.iterdir()
        if p != folder and p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
        and p.name.startswith(f"{parent.name}-r") and not (p / WITHDRAWN_MARKER).exists()
    ) if parent.is_dir() else []


def audit_release_disclosure(folder: Path, geo: Geography, minimum: int, with_siblings: bool = True) -> DisclosureAudit:
    """The exact audit of one release folder (and its year's still-published revisions)."""
    earlier = [release_tables(p) for p in still_published_siblings(folder)] if with_siblings else []
    return audit_tables(release_tables(folder), geo, minimum, earlier=[t for t in earlier if t])
