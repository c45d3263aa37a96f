"""Shared helpers: the CLI as a real process, temporary data folders, and the release invariants."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

import benchmark_pipeline
from benchmark_pipeline.release import ReleaseStore, TABLE_NAMES, sha256_file
from benchmark_pipeline.settings import DEFAULT_DATA_DIR

CLI = str(Path(sys.executable).parent / "benchmark-pipeline")
# The checkout these tests belong to: the CLI child imports its code, not whatever the editable install names.
CHECKOUT = Path(benchmark_pipeline.__file__).resolve().parents[1]


def cli_env(extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME" and not k.startswith("BENCHMARK_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CHECKOUT), env.get("PYTHONPATH")]))
    env.update(extra or {})
    return env


def cli_command(*args, fault: str | None = None) -> list[str]:
    """`benchmark-pipeline args...`; with `fault`, the same CLI with that fault installed (see `faults`)."""
    start = [CLI] if fault is None else [sys.executable, "-m", "benchmark_pipeline_tests.reliability.faults", fault]
    return [*start, *map(str, args)]


def run_cli(*args: str, env_extra: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(cli_command(*args), capture_output=True, text=True, env=cli_env(env_extra), timeout=timeout)


def start_cli(*args: str, env_extra: dict | None = None, fault: str | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        cli_command(*args, fault=fault), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(env_extra)
    )


def finish(proc: subprocess.Popen, timeout: float = 600) -> subprocess.CompletedProcess:
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def copy_data(target: Path, years: tuple[int, ...] = ()) -> Path:
    """reference/ and instrument/ from the shipped data folder, plus the named years' sample exports."""
    shutil.copytree(DEFAULT_DATA_DIR / "reference", target / "reference")
    shutil.copytree(DEFAULT_DATA_DIR / "instrument", target / "instrument")
    (target / "raw").mkdir(parents=True, exist_ok=True)
    for year in years:
        shutil.copytree(DEFAULT_DATA_DIR / "raw" / str(year), target / "raw" / str(year))
    return target


def assert_clean_failure(result: subprocess.CompletedProcess, code: int, *phrases: str) -> str:
    """Exit `code`, every phrase in the output (case-insensitive), no traceback."""
    text = result.stdout + result.stderr
    assert result.returncode == code, f"exit {result.returncode}, expected {code}\n{text}"
    assert "Traceback" not in text, text
    for phrase in phrases:
        assert phrase.lower() in text.lower(), f"{phrase!r} not in:\n{text}"
    return text


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (relative path -> bytes), for 'left intact' comparisons."""
    if not folder.exists():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def published_snapshot(output_dir: Path) -> dict[str, bytes]:
    """The consumer-visible files: release folders and latest pointers (not staging, locks or orphans)."""
    releases = output_dir / "releases"
    if not releases.is_dir():
        return {}
    out = {}
    for year_dir in releases.iterdir():
        if year_dir.is_dir() and year_dir.name.isdigit():
            out.update({f"{year_dir.name}/{k}": v for k, v in snapshot(year_dir).items()})
    return out


def warehouse_rows(url: str) -> dict[str, list]:
    """Every row of the releases table and of each data table (sorted), as plain tuples."""
    database = sa.make_url(url).database
    if url.startswith("sqlite") and database and not Path(database).exists():
        return {}  # do not create it
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("releases"):
                return {}
            out = {}
            for name in ("releases", *TABLE_NAMES):
                rows = conn.execute(sa.text(f"SELECT * FROM {name}")).fetchall()  # fixed, known table names
                out[name] = sorted((tuple(map(str, r)) for r in rows))
            return out
    finally:
        engine.dispose()


def sqlite_url(output_dir: Path) -> str:
    return f"sqlite:///{(output_dir / 'warehouse.sqlite').resolve()}"


def check_invariants(
    output_dir: Path, warehouse_url: str | None = None, after_recovery: bool = False, verified: set | None = None
) -> dict:
    """What a consumer can see is complete and consistent. Returns {year: [release ids]} of committed releases.

    - every committed release (a `releases` row) verifies: manifest checksums, CSV = Parquet = warehouse rows;
    - no warehouse table holds rows of an uncommitted release; every `latest_<table>` view shows, per year,
      only the year's latest non-withdrawn release;
    - `latest.json` names a committed, complete release (it may lag right after a crash; once a run has
      completed since, it names exactly the latest);
    - after a completed run, no folder in `releases/<year>/` lacks its `releases` row.
    `verified`: release ids already verified (skipped; the newly verified are added).
    """
    url = warehouse_url or sqlite_url(output_dir)
    with ReleaseStore(output_dir, url) as store:
        releases = store.releases()
        ids = {r.release_id for r in releases}
        for release in releases:
            if verified is not None and release.release_id in verified:
                # verified when it became visible; its files are read-only: the manifest must still match
                manifest = release.path / "manifest.json"
                row = store.warehouse.release_rows(release_id=release.release_id)[0]
                assert manifest.is_file() and sha256_file(manifest) == row["manifest_sha256"], release.release_id
                continue
            problems = store.verify(release)
            assert problems == [], f"{release.release_id}: {problems}"
            if verified is not None:
                verified.add(release.release_id)
        years = sorted({r.survey_year for r in releases})
        latest = {y: store.latest(y) for y in years}
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                if ids:
                    for name in TABLE_NAMES:
                        in_table = {r[0] for r in conn.execute(sa.text(f"SELECT DISTINCT release_id FROM {name}"))}
                        assert in_table <= ids, f"{name} holds rows of uncommitted releases {in_table - ids}"
                        in_view = {
                            (int(r[0]), r[1])
                            for r in conn.execute(sa.text(f"SELECT DISTINCT survey_year, release_id FROM latest_{name}"))
                        }
                        expected = {(y, l.release_id) for y, l in latest.items() if l is not None}
                        assert in_view <= expected, f"latest_{name} shows {in_view - expected}"
        finally:
            engine.dispose()
        releases_dir = output_dir / "releases"
        for year_dir in sorted(releases_dir.iterdir()) if releases_dir.is_dir() else []:
            if not (year_dir.is_dir() and year_dir.name.isdigit()):
                continue
            year = int(year_dir.name)
            pointer = year_dir / "latest.json"
            if pointer.exists():
                named = json.loads(pointer.read_text(encoding="utf-8"))["release_id"]
                live = {r.release_id for r in releases if r.survey_year == year and not r.withdrawn}
                assert named is None or named in live, f"latest.json of {year} names {named}, not a live release"
                if after_recovery:
                    want = latest.get(year).release_id if latest.get(year) else None
                    assert named == want, f"latest.json of {year} names {named}, latest is {want}"
            if after_recovery:
                stray = [p.name for p in year_dir.iterdir() if p.is_dir() and p.name not in ids]
                assert stray == [], f"folders without their releases row in {year_dir}: {stray}"
                temp = [p.name for p in year_dir.iterdir() if p.name.endswith(".tmp")]
                assert temp == [], f"temporary files left in {year_dir}: {temp}"
        return {y: [r.release_id for r in releases if r.survey_year == y] for y in years}


def wait_for(predicate, timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
