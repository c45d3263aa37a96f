"""The bad-input corpus: exports as people really drop them in, each with the outcome it must have.

Every case is built by code from the seeded sample writers (`generate_answers`, `build_export`,
`write_tables`, `write_export`) plus one deliberate corruption, so the corpus needs no binary fixtures and
stays in step with the writers. `CASES` is the expectations table: survey year, file name under
`raw/<year>/`, expected exit code and `check` status, and phrases the message must hold (the file name is
always required; a row or column where there is one).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from benchmark_pipeline.instrument import load_year
from benchmark_pipeline.sample import build_export, generate_answers, write_export, write_tables
from benchmark_pipeline.settings import DEFAULT_DATA_DIR

N = 60  # respondents per synthetic export: small, enough valid rows for every year


@dataclass(frozen=True)
class Case:
    name: str  # file (or, for a SurveyXact CSV pair, the dataset file) placed under raw/<year>/
    year: int
    build: Callable[[Path], None]  # writes the case into the given raw/<year>/ folder
    exit_code: int
    status: str  # check's status: ok | quarantine | rejected
    phrases: tuple[str, ...] = ()  # in the message (case-insensitive), besides the file name
    run: bool = False  # also through `benchmark-pipeline run` (a subprocess; a representative subset)
    note: str = ""
    extra: dict = field(default_factory=dict)


def instrument(year: int):
    return load_year(DEFAULT_DATA_DIR, year)


def answers(year: int, n: int = N, seed: int = 7) -> pd.DataFrame:
    return generate_answers(instrument(year), n, seed)


def canonical(year: int = 2024, n: int = N) -> pd.DataFrame:
    return build_export(answers(year, n), instrument(year), "canonical_csv")["canonical"].copy()


def write_canonical(frame: pd.DataFrame, path: Path, year: int = 2024, **kwargs) -> None:
    write_tables({"canonical": frame}, "canonical_csv", path, survey_year=year, **kwargs)


def canonical_bytes(frame: pd.DataFrame, sep: str = ",") -> str:
    return frame.to_csv(index=False, sep=sep, lineterminator="\n")


def xlsx_bytes(year: int, layout: str | None = None, n: int = N) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.xlsx"
        write_export(answers(year, n), instrument(year), layout, path)
        return path.read_bytes()


def _edit_xlsx(path: Path, year: int, edit, layout: str | None = None) -> None:
    """A writer-made workbook opened with openpyxl (normal mode), edited, saved."""
    import openpyxl

    path.write_bytes(xlsx_bytes(year, layout))
    wb = openpyxl.load_workbook(path)
    edit(wb)
    wb.save(path)


# --------------------------------------------------------------------------------------------- builders


def clean_canonical(folder: Path) -> None:
    write_canonical(canonical(), folder / "export.csv")


def utf16_with_bom(folder: Path) -> None:
    write_canonical(canonical(), folder / "export_utf16.csv", encoding="utf-16")


def utf16_without_bom(folder: Path) -> None:
    (folder / "export_utf16le.csv").write_bytes(canonical_bytes(canonical()).encode("utf-16-le"))


def danish_names(frame: pd.DataFrame) -> pd.DataFrame:
    """Kommune as names with æ/ø/å (how people type them) instead of codes."""
    names = ["Ærø", "Brøndby", "Tårnby", "Læsø", "Fanø", "Høje-Taastrup", "Hørsholm", "Rødovre", "Sorø", "Nordfyns"]
    frame["kommune"] = [names[i % len(names)] for i in range(len(frame))]
    return frame


def latin1_labelled_utf8(folder: Path) -> None:
    """Named and 'labelled' UTF-8 but written in Latin-1: the fixed rule reads it as Windows-1252, exactly."""
    text = canonical_bytes(danish_names(canonical()))
    (folder / "export_utf8.csv").write_bytes(text.encode("latin-1"))


def mixed_encodings(folder: Path) -> None:
    """UTF-8 file with three rows pasted in from a Latin-1 file: read as Windows-1252, so the UTF-8 names
    turn into mojibake and those rows are quarantined as unknown kommune (never silently misread)."""
    frame = danish_names(canonical())
    lines = canonical_bytes(frame).splitlines(keepends=True)
    out = bytearray(lines[0].encode())
    for i, line in enumerate(lines[1:]):
        out += line.encode("latin-1" if i < 3 else "utf-8") if "Ærø" in line or i < 3 else line.encode()
    (folder / "export.csv").write_bytes(bytes(out))


def mixed_separators(folder: Path) -> None:
    text = canonical_bytes(canonical(), sep=";").splitlines(keepends=True)
    body = [line.replace(";", ",") if i % 2 else line for i, line in enumerate(text[1:])]
    (folder / "export.csv").write_text(text[0] + "".join(body), encoding="utf-8")


def tab_separated(folder: Path) -> None:
    write_canonical(canonical(), folder / "export.tsv", separator="\t")


def truncated_csv(folder: Path) -> None:
    data = canonical_bytes(canonical()).encode()
    (folder / "export.csv").write_bytes(data[: int(len(data) * 0.6)])


def truncated_surveyxact_csv(folder: Path) -> None:
    files = write_export(answers(2024), instrument(2024), "surveyxact_csv", folder)
    dataset = files[0].read_bytes()
    files[0].write_bytes(dataset[: int(len(dataset) * 0.5)])


def truncated_xlsx(folder: Path) -> None:
    data = xlsx_bytes(2023)
    (folder / "export.xlsx").write_bytes(data[: len(data) // 2])


def zero_byte_xlsx(folder: Path) -> None:
    (folder / "export.xlsx").write_bytes(b"")


def empty_csv(folder: Path) -> None:
    (folder / "export.csv").write_bytes(b"")


def binary_as_csv(folder: Path) -> None:
    rng = np.random.default_rng(3)
    (folder / "export.csv").write_bytes(b"\x89PNG\r\n\x1a\n" + rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())


def xlsx_as_csv(folder: Path) -> None:
    (folder / "export.csv").write_bytes(xlsx_bytes(2023))


def old_xls(folder: Path) -> None:
    (folder / "export.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))


def missing_dataset_sheet(folder: Path) -> None:
    _edit_xlsx(folder / "export.xlsx", 2023, lambda wb: wb.remove(wb["Dataset"]))


def missing_labels_sheet(folder: Path) -> None:
    _edit_xlsx(folder / "export.xlsx", 2023, lambda wb: wb.remove(wb["Labels"]))


def formulas(folder: Path) -> None:
    """Formulas instead of values in the 'kommune' column (no cached results, as a script would save them)."""

    def edit(wb):
        ws = wb["Dataset"]
        col = [c.value for c in ws[1]].index("s_1") + 1
        for row in range(2, 12):
            ws.cell(row=row, column=col).value = f"=100+{row}"

    _edit_xlsx(folder / "export.xlsx", 2023, edit)


def merged_cells(folder: Path) -> None:
    """The kommune column merged over blocks of rows (only the top cell keeps its value)."""

    def edit(wb):
        ws = wb["Dataset"]
        col = [c.value for c in ws[1]].index("s_1") + 1
        ws.merge_cells(start_row=2, end_row=5, start_column=col, end_column=col)

    _edit_xlsx(folder / "export.xlsx", 2023, edit)


def cells_outside_header(folder: Path) -> None:
    def edit(wb):
        ws = wb["Dataset"]
        ws.cell(row=7, column=ws.max_column + 2).value = "note"

    _edit_xlsx(folder / "export.xlsx", 2023, edit)


def forms_empty_sheet(folder: Path) -> None:
    def edit(wb):
        ws = wb[wb.sheetnames[0]]
        ws.delete_rows(1, ws.max_row)

    _edit_xlsx(folder / "export.xlsx", 2025, edit)


def huge_free_text(folder: Path) -> None:
    frame = canonical()
    frame["kommentar"] = frame["kommentar"].astype(object)
    frame.loc[3, "kommentar"] = "lang kommentar " * 200_000  # a 3 MB cell
    write_canonical(frame, folder / "export.csv")


def huge_free_text_with_at(folder: Path) -> None:
    frame = canonical()
    frame["kommentar"] = frame["kommentar"].astype(object)
    frame.loc[3, "kommentar"] = "x" * 1_000_000 + "@"
    write_canonical(frame, folder / "export.csv")


def huge_coded_cell(folder: Path) -> None:
    frame = canonical()
    frame["fagomraade"] = frame["fagomraade"].astype(object)
    frame.loc[4, "fagomraade"] = "x" * 1_000_000
    write_canonical(frame, folder / "export.csv")


def duplicate_headers(folder: Path) -> None:
    frame = canonical()
    text = canonical_bytes(frame).replace("stilling", "kommune", 1)
    (folder / "export.csv").write_text(text, encoding="utf-8")


def extra_columns(folder: Path) -> None:
    frame = canonical()
    frame.insert(3, "afdeling_intern", "Borgerservice")
    frame["ekstra"] = range(len(frame))
    write_canonical(frame, folder / "export.csv")


def ragged_row(folder: Path) -> None:
    lines = canonical_bytes(canonical()).splitlines(keepends=True)
    lines[9] = lines[9].rstrip("\n") + ",overskydende\n"
    (folder / "export.csv").write_text("".join(lines), encoding="utf-8")


def unknown_layout(folder: Path) -> None:
    (folder / "export.csv").write_text("navn,alder\nAnne,41\nBo,37\n", encoding="utf-8")


def missing_required_column(folder: Path) -> None:
    write_canonical(canonical().drop(columns=["data_use_change"]), folder / "export.csv")


def header_only(folder: Path) -> None:
    write_canonical(canonical().iloc[0:0], folder / "export.csv")


def only_non_responses(folder: Path) -> None:
    """Every invited person listed, kommune and background pre-filled, no substantive answer."""
    frame = canonical()
    for col in frame.columns:
        if col.startswith(("use_contexts__", "anchoring_levels__", "data_sources__")):
            frame[col] = 0
        elif col in ("data_use_change", "further_potential", "ai_use", "kommentar") or col.startswith("barriers__"):
            frame[col] = None
    write_canonical(frame, folder / "export.csv")


def quarantine_share(frame: pd.DataFrame, share: float) -> pd.DataFrame:
    frame = frame.copy()
    frame["kommune"] = frame["kommune"].astype(object)
    n = int(round(len(frame) * share))
    frame.loc[frame.index[:n], "kommune"] = "Atlantis"
    return frame


def over_quarantine_limit(folder: Path) -> None:
    write_canonical(quarantine_share(canonical(), 0.3), folder / "export.csv")


def under_quarantine_limit(folder: Path) -> None:
    write_canonical(quarantine_share(canonical(), 0.1), folder / "export.csv")


def invalid_values_and_ranks(folder: Path) -> None:
    frame = canonical()
    for col in ("data_use_change", "barriers__1", "barriers__2", "use_contexts__politik"):
        frame[col] = frame[col].astype(object)
    frame.loc[2, "data_use_change"] = "meget mere"
    frame.loc[5, "barriers__2"] = frame.loc[5, "barriers__1"]  # the same barrier ranked twice
    frame.loc[8, "use_contexts__politik"] = "7"
    write_canonical(frame, folder / "export.csv")


def conflicting_duplicates(folder: Path) -> None:
    frame = canonical()
    twin = frame.iloc[[10]].copy()
    twin["data_use_change"] = "mindre" if frame.iloc[10]["data_use_change"] != "mindre" else "mere"
    write_canonical(pd.concat([frame, twin], ignore_index=True), folder / "export.csv")


def missing_ids(folder: Path) -> None:
    frame = canonical()
    frame["respondent_id"] = frame["respondent_id"].astype(object)
    frame.loc[[3, 4], "respondent_id"] = None
    write_canonical(frame, folder / "export.csv")


def cpr_and_email_in_comment(folder: Path) -> None:
    frame = canonical()
    frame["kommentar"] = frame["kommentar"].astype(object)
    frame.loc[1, "kommentar"] = "Ring til mig, CPR 010203-1234, mail anne@example.dk"
    write_canonical(frame, folder / "export.csv")


def labels_contradict(folder: Path) -> None:
    tables = build_export(answers(2024), instrument(2024), "surveyxact_csv")
    labels = tables["labels"].copy()
    rows = labels.index[labels["variable"] == "dataforbrug"]
    labels.loc[rows, "label"] = list(reversed(labels.loc[rows, "label"].tolist()))
    write_tables({"dataset": tables["dataset"], "labels": labels}, "surveyxact_csv", folder, survey_year=2024)


def two_exports(folder: Path) -> None:
    write_canonical(canonical(), folder / "export.csv")
    write_canonical(canonical(), folder / "export_v2.csv")


def export_2023_under_2024(folder: Path) -> None:
    (folder / "dataunderstoettelse_2023.xlsx").write_bytes(xlsx_bytes(2023))


def export_2024_under_2025(folder: Path) -> None:
    write_export(answers(2024), instrument(2024), "surveyxact_csv", folder)


def export_2025_under_2023(folder: Path) -> None:
    (folder / "forms_2025.xlsx").write_bytes(xlsx_bytes(2025))


def forms_unknown_label(folder: Path) -> None:
    """A Forms label that matches nothing in a question without 'andet': invalid_value, quarantined."""

    def edit(wb):
        ws = wb[wb.sheetnames[0]]
        header = [c.value for c in ws[1]]
        col = header.index(instrument(2025).question("data_use_change").text) + 1
        ws.cell(row=4, column=col).value = "Ved ikke helt"

    _edit_xlsx(folder / "export.xlsx", 2025, edit)


def zip_not_workbook(folder: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "not a workbook")
    (folder / "export.xlsx").write_bytes(buf.getvalue())


# --------------------------------------------------------------------------------------------- expectations

CASES: list[Case] = [
    # controls: files that look odd but are fine
    Case("export.csv", 2024, clean_canonical, 0, "ok", note="control: clean canonical CSV"),
    Case("export_utf16.csv", 2024, utf16_with_bom, 0, "ok", note="UTF-16 with BOM is allowed"),
    Case("export_utf8.csv", 2024, latin1_labelled_utf8, 0, "ok", note="Latin-1 named as UTF-8: read as Windows-1252"),
    Case("export.tsv", 2024, tab_separated, 0, "ok", note="tab separated"),
    Case("export.csv", 2024, extra_columns, 0, "ok", note="extra columns are ignored"),
    Case("export.csv", 2024, huge_free_text, 0, "ok", note="a 3 MB free-text cell"),
    Case("export.csv", 2024, huge_free_text_with_at, 0, "ok", note="a 1 MB free-text cell with an '@' (regex cost)"),
    Case("export.csv", 2024, cpr_and_email_in_comment, 0, "ok", note="CPR and e-mail masked, never shown"),
    Case("export.xlsx", 2023, missing_labels_sheet, 0, "ok", note="SurveyXact workbook without its Labels sheet"),
    # unusable input: exit 2
    Case("export.xlsx", 2023, truncated_xlsx, 2, "rejected", ("not a readable .xlsx workbook",), run=True),
    Case("export.xlsx", 2023, zero_byte_xlsx, 2, "rejected", ("not a readable .xlsx workbook",)),
    Case("export.xlsx", 2023, zip_not_workbook, 2, "rejected", ("not a readable .xlsx workbook",)),
    Case("export.csv", 2024, truncated_csv, 2, "rejected", ("fields", "the header has 31 columns", "row ")),
    Case("dataset.csv", 2024, truncated_surveyxact_csv, 2, "rejected", ("fields", "41 columns", "row ")),
    Case("export_utf16le.csv", 2024, utf16_without_bom, 2, "rejected", ("NUL bytes", "UTF-16"), run=True),
    Case("export.csv", 2024, mixed_separators, 2, "rejected", ("row 3", "1 fields", "separator ';'")),
    Case("export.csv", 2024, empty_csv, 2, "rejected", ("empty",)),
    Case("export.csv", 2024, binary_as_csv, 2, "rejected", ("PNG image", "not a text export"), run=True),
    Case("export.csv", 2024, xlsx_as_csv, 2, "rejected", ("Excel workbook", ".xlsx extension")),
    Case("export.csv", 2024, mixed_encodings, 2, "rejected", ("mixes encodings", "line 2", "UTF-8")),
    Case("export.xls", 2024, old_xls, 2, "rejected", ("old binary Excel",)),
    Case("export.xlsx", 2023, missing_dataset_sheet, 2, "rejected", ("'Dataset' sheet",)),
    Case("export.xlsx", 2023, cells_outside_header, 2, "rejected", ("outside the header", "row 7")),
    Case("export.xlsx", 2025, forms_empty_sheet, 2, "rejected", ("no header",)),
    Case("export.csv", 2024, duplicate_headers, 2, "rejected", ("twice", "'kommune'"), run=True),
    Case("export.csv", 2024, ragged_row, 2, "rejected", ("row 10", "32 fields")),
    Case("export.csv", 2024, unknown_layout, 2, "rejected", ("unknown layout",)),
    Case("export.csv", 2024, two_exports, 2, "rejected", ("several export files",)),
    Case("dataset.csv", 2025, export_2024_under_2025, 2, "rejected", ("surveyxact_csv", "msforms_xlsx"), run=True,
         note="2024's export dropped under 2025"),
    Case("forms_2025.xlsx", 2023, export_2025_under_2023, 2, "rejected", ("msforms_xlsx", "surveyxact_xlsx"),
         note="2025's export dropped under 2023"),
    # the year stops on its content: exit 1, rejected
    Case("dataunderstoettelse_2023.xlsx", 2024, export_2023_under_2024, 1, "rejected", ("variable(s) missing", "another survey year"),
         run=True, note="2023's export dropped under 2024 (same tool, other variables)"),
    Case("dataset.csv", 2024, labels_contradict, 1, "rejected", ("labels", "dataforbrug"), run=True),
    Case("export.csv", 2024, missing_required_column, 1, "rejected", ("data_use_change",)),
    Case("export.csv", 2024, header_only, 1, "rejected", ("no valid rows",)),
    Case("export.csv", 2024, only_non_responses, 1, "rejected", ("no valid rows",), run=True),
    Case("export.csv", 2024, over_quarantine_limit, 1, "rejected", ("quarantined", "20"), run=True),
    # rows quarantined, the year can publish without them: check exits 1, run publishes (exit 0)
    Case("export.csv", 2024, under_quarantine_limit, 1, "quarantine", ("unknown_kommune", "row 2", "kommune"), run=True),
    Case("export.csv", 2024, huge_coded_cell, 1, "quarantine", ("invalid_value", "fagomraade", "row 6")),
    Case("export.csv", 2024, invalid_values_and_ranks, 1, "quarantine", ("invalid_value", "invalid_rank", "row 4")),
    Case("export.csv", 2024, conflicting_duplicates, 1, "quarantine", ("conflicting_duplicate",)),
    Case("export.csv", 2024, missing_ids, 1, "quarantine", ("missing_id", "row 5")),
    Case("export.xlsx", 2023, formulas, 2, "rejected", ("10 cells holding a formula without a calculated value",
                                                         "cell D2 (row 2, column 's_1')", "open the workbook in Excel")),
    Case("export.xlsx", 2023, merged_cells, 1, "quarantine", ("unknown_kommune", "row 3")),
    Case("export.xlsx", 2025, forms_unknown_label, 1, "quarantine", ("invalid_value", "row 4")),
]

# Hostile exports of one kind each, kept in their own modules (they import `Case` and the builders above).
from benchmark_pipeline_tests.reliability import corpus_columns, corpus_spss, corpus_text, corpus_workbooks  # noqa: E402

CASES += corpus_columns.CASES + corpus_workbooks.CASES + corpus_text.CASES + corpus_spss.CASES


def case_id(case: Case) -> str:
    return f"{case.year}-{case.build.__name__}"


def build_case(case: Case, raw_year_dir: Path) -> Path:
    """Write the case into `raw_year_dir` (created); returns the path `check` is given (file or folder)."""
    raw_year_dir.mkdir(parents=True, exist_ok=True)
    case.build(raw_year_dir)
    single = raw_year_dir / case.name
    files = [p for p in raw_year_dir.iterdir() if p.is_file()]
    return single if len(files) == 1 and single.exists() else raw_year_dir
