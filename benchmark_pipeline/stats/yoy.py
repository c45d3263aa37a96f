"""Changes of every share indicator: against the previous survey year, and against the series' first year.

Both comparisons use the same statistics on two published values of one series (an indicator at one
geography): the difference in points with a Newcombe interval, a score test, and Benjamini-Hochberg
q-values within families of tests. Only published values go in, so nothing here rests on a suppressed cell.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

from benchmark_pipeline.stats.indicators import empty_frame
from benchmark_pipeline.stats.tables import (
    COMPARISON_FIRST_YEAR,
    COMPARISON_PREVIOUS_YEAR,
    CONFIDENCE,
    SIGNIFICANCE_LEVEL,
    YOY_COLUMNS,
    as_bool,
    single_year,
)

SERIES_KEYS = ["geography_level", "geography_code", "indicator_id"]
# A family of tests: one question (a barrier's top-3 and first-place shares are two) at one geography level,
# in one survey year and one comparison. Correcting over all of a year's tests at once left no power.
QUESTION_FAMILY = ["geography_level", "question_id", "measure"]
YOY_FAMILY = ["survey_year", "comparison", *QUESTION_FAMILY]
FIRST_YEAR_MIN_GAP = 2  # one year after the first, the first year is the previous year


def series_rows(indicator_values: pd.DataFrame) -> pd.DataFrame:
    """Every row of `indicator_values` (one or more survey years) as a series point: keys as text, whether
    it is published, and the count and n the tests use. Counts are not published at kommune level, so they
    are recovered there as round(share × n), which the published share and n give anyone."""
    rows = pd.DataFrame({
        "survey_year": indicator_values["survey_year"].astype("int64").to_numpy(),
        **{key: indicator_values[key].astype("str").to_numpy(dtype=object)
           for key in [*SERIES_KEYS, "question_id", "measure"]},
        "published": ~as_bool(indicator_values["suppressed"]),
    })
    n = pd.to_numeric(indicator_values["n"]).astype("Float64")
    share = pd.to_numeric(indicator_values["share"]).astype("Float64")
    count = pd.to_numeric(indicator_values["count"]).astype("Float64").fillna((share * n).round())
    rows["share"] = share.to_numpy(dtype=float, na_value=np.nan)
    rows["n"] = n.to_numpy(dtype=float, na_value=np.nan)
    rows["count"] = count.to_numpy(dtype=float, na_value=np.nan)
    return rows


def earlier_series_rows(earlier_indicator_values: pd.DataFrame, survey_year: int) -> pd.DataFrame:
    """`series_rows` of the survey years before `survey_year`, each of which must come from one release."""
    earlier = series_rows(earlier_indicator_values)
    earlier = earlier[earlier["survey_year"] < survey_year]
    if earlier.duplicated([*SERIES_KEYS, "survey_year"]).any():
        raise ValueError("earlier indicator_values must hold one release per survey year")
    return earlier


def q_values_within_families(frame: pd.DataFrame, p_values: np.ndarray, family: list[str]) -> np.ndarray:
    """Benjamini-Hochberg q-values (statsmodels `fdr_bh`) computed separately within each family."""
    q = np.full(len(frame), np.nan)
    for positions in frame.groupby(family, sort=False).indices.values():
        q[positions] = multipletests(p_values[positions], alpha=SIGNIFICANCE_LEVEL, method="fdr_bh")[1]
    return q


def newcombe_diff(count1, n1, count0, n0, confidence: float = CONFIDENCE):
    """Newcombe hybrid-score interval for p1 − p0 (statsmodels)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = confint_proportions_2indep(
            np.asarray(count1, float), np.asarray(n1, float), np.asarray(count0, float), np.asarray(n0, float),
            method="newcomb", compare="diff", alpha=1 - confidence,
        )
    return np.asarray(low, float), np.asarray(high, float)


