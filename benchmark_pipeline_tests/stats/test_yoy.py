"""Changes against the previous and the first year: Newcombe intervals, score tests, BH q-values within
families, and which rows take part."""

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
    """indicator_values rows: (level, code, indicator, n, count, share, suppressed, reason). The question is
    the indicator id's first part; barrier indicators (`barriers.<option>.<measure>`) carry their measure."""
    out = pd.DataFrame(rows, columns=["geography_level", "geography_code", "indicator_id", "n", "count", "share",
                                      "suppressed", "suppression_reason"])
    out.insert(0, "survey_year", year)
    parts = out["indicator_id"].str.split(".")
    out["question_id"] = parts.str[0]
    out["measure"] = parts.map(lambda p: p[2] if len(p) > 2 else "share")
    out["n"] = out["n"].astype("Int64")
    out["count"] = out["count"].astype("Int64")
    out["share"] = out["share"].astype(float)
    out["suppression_reason"] = out["suppression_reason"].astype("str")
    return out


def published(level, code, indicator, n, count):
    """A published row; counts are not published at kommune level."""
    return (level, code, indicator, n, None if level == "kommune" else count, count / n, False, None)


def suppressed(level, code, indicator):
    return (level, code, indicator, None, None, None, True, "confidential")


def by_key(yoy):
    return yoy.set_index(["comparison", "geography_level", "geography_code", "indicator_id"]).sort_index()


def test_newcombe_1998_test_vector():
    lo, hi = newcombe_diff([56], [70], [48], [80])
    assert lo[0] == pytest.approx(0.0524, abs=5e-5) and hi[0] == pytest.approx(0.3339, abs=5e-5)


def test_score_test_matches_statsmodels_and_is_one_at_the_edges():
    p = score_test_p([56, 0, 10, 3], [70, 10, 10, 9], [48, 0, 12, 3], [80, 12, 12, 9])
    expected = sm_score_test(56, 70, 48, 80, method="score", compare="diff").pvalue
    assert p[0] == pytest.approx(expected)
    assert p[1] == 1 and p[2] == 1  # both 0, both 1
    assert p[3] == pytest.approx(1.0)


def test_previous_year_values_and_bh_within_each_level():
    cur = iv_rows(2024, [
        ("national", "DK", "a.x", 70, 56, 56 / 70, False, None),
        ("region", "1081", "a.x", 10, 0, 0.0, False, None),
        ("region", "1082", "a.x", 20, 20, 1.0, False, None),
        ("region", "1083", "a.x", 40, 30, 0.75, False, None),
        ("kommune", "101", "a.x", 8, None, 3 / 8, False, None),  # count recovered as round(share·n) = 3
        ("kommune", "147", "a.x", None, None, None, True, "below_minimum"),
        ("national", "DK", "a.new", 70, 7, 0.1, False, None),  # new option: no base
    ])
    prev = iv_rows(2023, [
        ("national", "DK", "a.x", 80, 48, 0.6, False, None),
        ("region", "1081", "a.x", 12, 0, 0.0, False, None),
        ("region", "1082", "a.x", 15, 15, 1.0, False, None),
        ("region", "1083", "a.x", 40, 10, 0.25, False, None),
        ("kommune", "101", "a.x", 9, None, 6 / 9, False, None),
        ("kommune", "147", "a.x", 9, None, 0.5, False, None),
    ])
    y = compute_yoy(cur, prev)
    assert list(y.columns) == YOY_COLUMNS
    assert len(y) == 5  # kommune 147 suppressed this year; a.new has no base year
    assert set(y["comparison"]) == {"previous_year"}  # a second year: nothing before the previous one
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
    assert kom["p_value"] == pytest.approx(sm_score_test(3, 8, 6, 9, method="score", compare="diff").pvalue)
    # one family per level here (one question): national and kommune test alone, the three regions together
    assert nat["q_value"] == nat["p_value"] and kom["q_value"] == kom["p_value"]
    regions = y.loc["region"]
    np.testing.assert_allclose(regions["q_value"], multipletests(regions["p_value"], method="fdr_bh")[1])
    assert (y["significant"] == (y["q_value"] < 0.05)).all()


