"""Hostile column headers for the bad-input corpus (`corpus.CASES` takes these in): two spellings of one
question, and personal data under headers the mapping does not use."""

from __future__ import annotations

from pathlib import Path

from benchmark_pipeline.sample import build_export, write_tables
from benchmark_pipeline_tests.reliability.corpus import Case, _edit_xlsx, answers, canonical, instrument, write_canonical

NAMES = ("Anne Hansen", "Bo Jensen", "Carl Nielsen")


def forms_header_twice_in_other_spacing(folder: Path) -> None:
    """`further_potential` twice, the second header with a doubled space and every answer 'Nej'."""

    def edit(wb):
        ws = wb[wb.sheetnames[0]]
        q = instrument(2025).question("further_potential")
        header = q.column or q.text
        col = ws.max_column + 1
        ws.cell(row=1, column=col).value = header.replace(" ", "  ", 1).upper()
        for row in range(2, ws.max_row + 1):
            ws.cell(row=row, column=col).value = "Nej"

    _edit_xlsx(folder / "export.xlsx", 2025, edit)


def forms_mail_and_name_under_one_merged_header(folder: Path) -> None:
    def edit(wb):
        ws = wb[wb.sheetnames[0]]
        header = [c.value for c in ws[1]]
        mail, navn = header.index("Mail") + 1, header.index("Navn") + 1
        ws.cell(row=1, column=navn).value = None
        ws.merge_cells(start_row=1, end_row=1, start_column=mail, end_column=navn)

    _edit_xlsx(folder / "export.xlsx", 2025, edit)


def canonical_with_a_full_name_column(folder: Path) -> None:
    frame = canonical()
    frame.insert(2, "Fulde navn", [NAMES[i % 3] for i in range(len(frame))])
    write_canonical(frame, folder / "export.csv")


def surveyxact_stat_columns_holding_names(folder: Path) -> None:
    tables = build_export(answers(2024), instrument(2024), "surveyxact_csv")
    dataset = tables["dataset"].copy()
    dataset["statname"] = [NAMES[i % 3] for i in range(len(dataset))]
    write_tables({"dataset": dataset, "labels": tables["labels"]}, "surveyxact_csv", folder, survey_year=2024)


CASES: list[Case] = [
    Case("export.xlsx", 2025, forms_header_twice_in_other_spacing, 2, "rejected",
         ("differ only in spacing or case", "further_potential"),
         note="two spellings of one question's header: refused, never one picked silently"),
    Case("export.xlsx", 2025, forms_mail_and_name_under_one_merged_header, 0, "ok", ("not kept", "Mail", "__blank_"),
         note="the name column under a merged header is dropped like any unmapped column"),
    Case("export.csv", 2024, canonical_with_a_full_name_column, 0, "ok", ("not kept (1): Fulde navn",), note="'Fulde navn' is not kept"),
    Case("dataset.csv", 2024, surveyxact_stat_columns_holding_names, 0, "ok", ("statname",),
         note="SurveyXact stat… columns holding names are not kept"),
]
