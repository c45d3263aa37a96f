"""The year summary."""

from __future__ import annotations

import pandas as pd
import pytest

from benchmark_pipeline.stats import compute_year_summary
from benchmark_pipeline.stats.tables import YEAR_SUMMARY_COLUMNS
from benchmark_pipeline_tests.stats.helpers import make_frame


def test_first_year_then_changes(instrument_2024):
    v23 = make_frame(instrument_2024, [{"kommune": k, "data_use_change": "mere"} for k in ["101", "101", "147"]])
    s23 = compute_year_summary(2023, {"rows_valid": 3, "rows_empty": 10, "rows_quarantined": 1}, v23, None)
    assert list(s23.columns) == YEAR_SUMMARY_COLUMNS
    r = s23.iloc[0]
    assert (r["respondents"], r["responding_kommuner"], r["non_responses"], r["quarantined_rows"]) == (3, 2, 10, 1)
    assert s23[[c for c in YEAR_SUMMARY_COLUMNS if c.endswith("_change")]].isna().all().all()

    v24 = make_frame(instrument_2024, [{"kommune": k, "data_use_change": "mere"} for k in ["101", "151", "153", "155"]])
    s24 = compute_year_summary(2024, {"rows_valid": 4, "rows_empty": 7, "rows_quarantined": 0}, v24, s23)
    r = s24.iloc[0]
    assert (r["respondents_change"], r["responding_kommuner_change"]) == (1, 2)
    assert (r["non_responses_change"], r["quarantined_rows_change"]) == (-3, -1)
    # a history of several years: the change is against the latest earlier year
    s25 = compute_year_summary(2025, {"rows_empty": 7, "rows_quarantined": 0}, v24, pd.concat([s23, s24]))
    assert s25.iloc[0]["respondents_change"] == 0


def test_inconsistent_counts_are_refused(instrument_2024):
    v = make_frame(instrument_2024, [{"kommune": "101"}])
    with pytest.raises(ValueError):
        compute_year_summary(2024, {"rows_valid": 2, "rows_empty": 0, "rows_quarantined": 0}, v, None)
    with pytest.raises(ValueError):
        compute_year_summary(2024, {"rows_valid": 1}, v, None)
