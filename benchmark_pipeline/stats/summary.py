"""The per-year summary: respondents, responding kommuner, non-responses, quarantined rows."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from benchmark_pipeline.stats.tables import YEAR_SUMMARY_COLUMNS

_MEASURES = ("respondents", "responding_kommuner", "non_responses", "quarantined_rows")


def compute_year_summary(
    survey_year: int,
    counts: Mapping[str, int],
    validated: pd.DataFrame,
    previous_summary: pd.DataFrame | None,
) -> pd.DataFrame:
    """One row for `survey_year`; changes against the latest earlier year in `previous_summary`.

    respondents = valid (validated) rows; responding_kommuner = distinct kommuner among them;
    non_responses = `counts["rows_empty"]`; quarantined_rows = `counts["rows_quarantined"]`.
    """
    respondents = len(validated)
    if "rows_valid" in counts and int(counts["rows_valid"]) != respondents:
        raise ValueError(
            f"counts say rows_valid={counts['rows_valid']} but the validated frame holds {respondents} rows"
        )
    for key in ("rows_empty", "rows_quarantined"):
        if key not in counts:
            raise ValueError(f"counts lacks {key!r}")
    kommune = validated["kommune"] if "kommune" in validated.columns else pd.Series([], dtype="str")
    values = {
        "respondents": respondents,
        "responding_kommuner": int(kommune.dropna().nunique()),
        "non_responses": int(counts["rows_empty"]),
        "quarantined_rows": int(counts["rows_quarantined"]),
    }
    previous = None
    if previous_summary is not None and len(previous_summary):
        earlier = previous_summary[previous_summary["survey_year"].astype(int) < int(survey_year)]
        if len(earlier):
            previous = earlier.sort_values("survey_year").iloc[-1]
    row = {"survey_year": [int(survey_year)]}
    for m in _MEASURES:
        row[m] = pd.array([values[m]], dtype="Int64")
    for m in _MEASURES:
        if previous is None or pd.isna(previous[m]):
            change = pd.NA
        else:
            change = values[m] - int(previous[m])
        row[f"{m}_change"] = pd.array([change], dtype="Int64")
    out = pd.DataFrame(row)
    out["survey_year"] = out["survey_year"].astype("int64")
    return out[YEAR_SUMMARY_COLUMNS]
