import json

import pandas as pd
import pytest
from click.testing import CliRunner

from benchmark_pipeline.cli.check import check
from benchmark_pipeline.ingest import check_export

from ..ingest.exports import canonical_table, make_answers, write_export, write_text

KEYS = {"file", "year", "layout", "encoding", "status", "rows_read", "rows_valid", "rows_quarantined",
        "duplicates_collapsed", "rows_empty", "pii_masked", "quarantine", "errors"}


@pytest.fixture
def runner():
    return CliRunner()


def invoke(runner, *args):
    result = runner.invoke(check, [str(a) for a in args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_check_ok(runner, instrument_2024, data_dir, tmp_path):
    write_export("surveyxact_csv", make_answers(instrument_2024, n=8), instrument_2024, tmp_path, sep=";")
    result = invoke(runner, tmp_path, "--year", 2024, "--data-dir", data_dir)
    assert result.exit_code == 0, result.output
    assert "surveyxact_csv" in result.output and "OK" in result.output
    result = invoke(runner, tmp_path, "--year", 2024, "--data-dir", data_dir, "--json")
    doc = json.loads(result.output)
    assert KEYS <= set(doc)
    assert doc["status"] == "ok" and doc["rows_valid"] == 8 and doc["quarantine"] == [] and doc["errors"] == []
    assert doc["encoding"] == "utf-8" and doc["year"] == 2024


def test_check_quarantine_lists_rows(runner, instrument_2024, data_dir, tmp_path):
    table = canonical_table(make_answers(instrument_2024, n=10), instrument_2024)
    table.loc[4, "kommune"] = "Christiansø"
    write_text(table, tmp_path / "answers.csv")
    result = invoke(runner, tmp_path / "answers.csv", "--year", 2024, "--data-dir", data_dir, "--json")
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert doc["status"] == "quarantine"
    assert doc["quarantine"] == [{"row": 6, "respondent_id": table.loc[4, "respondent_id"], "column": "kommune",
                                  "rule": "unknown_kommune",
                                  "message": "'Christiansø' is not one of the 98 kommuner"}]
    text = invoke(runner, tmp_path / "answers.csv", "--year", 2024, "--data-dir", data_dir)
    assert "row 6" in text.output and "unknown_kommune" in text.output and text.exit_code == 1


def test_check_too_many_quarantined_still_lists_rows(runner, instrument_2024, data_dir, tmp_path):
    table = canonical_table(make_answers(instrument_2024, n=10), instrument_2024)
    table.loc[[1, 2, 3], "data_use_change"] = "42"
    write_text(table, tmp_path / "answers.csv")
    result = invoke(runner, tmp_path, "--year", 2024, "--data-dir", data_dir, "--json")
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert doc["status"] == "rejected" and len(doc["quarantine"]) == 3 and doc["rows_quarantined"] == 3
    assert "quarantined" in doc["errors"][0]
    ok = invoke(runner, tmp_path, "--year", 2024, "--data-dir", data_dir, "--max-quarantine-share", "0.5")
    assert ok.exit_code == 1 and "QUARANTINE" in ok.output


@pytest.mark.parametrize(
    ("setup", "year", "code", "words"),
    [
        ("missing", 2024, 2, "no such file"),
        ("garbage", 2024, 2, "x.csv"),
        ("canonical", 1999, 2, "no mapping"),
        ("forms_for_2023", 2023, 2, "expects surveyxact_xlsx"),
        ("missing_column", 2024, 1, "data_use_change"),
    ],
)
def test_check_rejections(setup, year, code, words, runner, instrument_2024, instrument_2025, data_dir, tmp_path):
    target = tmp_path / "export"
    target.mkdir()
    if setup == "garbage":
        (target / "x.csv").write_bytes(b"\x81\x8d\x8f\x90")
    elif setup == "canonical":
        write_export("canonical_csv", make_answers(instrument_2024, n=3), instrument_2024, target)
    elif setup == "forms_for_2023":
        write_export("msforms_xlsx", make_answers(instrument_2025, n=3), instrument_2025, target)
    elif setup == "missing_column":
        table = canonical_table(make_answers(instrument_2024, n=3), instrument_2024).drop(columns="data_use_change")
        write_text(table, target / "x.csv")
    else:
        target = tmp_path / "nothing-here"
    result = invoke(runner, target, "--year", year, "--data-dir", data_dir, "--json")
    assert result.exit_code == code, result.output
    doc = json.loads(result.output)
    assert doc["status"] == "rejected" and words in doc["errors"][0]
    plain = invoke(runner, target, "--year", year, "--data-dir", data_dir)
    assert plain.exit_code == code and "REJECTED" in plain.output and words in plain.output


def test_check_misuse(runner):
    result = runner.invoke(check, ["x.csv"])
    assert result.exit_code == 2 and "--year" in result.output


def test_check_export_report(instrument_2024, data_dir, tmp_path):
    write_export("surveyxact_xlsx", make_answers(instrument_2024, n=5), instrument_2024, tmp_path)
    report = check_export(tmp_path, 2024, data_dir)
    assert report.exit_code == 0 and report.to_dict()["layout"] == "surveyxact_xlsx"
    assert "rows read 5" in report.summary()


PERSONAL_IDS = ("010203-1234", "0102031234", "anne@example.dk")


def test_check_masks_respondent_ids_that_look_like_personal_data(runner, instrument_2024, data_dir, tmp_path):
    """A terminal is an artefact too: CPR-like and e-mail ids are masked in the summary and in --json."""
    table = canonical_table(make_answers(instrument_2024, n=10), instrument_2024)
    table.loc[:2, "respondent_id"] = list(PERSONAL_IDS)
    table.loc[:2, "kommune"] = "Atlantis"  # quarantined: listed with their ids
    table.loc[3, "kommune"] = "010203-1234"  # a CPR number quoted in a message
    twin = table.iloc[[4]].assign(respondent_id="120345-6789")
    table.loc[4, "respondent_id"] = "120345-6789"
    twin["data_use_change"] = "mindre" if table.loc[4, "data_use_change"] != "mindre" else "mere"
    write_text(pd.concat([table, twin], ignore_index=True), tmp_path / "answers.csv")
    args = (tmp_path / "answers.csv", "--year", 2024, "--data-dir", data_dir, "--max-quarantine-share", 1)
    summary, as_json = invoke(runner, *args), invoke(runner, *args, "--json")
    assert summary.exit_code == as_json.exit_code == 1
    doc = json.loads(as_json.output)
    assert {q["rule"] for q in doc["quarantine"]} == {"unknown_kommune", "conflicting_duplicate"}
    assert [q["respondent_id"] for q in doc["quarantine"][:3]] == ["[cpr-nr]", "[cpr-nr]", "[e-mail]"]
    assert "quarantined row 2 (id [cpr-nr]) kommune" in summary.output
    for secret in (*PERSONAL_IDS, "120345-6789"):
        assert secret not in summary.output and secret not in as_json.output


def test_check_names_the_line_of_rows_after_rows_spanning_lines(runner, instrument_2024, data_dir, tmp_path):
    table = canonical_table(make_answers(instrument_2024, n=10), instrument_2024)
    table.loc[2, "kommentar"] = "første linje\nanden linje\ntredje"
    table.loc[7, "kommune"] = "Christiansø"
    write_text(table, tmp_path / "answers.csv")
    args = (tmp_path / "answers.csv", "--year", 2024, "--data-dir", data_dir)
    doc = json.loads(invoke(runner, *args, "--json").output)
    assert [(q["row"], q["line"]) for q in doc["quarantine"]] == [(9, 11)]
    assert "quarantined row 9 (line 11) (id 1007) kommune: unknown_kommune" in invoke(runner, *args).output


def test_check_lists_no_lines_when_every_row_is_one_line(runner, instrument_2024, data_dir, tmp_path):
    table = canonical_table(make_answers(instrument_2024, n=10), instrument_2024)
    table.loc[7, "kommune"] = "Christiansø"
    write_text(table, tmp_path / "answers.csv")
    doc = json.loads(invoke(runner, tmp_path / "answers.csv", "--year", 2024, "--data-dir", data_dir, "--json").output)
    assert "line" not in doc["quarantine"][0]


def test_check_refuses_a_labels_folder_beside_the_dataset(runner, instrument_2024, data_dir, tmp_path):
    """Reading the dataset without its labels would skip the labels check: stop, naming the folder."""
    dataset = write_export("surveyxact_csv", make_answers(instrument_2024, n=8), instrument_2024, tmp_path)
    (tmp_path / "labels.csv").unlink()
    (tmp_path / "labels.csv").mkdir()
    for target in (tmp_path, dataset):
        result = invoke(runner, target, "--year", 2024, "--data-dir", data_dir, "--json")
        assert result.exit_code == 2
        doc = json.loads(result.output)
        assert doc["status"] == "rejected"
        assert doc["errors"][0].startswith(f"{tmp_path / 'labels.csv'}: labels.csv is a folder, not a file")
