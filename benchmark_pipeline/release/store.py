"""The release store: the one entry point for staging, publishing, reusing, reading and withdrawing releases.

`ReleaseStore` ties the parts together; each concept has its own module:
`paths` (the layout under `<output-dir>/releases/`), `publishing` (the file steps of stage and publish),
`manifest` (build and verify), `pointer` (`latest.json`), `withdrawal`, `recovery` (what a crash left
behind) and `locks`. The `releases` row in the warehouse is the commit point: a folder without its row is
not a release, and the next publish or reuse check of that year (or `cleanup_incomplete`) sets it aside.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from benchmark_pipeline.release import manifest, pointer, publishing, recovery, schema, withdrawal
from benchmark_pipeline.release.errors import ReleaseError, ReleaseNotFoundError, storage_error
from benchmark_pipeline.release.fingerprint import make_release_id
from benchmark_pipeline.release.locks import Lock
from benchmark_pipeline.release.model import Release, StagedRelease, latest_live, utc_now
from benchmark_pipeline.release.paths import ReleasePaths
from benchmark_pipeline.release.warehouse import Warehouse
from benchmark_pipeline.settings import default_warehouse_url

DEFAULT_LOCK_TIMEOUT = 600.0

__all__ = ["Release", "ReleaseStore", "StagedRelease"]


class ReleaseStore:
    """Releases of one output folder and one warehouse."""

    def __init__(self, output_dir: str | Path, warehouse_url: str | None = None, lock_timeout: float | None = None):
        self.output_dir = Path(output_dir)
        self.paths = ReleasePaths(self.output_dir)
        self.warehouse_url = warehouse_url or default_warehouse_url(self.output_dir)
        self.warehouse = Warehouse(self.warehouse_url)
        self.lock_timeout = DEFAULT_LOCK_TIMEOUT if lock_timeout is None else lock_timeout
        self._schema_ready = False

    @property
    def releases_dir(self) -> Path:
        return self.paths.releases_dir

    def year_dir(self, survey_year: int) -> Path:
        return self.paths.year_dir(survey_year)

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
            path=self.paths.release_dir(row["survey_year"], row["release_id"]),
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
        return latest_live(self.releases(year))

    def reusable(self, year: int, fingerprint: str) -> Release | None:
        """The year's latest release when it was made from exactly these inputs (publish would reuse it).

        First, under the year lock, what a crashed publish left behind is repaired (orphan folders set aside,
        the latest pointer moved to the committed latest release), so a reused release is fully visible.
        """
        if self.year_dir(year).is_dir() and self.warehouse.exists():
            with self.year_lock(year):
                self._cleanup_year(year)
        return _reused(self.latest(year), fingerprint)

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

    def verify(self, release: str | Release) -> list[str]:
        """Problems with a published release: manifest checksums, row counts, warehouse rows vs files."""
        return manifest.verify(release if isinstance(release, Release) else self.get(str(release)), self.warehouse)

    # -- staging and publishing ------------------------------------------------------------------
    def next_release_id(self, year: int, fingerprint: str) -> str:
        """The release id a candidate with this fingerprint gets when it is staged now (the year's highest
        published revision + 1), so its reports can carry it before they are staged. Another publish of
        the year before this one's can still take that revision: `stage` and `publish` then re-stamp."""
        return self._next_stamp(int(year), fingerprint)[1]

    def _next_stamp(self, year: int, fingerprint: str) -> tuple[int, str]:
        """(revision, release id) of the year's next release: the one formula `next_release_id`, `stage`
        and `publish` share."""
        revision = self._max_revision(year) + 1
        return revision, make_release_id(year, revision, fingerprint)

    def stage(
        self,
        year: int,
        fingerprint: str,
        tables: dict[str, pd.DataFrame],
        inputs: list[Path],
        code_versions: dict,
        settings: dict,
        previous_release_id: str | None = None,
        reports_dir: Path | None = None,
        reports_release_id: str | None = None,
    ) -> StagedRelease:
        """Write the year's tables, data dictionary and `reports/` under `.staging/`.

        `reports_dir` is copied into `reports/` (empty without it). The reports were rendered with
        `reports_release_id` (`next_release_id` then); when another publish has taken that revision
        since, the staged copies are re-stamped with the id given here, as `publish` re-stamps them."""
        year = int(year)
        publishing.check_tables(year, tables)
        self._ensure_schema()
        revision, release_id = self._next_stamp(year, fingerprint)
        prepared = {name: schema.prepare(name, tables[name], release_id) for name in schema.TABLE_NAMES}
        staged = StagedRelease(
            release_id=release_id,
            survey_year=year,
            revision=revision,
            fingerprint=fingerprint,
            path=self.paths.new_staged_dir(release_id),
            inputs=publishing.input_entries(inputs),
            code_versions=dict(code_versions),
            settings=dict(settings),
            previous_release_id=previous_release_id,
            row_counts={name: len(frame) for name, frame in prepared.items()},
        )
        publishing.write_staged(staged, prepared)
        if reports_dir is not None:
            try:
                shutil.copytree(reports_dir, staged.reports_dir, dirs_exist_ok=True)
                if reports_release_id and reports_release_id != release_id:
                    publishing.restamp_reports(staged.reports_dir, reports_release_id, release_id)
            except OSError as error:
                self.discard(staged)
                raise storage_error(f"cannot copy the reports {reports_dir} into {staged.path}", error) from None
        return staged

    def discard(self, staged: StagedRelease) -> None:
        """Drop a staged release (e.g. its checks failed)."""
        shutil.rmtree(staged.path, ignore_errors=True)

    def publish(self, staged: StagedRelease) -> Release:
        """Make the staged release visible: manifest, rename into place, one transaction, latest pointer.

        Under the year lock: reuse the year's latest release when its fingerprint is equal; otherwise
        take revision max + 1 (re-stamping the staged release when another publish took its number).
        """
        if not staged.path.is_dir():
            raise ReleaseError(f"the staged release {staged.path} no longer exists (published or discarded)")
        self._ensure_schema()
        year = staged.survey_year
        with self.year_lock(year):
            self._cleanup_year(year)
            latest = self.latest(year)
            reused = _reused(latest, staged.fingerprint)
            if reused is not None:
                self.discard(staged)
                return reused
            revision, release_id = self._next_stamp(year, staged.fingerprint)
            restamped_from = None
            if release_id != staged.release_id:
                restamped_from = staged.release_id
                publishing.restamp(self.paths, staged, revision, release_id)
            created_at = utc_now()
            content = manifest.build(staged, created_at, supersedes=latest.release_id if latest else None)
            final = self.paths.release_dir(year, release_id)
            staging = staged.path
            try:
                manifest.write(staged.path, content)
                publishing.make_read_only(staged.path)
                publishing.move_into_place(self.paths, staged.path, final)
            except OSError as error:
                raise storage_error(f"cannot publish {release_id}", error) from None
            staged.path = final
            row = publishing.release_row(staged, final, self.output_dir, created_at)
            try:
                self.warehouse.insert_release(row, staged.frames())
            except BaseException:
                # Not committed: not a release. Back where it was staged, so a retry of the step publishes it.
                staged.path = publishing.move_back_to_staging(self.paths, final, staging)
                raise
            try:
                pointer.write(self.paths, year, self.latest(year))
            except OSError as error:
                raise storage_error(
                    f"{release_id} is published (warehouse committed), but {self.paths.latest_pointer(year)} "
                    "could not be updated; the next run of the year repairs it", error
                ) from None
        recovery.remove_old_staging(self.paths, recovery.STALE_STAGING_SECONDS, year)
        release = self._release(row)
        release.restamped_from = restamped_from
        return release

    # -- withdrawal and crash recovery -----------------------------------------------------------
    def withdraw(self, release_id: str, reason: str) -> Release:
        """Mark a release withdrawn (row + marker file); latest_* falls back to the year's previous one."""
        return withdrawal.withdraw(self, release_id, reason)

    def cleanup_incomplete(self, staging_max_age_seconds: float = 3600.0) -> list[Path]:
        """Move aside release folders without their `releases` row, repair latest pointers, and remove
        staged releases older than `staging_max_age_seconds` (younger ones may still be in use)."""
        touched: list[Path] = []
        for year_dir in self.paths.year_dirs():
            with self.year_lock(int(year_dir.name)):
                touched += self._cleanup_year(int(year_dir.name))
        return touched + recovery.remove_old_staging(self.paths, staging_max_age_seconds)

    def _cleanup_year(self, year: int) -> list[Path]:
        """Under the year lock: what a crashed publish of the year left behind (see `recovery`)."""
        return recovery.cleanup_year(self.paths, year, self.releases(year))

    # -- locks and schema ------------------------------------------------------------------------
    def year_lock(self, year: int) -> Lock:
        """One publish or withdrawal of the year at a time."""
        return Lock(self.paths.year_lock(year), self.lock_timeout, f"another publish or withdrawal of {int(year)}")

    def run_lock(self, year: int, timeout: float | None = None) -> Lock:
        """A lock for a whole run of one survey year (not only its publish), for the runner to hold around
        the Dagster run: Dagster's stored intermediate outputs are per year, not per run, so two runs of the
        same year at once would read each other's. The second run waits, then reuses the first's release."""
        wait = self.lock_timeout if timeout is None else timeout
        return Lock(self.paths.run_lock(year), wait, f"another run of {int(year)}")

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with Lock(self.paths.warehouse_lock, self.lock_timeout, "another upgrade of the warehouse schema"):
            self.warehouse.upgrade()
        self._schema_ready = True

    def _max_revision(self, year: int) -> int:
        return max((r["revision"] for r in self.warehouse.release_rows(survey_year=year)), default=0)


def _reused(latest: Release | None, fingerprint: str) -> Release | None:
    """`latest` when it was made from exactly these inputs (marked reused), else None."""
    if latest is not None and latest.fingerprint == fingerprint:
        latest.reused = True
        return latest
    return None
