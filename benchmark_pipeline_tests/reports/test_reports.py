"""render_reports end to end on realistic fixture tables: files, numbers, disclosure, offline, accessibility."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from benchmark_pipeline.reference import Kommuner
from benchmark_pipeline.reports import (
    chart_png,
    national_chart,
    national_chart_markdown,
    prepare_reports,
    render_reports,
)
from benchmark_pipeline.reports.formatting import fmt_pct, fmt_pct_interval, fmt_pp, fmt_score
from benchmark_pipeline.reports.pages import kommune_context, make_context, KommuneCharts
from benchmark_pipeline.reports.workbook import workbook_tables

from .htmltools import attribute_values, svgs, tables, visible_text

NBSP = "\u00a0"


def iv_row(tables_, level, code, indicator):
    iv = tables_["indicator_values"]
    r = iv[(iv.geography_level == level) & (iv.geography_code == code) & (iv.indicator_id == indicator)]
    assert len(r) == 1
    return r.iloc[0]


# -- files ----------------------------------------------------------------------------------------

def test_writes_national_index_all_kommuner_and_workbook(rendered_2024, kommuner):
    out: Path = rendered_2024["dir"]
    names = {p.relative_to(out).as_posix() for p in rendered_2024["paths"]}
    assert {"national.html", "kommuner/index.html", "workbook.xlsx"} <= names
    assert {f"kommuner/{k}.html" for k in kommuner.codes} <= names
    assert len(names) == 98 + 3
    assert all(p.exists() and p.stat().st_size > 0 for p in rendered_2024["paths"])


# -- offline and safe HTML ------------------------------------------------------------------------

def test_no_external_urls_anywhere(html_2024):
    for name, html in html_2024.items():
        assert "http:" not in html and "https:" not in html, name
        assert "//" not in html, name
        assert "<link" not in html and "<img" not in html, name
        scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S)
        if name == "kommuner/index.html":  # the name filter: one inline script that fetches nothing
            assert len(scripts) == 1 and not scripts[0][0].strip(), name
            assert not re.search(r"fetch|XMLHttpRequest|import|src|location|cookie|storage", scripts[0][1]), name
        else:
            assert not scripts and "<script" not in html, name
        for value in attribute_values(html, "src"):
            pytest.fail(f"{name}: src attribute {value!r}")
        for value in attribute_values(html, "href"):
            assert not re.match(r"^[a-z][a-z0-9+.-]*:", value), f"{name}: {value}"
        assert "url(" not in re.sub(r"url\(#[\w-]+\)", "", html), name


def test_accessibility_basics(html_2024):
    for name, html in html_2024.items():
        assert '<html lang="da">' in html, name
        assert 'class="skip-link" href="#indhold"' in html and 'id="indhold"' in html, name
        assert html.count("<h1") == 1, name
        levels = [int(h) for h in re.findall(r"<h([1-6])\b", html)]
        assert levels[0] == 1
        for prev, cur in zip(levels, levels[1:]):
            assert cur <= prev + 1, f"{name}: heading h{prev} followed by h{cur}"
        for table in re.findall(r"<table\b.*?</table>", html, flags=re.S):
            assert "<caption" in table, name
            assert all('scope="' in th for th in re.findall(r"<th\b[^>]*>", table)), name
        for svg in svgs(html):
            head = svg[: svg.index(">")]
            assert 'role="img"' in head and 'aria-label="' in head, name
            assert "<title" in svg
            assert "<text" in svg  # text stays text (svg.fonttype none), no glyph outlines
            assert "@font-face" not in svg
            assert len(svg) < 80_000


@pytest.fixture(scope="module")
def rendered_2023_escaped(tmp_path_factory, report_tables, instrument_2023, kommuner):
    """2023 alone (no history), with a kommune name that needs escaping."""
    table = kommuner.table.copy()
    table.loc[table.kommune_kode == "101", "officielt_navn"] = 'Københavns <b>"Kommune"</b> & Co'
    evil = Kommuner(table=table, sha256="")
    out = tmp_path_factory.mktemp("reports_2023")
    render_reports(out, 2023, report_tables[1][2023], {}, instrument_2023, evil)
    return out


def test_values_are_escaped(rendered_2023_escaped):
    page = (rendered_2023_escaped / "kommuner" / "101.html").read_text(encoding="utf-8")
    index = (rendered_2023_escaped / "kommuner" / "index.html").read_text(encoding="utf-8")
    for html in (page, index):
        assert "<b>" not in html
        assert "&lt;b&gt;" in html and "&amp; Co" in html


def test_danish_letters_survive(html_2024, rendered_2024):
    index = html_2024["kommuner/index.html"]
    for name in ("Københavns Kommune", "Ærø Kommune", "Bornholms Regionskommune", "Høje-Taastrup Kommune"):
        assert name in index
    national = html_2024["national.html"]
    assert '<meta charset="utf-8">' in national
    assert "Region Sjælland" in national and "Sådan er tallene beregnet" in national
    for html in html_2024.values():
        assert "Ã" not in html and "\ufffd" not in html
    raw = (rendered_2024["dir"] / "national.html").read_bytes()
    assert "æ".encode() in raw and "ø".encode() in raw and "å".encode() in raw


# -- numbers --------------------------------------------------------------------------------------

def test_national_headline_and_figures_match_tables(html_2024, report_tables):
    cur, _ = report_tables
    html = html_2024["national.html"]
    text = visible_text(html)
    for ind in ("data_use_change.mere", "further_potential.ja"):
        r = iv_row(cur, "national", "DK", ind)
        assert f"{fmt_pct(r.share)}" in text
        assert fmt_pct_interval(r.ci_low, r.ci_high) in text
    t = tables(html)["tabel-sektion-use-contexts"]
    body = {row[0]: row[1:] for row in t[1:]}
    iv = cur["indicator_values"]
    nat = iv[(iv.geography_level == "national") & (iv.question_id == "use_contexts")]
    assert len(body) == len(nat)
    for r in nat.itertuples():
        label = next(k for k in body if k.startswith(
            {"monitorering": "Monitorering", "foranalyse": "Foranalyser", "implementering": "Implementering",
             "evaluering": "Evaluering", "ressourcer": "Budget", "politik": "Politiske", "andet": "Andet"}[r.option_id]))
        share, interval, count = body[label][:3]
        assert share == fmt_pct(r.share)
        assert interval == fmt_pct_interval(r.ci_low, r.ci_high)
        assert count == str(int(r.count))


def test_chart_alt_texts_carry_the_published_numbers(html_2024, report_tables):
    cur, _ = report_tables
    html = html_2024["national.html"]
    labels = {}
    for svg in svgs(html):
        key = re.search(r'aria-labelledby="([\w-]+)-title"', svg).group(1)
        labels[key] = attribute_values(svg[: svg.index(">") + 1], "aria-label")[0]
    assert {"fig-use_contexts", "fig-anchoring_levels", "fig-barriers", "fig-trend", "fig-region",
            "fig-kommunegruppe", "fig-data_sources", "fig-ai_use"} <= set(labels)
    r = iv_row(cur, "national", "DK", "use_contexts.monitorering")
    assert f"Monitorering og opfølgning: {fmt_pct(r.share)} (95{NBSP}%-interval {fmt_pct_interval(r.ci_low, r.ci_high)})" \
        in labels["fig-use_contexts"]
    bs = cur["barrier_scores"]
    top = bs[(bs.geography_level == "national") & (bs.barrier_id == "ledelse")].iloc[0]
    assert f"Manglende ledelsesopbakning og prioritering ¹: {fmt_score(top.score)}" in labels["fig-barriers"]
    old = iv_row(report_tables[1][2023], "national", "DK", "data_use_change.mere")
    assert f"2023: {fmt_pct(old.share)}" in labels["fig-trend"]


def test_region_and_group_comparison(html_2024, report_tables):
    cur, _ = report_tables
    t = tables(html_2024["national.html"])["tabel-sektion-region"]
    rows = {row[0]: row for row in t[1:]}
    r = iv_row(cur, "region", "1084", "data_use_change.mere")
    assert rows["Region Hovedstaden"][2] == fmt_pct(r.share)
    assert rows["Hele landet"][2] == fmt_pct(iv_row(cur, "national", "DK", "data_use_change.mere").share)
    assert "tabel-sektion-kommunegruppe" in tables(html_2024["national.html"])


def test_method_section_and_trend(html_2024, report_tables):
    cur, history = report_tables
    html = html_2024["national.html"]
    t = tables(html)
    summary = {row[0]: row[1:] for row in t["tabel-datagrundlag"][1:]}
    ys = cur["year_summary"].iloc[0]
    assert summary["Respondenter (gyldige besvarelser)"][0] == f"{int(ys.respondents)}"
    assert summary["Rækker frasorteret ved validering (karantæne)"][0] == str(int(ys.quarantined_rows))
    assert "tabel-karantaene" in t
    trend = {row[0]: row for row in t["tabel-udvikling"][1:]}
    assert set(trend) == {"2023", "2024"}
    old = iv_row(history[2023], "national", "DK", "data_use_change.mere")
    assert trend["2023"][1] == fmt_pct(old.share)
    assert "færre end 5 besvarelser" in visible_text(html)


def test_label_change_is_footnoted(html_2024):
    text = visible_text(html_2024["national.html"])
    assert "hed før 2024 »Manglende ledelsesmæssig prioritering«" in text
    assert "»Manglende ledelsesopbakning og prioritering«" in text
    assert "hed før 2024" in visible_text(html_2024["kommuner/101.html"])


def test_first_year_without_history(rendered_2023_escaped):
    out = rendered_2023_escaped
    text = visible_text((out / "national.html").read_text(encoding="utf-8"))
    assert "første år" in text.lower()
    assert "hed før 2024" not in text
    page = visible_text((out / "kommuner" / "101.html").read_text(encoding="utf-8"))
    assert "Andelen er steget" not in page and "ikke et offentliggjort tal fra" not in page
    assert "kunstig intelligens (AI)" not in text  # no ai_use question in 2023


# -- kommune pages --------------------------------------------------------------------------------

def test_kommune_page_numbers_and_narrative(html_2024, report_tables):
    cur, _ = report_tables
    html = html_2024["kommuner/101.html"]
    text = visible_text(html)
    r = iv_row(cur, "kommune", "101", "data_use_change.mere")
    nat = iv_row(cur, "national", "DK", "data_use_change.mere")
    assert r.ci_low > nat.share  # the fixture designs København far above
    diff = (r.share - nat.share) * 100
    assert (f"I Københavns Kommune svarer {fmt_pct(r.share)}, at de bruger borgerrelaterede data mere end for et år "
            f"siden – {fmt_pp(diff, signed=False)}{NBSP}procentpoint over landsgennemsnittet") in text
    assert "Andelen er steget med" in text
    t = tables(html)["tabel-resultater"]
    mere = next(row for row in t if row[0] == "Mere")
    assert mere[1] == fmt_pct(r.share) and mere[2] == fmt_pct_interval(r.ci_low, r.ci_high)
    kb = cur["kommune_benchmarks"]
    b = kb[(kb.kommune_kode == "101") & (kb.indicator_id == "data_use_change.mere")].iloc[0]
    n_published = int(kb[(kb.indicator_id == "data_use_change.mere") & ~kb.suppressed.astype(bool)].shape[0])
    place = round(n_published + 1 - b.percentile / 100 * n_published)  # 1 = the highest (shrunk) share
    assert mere[8] == fmt_pp(b.diff_national_pp) and mere[9] == f"{place} af {n_published}"
    assert f"nr. {place} af {n_published} offentliggjorte kommuner, hvor 1 er den højeste andel" in text
    # Aarhus: designed far below with a significant fall
    aarhus = visible_text(html_2024["kommuner/751.html"])
    assert "under landsgennemsnittet" in aarhus and "faldet med" in aarhus


def test_narrative_claims_match_intervals_and_significance(report_tables, instrument_2024, kommuner):
    cur, history = report_tables
    ctx = make_context(2024, cur, history, instrument_2024, kommuner)
    charts = KommuneCharts(ctx)
    yoy = cur["yoy_changes"]
    checked = {"over": 0, "under": 0, "usikker": 0, "steget": 0, "faldet": 0, "uændret": 0}
    for kode in kommuner.codes:
        k = kommune_context(ctx, kode, charts)
        for fact, paragraph in zip(k["facts"], k["paragraphs"]):
            ind = fact["indicator_id"]
            r = iv_row(cur, "kommune", kode, ind)
            nat = iv_row(cur, "national", "DK", ind).share
            assert not r.suppressed
            excludes = r.ci_low > nat or r.ci_high < nat
            assert (fact["comparison"] in ("over", "under")) == excludes
            assert ("landsgennemsnittet (" in paragraph) == excludes
            y = yoy[(yoy.geography_level == "kommune") & (yoy.geography_code == kode) & (yoy.indicator_id == ind)]
            significant = len(y) == 1 and pd.notna(y.iloc[0].significant) and bool(y.iloc[0].significant)
            assert (("steget" in paragraph) or ("faldet" in paragraph)) == significant, (kode, ind, paragraph)
            checked[fact["comparison"]] += 1
            checked[fact["change"] or "uændret"] += 1
    assert checked["over"] and checked["under"] and checked["usikker"] and checked["steget"] and checked["faldet"]


def test_suppressed_kommune_shows_a_notice_and_no_numbers(html_2024, report_tables):
    cur, _ = report_tables
    iv = cur["indicator_values"]
    k = iv[(iv.geography_level == "kommune") & iv.indicator_id.isin(["data_use_change.mere", "further_potential.ja"])]
    both = k.groupby("geography_code").suppressed.all()
    k = k[k.geography_code.isin(both[both].index) & (k.indicator_id == "data_use_change.mere")]
    for reason in ("below_minimum", "complementary", "no_respondents"):
        if not (k.suppression_reason == reason).any():
            continue
        kode = k[k.suppression_reason == reason].geography_code.iloc[0]
        html = html_2024[f"kommuner/{kode}.html"]
        text = visible_text(html)
        assert "Kommunens resultater offentliggøres ikke" in text, reason
        assert "svarer" not in text  # no narrative
        assert not svgs(html)  # no kommune chart
        assert "tabel-resultater" not in tables(html) or reason != "no_respondents"
    bornholm = visible_text(html_2024["kommuner/400.html"])
    assert "færre end 5 besvarelser" in bornholm


def test_suppressed_values_cannot_leak_even_if_present_in_the_tables(tmp_path, report_tables, instrument_2024,
                                                                     kommuner, rendered_2024):
    """Plant values in every suppressed row (and counts at kommune level): output must not change."""
    cur, history = report_tables
    planted = {name: df.copy() for name, df in cur.items()}
    for name, cols in (("indicator_values", {"n": 4, "count": 3, "share": 0.987654, "ci_low": 0.9, "ci_high": 0.99}),
                       ("barrier_scores", {"n": 4, "score": 87.654, "score_ci_low": 80.0, "score_ci_high": 95.0,
                                           "top3_share": 0.987654, "first_share": 0.876}),
                       ("kommune_benchmarks", {"n": 4, "share": 0.987654, "share_shrunk": 0.9, "national_share": 0.5,
                                               "diff_national_pp": 48.7654, "percentile": 99.0})):
        df = planted[name]
        mask = df["suppressed"].astype(bool)
        assert mask.any()
        for col, value in cols.items():
            df[col] = df[col].astype("float64")
            df.loc[mask, col] = value
    iv = planted["indicator_values"]
    kommune = iv.geography_level == "kommune"
    iv["count"] = iv["count"].astype("float64")
    iv.loc[kommune & ~iv.suppressed.astype(bool), "count"] = 2.0
    out = tmp_path / "planted"
    render_reports(out, 2024, planted, history, instrument_2024, kommuner)
    clean = rendered_2024["dir"]
    for p in sorted(clean.rglob("*.html")):
        assert (out / p.relative_to(clean)).read_bytes() == p.read_bytes(), p.name
    assert (out / "workbook.xlsx").read_bytes() == (clean / "workbook.xlsx").read_bytes()


def test_no_counts_at_kommune_level(html_2024):
    """A kommune's n (its number of answers) is published; the count choosing an option is not shown."""
    for name, html in html_2024.items():
        if name.startswith("kommuner/"):
            text = visible_text(html)
            assert not re.search(r"(?i)\b\d+\s+af\s+\d+\s+besvarelser", text), name
            for table in tables(html).values():
                head = table[0] if table else []
                assert not any(h.startswith(("Antal", "Valgt")) for h in head), name


