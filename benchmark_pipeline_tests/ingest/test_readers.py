"""Every layout x encoding x separator, written from the same answers, gives the same canonical frame."""

import pandas as pd
import pytest

from benchmark_pipeline.ingest import (
    ExportNotFoundError,
    IngestError,
    LayoutError,
    find_export,
    read_export,
    validate_export,
)
from benchmark_pipeline.ingest.errors import UnreadableExportError
from benchmark_pipeline.ingest.layouts import BY_NAME
from benchmark_pipeline.ingest.schema import canonical_column_order

from .exports import (
    canonical_table,
    forms_table,
    make_answers,
    surveyxact_tables,
    write_export,
    write_text,
    write_xlsx,
)

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp1252"]
SEPARATORS = [",", ";", "\t"]


@pytest.fixture(scope="module")
def answers(instrument_2024):
    return make_answers(instrument_2024, n=15)


@pytest.fixture(scope="module")
def expected(answers, instrument_2024, kommuner, tmp_path_factory):
    path = write_export("canonical_csv", answers, instrument_2024, tmp_path_factory.mktemp("ref"))
    return validate_export(read_export(path, instrument_2024, kommuner), instrument_2024, kommuner).valid


def _valid(path, instrument, kommuner):
    raw = read_export(path, instrument, kommuner)
    return raw, validate_export(raw, instrument, kommuner)


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("sep", SEPARATORS)
@pytest.mark.parametrize("layout", ["canonical_csv", "surveyxact_csv"])
def test_text_layouts_every_encoding_and_separator(layout, encoding, sep, answers, expected, instrument_2024,
                                                   kommuner, tmp_path):
    path = write_export(layout, answers, instrument_2024, tmp_path, encoding=encoding, sep=sep)
    raw, result = _valid(tmp_path, instrument_2024, kommuner)
    assert raw.layout == layout
    assert raw.encoding == encoding
    assert raw.separator == sep
    assert raw.path == path
    if layout == "surveyxact_csv":
        assert [p.name for p in raw.files] == ["dataset.csv", "labels.csv"]
    pd.testing.assert_frame_equal(result.valid, expected)


@pytest.mark.parametrize("layout", ["surveyxact_xlsx", "msforms_xlsx"])
def test_excel_layouts(layout, answers, expected, instrument_2024, instrument_2025, kommuner, tmp_path):
    instrument = instrument_2025 if layout == "msforms_xlsx" else instrument_2024
    write_export(layout, answers, instrument, tmp_path)
    raw, result = _valid(tmp_path, instrument, kommuner)
    assert raw.layout == layout and raw.encoding is None
    pd.testing.assert_frame_equal(result.valid, expected)


def test_surveyxact_xlsx_for_2023(instrument_2023, kommuner, tmp_path):
    answers = make_answers(instrument_2023, n=9)
    write_export("surveyxact_xlsx", answers, instrument_2023, tmp_path)
    _, result = _valid(tmp_path, instrument_2023, kommuner)
    assert list(result.valid.columns) == canonical_column_order(instrument_2023)
    assert "ai_use" not in result.valid.columns
    assert result.counts["rows_valid"] == 9


@pytest.mark.parametrize("values", ["id", "label", "code"])
@pytest.mark.parametrize("kommune", ["code", "code4", "name", "official", "mixed"])
def test_values_as_ids_labels_codes_and_kommune_spellings(values, kommune, answers, expected, instrument_2024,
                                                          kommuner, tmp_path):
    write_export("canonical_csv", answers, instrument_2024, tmp_path, values=values, kommune=kommune)
    _, result = _valid(tmp_path, instrument_2024, kommuner)
    pd.testing.assert_frame_equal(result.valid, expected)


def test_canonical_dtypes(expected, instrument_2024):
    assert list(expected.columns) == canonical_column_order(instrument_2024)
    assert expected["respondent_id"].dtype == "str"
    assert expected["source_row"].dtype == "int64"
    assert expected["kommune"].dtype == "str"
    assert list(expected["source_row"]) == list(range(2, len(expected) + 2))
    for q in instrument_2024.questions:
        if q.kind == "single":
            assert isinstance(expected[q.id].dtype, pd.CategoricalDtype)
            assert list(expected[q.id].cat.categories) == list(q.option_ids)
        elif q.kind == "multi":
            assert all(expected[c].dtype == "int8" for c in q.canonical_columns())
        elif q.kind == "ranked":
            assert all(list(expected[c].cat.categories) == list(q.option_ids) for c in q.canonical_columns())
        else:
            assert expected[q.id].dtype == "str"


