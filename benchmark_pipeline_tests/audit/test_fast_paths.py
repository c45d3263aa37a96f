"""The audit's fast paths find exactly what the plain ones find: segment-limited pattern matching, the
per-run normalisation memo, the streaming sheet reader (against openpyxl) and lazily built locations."""

from __future__ import annotations

import datetime as dt
import shutil
import warnings
import zipfile
from pathlib import Path

import openpyxl
import xlsxwriter
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmark_pipeline.audit import audit_release, detect
from benchmark_pipeline.audit.detect import HARD, Detectors, TextStream, memoised_normalisation, normalise
from benchmark_pipeline.audit.workbook import _fast_rows, open_workbook
from benchmark_pipeline_tests.ingest.exports import rewrite_part

PATTERNS = [
    (detect.CPR_RE, detect._CPR_CANDIDATE),
    (detect.EMAIL_RE, detect._EMAIL_CANDIDATE),
    (detect.SMALL_N_RE, detect._SMALL_N_CANDIDATE),
]

# Text made of the characters the three patterns turn on: digits, dashes and other separators, "@", dots,
# "n", "=", ":", letters, spaces and the HARD separator, in runs that often form near-misses.
pieces = st.sampled_from([
    "0", "1", "2", "3", "9", "15", "0786", "150786", "1234", "-", "\u2013", ".", ",", "/", ":", "=", " ", "n",
    "n =", "n=3", "N: 2", "@", "a", "jens", "kk", ".dk", "x", "_", "+", "%", "2x", "ø", HARD, HARD, "\n",
])
texts = st.lists(pieces, max_size=60).map("".join)


@settings(max_examples=400, deadline=None)
@given(texts)
def test_segment_matching_finds_what_the_whole_text_finds(text):
    for pattern, candidate in PATTERNS:
        whole = [(m.start(), m.group(0), m.groupdict()) for m in pattern.finditer(text)]
        limited = [(m.start(), m.group(0), m.groupdict()) for m in detect._matches(pattern, candidate, text)]
        assert limited == whole, pattern.pattern


@settings(max_examples=200, deadline=None)
@given(st.lists(texts, max_size=8))
def test_hits_on_a_stream_are_unchanged(cells):
    stream = TextStream()
    for i, cell in enumerate(cells):
        stream.add(cell, f"cell {i}", HARD if i % 2 else detect.SOFT)
    d = Detectors(["jens hansen har ingen tid til data"], 5)
    found = [(h.pos, h.kind, h.key) for h in d.hits(stream.text)]
    expected = []
    for m in detect.CPR_RE.finditer(stream.text):
        if detect.plausible_cpr_date(m["dd"], m["mm"], m["yy"]):
            expected.append((m.start(), "cpr_number", "cpr" + m.group(0)))
    for m in detect.EMAIL_RE.finditer(stream.text):
        if not detect._RETINA.fullmatch(m["domain"]):
            expected.append((m.start(), "email_address", "mail" + m.group(0)))
    for m in detect.SMALL_N_RE.finditer(stream.text):
        if 0 < int(m["n"]) < 5:
            expected.append((m.start(), "small_cell", "n" + m.group(0)))
    assert found == expected


def test_the_normalisation_memo_lasts_one_audit_run(tmp_path):
    assert detect._MEMO.get() is None
    with memoised_normalisation():
        assert normalise("  Ｖi\u200b  HAR ") == detect._normalise("  Ｖi\u200b  HAR ") == " vi har "
        assert normalise(1234) == "1234"
        assert detect._MEMO.get() == {"  Ｖi\u200b  HAR ": " vi har ", "1234": "1234"}
    assert detect._MEMO.get() is None
    (tmp_path / "notes.txt").write_text("Kontakt: jens.hansen@kk.dk\n", encoding="utf-8")
    report = audit_release(tmp_path, forbidden_texts=["en lang kommentar fra en respondent"])
    assert [f.kind for f in report.findings] == ["email_address"]
    assert detect._MEMO.get() is None  # no survey text stays behind in the process


