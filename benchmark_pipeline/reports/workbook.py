"""The year's release as one Excel workbook people read and print: a cover ("Forside"), an explanation
("Om tallene"), the published tables with Danish labels beside the ids, and the national and regional
values over all published years ("Udvikling").

Written with XlsxWriter (in memory, shared strings: faster here than its `constant_memory` mode; openpyxl
was too slow for ~22,000 rows). Text is always written with `write_string`, so no value can turn into a
formula or a link. The tests read the workbook back with openpyxl. The output is deterministic: a fixed
document date, XlsxWriter's fixed zip timestamps, and nothing from the clock.

Values are written as published (unrounded numbers; Excel's number format does the display rounding, and
Danish Excel shows the decimal comma). A suppressed row's values are empty in the tables; here each of its
value cells holds the text ".." (Danmarks Statistik's mark for a figure that is not published), so a
hidden figure is never shown as a blank that reads like a zero, and nothing is derived for it.

Every sheet prints landscape on A4, one page wide (any number of pages tall), with its header row
repeated, the release id and survey year in the page header and the page number in the footer. Estimated
from the column widths (no spreadsheet program prints it here), a year of the shipped samples prints at
about 190-230 pages, most of them Indikatorer, Ændringer and Kommuner at 24-34 % scale.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xlsxwriter

from benchmark_pipeline import findings as fnd
from benchmark_pipeline.reference import NATIONAL_CODE
from benchmark_pipeline.release.files import atomic_write
from benchmark_pipeline.release.paths import DATA_DICTIONARY

from .formatting import as_float, danish_key, is_missing
from .model import is_true, normalise_tables, split_indicator, suppression_text

if TYPE_CHECKING:
    from .pages import Context

PCT = "0.0%"
PP = "0.0"
SCORE = "0.0"
INT = "0"
P = "0.0000"
SUPPRESSED_MARK = ".."
TITLE = "Kommunernes brug af borgerrelaterede data"

LEVEL_TEXT = {"national": "Land", "region": "Region", "kommunegruppe": "Kommunegruppe", "kommune": "Kommune"}
MEASURE_TEXT = {"share": "Andel", "top3": "Andel i top 3", "first": "Andel som nr. 1"}
COMPARISON_TEXT = {fnd.PREVIOUS_YEAR: "Sidste år", fnd.FIRST_YEAR: "Første år"}
# Reasons older releases show (newer ones show only no_respondents and confidential: model.SUPPRESSION_TEXT).
REASON_TEXT = {"below_minimum": "færre end {m} besvarelser", "complementary": "skjult for at beskytte en anden værdi"}


@dataclass(frozen=True)
class Col:
    """One written column: its key in the sheet's frame, Danish header, number format, explanation, and
    whether it is a key (never marked "..") or a value (marked ".." in a suppressed row)."""

    name: str
    header: str
    fmt: str | None
    explanation: str
    key: bool = False


def _k(name: str, header: str, explanation: str, fmt: str | None = None) -> Col:
    return Col(name, header, fmt, explanation, key=True)


RELEASE = _k("release_id", "Udgivelse", "Id for den udgivelse (release), tallene kommer fra.")
YEAR = _k("survey_year", "År", "Undersøgelsesår.", INT)
LEVEL = _k("geography_level", "Niveau", "Land, region, kommunegruppe eller kommune.")
GEO_CODE = _k("geography_code", "Geografikode", "DK, regionskode (1081-1085), kommunegruppe (1-5) eller kommunekode.")
GEO_NAME = _k("geography_name", "Geografi", "Navnet på landet, regionen, kommunegruppen eller kommunen.")
INDICATOR = _k("indicator_id", "Indikator-id", "Stabil id: <spørgsmål>.<svarmulighed>[.top3|.first].")
QUESTION = _k("question_text", "Spørgsmål", "Spørgsmålets tekst i dette års spørgeskema.")
OPTION = _k("option_label", "Svarmulighed", "Svarmulighedens tekst i dette års spørgeskema.")
NOTE = _k("note", "Note", "Henvisning til en note på arket Forside (fx en svarmulighed, der har skiftet tekst).")
SUPPRESSED = _k("suppressed", "Diskretioneret", "Ja, når tallet ikke offentliggøres; cellerne med tal viser da \"..\".")


def _reason_col(minimum: int) -> Col:
    return _k("suppression_reason", "Årsag", "Hvorfor tallet ikke offentliggøres: ingen besvarelser, færre end "
              f"{minimum} besvarelser, eller skjult for at beskytte en anden værdi (så den ikke kan regnes ud).")


def _sheets(minimum: int, survey_year: int) -> list[tuple[str, str, str, list[Col]]]:
    """(sheet, table, what the sheet holds, columns) of the table sheets, in order."""
    reason = _reason_col(minimum)
    return [
        ("Indikatorer", "indicator_values", f"Andele for hvert spørgsmål og svarmulighed i {survey_year}, for "
         "landet, regioner, kommunegrupper og kommuner.", [
            RELEASE, YEAR, LEVEL, GEO_CODE, GEO_NAME, INDICATOR,
            _k("question_id", "Spørgsmål-id", "Stabil id for spørgsmålet."), QUESTION,
            _k("option_id", "Svarmulighed-id", "Stabil id for svarmuligheden."), OPTION, NOTE,
            _k("measure", "Mål", "Andel; andel i top 3 (barrieren er blandt de tre væsentligste); andel som nr. 1."),
            Col("n", "Besvarelser (n)", INT, "Antal respondenter, der har besvaret spørgsmålet."),
            Col("count", "Antal valgt", INT, "Antal, der har valgt svarmuligheden. Kun for land, region og "
                "kommunegruppe (tom for kommuner)."),
            Col("share", "Andel", PCT, "Andel af besvarelserne (vist som procent)."),
            Col("ci_low", "Nedre grænse (95 %)", PCT, "Nedre grænse af 95 %-konfidensintervallet (Wilson)."),
            Col("ci_high", "Øvre grænse (95 %)", PCT, "Øvre grænse af 95 %-konfidensintervallet (Wilson)."),
            SUPPRESSED, reason,
        ]),
        ("Barrierer", "barrier_scores", "Vægtet score for hver barriere for at bruge data mere.", [
            RELEASE, YEAR, LEVEL, GEO_CODE, GEO_NAME,
            _k("barrier_id", "Barriere-id", "Stabil id for barrieren."),
            _k("option_label", "Barriere", "Barrierens tekst i dette års spørgeskema."), NOTE,
            Col("n", "Besvarelser (n)", INT, "Antal respondenter, der har rangeret mindst én barriere."),
            Col("score", "Vægtet score", SCORE, "Gennemsnitlige point (3 for nr. 1, 2 for nr. 2, 1 for nr. 3) "
                "skaleret til 0-100."),
            Col("score_ci_low", "Score, nedre grænse", SCORE, "Nedre grænse af 95 %-intervallet for scoren."),
            Col("score_ci_high", "Score, øvre grænse", SCORE, "Øvre grænse af 95 %-intervallet for scoren."),
            Col("top3_share", "Andel i top 3", PCT, "Andel, der har barrieren blandt deres tre væsentligste."),
            Col("first_share", "Andel som nr. 1", PCT, "Andel, der har barrieren som den væsentligste."),
            SUPPRESSED, reason,
        ]),
        ("Ændringer", "yoy_changes", "Ændringen af hver andel siden sidste år og siden seriens første år.", [
            RELEASE, YEAR,
            _k("comparison", "Sammenligning", "Sidste år: mod det forrige undersøgelsesår. Første år: mod det "
               "første år med tal for indikatoren (fra seriens tredje år)."),
            _k("base_year", "Sammenlignet med", "Året, der sammenlignes med.", INT),
            LEVEL, GEO_CODE, GEO_NAME, INDICATOR, OPTION, NOTE,
            Col("share", "Andel i undersøgelsesåret", PCT, "Andelen i undersøgelsesåret."),
            Col("share_base", "Andel i sammenligningsåret", PCT, "Andelen i det år, der sammenlignes med."),
            Col("diff_pp", "Ændring (procentpoint)", PP, "Forskellen i procentpoint."),
            Col("diff_ci_low_pp", "Ændring, nedre grænse", PP, "Nedre grænse af 95 %-intervallet (Newcombe)."),
            Col("diff_ci_high_pp", "Ændring, øvre grænse", PP, "Øvre grænse af 95 %-intervallet (Newcombe)."),
            Col("p_value", "p-værdi", P, "Tosidet scoretest for ens andele."),
            Col("q_value", "q-værdi", P, "p-værdi justeret for mange test (Benjamini-Hochberg)."),
            Col("significant", "Signifikant", None, "Ja, når q-værdien er under 0,05; kun da skriver rapporterne "
                "steget eller faldet."),
            Col("relative_growth", "Relativ vækst", PCT, "(andel i undersøgelsesåret - andel i sammenligningsåret) "
                "/ andel i sammenligningsåret."),
        ]),
        ("Kommuner", "kommune_benchmarks", "Hver kommunes andel ved siden af landet, regionen og kommunegruppen, "
         "med placering og spredning.", [
            RELEASE, YEAR, _k("kommune_kode", "Kommunekode", "Kommunens kode."),
            _k("geography_name", "Kommune", "Kommunens officielle navn."),
            _k("region_name", "Region", "Kommunens region."),
            _k("group_name", "Kommunegruppe", "Kommunens kommunegruppe (Danmarks Statistik)."),
            INDICATOR, OPTION, NOTE,
            Col("n", "Besvarelser (n)", INT, "Antal respondenter i kommunen, der har besvaret spørgsmålet."),
            Col("share", "Andel", PCT, "Kommunens andel."),
            Col("share_shrunk", "Udjævnet andel", PCT, "Andel trukket mod kommunegruppens niveau (empirisk Bayes)."),
            Col("national_share", "Landsgennemsnit", PCT, "Andelen for hele landet."),
            Col("region_share", "Regionen", PCT, "Andelen i kommunens region."),
            Col("group_share", "Kommunegruppen", PCT, "Andelen i kommunens kommunegruppe."),
            Col("diff_national_pp", "Forskel til landet (pp)", PP, "Kommunens andel minus landsgennemsnittet, i "
                "procentpoint."),
            Col("diff_region_pp", "Forskel til regionen (pp)", PP, "Kommunens andel minus regionens, i procentpoint."),
            Col("diff_group_pp", "Forskel til kommunegruppen (pp)", PP, "Kommunens andel minus kommunegruppens, i "
                "procentpoint."),
            Col("percentile", "Percentil", INT, "Placering af den udjævnede andel blandt kommuner med "
                "offentliggjorte tal (0-100)."),
            Col("rank", "Placering", None, "\"X af N\": kommunens plads blandt de N kommuner med offentliggjorte "
                "tal, hvor 1 er den højeste udjævnede andel."),
            Col("group_min", "Laveste i gruppen", PCT, "Laveste offentliggjorte kommuneandel i kommunegruppen."),
            Col("group_median", "Median i gruppen", PCT, "Medianen af de offentliggjorte kommuneandele i "
                "kommunegruppen."),
            Col("group_max", "Højeste i gruppen", PCT, "Højeste offentliggjorte kommuneandel i kommunegruppen."),
            Col("group_published", "Kommuner med tal i gruppen", INT, "Kommuner i kommunegruppen, hvis andel er "
                "offentliggjort."),
            SUPPRESSED, reason,
        ]),
        ("Årsoversigt", "year_summary", "Antal besvarelser og kommuner med svar, og ændringen fra året før.", [
            RELEASE, YEAR,
            Col("respondents", "Respondenter", INT, "Gyldige besvarelser."),
            Col("responding_kommuner", "Kommuner med svar", INT, "Antal kommuner med mindst én gyldig besvarelse."),
            Col("non_responses", "Tomme besvarelser", INT, "Rækker uden svar på noget indholdsspørgsmål."),
            Col("quarantined_rows", "Frasorterede rækker", INT, "Rækker sat i karantæne ved valideringen."),
            Col("respondents_change", "Ændring, respondenter", INT, "Ændring fra året før."),
            Col("responding_kommuner_change", "Ændring, kommuner", INT, "Ændring fra året før."),
            Col("non_responses_change", "Ændring, tomme", INT, "Ændring fra året før."),
            Col("quarantined_rows_change", "Ændring, frasorterede", INT, "Ændring fra året før."),
        ]),
        ("Karantæne", "quarantine_summary", "Antal rækker, valideringen satte til side, efter regel (ingen "
         "værdier).", [
            RELEASE, YEAR,
            _k("rule", "Regel", "Valideringsreglen (fx unknown_kommune, invalid_value)."),
            _k("column", "Kolonne", "Spørgsmålet eller kolonnen, reglen gjaldt."),
            Col("rows", "Rækker", INT, "Antal frasorterede rækker (kun antal, ingen værdier)."),
        ]),
    ]


TREND_SHEET = "Udvikling"
FINDINGS_SHEET = "Det vigtigste"
WIDE = {"geography_name": 30, "option_label": 34, "question_text": 40, "indicator_id": 28, "release_id": 26,
        "suppression_reason": 30, "region_name": 18, "group_name": 24}

# Cell formats (XlsxWriter format properties), by the names the columns use.
FORMATS = {
    "header": {"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F5A96", "pattern": 1, "valign": "top",
               "text_wrap": True},
    PCT: {"num_format": PCT},
    PP: {"num_format": PP},  # also SCORE
    INT: {"num_format": INT},
    P: {"num_format": P},
    "mark": {"align": "right"},
    "title": {"bold": True, "font_size": 14},
    "bold": {"bold": True},
    "wrap": {"text_wrap": True, "valign": "top"},
}
# Fixed document dates keep the file byte-for-byte reproducible (XlsxWriter fixes the zip timestamps).
DOCUMENT_DATE = dt.datetime(2000, 1, 1)
A4 = 9  # XlsxWriter's paper code


class _Exact(float):
    """A float that writes itself with Python's shortest round-trip repr (17 digits where needed).

    XlsxWriter writes numbers with `format(number, ".16G")`; published values are written unrounded, so a
    float formats itself exactly instead. This goes through the public `write_number` (no private method
    overridden); the tests check that the values read back equal the published ones bit for bit."""

    __slots__ = ()

    def __format__(self, spec: str) -> str:
        return float.__repr__(self)


def _column(series: pd.Series, fmt: str | None) -> tuple[str, list]:
    """One column's kind ("number", "bool", "string" for text only, or "text" for mixed) and values; numbers stay
    unrounded, missing values (None, NaN, infinities) are None and stay empty cells."""
    if fmt is not None:
        marks = (series.astype(object) == SUPPRESSED_MARK).to_numpy(dtype=bool)
        numbers = pd.to_numeric(series.where(~marks), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        finite = np.isfinite(numbers)
        out = np.full(len(numbers), None, dtype=object)
        exact = finite
        if fmt == INT:
            whole = finite & (numbers == np.floor(np.where(finite, numbers, 0)))
            if whole.any():
                ints = np.empty(int(whole.sum()), dtype=object)
                ints[:] = [int(v) for v in numbers[whole].tolist()]  # Python ints, any size
                out[whole] = ints
            exact = finite & ~whole
        if exact.any():
            floats = np.empty(int(exact.sum()), dtype=object)
            floats[:] = [_Exact(v) for v in numbers[exact].tolist()]
            out[exact] = floats
        if marks.any():  # a column of numbers with some cells marked ".." (the trend sheet's years)
            out[marks] = SUPPRESSED_MARK
            return "text", out.tolist()
        return "number", out.tolist()
    obj = series.astype(object)
    values = obj.where(series.notna(), None).tolist()
    out = []
    strings = True
    for v in values:
        if v is None or type(v) is str:
            out.append(v)
        elif isinstance(v, bool) or type(v).__name__ == "bool_":
            out.append("Ja" if v else "Nej")
        elif isinstance(v, (int, float)):
            out.append(None if isinstance(v, float) and not math.isfinite(v) else v)
            strings = False
        else:
            out.append(str(v))
    return ("string" if strings else "text"), out


def _write_value(ws, r: int, c: int, value: object, fmt) -> None:
    if isinstance(value, str):
        ws.write_string(r, c, value, fmt)  # never a formula or a link, whatever the text looks like
    elif isinstance(value, bool):
        ws.write_boolean(r, c, value, fmt)
    elif isinstance(value, (int, float)):
        ws.write_number(r, c, value, fmt)


def _header_text(text: str) -> str:
    return text.replace("&", "&&")  # "&" starts a control code in Excel headers and footers


class _Writer:
    """One workbook: its formats and the page setup every sheet gets."""

    def __init__(self, wb, release_id: str, survey_year: int) -> None:
        self.wb = wb
        self.fmt = {name: wb.add_format(props) for name, props in FORMATS.items()}
        stamp = (f"Udgivelse {_header_text(release_id)} \u00b7 undersøgelsesår {survey_year}" if release_id
                 else f"Undersøgelsesår {survey_year}")
        self.page_header = f"&L{_header_text(TITLE)} {survey_year}&R{stamp}"

    def sheet(self, name: str, widths: list[int]):
        """A sheet with its print setup: landscape A4, one page wide, header row repeated and frozen."""
        ws = self.wb.add_worksheet(name)
        for c, width in enumerate(widths):
            ws.set_column(c, c, width)
        ws.freeze_panes(1, 0)
        ws.set_landscape()
        ws.set_paper(A4)
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0)
        ws.set_header(self.page_header)
        ws.set_footer("&CSide &P af &N")
        return ws

    def table(self, name: str, cols: list[Col], df: pd.DataFrame, suppressed: list[bool]) -> None:
        """A table sheet: a header row, then one row per frame row; a suppressed row's value cells hold ".."."""
        widths = [WIDE.get(c.name, max(len(c.header) + 3, 10)) for c in cols]
        ws = self.sheet(name, widths)
        fmt = self.fmt
        for c, col in enumerate(cols):
            ws.write_string(0, c, col.header, fmt["header"])
        columns = [_column(df[col.name], col.fmt) for col in cols]
        writers = {"number": ws.write_number, "string": ws.write_string}
        column_writers = [(c, writers.get(kind), values, fmt[col.fmt] if col.fmt else None, col.key)
                          for c, (col, (kind, values)) in enumerate(zip(cols, columns))]
        mark = fmt["mark"]
        for r in range(len(df)):
            hidden = suppressed[r]
            for c, write, values, cf, key in column_writers:
                value = values[r]
                if value is None:
                    if hidden and not key:
                        ws.write_string(r + 1, c, SUPPRESSED_MARK, mark)
                    continue
                if write is not None:
                    write(r + 1, c, value, cf)
                elif value is SUPPRESSED_MARK:
                    ws.write_string(r + 1, c, value, mark)
                else:
                    _write_value(ws, r + 1, c, value, cf)
        ws.autofilter(0, 0, len(df), len(cols) - 1)

    def text(self, name: str, header: list[str], rows: list[list], widths: list[int]) -> None:
        """A sheet of text lines under a header row (the cover and the explanation)."""
        ws = self.sheet(name, widths)
        for c, head in enumerate(header):
            ws.write_string(0, c, head, self.fmt["header"])
        wrap = self.fmt["wrap"]
        for r, values in enumerate(rows, start=1):
            for c, value in enumerate(values):
                if value is not None and value != "":
                    _write_value(ws, r, c, value, wrap if c == len(values) - 1 else None)


