"""Year-over-year changes of every share indicator published in both years."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

from benchmark_pipeline.stats.indicators import empty_frame
from benchmark_pipeline.stats.tables import CONFIDENCE, YOY_COLUMNS, as_bool

KEYS = ["geography_level", "geography_code", "indicator_id"]
SIGNIFICANCE_LEVEL = 0.05


def _published(frame: pd.DataFrame) -> pd.DataFrame:
    pub = frame[~as_bool(frame["suppressed"])].copy()
    pub["geography_level"] = pub["geography_level"].astype("str")
    pub["geography_code"] = pub["geography_code"].astype("str")
    pub["indicator_id"] = pub["indicator_id"].astype("str")
    n = pd.to_numeric(pub["n"]).astype("Float64")
    count = pd.to_numeric(pub["count"]).astype("Float64")
    recovered = (pd.to_numeric(pub["share"]).astype("Float64") * n).round()
    # counts are not published at kommune level: recover them as round(share · n)
    pub["count_used"] = count.fillna(recovered).astype(float)
    pub["n_used"] = n.astype(float)
    pub["share"] = pd.to_numeric(pub["share"]).astype(float)
    return pub[KEYS + ["survey_year", "share", "n_used", "count_used"]]


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


def compute_yoy(indicator_values: pd.DataFrame, previous_indicator_values: pd.DataFrame | None) -> pd.DataFrame:
    """`yoy_changes`: this year against the previous one, for indicators published in both."""
    if previous_indicator_values is None or len(previous_indicator_values) == 0 or len(indicator_values) == 0:
        return empty_frame(YOY_COLUMNS)
    cur = _published(indicator_values)
    prev = _published(previous_indicator_values)
    both = cur.merge(prev, on=KEYS, suffixes=("", "_base"), how="inner", validate="one_to_one")
    if both.empty:
        return empty_frame(YOY_COLUMNS)
    c1, n1 = both["count_used"].to_numpy(), both["n_used"].to_numpy()
    c0, n0 = both["count_used_base"].to_numpy(), both["n_used_base"].to_numpy()
    share = both["share"].to_numpy(dtype=float)
    share_base = both["share_base"].to_numpy(dtype=float)
    low, high = newcombe_diff(c1, n1, c0, n0)
    p = score_test_p(c1, n1, c0, n0)
    if np.isnan(p).any():
        raise ValueError("score test returned no p-value for some indicators")
    q = multipletests(p, alpha=SIGNIFICANCE_LEVEL, method="fdr_bh")[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.where(share_base != 0, (share - share_base) / share_base, np.nan)
    out = pd.DataFrame(
        {
            "survey_year": both["survey_year"].to_numpy(dtype=np.int64),
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
