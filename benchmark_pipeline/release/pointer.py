"""`<year>/latest.json`: the file-system pointer to a year's latest non-withdrawn release.

It follows the warehouse (the commit point): rewritten after each publish and withdrawal, and repaired by
the crash recovery when a crash left it behind.
"""

from __future__ import annotations

import json

from benchmark_pipeline.release import files
from benchmark_pipeline.release.model import Release
from benchmark_pipeline.release.paths import MANIFEST, ReleasePaths


def content(survey_year: int, latest: Release | None) -> dict:
    return {
        "survey_year": int(survey_year),
        "release_id": latest.release_id if latest else None,
        "revision": latest.revision if latest else None,
        "manifest": f"{latest.release_id}/{MANIFEST}" if latest else None,
    }


def write(paths: ReleasePaths, survey_year: int, latest: Release | None, only_if_changed: bool = False) -> bool:
    """Point the year's `latest.json` at `latest` (atomically). False when `only_if_changed` found it right."""
    wanted = content(survey_year, latest)
    pointer = paths.latest_pointer(survey_year)
    if only_if_changed:
        try:
            if json.loads(pointer.read_text(encoding="utf-8")) == wanted:
                return False
        except (FileNotFoundError, ValueError):
            if latest is None and not pointer.exists():
                return False
    files.atomic_write_json(pointer, wanted)
    return True