def test_index_lists_all_kommuner_with_links(html_2024, kommuner, report_tables):
    """Published kommuner first with both headline values and their answers, the rest after with the reason;
    each group in Danish alphabetical order by official name (æ, ø, å after z, and "aa" is an å: Aabenraa,
    Aalborg and Aarhus close the list, Faaborg-Midtfyn comes after Fredericia)."""
    html = html_2024["kommuner/index.html"]
    for kode in kommuner.codes:
        assert f'href="{kode}.html"' in html
    t = tables(html)
    published, others = t["tabel-offentliggjort"], t["tabel-ikke-offentliggjort"]
    assert published[0][-1] == "Besvarelser" and others[0][-1] == "Status"
    names = {r["kommune_kode"]: r["officielt_navn"] for r in kommuner.table.to_dict("records")}
    assert len(published) - 1 + len(others) - 1 == len(names)
    assert html.index("Kommuner med offentliggjorte tal") < html.index("Kommuner uden offentliggjorte tal")
    cur, _ = report_tables
    copenhagen = next(row for row in published if row[0] == "Københavns Kommune")
    mere, ja = (iv_row(cur, "kommune", "101", ind) for ind in ("data_use_change.mere", "further_potential.ja"))
    assert copenhagen[3:] == [fmt_pct(mere.share), f"{int(mere.n)}", fmt_pct(ja.share), f"{int(ja.n)}"]
    for rows in (published, others):
        body = [r[0] for r in rows[1:]]
        key = lambda n: n.casefold().replace("aa", "å").translate(str.maketrans({"æ": "{", "ø": "|", "å": "}"}))  # noqa: E731
        assert body == sorted(body, key=key)
    assert {r[0] for r in others[1:]}.isdisjoint(r[0] for r in published[1:])
    assert all(r[-1] for r in others[1:])  # every unpublished kommune says why


