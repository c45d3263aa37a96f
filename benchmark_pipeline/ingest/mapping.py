"""Mapping a raw export onto the canonical frame of docs/architecture.md, collecting row problems.

Everything is vectorised: values are factorised and each distinct value is looked up once, so a
million-row canonical CSV costs a few passes over its columns, not a Python loop per respondent.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from benchmark_pipeline.instrument import MAX_RANK, Question, YearInstrument
from benchmark_pipeline.reference import Kommuner

from .errors import MissingVariablesError
from .pii import mask_text, mask_value
from .readers import RawExport, header_key

NA_CODE, INVALID_CODE = -1, -2
_NUMBER_RE = re.compile(r"\+?0*(\d+)(?:\.0*)?")
MAX_SHOWN = 40
PROBLEM_COLUMNS = ["pos", "column", "rule", "message"]


def value_key(value: str) -> str:
    """How answer values are compared: NFC, whitespace collapsed, case-insensitive, "01"/"1.0" as "1"."""
    key = re.sub(r"\s+", " ", unicodedata.normalize("NFC", str(value))).strip().casefold()
    m = _NUMBER_RE.fullmatch(key)
    return m.group(1) if m else key


def shown(value: object) -> str:
    """A non-free-text value as quoted in a message: masked and shortened."""
    text = mask_value(str(value))
    return repr(text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…")


def andet_column(question_id: str) -> str:
    return f"{question_id}__andet_tekst"


def andet_questions(instrument: YearInstrument) -> tuple[Question, ...]:
    return tuple(q for q in instrument.of_kind("single", "multi", "ranked") if q.has_andet)


def canonical_column_order(instrument: YearInstrument) -> list[str]:
    cols = ["respondent_id", "source_row"] + instrument.canonical_columns()[1:]
    return cols + [andet_column(q.id) for q in andet_questions(instrument)]


def _encoded(series: pd.Series) -> tuple[np.ndarray, object]:
    """Codes (-1 for NA) and the distinct values (an Arrow array or a pandas Index), hashed once.

    A categorical has them already; an Arrow-backed column is dictionary-encoded by Arrow, without a
    Python object per value.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(), series.cat.categories
    to_arrow = getattr(series.array, "__arrow_array__", None)
    if to_arrow is not None and len(series):
        arr = to_arrow()
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        encoded = arr.dictionary_encode()
        return pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), encoded.dictionary
    return pd.factorize(series, use_na_sentinel=True)


def factorize(series: pd.Series) -> tuple[np.ndarray, list]:
    """Codes (-1 for NA) and the distinct values as a list."""
    codes, uniques = _encoded(series)
    return codes, uniques.to_pylist() if isinstance(uniques, pa.Array) else list(uniques)


def repeated(series: pd.Series) -> np.ndarray:
    """True where a value (not NA) occurs more than once: `duplicated(keep=False)`, hashed by Arrow."""
    codes, uniques = _encoded(series)
    if not len(uniques):
        return np.zeros(len(codes), dtype=bool)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    return (codes >= 0) & (counts[np.maximum(codes, 0)] > 1)


def map_unique(series: pd.Series, func: Callable[[str], int], na: int = NA_CODE) -> np.ndarray:
    """func applied once per distinct value; NA and blank (whitespace only) give `na`.

    The result has the smallest signed integer type that holds the looked-up codes (a million rows of small
    codes stay small); a code of -1 (NA) picks the table's last entry.
    """
    codes, uniques = factorize(series)
    table = np.fromiter(
        (na if not str(u).strip() else func(u) for u in uniques), dtype=np.int64, count=len(uniques)
    )
    table = np.append(table, na)
    smallest = np.result_type(np.int8, np.min_scalar_type(table.min()), np.min_scalar_type(table.max()))
    return table.astype(smallest)[codes]


