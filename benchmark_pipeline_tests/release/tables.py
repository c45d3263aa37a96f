"""Small, hand-built tables with the documented columns (the stats module is not needed here)."""

from __future__ import annotations

import numpy as np
import pandas as pd

KOMMUNER = [("101", "1084", "1"), ("147", "1084", "1"), ("751", "1082", "2"), ("860", "1081", "4")]
INDICATORS = [("ai_use.ja", "ai_use", "ja"), ("ai_use.nej", "ai_use", "nej"), ("data_use_change.mere", "data_use_change", "mere")]


def make_tables(year: int, bump: float = 0.0) -> dict[str, pd.DataFrame]:
    """All the published tables for one year; `bump` shifts every share (a 'changed input')."""
    rng = np.random.default_rng(year)
    geos = [("national", "DK"), ("region", "1084"), ("region", "1082"), ("kommunegruppe", "1")]
    geos += [("kommune", k) for k, _, _ in KOMMUNER]
    iv = []
    for level, code in geos:
        for ind, q, o in INDICATORS:
            n = int(rng.integers(20, 400))
            share = round(float(rng.uniform(0.1, 0.9)) + bump, 6)
            suppressed = code == "860"
            iv.append(
                {
                    "survey_year": year,
                    "geography_level": level,
                    "geography_code": code,
                    "indicator_id": ind,
                    "question_id": q,
                    "option_id": o,
                    "measure": "share",
                    "n": None if suppressed else n,
                    "count": None if suppressed or level == "kommune" else round(n * share),
                    "share": None if suppressed else share,
                    "ci_low": None if suppressed else share - 0.05,
                    "ci_high": None if suppressed else share + 0.05,
                    "suppressed": suppressed,
                    "suppression_reason": "n under 5" if suppressed else None,
                }
            )
    indicator_values = pd.DataFrame(iv).sample(frac=1, random_state=3)  # shuffled: the store must sort
    barrier = pd.DataFrame(
        [
            {
                "survey_year": year,
                "geography_level": level,
                "geography_code": code,
                "barrier_id": b,
                "n": 50,
                "score": 1.5 + i / 10 + bump,
                "score_ci_low": 1.2,
                "score_ci_high": 1.9,
                "top3_share": 0.4,
                "first_share": 0.2,
                "suppressed": False,
                "suppression_reason": None,
            }
            for level, code in geos[:3]
            for i, b in enumerate(["jura", "økonomi", "kompetencer"])
        ]
    )
    yoy = pd.DataFrame(
        [
            {
                "survey_year": year,
                "comparison": "previous_year",
                "base_year": year - 1,
                "geography_level": "national",
                "geography_code": "DK",
                "indicator_id": ind,
                "share": 0.5 + bump,
                "share_base": 0.45,
                "diff_pp": 5.0 + 100 * bump,
                "diff_ci_low_pp": 1.0,
                "diff_ci_high_pp": 9.0,
                "p_value": 0.01,
                "q_value": 0.03,
                "significant": True,
                "relative_growth": 0.1111111111111111,
            }
            for ind, _, _ in INDICATORS
        ]
    )
    kb = pd.DataFrame(
        [
            {
                "survey_year": year,
                "kommune_kode": k,
                "indicator_id": ind,
                "n": None if k == "860" else 30,
                "share": None if k == "860" else 0.3 + bump,
                "share_shrunk": None if k == "860" else 0.32,
                "national_share": None if k == "860" else 0.4,
                "region_share": None if k == "860" else 0.35,
                "group_share": None if k == "860" else 0.33,
                "diff_national_pp": None if k == "860" else -10.0,
                "diff_region_pp": None if k == "860" else -5.0,
                "diff_group_pp": None if k == "860" else -3.0,
                "percentile": None if k == "860" else 25.0,
                "percentile_of": None if k == "860" else 3,
                **{f"{scope}_{stat}": None if k == "860" else value
                   for scope in ("national", "group")
                   for stat, value in (("min", 0.1), ("median", 0.3 + bump), ("max", 0.6), ("published", 3))},
                "suppressed": k == "860",
                "suppression_reason": "n under 5" if k == "860" else None,
            }
            for k, _, _ in KOMMUNER
            for ind, _, _ in INDICATORS
        ]
    )
    trends = pd.DataFrame(
        [
            {
                "survey_year": year,
                "geography_level": "national",
                "geography_code": "DK",
                "indicator_id": ind,
                "first_year": year - 2,
                "years": 3,
                "share_first": 0.4,
                "share": 0.5 + bump,
                "slope_pp_per_year": 5.0 + 50 * bump,
                "slope_ci_low_pp": 1.0,
                "slope_ci_high_pp": 9.0,
                "p_value": 0.01,
                "q_value": 0.03,
                "significant": True,
            }
            for ind, _, _ in INDICATORS
        ]
    )
    summary = pd.DataFrame(
        [
            {
                "survey_year": year,
                "respondents": 812,
                "responding_kommuner": 3,
                "non_responses": 95,
                "quarantined_rows": 4,
                "respondents_change": None,
                "responding_kommuner_change": None,
                "non_responses_change": None,
                "quarantined_rows_change": None,
            }
        ]
    )
    quarantine = pd.DataFrame(
        [
            {"survey_year": year, "rule": "kommune_unknown", "column": "kommune", "rows": 3},
            {"survey_year": year, "rule": "duplicate_respondent", "column": None, "rows": 1},
        ]
    )
    return {
        "indicator_values": indicator_values,
        "barrier_scores": barrier,
        "yoy_changes": yoy,
        "trends": trends,
        "kommune_benchmarks": kb,
        "year_summary": summary,
        "quarantine_summary": quarantine,
    }
