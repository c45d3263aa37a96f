"""Withdrawing a release: it stays on disk and in the warehouse (readable by id), but is no longer latest.

The warehouse row is marked first (what the latest_* views follow), then a `WITHDRAWN.json` marker goes
into the release folder and the year's latest pointer falls back to the previous live release.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchmark_pipeline.release import files, pointer
from benchmark_pipeline.release.errors import AlreadyWithdrawnError, ReleaseError, storage_error
from benchmark_pipeline.release.model import Release, iso_utc, utc_now
from benchmark_pipeline.release.paths import WITHDRAWN_MARKER

if TYPE_CHECKING:
    from benchmark_pipeline.release.store import ReleaseStore


def withdraw(store: ReleaseStore, release_id: str, reason: str) -> Release:
    """Mark a release withdrawn (row + marker file); latest_* falls back to the year's previous one."""
    reason = (reason or "").strip()
    if not reason:
        raise ReleaseError("a reason is required to withdraw a release")
    release = store.get(release_id)
    if release.withdrawn:
        raise AlreadyWithdrawnError(f"{release.release_id} was already withdrawn: {release.withdrawn_reason}")
    with store.year_lock(release.survey_year):
        when = utc_now()
        if not store.warehouse.mark_withdrawn(release.release_id, reason, when):
            raise AlreadyWithdrawnError(f"{release.release_id} was already withdrawn")
        if release.path.is_dir():
            try:
                files.atomic_write_json(
                    release.path / WITHDRAWN_MARKER,
                    {"release_id": release.release_id, "withdrawn_at": iso_utc(when), "reason": reason},
                )
            except OSError as error:
                raise storage_error("withdrawn in the warehouse, but the marker file failed", error) from None
        pointer.write(store.paths, release.survey_year, store.latest(release.survey_year))
    return store.get(release.release_id)
