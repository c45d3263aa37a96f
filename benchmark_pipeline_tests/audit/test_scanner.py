"""audit_release on a clean release, and one planted leak per kind of artefact and kind of leak."""

from __future__ import annotations

import html
import json
import struct
import zlib
from pathlib import Path

import pandas as pd
import pytest

from benchmark_pipeline.audit import KINDS, AuditReport, audit_release
from benchmark_pipeline_tests.audit.conftest import FREE_TEXTS, build_workbook, tables, write_table

FREE_TEXT_LEAK = "VI MANGLER tid til at\n   arbejde med data i vores afdeling"  # FREE_TEXTS[0], reformatted
LEAKS = {
    "free_text": (FREE_TEXT_LEAK, ["vi mangler tid til at arbejde", "arbejde med data i vores afdeling"]),
    "cpr_number": ("Borger 150786-1234 har klaget", ["150786-1234", "1507861234"]),
    "cpr_number_nodash": ("id 1507861234", ["1507861234"]),
    "email_address": ("skriv til jens.hansen@kk.dk", ["jens.hansen@kk.dk", "jens.hansen", "hansen@kk"]),
}


def run(release: Path) -> AuditReport:
    return audit_release(release, forbidden_texts=FREE_TEXTS, min_respondents=5)


def kinds_of(report: AuditReport) -> set[str]:
    return {f.kind for f in report.findings}


def assert_not_repeated(report: AuditReport, secrets: list[str]) -> None:
    for f in report.findings:
        shown = f"{f.file} {f.location} {f.message}".casefold()
        for secret in secrets:
            assert secret.casefold() not in shown, f"finding repeats the leaked value: {f}"
    dumped = json.dumps(report.to_dict(), ensure_ascii=False).casefold() + report.summary().casefold()
    for secret in secrets:
        assert secret.casefold() not in dumped


# --- the clean release --------------------------------------------------------------------------------------

def test_clean_release_passes_with_zero_findings(release):
    report = run(release)
    assert report.findings == [], report.summary()
    assert report.passed
    scanned = set(report.files_scanned)
    for expected in ("manifest.json", "data_dictionary.json", "tables/indicator_values.parquet",
                     "tables/indicator_values.csv", "tables/kommune_benchmarks.csv", "reports/national.html",
                     "reports/kommuner/index.html", "reports/kommuner/101.html", "reports/workbook.xlsx",
                     "reports/charts/barriers.svg", "reports/charts/barriers.png"):
        assert expected in scanned
    assert report.forbidden_texts_checked == 2 and report.forbidden_texts_ignored == 1
    assert "passed" in report.summary()
    assert any("pixels not inspected" in note for note in report.notes)
    json.dumps(report.to_dict())


def test_a_higher_minimum_fails_values_resting_on_fewer(release):
    # kommune 157 is published with n = 12: with a minimum of 15 that is a small cell, and its benchmark must go
    report = audit_release(release, forbidden_texts=FREE_TEXTS, min_respondents=15)
    assert kinds_of(report) == {"small_cell", "suppressed_value"}
    assert all("157" in f.location for f in report.findings if f.file.startswith("tables/")), report.summary()


def test_minimum_below_five_is_refused(release):
    with pytest.raises(ValueError):
        audit_release(release, min_respondents=4)


def test_missing_folder_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        audit_release(tmp_path / "nope")


# --- text leaks: one per kind of artefact ---------------------------------------------------------------------

