"""The release store on SQLite and PostgreSQL: publish, reuse, revise, verify, withdraw, crash safety."""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from pathlib import Path

import pandas as pd
import pytest

from benchmark_pipeline.release import (
    AlreadyWithdrawnError,
    ReleaseNotFoundError,
    ReleaseStore,
    TableContractError,
    UnknownTableError,
    read_table,
)
from benchmark_pipeline.release import errors, files, manifest, pointer, publishing
from benchmark_pipeline.release import warehouse as warehouse_module
from benchmark_pipeline.release.fingerprint import sha256_file
from benchmark_pipeline_tests.release.conftest import Publisher
from benchmark_pipeline_tests.release.tables import make_tables


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def visible_state(store: ReleaseStore, year: int) -> dict:
    """Everything a consumer can see of a year."""
    pointer = store.year_dir(year) / "latest.json"
    return {
        "releases": [r.release_id for r in store.releases(year)],
        "latest": store.latest(year).release_id if store.latest(year) else None,
        "rows": len(store.read_table("indicator_values", year=year)),
        "pointer": json.loads(pointer.read_text())["release_id"] if pointer.exists() else None,
    }


def test_publish_two_years(store, publisher):
    r2023 = publisher.publish(2023)
    r2024 = publisher.publish(2024, compared=[r2023.release_id])

    assert r2023.release_id.startswith("2023-r1-") and r2024.release_id.startswith("2024-r1-")
    assert r2023.release_id == f"2023-r1-{r2023.fingerprint[:12]}"
    assert [r.release_id for r in store.releases()] == [r2023.release_id, r2024.release_id]
    assert store.latest(2024).release_id == r2024.release_id

    both = store.read_table("indicator_values")
    assert list(both.columns[:2]) == ["release_id", "survey_year"]
    assert set(both["release_id"]) == {r2023.release_id, r2024.release_id}
    assert both["geography_code"].dtype == "str" and "101" in set(both["geography_code"])

    manifest = r2024.manifest
    assert manifest["release_id"] == r2024.release_id and manifest["survey_year"] == 2024
    assert manifest["revision"] == 1 and manifest["previous_release_id"] == r2023.release_id
    assert manifest["package_version"] and manifest["code_versions"] == {"stats": "1", "bump": "0.0"}
    assert manifest["inputs"][0]["sha256"] == sha256_file(publisher.input_file(2024))
    listed = {e["path"]: e for e in manifest["files"]}
    assert {"tables/indicator_values.parquet", "tables/indicator_values.csv", "data_dictionary.json",
            "reports/national.html"} <= set(listed)
    assert listed["tables/indicator_values.csv"]["rows"] == len(make_tables(2024)["indicator_values"])
    pointer = json.loads((store.year_dir(2024) / "latest.json").read_text())
    assert pointer["release_id"] == r2024.release_id
    assert store.verify(r2023) == [] and store.verify(r2024) == []

    # the CSV carries a BOM and keeps codes as text
    raw = (r2024.path / "tables" / "kommune_benchmarks.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b",101," in raw and "økonomi".encode() in (
        r2024.path / "tables" / "barrier_scores.csv"
    ).read_bytes()
    # published files are read-only
    assert not (r2024.path / "tables" / "indicator_values.parquet").stat().st_mode & 0o222


def test_unchanged_rerun_reuses_the_release(store, publisher):
    first = publisher.publish(2024)
    again_check = store.reusable(2024, publisher.fingerprint(2024))
    assert again_check is not None and again_check.release_id == first.release_id

    # even when a caller stages anyway, publish reuses under the lock: no revision, no rows, no folder
    staged = publisher.stage(2024)
    again = store.publish(staged)
    assert again.reused and again.release_id == first.release_id
    assert [r.revision for r in store.releases(2024)] == [1]
    assert len(store.read_table("year_summary", year=2024)) == 1
    assert not staged.path.exists()
    assert [p.name for p in store.year_dir(2024).iterdir() if p.is_dir()] == [first.release_id]


