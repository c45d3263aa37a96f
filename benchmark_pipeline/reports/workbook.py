"""The published tables as one Excel workbook: named sheets, Danish headers, number formats, frozen headers.

Written with XlsxWriter (in memory, shared strings: faster here than its `constant_memory` mode; openpyxl
was too slow for ~22,000 rows). Text is always written with `write_string`, so no value can turn into a
formula or a link. The tests read the workbook back with openpyxl. The output is deterministic: a fixed
document date, and XlsxWriter's fixed zip timestamps.

Values are written as published (unrounded; Excel's number format does the display rounding). A
suppressed row's values are empty in the tables and stay empty cells here; nothing is derived.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from benchmark_pipeline.reference import Kommuner
from benchmark_pipeline.release.files import atomic_write

from .formatting import is_missing
from .model import Labels, geography_names, normalise_tables

PCT = "0.0%"
PP = "0.0"
SCORE = "0.0"
INT = "0"
P = "0.0000"

# sheet name, table, [(column, Danish header, number format, explanation)]
SHEETS: list[tuple[str, str, list[tuple[str, str, str | None, str]]]] = [
    ("Indikatorer", "indicator_values", [
        ("release_id", "Udgivelse", None, "Id for den udgivelse (release), tallene kommer fra."),
        ("survey_year", "År", INT, "Undersøgelsesår."),
        ("geography_level", "Niveau", None, "national, region, kommunegruppe eller kommune."),
        ("geography_code", "Geografikode", None, "DK, regionskode (1081-1085), kommunegruppe (1-5) eller kommunekode."),
        ("geography_name", "Geografi", None, "Navnet på landet, regionen, kommunegruppen eller kommunen."),
        ("indicator_id", "Indikator-id", None, "Stabil id: <spørgsmål>.<svarmulighed>[.top3|.first]."),
        ("question_id", "Spørgsmål-id", None, "Stabil id for spørgsmålet."),
        ("option_id", "Svarmulighed-id", None, "Stabil id for svarmuligheden."),
        ("option_label", "Svarmulighed", None, "Svarmulighedens tekst i dette års spørgeskema."),
        ("measure", "Mål", None, "share: andel; top3: andel der har barrieren i top 3; first: andel der har den som nr. 1."),
        ("n", "Besvarelser (n)", INT, "Antal respondenter, der har besvaret spørgsmålet."),
        ("count", "Antal valgt", INT, "Antal, der har valgt svarmuligheden. Kun for land, region og kommunegruppe."),
        ("share", "Andel", PCT, "Andel af besvarelserne (vist som procent)."),
        ("ci_low", "Nedre grænse (95 %)", PCT, "Nedre grænse af 95 %-konfidensintervallet (Wilson)."),
        ("ci_high", "Øvre grænse (95 %)", PCT, "Øvre grænse af 95 %-konfidensintervallet (Wilson)."),
        ("suppressed", "Diskretioneret", None, "SAND, når tallet ikke offentliggøres."),
        ("suppression_reason", "Årsag", None, "confidential: fortroligt (færre end minimum besvarelser, eller skjult "
                                             "så andre tal ikke kan regnes ud); no_respondents: ingen besvarelser."),
    ]),
    ("Barrierer", "barrier_scores", [
        ("release_id", "Udgivelse", None, "Id for udgivelsen."),
        ("survey_year", "År", INT, "Undersøgelsesår."),
        ("geography_level", "Niveau", None, "national, region, kommunegruppe eller kommune."),
        ("geography_code", "Geografikode", None, "Kode for geografien."),
        ("geography_name", "Geografi", None, "Navn på geografien."),
        ("barrier_id", "Barriere-id", None, "Stabil id for barrieren."),
        ("option_label", "Barriere", None, "Barrierens tekst i dette års spørgeskema."),
        ("n", "Besvarelser (n)", INT, "Antal respondenter, der har rangeret mindst én barriere."),
        ("score", "Vægtet score", SCORE, "Gennemsnitlige point (3 for nr. 1, 2 for nr. 2, 1 for nr. 3) skaleret til 0-100."),
        ("score_ci_low", "Score, nedre grænse", SCORE, "Nedre grænse af 95 %-intervallet for scoren."),
        ("score_ci_high", "Score, øvre grænse", SCORE, "Øvre grænse af 95 %-intervallet for scoren."),
        ("top3_share", "Andel i top 3", PCT, "Andel, der har barrieren blandt deres tre væsentligste."),
        ("first_share", "Andel som nr. 1", PCT, "Andel, der har barrieren som den væsentligste."),
        ("suppressed", "Diskretioneret", None, "SAND, når tallet ikke offentliggøres."),
        ("suppression_reason", "Årsag", None, "Se arket Indikatorer."),
    ]),
    ("Ændringer", "yoy_changes", [
        ("release_id", "Udgivelse", None, "Id for udgivelsen."),
        ("survey_year", "År", INT, "Undersøgelsesår."),
        ("base_year", "Sammenlignet med", INT, "Året, der sammenlignes med."),
        ("geography_level", "Niveau", None, "national, region, kommunegruppe eller kommune."),
        ("geography_code", "Geografikode", None, "Kode for geografien."),
        ("geography_name", "Geografi", None, "Navn på geografien."),
        ("indicator_id", "Indikator-id", None, "Stabil id for indikatoren."),
        ("share", "Andel i år", PCT, "Andelen i undersøgelsesåret."),
        ("share_base", "Andel sidste år", PCT, "Andelen i sammenligningsåret."),
        ("diff_pp", "Ændring (procentpoint)", PP, "Forskellen i procentpoint."),
        ("diff_ci_low_pp", "Ændring, nedre grænse", PP, "Nedre grænse af 95 %-intervallet (Newcombe)."),
        ("diff_ci_high_pp", "Ændring, øvre grænse", PP, "Øvre grænse af 95 %-intervallet (Newcombe)."),
        ("p_value", "p-værdi", P, "Tosidet scoretest for ens andele."),
        ("q_value", "q-værdi", P, "p-værdi justeret for mange test (Benjamini-Hochberg)."),
        ("significant", "Signifikant", None, "SAND, når q-værdien er under 0,05."),
        ("relative_growth", "Relativ vækst", PCT, "(andel i år - andel sidste år) / andel sidste år."),
    ]),
    ("Kommuner", "kommune_benchmarks", [
        ("release_id", "Udgivelse", None, "Id for udgivelsen."),
        ("survey_year", "År", INT, "Undersøgelsesår."),
        ("kommune_kode", "Kommunekode", None, "Kommunens kode."),
        ("geography_name", "Kommune", None, "Kommunens officielle navn."),
        ("indicator_id", "Indikator-id", None, "Stabil id for indikatoren."),
        ("n", "Besvarelser (n)", INT, "Antal respondenter i kommunen, der har besvaret spørgsmålet."),
        ("share", "Andel", PCT, "Kommunens andel."),
        ("share_shrunk", "Udjævnet andel", PCT, "Andel trukket mod kommunegruppens niveau (empirisk Bayes)."),
        ("national_share", "Landsgennemsnit", PCT, "Andelen for hele landet."),
        ("region_share", "Regionen", PCT, "Andelen i kommunens region."),
        ("group_share", "Kommunegruppen", PCT, "Andelen i kommunens kommunegruppe."),
        ("diff_national_pp", "Forskel til landet (pp)", PP, "Kommunens andel minus landsgennemsnittet, i procentpoint."),
        ("diff_region_pp", "Forskel til regionen (pp)", PP, "Kommunens andel minus regionens, i procentpoint."),
        ("diff_group_pp", "Forskel til kommunegruppen (pp)", PP, "Kommunens andel minus kommunegruppens."),
        ("percentile", "Percentil", INT, "Placering af den udjævnede andel blandt kommuner med offentliggjorte tal (0-100)."),
        ("suppressed", "Diskretioneret", None, "SAND, når tallet ikke offentliggøres."),
        ("suppression_reason", "Årsag", None, "Se arket Indikatorer."),
    ]),
    ("Årsoversigt", "year_summary", [
        ("release_id", "Udgivelse", None, "Id for udgivelsen."),
        ("survey_year", "År", INT, "Undersøgelsesår."),
        ("respondents", "Respondenter", INT, "Gyldige besvarelser."),
        ("responding_kommuner", "Kommuner med svar", INT, "Antal kommuner med mindst én gyldig besvarelse."),
        ("non_responses", "Tomme besvarelser", INT, "Rækker uden svar på noget indholdsspørgsmål."),
        ("quarantined_rows", "Frasorterede rækker", INT, "Rækker sat i karantæne ved valideringen."),
        ("respondents_change", "Ændring, respondenter", INT, "Ændring fra året før."),
        ("responding_kommuner_change", "Ændring, kommuner", INT, "Ændring fra året før."),
        ("non_responses_change", "Ændring, tomme", INT, "Ændring fra året før."),
        ("quarantined_rows_change", "Ændring, frasorterede", INT, "Ændring fra året før."),
    ]),
    ("Karantæne", "quarantine_summary", [
        ("release_id", "Udgivelse", None, "Id for udgivelsen."),
        ("survey_year", "År", INT, "Undersøgelsesår."),
        ("rule", "Regel", None, "Valideringsreglen (fx unknown_kommune, invalid_value)."),
        ("column", "Kolonne", None, "Spørgsmålet eller kolonnen, reglen gjaldt."),
        ("rows", "Rækker", INT, "Antal frasorterede rækker (kun antal, ingen værdier)."),
    ]),
]

def _cell_value(value: object) -> object:
    if is_missing(value):
        return None
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


def _enrich(name: str, df: pd.DataFrame, labels: Labels, names: dict) -> pd.DataFrame:
    if df.empty:
        return df
    df = df.copy()
    if "geography_level" in df.columns:
        df["geography_name"] = [names.get((lvl, str(code)), "") for lvl, code in
                                zip(df["geography_level"], df["geography_code"])]
    elif "kommune_kode" in df.columns:
        df["geography_name"] = [names.get(("kommune", str(k)), "") for k in df["kommune_kode"]]
    if name == "indicator_values":
        df["option_label"] = [labels.option(q, o) for q, o in zip(df["question_id"], df["option_id"])]
    elif name == "barrier_scores":
        df["option_label"] = [labels.option("barriers", b) for b in df["barrier_id"]]
    return df


# Cell formats (XlsxWriter format properties), by the names SHEETS uses.
FORMATS = {
    "header": {"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F5A96", "pattern": 1, "valign": "top",
               "text_wrap": True},
    PCT: {"num_format": "0.0%"},
    PP: {"num_format": "0.0"},  # also SCORE
    INT: {"num_format": "0"},
    P: {"num_format": "0.0000"},
    "title": {"bold": True, "font_size": 14},
    "bold": {"bold": True},
    "wrap": {"text_wrap": True, "valign": "top"},
}
# Fixed document dates keep the file byte-for-byte reproducible (XlsxWriter fixes the zip timestamps).
DOCUMENT_DATE = dt.datetime(2000, 1, 1)


class _ExactNumbers(Worksheet):
    """XlsxWriter writes numbers with 16 significant digits; published values are written unrounded, so
    every float is written with Python's shortest round-trip repr (17 digits where needed)."""

    def _xml_number_element(self, number, attributes=[]) -> None:  # noqa: B006 - XlsxWriter's signature
        # attributes are XlsxWriter's own: the cell reference and the style index (nothing to escape)
        attr = "".join([f' {key}="{value}"' for key, value in attributes])
        self.fh.write(f"<c{attr}><v>{number!r}</v></c>")