def binary_codes(series: pd.Series) -> np.ndarray:
    """Multi-select cells as 1/0 (blank = 0), INVALID_CODE elsewhere; pure Arrow when all cells are 0/1/blank."""
    to_arrow = getattr(series.array, "__arrow_array__", None)
    if to_arrow is not None and len(series) and not isinstance(series.dtype, pd.CategoricalDtype):
        arr = to_arrow()
        is_one = pc.equal(arr, "1")
        known = pc.fill_null(pc.or_(is_one, pc.equal(arr, "0")), True)
        if pc.all(known).as_py():
            return pc.fill_null(is_one, False).to_numpy(zero_copy_only=False).astype(np.int64)
    return map_unique(series, _binary, na=0)


def na_str(n: int) -> pd.Series:
    """An all-NA text column, built without a Python list."""
    return pd.Series(pa.nulls(n, pa.string()), dtype="str")


def take_str(values: list, idx: np.ndarray) -> pd.Series:
    """values[idx] as a text column (idx < 0 gives NA), through Arrow's take."""
    table = pa.array(list(values) + [None], type=pa.string())
    return pd.Series(table.take(pa.array(np.where(idx >= 0, idx, len(values)))), dtype="str")


def trimmed(series: pd.Series) -> pd.Series:
    s = series.astype("str").str.strip()
    return s.where(s != "")


@dataclass
class Problems:
    """Row problems (quarantine rules) or warnings, as positions into the raw frame."""

    parts: list[pd.DataFrame] = field(default_factory=list)

    def add(self, positions, column: str, rule: str, message) -> None:
        positions = np.asarray(positions, dtype=np.int64)
        if len(positions):
            self.parts.append(pd.DataFrame({"pos": positions, "column": column, "rule": rule, "message": message}))

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({c: pd.Series([], dtype="int64" if c == "pos" else "str") for c in PROBLEM_COLUMNS})
        out = pd.concat(self.parts, ignore_index=True)
        return out.astype({"pos": "int64", "column": "str", "rule": "str", "message": "str"})


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


def option_lookup(q: Question, layout: str, instrument: YearInstrument) -> dict[str, int]:
    """Value key -> option index. Forms writes labels; other layouts may hold codes, ids or labels."""
    lookup: dict[str, int] = {}
    aliases = {(c.option, value_key(v)) for c in instrument.label_changes if c.question == q.id for v in (c.before, c.after)}
    for i, o in enumerate(q.options):
        keys = [value_key(o.label)] + [k for (opt, k) in aliases if opt == o.id]
        if layout != "msforms_xlsx":
            keys = [str(o.code), value_key(o.id)] + keys
        for k in keys:
            lookup.setdefault(k, i)
    return lookup


class _Columns:
    """Finds the raw columns a layout spells each canonical part with, collecting what is missing."""

    def __init__(self, raw: RawExport):
        self.by_key = {header_key(c): c for c in raw.frame.columns if c != "source_row"}
        self.missing: list[str] = []
        self.used: list[str] = []

    def get(self, name: str | None, what: str, required: bool = True) -> str | None:
        if name is None:
            if required:
                self.missing.append(f"{what} (no variable in the mapping)")
            return None
        col = self.by_key.get(header_key(name))
        if col is None:
            if required:
                self.missing.append(name)
            return None
        self.used.append(col)
        return col