def test_changed_input_makes_a_new_revision_and_keeps_the_old_files(store, publisher):
    first = publisher.publish(2024)
    before = snapshot(first.path)

    publisher.input_file(2024, "respondent_id,kommune\nr1,101\nr2,147\n")
    second = publisher.publish(2024, bump=0.01)

    assert second.revision == 2 and second.release_id.startswith("2024-r2-")
    assert second.fingerprint != first.fingerprint
    assert snapshot(first.path) == before  # published releases are never modified
    latest = store.read_table("indicator_values", year=2024)
    assert set(latest["release_id"]) == {second.release_id}
    old = store.read_table("indicator_values", release=first.release_id)
    assert set(old["release_id"]) == {first.release_id}
    assert not latest["share"].equals(old["share"])
    assert store.verify(first) == [] and store.verify(second) == []
    assert json.loads((store.year_dir(2024) / "latest.json").read_text())["release_id"] == second.release_id
    assert second.manifest["supersedes"] == first.release_id

    # going back to the first inputs is a new revision too (latest differs), not a resurrection
    publisher.input_file(2024, f"respondent_id,kommune\nr1,101\n# synthetic 2024\n")
    third = publisher.publish(2024)
    assert third.revision == 3 and third.fingerprint == first.fingerprint


def test_every_manifest_checksum_verifies_and_tampering_is_found(store, publisher):
    release = publisher.publish(2024)
    for entry in release.manifest["files"]:
        assert sha256_file(release.path / entry["path"]) == entry["sha256"]
    assert store.verify(release) == []

    csv = release.path / "tables" / "year_summary.csv"
    csv.chmod(0o644)
    csv.write_bytes(csv.read_bytes().replace(b"812", b"813"))
    (release.path / "reports" / "extra.html").write_text("x")
    problems = store.verify(release)
    assert any("year_summary.csv: SHA-256" in p for p in problems)
    assert any("CSV and Parquet files differ" in p for p in problems)
    assert any("extra.html: not listed" in p for p in problems)


def test_warehouse_rows_must_match_files(store, publisher):
    release = publisher.publish(2024)
    import sqlalchemy as sa

    table = warehouse_module.data_tables["year_summary"]
    with store.warehouse.engine.begin() as conn:
        conn.execute(sa.update(table).where(table.c.release_id == release.release_id).values(respondents=1))
    assert store.verify(release) == ["year_summary: warehouse rows differ from tables/year_summary.parquet"]


def test_withdraw_falls_back_to_the_previous_release(store, publisher):
    first = publisher.publish(2024)
    second = publisher.publish(2024, bump=0.02)
    files_before = snapshot(second.path)

    withdrawn = store.withdraw(second.release_id, "wrong mapping for ledelse")
    assert withdrawn.withdrawn and withdrawn.withdrawn_reason == "wrong mapping for ledelse"
    assert store.latest(2024).release_id == first.release_id
    assert set(store.read_table("kommune_benchmarks", year=2024)["release_id"]) == {first.release_id}
    assert json.loads((store.year_dir(2024) / "latest.json").read_text())["release_id"] == first.release_id
    marker = json.loads((second.path / "WITHDRAWN.json").read_text())
    assert marker["reason"] == "wrong mapping for ledelse"
    assert {k: v for k, v in snapshot(second.path).items() if k != "WITHDRAWN.json"} == files_before
    assert store.verify(second) == []  # still intact on disk and in the warehouse
    assert len(store.read_table("kommune_benchmarks", release=second.release_id)) > 0

    with pytest.raises(AlreadyWithdrawnError):
        store.withdraw(second.release_id, "again")
    with pytest.raises(ReleaseNotFoundError):
        store.withdraw("2024-r9-000000000000", "nope")

    # the fingerprint of the withdrawn release is not 'latest': publishing it again makes revision 3
    third = publisher.publish(2024, bump=0.02)
    assert third.revision == 3 and not third.reused

    store.withdraw(first.release_id, "x")
    store.withdraw(third.release_id, "y")
    assert store.latest(2024) is None
    assert store.read_table("indicator_values", year=2024).empty
    assert json.loads((store.year_dir(2024) / "latest.json").read_text())["release_id"] is None