def test_cp1252_danish_letters_read_back_exactly(instrument_2024, kommuner, tmp_path):
    table = canonical_table(make_answers(instrument_2024, n=4), instrument_2024, values="label", kommune="name")
    table["kommentar"] = ["Ærø og Læsø", "Åbenrå æøå ÆØÅ", "blåbærgrød", None]
    table["kommune"] = ["Ærø", "Læsø", "Ærø", "Læsø"]
    path = write_text(table, tmp_path / "cp.csv", encoding="cp1252", sep=";")
    raw = read_export(path, instrument_2024, kommuner)
    assert raw.encoding == "cp1252"
    assert list(raw.frame["kommune"]) == ["Ærø", "Læsø", "Ærø", "Læsø"]
    result = validate_export(raw, instrument_2024, kommuner)
    assert list(result.valid["kommune"]) == ["492", "825", "492", "825"]
    assert list(result.valid["kommentar"].fillna("<NA>")) == ["Ærø og Læsø", "Åbenrå æøå ÆØÅ", "blåbærgrød", "<NA>"]
    assert list(result.valid["fagomraade"].astype(object).fillna("-")) == list(
        pd.Series([a for a in table["fagomraade"]]).map(
            {o.label: o.id for o in instrument_2024.question("fagomraade").options}).fillna("-"))


def _stored_text(raw) -> str:
    """Everything the read frame holds, headers and cells, as one text (what its stored copy would hold)."""
    return " ".join(map(str, raw.frame.columns)) + " " + raw.frame.astype(str).to_csv(index=False)


def test_only_the_columns_the_mapping_uses_survive_reading(instrument_2025, kommuner, tmp_path):
    write_export("msforms_xlsx", make_answers(instrument_2025, n=3), instrument_2025, tmp_path)
    raw = read_export(tmp_path, instrument_2025, kommuner)
    assert set(raw.dropped_columns) == {"Mail", "Navn", "Starttidspunkt", "Fuldførelsestidspunkt"}
    assert not set(raw.dropped_columns) & set(raw.frame.columns)
    assert "@kommune.dk" not in _stored_text(raw) and "Person 1" not in _stored_text(raw)


def test_a_merged_personal_header_leaves_no_blank_headed_column(instrument_2025, kommuner, tmp_path):
    """Mail and Navn under one merged header cell: the name column has no header of its own."""
    import openpyxl

    path = write_export("msforms_xlsx", make_answers(instrument_2025, n=3), instrument_2025, tmp_path)
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    header = [c.value for c in ws[1]]
    mail, navn = header.index("Mail") + 1, header.index("Navn") + 1
    ws.cell(row=1, column=navn).value = None
    ws.merge_cells(start_row=1, end_row=1, start_column=mail, end_column=navn)
    wb.save(path)
    raw = read_export(path, instrument_2025, kommuner)
    assert f"__blank_{navn}" in raw.dropped_columns
    assert "Person 2" not in _stored_text(raw) and "@kommune.dk" not in _stored_text(raw)
    assert len(validate_export(raw, instrument_2025, kommuner, 1.0).valid) == 3


def test_unmapped_columns_with_names_are_dropped_in_every_layout(instrument_2024, kommuner, tmp_path):
    answers = make_answers(instrument_2024, n=3)
    table = canonical_table(answers, instrument_2024)
    table["Fulde navn"] = ["Anne Hansen", "Bo Jensen", "Carl Nielsen"]
    table["E-mail"] = "a@b.dk"
    raw = read_export(write_text(table, tmp_path / "c" / "x.csv"), instrument_2024, kommuner)
    assert set(raw.dropped_columns) == {"Fulde navn", "E-mail"}
    assert "Bo Jensen" not in _stored_text(raw) and "a@b.dk" not in _stored_text(raw)

    data, labels = surveyxact_tables(answers, instrument_2024)
    data["statname"] = ["Anne Hansen", "Bo Jensen", "Carl Nielsen"]
    data["statstatus"] = 1
    write_text(labels, tmp_path / "sx" / "labels.csv")
    raw = read_export(write_text(data, tmp_path / "sx" / "dataset.csv"), instrument_2024, kommuner)
    assert {"statname", "statstatus"} <= set(raw.dropped_columns)
    assert "Bo Jensen" not in _stored_text(raw)


@pytest.mark.parametrize("twin", ["Kommune", "KOMMUNE"])
def test_two_spellings_of_a_used_header_are_refused(twin, instrument_2024, kommuner, tmp_path):
    """Picking either column would publish one column's answers as the other's."""
    table = canonical_table(make_answers(instrument_2024, n=3), instrument_2024)
    table.insert(3, twin, "999")
    path = write_text(table, tmp_path / "x.csv")
    with pytest.raises(UnreadableExportError) as caught:
        read_export(path, instrument_2024, kommuner)
    message = str(caught.value)
    assert "x.csv" in message and "differ only in spacing or case" in message
    assert message.count("kommune: ") == 1 and "column 2 ('kommune') and column 4 (" in message


