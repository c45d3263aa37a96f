"""Minimal decoders of the written exports back to the canonical answers, for round-trip tests only.

Deliberately independent of `benchmark_pipeline.ingest` (which is developed separately): they assume
well-formed files as the sample writers produce them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark_pipeline.instrument import MAX_RANK, YearInstrument


def _ids(values: pd.Series) -> pd.Series:
    return values.map(lambda v: None if pd.isna(v) else str(int(v)) if isinstance(v, (int, float, np.number)) else str(v))


def decode_surveyxact(dataset: pd.DataFrame, instrument: YearInstrument) -> pd.DataFrame:
    out = {"respondent_id": _ids(dataset[instrument.respondent_id])}
    for q in instrument.questions:
        if q.kind == "kommune":
            out["kommune"] = _ids(dataset[q.variable])
        elif q.kind == "single":
            by_code = {o.code: o.id for o in q.options}
            out[q.id] = dataset[q.variable].map(lambda v: None if pd.isna(v) else by_code[int(v)])
        elif q.kind == "multi":
            for o in q.options:
                out[f"{q.id}__{o.id}"] = dataset[o.variable].fillna(0).astype(int)
        elif q.kind == "ranked":
            for r in range(1, MAX_RANK + 1):
                col = pd.Series([None] * len(dataset), dtype=object)
                for o in q.options:
                    col[dataset[o.variable].to_numpy() == r] = o.id
                out[f"{q.id}__{r}"] = col
        elif q.kind == "text":
            out[q.id] = dataset[q.variable].map(lambda v: None if pd.isna(v) or v == "" else v)
    return pd.DataFrame(out)


def split_cell(value) -> list[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    return [p for p in str(value).split(";") if p != ""]


def decode_forms(sheet: pd.DataFrame, instrument: YearInstrument, name_to_code: dict[str, str]) -> pd.DataFrame:
    out = {"respondent_id": _ids(sheet["ID"])}
    for q in instrument.questions:
        cells = sheet[q.column or q.text]
        if q.kind == "kommune":
            out["kommune"] = cells.map(name_to_code.get)
        elif q.kind == "single":
            by_label = {o.label: o.id for o in q.options}
            out[q.id] = cells.map(lambda v: None if pd.isna(v) else by_label.get(v, "andet"))
        elif q.kind == "multi":
            by_label = {o.label: o.id for o in q.options}
            chosen = cells.map(lambda v: {by_label.get(p, "andet") for p in split_cell(v)})
            for o in q.options:
                out[f"{q.id}__{o.id}"] = chosen.map(lambda s, o=o: int(o.id in s))
        elif q.kind == "ranked":
            by_label = {o.label: o.id for o in q.options}
            parts = cells.map(split_cell)
            for r in range(MAX_RANK):
                out[f"{q.id}__{r + 1}"] = parts.map(lambda p, r=r: by_label[p[r]] if len(p) > r else None)
        elif q.kind == "text":
            out[q.id] = cells.map(lambda v: None if pd.isna(v) else v)
    return pd.DataFrame(out)


def comparable(answers: pd.DataFrame, instrument: YearInstrument) -> pd.DataFrame:
    """The canonical columns as plain objects (None for missing), for equality checks."""
    frame = answers[instrument.canonical_columns()].astype(object)
    frame = frame.where(frame.notna(), None)
    for c in frame.columns:
        if "__" in c and not c.split("__")[1].isdigit():
            frame[c] = frame[c].astype(int)
    return frame.reset_index(drop=True)