def test_stage_rejects_tables_off_contract(store, publisher):
    tables = make_tables(2024)
    tables["year_summary"] = tables["year_summary"].drop(columns=["respondents"])
    with pytest.raises(TableContractError, match="respondents"):
        store.stage(2024, "f" * 64, tables, [], {}, {}, None)
    tables = make_tables(2024)
    tables["indicator_values"]["free_text"] = "x"
    with pytest.raises(TableContractError, match="free_text"):
        store.stage(2024, "f" * 64, tables, [], {}, {}, None)
    tables = make_tables(2024)
    del tables["quarantine_summary"]
    with pytest.raises(TableContractError, match="quarantine_summary"):
        store.stage(2024, "f" * 64, tables, [], {}, {}, None)
    with pytest.raises(UnknownTableError):
        store.read_table("respondents")
    with pytest.raises(ReleaseNotFoundError):
        store.read_table("indicator_values", release="2024-r1-nothere")


INTERRUPTIONS = [
    # (where, what to patch) - each raises as if the process died there
    ("writing tables", lambda mp: mp.setattr(files, "write_csv", _boom)),
    ("writing the manifest", lambda mp: mp.setattr(manifest, "write", _boom)),
    ("renaming into place", lambda mp: mp.setattr(os, "rename", _boom)),
    ("inserting rows", lambda mp: mp.setattr(warehouse_module.Warehouse, "_insert_rows", _boom_late())),
    ("committing", lambda mp: mp.setattr(warehouse_module.Warehouse, "insert_release", _boom)),
]


class Crash(Exception):
    pass


def _boom(*args, **kwargs):
    raise Crash("injected")


def _boom_late():
    real = warehouse_module.Warehouse._insert_rows
    calls = {"n": 0}

    def insert(self, conn, name, rows):
        calls["n"] += 1
        if calls["n"] == 3:  # after the releases row and two tables went in
            raise Crash("injected")
        return real(self, conn, name, rows)

    return insert


@pytest.mark.slow
@pytest.mark.parametrize("where,patch", INTERRUPTIONS, ids=[i[0] for i in INTERRUPTIONS])
def test_an_interrupted_publish_is_invisible_and_the_next_succeeds(store, publisher, monkeypatch, where, patch):
    first = publisher.publish(2024)
    before = visible_state(store, 2024)
    first_files = snapshot(first.path)

    with monkeypatch.context() as mp:
        patch(mp)
        with pytest.raises(Crash):
            publisher.publish(2024, bump=0.03)

    assert visible_state(store, 2024) == before
    assert read_table("indicator_values", year=2024, warehouse_url=store.warehouse_url)["release_id"].unique().tolist() == [
        first.release_id
    ]
    assert [p.name for p in store.year_dir(2024).iterdir() if p.is_dir()] == [first.release_id]

    second = publisher.publish(2024, bump=0.03)
    assert second.revision == 2 and store.verify(second) == []
    assert store.latest(2024).release_id == second.release_id
    assert snapshot(first.path) == first_files


@pytest.mark.slow
def test_a_crash_between_rename_and_commit_leaves_no_release(store, publisher, monkeypatch):
    """A hard crash (no exception handler ran): the folder sits in <year>/ without its row."""
    first = publisher.publish(2024)
    monkeypatch.setattr(warehouse_module.Warehouse, "insert_release", _boom)
    monkeypatch.setattr(publishing, "move_back_to_staging", lambda paths, folder, staging: folder)  # no handler ran
    with pytest.raises(Crash):
        publisher.publish(2024, bump=0.04)
    monkeypatch.undo()
    orphan = [p for p in store.year_dir(2024).iterdir() if p.is_dir() and p.name != first.release_id]
    assert len(orphan) == 1 and (orphan[0] / "manifest.json").exists()
    # not a release: no reader sees it
    assert [r.release_id for r in store.releases(2024)] == [first.release_id]
    assert store.latest(2024).release_id == first.release_id
    assert json.loads((store.year_dir(2024) / "latest.json").read_text())["release_id"] == first.release_id

    moved = store.cleanup_incomplete()
    assert not orphan[0].exists() and any(".orphaned" in str(p) for p in moved)
    second = publisher.publish(2024, bump=0.04)
    assert second.revision == 2 and store.verify(second) == []


def crash_when_moving_the_pointer(monkeypatch) -> None:
    """Publishing crashes right after the commit, when it moves `latest.json` (the repair check still works)."""
    real = pointer.write

    def crash_when_moving(paths, year, latest, only_if_changed=False):
        if not only_if_changed:  # the pointer move after the commit, not the repair check before it
            raise Crash("injected")
        return real(paths, year, latest, only_if_changed)

    monkeypatch.setattr(pointer, "write", crash_when_moving)


