"""Asset metadata the UI shows: schemas, row counts and previews of publishable tables only.

Keys analysts read (stable: Dagster plots a numeric key across partitions on the asset's Plots tab, so a
renamed key starts a new plot):

- `indicators`: `national/<indicator_id>` (float, percent with one decimal) for the headline indicators,
  `respondents` and `kommuner_published` (int).
- `year_over_year_growth`: `largest_changes` (Markdown), `significant_national_changes/<comparison>` (int,
  `previous_year` and `first_year`), `significant_national_trends` (Markdown).
- `published_release`: `rows/<table>` (int), `national_report` and `kommune_index` (paths).

Only published values appear: suppressed cells and respondent-level rows never do.
"""

from __future__ import annotations

import pandas as pd
from dagster import MetadataValue, TableColumn, TableSchema

from benchmark_pipeline.findings import HEADLINE_INDICATORS, Words
from benchmark_pipeline.instrument import YearInstrument
from benchmark_pipeline.reports.formatting import fmt_p, fmt_pp, fmt_pp_interval, round_half_up

PREVIEW_ROWS = 20
LARGEST_CHANGES = 15
COMPARISONS = {"previous_year": "sidste år", "first_year": "første år"}


def table_schema(frame: pd.DataFrame) -> TableSchema:
    return TableSchema(columns=[TableColumn(name=str(c), type=str(t)) for c, t in frame.dtypes.items()])


def schema_and_rows(frame: pd.DataFrame) -> dict:
    """Schema and row count: all the UI may show of a respondent-level frame."""
    return {"dagster/column_schema": table_schema(frame), "dagster/row_count": len(frame)}


def table_preview(frame: pd.DataFrame, rows: int = PREVIEW_ROWS) -> MetadataValue:
    """A markdown preview; call it only for published (disclosure-controlled) tables."""
    return MetadataValue.md(frame.head(rows).to_markdown(index=False) if len(frame) else "_(no rows)_")


def _published(frame: pd.DataFrame, level: str) -> pd.DataFrame:
    """Rows of one geography level that carry a published value (not suppressed, a share present)."""
    shown = frame["geography_level"].eq(level) & frame["share"].notna()
    if "suppressed" in frame:
        shown &= ~frame["suppressed"].fillna(True).astype(bool)
    return frame[shown]


def headline_metadata(indicator_values: pd.DataFrame, respondents: int) -> dict:
    """The headline shares as numbers, so the UI plots them year by year (a suppressed value is left out)."""
    national = _published(indicator_values, "national").set_index("indicator_id")["share"]
    out = {
        f"national/{indicator}": MetadataValue.float(float(round_half_up(national[indicator], 1, scale=100)))
        for indicator in HEADLINE_INDICATORS
        if indicator in national.index
    }
    kommuner = _published(indicator_values, "kommune")["geography_code"].nunique()
    out["respondents"] = MetadataValue.int(int(respondents))
    out["kommuner_published"] = MetadataValue.int(int(kommuner))
    return out


def _label(words: Words, indicator_id: str) -> str:
    question, option = (str(indicator_id).split(".") + [""])[:2]
    return f"{words.label(question, option)} ({indicator_id})"


def _intervals(frame: pd.DataFrame, low: str, high: str) -> list[str]:
    return [fmt_pp_interval(lo, hi) for lo, hi in zip(frame[low], frame[high])]


def _significant(frame: pd.DataFrame) -> pd.Series:
    return frame["significant"].fillna(False).astype(bool)


def growth_metadata(
    survey_year: int, yoy: pd.DataFrame, trends: pd.DataFrame, instrument: YearInstrument, first_year: bool
) -> dict:
    """The national changes an analyst looks for first: the largest, significant or not, with their verdict
    (never an empty preview), the significant counts per comparison, and the significant national trends."""
    words = Words(instrument)
    national = _published(yoy, "national")
    national = national[national["diff_pp"].notna()]
    counts = {
        f"significant_national_changes/{comparison}": MetadataValue.int(
            int(_significant(national[national["comparison"].eq(comparison)]).sum())
        )
        for comparison in COMPARISONS
    }
    return {
        "largest_changes": _largest_changes(survey_year, national, words, first_year),
        **counts,
        "significant_national_trends": _significant_trends(trends, words),
    }


def _largest_changes(survey_year: int, national: pd.DataFrame, words: Words, first_year: bool) -> MetadataValue:
    """The LARGEST_CHANGES largest |diff_pp| at national level, and every significant change beyond them."""
    if not len(national):
        return MetadataValue.md(
            f"{survey_year} er det første undersøgelsesår: der er intet tidligere år at sammenligne med."
            if first_year
            else "Ingen offentliggjorte ændringer på landsplan."
        )
    ranked = (
        national.assign(_size=national["diff_pp"].abs())
        .sort_values(["_size", "comparison", "indicator_id"], ascending=[False, False, True], kind="mergesort")
        .reset_index(drop=True)
    )
    shown = ranked[(ranked.index < LARGEST_CHANGES) | _significant(ranked)]
    table = pd.DataFrame(
        {
            "indikator": [_label(words, i) for i in shown["indicator_id"]],
            "sammenligning": [f"{COMPARISONS[c]} ({int(b)})" for c, b in zip(shown["comparison"], shown["base_year"])],
            "ændring i procentpoint": [fmt_pp(v) for v in shown["diff_pp"]],
            "95 %-interval": _intervals(shown, "diff_ci_low_pp", "diff_ci_high_pp"),
            "q": [fmt_p(q) for q in shown["q_value"]],
            "vurdering": ["signifikant" if s else "ikke signifikant" for s in _significant(shown)],
        }
    )
    return MetadataValue.md(table.to_markdown(index=False))


def _significant_trends(trends: pd.DataFrame, words: Words) -> MetadataValue:
    if not len(trends):
        return MetadataValue.md("Ingen tendenser endnu: en tendens kræver mindst tre offentliggjorte år.")
    national = _published(trends, "national")
    national = national[_significant(national)]
    if not len(national):
        return MetadataValue.md("Ingen signifikante tendenser på landsplan.")
    national = national.assign(_size=national["slope_pp_per_year"].abs()).sort_values(
        ["_size", "indicator_id"], ascending=[False, True], kind="mergesort"
    )
    table = pd.DataFrame(
        {
            "indikator": [_label(words, i) for i in national["indicator_id"]],
            "år": [
                f"{int(first)}–{int(last)} ({int(n)} år)"
                for first, last, n in zip(national["first_year"], national["survey_year"], national["years"])
            ],
            "procentpoint pr. år": [fmt_pp(v) for v in national["slope_pp_per_year"]],
            "95 %-interval": _intervals(national, "slope_ci_low_pp", "slope_ci_high_pp"),
            "q": [fmt_p(q) for q in national["q_value"]],
        }
    )
    return MetadataValue.md(table.to_markdown(index=False))


def release_metadata(manifest: dict, reports_dir) -> dict:
    """Row counts of the release's tables (as its manifest records them) and where its reports are."""
    tables = manifest.get("tables", {})
    return {
        **{f"rows/{name}": MetadataValue.int(int(entry.get("rows", 0))) for name, entry in sorted(tables.items())},
        "national_report": MetadataValue.path(str(reports_dir / "national.html")),
        "kommune_index": MetadataValue.path(str(reports_dir / "kommuner" / "index.html")),
    }