def test_index_filter_is_optional(html_2024):
    """Without JavaScript the filter stays hidden and every kommune is listed; the script only unhides it."""
    html = html_2024["kommuner/index.html"]
    assert re.search(r'<div class="filter" id="filter" hidden>', html)
    assert '<label for="filter-navn">' in html


def test_kommune_page_trend_and_links_to_earlier_years(html_2024, report_tables):
    cur, history = report_tables
    html = html_2024["kommuner/101.html"]
    trend = tables(html)["tabel-udvikling"]
    assert [row[0] for row in trend[1:]] == ["2023", "2024"]
    for row, year_tables in zip(trend[1:], (history[2023], cur)):
        r = iv_row(year_tables, "kommune", "101", "data_use_change.mere")
        assert row[1:4] == [fmt_pct(r.share), fmt_pct_interval(r.ci_low, r.ci_high), f"{int(r.n)}"]
    chart = next(svg for svg in svgs(html) if 'id="fig-kommune-trend-title"' in svg)
    old = iv_row(history[2023], "kommune", "101", "data_use_change.mere")
    assert f"2023: {fmt_pct(old.share)}" in chart
    release_2023 = str(history[2023]["indicator_values"]["release_id"].iloc[0])
    assert f'href="../../../../2023/{release_2023}/reports/kommuner/101.html"' in html
    assert "Københavns Kommune 2023" in visible_text(html)  # the link says where it goes
    assert "Besvarelser" in visible_text(html)  # its number of answers stays


