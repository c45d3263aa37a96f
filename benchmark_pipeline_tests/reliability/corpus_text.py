"""Hostile text exports for the bad-input corpus (`corpus.CASES` takes these in).

Each is the seeded canonical (or SurveyXact CSV) export of 2024 plus one deliberate change, made here.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from benchmark_pipeline.sample import write_export
from benchmark_pipeline_tests.reliability.corpus import (
    Case,
    answers,
    canonical,
    canonical_bytes,
    danish_names,
    instrument,
    write_canonical,
)

CSV = "export.csv"
MULTI_LINE = {2: "første linje\nanden linje\ntredje", 5: "to\r\nlinjer"}  # three line breaks above row 12
PERSONAL_IDS = {0: "010203-1234", 1: "anne@example.dk"}


def text_bom_over_windows_1252(folder: Path) -> None:
    """A UTF-8 BOM, the header and four rows in UTF-8, the rest saved as Windows-1252 (line 6 holds 'Fanø')."""
    lines = canonical_bytes(danish_names(canonical())).splitlines(keepends=True)
    head, rest = "".join(lines[:5]), "".join(lines[5:])
    (folder / CSV).write_bytes(codecs.BOM_UTF8 + head.encode("utf-8") + rest.encode("cp1252"))


def text_neither_utf8_nor_windows_1252(folder: Path) -> None:
    """A Windows-1252 export with byte 0x81 (no character in either encoding) at the start of line 4's kommune."""
    lines = canonical_bytes(danish_names(canonical())).encode("cp1252").splitlines(keepends=True)
    lines[3] = lines[3].replace(b",", b",\x81", 1)
    (folder / CSV).write_bytes(b"".join(lines))


def text_old_mac_line_ends(folder: Path) -> None:
    """Every line ends in CR alone; row 5 has an unknown kommune, to show the rows are numbered right."""
    frame = canonical()
    frame["kommune"] = frame["kommune"].astype(object)
    frame.loc[3, "kommune"] = "Atlantis"
    (folder / CSV).write_bytes(canonical_bytes(frame).replace("\n", "\r").encode("utf-8"))


def text_stray_nul_in_a_cell(folder: Path) -> None:
    frame = canonical()
    frame["kommentar"] = frame["kommentar"].astype(object)
    frame.loc[6, "kommentar"] = "en kommentar\x00 med et NUL-tegn"
    write_canonical(frame, folder / CSV)


def _multi_line(frame):
    frame["kommentar"] = frame["kommentar"].astype(object)
    for i, text in MULTI_LINE.items():
        frame.loc[i, "kommentar"] = text
    return frame


def text_rows_spanning_lines(folder: Path) -> None:
    """Comments with line breaks in rows 4 and 7; row 12, on line 15, has an unknown kommune."""
    frame = _multi_line(canonical())
    frame["kommune"] = frame["kommune"].astype(object)
    frame.loc[10, "kommune"] = "Atlantis"
    write_canonical(frame, folder / CSV)


def text_ragged_row_after_rows_spanning_lines(folder: Path) -> None:
    """Row 12 (line 15) has one field too many, below comments with line breaks."""
    lines = canonical_bytes(_multi_line(canonical())).split("\n")
    lines[14] += ",overskydende"
    (folder / CSV).write_text("\n".join(lines), encoding="utf-8")


def text_labels_folder(folder: Path) -> None:
    """SurveyXact's dataset.csv with a folder where its labels.csv belongs."""
    write_export(answers(2024), instrument(2024), "surveyxact_csv", folder)
    (folder / "labels.csv").unlink()
    (folder / "labels.csv").mkdir()


def text_personal_respondent_ids(folder: Path) -> None:
    """Respondent ids that are a CPR number and an e-mail address, in rows quarantined for their kommune."""
    frame = canonical()
    frame["respondent_id"] = frame["respondent_id"].astype(object)
    frame["kommune"] = frame["kommune"].astype(object)
    for i, rid in PERSONAL_IDS.items():
        frame.loc[i, ["respondent_id", "kommune"]] = [rid, "Atlantis"]
    write_canonical(frame, folder / CSV)


CASES: list[Case] = [
    Case(CSV, 2024, text_bom_over_windows_1252, 2, "rejected",
         ("UTF-8 byte-order mark", "line 6, column", "save the whole file as UTF-8")),
    Case(CSV, 2024, text_neither_utf8_nor_windows_1252, 2, "rejected",
         ("neither UTF-8 nor Windows-1252", "line 4, column", "byte 0x81", "save the whole file as UTF-8")),
    Case(CSV, 2024, text_old_mac_line_ends, 1, "quarantine", ("unknown_kommune", "row 5 kommune"),
         note="CR-only line ends are read as LF ones"),
    Case(CSV, 2024, text_stray_nul_in_a_cell, 2, "rejected",
         ("row 8, column 'kommentar'", "NUL bytes", "remove the stray character")),
    Case(CSV, 2024, text_rows_spanning_lines, 1, "quarantine", ("unknown_kommune", "row 12 (line 15)")),
    Case(CSV, 2024, text_ragged_row_after_rows_spanning_lines, 2, "rejected",
         ("row 12: the row (line 15 of the file) has 32 fields",)),
    Case("dataset.csv", 2024, text_labels_folder, 2, "rejected", ("labels.csv is a folder, not a file",)),
    Case(CSV, 2024, text_personal_respondent_ids, 1, "quarantine", ("unknown_kommune", "[cpr-nr]", "[e-mail]"),
         note="CPR-like and e-mail respondent ids masked in check's output"),
]
