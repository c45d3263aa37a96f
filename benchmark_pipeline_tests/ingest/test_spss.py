"""SurveyXact's SPSS export (`spss_sav`): real .sav files, written by pyreadstat or the layout's own writer,
read back into the same canonical frame as the same answers in SurveyXact's CSV; value labels checked like
a Labels sheet; user-missing values as blanks; damaged files refused with a plain message."""

from __future__ import annotations

import pandas as pd
import pyreadstat
import pytest
from click.testing import CliRunner

from benchmark_pipeline.cli.main import cli
from benchmark_pipeline.ingest import (
    LabelsContradictionError,
    LayoutError,
    UnreadableExportError,
    check_export,
    find_export,
    read_export,
    validate_export,
)
from benchmark_pipeline.ingest.layouts import BY_NAME, spss
from benchmark_pipeline.ingest.layouts.spss import MISSING, SAV, SPSS_SAV
from benchmark_pipeline.sample import build_export, build_sample_year, generate_answers, write_export, write_tables
from benchmark_pipeline_tests.reliability.helpers import copy_data, finish, start_cli

from .exports import make_answers, surveyxact_tables, write_export as write_test_export

CPR = "Ring til mig, CPR 010203-1234, mail anne@example.dk"


@pytest.fixture(scope="module")
def answers(instrument_2024, kommuner):
    return generate_answers(instrument_2024, 120, seed=5, kommuner=kommuner)


def _valid(path, instrument, kommuner):
    raw = read_export(path, instrument, kommuner)
    return raw, validate_export(raw, instrument, kommuner)


def _sav(tables, path, year=2024):
    [written] = write_tables(tables, "spss_sav", path, survey_year=year)
    return written


def test_the_layout_writer_reads_back_as_the_same_frame_as_surveyxact_csv(answers, instrument_2024, kommuner,
                                                                          tmp_path):
    [sav] = write_export(answers, instrument_2024, "spss_sav", tmp_path / "sav" / "export.sav", kommuner=kommuner)
    write_export(answers, instrument_2024, "surveyxact_csv", tmp_path / "csv", "cp1252", ";", kommuner=kommuner)
    raw, result = _valid(tmp_path / "sav", instrument_2024, kommuner)
    _, reference = _valid(tmp_path / "csv", instrument_2024, kommuner)
    assert raw.layout == "spss_sav" and raw.files == [sav] and raw.encoding is None
    pd.testing.assert_frame_equal(result.valid, reference.valid)
    assert result.counts == reference.counts
    # skipped single choices are written as the declared missing code 99 and come back as blanks
    with_missing, _ = pyreadstat.read_sav(sav, user_missing=True)
    assert (with_missing["dataforbrug"] == 99).any()
    assert result.valid["data_use_change"].isna().any()


def test_a_sav_written_by_pyreadstat_itself_reads_as_the_canonical_csv(instrument_2024, kommuner, tmp_path):
    """Independent of the layout's writer: numeric ids, datetime and string system variables, a missing range."""
    answers = make_answers(instrument_2024, n=15)
    reference = _valid(write_test_export("canonical_csv", answers, instrument_2024, tmp_path / "csv"),
                       instrument_2024, kommuner)[1].valid
    data, labels = surveyxact_tables(answers, instrument_2024)
    cases = pd.DataFrame({c: pd.to_numeric(data[c]) if c != "kommentar" else data[c].fillna("")
                          for c in data.columns})
    cases["statcompleted"] = pd.Timestamp("2024-09-03 10:15:00")
    cases.loc[cases["dataforbrug"].isna(), "dataforbrug"] = 95  # declared missing through the range 90-99
    value_labels = {}
    for var, value, label in labels.itertuples(index=False):
        value_labels.setdefault(var, {})[int(value)] = label
    value_labels["dataforbrug"][95] = "Ikke besvaret"
    path = tmp_path / "sav" / "spss.sav"
    path.parent.mkdir()
    pyreadstat.write_sav(cases, path, variable_value_labels=value_labels,
                         missing_ranges={"dataforbrug": [{"lo": 90, "hi": 99}]})
    raw, result = _valid(path.parent, instrument_2024, kommuner)
    pd.testing.assert_frame_equal(result.valid, reference)
    assert "95" not in set(raw.labels["value"][raw.labels["variable"] == "dataforbrug"])


