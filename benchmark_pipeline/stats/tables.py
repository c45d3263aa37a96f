"""Column layouts of the statistics tables (docs/architecture.md, "Statistics tables") and shared names."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark_pipeline.settings import MIN_RESPONDENTS_FLOOR

LEVELS = ("national", "region", "kommunegruppe", "kommune")
AGGREGATE_LEVELS = ("national", "region", "kommunegruppe")  # the levels that publish counts

REASON_NO_RESPONDENTS = "no_respondents"
REASON_BELOW_MINIMUM = "below_minimum"
REASON_COMPLEMENTARY = "complementary"
REASON_DISCLOSURE_AUDIT = "disclosure_audit"  # suppressed so that the exact audit finds nothing to solve for
REASON_EARLIER_REVISION = "earlier_revision"  # withheld by an earlier revision of the year, so still withheld
REASON_CONFIDENTIAL = "confidential"  # what a release shows for every suppression but no_respondents
# The reasons a release may show; which rule suppressed a cell stays in the private trail.
SUPPRESSION_REASONS = (REASON_NO_RESPONDENTS, REASON_CONFIDENTIAL)
# Reasons the row rules accept: releases of the first version showed the rule's name. What a label tells an
# attacker is the exact audit's to judge (stats/attack.py reads every one of them).
ROW_RULE_REASONS = (*SUPPRESSION_REASONS, REASON_BELOW_MINIMUM, REASON_COMPLEMENTARY)

MEASURES = ("share", "top3", "first")
CONFIDENCE = 0.95

INDICATOR_VALUES_COLUMNS = [
    "survey_year", "geography_level", "geography_code", "indicator_id", "question_id", "option_id",
    "measure", "n", "count", "share", "ci_low", "ci_high", "suppressed", "suppression_reason",
]
INDICATOR_VALUE_FIELDS = ["n", "count", "share", "ci_low", "ci_high"]

BARRIER_SCORES_COLUMNS = [
    "survey_year", "geography_level", "geography_code", "barrier_id", "n", "score", "score_ci_low",
    "score_ci_high", "top3_share", "first_share", "suppressed", "suppression_reason",
]
BARRIER_VALUE_FIELDS = ["n", "score", "score_ci_low", "score_ci_high", "top3_share", "first_share"]

SIGNIFICANCE_LEVEL = 0.05  # a change or trend is significant when its Benjamini-Hochberg q-value is below this

# What a `yoy_changes` row compares this year with: the previous survey year, or the series' first year.
COMPARISON_PREVIOUS_YEAR = "previous_year"
COMPARISON_FIRST_YEAR = "first_year"
COMPARISONS = (COMPARISON_PREVIOUS_YEAR, COMPARISON_FIRST_YEAR)

YOY_COLUMNS = [
    "survey_year", "comparison", "base_year", "geography_level", "geography_code", "indicator_id", "share",
    "share_base", "diff_pp", "diff_ci_low_pp", "diff_ci_high_pp", "p_value", "q_value", "significant",
    "relative_growth",
]
YOY_VALUE_FIELDS = YOY_COLUMNS[6:]

TRENDS_COLUMNS = [
    "survey_year", "geography_level", "geography_code", "indicator_id", "first_year", "years", "share_first",
    "share", "slope_pp_per_year", "slope_ci_low_pp", "slope_ci_high_pp", "p_value", "q_value", "significant",
]
TREND_VALUE_FIELDS = TRENDS_COLUMNS[6:]

KOMMUNE_BENCHMARKS_COLUMNS = [
    "survey_year", "kommune_kode", "indicator_id", "n", "share", "share_shrunk", "national_share",
    "region_share", "group_share", "diff_national_pp", "diff_region_pp", "diff_group_pp", "percentile",
    "percentile_of", "national_min", "national_median", "national_max", "national_published", "group_min",
    "group_median", "group_max", "group_published", "suppressed", "suppression_reason",
]
# Everything but the keys and the suppression flag and reason: empty on a suppressed row.
BENCHMARK_VALUE_FIELDS = KOMMUNE_BENCHMARKS_COLUMNS[3:-2]

# Private (never published): which rule suppressed each cell, with its true n.
SUPPRESSION_TRAIL_COLUMNS = [
    "survey_year", "question_id", "geography_level", "geography_code", "n", "rule", "audit_rounds",
]

YEAR_SUMMARY_COLUMNS = [
    "survey_year", "respondents", "responding_kommuner", "non_responses", "quarantined_rows",
    "respondents_change", "responding_kommuner_change", "non_responses_change", "quarantined_rows_change",
]


def check_min_respondents(min_respondents: int) -> int:
    """The disclosure minimum; configurable upwards, never below the floor of 5."""
    if isinstance(min_respondents, bool) or int(min_respondents) != min_respondents:
        raise ValueError(f"min_respondents must be a whole number, not {min_respondents!r}")
    if min_respondents < MIN_RESPONDENTS_FLOOR:
        raise ValueError(
            f"min_respondents is {min_respondents}; disclosure control never allows fewer than "
            f"{MIN_RESPONDENTS_FLOOR}"
        )
    return int(min_respondents)


def single_year(table) -> int:
    """The one survey year a year's table holds."""
    years = table["survey_year"].unique()
    if len(years) != 1:
        raise ValueError(f"the table must hold one survey year, found {sorted(years)}")
    return int(years[0])


def as_bool(values) -> np.ndarray:
    """A `suppressed`-style column as a numpy bool array, also when it was read back as text ("True")."""

    series = pd.Series(values)
    if series.dtype == bool:
        return series.to_numpy()
    if pd.api.types.is_numeric_dtype(series.dtype) or str(series.dtype) == "boolean":
        return series.fillna(True).astype(bool).to_numpy()  # a missing flag is treated as suppressed
    text = series.astype("str").str.strip().str.casefold()
    truthy = text.isin(["true", "1", "t", "yes"]).to_numpy()
    missing = series.isna().to_numpy()
    return np.asarray(truthy | missing, dtype=bool)
