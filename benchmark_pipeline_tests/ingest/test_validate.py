"""SURVEY.md section 3: each quarantine rule, warning and whole-year stop, with a planted fault."""

import pandas as pd
import pytest

from benchmark_pipeline.ingest import (
    IngestError,
    LabelsContradictionError,
    MissingVariablesError,
    NoValidRowsError,
    TooManyQuarantinedError,
    canonical_schema,
    read_export,
    validate_export,
    write_quarantine,
)

from .exports import canonical_table, forms_table, make_answers, surveyxact_tables, write_text, write_xlsx

COUNTS = ("rows_valid", "rows_quarantined", "duplicates_collapsed", "rows_empty")


def run(table, instrument, kommuner, tmp_path, name="x.csv", max_share=1.0, **kw):
    path = write_text(table, tmp_path / name, **kw)
    return validate_export(read_export(path, instrument, kommuner), instrument, kommuner, max_share)


def assert_invariant(result):
    c = result.counts
    assert c["rows_read"] == sum(c[k] for k in COUNTS)


@pytest.fixture
def table(instrument_2024):
    return canonical_table(make_answers(instrument_2024, n=10), instrument_2024)


def rules(result):
    return sorted(set(zip(result.quarantine["row"], result.quarantine["rule"])))


def test_clean_file(table, instrument_2024, kommuner, tmp_path):
    result = run(table, instrument_2024, kommuner, tmp_path)
    assert result.status == "ok"
    assert result.counts == {"rows_read": 10, "rows_valid": 10, "rows_quarantined": 0, "duplicates_collapsed": 0,
                             "rows_empty": 0, "pii_masked": 0}
    assert list(result.quarantine.columns) == ["row", "respondent_id", "column", "rule", "message"]
    assert result.quarantine.empty and result.quarantine_summary().empty
    canonical_schema(instrument_2024, kommuner).validate(result.valid, lazy=True)


def test_missing_id(table, instrument_2024, kommuner, tmp_path):
    table.loc[3, "respondent_id"] = None
    result = run(table, instrument_2024, kommuner, tmp_path)
    assert rules(result) == [(5, "missing_id")]
    assert result.quarantine.loc[0, "column"] == "respondent_id"
    assert result.counts["rows_valid"] == 9 and result.status == "quarantine"
    assert_invariant(result)


def test_exact_duplicate_collapsed_and_conflicting_duplicate_quarantined(table, instrument_2024, kommuner, tmp_path):
    exact = table.iloc[[0]]
    conflicting = table.iloc[[1]].copy()
    conflicting["data_use_change"] = "ved_ikke" if table.loc[1, "data_use_change"] != "ved_ikke" else "mere"
    table = pd.concat([table, exact, conflicting], ignore_index=True)
    result = run(table, instrument_2024, kommuner, tmp_path)
    assert result.counts["duplicates_collapsed"] == 1
    assert rules(result) == [(3, "conflicting_duplicate"), (13, "conflicting_duplicate")]
    assert "rows 3, 13" in result.quarantine.loc[0, "message"]
    assert result.counts["rows_valid"] == 9
    assert (result.valid["respondent_id"] == table.loc[0, "respondent_id"]).sum() == 1
    assert_invariant(result)


@pytest.mark.parametrize("value", ["Christiansø", "411", "0411", "Atlantis", None])
def test_unknown_kommune(value, table, instrument_2024, kommuner, tmp_path):
    table.loc[0, "kommune"] = value
    result = run(table, instrument_2024, kommuner, tmp_path)
    assert rules(result) == [(2, "unknown_kommune")]
    assert result.quarantine.loc[0, "column"] == "kommune"
    assert_invariant(result)


def test_invalid_values(table, instrument_2024, kommuner, tmp_path):
    table.loc[0, "data_use_change"] = "7"
    table.loc[1, "fagomraade"] = "Landbrug"
    table.loc[2, "use_contexts__politik"] = "2"
    table.loc[3, "barriers__1"] = "ukendt"
    result = run(table, instrument_2024, kommuner, tmp_path)
    assert rules(result) == [(2, "invalid_value"), (3, "invalid_value"), (4, "invalid_value"), (5, "invalid_value")]
    by_row = result.quarantine.set_index("row")
    assert by_row.loc[2, "column"] == "data_use_change" and "'7'" in by_row.loc[2, "message"]
    assert by_row.loc[4, "column"] == "use_contexts__politik"
    assert_invariant(result)


