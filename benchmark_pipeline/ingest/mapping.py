"""Mapping a raw export onto the canonical frame of docs/architecture.md, collecting row problems.

The steps every layout shares live here: the column plan (and which variables are missing), kommune,
single choices, free text, own "Andet" texts, warnings. How a layout names its columns and spreads a
multi-select or a ranking over them, its module in `layouts/` says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from benchmark_pipeline.instrument import MAX_RANK, Question, YearInstrument
from benchmark_pipeline.reference import Kommuner

from .errors import MissingVariablesError
from .layouts import BY_NAME, Layout
from .pii import mask_text
from .raw import RawColumns, RawExport
from .schema import andet_column, andet_questions, canonical_column_order
from .values import (
    INVALID_CODE,
    NA_CODE,
    Problems,
    idx_mask,
    invalid_messages,
    map_unique,
    na_str,
    option_codes,
    option_lookup,
    shown,
    take_str,
    trimmed,
)


@dataclass
class Mapped:
    frame: pd.DataFrame  # canonical columns for every raw row (NA where a value was invalid)
    answered: np.ndarray  # row answered at least one substantive question
    problems: pd.DataFrame  # pos, column, rule, message
    warnings: pd.DataFrame
    source_columns: list[str]  # raw columns used (duplicate detection, quarantine output)
    free_text_columns: set[str]  # raw columns that may hold free text (never shown)
    id_column: str
    pii_masked: int = 0


@dataclass
class _Filling:
    """The canonical columns being filled from one raw export, and what turns up on the way."""

    raw: RawExport
    layout: Layout
    instrument: YearInstrument
    out: dict[str, object] = field(default_factory=dict)
    problems: Problems = field(default_factory=Problems)
    free_text: set[str] = field(default_factory=set)
    own_texts: dict[str, pd.Series] = field(default_factory=dict)
    pii: int = 0

    @property
    def frame(self) -> pd.DataFrame:
        return self.raw.frame

    def masked(self, series: pd.Series) -> pd.Series:
        """Free text trimmed, and masked unless the reader masked it already."""
        masked, count = (trimmed(series), 0) if self.raw.masked else mask_text(series)
        self.pii += count
        return masked


@dataclass(frozen=True)
class ColumnPlan:
    """Which raw column feeds each canonical part: the one answer to "which columns does the year use"."""

    columns: RawColumns  # every raw column found (`used`) and every required one not found (`missing`)
    id_column: str | None
    questions: dict[str, str | list[str | None] | None]  # question id -> its raw column(s), see `Layout.planned`
    own_texts: dict[str, str | None]  # question id -> the layout's own column for its "Andet" text

    @classmethod
    def of(cls, raw: RawExport, instrument: YearInstrument) -> "ColumnPlan":
        layout = BY_NAME[raw.layout]
        columns = RawColumns(raw)
        id_column = columns.get(layout.id_column(instrument), "respondent id")
        questions = {q.id: layout.planned(q, columns) for q in instrument.questions}
        own_texts = {}
        for q in andet_questions(instrument):
            if (name := layout.own_text_column(q)) is not None:
                own_texts[q.id] = columns.get(name, name, required=False)
        return cls(columns, id_column, questions, own_texts)

    @property
    def used(self) -> list[str]:
        return list(dict.fromkeys(self.columns.used))


def map_to_canonical(raw: RawExport, instrument: YearInstrument, kommuner: Kommuner) -> Mapped:
    """Every raw row mapped onto the canonical columns, with the row problems found on the way."""
    layout = BY_NAME[raw.layout]
    column_plan = ColumnPlan.of(raw, instrument)
    _require(column_plan.columns, raw, instrument)
    id_col, plan = column_plan.id_column, column_plan.questions

    fill = _Filling(raw, layout, instrument)
    n = len(raw.frame)
    fill.out["respondent_id"] = trimmed(raw.frame[id_col])
    fill.out["source_row"] = raw.frame["source_row"].to_numpy(dtype="int64")
    answered = np.zeros(n, dtype=bool)
    substantive = {q.id for q in instrument.substantive_questions}
    for q in instrument.questions:
        spec = plan[q.id]
        if q.kind == "kommune":
            _kommune(fill, q, spec, kommuner)
        elif q.kind == "text":
            fill.out[q.id] = na_str(n) if spec is None else _free_text(fill, spec)
        else:
            answered_q = _single(fill, q, spec) if q.kind == "single" else _choices(fill, q, spec)
            if q.id in substantive:
                answered |= answered_q
    _own_texts(fill, column_plan.own_texts)

    frame = pd.DataFrame({c: _as_array(fill.out[c]) for c in canonical_column_order(instrument)})
    frame["respondent_id"] = frame["respondent_id"].astype("str")
    frame["kommune"] = frame["kommune"].astype("str")
    warnings = Problems()
    _warnings(frame, instrument, plan, warnings)
    return Mapped(
        frame=frame,
        answered=answered,
        problems=fill.problems.frame(),
        warnings=warnings.frame(),
        source_columns=column_plan.used,
        free_text_columns=fill.free_text,
        id_column=id_col,
        pii_masked=fill.pii,
    )


def _require(columns: RawColumns, raw: RawExport, instrument: YearInstrument) -> None:
    """Stop the year when a required variable of the mapping is not in the export."""
    if not columns.missing:
        return
    hint = ""
    if len(columns.missing) > max(3, len(columns.used) + len(columns.missing)) // 2:
        hint = (
            f" (most of the mapping's variables are missing: is this another survey year's export, "
            f"placed under {instrument.survey_year}?)"
        )
    raise MissingVariablesError(
        f"required variable(s) missing for the {instrument.survey_year} mapping ({raw.layout}): "
        + ", ".join(columns.missing) + hint,
        file=raw.path,
        column=columns.missing[0] if len(columns.missing) == 1 else None,
    )


def _kommune(fill: _Filling, q: Question, column: str, kommuner: Kommuner) -> None:
    s = fill.frame[column]
    resolved_codes = list(kommuner.codes)
    index_of = {c: i for i, c in enumerate(resolved_codes)}

    def resolve(v: str) -> int:
        code = kommuner.resolve(v)
        return index_of[code] if code is not None else INVALID_CODE

    idx = map_unique(s, resolve)
    bad = np.flatnonzero(idx < 0)
    if len(bad):
        values = s.iloc[bad].to_numpy()
        msgs = [
            "kommune is missing" if pd.isna(v) or not str(v).strip() else f"{shown(v)} is not one of the 98 kommuner"
            for v in values
        ]
        fill.problems.add(bad, column, "unknown_kommune", msgs)
    fill.out[q.id] = take_str(resolved_codes, idx)


def _free_text(fill: _Filling, column: str) -> pd.Series:
    fill.free_text.add(column)
    return fill.masked(fill.frame[column])


def _single(fill: _Filling, q: Question, column: str) -> np.ndarray:
    """A single choice; an unknown value is invalid, or own "Andet" text where the layout writes it there."""
    s = fill.frame[column]
    n = len(s)
    idx = option_codes(s, option_lookup(q, fill.layout, fill.instrument))
    bad = np.flatnonzero(idx == INVALID_CODE)
    text = na_str(n)
    if len(bad):
        if fill.layout.own_text_in_choice and q.has_andet:
            fill.free_text.add(column)
            idx[bad] = q.option_ids.index("andet")
            text = s.where(idx_mask(n, bad))
        else:
            fill.problems.add(bad, column, "invalid_value", invalid_messages(s, bad, q, fill.layout))
    if q.has_andet:
        fill.own_texts[q.id] = text
    fill.out[q.id] = pd.Categorical.from_codes(np.where(idx >= 0, idx, -1), categories=q.option_ids)
    return idx != NA_CODE


def _choices(fill: _Filling, q: Question, spec) -> np.ndarray:
    """A multi-select (one 1/0 column per option) or a ranking (MAX_RANK columns), decoded by the layout."""
    layout = fill.layout
    if layout.own_text_in_choice and q.has_andet:
        fill.free_text.add(spec)
    decode = layout.decode_multi if q.kind == "multi" else layout.decode_ranked
    decoded = decode(q, fill.frame, spec, fill.instrument, fill.problems)
    if q.kind == "multi":
        for i, o in enumerate(q.options):
            fill.out[f"{q.id}__{o.id}"] = decoded.values[:, i]
    else:
        for r in range(MAX_RANK):
            ranks = decoded.values[:, r]
            fill.out[f"{q.id}__{r + 1}"] = pd.Categorical.from_codes(np.where(ranks >= 0, ranks, -1),
                                                                     categories=q.option_ids)
    if decoded.own_texts is not None:
        fill.own_texts[q.id] = decoded.own_texts
    return decoded.answered


def _own_texts(fill: _Filling, given: dict[str, str | None]) -> None:
    """`<q>__andet_tekst`: the own text found in the choice cells, else the layout's own column for it."""
    n = len(fill.frame)
    for q in andet_questions(fill.instrument):
        column = given.get(q.id)
        text = fill.own_texts.get(q.id)
        if column is not None:
            fill.free_text.add(column)
            extra = fill.frame[column].astype("str")
            text = extra if text is None else text.fillna(extra)
        if text is None:
            text = na_str(n)
        fill.out[andet_column(q.id)] = fill.masked(text.reset_index(drop=True))