def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def plant_text(release: Path, artefact: str, leak: str) -> str:
    """Put `leak` into one artefact; return the file it went into."""
    esc = html.escape(leak)
    if artefact == "parquet":
        df = pd.read_parquet(release / "tables/indicator_values.parquet")
        df.loc[3, "measure"] = leak
        df.to_parquet(release / "tables/indicator_values.parquet", index=False)
        return "tables/indicator_values.parquet"
    if artefact == "csv":
        path = release / "tables/kommune_benchmarks.csv"
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        df.loc[1, "suppression_reason"] = leak
        df.to_csv(path, index=False, encoding="utf-8-sig")
        return "tables/kommune_benchmarks.csv"
    if artefact == "html_text":
        _edit(release / "reports/kommuner/101.html", "</body>", f"<p>Kommentar: {esc}</p>\n</body>")
        return "reports/kommuner/101.html"
    if artefact == "alt_text":
        _edit(release / "reports/national.html", 'alt="Vægtet resultat:', f'alt="{esc} Vægtet resultat:')
        return "reports/national.html"
    if artefact == "aria_label":
        _edit(release / "reports/kommuner/101.html", 'aria-label="Andel', f'aria-label="{esc} Andel')
        return "reports/kommuner/101.html"
    if artefact == "inline_svg_text":
        _edit(release / "reports/kommuner/101.html", ">60 %</text>", f">{esc}</text>")
        return "reports/kommuner/101.html"
    if artefact == "inline_svg_title":
        _edit(release / "reports/national.html", "<title>Bruger", f"<title>{esc} Bruger")
        return "reports/national.html"
    if artefact == "svg_file":
        path = release / "reports/charts/barriers.svg"
        text = path.read_text(encoding="utf-8")
        head, tail = text.rsplit("</svg>", 1)
        path.write_text(f'{head}<text x="10" y="10">{esc}</text>\n</svg>{tail}', encoding="utf-8")
        return "reports/charts/barriers.svg"
    if artefact == "workbook":
        build_workbook(release / "reports/workbook.xlsx", tables()["indicator_values"],
                       extra=lambda wb: wb["Om data"].__setitem__("B7", leak))
        return "reports/workbook.xlsx"
    if artefact == "workbook_comment":
        from openpyxl.comments import Comment

        def add_comment(wb):
            wb["Om data"]["A1"].comment = Comment(leak, "x")
        build_workbook(release / "reports/workbook.xlsx", tables()["indicator_values"], extra=add_comment)
        return "reports/workbook.xlsx"
    if artefact == "manifest":
        path = release / "manifest.json"
        manifest = json.loads(path.read_text(encoding="utf-8"))
        manifest["inputs"][0]["note"] = leak
        path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
        return "manifest.json"
    if artefact == "data_dictionary":
        path = release / "data_dictionary.json"
        d = json.loads(path.read_text(encoding="utf-8"))
        d["tables"]["indicator_values"]["description"] += " " + leak
        path.write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
        return "data_dictionary.json"
    if artefact == "text_file":
        (release / "README.txt").write_text(f"Release notes\n{leak}\n", encoding="utf-8")
        return "README.txt"
    raise AssertionError(artefact)


TEXT_ARTEFACTS = ["parquet", "csv", "html_text", "alt_text", "aria_label", "inline_svg_text", "inline_svg_title",
                  "svg_file", "workbook", "workbook_comment", "manifest", "data_dictionary", "text_file"]


@pytest.mark.parametrize("leak_kind", sorted(LEAKS))
@pytest.mark.parametrize("artefact", TEXT_ARTEFACTS)
def test_planted_text_leak_is_caught(release, artefact, leak_kind):
    leak, secrets = LEAKS[leak_kind]
    file = plant_text(release, artefact, leak)
    report = run(release)
    expected = leak_kind.removesuffix("_nodash")
    assert not report.passed
    assert [f.file for f in report.findings] == [file], report.summary()
    assert kinds_of(report) == {expected}
    assert_not_repeated(report, secrets)


def test_free_text_split_over_inline_elements_is_caught(release):
    _edit(release / "reports/national.html", "</body>",
          "<p>Vi <em>mangler</em> tid til <span>at arbejde</span> med data i vores&nbsp;afdeling</p></body>")
    report = run(release)
    assert kinds_of(report) == {"free_text"}