def test_locations_of_page_findings_are_still_precise(tmp_path):
    (tmp_path / "page.html").write_text(
        '<html><body>\n<p title="skriv til jens.hansen@kk.dk">tekst</p>\n<svg><text>150786-1234</text></svg>\n'
        "<td>n = 3</td></body></html>", encoding="utf-8")
    (tmp_path / "chart.svg").write_text('<svg>\n<g><text>mail: a.b@kk.dk</text></g></svg>', encoding="utf-8")
    report = audit_release(tmp_path)
    where = sorted((f.file, f.location, f.kind) for f in report.findings)
    assert where == [
        ("chart.svg", "line 2: text of <text>", "email_address"),
        ("page.html", "line 2: title attribute of <p>", "email_address"),
        ("page.html", "line 3: text of <text> in inline <svg>", "cpr_number"),
        ("page.html", "line 4: text of <td>", "small_cell"),
    ]


def _openpyxl_rows(path: Path) -> dict[str, list[list] | None]:
    """Per sheet: the streaming reader's rows (None: handed to openpyxl) and openpyxl's own, from a workbook
    loaded on its own with the public API."""
    book, sources = open_workbook(path)
    try:
        fast = [_fast_rows(source) for source in sources]
        titles = [ws.title for ws in book.worksheets]
    finally:
        book.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(path, read_only=True, data_only=False, keep_links=False)
    try:
        assert [ws.title for ws in wb.worksheets] == titles
        out = {}
        for ws, rows in zip(wb.worksheets, fast):
            ws.reset_dimensions()
            out[ws.title] = (rows, [list(r) for r in ws.iter_rows(values_only=True)])
        return out
    finally:
        wb.close()


def _edge_workbooks(folder: Path) -> list[Path]:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["C1"], ws["B3"], ws["E5"] = "x", 3, 2.5, True  # gaps, out-of-order widths, a skipped row
    ws["A7"], ws["D2"], ws["F9"], ws["A20"] = dt.datetime(2020, 1, 2), "a&b <c> \"q\"", 1e20, "  "
    ws.append([1, 2, 3])
    wb.create_sheet("Tom")
    openpyxl_path = folder / "openpyxl.xlsx"
    wb.save(openpyxl_path)
    xlsxwriter_path = folder / "xlsxwriter.xlsx"
    book = xlsxwriter.Workbook(str(xlsxwriter_path))
    sheet = book.add_worksheet()
    sheet.write_string(0, 0, "x")
    sheet.write_number(0, 2, 3)
    sheet.write_number(2, 1, 2.5)
    sheet.write_boolean(4, 4, True)
    sheet.write_datetime(6, 0, dt.datetime(2020, 1, 2), book.add_format({"num_format": "yyyy-mm-dd"}))
    sheet.write_string(1, 3, "a&b <c>")
    sheet.write_blank(8, 3, None, book.add_format({"bold": True}))
    sheet.write_number(9, 0, 1e20)
    sheet.write_number(10, 1, -0.000123)
    sheet.set_row(12, 30)
    sheet.write_string(13, 2, "\u00e6\u00f8\u00e5 _x0041_")
    book.add_worksheet("Tom")
    book.close()
    return [openpyxl_path, xlsxwriter_path]


def test_streaming_sheet_reader_equals_openpyxl(tmp_path, release_template):
    paths = [*_edge_workbooks(tmp_path), *sorted(Path(release_template).rglob("*.xlsx"))]
    repo_data = Path(__file__).resolve().parents[2] / "data" / "raw"
    paths += sorted(repo_data.glob("*/*.xlsx"))
    assert len(paths) >= 3
    fast_sheets = 0
    for path in paths:
        for title, (fast, expected) in _openpyxl_rows(path).items():
            if fast is not None:
                fast_sheets += 1
                assert fast == expected, f"{path.name}: {title}"
    assert fast_sheets >= 4  # the plain forms are read by the fast reader, not handed to openpyxl


