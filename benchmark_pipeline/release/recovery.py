"""Crash recovery: what a crashed run left behind is set aside or removed, and the latest pointer repaired.

A release folder without its `releases` row is not a release (the row is the commit point): it leaves the
consumer-visible tree for `.orphaned/`. Staged folders old enough that no run can still be using them are
removed. Each year's repair runs under that year's lock (the caller holds it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path

from benchmark_pipeline.release import pointer
from benchmark_pipeline.release.model import Release, latest_live, utc_now
from benchmark_pipeline.release.paths import LATEST_POINTER, ReleasePaths

STALE_STAGING_SECONDS = 6 * 3600.0  # staged folders older than this were left by a crashed run


def cleanup_year(paths: ReleasePaths, survey_year: int, releases: list[Release]) -> list[Path]:
    """Orphan folders aside, stray pointer temp files gone, pointer matching `releases` (the year's rows)."""
    year_dir = paths.year_dir(survey_year)
    if not year_dir.is_dir():
        return []
    known = {r.release_id for r in releases}
    touched = []
    for entry in sorted(year_dir.iterdir()):
        if entry.is_dir() and entry.name not in known:
            touched.append(set_aside(paths, entry))
        elif entry.is_file() and entry.name.startswith(f".{LATEST_POINTER}.") and entry.name.endswith(".tmp"):
            entry.unlink(missing_ok=True)
            touched.append(entry)
    if pointer.write(paths, survey_year, latest_live(releases), only_if_changed=True):
        touched.append(paths.latest_pointer(survey_year))
    return touched


def set_aside(paths: ReleasePaths, folder: Path) -> Path:
    """Move a folder without its `releases` row out of the consumer-visible tree (kept for inspection)."""
    target = paths.orphan_dir(folder, utc_now())
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(folder, target)
    except FileNotFoundError:
        pass
    return target


def remove_old_staging(paths: ReleasePaths, max_age_seconds: float, survey_year: int | None = None) -> list[Path]:
    """Remove staged folders (of one year, or all) older than `max_age_seconds`; younger ones may still be
    in use. Best effort: what cannot be read or removed now is left for the next time."""
    cutoff = time.time() - max_age_seconds
    removed = []
    with contextlib.suppress(OSError):
        for entry in paths.staged_dirs(survey_year):
            with contextlib.suppress(OSError):
                if entry.stat().st_mtime <= cutoff:
                    shutil.rmtree(entry, ignore_errors=True)
                    removed.append(entry)
    return removed
