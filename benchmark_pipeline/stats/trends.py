"""Trends: where a series (an indicator at one geography) has three or more published years, a binomial
GLM of its share on the survey year, with the slope in percentage points per year.

Only series published in every year they appear in, up to this year, get a trend, so a trend rests on
published values only (kommune counts recovered as round(share × n), as in `yoy`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import chi2, norm
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

from benchmark_pipeline.stats.indicators import empty_frame
from benchmark_pipeline.stats.tables import CONFIDENCE, SIGNIFICANCE_LEVEL, TRENDS_COLUMNS, single_year
from benchmark_pipeline.stats.yoy import (
    QUESTION_FAMILY,
    SERIES_KEYS,
    earlier_series_rows,
    newcombe_diff,
    q_values_within_families,
    score_test_p,
    series_rows,
)

MIN_YEARS = 3
TREND_FAMILY = ["survey_year", *QUESTION_FAMILY]


@dataclass(frozen=True)
class Trend:
    """A fitted trend, as proportions per year."""

    slope: float
    ci_low: float
    ci_high: float
    p_value: float


def separated(x: np.ndarray, counts: np.ndarray, n: np.ndarray) -> bool:
    """Whether the logit fit has no finite slope: every year with a "no" comes no later than every year
    with a "yes" (or the reverse), a share of 0 % or 100 % in every year included."""
    yes_at, no_at = x[counts > 0], x[counts < n]

    def no_later(first: np.ndarray, then: np.ndarray) -> bool:
        return len(first) == 0 or len(then) == 0 or first.max() <= then.min()

    return no_later(no_at, yes_at) or no_later(yes_at, no_at)


def fit_trend(years, counts, n, confidence: float = CONFIDENCE) -> Trend:
    """The trend of one series: a binomial GLM with logit link (statsmodels) of `counts` of `n` on the year.

    - slope: the average yearly change of the fitted share from the first to the last year,
      (p̂(last) − p̂(first)) / (last − first); near the middle of the span it is the marginal effect there.
    - interval: the delta method with the model's covariance, kept within what a share can do over the span.
    - p: likelihood-ratio test of a zero slope (χ², 1 df).
    Where the data separate (a share of 0 % or 100 % in the years before or after some year, a flat 0 % or
    100 % included) the logit slope has no finite value. The fitted shares then tend to the observed ones
    in the first and last year, so the slope is their difference per year, and its interval and p are those
    of that change: the Newcombe interval (per year) and the score test, as in `yoy`.
    """
    years = np.asarray(years, dtype=float)
    counts, n = np.asarray(counts, dtype=float), np.asarray(n, dtype=float)
    x = years - years[0]
    span = x[-1]
    if separated(x, counts, n):
        first, last = [0], [-1]
        low, high = newcombe_diff(counts[last], n[last], counts[first], n[first], confidence)
        p_value = score_test_p(counts[last], n[last], counts[first], n[first])[0]
        slope = counts[-1] / n[-1] - counts[0] / n[0]
        return Trend(float(slope / span), float(low[0] / span), float(high[0] / span), float(p_value))
    model = GLM(np.column_stack([counts, n - counts]), np.column_stack([np.ones_like(x), x]),
                family=families.Binomial())
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # statsmodels calls an exact fit (shares on a logistic curve) "perfect prediction": it is not an error
        for category in (PerfectSeparationWarning, ConvergenceWarning, RuntimeWarning):
            warnings.simplefilter("ignore", category)
        result = model.fit()
    intercept, slope_logit = result.params
    p_first, p_last = expit(intercept), expit(intercept + slope_logit * span)
    w_first, w_last = p_first * (1 - p_first), p_last * (1 - p_last)
    gradient = np.array([w_last - w_first, w_last * span]) / span
    variance = float(gradient @ np.asarray(result.cov_params()) @ gradient)
    slope = (p_last - p_first) / span
    half_width = norm.ppf(0.5 + confidence / 2) * np.sqrt(max(variance, 0.0))
    limit = 1 / span
    p_value = float(chi2.sf(max(float(result.null_deviance - result.deviance), 0.0), 1))
    if not (np.isfinite(slope) and np.isfinite(half_width) and np.isfinite(p_value)):
        raise ValueError(f"the trend model found no slope for counts {counts} of {n}")
    return Trend(float(slope), float(max(slope - half_width, -limit)), float(min(slope + half_width, limit)),
                 p_value)


def compute_trends(indicator_values: pd.DataFrame, earlier_indicator_values: pd.DataFrame | None) -> pd.DataFrame:
    """`trends`: one row per series published in this year and in every earlier year it appears in, when
    those are at least three years. `earlier_indicator_values`: the earlier years' published
    `indicator_values` (each year's latest release)."""
    if earlier_indicator_values is None or len(earlier_indicator_values) == 0 or len(indicator_values) == 0:
        return empty_frame(TRENDS_COLUMNS)
    year = single_year(indicator_values)
    rows = pd.concat([earlier_series_rows(earlier_indicator_values, year), series_rows(indicator_values)],
                     ignore_index=True)
    rows = rows.sort_values([*SERIES_KEYS, "survey_year"], kind="mergesort", ignore_index=True)
    per_series = rows.groupby(SERIES_KEYS, sort=False)
    eligible = ((per_series["survey_year"].transform("size") >= MIN_YEARS)
                & per_series["published"].transform("all")
                & (per_series["survey_year"].transform("max") == year))
    used = rows[eligible.to_numpy()].reset_index(drop=True)
    if used.empty:
        return empty_frame(TRENDS_COLUMNS)

    used_years = used["survey_year"].to_numpy(dtype=np.int64)
    counts, n = used["count"].to_numpy(dtype=float), used["n"].to_numpy(dtype=float)
    fits: dict[bytes, Trend] = {}  # series with the same data (all 0 %, say) share one fit
    first_rows, last_rows, years_used, trends = [], [], [], []
    for positions in used.groupby(SERIES_KEYS, sort=False).indices.values():
        key = b"".join(a[positions].tobytes() for a in (used_years, counts, n))
        if key not in fits:
            fits[key] = fit_trend(used_years[positions], counts[positions], n[positions])
        first_rows.append(positions[0])
        last_rows.append(positions[-1])
        years_used.append(len(positions))
        trends.append(fits[key])
    first = used.iloc[first_rows].reset_index(drop=True)
    last = used.iloc[last_rows].reset_index(drop=True)
    p = np.array([t.p_value for t in trends])
    q = q_values_within_families(last, p, TREND_FAMILY)
    out = pd.DataFrame(
        {
            "survey_year": last["survey_year"].to_numpy(dtype=np.int64),
            "geography_level": pd.array(last["geography_level"], dtype="str"),
            "geography_code": pd.array(last["geography_code"], dtype="str"),
            "indicator_id": pd.array(last["indicator_id"], dtype="str"),
            "first_year": first["survey_year"].to_numpy(dtype=np.int64),
            "years": np.array(years_used, dtype=np.int64),
            "share_first": first["share"].to_numpy(dtype=float),
            "share": last["share"].to_numpy(dtype=float),
            "slope_pp_per_year": np.array([t.slope for t in trends]) * 100,
            "slope_ci_low_pp": np.array([t.ci_low for t in trends]) * 100,
            "slope_ci_high_pp": np.array([t.ci_high for t in trends]) * 100,
            "p_value": p,
            "q_value": q,
            "significant": q < SIGNIFICANCE_LEVEL,
        }
    )
    return out[TRENDS_COLUMNS]
