"""Hostile workbook exports for the bad-input corpus (`corpus.CASES` takes these in).

Each is the seeded Microsoft Forms export of 2025 (the sample writer's, edited with openpyxl or zipfile) with one
deliberate change, as a tester found them: answers as formulas (saved by a script, or by Excel with their
results), a zip bomb, a title row above the header, a hidden helper sheet first.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from benchmark_pipeline_tests.ingest.exports import rewrite_part
from benchmark_pipeline_tests.reliability.corpus import Case, _edit_xlsx, instrument, xlsx_bytes

XLSX = "export.xlsx"
FORMULA_ANSWERS = 12  # respondents whose data_use_change is a formula
SHEET_XML = "xl/worksheets/sheet1.xml"
SHARED_STRINGS_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
BOMB_BYTES = 400_000_000


def _answers_as_formulas(wb) -> None:
    """The first FORMULA_ANSWERS answers to data_use_change become formulas giving the same label (="Mere")."""
    ws = wb[wb.sheetnames[0]]
    column = [c.value for c in ws[1]].index(instrument(2025).question("data_use_change").text) + 1
    done = 0
    for row in range(2, ws.max_row + 1):
        cell = ws.cell(row=row, column=column)
        if cell.value is not None and done < FORMULA_ANSWERS:
            cell.value = f'="{cell.value}"'
            done += 1


def workbook_formulas_without_results(folder: Path) -> None:
    """Saved by a script (openpyxl), never calculated: the formulas have no stored result."""
    _edit_xlsx(folder / XLSX, 2025, _answers_as_formulas)


def workbook_formulas_with_results(folder: Path) -> None:
    """The same formulas with their results stored, as Excel saves them (text results, `t="str"`)."""
    path = folder / XLSX
    _edit_xlsx(path, 2025, _answers_as_formulas)
    rewrite_part(path, SHEET_XML, lambda data: re.sub(
        rb'<c r="([A-Z]+\d+)"([^>]*)><f>"([^"<]*)"</f><v ?/>', rb'<c r="\1"\2 t="str"><f>"\3"</f><v>\3</v>', data))


def workbook_shared_strings_bomb(folder: Path) -> None:
    """A valid export whose sharedStrings.xml unpacks to 400 MB from about a megabyte (streamed, never in memory)."""
    path = folder / XLSX
    path.write_bytes(xlsx_bytes(2025))
    rewrite_part(path, "xl/_rels/workbook.xml.rels", lambda data: data.replace(
        b"</Relationships>",
        f'<Relationship Type="{SHARED_STRINGS_TYPE}" Target="sharedStrings.xml" Id="rId99"/></Relationships>'.encode()))
    block = b"<si><t>" + b"A" * 1000 + b"</t></si>"
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("xl/sharedStrings.xml", "w") as stream:
            stream.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            for _ in range(BOMB_BYTES // len(block)):
                stream.write(block)
            stream.write(b"</sst>")


def workbook_title_row_above_header(folder: Path) -> None:
    """A title on row 1, a blank row 2, the header on row 3."""

    def edit(wb):
        ws = wb[wb.sheetnames[0]]
        ws.insert_rows(1, 2)
        ws["A1"] = "Dataunderstøttelse 2025"

    _edit_xlsx(folder / XLSX, 2025, edit)


def workbook_hidden_helper_sheet_first(folder: Path) -> None:
    """A hidden lookup sheet placed before the export's sheet."""

    def edit(wb):
        helper = wb.create_sheet("Hjælp", 0)
        helper.append(["Opslag", "Kode"])
        helper.append(["Mere", 1])
        helper.sheet_state = "hidden"

    _edit_xlsx(folder / XLSX, 2025, edit)


CASES: list[Case] = [
    Case(XLSX, 2025, workbook_formulas_without_results, 2, "rejected",
         (f"{FORMULA_ANSWERS} cells holding a formula without a calculated value", "sheet 'Sheet1'",
          "column 'Bruger du borgerrelaterede data mere", "open the workbook in Excel so it calculates"),
         note="answers as formulas saved by a script: read as blanks before"),
    Case(XLSX, 2025, workbook_formulas_with_results, 0, "ok", note="formulas with their results: read as values"),
    Case(XLSX, 2025, workbook_shared_strings_bomb, 2, "rejected",
         ("'xl/sharedStrings.xml' would unpack", "to 400.0 MB", "zip bomb"),
         note="400 MB of shared strings in about a megabyte: took over 1 GB of memory before"),
    Case(XLSX, 2025, workbook_title_row_above_header, 2, "rejected",
         ("the header must be on row 1", "row 1 holds only 'Dataunderstøttelse 2025'", "row 3 looks like the header",
          "delete the rows above it")),
    Case(XLSX, 2025, workbook_hidden_helper_sheet_first, 0, "ok", note="a hidden sheet first: Forms reads the first "
                                                                        "visible sheet"),
]
