"""The release workbook (reports/workbook.xlsx), read back with openpyxl from real renders."""

from __future__ import annotations

import math
import zipfile

import openpyxl
import pytest

from benchmark_pipeline.reports import prepare_reports

SHEETS = ["Forside", "Om tallene", "Det vigtigste", "Indikatorer", "Barrierer", "Ændringer", "Udvikling", "Kommuner",
          "Årsoversigt", "Karantæne"]
VALUE_HEADERS = {
    "Indikatorer": ("Besvarelser (n)", "Andel", "Nedre grænse (95 %)", "Øvre grænse (95 %)"),
    "Barrierer": ("Besvarelser (n)", "Vægtet score", "Andel i top 3", "Andel som nr. 1"),
    "Kommuner": ("Besvarelser (n)", "Andel", "Udjævnet andel", "Landsgennemsnit", "Percentil", "Placering",
                 "Laveste i gruppen", "Kommuner med tal i gruppen"),
}


@pytest.fixture(scope="module")
def workbook_7(tmp_path_factory, report_tables, instrument_2024, kommuner):
    """The 2024 workbook rendered with a minimum of 7 answers."""
    tables, history = report_tables
    out = tmp_path_factory.mktemp("workbook_7")
    prepare_reports(2024, tables, history, instrument_2024, kommuner, min_respondents=7).write(out)
    return out / "workbook.xlsx"


@pytest.fixture(scope="module")
def book(rendered_2024):
    wb = openpyxl.load_workbook(rendered_2024["dir"] / "workbook.xlsx")
    yield wb
    wb.close()