def map_to_canonical(raw: RawExport, instrument: YearInstrument, kommuner: Kommuner) -> Mapped:
    """Every raw row mapped onto the canonical columns, with the row problems found on the way."""
    layout = raw.layout
    df = raw.frame
    n = len(df)
    cols = _Columns(raw)
    problems, warnings = Problems(), Problems()
    free_text: set[str] = set()

    def spelled(q: Question) -> str | None:
        if layout == "canonical_csv":
            return q.id
        if layout == "msforms_xlsx":
            return q.column or q.text
        return q.variable

    id_name = "respondent_id" if layout == "canonical_csv" else instrument.respondent_id
    id_col = cols.get(id_name, "respondent id")
    plan: dict[str, object] = {}
    for q in instrument.questions:
        if q.kind in ("kommune", "single", "text") or layout == "msforms_xlsx":
            plan[q.id] = cols.get(spelled(q), q.id, required=q.kind != "text")
        elif q.kind == "multi":
            if layout == "canonical_csv":
                plan[q.id] = [cols.get(f"{q.id}__{o.id}", f"{q.id}.{o.id}") for o in q.options]
            else:
                plan[q.id] = [cols.get(o.variable, f"{q.id}.{o.id}") for o in q.options]
        elif q.kind == "ranked":
            if layout == "canonical_csv":
                plan[q.id] = [cols.get(f"{q.id}__{r}", f"{q.id} rank {r}") for r in range(1, MAX_RANK + 1)]
            else:
                plan[q.id] = [cols.get(o.variable, f"{q.id}.{o.id}") for o in q.options]
    andet_given = {}
    if layout == "canonical_csv":
        for q in andet_questions(instrument):
            andet_given[q.id] = cols.get(andet_column(q.id), andet_column(q.id), required=False)
    if cols.missing:
        hint = ""
        if len(cols.missing) > max(3, len(cols.used) + len(cols.missing)) // 2:
            hint = (
                f" (most of the mapping's variables are missing: is this another survey year's export, "
                f"placed under {instrument.survey_year}?)"
            )
        raise MissingVariablesError(
            f"required variable(s) missing for the {instrument.survey_year} mapping ({layout}): "
            + ", ".join(cols.missing) + hint,
            file=raw.path,
            column=cols.missing[0] if len(cols.missing) == 1 else None,
        )

    def mask(series: pd.Series) -> tuple[pd.Series, int]:
        return (trimmed(series), 0) if raw.masked else mask_text(series)

    out: dict[str, object] = {}
    answered = np.zeros(n, dtype=bool)
    pii = 0

    ids = trimmed(df[id_col])
    out["respondent_id"] = ids
    out["source_row"] = df["source_row"].to_numpy(dtype="int64")

    andet_text: dict[str, pd.Series] = {}

    for q in instrument.questions:
        substantive = q.id in {s.id for s in instrument.substantive_questions}
        spec = plan.get(q.id)
        if q.kind == "kommune":
            s = df[spec]
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
                problems.add(bad, spec, "unknown_kommune", msgs)
            out[q.id] = take_str(resolved_codes, idx)
        elif q.kind == "text":
            if spec is None:
                out[q.id] = na_str(n)
            else:
                free_text.add(spec)
                masked, count = mask(df[spec])
                pii += count
                out[q.id] = masked
        elif layout == "msforms_xlsx" and q.kind in ("multi", "ranked"):
            if q.has_andet:
                free_text.add(spec)
            values, texts, has_answer = _forms_list(df[spec], q, instrument, spec, problems, layout)
            if q.kind == "multi":
                for i, o in enumerate(q.options):
                    out[f"{q.id}__{o.id}"] = values[:, i]
            else:
                for r in range(MAX_RANK):
                    out[f"{q.id}__{r + 1}"] = pd.Categorical.from_codes(values[:, r], categories=q.option_ids)
            if q.has_andet:
                andet_text[q.id] = texts
            if substantive:
                answered |= has_answer
        elif q.kind == "single":
            s = df[spec]
            lookup = option_lookup(q, layout, instrument)
            idx = map_unique(s, lambda v: lookup.get(value_key(v), INVALID_CODE))
            bad = np.flatnonzero(idx == INVALID_CODE)
            text = na_str(n)
            if len(bad):
                if layout == "msforms_xlsx" and q.has_andet:
                    free_text.add(spec)
                    idx[bad] = q.option_ids.index("andet")
                    text = s.where(idx_mask(n, bad))
                else:
                    problems.add(bad, spec, "invalid_value", _invalid_msgs(s, bad, q, layout))
            if q.has_andet:
                andet_text[q.id] = text
            out[q.id] = pd.Categorical.from_codes(np.where(idx >= 0, idx, -1), categories=q.option_ids)
            if substantive:
                answered |= idx != NA_CODE
        elif q.kind == "multi":
            matrix = np.zeros((n, len(q.options)), dtype=np.int8, order="F")  # columns contiguous
            for i, (o, col) in enumerate(zip(q.options, spec)):
                s = df[col]
                idx = binary_codes(s)
                matrix[:, i] = idx == 1
                bad = np.flatnonzero(idx == INVALID_CODE)
                if len(bad):
                    vals = s.iloc[bad].to_numpy()
                    problems.add(
                        bad, col, "invalid_value",
                        [f"{q.id}.{o.id}: a multi-select cell must be 1, 0 or blank, not {shown(v)}" for v in vals],
                    )
                if substantive:
                    answered |= (idx == 1) | (idx == INVALID_CODE)
            for i, o in enumerate(q.options):
                out[f"{q.id}__{o.id}"] = matrix[:, i]
        elif q.kind == "ranked" and layout == "canonical_csv":
            lookup = option_lookup(q, layout, instrument)
            ranks = np.full((n, MAX_RANK), NA_CODE, dtype=np.int16, order="F")
            for r, col in enumerate(spec):
                s = df[col]
                idx = map_unique(s, lambda v: lookup.get(value_key(v), INVALID_CODE))
                bad = np.flatnonzero(idx == INVALID_CODE)
                if len(bad):
                    problems.add(bad, col, "invalid_value", _invalid_msgs(s, bad, q, layout))
                ranks[:, r] = idx
                if substantive:
                    answered |= idx != NA_CODE
            _rank_rules(ranks, q, spec[0], problems)
            for r in range(MAX_RANK):
                out[f"{q.id}__{r + 1}"] = pd.Categorical.from_codes(np.where(ranks[:, r] >= 0, ranks[:, r], -1),
                                                                    categories=q.option_ids)
        elif q.kind == "ranked":
            # SurveyXact: one column per option holding its rank 1-3.
            rank_of = np.zeros((n, len(q.options)), dtype=np.int8)
            for i, (o, col) in enumerate(zip(q.options, spec)):
                s = df[col]
                idx = map_unique(s, _rank_value)
                bad = np.flatnonzero(idx == INVALID_CODE)
                if len(bad):
                    vals = s.iloc[bad].to_numpy()
                    problems.add(bad, col, "invalid_rank",
                                 [f"{q.id}.{o.id}: rank {shown(v)} is not 1, 2, 3 or blank" for v in vals])
                rank_of[:, i] = np.where(idx > 0, idx, 0)
                if substantive:
                    answered |= idx != NA_CODE
            ranks = np.full((n, MAX_RANK), NA_CODE, dtype=np.int16, order="F")
            for r in range(1, MAX_RANK + 1):
                hit = rank_of == r
                count = hit.sum(axis=1)
                ranks[:, r - 1] = np.where(count > 0, hit.argmax(axis=1), NA_CODE)
                twice = np.flatnonzero(count > 1)
                problems.add(twice, spec[0], "invalid_rank",
                             [f"{q.id}: rank {r} is given to {c} options" for c in count[twice]])
            _rank_rules(ranks, q, spec[0], problems, check_repeats=False)
            for r in range(MAX_RANK):
                out[f"{q.id}__{r + 1}"] = pd.Categorical.from_codes(np.where(ranks[:, r] >= 0, ranks[:, r], -1),
                                                                    categories=q.option_ids)

    for q in andet_questions(instrument):
        given = andet_given.get(q.id)
        text = andet_text.get(q.id)
        if given is not None:
            free_text.add(given)
            extra = df[given].astype("str")
            text = extra if text is None else text.fillna(extra)
        if text is None:
            text = na_str(n)
        masked, count = mask(text.reset_index(drop=True))
        pii += count
        out[andet_column(q.id)] = masked

    frame = pd.DataFrame({c: _as_array(out[c]) for c in canonical_column_order(instrument)})
    frame["respondent_id"] = frame["respondent_id"].astype("str")
    frame["kommune"] = frame["kommune"].astype("str")
    _warnings(frame, instrument, plan, layout, warnings)
    return Mapped(
        frame=frame,
        answered=answered,
        problems=problems.frame(),
        warnings=warnings.frame(),
        source_columns=list(dict.fromkeys(cols.used)),
        free_text_columns=free_text,
        id_column=id_col,
        pii_masked=pii,
    )


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