def test_a_package_the_streaming_reader_cannot_match_goes_to_openpyxl_whole(tmp_path):
    """Rich text in the shared strings, or a package whose relationships name another workbook part than its
    content types (openpyxl follows the content types): every sheet is read by openpyxl, and the values are
    openpyxl's."""
    plain = tmp_path / "plain.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["Kommune", "Andel"])
    wb.active.append([CellRichText("Fre", TextBlock(InlineFont(b=True), "densborg")), 0.5])
    wb.save(tmp_path / "rich.xlsx")
    book = xlsxwriter.Workbook(str(plain))
    book.add_worksheet("Ark").write_string(0, 0, "Frederiksberg")
    book.close()
    elsewhere = Path(shutil.copyfile(plain, tmp_path / "elsewhere.xlsx"))
    rewrite_part(elsewhere, "_rels/.rels", lambda d: d.replace(b'Target="xl/workbook.xml"', b'Target="xl/workbook2.xml"'))
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(elsewhere, "a") as archive:
        archive.writestr("xl/workbook2.xml", source.read("xl/workbook.xml"))
        archive.writestr("xl/_rels/workbook2.xml.rels", source.read("xl/_rels/workbook.xml.rels"))
    assert all(fast is not None and fast == expected for fast, expected in _openpyxl_rows(plain).values())
    for path in (tmp_path / "rich.xlsx", elsewhere):
        rows = _openpyxl_rows(path)
        assert rows and all(fast is None for fast, _expected in rows.values()), path.name
    assert _openpyxl_rows(tmp_path / "rich.xlsx")["Sheet"][1][1][0] == "Fredensborg"


def _report_of(release: Path, processes: int | None) -> tuple:
    report = audit_release(release, forbidden_texts=["Vi mangler tid til at arbejde med data i vores afdeling"],
                           min_respondents=5, processes=processes)
    return report.findings, report.files_scanned, report.notes


def test_reading_in_several_processes_gives_the_same_report(release):
    # leaks in many files and kinds, more than the per-file cap in one, a binary file and PNG notes: the
    # report (findings, their order, the caps, files and notes) is the same however the files are shared out
    (release / "reports" / "extra.pdf").write_bytes(b"%PDF-1.7\n\x00\x01binary")
    for i in range(12):
        (release / "reports" / f"note{i:02d}.txt").write_text(f"skriv til p{i}@kk.dk eller q{i}@kk.dk\n" * 2)
    (release / "reports" / "many.txt").write_text("".join(f"r{i}@kk.dk\n" for i in range(40)))
    (release / "reports" / "kommuner" / "101.html").write_text(
        "<p>Borger 150786-1234 (n = 3)</p><p>Vi mangler tid til at arbejde med data i vores afdeling</p>")
    one = _report_of(release, 1)
    assert len(one[0]) > 30 and any(f.kind == "more_findings" for f in one[0])
    assert _report_of(release, 2) == one
    assert _report_of(release, 3) == one
    assert _report_of(release, None) == one


@settings(max_examples=300, deadline=None)
@given(st.from_regex(detect.DECIMAL_RE, fullmatch=True), texts)
def test_a_decimal_segment_holds_nothing_to_find(number, neighbour):
    # scan_grid_text leaves CSV cells that are decimal numbers out of the stream: alone in a HARD segment,
    # next to anything, such a number never produces a hit (unless a free text is made of digits)
    detectors = Detectors(["Vi mangler tid til at arbejde med data i vores afdeling"], 5)
    assert detectors.decimals_are_clean
    assert detectors.hits(normalise(number)) == []
    with_number, without = TextStream(), TextStream()
    for stream, cells in ((with_number, [neighbour, number, neighbour]), (without, [neighbour, neighbour])):
        for cell in cells:
            stream.add(cell, "cell", HARD)
    assert [(h.kind, h.key) for h in detectors.hits(with_number.text)] == [
        (h.kind, h.key) for h in detectors.hits(without.text)]


def test_a_free_text_of_digits_is_still_found_in_a_csv_number(release):
    path = release / "tables" / "year_summary.csv"
    path.write_text(path.read_text(encoding="utf-8-sig") + ",,,,,,,,,,\n0.0123456789012345,,,,,,,,,,\n",
                    encoding="utf-8")
    assert Detectors(["123456789012"], 5).decimals_are_clean is False
    report = audit_release(release, forbidden_texts=["123456789012"], min_respondents=5)
    assert [(f.file, f.kind) for f in report.findings] == [("tables/year_summary.csv", "free_text")]
    assert audit_release(release, forbidden_texts=["Vi mangler tid"], min_respondents=5).passed