def test_two_spellings_of_an_unused_header_are_dropped_not_refused(instrument_2024, kommuner, tmp_path):
    table = canonical_table(make_answers(instrument_2024, n=3), instrument_2024)
    table["Note"], table["note "] = "a", "b"
    raw = read_export(write_text(table, tmp_path / "x.csv"), instrument_2024, kommuner)
    assert {"Note", "note"} <= set(raw.dropped_columns)


def test_forms_headers_differing_in_spacing_for_one_question_are_refused(instrument_2025, kommuner, tmp_path):
    """The tester's file: the second column was used silently and a share was published as 178 of 178."""
    answers = make_answers(instrument_2025, n=4)
    table = forms_table(answers, instrument_2025)
    q = instrument_2025.question("further_potential")
    header = q.column or q.text
    table[header.replace(" ", "  ", 1)] = "Nej"
    path = write_xlsx({"Form1": table}, tmp_path / "forms.xlsx")
    with pytest.raises(UnreadableExportError, match="differ only in spacing or case"):
        read_export(path, instrument_2025, kommuner)


def test_forms_and_surveyxact_source_rows_skip_nothing(instrument_2025, kommuner, tmp_path):
    write_export("msforms_xlsx", make_answers(instrument_2025, n=3), instrument_2025, tmp_path)
    raw = read_export(tmp_path, instrument_2025, kommuner)
    assert list(raw.frame["source_row"]) == [2, 3, 4]


# ------------------------------------------------------------------------- find_export


def test_find_export_file_and_folder(tmp_path):
    (tmp_path / "README.md").write_text("synthetic")
    (tmp_path / ".hidden.csv").write_text("x")
    export = tmp_path / "answers.csv"
    export.write_text("respondent_id,kommune\n")
    assert find_export(tmp_path) == export
    assert find_export(export) == export


def test_find_export_dataset_with_labels_counts_as_one(tmp_path):
    (tmp_path / "dataset.csv").write_text("a")
    (tmp_path / "labels.csv").write_text("b")
    assert find_export(tmp_path).name == "dataset.csv"


def test_find_export_none_or_several(tmp_path):
    (tmp_path / "README.txt").write_text("synthetic")
    with pytest.raises(ExportNotFoundError, match="no export file") as info:
        find_export(tmp_path)
    assert info.value.exit_code == 2
    (tmp_path / "a.csv").write_text("a")
    (tmp_path / "b.xlsx").write_text("b")
    with pytest.raises(ExportNotFoundError, match="several") as info:
        find_export(tmp_path)
    assert "a.csv" in str(info.value) and "b.xlsx" in str(info.value)
    with pytest.raises(ExportNotFoundError):
        find_export(tmp_path / "missing")


# ------------------------------------------------------------------------- layout errors


def test_layout_mismatch_is_a_clear_error(instrument_2023, instrument_2025, kommuner, tmp_path):
    write_export("msforms_xlsx", make_answers(instrument_2025, n=3), instrument_2025, tmp_path)
    with pytest.raises(LayoutError, match="msforms_xlsx.*expects surveyxact_xlsx") as info:
        read_export(tmp_path, instrument_2023, kommuner)
    assert info.value.exit_code == 2
    assert "forms.xlsx" in str(info.value)


@pytest.mark.parametrize("layout", ["canonical_csv", "surveyxact_csv"])
def test_text_exports_read_coded_columns_as_categoricals(layout, answers, instrument_2024, kommuner, tmp_path):
    """Coded answers repeat: one string per distinct value; ids and free text stay plain text."""
    write_export(layout, answers, instrument_2024, tmp_path)
    raw = read_export(tmp_path, instrument_2024, kommuner)
    id_column = "respondent_id" if layout == "canonical_csv" else instrument_2024.respondent_id
    text = set(BY_NAME[layout].free_text_columns(raw.frame.columns, instrument_2024)) | {id_column}
    assert len(text) == 2  # the id and the comment
    for column in raw.frame.columns.drop("source_row"):
        dtype = raw.frame[column].dtype
        if column in text:
            assert dtype == "str", column
        else:
            assert isinstance(dtype, pd.CategoricalDtype) and dtype.categories.dtype == "str", column


def test_canonical_csv_fits_every_year(instrument_2025, kommuner, tmp_path):
    write_export("canonical_csv", make_answers(instrument_2025, n=3), instrument_2025, tmp_path)
    raw = read_export(tmp_path, instrument_2025, kommuner)
    assert raw.layout == "canonical_csv"
    assert validate_export(raw, instrument_2025, kommuner).counts["rows_valid"] == 3


