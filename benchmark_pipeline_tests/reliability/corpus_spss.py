"""Hostile SPSS (.sav) exports for the bad-input corpus (`corpus.CASES` takes these in).

Each is the 2024 answers written by the `spss_sav` layout's own writer, plus one deliberate change.
"""

from __future__ import annotations

from pathlib import Path

from benchmark_pipeline.sample import build_export, write_export, write_tables
from benchmark_pipeline_tests.reliability.corpus import Case, answers, instrument

SAV = "export.sav"


def _tables() -> dict:
    return build_export(answers(2024), instrument(2024), "spss_sav")


def spss_clean_sav(folder: Path) -> None:
    write_export(answers(2024), instrument(2024), "spss_sav", folder / SAV)


def spss_truncated_sav(folder: Path) -> None:
    [path] = write_export(answers(2024), instrument(2024), "spss_sav", folder / SAV)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.6)])


def spss_labels_contradict(folder: Path) -> None:
    """The value labels of `dataforbrug` reversed: code 1 says 'Ved ikke', which the mapping calls 'Mere'."""
    tables = _tables()
    labels = tables["Labels"]
    rows = labels.index[labels["variable"] == "dataforbrug"]
    labels.loc[rows, "label"] = list(reversed(labels.loc[rows, "label"].tolist()))
    write_tables(tables, "spss_sav", folder / SAV, survey_year=2024)


def spss_user_missing_code(folder: Path) -> None:
    """Answered rows holding 99, the value the file declares missing (and labels 'Ikke besvaret'): blanks."""
    tables = _tables()
    tables["Dataset"].loc[[1, 4, 7], "dataforbrug"] = 99
    write_tables(tables, "spss_sav", folder / SAV, survey_year=2024)


CASES: list[Case] = [
    Case(SAV, 2024, spss_clean_sav, 0, "ok", note="control: clean SurveyXact .sav"),
    Case(SAV, 2024, spss_user_missing_code, 0, "ok", note="a declared user-missing code is a blank, not invalid"),
    Case(SAV, 2024, spss_truncated_sav, 2, "rejected", ("not a readable SPSS .sav file", "truncated")),
    Case(SAV, 2024, spss_labels_contradict, 1, "rejected", ("labels", "dataforbrug", "'Ved ikke'")),
]
