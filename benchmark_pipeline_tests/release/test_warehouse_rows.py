"""Warehouse rows: plain Python values of the declared type, None for every kind of missing value."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark_pipeline.release import schema
from benchmark_pipeline.release.warehouse import records


def test_rows_hold_plain_values_and_none_for_missing():
    spec = schema.spec("kommune_benchmarks")  # text, integer, float and boolean columns
    sample = {"string": "x", "integer": 3, "float": 0.25, "boolean": True}
    frame = pd.DataFrame({c.name: pd.Series([sample[c.type], None], dtype=schema.PANDAS_DTYPES[c.type])
                          for c in spec.columns})
    [full, empty] = records("kommune_benchmarks", frame)
    expected_types = {"string": str, "integer": int, "float": float, "boolean": bool}
    assert {c.type for c in spec.columns} == set(expected_types)
    for column in spec.columns:
        assert type(full[column.name]) is expected_types[column.type], column.name
        assert full[column.name] == sample[column.type]
        assert empty[column.name] is None, column.name


def test_nan_and_na_become_none():
    spec = schema.spec("indicator_values")
    floats = [c.name for c in spec.columns if c.type == "float"]
    frame = pd.DataFrame({c.name: pd.Series([None], dtype=schema.PANDAS_DTYPES[c.type]) for c in spec.columns})
    frame[floats[0]] = [np.nan]
    [row] = records("indicator_values", frame)
    assert all(value is None for value in row.values())
