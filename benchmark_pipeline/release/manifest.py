"""The manifest of a release: what it holds (every file's SHA-256 and size, row counts, inputs, settings),
written last before publishing, and checked against the files and the warehouse by `verify`."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pandas as pd

import benchmark_pipeline
from benchmark_pipeline.release import files, schema
from benchmark_pipeline.release.fingerprint import canonical_json, sha256_file
from benchmark_pipeline.release.model import Release, StagedRelease, iso_utc
from benchmark_pipeline.release.paths import DATA_DICTIONARY, MANIFEST, WITHDRAWN_MARKER, table_file
from benchmark_pipeline.release.warehouse import Warehouse

MANIFEST_FORMAT = "benchmark_pipeline release manifest"


def export_key(manifest: dict) -> str:
    """Which export a release was made from, as any reader can tell from its manifest: the survey year and
    the input files' hashes. Two releases with one key hold the same answers."""
    return canonical_json([int(manifest["survey_year"]), manifest.get("inputs")])


def build(staged: StagedRelease, created_at: datetime, supersedes: str | None) -> dict:
    """The manifest of a staged release: every file in it but the manifest itself."""
    table_of = {}
    for name in staged.row_counts:
        table_of[table_file(name)] = name
        table_of[table_file(name, "csv")] = name
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
        "created_at": iso_utc(created_at),
        "package_version": benchmark_pipeline.__version__,
        "code_versions": staged.code_versions,
        "settings": staged.settings,
        "inputs": staged.inputs,
        "previous_release_id": staged.previous_release_id,
        "supersedes": supersedes,
        "tables": {
            name: {"rows": rows, "parquet": table_file(name), "csv": table_file(name, "csv")}
            for name, rows in staged.row_counts.items()
        },
        "data_dictionary": DATA_DICTIONARY,
        "files": entries,
    }


def write(folder: Path, manifest: dict) -> None:
    (folder / MANIFEST).unlink(missing_ok=True)  # a retried publish: the earlier attempt's is read-only
    files.write_json(folder / MANIFEST, manifest)


def verify(release: Release, warehouse: Warehouse) -> list[str]:
    """Problems with a published release: manifest checksums, row counts, warehouse rows vs files."""
    problems: list[str] = []
    manifest_file = release.path / MANIFEST
    if not manifest_file.is_file():
        return [f"{release.release_id}: manifest.json is missing"]
    row = warehouse.release_rows(release_id=release.release_id)[0]
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
        if not _same_rows(name, from_parquet, warehouse.read_table(name, release_id=release.release_id)):
            problems.append(f"{name}: warehouse rows differ from {info['parquet']}")
    return problems


def _same_rows(name: str, left: pd.DataFrame, right: pd.DataFrame) -> bool:
    left = schema.sort_rows(name, schema.coerce(name, left))
    right = schema.sort_rows(name, schema.coerce(name, right))
    try:
        pd.testing.assert_frame_equal(left, right, check_exact=True)
    except AssertionError:
        return False
    return True