def _reason_text(reason: object, minimum: int) -> str | None:
    if is_missing(reason):
        return None
    text = REASON_TEXT.get(str(reason))
    text = text.format(m=minimum) if text else suppression_text(reason, minimum)
    return text[:1].upper() + text[1:]


def _note(labels, question: str, option: str) -> str | None:
    number = labels.footnote(question, option)
    return f"Se note {number}" if number else None


def _table_frames(ctx: Context, release_id: str) -> dict[str, pd.DataFrame]:
    """Each table sheet's frame: the published table with Danish labels and texts beside its ids."""
    labels, names, minimum = ctx.labels, ctx.names, ctx.min_respondents
    normal, published = ctx.year.tables, ctx.year.published
    frames = {}
    for _sheet, table, _what, _cols in _sheets(minimum, ctx.survey_year):
        source = published if table in ("yoy_changes", "kommune_benchmarks") else normal
        df = source.get(table, pd.DataFrame())
        if df is None or df.empty:
            continue
        df = df.copy()
        df["release_id"] = release_id
        if "geography_level" in df.columns:
            df["geography_name"] = [names.get((lvl, str(code)), "") for lvl, code in
                                    zip(df["geography_level"], df["geography_code"])]
            df["geography_level"] = [LEVEL_TEXT.get(str(v), v) for v in df["geography_level"]]
        if "kommune_kode" in df.columns:
            rows = ctx.kommune_rows
            df["geography_name"] = [names.get(("kommune", str(k)), "") for k in df["kommune_kode"]]
            df["region_name"] = [rows.get(str(k), {}).get("region_navn", "") for k in df["kommune_kode"]]
            df["group_name"] = [rows.get(str(k), {}).get("kommunegruppe_navn", "") for k in df["kommune_kode"]]
            df["rank"] = [None if pos is None else f"{pos[0]} af {pos[1]}" for pos in
                          (fnd.rank_position(p, n) for p, n in zip(df["percentile"], df["percentile_of"]))]
        if "barrier_id" in df.columns:
            pairs = [("barriers", b) for b in df["barrier_id"]]
        elif "indicator_id" in df.columns:
            pairs = [split_indicator(i)[:2] for i in df["indicator_id"]]
        else:
            pairs = []
        if pairs:
            df["option_label"] = [labels.option(q, o) for q, o in pairs]
            df["note"] = [_note(labels, q, o) for q, o in pairs]
            df["question_text"] = [labels.question_text(q) for q, _o in pairs]
        if "measure" in df.columns:
            df["measure"] = [MEASURE_TEXT.get(str(m), m) for m in df["measure"]]
        if "comparison" in df.columns:
            df["comparison"] = [COMPARISON_TEXT.get(str(c), c) for c in df["comparison"]]
        if "suppression_reason" in df.columns:
            df["suppression_reason"] = [_reason_text(r, minimum) for r in df["suppression_reason"]]
        frames[table] = df
    return frames


