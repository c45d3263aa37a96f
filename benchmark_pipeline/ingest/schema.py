"""The canonical frame's contract: its column names and order, and its pandera schema, per survey year."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from benchmark_pipeline.instrument import MAX_RANK, Question, YearInstrument
from benchmark_pipeline.reference import Kommuner


def andet_column(question_id: str) -> str:
    return f"{question_id}__andet_tekst"


def andet_questions(instrument: YearInstrument) -> tuple[Question, ...]:
    return tuple(q for q in instrument.of_kind("single", "multi", "ranked") if q.has_andet)


def canonical_column_order(instrument: YearInstrument) -> list[str]:
    cols = ["respondent_id", "source_row"] + instrument.canonical_columns()[1:]
    return cols + [andet_column(q.id) for q in andet_questions(instrument)]


def _rank_codes(df: pd.DataFrame, qid: str) -> np.ndarray:
    """Rank columns as category codes (-1 = none): integer comparisons instead of string ones."""
    return np.column_stack([
        df[f"{qid}__{r}"].cat.codes.to_numpy() if isinstance(df[f"{qid}__{r}"].dtype, pd.CategoricalDtype)
        else pd.factorize(df[f"{qid}__{r}"])[0]
        for r in range(1, MAX_RANK + 1)
    ])


def _ranks_distinct(df: pd.DataFrame, qid: str) -> pd.Series:
    codes = _rank_codes(df, qid)
    ok = np.ones(len(df), dtype=bool)
    for a in range(MAX_RANK):
        for b in range(a + 1, MAX_RANK):
            ok &= ~((codes[:, a] >= 0) & (codes[:, a] == codes[:, b]))
    return pd.Series(ok, index=df.index)


def _first_rank_present(df: pd.DataFrame, qid: str) -> pd.Series:
    codes = _rank_codes(df, qid)
    return pd.Series((codes[:, 0] >= 0) | ~(codes[:, 1:] >= 0).any(axis=1), index=df.index)


def canonical_schema(instrument: YearInstrument, kommuner: Kommuner | None = None) -> pa.DataFrameSchema:
    """The contract of the validated frame (docs/architecture.md "The canonical frame") for one year."""
    columns: dict[str, pa.Column] = {
        "respondent_id": pa.Column(str, nullable=False, unique=True),
        "source_row": pa.Column("int64", pa.Check.ge(1), unique=True),
    }
    for q in instrument.questions:
        if q.kind == "kommune":
            check = pa.Check.isin(kommuner.codes) if kommuner is not None else pa.Check.str_matches(r"^\d{3}$")
            columns[q.id] = pa.Column(str, check, nullable=False)
        elif q.kind == "single":
            columns[q.id] = pa.Column(pd.CategoricalDtype(list(q.option_ids)), nullable=True)
        elif q.kind == "multi":
            for o in q.option_ids:
                # in_range on int8 is isin([0, 1]) as one vectorised comparison instead of a hash lookup
                columns[f"{q.id}__{o}"] = pa.Column("int8", pa.Check.in_range(0, 1), nullable=False)
        elif q.kind == "ranked":
            for r in range(1, MAX_RANK + 1):
                columns[f"{q.id}__{r}"] = pa.Column(pd.CategoricalDtype(list(q.option_ids)), nullable=True)
        elif q.kind == "text":
            columns[q.id] = pa.Column(str, nullable=True)
    for q in andet_questions(instrument):
        columns[andet_column(q.id)] = pa.Column(str, nullable=True)
    checks = []
    for q in instrument.of_kind("ranked"):
        # The rank checks judge blanks themselves (code -1); ignore_na=False spares pandera a null scan
        # of the whole frame per check.
        checks.append(pa.Check(lambda df, qid=q.id: _ranks_distinct(df, qid), name=f"{q.id}_ranks_distinct",
                               ignore_na=False))
        checks.append(pa.Check(lambda df, qid=q.id: _first_rank_present(df, qid), name=f"{q.id}_rank_1_present",
                               ignore_na=False))
    order = canonical_column_order(instrument)
    assert list(columns) == order, (list(columns), order)
    return pa.DataFrameSchema(
        columns, checks=checks, strict=True, ordered=True, name=f"canonical_{instrument.survey_year}"
    )