def test_unpublished_kommune_gets_links_but_no_trend(html_2024, report_tables):
    cur, history = report_tables
    iv = cur["indicator_values"]
    k = iv[(iv.geography_level == "kommune") & iv.indicator_id.isin(["data_use_change.mere", "further_potential.ja"])]
    hidden = k.groupby("geography_code").suppressed.all()
    kode = hidden[hidden].index[0]
    html = html_2024[f"kommuner/{kode}.html"]
    assert "tabel-udvikling" not in html and "fig-kommune-trend" not in html
    assert "../../../../2023/" in html and "i tidligere år" in visible_text(html)


def test_first_year_has_no_change_columns_and_no_trend_lines(rendered_2023_escaped):
    out = rendered_2023_escaped
    for name in ("national.html", "kommuner/101.html", "kommuner/index.html"):
        html = (out / name).read_text(encoding="utf-8")
        for tid, rows in tables(html).items():
            assert not any(h.startswith(("Ændring", "Signifikant")) for h in rows[0]), (name, tid, rows[0])
        assert "fig-trend" not in html and "fig-kommune-trend" not in html and "tabel-udvikling" not in html, name
        assert "../../../../" not in html, name  # no earlier year to link to


# -- workbook -------------------------------------------------------------------------------------

def test_workbook_sheets_headers_formats_and_values(rendered_2024, report_tables):
    cur, _ = report_tables
    path = rendered_2024["dir"] / "workbook.xlsx"
    with zipfile.ZipFile(path) as zf:  # frozen header row on every table sheet
        for i in range(2, 8):
            assert 'ySplit="1" topLeftCell="A2"' in zf.read(f"xl/worksheets/sheet{i}.xml").decode()
    wb = openpyxl.load_workbook(path, read_only=True)
    assert wb.sheetnames == ["Forside", "Om tallene", "Det vigtigste", "Indikatorer", "Barrierer", "Ændringer",
                             "Udvikling", "Kommuner", "Årsoversigt", "Karantæne"]
    rows = list(wb["Indikatorer"].iter_rows())
    header = [c.value for c in rows[0]]
    assert header[:3] == ["Udgivelse", "År", "Niveau"] and "Andel" in header and "Nedre grænse (95 %)" in header
    col = {h: i for i, h in enumerate(header)}
    rows = rows[1:]
    assert len(rows) == len(cur["indicator_values"])
    iv = cur["indicator_values"].reset_index(drop=True)

    def value(cells, name):
        i = col[name]
        return cells[i].value if i < len(cells) else None

    checked_kommune = False
    for i in (0, 17, len(rows) // 3, len(rows) // 2, len(rows) - 1):
        cells, r = rows[i], iv.iloc[i]
        assert value(cells, "Indikator-id") == r.indicator_id
        if r.suppressed:
            assert value(cells, "Andel") == ".." and value(cells, "Besvarelser (n)") == ".."
        else:
            share = cells[col["Andel"]]
            assert share.value == r.share  # unrounded
            assert share.number_format == "0.0%"
        if r.geography_level == "kommune":
            checked_kommune = True
            assert value(cells, "Antal valgt") in (None, "..")
    assert checked_kommune
    kommune_counts = [value(c, "Antal valgt") for c in rows if value(c, "Niveau") == "Kommune"]
    assert kommune_counts and all(v in (None, "..") for v in kommune_counts)
    about = [r[2].value for r in wb["Om tallene"].iter_rows() if len(r) > 2 and r[2].value]
    assert any("Wilson" in v for v in about)
    ch_rows = list(wb["Ændringer"].iter_rows(max_row=2))
    head = [c.value for c in ch_rows[0]]
    assert "Ændring (procentpoint)" in head
    assert ch_rows[1][head.index("Ændring (procentpoint)")].number_format == "0.0"
    wb.close()


# -- charts for the Dagster UI --------------------------------------------------------------------

def test_chart_png_and_markdown_for_dagster(report_tables, instrument_2024, kommuner):
    cur, history = report_tables
    md = national_chart_markdown(2024, cur, instrument_2024, kommuner, chart="barriers")
    assert md.startswith("![Vandret søjlediagram") and "](data:image/png;base64," in md
    spec = national_chart(2024, cur, instrument_2024, kommuner, chart="trend", history=history)
    assert chart_png(spec)[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError):
        national_chart(2024, cur, instrument_2024, kommuner, chart="nope")


@pytest.mark.slow
def test_prepared_reports_give_the_same_files_and_ui_charts(tmp_path, report_tables, instrument_2024, kommuner,
                                                           rendered_2024):
    """One context for the pages and the UI charts (report_artefacts): the same files as render_reports, and
    the same chart markdown as national_chart_markdown, whether a chart's figure was drawn for its SVG first
    or not; a history and another minimum change none of the three UI charts."""
    cur, history = report_tables
    reports = prepare_reports(2024, cur, history, instrument_2024, kommuner, min_respondents=7)
    before_write = reports.chart_markdown("use_contexts")  # figure drawn for the PNG first, SVG after
    paths = reports.write(tmp_path)
    assert [p.relative_to(tmp_path) for p in paths] == [p.relative_to(rendered_2024["dir"])
                                                         for p in rendered_2024["paths"]]
    fresh = prepare_reports(2024, cur, history, instrument_2024, kommuner)
    fresh.write(tmp_path / "fresh")
    for name in ("national.html", "kommuner/101.html", "workbook.xlsx"):
        assert (tmp_path / "fresh" / name).read_bytes() == (rendered_2024["dir"] / name).read_bytes(), name
    for chart in ("use_contexts", "anchoring_levels", "barriers"):
        expected = national_chart_markdown(2024, cur, instrument_2024, kommuner, chart=chart)
        assert fresh.chart_markdown(chart) == expected, chart  # after the page drew the figure's SVG
        assert reports.chart_markdown(chart) == expected, chart
    assert before_write == national_chart_markdown(2024, cur, instrument_2024, kommuner, chart="use_contexts")
    for chart in ("trend", "region", "data_sources"):
        assert fresh.chart(chart) is not None
    with pytest.raises(ValueError):
        fresh.chart_markdown("nope")


def test_workbook_reuses_the_normalised_tables_without_changing_them(report_tables, instrument_2024, kommuner):
    cur, history = report_tables
    reports = prepare_reports(2024, cur, history, instrument_2024, kommuner)
    columns = {name: list(df.columns) for name, df in reports.ctx.year.tables.items()}
    own, own_ids = workbook_tables(cur)
    reused, reused_ids = workbook_tables(cur, normalised=reports.ctx.year.tables)
    assert own_ids == reused_ids
    for name, df in own.items():
        pd.testing.assert_frame_equal(reused[name], df, check_exact=True)
    assert {name: list(df.columns) for name, df in reports.ctx.year.tables.items()} == columns


def test_deterministic_output(tmp_path, report_tables, instrument_2024, kommuner, rendered_2024):
    cur, history = report_tables
    render_reports(tmp_path, 2024, cur, history, instrument_2024, kommuner)
    for name in ("national.html", "kommuner/101.html", "workbook.xlsx"):
        assert (tmp_path / name).read_bytes() == (rendered_2024["dir"] / name).read_bytes(), name


def test_forked_processes_write_the_same_files_as_one_process(tmp_path, report_tables, instrument_2024, kommuner,
                                                                rendered_2024):
    """The pages and the workbook written by forked processes (3 here, whatever the cores) are the files one
    process writes, in the same order: each page depends only on the shared context."""
    cur, history = report_tables
    one = render_reports(tmp_path / "one", 2024, cur, history, instrument_2024, kommuner, workers=0)
    three = render_reports(tmp_path / "three", 2024, cur, history, instrument_2024, kommuner, workers=3)
    assert [p.relative_to(tmp_path / "one") for p in one] == [p.relative_to(tmp_path / "three") for p in three] == [
        p.relative_to(rendered_2024["dir"]) for p in rendered_2024["paths"]]
    assert len(one) == 101
    for a, b in zip(one, three):
        assert a.read_bytes() == b.read_bytes(), a.name


# -- findings, privacy wording, method words (issue 13) ----------------------------------------------

def _section(html: str, heading_id: str) -> str:
    """The HTML of the <section> whose heading has this id."""
    start = html.index(f'id="{heading_id}"')
    start = html.rindex("<section", 0, start)
    return html[start:html.index("</section>", start)]


def _items(html: str) -> list[str]:
    """The visible text of each finding in a list (screen-reader notes dropped)."""
    html = re.sub(r'<span class="sr-only">.*?</span>', "", html)
    return [visible_text(li) for li in re.findall(r"<li>(.*?)</li>", html, flags=re.S)]


def test_national_report_starts_with_the_strongest_findings(html_2024, report_tables, instrument_2024, kommuner):
    from benchmark_pipeline.findings import findings_for_year, highlights

    cur, _ = report_tables
    html = html_2024["national.html"]
    h2 = re.findall(r"<h2 id=\"([\w-]+)\"", html)
    assert h2[0] == "vigtigste" and h2.index("vigtigste") < h2.index("hovedtal")
    expected = [f.sentence for f in highlights(findings_for_year(cur, instrument_2024, kommuner)["DK"])]
    shown = [re.sub(r"\s*[¹²³⁴⁵⁶⁷⁸⁹⁰]+$", "", item) for item in _items(_section(html, "vigtigste"))]
    assert shown == expected and 3 <= len(shown) <= 6
    assert "Manglende ledelsesopbakning og prioritering" in shown[0]  # the top barrier in the fixture
    assert "højeste vægtede score" in shown[0]


def test_what_a_95_percent_interval_means_is_said_plainly(html_2024):
    from benchmark_pipeline.reports.narrative import INTERVAL_SENTENCE

    assert "95 ud af 100" in INTERVAL_SENTENCE and "sandsynlighed" not in INTERVAL_SENTENCE
    national = visible_text(html_2024["national.html"])
    assert national.count(INTERVAL_SENTENCE) == 2  # "Det vigtigste i år" and the method section
    assert INTERVAL_SENTENCE in visible_text(html_2024["kommuner/101.html"])


METHOD_WORDS = re.compile(r"Wilson|Benjamini|Hochberg|Newcombe|empirisk Bayes|q\s*<|\b[a-z]+_[a-z_]+\b|\.top3|\.first\b")


def test_method_words_only_in_the_method_section(html_2024):
    national = html_2024["national.html"]
    before = national[: national.index('<section aria-labelledby="metode"')]
    assert not METHOD_WORDS.search(visible_text(before)), METHOD_WORDS.search(visible_text(before))
    assert METHOD_WORDS.search(visible_text(_section(national, "metode")))
    for name, html in html_2024.items():
        if name.startswith("kommuner/"):
            assert not METHOD_WORDS.search(visible_text(html)), (name, METHOD_WORDS.search(visible_text(html)))


PROMISES = ("aldrig for den enkelte kommune", "vises aldrig", "afsløre den enkelte", "beskytter de enkelte",
            "ville kunne genkendes", "kan ikke regnes ud", "ikke kan kendes")


def test_no_text_promises_that_a_kommune_count_cannot_be_known(html_2024):
    for name, html in html_2024.items():
        text = visible_text(html).lower()
        for promise in PROMISES:
            assert promise not in text, (name, promise)
    page = visible_text(html_2024["kommuner/101.html"])
    assert "Intet tal bygger på færre end 5 besvarelser" in page
    assert "kan regnes ud af dem" in page  # the honest statement: n and share give the count
    method = visible_text(_section(html_2024["national.html"], "metode"))
    assert "intet offentliggjort tal bygger på færre end 5 besvarelser" in method


@pytest.fixture(scope="module")
def rendered_min_7(tmp_path_factory, report_tables, instrument_2024, kommuner):
    cur, history = report_tables
    out = tmp_path_factory.mktemp("reports_min7")
    prepare_reports(2024, cur, history, instrument_2024, kommuner, min_respondents=7).write(out)
    return out


def test_what_it_takes_to_be_shown_uses_the_release_minimum(rendered_min_7, report_tables):
    cur, _ = report_tables
    iv = cur["indicator_values"]
    head = iv[(iv.geography_level == "kommune") & (iv.indicator_id == "data_use_change.mere")]
    for reason in ("no_respondents", "below_minimum"):
        kode = head[head.suppression_reason == reason].geography_code.iloc[0]
        text = visible_text((rendered_min_7 / "kommuner" / f"{kode}.html").read_text(encoding="utf-8"))
        assert "Kommunens resultater offentliggøres ikke" in text
        assert "En kommunes tal vises, når mindst 7 fra kommunen har besvaret spørgsmålet" in text, reason
        assert "mindst 5" not in text and "færre end 5" not in text
        assert "beskytter" not in text
    index = visible_text((rendered_min_7 / "kommuner" / "index.html").read_text(encoding="utf-8"))
    assert "færre end 7 besvarelser" in index and "mindst 7" in index


def test_kommune_page_shows_what_stands_out_its_answers_and_its_group(html_2024, report_tables, instrument_2024,
                                                                     kommuner):
    from benchmark_pipeline.findings import findings_for_year, highlights

    cur, _ = report_tables
    found = findings_for_year(cur, instrument_2024, kommuner)
    iv, kb = cur["indicator_values"], cur["kommune_benchmarks"]
    for kode in ("101", "751", "461"):
        html = html_2024[f"kommuner/{kode}.html"]
        shown = [re.sub(r"\s*[¹²³⁴⁵⁶⁷⁸⁹⁰]+$", "", i) for i in _items(_section(html, "skiller-sig-ud"))]
        assert shown == [f.sentence for f in highlights(found[kode])] and shown, kode
        answers = iv[(iv.geography_level == "kommune") & (iv.geography_code == kode)]["n"].max()
        assert f"Besvarelser {int(answers)} på det spørgsmål, flest fra kommunen har besvaret" in visible_text(html)
        rows = {r[0]: r[1:] for r in tables(html)["tabel-kommunegruppe"][1:]}
        b = kb[(kb.kommune_kode == kode) & (kb.indicator_id == "data_use_change.mere")].iloc[0]
        assert rows["Bruger data mere end for et år siden"][:5] == [
            fmt_pct(b.share), fmt_pct(b.group_min), fmt_pct(b.group_median), fmt_pct(b.group_max),
            str(int(b.group_published))]
        assert re.fullmatch(r"Nr\. \d+ af \d+ offentliggjorte kommuner, hvor 1 er den højeste andel",
                            rows["Bruger data mere end for et år siden"][5])
    aarhus = " ".join(_items(_section(html_2024["kommuner/751.html"], "skiller-sig-ud")))
    assert "faldet fra" in aarhus and "under landsgennemsnittet" in aarhus


def test_trend_section_gives_the_change_since_the_first_year(html_2024, report_tables):
    cur, history = report_tables
    html = html_2024["national.html"]
    rows = {r[0]: r[1:] for r in tables(html)["tabel-siden-foerste-aar"][1:]}
    yoy = cur["yoy_changes"]
    y = yoy[(yoy.geography_level == "national") & (yoy.indicator_id == "data_use_change.mere")].iloc[0]
    first = iv_row(history[2023], "national", "DK", "data_use_change.mere")
    now = iv_row(cur, "national", "DK", "data_use_change.mere")
    assert rows["Bruger data mere end for et år siden"][:5] == [
        "2023", fmt_pct(first.share), fmt_pct(now.share), fmt_pp(y.diff_pp), "Ja" if y.significant else "Nej"]
    assert "Ændringen siden første år" in visible_text(_section(html, "udvikling"))


def test_ids_are_unique_on_every_page(html_2024):
    for name, html in html_2024.items():
        ids = re.findall(r'\bid="([^"]+)"', html)
        assert len(ids) == len(set(ids)), (name, [i for i in set(ids) if ids.count(i) > 1])


def test_highlights_for_the_dagster_ui(report_tables, instrument_2024, kommuner):
    from benchmark_pipeline.findings import findings_for_year, highlights

    cur, history = report_tables
    md = prepare_reports(2024, cur, history, instrument_2024, kommuner).highlights_markdown()
    expected = highlights(findings_for_year(cur, instrument_2024, kommuner)["DK"])
    assert md.splitlines() == [f"- {f.sentence}" for f in expected]