def _trend_frame(ctx: Context) -> tuple[list[Col], pd.DataFrame, list[bool]]:
    """National and regional shares of each indicator in every published year, and the fitted trend; the
    frame, and which rows are suppressed (none: a suppressed year is marked ".." in its own cell)."""
    years = [*ctx.history, ctx.year]
    labels, names = ctx.labels, ctx.names
    geographies = [("national", NATIONAL_CODE)] + sorted(
        {("region", str(c)) for c in ctx.kommuner.table["region_kode"]})
    indicators = list(dict.fromkeys(i for yd in reversed(years) for i in yd.indicator_ids))
    cols = [INDICATOR, QUESTION, OPTION, NOTE, _k("measure", "Mål", "Andel, andel i top 3 eller andel som nr. 1."),
            LEVEL, GEO_CODE, GEO_NAME]
    cols += [Col(f"share_{yd.survey_year}", f"Andel {yd.survey_year}", PCT,
                 f"Den offentliggjorte andel i {yd.survey_year}; tom, når spørgsmålet ikke blev stillet det år.")
             for yd in years]
    cols += [
        Col("trend_first_year", "Tendens fra", INT, "Første år i tendensen (tendenser beregnes fra tre år med tal)."),
        Col("slope", "Tendens (pp pr. år)", PP, "Gennemsnitlig ændring pr. år i procentpoint (binomial GLM)."),
        Col("slope_low", "Tendens, nedre grænse", PP, "Nedre grænse af 95 %-intervallet for tendensen."),
        Col("slope_high", "Tendens, øvre grænse", PP, "Øvre grænse af 95 %-intervallet for tendensen."),
        Col("trend_significant", "Signifikant tendens", None, "Ja, når q-værdien er under 0,05; kun da kaldes "
            "tendensen stigende eller faldende."),
    ]
    rows = []
    for ind in indicators:
        q, o, measure = split_indicator(ind)
        for level, code in geographies:
            values = [yd.value(level, code, ind) for yd in years]
            if all(v is None for v in values):
                continue
            shares = {}
            for yd, row in zip(years, values):
                if row is not None and is_true(row.get("suppressed")):
                    shares[f"share_{yd.survey_year}"] = SUPPRESSED_MARK
                else:
                    shares[f"share_{yd.survey_year}"] = None if row is None else as_float(row.get("share"))
            trend = ctx.year.trend(level, code, ind) or {}
            sig = trend.get("significant")
            rows.append({
                "indicator_id": ind, "question_text": labels.question_text(q), "option_label": labels.option(q, o),
                "note": _note(labels, q, o), "measure": MEASURE_TEXT.get(measure, measure),
                "geography_level": LEVEL_TEXT[level], "geography_code": code,
                "geography_name": names.get((level, code), ""), **shares,
                "trend_first_year": trend.get("first_year"), "slope": trend.get("slope_pp_per_year"),
                "slope_low": trend.get("slope_ci_low_pp"), "slope_high": trend.get("slope_ci_high_pp"),
                "trend_significant": None if not trend or is_missing(sig) else bool(sig),
            })
    df = pd.DataFrame(rows, columns=[c.name for c in cols])
    return cols, df, [False] * len(df)  # a suppressed year is marked in its own cell