@pytest.mark.slow
def test_a_crash_after_commit_is_published_and_the_pointer_is_repaired(store, publisher, monkeypatch):
    first = publisher.publish(2024)
    crash_when_moving_the_pointer(monkeypatch)
    with pytest.raises(Crash):
        publisher.publish(2024, bump=0.05)
    monkeypatch.undo()
    # the releases row is the commit point: the release is published, the views show it
    second = store.latest(2024)
    assert second.revision == 2 and store.verify(second) == []
    pointer = store.year_dir(2024) / "latest.json"
    assert json.loads(pointer.read_text())["release_id"] == first.release_id  # stale until repaired
    store.cleanup_incomplete()
    assert json.loads(pointer.read_text())["release_id"] == second.release_id


def test_two_fresh_output_folders_give_byte_identical_tables(tmp_path, warehouse_url):
    results = []
    for i, url in enumerate([warehouse_url, f"sqlite:///{tmp_path / 'other.sqlite'}"]):
        with ReleaseStore(tmp_path / f"out{i}", url) as s:
            results.append(Publisher(s, tmp_path / "inputs").publish(2024))
    a, b = results
    assert a.release_id == b.release_id
    tables_a, tables_b = snapshot(a.path / "tables"), snapshot(b.path / "tables")
    assert tables_a == tables_b and len(tables_a) == 2 * len(make_tables(2024))
    assert (a.path / "data_dictionary.json").read_bytes() == (b.path / "data_dictionary.json").read_bytes()
    files_a = {e["path"]: e["sha256"] for e in a.manifest["files"]}
    files_b = {e["path"]: e["sha256"] for e in b.manifest["files"]}
    assert files_a == files_b


def test_concurrent_publishes_of_one_year_take_distinct_revisions(tmp_path, warehouse_url):
    """Two stores (as two processes would) stage before either publishes; the lock + re-stamp keep order."""
    stores = [ReleaseStore(tmp_path / "out", warehouse_url, lock_timeout=60) for _ in range(2)]
    publishers = [Publisher(s, tmp_path / "inputs") for s in stores]
    staged = [p.stage(2024, bump=0.1 * (i + 1)) for i, p in enumerate(publishers)]
    assert staged[0].release_id.startswith("2024-r1-") and staged[1].release_id.startswith("2024-r1-")
    results: list = [None, None]
    errors: list = []

    def run(i):
        try:
            results[i] = stores[i].publish(staged[i])
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(r.revision for r in results) == [1, 2]
    restamped = [r for r in results if r.restamped_from]
    assert len(restamped) == 1 and restamped[0].release_id.startswith("2024-r2-")
    for r in results:
        assert stores[0].verify(r) == []
        assert set(stores[0].read_table("year_summary", release=r.release_id)["release_id"]) == {r.release_id}
    for s in stores:
        s.close()


def test_the_database_guard_rejects_a_duplicate_revision(store, publisher):
    from benchmark_pipeline.release import PublishConflictError

    first = publisher.publish(2024)
    row = store.warehouse.release_rows(release_id=first.release_id)[0]
    row = {**row, "release_id": "2024-r1-ffffffffffff", "fingerprint": "f" * 64}
    with pytest.raises(PublishConflictError):
        store.warehouse.insert_release(row, {})


def test_reading_a_fresh_warehouse_finds_nothing(tmp_path):
    with ReleaseStore(tmp_path / "out") as s:
        assert s.releases() == [] and s.latest(2024) is None
        frame = s.read_table("indicator_values")
        assert frame.empty and frame.columns[0] == "release_id"
    assert not (tmp_path / "out" / "warehouse.sqlite").exists()


def test_stale_staging_is_cleaned(store, publisher):
    staged = publisher.stage(2024)
    assert store.cleanup_incomplete(staging_max_age_seconds=3600) == []
    assert staged.path.exists()
    removed = store.cleanup_incomplete(staging_max_age_seconds=0)
    assert staged.path in removed and not staged.path.exists()


