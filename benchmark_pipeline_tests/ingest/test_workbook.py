"""Hostile Excel exports read right or refused clearly: formulas without results, zip bombs, a title row above
the header, a hidden first sheet. Every workbook is made here, with openpyxl or zipfile."""

from __future__ import annotations

import io
import re
import sys
import tracemalloc
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from benchmark_pipeline.ingest import LayoutError, read_export, validate_export
from benchmark_pipeline.ingest.errors import UnreadableExportError
from benchmark_pipeline.ingest.layouts import BY_NAME
from benchmark_pipeline.ingest.workbook import (
    LAST_SPACE,
    MAX_COMPRESSION_RATIO,
    MAX_SHEET_CELLS,
    MAX_UNPACKED_BYTES,
    RATIO_CHECKED_FROM_BYTES,
    _stripped_texts,
    formulas_without_values,
    open_workbook_source,
    scan_sheet,
)

from .exports import forms_table, make_answers, rewrite_part

SHEET_XML = "xl/worksheets/sheet1.xml"
SHARED_STRINGS_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def forms_workbook(path, table: pd.DataFrame, edit=None):
    """A Forms export as openpyxl saves it (sheet 'Form1'), after `edit(wb)`."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Form1"
    ws.append(list(table.columns))
    for row in table.itertuples(index=False):
        ws.append([None if pd.isna(v) else v for v in row])
    if edit is not None:
        edit(wb)
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def table(instrument_2025):
    return forms_table(make_answers(instrument_2025, n=15), instrument_2025)


@pytest.fixture(scope="module")
def expected(table, instrument_2025, kommuner, tmp_path_factory):
    path = forms_workbook(tmp_path_factory.mktemp("plain") / "forms.xlsx", table)
    return validate_export(read_export(path, instrument_2025, kommuner), instrument_2025, kommuner).valid


# ------------------------------------------------------------------------- formulas


def answer_formulas(table: pd.DataFrame, question: str, rows: int):
    """An edit: the first `rows` answers of `question` become formulas giving the same label (="Mere")."""
    column = list(table.columns).index(question) + 1

    def edit(wb):
        ws = wb["Form1"]
        for row in range(2, 2 + rows):
            label = ws.cell(row=row, column=column).value
            if label is not None:
                ws.cell(row=row, column=column).value = f'="{label}"'

    return edit


def cache_results(data: bytes) -> bytes:
    """Store each `="label"` formula's result as Excel does when it saves: a text result with its value."""
    return re.sub(rb'<c r="([A-Z]+\d+)"([^>]*)><f>"([^"<]*)"</f><v ?/>', rb'<c r="\1"\2 t="str"><f>"\3"</f><v>\3</v>',
                  data)


def test_formulas_without_results_are_refused_naming_sheet_cells_and_count(table, instrument_2025, kommuner,
                                                                           tmp_path):
    question = instrument_2025.question("data_use_change").text
    column = chr(ord("A") + list(table.columns).index(question))
    rows = [row for row, label in enumerate(table[question].head(14), start=2) if label is not None]
    path = forms_workbook(tmp_path / "forms.xlsx", table, answer_formulas(table, question, 14))
    with pytest.raises(UnreadableExportError) as info:
        read_export(path, instrument_2025, kommuner)
    assert info.value.exit_code == 2
    first, second, third = (f"{column}{row}" for row in rows[:3])
    assert str(info.value) == (
        f"{path}: sheet 'Form1' has {len(rows)} cells holding a formula without a calculated value, which would be "
        f"read as blank answers: cell {first} (row {rows[0]}, column {question!r}), cell {second} (row {rows[1]}), "
        f"cell {third} (row {rows[2]}) and {len(rows) - 3} more; open the workbook in Excel so it calculates, save "
        "it, and try again, or paste the values in place of the formulas"
    )