def test_a_familys_q_values_are_bh_of_that_family_alone():
    """Families: survey year, comparison, geography level and question (a barrier's top-3 and first-place
    shares are two). Tests of other families never change a family's q-values."""
    rng = np.random.default_rng(7)
    options = [f"use_contexts.o{i}" for i in range(7)]
    cells = [("national", "DK")] + [("region", r) for r in ("1081", "1082", "1083", "1084", "1085")]
    others = [f"data_sources.o{i}" for i in range(7)] + [f"barriers.b{i}.{m}" for i in range(10)
                                                          for m in ("top3", "first")]
    rows24, rows23 = [], []
    for level, code in cells:
        for indicator in options + others:
            n1, n0 = int(rng.integers(100, 300)), int(rng.integers(100, 300))
            rows24.append(published(level, code, indicator, n1, int(rng.binomial(n1, 0.4))))
            rows23.append(published(level, code, indicator, n0, int(rng.binomial(n0, 0.4))))
    alone = compute_yoy(iv_rows(2024, rows24[:7]), iv_rows(2023, rows23[:7]))  # national use_contexts only
    everything = by_key(compute_yoy(iv_rows(2024, rows24), iv_rows(2023, rows23)))
    family = everything.loc[("previous_year", "national", "DK")].loc[options]
    np.testing.assert_array_equal(family["q_value"], by_key(alone)["q_value"].to_numpy())
    np.testing.assert_allclose(family["q_value"], multipletests(family["p_value"], method="fdr_bh")[1])
    regional = everything.loc["previous_year"].loc["region"].reset_index()
    regional = regional[regional["indicator_id"].isin(options)]
    assert len(regional) == 35  # the 7 options over the 5 regions: one family
    np.testing.assert_allclose(regional["q_value"], multipletests(regional["p_value"], method="fdr_bh")[1])
    for measure in ("top3", "first"):
        barriers = everything.loc[("previous_year", "national", "DK")]
        barriers = barriers[barriers.index.str.endswith(f".{measure}")]
        assert len(barriers) == 10
        np.testing.assert_allclose(barriers["q_value"], multipletests(barriers["p_value"], method="fdr_bh")[1])


def test_a_clear_national_change_is_significant_in_its_small_family():
    """+14 points at national level with p ≈ 0.005 among the 7 options of one question: significant with
    q = 7·p; corrected over a year's ~620 tests at once it was not (q ≈ 0.5)."""
    stable = [(f"use_contexts.o{i}", 160, 48, 170, 51) for i in range(6)]  # 30 % both years
    rows24 = [published("national", "DK", "use_contexts.implementering", 200, 92)]  # 46.0 %
    rows23 = [published("national", "DK", "use_contexts.implementering", 190, 61)]  # 32.1 %
    for indicator, n1, c1, n0, c0 in stable:
        rows24.append(published("national", "DK", indicator, n1, c1))
        rows23.append(published("national", "DK", indicator, n0, c0))
    y = compute_yoy(iv_rows(2025, rows24), iv_rows(2024, rows23)).set_index("indicator_id")
    change = y.loc["use_contexts.implementering"]
    assert change["diff_pp"] == pytest.approx(13.9, abs=0.1) and change["p_value"] == pytest.approx(0.005, abs=5e-4)
    assert change["q_value"] == pytest.approx(min(1.0, change["p_value"] * 7)) and change["significant"]
    over_all_tests = multipletests(np.r_[change["p_value"], np.linspace(0.02, 1, 619)], method="fdr_bh")[1][0]
    assert over_all_tests > 0.05