def test_unknown_layout_text_and_workbook(instrument_2024, kommuner, tmp_path):
    (tmp_path / "a").mkdir()
    write_text(pd.DataFrame({"foo": ["1"], "bar": ["2"]}), tmp_path / "a" / "x.csv")
    with pytest.raises(LayoutError, match="unknown layout") as info:
        read_export(tmp_path / "a", instrument_2024, kommuner)
    assert info.value.exit_code == 2
    write_xlsx({"Ark1": pd.DataFrame({"foo": ["1"]})}, tmp_path / "b" / "x.xlsx")
    with pytest.raises(LayoutError, match="unknown layout"):
        read_export(tmp_path / "b", instrument_2024, kommuner)


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02garbage", b"PK\x03\x04broken zip"])
def test_unreadable_files(content, instrument_2024, kommuner, tmp_path):
    for name in ("x.csv", "x.xlsx"):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(IngestError) as info:
            read_export(path, instrument_2024, kommuner)
        assert info.value.exit_code == 2
        assert name in str(info.value)
        path.unlink()


def test_ragged_row_names_the_problem(instrument_2024, kommuner, tmp_path):
    table = canonical_table(make_answers(instrument_2024, n=3), instrument_2024)
    text = table.to_csv(index=False) + "1,2,3\n"
    (tmp_path / "x.csv").write_text(text + ",".join(["9"] * (len(table.columns) + 2)) + "\n")
    with pytest.raises(IngestError, match="columns") as info:
        read_export(tmp_path / "x.csv", instrument_2024, kommuner)
    assert info.value.exit_code == 2


def test_old_excel_format_is_rejected(instrument_2024, kommuner, tmp_path):
    (tmp_path / "x.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(IngestError, match=r"\.xls"):
        read_export(tmp_path / "x.xls", instrument_2024, kommuner)


def test_ragged_and_binary_text_files_name_row_and_kind(instrument_2024, kommuner, tmp_path):
    from benchmark_pipeline.ingest import UnreadableExportError

    ragged = tmp_path / "ragged.csv"
    ragged.write_text("respondent_id,kommune,x\n1,101,a\n2,101\n3,101,c\n", encoding="utf-8")
    with pytest.raises(UnreadableExportError, match=r"row 3: the row has 2 fields, the header has 3 columns"):
        read_export(ragged, instrument_2024, kommuner)
    zipped = tmp_path / "export.csv"
    zipped.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(UnreadableExportError, match="Excel workbook"):
        read_export(zipped, instrument_2024, kommuner)


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_a_ragged_row_is_named_in_either_encoding(encoding, instrument_2024, kommuner, tmp_path):
    """A UTF-8 export is parsed straight from disk, a Windows-1252 one after decoding: same message."""
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("respondent_id,kommune,kommentar\n1,101,Ærø\n2,101\n3,101,c\n", encoding=encoding)
    with pytest.raises(UnreadableExportError, match=r"row 3: the row has 2 fields, the header has 3 columns"):
        read_export(ragged, instrument_2024, kommuner)


def test_a_nul_byte_in_a_cell_of_a_utf8_export_is_refused(instrument_2024, kommuner, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(b"respondent_id,kommune,kommentar\n1,101,ok\n2,147,a\x00b\n")
    with pytest.raises(UnreadableExportError, match="NUL bytes"):
        read_export(path, instrument_2024, kommuner)


def test_windows_1252_body_under_an_ascii_header_is_decoded(instrument_2024, kommuner, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes("respondent_id,kommune,kommentar\n1,101,Ærø og Læsø\n".encode("cp1252"))
    raw = read_export(path, instrument_2024, kommuner)
    assert raw.encoding == "cp1252" and raw.frame.loc[0, "kommentar"] == "Ærø og Læsø"


def test_a_cell_larger_than_a_parse_block_is_read(instrument_2024, kommuner, tmp_path):
    path = tmp_path / "export.csv"
    big = "ord " * 600_000
    path.write_text(f'respondent_id,kommune,kommentar\n1,101,"{big}"\n2,147,kort\n', encoding="utf-8")
    raw = read_export(path, instrument_2024, kommuner)
    assert raw.rows_read == 2 and len(raw.frame.loc[0, "kommentar"]) > 2_000_000


def test_masking_a_megabyte_cell_is_linear():
    import time

    from benchmark_pipeline.ingest.pii import mask_value

    started = time.monotonic()
    assert mask_value("x" * 1_000_000 + "@").endswith("@")
    assert mask_value("skriv til anne.b@example.dk") == "skriv til [e-mail]"
    assert time.monotonic() - started < 5
