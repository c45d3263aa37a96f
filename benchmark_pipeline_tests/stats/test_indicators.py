"""Share indicators and barrier scores against hand-computed values, and their edge cases."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest

from benchmark_pipeline.stats import compute_indicators
from benchmark_pipeline.stats.indicators import barrier_score, wilson_interval
from benchmark_pipeline.stats.tables import BARRIER_SCORES_COLUMNS, INDICATOR_VALUES_COLUMNS
from benchmark_pipeline_tests.stats.helpers import make_frame, random_frame, suppression_rule


def wilson_by_hand(x: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


# Kommune 101 (København; region 1084, kommunegruppe 1): seven respondents; 147 (Frederiksberg, same region
# and group): six. Everything else has no respondents.
RECORDS_101 = [
    {"kommune": "101", "data_use_change": "mere", "further_potential": "ja", "use_contexts": ["monitorering"],
     "barriers": ["ledelse", "tid", "it"], "fagomraade": "analyse", "stilling": "analytiker"},
    {"kommune": "101", "data_use_change": "mere", "further_potential": "ja",
     "use_contexts": ["monitorering", "foranalyse"], "barriers": ["ledelse", "it"]},
    {"kommune": "101", "data_use_change": "samme", "further_potential": "nej", "use_contexts": ["foranalyse"],
     "barriers": ["tid"]},
    {"kommune": "101", "data_use_change": "ved_ikke", "further_potential": "ja", "use_contexts": [],
     "barriers": ["tid", "ledelse", "jura"]},
    {"kommune": "101", "data_use_change": "mere", "further_potential": "ja", "use_contexts": ["politik"],
     "barriers": []},
    {"kommune": "101", "data_use_change": None, "further_potential": "ja", "use_contexts": ["monitorering"],
     "barriers": ["ledelse", "tid", "okonomi"]},
    {"kommune": "101", "data_use_change": "mindre", "further_potential": None, "use_contexts": ["monitorering"],
     "barriers": ["kompetencer"]},
]
RECORDS_147 = [
    {"kommune": "147", "data_use_change": "mere", "further_potential": "ja", "use_contexts": ["evaluering"],
     "barriers": ["tid", "ledelse", "it"]}
    for _ in range(6)
]


@pytest.fixture(scope="module")
def small(instrument_2024, kommuner):
    frame = make_frame(instrument_2024, RECORDS_101 + RECORDS_147)
    return compute_indicators(frame, instrument_2024, kommuner, 5)


def row(table, level, code, indicator):
    r = table[(table["geography_level"] == level) & (table["geography_code"] == code)
              & (table["indicator_id"] == indicator)]
    assert len(r) == 1, (level, code, indicator)
    return r.iloc[0]


def test_columns_and_dtypes(small):
    iv, bs = small["indicator_values"], small["barrier_scores"]
    assert list(iv.columns) == INDICATOR_VALUES_COLUMNS
    assert list(bs.columns) == BARRIER_SCORES_COLUMNS
    assert str(iv["n"].dtype) == "Int64" and str(iv["count"].dtype) == "Int64"
    assert iv["suppressed"].dtype == bool and iv["survey_year"].eq(2024).all()
    assert iv["geography_code"].map(type).eq(str).all()


def test_single_choice_share_counts_ved_ikke_but_not_blanks(small):
    iv = small["indicator_values"]
    r = row(iv, "kommune", "101", "data_use_change.mere")
    # 6 answered (one blank); "ved_ikke" counts as an answer; 3 chose "mere"
    assert r["n"] == 6 and pd.isna(r["count"])  # counts are not published at kommune level
    assert r["share"] == pytest.approx(3 / 6)
    lo, hi = wilson_by_hand(3, 6)
    assert (r["ci_low"], r["ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    assert row(iv, "kommune", "101", "data_use_change.ved_ikke")["share"] == pytest.approx(1 / 6)
    # aggregates publish counts
    reg = row(iv, "region", "1084", "data_use_change.mere")
    assert (reg["n"], reg["count"]) == (12, 9) and reg["share"] == pytest.approx(0.75)
    nat = row(iv, "national", "DK", "data_use_change.mere")
    assert (nat["n"], nat["count"]) == (12, 9)
    grp = row(iv, "kommunegruppe", "1", "data_use_change.mere")
    assert (grp["n"], grp["count"]) == (12, 9)


def test_multi_select_share_of_those_who_answered(small):
    iv = small["indicator_values"]
    r = row(iv, "kommune", "101", "use_contexts.monitorering")
    assert r["n"] == 6  # one respondent chose nothing
    assert r["share"] == pytest.approx(4 / 6)
    assert row(iv, "national", "DK", "use_contexts.evaluering")["count"] == 6


def test_background_questions_are_indicators_kommune_and_free_text_are_not(small, instrument_2024):
    questions = set(small["indicator_values"]["question_id"])
    assert {"fagomraade", "stilling"} <= questions
    assert "kommune" not in questions and "kommentar" not in questions
    expected = sum(len(q.options) for q in instrument_2024.of_kind("single", "multi")) + 2 * len(
        instrument_2024.question("barriers").options
    )
    assert small["indicator_values"]["indicator_id"].nunique() == expected


def test_barriers_top3_first_and_weighted_score(small):
    iv, bs = small["indicator_values"], small["barrier_scores"]
    # 101: 6 ranked at least one. ledelse: 1st ×3 (r1, r2, r6), 2nd ×1 (r4) → points 3,3,2,3 + 0,0
    r = row(iv, "kommune", "101", "barriers.ledelse.top3")
    assert r["n"] == 6 and r["share"] == pytest.approx(4 / 6) and r["measure"] == "top3"
    assert r["option_id"] == "ledelse" and r["question_id"] == "barriers"
    assert row(iv, "kommune", "101", "barriers.ledelse.first")["share"] == pytest.approx(3 / 6)
    s = bs[(bs["geography_code"] == "101") & (bs["barrier_id"] == "ledelse")].iloc[0]
    points = np.array([3, 3, 0, 2, 3, 0])
    assert s["score"] == pytest.approx(points.sum() / (3 * 6) * 100)
    low, high = wilson_by_hand(points.sum() / 3, 6)  # score-type interval of the mean of points bounded by 0-3
    assert (s["score_ci_low"], s["score_ci_high"]) == (pytest.approx(low * 100), pytest.approx(high * 100))
    assert s["top3_share"] == pytest.approx(4 / 6) and s["first_share"] == pytest.approx(3 / 6)
    # national: 12 ranked; tid: 101 gives 2,0,3,3,0,2 (r1 2nd, r3 1st, r4 1st, r6 2nd); 147 gives 3 × 6
    nat = bs[(bs["geography_level"] == "national") & (bs["barrier_id"] == "tid")].iloc[0]
    points = np.array([2, 0, 3, 3, 0, 2] + [3] * 6)
    assert nat["n"] == 12 and nat["score"] == pytest.approx(points.mean() / 3 * 100)


def test_barrier_score_formula_edges():
    score, lo, hi = barrier_score([0], [0], [0], [10])  # nobody ranked it: 0, but not certainly 0
    assert (score[0], lo[0]) == (0.0, 0.0) and hi[0] == pytest.approx(wilson_by_hand(0, 10)[1] * 100)
    score, lo, hi = barrier_score([10], [0], [0], [10])  # everybody ranked it first
    assert (score[0], hi[0]) == (100.0, 100.0) and lo[0] == pytest.approx(wilson_by_hand(10, 10)[0] * 100)
    score, lo, hi = barrier_score([0], [0], [0], [0])
    assert np.isnan([score[0], lo[0], hi[0]]).all()


def every_ranking(n: int) -> np.ndarray:
    """(first, second, third) counts of every way n respondents can give one barrier 3, 2, 1 or 0 points."""
    return np.array([(f, s, t) for f in range(n + 1) for s in range(n + 1 - f) for t in range(n + 1 - f - s)])


@pytest.mark.parametrize("n", range(1, 11))
def test_barrier_score_interval_stays_inside_0_100_and_holds_the_score_at_small_n(n):
    """The normal interval gave "0,0-0,0" and "0,0-78,1" at small n; this one is bounded and has width."""
    f, s, t = every_ranking(n).T
    score, lo, hi = barrier_score(f, s, t, np.full(len(f), n))
    assert ((0 <= lo) & (lo <= score) & (score <= hi) & (hi <= 100)).all()
    assert (lo < hi).all()  # never a single point: n respondents do not pin a mean down
    zero = (f == 0) & (s == 0) & (t == 0)
    assert lo[zero] == 0 and hi[zero] > 0


def test_barrier_score_interval_is_vectorised_over_a_large_table():
    """All geographies × barriers of a year at a million respondents in one call: no Python loop per cell."""
    rng = np.random.default_rng(5)
    n = rng.integers(1, 1_000_000, 200_000)
    f = rng.binomial(n, 0.2)
    s = rng.binomial(n - f, 0.2)
    t = rng.binomial(n - f - s, 0.2)
    score, lo, hi = barrier_score(f, s, t, n)
    assert ((lo <= score) & (score <= hi)).all() and np.isfinite(hi).all()


def test_zero_of_n_and_n_of_n(small):
    iv = small["indicator_values"]
    zero = row(iv, "kommune", "147", "use_contexts.monitorering")  # 0 of 6
    assert zero["share"] == 0 and zero["ci_low"] == 0
    assert zero["ci_high"] == pytest.approx(wilson_by_hand(0, 6)[1])
    full = row(iv, "kommune", "147", "use_contexts.evaluering")  # 6 of 6
    assert full["share"] == 1 and full["ci_high"] == 1
    assert full["ci_low"] == pytest.approx(wilson_by_hand(6, 6)[0])


def test_every_kommune_is_a_row_and_no_respondents_is_suppressed(small, kommuner):
    iv = small["indicator_values"]
    kom = iv[(iv["geography_level"] == "kommune") & (iv["indicator_id"] == "data_use_change.mere")]
    assert sorted(kom["geography_code"]) == sorted(kommuner.codes)
    r = row(iv, "kommune", "851", "data_use_change.mere")
    assert r["suppressed"] and r["suppression_reason"] == "no_respondents"
    assert pd.isna(r["n"]) and pd.isna(r["share"]) and pd.isna(r["ci_low"])
    region = row(iv, "region", "1081", "data_use_change.mere")
    assert region["suppression_reason"] == "no_respondents"
    assert len(small["barrier_scores"][small["barrier_scores"]["geography_level"] == "kommune"]) == 98 * 11


def test_below_minimum_per_question(small):
    iv = small["indicator_values"]
    # further_potential: 101 has 6 answers → published; 147 has 6 → published
    assert not row(iv, "kommune", "101", "further_potential.ja")["suppressed"]
    # fagomraade: only one respondent in 101 answered → below minimum there; 147 nobody → no_respondents
    assert row(iv, "kommune", "101", "fagomraade.analyse")["suppression_reason"] == "confidential"
    assert suppression_rule(small, "kommune", "101", "fagomraade") == "below_minimum"
    assert row(iv, "kommune", "147", "fagomraade.analyse")["suppression_reason"] == "no_respondents"
    assert row(iv, "national", "DK", "fagomraade.analyse")["suppression_reason"] == "confidential"
    assert suppression_rule(small, "national", "DK", "fagomraade") == "below_minimum"


def test_question_nobody_answered(instrument_2024, kommuner):
    records = [dict(r, ai_use=None) for r in RECORDS_101 + RECORDS_147]
    iv = compute_indicators(make_frame(instrument_2024, records), instrument_2024, kommuner)["indicator_values"]
    ai = iv[iv["question_id"] == "ai_use"]
    assert len(ai) == (1 + 5 + 5 + 98) * 5
    assert ai["suppressed"].all() and (ai["suppression_reason"] == "no_respondents").all()
    assert ai[["n", "count", "share", "ci_low", "ci_high"]].isna().all().all()


def test_option_new_this_year(instrument_2023, instrument_2024, kommuner):
    records = [dict(r, ai_use="drift") for r in RECORDS_147] + [dict(RECORDS_147[0], barriers=["ny_teknologi"])]
    iv24 = compute_indicators(make_frame(instrument_2024, records), instrument_2024, kommuner)["indicator_values"]
    assert row(iv24, "kommune", "147", "ai_use.drift")["share"] == pytest.approx(1.0)
    assert row(iv24, "national", "DK", "barriers.ny_teknologi.top3")["count"] == 1
    records23 = [{k: v for k, v in r.items() if k != "ai_use"} for r in RECORDS_147]
    iv23 = compute_indicators(make_frame(instrument_2023, records23), instrument_2023, kommuner)["indicator_values"]
    assert not iv23["indicator_id"].str.startswith("ai_use").any()
    assert not (iv23["indicator_id"] == "barriers.ny_teknologi.top3").any()


def test_published_headline_2023(instrument_2023, kommuner):
    """The LIFA 2023 headline: 85 of 142 answer `mere` (59.9% → "60%"), 111 of 142 `ja` (78.2%)."""
    codes = kommuner.codes
    records = []
    for i in range(142):
        records.append({
            "kommune": codes[i % 20],
            "data_use_change": "mere" if i < 85 else "samme",
            "further_potential": "ja" if i < 111 else "nej",
        })
    iv = compute_indicators(make_frame(instrument_2023, records), instrument_2023, kommuner)["indicator_values"]
    mere = row(iv, "national", "DK", "data_use_change.mere")
    assert (mere["count"], mere["n"]) == (85, 142) and round(mere["share"] * 100) == 60
    ja = row(iv, "national", "DK", "further_potential.ja")
    assert round(ja["share"] * 100, 1) == 78.2


def test_wilson_matches_statsmodels_and_formula():
    lo, hi = wilson_interval([85], [142])
    assert (lo[0], hi[0]) == (pytest.approx(wilson_by_hand(85, 142)[0]), pytest.approx(wilson_by_hand(85, 142)[1]))
    lo, hi = wilson_interval([0], [0])
    assert np.isnan(lo[0]) and np.isnan(hi[0])


def test_min_respondents_is_configurable_never_below_five(small, instrument_2024, kommuner):
    frame = make_frame(instrument_2024, RECORDS_101 + RECORDS_147)
    with pytest.raises(ValueError):
        compute_indicators(frame, instrument_2024, kommuner, 4)
    tables = compute_indicators(frame, instrument_2024, kommuner, 7)
    published = row(tables["indicator_values"], "kommune", "147", "further_potential.ja")
    assert published["suppression_reason"] == "confidential"
    assert suppression_rule(tables, "kommune", "147", "further_potential") == "below_minimum"


def test_values_outside_the_option_set_are_refused(instrument_2024, kommuner):
    frame = make_frame(instrument_2024, RECORDS_147)
    frame["data_use_change"] = pd.Categorical(["mere"] * 5 + ["noget"], categories=["mere", "noget"])
    with pytest.raises(ValueError, match="data_use_change"):
        compute_indicators(frame, instrument_2024, kommuner)
    frame = make_frame(instrument_2024, RECORDS_147)
    frame.loc[0, "kommune"] = "411"  # Christiansø is not a kommune
    with pytest.raises(ValueError, match="kommune"):
        compute_indicators(frame, instrument_2024, kommuner)


def test_empty_validated_frame(instrument_2024, kommuner):
    out = compute_indicators(make_frame(instrument_2024, []), instrument_2024, kommuner)
    assert out["indicator_values"]["suppressed"].all()
    assert (out["barrier_scores"]["suppression_reason"] == "no_respondents").all()


def test_vectorised_over_respondents(instrument_2024, kommuner):
    """300,000 respondents: the work over respondents is bincounts, not loops (1,000,000 takes ~3 s)."""
    frame = random_frame(instrument_2024, {c: 3000 + 7 * i for i, c in enumerate(kommuner.codes)}, 5)
    start = time.perf_counter()
    out = compute_indicators(frame, instrument_2024, kommuner)
    elapsed = time.perf_counter() - start
    nat = row(out["indicator_values"], "national", "DK", "data_use_change.mere")
    answered = frame["data_use_change"].notna()
    assert nat["n"] == answered.sum() and nat["count"] == (frame["data_use_change"] == "mere").sum()
    assert elapsed < 30


# --------------------------------------------------------------------------------------------------
# the same tables whatever dtypes the canonical columns arrive in (the fast paths must not change results)


@pytest.fixture(scope="module")
def mixed(instrument_2024, kommuner):
    counts = {c: (i * 7) % 23 for i, c in enumerate(kommuner.codes)}
    frame = random_frame(instrument_2024, counts, 3)
    return frame, compute_indicators(frame, instrument_2024, kommuner)


def _assert_same_tables(a, b):
    for name in ("indicator_values", "barrier_scores"):
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True)


@pytest.mark.slow
def test_kommune_as_categorical_gives_the_same_tables(mixed, instrument_2024, kommuner):
    frame, expected = mixed
    shuffled = list(kommuner.codes)
    np.random.default_rng(0).shuffle(shuffled)
    for categories in (None, shuffled + ["999"]):  # observed codes only; all 98 in any order plus an unused one
        other = frame.assign(kommune=pd.Categorical(frame["kommune"], categories=categories))
        _assert_same_tables(compute_indicators(other, instrument_2024, kommuner), expected)
    other = frame.assign(kommune=frame["kommune"].astype(object))
    _assert_same_tables(compute_indicators(other, instrument_2024, kommuner), expected)


@pytest.mark.slow
def test_answers_as_text_or_other_numbers_give_the_same_tables(mixed, instrument_2024, kommuner):
    frame, expected = mixed
    coded = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    ticks = [c for c in frame.columns if frame[c].dtype == np.int8]
    as_text = frame.assign(**{c: frame[c].astype("str") for c in coded})
    _assert_same_tables(compute_indicators(as_text, instrument_2024, kommuner), expected)
    for dtype in ("float64", "Int8", "bool", "int64"):
        other = frame.assign(**{c: frame[c].astype(dtype) for c in ticks})
        _assert_same_tables(compute_indicators(other, instrument_2024, kommuner), expected)
    with_missing = frame.assign(**{c: frame[c].astype("float64").replace(0, np.nan) for c in ticks})  # missing = 0
    _assert_same_tables(compute_indicators(with_missing, instrument_2024, kommuner), expected)


def test_multi_select_other_than_zero_one_is_refused(mixed, instrument_2024, kommuner):
    frame, _ = mixed
    for bad in (2, -1, 256, 0.5):
        other = frame.copy()
        column = "use_contexts__monitorering"
        other[column] = other[column].astype("float64" if bad == 0.5 else "int64")
        other.loc[other.index[0], column] = bad
        with pytest.raises(ValueError, match="use_contexts"):
            compute_indicators(other, instrument_2024, kommuner)


@pytest.mark.parametrize("options", [1, 7, 8, 9, 17])
def test_tick_counts_by_answer_pattern_equal_plain_counts(options):
    from benchmark_pipeline.stats.indicators import _tick_counts

    rng = np.random.default_rng(options)
    kidx = rng.integers(0, 98, 5000)
    x = (rng.random((5000, options)) < 0.3).astype(np.uint8)
    expected = np.stack([np.bincount(kidx, weights=x[:, j], minlength=98) for j in range(options)], axis=1)
    np.testing.assert_array_equal(_tick_counts(kidx, x, 98), expected.astype(np.int64))