def _by_count(counts: np.ndarray, message: Callable[[int], str]) -> np.ndarray:
    """One message per row that depends only on a small count: each distinct text is formatted once."""
    if not len(counts):
        return np.array([], dtype=object)
    texts = np.array([message(k) for k in range(int(counts.max()) + 1)], dtype=object)
    return texts[counts]


def _as_array(value):
    if isinstance(value, pd.Series):
        return value.reset_index(drop=True)
    return value


def _warnings(frame: pd.DataFrame, instrument: YearInstrument, plan: dict, warnings: Problems) -> None:
    """Kept rows that look odd: 'ingen' anchoring together with a level, a ranking of fewer than three."""
    if instrument.has("anchoring_levels") and "ingen" in instrument.question("anchoring_levels").option_ids:
        q = instrument.question("anchoring_levels")
        others = [f"{q.id}__{o}" for o in q.option_ids if o != "ingen"]
        clash = (frame[f"{q.id}__ingen"].to_numpy() == 1) & (frame[others].to_numpy().sum(axis=1) > 0)
        spec = plan[q.id]
        column = spec if isinstance(spec, str) else spec[q.option_ids.index("ingen")]
        warnings.add(np.flatnonzero(clash), column, "ingen_with_other_level",
                     "anchoring_levels: 'ingen' (not anchored) is chosen together with another level")
    for q in instrument.of_kind("ranked"):
        ranked = frame[[f"{q.id}__{r}" for r in range(1, MAX_RANK + 1)]].notna().to_numpy().sum(axis=1)
        few = np.flatnonzero((ranked > 0) & (ranked < MAX_RANK))
        spec = plan[q.id]
        column = spec if isinstance(spec, str) else spec[0]
        warnings.add(few, column, "fewer_than_three_barriers",
                     _by_count(ranked[few], lambda k: f"{q.id}: only {k} of {MAX_RANK} barriers ranked"))