def test_free_text_across_table_cells_is_not_joined(release):
    # two cells that happen to read as the text when joined are not one published text
    df = pd.read_parquet(release / "tables/indicator_values.parquet")
    df.loc[0, "question_id"] = "Vi mangler tid til at"
    df.loc[0, "option_id"] = "arbejde med data i vores afdeling"
    df.to_parquet(release / "tables/indicator_values.parquet", index=False)
    assert run(release).passed


def test_short_free_texts_are_not_compared(release):
    report = audit_release(release, forbidden_texts=["Ja", "kommune", "Ok tak"])
    assert report.passed and report.forbidden_texts_ignored == 3


def test_sheet_name_leak_is_masked_in_locations(release):
    build_workbook(release / "reports/workbook.xlsx", tables()["indicator_values"],
                   extra=lambda wb: wb.create_sheet("x 150786-1234"))
    report = run(release)
    assert kinds_of(report) == {"cpr_number"}
    assert_not_repeated(report, ["150786-1234"])


def test_json_key_leak_is_masked_in_locations(release):
    path = release / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["jens.hansen@kk.dk"] = {"sha256": "0" * 64}
    path.write_text(json.dumps(manifest), encoding="utf-8")
    report = run(release)
    assert kinds_of(report) == {"email_address"}
    assert_not_repeated(report, ["jens.hansen@kk.dk"])


def test_allowed_email_passes(release):
    _edit(release / "reports/national.html", "</body>", "<p>Kontakt: analyse@lifa.dk</p></body>")
    assert not run(release).passed
    assert audit_release(release, forbidden_texts=FREE_TEXTS, allowed_emails=["analyse@lifa.dk"]).passed


# --- disclosure leaks -----------------------------------------------------------------------------------------

def _set_rows(df: pd.DataFrame, mask, **values) -> pd.DataFrame:
    df = df.copy()
    for column, value in values.items():
        df.loc[mask, column] = value
    return df


def _kommune(df: pd.DataFrame, code: str, column: str = "geography_code"):
    return df[column] == code


def _small_cell(df: pd.DataFrame) -> pd.DataFrame:
    return _set_rows(df, _kommune(df, "147"), suppressed=False, suppression_reason=None, n=3, share=0.333)


def _kommune_count(df: pd.DataFrame) -> pd.DataFrame:
    return _set_rows(df, _kommune(df, "101"), count=25)


def _suppressed_share(df: pd.DataFrame) -> pd.DataFrame:
    return _set_rows(df, _kommune(df, "147"), share=0.333)


def _suppressed_n(df: pd.DataFrame) -> pd.DataFrame:
    return _set_rows(df, _kommune(df, "151"), n=7)


DISCLOSURE_EDITS = {
    "small_cell": _small_cell,
    "kommune_count": _kommune_count,
    "suppressed_value": _suppressed_share,
    "suppressed_n": _suppressed_n,
}


