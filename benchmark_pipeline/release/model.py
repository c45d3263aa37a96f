"""What the release store hands out: a published `Release` and a `StagedRelease` waiting for its checks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

import pandas as pd

from benchmark_pipeline.release import files
from benchmark_pipeline.release.paths import MANIFEST, REPORTS, table_file


def utc_now() -> datetime:
    """Whole seconds: the time stamps in manifests, markers and orphan names need no more."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def iso_utc(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass
class Release:
    """A published release (its `releases` row exists)."""

    release_id: str
    survey_year: int
    revision: int
    path: Path
    created_at: datetime
    withdrawn: bool = False
    withdrawn_reason: str | None = None
    fingerprint: str = ""
    previous_release_id: str | None = None
    reused: bool = False  # publish found an equal release and returned it
    restamped_from: str | None = None  # publish renumbered the staged release (another publish won)

    @cached_property
    def manifest(self) -> dict:
        try:
            return json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}

    @property
    def tables(self) -> dict[str, Path]:
        return {name: self.path / table_file(name) for name in self.manifest.get("tables", {})}

    @property
    def reports_dir(self) -> Path:
        return self.path / REPORTS

    def as_dict(self) -> dict:
        return {
            "release_id": self.release_id,
            "survey_year": self.survey_year,
            "revision": self.revision,
            "created_at": iso_utc(self.created_at),
            "fingerprint": self.fingerprint,
            "previous_release_id": self.previous_release_id,
            "withdrawn": self.withdrawn,
            "withdrawn_reason": self.withdrawn_reason,
            "path": str(self.path),
        }


def latest_live(releases: list[Release]) -> Release | None:
    """The last non-withdrawn release of a year's releases (ordered by revision): the one latest_* shows."""
    live = [r for r in releases if not r.withdrawn]
    return live[-1] if live else None


@dataclass
class StagedRelease:
    """A release written under `.staging/`, waiting for its checks and `ReleaseStore.publish`.

    `release_id` and `path` can change at publish (another publish of the year won the race).
    """

    release_id: str
    survey_year: int
    revision: int
    fingerprint: str
    path: Path
    inputs: list[dict]
    code_versions: dict
    settings: dict
    previous_release_id: str | None
    row_counts: dict[str, int] = field(default_factory=dict)

    @property
    def reports_dir(self) -> Path:
        return self.path / REPORTS

    @property
    def tables(self) -> dict[str, Path]:
        """Parquet file per table (the CSV twin is `csv_tables`)."""
        return {name: self.path / table_file(name) for name in self.row_counts}

    @property
    def csv_tables(self) -> dict[str, Path]:
        return {name: self.path / table_file(name, "csv") for name in self.row_counts}

    def files(self) -> list[Path]:
        """Every file in the staged release (for the disclosure and privacy checks)."""
        return sorted(p for p in self.path.rglob("*") if p.is_file())

    def frames(self) -> dict[str, pd.DataFrame]:
        """The staged tables as published (with `release_id`), read back from the Parquet files."""
        return {name: files.read_parquet(name, path) for name, path in self.tables.items()}