def test_numbers_become_text_as_in_a_workbook_and_rows_are_numbered_from_2(instrument_2024, tmp_path):
    path = tmp_path / "x.sav"
    completed = pd.to_datetime(["2024-09-01 08:00", None, "2024-09-02 00:00"])
    pyreadstat.write_sav(pd.DataFrame({"respondentid": [7.0, 8.0, 9.0], "dataforbrug": [1.0, None, 2.5],
                                       "kommentar": ["Ærø", "", " tekst "], "statcompleted": completed}), path)
    with SAV.open(path) as source:
        raw = SPSS_SAV.read(source, instrument_2024)
    frame = raw.frame
    assert list(frame["respondentid"].astype(object)) == ["7", "8", "9"]
    assert list(frame["dataforbrug"].astype(object).fillna("-")) == ["1", "-", "2.5"]
    # SPSS pads strings with blanks, so readstat drops trailing ones; an empty string is a blank
    assert list(frame["kommentar"].fillna("-")) == ["Ærø", "-", " tekst"] and frame["kommentar"].dtype == "str"
    assert list(frame["statcompleted"].astype(object).fillna("-")) == ["2024-09-01T08:00:00", "-",
                                                                       "2024-09-02T00:00:00"]
    assert list(frame["source_row"]) == [2, 3, 4]
    assert raw.labels.empty


def test_the_writer_is_byte_for_byte_reproducible(answers, instrument_2024, kommuner, tmp_path):
    first = write_export(answers, instrument_2024, "spss_sav", tmp_path / "a.sav", kommuner=kommuner)[0].read_bytes()
    second = write_export(answers, instrument_2024, "spss_sav", tmp_path / "b.sav", kommuner=kommuner)[0].read_bytes()
    assert first == second
    assert first[:4] == b"$FL2" and first[92:109] == b"01 Oct 2412:00:00"  # the survey year's fixed timestamp
    other = generate_answers(instrument_2024, 120, seed=6, kommuner=kommuner)
    third = write_export(other, instrument_2024, "spss_sav", tmp_path / "c.sav", kommuner=kommuner)[0].read_bytes()
    assert third != first


def test_value_labels_contradicting_the_mapping_stop_the_year(answers, instrument_2024, kommuner, tmp_path):
    tables = build_export(answers, instrument_2024, "spss_sav", kommuner=kommuner)
    labels = tables["Labels"]
    rows = labels.index[labels["variable"] == "dataforbrug"]
    labels.loc[rows, "label"] = list(reversed(labels.loc[rows, "label"].tolist()))
    path = _sav(tables, tmp_path / "export.sav")
    with pytest.raises(LabelsContradictionError) as caught:
        _valid(path, instrument_2024, kommuner)
    assert caught.value.exit_code == 1
    message = str(caught.value)
    assert str(path) in message and "'dataforbrug' code 1 is labelled 'Ved ikke'" in message
    assert "the mapping says 'Mere'" in message


def test_a_user_missing_code_is_a_blank_not_an_invalid_value(answers, instrument_2024, kommuner, tmp_path):
    tables = build_export(answers, instrument_2024, "spss_sav", kommuner=kommuner)
    dataset = tables["Dataset"]
    dataset.loc[[0, 1, 2], "dataforbrug"] = 99
    assert ("dataforbrug", 99, "Ikke besvaret") in set(tables[MISSING].itertuples(index=False, name=None))
    _, result = _valid(_sav(tables, tmp_path / "export.sav"), instrument_2024, kommuner)
    assert result.counts["rows_quarantined"] == 0
    assert result.valid.set_index("source_row").loc[[2, 3, 4], "data_use_change"].isna().all()