def test_consumer_read_table_matches_the_files(store, publisher):
    release = publisher.publish(2024)
    for name in release.manifest["tables"]:
        from_sql = read_table(name, year=2024, warehouse_url=store.warehouse_url)
        from_file = pd.read_parquet(release.path / "tables" / f"{name}.parquet")
        assert from_sql.astype(str).values.tolist() == from_file.astype(str).values.tolist()
        assert list(from_sql.columns) == list(from_file.columns)


def test_a_publish_whose_commit_failed_is_staged_again_and_a_retry_publishes_it(store, publisher, monkeypatch):
    """A retried step reads the staged path it was given: the folder must be back there, writable."""
    staged = publisher.stage(2024)
    staging = staged.path
    with monkeypatch.context() as mp:
        mp.setattr(warehouse_module.Warehouse, "insert_release", _boom)
        with pytest.raises(Crash):
            store.publish(staged)
    assert store.releases(2024) == [] and not any(p.is_dir() for p in store.year_dir(2024).iterdir())
    assert staged.path == staging and staging.is_dir()
    assert all(os.access(f, os.W_OK) for f in staging.rglob("*") if f.is_file())
    retried = dataclasses.replace(staged)  # as the retry loads it: the staged release it was handed
    release = store.publish(retried)
    assert release.release_id == staged.release_id and store.verify(release) == []


def test_a_publish_that_failed_before_the_rename_can_be_retried(store, publisher, monkeypatch):
    staged = publisher.stage(2024)
    with monkeypatch.context() as mp:
        mp.setattr(os, "rename", _boom)
        with pytest.raises(Crash):
            store.publish(staged)
    assert store.releases(2024) == [] and staged.path.is_dir()
    release = store.publish(staged)
    assert release.revision == 1 and store.verify(release) == []


def test_a_reuse_after_a_crash_after_commit_repairs_the_pointer(store, publisher, monkeypatch):
    """The next run of the same inputs reuses the committed release; the reuse check moves the pointer."""
    first = publisher.publish(2024)
    crash_when_moving_the_pointer(monkeypatch)
    with pytest.raises(Crash):
        publisher.publish(2024, bump=0.06)
    monkeypatch.undo()
    pointer = store.year_dir(2024) / "latest.json"
    assert json.loads(pointer.read_text())["release_id"] == first.release_id
    reused = publisher.publish(2024, bump=0.06)
    assert reused.reused and reused.revision == 2
    assert json.loads(pointer.read_text())["release_id"] == reused.release_id


def test_environment_failures_say_what_to_do(tmp_path):
    from benchmark_pipeline.release import StorageError, WarehouseUnavailableError

    with ReleaseStore(tmp_path / "out", "postgresql+psycopg2://postgres@127.0.0.1:1/none") as s:
        with pytest.raises(WarehouseUnavailableError) as caught:
            s.releases(2024)
    message = str(caught.value)
    assert "127.0.0.1:1" in message and "make sure the database server is running" in message
    assert caught.value.__cause__ is None  # the runner shows this message, not the driver's
    error = errors.storage_error("cannot publish 2024-r1-x", OSError(28, "No space left on device"))
    assert isinstance(error, StorageError) and error.exit_code == 3
    assert "No space left on device" in str(error) and "free disk space" in str(error)


# -- reports carry the release id, also when another publish took it ---------------------------------------

_RENDERED: dict[str, Path] = {}


@pytest.fixture(scope="module")
def report_inputs(instrument_2023, instrument_2024, kommuner):
    from benchmark_pipeline_tests.reports.fixtures import build_history

    tables, history = build_history(instrument_2023, instrument_2024, kommuner)
    return tables, history, instrument_2024, kommuner


@pytest.fixture(scope="module")
def render(report_inputs, tmp_path_factory):
    """Real 2024 reports rendered for a release id (each id once per module)."""
    from benchmark_pipeline.reports import render_reports

    def rendered(release_id: str) -> Path:
        if release_id not in _RENDERED:
            out = tmp_path_factory.mktemp("reports") / "reports"
            tables, history, instrument, kommuner = report_inputs
            render_reports(out, 2024, tables, history, instrument, kommuner, release_id=release_id)
            _RENDERED[release_id] = out
        return _RENDERED[release_id]

    return rendered


