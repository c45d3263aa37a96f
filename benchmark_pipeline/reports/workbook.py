"""The published tables as one Excel workbook: named sheets, Danish headers, number formats, frozen headers.

Written with the small SpreadsheetML writer in `xlsx.py` (openpyxl was too slow for ~22,000 rows; the
tests read the workbook back with openpyxl).

Values are written as published (unrounded; Excel's number format does the display rounding). A
suppressed row's values are empty in the tables and stay empty cells here; nothing is derived.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from benchmark_pipeline.reference import Kommuner

from .formatting import is_missing
from .model import Labels, geography_names, normalise_tables
from .xlsx import Sheet, render_column, write_xlsx

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
        ("suppression_reason", "Årsag", None, "below_minimum: færre end minimum besvarelser; complementary: skjult "
                                             "for at beskytte et andet tal; no_respondents: ingen besvarelser."),
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


def _column(series: pd.Series, fmt: str | None) -> list[str | None]:
    """One column rendered for the sheet; numbers stay unrounded, missing values stay empty cells."""
    if fmt is not None:
        values = pd.to_numeric(series, errors="coerce").astype("float64").tolist()
        return render_column(values, "int" if fmt == INT else "float", fmt)
    obj = series.astype(object)
    values = obj.where(series.notna(), None).tolist()
    if values and all(v is None or isinstance(v, bool) or type(v).__name__ == "bool_" for v in values):
        return render_column(values, "bool")
    return render_column([None if v is None else v if isinstance(v, (int, float)) else str(v) for v in values], "str")


def write_workbook(path: Path, survey_year: int, tables: dict[str, pd.DataFrame], release_ids: dict[str, str],
                   labels: Labels, kommuner: Kommuner) -> Path:
    """Write the workbook; `release_ids` maps table name to its release id (kept as first column)."""
    names = geography_names(kommuner)
    about = Sheet("Om tallene", widths=[22, 30, 100])
    about.append([f"Kommunernes brug af borgerrelaterede data {survey_year}: offentliggjorte tabeller"], "title")
    for line in (
        "Tallene er ikke afrundede; Excel viser dem afrundet efter cellens talformat.",
        "Andele er brøker mellem 0 og 1 og vises som procent. Ændringer er i procentpoint.",
        "Tal, der hviler på færre end 5 besvarelser, offentliggøres ikke (diskretionering); de står tomme. "
        "Antal valgte vises ikke for enkelte kommuner.",
    ):
        about.append([line])
    for ch in labels.changes:
        about.append([f"Note: {ch['text']}"])
    about.append([])
    about.append(["Ark", "Kolonne", "Forklaring"], "bold")
    sheets = [about]
    for sheet, table, cols in SHEETS:
        for _col, head, _fmt, expl in cols:
            about.append([sheet, head, expl], [None, None, "wrap"])
        df = _enrich(table, tables.get(table, pd.DataFrame()), labels, names)
        if "release_id" not in df.columns and release_ids.get(table) and not df.empty:
            df.insert(0, "release_id", release_ids[table])
        present = [c for c in cols if c[0] in df.columns] if not df.empty else cols
        widths = []
        for col, head, _fmt, _e in present:
            width = max(len(head) + 3, 10)
            if col in ("geography_name", "option_label"):
                width = 34
            elif col in ("indicator_id", "release_id"):
                width = 28
            widths.append(width)
        ws = Sheet(sheet, widths=widths, freeze_header=True, autofilter=True)
        ws.append([head for _c, head, _f, _e in present], "header")
        if not df.empty:
            ws.extend_columns([_column(df[col], fmt) for col, _h, fmt, _e in present])
        sheets.append(ws)
    return write_xlsx(path, sheets)


def workbook_tables(tables: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Normalised tables plus the release id of each (when present), for `write_workbook`."""
    release_ids = {}
    for name, df in (tables or {}).items():
        if df is not None and "release_id" in df.columns and len(df):
            release_ids[name] = str(df["release_id"].iloc[0])
    normal = normalise_tables(tables)
    for name, df in normal.items():
        if name in release_ids and not df.empty:
            df.insert(0, "release_id", release_ids[name])
    return normal, release_ids