def test_a_declared_missing_value_the_mapping_reads_as_an_answer_stops_the_year(answers, instrument_2024, kommuner,
                                                                                tmp_path):
    """9 is "Ved ikke", an answer every share counts: SPSS would blank it out, so the year stops instead."""
    tables = build_export(answers, instrument_2024, "spss_sav", kommuner=kommuner)
    tables[MISSING] = pd.DataFrame([("dataforbrug", 9, "Ved ikke")], columns=["variable", "value", "label"])
    path = _sav(tables, tmp_path / "export.sav")
    with pytest.raises(LabelsContradictionError) as caught:
        _valid(path, instrument_2024, kommuner)
    message = str(caught.value)
    assert str(path) in message and "'dataforbrug' declares '9' a missing value" in message
    assert "data_use_change.ved_ikke" in message and caught.value.column == "dataforbrug"


def test_an_invalid_code_is_quarantined_at_its_case_row(answers, instrument_2024, kommuner, tmp_path, data_dir):
    tables = build_export(answers, instrument_2024, "spss_sav", kommuner=kommuner)
    tables["Dataset"].loc[4, "dataforbrug"] = 7
    report = check_export(_sav(tables, tmp_path / "export.sav"), 2024, data_dir)
    assert report.exit_code == 1 and report.status == "quarantine"
    [entry] = report.quarantine
    assert entry["row"] == 6 and entry["column"] == "dataforbrug" and entry["rule"] == "invalid_value"


def test_free_text_in_a_string_variable_is_masked(answers, instrument_2024, kommuner, tmp_path):
    tables = build_export(answers, instrument_2024, "spss_sav", kommuner=kommuner)
    tables["Dataset"].loc[3, "kommentar"] = CPR
    raw, result = _valid(_sav(tables, tmp_path / "export.sav"), instrument_2024, kommuner)
    assert raw.pii_masked == 2
    comment = result.valid.set_index("source_row").loc[5, "kommentar"]
    assert "010203-1234" not in comment and "anne@example.dk" not in comment and "[cpr-nr]" in comment


