"""Trends over three or more published years: the binomial GLM, its slope, interval and p, BH within
families, and which series take part."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.stats import chi2
from statsmodels.stats.multitest import multipletests

from benchmark_pipeline.stats import compute_trends
from benchmark_pipeline.stats.tables import TRENDS_COLUMNS
from benchmark_pipeline.stats.trends import fit_trend, separated
from benchmark_pipeline.stats.yoy import newcombe_diff, score_test_p
from benchmark_pipeline_tests.stats.test_yoy import iv_rows, published, suppressed, three_years

YEARS = [2023, 2024, 2025]


def statsmodels_fit(years, counts, n):
    x = np.asarray(years, float) - years[0]
    endog = np.column_stack([counts, np.asarray(n) - np.asarray(counts)])
    return sm.GLM(endog, sm.add_constant(x), family=sm.families.Binomial()).fit()


def test_the_trend_is_the_binomial_glm_of_the_share_on_the_year():
    counts, n = [48, 56, 66], [80, 70, 75]
    trend = fit_trend(YEARS, counts, n)
    fitted = statsmodels_fit(YEARS, counts, n)
    p_first, p_last = fitted.predict(np.array([[1.0, 0.0], [1.0, 2.0]]))
    assert trend.slope == pytest.approx((p_last - p_first) / 2)
    assert trend.p_value == pytest.approx(chi2.sf(fitted.null_deviance - fitted.deviance, 1))
    assert trend.ci_low < trend.slope < trend.ci_high
    # near the middle of the span the slope is close to the marginal effect at the mean year
    b = fitted.params[1]
    p_mid = fitted.predict(np.array([[1.0, 1.0]]))[0]
    assert trend.slope == pytest.approx(b * p_mid * (1 - p_mid), rel=0.05)
    assert trend.p_value < 1e-3


def test_the_interval_is_the_delta_method_of_the_models_covariance():
    counts, n = [30, 38, 41, 52], [100, 110, 95, 105]
    years = [2023, 2024, 2025, 2026]
    trend = fit_trend(years, counts, n)
    fitted = statsmodels_fit(years, counts, n)
    a, b = fitted.params

    def slope(params):
        return (1 / (1 + np.exp(-(params[0] + params[1] * 3))) - 1 / (1 + np.exp(-params[0]))) / 3

    eps = 1e-6
    gradient = np.array([(slope([a + eps, b]) - slope([a - eps, b])) / (2 * eps),
                         (slope([a, b + eps]) - slope([a, b - eps])) / (2 * eps)])
    se = np.sqrt(gradient @ fitted.cov_params() @ gradient)
    assert trend.ci_high - trend.slope == pytest.approx(1.959964 * se, rel=1e-5)
    assert trend.slope - trend.ci_low == pytest.approx(1.959964 * se, rel=1e-5)


def test_a_flat_share_of_0_or_100_percent_has_no_slope_but_an_interval():
    for counts in ([0, 0, 0], [6, 7, 8]):
        trend = fit_trend(YEARS, counts, [6, 7, 8])
        assert (trend.slope, trend.p_value) == (0.0, 1.0)
        assert trend.ci_low < 0 < trend.ci_high  # 0 of 6 and 0 of 8 do not prove the share stood still


@pytest.mark.parametrize("counts", [[0, 0, 3], [0, 3, 8], [6, 3, 0], [0, 0, 1]])
def test_separated_data_give_the_change_from_the_first_to_the_last_year(counts):
    """A share of 0 % (or 100 %) up to some year: the logit slope runs off to infinity (its Wald p is ≈ 1)
    and the fitted shares tend to the observed ones at both ends: slope, interval and p of that change."""
    n = [6, 7, 8]
    assert separated(np.array([0.0, 1.0, 2.0]), np.array(counts), np.array(n))
    trend = fit_trend(YEARS, counts, n)
    low, high = newcombe_diff([counts[-1]], [n[-1]], [counts[0]], [n[0]])
    assert trend.slope == pytest.approx((counts[-1] / n[-1] - counts[0] / n[0]) / 2)
    assert (trend.ci_low, trend.ci_high) == (pytest.approx(low[0] / 2), pytest.approx(high[0] / 2))
    assert trend.p_value == pytest.approx(score_test_p([counts[-1]], [n[-1]], [counts[0]], [n[0]])[0])
    assert -0.5 <= trend.ci_low <= trend.slope <= trend.ci_high <= 0.5 and trend.ci_low < trend.ci_high


def test_overlapping_data_are_not_separated():
    x = np.array([0.0, 1.0, 2.0])
    for counts in ([1, 0, 2], [2, 3, 4], [48, 56, 66]):
        assert not separated(x, np.array(counts), np.array([80, 70, 75]))


def trend_rows(history, question="a.x"):
    """indicator_values of YEARS from {(level, code): {year: (n, count) | None}} (None: suppressed)."""
    years = {}
    for year in YEARS:
        rows = []
        for (level, code), values in history.items():
            if year in values:
                value = values[year]
                rows.append(suppressed(level, code, question) if value is None
                            else published(level, code, question, *value))
        years[year] = iv_rows(year, rows)
    return years


def test_only_series_published_in_every_year_get_a_trend():
    years = three_years()
    assert len(compute_trends(years[2024], years[2023])) == 0  # two years: no trend
    trends = compute_trends(years[2025], pd.concat([years[2023], years[2024]]))
    assert list(trends.columns) == TRENDS_COLUMNS
    # 101 withheld in 2024, 147 withheld in 2023, 151 has two years: only the national series
    assert trends[["geography_level", "geography_code"]].values.tolist() == [["national", "DK"]]
    row = trends.iloc[0]
    assert (row["survey_year"], row["first_year"], row["years"]) == (2025, 2023, 3)
    assert row["share_first"] == pytest.approx(56 / 140) and row["share"] == pytest.approx(98 / 178)
    trend = fit_trend(YEARS, [56, 72, 98], [140, 160, 178])
    assert row["slope_pp_per_year"] == pytest.approx(trend.slope * 100)
    assert (row["slope_ci_low_pp"], row["slope_ci_high_pp"]) == (pytest.approx(trend.ci_low * 100),
                                                                 pytest.approx(trend.ci_high * 100))
    assert row["p_value"] == pytest.approx(trend.p_value) and row["q_value"] == row["p_value"]  # a family of one
    assert row["significant"] == (row["q_value"] < 0.05)


def test_kommune_counts_are_recovered_from_share_and_n():
    years = trend_rows({("kommune", "101"): {2023: (12, 3), 2024: (13, 6), 2025: (14, 9)}})
    assert years[2025]["count"].isna().all()
    row = compute_trends(years[2025], pd.concat([years[2023], years[2024]])).iloc[0]
    assert row["slope_pp_per_year"] == pytest.approx(fit_trend(YEARS, [3, 6, 9], [12, 13, 14]).slope * 100)


def test_trend_q_values_are_bh_within_level_and_question():
    rng = np.random.default_rng(11)
    history = {}
    for code in ("1081", "1082", "1083", "1084", "1085"):
        history[("region", code)] = {y: (100, int(rng.binomial(100, 0.3 + 0.04 * i))) for i, y in enumerate(YEARS)}
    history[("national", "DK")] = {y: (500, int(rng.binomial(500, 0.3 + 0.04 * i))) for i, y in enumerate(YEARS)}
    a, b = trend_rows(history, "a.x"), trend_rows(history, "b.x")
    years = {y: pd.concat([a[y], b[y]], ignore_index=True) for y in YEARS}
    trends = compute_trends(years[2025], pd.concat([years[2023], years[2024]]))
    for (level, question), family in trends.groupby([trends["geography_level"], trends["indicator_id"].str[0]]):
        expected = multipletests(family["p_value"], method="fdr_bh")[1]
        np.testing.assert_allclose(family["q_value"], expected, err_msg=f"{level} {question}")
        assert len(family) == (1 if level == "national" else 5)
    alone = compute_trends(a[2025], pd.concat([a[2023], a[2024]]))
    merged = trends.merge(alone, on=["geography_level", "geography_code", "indicator_id"], suffixes=("", "_alone"))
    np.testing.assert_array_equal(merged["q_value"], merged["q_value_alone"])  # other questions change nothing


def test_a_year_without_a_release_is_left_out_and_the_years_are_real_years():
    years = trend_rows({("national", "DK"): {2023: (100, 20), 2024: (100, 30), 2025: (100, 40)}})
    later = iv_rows(2027, [published("national", "DK", "a.x", 100, 60)])  # no 2026 release
    row = compute_trends(later, pd.concat(years.values())).iloc[0]
    assert (row["first_year"], row["years"]) == (2023, 4)
    assert row["slope_pp_per_year"] == pytest.approx(
        fit_trend([2023, 2024, 2025, 2027], [20, 30, 40, 60], [100] * 4).slope * 100)


def test_values_hidden_in_suppressed_rows_change_no_trend():
    years = trend_rows({("kommune", "101"): {2023: (12, 3), 2024: None, 2025: (14, 9)},
                        ("kommune", "147"): {2023: (12, 3), 2024: (13, 6), 2025: (14, 9)}})
    leaky = {y: f.assign(n=f["n"].fillna(9), share=f["share"].fillna(1 / 9)) for y, f in years.items()}
    clean = compute_trends(years[2025], pd.concat([years[2023], years[2024]]))
    assert clean["geography_code"].tolist() == ["147"]
    pd.testing.assert_frame_equal(compute_trends(leaky[2025], pd.concat([leaky[2023], leaky[2024]])), clean)