def test_invalid_rank_canonical(table, instrument_2024, kommuner, tmp_path):
    table.loc[0, "barriers__2"] = table.loc[0, "barriers__1"]
    table.loc[1, "barriers__1"] = None
    result = run(table, instrument_2024, kommuner, tmp_path)
    assert rules(result) == [(2, "invalid_rank"), (3, "invalid_rank")]
    assert_invariant(result)


def test_invalid_rank_surveyxact(instrument_2024, kommuner, tmp_path):
    data, labels = surveyxact_tables(make_answers(instrument_2024, n=6), instrument_2024)
    bars = [o.variable for o in instrument_2024.question("barriers").options]
    data.loc[0, bars] = ["4", None, None, None, None, None, None, None, None, None, None]  # outside 1-3
    data.loc[1, bars] = ["1", "1", "2", None, None, None, None, None, None, None, None]  # rank used twice
    data.loc[2, bars] = ["2", "3", None, None, None, None, None, None, None, None, None]  # no rank 1
    data.loc[3, bars] = ["1", None, None, None, None, None, None, None, None, None, None]  # fewer: warning only
    write_text(labels, tmp_path / "labels.csv", sep=";")
    result = run(data, instrument_2024, kommuner, tmp_path, name="dataset.csv", sep=";")
    assert rules(result) == [(2, "invalid_rank"), (3, "invalid_rank"), (4, "invalid_rank")]
    assert set(result.quarantine["column"]) <= set(bars)
    assert list(result.warnings["rule"]) == ["fewer_than_three_barriers"]
    assert list(result.warnings["row"]) == [5]
    assert_invariant(result)


def test_warnings_keep_rows(table, instrument_2024, kommuner, tmp_path):
    table.loc[0, "anchoring_levels__ingen"] = "1"
    table.loc[0, "anchoring_levels__teams"] = "1"
    table.loc[1, "barriers__3"] = None
    result = run(table, instrument_2024, kommuner, tmp_path)
    assert result.status == "ok" and result.counts["rows_valid"] == 10
    assert sorted(zip(result.warnings["row"], result.warnings["rule"])) == [
        (2, "ingen_with_other_level"), (3, "fewer_than_three_barriers")]


def test_non_responses_are_counted_not_quarantined(table, instrument_2024, kommuner, tmp_path):
    q = instrument_2024
    substantive = [c for qq in q.substantive_questions for c in qq.canonical_columns()]
    for i in (0, 1):
        for c in substantive:
            table.loc[i, c] = "0" if "__" in c and not c.startswith("barriers__") else None
    table.loc[1, "kommune"] = "Atlantis"  # pre-filled background is not an answer, not checked
    table.loc[1, "respondent_id"] = None
    result = run(table, instrument_2024, kommuner, tmp_path)
    assert result.counts["rows_empty"] == 2 and result.counts["rows_quarantined"] == 0
    assert result.status == "ok"
    assert_invariant(result)


# ------------------------------------------------------------------------- Forms "Andet" and PII


def test_forms_andet_text_and_invalid_label(instrument_2025, kommuner, tmp_path):
    answers = make_answers(instrument_2025, n=6)
    forms = forms_table(answers, instrument_2025)
    q = {qq.id: qq.column for qq in instrument_2025.questions}
    forms.loc[0, q["fagomraade"]] = "Kommunal revision"
    forms.loc[1, q["use_contexts"]] = "Foranalyser;Til min egen planlægning, skriv til a@b.dk;"
    forms.loc[2, q["barriers"]] = "Manglende tid;Mangel på kaffe;Jura og GDPR;Økonomi;"
    forms.loc[3, q["data_use_change"]] = "Meget mere"  # no "andet" option: invalid
    write_xlsx({"Form1": forms}, tmp_path / "f.xlsx")
    raw = read_export(tmp_path, instrument_2025, kommuner)
    result = validate_export(raw, instrument_2025, kommuner, 1.0)
    assert rules(result) == [(5, "invalid_value")]
    v = result.valid.set_index("respondent_id")
    first, second, third = (answers[i]["respondent_id"] for i in range(3))
    assert v.loc[first, "fagomraade"] == "andet"
    assert v.loc[first, "fagomraade__andet_tekst"] == "Kommunal revision"
    assert v.loc[second, "use_contexts__andet"] == 1 and v.loc[second, "use_contexts__foranalyse"] == 1
    assert v.loc[second, "use_contexts__andet_tekst"] == "Til min egen planlægning, skriv til [e-mail]"
    assert list(v.loc[third, ["barriers__1", "barriers__2", "barriers__3"]]) == ["tid", "andet", "jura"]
    assert v.loc[third, "barriers__andet_tekst"] == "Mangel på kaffe"
    assert result.counts["pii_masked"] == 1
    assert "Meget mere" in result.quarantine.loc[0, "message"]
    files = write_quarantine(result, tmp_path / "q")
    text = "".join(p.read_text(encoding="utf-8-sig") for p in files)
    for secret in ("Kommunal revision", "planlægning", "kaffe", "@"):
        assert secret not in text