def _stage_with_reports(store: ReleaseStore, publisher: Publisher, bump: float, reports: Path, rendered_id: str):
    year = 2024
    return store.stage(year, publisher.fingerprint(year, bump=bump), make_tables(year, bump), [publisher.input_file(year)],
                       {"stats": "1", "bump": str(bump)}, {"min_respondents": 5, "max_quarantine_share": 0.2},
                       reports_dir=reports, reports_release_id=rendered_id)


def assert_reports_carry(reports: Path, release_id: str, not_id: str) -> None:
    """national.html, a kommune page and the workbook (cover, every page header, every table row) name
    `release_id` and never `not_id`."""
    import openpyxl

    for page in ("national.html", "kommuner/index.html", "kommuner/101.html"):
        html = (reports / page).read_text(encoding="utf-8")
        assert f"Udgivelse {release_id}." in html and not_id not in html, page
    book = openpyxl.load_workbook(reports / "workbook.xlsx")
    try:
        cover = {r[0]: r[1] for r in book["Forside"].iter_rows(values_only=True) if r and r[0]}
        assert cover["Udgivelse"] == release_id and cover["Undersøgelsesår"] == 2024
        for ws in book.worksheets:
            header = ws.oddHeader.right.text
            assert f"Udgivelse {release_id}" in header and "2024" in header and not_id not in header, ws.title
        rows = list(book["Indikatorer"].iter_rows(values_only=True))
        assert rows[0][0] == "Udgivelse" and {r[0] for r in rows[1:]} == {release_id}
    finally:
        book.close()


def test_a_restamped_publish_restamps_its_reports(store, publisher, render, tmp_path):
    """Reports rendered for 2024-r1 (the id the candidate would get) are published as 2024-r2 when another
    publish took r1 first: every page and the workbook then carry r2, byte for byte as a render for r2."""
    rival = ReleaseStore(store.output_dir, store.warehouse_url, lock_timeout=30)
    rendered_id = store.next_release_id(2024, publisher.fingerprint(2024, bump=0.5))
    assert rendered_id.startswith("2024-r1-")
    staged = _stage_with_reports(store, publisher, 0.5, render(rendered_id), rendered_id)
    assert staged.release_id == rendered_id
    assert snapshot(staged.reports_dir) == snapshot(render(rendered_id))

    first = Publisher(rival, tmp_path / "inputs").publish(2024)  # another candidate of the year takes r1
    assert first.release_id.startswith("2024-r1-")
    release = store.publish(staged)
    rival.close()

    assert release.restamped_from == rendered_id and release.release_id.startswith("2024-r2-")
    assert_reports_carry(release.reports_dir, release.release_id, rendered_id)
    assert snapshot(release.reports_dir) == snapshot(render(release.release_id))
    assert store.verify(release) == []  # the manifest lists the re-stamped files


def test_reports_rendered_before_another_publish_are_restamped_when_staged(store, publisher, render):
    """The revision can also go between rendering and staging: `stage` re-stamps the copies it takes in."""
    rendered_id = store.next_release_id(2024, publisher.fingerprint(2024, bump=0.5))
    publisher.publish(2024)  # takes r1
    staged = _stage_with_reports(store, publisher, 0.5, render(rendered_id), rendered_id)
    assert staged.release_id.startswith("2024-r2-") and staged.release_id != rendered_id
    assert_reports_carry(staged.reports_dir, staged.release_id, rendered_id)
    assert snapshot(staged.reports_dir) == snapshot(render(staged.release_id))
    assert snapshot(render(rendered_id)) != snapshot(staged.reports_dir)  # the rendered folder is left as it was
    release = store.publish(staged)
    assert release.release_id == staged.release_id and release.restamped_from is None


def test_next_release_id_is_the_id_stage_gives(store, publisher):
    fingerprint = publisher.fingerprint(2024)
    assert store.next_release_id(2024, fingerprint) == f"2024-r1-{fingerprint[:12]}"
    published = publisher.publish(2024)
    assert published.release_id == f"2024-r1-{fingerprint[:12]}"
    again = publisher.fingerprint(2024, bump=0.25)
    assert store.next_release_id(2024, again) == publisher.stage(2024, bump=0.25).release_id == f"2024-r2-{again[:12]}"
