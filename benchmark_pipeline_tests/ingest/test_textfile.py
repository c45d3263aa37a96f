"""Text exports as hostile tools and people save them: old-Mac line ends, rows spanning lines, stray NUL bytes.

Each file is written by the test from the same answers; the oracle for lines is Python's csv module.
"""

import codecs
import csv
import io
import re

import pandas as pd
import pytest

from benchmark_pipeline.ingest import read_export, validate_export
from benchmark_pipeline.ingest.encoding import NUL_MESSAGE
from benchmark_pipeline.ingest.errors import UnreadableExportError
from benchmark_pipeline.ingest.textfile import open_text

from .exports import canonical_table, make_answers

COMMENTS = {2: "første linje\nanden linje\ntredje", 5: "to\r\nlinjer", 6: "\nstarter med et linjeskift"}
BAD_KOMMUNE = 8  # a row after the multi-line ones, quarantined as unknown_kommune


def _table(instrument, n: int = 12, comments: dict | None = None) -> pd.DataFrame:
    table = canonical_table(make_answers(instrument, n=n), instrument)
    for i, text in (comments or {}).items():
        table.loc[i, "kommentar"] = text
    table.loc[BAD_KOMMUNE, "kommune"] = "Atlantis"
    return table


def _csv(table: pd.DataFrame, newline: str = "\n") -> str:
    return table.to_csv(index=False, lineterminator=newline)


def _write(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def _lines_by_csv(text: str) -> list[int]:
    """The line each record after the header starts on, as Python's csv module reads the file."""
    reader = csv.reader(io.StringIO(text, newline=""))
    starts, line = [], 1
    for number, _ in enumerate(reader):
        if number:
            starts.append(line)
        line = reader.line_num + 1
    return starts


def _read(path, instrument, kommuner):
    raw = read_export(path, instrument, kommuner)
    return raw, validate_export(raw, instrument, kommuner)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
@pytest.mark.parametrize("n", [12, 600])  # 600 rows: the header's line end is not in the first read block's reach
def test_old_mac_line_ends_read_as_the_lf_file_reads(encoding, n, instrument_2024, kommuner, tmp_path):
    """Every line ends in CR alone: the canonical frame, the row numbers and the quarantine equal the LF file's."""
    text = _csv(_table(instrument_2024, n))
    lf = _write(tmp_path / "lf.csv", text, encoding)
    cr = _write(tmp_path / "cr.csv", text.replace("\n", "\r"), encoding)
    (lf_raw, lf_result), (cr_raw, cr_result) = (_read(p, instrument_2024, kommuner) for p in (lf, cr))
    assert cr_raw.encoding == lf_raw.encoding and cr_raw.rows_read == n
    pd.testing.assert_frame_equal(cr_result.valid, lf_result.valid)
    pd.testing.assert_frame_equal(cr_result.quarantine, lf_result.quarantine)
    assert cr_result.quarantine["row"].tolist() == [BAD_KOMMUNE + 2]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_rows_spanning_lines_keep_their_row_numbers_and_know_their_lines(newline, instrument_2024, tmp_path):
    comments = {i: t.replace("\r\n", "\n").replace("\n", newline) for i, t in COMMENTS.items()}
    text = _csv(_table(instrument_2024, comments=comments), newline)
    path = _write(tmp_path / "export.csv", text)
    with open_text(path) as source:
        frame = source.table(frozenset({"respondent_id", "kommentar"}))
        lines = source.lines
    assert frame["source_row"].tolist() == list(range(2, 14))
    assert frame.loc[2, "kommentar"] == comments[2]
    assert lines.tolist() == _lines_by_csv(text)
    assert lines[BAD_KOMMUNE] == BAD_KOMMUNE + 2 + 4  # four line breaks in the cells above it


def test_line_breaks_in_a_coded_column_count_too(instrument_2024, tmp_path):
    table = _table(instrument_2024)
    table.loc[3, "fagomraade"] = "to\nlinjer"
    text = _csv(table)
    with open_text(_write(tmp_path / "export.csv", text)) as source:
        source.table(frozenset({"respondent_id", "kommentar"}))
        assert source.lines.tolist() == _lines_by_csv(text)


def test_one_line_rows_need_no_line_numbers(instrument_2024, tmp_path):
    with open_text(_write(tmp_path / "export.csv", _csv(_table(instrument_2024), "\r\n"))) as source:
        source.table(frozenset({"respondent_id", "kommentar"}))
        assert source.lines is None


def test_a_ragged_row_after_rows_spanning_lines_names_its_line(instrument_2024, kommuner, tmp_path):
    lines = _csv(_table(instrument_2024, comments=COMMENTS)).split("\n")
    ragged = next(i for i, line in enumerate(lines) if line.startswith(str(1000 + BAD_KOMMUNE)))
    lines[ragged] += ",overskydende"
    path = _write(tmp_path / "export.csv", "\n".join(lines))
    with pytest.raises(UnreadableExportError) as info:
        read_export(path, instrument_2024, kommuner)
    assert f"row {BAD_KOMMUNE + 2}: the row (line {ragged + 1} of the file) has 32 fields" in str(info.value)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_a_stray_nul_is_located_by_row_line_and_column(encoding, instrument_2024, kommuner, tmp_path):
    """UTF-8 is parsed from disk, the others after decoding in memory: the same message either way."""
    table = _table(instrument_2024, comments=COMMENTS)
    table.loc[9, "kommentar"] = "en NUL\x00 midt i"
    path = _write(tmp_path / "export.csv", _csv(table), encoding)
    with pytest.raises(UnreadableExportError) as info:
        read_export(path, instrument_2024, kommuner)
    message = str(info.value)
    assert "row 11, column 'kommentar': the file contains NUL bytes, the first in this cell (line 15 of" in message
    assert "remove the stray character" in message and "UTF-16" not in message


def test_a_stray_nul_in_the_header_is_located(instrument_2024, kommuner, tmp_path):
    path = _write(tmp_path / "export.csv", _csv(_table(instrument_2024)).replace("kommune", "kom\x00mune", 1))
    with pytest.raises(UnreadableExportError, match=r"row 1: the file contains NUL bytes, the first in the header, "
                                                    r"column 2: .*remove the stray character"):
        read_export(path, instrument_2024, kommuner)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_still_named_as_such(codec, instrument_2024, kommuner, tmp_path):
    path = _write(tmp_path / "export.csv", _csv(_table(instrument_2024)), codec)
    with pytest.raises(UnreadableExportError, match=re.escape(NUL_MESSAGE)):
        read_export(path, instrument_2024, kommuner)


def test_a_bom_over_windows_1252_names_line_and_column(instrument_2024, kommuner, tmp_path):
    lines = _csv(_table(instrument_2024)).split("\n")
    lines[4] = lines[4].replace(",", ",Læsø ", 1)
    data = codecs.BOM_UTF8 + "\n".join(lines[:4]).encode() + b"\n" + "\n".join(lines[4:]).encode("cp1252")
    (tmp_path / "export.csv").write_bytes(data)
    with pytest.raises(UnreadableExportError) as info:
        read_export(tmp_path / "export.csv", instrument_2024, kommuner)
    column = lines[4].index("æ") + 1
    assert f"UTF-8 byte-order mark, but line 5, column {column} is not UTF-8 (byte 0xE6" in str(info.value)
    assert "save the whole file as UTF-8" in str(info.value)