def write_workbook(path: Path, ctx: Context, release_id: str) -> Path:
    """Write the workbook of `ctx`'s year (the page context: tables, history, labels, minimum) for the release
    `release_id`: on the cover, in every table row and in every sheet's page header ("" outside a release:
    then none of them names one)."""
    return atomic_write(Path(path), lambda tmp: _write_workbook_file(tmp, ctx, release_id))


def _write_workbook_file(tmp: Path, ctx: Context, release_id: str) -> None:
    year, minimum, labels = ctx.survey_year, ctx.min_respondents, ctx.labels
    sheets = _sheets(minimum, year)
    frames = _table_frames(ctx, release_id)
    trend_cols, trend_df, trend_hidden = _trend_frame(ctx)
    first_year = ctx.history[0].survey_year if ctx.history else year

    # (sheet, what it holds, columns, frame, suppressed rows) in the order they are written
    tables: list[tuple[str, str, list[Col], pd.DataFrame, list[bool]]] = []
    for sheet, table, what, cols in sheets:
        df = frames.get(table)
        if df is None:
            continue
        present = [c for c in cols if c.name in df.columns]
        hidden = [is_true(v) for v in df["suppressed"]] if "suppressed" in df.columns else [False] * len(df)
        tables.append((sheet, what, present, df, hidden))
    trend_what = (f"Andelen for landet og hver region i hvert offentliggjort år ({first_year}-{year}) og "
                  "tendensen, hvor den er offentliggjort.")
    at = next((i for i, t in enumerate(tables) if t[0] == "Kommuner"), len(tables))
    tables.insert(at, (TREND_SHEET, trend_what, trend_cols, trend_df, trend_hidden))

    notes = [f"Note {ch['number']}: {ch['text']}" for ch in labels.changes]
    mark_note = (f"\"..\" betyder, at tallet ikke offentliggøres (diskretionering): det hviler på færre end {minimum} "
                 "besvarelser, der er ingen besvarelser, eller det er skjult for at beskytte en anden værdi, så den "
                 "ikke kan regnes ud. Alle tal i sådan en række står som \"..\"; intet kan regnes ud af dem.")
    cover = [
        *([["Udgivelse", release_id]] if release_id else []),
        ["Undersøgelsesår", year],
        ["Mindste antal besvarelser", f"Et tal vises kun, når det hviler på mindst {minimum} besvarelser."],
        ["Dataordbog", f"{DATA_DICTIONARY} i udgivelsens mappe (mappen over reports/) beskriver hver tabel og "
                       "kolonne (på engelsk)."],
        ["Tegnforklaring", mark_note],
        [],
        ["Indhold", ""],
        ["Forside", "Denne side: udgivelse, år, indhold og noter."],
        ["Om tallene", "Forklaring af hvert ark og hver kolonne."],
        [FINDINGS_SHEET, "Det, der skiller sig ud i år, for hele landet og for hver kommune: de samme sætninger som i "
                         "rapporterne, med tallene bag dem."],
        *[[sheet, what] for sheet, what, _c, _d, _h in tables],
    ]
    if notes:
        cover += [[], ["Noter", ""], *[["", n] for n in notes]]

    about = [
        ["Alle ark", "Tal", "Tallene er ikke afrundede; Excel viser dem afrundet efter cellens talformat. Andele er "
         "brøker mellem 0 og 1 og vises som procent; ændringer er i procentpoint."],
        ["Alle ark", "..", mark_note],
        ["Alle ark", "Antal valgt", "Antal, der har valgt en svarmulighed, vises ikke for enkelte kommuner."],
        *[["Alle ark", "Note", n] for n in notes],
    ]
    about += [[FINDINGS_SHEET, "Område", "Hele landet eller kommunens officielle navn."],
              [FINDINGS_SHEET, "Fund", "Ét fund som én sætning, stærkeste først; \"steget\" og \"faldet\" kun om "
               "statistisk signifikante ændringer, \"over\" og \"under landsgennemsnittet\" kun når intervallet "
               "udelukker landsgennemsnittet."]]
    for sheet, _what, cols, _df, _h in tables:
        about += [[sheet, c.header, c.explanation] for c in cols]

    wb = xlsxwriter.Workbook(str(tmp), {"constant_memory": False, "in_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "strings_to_numbers": False,
                                        "nan_inf_to_errors": False})
    try:
        wb.set_properties({"created": DOCUMENT_DATE})
        w = _Writer(wb, release_id, year)
        w.text("Forside", [f"{TITLE} {year}", "Offentliggjorte tabeller"], cover, [28, 110])
        w.text("Om tallene", ["Ark", "Kolonne", "Forklaring"], about, [18, 30, 100])
        w.text(FINDINGS_SHEET, ["Område", "Fund"], _finding_rows(ctx), [30, 140])
        for sheet, _what, cols, df, hidden in tables:
            w.table(sheet, cols, df, hidden)
    finally:
        wb.close()