def score_test_p(count1, n1, count0, n0) -> np.ndarray:
    """Two-sided score test of equal proportions (statsmodels); p = 1 when both shares are 0 or both 1."""
    count1, n1, count0, n0 = (np.asarray(x, float) for x in (count1, n1, count0, n0))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        res = test_proportions_2indep(count1, n1, count0, n0, method="score", compare="diff",
                                      alternative="two-sided")
    p = np.atleast_1d(np.asarray(res.pvalue, float)).copy()
    both_zero = (count1 == 0) & (count0 == 0)
    both_one = (count1 == n1) & (count0 == n0)
    p[both_zero | both_one] = 1.0
    return p


def _bases(earlier: pd.DataFrame, survey_year: int) -> pd.DataFrame:
    """The published base value of each series and comparison (`earlier`: series rows before the survey year):
    the previous survey year's, and, from the series' first year + 2 on, its first year's (the first survey
    year whose release holds the series)."""
    first_year = earlier.groupby(SERIES_KEYS, sort=False)["survey_year"].transform("min")
    previous = earlier[(earlier["survey_year"] == survey_year - 1) & earlier["published"]]
    first = earlier[(earlier["survey_year"] == first_year) & earlier["published"]
                    & (earlier["survey_year"] <= survey_year - FIRST_YEAR_MIN_GAP)]
    return pd.concat([previous.assign(comparison=COMPARISON_PREVIOUS_YEAR),
                      first.assign(comparison=COMPARISON_FIRST_YEAR)], ignore_index=True)


def compute_yoy(indicator_values: pd.DataFrame, earlier_indicator_values: pd.DataFrame | None) -> pd.DataFrame:
    """`yoy_changes`: this year against the previous survey year and against the series' first year.

    `earlier_indicator_values` holds the published `indicator_values` of earlier survey years (each year's
    latest release; one year is enough for the previous-year comparison). A row needs the value published
    in both years compared.
    """
    if earlier_indicator_values is None or len(earlier_indicator_values) == 0 or len(indicator_values) == 0:
        return empty_frame(YOY_COLUMNS)
    year = single_year(indicator_values)
    current = series_rows(indicator_values)
    current = current[current["published"]]
    bases = _bases(earlier_series_rows(earlier_indicator_values, year), year)
    both = current.merge(
        bases[[*SERIES_KEYS, "comparison", "survey_year", "share", "n", "count"]],
        on=SERIES_KEYS, suffixes=("", "_base"), how="inner", validate="one_to_many",
    )
    if both.empty:
        return empty_frame(YOY_COLUMNS)
    c1, n1 = both["count"].to_numpy(), both["n"].to_numpy()
    c0, n0 = both["count_base"].to_numpy(), both["n_base"].to_numpy()
    share = both["share"].to_numpy(dtype=float)
    share_base = both["share_base"].to_numpy(dtype=float)
    low, high = newcombe_diff(c1, n1, c0, n0)
    p = score_test_p(c1, n1, c0, n0)
    if np.isnan(p).any():
        raise ValueError("score test returned no p-value for some indicators")
    q = q_values_within_families(both, p, YOY_FAMILY)
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.where(share_base != 0, (share - share_base) / share_base, np.nan)
    out = pd.DataFrame(
        {
            "survey_year": both["survey_year"].to_numpy(dtype=np.int64),
            "comparison": pd.array(both["comparison"], dtype="str"),
            "base_year": both["survey_year_base"].to_numpy(dtype=np.int64),
            "geography_level": pd.array(both["geography_level"], dtype="str"),
            "geography_code": pd.array(both["geography_code"], dtype="str"),
            "indicator_id": pd.array(both["indicator_id"], dtype="str"),
            "share": share,
            "share_base": share_base,
            "diff_pp": (share - share_base) * 100,
            "diff_ci_low_pp": low * 100,
            "diff_ci_high_pp": high * 100,
            "p_value": p,
            "q_value": q,
            "significant": q < SIGNIFICANCE_LEVEL,
            "relative_growth": growth,
        }
    )
    return out[YOY_COLUMNS].reset_index(drop=True)