def _rows(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def _table(ws) -> tuple[list[str], list[list]]:
    rows = _rows(ws)
    return rows[0], rows[1:]


def _release_id(rendered_2024) -> str:
    return str(rendered_2024["tables"]["indicator_values"]["release_id"].iloc[0])


def test_sheets_in_order(book):
    assert book.sheetnames == SHEETS


def test_the_findings_sheet_holds_the_reports_sentences(book, report_tables, instrument_2024, kommuner):
    """The same findings as the reports: the national highlights first, then every kommune's findings."""
    from benchmark_pipeline import findings as fnd

    tables, history = report_tables
    ctx = prepare_reports(2024, tables, history, instrument_2024, kommuner).ctx
    found = ctx.findings
    _, rows = _table(book["Det vigtigste"])
    national = [f.sentence for f in fnd.highlights(found[fnd.NATIONAL_CODE])]
    assert national and [r[1] for r in rows[:len(national)]] == national
    kommune_sentences = {f.sentence for code, fs in found.items() if code != fnd.NATIONAL_CODE for f in fs}
    assert {r[1] for r in rows[len(national):]} == kommune_sentences
    assert all(r[0] for r in rows)


def test_cover_lists_release_year_minimum_sheets_and_dictionary(book, rendered_2024):
    rows = {r[0]: r[1] for r in _rows(book["Forside"]) if r and r[0]}
    assert rows["Udgivelse"] == _release_id(rendered_2024)
    assert rows["Undersøgelsesår"] == 2024
    assert "mindst 5 besvarelser" in rows["Mindste antal besvarelser"]
    assert "data_dictionary.json" in rows["Dataordbog"]
    for sheet in SHEETS:  # one line per sheet
        assert sheet in rows and rows[sheet], sheet
    assert any(isinstance(v, str) and v.startswith("Note 1: ") for r in _rows(book["Forside"]) for v in r)


def test_release_id_and_year_in_every_page_header(book, rendered_2024):
    release_id = _release_id(rendered_2024)
    for ws in book.worksheets:
        header = ws.oddHeader.right.text
        assert release_id in header and "2024" in header, ws.title
        assert "&P" in ws.oddFooter.center.text


def test_print_setup_on_every_sheet(book, rendered_2024):
    for ws in book.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.page_setup.paperSize == 9  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        # fitToWidth is omitted when it is 1, the file format's default
        assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0, ws.title
        assert ws.print_title_rows == "$1:$1", ws.title
        assert ws.freeze_panes == "A2", ws.title


def test_labels_reasons_and_levels_are_danish(book, instrument_2024):
    head, rows = _table(book["Indikatorer"])
    col = {h: i for i, h in enumerate(head)}
    labels = {(o.id, o.label) for q in instrument_2024.questions for o in q.options}
    seen = {(r[col["Svarmulighed-id"]], r[col["Svarmulighed"]]) for r in rows}
    assert seen <= labels | {(o, o) for o, _ in seen if o not in {x for x, _ in labels}}
    assert any(o != label for o, label in seen)
    assert {r[col["Niveau"]] for r in rows} == {"Land", "Region", "Kommunegruppe", "Kommune"}
    assert {r[col["Mål"]] for r in rows} <= {"Andel", "Andel i top 3", "Andel som nr. 1"}
    reasons = {r[col["Årsag"]] for r in rows} - {None}
    assert reasons and all(not any(code in r for code in ("confidential", "no_respondents", "below_minimum",
                                                          "complementary")) for r in reasons)
    assert "Ingen besvarelser" in reasons or any(r.startswith("Fortroligt") for r in reasons)
    assert all(isinstance(r[col["Spørgsmål"]], str) and r[col["Spørgsmål"]] for r in rows)
    # 2024's renamed barrier option carries its footnote
    b_head, b_rows = _table(book["Barrierer"])
    b = {h: i for i, h in enumerate(b_head)}
    assert any(r[b["Note"]] == "Se note 1" for r in b_rows if r[b["Barriere-id"]] == "ledelse")
    assert {r[b["Note"]] for r in b_rows if r[b["Barriere-id"]] != "ledelse"} == {None}


def test_kommune_sheet_has_region_group_rank_and_spread(book, kommuner):
    head, rows = _table(book["Kommuner"])
    col = {h: i for i, h in enumerate(head)}
    for name in ("Region", "Kommunegruppe", "Placering", "Laveste i gruppen", "Median i gruppen",
                 "Højeste i gruppen", "Kommuner med tal i gruppen"):
        assert name in col, name
    ref = {str(r["kommune_kode"]): r for r in kommuner.table.to_dict("records")}
    published = [r for r in rows if r[col["Diskretioneret"]] == "Nej"]
    assert published
    for r in published[:200]:
        k = ref[str(r[col["Kommunekode"]])]
        assert r[col["Region"]] == k["region_navn"] and r[col["Kommunegruppe"]] == k["kommunegruppe_navn"]
        x, of, total = r[col["Placering"]].split(" ")
        assert of == "af" and 1 <= int(x) <= int(total) <= len(kommuner.codes)
        assert isinstance(r[col["Andel"]], float)


def test_changes_comparison_in_danish_with_base_share_header(book):
    head, rows = _table(book["Ændringer"])
    col = {h: i for i, h in enumerate(head)}
    assert "Andel i sammenligningsåret" in col and "Andel sidste år" not in col
    assert {r[col["Sammenligning"]] for r in rows} <= {"Sidste år", "Første år"}
    assert rows[0][col["Ændring (procentpoint)"]] is None or isinstance(rows[0][col["Ændring (procentpoint)"]], float)


def test_time_series_has_every_year_national_and_regions(book, report_tables):
    head, rows = _table(book["Udvikling"])
    assert "Andel 2023" in head and "Andel 2024" in head and "Tendens (pp pr. år)" in head
    col = {h: i for i, h in enumerate(head)}
    assert {r[col["Niveau"]] for r in rows} == {"Land", "Region"}
    tables, history = report_tables
    iv = history[2023]["indicator_values"]
    row = iv[(iv.geography_level == "national") & (iv.indicator_id == "data_use_change.mere")].iloc[0]
    mine = next(r for r in rows if r[col["Indikator-id"]] == "data_use_change.mere" and r[col["Niveau"]] == "Land")
    assert mine[col["Andel 2023"]] == row.share  # unrounded, as published


def _suppressed_keys(tables, name, keys):
    df = tables[name]
    return {tuple(str(v) for v in r) for r in df.loc[df["suppressed"].astype(bool), list(keys)].itertuples(index=False)}


@pytest.mark.parametrize("sheet, table, keys, key_headers", [
    ("Indikatorer", "indicator_values", ("geography_code", "indicator_id"), ("Geografikode", "Indikator-id")),
    ("Barrierer", "barrier_scores", ("geography_code", "barrier_id"), ("Geografikode", "Barriere-id")),
    ("Kommuner", "kommune_benchmarks", ("kommune_kode", "indicator_id"), ("Kommunekode", "Indikator-id")),
])
def test_suppressed_cells_are_marked_and_hold_no_value(book, rendered_2024, sheet, table, keys, key_headers):
    """Exactly the value cells of suppressed rows hold "..", and no other cell of those rows holds a number."""
    head, rows = _table(book[sheet])
    col = {h: i for i, h in enumerate(head)}
    hidden = _suppressed_keys(rendered_2024["tables"], table, keys)
    assert hidden
    found = 0
    for r in rows:
        key = tuple(str(r[col[h]]) for h in key_headers)
        marked = [h for h in VALUE_HEADERS[sheet] if r[col[h]] == ".."]
        if key in hidden:
            found += 1
            assert r[col["Diskretioneret"]] == "Ja"
            assert marked == list(VALUE_HEADERS[sheet]), key
            numbers = [h for h, v in zip(head, r) if isinstance(v, (int, float)) and h not in ("År",)]
            assert numbers == [], (key, numbers)
        else:
            assert marked == [] and r[col["Diskretioneret"]] == "Nej", key
    assert found == len(hidden)
    # numbers stay numbers (not text) in published rows
    pub = next(r for r in rows if r[col["Diskretioneret"]] == "Nej" and r[col["Andel" if "Andel" in col else
                                                                             "Vægtet score"]] is not None)
    assert isinstance(pub[col["Besvarelser (n)"]], int)


def test_number_formats(book):
    ws = book["Indikatorer"]
    head = [c.value for c in ws[1]]
    cells = ws[2]
    assert cells[head.index("Andel")].number_format == "0.0%"
    ws = book["Ændringer"]
    head = [c.value for c in ws[1]]
    assert ws[2][head.index("Ændring (procentpoint)")].number_format == "0.0"


def test_values_exactly_as_published(book, report_tables):
    tables, _ = report_tables
    iv = tables["indicator_values"].reset_index(drop=True)
    head, rows = _table(book["Indikatorer"])
    col = {h: i for i, h in enumerate(head)}
    assert len(rows) == len(iv)
    checked = 0
    for i in range(0, len(rows), 97):
        if not iv.suppressed[i] and not math.isnan(iv.share[i]):
            assert rows[i][col["Andel"]] == iv.share[i]  # bit for bit
            checked += 1
    assert checked


def test_explanation_matches_sheets_and_minimum(book, workbook_7):
    about = _rows(book["Om tallene"])
    assert about[0] == ["Ark", "Kolonne", "Forklaring"]
    assert {r[0] for r in about[1:]} == {"Alle ark", *SHEETS[2:]}
    for sheet in SHEETS[2:]:  # every column of every table sheet is explained, and nothing else
        explained = [r[1] for r in about[1:] if r[0] == sheet]
        assert explained == [c.value for c in book[sheet][1]], sheet
    wb7 = openpyxl.load_workbook(workbook_7, read_only=True)
    try:
        texts = [v for ws in wb7.worksheets if ws.title in ("Forside", "Om tallene")
                 for r in ws.iter_rows(values_only=True) for v in r if isinstance(v, str)]
        assert any("færre end 7 besvarelser" in t for t in texts)
        assert any("mindst 7 besvarelser" in t for t in texts)
        assert not any("5" in t for t in texts if "besvarelser" in t), [t for t in texts if "5" in t]
    finally:
        wb7.close()


def test_no_private_xlsxwriter_override():
    from benchmark_pipeline.reports import workbook

    source = open(workbook.__file__, encoding="utf-8").read()
    assert "_xml_" not in source and "worksheet_class" not in source


def test_byte_identical_on_two_renders(tmp_path, report_tables, instrument_2024, kommuner, workbook_7):
    tables, history = report_tables
    prepare_reports(2024, tables, history, instrument_2024, kommuner, min_respondents=7).write(tmp_path)
    assert (tmp_path / "workbook.xlsx").read_bytes() == workbook_7.read_bytes()


def test_expected_page_count(rendered_2024):
    """Fit to one page wide: the printed page count follows from the rows and the scale (no printer here).
    The estimate is kept in the docstring of workbook.py; this checks the settings it rests on."""
    with zipfile.ZipFile(rendered_2024["dir"] / "workbook.xlsx") as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/sheet"):
                xml = zf.read(name).decode()
                assert 'fitToHeight="0"' in xml and "fitToWidth" not in xml, name  # width: the default 1
                assert 'orientation="landscape"' in xml, name


def test_audit_passes_the_workbook_and_catches_a_planted_leak(tmp_path, rendered_2024):
    """The release audit reads the new sheets: the clean workbook has no disclosure finding, and a value
    written into a suppressed kommune row (where ".." stood) is caught."""
    from benchmark_pipeline.audit import audit_release

    clean = tmp_path / "clean" / "reports"
    clean.mkdir(parents=True)
    source = rendered_2024["dir"] / "workbook.xlsx"
    (clean / "workbook.xlsx").write_bytes(source.read_bytes())
    assert {f.kind for f in audit_release(clean.parent).findings} == set()

    wb = openpyxl.load_workbook(source)
    ws = wb["Kommuner"]
    head = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[head.index("Diskretioneret")].value == "Ja")
    assert row[head.index("Andel")].value == ".."
    row[head.index("Andel")].value = 0.4
    leaked = tmp_path / "leaked" / "reports"
    leaked.mkdir(parents=True)
    wb.save(leaked / "workbook.xlsx")
    wb.close()
    kinds = {f.kind for f in audit_release(leaked.parent).findings}
    assert "suppressed_value" in kinds