class _Events:
    """Records an `_Extractor`'s events as the html.parser driver gives them."""

    def __init__(self) -> None:
        self.line, self.events = 1, []

    def __getattr__(self, method):
        if method not in ("start", "end", "data", "comment", "pi"):
            raise AttributeError(method)
        return lambda *args: self.events.append((method, self.line, args))


def _html_parser_events(markup: str) -> list[tuple]:
    from benchmark_pipeline.audit.markup import _HTMLParserDriver

    sink = _Events()
    _HTMLParserDriver(sink).run(markup)
    return sink.events


markup_pieces = st.sampled_from([
    "<p>", "</p>", "<P class=\"a\">", "<td class='num'>", "</TD>", "<br>", "<br/>", "<br />", "<img alt=\"x &amp; y\"/>",
    "<a href=\"a.html\" hidden>", "</a >", "</a\n>", "<svg viewBox=\"0 0 1 1\"\n role=\"img\">", "<text x=\"1\">",
    "</svg>", "<g\n>", "<span title=\"a > b\">", "<p title=''>", "<p x=\"1\"y=\"2\">", "<p x=1>", "<p x = \"1\">",
    "<p\u00a0x=\"1\">", "<p\x0bx>", "<a/b>", "</>", "</ p>", "<style>", "</style>", "</STYLE>", "</style >",
    "<style>a{b:c}</style>", "<script>if (a < b) {}</script>", "<script type=\"x\">s</ script>", "<style/>",
    "<!-- c -->", "<!-->", "<!-- a -- >", "<!---->", "<!--\n-->", "<!DOCTYPE html>", "<!doctype\nhtml>", "<!x>",
    "<?xml version=\"1.0\"?>", "<![CDATA[x]]>", "<", " < ", "<1", "&", "&amp;", "&lt;", "&#229;", "&#xE5;", "&copy",
    "tekst", " ", "\n", "\r\n", "æøå", "59,9 %", "n = 3", "\u2013", ">", "\"", "'", "=",
])
markups = st.lists(markup_pieces, max_size=40).map("".join)


@settings(max_examples=1500, deadline=None)
@given(markups)
def test_fast_markup_tokenizer_equals_html_parser(markup):
    from benchmark_pipeline.audit.markup import fast_events

    events = fast_events(markup)
    if events is not None:
        assert events == _html_parser_events(markup)


def test_fast_markup_tokenizer_reads_the_report_pages(release_template):
    from benchmark_pipeline.audit.markup import fast_events

    pages = sorted(Path(release_template).rglob("*.html"))
    output = Path(__file__).resolve().parents[2] / "output" / "releases"
    pages += sorted(output.glob("*/*/reports/**/*.html"))[:60]
    assert len(pages) >= 4
    for page in pages:
        markup = page.read_text(encoding="utf-8")
        events = fast_events(markup)
        assert events is not None, f"{page.name} went to html.parser"
        assert events == _html_parser_events(markup), page.name


plain_pieces = st.sampled_from([
    "<p>", "</p>", "<P class=\"a\">", "<td class='num'>", "</TD>", "<br>", "<br/>", "<img alt=\"x &amp; y\"/>",
    "</a\n>", "<svg viewBox=\"0 0 1 1\"\n role=\"img\">", "</svg>", "<g\n>", "<span title=\"a > b\">", "<p title=''>",
    "<style>a{b:c}</style>", "<script>if (a < b) {}</script>", "<style/>", "<!-- c -->", "<!-->", "<!-- a -- >",
    "<!--\n-->", "<!DOCTYPE html>", "&amp;", "&#229;", "&copy", "&", "tekst", " ", "\n", "æøå", "n = 3", ">",
])


@settings(max_examples=800, deadline=None)
@given(st.lists(plain_pieces, max_size=40).map("".join))
def test_fast_markup_tokenizer_equals_html_parser_on_plain_markup(markup):
    from benchmark_pipeline.audit.markup import fast_events

    events = fast_events(markup)
    if events is not None:
        assert events == _html_parser_events(markup)
