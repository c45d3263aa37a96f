"""Where releases live on disk: every path under `<output-dir>/releases/` is derived here, and only here.

    .staging/<release_id>.<token>/   staged releases (checks run here; no consumer looks)
    .locks/<year>.lock               one publish or withdrawal per year at a time
    .locks/<year>.run.lock           one whole run per year at a time
    .locks/warehouse.lock            one schema upgrade at a time
    .orphaned/                       folders a crash left without their `releases` row, moved aside
    <year>/<release_id>/             published releases (read-only files)
    <year>/latest.json               pointer to the year's latest non-withdrawn release

Inside a release folder: `manifest.json`, `data_dictionary.json`, `tables/<name>.parquet` and `.csv`,
`reports/…`, and `WITHDRAWN.json` once withdrawn.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

MANIFEST = "manifest.json"
DATA_DICTIONARY = "data_dictionary.json"
WITHDRAWN_MARKER = "WITHDRAWN.json"
LATEST_POINTER = "latest.json"
TABLES = "tables"
REPORTS = "reports"
STAGING, LOCKS, ORPHANED = ".staging", ".locks", ".orphaned"

_RELEASE_ID = re.compile(r"(?P<year>\d{4})-r\d+-[0-9a-f]+")


def table_file(name: str, suffix: str = "parquet") -> str:
    """A table's file, relative to its release folder (as the manifest lists it)."""
    return f"{TABLES}/{name}.{suffix}"


def survey_year_of(release_id: str) -> int:
    """The survey year a release id names; ValueError when it is not `<year>-r<revision>-<fingerprint>`."""
    match = _RELEASE_ID.fullmatch(str(release_id))
    if match is None:
        raise ValueError(f"{release_id!r} is not a release id (expected <year>-r<revision>-<fingerprint>)")
    return int(match["year"])


@dataclass(frozen=True)
class ReleasePaths:
    """The release layout of one output folder."""

    output_dir: Path

    @property
    def releases_dir(self) -> Path:
        return Path(self.output_dir) / "releases"

    @property
    def staging_dir(self) -> Path:
        return self.releases_dir / STAGING

    @property
    def orphaned_dir(self) -> Path:
        return self.releases_dir / ORPHANED

    def new_staged_dir(self, release_id: str) -> Path:
        """A fresh folder name for staging `release_id` (a token apart: two runs may stage one id)."""
        return self.staging_dir / f"{release_id}.{uuid.uuid4().hex[:8]}"

    def staged_dirs(self, survey_year: int | None = None) -> list[Path]:
        """What is under `.staging/` (only the year's staged folders when `survey_year` is given)."""
        if survey_year is None:
            return sorted(self.staging_dir.iterdir()) if self.staging_dir.is_dir() else []
        return sorted(self.staging_dir.glob(f"{int(survey_year)}-r*"))

    def orphan_dir(self, folder: Path, when: datetime) -> Path:
        """Where `folder`, a release folder without its `releases` row, is set aside (kept for inspection)."""
        return self.orphaned_dir / f"{folder.name}.{when.strftime('%Y%m%dT%H%M%SZ')}.{uuid.uuid4().hex[:6]}"

    def year_lock(self, survey_year: int) -> Path:
        return self.releases_dir / LOCKS / f"{int(survey_year)}.lock"

    def run_lock(self, survey_year: int) -> Path:
        return self.releases_dir / LOCKS / f"{int(survey_year)}.run.lock"

    @property
    def warehouse_lock(self) -> Path:
        return self.releases_dir / LOCKS / "warehouse.lock"

    def year_dir(self, survey_year: int) -> Path:
        return self.releases_dir / str(int(survey_year))

    def latest_pointer(self, survey_year: int) -> Path:
        return self.year_dir(survey_year) / LATEST_POINTER

    def release_dir(self, survey_year: int, release_id: str) -> Path:
        return self.year_dir(survey_year) / release_id

    def release_dir_of(self, release_id: str) -> Path:
        """The folder of a release id (ValueError when it is not one); the folder may not exist."""
        return self.release_dir(survey_year_of(release_id), release_id)

    def year_dirs(self) -> list[Path]:
        """The `<year>/` folders, by year (not the hidden staging, lock and orphan folders, nor links)."""
        if not self.releases_dir.is_dir():
            return []
        return [p for p in sorted(self.releases_dir.iterdir()) if p.name.isdigit() and p.is_dir() and not p.is_symlink()]

    def release_dirs(self) -> list[Path]:
        """Every folder under `<year>/` (published ones and orphans not yet set aside; no links)."""
        return [
            child
            for year_dir in self.year_dirs()
            for child in sorted(year_dir.iterdir())
            if not child.name.startswith(".") and child.is_dir() and not child.is_symlink()
        ]
