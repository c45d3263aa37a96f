"""The exact disclosure audit of release folders: what an attacker can solve for from their tables, one
release at a time and two revisions of the same export together."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pandas as pd

from benchmark_pipeline.publication import DISCLOSURE_TABLES
from benchmark_pipeline.release.manifest import export_key
from benchmark_pipeline.release.paths import table_file
from benchmark_pipeline.stats.attack import DisclosureAudit, audit_tables, tables_seen_together
from benchmark_pipeline.stats.geography import Geography


def release_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """The disclosure tables of a release folder (Parquet), or {} when it has none."""
    tables = {}
    for name in DISCLOSURE_TABLES:
        path = Path(folder) / table_file(name)
        if path.is_file():
            tables[name] = pd.read_parquet(path)
    return tables


def audit_release_disclosure(folder: Path, geo: Geography, minimum: int) -> DisclosureAudit:
    """The exact audit of one release folder."""
    return audit_tables(release_tables(folder), geo, minimum)


def audit_revisions_together(folders: list[Path], geo: Geography, minimum: int) -> dict[tuple[str, str], DisclosureAudit]:
    """The exact audit of every pair of releases made from the same export (same year, same input hashes in
    their manifests, `release.manifest.export_key`): a reader who holds both sees them as one table. Keyed by (earlier, later) release id."""
    by_export: dict[str, list[tuple[str, Path]]] = {}
    for folder in folders:
        manifest_path = Path(folder) / "manifest.json"
        if not manifest_path.is_file():
            continue
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        by_export.setdefault(export_key(manifest), []).append((str(manifest.get("release_id")), Path(folder)))
    audits = {}
    for releases in by_export.values():
        for (first_id, first), (second_id, second) in itertools.combinations(releases, 2):
            together = tables_seen_together(release_tables(first), release_tables(second))
            audits[(first_id, second_id)] = audit_tables(together, geo, minimum)
    return audits
