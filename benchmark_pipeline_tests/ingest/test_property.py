"""Whatever arrives, ingestion either succeeds or raises IngestError, never another exception."""

import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmark_pipeline.ingest import IngestError, read_export, validate_export

from .exports import canonical_table, make_answers, write_text, write_xlsx

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


def ingest(path, instrument, kommuner):
    try:
        raw = read_export(path, instrument, kommuner)
        result = validate_export(raw, instrument, kommuner, max_quarantine_share=1.0)
    except IngestError as exc:
        assert exc.exit_code in (1, 2)
        assert str(exc)
        return None
    c = result.counts
    assert c["rows_read"] == c["rows_valid"] + c["rows_quarantined"] + c["duplicates_collapsed"] + c["rows_empty"]
    return result


@SETTINGS
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".xlsx", ".txt", ".tsv"]))
def test_arbitrary_bytes(data, suffix, instrument_2024, kommuner):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"export{suffix}"
        path.write_bytes(data)
        ingest(path, instrument_2024, kommuner)


@SETTINGS
@given(
    prefix=st.binary(max_size=40),
    body=st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
)
def test_canonical_header_with_garbage_body(prefix, body, instrument_2024, kommuner):
    header = ",".join(canonical_table(make_answers(instrument_2024, n=1), instrument_2024).columns)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.csv"
        path.write_bytes(header.encode() + b"\n" + prefix + body.encode("utf-8"))
        ingest(path, instrument_2024, kommuner)


cell = st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["1", "0", "2", "-1", "101", "Ærø", "tid", ";", '"']))


@SETTINGS
@given(
    cells=st.lists(st.lists(cell, min_size=45, max_size=45), min_size=0, max_size=6),
    drop=st.lists(st.integers(0, 44), max_size=3),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
    sep=st.sampled_from([",", ";", "\t"]),
)
def test_malformed_canonical_tables(cells, drop, encoding, sep, instrument_2024, kommuner):
    columns = list(canonical_table(make_answers(instrument_2024, n=1), instrument_2024).columns)
    table = pd.DataFrame([row[: len(columns)] for row in cells], columns=columns, dtype=object)
    table = table.drop(columns=[columns[i] for i in set(drop) if i < len(columns)])
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = write_text(table, Path(tmp) / "x.csv", encoding=encoding, sep=sep)
        except UnicodeEncodeError:
            return  # not representable in cp1252: no such file can exist
        ingest(path, instrument_2024, kommuner)


@SETTINGS
@given(
    cells=st.lists(st.lists(st.one_of(cell, st.integers(-5, 900), st.floats(allow_nan=True)), min_size=4,
                            max_size=4), max_size=5),
    sheet=st.sampled_from(["Dataset", "Form1", "Labels"]),
)
def test_malformed_workbooks(cells, sheet, instrument_2024, instrument_2025, kommuner):
    columns = ["respondentid", "ID", "Starttidspunkt", "kommune"]
    table = pd.DataFrame(cells, columns=columns, dtype=object) if cells else pd.DataFrame(columns=columns)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = write_xlsx({sheet: table}, Path(tmp) / "x.xlsx")
        except Exception:
            return  # openpyxl refuses some control characters: no such workbook can exist
        for instrument in (instrument_2024, instrument_2025):
            ingest(path, instrument, kommuner)