@pytest.mark.parametrize("leak_kind", sorted(DISCLOSURE_EDITS))
@pytest.mark.parametrize("artefact", ["parquet", "csv", "workbook"])
def test_planted_disclosure_leak_in_indicator_values_is_caught(release, artefact, leak_kind):
    df = DISCLOSURE_EDITS[leak_kind](tables()["indicator_values"])
    if artefact == "workbook":
        build_workbook(release / "reports/workbook.xlsx", df)
        file = "reports/workbook.xlsx"
    else:
        write_table(release, "indicator_values", df, parquet=artefact == "parquet", csv=artefact == "csv")
        file = f"tables/indicator_values.{artefact}"
    report = run(release)
    expected = "suppressed_value" if leak_kind == "suppressed_n" else leak_kind
    assert {f.file for f in report.findings} == {file}, report.summary()
    assert kinds_of(report) == {expected}
    assert_not_repeated(report, ["0.333", "0,333"])


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_small_cell_in_barrier_scores_is_caught(release, fmt):
    df = tables()["barrier_scores"]
    df = _set_rows(df, _kommune(df, "147"), suppressed=False, suppression_reason=None, n=2, score=50.0)
    write_table(release, "barrier_scores", df, parquet=fmt == "parquet", csv=fmt == "csv")
    assert kinds_of(run(release)) == {"small_cell"}


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_value_in_suppressed_benchmark_row_is_caught(release, fmt):
    df = tables()["kommune_benchmarks"]
    df = _set_rows(df, _kommune(df, "151", "kommune_kode"), percentile=12.5)
    write_table(release, "kommune_benchmarks", df, parquet=fmt == "parquet", csv=fmt == "csv")
    assert kinds_of(run(release)) == {"suppressed_value"}


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_benchmark_published_where_indicator_values_suppresses_is_caught(release, fmt):
    df = tables()["kommune_benchmarks"]
    df = _set_rows(df, _kommune(df, "151", "kommune_kode"), suppressed=False, suppression_reason=None, n=9,
                   share=0.4)
    write_table(release, "kommune_benchmarks", df, parquet=fmt == "parquet", csv=fmt == "csv")
    report = run(release)
    assert kinds_of(report) == {"suppressed_value"}
    assert "indicator_values suppresses" in report.findings[0].message


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_yoy_change_for_a_suppressed_kommune_is_caught(release, fmt):
    df = tables()["yoy_changes"]
    row = df.iloc[[1]].copy()
    row["geography_code"] = "147"
    write_table(release, "yoy_changes", pd.concat([df, row], ignore_index=True), parquet=fmt == "parquet",
                csv=fmt == "csv")
    assert kinds_of(run(release)) == {"suppressed_value"}


@pytest.mark.parametrize("artefact", ["html_text", "alt_text", "aria_label", "svg_file", "workbook"])
def test_small_n_in_prose_is_caught(release, artefact):
    file = plant_text(release, artefact, "Frederiksberg: 33 % (n = 3)")
    report = run(release)
    assert {f.file for f in report.findings} == {file}
    assert kinds_of(report) == {"small_cell"}


def test_small_cell_in_html_table_is_caught(release):
    _edit(release / "reports/national.html", "<td>147</td><td>–</td><td>–</td>",
          "<td>147</td><td>33,3 %</td><td>3</td>")
    report = run(release)
    assert kinds_of(report) == {"small_cell"}
    assert report.findings[0].location.startswith("line ")


@pytest.mark.parametrize("shown, small", [("1.970", False), ("12.400", False), ("1.234.567", False), ("3", True),
                                          ("4,5", True), ("1.5", True), ("0.970", True), ("1.97", True)])
def test_danish_thousands_separator_in_html_table(release, shown, small):
    # a big kommune's "1.970 besvarelser" is 1970 respondents; a dot is a decimal point only when it cannot group
    _edit(release / "reports/national.html", "<td>101</td><td>62,5 %</td><td>40</td>",
          f"<td>101</td><td>62,5 %</td><td>{shown}</td>")
    assert kinds_of(run(release)) == ({"small_cell"} if small else set())


def test_count_column_at_kommune_level_in_html_table_is_caught(release):
    _edit(release / "reports/kommuner/101.html", "</body>", """<table>
<tr><th>Kommune</th><th>Indikator</th><th>Antal</th><th>Andel</th></tr>
<tr><td>Københavns Kommune</td><td>Bruger data mere</td><td>25</td><td>62,5 %</td></tr>
</table></body>""")
    assert kinds_of(run(release)) == {"kommune_count"}


def test_count_column_in_danish_workbook_sheet_is_caught(release):
    def sheet(wb):
        ws = wb.create_sheet("Kommuner")
        ws.append(["Kommuner i 2024"])
        ws.append([])
        ws.append(["Kommune", "Niveau", "Antal svar", "Antal 'mere'", "Andel"])
        ws.append(["Københavns Kommune", "kommune", 40, 25, 0.625])
    build_workbook(release / "reports/workbook.xlsx", tables()["indicator_values"], extra=sheet)
    report = run(release)
    assert kinds_of(report) == {"kommune_count"}
    assert "row 4" in report.findings[0].location


