"""The calamine reader gives what the openpyxl reader gave (`openpyxl_route.py`, the reader before it): the same
frame of every sheet, the same sheet chosen, the same raw export and canonical rows, or the same refusal, on the
shipped samples, the bad-input corpus and generated workbooks (cell types, blanks, dates, numbers as text,
hidden sheets, title rows, stray cells, error values, duplicate headers)."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmark_pipeline.ingest import IngestError, validate_export
from benchmark_pipeline.ingest.readers import find_export, read_source
from benchmark_pipeline.ingest.workbook import WORKBOOK, open_workbook_source
from benchmark_pipeline.settings import DEFAULT_DATA_DIR
from benchmark_pipeline_tests.reliability.corpus import CASES, build_case, case_id

from .openpyxl_route import open_openpyxl_source

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
OPENERS = {"openpyxl": open_openpyxl_source, "calamine": open_workbook_source}


def outcome(error: Exception) -> str:
    """The refusal as the user sees it; which exception the library raised inside is the reader's own."""
    assert isinstance(error, IngestError), repr(error)
    return re.sub(r"not a readable \.xlsx workbook \(\w+\)", "not a readable .xlsx workbook",
                  f"{type(error).__name__}: {error}")


def sheet_frames(path: Path, opener) -> dict[str, object]:
    """Each sheet's frame (or the refusal reading it) and which sheet Forms would read."""
    out: dict[str, object] = {}
    try:
        with opener(path) as source:
            titles = [s.title for s in source.worksheets]
            for title in titles:
                try:
                    out[title] = source.frame(source.sheet(title))
                except IngestError as exc:
                    out[title] = outcome(exc)
            try:
                out["(first visible)"] = source.first_visible_sheet().title
            except IngestError as exc:
                out["(first visible)"] = outcome(exc)
            out["(looked at)"] = source.sheets_looked_at
    except IngestError as exc:
        out["(open)"] = outcome(exc)
    return out


def read(path: Path, instrument, kommuner, opener):
    """What ingestion makes of the workbook: raw export and canonical valid rows, or the refusal."""
    try:
        with opener(path) as source:
            raw = read_source(source, WORKBOOK, instrument)
        result = validate_export(raw, instrument, kommuner, max_quarantine_share=1.0)
    except IngestError as exc:
        return outcome(exc)
    return raw.layout, raw.sheet, raw.dropped_columns, raw.frame, raw.labels, result.valid, result.quarantine, \
        result.counts


def assert_same(a, b):
    if isinstance(a, pd.DataFrame) or isinstance(b, pd.DataFrame):
        assert isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame), (a, b)
        pd.testing.assert_frame_equal(a, b)
    elif isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        assert len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), (a.keys(), b.keys())
        for key in a:
            assert_same(a[key], b[key])
    else:
        assert a == b


def assert_routes_agree(path: Path, instruments, kommuner):
    assert_same(sheet_frames(path, open_openpyxl_source), sheet_frames(path, open_workbook_source))
    for instrument in instruments:
        assert_same(read(path, instrument, kommuner, open_openpyxl_source),
                    read(path, instrument, kommuner, open_workbook_source))


# ------------------------------------------------------------------------- the shipped samples and the corpus


@pytest.mark.parametrize("year", [2023, 2025])
def test_the_shipped_samples_read_the_same(year, instrument_2023, instrument_2024, instrument_2025, kommuner):
    path = find_export(DEFAULT_DATA_DIR / "raw" / str(year))
    with open_workbook_source(path) as source:  # not trivially equal: rows were read
        assert len(source.frame(source.first_visible_sheet())) >= 20
    assert_routes_agree(path, [instrument_2023, instrument_2024, instrument_2025], kommuner)


WORKBOOK_CASES = [c for c in CASES if c.name.endswith(".xlsx")]


def test_the_corpus_has_workbooks():
    assert len(WORKBOOK_CASES) >= 15