def _column(series: pd.Series, fmt: str | None) -> tuple[str, list]:
    """One column's kind ("number", "bool", "string" for text only, or "text" for mixed) and values; numbers stay unrounded, missing values
    (None, NaN, infinities) are None and stay empty cells."""
    if fmt is not None:
        numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        finite = np.isfinite(numbers)
        out = np.array(numbers.tolist(), dtype=object)  # Python floats
        if fmt == INT:
            whole = finite & (numbers == np.floor(np.where(finite, numbers, 0)))
            if whole.any():
                ints = np.empty(int(whole.sum()), dtype=object)
                ints[:] = [int(v) for v in numbers[whole].tolist()]  # Python ints, any size
                out[whole] = ints
        out[~finite] = None
        return "number", out.tolist()
    obj = series.astype(object)
    values = obj.where(series.notna(), None).tolist()
    if values and all(v is None or isinstance(v, bool) or type(v).__name__ == "bool_" for v in values):
        return "bool", [None if v is None else bool(v) for v in values]
    out = []
    strings = True
    for v in values:
        if v is None:
            out.append(v)
        elif type(v) is str:
            out.append(v)
        elif isinstance(v, bool):
            out.append(v)
            strings = False
        elif isinstance(v, (int, float)):
            out.append(None if isinstance(v, float) and not math.isfinite(v) else v)
            strings = False
        else:
            out.append(str(v))
    return ("string" if strings else "text"), out