def test_missing_disclosure_columns_are_reported(release):
    df = tables()["barrier_scores"].drop(columns=["suppressed", "suppression_reason"])
    write_table(release, "barrier_scores", df, csv=False)
    report = run(release)
    assert kinds_of(report) == {"missing_disclosure_columns"}
    assert "suppressed" in report.findings[0].message


def test_respondent_level_column_is_reported(release):
    df = tables()["quarantine_summary"].assign(respondent_id="r17")
    write_table(release, "quarantine_summary", df, parquet=False)
    assert kinds_of(run(release)) == {"personal_data_column"}


# --- files the audit cannot read ------------------------------------------------------------------------------

def test_unknown_binary_file_is_a_finding(release):
    (release / "reports" / "extra.pdf").write_bytes(b"%PDF-1.7\n\x00\x01\x02binary")
    report = run(release)
    assert [(f.file, f.kind) for f in report.findings] == [("reports/extra.pdf", "unauditable_file")]


def test_fake_png_is_a_finding(release):
    (release / "reports" / "charts" / "fake.png").write_bytes(b"GIF89a....")
    assert kinds_of(run(release)) == {"unauditable_file"}


def _png_with_text(text: str) -> bytes:
    from benchmark_pipeline_tests.audit.conftest import TINY_PNG

    body = b"Comment\x00" + text.encode("latin-1")
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(">I", zlib.crc32(b"tEXt" + body))
    return TINY_PNG[:33] + chunk + TINY_PNG[33:]


def test_png_text_chunk_is_scanned(release):
    (release / "reports" / "charts" / "chart.png").write_bytes(_png_with_text("from jens.hansen@kk.dk"))
    report = run(release)
    assert [(f.file, f.kind) for f in report.findings] == [("reports/charts/chart.png", "email_address")]


def test_unparseable_parquet_is_a_finding(release):
    (release / "tables" / "broken.parquet").write_bytes(b"not parquet")
    assert kinds_of(run(release)) == {"unreadable_file"}


def test_many_findings_are_capped_per_file_and_kind(release):
    df = tables()["year_summary"]
    df = pd.concat([df] * 40, ignore_index=True)
    df["note"] = [f"person{i}@example.dk" for i in range(40)]
    write_table(release, "year_summary", df, parquet=False)
    report = run(release)
    assert report.counts_by_kind() == {"email_address": 25}
    assert any(f.kind == "more_findings" and f.message.startswith("15 ") for f in report.findings)
    assert "40 findings" in report.summary()
    assert set(report.counts_by_kind()) <= KINDS


DANISH_HEADER = ["Udgivelse", "År", "Niveau", "Geografikode", "Geografi", "Indikator-id", "Besvarelser (n)",
                 "Antal valgt", "Andel", "Diskretioneret", "Årsag"]


@pytest.mark.parametrize("share, expected", [(None, set()), (0.4, {"suppressed_value"})])
def test_danish_workbook_sheet_with_suppressed_rows(release, share, expected):
    # the reports' workbook uses Danish headers: codes and years are keys, not values
    def sheet(wb):
        ws = wb.create_sheet("Indikatorer (da)")
        ws.append(DANISH_HEADER)
        ws.append(["2024-r1-x", 2024, "kommune", "101", "København", "ai_use.ja", 40, None, 0.5, False, None])
        ws.append(["2024-r1-x", 2024, "kommune", "147", "Frederiksberg", "ai_use.ja", None, None, share, True,
                   "below_minimum"])
    build_workbook(release / "reports/workbook.xlsx", tables()["indicator_values"], extra=sheet)
    assert kinds_of(run(release)) == expected


def test_workbook_header_footer_is_scanned(release):
    def footer(wb):
        wb["Om data"].oddFooter.center.text = "Udarbejdet af jens.hansen@kk.dk"
    build_workbook(release / "reports/workbook.xlsx", tables()["indicator_values"], extra=footer)
    report = run(release)
    assert kinds_of(report) == {"email_address"}
    assert_not_repeated(report, ["jens.hansen@kk.dk"])