@pytest.mark.parametrize("case", WORKBOOK_CASES, ids=case_id)
def test_the_corpus_reads_the_same(case, tmp_path, instrument_2023, instrument_2024, instrument_2025, kommuner):
    path = build_case(case, tmp_path / "raw" / str(case.year))
    by_year = {2023: instrument_2023, 2024: instrument_2024, 2025: instrument_2025}
    assert_routes_agree(find_export(path), [by_year[case.year]], kommuner)


# ------------------------------------------------------------------------- generated workbooks

def _to_milliseconds(value):
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


HEADERS = ["respondentid", "ID", "Starttidspunkt", "kommune", "Mail", "s_1", "noter", "ID ", "2024", "source_row"]
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8).filter(
    lambda s: "_x" not in s)  # `_x000D_` is how Excel escapes a character: openpyxl writes it unescaped
cell = st.one_of(
    st.none(),
    text,
    st.sampled_from(["007", "1", " 12 ", "1,5", "1.0", "-0", "Ærø", "101", "Mere;Mindre;", "#N/A", "#DIV/0!", " "]),
    st.integers(-10**15, 10**15),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.booleans(),
    # Excel keeps a time to the millisecond; a finer one is rounded by each reader in its own way near a
    # half millisecond (seen: 46.2305 s in the year 3015 read as .230 by openpyxl and .231 by calamine).
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9999, 12, 31)).map(_to_milliseconds),
    st.dates(min_value=dt.date(1900, 3, 1)),
    st.times().map(_to_milliseconds),
)
header = st.one_of(st.none(), st.sampled_from(HEADERS), text.filter(lambda s: s.strip() or not s))


@st.composite
def workbook_sheets(draw):
    """One to three sheets: a header (perhaps blank cells, a repeat, a title row above it), rows of any cells,
    perhaps blank rows, a stray cell past the header, a hidden sheet."""
    sheets = []
    for number in range(draw(st.integers(1, 3))):
        width = draw(st.integers(0, 6))
        names = draw(st.lists(header, min_size=width, max_size=width))
        rows = draw(st.lists(st.lists(cell, min_size=width, max_size=width + draw(st.integers(0, 1))),
                             max_size=8))
        above = draw(st.sampled_from([[], [], [], [["Dataunderstøttelse 2025"]], [[None], ["x", dt.date(2024, 1, 2)]]]))
        state = draw(st.sampled_from(["visible", "visible", "hidden"]))
        sheets.append((draw(st.sampled_from(["Dataset", "Labels", "Sheet1", "Form1", "Hjælp"])) + f"{number or ''}",
                       above + [names] + rows, state))
    return sheets


def write_sheets(sheets, path: Path) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows, state in sheets:
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        ws.sheet_state = state
    wb.save(path)
    return path


@SETTINGS
@given(sheets=workbook_sheets())
def test_generated_workbooks_read_the_same(sheets, instrument_2023, instrument_2025, kommuner):
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = write_sheets(sheets, Path(tmp) / "x.xlsx")
        except Exception:
            return  # openpyxl refuses some values (control characters, a duplicate title): no such workbook
        assert_routes_agree(path, [instrument_2023, instrument_2025], kommuner)


@SETTINGS
@given(rows=st.lists(st.lists(cell, min_size=4, max_size=4), min_size=1, max_size=6),
       layout=st.sampled_from(["Dataset", "Sheet1"]))
def test_generated_exports_read_the_same(rows, layout, instrument_2023, instrument_2025, kommuner):
    """Answers of any type under the headers the layouts know, so rows get as far as mapping and validation."""
    columns = ["respondentid", "kommune", "s_1", "s_2"] if layout == "Dataset" else \
        ["ID", "Starttidspunkt", instrument_2025.questions[0].text, instrument_2025.questions[1].text]
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = write_sheets([(layout, [columns] + rows, "visible")], Path(tmp) / "x.xlsx")
        except Exception:
            return
        assert_routes_agree(path, [instrument_2023, instrument_2025], kommuner)
