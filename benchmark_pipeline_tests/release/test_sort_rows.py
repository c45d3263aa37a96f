"""The fixed row order of a published table: the key, national first, then the other columns on ties."""

from __future__ import annotations

import pandas as pd

from benchmark_pipeline.release import schema


def _frame(levels, codes, ids, shares):
    spec = schema.spec("indicator_values")
    frame = pd.DataFrame({c.name: pd.Series([None] * len(levels), dtype=schema.PANDAS_DTYPES[c.type])
                          for c in spec.columns})
    frame["release_id"] = "r"
    frame["survey_year"] = 2024
    frame["geography_level"] = pd.Series(levels, dtype="str")
    frame["geography_code"] = pd.Series(codes, dtype="str")
    frame["indicator_id"] = pd.Series(ids, dtype="str")
    frame["share"] = shares
    return frame


def test_geography_levels_come_national_first_then_the_rest_of_the_key():
    frame = _frame(["kommune", "national", "region", "kommune"], ["101", "DK", "1084", "099"],
                   ["a.x", "a.x", "a.x", "a.x"], [0.1, 0.2, 0.3, 0.4])
    out = schema.sort_rows("indicator_values", frame)
    assert list(out["geography_level"]) == ["national", "region", "kommune", "kommune"]
    assert list(out["geography_code"]) == ["DK", "1084", "099", "101"]


def test_rows_that_tie_on_the_key_are_ordered_by_the_other_columns():
    frame = _frame(["kommune", "kommune"], ["101", "101"], ["a.x", "a.x"], [0.9, 0.1])
    out = schema.sort_rows("indicator_values", frame)
    assert list(out["share"]) == [0.1, 0.9]
