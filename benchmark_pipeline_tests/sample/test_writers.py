"""The export writers: structure of every layout, codes and labels, encodings, round trips, determinism."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook

from benchmark_pipeline.sample import ExportError, build_export, generate_answers, write_export, write_tables
from benchmark_pipeline_tests.sample.roundtrip import comparable, decode_forms, decode_surveyxact, split_cell

READ_ENCODING = {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "utf-16": "utf-16", "cp1252": "cp1252"}
BOMS = {"utf-8": b"", "utf-8-sig": b"\xef\xbb\xbf", "utf-16": (b"\xff\xfe", b"\xfe\xff"), "cp1252": b""}


@pytest.fixture(scope="module")
def answers_2023(instrument_2023):
    return generate_answers(instrument_2023, 400, seed=11)


@pytest.fixture(scope="module")
def answers_2024(instrument_2024):
    return generate_answers(instrument_2024, 400, seed=12)


@pytest.fixture(scope="module")
def answers_2025(instrument_2025):
    return generate_answers(instrument_2025, 400, seed=13, andet_text=True)


def test_surveyxact_xlsx_sheets_headers_codes_and_labels(tmp_path, answers_2023, instrument_2023):
    [path] = write_export(answers_2023, instrument_2023, "surveyxact_xlsx", tmp_path / "export.xlsx")
    wb = load_workbook(path, read_only=True)
    assert wb.sheetnames == ["Dataset", "Labels"]
    rows = list(wb["Dataset"].values)
    header = list(rows[0])
    assert header[:3] == ["respondentid", "statstatus", "statcompleted"]
    assert header[3:8] == ["s_1", "s_2", "s_3", "s_4", "s_5"]
    assert [h for h in header if h.startswith("s_8_")] == [f"s_8_{i}" for i in range(1, 11)]
    assert header[-1] == "s_10" and len(rows) == len(answers_2023) + 1
    data = pd.DataFrame(rows[1:], columns=header, dtype=object)
    assert set(data["s_4"].dropna()) <= {1, 2, 3, 9}
    assert all(isinstance(v, int) for v in data["s_1"])  # kommune as DST code
    multi = data[[f"s_6_{i}" for i in range(1, 8)]]
    assert set(pd.unique(multi.to_numpy().ravel())) <= {0, 1, None}
    ranked = data[[f"s_8_{i}" for i in range(1, 11)]]
    assert set(pd.unique(ranked.to_numpy().ravel())) <= {1, 2, 3, None}
    labels = pd.DataFrame(list(wb["Labels"].values)[1:], columns=list(next(wb["Labels"].values)))
    assert list(labels.columns) == ["variable", "value", "label"]
    triples = set(labels.itertuples(index=False, name=None))
    assert ("s_4", 1, "Mere") in triples and ("s_1", 101, "København") in triples
    assert ("s_8_2", 2, "Manglende ledelsesmæssig prioritering") in triples
    assert ("s_6_1", 1, "Monitorering og opfølgning") in triples
    assert len(labels[labels["variable"] == "s_1"]) == 98
    decoded = decode_surveyxact(data, instrument_2023)
    pd.testing.assert_frame_equal(comparable(decoded, instrument_2023), comparable(answers_2023, instrument_2023))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_surveyxact_csv_any_encoding_and_separator(tmp_path, answers_2024, instrument_2024, encoding, separator):
    written = write_export(answers_2024, instrument_2024, "surveyxact_csv", tmp_path, encoding, separator)
    assert [p.name for p in written] == ["dataset.csv", "labels.csv"]
    raw = written[0].read_bytes()
    bom = BOMS[encoding]
    assert raw.startswith(bom) if isinstance(bom, bytes) and bom else True
    if isinstance(bom, tuple):
        assert raw[:2] in bom
    if encoding in ("utf-8", "cp1252"):
        assert not raw.startswith(b"\xef\xbb\xbf")
    dataset = pd.read_csv(written[0], sep=separator, encoding=READ_ENCODING[encoding])
    labels = pd.read_csv(written[1], sep=separator, encoding=READ_ENCODING[encoding])
    assert list(dataset.columns[:4]) == ["respondentid", "statstatus", "statcompleted", "kommune"]
    assert "ai_anvendelse" in dataset and "barriere_11" in dataset
    assert list(labels.columns) == ["variable", "value", "label"]
    label_of = {(v, int(c)): lab for v, c, lab in labels.itertuples(index=False, name=None)}
    assert label_of[("kommune", 825)] == "Læsø" and label_of[("omraade", 6)] == "Teknik, miljø og plan"
    assert label_of[("barriere_2", 2)] == "Manglende ledelsesopbakning og prioritering"
    decoded = decode_surveyxact(dataset, instrument_2024)
    pd.testing.assert_frame_equal(comparable(decoded, instrument_2024), comparable(answers_2024, instrument_2024))


def test_cp1252_bytes_are_windows_1252(tmp_path, answers_2024, instrument_2024):
    written = write_export(answers_2024, instrument_2024, "surveyxact_csv", tmp_path / "dataset.csv", "cp1252", ";",
                           newline="\r\n")
    labels = written[1].read_bytes()
    assert written[1] == tmp_path / "labels.csv"
    assert "Læsø".encode("cp1252") in labels and "Læsø".encode("utf-8") not in labels
    assert b"\r\n" in labels
    with pytest.raises(UnicodeDecodeError):
        labels.decode("utf-8")


def test_msforms_layout(tmp_path, answers_2025, instrument_2025, kommuner):
    [path] = write_export(answers_2025, instrument_2025, "msforms_xlsx", tmp_path / "forms.xlsx")
    wb = load_workbook(path, read_only=True)
    assert len(wb.sheetnames) == 1
    rows = list(wb[wb.sheetnames[0]].values)
    header = list(rows[0])
    assert header[:5] == ["ID", "Starttidspunkt", "Fuldførelsestidspunkt", "Mail", "Navn"]
    assert header[5:] == [q.column for q in instrument_2025.questions]
    sheet = pd.DataFrame(rows[1:], columns=header)
    assert sheet["Mail"].str.endswith("@kommune.example").all()
    assert (sheet["Fuldførelsestidspunkt"] > sheet["Starttidspunkt"]).all()
    names = dict(zip(kommuner.table["kommune_navn"], kommuner.table["kommune_kode"]))
    names.update(dict(zip(kommuner.table["officielt_navn"], kommuner.table["kommune_kode"])))
    assert sheet["Hvilken kommune arbejder du i?"].isin(list(names)).all()
    ranking = sheet[instrument_2025.question("barriers").column].dropna()
    full = ranking.map(split_cell)
    assert (full.map(len) == 11).all()  # all options in the respondent's order
    multi = sheet[instrument_2025.question("use_contexts").column].dropna()
    assert multi.str.endswith(";").any() and (~multi.str.endswith(";")).any()
    # an own "Andet" text stands in the choice cell instead of the label
    own = answers_2025["fagomraade__andet_tekst"].notna().to_numpy()
    assert own.any()
    cells = sheet[instrument_2025.question("fagomraade").column].to_numpy()
    assert (cells[own] == answers_2025.loc[own, "fagomraade__andet_tekst"].to_numpy()).all()
    decoded = decode_forms(sheet, instrument_2025, names)
    pd.testing.assert_frame_equal(comparable(decoded, instrument_2025), comparable(answers_2025, instrument_2025))


def test_msforms_partial_ranking_keeps_only_ranked(instrument_2024):
    answers = generate_answers(instrument_2024, 300, seed=4)
    tables = build_export(answers, instrument_2024, "msforms_xlsx")
    cells = tables["Sheet1"][instrument_2024.question("barriers").text]
    partial = answers["barriers__3"].isna() & answers["barriers__1"].notna()
    assert partial.any()
    counts = cells[partial].map(lambda v: len(split_cell(v)))
    expected = answers.loc[partial, ["barriers__1", "barriers__2"]].notna().sum(axis=1)
    assert (counts == expected).all()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_canonical_csv(tmp_path, answers_2024, instrument_2024, encoding, separator):
    [path] = write_export(answers_2024, instrument_2024, "canonical_csv", tmp_path / "a.csv", encoding, separator)
    back = pd.read_csv(path, sep=separator, encoding=READ_ENCODING[encoding], dtype=str, keep_default_na=False)
    assert list(back.columns) == instrument_2024.canonical_columns()
    back = back.astype(object)
    back = back.where(back != "", None)
    for c in back.columns:
        if "__" in c and not c.split("__")[1].isdigit():
            back[c] = back[c].astype(int)
    pd.testing.assert_frame_equal(back, comparable(answers_2024, instrument_2024), check_dtype=False)
    assert set(back["kommune"].map(len)) == {3}


@pytest.mark.parametrize("layout,name", [("surveyxact_xlsx", "x.xlsx"), ("msforms_xlsx", "f.xlsx"),
                                         ("canonical_csv", "c.csv"), ("surveyxact_csv", "sx")])
def test_written_bytes_are_deterministic(tmp_path, answers_2023, instrument_2023, layout, name):
    first = write_export(answers_2023, instrument_2023, layout, tmp_path / "a" / name, seed=1)
    second = write_export(answers_2023, instrument_2023, layout, tmp_path / "b" / name, seed=1)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    other = generate_answers(instrument_2023, 400, seed=12)
    third = write_export(other, instrument_2023, layout, tmp_path / "c" / name, seed=1)
    assert first[0].read_bytes() != third[0].read_bytes()


def test_unknown_values_are_written_through_so_tests_can_plant_them(tmp_path, answers_2024, instrument_2024):
    broken = answers_2024.copy()
    broken["data_use_change"] = broken["data_use_change"].astype(object)
    broken.loc[0, "data_use_change"] = "7"
    broken.loc[1, "kommune"] = "999"
    tables = build_export(broken, instrument_2024, "surveyxact_csv")
    dataset = tables["dataset"]
    assert dataset.loc[0, "dataforbrug"] == 7 and dataset.loc[1, "kommune"] == 999
    dataset.loc[2, "barriere_1"] = 5  # an invalid rank, planted in the built table
    dataset_path, _ = write_tables(tables, "surveyxact_csv", tmp_path, encoding="utf-8", separator=",")
    back = pd.read_csv(dataset_path)
    assert back.loc[2, "barriere_1"] == 5 and back.loc[0, "dataforbrug"] == 7


def test_bad_arguments_raise_export_error(tmp_path, answers_2024, instrument_2024, instrument_2025):
    with pytest.raises(ExportError):
        write_export(answers_2024, instrument_2024, "canonical_csv", tmp_path / "a.csv", encoding="latin-2")
    with pytest.raises(ExportError):
        write_export(answers_2024, instrument_2024, "canonical_csv", tmp_path / "a.csv", separator="|")
    with pytest.raises(ExportError):
        write_export(answers_2024, instrument_2024, "spss", tmp_path / "a.sav")
    with pytest.raises(ExportError, match="no SurveyXact variable"):  # the 2025 mapping is for Forms only
        write_export(answers_2024, instrument_2025, "surveyxact_xlsx", tmp_path / "a.xlsx")