def idx_mask(n: int, positions: np.ndarray) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[positions] = True
    return mask


def _binary(v: str) -> int:
    key = value_key(v)
    return 1 if key == "1" else 0 if key == "0" else INVALID_CODE


def _rank_value(v: str) -> int:
    key = value_key(v)
    return int(key) if key in ("1", "2", "3") else INVALID_CODE


def _invalid_msgs(s: pd.Series, bad: np.ndarray, q: Question, layout: str) -> list[str]:
    what = "label" if layout == "msforms_xlsx" else "code, id or label"
    return [f"{shown(v)} is not a {what} of {q.id}" for v in s.iloc[bad].to_numpy()]


def _rank_rules(ranks: np.ndarray, q: Question, column: str, problems: Problems, check_repeats: bool = True) -> None:
    """A rank used twice (the same option at two ranks), or rank 2/3 without rank 1."""
    if check_repeats:
        ranked_twice = np.zeros(len(ranks), dtype=bool)
        for a in range(MAX_RANK):
            for b in range(a + 1, MAX_RANK):
                ranked_twice |= (ranks[:, a] >= 0) & (ranks[:, a] == ranks[:, b])
        problems.add(np.flatnonzero(ranked_twice), column, "invalid_rank", f"{q.id}: the same option is ranked twice")
    no_first = (ranks[:, 0] == NA_CODE) & ((ranks[:, 1:] >= 0).any(axis=1))
    problems.add(np.flatnonzero(no_first), column, "invalid_rank", f"{q.id}: rank 2 or 3 is given without a rank 1")