def three_years():
    """2023, 2024, 2025 of one question at a few geographies, each with a different publication history."""
    history = {
        # (level, code): published shares per year as (n, count), None = suppressed, absent = no row
        ("national", "DK"): {2023: (140, 56), 2024: (160, 72), 2025: (178, 98)},
        ("kommune", "101"): {2023: (12, 3), 2024: None, 2025: (14, 9)},  # 2024 withheld
        ("kommune", "147"): {2023: None, 2024: (10, 5), 2025: (11, 5)},  # withheld in its first year
        ("kommune", "151"): {2024: (9, 2), 2025: (10, 6)},  # first in a release in 2024
    }
    years = {}
    for year in (2023, 2024, 2025):
        rows = []
        for (level, code), values in history.items():
            if year not in values:
                continue
            value = values[year]
            rows.append(suppressed(level, code, "a.x") if value is None else published(level, code, "a.x", *value))
        years[year] = iv_rows(year, rows)
    return years


def test_change_since_the_first_year_from_its_third_year_on():
    years = three_years()
    y2024 = compute_yoy(years[2024], pd.concat([years[2023]]))
    assert set(y2024["comparison"]) == {"previous_year"}  # 2024 is the first year + 1: the same comparison
    y = by_key(compute_yoy(years[2025], pd.concat([years[2023], years[2024]])))
    first = y.loc["first_year"]
    assert list(first.index) == [("kommune", "101", "a.x"), ("national", "DK", "a.x")]
    assert set(first["base_year"]) == {2023}
    nat = first.loc[("national", "DK", "a.x")]
    assert nat["share_base"] == pytest.approx(56 / 140) and nat["diff_pp"] == pytest.approx((98 / 178 - 0.4) * 100)
    low, high = newcombe_diff([98], [178], [56], [140])
    assert nat["diff_ci_low_pp"] == pytest.approx(low[0] * 100)
    assert nat["diff_ci_high_pp"] == pytest.approx(high[0] * 100)
    assert nat["p_value"] == pytest.approx(score_test_p([98], [178], [56], [140])[0])
    # 101: published in 2023 and 2025 (withheld in 2024): a first-year change, no previous-year change
    assert ("kommune", "101", "a.x") not in y.loc["previous_year"].index
    # 147: withheld in its first year; 151: its first year is 2024, only one year back
    assert set(y.loc["previous_year"].index) == {("national", "DK", "a.x"), ("kommune", "147", "a.x"),
                                                 ("kommune", "151", "a.x")}
    # comparison is part of the family: the kommune family of first-year tests holds 101 alone
    assert first.loc[("kommune", "101", "a.x"), "q_value"] == first.loc[("kommune", "101", "a.x"), "p_value"]


def test_no_previous_year_gives_an_empty_table_with_the_columns():
    cur = iv_rows(2024, [("national", "DK", "a.x", 70, 56, 0.8, False, None)])
    for prev in (None, cur.iloc[0:0]):
        y = compute_yoy(cur, prev)
        assert list(y.columns) == YOY_COLUMNS and len(y) == 0


def test_values_hidden_in_suppressed_rows_change_nothing():
    """A suppressed row's values never enter a change, even when a caller leaves them in the frame."""
    years = three_years()
    leaky = {year: frame.assign(n=frame["n"].fillna(9), share=frame["share"].fillna(1 / 9),
                                count=frame["count"]) for year, frame in years.items()}
    clean = compute_yoy(years[2025], pd.concat([years[2023], years[2024]]))
    pd.testing.assert_frame_equal(compute_yoy(leaky[2025], pd.concat([leaky[2023], leaky[2024]])), clean)


def test_one_release_per_earlier_year():
    years = three_years()
    with pytest.raises(ValueError, match="one release per survey year"):
        compute_yoy(years[2025], pd.concat([years[2023], years[2024], years[2024]]))


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
    families = y.merge(iv24[["geography_level", "geography_code", "indicator_id", "question_id", "measure"]])
    for _, family in families.groupby(["geography_level", "question_id", "measure"]):
        np.testing.assert_allclose(family["q_value"], multipletests(family["p_value"], method="fdr_bh")[1])
    assert y[["diff_pp", "diff_ci_low_pp", "diff_ci_high_pp", "p_value"]].notna().all().all()
    assert (y["diff_ci_low_pp"] <= y["diff_pp"] + 1e-9).all() and (y["diff_pp"] <= y["diff_ci_high_pp"] + 1e-9).all()