def test_pii_masked_in_free_text(table, instrument_2024, kommuner, tmp_path):
    table["kommentar"] = None
    table.loc[0, "kommentar"] = "Ring på 010203-1234 eller skriv til jens.hansen@kommune.dk"
    table.loc[1, "kommentar"] = "CPR 0102031234 slut"
    table.loc[2, "kommentar"] = "Budget 2024-2025 på 12 mio."
    result = run(table, instrument_2024, kommuner, tmp_path)
    comments = list(result.valid["kommentar"].iloc[:3])
    assert comments == ["Ring på [cpr-nr] eller skriv til [e-mail]", "CPR [cpr-nr] slut", "Budget 2024-2025 på 12 mio."]
    assert result.counts["pii_masked"] == 3


def test_quarantine_messages_and_files_hold_no_free_text(table, instrument_2024, kommuner, tmp_path):
    table.loc[0, "kommentar"] = "Hemmelig kommentar"
    table.loc[0, "data_use_change"] = "99"
    result = run(table, instrument_2024, kommuner, tmp_path)
    assert "Hemmelig" not in result.quarantine.to_csv()
    files = write_quarantine(result, tmp_path / "quarantine" / "2024")
    assert [p.name for p in files] == ["quarantine_reasons.csv", "quarantine_rows.csv"]
    rows = pd.read_csv(files[1], dtype=str)
    assert "kommentar" not in rows.columns and list(rows["row"]) == ["2"]
    assert rows.loc[0, "data_use_change"] == "99" and rows.loc[0, "rules"] == "invalid_value"
    assert "Hemmelig" not in "".join(p.read_text(encoding="utf-8-sig") for p in files)
    summary = result.quarantine_summary()
    assert summary.to_dict("records") == [{"rule": "invalid_value", "column": "data_use_change", "rows": 1}]


# ------------------------------------------------------------------------- whole-year stops


def test_required_variable_missing(instrument_2024, kommuner, tmp_path):
    data, labels = surveyxact_tables(make_answers(instrument_2024, n=4), instrument_2024)
    data = data.drop(columns=["dataforbrug", "barriere_3"])
    write_text(labels, tmp_path / "labels.csv")
    with pytest.raises(MissingVariablesError) as info:
        run(data, instrument_2024, kommuner, tmp_path, name="dataset.csv")
    assert info.value.exit_code == 1
    assert "dataforbrug" in str(info.value) and "barriere_3" in str(info.value) and "dataset.csv" in str(info.value)


def test_labels_contradicting_mapping(instrument_2024, kommuner, tmp_path):
    data, labels = surveyxact_tables(make_answers(instrument_2024, n=4), instrument_2024)
    swap = labels.index[(labels["variable"] == "dataforbrug") & (labels["value"] == "1")][0]
    labels.loc[swap, "label"] = "Mindre"
    write_text(labels, tmp_path / "labels.csv")
    with pytest.raises(LabelsContradictionError) as info:
        run(data, instrument_2024, kommuner, tmp_path, name="dataset.csv")
    assert info.value.exit_code == 1
    assert "labels.csv" in str(info.value) and "dataforbrug" in str(info.value)


