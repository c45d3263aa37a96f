"""The file steps of staging and publishing a release (`ReleaseStore.stage` and `.publish` run them in order).

Publishing: files staged -> manifest written -> folder read-only and renamed into `<year>/` -> warehouse rows
+ `releases` row in one transaction (the commit point) -> latest pointer. A crash before the commit leaves
a folder without its row, which is not a release (`recovery` sets it aside).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import zipfile
from datetime import datetime
from pathlib import Path

import pandas as pd

import benchmark_pipeline
from benchmark_pipeline.release import files, recovery, schema
from benchmark_pipeline.release.errors import storage_error
from benchmark_pipeline.release.fingerprint import canonical_json, combined_input_sha256, sha256_file
from benchmark_pipeline.release.model import StagedRelease
from benchmark_pipeline.release.paths import DATA_DICTIONARY, MANIFEST, TABLES, ReleasePaths, table_file


def check_tables(survey_year: int, tables: dict[str, pd.DataFrame]) -> None:
    """A release holds exactly the contract's tables, each with rows of its own survey year only."""
    unknown = sorted(set(tables) - set(schema.TABLE_NAMES))
    missing = [n for n in schema.TABLE_NAMES if n not in tables]
    if unknown or missing:
        raise schema.TableContractError(
            f"a release holds exactly the tables {', '.join(schema.TABLE_NAMES)} "
            f"(missing: {missing or 'none'}, unknown: {unknown or 'none'})"
        )
    for name, frame in tables.items():
        years = set(frame["survey_year"].dropna().astype(int)) if "survey_year" in frame else set()
        if years - {survey_year}:
            raise schema.TableContractError(f"{name}: rows of survey year {sorted(years - {survey_year})}, staging {survey_year}")


def input_entries(inputs: list[Path]) -> list[dict]:
    """The manifest's record of the input files, in a fixed order."""
    return sorted(
        ({"name": Path(p).name, "sha256": sha256_file(p), "bytes": Path(p).stat().st_size} for p in inputs),
        key=lambda e: (e["name"], e["sha256"]),
    )


def write_staged(staged: StagedRelease, prepared: dict[str, pd.DataFrame]) -> None:
    """The staged folder: tables, data dictionary and an empty `reports/`; removed again when a write fails."""
    try:
        (staged.path / TABLES).mkdir(parents=True)
        staged.reports_dir.mkdir()
        write_tables(staged.path, prepared)
        files.write_json(staged.path / DATA_DICTIONARY, schema.data_dictionary(prepared))
    except OSError as error:
        shutil.rmtree(staged.path, ignore_errors=True)
        raise storage_error(f"cannot write the staged release {staged.path}", error) from None


def write_tables(folder: Path, prepared: dict[str, pd.DataFrame]) -> None:
    for name, frame in prepared.items():
        files.write_parquet(name, frame, folder / table_file(name))
        files.write_csv(frame, folder / table_file(name, "csv"))


def restamp(paths: ReleasePaths, staged: StagedRelease, revision: int, release_id: str) -> None:
    """Renumber a staged release (another publish of the year took its revision): new id in every table
    and in every report."""
    prepared = {name: files.read_parquet(name, path).assign(release_id=release_id) for name, path in staged.tables.items()}
    for path in [*staged.tables.values(), *staged.csv_tables.values()]:
        path.unlink()
    write_tables(staged.path, prepared)
    restamp_reports(staged.reports_dir, staged.release_id, release_id)
    new_path = paths.new_staged_dir(release_id)
    os.rename(staged.path, new_path)
    staged.path, staged.release_id, staged.revision = new_path, release_id, revision


_RELEASE_ID = re.compile(r"[^\s<>&\"']+")  # nothing HTML or XML would escape


def restamp_reports(reports_dir: Path, old: str, new: str) -> None:
    """Give reports rendered for release `old` the id `new`, as if they had been rendered with it.

    The reports show their release id as plain text (a release id needs no escaping in HTML or XML): every
    HTML page in its footer, the workbook on its cover, in its table sheets and in every sheet's page
    header. Each HTML file is rewritten; the workbook is rewritten part by part with the public zipfile
    API as XlsxWriter writes it (same order, fixed 1980 time stamps, same compression), so the bytes equal
    a render with `new` (the tests compare them). Nothing else in a report changes with the release id."""
    if not (_RELEASE_ID.fullmatch(old) and _RELEASE_ID.fullmatch(new)):
        raise ValueError(f"not release ids: {old!r} -> {new!r}")
    if not reports_dir.is_dir() or old == new:
        return
    before, after = old.encode("ascii"), new.encode("ascii")
    for path in sorted(reports_dir.rglob("*")):
        if path.suffix == ".html":
            data = path.read_bytes().replace(before, after)
            files.atomic_write(path, lambda tmp, data=data: tmp.write_bytes(data))
        elif path.suffix == ".xlsx":
            files.atomic_write(path, lambda tmp, path=path: _restamp_zip(path, tmp, before, after))


def _restamp_zip(source: Path, target: Path, before: bytes, after: bytes) -> None:
    """Copy the zip `source` to `target` with `before` replaced by `after` in its XML parts."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename.endswith((".xml", ".rels")):
                data = data.replace(before, after)
            part = zipfile.ZipInfo(info.filename, info.date_time)
            part.compress_type = info.compress_type
            part.external_attr = info.external_attr
            new.writestr(part, data)


def make_read_only(folder: Path) -> None:
    for file in folder.rglob("*"):
        if file.is_file():
            file.chmod(file.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def make_writable(folder: Path) -> None:
    for file in folder.rglob("*"):
        if file.is_file():
            file.chmod(file.stat().st_mode | stat.S_IWUSR)


def move_back_to_staging(paths: ReleasePaths, published: Path, staging: Path) -> Path:
    """Undo `move_into_place` after the commit failed: the folder is no release without its row. Where it
    cannot go back, it is set aside (out of the consumer-visible tree) all the same. Returns where it is."""
    try:
        os.rename(published, staging)
        make_writable(staging)
        return staging
    except OSError:
        pass
    try:
        return recovery.set_aside(paths, published)
    except OSError:
        return published


def move_into_place(paths: ReleasePaths, source: Path, target: Path) -> None:
    """Rename the staged folder to its published place (one rename: visible whole or not at all)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():  # a crash left this id without its row: not a release
        recovery.set_aside(paths, target)
    os.rename(source, target)
    files.fsync_dir(target.parent)


def release_row(staged: StagedRelease, final: Path, output_dir: Path, created_at: datetime) -> dict:
    """The `releases` row of a staged release moved to `final` (its manifest written)."""
    return {
        "release_id": staged.release_id,
        "survey_year": staged.survey_year,
        "revision": staged.revision,
        "created_at": created_at,
        "fingerprint": staged.fingerprint,
        "input_sha256": combined_input_sha256({str(i): e["sha256"] for i, e in enumerate(staged.inputs)}),
        "code_version": canonical_json(staged.code_versions),
        "package_version": benchmark_pipeline.__version__,
        "manifest_path": (final / MANIFEST).relative_to(output_dir).as_posix(),
        "manifest_sha256": sha256_file(final / MANIFEST),
        "previous_release_id": staged.previous_release_id,
        "withdrawn": False,
        "withdrawn_reason": None,
        "withdrawn_at": None,
    }
