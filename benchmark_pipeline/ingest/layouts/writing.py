"""Answers (the canonical frame of stable ids) as the cells of an export: what the layouts' writers share.

The writers make the synthetic samples and the test exports; each layout writes what its reader reads back.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark_pipeline.instrument import SUBSTANTIVE_QUESTIONS, Question, YearInstrument


def _answered_mask(answers: pd.DataFrame, q: Question) -> np.ndarray:
    """Whether each respondent answered question `q` (any option ticked / any rank / a value)."""
    cols = [c for c in q.canonical_columns() if c in answers.columns]
    if not cols:
        return np.zeros(len(answers), dtype=bool)
    if q.kind == "multi":
        return (answers[cols].fillna(0).astype("int64").to_numpy() == 1).any(axis=1)
    return answers[cols].notna().to_numpy().any(axis=1)


def response_mask(answers: pd.DataFrame, instrument: YearInstrument) -> np.ndarray:
    """True for rows that answer at least one substantive question (False = non-response)."""
    mask = np.zeros(len(answers), dtype=bool)
    for q in instrument.questions:
        if q.id in SUBSTANTIVE_QUESTIONS:
            mask |= _answered_mask(answers, q)
    return mask


def as_object(series: pd.Series) -> np.ndarray:
    """Values as an object array with None for missing."""
    arr = series.astype(object).to_numpy()
    return np.where(pd.isna(arr), None, arr)


def map_through(series: pd.Series, mapping: dict) -> pd.Series:
    """Map known values, keep unknown ones as they are (so invalid values can be planted), NA stays NA."""
    obj = series.astype(object)
    mapped = obj.map(mapping)
    return mapped.where(mapped.notna(), obj)


def numeric_or_text(series: pd.Series) -> pd.Series:
    """Int64 when every present value is an integer (or integer literal), else the values unchanged."""
    obj = series.astype(object)
    num = pd.to_numeric(obj, errors="coerce")
    present = obj.notna().to_numpy()
    values = num.to_numpy(dtype="float64", na_value=np.nan)
    if np.isnan(values[present]).any() or (np.mod(values[present], 1) != 0).any():
        # Mixed with planted non-numeric values: keep integral numbers as ints, the rest as they are.
        return obj.map(lambda v: int(v) if isinstance(v, (float, np.floating)) and float(v).is_integer() else v)
    return num.astype("Int64")


def rank_columns(answers: pd.DataFrame, q: Question) -> list[np.ndarray]:
    """The option id at each rank (object arrays, None for no option)."""
    return [as_object(answers[c]) if c in answers.columns else np.full(len(answers), None, dtype=object)
            for c in q.canonical_columns()]


def multi_matrix(answers: pd.DataFrame, q: Question) -> np.ndarray:
    cols = []
    for c in q.canonical_columns():
        cols.append(answers[c].fillna(0).astype("int64").to_numpy() if c in answers.columns
                    else np.zeros(len(answers), dtype=np.int64))
    return np.column_stack(cols) if cols else np.zeros((len(answers), 0), dtype=np.int64)


def timestamps(rng: np.random.Generator, survey_year: int, n: int) -> tuple[pd.Series, pd.Series]:
    start = pd.Timestamp(f"{survey_year}-09-01 08:00:00") + pd.to_timedelta(
        rng.integers(0, 30 * 24 * 3600, size=n), unit="s")
    done = start + pd.to_timedelta(rng.integers(120, 1500, size=n), unit="s")
    return pd.Series(start), pd.Series(done)