def test_labels_sheet_with_swapped_option_variables(instrument_2023, kommuner, tmp_path):
    data, labels = surveyxact_tables(make_answers(instrument_2023, n=4), instrument_2023)
    labels.loc[labels["variable"] == "s_6_1", "label"] = "Foranalyser"
    write_xlsx({"Dataset": data, "Labels": labels}, tmp_path / "e.xlsx")
    raw = read_export(tmp_path, instrument_2023, kommuner)
    with pytest.raises(LabelsContradictionError, match="s_6_1"):
        validate_export(raw, instrument_2023, kommuner)


def test_no_valid_rows(table, instrument_2024, kommuner, tmp_path):
    table["kommune"] = "Christiansø"
    with pytest.raises(NoValidRowsError) as info:
        run(table, instrument_2024, kommuner, tmp_path)
    assert info.value.exit_code == 1
    assert info.value.result.counts["rows_quarantined"] == 10


def test_header_only_file_has_no_valid_rows(table, instrument_2024, kommuner, tmp_path):
    with pytest.raises(NoValidRowsError):
        run(table.iloc[:0], instrument_2024, kommuner, tmp_path)


def test_too_many_quarantined(table, instrument_2024, kommuner, tmp_path):
    table.loc[[0, 1, 2], "kommune"] = "Atlantis"
    with pytest.raises(TooManyQuarantinedError) as info:
        run(table, instrument_2024, kommuner, tmp_path, max_share=0.20)
    err = info.value
    assert err.exit_code == 1 and isinstance(err, IngestError)
    assert "3 of 10" in str(err) and "20%" in str(err)
    assert err.result.counts["rows_quarantined"] == 3
    assert len(err.result.quarantine) == 3
    assert run(table, instrument_2024, kommuner, tmp_path, max_share=0.30).counts["rows_quarantined"] == 3


def test_empty_rows_do_not_count_towards_quarantine_share(table, instrument_2024, kommuner, tmp_path):
    table.loc[0, "kommune"] = "Atlantis"
    substantive = [c for q in instrument_2024.substantive_questions for c in q.canonical_columns()]
    empties = pd.DataFrame([{**table.iloc[1].to_dict(), **{c: None for c in substantive},
                             "respondent_id": f"e{i}"} for i in range(30)])
    result = run(pd.concat([table, empties], ignore_index=True), instrument_2024, kommuner, tmp_path, max_share=0.1)
    assert result.counts["rows_empty"] == 30 and result.counts["rows_quarantined"] == 1
    assert result.quarantine_share == pytest.approx(0.1)


def test_schema_collects_all_failures(table, instrument_2024, kommuner, tmp_path):
    import pandera.pandas as pa

    valid = run(table, instrument_2024, kommuner, tmp_path).valid
    broken = valid.copy()
    broken.loc[0, "kommune"] = "999"
    broken.loc[1, "use_contexts__andet"] = 5
    broken.loc[2, "respondent_id"] = broken.loc[3, "respondent_id"]
    broken.loc[4, ["barriers__1", "barriers__2", "barriers__3"]] = ["tid", "tid", None]
    broken.loc[5, ["barriers__1", "barriers__2", "barriers__3"]] = [None, "it", None]
    with pytest.raises(pa.errors.SchemaErrors) as info:
        canonical_schema(instrument_2024, kommuner).validate(broken, lazy=True)
    assert {"kommune", "use_contexts__andet", "respondent_id"} <= set(info.value.failure_cases["column"])
    assert {"barriers_ranks_distinct", "barriers_rank_1_present"} <= set(info.value.failure_cases["check"])


def test_raw_frame_is_masked_on_reading(instrument_2023, kommuner, tmp_path):
    data, labels = surveyxact_tables(make_answers(instrument_2023, n=3), instrument_2023)
    data.loc[0, "s_10"] = "Min mail er kim@aarhus.dk og CPR 311299-1111"
    write_xlsx({"Dataset": data, "Labels": labels}, tmp_path / "e.xlsx")
    raw = read_export(tmp_path, instrument_2023, kommuner)
    assert raw.frame.loc[0, "s_10"] == "Min mail er [e-mail] og CPR [cpr-nr]"
    assert raw.pii_masked == 2
    assert validate_export(raw, instrument_2023, kommuner).counts["pii_masked"] == 2