def test_formulas_with_results_read_as_their_values(table, expected, instrument_2025, kommuner, tmp_path):
    question = instrument_2025.question("data_use_change").text
    path = forms_workbook(tmp_path / "forms.xlsx", table, answer_formulas(table, question, 14))
    rewrite_part(path, SHEET_XML, cache_results)
    with zipfile.ZipFile(path) as archive:
        assert b"<f>" in archive.read(SHEET_XML)
    raw = read_export(path, instrument_2025, kommuner)
    pd.testing.assert_frame_equal(validate_export(raw, instrument_2025, kommuner).valid, expected)


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
CELLS = (
    '<c r="A2"><f>1+1</f><v>2</v></c>'  # a result: fine
    '<c r="B2"><f>1+1</f><v></v></c>'  # none
    '<c r="C2"><f t="shared" si="0"/></c>'  # a shared formula without a result
    '<c r="D2" t="str"><f>""</f><v></v></c>'  # an empty text result, as Excel saves =IF(...;"")
    '<c r="E2" s="1"><f>A2</f><v /></c>'  # none (openpyxl's spelling)
    '<c r="F2" t="inlineStr"><is><r><rPr><color rgb="FF0000"/></rPr><t>formula &lt;f&gt; in text</t></r></is></c>'
    '<c r="G2" t="str"><f>"x"</f><v>x</v></c>'
    '<c><f>1</f></c>'  # no reference: counted, not listed
)