def _forms_list(
    s: pd.Series, q: Question, instrument: YearInstrument, column: str, problems: Problems, layout: str
) -> tuple[np.ndarray, pd.Series, np.ndarray]:
    """A Forms cell of `;`-joined labels: multi-select matrix or the first three ranks, plus "Andet" texts."""
    n = len(s)
    tokens = s.reset_index(drop=True).str.split(";").explode()
    tokens = tokens.str.strip()
    tokens = tokens[tokens.notna() & (tokens != "")]
    has_answer = np.zeros(n, dtype=bool)
    has_answer[tokens.index.to_numpy(dtype=np.int64)] = True
    if q.kind == "ranked":
        order = tokens.groupby(level=0).cumcount().to_numpy()
        tokens = tokens[order < MAX_RANK]
        order = order[order < MAX_RANK]
    lookup = option_lookup(q, layout, instrument)
    idx = map_unique(tokens, lambda v: lookup.get(value_key(v), INVALID_CODE))
    rows = tokens.index.to_numpy(dtype=np.int64)
    unknown = idx == INVALID_CODE
    texts = na_str(n)
    if unknown.any():
        if q.has_andet:
            idx[unknown] = q.option_ids.index("andet")
            joined = tokens[unknown].groupby(level=0).agg("; ".join)
            texts = joined.reindex(range(n)).astype("str")
        else:
            bad_rows = rows[unknown]
            problems.add(bad_rows, column, "invalid_value",
                         [f"{shown(v)} is not a label of {q.id}" for v in tokens[unknown].to_numpy()])
    if q.kind == "multi":
        matrix = np.zeros((n, len(q.options)), dtype=np.int8, order="F")  # columns contiguous
        ok = idx >= 0
        matrix[rows[ok], idx[ok]] = 1
        return matrix, texts, has_answer
    ranks = np.full((n, MAX_RANK), NA_CODE, dtype=np.int16, order="F")
    ok = idx >= 0
    ranks[rows[ok], order[ok]] = idx[ok]
    _rank_rules(ranks, q, column, problems)
    return ranks, texts, has_answer


def _warnings(frame: pd.DataFrame, instrument: YearInstrument, plan: dict, layout: str, warnings: Problems) -> None:
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