def _write_row(ws, r: int, values: list, fmts: list) -> None:
    for c, (value, fmt) in enumerate(zip(values, fmts)):
        if value is None:
            if fmt is not None:
                ws.write_blank(r, c, None, fmt)
            continue
        if isinstance(value, bool):
            ws.write_boolean(r, c, value, fmt)
        elif isinstance(value, (int, float)):
            ws.write_number(r, c, value, fmt)
        else:
            ws.write_string(r, c, value, fmt)  # never a formula or a link, whatever the text looks like


def write_workbook(path: Path, survey_year: int, tables: dict[str, pd.DataFrame], release_ids: dict[str, str],
                   labels: Labels, kommuner: Kommuner) -> Path:
    """Write the workbook; `release_ids` maps table name to its release id (kept as first column)."""
    return atomic_write(Path(path), lambda tmp: _write_workbook_file(tmp, survey_year, tables, release_ids,
                                                                     labels, kommuner))


def _write_workbook_file(tmp: Path, survey_year: int, tables: dict[str, pd.DataFrame], release_ids: dict[str, str],
                         labels: Labels, kommuner: Kommuner) -> None:
    names = geography_names(kommuner)
    wb = xlsxwriter.Workbook(str(tmp), {"constant_memory": False, "in_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "strings_to_numbers": False,
                                        "nan_inf_to_errors": False})
    try:
        wb.set_properties({"created": DOCUMENT_DATE})
        fmt = {name: wb.add_format(props) for name, props in FORMATS.items()}

        about_rows: list[tuple[list, list]] = []

        def about(values: list, style: str | list | None = None) -> None:
            styles = style if isinstance(style, list) else [style] * len(values)
            about_rows.append((values, [fmt[st] if st else None for st in styles]))

        about([f"Kommunernes brug af borgerrelaterede data {survey_year}: offentliggjorte tabeller"], "title")
        for line in (
            "Tallene er ikke afrundede; Excel viser dem afrundet efter cellens talformat.",
            "Andele er brøker mellem 0 og 1 og vises som procent. Ændringer er i procentpoint.",
            "Tal, der hviler på færre end 5 besvarelser, offentliggøres ikke (diskretionering); de står tomme. "
            "Antal valgte vises ikke for enkelte kommuner.",
        ):
            about([line])
        for ch in labels.changes:
            about([f"Note: {ch['text']}"])
        about([])
        about(["Ark", "Kolonne", "Forklaring"], "bold")
        for sheet, _table, cols in SHEETS:
            for _col, head, _fmt, expl in cols:
                about([sheet, head, expl], [None, None, "wrap"])

        ws = wb.add_worksheet("Om tallene", worksheet_class=_ExactNumbers)
        for c, width in enumerate((22, 30, 100)):
            ws.set_column(c, c, width)
        for r, (values, fmts) in enumerate(about_rows):
            _write_row(ws, r, values, fmts)

        for sheet, table, cols in SHEETS:
            df = _enrich(table, tables.get(table, pd.DataFrame()), labels, names)
            if "release_id" not in df.columns and release_ids.get(table) and not df.empty:
                df.insert(0, "release_id", release_ids[table])
            present = [c for c in cols if c[0] in df.columns] if not df.empty else cols
            ws = wb.add_worksheet(sheet, worksheet_class=_ExactNumbers)
            for c, (col, head, _fmt, _e) in enumerate(present):
                width = max(len(head) + 3, 10)
                if col in ("geography_name", "option_label"):
                    width = 34
                elif col in ("indicator_id", "release_id"):
                    width = 28
                ws.set_column(c, c, width)
            ws.freeze_panes(1, 0)
            _write_row(ws, 0, [head for _c, head, _f, _e in present], [fmt["header"]] * len(present))
            n_rows = 1
            if not df.empty:
                columns = [_column(df[col], f) for col, _h, f, _e in present]
                cell_fmts = [fmt[f] if f is not None else None for _c, _h, f, _e in present]
                # One writer per column where every value has one kind; a mixed column picks per value.
                writers = {"number": ws.write_number, "bool": ws.write_boolean, "string": ws.write_string}
                column_writers = [(c, writers.get(kind), values, cf)
                                  for c, ((kind, values), cf) in enumerate(zip(columns, cell_fmts))]
                for r in range(len(df)):
                    for c, write, values, cf in column_writers:
                        value = values[r]
                        if value is None:
                            continue
                        if write is not None:
                            write(r + 1, c, value, cf)
                        elif isinstance(value, str):
                            ws.write_string(r + 1, c, value, cf)  # never a formula or a link
                        elif isinstance(value, bool):
                            ws.write_boolean(r + 1, c, value, cf)
                        else:
                            ws.write_number(r + 1, c, value, cf)
                n_rows += len(df)
            if present:
                ws.autofilter(0, 0, n_rows - 1, len(present) - 1)
    finally:
        wb.close()


def workbook_tables(tables: dict[str, pd.DataFrame], normalised: dict[str, pd.DataFrame] | None = None
                    ) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Normalised tables plus the release id of each (when present), for `write_workbook`.

    `normalised` is `normalise_tables(tables)` when the caller has it already (the page context does);
    it is not changed."""
    release_ids = {}
    for name, df in (tables or {}).items():
        if df is not None and "release_id" in df.columns and len(df):
            release_ids[name] = str(df["release_id"].iloc[0])
    if normalised is None:
        normal = normalise_tables(tables)
    else:
        normal = {name: df.copy(deep=False) for name, df in normalised.items()}
    for name, df in normal.items():
        if name in release_ids and not df.empty:
            df.insert(0, "release_id", release_ids[name])
    return normal, release_ids
