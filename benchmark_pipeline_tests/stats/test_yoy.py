"""Year-over-year changes: Newcombe intervals, score tests, BH q-values and which rows take part."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import test_proportions_2indep as sm_score_test

from benchmark_pipeline.stats import compute_indicators, compute_yoy
from benchmark_pipeline.stats.tables import YOY_COLUMNS
from benchmark_pipeline.stats.yoy import newcombe_diff, score_test_p
from benchmark_pipeline_tests.stats.helpers import random_frame


def iv_rows(year, rows):
    """indicator_values rows: (level, code, indicator, n, count, share, suppressed, reason)."""
    out = pd.DataFrame(rows, columns=["geography_level", "geography_code", "indicator_id", "n", "count", "share",
                                      "suppressed", "suppression_reason"])
    out.insert(0, "survey_year", year)
    out["n"] = out["n"].astype("Int64")
    out["count"] = out["count"].astype("Int64")
    out["share"] = out["share"].astype(float)
    out["suppression_reason"] = out["suppression_reason"].astype("str")
    return out


def test_newcombe_1998_test_vector():
    lo, hi = newcombe_diff([56], [70], [48], [80])
    assert lo[0] == pytest.approx(0.0524, abs=5e-5) and hi[0] == pytest.approx(0.3339, abs=5e-5)


def test_score_test_matches_statsmodels_and_is_one_at_the_edges():
    p = score_test_p([56, 0, 10, 3], [70, 10, 10, 9], [48, 0, 12, 3], [80, 12, 12, 9])
    expected = sm_score_test(56, 70, 48, 80, method="score", compare="diff").pvalue
    assert p[0] == pytest.approx(expected)
    assert p[1] == 1 and p[2] == 1  # both 0, both 1
    assert p[3] == pytest.approx(1.0)


def test_yoy_values_and_bh_over_all_tests():
    cur = iv_rows(2024, [
        ("national", "DK", "a.x", 70, 56, 56 / 70, False, None),
        ("region", "1081", "a.x", 10, 0, 0.0, False, None),
        ("region", "1082", "a.x", 20, 20, 1.0, False, None),
        ("kommune", "101", "a.x", 8, None, 3 / 8, False, None),  # count recovered as round(share·n) = 3
        ("kommune", "147", "a.x", None, None, None, True, "below_minimum"),
        ("national", "DK", "a.new", 70, 7, 0.1, False, None),  # new option: no base
    ])
    prev = iv_rows(2023, [
        ("national", "DK", "a.x", 80, 48, 0.6, False, None),
        ("region", "1081", "a.x", 12, 0, 0.0, False, None),
        ("region", "1082", "a.x", 15, 15, 1.0, False, None),
        ("kommune", "101", "a.x", 9, None, 6 / 9, False, None),
        ("kommune", "147", "a.x", 9, None, 0.5, False, None),
    ])
    y = compute_yoy(cur, prev)
    assert list(y.columns) == YOY_COLUMNS
    assert len(y) == 4  # kommune 147 suppressed this year; a.new has no base year
    y = y.set_index(["geography_level", "geography_code"])
    nat = y.loc[("national", "DK")]
    assert nat["base_year"] == 2023 and nat["survey_year"] == 2024
    assert nat["diff_pp"] == pytest.approx((0.8 - 0.6) * 100)
    assert nat["diff_ci_low_pp"] == pytest.approx(5.24, abs=0.005)
    assert nat["diff_ci_high_pp"] == pytest.approx(33.39, abs=0.005)
    assert nat["relative_growth"] == pytest.approx((0.8 - 0.6) / 0.6)
    assert y.loc[("region", "1081"), "p_value"] == 1 and np.isnan(y.loc[("region", "1081"), "relative_growth"])
    assert y.loc[("region", "1082"), "p_value"] == 1
    kom = y.loc[("kommune", "101")]
    expected_p = sm_score_test(3, 8, 6, 9, method="score", compare="diff").pvalue
    assert kom["p_value"] == pytest.approx(expected_p)
    expected_q = multipletests(y["p_value"].to_numpy(), method="fdr_bh")[1]
    np.testing.assert_allclose(y["q_value"].to_numpy(), expected_q)
    assert (y["significant"] == (y["q_value"] < 0.05)).all()


def test_no_previous_year_gives_an_empty_table_with_the_columns():
    cur = iv_rows(2024, [("national", "DK", "a.x", 70, 56, 0.8, False, None)])
    for prev in (None, cur.iloc[0:0]):
        y = compute_yoy(cur, prev)
        assert list(y.columns) == YOY_COLUMNS and len(y) == 0


def test_yoy_on_computed_years(instrument_2023, instrument_2024, kommuner):
    counts = {c: (12 if i % 3 == 0 else 3) for i, c in enumerate(kommuner.codes)}
    iv23 = compute_indicators(random_frame(instrument_2023, counts, 1), instrument_2023, kommuner)["indicator_values"]
    iv24 = compute_indicators(random_frame(instrument_2024, counts, 2), instrument_2024, kommuner)["indicator_values"]
    y = compute_yoy(iv24, iv23)
    assert len(y) > 0
    assert not y["indicator_id"].str.startswith("ai_use").any()  # new question: no base year
    assert not y["indicator_id"].str.startswith("barriers.ny_teknologi").any()
    assert {"share", "top3", "first"} == set(
        iv24.set_index("indicator_id").loc[y["indicator_id"].unique(), "measure"].unique()
    )
    pub24 = iv24.loc[~iv24["suppressed"], ["geography_level", "geography_code", "indicator_id"]]
    pub23 = iv23.loc[~iv23["suppressed"], ["geography_level", "geography_code", "indicator_id"]]
    assert len(y) == len(pub24.merge(pub23))
    np.testing.assert_allclose(y["q_value"], multipletests(y["p_value"], method="fdr_bh")[1])
    assert y[["diff_pp", "diff_ci_low_pp", "diff_ci_high_pp", "p_value"]].notna().all().all()
    assert (y["diff_ci_low_pp"] <= y["diff_pp"] + 1e-9).all() and (y["diff_pp"] <= y["diff_ci_high_pp"] + 1e-9).all()