@pytest.mark.parametrize("damage", ["truncated", "cut_short", "random", "empty", "text"])
def test_a_damaged_sav_is_unreadable_with_a_plain_message(damage, answers, instrument_2024, kommuner, tmp_path):
    good = write_export(answers, instrument_2024, "spss_sav", tmp_path / "good.sav", kommuner=kommuner)[0].read_bytes()
    content = {"truncated": good[: len(good) // 2], "cut_short": good[:-40], "random": bytes(range(256)) * 16,
               "empty": b"", "text": "respondentid,kommune\n1,101\n".encode()}[damage]
    path = tmp_path / "raw" / "export.sav"
    path.parent.mkdir()
    path.write_bytes(content)
    with pytest.raises(UnreadableExportError) as caught:
        _valid(path.parent, instrument_2024, kommuner)
    assert caught.value.exit_code == 2
    assert str(caught.value).startswith(f"{path}: ")
    assert "SPSS" in str(caught.value) or "empty" in str(caught.value)


def test_a_file_declaring_far_more_values_than_a_survey_is_not_read(instrument_2024, kommuner, tmp_path, monkeypatch):
    """pyreadstat allocates what the header declares; a .zsav of kilobytes can declare gigabytes."""
    path = tmp_path / "export.zsav"
    pyreadstat.write_sav(pd.DataFrame({"respondentid": range(2000), "kommune": 101.0}), path, compress=True)
    monkeypatch.setattr(spss, "MAX_CELLS", 3999)
    with pytest.raises(UnreadableExportError, match="declares 2,000 cases of 2 variables, 4,000 values"):
        read_export(path, instrument_2024, kommuner)


def test_a_sav_under_another_name_is_recognised_by_its_signature(answers, instrument_2024, kommuner, tmp_path):
    [sav] = write_export(answers, instrument_2024, "spss_sav", tmp_path / "export.sav", kommuner=kommuner)
    dat = sav.rename(tmp_path / "export.dat")
    raw, result = _valid(dat, instrument_2024, kommuner)
    assert raw.layout == "spss_sav" and result.counts["rows_valid"] == len(answers)


def test_a_compressed_zsav_is_read_too(instrument_2024, kommuner, tmp_path):
    data, labels = surveyxact_tables(make_answers(instrument_2024, n=6), instrument_2024)
    cases = pd.DataFrame({c: pd.to_numeric(data[c]) if c != "kommentar" else data[c].fillna("") for c in data})
    path = tmp_path / "export.zsav"
    pyreadstat.write_sav(cases, path, compress=True)
    assert path.read_bytes()[:4] == b"$FL3"
    assert find_export(tmp_path) == path
    _, result = _valid(path.rename(tmp_path / "export.bin"), instrument_2024, kommuner)
    assert result.counts["rows_valid"] == 6


def test_a_sav_under_a_year_of_another_tool_is_refused(answers, instrument_2024, instrument_2025, kommuner, tmp_path):
    [sav] = write_export(answers, instrument_2024, "spss_sav", tmp_path / "export.sav", kommuner=kommuner)
    with pytest.raises(LayoutError, match="spss_sav export, but the 2025 mapping .* expects msforms_xlsx"):
        read_export(sav, instrument_2025, kommuner)


def test_generate_sample_writes_a_sav(tmp_path, data_dir):
    out = tmp_path / "sample.sav"
    args = ["generate-sample", "--data-dir", str(data_dir), "--year", "2024", "--respondents", "40",
            "--layout", "spss_sav", "--out", str(out)]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    report = check_export(out, 2024, data_dir)
    assert report.exit_code == 0 and report.layout == "spss_sav"
    assert BY_NAME["spss_sav"] is SPSS_SAV


# --------------------------------------------------------------------------- end to end


def _published_tables(out):
    [release] = [p for p in (out / "releases" / "2024").iterdir() if p.is_dir()]
    files = sorted((release / "tables").iterdir())
    return {p.name: p for p in files}


@pytest.mark.integration
def test_a_sav_export_publishes_the_same_tables_as_the_same_answers_in_surveyxact_csv(tmp_path, instrument_2024):
    """The issue's acceptance test: two real `benchmark-pipeline run --year 2024` on two data folders holding
    the same answers (the 2024 sample's shape: non-responses, skipped questions, a comment with a CPR-like
    number), one as a .sav, one as SurveyXact's dataset.csv + labels.csv."""
    answers = build_sample_year(2024)
    runs = {}
    for layout, target in (("spss_sav", "export.sav"), ("surveyxact_csv", "dataset.csv")):
        data = copy_data(tmp_path / layout / "data")
        write_export(answers, instrument_2024, layout, data / "raw" / "2024" / target)
        out = tmp_path / layout / "out"
        runs[layout] = (out, start_cli("run", "--year", "2024", "--data-dir", data, "--output-dir", out))
    for layout, (out, proc) in runs.items():
        result = finish(proc)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "2024: published 2024-r1-" in result.stdout
    sav, csv = (_published_tables(runs[layout][0]) for layout in ("spss_sav", "surveyxact_csv"))
    assert sorted(sav) == sorted(csv) and any(name.endswith(".parquet") for name in sav)
    for name in sav:
        read = pd.read_parquet if name.endswith(".parquet") else pd.read_csv
        left, right = (read(tables[name]).drop(columns=["release_id"], errors="ignore") for tables in (sav, csv))
        pd.testing.assert_frame_equal(left, right, obj=name)
    assert len(pd.read_parquet(sav["indicator_values.parquet"])) > 100