@pytest.mark.parametrize("prefix", ["", "x:"])
def test_formula_scan_is_exact_across_chunk_boundaries(prefix, tmp_path):
    tag = (lambda name: prefix + name) if prefix else (lambda name: name)
    cells = re.sub(r"<(/?)(c|f|v|is|r|rPr|color|t)([ />])", lambda m: f"<{m[1]}{tag(m[2])}{m[3]}", CELLS)
    xmlns = f'xmlns:{prefix[:-1]}="{MAIN}"' if prefix else f'xmlns="{MAIN}"'
    sheet = (f'<?xml version="1.0"?><{tag("worksheet")} {xmlns}><{tag("cols")}><{tag("col")} min="1" max="2"/>'
             f'</{tag("cols")}><{tag("sheetData")}><{tag("row")} r="2">{cells}</{tag("row")}></{tag("sheetData")}>'
             f'<{tag("dataValidations")}><{tag("dataValidation")}><{tag("formula1")}>1</{tag("formula1")}>'
             f'</{tag("dataValidation")}></{tag("dataValidations")}></{tag("worksheet")}>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("sheet.xml", sheet)
    with zipfile.ZipFile(buf) as archive:
        for chunk in [*range(1, 80), 1 << 20]:
            assert formulas_without_values(archive, "sheet.xml", chunk) == (["B2", "C2", "E2"], 4), chunk


# ------------------------------------------------------------------------- zip bombs


def test_zipfile_never_inflates_a_member_past_its_declared_size():
    """What the archive check relies on: a member that lies about its size is cut at the declared size and
    refused, never inflated in full."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/sharedStrings.xml", b"A" * 20_000_000)
    data = bytearray(buf.getvalue())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # local and central header
        at = data.find(signature) + offset
        data[at:at + 4] = (1000).to_bytes(4, "little")
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    assert archive.infolist()[0].file_size == 1000
    inflated = 0
    with pytest.raises(zipfile.BadZipFile, match="CRC"):
        with archive.open("xl/sharedStrings.xml") as stream:
            while chunk := stream.read(1 << 16):
                inflated += len(chunk)
    assert inflated <= 1000


def add_shared_strings_bomb(path, unpacked: int) -> None:
    """The workbook at `path` with a sharedStrings.xml of `unpacked` bytes that packs to almost nothing,
    streamed into the zip (never held in memory)."""
    with zipfile.ZipFile(path) as zin:
        parts = [(info.filename, zin.read(info.filename)) for info in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts:
            if name == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", f'<Relationship Type="{SHARED_STRINGS_TYPE}" '
                                    'Target="sharedStrings.xml" Id="rId99"/></Relationships>'.encode())
            zout.writestr(name, data)
        block = b"<si><t>" + b"A" * 1000 + b"</t></si>"
        with zout.open("xl/sharedStrings.xml", "w") as stream:
            stream.write(f'<sst xmlns="{MAIN}">'.encode())
            for _ in range(unpacked // len(block)):
                stream.write(block)
            stream.write(b"</sst>")


def test_a_zip_bomb_is_refused_before_anything_is_unpacked(table, instrument_2025, kommuner, tmp_path):
    path = forms_workbook(tmp_path / "forms.xlsx", table)
    add_shared_strings_bomb(path, 64_000_000)
    part = zipfile.ZipFile(path).getinfo("xl/sharedStrings.xml")
    assert part.file_size / part.compress_size > MAX_COMPRESSION_RATIO and path.stat().st_size < 1_000_000
    tracemalloc.start()
    try:
        with pytest.raises(UnreadableExportError) as info:
            read_export(path, instrument_2025, kommuner)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000  # far below the 64 MB part: nothing was unpacked
    message = str(info.value)
    assert info.value.exit_code == 2 and str(path) in message
    assert re.search(r"'xl/sharedStrings\.xml' would unpack from 0\.\d MB to 64\.0 MB, \d+ times its packed size",
                     message)
    assert "zip bomb" in message and "export it again from the survey tool" in message


def archive_with_declared_sizes(path, parts: int, declared: int) -> None:
    """A zip of `parts` small members whose directory declares `declared` bytes each (nothing that big is
    written: the refusal must come from the declared sizes alone)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for i in range(parts):
            z.writestr(f"xl/worksheets/sheet{i}.xml", b"<worksheet/>")
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at != -1:
        data[at + 24:at + 28] = declared.to_bytes(4, "little")
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


def test_an_archive_declaring_more_than_the_limit_in_all_is_refused(instrument_2025, kommuner, tmp_path):
    path = tmp_path / "forms.xlsx"
    below_ratio_rule = RATIO_CHECKED_FROM_BYTES - 1
    archive_with_declared_sizes(path, MAX_UNPACKED_BYTES // below_ratio_rule + 1, below_ratio_rule)
    with pytest.raises(UnreadableExportError, match=r"would unpack to [\d,.]+ MB in all, more than the limit"):
        read_export(path, instrument_2025, kommuner)


def test_a_compression_method_excel_does_not_write_is_refused(instrument_2025, kommuner, tmp_path):
    path = tmp_path / "forms.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_BZIP2) as z:
        z.writestr("xl/workbook.xml", b"<workbook/>")
    with pytest.raises(UnreadableExportError, match="'xl/workbook.xml' is compressed with method 12"):
        read_export(path, instrument_2025, kommuner)


# ------------------------------------------------------------------------- a title row above the header


@pytest.mark.parametrize("rows_above", [1, 2])
def test_a_title_row_above_the_header_says_where_the_header_is(rows_above, table, instrument_2025, kommuner,
                                                                tmp_path):
    def edit(wb):
        ws = wb["Form1"]
        ws.insert_rows(1, rows_above)
        ws["A1"] = "Dataunderstøttelse 2025"

    path = forms_workbook(tmp_path / "forms.xlsx", table, edit)
    with pytest.raises(UnreadableExportError) as info:
        read_export(path, instrument_2025, kommuner)
    assert str(info.value) == (
        f"{path}: the header must be on row 1 of sheet 'Form1': row 1 holds only 'Dataunderstøttelse 2025' and "
        f"row {rows_above + 1} looks like the header; delete the rows above it and try again"
    )


def test_a_blank_row_1_says_where_the_header_is(table, instrument_2025, kommuner, tmp_path):
    path = forms_workbook(tmp_path / "forms.xlsx", table, lambda wb: wb["Form1"].insert_rows(1, 2))
    with pytest.raises(UnreadableExportError) as info:
        read_export(path, instrument_2025, kommuner)
    assert str(info.value) == (f"{path}: the header must be on row 1 of sheet 'Form1': row 1 is blank and row 3 looks "
                               "like the header; delete the rows above it and try again")


def test_a_stray_cell_outside_the_header_is_still_named_so(table, instrument_2025, kommuner, tmp_path):
    def edit(wb):
        ws = wb["Form1"]
        ws.cell(row=7, column=ws.max_column + 2).value = "note"

    path = forms_workbook(tmp_path / "forms.xlsx", table, edit)
    with pytest.raises(UnreadableExportError) as info:
        read_export(path, instrument_2025, kommuner)
    assert str(info.value) == f"{path}, row 7: a cell lies outside the header's columns"


# ------------------------------------------------------------------------- hidden sheets


def hidden_sheet_first(*visible: str):
    """An edit: a hidden helper sheet 'Hjælp' placed first, and more visible sheets after the export."""

    def edit(wb):
        helper = wb.create_sheet("Hjælp", 0)
        helper.append(["Opslag", "Kode"])
        helper.append(["Mere", 1])
        helper.sheet_state = "hidden"
        for title in visible:
            wb.create_sheet(title).append(["noter"])

    return edit


def test_forms_is_read_from_the_first_visible_sheet(table, expected, instrument_2025, kommuner, tmp_path):
    path = forms_workbook(tmp_path / "forms.xlsx", table, hidden_sheet_first())
    with open_workbook_source(path) as source:  # each sheet's state, as the workbook lists it
        assert [(ws.title, ws.sheet_state) for ws in source.worksheets] == [
            ("Hjælp", "hidden"), ("Form1", "visible")]
    raw = read_export(path, instrument_2025, kommuner)
    assert raw.layout == "msforms_xlsx" and raw.sheet == "Form1"
    pd.testing.assert_frame_equal(validate_export(raw, instrument_2025, kommuner).valid, expected)


def test_an_unrecognised_workbook_can_name_the_sheets_looked_at(instrument_2025, kommuner, tmp_path):
    path = forms_workbook(tmp_path / "forms.xlsx", pd.DataFrame({"navn": ["Anne"], "alder": [41]}),
                          hidden_sheet_first("Ark2"))
    with open_workbook_source(path) as source:
        assert not any(BY_NAME[name].detect(source, instrument_2025) for name in ("surveyxact_xlsx", "msforms_xlsx"))
        assert source.sheets_looked_at == "sheet 'Form1' (the first visible sheet; not read: 'Ark2'; hidden: 'Hjælp')"
    with pytest.raises(LayoutError, match=r"unknown layout.*read sheet 'Form1' \(the first visible sheet; not read: "
                                          r"'Ark2'; hidden: 'Hjælp'\)"):
        read_export(path, instrument_2025, kommuner)


def test_each_sheet_is_found_through_the_package_relationships(table, tmp_path):
    """Where a sheet's XML is (for the formula scan), as the package says: not a reader's private attribute."""
    import zipfile

    from benchmark_pipeline.ooxml import sheet_parts

    path = forms_workbook(tmp_path / "forms.xlsx", table, hidden_sheet_first("Ark2"))
    with zipfile.ZipFile(path) as archive:
        parts = sheet_parts(archive)
        assert set(parts) == {"Hjælp", "Form1", "Ark2"}
        assert all(part in archive.namelist() and part.startswith("xl/worksheets/") for part in parts.values())
        assert len(set(parts.values())) == 3
    with open_workbook_source(path) as source:  # calamine, reading each title, finds the same rows there
        assert len(source.frame(source.sheet("Form1"))) == len(table)


def test_a_workbook_whose_sheets_are_all_hidden_says_so(table, instrument_2025, kommuner, tmp_path):
    path = forms_workbook(tmp_path / "forms.xlsx", table, hidden_sheet_first())
    rewrite_part(path, "xl/workbook.xml", lambda data: data.replace(b'state="visible"', b'state="hidden"'))
    with pytest.raises(UnreadableExportError) as info:
        read_export(path, instrument_2025, kommuner)
    assert str(info.value) == (f"{path}: every sheet of the workbook is hidden ('Hjælp', 'Form1'); unhide the sheet "
                               "that holds the answers, save, and try again")


# ------------------------------------------------------------------------- a stray value far from the answers


def test_a_stray_value_far_away_is_refused_before_the_grid_is_built(table, instrument_2025, kommuner, tmp_path):
    """calamine would build a grid to the far cell (here 17 billion cells, ~550 GB) and end the process."""

    def edit(wb):
        wb["Form1"].cell(row=1_048_576, column=16_384).value = "x"

    path = forms_workbook(tmp_path / "forms.xlsx", table, edit)
    with pytest.raises(UnreadableExportError) as info:
        read_export(path, instrument_2025, kommuner)
    assert str(info.value) == (
        f"{path}: sheet 'Form1' has values as far as row 1,048,576 and column XFD, a grid of 17,179,869,184 cells, "
        f"more than any survey export (the limit is {MAX_SHEET_CELLS:,}); a stray value far from the answers does "
        "this: in Excel, Ctrl+End shows the last cell; delete the rows and columns past the answers, save, and try "
        "again")


def test_a_stray_value_within_reach_is_still_a_cell_outside_the_header(table, instrument_2025, kommuner, tmp_path):
    path = forms_workbook(tmp_path / "forms.xlsx", table, lambda wb: wb["Form1"].cell(row=9, column=16_384,
                                                                                       value="note"))
    with pytest.raises(UnreadableExportError, match=r"row 9: a cell lies outside the header's columns$"):
        read_export(path, instrument_2025, kommuner)


def test_cells_without_a_reference_are_counted_into_place(table, instrument_2025, kommuner, tmp_path):
    """Cells written without `r="..."` take their place after the row's previous cell: 200 of them on row
    1,048,576 reach as far as one far cell would."""
    path = forms_workbook(tmp_path / "forms.xlsx", table)
    far = b'<row r="1048576">' + b'<c t="inlineStr"><is><t>x</t></is></c>' * 200 + b"</row></sheetData>"
    rewrite_part(path, SHEET_XML, lambda data: data.replace(b"</sheetData>", far))
    with zipfile.ZipFile(path) as archive:
        scan = scan_sheet(archive, SHEET_XML, chunk_bytes=4096)
    assert (scan.rows, scan.columns, scan.counted) == (1_048_576, 200, True)
    with pytest.raises(UnreadableExportError, match="values as far as row 1,048,576 and column GR"):
        read_export(path, instrument_2025, kommuner)


def test_the_extent_of_a_plain_sheet_is_found_without_counting(table, tmp_path):
    path = forms_workbook(tmp_path / "forms.xlsx", table, lambda wb: wb["Form1"].cell(row=3, column=40, value="x"))
    with zipfile.ZipFile(path) as archive:
        for chunk in (64, 4096, 1 << 20):
            scan = scan_sheet(archive, SHEET_XML, chunk_bytes=chunk)
            assert (scan.rows, scan.columns, scan.counted) == (len(table) + 1, 40, False), chunk


# ------------------------------------------------------------------------- error values, chart sheets


def test_error_values_are_read_as_their_text(table, instrument_2025, kommuner, tmp_path):
    """calamine reads `#N/A` as a blank; the answer is the error's text, as a person sees it (and an invalid
    label, not a missing answer)."""
    question = instrument_2025.question("data_use_change").text
    column = chr(ord("A") + list(table.columns).index(question))
    path = forms_workbook(tmp_path / "forms.xlsx", table)
    rewrite_part(path, SHEET_XML, lambda data: re.sub(
        rf'<c r="{column}4"[^>]*?(/>|>.*?</c>)'.encode(), f'<c r="{column}4" t="e"><f>NA()</f><v>#N/A</v></c>'.encode(),
        data, count=1))
    raw = read_export(path, instrument_2025, kommuner)
    assert raw.frame.loc[raw.frame["source_row"] == 4, question].tolist() == ["#N/A"]
    quarantine = validate_export(raw, instrument_2025, kommuner).quarantine
    assert quarantine.loc[quarantine["row"] == 4, "rule"].tolist() == ["invalid_value"]


def test_a_chart_sheet_is_not_read_as_answers(table, tmp_path):
    from openpyxl.chart import BarChart, Reference

    def edit(wb):
        chart = BarChart()
        chart.add_data(Reference(wb["Form1"], min_col=1, min_row=1, max_row=3))
        wb.create_chartsheet("Diagram", 0).add_chart(chart)

    path = forms_workbook(tmp_path / "forms.xlsx", table, edit)
    with open_workbook_source(path) as source:
        assert source.first_visible_sheet().title == "Form1"  # a chart sheet is no worksheet
        with pytest.raises(UnreadableExportError, match="sheet 'Diagram' is a chart or macro sheet"):
            source.frame(source.sheet("Diagram"))


def test_texts_are_stripped_as_str_strip_strips_them():
    """The at-once stripping of a text column agrees with `str.strip() or None` for every kind of space
    Python knows, at either end, inside, alone or not at all."""
    spaces = [chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()]
    assert max(map(ord, spaces)) <= LAST_SPACE
    texts = ["", "svar", "to ord", *spaces, *(f"{s}svar" for s in spaces), *(f"svar{s}" for s in spaces),
             *(f"{s}{s}" for s in spaces), *(f"a{s}b" for s in spaces), "\u200bsvar"]  # a zero-width space is no space
    got = _stripped_texts(np.array(texts, dtype=object)).to_pylist()
    assert got == [t.strip() or None for t in texts]