def _finding_rows(ctx: Context) -> list[list[str]]:
    """The national highlights, then each kommune's findings (kommuner in name order): the reports' sentences."""
    findings = ctx.findings
    rows = [[f.geography_name, f.sentence] for f in fnd.highlights(findings.get(NATIONAL_CODE, []))]
    kommuner = sorted((code for code in findings if code != NATIONAL_CODE and findings[code]),
                      key=lambda code: danish_key(findings[code][0].geography_name))
    for code in kommuner:
        rows += [[f.geography_name, f.sentence] for f in findings[code]]
    return rows or [["", "Ingen fund i år."]]


def table_release_ids(tables: dict[str, pd.DataFrame] | None) -> dict[str, str]:
    """The release id of each published table that carries one."""
    return {name: str(df["release_id"].iloc[0]) for name, df in (tables or {}).items()
            if df is not None and "release_id" in df.columns and len(df)}


def workbook_tables(tables: dict[str, pd.DataFrame], normalised: dict[str, pd.DataFrame] | None = None
                    ) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Normalised tables plus the release id of each (when present).

    `normalised` is `normalise_tables(tables)` when the caller has it already (the page context does);
    it is not changed."""
    release_ids = table_release_ids(tables)
    if normalised is None:
        normal = normalise_tables(tables)
    else:
        normal = {name: df.copy(deep=False) for name, df in normalised.items()}
    for name, df in normal.items():
        if name in release_ids and not df.empty:
            df.insert(0, "release_id", release_ids[name])
    return normal, release_ids
