"""The release store: stage, publish atomically, reuse, withdraw, read and verify releases.

Layout under `<output-dir>/releases/`:

    .staging/<release_id>.<token>/   staged releases (checks run here; no consumer looks)
    .locks/<year>.lock               one publish or withdrawal per year at a time
    .orphaned/                       folders a crash left without their `releases` row, moved aside
    <year>/<release_id>/             published releases (read-only files)
    <year>/latest.json               pointer to the year's latest non-withdrawn release

The `releases` row in the warehouse is the commit point. Publishing: files staged -> manifest written ->
folder renamed into `<year>/` -> warehouse rows + `releases` row in one transaction -> latest pointer.
A folder without its row is not a release; the next publish or reuse check of that year (or
`cleanup_incomplete`) moves it aside and repairs the latest pointer.

Fault injection (tests only): `BENCHMARK_RELEASE_FAULT=<point>[:kill|:enospc]` makes the process SIGKILL
itself (default) or raise ENOSPC when a publish reaches `<point>` (see `FAULT_POINTS`). Inert when unset.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import stat
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

import pandas as pd
from filelock import FileLock, Timeout

import benchmark_pipeline
from benchmark_pipeline.release import files, schema
from benchmark_pipeline.release.files import FAULT_ENV, FAULT_POINTS, fault_point  # noqa: F401 (re-exported)
from benchmark_pipeline.release.errors import (
    AlreadyWithdrawnError,
    LockTimeoutError,
    ReleaseError,
    ReleaseNotFoundError,
    StorageError,
)
from benchmark_pipeline.release.fingerprint import (
    canonical_json,
    combined_input_sha256,
    make_release_id,
    sha256_file,
)
from benchmark_pipeline.release.warehouse import Warehouse
from benchmark_pipeline.settings import default_warehouse_url

MANIFEST = "manifest.json"
DATA_DICTIONARY = "data_dictionary.json"
WITHDRAWN_MARKER = "WITHDRAWN.json"
LATEST_POINTER = "latest.json"
STAGING, LOCKS, ORPHANED = ".staging", ".locks", ".orphaned"
MANIFEST_FORMAT = "benchmark_pipeline release manifest"
DEFAULT_LOCK_TIMEOUT = 600.0
STALE_STAGING_SECONDS = 6 * 3600.0  # staged folders older than this were left by a crashed run
_ADVICE_STORAGE = "free disk space or fix the folder's permissions (or choose another --output-dir), then run again"


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _iso(value: datetime | None) -> str | None:
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
        return {name: self.path / "tables" / f"{name}.parquet" for name in self.manifest.get("tables", {})}

    def as_dict(self) -> dict:
        return {
            "release_id": self.release_id,
            "survey_year": self.survey_year,
            "revision": self.revision,
            "created_at": _iso(self.created_at),
            "fingerprint": self.fingerprint,
            "previous_release_id": self.previous_release_id,
            "withdrawn": self.withdrawn,
            "withdrawn_reason": self.withdrawn_reason,
            "path": str(self.path),
        }


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
        return self.path / "reports"

    @property
    def tables(self) -> dict[str, Path]:
        """Parquet file per table (the CSV twin is `csv_tables`)."""
        return {name: self.path / "tables" / f"{name}.parquet" for name in self.row_counts}

    @property
    def csv_tables(self) -> dict[str, Path]:
        return {name: self.path / "tables" / f"{name}.csv" for name in self.row_counts}

    def files(self) -> list[Path]:
        """Every file in the staged release (for the disclosure and privacy checks)."""
        return sorted(p for p in self.path.rglob("*") if p.is_file())

    def frames(self) -> dict[str, pd.DataFrame]:
        """The staged tables as published (with `release_id`), read back from the Parquet files."""
        return {name: files.read_parquet(name, path) for name, path in self.tables.items()}


class ReleaseStore:
    """Releases of one output folder and one warehouse."""

    def __init__(self, output_dir: str | Path, warehouse_url: str | None = None, lock_timeout: float | None = None):
        self.output_dir = Path(output_dir)
        self.warehouse_url = warehouse_url or default_warehouse_url(self.output_dir)
        self.warehouse = Warehouse(self.warehouse_url)
        self.lock_timeout = DEFAULT_LOCK_TIMEOUT if lock_timeout is None else lock_timeout
        self._schema_ready = False

    # -- paths -----------------------------------------------------------------------------------
    @property
    def releases_dir(self) -> Path:
        return self.output_dir / "releases"

    def year_dir(self, survey_year: int) -> Path:
        return self.releases_dir / str(int(survey_year))

    def close(self) -> None:
        self.warehouse.dispose()

    def __enter__(self) -> "ReleaseStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------------
    def _release(self, row: dict) -> Release:
        return Release(
            release_id=row["release_id"],
            survey_year=int(row["survey_year"]),
            revision=int(row["revision"]),
            path=self.year_dir(row["survey_year"]) / row["release_id"],
            created_at=row["created_at"],
            withdrawn=bool(row["withdrawn"]),
            withdrawn_reason=row["withdrawn_reason"],
            fingerprint=row["fingerprint"],
            previous_release_id=row["previous_release_id"],
        )

    def releases(self, year: int | None = None) -> list[Release]:
        """Every published release (withdrawn ones included), by year and revision."""
        return [self._release(r) for r in self.warehouse.release_rows(survey_year=year)]

    def get(self, release_id: str) -> Release:
        rows = self.warehouse.release_rows(release_id=str(release_id))
        if not rows:
            raise ReleaseNotFoundError(f"no published release {release_id!r}")
        return self._release(rows[0])

    def latest(self, year: int) -> Release | None:
        """The year's latest non-withdrawn release (the one the latest_* views show)."""
        live = [r for r in self.releases(year) if not r.withdrawn]
        return live[-1] if live else None

    def reusable(self, year: int, fingerprint: str) -> Release | None:
        """The year's latest release when it was made from exactly these inputs (publish would reuse it).

        First, under the year lock, what a crashed publish left behind is repaired (orphan folders set aside,
        the latest pointer moved to the committed latest release), so a reused release is fully visible.
        """
        if self.year_dir(year).is_dir() and self.warehouse.exists():
            with self._year_lock(year):
                self._cleanup_year(year)
        latest = self.latest(year)
        if latest is not None and latest.fingerprint == fingerprint:
            latest.reused = True
            return latest
        return None

    def read_table(self, name: str, year: int | None = None, release: str | Release | None = None) -> pd.DataFrame:
        """A published table from the warehouse: by default each year's latest release (`latest_<name>`)."""
        schema.spec(name)
        release_id = None
        if release is not None:
            found = release if isinstance(release, Release) else self.get(str(release))
            if year is not None and int(year) != found.survey_year:
                raise ReleaseError(f"release {found.release_id} is of {found.survey_year}, not {year}")
            release_id = found.release_id
        return self.warehouse.read_table(name, survey_year=year, release_id=release_id)

    # -- staging ---------------------------------------------------------------------------------
    def stage(
        self,
        year: int,
        fingerprint: str,
        tables: dict[str, pd.DataFrame],
        inputs: list[Path],
        code_versions: dict,
        settings: dict,
        previous_release_id: str | None = None,
    ) -> StagedRelease:
        """Write the year's tables, data dictionary and an empty `reports/` under `.staging/`."""
        year = int(year)
        unknown = sorted(set(tables) - set(schema.TABLE_NAMES))
        missing = [n for n in schema.TABLE_NAMES if n not in tables]
        if unknown or missing:
            raise schema.TableContractError(
                f"a release holds exactly the tables {', '.join(schema.TABLE_NAMES)} "
                f"(missing: {missing or 'none'}, unknown: {unknown or 'none'})"
            )
        for name, frame in tables.items():
            years = set(frame["survey_year"].dropna().astype(int)) if "survey_year" in frame else set()
            if years - {year}:
                raise schema.TableContractError(f"{name}: rows of survey year {sorted(years - {year})}, staging {year}")
        self._ensure_schema()
        revision = self._max_revision(year) + 1
        release_id = make_release_id(year, revision, fingerprint)
        prepared = {name: schema.prepare(name, tables[name], release_id) for name in schema.TABLE_NAMES}
        input_entries = sorted(
            ({"name": Path(p).name, "sha256": sha256_file(p), "bytes": Path(p).stat().st_size} for p in inputs),
            key=lambda e: (e["name"], e["sha256"]),
        )
        path = self.releases_dir / STAGING / f"{release_id}.{uuid.uuid4().hex[:8]}"
        staged = StagedRelease(
            release_id=release_id,
            survey_year=year,
            revision=revision,
            fingerprint=fingerprint,
            path=path,
            inputs=input_entries,
            code_versions=dict(code_versions),
            settings=dict(settings),
            previous_release_id=previous_release_id,
            row_counts={name: len(frame) for name, frame in prepared.items()},
        )
        try:
            (path / "tables").mkdir(parents=True)
            staged.reports_dir.mkdir()
            self._write_tables(path, prepared)
            fault_point("staged")
            files.write_json(path / DATA_DICTIONARY, schema.data_dictionary(prepared))
        except OSError as error:
            shutil.rmtree(path, ignore_errors=True)
            raise _storage_error(f"cannot write the staged release {path}", error) from None
        return staged

    def _write_tables(self, path: Path, prepared: dict[str, pd.DataFrame]) -> None:
        for name, frame in prepared.items():
            files.write_parquet(name, frame, path / "tables" / f"{name}.parquet")
            files.write_csv(frame, path / "tables" / f"{name}.csv")

    def discard(self, staged: StagedRelease) -> None:
        """Drop a staged release (e.g. its checks failed)."""
        shutil.rmtree(staged.path, ignore_errors=True)

    # -- publishing ------------------------------------------------------------------------------
    def publish(self, staged: StagedRelease) -> Release:
        """Make the staged release visible: manifest, rename into place, one transaction, latest pointer.

        Under the year lock: reuse the year's latest release when its fingerprint is equal; otherwise
        take revision max + 1 (re-stamping the staged release when another publish took its number).
        """
        if not staged.path.is_dir():
            raise ReleaseError(f"the staged release {staged.path} no longer exists (published or discarded)")
        self._ensure_schema()
        year = staged.survey_year
        with self._year_lock(year):
            self._cleanup_year(year)
            latest = self.latest(year)
            if latest is not None and latest.fingerprint == staged.fingerprint:
                self.discard(staged)
                latest.reused = True
                return latest
            revision = self._max_revision(year) + 1
            release_id = make_release_id(year, revision, staged.fingerprint)
            restamped_from = None
            if release_id != staged.release_id:
                restamped_from = staged.release_id
                self._restamp(staged, revision, release_id)
            created_at = _now()
            manifest = self._manifest(staged, created_at, supersedes=latest.release_id if latest else None)
            final = self.year_dir(year) / release_id
            try:
                self._write_manifest(staged.path, manifest)
                fault_point("manifest")
                _make_read_only(staged.path)
                self._move_into_place(staged.path, final)
            except OSError as error:
                raise _storage_error(f"cannot publish {release_id}", error) from None
            staged.path = final
            fault_point("renamed")
            row = {
                "release_id": release_id,
                "survey_year": year,
                "revision": revision,
                "created_at": created_at,
                "fingerprint": staged.fingerprint,
                "input_sha256": combined_input_sha256({str(i): e["sha256"] for i, e in enumerate(staged.inputs)}),
                "code_version": canonical_json(staged.code_versions),
                "package_version": benchmark_pipeline.__version__,
                "manifest_path": (final / MANIFEST).relative_to(self.output_dir).as_posix(),
                "manifest_sha256": sha256_file(final / MANIFEST),
                "previous_release_id": staged.previous_release_id,
                "withdrawn": False,
                "withdrawn_reason": None,
                "withdrawn_at": None,
            }
            try:
                frames = {name: files.read_parquet(name, final / "tables" / f"{name}.parquet") for name in staged.row_counts}
                self._commit(row, frames)
            except BaseException:
                with contextlib.suppress(OSError):
                    self._set_aside(final)  # not committed: not a release
                raise
            fault_point("committed")
            try:
                self._write_latest_pointer(year)
            except OSError as error:
                raise _storage_error(
                    f"{release_id} is published (warehouse committed), but {self.year_dir(year) / LATEST_POINTER} "
                    "could not be updated; the next run of the year repairs it", error
                ) from None
        self._remove_stale_staging(year)
        release = self._release(row)
        release.restamped_from = restamped_from
        return release

    def _commit(self, row: dict, frames: dict[str, pd.DataFrame]) -> None:
        self.warehouse.insert_release(row, frames)

    def _write_manifest(self, path: Path, manifest: dict) -> None:
        (path / MANIFEST).unlink(missing_ok=True)  # a retried publish: the earlier attempt's is read-only
        files.write_json(path / MANIFEST, manifest)

    def _move_into_place(self, source: Path, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():  # a crash left this id without its row: not a release
            self._set_aside(target)
        os.rename(source, target)
        files.fsync_dir(target.parent)

    def _restamp(self, staged: StagedRelease, revision: int, release_id: str) -> None:
        prepared = {name: files.read_parquet(name, path).assign(release_id=release_id) for name, path in staged.tables.items()}
        for path in [*staged.tables.values(), *staged.csv_tables.values()]:
            path.unlink()
        self._write_tables(staged.path, prepared)
        new_path = staged.path.with_name(f"{release_id}.{uuid.uuid4().hex[:8]}")
        os.rename(staged.path, new_path)
        staged.path, staged.release_id, staged.revision = new_path, release_id, revision

    def _manifest(self, staged: StagedRelease, created_at: datetime, supersedes: str | None) -> dict:
        table_of = {}
        for name in staged.row_counts:
            table_of[f"tables/{name}.parquet"] = name
            table_of[f"tables/{name}.csv"] = name
        entries = []
        for file in staged.files():
            relative = file.relative_to(staged.path).as_posix()
            if relative == MANIFEST:
                continue
            entry = {"path": relative, "sha256": sha256_file(file), "bytes": file.stat().st_size}
            if relative in table_of:
                entry["table"] = table_of[relative]
                entry["rows"] = staged.row_counts[table_of[relative]]
            entries.append(entry)
        return {
            "format": MANIFEST_FORMAT,
            "format_version": 1,
            "release_id": staged.release_id,
            "survey_year": staged.survey_year,
            "revision": staged.revision,
            "fingerprint": staged.fingerprint,
            "created_at": _iso(created_at),
            "package_version": benchmark_pipeline.__version__,
            "code_versions": staged.code_versions,
            "settings": staged.settings,
            "inputs": staged.inputs,
            "previous_release_id": staged.previous_release_id,
            "supersedes": supersedes,
            "tables": {
                name: {"rows": rows, "parquet": f"tables/{name}.parquet", "csv": f"tables/{name}.csv"}
                for name, rows in staged.row_counts.items()
            },
            "data_dictionary": DATA_DICTIONARY,
            "files": entries,
        }

    # -- withdrawal ------------------------------------------------------------------------------
    def withdraw(self, release_id: str, reason: str) -> Release:
        """Mark a release withdrawn (row + marker file); latest_* falls back to the year's previous one."""
        reason = (reason or "").strip()
        if not reason:
            raise ReleaseError("a reason is required to withdraw a release")
        release = self.get(release_id)
        if release.withdrawn:
            raise AlreadyWithdrawnError(f"{release.release_id} was already withdrawn: {release.withdrawn_reason}")
        with self._year_lock(release.survey_year):
            when = _now()
            if not self.warehouse.mark_withdrawn(release.release_id, reason, when):
                raise AlreadyWithdrawnError(f"{release.release_id} was already withdrawn")
            if release.path.is_dir():
                try:
                    files.atomic_write_json(
                        release.path / WITHDRAWN_MARKER,
                        {"release_id": release.release_id, "withdrawn_at": _iso(when), "reason": reason},
                    )
                except OSError as error:
                    raise _storage_error("withdrawn in the warehouse, but the marker file failed", error) from None
            self._write_latest_pointer(release.survey_year)
        return self.get(release.release_id)

    # -- verification ----------------------------------------------------------------------------
    def verify(self, release: str | Release) -> list[str]:
        """Problems with a published release: manifest checksums, row counts, warehouse rows vs files."""
        release = release if isinstance(release, Release) else self.get(str(release))
        problems: list[str] = []
        manifest_file = release.path / MANIFEST
        if not manifest_file.is_file():
            return [f"{release.release_id}: manifest.json is missing"]
        row = self.warehouse.release_rows(release_id=release.release_id)[0]
        if sha256_file(manifest_file) != row["manifest_sha256"]:
            problems.append("manifest.json differs from the checksum recorded in the warehouse")
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        if manifest.get("release_id") != release.release_id:
            problems.append(f"manifest names {manifest.get('release_id')}, not {release.release_id}")
        listed = set()
        for entry in manifest.get("files", []):
            listed.add(entry["path"])
            file = release.path / entry["path"]
            if not file.is_file():
                problems.append(f"{entry['path']}: missing")
            elif sha256_file(file) != entry["sha256"]:
                problems.append(f"{entry['path']}: SHA-256 does not match the manifest")
        for file in release.path.rglob("*"):
            relative = file.relative_to(release.path).as_posix()
            if file.is_file() and relative not in listed | {MANIFEST, WITHDRAWN_MARKER}:
                problems.append(f"{relative}: not listed in the manifest")
        for name, info in manifest.get("tables", {}).items():
            parquet, csv = release.path / info["parquet"], release.path / info["csv"]
            if not parquet.is_file() or not csv.is_file():
                continue
            from_parquet = files.read_parquet(name, parquet)
            if len(from_parquet) != info["rows"]:
                problems.append(f"{name}: {len(from_parquet)} rows in Parquet, manifest says {info['rows']}")
            if not _same_rows(name, from_parquet, files.read_csv(name, csv)):
                problems.append(f"{name}: the CSV and Parquet files differ")
            if not _same_rows(name, from_parquet, self.warehouse.read_table(name, release_id=release.release_id)):
                problems.append(f"{name}: warehouse rows differ from tables/{name}.parquet")
        return problems

    # -- crash recovery --------------------------------------------------------------------------
    def _remove_stale_staging(self, year: int) -> None:
        """Staged folders of the year that a crashed run left long ago (aggregates only; best effort)."""
        staging = self.releases_dir / STAGING
        cutoff = time.time() - STALE_STAGING_SECONDS
        with contextlib.suppress(OSError):
            for entry in staging.glob(f"{int(year)}-r*"):
                with contextlib.suppress(OSError):
                    if entry.stat().st_mtime <= cutoff:
                        shutil.rmtree(entry, ignore_errors=True)

    def cleanup_incomplete(self, staging_max_age_seconds: float = 3600.0) -> list[Path]:
        """Move aside release folders without their `releases` row, repair latest pointers, and remove
        staged releases older than `staging_max_age_seconds` (younger ones may still be in use)."""
        touched: list[Path] = []
        if self.releases_dir.is_dir():
            for year_dir in sorted(self.releases_dir.iterdir()):
                if year_dir.is_dir() and year_dir.name.isdigit():
                    with self._year_lock(int(year_dir.name)):
                        touched += self._cleanup_year(int(year_dir.name))
        staging = self.releases_dir / STAGING
        if staging.is_dir():
            cutoff = time.time() - staging_max_age_seconds
            for entry in sorted(staging.iterdir()):
                if entry.stat().st_mtime <= cutoff:
                    shutil.rmtree(entry, ignore_errors=True)
                    touched.append(entry)
        return touched

    def _cleanup_year(self, year: int) -> list[Path]:
        """Under the year lock: orphan folders aside, stray temp files gone, pointer matching the warehouse."""
        year_dir = self.year_dir(year)
        if not year_dir.is_dir():
            return []
        known = {r["release_id"] for r in self.warehouse.release_rows(survey_year=year)}
        touched = []
        for entry in sorted(year_dir.iterdir()):
            if entry.is_dir() and entry.name not in known:
                touched.append(self._set_aside(entry))
            elif entry.is_file() and entry.name.startswith(f".{LATEST_POINTER}.") and entry.name.endswith(".tmp"):
                entry.unlink(missing_ok=True)
                touched.append(entry)
        if self._write_latest_pointer(year, only_if_changed=True):
            touched.append(year_dir / LATEST_POINTER)
        return touched

    def _set_aside(self, folder: Path) -> Path:
        """A folder without its `releases` row leaves the consumer-visible tree (kept for inspection)."""
        target = self.releases_dir / ORPHANED / f"{folder.name}.{_now().strftime('%Y%m%dT%H%M%SZ')}.{uuid.uuid4().hex[:6]}"
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(folder, target)
        except FileNotFoundError:
            pass
        return target

    # -- latest pointer --------------------------------------------------------------------------
    def _latest_pointer_content(self, year: int) -> dict:
        latest = self.latest(year)
        return {
            "survey_year": int(year),
            "release_id": latest.release_id if latest else None,
            "revision": latest.revision if latest else None,
            "manifest": f"{latest.release_id}/{MANIFEST}" if latest else None,
        }

    def _write_latest_pointer(self, year: int, only_if_changed: bool = False) -> bool:
        content = self._latest_pointer_content(year)
        pointer = self.year_dir(year) / LATEST_POINTER
        if only_if_changed:
            try:
                if json.loads(pointer.read_text(encoding="utf-8")) == content:
                    return False
            except (FileNotFoundError, ValueError):
                if content["release_id"] is None and not pointer.exists():
                    return False
        files.atomic_write_json(pointer, content, fault="pointer")
        return True

    # -- internals -------------------------------------------------------------------------------
    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        lock_path = self.releases_dir / LOCKS / "warehouse.lock"
        try:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise _storage_error(f"cannot create {lock_path.parent}", error) from None
        try:
            with FileLock(lock_path, timeout=self.lock_timeout):
                self.warehouse.upgrade()
        except Timeout as error:
            raise LockTimeoutError(f"timed out waiting for {lock_path}") from error
        except OSError as error:
            raise _storage_error(f"cannot take the lock {lock_path}", error) from None
        self._schema_ready = True

    def _max_revision(self, year: int) -> int:
        return max((r["revision"] for r in self.warehouse.release_rows(survey_year=year)), default=0)

    def run_lock(self, year: int, timeout: float | None = None):
        """A lock for a whole run of one survey year (not only its publish), for the runner to hold around
        the Dagster run: Dagster's stored intermediate outputs are per year, not per run, so two runs of the
        same year at once would read each other's. The second run waits, then reuses the first's release."""
        lock_path = self.releases_dir / LOCKS / f"{int(year)}.run.lock"
        try:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise _storage_error(f"cannot create {lock_path.parent}", error) from None
        wait = self.lock_timeout if timeout is None else timeout
        return _Lock(FileLock(lock_path, timeout=wait), year)

    def _year_lock(self, year: int):
        lock_path = self.releases_dir / LOCKS / f"{int(year)}.lock"
        try:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise _storage_error(f"cannot create {lock_path.parent}", error) from None
        return _Lock(FileLock(lock_path, timeout=self.lock_timeout), year)


class _Lock:
    def __init__(self, lock: FileLock, year: int):
        self._lock, self._year = lock, year

    def __enter__(self):
        try:
            self._lock.acquire()
        except Timeout as error:
            raise LockTimeoutError(
                f"another publish or withdrawal of {self._year} is running (lock {self._lock.lock_file}); "
                "wait for it to finish, then run again"
            ) from None
        except OSError as error:
            raise _storage_error(f"cannot take the lock {self._lock.lock_file}", error) from None
        return self

    def __exit__(self, *exc):
        self._lock.release()


def _same_rows(name: str, left: pd.DataFrame, right: pd.DataFrame) -> bool:
    left = schema.sort_rows(name, schema.coerce(name, left))
    right = schema.sort_rows(name, schema.coerce(name, right))
    try:
        pd.testing.assert_frame_equal(left, right, check_exact=True)
    except AssertionError:
        return False
    return True


def _make_read_only(folder: Path) -> None:
    for file in folder.rglob("*"):
        if file.is_file():
            file.chmod(file.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _storage_error(message: str, error: OSError) -> ReleaseError:
    """An environment failure (exit 3) naming what failed and what to do; one line, no traceback needed."""
    reason = error.strerror or str(error)
    if error.filename and str(error.filename) not in message:
        reason = f"{reason} ({error.filename})"
    return StorageError(f"{message}: {reason}; {_ADVICE_STORAGE}")
