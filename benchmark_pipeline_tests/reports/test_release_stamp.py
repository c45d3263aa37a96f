"""The reports name the release they belong to: rendered before the release is staged, with the id the
release store gives the candidate (`ReleaseStore.next_release_id`), and re-stamped if another publish takes
it (benchmark_pipeline_tests/release/test_store.py)."""

from __future__ import annotations

import json

import openpyxl
import pytest

from benchmark_pipeline.release.publishing import restamp_reports

YEARS = (2023, 2024, 2025)

pytestmark = pytest.mark.slow  # the shipped samples published once by the CLI (shared with the browser tests)


@pytest.mark.parametrize("year", YEARS)
def test_a_real_run_shows_the_published_release_id_in_the_reports_and_the_workbook(published_samples, year):
    release_id = published_samples.release_ids[year]
    release_dir = published_samples.output_dir / "releases" / str(year) / release_id
    assert json.loads((release_dir / "manifest.json").read_text(encoding="utf-8"))["release_id"] == release_id
    reports = release_dir / "reports"
    footer = f"Spørgeskemaundersøgelse om kommunernes brug af borgerrelaterede data, {year}. Udgivelse {release_id}."
    for page in ("national.html", "kommuner/index.html", "kommuner/101.html", "kommuner/153.html"):
        assert footer in (reports / page).read_text(encoding="utf-8"), page
    national = (reports / "national.html").read_text(encoding="utf-8")
    assert f"hører til udgivelse {release_id} af undersøgelsen {year}" in national  # the method section

    book = openpyxl.load_workbook(reports / "workbook.xlsx")
    try:
        cover = {r[0]: r[1] for r in book["Forside"].iter_rows(values_only=True) if r and r[0]}
        assert cover["Udgivelse"] == release_id and cover["Undersøgelsesår"] == year
        for ws in book.worksheets:
            assert ws.oddHeader.right.text == f"Udgivelse {release_id} \u00b7 undersøgelsesår {year}", ws.title
            assert ws.oddHeader.left.text.endswith(str(year)), ws.title
        for name in ("Indikatorer", "Barrierer", "Kommuner", "Årsoversigt"):
            rows = list(book[name].iter_rows(values_only=True))
            assert rows[0][0] == "Udgivelse" and {r[0] for r in rows[1:]} == {release_id}, name
    finally:
        book.close()


def test_outside_a_release_no_id_is_shown_and_none_is_made_up(tmp_path, report_tables, instrument_2024, kommuner):
    """Tables without a release id and no id given (as the benchmark renders): no "Udgivelse" anywhere."""
    from benchmark_pipeline.reports import render_reports

    tables, history = report_tables
    bare = {name: df.drop(columns=["release_id"], errors="ignore") for name, df in tables.items()}
    render_reports(tmp_path, 2024, bare, history, instrument_2024, kommuner)
    assert "Udgivelse" not in (tmp_path / "national.html").read_text(encoding="utf-8")
    book = openpyxl.load_workbook(tmp_path / "workbook.xlsx")
    try:
        cover = {r[0]: r[1] for r in book["Forside"].iter_rows(values_only=True) if r and r[0]}
        assert "Udgivelse" not in cover and cover["Undersøgelsesår"] == 2024
        assert all(ws.oddHeader.right.text == "Undersøgelsesår 2024" for ws in book.worksheets)
    finally:
        book.close()


def test_restamping_gives_the_bytes_of_a_render_with_the_new_id(tmp_path, report_tables, instrument_2024, kommuner):
    """Re-stamping rewrites the pages and the workbook's parts so they equal a render for the new id (a longer
    revision number included), byte for byte."""
    from benchmark_pipeline.reports import render_reports

    tables, history = report_tables
    old, new = "2024-r9-0123456789ab", "2024-r10-fedcba987654"
    render_reports(tmp_path / "old", 2024, tables, history, instrument_2024, kommuner, release_id=old)
    render_reports(tmp_path / "new", 2024, tables, history, instrument_2024, kommuner, release_id=new)
    restamp_reports(tmp_path / "old", old, new)
    files = sorted(p.relative_to(tmp_path / "new") for p in (tmp_path / "new").rglob("*") if p.is_file())
    assert sorted(p.relative_to(tmp_path / "old") for p in (tmp_path / "old").rglob("*") if p.is_file()) == files
    assert len(files) == 101
    for rel in files:
        assert (tmp_path / "old" / rel).read_bytes() == (tmp_path / "new" / rel).read_bytes(), rel
